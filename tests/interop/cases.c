/* SPDX-License-Identifier: MIT */
/*
 * tests/interop/cases.c: the scenarios of the interoperability tests,
 * each a pair of scripts (spry's side, then the peer's) that the table
 * in harness.c runs over tcp and ipc, each way round. What they check:
 * payloads byte for byte (0, 1, 5, 1499 and 64 KiB) both ways for
 * PAIR0, PAIR1, PUSH/PULL and BUS; REQ/REP in both roles (requests in a
 * row whose replies must answer them, ids in the headers, a reply to a
 * request a newer one replaced dropped, concurrent spry requests each
 * answered in its own mailbox); surveys both ways (a spry surveyor with
 * two peer respondents and a late response to an old survey dropped; a
 * peer surveyor with two spry respondents read through one fan-in
 * mailbox); subscriptions filtered by prefix on either side of the
 * wire.
 */
#include "tests/interop/harness.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define SURVEY_SYNC_MS 100      /* a peer's first sync survey's time */
#define SURVEY_SYNC_MAX_MS 1600 /* and its longest */

/* What the PUB sides publish, in order, and whether SUB must see it. */
typedef struct pubmsg {
	bytes b;    /* the message (b.p NULL: the 64 KiB payload) */
	bool  gets; /* a topic (see harness.c) is a prefix of it */
} pubmsg;

static const pubmsg published[] = {
    {{"alpha/1", 7}, true},   /* a topic and more */
    {{"gamma/2", 7}, false},  /* no topic */
    {{"be", 2}, true},        /* the whole topic */
    {{"b", 1}, false},        /* shorter than the topic */
    {{"", 0}, false},         /* empty */
    {{"betamax", 7}, true},   /* another topic and more */
    {{"alph", 4}, false},     /* a topic's prefix, not the topic */
    {{NULL, BIG_SIZE}, true}, /* last: nothing after it can be lost */
};

#define NPUBLISHED (sizeof(published) / sizeof(published[0]))

static bytes
pub_bytes(size_t i)
{
	return published[i].b.p != NULL ? published[i].b :
	                                  payload(NPAYLOADS - 1);
}

/* ---- PAIR0, PAIR1: the peer echoes each payload ------------------------ */

void
pair_spry(run *r)
{
	for (int i = 0; i < NPAYLOADS; i++) {
		s_send(r->s[0], payload(i));
		s_expect(r->s[0], payload(i), "echo of payload", i);
	}
}

bool
pair_peer(run *r)
{
	for (int i = 0; i < NPAYLOADS; i++) {
		if (!p_expect(r, 0, payload(i), "payload", i) ||
		    !p_send(r, 0, payload(i), "echo of payload", i)) {
			return false;
		}
	}
	return true;
}

/* ---- PUSH/PULL --------------------------------------------------------- */

void
push_spry(run *r)
{
	for (int i = 0; i < NPAYLOADS; i++) {
		s_send(r->s[0], payload(i));
	}
}

bool
pull_peer(run *r)
{
	for (int i = 0; i < NPAYLOADS; i++) {
		if (!p_expect(r, 0, payload(i), "payload", i)) {
			return false;
		}
	}
	return true;
}

void
pull_spry(run *r)
{
	for (int i = 0; i < NPAYLOADS; i++) {
		s_expect(r->s[0], payload(i), "payload", i);
	}
}

bool
push_peer(run *r)
{
	for (int i = 0; i < NPAYLOADS; i++) {
		if (!p_send(r, 0, payload(i), "payload", i)) {
			return false;
		}
	}
	return true;
}

/* ---- spry REQ, peer REP ------------------------------------------------- */

/* Requests in a row: each reply answers its request, ids differ. */
static void
req_spry_row(run *r)
{
	uint32_t last = 0;

	for (int i = 0; i < NPAYLOADS; i++) {
		spry_msg *m;
		uint8_t  *buf;
		bytes     a = answer(payload(i), -1, &buf);
		uint32_t  id;

		assert_non_null(buf);
		s_send(r->s[0], payload(i));
		m = s_recv(r->s[0]);
		/* Our reply keeps the request id in its header, as NNG. */
		assert_int_equal(spry_msg_header_len(m), 4);
		id = be32(spry_msg_header(m));
		assert_true(id & TOP_BIT);
		assert_true(id != last);
		last = id;
		s_check(m, a, "reply to payload", i);
		spry_msg_free(m);
		free(buf);
	}
}

/*
 * A reply to a request that a newer one replaced is dropped: the peer
 * answers A only after spry has sent B, so A's reply comes first and
 * must not be taken for B's.
 */
static void
req_spry_stale(run *r)
{
	spry_socket_stats st;

	s_send(r->s[0], str("request A"));
	assert_true(latch_wait(&r->to_spry, 1, PEER_GUARD_MS)); /* A is in */
	s_send(r->s[0], str("request B"));
	latch_post(&r->to_peer);
	s_expect_answer(
	    r->s[0], str("request B"), -1, "reply to request B", 0);
	spry_socket_stats_get(r->s[0], &st);
	assert_true(st.dropped >= 1); /* A's reply, before B's on the pipe */
}

/* Requests in flight together, each with a reply mailbox of its own. */
static void
req_spry_concurrent(run *r)
{
	spry_mailbox *mb[3];
	char          q[3][16];

	for (int i = 0; i < 3; i++) {
		spry_msg *m;

		snprintf(q[i], sizeof(q[i]), "concurrent %d", i);
		mb[i] = s_mailbox();
		m     = s_msg(str(q[i]));
		spry_test_check(spry_msg_set_reply(m, mb[i]), 0);
		spry_test_check(spry_send(r->s[0], m, 0), 0);
	}
	for (int i = 0; i < 3; i++) {
		spry_msg *m = s_mailbox_recv(mb[i]);
		uint8_t  *buf;
		bytes     a = answer(str(q[i]), -1, &buf);

		assert_non_null(buf);
		assert_int_equal(spry_msg_err(m), 0);
		s_check(m, a, "reply to concurrent request", i);
		spry_msg_free(m);
		free(buf);
		s_mailbox_done(mb[i]);
	}
}

void
req_spry(run *r)
{
	req_spry_row(r);
	req_spry_stale(r);
	req_spry_concurrent(r);
}

bool
rep_peer(run *r)
{
	char q[16];

	for (int i = 0; i < NPAYLOADS; i++) {
		if (!p_expect(r, 0, payload(i), "request", i) ||
		    !p_answer(r, 0, payload(i), -1, "reply", i)) {
			return false;
		}
	}
	/* The stale reply: see req_spry_stale. */
	if (!p_expect(r, 0, str("request A"), "request A", 0)) {
		return false;
	}
	latch_post(&r->to_spry);
	if (!latch_wait(&r->to_peer, 1, PEER_GUARD_MS)) {
		return pfail(r, "spry never sent request B");
	}
	if (!p_answer(r, 0, str("request A"), -1, "stale reply", 0) ||
	    !p_expect(r, 0, str("request B"), "request B", 0) ||
	    !p_answer(r, 0, str("request B"), -1, "reply B", 0)) {
		return false;
	}
	for (int i = 0; i < 3; i++) {
		snprintf(q, sizeof(q), "concurrent %d", i);
		if (!p_expect(r, 0, str(q), "concurrent request", i) ||
		    !p_answer(r, 0, str(q), -1, "concurrent reply", i)) {
			return false;
		}
	}
	return true;
}

/* ---- peer REQ, spry REP ------------------------------------------------- */

void
rep_spry(run *r)
{
	spry_msg *a, *b, *ra;
	uint32_t  last = 0, id;

	for (int i = 0; i < NPAYLOADS; i++) {
		spry_msg *m = s_recv(r->s[0]);

		id = s_peer_id(m);
		assert_true(id != last);
		last = id;
		s_check(m, payload(i), "request", i);
		s_answer_in_place(m, -1); /* the header routes it back */
		spry_test_check(spry_send(r->s[0], m, 0), 0);
	}
	/*
	 * The peer sends B after A, so its REQ cancels A: our reply to A,
	 * sent after B arrived, must be dropped by the peer. A's goes in a
	 * fresh message with a copy of A's header.
	 */
	a = s_recv(r->s[0]);
	s_check(a, str("request A"), "request A", 0);
	latch_post(&r->to_peer);
	b = s_recv(r->s[0]);
	s_check(b, str("request B"), "request B", 0);
	assert_true(s_peer_id(a) != s_peer_id(b));
	ra = s_msg(str("stale"));
	spry_test_check(spry_msg_header_append(
	                    ra, spry_msg_header(a), spry_msg_header_len(a)),
	    0);
	spry_msg_free(a);
	spry_test_check(spry_send(r->s[0], ra, 0), 0);
	s_answer_in_place(b, -1);
	spry_test_check(spry_send(r->s[0], b, 0), 0);
}

bool
req_peer(run *r)
{
	for (int i = 0; i < NPAYLOADS; i++) {
		if (!p_send(r, 0, payload(i), "request", i) ||
		    !p_expect_answer(r, 0, payload(i), -1, "reply", i)) {
			return false;
		}
	}
	if (!p_send(r, 0, str("request A"), "request A", 0)) {
		return false;
	}
	if (!latch_wait(&r->to_peer, 1, PEER_GUARD_MS)) {
		return pfail(r, "spry never got request A");
	}
	return p_send(r, 0, str("request B"), "request B", 0) &&
	    p_expect_answer(r, 0, str("request B"), -1, "reply B", 0);
}

/* ---- PUB/SUB: the filter works on the receiving side of the wire ------- */

void
pub_spry(run *r)
{
	for (size_t i = 0; i < NPUBLISHED; i++) {
		s_send(r->s[0], pub_bytes(i));
	}
}

bool
sub_peer(run *r)
{
	for (size_t i = 0; i < NPUBLISHED; i++) {
		if (published[i].gets &&
		    !p_expect_skip(r, 0, pub_bytes(i),
		        peer_sub_empty_unreliable, "published", (int)i)) {
			return false;
		}
	}
	return true;
}

void
sub_spry(run *r)
{
	s_await_sync(r, 0);
	for (size_t i = 0; i < NPUBLISHED; i++) {
		if (published[i].gets) {
			s_expect_after_sync(
			    r->s[0], pub_bytes(i), "published", (int)i);
		}
	}
}

bool
pub_peer(run *r)
{
	if (!p_sync(r, 0)) {
		return false;
	}
	for (size_t i = 0; i < NPUBLISHED; i++) {
		if (!p_send(r, 0, pub_bytes(i), "published", (int)i)) {
			return false;
		}
	}
	return true;
}

/* ---- spry SURVEYOR, two peer RESPONDENTs -------------------------------- */

/* Receive one response from each respondent, both answering q. */
static void
surv_collect(run *r, bytes q, const char *what, int k)
{
	bool seen[2] = {false, false};

	for (int n = 0; n < 2; n++) {
		spry_msg *m = s_recv(r->s[0]);
		uint8_t  *buf;
		bytes     a;
		int       idx;

		assert_true(spry_msg_len(m) >= 1);
		idx = ((const uint8_t *)spry_msg_body(m))[0];
		assert_true(idx < 2 && !seen[idx]);
		seen[idx] = true;
		a         = answer(q, idx, &buf);
		assert_non_null(buf);
		s_check(m, a, what, k);
		free(buf);
		spry_msg_free(m);
	}
}

void
surveyor_spry(run *r)
{
	spry_socket_stats st;

	/* Long enough that no response is late, however slow the run. */
	spry_test_check(
	    spry_setopt(r->s[0], SPRY_OPT_SURVEYTIME, SPRY_DURATION(GUARD)),
	    0);
	for (int i = 0; i < NPAYLOADS; i++) {
		s_send(r->s[0], payload(i));
		surv_collect(r, payload(i), "response to payload", i);
	}
	/*
	 * A late response: respondent 1 answers "old" only after spry has
	 * started "new", which ends "old"; its answer comes before its
	 * answer to "new" and must be dropped.
	 */
	s_send(r->s[0], str("old"));
	s_expect_answer(r->s[0], str("old"), 0, "response to old", 0);
	s_send(r->s[0], str("new"));
	latch_post(&r->to_peer);
	surv_collect(r, str("new"), "response to new", 0);
	spry_socket_stats_get(r->s[0], &st);
	assert_true(st.dropped >= 1);
}

bool
respondent_peer(run *r)
{
	for (int i = 0; i < NPAYLOADS; i++) {
		for (int k = 0; k < 2; k++) {
			if (!p_expect(r, k, payload(i), "survey", i) ||
			    !p_answer(r, k, payload(i), k, "response", i)) {
				return false;
			}
		}
	}
	if (!p_expect(r, 0, str("old"), "survey old", 0) ||
	    !p_answer(r, 0, str("old"), 0, "response to old", 0) ||
	    !p_expect(r, 1, str("old"), "survey old", 1)) {
		return false;
	}
	if (!latch_wait(&r->to_peer, 1, PEER_GUARD_MS)) {
		return pfail(r, "spry never started survey new");
	}
	if (!p_answer(r, 1, str("old"), 1, "late response to old", 1)) {
		return false;
	}
	for (int k = 0; k < 2; k++) {
		if (!p_expect(r, k, str("new"), "survey new", k) ||
		    !p_answer(r, k, str("new"), k, "response to new", k)) {
			return false;
		}
	}
	return true;
}

/* ---- peer SURVEYOR, two spry RESPONDENTs -------------------------------- */

/*
 * Both spry respondents read through one fan-in mailbox and answer
 * every survey with the message itself (its header is the route), until
 * each has seen every payload; "sync" surveys are answered too.
 */
void
respondent_spry(run *r)
{
	spry_mailbox *mb      = s_mailbox();
	int           next[2] = {0, 0};

	for (int i = 0; i < 2; i++) {
		spry_test_check(spry_socket_subscribe(r->s[i], mb, false), 0);
	}
	while (next[0] < NPAYLOADS || next[1] < NPAYLOADS) {
		spry_msg    *m   = s_mailbox_recv(mb);
		spry_socket *s   = spry_msg_socket(m);
		int          idx = s == r->s[0] ? 0 : 1;

		assert_true(s == r->s[0] || s == r->s[1]);
		(void)s_peer_id(m);
		if (!same(spry_msg_body(m), spry_msg_len(m), str("sync"))) {
			assert_true(next[idx] < NPAYLOADS);
			s_check(m, payload(next[idx]), "survey", next[idx]);
			next[idx]++;
		}
		s_answer_in_place(m, idx);
		spry_test_check(spry_send(s, m, 0), 0);
	}
	for (int i = 0; i < 2; i++) {
		spry_test_check(spry_socket_unsubscribe(r->s[i], mb), 0);
	}
	s_mailbox_done(mb);
}

/*
 * Read one response to q on peer socket 0; *idx says whose. False at
 * the survey's end (perr untouched) or on a failure (perr set).
 */
static bool
p_response(run *r, bytes q, int *idx, const char *what, int k)
{
	void    *buf;
	size_t   n;
	uint8_t *want = NULL;
	bool     ok   = false;
	int      rv   = peer_recv(r->p[0], &buf, &n);

	if (rv != 0) {
		return peer_survey_over(rv) ?
		    false :
		    pfail(r, "%s: receiving %s %d: %s", peer_lib, what, k,
		        peer_strerror(rv));
	}
	*idx = n > 0 ? ((const uint8_t *)buf)[0] : -1;
	if (*idx == 0 || *idx == 1) {
		ok = same(buf, n, answer(q, *idx, &want));
		free(want);
	}
	free(buf);
	return ok ? true :
	            pfail(r, "%s: %s %d: %zu bytes that answer nothing",
	                peer_lib, what, k, n);
}

/*
 * Survey "sync" until both respondents answered one survey: the peer's
 * pipes are then up. The end of a survey just ends one try; each try
 * waits twice as long as the one before (up to SURVEY_SYNC_MAX_MS), so
 * that a slow run, whose answers come late, syncs too.
 */
static bool
surveyor_peer_sync(run *r)
{
	spry_time end = spry_deadline_after(GUARD);
	int       rv, ms = SURVEY_SYNC_MS;

	while (spry_now() < end) {
		bool got[2] = {false, false};
		int  idx;

		if ((rv = peer_set_surveytime(r->p[0], ms)) != 0) {
			return pfail(r, "survey time: %s", peer_strerror(rv));
		}
		ms = ms * 2 > SURVEY_SYNC_MAX_MS ? SURVEY_SYNC_MAX_MS : ms * 2;
		if (!p_send(r, 0, str("sync"), "sync", 0)) {
			return false;
		}
		while (p_response(r, str("sync"), &idx, "sync response", 0)) {
			got[idx] = true;
			if (got[0] && got[1]) {
				return true;
			}
		}
		if (r->perr[0] != '\0') {
			return false;
		}
	}
	return pfail(r, "%s: no answer to sync surveys", peer_lib);
}

bool
surveyor_peer(run *r)
{
	int rv;

	if (!surveyor_peer_sync(r)) {
		return false;
	}
	if ((rv = peer_set_surveytime(r->p[0], PEER_GUARD_MS)) != 0) {
		return pfail(r, "survey time: %s", peer_strerror(rv));
	}
	for (int i = 0; i < NPAYLOADS; i++) {
		bool got[2] = {false, false};
		int  idx;

		if (!p_send(r, 0, payload(i), "survey", i)) {
			return false;
		}
		for (int n = 0; n < 2; n++) {
			if (!p_response(r, payload(i), &idx, "response", i)) {
				return pfail(
				    r, "%s: response %d missing", peer_lib, i);
			}
			if (got[idx]) {
				return pfail(r, "two responses from %d", idx);
			}
			got[idx] = true;
		}
	}
	return true;
}

/* ---- BUS: both ways, the peer syncs first ------------------------------ */

void
bus_spry(run *r)
{
	s_await_sync(r, 0);
	for (int i = 0; i < NPAYLOADS; i++) {
		s_send(r->s[0], payload(i));
	}
	for (int i = 0; i < NPAYLOADS; i++) {
		s_expect_after_sync(r->s[0], payload(i), "payload", i);
	}
}

bool
bus_peer(run *r)
{
	if (!p_sync(r, 0)) {
		return false;
	}
	for (int i = 0; i < NPAYLOADS; i++) {
		if (!p_expect(r, 0, payload(i), "payload", i)) {
			return false;
		}
	}
	for (int i = 0; i < NPAYLOADS; i++) {
		if (!p_send(r, 0, payload(i), "payload", i)) {
			return false;
		}
	}
	return true;
}
