/* SPDX-License-Identifier: MIT */
/*
 * sp/proto_reqrep0.c: REQ0 and REP0, request and reply. A requester
 * sends each request to one replier (round robin over the pipes ready
 * to take it; the send waits, backpressure, while none is) and gets the
 * reply that carries the request's id back; a replier answers each
 * request on the pipe it came in on.
 *
 * Wire (NNG's): a request carries a backtrace, a stack of 32-bit
 * big-endian words before the body. The last word is the request id,
 * high bit set; every forwarder (a device's raw REP side) pushes the id
 * of the pipe the request came in on (high bit clear) and pops it to
 * route the reply. The reply carries the same stack back.
 *
 * Cooked REQ. Each request gets a fresh id (random start, then
 * counting, high bit set), which is the whole header it sends. Two
 * kinds run side by side:
 *   - a message with a reply mailbox (spry_msg_set_reply) is a request
 *     of its own, any number in flight: its reply goes to that mailbox,
 *     then the request ends and the socket lets the mailbox go. When
 *     the socket closes first, the mailbox gets an error event (an
 *     empty message whose spry_msg_err is SPRY_ECLOSED) if it has room;
 *   - any other message is the socket's default request (NNG's default
 *     context): one at a time, a new one cancels the previous one, and
 *     its reply goes to the consumers (recvbox or subscribers).
 *     spry_recv gives SPRY_ESTATE when no default request is out or
 *     waiting for a pipe.
 * A reply keeps the request id in its header (as in NNG). Replies
 * whose id is unknown (late, duplicated, canceled) are dropped and
 * counted; one too short to hold an id closes its pipe.
 *
 * Resending. The socket keeps the request the user sent (the bytes are
 * shared with what goes out) until the reply comes. When the resend
 * time (SPRY_OPT_RESENDTIME, 60 s by default, <= 0: never) passes
 * without a reply, or at once when the pipe the request went out on
 * closes, a copy goes out again through the socket's ordinary send
 * path (spry_send without blocking, from the socket actor's timer), so
 * it waits for a ready pipe like any other send; the protocol's send
 * tells its own copies apart by pointer. Requests wait for their resend
 * in a list sorted by due time, and one actor timer is armed for the
 * soonest, so 64 or 64 000 requests in flight cost O(1) each (the id
 * table is sp/idmap.h). A request that ends while its copy is still on
 * the way is kept, marked done, until the copy comes by and is dropped.
 *
 * The reply mailbox of a request is held until the reply is placed in
 * it: the core places after recv returns, so the socket keeps the last
 * one (`held`) and lets it go at its next protocol call.
 *
 * Cooked REP. A received request keeps its route in its header: the id
 * of the pipe it came in on, then the backtrace (all words up to the
 * request id). Whichever thread or actor answers with that message, or
 * a message with a copy of its header, routes the reply: send reads
 * the first word, strips it, and sends the rest of the header with the
 * reply on that pipe. The socket also remembers the header of the last
 * request (NNG's default context): a reply sent with an empty header
 * answers it, once; with neither, SPRY_ESTATE. A reply for a pipe that
 * has gone is dropped (counted) and the send succeeds; one for a pipe
 * that cannot take it now waits (backpressure), and while it waits, an
 * answer to the last request carries that request's header, so later
 * requests do not change where it goes. Requests that have
 * come through more than SPRY_OPT_MAXTTL hops are dropped silently, as
 * NNG does; one whose backtrace has no end closes its pipe.
 *
 * Raw modes keep no state. A raw REQ sends the header it is given (a
 * backtrace) as it is and hands replies up with their backtrace in the
 * header; a raw REP uses the cooked header layout without the memory.
 * So a device forwards a request from its raw REP side to its raw REQ
 * side with its own pipe id pushed on the stack, and the reply back.
 */
#include "sp/idmap.h"
#include "sp/proto.h"
#include "mailbox/alloc.h"
#include "spry/error.h"
#include "spry/mailbox.h"

#include <string.h>

#define REQ_ID_BIT 0x80000000u          /* marks a request id (last word) */
#define REQ_RESEND_DEFAULT SPRY_SEC(60) /* NNG's default resend time */
#define REQ_RETRY SPRY_SEC(1)           /* a resend that ran out of memory */
#define REP_HDR_MAX (4 * (255 + 1))     /* the pipe id + max TTL words */

/* The big-endian word at p. */
static inline uint32_t
rr_word(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 |
	    (uint32_t)p[2] << 8 | (uint32_t)p[3];
}

/* ---- REQ: requests and their resend list ------------------------------ */

/* One request of a cooked REQ socket, live until answered or canceled. */
typedef struct req0_req {
	struct req0_req *prev; /* in the due list (lk) */
	struct req0_req *next; /* in the due list (lk) */
	spry_msg        *msg;  /* as the user sent it; resends copy it
	                          (owned; lk) */
	spry_msg *sending;     /* a resend copy on its way through the
	                          send path, or NULL (lk) */
	spry_mailbox *mb;      /* reply mailbox (held), or NULL: the
	                          default request (lk) */
	spry_time due;         /* when to resend (lk) */
	uint32_t  id;          /* request id, high bit set; fixed */
	uint32_t  pipe;        /* the pipe it last went out on, or 0 (lk) */
	bool      queued;      /* in the due list (lk) */
	bool      done;        /* ended while `sending` was on its way:
	                          kept only to recognize that copy (lk) */
} req0_req;

/* REQ0's state (cooked). */
typedef struct req0 {
	spry__idmap   reqs;    /* live requests by id (lk) */
	req0_req     *head;    /* due list, soonest first (lk) */
	req0_req     *tail;    /* its last entry (lk) */
	req0_req     *deflt;   /* the default request, or NULL (lk) */
	spry__pipe   *cursor;  /* round robin position (lk) */
	spry_mailbox *held;    /* mailbox of the request answered last,
	                          held until the core has placed its reply
	                          (released at the next op; lk) */
	spry_duration resend;  /* SPRY_OPT_RESENDTIME (lk) */
	spry_time     tm_when; /* when the soonest armed timer fires, or
	                          SPRY_TIME_NEVER (lk) */
	uint32_t next_id;      /* the last id given, without the bit (lk) */
	bool     waiting;      /* a default request waits for a pipe (lk) */
	bool     stalled;      /* a resend found the send mailbox full:
	                          resends wait for a send to go out (lk) */
} req0;

static void
req0_unlink(req0 *st, req0_req *r)
{
	if (!r->queued) {
		return;
	}
	*(r->prev != NULL ? &r->prev->next : &st->head) = r->next;
	*(r->next != NULL ? &r->next->prev : &st->tail) = r->prev;
	r->prev = r->next = NULL;
	r->queued         = false;
}

/*
 * Queue r by its due time: at the front when it is due first (a lost
 * pipe's requests), else from the end (new requests are due last), so
 * both common cases cost O(1).
 */
static void
req0_enqueue(req0 *st, req0_req *r)
{
	req0_req *after = st->tail;

	if (st->head == NULL || r->due <= st->head->due) {
		after = NULL;
	}
	while (after != NULL && after->due > r->due) {
		after = after->prev;
	}
	r->prev = after;
	r->next = after != NULL ? after->next : st->head;
	*(r->next != NULL ? &r->next->prev : &st->tail) = r;
	*(after != NULL ? &after->next : &st->head)     = r;
	r->queued                                       = true;
}

/* Arm the timer for the soonest resend unless one fires by then (lk). */
static void
req0_arm(spry_socket *s, req0 *st)
{
	spry_time when = st->head != NULL ? st->head->due : SPRY_TIME_NEVER;
	spry_time now  = spry_now();

	if (when >= st->tm_when || when == SPRY_TIME_NEVER) {
		return;
	}
	if (spry__sock_timer(s, when > now ? when - now : 0, st) != 0) {
		st->tm_when = when;
	}
}

static void
req0_free(req0_req *r)
{
	if (r->mb != NULL) {
		spry_mailbox_release(r->mb);
	}
	spry_msg_free(r->msg);
	spry__free(r, sizeof(*r));
}

/* End r: answered or canceled (lk). */
static void
req0_finish(req0 *st, req0_req *r)
{
	req0_unlink(st, r);
	if (st->deflt == r) {
		st->deflt = NULL;
	}
	if (r->sending != NULL) {
		r->done = true; /* freed when its copy comes by */
		return;
	}
	(void)spry__idmap_del(&st->reqs, r->id);
	req0_free(r);
}

/* Let go of the mailbox whose reply the core has placed by now (lk). */
static void
req0_reap(req0 *st)
{
	if (st->held != NULL) {
		spry_mailbox_release(st->held);
		st->held = NULL;
	}
}

/* The request whose resend copy m is, or NULL for a user's message. */
static req0_req *
req0_own(req0 *st, const spry_msg *m)
{
	req0_req *r;

	if (spry_msg_header_len(m) != 4) {
		return NULL;
	}
	r = spry__idmap_get(&st->reqs, rr_word(spry__msg_header_peek(m)));
	return r != NULL && r->sending == m ? r : NULL;
}

/* m's request id in a header of its own: a copy of m to send. */
static int
req0_wire(spry_msg **out, const spry_msg *m, uint32_t id)
{
	spry_msg *c;

	if (spry_msg_dup(&c, m) != 0) {
		return SPRY_ENOMEM;
	}
	spry_msg_header_clear(c);
	if (spry_msg_header_append_u32(c, id) != 0) {
		spry_msg_free(c);
		return SPRY_ENOMEM;
	}
	*out = c;
	return 0;
}

/* r went out on p (lk): note where, and when to resend. */
static void
req0_sent(spry_socket *s, req0 *st, req0_req *r, spry__pipe *p)
{
	r->pipe = p->id;
	r->due =
	    st->resend > 0 ? spry_deadline_after(st->resend) : SPRY_TIME_NEVER;
	req0_enqueue(st, r);
	st->stalled = false; /* the send mailbox moves: resends may go */
	req0_arm(s, st);
}

/* ---- REQ: send ---------------------------------------------------------- */

/* A resend copy m of r comes through the send path (lk). */
static int
req0_send_again(
    spry_socket *s, req0 *st, req0_req *r, spry_msg *m, spry__emit *e)
{
	spry__pipe *p;

	if (r->done) {
		(void)spry__idmap_del(&st->reqs, r->id);
		req0_free(r);
		spry_msg_free(m);
		return 0;
	}
	if ((p = spry__pick_rr(s, &st->cursor)) == NULL) {
		return SPRY_EAGAIN;
	}
	r->sending = NULL;
	req0_sent(s, st, r, p);
	e->msg = m;
	return spry__emit_add(e, p); /* the first pipe: cannot fail */
}

/* A new request r for m, and the copy *out to send; m untouched. */
static int
req0_new(req0 *st, const spry_msg *m, req0_req **out, spry_msg **wire)
{
	req0_req *r = spry__alloc(sizeof(*r));
	uint32_t  id;

	if (r == NULL) {
		return SPRY_ENOMEM;
	}
	do {
		id = ++st->next_id | REQ_ID_BIT;
	} while (spry__idmap_get(&st->reqs, id) != NULL);
	r->id = id;
	if (req0_wire(wire, m, id) != 0) {
		spry__free(r, sizeof(*r));
		return SPRY_ENOMEM;
	}
	if (spry__idmap_put(&st->reqs, id, r) != 0) {
		spry_msg_free(*wire);
		spry__free(r, sizeof(*r));
		return SPRY_ENOMEM;
	}
	*out = r;
	return 0;
}

static int
req0_send(spry_socket *s, spry_msg *m, spry__emit *e)
{
	req0         *st = SPRY__PDATA(s, req0);
	spry_mailbox *mb = spry_msg_reply(m);
	req0_req     *r  = req0_own(st, m);
	spry__pipe   *p;
	spry_msg     *wire;
	int           rv;

	req0_reap(st);
	if (r != NULL) {
		return req0_send_again(s, st, r, m, e);
	}
	if (mb == NULL && st->deflt != NULL) {
		req0_finish(st, st->deflt); /* as NNG: a new one cancels */
	}
	if ((p = spry__pick_rr(s, &st->cursor)) == NULL) {
		st->waiting |= mb == NULL;
		return SPRY_EAGAIN;
	}
	if ((rv = req0_new(st, m, &r, &wire)) != 0) {
		return rv;
	}
	if (mb != NULL) { /* the request takes the message's reference */
		spry_mailbox_hold(mb);
		(void)spry_msg_set_reply(m, NULL);
	} else {
		st->deflt   = r;
		st->waiting = false;
	}
	r->mb  = mb;
	r->msg = m;
	req0_sent(s, st, r, p);
	e->msg = wire;
	return spry__emit_add(e, p); /* the first pipe: cannot fail */
}

/* ---- REQ: resend -------------------------------------------------------- */

/* A resend copy did not get into the send path: take it back (lk). */
static void
req0_resend_failed(spry_socket *s, req0 *st, uint32_t id, spry_msg *c, int err)
{
	req0_req *r = spry__idmap_get(&st->reqs, id);

	if (r == NULL || r->sending != c) {
		return; /* cannot happen: only the send op clears sending */
	}
	r->sending = NULL;
	if (r->done) {
		(void)spry__idmap_del(&st->reqs, id);
		req0_free(r);
		return;
	}
	/* A full send mailbox: wait for a send to go out. Else (no memory,
	 * closing) try again a little later. */
	st->stalled = err == SPRY_EAGAIN;
	r->due      = st->stalled ? 0 : spry_deadline_after(REQ_RETRY);
	req0_enqueue(st, r);
	if (!st->stalled && !spry__sock_closed(s)) {
		req0_arm(s, st);
	}
}

/*
 * Take the soonest request off the due list if it is due, with a copy
 * *c to send (lk); false when nothing is due (the timer is re-armed).
 */
static bool
req0_pop_due(spry_socket *s, req0 *st, spry_msg **c, uint32_t *id)
{
	req0_req *r = st->head;

	if (spry__sock_closed(s) || st->stalled) {
		return false;
	}
	if (r == NULL || r->due > spry_now()) {
		req0_arm(s, st);
		return false;
	}
	req0_unlink(st, r);
	if (req0_wire(c, r->msg, r->id) != 0) {
		r->due = spry_deadline_after(REQ_RETRY);
		req0_enqueue(st, r);
		req0_arm(s, st);
		return false;
	}
	r->sending = *c;
	r->pipe    = 0;
	*id        = r->id;
	return true;
}

/* Resend the soonest request if due (actor turn, no lk); false: done. */
static bool
req0_resend_one(spry_socket *s, req0 *st)
{
	spry_msg *c;
	uint32_t  id;
	bool      go;
	int       rv;

	spry__sock_lock(s);
	req0_reap(st);
	go = req0_pop_due(s, st, &c, &id);
	spry__sock_unlock(s);
	if (!go) {
		return false;
	}
	/* The ordinary send path: in order with other senders, and it waits
	 * (in the send mailbox) for a ready pipe like any send. */
	if ((rv = spry_send(s, c, SPRY_FLAG_NONBLOCK)) == 0) {
		return true;
	}
	spry__sock_lock(s);
	req0_resend_failed(s, st, id, c, rv);
	spry__sock_unlock(s);
	spry_msg_free(c);
	return false;
}

static void
req0_timer(spry_socket *s, void *tag)
{
	req0 *st = SPRY__PDATA(s, req0);

	(void)tag;
	spry__sock_lock(s);
	st->tm_when = SPRY_TIME_NEVER; /* this one fired; others may too */
	spry__sock_unlock(s);
	while (req0_resend_one(s, st)) { }
}

/* ---- REQ: pipes, receive, options, lifetime ---------------------------- */

/* Requests that went out on p go again at once, on another pipe. */
static void
req0_pipe_rem(spry_socket *s, spry__pipe *p)
{
	req0     *st    = SPRY__PDATA(s, req0);
	bool      moved = false;
	req0_req *r, *next;

	spry__rr_forget(&st->cursor, p);
	/* From the end, each to the front: they keep their order. */
	for (r = st->tail; r != NULL; r = next) {
		next = r->prev;
		if (r->pipe == p->id) {
			req0_unlink(st, r);
			r->pipe = 0;
			r->due  = 0;
			req0_enqueue(st, r);
			moved = true;
		}
	}
	if (moved && !spry__sock_closed(s)) {
		req0_arm(s, st);
	}
}

static int
req0_recv(spry_socket *s, spry__pipe *p, spry_msg **m, spry_mailbox **to)
{
	req0     *st = SPRY__PDATA(s, req0);
	req0_req *r;
	uint32_t  id;

	(void)p;
	req0_reap(st);
	if (spry_msg_trim_u32(*m, &id) != 0) {
		return SPRY_EPROTO;
	}
	r = spry__idmap_get(&st->reqs, id);
	spry_msg_header_clear(*m);
	if (r == NULL || r->done || spry_msg_header_append_u32(*m, id) != 0) {
		spry_msg_free(*m);
		return SPRY__RX_DROP;
	}
	*to      = r->mb;
	st->held = r->mb; /* the core places the reply, then we let go */
	r->mb    = NULL;
	req0_finish(st, r);
	return 0;
}

static int
req0_recv_check(spry_socket *s, spry_time *deadline)
{
	req0 *st = SPRY__PDATA(s, req0);

	(void)deadline;
	return st->deflt == NULL && !st->waiting ? SPRY_ESTATE : 0;
}

static int
req0_setopt(spry_socket *s, int opt, const spry_optval *v)
{
	if (opt != SPRY_OPT_RESENDTIME) {
		return SPRY_ENOTSUP;
	}
	if (v->type != SPRY_TYPE_DURATION) {
		return SPRY_EBADTYPE;
	}
	SPRY__PDATA(s, req0)->resend = v->u.d; /* every value is valid */
	return 0;
}

static int
req0_getopt(spry_socket *s, int opt, spry_optval *v)
{
	if (opt != SPRY_OPT_RESENDTIME) {
		return SPRY_ENOTSUP;
	}
	if (v->type != SPRY_TYPE_DURATION) {
		return SPRY_EBADTYPE;
	}
	v->u.d = SPRY__PDATA(s, req0)->resend;
	return 0;
}

static int
req0_init(spry_socket *s)
{
	req0 *st = SPRY__PDATA(s, req0);

	spry__idmap_init(&st->reqs);
	st->resend  = REQ_RESEND_DEFAULT;
	st->tm_when = SPRY_TIME_NEVER;
	/* A random start, so a restarted requester's ids are new ones. */
	st->next_id =
	    ((uint32_t)spry_now() ^ (uint32_t)(uintptr_t)s) * 2654435761u;
	return 0;
}

/* Tell a requester whose request dies with the socket (fini). */
static void
req0_closed_event(spry_socket *s, spry_mailbox *mb)
{
	spry_msg *m;

	if (spry_msg_alloc(&m, 0) != 0) {
		return;
	}
	spry_msg_set_err(m, SPRY_ECLOSED);
	spry_msg_set_socket(m, s);
	if (spry_mailbox_trysend(mb, m) != 0) {
		spry_msg_free(m); /* full or closed: nobody waits empty */
	}
}

static void
req0_fini(spry_socket *s)
{
	req0     *st  = SPRY__PDATA(s, req0);
	size_t    cur = 0;
	req0_req *r;

	req0_reap(st);
	while ((r = spry__idmap_next(&st->reqs, &cur)) != NULL) {
		if (r->mb != NULL) { /* or its reader would wait forever */
			req0_closed_event(s, r->mb);
		}
		req0_free(r); /* copies in flight died with the send path */
	}
	spry__idmap_fini(&st->reqs);
}

/* ---- raw REQ -------------------------------------------------------- */

/* Raw REQ0's state. */
typedef struct req0_raw {
	spry__pipe *cursor; /* round robin position (lk) */
} req0_raw;

static void
req0_raw_pipe_rem(spry_socket *s, spry__pipe *p)
{
	spry__rr_forget(&SPRY__PDATA(s, req0_raw)->cursor, p);
}

/* The header must hold a backtrace (whole words); it goes as it is. */
static int
req0_raw_send(spry_socket *s, spry_msg *m, spry__emit *e)
{
	size_t      n = spry_msg_header_len(m);
	spry__pipe *p;

	if (n < 4 || n % 4 != 0) {
		return SPRY_EINVAL;
	}
	if ((p = spry__pick_rr(s, &SPRY__PDATA(s, req0_raw)->cursor)) ==
	    NULL) {
		return SPRY_EAGAIN;
	}
	e->msg = m;
	return spry__emit_add(e, p);
}

/* Move the backtrace into the header (lk): 0, drop (freed) or EPROTO. */
static int
rr_take(spry_socket *s, spry_msg *m)
{
	int rv = spry__bt_take(m, s->maxttl);

	if (rv != 0 && rv != SPRY_EPROTO) {
		spry_msg_free(m); /* too many hops, or no memory */
		return SPRY__RX_DROP;
	}
	return rv;
}

static int
req0_raw_recv(spry_socket *s, spry__pipe *p, spry_msg **m, spry_mailbox **to)
{
	(void)p;
	spry_msg_header_clear(*m);
	*to = NULL;
	return rr_take(s, *m);
}

/* ---- REP ------------------------------------------------------------ */

/* REP0's state (cooked; raw mode has none). */
typedef struct rep0 {
	size_t last_len;           /* bytes in last; 0: nothing to answer
	                              (lk) */
	uint8_t last[REP_HDR_MAX]; /* the last request's header (lk) */
} rep0;

/* A request came in on p: its header becomes p's id + backtrace. */
static int
rep0_raw_recv(spry_socket *s, spry__pipe *p, spry_msg **m, spry_mailbox **to)
{
	spry_msg_header_clear(*m);
	if (spry_msg_header_append_u32(*m, p->id) != 0) {
		spry_msg_free(*m);
		return SPRY__RX_DROP;
	}
	*to = NULL;
	return rr_take(s, *m);
}

static int
rep0_recv(spry_socket *s, spry__pipe *p, spry_msg **m, spry_mailbox **to)
{
	rep0  *st = SPRY__PDATA(s, rep0);
	int    rv = rep0_raw_recv(s, p, m, to);
	size_t n;

	if (rv == 0 && (n = spry_msg_header_len(*m)) <= sizeof(st->last)) {
		memcpy(st->last, spry__msg_header_peek(*m), n);
		st->last_len = n;
	}
	return rv;
}

/*
 * The pipe a reply with header h (n bytes) goes to (lk): 0 with *out
 * ready, or NULL when it has gone; SPRY_EAGAIN when it cannot take the
 * reply now; SPRY_EINVAL when h names no pipe.
 */
static int
rep0_route(spry_socket *s, const uint8_t *h, size_t n, spry__pipe **out)
{
	if (n < 4 || n % 4 != 0) {
		return SPRY_EINVAL;
	}
	*out = spry__pipe_find(s, rr_word(h));
	if (*out != NULL && !spry__pipe_ready(*out)) {
		return SPRY_EAGAIN;
	}
	return 0;
}

/* The reply's pipe is gone: drop it, as a lost connection would. */
static int
rep0_drop(spry_socket *s, spry_msg *m)
{
	spry_msg_free(m);
	spry__sock_count(&s->st_dropped, 1);
	return 0;
}

/* Send m by the route in its own header (raw, or cooked with one). */
static int
rep0_raw_send(spry_socket *s, spry_msg *m, spry__emit *e)
{
	spry__pipe *p;
	int         rv = rep0_route(
	            s, spry__msg_header_peek(m), spry_msg_header_len(m), &p);

	if (rv != 0) {
		return rv;
	}
	if (p == NULL) {
		return rep0_drop(s, m);
	}
	(void)spry_msg_header_trim(m, 4);
	e->msg = m;
	return spry__emit_add(e, p);
}

/*
 * A reply to the last request must wait for its pipe: it takes that
 * request's whole header now, so that requests coming in meanwhile do
 * not change where it goes. The one place a send that returns
 * SPRY_EAGAIN changes the message: the caller (or the core, retrying)
 * gets back a reply that still goes to the requester it answers.
 */
static int
rep0_bind(rep0 *st, spry_msg *m)
{
	if (spry_msg_header_append(m, st->last, st->last_len) != 0) {
		return SPRY_ENOMEM;
	}
	st->last_len = 0;
	return SPRY_EAGAIN;
}

/* An empty header answers the last request, once. */
static int
rep0_send(spry_socket *s, spry_msg *m, spry__emit *e)
{
	rep0       *st = SPRY__PDATA(s, rep0);
	spry__pipe *p;
	int         rv;

	if (spry_msg_header_len(m) != 0) {
		return rep0_raw_send(s, m, e);
	}
	if (st->last_len == 0) {
		return SPRY_ESTATE;
	}
	if ((rv = rep0_route(s, st->last, st->last_len, &p)) == SPRY_EAGAIN) {
		return rep0_bind(st, m);
	}
	if (rv != 0) {
		return rv;
	}
	if (p == NULL) {
		st->last_len = 0;
		return rep0_drop(s, m);
	}
	if (spry_msg_header_append(m, st->last + 4, st->last_len - 4) != 0) {
		return SPRY_ENOMEM;
	}
	st->last_len = 0;
	e->msg       = m;
	return spry__emit_add(e, p);
}

/* ---- ops tables ------------------------------------------------------ */

const spry__proto spry__req0 = {
    .name       = "req",
    .self       = SPRY_REQ0,
    .peer       = SPRY_REP0,
    .sock_size  = sizeof(req0),
    .init       = req0_init,
    .fini       = req0_fini,
    .pipe_rem   = req0_pipe_rem,
    .send       = req0_send,
    .recv       = req0_recv,
    .recv_check = req0_recv_check,
    .timer      = req0_timer,
    .setopt     = req0_setopt,
    .getopt     = req0_getopt,
};

const spry__proto spry__req0_raw = {
    .name      = "req",
    .self      = SPRY_REQ0,
    .peer      = SPRY_REP0,
    .sock_size = sizeof(req0_raw),
    .pipe_rem  = req0_raw_pipe_rem,
    .send      = req0_raw_send,
    .recv      = req0_raw_recv,
};

const spry__proto spry__rep0 = {
    .name      = "rep",
    .self      = SPRY_REP0,
    .peer      = SPRY_REQ0,
    .sock_size = sizeof(rep0),
    .send      = rep0_send,
    .recv      = rep0_recv,
};

const spry__proto spry__rep0_raw = {
    .name = "rep",
    .self = SPRY_REP0,
    .peer = SPRY_REQ0,
    .send = rep0_raw_send,
    .recv = rep0_raw_recv,
};
