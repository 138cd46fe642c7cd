/* SPDX-License-Identifier: MIT */
/*
 * spry/ctx.h: contexts, Go's context.Context for C. A ctx carries
 * cancellation and a deadline down a tree: ending a node ends every node
 * below it at once, with no thread or actor per link. Every blocking spry
 * call takes a ctx first; NULL means the background ctx, which never ends.
 *
 * Reference counting: a constructor gives the caller one reference, given
 * back with spry_ctx_release. A child holds its parent alive. A ctx with a
 * deadline is also held by its timer until the deadline passes or the ctx
 * is canceled, so, as with Go's cancel function, cancel a ctx you no
 * longer need to free its resources early.
 *
 * Thread safety: all functions may be called from any thread, including
 * actor code; none blocks.
 */
#ifndef SPRY_CTX_H
#define SPRY_CTX_H

#include "spry/defs.h"

typedef struct spry_ctx     spry_ctx;
typedef struct spry_mailbox spry_mailbox;

/*
 * spry_ctx_background returns the root ctx: never canceled, no deadline,
 * not reference counted (hold and release do nothing). Same as NULL.
 */
SPRY_API spry_ctx *spry_ctx_background(void);

/*
 * spry_ctx_with_cancel creates a child of parent (NULL: background) that
 * ends when spry_ctx_cancel is called on it or when parent ends. If
 * parent has already ended, the child starts ended with parent's error.
 * Errors: SPRY_EINVAL (out NULL), SPRY_ENOMEM.
 */
SPRY_API int spry_ctx_with_cancel(spry_ctx **out, spry_ctx *parent);

/*
 * spry_ctx_with_deadline is spry_ctx_with_cancel that also ends with
 * SPRY_ETIMEDOUT at `deadline` (absolute, spry_now's clock). The effective
 * deadline is the earlier of parent's and this one. A deadline already
 * past gives a ctx that has ended. Starts the runtime (for its timer) if
 * it is not running. spry_runtime_stop drops pending deadline timers: a
 * ctx that outlives a stop still reports SPRY_ETIMEDOUT once its deadline
 * passes (spry_ctx_err checks the clock), but nothing closes its done
 * mailbox at the deadline any more. Errors: as spry_ctx_with_cancel, plus
 * SPRY_ECLOSED while the runtime is stopping and the errors of
 * spry_runtime_start.
 */
SPRY_API int spry_ctx_with_deadline(
    spry_ctx **out, spry_ctx *parent, spry_time deadline);

/*
 * spry_ctx_with_timeout is spry_ctx_with_deadline(out, parent,
 * spry_deadline_after(timeout)).
 */
SPRY_API int spry_ctx_with_timeout(
    spry_ctx **out, spry_ctx *parent, spry_duration timeout);

/*
 * spry_ctx_cancel ends ctx and all its descendants with SPRY_ECANCELED.
 * Idempotent: a ctx that has ended keeps its first error. Blocked calls
 * using any of these contexts return at once.
 */
SPRY_API void spry_ctx_cancel(spry_ctx *ctx);

/*
 * spry_ctx_cancel_cause is spry_ctx_cancel that also records why (any
 * int the application chooses, e.g. an SPRY_E* code), readable with
 * spry_ctx_cause on ctx and every descendant it ends.
 */
SPRY_API void spry_ctx_cancel_cause(spry_ctx *ctx, int cause);

/*
 * spry_ctx_err returns 0 while ctx is live, then SPRY_ECANCELED or
 * SPRY_ETIMEDOUT, whichever ended it first (Go's ctx.Err()).
 */
SPRY_API int spry_ctx_err(const spry_ctx *ctx);

/*
 * spry_ctx_cause returns the cause given to spry_ctx_cancel_cause, or the
 * value of spry_ctx_err when none was given (Go's context.Cause).
 */
SPRY_API int spry_ctx_cause(const spry_ctx *ctx);

/*
 * spry_ctx_deadline returns the effective deadline, or SPRY_TIME_NEVER.
 */
SPRY_API spry_time spry_ctx_deadline(const spry_ctx *ctx);

/*
 * spry_ctx_done returns a mailbox that is closed when ctx ends (Go's
 * ctx.Done()), so a ctx can sit in a spry_select as a RECV case, which
 * completes with SPRY_ECLOSED. The mailbox belongs to ctx: do not release
 * it; it lives as long as ctx. Nothing is ever sent on it. Returns NULL
 * only when out of memory, or for the background ctx (it never ends; a
 * NULL select case is never chosen, as in Go).
 */
SPRY_API spry_mailbox *spry_ctx_done(spry_ctx *ctx);

/* spry_ctx_hold takes one more reference on ctx. */
SPRY_API void spry_ctx_hold(spry_ctx *ctx);

/*
 * spry_ctx_release gives back a reference; the ctx is freed when none is
 * left (children and pending timers hold references too). Releasing does
 * not cancel.
 */
SPRY_API void spry_ctx_release(spry_ctx *ctx);

#endif /* SPRY_CTX_H */
