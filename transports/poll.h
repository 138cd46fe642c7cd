/* SPDX-License-Identifier: MIT */
/*
 * transports/poll.h: the I/O engine of the stream transports (tcp, ipc).
 * One poller thread per process waits for readiness of non-blocking
 * descriptors, runs deadlines and runs work that other threads post to
 * it, all through callbacks on the items that the transports register.
 * The backend is chosen at build time (transports/poll_epoll.c: Linux
 * epoll, edge-triggered); this header is all the transports see.
 *
 * Lifetime: the thread starts on the first spry__poll_start (lazily,
 * once) and then lives as long as the process; it holds no spry
 * allocation, only static state and two descriptors (the epoll set and
 * an eventfd), so the leak checks of tests are not affected. This is
 * the one piece of process-wide state outside the runtime.
 *
 * Threads. Callbacks run on the poller thread, one at a time, never
 * with a lock of the poller held, so they may post, arm timers and call
 * into the socket core. Per turn the poller runs the I/O callbacks of
 * one batch of events, then the deadlines that passed, then the posted
 * work. So an item retired from a post callback is never touched again
 * by an event of a batch already fetched: that is how the owners free
 * items safely (see spry__poll_post).
 */
#ifndef SPRY_TRANSPORTS_POLL_H
#define SPRY_TRANSPORTS_POLL_H

#include "spry/defs.h"

#include <stdbool.h>

typedef struct spry__poll_item spry__poll_item;

/* Readiness bits given to io_cb. */
#define SPRY__POLL_IN 1u  /* readable (data, end of stream or error) */
#define SPRY__POLL_OUT 2u /* writable, or a connect completed */
#define SPRY__POLL_ERR 4u /* an error or a hang-up on both directions */

/*
 * spry__poll_item: one registration, embedded in its owner's struct.
 * The owner sets fd and the callbacks before registering or posting,
 * and keeps the item alive until it has retired it (see
 * spry__poll_post); the rest belongs to the poller.
 */
struct spry__poll_item {
	int fd; /* the descriptor (owner; fixed while registered) */
	/* io_cb: fd became ready (poller thread); ev: SPRY__POLL_* bits */
	void (*io_cb)(spry__poll_item *it, unsigned ev);
	/* post_cb: ops posted since the last call (poller thread) */
	void (*post_cb)(spry__poll_item *it, unsigned ops);
	/* timer_cb: the deadline set with spry__poll_timer passed */
	void (*timer_cb)(spry__poll_item *it);
	spry__poll_item *pnext;  /* in the post list (post lock) */
	unsigned         posted; /* ops posted, not yet run (post lock) */
	bool             queued; /* linked in the post list (post lock) */
	spry__poll_item *tprev;  /* in the deadline list (poller thread) */
	spry__poll_item *tnext;  /* in the deadline list (poller thread) */
	spry_time        when;   /* deadline; 0: none (poller thread) */
};

/*
 * spry__poll_start starts the poller thread if it is not running (once
 * per process; every later call returns the first call's result).
 * Returns 0, or SPRY_ENOFILES / SPRY_ENOMEM when the epoll set, the
 * eventfd or the thread could not be made. Any thread.
 */
int spry__poll_start(void);

/*
 * spry__poll_add registers it->fd for input and output readiness, edge
 * triggered: io_cb runs when the state changes, so an owner reads and
 * writes until EAGAIN (or posts itself more work) before it waits.
 * Any thread (the item must be complete first: events may come at
 * once). Returns 0 or an spry error.
 */
int spry__poll_add(spry__poll_item *it);

/*
 * spry__poll_del removes it->fd from the set. Any thread; events already
 * fetched may still reach io_cb in the poller's current turn, so the
 * owner frees the item only from a later post (see spry__poll_post).
 */
void spry__poll_del(spry__poll_item *it);

/*
 * spry__poll_post asks the poller to run it->post_cb with ops (nonzero
 * bits of the owner's choosing; posts not yet run are merged, so each
 * bit says "at least once more"). Any thread, any lock held that the
 * poller callbacks do not wait for. Returns true when this call queued
 * the item, false when it was queued already (the ops were merged): an
 * owner that counts references takes one before posting and gives it
 * back when this says false, or in post_cb. The item must stay valid
 * until post_cb has run.
 */
bool spry__poll_post(spry__poll_item *it, unsigned ops);

/*
 * spry__poll_timer sets the item's one deadline: timer_cb runs on the
 * poller thread once `when` passes; 0 removes it. Poller thread only.
 */
void spry__poll_timer(spry__poll_item *it, spry_time when);

/* spry__poll_on_thread says whether the caller is the poller thread. */
bool spry__poll_on_thread(void);

#endif /* SPRY_TRANSPORTS_POLL_H */
