/* SPDX-License-Identifier: MIT */
/*
 * spry/runtime.h: the runtime: worker threads that run actors (work
 * stealing, one local run queue and a run-next slot per worker) and the one
 * timer structure behind every deadline. It is the only process-wide state
 * in spry, so it has an explicit start and a clean stop. Anything that
 * needs it (spawning an actor, a ctx with a deadline) starts it with
 * defaults when it is not running.
 */
#ifndef SPRY_RUNTIME_H
#define SPRY_RUNTIME_H

#include "spry/defs.h"

/*
 * spry_runtime_opts: start settings. Begin from SPRY_RUNTIME_OPTS_INIT so
 * fields added later get their defaults.
 */
typedef struct spry_runtime_opts {
	size_t   size;    /* sizeof(spry_runtime_opts) */
	unsigned workers; /* worker threads; 0: one per online CPU */
	unsigned batch;   /* messages an actor runs per turn; 0: 64 */
} spry_runtime_opts;

#define SPRY_RUNTIME_OPTS_INIT                                                \
	{                                                                     \
		sizeof(spry_runtime_opts), 0, 0                               \
	}

/* SPRY_RUNTIME_MAX_WORKERS: the most workers a runtime can have. */
#define SPRY_RUNTIME_MAX_WORKERS 256

/*
 * spry_runtime_start starts the runtime with opts (NULL: defaults).
 * Errors: SPRY_EBUSY (already running), SPRY_EINVAL (bad opts, workers
 * over SPRY_RUNTIME_MAX_WORKERS), SPRY_ENOMEM, SPRY_ENOFILES (no thread).
 */
SPRY_API int spry_runtime_start(const spry_runtime_opts *opts);

/*
 * spry_runtime_stop ends every live actor (each gets SPRY_EV_CANCEL, as
 * if stopped, and is killed if it does not end), waits until all have
 * ended, drops every pending timer, joins the workers and frees what the
 * runtime holds. Afterwards nothing of the runtime is left (no thread, fd
 * or memory) and it may be started again. Blocks; must not be called from
 * actor code (SPRY_ESTATE). Stopping a runtime that is not running
 * returns 0.
 */
SPRY_API int spry_runtime_stop(void);

/*
 * spry_runtime_workers returns the number of workers of the running
 * runtime, or 0 when it is not running.
 */
SPRY_API unsigned spry_runtime_workers(void);

#endif /* SPRY_RUNTIME_H */
