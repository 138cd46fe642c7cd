/* SPDX-License-Identifier: MIT */
/*
 * spry/supervisor.h: supervisors, the OTP way. A supervisor is an actor
 * that starts children in order, watches them, restarts them by strategy
 * and stops them in reverse order. Each child runs with its own ctx,
 * derived from the supervisor's: cancelling the supervisor's ctx (or
 * reaching its deadline) ends every child, and the supervisor itself ends
 * only after all of them have. Too many restarts in a period (the restart
 * intensity) make the supervisor stop its children and fail with
 * SPRY_ERESTARTS, which its own supervisor sees as a failure.
 */
#ifndef SPRY_SUPERVISOR_H
#define SPRY_SUPERVISOR_H

#include "spry/actor.h"

/* Strategies: what a child's failure does to its siblings. */
enum spry_strategy {
	SPRY_ONE_FOR_ONE  = 1, /* restart only that child */
	SPRY_ONE_FOR_ALL  = 2, /* stop all, restart all */
	SPRY_REST_FOR_ONE = 3, /* stop and restart it and those after it */
};

/* Restart types: when an ended child is started again. */
enum spry_restart {
	SPRY_PERMANENT = 1, /* always */
	SPRY_TRANSIENT = 2, /* only after an abnormal exit */
	SPRY_TEMPORARY = 3, /* never */
};

/* SPRY_SHUTDOWN_BRUTAL: a shutdown timeout that kills at once. */
#define SPRY_SHUTDOWN_BRUTAL ((spry_duration)-1)

/*
 * spry_child_start_fn starts one child running under ctx (the child's
 * own ctx, derived from the supervisor's; the child must end when it
 * ends, which actors spawned with it do) and hands out a reference to it
 * in *child, which the supervisor takes over. Returns 0 or an error code
 * (the start then counts as a failure of the child). Runs in the
 * supervisor's actor: it must not block.
 */
typedef int (*spry_child_start_fn)(
    spry_ctx *ctx, void *arg, spry_actor **child);

/* spry_child_spec: one child of a supervisor. */
typedef struct spry_child_spec {
	const char         *name;     /* for diagnostics; may be NULL */
	spry_child_start_fn start;    /* required */
	void               *arg;      /* last argument of start */
	int                 restart;  /* spry_restart; 0: SPRY_PERMANENT */
	spry_duration       shutdown; /* grace before a kill on stop; 0: 5 s;
	                                 SPRY_SHUTDOWN_BRUTAL: kill at once */
} spry_child_spec;

/*
 * spry_supervisor_opts: supervisor settings. Begin from
 * SPRY_SUPERVISOR_OPTS_INIT. The children array is copied.
 */
typedef struct spry_supervisor_opts {
	size_t                 size;      /* sizeof(spry_supervisor_opts) */
	int                    strategy;  /* spry_strategy; 0: ONE_FOR_ONE */
	unsigned               intensity; /* restarts allowed per period */
	spry_duration          period;    /* 0: 5 s */
	spry_ctx              *ctx;       /* parent ctx; NULL: background */
	const spry_child_spec *children;  /* started in this order */
	size_t                 nchildren;
} spry_supervisor_opts;

/* OTP's defaults: one-for-one, at most 1 restart in 5 seconds. */
#define SPRY_SUPERVISOR_OPTS_INIT                                             \
	{                                                                     \
		sizeof(spry_supervisor_opts), SPRY_ONE_FOR_ONE, 1,            \
		    SPRY_SEC(5), NULL, NULL, 0                                \
	}

/*
 * spry_supervisor_start spawns a supervisor actor that starts the
 * children in order. When out is not NULL the caller gets a reference to
 * the supervisor actor: stop it with spry_actor_stop (or cancel its ctx),
 * wait for it with spry_actor_wait, release it when done. Do not send it
 * messages: it ignores them and cannot free them.
 * When the supervisor's ctx ends, every child's ctx ends with it at once
 * (as in Go), so siblings stop concurrently; stops the supervisor makes
 * itself (spry_actor_stop on it, restarts, the intensity limit) go one
 * child at a time in reverse start order. Either way the supervisor ends
 * only after all its children have. A child that
 * fails to start makes the supervisor stop the ones already started and
 * end with that child's error. Errors: SPRY_EINVAL (bad opts or spec),
 * SPRY_ENOMEM, and those of spry_actor_spawn.
 */
SPRY_API int spry_supervisor_start(
    spry_actor **out, const spry_supervisor_opts *opts);

/*
 * spry_supervisor_restarts returns how many restarts the supervisor has
 * performed so far (a snapshot; safe from any thread), and the final
 * count once it has ended. A restart whose start fails counts, and is
 * retried. 0 for an actor that is not a supervisor.
 */
SPRY_API uint64_t spry_supervisor_restarts(spry_actor *sup);

#endif /* SPRY_SUPERVISOR_H */
