/* SPDX-License-Identifier: MIT */
/*
 * bench/mailbox.c: single-thread channel costs, against bench/go/mailbox.go.
 *
 *   mailbox_sendrecv  trysend + tryrecv on one capacity-16 mailbox, per
 *                     pair (Go: send then receive on a chan of cap 16).
 *   select2_ready     spry_select over two RECV cases, one of them made
 *                     ready (at random) just before (Go: a 2-case select).
 *   fanin256          one message from one of 256 sources (chosen at
 *                     random), delivered: the sources send, tagged, into
 *                     the consumer's one mailbox, the spry way to wait on
 *                     many (Go: reflect.Select over 256 channels).
 *   select256         the same through spry_select over 256 mailboxes,
 *                     for comparison (Go: the same reflect.Select).
 *
 * Every figure is ns per operation, send included; every received item
 * is checked, and a wrong one fails the run. Both sides draw sources from
 * the same xorshift generator.
 */
#include "bench.h"

#include <spry/spry.h>

#define MBX_SOURCES 256 /* fan-in width */
#define MBX_CAPACITY 16 /* every mailbox: the default capacity */

/* mbx_bench: one figure's mailboxes, cases and size. */
struct mbx_bench {
	const char      *name;               /* figure name */
	uint64_t         iters;              /* operations per run */
	size_t           n;                  /* mailboxes used */
	spry_mailbox    *mb[MBX_SOURCES];    /* the mailboxes */
	spry_select_case cases[MBX_SOURCES]; /* one RECV case each */
};

/* mbx_figure: a row of the figure table. */
struct mbx_figure {
	const char *name;        /* figure name */
	bench_fn    fn;          /* one run */
	size_t      n;           /* mailboxes */
	uint64_t    iters;       /* operations per run */
	uint64_t    quick_iters; /* the same with --quick */
	bench_goal  goal;        /* what to reach */
};

/* mbx_rand: xorshift64, the generator bench/go/mailbox.go uses too. */
static inline uint64_t
mbx_rand(uint64_t *x)
{
	*x ^= *x << 13;
	*x ^= *x >> 7;
	*x ^= *x << 17;
	return *x >> 24;
}

static int
mbx_verdict(const struct mbx_bench *b, uint64_t bad, uint64_t t0, double *vals)
{
	vals[0] = (double)(bench_now() - t0) / (double)b->iters;
	if (bad != 0) {
		fprintf(stderr, "%s: %llu of %llu operations went wrong\n",
		    b->name, (unsigned long long)bad,
		    (unsigned long long)b->iters);
		return 1;
	}
	return 0;
}

static int
mbx_sendrecv(void *arg, double *vals)
{
	struct mbx_bench *b   = arg;
	spry_mailbox     *mb  = b->mb[0];
	uint64_t          bad = 0;
	uint64_t          t0  = bench_now();

	for (uint64_t i = 1; i <= b->iters; i++) {
		void *item = NULL;

		if (spry_mailbox_trysend(mb, (void *)(uintptr_t)i) != 0 ||
		    spry_mailbox_tryrecv(mb, &item) != 0 ||
		    (uintptr_t)item != i)
			bad++;
	}
	return mbx_verdict(b, bad, t0, vals);
}

/*
 * mbx_fanin: a source tags its item with its index (the low bits) and a
 * sequence number; the consumer receives from its one mailbox and checks
 * both.
 */
static int
mbx_fanin(void *arg, double *vals)
{
	struct mbx_bench *b   = arg;
	spry_mailbox     *mb  = b->mb[0];
	uint64_t          x   = 88172645463325252u;
	uint64_t          bad = 0;
	uint64_t          t0  = bench_now();

	for (uint64_t i = 1; i <= b->iters; i++) {
		uintptr_t src  = (uintptr_t)(mbx_rand(&x) % MBX_SOURCES);
		uintptr_t tag  = (uintptr_t)i * MBX_SOURCES + src;
		void     *item = NULL;

		if (spry_mailbox_trysend(mb, (void *)tag) != 0 ||
		    spry_mailbox_recv(NULL, mb, &item) != 0 ||
		    (uintptr_t)item != tag)
			bad++;
	}
	return mbx_verdict(b, bad, t0, vals);
}

/* mbx_select: make one of n mailboxes ready, spry_select over all n. */
static int
mbx_select(void *arg, double *vals)
{
	struct mbx_bench *b   = arg;
	uint64_t          x   = 88172645463325252u;
	uint64_t          bad = 0;
	uint64_t          t0  = bench_now();

	for (uint64_t i = 1; i <= b->iters; i++) {
		size_t src    = (size_t)(mbx_rand(&x) % b->n);
		size_t chosen = b->n;

		if (spry_mailbox_trysend(b->mb[src], (void *)(uintptr_t)i) !=
		        0 ||
		    spry_select(NULL, b->cases, b->n, &chosen) != 0 ||
		    chosen != src || b->cases[src].err != 0 ||
		    (uintptr_t)b->cases[src].item != i)
			bad++;
	}
	return mbx_verdict(b, bad, t0, vals);
}

static void
mbx_open(struct mbx_bench *b, const struct mbx_figure *f)
{
	memset(b, 0, sizeof *b);
	b->name  = f->name;
	b->iters = bench_size(f->iters, f->quick_iters);
	b->n     = f->n;
	for (size_t i = 0; i < b->n; i++) {
		int rv = spry_mailbox_open(&b->mb[i], MBX_CAPACITY);

		if (rv != 0)
			bench_fail("spry_mailbox_open: %s", spry_strerror(rv));
		b->cases[i].mb  = b->mb[i];
		b->cases[i].dir = SPRY_SELECT_RECV;
	}
}

static void
mbx_close(struct mbx_bench *b)
{
	for (size_t i = 0; i < b->n; i++) {
		if (spry_mailbox_len(b->mb[i]) != 0)
			bench_fail("%s: items left behind", b->name);
		spry_mailbox_close(b->mb[i]);
		spry_mailbox_release(b->mb[i]);
	}
}

int
main(int argc, char **argv)
{
	static const struct mbx_figure figures[] = {
	    {"mailbox_sendrecv", mbx_sendrecv, 1, 10000000, 1000000, {0.4, 0}},
	    {"select2_ready", mbx_select, 2, 10000000, 1000000, {0.5, 0}},
	    {"fanin256", mbx_fanin, 1, 10000000, 1000000, {1.0 / 30, 0}},
	    {"select256", mbx_select, MBX_SOURCES, 200000, 20000, {0, 0}},
	};
	static struct mbx_bench b;

	bench_init(argc, argv);
	for (size_t i = 0; i < sizeof figures / sizeof figures[0]; i++) {
		const struct mbx_figure *f = &figures[i];
		double                   ns;

		mbx_open(&b, f);
		bench_measure(f->fn, &b, &ns, 1);
		mbx_close(&b);
		bench_report(f->name, "ns", ns, f->goal);
	}
	return 0;
}
