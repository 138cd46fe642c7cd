/* SPDX-License-Identifier: MIT */
/*
 * actors/actor.c: actor lifecycle: spawn, turns, signals (timers, awaits,
 * DOWN notices), monitors, exit, and spry_actor_wait for plain threads.
 *
 * An actor and its mailbox are one allocation; the mailbox's reference
 * count is the actor's. The runtime holds one reference while the actor
 * is live; every timer record (a timer or an await) and monitor record
 * holds one on the actor it will notify. An ended actor is never
 * scheduled again (see actor_exit).
 */
#include "actors/actor.h"

#include "actors/sched.h"
#include "actors/timer.h"
#include "mailbox/alloc.h"
#include "mailbox/atomic.h"
#include "mailbox/lock.h"
#include "spry/error.h"

#include <emmintrin.h>

#define SIG_TIMER 1 /* a timer or an await (struct spry__atimer) */
#define SIG_DOWN 2

/* spry__sig: the head of every signal record. */
typedef struct spry__sig {
	ck_stack_entry_t entry; /* link in the signal stack */
	int              type;  /* SIG_TIMER or SIG_DOWN */
} spry__sig;

struct spry__monitor {
	spry__sig             sig;     /* delivered as SPRY_EV_DOWN */
	struct spry__monitor *next;    /* in target's list (target lock) */
	spry_actor           *watcher; /* held; NULL: a waiting thread */
	spry_actor           *target;  /* held (NULL for waiting threads) */
	spry__parker         *parker;  /* waiting thread's parker */
	uint64_t              ref;     /* monitor ref */
	int                   reason;  /* target's exit reason, once fired */
	uint32_t              done;    /* waiting thread: notifier finished */
};

/*
 * A timer (spry_actor_after) or an await (spry_actor_await): one record,
 * one pending list and one way to cancel, since both are "tell me later"
 * notices that fire once from another thread. An await is a waiter on
 * a mailbox, its callback run under that mailbox's lock.
 */
struct spry__atimer {
	spry__sig sig; /* delivered as SPRY_EV_TIMER, or SPRY_EV_READY */
	union {
		spry__timer  timer; /* a timer's heap entry */
		spry__waiter w;     /* an await's, on mb */
	};
	struct spry__atimer *next;     /* actor's pending list (own turn) */
	spry_actor          *actor;    /* held */
	spry_mailbox        *mb;       /* an await's (held); NULL: a timer */
	int                  dir;      /* an await's SPRY_SELECT_* */
	void                *tag;      /* given by the behavior */
	uint64_t             id;       /* timer or await id */
	bool                 canceled; /* drop when it arrives (own turn) */
};

static _Thread_local spry_actor *tls_self;
static uint64_t                  next_id = 1; /* atomic */

static inline spry_actor *
actor_of_mb(spry_mailbox *mb)
{
	return (spry_actor *)((char *)mb - offsetof(spry_actor, mb));
}

/* ---- signals ----------------------------------------------------------- */

/* ck_stack calls, hidden from TSan; each record's hand-off is annotated. */
static void
sig_push(spry_actor *a, spry__sig *s)
{
	spry__tsan_release(s);
	spry__tsan_ignore_begin();
	ck_stack_push_upmc(&a->signals, &s->entry);
	spry__tsan_ignore_end();
}

/* Take all signals, oldest first. */
static spry__sig *
sig_take(spry_actor *a)
{
	ck_stack_entry_t *e, *fifo = NULL;

	spry__tsan_ignore_begin();
	e = ck_stack_batch_pop_upmc(&a->signals);
	while (e != NULL) {
		ck_stack_entry_t *next = e->next;

		e->next = fifo;
		fifo    = e;
		e       = next;
	}
	spry__tsan_ignore_end();
	for (e = fifo; e != NULL; e = e->next) {
		spry__tsan_acquire(e);
	}
	return (spry__sig *)fifo;
}

static bool
sig_any(spry_actor *a)
{
	bool any;

	spry__tsan_ignore_begin();
	any = CK_STACK_FIRST(&a->signals) != NULL;
	spry__tsan_ignore_end();
	return any;
}

static void sig_drop(spry__sig *s);
static void actor_wake(spry_actor *a, bool handoff);

/*
 * Hand a notice to `to`, or drop it if `to` has ended: the check and the
 * push are one step under to's lock, and an ending actor sets `exited`
 * under that lock before its last sweep of the stack, so no notice is
 * ever left behind in an ended actor.
 */
static void
sig_deliver(spry_actor *to, spry__sig *s)
{
	bool ended;

	spry_actor_hold(to); /* s may be gone as soon as it is pushed */
	spry__spin_lock(&to->lock);
	ended = to->exited != 0;
	if (!ended) {
		sig_push(to, s);
	}
	spry__spin_unlock(&to->lock);
	if (ended) {
		sig_drop(s);
	} else {
		actor_wake(to, false);
	}
	spry_actor_release(to);
}

static void
monitor_free(struct spry__monitor *m)
{
	spry_actor_release(m->watcher);
	spry_actor_release(m->target);
	spry__free(m, sizeof(*m));
}

static void
atimer_free(struct spry__atimer *t)
{
	spry_mailbox_release(t->mb);
	spry_actor_release(t->actor);
	spry__free(t, sizeof(*t));
}

/*
 * Take t back before it fires: true if it will not, false if its notice
 * is already on its way (an await's callback has even returned: both
 * run under the mailbox's lock).
 */
static bool
atimer_disarm(struct spry__atimer *t)
{
	return t->mb == NULL ? spry__timer_disarm(&t->timer) :
	                       spry__mailbox_wait_cancel(t->mb, t->dir, &t->w);
}

/* Free a signal record without delivering it. */
static void
sig_drop(spry__sig *s)
{
	if (s->type == SIG_TIMER) {
		atimer_free((struct spry__atimer *)s);
	} else {
		monitor_free((struct spry__monitor *)s);
	}
}

/*
 * Note that a has work; the note that finds it idle (sched 0) submits it.
 * Every note is an RMW so that the actor can tell, when it tries to go
 * idle, whether anything arrived during its turn (actor_yield) without
 * touching the actor after it has gone idle.
 */
static void
actor_wake(spry_actor *a, bool handoff)
{
	if (spry__faa(&a->sched, 1) == 0) {
		spry__sched_submit(a, handoff);
	}
}

void
spry__actor_post(spry_actor *a, uint32_t bits)
{
	spry__for(&a->pending, bits);
	actor_wake(a, false);
}

void
spry__actor_mb_notify(spry_mailbox *mb, bool blocking)
{
	spry_actor *a = actor_of_mb(mb);

	(void)blocking;
	actor_wake(a, tls_self != NULL);
}

/*
 * A put skips its note when one is already pending (sched >= 2): that
 * note makes the current turn's CAS 1 -> 0 fail, so the actor resets
 * sched with an exchange and runs again. Why that turn sees the item:
 * the put claimed its slot with a seq_cst CAS on head before this seq_cst
 * load; the load read a count the reset has not yet replaced, so in the
 * single total order the claim precedes the reset, which precedes every
 * seq_cst load of head in the turns after it. A turn that then finds the
 * claimed slot not yet published (the put's store may still be on its
 * way) must not go idle on it: see spry__mailbox_idle in actor_turn and
 * in the socket's drain. Ended actors (sched >= SPRY__SCHED_ENDED) need
 * no note either. The load costs no locked instruction, where the add
 * did: a busy actor's senders pay one add per turn, not one per item.
 */
void
spry__actor_mb_note_lazy(spry_mailbox *mb)
{
	spry_actor *a = actor_of_mb(mb);

	if (__atomic_load_n(&a->sched, __ATOMIC_SEQ_CST) < 2) {
		actor_wake(a, tls_self != NULL);
	}
}

static void
actor_watch_cb(spry__ctx_watch *w, int err)
{
	spry_actor *a =
	    (spry_actor *)((char *)w - offsetof(spry_actor, watch));

	spry__actor_post(a,
	    err == SPRY_ETIMEDOUT ? SPRY__PEND_TIMEDOUT : SPRY__PEND_CANCELED);
}

/* ---- spawn and references ------------------------------------------- */

static size_t
actor_size(size_t cap)
{
	return offsetof(spry_actor, mb) + spry__mailbox_size(cap, true);
}

static void
actor_free(spry_mailbox *mb)
{
	spry_actor *a = actor_of_mb(mb);

	spry_ctx_release(a->ctx);
	spry__sched_block_put(a, actor_size((size_t)mb->mask + 1));
}

int
spry_actor_spawn(spry_actor **out, const spry_actor_opts *opts)
{
	spry_mailbox_opts mo = SPRY_MAILBOX_OPTS_INIT;
	spry_actor       *a;
	size_t            cap;
	int               rv;

	if (opts == NULL || opts->size != sizeof(*opts) ||
	    opts->behavior == NULL ||
	    (cap = spry__mailbox_round(opts->capacity)) == 0) {
		return SPRY_EINVAL;
	}
	if ((rv = spry__sched_ensure()) != 0) {
		return rv;
	}
	if ((a = spry__sched_block_get(actor_size(cap))) == NULL) {
		return SPRY_ENOMEM;
	}
	mo.dispose_cb  = opts->dispose_cb;
	mo.dispose_arg = opts->dispose_arg;
	spry__mailbox_init(&a->mb, cap, &mo, actor_free, true);
	a->mb.notify = spry__actor_mb_notify;
	a->behavior  = opts->behavior;
	a->state     = opts->state;
	a->exit_cb   = opts->exit_cb;
	a->ctx       = opts->ctx != NULL ? opts->ctx : spry_ctx_background();
	a->watch.cb  = actor_watch_cb;
	a->sched     = 1; /* we submit below; posts until then only set bits */
	spry_ctx_hold(a->ctx);
	if ((rv = spry__sched_actor_born(a)) != 0) {
		spry_actor_release(a);
		return rv;
	}
	if ((rv = spry__ctx_watch_add(a->ctx, &a->watch)) != 0) {
		spry__for(&a->pending,
		    rv == SPRY_ETIMEDOUT ? SPRY__PEND_TIMEDOUT :
		                           SPRY__PEND_CANCELED);
	}
	if (out != NULL) {
		spry_actor_hold(a);
		*out = a;
	}
	/*
	 * Spawned by an actor: run it next on this worker, as Go runs a new
	 * goroutine next. Trees of actors then unfold depth first, so their
	 * leaves end (and free their memory) before the tree is all there.
	 */
	spry__sched_submit(a, tls_self != NULL);
	return 0;
}

void
spry_actor_hold(spry_actor *a)
{
	spry_mailbox_hold(&a->mb);
}

void
spry_actor_release(spry_actor *a)
{
	if (a != NULL) {
		spry_mailbox_release(&a->mb);
	}
}

int
spry_actor_send(spry_actor *to, void *msg)
{
	if (to == NULL) {
		return SPRY_EINVAL;
	}
	return spry_mailbox_trysend(&to->mb, msg);
}

spry_mailbox *
spry_actor_mailbox(spry_actor *a)
{
	return &a->mb;
}

spry_ctx *
spry_actor_ctx(spry_actor *a)
{
	return a->ctx;
}

spry_actor *
spry_actor_self(void)
{
	return tls_self;
}

void
spry_actor_stop(spry_actor *a)
{
	if (a != NULL) {
		spry__actor_post(a, SPRY__PEND_CANCELED);
	}
}

void
spry_actor_kill(spry_actor *a)
{
	if (a != NULL) {
		spry__actor_post(a, SPRY__PEND_KILL);
	}
}

void
spry__actor_linger(spry_actor *self)
{
	self->flags |= SPRY__AF_LINGER;
}

void
spry__actor_selfdrain(spry_actor *self)
{
	self->flags |= SPRY__AF_SELFDRAIN;
}

/* ---- turns ------------------------------------------------------------- */

static int
actor_call(spry_actor *a, int type, void *msg, spry_actor *who, int reason,
    uint64_t ref)
{
	spry_event ev = {type, msg, who, reason, ref};

	return a->behavior(a, &ev, a->state);
}

/* Deliver queued signals; after a behavior asks to exit, drop the rest. */
static int
actor_signals(spry_actor *a)
{
	spry__sig *s  = sig_take(a);
	int        rv = SPRY_CONTINUE;

	while (s != NULL) {
		spry__sig *next = (spry__sig *)s->entry.next;

		if (s->type == SIG_TIMER) {
			struct spry__atimer  *t  = (struct spry__atimer *)s;
			struct spry__atimer **pp = &a->timers;

			/* Off the pending list even when dropped: the exit
			   sweeps that list. */
			while (*pp != NULL && *pp != t) {
				pp = &(*pp)->next;
			}
			if (*pp != NULL) {
				*pp = t->next;
			}
			if (rv == SPRY_CONTINUE && !t->canceled) {
				rv = actor_call(a,
				    t->mb != NULL ? SPRY_EV_READY :
				                    SPRY_EV_TIMER,
				    t->tag, NULL, 0, t->id);
			}
		} else if (rv == SPRY_CONTINUE) {
			struct spry__monitor *m = (struct spry__monitor *)s;

			rv = actor_call(a, SPRY_EV_DOWN, NULL, m->target,
			    m->reason, m->ref);
		}
		sig_drop(s);
		s = next;
	}
	return rv;
}

static int
actor_cancel(spry_actor *a, uint32_t pend)
{
	int rv;

	a->flags |= SPRY__AF_CANCEL;
	rv = actor_call(a, SPRY_EV_CANCEL, NULL, NULL,
	    (pend & SPRY__PEND_TIMEDOUT) ? SPRY_ETIMEDOUT : SPRY_ECANCELED, 0);
	if (rv == SPRY_CONTINUE && !(a->flags & SPRY__AF_LINGER)) {
		rv = SPRY_EXIT_SHUTDOWN;
	}
	return rv;
}

/*
 * One turn: requests, signals, then a bounded batch of messages. *more
 * tells that the actor must run again although no note came.
 */
static int
actor_turn(spry_actor *a, bool *more)
{
	uint32_t pend = 0;
	unsigned batch;
	void    *msg;
	int      rv;

	if (spry__load_relaxed(&a->pending) != 0) {
		pend = spry__xchg(&a->pending, 0);
	}
	if (pend & SPRY__PEND_KILL) {
		return SPRY_EXIT_KILLED;
	}
	if (!(a->flags & SPRY__AF_STARTED)) {
		a->flags |= SPRY__AF_STARTED;
		if ((rv = actor_call(a, SPRY_EV_START, NULL, NULL, 0, 0)) !=
		    0) {
			return rv;
		}
	}
	if ((pend & (SPRY__PEND_CANCELED | SPRY__PEND_TIMEDOUT)) &&
	    !(a->flags & SPRY__AF_CANCEL) &&
	    (rv = actor_cancel(a, pend)) != 0) {
		return rv;
	}
	if (sig_any(a) && (rv = actor_signals(a)) != 0) {
		return rv;
	}
	if (a->flags & SPRY__AF_SELFDRAIN) {
		if ((pend & SPRY__PEND_WAKE) || !spry__mailbox_empty(&a->mb)) {
			return actor_call(a, SPRY__EV_WAKE, NULL, NULL, 0, 0);
		}
		/* A lazy put still publishing (spry__actor_mb_note_lazy). */
		*more = !spry__mailbox_idle(&a->mb);
		return SPRY_CONTINUE;
	}
	if ((pend & SPRY__PEND_WAKE) &&
	    (rv = actor_call(a, SPRY__EV_WAKE, NULL, NULL, 0, 0)) != 0) {
		return rv;
	}
	/*
	 * Another turn when messages may be left: the batch ran out (their
	 * notes may all have come before this turn, so nothing else would
	 * bring it back).
	 */
	batch = spry__sched_batch();
	for (unsigned n = 0; n < batch; n++) {
		if (spry_mailbox_tryrecv(&a->mb, &msg) != 0) {
			return SPRY_CONTINUE;
		}
		if ((rv = actor_call(a, SPRY_EV_MSG, msg, NULL, 0, 0)) != 0) {
			return rv;
		}
	}
	*more = true;
	return SPRY_CONTINUE;
}

/*
 * End the turn: go idle only if no note came during it (sched still 1)
 * and the turn left no work behind (`more`). After a successful CAS to 0
 * the actor may run elsewhere and be freed, so nothing here reads it
 * again; otherwise it stays ours and requeues.
 */
static void
actor_yield(spry_actor *a, bool more)
{
	uint32_t one = 1;

	if (more || !spry__cas(&a->sched, &one, 0)) {
		spry__xchg(&a->sched, 1);
		spry__sched_submit(a, false);
	}
}

/* Notify monitors and waiting threads (list m) that a has ended. */
static void
actor_notify_down(spry_actor *a, struct spry__monitor *m)
{
	while (m != NULL) {
		struct spry__monitor *next = m->next;

		m->reason = a->reason;
		if (m->watcher != NULL) {
			sig_deliver(m->watcher, &m->sig);
		} else {
			spry__parker_fire(m->parker, SPRY__PARK_FIRED);
			spry__store_rel(&m->done, 1); /* last touch of m */
		}
		m = next;
	}
}

/*
 * End a. Its `sched` stays 1 for good: nothing can schedule an ended
 * actor, and notices to it are dropped by their senders (sig_deliver).
 */
static void
actor_exit(spry_actor *a, int reason)
{
	struct spry__monitor *m;
	spry__sig            *s;

	a->reason = reason;
	spry__ctx_watch_del(a->ctx, &a->watch);
	spry_mailbox_close(&a->mb);
	/*
	 * Pending timers and awaits: gone now, or their notice is swept up
	 * below (it was pushed before `exited` is set, so never dropped by
	 * an await's callback under its mailbox's lock).
	 */
	for (struct spry__atimer *t = a->timers, *n; t != NULL; t = n) {
		n = t->next;
		if (atimer_disarm(t)) {
			atimer_free(t);
		}
	}
	a->timers = NULL;
	spry__spin_lock(&a->lock);
	spry__store_rel(&a->exited, SPRY__ENDING);
	spry__xchg(&a->sched, SPRY__SCHED_ENDED); /* never submitted again */
	spry__spin_unlock(&a->lock);
	for (s = sig_take(a); s != NULL;) {
		spry__sig *next = (spry__sig *)s->entry.next;

		sig_drop(s);
		s = next;
	}
	if (a->exit_cb != NULL) {
		a->exit_cb(a, reason, a->state);
	}
	spry__mailbox_drain(&a->mb);
	/* Only now is it down: monitors and waiters see a finished end. */
	spry__spin_lock(&a->lock);
	spry__store_rel(&a->exited, SPRY__DOWN);
	m           = a->monitors;
	a->monitors = NULL;
	spry__spin_unlock(&a->lock);
	actor_notify_down(a, m);
	spry__sched_actor_died(a);
	spry_actor_release(a); /* the runtime's reference */
}

void
spry__actor_run(spry_actor *a)
{
	bool more = false;
	int  rv;

	tls_self = a;
	rv       = actor_turn(a, &more);
	tls_self = NULL;
	if (rv != SPRY_CONTINUE) {
		actor_exit(a, rv);
	} else {
		actor_yield(a, more);
	}
}

/* ---- monitors ---------------------------------------------------------- */

int
spry_actor_monitor(spry_actor *watcher, spry_actor *target, uint64_t *ref)
{
	struct spry__monitor *m;

	if (watcher == NULL || target == NULL) {
		return SPRY_EINVAL;
	}
	if (spry__load_acq(&watcher->exited)) {
		return SPRY_ECLOSED;
	}
	if ((m = spry__alloc(sizeof(*m))) == NULL) {
		return SPRY_ENOMEM;
	}
	spry_actor_hold(watcher);
	spry_actor_hold(target);
	m->sig.type = SIG_DOWN;
	m->watcher  = watcher;
	m->target   = target;
	m->ref      = spry__faa(&next_id, 1);
	if (ref != NULL) {
		*ref = m->ref;
	}
	spry__spin_lock(&target->lock);
	if (target->exited != SPRY__DOWN) {
		m->next          = target->monitors;
		target->monitors = m;
		m                = NULL;
	}
	spry__spin_unlock(&target->lock);
	if (m != NULL) { /* already ended: notify at once */
		m->reason = target->reason;
		sig_deliver(watcher, &m->sig);
	}
	return 0;
}

/* Unlink the record matching (watcher, ref) from target; NULL if none. */
static struct spry__monitor *
monitor_unlink(spry_actor *target, spry_actor *watcher,
    struct spry__monitor *which, uint64_t ref)
{
	struct spry__monitor **pp, *m;

	spry__spin_lock(&target->lock);
	for (pp = &target->monitors; (m = *pp) != NULL; pp = &m->next) {
		if (m == which ||
		    (which == NULL && m->watcher == watcher &&
		        m->ref == ref)) {
			*pp = m->next;
			break;
		}
	}
	spry__spin_unlock(&target->lock);
	return m;
}

int
spry_actor_demonitor(spry_actor *watcher, spry_actor *target, uint64_t ref)
{
	struct spry__monitor *m;

	if (watcher == NULL || target == NULL) {
		return SPRY_EINVAL;
	}
	if ((m = monitor_unlink(target, watcher, NULL, ref)) == NULL) {
		return SPRY_ENOENT;
	}
	monitor_free(m);
	return 0;
}

/* ---- timers ------------------------------------------------------------ */

static void
atimer_cb(spry__timer *tm)
{
	struct spry__atimer *t = (struct spry__atimer *)((char *)tm -
	    offsetof(struct spry__atimer, timer));
	sig_deliver(t->actor, &t->sig);
}

int
spry_actor_after(
    spry_actor *self, spry_duration delay, void *tag, uint64_t *id)
{
	struct spry__atimer *t;
	int                  rv;

	if (self == NULL || self != tls_self) {
		return SPRY_ESTATE;
	}
	if ((t = spry__alloc(sizeof(*t))) == NULL) {
		return SPRY_ENOMEM;
	}
	spry_actor_hold(self);
	t->sig.type = SIG_TIMER;
	t->actor    = self;
	t->tag      = tag;
	t->id       = spry__faa(&next_id, 1);
	spry__timer_init(&t->timer, atimer_cb);
	t->next      = self->timers;
	self->timers = t;
	if ((rv = spry__timer_arm(&t->timer,
	         spry_deadline_after(delay < 0 ? 0 : delay))) != 0) {
		self->timers = t->next;
		atimer_free(t);
		return rv;
	}
	if (id != NULL) {
		*id = t->id;
	}
	return 0;
}

/* Cancel self's pending timer (await false) or await `id`. */
static int
atimer_cancel(spry_actor *self, uint64_t id, bool await)
{
	struct spry__atimer **pp, *t;

	if (self == NULL || self != tls_self) {
		return SPRY_ESTATE;
	}
	for (pp = &self->timers; (t = *pp) != NULL; pp = &t->next) {
		if (t->id == id && !t->canceled && (t->mb != NULL) == await) {
			break;
		}
	}
	if (t == NULL) {
		return SPRY_ENOENT;
	}
	if (atimer_disarm(t)) {
		*pp = t->next;
		atimer_free(t);
	} else {
		t->canceled = true; /* its notice is on the way: drop it */
	}
	return 0;
}

int
spry_actor_cancel_timer(spry_actor *self, uint64_t id)
{
	return atimer_cancel(self, id, false);
}

/* ---- awaits ------------------------------------------------------------ */

/* The mailbox is ready (its lock held): only post the notice. */
static void
await_cb(spry__waiter *w)
{
	struct spry__atimer *t = (struct spry__atimer *)((char *)w -
	    offsetof(struct spry__atimer, w));
	sig_deliver(t->actor, &t->sig);
}

int
spry_actor_await(
    spry_actor *self, spry_mailbox *mb, int dir, void *tag, uint64_t *id)
{
	struct spry__atimer *t;

	if (self == NULL || self != tls_self) {
		return SPRY_ESTATE;
	}
	if (mb == NULL ||
	    (dir != SPRY_SELECT_SEND && dir != SPRY_SELECT_RECV)) {
		return SPRY_EINVAL;
	}
	if ((t = spry__alloc(sizeof(*t))) == NULL) {
		return SPRY_ENOMEM;
	}
	spry_actor_hold(self);
	spry_mailbox_hold(mb);
	t->sig.type  = SIG_TIMER;
	t->w.cb      = await_cb;
	t->actor     = self;
	t->mb        = mb;
	t->dir       = dir;
	t->tag       = tag;
	t->id        = spry__faa(&next_id, 1);
	t->next      = self->timers;
	self->timers = t;
	/* Ready already: whoever unlinks the waiter delivers, once. */
	if (spry__mailbox_wait_arm(mb, dir, &t->w) &&
	    spry__mailbox_wait_cancel(mb, dir, &t->w)) {
		sig_deliver(self, &t->sig);
	}
	if (id != NULL) {
		*id = t->id;
	}
	return 0;
}

int
spry_actor_cancel_await(spry_actor *self, uint64_t id)
{
	return atimer_cancel(self, id, true);
}

/* ---- waiting from plain threads --------------------------------------- */

typedef struct wait_watch {
	spry__ctx_watch w;
	spry__parker   *parker;
} wait_watch;

static void
wait_watch_cb(spry__ctx_watch *w, int err)
{
	(void)err;
	spry__parker_fire(((wait_watch *)w)->parker, SPRY__PARK_FIRED + 1);
}

int
spry_actor_wait(spry_ctx *ctx, spry_actor *a, int *reason)
{
	struct spry__monitor m  = {0};
	wait_watch           ww = {{0}, NULL};
	spry__parker         p;
	int                  rv;

	if (a == NULL) {
		return SPRY_EINVAL;
	}
	if (tls_self != NULL) {
		return SPRY_ESTATE;
	}
	spry__parker_init(&p);
	m.parker = &p;
	spry__spin_lock(&a->lock);
	if (a->exited != SPRY__DOWN) {
		m.next      = a->monitors;
		a->monitors = &m;
	} else {
		m.reason = a->reason;
		m.done   = 1;
	}
	spry__spin_unlock(&a->lock);
	if (spry__load_acq(&m.done)) {
		goto out;
	}
	ww.w.cb   = wait_watch_cb;
	ww.parker = &p;
	if ((rv = spry__ctx_watch_add(ctx, &ww.w)) == 0) {
		spry__parker_wait(&p, spry_ctx_deadline(ctx));
		spry__ctx_watch_del(ctx, &ww.w);
	}
	if (monitor_unlink(a, NULL, &m, 0) != NULL) {
		return rv != 0        ? rv :
		    spry_ctx_err(ctx) ? spry_ctx_err(ctx) :
		                        SPRY_ETIMEDOUT;
	}
	/* The actor has ended and its notifier has m: let it finish. */
	while (!spry__load_acq(&m.done)) {
		_mm_pause();
	}
out:
	if (reason != NULL) {
		*reason = m.reason;
	}
	return 0;
}
