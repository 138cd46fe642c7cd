/* SPDX-License-Identifier: MIT */
/*
 * actors/timer.c: the timer heap (see actors/timer.h). The scheduler
 * calls spry__timer_run from its workers; a new earliest deadline kicks a
 * sleeping worker so that it shortens its sleep.
 */
#include "actors/timer.h"

#include "actors/sched.h"
#include "mailbox/alloc.h"
#include "mailbox/atomic.h"
#include "mailbox/lock.h"
#include "spry/error.h"

static struct {
	uint32_t      lock; /* guards everything below */
	spry__timer **heap; /* min-heap on when */
	size_t        len;
	size_t        cap;
	spry_time     next; /* heap[0]->when or NEVER; also read unlocked */
} timers = {0, NULL, 0, 0, SPRY_TIME_NEVER};

static void
heap_set(size_t i, spry__timer *t)
{
	timers.heap[i] = t;
	t->idx         = i;
}

static void
heap_up(size_t i)
{
	spry__timer *t = timers.heap[i];

	while (i > 0) {
		size_t p = (i - 1) / 2;

		if (timers.heap[p]->when <= t->when) {
			break;
		}
		heap_set(i, timers.heap[p]);
		i = p;
	}
	heap_set(i, t);
}

static void
heap_down(size_t i)
{
	spry__timer *t = timers.heap[i];

	for (;;) {
		size_t c = 2 * i + 1;

		if (c >= timers.len) {
			break;
		}
		if (c + 1 < timers.len &&
		    timers.heap[c + 1]->when < timers.heap[c]->when) {
			c++;
		}
		if (t->when <= timers.heap[c]->when) {
			break;
		}
		heap_set(i, timers.heap[c]);
		i = c;
	}
	heap_set(i, t);
}

static void
heap_remove(spry__timer *t)
{
	size_t       i    = t->idx;
	spry__timer *last = timers.heap[--timers.len];

	t->idx = SPRY__TIMER_IDLE;
	if (last != t) {
		heap_set(i, last);
		heap_down(i);
		heap_up(last->idx);
	}
}

static void
heap_publish_next(void)
{
	spry__store_rel(&timers.next,
	    timers.len > 0 ? timers.heap[0]->when : SPRY_TIME_NEVER);
}

static int
heap_grow(void)
{
	size_t        ncap = timers.cap ? timers.cap * 2 : 64;
	spry__timer **nh   = spry__alloc(ncap * sizeof(*nh));

	if (nh == NULL) {
		return SPRY_ENOMEM;
	}
	for (size_t i = 0; i < timers.len; i++) {
		nh[i] = timers.heap[i];
	}
	spry__free(timers.heap, timers.cap * sizeof(*nh));
	timers.heap = nh;
	timers.cap  = ncap;
	return 0;
}

int
spry__timer_arm(spry__timer *t, spry_time when)
{
	bool earliest;
	int  rv;

	if ((rv = spry__sched_ensure()) != 0) {
		return rv;
	}
	spry__spin_lock(&timers.lock);
	if (timers.len == timers.cap && (rv = heap_grow()) != 0) {
		spry__spin_unlock(&timers.lock);
		return rv;
	}
	t->when = when;
	heap_set(timers.len++, t);
	heap_up(t->idx);
	earliest = t->idx == 0;
	heap_publish_next();
	spry__spin_unlock(&timers.lock);
	if (earliest) {
		spry__sched_kick_timers();
	}
	return 0;
}

bool
spry__timer_disarm(spry__timer *t)
{
	bool pending;

	spry__spin_lock(&timers.lock);
	pending = t->idx != SPRY__TIMER_IDLE;
	if (pending) {
		heap_remove(t);
		heap_publish_next();
	}
	spry__spin_unlock(&timers.lock);
	return pending;
}

spry_time
spry__timer_next(void)
{
	return spry__load_acq(&timers.next);
}

spry_time
spry__timer_run(spry_time now)
{
	spry_time next;

	for (;;) {
		spry__timer *t = NULL;

		if (spry__load_acq(&timers.next) > now) {
			return spry__load_acq(&timers.next);
		}
		spry__spin_lock(&timers.lock);
		if (timers.len > 0 && timers.heap[0]->when <= now) {
			t = timers.heap[0];
			heap_remove(t);
			heap_publish_next();
		}
		next = timers.len > 0 ? timers.heap[0]->when : SPRY_TIME_NEVER;
		spry__spin_unlock(&timers.lock);
		if (t == NULL) {
			return next;
		}
		t->cb(t);
	}
}

void
spry__timer_clear(void)
{
	for (;;) {
		spry__timer *t = NULL;

		spry__spin_lock(&timers.lock);
		if (timers.len > 0) {
			t = timers.heap[0];
			heap_remove(t);
			heap_publish_next();
		}
		spry__spin_unlock(&timers.lock);
		if (t == NULL) {
			return;
		}
		t->when = SPRY_TIME_NEVER;
		t->cb(t);
	}
}

void
spry__timer_fini(void)
{
	spry__free(timers.heap, timers.cap * sizeof(*timers.heap));
	timers.heap = NULL;
	timers.len = timers.cap = 0;
	timers.next             = SPRY_TIME_NEVER;
}
