/* SPDX-License-Identifier: MIT */
/*
 * sp/proto_pair0.c: PAIR0, one peer at a time. A second peer is refused
 * while the first is connected; sends wait (backpressure) until the
 * peer can take them, including while no peer is connected yet, as in
 * NNG. No header on the wire; raw mode is the same.
 */
#include "sp/proto.h"
#include "spry/error.h"

/* PAIR0's state. */
typedef struct pair0 {
	spry__pipe *peer; /* the one pipe, or NULL (lk) */
} pair0;

static int
pair0_pipe_add(spry_socket *s, spry__pipe *p)
{
	pair0 *st = SPRY__PDATA(s, pair0);

	if (st->peer != NULL) {
		return SPRY_EBUSY;
	}
	st->peer = p;
	return 0;
}

static void
pair0_pipe_rem(spry_socket *s, spry__pipe *p)
{
	pair0 *st = SPRY__PDATA(s, pair0);

	if (st->peer == p) {
		st->peer = NULL;
	}
}

static int
pair0_send(spry_socket *s, spry_msg *m, spry__emit *e)
{
	pair0 *st = SPRY__PDATA(s, pair0);

	if (st->peer == NULL || !spry__pipe_ready(st->peer)) {
		return SPRY_EAGAIN;
	}
	e->msg = m;
	return spry__emit_add(e, st->peer);
}

static int
pair0_recv(spry_socket *s, spry__pipe *p, spry_msg **m, spry_mailbox **to)
{
	(void)s;
	(void)p;
	(void)m;
	*to = NULL;
	return 0;
}

const spry__proto spry__pair0 = {
    .name      = "pair",
    .self      = SPRY_PAIR0,
    .peer      = SPRY_PAIR0,
    .flags     = SPRY__P_ONEPIPE,
    .sock_size = sizeof(pair0),
    .pipe_add  = pair0_pipe_add,
    .pipe_rem  = pair0_pipe_rem,
    .send      = pair0_send,
    .recv      = pair0_recv,
};

const spry__proto spry__pair0_raw = {
    .name      = "pair",
    .self      = SPRY_PAIR0,
    .peer      = SPRY_PAIR0,
    .flags     = SPRY__P_ONEPIPE,
    .sock_size = sizeof(pair0),
    .pipe_add  = pair0_pipe_add,
    .pipe_rem  = pair0_pipe_rem,
    .send      = pair0_send,
    .recv      = pair0_recv,
};
