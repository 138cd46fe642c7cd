/* SPDX-License-Identifier: MIT */
/*
 * sp/endpoint.c: listeners and dialers, and the transport registry. A
 * URL's scheme picks the transport; the transport binds or connects and
 * makes pipes. A dialer whose attempt fails, or whose pipe closes, tries
 * again after a backoff that starts at the reconnect minimum, doubles up
 * to the maximum (0: no growth) and is jittered to between half and all
 * of it, so that many dialers do not come back in step.
 */
#include "sp/socket.h"
#include "mailbox/alloc.h"
#include "mailbox/atomic.h"
#include "mailbox/park.h"
#include "spry/error.h"

#include <pthread.h>
#include <sched.h>
#include <string.h>

/* ---- registry ------------------------------------------------------------
 */

#define TRAN_MAX 8

static const spry__tran *tran_table[TRAN_MAX];
static size_t            tran_count;
static pthread_once_t    tran_once = PTHREAD_ONCE_INIT;

void spry__transports_init(void); /* transports/transport.c */

void
spry__tran_register(const spry__tran *t)
{
	if (tran_count < TRAN_MAX) {
		tran_table[tran_count++] = t;
	}
}

static const spry__tran *
tran_find(const char *scheme)
{
	(void)pthread_once(&tran_once, spry__transports_init);
	for (size_t i = 0; i < tran_count; i++) {
		if (strcmp(tran_table[i]->scheme, scheme) == 0) {
			return tran_table[i];
		}
	}
	return NULL;
}

static uint64_t ep_ids; /* last endpoint id given */

/* ---- endpoints ------------------------------------------------------------
 */

/* What a blocking dial waits for. */
typedef struct ep_first {
	spry__parker parker; /* fired by spry__ep_dialed */
	int          rv;     /* the attempt's result */
	uint32_t     done;   /* the dialer's last touch (atomic) */
} ep_first;

void
spry__ep_hold(spry__ep *ep)
{
	spry__faa(&ep->refs, 1);
}

void
spry__ep_release(spry__ep *ep)
{
	if (spry__faa(&ep->refs, (uint32_t)-1) != 1) {
		return;
	}
	if (ep->tran->ep_free != NULL) {
		ep->tran->ep_free(ep);
	}
	spry__url_free(ep->url);
	spry__sock_release(ep->s);
	spry__free(ep, sizeof(*ep));
}

static int
ep_new(spry__ep **out, spry_socket *s, const char *url, bool dialer)
{
	spry__url        *u;
	const spry__tran *t;
	spry__ep         *ep;
	int               rv;

	if (url == NULL) {
		return SPRY_EADDRINVAL;
	}
	if ((rv = spry__url_parse(&u, url)) != 0) {
		return rv == SPRY_EINVAL ? SPRY_EADDRINVAL : rv;
	}
	if ((t = tran_find(spry__url_scheme_name(u->scheme))) == NULL) {
		spry__url_free(u);
		return SPRY_ENOTSUP;
	}
	if ((ep = spry__alloc(sizeof(*ep))) == NULL) {
		spry__url_free(u);
		return SPRY_ENOMEM;
	}
	ep->s      = s;
	ep->tran   = t;
	ep->url    = u;
	ep->refs   = 1; /* the socket list's */
	ep->dialer = dialer;
	ep->id     = spry__faa(&ep_ids, 1) + 1;
	spry__sock_hold(s);
	spry__sock_lock(s);
	ep->backoff = s->reconnmin;
	spry__sock_unlock(s);
	*out = ep;
	return 0;
}

/* Link ep into its socket (lk); SPRY_ECLOSED if the socket closed. */
static int
ep_link(spry__ep *ep)
{
	spry_socket *s  = ep->s;
	int          rv = 0;

	spry__sock_lock(s);
	if (spry__sock_closed(s)) {
		rv = SPRY_ECLOSED;
	} else {
		ep->next = s->eps;
		s->eps   = ep;
	}
	spry__sock_unlock(s);
	return rv;
}

/* Unlink ep if linked (lk); whether it was. */
static bool
ep_unlink(spry__ep *ep)
{
	spry_socket *s = ep->s;
	spry__ep   **pp;
	bool         found = false;

	spry__sock_lock(s);
	for (pp = &s->eps; *pp != NULL; pp = &(*pp)->next) {
		if (*pp == ep) {
			*pp   = ep->next;
			found = true;
			break;
		}
	}
	spry__sock_unlock(s);
	return found;
}

/* Close one endpoint taken off its socket's list, and drop the list's ref. */
static void
ep_close(spry__ep *ep)
{
	spry__pipe *p;

	spry__sock_lock(ep->s);
	ep->closed = true;
	if ((p = ep->pipe) != NULL) {
		spry__pipe_hold(p);
	}
	spry__sock_unlock(ep->s);
	ep->tran->ep_close(ep);
	if (p != NULL) {
		p->tran->close(p);
		spry__pipe_release(p);
	}
	spry__ep_release(ep);
}

void
spry__eps_close(spry__ep *list)
{
	while (list != NULL) {
		spry__ep *next = list->next;

		ep_close(list);
		list = next;
	}
}

int
spry_listen(spry_socket *s, const char *url, spry_listener **out)
{
	spry__ep *ep;
	int       rv;

	if (s == NULL) {
		return SPRY_EINVAL;
	}
	if ((rv = ep_new(&ep, s, url, false)) != 0) {
		return rv;
	}
	if ((rv = ep->tran->listen(ep)) != 0) {
		spry__ep_release(ep);
		return rv;
	}
	if ((rv = ep_link(ep)) != 0) {
		ep->tran->ep_close(ep);
		spry__ep_release(ep);
		return rv;
	}
	if (out != NULL) {
		*out = (spry_listener *)ep;
	}
	return 0;
}

int
spry_dial(spry_socket *s, const char *url, spry_dialer **out, int flags)
{
	ep_first  first;
	spry__ep *ep;
	int       rv;

	if (s == NULL) {
		return SPRY_EINVAL;
	}
	if ((rv = ep_new(&ep, s, url, true)) != 0) {
		return rv;
	}
	if ((rv = ep_link(ep)) != 0) {
		spry__ep_release(ep);
		return rv;
	}
	if (!(flags & SPRY_FLAG_NONBLOCK)) {
		spry__parker_init(&first.parker);
		first.done = 0;
		ep->first  = &first;
	}
	ep->tran->dial(ep);
	if (!(flags & SPRY_FLAG_NONBLOCK)) {
		spry__parker_wait(&first.parker, SPRY_TIME_NEVER);
		while (!spry__load_acq(&first.done)) {
			sched_yield();
		}
		if ((rv = first.rv) != 0) {
			if (ep_unlink(ep)) {
				ep_close(ep);
			}
			return rv;
		}
	}
	if (out != NULL) {
		*out = (spry_dialer *)ep;
	}
	return 0;
}

int
spry_listener_url(spry_listener *l, char *buf, size_t len)
{
	if (l == NULL || buf == NULL) {
		return SPRY_EINVAL;
	}
	return spry__url_format(((spry__ep *)l)->url, buf, len);
}

int
spry_listener_close(spry_listener *l)
{
	spry__ep *ep = (spry__ep *)l;

	if (!ep_unlink(ep)) {
		return SPRY_ECLOSED;
	}
	ep_close(ep);
	return 0;
}

int
spry_dialer_close(spry_dialer *d)
{
	return spry_listener_close((spry_listener *)d);
}

/* ---- redialing ------------------------------------------------------------
 */

/* The next wait (lk): jittered within [backoff/2, backoff], then grow. */
static spry_duration
ep_backoff(spry__ep *ep)
{
	spry_duration b   = ep->backoff;
	spry_duration max = ep->s->reconnmax;
	spry_duration d   = b / 2 +
	    (spry_duration)((uint64_t)spry_now() % (uint64_t)(b / 2 + 1));

	if (max > 0 && b < max) {
		ep->backoff = b * 2 < max ? b * 2 : max;
	}
	return d;
}

static void
ep_schedule(spry__ep *ep)
{
	if (!ep->closed && !ep->retrying && !spry__sock_closed(ep->s)) {
		ep->retrying = true;
		spry__ep_retry_after(ep, ep_backoff(ep));
	}
}

void
spry__ep_dialed(spry__ep *ep, int err)
{
	ep_first *first;

	spry__sock_lock(ep->s);
	first     = ep->first;
	ep->first = NULL;
	if (err == 0) {
		ep->backoff = ep->s->reconnmin;
	} else if (first == NULL) {
		ep_schedule(ep);
	}
	spry__sock_unlock(ep->s);
	if (first != NULL) {
		first->rv = err;
		spry__parker_fire(&first->parker, SPRY__PARK_FIRED);
		spry__store_rel(&first->done, 1); /* last touch of *first */
	}
}

void
spry__ep_retry(spry_socket *s, uint64_t id)
{
	spry__ep *ep;

	spry__sock_lock(s);
	for (ep = s->eps; ep != NULL && ep->id != id; ep = ep->next) { }
	if (ep != NULL) {
		ep->retrying = false;
		if (ep->closed || ep->pipe != NULL) {
			ep = NULL;
		} else {
			spry__ep_hold(ep);
		}
	}
	spry__sock_unlock(s);
	if (ep != NULL) {
		ep->tran->dial(ep);
		spry__ep_release(ep);
	}
}

void
spry__ep_pipe_gone(spry__ep *ep, spry__pipe *p)
{
	if (ep->dialer && ep->pipe == p) {
		ep->pipe = NULL;
		ep_schedule(ep);
	}
}
