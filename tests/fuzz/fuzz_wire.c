/* SPDX-License-Identifier: MIT */
/*
 * tests/fuzz/fuzz_wire.c: libFuzzer harness for the wire codec
 * (transports/wire.h). The input's first 4 bytes pick a receive limit
 * (1 to 65536) and a seed for chunk sizes; the rest is a byte stream as
 * a peer would send it. That stream is decoded in both modes, tcp and
 * ipc, three ways: fed in chunks of sizes drawn from the seed (1 byte,
 * a few, a few hundred, or the rest), through want/filled in steps drawn
 * the same way, and, when no length word in it asks for more than
 * 1 MiB, fed with no limit at all.
 *
 * A plain reference decoder that sees the whole stream at once says
 * what each run must give: the same payloads in the same order (each
 * an empty header and a body equal to the input bytes, its frame header
 * what spry__wire_frame_header writes), then the same end: the same
 * error (sticky afterwards), or all bytes taken and idle exactly when
 * the stream ends between frames. Nothing may leak. The first 8 bytes
 * also go to spry__wire_hello_check, which must accept exactly the
 * well-formed headers, and those must rebuild to the same bytes. A
 * broken invariant prints the input and aborts, which libFuzzer reports.
 *
 * Built two ways (tests/fuzz/meson.build): with -fsanitize=fuzzer as
 * the fuzzer itself, and with replay.c as a test that runs the seeds.
 */
#include "mailbox/alloc.h"
#include "spry/error.h"
#include "transports/wire.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* The bytes before the stream: limit and seed. */
#define FUZZ_CFG 4

/* Largest length word for which the run without a limit is safe. */
#define FUZZ_NOLIMIT_MAX (1u << 20)

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* The input being checked, for the report of a broken invariant. */
static const uint8_t *fuzz_data;
static size_t         fuzz_size;

static void
fuzz_fail(const char *what, int line)
{
	fprintf(stderr, "fuzz_wire.c:%d: invariant broken: %s\ninput:", line,
	    what);
	for (size_t i = 0; i < fuzz_size && i < 256; i++) {
		fprintf(stderr, " %02x", fuzz_data[i]);
	}
	fprintf(stderr, "%s\n", fuzz_size > 256 ? " ..." : "");
	abort();
}

/* Abort unless cond holds; the message names the condition. */
#define FUZZ_CHECK(cond)                                                      \
	do {                                                                  \
		if (!(cond)) {                                                \
			fuzz_fail(#cond, __LINE__);                           \
		}                                                             \
	} while (0)

/* One decoding run: the stream, its framing and the limit. */
typedef struct fuzz_run {
	const uint8_t *p;    /* the stream */
	size_t         len;  /* its length */
	bool           ipc;  /* ipc framing, else tcp */
	size_t         max;  /* the decoder's limit, 0 = none */
	uint32_t       seed; /* the chunk-size generator's state */
	size_t         at;   /* reference: start of its next frame */
} fuzz_run;

/* What the reference says comes next. */
typedef struct fuzz_next {
	bool     frame;  /* a whole frame; else the end of the run */
	size_t   pay;    /* frame: payload offset in the stream */
	size_t   plen;   /* frame: payload length */
	int      err;    /* end: 0 or the error the decoder gives */
	size_t   errpos; /* end with err: where the bad header ends */
	bool     idle;   /* end without err: the stream ends between frames */
	uint64_t word;   /* the last length word read, or 0 */
} fuzz_next;

static size_t
fuzz_hdr_size(bool ipc)
{
	return ipc ? SPRY__WIRE_IPC_HEADER_SIZE : SPRY__WIRE_TCP_HEADER_SIZE;
}

static uint64_t
fuzz_get_u64(const uint8_t *p)
{
	uint64_t v = 0;

	for (int i = 0; i < 8; i++) {
		v = (v << 8) | p[i];
	}
	return v;
}

/* The reference: the frame or end at r->at, seeing the whole stream. */
static fuzz_next
fuzz_ref_next(fuzz_run *r)
{
	fuzz_next n  = {0};
	size_t    hs = fuzz_hdr_size(r->ipc), at = r->at, left = r->len - at;
	uint64_t  max = r->max == 0 ? SPRY__WIRE_LEN_MAX : r->max;

	if (left == 0) {
		n.idle = true;
		return n;
	}
	if (r->ipc && r->p[at] != SPRY__WIRE_IPC_MSG) {
		n.err    = SPRY_EPROTO;
		n.errpos = at + 1;
		return n;
	}
	if (left < hs) {
		return n; /* a partial header */
	}
	n.word = fuzz_get_u64(r->p + at + hs - 8);
	if (n.word > max || n.word > SPRY__WIRE_LEN_MAX) {
		n.err    = SPRY_EMSGSIZE;
		n.errpos = at + hs;
		return n;
	}
	if (n.word > left - hs) {
		return n; /* a partial payload */
	}
	n.frame = true;
	n.pay   = at + hs;
	n.plen  = (size_t)n.word;
	r->at   = n.pay + n.plen;
	return n;
}

/* The next chunk or step size, 1 to left, from the seed. */
static size_t
fuzz_chunk(fuzz_run *r, size_t left)
{
	uint32_t x = r->seed, n;

	x ^= x << 13;
	x ^= x >> 17;
	x ^= x << 5;
	r->seed = x;
	switch (x & 3) {
	case 0:
		n = 1;
		break;
	case 1:
		n = 1 + (x >> 8) % 16;
		break;
	case 2:
		n = 1 + (x >> 8) % 512;
		break;
	default:
		n = (uint32_t)-1;
		break;
	}
	return n < left ? n : left;
}

/* m is the reference's next frame; frees m. */
static void
fuzz_expect_frame(fuzz_run *r, spry_msg *m)
{
	fuzz_next n = fuzz_ref_next(r);
	uint8_t   h[SPRY__WIRE_HEADER_MAX];
	size_t    hs = fuzz_hdr_size(r->ipc);

	FUZZ_CHECK(n.frame);
	FUZZ_CHECK(spry_msg_header_len(m) == 0);
	FUZZ_CHECK(spry_msg_len(m) == n.plen);
	FUZZ_CHECK(r->max == 0 || n.plen <= r->max);
	FUZZ_CHECK(memcmp(spry_msg_body(m), r->p + n.pay, n.plen) == 0);
	FUZZ_CHECK(spry__wire_frame_header(h, r->ipc, n.plen) == hs);
	FUZZ_CHECK(memcmp(h, r->p + n.pay - hs, hs) == 0);
	spry_msg_free(m);
}

/* The run ended at byte at with code rv: the reference must agree. */
static void
fuzz_expect_end(fuzz_run *r, spry__wire_dec *d, int rv, size_t at)
{
	fuzz_next n = fuzz_ref_next(r);
	size_t    used;
	spry_msg *m;

	/*
	 * No run allocates over 1 MiB, so SPRY_ENOMEM is a bug too: a
	 * length past the limits that reached the allocator.
	 */
	FUZZ_CHECK(!n.frame);
	FUZZ_CHECK(rv == n.err);
	if (rv == 0) {
		FUZZ_CHECK(at == r->len);
		FUZZ_CHECK(spry__wire_dec_idle(d) == n.idle);
		return;
	}
	/* A bad type byte may come with the rest of its header. */
	FUZZ_CHECK(rv != SPRY_EMSGSIZE || at == n.errpos);
	FUZZ_CHECK(at >= n.errpos && at < n.errpos + fuzz_hdr_size(r->ipc));
	FUZZ_CHECK(!spry__wire_dec_idle(d));
	FUZZ_CHECK(spry__wire_dec_feed(d, r->p, r->len, &used, &m) == rv);
	FUZZ_CHECK(used == 0 && m == NULL);
}

/* Decode r's stream through spry__wire_dec_feed, in chunks. */
static void
fuzz_run_feed(fuzz_run r)
{
	spry__wire_dec d;
	size_t         at = 0, end, used;
	spry_msg      *m;
	int            rv = 0;

	spry__wire_dec_init(&d, r.ipc, r.max);
	while (at < r.len && rv == 0) {
		end = at + fuzz_chunk(&r, r.len - at);
		while (at < end && rv == 0) {
			rv = spry__wire_dec_feed(
			    &d, r.p + at, end - at, &used, &m);
			FUZZ_CHECK(used <= end - at);
			FUZZ_CHECK(rv == 0 ? used > 0 : m == NULL);
			at += used;
			if (m != NULL) {
				fuzz_expect_frame(&r, m);
			}
		}
	}
	fuzz_expect_end(&r, &d, rv, at);
	spry__wire_dec_fini(&d);
}

/* Decode r's stream through want/filled, in steps. */
static void
fuzz_run_want(fuzz_run r)
{
	spry__wire_dec d;
	size_t         at = 0, n;
	void          *where;
	spry_msg      *m;
	int            rv = 0;

	spry__wire_dec_init(&d, r.ipc, r.max);
	while (at < r.len && rv == 0) {
		FUZZ_CHECK(spry__wire_dec_want(&d, &where, &n) == 0);
		FUZZ_CHECK(where != NULL && n > 0);
		n = n < r.len - at ? n : r.len - at;
		n = fuzz_chunk(&r, n);
		memcpy(where, r.p + at, n);
		at += n;
		rv = spry__wire_dec_filled(&d, n, &m);
		if (m != NULL) {
			fuzz_expect_frame(&r, m);
		}
	}
	fuzz_expect_end(&r, &d, rv, at);
	spry__wire_dec_fini(&d);
}

/* Whether decoding with no limit allocates at most FUZZ_NOLIMIT_MAX. */
static bool
fuzz_nolimit_safe(fuzz_run r)
{
	fuzz_next n;

	r.max = 0;
	do {
		n = fuzz_ref_next(&r);
		if (n.err == 0 && n.word > FUZZ_NOLIMIT_MAX) {
			return false;
		}
	} while (n.frame);
	return true;
}

/* The first 8 bytes as a connection header. */
static void
fuzz_check_hello(const uint8_t *p, size_t len)
{
	uint8_t  h[SPRY__WIRE_HELLO_SIZE];
	uint16_t peer = 0;
	bool     good;

	if (len < SPRY__WIRE_HELLO_SIZE) {
		return;
	}
	good = p[0] == 0 && p[1] == 'S' && p[2] == 'P' && p[3] == 0 &&
	    p[6] == 0 && p[7] == 0;
	FUZZ_CHECK(
	    spry__wire_hello_check(p, &peer) == (good ? 0 : SPRY_EPROTO));
	if (good) {
		spry__wire_hello(h, peer);
		FUZZ_CHECK(memcmp(h, p, sizeof(h)) == 0);
	}
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	uint8_t  cfg[FUZZ_CFG] = {0};
	int64_t  live          = spry__alloc_live();
	fuzz_run r             = {0};

	fuzz_data = data;
	fuzz_size = size;
	fuzz_check_hello(data, size);
	memcpy(cfg, data, size < FUZZ_CFG ? size : FUZZ_CFG);
	r.p    = size < FUZZ_CFG ? data : data + FUZZ_CFG;
	r.len  = size < FUZZ_CFG ? 0 : size - FUZZ_CFG;
	r.max  = 1 + (size_t)(cfg[0] | cfg[1] << 8);
	r.seed = 0x9e3779b9u ^ (uint32_t)(cfg[2] << 16 | cfg[3] << 8 | 1);
	for (int ipc = 0; ipc <= 1; ipc++) {
		r.ipc = ipc;
		fuzz_run_feed(r);
		fuzz_run_want(r);
		if (fuzz_nolimit_safe(r)) {
			fuzz_run r0 = r;

			r0.max = 0;
			fuzz_run_feed(r0);
		}
	}
	FUZZ_CHECK(spry__alloc_live() == live); /* -1 == -1 when not counted */
	fuzz_data = NULL;
	fuzz_size = 0;
	return 0;
}
