/* SPDX-License-Identifier: MIT */
/*
 * actors/supervisor.c: supervisors, the OTP way (see spry/supervisor.h).
 *
 * A supervisor is an actor that survives its own SPRY_EV_CANCEL (it
 * lingers, so it can stop its children first) and drives a small state
 * machine from the events it gets:
 *
 * - START starts every child in order, each under its own ctx derived
 *   from the supervisor's ctx, and monitors it.
 * - The DOWN of a running child is handled by its restart type and the
 *   strategy; every restart is charged against the intensity window.
 * - Children are stopped one at a time in reverse start order: cancel the
 *   child's ctx, wait for its DOWN up to spec.shutdown (a timer), then
 *   kill it. A "stop phase" stops every running child at or above `lo`;
 *   when it is over the supervisor either exits or starts, in order, the
 *   children marked `want`.
 * - A child that ends on its own while a phase runs is marked DEAD and
 *   handled once the phase is over, as OTP handles an EXIT message that
 *   waited in its mailbox meanwhile.
 *
 * When the supervisor's ctx ends, every child's ctx has ended with it, so
 * the children all see their CANCEL at once: the supervisor still waits
 * for them in reverse order (each with its grace period) and ends last,
 * but siblings may finish in any order. Stops the supervisor makes itself
 * (spry_actor_stop, restarts, intensity) are strictly one at a time.
 *
 * What it leaves to others: the start functions decide what a child is
 * (an actor, a socket, another supervisor); the actor runtime delivers
 * events, runs the shutdown timers and sends the DOWN notices.
 */
#include "spry/supervisor.h"

#include "actors/actor.h"
#include "mailbox/alloc.h"
#include "mailbox/atomic.h"
#include "mailbox/lock.h"
#include "spry/ctx.h"
#include "spry/error.h"

#include <string.h>

#define SUP_DEFAULT_PERIOD SPRY_SEC(5)
#define SUP_DEFAULT_SHUTDOWN SPRY_SEC(5)

/* Child states. */
enum {
	SUP_IDLE,     /* not running: not started yet, or ended and handled */
	SUP_RUNNING,  /* started and monitored */
	SUP_STOPPING, /* told to stop; waiting for its DOWN */
	SUP_DEAD,     /* ended on its own; its end is not handled yet */
};

/* sup_child: one child. Touched only in the supervisor's own turns. */
typedef struct sup_child {
	spry_child_spec spec;  /* copy; restart and shutdown explicit */
	spry_ctx       *ctx;   /* held while started, else NULL */
	spry_actor     *actor; /* held while started, else NULL */
	uint64_t        mref;  /* monitor ref while started */
	uint64_t        timer; /* shutdown timer id while `timed` */
	bool            timed; /* a shutdown timer is pending */
	bool            want;  /* start it when no stop phase runs */
	bool removed;          /* a temporary child that ended: never again */
	int  state;            /* SUP_* */
	int  reason;           /* SUP_DEAD: its exit reason */
} sup_child;

/*
 * sup_state: the supervisor actor's state. All fields but `restarts` are
 * touched only in the supervisor's own turns.
 */
typedef struct sup_state {
	uint64_t      restarts;  /* restarts performed (atomic) */
	int           strategy;  /* spry_strategy; fixed */
	unsigned      intensity; /* restarts allowed per period; fixed */
	spry_duration period;    /* fixed */
	size_t        n;         /* number of children; fixed */
	sup_child    *children;  /* in start order; never moves */
	spry_time    *stamps;    /* recent restart times, oldest first */
	size_t        nstamps;   /* entries used in stamps */
	size_t        capstamps; /* entries allocated in stamps */
	bool          phase;     /* a stop phase is running */
	size_t        lo;        /* the phase stops the children >= lo */
	bool          exiting;   /* the phase ends with the exit */
	int           reason;    /* exit reason when exiting */
	bool          deferred;  /* a failed restart waits for its retry */
} sup_state;

/* ---- options ------------------------------------------------------- */

static int
sup_check_spec(const spry_child_spec *c)
{
	if (c->start == NULL || c->restart < 0 ||
	    c->restart > SPRY_TEMPORARY) {
		return SPRY_EINVAL;
	}
	if (c->shutdown < 0 && c->shutdown != SPRY_SHUTDOWN_BRUTAL) {
		return SPRY_EINVAL;
	}
	return 0;
}

static int
sup_check(const spry_supervisor_opts *o)
{
	if (o == NULL || o->size != sizeof(*o) || o->strategy < 0 ||
	    o->strategy > SPRY_REST_FOR_ONE || o->period < 0 ||
	    (o->nchildren > 0 && o->children == NULL) ||
	    o->nchildren > SIZE_MAX / sizeof(sup_child)) {
		return SPRY_EINVAL;
	}
	for (size_t i = 0; i < o->nchildren; i++) {
		if (sup_check_spec(&o->children[i]) != 0) {
			return SPRY_EINVAL;
		}
	}
	return 0;
}

static void
sup_free(sup_state *s)
{
	spry__free(s->stamps, s->capstamps * sizeof(*s->stamps));
	spry__free(s->children, s->n * sizeof(*s->children));
	spry__free(s, sizeof(*s));
}

/* Copy the options, with every default made explicit. */
static sup_state *
sup_alloc(const spry_supervisor_opts *o)
{
	sup_state *s;

	if ((s = spry__alloc(sizeof(*s))) == NULL) {
		return NULL;
	}
	s->strategy  = o->strategy != 0 ? o->strategy : SPRY_ONE_FOR_ONE;
	s->intensity = o->intensity;
	s->period    = o->period != 0 ? o->period : SUP_DEFAULT_PERIOD;
	s->n         = o->nchildren;
	if (s->n > 0 &&
	    (s->children = spry__alloc(s->n * sizeof(sup_child))) == NULL) {
		spry__free(s, sizeof(*s));
		return NULL;
	}
	for (size_t i = 0; i < s->n; i++) {
		spry_child_spec *c = &s->children[i].spec;

		*c = o->children[i];
		if (c->restart == 0) {
			c->restart = SPRY_PERMANENT;
		}
		if (c->shutdown == 0) {
			c->shutdown = SUP_DEFAULT_SHUTDOWN;
		}
	}
	return s;
}

/* ---- one child ----------------------------------------------------- */

/* Watch what a start function handed out; end what cannot be watched. */
static int
sup_child_watch(spry_actor *self, sup_child *c, spry_actor *child)
{
	int rv;

	if (child == NULL) {
		return SPRY_EINVAL; /* it said yes but handed out nothing */
	}
	if ((rv = spry_actor_monitor(self, child, &c->mref)) != 0) {
		/* Unwatched, it would run unsupervised. */
		spry_actor_kill(child);
		spry_actor_release(child);
	}
	return rv;
}

/*
 * Start c under a fresh ctx derived from the supervisor's and monitor it.
 * On failure nothing of the attempt is left running or held.
 */
static int
sup_child_start(spry_actor *self, sup_child *c)
{
	spry_ctx   *cctx;
	spry_actor *child = NULL;
	int         rv;

	if ((rv = spry_ctx_with_cancel(&cctx, spry_actor_ctx(self))) != 0) {
		return rv;
	}
	if ((rv = c->spec.start(cctx, c->spec.arg, &child)) == 0) {
		rv = sup_child_watch(self, c, child);
	}
	if (rv != 0) {
		spry_ctx_cancel(cctx);
		spry_ctx_release(cctx);
		return rv;
	}
	c->ctx   = cctx;
	c->actor = child;
	c->state = SUP_RUNNING;
	return 0;
}

/*
 * Drop what the supervisor holds of an ended child. Cancelling its ctx
 * also ends whatever the child started under it and did not stop.
 */
static void
sup_child_forget(sup_child *c)
{
	spry_ctx_cancel(c->ctx);
	spry_ctx_release(c->ctx);
	spry_actor_release(c->actor);
	c->ctx   = NULL;
	c->actor = NULL;
	if (c->spec.restart == SPRY_TEMPORARY) {
		c->removed = true; /* OTP deletes temporary children */
		c->want    = false;
	}
}

/* Ask c to end: cancel its ctx, then kill it at once or after its grace. */
static void
sup_child_stop(spry_actor *self, sup_child *c)
{
	c->state = SUP_STOPPING;
	if (c->spec.shutdown == SPRY_SHUTDOWN_BRUTAL) {
		/* Kill first, so the child never gets to run its CANCEL. */
		spry_actor_kill(c->actor);
		spry_ctx_cancel(c->ctx);
		return;
	}
	spry_ctx_cancel(c->ctx);
	if (spry_actor_after(self, c->spec.shutdown, c, &c->timer) == 0) {
		c->timed = true;
	} else {
		/* Without a timer there is no grace: never wait forever. */
		spry_actor_kill(c->actor);
	}
}

static bool
sup_wants_restart(const sup_child *c, int reason)
{
	if (c->removed) {
		return false;
	}
	switch (c->spec.restart) {
	case SPRY_PERMANENT:
		return true;
	case SPRY_TRANSIENT:
		return spry_exit_abnormal(reason);
	default:
		return false;
	}
}

/* ---- restart intensity --------------------------------------------- */

static int
sup_stamps_grow(sup_state *s)
{
	size_t     cap = s->capstamps < 4 ? 4 : s->capstamps * 2;
	spry_time *st;

	if ((st = spry__alloc(cap * sizeof(*st))) == NULL) {
		return SPRY_ENOMEM;
	}
	if (s->nstamps > 0) {
		memcpy(st, s->stamps, s->nstamps * sizeof(*st));
	}
	spry__free(s->stamps, s->capstamps * sizeof(*st));
	s->stamps    = st;
	s->capstamps = cap;
	return 0;
}

/*
 * Charge one restart now: SPRY_ERESTARTS when it would make more than
 * `intensity` in the last `period`. Like OTP, only restarts no older than
 * the period are kept, so stamps never holds more than intensity entries.
 */
static int
sup_charge(sup_state *s)
{
	spry_time now  = spry_now();
	size_t    drop = 0;
	int       rv;

	while (drop < s->nstamps && s->stamps[drop] < now - s->period) {
		drop++;
	}
	if (drop > 0) {
		s->nstamps -= drop;
		memmove(s->stamps, s->stamps + drop,
		    s->nstamps * sizeof(spry_time));
	}
	if (s->nstamps >= s->intensity) {
		return SPRY_ERESTARTS;
	}
	if (s->nstamps == s->capstamps && (rv = sup_stamps_grow(s)) != 0) {
		return rv;
	}
	s->stamps[s->nstamps++] = now;
	spry__faa(&s->restarts, 1);
	return 0;
}

/* ---- phases -------------------------------------------------------- */

/* Stop every child and then exit with reason (the first reason wins). */
static void
sup_exit_begin(sup_state *s, int reason)
{
	if (!s->exiting) {
		s->exiting = true;
		s->reason  = reason;
	}
	s->phase = true;
	s->lo    = 0;
	for (size_t i = 0; i < s->n; i++) {
		s->children[i].want = false;
	}
}

/* Stop the children from lo up, then start them again. */
static void
sup_restart_begin(sup_state *s, size_t lo)
{
	s->phase = true;
	s->lo    = lo;
	for (size_t i = lo; i < s->n; i++) {
		sup_child *c = &s->children[i];

		c->want = !c->removed && c->spec.restart != SPRY_TEMPORARY;
	}
}

/* Child i ended with reason and nothing is running: apply the strategy. */
static void
sup_on_failure(sup_state *s, size_t i, int reason)
{
	int rv;

	if (!sup_wants_restart(&s->children[i], reason)) {
		return;
	}
	if ((rv = sup_charge(s)) != 0) {
		sup_exit_begin(s, rv);
		return;
	}
	switch (s->strategy) {
	case SPRY_ONE_FOR_ONE:
		s->children[i].want = true;
		break;
	case SPRY_REST_FOR_ONE:
		sup_restart_begin(s, i);
		break;
	default:
		sup_restart_begin(s, 0);
		break;
	}
}

/*
 * Take the stop phase one step: false when nothing is left to stop. One
 * child at a time, highest index first, each waited for before the next.
 */
static bool
sup_stop_next(sup_state *s, spry_actor *self)
{
	for (size_t i = 0; i < s->n; i++) {
		if (s->children[i].state == SUP_STOPPING) {
			return true;
		}
	}
	for (size_t i = s->n; i-- > s->lo;) {
		if (s->children[i].state == SUP_RUNNING) {
			sup_child_stop(self, &s->children[i]);
			return true;
		}
	}
	return false;
}

/*
 * A restart that failed to start counts as a failure of the child. OTP
 * retries it through its own mailbox rather than in a loop, so that a
 * child that can never start does not hold the worker (with a short
 * period the intensity alone might never stop it): so do we, through a
 * zero timer whose tag is the state itself.
 */
static void
sup_start_failed(sup_state *s, spry_actor *self, size_t i, int rv)
{
	sup_on_failure(s, i, rv);
	if (!s->exiting && spry_actor_after(self, 0, s, NULL) == 0) {
		s->deferred = true;
	}
}

/*
 * Outside a stop phase: start the first wanted child, else handle the
 * first dead one. False when there is nothing to do.
 */
static bool
sup_step(sup_state *s, spry_actor *self)
{
	int rv;

	for (size_t i = 0; i < s->n && !s->deferred; i++) {
		sup_child *c = &s->children[i];

		if (c->want) {
			c->want = false;
			if ((rv = sup_child_start(self, c)) != 0) {
				c->state = SUP_IDLE;
				sup_start_failed(s, self, i, rv);
			}
			return true;
		}
	}
	for (size_t i = 0; i < s->n; i++) {
		sup_child *c = &s->children[i];

		if (c->state == SUP_DEAD) {
			c->state = SUP_IDLE;
			sup_on_failure(s, i, c->reason);
			return true;
		}
	}
	return false;
}

/*
 * Run the machine as far as it goes without waiting for an event.
 *
 * First, a supervisor whose ctx has ended is shutting down even if its
 * CANCEL has not been delivered yet: the ctx ends every child's ctx too,
 * and a child's DOWN can reach us in the turn that is already running
 * when our own cancel is posted (the runtime reads pending requests once,
 * at the start of a turn). Without this check such a child would look
 * failed and be restarted under a ctx that has ended.
 */
static int
sup_drive(sup_state *s, spry_actor *self)
{
	if (!s->exiting && spry_ctx_err(spry_actor_ctx(self)) != 0) {
		sup_exit_begin(s, SPRY_EXIT_SHUTDOWN);
	}
	for (;;) {
		if (s->phase) {
			if (sup_stop_next(s, self)) {
				return SPRY_CONTINUE;
			}
			if (s->exiting) {
				return s->reason;
			}
			s->phase = false;
		}
		if (!sup_step(s, self)) {
			return SPRY_CONTINUE;
		}
	}
}

/* ---- events -------------------------------------------------------- */

static int
sup_on_start(sup_state *s, spry_actor *self)
{
	int rv;

	spry__actor_linger(self);
	for (size_t i = 0; i < s->n; i++) {
		if ((rv = sup_child_start(self, &s->children[i])) != 0) {
			sup_exit_begin(s, rv);
			break;
		}
	}
	return sup_drive(s, self);
}

static int
sup_on_down(sup_state *s, spry_actor *self, const spry_event *ev)
{
	sup_child *c = NULL;

	for (size_t i = 0; i < s->n && c == NULL; i++) {
		if (s->children[i].actor == ev->actor &&
		    s->children[i].mref == ev->ref) {
			c = &s->children[i];
		}
	}
	if (c == NULL) {
		return SPRY_CONTINUE; /* not a monitor of ours */
	}
	if (c->timed) {
		(void)spry_actor_cancel_timer(self, c->timer);
		c->timed = false;
	}
	c->state  = c->state == SUP_STOPPING ? SUP_IDLE : SUP_DEAD;
	c->reason = ev->reason;
	sup_child_forget(c);
	return sup_drive(s, self);
}

static int
sup_on_timer(sup_state *s, spry_actor *self, const spry_event *ev)
{
	sup_child *c = ev->msg;

	if (ev->msg == s) { /* the retry of a failed restart */
		s->deferred = false;
		return sup_drive(s, self);
	}
	/* A stale timer (its child ended meanwhile) has another id. */
	if (c->state == SUP_STOPPING && c->timed && c->timer == ev->ref) {
		c->timed = false;
		spry_actor_kill(c->actor);
	}
	return SPRY_CONTINUE;
}

static int
sup_behavior(spry_actor *self, const spry_event *ev, void *state)
{
	sup_state *s = state;

	switch (ev->type) {
	case SPRY_EV_START:
		return sup_on_start(s, self);
	case SPRY_EV_DOWN:
		return sup_on_down(s, self, ev);
	case SPRY_EV_TIMER:
		return sup_on_timer(s, self, ev);
	case SPRY_EV_CANCEL:
		sup_exit_begin(s, SPRY_EXIT_SHUTDOWN);
		return sup_drive(s, self);
	default:
		/* Nobody may send to a supervisor; we cannot free an item of
		 * unknown type, so it is ignored. */
		return SPRY_CONTINUE;
	}
}

/*
 * The state goes with the actor's end, but the handle (and thus
 * spry_supervisor_restarts) stays valid after it. So the state pointer is
 * swapped for the final count, tagged in bit 0, under the actor's lock,
 * which spry_supervisor_restarts takes around its read. Nothing in the
 * runtime reads a->state once the exit callback has run.
 */
static void
sup_exit_cb(spry_actor *self, int reason, void *state)
{
	sup_state *s = state;
	uintptr_t  tagged;

	(void)reason;
	/* Children are still held only if the supervisor was killed:
	 * cancelling their ctx still ends them. */
	for (size_t i = 0; i < s->n; i++) {
		if (s->children[i].actor != NULL) {
			sup_child_forget(&s->children[i]);
		}
	}
	tagged = ((uintptr_t)spry__load_relaxed(&s->restarts) << 1) | 1u;
	spry__spin_lock(&self->lock);
	self->state = (void *)tagged;
	spry__spin_unlock(&self->lock);
	sup_free(s);
}

/* ---- public API ---------------------------------------------------- */

int
spry_supervisor_start(spry_actor **out, const spry_supervisor_opts *opts)
{
	spry_actor_opts ao = SPRY_ACTOR_OPTS_INIT;
	sup_state      *s;
	int             rv;

	if ((rv = sup_check(opts)) != 0) {
		return rv;
	}
	if ((s = sup_alloc(opts)) == NULL) {
		return SPRY_ENOMEM;
	}
	ao.behavior = sup_behavior;
	ao.state    = s;
	ao.ctx      = opts->ctx;
	ao.exit_cb  = sup_exit_cb;
	if ((rv = spry_actor_spawn(out, &ao)) != 0) {
		sup_free(s); /* never started: no exit_cb will run */
	}
	return rv;
}

uint64_t
spry_supervisor_restarts(spry_actor *sup)
{
	uintptr_t v;
	uint64_t  n;

	if (sup == NULL || sup->behavior != sup_behavior) {
		return 0;
	}
	spry__spin_lock(&sup->lock);
	v = (uintptr_t)spry__actor_state(sup);
	n = (v & 1u) ? (uint64_t)(v >> 1) :
	               spry__load_relaxed(&((sup_state *)v)->restarts);
	spry__spin_unlock(&sup->lock);
	return n;
}
