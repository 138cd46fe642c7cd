/* SPDX-License-Identifier: MIT */
/*
 * actors/actor.h: actor internals shared with the scheduler and the
 * supervisor.
 *
 * Scheduling is edge-triggered and exactly once: `sched` counts notes
 * (a message, a signal, a request) since the actor was last idle; the
 * note that moves it from 0 submits the actor. A turn ends with a CAS from
 * 1 (no note came during the turn) to 0; if that fails the actor resets
 * the count to 1 and requeues itself. So the actor never re-reads its
 * queues after going idle, when another worker may already run and free
 * it. An ended actor's count starts at SPRY__SCHED_ENDED, out of reach.
 *
 * Signals (timers, DOWN notices) travel on an unbounded intrusive stack
 * (ck_stack push_upmc / batch_pop_upmc: the cheapest cross-thread hand-off
 * measured here), so they never fail for a full mailbox; one-shot
 * requests (cancel, kill) are bits in `pending`.
 */
#ifndef SPRY_ACTORS_ACTOR_H
#define SPRY_ACTORS_ACTOR_H

#include "spry/actor.h"
#include "actors/ctx.h"
#include "mailbox/mailbox.h"

#include <ck_stack.h>

/* pending bits: requests posted to an actor from outside its turn. */
#define SPRY__PEND_CANCELED 1u /* stopped, or ctx canceled */
#define SPRY__PEND_TIMEDOUT 2u /* ctx deadline */
#define SPRY__PEND_KILL 4u     /* end without calling the behavior */
#define SPRY__PEND_WAKE 8u     /* deliver SPRY__EV_WAKE (owner's poke) */

/*
 * SPRY__EV_WAKE: an internal event type, delivered once per turn after
 * any number of spry__actor_post(a, SPRY__PEND_WAKE): how the socket
 * layer tells its actors that a pipe or a consumer has room again.
 */
#define SPRY__EV_WAKE 100

/*
 * exited: 0 while live; SPRY__ENDING once its last turn has begun to end
 * it (notices to it are dropped from then on); SPRY__DOWN once exit_cb ran
 * and its mailbox was drained (monitors and waiters then hear at once).
 */
#define SPRY__ENDING 1u
#define SPRY__DOWN 2u

/* sched value of an ended actor: no note can bring it back to 0. */
#define SPRY__SCHED_ENDED 0x80000000u

/* flags: touched only during the actor's own turns. */
#define SPRY__AF_STARTED 1u   /* SPRY_EV_START delivered */
#define SPRY__AF_LINGER 2u    /* after CANCEL, wait for an explicit exit */
#define SPRY__AF_CANCEL 4u    /* SPRY_EV_CANCEL delivered */
#define SPRY__AF_SELFDRAIN 8u /* the behavior drains its own mailbox */

struct spry__monitor;
struct spry__atimer;

struct spry_actor {
	spry_behavior_fn behavior;      /* fixed */
	void            *state;         /* the behavior's; fixed, except that
	                                   a supervisor's exit_cb swaps it
	                                   (under lock) for its final count */
	spry_actor_exit_cb    exit_cb;  /* fixed */
	spry_ctx             *ctx;      /* held; the spawn ctx */
	spry_actor           *qnext;    /* global run queue link (sched) */
	spry_actor           *rnext;    /* registry link (shard lock) */
	spry_actor           *rprev;    /* registry link (shard lock) */
	ck_stack_t            signals;  /* timers, awaits, DOWNs (atomic) */
	struct spry__monitor *monitors; /* who watches us (lock) */
	struct spry__atimer  *timers;   /* pending timers, awaits (own turn) */
	spry__ctx_watch       watch;    /* on ctx (ctx lock) */
	uint32_t              sched;    /* notes since idle (atomic) */
	uint32_t              pending;  /* SPRY__PEND_* (atomic) */
	uint32_t              lock;     /* guards monitors, exited */
	uint32_t              exited;   /* SPRY__ENDING, SPRY__DOWN (lock) */
	int                   reason;   /* exit reason once exited */
	uint16_t              flags;    /* SPRY__AF_* (own turn) */
	uint16_t              shard;    /* registry shard; fixed */
	spry_mailbox          mb;       /* last: its ring follows */
};

/* spry__actor_run runs one turn of a (called by the scheduler). */
void spry__actor_run(spry_actor *a);

/*
 * spry__actor_post sets pending bits and schedules a. Any thread; safe
 * under a ctx lock.
 */
void spry__actor_post(spry_actor *a, uint32_t bits);

/*
 * spry__actor_linger makes self survive its SPRY_EV_CANCEL: it ends only
 * when its behavior returns an exit reason (supervisors use it to stop
 * their children first). Call from self's behavior.
 */
void spry__actor_linger(spry_actor *self);

/*
 * spry__actor_selfdrain makes self (the running actor) drain its own
 * mailbox: from now on a turn with queued messages delivers one
 * SPRY__EV_WAKE instead of SPRY_EV_MSG events, and the behavior takes
 * the messages itself, as many as it can handle. A socket does so to
 * take messages only under its send lock, which keeps sends in order.
 * The behavior must post SPRY__PEND_WAKE to itself if it leaves
 * messages queued and wants another turn for them.
 */
void spry__actor_selfdrain(spry_actor *self);

/*
 * spry__actor_mb_notify is the notify hook of actor mailboxes (it
 * schedules the actor, whoever put the item); an owner that filters
 * notes calls it itself.
 */
void spry__actor_mb_notify(spry_mailbox *mb, bool blocking);

/*
 * spry__actor_mb_note_lazy is spry__actor_mb_notify for a self-draining
 * actor whose behavior asks for another turn whenever a receive fails
 * while its mailbox is not spry__mailbox_idle: it skips the note when one
 * is already pending for the actor's current turn (see actors/actor.c).
 */
void spry__actor_mb_note_lazy(spry_mailbox *mb);

/* spry__actor_state returns the state pointer a was spawned with. */
static inline void *
spry__actor_state(spry_actor *a)
{
	return a->state;
}

#endif /* SPRY_ACTORS_ACTOR_H */
