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

static inline size_t
ring_size(uint32_t mask)
{
	return ((size_t)mask + 1) * (sizeof(void *) + sizeof(uint32_t));
}

static inline void **
ring_items(void *ring)
{
	return ring;
}

static inline uint32_t *
ring_seq(void *ring, uint32_t mask)
{
	return (uint32_t *)((void **)ring + mask + 1);
}

static void
ring_init(void *ring, uint32_t mask)
{
	uint32_t *seq = ring_seq(ring, mask);

	for (uint32_t i = 0; i <= mask; i++) {
		seq[i] = i;
	}
}

/* The ring, made on first use for a lazy mailbox; NULL when out of memory. */
static void *
mb_ring_make(spry_mailbox *mb)
{
	void *ring = spry__alloc(ring_size(mb->mask));
	void *seen = NULL;

	if (ring == NULL) {
		return NULL;
	}
	ring_init(ring, mb->mask);
	if (!__atomic_compare_exchange_n(&mb->ring, &seen, ring, false,
	        __ATOMIC_ACQ_REL, __ATOMIC_ACQUIRE)) {
		spry__free(ring, ring_size(mb->mask)); /* another sender won */
		return seen;
	}
	return ring;
}

static inline bool
mb_ring_inline(const spry_mailbox *mb)
{
	return mb->ring == (const void *)(mb + 1);
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
spry__mailbox_size(size_t cap, bool lazy)
{
	return sizeof(spry_mailbox) +
	    (lazy ? 0 : ring_size((uint32_t)cap - 1));
}

void
spry__mailbox_init(spry_mailbox *mb, size_t cap, const spry_mailbox_opts *opts,
    spry__mailbox_free_fn free_cb, bool lazy)
{
	mb->mask    = (uint32_t)(cap - 1);
	mb->refs    = 1;
	mb->efd     = -1;
	mb->free_cb = free_cb;
	if (opts != NULL) {
		mb->dispose     = opts->dispose_cb;
		mb->dispose_arg = opts->dispose_arg;
	}
	if (!lazy) {
		mb->ring = mb + 1;
		ring_init(mb->ring, mb->mask);
	}
}

int
spry_mailbox_open_opts(spry_mailbox **out, const spry_mailbox_opts *opts)
{
	spry_mailbox_opts def = SPRY_MAILBOX_OPTS_INIT;
	spry_mailbox     *mb;
	size_t            cap;

	if (opts == NULL) {
		opts = &def;
	}
	if (out == NULL || opts->size != sizeof(*opts)) {
		return SPRY_EINVAL;
	}
	if ((cap = spry__mailbox_round(opts->capacity)) == 0) {
		return SPRY_EINVAL;
	}
	if ((mb = spry__alloc(spry__mailbox_size(cap, false))) == NULL) {
		return SPRY_ENOMEM;
	}
	spry__mailbox_init(mb, cap, opts, NULL, false);
	*out = mb;
	return 0;
}

static void
mb_free_lazy(spry_mailbox *mb)
{
	spry__free(mb, spry__mailbox_size((size_t)mb->mask + 1, true));
}

int
spry__mailbox_open_lazy(spry_mailbox **out, const spry_mailbox_opts *opts)
{
	spry_mailbox *mb;
	size_t        cap;

	if ((cap = spry__mailbox_round(opts->capacity)) == 0) {
		return SPRY_EINVAL;
	}
	if ((mb = spry__alloc(spry__mailbox_size(cap, true))) == NULL) {
		return SPRY_ENOMEM;
	}
	spry__mailbox_init(mb, cap, opts, mb_free_lazy, true);
	*out = mb;
	return 0;
}

int
spry__mailbox_set_capacity(spry_mailbox *mb, size_t cap)
{
	int rv = 0;

	if ((cap = spry__mailbox_round(cap)) == 0) {
		return SPRY_EINVAL;
	}
	mb_lock(mb);
	if (spry__load_acq(&mb->ring) != NULL) {
		rv = SPRY_EBUSY;
	} else {
		mb->mask = (uint32_t)(cap - 1);
	}
	mb_unlock(mb);
	return rv;
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
	if (mb->ring != NULL && !mb_ring_inline(mb)) {
		spry__free(mb->ring, ring_size(mb->mask));
	}
	if (mb->free_cb != NULL) {
		mb->free_cb(mb);
	} else {
		spry__free(
		    mb, spry__mailbox_size((size_t)mb->mask + 1, false));
	}
}

/*
 * Waiter lists are circular and doubly linked, *head the oldest waiter
 * and (*head)->prev the newest: appending is O(1) and wakes go out in
 * arrival order, as Go wakes its waiting goroutines. Lock held.
 */
static void
mb_unlink(spry__waiter **head, spry__waiter *w)
{
	if (w->next == w) {
		*head = NULL;
	} else {
		w->prev->next = w->next;
		w->next->prev = w->prev;
		if (*head == w) {
			*head = w->next;
		}
	}
	w->next = w->prev = NULL;
	w->linked         = false;
}

static void
mb_append(spry__waiter **head, spry__waiter *w)
{
	if (*head == NULL) {
		w->next = w->prev = w;
		*head             = w;
	} else {
		w->prev             = (*head)->prev;
		w->next             = *head;
		(*head)->prev->next = w;
		(*head)->prev       = w;
	}
	w->linked = true;
}

/* Set or clear flag bits of one side's word; lock held. */
static void
mb_flag(uint64_t *word, uint64_t bits, bool on)
{
	uint64_t now = spry__load_relaxed(word) & bits;

	if (on && now != bits) {
		spry__for(word, bits);
	} else if (!on && now != 0) {
		spry__fand(word, ~bits);
	}
}

/*
 * Make the flags say who waits; lock held. A flag that is already up was
 * raised by an RMW that the lock orders before us, so a waiter's re-check
 * after this sees every claim its flag did not catch.
 */
static void
mb_update_flags(spry_mailbox *mb)
{
	bool fd = mb->efd >= 0;

	mb_flag(&mb->head, SPRY__MB_WAIT, mb->recvq != NULL);
	mb_flag(&mb->tail, SPRY__MB_WAIT, mb->sendq != NULL);
	mb_flag(&mb->head, SPRY__MB_FD, fd);
	mb_flag(&mb->tail, SPRY__MB_FD, fd);
}

/*
 * Fire waiters of one list, oldest first, until one accepts (a select may
 * already have been fired by another of its cases), or all of them when
 * `all`. Every waiter fired or refused is unlinked. Lock held.
 */
static void
mb_fire(spry_mailbox *mb, spry__waiter **head, bool all)
{
	spry__waiter *w, *stop = NULL;
	size_t        len = all ? 0 : spry_mailbox_len(mb);

	while ((w = *head) != NULL && w != stop) {
		if (len > w->below && w->below != 0) {
			/* Not low enough yet: to the back, looked at once. */
			stop  = stop != NULL ? stop : w;
			*head = w->next;
			continue;
		}
		mb_unlink(head, w);
		if (w->cb != NULL) {
			w->cb(w);
			if (!all) {
				return;
			}
		} else if (spry__parker_fire(w->parker, w->value) && !all) {
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

/*
 * A send whose claim saw a flag publishes its slot under the lock and
 * wakes a receiver (and raises the fd) before it lets go: a waiter that
 * looks under the lock (spry__mailbox_wait_del) never finds the item
 * there while the wake for it is still to come.
 */
static void
mb_publish_flagged(
    spry_mailbox *mb, void *ring, uint32_t i, uint32_t pos, void *item)
{
	mb_lock(mb);
	ring_items(ring)[i] = item;
	spry__store_rel(&ring_seq(ring, mb->mask)[i], pos + 1);
	mb_fire(mb, &mb->recvq, false);
	mb_fd_raise(mb);
	mb_update_flags(mb);
	mb_unlock(mb);
}

/* The same for a receive whose claim saw a flag: free, wake a sender. */
static void
mb_release_flagged(spry_mailbox *mb, void *ring, uint32_t i, uint32_t pos)
{
	mb_lock(mb);
	spry__store_rel(&ring_seq(ring, mb->mask)[i], pos + mb->mask + 1);
	mb_fire(mb, &mb->sendq, false);
	mb_fd_lower(mb);
	mb_update_flags(mb);
	mb_unlock(mb);
}

int
spry_mailbox_trysend(spry_mailbox *mb, void *item)
{
	return spry__mailbox_put(mb, item, false);
}

int
spry__mailbox_put(spry_mailbox *mb, void *item, bool blocking)
{
	uint32_t *seq;
	void     *ring;
	uint64_t  h;
	uint32_t  pos, s, i;

	if (spry__load_relaxed(&mb->closed)) {
		return SPRY_ECLOSED;
	}
	if ((ring = spry__load_acq(&mb->ring)) == NULL &&
	    (ring = mb_ring_make(mb)) == NULL) {
		return SPRY_ENOMEM;
	}
	seq = ring_seq(ring, mb->mask);
	h   = spry__load_relaxed(&mb->head);
	for (;;) {
		pos = (uint32_t)h;
		i   = pos & mb->mask;
		s   = spry__load_acq(&seq[i]);
		if (s == pos) {
			if (spry__cas(&mb->head, &h,
			        (h & ~SPRY__MB_POS) | (uint32_t)(pos + 1))) {
				break; /* h: the word we replaced, flags too */
			}
		} else if ((int32_t)(s - pos) < 0) {
			return SPRY_EAGAIN; /* the slot is a lap behind */
		} else {
			h = spry__load_relaxed(&mb->head);
		}
	}
	if ((h & ~SPRY__MB_POS) != 0) {
		mb_publish_flagged(mb, ring, i, pos, item);
	} else {
		ring_items(ring)[i] = item;
		spry__store_rel(&seq[i], pos + 1);
	}
	if (mb->notify != NULL) {
		mb->notify(mb, blocking);
	}
	return 0;
}

int
spry_mailbox_tryrecv(spry_mailbox *mb, void **item)
{
	uint32_t *seq;
	void     *ring;
	uint64_t  t;
	uint32_t  pos, s, i;

	if ((ring = spry__load_acq(&mb->ring)) == NULL) {
		return spry__load_acq(&mb->closed) ? SPRY_ECLOSED :
		                                     SPRY_EAGAIN;
	}
	seq = ring_seq(ring, mb->mask);
	t   = spry__load_relaxed(&mb->tail);
	for (;;) {
		pos = (uint32_t)t;
		i   = pos & mb->mask;
		s   = spry__load_acq(&seq[i]);
		if (s == pos + 1) {
			if (spry__cas(&mb->tail, &t,
			        (t & ~SPRY__MB_POS) | (uint32_t)(pos + 1))) {
				break;
			}
		} else if ((int32_t)(s - (pos + 1)) < 0) {
			/*
			 * Empty, or the producer of this slot has not
			 * published yet: then it is not drained, even if
			 * closed, and the producer will wake us.
			 */
			if (spry__load_acq(&mb->closed) &&
			    (uint32_t)spry__load_acq(&mb->head) == pos) {
				return SPRY_ECLOSED;
			}
			return SPRY_EAGAIN;
		} else {
			t = spry__load_relaxed(&mb->tail);
		}
	}
	*item = ring_items(ring)[i];
	if ((t & ~SPRY__MB_POS) != 0) {
		mb_release_flagged(mb, ring, i, pos);
	} else {
		spry__store_rel(&seq[i], pos + mb->mask + 1);
	}
	return 0;
}

void
spry_mailbox_close(spry_mailbox *mb)
{
	mb_lock(mb); /* closed and its wakes in one step, as a send's */
	if (spry__xchg(&mb->closed, 1) != 0) {
		mb_unlock(mb);
		return;
	}
	mb_fire(mb, &mb->recvq, true);
	mb_fire(mb, &mb->sendq, true);
	mb_fd_raise(mb);
	mb_update_flags(mb);
	mb_unlock(mb);
	if (mb->notify != NULL) {
		mb->notify(mb, false);
	}
}

bool
spry__mailbox_empty(spry_mailbox *mb)
{
	void    *ring = spry__load_acq(&mb->ring);
	uint32_t pos;

	if (ring == NULL) {
		return true;
	}
	pos = (uint32_t)spry__load_acq(&mb->tail);
	return spry__load_acq(&ring_seq(ring, mb->mask)[pos & mb->mask]) !=
	    pos + 1;
}

bool
spry__mailbox_idle(spry_mailbox *mb)
{
	/* seq_cst: actors rely on seeing every claim ordered before them. */
	return (uint32_t)__atomic_load_n(&mb->head, __ATOMIC_SEQ_CST) ==
	    (uint32_t)__atomic_load_n(&mb->tail, __ATOMIC_SEQ_CST);
}

size_t
spry_mailbox_len(const spry_mailbox *mb)
{
	uint32_t t = (uint32_t)spry__load_acq(&mb->tail);
	uint32_t h = (uint32_t)spry__load_acq(&mb->head);
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
	void    *ring;
	uint32_t pos;

	if (spry__load_acq(&mb->closed)) {
		return true;
	}
	if (dir == SPRY_SELECT_RECV) {
		return !spry__mailbox_empty(mb);
	}
	if ((ring = spry__load_acq(&mb->ring)) == NULL) {
		return true; /* a lazy ring is made by the send */
	}
	pos = (uint32_t)spry__load_acq(&mb->head);
	return spry__load_acq(&ring_seq(ring, mb->mask)[pos & mb->mask]) ==
	    pos;
}

bool
spry__mailbox_settling(spry_mailbox *mb, int dir)
{
	uint32_t h, t;

	if (spry__load_acq(&mb->ring) == NULL) {
		return false;
	}
	t = (uint32_t)spry__load_acq(&mb->tail);
	h = (uint32_t)spry__load_acq(&mb->head);
	/*
	 * Safe to park only when the other side has claimed nothing we could
	 * use: no slot claimed past tail (receivers), every slot claimed
	 * (senders). A claim may predate the waiter's flag and then never
	 * wake it, whether it is still in flight or already done.
	 */
	return dir == SPRY_SELECT_RECV ? h != t : h - t <= mb->mask;
}

int
spry__mailbox_wait_add(spry_mailbox *mb, int dir, spry__waiter *w)
{
	mb_lock(mb);
	mb_append(dir == SPRY_SELECT_RECV ? &mb->recvq : &mb->sendq, w);
	mb_update_flags(mb); /* full barrier before the caller re-checks */
	mb_unlock(mb);
	return 0;
}

bool
spry__mailbox_wait_arm(spry_mailbox *mb, int dir, spry__waiter *w)
{
	(void)spry__mailbox_wait_add(mb, dir, w);
	return spry__mailbox_ready(mb, dir) || spry__mailbox_settling(mb, dir);
}

/* Unlink w if linked; whether it was, and whether dir was ready then. */
static bool
mb_wait_unlink(spry_mailbox *mb, int dir, spry__waiter *w, bool *stranded)
{
	bool linked;

	mb_lock(mb);
	if ((linked = w->linked)) {
		*stranded = spry__mailbox_ready(mb, dir);
		mb_unlink(
		    dir == SPRY_SELECT_RECV ? &mb->recvq : &mb->sendq, w);
		mb_update_flags(mb);
	}
	mb_unlock(mb);
	return linked;
}

bool
spry__mailbox_wait_del(spry_mailbox *mb, int dir, spry__waiter *w)
{
	bool stranded = false;

	(void)mb_wait_unlink(mb, dir, w, &stranded);
	return stranded;
}

bool
spry__mailbox_wait_cancel(spry_mailbox *mb, int dir, spry__waiter *w)
{
	bool stranded;

	return mb_wait_unlink(mb, dir, w, &stranded);
}

void
spry__mailbox_pass(spry_mailbox *mb, int dir)
{
	uint64_t *word = dir == SPRY_SELECT_RECV ? &mb->head : &mb->tail;

	if ((spry__load_acq(word) & SPRY__MB_WAIT) == 0 ||
	    !spry__mailbox_ready(mb, dir)) {
		return;
	}
	mb_lock(mb);
	mb_fire(mb, dir == SPRY_SELECT_RECV ? &mb->recvq : &mb->sendq, false);
	mb_update_flags(mb);
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
			mb_update_flags(mb);
			/* A send claimed before the flag rose raises nothing
			 * itself: count it as queued. */
			if (spry__load_acq(&mb->closed) ||
			    !spry__mailbox_empty(mb) ||
			    spry__mailbox_settling(mb, SPRY_SELECT_RECV)) {
				mb_fd_raise(mb);
			}
		}
	}
	*fd = mb->efd;
	mb_unlock(mb);
	return rv;
}
