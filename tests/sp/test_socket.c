/* SPDX-License-Identifier: MIT */
/*
 * tests/sp/test_socket.c: the socket core over inproc, through PUSH/PULL
 * and PAIR0: opening and closing, the inproc transport's errors, the
 * mailboxes (send mailbox, recvbox, subscribers, fan-in, pipe events),
 * the typed options, a pipe's address options, statistics, round robin
 * and fair queueing, and the backpressure contract (a fast PUSH moves
 * 1 M messages through a slow PULL with none lost, none duplicated, in
 * order, memory bounded). Nothing here sleeps to synchronize or asserts
 * a duration.
 */
#include "tests/support/support.h"
#include "mailbox/alloc.h"

#include <pthread.h>
#include <stdio.h>
#include <string.h>

static int
up(void **state)
{
	return spry_test_up(state);
}

static int
down(void **state)
{
	return spry_test_down(state);
}

/* A PUSH dialing a PULL on url. */
static void
pipeline(const char *url, spry_socket **push, spry_socket **pull)
{
	assert_int_equal(spry_socket_open(push, SPRY_PUSH0, NULL), 0);
	assert_int_equal(spry_socket_open(pull, SPRY_PULL0, NULL), 0);
	assert_int_equal(spry_listen(*pull, url, NULL), 0);
	assert_int_equal(spry_dial(*push, url, NULL, 0), 0);
}

static void
test_open_checks_its_arguments(void **state)
{
	spry_socket_opts o = SPRY_SOCKET_OPTS_INIT;
	spry_socket     *s;

	(void)state;
	spry_test_check(spry_socket_open(NULL, SPRY_PUSH0, NULL), SPRY_EINVAL);
	spry_test_check(spry_socket_open(&s, 0x99, NULL), SPRY_ENOTSUP);
	o.sendbuf = SPRY_MAILBOX_MAX_CAPACITY * 2;
	spry_test_check(spry_socket_open(&s, SPRY_PUSH0, &o), SPRY_EINVAL);
	o.sendbuf = 9000;
	spry_test_check(spry_socket_open(&s, SPRY_PUSH0, &o), SPRY_EINVAL);
	o.sendbuf = 0;
	o.size    = 3;
	spry_test_check(spry_socket_open(&s, SPRY_PUSH0, &o), SPRY_EINVAL);
}

static void
test_inproc_errors_are_the_usual_ones(void **state)
{
	spry_socket *a, *b;
	spry_dialer *d;

	(void)state;
	assert_int_equal(spry_socket_open(&a, SPRY_PULL0, NULL), 0);
	assert_int_equal(spry_socket_open(&b, SPRY_PUSH0, NULL), 0);
	spry_test_check(spry_listen(a, "inproc://errs", NULL), 0);
	spry_test_check(
	    spry_listen(a, "inproc://errs", NULL), SPRY_EADDRINUSE);
	spry_test_check(spry_listen(a, "bogus://x", NULL), SPRY_ENOTSUP);
	spry_test_check(spry_listen(a, "inproc://", NULL), SPRY_EADDRINVAL);
	spry_test_check(spry_listen(a, NULL, NULL), SPRY_EADDRINVAL);
	spry_test_check(
	    spry_dial(b, "inproc://nobody", NULL, 0), SPRY_ECONNREFUSED);
	spry_test_check(
	    spry_dial(b, "inproc://nobody", &d, SPRY_FLAG_NONBLOCK),
	    0); /* keeps trying */
	spry_test_check(spry_dialer_close(d), 0);
	spry_close(a);
	spry_close(b);
}

static void
test_wrong_peer_is_rejected(void **state)
{
	spry_socket      *a, *b;
	spry_socket_stats st;

	(void)state;
	assert_int_equal(spry_socket_open(&a, SPRY_PULL0, NULL), 0);
	assert_int_equal(spry_socket_open(&b, SPRY_PAIR0, NULL), 0);
	spry_test_check(spry_listen(a, "inproc://wrongpeer", NULL), 0);
	spry_test_check(
	    spry_dial(b, "inproc://wrongpeer", NULL, 0), SPRY_EPROTO);
	spry_socket_stats_get(a, &st);
	assert_int_equal(st.rejected, 1);
	assert_int_equal(st.pipes, 0);
	spry_close(a);
	spry_close(b);
}

static void
test_push_pull_exchange_with_metadata(void **state)
{
	spry_socket      *push, *pull;
	spry_socket_stats st;
	spry_msg         *m;

	(void)state;
	pipeline("inproc://meta", &push, &pull);
	for (uint32_t i = 0; i < 1000; i++) {
		spry_test_check(spry_send(push, spry_test_u32_msg(i), 0), 0);
		spry_test_check(spry_recv(pull, &m, 0), 0);
		assert_ptr_equal(spry_msg_socket(m), pull);
		assert_true(spry_msg_pipe(m) != 0);
		assert_string_equal(spry_msg_peer(m), "inproc://meta");
		assert_int_equal(spry_msg_header_len(m), 0);
		assert_int_equal(spry_test_u32_val(m), i);
	}
	spry_socket_stats_get(push, &st);
	assert_int_equal(st.sent, 1000);
	assert_int_equal(st.pipes, 1);
	spry_socket_stats_get(pull, &st);
	assert_int_equal(st.received, 1000);
	spry_close(push);
	spry_close(pull);
}

static void
test_wrong_direction_is_refused(void **state)
{
	spry_socket *push, *pull;
	spry_msg    *m   = spry_test_u32_msg(1);
	int          err = 0;

	(void)state;
	pipeline("inproc://direction", &push, &pull);
	spry_test_check(spry_send(pull, m, 0), SPRY_ENOTSUP);
	spry_test_check(spry_recv(push, &m, 0), SPRY_ENOTSUP);
	assert_null(spry_socket_sendbox(pull, &err));
	assert_int_equal(err, SPRY_ENOTSUP);
	err = 0;
	assert_null(spry_socket_recvbox(push, &err));
	assert_int_equal(err, SPRY_ENOTSUP);
	assert_non_null(spry_socket_sendbox(push, NULL));
	assert_non_null(spry_socket_recvbox(pull, NULL));
	spry_test_check(spry_socket_subscribe(
	                    push, spry_socket_recvbox(pull, NULL), false),
	    SPRY_ENOTSUP);
	spry_msg_free(m);
	spry_close(push);
	spry_close(pull);
}

static void
test_nonblocking_and_timeouts(void **state)
{
	spry_socket *push, *pull;
	spry_msg    *m;
	int          n = 0, rv;

	(void)state;
	pipeline("inproc://nonblock", &push, &pull);
	spry_test_check(spry_recv(pull, &m, SPRY_FLAG_NONBLOCK), SPRY_EAGAIN);
	spry_test_check(
	    spry_setopt(pull, SPRY_OPT_RECVTIMEO, SPRY_DURATION(SPRY_MSEC(5))),
	    0);
	spry_test_check(spry_recv(pull, &m, 0), SPRY_ETIMEDOUT);
	/* Fill everything: recvbox, the pipe's one message, sendbox. */
	while ((rv = spry_send(push, (m = spry_test_u32_msg((uint32_t)n)),
	            SPRY_FLAG_NONBLOCK)) == 0) {
		n++;
	}
	spry_test_check(rv, SPRY_EAGAIN);
	spry_msg_free(m);
	assert_true(n >= 32);
	spry_test_check(
	    spry_setopt(push, SPRY_OPT_SENDTIMEO, SPRY_DURATION(SPRY_MSEC(5))),
	    0);
	/* The socket may still be moving the queue along: send until a
	 * send times out, which it must once everything is full. */
	while ((rv = spry_send(
	            push, (m = spry_test_u32_msg((uint32_t)n)), 0)) == 0) {
		n++;
	}
	spry_test_check(rv, SPRY_ETIMEDOUT);
	spry_msg_free(m);
	for (int i = 0; i < n; i++) {
		spry_test_check(spry_recv(pull, &m, 0), 0);
		assert_int_equal(spry_test_u32_val(m), i);
	}
	spry_close(push);
	spry_close(pull);
}

/* A thread blocked in spry_recv or spry_send, and what it got. */
typedef struct blocked {
	spry_socket *s;
	bool         send;
	int          rv;
	spry_ctx    *ctx;
} blocked;

static void *
blocked_run(void *arg)
{
	blocked  *b = arg;
	spry_msg *m = NULL;

	if (b->send) { /* until the buffers are full and it blocks */
		do {
			m     = spry_test_u32_msg(7);
			b->rv = b->ctx != NULL ?
			    spry_send_ctx(b->ctx, b->s, m) :
			    spry_send(b->s, m, 0);
		} while (b->rv == 0);
		spry_msg_free(m);
		return NULL;
	}
	b->rv = b->ctx != NULL ? spry_recv_ctx(b->ctx, b->s, &m) :
	                         spry_recv(b->s, &m, 0);
	spry_msg_free(m);
	return NULL;
}

static void
test_close_wakes_blocked_receivers(void **state)
{
	spry_socket *pull;
	blocked      b = {NULL, false, -1, NULL};
	pthread_t    t;

	(void)state;
	assert_int_equal(spry_socket_open(&pull, SPRY_PULL0, NULL), 0);
	spry_socket_hold(pull);
	b.s = pull;
	assert_int_equal(pthread_create(&t, NULL, blocked_run, &b), 0);
	assert_true(spry_test_await_waiters(
	    spry_socket_recvbox(pull, NULL), SPRY_SELECT_RECV, 1));
	spry_test_check(spry_close(pull), 0);
	pthread_join(t, NULL);
	spry_test_check(b.rv, SPRY_ECLOSED);
	spry_test_check(spry_close(pull), SPRY_ECLOSED); /* idempotent */
	spry_socket_release(pull);
}

static void
test_ctx_cancels_a_blocked_receive_and_send(void **state)
{
	spry_socket *pull, *push;
	spry_ctx    *ctx;
	blocked      r = {NULL, false, -1, NULL}, w = {NULL, true, -1, NULL};
	pthread_t    t1, t2;

	(void)state;
	assert_int_equal(spry_socket_open(&pull, SPRY_PULL0, NULL), 0);
	assert_int_equal(spry_socket_open(&push, SPRY_PUSH0, NULL), 0);
	assert_int_equal(spry_ctx_with_cancel(&ctx, NULL), 0);
	/* No pipe: sends queue in the send mailbox until it is full. */
	r.s = pull, r.ctx = ctx, w.s = push, w.ctx = ctx;
	assert_int_equal(pthread_create(&t1, NULL, blocked_run, &r), 0);
	assert_int_equal(pthread_create(&t2, NULL, blocked_run, &w), 0);
	assert_true(spry_test_await_waiters(
	    spry_socket_recvbox(pull, NULL), SPRY_SELECT_RECV, 1));
	assert_true(spry_test_await_waiters(
	    spry_socket_sendbox(push, NULL), SPRY_SELECT_SEND, 1));
	spry_ctx_cancel(ctx);
	pthread_join(t1, NULL);
	pthread_join(t2, NULL);
	spry_test_check(r.rv, SPRY_ECANCELED);
	spry_test_check(w.rv, SPRY_ECANCELED);
	spry_ctx_release(ctx);
	spry_close(push);
	spry_close(pull);
}

static void
test_options_are_typed_and_checked(void **state)
{
	spry_socket *s;
	spry_optval  v = {.type = SPRY_TYPE_INT};
	char         name[64];

	(void)state;
	assert_int_equal(spry_socket_open(&s, SPRY_PULL0, NULL), 0);
	spry_test_check(spry_getopt(s, SPRY_OPT_RECVBUF, &v), 0);
	assert_int_equal(v.u.i, 16);
	spry_test_check(spry_getopt(s, SPRY_OPT_MAXTTL, &v), 0);
	assert_int_equal(v.u.i, 8);
	spry_test_check(spry_getopt(s, SPRY_OPT_PROTO, &v), 0);
	assert_int_equal(v.u.i, SPRY_PULL0);
	spry_test_check(spry_getopt(s, SPRY_OPT_PEER, &v), 0);
	assert_int_equal(v.u.i, SPRY_PUSH0);
	spry_test_check(
	    spry_setopt(s, SPRY_OPT_RECVBUF, SPRY_BOOL(true)), SPRY_EBADTYPE);
	spry_test_check(
	    spry_setopt(s, SPRY_OPT_RECVBUF, SPRY_INT(0)), SPRY_EINVAL);
	spry_test_check(
	    spry_setopt(s, SPRY_OPT_RECVBUF, SPRY_INT(8193)), SPRY_EINVAL);
	spry_test_check(spry_setopt(s, SPRY_OPT_RECVBUF, SPRY_INT(100)), 0);
	spry_test_check(spry_getopt(s, SPRY_OPT_RECVBUF, &v), 0);
	assert_int_equal(v.u.i, 128);
	spry_test_check(
	    spry_setopt(s, SPRY_OPT_MAXTTL, SPRY_INT(0)), SPRY_EINVAL);
	spry_test_check(
	    spry_setopt(s, SPRY_OPT_MAXTTL, SPRY_INT(256)), SPRY_EINVAL);
	spry_test_check(spry_setopt(s, SPRY_OPT_MAXTTL, SPRY_INT(255)), 0);
	spry_test_check(
	    spry_setopt(s, SPRY_OPT_RECVTIMEO, SPRY_INT(5)), SPRY_EBADTYPE);
	spry_test_check(spry_setopt(s, SPRY_OPT_RECONNMINT, SPRY_DURATION(0)),
	    SPRY_EINVAL);
	spry_test_check(spry_setopt(s, SPRY_OPT_RECVMAXSZ, SPRY_SIZE(0)), 0);
	spry_test_check(
	    spry_setopt(s, SPRY_OPT_RAW, SPRY_BOOL(true)), SPRY_EREADONLY);
	spry_test_check(
	    spry_setopt(s, SPRY_OPT_RESENDTIME, SPRY_DURATION(SPRY_SEC(1))),
	    SPRY_ENOTSUP);
	spry_test_check(
	    spry_setopt(s, SPRY_OPT_SOCKNAME, SPRY_STRING("inbox")), 0);
	v = (spry_optval){.type = SPRY_TYPE_STRING, .u.buf = {name, 64}};
	spry_test_check(spry_getopt(s, SPRY_OPT_SOCKNAME, &v), 0);
	assert_string_equal(name, "inbox");
	v.u.buf.n = 3;
	spry_test_check(spry_getopt(s, SPRY_OPT_SOCKNAME, &v), SPRY_EINVAL);
	v = (spry_optval){.type = SPRY_TYPE_BOOL};
	spry_test_check(spry_getopt(s, SPRY_OPT_RAW, &v), 0);
	assert_false(v.u.b);
	spry_close(s);
}

static void
test_buffer_depth_is_fixed_once_used(void **state)
{
	spry_socket *push, *pull;
	spry_msg    *m;

	(void)state;
	pipeline("inproc://depth", &push, &pull);
	spry_test_check(spry_setopt(pull, SPRY_OPT_RECVBUF, SPRY_INT(4)), 0);
	spry_test_check(spry_send(push, spry_test_u32_msg(1), 0), 0);
	spry_test_check(spry_recv(pull, &m, 0), 0);
	spry_msg_free(m);
	spry_test_check(
	    spry_setopt(pull, SPRY_OPT_RECVBUF, SPRY_INT(8)), SPRY_EBUSY);
	spry_close(push);
	spry_close(pull);
}

static void
test_send_mailbox_and_recvbox_carry_messages(void **state)
{
	spry_socket *push, *pull;
	void        *item;

	(void)state;
	pipeline("inproc://boxes", &push, &pull);
	for (uint32_t i = 0; i < 100; i++) {
		spry_test_check(
		    spry_mailbox_send(NULL, spry_socket_sendbox(push, NULL),
		        spry_test_u32_msg(i)),
		    0);
		spry_test_check(spry_mailbox_recv(NULL,
		                    spry_socket_recvbox(pull, NULL), &item),
		    0);
		assert_int_equal(spry_test_u32_val(item), i);
	}
	spry_close(push);
	spry_close(pull);
}

static void
test_fan_in_tells_the_socket_of_each_message(void **state)
{
	spry_socket  *push[3], *pull[3];
	spry_mailbox *mb;
	void         *item;
	int           seen[3] = {0};
	char          url[64];

	(void)state;
	assert_int_equal(spry_mailbox_open(&mb, 64), 0);
	for (int i = 0; i < 3; i++) {
		snprintf(url, sizeof(url), "inproc://fanin%d", i);
		pipeline(url, &push[i], &pull[i]);
		spry_test_check(spry_socket_subscribe(pull[i], mb, false), 0);
	}
	spry_test_check(
	    spry_socket_subscribe(pull[0], mb, false), SPRY_EEXIST);
	for (int i = 0; i < 3; i++) {
		for (uint32_t k = 0; k < 10; k++) {
			spry_test_check(
			    spry_send(push[i], spry_test_u32_msg(k), 0), 0);
		}
	}
	for (int n = 0; n < 30; n++) {
		spry_test_check(spry_mailbox_recv(NULL, mb, &item), 0);
		for (int i = 0; i < 3; i++) {
			if (spry_msg_socket(item) == pull[i]) {
				assert_int_equal(
				    spry_test_u32_val(item), seen[i]++);
				item = NULL;
				break;
			}
		}
		assert_null(item);
	}
	spry_test_check(spry_socket_unsubscribe(pull[0], mb), 0);
	spry_test_check(spry_socket_unsubscribe(pull[0], mb), SPRY_ENOENT);
	for (int i = 0; i < 3; i++) {
		spry_close(push[i]);
		spry_close(pull[i]);
	}
	/* Closing sent the two remaining subscriptions an ECLOSED event. */
	for (int i = 0; i < 2; i++) {
		spry_test_check(spry_mailbox_recv(NULL, mb, &item), 0);
		assert_int_equal(spry_msg_err(item), SPRY_ECLOSED);
		spry_msg_free(item);
	}
	spry_mailbox_release(mb);
}

static void
test_pipe_events_reach_subscribers(void **state)
{
	spry_socket  *push, *pull;
	spry_mailbox *ev;
	void         *item;
	uint32_t      pipe;

	(void)state;
	assert_int_equal(spry_mailbox_open(&ev, 16), 0);
	assert_int_equal(spry_socket_open(&push, SPRY_PUSH0, NULL), 0);
	assert_int_equal(spry_socket_open(&pull, SPRY_PULL0, NULL), 0);
	spry_test_check(spry_socket_subscribe(push, ev, true), 0);
	assert_int_equal(spry_listen(pull, "inproc://events", NULL), 0);
	assert_int_equal(spry_dial(push, "inproc://events", NULL, 0), 0);
	spry_test_check(spry_mailbox_recv(NULL, ev, &item), 0);
	assert_int_equal(spry_msg_err(item), SPRY_PIPE_ADD);
	assert_string_equal(spry_msg_peer(item), "inproc://events");
	pipe = spry_msg_pipe(item);
	assert_true(pipe != 0);
	spry_msg_free(item);
	spry_close(pull);
	spry_test_check(spry_mailbox_recv(NULL, ev, &item), 0);
	assert_int_equal(spry_msg_err(item), SPRY_PIPE_REM);
	assert_int_equal(spry_msg_pipe(item), pipe);
	spry_msg_free(item);
	spry_close(push);
	spry_test_check(spry_mailbox_recv(NULL, ev, &item), 0);
	assert_int_equal(spry_msg_err(item), SPRY_ECLOSED);
	spry_msg_free(item);
	spry_mailbox_release(ev);
}

/* Close ev and free the events still in it (its sockets are closed). */
static void
events_drop(spry_mailbox *ev)
{
	void *item;

	spry_mailbox_close(ev);
	while (spry_mailbox_tryrecv(ev, &item) == 0) {
		spry_msg_free(item);
	}
	spry_mailbox_release(ev);
}

/* Option opt (an address) of pipe on s into buf, checking its length. */
static int
pipe_addr(spry_socket *s, uint32_t pipe, int opt, char *buf, size_t len)
{
	spry_optval v = {.type = SPRY_TYPE_STRING, .u.buf = {buf, len}};
	int         rv;

	if ((rv = spry_pipe_getopt(s, pipe, opt, &v)) == 0) {
		assert_int_equal(v.u.buf.n, strlen(buf));
	}
	return rv;
}

static void
test_pipe_options_name_both_ends(void **state)
{
	spry_socket  *push, *pull;
	spry_mailbox *ev;
	spry_msg     *m;
	void         *item;
	uint32_t      pipe, rpipe;
	char          buf[64];

	(void)state;
	assert_int_equal(spry_mailbox_open(&ev, 16), 0);
	assert_int_equal(spry_socket_open(&push, SPRY_PUSH0, NULL), 0);
	assert_int_equal(spry_socket_open(&pull, SPRY_PULL0, NULL), 0);
	spry_test_check(spry_socket_subscribe(push, ev, true), 0);
	assert_int_equal(spry_listen(pull, "inproc://pipeaddr", NULL), 0);
	assert_int_equal(spry_dial(push, "inproc://pipeaddr", NULL, 0), 0);
	spry_test_check(spry_mailbox_recv(NULL, ev, &item), 0);
	assert_int_equal(spry_msg_err(item), SPRY_PIPE_ADD);
	pipe = spry_msg_pipe(item); /* the dialer's end, from its event */
	spry_msg_free(item);
	spry_test_check(
	    pipe_addr(push, pipe, SPRY_OPT_LOCADDR, buf, sizeof(buf)), 0);
	assert_string_equal(buf, "inproc://pipeaddr");
	spry_test_check(
	    pipe_addr(push, pipe, SPRY_OPT_REMADDR, buf, sizeof(buf)), 0);
	assert_string_equal(buf, "inproc://pipeaddr");
	spry_test_check(spry_send(push, spry_test_u32_msg(1), 0), 0);
	spry_test_check(spry_recv(pull, &m, 0), 0);
	rpipe = spry_msg_pipe(m); /* the listener's end, from a message */
	spry_msg_free(m);
	assert_int_not_equal(rpipe, pipe);
	spry_test_check(
	    pipe_addr(pull, rpipe, SPRY_OPT_REMADDR, buf, sizeof(buf)), 0);
	assert_string_equal(buf, "inproc://pipeaddr");
	spry_test_check(
	    pipe_addr(pull, rpipe, SPRY_OPT_LOCADDR, buf, sizeof(buf)), 0);
	assert_string_equal(buf, "inproc://pipeaddr");
	/* Ids are per socket: the other end's is not pull's. */
	spry_test_check(
	    pipe_addr(pull, pipe, SPRY_OPT_LOCADDR, buf, sizeof(buf)),
	    SPRY_ENOENT);
	spry_test_check(pipe_addr(pull, 0, SPRY_OPT_LOCADDR, buf, sizeof(buf)),
	    SPRY_ENOENT);
	spry_close(pull);
	spry_test_check(spry_mailbox_recv(NULL, ev, &item), 0);
	assert_int_equal(spry_msg_err(item), SPRY_PIPE_REM);
	assert_int_equal(spry_msg_pipe(item), pipe);
	spry_msg_free(item);
	spry_test_check(
	    pipe_addr(push, pipe, SPRY_OPT_REMADDR, buf, sizeof(buf)),
	    SPRY_ENOENT); /* gone */
	spry_close(push);
	events_drop(ev);
}

static void
test_pipe_options_are_checked(void **state)
{
	spry_socket  *push, *pull;
	spry_mailbox *ev;
	void         *item;
	uint32_t      pipe;
	char          buf[64];
	spry_optval   v = {.type = SPRY_TYPE_INT};

	(void)state;
	assert_int_equal(spry_mailbox_open(&ev, 16), 0);
	assert_int_equal(spry_socket_open(&push, SPRY_PUSH0, NULL), 0);
	assert_int_equal(spry_socket_open(&pull, SPRY_PULL0, NULL), 0);
	spry_test_check(spry_socket_subscribe(push, ev, true), 0);
	assert_int_equal(spry_listen(pull, "inproc://pipeopts", NULL), 0);
	assert_int_equal(spry_dial(push, "inproc://pipeopts", NULL, 0), 0);
	spry_test_check(spry_mailbox_recv(NULL, ev, &item), 0);
	pipe = spry_msg_pipe(item);
	spry_msg_free(item);
	spry_test_check(
	    spry_pipe_getopt(push, pipe, SPRY_OPT_LOCADDR, &v), SPRY_EBADTYPE);
	spry_test_check(
	    spry_pipe_getopt(push, pipe, SPRY_OPT_RECVBUF, &v), SPRY_ENOTSUP);
	spry_test_check(
	    spry_pipe_getopt(push, pipe, SPRY_OPT_LOCADDR, NULL), SPRY_EINVAL);
	spry_test_check(
	    spry_pipe_getopt(NULL, pipe, SPRY_OPT_LOCADDR, &v), SPRY_EINVAL);
	/* "inproc://pipeopts" and its NUL need 18 bytes. */
	spry_test_check(
	    pipe_addr(push, pipe, SPRY_OPT_REMADDR, buf, 17), SPRY_EINVAL);
	spry_test_check(pipe_addr(push, pipe, SPRY_OPT_REMADDR, buf, 18), 0);
	assert_string_equal(buf, "inproc://pipeopts");
	v = (spry_optval){.type = SPRY_TYPE_STRING, .u.buf = {NULL, 64}};
	spry_test_check(
	    spry_pipe_getopt(push, pipe, SPRY_OPT_REMADDR, &v), SPRY_EINVAL);
	/* Read only, and a pipe's, not the socket's. */
	spry_test_check(spry_setopt(push, SPRY_OPT_LOCADDR, SPRY_STRING("x")),
	    SPRY_EREADONLY);
	spry_test_check(spry_setopt(push, SPRY_OPT_REMADDR, SPRY_STRING("x")),
	    SPRY_EREADONLY);
	v = (spry_optval){.type = SPRY_TYPE_STRING, .u.buf = {buf, 64}};
	spry_test_check(spry_getopt(push, SPRY_OPT_LOCADDR, &v), SPRY_ENOTSUP);
	spry_test_check(spry_getopt(push, SPRY_OPT_REMADDR, &v), SPRY_ENOTSUP);
	spry_socket_hold(push);
	spry_close(push);
	spry_test_check(
	    pipe_addr(push, pipe, SPRY_OPT_REMADDR, buf, sizeof(buf)),
	    SPRY_ECLOSED);
	spry_socket_release(push);
	spry_close(pull);
	events_drop(ev);
}

static void
test_push_takes_turns_over_ready_pulls(void **state)
{
	spry_socket *push, *pull[3];
	spry_msg    *m;
	int          got[3] = {0};

	(void)state;
	assert_int_equal(spry_socket_open(&push, SPRY_PUSH0, NULL), 0);
	assert_int_equal(spry_listen(push, "inproc://rr", NULL), 0);
	for (int i = 0; i < 3; i++) {
		assert_int_equal(
		    spry_socket_open(&pull[i], SPRY_PULL0, NULL), 0);
		assert_int_equal(
		    spry_dial(pull[i], "inproc://rr", NULL, 0), 0);
	}
	for (uint32_t k = 0; k < 12; k++) {
		spry_test_check(spry_send(push, spry_test_u32_msg(k), 0), 0);
	}
	for (int i = 0; i < 3; i++) {
		while (spry_recv(pull[i], &m, SPRY_FLAG_NONBLOCK) == 0) {
			spry_msg_free(m);
			got[i]++;
		}
		assert_int_equal(got[i], 4);
		spry_close(pull[i]);
	}
	spry_close(push);
}

/* The backpressure run: a producer thread as fast as it can go. */
#define BP_COUNT 1000000u

static void *
bp_produce(void *arg)
{
	spry_socket *push = arg;

	for (uint32_t i = 0; i < BP_COUNT; i++) {
		spry_msg *m = spry_test_u32_msg(i);

		if (spry_send(push, m, 0) != 0) {
			spry_msg_free(m);
			fail_msg("send %u failed", i);
		}
	}
	return NULL;
}

static void
test_backpressure_loses_nothing(void **state)
{
	spry_socket *push, *pull;
	pthread_t    t;
	spry_msg    *m;
	int64_t      live_max = 0;

	(void)state;
	pipeline("inproc://backpressure", &push, &pull);
	assert_int_equal(pthread_create(&t, NULL, bp_produce, push), 0);
	for (uint32_t i = 0; i < BP_COUNT; i++) {
		spry_test_check(spry_recv(pull, &m, 0), 0);
		if (spry_test_u32_val(m) != i) {
			fail_msg("message %u out of order", i);
		}
		if ((i & 1023) == 0) {
			int64_t live = spry__alloc_live();

			live_max = live > live_max ? live : live_max;
		}
	}
	pthread_join(t, NULL);
	spry_test_check(spry_recv(pull, &m, SPRY_FLAG_NONBLOCK), SPRY_EAGAIN);
	/* Bounded: the buffers hold tens of messages, never thousands. */
	assert_true(live_max < 1000);
	spry_close(push);
	spry_close(pull);
}

/* The child's start function: opens a socket and tells the test. */
static int
sup_child_start(spry_ctx *ctx, void *arg, spry_actor **child)
{
	spry_socket_opts o = SPRY_SOCKET_OPTS_INIT;
	spry_socket     *s;
	int              rv;

	o.ctx = ctx;
	if ((rv = spry_socket_open(&s, SPRY_PULL0, &o)) != 0) {
		return rv;
	}
	*child = spry_socket_actor(s);
	spry_actor_hold(*child);
	assert_int_equal(spry_mailbox_trysend(arg, s), 0);
	return 0;
}

static void
test_a_supervisor_owns_and_closes_a_socket(void **state)
{
	spry_mailbox        *started;
	spry_child_spec      spec = {"pull", sup_child_start, NULL, 0, 0};
	spry_supervisor_opts so   = SPRY_SUPERVISOR_OPTS_INIT;
	spry_ctx            *ctx;
	spry_actor          *sup;
	spry_msg            *m;
	void                *s;
	int                  reason;

	(void)state;
	assert_int_equal(spry_mailbox_open(&started, 4), 0);
	spec.arg = started;
	assert_int_equal(spry_ctx_with_cancel(&ctx, NULL), 0);
	so.ctx       = ctx;
	so.children  = &spec;
	so.nchildren = 1;
	assert_int_equal(spry_supervisor_start(&sup, &so), 0);
	spry_test_check(spry_mailbox_recv(NULL, started, &s), 0);
	spry_ctx_cancel(ctx);
	spry_test_check(spry_actor_wait(NULL, sup, &reason), 0);
	spry_test_check(spry_recv(s, &m, 0), SPRY_ECLOSED);
	spry_test_check(spry_close(s), SPRY_ECLOSED);
	spry_actor_release(sup);
	spry_ctx_release(ctx);
	spry_mailbox_release(started);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(
	        test_open_checks_its_arguments, up, down),
	    cmocka_unit_test_setup_teardown(
	        test_inproc_errors_are_the_usual_ones, up, down),
	    cmocka_unit_test_setup_teardown(
	        test_wrong_peer_is_rejected, up, down),
	    cmocka_unit_test_setup_teardown(
	        test_push_pull_exchange_with_metadata, up, down),
	    cmocka_unit_test_setup_teardown(
	        test_wrong_direction_is_refused, up, down),
	    cmocka_unit_test_setup_teardown(
	        test_nonblocking_and_timeouts, up, down),
	    cmocka_unit_test_setup_teardown(
	        test_close_wakes_blocked_receivers, up, down),
	    cmocka_unit_test_setup_teardown(
	        test_ctx_cancels_a_blocked_receive_and_send, up, down),
	    cmocka_unit_test_setup_teardown(
	        test_options_are_typed_and_checked, up, down),
	    cmocka_unit_test_setup_teardown(
	        test_buffer_depth_is_fixed_once_used, up, down),
	    cmocka_unit_test_setup_teardown(
	        test_send_mailbox_and_recvbox_carry_messages, up, down),
	    cmocka_unit_test_setup_teardown(
	        test_fan_in_tells_the_socket_of_each_message, up, down),
	    cmocka_unit_test_setup_teardown(
	        test_pipe_events_reach_subscribers, up, down),
	    cmocka_unit_test_setup_teardown(
	        test_pipe_options_name_both_ends, up, down),
	    cmocka_unit_test_setup_teardown(
	        test_pipe_options_are_checked, up, down),
	    cmocka_unit_test_setup_teardown(
	        test_push_takes_turns_over_ready_pulls, up, down),
	    cmocka_unit_test_setup_teardown(
	        test_backpressure_loses_nothing, up, down),
	    cmocka_unit_test_setup_teardown(
	        test_a_supervisor_owns_and_closes_a_socket, up, down),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
