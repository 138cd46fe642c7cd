/* SPDX-License-Identifier: MIT */
/*
 * transports/stream_ep.c: listeners and dialers of the byte stream
 * transports. A listener's socket is registered with the poller, which
 * accepts until none wait and hands each new descriptor to a connection
 * (stream.c); out of descriptors it waits SPRY__STREAM_ACCEPT_RETRY and
 * tries again rather than spin on a socket that stays readable. Closing a
 * listener closes its socket at once, so the address is free when
 * spry_listener_close returns. A dialer makes one connection per
 * attempt through the transport's connect op, which ends in
 * spry__stream_connected. Closing either closes the connections still
 * in their handshake. Also here: the count of live objects and the
 * errno mapping.
 */
#include "transports/stream.h"
#include "mailbox/alloc.h"
#include "mailbox/atomic.h"
#include "spry/error.h"
#include "transports/poll.h"

#include <errno.h>
#include <pthread.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define container_of(p, T, f) ((T *)((char *)(p)-offsetof(T, f)))

#define ACCEPT_BUDGET 64 /* accepts per turn, then the others' */

/* Work posted to a listener. */
#define OP_ACCEPT 1u  /* accept more */
#define OP_RELEASE 2u /* closed: give back the poller's reference */

typedef spry__stream_ep stream_ep;

static int64_t  stream_live_n; /* see spry__stream_live (atomic) */
static uint64_t accept_stalls; /* see spry__stream_accept_stalls (atomic) */

/* ---- counting and errors ------------------------------------------------ */

int64_t
spry__stream_live(void)
{
	return spry__load_acq(&stream_live_n);
}

void
spry__stream_live_add(int64_t n)
{
	spry__faa(&stream_live_n, n);
}

uint64_t
spry__stream_accept_stalls(void)
{
	return spry__load_acq(&accept_stalls);
}

bool
spry__stream_quiesce(spry_time deadline)
{
	struct timespec ms = {0, 1000000};

	while (spry__stream_live() != 0) {
		if (spry_now() >= deadline) {
			return false;
		}
		nanosleep(&ms, NULL);
	}
	return true;
}

int
spry__stream_errno(int e)
{
	switch (e) {
	case ECONNREFUSED:
	case ENOENT: /* an ipc path nobody listens on */
		return SPRY_ECONNREFUSED;
	case EADDRINUSE:
		return SPRY_EADDRINUSE;
	case EADDRNOTAVAIL:
	case EAFNOSUPPORT:
	case EINVAL:
	case ENAMETOOLONG:
		return SPRY_EADDRINVAL;
	case EACCES:
	case EPERM:
	case EROFS:
		return SPRY_EPERM;
	case EMFILE:
	case ENFILE:
		return SPRY_ENOFILES;
	case ENOMEM:
	case ENOBUFS:
		return SPRY_ENOMEM;
	case ETIMEDOUT:
		return SPRY_ETIMEDOUT;
	case ENETUNREACH:
	case EHOSTUNREACH:
	case ENETDOWN:
	case EHOSTDOWN:
		return SPRY_EUNREACHABLE;
	case ECONNRESET:
	case EPIPE:
		return SPRY_ECONNRESET;
	default: /* the connection cannot go on, whatever the cause */
		return SPRY_ECONNABORTED;
	}
}

/* ---- listeners ------------------------------------------------------- */

/*
 * Accept until none wait (poller thread). Out of descriptors or memory,
 * the listener waits SPRY__STREAM_ACCEPT_RETRY before it tries again,
 * rather than spinning on a socket that stays readable.
 */
static void
lst_accept(stream_ep *se)
{
	for (int n = 0; n < ACCEPT_BUDGET; n++) {
		int fd = -1, e = 0;

		pthread_mutex_lock(&se->mtx);
		if (se->item.fd >= 0) {
			fd = accept4(se->item.fd, NULL, NULL,
			    SOCK_NONBLOCK | SOCK_CLOEXEC);
			e  = errno;
		}
		pthread_mutex_unlock(&se->mtx);
		if (fd >= 0) {
			spry__stream_conn_accept(se, fd);
			continue;
		}
		if (e == EINTR || e == ECONNABORTED) {
			continue;
		}
		if (e == EMFILE || e == ENFILE || e == ENOBUFS ||
		    e == ENOMEM) {
			spry__faa(&accept_stalls, 1);
			spry__poll_timer(&se->item,
			    spry_deadline_after(SPRY__STREAM_ACCEPT_RETRY));
		}
		return; /* EAGAIN: all taken; or the listener closed */
	}
	spry__poll_post(&se->item, OP_ACCEPT); /* after the others */
}

static void
lst_io_cb(spry__poll_item *it, unsigned ev)
{
	(void)ev;
	lst_accept(container_of(it, stream_ep, item));
}

static void
lst_timer_cb(spry__poll_item *it)
{
	lst_accept(container_of(it, stream_ep, item));
}

static void
lst_post_cb(spry__poll_item *it, unsigned ops)
{
	stream_ep *se = container_of(it, stream_ep, item);

	if (ops & OP_ACCEPT) {
		lst_accept(se);
	}
	if (ops & OP_RELEASE) {
		spry__poll_timer(&se->item, 0);
		spry__ep_release(se->ep); /* may free se */
	}
}

static stream_ep *
se_new(spry__ep *ep, const spry__stream_ops *ops)
{
	stream_ep *se = spry__alloc(sizeof(*se));

	if (se == NULL) {
		return NULL;
	}
	se->item.fd       = -1;
	se->item.io_cb    = lst_io_cb;
	se->item.post_cb  = lst_post_cb;
	se->item.timer_cb = lst_timer_cb;
	se->ops           = ops;
	se->ep            = ep;
	pthread_mutex_init(&se->mtx, NULL);
	spry__stream_live_add(1);
	return se;
}

int
spry__stream_listen(spry__ep *ep, const spry__stream_ops *ops)
{
	stream_ep *se;
	int        fd, rv;

	if ((rv = spry__poll_start()) != 0) {
		return rv;
	}
	if ((se = se_new(ep, ops)) == NULL) {
		return SPRY_ENOMEM;
	}
	ep->tdata = se; /* not linked yet: ep_free frees it, come what may */
	if ((rv = ops->bind(ep, &fd)) != 0) {
		return rv;
	}
	se->item.fd = fd;
	spry__ep_hold(ep); /* the poller's, given back by OP_RELEASE */
	if ((rv = spry__poll_add(&se->item)) != 0) {
		(void)close(fd);
		se->item.fd = -1;
		ops->unbind(ep);
		spry__ep_release(ep);
	}
	return rv;
}

/* ---- dialers and endpoints --------------------------------------------- */

/* A dialer's state, made by its first attempt. */
static int
dialer_state(spry__ep *ep, const spry__stream_ops *ops)
{
	stream_ep *se;

	spry__sock_lock(ep->s);
	se = ep->tdata;
	spry__sock_unlock(ep->s);
	if (se != NULL) {
		return 0;
	}
	if ((se = se_new(ep, ops)) == NULL) {
		return SPRY_ENOMEM;
	}
	spry__sock_lock(ep->s); /* ep_close reads it under lk */
	ep->tdata = se;
	spry__sock_unlock(ep->s);
	return 0;
}

int
spry__stream_dial(spry__ep *ep, const spry__stream_ops *ops)
{
	int rv;

	if ((rv = spry__poll_start()) != 0 ||
	    (rv = dialer_state(ep, ops)) != 0) {
		spry__ep_dialed(ep, rv);
		return 0;
	}
	ops->connect(ep);
	return 0;
}

void
spry__stream_connected(spry__ep *ep, int fd, int err)
{
	if (err == 0 && (err = spry__stream_conn_dial(ep->tdata, fd)) != 0) {
		(void)close(fd);
	}
	if (err != 0) {
		spry__ep_dialed(ep, err);
	}
}

/*
 * The listening socket closes here, at once, so that the address is
 * free when spry_listener_close returns; the poller lets go of the
 * state after the events it may still hold.
 */
void
spry__stream_ep_close(spry__ep *ep)
{
	stream_ep *se;
	int        fd;

	spry__sock_lock(ep->s);
	se = ep->tdata;
	spry__sock_unlock(ep->s);
	if (se == NULL) {
		return;
	}
	spry__stream_conns_close(se);
	if (ep->dialer) {
		return;
	}
	pthread_mutex_lock(&se->mtx);
	if ((fd = se->item.fd) >= 0) {
		spry__poll_del(&se->item);
		(void)close(fd);
		se->item.fd = -1;
		se->ops->unbind(ep);
	}
	pthread_mutex_unlock(&se->mtx);
	if (fd >= 0) {
		spry__poll_post(&se->item, OP_RELEASE);
	}
}

void
spry__stream_ep_free(spry__ep *ep)
{
	stream_ep *se = ep->tdata;

	if (se == NULL) {
		return;
	}
	pthread_mutex_destroy(&se->mtx);
	spry__free(se, sizeof(*se));
	ep->tdata = NULL;
	spry__stream_live_add(-1);
}
