/* SPDX-License-Identifier: MIT */
/*
 * spry/msg.h: messages, what the Scalability Protocols sockets carry. A
 * message is a header (bytes the protocol adds: REQ/REP backtraces,
 * survey ids, hop counts) and a body (the application's bytes), the way
 * nng_msg is, plus the metadata of a receive event: the receiving
 * socket, the pipe it came from, the peer's address and, for error
 * events, an error code (the seed's AsyncMessage: Data, Addr, Header,
 * Err). Multi-byte helpers use big-endian (network) order, as the wire
 * does.
 *
 * Ownership: a message has exactly one holder, who frees it with
 * spry_msg_free or hands it on. Functions that send a message (the
 * socket layer's spry_send and spry_send_ctx, and messages sent through
 * mailboxes) take it over on success only: after a successful send the
 * caller must not touch it; after a failed send the caller still owns it
 * and may retry or free it. Functions that receive give the caller a
 * message it owns.
 *
 * Sharing: spry_msg_dup does not copy the bytes. The copy shares them
 * (reference counted), so fanning one message out to many pipes (PUB,
 * BUS, SURVEYOR) costs no copies. Every call that writes bytes into a
 * shared header or body copies it first (copy on write), so no holder
 * ever sees another holder's changes. Trimming and chopping only move
 * the message's own view of its bytes and never copy.
 *
 * Errors: functions that return int return 0 or SPRY_EINVAL (a NULL
 * message or out pointer, NULL data with a length, more bytes asked for
 * than there are) or SPRY_ENOMEM (out of memory, or a size past what a
 * message can hold). A call that fails changes nothing.
 *
 * Thread safety: a message is not locked; its holder uses it from one
 * thread at a time. Functions taking `const spry_msg *` only read and
 * may run on one message from several threads at once, as long as none
 * runs a function that takes `spry_msg *`. Copies made by spry_msg_dup
 * are independent messages: their holders may use and free them from
 * any threads, in any order, at the same time.
 */
#ifndef SPRY_MSG_H
#define SPRY_MSG_H

#include "spry/defs.h"

typedef struct spry_msg    spry_msg;
typedef struct spry_socket spry_socket;

/*
 * spry_msg_alloc creates a message whose body is `size` zero bytes and
 * whose header is empty; the caller owns it. The body has room in front,
 * so prepending a few words does not copy it. Errors: SPRY_EINVAL (out
 * NULL), SPRY_ENOMEM.
 */
SPRY_API int spry_msg_alloc(spry_msg **out, size_t size);

/*
 * spry_msg_free frees m, which the caller owns; bytes it shares with
 * copies stay with them. NULL is fine.
 */
SPRY_API void spry_msg_free(spry_msg *m);

/*
 * spry_msg_dup gives the caller a new message equal to m: same header,
 * body and metadata (the peer address string is shared, and never
 * changes in place; a reply mailbox set
 * with spry_msg_set_reply is not, see spry/socket.h). Header and body bytes
 * are shared, not copied, until either message writes to them. Errors:
 * SPRY_EINVAL (out or m NULL), SPRY_ENOMEM.
 */
SPRY_API int spry_msg_dup(spry_msg **out, const spry_msg *m);

/*
 * spry_msg_body returns the body's first byte, writable for
 * spry_msg_len(m) bytes and lent until the next call that changes m's
 * body or frees m. If the body is shared with a copy, it is copied first
 * so that writing through the pointer is safe; that copy is the only way
 * this returns NULL (out of memory; m is unchanged). A message fresh
 * from spry_msg_alloc, or after a call that wrote to its body, is never
 * shared. An empty body gives a valid pointer to no bytes.
 */
SPRY_API void *spry_msg_body(spry_msg *m);

/* spry_msg_len returns the body's length in bytes. */
SPRY_API size_t spry_msg_len(const spry_msg *m);

/*
 * spry_msg_append adds n bytes from data at the end of the body. data
 * may point into m itself. Costs O(n) amortized: the body's storage
 * grows geometrically, so existing bytes are rarely copied.
 * Errors: SPRY_EINVAL (m NULL, or data NULL with n > 0), SPRY_ENOMEM.
 */
SPRY_API int spry_msg_append(spry_msg *m, const void *data, size_t n);

/*
 * spry_msg_prepend adds n bytes from data in front of the body. Costs
 * O(n) amortized, like append: the body keeps free room in front (32
 * bytes at least) and grows it when a prepend does not fit. Errors as
 * spry_msg_append.
 */
SPRY_API int spry_msg_prepend(spry_msg *m, const void *data, size_t n);

/* spry_msg_insert is spry_msg_prepend under NNG's name (nng_msg_insert). */
SPRY_API int spry_msg_insert(spry_msg *m, const void *data, size_t n);

/*
 * spry_msg_trim removes n bytes from the front of the body, O(1), never
 * copying. Errors: SPRY_EINVAL (m NULL, n over the length; nothing is
 * removed).
 */
SPRY_API int spry_msg_trim(spry_msg *m, size_t n);

/*
 * spry_msg_chop removes n bytes from the end of the body, O(1), never
 * copying. Errors as spry_msg_trim.
 */
SPRY_API int spry_msg_chop(spry_msg *m, size_t n);

/*
 * spry_msg_clear empties the body and keeps its storage for reuse (a
 * shared body is let go instead). Never fails; m must not be NULL.
 */
SPRY_API void spry_msg_clear(spry_msg *m);

/*
 * spry_msg_realloc makes the body `size` bytes long: shrinking drops
 * bytes from the end (as spry_msg_chop), growing adds zero bytes at the
 * end. Errors: SPRY_EINVAL (m NULL), SPRY_ENOMEM.
 */
SPRY_API int spry_msg_realloc(spry_msg *m, size_t size);

/*
 * spry_msg_append_u32 adds v at the end of the body as four big-endian
 * bytes. Errors as spry_msg_append.
 */
SPRY_API int spry_msg_append_u32(spry_msg *m, uint32_t v);

/*
 * spry_msg_prepend_u32 adds v in front of the body as four big-endian
 * bytes (NNG's nng_msg_insert_u32). Errors as spry_msg_append.
 */
SPRY_API int spry_msg_prepend_u32(spry_msg *m, uint32_t v);

/*
 * spry_msg_trim_u32 removes the body's first four bytes and stores them,
 * read big-endian, in *v. Errors: SPRY_EINVAL (m or v NULL, body shorter
 * than four bytes; nothing is removed and *v is untouched).
 */
SPRY_API int spry_msg_trim_u32(spry_msg *m, uint32_t *v);

/*
 * spry_msg_chop_u32 removes the body's last four bytes and stores them,
 * read big-endian, in *v. Errors as spry_msg_trim_u32.
 */
SPRY_API int spry_msg_chop_u32(spry_msg *m, uint32_t *v);

/*
 * spry_msg_header returns the header's first byte, with the rules of
 * spry_msg_body: writable for spry_msg_header_len(m) bytes, lent until
 * the header changes or m is freed, NULL only when copying a shared
 * header runs out of memory.
 */
SPRY_API void *spry_msg_header(spry_msg *m);

/* spry_msg_header_len returns the header's length in bytes. */
SPRY_API size_t spry_msg_header_len(const spry_msg *m);

/* spry_msg_header_append is spry_msg_append for the header. */
SPRY_API int spry_msg_header_append(spry_msg *m, const void *data, size_t n);

/* spry_msg_header_prepend is spry_msg_prepend for the header. */
SPRY_API int spry_msg_header_prepend(spry_msg *m, const void *data, size_t n);

/* spry_msg_header_insert is spry_msg_header_prepend under NNG's name. */
SPRY_API int spry_msg_header_insert(spry_msg *m, const void *data, size_t n);

/* spry_msg_header_trim is spry_msg_trim for the header. */
SPRY_API int spry_msg_header_trim(spry_msg *m, size_t n);

/* spry_msg_header_chop is spry_msg_chop for the header. */
SPRY_API int spry_msg_header_chop(spry_msg *m, size_t n);

/* spry_msg_header_clear is spry_msg_clear for the header. */
SPRY_API void spry_msg_header_clear(spry_msg *m);

/* spry_msg_header_append_u32 is spry_msg_append_u32 for the header. */
SPRY_API int spry_msg_header_append_u32(spry_msg *m, uint32_t v);

/* spry_msg_header_prepend_u32 is spry_msg_prepend_u32 for the header. */
SPRY_API int spry_msg_header_prepend_u32(spry_msg *m, uint32_t v);

/* spry_msg_header_trim_u32 is spry_msg_trim_u32 for the header. */
SPRY_API int spry_msg_header_trim_u32(spry_msg *m, uint32_t *v);

/* spry_msg_header_chop_u32 is spry_msg_chop_u32 for the header. */
SPRY_API int spry_msg_header_chop_u32(spry_msg *m, uint32_t *v);

/*
 * spry_msg_err returns the error code of an error event (a positive
 * SPRY_E* code, e.g. SPRY_ECLOSED when the socket closed), or 0 for a
 * message that carries data. 0 in a new message.
 */
SPRY_API int spry_msg_err(const spry_msg *m);

/*
 * spry_msg_set_err sets the error code; set by the socket layer when it
 * delivers an error event. Never fails; m must not be NULL.
 */
SPRY_API void spry_msg_set_err(spry_msg *m, int err);

/*
 * spry_msg_socket returns the socket the message was received on
 * (borrowed: spry never holds a reference for the message), or NULL for
 * a message that was not received.
 */
SPRY_API spry_socket *spry_msg_socket(const spry_msg *m);

/*
 * spry_msg_set_socket records the receiving socket; set by the socket
 * layer on receive. Never fails; m must not be NULL.
 */
SPRY_API void spry_msg_set_socket(spry_msg *m, spry_socket *socket);

/*
 * spry_msg_pipe returns the id of the pipe (connection) the message came
 * in on, or 0 for a message that was not received.
 */
SPRY_API uint32_t spry_msg_pipe(const spry_msg *m);

/*
 * spry_msg_set_pipe records the pipe id; set by the socket layer on
 * receive. A protocol may read it on send to pick a pipe or to skip one,
 * as NNG's PAIR1 (polyamorous) and raw BUS do. Never fails; m must not
 * be NULL.
 */
SPRY_API void spry_msg_set_pipe(spry_msg *m, uint32_t pipe);

/*
 * spry_msg_peer returns the address of the peer that sent the message,
 * as a URL (e.g. "tcp://192.0.2.1:5555"), or "" when unknown. The string
 * belongs to m: valid until the peer is set again or m is freed. Never
 * NULL.
 */
SPRY_API const char *spry_msg_peer(const spry_msg *m);

/*
 * spry_msg_set_peer stores a copy of addr as the peer address; set by
 * the socket layer on receive. NULL or "" forgets it. Errors:
 * SPRY_EINVAL (m NULL), SPRY_ENOMEM (the old address is kept).
 */
SPRY_API int spry_msg_set_peer(spry_msg *m, const char *addr);

#endif /* SPRY_MSG_H */
