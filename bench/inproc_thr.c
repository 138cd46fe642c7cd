/* SPDX-License-Identifier: MIT */
/*
 * bench/inproc_thr.c: PUSH->PULL throughput over inproc, spry against
 * NNG (1.5, push0/pull0) and ZeroMQ (ZMQ_PUSH/ZMQ_PULL), all linked in
 * and measured here; named after NNG's perf tool inproc_thr. Figures, in
 * messages per second (unit msg/s: higher is better, and ratio=
 * spry/zmq is a rate ratio, so above 1 means spry is faster):
 *
 *   inproc_thr_64  64-byte messages
 *   inproc_thr_1k  1024-byte messages
 *
 * A producer thread sends n messages, each newly allocated (spry_msg_alloc
 * + spry_send; nng_msg_alloc + nng_sendmsg; zmq_send from a buffer), as
 * fast as the socket takes them; this thread is the consumer and receives
 * them (spry_recv + spry_msg_free; nng_recvmsg + nng_msg_free; zmq_recv
 * into a buffer). A run lasts from the producer's first send to the
 * consumer's last receive (NNG sends fewer messages per run, see
 * THR_NNG_SHARE). Buffers are comparable: ZeroMQ keeps its default
 * high-water marks of 1000 messages per side, spry gets 1024-message send
 * and receive mailboxes (THR_SPRY_BUF; its default of 16 is the seed's
 * async buffer, tuned for latency, not bulk), NNG keeps its defaults. Every
 * message carries its sequence number, checked on receipt with its length; a
 * lost, reordered or wrong message fails the program. The goal: spry at least
 * twice ZeroMQ's rate.
 *
 * Each implementation's sockets are opened and connected once and serve
 * the warm-up and every timed run.
 */
#include "bench.h"
#include "inproc.h"

#include <pthread.h>

#include <nng/protocol/pipeline0/pull.h>
#include <nng/protocol/pipeline0/push.h>

#define THR_MAX_SIZE 1024 /* the largest message size measured */
#define THR_SPRY_BUF 1024 /* spry's mailbox depths, as ZeroMQ's HWM */

/*
 * THR_NNG_SHARE: NNG's blocking calls cost tens of microseconds each
 * (every one is an aio handed to NNG's task threads), so NNG sends this
 * many times fewer messages per run than spry and ZeroMQ: its runs still
 * last long enough for a steady rate, and the program does not take
 * minutes. A rate does not depend on the count once a run is that long.
 */
#define THR_NNG_SHARE 50

/* thr_put writes the sequence number at the front of a message body. */
static inline void
thr_put(void *body, uint64_t seq)
{
	memcpy(body, &seq, sizeof seq);
}

/* thr_ok tells whether a message of len bytes is message seq. */
static inline bool
thr_ok(const void *body, size_t len, size_t size, uint64_t seq)
{
	uint64_t got;

	if (len != size)
		return false;
	memcpy(&got, body, sizeof got);
	return got == seq;
}

/* thr_run: one implementation's sockets and one run's figures. */
struct thr_run {
	const char *who;  /* "spry", "nng", "zmq" */
	size_t      size; /* bytes per message */
	uint64_t    n;    /* messages per run */
	uint64_t    t0;   /* producer: before the first send */
	union {
		struct {
			spry_socket *push, *pull;
		} spry;
		struct {
			nng_socket push, pull;
		} nng;
		struct {
			void *ctx, *push, *pull;
		} zmq;
	} u;
};

/* thr_spawn starts a producer thread. */
static void
thr_spawn(pthread_t *t, void *(*fn)(void *), struct thr_run *r)
{
	int rv = pthread_create(t, NULL, fn, r);

	if (rv != 0)
		bench_fail("pthread_create: %s", strerror(rv));
}

/* thr_verdict sets vals[0] to messages per second and judges the run. */
static int
thr_verdict(const struct thr_run *r, uint64_t bad, uint64_t t1, double *vals)
{
	vals[0] = (double)r->n * 1e9 / (double)(t1 - r->t0);
	if (bad != 0) {
		fprintf(stderr,
		    "inproc_thr %s: %llu of %llu %zu-byte messages wrong\n",
		    r->who, (unsigned long long)bad, (unsigned long long)r->n,
		    r->size);
		return 1;
	}
	return 0;
}

/* ---- ZeroMQ ---------------------------------------------------------------
 */

static void *
zthr_producer(void *arg)
{
	struct thr_run *r                 = arg;
	char            buf[THR_MAX_SIZE] = {0};

	r->t0 = bench_now();
	for (uint64_t i = 1; i <= r->n; i++) {
		thr_put(buf, i);
		inproc_zmq_ok(
		    zmq_send(r->u.zmq.push, buf, r->size, 0), "zmq_send");
	}
	return NULL;
}

static int
zthr_run(void *arg, double *vals)
{
	struct thr_run *r = arg;
	char            buf[THR_MAX_SIZE];
	uint64_t        bad = 0, t1;
	pthread_t       t;

	thr_spawn(&t, zthr_producer, r);
	for (uint64_t i = 1; i <= r->n; i++) {
		int len = zmq_recv(r->u.zmq.pull, buf, sizeof buf, 0);

		inproc_zmq_ok(len, "zmq_recv");
		if (!thr_ok(buf, (size_t)len, r->size, i))
			bad++;
	}
	t1 = bench_now();
	pthread_join(t, NULL);
	return thr_verdict(r, bad, t1, vals);
}

static void
zthr_open(struct thr_run *r, const char *url)
{
	int linger = 0;

	if ((r->u.zmq.ctx = zmq_ctx_new()) == NULL)
		bench_fail("zmq_ctx_new: %s", zmq_strerror(zmq_errno()));
	r->u.zmq.push = zmq_socket(r->u.zmq.ctx, ZMQ_PUSH);
	r->u.zmq.pull = zmq_socket(r->u.zmq.ctx, ZMQ_PULL);
	if (r->u.zmq.push == NULL || r->u.zmq.pull == NULL)
		bench_fail("zmq_socket: %s", zmq_strerror(zmq_errno()));
	inproc_zmq_ok(
	    zmq_setsockopt(r->u.zmq.push, ZMQ_LINGER, &linger, sizeof linger),
	    "zmq_setsockopt");
	inproc_zmq_ok(
	    zmq_setsockopt(r->u.zmq.pull, ZMQ_LINGER, &linger, sizeof linger),
	    "zmq_setsockopt");
	inproc_zmq_ok(zmq_bind(r->u.zmq.pull, url), "zmq_bind");
	inproc_zmq_ok(zmq_connect(r->u.zmq.push, url), "zmq_connect");
}

static void
zthr_close(struct thr_run *r)
{
	zmq_close(r->u.zmq.push);
	zmq_close(r->u.zmq.pull);
	zmq_ctx_term(r->u.zmq.ctx);
}

/* ---- NNG ------------------------------------------------------------------
 */

static void *
nthr_producer(void *arg)
{
	struct thr_run *r = arg;

	r->t0 = bench_now();
	for (uint64_t i = 1; i <= r->n; i++) {
		nng_msg *m;

		inproc_nng_ok(nng_msg_alloc(&m, r->size), "nng_msg_alloc");
		thr_put(nng_msg_body(m), i);
		inproc_nng_ok(nng_sendmsg(r->u.nng.push, m, 0), "nng_sendmsg");
	}
	return NULL;
}

static int
nthr_run(void *arg, double *vals)
{
	struct thr_run *r   = arg;
	uint64_t        bad = 0, t1;
	pthread_t       t;

	thr_spawn(&t, nthr_producer, r);
	for (uint64_t i = 1; i <= r->n; i++) {
		nng_msg *m;

		inproc_nng_ok(
		    nng_recvmsg(r->u.nng.pull, &m, 0), "nng_recvmsg");
		if (!thr_ok(nng_msg_body(m), nng_msg_len(m), r->size, i))
			bad++;
		nng_msg_free(m);
	}
	t1 = bench_now();
	pthread_join(t, NULL);
	return thr_verdict(r, bad, t1, vals);
}

static void
nthr_open(struct thr_run *r, const char *url)
{
	inproc_nng_ok(nng_push0_open(&r->u.nng.push), "nng_push0_open");
	inproc_nng_ok(nng_pull0_open(&r->u.nng.pull), "nng_pull0_open");
	inproc_nng_ok(nng_listen(r->u.nng.pull, url, NULL, 0), "nng_listen");
	inproc_nng_ok(nng_dial(r->u.nng.push, url, NULL, 0), "nng_dial");
}

static void
nthr_close(struct thr_run *r)
{
	nng_close(r->u.nng.push);
	nng_close(r->u.nng.pull);
}

/* ---- spry -----------------------------------------------------------------
 */

static void *
sthr_producer(void *arg)
{
	struct thr_run *r = arg;

	r->t0 = bench_now();
	for (uint64_t i = 1; i <= r->n; i++) {
		spry_msg *m;

		inproc_spry_ok(spry_msg_alloc(&m, r->size), "spry_msg_alloc");
		thr_put(spry_msg_body(m), i);
		inproc_spry_ok(spry_send(r->u.spry.push, m, 0), "spry_send");
	}
	return NULL;
}

static int
sthr_run(void *arg, double *vals)
{
	struct thr_run *r   = arg;
	uint64_t        bad = 0, t1;
	pthread_t       t;

	thr_spawn(&t, sthr_producer, r);
	for (uint64_t i = 1; i <= r->n; i++) {
		spry_msg *m;

		inproc_spry_ok(spry_recv(r->u.spry.pull, &m, 0), "spry_recv");
		if (!thr_ok(spry_msg_body(m), spry_msg_len(m), r->size, i))
			bad++;
		spry_msg_free(m);
	}
	t1 = bench_now();
	pthread_join(t, NULL);
	return thr_verdict(r, bad, t1, vals);
}

static void
sthr_open(struct thr_run *r, const char *url)
{
	spry_socket_opts so = SPRY_SOCKET_OPTS_INIT;

	so.sendbuf = so.recvbuf = THR_SPRY_BUF;
	inproc_spry_ok(spry_socket_open(&r->u.spry.pull, SPRY_PULL0, &so),
	    "spry_socket_open (pull)");
	inproc_spry_ok(spry_socket_open(&r->u.spry.push, SPRY_PUSH0, &so),
	    "spry_socket_open (push)");
	inproc_spry_ok(spry_listen(r->u.spry.pull, url, NULL), "spry_listen");
	inproc_spry_ok(spry_dial(r->u.spry.push, url, NULL, 0), "spry_dial");
}

static void
sthr_close(struct thr_run *r)
{
	spry_close(r->u.spry.push);
	spry_close(r->u.spry.pull);
}

/* thr_figure: one message size. */
struct thr_figure {
	const char *name;  /* figure name */
	const char *url;   /* inproc address, one per figure */
	size_t      size;  /* bytes per message */
	uint64_t    n;     /* messages per run */
	uint64_t    quick; /* the same with --quick */
};

static const struct thr_figure thr_figs[] = {
    {"inproc_thr_64", "inproc://inproc_thr_64", 64, 500000, 20000},
    {"inproc_thr_1k", "inproc://inproc_thr_1k", 1024, 200000, 10000},
};

#define THR_NFIGS (sizeof thr_figs / sizeof thr_figs[0])

/* thr_prepare readies r for figure f, implementation who. */
static void
thr_prepare(struct thr_run *r, size_t f, const char *who)
{
	memset(r, 0, sizeof *r);
	r->who  = who;
	r->size = thr_figs[f].size;
	r->n    = bench_size(thr_figs[f].n, thr_figs[f].quick);
	if (strcmp(who, "nng") == 0)
		r->n /= THR_NNG_SHARE;
}

int
main(int argc, char **argv)
{
	double         spry[THR_NFIGS], zmq[THR_NFIGS], nng[THR_NFIGS];
	struct thr_run r;

	bench_init(argc, argv);
	/* The peers first, before spry's runtime has threads. */
	for (size_t f = 0; f < THR_NFIGS; f++) {
		thr_prepare(&r, f, "zmq");
		zthr_open(&r, thr_figs[f].url);
		bench_measure(zthr_run, &r, &zmq[f], 1);
		zthr_close(&r);

		thr_prepare(&r, f, "nng");
		nthr_open(&r, thr_figs[f].url);
		bench_measure(nthr_run, &r, &nng[f], 1);
		nthr_close(&r);
	}
	inproc_spry_ok(spry_runtime_start(NULL), "spry_runtime_start");
	for (size_t f = 0; f < THR_NFIGS; f++) {
		thr_prepare(&r, f, "spry");
		sthr_open(&r, thr_figs[f].url);
		bench_measure(sthr_run, &r, &spry[f], 1);
		sthr_close(&r);
	}
	inproc_spry_ok(spry_runtime_stop(), "spry_runtime_stop");
	for (size_t f = 0; f < THR_NFIGS; f++) {
		inproc_report(thr_figs[f].name, "msg/s", spry[f], zmq[f],
		    nng[f], (inproc_goal){.min_ratio = 2});
	}
	return 0;
}
