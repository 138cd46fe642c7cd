/* SPDX-License-Identifier: MIT */
/*
 * sp/proto_pair1.c: PAIR1 (monogamous), PAIR0 with a hop count. One
 * peer at a time: a second one is refused while the first is connected,
 * and sends wait (backpressure) until the peer can take them, as PAIR0.
 *
 * Wire header: one 32-bit big-endian word, upper 24 bits zero, low byte
 * the hop count. A cooked sender writes 1 (NNG writes 0 and its pipe
 * adds 1: the same bytes on the wire); every device that forwards adds
 * 1. A receiver closes the pipe of a peer whose message lacks the word
 * or sets its upper bits, and drops (counted) a message that has made
 * more hops than SPRY_OPT_MAXTTL.
 *
 * Raw mode (devices) keeps the word in the message header on receive;
 * on send the header must hold exactly that word, and the hop count
 * grows by one on the way out (dropped, counted, when it would pass
 * MAXTTL), so a message looping through devices dies out.
 */
#include "sp/proto.h"
#include "spry/error.h"

/* Bits of the header word that must be zero; the rest is the count. */
#define PAIR1_HOPS_MASK 0xffu

/* PAIR1's state. */
typedef struct pair1 {
	spry__pipe *peer; /* the one pipe, or NULL (lk) */
} pair1;

static int
pair1_pipe_add(spry_socket *s, spry__pipe *p)
{
	pair1 *st = SPRY__PDATA(s, pair1);

	if (st->peer != NULL) {
		return SPRY_EBUSY;
	}
	st->peer = p;
	return 0;
}

static void
pair1_pipe_rem(spry_socket *s, spry__pipe *p)
{
	pair1 *st = SPRY__PDATA(s, pair1);

	if (st->peer == p) {
		st->peer = NULL;
	}
}

/* The peer when it can take a message now, else NULL (lk). */
static spry__pipe *
pair1_ready_peer(spry_socket *s)
{
	pair1 *st = SPRY__PDATA(s, pair1);

	if (st->peer == NULL || !spry__pipe_ready(st->peer)) {
		return NULL;
	}
	return st->peer;
}

/* Read the big-endian word at b. */
static uint32_t
pair1_get32(const uint8_t *b)
{
	return (uint32_t)b[0] << 24 | (uint32_t)b[1] << 16 |
	    (uint32_t)b[2] << 8 | (uint32_t)b[3];
}

/*
 * Cooked: replace whatever header m carries (say, that of a received
 * message sent back) with a hop count of 1. The prepend is the only
 * step that can fail, and it changes nothing when it does.
 */
static int
pair1_send(spry_socket *s, spry_msg *m, spry__emit *e)
{
	spry__pipe *p   = pair1_ready_peer(s);
	size_t      old = spry_msg_header_len(m);
	int         rv;

	if (p == NULL) {
		return SPRY_EAGAIN;
	}
	if ((rv = spry_msg_header_prepend_u32(m, 1)) != 0) {
		return rv;
	}
	(void)spry_msg_header_chop(m, old);
	e->msg = m;
	return spry__emit_add(e, p);
}

/*
 * Raw: the header is the word a raw receive kept (or the application
 * wrote); forwarding adds a hop. A malformed header is the caller's
 * error; a message past MAXTTL is dropped here, whether or not a peer
 * is ready, since it could never be sent.
 */
static int
pair1_raw_send(spry_socket *s, spry_msg *m, spry__emit *e)
{
	spry__pipe *p;
	uint8_t    *h;
	uint32_t    hops;

	if (spry_msg_header_len(m) != sizeof(uint32_t)) {
		return SPRY_EINVAL;
	}
	if ((h = spry_msg_header(m)) == NULL) {
		return SPRY_ENOMEM;
	}
	if ((hops = pair1_get32(h)) > PAIR1_HOPS_MASK) {
		return SPRY_EINVAL;
	}
	if ((int)hops + 1 > s->maxttl) {
		spry_msg_free(m);
		spry__sock_count(&s->st_dropped, 1);
		return 0;
	}
	if ((p = pair1_ready_peer(s)) == NULL) {
		return SPRY_EAGAIN;
	}
	h[3]   = (uint8_t)(hops + 1); /* hops < 255 here: maxttl <= 255 */
	e->msg = m;
	return spry__emit_add(e, p);
}

/*
 * Take the hop word off the front of the body (both modes): SPRY_EPROTO
 * when it is missing or malformed, SPRY__RX_DROP (m freed) when the
 * message has made too many hops, else 0 with the count in *hops.
 */
static int
pair1_take(spry_socket *s, spry_msg *m, uint32_t *hops)
{
	if (spry_msg_trim_u32(m, hops) != 0 || (*hops & ~PAIR1_HOPS_MASK)) {
		return SPRY_EPROTO;
	}
	if ((int)*hops > s->maxttl) {
		spry_msg_free(m);
		return SPRY__RX_DROP;
	}
	return 0;
}

static int
pair1_recv(spry_socket *s, spry__pipe *p, spry_msg **m, spry_mailbox **to)
{
	uint32_t hops;

	(void)p;
	*to = NULL;
	return pair1_take(s, *m, &hops);
}

/* Raw: the word stays visible, in the header, for a device to forward. */
static int
pair1_raw_recv(spry_socket *s, spry__pipe *p, spry_msg **m, spry_mailbox **to)
{
	uint32_t hops;
	int      rv;

	(void)p;
	*to = NULL;
	if ((rv = pair1_take(s, *m, &hops)) != 0) {
		return rv;
	}
	spry_msg_header_clear(*m);
	if (spry_msg_header_append_u32(*m, hops) != 0) {
		spry_msg_free(*m); /* out of memory: lost like a full pipe */
		return SPRY__RX_DROP;
	}
	return 0;
}

const spry__proto spry__pair1 = {
    .name      = "pair1",
    .self      = SPRY_PAIR1,
    .peer      = SPRY_PAIR1,
    .flags     = SPRY__P_ONEPIPE,
    .sock_size = sizeof(pair1),
    .pipe_add  = pair1_pipe_add,
    .pipe_rem  = pair1_pipe_rem,
    .send      = pair1_send,
    .recv      = pair1_recv,
};

const spry__proto spry__pair1_raw = {
    .name      = "pair1",
    .self      = SPRY_PAIR1,
    .peer      = SPRY_PAIR1,
    .flags     = SPRY__P_ONEPIPE,
    .sock_size = sizeof(pair1),
    .pipe_add  = pair1_pipe_add,
    .pipe_rem  = pair1_pipe_rem,
    .send      = pair1_raw_send,
    .recv      = pair1_raw_recv,
};
