/* SPDX-License-Identifier: MIT */
/*
 * sp/msg.c: messages (spry/msg.h has the contract). Header and body are
 * the same internal type, a chunk: a window (offset, length) onto a
 * reference-counted buffer, so every operation is written once and the
 * public functions only pick the chunk. spry_msg_dup shares buffers. A
 * chunk writes bytes into its buffer in place only while it is the
 * buffer's sole holder and copies it first otherwise (copy on write);
 * trimming and chopping move the window and never copy. New buffers keep
 * room in front of the bytes so that prepending (a protocol pushing a
 * header word) rarely copies, as NNG's chunks do.
 *
 * The receive metadata (socket, pipe, peer, error) is only stored here;
 * the socket layer fills it in. Framing for the wire is the transports'.
 */
#include "spry/msg.h"

#include "mailbox/alloc.h"
#include "mailbox/atomic.h"
#include "sp/proto.h"
#include "spry/error.h"
#include "spry/mailbox.h"
#include "spry/socket.h"

#include <string.h>

/* Room kept in front of the bytes of every new buffer. */
#define MSG_HEADROOM 32

/*
 * The largest chunk length, and the largest growth asked for at once.
 * Small enough that a buffer's size (at most five times this, see
 * chunk_grow) never wraps around.
 */
#define MSG_SIZE_MAX (SIZE_MAX / 16)

/* Storage shared by the chunks of a message and of its copies. */
typedef struct msg_buf {
	uint32_t refs;   /* holders (atomic); 1: the holder may write */
	uint32_t inslot; /* 1: lives in a pool's slot (fixed) */
	size_t   cap;    /* bytes in data; fixed */
	uint8_t  data[]; /* the bytes; written only by a sole holder */
} msg_buf;

/* A header or a body: a window onto a buffer. Guarded by its holder. */
typedef struct msg_chunk {
	msg_buf *buf; /* storage, or NULL: none (the chunk is empty) */
	size_t   off; /* first byte of the window in buf->data */
	size_t   len; /* bytes in the window */
} msg_chunk;

/* A message; every field is guarded by its one holder. */
struct spry_msg {
	msg_chunk    header; /* the protocol's bytes */
	msg_chunk    body;   /* the application's bytes */
	spry_socket *socket; /* receiving socket (borrowed), or NULL */
	spry__peer  *peer;   /* peer address (held), or NULL: unknown */
	bool     peer_lent; /* peer is held by the message's pool, not by it */
	uint32_t pipe;      /* receiving pipe's id, or 0 */
	int      err;       /* the code of an error event, or 0 */
	spry_mailbox    *reply; /* held: where REQ/SURVEYOR answers go */
	struct msg_slot *slot;  /* the pool slot it lives in, or NULL; fixed */
};

/*
 * A pooled message: the message and its body's buffer in one block, from
 * a pool that one thread (a transport's poller) takes them from and any
 * thread gives them back to, so that a receiver freeing what the poller
 * allocated shares no allocator lock with it. The block goes back once
 * both the message and the buffer (which a dup may share) are let go.
 */
typedef struct msg_slot {
	struct msg_slot *next;  /* in the pool's free list or back stack */
	spry__msg_pool  *pool;  /* fixed */
	uint32_t         holds; /* the message, the buffer (atomic) */
	spry_msg         m;     /* the message */
	/* then the buffer: a msg_buf and SLOT_CAP bytes */
} msg_slot;

/* Bodies up to SLOT_BODY bytes come from a pool, with the headroom. */
#define SLOT_BODY 256
#define SLOT_CAP (MSG_HEADROOM + SLOT_BODY)
#define SLOT_SIZE (sizeof(msg_slot) + sizeof(msg_buf) + SLOT_CAP)
#define POOL_KEEP 1024 /* free slots a pool keeps; more go back */

/* The back stack of a closed pool: slots given back are freed. */
#define POOL_CLOSED ((msg_slot *)&chunk_none)

/*
 * A pool. back is pushed by any thread (compare-and-swap) and emptied
 * whole by the owner (an exchange), so no pop races a push (no ABA).
 */
struct spry__msg_pool {
	msg_slot *back;    /* slots given back (atomic); POOL_CLOSED */
	uint8_t   pad[56]; /* back's cache line is the givers' */
	msg_slot *free;    /* slots to hand out (owner) */
	size_t    nfree;   /* slots in free (owner) */
	uint32_t  refs;    /* the owner's, one per slot in being (atomic) */
	/* The peer address its messages borrow (set once, atomic): held
	   until the pool goes, after its last message. */
	spry__peer *peer;
};

/* Where a chunk without storage points: zero bytes, never written. */
static uint8_t chunk_none[1];

static inline size_t
msg_max(size_t a, size_t b)
{
	return a > b ? a : b;
}

/*
 * A new buffer's bytes are left as malloc gives them: a chunk reads only
 * inside its window, and every call that widens the window writes the
 * new bytes first (chunk_put copies them, chunk_extend zeroes them or
 * its caller fills them), so nothing unwritten is ever read.
 */
static msg_buf *
buf_alloc(size_t cap)
{
	msg_buf *b = spry__alloc_raw(sizeof(*b) + cap);

	if (b != NULL) {
		b->refs   = 1;
		b->inslot = 0;
		b->cap    = cap;
	}
	return b;
}

static void slot_release(msg_slot *sl);

/* The slot a pooled buffer lives in. */
static msg_slot *
buf_slot(msg_buf *b)
{
	return (msg_slot *)((char *)b - sizeof(msg_slot));
}

/* Give back one reference; the last one frees. NULL is fine. */
static void
buf_release(msg_buf *b)
{
	/* The sole holder frees without a locked instruction. */
	if (b != NULL &&
	    (spry__load_acq(&b->refs) == 1 || spry__fas(&b->refs, 1) == 1)) {
		if (b->inslot) {
			slot_release(buf_slot(b));
		} else {
			spry__free(b, sizeof(*b) + b->cap);
		}
	}
}

/*
 * Whether the caller is the buffer's only holder. The acquire pairs with
 * the release in other holders' buf_release, so their last reads of the
 * bytes happen before our writes. A count of 1 cannot grow behind our
 * back: only the holder of a message can dup it.
 */
static bool
buf_unique(msg_buf *b)
{
	return spry__load_acq(&b->refs) == 1;
}

/* The first byte of c, which must have storage. */
static uint8_t *
chunk_at(const msg_chunk *c)
{
	return c->buf->data + c->off;
}

/* The first byte of c, storage or not. */
static uint8_t *
chunk_ptr(const msg_chunk *c)
{
	return c->buf != NULL ? chunk_at(c) : chunk_none;
}

/* Whether front and back more bytes can be written in place. */
static bool
chunk_fits(const msg_chunk *c, size_t front, size_t back)
{
	if (c->buf == NULL || !buf_unique(c->buf)) {
		/* Writing nothing into nothing needs no storage of our own. */
		return c->len == 0 && front == 0 && back == 0;
	}
	return c->off >= front && c->buf->cap - c->off - c->len >= back;
}

/*
 * Give c a buffer of its own with room for front and back more bytes,
 * copying its bytes over unless that already holds. The buffer it let go
 * of comes back in *old, for the caller to release once done reading:
 * the bytes to add may point into it. The side that grows gets as much
 * again as the chunk holds, so runs of appends or prepends copy each byte
 * O(1) times; a changed buffer always has MSG_HEADROOM bytes in front.
 */
static int
chunk_grow(msg_chunk *c, size_t front, size_t back, msg_buf **old)
{
	size_t   head, tail;
	msg_buf *b;

	*old = NULL;
	if (chunk_fits(c, front, back)) {
		return 0;
	}
	if (c->len > MSG_SIZE_MAX || front > MSG_SIZE_MAX ||
	    back > MSG_SIZE_MAX) {
		return SPRY_ENOMEM;
	}
	head =
	    front + (front > 0 ? msg_max(c->len, MSG_HEADROOM) : MSG_HEADROOM);
	tail = back > 0 ? back + msg_max(c->len, MSG_HEADROOM) : 0;
	if ((b = buf_alloc(head + c->len + tail)) == NULL) {
		return SPRY_ENOMEM;
	}
	if (c->len > 0) {
		memcpy(b->data + head, chunk_at(c), c->len);
	}
	*old   = c->buf;
	c->buf = b;
	c->off = head;
	return 0;
}

/* Add n bytes from data at the front or the back of c. */
static int
chunk_put(msg_chunk *c, const void *data, size_t n, bool front)
{
	msg_buf *old;
	int      rv;

	if (n == 0 || data == NULL) {
		return n == 0 ? 0 : SPRY_EINVAL;
	}
	if ((rv = chunk_grow(c, front ? n : 0, front ? 0 : n, &old)) != 0) {
		return rv;
	}
	if (front) {
		c->off -= n;
	}
	memmove(chunk_at(c) + (front ? 0 : c->len), data, n);
	c->len += n;
	buf_release(old);
	return 0;
}

/* Remove n bytes from the front or the back of c, copying them to out. */
static int
chunk_take(msg_chunk *c, void *out, size_t n, bool front)
{
	if (n > c->len) {
		return SPRY_EINVAL;
	}
	if (n == 0) {
		return 0; /* c may have no storage to read */
	}
	if (out != NULL) {
		memcpy(out, chunk_at(c) + (front ? 0 : c->len - n), n);
	}
	if (front) {
		c->off += n;
	}
	c->len -= n;
	return 0;
}

static int
chunk_put_u32(msg_chunk *c, uint32_t v, bool front)
{
	uint8_t b[4] = {(uint8_t)(v >> 24), (uint8_t)(v >> 16),
	    (uint8_t)(v >> 8), (uint8_t)v};

	return chunk_put(c, b, sizeof(b), front);
}

static int
chunk_take_u32(msg_chunk *c, uint32_t *v, bool front)
{
	uint8_t b[4];
	int     rv;

	if (v == NULL) {
		return SPRY_EINVAL;
	}
	if ((rv = chunk_take(c, b, sizeof(b), front)) == 0) {
		*v = (uint32_t)b[0] << 24 | (uint32_t)b[1] << 16 |
		    (uint32_t)b[2] << 8 | (uint32_t)b[3];
	}
	return rv;
}

/*
 * Make c's length size: chop, or append bytes, zero ones when zero is
 * set and otherwise as they are, for a caller that overwrites them all
 * before anyone reads them.
 */
static int
chunk_extend(msg_chunk *c, size_t size, bool zero)
{
	msg_buf *old;
	size_t   more;
	int      rv;

	if (size <= c->len) {
		return chunk_take(c, NULL, c->len - size, false);
	}
	more = size - c->len;
	if ((rv = chunk_grow(c, 0, more, &old)) != 0) {
		return rv;
	}
	if (zero) {
		memset(chunk_at(c) + c->len, 0, more);
	}
	c->len = size;
	buf_release(old);
	return 0;
}

/* Empty c, keeping a buffer of its own for reuse. */
static void
chunk_clear(msg_chunk *c)
{
	c->len = 0;
	if (c->buf != NULL && buf_unique(c->buf)) {
		c->off = MSG_HEADROOM; /* every buffer has this much */
		return;
	}
	buf_release(c->buf);
	c->buf = NULL;
	c->off = 0;
}

/* c's bytes, made c's own so they can be written; NULL: no memory. */
static void *
chunk_data(msg_chunk *c)
{
	msg_buf *old;

	if (chunk_grow(c, 0, 0, &old) != 0) {
		return NULL;
	}
	buf_release(old);
	return chunk_ptr(c);
}

/* Take one more reference on c's buffer, for a copy of its message. */
static void
chunk_share(msg_chunk *c)
{
	if (c->buf != NULL) {
		spry__faa(&c->buf->refs, 1);
	}
}

/*
 * Peer addresses are shared, reference-counted strings: every message a
 * pipe receives points at the pipe's one copy, so receiving costs no
 * allocation for it, and a dup shares it too.
 */
struct spry__peer {
	uint32_t refs; /* holders (atomic) */
	uint32_t size; /* bytes allocated; fixed */
	char     s[];  /* the address, NUL-terminated; fixed */
};

spry__peer *
spry__peer_new(const char *s)
{
	size_t      n = strlen(s) + 1;
	spry__peer *p = spry__alloc(sizeof(*p) + n);

	if (p != NULL) {
		p->refs = 1;
		p->size = (uint32_t)(sizeof(*p) + n);
		memcpy(p->s, s, n);
	}
	return p;
}

void
spry__peer_hold(spry__peer *p)
{
	spry__faa(&p->refs, 1);
}

void
spry__peer_release(spry__peer *p)
{
	if (p != NULL &&
	    (spry__load_acq(&p->refs) == 1 ||
	        spry__faa(&p->refs, (uint32_t)-1) == 1)) {
		spry__free(p, p->size);
	}
}

static bool pool_lends(spry__msg_pool *pool, spry__peer *p);

/* Let go of m's peer address. */
static void
msg_peer_drop(spry_msg *m)
{
	if (!m->peer_lent) {
		spry__peer_release(m->peer);
	}
	m->peer      = NULL;
	m->peer_lent = false;
}

/*
 * A pooled message borrows its pool's reference when the pool holds p
 * (a connection's messages all come from one peer): no shared count to
 * raise on the receiving thread and lower on the freeing one.
 */
void
spry__msg_set_peer_ref(spry_msg *m, spry__peer *p)
{
	bool lent =
	    p != NULL && m->slot != NULL && pool_lends(m->slot->pool, p);

	if (p != NULL && !lent) {
		spry__peer_hold(p);
	}
	msg_peer_drop(m);
	m->peer      = p;
	m->peer_lent = lent;
}

/* A message with a body of size bytes, zeroed or not. */
static int
msg_make(spry_msg **out, size_t size, bool zero)
{
	spry_msg *m;
	int       rv;

	if (out == NULL) {
		return SPRY_EINVAL;
	}
	if ((m = spry__alloc(sizeof(*m))) == NULL) {
		return SPRY_ENOMEM;
	}
	if ((rv = chunk_extend(&m->body, size, zero)) != 0) {
		spry__free(m, sizeof(*m));
		return rv;
	}
	*out = m;
	return 0;
}

int
spry_msg_alloc(spry_msg **out, size_t size)
{
	return msg_make(out, size, true);
}

int
spry__msg_alloc_raw(spry_msg **out, size_t size)
{
	return msg_make(out, size, false);
}

/* ---- pools ---------------------------------------------------------- */

/* Drop one of p's references; the last frees it. */
static void
pool_unref(spry__msg_pool *p)
{
	if (spry__fas(&p->refs, 1) == 1) {
		spry__peer_release(p->peer);
		spry__free(p, sizeof(*p));
	}
}

/* Whether pool holds p for its messages; the first peer asked is held. */
static bool
pool_lends(spry__msg_pool *pool, spry__peer *p)
{
	spry__peer *cur = spry__load_acq(&pool->peer);

	if (cur == NULL) {
		spry__peer_hold(p);
		if (spry__cas(&pool->peer, &cur, p)) {
			return true;
		}
		spry__peer_release(p); /* another thread set one first */
	}
	return cur == p;
}

static void
slot_free(msg_slot *sl)
{
	spry__msg_pool *p = sl->pool;

	spry__free(sl, SLOT_SIZE);
	pool_unref(p);
}

/*
 * The message or the buffer of sl is let go (any thread); the second
 * gives sl back to its pool, or frees it once the pool is closed.
 */
static void
slot_release(msg_slot *sl)
{
	spry__msg_pool *p = sl->pool;
	msg_slot       *top;

	if (spry__load_acq(&sl->holds) != 1 && spry__fas(&sl->holds, 1) != 1) {
		return;
	}
	top = spry__load_relaxed(&p->back);
	do {
		if (top == POOL_CLOSED) {
			slot_free(sl);
			return;
		}
		sl->next = top;
	} while (!spry__cas(&p->back, &top, sl));
}

spry__msg_pool *
spry__msg_pool_new(void)
{
	spry__msg_pool *p = spry__alloc(sizeof(*p));

	if (p != NULL) {
		p->refs = 1;
	}
	return p;
}

/*
 * Take what was given back into the free list, keeping at most
 * POOL_KEEP slots (a burst's worth is not kept for the pool's life).
 */
static void
pool_refill(spry__msg_pool *p)
{
	msg_slot *sl = spry__xchg(&p->back, NULL), *next;

	for (; sl != NULL; sl = next) {
		next = sl->next;
		if (p->nfree >= POOL_KEEP) {
			slot_free(sl);
			continue;
		}
		sl->next = p->free;
		p->free  = sl;
		p->nfree++;
	}
}

int
spry__msg_pool_alloc(spry__msg_pool *p, spry_msg **out, size_t size)
{
	msg_slot *sl;
	msg_buf  *b;

	if (size > SLOT_BODY) {
		return spry__msg_alloc_raw(out, size);
	}
	if (p->free == NULL) {
		pool_refill(p);
	}
	if ((sl = p->free) != NULL) {
		p->free = sl->next;
		p->nfree--;
	} else if ((sl = spry__alloc_raw(SLOT_SIZE)) != NULL) {
		sl->pool = p;
		spry__faa(&p->refs, 1);
	} else {
		return SPRY_ENOMEM;
	}
	sl->holds = 2;
	memset(&sl->m, 0, sizeof(sl->m));
	b          = (msg_buf *)(sl + 1);
	b->refs    = 1;
	b->inslot  = 1;
	b->cap     = SLOT_CAP;
	sl->m.slot = sl;
	sl->m.body = (msg_chunk){b, MSG_HEADROOM, size};
	*out       = &sl->m;
	return 0;
}

void
spry__msg_pool_close(spry__msg_pool *p)
{
	msg_slot *sl, *next;

	if (p == NULL) {
		return;
	}
	for (sl = spry__xchg(&p->back, POOL_CLOSED); sl != NULL; sl = next) {
		next = sl->next;
		slot_free(sl);
	}
	for (sl = p->free; sl != NULL; sl = next) {
		next = sl->next;
		slot_free(sl);
	}
	p->free = NULL;
	pool_unref(p); /* the owner's */
}

void
spry_msg_free(spry_msg *m)
{
	if (m == NULL) {
		return;
	}
	buf_release(m->header.buf);
	buf_release(m->body.buf);
	msg_peer_drop(m);
	if (m->reply != NULL) {
		spry_mailbox_release(m->reply);
	}
	if (m->slot != NULL) {
		slot_release(m->slot);
	} else {
		spry__free(m, sizeof(*m));
	}
}

int
spry_msg_dup(spry_msg **out, const spry_msg *m)
{
	spry_msg *d;

	if (out == NULL || m == NULL) {
		return SPRY_EINVAL;
	}
	if ((d = spry__alloc(sizeof(*d))) == NULL) {
		return SPRY_ENOMEM;
	}
	*d           = *m;
	d->reply     = NULL;  /* a request's identity is not copied */
	d->slot      = NULL;  /* d is a block of its own */
	d->peer_lent = false; /* d holds its own, below */
	if (m->peer != NULL) {
		spry__peer_hold(m->peer);
	}
	chunk_share(&d->header);
	chunk_share(&d->body);
	*out = d;
	return 0;
}

void *
spry_msg_body(spry_msg *m)
{
	return chunk_data(&m->body);
}

size_t
spry_msg_len(const spry_msg *m)
{
	return m->body.len;
}

int
spry_msg_append(spry_msg *m, const void *data, size_t n)
{
	return m != NULL ? chunk_put(&m->body, data, n, false) : SPRY_EINVAL;
}

int
spry_msg_prepend(spry_msg *m, const void *data, size_t n)
{
	return m != NULL ? chunk_put(&m->body, data, n, true) : SPRY_EINVAL;
}

int
spry_msg_insert(spry_msg *m, const void *data, size_t n)
{
	return spry_msg_prepend(m, data, n);
}

int
spry_msg_trim(spry_msg *m, size_t n)
{
	return m != NULL ? chunk_take(&m->body, NULL, n, true) : SPRY_EINVAL;
}

int
spry_msg_chop(spry_msg *m, size_t n)
{
	return m != NULL ? chunk_take(&m->body, NULL, n, false) : SPRY_EINVAL;
}

void
spry_msg_clear(spry_msg *m)
{
	chunk_clear(&m->body);
}

int
spry_msg_realloc(spry_msg *m, size_t size)
{
	return m != NULL ? chunk_extend(&m->body, size, true) : SPRY_EINVAL;
}

int
spry_msg_append_u32(spry_msg *m, uint32_t v)
{
	return m != NULL ? chunk_put_u32(&m->body, v, false) : SPRY_EINVAL;
}

int
spry_msg_prepend_u32(spry_msg *m, uint32_t v)
{
	return m != NULL ? chunk_put_u32(&m->body, v, true) : SPRY_EINVAL;
}

int
spry_msg_trim_u32(spry_msg *m, uint32_t *v)
{
	return m != NULL ? chunk_take_u32(&m->body, v, true) : SPRY_EINVAL;
}

int
spry_msg_chop_u32(spry_msg *m, uint32_t *v)
{
	return m != NULL ? chunk_take_u32(&m->body, v, false) : SPRY_EINVAL;
}

void *
spry_msg_header(spry_msg *m)
{
	return chunk_data(&m->header);
}

size_t
spry_msg_header_len(const spry_msg *m)
{
	return m->header.len;
}

const void *
spry__msg_body_peek(const spry_msg *m)
{
	return chunk_ptr(&m->body);
}

const void *
spry__msg_header_peek(const spry_msg *m)
{
	return chunk_ptr(&m->header);
}

int
spry_msg_header_append(spry_msg *m, const void *data, size_t n)
{
	return m != NULL ? chunk_put(&m->header, data, n, false) : SPRY_EINVAL;
}

int
spry_msg_header_prepend(spry_msg *m, const void *data, size_t n)
{
	return m != NULL ? chunk_put(&m->header, data, n, true) : SPRY_EINVAL;
}

int
spry_msg_header_insert(spry_msg *m, const void *data, size_t n)
{
	return spry_msg_header_prepend(m, data, n);
}

int
spry_msg_header_trim(spry_msg *m, size_t n)
{
	return m != NULL ? chunk_take(&m->header, NULL, n, true) : SPRY_EINVAL;
}

int
spry_msg_header_chop(spry_msg *m, size_t n)
{
	return m != NULL ? chunk_take(&m->header, NULL, n, false) :
	                   SPRY_EINVAL;
}

void
spry_msg_header_clear(spry_msg *m)
{
	chunk_clear(&m->header);
}

int
spry_msg_header_append_u32(spry_msg *m, uint32_t v)
{
	return m != NULL ? chunk_put_u32(&m->header, v, false) : SPRY_EINVAL;
}

int
spry_msg_header_prepend_u32(spry_msg *m, uint32_t v)
{
	return m != NULL ? chunk_put_u32(&m->header, v, true) : SPRY_EINVAL;
}

int
spry_msg_header_trim_u32(spry_msg *m, uint32_t *v)
{
	return m != NULL ? chunk_take_u32(&m->header, v, true) : SPRY_EINVAL;
}

int
spry_msg_header_chop_u32(spry_msg *m, uint32_t *v)
{
	return m != NULL ? chunk_take_u32(&m->header, v, false) : SPRY_EINVAL;
}

int
spry_msg_err(const spry_msg *m)
{
	return m->err;
}

void
spry_msg_set_err(spry_msg *m, int err)
{
	m->err = err;
}

spry_socket *
spry_msg_socket(const spry_msg *m)
{
	return m->socket;
}

void
spry_msg_set_socket(spry_msg *m, spry_socket *socket)
{
	m->socket = socket;
}

uint32_t
spry_msg_pipe(const spry_msg *m)
{
	return m->pipe;
}

void
spry_msg_set_pipe(spry_msg *m, uint32_t pipe)
{
	m->pipe = pipe;
}

const char *
spry_msg_peer(const spry_msg *m)
{
	return m->peer != NULL ? m->peer->s : "";
}

int
spry_msg_set_peer(spry_msg *m, const char *addr)
{
	spry__peer *p = NULL;

	if (m == NULL) {
		return SPRY_EINVAL;
	}
	if (addr != NULL && addr[0] != '\0' &&
	    (p = spry__peer_new(addr)) == NULL) {
		return SPRY_ENOMEM;
	}
	msg_peer_drop(m);
	m->peer = p;
	return 0;
}

int
spry_msg_set_reply(spry_msg *m, spry_mailbox *mb)
{
	if (m == NULL) {
		return SPRY_EINVAL;
	}
	if (mb != NULL) {
		spry_mailbox_hold(mb);
	}
	if (m->reply != NULL) {
		spry_mailbox_release(m->reply);
	}
	m->reply = mb;
	return 0;
}

spry_mailbox *
spry_msg_reply(const spry_msg *m)
{
	return m->reply;
}
