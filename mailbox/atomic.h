/* SPDX-License-Identifier: MIT */
/*
 * mailbox/atomic.h: the atomics spry's own lock-free code uses.
 *
 * Why not ck_pr: ck_pr is inline assembly, which ThreadSanitizer cannot
 * see, so every hand-off through it looks like a data race to TSan and
 * real races would hide among the false ones. The compiler's __atomic
 * builtins emit the same instructions on x86-64 and TSan understands them.
 * Where spry uses a Concurrency Kit structure (ck_ring, ck_stack), TSan
 * is told to ignore the structure's own accesses (spry__tsan_ignore_*)
 * and the hand-off of each item is annotated with spry__tsan_release
 * before the push and spry__tsan_acquire after the pop, which is exactly
 * the ordering the structure provides.
 */
#ifndef SPRY_MAILBOX_ATOMIC_H
#define SPRY_MAILBOX_ATOMIC_H

#include <stdbool.h>
#include <stdint.h>

#define spry__load_relaxed(p) __atomic_load_n((p), __ATOMIC_RELAXED)
#define spry__load_acq(p) __atomic_load_n((p), __ATOMIC_ACQUIRE)
#define spry__store_relaxed(p, v) __atomic_store_n((p), (v), __ATOMIC_RELAXED)
#define spry__store_rel(p, v) __atomic_store_n((p), (v), __ATOMIC_RELEASE)
#define spry__xchg(p, v) __atomic_exchange_n((p), (v), __ATOMIC_SEQ_CST)
#define spry__faa(p, v) __atomic_fetch_add((p), (v), __ATOMIC_SEQ_CST)
#define spry__fas(p, v) __atomic_fetch_sub((p), (v), __ATOMIC_SEQ_CST)
#define spry__for(p, v) __atomic_fetch_or((p), (v), __ATOMIC_SEQ_CST)
#define spry__fand(p, v) __atomic_fetch_and((p), (v), __ATOMIC_SEQ_CST)

/*
 * spry__cas: strong compare-and-swap, full barrier. On failure *expp is
 * updated with the value seen.
 */
#define spry__cas(p, expp, v)                                                 \
	__atomic_compare_exchange_n(                                          \
	    (p), (expp), (v), false, __ATOMIC_SEQ_CST, __ATOMIC_RELAXED)

#if defined(__SANITIZE_THREAD__)
#define SPRY__TSAN 1
#elif defined(__has_feature)
#if __has_feature(thread_sanitizer)
#define SPRY__TSAN 1
#endif
#endif

#ifdef SPRY__TSAN
#include <sanitizer/tsan_interface.h>
/* Exported by the TSan runtime, not declared by gcc's header. */
void __tsan_ignore_thread_begin(void);
void __tsan_ignore_thread_end(void);
#define spry__tsan_release(addr) __tsan_release((void *)(addr))
#define spry__tsan_acquire(addr) __tsan_acquire((void *)(addr))
#define spry__tsan_ignore_begin() __tsan_ignore_thread_begin()
#define spry__tsan_ignore_end() __tsan_ignore_thread_end()
#else
#define spry__tsan_release(addr) ((void)(addr))
#define spry__tsan_acquire(addr) ((void)(addr))
#define spry__tsan_ignore_begin() ((void)0)
#define spry__tsan_ignore_end() ((void)0)
#endif

#endif /* SPRY_MAILBOX_ATOMIC_H */
