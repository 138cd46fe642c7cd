/* SPDX-License-Identifier: MIT */
/*
 * mailbox/clock.c: the one monotonic clock behind every deadline.
 */
#include "spry/defs.h"

#include <time.h>

spry_time
spry_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (spry_time)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

spry_time
spry_deadline_after(spry_duration d)
{
	spry_time now;

	if (d < 0) {
		return SPRY_TIME_NEVER; /* no clock read for "forever" */
	}
	now = spry_now();
	if (d > SPRY_TIME_NEVER - now) {
		return SPRY_TIME_NEVER;
	}
	return now + d;
}
