/* SPDX-License-Identifier: MIT */
/*
 * transports/poll_epoll.c: transports/poll.h on Linux epoll. One thread
 * loops: wait for events (edge-triggered, so one wake per change, not
 * one per byte) with the nearest deadline as the timeout, run the I/O
 * callbacks of the batch, run the deadlines that passed, then run the
 * work posted by other threads. Posting links the item into a list
 * under a mutex and, when the list was empty, writes an eventfd that
 * sits in the epoll set, so a post wakes the poller with one system
 * call and posts that come in a burst share it.
 *
 * Deadlines are few (connections in their handshake, a listener waiting
 * out EMFILE) and mostly added in order (now + the same timeout), so a
 * sorted list, searched from its tail, is O(1) in the usual case and
 * needs no allocation.
 */
#include "transports/poll.h"
#include "spry/error.h"

#include <errno.h>
#include <limits.h>
#include <pthread.h>
#include <signal.h>
#include <stdint.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <unistd.h>

#define POLL_BATCH 128 /* events fetched per wait */

static struct {
	int              epfd;  /* the epoll set; fixed after start */
	int              evfd;  /* the eventfd posts write; fixed */
	int              err;   /* the start's result; fixed */
	pthread_mutex_t  mtx;   /* guards the post list */
	spry__poll_item *head;  /* post list, FIFO (mtx) */
	spry__poll_item *tail;  /* (mtx) */
	spry__poll_item *thead; /* deadline list, earliest first (poller) */
	spry__poll_item *ttail; /* (poller) */
} pl = {.epfd = -1, .evfd = -1, .mtx = PTHREAD_MUTEX_INITIALIZER};

static pthread_once_t     pl_once = PTHREAD_ONCE_INIT;
static _Thread_local bool pl_self; /* true on the poller thread */

bool
spry__poll_on_thread(void)
{
	return pl_self;
}

/* ---- deadlines (poller thread) -------------------------------------- */

static void
timer_unlink(spry__poll_item *it)
{
	if (it->tprev != NULL) {
		it->tprev->tnext = it->tnext;
	} else {
		pl.thead = it->tnext;
	}
	if (it->tnext != NULL) {
		it->tnext->tprev = it->tprev;
	} else {
		pl.ttail = it->tprev;
	}
	it->tprev = it->tnext = NULL;
	it->when              = 0;
}

void
spry__poll_timer(spry__poll_item *it, spry_time when)
{
	spry__poll_item *at;

	if (it->when != 0) {
		timer_unlink(it);
	}
	if (when == 0) {
		return;
	}
	it->when = when;
	for (at = pl.ttail; at != NULL && at->when > when; at = at->tprev) { }
	it->tprev = at; /* insert after at (NULL: at the head) */
	it->tnext = at != NULL ? at->tnext : pl.thead;
	if (it->tnext != NULL) {
		it->tnext->tprev = it;
	} else {
		pl.ttail = it;
	}
	if (at != NULL) {
		at->tnext = it;
	} else {
		pl.thead = it;
	}
}

/* Run the deadlines that passed. */
static void
timers_run(void)
{
	spry_time now = spry_now();

	while (pl.thead != NULL && pl.thead->when <= now) {
		spry__poll_item *it = pl.thead;

		timer_unlink(it);
		it->timer_cb(it);
	}
}

/* ---- posts -------------------------------------------------------------- */

bool
spry__poll_post(spry__poll_item *it, unsigned ops)
{
	bool wake = false, queued;

	pthread_mutex_lock(&pl.mtx);
	it->posted |= ops;
	if ((queued = !it->queued)) {
		it->queued = true;
		it->pnext  = NULL;
		wake       = pl.head == NULL;
		if (pl.tail != NULL) {
			pl.tail->pnext = it;
		} else {
			pl.head = it;
		}
		pl.tail = it;
	}
	pthread_mutex_unlock(&pl.mtx);
	/* The poller looks at the list before it waits: no wake needed. */
	if (wake && !pl_self) {
		uint64_t one = 1;

		while (write(pl.evfd, &one, sizeof(one)) < 0 &&
		    errno == EINTR) { }
	}
	return queued;
}

/*
 * Run the items posted before this call: items posted while these run
 * wait for the next turn, so an item that keeps posting itself cannot
 * starve the I/O of the others.
 */
static void
posts_run(void)
{
	spry__poll_item *it;

	pthread_mutex_lock(&pl.mtx);
	it      = pl.head;
	pl.head = pl.tail = NULL;
	pthread_mutex_unlock(&pl.mtx);
	while (it != NULL) {
		spry__poll_item *next;
		unsigned         ops;

		pthread_mutex_lock(&pl.mtx);
		next       = it->pnext;
		ops        = it->posted;
		it->posted = 0;
		it->queued = false;
		pthread_mutex_unlock(&pl.mtx);
		it->post_cb(it, ops); /* may free it: next was read first */
		it = next;
	}
}

static bool
posts_pending(void)
{
	bool any;

	pthread_mutex_lock(&pl.mtx);
	any = pl.head != NULL;
	pthread_mutex_unlock(&pl.mtx);
	return any;
}

/* ---- the loop ----------------------------------------------------------- */

/* The epoll_wait timeout in ms: 0 when work waits, -1 for none. */
static int
poll_timeout(void)
{
	spry_time now, left;

	if (posts_pending()) {
		return 0;
	}
	if (pl.thead == NULL) {
		return -1;
	}
	if ((now = spry_now()) >= pl.thead->when) {
		return 0;
	}
	left = (pl.thead->when - now + SPRY_MSEC(1) - 1) / SPRY_MSEC(1);
	return left > INT_MAX ? INT_MAX : (int)left;
}

static unsigned
poll_bits(uint32_t e)
{
	unsigned ev = 0;

	if (e & (EPOLLIN | EPOLLRDHUP | EPOLLPRI)) {
		ev |= SPRY__POLL_IN;
	}
	if (e & EPOLLOUT) {
		ev |= SPRY__POLL_OUT;
	}
	if (e & (EPOLLERR | EPOLLHUP)) {
		ev |= SPRY__POLL_ERR;
	}
	return ev;
}

static void
poll_dispatch(struct epoll_event *evs, int n)
{
	for (int i = 0; i < n; i++) {
		spry__poll_item *it = evs[i].data.ptr;

		if (it == NULL) { /* the eventfd: posts run below */
			uint64_t v;

			(void)read(pl.evfd, &v, sizeof(v));
			continue;
		}
		it->io_cb(it, poll_bits(evs[i].events));
	}
}

static void *
poll_main(void *arg)
{
	static struct epoll_event evs[POLL_BATCH]; /* this thread's only */
	int                       n;

	(void)arg;
	pl_self = true;
	for (;;) {
		n = epoll_wait(pl.epfd, evs, POLL_BATCH, poll_timeout());
		if (n < 0) {
			n = 0; /* EINTR: signals are blocked, but be safe */
		}
		poll_dispatch(evs, n);
		timers_run();
		posts_run();
	}
	return NULL;
}

/* ---- start and registration ------------------------------------------- */

static int
poll_errno(int e)
{
	return e == ENOMEM || e == EAGAIN ? SPRY_ENOMEM : SPRY_ENOFILES;
}

/* Start the thread with every signal blocked: they are the app's. */
static int
poll_thread(void)
{
	pthread_attr_t attr;
	pthread_t      t;
	sigset_t       all, old;
	int            rv;

	sigfillset(&all);
	pthread_attr_init(&attr);
	pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
	pthread_sigmask(SIG_SETMASK, &all, &old);
	rv = pthread_create(&t, &attr, poll_main, NULL);
	if (rv == 0) {
		/* Named for top -H, perf and gdb: "where does tcp spend". */
		(void)pthread_setname_np(t, "spry-poll");
	}
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	pthread_attr_destroy(&attr);
	return rv == 0 ? 0 : poll_errno(rv);
}

static void
poll_init(void)
{
	struct epoll_event ev = {.events = EPOLLIN, .data.ptr = NULL};

	if ((pl.epfd = epoll_create1(EPOLL_CLOEXEC)) < 0 ||
	    (pl.evfd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC)) < 0 ||
	    epoll_ctl(pl.epfd, EPOLL_CTL_ADD, pl.evfd, &ev) != 0) {
		pl.err = poll_errno(errno);
	} else {
		pl.err = poll_thread();
	}
	if (pl.err != 0) { /* never retried: leave nothing open */
		if (pl.evfd >= 0) {
			close(pl.evfd);
		}
		if (pl.epfd >= 0) {
			close(pl.epfd);
		}
	}
}

int
spry__poll_start(void)
{
	(void)pthread_once(&pl_once, poll_init);
	return pl.err;
}

int
spry__poll_add(spry__poll_item *it)
{
	struct epoll_event ev;

	ev.events   = EPOLLIN | EPOLLOUT | EPOLLRDHUP | EPOLLET;
	ev.data.ptr = it;
	if (epoll_ctl(pl.epfd, EPOLL_CTL_ADD, it->fd, &ev) != 0) {
		return poll_errno(errno);
	}
	return 0;
}

void
spry__poll_del(spry__poll_item *it)
{
	(void)epoll_ctl(pl.epfd, EPOLL_CTL_DEL, it->fd, NULL);
}
