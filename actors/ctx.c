/* SPDX-License-Identifier: MIT */
/*
 * actors/ctx.c: the ctx tree. Each node has a spinlock guarding its
 * children, watches and done mailbox; locks are taken parent before child,
 * so ending a node walks its subtree in O(subtree) with no thread or actor
 * per link. The background ctx is a static node that never ends, so
 * children of it are not linked anywhere and cost no shared lock.
 *
 * A deadline is one timer entry holding a reference on its ctx; ending
 * the ctx early, directly or through an ancestor, disarms it and drops
 * that reference.
 */
#include "actors/ctx.h"

#include "actors/timer.h"
#include "mailbox/alloc.h"
#include "mailbox/atomic.h"
#include "mailbox/lock.h"
#include "spry/error.h"
#include "spry/mailbox.h"

#include <stddef.h>

struct spry_ctx {
	uint32_t         refs;     /* references (atomic) */
	uint32_t         lock;     /* guards the fields marked (lock) */
	int              err;      /* 0 or why it ended (atomic; lock) */
	int              cause;    /* cancel cause (lock; then fixed) */
	bool             root;     /* the background ctx */
	spry_time        deadline; /* effective deadline; fixed */
	spry_ctx        *parent;   /* holds a reference; NULL: background */
	spry_ctx        *child;    /* first child (lock) */
	spry_ctx        *next;     /* sibling (parent's lock) */
	spry_ctx        *prev;     /* sibling (parent's lock) */
	spry__ctx_watch *watches;  /* callbacks (lock) */
	spry_mailbox    *done;     /* made on demand (lock) */
	spry__timer      timer;    /* deadline timer, holds a ref */
	spry_ctx        *reap;     /* next disarmed node (the ender's) */
};

static spry_ctx background = {
    .refs = 1, .root = true, .deadline = SPRY_TIME_NEVER};

#ifdef SPRY_COUNT_ALLOCS
static int64_t ctx_live;
#endif

int64_t
spry__ctx_live(void)
{
#ifdef SPRY_COUNT_ALLOCS
	return spry__load_acq(&ctx_live);
#else
	return -1;
#endif
}

spry_ctx *
spry_ctx_background(void)
{
	return &background;
}

static inline spry_ctx *
ctx_or_root(const spry_ctx *ctx)
{
	return ctx == NULL ? &background : (spry_ctx *)ctx;
}

/*
 * End ctx and its subtree with err. Called with the parent's lock held
 * when walking a subtree, so nothing here may release a reference (that
 * could free a child, which takes the parent's lock). Every node it ends
 * has its deadline timer disarmed here and, if that took the timer's
 * reference, is pushed on *reap for the caller to release once no lock
 * is held. Descendants' timers must go too, not only the node ended
 * directly: left armed, a timer keeps its ctx and, through parent
 * references, every ancestor alive until its deadline, however far off,
 * although the header promises a canceled ctx is let go (Go stops the
 * timers of canceled children too). Lock order: ctx, then timer heap.
 */
static void
ctx_end_tree(spry_ctx *ctx, int err, int cause, spry_ctx **reap)
{
	spry__ctx_watch *w;

	spry__spin_lock(&ctx->lock);
	if (ctx->err != 0) {
		spry__spin_unlock(&ctx->lock);
		return;
	}
	spry__store_rel(&ctx->err, err);
	ctx->cause = cause;
	if (spry__timer_disarm(&ctx->timer)) {
		ctx->reap = *reap; /* only the one ender writes this */
		*reap     = ctx;
	}
	while ((w = ctx->watches) != NULL) {
		ctx->watches = w->next;
		if (w->next != NULL) {
			w->next->prev = NULL;
		}
		w->next = w->prev = NULL;
		w->cb(w, err);
	}
	if (ctx->done != NULL) {
		spry_mailbox_close(ctx->done);
	}
	/*
	 * Newest children first: the reverse of their start order. A child
	 * cannot unlink itself meanwhile, since that needs our lock.
	 */
	for (spry_ctx *c = ctx->child; c != NULL; c = c->next) {
		ctx_end_tree(c, err, cause, reap);
	}
	spry__spin_unlock(&ctx->lock);
}

/* End ctx and its subtree; no lock held. */
static void
ctx_end(spry_ctx *ctx, int err, int cause)
{
	spry_ctx *reap = NULL;

	ctx_end_tree(ctx, err, cause, &reap);
	/* Each still has the timer's reference, so none is freed early. */
	while (reap != NULL) {
		spry_ctx *next = reap->reap;

		spry_ctx_release(reap); /* the timer's reference */
		reap = next;
	}
}

static void
ctx_free(spry_ctx *ctx)
{
	spry_ctx *p = ctx->parent;

	if (p != NULL) {
		spry__spin_lock(&p->lock);
		if (ctx->prev != NULL) {
			ctx->prev->next = ctx->next;
		} else {
			p->child = ctx->next;
		}
		if (ctx->next != NULL) {
			ctx->next->prev = ctx->prev;
		}
		spry__spin_unlock(&p->lock);
	}
	if (ctx->done != NULL) {
		spry_mailbox_release(ctx->done);
	}
	spry__free(ctx, sizeof(*ctx));
#ifdef SPRY_COUNT_ALLOCS
	spry__faa(&ctx_live, -1);
#endif
	if (p != NULL) {
		spry_ctx_release(p);
	}
}

void
spry_ctx_hold(spry_ctx *ctx)
{
	if (ctx != NULL && !ctx->root) {
		spry__faa(&ctx->refs, 1);
	}
}

void
spry_ctx_release(spry_ctx *ctx)
{
	if (ctx != NULL && !ctx->root && spry__fas(&ctx->refs, 1) == 1) {
		ctx_free(ctx);
	}
}

/* The deadline timer: end the ctx, then drop the timer's reference. */
static void
ctx_timer_cb(spry__timer *t)
{
	spry_ctx *ctx = (spry_ctx *)((char *)t - offsetof(spry_ctx, timer));

	if (t->when != SPRY_TIME_NEVER) { /* not dropped by a stop */
		ctx_end(ctx, SPRY_ETIMEDOUT, SPRY_ETIMEDOUT);
	}
	spry_ctx_release(ctx);
}

static int
ctx_new(spry_ctx **out, spry_ctx *parent, spry_time deadline)
{
	spry_ctx *ctx;
	int       perr, pcause;

	if (out == NULL) {
		return SPRY_EINVAL;
	}
	parent = ctx_or_root(parent);
	if ((ctx = spry__alloc(sizeof(*ctx))) == NULL) {
		return SPRY_ENOMEM;
	}
#ifdef SPRY_COUNT_ALLOCS
	spry__faa(&ctx_live, 1);
#endif
	ctx->refs = 1;
	ctx->deadline =
	    deadline < parent->deadline ? deadline : parent->deadline;
	spry__timer_init(&ctx->timer, ctx_timer_cb);
	perr = pcause = 0;
	if (!parent->root) {
		spry_ctx_hold(parent);
		ctx->parent = parent;
		spry__spin_lock(&parent->lock);
		perr      = parent->err;
		pcause    = parent->cause;
		ctx->next = parent->child;
		if (ctx->next != NULL) {
			ctx->next->prev = ctx;
		}
		parent->child = ctx;
		spry__spin_unlock(&parent->lock);
	}
	*out = ctx;
	if (perr != 0) {
		ctx_end(ctx, perr, pcause);
	} else if (deadline < parent->deadline) {
		/* Our own deadline is the earlier one: we need a timer. */
		if (deadline <= spry_now()) {
			ctx_end(ctx, SPRY_ETIMEDOUT, SPRY_ETIMEDOUT);
		} else {
			spry_ctx_hold(ctx);
			if (spry__timer_arm(&ctx->timer, deadline) != 0) {
				spry_ctx_release(ctx); /* drop the timer's */
				spry_ctx_release(ctx);
				*out = NULL;
				return SPRY_ENOMEM;
			}
			/*
			 * The parent may have ended us after we were linked
			 * and before the arm, finding no timer to disarm:
			 * its err was stored before its disarm, so we see it
			 * here and take the timer back ourselves.
			 */
			if (spry__load_acq(&ctx->err) != 0 &&
			    spry__timer_disarm(&ctx->timer)) {
				spry_ctx_release(ctx);
			}
		}
	}
	return 0;
}

int
spry_ctx_with_cancel(spry_ctx **out, spry_ctx *parent)
{
	return ctx_new(out, parent, SPRY_TIME_NEVER);
}

int
spry_ctx_with_deadline(spry_ctx **out, spry_ctx *parent, spry_time deadline)
{
	return ctx_new(out, parent, deadline);
}

int
spry_ctx_with_timeout(spry_ctx **out, spry_ctx *parent, spry_duration timeout)
{
	return ctx_new(out, parent, spry_deadline_after(timeout));
}

void
spry_ctx_cancel(spry_ctx *ctx)
{
	spry_ctx_cancel_cause(ctx, SPRY_ECANCELED);
}

void
spry_ctx_cancel_cause(spry_ctx *ctx, int cause)
{
	if (ctx != NULL && !ctx->root) {
		ctx_end(ctx, SPRY_ECANCELED, cause);
	}
}

int
spry_ctx_err(const spry_ctx *cctx)
{
	spry_ctx *ctx = ctx_or_root(cctx);
	int       err = spry__load_acq(&ctx->err);

	/* A deadline counts as soon as it passes, timer or not. */
	if (err == 0 && ctx->deadline != SPRY_TIME_NEVER &&
	    spry_now() >= ctx->deadline) {
		ctx_end(ctx, SPRY_ETIMEDOUT, SPRY_ETIMEDOUT);
		err = spry__load_acq(&ctx->err);
	}
	return err;
}

int
spry_ctx_cause(const spry_ctx *cctx)
{
	spry_ctx *ctx = ctx_or_root(cctx);
	int       err = spry_ctx_err(ctx);
	int       cause;

	if (err == 0) {
		return 0;
	}
	spry__spin_lock(&ctx->lock);
	cause = ctx->cause;
	spry__spin_unlock(&ctx->lock);
	return cause;
}

spry_time
spry_ctx_deadline(const spry_ctx *ctx)
{
	return ctx_or_root(ctx)->deadline;
}

spry_mailbox *
spry_ctx_done(spry_ctx *ctx)
{
	spry_mailbox *mb;

	ctx = ctx_or_root(ctx);
	if (ctx->root) {
		return NULL;
	}
	spry__spin_lock(&ctx->lock);
	if (ctx->done == NULL && spry_mailbox_open(&ctx->done, 1) == 0 &&
	    ctx->err != 0) {
		spry_mailbox_close(ctx->done);
	}
	mb = ctx->done;
	spry__spin_unlock(&ctx->lock);
	return mb;
}

int
spry__ctx_watch_add(spry_ctx *ctx, spry__ctx_watch *w)
{
	int err;

	ctx = ctx_or_root(ctx);
	if (ctx->root) {
		return 0;
	}
	spry__spin_lock(&ctx->lock);
	if ((err = ctx->err) == 0) {
		w->prev = NULL;
		w->next = ctx->watches;
		if (w->next != NULL) {
			w->next->prev = w;
		}
		ctx->watches = w;
	}
	spry__spin_unlock(&ctx->lock);
	return err;
}

void
spry__ctx_watch_del(spry_ctx *ctx, spry__ctx_watch *w)
{
	ctx = ctx_or_root(ctx);
	if (ctx->root) {
		return;
	}
	spry__spin_lock(&ctx->lock);
	if (w->prev != NULL || ctx->watches == w) { /* still linked */
		if (w->prev != NULL) {
			w->prev->next = w->next;
		} else {
			ctx->watches = w->next;
		}
		if (w->next != NULL) {
			w->next->prev = w->prev;
		}
		w->next = w->prev = NULL;
	}
	spry__spin_unlock(&ctx->lock);
}
