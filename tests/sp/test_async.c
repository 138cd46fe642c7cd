/* SPDX-License-Identifier: MIT */
/*
 * tests/sp/test_async.c: the async API of the seed PRD (AA-1..AA-6,
 * NF-2..NF-4), its tests named after the seed's: socket mailboxes,
 * ctx-bound calls, select and fan-in, mixed blocking and mailbox use,
 * close, one test per row of the seed's pattern table, and a stress run
 * with random cancels and closes where every message is accounted for.
 * Every test ends with spry_test_down, which fails on any live
 * allocation (NF-2). The tests that join sockets run once per transport
 * (inproc, tcp and ipc loopback, each its own group); the others do not
 * touch one and run once. Nothing sleeps to synchronize.
 */
#include "tests/support/support.h"

#include "transports/stream.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define GUARD SPRY_SEC(30) /* hang guard: only a bug waits this long */

/* The transport the joining tests run over, set before each group. */
typedef enum { OVER_INPROC, OVER_TCP, OVER_IPC } over_kind;

static over_kind over;

static int
up(void **state)
{
	return spry_test_up(state);
}

/* tcp and ipc connections retire on the I/O thread: wait for them. */
static int
down(void **state)
{
	if (over != OVER_INPROC &&
	    !spry__stream_quiesce(spry_deadline_after(GUARD))) {
		fail_msg("%lld stream objects still live",
		    (long long)spry__stream_live());
	}
	return spry_test_down(state);
}

/*
 * Listen on s at a fresh address of the group's transport named after
 * name; the address to dial (a tcp port read back) goes into url.
 */
static void
listen_fresh(spry_socket *s, const char *name, char *url, size_t len)
{
	static unsigned seq;
	spry_listener  *l;
	char            want[128];

	switch (over) {
	case OVER_INPROC:
		snprintf(
		    want, sizeof(want), "inproc://async-%s-%u", name, seq);
		break;
	case OVER_TCP:
		snprintf(want, sizeof(want), "tcp://127.0.0.1:0");
		break;
	case OVER_IPC:
		snprintf(want, sizeof(want),
		    "ipc:///tmp/spry-async-%d-%u.sock", (int)getpid(), seq);
		(void)unlink(want + strlen("ipc://"));
		break;
	}
	seq++;
	spry_test_check(spry_listen(s, want, &l), 0);
	spry_test_check(spry_listener_url(l, url, len), 0);
}

/*
 * Wait until s has n pipes (PIPES), or has handed at least n messages to
 * its consumers (RECEIVED). A dial returns once its own end is up; over
 * tcp and ipc the listener's end may join a moment later (and what a
 * listening PUB sends before then does not reach that peer), and what
 * was sent may still be on its way.
 */
typedef enum { PIPES, RECEIVED } stat_wait;

static void
await_stat(spry_socket *s, stat_wait what, uint64_t n)
{
	spry_time         limit = spry_deadline_after(GUARD);
	spry_socket_stats st;
	uint64_t          v;

	for (;;) {
		spry_socket_stats_get(s, &st);
		v = what == PIPES ? st.pipes : st.received;
		if (what == PIPES ? v == n : v >= n) {
			return;
		}
		if (spry_now() > limit) {
			fail_msg("%s %llu, not %llu",
			    what == PIPES ? "pipes" : "received",
			    (unsigned long long)v, (unsigned long long)n);
		}
		sched_yield();
	}
}

static void
msg_dispose(void *item, void *arg)
{
	(void)arg;
	spry_msg_free(item);
}

/*
 * Two sockets of protocols a and b, b listening at a fresh address named
 * after name, a dialing it, both ends' pipes up.
 */
static void
join(const char *name, int a, spry_socket **sa, int b, spry_socket **sb)
{
	char url[SPRY__URL_FORMAT_SIZE];

	assert_int_equal(spry_socket_open(sa, a, NULL), 0);
	assert_int_equal(spry_socket_open(sb, b, NULL), 0);
	listen_fresh(*sb, name, url, sizeof(url));
	spry_test_check(spry_dial(*sa, url, NULL, 0), 0);
	await_stat(*sb, PIPES, 1);
}

static void
test_send_mailbox_basic(void **state)
{
	spry_socket *push, *pull;

	(void)state;
	join("send", SPRY_PUSH0, &push, SPRY_PULL0, &pull);
	for (uint32_t i = 0; i < 100; i++) {
		spry_msg *m;

		spry_test_check(
		    spry_mailbox_trysend(
		        spry_socket_sendbox(push, NULL), spry_test_u32_msg(i)),
		    0);
		spry_test_check(spry_recv(pull, &m, 0), 0);
		assert_int_equal(spry_test_u32_val(m), i);
	}
	spry_close(push);
	spry_close(pull);
}

static void
test_recv_mailbox_basic(void **state)
{
	spry_socket  *push, *pull;
	spry_mailbox *rb;
	void         *item;

	(void)state;
	join("recv", SPRY_PUSH0, &push, SPRY_PULL0, &pull);
	rb = spry_socket_recvbox(pull, NULL);
	for (uint32_t i = 0; i < 100; i++) {
		spry_test_check(spry_send(push, spry_test_u32_msg(i), 0), 0);
		spry_test_check(spry_mailbox_recv(NULL, rb, &item), 0);
		assert_ptr_equal(spry_msg_socket(item), pull);
		assert_int_equal(spry_test_u32_val(item), i);
	}
	spry_close(push);
	spry_close(pull);
}

static void
test_send_ctx_cancel(void **state)
{
	spry_socket *push;
	spry_ctx    *ctx;
	spry_msg    *m;
	int          rv;

	(void)state;
	assert_int_equal(spry_socket_open(&push, SPRY_PUSH0, NULL), 0);
	assert_int_equal(spry_ctx_with_cancel(&ctx, NULL), 0);
	spry_ctx_cancel(ctx);
	/* No peer: the buffers fill; then the canceled ctx answers. */
	while ((rv = spry_send_ctx(ctx, push, (m = spry_test_u32_msg(1)))) ==
	    0) { }
	spry_test_check(rv, SPRY_ECANCELED);
	assert_int_equal(spry_test_u32_val(m), 1); /* still the caller's */
	spry_ctx_release(ctx);
	spry_close(push);
}

static void
test_recv_ctx_timeout(void **state)
{
	spry_socket *pull;
	spry_ctx    *t, *c;
	spry_msg    *m;

	(void)state;
	assert_int_equal(spry_socket_open(&pull, SPRY_PULL0, NULL), 0);
	assert_int_equal(spry_ctx_with_timeout(&t, NULL, SPRY_MSEC(10)), 0);
	assert_int_equal(spry_ctx_with_cancel(&c, NULL), 0);
	spry_ctx_cancel(c);
	/* AA-4: three different endings, three different codes. */
	spry_test_check(spry_recv_ctx(t, pull, &m), SPRY_ETIMEDOUT);
	spry_test_check(spry_recv_ctx(c, pull, &m), SPRY_ECANCELED);
	spry_socket_hold(pull);
	spry_close(pull);
	spry_test_check(spry_recv_ctx(NULL, pull, &m), SPRY_ECLOSED);
	spry_socket_release(pull);
	spry_ctx_release(t);
	spry_ctx_release(c);
}

static void
test_mailbox_close(void **state)
{
	spry_socket  *push, *pull;
	spry_mailbox *rb, *sb;
	void         *item;

	(void)state;
	join("close", SPRY_PUSH0, &push, SPRY_PULL0, &pull);
	rb = spry_socket_recvbox(pull, NULL);
	sb = spry_socket_sendbox(push, NULL);
	spry_mailbox_hold(rb);
	spry_mailbox_hold(sb);
	for (uint32_t i = 0; i < 5; i++) {
		spry_test_check(spry_send(push, spry_test_u32_msg(i), 0), 0);
	}
	await_stat(pull, RECEIVED, 5); /* over tcp or ipc, still on the way */
	spry_close(pull);
	spry_close(push);
	/* AA-6: readers drain what was queued, then see closed. */
	for (uint32_t i = 0; i < 5; i++) {
		spry_test_check(spry_mailbox_recv(NULL, rb, &item), 0);
		assert_int_equal(spry_test_u32_val(item), i);
	}
	spry_test_check(spry_mailbox_recv(NULL, rb, &item), SPRY_ECLOSED);
	item = spry_test_u32_msg(9);
	spry_test_check(spry_mailbox_trysend(sb, item), SPRY_ECLOSED);
	spry_msg_free(item);
	assert_true(spry_mailbox_closed(sb));
	spry_mailbox_release(rb);
	spry_mailbox_release(sb);
}

/* ---- mixed sync and async (AA-5) ------------------------------------- */

#define MIX_N 20000u

/* One producer or consumer of the mixed test. */
typedef struct mixer {
	spry_socket *s;
	bool         sync;    /* spry_send/spry_recv, else the mailboxes */
	uint32_t     base;    /* producer: first value (path tag) */
	uint32_t    *seen;    /* consumer: counts per value */
	uint32_t     got;     /* consumer: messages taken */
	uint32_t     last[2]; /* consumer: last value per path, + 1 */
} mixer;

static void *
mix_produce(void *arg)
{
	mixer        *x  = arg;
	spry_mailbox *sb = spry_socket_sendbox(x->s, NULL);

	for (uint32_t i = 0; i < MIX_N; i++) {
		spry_msg *m = spry_test_u32_msg(x->base + i);

		if ((x->sync ? spry_send(x->s, m, 0) :
		               spry_mailbox_send(NULL, sb, m)) != 0) {
			spry_msg_free(m);
		}
	}
	return NULL;
}

static void *
mix_consume(void *arg)
{
	mixer        *x  = arg;
	spry_mailbox *rb = spry_socket_recvbox(x->s, NULL);
	void         *item;

	for (;;) {
		int rv = x->sync ? spry_recv(x->s, (spry_msg **)&item, 0) :
		                   spry_mailbox_recv(NULL, rb, &item);
		uint32_t v, path;

		if (rv != 0) {
			return NULL;
		}
		v    = spry_test_u32_val(item);
		path = v >= MIX_N;
		/* Order kept within each path. */
		if (v + 1 <= x->last[path]) {
			fail_msg("value %u after %u", v, x->last[path] - 1);
		}
		x->last[path] = v + 1;
		__atomic_fetch_add(&x->seen[v], 1, __ATOMIC_RELAXED);
		__atomic_fetch_add(&x->got, 1, __ATOMIC_RELAXED);
	}
}

static void
test_mixed_sync_async(void **state)
{
	spry_socket *push, *pull;
	uint32_t    *seen = calloc(2 * MIX_N, sizeof(*seen));
	mixer        p[2], c[2];
	pthread_t    tp[2], tc[2];

	(void)state;
	assert_non_null(seen);
	join("mixed", SPRY_PUSH0, &push, SPRY_PULL0, &pull);
	spry_socket_hold(pull);
	for (int i = 0; i < 2; i++) {
		p[i] =
		    (mixer){push, i == 0, (uint32_t)i * MIX_N, NULL, 0, {0}};
		c[i] = (mixer){pull, i == 0, 0, seen, 0, {0, 0}};
		assert_int_equal(
		    pthread_create(&tc[i], NULL, mix_consume, &c[i]), 0);
	}
	for (int i = 0; i < 2; i++) {
		assert_int_equal(
		    pthread_create(&tp[i], NULL, mix_produce, &p[i]), 0);
	}
	for (int i = 0; i < 2; i++) {
		pthread_join(tp[i], NULL);
	}
	/* Every message reaches exactly one consumer: wait for all. */
	while (__atomic_load_n(&c[0].got, __ATOMIC_RELAXED) +
	        __atomic_load_n(&c[1].got, __ATOMIC_RELAXED) <
	    2 * MIX_N) {
		sched_yield();
	}
	spry_close(pull);
	for (int i = 0; i < 2; i++) {
		pthread_join(tc[i], NULL);
	}
	for (uint32_t v = 0; v < 2 * MIX_N; v++) {
		if (seen[v] != 1) {
			fail_msg("value %u seen %u times", v, seen[v]);
		}
	}
	assert_true(c[0].got > 0 && c[1].got > 0);
	spry_socket_release(pull);
	spry_close(push);
	free(seen);
}

/* ---- REQ/REP through mailboxes and actors ---------------------------- */

/* A REP worker actor: answers each request with the request itself. */
static int
echo_behavior(spry_actor *self, const spry_event *ev, void *state)
{
	spry_socket *rep = state;

	(void)self;
	if (ev->type == SPRY_EV_MSG) {
		spry_msg *m = ev->msg;

		if (spry_msg_err(m) != 0 ||
		    spry_mailbox_trysend(spry_socket_sendbox(rep, NULL), m) !=
		        0) {
			spry_msg_free(m);
		}
	}
	return SPRY_CONTINUE;
}

static spry_actor *
echo_worker(spry_socket *rep)
{
	spry_actor_opts o = SPRY_ACTOR_OPTS_INIT;
	spry_actor     *a;

	o.behavior   = echo_behavior;
	o.state      = rep;
	o.dispose_cb = msg_dispose;
	assert_int_equal(spry_actor_spawn(&a, &o), 0);
	spry_test_check(
	    spry_socket_subscribe(rep, spry_actor_mailbox(a), false), 0);
	return a;
}

static void
test_async_req_rep(void **state)
{
	spry_socket  *req, *rep;
	spry_mailbox *replies;
	spry_actor   *w[2];
	void         *item;
	int           seen[64] = {0};

	(void)state;
	join("reqrep", SPRY_REQ0, &req, SPRY_REP0, &rep);
	/*
	 * Room for every reply: a worker never blocks, so a reply that
	 * finds the send mailbox full is dropped (and the request resent
	 * after SPRY_OPT_RESENDTIME, a minute). Over tcp or ipc the socket
	 * may take the replies out slower than two workers make them.
	 */
	spry_test_check(spry_setopt(rep, SPRY_OPT_SENDBUF, SPRY_INT(64)), 0);
	for (int i = 0; i < 2; i++) {
		w[i] = echo_worker(rep);
	}
	assert_int_equal(spry_mailbox_open(&replies, 64), 0);
	for (uint32_t i = 0; i < 64; i++) {
		spry_msg *m = spry_test_u32_msg(i);

		spry_test_check(spry_msg_set_reply(m, replies), 0);
		spry_test_check(
		    spry_mailbox_send(NULL, spry_socket_sendbox(req, NULL), m),
		    0);
	}
	for (int n = 0; n < 64; n++) {
		spry_test_check(spry_mailbox_recv(NULL, replies, &item), 0);
		assert_ptr_equal(spry_msg_socket(item), req);
		seen[spry_test_u32_val(item)]++;
	}
	for (int i = 0; i < 64; i++) {
		assert_int_equal(seen[i], 1);
	}
	spry_close(req);
	spry_close(rep);
	for (int i = 0; i < 2; i++) {
		spry_actor_stop(w[i]);
		spry_test_check(spry_actor_wait(NULL, w[i], NULL), 0);
		spry_actor_release(w[i]);
	}
	spry_mailbox_release(replies);
}

static void
test_async_fan_in(void **state)
{
	spry_socket  *push[8], *pull[8];
	spry_mailbox *in;
	void         *item;
	uint32_t      next[8] = {0};

	(void)state;
	assert_int_equal(spry_mailbox_open(&in, 256), 0);
	for (int i = 0; i < 8; i++) {
		join("fanin", SPRY_PUSH0, &push[i], SPRY_PULL0, &pull[i]);
		spry_test_check(spry_socket_subscribe(pull[i], in, false), 0);
		for (uint32_t k = 0; k < 20; k++) {
			spry_test_check(
			    spry_send(push[i], spry_test_u32_msg(k), 0), 0);
		}
	}
	for (int n = 0; n < 8 * 20; n++) {
		int i;

		spry_test_check(spry_mailbox_recv(NULL, in, &item), 0);
		for (i = 0; i < 8 && spry_msg_socket(item) != pull[i]; i++) { }
		assert_true(i < 8);
		assert_int_equal(spry_test_u32_val(item), next[i]++);
	}
	for (int i = 0; i < 8; i++) {
		spry_socket_unsubscribe(pull[i], in);
		spry_close(push[i]);
		spry_close(pull[i]);
	}
	spry_mailbox_release(in);
}

static void
test_async_select(void **state)
{
	spry_socket     *push[3], *pull[3];
	spry_select_case c[3];
	spry_ctx        *t;
	size_t           chosen;

	(void)state;
	for (int i = 0; i < 3; i++) {
		join("select", SPRY_PUSH0, &push[i], SPRY_PULL0, &pull[i]);
		c[i] = (spry_select_case){spry_socket_recvbox(pull[i], NULL),
		    SPRY_SELECT_RECV, NULL, 0};
	}
	spry_test_check(spry_send(push[2], spry_test_u32_msg(42), 0), 0);
	spry_test_check(spry_select(NULL, c, 3, &chosen), 0);
	assert_int_equal(chosen, 2);
	assert_int_equal(spry_test_u32_val(c[2].item), 42);
	/* Nothing ready: the ctx deadline ends the select. */
	assert_int_equal(spry_ctx_with_timeout(&t, NULL, SPRY_MSEC(10)), 0);
	spry_test_check(spry_select(t, c, 3, &chosen), SPRY_ETIMEDOUT);
	spry_ctx_release(t);
	for (int i = 0; i < 3; i++) {
		spry_close(push[i]);
		spry_close(pull[i]);
	}
}

/* A subscriber actor: counts messages into a shared report mailbox. */
static int
sub_behavior(spry_actor *self, const spry_event *ev, void *state)
{
	(void)self;
	if (ev->type == SPRY_EV_MSG) {
		spry_msg *m = ev->msg;

		if (spry_msg_err(m) == 0) {
			assert_int_equal(
			    spry_mailbox_trysend(state, spry_test_item(1)), 0);
		}
		spry_msg_free(m);
	}
	return SPRY_CONTINUE;
}

static void
test_async_pub_sub(void **state)
{
	spry_socket    *pub, *sub[4];
	spry_actor     *a[4];
	spry_mailbox   *reports;
	spry_actor_opts o = SPRY_ACTOR_OPTS_INIT;
	void           *item;
	char            url[SPRY__URL_FORMAT_SIZE];

	(void)state;
	assert_int_equal(spry_mailbox_open(&reports, 64), 0);
	assert_int_equal(spry_socket_open(&pub, SPRY_PUB0, NULL), 0);
	listen_fresh(pub, "pubsub", url, sizeof(url));
	o.behavior   = sub_behavior;
	o.state      = reports;
	o.dispose_cb = msg_dispose;
	for (int i = 0; i < 4; i++) {
		assert_int_equal(
		    spry_socket_open(&sub[i], SPRY_SUB0, NULL), 0);
		spry_test_check(
		    spry_setopt(sub[i], SPRY_OPT_SUBSCRIBE, SPRY_BYTES("", 0)),
		    0);
		assert_int_equal(spry_actor_spawn(&a[i], &o), 0);
		spry_test_check(spry_socket_subscribe(
		                    sub[i], spry_actor_mailbox(a[i]), false),
		    0);
		spry_test_check(spry_dial(sub[i], url, NULL, 0), 0);
	}
	await_stat(pub, PIPES, 4); /* a PUB sends to the pipes it has */
	/* Few messages: nobody is slow enough to drop one. */
	for (uint32_t k = 0; k < 8; k++) {
		spry_test_check(spry_send(pub, spry_test_u32_msg(k), 0), 0);
	}
	for (int n = 0; n < 4 * 8; n++) {
		spry_test_check(spry_mailbox_recv(NULL, reports, &item), 0);
	}
	spry_close(pub);
	for (int i = 0; i < 4; i++) {
		spry_close(sub[i]);
		spry_actor_stop(a[i]);
		spry_test_check(spry_actor_wait(NULL, a[i], NULL), 0);
		spry_actor_release(a[i]);
	}
	spry_mailbox_release(reports);
}

/* ---- the seed's pattern table (AA-1), one test per row --------------- */

static void
pattern_row(int proto, bool sends, bool recvs)
{
	spry_socket *s;
	spry_msg    *m;
	int          err = 0;

	assert_int_equal(spry_socket_open(&s, proto, NULL), 0);
	assert_true((spry_socket_sendbox(s, &err) != NULL) == sends);
	assert_int_equal(err, sends ? 0 : SPRY_ENOTSUP);
	err = 0;
	assert_true((spry_socket_recvbox(s, &err) != NULL) == recvs);
	assert_int_equal(err, recvs ? 0 : SPRY_ENOTSUP);
	if (!sends) {
		m = spry_test_u32_msg(1);
		spry_test_check(spry_send(s, m, 0), SPRY_ENOTSUP);
		spry_msg_free(m);
	}
	if (!recvs) {
		spry_test_check(
		    spry_recv(s, &m, SPRY_FLAG_NONBLOCK), SPRY_ENOTSUP);
	}
	spry_close(s);
}

static void
test_pattern_req(void **state)
{
	spry_socket *s;
	spry_msg    *m;

	(void)state;
	pattern_row(SPRY_REQ0, true, true);
	/* Send triggers the receive expectation: none yet, ESTATE. */
	assert_int_equal(spry_socket_open(&s, SPRY_REQ0, NULL), 0);
	spry_test_check(spry_recv(s, &m, 0), SPRY_ESTATE);
	spry_test_check(spry_send(s, spry_test_u32_msg(1), 0), 0);
	spry_test_check(spry_recv(s, &m, SPRY_FLAG_NONBLOCK), SPRY_EAGAIN);
	spry_close(s);
}

static void
test_pattern_rep(void **state)
{
	spry_socket *s;
	spry_msg    *m = spry_test_u32_msg(1);

	(void)state;
	pattern_row(SPRY_REP0, true, true);
	/* A receive must come before a send. */
	assert_int_equal(spry_socket_open(&s, SPRY_REP0, NULL), 0);
	spry_test_check(spry_send(s, m, 0), SPRY_ESTATE);
	spry_msg_free(m);
	spry_close(s);
}

static void
test_pattern_pub(void **state)
{
	(void)state;
	pattern_row(SPRY_PUB0, true, false);
}

static void
test_pattern_sub(void **state)
{
	(void)state;
	pattern_row(SPRY_SUB0, false, true);
}

static void
test_pattern_push(void **state)
{
	(void)state;
	pattern_row(SPRY_PUSH0, true, false);
}

static void
test_pattern_pull(void **state)
{
	(void)state;
	pattern_row(SPRY_PULL0, false, true);
}

static void
test_pattern_surveyor(void **state)
{
	spry_socket *s;
	spry_msg    *m;

	(void)state;
	pattern_row(SPRY_SURVEYOR0, true, true);
	assert_int_equal(spry_socket_open(&s, SPRY_SURVEYOR0, NULL), 0);
	spry_test_check(spry_recv(s, &m, 0), SPRY_ESTATE);
	spry_close(s);
}

static void
test_pattern_respondent(void **state)
{
	spry_socket *s;
	spry_msg    *m = spry_test_u32_msg(1);

	(void)state;
	pattern_row(SPRY_RESPONDENT0, true, true);
	assert_int_equal(spry_socket_open(&s, SPRY_RESPONDENT0, NULL), 0);
	spry_test_check(spry_send(s, m, 0), SPRY_ESTATE);
	spry_msg_free(m);
	spry_close(s);
}

static void
test_pattern_bus(void **state)
{
	(void)state;
	pattern_row(SPRY_BUS0, true, true);
}

static void
test_pattern_pair(void **state)
{
	(void)state;
	pattern_row(SPRY_PAIR0, true, true);
	pattern_row(SPRY_PAIR1, true, true);
}

/* ---- stress: random cancels and closes, everything accounted for ---- */

#define ST_SOCKS 8
#define ST_PRODUCERS 4
#define ST_PER 5000u

/* Shared tallies of the stress run (atomic). */
typedef struct stress {
	spry_socket *push[ST_SOCKS]; /* fixed once open */
	spry_socket *pull[ST_SOCKS];
	uint64_t     acc[ST_SOCKS]; /* sends that returned 0, per socket */
	uint64_t     failed;        /* sends that returned an error */
	uint64_t     received;      /* messages the consumers got */
} stress;

static void *
st_produce(void *arg)
{
	stress  *st   = arg;
	uint32_t seed = (uint32_t)(uintptr_t)pthread_self();

	for (uint32_t i = 0; i < ST_PER; i++) {
		spry_ctx *ctx = NULL;
		spry_msg *m   = spry_test_u32_msg(i);
		int       k   = (int)(rand_r(&seed) % ST_SOCKS), rv;

		if (rand_r(&seed) % 8 == 0) {
			assert_int_equal(spry_ctx_with_cancel(&ctx, NULL), 0);
			spry_ctx_cancel(ctx); /* a cancel racing the send */
		}
		rv = spry_send_ctx(ctx, st->push[k], m);
		__atomic_fetch_add(
		    rv == 0 ? &st->acc[k] : &st->failed, 1, __ATOMIC_RELAXED);
		if (rv != 0) {
			spry_msg_free(m);
		}
		if (ctx != NULL) {
			spry_ctx_release(ctx);
		}
	}
	return NULL;
}

/* A consumer actor: counts and frees what it gets. */
static int
st_consume(spry_actor *self, const spry_event *ev, void *state)
{
	stress *st = state;

	(void)self;
	if (ev->type == SPRY_EV_MSG) {
		if (spry_msg_err(ev->msg) == 0) {
			__atomic_fetch_add(&st->received, 1, __ATOMIC_RELAXED);
		}
		spry_msg_free(ev->msg);
	}
	return SPRY_CONTINUE;
}

static void
test_stress_random_cancel_and_close(void **state)
{
	stress            st = {0};
	spry_actor       *cons[2];
	spry_actor_opts   o = SPRY_ACTOR_OPTS_INIT;
	pthread_t         t[ST_PRODUCERS];
	spry_socket_stats s;
	uint64_t          taken = 0, sent = 0;

	(void)state;
	o.behavior   = st_consume;
	o.state      = &st;
	o.dispose_cb = msg_dispose;
	for (int i = 0; i < 2; i++) {
		assert_int_equal(spry_actor_spawn(&cons[i], &o), 0);
	}
	for (int k = 0; k < ST_SOCKS; k++) {
		join("stress", SPRY_PUSH0, &st.push[k], SPRY_PULL0,
		    &st.pull[k]);
		spry_socket_hold(st.push[k]);
		spry_test_check(spry_socket_subscribe(st.pull[k],
		                    spry_actor_mailbox(cons[k % 2]), false),
		    0);
	}
	for (int i = 0; i < ST_PRODUCERS; i++) {
		assert_int_equal(
		    pthread_create(&t[i], NULL, st_produce, &st), 0);
	}
	/* Close two PUSH sockets while the producers run. */
	spry_close(st.push[0]);
	spry_close(st.push[5]);
	for (int i = 0; i < ST_PRODUCERS; i++) {
		pthread_join(t[i], NULL);
	}
	/*
	 * Accounting: a socket left open delivers everything it accepted,
	 * exactly once; one closed mid-run delivers at most that (counted
	 * once its pipe is gone: over tcp and ipc the last of it may still
	 * be on the way until then); and the consumers get every message
	 * the sockets handed over.
	 */
	for (int k = 0; k < ST_SOCKS; k++) {
		if (k == 0 || k == 5) {
			await_stat(st.pull[k], PIPES, 0);
			spry_socket_stats_get(st.pull[k], &s);
			assert_true(s.received <= st.acc[k]);
		} else {
			await_stat(st.pull[k], RECEIVED, st.acc[k]);
			spry_socket_stats_get(st.pull[k], &s);
			assert_int_equal(s.received, st.acc[k]);
		}
		taken += s.received;
		sent += st.acc[k];
	}
	while (__atomic_load_n(&st.received, __ATOMIC_RELAXED) < taken) {
		sched_yield();
	}
	assert_int_equal(
	    __atomic_load_n(&st.received, __ATOMIC_RELAXED), taken);
	assert_int_equal(sent + st.failed, ST_PRODUCERS * ST_PER);
	for (int k = 0; k < ST_SOCKS; k++) {
		if (k != 0 && k != 5) {
			spry_close(st.push[k]);
		}
		spry_close(st.pull[k]);
		spry_socket_release(st.push[k]);
	}
	for (int i = 0; i < 2; i++) {
		spry_actor_stop(cons[i]);
		spry_test_check(spry_actor_wait(NULL, cons[i], NULL), 0);
		spry_actor_release(cons[i]);
	}
}

int
main(void)
{
	const struct CMUnitTest alone[] = {
	    cmocka_unit_test_setup_teardown(test_send_ctx_cancel, up, down),
	    cmocka_unit_test_setup_teardown(test_recv_ctx_timeout, up, down),
	    cmocka_unit_test_setup_teardown(test_pattern_req, up, down),
	    cmocka_unit_test_setup_teardown(test_pattern_rep, up, down),
	    cmocka_unit_test_setup_teardown(test_pattern_pub, up, down),
	    cmocka_unit_test_setup_teardown(test_pattern_sub, up, down),
	    cmocka_unit_test_setup_teardown(test_pattern_push, up, down),
	    cmocka_unit_test_setup_teardown(test_pattern_pull, up, down),
	    cmocka_unit_test_setup_teardown(test_pattern_surveyor, up, down),
	    cmocka_unit_test_setup_teardown(test_pattern_respondent, up, down),
	    cmocka_unit_test_setup_teardown(test_pattern_bus, up, down),
	    cmocka_unit_test_setup_teardown(test_pattern_pair, up, down),
	};
	/* The tests that join sockets: once per transport. */
	const struct CMUnitTest joining[] = {
	    cmocka_unit_test_setup_teardown(test_send_mailbox_basic, up, down),
	    cmocka_unit_test_setup_teardown(test_recv_mailbox_basic, up, down),
	    cmocka_unit_test_setup_teardown(test_mailbox_close, up, down),
	    cmocka_unit_test_setup_teardown(test_mixed_sync_async, up, down),
	    cmocka_unit_test_setup_teardown(test_async_req_rep, up, down),
	    cmocka_unit_test_setup_teardown(test_async_fan_in, up, down),
	    cmocka_unit_test_setup_teardown(test_async_select, up, down),
	    cmocka_unit_test_setup_teardown(test_async_pub_sub, up, down),
	    cmocka_unit_test_setup_teardown(
	        test_stress_random_cancel_and_close, up, down),
	};
	int failed;

	failed = cmocka_run_group_tests_name("alone", alone, NULL, NULL);
	over   = OVER_INPROC;
	failed += cmocka_run_group_tests_name("inproc", joining, NULL, NULL);
	over = OVER_TCP;
	failed += cmocka_run_group_tests_name("tcp", joining, NULL, NULL);
	over = OVER_IPC;
	failed += cmocka_run_group_tests_name("ipc", joining, NULL, NULL);
	return failed;
}
