/* SPDX-License-Identifier: MIT */
/*
 * tests/sp/test_pair.c: PAIR0 and PAIR1 (monogamous) over inproc: the
 * NNG checklist (identity, exchange, wrong peer, a second peer refused
 * until the first leaves, backpressure with no peer, close wakes
 * waiters, timeouts, cancellation, options) run for both versions, and
 * PAIR1's own: the hop count on the wire (seen through raw sockets),
 * MAXTTL drops on both sides, and a malformed header closing the pipe.
 * Nothing here sleeps to synchronize or asserts a duration.
 */
#include "tests/support/support.h"
#include "sp/socket.h"

#include <pthread.h>
#include <sched.h>
#include <stdio.h>
#include <string.h>

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

/* Both PAIR versions, for the tests they share. */
static const int pair_protos[] = {SPRY_PAIR0, SPRY_PAIR1};

#define FOR_EACH_PAIR(p)                                                      \
	for (size_t i_ = 0;                                                   \
	     i_ < sizeof(pair_protos) / sizeof(pair_protos[0]) &&             \
	     ((p) = pair_protos[i_], 1);                                      \
	     i_++)

/* The value of a message that holds exactly one word (freed). */
static uint32_t
val_of(spry_msg *m)
{
	assert_int_equal(spry_msg_len(m), 4);
	return spry_test_u32_val(m);
}

/* A raw PAIR1 message: hop word hops in the header, v in the body. */
static spry_msg *
raw_msg(uint32_t hops, uint32_t v)
{
	spry_msg *m = spry_test_u32_msg(v);

	assert_int_equal(spry_msg_header_append_u32(m, hops), 0);
	return m;
}

/* The hop word of a raw PAIR1 message. */
static uint32_t
hops_of(spry_msg *m)
{
	const uint8_t *h = spry_msg_header(m);

	assert_int_equal(spry_msg_header_len(m), 4);
	return (uint32_t)h[0] << 24 | (uint32_t)h[1] << 16 |
	    (uint32_t)h[2] << 8 | h[3];
}

static spry_socket *
open_pair(int proto, bool raw)
{
	spry_socket_opts o = SPRY_SOCKET_OPTS_INIT;
	spry_socket     *s;

	o.raw = raw;
	assert_int_equal(spry_socket_open(&s, proto, &o), 0);
	return s;
}

/* Two sockets: *a listens on url, *b dials it. */
static void
join(const char *url, spry_socket *a, spry_socket *b)
{
	spry_test_check(spry_listen(a, url, NULL), 0);
	spry_test_check(spry_dial(b, url, NULL, 0), 0);
}

/* Receive from a mailbox, with a hang guard of 20 s. */
static spry_msg *
mb_get(spry_mailbox *mb)
{
	spry_ctx *ctx;
	void     *item = NULL;

	assert_int_equal(spry_ctx_with_timeout(&ctx, NULL, SPRY_SEC(20)), 0);
	spry_test_check(spry_mailbox_recv(ctx, mb, &item), 0);
	spry_ctx_cancel(ctx);
	spry_ctx_release(ctx);
	return item;
}

static uint64_t
stat_of(spry_socket *s, size_t off)
{
	spry_socket_stats st;

	spry_socket_stats_get(s, &st);
	return off == offsetof(spry_socket_stats, pipes) ?
	    st.pipes :
	    *(uint64_t *)((char *)&st + off);
}

#define STAT(s, f) stat_of((s), offsetof(spry_socket_stats, f))

static int
getint(spry_socket *s, int opt)
{
	spry_optval v = SPRY_INT(0);

	spry_test_check(spry_getopt(s, opt, &v), 0);
	return v.u.i;
}

/* ---- the checklist, both versions -------------------------------------- */

static void
test_identity_is_pair_on_both_ends(void **state)
{
	spry_optval b = SPRY_BOOL(false);
	int         proto;

	(void)state;
	FOR_EACH_PAIR(proto)
	{
		for (int raw = 0; raw < 2; raw++) {
			spry_socket *s = open_pair(proto, raw);

			assert_int_equal(getint(s, SPRY_OPT_PROTO), proto);
			assert_int_equal(getint(s, SPRY_OPT_PEER), proto);
			assert_int_equal(spry_socket_proto(s), proto);
			assert_int_equal(spry_socket_peer(s), proto);
			spry_test_check(spry_getopt(s, SPRY_OPT_RAW, &b), 0);
			assert_int_equal(b.u.b, raw);
			assert_non_null(spry_socket_sendbox(s, NULL));
			assert_non_null(spry_socket_recvbox(s, NULL));
			spry_close(s);
		}
	}
}

/*
 * n messages each way, in order, without headers left on cooked ones;
 * in rounds of 8, which the buffers hold without a receiver.
 */
static void
exchange(spry_socket *a, spry_socket *b, uint32_t n)
{
	spry_msg *m;

	for (uint32_t r = 0; r < n; r += 8) {
		for (uint32_t i = r; i < r + 8 && i < n; i++) {
			spry_test_check(
			    spry_send(a, spry_test_u32_msg(i), 0), 0);
			spry_test_check(
			    spry_send(b, spry_test_u32_msg(i + n), 0), 0);
		}
		for (uint32_t i = r; i < r + 8 && i < n; i++) {
			spry_test_check(spry_recv(b, &m, 0), 0);
			assert_ptr_equal(spry_msg_socket(m), b);
			assert_int_equal(spry_msg_header_len(m), 0);
			assert_int_equal(val_of(m), i);
			spry_test_check(spry_recv(a, &m, 0), 0);
			assert_int_equal(spry_msg_header_len(m), 0);
			assert_int_equal(val_of(m), i + n);
		}
	}
}

static void
test_exchange_goes_both_ways_in_order(void **state)
{
	char url[64];
	int  proto;

	(void)state;
	FOR_EACH_PAIR(proto)
	{
		spry_socket *a = open_pair(proto, false);
		spry_socket *b = open_pair(proto, false);

		snprintf(url, sizeof(url), "inproc://pair-xchg-%x", proto);
		join(url, a, b);
		exchange(a, b, 100);
		assert_int_equal(STAT(a, sent), 100);
		assert_int_equal(STAT(a, received), 100);
		assert_int_equal(STAT(b, pipes), 1);
		spry_close(a);
		spry_close(b);
	}
}

static void
test_raw_pair0_is_plain_pair0(void **state)
{
	spry_socket *a = open_pair(SPRY_PAIR0, true);
	spry_socket *b = open_pair(SPRY_PAIR0, false);

	(void)state;
	join("inproc://pair0-raw", a, b);
	exchange(a, b, 10);
	spry_close(a);
	spry_close(b);
}

static void
test_other_versions_are_wrong_peers(void **state)
{
	spry_socket *a = open_pair(SPRY_PAIR0, false);
	spry_socket *b = open_pair(SPRY_PAIR1, false);

	(void)state;
	spry_test_check(spry_listen(a, "inproc://pair-wrong", NULL), 0);
	spry_test_check(
	    spry_dial(b, "inproc://pair-wrong", NULL, 0), SPRY_EPROTO);
	assert_int_equal(STAT(a, rejected), 1);
	assert_int_equal(STAT(a, pipes), 0);
	assert_int_equal(STAT(b, pipes), 0);
	spry_close(a);
	spry_close(b);
}

static void
msg_dispose(void *item, void *arg)
{
	(void)arg;
	spry_msg_free(item);
}

/* A mailbox subscribed to s's messages and pipe events. */
static spry_mailbox *
events_of(spry_socket *s)
{
	spry_mailbox_opts o = SPRY_MAILBOX_OPTS_INIT;
	spry_mailbox     *ev;

	o.capacity   = 64;
	o.dispose_cb = msg_dispose; /* the close event, and any left */
	assert_int_equal(spry_mailbox_open_opts(&ev, &o), 0);
	spry_test_check(spry_socket_subscribe(s, ev, true), 0);
	return ev;
}

/* Wait on ev for a pipe event of this kind, skipping others. */
static void
await_event(spry_mailbox *ev, int kind)
{
	for (;;) {
		spry_msg *m   = mb_get(ev);
		int       err = spry_msg_err(m);

		spry_msg_free(m);
		if (err == kind) {
			return;
		}
	}
}

/*
 * a listens, b is its peer; c is refused while b is there, keeps
 * redialing in the background, and gets in once b has gone.
 */
static void
second_peer(int proto, const char *url)
{
	spry_socket  *a = open_pair(proto, false);
	spry_socket  *b = open_pair(proto, false);
	spry_socket  *c = open_pair(proto, false);
	spry_mailbox *ev;
	spry_msg     *m;

	spry_test_check(
	    spry_setopt(c, SPRY_OPT_RECONNMINT, SPRY_DURATION(SPRY_MSEC(2))),
	    0);
	join(url, a, b);
	assert_int_not_equal(spry_dial(c, url, NULL, 0), 0);
	assert_int_equal(STAT(a, rejected), 1);
	assert_int_equal(STAT(a, pipes), 1);
	assert_int_equal(STAT(c, pipes), 0);
	ev = events_of(a);
	spry_test_check(spry_dial(c, url, NULL, SPRY_FLAG_NONBLOCK), 0);
	spry_close(b);
	await_event(ev, SPRY_PIPE_REM);
	await_event(ev, SPRY_PIPE_ADD);
	assert_int_equal(STAT(a, pipes), 1);
	spry_test_check(spry_send(c, spry_test_u32_msg(7), 0), 0);
	for (m = mb_get(ev); spry_msg_err(m) != 0; m = mb_get(ev)) {
		spry_msg_free(m); /* a refused attempt's events, if any */
	}
	assert_int_equal(val_of(m), 7);
	spry_close(a);
	spry_close(c);
	spry_mailbox_release(ev);
}

static void
test_second_peer_is_refused_until_the_first_leaves(void **state)
{
	(void)state;
	second_peer(SPRY_PAIR0, "inproc://pair0-second");
	second_peer(SPRY_PAIR1, "inproc://pair1-second");
}

/* A thread blocked in a send or a receive, and what it got. */
typedef struct blocked {
	spry_socket *s;    /* the socket (held by the test) */
	spry_ctx    *ctx;  /* NULL: the socket's timeouts */
	bool         send; /* send (a message of value 99) or receive */
	int          rv;   /* the call's result */
} blocked;

static void *
blocked_run(void *arg)
{
	blocked  *b = arg;
	spry_msg *m = NULL;

	if (b->send) {
		m     = spry_test_u32_msg(99);
		b->rv = b->ctx != NULL ? spry_send_ctx(b->ctx, b->s, m) :
		                         spry_send(b->s, m, 0);
		if (b->rv == 0) {
			m = NULL;
		}
	} else {
		b->rv = b->ctx != NULL ? spry_recv_ctx(b->ctx, b->s, &m) :
		                         spry_recv(b->s, &m, 0);
	}
	spry_msg_free(m);
	return NULL;
}

/*
 * A socket with no peer and the smallest send buffer, made full: the
 * actor holds message 1 (it waits for a peer), the buffer messages 2 to
 * *n (NULL: not wanted). Nothing drains it until a peer comes.
 */
static spry_socket *
open_full(int proto, uint32_t *n)
{
	spry_socket_opts o = SPRY_SOCKET_OPTS_INIT;
	spry_socket     *s;
	spry_msg        *m;
	spry_time        guard = spry_deadline_after(SPRY_SEC(20));
	uint32_t         v     = 1;

	o.sendbuf = 1;
	assert_int_equal(spry_socket_open(&s, proto, &o), 0);
	spry_test_check(
	    spry_send(s, spry_test_u32_msg(v), SPRY_FLAG_NONBLOCK), 0);
	/* Only the actor empties the buffer: then it holds message 1. */
	while (spry_mailbox_len(spry_socket_sendbox(s, NULL)) != 0) {
		assert_true(spry_now() < guard);
		sched_yield();
	}
	while (spry_send(s, (m = spry_test_u32_msg(v + 1)),
	           SPRY_FLAG_NONBLOCK) == 0) {
		v++;
	}
	spry_msg_free(m);
	assert_true(v > 1);
	if (n != NULL) {
		*n = v;
	}
	return s;
}

/*
 * With no peer a send waits: once the buffer is full the next send gets
 * EAGAIN, ETIMEDOUT or blocks, and a peer that connects gets them all,
 * in order.
 */
static void
no_peer(int proto, const char *url)
{
	uint32_t     n;
	spry_socket *a = open_full(proto, &n);
	spry_socket *b = open_pair(proto, false);
	blocked      w = {a, NULL, true, -1};
	spry_msg    *m = spry_test_u32_msg(n + 1);
	pthread_t    t;

	spry_test_check(spry_send(a, m, SPRY_FLAG_NONBLOCK), SPRY_EAGAIN);
	spry_test_check(
	    spry_setopt(a, SPRY_OPT_SENDTIMEO, SPRY_DURATION(SPRY_MSEC(5))),
	    0);
	spry_test_check(spry_send(a, m, 0), SPRY_ETIMEDOUT);
	spry_msg_free(m);
	spry_test_check(
	    spry_setopt(a, SPRY_OPT_SENDTIMEO, SPRY_DURATION(-1)), 0);
	assert_int_equal(pthread_create(&t, NULL, blocked_run, &w), 0);
	assert_true(spry_test_await_waiters(
	    spry_socket_sendbox(a, NULL), SPRY_SELECT_SEND, 1));
	join(url, b, a);
	pthread_join(t, NULL);
	spry_test_check(w.rv, 0);
	for (uint32_t want = 1; want <= n; want++) {
		spry_test_check(spry_recv(b, &m, 0), 0);
		assert_int_equal(val_of(m), want);
	}
	spry_test_check(spry_recv(b, &m, 0), 0);
	assert_int_equal(val_of(m), 99);
	spry_close(a);
	spry_close(b);
}

static void
test_send_waits_for_a_peer(void **state)
{
	(void)state;
	no_peer(SPRY_PAIR0, "inproc://pair0-nopeer");
	no_peer(SPRY_PAIR1, "inproc://pair1-nopeer");
}

static void
test_close_wakes_blocked_senders_and_receivers(void **state)
{
	int proto;

	(void)state;
	FOR_EACH_PAIR(proto)
	{
		spry_socket *s = open_full(proto, NULL);
		blocked      r = {s, NULL, false, -1}, w = {s, NULL, true, -1};
		pthread_t    t1, t2;

		spry_socket_hold(s);
		assert_int_equal(
		    pthread_create(&t1, NULL, blocked_run, &r), 0);
		assert_int_equal(
		    pthread_create(&t2, NULL, blocked_run, &w), 0);
		assert_true(spry_test_await_waiters(
		    spry_socket_recvbox(s, NULL), SPRY_SELECT_RECV, 1));
		assert_true(spry_test_await_waiters(
		    spry_socket_sendbox(s, NULL), SPRY_SELECT_SEND, 1));
		spry_test_check(spry_close(s), 0);
		pthread_join(t1, NULL);
		pthread_join(t2, NULL);
		spry_test_check(r.rv, SPRY_ECLOSED);
		spry_test_check(w.rv, SPRY_ECLOSED);
		spry_socket_release(s);
	}
}

static void
test_nonblocking_receive_and_timeout(void **state)
{
	spry_msg *m = NULL;
	int       proto;

	(void)state;
	FOR_EACH_PAIR(proto)
	{
		spry_socket *s = open_pair(proto, false);

		spry_test_check(
		    spry_recv(s, &m, SPRY_FLAG_NONBLOCK), SPRY_EAGAIN);
		spry_test_check(spry_setopt(s, SPRY_OPT_RECVTIMEO,
		                    SPRY_DURATION(SPRY_MSEC(5))),
		    0);
		spry_test_check(spry_recv(s, &m, 0), SPRY_ETIMEDOUT);
		assert_null(m);
		spry_close(s);
	}
}

static void
test_ctx_cancels_blocked_receive_and_send(void **state)
{
	int proto;

	(void)state;
	FOR_EACH_PAIR(proto)
	{
		spry_socket *s = open_full(proto, NULL);
		spry_ctx    *ctx;
		blocked      r = {s, NULL, false, -1}, w = {s, NULL, true, -1};
		pthread_t    t1, t2;

		assert_int_equal(spry_ctx_with_cancel(&ctx, NULL), 0);
		r.ctx = w.ctx = ctx;
		assert_int_equal(
		    pthread_create(&t1, NULL, blocked_run, &r), 0);
		assert_int_equal(
		    pthread_create(&t2, NULL, blocked_run, &w), 0);
		assert_true(spry_test_await_waiters(
		    spry_socket_recvbox(s, NULL), SPRY_SELECT_RECV, 1));
		assert_true(spry_test_await_waiters(
		    spry_socket_sendbox(s, NULL), SPRY_SELECT_SEND, 1));
		spry_ctx_cancel(ctx);
		pthread_join(t1, NULL);
		pthread_join(t2, NULL);
		spry_test_check(r.rv, SPRY_ECANCELED);
		spry_test_check(w.rv, SPRY_ECANCELED);
		spry_ctx_release(ctx);
		spry_close(s);
	}
}

static void
test_options_are_checked(void **state)
{
	int proto;

	(void)state;
	FOR_EACH_PAIR(proto)
	{
		spry_socket *s = open_pair(proto, false);

		spry_test_check(
		    spry_setopt(s, SPRY_OPT_MAXTTL, SPRY_INT(0)), SPRY_EINVAL);
		spry_test_check(spry_setopt(s, SPRY_OPT_MAXTTL, SPRY_INT(256)),
		    SPRY_EINVAL);
		spry_test_check(
		    spry_setopt(s, SPRY_OPT_MAXTTL, SPRY_BOOL(true)),
		    SPRY_EBADTYPE);
		spry_test_check(
		    spry_setopt(s, SPRY_OPT_MAXTTL, SPRY_INT(3)), 0);
		assert_int_equal(getint(s, SPRY_OPT_MAXTTL), 3);
		spry_test_check(spry_setopt(s, SPRY_OPT_RESENDTIME,
		                    SPRY_DURATION(SPRY_SEC(1))),
		    SPRY_ENOTSUP);
		spry_test_check(
		    spry_setopt(s, SPRY_OPT_SUBSCRIBE, SPRY_BYTES("", 0)),
		    SPRY_ENOTSUP);
		spry_test_check(
		    spry_setopt(s, SPRY_OPT_RECVTIMEO, SPRY_INT(1)),
		    SPRY_EBADTYPE);
		spry_test_check(spry_setopt(s, SPRY_OPT_RAW, SPRY_BOOL(true)),
		    SPRY_EREADONLY);
		spry_close(s);
	}
}

/* ---- PAIR1's hop count ----------------------------------------------- */

static void
test_pair1_cooked_send_puts_one_hop_on_the_wire(void **state)
{
	spry_socket *raw    = open_pair(SPRY_PAIR1, true);
	spry_socket *cooked = open_pair(SPRY_PAIR1, false);
	spry_msg    *m      = spry_test_u32_msg(5);

	(void)state;
	join("inproc://pair1-wire", raw, cooked);
	/* A header the application left is replaced, not kept. */
	assert_int_equal(spry_msg_header_append_u32(m, 0xdeadbeef), 0);
	spry_test_check(spry_send(cooked, m, 0), 0);
	spry_test_check(spry_recv(raw, &m, 0), 0);
	assert_int_equal(hops_of(m), 1);
	assert_int_equal(val_of(m), 5);
	/* Raw to cooked: one more hop, stripped on arrival. */
	spry_test_check(spry_send(raw, raw_msg(0, 6), 0), 0);
	spry_test_check(spry_recv(cooked, &m, 0), 0);
	assert_int_equal(spry_msg_header_len(m), 0);
	assert_int_equal(val_of(m), 6);
	spry_close(raw);
	spry_close(cooked);
}

static void
test_pair1_raw_send_counts_a_hop_and_checks_the_header(void **state)
{
	spry_socket *a = open_pair(SPRY_PAIR1, true);
	spry_socket *b = open_pair(SPRY_PAIR1, true);
	spry_msg    *m = spry_test_u32_msg(1);

	(void)state;
	join("inproc://pair1-rawraw", a, b);
	spry_test_check(spry_send(a, m, 0), SPRY_EINVAL); /* no word */
	spry_msg_free(m);
	m = raw_msg(0x100, 1); /* upper bits set */
	spry_test_check(spry_send(a, m, 0), SPRY_EINVAL);
	spry_msg_free(m);
	spry_test_check(spry_send(a, raw_msg(3, 2), 0), 0);
	spry_test_check(spry_recv(b, &m, 0), 0);
	assert_int_equal(hops_of(m), 4);
	assert_int_equal(val_of(m), 2);
	spry_close(a);
	spry_close(b);
}

static void
test_pair1_drops_messages_past_maxttl(void **state)
{
	spry_socket *a = open_pair(SPRY_PAIR1, true);
	spry_socket *b = open_pair(SPRY_PAIR1, true);
	spry_msg    *m;

	(void)state;
	join("inproc://pair1-ttl", a, b);
	spry_test_check(spry_setopt(b, SPRY_OPT_MAXTTL, SPRY_INT(3)), 0);
	/* Arrives with 4 hops: b drops it; with 3, it takes it. */
	spry_test_check(spry_send(a, raw_msg(3, 1), 0), 0);
	spry_test_check(spry_send(a, raw_msg(2, 2), 0), 0);
	spry_test_check(spry_recv(b, &m, 0), 0);
	assert_int_equal(hops_of(m), 3);
	assert_int_equal(val_of(m), 2); /* same pipe, in order: 1 is gone */
	assert_int_equal(STAT(b, dropped), 1);
	assert_int_equal(STAT(b, pipes), 1);
	/* A forward that would pass a's own limit never leaves a. */
	spry_test_check(spry_setopt(a, SPRY_OPT_MAXTTL, SPRY_INT(2)), 0);
	spry_test_check(spry_send(a, raw_msg(2, 3), 0), 0);
	assert_int_equal(STAT(a, dropped), 1);
	spry_test_check(spry_send(a, raw_msg(1, 4), 0), 0);
	spry_test_check(spry_recv(b, &m, 0), 0);
	assert_int_equal(val_of(m), 4);
	assert_int_equal(STAT(a, sent), 3);
	spry_close(a);
	spry_close(b);
}

/*
 * Deliver a wire message to s's one pipe, as a misbehaving peer's
 * transport would: PAIR1 peers always send the hop word, so no socket
 * can produce these.
 */
static void
deliver_raw_wire(spry_socket *s, const void *bytes, size_t n)
{
	spry__pipe *p;
	spry_msg   *m;

	assert_int_equal(spry_msg_alloc(&m, 0), 0);
	assert_int_equal(spry_msg_append(m, bytes, n), 0);
	spry__sock_lock(s);
	p = s->pipes;
	assert_non_null(p);
	spry__pipe_hold(p);
	spry__sock_unlock(s);
	spry_test_check(spry__pipe_deliver(p, m), 0);
	spry__pipe_release(p);
}

/*
 * A malformed word closes the pipe (the message goes nowhere) and the
 * peer's dialer comes back: both kinds of malformed.
 */
static void
test_pair1_malformed_header_closes_the_pipe(void **state)
{
	static const uint8_t short_word[] = {0, 1};
	static const uint8_t high_bits[]  = {0, 0, 1, 1, 'x'};
	spry_socket         *a            = open_pair(SPRY_PAIR1, false);
	spry_socket         *b            = open_pair(SPRY_PAIR1, false);
	spry_mailbox        *ev;

	(void)state;
	spry_test_check(
	    spry_setopt(b, SPRY_OPT_RECONNMINT, SPRY_DURATION(SPRY_MSEC(2))),
	    0);
	join("inproc://pair1-bad", a, b);
	ev = events_of(a);
	deliver_raw_wire(a, short_word, sizeof(short_word));
	assert_int_equal(STAT(a, malformed), 1);
	await_event(ev, SPRY_PIPE_REM);
	await_event(ev, SPRY_PIPE_ADD); /* b redialed */
	deliver_raw_wire(a, high_bits, sizeof(high_bits));
	assert_int_equal(STAT(a, malformed), 2);
	await_event(ev, SPRY_PIPE_REM);
	assert_int_equal(STAT(a, received), 0);
	spry_close(a);
	spry_close(b);
	spry_mailbox_release(ev);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(
	        test_identity_is_pair_on_both_ends, up, down),
	    cmocka_unit_test_setup_teardown(
	        test_exchange_goes_both_ways_in_order, up, down),
	    cmocka_unit_test_setup_teardown(
	        test_raw_pair0_is_plain_pair0, up, down),
	    cmocka_unit_test_setup_teardown(
	        test_other_versions_are_wrong_peers, up, down),
	    cmocka_unit_test_setup_teardown(
	        test_second_peer_is_refused_until_the_first_leaves, up, down),
	    cmocka_unit_test_setup_teardown(
	        test_send_waits_for_a_peer, up, down),
	    cmocka_unit_test_setup_teardown(
	        test_close_wakes_blocked_senders_and_receivers, up, down),
	    cmocka_unit_test_setup_teardown(
	        test_nonblocking_receive_and_timeout, up, down),
	    cmocka_unit_test_setup_teardown(
	        test_ctx_cancels_blocked_receive_and_send, up, down),
	    cmocka_unit_test_setup_teardown(
	        test_options_are_checked, up, down),
	    cmocka_unit_test_setup_teardown(
	        test_pair1_cooked_send_puts_one_hop_on_the_wire, up, down),
	    cmocka_unit_test_setup_teardown(
	        test_pair1_raw_send_counts_a_hop_and_checks_the_header, up,
	        down),
	    cmocka_unit_test_setup_teardown(
	        test_pair1_drops_messages_past_maxttl, up, down),
	    cmocka_unit_test_setup_teardown(
	        test_pair1_malformed_header_closes_the_pipe, up, down),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
