/* SPDX-License-Identifier: MIT */
/*
 * tests/sp/test_survey.c: SURVEYOR0 and RESPONDENT0 over inproc:
 * identity, a survey answered by three respondents and then its end,
 * late and stale responses dropped, surveys with reply mailboxes running
 * side by side (each gets its own responses, then its SPRY_ETIMEDOUT
 * event, or SPRY_ECLOSED when the socket closes first), the respondent's
 * memory of the last survey, wrong peer, close, non-blocking, timeout
 * and cancel outcomes, option checks, raw headers and the TTL limit.
 *
 * Nothing sleeps to synchronize. inproc delivers while the sender is in
 * spry_send, and messages on one pipe arrive in order, so a message that
 * is received proves that everything sent before it on that pipe has
 * been dealt with (a drop is counted by then). The one wait on the clock
 * is a survey's end, which the surveyor itself reports; receives have a
 * long guard timeout against hangs only, and no duration is asserted.
 */
#include "tests/support/support.h"

#include <pthread.h>
#include <sched.h>
#include <string.h>

/* The hang guard on blocking receives. */
#define GUARD SPRY_SEC(30)

/* A survey time no test waits for. */
#define LONG SPRY_SEC(30)

#define ID_BIT 0x80000000u

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

/* Word i of the header of m. */
static uint32_t
hdr_word(spry_msg *m, size_t i)
{
	const uint8_t *h = spry_msg_header(m);

	assert_true(spry_msg_header_len(m) >= 4 * (i + 1));
	h += 4 * i;
	return (uint32_t)h[0] << 24 | (uint32_t)h[1] << 16 |
	    (uint32_t)h[2] << 8 | h[3];
}

/* The value in the body of m, which stays as it is. */
static uint32_t
peek_val(spry_msg *m)
{
	const uint8_t *b = spry_msg_body(m);

	assert_int_equal(spry_msg_len(m), 4);
	return (uint32_t)b[0] << 24 | (uint32_t)b[1] << 16 |
	    (uint32_t)b[2] << 8 | b[3];
}

/* Replace the body of m (a received survey) with v: the answer. */
static spry_msg *
answer(spry_msg *m, uint32_t v)
{
	spry_msg_clear(m);
	assert_int_equal(spry_msg_append_u32(m, v), 0);
	return m;
}

static spry_socket *
open_sock(int proto, bool raw)
{
	spry_socket_opts o = SPRY_SOCKET_OPTS_INIT;
	spry_socket     *s;

	o.raw = raw;
	assert_int_equal(spry_socket_open(&s, proto, &o), 0);
	spry_test_check(
	    spry_setopt(s, SPRY_OPT_RECVTIMEO, SPRY_DURATION(GUARD)), 0);
	return s;
}

/* A surveyor listening on url; survtime 0 keeps the default. */
static spry_socket *
surveyor(const char *url, bool raw, spry_duration survtime)
{
	spry_socket *s = open_sock(SPRY_SURVEYOR0, raw);

	if (survtime != 0) {
		spry_test_check(spry_setopt(s, SPRY_OPT_SURVEYTIME,
		                    SPRY_DURATION(survtime)),
		    0);
	}
	spry_test_check(spry_listen(s, url, NULL), 0);
	return s;
}

/* A respondent dialing url (the pipe is up on both sides on return). */
static spry_socket *
respondent(const char *url, bool raw)
{
	spry_socket *s = open_sock(SPRY_RESPONDENT0, raw);

	spry_test_check(spry_setopt(s, SPRY_OPT_RECVBUF, SPRY_INT(64)), 0);
	spry_test_check(spry_dial(s, url, NULL, 0), 0);
	return s;
}

static uint64_t
dropped(spry_socket *s)
{
	spry_socket_stats st;

	spry_socket_stats_get(s, &st);
	return st.dropped;
}

/* Receive one item from mb, within the guard. */
static void *
mb_recv(spry_mailbox *mb)
{
	spry_ctx *ctx;
	void     *item = NULL;

	assert_int_equal(spry_ctx_with_timeout(&ctx, NULL, GUARD), 0);
	spry_test_check(spry_mailbox_recv(ctx, mb, &item), 0);
	spry_ctx_release(ctx);
	return item;
}

static void
msg_dispose(void *item, void *arg)
{
	(void)arg;
	spry_msg_free(item);
}

static spry_mailbox *
reply_box_of(size_t capacity)
{
	spry_mailbox_opts o = SPRY_MAILBOX_OPTS_INIT;
	spry_mailbox     *mb;

	o.capacity   = capacity;
	o.dispose_cb = msg_dispose;
	assert_int_equal(spry_mailbox_open_opts(&mb, &o), 0);
	return mb;
}

static spry_mailbox *
reply_box(void)
{
	return reply_box_of(4);
}

static void
test_identity(void **state)
{
	spry_socket *s = open_sock(SPRY_SURVEYOR0, false);
	spry_socket *r = open_sock(SPRY_RESPONDENT0, true);
	spry_optval  v = {.type = SPRY_TYPE_INT};

	(void)state;
	spry_test_check(spry_getopt(s, SPRY_OPT_PROTO, &v), 0);
	assert_int_equal(v.u.i, 0x62);
	spry_test_check(spry_getopt(s, SPRY_OPT_PEER, &v), 0);
	assert_int_equal(v.u.i, 0x63);
	spry_test_check(spry_getopt(r, SPRY_OPT_PROTO, &v), 0);
	assert_int_equal(v.u.i, 0x63);
	spry_test_check(spry_getopt(r, SPRY_OPT_PEER, &v), 0);
	assert_int_equal(v.u.i, 0x62);
	v = (spry_optval){.type = SPRY_TYPE_BOOL};
	spry_test_check(spry_getopt(r, SPRY_OPT_RAW, &v), 0);
	assert_true(v.u.b);
	assert_int_equal(spry_socket_proto(s), SPRY_SURVEYOR0);
	assert_int_equal(spry_socket_peer(r), SPRY_SURVEYOR0);
	/* Both directions work on both sides. */
	assert_non_null(spry_socket_sendbox(s, NULL));
	assert_non_null(spry_socket_recvbox(s, NULL));
	assert_non_null(spry_socket_sendbox(r, NULL));
	assert_non_null(spry_socket_recvbox(r, NULL));
	spry_close(s);
	spry_close(r);
}

static void
test_three_respondents_answer_then_the_survey_ends(void **state)
{
	spry_socket      *s = surveyor("inproc://surv-rt", false, 0), *r[3];
	spry_socket_stats st;
	spry_msg         *m;
	int               seen[3] = {0};

	(void)state;
	for (int i = 0; i < 3; i++) {
		r[i] = respondent("inproc://surv-rt", false);
	}
	spry_test_check(spry_send(s, spry_test_u32_msg(42), 0), 0);
	for (uint32_t i = 0; i < 3; i++) {
		spry_test_check(spry_recv(r[i], &m, 0), 0);
		/* The route: the pipe it came in on, then the survey id. */
		assert_int_equal(spry_msg_header_len(m), 8);
		assert_int_equal(hdr_word(m, 0), spry_msg_pipe(m));
		assert_true(hdr_word(m, 1) & ID_BIT);
		assert_int_equal(peek_val(m), 42);
		spry_test_check(spry_send(r[i], answer(m, 100 + i), 0), 0);
	}
	for (int i = 0; i < 3; i++) {
		uint32_t v;

		spry_test_check(spry_recv(s, &m, 0), 0);
		assert_int_equal(spry_msg_header_len(m), 4);
		assert_true(hdr_word(m, 0) & ID_BIT);
		v = spry_test_u32_val(m);
		assert_in_range(v, 100, 102);
		seen[v - 100]++;
	}
	assert_true(seen[0] == 1 && seen[1] == 1 && seen[2] == 1);
	/* The survey ends: every receive says so until the next survey. */
	spry_test_check(spry_recv(s, &m, 0), SPRY_ETIMEDOUT);
	spry_test_check(spry_recv(s, &m, 0), SPRY_ETIMEDOUT);
	spry_test_check(spry_recv(s, &m, SPRY_FLAG_NONBLOCK), SPRY_ETIMEDOUT);
	spry_socket_stats_get(s, &st);
	assert_int_equal(st.received, 3);
	assert_int_equal(st.sent, 3);
	assert_int_equal(st.dropped, 0);
	for (int i = 0; i < 3; i++) {
		spry_close(r[i]);
	}
	spry_close(s);
}

static void
test_a_late_response_is_dropped(void **state)
{
	spry_socket *s = surveyor("inproc://surv-late", false, SPRY_MSEC(50));
	spry_socket *r = respondent("inproc://surv-late", false);
	spry_msg    *m, *late;
	uint64_t     d0;

	(void)state;
	spry_test_check(spry_send(s, spry_test_u32_msg(1), 0), 0);
	spry_test_check(spry_recv(r, &late, 0), 0);
	/* The surveyor reports the end before the answer is sent. */
	spry_test_check(spry_recv(s, &m, 0), SPRY_ETIMEDOUT);
	d0 = dropped(s);
	spry_test_check(spry_send(r, answer(late, 1), 0), 0);
	/* A second survey, answered in time, comes after it on the pipe. */
	spry_test_check(
	    spry_setopt(s, SPRY_OPT_SURVEYTIME, SPRY_DURATION(LONG)), 0);
	spry_test_check(spry_send(s, spry_test_u32_msg(2), 0), 0);
	spry_test_check(spry_recv(r, &m, 0), 0);
	spry_test_check(spry_send(r, answer(m, 2), 0), 0);
	spry_test_check(spry_recv(s, &m, 0), 0);
	assert_int_equal(spry_test_u32_val(m), 2);
	assert_int_equal(dropped(s), d0 + 1);
	spry_test_check(spry_recv(s, &m, SPRY_FLAG_NONBLOCK), SPRY_EAGAIN);
	spry_close(r);
	spry_close(s);
}

static void
test_a_new_survey_replaces_the_old(void **state)
{
	spry_socket *s = surveyor("inproc://surv-new", false, LONG);
	spry_socket *r = respondent("inproc://surv-new", false);
	spry_msg    *a, *b, *m;

	(void)state;
	spry_test_check(spry_send(s, spry_test_u32_msg(1), 0), 0);
	spry_test_check(spry_recv(r, &a, 0), 0);
	spry_test_check(spry_send(s, spry_test_u32_msg(2), 0), 0);
	spry_test_check(spry_recv(r, &b, 0), 0);
	assert_int_not_equal(hdr_word(a, 1), hdr_word(b, 1));
	/* Both answers go out; only the current survey's counts. */
	spry_test_check(spry_send(r, answer(a, 1), 0), 0);
	spry_test_check(spry_send(r, answer(b, 2), 0), 0);
	spry_test_check(spry_recv(s, &m, 0), 0);
	assert_int_equal(spry_test_u32_val(m), 2);
	assert_int_equal(dropped(s), 1);
	spry_test_check(spry_recv(s, &m, SPRY_FLAG_NONBLOCK), SPRY_EAGAIN);
	spry_close(r);
	spry_close(s);
}

#define NSURV 16

/* Each respondent answers every survey, last first, with val + tag. */
static void
answer_all(spry_socket *r, uint32_t tag)
{
	spry_msg *got[NSURV];

	for (int i = 0; i < NSURV; i++) {
		spry_test_check(spry_recv(r, &got[i], 0), 0);
	}
	for (int i = NSURV - 1; i >= 0; i--) {
		uint32_t v;

		assert_int_equal(spry_msg_trim_u32(got[i], &v), 0);
		spry_test_check(spry_send(r, answer(got[i], v + tag), 0), 0);
	}
}

/* Survey i goes out with reply mailbox mb, inline or via the actor. */
static void
survey_to(spry_socket *s, uint32_t i, spry_mailbox *mb)
{
	spry_msg *m = spry_test_u32_msg(i);

	spry_test_check(spry_msg_set_reply(m, mb), 0);
	if (i % 2 == 0) {
		spry_test_check(spry_send(s, m, 0), 0);
	} else {
		spry_test_check(
		    spry_mailbox_send(NULL, spry_socket_sendbox(s, NULL), m),
		    0);
	}
}

/* mb holds the answers of both respondents to survey i, then its end. */
static void
expect_answers_then_end(spry_socket *s, uint32_t i, spry_mailbox *mb)
{
	bool      from[2] = {false, false};
	spry_msg *m;

	for (int k = 0; k < 2; k++) {
		uint32_t v;

		m = mb_recv(mb);
		assert_ptr_equal(spry_msg_socket(m), s);
		assert_int_equal(spry_msg_err(m), 0);
		v = spry_test_u32_val(m);
		assert_true(v == i + 1000 || v == i + 2000);
		from[v / 2000] = true;
	}
	assert_true(from[0] && from[1]);
	m = mb_recv(mb);
	assert_int_equal(spry_msg_err(m), SPRY_ETIMEDOUT);
	assert_int_equal(spry_msg_len(m), 0);
	assert_ptr_equal(spry_msg_socket(m), s);
	spry_msg_free(m);
}

static void
test_surveys_with_reply_mailboxes_run_side_by_side(void **state)
{
	spry_socket  *s = surveyor("inproc://surv-mbox", false, 0);
	spry_socket  *r[2];
	spry_mailbox *mb[NSURV];
	spry_msg     *m;

	(void)state;
	r[0] = respondent("inproc://surv-mbox", false);
	r[1] = respondent("inproc://surv-mbox", false);
	for (uint32_t i = 0; i < NSURV; i++) {
		survey_to(s, i, (mb[i] = reply_box()));
	}
	/* None of them is the socket's default survey. */
	spry_test_check(spry_recv(s, &m, SPRY_FLAG_NONBLOCK), SPRY_ESTATE);
	answer_all(r[0], 1000);
	answer_all(r[1], 2000);
	for (uint32_t i = 0; i < NSURV; i++) {
		expect_answers_then_end(s, i, mb[i]);
		spry_mailbox_release(mb[i]);
	}
	spry_test_check(spry_recv(s, &m, SPRY_FLAG_NONBLOCK), SPRY_ESTATE);
	spry_close(r[0]);
	spry_close(r[1]);
	spry_close(s);
}

/* Survey on s with reply mailbox mb; r[0] and r[1] answer at once. */
static void
survey_answered(spry_socket *s, spry_socket **r, spry_mailbox *mb)
{
	spry_msg *m = spry_test_u32_msg(1);

	spry_test_check(spry_msg_set_reply(m, mb), 0);
	spry_test_check(spry_send(s, m, 0), 0);
	for (int i = 0; i < 2; i++) {
		spry_test_check(spry_recv(r[i], &m, 0), 0);
		spry_test_check(spry_send(r[i], answer(m, 2), 0), 0);
	}
}

/*
 * Survey a ends while its mailbox is full of responses; b, which ends
 * later, gets its event first, by which time a's end was (almost
 * always) tried and found no room. Once drained, a gets its event too.
 */
static void
test_a_full_reply_mailbox_still_gets_its_end_event(void **state)
{
	spry_socket *s = surveyor("inproc://surv-full", false, SPRY_MSEC(200));
	spry_socket *r[2];
	spry_mailbox *a = reply_box_of(2), *b = reply_box();
	spry_msg     *m;
	int           data = 0;

	(void)state;
	r[0] = respondent("inproc://surv-full", false);
	r[1] = respondent("inproc://surv-full", false);
	survey_answered(s, r, a);
	spry_test_check(
	    spry_setopt(s, SPRY_OPT_SURVEYTIME, SPRY_DURATION(SPRY_MSEC(400))),
	    0);
	survey_answered(s, r, b);
	while (spry_msg_err(m = mb_recv(b)) == 0) {
		spry_msg_free(m);
	}
	assert_int_equal(spry_msg_err(m), SPRY_ETIMEDOUT);
	spry_msg_free(m);
	while (spry_msg_err(m = mb_recv(a)) == 0) {
		spry_msg_free(m);
		data++;
	}
	assert_int_equal(spry_msg_err(m), SPRY_ETIMEDOUT);
	assert_true(data <= 2);
	spry_msg_free(m);
	spry_mailbox_release(a);
	spry_mailbox_release(b);
	spry_close(r[0]);
	spry_close(r[1]);
	spry_close(s);
}

static void
test_close_ends_surveys_with_reply_mailboxes(void **state)
{
	spry_socket  *s  = surveyor("inproc://surv-mclose", false, LONG);
	spry_mailbox *mb = reply_box();
	spry_msg     *m  = spry_test_u32_msg(1);

	(void)state;
	spry_test_check(spry_msg_set_reply(m, mb), 0);
	spry_test_check(spry_send(s, m, 0), 0);
	spry_close(s);
	m = mb_recv(mb);
	assert_int_equal(spry_msg_err(m), SPRY_ECLOSED);
	spry_msg_free(m);
	spry_mailbox_release(mb);
}

static void
test_respondent_answers_what_it_received(void **state)
{
	spry_socket *r = open_sock(SPRY_RESPONDENT0, false), *s;
	spry_msg    *m = spry_test_u32_msg(1);

	(void)state;
	/* Nothing to answer yet. */
	spry_test_check(spry_send(r, m, 0), SPRY_ESTATE);
	spry_msg_free(m);
	spry_test_check(spry_recv(r, &m, SPRY_FLAG_NONBLOCK), SPRY_EAGAIN);
	s = surveyor("inproc://surv-mem", false, LONG);
	spry_test_check(spry_dial(r, "inproc://surv-mem", NULL, 0), 0);
	spry_test_check(spry_send(s, spry_test_u32_msg(5), 0), 0);
	spry_test_check(spry_recv(r, &m, 0), 0);
	spry_msg_free(m);
	/* A fresh message answers the last survey, once. */
	spry_test_check(spry_send(r, spry_test_u32_msg(7), 0), 0);
	m = spry_test_u32_msg(8);
	spry_test_check(spry_send(r, m, 0), SPRY_ESTATE);
	spry_msg_free(m);
	spry_test_check(spry_recv(s, &m, 0), 0);
	assert_int_equal(spry_test_u32_val(m), 7);
	/* Headers that are no route are refused; m stays the caller's. */
	m = spry_test_u32_msg(9);
	assert_int_equal(spry_msg_header_append_u32(m, 5), 0);
	spry_test_check(spry_send(r, m, 0), SPRY_EINVAL);
	assert_int_equal(spry_msg_header_append_u32(m, 6), 0);
	spry_test_check(spry_send(r, m, 0), SPRY_EINVAL);
	spry_msg_header_clear(m);
	assert_int_equal(spry_msg_header_append_u32(m, ID_BIT | 5), 0);
	assert_int_equal(spry_msg_header_append_u32(m, ID_BIT | 6), 0);
	spry_test_check(spry_send(r, m, 0), SPRY_EINVAL);
	assert_int_equal(spry_msg_header_len(m), 8);
	spry_msg_free(m);
	spry_close(r);
	spry_close(s);
}

static void
test_an_answer_whose_surveyor_left_is_dropped(void **state)
{
	spry_socket      *s = surveyor("inproc://surv-gone", false, LONG);
	spry_socket      *r = respondent("inproc://surv-gone", false);
	spry_socket_stats st;
	spry_msg         *m;
	spry_time         end = spry_now() + GUARD;

	(void)state;
	spry_test_check(spry_send(s, spry_test_u32_msg(1), 0), 0);
	spry_test_check(spry_recv(r, &m, 0), 0);
	spry_close(s);
	do {
		sched_yield();
		spry_socket_stats_get(r, &st);
	} while (st.pipes != 0 && spry_now() < end);
	assert_int_equal(st.pipes, 0);
	spry_test_check(spry_send(r, answer(m, 1), 0), 0);
	assert_int_equal(dropped(r), 1);
	spry_close(r);
}

static void
test_recv_without_a_survey_is_a_state_error(void **state)
{
	spry_socket *s = open_sock(SPRY_SURVEYOR0, false);
	spry_msg    *m;

	(void)state;
	spry_test_check(spry_recv(s, &m, 0), SPRY_ESTATE);
	spry_test_check(spry_recv(s, &m, SPRY_FLAG_NONBLOCK), SPRY_ESTATE);
	/* A survey nobody hears still runs, and ends. */
	spry_test_check(
	    spry_setopt(s, SPRY_OPT_SURVEYTIME, SPRY_DURATION(SPRY_MSEC(20))),
	    0);
	spry_test_check(spry_send(s, spry_test_u32_msg(1), 0), 0);
	assert_int_equal(dropped(s), 1);
	spry_test_check(spry_recv(s, &m, 0), SPRY_ETIMEDOUT);
	spry_close(s);
}

static void
test_wrong_peer_is_rejected(void **state)
{
	spry_socket      *s = surveyor("inproc://surv-peer", false, 0);
	spry_socket      *r = open_sock(SPRY_RESPONDENT0, false);
	spry_socket      *p = open_sock(SPRY_PAIR0, false);
	spry_socket_stats st;

	(void)state;
	spry_test_check(spry_listen(r, "inproc://resp-peer", NULL), 0);
	spry_test_check(
	    spry_dial(p, "inproc://surv-peer", NULL, 0), SPRY_EPROTO);
	spry_test_check(
	    spry_dial(p, "inproc://resp-peer", NULL, 0), SPRY_EPROTO);
	spry_socket_stats_get(s, &st);
	assert_int_equal(st.rejected, 1);
	assert_int_equal(st.pipes, 0);
	spry_socket_stats_get(r, &st);
	assert_int_equal(st.rejected, 1);
	assert_int_equal(st.pipes, 0);
	spry_close(p);
	spry_close(r);
	spry_close(s);
}

/* A thread blocked in spry_recv (or spry_recv_ctx), and what it got. */
typedef struct blocked {
	spry_socket *s;
	spry_ctx    *ctx;
	int          rv;
} blocked;

static void *
blocked_run(void *arg)
{
	blocked  *b = arg;
	spry_msg *m = NULL;

	b->rv = b->ctx != NULL ? spry_recv_ctx(b->ctx, b->s, &m) :
	                         spry_recv(b->s, &m, 0);
	spry_msg_free(m);
	return NULL;
}

/* Block a receiver on s, then end it with close (ctx NULL) or cancel. */
static int
end_blocked(spry_socket *s, spry_ctx *ctx)
{
	blocked   b = {s, ctx, -1};
	pthread_t t;

	assert_int_equal(pthread_create(&t, NULL, blocked_run, &b), 0);
	assert_true(spry_test_await_waiters(
	    spry_socket_recvbox(s, NULL), SPRY_SELECT_RECV, 1));
	if (ctx != NULL) {
		spry_ctx_cancel(ctx);
	} else {
		spry_test_check(spry_close(s), 0);
	}
	pthread_join(t, NULL);
	return b.rv;
}

static void
test_close_wakes_blocked_receivers(void **state)
{
	spry_socket *s = surveyor("inproc://surv-close", false, LONG);
	spry_socket *r = respondent("inproc://surv-close", false);
	spry_msg    *m;

	(void)state;
	spry_test_check(spry_send(s, spry_test_u32_msg(1), 0), 0);
	spry_socket_hold(s);
	spry_socket_hold(r);
	spry_test_check(end_blocked(s, NULL), SPRY_ECLOSED);
	spry_test_check(spry_recv(r, &m, 0), 0); /* the survey, then */
	spry_msg_free(m);
	spry_test_check(end_blocked(r, NULL), SPRY_ECLOSED);
	spry_socket_release(s);
	spry_socket_release(r);
}

static void
test_ctx_cancels_blocked_receivers(void **state)
{
	spry_socket *s = surveyor("inproc://surv-cancel", false, LONG);
	spry_socket *r = respondent("inproc://surv-cancel", false);
	spry_ctx    *ctx;
	spry_msg    *m;

	(void)state;
	spry_test_check(spry_send(s, spry_test_u32_msg(1), 0), 0);
	assert_int_equal(spry_ctx_with_cancel(&ctx, NULL), 0);
	spry_test_check(end_blocked(s, ctx), SPRY_ECANCELED);
	spry_ctx_release(ctx);
	spry_test_check(spry_recv(r, &m, 0), 0);
	spry_msg_free(m);
	assert_int_equal(spry_ctx_with_cancel(&ctx, NULL), 0);
	spry_test_check(end_blocked(r, ctx), SPRY_ECANCELED);
	spry_ctx_release(ctx);
	spry_close(r);
	spry_close(s);
}

static void
test_nonblocking_and_receive_timeouts(void **state)
{
	spry_socket *s = surveyor("inproc://surv-nb", false, LONG);
	spry_socket *r = respondent("inproc://surv-nb", false);
	spry_optval  v = SPRY_DURATION(SPRY_MSEC(5));
	spry_msg    *m;

	(void)state;
	spry_test_check(spry_recv(r, &m, SPRY_FLAG_NONBLOCK), SPRY_EAGAIN);
	spry_test_check(
	    spry_send(s, spry_test_u32_msg(1), SPRY_FLAG_NONBLOCK), 0);
	spry_test_check(spry_recv(s, &m, SPRY_FLAG_NONBLOCK), SPRY_EAGAIN);
	spry_test_check(spry_setopt(s, SPRY_OPT_RECVTIMEO, v), 0);
	spry_test_check(spry_setopt(r, SPRY_OPT_RECVTIMEO, v), 0);
	spry_test_check(spry_recv(s, &m, 0), SPRY_ETIMEDOUT);
	/* That was the receive timeout: the survey still runs. */
	spry_test_check(spry_recv(s, &m, SPRY_FLAG_NONBLOCK), SPRY_EAGAIN);
	spry_test_check(spry_recv(r, &m, 0), 0);
	spry_msg_free(m);
	spry_test_check(spry_recv(r, &m, 0), SPRY_ETIMEDOUT);
	spry_close(r);
	spry_close(s);
}

static void
test_survey_time_is_checked(void **state)
{
	spry_socket *s = open_sock(SPRY_SURVEYOR0, false);
	spry_socket *x = open_sock(SPRY_SURVEYOR0, true);
	spry_socket *r = open_sock(SPRY_RESPONDENT0, false);
	spry_optval  v = {.type = SPRY_TYPE_DURATION};

	(void)state;
	spry_test_check(spry_getopt(s, SPRY_OPT_SURVEYTIME, &v), 0);
	assert_true(v.u.d == SPRY_SEC(1));
	spry_test_check(
	    spry_setopt(s, SPRY_OPT_SURVEYTIME, SPRY_INT(5)), SPRY_EBADTYPE);
	spry_test_check(spry_setopt(s, SPRY_OPT_SURVEYTIME, SPRY_DURATION(0)),
	    SPRY_EINVAL);
	spry_test_check(spry_setopt(s, SPRY_OPT_SURVEYTIME, SPRY_DURATION(-1)),
	    SPRY_EINVAL);
	spry_test_check(
	    spry_setopt(s, SPRY_OPT_SURVEYTIME, SPRY_DURATION(SPRY_MSEC(250))),
	    0);
	spry_test_check(spry_getopt(s, SPRY_OPT_SURVEYTIME, &v), 0);
	assert_true(v.u.d == SPRY_MSEC(250));
	v.type = SPRY_TYPE_INT;
	spry_test_check(
	    spry_getopt(s, SPRY_OPT_SURVEYTIME, &v), SPRY_EBADTYPE);
	v.type = SPRY_TYPE_DURATION;
	spry_test_check(spry_getopt(r, SPRY_OPT_SURVEYTIME, &v), SPRY_ENOTSUP);
	spry_test_check(
	    spry_setopt(r, SPRY_OPT_SURVEYTIME, SPRY_DURATION(SPRY_SEC(1))),
	    SPRY_ENOTSUP);
	spry_test_check(
	    spry_setopt(x, SPRY_OPT_SURVEYTIME, SPRY_DURATION(SPRY_SEC(1))),
	    SPRY_ENOTSUP);
	spry_test_check(
	    spry_setopt(s, SPRY_OPT_RESENDTIME, SPRY_DURATION(SPRY_SEC(1))),
	    SPRY_ENOTSUP);
	spry_close(s);
	spry_close(x);
	spry_close(r);
}

static void
test_raw_surveyor_sees_the_backtrace(void **state)
{
	spry_socket *x = surveyor("inproc://surv-xs", true, 0);
	spry_socket *r = respondent("inproc://surv-xs", false);
	spry_msg    *m = spry_test_u32_msg(1);

	(void)state;
	/* No state: nothing to wait for, no survey needed. */
	spry_test_check(spry_recv(x, &m, SPRY_FLAG_NONBLOCK), SPRY_EAGAIN);
	spry_test_check(spry_send(x, m, 0), SPRY_EINVAL); /* no backtrace */
	assert_int_equal(spry_msg_header_append_u32(m, 5), 0);
	spry_test_check(spry_send(x, m, 0), SPRY_EINVAL); /* no survey id */
	spry_msg_header_clear(m);
	assert_int_equal(spry_msg_header_append_u32(m, ID_BIT | 0x123), 0);
	spry_test_check(spry_send(x, m, 0), 0);
	spry_test_check(spry_recv(r, &m, 0), 0);
	assert_int_equal(hdr_word(m, 1), ID_BIT | 0x123);
	spry_test_check(spry_send(r, answer(m, 2), 0), 0);
	spry_test_check(spry_recv(x, &m, 0), 0);
	assert_int_equal(spry_msg_header_len(m), 4);
	assert_int_equal(hdr_word(m, 0), ID_BIT | 0x123);
	assert_int_equal(spry_test_u32_val(m), 2);
	spry_close(r);
	spry_close(x);
}

static void
test_raw_respondent_routes_by_its_header(void **state)
{
	spry_socket *s = surveyor("inproc://surv-xr", false, LONG);
	spry_socket *x = respondent("inproc://surv-xr", true);
	spry_msg    *m, *bad;

	(void)state;
	spry_test_check(spry_send(s, spry_test_u32_msg(3), 0), 0);
	spry_test_check(spry_recv(x, &m, 0), 0);
	assert_int_equal(spry_msg_header_len(m), 8);
	assert_int_equal(hdr_word(m, 0), spry_msg_pipe(m));
	assert_true(hdr_word(m, 1) & ID_BIT);
	/* No memory in raw mode: an empty header is no route. */
	bad = spry_test_u32_msg(4);
	spry_test_check(spry_send(x, bad, 0), SPRY_EINVAL);
	/* A route to a pipe that does not exist goes nowhere. */
	assert_int_equal(
	    spry_msg_header_append_u32(bad, hdr_word(m, 0) ^ 1), 0);
	assert_int_equal(spry_msg_header_append_u32(bad, hdr_word(m, 1)), 0);
	spry_test_check(spry_send(x, bad, 0), 0);
	assert_int_equal(dropped(x), 1);
	spry_test_check(spry_send(x, answer(m, 4), 0), 0);
	spry_test_check(spry_recv(s, &m, 0), 0);
	assert_int_equal(spry_test_u32_val(m), 4);
	spry_close(x);
	spry_close(s);
}

static void
test_too_many_hops_are_dropped(void **state)
{
	spry_socket *x = surveyor("inproc://surv-ttl", true, 0);
	spry_socket *r = respondent("inproc://surv-ttl", false);
	spry_msg    *m = spry_test_u32_msg(1);

	(void)state;
	spry_test_check(spry_setopt(r, SPRY_OPT_MAXTTL, SPRY_INT(2)), 0);
	assert_int_equal(spry_msg_header_append_u32(m, 1), 0);
	assert_int_equal(spry_msg_header_append_u32(m, 2), 0);
	assert_int_equal(spry_msg_header_append_u32(m, ID_BIT | 1), 0);
	spry_test_check(spry_send(x, m, 0), 0);
	m = spry_test_u32_msg(2);
	assert_int_equal(spry_msg_header_append_u32(m, 1), 0);
	assert_int_equal(spry_msg_header_append_u32(m, ID_BIT | 2), 0);
	spry_test_check(spry_send(x, m, 0), 0);
	/* The second arrives; the first, ahead of it, was dropped. */
	spry_test_check(spry_recv(r, &m, 0), 0);
	assert_int_equal(spry_msg_header_len(m), 12);
	assert_int_equal(hdr_word(m, 1), 1);
	assert_int_equal(hdr_word(m, 2), ID_BIT | 2);
	assert_int_equal(spry_test_u32_val(m), 2);
	assert_int_equal(dropped(r), 1);
	spry_test_check(spry_recv(r, &m, SPRY_FLAG_NONBLOCK), SPRY_EAGAIN);
	spry_close(r);
	spry_close(x);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(test_identity, up, down),
	    cmocka_unit_test_setup_teardown(
	        test_three_respondents_answer_then_the_survey_ends, up, down),
	    cmocka_unit_test_setup_teardown(
	        test_a_late_response_is_dropped, up, down),
	    cmocka_unit_test_setup_teardown(
	        test_a_new_survey_replaces_the_old, up, down),
	    cmocka_unit_test_setup_teardown(
	        test_surveys_with_reply_mailboxes_run_side_by_side, up, down),
	    cmocka_unit_test_setup_teardown(
	        test_a_full_reply_mailbox_still_gets_its_end_event, up, down),
	    cmocka_unit_test_setup_teardown(
	        test_close_ends_surveys_with_reply_mailboxes, up, down),
	    cmocka_unit_test_setup_teardown(
	        test_respondent_answers_what_it_received, up, down),
	    cmocka_unit_test_setup_teardown(
	        test_an_answer_whose_surveyor_left_is_dropped, up, down),
	    cmocka_unit_test_setup_teardown(
	        test_recv_without_a_survey_is_a_state_error, up, down),
	    cmocka_unit_test_setup_teardown(
	        test_wrong_peer_is_rejected, up, down),
	    cmocka_unit_test_setup_teardown(
	        test_close_wakes_blocked_receivers, up, down),
	    cmocka_unit_test_setup_teardown(
	        test_ctx_cancels_blocked_receivers, up, down),
	    cmocka_unit_test_setup_teardown(
	        test_nonblocking_and_receive_timeouts, up, down),
	    cmocka_unit_test_setup_teardown(
	        test_survey_time_is_checked, up, down),
	    cmocka_unit_test_setup_teardown(
	        test_raw_surveyor_sees_the_backtrace, up, down),
	    cmocka_unit_test_setup_teardown(
	        test_raw_respondent_routes_by_its_header, up, down),
	    cmocka_unit_test_setup_teardown(
	        test_too_many_hops_are_dropped, up, down),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
