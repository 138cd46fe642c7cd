/* SPDX-License-Identifier: MIT */
/*
 * actors/ctx.h: ctx internals for the runtime: watches, the callback
 * form of cancellation (Go's AfterFunc without a goroutine). Actors use a
 * watch to hear that the ctx they run under has ended.
 */
#ifndef SPRY_ACTORS_CTX_H
#define SPRY_ACTORS_CTX_H

#include "spry/ctx.h"

/*
 * spry__ctx_watch: a callback registered on a ctx, embedded in its owner
 * (every actor has one, so it is kept to three words: whether it is
 * linked is read off the list itself).
 */
typedef struct spry__ctx_watch {
	struct spry__ctx_watch *next; /* in the ctx's list (ctx lock) */
	struct spry__ctx_watch *prev; /* (ctx lock) */
	void (*cb)(struct spry__ctx_watch *w, int err); /* on end */
} spry__ctx_watch;

/*
 * spry__ctx_watch_add registers w->cb to run once when ctx ends. The
 * callback runs under the ctx's lock on the thread that ends the ctx: it
 * must be short and must not call into this ctx. Returns 0, or the ctx's
 * error if it has already ended (the callback is then not called). The
 * background ctx never ends: 0 and nothing registered.
 */
int spry__ctx_watch_add(spry_ctx *ctx, spry__ctx_watch *w);

/*
 * spry__ctx_watch_del unregisters w; after it returns the callback is not
 * running and will not run.
 */
void spry__ctx_watch_del(spry_ctx *ctx, spry__ctx_watch *w);

/* spry__ctx_live returns the number of live ctx objects (for tests). */
int64_t spry__ctx_live(void);

#endif /* SPRY_ACTORS_CTX_H */
