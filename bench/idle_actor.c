/* SPDX-License-Identifier: MIT */
/*
 * bench/idle_actor.c: idle_actor_bytes, the resident memory an idle actor
 * costs, against bench/go/idle_actor.go (idle goroutines blocked on a
 * channel).
 *
 * With the runtime started (default workers), read the RSS from
 * /proc/self/statm, spawn 100,000 actors with default options (10,000
 * with --quick), wait until every one has run its SPRY_EV_START, read
 * the RSS again: the growth divided by the count is the figure. Then stop
 * them all, wait for each and stop the runtime. The handle array is
 * allocated and touched before the first reading, so it is not counted.
 * Every run, the warm-up too, is a fresh process: memory freed by an
 * earlier run would hide the cost.
 */
#include "bench.h"

#include <spry/spry.h>

#include <stdatomic.h>

/* idle_run: what the actors of one run share. */
struct idle_run {
	uint64_t      count;   /* actors to spawn */
	atomic_ulong  started; /* actors past SPRY_EV_START */
	spry_mailbox *done;    /* told once every actor has started */
};

static int
idle_behavior(spry_actor *self, const spry_event *ev, void *state)
{
	struct idle_run *r = state;

	(void)self;
	if (ev->type == SPRY_EV_START &&
	    atomic_fetch_add(&r->started, 1) + 1 == r->count)
		(void)spry_mailbox_trysend(r->done, NULL);
	return SPRY_CONTINUE;
}

static int
idle_stop_all(spry_actor **a, uint64_t n)
{
	int bad = 0;

	for (uint64_t i = 0; i < n; i++)
		spry_actor_stop(a[i]);
	for (uint64_t i = 0; i < n; i++) {
		int reason = 0;

		if (spry_actor_wait(NULL, a[i], &reason) != 0 ||
		    spry_exit_abnormal(reason))
			bad++;
		spry_actor_release(a[i]);
	}
	return bad;
}

/* idle_measure runs in a fresh process: vals[0] = bytes per actor. */
static int
idle_measure(void *arg, double *vals)
{
	struct idle_run r    = {.count = *(const uint64_t *)arg};
	spry_actor_opts opts = SPRY_ACTOR_OPTS_INIT;
	spry_actor    **a    = calloc(r.count, sizeof *a);
	void           *item;
	double          before;
	int             rv, bad;

	if (a == NULL)
		bench_fail("out of memory");
	memset(a, 0xff, r.count * sizeof *a); /* resident before we count */
	if ((rv = spry_runtime_start(NULL)) != 0 ||
	    (rv = spry_mailbox_open(&r.done, 1)) != 0)
		bench_fail("start: %s", spry_strerror(rv));
	opts.behavior = idle_behavior;
	opts.state    = &r;
	before        = bench_rss_bytes();
	for (uint64_t i = 0; i < r.count; i++) {
		if ((rv = spry_actor_spawn(&a[i], &opts)) != 0)
			bench_fail("spry_actor_spawn: %s", spry_strerror(rv));
	}
	if ((rv = spry_mailbox_recv(NULL, r.done, &item)) != 0)
		bench_fail("waiting for the starts: %s", spry_strerror(rv));
	vals[0] = (bench_rss_bytes() - before) / (double)r.count;
	bad     = idle_stop_all(a, r.count);
	if ((rv = spry_runtime_stop()) != 0)
		bench_fail("spry_runtime_stop: %s", spry_strerror(rv));
	spry_mailbox_release(r.done);
	free(a);
	if (bad != 0) {
		fprintf(stderr, "idle_actor: %d actors did not stop cleanly\n",
		    bad);
		return 1;
	}
	return 0;
}

int
main(int argc, char **argv)
{
	uint64_t count;
	double   bytes;

	bench_init(argc, argv);
	count = bench_size(100000, 10000);
	bench_measure_forked(idle_measure, &count, &bytes, 1);
	bench_report("idle_actor_bytes", "bytes", bytes, (bench_goal){0, 256});
	return 0;
}
