/* SPDX-License-Identifier: MIT */
/*
 * sp/proto_bus0.c: BUS0, many to many. A message sent on a BUS socket
 * goes to every connected peer, sharing the bytes; delivery is best
 * effort both ways: a peer that cannot take a message now misses it,
 * with no peer the message is dropped, and a receiving socket whose
 * consumers are all full drops rather than holding the pipe back. Every
 * loss is counted in the dropped statistic. Peers do not forward, so in
 * a mesh a message reaches each direct peer once and never comes back.
 *
 * Nothing goes on the wire but the body. Cooked send clears the header
 * and, as in NNG, goes to every pipe: spry_msg_pipe of a message that
 * was received earlier is not looked at, so re-sending it on the same
 * socket reaches its sender too. Raw mode is for devices: a raw receive
 * puts the pipe id (4 bytes, big-endian) in the header, and a raw send
 * skips the pipe its header names and strips the header, so a device
 * reflecting one raw BUS socket onto itself never echoes a message to
 * where it came from. Pipe ids are unique in the process, so an id from
 * another socket skips nothing.
 */
#include "sp/proto.h"
#include "spry/error.h"

/*
 * Send m to every pipe but skip, or drop it when there is none. The
 * header is cleared only once the message is sure to go (0 returned).
 */
static int
bus0_fanout(spry_socket *s, spry_msg *m, spry__emit *e, uint32_t skip)
{
	int rv;

	if (s->pipes == NULL) {
		spry_msg_free(m);
		spry__sock_count(&s->st_dropped, 1);
		return 0;
	}
	if ((rv = spry__emit_all(s, m, e, skip)) == 0) {
		spry_msg_header_clear(m);
	}
	return rv;
}

static int
bus0_send(spry_socket *s, spry_msg *m, spry__emit *e)
{
	return bus0_fanout(s, m, e, 0);
}

/* The pipe id a raw header names (its first word), or 0: none. */
static uint32_t
bus0_raw_origin(const spry_msg *m)
{
	const uint8_t *h;

	if (spry_msg_header_len(m) < sizeof(uint32_t)) {
		return 0;
	}
	h = spry__msg_header_peek(m);
	return ((uint32_t)h[0] << 24) | ((uint32_t)h[1] << 16) |
	    ((uint32_t)h[2] << 8) | (uint32_t)h[3];
}

static int
bus0_raw_send(spry_socket *s, spry_msg *m, spry__emit *e)
{
	return bus0_fanout(s, m, e, bus0_raw_origin(m));
}

static int
bus0_recv(spry_socket *s, spry__pipe *p, spry_msg **m, spry_mailbox **to)
{
	(void)s;
	(void)p;
	(void)m;
	*to = NULL;
	return 0;
}

/* Raw receive records the pipe, for bus0_raw_send to skip it. */
static int
bus0_raw_recv(spry_socket *s, spry__pipe *p, spry_msg **m, spry_mailbox **to)
{
	(void)s;
	if (spry_msg_header_append_u32(*m, p->id) != 0) {
		spry_msg_free(*m);
		*m = NULL;
		return SPRY__RX_DROP;
	}
	*to = NULL;
	return 0;
}

const spry__proto spry__bus0 = {
    .name  = "bus",
    .self  = SPRY_BUS0,
    .peer  = SPRY_BUS0,
    .flags = SPRY__P_LOSSY,
    .send  = bus0_send,
    .recv  = bus0_recv,
};

const spry__proto spry__bus0_raw = {
    .name  = "bus",
    .self  = SPRY_BUS0,
    .peer  = SPRY_BUS0,
    .flags = SPRY__P_LOSSY,
    .send  = bus0_raw_send,
    .recv  = bus0_raw_recv,
};
