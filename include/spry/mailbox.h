/* SPDX-License-Identifier: MIT */
/*
 * spry/mailbox.h: bounded multi-producer, multi-consumer mailboxes of
 * `void *` items (spry's channels) and spry_select, Go's select for them.
 *
 * A mailbox holds up to its capacity of items. Non-blocking operations
 * (trysend, tryrecv) never block or spin on other threads; blocking ones
 * (send, recv) park the calling thread until they complete, the ctx ends,
 * or the mailbox closes. Items from one producer are received in the order
 * that producer sent them; nothing is lost or received twice.
 *
 * Thread safety: every function may be called from any thread at any time
 * on a mailbox the caller holds a reference to. Blocking functions must
 * not be called from actor code (actors never block a worker).
 */
#ifndef SPRY_MAILBOX_H
#define SPRY_MAILBOX_H

#include "spry/defs.h"

typedef struct spry_mailbox spry_mailbox;
typedef struct spry_ctx     spry_ctx;

/* SPRY_MAILBOX_CAPACITY: the default capacity, the seed's async buffer. */
#define SPRY_MAILBOX_CAPACITY 16

/* SPRY_MAILBOX_MAX_CAPACITY: the largest capacity accepted. */
#define SPRY_MAILBOX_MAX_CAPACITY ((size_t)1 << 30)

/*
 * spry_dispose_cb frees an item that is still queued when the last
 * reference to its mailbox is released.
 */
typedef void (*spry_dispose_cb)(void *item, void *arg);

/*
 * spry_mailbox_opts: settings for spry_mailbox_open_opts. Start from
 * SPRY_MAILBOX_OPTS_INIT so fields added later get their defaults.
 */
typedef struct spry_mailbox_opts {
	size_t          size;        /* sizeof(spry_mailbox_opts) */
	size_t          capacity;    /* 0: SPRY_MAILBOX_CAPACITY */
	spry_dispose_cb dispose_cb;  /* frees leftover items; NULL: none */
	void           *dispose_arg; /* last argument of dispose_cb */
} spry_mailbox_opts;

#define SPRY_MAILBOX_OPTS_INIT                                                \
	{                                                                     \
		sizeof(spry_mailbox_opts), SPRY_MAILBOX_CAPACITY, NULL, NULL  \
	}

/*
 * spry_mailbox_open creates a mailbox holding at least `capacity` items
 * (0 means SPRY_MAILBOX_CAPACITY; the capacity is rounded up to a power of
 * two, at least 2, see spry_mailbox_capacity). The caller gets one reference
 * and must give it back with spry_mailbox_release. Errors: SPRY_EINVAL (out
 * NULL, capacity over SPRY_MAILBOX_MAX_CAPACITY), SPRY_ENOMEM.
 */
SPRY_API int spry_mailbox_open(spry_mailbox **out, size_t capacity);

/*
 * spry_mailbox_open_opts is spry_mailbox_open with settings. opts NULL
 * means defaults. Errors as spry_mailbox_open, and SPRY_EINVAL when
 * opts->size is not a size spry knows.
 */
SPRY_API int spry_mailbox_open_opts(
    spry_mailbox **out, const spry_mailbox_opts *opts);

/*
 * spry_mailbox_hold takes one more reference on mb. Never fails.
 */
SPRY_API void spry_mailbox_hold(spry_mailbox *mb);

/*
 * spry_mailbox_release gives back one reference. When the last one goes,
 * items still queued are handed to the dispose callback (if any) and the
 * mailbox is freed. Releasing does not close: close first if others wait.
 */
SPRY_API void spry_mailbox_release(spry_mailbox *mb);

/*
 * spry_mailbox_close closes mb. Idempotent, never blocks. Every blocked
 * or selecting thread and the owning actor are woken. After close, sends
 * fail with SPRY_ECLOSED at once; receivers still get what is queued, then
 * SPRY_ECLOSED. The pollable descriptor stays readable once closed.
 */
SPRY_API void spry_mailbox_close(spry_mailbox *mb);

/*
 * spry_mailbox_trysend queues item without blocking. Ownership of item
 * passes to the mailbox on success only. Claims a slot with one CAS and
 * never waits for another producer or consumer; only when a thread is
 * parked on the mailbox (or its descriptor exists) does it take the
 * mailbox's short wake-up lock. Errors: SPRY_EAGAIN (full), SPRY_ECLOSED,
 * SPRY_ENOMEM (an actor's mailbox allocates its ring on the first send).
 */
SPRY_API int spry_mailbox_trysend(spry_mailbox *mb, void *item);

/*
 * spry_mailbox_tryrecv takes the oldest item without blocking; on success
 * the caller owns *item. Errors: SPRY_EAGAIN (nothing ready; this includes
 * an item whose producer has not finished publishing it), SPRY_ECLOSED
 * (closed and drained).
 */
SPRY_API int spry_mailbox_tryrecv(spry_mailbox *mb, void **item);

/*
 * spry_mailbox_send queues item, blocking while the mailbox is full.
 * ctx NULL means no deadline. Returns 0, or SPRY_ECLOSED, SPRY_ECANCELED,
 * SPRY_ETIMEDOUT (from the ctx), SPRY_EINVAL (mb NULL), SPRY_ENOMEM; on
 * failure the caller keeps item. Never blocks when there is room (it is
 * then exactly trysend).
 */
SPRY_API int spry_mailbox_send(spry_ctx *ctx, spry_mailbox *mb, void *item);

/*
 * spry_mailbox_recv takes the oldest item, blocking while the mailbox is
 * empty. Returns 0 (caller owns *item), SPRY_ECLOSED once closed and
 * drained, SPRY_ECANCELED or SPRY_ETIMEDOUT when the ctx ends first,
 * SPRY_EINVAL (mb or item NULL), SPRY_ENOMEM.
 */
SPRY_API int spry_mailbox_recv(spry_ctx *ctx, spry_mailbox *mb, void **item);

/*
 * spry_mailbox_len returns how many items are queued: a snapshot that may
 * be stale by the time it is read.
 */
SPRY_API size_t spry_mailbox_len(const spry_mailbox *mb);

/* spry_mailbox_capacity returns the capacity (a power of two). */
SPRY_API size_t spry_mailbox_capacity(const spry_mailbox *mb);

/* spry_mailbox_closed tells whether mb has been closed. */
SPRY_API bool spry_mailbox_closed(const spry_mailbox *mb);

/*
 * spry_mailbox_fd gives a descriptor (an eventfd, created on first call
 * and owned by the mailbox) that polls readable while items are queued or
 * the mailbox is closed, for epoll or libuv integration. Read nothing from
 * it: drain with tryrecv; it turns unreadable when the mailbox is seen
 * empty. Once asked for, every send pays for keeping it up to date.
 * Errors: SPRY_ENOFILES, SPRY_ENOMEM.
 */
SPRY_API int spry_mailbox_fd(spry_mailbox *mb, int *fd);

/* Directions for spry_select cases. */
enum spry_select_dir {
	SPRY_SELECT_RECV = 1, /* ready when an item can be received */
	SPRY_SELECT_SEND = 2, /* ready when item can be queued */
};

/*
 * spry_select_case: one case of a select. A case with a NULL mailbox is
 * never chosen (Go's nil channel).
 */
typedef struct spry_select_case {
	spry_mailbox *mb;   /* the mailbox, or NULL to disable the case */
	int           dir;  /* SPRY_SELECT_RECV or SPRY_SELECT_SEND */
	void         *item; /* SEND: the item; RECV: receives the item */
	int           err;  /* chosen case: 0, or SPRY_ECLOSED if closed */
} spry_select_case;

/*
 * spry_select blocks until one case can proceed, performs it and sets
 * *chosen to its index. Among cases ready at once the choice is uniformly
 * random (Go's fairness). A closed mailbox makes its case ready: the case
 * completes with err SPRY_ECLOSED (a RECV case only once drained), and a
 * SEND case's item stays with the caller. Otherwise a SEND case passes its
 * item to the mailbox and a RECV case hands the item to the caller.
 * Returns 0, SPRY_ECANCELED or SPRY_ETIMEDOUT when the ctx ends first (no
 * case performed), SPRY_EINVAL for bad arguments (n over 65536, a bad
 * dir, or no usable case and no ctx that can end), SPRY_ENOMEM (waiting
 * on more than 8 cases allocates).
 * Waiting costs O(n) to register and unregister and nothing per message
 * sent elsewhere; to wait on many sources, feed them into one mailbox.
 */
SPRY_API int spry_select(
    spry_ctx *ctx, spry_select_case *cases, size_t n, size_t *chosen);

/*
 * spry_tryselect is spry_select without blocking: SPRY_EAGAIN when no
 * case is ready.
 */
SPRY_API int spry_tryselect(spry_select_case *cases, size_t n, size_t *chosen);

#endif /* SPRY_MAILBOX_H */
