/* SPDX-License-Identifier: MIT */
/*
 * tests/sp/test_pubsub.c: PUB0 and SUB0 over inproc: identity, fan-out
 * to every subscriber, prefix filtering (checked against a brute-force
 * matcher too), subscribe and unsubscribe rules, best-effort delivery (a
 * publisher never blocks, a slow subscriber drops, in order), wrong
 * direction and wrong peer, option checks, raw SUB, and the blocking
 * receive's close, non-blocking, timeout and cancel outcomes.
 *
 * To show that a message was filtered out without sleeping, a test
 * publishes a sentinel that matches after it: messages on one pipe
 * arrive in order, so receiving the sentinel first proves the earlier
 * one will never come. Receives have a long timeout that only guards
 * against hangs; nothing asserts a duration.
 */
#include "tests/support/support.h"

#include <pthread.h>
#include <sched.h>
#include <stdio.h>
#include <string.h>

/* The hang guard on blocking receives. */
#define GUARD SPRY_SEC(30)

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

static spry_msg *
msg_str(const char *s)
{
	spry_msg *m;

	assert_int_equal(spry_msg_alloc(&m, 0), 0);
	assert_int_equal(spry_msg_append(m, s, strlen(s)), 0);
	return m;
}

/* Publish the string s on pub. */
static void
publish(spry_socket *pub, const char *s)
{
	spry_msg *m = msg_str(s);

	spry_test_check(spry_send(pub, m, 0), 0);
}

/* Receive from sub and check that the body is s. */
static void
expect(spry_socket *sub, const char *s)
{
	spry_msg *m = NULL;

	spry_test_check(spry_recv(sub, &m, 0), 0);
	assert_int_equal(spry_msg_len(m), strlen(s));
	assert_memory_equal(spry_msg_body(m), s, strlen(s));
	assert_int_equal(spry_msg_header_len(m), 0);
	spry_msg_free(m);
}

static void
subscribe(spry_socket *sub, const char *topic)
{
	spry_test_check(spry_setopt(sub, SPRY_OPT_SUBSCRIBE,
	                    SPRY_BYTES(topic, strlen(topic))),
	    0);
}

static int
unsubscribe(spry_socket *sub, const char *topic)
{
	return spry_setopt(
	    sub, SPRY_OPT_UNSUBSCRIBE, SPRY_BYTES(topic, strlen(topic)));
}

static spry_socket *
sock_open(int proto, bool raw)
{
	spry_socket_opts o = SPRY_SOCKET_OPTS_INIT;
	spry_socket     *s;

	o.raw = raw;
	assert_int_equal(spry_socket_open(&s, proto, &o), 0);
	if (proto == SPRY_SUB0) {
		spry_test_check(
		    spry_setopt(s, SPRY_OPT_RECVTIMEO, SPRY_DURATION(GUARD)),
		    0);
	}
	return s;
}

/* A PUB listening on url and one SUB dialing it. */
static void
pubsub(const char *url, spry_socket **pub, spry_socket **sub)
{
	*pub = sock_open(SPRY_PUB0, false);
	*sub = sock_open(SPRY_SUB0, false);
	spry_test_check(spry_listen(*pub, url, NULL), 0);
	spry_test_check(spry_dial(*sub, url, NULL, 0), 0);
}

static void
check_identity(int proto, int peer, bool raw)
{
	spry_socket *s   = sock_open(proto, raw);
	spry_optval  v   = SPRY_INT(0);
	spry_optval  isr = SPRY_BOOL(!raw);

	assert_int_equal(spry_socket_proto(s), proto);
	assert_int_equal(spry_socket_peer(s), peer);
	spry_test_check(spry_getopt(s, SPRY_OPT_PROTO, &v), 0);
	assert_int_equal(v.u.i, proto);
	spry_test_check(spry_getopt(s, SPRY_OPT_PEER, &v), 0);
	assert_int_equal(v.u.i, peer);
	spry_test_check(spry_getopt(s, SPRY_OPT_RAW, &isr), 0);
	assert_int_equal(isr.u.b, raw);
	spry_close(s);
}

static void
test_identity(void **state)
{
	(void)state;
	check_identity(SPRY_PUB0, SPRY_SUB0, false);
	check_identity(SPRY_PUB0, SPRY_SUB0, true);
	check_identity(SPRY_SUB0, SPRY_PUB0, false);
	check_identity(SPRY_SUB0, SPRY_PUB0, true);
}

static void
test_pub_reaches_every_subscriber(void **state)
{
	const char       *url = "inproc://pubsub/every";
	spry_socket      *pub, *sub[3];
	spry_socket_stats st;
	spry_msg         *m;

	(void)state;
	pub = sock_open(SPRY_PUB0, false);
	spry_test_check(spry_listen(pub, url, NULL), 0);
	for (int i = 0; i < 3; i++) {
		sub[i] = sock_open(SPRY_SUB0, false);
		subscribe(sub[i], "");
		spry_test_check(spry_dial(sub[i], url, NULL, 0), 0);
	}
	for (uint32_t n = 0; n < 100; n++) {
		spry_test_check(spry_send(pub, spry_test_u32_msg(n), 0), 0);
		for (int i = 0; i < 3; i++) { /* keep within the recvbox */
			spry_test_check(spry_recv(sub[i], &m, 0), 0);
			assert_int_equal(spry_test_u32_val(m), n);
		}
	}
	spry_socket_stats_get(pub, &st);
	assert_int_equal(st.sent, 300);
	assert_int_equal(st.dropped, 0);
	assert_int_equal(st.pipes, 3);
	for (int i = 0; i < 3; i++) {
		spry_socket_stats_get(sub[i], &st);
		assert_int_equal(st.received, 100);
		assert_int_equal(st.dropped, 0);
		spry_close(sub[i]);
	}
	spry_close(pub);
}

static void
test_sub_delivers_by_prefix(void **state)
{
	spry_socket      *pub, *sub;
	spry_socket_stats st;

	(void)state;
	pubsub("inproc://pubsub/prefix", &pub, &sub);
	subscribe(sub, "a");
	subscribe(sub, "bc");
	publish(pub, "b");
	publish(pub, "abc");
	publish(pub, "xa");
	publish(pub, "");
	publish(pub, "bcd");
	publish(pub, "ba");
	publish(pub, "bc");
	publish(pub, "a");
	expect(sub, "abc");
	expect(sub, "bcd");
	expect(sub, "bc");
	expect(sub, "a");
	publish(pub, "cab");
	publish(pub, "abba"); /* the sentinel */
	expect(sub, "abba");
	/* Filtered messages are not losses. */
	spry_socket_stats_get(sub, &st);
	assert_int_equal(st.received, 5);
	assert_int_equal(st.dropped, 0);
	spry_close(pub);
	spry_close(sub);
}

static void
test_empty_topic_matches_everything(void **state)
{
	spry_socket *pub, *sub;

	(void)state;
	pubsub("inproc://pubsub/empty", &pub, &sub);
	subscribe(sub, "");
	subscribe(sub, "a");
	publish(pub, "");
	publish(pub, "zzz");
	publish(pub, "abc");
	expect(sub, "");
	expect(sub, "zzz");
	expect(sub, "abc");
	spry_test_check(unsubscribe(sub, ""), 0);
	publish(pub, "zzz");
	publish(pub, "");
	publish(pub, "a");
	expect(sub, "a");
	spry_close(pub);
	spry_close(sub);
}

static void
test_unsubscribe_stops_delivery(void **state)
{
	spry_socket *pub, *sub;

	(void)state;
	pubsub("inproc://pubsub/unsub", &pub, &sub);
	spry_test_check(unsubscribe(sub, "a"), SPRY_ENOENT);
	subscribe(sub, "a");
	subscribe(sub, "b");
	publish(pub, "a1");
	expect(sub, "a1");
	spry_test_check(unsubscribe(sub, "a"), 0);
	spry_test_check(unsubscribe(sub, "a"), SPRY_ENOENT);
	spry_test_check(unsubscribe(sub, ""), SPRY_ENOENT);
	spry_test_check(
	    unsubscribe(sub, "b1"), SPRY_ENOENT); /* not a prefix */
	publish(pub, "a2");
	publish(pub, "b1");
	expect(sub, "b1");
	spry_close(pub);
	spry_close(sub);
}

/* NNG's rule: a topic subscribed twice is one subscription. */
static void
test_duplicate_subscription_is_one(void **state)
{
	spry_socket *pub, *sub;

	(void)state;
	pubsub("inproc://pubsub/dup", &pub, &sub);
	subscribe(sub, "a");
	subscribe(sub, "a");
	subscribe(sub, "b");
	publish(pub, "a1");
	expect(sub, "a1"); /* once, not twice */
	publish(pub, "b1");
	expect(sub, "b1");
	spry_test_check(unsubscribe(sub, "a"), 0);
	spry_test_check(unsubscribe(sub, "a"), SPRY_ENOENT);
	publish(pub, "a2");
	publish(pub, "b2");
	expect(sub, "b2");
	spry_close(pub);
	spry_close(sub);
}

static void
test_no_subscription_delivers_nothing(void **state)
{
	spry_socket      *pub, *sub;
	spry_socket_stats st;
	spry_msg         *m;

	(void)state;
	pubsub("inproc://pubsub/none", &pub, &sub);
	publish(pub, "");
	publish(pub, "x");
	subscribe(sub, "y");
	publish(pub, "y");
	expect(sub, "y");
	spry_test_check(spry_recv(sub, &m, SPRY_FLAG_NONBLOCK), SPRY_EAGAIN);
	spry_socket_stats_get(sub, &st);
	assert_int_equal(st.received, 1);
	assert_int_equal(st.dropped, 0);
	spry_close(pub);
	spry_close(sub);
}

/* ---- the filter against a brute-force matcher ------------------------- */

static uint32_t rng_state;

static uint32_t
rng(void)
{
	rng_state = rng_state * 1103515245u + 12345u;
	return rng_state >> 16;
}

/* A random string over "abcd" of length lo..hi into buf. */
static void
rand_str(char *buf, int lo, int hi)
{
	int n = lo + (int)(rng() % (uint32_t)(hi - lo + 1));

	for (int i = 0; i < n; i++) {
		buf[i] = (char)('a' + rng() % 4);
	}
	buf[n] = '\0';
}

#define NTOPICS 64

static bool
brute_match(char topics[][8], const bool *live, const char *body)
{
	for (int i = 0; i < NTOPICS; i++) {
		size_t n = strlen(topics[i]);

		if (live[i] && strncmp(topics[i], body, n) == 0) {
			return true;
		}
	}
	return false;
}

/* Publish body and the sentinel "S"; the SUB agrees with brute force. */
static bool
check_body(spry_socket *pub, spry_socket *sub, const char *body, bool want)
{
	publish(pub, body);
	publish(pub, "S");
	if (want) {
		expect(sub, body);
	}
	expect(sub, "S");
	return want;
}

static void
check_bodies(
    spry_socket *pub, spry_socket *sub, char topics[][8], const bool *live)
{
	char body[16];
	int  hits = 0, n = 400;

	for (int i = 0; i < n; i++) {
		rand_str(body, 0, 9);
		hits += check_body(
		    pub, sub, body, brute_match(topics, live, body));
	}
	for (int i = 0; i < NTOPICS; i++) { /* each topic and one more */
		snprintf(body, sizeof(body), "%sa", topics[i]);
		hits += check_body(
		    pub, sub, body, brute_match(topics, live, body));
	}
	/* Both outcomes must have been exercised. */
	assert_true(hits > 0);
	assert_true(hits < n + NTOPICS);
}

static void
test_filter_agrees_with_brute_force(void **state)
{
	spry_socket *pub, *sub;
	char         topics[NTOPICS][8];
	bool         live[NTOPICS];

	(void)state;
	rng_state = 20240611u;
	pubsub("inproc://pubsub/brute", &pub, &sub);
	subscribe(sub, "S");
	for (int i = 0; i < NTOPICS; i++) {
		rand_str(topics[i], 2, 6);
		/* Chains of prefixes: "ab", "abc", ... */
		if (i % 8 == 1) {
			snprintf(topics[i], sizeof(topics[i]), "%.5sc",
			    topics[i - 1]);
		}
		subscribe(sub, topics[i]);
		live[i] = true;
	}
	check_bodies(pub, sub, topics, live);
	for (int i = 0; i < NTOPICS; i += 2) {
		/* Duplicates are one subscription: only the first goes. */
		int rv = unsubscribe(sub, topics[i]);

		assert_true(rv == 0 || rv == SPRY_ENOENT);
		for (int j = 0; j < NTOPICS; j++) {
			if (strcmp(topics[j], topics[i]) == 0) {
				live[j] = false;
			}
		}
	}
	check_bodies(pub, sub, topics, live);
	spry_close(pub);
	spry_close(sub);
}

/* ---- best effort -------------------------------------------------------- */

/* Wait (yielding) until sub has accounted for n messages. */
static void
await_accounted(spry_socket *sub, uint64_t n)
{
	spry_time         end = spry_now() + GUARD;
	spry_socket_stats st;

	do {
		spry_socket_stats_get(sub, &st);
		if (st.received + st.dropped >= n) {
			assert_int_equal(st.received + st.dropped, n);
			return;
		}
		sched_yield();
	} while (spry_now() < end);
	fail_msg("only %llu of %llu messages reached the SUB",
	    (unsigned long long)(st.received + st.dropped),
	    (unsigned long long)n);
}

static void
test_slow_subscriber_drops_and_pub_never_blocks(void **state)
{
	spry_socket      *pub, *sub;
	spry_socket_stats st;
	spry_msg         *m;
	uint64_t          got  = 0;
	int64_t           last = -1;

	(void)state;
	pubsub("inproc://pubsub/slow", &pub, &sub);
	subscribe(sub, "");
	/* A publisher that blocked would fail here instead of hanging. */
	spry_test_check(
	    spry_setopt(pub, SPRY_OPT_SENDTIMEO, SPRY_DURATION(GUARD)), 0);
	for (uint32_t i = 0; i < 10000; i++) {
		spry_test_check(spry_send(pub, spry_test_u32_msg(i), 0), 0);
	}
	await_accounted(sub, 10000);
	while (spry_recv(sub, &m, SPRY_FLAG_NONBLOCK) == 0) {
		int64_t v = spry_test_u32_val(m);

		assert_true(v > last); /* in order, no duplicates */
		last = v;
		got++;
	}
	spry_socket_stats_get(sub, &st);
	assert_true(st.dropped > 0);
	assert_true(got > 0);
	assert_int_equal(got, st.received);
	spry_socket_stats_get(pub, &st);
	assert_int_equal(st.sent, 10000); /* the pipe itself never filled */
	spry_close(pub);
	spry_close(sub);
}

static void
test_pub_without_subscribers_drops(void **state)
{
	spry_socket      *pub = sock_open(SPRY_PUB0, false);
	spry_socket_stats st;

	(void)state;
	for (uint32_t i = 0; i < 5; i++) {
		spry_test_check(spry_send(pub, spry_test_u32_msg(i), 0), 0);
	}
	spry_socket_stats_get(pub, &st);
	assert_int_equal(st.sent, 0);
	assert_int_equal(st.dropped, 5);
	spry_close(pub);
}

/* ---- the checklist ------------------------------------------------------ */

static void
test_wrong_direction_is_refused(void **state)
{
	spry_socket *pub = sock_open(SPRY_PUB0, false);
	spry_socket *sub = sock_open(SPRY_SUB0, false);
	spry_msg    *m   = msg_str("x");
	int          err = 0;

	(void)state;
	spry_test_check(spry_send(sub, m, 0), SPRY_ENOTSUP);
	spry_test_check(spry_send(sub, m, SPRY_FLAG_NONBLOCK), SPRY_ENOTSUP);
	spry_test_check(spry_send_ctx(NULL, sub, m), SPRY_ENOTSUP);
	assert_null(spry_socket_sendbox(sub, &err));
	spry_test_check(err, SPRY_ENOTSUP);
	assert_non_null(spry_socket_recvbox(sub, NULL));
	spry_msg_free(m); /* still ours after each failure */
	spry_test_check(spry_recv(pub, &m, 0), SPRY_ENOTSUP);
	spry_test_check(spry_recv(pub, &m, SPRY_FLAG_NONBLOCK), SPRY_ENOTSUP);
	spry_test_check(spry_recv_ctx(NULL, pub, &m), SPRY_ENOTSUP);
	err = 0;
	assert_null(spry_socket_recvbox(pub, &err));
	spry_test_check(err, SPRY_ENOTSUP);
	assert_non_null(spry_socket_sendbox(pub, NULL));
	spry_close(pub);
	spry_close(sub);
}

static void
check_rejected(int lproto, int dproto, const char *url)
{
	spry_socket      *l = sock_open(lproto, false);
	spry_socket      *d = sock_open(dproto, false);
	spry_socket_stats st;

	spry_test_check(spry_listen(l, url, NULL), 0);
	spry_test_check(spry_dial(d, url, NULL, 0), SPRY_EPROTO);
	spry_socket_stats_get(l, &st);
	assert_int_equal(st.rejected, 1);
	assert_int_equal(st.pipes, 0);
	spry_socket_stats_get(d, &st);
	assert_int_equal(st.pipes, 0);
	spry_close(l);
	spry_close(d);
}

static void
test_wrong_peer_is_rejected(void **state)
{
	(void)state;
	check_rejected(SPRY_PUB0, SPRY_PUB0, "inproc://pubsub/wp1");
	check_rejected(SPRY_SUB0, SPRY_SUB0, "inproc://pubsub/wp2");
	check_rejected(SPRY_PUB0, SPRY_PULL0, "inproc://pubsub/wp3");
	check_rejected(SPRY_SUB0, SPRY_PUSH0, "inproc://pubsub/wp4");
}

static void
test_options_are_checked(void **state)
{
	spry_socket *pub = sock_open(SPRY_PUB0, false);
	spry_socket *sub = sock_open(SPRY_SUB0, false);
	spry_socket *raw = sock_open(SPRY_SUB0, true);
	spry_optval  v   = SPRY_BYTES("a", 1);

	(void)state;
	spry_test_check(
	    spry_setopt(sub, SPRY_OPT_SUBSCRIBE, SPRY_INT(1)), SPRY_EBADTYPE);
	spry_test_check(spry_setopt(sub, SPRY_OPT_SUBSCRIBE, SPRY_STRING("a")),
	    SPRY_EBADTYPE);
	spry_test_check(spry_setopt(sub, SPRY_OPT_UNSUBSCRIBE, SPRY_BOOL(1)),
	    SPRY_EBADTYPE);
	spry_test_check(
	    spry_setopt(sub, SPRY_OPT_SUBSCRIBE, SPRY_BYTES(NULL, 3)),
	    SPRY_EINVAL);
	spry_test_check(
	    spry_setopt(sub, SPRY_OPT_SUBSCRIBE, SPRY_BYTES(NULL, 0)), 0);
	spry_test_check(
	    spry_getopt(sub, SPRY_OPT_SUBSCRIBE, &v), SPRY_EWRITEONLY);
	spry_test_check(
	    spry_getopt(sub, SPRY_OPT_UNSUBSCRIBE, &v), SPRY_EWRITEONLY);
	spry_test_check(
	    spry_setopt(sub, SPRY_OPT_RESENDTIME, SPRY_DURATION(1)),
	    SPRY_ENOTSUP);
	spry_test_check(
	    spry_setopt(pub, SPRY_OPT_SUBSCRIBE, SPRY_BYTES("a", 1)),
	    SPRY_ENOTSUP);
	spry_test_check(
	    spry_setopt(pub, SPRY_OPT_UNSUBSCRIBE, SPRY_BYTES("a", 1)),
	    SPRY_ENOTSUP);
	spry_test_check(
	    spry_getopt(pub, SPRY_OPT_SUBSCRIBE, &v), SPRY_ENOTSUP);
	/* Raw SUB has no topics. */
	spry_test_check(
	    spry_setopt(raw, SPRY_OPT_SUBSCRIBE, SPRY_BYTES("a", 1)),
	    SPRY_ENOTSUP);
	spry_test_check(
	    spry_getopt(raw, SPRY_OPT_SUBSCRIBE, &v), SPRY_ENOTSUP);
	spry_close(pub);
	spry_close(sub);
	spry_close(raw);
}

static void
test_raw_sub_is_unfiltered(void **state)
{
	const char  *url = "inproc://pubsub/raw";
	spry_socket *pub = sock_open(SPRY_PUB0, true);
	spry_socket *sub = sock_open(SPRY_SUB0, true);

	(void)state;
	spry_test_check(spry_listen(pub, url, NULL), 0);
	spry_test_check(spry_dial(sub, url, NULL, 0), 0);
	publish(pub, "a");
	publish(pub, "");
	publish(pub, "zz");
	expect(sub, "a");
	expect(sub, "");
	expect(sub, "zz");
	spry_close(pub);
	spry_close(sub);
}

/* A thread blocked in spry_recv(_ctx) on a SUB, and what it got. */
typedef struct blocked {
	spry_socket *s;   /* the SUB (held) */
	spry_ctx    *ctx; /* or NULL: spry_recv */
	int          rv;  /* the outcome */
} blocked;

static void *
blocked_run(void *arg)
{
	blocked  *b = arg;
	spry_msg *m = NULL;

	b->rv = b->ctx != NULL ? spry_recv_ctx(b->ctx, b->s, &m) :
	                         spry_recv(b->s, &m, 0);
	spry_msg_free(m);
	return NULL;
}

static void
test_close_wakes_blocked_receiver(void **state)
{
	spry_socket *sub = sock_open(SPRY_SUB0, false);
	blocked      b   = {sub, NULL, -1};
	pthread_t    t;

	(void)state;
	subscribe(sub, "");
	spry_socket_hold(sub);
	assert_int_equal(pthread_create(&t, NULL, blocked_run, &b), 0);
	assert_true(spry_test_await_waiters(
	    spry_socket_recvbox(sub, NULL), SPRY_SELECT_RECV, 1));
	spry_test_check(spry_close(sub), 0);
	pthread_join(t, NULL);
	spry_test_check(b.rv, SPRY_ECLOSED);
	spry_socket_release(sub);
}

static void
test_nonblocking_and_timeout(void **state)
{
	spry_socket *pub, *sub;
	spry_msg    *m;

	(void)state;
	pubsub("inproc://pubsub/nonblock", &pub, &sub);
	subscribe(sub, "");
	spry_test_check(spry_recv(sub, &m, SPRY_FLAG_NONBLOCK), SPRY_EAGAIN);
	spry_test_check(
	    spry_setopt(sub, SPRY_OPT_RECVTIMEO, SPRY_DURATION(SPRY_MSEC(5))),
	    0);
	spry_test_check(spry_recv(sub, &m, 0), SPRY_ETIMEDOUT);
	publish(pub, "late");
	expect(sub, "late");
	spry_close(pub);
	spry_close(sub);
}

static void
test_ctx_cancels_blocked_receive(void **state)
{
	spry_socket *sub = sock_open(SPRY_SUB0, false);
	blocked      b   = {sub, NULL, -1};
	pthread_t    t;

	(void)state;
	assert_int_equal(spry_ctx_with_cancel(&b.ctx, NULL), 0);
	assert_int_equal(pthread_create(&t, NULL, blocked_run, &b), 0);
	assert_true(spry_test_await_waiters(
	    spry_socket_recvbox(sub, NULL), SPRY_SELECT_RECV, 1));
	spry_ctx_cancel(b.ctx);
	pthread_join(t, NULL);
	spry_test_check(b.rv, SPRY_ECANCELED);
	spry_ctx_release(b.ctx);
	spry_close(sub);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(test_identity, up, down),
	    cmocka_unit_test_setup_teardown(
	        test_pub_reaches_every_subscriber, up, down),
	    cmocka_unit_test_setup_teardown(
	        test_sub_delivers_by_prefix, up, down),
	    cmocka_unit_test_setup_teardown(
	        test_empty_topic_matches_everything, up, down),
	    cmocka_unit_test_setup_teardown(
	        test_unsubscribe_stops_delivery, up, down),
	    cmocka_unit_test_setup_teardown(
	        test_duplicate_subscription_is_one, up, down),
	    cmocka_unit_test_setup_teardown(
	        test_no_subscription_delivers_nothing, up, down),
	    cmocka_unit_test_setup_teardown(
	        test_filter_agrees_with_brute_force, up, down),
	    cmocka_unit_test_setup_teardown(
	        test_slow_subscriber_drops_and_pub_never_blocks, up, down),
	    cmocka_unit_test_setup_teardown(
	        test_pub_without_subscribers_drops, up, down),
	    cmocka_unit_test_setup_teardown(
	        test_wrong_direction_is_refused, up, down),
	    cmocka_unit_test_setup_teardown(
	        test_wrong_peer_is_rejected, up, down),
	    cmocka_unit_test_setup_teardown(
	        test_options_are_checked, up, down),
	    cmocka_unit_test_setup_teardown(
	        test_raw_sub_is_unfiltered, up, down),
	    cmocka_unit_test_setup_teardown(
	        test_close_wakes_blocked_receiver, up, down),
	    cmocka_unit_test_setup_teardown(
	        test_nonblocking_and_timeout, up, down),
	    cmocka_unit_test_setup_teardown(
	        test_ctx_cancels_blocked_receive, up, down),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
