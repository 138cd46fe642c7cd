/* SPDX-License-Identifier: MIT */
/*
 * spry/actor.h: actors. An actor is a mailbox, a behavior function and
 * state. It is scheduled once when its mailbox turns non-empty (or a
 * signal such as a timer or a DOWN arrives), runs a bounded batch of
 * events on one worker, then yields. Behaviors never block: they send with
 * spry_actor_send (which fails with SPRY_EAGAIN instead of waiting), set
 * timers and monitor other actors.
 *
 * Every event a behavior sees is a spry_event. The first is SPRY_EV_START;
 * then messages, timers and DOWN notices in arrival order (timers and
 * DOWN notices go ahead of queued messages); SPRY_EV_CANCEL once, when the
 * ctx the actor was spawned with ends or spry_actor_stop is called, after
 * which the actor ends.
 *
 * A behavior returns SPRY_CONTINUE to keep going, SPRY_EXIT_NORMAL or
 * SPRY_EXIT_SHUTDOWN to end normally, or a positive code (an SPRY_E* code
 * or its own) to fail: supervisors and monitors see that reason.
 *
 * Handles: spry_actor_spawn can hand out a reference; hold and release
 * manage it. A handle stays valid after the actor ends (sends then fail
 * with SPRY_ECLOSED); the memory goes with the last reference.
 */
#ifndef SPRY_ACTOR_H
#define SPRY_ACTOR_H

#include "spry/defs.h"

typedef struct spry_actor   spry_actor;
typedef struct spry_ctx     spry_ctx;
typedef struct spry_mailbox spry_mailbox;

/* Event types seen by behaviors. */
enum spry_event_type {
	SPRY_EV_START  = 1, /* first event, before any message */
	SPRY_EV_MSG    = 2, /* msg: an item from the mailbox */
	SPRY_EV_TIMER  = 3, /* msg: the tag given to spry_actor_after */
	SPRY_EV_DOWN   = 4, /* a monitored actor ended */
	SPRY_EV_CANCEL = 5, /* the actor must end; last event */
	SPRY_EV_READY  = 6, /* msg: the tag given to spry_actor_await */
};

/*
 * spry_event: what a behavior is called with. Only the fields named for
 * a type are meaningful; the event is valid during the call only.
 */
typedef struct spry_event {
	int   type;         /* an spry_event_type */
	void *msg;          /* MSG: the item (now owned by the behavior);
	                       TIMER, READY: the tag */
	spry_actor *actor;  /* DOWN: the actor that ended (borrowed) */
	int         reason; /* DOWN: its exit reason; CANCEL: SPRY_ECANCELED
	                       or SPRY_ETIMEDOUT */
	uint64_t ref;       /* DOWN: the monitor ref; TIMER: the timer id;
	                       READY: the await id */
} spry_event;

/* Behavior results and exit reasons. */
#define SPRY_CONTINUE 0         /* keep running */
#define SPRY_EXIT_NORMAL (-1)   /* ended by choice */
#define SPRY_EXIT_SHUTDOWN (-2) /* ended because it was told to */
#define SPRY_EXIT_KILLED (-3)   /* ended by spry_actor_kill */

/*
 * spry_exit_abnormal tells whether an exit reason is a failure: a positive
 * code or SPRY_EXIT_KILLED. Transient children restart only on these.
 */
static inline bool
spry_exit_abnormal(int reason)
{
	return reason > 0 || reason == SPRY_EXIT_KILLED;
}

/*
 * spry_behavior_fn handles one event. It runs on a worker thread, never
 * concurrently with itself for the same actor, and must not block.
 */
typedef int (*spry_behavior_fn)(
    spry_actor *self, const spry_event *ev, void *state);

/*
 * spry_actor_exit_cb runs once when the actor has ended, after its last
 * behavior call and before DOWN notices go out: the place to free state.
 */
typedef void (*spry_actor_exit_cb)(spry_actor *self, int reason, void *state);

/*
 * spry_actor_opts: spawn settings. Begin from SPRY_ACTOR_OPTS_INIT.
 */
typedef struct spry_actor_opts {
	size_t           size;       /* sizeof(spry_actor_opts) */
	spry_behavior_fn behavior;   /* required */
	void            *state;      /* passed to behavior and exit_cb */
	spry_ctx        *ctx;        /* ends the actor when it ends; NULL:
	                                background (only stop, kill or
	                                spry_runtime_stop end it) */
	size_t             capacity; /* mailbox capacity; 0: 16 */
	spry_actor_exit_cb exit_cb;  /* NULL: none */
	void (*dispose_cb)(void *msg, void *arg); /* frees messages left
	                                             in the mailbox */
	void *dispose_arg;                        /* for dispose_cb */
} spry_actor_opts;

#define SPRY_ACTOR_OPTS_INIT                                                  \
	{                                                                     \
		sizeof(spry_actor_opts), NULL, NULL, NULL, 0, NULL, NULL,     \
		    NULL                                                      \
	}

/*
 * spry_actor_spawn creates an actor and schedules its SPRY_EV_START.
 * Starts the runtime with defaults if it is not running. When out is not
 * NULL the caller gets a reference (give it back with spry_actor_release).
 * If opts->ctx has already ended the actor still starts and then gets
 * SPRY_EV_CANCEL. Errors: SPRY_EINVAL (no behavior, bad size or capacity),
 * SPRY_ENOMEM, SPRY_ECLOSED (the runtime is stopping), and the errors of
 * spry_runtime_start when it starts the runtime.
 */
SPRY_API int spry_actor_spawn(spry_actor **out, const spry_actor_opts *opts);

/*
 * spry_actor_send queues msg for `to` without blocking; on success `to`
 * owns msg. Errors: SPRY_EAGAIN (mailbox full; caller keeps msg),
 * SPRY_ECLOSED (the actor has ended). Plain threads that want to wait for
 * room use spry_mailbox_send on spry_actor_mailbox(to).
 */
SPRY_API int spry_actor_send(spry_actor *to, void *msg);

/*
 * spry_actor_mailbox returns the actor's mailbox (borrowed: valid while
 * the caller holds the actor). Only the actor receives from it.
 */
SPRY_API spry_mailbox *spry_actor_mailbox(spry_actor *a);

/*
 * spry_actor_ctx returns the ctx the actor was spawned with (borrowed),
 * to derive the contexts of work it starts. Never NULL.
 */
SPRY_API spry_ctx *spry_actor_ctx(spry_actor *a);

/*
 * spry_actor_self returns the actor whose behavior is running on this
 * thread, or NULL outside actor code.
 */
SPRY_API spry_actor *spry_actor_self(void);

/*
 * spry_actor_stop asks `a` to end: it gets SPRY_EV_CANCEL (reason
 * SPRY_ECANCELED) ahead of queued messages and then ends. Idempotent;
 * never blocks; does nothing to an actor that has ended.
 */
SPRY_API void spry_actor_stop(spry_actor *a);

/*
 * spry_actor_kill ends `a` with SPRY_EXIT_KILLED at its next turn without
 * calling its behavior again (its exit_cb still runs). Never blocks.
 */
SPRY_API void spry_actor_kill(spry_actor *a);

/*
 * spry_actor_monitor makes `watcher` receive one SPRY_EV_DOWN when
 * `target` ends (at once if it already has). *ref (may be NULL) names the
 * monitor for spry_actor_demonitor and appears in the event. Monitors
 * stack: two calls, two notices. Errors: SPRY_EINVAL, SPRY_ENOMEM,
 * SPRY_ECLOSED (the watcher has ended).
 */
SPRY_API int spry_actor_monitor(
    spry_actor *watcher, spry_actor *target, uint64_t *ref);

/*
 * spry_actor_demonitor removes a monitor set by `watcher` on `target`. A
 * DOWN notice already on its way may still arrive. SPRY_ENOENT when no
 * such monitor is pending.
 */
SPRY_API int spry_actor_demonitor(
    spry_actor *watcher, spry_actor *target, uint64_t ref);

/*
 * spry_actor_after delivers SPRY_EV_TIMER with msg = tag to `self` after
 * delay. Call from self's behavior only (SPRY_ESTATE otherwise). *id (may
 * be NULL) names the timer. Timers of an actor that ends are dropped.
 * Errors: SPRY_ESTATE, SPRY_ENOMEM, SPRY_ECLOSED (runtime stopping).
 */
SPRY_API int spry_actor_after(
    spry_actor *self, spry_duration delay, void *tag, uint64_t *id);

/*
 * spry_actor_cancel_timer cancels a pending timer of self; once it
 * returns 0 the timer event will not be seen. Call from self's behavior.
 * SPRY_ENOENT when there is no such pending timer.
 */
SPRY_API int spry_actor_cancel_timer(spry_actor *self, uint64_t id);

/*
 * spry_actor_await delivers one SPRY_EV_READY with msg = tag to `self`
 * once mb is ready for dir, SPRY_SELECT_SEND (room for an item) or
 * SPRY_SELECT_RECV (an item to take), or is closed: what an actor does
 * instead of blocking when a spry_mailbox_trysend (say, a reply into a
 * socket's full sendbox) fails with SPRY_EAGAIN. The event is a hint,
 * as poll's is: another thread may take the room or the item first, so
 * try again, and await again on SPRY_EAGAIN. At once when mb is ready
 * already. Ahead of queued messages, like timers. Holds a reference on
 * mb until the event is delivered or canceled; awaits of an actor that
 * ends are dropped. *id (may be NULL) names the await for
 * spry_actor_cancel_await and appears in the event's `ref`. Call from
 * self's behavior only. Never blocks. Errors: SPRY_ESTATE, SPRY_EINVAL
 * (mb NULL, dir not one of the two), SPRY_ENOMEM.
 */
SPRY_API int spry_actor_await(
    spry_actor *self, spry_mailbox *mb, int dir, void *tag, uint64_t *id);

/*
 * spry_actor_cancel_await cancels a pending await of self; once it
 * returns 0 its event will not be seen, and mb is released. Call from
 * self's behavior. SPRY_ENOENT when there is no such pending await.
 */
SPRY_API int spry_actor_cancel_await(spry_actor *self, uint64_t id);

/*
 * spry_actor_wait blocks a plain thread until `a` has ended and gives its
 * exit reason (reason may be NULL). Returns 0, or SPRY_ECANCELED /
 * SPRY_ETIMEDOUT when ctx ends first, SPRY_ESTATE from actor code.
 */
SPRY_API int spry_actor_wait(spry_ctx *ctx, spry_actor *a, int *reason);

/* spry_actor_hold takes one more reference on a. */
SPRY_API void spry_actor_hold(spry_actor *a);

/* spry_actor_release gives back a reference. */
SPRY_API void spry_actor_release(spry_actor *a);

#endif /* SPRY_ACTOR_H */
