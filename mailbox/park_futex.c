/* SPDX-License-Identifier: MIT */
/*
 * mailbox/park_futex.c: parkers on Linux futexes. Deadlines are absolute
 * CLOCK_MONOTONIC times, which FUTEX_WAIT_BITSET takes directly, so a
 * wait never converts back to a relative timeout that drifts.
 *
 * ck_ec would serve too, but needs these same futex calls supplied as ops
 * and counts events where a parker only needs one shot; a bare futex word
 * says the protocol directly.
 */
#include "mailbox/park.h"

#include "mailbox/atomic.h"

#include <emmintrin.h>
#include <errno.h>
#include <linux/futex.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

/* Pause-loop iterations before sleeping: about a microsecond here. */
#define PARK_SPIN 200

void
spry__futex_wait(uint32_t *addr, uint32_t val, spry_time deadline)
{
	struct timespec  ts;
	struct timespec *tsp = NULL;

	if (deadline != SPRY_TIME_NEVER) {
		ts.tv_sec  = deadline / 1000000000;
		ts.tv_nsec = deadline % 1000000000;
		tsp        = &ts;
	}
	syscall(SYS_futex, addr, FUTEX_WAIT_BITSET | FUTEX_PRIVATE_FLAG, val,
	    tsp, NULL, FUTEX_BITSET_MATCH_ANY);
}

void
spry__futex_wake(uint32_t *addr, int n)
{
	syscall(SYS_futex, addr, FUTEX_WAKE | FUTEX_PRIVATE_FLAG, n, NULL,
	    NULL, 0);
}

bool
spry__parker_fire(spry__parker *p, uint32_t value)
{
	uint32_t s = spry__load_acq(&p->state);

	for (;;) {
		if (s >= SPRY__PARK_TIMEOUT) {
			return false;
		}
		if (spry__cas(&p->state, &s, value)) {
			break;
		}
	}
	if (s == SPRY__PARK_ASLEEP) {
		spry__futex_wake(&p->state, 1);
	}
	return true;
}

uint32_t
spry__parker_wait(spry__parker *p, spry_time deadline)
{
	uint32_t s;

	for (int i = 0; i < PARK_SPIN; i++) {
		s = spry__load_acq(&p->state);
		if (s >= SPRY__PARK_TIMEOUT) {
			return s;
		}
		_mm_pause();
	}
	for (;;) {
		s = spry__load_acq(&p->state);
		if (s >= SPRY__PARK_TIMEOUT) {
			return s;
		}
		if (deadline != SPRY_TIME_NEVER && spry_now() >= deadline) {
			/* Lose to a fire that came in the meantime. */
			if (spry__cas(&p->state, &s, SPRY__PARK_TIMEOUT)) {
				return SPRY__PARK_TIMEOUT;
			}
			continue;
		}
		if (s == SPRY__PARK_AWAKE &&
		    !spry__cas(&p->state, &s, SPRY__PARK_ASLEEP)) {
			continue;
		}
		spry__futex_wait(&p->state, SPRY__PARK_ASLEEP, deadline);
	}
}
