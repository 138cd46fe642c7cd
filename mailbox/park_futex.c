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
#include <poll.h>
#include <pthread.h>
#include <sys/eventfd.h>
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
	} else if (s == SPRY__PARK_POLLING) {
		uint64_t one = 1;

		/* p->efd was set before POLLING was; p is still there (see
		   spry__parker_wait_fd) */
		(void)!write(p->efd, &one, sizeof(one));
	}
	return true;
}

/*
 * Whether p's wait is over: fired, or past deadline, where it times out
 * unless a fire came in the meantime (then it looks again). *s is the
 * state seen: the final one when over.
 */
static bool
park_over(spry__parker *p, spry_time deadline, uint32_t *s)
{
	for (;;) {
		*s = spry__load_acq(&p->state);
		if (*s >= SPRY__PARK_TIMEOUT) {
			return true;
		}
		if (deadline == SPRY_TIME_NEVER || spry_now() < deadline) {
			return false;
		}
		if (spry__cas(&p->state, s, SPRY__PARK_TIMEOUT)) {
			*s = SPRY__PARK_TIMEOUT;
			return true;
		}
	}
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
		if (park_over(p, deadline, &s)) {
			return s;
		}
		if (s == SPRY__PARK_AWAKE &&
		    !spry__cas(&p->state, &s, SPRY__PARK_ASLEEP)) {
			continue;
		}
		spry__futex_wait(&p->state, SPRY__PARK_ASLEEP, deadline);
	}
}

/*
 * The eventfd a thread polls beside a descriptor, made on its first such
 * wait and closed when the thread exits: no fire can still be writing it
 * then, since a fire runs while its waiter is inside the wait.
 */
static pthread_key_t      park_key;
static pthread_once_t     park_once = PTHREAD_ONCE_INIT;
static _Thread_local int  park_efd  = -1;
static _Thread_local bool park_keyed;

static void
park_efd_close(void *arg)
{
	(void)close((int)(intptr_t)arg - 1);
}

static void
park_key_make(void)
{
	(void)pthread_key_create(&park_key, park_efd_close);
}

/* This thread's eventfd, or -1 when none can be made. */
static int
park_efd_get(void)
{
	if (park_efd < 0 && !park_keyed) {
		park_keyed = true; /* one try per thread */
		(void)pthread_once(&park_once, park_key_make);
		park_efd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
		if (park_efd >= 0 &&
		    pthread_setspecific(
		        park_key, (void *)(intptr_t)(park_efd + 1)) != 0) {
			(void)close(park_efd);
			park_efd = -1;
		}
	}
	return park_efd;
}

/* Sleep in poll() on fd and efd until either is ready or deadline. */
static void
park_poll(int fd, int efd, spry_time deadline)
{
	struct pollfd    pfd[2] = {{fd, POLLIN, 0}, {efd, POLLIN, 0}};
	struct timespec  ts;
	struct timespec *tsp = NULL;
	spry_time        now;
	uint64_t         v;

	if (deadline != SPRY_TIME_NEVER) {
		now        = spry_now();
		now        = deadline > now ? deadline - now : 0;
		ts.tv_sec  = now / 1000000000;
		ts.tv_nsec = now % 1000000000;
		tsp        = &ts;
	}
	if (ppoll(pfd, 2, tsp, NULL) > 0 && pfd[1].revents != 0) {
		(void)!read(
		    efd, &v, sizeof(v)); /* a fire's, maybe an old one */
	}
}

uint32_t
spry__parker_wait_fd(spry__parker *p, spry_time deadline, int fd)
{
	int      efd = park_efd_get();
	uint32_t s;

	if (efd < 0) {
		return spry__parker_wait(p, deadline);
	}
	p->efd = efd;
	for (;;) {
		if (park_over(p, deadline, &s)) {
			return s;
		}
		if (!spry__cas(&p->state, &s, SPRY__PARK_POLLING)) {
			continue;
		}
		park_poll(fd, efd, deadline);
		s = SPRY__PARK_POLLING;
		if (spry__cas(&p->state, &s, SPRY__PARK_AWAKE)) {
			/* Not fired: fd is ready, the deadline came, or an
			   old fire's write woke us. */
			if (deadline == SPRY_TIME_NEVER ||
			    spry_now() < deadline) {
				return SPRY__PARK_AWAKE;
			}
		}
	}
}
