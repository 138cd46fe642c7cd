/* SPDX-License-Identifier: MIT */
/*
 * tests/interop/harness.c: the runner of the interoperability tests
 * and the helpers the scenarios (cases.c) are written with. One table
 * of scenarios, one runner: every scenario runs over tcp (127.0.0.1,
 * port 0) and ipc (a fresh path in /tmp), once with spry listening and
 * the peer library (interop.h) dialing and once the other way round. A
 * scenario names spry's protocol and the peer's, how many sockets each
 * side has, and two scripts: spry's, run in the test's thread with
 * cmocka assertions, and the peer's, run in a thread of its own that
 * reports its first failure as text.
 *
 * Synchronizing without sleeps. The runner subscribes a mailbox to each
 * spry socket's pipe events before it listens or dials, and starts the
 * scripts once there is one SPRY_PIPE_ADD per peer socket. What spry
 * sends after that reaches the peer, lossy protocols included: the
 * bytes wait behind our hello until the peer has attached its end. The
 * peer cannot know when ours is attached, so a peer that sends on a
 * protocol that drops messages with no pipe to take them (PUB, BUS,
 * SURVEYOR) first repeats a "sync" until spry says, through a latch,
 * that one arrived (p_sync, s_await_sync). Every blocking call on
 * either side is bounded (GUARD, PEER_GUARD_MS).
 */
#include "tests/interop/harness.h"

#include "transports/stream.h"

#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define SYNC_MS 20    /* the peer's wait for spry's ack of a sync */
#define RECV_ROOM 256 /* spry's receive buffers and mailboxes */
#define XOR_KEY 0x5a  /* answers are their question xor this */

/* ---- latches ----------------------------------------------------------- */

static void
latch_init(latch *l)
{
	pthread_condattr_t a;

	pthread_condattr_init(&a);
	pthread_condattr_setclock(&a, CLOCK_MONOTONIC);
	pthread_cond_init(&l->cv, &a);
	pthread_condattr_destroy(&a);
	pthread_mutex_init(&l->mtx, NULL);
	l->n = 0;
}

static void
latch_fini(latch *l)
{
	pthread_cond_destroy(&l->cv);
	pthread_mutex_destroy(&l->mtx);
}

void
latch_post(latch *l)
{
	pthread_mutex_lock(&l->mtx);
	l->n++;
	pthread_cond_broadcast(&l->cv);
	pthread_mutex_unlock(&l->mtx);
}

bool
latch_wait(latch *l, int want, int ms)
{
	struct timespec at;
	int             rv = 0;
	bool            ok;

	clock_gettime(CLOCK_MONOTONIC, &at);
	at.tv_sec += ms / 1000;
	at.tv_nsec += (long)(ms % 1000) * 1000000L;
	if (at.tv_nsec >= 1000000000L) {
		at.tv_sec++;
		at.tv_nsec -= 1000000000L;
	}
	pthread_mutex_lock(&l->mtx);
	while (l->n < want && rv == 0) {
		rv = pthread_cond_timedwait(&l->cv, &l->mtx, &at);
	}
	ok = l->n >= want;
	pthread_mutex_unlock(&l->mtx);
	return ok;
}

/* ---- cases -------------------------------------------------------------- */

/* One scenario: the protocols, the sockets, the two scripts. */
typedef struct scenario {
	int sp; /* spry's protocol (spry_proto) */
	int pp; /* the peer's protocol (the same SP ids) */
	int ns; /* spry sockets, 1..MAX_SOCKS */
	int np; /* peer sockets, 1..MAX_SOCKS (one of ns, np is 1) */
	void (*spry_side)(run *r); /* test thread; asserts */
	bool (*peer_side)(run *r); /* peer thread; false after pfail */
} scenario;

/* One test: a scenario over one transport, one way round. */
struct icase {
	const scenario *sc;           /* what runs */
	bool            ipc;          /* ipc, else tcp */
	bool            spry_listens; /* else the peer listens */
	char            name[128];    /* the test's name */
};

/* ---- payloads ----------------------------------------------------------- */

static uint8_t big[BIG_SIZE]; /* written once, before any case runs */

/* Fill big: "alpha/" (a topic the SUB cases want), then noise. */
static void
big_fill(void)
{
	for (uint32_t i = 0; i < BIG_SIZE; i++) {
		big[i] = (uint8_t)((i * 2654435761u) >> 24);
	}
	memcpy(big, "alpha/", 6);
}

/* The payloads every exchange sends, in order: 0, 1, 5, 1499, 64 KiB. */
bytes
payload(int i)
{
	static const bytes small[] = {{"", 0}, {"\0", 1}, {"hello", 5}};

	if (i < 3) {
		return small[i];
	}
	return i == 3 ? (bytes){big + 3, 1499} : (bytes){big, BIG_SIZE};
}

bytes
str(const char *s)
{
	return (bytes){s, strlen(s)};
}

/*
 * What an answerer sends back for q: q's bytes xor XOR_KEY, after the
 * answerer's index byte when idx >= 0 (respondents, so that a surveyor
 * tells them apart). malloc'd into *buf; NULL when out of memory.
 */
bytes
answer(bytes q, int idx, uint8_t **buf)
{
	size_t   off = idx >= 0 ? 1 : 0;
	uint8_t *b   = malloc(q.n + off + 1);

	*buf = b;
	if (b == NULL) {
		return (bytes){NULL, 0};
	}
	if (idx >= 0) {
		b[0] = (uint8_t)idx;
	}
	for (size_t i = 0; i < q.n; i++) {
		b[off + i] = ((const uint8_t *)q.p)[i] ^ XOR_KEY;
	}
	return (bytes){b, q.n + off};
}

/* Where a and b first differ (the shorter length when one is a prefix). */
static size_t
first_diff(const void *a, size_t an, bytes b)
{
	size_t n = an < b.n ? an : b.n, i = 0;

	while (i < n && ((const uint8_t *)a)[i] == ((const uint8_t *)b.p)[i]) {
		i++;
	}
	return i;
}

bool
same(const void *a, size_t an, bytes b)
{
	return an == b.n && memcmp(a, b.p, an) == 0;
}

static const char *
proto_name(int proto)
{
	switch (proto) {
	case SPRY_PAIR0:
		return "PAIR0";
	case SPRY_PAIR1:
		return "PAIR1";
	case SPRY_PUB0:
		return "PUB0";
	case SPRY_SUB0:
		return "SUB0";
	case SPRY_REQ0:
		return "REQ0";
	case SPRY_REP0:
		return "REP0";
	case SPRY_PUSH0:
		return "PUSH0";
	case SPRY_PULL0:
		return "PULL0";
	case SPRY_SURVEYOR0:
		return "SURVEYOR0";
	case SPRY_RESPONDENT0:
		return "RESPONDENT0";
	case SPRY_BUS0:
		return "BUS0";
	default:
		return "?";
	}
}

/* Topics both SUB sides subscribe to; "sync" lets the sync through. */
static const char *const topics[] = {"alpha", "be", "sync"};

#define NTOPICS (sizeof(topics) / sizeof(topics[0]))

/* ---- the peer thread's helpers: no cmocka here, text instead ----------- */

/* Record the peer script's first failure; false, for `return pfail()`. */
bool
pfail(run *r, const char *fmt, ...)
{
	va_list ap;

	if (r->perr[0] == '\0') {
		va_start(ap, fmt);
		vsnprintf(r->perr, sizeof(r->perr), fmt, ap);
		va_end(ap);
	}
	return false;
}

bool
p_send(run *r, int i, bytes b, const char *what, int k)
{
	int rv = peer_send(r->p[i], b.p, b.n);

	if (rv != 0) {
		return pfail(r, "%s socket %d: sending %s %d: %s", peer_lib, i,
		    what, k, peer_strerror(rv));
	}
	return true;
}

/*
 * Receive on peer socket i and check the body is want; with
 * skip_empty, 0-byte messages before it are ignored (see
 * peer_sub_empty_unreliable).
 */
bool
p_expect_skip(
    run *r, int i, bytes want, bool skip_empty, const char *what, int k)
{
	void  *buf;
	size_t n;
	int    rv;
	bool   ok;

	while ((rv = peer_recv(r->p[i], &buf, &n)) == 0 && n == 0 &&
	    want.n > 0 && skip_empty) {
		free(buf);
	}
	if (rv != 0) {
		return pfail(r, "%s socket %d: receiving %s %d: %s", peer_lib,
		    i, what, k, peer_strerror(rv));
	}
	if (!(ok = same(buf, n, want))) {
		pfail(r,
		    "%s socket %d: %s %d: got %zu bytes, want %zu (first "
		    "difference at byte %zu)",
		    peer_lib, i, what, k, n, want.n, first_diff(buf, n, want));
	}
	free(buf);
	return ok;
}

/* Receive on peer socket i and check the body is want. */
bool
p_expect(run *r, int i, bytes want, const char *what, int k)
{
	return p_expect_skip(r, i, want, false, what, k);
}

/* Send the answer to q (see answer()) on peer socket i. */
bool
p_answer(run *r, int i, bytes q, int idx, const char *what, int k)
{
	uint8_t *buf;
	bytes    a = answer(q, idx, &buf);
	bool     ok;

	if (buf == NULL) {
		return pfail(r, "out of memory");
	}
	ok = p_send(r, i, a, what, k);
	free(buf);
	return ok;
}

/* Receive on peer socket i and check the body answers q. */
bool
p_expect_answer(run *r, int i, bytes q, int idx, const char *what, int k)
{
	uint8_t *buf;
	bytes    a = answer(q, idx, &buf);
	bool     ok;

	if (buf == NULL) {
		return pfail(r, "out of memory");
	}
	ok = p_expect(r, i, a, what, k);
	free(buf);
	return ok;
}

/*
 * A peer about to send on a lossy protocol: send "sync" until spry
 * posts to_peer (it got one), so that the next messages find a pipe.
 */
bool
p_sync(run *r, int i)
{
	spry_time end = spry_deadline_after(GUARD);

	while (spry_now() < end) {
		if (!p_send(r, i, str("sync"), "sync", 0)) {
			return false;
		}
		if (latch_wait(&r->to_peer, 1, SYNC_MS)) {
			return true;
		}
	}
	return pfail(r, "%s socket %d: spry never got a sync", peer_lib, i);
}

/* ---- the spry side's helpers ------------------------------------------- */

spry_msg *
s_msg(bytes b)
{
	spry_msg *m;

	spry_test_check(spry_msg_alloc(&m, 0), 0);
	spry_test_check(spry_msg_append(m, b.p, b.n), 0);
	return m;
}

void
s_send(spry_socket *s, bytes b)
{
	spry_msg *m = s_msg(b);

	spry_test_check(spry_send(s, m, 0), 0);
}

spry_msg *
s_recv(spry_socket *s)
{
	spry_msg *m;

	spry_test_check(spry_recv(s, &m, 0), 0);
	return m;
}

/*
 * Fail unless m's body is want. m stays the caller's, but is freed
 * before failing, so that one failure does not leave a leak that fails
 * the cases after it.
 */
void
s_check(spry_msg *m, bytes want, const char *what, int k)
{
	size_t n = spry_msg_len(m);
	void  *b = spry_msg_body(m);
	size_t at;

	if (!same(b, n, want)) {
		at = first_diff(b, n, want);
		spry_msg_free(m);
		fail_msg("spry: %s %d: got %zu bytes, want %zu (first "
		         "difference at byte %zu)",
		    what, k, n, want.n, at);
	}
}

/* Receive on s, check the body is want, free it. */
void
s_expect(spry_socket *s, bytes want, const char *what, int k)
{
	spry_msg *m = s_recv(s);

	s_check(m, want, what, k);
	spry_msg_free(m);
}

/* s_expect for the answer to q (of answerer idx, see answer()). */
void
s_expect_answer(spry_socket *s, bytes q, int idx, const char *what, int k)
{
	uint8_t *buf;
	bytes    a = answer(q, idx, &buf);

	assert_non_null(buf);
	s_expect(s, a, what, k);
	free(buf);
}

/* Turn the question in m into its answer (see answer()), in place. */
void
s_answer_in_place(spry_msg *m, int idx)
{
	uint8_t *b = spry_msg_body(m);
	uint8_t  c = (uint8_t)idx;

	assert_non_null(b);
	for (size_t i = 0; i < spry_msg_len(m); i++) {
		b[i] ^= XOR_KEY;
	}
	if (idx >= 0) {
		spry_test_check(spry_msg_prepend(m, &c, 1), 0);
	}
}

uint32_t
be32(const uint8_t *b)
{
	return (uint32_t)b[0] << 24 | (uint32_t)b[1] << 16 |
	    (uint32_t)b[2] << 8 | b[3];
}

/*
 * The id the peer gave a request or survey that spry's REP or
 * RESPONDENT received: its header is our pipe id, then the peer's
 * backtrace, here one word with the top bit set.
 */
uint32_t
s_peer_id(spry_msg *m)
{
	size_t   n = spry_msg_header_len(m);
	uint32_t id =
	    n == 8 ? be32((const uint8_t *)spry_msg_header(m) + 4) : 0;

	if (!(id & TOP_BIT)) {
		spry_msg_free(m); /* see s_check */
		fail_msg("spry: a header of %zu bytes, id %08x", n, id);
	}
	return id;
}

/* Receive the first "sync" of the peer (see p_sync) and say so. */
void
s_await_sync(run *r, int i)
{
	s_expect(r->s[i], str("sync"), "sync", 0);
	latch_post(&r->to_peer);
}

/* s_expect, skipping the leftover copies of the peer's "sync". */
void
s_expect_after_sync(spry_socket *s, bytes want, const char *what, int k)
{
	spry_msg *m = s_recv(s);

	while (same(spry_msg_body(m), spry_msg_len(m), str("sync"))) {
		spry_msg_free(m);
		m = s_recv(s);
	}
	s_check(m, want, what, k);
	spry_msg_free(m);
}

spry_mailbox *
s_mailbox(void)
{
	spry_mailbox *mb;

	spry_test_check(spry_mailbox_open(&mb, RECV_ROOM), 0);
	return mb;
}

/* The next item of mb, within GUARD; the caller owns it. */
spry_msg *
s_mailbox_recv(spry_mailbox *mb)
{
	spry_ctx *ctx;
	void     *item;
	int       rv;

	spry_test_check(spry_ctx_with_timeout(&ctx, NULL, GUARD), 0);
	rv = spry_mailbox_recv(ctx, mb, &item);
	spry_ctx_cancel(ctx);
	spry_ctx_release(ctx);
	spry_test_check(rv, 0);
	return item;
}

/* Close mb, free what it still holds, give it back. */
void
s_mailbox_done(spry_mailbox *mb)
{
	void *item;

	spry_mailbox_close(mb);
	while (spry_mailbox_tryrecv(mb, &item) == 0) {
		spry_msg_free(item);
	}
	spry_mailbox_release(mb);
}

/* ---- the table ---------------------------------------------------------- */

static const scenario scenarios[] = {
    {SPRY_PAIR0, SPRY_PAIR0, 1, 1, pair_spry, pair_peer},
    {SPRY_PAIR1, SPRY_PAIR1, 1, 1, pair_spry, pair_peer},
    {SPRY_REQ0, SPRY_REP0, 1, 1, req_spry, rep_peer},
    {SPRY_REP0, SPRY_REQ0, 1, 1, rep_spry, req_peer},
    {SPRY_PUB0, SPRY_SUB0, 1, 1, pub_spry, sub_peer},
    {SPRY_SUB0, SPRY_PUB0, 1, 1, sub_spry, pub_peer},
    {SPRY_PUSH0, SPRY_PULL0, 1, 1, push_spry, pull_peer},
    {SPRY_PULL0, SPRY_PUSH0, 1, 1, pull_spry, push_peer},
    {SPRY_SURVEYOR0, SPRY_RESPONDENT0, 1, 2, surveyor_spry, respondent_peer},
    {SPRY_RESPONDENT0, SPRY_SURVEYOR0, 2, 1, respondent_spry, surveyor_peer},
    {SPRY_BUS0, SPRY_BUS0, 1, 1, bus_spry, bus_peer},
};

#define NSCENARIOS (sizeof(scenarios) / sizeof(scenarios[0]))
#define NCASES (NSCENARIOS * 4) /* tcp and ipc, each way round */

/* ---- the runner --------------------------------------------------------- */

static void
open_sides(run *r)
{
	const scenario *sc = r->c->sc;

	for (int i = 0; i < sc->ns; i++) {
		spry_socket *s;

		spry_test_check(spry_socket_open(&s, sc->sp, NULL), 0);
		r->s[i] = s;
		spry_test_check(
		    spry_setopt(s, SPRY_OPT_RECVTIMEO, SPRY_DURATION(GUARD)),
		    0);
		spry_test_check(
		    spry_setopt(s, SPRY_OPT_SENDTIMEO, SPRY_DURATION(GUARD)),
		    0);
		/*
		 * Room for every "sync" a peer sends while this thread is
		 * slow to take the first: SUB and BUS drop what does not
		 * fit, and the messages after the syncs must all fit.
		 */
		spry_test_check(
		    spry_setopt(s, SPRY_OPT_RECVBUF, SPRY_INT(RECV_ROOM)), 0);
		for (size_t t = 0; sc->sp == SPRY_SUB0 && t < NTOPICS; t++) {
			spry_test_check(
			    spry_setopt(s, SPRY_OPT_SUBSCRIBE,
			        SPRY_BYTES(topics[t], strlen(topics[t]))),
			    0);
		}
	}
	for (int i = 0; i < sc->np; i++) {
		int rv = peer_open(&r->p[i], sc->pp);

		if (rv != 0) {
			fail_msg("%s open: %s", peer_lib, peer_strerror(rv));
		}
		for (size_t t = 0; sc->pp == SPRY_SUB0 && t < NTOPICS; t++) {
			rv = peer_subscribe(
			    r->p[i], topics[t], strlen(topics[t]));
			if (rv != 0) {
				fail_msg("%s subscribe: %s", peer_lib,
				    peer_strerror(rv));
			}
		}
	}
}

/* A fresh address to listen on: port 0, or a new path. */
static void
fresh_url(const run *r, char *buf)
{
	static unsigned seq; /* the test thread's */

	if (!r->c->ipc) {
		snprintf(buf, PEER_URL_MAX, "tcp://127.0.0.1:0");
		return;
	}
	snprintf(buf, PEER_URL_MAX, "ipc:///tmp/spry-interop-%s-%d-%u.sock",
	    peer_lib, (int)getpid(), seq++);
	(void)unlink(buf + strlen("ipc://"));
}

/* Socket i of the listening side listens; its address goes to url[i]. */
static void
listen_one(run *r, int i)
{
	char want[PEER_URL_MAX];
	int  rv;

	fresh_url(r, want);
	if (r->c->spry_listens) {
		spry_listener *l;

		spry_test_check(spry_listen(r->s[i], want, &l), 0);
		spry_test_check(
		    spry_listener_url(l, r->url[i], sizeof(r->url[i])), 0);
	} else if ((rv = peer_listen(r->p[i], want, r->url[i])) != 0) {
		fail_msg(
		    "%s listen %s: %s", peer_lib, want, peer_strerror(rv));
	}
}

/* Socket j of the dialing side dials the listener at url. */
static void
dial_one(run *r, int j, const char *url)
{
	int rv;

	if (!r->c->spry_listens) {
		spry_test_check(spry_dial(r->s[j], url, NULL, 0), 0);
	} else if ((rv = peer_dial(r->p[j], url)) != 0) {
		fail_msg("%s dial %s: %s", peer_lib, url, peer_strerror(rv));
	}
}

/* Wait for n SPRY_PIPE_ADD events in mb. */
static void
await_pipes(spry_mailbox *mb, int n)
{
	while (n > 0) {
		spry_msg *m = s_mailbox_recv(mb);

		n -= spry_msg_err(m) == SPRY_PIPE_ADD;
		spry_msg_free(m);
	}
}

/*
 * Every socket of the listening side listens; every socket of the other
 * side dials each of them. Returns once each spry socket has a pipe to
 * each peer socket.
 */
static void
connect_sides(run *r)
{
	const scenario *sc = r->c->sc;
	spry_mailbox   *ev[MAX_SOCKS];
	int             nl = r->c->spry_listens ? sc->ns : sc->np;
	int             nd = r->c->spry_listens ? sc->np : sc->ns;

	for (int i = 0; i < sc->ns; i++) {
		ev[i] = s_mailbox();
		spry_test_check(
		    spry_socket_subscribe(r->s[i], ev[i], true), 0);
	}
	for (int i = 0; i < nl; i++) {
		listen_one(r, i);
	}
	for (int j = 0; j < nd; j++) {
		for (int i = 0; i < nl; i++) {
			dial_one(r, j, r->url[i]);
		}
	}
	/* No data yet: the peer thread has not started. */
	for (int i = 0; i < sc->ns; i++) {
		await_pipes(ev[i], sc->np);
		spry_test_check(spry_socket_unsubscribe(r->s[i], ev[i]), 0);
		s_mailbox_done(ev[i]);
	}
}

static void *
peer_main(void *arg)
{
	run *r = arg;

	r->ok = r->c->sc->peer_side(r);
	return NULL;
}

/* Join the peer thread, if it runs, and show why it failed, if it did. */
static void
join_peer(run *r)
{
	if (!r->started) {
		return;
	}
	pthread_join(r->thr, NULL);
	r->started = false;
	if (!r->ok) {
		print_message("peer side failed: %s\n", r->perr);
	}
}

static void
run_case(void **state)
{
	run *r = *state;

	if (!peer_has(r->c->sc->pp)) {
		print_message(
		    "%s has no %s\n", peer_lib, proto_name(r->c->sc->pp));
		skip();
	}
	open_sides(r);
	connect_sides(r);
	assert_int_equal(pthread_create(&r->thr, NULL, peer_main, r), 0);
	r->started = true;
	r->c->sc->spry_side(r);
	join_peer(r);
	if (!r->ok) {
		fail_msg("%s side: %s", peer_lib, r->perr);
	}
}

static int
case_up(void **state)
{
	run *r = calloc(1, sizeof(*r));

	if (r == NULL) {
		return -1;
	}
	r->c = *state;
	latch_init(&r->to_peer);
	latch_init(&r->to_spry);
	*state = r;
	return spry_test_up(state);
}

/*
 * Also after a failed assertion: spry's sockets close first, so that a
 * peer thread still waiting for them times out; then the peer thread
 * is joined and its sockets closed; then spry must have let go of
 * everything (connections retire on the poller thread: wait for them).
 */
static int
case_down(void **state)
{
	run *r = *state;

	for (int i = 0; i < MAX_SOCKS; i++) {
		if (r->s[i] != NULL) {
			spry_close(r->s[i]);
		}
	}
	join_peer(r);
	for (int i = 0; i < MAX_SOCKS; i++) {
		peer_close(r->p[i]);
		if (r->c->ipc && r->url[i][0] != '\0') {
			(void)unlink(r->url[i] + strlen("ipc://"));
		}
	}
	latch_fini(&r->to_peer);
	latch_fini(&r->to_spry);
	free(r);
	if (!spry__stream_quiesce(spry_deadline_after(GUARD))) {
		fail_msg("%lld stream objects still live",
		    (long long)spry__stream_live());
	}
	return spry_test_down(state);
}

int
interop_main(void)
{
	static icase             cases[NCASES];
	static struct CMUnitTest tests[NCASES];
	size_t                   n = 0;

	big_fill();
	for (size_t i = 0; i < NSCENARIOS; i++) {
		const scenario *sc = &scenarios[i];

		for (int w = 0; w < 4; w++, n++) {
			icase *c = &cases[n];

			c->sc           = sc;
			c->ipc          = w >= 2;
			c->spry_listens = w % 2 == 0;
			snprintf(c->name, sizeof(c->name),
			    "spry %s%s / %s %s%s / %s / %s listens",
			    proto_name(sc->sp), sc->ns > 1 ? " x2" : "",
			    peer_lib, proto_name(sc->pp),
			    sc->np > 1 ? " x2" : "", c->ipc ? "ipc" : "tcp",
			    c->spry_listens ? "spry" : peer_lib);
			tests[n] = (struct CMUnitTest){
			    .name          = c->name,
			    .test_func     = run_case,
			    .setup_func    = case_up,
			    .teardown_func = case_down,
			    .initial_state = c,
			};
		}
	}
	return cmocka_run_group_tests_name(peer_lib, tests, NULL, NULL);
}
