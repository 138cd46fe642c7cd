/* SPDX-License-Identifier: MIT */
/*
 * transports/wire.c: the connection header, frame headers and the frame
 * decoder of transports/wire.h. No I/O and no locking: the transports
 * read and write, and call this with the bytes.
 *
 * The decoder is a two-state machine. In the header state it collects
 * the 8 or 9 header bytes in its own small array (a header may arrive
 * split anywhere); the ipc type byte is checked as soon as it arrives,
 * so a peer speaking something else is refused without waiting for
 * more. When the header is complete the length is checked against the
 * limits before anything is allocated, then the message is allocated
 * whole and the decoder moves to the body state, where bytes go
 * straight into the message body until it is full. A frame of length 0
 * completes with its header.
 *
 * One call hands out at most one message, with no callback: the
 * transport decides after each message whether to go on (a full
 * mailbox can stop it), and nothing needs a user pointer or re-entry.
 */
#include "transports/wire.h"

#include "sp/proto.h"
#include "spry/error.h"

#include <string.h>

/* Store v at p as 8 big-endian bytes. */
static void
wire_put_u64(uint8_t *p, uint64_t v)
{
	for (int i = 7; i >= 0; i--) {
		p[i] = (uint8_t)v;
		v >>= 8;
	}
}

/* Load 8 big-endian bytes at p. */
static uint64_t
wire_get_u64(const uint8_t *p)
{
	uint64_t v = 0;

	for (int i = 0; i < 8; i++) {
		v = (v << 8) | p[i];
	}
	return v;
}

void
spry__wire_hello(uint8_t out[SPRY__WIRE_HELLO_SIZE], uint16_t proto)
{
	out[0] = 0x00;
	out[1] = 'S';
	out[2] = 'P';
	out[3] = 0x00; /* version 0 */
	out[4] = (uint8_t)(proto >> 8);
	out[5] = (uint8_t)proto;
	out[6] = 0x00; /* reserved */
	out[7] = 0x00;
}

int
spry__wire_hello_check(const uint8_t in[SPRY__WIRE_HELLO_SIZE], uint16_t *peer)
{
	if (in == NULL) {
		return SPRY_EINVAL;
	}
	if (in[0] != 0x00 || in[1] != 'S' || in[2] != 'P' || in[3] != 0x00 ||
	    in[6] != 0x00 || in[7] != 0x00) {
		return SPRY_EPROTO;
	}
	if (peer != NULL) {
		*peer = (uint16_t)((in[4] << 8) | in[5]);
	}
	return 0;
}

size_t
spry__wire_frame_header(uint8_t *out, bool ipc, uint64_t len)
{
	size_t at = 0;

	if (ipc) {
		out[at++] = SPRY__WIRE_IPC_MSG;
	}
	wire_put_u64(out + at, len);
	return at + 8;
}

/* The size of d's frame header. */
static size_t
wire_hdr_size(const spry__wire_dec *d)
{
	return d->ipc ? SPRY__WIRE_IPC_HEADER_SIZE :
	                SPRY__WIRE_TCP_HEADER_SIZE;
}

void
spry__wire_dec_init(spry__wire_dec *d, bool ipc, size_t maxrecv)
{
	memset(d, 0, sizeof(*d));
	d->ipc     = ipc;
	d->maxrecv = maxrecv;
}

/* Forget the partial frame, freeing its message: back to the header. */
static void
wire_drop(spry__wire_dec *d)
{
	spry_msg_free(d->msg);
	d->msg     = NULL;
	d->body    = NULL;
	d->left    = 0;
	d->hdr_got = 0;
}

void
spry__wire_dec_fini(spry__wire_dec *d)
{
	wire_drop(d);
}

void
spry__wire_dec_reset(spry__wire_dec *d)
{
	wire_drop(d);
	d->err = 0;
}

bool
spry__wire_dec_idle(const spry__wire_dec *d)
{
	/* While msg is set, hdr_got holds the whole header: not 0. */
	return d->err == 0 && d->hdr_got == 0;
}

/* The stream is lost: drop the partial frame and keep err for good. */
static int
wire_fail(spry__wire_dec *d, int err)
{
	wire_drop(d);
	d->err = err;
	return err;
}

/*
 * The header is complete: check the length, then allocate the message.
 * A zero-length frame is handed out at once in *out.
 */
static int
wire_start(spry__wire_dec *d, spry_msg **out)
{
	uint64_t  len = wire_get_u64(d->hdr + (d->ipc ? 1 : 0));
	spry_msg *m;
	int       rv;

	/* Before allocating: the length is the peer's word, not a fact. */
	if (len > SPRY__WIRE_LEN_MAX ||
	    (d->maxrecv != 0 && len > d->maxrecv)) {
		return wire_fail(d, SPRY_EMSGSIZE);
	}
	/*
	 * Not zeroed: the payload overwrites every byte of the body before
	 * the message is handed out, and a partial one is only freed.
	 */
	rv = d->pool != NULL ? spry__msg_pool_alloc(d->pool, &m, (size_t)len) :
	                       spry__msg_alloc_raw(&m, (size_t)len);
	if (rv != 0) {
		return wire_fail(d, rv);
	}
	if (len == 0) {
		d->hdr_got = 0;
		*out       = m;
		return 0;
	}
	d->msg  = m;
	d->left = (size_t)len;
	/* A fresh body is never shared, so this copies nothing. */
	if ((d->body = spry_msg_body(m)) == NULL) {
		return wire_fail(d, SPRY_ENOMEM);
	}
	return 0;
}

/* n more header bytes are in d->hdr. */
static int
wire_header_filled(spry__wire_dec *d, size_t n, spry_msg **out)
{
	if (n > wire_hdr_size(d) - d->hdr_got) {
		return SPRY_EINVAL;
	}
	if (d->ipc && d->hdr_got == 0 && n > 0 &&
	    d->hdr[0] != SPRY__WIRE_IPC_MSG) {
		return wire_fail(d, SPRY_EPROTO);
	}
	d->hdr_got += n;
	if (d->hdr_got < wire_hdr_size(d)) {
		return 0;
	}
	return wire_start(d, out);
}

/* n more payload bytes are in the body. */
static int
wire_body_filled(spry__wire_dec *d, size_t n, spry_msg **out)
{
	if (n > d->left) {
		return SPRY_EINVAL;
	}
	d->body += n;
	d->left -= n;
	if (d->left == 0) {
		*out       = d->msg;
		d->msg     = NULL;
		d->body    = NULL;
		d->hdr_got = 0;
	}
	return 0;
}

int
spry__wire_dec_want(spry__wire_dec *d, void **where, size_t *n)
{
	if (d == NULL || where == NULL || n == NULL) {
		return SPRY_EINVAL;
	}
	*where = NULL;
	*n     = 0;
	if (d->err != 0) {
		return d->err;
	}
	if (d->msg == NULL) {
		*where = d->hdr + d->hdr_got;
		*n     = wire_hdr_size(d) - d->hdr_got;
	} else {
		*where = d->body;
		*n     = d->left;
	}
	return 0;
}

int
spry__wire_dec_filled(spry__wire_dec *d, size_t n, spry_msg **out)
{
	if (d == NULL || out == NULL) {
		return SPRY_EINVAL;
	}
	*out = NULL;
	if (d->err != 0) {
		return d->err;
	}
	if (d->msg == NULL) {
		return wire_header_filled(d, n, out);
	}
	return wire_body_filled(d, n, out);
}

int
spry__wire_dec_feed(spry__wire_dec *d, const void *buf, size_t len,
    size_t *used, spry_msg **out)
{
	const uint8_t *p = buf;
	void          *where;
	size_t         n;
	int            rv;

	if (d == NULL || used == NULL || out == NULL ||
	    (buf == NULL && len > 0)) {
		return SPRY_EINVAL;
	}
	*used = 0;
	*out  = NULL;
	if (d->err != 0) {
		return d->err;
	}
	/* Each step fills the header or the body as far as buf reaches. */
	while (*used < len && *out == NULL) {
		if ((rv = spry__wire_dec_want(d, &where, &n)) != 0) {
			return rv;
		}
		n = n < len - *used ? n : len - *used;
		memcpy(where, p + *used, n);
		*used += n;
		if ((rv = spry__wire_dec_filled(d, n, out)) != 0) {
			return rv;
		}
	}
	return 0;
}
