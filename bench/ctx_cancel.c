/* SPDX-License-Identifier: MIT */
/*
 * bench/ctx_cancel.c: ctx_cancel, ns per spry_ctx_with_cancel(parent) +
 * spry_ctx_cancel + spry_ctx_release under a parent that is itself
 * cancellable (so the child must link into it and unlink), against
 * bench/go/ctx_cancel.go (context.WithCancel(parent) + cancel()). The last
 * child of each run is checked to have ended canceled and the parent to
 * be still live.
 */
#include "bench.h"

#include <spry/spry.h>

/* cc_bench: the parent and the size of a run. */
struct cc_bench {
	spry_ctx *parent; /* a with-cancel ctx, never canceled here */
	uint64_t  iters;  /* children per run */
};

static int
cc_run(void *arg, double *vals)
{
	struct cc_bench *b         = arg;
	int              child_err = 0;
	uint64_t         t0        = bench_now();

	for (uint64_t i = 0; i < b->iters; i++) {
		spry_ctx *c;
		int       rv = spry_ctx_with_cancel(&c, b->parent);

		if (rv != 0)
			bench_fail(
			    "spry_ctx_with_cancel: %s", spry_strerror(rv));
		spry_ctx_cancel(c);
		if (i + 1 == b->iters)
			child_err = spry_ctx_err(c);
		spry_ctx_release(c);
	}
	vals[0] = (double)(bench_now() - t0) / (double)b->iters;
	if (child_err != SPRY_ECANCELED || spry_ctx_err(b->parent) != 0) {
		fprintf(stderr, "ctx_cancel: child err %s, parent err %s\n",
		    spry_strerror(child_err),
		    spry_strerror(spry_ctx_err(b->parent)));
		return 1;
	}
	return 0;
}

int
main(int argc, char **argv)
{
	struct cc_bench b;
	double          ns;
	int             rv;

	bench_init(argc, argv);
	b.iters = bench_size(2000000, 200000);
	if ((rv = spry_ctx_with_cancel(&b.parent, NULL)) != 0)
		bench_fail("spry_ctx_with_cancel: %s", spry_strerror(rv));
	bench_measure(cc_run, &b, &ns, 1);
	spry_ctx_cancel(b.parent);
	spry_ctx_release(b.parent);
	bench_report("ctx_cancel", "ns", ns, (bench_goal){0.5, 0});
	return 0;
}
