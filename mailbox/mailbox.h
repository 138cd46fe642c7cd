/* SPDX-License-Identifier: MIT */
/*
 * mailbox/mailbox.h: mailbox internals shared with select and actors.
 *
 * The queue is a bounded ring of `void *` with a sequence word per slot
 * (Vyukov's bounded MPMC queue). Producers claim a slot by CAS on head,
 * consumers by CAS on tail; a slot's sequence says whether it is free,
 * published or taken, so neither side ever waits for the other. ck_ring
 * was measured and rejected here: its mp enqueue spins until every earlier
 * producer has committed, so one preempted producer stalls all others.
 *
 * Waking: a mailbox keeps lists of parked waiters (blocking calls and
 * selects) under a mutex that only the slow path takes. `listen` is the
 * fast-path flag word: a producer or consumer that sees it zero after its
 * full-barrier publish knows nobody waits and skips the lock. A waiter
 * sets it (under the lock, full barrier) before its final re-check, so
 * either the waiter sees the item or the producer sees the flag (Dekker).
 */
#ifndef SPRY_MAILBOX_MAILBOX_H
#define SPRY_MAILBOX_MAILBOX_H

#include "spry/mailbox.h"
#include "mailbox/park.h"

#include <stddef.h>

/* listen bits */
#define SPRY__LISTEN_RECV 1u /* recvq is not empty */
#define SPRY__LISTEN_SEND 2u /* sendq is not empty */
#define SPRY__LISTEN_FD 4u   /* an eventfd mirrors readiness */

/*
 * spry__waiter: one registration of a parker on one mailbox direction.
 * Linked and unlinked under the mailbox lock.
 */
typedef struct spry__waiter {
	struct spry__waiter *next;   /* in the mailbox list (lock) */
	struct spry__waiter *prev;   /* in the mailbox list (lock) */
	spry__parker	    *parker; /* fired when the case may proceed */
	uint32_t	     value;  /* value to fire with */
	bool		     linked; /* in a list now (lock) */
} spry__waiter;

/*
 * spry__mailbox_notify_fn: the owner hook, called after every successful
 * send; actors use it to get scheduled.
 */
typedef void (*spry__mailbox_notify_fn)(spry_mailbox *mb);

/*
 * spry__mailbox_free_fn: frees a mailbox's storage when its last
 * reference goes (owners that embed a mailbox free the whole object).
 */
typedef void (*spry__mailbox_free_fn)(spry_mailbox *mb);

struct spry_mailbox {
	uint32_t head;	 /* next position to send to (producers, CAS) */
	uint32_t tail;	 /* next position to receive (consumers, CAS) */
	uint32_t mask;	 /* capacity - 1; fixed */
	uint32_t refs;	 /* references (atomic) */
	uint32_t listen; /* SPRY__LISTEN_* (set under lock, read freely) */
	uint32_t closed; /* 1 once closed (atomic) */
	uint32_t lock;	 /* slow-path spinlock: waiter lists, efd */
	uint32_t raised; /* efd is readable (lock) */
	int	 efd;	 /* eventfd or -1 (lock) */
	spry__waiter	       *recvq;	 /* waiting receivers (lock) */
	spry__waiter	       *sendq;	 /* waiting senders (lock) */
	spry__mailbox_notify_fn notify;	 /* owner hook, set once */
	spry__mailbox_free_fn	free_cb; /* storage owner; NULL: spry__free */
	spry_dispose_cb		dispose; /* frees leftovers; fixed */
	void		       *dispose_arg; /* for dispose */
	/* followed by: void *items[mask+1]; uint32_t seq[mask+1]; */
};

/*
 * spry__mailbox_size is the allocation size of a mailbox with capacity
 * cap (a power of two), so owners can embed one.
 */
size_t spry__mailbox_size(size_t cap);

/*
 * spry__mailbox_init initializes a mailbox in zeroed caller-provided
 * storage of spry__mailbox_size(cap) bytes (cap from spry__mailbox_round),
 * with one reference. free_cb frees the storage when the last reference
 * goes (NULL: spry__free).
 */
void spry__mailbox_init(spry_mailbox *mb, size_t cap,
    const spry_mailbox_opts *opts, spry__mailbox_free_fn free_cb);

/* spry__mailbox_round rounds a requested capacity; 0 for invalid. */
size_t spry__mailbox_round(size_t cap);

/*
 * spry__mailbox_drain hands every queued item to the dispose callback
 * (or drops it when there is none).
 */
void spry__mailbox_drain(spry_mailbox *mb);

/* spry__mailbox_empty tells whether nothing is queued (a snapshot). */
bool spry__mailbox_empty(spry_mailbox *mb);

/*
 * spry__mailbox_ready tells whether an operation in direction dir
 * (SPRY_SELECT_RECV/SEND) could proceed now (closed counts as ready).
 */
bool spry__mailbox_ready(spry_mailbox *mb, int dir);

/* spry__mailbox_wait_add links w for direction dir. */
int spry__mailbox_wait_add(spry_mailbox *mb, int dir, spry__waiter *w);

/* spry__mailbox_wait_del unlinks w if it is still linked. */
void spry__mailbox_wait_del(spry_mailbox *mb, int dir, spry__waiter *w);

/*
 * spry__mailbox_pass hands a wake-up that a waiter received but did not
 * use on to another waiter of the same direction, if the mailbox is ready
 * for it. Without this, an item could sit unnoticed beside a parked
 * receiver after a select chose another case.
 */
void spry__mailbox_pass(spry_mailbox *mb, int dir);

#endif /* SPRY_MAILBOX_MAILBOX_H */
