/* SPDX-License-Identifier: MIT */
/*
 * mailbox/park.h: parking a thread until another fires it. A parker is a
 * one-shot 32-bit word: the first fire wins and records a value; the
 * parked thread spins briefly, then sleeps in the kernel (futex), and is
 * woken only if it really went to sleep. Waking costs microseconds here
 * while a queue operation costs nanoseconds, so a fire that finds the
 * waiter awake makes no system call.
 */
#ifndef SPRY_MAILBOX_PARK_H
#define SPRY_MAILBOX_PARK_H

#include "spry/defs.h"

/* Parker states; fired values start at SPRY__PARK_FIRED. */
#define SPRY__PARK_AWAKE 0u   /* waiting, not asleep in the kernel */
#define SPRY__PARK_ASLEEP 1u  /* waiting, asleep: a fire must wake it */
#define SPRY__PARK_POLLING 2u /* asleep in poll(): a fire writes efd */
#define SPRY__PARK_TIMEOUT 3u /* the wait's deadline passed first */
#define SPRY__PARK_FIRED 4u   /* first fired value */

/* spry__parker: one waiter. Guarded by atomics only. */
typedef struct spry__parker {
	uint32_t state; /* one of the values above */
	int      efd;   /* the waiter's eventfd while POLLING; set before it */
} spry__parker;

/* spry__parker_init readies p for one wait. */
static inline void
spry__parker_init(spry__parker *p)
{
	p->state = SPRY__PARK_AWAKE;
	p->efd   = -1;
}

/*
 * spry__parker_fire ends the wait with value (>= SPRY__PARK_FIRED) if no
 * fire or timeout came first; returns whether this call won. Lock-free;
 * any thread. Full barrier before the state change.
 */
bool spry__parker_fire(spry__parker *p, uint32_t value);

/*
 * spry__parker_wait waits until p is fired or deadline passes; returns the
 * fired value or SPRY__PARK_TIMEOUT. Only the owning thread calls it.
 */
uint32_t spry__parker_wait(spry__parker *p, spry_time deadline);

/*
 * spry__parker_wait_fd is spry__parker_wait that also ends when fd turns
 * readable (or hangs up): then it returns SPRY__PARK_AWAKE, and p, not
 * fired, stays usable for another wait. The thread sleeps in poll() on
 * fd and an eventfd of its own, which a fire writes; so every fire of p
 * must run where the waiter cannot have returned (a select's fires run
 * under the lock of the mailbox the waiter is linked to). A thread that
 * reads a connection itself waits so, instead of being handed each
 * message by the thread that would otherwise read it.
 */
uint32_t spry__parker_wait_fd(spry__parker *p, spry_time deadline, int fd);

/*
 * spry__futex_wait sleeps while *addr == val, until woken or deadline
 * (SPRY_TIME_NEVER: no deadline). Spurious returns are possible.
 */
void spry__futex_wait(uint32_t *addr, uint32_t val, spry_time deadline);

/* spry__futex_wake wakes up to n threads sleeping on addr. */
void spry__futex_wake(uint32_t *addr, int n);

#endif /* SPRY_MAILBOX_PARK_H */
