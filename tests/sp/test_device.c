/* SPDX-License-Identifier: MIT */
/*
 * tests/sp/test_device.c: spry_device over inproc: its argument checks,
 * forwarding both ways between two raw PAIR1 sockets (hops grow by one,
 * order holds under backpressure), requests and replies through a raw
 * REP / raw REQ pair, a BUS reflector on one socket that never echoes a
 * message to its sender, PUB/SUB one way, and the device's end: when either
 * socket closes (also while it waits for room) or when its actor is stopped.
 * Nothing here sleeps to synchronize or asserts a duration.
 */
#include "tests/support/support.h"

#include <pthread.h>
#include <sched.h>
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

/* The value of a message that holds exactly one word (freed). */
static uint32_t
val_of(spry_msg *m)
{
	assert_int_equal(spry_msg_len(m), 4);
	return spry_test_u32_val(m);
}

/* The hop word of a message received on a raw PAIR1 socket. */
static uint32_t
hops_of(spry_msg *m)
{
	uint32_t v;

	assert_int_equal(spry_msg_header_len(m), 4);
	assert_int_equal(spry_msg_header_trim_u32(m, &v), 0);
	return v;
}

static spry_socket *
open_sock(int proto, bool raw, size_t sendbuf)
{
	spry_socket_opts o = SPRY_SOCKET_OPTS_INIT;
	spry_socket     *s;

	o.raw     = raw;
	o.sendbuf = sendbuf;
	assert_int_equal(spry_socket_open(&s, proto, &o), 0);
	return s;
}

/* a listens on url, b dials it. */
static void
join(const char *url, spry_socket *a, spry_socket *b)
{
	spry_test_check(spry_listen(a, url, NULL), 0);
	spry_test_check(spry_dial(b, url, NULL, 0), 0);
}

/* Wait for dev to end (hang guard: 20 s) and give its exit reason. */
static int
dev_wait(spry_actor *dev)
{
	spry_ctx *ctx;
	int       reason = 0;

	assert_int_equal(spry_ctx_with_timeout(&ctx, NULL, SPRY_SEC(20)), 0);
	spry_test_check(spry_actor_wait(ctx, dev, &reason), 0);
	spry_ctx_cancel(ctx);
	spry_ctx_release(ctx);
	spry_actor_release(dev);
	return reason;
}

static void
test_device_checks_its_arguments(void **state)
{
	spry_socket *cooked = open_sock(SPRY_PAIR1, false, 0);
	spry_socket *p1     = open_sock(SPRY_PAIR1, true, 0);
	spry_socket *p0     = open_sock(SPRY_PAIR0, true, 0);
	spry_socket *push   = open_sock(SPRY_PUSH0, true, 0);
	spry_socket *gone   = open_sock(SPRY_PAIR1, true, 0);
	spry_actor  *dev    = NULL;

	(void)state;
	spry_test_check(spry_device(NULL, p1, &dev), SPRY_EINVAL);
	spry_test_check(spry_device(cooked, p1, &dev), SPRY_EINVAL);
	spry_test_check(spry_device(p1, cooked, &dev), SPRY_EINVAL);
	spry_test_check(spry_device(cooked, NULL, &dev), SPRY_EINVAL);
	spry_test_check(spry_device(p1, p0, &dev), SPRY_EINVAL);
	spry_test_check(spry_device(push, push, &dev), SPRY_EINVAL);
	spry_test_check(spry_device(push, NULL, &dev), SPRY_EINVAL);
	assert_null(dev);
	spry_socket_hold(gone);
	spry_close(gone);
	spry_test_check(spry_device(gone, p1, &dev), SPRY_ECLOSED);
	spry_test_check(spry_device(gone, NULL, &dev), SPRY_ECLOSED);
	assert_null(dev);
	spry_socket_release(gone);
	spry_close(cooked);
	spry_close(p1);
	spry_close(p0);
	spry_close(push);
}

/*
 * A PAIR1 line through a device: c (cooked) <-> r1 | device | r2 <-> e
 * (raw, to see the hop word). r2 sends through a one-message buffer, so
 * the device often finds it full and has to wait for room.
 */
typedef struct line {
	spry_socket *c, *r1, *r2, *e;
	spry_actor  *dev;
} line;

static void
line_open(line *l, const char *u1, const char *u2)
{
	l->c  = open_sock(SPRY_PAIR1, false, 0);
	l->r1 = open_sock(SPRY_PAIR1, true, 0);
	l->r2 = open_sock(SPRY_PAIR1, true, 1);
	l->e  = open_sock(SPRY_PAIR1, true, 0);
	join(u1, l->r1, l->c);
	join(u2, l->e, l->r2);
	spry_test_check(spry_device(l->r1, l->r2, &l->dev), 0);
	assert_non_null(l->dev);
}

static void
line_close(line *l)
{
	spry_close(l->c);
	spry_close(l->r1);
	assert_int_equal(dev_wait(l->dev), SPRY_EXIT_NORMAL);
	spry_close(l->r2);
	spry_close(l->e);
}

static void
test_device_forwards_pair1_both_ways_adding_a_hop(void **state)
{
	line      l;
	spry_msg *m;

	(void)state;
	line_open(&l, "inproc://dev-hops-1", "inproc://dev-hops-2");
	spry_test_check(spry_send(l.c, spry_test_u32_msg(1), 0), 0);
	spry_test_check(spry_recv(l.e, &m, 0), 0);
	assert_int_equal(hops_of(m), 2); /* c wrote 1, the device added 1 */
	assert_int_equal(val_of(m), 1);
	m = spry_test_u32_msg(2);
	assert_int_equal(spry_msg_header_append_u32(m, 0), 0);
	spry_test_check(spry_send(l.e, m, 0), 0);
	spry_test_check(spry_recv(l.c, &m, 0), 0);
	assert_int_equal(spry_msg_header_len(m), 0);
	assert_int_equal(val_of(m), 2);
	/*
	 * c's limit of 2: 3 arrives with 3 hops and is dropped, 4 with 2;
	 * one path, in order, so c seeing 4 first means 3 is gone.
	 */
	spry_test_check(spry_setopt(l.c, SPRY_OPT_MAXTTL, SPRY_INT(2)), 0);
	for (uint32_t v = 3; v <= 4; v++) {
		m = spry_test_u32_msg(v);
		assert_int_equal(spry_msg_header_append_u32(m, 4 - v), 0);
		spry_test_check(spry_send(l.e, m, 0), 0);
	}
	spry_test_check(spry_recv(l.c, &m, 0), 0);
	assert_int_equal(val_of(m), 4);
	line_close(&l);
}

enum { LINE_N = 20000 };

static void *
line_produce(void *arg)
{
	spry_socket *c = arg;

	for (uint32_t i = 0; i < LINE_N; i++) {
		spry_test_check(spry_send(c, spry_test_u32_msg(i), 0), 0);
	}
	return NULL;
}

static void
test_device_keeps_order_under_backpressure(void **state)
{
	line      l;
	spry_msg *m;
	pthread_t t;

	(void)state;
	line_open(&l, "inproc://dev-bp-1", "inproc://dev-bp-2");
	assert_int_equal(pthread_create(&t, NULL, line_produce, l.c), 0);
	for (uint32_t i = 0; i < LINE_N; i++) {
		spry_test_check(spry_recv(l.e, &m, 0), 0);
		assert_int_equal(hops_of(m), 2);
		assert_int_equal(val_of(m), i);
	}
	pthread_join(t, NULL);
	line_close(&l);
}

/*
 * e takes nothing, so everything fills up to the device, which then
 * holds a message and has a full mailbox: the close event r1 sends its
 * subscribers finds no room, and the device must still end.
 */
static void
test_device_ends_when_a_socket_closes_even_while_waiting(void **state)
{
	line          l;
	spry_mailbox *in;
	spry_time     guard = spry_deadline_after(SPRY_SEC(20));

	(void)state;
	line_open(&l, "inproc://dev-end-1", "inproc://dev-end-2");
	in = spry_actor_mailbox(l.dev);
	/* e 16 + its pipe 1 + r2 2 + device 1 + 16, and room to spare. */
	for (uint32_t i = 0; i < 40; i++) {
		spry_test_check(spry_send(l.c, spry_test_u32_msg(i), 0), 0);
	}
	/*
	 * r1 resumes its pipe only once the device's mailbox has drained to
	 * half (hysteresis), so the stalled line leaves it more than half
	 * full; fill the rest ourselves (as r1's messages, which the stuck
	 * device will never take).
	 */
	while (spry_mailbox_len(in) <= spry_mailbox_capacity(in) / 2) {
		assert_true(spry_now() < guard);
		sched_yield();
	}
	for (;;) {
		spry_msg *m = spry_test_u32_msg(99);

		spry_msg_set_socket(m, l.r1);
		if (spry_mailbox_trysend(in, m) != 0) {
			spry_msg_free(m);
			break;
		}
	}
	spry_close(l.r1);
	assert_int_equal(dev_wait(l.dev), SPRY_EXIT_NORMAL);
	spry_close(l.c);
	spry_close(l.r2);
	spry_close(l.e);
}

static void
test_stopping_the_device_leaves_the_sockets(void **state)
{
	line      l;
	spry_msg *m;

	(void)state;
	line_open(&l, "inproc://dev-stop-1", "inproc://dev-stop-2");
	spry_actor_stop(l.dev);
	assert_int_equal(dev_wait(l.dev), SPRY_EXIT_SHUTDOWN);
	/* No longer subscribed: r1's messages stay in its own recvbox. */
	spry_test_check(spry_send(l.c, spry_test_u32_msg(9), 0), 0);
	spry_test_check(spry_recv(l.r1, &m, 0), 0);
	assert_int_equal(hops_of(m), 1);
	assert_int_equal(val_of(m), 9);
	spry_close(l.c);
	spry_close(l.r1);
	spry_close(l.r2);
	spry_close(l.e);
}

/*
 * REQ -> device(raw REP, raw REQ) -> REP: the raw REP side pushes the
 * pipe id on the way in and routes the reply by it on the way out.
 */
static void
test_requests_and_replies_go_through_a_device(void **state)
{
	spry_socket *req  = open_sock(SPRY_REQ0, false, 0);
	spry_socket *rrep = open_sock(SPRY_REP0, true, 0);
	spry_socket *rreq = open_sock(SPRY_REQ0, true, 0);
	spry_socket *rep  = open_sock(SPRY_REP0, false, 0);
	spry_actor  *dev;
	spry_msg    *m;

	(void)state;
	join("inproc://dev-rr-1", rrep, req);
	join("inproc://dev-rr-2", rep, rreq);
	spry_test_check(spry_device(rrep, rreq, &dev), 0);
	for (uint32_t i = 0; i < 100; i++) {
		spry_test_check(spry_send(req, spry_test_u32_msg(i), 0), 0);
		spry_test_check(spry_recv(rep, &m, 0), 0);
		assert_true(spry_msg_header_len(m) > 4); /* device hop + id */
		assert_int_equal(spry_msg_trim_u32(m, &(uint32_t){0}), 0);
		assert_int_equal(spry_msg_append_u32(m, i + 1000), 0);
		spry_test_check(spry_send(rep, m, 0), 0);
		spry_test_check(spry_recv(req, &m, 0), 0);
		assert_int_equal(val_of(m), i + 1000);
	}
	spry_close(rreq);
	assert_int_equal(dev_wait(dev), SPRY_EXIT_NORMAL);
	spry_close(req);
	spry_close(rrep);
	spry_close(rep);
}

/* Three BUS peers around one raw BUS socket reflected onto itself. */
static void
test_bus_reflector_does_not_echo_to_the_sender(void **state)
{
	spry_socket *r = open_sock(SPRY_BUS0, true, 0);
	spry_socket *b[3];
	spry_actor  *dev;
	spry_msg    *m;

	(void)state;
	spry_test_check(spry_listen(r, "inproc://dev-bus", NULL), 0);
	for (int i = 0; i < 3; i++) {
		b[i] = open_sock(SPRY_BUS0, false, 0);
		spry_test_check(
		    spry_dial(b[i], "inproc://dev-bus", NULL, 0), 0);
	}
	spry_test_check(spry_device(r, NULL, &dev), 0);
	spry_test_check(spry_send(b[0], spry_test_u32_msg(1), 0), 0);
	for (int i = 1; i < 3; i++) {
		spry_test_check(spry_recv(b[i], &m, 0), 0);
		assert_int_equal(val_of(m), 1);
	}
	/*
	 * The reflector sends each message to all its peers before it takes
	 * the next, so an echo of 1 would reach b[0] ahead of 2, and one of
	 * 2 would reach b[1] ahead of 3.
	 */
	spry_test_check(spry_send(b[1], spry_test_u32_msg(2), 0), 0);
	spry_test_check(spry_recv(b[0], &m, 0), 0);
	assert_int_equal(val_of(m), 2);
	spry_test_check(spry_send(b[0], spry_test_u32_msg(3), 0), 0);
	spry_test_check(spry_recv(b[1], &m, 0), 0);
	assert_int_equal(val_of(m), 3);
	for (uint32_t v = 2; v <= 3; v++) {
		spry_test_check(spry_recv(b[2], &m, 0), 0);
		assert_int_equal(val_of(m), v);
	}
	spry_close(r);
	assert_int_equal(dev_wait(dev), SPRY_EXIT_NORMAL);
	for (int i = 0; i < 3; i++) {
		spry_close(b[i]);
	}
}

/*
 * PUB -> device(raw SUB, raw PUB) -> SUB: one way only; the device
 * takes from the SUB side and gives to the PUB side, and cannot take
 * from the PUB (it cannot receive), whose close it still notices.
 */
static void
test_pubsub_goes_one_way_through_a_device(void **state)
{
	spry_socket *pub  = open_sock(SPRY_PUB0, false, 0);
	spry_socket *rsub = open_sock(SPRY_SUB0, true, 0);
	spry_socket *rpub = open_sock(SPRY_PUB0, true, 0);
	spry_socket *sub  = open_sock(SPRY_SUB0, false, 0);
	spry_actor  *dev;
	spry_msg    *m;

	(void)state;
	spry_test_check(
	    spry_setopt(sub, SPRY_OPT_SUBSCRIBE, SPRY_BYTES("", 0)), 0);
	join("inproc://dev-ps-1", pub, rsub);
	join("inproc://dev-ps-2", rpub, sub);
	spry_test_check(spry_device(rsub, rpub, &dev), 0);
	for (uint32_t i = 0; i < 8; i++) {
		spry_test_check(spry_send(pub, spry_test_u32_msg(i), 0), 0);
		spry_test_check(spry_recv(sub, &m, 0), 0);
		assert_int_equal(val_of(m), i);
	}
	spry_close(rpub);
	assert_int_equal(dev_wait(dev), SPRY_EXIT_NORMAL);
	spry_close(pub);
	spry_close(rsub);
	spry_close(sub);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(
	        test_device_checks_its_arguments, up, down),
	    cmocka_unit_test_setup_teardown(
	        test_device_forwards_pair1_both_ways_adding_a_hop, up, down),
	    cmocka_unit_test_setup_teardown(
	        test_device_keeps_order_under_backpressure, up, down),
	    cmocka_unit_test_setup_teardown(
	        test_device_ends_when_a_socket_closes_even_while_waiting, up,
	        down),
	    cmocka_unit_test_setup_teardown(
	        test_stopping_the_device_leaves_the_sockets, up, down),
	    cmocka_unit_test_setup_teardown(
	        test_requests_and_replies_go_through_a_device, up, down),
	    cmocka_unit_test_setup_teardown(
	        test_bus_reflector_does_not_echo_to_the_sender, up, down),
	    cmocka_unit_test_setup_teardown(
	        test_pubsub_goes_one_way_through_a_device, up, down),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
