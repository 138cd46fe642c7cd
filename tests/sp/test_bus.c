/* SPDX-License-Identifier: MIT */
/*
 * tests/sp/test_bus.c: BUS0 over inproc: identity, a three-socket mesh
 * where every message reaches every other socket once and never its
 * sender, cooked re-sends going to every pipe (NNG's rule), raw mode's
 * local pipe-id header (set on receive, honoured and stripped on send),
 * best-effort drops, wrong peer, options, and the blocking receive's
 * close, non-blocking, timeout and cancel outcomes. The one-socket
 * device's echo protection is the device's tests' business.
 *
 * To show that a message did not arrive without sleeping, a test sends
 * a sentinel after it on the same path: a pipe delivers in order, so
 * receiving the sentinel first proves the earlier message never comes.
 * Receives have a long timeout that only guards against hangs.
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

static void
send_str(spry_socket *s, const char *str)
{
	spry_test_check(spry_send(s, msg_str(str), 0), 0);
}

/* Receive from s; the body must be str. Returns the message. */
static spry_msg *
recv_str(spry_socket *s, const char *str)
{
	spry_msg *m = NULL;

	spry_test_check(spry_recv(s, &m, 0), 0);
	assert_int_equal(spry_msg_len(m), strlen(str));
	assert_memory_equal(spry_msg_body(m), str, strlen(str));
	return m;
}

/* Receive str with no header (what cooked BUS hands up). */
static void
expect(spry_socket *s, const char *str)
{
	spry_msg *m = recv_str(s, str);

	assert_int_equal(spry_msg_header_len(m), 0);
	spry_msg_free(m);
}

static spry_socket *
bus_open(bool raw)
{
	spry_socket_opts o = SPRY_SOCKET_OPTS_INIT;
	spry_socket     *s;

	o.raw = raw;
	assert_int_equal(spry_socket_open(&s, SPRY_BUS0, &o), 0);
	spry_test_check(
	    spry_setopt(s, SPRY_OPT_RECVTIMEO, SPRY_DURATION(GUARD)), 0);
	return s;
}

/* A hub listening on url and two spokes dialing it. */
static void
star(const char *url, spry_socket *hub, spry_socket **spokes)
{
	spry_test_check(spry_listen(hub, url, NULL), 0);
	for (int i = 0; i < 2; i++) {
		spokes[i] = bus_open(false);
		spry_test_check(spry_dial(spokes[i], url, NULL, 0), 0);
	}
}

static void
check_identity(bool raw)
{
	spry_socket *s   = bus_open(raw);
	spry_optval  v   = SPRY_INT(0);
	spry_optval  isr = SPRY_BOOL(!raw);

	assert_int_equal(spry_socket_proto(s), SPRY_BUS0);
	assert_int_equal(spry_socket_peer(s), SPRY_BUS0);
	spry_test_check(spry_getopt(s, SPRY_OPT_PROTO, &v), 0);
	assert_int_equal(v.u.i, SPRY_BUS0);
	spry_test_check(spry_getopt(s, SPRY_OPT_PEER, &v), 0);
	assert_int_equal(v.u.i, SPRY_BUS0);
	spry_test_check(spry_getopt(s, SPRY_OPT_RAW, &isr), 0);
	assert_int_equal(isr.u.b, raw);
	assert_non_null(spry_socket_sendbox(s, NULL));
	assert_non_null(spry_socket_recvbox(s, NULL));
	spry_close(s);
}

static void
test_identity(void **state)
{
	(void)state;
	check_identity(false);
	check_identity(true);
}

/*
 * Socket i of a mesh receives until it has both others' "end"; it must
 * have seen exactly the others' first messages and nothing of its own.
 */
static void
mesh_collect(spry_socket *s, int self)
{
	int seen[3] = {0, 0, 0}, ends = 0;

	while (ends < 2) {
		spry_msg *m = NULL;
		char      tag[8];
		size_t    n;

		spry_test_check(spry_recv(s, &m, 0), 0);
		n = spry_msg_len(m);
		assert_true(n >= 1 && n < sizeof(tag));
		memcpy(tag, spry_msg_body(m), n);
		tag[n] = '\0';
		spry_msg_free(m);
		assert_true(tag[0] >= '0' && tag[0] <= '2');
		assert_int_not_equal(tag[0] - '0', self);
		if (strcmp(tag + 1, "end") == 0) {
			ends++;
		} else {
			seen[tag[0] - '0']++;
		}
	}
	for (int i = 0; i < 3; i++) {
		assert_int_equal(seen[i], i == self ? 0 : 1);
	}
}

static void
test_mesh_reaches_every_other_never_back(void **state)
{
	spry_socket      *b[3];
	spry_socket_stats st;
	char              tag[8];

	(void)state;
	for (int i = 0; i < 3; i++) {
		b[i] = bus_open(false);
	}
	spry_test_check(spry_listen(b[0], "inproc://bus/mesh0", NULL), 0);
	spry_test_check(spry_listen(b[1], "inproc://bus/mesh1", NULL), 0);
	spry_test_check(spry_dial(b[1], "inproc://bus/mesh0", NULL, 0), 0);
	spry_test_check(spry_dial(b[2], "inproc://bus/mesh0", NULL, 0), 0);
	spry_test_check(spry_dial(b[2], "inproc://bus/mesh1", NULL, 0), 0);
	for (int i = 0; i < 3; i++) {
		snprintf(tag, sizeof(tag), "%dhi", i);
		send_str(b[i], tag);
	}
	for (int i = 0; i < 3; i++) {
		snprintf(tag, sizeof(tag), "%dend", i);
		send_str(b[i], tag);
	}
	for (int i = 0; i < 3; i++) {
		mesh_collect(b[i], i);
		spry_socket_stats_get(b[i], &st);
		assert_int_equal(st.pipes, 2);
		assert_int_equal(st.sent, 4); /* two messages, two peers */
		assert_int_equal(st.received, 4);
		assert_int_equal(st.dropped, 0);
	}
	for (int i = 0; i < 3; i++) {
		spry_close(b[i]);
	}
}

/*
 * As in NNG, cooked send goes to every pipe: a received message sent
 * again on the same socket reaches its sender too (only raw mode reads
 * an origin). Its header is cleared: nothing but the body goes out.
 */
static void
test_cooked_resend_goes_to_every_pipe(void **state)
{
	spry_socket *hub = bus_open(false), *sp[2];
	spry_msg    *m;

	(void)state;
	star("inproc://bus/resend", hub, sp);
	send_str(sp[0], "x");
	m = recv_str(hub, "x");
	assert_int_equal(spry_msg_header_len(m), 0);
	assert_int_not_equal(spry_msg_pipe(m), 0);
	assert_ptr_equal(spry_msg_socket(m), hub);
	assert_int_equal(spry_msg_header_append_u32(m, 0xdeadbeef), 0);
	spry_test_check(spry_send(hub, m, 0), 0);
	expect(sp[0], "x");
	expect(sp[1], "x");
	spry_close(hub);
	spry_close(sp[0]);
	spry_close(sp[1]);
}

static uint32_t
header_u32(spry_msg *m)
{
	uint32_t v;

	assert_int_equal(spry_msg_header_len(m), 4);
	assert_int_equal(spry_msg_header_chop_u32(m, &v), 0);
	return v;
}

/* A raw hub reflects a message from one spoke: only the other gets it. */
static void
test_raw_header_carries_the_pipe_id(void **state)
{
	spry_socket *hub = bus_open(true), *sp[2];
	spry_msg    *m;
	uint32_t     from0, from1;

	(void)state;
	star("inproc://bus/raw", hub, sp);
	send_str(sp[1], "one");
	m     = recv_str(hub, "one");
	from1 = spry_msg_pipe(m);
	assert_int_not_equal(from1, 0);
	assert_int_equal(header_u32(m), from1);
	spry_msg_free(m);
	send_str(sp[0], "zero");
	m     = recv_str(hub, "zero");
	from0 = spry_msg_pipe(m);
	assert_int_not_equal(from0, from1);
	/* Reflect it as received: it skips spoke 0 and loses its header. */
	spry_test_check(spry_send(hub, m, 0), 0);
	send_str(hub, "end"); /* no header: to everyone */
	expect(sp[1], "zero");
	expect(sp[1], "end");
	expect(sp[0], "end"); /* not "zero" first */
	/* A header naming spoke 1's pipe skips spoke 1. */
	m = msg_str("to0");
	assert_int_equal(spry_msg_header_append_u32(m, from1), 0);
	spry_test_check(spry_send(hub, m, 0), 0);
	send_str(hub, "end");
	expect(sp[0], "to0");
	expect(sp[0], "end");
	expect(sp[1], "end");
	spry_close(hub);
	spry_close(sp[0]);
	spry_close(sp[1]);
}

/* A raw header that names no pipe of ours, or is short, skips nothing. */
static void
test_raw_send_without_origin_reaches_all(void **state)
{
	spry_socket *hub = bus_open(true), *sp[2];
	spry_msg    *m;

	(void)state;
	star("inproc://bus/raw-all", hub, sp);
	m = msg_str("stranger");
	assert_int_equal(spry_msg_header_append_u32(m, 0x7ffffff1u), 0);
	spry_test_check(spry_send(hub, m, 0), 0);
	m = msg_str("short");
	assert_int_equal(spry_msg_header_append(m, "ab", 2), 0);
	spry_test_check(spry_send(hub, m, 0), 0);
	for (int i = 0; i < 2; i++) {
		expect(sp[i], "stranger");
		expect(sp[i], "short");
	}
	spry_close(hub);
	spry_close(sp[0]);
	spry_close(sp[1]);
}

/* ---- best effort -------------------------------------------------------- */

static void
test_bus_without_peers_drops(void **state)
{
	spry_socket      *s = bus_open(false);
	spry_socket_stats st;

	(void)state;
	for (int i = 0; i < 5; i++) {
		send_str(s, "nobody");
	}
	spry_socket_stats_get(s, &st);
	assert_int_equal(st.sent, 0);
	assert_int_equal(st.dropped, 5);
	spry_close(s);
}

/* Wait (yielding) until s has accounted for n received messages. */
static void
await_accounted(spry_socket *s, uint64_t n)
{
	spry_time         end = spry_now() + GUARD;
	spry_socket_stats st;

	do {
		spry_socket_stats_get(s, &st);
		if (st.received + st.dropped >= n) {
			assert_int_equal(st.received + st.dropped, n);
			return;
		}
		sched_yield();
	} while (spry_now() < end);
	fail_msg("only %llu of %llu messages arrived",
	    (unsigned long long)(st.received + st.dropped),
	    (unsigned long long)n);
}

static void
test_full_receiver_drops_and_sender_never_blocks(void **state)
{
	spry_socket      *a = bus_open(false), *b = bus_open(false);
	spry_socket_stats st;
	spry_msg         *m;
	uint32_t          v, got = 0;
	int64_t           last = -1;

	(void)state;
	spry_test_check(spry_listen(a, "inproc://bus/slow", NULL), 0);
	spry_test_check(spry_dial(b, "inproc://bus/slow", NULL, 0), 0);
	spry_test_check(
	    spry_setopt(a, SPRY_OPT_SENDTIMEO, SPRY_DURATION(GUARD)), 0);
	for (uint32_t i = 0; i < 2000; i++) {
		assert_int_equal(spry_msg_alloc(&m, 0), 0);
		assert_int_equal(spry_msg_append_u32(m, i), 0);
		spry_test_check(spry_send(a, m, 0), 0);
	}
	await_accounted(b, 2000);
	while (spry_recv(b, &m, SPRY_FLAG_NONBLOCK) == 0) {
		assert_int_equal(spry_msg_trim_u32(m, &v), 0);
		spry_msg_free(m);
		assert_true((int64_t)v > last); /* in order */
		last = v;
		got++;
	}
	spry_socket_stats_get(b, &st);
	assert_true(st.dropped > 0);
	assert_true(got > 0);
	assert_int_equal(got, st.received);
	spry_close(a);
	spry_close(b);
}

/* ---- the checklist ------------------------------------------------------ */

static void
test_wrong_peer_is_rejected(void **state)
{
	spry_socket      *bus = bus_open(false), *pair;
	spry_socket_stats st;

	(void)state;
	assert_int_equal(spry_socket_open(&pair, SPRY_PAIR0, NULL), 0);
	spry_test_check(spry_listen(bus, "inproc://bus/wrongpeer", NULL), 0);
	spry_test_check(
	    spry_dial(pair, "inproc://bus/wrongpeer", NULL, 0), SPRY_EPROTO);
	spry_socket_stats_get(bus, &st);
	assert_int_equal(st.rejected, 1);
	assert_int_equal(st.pipes, 0);
	spry_socket_stats_get(pair, &st);
	assert_int_equal(st.pipes, 0);
	spry_close(bus);
	spry_close(pair);
}

static void
test_options_are_checked(void **state)
{
	spry_socket *s = bus_open(false), *r = bus_open(true);
	spry_optval  v = SPRY_BYTES("a", 1);

	(void)state;
	spry_test_check(spry_setopt(s, SPRY_OPT_SUBSCRIBE, SPRY_BYTES("a", 1)),
	    SPRY_ENOTSUP);
	spry_test_check(spry_getopt(s, SPRY_OPT_SUBSCRIBE, &v), SPRY_ENOTSUP);
	spry_test_check(
	    spry_setopt(r, SPRY_OPT_UNSUBSCRIBE, SPRY_BYTES("a", 1)),
	    SPRY_ENOTSUP);
	spry_test_check(spry_setopt(s, SPRY_OPT_SURVEYTIME, SPRY_DURATION(1)),
	    SPRY_ENOTSUP);
	spry_test_check(
	    spry_setopt(s, SPRY_OPT_RECVTIMEO, SPRY_INT(1)), SPRY_EBADTYPE);
	spry_test_check(
	    spry_setopt(s, SPRY_OPT_RECVBUF, SPRY_INT(0)), SPRY_EINVAL);
	spry_close(s);
	spry_close(r);
}

/* A thread blocked in spry_recv(_ctx), and what it got. */
typedef struct blocked {
	spry_socket *s;   /* the socket (held while it runs) */
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
	spry_socket *s = bus_open(false);
	blocked      b = {s, NULL, -1};
	pthread_t    t;

	(void)state;
	spry_socket_hold(s);
	assert_int_equal(pthread_create(&t, NULL, blocked_run, &b), 0);
	assert_true(spry_test_await_waiters(
	    spry_socket_recvbox(s, NULL), SPRY_SELECT_RECV, 1));
	spry_test_check(spry_close(s), 0);
	pthread_join(t, NULL);
	spry_test_check(b.rv, SPRY_ECLOSED);
	spry_socket_release(s);
}

static void
test_nonblocking_and_timeout(void **state)
{
	spry_socket *a = bus_open(false), *b = bus_open(false);
	spry_msg    *m;

	(void)state;
	spry_test_check(spry_listen(a, "inproc://bus/nonblock", NULL), 0);
	spry_test_check(spry_dial(b, "inproc://bus/nonblock", NULL, 0), 0);
	spry_test_check(spry_recv(a, &m, SPRY_FLAG_NONBLOCK), SPRY_EAGAIN);
	spry_test_check(
	    spry_setopt(a, SPRY_OPT_RECVTIMEO, SPRY_DURATION(SPRY_MSEC(5))),
	    0);
	spry_test_check(spry_recv(a, &m, 0), SPRY_ETIMEDOUT);
	send_str(b, "late");
	spry_test_check(
	    spry_setopt(a, SPRY_OPT_RECVTIMEO, SPRY_DURATION(GUARD)), 0);
	expect(a, "late");
	spry_close(a);
	spry_close(b);
}

static void
test_ctx_cancels_blocked_receive(void **state)
{
	spry_socket *s = bus_open(false);
	blocked      b = {s, NULL, -1};
	pthread_t    t;

	(void)state;
	assert_int_equal(spry_ctx_with_cancel(&b.ctx, NULL), 0);
	assert_int_equal(pthread_create(&t, NULL, blocked_run, &b), 0);
	assert_true(spry_test_await_waiters(
	    spry_socket_recvbox(s, NULL), SPRY_SELECT_RECV, 1));
	spry_ctx_cancel(b.ctx);
	pthread_join(t, NULL);
	spry_test_check(b.rv, SPRY_ECANCELED);
	spry_ctx_release(b.ctx);
	spry_close(s);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(test_identity, up, down),
	    cmocka_unit_test_setup_teardown(
	        test_mesh_reaches_every_other_never_back, up, down),
	    cmocka_unit_test_setup_teardown(
	        test_cooked_resend_goes_to_every_pipe, up, down),
	    cmocka_unit_test_setup_teardown(
	        test_raw_header_carries_the_pipe_id, up, down),
	    cmocka_unit_test_setup_teardown(
	        test_raw_send_without_origin_reaches_all, up, down),
	    cmocka_unit_test_setup_teardown(
	        test_bus_without_peers_drops, up, down),
	    cmocka_unit_test_setup_teardown(
	        test_full_receiver_drops_and_sender_never_blocks, up, down),
	    cmocka_unit_test_setup_teardown(
	        test_wrong_peer_is_rejected, up, down),
	    cmocka_unit_test_setup_teardown(
	        test_options_are_checked, up, down),
	    cmocka_unit_test_setup_teardown(
	        test_close_wakes_blocked_receiver, up, down),
	    cmocka_unit_test_setup_teardown(
	        test_nonblocking_and_timeout, up, down),
	    cmocka_unit_test_setup_teardown(
	        test_ctx_cancels_blocked_receive, up, down),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
