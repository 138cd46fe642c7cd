/* SPDX-License-Identifier: MIT */
/*
 * sp/pipe.c: pipes, the socket's side of a connection. A transport
 * makes a pipe, starts it (the peer's protocol is checked here, once,
 * for every transport), hands it received messages and reports its
 * close; the protocol sees it join and leave. A pipe lives until the
 * socket's list, the transport and any sender in flight have let go.
 */
#include "sp/socket.h"
#include "mailbox/alloc.h"
#include "mailbox/atomic.h"
#include "spry/error.h"

#include <stdlib.h>
#include <time.h>

static uint32_t pipe_ids; /* last id given; starts random */

static uint32_t
pipe_id_next(void)
{
	uint32_t id;

	if (spry__load_relaxed(&pipe_ids) == 0) {
		uint32_t seed = (uint32_t)spry_now() ^ (uint32_t)time(NULL);
		uint32_t zero = 0;

		spry__cas(&pipe_ids, &zero, (seed * 2654435761u) | 1);
	}
	do {
		id = (spry__faa(&pipe_ids, 1) + 1) & 0x7fffffffu;
	} while (id == 0);
	return id;
}

void
spry__pipe_hold(spry__pipe *p)
{
	spry__faa(&p->refs, 1);
}

void
spry__pipe_release(spry__pipe *p)
{
	spry_socket *s = p->s;

	if (spry__faa(&p->refs, (uint32_t)-1) != 1) {
		return;
	}
	p->tran->free(p);
	spry__peer_release(p->addrref);
	if (p->ep != NULL) {
		spry__ep_release(p->ep);
	}
	spry__free(p, sizeof(*p) + s->proto->pipe_size);
	spry__sock_release(s);
}

int
spry__pipe_new(spry__pipe **out, spry_socket *s, spry__ep *ep,
    const spry__tran *t, void *tdata)
{
	spry__pipe *p = spry__alloc(sizeof(*p) + s->proto->pipe_size);

	if (p == NULL) {
		return SPRY_ENOMEM;
	}
	p->s     = s;
	p->ep    = ep;
	p->tran  = t;
	p->tdata = tdata;
	p->pdata = p + 1;
	p->refs  = 1; /* the transport's */
	p->id    = pipe_id_next();
	spry__sock_hold(s);
	if (ep != NULL) {
		spry__ep_hold(ep);
	}
	*out = p;
	return 0;
}

spry__pipe *
spry__pipe_find(spry_socket *s, uint32_t id)
{
	for (spry__pipe *p = s->pipes; p != NULL; p = p->next) {
		if (p->id == id) {
			return p;
		}
	}
	return NULL;
}

int
spry__pipe_start(spry__pipe *p, int peer)
{
	spry_socket *s = p->s;
	int          rv;

	p->peer = peer;
	if (p->addr[0] != '\0' &&
	    (p->addrref = spry__peer_new(p->addr)) == NULL) {
		return SPRY_ENOMEM;
	}
	spry__sock_lock(s);
	if (spry__sock_closed(s) || p->removed) {
		rv = SPRY_ECLOSED;
	} else if (peer != s->proto->peer) {
		spry__sock_count(&s->st_rejected, 1);
		rv = SPRY_EPROTO;
	} else if (s->proto->pipe_add != NULL &&
	    (rv = s->proto->pipe_add(s, p)) != 0) {
		spry__sock_count(&s->st_rejected, 1);
	} else {
		spry__pipe_hold(p); /* the list's */
		p->next  = s->pipes;
		s->pipes = p;
		p->added = true;
		if (p->ep != NULL && p->ep->dialer) {
			p->ep->pipe = p;
		}
		spry__faa(&s->st_pipes, 1);
		spry__sock_events(s, p, SPRY_PIPE_ADD);
		rv = 0;
	}
	if (rv != 0) {
		p->removed = true;
	}
	spry__sock_unlock(s);
	if (rv == 0) {
		spry__sock_wake(s); /* a waiting send may go now */
	}
	return rv;
}

void
spry__pipe_closed(spry__pipe *p)
{
	spry_socket *s = p->s;
	spry__pipe **pp;
	bool         linked;

	spry__sock_lock(s);
	linked     = p->added && !p->removed;
	p->removed = true;
	if (linked) {
		for (pp = &s->pipes; *pp != p; pp = &(*pp)->next) { }
		*pp = p->next;
		spry__sock_rx_forget(s, p);
		if (s->proto->pipe_rem != NULL) {
			s->proto->pipe_rem(s, p);
		}
		spry__faa(&s->st_pipes, (uint32_t)-1);
		if (!spry__sock_closed(s)) {
			spry__sock_events(s, p, SPRY_PIPE_REM);
		}
		if (p->ep != NULL) {
			spry__ep_pipe_gone(p->ep, p);
		}
	}
	spry__sock_unlock(s);
	if (linked) {
		spry__sock_wake(s);
		spry__pipe_release(p);
	}
}

/* Give one message to the protocol and place it (lk); paused: m waits. */
static int
pipe_take(spry_socket *s, spry__pipe *p, spry_msg *m, bool *paused)
{
	spry_mailbox *to = NULL;
	int           rv;

	rv = s->proto->recv(s, p, &m, &to);
	if (rv == 0 &&
	    (s->paused != NULL || spry__sock_place(s, p, m, to) != 0)) {
		spry__sock_rx_pause(s, p, m, to); /* behind those waiting */
		*paused = true;
	} else if (rv == SPRY__RX_DROP) {
		spry__sock_count(&s->st_dropped, 1);
	} else if (rv != 0 && rv != SPRY__RX_KEEP) {
		spry__sock_count(&s->st_malformed, 1);
		spry_msg_free(m);
	}
	return rv;
}

int
spry__pipe_deliver_n(
    spry__pipe *p, spry_msg *const *m, size_t n, size_t *taken)
{
	spry_socket *s      = p->s;
	bool         paused = false;
	int          rv     = 0;
	size_t       i;

	spry__sock_lock(s);
	if (spry__sock_closed(s) || p->removed) {
		spry__sock_unlock(s);
		for (i = 0; i < n; i++) {
			spry_msg_free(m[i]);
		}
		*taken = n;
		return SPRY_ECLOSED;
	}
	for (i = 0; i < n && !paused && rv != SPRY_EPROTO; i++) {
		rv = pipe_take(s, p, m[i], &paused);
	}
	spry__sock_unlock(s);
	if (rv == SPRY_EPROTO) {
		for (; i < n; i++) {
			spry_msg_free(m[i]); /* the pipe is going */
		}
		p->tran->close(p); /* a peer that misbehaves goes */
	}
	*taken = i;
	return 0;
}

int
spry__pipe_deliver(spry__pipe *p, spry_msg *m)
{
	size_t taken;

	return spry__pipe_deliver_n(p, &m, 1, &taken);
}

void
spry__pipe_tx_block(spry__pipe *p)
{
	spry__store_rel(&p->txfull, 1);
}

void
spry__pipe_tx_ready(spry__pipe *p)
{
	spry__store_rel(&p->txfull, 0);
	spry__sock_wake(p->s);
}
