/* SPDX-License-Identifier: MIT */
/*
 * bench/perf_ends.h: the four ends of NNG's (and nanomsg's, and
 * ZeroMQ's) remote performance tools, for spry, NNG (libnng 1.5),
 * ZeroMQ (libzmq 4) and nanomsg (libnanomsg 1.1), behind one table so
 * that a driver can run each library the same way. The ends keep NNG's
 * names and arguments (url, message size, count):
 *
 *   local_lat   REP, listens: receives count requests and sends each
 *               back as the reply.
 *   remote_lat  REQ, dials: makes count round trips of size-byte
 *               requests and measures ns per round trip. (NNG's own
 *               local_lat/remote_lat use PAIR and halve the time; these
 *               use REQ/REP and do not halve: a figure is a whole round
 *               trip through each library's REQ/REP protocol.)
 *   local_thr   PULL, listens: receives count size-byte messages and
 *               measures messages per second.
 *   remote_thr  PUSH, dials: sends count size-byte messages, each newly
 *               allocated, as fast as the socket takes them.
 *
 * The measuring end starts its clock when the first message (the first
 * reply) arrives, so connecting is not timed: a latency is the mean of
 * count - 1 round trips, a rate counts count - 1 messages. Every message
 * carries its sequence number in its first bytes and is checked on
 * receipt with its length; a lost, reordered or wrong message makes the
 * end return non-zero after saying so on stderr. A library call that
 * fails ends the program (bench_fail).
 *
 * Closing. The end that sends last (local_lat, remote_thr) must not
 * close its socket before its peer has everything, or a library may drop
 * what it still has queued. When the caller can tell (bench/tcp_perf
 * knows when the other end has returned), it says so through done_cb;
 * then, and always when run alone, the end waits until its peer has
 * closed the connection: spry and NNG watch their pipe count, nanomsg its
 * connection statistic, ZeroMQ lingers (up to 10 s). done_cb exists
 * because lingering was not enough: once, in an ipc run in one process,
 * ZeroMQ's PULL end never got the last messages after its PUSH peer
 * closed (the cause was not pinned down).
 */
#ifndef SPRY_BENCH_PERF_ENDS_H
#define SPRY_BENCH_PERF_ENDS_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

/* The four ends, in NNG's names. */
enum perf_role {
	PERF_LOCAL_LAT,
	PERF_REMOTE_LAT,
	PERF_LOCAL_THR,
	PERF_REMOTE_THR,
	PERF_NROLES,
};

/* PERF_DEFAULT_BUF: queue depth in messages; ZeroMQ's default HWM. */
#define PERF_DEFAULT_BUF 1000

/* perf_args: what one end is asked to do; the caller's, read only. */
typedef struct perf_args {
	const char *url;   /* local ends listen on it, remote ends dial it */
	size_t      size;  /* bytes per message */
	uint64_t    count; /* messages or round trips, at least 2 */
	int         buf;   /* queue depth in messages (spry, NNG, ZeroMQ):
	                      see perf_buffers; 0: each library's default */
	/* local ends call ready_cb(ready_arg) once listening; may be NULL */
	void (*ready_cb)(void *arg);
	void *ready_arg; /* for ready_cb */
	/* the last sender calls done_cb(done_arg) before it closes, and it
	   returns once the peer end has all messages; may be NULL */
	void (*done_cb)(void *arg);
	void *done_arg; /* for done_cb */
} perf_args;

/*
 * perf_end_fn runs one end in the calling thread and returns 0, or
 * non-zero when a message was wrong. The measuring ends set *value
 * (remote_lat: ns per round trip; local_thr: messages per second).
 */
typedef int (*perf_end_fn)(const perf_args *a, double *value);

/* perf_lib: one library's ends. */
typedef struct perf_lib {
	const char *name;              /* "spry", "zmq", "nng", "nanomsg" */
	perf_end_fn ends[PERF_NROLES]; /* by perf_role */
} perf_lib;

/* PERF_NLIBS: how many libraries perf_libs holds. */
#define PERF_NLIBS 4

/* perf_libs: spry, zmq, nng, nanomsg, in that order. */
extern const perf_lib perf_libs[PERF_NLIBS];

/* perf_lib_find returns the library called name, or NULL. */
const perf_lib *perf_lib_find(const char *name);

/* perf_role_name returns NNG's name of an end ("local_lat", ...). */
const char *perf_role_name(int role);

/* perf_role_find returns the perf_role called name, or -1. */
int perf_role_find(const char *name);

/*
 * perf_buffers writes one line per library on f, each starting with
 * "# ", saying what buffers a run with queue depth buf gives it.
 */
void perf_buffers(FILE *f, int buf);

#endif /* SPRY_BENCH_PERF_ENDS_H */
