/* SPDX-License-Identifier: MIT */
/*
 * sp/socket.c: the socket: open and close, references, the socket's
 * actor, and the send path (inline when nothing is queued, else through
 * the actor). Receiving into consumers is in sp/consumer.c, pipes in
 * sp/pipe.c, endpoints in sp/endpoint.c, options in sp/option.c; the
 * protocols decide, this file moves.
 */
#include "sp/socket.h"
#include "actors/actor.h"
#include "actors/sched.h"
#include "mailbox/alloc.h"
#include "mailbox/atomic.h"
#include "mailbox/lock.h"
#include "spry/error.h"

#include <stdio.h>
#include <string.h>

/* Timer tags with this bit are endpoints to redial; protocols' are not. */
#define SOCK_TAG_EP 1u

static uint32_t sock_ids;

/*
 * Socket locks (lk) this thread holds: a thread holding one must not
 * send on a socket itself (the send could need that very lock), so the
 * send mailbox's hook then leaves the work to the actor.
 */
static __thread unsigned sock_lk_depth;

/*
 * A timer asked for outside the actor's turn: spry_actor_after works
 * only from the actor's own behavior, so the actor arms it later.
 */
struct spry__tlater {
	struct spry__tlater *next; /* in s->tlater (atomic push) */
	spry_time            when; /* absolute deadline */
	void                *tag;  /* for the timer op; fixed */
};

/* ---- references and locks --------------------------------------------- */

void
spry__sock_hold(spry_socket *s)
{
	spry__faa(&s->refs, 1);
}

static void
sock_free(spry_socket *s)
{
	if (s->proto->fini != NULL) {
		s->proto->fini(s);
	}
	spry_msg_free(s->txpend);
	for (struct spry__tlater *t = s->tlater, *next; t != NULL; t = next) {
		next = t->next; /* the actor ended before arming it */
		spry__free(t, sizeof(*t));
	}
	if (s->recvbox != NULL) {
		spry_mailbox_release(s->recvbox);
	}
	spry_actor_release(s->actor);
	spry__free(s, sizeof(*s) + s->proto->sock_size);
}

void
spry__sock_release(spry_socket *s)
{
	if (spry__faa(&s->refs, (uint32_t)-1) == 1) {
		sock_free(s);
	}
}

void
spry__sock_lock(spry_socket *s)
{
	spry__spin_lock(&s->lk);
	sock_lk_depth++;
}

void
spry__sock_unlock(spry_socket *s)
{
	sock_lk_depth--;
	spry__spin_unlock(&s->lk);
}

bool
spry__sock_closed(spry_socket *s)
{
	return spry__load_acq(&s->closed) != 0;
}

void
spry_socket_hold(spry_socket *s)
{
	spry__sock_hold(s);
}

void
spry_socket_release(spry_socket *s)
{
	spry__sock_release(s);
}

/* ---- emitting ----------------------------------------------------------- */

int
spry__emit_add(spry__emit *e, spry__pipe *p)
{
	if (e->n == e->cap) {
		size_t       cap = e->cap * 2;
		spry__pipe **np  = spry__alloc(cap * sizeof(*np));

		if (np == NULL) {
			return SPRY_ENOMEM;
		}
		memcpy(np, e->pipes, e->n * sizeof(*np));
		if (e->pipes != e->inl) {
			spry__free(e->pipes, e->cap * sizeof(*np));
		}
		e->pipes = np;
		e->cap   = cap;
	}
	spry__pipe_hold(p);
	e->pipes[e->n++] = p;
	return 0;
}

static void
emit_init(spry__emit *e)
{
	memset(e, 0, sizeof(*e));
	e->pipes = e->inl;
	e->cap   = sizeof(e->inl) / sizeof(e->inl[0]);
}

/*
 * Hand the emit's message to its pipes, outside lk: copies share the
 * bytes, the last pipe gets the original. A pipe that closed meanwhile
 * loses its copy (counted), as a connection that drops does.
 */
static void
emit_run(spry_socket *s, spry__emit *e)
{
	for (size_t i = 0; i < e->n; i++) {
		spry__pipe *p = e->pipes[i];
		spry_msg   *m = e->msg;

		if (i + 1 < e->n && spry_msg_dup(&m, e->msg) != 0) {
			m = NULL;
		}
		if (m != NULL && p->tran->send(p, m) == 0) {
			spry__sock_count(&s->st_sent, 1);
		} else {
			spry_msg_free(m);
			spry__sock_count(&s->st_dropped, 1);
		}
		spry__pipe_release(p);
	}
	if (e->n == 0) {
		spry_msg_free(e->msg);
	}
	if (e->pipes != e->inl) {
		spry__free(e->pipes, e->cap * sizeof(*e->pipes));
	}
}

/*
 * Send m now if the protocol has somewhere to put it (txlk held). 0: m
 * is gone; SPRY_EAGAIN or an error: the caller keeps m.
 */
static int
sock_send_now(spry_socket *s, spry_msg *m)
{
	spry__emit e;
	int        rv;

	emit_init(&e);
	spry__sock_lock(s);
	rv = spry__sock_closed(s) ? SPRY_ECLOSED : s->proto->send(s, m, &e);
	spry__sock_unlock(s);
	if (rv == 0) {
		emit_run(s, &e);
	}
	return rv;
}

/* ---- the actor ------------------------------------------------------------
 */

/*
 * The sendbox looked empty, but a put may have claimed a slot and not yet
 * published it: its sender skipped the note when one was pending
 * (spry__actor_mb_note_lazy), counting on this turn, so ask for another.
 */
static void
sock_drain_settle(spry_socket *s)
{
	if (!spry__mailbox_idle(s->sendbox)) {
		spry__actor_post(s->actor, SPRY__PEND_WAKE);
	}
}

/*
 * Send what waits: the held message first, then the send mailbox, a
 * batch at a time (txlk held). A message that cannot go yet is held in
 * txpend until a pipe pokes us; one that fails is dropped and counted,
 * since nobody is left to tell.
 */
static void
sock_drain(spry_socket *s)
{
	void *item;
	int   rv;

	for (unsigned n = 0; n < 64; n++) {
		uint32_t gen = spry__load_acq(&s->txgen);

		if (s->txpend == NULL) {
			if (spry_mailbox_tryrecv(s->sendbox, &item) != 0) {
				sock_drain_settle(s);
				if (n > 0) { /* a thread feeds us: more soon */
					spry__sched_linger();
				}
				return;
			}
			s->txpend = item;
		}
		if ((rv = sock_send_now(s, s->txpend)) == SPRY_EAGAIN) {
			spry__store_rel(&s->txblock, gen + 1);
			return;
		}
		/* Stored only on change: every put's notify reads it. */
		if (spry__load_relaxed(&s->txblock) != 0) {
			spry__store_rel(&s->txblock, 0);
		}
		if (rv != 0) {
			spry_msg_free(s->txpend);
			spry__sock_count(&s->st_dropped, 1);
		}
		s->txpend = NULL;
	}
	spry__sock_wake(s); /* more may wait: another turn, after others */
}

static void sock_shutdown(spry_socket *s);
static void sock_arm_later(spry_socket *s);

/* A timer fired (actor turn): an endpoint to redial or the protocol's. */
static void
sock_timer_fire(spry_socket *s, void *tag)
{
	if ((uintptr_t)tag & SOCK_TAG_EP) {
		spry__ep_retry(s, (uint64_t)((uintptr_t)tag >> 1));
	} else if (s->proto->timer != NULL) {
		s->proto->timer(s, tag);
	}
}

static int
sock_behavior(spry_actor *self, const spry_event *ev, void *state)
{
	spry_socket *s = state;

	switch (ev->type) {
	case SPRY_EV_START:
		spry__actor_selfdrain(self);
		break;
	case SPRY__EV_WAKE:
		sock_arm_later(s);
		spry__sock_rx_kick(s);
		spry__spin_lock(&s->txlk);
		if (spry__sock_closed(s)) {
			spry__mailbox_drain(s->sendbox);
			sock_drain_settle(s);
		} else {
			sock_drain(s);
		}
		spry__spin_unlock(&s->txlk);
		break;
	case SPRY_EV_TIMER:
		sock_timer_fire(s, ev->msg);
		break;
	case SPRY_EV_CANCEL:
		sock_shutdown(s);
		return SPRY_EXIT_SHUTDOWN;
	default:
		break;
	}
	return SPRY_CONTINUE;
}

static void
sock_exit_cb(spry_actor *self, int reason, void *state)
{
	(void)self;
	(void)reason;
	spry__sock_release(state);
}

static void
sock_dispose(void *item, void *arg)
{
	(void)arg;
	spry_msg_free(item);
}

void
spry__sock_wake(spry_socket *s)
{
	spry__faa(&s->txgen, 1); /* whatever blocked sends may go now */
	spry__actor_post(s->actor, SPRY__PEND_WAKE);
}

void
spry__pipe_tx_ready_here(spry__pipe *p)
{
	spry_socket *s = p->s;
	bool         more;

	spry__store_rel(&p->txfull, 0);
	spry__faa(&s->txgen, 1);
	if (!spry__spin_trylock(&s->txlk)) {
		spry__actor_post(s->actor, SPRY__PEND_WAKE); /* its holder */
		return;
	}
	sock_drain(s);
	more = s->txpend == NULL && !spry__mailbox_empty(s->sendbox);
	spry__spin_unlock(&s->txlk);
	if (more) {
		spry__sock_wake(s);
	}
}

/*
 * The send mailbox's notify hook: wake the actor for a new message,
 * unless the actor is stuck on a message no pipe takes and nothing has
 * poked it since (txgen unchanged): then the poke that unblocks it
 * drains this message too, and waking it now would only spin a worker
 * for nothing, once per message, while the peer is slow.
 */
static void
sock_sendbox_notify(spry_mailbox *mb, bool blocking)
{
	spry_actor  *a = (spry_actor *)((char *)mb - offsetof(spry_actor, mb));
	spry_socket *s = spry__actor_state(a);
	uint32_t     b = spry__load_acq(&s->txblock);

	if (b != 0 && b - 1 == spry__load_acq(&s->txgen)) {
		return;
	}
	/*
	 * A blocking spry_mailbox_send: send it now, on this thread, when
	 * nothing else is sending. The message then costs what spry_send
	 * costs, not a worker's wake-up, which is microseconds when the
	 * worker is parked (NF-1). A trysend or select case only queues,
	 * as a channel send does, and the actor sends. Not under a socket
	 * lock (see sock_lk_depth), and never waiting for the send lock.
	 */
	if (blocking && sock_lk_depth == 0 && spry__spin_trylock(&s->txlk)) {
		bool more;

		sock_drain(s);
		more = s->txpend == NULL && !spry__mailbox_empty(s->sendbox);
		spry__spin_unlock(&s->txlk);
		if (!more) {
			return;
		}
	}
	spry__actor_mb_note_lazy(mb);
}

uint64_t
spry__sock_timer(spry_socket *s, spry_duration delay, void *tag)
{
	struct spry__tlater *t;
	uint64_t             id = 0;

	if (spry_actor_self() == s->actor) {
		return spry_actor_after(s->actor, delay, tag, &id) == 0 ? id :
		                                                          0;
	}
	if ((t = spry__alloc(sizeof(*t))) == NULL) {
		return 0;
	}
	t->when = spry_deadline_after(delay < 0 ? 0 : delay);
	t->tag  = tag;
	t->next = spry__load_relaxed(&s->tlater);
	while (!spry__cas(&s->tlater, &t->next, t)) { }
	spry__sock_wake(s);
	return SPRY__SOCK_TIMER_LATER;
}

/* Arm the timers handed over from other threads (actor turn). */
static void
sock_arm_later(spry_socket *s)
{
	struct spry__tlater *t = spry__xchg(&s->tlater, NULL), *next;

	for (; t != NULL; t = next) {
		spry_time now = spry_now();

		next = t->next;
		if (spry_actor_after(s->actor,
		        t->when > now ? t->when - now : 0, t->tag,
		        NULL) != 0) {
			sock_timer_fire(s, t->tag); /* late beats never */
		}
		spry__free(t, sizeof(*t));
	}
}

void
spry__sock_timer_cancel(spry_socket *s, uint64_t id)
{
	if (id != 0) {
		(void)spry_actor_cancel_timer(s->actor, id);
	}
}

/*
 * The tag names the endpoint by id, not by pointer: the endpoint may be
 * closed and gone when the timer fires, and then the id finds nothing.
 */
void
spry__ep_retry_after(spry__ep *ep, spry_duration delay)
{
	(void)spry__sock_timer(
	    ep->s, delay, (void *)(((uintptr_t)ep->id << 1) | SOCK_TAG_EP));
}

/* ---- open and close ------------------------------------------------------
 */

static int
sock_spawn(spry_socket *s, const spry_socket_opts *o)
{
	spry_actor_opts ao = SPRY_ACTOR_OPTS_INIT;
	int             rv;

	ao.behavior   = sock_behavior;
	ao.state      = s;
	ao.ctx        = o->ctx;
	ao.capacity   = o->sendbuf;
	ao.exit_cb    = sock_exit_cb;
	ao.dispose_cb = sock_dispose;
	spry__sock_hold(s); /* the actor's, given back by sock_exit_cb */
	if ((rv = spry_actor_spawn(&s->actor, &ao)) != 0) {
		spry__sock_release(s);
		return rv;
	}
	s->sendbox         = spry_actor_mailbox(s->actor);
	s->sendbox->notify = sock_sendbox_notify; /* before anyone sends */
	return 0;
}

static int
sock_opts_check(const spry_socket_opts *o)
{
	if (o->size < sizeof(*o)) {
		return SPRY_EINVAL;
	}
	if ((o->sendbuf != 0 && spry__mailbox_round(o->sendbuf) == 0) ||
	    (o->recvbuf != 0 && spry__mailbox_round(o->recvbuf) == 0) ||
	    o->sendbuf > SPRY__SOCK_MAXBUF || o->recvbuf > SPRY__SOCK_MAXBUF) {
		return SPRY_EINVAL;
	}
	return 0;
}

static void
sock_defaults(spry_socket *s, bool raw)
{
	s->raw         = raw;
	s->refs        = 1;
	s->owner       = 1;
	s->sndtimeo    = -1;
	s->rcvtimeo    = -1;
	s->rcvmaxsz    = (size_t)1 << 20;
	s->reconnmin   = SPRY_MSEC(100);
	s->reconnmax   = 0;
	s->maxttl      = 8;
	s->hstimeo     = SPRY_SEC(10);
	s->ipcperm     = -1;
	s->id          = spry__faa(&sock_ids, 1) + 1;
	s->paused_tail = &s->paused;
	snprintf(s->name, sizeof(s->name), "%u", s->id);
}

int
spry_socket_open(spry_socket **out, int proto, const spry_socket_opts *opts)
{
	spry_socket_opts   o = SPRY_SOCKET_OPTS_INIT;
	const spry__proto *p;
	spry_socket       *s;
	int                rv;

	if (out == NULL || (opts != NULL && (rv = sock_opts_check(opts)))) {
		return SPRY_EINVAL;
	}
	if (opts != NULL) {
		o = *opts;
	}
	if ((p = spry__proto_find(proto, o.raw)) == NULL) {
		return SPRY_ENOTSUP;
	}
	if ((s = spry__alloc(sizeof(*s) + p->sock_size)) == NULL) {
		return SPRY_ENOMEM;
	}
	s->proto = p;
	s->pdata = s + 1;
	sock_defaults(s, o.raw);
	if ((rv = spry__consumer_init(s, o.recvbuf)) != 0 ||
	    (p->init != NULL && (rv = p->init(s)) != 0) ||
	    (rv = sock_spawn(s, &o)) != 0) {
		sock_free(s);
		return rv;
	}
	*out = s;
	return 0;
}

/*
 * Close everything the socket owns, once: endpoints and pipes (their
 * transports report the close through spry__pipe_closed), the two
 * mailboxes, the subscribers. Safe from the actor and from any thread.
 */
static void
sock_shutdown(spry_socket *s)
{
	spry__ep   *eps;
	spry__pipe *pipes = NULL;

	spry__sock_lock(s);
	if (spry__xchg(&s->closed, 1) != 0) {
		spry__sock_unlock(s);
		return;
	}
	eps    = s->eps;
	s->eps = NULL;
	for (spry__pipe *p = s->pipes; p != NULL; p = p->next) {
		spry__pipe_hold(p);
		p->pnext = pipes; /* paused links are dropped below anyway */
		pipes    = p;
	}
	spry__consumer_close(s);
	spry__sock_unlock(s);
	spry_mailbox_close(s->sendbox);
	spry__eps_close(eps);
	while (pipes != NULL) {
		spry__pipe *next = pipes->pnext;

		pipes->tran->close(pipes);
		spry__pipe_closed(pipes);
		spry__pipe_release(pipes);
		pipes = next;
	}
	spry__sock_wake(s); /* the actor frees what is left to send */
}

int
spry_close(spry_socket *s)
{
	int rv = spry__sock_closed(s) ? SPRY_ECLOSED : 0;

	sock_shutdown(s);
	spry_actor_stop(s->actor);
	if (spry__xchg(&s->owner, 0) == 1) {
		spry__sock_release(s);
	}
	return rv;
}

int
spry_socket_proto(const spry_socket *s)
{
	return s->proto->self;
}

int
spry_socket_peer(const spry_socket *s)
{
	return s->proto->peer;
}

spry_actor *
spry_socket_actor(spry_socket *s)
{
	return s->actor;
}

spry_mailbox *
spry_socket_sendbox(spry_socket *s, int *err)
{
	if (s->proto->flags & SPRY__P_NOSEND) {
		if (err != NULL) {
			*err = SPRY_ENOTSUP;
		}
		return NULL;
	}
	return s->sendbox;
}

void
spry_socket_stats_get(spry_socket *s, spry_socket_stats *st)
{
	st->sent      = spry__load_relaxed(&s->st_sent);
	st->received  = spry__load_relaxed(&s->st_received);
	st->dropped   = spry__load_relaxed(&s->st_dropped);
	st->rejected  = spry__load_relaxed(&s->st_rejected);
	st->malformed = spry__load_relaxed(&s->st_malformed);
	st->oversize  = spry__load_relaxed(&s->st_oversize);
	st->pipes     = spry__load_relaxed(&s->st_pipes);
}

/* ---- sending -------------------------------------------------------------
 */

/*
 * Inline when nothing waits ahead (txlk makes that check exact, since
 * only txlk holders take from the send mailbox), else queue behind.
 */
static int
sock_send(spry_ctx *ctx, spry_socket *s, spry_msg *m, spry_time deadline,
    bool nonblock)
{
	spry_select_case c = {s->sendbox, SPRY_SELECT_SEND, m, 0};
	int              rv;

	if (m == NULL) {
		return SPRY_EINVAL;
	}
	if (s->proto->flags & SPRY__P_NOSEND) {
		return SPRY_ENOTSUP;
	}
	/*
	 * Bypass the send mailbox only when nothing is in it or on its way
	 * in (spry__mailbox_idle): a put another thread has claimed but not
	 * yet filled would hide this thread's own earlier message queued
	 * behind it, and m would overtake that message.
	 */
	spry__spin_lock(&s->txlk);
	if (s->txpend != NULL || !spry__mailbox_idle(s->sendbox)) {
		/* Move what waits ahead of us ourselves: no thread hop. */
		sock_drain(s);
	}
	rv = SPRY_EAGAIN;
	if (s->txpend == NULL && spry__mailbox_idle(s->sendbox)) {
		rv = sock_send_now(s, m);
	}
	spry__spin_unlock(&s->txlk);
	if (rv != SPRY_EAGAIN) {
		return rv;
	}
	if (nonblock) {
		return spry_mailbox_trysend(s->sendbox, m);
	}
	if ((rv = spry__mailbox_wait(ctx, deadline, &c)) == 0) {
		rv = c.err;
	}
	return rv;
}

int
spry_send(spry_socket *s, spry_msg *m, int flags)
{
	if (s == NULL) {
		return SPRY_EINVAL;
	}
	return sock_send(NULL, s, m,
	    spry_deadline_after(
	        __atomic_load_n(&s->sndtimeo, __ATOMIC_RELAXED)),
	    (flags & SPRY_FLAG_NONBLOCK) != 0);
}

int
spry_send_ctx(spry_ctx *ctx, spry_socket *s, spry_msg *m)
{
	if (s == NULL) {
		return SPRY_EINVAL;
	}
	return sock_send(ctx, s, m, SPRY_TIME_NEVER, false);
}
