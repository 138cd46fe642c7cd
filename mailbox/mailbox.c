/* SPDX-License-Identifier: MIT */
/*
 * mailbox/mailbox.c: the bounded MPMC mailbox (see mailbox/mailbox.h for
 * the algorithm and the wake-up protocol). Blocking send and receive are
 * one-case selects and live in select.c with the rest of the waiting.
 */
#include "mailbox/mailbox.h"

#include "mailbox/alloc.h"
#include "mailbox/atomic.h"
#include "mailbox/lock.h"
#include "spry/error.h"

#include <errno.h>
#include <sys/eventfd.h>
#include <unistd.h>

static inline void **
mb_items(spry_mailbox *mb)
{
	return (void **)(mb + 1);
}

static inline uint32_t *
mb_seq(spry_mailbox *mb)
{
	return (uint32_t *)(mb_items(mb) + mb->mask + 1);
}

static inline void
mb_lock(spry_mailbox *mb)
{
	spry__spin_lock(&mb->lock);
}

static inline void
mb_unlock(spry_mailbox *mb)
{
	spry__spin_unlock(&mb->lock);
}

size_t
spry__mailbox_round(size_t cap)
{
	/*
	 * At least 2: with one slot the sequence word cannot tell "published
	 * at pos" (pos + 1) from "free for pos + 1" (also pos + 1), so a
	 * second send overwrote the first item and the next receive spun
	 * forever. Vyukov's queue needs two slots; "at least capacity" holds.
	 */
	size_t r = 2;

	if (cap == 0) {
		cap = SPRY_MAILBOX_CAPACITY;
	}
	if (cap > SPRY_MAILBOX_MAX_CAPACITY) {
		return 0;
	}
	while (r < cap) {
		r <<= 1;
	}
	return r;
}

size_t
spry__mailbox_size(size_t cap)
{
	return sizeof(spry_mailbox) + cap * (sizeof(void *) + sizeof(uint32_t));
}

void
spry__mailbox_init(spry_mailbox *mb, size_t cap,
    const spry_mailbox_opts *opts, spry__mailbox_free_fn free_cb)
{
	uint32_t *seq;

	mb->mask    = (uint32_t)(cap - 1);
	mb->refs    = 1;
	mb->efd	    = -1;
	mb->free_cb = free_cb;
	if (opts != NULL) {
		mb->dispose	= opts->dispose_cb;
		mb->dispose_arg = opts->dispose_arg;
	}
	seq = mb_seq(mb);
	for (uint32_t i = 0; i < cap; i++) {
		seq[i] = i;
	}
}

int
spry_mailbox_open_opts(spry_mailbox **out, const spry_mailbox_opts *opts)
{
	spry_mailbox_opts def = SPRY_MAILBOX_OPTS_INIT;
	spry_mailbox	 *mb;
	size_t		  cap;

	if (opts == NULL) {
		opts = &def;
	}
	if (out == NULL || opts->size != sizeof(*opts)) {
		return SPRY_EINVAL;
	}
	if ((cap = spry__mailbox_round(opts->capacity)) == 0) {
		return SPRY_EINVAL;
	}
	if ((mb = spry__alloc(spry__mailbox_size(cap))) == NULL) {
		return SPRY_ENOMEM;
	}
	spry__mailbox_init(mb, cap, opts, NULL);
	*out = mb;
	return 0;
}

int
spry_mailbox_open(spry_mailbox **out, size_t capacity)
{
	spry_mailbox_opts opts = SPRY_MAILBOX_OPTS_INIT;

	opts.capacity = capacity;
	return spry_mailbox_open_opts(out, &opts);
}

void
spry_mailbox_hold(spry_mailbox *mb)
{
	spry__faa(&mb->refs, 1);
}

void
spry__mailbox_drain(spry_mailbox *mb)
{
	void *item;

	while (spry_mailbox_tryrecv(mb, &item) == 0) {
		if (mb->dispose != NULL) {
			mb->dispose(item, mb->dispose_arg);
		}
	}
}

void
spry_mailbox_release(spry_mailbox *mb)
{
	if (mb == NULL || spry__fas(&mb->refs, 1) != 1) {
		return;
	}
	spry__mailbox_drain(mb);
	if (mb->efd >= 0) {
		close(mb->efd);
	}
	if (mb->free_cb != NULL) {
		mb->free_cb(mb);
	} else {
		spry__free(mb, spry__mailbox_size(mb->mask + 1));
	}
}

/* Unlink w from list *head; lock held. */
static void
mb_unlink(spry__waiter **head, spry__waiter *w)
{
	if (w->prev != NULL) {
		w->prev->next = w->next;
	} else {
		*head = w->next;
	}
	if (w->next != NULL) {
		w->next->prev = w->prev;
	}
	w->next = w->prev = NULL;
	w->linked	  = false;
}

static void
mb_update_listen(spry_mailbox *mb)
{
	uint32_t l = mb->efd >= 0 ? SPRY__LISTEN_FD : 0;

	l |= mb->recvq != NULL ? SPRY__LISTEN_RECV : 0;
	l |= mb->sendq != NULL ? SPRY__LISTEN_SEND : 0;
	spry__xchg(&mb->listen, l);
}

/*
 * Fire waiters of one list until one accepts (a select may already have
 * been fired by another of its cases), or all of them when `all`. Every
 * waiter fired or refused is unlinked. Lock held.
 */
static void
mb_fire(spry__waiter **head, bool all)
{
	spry__waiter *w;

	while ((w = *head) != NULL) {
		mb_unlink(head, w);
		if (spry__parker_fire(w->parker, w->value) && !all) {
			return;
		}
	}
}

static void
mb_fd_raise(spry_mailbox *mb)
{
	uint64_t one = 1;

	if (mb->efd >= 0 && !mb->raised) {
		mb->raised = 1;
		(void)!write(mb->efd, &one, sizeof(one));
	}
}

static void
mb_fd_lower(spry_mailbox *mb)
{
	uint64_t v;

	if (mb->efd >= 0 && mb->raised && !spry__load_acq(&mb->closed) &&
	    spry__mailbox_empty(mb)) {
		mb->raised = 0;
		(void)!read(mb->efd, &v, sizeof(v));
	}
}

/* After a send published an item while someone listens. */
static void
mb_after_send(spry_mailbox *mb)
{
	mb_lock(mb);
	mb_fire(&mb->recvq, false);
	mb_fd_raise(mb);
	mb_update_listen(mb);
	mb_unlock(mb);
}

/* After a receive freed a slot while someone listens. */
static void
mb_after_recv(spry_mailbox *mb)
{
	mb_lock(mb);
	mb_fire(&mb->sendq, false);
	mb_fd_lower(mb);
	mb_update_listen(mb);
	mb_unlock(mb);
}

int
spry_mailbox_trysend(spry_mailbox *mb, void *item)
{
	uint32_t *seq = mb_seq(mb);
	uint32_t  pos, s, i;

	if (spry__load_relaxed(&mb->closed)) {
		return SPRY_ECLOSED;
	}
	pos = spry__load_relaxed(&mb->head);
	for (;;) {
		i = pos & mb->mask;
		s = spry__load_acq(&seq[i]);
		if (s == pos) {
			if (spry__cas(&mb->head, &pos, pos + 1)) {
				break;
			}
		} else if ((int32_t)(s - pos) < 0) {
			return SPRY_EAGAIN; /* the slot is a lap behind */
		} else {
			pos = spry__load_relaxed(&mb->head);
		}
	}
	mb_items(mb)[i] = item;
	/* Full barrier: publish before reading listen (see the header). */
	spry__xchg(&seq[i], pos + 1);
	if (mb->notify != NULL) {
		mb->notify(mb);
	}
	if (spry__load_relaxed(&mb->listen) != 0) {
		mb_after_send(mb);
	}
	return 0;
}

int
spry_mailbox_tryrecv(spry_mailbox *mb, void **item)
{
	uint32_t *seq = mb_seq(mb);
	uint32_t  pos, s, i;

	pos = spry__load_relaxed(&mb->tail);
	for (;;) {
		i = pos & mb->mask;
		s = spry__load_acq(&seq[i]);
		if (s == pos + 1) {
			if (spry__cas(&mb->tail, &pos, pos + 1)) {
				break;
			}
		} else if ((int32_t)(s - (pos + 1)) < 0) {
			/*
			 * Empty, or the producer of this slot has not
			 * published yet: then it is not drained, even if
			 * closed, and the producer will wake us.
			 */
			if (spry__load_acq(&mb->closed) &&
			    spry__load_acq(&mb->head) == pos) {
				return SPRY_ECLOSED;
			}
			return SPRY_EAGAIN;
		} else {
			pos = spry__load_relaxed(&mb->tail);
		}
	}
	*item = mb_items(mb)[i];
	spry__xchg(&seq[i], pos + mb->mask + 1);
	if ((spry__load_relaxed(&mb->listen) &
		(SPRY__LISTEN_SEND | SPRY__LISTEN_FD)) != 0) {
		mb_after_recv(mb);
	}
	return 0;
}

void
spry_mailbox_close(spry_mailbox *mb)
{
	if (spry__xchg(&mb->closed, 1) != 0) {
		return;
	}
	mb_lock(mb);
	mb_fire(&mb->recvq, true);
	mb_fire(&mb->sendq, true);
	mb_fd_raise(mb);
	mb_update_listen(mb);
	mb_unlock(mb);
	if (mb->notify != NULL) {
		mb->notify(mb);
	}
}

bool
spry__mailbox_empty(spry_mailbox *mb)
{
	uint32_t pos = spry__load_acq(&mb->tail);

	return spry__load_acq(&mb_seq(mb)[pos & mb->mask]) != pos + 1;
}

size_t
spry_mailbox_len(const spry_mailbox *mb)
{
	uint32_t t = spry__load_acq(&mb->tail);
	uint32_t h = spry__load_acq(&mb->head);
	uint32_t n = h - t;

	/* A racing snapshot can be off; never report past capacity. */
	return (int32_t)n < 0 ? 0 : n > mb->mask + 1 ? mb->mask + 1 : n;
}

size_t
spry_mailbox_capacity(const spry_mailbox *mb)
{
	return (size_t)mb->mask + 1;
}

bool
spry_mailbox_closed(const spry_mailbox *mb)
{
	return spry__load_acq(&mb->closed) != 0;
}

bool
spry__mailbox_ready(spry_mailbox *mb, int dir)
{
	uint32_t pos, s;

	if (spry__load_acq(&mb->closed)) {
		return true;
	}
	if (dir == SPRY_SELECT_RECV) {
		return !spry__mailbox_empty(mb);
	}
	pos = spry__load_acq(&mb->head);
	s   = spry__load_acq(&mb_seq(mb)[pos & mb->mask]);
	return s == pos;
}

int
spry__mailbox_wait_add(spry_mailbox *mb, int dir, spry__waiter *w)
{
	spry__waiter **head = dir == SPRY_SELECT_RECV ? &mb->recvq : &mb->sendq;

	mb_lock(mb);
	w->prev = NULL;
	w->next = *head;
	if (*head != NULL) {
		(*head)->prev = w;
	}
	*head	  = w;
	w->linked = true;
	mb_update_listen(mb); /* full barrier before the caller re-checks */
	mb_unlock(mb);
	return 0;
}

void
spry__mailbox_wait_del(spry_mailbox *mb, int dir, spry__waiter *w)
{
	mb_lock(mb);
	if (w->linked) {
		mb_unlink(dir == SPRY_SELECT_RECV ? &mb->recvq : &mb->sendq, w);
		mb_update_listen(mb);
	}
	mb_unlock(mb);
}

void
spry__mailbox_pass(spry_mailbox *mb, int dir)
{
	uint32_t bit = dir == SPRY_SELECT_RECV ? SPRY__LISTEN_RECV
					       : SPRY__LISTEN_SEND;

	if ((spry__load_acq(&mb->listen) & bit) == 0 ||
	    !spry__mailbox_ready(mb, dir)) {
		return;
	}
	mb_lock(mb);
	mb_fire(dir == SPRY_SELECT_RECV ? &mb->recvq : &mb->sendq, false);
	mb_update_listen(mb);
	mb_unlock(mb);
}

int
spry_mailbox_fd(spry_mailbox *mb, int *fd)
{
	int rv = 0;

	if (fd == NULL) {
		return SPRY_EINVAL;
	}
	mb_lock(mb);
	if (mb->efd < 0) {
		mb->efd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
		if (mb->efd < 0) {
			rv = errno == ENOMEM ? SPRY_ENOMEM : SPRY_ENOFILES;
		} else {
			mb_update_listen(mb);
			if (spry__load_acq(&mb->closed) ||
			    !spry__mailbox_empty(mb)) {
				mb_fd_raise(mb);
			}
		}
	}
	*fd = mb->efd;
	mb_unlock(mb);
	return rv;
}
