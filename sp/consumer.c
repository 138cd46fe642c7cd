/* SPDX-License-Identifier: MIT */
/*
 * sp/consumer.c: where received messages go. A socket's consumers are
 * its subscribers, or its own recvbox while it has none; each message
 * goes to one of them, the first with room, taking turns. A message
 * nobody has room for stays with its pipe (which then delivers nothing
 * more: backpressure) and the socket arms a waiter on the full
 * mailboxes; whichever thread makes room pokes the socket's actor,
 * which places the waiting messages in the order their pipes paused.
 * Lossy protocols (PUB/SUB, BUS, SURVEY) drop instead, counted.
 * Also here: the blocking receive, subscriptions and pipe events.
 */
#include "sp/socket.h"
#include "mailbox/alloc.h"
#include "spry/error.h"

#include <string.h>

#define container_of(p, T, f) ((T *)((char *)(p)-offsetof(T, f)))

/* A full consumer got room (mailbox lock held): poke its socket. */
static void
cons_room_cb(spry__waiter *w)
{
	spry__sock_wake(container_of(w, spry__consumer, w)->s);
}

/* A full reply mailbox got room (mailbox lock held): poke the socket. */
static void
pipe_room_cb(spry__waiter *w)
{
	spry__sock_wake(container_of(w, spry__pipe, w)->s);
}

static void
msg_dispose(void *item, void *arg)
{
	(void)arg;
	spry_msg_free(item);
}

int
spry__consumer_init(spry_socket *s, size_t recvbuf)
{
	spry_mailbox_opts o = SPRY_MAILBOX_OPTS_INIT;
	int               rv;

	o.capacity   = recvbuf != 0 ? recvbuf : SPRY_MAILBOX_CAPACITY;
	o.dispose_cb = msg_dispose;
	if ((rv = spry__mailbox_open_lazy(&s->recvbox, &o)) != 0) {
		return rv;
	}
	s->own.mb   = s->recvbox;
	s->own.s    = s;
	s->own.w.cb = cons_room_cb;
	s->own.data = !(s->proto->flags & SPRY__P_NORECV);
	return 0;
}

/* The consumer to try first: subscribers in turn, else the recvbox. */
static spry__consumer *
cons_first(spry_socket *s)
{
	for (spry__consumer *c = s->subs; c != NULL; c = c->next) {
		if (c->data) {
			return s->rr != NULL ? s->rr : c;
		}
	}
	return &s->own;
}

static spry__consumer *
cons_next(spry_socket *s, spry__consumer *c)
{
	if (c == &s->own) {
		return NULL;
	}
	do {
		c = c->next != NULL ? c->next : s->subs;
	} while (!c->data);
	return c;
}

/* Set the receive metadata of m (lk). */
static void
place_meta(spry_socket *s, spry__pipe *p, spry_msg *m)
{
	spry_msg_set_socket(m, s);
	if (p != NULL) {
		spry_msg_set_pipe(m, p->id);
		spry__msg_set_peer_ref(m, p->addrref);
	}
}

int
spry__sock_place(spry_socket *s, spry__pipe *p, spry_msg *m, spry_mailbox *to)
{
	spry__consumer *first, *c;
	int             rv;

	place_meta(s, p, m);
	if (to != NULL) {
		if ((rv = spry_mailbox_trysend(to, m)) == SPRY_EAGAIN &&
		    !(s->proto->flags & SPRY__P_LOSSY)) {
			return rv;
		}
		if (rv != 0) {
			/* the requester went away, or (lossy) has no room */
			spry_msg_free(m);
			spry__sock_count(&s->st_dropped, 1);
			return 0;
		}
		spry__sock_count(&s->st_received, 1);
		return 0;
	}
	first = c = cons_first(s);
	do {
		if (spry_mailbox_trysend(c->mb, m) == 0) {
			s->rr = cons_next(s, c);
			spry__sock_count(&s->st_received, 1);
			return 0;
		}
	} while ((c = cons_next(s, c)) != NULL && c != first);
	if (s->proto->flags & SPRY__P_LOSSY) {
		spry_msg_free(m);
		spry__sock_count(&s->st_dropped, 1);
		return 0;
	}
	return SPRY_EAGAIN;
}

void
spry__sock_deliver_to(spry_socket *s, spry_msg *m, spry_mailbox *to)
{
	if (spry__sock_place(s, NULL, m, to) != 0) {
		spry_msg_free(m);
		spry__sock_count(&s->st_dropped, 1);
	}
}

/* The level a consumer must drain to before a paused pipe resumes. */
static uint32_t
cons_low(spry_mailbox *mb)
{
	return (uint32_t)(spry_mailbox_capacity(mb) / 2);
}

/* Whether some consumer has drained to its low level (lk). */
static bool
cons_drained(spry_socket *s)
{
	spry__consumer *first, *c;

	first = c = cons_first(s);
	do {
		if (spry_mailbox_len(c->mb) <= cons_low(c->mb) ||
		    spry_mailbox_closed(c->mb)) {
			return true;
		}
	} while ((c = cons_next(s, c)) != NULL && c != first);
	return false;
}

/*
 * Arm w on mb's send side, then look again: the level may have been
 * reached first. below: see spry__waiter (0: any room).
 */
static bool
arm(spry_mailbox *mb, spry__waiter *w, uint32_t below)
{
	spry__mailbox_wait_del(mb, SPRY_SELECT_SEND, w);
	w->below = below;
	if (below == 0) {
		return spry__mailbox_wait_arm(mb, SPRY_SELECT_SEND, w);
	}
	spry__mailbox_wait_add(mb, SPRY_SELECT_SEND, w);
	return spry_mailbox_len(mb) <= below || spry_mailbox_closed(mb);
}

void
spry__sock_rx_wait(spry_socket *s, spry__pipe *p)
{
	spry__consumer *first, *c;
	bool            again = false;

	if (p->rxto != NULL) {
		again = arm(p->rxto, &p->w, 0);
	} else {
		first = c = cons_first(s);
		do {
			again |= arm(c->mb, &c->w, cons_low(c->mb));
		} while ((c = cons_next(s, c)) != NULL && c != first);
	}
	if (again) {
		spry__sock_wake(s);
	}
}

void
spry__consumer_disarm(spry_socket *s, spry__pipe *p)
{
	(void)s;
	if (p->rxto != NULL) {
		spry__mailbox_wait_del(p->rxto, SPRY_SELECT_SEND, &p->w);
		spry_mailbox_release(p->rxto);
		p->rxto = NULL;
	}
}

/* Unlink p from the paused list (lk). */
static void
paused_unlink(spry_socket *s, spry__pipe *p)
{
	spry__pipe **pp = &s->paused;

	while (*pp != p) {
		pp = &(*pp)->pnext;
	}
	*pp = p->pnext;
	__atomic_store_n(&s->npaused, s->npaused - 1, __ATOMIC_RELAXED);
	if (s->paused_tail == &p->pnext) {
		s->paused_tail = pp;
	}
	p->pnext = NULL;
}

void
spry__sock_rx_kick(spry_socket *s)
{
	spry__pipe *p, *next, *done[16];
	size_t      n;

	do {
		n = 0;
		spry__sock_lock(s);
		for (p = s->paused; p != NULL && n < 16; p = next) {
			next = p->pnext;
			if ((p->rxto == NULL && !cons_drained(s)) ||
			    spry__sock_place(s, p, p->rxpend, p->rxto) != 0) {
				spry__sock_rx_wait(s, p);
				if (p->rxto == NULL) {
					break; /* consumers full: keep turns */
				}
				continue;
			}
			p->rxpend = NULL;
			spry__consumer_disarm(s, p);
			paused_unlink(s, p);
			spry__pipe_hold(p);
			done[n++] = p;
		}
		spry__sock_unlock(s);
		/* Outside the lock, so a transport may send from here. */
		for (size_t i = 0; i < n; i++) {
			done[i]->tran->recv_resume(done[i]);
			spry__pipe_release(done[i]);
		}
	} while (n == 16);
}

/* Pause p with m for `to` (lk): the transport stops delivering. */
void
spry__sock_rx_pause(
    spry_socket *s, spry__pipe *p, spry_msg *m, spry_mailbox *to)
{
	p->rxpend = m;
	p->w.cb   = pipe_room_cb;
	if ((p->rxto = to) != NULL) {
		spry_mailbox_hold(to);
	}
	*s->paused_tail = p;
	s->paused_tail  = &p->pnext;
	__atomic_store_n(&s->npaused, s->npaused + 1, __ATOMIC_RELAXED);
	p->tran->recv_pause(p);
	spry__sock_rx_wait(s, p);
}

/* Forget p's waiting message, if any (lk): p is leaving. */
void
spry__sock_rx_forget(spry_socket *s, spry__pipe *p)
{
	if (p->rxpend == NULL) {
		return;
	}
	spry_msg_free(p->rxpend);
	p->rxpend = NULL;
	spry__consumer_disarm(s, p);
	paused_unlink(s, p);
	spry__sock_count(&s->st_dropped, 1);
}

/* ---- events and subscriptions --------------------------------------- */

static void
event_send(spry_socket *s, spry_mailbox *mb, spry__pipe *p, int ev)
{
	spry_msg *m;

	if (spry_msg_alloc(&m, 0) != 0) {
		return;
	}
	place_meta(s, p, m);
	spry_msg_set_err(m, ev);
	if (spry_mailbox_trysend(mb, m) != 0) {
		spry_msg_free(m);
	}
}

void
spry__sock_events(spry_socket *s, spry__pipe *p, int ev)
{
	for (spry__consumer *c = s->subs; c != NULL; c = c->next) {
		if (c->events) {
			event_send(s, c->mb, p, ev);
		}
	}
}

static void
cons_free(spry__consumer *c)
{
	spry__mailbox_wait_del(c->mb, SPRY_SELECT_SEND, &c->w);
	spry_mailbox_release(c->mb);
	spry__free(c, sizeof(*c));
}

void
spry__consumer_close(spry_socket *s)
{
	spry__consumer *c;

	while ((c = s->subs) != NULL) {
		s->subs = c->next;
		event_send(s, c->mb, NULL, SPRY_ECLOSED);
		cons_free(c);
	}
	s->rr = NULL;
	spry__mailbox_wait_del(s->recvbox, SPRY_SELECT_SEND, &s->own.w);
	spry_mailbox_close(s->recvbox);
	while (s->paused != NULL) {
		spry__sock_rx_forget(s, s->paused);
	}
}

int
spry_socket_subscribe(spry_socket *s, spry_mailbox *mb, bool events)
{
	spry__consumer *c, **pp;
	bool            data = !(s->proto->flags & SPRY__P_NORECV);

	if (mb == NULL) {
		return SPRY_EINVAL;
	}
	if (!data && !events) {
		return SPRY_ENOTSUP;
	}
	if ((c = spry__alloc(sizeof(*c))) == NULL) {
		return SPRY_ENOMEM;
	}
	c->mb = mb, c->s = s, c->events = events, c->data = data;
	c->w.cb = cons_room_cb;
	spry__sock_lock(s);
	for (pp = &s->subs; *pp != NULL; pp = &(*pp)->next) {
		if ((*pp)->mb == mb) {
			spry__sock_unlock(s);
			spry__free(c, sizeof(*c));
			return SPRY_EEXIST;
		}
	}
	if (spry__sock_closed(s)) {
		spry__sock_unlock(s);
		spry__free(c, sizeof(*c));
		return SPRY_ECLOSED;
	}
	spry_mailbox_hold(mb);
	*pp = c;
	spry__sock_unlock(s);
	spry__sock_wake(s); /* waiting messages may fit now */
	return 0;
}

int
spry_socket_unsubscribe(spry_socket *s, spry_mailbox *mb)
{
	spry__consumer *c, **pp;

	spry__sock_lock(s);
	for (pp = &s->subs; (c = *pp) != NULL; pp = &c->next) {
		if (c->mb == mb) {
			*pp   = c->next;
			s->rr = NULL;
			cons_free(c);
			spry__sock_unlock(s);
			spry__sock_wake(s);
			return 0;
		}
	}
	spry__sock_unlock(s);
	return SPRY_ENOENT;
}

/* ---- receiving -----------------------------------------------------------
 */

spry_mailbox *
spry_socket_recvbox(spry_socket *s, int *err)
{
	if (s->proto->flags & SPRY__P_NORECV) {
		if (err != NULL) {
			*err = SPRY_ENOTSUP;
		}
		return NULL;
	}
	return s->recvbox; /* fixed for the socket's life */
}

/*
 * The pipe of s, held, when it is the only one, its transport lets a
 * blocked receiver read it itself, and the recvbox is the only consumer
 * (a subscriber's full mailbox would pause the pipe, and its resume
 * would wait for this receiver to let go); else NULL.
 */
static spry__pipe *
sock_lone_pipe(spry_socket *s)
{
	spry__pipe *p;

	spry__sock_lock(s);
	p = s->pipes;
	if (p != NULL &&
	    (p->next != NULL || p->removed || p->tran->rx_own == NULL ||
	        s->subs != NULL)) {
		p = NULL;
	}
	if (p != NULL) {
		spry__pipe_hold(p);
	}
	spry__sock_unlock(s);
	return p;
}

/*
 * Wait for c's mailbox (the recvbox) to give an item. A receive that
 * follows a send of the socket waits for a reply; with one pipe over a
 * descriptor, this thread then reads that pipe itself while it waits
 * (spry__tran's rx_own): the kernel wakes it when bytes come, and it
 * delivers them to itself, instead of the transport's thread waking,
 * reading and then waking this one: one thread woken per message, not
 * two in turn. A receiver of a stream (nothing sent in between) leaves
 * the reading to the transport's thread, which then reads ahead while
 * this one works (docs/rationale.md, "Waiting for a reply").
 */
static int
sock_wait(
    spry_ctx *ctx, spry_socket *s, spry_time deadline, spry_select_case *c)
{
	uint64_t sent = __atomic_load_n(&s->st_sent, __ATOMIC_RELAXED);
	bool     reply =
	    __atomic_exchange_n(&s->rx_sent, sent, __ATOMIC_RELAXED) != sent;
	spry__pipe *p  = reply ? sock_lone_pipe(s) : NULL;
	int         rv = SPRY_EAGAIN, fd;

	if (p != NULL && p->tran->rx_own(p, &fd)) {
		while (p->tran->rx_read(p) &&
		    (rv = spry__mailbox_wait_fd(ctx, deadline, c, fd)) ==
		        SPRY_EAGAIN) { }
		p->tran->rx_disown(p);
	}
	if (p != NULL) {
		spry__pipe_release(p);
	}
	if (rv == SPRY_EAGAIN) { /* the pipe cannot receive now */
		rv = spry__mailbox_wait(ctx, deadline, c);
	}
	return rv;
}

static int
sock_recv(spry_ctx *ctx, spry_socket *s, spry_msg **out, spry_time deadline,
    bool nonblock)
{
	spry_select_case c  = {NULL, SPRY_SELECT_RECV, NULL, 0};
	int              rv = 0;

	if (out == NULL) {
		return SPRY_EINVAL;
	}
	if (s->proto->flags & SPRY__P_NORECV) {
		return SPRY_ENOTSUP;
	}
	/*
	 * The recvbox never changes (a depth change keeps the mailbox) and
	 * lives as long as the socket, which the caller holds: no lock and
	 * no reference on the fast path, only for a protocol's check.
	 */
	c.mb = s->recvbox;
	if (s->proto->recv_check != NULL && spry__mailbox_empty(c.mb)) {
		spry__sock_lock(s);
		/* Again under lk: a message placed since (with the protocol
		 * state it ended, e.g. REQ's answered request) is there. */
		if (!spry__sock_closed(s) && spry__mailbox_empty(c.mb)) {
			rv = s->proto->recv_check(s, &deadline);
		}
		spry__sock_unlock(s);
	}
	if (rv == 0 && nonblock) {
		rv = spry_mailbox_tryrecv(c.mb, &c.item);
	} else if (rv == 0 && (rv = sock_wait(ctx, s, deadline, &c)) == 0) {
		rv = c.err;
	}
	if (rv == 0) {
		*out = c.item;
		/*
		 * We made room: place what waits now, not on a worker. Only
		 * once drained to the low level, as a paused pipe resumes no
		 * sooner (and its armed waiter fires then anyway): a kick per
		 * message would take the lock and re-arm for nothing.
		 */
		if (__atomic_load_n(&s->npaused, __ATOMIC_RELAXED) != 0 &&
		    spry_mailbox_len(c.mb) <= cons_low(c.mb)) {
			spry__sock_rx_kick(s);
		}
	}
	return rv;
}

int
spry_recv(spry_socket *s, spry_msg **out, int flags)
{
	if (s == NULL) {
		return SPRY_EINVAL;
	}
	return sock_recv(NULL, s, out,
	    spry_deadline_after(
	        __atomic_load_n(&s->rcvtimeo, __ATOMIC_RELAXED)),
	    (flags & SPRY_FLAG_NONBLOCK) != 0);
}

int
spry_recv_ctx(spry_ctx *ctx, spry_socket *s, spry_msg **out)
{
	if (s == NULL) {
		return SPRY_EINVAL;
	}
	return sock_recv(ctx, s, out, SPRY_TIME_NEVER, false);
}
