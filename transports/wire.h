/* SPDX-License-Identifier: MIT */
/*
 * transports/wire.h: the byte formats that the tcp and ipc transports
 * share with NNG 1.5 and nanomsg 1.1, as a pure codec with no I/O: the
 * 8-byte connection header both sides send first, the frame header in
 * front of every message, and an incremental frame decoder that turns
 * bytes, however read() splits them, into messages. The transports own
 * the sockets, the reads and writes, the protocol-id check against the
 * expected peer and the closing of a pipe on error; protocols own what
 * sits inside a payload (backtraces, hop counts).
 *
 * Wire formats (nanomsg rfc/sp-tcp-mapping-01.txt, sp-ipc-mapping-01.txt;
 * NNG src/sp/transport/tcp/tcp.c, ipc/ipc.c), all integers big-endian:
 *
 *   what               bytes  contents
 *   connection header  8      00 'S' 'P' 00, u16 SP protocol id, 00 00
 *   tcp frame header   8      u64 payload length
 *   ipc frame header   9      01 (in-band message), u64 payload length
 *   payload            length protocol header, then body
 */
#ifndef SPRY_TRANSPORTS_WIRE_H
#define SPRY_TRANSPORTS_WIRE_H

#include "spry/msg.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* The size of the connection header, in bytes. */
#define SPRY__WIRE_HELLO_SIZE 8

/* The size of a tcp frame header (the length word), in bytes. */
#define SPRY__WIRE_TCP_HEADER_SIZE 8

/* The size of an ipc frame header (type byte and length word). */
#define SPRY__WIRE_IPC_HEADER_SIZE 9

/* The largest frame header of any mode: a buffer this big holds one. */
#define SPRY__WIRE_HEADER_MAX SPRY__WIRE_IPC_HEADER_SIZE

/*
 * The longest payload any decoder takes, whatever its limit: what both
 * a size_t and an int64_t hold. A length word of 2^63 or more is never
 * a real frame (a peer with signed lengths would read it as negative),
 * and one over SIZE_MAX could not be allocated on this machine.
 */
#define SPRY__WIRE_LEN_MAX                                                    \
	((uint64_t)SIZE_MAX < (uint64_t)INT64_MAX ? (uint64_t)SIZE_MAX :      \
	                                            (uint64_t)INT64_MAX)

/* The ipc type byte of an in-band message, the only one defined. */
#define SPRY__WIRE_IPC_MSG 0x01

/*
 * spry__wire_hello writes the connection header announcing protocol id
 * proto (e.g. 0x30 for REQ) into out. Never fails.
 */
void spry__wire_hello(uint8_t out[SPRY__WIRE_HELLO_SIZE], uint16_t proto);

/*
 * spry__wire_hello_check reads the peer's connection header in. Returns
 * 0 and stores the peer's protocol id in *peer (when peer is not NULL),
 * or SPRY_EPROTO when the magic bytes, the version or the reserved bytes
 * are wrong (*peer is untouched), as NNG's tcp and ipc transports check.
 * Whether the id is an acceptable partner is the caller's decision.
 */
int spry__wire_hello_check(
    const uint8_t in[SPRY__WIRE_HELLO_SIZE], uint16_t *peer);

/*
 * spry__wire_frame_header writes the header of a frame whose payload is
 * len bytes into out (SPRY__WIRE_HEADER_MAX bytes are always enough) and
 * returns its size: 8 for tcp, 9 for ipc. A sender then writes, with one
 * writev, this header, the message's header and its body, where len is
 * spry_msg_header_len(m) + spry_msg_len(m). Never fails.
 */
size_t spry__wire_frame_header(uint8_t *out, bool ipc, uint64_t len);

/*
 * An incremental frame decoder for one byte stream (one pipe). It holds
 * at most one partial frame: the frame header read so far, or the
 * message being filled. Caller-owned storage, used by one thread at a
 * time (no locking): _init, then any mix of _feed and _want/_filled,
 * then _fini.
 *
 * Two ways in, so that no byte is copied more than it must be:
 * - spry__wire_dec_feed takes a buffer of any size (what one read()
 *   returned) and copies from it. Many small frames then cost one read
 *   system call and one copy each, rather than two reads per frame.
 * - spry__wire_dec_want says where the next bytes go and how many are
 *   wanted; the caller reads straight there and reports the count with
 *   spry__wire_dec_filled. For a large payload this lands the bytes in
 *   the message body itself, with no copy through a buffer at all.
 * A transport with a read buffer of B bytes reads straight into the
 * body when want says B or more, and otherwise reads into its buffer
 * and feeds it; both ways may be mixed freely between calls.
 *
 * Errors are sticky: once a frame is bad the stream can no longer be
 * split into frames, so every later call returns the same code until
 * spry__wire_dec_reset. The transport then closes the pipe.
 */
typedef struct spry__wire_dec {
	/* True: ipc framing (type byte first); false: tcp. Set by init. */
	bool ipc;
	/* The largest payload accepted, in bytes; 0 = no limit. */
	size_t maxrecv;
	/* The frame header read so far (the first hdr_got bytes). */
	uint8_t hdr[SPRY__WIRE_HEADER_MAX];
	/* Bytes of hdr read; the whole header while msg is not NULL. */
	size_t hdr_got;
	/* The message being filled, owned by the decoder; NULL: in header. */
	spry_msg *msg;
	/* msg's body, where the payload goes; NULL while msg is NULL. */
	uint8_t *body;
	/* Payload bytes still wanted for msg. */
	size_t left;
	/* 0, or the sticky error code of a bad stream. */
	int err;
	/* Where messages come from (NULL: the allocator); the caller's,
	   set after init, used on the decoding thread. */
	struct spry__msg_pool *pool;
} spry__wire_dec;

/*
 * spry__wire_dec_init readies d, which the caller owns, to decode ipc or
 * tcp frames whose payload is at most maxrecv bytes (0: no limit other
 * than SPRY__WIRE_LEN_MAX). With no limit a peer can make the
 * decoder allocate whatever its length word says, so transports should
 * set one (NNG's default is 1 MiB). Never fails.
 */
void spry__wire_dec_init(spry__wire_dec *d, bool ipc, size_t maxrecv);

/*
 * spry__wire_dec_fini frees the partial frame d holds, if any. d may be
 * initialised again afterwards. Never fails.
 */
void spry__wire_dec_fini(spry__wire_dec *d);

/*
 * spry__wire_dec_reset drops any partial frame and any sticky error,
 * keeping the mode and the limit: d then expects a frame header, as for
 * a new stream. Never fails.
 */
void spry__wire_dec_reset(spry__wire_dec *d);

/*
 * spry__wire_dec_idle says whether d holds no partial frame, so that the
 * end of the stream here is clean (false: the peer stopped mid-frame, or
 * d has a sticky error).
 */
bool spry__wire_dec_idle(const spry__wire_dec *d);

/*
 * spry__wire_dec_feed decodes from the len bytes at buf until one frame
 * is complete or the bytes run out, and stores in *used how many it took
 * (all of them unless a frame completed first). A complete frame's
 * payload is handed out in *out as the body of a new message with an
 * empty header, which the caller owns; otherwise *out is NULL. Call
 * again with the rest (buf + *used) to get the next frame. Returns 0, or
 * a sticky error, with *out NULL: SPRY_EMSGSIZE (a length over maxrecv
 * or over SPRY__WIRE_LEN_MAX, found before allocating anything),
 * SPRY_EPROTO (an ipc type byte other than 0x01), SPRY_ENOMEM (no memory
 * for the message), SPRY_EINVAL (d, used or out NULL, or buf NULL with
 * len > 0; not sticky). After an error *used counts the bytes taken up to
 * the end of the bad header (a bad ipc type byte takes with it the rest
 * of the header that was in buf).
 */
int spry__wire_dec_feed(spry__wire_dec *d, const void *buf, size_t len,
    size_t *used, spry_msg **out);

/*
 * spry__wire_dec_want stores in *where the place for the next bytes of
 * the stream and in *n how many d wants there: the rest of the frame
 * header (inside d), or the rest of the payload (inside the message
 * body, at least 1 byte). The place is lent until the next call on d;
 * the caller writes up to *n bytes there, in order, and reports them
 * with spry__wire_dec_filled. Returns 0, the sticky error, or
 * SPRY_EINVAL (an argument NULL).
 */
int spry__wire_dec_want(spry__wire_dec *d, void **where, size_t *n);

/*
 * spry__wire_dec_filled tells d that n bytes were written at the place
 * spry__wire_dec_want gave, and decodes them: a complete frame is handed
 * out in *out as by spry__wire_dec_feed, else *out is NULL. n = 0 is
 * fine. Errors as spry__wire_dec_feed; SPRY_EINVAL also when n is more
 * than was wanted (nothing is taken).
 */
int spry__wire_dec_filled(spry__wire_dec *d, size_t n, spry_msg **out);

#endif /* SPRY_TRANSPORTS_WIRE_H */
