/* SPDX-License-Identifier: MIT */
/*
 * sp/proto_pipeline0.c: PUSH0 and PULL0, the pipeline. PUSH spreads
 * messages over its peers in turn, skipping any that cannot take one
 * now, and holds the message back (the sender blocks) when none can;
 * PULL takes from every peer, fairly (the core serves paused pipes in
 * the order they paused). No header on the wire; raw mode is the same.
 */
#include "sp/proto.h"
#include "spry/error.h"

/* PUSH0's state. */
typedef struct push0 {
	spry__pipe *cursor; /* the pipe that got the last message (lk) */
} push0;

static void
push0_pipe_rem(spry_socket *s, spry__pipe *p)
{
	spry__rr_forget(&SPRY__PDATA(s, push0)->cursor, p);
}

static int
push0_send(spry_socket *s, spry_msg *m, spry__emit *e)
{
	spry__pipe *p = spry__pick_rr(s, &SPRY__PDATA(s, push0)->cursor);

	if (p == NULL) {
		return SPRY_EAGAIN;
	}
	e->msg = m;
	return spry__emit_add(e, p);
}

static int
pull0_recv(spry_socket *s, spry__pipe *p, spry_msg **m, spry_mailbox **to)
{
	(void)s;
	(void)p;
	(void)m;
	*to = NULL;
	return 0;
}

const spry__proto spry__push0 = {
    .name      = "push",
    .self      = SPRY_PUSH0,
    .peer      = SPRY_PULL0,
    .flags     = SPRY__P_NORECV,
    .sock_size = sizeof(push0),
    .pipe_rem  = push0_pipe_rem,
    .send      = push0_send,
};

const spry__proto spry__push0_raw = {
    .name      = "push",
    .self      = SPRY_PUSH0,
    .peer      = SPRY_PULL0,
    .flags     = SPRY__P_NORECV,
    .sock_size = sizeof(push0),
    .pipe_rem  = push0_pipe_rem,
    .send      = push0_send,
};

const spry__proto spry__pull0 = {
    .name  = "pull",
    .self  = SPRY_PULL0,
    .peer  = SPRY_PUSH0,
    .flags = SPRY__P_NOSEND,
    .recv  = pull0_recv,
};

const spry__proto spry__pull0_raw = {
    .name  = "pull",
    .self  = SPRY_PULL0,
    .peer  = SPRY_PUSH0,
    .flags = SPRY__P_NOSEND,
    .recv  = pull0_recv,
};
