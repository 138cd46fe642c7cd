/* SPDX-License-Identifier: MIT */
/*
 * transports/inproc.c: inproc://name, pipes between sockets of one
 * process. A connection is a pair of pipes that hand each other's
 * messages straight to the peer socket (spry__pipe_deliver): no copy, no
 * queue, no thread hop. Backpressure comes from the receiving socket:
 * when it pauses a pipe, the sending end is marked full until it
 * resumes, both under the receiver's lock, so the mark cannot be lost.
 *
 * Names live in one process-wide table guarded by a mutex, touched only
 * by listen, dial and close.
 */
#include "sp/socket.h"
#include "mailbox/alloc.h"
#include "mailbox/atomic.h"
#include "mailbox/lock.h"
#include "spry/error.h"

#include <pthread.h>
#include <string.h>

/* A listener's entry in the name table. */
typedef struct inproc_lst {
	struct inproc_lst *next; /* in lst_list (lst_mtx) */
	spry__ep          *ep;   /* the listener (not held: closing it
	                            unlinks this entry first) */
} inproc_lst;

/* One connection: two pipes, each the other's peer. */
typedef struct inproc_pair {
	spry__pipe *end[2]; /* the dialer's [0] and the listener's [1] */
	uint32_t    lock;   /* guards closed against senders (spin) */
	uint32_t    closed; /* 1 once either end closed (lock) */
	uint32_t    refs;   /* pipes not yet freed (atomic) */
} inproc_pair;

/* A pipe's transport data: which pair, which end. */
typedef struct inproc_end {
	inproc_pair *pair; /* shared */
	int          side; /* 0 or 1 */
} inproc_end;

extern const spry__tran spry__tran_inproc;

static pthread_mutex_t lst_mtx = PTHREAD_MUTEX_INITIALIZER;
static inproc_lst     *lst_list;

static inproc_lst *
lst_find(const char *name)
{
	for (inproc_lst *l = lst_list; l != NULL; l = l->next) {
		if (strcmp(l->ep->url->path, name) == 0) {
			return l;
		}
	}
	return NULL;
}

static int
inproc_listen(spry__ep *ep)
{
	inproc_lst *l;
	int         rv = 0;

	if ((l = spry__alloc(sizeof(*l))) == NULL) {
		return SPRY_ENOMEM;
	}
	l->ep = ep;
	pthread_mutex_lock(&lst_mtx);
	if (lst_find(ep->url->path) != NULL) {
		rv = SPRY_EADDRINUSE;
	} else {
		l->next   = lst_list;
		lst_list  = l;
		ep->tdata = l;
	}
	pthread_mutex_unlock(&lst_mtx);
	if (rv != 0) {
		spry__free(l, sizeof(*l));
	}
	return rv;
}

static void
inproc_ep_close(spry__ep *ep)
{
	inproc_lst **pp;

	if (ep->dialer || ep->tdata == NULL) {
		return;
	}
	pthread_mutex_lock(&lst_mtx);
	for (pp = &lst_list; *pp != NULL; pp = &(*pp)->next) {
		if (*pp == ep->tdata) {
			*pp = (*pp)->next;
			break;
		}
	}
	pthread_mutex_unlock(&lst_mtx);
	spry__free(ep->tdata, sizeof(inproc_lst));
	ep->tdata = NULL;
}

static void
inproc_pair_close(inproc_pair *pr)
{
	uint32_t was;

	spry__spin_lock(&pr->lock);
	was        = pr->closed;
	pr->closed = 1;
	spry__spin_unlock(&pr->lock);
	if (was) {
		return;
	}
	for (int i = 0; i < 2; i++) {
		spry__pipe_closed(pr->end[i]);
	}
	for (int i = 0; i < 2; i++) {
		spry__pipe_release(pr->end[i]); /* the transport's refs */
	}
}

/* Make a pair between the dialer ep and the listener lep. */
static int
inproc_connect(spry__ep *ep, spry__ep *lep)
{
	inproc_pair *pr;
	inproc_end  *e;
	spry__pipe  *p0, *p1;
	int          rv;

	if ((pr = spry__alloc(sizeof(*pr) + 2 * sizeof(*e))) == NULL) {
		return SPRY_ENOMEM;
	}
	e = (inproc_end *)(pr + 1);
	for (int i = 0; i < 2; i++) {
		e[i].pair = pr;
		e[i].side = i;
	}
	pr->refs = 2;
	if ((rv = spry__pipe_new(
	         &pr->end[0], ep->s, ep, &spry__tran_inproc, &e[0])) != 0) {
		spry__free(pr, sizeof(*pr) + 2 * sizeof(*e));
		return rv;
	}
	if ((rv = spry__pipe_new(
	         &pr->end[1], lep->s, lep, &spry__tran_inproc, &e[1])) != 0) {
		pr->refs = 1;
		spry__pipe_release(pr->end[0]);
		return rv;
	}
	for (int i = 0; i < 2; i++) { /* both ends are the listener's name */
		(void)spry__url_format(
		    ep->url, pr->end[i]->addr, sizeof(pr->end[i]->addr));
		(void)spry__url_format(
		    ep->url, pr->end[i]->laddr, sizeof(pr->end[i]->laddr));
	}
	/*
	 * The listener's side first: a socket that refuses says so. Once
	 * end[1] is up its socket may close the pair, and free it, before
	 * end[0] starts: hold both ends (so the pair) until done.
	 */
	p0 = pr->end[0];
	p1 = pr->end[1];
	spry__pipe_hold(p0);
	spry__pipe_hold(p1);
	if ((rv = spry__pipe_start(p1, spry_socket_proto(ep->s))) ||
	    (rv = spry__pipe_start(p0, spry_socket_proto(lep->s)))) {
		inproc_pair_close(pr);
	}
	spry__pipe_release(p1);
	spry__pipe_release(p0);
	return rv;
}

static int
inproc_dial(spry__ep *ep)
{
	inproc_lst *l;
	spry__ep   *lep = NULL;
	int         rv;

	pthread_mutex_lock(&lst_mtx);
	if ((l = lst_find(ep->url->path)) != NULL) {
		lep = l->ep;
		spry__ep_hold(lep);
	}
	pthread_mutex_unlock(&lst_mtx);
	if (lep == NULL) {
		spry__ep_dialed(ep, SPRY_ECONNREFUSED);
		return 0;
	}
	rv = inproc_connect(ep, lep);
	spry__ep_release(lep);
	spry__ep_dialed(ep, rv);
	return 0;
}

static void
inproc_ep_free(spry__ep *ep)
{
	(void)ep;
}

static int
inproc_send(spry__pipe *p, spry_msg *m)
{
	inproc_end  *e  = p->tdata;
	inproc_pair *pr = e->pair;
	spry__pipe  *peer;
	size_t       hl = spry_msg_header_len(m);

	spry__spin_lock(&pr->lock);
	if (pr->closed) {
		spry__spin_unlock(&pr->lock);
		return SPRY_ECLOSED;
	}
	peer = pr->end[1 - e->side];
	spry__pipe_hold(peer);
	spry__spin_unlock(&pr->lock);
	/* The wire form: the receiver parses the header from the body. */
	if (hl != 0 && spry_msg_insert(m, spry_msg_header(m), hl) == 0) {
		spry_msg_header_clear(m);
	}
	(void)spry__pipe_deliver(peer, m);
	spry__pipe_release(peer);
	return 0;
}

/* The peer end of p (the pair outlives both ends' use of it). */
static spry__pipe *
inproc_peer(spry__pipe *p)
{
	inproc_end *e = p->tdata;

	return e->pair->end[1 - e->side];
}

static void
inproc_recv_pause(spry__pipe *p)
{
	spry__pipe_tx_block(inproc_peer(p));
}

static void
inproc_recv_resume(spry__pipe *p)
{
	inproc_end  *e  = p->tdata;
	inproc_pair *pr = e->pair;
	spry__pipe  *peer;

	/* No socket lock is held here: the peer may be closing. */
	spry__spin_lock(&pr->lock);
	if (pr->closed) {
		spry__spin_unlock(&pr->lock);
		return;
	}
	peer = pr->end[1 - e->side];
	spry__pipe_hold(peer);
	spry__spin_unlock(&pr->lock);
	spry__pipe_tx_ready_here(peer);
	spry__pipe_release(peer);
}

static void
inproc_close(spry__pipe *p)
{
	inproc_end *e = p->tdata;

	inproc_pair_close(e->pair);
}

static void
inproc_free(spry__pipe *p)
{
	inproc_end  *e  = p->tdata;
	inproc_pair *pr = e->pair;

	if (spry__faa(&pr->refs, (uint32_t)-1) == 1) {
		spry__free(pr, sizeof(*pr) + 2 * sizeof(inproc_end));
	}
}

const spry__tran spry__tran_inproc = {
    .scheme      = "inproc",
    .listen      = inproc_listen,
    .dial        = inproc_dial,
    .ep_close    = inproc_ep_close,
    .ep_free     = inproc_ep_free,
    .send        = inproc_send,
    .recv_pause  = inproc_recv_pause,
    .recv_resume = inproc_recv_resume,
    .close       = inproc_close,
    .free        = inproc_free,
};
