/* SPDX-License-Identifier: MIT */
/*
 * tests/mailbox/test_select.c: spry_select and spry_tryselect: choosing
 * a ready case, send cases, disabled (NULL) and closed cases, fairness
 * between ready cases, ctx deadlines and cancellation, the ctx's done
 * mailbox as a case, argument checks, and wake-ups under contention
 * (selectors sharing mailboxes, a wake-up that must be passed on, a
 * wake-up still on its way when a parked select looks again by itself,
 * fan-in from many producers).
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

#include "mailbox/lock.h"
#include "mailbox/mailbox.h"

#include <pthread.h>
#include <sched.h>
#include <stdlib.h>
#include <string.h>

/* Bound for waits that should end at once; only a bug reaches it. */
#define WAIT_LIMIT SPRY_SEC(30)

static spry_select_case
recv_case(spry_mailbox *mb)
{
	return (spry_select_case){.mb = mb, .dir = SPRY_SELECT_RECV};
}

static spry_select_case
send_case(spry_mailbox *mb, void *item)
{
	return (spry_select_case){
	    .mb = mb, .dir = SPRY_SELECT_SEND, .item = item};
}

static void
test_tryselect_with_nothing_ready_gives_eagain(void **state)
{
	spry_mailbox    *a, *b;
	spry_select_case c[3];
	size_t           chosen = 99;

	(void)state;
	spry_test_check(spry_mailbox_open(&a, 2), 0);
	spry_test_check(spry_mailbox_open(&b, 2), 0);
	spry_test_check(spry_mailbox_trysend(b, spry_test_item(1)), 0);
	spry_test_check(spry_mailbox_trysend(b, spry_test_item(2)), 0);
	c[0] = recv_case(a);                    /* empty */
	c[1] = send_case(b, spry_test_item(3)); /* full */
	c[2] = recv_case(NULL);                 /* disabled */
	spry_test_check(spry_tryselect(c, 3, &chosen), SPRY_EAGAIN);
	assert_int_equal(chosen, 99);
	spry_test_check(spry_tryselect(c, 0, &chosen), SPRY_EAGAIN);
	spry_test_check(spry_tryselect(NULL, 0, &chosen), SPRY_EAGAIN);
	assert_int_equal(spry_mailbox_len(b), 2);
	spry_mailbox_release(a);
	spry_mailbox_release(b);
}

static void
test_select_performs_the_one_ready_case(void **state)
{
	spry_mailbox    *mb[3];
	spry_select_case c[3];
	size_t           chosen;
	void            *item;

	(void)state;
	for (int i = 0; i < 3; i++) {
		spry_test_check(spry_mailbox_open(&mb[i], 2), 0);
		c[i] = recv_case(mb[i]);
	}
	spry_test_check(spry_mailbox_trysend(mb[1], spry_test_item(11)), 0);
	spry_test_check(spry_mailbox_trysend(mb[1], spry_test_item(12)), 0);
	for (uintptr_t want = 11; want <= 12; want++) {
		chosen = 99;
		spry_test_check(spry_tryselect(c, 3, &chosen), 0);
		assert_int_equal(chosen, 1);
		spry_test_check(c[1].err, 0);
		assert_ptr_equal(c[1].item, spry_test_item(want));
	}
	spry_test_check(spry_mailbox_trysend(mb[2], spry_test_item(21)), 0);
	spry_test_check(spry_select(NULL, c, 3, &chosen), 0);
	assert_int_equal(chosen, 2);
	assert_ptr_equal(c[2].item, spry_test_item(21));
	for (int i = 0; i < 3; i++) {
		spry_test_check(
		    spry_mailbox_tryrecv(mb[i], &item), SPRY_EAGAIN);
		spry_mailbox_release(mb[i]);
	}
}

static void
test_send_case_queues_its_item_in_the_mailbox_with_room(void **state)
{
	spry_mailbox    *full, *room;
	spry_select_case c[2];
	size_t           chosen = 99;
	void            *item;

	(void)state;
	spry_test_check(spry_mailbox_open(&full, 2), 0);
	spry_test_check(spry_mailbox_open(&room, 2), 0);
	spry_test_check(spry_mailbox_trysend(full, spry_test_item(1)), 0);
	spry_test_check(spry_mailbox_trysend(full, spry_test_item(2)), 0);
	c[0] = send_case(full, spry_test_item(3));
	c[1] = send_case(room, spry_test_item(4));
	spry_test_check(spry_select(NULL, c, 2, &chosen), 0);
	assert_int_equal(chosen, 1);
	spry_test_check(c[1].err, 0);
	assert_int_equal(spry_mailbox_len(full), 2);
	spry_test_check(spry_mailbox_tryrecv(room, &item), 0);
	assert_ptr_equal(item, spry_test_item(4));
	spry_mailbox_release(full);
	spry_mailbox_release(room);
}

/* A select blocked on its own thread. */
typedef struct {
	pthread_t         thr;
	spry_ctx         *ctx;
	spry_select_case *cases;
	size_t            n;
	size_t            chosen;
	int               rv;
} select_arg;

static void *
select_main(void *arg)
{
	select_arg *s = arg;

	s->rv = spry_select(s->ctx, s->cases, s->n, &s->chosen);
	return NULL;
}

static void
test_blocked_select_completes_a_send_case_when_room_is_made(void **state)
{
	spry_mailbox    *full, *empty;
	spry_select_case c[2];
	select_arg       s = {.cases = c, .n = 2, .chosen = 99};
	void            *item;

	(void)state;
	spry_test_check(spry_mailbox_open(&full, 2), 0);
	spry_test_check(spry_mailbox_open(&empty, 2), 0);
	spry_test_check(spry_mailbox_trysend(full, spry_test_item(1)), 0);
	spry_test_check(spry_mailbox_trysend(full, spry_test_item(2)), 0);
	c[0] = recv_case(empty);
	c[1] = send_case(full, spry_test_item(3));
	assert_int_equal(pthread_create(&s.thr, NULL, select_main, &s), 0);
	assert_true(spry_test_await_waiters(full, SPRY_SELECT_SEND, 1));
	spry_test_check(spry_mailbox_tryrecv(full, &item), 0);
	assert_int_equal(pthread_join(s.thr, NULL), 0);
	spry_test_check(s.rv, 0);
	assert_int_equal(s.chosen, 1);
	spry_test_check(c[1].err, 0);
	assert_int_equal(spry_test_waiters(empty, SPRY_SELECT_RECV), 0);
	for (uintptr_t want = 2; want <= 3; want++) {
		spry_test_check(spry_mailbox_tryrecv(full, &item), 0);
		assert_ptr_equal(item, spry_test_item(want));
	}
	spry_mailbox_release(full);
	spry_mailbox_release(empty);
}

static void
test_null_mailbox_case_is_never_chosen(void **state)
{
	spry_mailbox    *mb;
	spry_select_case c[3];
	size_t           chosen;

	(void)state;
	spry_test_check(spry_mailbox_open(&mb, 2), 0);
	c[0] = recv_case(NULL);
	c[1] = send_case(mb, spry_test_item(1));
	c[2] = send_case(NULL, spry_test_item(2));
	for (int i = 0; i < 1000; i++) {
		void *item;

		chosen = 99;
		spry_test_check(spry_select(NULL, c, 3, &chosen), 0);
		assert_int_equal(chosen, 1);
		spry_test_check(spry_mailbox_tryrecv(mb, &item), 0);
		assert_ptr_equal(item, spry_test_item(1));
	}
	/* Only disabled cases: nothing can ever be ready. */
	spry_test_check(spry_tryselect(c, 1, &chosen), SPRY_EAGAIN);
	spry_mailbox_release(mb);
}

static void
test_closed_mailbox_case_completes_with_eclosed(void **state)
{
	spry_mailbox    *mb;
	spry_select_case c[2];
	size_t           chosen;

	(void)state;
	spry_test_check(spry_mailbox_open(&mb, 2), 0);
	spry_test_check(spry_mailbox_trysend(mb, spry_test_item(1)), 0);
	spry_mailbox_close(mb);

	/* A RECV case still drains what was queued, then sees ECLOSED. */
	c[0] = recv_case(mb);
	spry_test_check(spry_select(NULL, c, 1, &chosen), 0);
	assert_int_equal(chosen, 0);
	spry_test_check(c[0].err, 0);
	assert_ptr_equal(c[0].item, spry_test_item(1));
	c[0] = recv_case(mb);
	spry_test_check(spry_select(NULL, c, 1, &chosen), 0);
	spry_test_check(c[0].err, SPRY_ECLOSED);
	spry_test_check(spry_tryselect(c, 1, &chosen), 0);
	spry_test_check(c[0].err, SPRY_ECLOSED);

	/* A SEND case completes at once; the item stays with the caller. */
	c[0] = send_case(mb, spry_test_item(7));
	spry_test_check(spry_select(NULL, c, 1, &chosen), 0);
	spry_test_check(c[0].err, SPRY_ECLOSED);
	assert_ptr_equal(c[0].item, spry_test_item(7));
	assert_int_equal(spry_mailbox_len(mb), 0);
	spry_mailbox_release(mb);
}

static void
test_close_completes_a_blocked_select_with_eclosed(void **state)
{
	spry_mailbox    *a, *b;
	spry_select_case c[2];
	select_arg       s = {.cases = c, .n = 2, .chosen = 99};

	(void)state;
	spry_test_check(spry_mailbox_open(&a, 2), 0);
	spry_test_check(spry_mailbox_open(&b, 2), 0);
	c[0] = recv_case(a);
	c[1] = recv_case(b);
	assert_int_equal(pthread_create(&s.thr, NULL, select_main, &s), 0);
	assert_true(spry_test_await_waiters(b, SPRY_SELECT_RECV, 1));
	spry_mailbox_close(b);
	assert_int_equal(pthread_join(s.thr, NULL), 0);
	spry_test_check(s.rv, 0);
	assert_int_equal(s.chosen, 1);
	spry_test_check(c[1].err, SPRY_ECLOSED);
	assert_int_equal(spry_test_waiters(a, SPRY_SELECT_RECV), 0);
	spry_mailbox_release(a);
	spry_mailbox_release(b);
}

#define FAIR_ROUNDS 100000

static void
test_select_is_fair_between_two_ready_cases(void **state)
{
	spry_mailbox    *mb[2];
	spry_select_case c[2];
	unsigned         count[2] = {0, 0};

	(void)state;
	for (int i = 0; i < 2; i++) {
		spry_test_check(spry_mailbox_open(&mb[i], 2), 0);
		spry_test_check(
		    spry_mailbox_trysend(mb[i], spry_test_item(i + 1)), 0);
	}
	for (int r = 0; r < FAIR_ROUNDS; r++) {
		size_t chosen = 99;

		c[0] = recv_case(mb[0]);
		c[1] = recv_case(mb[1]);
		spry_test_check(spry_select(NULL, c, 2, &chosen), 0);
		assert_true(chosen < 2);
		assert_ptr_equal(c[chosen].item, spry_test_item(chosen + 1));
		count[chosen]++;
		/* Put it back: both cases stay ready. */
		spry_test_check(
		    spry_mailbox_trysend(mb[chosen], c[chosen].item), 0);
	}
	if (count[0] < FAIR_ROUNDS * 2 / 5 || count[0] > FAIR_ROUNDS * 3 / 5) {
		fail_msg("case 0 chosen %u times, case 1 %u times", count[0],
		    count[1]);
	}
	for (int i = 0; i < 2; i++) {
		spry_mailbox_release(mb[i]);
	}
}

static void
test_select_with_a_ctx_deadline_gives_etimedout(void **state)
{
	spry_mailbox    *empty, *full;
	spry_select_case c[3];
	spry_ctx        *ctx;
	size_t           chosen = 99;

	(void)state;
	spry_test_check(spry_mailbox_open(&empty, 2), 0);
	spry_test_check(spry_mailbox_open(&full, 2), 0);
	spry_test_check(spry_mailbox_trysend(full, spry_test_item(1)), 0);
	spry_test_check(spry_mailbox_trysend(full, spry_test_item(2)), 0);
	c[0] = recv_case(empty);
	c[1] = send_case(full, spry_test_item(3));
	c[2] = recv_case(NULL);
	spry_test_check(spry_ctx_with_timeout(&ctx, NULL, SPRY_MSEC(5)), 0);
	spry_test_check(spry_select(ctx, c, 3, &chosen), SPRY_ETIMEDOUT);
	assert_int_equal(chosen, 99);
	assert_int_equal(spry_mailbox_len(full), 2);
	assert_int_equal(spry_test_waiters(empty, SPRY_SELECT_RECV), 0);
	assert_int_equal(spry_test_waiters(full, SPRY_SELECT_SEND), 0);
	spry_ctx_release(ctx);

	/* With no usable case, a deadline still makes the wait finite. */
	spry_test_check(spry_ctx_with_timeout(&ctx, NULL, SPRY_MSEC(5)), 0);
	spry_test_check(spry_select(ctx, &c[2], 1, &chosen), SPRY_ETIMEDOUT);
	spry_test_check(spry_select(ctx, NULL, 0, &chosen), SPRY_ETIMEDOUT);
	spry_ctx_release(ctx);
	spry_mailbox_release(empty);
	spry_mailbox_release(full);
}

/* Cancels ctx once a thread waits on mb in direction dir. */
typedef struct {
	pthread_t     thr;
	spry_ctx     *ctx;
	spry_mailbox *mb;
	bool          saw_waiter;
} cancel_arg;

static void *
cancel_main(void *arg)
{
	cancel_arg *a = arg;

	a->saw_waiter = spry_test_await_waiters(a->mb, SPRY_SELECT_RECV, 1);
	spry_ctx_cancel(a->ctx);
	return NULL;
}

static void
test_select_canceled_from_another_thread_gives_ecanceled(void **state)
{
	spry_mailbox    *a, *b;
	spry_select_case c[2];
	cancel_arg       k      = {0};
	size_t           chosen = 99;

	(void)state;
	spry_test_check(spry_mailbox_open(&a, 2), 0);
	spry_test_check(spry_mailbox_open(&b, 2), 0);
	c[0] = recv_case(a);
	c[1] = recv_case(b);
	spry_test_check(spry_ctx_with_cancel(&k.ctx, NULL), 0);
	k.mb = b;
	assert_int_equal(pthread_create(&k.thr, NULL, cancel_main, &k), 0);
	spry_test_check(spry_select(k.ctx, c, 2, &chosen), SPRY_ECANCELED);
	assert_int_equal(pthread_join(k.thr, NULL), 0);
	assert_true(k.saw_waiter);
	assert_int_equal(chosen, 99);
	assert_int_equal(spry_test_waiters(a, SPRY_SELECT_RECV), 0);
	assert_int_equal(spry_test_waiters(b, SPRY_SELECT_RECV), 0);
	/* Ended: a later select fails at once, even with nothing usable. */
	spry_test_check(spry_select(k.ctx, c, 2, &chosen), SPRY_ECANCELED);
	spry_test_check(spry_select(k.ctx, NULL, 0, &chosen), SPRY_ECANCELED);
	/* ...but a ready case is still taken. */
	spry_test_check(spry_mailbox_trysend(a, spry_test_item(1)), 0);
	spry_test_check(spry_select(k.ctx, c, 2, &chosen), 0);
	assert_int_equal(chosen, 0);
	spry_ctx_release(k.ctx);
	spry_mailbox_release(a);
	spry_mailbox_release(b);
}

static void
test_ctx_done_case_completes_with_eclosed_after_cancel(void **state)
{
	spry_mailbox    *mb, *done;
	spry_select_case c[2];
	cancel_arg       k      = {0};
	size_t           chosen = 99;

	(void)state;
	spry_test_check(spry_mailbox_open(&mb, 2), 0);
	spry_test_check(spry_ctx_with_cancel(&k.ctx, NULL), 0);
	done = spry_ctx_done(k.ctx);
	assert_non_null(done);
	c[0] = recv_case(mb);
	c[1] = recv_case(done);
	spry_test_check(spry_tryselect(c, 2, &chosen), SPRY_EAGAIN);

	/* Blocked with no ctx of its own: only the done case can end it. */
	k.mb = done;
	assert_int_equal(pthread_create(&k.thr, NULL, cancel_main, &k), 0);
	spry_test_check(spry_select(NULL, c, 2, &chosen), 0);
	assert_int_equal(pthread_join(k.thr, NULL), 0);
	assert_true(k.saw_waiter);
	assert_int_equal(chosen, 1);
	spry_test_check(c[1].err, SPRY_ECLOSED);
	assert_int_equal(spry_test_waiters(mb, SPRY_SELECT_RECV), 0);

	/* It stays that way. */
	spry_test_check(spry_tryselect(&c[1], 1, &chosen), 0);
	spry_test_check(c[1].err, SPRY_ECLOSED);
	spry_ctx_release(k.ctx);
	spry_mailbox_release(mb);
}

#define SELECT_MAX 65536 /* the most cases spry_select takes */

static void
test_select_rejects_bad_arguments(void **state)
{
	spry_mailbox     *mb;
	spry_select_case  c[2];
	spry_select_case *many;
	size_t            chosen = 99;

	(void)state;
	spry_test_check(spry_mailbox_open(&mb, 2), 0);
	spry_test_check(spry_mailbox_trysend(mb, spry_test_item(1)), 0);
	many = calloc(SELECT_MAX + 1, sizeof(*many));
	assert_non_null(many);
	for (size_t i = 0; i <= SELECT_MAX; i++) {
		many[i] = recv_case(NULL);
	}
	many[SELECT_MAX - 1] = recv_case(mb);

	/* A bad direction, even beside a ready case. */
	c[0]     = recv_case(mb);
	c[1]     = recv_case(mb);
	c[1].dir = 0;
	spry_test_check(spry_select(NULL, c, 2, &chosen), SPRY_EINVAL);
	spry_test_check(spry_tryselect(c, 2, &chosen), SPRY_EINVAL);
	c[1].dir = SPRY_SELECT_RECV | SPRY_SELECT_SEND;
	spry_test_check(spry_select(NULL, c, 2, &chosen), SPRY_EINVAL);
	c[1]     = recv_case(NULL);
	c[1].dir = 42; /* checked even on a disabled case */
	spry_test_check(spry_select(NULL, c, 2, &chosen), SPRY_EINVAL);

	/* Too many cases, even when one of them is ready. */
	spry_test_check(
	    spry_select(NULL, many, SELECT_MAX + 1, &chosen), SPRY_EINVAL);
	spry_test_check(
	    spry_tryselect(many, SELECT_MAX + 1, &chosen), SPRY_EINVAL);
	assert_int_equal(chosen, 99);
	/* The most allowed is fine. */
	spry_test_check(spry_tryselect(many, SELECT_MAX, &chosen), 0);
	assert_int_equal(chosen, SELECT_MAX - 1);
	spry_test_check(spry_mailbox_trysend(mb, spry_test_item(1)), 0);
	free(many);
	chosen = 99;

	/* No place for the answer; no array. */
	c[1] = recv_case(mb);
	spry_test_check(spry_select(NULL, c, 2, NULL), SPRY_EINVAL);
	spry_test_check(spry_tryselect(c, 2, NULL), SPRY_EINVAL);
	spry_test_check(spry_select(NULL, NULL, 2, &chosen), SPRY_EINVAL);

	/* Nothing could ever end it: no usable case, background ctx. */
	c[0] = recv_case(NULL);
	spry_test_check(spry_select(NULL, c, 1, &chosen), SPRY_EINVAL);
	spry_test_check(
	    spry_select(spry_ctx_background(), c, 1, &chosen), SPRY_EINVAL);
	spry_test_check(spry_select(NULL, NULL, 0, &chosen), SPRY_EINVAL);
	assert_int_equal(chosen, 99);

	/* Nothing was taken by any of these. */
	assert_int_equal(spry_mailbox_len(mb), 1);
	spry_mailbox_release(mb);
}

#define MANY_CASES 40

static void
test_select_over_many_cases_takes_the_one_that_turns_ready(void **state)
{
	spry_mailbox    *mb[MANY_CASES];
	spry_select_case c[MANY_CASES];
	select_arg       s = {.cases = c, .n = MANY_CASES};

	(void)state;
	for (int i = 0; i < MANY_CASES; i++) {
		spry_test_check(spry_mailbox_open(&mb[i], 2), 0);
		c[i] = recv_case(mb[i]);
	}
	for (int round = 0; round < 3; round++) {
		int pick = (round * 17 + 5) % MANY_CASES;

		s.chosen = 99;
		assert_int_equal(
		    pthread_create(&s.thr, NULL, select_main, &s), 0);
		assert_true(
		    spry_test_await_waiters(mb[pick], SPRY_SELECT_RECV, 1));
		spry_test_check(
		    spry_mailbox_trysend(mb[pick], spry_test_item(pick + 1)),
		    0);
		assert_int_equal(pthread_join(s.thr, NULL), 0);
		spry_test_check(s.rv, 0);
		assert_int_equal(s.chosen, pick);
		assert_ptr_equal(c[pick].item, spry_test_item(pick + 1));
	}
	for (int i = 0; i < MANY_CASES; i++) {
		assert_int_equal(
		    spry_test_waiters(mb[i], SPRY_SELECT_RECV), 0);
		spry_mailbox_release(mb[i]);
	}
}

/*
 * No lost wake-up: consumers select on the same two mailboxes while
 * producers send exactly the items they want, spread over both. Each
 * consumer stops after its share, so a wake-up that one consumer absorbs
 * without passing on leaves another parked beside a queued item: the
 * safety deadline turns that hang into a failure. Rounds alternate two
 * consumers and one producer with four consumers and two producers. The
 * threads live across rounds and meet at barriers, so rounds are cheap.
 */
#ifndef LW_ROUNDS
#define LW_ROUNDS 1000
#endif
#define LW_MAX_PRODUCERS 2
#define LW_MAX_CONSUMERS 4
#define LW_SHARE 4 /* items each consumer takes per round */
#define LW_MAX_ITEMS (LW_MAX_CONSUMERS * LW_SHARE)
#define LW_THREADS (LW_MAX_PRODUCERS + LW_MAX_CONSUMERS)

typedef struct {
	pthread_barrier_t start;     /* a round begins (or stop) */
	pthread_barrier_t end;       /* a round is over */
	spry_mailbox     *mb[2];     /* this round's mailboxes */
	spry_ctx         *safety;    /* this round's bound */
	unsigned          producers; /* taking part this round */
	unsigned          consumers; /* taking part this round */
	unsigned          items;     /* sent this round: consumers * share */
	uint8_t           seen[LW_MAX_ITEMS]; /* a flag per item (atomic) */
	bool              stop;               /* no more rounds */
} lw_shared;

/* Threads 0.. are producers, LW_MAX_PRODUCERS.. consumers. */
typedef struct {
	pthread_t  thr;
	lw_shared *sh;
	unsigned   id;  /* thread index */
	unsigned   got; /* consumer: items this round */
	unsigned   bad; /* consumer: duplicates or strays this round */
	int        rv;  /* this round's first error */
} lw_arg;

static void
lw_consume(lw_arg *a)
{
	lw_shared *sh = a->sh;

	if (a->id - LW_MAX_PRODUCERS >= sh->consumers) {
		return; /* sits this round out */
	}
	while (a->got < LW_SHARE) {
		spry_select_case c[2] = {
		    recv_case(sh->mb[0]), recv_case(sh->mb[1])};
		size_t    chosen;
		uintptr_t v;

		if ((a->rv = spry_select(sh->safety, c, 2, &chosen)) != 0 ||
		    (a->rv = c[chosen].err) != 0) {
			return;
		}
		v = (uintptr_t)c[chosen].item;
		if (v == 0 || v > sh->items ||
		    __atomic_exchange_n(
		        &sh->seen[v - 1], 1, __ATOMIC_RELAXED) != 0) {
			a->bad++;
		}
		a->got++;
	}
}

static void
lw_produce(lw_arg *a)
{
	lw_shared *sh = a->sh;

	if (a->id >= sh->producers) {
		return; /* sits this round out */
	}
	for (uintptr_t i = a->id; i < sh->items && a->rv == 0;
	     i += sh->producers) {
		a->rv = spry_mailbox_send(sh->safety,
		    sh->mb[(i / sh->producers) % 2], spry_test_item(i + 1));
	}
}

static void *
lw_main(void *arg)
{
	lw_arg *a = arg;

	for (;;) {
		pthread_barrier_wait(&a->sh->start);
		if (a->sh->stop) {
			return NULL;
		}
		a->got = a->bad = 0;
		a->rv           = 0;
		if (a->id < LW_MAX_PRODUCERS) {
			lw_produce(a);
		} else {
			lw_consume(a);
		}
		pthread_barrier_wait(&a->sh->end);
	}
}

/* Checks one round; 0 or the index of the first thread that failed + 1. */
static int
lw_check(lw_shared *sh, lw_arg *t)
{
	for (unsigned i = 0; i < LW_THREADS; i++) {
		bool consumer = i >= LW_MAX_PRODUCERS &&
		    i - LW_MAX_PRODUCERS < sh->consumers;

		if (t[i].rv != 0 || t[i].bad != 0 ||
		    (consumer && t[i].got != LW_SHARE)) {
			return (int)i + 1;
		}
	}
	for (unsigned i = 0; i < sh->items; i++) {
		if (sh->seen[i] != 1) {
			return LW_THREADS + 1;
		}
	}
	return 0;
}

static void
test_selectors_on_shared_mailboxes_lose_no_wakeup(void **state)
{
	lw_shared sh = {0};
	lw_arg    t[LW_THREADS];
	int       round, bad = 0;
	size_t    left[2] = {0, 0};

	(void)state;
	assert_int_equal(
	    pthread_barrier_init(&sh.start, NULL, LW_THREADS + 1), 0);
	assert_int_equal(
	    pthread_barrier_init(&sh.end, NULL, LW_THREADS + 1), 0);
	for (unsigned i = 0; i < LW_THREADS; i++) {
		t[i] = (lw_arg){.sh = &sh, .id = i};
		assert_int_equal(
		    pthread_create(&t[i].thr, NULL, lw_main, &t[i]), 0);
	}
	for (round = 0; round < LW_ROUNDS && bad == 0; round++) {
		spry_test_check(
		    spry_ctx_with_timeout(&sh.safety, NULL, WAIT_LIMIT), 0);
		for (int i = 0; i < 2; i++) {
			spry_test_check(spry_mailbox_open(&sh.mb[i], 2), 0);
		}
		sh.producers = round % 2 == 0 ? 1 : LW_MAX_PRODUCERS;
		sh.consumers = round % 2 == 0 ? 2 : LW_MAX_CONSUMERS;
		sh.items     = sh.consumers * LW_SHARE;
		memset(sh.seen, 0, sizeof(sh.seen));
		pthread_barrier_wait(&sh.start);
		pthread_barrier_wait(&sh.end);
		bad = lw_check(&sh, t);
		for (int i = 0; i < 2; i++) {
			left[i] = spry_mailbox_len(sh.mb[i]);
			spry_mailbox_release(sh.mb[i]);
		}
		spry_ctx_cancel(sh.safety);
		spry_ctx_release(sh.safety);
	}
	sh.stop = true;
	pthread_barrier_wait(&sh.start);
	for (int i = 0; i < LW_THREADS; i++) {
		assert_int_equal(pthread_join(t[i].thr, NULL), 0);
	}
	pthread_barrier_destroy(&sh.start);
	pthread_barrier_destroy(&sh.end);
	if (bad != 0) {
		lw_arg *f = bad <= LW_THREADS ? &t[bad - 1] : NULL;

		fail_msg("round %d: thread %d: got %u, %u bad, %s; %zu + %zu "
		         "left queued",
		    round - 1, bad - 1, f != NULL ? f->got : 0,
		    f != NULL ? f->bad : 0,
		    spry_strerror(f != NULL ? f->rv : 0), left[0], left[1]);
	}
}

/* Number of waiters on mb's receive list whose thread sleeps in the kernel. */
static size_t
asleep_count(spry_mailbox *mb)
{
	size_t n = 0;

	spry__spin_lock(&mb->lock);
	for (spry__waiter *w = mb->recvq; w != NULL;
	     w               = w->next == mb->recvq ? NULL : w->next) {
		n += __atomic_load_n(&w->parker->state, __ATOMIC_ACQUIRE) ==
		    SPRY__PARK_ASLEEP;
	}
	spry__spin_unlock(&mb->lock);
	return n;
}

static bool
await_asleep(spry_mailbox *mb, size_t n)
{
	spry_time limit = spry_deadline_after(WAIT_LIMIT);

	while (asleep_count(mb) != n) {
		if (spry_now() > limit) {
			return false;
		}
		sched_yield();
	}
	return true;
}

/*
 * A wake-up must not be lost when items become receivable out of the
 * order they were claimed. Replays, step by step, a producer preempted
 * between claiming slot 0 and publishing it (the test plays that producer
 * through the ring's internals) while another producer fills slot 1: the
 * fire for slot 1 wakes a receiver that finds slot 0 still in flight; it
 * must not park again (the slow producer's claim may predate its flag),
 * and once slot 0 is published both receivers get an item.
 */
static void
test_wakeup_is_passed_on_for_an_item_behind_a_slow_producer(void **state)
{
	spry_mailbox    *mb;
	spry_select_case c[2][1];
	select_arg       s[2];
	spry_ctx        *safety;
	uint64_t         h;
	void           **items;
	uint32_t        *seq;

	(void)state;
	spry_test_check(spry_mailbox_open(&mb, 4), 0);
	items = mb->ring; /* the layout given in mailbox.h */
	seq   = (uint32_t *)(items + spry_mailbox_capacity(mb));
	spry_test_check(spry_ctx_with_timeout(&safety, NULL, SPRY_SEC(10)), 0);
	for (int i = 0; i < 2; i++) {
		c[i][0] = recv_case(mb);
		s[i]    = (select_arg){.ctx = safety, .cases = c[i], .n = 1};
		assert_int_equal(
		    pthread_create(&s[i].thr, NULL, select_main, &s[i]), 0);
	}
	assert_true(await_asleep(mb, 2));

	/* The slow producer claims slot 0 (its claim sees the flag)... */
	h = __atomic_load_n(&mb->head, __ATOMIC_SEQ_CST);
	assert_true((h & SPRY__MB_WAIT) != 0 && (uint32_t)h == 0);
	assert_true(
	    __atomic_compare_exchange_n(&mb->head, &h, (h & ~SPRY__MB_POS) | 1,
	        false, __ATOMIC_SEQ_CST, __ATOMIC_SEQ_CST));
	/* ...another fills slot 1; the receiver it wakes finds slot 0 in
	 * flight and keeps trying instead of parking. */
	spry_test_check(spry_mailbox_trysend(mb, spry_test_item(2)), 0);
	/* The slow producer publishes slot 0 and wakes one receiver. */
	items[0] = spry_test_item(1);
	__atomic_store_n(&seq[0], 1, __ATOMIC_RELEASE);
	spry__mailbox_pass(mb, SPRY_SELECT_RECV);

	for (int i = 0; i < 2; i++) {
		assert_int_equal(pthread_join(s[i].thr, NULL), 0);
	}
	for (int i = 0; i < 2; i++) {
		if (s[i].rv != 0) {
			fail_msg("receiver %d: %s with %zu item(s) queued", i,
			    spry_strerror(s[i].rv), spry_mailbox_len(mb));
		}
	}
	assert_true(c[0][0].item != c[1][0].item);
	spry_ctx_cancel(safety);
	spry_ctx_release(safety);
	spry_mailbox_release(mb);
}

/* Set by the receiver of the test below once its select has returned. */
static uint32_t held_received;

static void *
select_then_say(void *arg)
{
	select_main(arg);
	__atomic_store_n(&held_received, 1, __ATOMIC_RELEASE);
	return NULL;
}

/* An owner hook that holds the sending thread until the receiver is done. */
static void
hold_until_received(spry_mailbox *mb, bool blocking)
{
	spry_time limit = spry_deadline_after(WAIT_LIMIT);

	(void)mb;
	(void)blocking;
	while (!__atomic_load_n(&held_received, __ATOMIC_ACQUIRE) &&
	    spry_now() < limit) {
		sched_yield();
	}
}

/*
 * A parked select looks again by itself every 50 ms and counts a case it
 * finds ready with no wake coming as a rescue (a lost wake-up). A wake
 * that is on its way must not count. The owner hook runs on the sending
 * thread after the send; here it holds that thread until the receiver
 * has returned, so the receiver could only return by its re-check if the
 * send's wake were still to come after the hook. The send must have made
 * its item ready and woken the receiver in one step: the receiver
 * returns at once, with the item, and no rescue is counted.
 */
static void
test_a_wake_on_its_way_is_no_rescue(void **state)
{
	spry_mailbox    *mb;
	spry_select_case c[1];
	select_arg       s       = {.cases = c, .n = 1};
	uint64_t         rescues = spry__select_rescues();

	(void)state;
	spry_test_check(spry_mailbox_open(&mb, 4), 0);
	mb->notify = hold_until_received; /* before any send, as owners do */
	__atomic_store_n(&held_received, 0, __ATOMIC_RELEASE);
	c[0] = recv_case(mb);
	assert_int_equal(pthread_create(&s.thr, NULL, select_then_say, &s), 0);
	assert_true(await_asleep(mb, 1)); /* parked: its flag is up */
	spry_test_check(spry_mailbox_trysend(mb, spry_test_item(1)), 0);
	assert_int_equal(pthread_join(s.thr, NULL), 0);
	spry_test_check(s.rv, 0);
	assert_ptr_equal(c[0].item, spry_test_item(1));
	assert_int_equal(spry__select_rescues(), rescues);
	spry_mailbox_release(mb);
}

#define FAN_PRODUCERS 64
#define FAN_PER_PRODUCER 500

typedef struct {
	pthread_t          thr;
	spry_mailbox      *mb;
	pthread_barrier_t *start;
	uintptr_t          id;
	int                rv;
} fan_arg;

static void *
fan_producer_main(void *arg)
{
	fan_arg *f = arg;

	pthread_barrier_wait(f->start);
	for (uintptr_t s = 0; s < FAN_PER_PRODUCER; s++) {
		if ((f->rv = spry_mailbox_send(NULL, f->mb,
		         spry_test_item(f->id * FAN_PER_PRODUCER + s + 1))) !=
		    0) {
			break;
		}
	}
	return NULL;
}

static void
test_fan_in_from_64_producers_reaches_one_consumer(void **state)
{
	fan_arg           prod[FAN_PRODUCERS];
	unsigned          next[FAN_PRODUCERS] = {0};
	pthread_barrier_t start;
	spry_mailbox     *mb, *idle;
	unsigned          got = 0, bad = 0;
	int               rv = 0;

	(void)state;
	spry_test_check(spry_mailbox_open(&mb, 16), 0);
	spry_test_check(spry_mailbox_open(&idle, 2), 0);
	assert_int_equal(
	    pthread_barrier_init(&start, NULL, FAN_PRODUCERS + 1), 0);
	for (uintptr_t i = 0; i < FAN_PRODUCERS; i++) {
		prod[i] = (fan_arg){.mb = mb, .start = &start, .id = i};
		assert_int_equal(pthread_create(&prod[i].thr, NULL,
		                     fan_producer_main, &prod[i]),
		    0);
	}
	pthread_barrier_wait(&start);
	/* The consumer selects: the fan-in mailbox and one that stays idle. */
	while (got < FAN_PRODUCERS * FAN_PER_PRODUCER) {
		spry_select_case c[2] = {recv_case(idle), recv_case(mb)};
		size_t           chosen, id, seq;

		if ((rv = spry_select(NULL, c, 2, &chosen)) != 0) {
			break;
		}
		if (chosen != 1 || c[1].err != 0) {
			bad++;
			break;
		}
		id  = ((uintptr_t)c[1].item - 1) / FAN_PER_PRODUCER;
		seq = ((uintptr_t)c[1].item - 1) % FAN_PER_PRODUCER;
		if (id >= FAN_PRODUCERS || seq != next[id]) {
			bad++;
			break;
		}
		next[id]++;
		got++;
	}
	spry_mailbox_close(mb); /* frees any producer left blocked */
	for (int i = 0; i < FAN_PRODUCERS; i++) {
		assert_int_equal(pthread_join(prod[i].thr, NULL), 0);
	}
	pthread_barrier_destroy(&start);
	spry_test_check(rv, 0);
	assert_int_equal(bad, 0);
	assert_int_equal(got, FAN_PRODUCERS * FAN_PER_PRODUCER);
	for (int i = 0; i < FAN_PRODUCERS; i++) {
		spry_test_check(prod[i].rv, 0);
		assert_int_equal(next[i], FAN_PER_PRODUCER);
	}
	spry_mailbox_release(mb);
	spry_mailbox_release(idle);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_tryselect_with_nothing_ready_gives_eagain),
	    cmocka_unit_test(test_select_performs_the_one_ready_case),
	    cmocka_unit_test(
	        test_send_case_queues_its_item_in_the_mailbox_with_room),
	    cmocka_unit_test(
	        test_blocked_select_completes_a_send_case_when_room_is_made),
	    cmocka_unit_test(test_null_mailbox_case_is_never_chosen),
	    cmocka_unit_test(test_closed_mailbox_case_completes_with_eclosed),
	    cmocka_unit_test(
	        test_close_completes_a_blocked_select_with_eclosed),
	    cmocka_unit_test(test_select_is_fair_between_two_ready_cases),
	    cmocka_unit_test(test_select_with_a_ctx_deadline_gives_etimedout),
	    cmocka_unit_test(
	        test_select_canceled_from_another_thread_gives_ecanceled),
	    cmocka_unit_test(
	        test_ctx_done_case_completes_with_eclosed_after_cancel),
	    cmocka_unit_test(test_select_rejects_bad_arguments),
	    cmocka_unit_test(
	        test_select_over_many_cases_takes_the_one_that_turns_ready),
	    cmocka_unit_test(
	        test_selectors_on_shared_mailboxes_lose_no_wakeup),
	    cmocka_unit_test(
	        test_wakeup_is_passed_on_for_an_item_behind_a_slow_producer),
	    cmocka_unit_test(test_a_wake_on_its_way_is_no_rescue),
	    cmocka_unit_test(
	        test_fan_in_from_64_producers_reaches_one_consumer),
	};

	return cmocka_run_group_tests(tests, spry_test_up, spry_test_down);
}
