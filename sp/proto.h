/* SPDX-License-Identifier: MIT */
/*
 * sp/proto.h: helpers the protocols share: picking pipes, backtraces,
 * and the ops tables' names for the registry in sp/proto.c.
 */
#ifndef SPRY_SP_PROTO_H
#define SPRY_SP_PROTO_H

#include "sp/socket.h"

/* Private data of a protocol: the socket's and a pipe's. */
#define SPRY__PDATA(s, T) ((T *)(s)->pdata)

/*
 * spry__pick_rr returns the ready pipe after *cursor in s->pipes
 * (wrapping; the first one when *cursor is NULL) and moves the cursor
 * to it, or NULL when no pipe is ready (lk).
 */
spry__pipe *spry__pick_rr(spry_socket *s, spry__pipe **cursor);

/* spry__rr_forget moves a cursor off p, which is leaving (lk). */
void spry__rr_forget(spry__pipe **cursor, spry__pipe *p);

/*
 * spry__emit_all adds every pipe of s but `skip` (may be NULL) to e; a
 * pipe that is full is skipped and the message it misses counted as
 * dropped (best-effort fan-out). Sets e->msg = m. 0 or SPRY_ENOMEM (m
 * untouched then).
 */
int spry__emit_all(spry_socket *s, spry_msg *m, spry__emit *e, uint32_t skip);

/*
 * spry__bt_take moves a backtrace from the body of m to its header: the
 * words up to and including the first with the high bit set (the
 * request id). SPRY_EPROTO when the body ends first; SPRY_ELIMIT
 * (returned as SPRY__RX_DROP) when there are more than maxttl hops.
 */
int spry__bt_take(spry_msg *m, int maxttl);

/*
 * spry__msg_body_peek / spry__msg_header_peek: read-only views of the
 * bytes of m (spry_msg_len / spry_msg_header_len of them), lent until m
 * changes. Unlike spry_msg_body they never copy a shared buffer, so a
 * protocol can look at a fanned-out message (SUB filtering, raw BUS
 * reading its pipe id) without allocating.
 */
const void *spry__msg_body_peek(const spry_msg *m);
const void *spry__msg_header_peek(const spry_msg *m);

/*
 * spry__msg_alloc_raw is spry_msg_alloc with the body's bytes left
 * unwritten: for a caller that fills every one of them before the message
 * is read or handed on (the wire decoder, whose read() overwrites them).
 */
int spry__msg_alloc_raw(spry_msg **out, size_t size);

/*
 * A message pool, for a thread that allocates many small messages which
 * other threads free (a transport's poller): a message and its body come
 * from the pool in one block, and freeing gives the block back with one
 * compare-and-swap, sharing no allocator lock with the pool's thread.
 * spry__msg_pool_new: NULL on no memory. spry__msg_pool_alloc (the
 * owner only: one thread at a time, a lock handing it over) is
 * spry__msg_alloc_raw, pooled for small bodies.
 * spry__msg_pool_close (the owner, once): the pool is freed when its last
 * message is; messages from it stay good.
 */
typedef struct spry__msg_pool spry__msg_pool;
spry__msg_pool               *spry__msg_pool_new(void);
int  spry__msg_pool_alloc(spry__msg_pool *p, spry_msg **out, size_t size);
void spry__msg_pool_close(spry__msg_pool *p);

/* Protocols, cooked and raw (sp/proto_*.c). */
extern const spry__proto spry__pair0, spry__pair0_raw;
extern const spry__proto spry__pair1, spry__pair1_raw;
extern const spry__proto spry__pub0, spry__pub0_raw;
extern const spry__proto spry__sub0, spry__sub0_raw;
extern const spry__proto spry__req0, spry__req0_raw;
extern const spry__proto spry__rep0, spry__rep0_raw;
extern const spry__proto spry__push0, spry__push0_raw;
extern const spry__proto spry__pull0, spry__pull0_raw;
extern const spry__proto spry__surveyor0, spry__surveyor0_raw;
extern const spry__proto spry__respondent0, spry__respondent0_raw;
extern const spry__proto spry__bus0, spry__bus0_raw;

#endif /* SPRY_SP_PROTO_H */
