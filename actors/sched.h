/* SPDX-License-Identifier: MIT */
/*
 * actors/sched.h: the work-stealing scheduler. Each worker owns a ck_ring
 * in single-producer/multi-consumer mode (it pushes, anyone pops: Go's
 * runq) and a run-next slot: an actor woken by the running actor runs next
 * on the same worker, which keeps ping-pong pairs hot on one core. Work
 * from outside the workers goes to a global queue. Idle workers spin a
 * while, then park on a futex; submitting work wakes one only if nobody is
 * already looking for work.
 */
#ifndef SPRY_ACTORS_SCHED_H
#define SPRY_ACTORS_SCHED_H

#include "spry/runtime.h"

typedef struct spry_actor spry_actor;

/* spry__sched_ensure starts the runtime with defaults if not running. */
int spry__sched_ensure(void);

/*
 * spry__sched_submit makes actor a runnable (the caller won its
 * scheduled flag). `handoff`: a is being woken by the actor running on
 * this worker, so it goes to the run-next slot. Any thread.
 */
void spry__sched_submit(spry_actor *a, bool handoff);

/*
 * spry__sched_block_get returns zeroed memory of sz bytes, from this
 * worker's cache of freed actor blocks when it has one (else spry__alloc);
 * spry__sched_block_put gives a block back (to the cache of the worker it
 * is freed on, else spry__free). Blocks cached at stop are freed.
 */
void *spry__sched_block_get(size_t sz);
void  spry__sched_block_put(void *p, size_t sz);

/* spry__sched_kick_timers wakes a parked worker to re-read the timers. */
void spry__sched_kick_timers(void);

/* spry__sched_worker tells whether this thread is a worker. */
bool spry__sched_on_worker(void);

/*
 * spry__sched_linger tells the current worker (from an actor's turn) that
 * a thread is likely to submit more work soon: when it runs out of work,
 * the worker keeps looking for a while, the CPU yielded between looks,
 * before it parks (see find_work). No-op off a worker.
 */
void spry__sched_linger(void);

/* spry__sched_batch returns the per-turn message budget. */
unsigned spry__sched_batch(void);

/*
 * spry__sched_actor_born / _died keep the live-actor registry that
 * spry_runtime_stop walks; born fails with SPRY_ECLOSED while stopping.
 */
int  spry__sched_actor_born(spry_actor *a);
void spry__sched_actor_died(spry_actor *a);

#endif /* SPRY_ACTORS_SCHED_H */
