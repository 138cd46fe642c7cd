/* SPDX-License-Identifier: MIT */
/*
 * tests/actors/test_actor.c: actor contracts: event order, sends and
 * their errors, exit reasons, monitors, timers, cancellation through the
 * ctx, stop and kill, waiting from threads, and message exchange patterns
 * that exercise hand-off and stealing (ping-pong, a ring, skynet).
 *
 * Actors report to the test thread through a mailbox of small reports;
 * the test thread waits with a generous ctx deadline that only guards
 * against hangs (nothing here asserts a duration).
 */
#include "tests/support/support.h"

#include <pthread.h>
#include <sched.h>
#include <stdlib.h>
#include <string.h>

enum { R_START = 1, R_MSG, R_TIMER, R_DOWN, R_CANCEL, R_EXIT, R_SELF };

static void
expect(int what, int a)
{
	spry_test_report r = spry_test_get();

	assert_int_equal(r.what, what);
	assert_int_equal(r.a, a);
}

/* A behavior that reports every event; a message of 0 makes it fail
 * with SPRY_EPROTO, 1 exits normally, others are echoed as R_MSG. */
static int
reporter(spry_actor *self, const spry_event *ev, void *st)
{
	(void)st;
	switch (ev->type) {
	case SPRY_EV_START:
		spry_test_put(R_START, 0, 0);
		spry_test_put(R_SELF, spry_actor_self() == self, 0);
		return SPRY_CONTINUE;
	case SPRY_EV_MSG:
		if ((uintptr_t)ev->msg == 0) {
			return SPRY_EPROTO;
		}
		if ((uintptr_t)ev->msg == 1) {
			return SPRY_EXIT_NORMAL;
		}
		spry_test_put(R_MSG, (int)(uintptr_t)ev->msg, 0);
		return SPRY_CONTINUE;
	case SPRY_EV_TIMER:
		spry_test_put(R_TIMER, (int)(uintptr_t)ev->msg, ev->ref);
		return SPRY_CONTINUE;
	case SPRY_EV_DOWN:
		spry_test_put(R_DOWN, ev->reason, ev->ref);
		return SPRY_CONTINUE;
	case SPRY_EV_CANCEL:
		spry_test_put(R_CANCEL, ev->reason, 0);
		return SPRY_CONTINUE;
	}
	return SPRY_EINTERNAL;
}

static void
report_exit(spry_actor *self, int reason, void *st)
{
	(void)self;
	(void)st;
	spry_test_put(R_EXIT, reason, 0);
}

static spry_actor *
spawn_reporter(spry_ctx *ctx)
{
	spry_actor_opts o = SPRY_ACTOR_OPTS_INIT;
	spry_actor     *a;

	o.behavior = reporter;
	o.exit_cb  = report_exit;
	o.ctx      = ctx;
	spry_test_check(spry_actor_spawn(&a, &o), 0);
	return a;
}

static void
test_start_comes_first_then_messages_in_order(void **state)
{
	spry_actor *a = spawn_reporter(NULL);
	int         reason;

	(void)state;
	for (int i = 2; i < 10; i++) {
		spry_test_check(spry_actor_send(a, (void *)(uintptr_t)i), 0);
	}
	spry_test_check(spry_actor_send(a, (void *)(uintptr_t)1), 0);
	expect(R_START, 0);
	expect(R_SELF, 1);
	for (int i = 2; i < 10; i++) {
		expect(R_MSG, i);
	}
	expect(R_EXIT, SPRY_EXIT_NORMAL);
	spry_test_check(spry_actor_wait(NULL, a, &reason), 0);
	assert_int_equal(reason, SPRY_EXIT_NORMAL);
	assert_null(spry_actor_self());
	spry_actor_release(a);
}

static void
test_failure_code_is_the_exit_reason_and_sends_then_fail(void **state)
{
	spry_actor *a = spawn_reporter(NULL);
	int         reason;

	(void)state;
	spry_test_check(spry_actor_send(a, (void *)(uintptr_t)0), 0);
	spry_test_check(spry_actor_wait(NULL, a, &reason), 0);
	assert_int_equal(reason, SPRY_EPROTO);
	assert_true(spry_exit_abnormal(reason));
	spry_test_check(
	    spry_actor_send(a, (void *)(uintptr_t)5), SPRY_ECLOSED);
	expect(R_START, 0);
	expect(R_SELF, 1);
	expect(R_EXIT, SPRY_EPROTO);
	spry_actor_release(a);
}

/* Holds its worker in START until released, so its mailbox fills up. */
static uint32_t gate;

static int
gated(spry_actor *self, const spry_event *ev, void *st)
{
	(void)self;
	(void)st;
	if (ev->type == SPRY_EV_START) {
		while (!__atomic_load_n(&gate, __ATOMIC_ACQUIRE)) {
			sched_yield();
		}
	}
	if (ev->type == SPRY_EV_MSG && (uintptr_t)ev->msg == 1) {
		return SPRY_EXIT_NORMAL;
	}
	return SPRY_CONTINUE;
}

static void
test_full_mailbox_gives_eagain_and_blocking_send_waits(void **state)
{
	spry_actor_opts o = SPRY_ACTOR_OPTS_INIT;
	spry_actor     *a;
	spry_ctx       *ctx;

	(void)state;
	gate       = 0;
	o.behavior = gated;
	o.capacity = 2;
	spry_test_check(spry_actor_spawn(&a, &o), 0);
	spry_test_check(spry_actor_send(a, (void *)(uintptr_t)7), 0);
	spry_test_check(spry_actor_send(a, (void *)(uintptr_t)8), 0);
	spry_test_check(spry_actor_send(a, (void *)(uintptr_t)9), SPRY_EAGAIN);
	spry_test_check(spry_ctx_with_timeout(&ctx, NULL, SPRY_MSEC(1)), 0);
	spry_test_check(spry_mailbox_send(
	                    ctx, spry_actor_mailbox(a), (void *)(uintptr_t)9),
	    SPRY_ETIMEDOUT);
	spry_ctx_release(ctx);
	__atomic_store_n(&gate, 1, __ATOMIC_RELEASE);
	/* Blocks until the actor drains; then the exit message goes in. */
	spry_test_check(spry_mailbox_send(
	                    NULL, spry_actor_mailbox(a), (void *)(uintptr_t)9),
	    0);
	spry_test_check(spry_mailbox_send(
	                    NULL, spry_actor_mailbox(a), (void *)(uintptr_t)1),
	    0);
	spry_test_check(spry_actor_wait(NULL, a, NULL), 0);
	spry_actor_release(a);
}

/*
 * Counts messages, held in START by the gate; reports when it has seen
 * them all (the test's `backlog`).
 */
static int backlog;

static int
gated_counter(spry_actor *self, const spry_event *ev, void *st)
{
	static int seen;

	(void)self;
	(void)st;
	if (ev->type == SPRY_EV_START) {
		seen = 0;
		while (!__atomic_load_n(&gate, __ATOMIC_ACQUIRE)) {
			sched_yield();
		}
	}
	if (ev->type == SPRY_EV_MSG && ++seen == backlog) {
		spry_test_put(R_MSG, seen, 0);
	}
	return SPRY_CONTINUE;
}

/*
 * Every message was sent (and noted) before the actor's first turn, so
 * no note comes during the turns that follow: a turn that ends on its
 * batch limit must still bring the actor back for the rest.
 */
static void
test_backlog_beyond_a_batch_is_all_delivered(void **state)
{
	spry_actor_opts o = SPRY_ACTOR_OPTS_INIT;
	spry_actor     *a;

	(void)state;
	gate       = 0;
	backlog    = 1000; /* many batches of the default 64 */
	o.behavior = gated_counter;
	o.capacity = 1024;
	spry_test_check(spry_actor_spawn(&a, &o), 0);
	for (int i = 0; i < backlog; i++) {
		spry_test_check(
		    spry_actor_send(a, (void *)(uintptr_t)(i + 2)), 0);
	}
	__atomic_store_n(&gate, 1, __ATOMIC_RELEASE);
	expect(R_MSG, backlog);
	spry_actor_stop(a);
	spry_test_check(spry_actor_wait(NULL, a, NULL), 0);
	spry_actor_release(a);
}

static void
test_ctx_cancel_delivers_cancel_then_shutdown(void **state)
{
	spry_ctx   *ctx;
	spry_actor *a;
	int         reason;

	(void)state;
	spry_test_check(spry_ctx_with_cancel(&ctx, NULL), 0);
	a = spawn_reporter(ctx);
	expect(R_START, 0);
	expect(R_SELF, 1);
	spry_ctx_cancel(ctx);
	expect(R_CANCEL, SPRY_ECANCELED);
	expect(R_EXIT, SPRY_EXIT_SHUTDOWN);
	spry_test_check(spry_actor_wait(NULL, a, &reason), 0);
	assert_int_equal(reason, SPRY_EXIT_SHUTDOWN);
	assert_false(spry_exit_abnormal(reason));
	assert_ptr_equal(spry_actor_ctx(a), ctx);
	spry_actor_release(a);
	spry_ctx_release(ctx);
}

static void
test_ctx_deadline_delivers_cancel_with_timedout(void **state)
{
	spry_ctx   *ctx;
	spry_actor *a;

	(void)state;
	spry_test_check(spry_ctx_with_timeout(&ctx, NULL, SPRY_MSEC(20)), 0);
	a = spawn_reporter(ctx);
	expect(R_START, 0);
	expect(R_SELF, 1);
	expect(R_CANCEL, SPRY_ETIMEDOUT);
	expect(R_EXIT, SPRY_EXIT_SHUTDOWN);
	spry_test_check(spry_actor_wait(NULL, a, NULL), 0);
	spry_actor_release(a);
	spry_ctx_release(ctx);
}

static void
test_spawn_under_ended_ctx_starts_then_cancels(void **state)
{
	spry_ctx   *ctx;
	spry_actor *a;

	(void)state;
	spry_test_check(spry_ctx_with_cancel(&ctx, NULL), 0);
	spry_ctx_cancel(ctx);
	a = spawn_reporter(ctx);
	expect(R_START, 0);
	expect(R_SELF, 1);
	expect(R_CANCEL, SPRY_ECANCELED);
	expect(R_EXIT, SPRY_EXIT_SHUTDOWN);
	spry_actor_release(a);
	spry_ctx_release(ctx);
}

static void
test_stop_cancels_and_kill_skips_the_behavior(void **state)
{
	spry_actor *a = spawn_reporter(NULL);
	spry_actor *b;
	int         reason;

	(void)state;
	expect(R_START, 0);
	expect(R_SELF, 1);
	spry_actor_stop(a);
	spry_actor_stop(a); /* idempotent */
	expect(R_CANCEL, SPRY_ECANCELED);
	expect(R_EXIT, SPRY_EXIT_SHUTDOWN);
	spry_test_check(spry_actor_wait(NULL, a, &reason), 0);
	assert_int_equal(reason, SPRY_EXIT_SHUTDOWN);
	spry_actor_stop(a); /* ended: nothing happens */
	spry_actor_release(a);

	b = spawn_reporter(NULL);
	expect(R_START, 0);
	expect(R_SELF, 1);
	spry_actor_kill(b);
	expect(R_EXIT, SPRY_EXIT_KILLED); /* no R_CANCEL before it */
	spry_test_check(spry_actor_wait(NULL, b, &reason), 0);
	assert_int_equal(reason, SPRY_EXIT_KILLED);
	assert_true(spry_exit_abnormal(reason));
	spry_actor_release(b);
}

/* The watcher: monitors the actor it gets as a message. */
static int
watcher(spry_actor *self, const spry_event *ev, void *st)
{
	uint64_t ref;

	(void)st;
	if (ev->type == SPRY_EV_MSG) {
		spry_actor *t = ev->msg;

		spry_test_check(spry_actor_monitor(self, t, &ref), 0);
		spry_test_put(R_MSG, 0, ref);
		spry_actor_release(t);
	} else if (ev->type == SPRY_EV_DOWN) {
		spry_test_put(R_DOWN, ev->reason, ev->ref);
		assert_non_null(ev->actor);
	}
	return SPRY_CONTINUE;
}

static void
test_monitor_delivers_one_down_per_monitor(void **state)
{
	spry_actor_opts  o = SPRY_ACTOR_OPTS_INIT;
	spry_actor      *w, *t;
	spry_test_report r1, r2, d1, d2;

	(void)state;
	o.behavior = watcher;
	spry_test_check(spry_actor_spawn(&w, &o), 0);
	t = spawn_reporter(NULL);
	expect(R_START, 0);
	expect(R_SELF, 1);
	spry_actor_hold(t);
	spry_test_check(spry_actor_send(w, t), 0);
	r1 = spry_test_get();
	spry_actor_hold(t);
	spry_test_check(spry_actor_send(w, t), 0);
	r2 = spry_test_get();
	assert_int_not_equal(r1.b, r2.b);
	spry_test_check(spry_actor_send(t, (void *)(uintptr_t)0), 0);
	expect(R_EXIT, SPRY_EPROTO);
	d1 = spry_test_get();
	d2 = spry_test_get();
	assert_int_equal(d1.what, R_DOWN);
	assert_int_equal(d2.what, R_DOWN);
	assert_int_equal(d1.a, SPRY_EPROTO);
	assert_int_equal(d2.a, SPRY_EPROTO);
	assert_true(
	    (d1.b == r1.b && d2.b == r2.b) || (d1.b == r2.b && d2.b == r1.b));
	/* Monitoring an ended actor notifies at once. */
	spry_actor_hold(t);
	spry_test_check(spry_actor_send(w, t), 0);
	r1 = spry_test_get();
	d1 = spry_test_get();
	assert_int_equal(d1.what, R_DOWN);
	assert_int_equal(d1.b, r1.b);
	spry_actor_stop(w);
	spry_test_check(spry_actor_wait(NULL, w, NULL), 0);
	spry_actor_release(w);
	spry_actor_release(t);
}

static void
test_demonitor_removes_the_notice(void **state)
{
	spry_actor *w = spawn_reporter(NULL);
	spry_actor *t = spawn_reporter(NULL);
	uint64_t    ref, ref2;

	(void)state;
	for (int i = 0; i < 4; i++) {
		(void)spry_test_get(); /* two STARTs, two SELFs */
	}
	spry_test_check(spry_actor_monitor(w, t, &ref), 0);
	spry_test_check(spry_actor_monitor(w, t, &ref2), 0);
	spry_test_check(spry_actor_demonitor(w, t, ref), 0);
	spry_test_check(spry_actor_demonitor(w, t, ref), SPRY_ENOENT);
	spry_actor_stop(t);
	expect(R_CANCEL, SPRY_ECANCELED);
	expect(R_EXIT, SPRY_EXIT_SHUTDOWN);
	{
		spry_test_report d =
		    spry_test_get(); /* only the second monitor fires */

		assert_int_equal(d.what, R_DOWN);
		assert_int_equal(d.b, ref2);
	}
	spry_actor_stop(w);
	expect(R_CANCEL, SPRY_ECANCELED);
	expect(R_EXIT, SPRY_EXIT_SHUTDOWN);
	spry_actor_release(w);
	spry_actor_release(t);
	spry_test_check(spry_actor_monitor(NULL, t, NULL), SPRY_EINVAL);
}

/* Sets two timers, cancels the first; reports the ids it expects. */
static int
timers(spry_actor *self, const spry_event *ev, void *st)
{
	uint64_t a, b;

	(void)st;
	if (ev->type == SPRY_EV_START) {
		spry_test_check(spry_actor_after(self, SPRY_MSEC(1),
		                    (void *)(uintptr_t)11, &a),
		    0);
		spry_test_check(spry_actor_after(self, SPRY_MSEC(30),
		                    (void *)(uintptr_t)22, &b),
		    0);
		spry_test_check(spry_actor_cancel_timer(self, a), 0);
		spry_test_check(spry_actor_cancel_timer(self, a), SPRY_ENOENT);
		spry_test_put(R_START, 0, b);
	} else if (ev->type == SPRY_EV_TIMER) {
		spry_test_put(R_TIMER, (int)(uintptr_t)ev->msg, ev->ref);
		return SPRY_EXIT_NORMAL;
	}
	return SPRY_CONTINUE;
}

static void
test_timer_fires_with_tag_and_canceled_timer_never_does(void **state)
{
	spry_actor_opts  o = SPRY_ACTOR_OPTS_INIT;
	spry_actor      *a;
	spry_test_report s, t;

	(void)state;
	o.behavior = timers;
	spry_test_check(spry_actor_spawn(&a, &o), 0);
	s = spry_test_get();
	t = spry_test_get();
	assert_int_equal(t.what, R_TIMER);
	assert_int_equal(t.a, 22);
	assert_int_equal(t.b, s.b);
	spry_test_check(spry_actor_wait(NULL, a, NULL), 0);
	/* Outside its own behavior an actor cannot set timers. */
	spry_test_check(spry_actor_after(a, 1, NULL, NULL), SPRY_ESTATE);
	spry_test_check(spry_actor_cancel_timer(a, 1), SPRY_ESTATE);
	spry_actor_release(a);
}

/* An actor with a long timer pending ends: the timer goes with it. */
static int
long_timer(spry_actor *self, const spry_event *ev, void *st)
{
	(void)st;
	if (ev->type == SPRY_EV_START) {
		spry_test_check(
		    spry_actor_after(self, SPRY_SEC(3600), NULL, NULL), 0);
	}
	return SPRY_CONTINUE;
}

static void
test_pending_timers_die_with_their_actor(void **state)
{
	spry_actor_opts o = SPRY_ACTOR_OPTS_INIT;
	spry_actor     *a;

	(void)state;
	o.behavior = long_timer;
	spry_test_check(spry_actor_spawn(&a, &o), 0);
	spry_actor_stop(a);
	spry_test_check(spry_actor_wait(NULL, a, NULL), 0);
	spry_actor_release(a);
	/* Teardown asserts the timer record and the actor were freed. */
}

static int leftovers;

static void
count_leftover(void *msg, void *arg)
{
	(void)msg;
	(void)arg;
	leftovers++;
}

/* Ends from START, once the gate opens, without reading its mailbox. */
static int
gated_exit(spry_actor *self, const spry_event *ev, void *st)
{
	(void)self;
	(void)st;
	while (!__atomic_load_n(&gate, __ATOMIC_ACQUIRE)) {
		sched_yield();
	}
	return ev->type == SPRY_EV_START ? SPRY_EXIT_NORMAL : SPRY_EINTERNAL;
}

static void
test_leftover_messages_are_disposed(void **state)
{
	spry_actor_opts o = SPRY_ACTOR_OPTS_INIT;
	spry_actor     *a;

	(void)state;
	gate         = 0;
	leftovers    = 0;
	o.behavior   = gated_exit;
	o.capacity   = 8;
	o.dispose_cb = count_leftover;
	spry_test_check(spry_actor_spawn(&a, &o), 0);
	for (int i = 2; i < 6; i++) {
		spry_test_check(spry_actor_send(a, (void *)(uintptr_t)i), 0);
	}
	__atomic_store_n(&gate, 1, __ATOMIC_RELEASE);
	spry_test_check(spry_actor_wait(NULL, a, NULL), 0);
	assert_int_equal(leftovers, 4);
	spry_test_check(
	    spry_actor_send(a, (void *)(uintptr_t)9), SPRY_ECLOSED);
	spry_actor_release(a);
}

static void
test_wait_times_out_and_is_refused_in_actor_code(void **state)
{
	spry_actor *a = spawn_reporter(NULL);
	spry_ctx   *ctx;

	(void)state;
	spry_test_check(spry_ctx_with_timeout(&ctx, NULL, SPRY_MSEC(5)), 0);
	spry_test_check(spry_actor_wait(ctx, a, NULL), SPRY_ETIMEDOUT);
	spry_ctx_release(ctx);
	spry_test_check(spry_ctx_with_cancel(&ctx, NULL), 0);
	spry_ctx_cancel(ctx);
	spry_test_check(spry_actor_wait(ctx, a, NULL), SPRY_ECANCELED);
	spry_ctx_release(ctx);
	spry_actor_stop(a);
	spry_test_check(spry_actor_wait(NULL, a, NULL), 0);
	spry_actor_release(a);
	spry_test_check(spry_actor_wait(NULL, NULL, NULL), SPRY_EINVAL);
}

static void
test_spawn_rejects_bad_options(void **state)
{
	spry_actor_opts o = SPRY_ACTOR_OPTS_INIT;
	spry_actor     *a = NULL;

	(void)state;
	spry_test_check(spry_actor_spawn(&a, NULL), SPRY_EINVAL);
	spry_test_check(spry_actor_spawn(&a, &o), SPRY_EINVAL); /* behavior */
	o.behavior = reporter;
	o.size     = 3;
	spry_test_check(spry_actor_spawn(&a, &o), SPRY_EINVAL);
	o.size     = sizeof(o);
	o.capacity = SPRY_MAILBOX_MAX_CAPACITY + 1;
	spry_test_check(spry_actor_spawn(&a, &o), SPRY_EINVAL);
	assert_null(a);
	spry_test_check(spry_actor_send(NULL, NULL), SPRY_EINVAL);
}

/* Ping-pong: two actors bounce a counter; the last one reports. */
static spry_actor *pp[2];

static int
pingpong(spry_actor *self, const spry_event *ev, void *st)
{
	uintptr_t   me = (uintptr_t)st;
	uintptr_t   n;
	spry_actor *other = pp[1 - me];

	(void)self;
	if (ev->type != SPRY_EV_MSG) {
		return SPRY_CONTINUE;
	}
	n = (uintptr_t)ev->msg;
	if (n == 0) {
		spry_test_put(R_MSG, (int)me, 0);
		return SPRY_EXIT_NORMAL;
	}
	spry_test_check(spry_actor_send(other, (void *)(n - 1)), 0);
	return n == 1 ? SPRY_EXIT_NORMAL : SPRY_CONTINUE;
}

static void
test_pingpong_hands_a_counter_back_and_forth(void **state)
{
	spry_actor_opts o = SPRY_ACTOR_OPTS_INIT;

	(void)state;
	o.behavior = pingpong;
	for (uintptr_t i = 0; i < 2; i++) {
		o.state = (void *)i;
		spry_test_check(spry_actor_spawn(&pp[i], &o), 0);
	}
	spry_test_check(spry_actor_send(pp[0], (void *)(uintptr_t)100000), 0);
	/* 100000 is even: actor 0 sees 100000, 98000, ..., 2, 0. */
	expect(R_MSG, 0);
	for (int i = 0; i < 2; i++) {
		spry_test_check(spry_actor_wait(NULL, pp[i], NULL), 0);
		spry_actor_release(pp[i]);
	}
}

/* A ring of actors passing a token; the state is the next actor. */
#define RING 100
static spry_actor *ring[RING];

static int
ring_member(spry_actor *self, const spry_event *ev, void *st)
{
	uintptr_t i = (uintptr_t)st;
	uintptr_t hops;

	(void)self;
	if (ev->type != SPRY_EV_MSG) {
		return SPRY_CONTINUE;
	}
	hops = (uintptr_t)ev->msg;
	if (hops == 0) {
		spry_test_put(R_MSG, (int)i, 0);
		return SPRY_CONTINUE;
	}
	spry_test_check(
	    spry_actor_send(ring[(i + 1) % RING], (void *)(hops - 1)), 0);
	return SPRY_CONTINUE;
}

static void
test_token_ring_visits_every_member_in_order(void **state)
{
	spry_actor_opts o = SPRY_ACTOR_OPTS_INIT;

	(void)state;
	o.behavior = ring_member;
	for (uintptr_t i = 0; i < RING; i++) {
		o.state = (void *)i;
		spry_test_check(spry_actor_spawn(&ring[i], &o), 0);
	}
	spry_test_check(spry_actor_send(ring[0], (void *)(uintptr_t)20037), 0);
	expect(R_MSG, 20037 % RING);
	for (int i = 0; i < RING; i++) {
		spry_actor_stop(ring[i]);
		spry_test_check(spry_actor_wait(NULL, ring[i], NULL), 0);
		spry_actor_release(ring[i]);
	}
}

/* Skynet, small: every node a real actor; leaves send their ordinal. */
typedef struct sky {
	spry_actor *parent; /* NULL for the root */
	uint64_t    num;
	uint64_t    size;
	uint64_t    sum;
	int         got;
} sky;

static void
sky_free(spry_actor *self, int reason, void *st)
{
	(void)self;
	(void)reason;
	free(st);
}

static int sky_node(spry_actor *self, const spry_event *ev, void *st);

static void
sky_reply(sky *s, uint64_t v)
{
	if (s->parent == NULL) {
		spry_test_put(R_MSG, 0, v);
	} else {
		spry_test_check(spry_actor_send(s->parent, (void *)v), 0);
		spry_actor_release(s->parent);
	}
}

static int
sky_node(spry_actor *self, const spry_event *ev, void *st)
{
	sky *s = st;

	if (ev->type == SPRY_EV_START) {
		if (s->size == 1) {
			sky_reply(s, s->num);
			return SPRY_EXIT_NORMAL;
		}
		for (uint64_t i = 0; i < 10; i++) {
			spry_actor_opts o = SPRY_ACTOR_OPTS_INIT;
			sky            *c = calloc(1, sizeof(*c));

			assert_non_null(c);
			c->parent = self;
			c->size   = s->size / 10;
			c->num    = s->num + i * c->size;
			spry_actor_hold(self);
			o.behavior = sky_node;
			o.state    = c;
			o.exit_cb  = sky_free;
			spry_test_check(spry_actor_spawn(NULL, &o), 0);
		}
		return SPRY_CONTINUE;
	}
	if (ev->type == SPRY_EV_MSG) {
		s->sum += (uint64_t)ev->msg;
		if (++s->got == 10) {
			sky_reply(s, s->sum);
			return SPRY_EXIT_NORMAL;
		}
	}
	return SPRY_CONTINUE;
}

static void
test_skynet_of_real_actors_sums_correctly(void **state)
{
	spry_actor_opts  o    = SPRY_ACTOR_OPTS_INIT;
	sky             *root = calloc(1, sizeof(*root));
	spry_test_report r;

	(void)state;
	assert_non_null(root);
	root->size = 10000;
	o.behavior = sky_node;
	o.state    = root;
	o.exit_cb  = sky_free;
	spry_test_check(spry_actor_spawn(NULL, &o), 0);
	r = spry_test_get();
	assert_int_equal(r.b, 10000ULL * 9999 / 2);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(
	        test_start_comes_first_then_messages_in_order,
	        spry_test_up_reports, spry_test_down_reports),
	    cmocka_unit_test_setup_teardown(
	        test_failure_code_is_the_exit_reason_and_sends_then_fail,
	        spry_test_up_reports, spry_test_down_reports),
	    cmocka_unit_test_setup_teardown(
	        test_full_mailbox_gives_eagain_and_blocking_send_waits,
	        spry_test_up_reports, spry_test_down_reports),
	    cmocka_unit_test_setup_teardown(
	        test_backlog_beyond_a_batch_is_all_delivered,
	        spry_test_up_reports, spry_test_down_reports),
	    cmocka_unit_test_setup_teardown(
	        test_ctx_cancel_delivers_cancel_then_shutdown,
	        spry_test_up_reports, spry_test_down_reports),
	    cmocka_unit_test_setup_teardown(
	        test_ctx_deadline_delivers_cancel_with_timedout,
	        spry_test_up_reports, spry_test_down_reports),
	    cmocka_unit_test_setup_teardown(
	        test_spawn_under_ended_ctx_starts_then_cancels,
	        spry_test_up_reports, spry_test_down_reports),
	    cmocka_unit_test_setup_teardown(
	        test_stop_cancels_and_kill_skips_the_behavior,
	        spry_test_up_reports, spry_test_down_reports),
	    cmocka_unit_test_setup_teardown(
	        test_monitor_delivers_one_down_per_monitor,
	        spry_test_up_reports, spry_test_down_reports),
	    cmocka_unit_test_setup_teardown(test_demonitor_removes_the_notice,
	        spry_test_up_reports, spry_test_down_reports),
	    cmocka_unit_test_setup_teardown(
	        test_timer_fires_with_tag_and_canceled_timer_never_does,
	        spry_test_up_reports, spry_test_down_reports),
	    cmocka_unit_test_setup_teardown(
	        test_pending_timers_die_with_their_actor, spry_test_up_reports,
	        spry_test_down_reports),
	    cmocka_unit_test_setup_teardown(
	        test_leftover_messages_are_disposed, spry_test_up_reports,
	        spry_test_down_reports),
	    cmocka_unit_test_setup_teardown(
	        test_wait_times_out_and_is_refused_in_actor_code,
	        spry_test_up_reports, spry_test_down_reports),
	    cmocka_unit_test_setup_teardown(test_spawn_rejects_bad_options,
	        spry_test_up_reports, spry_test_down_reports),
	    cmocka_unit_test_setup_teardown(
	        test_pingpong_hands_a_counter_back_and_forth,
	        spry_test_up_reports, spry_test_down_reports),
	    cmocka_unit_test_setup_teardown(
	        test_token_ring_visits_every_member_in_order,
	        spry_test_up_reports, spry_test_down_reports),
	    cmocka_unit_test_setup_teardown(
	        test_skynet_of_real_actors_sums_correctly,
	        spry_test_up_reports, spry_test_down_reports),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
