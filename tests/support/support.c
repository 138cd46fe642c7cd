/* SPDX-License-Identifier: MIT */
/*
 * tests/support/support.c: see support.h.
 */
#include "tests/support/support.h"

#include "actors/ctx.h"
#include "mailbox/alloc.h"
#include "mailbox/lock.h"
#include "mailbox/mailbox.h"

#include <sched.h>
#include <stdio.h>
#include <stdlib.h>

/*
 * Line-buffered output, so that a test killed for hanging still shows the
 * name of the case it hung in (meson reads our stdout through a pipe).
 */
__attribute__((constructor)) static void
support_line_buffered(void)
{
	setvbuf(stdout, NULL, _IOLBF, 0);
}

int
spry_test_up(void **state)
{
	spry_runtime_opts opts = SPRY_RUNTIME_OPTS_INIT;

	(void)state;
	opts.workers = 2;
	return spry_runtime_start(&opts) == 0 ? 0 : -1;
}

void
spry_test_report_rescues(void)
{
	static uint64_t reported; /* teardowns run on the test thread */
	uint64_t        n = spry__select_rescues();

	/* Reported, not failed: scripts/test.sh shows these lines. Only the
	   new ones, so that one rescue is not repeated by every teardown
	   after it. */
	if (n > reported) {
		printf(
		    "spry-rescues: %llu parked select(s) found a case ready "
		    "after the re-check with no wake\n",
		    (unsigned long long)(n - reported));
		reported = n;
	}
}

void
spry_test_assert_clean(void)
{
	int64_t live = spry__alloc_live();
	int64_t ctxs = spry__ctx_live();

	if (live > 0 || ctxs > 0) {
		fail_msg("leak: %lld blocks, %lld ctx still live",
		    (long long)live, (long long)ctxs);
	}
}

int
spry_test_down(void **state)
{
	(void)state;
	if (spry_runtime_stop() != 0) {
		return -1;
	}
	spry_test_report_rescues();
	spry_test_assert_clean();
	return 0;
}

size_t
spry_test_waiters(spry_mailbox *mb, int dir)
{
	spry__waiter *head, *w;
	size_t        n = 0;

	spry__spin_lock(&mb->lock);
	head = dir == SPRY_SELECT_RECV ? mb->recvq : mb->sendq;
	for (w = head; w != NULL; w = w->next == head ? NULL : w->next) {
		n++; /* the list is circular: stop when back at its head */
	}
	spry__spin_unlock(&mb->lock);
	return n;
}

bool
spry_test_await_waiters(spry_mailbox *mb, int dir, size_t n)
{
	spry_time limit = spry_deadline_after(SPRY_SEC(30));

	while (spry_test_waiters(mb, dir) < n) {
		if (spry_now() > limit) {
			return false;
		}
		sched_yield();
	}
	return true;
}

spry_msg *
spry_test_u32_msg(uint32_t v)
{
	spry_msg *m;

	assert_int_equal(spry_msg_alloc(&m, 0), 0);
	assert_int_equal(spry_msg_append_u32(m, v), 0);
	return m;
}

uint32_t
spry_test_u32_val(spry_msg *m)
{
	uint32_t v;

	assert_int_equal(spry_msg_trim_u32(m, &v), 0);
	spry_msg_free(m);
	return v;
}

/* ---- reports ------------------------------------------------------------ */

static spry_mailbox *reports;

static void
report_free(void *item, void *arg)
{
	(void)arg;
	free(item);
}

int
spry_test_up_reports(void **state)
{
	spry_mailbox_opts o = SPRY_MAILBOX_OPTS_INIT;

	o.capacity   = 4096;
	o.dispose_cb = report_free;
	assert_int_equal(spry_mailbox_open_opts(&reports, &o), 0);
	return spry_test_up(state);
}

int
spry_test_down_reports(void **state)
{
	(void)state;
	if (spry_runtime_stop() != 0) {
		return -1;
	}
	spry_mailbox_release(reports); /* leftovers go to report_free */
	reports = NULL;
	spry_test_report_rescues();
	spry_test_assert_clean();
	return 0;
}

void
spry_test_put(int what, int a, uint64_t b)
{
	spry_test_report *r = malloc(sizeof(*r));

	assert_non_null(r);
	r->what = what;
	r->a    = a;
	r->b    = b;
	assert_int_equal(spry_mailbox_trysend(reports, r), 0);
}

spry_test_report
spry_test_get(void)
{
	spry_test_report r;
	spry_ctx        *ctx;
	void            *item = NULL;

	assert_int_equal(spry_ctx_with_timeout(&ctx, NULL, SPRY_SEC(20)), 0);
	spry_test_check(spry_mailbox_recv(ctx, reports, &item), 0);
	spry_ctx_cancel(ctx);
	spry_ctx_release(ctx);
	r = *(spry_test_report *)item;
	free(item);
	return r;
}

size_t
spry_test_reports_queued(void)
{
	return spry_mailbox_len(reports);
}
