/* SPDX-License-Identifier: MIT */
/*
 * tests/mailbox/test_mailbox.c: the mailbox on its own: opening and its
 * argument checks, the non-blocking and blocking operations, close and
 * reference counting, the pollable descriptor, and stress runs (many
 * producers into one consumer with per-producer order, and MPMC) that
 * check every item arrives exactly once.
 *
 * Threads never sleep to meet: a test that needs a thread blocked first
 * watches the mailbox's waiter lists (internal state) until it shows up.
 * Helper threads never call cmocka's assertions (they longjmp to the test
 * thread's stack); they record results that the test thread checks.
 *
 * Longer than the usual 800 lines: one executable per unit, and this
 * unit's contract has many cases, each kept small and separate.
 */
#include "tests/support/support.h"

#include "mailbox/alloc.h"
#include "mailbox/lock.h"
#include "mailbox/mailbox.h"

#include <poll.h>
#include <pthread.h>
#include <sched.h>
#include <stdlib.h>

/* Bound for waits that should end at once; only a bug reaches it. */
#define WAIT_LIMIT SPRY_SEC(30)

/* One blocking operation on its own thread. */
typedef struct {
	pthread_t     thr;
	spry_ctx     *ctx;
	spry_mailbox *mb;
	void         *item;
	int           rv;
} op_arg;

static void *
send_main(void *arg)
{
	op_arg *a = arg;

	a->rv = spry_mailbox_send(a->ctx, a->mb, a->item);
	return NULL;
}

static void *
recv_main(void *arg)
{
	op_arg *a = arg;

	a->rv = spry_mailbox_recv(a->ctx, a->mb, &a->item);
	return NULL;
}

/* Cancels ctx once a thread waits on mb in direction dir. */
typedef struct {
	pthread_t     thr;
	spry_ctx     *ctx;
	spry_mailbox *mb;
	int           dir;
	bool          saw_waiter;
} cancel_arg;

static void *
cancel_main(void *arg)
{
	cancel_arg *a = arg;

	a->saw_waiter = spry_test_await_waiters(a->mb, a->dir, 1);
	spry_ctx_cancel(a->ctx);
	return NULL;
}

static bool
readable(int fd)
{
	struct pollfd p = {.fd = fd, .events = POLLIN};

	return poll(&p, 1, 0) == 1 && (p.revents & POLLIN) != 0;
}

static void
test_open_gives_an_empty_mailbox_of_default_capacity(void **state)
{
	spry_mailbox *mb;
	void         *item;

	(void)state;
	spry_test_check(spry_mailbox_open(&mb, 0), 0);
	assert_int_equal(spry_mailbox_capacity(mb), SPRY_MAILBOX_CAPACITY);
	assert_int_equal(spry_mailbox_len(mb), 0);
	assert_false(spry_mailbox_closed(mb));
	spry_test_check(spry_mailbox_tryrecv(mb, &item), SPRY_EAGAIN);
	spry_mailbox_release(mb);

	spry_test_check(spry_mailbox_open_opts(&mb, NULL), 0);
	assert_int_equal(spry_mailbox_capacity(mb), SPRY_MAILBOX_CAPACITY);
	spry_mailbox_release(mb);
}

static void
test_capacity_rounds_up_to_a_power_of_two_that_holds_that_many(void **state)
{
	static const size_t asked[] = {
	    1, 2, 3, 4, 5, 7, 8, 9, 16, 17, 100, 1000, 1024, 1025};

	(void)state;
	for (size_t k = 0; k < sizeof(asked) / sizeof(asked[0]); k++) {
		spry_mailbox *mb;
		size_t        cap;
		void         *item;

		spry_test_check(spry_mailbox_open(&mb, asked[k]), 0);
		cap = spry_mailbox_capacity(mb);
		assert_true(cap >= asked[k]);
		assert_int_equal(cap & (cap - 1), 0);
		assert_true(cap < 2 * asked[k] || cap <= 2);
		/* It holds exactly cap items, in order. */
		for (size_t i = 0; i < cap; i++) {
			spry_test_check(
			    spry_mailbox_trysend(mb, spry_test_item(i + 1)),
			    0);
		}
		assert_int_equal(spry_mailbox_len(mb), cap);
		spry_test_check(
		    spry_mailbox_trysend(mb, spry_test_item(0)), SPRY_EAGAIN);
		for (size_t i = 0; i < cap; i++) {
			spry_test_check(spry_mailbox_tryrecv(mb, &item), 0);
			assert_ptr_equal(item, spry_test_item(i + 1));
		}
		spry_test_check(spry_mailbox_tryrecv(mb, &item), SPRY_EAGAIN);
		spry_mailbox_release(mb);
	}
}

static void
test_open_rejects_bad_arguments(void **state)
{
	spry_mailbox_opts opts = SPRY_MAILBOX_OPTS_INIT;
	spry_mailbox     *mb   = NULL;

	(void)state;
	spry_test_check(spry_mailbox_open(NULL, 0), SPRY_EINVAL);
	spry_test_check(spry_mailbox_open(&mb, SPRY_MAILBOX_MAX_CAPACITY + 1),
	    SPRY_EINVAL);
	spry_test_check(spry_mailbox_open(&mb, SIZE_MAX), SPRY_EINVAL);
	spry_test_check(spry_mailbox_open_opts(NULL, &opts), SPRY_EINVAL);
	opts.size = 0;
	spry_test_check(spry_mailbox_open_opts(&mb, &opts), SPRY_EINVAL);
	opts.size = sizeof(opts) + 8;
	spry_test_check(spry_mailbox_open_opts(&mb, &opts), SPRY_EINVAL);
	opts.size     = sizeof(opts);
	opts.capacity = SPRY_MAILBOX_MAX_CAPACITY + 1;
	spry_test_check(spry_mailbox_open_opts(&mb, &opts), SPRY_EINVAL);
	assert_null(mb);
}

static void
test_trysend_on_full_and_tryrecv_on_empty_give_eagain(void **state)
{
	spry_mailbox *mb;
	void         *item = spry_test_item(99);

	(void)state;
	spry_test_check(spry_mailbox_open(&mb, 4), 0);
	spry_test_check(spry_mailbox_tryrecv(mb, &item), SPRY_EAGAIN);
	assert_ptr_equal(item, spry_test_item(99)); /* untouched on failure */
	for (uintptr_t i = 1; i <= 4; i++) {
		spry_test_check(
		    spry_mailbox_trysend(mb, spry_test_item(i)), 0);
	}
	spry_test_check(
	    spry_mailbox_trysend(mb, spry_test_item(5)), SPRY_EAGAIN);
	spry_test_check(
	    spry_mailbox_trysend(mb, spry_test_item(5)), SPRY_EAGAIN);
	assert_int_equal(spry_mailbox_len(mb), 4);
	spry_test_check(spry_mailbox_tryrecv(mb, &item), 0);
	assert_ptr_equal(item, spry_test_item(1));
	spry_test_check(spry_mailbox_trysend(mb, spry_test_item(5)), 0);
	spry_test_check(
	    spry_mailbox_trysend(mb, spry_test_item(6)), SPRY_EAGAIN);
	spry_mailbox_release(mb);
}

static void
test_items_come_out_in_fifo_order_across_many_laps(void **state)
{
	spry_mailbox *mb;
	uintptr_t     sent = 0, got = 0;
	void         *item;

	(void)state;
	spry_test_check(spry_mailbox_open(&mb, 8), 0);
	/* Uneven batches so the ring wraps at every offset. */
	for (int round = 0; round < 2000; round++) {
		size_t batch = 1 + (size_t)round % 8;

		while (spry_mailbox_len(mb) + batch > 8) {
			spry_test_check(spry_mailbox_tryrecv(mb, &item), 0);
			assert_ptr_equal(item, spry_test_item(++got));
		}
		for (size_t i = 0; i < batch; i++) {
			spry_test_check(
			    spry_mailbox_trysend(mb, spry_test_item(++sent)),
			    0);
		}
		assert_int_equal(spry_mailbox_len(mb), sent - got);
		/* Take one fewer than sent every other round. */
		for (size_t i = 0; i + (size_t)round % 2 < batch; i++) {
			spry_test_check(spry_mailbox_tryrecv(mb, &item), 0);
			assert_ptr_equal(item, spry_test_item(++got));
		}
	}
	while (got < sent) {
		spry_test_check(spry_mailbox_tryrecv(mb, &item), 0);
		assert_ptr_equal(item, spry_test_item(++got));
	}
	spry_test_check(spry_mailbox_tryrecv(mb, &item), SPRY_EAGAIN);
	spry_mailbox_release(mb);
}

static void
test_null_items_are_carried_like_any_other(void **state)
{
	spry_mailbox *mb;
	void         *item = spry_test_item(1);

	(void)state;
	spry_test_check(spry_mailbox_open(&mb, 2), 0);
	spry_test_check(spry_mailbox_trysend(mb, NULL), 0);
	spry_test_check(spry_mailbox_recv(NULL, mb, &item), 0);
	assert_null(item);
	spry_mailbox_release(mb);
}

static void
test_close_lets_receivers_drain_then_gives_eclosed(void **state)
{
	spry_mailbox *mb;
	void         *item;

	(void)state;
	spry_test_check(spry_mailbox_open(&mb, 4), 0);
	spry_test_check(spry_mailbox_trysend(mb, spry_test_item(1)), 0);
	spry_test_check(spry_mailbox_trysend(mb, spry_test_item(2)), 0);
	spry_test_check(spry_mailbox_trysend(mb, spry_test_item(3)), 0);
	spry_mailbox_close(mb);
	assert_true(spry_mailbox_closed(mb));
	assert_int_equal(spry_mailbox_len(mb), 3);

	/* Senders are refused at once, even with room. */
	spry_test_check(
	    spry_mailbox_trysend(mb, spry_test_item(9)), SPRY_ECLOSED);
	spry_test_check(
	    spry_mailbox_send(NULL, mb, spry_test_item(9)), SPRY_ECLOSED);

	/* Receivers get what was queued, in order, then ECLOSED. */
	spry_test_check(spry_mailbox_tryrecv(mb, &item), 0);
	assert_ptr_equal(item, spry_test_item(1));
	spry_test_check(spry_mailbox_recv(NULL, mb, &item), 0);
	assert_ptr_equal(item, spry_test_item(2));
	spry_test_check(spry_mailbox_tryrecv(mb, &item), 0);
	assert_ptr_equal(item, spry_test_item(3));
	spry_test_check(spry_mailbox_tryrecv(mb, &item), SPRY_ECLOSED);
	spry_test_check(spry_mailbox_recv(NULL, mb, &item), SPRY_ECLOSED);
	spry_test_check(spry_mailbox_tryrecv(mb, &item), SPRY_ECLOSED);
	assert_int_equal(spry_mailbox_len(mb), 0);
	spry_mailbox_release(mb);
}

static void
test_close_is_idempotent(void **state)
{
	spry_mailbox *mb;
	void         *item;

	(void)state;
	spry_test_check(spry_mailbox_open(&mb, 2), 0);
	spry_test_check(spry_mailbox_trysend(mb, spry_test_item(1)), 0);
	spry_mailbox_close(mb);
	spry_mailbox_close(mb);
	assert_true(spry_mailbox_closed(mb));
	spry_test_check(spry_mailbox_tryrecv(mb, &item), 0);
	assert_ptr_equal(item, spry_test_item(1));
	spry_mailbox_close(mb);
	spry_test_check(spry_mailbox_tryrecv(mb, &item), SPRY_ECLOSED);
	spry_test_check(
	    spry_mailbox_trysend(mb, spry_test_item(2)), SPRY_ECLOSED);
	spry_mailbox_release(mb);
}

/* dispose_cb for heap items: frees each and counts it. */
static void
free_and_count(void *item, void *arg)
{
	int *n = arg;

	free(item);
	(*n)++;
}

static void
test_dispose_frees_leftovers_on_last_release_only(void **state)
{
	spry_mailbox_opts opts     = SPRY_MAILBOX_OPTS_INIT;
	int               disposed = 0;
	spry_mailbox     *mb;
	void             *item;

	(void)state;
	opts.capacity    = 8;
	opts.dispose_cb  = free_and_count;
	opts.dispose_arg = &disposed;
	spry_test_check(spry_mailbox_open_opts(&mb, &opts), 0);
	for (int i = 0; i < 6; i++) {
		void *p = malloc(16);

		assert_non_null(p);
		spry_test_check(spry_mailbox_trysend(mb, p), 0);
	}
	/* One taken out is the caller's: never disposed. */
	spry_test_check(spry_mailbox_tryrecv(mb, &item), 0);
	free(item);

	spry_mailbox_hold(mb);
	spry_mailbox_close(mb);
	spry_mailbox_release(mb);
	assert_int_equal(disposed, 0); /* a reference is left */
	assert_int_equal(spry_mailbox_len(mb), 5);
	spry_mailbox_release(mb);
	assert_int_equal(disposed, 5);
}

static void
test_release_without_dispose_drops_leftovers(void **state)
{
	int64_t       live = spry__alloc_live();
	spry_mailbox *mb;

	(void)state;
	spry_test_check(spry_mailbox_open(&mb, 4), 0);
	spry_test_check(spry_mailbox_trysend(mb, spry_test_item(1)), 0);
	spry_test_check(spry_mailbox_trysend(mb, spry_test_item(2)), 0);
	spry_mailbox_release(mb);
	assert_int_equal(spry__alloc_live(), live);
}

static void
test_hold_keeps_the_mailbox_until_the_last_release(void **state)
{
	int64_t       live = spry__alloc_live();
	spry_mailbox *mb;
	void         *item;

	(void)state;
	spry_test_check(spry_mailbox_open(&mb, 4), 0);
	assert_int_equal(spry__alloc_live(), live + 1);
	spry_mailbox_hold(mb);
	spry_mailbox_hold(mb);
	spry_mailbox_release(mb);
	spry_mailbox_release(mb);
	/* Still ours: usable, and still allocated. */
	assert_int_equal(spry__alloc_live(), live + 1);
	spry_test_check(spry_mailbox_trysend(mb, spry_test_item(7)), 0);
	spry_test_check(spry_mailbox_tryrecv(mb, &item), 0);
	assert_ptr_equal(item, spry_test_item(7));
	spry_mailbox_release(mb);
	assert_int_equal(spry__alloc_live(), live);
	spry_mailbox_release(NULL); /* harmless */
}

static void
test_blocking_calls_with_room_or_items_do_not_wait(void **state)
{
	spry_mailbox *mb;
	spry_ctx     *ctx;
	void         *item;

	(void)state;
	/* A canceled ctx does not stop a call that can complete now. */
	spry_test_check(spry_ctx_with_cancel(&ctx, NULL), 0);
	spry_ctx_cancel(ctx);
	spry_test_check(spry_mailbox_open(&mb, 2), 0);
	spry_test_check(spry_mailbox_send(ctx, mb, spry_test_item(1)), 0);
	spry_test_check(spry_mailbox_send(NULL, mb, spry_test_item(2)), 0);
	spry_test_check(spry_mailbox_recv(ctx, mb, &item), 0);
	assert_ptr_equal(item, spry_test_item(1));
	spry_test_check(spry_mailbox_recv(NULL, mb, &item), 0);
	assert_ptr_equal(item, spry_test_item(2));
	spry_mailbox_release(mb);
	spry_ctx_release(ctx);
}

static void
test_blocking_calls_give_etimedout_when_the_ctx_deadline_passes(void **state)
{
	spry_mailbox *empty, *full;
	spry_ctx     *ctx;
	void         *item = spry_test_item(99);

	(void)state;
	spry_test_check(spry_mailbox_open(&empty, 2), 0);
	spry_test_check(spry_mailbox_open(&full, 2), 0);
	spry_test_check(spry_mailbox_trysend(full, spry_test_item(1)), 0);
	spry_test_check(spry_mailbox_trysend(full, spry_test_item(2)), 0);

	spry_test_check(spry_ctx_with_timeout(&ctx, NULL, SPRY_MSEC(5)), 0);
	spry_test_check(spry_mailbox_recv(ctx, empty, &item), SPRY_ETIMEDOUT);
	assert_ptr_equal(item, spry_test_item(99));
	spry_ctx_release(ctx);

	spry_test_check(spry_ctx_with_timeout(&ctx, NULL, SPRY_MSEC(5)), 0);
	spry_test_check(
	    spry_mailbox_send(ctx, full, spry_test_item(3)), SPRY_ETIMEDOUT);
	/* The ctx has ended now: later calls fail at once the same way. */
	spry_test_check(
	    spry_mailbox_send(ctx, full, spry_test_item(3)), SPRY_ETIMEDOUT);
	spry_test_check(spry_mailbox_recv(ctx, empty, &item), SPRY_ETIMEDOUT);
	spry_test_check(spry_ctx_err(ctx), SPRY_ETIMEDOUT);
	spry_ctx_release(ctx);

	/* The failed send kept nothing. */
	assert_int_equal(spry_mailbox_len(full), 2);
	spry_test_check(spry_mailbox_tryrecv(full, &item), 0);
	assert_ptr_equal(item, spry_test_item(1));
	spry_test_check(spry_mailbox_tryrecv(full, &item), 0);
	assert_ptr_equal(item, spry_test_item(2));
	spry_mailbox_release(empty);
	spry_mailbox_release(full);
}

static void
test_blocking_calls_give_ecanceled_with_a_canceled_ctx(void **state)
{
	spry_mailbox *empty, *full;
	spry_ctx     *ctx;
	void         *item;

	(void)state;
	spry_test_check(spry_mailbox_open(&empty, 2), 0);
	spry_test_check(spry_mailbox_open(&full, 2), 0);
	spry_test_check(spry_mailbox_trysend(full, spry_test_item(1)), 0);
	spry_test_check(spry_mailbox_trysend(full, spry_test_item(2)), 0);
	spry_test_check(spry_ctx_with_cancel(&ctx, NULL), 0);
	spry_ctx_cancel(ctx);
	spry_test_check(spry_mailbox_recv(ctx, empty, &item), SPRY_ECANCELED);
	spry_test_check(
	    spry_mailbox_send(ctx, full, spry_test_item(3)), SPRY_ECANCELED);
	assert_int_equal(spry_mailbox_len(full), 2);
	spry_ctx_release(ctx);
	spry_mailbox_release(empty);
	spry_mailbox_release(full);
}

static void
test_cancel_from_another_thread_ends_a_blocked_recv(void **state)
{
	spry_mailbox *mb;
	cancel_arg    c    = {.dir = SPRY_SELECT_RECV};
	void         *item = spry_test_item(99);

	(void)state;
	spry_test_check(spry_mailbox_open(&mb, 2), 0);
	spry_test_check(spry_ctx_with_cancel(&c.ctx, NULL), 0);
	c.mb = mb;
	assert_int_equal(pthread_create(&c.thr, NULL, cancel_main, &c), 0);
	spry_test_check(spry_mailbox_recv(c.ctx, mb, &item), SPRY_ECANCELED);
	assert_int_equal(pthread_join(c.thr, NULL), 0);
	assert_true(c.saw_waiter);
	assert_ptr_equal(item, spry_test_item(99));
	assert_int_equal(spry_test_waiters(mb, SPRY_SELECT_RECV), 0);
	spry_ctx_release(c.ctx);
	spry_mailbox_release(mb);
}

static void
test_cancel_from_another_thread_ends_a_blocked_send(void **state)
{
	spry_mailbox *mb;
	cancel_arg    c = {.dir = SPRY_SELECT_SEND};
	void         *item;

	(void)state;
	spry_test_check(spry_mailbox_open(&mb, 2), 0);
	spry_test_check(spry_mailbox_trysend(mb, spry_test_item(1)), 0);
	spry_test_check(spry_mailbox_trysend(mb, spry_test_item(2)), 0);
	spry_test_check(spry_ctx_with_cancel(&c.ctx, NULL), 0);
	c.mb = mb;
	assert_int_equal(pthread_create(&c.thr, NULL, cancel_main, &c), 0);
	spry_test_check(
	    spry_mailbox_send(c.ctx, mb, spry_test_item(3)), SPRY_ECANCELED);
	assert_int_equal(pthread_join(c.thr, NULL), 0);
	assert_true(c.saw_waiter);
	assert_int_equal(spry_test_waiters(mb, SPRY_SELECT_SEND), 0);
	assert_int_equal(spry_mailbox_len(mb), 2);
	spry_test_check(spry_mailbox_tryrecv(mb, &item), 0);
	assert_ptr_equal(item, spry_test_item(1));
	spry_test_check(spry_mailbox_tryrecv(mb, &item), 0);
	assert_ptr_equal(item, spry_test_item(2));
	spry_ctx_release(c.ctx);
	spry_mailbox_release(mb);
}

#define CLOSE_WAITERS 4

/* A select blocked on two mailboxes at once. */
typedef struct {
	pthread_t        thr;
	spry_select_case cases[2];
	size_t           chosen;
	int              rv;
} select_arg;

static void *
select_main(void *arg)
{
	select_arg *s = arg;

	s->rv = spry_select(NULL, s->cases, 2, &s->chosen);
	return NULL;
}

/*
 * A mailbox is never full and empty at once, so blocked senders wait on
 * a full mailbox and blocked receivers on an empty one, and one thread
 * selects on both (sending to the full, receiving from the empty). Each
 * close must wake every thread blocked on it and nobody else.
 */
static void
test_close_wakes_blocked_senders_and_receivers(void **state)
{
	spry_mailbox *full, *empty;
	op_arg        senders[CLOSE_WAITERS], receivers[CLOSE_WAITERS];
	select_arg    sel = {.chosen = 99};
	void         *item;

	(void)state;
	spry_test_check(spry_mailbox_open(&full, 2), 0);
	spry_test_check(spry_mailbox_open(&empty, 2), 0);
	spry_test_check(spry_mailbox_trysend(full, spry_test_item(1)), 0);
	spry_test_check(spry_mailbox_trysend(full, spry_test_item(2)), 0);
	sel.cases[0] = (spry_select_case){
	    .mb = full, .dir = SPRY_SELECT_SEND, .item = spry_test_item(50)};
	sel.cases[1] = (spry_select_case){
	    .mb = empty, .dir = SPRY_SELECT_RECV, .item = spry_test_item(99)};
	assert_int_equal(pthread_create(&sel.thr, NULL, select_main, &sel), 0);
	for (int i = 0; i < CLOSE_WAITERS; i++) {
		senders[i] =
		    (op_arg){.mb = full, .item = spry_test_item(10 + i)};
		receivers[i] =
		    (op_arg){.mb = empty, .item = spry_test_item(99)};
		assert_int_equal(pthread_create(&senders[i].thr, NULL,
		                     send_main, &senders[i]),
		    0);
		assert_int_equal(pthread_create(&receivers[i].thr, NULL,
		                     recv_main, &receivers[i]),
		    0);
	}
	assert_true(spry_test_await_waiters(
	    full, SPRY_SELECT_SEND, CLOSE_WAITERS + 1));
	assert_true(spry_test_await_waiters(
	    empty, SPRY_SELECT_RECV, CLOSE_WAITERS + 1));

	spry_mailbox_close(full);
	for (int i = 0; i < CLOSE_WAITERS; i++) {
		assert_int_equal(pthread_join(senders[i].thr, NULL), 0);
		spry_test_check(senders[i].rv, SPRY_ECLOSED);
	}
	assert_int_equal(pthread_join(sel.thr, NULL), 0);
	spry_test_check(sel.rv, 0);
	assert_int_equal(sel.chosen, 0);
	spry_test_check(sel.cases[0].err, SPRY_ECLOSED);
	assert_ptr_equal(
	    sel.cases[0].item, spry_test_item(50)); /* still ours */
	assert_ptr_equal(sel.cases[1].item, spry_test_item(99));

	/* Receivers of the other mailbox are still blocked. */
	assert_int_equal(
	    spry_test_waiters(empty, SPRY_SELECT_RECV), CLOSE_WAITERS);
	spry_mailbox_close(empty);
	for (int i = 0; i < CLOSE_WAITERS; i++) {
		assert_int_equal(pthread_join(receivers[i].thr, NULL), 0);
		spry_test_check(receivers[i].rv, SPRY_ECLOSED);
		assert_ptr_equal(receivers[i].item, spry_test_item(99));
	}
	assert_int_equal(spry_test_waiters(full, SPRY_SELECT_SEND), 0);
	assert_int_equal(spry_test_waiters(empty, SPRY_SELECT_RECV), 0);

	/* The full one still hands out what it held, then ECLOSED. */
	spry_test_check(spry_mailbox_tryrecv(full, &item), 0);
	assert_ptr_equal(item, spry_test_item(1));
	spry_test_check(spry_mailbox_tryrecv(full, &item), 0);
	assert_ptr_equal(item, spry_test_item(2));
	spry_test_check(spry_mailbox_tryrecv(full, &item), SPRY_ECLOSED);
	spry_mailbox_release(full);
	spry_mailbox_release(empty);
}

static void
test_close_wakes_a_blocked_receiver_of_each_kind(void **state)
{
	spry_mailbox *mb;
	op_arg        plain = {.item = spry_test_item(99)};
	op_arg        timed = {.item = spry_test_item(99)};

	(void)state;
	/* One without a ctx, one with a ctx that could end but does not. */
	spry_test_check(spry_mailbox_open(&mb, 2), 0);
	spry_test_check(
	    spry_ctx_with_timeout(&timed.ctx, NULL, SPRY_SEC(60)), 0);
	plain.mb = timed.mb = mb;
	assert_int_equal(
	    pthread_create(&plain.thr, NULL, recv_main, &plain), 0);
	assert_int_equal(
	    pthread_create(&timed.thr, NULL, recv_main, &timed), 0);
	assert_true(spry_test_await_waiters(mb, SPRY_SELECT_RECV, 2));
	spry_mailbox_close(mb);
	assert_int_equal(pthread_join(plain.thr, NULL), 0);
	assert_int_equal(pthread_join(timed.thr, NULL), 0);
	spry_test_check(plain.rv, SPRY_ECLOSED);
	spry_test_check(timed.rv, SPRY_ECLOSED);
	spry_test_check(spry_ctx_err(timed.ctx), 0);
	spry_ctx_cancel(timed.ctx);
	spry_ctx_release(timed.ctx);
	spry_mailbox_release(mb);
}

static void
test_blocked_receiver_gets_an_item_sent_later(void **state)
{
	spry_mailbox *mb;
	op_arg        r = {0};

	(void)state;
	spry_test_check(spry_mailbox_open(&mb, 2), 0);
	r.mb = mb;
	assert_int_equal(pthread_create(&r.thr, NULL, recv_main, &r), 0);
	assert_true(spry_test_await_waiters(mb, SPRY_SELECT_RECV, 1));
	spry_test_check(spry_mailbox_send(NULL, mb, spry_test_item(42)), 0);
	assert_int_equal(pthread_join(r.thr, NULL), 0);
	spry_test_check(r.rv, 0);
	assert_ptr_equal(r.item, spry_test_item(42));
	spry_mailbox_release(mb);
}

static void
test_blocked_sender_proceeds_when_room_is_made(void **state)
{
	spry_mailbox *mb;
	op_arg        s = {.item = spry_test_item(3)};
	void         *item;

	(void)state;
	spry_test_check(spry_mailbox_open(&mb, 2), 0);
	spry_test_check(spry_mailbox_trysend(mb, spry_test_item(1)), 0);
	spry_test_check(spry_mailbox_trysend(mb, spry_test_item(2)), 0);
	s.mb = mb;
	assert_int_equal(pthread_create(&s.thr, NULL, send_main, &s), 0);
	assert_true(spry_test_await_waiters(mb, SPRY_SELECT_SEND, 1));
	spry_test_check(spry_mailbox_recv(NULL, mb, &item), 0);
	assert_ptr_equal(item, spry_test_item(1));
	assert_int_equal(pthread_join(s.thr, NULL), 0);
	spry_test_check(s.rv, 0);
	for (uintptr_t i = 2; i <= 3; i++) {
		spry_test_check(spry_mailbox_recv(NULL, mb, &item), 0);
		assert_ptr_equal(item, spry_test_item(i));
	}
	spry_mailbox_release(mb);
}

static void
test_fd_polls_readable_while_items_are_queued_or_closed(void **state)
{
	spry_mailbox *mb;
	int           fd, fd2;
	void         *item;

	(void)state;
	spry_test_check(spry_mailbox_open(&mb, 4), 0);
	spry_test_check(spry_mailbox_fd(mb, &fd), 0);
	assert_true(fd >= 0);
	spry_test_check(spry_mailbox_fd(mb, &fd2), 0);
	assert_int_equal(fd, fd2); /* one descriptor per mailbox */
	assert_false(readable(fd));

	spry_test_check(spry_mailbox_trysend(mb, spry_test_item(1)), 0);
	assert_true(readable(fd));
	spry_test_check(spry_mailbox_trysend(mb, spry_test_item(2)), 0);
	assert_true(readable(fd));
	spry_test_check(spry_mailbox_tryrecv(mb, &item), 0);
	assert_true(readable(fd)); /* one left */
	spry_test_check(spry_mailbox_tryrecv(mb, &item), 0);
	assert_false(readable(fd)); /* drained */
	spry_test_check(spry_mailbox_tryrecv(mb, &item), SPRY_EAGAIN);
	assert_false(readable(fd));

	/* Again, through the blocking calls. */
	spry_test_check(spry_mailbox_send(NULL, mb, spry_test_item(3)), 0);
	assert_true(readable(fd));
	spry_test_check(spry_mailbox_recv(NULL, mb, &item), 0);
	assert_false(readable(fd));

	/* Closed: readable for good, drained or not. */
	spry_test_check(spry_mailbox_trysend(mb, spry_test_item(4)), 0);
	spry_mailbox_close(mb);
	assert_true(readable(fd));
	spry_test_check(spry_mailbox_tryrecv(mb, &item), 0);
	assert_true(readable(fd));
	spry_test_check(spry_mailbox_tryrecv(mb, &item), SPRY_ECLOSED);
	assert_true(readable(fd));
	spry_mailbox_release(mb);
}

static void
test_fd_asked_for_late_reflects_the_current_state(void **state)
{
	spry_mailbox *a, *b;
	int           fa, fb;
	void         *item;

	(void)state;
	spry_test_check(spry_mailbox_open(&a, 4), 0);
	spry_test_check(spry_mailbox_open(&b, 4), 0);
	spry_test_check(spry_mailbox_trysend(a, spry_test_item(1)), 0);
	spry_mailbox_close(b);
	spry_test_check(spry_mailbox_fd(a, &fa), 0);
	spry_test_check(spry_mailbox_fd(b, &fb), 0);
	assert_true(readable(fa));
	assert_true(readable(fb));
	spry_test_check(spry_mailbox_tryrecv(a, &item), 0);
	assert_false(readable(fa));
	spry_mailbox_release(a);
	spry_mailbox_release(b);
}

/* Items of the order test: producer id and sequence, never NULL. */
#define SEQ_BITS 40
#define SEQ_MASK (((uint64_t)1 << SEQ_BITS) - 1)

static void *
seq_item(uint64_t id, uint64_t seq)
{
	return (void *)(uintptr_t)((id << SEQ_BITS) | (seq + 1));
}

static void
seq_decode(void *item, uint64_t *id, uint64_t *seq)
{
	uint64_t v = (uint64_t)(uintptr_t)item;

	*id  = v >> SEQ_BITS;
	*seq = (v & SEQ_MASK) - 1;
}

typedef struct {
	pthread_t          thr;
	spry_mailbox      *mb;
	pthread_barrier_t *start;
	uint64_t           id;
	uint64_t           n;
	int                rv;
} producer_arg;

static void *
producer_main(void *arg)
{
	producer_arg *p = arg;

	pthread_barrier_wait(p->start);
	for (uint64_t s = 0; s < p->n; s++) {
		if ((p->rv = spry_mailbox_send(
		         NULL, p->mb, seq_item(p->id, s))) != 0) {
			break;
		}
	}
	return NULL;
}

#define ORDER_PRODUCERS 4
#define ORDER_ITEMS 1000000 /* a multiple of ORDER_PRODUCERS */

static void
test_producers_to_one_consumer_deliver_each_item_once_in_order(void **state)
{
	producer_arg      prod[ORDER_PRODUCERS];
	uint64_t          next[ORDER_PRODUCERS] = {0};
	pthread_barrier_t start;
	spry_mailbox     *mb;
	uint64_t          got = 0, bad_id = 0, bad_seq = 0;
	int               rv = 0;
	void             *item;

	(void)state;
	spry_test_check(spry_mailbox_open(&mb, 256), 0);
	assert_int_equal(
	    pthread_barrier_init(&start, NULL, ORDER_PRODUCERS + 1), 0);
	for (uint64_t i = 0; i < ORDER_PRODUCERS; i++) {
		prod[i]   = (producer_arg){.mb = mb, .start = &start, .id = i};
		prod[i].n = ORDER_ITEMS / ORDER_PRODUCERS;
		assert_int_equal(pthread_create(&prod[i].thr, NULL,
		                     producer_main, &prod[i]),
		    0);
	}
	pthread_barrier_wait(&start);
	while (got < ORDER_ITEMS) {
		uint64_t id, seq;

		if ((rv = spry_mailbox_recv(NULL, mb, &item)) != 0) {
			break;
		}
		seq_decode(item, &id, &seq);
		if (id >= ORDER_PRODUCERS || seq != next[id]) {
			bad_id  = id;
			bad_seq = seq;
			break;
		}
		next[id]++;
		got++;
	}
	/* Close before judging, so no producer stays blocked. */
	spry_mailbox_close(mb);
	for (int i = 0; i < ORDER_PRODUCERS; i++) {
		assert_int_equal(pthread_join(prod[i].thr, NULL), 0);
	}
	pthread_barrier_destroy(&start);
	spry_test_check(rv, 0);
	if (got != ORDER_ITEMS) {
		fail_msg("after %llu items: producer %llu sent seq %llu, "
		         "want %llu",
		    (unsigned long long)got, (unsigned long long)bad_id,
		    (unsigned long long)bad_seq,
		    (unsigned long long)(bad_id < ORDER_PRODUCERS ?
		            next[bad_id] :
		            0));
	}
	for (int i = 0; i < ORDER_PRODUCERS; i++) {
		spry_test_check(prod[i].rv, 0);
		assert_int_equal(next[i], prod[i].n);
	}
	spry_test_check(spry_mailbox_tryrecv(mb, &item), SPRY_ECLOSED);
	spry_mailbox_release(mb);
}

#define MPMC_PRODUCERS 4
#define MPMC_CONSUMERS 2
#define MPMC_PER_PRODUCER 25000
#define MPMC_ITEMS (MPMC_PRODUCERS * MPMC_PER_PRODUCER)

typedef struct {
	pthread_t          thr;
	spry_mailbox      *mb;
	pthread_barrier_t *start;
	uint8_t           *seen; /* one flag per item (atomic) */
	uint64_t           got;
	uint64_t           dups;
	uint64_t           strays;
	int                rv;
} consumer_arg;

static void *
mpmc_consumer_main(void *arg)
{
	consumer_arg *c = arg;
	void         *item;
	int           rv;

	pthread_barrier_wait(c->start);
	while ((rv = spry_mailbox_recv(NULL, c->mb, &item)) == 0) {
		uint64_t id, seq, k;

		seq_decode(item, &id, &seq);
		k = id * MPMC_PER_PRODUCER + seq;
		if (id >= MPMC_PRODUCERS || seq >= MPMC_PER_PRODUCER) {
			c->strays++;
		} else if (__atomic_exchange_n(
		               &c->seen[k], 1, __ATOMIC_RELAXED) != 0) {
			c->dups++;
		}
		c->got++;
	}
	c->rv = rv;
	return NULL;
}

static void
test_mpmc_blocking_delivers_every_item_exactly_once(void **state)
{
	producer_arg      prod[MPMC_PRODUCERS];
	consumer_arg      cons[MPMC_CONSUMERS];
	pthread_barrier_t start;
	spry_mailbox     *mb;
	uint8_t          *seen;
	uint64_t          got = 0;

	(void)state;
	seen = calloc(MPMC_ITEMS, 1);
	assert_non_null(seen);
	/* Small, so both producers and consumers block often. */
	spry_test_check(spry_mailbox_open(&mb, 4), 0);
	assert_int_equal(pthread_barrier_init(
	                     &start, NULL, MPMC_PRODUCERS + MPMC_CONSUMERS),
	    0);
	for (int i = 0; i < MPMC_CONSUMERS; i++) {
		cons[i] =
		    (consumer_arg){.mb = mb, .start = &start, .seen = seen};
		assert_int_equal(pthread_create(&cons[i].thr, NULL,
		                     mpmc_consumer_main, &cons[i]),
		    0);
	}
	for (uint64_t i = 0; i < MPMC_PRODUCERS; i++) {
		prod[i] = (producer_arg){.mb = mb,
		    .start                   = &start,
		    .id                      = i,
		    .n                       = MPMC_PER_PRODUCER};
		assert_int_equal(pthread_create(&prod[i].thr, NULL,
		                     producer_main, &prod[i]),
		    0);
	}
	for (int i = 0; i < MPMC_PRODUCERS; i++) {
		assert_int_equal(pthread_join(prod[i].thr, NULL), 0);
		spry_test_check(prod[i].rv, 0);
	}
	/* Everything is queued or taken; consumers drain, then stop. */
	spry_mailbox_close(mb);
	for (int i = 0; i < MPMC_CONSUMERS; i++) {
		assert_int_equal(pthread_join(cons[i].thr, NULL), 0);
		spry_test_check(cons[i].rv, SPRY_ECLOSED);
		assert_int_equal(cons[i].dups, 0);
		assert_int_equal(cons[i].strays, 0);
		got += cons[i].got;
	}
	pthread_barrier_destroy(&start);
	assert_int_equal(got, MPMC_ITEMS);
	for (size_t k = 0; k < MPMC_ITEMS; k++) {
		if (seen[k] != 1) {
			fail_msg("item %zu never received", k);
		}
	}
	free(seen);
	spry_mailbox_release(mb);
}

static void
test_null_arguments_give_einval(void **state)
{
	spry_mailbox *mb;
	void         *item;

	(void)state;
	spry_test_check(
	    spry_mailbox_send(NULL, NULL, spry_test_item(1)), SPRY_EINVAL);
	spry_test_check(spry_mailbox_recv(NULL, NULL, &item), SPRY_EINVAL);
	spry_test_check(spry_mailbox_open(&mb, 2), 0);
	spry_test_check(spry_mailbox_trysend(mb, spry_test_item(1)), 0);
	spry_test_check(spry_mailbox_recv(NULL, mb, NULL), SPRY_EINVAL);
	assert_int_equal(spry_mailbox_len(mb), 1); /* nothing taken */
	spry_test_check(spry_mailbox_fd(mb, NULL), SPRY_EINVAL);
	spry_mailbox_release(NULL);
	spry_mailbox_release(mb);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(
	        test_open_gives_an_empty_mailbox_of_default_capacity),
	    cmocka_unit_test(
	        test_capacity_rounds_up_to_a_power_of_two_that_holds_that_many),
	    cmocka_unit_test(test_open_rejects_bad_arguments),
	    cmocka_unit_test(
	        test_trysend_on_full_and_tryrecv_on_empty_give_eagain),
	    cmocka_unit_test(
	        test_items_come_out_in_fifo_order_across_many_laps),
	    cmocka_unit_test(test_null_items_are_carried_like_any_other),
	    cmocka_unit_test(
	        test_close_lets_receivers_drain_then_gives_eclosed),
	    cmocka_unit_test(test_close_is_idempotent),
	    cmocka_unit_test(
	        test_dispose_frees_leftovers_on_last_release_only),
	    cmocka_unit_test(test_release_without_dispose_drops_leftovers),
	    cmocka_unit_test(
	        test_hold_keeps_the_mailbox_until_the_last_release),
	    cmocka_unit_test(
	        test_blocking_calls_with_room_or_items_do_not_wait),
	    cmocka_unit_test(
	        test_blocking_calls_give_etimedout_when_the_ctx_deadline_passes),
	    cmocka_unit_test(
	        test_blocking_calls_give_ecanceled_with_a_canceled_ctx),
	    cmocka_unit_test(
	        test_cancel_from_another_thread_ends_a_blocked_recv),
	    cmocka_unit_test(
	        test_cancel_from_another_thread_ends_a_blocked_send),
	    cmocka_unit_test(test_close_wakes_blocked_senders_and_receivers),
	    cmocka_unit_test(test_close_wakes_a_blocked_receiver_of_each_kind),
	    cmocka_unit_test(test_blocked_receiver_gets_an_item_sent_later),
	    cmocka_unit_test(test_blocked_sender_proceeds_when_room_is_made),
	    cmocka_unit_test(
	        test_fd_polls_readable_while_items_are_queued_or_closed),
	    cmocka_unit_test(
	        test_fd_asked_for_late_reflects_the_current_state),
	    cmocka_unit_test(
	        test_producers_to_one_consumer_deliver_each_item_once_in_order),
	    cmocka_unit_test(
	        test_mpmc_blocking_delivers_every_item_exactly_once),
	    cmocka_unit_test(test_null_arguments_give_einval),
	};

	return cmocka_run_group_tests(tests, spry_test_up, spry_test_down);
}
