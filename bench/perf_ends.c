/* SPDX-License-Identifier: MIT */
/*
 * bench/perf_ends.c: local_lat, remote_lat, local_thr and remote_thr for
 * spry, ZeroMQ, NNG and nanomsg (see perf_ends.h). Each library gets the
 * same loops, written with its own zero-copy message calls where it has
 * them: spry_msg, nng_msg, zmq_msg_t, nanomsg's NN_MSG chunks. A replier
 * sends the request it received back; a requester reuses the reply as
 * its next request where the library allows it (ZeroMQ's send empties
 * its message, so ZeroMQ allocates one per request); remote_thr
 * allocates every message.
 */
#include "perf_ends.h"

#include "bench.h"

#include <dlfcn.h>
#include <nanomsg/nn.h>
#include <nanomsg/pipeline.h>
#include <nanomsg/reqrep.h>
#include <nng/nng.h>
#include <nng/protocol/pipeline0/pull.h>
#include <nng/protocol/pipeline0/push.h>
#include <nng/protocol/reqrep0/rep.h>
#include <nng/protocol/reqrep0/req.h>
#include <spry/spry.h>
#include <spry/socket.h>
#include <stdatomic.h>
#include <zmq.h>

/* PERF_GONE_WAIT: how long a last sender waits for its peer to close. */
#define PERF_GONE_WAIT 10000000000ull /* ns */

/* PERF_ZMQ_LINGER: ZeroMQ's bound on flushing at close, in ms. */
#define PERF_ZMQ_LINGER 10000

/* ---- shared ------------------------------------------------------------- */

/* perf_put writes seq at the front of a body of size bytes. */
static void
perf_put(void *body, size_t size, uint64_t seq)
{
	memcpy(body, &seq, size < sizeof seq ? size : sizeof seq);
}

/* perf_ok tells whether a body of len bytes is message seq. */
static bool
perf_ok(const void *body, size_t len, size_t size, uint64_t seq)
{
	if (len != size)
		return false;
	return memcmp(body, &seq, size < sizeof seq ? size : sizeof seq) == 0;
}

static void
perf_ready(const perf_args *a)
{
	if (a->ready_cb != NULL)
		a->ready_cb(a->ready_arg);
}

/* perf_done: the last sender waits for its peer end, when it can. */
static void
perf_done(const perf_args *a)
{
	if (a->done_cb != NULL)
		a->done_cb(a->done_arg);
}

/* perf_verdict judges an end: 0, or 1 after saying what was wrong. */
static int
perf_verdict(const char *lib, int role, uint64_t bad, const perf_args *a)
{
	if (bad == 0)
		return 0;
	fprintf(stderr, "%s %s: %llu of %llu %zu-byte messages wrong\n", lib,
	    perf_role_name(role), (unsigned long long)bad,
	    (unsigned long long)a->count, a->size);
	return 1;
}

/* perf_lat_value: ns per round trip, the first one not timed. */
static double
perf_lat_value(const perf_args *a, uint64_t t0, uint64_t t1)
{
	return (double)(t1 - t0) / (double)(a->count - 1);
}

/* perf_thr_value: messages per second, the first one not timed. */
static double
perf_thr_value(const perf_args *a, uint64_t t0, uint64_t t1)
{
	return (double)(a->count - 1) * 1e9 / (double)(t1 - t0);
}

/* perf_nap sleeps a millisecond, while a last sender waits. */
static void
perf_nap(void)
{
	struct timespec ms = {0, 1000000};

	nanosleep(&ms, NULL);
}

/*
 * perf_wait_gone waits until pipes(arg) is 0: the peer has closed.
 * Gives up after PERF_GONE_WAIT (saying so; the figure still stands).
 */
static void
perf_wait_gone(const char *lib, uint64_t (*pipes)(void *), void *arg)
{
	uint64_t end = bench_now() + PERF_GONE_WAIT;

	while (pipes(arg) != 0) {
		if (bench_now() > end) {
			fprintf(stderr, "%s: the peer did not close\n", lib);
			return;
		}
		perf_nap();
	}
}

/* ---- spry --------------------------------------------------------------- */

static void
sp_ok(int rv, const char *what)
{
	if (rv != 0)
		bench_fail("spry: %s: %s", what, spry_strerror(rv));
}

/* sp_open opens a socket with a's buffers and no size limit. */
static spry_socket *
sp_open(int proto, const perf_args *a)
{
	spry_socket_opts o = SPRY_SOCKET_OPTS_INIT;
	spry_socket     *s;

	if (a->buf > 0)
		o.sendbuf = o.recvbuf = a->buf > 8192 ? 8192 : (size_t)a->buf;
	sp_ok(spry_socket_open(&s, proto, &o), "spry_socket_open");
	sp_ok(spry_setopt(s, SPRY_OPT_RECVMAXSZ, SPRY_SIZE(0)),
	    "spry_setopt(RECVMAXSZ)");
	return s;
}

static spry_socket *
sp_local(int proto, const perf_args *a)
{
	spry_socket *s = sp_open(proto, a);

	sp_ok(spry_listen(s, a->url, NULL), "spry_listen");
	perf_ready(a);
	return s;
}

static spry_socket *
sp_remote(int proto, const perf_args *a)
{
	spry_socket *s = sp_open(proto, a);

	sp_ok(spry_dial(s, a->url, NULL, 0), "spry_dial");
	return s;
}

static uint64_t
sp_pipes(void *arg)
{
	spry_socket_stats st;

	spry_socket_stats_get(arg, &st);
	return st.pipes;
}

/* sp_close closes s once its peer has, when it sent last. */
static void
sp_close(spry_socket *s, const perf_args *a, bool sent_last)
{
	if (sent_last) {
		perf_done(a);
		perf_wait_gone("spry", sp_pipes, s);
	}
	spry_close(s);
}

static int
sp_local_lat(const perf_args *a, double *value)
{
	spry_socket *s = sp_local(SPRY_REP0, a);

	(void)value;
	for (uint64_t i = 0; i < a->count; i++) {
		spry_msg *m;

		sp_ok(spry_recv(s, &m, 0), "spry_recv");
		sp_ok(spry_send(s, m, 0), "spry_send");
	}
	sp_close(s, a, true);
	return 0;
}

static int
sp_remote_lat(const perf_args *a, double *value)
{
	spry_socket *s   = sp_remote(SPRY_REQ0, a);
	uint64_t     bad = 0, t0 = 0;
	spry_msg    *m;

	sp_ok(spry_msg_alloc(&m, a->size), "spry_msg_alloc");
	for (uint64_t i = 1; i <= a->count; i++) {
		/* The reply is the next request: drop its REQ header. */
		spry_msg_header_clear(m);
		perf_put(spry_msg_body(m), a->size, i);
		sp_ok(spry_send(s, m, 0), "spry_send");
		sp_ok(spry_recv(s, &m, 0), "spry_recv");
		if (!perf_ok(spry_msg_body(m), spry_msg_len(m), a->size, i))
			bad++;
		if (i == 1)
			t0 = bench_now();
	}
	*value = perf_lat_value(a, t0, bench_now());
	spry_msg_free(m);
	sp_close(s, a, false);
	return perf_verdict("spry", PERF_REMOTE_LAT, bad, a);
}

static int
sp_local_thr(const perf_args *a, double *value)
{
	spry_socket *s   = sp_local(SPRY_PULL0, a);
	uint64_t     bad = 0, t0 = 0;

	for (uint64_t i = 1; i <= a->count; i++) {
		spry_msg *m;

		sp_ok(spry_recv(s, &m, 0), "spry_recv");
		if (i == 1)
			t0 = bench_now();
		if (!perf_ok(spry_msg_body(m), spry_msg_len(m), a->size, i))
			bad++;
		spry_msg_free(m);
	}
	*value = perf_thr_value(a, t0, bench_now());
	sp_close(s, a, false);
	return perf_verdict("spry", PERF_LOCAL_THR, bad, a);
}

static int
sp_remote_thr(const perf_args *a, double *value)
{
	spry_socket *s = sp_remote(SPRY_PUSH0, a);

	(void)value;
	for (uint64_t i = 1; i <= a->count; i++) {
		spry_msg *m;

		sp_ok(spry_msg_alloc(&m, a->size), "spry_msg_alloc");
		perf_put(spry_msg_body(m), a->size, i);
		sp_ok(spry_send(s, m, 0), "spry_send");
	}
	sp_close(s, a, true);
	return 0;
}

/* ---- NNG ---------------------------------------------------------------- */

/* ng_sock: an NNG socket and its pipe count, kept by a pipe callback. */
typedef struct ng_sock {
	nng_socket  s;     /* the socket */
	atomic_uint pipes; /* pipes open now (NNG's pipe callbacks) */
} ng_sock;

static void
ng_ok(int rv, const char *what)
{
	if (rv != 0)
		bench_fail("nng: %s: %s", what, nng_strerror(rv));
}

/* ng_opt sets an int option, leaving it be where the protocol lacks it. */
static void
ng_opt(nng_socket s, const char *opt, int v)
{
	int rv = nng_socket_set_int(s, opt, v);

	if (rv != NNG_ENOTSUP)
		ng_ok(rv, opt);
}

static void
ng_pipe_cb(nng_pipe p, nng_pipe_ev ev, void *arg)
{
	ng_sock *n = arg;

	(void)p;
	if (ev == NNG_PIPE_EV_ADD_POST)
		atomic_fetch_add(&n->pipes, 1);
	else if (ev == NNG_PIPE_EV_REM_POST)
		atomic_fetch_sub(&n->pipes, 1);
}

static uint64_t
ng_pipes(void *arg)
{
	ng_sock *n = arg;

	return atomic_load(&n->pipes);
}

/* ng_open opens n->s with open, a's buffers and no size limit. */
static void
ng_open(ng_sock *n, int (*open)(nng_socket *), const perf_args *a)
{
	atomic_init(&n->pipes, 0);
	ng_ok(open(&n->s), "open");
	ng_ok(nng_pipe_notify(n->s, NNG_PIPE_EV_ADD_POST, ng_pipe_cb, n),
	    "nng_pipe_notify");
	ng_ok(nng_pipe_notify(n->s, NNG_PIPE_EV_REM_POST, ng_pipe_cb, n),
	    "nng_pipe_notify");
	if (a->buf > 0) {
		ng_opt(n->s, NNG_OPT_SENDBUF, a->buf > 8192 ? 8192 : a->buf);
		ng_opt(n->s, NNG_OPT_RECVBUF, a->buf > 8192 ? 8192 : a->buf);
	}
	ng_ok(nng_socket_set_size(n->s, NNG_OPT_RECVMAXSZ, 0),
	    "nng_socket_set_size(RECVMAXSZ)");
}

static void
ng_local(ng_sock *n, int (*open)(nng_socket *), const perf_args *a)
{
	ng_open(n, open, a);
	ng_ok(nng_listen(n->s, a->url, NULL, 0), "nng_listen");
	perf_ready(a);
}

static void
ng_remote(ng_sock *n, int (*open)(nng_socket *), const perf_args *a)
{
	ng_open(n, open, a);
	ng_ok(nng_dial(n->s, a->url, NULL, 0), "nng_dial");
}

static void
ng_close(ng_sock *n, const perf_args *a, bool sent_last)
{
	if (sent_last) {
		perf_done(a);
		perf_wait_gone("nng", ng_pipes, n);
	}
	nng_close(n->s);
}

static int
ng_local_lat(const perf_args *a, double *value)
{
	ng_sock n;

	(void)value;
	ng_local(&n, nng_rep0_open, a);
	for (uint64_t i = 0; i < a->count; i++) {
		nng_msg *m;

		ng_ok(nng_recvmsg(n.s, &m, 0), "nng_recvmsg");
		ng_ok(nng_sendmsg(n.s, m, 0), "nng_sendmsg");
	}
	ng_close(&n, a, true);
	return 0;
}

static int
ng_remote_lat(const perf_args *a, double *value)
{
	ng_sock  n;
	uint64_t bad = 0, t0 = 0;
	nng_msg *m;

	ng_remote(&n, nng_req0_open, a);
	ng_ok(nng_msg_alloc(&m, a->size), "nng_msg_alloc");
	for (uint64_t i = 1; i <= a->count; i++) {
		perf_put(nng_msg_body(m), a->size, i);
		ng_ok(nng_sendmsg(n.s, m, 0), "nng_sendmsg");
		ng_ok(nng_recvmsg(n.s, &m, 0), "nng_recvmsg");
		if (!perf_ok(nng_msg_body(m), nng_msg_len(m), a->size, i))
			bad++;
		if (i == 1)
			t0 = bench_now();
	}
	*value = perf_lat_value(a, t0, bench_now());
	nng_msg_free(m);
	ng_close(&n, a, false);
	return perf_verdict("nng", PERF_REMOTE_LAT, bad, a);
}

static int
ng_local_thr(const perf_args *a, double *value)
{
	ng_sock  n;
	uint64_t bad = 0, t0 = 0;

	ng_local(&n, nng_pull0_open, a);
	for (uint64_t i = 1; i <= a->count; i++) {
		nng_msg *m;

		ng_ok(nng_recvmsg(n.s, &m, 0), "nng_recvmsg");
		if (i == 1)
			t0 = bench_now();
		if (!perf_ok(nng_msg_body(m), nng_msg_len(m), a->size, i))
			bad++;
		nng_msg_free(m);
	}
	*value = perf_thr_value(a, t0, bench_now());
	ng_close(&n, a, false);
	return perf_verdict("nng", PERF_LOCAL_THR, bad, a);
}

static int
ng_remote_thr(const perf_args *a, double *value)
{
	ng_sock n;

	(void)value;
	ng_remote(&n, nng_push0_open, a);
	for (uint64_t i = 1; i <= a->count; i++) {
		nng_msg *m;

		ng_ok(nng_msg_alloc(&m, a->size), "nng_msg_alloc");
		perf_put(nng_msg_body(m), a->size, i);
		ng_ok(nng_sendmsg(n.s, m, 0), "nng_sendmsg");
	}
	ng_close(&n, a, true);
	return 0;
}

/* ---- ZeroMQ ------------------------------------------------------------- */

/* zq_sock: a ZeroMQ socket in a context of its own, as in a process. */
typedef struct zq_sock {
	void *ctx; /* the context */
	void *s;   /* the socket */
} zq_sock;

static void
zq_ok(int rv, const char *what)
{
	if (rv == -1)
		bench_fail("zmq: %s: %s", what, zmq_strerror(zmq_errno()));
}

static void
zq_opt(void *s, int opt, int v, const char *what)
{
	zq_ok(zmq_setsockopt(s, opt, &v, sizeof v), what);
}

/* zq_open opens a socket of type with a's high-water marks. */
static void
zq_open(zq_sock *z, int type, const perf_args *a)
{
	if ((z->ctx = zmq_ctx_new()) == NULL)
		bench_fail("zmq_ctx_new: %s", zmq_strerror(zmq_errno()));
	if ((z->s = zmq_socket(z->ctx, type)) == NULL)
		bench_fail("zmq_socket: %s", zmq_strerror(zmq_errno()));
	zq_opt(z->s, ZMQ_LINGER, PERF_ZMQ_LINGER, "ZMQ_LINGER");
	if (a->buf > 0) {
		zq_opt(z->s, ZMQ_SNDHWM, a->buf, "ZMQ_SNDHWM");
		zq_opt(z->s, ZMQ_RCVHWM, a->buf, "ZMQ_RCVHWM");
	}
}

static void
zq_local(zq_sock *z, int type, const perf_args *a)
{
	zq_open(z, type, a);
	zq_ok(zmq_bind(z->s, a->url), "zmq_bind");
	perf_ready(a);
}

static void
zq_remote(zq_sock *z, int type, const perf_args *a)
{
	zq_open(z, type, a);
	zq_ok(zmq_connect(z->s, a->url), "zmq_connect");
}

/* zq_close closes; the linger flushes what a last sender queued. */
static void
zq_close(zq_sock *z, const perf_args *a, bool sent_last)
{
	if (sent_last)
		perf_done(a);
	zmq_close(z->s);
	zmq_ctx_term(z->ctx);
}

static int
zq_local_lat(const perf_args *a, double *value)
{
	zq_sock z;

	(void)value;
	zq_local(&z, ZMQ_REP, a);
	for (uint64_t i = 0; i < a->count; i++) {
		zmq_msg_t m;

		zq_ok(zmq_msg_init(&m), "zmq_msg_init");
		zq_ok(zmq_msg_recv(&m, z.s, 0), "zmq_msg_recv");
		zq_ok(zmq_msg_send(&m, z.s, 0), "zmq_msg_send");
		zmq_msg_close(&m);
	}
	zq_close(&z, a, true);
	return 0;
}

/* zq_request sends request seq on z and checks its reply. */
static bool
zq_request(zq_sock *z, const perf_args *a, uint64_t seq)
{
	zmq_msg_t m;
	bool      ok;

	zq_ok(zmq_msg_init_size(&m, a->size), "zmq_msg_init_size");
	perf_put(zmq_msg_data(&m), a->size, seq);
	zq_ok(zmq_msg_send(&m, z->s, 0), "zmq_msg_send");
	zq_ok(zmq_msg_init(&m), "zmq_msg_init");
	zq_ok(zmq_msg_recv(&m, z->s, 0), "zmq_msg_recv");
	ok = perf_ok(zmq_msg_data(&m), zmq_msg_size(&m), a->size, seq);
	zmq_msg_close(&m);
	return ok;
}

static int
zq_remote_lat(const perf_args *a, double *value)
{
	zq_sock  z;
	uint64_t bad = 0, t0 = 0;

	zq_remote(&z, ZMQ_REQ, a);
	for (uint64_t i = 1; i <= a->count; i++) {
		if (!zq_request(&z, a, i))
			bad++;
		if (i == 1)
			t0 = bench_now();
	}
	*value = perf_lat_value(a, t0, bench_now());
	zq_close(&z, a, false);
	return perf_verdict("zmq", PERF_REMOTE_LAT, bad, a);
}

static int
zq_local_thr(const perf_args *a, double *value)
{
	zq_sock  z;
	uint64_t bad = 0, t0 = 0;

	zq_local(&z, ZMQ_PULL, a);
	for (uint64_t i = 1; i <= a->count; i++) {
		zmq_msg_t m;

		zq_ok(zmq_msg_init(&m), "zmq_msg_init");
		zq_ok(zmq_msg_recv(&m, z.s, 0), "zmq_msg_recv");
		if (i == 1)
			t0 = bench_now();
		if (!perf_ok(zmq_msg_data(&m), zmq_msg_size(&m), a->size, i))
			bad++;
		zmq_msg_close(&m);
	}
	*value = perf_thr_value(a, t0, bench_now());
	zq_close(&z, a, false);
	return perf_verdict("zmq", PERF_LOCAL_THR, bad, a);
}

static int
zq_remote_thr(const perf_args *a, double *value)
{
	zq_sock z;

	(void)value;
	zq_remote(&z, ZMQ_PUSH, a);
	for (uint64_t i = 1; i <= a->count; i++) {
		zmq_msg_t m;

		zq_ok(zmq_msg_init_size(&m, a->size), "zmq_msg_init_size");
		perf_put(zmq_msg_data(&m), a->size, i);
		zq_ok(zmq_msg_send(&m, z.s, 0), "zmq_msg_send");
	}
	zq_close(&z, a, true);
	return 0;
}

/* ---- nanomsg ------------------------------------------------------------ */

static int
nm_ok(int rv, const char *what)
{
	if (rv < 0)
		bench_fail("nanomsg: %s: %s", what, nn_strerror(nn_errno()));
	return rv;
}

/*
 * nm_check fails unless nn_socket is libnanomsg's: libnng exports the
 * same nn_* names (its nanomsg compatibility layer), and a link line
 * with NNG first makes every "nanomsg" figure NNG's (bench/meson.build).
 */
static void
nm_check(void)
{
	Dl_info info;

	if (dladdr((void *)nn_socket, &info) == 0 || info.dli_fname == NULL ||
	    strstr(info.dli_fname, "libnanomsg") == NULL)
		bench_fail("nn_socket comes from %s, not libnanomsg",
		    info.dli_fname != NULL ? info.dli_fname : "?");
}

/* nm_open opens a socket of protocol proto with no size limit. */
static int
nm_open(int proto)
{
	int s, nomax = -1;

	nm_check();
	s = nm_ok(nn_socket(AF_SP, proto), "nn_socket");

	nm_ok(nn_setsockopt(
	          s, NN_SOL_SOCKET, NN_RCVMAXSIZE, &nomax, sizeof nomax),
	    "NN_RCVMAXSIZE");
	return s;
}

static int
nm_local(int proto, const perf_args *a)
{
	int s = nm_open(proto);

	nm_ok(nn_bind(s, a->url), "nn_bind");
	perf_ready(a);
	return s;
}

static int
nm_remote(int proto, const perf_args *a)
{
	int s = nm_open(proto);

	nm_ok(nn_connect(s, a->url), "nn_connect");
	return s;
}

static uint64_t
nm_pipes(void *arg)
{
	return nn_get_statistic(*(int *)arg, NN_STAT_CURRENT_CONNECTIONS);
}

/* nm_close closes s once its peer has, when it sent last (nanomsg 1.1
 * does not linger). */
static void
nm_close(int s, const perf_args *a, bool sent_last)
{
	if (sent_last) {
		perf_done(a);
		perf_wait_gone("nanomsg", nm_pipes, &s);
	}
	nn_close(s);
}

static int
nm_local_lat(const perf_args *a, double *value)
{
	int s = nm_local(NN_REP, a);

	(void)value;
	for (uint64_t i = 0; i < a->count; i++) {
		void *p;

		nm_ok(nn_recv(s, &p, NN_MSG, 0), "nn_recv");
		nm_ok(nn_send(s, &p, NN_MSG, 0), "nn_send");
	}
	nm_close(s, a, true);
	return 0;
}

static int
nm_remote_lat(const perf_args *a, double *value)
{
	int      s   = nm_remote(NN_REQ, a);
	uint64_t bad = 0, t0 = 0;
	void    *p = nn_allocmsg(a->size, 0);

	if (p == NULL)
		bench_fail("nn_allocmsg: %s", nn_strerror(nn_errno()));
	for (uint64_t i = 1; i <= a->count; i++) {
		int n;

		/* The reply is the next request. */
		perf_put(p, a->size, i);
		nm_ok(nn_send(s, &p, NN_MSG, 0), "nn_send");
		n = nm_ok(nn_recv(s, &p, NN_MSG, 0), "nn_recv");
		if (!perf_ok(p, (size_t)n, a->size, i))
			bad++;
		if (i == 1)
			t0 = bench_now();
	}
	*value = perf_lat_value(a, t0, bench_now());
	nn_freemsg(p);
	nm_close(s, a, false);
	return perf_verdict("nanomsg", PERF_REMOTE_LAT, bad, a);
}

static int
nm_local_thr(const perf_args *a, double *value)
{
	int      s   = nm_local(NN_PULL, a);
	uint64_t bad = 0, t0 = 0;

	for (uint64_t i = 1; i <= a->count; i++) {
		void *p;
		int   n = nm_ok(nn_recv(s, &p, NN_MSG, 0), "nn_recv");

		if (i == 1)
			t0 = bench_now();
		if (!perf_ok(p, (size_t)n, a->size, i))
			bad++;
		nn_freemsg(p);
	}
	*value = perf_thr_value(a, t0, bench_now());
	nm_close(s, a, false);
	return perf_verdict("nanomsg", PERF_LOCAL_THR, bad, a);
}

static int
nm_remote_thr(const perf_args *a, double *value)
{
	int s = nm_remote(NN_PUSH, a);

	(void)value;
	for (uint64_t i = 1; i <= a->count; i++) {
		void *p = nn_allocmsg(a->size, 0);

		if (p == NULL)
			bench_fail("nn_allocmsg: %s", nn_strerror(nn_errno()));
		perf_put(p, a->size, i);
		nm_ok(nn_send(s, &p, NN_MSG, 0), "nn_send");
	}
	nm_close(s, a, true);
	return 0;
}

/* ---- the table ---------------------------------------------------------- */

const perf_lib perf_libs[PERF_NLIBS] = {
    {"spry", {sp_local_lat, sp_remote_lat, sp_local_thr, sp_remote_thr}},
    {"zmq", {zq_local_lat, zq_remote_lat, zq_local_thr, zq_remote_thr}},
    {"nng", {ng_local_lat, ng_remote_lat, ng_local_thr, ng_remote_thr}},
    {"nanomsg", {nm_local_lat, nm_remote_lat, nm_local_thr, nm_remote_thr}},
};

static const char *const perf_role_names[PERF_NROLES] = {
    "local_lat",
    "remote_lat",
    "local_thr",
    "remote_thr",
};

const perf_lib *
perf_lib_find(const char *name)
{
	for (int i = 0; i < PERF_NLIBS; i++) {
		if (strcmp(perf_libs[i].name, name) == 0)
			return &perf_libs[i];
	}
	return NULL;
}

const char *
perf_role_name(int role)
{
	return role >= 0 && role < PERF_NROLES ? perf_role_names[role] : "?";
}

int
perf_role_find(const char *name)
{
	for (int i = 0; i < PERF_NROLES; i++) {
		if (strcmp(perf_role_names[i], name) == 0)
			return i;
	}
	return -1;
}

void
perf_buffers(FILE *f, int buf)
{
	int n = buf > 8192 ? 8192 : buf;
	int p = 1;

	while (p < n)
		p *= 2; /* spry rounds a depth up to a power of two */
	if (buf <= 0) {
		fprintf(f,
		    "# buffers: every library's defaults (spry: 16 "
		    "messages each way)\n");
	} else {
		fprintf(f,
		    "# buffers: spry sendbuf=recvbuf=%d messages (asked %d); "
		    "zmq SNDHWM=RCVHWM=%d messages; nng send-buffer="
		    "recv-buffer=%d messages\n",
		    p, n, buf, n);
	}
	fprintf(f,
	    "# buffers: nanomsg NN_SNDBUF=NN_RCVBUF=128 KiB (its "
	    "default, in bytes); kernel socket buffers: defaults; "
	    "receive size limits off\n");
}
