/* SPDX-License-Identifier: MIT */
/*
 * sp/proto_pubsub0.c: PUB0 and SUB0, publish and subscribe. PUB sends
 * every message to every connected SUB, sharing the bytes (zero-copy
 * fan-out); a pipe that cannot take a message now misses it, and with
 * no pipe at all the message is dropped: a publisher never blocks, and
 * every miss is counted in the dropped statistic. PUB cannot receive.
 *
 * SUB cannot send. It filters locally: a message is delivered when one
 * of its topics (set with SPRY_OPT_SUBSCRIBE, removed with
 * SPRY_OPT_UNSUBSCRIBE) is a byte prefix of the body; the empty topic
 * matches everything and with no topic nothing is delivered. As in NNG,
 * subscribing twice to one topic keeps one subscription, so a single
 * unsubscribe removes it. Messages that match no topic are freed
 * without being counted as dropped: they were never wanted, whereas
 * "dropped" counts what a slow consumer lost (SUB is lossy: when every
 * consumer is full the message is dropped, never held back).
 * Subscriptions never travel on the wire.
 *
 * Raw mode: PUB is the same; raw SUB has no topics (the options give
 * SPRY_ENOTSUP) and delivers everything, as NNG's raw SUB does.
 *
 * The topics are a sorted array, so matching costs a few binary
 * searches and allocates nothing (see sub0_match).
 */
#include "sp/proto.h"
#include "mailbox/alloc.h"
#include "spry/error.h"

#include <string.h>

/* ---- PUB0 ------------------------------------------------------------- */

static int
pub0_send(spry_socket *s, spry_msg *m, spry__emit *e)
{
	if (s->pipes == NULL) {
		spry_msg_free(m); /* no subscriber: best effort means gone */
		spry__sock_count(&s->st_dropped, 1);
		return 0;
	}
	return spry__emit_all(s, m, e, 0);
}

const spry__proto spry__pub0 = {
    .name  = "pub",
    .self  = SPRY_PUB0,
    .peer  = SPRY_SUB0,
    .flags = SPRY__P_NORECV,
    .send  = pub0_send,
};

const spry__proto spry__pub0_raw = {
    .name  = "pub",
    .self  = SPRY_PUB0,
    .peer  = SPRY_SUB0,
    .flags = SPRY__P_NORECV,
    .send  = pub0_send,
};

/* ---- SUB0 ------------------------------------------------------------- */

/* One subscription: a byte prefix. Guarded by the socket's lk. */
typedef struct sub0_topic {
	uint8_t *buf; /* the bytes (owned), NULL when len is 0 */
	size_t   len; /* their number */
} sub0_topic;

/* SUB0's state: the topics, sorted by topic_cmp, without duplicates. */
typedef struct sub0 {
	sub0_topic *topics; /* topics[n] (owned) or NULL (lk) */
	size_t      n;      /* topics in use (lk) */
	size_t      cap;    /* room in topics (lk) */
} sub0;

/* Byte order, a prefix before the longer string: memcmp's, extended. */
static int
topic_cmp(const sub0_topic *t, const uint8_t *key, size_t klen)
{
	size_t n  = t->len < klen ? t->len : klen;
	int    rv = n != 0 ? memcmp(t->buf, key, n) : 0;

	if (rv != 0) {
		return rv;
	}
	return t->len < klen ? -1 : (t->len > klen ? 1 : 0);
}

/* The index of the first topic >= key (n when there is none). */
static size_t
sub0_lower(const sub0 *st, const uint8_t *key, size_t klen)
{
	size_t lo = 0, hi = st->n;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (topic_cmp(&st->topics[mid], key, klen) < 0) {
			lo = mid + 1;
		} else {
			hi = mid;
		}
	}
	return lo;
}

/* The number of leading bytes t and key share. */
static size_t
topic_common(const sub0_topic *t, const uint8_t *key, size_t klen)
{
	size_t n = t->len < klen ? t->len : klen;
	size_t i = 0;

	while (i < n && t->buf[i] == key[i]) {
		i++;
	}
	return i;
}

/*
 * Whether some topic is a prefix of key. Every such topic sorts at or
 * below key, so look at t, the greatest topic <= key: equal or a prefix
 * means a match. Otherwise t and key share c bytes and differ at byte c
 * (t smaller there); a longer prefix of key would sort between t and
 * key, so any match is a prefix of key[0..c): search again for that,
 * which is strictly shorter. Usually one or two rounds.
 */
static bool
sub0_match(const sub0 *st, const uint8_t *key, size_t klen)
{
	for (;;) {
		size_t            i = sub0_lower(st, key, klen);
		const sub0_topic *t;
		size_t            c;

		if (i < st->n && topic_cmp(&st->topics[i], key, klen) == 0) {
			return true;
		}
		if (i == 0) {
			return false;
		}
		t = &st->topics[i - 1];
		if ((c = topic_common(t, key, klen)) == t->len) {
			return true;
		}
		klen = c;
	}
}

/* Make room for one more topic: SPRY_ENOMEM or 0. */
static int
sub0_grow(sub0 *st)
{
	size_t      cap = st->cap != 0 ? st->cap * 2 : 8;
	sub0_topic *nt;

	if (st->n < st->cap) {
		return 0;
	}
	if ((nt = spry__alloc(cap * sizeof(*nt))) == NULL) {
		return SPRY_ENOMEM;
	}
	if (st->n != 0) {
		memcpy(nt, st->topics, st->n * sizeof(*nt));
	}
	spry__free(st->topics, st->cap * sizeof(*nt));
	st->topics = nt;
	st->cap    = cap;
	return 0;
}

/* Add a topic; one already there stays one (NNG does the same). */
static int
sub0_subscribe(sub0 *st, const uint8_t *p, size_t len)
{
	size_t   i   = sub0_lower(st, p, len);
	uint8_t *buf = NULL;

	if (i < st->n && topic_cmp(&st->topics[i], p, len) == 0) {
		return 0;
	}
	if (sub0_grow(st) != 0 ||
	    (len != 0 && (buf = spry__alloc(len)) == NULL)) {
		return SPRY_ENOMEM;
	}
	if (len != 0) {
		memcpy(buf, p, len);
	}
	memmove(&st->topics[i + 1], &st->topics[i],
	    (st->n - i) * sizeof(st->topics[0]));
	st->topics[i] = (sub0_topic){buf, len};
	st->n++;
	return 0;
}

static int
sub0_unsubscribe(sub0 *st, const uint8_t *p, size_t len)
{
	size_t i = sub0_lower(st, p, len);

	if (i == st->n || topic_cmp(&st->topics[i], p, len) != 0) {
		return SPRY_ENOENT;
	}
	spry__free(st->topics[i].buf, st->topics[i].len);
	st->n--;
	memmove(&st->topics[i], &st->topics[i + 1],
	    (st->n - i) * sizeof(st->topics[0]));
	return 0;
}

static void
sub0_fini(spry_socket *s)
{
	sub0 *st = SPRY__PDATA(s, sub0);

	for (size_t i = 0; i < st->n; i++) {
		spry__free(st->topics[i].buf, st->topics[i].len);
	}
	spry__free(st->topics, st->cap * sizeof(st->topics[0]));
	st->topics = NULL;
	st->n = st->cap = 0;
}

static int
sub0_setopt(spry_socket *s, int opt, const spry_optval *v)
{
	sub0 *st = SPRY__PDATA(s, sub0);

	if (opt != SPRY_OPT_SUBSCRIBE && opt != SPRY_OPT_UNSUBSCRIBE) {
		return SPRY_ENOTSUP;
	}
	if (v->type != SPRY_TYPE_BYTES) {
		return SPRY_EBADTYPE;
	}
	if (v->u.buf.p == NULL && v->u.buf.n != 0) {
		return SPRY_EINVAL;
	}
	if (opt == SPRY_OPT_SUBSCRIBE) {
		return sub0_subscribe(st, v->u.buf.p, v->u.buf.n);
	}
	return sub0_unsubscribe(st, v->u.buf.p, v->u.buf.n);
}

static int
sub0_getopt(spry_socket *s, int opt, spry_optval *v)
{
	(void)s;
	(void)v;
	if (opt == SPRY_OPT_SUBSCRIBE || opt == SPRY_OPT_UNSUBSCRIBE) {
		return SPRY_EWRITEONLY;
	}
	return SPRY_ENOTSUP;
}

/*
 * A message no topic wants is freed here and reported as kept, not
 * dropped, so the dropped statistic only counts what was lost.
 */
static int
sub0_recv(spry_socket *s, spry__pipe *p, spry_msg **m, spry_mailbox **to)
{
	sub0 *st = SPRY__PDATA(s, sub0);

	(void)p;
	if (!sub0_match(st, spry__msg_body_peek(*m), spry_msg_len(*m))) {
		spry_msg_free(*m);
		*m = NULL;
		return SPRY__RX_KEEP;
	}
	*to = NULL;
	return 0;
}

/* Raw SUB delivers everything: filtering is the application's. */
static int
sub0_raw_recv(spry_socket *s, spry__pipe *p, spry_msg **m, spry_mailbox **to)
{
	(void)s;
	(void)p;
	(void)m;
	*to = NULL;
	return 0;
}

const spry__proto spry__sub0 = {
    .name      = "sub",
    .self      = SPRY_SUB0,
    .peer      = SPRY_PUB0,
    .flags     = SPRY__P_NOSEND | SPRY__P_LOSSY,
    .sock_size = sizeof(sub0),
    .fini      = sub0_fini,
    .recv      = sub0_recv,
    .setopt    = sub0_setopt,
    .getopt    = sub0_getopt,
};

const spry__proto spry__sub0_raw = {
    .name  = "sub",
    .self  = SPRY_SUB0,
    .peer  = SPRY_PUB0,
    .flags = SPRY__P_NOSEND | SPRY__P_LOSSY,
    .recv  = sub0_raw_recv,
};
