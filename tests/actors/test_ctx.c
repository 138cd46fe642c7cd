/* SPDX-License-Identifier: MIT */
/*
 * tests/actors/test_ctx.c: the ctx tree: the background ctx, cancel and
 * its causes, ending whole subtrees (and only them), deadlines (expiry
 * through the runtime's timers, deadlines already past, the effective
 * deadline of a child), the done mailbox, and reference counting: every
 * release order frees everything, and ending a ctx frees what its timers
 * and those of its descendants held.
 *
 * Expiry is awaited by blocking on the done mailbox, never by sleeping;
 * a safety deadline on that wait turns a hang into a failure.
 */
#include "tests/support/support.h"

#include "actors/ctx.h"
#include "mailbox/alloc.h"

#include <pthread.h>
#include <sched.h>

/* Bound for waits that should end soon; only a bug reaches it. */
#define WAIT_LIMIT SPRY_SEC(30)

/* Block until ctx ends; returns what the wait on its done mailbox gave. */
static int
await_end(spry_ctx *ctx)
{
	spry_ctx *safety;
	void     *item;
	int       rv;

	if ((rv = spry_ctx_with_timeout(&safety, NULL, WAIT_LIMIT)) != 0) {
		return rv;
	}
	rv = spry_mailbox_recv(safety, spry_ctx_done(ctx), &item);
	spry_ctx_cancel(safety);
	spry_ctx_release(safety);
	return rv;
}

/* Wait until no ctx is live; false past the bound. */
static bool
await_no_ctx(void)
{
	spry_time limit = spry_deadline_after(WAIT_LIMIT);

	while (spry__ctx_live() != 0) {
		if (spry_now() > limit) {
			return false;
		}
		sched_yield();
	}
	return true;
}

static bool
ended(spry_ctx *ctx)
{
	return spry_mailbox_closed(spry_ctx_done(ctx));
}

/* root -> mid[0..1] -> leaf[i][0..1] */
typedef struct {
	spry_ctx *root;
	spry_ctx *mid[2];
	spry_ctx *leaf[2][2];
} tree;

static void
tree_open(tree *t)
{
	spry_test_check(spry_ctx_with_cancel(&t->root, NULL), 0);
	for (int i = 0; i < 2; i++) {
		spry_test_check(spry_ctx_with_cancel(&t->mid[i], t->root), 0);
		for (int j = 0; j < 2; j++) {
			spry_test_check(
			    spry_ctx_with_cancel(&t->leaf[i][j], t->mid[i]),
			    0);
		}
	}
	/* Done mailboxes made before anything ends, to see them close. */
	assert_false(ended(t->root));
	for (int i = 0; i < 2; i++) {
		assert_false(ended(t->mid[i]));
		for (int j = 0; j < 2; j++) {
			assert_false(ended(t->leaf[i][j]));
		}
	}
}

static void
tree_release(tree *t)
{
	spry_ctx_release(t->root);
	for (int i = 0; i < 2; i++) {
		spry_ctx_release(t->mid[i]);
		for (int j = 0; j < 2; j++) {
			spry_ctx_release(t->leaf[i][j]);
		}
	}
	assert_int_equal(spry__ctx_live(), 0);
}

static void
assert_ended(spry_ctx *ctx, int err, int cause)
{
	spry_test_check(spry_ctx_err(ctx), err);
	assert_int_equal(spry_ctx_cause(ctx), cause);
	assert_true(ended(ctx));
}

static void
assert_live(spry_ctx *ctx)
{
	spry_test_check(spry_ctx_err(ctx), 0);
	assert_int_equal(spry_ctx_cause(ctx), 0);
	assert_false(ended(ctx));
}

static void
test_background_ctx_never_ends(void **state)
{
	spry_ctx *bg = spry_ctx_background();

	(void)state;
	assert_non_null(bg);
	assert_ptr_equal(spry_ctx_background(), bg);
	for (int k = 0; k < 2; k++) {
		spry_ctx *c = k == 0 ? bg : NULL; /* NULL means background */

		spry_test_check(spry_ctx_err(c), 0);
		assert_int_equal(spry_ctx_cause(c), 0);
		assert_null(spry_ctx_done(c));
		assert_true(spry_ctx_deadline(c) == SPRY_TIME_NEVER);
		/* Cancel, hold and release do nothing to it. */
		spry_ctx_cancel(c);
		spry_ctx_cancel_cause(c, 5);
		spry_ctx_hold(c);
		spry_ctx_release(c);
		spry_ctx_release(c);
		spry_test_check(spry_ctx_err(c), 0);
		assert_int_equal(spry_ctx_cause(c), 0);
	}
	assert_int_equal(spry__ctx_live(), 0);
}

static void
test_with_cancel_gives_a_live_ctx_that_cancel_ends(void **state)
{
	spry_ctx     *a, *b;
	spry_mailbox *done;
	void         *item;

	(void)state;
	spry_test_check(spry_ctx_with_cancel(&a, NULL), 0);
	spry_test_check(spry_ctx_with_cancel(&b, spry_ctx_background()), 0);
	assert_int_equal(spry__ctx_live(), 2);
	assert_live(a);
	assert_true(spry_ctx_deadline(a) == SPRY_TIME_NEVER);
	done = spry_ctx_done(a);
	assert_non_null(done);
	assert_ptr_equal(spry_ctx_done(a), done); /* one per ctx */
	spry_test_check(spry_mailbox_tryrecv(done, &item), SPRY_EAGAIN);

	spry_ctx_cancel(a);
	assert_ended(a, SPRY_ECANCELED, SPRY_ECANCELED);
	spry_test_check(spry_mailbox_tryrecv(done, &item), SPRY_ECLOSED);
	assert_live(b); /* siblings under background are independent */
	spry_ctx_release(a);
	spry_ctx_release(b);
	assert_int_equal(spry__ctx_live(), 0);
}

static void
test_constructors_reject_a_null_out(void **state)
{
	(void)state;
	spry_test_check(spry_ctx_with_cancel(NULL, NULL), SPRY_EINVAL);
	spry_test_check(
	    spry_ctx_with_deadline(NULL, NULL, SPRY_TIME_NEVER), SPRY_EINVAL);
	spry_test_check(
	    spry_ctx_with_timeout(NULL, NULL, SPRY_SEC(1)), SPRY_EINVAL);
	assert_int_equal(spry__ctx_live(), 0);
}

static void
test_cancel_is_idempotent_and_keeps_the_first_error(void **state)
{
	spry_ctx *c, *d;

	(void)state;
	spry_test_check(spry_ctx_with_cancel(&c, NULL), 0);
	spry_ctx_cancel_cause(c, 42);
	spry_ctx_cancel(c);
	spry_ctx_cancel_cause(c, 7);
	assert_ended(c, SPRY_ECANCELED, 42);
	spry_ctx_release(c);

	spry_test_check(spry_ctx_with_cancel(&c, NULL), 0);
	spry_ctx_cancel(c);
	spry_ctx_cancel_cause(c, 7);
	assert_ended(c, SPRY_ECANCELED, SPRY_ECANCELED);
	spry_ctx_release(c);

	/* A ctx that timed out stays timed out. */
	spry_test_check(
	    spry_ctx_with_deadline(&d, NULL, spry_now() - SPRY_SEC(1)), 0);
	spry_ctx_cancel(d);
	spry_ctx_cancel_cause(d, 7);
	assert_ended(d, SPRY_ETIMEDOUT, SPRY_ETIMEDOUT);
	spry_ctx_release(d);
	assert_int_equal(spry__ctx_live(), 0);
}

static void
test_cancel_of_the_root_ends_a_whole_three_level_tree(void **state)
{
	tree t;

	(void)state;
	tree_open(&t);
	assert_int_equal(spry__ctx_live(), 7);
	spry_ctx_cancel(t.root);
	/* Synchronous: everything has ended when cancel returns. */
	assert_ended(t.root, SPRY_ECANCELED, SPRY_ECANCELED);
	for (int i = 0; i < 2; i++) {
		assert_ended(t.mid[i], SPRY_ECANCELED, SPRY_ECANCELED);
		for (int j = 0; j < 2; j++) {
			assert_ended(
			    t.leaf[i][j], SPRY_ECANCELED, SPRY_ECANCELED);
		}
	}
	tree_release(&t);
}

static void
test_cancel_of_a_middle_node_ends_only_its_subtree(void **state)
{
	tree t;

	(void)state;
	tree_open(&t);
	spry_ctx_cancel_cause(t.mid[1], 77);
	assert_ended(t.mid[1], SPRY_ECANCELED, 77);
	assert_ended(t.leaf[1][0], SPRY_ECANCELED, 77);
	assert_ended(t.leaf[1][1], SPRY_ECANCELED, 77);
	assert_live(t.root);
	assert_live(t.mid[0]);
	assert_live(t.leaf[0][0]);
	assert_live(t.leaf[0][1]);

	/* A leaf ends alone. */
	spry_ctx_cancel(t.leaf[0][1]);
	assert_ended(t.leaf[0][1], SPRY_ECANCELED, SPRY_ECANCELED);
	assert_live(t.mid[0]);
	assert_live(t.leaf[0][0]);

	/* Then the root ends the rest; what had ended keeps its cause. */
	spry_ctx_cancel_cause(t.root, 99);
	assert_ended(t.root, SPRY_ECANCELED, 99);
	assert_ended(t.mid[0], SPRY_ECANCELED, 99);
	assert_ended(t.leaf[0][0], SPRY_ECANCELED, 99);
	assert_ended(t.leaf[0][1], SPRY_ECANCELED, SPRY_ECANCELED);
	assert_ended(t.mid[1], SPRY_ECANCELED, 77);
	assert_ended(t.leaf[1][0], SPRY_ECANCELED, 77);
	tree_release(&t);
}

static void
test_deadline_expiry_gives_etimedout_and_ends_descendants(void **state)
{
	spry_ctx *p, *child, *late, *grand, *other;

	(void)state;
	/*
	 * Nothing here asserts when the deadline passes, only what it ends:
	 * on a slow machine the tree may even be made after it (the nodes
	 * then start ended), and every assertion still holds.
	 */
	spry_test_check(spry_ctx_with_timeout(&p, NULL, SPRY_MSEC(50)), 0);
	spry_test_check(spry_ctx_with_cancel(&child, p), 0);
	spry_test_check(spry_ctx_with_timeout(&late, p, SPRY_SEC(3600)), 0);
	spry_test_check(spry_ctx_with_cancel(&grand, child), 0);
	spry_test_check(spry_ctx_with_cancel(&other, NULL), 0);
	/* Done mailboxes made now, to be closed by the walk. */
	(void)spry_ctx_done(child);
	(void)spry_ctx_done(late);
	(void)spry_ctx_done(grand);
	assert_true(spry_ctx_deadline(late) == spry_ctx_deadline(p));

	spry_test_check(await_end(p), SPRY_ECLOSED);
	assert_ended(p, SPRY_ETIMEDOUT, SPRY_ETIMEDOUT);
	/*
	 * The descendants end in the same walk (their done mailboxes close
	 * without anyone asking for their error): wait for each, then look.
	 */
	spry_test_check(await_end(child), SPRY_ECLOSED);
	spry_test_check(await_end(late), SPRY_ECLOSED);
	spry_test_check(await_end(grand), SPRY_ECLOSED);
	assert_ended(child, SPRY_ETIMEDOUT, SPRY_ETIMEDOUT);
	assert_ended(late, SPRY_ETIMEDOUT, SPRY_ETIMEDOUT);
	assert_ended(grand, SPRY_ETIMEDOUT, SPRY_ETIMEDOUT);
	assert_live(other);

	spry_ctx_release(grand);
	spry_ctx_release(child);
	spry_ctx_release(late);
	spry_ctx_release(p);
	spry_ctx_release(other);
	/* The expired timer's own reference goes on a worker: wait for it. */
	assert_true(await_no_ctx());
}

static void
test_blocked_receivers_see_their_deadline_pass(void **state)
{
	spry_ctx     *ctx;
	spry_mailbox *mb;
	void         *item;

	(void)state;
	spry_test_check(spry_mailbox_open(&mb, 2), 0);
	spry_test_check(spry_ctx_with_timeout(&ctx, NULL, SPRY_MSEC(10)), 0);
	spry_test_check(spry_mailbox_recv(ctx, mb, &item), SPRY_ETIMEDOUT);
	spry_test_check(spry_ctx_err(ctx), SPRY_ETIMEDOUT);
	assert_true(ended(ctx));
	spry_ctx_release(ctx);
	spry_mailbox_release(mb);
	assert_true(await_no_ctx());
}

static void
test_child_of_an_ended_parent_starts_ended(void **state)
{
	spry_ctx *p, *q, *c, *d, *e;

	(void)state;
	spry_test_check(spry_ctx_with_cancel(&p, NULL), 0);
	spry_ctx_cancel_cause(p, 99);
	spry_test_check(spry_ctx_with_cancel(&c, p), 0);
	assert_ended(c, SPRY_ECANCELED, 99);
	spry_test_check(
	    spry_ctx_with_deadline(&d, p, spry_deadline_after(SPRY_SEC(60))),
	    0);
	assert_ended(d, SPRY_ECANCELED, 99);
	spry_test_check(spry_ctx_with_cancel(&e, c), 0); /* and below */
	assert_ended(e, SPRY_ECANCELED, 99);
	spry_ctx_release(e);
	spry_ctx_release(d);
	spry_ctx_release(c);
	spry_ctx_release(p);

	spry_test_check(
	    spry_ctx_with_deadline(&q, NULL, spry_now() - SPRY_MSEC(1)), 0);
	spry_test_check(spry_ctx_with_cancel(&c, q), 0);
	assert_ended(c, SPRY_ETIMEDOUT, SPRY_ETIMEDOUT);
	spry_ctx_release(c);
	spry_ctx_release(q);
	assert_int_equal(spry__ctx_live(), 0);
}

static void
test_deadline_in_the_past_ends_at_once(void **state)
{
	spry_ctx *a, *b, *c, *p, *d;

	(void)state;
	spry_test_check(
	    spry_ctx_with_deadline(&a, NULL, spry_now() - SPRY_SEC(1)), 0);
	spry_test_check(spry_ctx_with_deadline(&b, NULL, 0), 0);
	spry_test_check(spry_ctx_with_timeout(&c, NULL, 0), 0);
	assert_ended(a, SPRY_ETIMEDOUT, SPRY_ETIMEDOUT);
	assert_ended(b, SPRY_ETIMEDOUT, SPRY_ETIMEDOUT);
	assert_ended(c, SPRY_ETIMEDOUT, SPRY_ETIMEDOUT);
	assert_true(spry_ctx_deadline(b) == 0);

	/* Under a live parent, only the child ends. */
	spry_test_check(spry_ctx_with_cancel(&p, NULL), 0);
	spry_test_check(spry_ctx_with_deadline(&d, p, 1), 0);
	assert_ended(d, SPRY_ETIMEDOUT, SPRY_ETIMEDOUT);
	assert_live(p);
	spry_ctx_release(p); /* parent first: the child still holds it */
	spry_ctx_release(d);
	spry_ctx_release(a);
	spry_ctx_release(b);
	spry_ctx_release(c);
	/* Nothing was armed for them: gone at once. */
	assert_int_equal(spry__ctx_live(), 0);
}

static void
test_effective_deadline_is_the_earlier_of_parent_and_own(void **state)
{
	spry_time now  = spry_now();
	spry_time hour = now + SPRY_SEC(3600);
	spry_ctx *p, *later, *earlier, *plain, *negative, *grand, *free_;

	(void)state;
	spry_test_check(spry_ctx_with_deadline(&p, NULL, hour), 0);
	assert_true(spry_ctx_deadline(p) == hour);
	spry_test_check(
	    spry_ctx_with_deadline(&later, p, hour + SPRY_SEC(3600)), 0);
	assert_true(spry_ctx_deadline(later) == hour);
	spry_test_check(
	    spry_ctx_with_deadline(&earlier, p, hour - SPRY_SEC(1800)), 0);
	assert_true(spry_ctx_deadline(earlier) == hour - SPRY_SEC(1800));
	spry_test_check(spry_ctx_with_cancel(&plain, p), 0);
	assert_true(spry_ctx_deadline(plain) == hour);
	spry_test_check(spry_ctx_with_timeout(&negative, p, -1), 0);
	assert_true(spry_ctx_deadline(negative) == hour);
	spry_test_check(spry_ctx_with_deadline(&grand, earlier, hour), 0);
	assert_true(spry_ctx_deadline(grand) == hour - SPRY_SEC(1800));
	spry_test_check(spry_ctx_with_timeout(&free_, NULL, -1), 0);
	assert_true(spry_ctx_deadline(free_) == SPRY_TIME_NEVER);
	assert_live(free_);

	/* Ending p frees what every timer below it held. */
	spry_ctx_cancel(p);
	spry_ctx_release(grand);
	spry_ctx_release(negative);
	spry_ctx_release(plain);
	spry_ctx_release(earlier);
	spry_ctx_release(later);
	spry_ctx_release(p);
	spry_ctx_release(free_);
	assert_int_equal(spry__ctx_live(), 0);
}

static void
test_cancel_cause_reaches_every_descendant_it_ends(void **state)
{
	tree t;

	(void)state;
	tree_open(&t);
	spry_ctx_cancel_cause(t.root, 1234);
	assert_ended(t.root, SPRY_ECANCELED, 1234);
	for (int i = 0; i < 2; i++) {
		assert_ended(t.mid[i], SPRY_ECANCELED, 1234);
		for (int j = 0; j < 2; j++) {
			assert_ended(t.leaf[i][j], SPRY_ECANCELED, 1234);
		}
	}
	tree_release(&t);

	/* Any int, even a negative one or an error code, is kept as is. */
	tree_open(&t);
	spry_ctx_cancel_cause(t.mid[0], -3);
	spry_ctx_cancel_cause(t.mid[1], SPRY_ECONNRESET);
	assert_ended(t.leaf[0][1], SPRY_ECANCELED, -3);
	assert_ended(t.leaf[1][1], SPRY_ECANCELED, SPRY_ECONNRESET);
	assert_live(t.root);
	tree_release(&t);
}

typedef struct {
	pthread_t     thr;
	spry_mailbox *done;
	int           rv;
} done_waiter;

static void *
done_waiter_main(void *arg)
{
	done_waiter *w = arg;
	void        *item;

	w->rv = spry_mailbox_recv(NULL, w->done, &item);
	return NULL;
}

static void
test_done_closes_when_the_ctx_ends_and_wakes_its_receivers(void **state)
{
	spry_ctx   *p, *c;
	done_waiter w[2];
	void       *item;

	(void)state;
	spry_test_check(spry_ctx_with_cancel(&p, NULL), 0);
	spry_test_check(spry_ctx_with_cancel(&c, p), 0);
	w[0] = (done_waiter){.done = spry_ctx_done(p)};
	w[1] = (done_waiter){.done = spry_ctx_done(c)};
	for (int i = 0; i < 2; i++) {
		assert_non_null(w[i].done);
		assert_false(spry_mailbox_closed(w[i].done));
		assert_int_equal(
		    pthread_create(&w[i].thr, NULL, done_waiter_main, &w[i]),
		    0);
	}
	/* Whether or not they block yet, cancel must reach them. */
	spry_ctx_cancel(p);
	for (int i = 0; i < 2; i++) {
		assert_int_equal(pthread_join(w[i].thr, NULL), 0);
		spry_test_check(w[i].rv, SPRY_ECLOSED);
		assert_true(spry_mailbox_closed(w[i].done));
		spry_test_check(
		    spry_mailbox_tryrecv(w[i].done, &item), SPRY_ECLOSED);
	}
	/* Asked for only after the end: closed from the start. */
	spry_ctx_release(c);
	spry_test_check(spry_ctx_with_cancel(&c, NULL), 0);
	spry_ctx_cancel(c);
	assert_true(spry_mailbox_closed(spry_ctx_done(c)));
	spry_ctx_release(c);
	spry_ctx_release(p);
	assert_int_equal(spry__ctx_live(), 0);
}

static void
test_release_in_any_order_leaves_nothing_live(void **state)
{
	int64_t   blocks = spry__alloc_live();
	spry_ctx *root, *child, *grand;

	(void)state;
	/* Child before parent. */
	spry_test_check(spry_ctx_with_cancel(&root, NULL), 0);
	spry_test_check(spry_ctx_with_cancel(&child, root), 0);
	spry_test_check(spry_ctx_with_cancel(&grand, child), 0);
	(void)spry_ctx_done(grand);
	(void)spry_ctx_done(root);
	spry_ctx_release(grand);
	assert_int_equal(spry__ctx_live(), 2);
	spry_ctx_release(child);
	assert_int_equal(spry__ctx_live(), 1);
	spry_ctx_release(root);
	assert_int_equal(spry__ctx_live(), 0);
	assert_int_equal(spry__alloc_live(), blocks);

	/* Parent before child: each is held by the one below it. */
	spry_test_check(spry_ctx_with_cancel(&root, NULL), 0);
	spry_test_check(spry_ctx_with_cancel(&child, root), 0);
	spry_test_check(spry_ctx_with_cancel(&grand, child), 0);
	(void)spry_ctx_done(child);
	spry_ctx_release(root);
	spry_ctx_release(child);
	assert_int_equal(spry__ctx_live(), 3);
	assert_live(child); /* releasing does not cancel */
	spry_ctx_cancel(grand);
	assert_live(child);
	spry_ctx_release(grand);
	assert_int_equal(spry__ctx_live(), 0);
	assert_int_equal(spry__alloc_live(), blocks);

	/* Middle first, with an extra hold on the root, after a cancel. */
	spry_test_check(spry_ctx_with_cancel(&root, NULL), 0);
	spry_test_check(spry_ctx_with_cancel(&child, root), 0);
	spry_test_check(spry_ctx_with_cancel(&grand, child), 0);
	spry_ctx_hold(root);
	spry_ctx_cancel(root);
	spry_ctx_release(child);
	spry_ctx_release(root);
	spry_ctx_release(grand);
	assert_int_equal(spry__ctx_live(), 1);
	assert_ended(root, SPRY_ECANCELED, SPRY_ECANCELED);
	spry_ctx_release(root);
	assert_int_equal(spry__ctx_live(), 0);
	assert_int_equal(spry__alloc_live(), blocks);
}

static void
test_ending_a_ctx_frees_the_timers_of_its_descendants(void **state)
{
	spry_ctx *root, *child, *grand, *own;

	(void)state;
	/* Deadlines far off: only ending them can free these now. */
	spry_test_check(spry_ctx_with_cancel(&root, NULL), 0);
	spry_test_check(
	    spry_ctx_with_timeout(&child, root, SPRY_SEC(3600)), 0);
	spry_test_check(
	    spry_ctx_with_timeout(&grand, child, SPRY_SEC(1800)), 0);
	spry_test_check(spry_ctx_with_timeout(&own, NULL, SPRY_SEC(3600)), 0);

	/* Its own cancel frees a ctx's timer... */
	spry_ctx_cancel(own);
	spry_ctx_release(own);
	assert_int_equal(spry__ctx_live(), 3);
	/* ...and so does an ancestor's, for every timer below it. */
	spry_ctx_cancel(root);
	spry_ctx_release(grand);
	spry_ctx_release(child);
	assert_int_equal(spry__ctx_live(), 1);
	spry_ctx_release(root);
	assert_int_equal(spry__ctx_live(), 0);
}

#define RACE_CHILDREN 400

typedef struct {
	pthread_t thr;
	spry_ctx *parent;
	unsigned  made; /* children made so far (atomic) */
	int       rv;
} maker_arg;

static void *
maker_main(void *arg)
{
	maker_arg *m = arg;

	for (unsigned i = 0; i < RACE_CHILDREN; i++) {
		spry_ctx *c;

		if ((m->rv = spry_ctx_with_timeout(
		         &c, m->parent, SPRY_SEC(3600))) != 0) {
			break;
		}
		spry_ctx_release(c); /* its timer holds it until it ends */
		__atomic_store_n(&m->made, i + 1, __ATOMIC_RELEASE);
	}
	return NULL;
}

static void
test_children_made_while_their_parent_ends_are_all_freed(void **state)
{
	spry_time limit = spry_deadline_after(WAIT_LIMIT);
	maker_arg m     = {0};

	(void)state;
	/* Cancel lands while children are being made and armed. */
	spry_test_check(spry_ctx_with_cancel(&m.parent, NULL), 0);
	assert_int_equal(pthread_create(&m.thr, NULL, maker_main, &m), 0);
	while (
	    __atomic_load_n(&m.made, __ATOMIC_ACQUIRE) < RACE_CHILDREN / 2 &&
	    spry_now() < limit) {
		sched_yield();
	}
	spry_ctx_cancel(m.parent);
	assert_int_equal(pthread_join(m.thr, NULL), 0);
	spry_test_check(m.rv, 0);
	assert_int_equal(m.made, RACE_CHILDREN);
	spry_ctx_release(m.parent);
	/* Every child ended, so no timer may still hold one. */
	assert_int_equal(spry__ctx_live(), 0);
}

#define MANY_DEADLINES 32
#define CANCELED_ONE 5 /* its deadline is far off; it is canceled */

static void
test_many_deadlines_each_end_their_ctx_once(void **state)
{
	spry_ctx *ctx[MANY_DEADLINES];

	(void)state;
	/* Armed in an order unlike their deadlines, to shuffle the heap. */
	for (int i = 0; i < MANY_DEADLINES; i++) {
		int           k  = (i * 7) % MANY_DEADLINES;
		spry_duration in = i == CANCELED_ONE ?
		    SPRY_SEC(3600) :
		    SPRY_MSEC(1) + SPRY_USEC(300) * k;

		spry_test_check(spry_ctx_with_timeout(&ctx[i], NULL, in), 0);
	}
	spry_ctx_cancel(ctx[CANCELED_ONE]); /* leaves the heap early */
	for (int i = 0; i < MANY_DEADLINES; i++) {
		spry_test_check(await_end(ctx[i]), SPRY_ECLOSED);
		spry_test_check(spry_ctx_err(ctx[i]),
		    i == CANCELED_ONE ? SPRY_ECANCELED : SPRY_ETIMEDOUT);
		spry_ctx_release(ctx[i]);
	}
	assert_true(await_no_ctx());
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_background_ctx_never_ends),
	    cmocka_unit_test(
	        test_with_cancel_gives_a_live_ctx_that_cancel_ends),
	    cmocka_unit_test(test_constructors_reject_a_null_out),
	    cmocka_unit_test(
	        test_cancel_is_idempotent_and_keeps_the_first_error),
	    cmocka_unit_test(
	        test_cancel_of_the_root_ends_a_whole_three_level_tree),
	    cmocka_unit_test(
	        test_cancel_of_a_middle_node_ends_only_its_subtree),
	    cmocka_unit_test(
	        test_deadline_expiry_gives_etimedout_and_ends_descendants),
	    cmocka_unit_test(test_blocked_receivers_see_their_deadline_pass),
	    cmocka_unit_test(test_child_of_an_ended_parent_starts_ended),
	    cmocka_unit_test(test_deadline_in_the_past_ends_at_once),
	    cmocka_unit_test(
	        test_effective_deadline_is_the_earlier_of_parent_and_own),
	    cmocka_unit_test(
	        test_cancel_cause_reaches_every_descendant_it_ends),
	    cmocka_unit_test(
	        test_done_closes_when_the_ctx_ends_and_wakes_its_receivers),
	    cmocka_unit_test(test_release_in_any_order_leaves_nothing_live),
	    cmocka_unit_test(
	        test_ending_a_ctx_frees_the_timers_of_its_descendants),
	    cmocka_unit_test(
	        test_children_made_while_their_parent_ends_are_all_freed),
	    cmocka_unit_test(test_many_deadlines_each_end_their_ctx_once),
	};

	return cmocka_run_group_tests(tests, spry_test_up, spry_test_down);
}
