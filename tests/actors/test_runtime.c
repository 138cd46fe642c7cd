/* SPDX-License-Identifier: MIT */
/*
 * tests/actors/test_runtime.c: runtime start and stop, and scheduler
 * properties: lazy start, clean stop with live actors, stop from actor
 * code refused, parallel workers, exactly-once scheduling under many
 * producers, and bounded turns (one busy actor cannot starve another).
 */
#include "tests/support/support.h"

#include "actors/actor.h"

#include <pthread.h>
#include <sched.h>
#include <unistd.h>

/* Hang guard for spin-waits: fail after 30 s, never a timing assert. */
static void
spin_until(const uint32_t *flag)
{
	spry_time deadline = spry_now() + SPRY_SEC(30);

	while (!__atomic_load_n(flag, __ATOMIC_ACQUIRE)) {
		if (spry_now() > deadline) {
			fail_msg("spin_until: hang guard reached");
		}
		sched_yield();
	}
}

static void
test_start_twice_is_busy_and_stop_is_idempotent(void **state)
{
	spry_runtime_opts o = SPRY_RUNTIME_OPTS_INIT;

	(void)state;
	o.workers = 3;
	spry_test_check(spry_runtime_start(&o), 0);
	assert_int_equal(spry_runtime_workers(), 3);
	spry_test_check(spry_runtime_start(&o), SPRY_EBUSY);
	spry_test_check(spry_runtime_stop(), 0);
	assert_int_equal(spry_runtime_workers(), 0);
	spry_test_check(spry_runtime_stop(), 0);
	spry_test_assert_clean();
}

static void
test_bad_options_are_rejected(void **state)
{
	spry_runtime_opts o = SPRY_RUNTIME_OPTS_INIT;

	(void)state;
	o.size = 1;
	spry_test_check(spry_runtime_start(&o), SPRY_EINVAL);
	o.size    = sizeof(o);
	o.workers = SPRY_RUNTIME_MAX_WORKERS + 1;
	spry_test_check(spry_runtime_start(&o), SPRY_EINVAL);
	assert_int_equal(spry_runtime_workers(), 0);
}

static int
quit_on_msg(spry_actor *self, const spry_event *ev, void *st)
{
	(void)self;
	(void)st;
	return ev->type == SPRY_EV_MSG ? SPRY_EXIT_NORMAL : SPRY_CONTINUE;
}

static void
test_spawn_starts_the_runtime_lazily_with_one_worker_per_cpu(void **state)
{
	spry_actor_opts o = SPRY_ACTOR_OPTS_INIT;
	spry_actor     *a;

	(void)state;
	assert_int_equal(spry_runtime_workers(), 0);
	o.behavior = quit_on_msg;
	spry_test_check(spry_actor_spawn(&a, &o), 0);
	assert_int_equal(
	    spry_runtime_workers(), (unsigned)sysconf(_SC_NPROCESSORS_ONLN));
	spry_test_check(spry_actor_send(a, a), 0);
	spry_test_check(spry_actor_wait(NULL, a, NULL), 0);
	spry_actor_release(a);
	spry_test_check(spry_runtime_stop(), 0);
	spry_test_assert_clean();
}

static int stop_rv;

static int
stopper(spry_actor *self, const spry_event *ev, void *st)
{
	(void)self;
	(void)st;
	if (ev->type == SPRY_EV_START) {
		stop_rv = spry_runtime_stop();
		return SPRY_EXIT_NORMAL;
	}
	return SPRY_CONTINUE;
}

static void
test_stop_from_actor_code_is_refused(void **state)
{
	spry_actor_opts o = SPRY_ACTOR_OPTS_INIT;
	spry_actor     *a;

	(void)state;
	stop_rv    = 0;
	o.behavior = stopper;
	spry_test_check(spry_actor_spawn(&a, &o), 0);
	spry_test_check(spry_actor_wait(NULL, a, NULL), 0);
	assert_int_equal(stop_rv, SPRY_ESTATE);
	spry_actor_release(a);
}

/* Never ends by itself; counts how it ended and whether a spawn in its
 * CANCEL was refused. */
static uint32_t shutdowns, refused;

static int
forever(spry_actor *self, const spry_event *ev, void *st)
{
	spry_actor_opts o = SPRY_ACTOR_OPTS_INIT;

	(void)self;
	(void)st;
	if (ev->type == SPRY_EV_CANCEL) {
		o.behavior = forever;
		if (spry_actor_spawn(NULL, &o) == SPRY_ECLOSED) {
			__atomic_fetch_add(&refused, 1, __ATOMIC_RELAXED);
		}
	}
	return SPRY_CONTINUE;
}

static void
count_shutdown(spry_actor *self, int reason, void *st)
{
	(void)self;
	(void)st;
	if (reason == SPRY_EXIT_SHUTDOWN) {
		__atomic_fetch_add(&shutdowns, 1, __ATOMIC_RELAXED);
	}
}

static void
test_stop_ends_every_live_actor_and_refuses_new_ones(void **state)
{
	spry_actor_opts o = SPRY_ACTOR_OPTS_INIT;
	spry_ctx       *ctx;

	(void)state;
	shutdowns = refused = 0;
	o.behavior          = forever;
	o.exit_cb           = count_shutdown;
	for (int i = 0; i < 100; i++) {
		spry_test_check(spry_actor_spawn(NULL, &o), 0);
	}
	/* A pending deadline timer is dropped by stop, not leaked. */
	spry_test_check(spry_ctx_with_timeout(&ctx, NULL, SPRY_SEC(3600)), 0);
	spry_test_check(spry_runtime_stop(), 0);
	assert_int_equal(shutdowns, 100);
	assert_int_equal(refused, 100);
	spry_ctx_release(ctx);
	spry_test_assert_clean();
	/* And it starts again. */
	spry_test_check(spry_test_up(NULL), 0);
	spry_test_check(spry_test_down(NULL), 0);
}

static int
linger_forever(spry_actor *self, const spry_event *ev, void *st)
{
	(void)st;
	if (ev->type == SPRY_EV_START) {
		spry__actor_linger(self);
	}
	return SPRY_CONTINUE;
}

static void
test_stop_kills_an_actor_that_will_not_end(void **state)
{
	spry_actor_opts o = SPRY_ACTOR_OPTS_INIT;
	spry_actor     *a;
	int             reason = 0;

	(void)state;
	o.behavior = linger_forever;
	spry_test_check(spry_actor_spawn(&a, &o), 0);
	spry_test_check(spry_runtime_stop(), 0);
	spry_test_check(spry_actor_wait(NULL, a, &reason), 0);
	assert_int_equal(reason, SPRY_EXIT_KILLED);
	spry_actor_release(a);
	spry_test_assert_clean();
}

/* Two actors that each wait until the other runs: needs two workers. */
static uint32_t met[2];

static int
meet(spry_actor *self, const spry_event *ev, void *st)
{
	uintptr_t me = (uintptr_t)st;

	(void)self;
	if (ev->type == SPRY_EV_START) {
		__atomic_store_n(&met[me], 1, __ATOMIC_RELEASE);
		spin_until(&met[1 - me]);
		return SPRY_EXIT_NORMAL;
	}
	return SPRY_CONTINUE;
}

static void
test_two_workers_run_two_actors_at_once(void **state)
{
	spry_actor_opts o = SPRY_ACTOR_OPTS_INIT;
	spry_actor     *a[2];

	(void)state;
	met[0] = met[1] = 0;
	o.behavior      = meet;
	for (uintptr_t i = 0; i < 2; i++) {
		o.state = (void *)i;
		spry_test_check(spry_actor_spawn(&a[i], &o), 0);
	}
	for (int i = 0; i < 2; i++) {
		spry_test_check(spry_actor_wait(NULL, a[i], NULL), 0);
		spry_actor_release(a[i]);
	}
}

/* Many producers, one actor: never two turns at once, nothing lost. */
#define PRODUCERS 4
#define PER_PRODUCER 25000

static uint32_t in_turn, overlaps;
static uint64_t received;

static int
counter(spry_actor *self, const spry_event *ev, void *st)
{
	(void)self;
	(void)st;
	if (__atomic_exchange_n(&in_turn, 1, __ATOMIC_ACQ_REL) != 0) {
		__atomic_fetch_add(&overlaps, 1, __ATOMIC_RELAXED);
	}
	if (ev->type == SPRY_EV_MSG) {
		received++;
	}
	__atomic_store_n(&in_turn, 0, __ATOMIC_RELEASE);
	return received == PRODUCERS * PER_PRODUCER ? SPRY_EXIT_NORMAL :
	                                              SPRY_CONTINUE;
}

static void *
produce(void *arg)
{
	spry_mailbox *mb = arg;

	for (int i = 0; i < PER_PRODUCER; i++) {
		if (spry_mailbox_send(NULL, mb, (void *)(uintptr_t)(i + 1)) !=
		    0) {
			return (void *)1;
		}
	}
	return NULL;
}

static void
test_one_actor_runs_one_turn_at_a_time_under_many_producers(void **state)
{
	spry_actor_opts o = SPRY_ACTOR_OPTS_INIT;
	spry_actor     *a;
	pthread_t       t[PRODUCERS];
	void           *res;

	(void)state;
	in_turn = overlaps = 0;
	received           = 0;
	o.behavior         = counter;
	spry_test_check(spry_actor_spawn(&a, &o), 0);
	for (int i = 0; i < PRODUCERS; i++) {
		assert_int_equal(pthread_create(&t[i], NULL, produce,
		                     spry_actor_mailbox(a)),
		    0);
	}
	for (int i = 0; i < PRODUCERS; i++) {
		pthread_join(t[i], &res);
		assert_null(res);
	}
	spry_test_check(spry_actor_wait(NULL, a, NULL), 0);
	assert_int_equal(received, PRODUCERS * PER_PRODUCER);
	assert_int_equal(overlaps, 0);
	spry_actor_release(a);
}

/* One worker: a self-feeding actor must not starve a second one. */
#define FLOOD 1000000
static uint64_t flood_count, flood_seen;
static uint32_t flood_stop;

static int
flooder(spry_actor *self, const spry_event *ev, void *st)
{
	(void)st;
	if (__atomic_load_n(&flood_stop, __ATOMIC_ACQUIRE) ||
	    ++flood_count == FLOOD) {
		return SPRY_EXIT_NORMAL;
	}
	(void)ev;
	spry_test_check(spry_actor_send(self, self), 0);
	return SPRY_CONTINUE;
}

static int
bystander(spry_actor *self, const spry_event *ev, void *st)
{
	(void)self;
	(void)st;
	if (ev->type == SPRY_EV_MSG) {
		flood_seen = __atomic_load_n(&flood_count, __ATOMIC_RELAXED);
		__atomic_store_n(&flood_stop, 1, __ATOMIC_RELEASE);
		return SPRY_EXIT_NORMAL;
	}
	return SPRY_CONTINUE;
}

static void
test_a_busy_actor_cannot_starve_another(void **state)
{
	spry_runtime_opts ro = SPRY_RUNTIME_OPTS_INIT;
	spry_actor_opts   o  = SPRY_ACTOR_OPTS_INIT;
	spry_actor       *f, *b;

	(void)state;
	ro.workers  = 1;
	flood_count = flood_seen = 0;
	flood_stop               = 0;
	spry_test_check(spry_runtime_start(&ro), 0);
	o.behavior = flooder;
	spry_test_check(spry_actor_spawn(&f, &o), 0);
	o.behavior = bystander;
	spry_test_check(spry_actor_spawn(&b, &o), 0);
	spry_test_check(spry_actor_send(b, b), 0);
	spry_test_check(spry_actor_wait(NULL, b, NULL), 0);
	spry_test_check(spry_actor_wait(NULL, f, NULL), 0);
	assert_true(flood_seen < FLOOD);
	spry_actor_release(f);
	spry_actor_release(b);
	spry_test_check(spry_runtime_stop(), 0);
	spry_test_assert_clean();
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_start_twice_is_busy_and_stop_is_idempotent),
	    cmocka_unit_test(test_bad_options_are_rejected),
	    cmocka_unit_test(
	        test_spawn_starts_the_runtime_lazily_with_one_worker_per_cpu),
	    cmocka_unit_test_setup_teardown(
	        test_stop_from_actor_code_is_refused, spry_test_up,
	        spry_test_down),
	    cmocka_unit_test_setup_teardown(
	        test_stop_ends_every_live_actor_and_refuses_new_ones,
	        spry_test_up, NULL),
	    cmocka_unit_test_setup_teardown(
	        test_stop_kills_an_actor_that_will_not_end, spry_test_up,
	        NULL),
	    cmocka_unit_test_setup_teardown(
	        test_two_workers_run_two_actors_at_once, spry_test_up,
	        spry_test_down),
	    cmocka_unit_test_setup_teardown(
	        test_one_actor_runs_one_turn_at_a_time_under_many_producers,
	        spry_test_up, spry_test_down),
	    cmocka_unit_test(test_a_busy_actor_cannot_starve_another),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
