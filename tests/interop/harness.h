/* SPDX-License-Identifier: MIT */
/*
 * tests/interop/harness.h: what the scenarios (cases.c) share with the
 * runner (harness.c): a test's state, the payloads, latches between the
 * test's thread and the peer thread, and the helpers each side's script
 * is written with. Helpers named p_* run in the peer thread: they use
 * no cmocka, record the first failure as text (pfail) and return false.
 * Helpers named s_* run in the test's thread, on spry sockets, and
 * fail the test with cmocka when something is wrong.
 */
#ifndef SPRY_TESTS_INTEROP_HARNESS_H
#define SPRY_TESTS_INTEROP_HARNESS_H

#include "tests/interop/interop.h"
#include "tests/support/support.h"

#include <pthread.h>

#define GUARD SPRY_MSEC(PEER_GUARD_MS) /* spry's hang guard */
#define MAX_SOCKS 2                    /* sockets on one side */
#define NPAYLOADS 5                    /* see payload() */
#define BIG_SIZE 65536                 /* the largest payload */
#define TOP_BIT 0x80000000u            /* marks the last word of a backtrace */

/* Some bytes, not owned. */
typedef struct bytes {
	const void *p; /* the first byte */
	size_t      n; /* how many */
} bytes;

/* A latch: one thread tells another that a step happened. */
typedef struct latch {
	pthread_mutex_t mtx; /* guards n */
	pthread_cond_t  cv;  /* broadcast when n grows */
	int             n;   /* posts so far (mtx) */
} latch;

/* latch_post counts one step and wakes the waiters. */
void latch_post(latch *l);

/* latch_wait waits up to ms for `want` posts in all; whether they came. */
bool latch_wait(latch *l, int want, int ms);

typedef struct icase icase; /* one case of the table (harness.c) */

/*
 * One test's state. The test thread owns everything but what the peer
 * thread uses while it runs: the peer sockets, perr and ok, which the
 * test thread reads only after joining it.
 */
typedef struct run {
	const icase *c;                            /* the case; fixed */
	spry_socket *s[MAX_SOCKS];                 /* spry's sockets */
	peer        *p[MAX_SOCKS];                 /* the peer's sockets */
	char         url[MAX_SOCKS][PEER_URL_MAX]; /* the listeners' */
	pthread_t    thr;                          /* the peer thread */
	bool         started;   /* thr runs and is not joined yet */
	latch        to_peer;   /* spry's steps, for the peer thread */
	latch        to_spry;   /* the peer's steps, for spry */
	bool         ok;        /* the peer script succeeded */
	char         perr[512]; /* the peer script's first failure */
} run;

/* ---- bytes -------------------------------------------------------------- */

/*
 * payload(i), i < NPAYLOADS: what every exchange sends, in order: 0,
 * 1, 5, 1499 and 65536 (BIG_SIZE) bytes. The last starts with "alpha/",
 * a topic the SUB cases subscribe to.
 */
bytes payload(int i);

/* str: the bytes of s, without its NUL. */
bytes str(const char *s);

/*
 * answer: what an answerer sends back for q: q's bytes xor a key,
 * after the answerer's index byte when idx >= 0 (respondents, so that a
 * surveyor tells them apart). malloc'd into *buf (the caller frees it);
 * NULL when out of memory.
 */
bytes answer(bytes q, int idx, uint8_t **buf);

/* same: whether the an bytes at a are b. */
bool same(const void *a, size_t an, bytes b);

/* be32: the big-endian word at b. */
uint32_t be32(const uint8_t *b);

/* ---- the peer thread's helpers (k numbers the message in errors) -------- */

/* pfail records the first failure of the peer script; returns false. */
bool pfail(run *r, const char *fmt, ...);

/* p_send sends b on peer socket i. */
bool p_send(run *r, int i, bytes b, const char *what, int k);

/* p_expect receives on peer socket i and checks the body is want. */
bool p_expect(run *r, int i, bytes want, const char *what, int k);

/*
 * p_expect_skip is p_expect ignoring 0-byte messages before want when
 * skip_empty (see peer_sub_empty_unreliable).
 */
bool p_expect_skip(
    run *r, int i, bytes want, bool skip_empty, const char *what, int k);

/* p_answer sends the answer to q on peer socket i. */
bool p_answer(run *r, int i, bytes q, int idx, const char *what, int k);

/* p_expect_answer receives on peer socket i and checks it answers q. */
bool p_expect_answer(run *r, int i, bytes q, int idx, const char *what, int k);

/*
 * p_sync, before a peer sends on a lossy protocol: sends "sync" on
 * peer socket i until spry posts to_peer (s_await_sync got one), so
 * that the messages after it find a pipe.
 */
bool p_sync(run *r, int i);

/* ---- the test thread's helpers on spry sockets -------------------------- */

/* s_msg: a new message whose body is b. */
spry_msg *s_msg(bytes b);

/* s_send sends b on s. */
void s_send(spry_socket *s, bytes b);

/* s_recv receives a message on s (the caller owns it). */
spry_msg *s_recv(spry_socket *s);

/*
 * s_check fails unless m's body is want. m stays the caller's, but is
 * freed before failing, so that one failure leaves no leak that would
 * fail the cases after it.
 */
void s_check(spry_msg *m, bytes want, const char *what, int k);

/* s_expect receives on s, checks the body is want, frees it. */
void s_expect(spry_socket *s, bytes want, const char *what, int k);

/* s_expect_answer is s_expect for the answer to q (of answerer idx). */
void s_expect_answer(
    spry_socket *s, bytes q, int idx, const char *what, int k);

/* s_answer_in_place turns the question in m into its answer. */
void s_answer_in_place(spry_msg *m, int idx);

/*
 * s_peer_id: the id the peer gave a request or survey that spry's REP
 * or RESPONDENT received. Its header must be our pipe id, then the
 * peer's backtrace: one word with the top bit set.
 */
uint32_t s_peer_id(spry_msg *m);

/* s_await_sync receives the peer's first "sync" and posts to_peer. */
void s_await_sync(run *r, int i);

/* s_expect_after_sync is s_expect skipping copies of the "sync". */
void s_expect_after_sync(spry_socket *s, bytes want, const char *what, int k);

/* s_mailbox: a new mailbox with room for what the cases receive. */
spry_mailbox *s_mailbox(void);

/* s_mailbox_recv: the next item of mb, within GUARD (caller owns it). */
spry_msg *s_mailbox_recv(spry_mailbox *mb);

/* s_mailbox_done closes mb, frees what it holds, gives it back. */
void s_mailbox_done(spry_mailbox *mb);

/* ---- the scenarios (cases.c): spry's script, then the peer's ------------ */

void pair_spry(run *r);
bool pair_peer(run *r);
void push_spry(run *r);
bool pull_peer(run *r);
void pull_spry(run *r);
bool push_peer(run *r);
void req_spry(run *r);
bool rep_peer(run *r);
void rep_spry(run *r);
bool req_peer(run *r);
void pub_spry(run *r);
bool sub_peer(run *r);
void sub_spry(run *r);
bool pub_peer(run *r);
void surveyor_spry(run *r);
bool respondent_peer(run *r);
void respondent_spry(run *r);
bool surveyor_peer(run *r);
void bus_spry(run *r);
bool bus_peer(run *r);

#endif /* SPRY_TESTS_INTEROP_HARNESS_H */
