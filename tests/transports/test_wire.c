/* SPDX-License-Identifier: MIT */
/*
 * tests/transports/test_wire.c: the wire codec of transports/wire.h on
 * its own, with no sockets: the connection header (built bytes, every
 * bad byte refused), frame headers, and the frame decoder in both modes
 * fed every way a stream can arrive: split at every byte boundary, one
 * byte at a time, many frames in one chunk, through want/filled straight
 * into the body, and mixed. Then the limits (exactly at maxrecv, one
 * over, lengths of 2^63 and more, refused before anything is allocated),
 * the ipc type byte, sticky errors, and reset and fini with a partial
 * frame. Last, decoding from a message pool (sp/proto.h): the same
 * messages, changed, shared and freed in any order, before and after
 * the pool closes, and freed on another thread while the decoding one
 * takes their blocks again.
 *
 * Every test runs between spry_test_up and spry_test_down, which fails
 * it when any allocation is left.
 */
#include "tests/support/support.h"

#include "mailbox/alloc.h"
#include "sp/proto.h"
#include "sp/socket.h"
#include "transports/wire.h"

#include <pthread.h>
#include <string.h>

/* The most frames a test stream holds. */
#define MAX_FRAMES 1024

/* Room for a test stream. */
#define STREAM_MAX (256 * 1024)

/* A stream of frames with the lengths of its payloads. */
typedef struct stream {
	bool    ipc;              /* ipc framing, else tcp */
	size_t  len;              /* bytes used in buf */
	size_t  nframes;          /* frames in buf */
	size_t  lens[MAX_FRAMES]; /* payload length of each frame */
	uint8_t buf[STREAM_MAX];  /* the bytes as a peer sends them */
} stream;

/* What a decoder handed out. */
typedef struct got {
	size_t    n;                /* messages in msgs */
	spry_msg *msgs[MAX_FRAMES]; /* the messages, in order, owned here */
} got;

/* One stream and one result at a time: too big for the stack. */
static stream the_stream;
static got    the_got;

/* Bytes of frame k's payload: a pattern that differs between frames. */
static uint8_t
payload_byte(size_t k, size_t i)
{
	return (uint8_t)((k * 37 + i) % 251);
}

/* Start an empty stream. */
static stream *
stream_new(bool ipc)
{
	memset(&the_stream, 0, sizeof(the_stream));
	the_stream.ipc = ipc;
	return &the_stream;
}

/* Append a frame whose payload is len pattern bytes. */
static void
stream_add(stream *s, size_t len)
{
	size_t k = s->nframes;

	assert_true(k < MAX_FRAMES);
	assert_true(s->len + SPRY__WIRE_HEADER_MAX + len <= STREAM_MAX);
	s->len += spry__wire_frame_header(s->buf + s->len, s->ipc, len);
	for (size_t i = 0; i < len; i++) {
		s->buf[s->len++] = payload_byte(k, i);
	}
	s->lens[s->nframes++] = len;
}

/* Append a bare frame header claiming len payload bytes. */
static void
stream_add_header(stream *s, uint64_t len)
{
	s->len += spry__wire_frame_header(s->buf + s->len, s->ipc, len);
}

/* Feed buf[0..len) to d whole, collecting every message into g. */
static void
feed_all(spry__wire_dec *d, const uint8_t *buf, size_t len, got *g)
{
	size_t    used;
	spry_msg *m;

	while (len > 0) {
		spry_test_check(
		    spry__wire_dec_feed(d, buf, len, &used, &m), 0);
		assert_true(used > 0 && used <= len);
		if (m != NULL) {
			assert_true(g->n < MAX_FRAMES);
			g->msgs[g->n++] = m;
		}
		buf += used;
		len -= used;
	}
}

/* Fails unless g holds exactly s's payloads; frees them either way. */
static void
got_check(got *g, const stream *s)
{
	assert_int_equal(g->n, s->nframes);
	for (size_t k = 0; k < g->n; k++) {
		const uint8_t *body = spry_msg_body(g->msgs[k]);

		assert_int_equal(spry_msg_header_len(g->msgs[k]), 0);
		assert_int_equal(spry_msg_len(g->msgs[k]), s->lens[k]);
		for (size_t i = 0; i < s->lens[k]; i++) {
			if (body[i] != payload_byte(k, i)) {
				fail_msg(
				    "frame %zu byte %zu is %u", k, i, body[i]);
			}
		}
	}
	for (size_t k = 0; k < g->n; k++) {
		spry_msg_free(g->msgs[k]);
	}
	g->n = 0;
}

/* Empty the result. */
static got *
got_new(void)
{
	memset(&the_got, 0, sizeof(the_got));
	return &the_got;
}

/* A few frames of awkward lengths, in the given mode. */
static stream *
stream_mixed(bool ipc)
{
	stream *s = stream_new(ipc);

	stream_add(s, 0);
	stream_add(s, 5);
	stream_add(s, 300);
	stream_add(s, 1);
	stream_add(s, 0);
	stream_add(s, 8);
	return s;
}

static void
test_hello_is_magic_version_big_endian_id_and_zeros(void **state)
{
	uint8_t       h[SPRY__WIRE_HELLO_SIZE];
	const uint8_t req[] = {0x00, 'S', 'P', 0x00, 0x00, 0x30, 0x00, 0x00};
	uint16_t      peer  = 0;

	(void)state;
	spry__wire_hello(h, 0x30);
	assert_memory_equal(h, req, sizeof(req));
	spry_test_check(spry__wire_hello_check(h, &peer), 0);
	assert_int_equal(peer, 0x30);
	spry__wire_hello(h, 0xa1b2);
	assert_int_equal(h[4], 0xa1);
	assert_int_equal(h[5], 0xb2);
	spry_test_check(spry__wire_hello_check(h, &peer), 0);
	assert_int_equal(peer, 0xa1b2);
	/* Every id survives the trip; the id is not judged here. */
	for (uint32_t id = 0; id <= 0xffff; id++) {
		spry__wire_hello(h, (uint16_t)id);
		spry_test_check(spry__wire_hello_check(h, &peer), 0);
		assert_int_equal(peer, id);
	}
	spry_test_check(spry__wire_hello_check(h, NULL), 0);
	spry_test_check(spry__wire_hello_check(NULL, &peer), SPRY_EINVAL);
}

static void
test_hello_with_any_wrong_magic_version_or_reserved_byte_is_eproto(
    void **state)
{
	static const size_t checked[] = {0, 1, 2, 3, 6, 7};
	uint8_t             good[SPRY__WIRE_HELLO_SIZE], h[sizeof(good)];
	uint16_t            peer;

	(void)state;
	spry__wire_hello(good, 0x51);
	for (size_t c = 0; c < sizeof(checked) / sizeof(checked[0]); c++) {
		size_t at = checked[c];

		for (unsigned v = 0; v < 256; v++) {
			if (v == good[at]) {
				continue;
			}
			memcpy(h, good, sizeof(h));
			h[at] = (uint8_t)v;
			peer  = 0x1234;
			spry_test_check(
			    spry__wire_hello_check(h, &peer), SPRY_EPROTO);
			assert_int_equal(peer, 0x1234);
		}
	}
	/* Lower case, swapped, and the nanomsg UDP draft's version 1. */
	memcpy(h, good, sizeof(h));
	h[1] = 's';
	spry_test_check(spry__wire_hello_check(h, NULL), SPRY_EPROTO);
	memcpy(h, "\0PS\0\0\x51\0\0", 8);
	spry_test_check(spry__wire_hello_check(h, NULL), SPRY_EPROTO);
	memcpy(h, "\0SP\x01\0\x51\0\0", 8);
	spry_test_check(spry__wire_hello_check(h, NULL), SPRY_EPROTO);
}

static void
test_frame_header_is_a_big_endian_length_after_the_ipc_type_byte(void **state)
{
	uint8_t       h[SPRY__WIRE_HEADER_MAX + 1];
	const uint8_t be[]    = {1, 2, 3, 4, 5, 6, 7, 8};
	const uint8_t ones[8] = {
	    0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff};

	(void)state;
	memset(h, 0xee, sizeof(h));
	assert_int_equal(
	    spry__wire_frame_header(h, false, 0x0102030405060708ull), 8);
	assert_memory_equal(h, be, 8);
	assert_int_equal(h[8], 0xee);
	memset(h, 0xee, sizeof(h));
	assert_int_equal(
	    spry__wire_frame_header(h, true, 0x0102030405060708ull), 9);
	assert_int_equal(h[0], SPRY__WIRE_IPC_MSG);
	assert_memory_equal(h + 1, be, 8);
	assert_int_equal(h[9], 0xee);
	assert_int_equal(spry__wire_frame_header(h, false, 0), 8);
	assert_memory_equal(h, "\0\0\0\0\0\0\0\0", 8);
	assert_int_equal(spry__wire_frame_header(h, true, UINT64_MAX), 9);
	assert_memory_equal(h + 1, ones, 8);
}

/* Decode s split in two at every byte boundary, then byte by byte. */
static void
check_every_split(const stream *s)
{
	spry__wire_dec d;
	got           *g = got_new();

	for (size_t cut = 0; cut <= s->len; cut++) {
		spry__wire_dec_init(&d, s->ipc, 0);
		feed_all(&d, s->buf, cut, g);
		feed_all(&d, s->buf + cut, s->len - cut, g);
		assert_true(spry__wire_dec_idle(&d));
		spry__wire_dec_fini(&d);
		got_check(g, s);
	}
	spry__wire_dec_init(&d, s->ipc, 0);
	for (size_t i = 0; i < s->len; i++) {
		feed_all(&d, s->buf + i, 1, g);
	}
	spry__wire_dec_fini(&d);
	got_check(g, s);
}

static void
test_tcp_frames_split_at_every_byte_boundary_decode_whole(void **state)
{
	(void)state;
	check_every_split(stream_mixed(false));
}

static void
test_ipc_frames_split_at_every_byte_boundary_decode_whole(void **state)
{
	(void)state;
	check_every_split(stream_mixed(true));
}

/* Decode s in one chunk: one feed call per frame, in order. */
static void
check_one_chunk(const stream *s)
{
	spry__wire_dec d;
	got           *g = got_new();
	size_t         used, at = 0, calls = 0;
	spry_msg      *m;

	spry__wire_dec_init(&d, s->ipc, 4096);
	while (at < s->len) {
		spry_test_check(spry__wire_dec_feed(
		                    &d, s->buf + at, s->len - at, &used, &m),
		    0);
		assert_non_null(m); /* a whole frame was there */
		g->msgs[g->n++] = m;
		at += used;
		calls++;
	}
	assert_int_equal(calls, s->nframes);
	assert_true(spry__wire_dec_idle(&d));
	spry__wire_dec_fini(&d);
	got_check(g, s);
}

static void
test_many_frames_in_one_chunk_come_out_one_per_feed_in_order(void **state)
{
	(void)state;
	for (int ipc = 0; ipc <= 1; ipc++) {
		stream *s = stream_new(ipc);

		for (size_t k = 0; k < MAX_FRAMES; k++) {
			stream_add(s, (k * 7919) % 200);
		}
		check_one_chunk(s);
	}
}

static void
test_a_zero_length_frame_is_an_empty_message(void **state)
{
	spry__wire_dec d;
	uint8_t        h[SPRY__WIRE_HEADER_MAX];
	size_t         hn, used;
	spry_msg      *m;

	(void)state;
	for (int ipc = 0; ipc <= 1; ipc++) {
		spry__wire_dec_init(&d, ipc, 1);
		hn = spry__wire_frame_header(h, ipc, 0);
		spry_test_check(
		    spry__wire_dec_feed(&d, h, hn - 1, &used, &m), 0);
		assert_int_equal(used, hn - 1);
		assert_null(m);
		assert_false(spry__wire_dec_idle(&d));
		spry_test_check(
		    spry__wire_dec_feed(&d, h + hn - 1, 1, &used, &m), 0);
		assert_int_equal(used, 1);
		assert_non_null(m);
		assert_int_equal(spry_msg_len(m), 0);
		assert_int_equal(spry_msg_header_len(m), 0);
		assert_true(spry__wire_dec_idle(&d));
		spry_msg_free(m);
		spry__wire_dec_fini(&d);
	}
}

/*
 * A decoder limited to max takes a frame of exactly max bytes; the
 * header of one of max + 1 gives SPRY_EMSGSIZE before allocating.
 */
static void
check_limit(bool ipc, size_t max)
{
	spry__wire_dec d;
	stream        *s = stream_new(ipc);
	got           *g = got_new();
	size_t         used;
	spry_msg      *m;
	int64_t        live;

	stream_add(s, max);
	spry__wire_dec_init(&d, ipc, max);
	feed_all(&d, s->buf, s->len, g);
	got_check(g, s);
	s->len = 0;
	stream_add_header(s, (uint64_t)max + 1);
	live = spry__alloc_live();
	spry_test_check(
	    spry__wire_dec_feed(&d, s->buf, s->len, &used, &m), SPRY_EMSGSIZE);
	assert_null(m);
	assert_int_equal(used, s->len);
	assert_int_equal(spry__alloc_live(), live);
	assert_false(spry__wire_dec_idle(&d));
	spry__wire_dec_fini(&d);
}

static void
test_a_frame_at_the_limit_decodes_and_one_byte_over_is_emsgsize(void **state)
{
	(void)state;
	for (int ipc = 0; ipc <= 1; ipc++) {
		check_limit(ipc, 1);
		check_limit(ipc, 100);
		check_limit(ipc, 65536);
	}
}

/* Feed a header claiming len to a decoder limited to max: the code. */
static int
header_rv(bool ipc, size_t max, uint64_t len)
{
	spry__wire_dec d;
	uint8_t        h[SPRY__WIRE_HEADER_MAX];
	size_t         hn = spry__wire_frame_header(h, ipc, len), used;
	spry_msg      *m  = NULL;
	int            rv;

	spry__wire_dec_init(&d, ipc, max);
	rv = spry__wire_dec_feed(&d, h, hn, &used, &m);
	assert_int_equal(used, hn);
	spry_msg_free(m);
	spry__wire_dec_fini(&d);
	return rv;
}

static void
test_lengths_of_2_63_and_up_are_emsgsize_even_with_no_limit(void **state)
{
	const uint64_t huge[] = {
	    1ull << 63, (1ull << 63) + 1, UINT64_MAX, 0x8000000000000400ull};
	int64_t live = spry__alloc_live();

	(void)state;
	for (int ipc = 0; ipc <= 1; ipc++) {
		for (size_t i = 0; i < sizeof(huge) / sizeof(huge[0]); i++) {
			spry_test_check(
			    header_rv(ipc, 0, huge[i]), SPRY_EMSGSIZE);
			spry_test_check(
			    header_rv(ipc, SIZE_MAX, huge[i]), SPRY_EMSGSIZE);
			spry_test_check(
			    header_rv(ipc, 1024, huge[i]), SPRY_EMSGSIZE);
		}
		/* Under 2^63 but over a limit: refused, nothing allocated. */
		spry_test_check(
		    header_rv(ipc, 1024, (1ull << 63) - 1), SPRY_EMSGSIZE);
		spry_test_check(
		    header_rv(ipc, 1024, 1ull << 32), SPRY_EMSGSIZE);
	}
	assert_int_equal(spry__alloc_live(), live);
	assert_true(SPRY__WIRE_LEN_MAX <= (uint64_t)INT64_MAX);
	assert_true(SPRY__WIRE_LEN_MAX <= (uint64_t)SIZE_MAX);
}

static void
test_an_ipc_type_byte_other_than_1_is_eproto_at_once(void **state)
{
	spry__wire_dec d;
	uint8_t        b;
	size_t         used;
	spry_msg      *m;
	void          *where;
	size_t         n;

	(void)state;
	for (unsigned v = 0; v < 256; v++) {
		if (v == SPRY__WIRE_IPC_MSG) {
			continue;
		}
		b = (uint8_t)v;
		spry__wire_dec_init(&d, true, 0);
		spry_test_check(
		    spry__wire_dec_feed(&d, &b, 1, &used, &m), SPRY_EPROTO);
		assert_int_equal(used, 1);
		assert_null(m);
		/* Sticky: every later call says the same. */
		spry_test_check(
		    spry__wire_dec_feed(&d, &b, 1, &used, &m), SPRY_EPROTO);
		assert_int_equal(used, 0);
		spry_test_check(
		    spry__wire_dec_want(&d, &where, &n), SPRY_EPROTO);
		assert_null(where);
		assert_int_equal(n, 0);
		spry_test_check(spry__wire_dec_filled(&d, 0, &m), SPRY_EPROTO);
		spry__wire_dec_fini(&d);
	}
	/* tcp has no type byte: 0x02 is just the top of a length. */
	b = 0x02;
	spry__wire_dec_init(&d, false, 0);
	spry_test_check(spry__wire_dec_feed(&d, &b, 1, &used, &m), 0);
	spry__wire_dec_fini(&d);
}

/* Feed d half of a frame of len bytes (header split when len is 0). */
static void
feed_half_frame(spry__wire_dec *d, bool ipc, size_t len)
{
	stream   *s = stream_new(ipc);
	size_t    used;
	spry_msg *m;

	stream_add(s, len);
	spry_test_check(
	    spry__wire_dec_feed(d, s->buf, s->len / 2, &used, &m), 0);
	assert_null(m);
	assert_false(spry__wire_dec_idle(d));
}

static void
test_reset_and_fini_free_a_partial_frame(void **state)
{
	spry__wire_dec d;
	int64_t        live = spry__alloc_live();
	stream        *s;
	got           *g;

	(void)state;
	for (int ipc = 0; ipc <= 1; ipc++) {
		/* In the body: the message is live, then freed. */
		spry__wire_dec_init(&d, ipc, 0);
		feed_half_frame(&d, ipc, 1000);
		assert_true(live < 0 || spry__alloc_live() > live);
		spry__wire_dec_reset(&d);
		assert_true(spry__wire_dec_idle(&d));
		assert_int_equal(spry__alloc_live(), live);
		/* Reset keeps the mode and limit: whole frames decode. */
		s = stream_mixed(ipc);
		g = got_new();
		feed_all(&d, s->buf, s->len, g);
		got_check(g, s);
		/* In the header: nothing allocated yet. */
		feed_half_frame(&d, ipc, 0);
		spry__wire_dec_reset(&d);
		feed_half_frame(&d, ipc, 1000);
		spry__wire_dec_fini(&d);
		assert_int_equal(spry__alloc_live(), live);
	}
}

static void
test_reset_clears_a_sticky_error(void **state)
{
	spry__wire_dec d;
	stream        *s = stream_new(false);
	got           *g = got_new();
	size_t         used;
	spry_msg      *m;

	(void)state;
	stream_add_header(s, 11);
	spry__wire_dec_init(&d, false, 10);
	spry_test_check(
	    spry__wire_dec_feed(&d, s->buf, s->len, &used, &m), SPRY_EMSGSIZE);
	spry__wire_dec_reset(&d);
	assert_true(spry__wire_dec_idle(&d));
	s = stream_new(false);
	stream_add(s, 10);
	feed_all(&d, s->buf, s->len, g);
	got_check(g, s);
	spry__wire_dec_fini(&d);
}

/*
 * Decode s through want/filled alone, writing at most step bytes per
 * call where the decoder says: the payload lands in the body itself.
 */
static void
check_want_filled(const stream *s, size_t step)
{
	spry__wire_dec d;
	got           *g  = got_new();
	size_t         at = 0, n;
	void          *where, *start = NULL;
	spry_msg      *m;

	spry__wire_dec_init(&d, s->ipc, 0);
	while (at < s->len) {
		spry_test_check(spry__wire_dec_want(&d, &where, &n), 0);
		assert_true(n > 0 && n <= s->len - at);
		n = n < step ? n : step;
		if (start == NULL && where != d.hdr + d.hdr_got) {
			start = where; /* the first payload byte's place */
		}
		memcpy(where, s->buf + at, n);
		at += n;
		spry_test_check(spry__wire_dec_filled(&d, n, &m), 0);
		if (m != NULL) {
			/* The body was written in place, never copied. */
			assert_true(
			    start == NULL || start == spry_msg_body(m));
			start           = NULL;
			g->msgs[g->n++] = m;
		}
	}
	spry__wire_dec_fini(&d);
	got_check(g, s);
}

static void
test_want_and_filled_put_the_payload_straight_into_the_body(void **state)
{
	(void)state;
	for (int ipc = 0; ipc <= 1; ipc++) {
		check_want_filled(stream_mixed(ipc), SIZE_MAX);
		check_want_filled(stream_mixed(ipc), 1);
		check_want_filled(stream_mixed(ipc), 7);
	}
}

static void
test_feed_and_want_filled_mix_freely(void **state)
{
	spry__wire_dec d;
	stream        *s  = stream_mixed(true);
	got           *g  = got_new();
	size_t         at = 0, n, used;
	void          *where;
	spry_msg      *m;

	(void)state;
	spry__wire_dec_init(&d, true, 0);
	for (int turn = 0; at < s->len; turn++) {
		if (turn % 2 == 0) {
			n = s->len - at < 3 ? s->len - at : 3;
			spry_test_check(
			    spry__wire_dec_feed(&d, s->buf + at, n, &used, &m),
			    0);
			at += used;
		} else {
			spry_test_check(
			    spry__wire_dec_want(&d, &where, &n), 0);
			memcpy(where, s->buf + at, n);
			at += n;
			spry_test_check(spry__wire_dec_filled(&d, n, &m), 0);
		}
		if (m != NULL) {
			g->msgs[g->n++] = m;
		}
	}
	spry__wire_dec_fini(&d);
	got_check(g, s);
}

static void
test_bad_arguments_and_overfilling_are_einval_and_not_sticky(void **state)
{
	spry__wire_dec d;
	uint8_t        b = 0;
	size_t         used, n;
	void          *where;
	spry_msg      *m;

	(void)state;
	spry__wire_dec_init(&d, false, 0);
	spry_test_check(
	    spry__wire_dec_feed(NULL, &b, 1, &used, &m), SPRY_EINVAL);
	spry_test_check(
	    spry__wire_dec_feed(&d, NULL, 1, &used, &m), SPRY_EINVAL);
	spry_test_check(spry__wire_dec_feed(&d, &b, 1, NULL, &m), SPRY_EINVAL);
	spry_test_check(
	    spry__wire_dec_feed(&d, &b, 1, &used, NULL), SPRY_EINVAL);
	spry_test_check(spry__wire_dec_feed(&d, NULL, 0, &used, &m), 0);
	assert_int_equal(used, 0);
	assert_null(m);
	spry_test_check(spry__wire_dec_want(&d, NULL, &n), SPRY_EINVAL);
	spry_test_check(spry__wire_dec_want(&d, &where, NULL), SPRY_EINVAL);
	spry_test_check(spry__wire_dec_filled(&d, 0, NULL), SPRY_EINVAL);
	spry_test_check(spry__wire_dec_want(&d, &where, &n), 0);
	assert_int_equal(n, SPRY__WIRE_TCP_HEADER_SIZE);
	spry_test_check(spry__wire_dec_filled(&d, n + 1, &m), SPRY_EINVAL);
	assert_true(spry__wire_dec_idle(&d));
	/* In the body too: one byte more than wanted takes nothing. */
	spry__wire_frame_header(where, false, 2);
	spry_test_check(spry__wire_dec_filled(&d, n, &m), 0);
	spry_test_check(spry__wire_dec_want(&d, &where, &n), 0);
	assert_int_equal(n, 2);
	spry_test_check(spry__wire_dec_filled(&d, 3, &m), SPRY_EINVAL);
	memcpy(where, "hi", 2);
	spry_test_check(spry__wire_dec_filled(&d, 2, &m), 0);
	assert_non_null(m);
	assert_memory_equal(spry_msg_body(m), "hi", 2);
	spry_msg_free(m);
	spry__wire_dec_fini(&d);
}

/* Decode s whole with d into g (one chunk), checking the frame count. */
static void
decode_whole(spry__wire_dec *d, const stream *s, got *g)
{
	feed_all(d, s->buf, s->len, g);
	assert_int_equal(g->n, s->nframes);
	assert_true(spry__wire_dec_idle(d));
}

static void
test_a_pooled_decoder_gives_the_same_messages_and_reuses_them(void **state)
{
	(void)state;
	for (int ipc = 0; ipc <= 1; ipc++) {
		spry__msg_pool *pool = spry__msg_pool_new();
		spry__wire_dec  d;
		stream         *s = stream_new(ipc);

		assert_non_null(pool);
		spry__wire_dec_init(&d, ipc, 0);
		d.pool = pool;
		/* Small ones pooled, larger ones (over 256 B) not. */
		for (size_t k = 0; k < 600; k++) {
			stream_add(s, (k * 7919) % 700);
		}
		for (int round = 0; round < 3; round++) {
			decode_whole(&d, s, got_new());
			got_check(
			    &the_got, s); /* frees: the next round reuses */
		}
		spry__wire_dec_fini(&d);
		spry__msg_pool_close(pool);
	}
}

static void
test_pooled_messages_change_share_and_outlive_their_pool(void **state)
{
	spry__msg_pool *pool = spry__msg_pool_new();
	spry__wire_dec  d;
	stream         *s = stream_new(false);
	got            *g = got_new();
	spry_msg       *dup, *dup2;
	spry__peer     *peer, *other;
	uint8_t         big[1000];

	(void)state;
	assert_non_null(pool);
	spry__wire_dec_init(&d, false, 0);
	d.pool = pool;
	for (size_t k = 0; k < 8; k++) {
		stream_add(s, 64);
	}
	decode_whole(&d, s, g);
	/* A dup shares the pooled bytes and outlives the message. */
	spry_test_check(spry_msg_dup(&dup, g->msgs[0]), 0);
	spry_msg_free(g->msgs[0]);
	assert_int_equal(spry_msg_len(dup), 64);
	assert_int_equal(
	    ((uint8_t *)spry_msg_body(dup))[5], payload_byte(0, 5));
	/* Growing moves the body out of the block; headers work. */
	memset(big, 7, sizeof(big));
	spry_test_check(spry_msg_append(g->msgs[1], big, sizeof(big)), 0);
	spry_test_check(spry_msg_header_append_u32(g->msgs[1], 42), 0);
	assert_int_equal(spry_msg_len(g->msgs[1]), 64 + sizeof(big));
	assert_int_equal(
	    ((uint8_t *)spry_msg_body(g->msgs[1]))[63], payload_byte(1, 63));
	/* Writing a shared body copies it: the other holder keeps its own. */
	spry_test_check(spry_msg_dup(&dup2, g->msgs[2]), 0);
	((uint8_t *)spry_msg_body(dup2))[0] ^= 0xff;
	assert_int_equal(
	    ((uint8_t *)spry_msg_body(g->msgs[2]))[0], payload_byte(2, 0));
	spry_msg_free(g->msgs[2]);
	spry_msg_clear(g->msgs[3]);
	spry_test_check(spry_msg_append_u32(g->msgs[3], 9), 0);
	/* Peer addresses: the pool lends the first it is given. */
	peer  = spry__peer_new("tcp://10.0.0.1:5");
	other = spry__peer_new("tcp://10.0.0.2:6");
	assert_non_null(peer);
	assert_non_null(other);
	for (size_t k = 4; k < g->n; k++) {
		spry__msg_set_peer_ref(g->msgs[k], peer);
	}
	spry__msg_set_peer_ref(g->msgs[5], other);
	spry__peer_release(peer);
	spry__peer_release(other);
	/* Close with messages out: each frees its block when it goes. */
	spry__wire_dec_fini(&d);
	spry__msg_pool_close(pool);
	spry_msg_free(dup);
	spry_test_check(spry_msg_dup(&dup, g->msgs[4]), 0);
	spry_msg_free(g->msgs[4]);
	g->msgs[4] = dup; /* a dup of a pooled message holds the peer */
	assert_string_equal(spry_msg_peer(g->msgs[4]), "tcp://10.0.0.1:5");
	assert_string_equal(spry_msg_peer(g->msgs[5]), "tcp://10.0.0.2:6");
	spry_test_check(spry_msg_set_peer(g->msgs[6], "tcp://10.0.0.3:7"), 0);
	assert_string_equal(spry_msg_peer(g->msgs[6]), "tcp://10.0.0.3:7");
	spry_msg_free(dup2);
	spry_msg_free(g->msgs[1]);
	for (size_t k = 3; k < g->n; k++) {
		spry_msg_free(g->msgs[k]);
	}
	g->n = 0;
}

/* The freeing thread of the cross-thread test: frees what comes. */
static void *
pool_freer(void *arg)
{
	spry_mailbox *mb = arg;
	void         *m;

	while (spry_mailbox_recv(NULL, mb, &m) == 0 && m != NULL) {
		spry_msg_free(m);
	}
	return NULL;
}

static void
test_pooled_messages_freed_on_another_thread_come_back(void **state)
{
	spry__msg_pool *pool = spry__msg_pool_new();
	spry__wire_dec  d;
	spry_mailbox   *mb;
	pthread_t       t;
	stream         *s = stream_new(false);
	got            *g = got_new();

	(void)state;
	assert_non_null(pool);
	spry_test_check(spry_mailbox_open(&mb, 64), 0);
	assert_int_equal(pthread_create(&t, NULL, pool_freer, mb), 0);
	spry__wire_dec_init(&d, false, 0);
	d.pool = pool;
	for (size_t k = 0; k < 200; k++) {
		stream_add(s, k % 100);
	}
	for (int round = 0; round < 50; round++) {
		decode_whole(&d, s, g);
		for (size_t k = 0; k < g->n; k++) {
			assert_int_equal(spry_msg_len(g->msgs[k]), s->lens[k]);
			spry_test_check(
			    spry_mailbox_send(NULL, mb, g->msgs[k]), 0);
		}
		g->n = 0;
	}
	spry__wire_dec_fini(&d);
	/* Close while the other thread may still be freeing. */
	spry__msg_pool_close(pool);
	spry_test_check(spry_mailbox_send(NULL, mb, NULL), 0);
	assert_int_equal(pthread_join(t, NULL), 0);
	spry_mailbox_release(mb);
}

/* Each case, leak-checked by spry_test_down. */
#define WIRE_TEST(f)                                                          \
	cmocka_unit_test_setup_teardown(f, spry_test_up, spry_test_down)

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    WIRE_TEST(test_hello_is_magic_version_big_endian_id_and_zeros),
	    WIRE_TEST(
	        test_hello_with_any_wrong_magic_version_or_reserved_byte_is_eproto),
	    WIRE_TEST(
	        test_frame_header_is_a_big_endian_length_after_the_ipc_type_byte),
	    WIRE_TEST(
	        test_tcp_frames_split_at_every_byte_boundary_decode_whole),
	    WIRE_TEST(
	        test_ipc_frames_split_at_every_byte_boundary_decode_whole),
	    WIRE_TEST(
	        test_many_frames_in_one_chunk_come_out_one_per_feed_in_order),
	    WIRE_TEST(test_a_zero_length_frame_is_an_empty_message),
	    WIRE_TEST(
	        test_a_frame_at_the_limit_decodes_and_one_byte_over_is_emsgsize),
	    WIRE_TEST(
	        test_lengths_of_2_63_and_up_are_emsgsize_even_with_no_limit),
	    WIRE_TEST(test_an_ipc_type_byte_other_than_1_is_eproto_at_once),
	    WIRE_TEST(test_reset_and_fini_free_a_partial_frame),
	    WIRE_TEST(test_reset_clears_a_sticky_error),
	    WIRE_TEST(
	        test_want_and_filled_put_the_payload_straight_into_the_body),
	    WIRE_TEST(test_feed_and_want_filled_mix_freely),
	    WIRE_TEST(
	        test_bad_arguments_and_overfilling_are_einval_and_not_sticky),
	    WIRE_TEST(
	        test_a_pooled_decoder_gives_the_same_messages_and_reuses_them),
	    WIRE_TEST(
	        test_pooled_messages_change_share_and_outlive_their_pool),
	    WIRE_TEST(test_pooled_messages_freed_on_another_thread_come_back),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
