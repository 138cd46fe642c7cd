/* SPDX-License-Identifier: MIT */
/*
 * tests/support/support.h: helpers shared by the cmocka tests: runtime
 * setup and a teardown that stops spry and asserts nothing is left.
 */
#ifndef SPRY_TESTS_SUPPORT_H
#define SPRY_TESTS_SUPPORT_H

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "spry/spry.h"

/* spry_test_up: cmocka setup; starts the runtime with 2 workers. */
int spry_test_up(void **state);

/*
 * spry_test_down: cmocka teardown; stops the runtime and fails the test
 * if any spry allocation or ctx is still live.
 */
int spry_test_down(void **state);

/*
 * Reports: what actors tell the test thread, through one mailbox (deep
 * enough that a put never finds it full). spry_test_up_reports and
 * spry_test_down_reports are spry_test_up and spry_test_down that also
 * open it and free what is left in it. spry_test_put from any thread or
 * actor; spry_test_get waits for the next report, at most 20 s (a guard
 * against hangs: nothing asserts a duration).
 */
typedef struct spry_test_report {
	int      what; /* the test's own code for what happened */
	int      a;    /* a small number: a result, a tag */
	uint64_t b;    /* a large one: an id, a count */
} spry_test_report;

int              spry_test_up_reports(void **state);
int              spry_test_down_reports(void **state);
void             spry_test_put(int what, int a, uint64_t b);
spry_test_report spry_test_get(void);
size_t           spry_test_reports_queued(void);

/*
 * spry_test_report_rescues prints how many parked selects had to rescue
 * themselves (spry__select_rescues) since it last printed, if any: lost
 * or late wakes.
 */
void spry_test_report_rescues(void);

/* spry_test_assert_clean fails unless nothing of spry is live. */
void spry_test_assert_clean(void);

/* spry_test_item makes a test item out of a small number. */
static inline void *
spry_test_item(uintptr_t v)
{
	return (void *)v;
}

/*
 * spry_test_waiters counts the threads parked on mb for direction dir
 * (SPRY_SELECT_RECV or SPRY_SELECT_SEND), reading the waiter lists.
 */
size_t spry_test_waiters(spry_mailbox *mb, int dir);

/*
 * spry_test_await_waiters waits, yielding, until at least n threads are
 * parked on mb for dir: how a test knows a thread is blocked without
 * sleeping. False after 30 s, which only a bug reaches.
 */
bool spry_test_await_waiters(spry_mailbox *mb, int dir, size_t n);

/*
 * spry_test_u32_msg makes a message whose body is the big-endian word v;
 * the caller owns it. Asserts on failure.
 */
spry_msg *spry_test_u32_msg(uint32_t v);

/*
 * spry_test_u32_val takes the first word off m's body, frees m and
 * returns the word. Asserts on failure.
 */
uint32_t spry_test_u32_val(spry_msg *m);

/* spry_test_check: assert that a spry call returned want, naming both. */
#define spry_test_check(call, want)                                           \
	do {                                                                  \
		int rv_ = (call);                                             \
		if (rv_ != (want)) {                                          \
			fail_msg("%s = %d (%s), want %d (%s)", #call, rv_,    \
			    spry_strerror(rv_), (int)(want),                  \
			    spry_strerror(want));                             \
		}                                                             \
	} while (0)

#endif /* SPRY_TESTS_SUPPORT_H */
