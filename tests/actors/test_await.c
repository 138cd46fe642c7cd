/* SPDX-License-Identifier: MIT */
/*
 * tests/actors/test_await.c: spry_actor_await, what an actor does instead
 * of blocking on a mailbox: one SPRY_EV_READY once the mailbox has room
 * (or an item), at once if it has already, on close too; canceled awaits
 * never fire; awaits die with their actor and let go of the mailbox; and
 * an actor streams through a full mailbox and a socket's full sendbox,
 * awaiting room whenever a trysend fails, with nothing lost or reordered;
 * and REP workers (docs/async.md's) answer every request through a
 * 2-deep sendbox, holding what finds no room.
 *
 * Actors report to the test thread through a mailbox; the test thread
 * waits with generous ctx deadlines that only guard against hangs.
 */
#include "tests/support/support.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>

enum { R_START = 1, R_READY, R_DONE };

/* What a one-shot awaiter does, set before it is spawned. */
struct one {
	spry_mailbox *mb;     /* the mailbox it awaits */
	int           dir;    /* SPRY_SELECT_SEND: it sends 77; RECV: takes */
	bool          cancel; /* await with tag 1 and cancel it first */
	uint64_t      id;     /* the await's id (its own turns) */
};

/* Try o's operation once; a receive that takes an item reports it. */
static int
one_try(struct one *o)
{
	void *item = NULL;
	int   rv;

	if (o->dir == SPRY_SELECT_SEND) {
		return spry_mailbox_trysend(o->mb, spry_test_item(77));
	}
	if ((rv = spry_mailbox_tryrecv(o->mb, &item)) == 0) {
		spry_test_put(R_DONE, 0, (uintptr_t)item);
		return 0;
	}
	return rv;
}

/*
 * On START: try the operation; on SPRY_EAGAIN await mb (tag 2) and report
 * R_START with the id. On READY: report the tag and id, try again and
 * report R_DONE with the result (for a receive, the item in b).
 */
static int
one(spry_actor *self, const spry_event *ev, void *st)
{
	struct one *o = st;
	uint64_t    first;
	int         rv;

	if (ev->type == SPRY_EV_START) {
		spry_test_check(
		    spry_actor_await(self, NULL, o->dir, NULL, NULL),
		    SPRY_EINVAL);
		spry_test_check(
		    spry_actor_await(self, o->mb, 0, NULL, NULL), SPRY_EINVAL);
		if (o->cancel) {
			spry_test_check(spry_actor_await(self, o->mb, o->dir,
			                    spry_test_item(1), &first),
			    0);
			spry_test_check(
			    spry_actor_cancel_await(self, first), 0);
			spry_test_check(
			    spry_actor_cancel_await(self, first), SPRY_ENOENT);
		}
		if ((rv = one_try(o)) == SPRY_EAGAIN) {
			spry_test_check(spry_actor_await(self, o->mb, o->dir,
			                    spry_test_item(2), &o->id),
			    0);
		}
		spry_test_put(R_START, rv, o->id);
	} else if (ev->type == SPRY_EV_READY) {
		spry_test_put(R_READY, (int)(uintptr_t)ev->msg, ev->ref);
		rv = one_try(o);
		if (o->dir == SPRY_SELECT_SEND || rv != 0) {
			spry_test_put(R_DONE, rv, 0);
		}
	}
	return SPRY_CONTINUE;
}

static spry_actor *
spawn_one(struct one *o)
{
	spry_actor_opts opts = SPRY_ACTOR_OPTS_INIT;
	spry_actor     *a;

	opts.behavior = one;
	opts.state    = o;
	spry_test_check(spry_actor_spawn(&a, &opts), 0);
	return a;
}

static void
end_one(spry_actor *a)
{
	spry_actor_stop(a);
	spry_test_check(spry_actor_wait(NULL, a, NULL), 0);
	spry_actor_release(a);
}

/* A mailbox of capacity 2 holding n items 1..n. */
static spry_mailbox *
box_with(int n)
{
	spry_mailbox *mb;

	spry_test_check(spry_mailbox_open(&mb, 2), 0);
	for (int i = 1; i <= n; i++) {
		spry_test_check(
		    spry_mailbox_trysend(mb, spry_test_item((uintptr_t)i)), 0);
	}
	return mb;
}

static void
expect_ready(uint64_t id)
{
	spry_test_report r = spry_test_get();

	assert_int_equal(r.what, R_READY);
	assert_int_equal(r.a, 2); /* the tag */
	assert_int_equal(r.b, id);
}

static void
test_await_send_fires_when_room_comes(void **state)
{
	struct one       o = {.mb = box_with(2), .dir = SPRY_SELECT_SEND};
	spry_actor      *a = spawn_one(&o);
	spry_test_report r = spry_test_get();
	void            *item;

	(void)state;
	assert_int_equal(r.what, R_START);
	assert_int_equal(r.a, SPRY_EAGAIN); /* full: it awaits */
	spry_test_check(spry_mailbox_tryrecv(o.mb, &item), 0);
	assert_ptr_equal(item, spry_test_item(1));
	expect_ready(r.b);
	r = spry_test_get();
	assert_int_equal(r.what, R_DONE);
	assert_int_equal(r.a, 0); /* the room was there: its send went in */
	spry_test_check(spry_mailbox_tryrecv(o.mb, &item), 0);
	assert_ptr_equal(item, spry_test_item(2));
	spry_test_check(spry_mailbox_tryrecv(o.mb, &item), 0);
	assert_ptr_equal(item, spry_test_item(77));
	end_one(a);
	spry_mailbox_release(o.mb);
}

static void
test_await_recv_fires_when_an_item_comes(void **state)
{
	struct one       o = {.mb = box_with(0), .dir = SPRY_SELECT_RECV};
	spry_actor      *a = spawn_one(&o);
	spry_test_report r = spry_test_get();

	(void)state;
	assert_int_equal(r.what, R_START);
	assert_int_equal(r.a, SPRY_EAGAIN); /* empty: it awaits */
	spry_test_check(spry_mailbox_trysend(o.mb, spry_test_item(5)), 0);
	expect_ready(r.b);
	r = spry_test_get();
	assert_int_equal(r.what, R_DONE);
	assert_int_equal(r.b, 5);
	end_one(a);
	spry_mailbox_release(o.mb);
}

/* Awaiting what is there already: the event comes without any help. */
static int
early(spry_actor *self, const spry_event *ev, void *st)
{
	uint64_t id;

	if (ev->type == SPRY_EV_START) {
		spry_test_check(
		    spry_actor_await(self, st, SPRY_SELECT_SEND, NULL, &id),
		    0);
		spry_test_put(R_START, 0, id);
	} else if (ev->type == SPRY_EV_READY) {
		spry_test_put(R_READY, 0, ev->ref);
	}
	return SPRY_CONTINUE;
}

static void
test_await_on_a_ready_mailbox_fires_at_once(void **state)
{
	spry_actor_opts  opts = SPRY_ACTOR_OPTS_INIT;
	spry_mailbox    *mb   = box_with(1); /* room for one more */
	spry_actor      *a;
	spry_test_report r, s;

	(void)state;
	opts.behavior = early;
	opts.state    = mb;
	spry_test_check(spry_actor_spawn(&a, &opts), 0);
	r = spry_test_get();
	s = spry_test_get();
	assert_int_equal(r.what, R_START);
	assert_int_equal(s.what, R_READY);
	assert_int_equal(s.b, r.b);
	assert_int_equal(spry_test_waiters(mb, SPRY_SELECT_SEND), 0);
	end_one(a);
	spry_mailbox_release(mb);
}

static void
test_await_fires_on_close(void **state)
{
	struct one       o = {.mb = box_with(2), .dir = SPRY_SELECT_SEND};
	spry_actor      *a = spawn_one(&o);
	spry_test_report r = spry_test_get();

	(void)state;
	assert_int_equal(r.a, SPRY_EAGAIN);
	spry_mailbox_close(o.mb);
	expect_ready(r.b);
	r = spry_test_get();
	assert_int_equal(r.what, R_DONE);
	assert_int_equal(r.a, SPRY_ECLOSED);
	end_one(a);
	spry_mailbox_release(o.mb);
}

static void
test_canceled_await_never_fires(void **state)
{
	struct one o = {
	    .mb = box_with(2), .dir = SPRY_SELECT_SEND, .cancel = true};
	spry_actor      *a = spawn_one(&o);
	spry_test_report r = spry_test_get();
	void            *item;

	(void)state;
	assert_int_equal(r.a, SPRY_EAGAIN);
	spry_test_check(spry_mailbox_tryrecv(o.mb, &item), 0);
	expect_ready(r.b); /* tag 2: the canceled await (tag 1) stays quiet */
	r = spry_test_get();
	assert_int_equal(r.a, 0);
	end_one(a);
	/* Everything the actor reported came before it ended. */
	assert_int_equal(spry_test_reports_queued(), 0);
	spry_mailbox_release(o.mb);
}

static void
test_pending_awaits_die_with_their_actor(void **state)
{
	struct one       o = {.mb = box_with(0), .dir = SPRY_SELECT_RECV};
	spry_actor      *a = spawn_one(&o);
	spry_test_report r = spry_test_get();

	(void)state;
	assert_int_equal(r.a, SPRY_EAGAIN);
	assert_int_equal(spry_test_waiters(o.mb, SPRY_SELECT_RECV), 1);
	end_one(a);
	assert_int_equal(spry_test_waiters(o.mb, SPRY_SELECT_RECV), 0);
	spry_mailbox_release(o.mb);
	/* Teardown asserts the await, the actor and the mailbox were freed. */
}

static void
test_await_is_refused_outside_the_behavior(void **state)
{
	struct one  o = {.mb = box_with(0), .dir = SPRY_SELECT_RECV};
	spry_actor *a = spawn_one(&o);

	(void)state;
	(void)spry_test_get();
	spry_test_check(
	    spry_actor_await(a, o.mb, SPRY_SELECT_RECV, NULL, NULL),
	    SPRY_ESTATE);
	spry_test_check(spry_actor_cancel_await(a, o.id), SPRY_ESTATE);
	end_one(a);
	spry_mailbox_release(o.mb);
}

/*
 * Two awaits, both ready at once, so both notices are queued before the
 * next turn; the behavior ends on the first. The second is dropped, and
 * must leave the actor's pending list as it goes: the exit sweeps that
 * list (ASan would catch a record freed but still listed).
 */
static int
end_on_first(spry_actor *self, const spry_event *ev, void *st)
{
	if (ev->type == SPRY_EV_START) {
		spry_test_check(
		    spry_actor_await(self, st, SPRY_SELECT_SEND, NULL, NULL),
		    0);
		spry_test_check(
		    spry_actor_await(self, st, SPRY_SELECT_SEND, NULL, NULL),
		    0);
	} else if (ev->type == SPRY_EV_READY) {
		spry_test_put(R_READY, 0, ev->ref);
		return SPRY_EXIT_NORMAL;
	}
	return SPRY_CONTINUE;
}

static void
test_ending_on_one_notice_drops_the_others_once(void **state)
{
	spry_actor_opts opts = SPRY_ACTOR_OPTS_INIT;
	spry_mailbox   *mb   = box_with(0);
	spry_actor     *a;

	(void)state;
	opts.behavior = end_on_first;
	opts.state    = mb;
	spry_test_check(spry_actor_spawn(&a, &opts), 0);
	assert_int_equal(spry_test_get().what, R_READY);
	spry_test_check(spry_actor_wait(NULL, a, NULL), 0);
	assert_int_equal(spry_test_reports_queued(), 0); /* only one */
	spry_actor_release(a);
	spry_mailbox_release(mb);
}

/* ---- streaming through a full mailbox ---------------------------------- */

#define STREAM_N 20000

/*
 * A producer: sends 1..STREAM_N into mb, as numbers or (msgs) as
 * messages, awaiting room whenever a trysend fails with SPRY_EAGAIN.
 */
struct producer {
	spry_mailbox *mb;
	bool          msgs; /* messages (a socket's sendbox takes only
	                       those), else plain numbers */
	uintptr_t next;     /* the next one to send (its own turns) */
	uint64_t  awaits;   /* how often it had to wait */
};

static int
produce(spry_actor *self, const spry_event *ev, void *st)
{
	struct producer *p = st;
	void            *item;
	int              rv;

	if (ev->type != SPRY_EV_START && ev->type != SPRY_EV_READY) {
		return SPRY_CONTINUE;
	}
	for (; p->next <= STREAM_N; p->next++) {
		item = p->msgs ? (void *)spry_test_u32_msg((uint32_t)p->next) :
		                 spry_test_item(p->next);
		if ((rv = spry_mailbox_trysend(p->mb, item)) == SPRY_EAGAIN) {
			if (p->msgs) {
				spry_msg_free(item);
			}
			p->awaits++;
			spry_test_check(spry_actor_await(self, p->mb,
			                    SPRY_SELECT_SEND, NULL, NULL),
			    0);
			return SPRY_CONTINUE;
		}
		spry_test_check(rv, 0);
	}
	spry_test_put(R_DONE, 0, p->awaits);
	return SPRY_EXIT_NORMAL;
}

static void
test_an_actor_streams_through_a_full_mailbox(void **state)
{
	spry_actor_opts  opts = SPRY_ACTOR_OPTS_INIT;
	struct producer  p    = {.next = 1};
	spry_actor      *a;
	spry_ctx        *ctx;
	spry_test_report r;

	(void)state;
	spry_test_check(spry_mailbox_open(&p.mb, 2), 0);
	opts.behavior = produce;
	opts.state    = &p;
	spry_test_check(spry_actor_spawn(&a, &opts), 0);
	spry_test_check(spry_ctx_with_timeout(&ctx, NULL, SPRY_SEC(60)), 0);
	for (uintptr_t i = 1; i <= STREAM_N; i++) {
		void *item = NULL;

		spry_test_check(spry_mailbox_recv(ctx, p.mb, &item), 0);
		assert_ptr_equal(item, spry_test_item(i));
	}
	spry_ctx_cancel(ctx);
	spry_ctx_release(ctx);
	r = spry_test_get();
	assert_int_equal(r.what, R_DONE);
	assert_true(r.b > 0); /* it did wait for room */
	spry_test_check(spry_actor_wait(NULL, a, NULL), 0);
	spry_actor_release(a);
	spry_mailbox_release(p.mb);
}

/* The same through a socket: PUSH with a 2-deep sendbox into PULL. */
static void
test_an_actor_streams_through_a_full_socket_sendbox(void **state)
{
	spry_socket_opts so   = SPRY_SOCKET_OPTS_INIT;
	spry_actor_opts  opts = SPRY_ACTOR_OPTS_INIT;
	struct producer  p    = {.msgs = true, .next = 1};
	spry_socket     *push, *pull;
	spry_actor      *a;
	spry_ctx        *ctx;
	spry_test_report r;

	(void)state;
	so.sendbuf = 2;
	spry_test_check(spry_socket_open(&push, SPRY_PUSH0, &so), 0);
	spry_test_check(spry_socket_open(&pull, SPRY_PULL0, NULL), 0);
	spry_test_check(spry_listen(pull, "inproc://await-stream", NULL), 0);
	spry_test_check(spry_dial(push, "inproc://await-stream", NULL, 0), 0);
	p.mb          = spry_socket_sendbox(push, NULL);
	opts.behavior = produce;
	opts.state    = &p;
	spry_test_check(spry_actor_spawn(&a, &opts), 0);
	spry_test_check(spry_ctx_with_timeout(&ctx, NULL, SPRY_SEC(60)), 0);
	for (uint32_t i = 1; i <= STREAM_N; i++) {
		spry_msg *m = NULL;

		spry_test_check(spry_recv_ctx(ctx, pull, &m), 0);
		assert_int_equal(spry_test_u32_val(m), i);
	}
	spry_ctx_cancel(ctx);
	spry_ctx_release(ctx);
	r = spry_test_get();
	assert_int_equal(r.what, R_DONE);
	spry_test_check(spry_actor_wait(NULL, a, NULL), 0);
	spry_actor_release(a);
	spry_close(push);
	spry_close(pull);
}

/* ---- REP workers that hold replies until there is room ----------------- */

#define HELD 64      /* as docs/async.md's worker */
#define REQUESTERS 8 /* REQ sockets, a thread each */
#define REQUESTS 300 /* each, one at a time */

/* docs/async.md's worker: replies that find no room wait, in order. */
struct worker {
	spry_socket *rep;
	spry_msg    *held[HELD]; /* replies waiting for room, oldest first */
	unsigned     first, n;
	bool         awaiting; /* a SPRY_EV_READY is to come */
	uint64_t     awaits;   /* how often it had to wait (test only) */
};

/* Send what is held, in order, until the send mailbox is full. */
static int
flush(spry_actor *self, struct worker *w)
{
	spry_mailbox *out = spry_socket_sendbox(w->rep, NULL);

	while (w->n > 0 && !w->awaiting) {
		int rv = spry_mailbox_trysend(out, w->held[w->first]);

		if (rv == SPRY_EAGAIN) { /* hear when there is room */
			w->awaiting = true;
			w->awaits++;
			return spry_actor_await(
			    self, out, SPRY_SELECT_SEND, NULL, NULL);
		}
		if (rv != 0) {
			spry_msg_free(
			    w->held[w->first]); /* the socket closed */
		}
		w->first = (w->first + 1) % HELD;
		w->n--;
	}
	return SPRY_CONTINUE;
}

static int
worker(spry_actor *self, const spry_event *ev, void *st)
{
	struct worker *w = st;
	spry_msg      *m;

	switch (ev->type) {
	case SPRY_EV_START:
		return spry_socket_subscribe(
		    w->rep, spry_actor_mailbox(self), false);
	case SPRY_EV_MSG:
		m = ev->msg;
		/* The reply is the request itself (its header routes it). */
		assert_int_equal(spry_msg_err(m), 0);
		assert_true(w->n < HELD);
		w->held[(w->first + w->n++) % HELD] = m;
		return flush(self, w);
	case SPRY_EV_READY:
		w->awaiting = false;
		return flush(self, w);
	case SPRY_EV_CANCEL:
		while (w->n > 0) { /* what never found room */
			spry_msg_free(w->held[w->first]);
			w->first = (w->first + 1) % HELD;
			w->n--;
		}
		spry_socket_unsubscribe(w->rep, spry_actor_mailbox(self));
		return SPRY_EXIT_SHUTDOWN;
	default:
		return SPRY_CONTINUE;
	}
}

/* A requester: REQUESTS requests one at a time, each answered in time. */
static void *
request(void *arg)
{
	spry_socket *req;
	spry_ctx    *ctx;

	spry_test_check(spry_socket_open(&req, SPRY_REQ0, NULL), 0);
	spry_test_check(spry_dial(req, "inproc://await-rep", NULL, 0), 0);
	for (uint32_t i = 1; i <= REQUESTS; i++) {
		spry_msg *m =
		    spry_test_u32_msg(((uint32_t)(uintptr_t)arg << 16) | i);

		/* A dropped reply would wait a minute for the resend. */
		spry_test_check(
		    spry_ctx_with_timeout(&ctx, NULL, SPRY_SEC(20)), 0);
		spry_test_check(spry_send_ctx(ctx, req, m), 0);
		spry_test_check(spry_recv_ctx(ctx, req, &m), 0);
		assert_int_equal(spry_test_u32_val(m),
		    ((uint32_t)(uintptr_t)arg << 16) | i);
		spry_ctx_cancel(ctx);
		spry_ctx_release(ctx);
	}
	spry_close(req);
	return NULL;
}

static void
test_rep_workers_hold_replies_until_there_is_room(void **state)
{
	spry_socket_opts so = SPRY_SOCKET_OPTS_INIT;
	spry_actor_opts  o  = SPRY_ACTOR_OPTS_INIT;
	struct worker    w[2];
	spry_actor      *a[2];
	spry_socket     *rep;
	pthread_t        t[REQUESTERS];
	uint64_t         awaits = 0;

	(void)state;
	so.sendbuf = 2; /* far less than the requests in flight */
	spry_test_check(spry_socket_open(&rep, SPRY_REP0, &so), 0);
	spry_test_check(spry_listen(rep, "inproc://await-rep", NULL), 0);
	o.behavior = worker;
	for (int i = 0; i < 2; i++) {
		memset(&w[i], 0, sizeof(w[i]));
		w[i].rep = rep;
		o.state  = &w[i];
		spry_test_check(spry_actor_spawn(&a[i], &o), 0);
	}
	for (uintptr_t i = 0; i < REQUESTERS; i++) {
		assert_int_equal(
		    pthread_create(&t[i], NULL, request, (void *)i), 0);
	}
	for (int i = 0; i < REQUESTERS; i++) {
		pthread_join(t[i], NULL);
	}
	for (int i = 0; i < 2; i++) {
		spry_actor_stop(a[i]);
		spry_test_check(spry_actor_wait(NULL, a[i], NULL), 0);
		spry_actor_release(a[i]);
		awaits += w[i].awaits;
	}
	/* Not asserted (timing decides): how often a reply found no room. */
	print_message("replies that waited for room: %llu\n",
	    (unsigned long long)awaits);
	spry_close(rep);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(
	        test_await_send_fires_when_room_comes, spry_test_up_reports,
	        spry_test_down_reports),
	    cmocka_unit_test_setup_teardown(
	        test_await_recv_fires_when_an_item_comes, spry_test_up_reports,
	        spry_test_down_reports),
	    cmocka_unit_test_setup_teardown(
	        test_await_on_a_ready_mailbox_fires_at_once,
	        spry_test_up_reports, spry_test_down_reports),
	    cmocka_unit_test_setup_teardown(test_await_fires_on_close,
	        spry_test_up_reports, spry_test_down_reports),
	    cmocka_unit_test_setup_teardown(test_canceled_await_never_fires,
	        spry_test_up_reports, spry_test_down_reports),
	    cmocka_unit_test_setup_teardown(
	        test_pending_awaits_die_with_their_actor, spry_test_up_reports,
	        spry_test_down_reports),
	    cmocka_unit_test_setup_teardown(
	        test_await_is_refused_outside_the_behavior,
	        spry_test_up_reports, spry_test_down_reports),
	    cmocka_unit_test_setup_teardown(
	        test_ending_on_one_notice_drops_the_others_once,
	        spry_test_up_reports, spry_test_down_reports),
	    cmocka_unit_test_setup_teardown(
	        test_an_actor_streams_through_a_full_mailbox,
	        spry_test_up_reports, spry_test_down_reports),
	    cmocka_unit_test_setup_teardown(
	        test_an_actor_streams_through_a_full_socket_sendbox,
	        spry_test_up_reports, spry_test_down_reports),
	    cmocka_unit_test_setup_teardown(
	        test_rep_workers_hold_replies_until_there_is_room,
	        spry_test_up_reports, spry_test_down_reports),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
