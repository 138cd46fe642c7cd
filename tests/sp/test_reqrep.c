/* SPDX-License-Identifier: MIT */
/*
 * tests/sp/test_reqrep.c: REQ0 and REP0 over inproc. The NNG checklist
 * (identity, wrong peer, close wakes waiters, non-blocking EAGAIN,
 * timeouts, cancellation, options) and the protocol's own contract: the
 * round trip and where the route travels (the REP header), the default
 * request's state (SPRY_ESTATE both ways, a new request cancels the old
 * one, a reply that waits for its pipe still answers its own request),
 * resending after SPRY_OPT_RESENDTIME and when a pipe closes, 64
 * threads with requests of their own on one REQ socket served by
 * several REP workers in any order, the MAXTTL limit on backtraces,
 * malformed headers closing pipes, and raw mode's visible headers.
 * Nothing here sleeps to synchronize or asserts a duration.
 */
#include "tests/support/support.h"

#include <pthread.h>
#include <stdio.h>
#include <string.h>

/* How long a test waits for what must come: only a hang reaches it. */
#define HANG SPRY_SEC(30)

static int
up(void **state)
{
	return spry_test_up(state);
}

static int
down(void **state)
{
	return spry_test_down(state);
}

/* The value of a message that holds exactly one word (freed). */
static uint32_t
val_of(spry_msg *m)
{
	assert_int_equal(spry_msg_len(m), 4);
	return spry_test_u32_val(m);
}

/* The body's value; m stays the caller's. */
static uint32_t
val_of_keep(spry_msg *m)
{
	const uint8_t *b = spry_msg_body(m);

	assert_int_equal(spry_msg_len(m), 4);
	return (uint32_t)b[0] << 24 | (uint32_t)b[1] << 16 |
	    (uint32_t)b[2] << 8 | b[3];
}

/* Word i of m's header. */
static uint32_t
hdr_word(spry_msg *m, size_t i)
{
	const uint8_t *h = spry_msg_header(m);

	assert_true(spry_msg_header_len(m) >= 4 * (i + 1));
	h += 4 * i;
	return (uint32_t)h[0] << 24 | (uint32_t)h[1] << 16 |
	    (uint32_t)h[2] << 8 | h[3];
}

static spry_socket *
open_sock(int proto, bool raw)
{
	spry_socket_opts o = SPRY_SOCKET_OPTS_INIT;
	spry_socket     *s;

	o.raw = raw;
	assert_int_equal(spry_socket_open(&s, proto, &o), 0);
	/* Only a hang reaches this: a failure, not a stuck test. */
	spry_test_check(
	    spry_setopt(s, SPRY_OPT_RECVTIMEO, SPRY_DURATION(HANG)), 0);
	return s;
}

/* A REQ dialing a REP listening on url; either may be raw. */
static void
pair_up(const char *url, spry_socket **req, bool req_raw, spry_socket **rep,
    bool rep_raw)
{
	*req = open_sock(SPRY_REQ0, req_raw);
	*rep = open_sock(SPRY_REP0, rep_raw);
	spry_test_check(spry_listen(*rep, url, NULL), 0);
	spry_test_check(spry_dial(*req, url, NULL, 0), 0);
}

static spry_socket_stats
stats_of(spry_socket *s)
{
	spry_socket_stats st;

	spry_socket_stats_get(s, &st);
	return st;
}

/* The next item of mb, waiting no longer than HANG. */
static spry_msg *
mb_recv(spry_mailbox *mb)
{
	spry_ctx *ctx;
	void     *item = NULL;

	assert_int_equal(spry_ctx_with_timeout(&ctx, NULL, HANG), 0);
	spry_test_check(spry_mailbox_recv(ctx, mb, &item), 0);
	spry_ctx_release(ctx);
	return item;
}

/* Receive from mb, skipping error events (a closed socket's). */
static spry_msg *
mb_recv_data(spry_mailbox *mb)
{
	void *item;

	for (;;) {
		item = mb_recv(mb);
		if (spry_msg_err(item) == 0) {
			return item;
		}
		spry_msg_free(item);
	}
}

/* Free what is left in mb and give it back. */
static void
mb_drop(spry_mailbox *mb)
{
	void *item;

	while (spry_mailbox_tryrecv(mb, &item) == 0) {
		spry_msg_free(item);
	}
	spry_mailbox_release(mb);
}

/* ---- identity and the round trip ------------------------------------- */

static void
test_identity(void **state)
{
	static const struct {
		int  proto, peer;
		bool raw;
	} cases[] = {
	    {SPRY_REQ0, SPRY_REP0, false},
	    {SPRY_REQ0, SPRY_REP0, true},
	    {SPRY_REP0, SPRY_REQ0, false},
	    {SPRY_REP0, SPRY_REQ0, true},
	};

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		spry_socket *s = open_sock(cases[i].proto, cases[i].raw);
		spry_optval  v = {.type = SPRY_TYPE_INT};
		spry_optval  b = {.type = SPRY_TYPE_BOOL};

		spry_test_check(spry_getopt(s, SPRY_OPT_PROTO, &v), 0);
		assert_int_equal(v.u.i, cases[i].proto);
		spry_test_check(spry_getopt(s, SPRY_OPT_PEER, &v), 0);
		assert_int_equal(v.u.i, cases[i].peer);
		spry_test_check(spry_getopt(s, SPRY_OPT_RAW, &b), 0);
		assert_int_equal(b.u.b, cases[i].raw);
		assert_int_equal(spry_socket_proto(s), cases[i].proto);
		assert_int_equal(spry_socket_peer(s), cases[i].peer);
		/* Both directions work on both sides. */
		assert_non_null(spry_socket_sendbox(s, NULL));
		assert_non_null(spry_socket_recvbox(s, NULL));
		spry_close(s);
	}
}

/* Answer the request m on rep in one of three ways; frees m. */
static void
answer(spry_socket *rep, spry_msg *m, int how, uint32_t v)
{
	spry_msg *r;

	if (how == 0) { /* the request itself, with a new body */
		spry_msg_clear(m);
		assert_int_equal(spry_msg_append_u32(m, v), 0);
		spry_test_check(spry_send(rep, m, 0), 0);
		return;
	}
	r = spry_test_u32_msg(v);
	if (how == 1) { /* a fresh message with a copy of its header */
		assert_int_equal(spry_msg_header_append(r, spry_msg_header(m),
		                     spry_msg_header_len(m)),
		    0);
	} /* else an empty header: the socket's last request */
	spry_msg_free(m);
	spry_test_check(spry_send(rep, r, 0), 0);
}

static void
test_round_trip_routes_by_the_header(void **state)
{
	spry_socket *req, *rep;
	spry_msg    *m;
	uint32_t     id, prev = 0;

	(void)state;
	pair_up("inproc://rr-trip", &req, false, &rep, false);
	for (uint32_t i = 0; i < 6; i++) {
		spry_test_check(
		    spry_send(req, spry_test_u32_msg(100 + i), 0), 0);
		spry_test_check(spry_recv(rep, &m, 0), 0);
		/* The route: the pipe it came in on, then the request id. */
		assert_int_equal(spry_msg_header_len(m), 8);
		assert_int_equal(hdr_word(m, 0), spry_msg_pipe(m));
		assert_int_equal(hdr_word(m, 0) & 0x80000000u, 0);
		id = hdr_word(m, 1);
		assert_true(id & 0x80000000u);
		if (i > 0) { /* ids count up (31 bits) */
			assert_int_equal(id, (prev + 1) | 0x80000000u);
		}
		prev = id;
		assert_int_equal(val_of_keep(m), 100 + i);
		answer(rep, m, (int)(i % 3), 200 + i);
		spry_test_check(spry_recv(req, &m, 0), 0);
		/* The reply keeps the request id in its header, as NNG. */
		assert_int_equal(spry_msg_header_len(m), 4);
		assert_int_equal(hdr_word(m, 0), id);
		assert_int_equal(val_of(m), 200 + i);
	}
	assert_int_equal(stats_of(req).dropped, 0);
	assert_int_equal(stats_of(rep).dropped, 0);
	spry_close(req);
	spry_close(rep);
}

/* ---- the default request's state ------------------------------------- */

static void
test_req_recv_without_a_request_is_estate(void **state)
{
	spry_socket *req, *rep;
	spry_msg    *m;

	(void)state;
	pair_up("inproc://rr-req-estate", &req, false, &rep, false);
	spry_test_check(spry_recv(req, &m, 0), SPRY_ESTATE);
	spry_test_check(spry_recv(req, &m, SPRY_FLAG_NONBLOCK), SPRY_ESTATE);
	spry_test_check(spry_send(req, spry_test_u32_msg(1), 0), 0);
	spry_test_check(spry_recv(rep, &m, 0), 0);
	spry_test_check(spry_send(rep, m, 0), 0);
	spry_test_check(spry_recv(req, &m, 0), 0);
	assert_int_equal(val_of(m), 1);
	/* Answered: nothing more can come. */
	spry_test_check(spry_recv(req, &m, 0), SPRY_ESTATE);
	/* A request with a reply mailbox is not the socket's. */
	{
		spry_mailbox *mb;

		assert_int_equal(spry_mailbox_open(&mb, 4), 0);
		m = spry_test_u32_msg(2);
		assert_int_equal(spry_msg_set_reply(m, mb), 0);
		spry_test_check(spry_send(req, m, 0), 0);
		spry_test_check(spry_recv(req, &m, 0), SPRY_ESTATE);
		spry_test_check(spry_recv(rep, &m, 0), 0);
		spry_test_check(spry_send(rep, m, 0), 0);
		m = mb_recv_data(mb);
		assert_int_equal(val_of(m), 2);
		mb_drop(mb);
	}
	spry_close(req);
	spry_close(rep);
}

static void
test_rep_send_without_a_request_is_estate(void **state)
{
	spry_socket *req, *rep;
	spry_msg    *m, *r;

	(void)state;
	pair_up("inproc://rr-rep-estate", &req, false, &rep, false);
	r = spry_test_u32_msg(9);
	spry_test_check(spry_send(rep, r, 0), SPRY_ESTATE);
	spry_test_check(spry_send(req, spry_test_u32_msg(1), 0), 0);
	spry_test_check(spry_recv(rep, &m, 0), 0);
	spry_msg_free(m);
	spry_test_check(spry_send(rep, r, 0), 0); /* answers the last one */
	r = spry_test_u32_msg(10);
	spry_test_check(spry_send(rep, r, 0), SPRY_ESTATE); /* only once */
	/* A header that cannot name a pipe. */
	assert_int_equal(spry_msg_header_append(r, "ab", 2), 0);
	spry_test_check(spry_send(rep, r, 0), SPRY_EINVAL);
	spry_msg_free(r);
	spry_test_check(spry_recv(req, &m, 0), 0);
	assert_int_equal(val_of(m), 9);
	spry_close(req);
	spry_close(rep);
}

/* Answer every request waiting on rep with the request itself. */
static void
echo_n(spry_socket *rep, int n)
{
	spry_msg *m;

	for (int i = 0; i < n; i++) {
		spry_test_check(spry_recv(rep, &m, 0), 0);
		spry_test_check(spry_send(rep, m, 0), 0);
	}
}

static void
test_a_waiting_reply_keeps_its_requester(void **state)
{
	spry_socket  *req1, *req2, *rep;
	spry_mailbox *mb;
	spry_msg     *m;

	(void)state;
	pair_up("inproc://rr-bind", &req1, false, &rep, false);
	req2 = open_sock(SPRY_REQ0, false);
	spry_test_check(spry_dial(req2, "inproc://rr-bind", NULL, 0), 0);
	/* Three replies for a mailbox of two: req1's pipe pauses, so the
	 * REP side of it cannot take more for now. */
	assert_int_equal(spry_mailbox_open(&mb, 2), 0);
	for (uint32_t i = 0; i < 3; i++) {
		m = spry_test_u32_msg(i);
		assert_int_equal(spry_msg_set_reply(m, mb), 0);
		spry_test_check(spry_send(req1, m, 0), 0);
	}
	echo_n(rep, 3);
	/* Request A from req1; its reply (empty header) has to wait. */
	spry_test_check(spry_send(req1, spry_test_u32_msg(10), 0), 0);
	spry_test_check(spry_recv(rep, &m, 0), 0);
	spry_msg_free(m);
	spry_test_check(spry_send(rep, spry_test_u32_msg(11), 0), 0);
	/* Request B from req2 comes in meanwhile: the last one now. */
	spry_test_check(spry_send(req2, spry_test_u32_msg(20), 0), 0);
	spry_test_check(spry_recv(rep, &m, 0), 0);
	spry_msg_free(m);
	for (int i = 0; i < 3; i++) { /* room: the waiting reply goes */
		m = mb_recv_data(mb);
		spry_msg_free(m);
	}
	spry_test_check(spry_recv(req1, &m, 0), 0);
	assert_int_equal(val_of(m), 11); /* A's answer reached A */
	spry_test_check(spry_recv(req2, &m, SPRY_FLAG_NONBLOCK), SPRY_EAGAIN);
	spry_test_check(
	    spry_send(rep, spry_test_u32_msg(21), 0), 0); /* answers B */
	spry_test_check(spry_recv(req2, &m, 0), 0);
	assert_int_equal(val_of(m), 21);
	spry_close(req1);
	spry_close(req2);
	spry_close(rep);
	mb_drop(mb);
}

static void
test_a_new_request_cancels_the_old_one(void **state)
{
	spry_socket *req, *rep;
	spry_msg    *a, *b, *m;

	(void)state;
	pair_up("inproc://rr-cancel", &req, false, &rep, false);
	spry_test_check(spry_send(req, spry_test_u32_msg(1), 0), 0);
	spry_test_check(spry_recv(rep, &a, 0), 0);
	spry_test_check(spry_send(req, spry_test_u32_msg(2), 0), 0);
	spry_test_check(spry_recv(rep, &b, 0), 0);
	assert_int_not_equal(hdr_word(a, 1), hdr_word(b, 1));
	/* The old request's reply comes first, on the same pipe: dropped. */
	spry_test_check(spry_send(rep, a, 0), 0);
	spry_test_check(spry_send(rep, b, 0), 0);
	spry_test_check(spry_recv(req, &m, 0), 0);
	assert_int_equal(val_of(m), 2);
	assert_int_equal(stats_of(req).dropped, 1);
	spry_test_check(spry_recv(req, &m, SPRY_FLAG_NONBLOCK), SPRY_ESTATE);
	spry_close(req);
	spry_close(rep);
}

/* ---- resending -----------------------------------------------------------
 */

static void
test_a_request_is_resent_after_the_resend_time(void **state)
{
	spry_socket *req, *rep;
	spry_msg    *m1, *m2, *m;

	(void)state;
	pair_up("inproc://rr-resend", &req, false, &rep, false);
	spry_test_check(spry_setopt(req, SPRY_OPT_RESENDTIME,
	                    SPRY_DURATION(SPRY_MSEC(20))),
	    0);
	spry_test_check(spry_send(req, spry_test_u32_msg(42), 0), 0);
	spry_test_check(spry_recv(rep, &m1, 0), 0); /* not answered */
	spry_test_check(spry_recv(rep, &m2, 0), 0); /* so it comes again */
	assert_int_equal(spry_msg_header_len(m2), 8);
	assert_int_equal(hdr_word(m2, 1), hdr_word(m1, 1));
	assert_int_equal(val_of_keep(m2), 42);
	spry_test_check(spry_send(rep, m2, 0), 0);
	spry_test_check(spry_recv(req, &m, 0), 0);
	assert_int_equal(val_of(m), 42);
	/* The first copy's answer is a duplicate: dropped, counted. */
	spry_test_check(spry_send(rep, m1, 0), 0);
	spry_test_check(spry_send(req, spry_test_u32_msg(43), 0), 0);
	for (;;) { /* late copies of 42 may still be queued */
		spry_test_check(spry_recv(rep, &m, 0), 0);
		if (val_of_keep(m) == 43) {
			break;
		}
		spry_msg_free(m);
	}
	spry_test_check(spry_send(rep, m, 0), 0);
	spry_test_check(spry_recv(req, &m, 0), 0);
	assert_int_equal(val_of(m), 43);
	assert_int_equal(stats_of(req).dropped, 1);
	spry_close(req);
	spry_close(rep);
}

static void
test_a_request_is_resent_when_its_pipe_closes(void **state)
{
	spry_socket  *req, *rep[2], *got, *other;
	spry_mailbox *mb;
	spry_msg     *m1, *m2, *m;

	(void)state;
	req    = open_sock(SPRY_REQ0, false);
	rep[0] = open_sock(SPRY_REP0, false);
	rep[1] = open_sock(SPRY_REP0, false);
	/* Never by time: only the pipe's loss can resend it. */
	spry_test_check(
	    spry_setopt(req, SPRY_OPT_RESENDTIME, SPRY_DURATION(-1)), 0);
	assert_int_equal(spry_mailbox_open(&mb, 16), 0);
	spry_test_check(spry_listen(rep[0], "inproc://rr-lose-0", NULL), 0);
	spry_test_check(spry_listen(rep[1], "inproc://rr-lose-1", NULL), 0);
	for (int i = 0; i < 2; i++) {
		spry_test_check(spry_socket_subscribe(rep[i], mb, false), 0);
	}
	spry_test_check(spry_dial(req, "inproc://rr-lose-0", NULL, 0), 0);
	spry_test_check(spry_dial(req, "inproc://rr-lose-1", NULL, 0), 0);
	spry_test_check(spry_send(req, spry_test_u32_msg(7), 0), 0);
	m1    = mb_recv_data(mb);
	got   = spry_msg_socket(m1);
	other = got == rep[0] ? rep[1] : rep[0];
	assert_true(got == rep[0] || got == rep[1]);
	spry_close(got);
	m2 = mb_recv_data(mb);
	assert_ptr_equal(spry_msg_socket(m2), other);
	assert_int_equal(hdr_word(m2, 1), hdr_word(m1, 1));
	assert_int_equal(val_of_keep(m2), 7);
	spry_msg_free(m1);
	spry_test_check(spry_send(other, m2, 0), 0);
	spry_test_check(spry_recv(req, &m, 0), 0);
	assert_int_equal(val_of(m), 7);
	spry_close(req);
	spry_close(other);
	mb_drop(mb);
}

/* ---- many requesters, many workers ------------------------------------ */

#define CONC_REQUESTERS 64
#define CONC_WORKERS 4
#define CONC_ROUNDS 100

/* A requester thread: its own reply mailbox, requests on a shared REQ. */
typedef struct requester {
	spry_socket *req;    /* shared */
	uint32_t     who;    /* its number */
	int          err;    /* first failure (0: none) */
	uint32_t     wrong;  /* replies that did not match */
	uint32_t     served; /* replies that matched */
} requester;

static void *
requester_run(void *arg)
{
	requester    *rq = arg;
	spry_mailbox *mb;
	spry_ctx     *ctx;
	spry_msg     *m;
	void         *item;

	if ((rq->err = spry_mailbox_open(&mb, 2)) != 0) {
		return NULL;
	}
	/* Only a hang reaches this deadline. */
	if ((rq->err = spry_ctx_with_timeout(&ctx, NULL, SPRY_SEC(60))) != 0) {
		spry_mailbox_release(mb);
		return NULL;
	}
	for (uint32_t i = 0; i < CONC_ROUNDS; i++) {
		uint32_t want = rq->who << 16 | i, got = 0;

		if ((rq->err = spry_msg_alloc(&m, 0)) != 0 ||
		    (rq->err = spry_msg_append_u32(m, want)) != 0 ||
		    (rq->err = spry_msg_set_reply(m, mb)) != 0 ||
		    (rq->err = spry_send(rq->req, m, 0)) != 0 ||
		    (rq->err = spry_mailbox_recv(ctx, mb, &item)) != 0) {
			break;
		}
		m = item;
		if (spry_msg_len(m) == 4 && spry_msg_trim_u32(m, &got) == 0 &&
		    got == want) {
			rq->served++;
		} else {
			rq->wrong++;
		}
		spry_msg_free(m);
	}
	spry_ctx_release(ctx);
	mb_drop(mb);
	return NULL;
}

/*
 * A REP worker: answers with the request message itself. When a second
 * request is ready at once it answers the two in reverse order, so
 * replies leave in an order of their own.
 */
static void *
worker_run(void *arg)
{
	spry_socket *rep = arg;
	spry_msg    *a, *b;

	while (spry_recv(rep, &a, 0) == 0) {
		if (spry_recv(rep, &b, SPRY_FLAG_NONBLOCK) == 0 &&
		    spry_send(rep, b, 0) != 0) {
			spry_msg_free(b);
		}
		if (spry_send(rep, a, 0) != 0) {
			spry_msg_free(a);
		}
	}
	return NULL;
}

static void
test_many_requesters_share_one_socket(void **state)
{
	spry_socket *req, *rep;
	requester    rq[CONC_REQUESTERS];
	pthread_t    t[CONC_REQUESTERS], w[CONC_WORKERS];

	(void)state;
	pair_up("inproc://rr-many", &req, false, &rep, false);
	spry_socket_hold(rep); /* the workers use it past spry_close */
	for (int i = 0; i < CONC_WORKERS; i++) {
		assert_int_equal(
		    pthread_create(&w[i], NULL, worker_run, rep), 0);
	}
	for (int i = 0; i < CONC_REQUESTERS; i++) {
		rq[i] = (requester){req, (uint32_t)i, 0, 0, 0};
		assert_int_equal(
		    pthread_create(&t[i], NULL, requester_run, &rq[i]), 0);
	}
	for (int i = 0; i < CONC_REQUESTERS; i++) {
		pthread_join(t[i], NULL);
		spry_test_check(rq[i].err, 0);
		assert_int_equal(rq[i].wrong, 0);
		assert_int_equal(rq[i].served, CONC_ROUNDS);
	}
	assert_int_equal(stats_of(req).dropped, 0);
	spry_close(rep); /* the workers see SPRY_ECLOSED */
	for (int i = 0; i < CONC_WORKERS; i++) {
		pthread_join(w[i], NULL);
	}
	spry_socket_release(rep);
	spry_close(req);
}

/* ---- backtraces --------------------------------------------------------- */

/* A raw request whose backtrace has `words` words (the last the id). */
static spry_msg *
raw_request(int words, uint32_t v)
{
	spry_msg *m = spry_test_u32_msg(v);

	for (int i = 1; i < words; i++) {
		assert_int_equal(
		    spry_msg_header_append_u32(m, (uint32_t)i), 0);
	}
	assert_int_equal(spry_msg_header_append_u32(m, 0x80000000u | v), 0);
	return m;
}

static void
test_backtraces_deeper_than_maxttl_are_dropped(void **state)
{
	static const int ttls[] = {1, 3, 8, 255};

	(void)state;
	for (size_t t = 0; t < sizeof(ttls) / sizeof(ttls[0]); t++) {
		int          ttl = ttls[t];
		spry_socket *req, *rep;
		spry_msg    *m;
		char         url[64];

		snprintf(url, sizeof(url), "inproc://rr-ttl-%d", ttl);
		pair_up(url, &req, true, &rep, false);
		spry_test_check(
		    spry_setopt(rep, SPRY_OPT_MAXTTL, SPRY_INT(ttl)), 0);
		spry_test_check(
		    spry_setopt(req, SPRY_OPT_MAXTTL, SPRY_INT(ttl)), 0);
		spry_test_check(spry_send(req, raw_request(ttl + 1, 1), 0), 0);
		spry_test_check(spry_send(req, raw_request(ttl, 2), 0), 0);
		spry_test_check(spry_recv(rep, &m, 0), 0);
		/* The one that fits: the pipe id, then all its words. */
		assert_int_equal(spry_msg_header_len(m), 4 * (ttl + 1));
		assert_int_equal(hdr_word(m, (size_t)ttl), 0x80000002u);
		assert_int_equal(stats_of(rep).dropped, 1);
		assert_int_equal(stats_of(rep).malformed, 0);
		/* The reply carries the backtrace back, without the pipe. */
		spry_test_check(spry_send(rep, m, 0), 0);
		spry_test_check(spry_recv(req, &m, 0), 0);
		assert_int_equal(spry_msg_header_len(m), 4 * ttl);
		for (int i = 1; i < ttl; i++) {
			assert_int_equal(hdr_word(m, (size_t)i - 1), i);
		}
		assert_int_equal(hdr_word(m, (size_t)ttl - 1), 0x80000002u);
		assert_int_equal(val_of(m), 2);
		spry_close(req);
		spry_close(rep);
	}
}

/* Wait for a pipe event ev on mb (subscribed with events). */
static void
await_event(spry_mailbox *mb, int ev)
{
	void *item;

	for (;;) {
		item = mb_recv(mb);
		if (spry_msg_err(item) == ev) {
			spry_msg_free(item);
			return;
		}
		spry_msg_free(item);
	}
}

static void
test_malformed_headers_close_the_pipe(void **state)
{
	spry_socket  *req, *rep;
	spry_mailbox *ev;
	spry_msg     *m;

	(void)state;
	/* A request whose backtrace never ends: REP closes the pipe. */
	pair_up("inproc://rr-bad-req", &req, true, &rep, false);
	assert_int_equal(spry_mailbox_open(&ev, 16), 0);
	spry_test_check(spry_socket_subscribe(req, ev, true), 0);
	m = spry_test_u32_msg(0);
	spry_msg_clear(m);
	assert_int_equal(spry_msg_header_append_u32(m, 5), 0);
	spry_test_check(spry_send(req, m, 0), 0);
	await_event(ev, SPRY_PIPE_REM);
	assert_int_equal(stats_of(rep).malformed, 1);
	spry_close(req);
	spry_close(rep);
	mb_drop(ev);
	/* A reply too short to hold a request id: REQ closes the pipe. */
	pair_up("inproc://rr-bad-rep", &req, false, &rep, true);
	assert_int_equal(spry_mailbox_open(&ev, 16), 0);
	spry_test_check(spry_socket_subscribe(req, ev, true), 0);
	spry_test_check(spry_send(req, spry_test_u32_msg(1), 0), 0);
	spry_test_check(spry_recv(rep, &m, 0), 0);
	assert_int_equal(spry_msg_header_len(m), 8);
	assert_int_equal(spry_msg_header_chop(m, 4), 0); /* the id goes */
	spry_msg_clear(m);
	assert_int_equal(spry_msg_append(m, "xy", 2), 0);
	spry_test_check(spry_send(rep, m, 0), 0);
	await_event(ev, SPRY_PIPE_REM);
	assert_int_equal(stats_of(req).malformed, 1);
	spry_close(req);
	spry_close(rep);
	mb_drop(ev);
}

/* ---- the NNG checklist ------------------------------------------------ */

static void
test_a_wrong_peer_is_rejected(void **state)
{
	spry_socket *req, *pull, *rep, *push;

	(void)state;
	req  = open_sock(SPRY_REQ0, false);
	pull = open_sock(SPRY_PULL0, false);
	spry_test_check(spry_listen(pull, "inproc://rr-wrong-1", NULL), 0);
	spry_test_check(
	    spry_dial(req, "inproc://rr-wrong-1", NULL, 0), SPRY_EPROTO);
	assert_int_equal(stats_of(pull).rejected, 1);
	assert_int_equal(stats_of(req).pipes, 0);
	assert_int_equal(stats_of(pull).pipes, 0);
	rep  = open_sock(SPRY_REP0, false);
	push = open_sock(SPRY_PUSH0, false);
	spry_test_check(spry_listen(rep, "inproc://rr-wrong-2", NULL), 0);
	spry_test_check(
	    spry_dial(push, "inproc://rr-wrong-2", NULL, 0), SPRY_EPROTO);
	assert_int_equal(stats_of(rep).rejected, 1);
	assert_int_equal(stats_of(rep).pipes, 0);
	spry_close(req);
	spry_close(pull);
	spry_close(rep);
	spry_close(push);
}

/* A thread blocked in spry_recv(_ctx), and what it got. */
typedef struct blocked {
	spry_socket *s;
	spry_ctx    *ctx;
	int          rv;
} blocked;

static void *
blocked_recv(void *arg)
{
	blocked  *b = arg;
	spry_msg *m = NULL;

	b->rv = b->ctx != NULL ? spry_recv_ctx(b->ctx, b->s, &m) :
	                         spry_recv(b->s, &m, 0);
	spry_msg_free(m);
	return NULL;
}

static void
test_close_wakes_blocked_receivers(void **state)
{
	spry_socket *req, *rep;
	blocked      a = {NULL, NULL, -1}, b = {NULL, NULL, -1};
	pthread_t    ta, tb;

	(void)state;
	pair_up("inproc://rr-close", &req, false, &rep, false);
	spry_socket_hold(req);
	spry_socket_hold(rep);
	a.s = req, b.s = rep;
	spry_test_check(
	    spry_send(req, spry_test_u32_msg(1), 0), 0); /* never answered */
	{
		spry_msg *m;

		spry_test_check(spry_recv(rep, &m, 0), 0);
		spry_msg_free(m);
	}
	assert_int_equal(pthread_create(&ta, NULL, blocked_recv, &a), 0);
	assert_int_equal(pthread_create(&tb, NULL, blocked_recv, &b), 0);
	assert_true(spry_test_await_waiters(
	    spry_socket_recvbox(req, NULL), SPRY_SELECT_RECV, 1));
	assert_true(spry_test_await_waiters(
	    spry_socket_recvbox(rep, NULL), SPRY_SELECT_RECV, 1));
	spry_test_check(spry_close(req), 0);
	spry_test_check(spry_close(rep), 0);
	pthread_join(ta, NULL);
	pthread_join(tb, NULL);
	spry_test_check(a.rv, SPRY_ECLOSED);
	spry_test_check(b.rv, SPRY_ECLOSED);
	spry_socket_release(req);
	spry_socket_release(rep);
}

static void
test_close_tells_pending_reply_mailboxes(void **state)
{
	spry_socket  *req, *rep;
	spry_mailbox *mb;
	spry_msg     *m;

	(void)state;
	pair_up("inproc://rr-close-mb", &req, false, &rep, false);
	assert_int_equal(spry_mailbox_open(&mb, 4), 0);
	m = spry_test_u32_msg(1);
	assert_int_equal(spry_msg_set_reply(m, mb), 0);
	spry_test_check(spry_send(req, m, 0), 0);
	spry_test_check(spry_recv(rep, &m, 0), 0); /* never answered */
	spry_msg_free(m);
	spry_close(req);
	m = mb_recv(mb);
	spry_test_check(spry_msg_err(m), SPRY_ECLOSED);
	assert_int_equal(spry_msg_len(m), 0);
	spry_msg_free(m);
	spry_close(rep);
	mb_drop(mb);
}

static void
test_nonblocking_calls_say_eagain(void **state)
{
	spry_socket *req, *rep;
	spry_msg    *m;
	int          rv, n = 0;

	(void)state;
	pair_up("inproc://rr-nb", &req, false, &rep, false);
	spry_test_check(spry_recv(rep, &m, SPRY_FLAG_NONBLOCK), SPRY_EAGAIN);
	spry_test_check(spry_send(req, spry_test_u32_msg(1), 0), 0);
	spry_test_check(spry_recv(req, &m, SPRY_FLAG_NONBLOCK), SPRY_EAGAIN);
	spry_close(rep);
	/* No peer: requests queue in the send mailbox until it is full,
	 * and the default one counts as out (no SPRY_ESTATE). */
	while ((rv = spry_send(
	            req, m = spry_test_u32_msg(2), SPRY_FLAG_NONBLOCK)) == 0) {
		n++;
	}
	spry_test_check(rv, SPRY_EAGAIN);
	spry_msg_free(m);
	assert_true(n >= 1);
	spry_test_check(spry_recv(req, &m, SPRY_FLAG_NONBLOCK), SPRY_EAGAIN);
	spry_close(req);
}

static void
test_receive_timeouts(void **state)
{
	spry_socket *req, *rep;
	spry_msg    *m;

	(void)state;
	pair_up("inproc://rr-timeo", &req, false, &rep, false);
	spry_test_check(
	    spry_setopt(req, SPRY_OPT_RECVTIMEO, SPRY_DURATION(SPRY_MSEC(10))),
	    0);
	spry_test_check(
	    spry_setopt(rep, SPRY_OPT_RECVTIMEO, SPRY_DURATION(SPRY_MSEC(10))),
	    0);
	spry_test_check(spry_recv(rep, &m, 0), SPRY_ETIMEDOUT);
	spry_test_check(spry_send(req, spry_test_u32_msg(1), 0), 0);
	spry_test_check(spry_recv(rep, &m, 0), 0);
	spry_msg_free(m); /* never answered */
	spry_test_check(spry_recv(req, &m, 0), SPRY_ETIMEDOUT);
	spry_close(req);
	spry_close(rep);
}

static void
test_a_ctx_cancels_blocked_receivers(void **state)
{
	spry_socket *req, *rep;
	spry_ctx    *ctx;
	blocked      a = {NULL, NULL, -1}, b = {NULL, NULL, -1};
	pthread_t    ta, tb;

	(void)state;
	pair_up("inproc://rr-ctx", &req, false, &rep, false);
	assert_int_equal(spry_ctx_with_cancel(&ctx, NULL), 0);
	spry_test_check(spry_send(req, spry_test_u32_msg(1), 0), 0);
	{
		spry_msg *m;

		spry_test_check(spry_recv(rep, &m, 0), 0);
		spry_msg_free(m); /* never answered */
	}
	a.s = req, a.ctx = ctx, b.s = rep, b.ctx = ctx;
	assert_int_equal(pthread_create(&ta, NULL, blocked_recv, &a), 0);
	assert_int_equal(pthread_create(&tb, NULL, blocked_recv, &b), 0);
	assert_true(spry_test_await_waiters(
	    spry_socket_recvbox(req, NULL), SPRY_SELECT_RECV, 1));
	assert_true(spry_test_await_waiters(
	    spry_socket_recvbox(rep, NULL), SPRY_SELECT_RECV, 1));
	spry_ctx_cancel(ctx);
	pthread_join(ta, NULL);
	pthread_join(tb, NULL);
	spry_test_check(a.rv, SPRY_ECANCELED);
	spry_test_check(b.rv, SPRY_ECANCELED);
	spry_ctx_release(ctx);
	spry_close(req);
	spry_close(rep);
}

static void
test_options_are_checked(void **state)
{
	spry_socket *req, *raw, *rep;
	spry_optval  d = {.type = SPRY_TYPE_DURATION};
	spry_optval  i = {.type = SPRY_TYPE_INT};

	(void)state;
	req = open_sock(SPRY_REQ0, false);
	raw = open_sock(SPRY_REQ0, true);
	rep = open_sock(SPRY_REP0, false);
	spry_test_check(spry_getopt(req, SPRY_OPT_RESENDTIME, &d), 0);
	assert_true(d.u.d == SPRY_SEC(60));
	spry_test_check(
	    spry_getopt(req, SPRY_OPT_RESENDTIME, &i), SPRY_EBADTYPE);
	spry_test_check(
	    spry_setopt(req, SPRY_OPT_RESENDTIME, SPRY_INT(5)), SPRY_EBADTYPE);
	spry_test_check(
	    spry_setopt(req, SPRY_OPT_RESENDTIME, SPRY_DURATION(-1)), 0);
	spry_test_check(spry_getopt(req, SPRY_OPT_RESENDTIME, &d), 0);
	assert_true(d.u.d == -1);
	spry_test_check(spry_setopt(req, SPRY_OPT_RESENDTIME,
	                    SPRY_DURATION(SPRY_MSEC(250))),
	    0);
	spry_test_check(spry_getopt(req, SPRY_OPT_RESENDTIME, &d), 0);
	assert_true(d.u.d == SPRY_MSEC(250));
	/* Only cooked REQ resends. */
	spry_test_check(
	    spry_getopt(raw, SPRY_OPT_RESENDTIME, &d), SPRY_ENOTSUP);
	spry_test_check(
	    spry_setopt(rep, SPRY_OPT_RESENDTIME, SPRY_DURATION(SPRY_SEC(1))),
	    SPRY_ENOTSUP);
	spry_test_check(
	    spry_setopt(rep, SPRY_OPT_SURVEYTIME, SPRY_DURATION(SPRY_SEC(1))),
	    SPRY_ENOTSUP);
	spry_test_check(
	    spry_setopt(req, SPRY_OPT_SUBSCRIBE, SPRY_BYTES("", 0)),
	    SPRY_ENOTSUP);
	spry_close(req);
	spry_close(raw);
	spry_close(rep);
}

static void
test_maxttl_is_1_to_255(void **state)
{
	spry_socket *s[3];
	spry_optval  i = {.type = SPRY_TYPE_INT};

	(void)state;
	s[0] = open_sock(SPRY_REQ0, false);
	s[1] = open_sock(SPRY_REQ0, true);
	s[2] = open_sock(SPRY_REP0, false);
	for (int k = 0; k < 3; k++) {
		spry_test_check(spry_getopt(s[k], SPRY_OPT_MAXTTL, &i), 0);
		assert_int_equal(i.u.i, 8);
		spry_test_check(
		    spry_setopt(s[k], SPRY_OPT_MAXTTL, SPRY_INT(0)),
		    SPRY_EINVAL);
		spry_test_check(
		    spry_setopt(s[k], SPRY_OPT_MAXTTL, SPRY_INT(256)),
		    SPRY_EINVAL);
		spry_test_check(
		    spry_setopt(s[k], SPRY_OPT_MAXTTL, SPRY_BOOL(true)),
		    SPRY_EBADTYPE);
		spry_test_check(
		    spry_setopt(s[k], SPRY_OPT_MAXTTL, SPRY_INT(255)), 0);
		spry_test_check(spry_getopt(s[k], SPRY_OPT_MAXTTL, &i), 0);
		assert_int_equal(i.u.i, 255);
		spry_close(s[k]);
	}
}

/* ---- raw mode ----------------------------------------------------------- */

static void
test_raw_sockets_show_and_take_headers(void **state)
{
	spry_socket *req, *rep;
	spry_msg    *m;
	uint32_t     pipe;

	(void)state;
	pair_up("inproc://rr-raw", &req, true, &rep, true);
	/* Raw REQ sends only what carries a backtrace. */
	m = spry_test_u32_msg(1);
	spry_test_check(spry_send(req, m, 0), SPRY_EINVAL);
	assert_int_equal(spry_msg_header_append(m, "abc", 3), 0);
	spry_test_check(spry_send(req, m, 0), SPRY_EINVAL);
	spry_msg_free(m);
	/* It goes as it is; raw REP pushes the pipe id in front. */
	spry_test_check(spry_send(req, raw_request(2, 7), 0), 0);
	spry_test_check(spry_recv(rep, &m, 0), 0);
	assert_int_equal(spry_msg_header_len(m), 12);
	pipe = hdr_word(m, 0);
	assert_int_equal(pipe, spry_msg_pipe(m));
	assert_int_equal(hdr_word(m, 1), 1);
	assert_int_equal(hdr_word(m, 2), 0x80000007u);
	/* Raw REP routes by the first word and sends the rest. */
	spry_test_check(spry_send(rep, m, 0), 0);
	spry_test_check(spry_recv(req, &m, 0), 0);
	assert_int_equal(spry_msg_header_len(m), 8);
	assert_int_equal(hdr_word(m, 0), 1);
	assert_int_equal(hdr_word(m, 1), 0x80000007u);
	assert_int_equal(val_of(m), 7);
	/* No state: raw REQ never says SPRY_ESTATE. */
	spry_test_check(spry_recv(req, &m, SPRY_FLAG_NONBLOCK), SPRY_EAGAIN);
	/* Raw REP has no last request; a gone pipe drops the reply. */
	m = spry_test_u32_msg(2);
	spry_test_check(spry_send(rep, m, 0), SPRY_EINVAL);
	assert_int_equal(spry_msg_header_append_u32(m, pipe ^ 0x1234u), 0);
	assert_int_equal(spry_msg_header_append_u32(m, 0x80000001u), 0);
	spry_test_check(spry_send(rep, m, 0), 0);
	assert_int_equal(stats_of(rep).dropped, 1);
	spry_close(req);
	spry_close(rep);
}

static void
test_a_reply_for_a_gone_requester_is_dropped(void **state)
{
	spry_socket  *req, *rep;
	spry_mailbox *ev;
	spry_msg     *m;

	(void)state;
	pair_up("inproc://rr-gone", &req, false, &rep, false);
	assert_int_equal(spry_mailbox_open(&ev, 16), 0);
	spry_test_check(spry_socket_subscribe(rep, ev, true), 0);
	spry_test_check(spry_send(req, spry_test_u32_msg(1), 0), 0);
	m = mb_recv_data(ev);
	spry_close(req);
	await_event(ev, SPRY_PIPE_REM);
	spry_test_check(spry_send(rep, m, 0), 0);
	assert_int_equal(stats_of(rep).dropped, 1);
	spry_close(rep);
	mb_drop(ev);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(test_identity, up, down),
	    cmocka_unit_test_setup_teardown(
	        test_round_trip_routes_by_the_header, up, down),
	    cmocka_unit_test_setup_teardown(
	        test_req_recv_without_a_request_is_estate, up, down),
	    cmocka_unit_test_setup_teardown(
	        test_rep_send_without_a_request_is_estate, up, down),
	    cmocka_unit_test_setup_teardown(
	        test_a_waiting_reply_keeps_its_requester, up, down),
	    cmocka_unit_test_setup_teardown(
	        test_a_new_request_cancels_the_old_one, up, down),
	    cmocka_unit_test_setup_teardown(
	        test_a_request_is_resent_after_the_resend_time, up, down),
	    cmocka_unit_test_setup_teardown(
	        test_a_request_is_resent_when_its_pipe_closes, up, down),
	    cmocka_unit_test_setup_teardown(
	        test_many_requesters_share_one_socket, up, down),
	    cmocka_unit_test_setup_teardown(
	        test_backtraces_deeper_than_maxttl_are_dropped, up, down),
	    cmocka_unit_test_setup_teardown(
	        test_malformed_headers_close_the_pipe, up, down),
	    cmocka_unit_test_setup_teardown(
	        test_a_wrong_peer_is_rejected, up, down),
	    cmocka_unit_test_setup_teardown(
	        test_close_wakes_blocked_receivers, up, down),
	    cmocka_unit_test_setup_teardown(
	        test_close_tells_pending_reply_mailboxes, up, down),
	    cmocka_unit_test_setup_teardown(
	        test_nonblocking_calls_say_eagain, up, down),
	    cmocka_unit_test_setup_teardown(test_receive_timeouts, up, down),
	    cmocka_unit_test_setup_teardown(
	        test_a_ctx_cancels_blocked_receivers, up, down),
	    cmocka_unit_test_setup_teardown(
	        test_options_are_checked, up, down),
	    cmocka_unit_test_setup_teardown(test_maxttl_is_1_to_255, up, down),
	    cmocka_unit_test_setup_teardown(
	        test_raw_sockets_show_and_take_headers, up, down),
	    cmocka_unit_test_setup_teardown(
	        test_a_reply_for_a_gone_requester_is_dropped, up, down),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
