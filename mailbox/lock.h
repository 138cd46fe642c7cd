/* SPDX-License-Identifier: MIT */
/*
 * mailbox/lock.h: a one-word spinlock for short slow-path sections
 * (waiter lists, ctx trees, the timer heap). It spins briefly, then yields
 * so a preempted holder can run; nothing in spry sleeps while holding it.
 */
#ifndef SPRY_MAILBOX_LOCK_H
#define SPRY_MAILBOX_LOCK_H

#include <emmintrin.h>
#include <sched.h>
#include <stdbool.h>
#include <stdint.h>

static inline void
spry__spin_lock(uint32_t *l)
{
	for (unsigned spins = 0;; spins++) {
		if (__atomic_load_n(l, __ATOMIC_RELAXED) == 0 &&
		    __atomic_exchange_n(l, 1, __ATOMIC_ACQUIRE) == 0) {
			return;
		}
		if (spins < 64) {
			_mm_pause();
		} else {
			sched_yield();
		}
	}
}

/* spry__spin_trylock takes l if it is free; whether it did. */
static inline bool
spry__spin_trylock(uint32_t *l)
{
	return __atomic_load_n(l, __ATOMIC_RELAXED) == 0 &&
	    __atomic_exchange_n(l, 1, __ATOMIC_ACQUIRE) == 0;
}

static inline void
spry__spin_unlock(uint32_t *l)
{
	__atomic_store_n(l, 0, __ATOMIC_RELEASE);
}

#endif /* SPRY_MAILBOX_LOCK_H */
