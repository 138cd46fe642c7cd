/* SPDX-License-Identifier: MIT */
/*
 * sp/proto_survey0.c: SURVEYOR0 and RESPONDENT0. A surveyor asks every
 * connected respondent at once and collects what they answer within the
 * survey time (SPRY_OPT_SURVEYTIME, 1 s by default); answers to older or
 * finished surveys are dropped and counted. Both directions are best
 * effort, as in NNG: a respondent whose pipe is full misses the survey,
 * a response nobody has room for is dropped.
 *
 * Wire (NNG's): a survey carries a backtrace whose last word is the
 * survey id (high bit set); each forwarder (raw RESPONDENT in a device)
 * pushes the id of the pipe it came in on (high bit clear) and pops it
 * to route the response back.
 *
 * Cooked SURVEYOR. Every survey gets a fresh id (random start, then
 * counting; the high bit set). Two kinds run side by side:
 *   - a message with a reply mailbox (spry_msg_set_reply) is a survey of
 *     its own, any number at once: its responses go to that mailbox until
 *     its time is up, then the mailbox gets an error event (an empty
 *     message whose spry_msg_err is SPRY_ETIMEDOUT) and the socket lets
 *     the mailbox go. A socket that closes first sends SPRY_ECLOSED
 *     events instead. An end event that finds the mailbox full is tried
 *     again a little later, so a reader that drains it always sees it.
 *   - any other message is the socket's default survey, which replaces
 *     the previous one; its responses go to the consumers (recvbox or
 *     subscribers). spry_recv gives SPRY_ESTATE before the first default
 *     survey; while one runs, a blocking spry_recv waits no longer than
 *     its end; once it has ended, spry_recv gives SPRY_ETIMEDOUT (with or
 *     without SPRY_FLAG_NONBLOCK, every time, until the next survey) as
 *     soon as the responses that came in time have been read. NNG
 *     flushes those when the survey ends and then says NNG_ESTATE; we
 *     keep them, and keep saying that the survey timed out.
 * Received responses keep the survey id in their header (as in NNG).
 *
 * Cooked RESPONDENT. A received survey keeps its backtrace in the
 * header, preceded by the id of the pipe it came in on, so whichever
 * thread or actor answers with that message (or a copy of its header)
 * routes the answer back. The socket also remembers the last survey
 * that reached it (NNG's default context; remembered even when the
 * consumers had no room for it): a response sent with an empty header
 * answers that survey, once; with nothing to answer, SPRY_ESTATE. A
 * response whose pipe has gone, or is full, is dropped (counted) and
 * the send still succeeds.
 *
 * Raw modes keep no state: a raw SURVEYOR sends the header it is given
 * (a backtrace) to every respondent and hands responses up with their
 * backtrace in the header; a raw RESPONDENT uses the same header layout
 * as the cooked one, without the memory.
 */
#include "sp/proto.h"
#include "sp/idmap.h"
#include "mailbox/alloc.h"
#include "spry/error.h"
#include "spry/mailbox.h"

#include <string.h>

#define SURV_ID_BIT 0x80000000u       /* marks a survey id (last word) */
#define SURV_TIME_DEFAULT SPRY_SEC(1) /* NNG's default survey time */
#define SURV_RETRY_MIN SPRY_MSEC(1)   /* first retry of an end event */
#define SURV_RETRY_MAX SPRY_MSEC(100) /* longest wait between retries */
#define RESP_BT_MAX (4 * (255 + 1))   /* max TTL words + the pipe id */

/* ---- SURVEYOR: ids and timer tags ---------------------------------- */

/* One survey with a reply mailbox, live until its end event is out. */
typedef struct surv_entry {
	uint32_t      id;    /* survey id, high bit set; fixed */
	spry_time     end;   /* responses from then on are late; fixed */
	spry_mailbox *mb;    /* where responses go (held); fixed */
	spry_duration retry; /* 0, or the wait before trying the end
	                        event again (lk; timer op only) */
} surv_entry;

/* SURVEYOR0's state (cooked; raw mode uses none of it). */
typedef struct surv0 {
	spry__idmap   live;     /* mailbox surveys: id -> surv_entry (lk) */
	uint32_t      next_id;  /* the last survey id given (lk) */
	uint32_t      cur_id;   /* the default survey, 0 before any (lk) */
	spry_time     cur_end;  /* when the default survey ends (lk) */
	spry_duration survtime; /* SPRY_OPT_SURVEYTIME, > 0 (lk) */
} surv0;

/*
 * The next survey id: counting, high bit set, never one still in use,
 * and never one whose low 31 bits are 0 (its timer tag would be NULL).
 */
static uint32_t
surv_id_next(surv0 *st)
{
	uint32_t id;

	do {
		id = ++st->next_id | SURV_ID_BIT;
	} while ((id & ~SURV_ID_BIT) == 0 || id == st->cur_id ||
	    spry__idmap_get(&st->live, id) != NULL);
	return id;
}

/*
 * Timer tags carry the survey id, not a pointer: a timer may fire after
 * its survey is gone, and then finds nothing. The low bit stays clear
 * (the core's own tags use it); 31 bits fit in any pointer.
 */
static void *
surv_tag(uint32_t id)
{
	return (void *)((uintptr_t)(id & ~SURV_ID_BIT) << 1);
}

static uint32_t
surv_tag_id(void *tag)
{
	return (uint32_t)((uintptr_t)tag >> 1) | SURV_ID_BIT;
}

/* ---- SURVEYOR: cooked ops ------------------------------------------- */

/*
 * Fan m out to every respondent that can take it (lk); a survey that
 * reaches nobody still runs, and counts as dropped, as the other
 * best-effort senders count a message with no pipe to go to.
 */
static int
surv_emit(spry_socket *s, spry_msg *m, spry__emit *e)
{
	int rv = spry__emit_all(s, m, e, 0);

	if (rv == 0 && e->n == 0 && s->pipes == NULL) {
		spry__sock_count(&s->st_dropped, 1);
	}
	return rv;
}

static int
surv0_init(spry_socket *s)
{
	surv0 *st = SPRY__PDATA(s, surv0);

	spry__idmap_init(&st->live);
	st->survtime = SURV_TIME_DEFAULT;
	/* A random start, so that a restarted surveyor does not take late
	 * answers to its predecessor's surveys for its own. */
	st->next_id =
	    ((uint32_t)spry_now() ^ (uint32_t)(uintptr_t)s) * 2654435761u;
	return 0;
}

/* Tell mb that its survey is over (lk or fini): 0 or trysend's error. */
static int
surv_end_event(spry_socket *s, spry_mailbox *mb, int err)
{
	spry_msg *m;
	int       rv;

	if ((rv = spry_msg_alloc(&m, 0)) != 0) {
		return rv;
	}
	spry_msg_set_err(m, err);
	spry_msg_set_socket(m, s);
	if ((rv = spry_mailbox_trysend(mb, m)) != 0) {
		spry_msg_free(m);
	}
	return rv;
}

static void
surv0_fini(spry_socket *s)
{
	surv0      *st     = SPRY__PDATA(s, surv0);
	size_t      cursor = 0;
	surv_entry *e;

	while ((e = spry__idmap_next(&st->live, &cursor)) != NULL) {
		/* The actor and its timers are gone: say so now, or the
		 * reader would wait forever. */
		(void)surv_end_event(s, e->mb, SPRY_ECLOSED);
		spry_mailbox_release(e->mb);
		spry__free(e, sizeof(*e));
	}
	spry__idmap_fini(&st->live);
}

/*
 * Ready a survey with a reply mailbox (lk): its entry in the table, not
 * started yet (end 0: every response is late), and its end timer armed.
 * Nobody sees it before surv_commit (or its removal when the send
 * fails), since lk is held throughout.
 */
static int
surv_prepare(spry_socket *s, surv0 *st, uint32_t id, surv_entry **out)
{
	surv_entry *e;

	if ((e = spry__alloc(sizeof(*e))) == NULL) {
		return SPRY_ENOMEM;
	}
	memset(e, 0, sizeof(*e));
	e->id = id;
	if (spry__idmap_put(&st->live, id, e) != 0) {
		spry__free(e, sizeof(*e));
		return SPRY_ENOMEM;
	}
	/* Armed before the fan-out can fail: should it, the timer finds
	 * no survey with this id and does nothing. */
	if (spry__sock_timer(s, st->survtime, surv_tag(id)) == 0) {
		(void)spry__idmap_del(&st->live, id);
		spry__free(e, sizeof(*e));
		return SPRY_ENOMEM;
	}
	*out = e;
	return 0;
}

/* The survey starts (lk): m is sent now, by the core. */
static void
surv_commit(surv0 *st, spry_msg *m, uint32_t id, surv_entry *e)
{
	spry_time end = spry_deadline_after(st->survtime);

	if (e == NULL) {
		st->cur_id  = id;
		st->cur_end = end;
		return;
	}
	e->end = end;
	e->mb  = spry_msg_reply(m);
	spry_mailbox_hold(e->mb);          /* the message's reference ... */
	(void)spry_msg_set_reply(m, NULL); /* ... becomes the socket's */
}

/*
 * Send a survey to every respondent (lk). The id goes after any header
 * the caller left; that header is trimmed only once nothing can fail,
 * so an error leaves m as it came.
 */
static int
surv0_send(spry_socket *s, spry_msg *m, spry__emit *e)
{
	surv0      *st  = SPRY__PDATA(s, surv0);
	size_t      old = spry_msg_header_len(m);
	uint32_t    id  = surv_id_next(st);
	surv_entry *ent = NULL;
	int         rv;

	if (spry_msg_reply(m) != NULL &&
	    (rv = surv_prepare(s, st, id, &ent)) != 0) {
		return rv;
	}
	if ((rv = spry_msg_header_append_u32(m, id)) != 0 ||
	    (rv = surv_emit(s, m, e)) != 0) {
		if (spry_msg_header_len(m) > old) {
			(void)spry_msg_header_chop(m, 4);
		}
		if (ent != NULL) {
			(void)spry__idmap_del(&st->live, id);
			spry__free(ent, sizeof(*ent));
		}
		return rv;
	}
	(void)spry_msg_header_trim(m, old);
	surv_commit(st, m, id, ent);
	return 0;
}

/*
 * A response (lk): its first word is the survey id. It counts while its
 * survey is the default one or has a reply mailbox, and is not over.
 */
static int
surv0_recv(spry_socket *s, spry__pipe *p, spry_msg **mp, spry_mailbox **to)
{
	surv0      *st = SPRY__PDATA(s, surv0);
	spry_msg   *m  = *mp;
	spry_time   now;
	surv_entry *e;
	uint32_t    id;

	(void)p;
	if (spry_msg_trim_u32(m, &id) != 0) {
		return SPRY_EPROTO;
	}
	if (spry_msg_header_append_u32(m, id) == 0) {
		now = spry_now();
		if (id == st->cur_id && now < st->cur_end) {
			*to = NULL;
			return 0;
		}
		if ((e = spry__idmap_get(&st->live, id)) != NULL &&
		    now < e->end) {
			*to = e->mb;
			return 0;
		}
	}
	spry_msg_free(m); /* late, stale or unknown (or out of memory) */
	return SPRY__RX_DROP;
}

/* Before a blocking spry_recv with nothing queued (lk): see the top. */
static int
surv0_recv_check(spry_socket *s, spry_time *deadline)
{
	surv0 *st = SPRY__PDATA(s, surv0);

	if (st->cur_id == 0) {
		return SPRY_ESTATE;
	}
	if (spry_now() >= st->cur_end) {
		return SPRY_ETIMEDOUT;
	}
	if (*deadline > st->cur_end) {
		*deadline = st->cur_end;
	}
	return 0;
}

/*
 * End of one survey's time (lk): 0 when it is over, or SPRY_EAGAIN when
 * its end event must be tried again (timer re-armed).
 */
static int
surv_expire(spry_socket *s, surv_entry *e)
{
	int rv = surv_end_event(s, e->mb, SPRY_ETIMEDOUT);

	if (rv != SPRY_EAGAIN && rv != SPRY_ENOMEM) {
		return 0; /* sent, or the mailbox closed: nobody to tell */
	}
	e->retry = e->retry == 0 ? SURV_RETRY_MIN : e->retry * 2;
	if (e->retry > SURV_RETRY_MAX) {
		e->retry = SURV_RETRY_MAX;
	}
	if (spry__sock_timer(s, e->retry, surv_tag(e->id)) == 0) {
		spry__sock_count(&s->st_dropped, 1);
		return 0;
	}
	return SPRY_EAGAIN;
}

/* A survey's timer fired (actor turn, no lk). */
static void
surv0_timer(spry_socket *s, void *tag)
{
	surv0        *st = SPRY__PDATA(s, surv0);
	spry_mailbox *mb = NULL;
	surv_entry   *e;

	spry__sock_lock(s);
	if ((e = spry__idmap_get(&st->live, surv_tag_id(tag))) != NULL &&
	    surv_expire(s, e) == 0) {
		(void)spry__idmap_del(&st->live, e->id);
		mb = e->mb;
		spry__free(e, sizeof(*e));
	}
	spry__sock_unlock(s);
	if (mb != NULL) {
		spry_mailbox_release(mb); /* outside lk: it may be the last */
	}
}

static int
surv0_setopt(spry_socket *s, int opt, const spry_optval *v)
{
	if (opt != SPRY_OPT_SURVEYTIME) {
		return SPRY_ENOTSUP;
	}
	if (v->type != SPRY_TYPE_DURATION) {
		return SPRY_EBADTYPE;
	}
	if (v->u.d <= 0) {
		return SPRY_EINVAL;
	}
	SPRY__PDATA(s, surv0)->survtime = v->u.d;
	return 0;
}

static int
surv0_getopt(spry_socket *s, int opt, spry_optval *v)
{
	if (opt != SPRY_OPT_SURVEYTIME) {
		return SPRY_ENOTSUP;
	}
	if (v->type != SPRY_TYPE_DURATION) {
		return SPRY_EBADTYPE;
	}
	v->u.d = SPRY__PDATA(s, surv0)->survtime;
	return 0;
}

/* ---- SURVEYOR: raw ops ----------------------------------------------- */

/* A backtrace: whole words, at least one, the last with the high bit. */
static bool
bt_valid(const spry_msg *m, size_t min)
{
	size_t         n = spry_msg_header_len(m);
	const uint8_t *h = spry__msg_header_peek(m);

	return n >= min && n % 4 == 0 && (h[n - 4] & 0x80) != 0;
}

static int
xsurv0_send(spry_socket *s, spry_msg *m, spry__emit *e)
{
	if (!bt_valid(m, 4)) {
		return SPRY_EINVAL;
	}
	return surv_emit(s, m, e);
}

/* Move the backtrace into the header (lk); too many hops: drop. */
static int
bt_recv(spry_socket *s, spry_msg *m)
{
	int rv = spry__bt_take(m, s->maxttl);

	if (rv == SPRY_EPROTO) {
		return rv;
	}
	if (rv != 0) {
		spry_msg_free(m);
		return SPRY__RX_DROP;
	}
	return 0;
}

static int
xsurv0_recv(spry_socket *s, spry__pipe *p, spry_msg **mp, spry_mailbox **to)
{
	(void)p;
	*to = NULL;
	return bt_recv(s, *mp);
}

/* ---- RESPONDENT ------------------------------------------------------ */

/* RESPONDENT0's state (cooked; raw mode uses none of it). */
typedef struct resp0 {
	uint8_t last[RESP_BT_MAX]; /* header of the last survey that came
	                              in: pipe id, backtrace (lk) */
	size_t last_len;           /* bytes in last; 0: none to answer (lk) */
} resp0;

/*
 * A survey came in on p (lk): its backtrace goes to the header, after
 * the pipe's id; the cooked socket remembers it as the one to answer.
 */
static int
resp0_recv(spry_socket *s, spry__pipe *p, spry_msg **mp, spry_mailbox **to)
{
	resp0    *st = SPRY__PDATA(s, resp0);
	spry_msg *m  = *mp;
	size_t    n;
	int       rv;

	if ((rv = bt_recv(s, m)) != 0) {
		return rv;
	}
	if (spry_msg_header_prepend_u32(m, p->id) != 0) {
		spry_msg_free(m);
		return SPRY__RX_DROP;
	}
	n = spry_msg_header_len(m);
	if (!s->raw && n <= sizeof(st->last)) {
		memcpy(st->last, spry__msg_header_peek(m), n);
		st->last_len = n;
	}
	*to = NULL;
	return 0;
}

/*
 * Give m the header to answer with (lk): its own, or (cooked, empty) the
 * remembered survey's, which is then forgotten, as is the remembered
 * survey when m answers it with a copy of its header. Errors leave m as
 * it came.
 */
static int
resp_route(spry_socket *s, spry_msg *m)
{
	resp0 *st  = SPRY__PDATA(s, resp0);
	size_t n   = spry_msg_header_len(m);
	bool   own = n != 0;

	if (!own && !s->raw) {
		if (st->last_len == 0) {
			return SPRY_ESTATE;
		}
		if (spry_msg_header_append(m, st->last, st->last_len) != 0) {
			return SPRY_ENOMEM;
		}
		n = st->last_len;
	}
	if (!bt_valid(m, 8) ||
	    (*(const uint8_t *)spry__msg_header_peek(m) & 0x80) != 0) {
		if (!own) {
			spry_msg_header_clear(m);
		}
		return SPRY_EINVAL;
	}
	if (!s->raw && n == st->last_len &&
	    memcmp(spry__msg_header_peek(m), st->last, n) == 0) {
		st->last_len = 0;
	}
	return 0;
}

/*
 * Answer a survey (lk): the header's first word names the pipe it came
 * in on. A pipe that has gone or is full loses the answer (counted).
 */
static int
resp0_send(spry_socket *s, spry_msg *m, spry__emit *e)
{
	spry__pipe *p;
	uint32_t    id;
	int         rv;

	if ((rv = resp_route(s, m)) != 0) {
		return rv;
	}
	(void)spry_msg_header_trim_u32(m, &id);
	if ((p = spry__pipe_find(s, id)) == NULL || !spry__pipe_ready(p) ||
	    spry__emit_add(e, p) != 0) {
		spry_msg_free(m);
		spry__sock_count(&s->st_dropped, 1);
		return 0;
	}
	e->msg = m;
	return 0;
}

/* ---- ops tables ------------------------------------------------------ */

const spry__proto spry__surveyor0 = {
    .name       = "surveyor",
    .self       = SPRY_SURVEYOR0,
    .peer       = SPRY_RESPONDENT0,
    .flags      = SPRY__P_LOSSY,
    .sock_size  = sizeof(surv0),
    .init       = surv0_init,
    .fini       = surv0_fini,
    .send       = surv0_send,
    .recv       = surv0_recv,
    .recv_check = surv0_recv_check,
    .timer      = surv0_timer,
    .setopt     = surv0_setopt,
    .getopt     = surv0_getopt,
};

const spry__proto spry__surveyor0_raw = {
    .name  = "surveyor",
    .self  = SPRY_SURVEYOR0,
    .peer  = SPRY_RESPONDENT0,
    .flags = SPRY__P_LOSSY,
    .send  = xsurv0_send,
    .recv  = xsurv0_recv,
};

const spry__proto spry__respondent0 = {
    .name      = "respondent",
    .self      = SPRY_RESPONDENT0,
    .peer      = SPRY_SURVEYOR0,
    .flags     = SPRY__P_LOSSY,
    .sock_size = sizeof(resp0),
    .send      = resp0_send,
    .recv      = resp0_recv,
};

const spry__proto spry__respondent0_raw = {
    .name  = "respondent",
    .self  = SPRY_RESPONDENT0,
    .peer  = SPRY_SURVEYOR0,
    .flags = SPRY__P_LOSSY,
    .send  = resp0_send,
    .recv  = resp0_recv,
};
