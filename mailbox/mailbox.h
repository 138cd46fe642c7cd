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
 * A send plus a receive costs two locked instructions (the two CASes).
 *
 * Waking: parked waiters (blocking calls, selects) sit on lists under a
 * spinlock that only the slow path takes. Their presence is a flag bit in
 * the word the other side CASes anyway: waiting receivers flag `head`,
 * waiting senders flag `tail`. A producer's claiming CAS therefore sees
 * the flag if it was set first; if the claim came first, the waiter's
 * re-check finds the slot claimed, and it does not park while a claimed
 * slot is still being published ("settling"), so no wake-up is lost and
 * no extra fence is needed on the fast path. A claim that saw a flag
 * publishes (or frees) its slot under the lock together with the wake
 * it owes, as a close does: under the lock a ready slot never waits for
 * its wake, which lets a parked select's re-check tell a lost wake-up
 * from one on its way.
 *
 * The ring of an actor's mailbox is allocated on the first send, so an
 * actor that was never sent anything costs only the header.
 */
#ifndef SPRY_MAILBOX_MAILBOX_H
#define SPRY_MAILBOX_MAILBOX_H

#include "spry/mailbox.h"
#include "mailbox/park.h"

#include <stddef.h>

/* head and tail words: a position in the low 32 bits, flags above. */
#define SPRY__MB_POS 0xffffffffull
#define SPRY__MB_WAIT (1ull << 32) /* head: receivers wait; tail: senders */
#define SPRY__MB_FD (1ull << 33)   /* an eventfd mirrors readiness */

/*
 * spry__waiter: one registration of a parker on one mailbox direction.
 * Linked and unlinked under the mailbox lock.
 */
typedef struct spry__waiter {
	struct spry__waiter *next;   /* in the circular list (lock) */
	struct spry__waiter *prev;   /* in the circular list (lock) */
	spry__parker        *parker; /* fired when the case may proceed */
	/*
	 * cb, when set, is called instead of firing a parker: the waiter of
	 * an actor, which cannot park. It runs under the mailbox's spinlock
	 * on the thread that made room or queued an item, so it must only
	 * post a note (spry__actor_post) and never touch this mailbox. The
	 * waiter is unlinked before the call, one-shot like a parker.
	 */
	void (*cb)(struct spry__waiter *w);
	/*
	 * below, when not 0, holds a send-side waiter back until the mailbox
	 * holds at most this many items (hysteresis: a socket resumes a
	 * paused pipe once its consumer has drained half, not after every
	 * single receive). Set before linking.
	 */
	uint32_t below;
	uint32_t value;  /* value to fire with */
	bool     linked; /* in a list now (lock) */
	bool     owed;   /* its mailbox woke us during this
	                    select: pass it on when done
	                    (selecting thread only) */
} spry__waiter;

/*
 * spry__mailbox_notify_fn: the owner hook, called after every successful
 * send (and on close); actors use it to get scheduled. `blocking` tells
 * that the item came from a blocking spry_mailbox_send: that caller has
 * time to spend, so an owner may do the item's work on its thread (a
 * socket sends it) instead of waking a worker. A trysend or a select
 * case only queues: it must cost a channel operation and nothing more.
 */
typedef void (*spry__mailbox_notify_fn)(spry_mailbox *mb, bool blocking);

/*
 * spry__mailbox_free_fn: frees a mailbox's storage when its last
 * reference goes (owners that embed a mailbox free the whole object).
 */
typedef void (*spry__mailbox_free_fn)(spry_mailbox *mb);

/*
 * The layout keeps the two sides off each other's cache line: head
 * (every send CASes it) and tail (every receive CASes it) are 88 bytes
 * apart, so they never share a 64-byte line at the 16-byte alignment
 * malloc gives, and a CAS on one no longer takes the line the other side
 * is using. What only a send reads (notify, closed) sits by head; ring
 * and mask, which both sides read, sit by tail (measured: that costs a
 * send less than placing them by head costs a receive); slow-path fields
 * fill the gap. The size stays 96 bytes: an actor embeds its mailbox,
 * and padding would grow every idle actor.
 */
struct spry_mailbox {
	/* The producers' side. */
	uint64_t                head;   /* send position | flags (CAS) */
	spry__mailbox_notify_fn notify; /* owner hook, set once */
	uint32_t                closed; /* 1 once closed (atomic) */
	uint32_t                refs;   /* references (atomic) */

	/* The slow path, between the two sides. */
	uint32_t      lock; /* slow-path spinlock: waiter lists, efd, flags */
	uint32_t      raised;          /* efd is readable (lock) */
	spry__waiter *recvq;           /* receivers, oldest first (lock) */
	spry__waiter *sendq;           /* senders, oldest first (lock) */
	spry__mailbox_free_fn free_cb; /* storage owner; NULL: spry__free */
	spry_dispose_cb       dispose; /* frees leftovers; fixed */
	void                 *dispose_arg; /* for dispose */
	int                   efd;         /* eventfd or -1 (lock) */

	/* The consumers' side. */
	uint32_t mask; /* capacity - 1; fixed */
	void    *ring; /* items[mask+1], then seq[mask+1]; lazy (atomic) */
	uint64_t tail; /* receive position | flags (consumers CAS) */
	               /* an eager ring follows here */
};

/*
 * spry__mailbox_size is the allocation size of a mailbox with capacity
 * cap (a power of two), so owners can embed one; a lazy mailbox allocates
 * its ring on the first send and needs only the header.
 */
size_t spry__mailbox_size(size_t cap, bool lazy);

/*
 * spry__mailbox_init initializes a mailbox in zeroed caller-provided
 * storage of spry__mailbox_size(cap, lazy) bytes (cap from
 * spry__mailbox_round), with one reference. free_cb frees the storage when
 * the last reference goes (NULL: spry__free).
 */
void spry__mailbox_init(spry_mailbox *mb, size_t cap,
    const spry_mailbox_opts *opts, spry__mailbox_free_fn free_cb, bool lazy);

/*
 * spry__mailbox_open_lazy opens a mailbox whose ring is made by the
 * first send (opts required), so its capacity can still change.
 */
int spry__mailbox_open_lazy(spry_mailbox **out, const spry_mailbox_opts *opts);

/*
 * spry__mailbox_set_capacity changes the capacity of a lazy mailbox
 * that has no ring yet: SPRY_EBUSY once it has carried anything,
 * SPRY_EINVAL for a bad capacity. The owner makes sure no send races it.
 */
int spry__mailbox_set_capacity(spry_mailbox *mb, size_t cap);

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
 * spry__mailbox_idle tells whether nothing is queued nor being queued:
 * no slot a send has claimed is still to be received (a snapshot). An
 * owner that lets an item bypass the queue when it is empty must ask
 * this, not spry__mailbox_empty: an item published behind a slot whose
 * sender has not yet filled it is queued too, though the receiving end
 * cannot take it yet.
 */
bool spry__mailbox_idle(spry_mailbox *mb);

/*
 * spry__mailbox_put is spry_mailbox_trysend that tells the owner hook
 * whether the caller is a blocking send (see spry__mailbox_notify_fn).
 */
int spry__mailbox_put(spry_mailbox *mb, void *item, bool blocking);

/*
 * spry__mailbox_ready tells whether an operation in direction dir
 * (SPRY_SELECT_RECV/SEND) could proceed now (closed counts as ready).
 */
bool spry__mailbox_ready(spry_mailbox *mb, int dir);

/*
 * spry__mailbox_settling tells whether a waiter in direction dir must not
 * park yet: the other side has claimed a slot it could use (a producer
 * claimed past tail; a consumer freed a slot at or before head), whether
 * that hand-over is still in flight or already done. Such a claim may
 * predate the waiter's flag, and then nobody would wake it.
 */
bool spry__mailbox_settling(spry_mailbox *mb, int dir);

/*
 * spry__mailbox_wait is a blocking one-case select bounded by ctx and
 * by an extra absolute deadline (SPRY_TIME_NEVER: none); reaching the
 * extra deadline gives SPRY_ETIMEDOUT. c->err tells about the mailbox.
 */
int spry__mailbox_wait(spry_ctx *ctx, spry_time deadline, spry_select_case *c);

/*
 * spry__mailbox_wait_fd is spry__mailbox_wait for a thread that itself
 * reads what will fill c's mailbox from fd: it also returns, with
 * SPRY_EAGAIN, when fd turns readable (or hangs up), for the caller to
 * read it and wait again. It sleeps in poll(), not on a futex, and does
 * not poll the mailbox first: nothing comes unless the caller reads.
 */
int spry__mailbox_wait_fd(
    spry_ctx *ctx, spry_time deadline, spry_select_case *c, int fd);

/* spry__mailbox_wait_add links w for direction dir. */
int spry__mailbox_wait_add(spry_mailbox *mb, int dir, spry__waiter *w);

/*
 * spry__mailbox_wait_arm links a callback waiter w for direction dir and
 * looks again: true when dir may be ready already (ready, or settling:
 * a hand-over in flight that would not see w's flag), in which case no
 * callback may come for it and the caller must act itself. w stays
 * linked either way.
 */
bool spry__mailbox_wait_arm(spry_mailbox *mb, int dir, spry__waiter *w);

/*
 * spry__mailbox_wait_del unlinks w if it is still linked, and tells
 * whether w was stranded: still linked although direction dir was ready.
 * A send or receive that owes a wake makes its slot ready and fires in
 * one step under the lock, as a close does, so a stranded waiter is one
 * that no wake is coming for: a lost wake-up, or one that went to
 * another waiter of the same direction that has not yet acted on it.
 */
bool spry__mailbox_wait_del(spry_mailbox *mb, int dir, spry__waiter *w);

/*
 * spry__mailbox_wait_cancel unlinks w if it is still linked, and tells
 * whether it was: false means it was fired (its callback, if any, has
 * returned, since both happen under the lock).
 */
bool spry__mailbox_wait_cancel(spry_mailbox *mb, int dir, spry__waiter *w);

/*
 * spry__mailbox_pass hands a wake-up that a waiter received but did not
 * use on to another waiter of the same direction, if the mailbox is ready
 * for it. Without this, an item could sit unnoticed beside a parked
 * receiver after a select chose another case.
 */
void spry__mailbox_pass(spry_mailbox *mb, int dir);

/*
 * spry__select_rescues counts parked selects that, looking again on their
 * own after the re-check interval, found a case ready although nobody had
 * woken them: each one is a wake-up the protocol lost (or delivered later
 * than the interval). Tests report it; it should stay 0.
 */
uint64_t spry__select_rescues(void);

#endif /* SPRY_MAILBOX_MAILBOX_H */
