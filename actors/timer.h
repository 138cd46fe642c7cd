/* SPDX-License-Identifier: MIT */
/*
 * actors/timer.h: the runtime's one timer structure: a binary min-heap of
 * deadlines under a spinlock. Workers run expired timers between actor
 * turns and sleep no longer than the earliest deadline, so there is never
 * a thread per timer. A callback runs once, on a worker, outside the lock.
 */
#ifndef SPRY_ACTORS_TIMER_H
#define SPRY_ACTORS_TIMER_H

#include "spry/defs.h"

#define SPRY__TIMER_IDLE SIZE_MAX

/* spry__timer: an entry, embedded in its owner. */
typedef struct spry__timer {
	spry_time when;                    /* deadline (heap lock) */
	size_t    idx;                     /* heap slot or IDLE (lock) */
	void (*cb)(struct spry__timer *t); /* runs once when due */
} spry__timer;

/* spry__timer_init readies t with callback cb. */
static inline void
spry__timer_init(spry__timer *t, void (*cb)(spry__timer *))
{
	t->when = SPRY_TIME_NEVER;
	t->idx  = SPRY__TIMER_IDLE;
	t->cb   = cb;
}

/*
 * spry__timer_arm schedules t (idle) to fire at `when`, starting the
 * runtime if needed. Errors: SPRY_ENOMEM, SPRY_ECLOSED (runtime stopping).
 */
int spry__timer_arm(spry__timer *t, spry_time when);

/*
 * spry__timer_disarm removes t if still pending; true means its callback
 * will not run, false that it already ran, is running, or was never armed.
 */
bool spry__timer_disarm(spry__timer *t);

/*
 * spry__timer_run fires every timer due at `now`; returns the next
 * deadline (SPRY_TIME_NEVER when none). Any thread; callbacks run here.
 */
spry_time spry__timer_run(spry_time now);

/* spry__timer_next returns the earliest deadline without firing. */
spry_time spry__timer_next(void);

/*
 * spry__timer_clear fires nothing and drops every pending timer through
 * its `drop` path: the callback is called with when = SPRY_TIME_NEVER so
 * owners release what the timer held. For runtime stop.
 */
void spry__timer_clear(void);

/* spry__timer_fini frees the heap (runtime stop, no timer left). */
void spry__timer_fini(void);

#endif /* SPRY_ACTORS_TIMER_H */
