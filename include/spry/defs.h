/* SPDX-License-Identifier: MIT */
/*
 * spry/defs.h: the few definitions every other public header needs: the
 * export macro, time types and the monotonic clock. Times are nanoseconds
 * on one monotonic clock; APIs take absolute deadlines inside and convert
 * relative timeouts once, at the edge.
 */
#ifndef SPRY_DEFS_H
#define SPRY_DEFS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#if defined(SPRY_BUILDING) && defined(__GNUC__)
#define SPRY_API __attribute__((visibility("default")))
#else
#define SPRY_API
#endif

/* spry_time: an absolute point on the monotonic clock, in nanoseconds. */
typedef int64_t spry_time;

/* spry_duration: a length of time in nanoseconds. */
typedef int64_t spry_duration;

/* SPRY_TIME_NEVER: a deadline that never comes. */
#define SPRY_TIME_NEVER INT64_MAX

/* Duration helpers: SPRY_MSEC(5) is five milliseconds. */
#define SPRY_USEC(n) ((spry_duration)(n)*1000)
#define SPRY_MSEC(n) ((spry_duration)(n)*1000000)
#define SPRY_SEC(n) ((spry_duration)(n)*1000000000)

/*
 * spry_now returns the current monotonic time (CLOCK_MONOTONIC) in
 * nanoseconds. Never fails, never blocks; safe from any thread.
 */
SPRY_API spry_time spry_now(void);

/*
 * spry_deadline_after converts a relative timeout into an absolute
 * deadline, saturating at SPRY_TIME_NEVER. A negative duration means
 * "no deadline" and gives SPRY_TIME_NEVER.
 */
SPRY_API spry_time spry_deadline_after(spry_duration d);

#endif /* SPRY_DEFS_H */
