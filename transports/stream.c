/* SPDX-License-Identifier: MIT */
/*
 * transports/stream.c: the connections of the byte stream transports
 * (tcp.c and ipc.c supply the address family's part; stream_ep.c the
 * listeners and dialers that make connections).
 *
 * A connection lives on the poller thread (transports/poll.h): a dialer's
 * waits there for its connect to complete; then both ends send the SP
 * hello and read the peer's, under a deadline (SPRY_OPT_HSTIMEO) so that
 * a peer that never speaks cannot hold a connection for ever; then the
 * connection becomes a pipe of the socket. Receiving is mostly the poller
 * thread's: it reads into a 64 KiB buffer (or, for a large payload,
 * straight into the message body), decodes the frames the bytes hold
 * and hands them to the socket RX_BATCH at a time, under one socket lock
 * (a read of a stream holds hundreds). Small messages come from the
 * connection's pool (sp/proto.h): the receiving thread frees them back
 * to it, sharing no allocator lock with the poller, which at 64 B per
 * message was the poller's largest cost. When the socket has no room it
 * pauses the pipe during a hand-over; the poller then stops, keeping
 * what it decoded and read, and the resume posts the connection back to
 * the poller, which goes on from there. The kernel's buffers then fill
 * and the sender's writes stop: backpressure end to end. A thread blocked
 * waiting for a reply reads its connection itself instead of the poller
 * (spry__stream_rx_own, below); whoever reads holds rxlk, and so owns
 * the decoder, the buffers and the pool meanwhile.
 *
 * Sending runs on the sender's thread (the socket's txlk serializes a
 * socket's sends, so one thread at a time adds to a connection). A
 * lone frame (a request, a reply, anything sent a while after the last
 * send) goes out at once with one sendmsg, as does a large one when
 * nothing waits before it. The frames of a stream (a send within TX_GAP
 * of the last, nothing received by the socket in between) wait behind
 * to share a write: small ones copied into a per-connection ring, so
 * their messages are freed at once, large ones queued. What waits is
 * written, in one sendmsg per turn, by whoever comes first: the writer
 * already at it (it goes on until nothing waits), the sender once
 * TX_BATCH bytes wait, or the poller, to which the first frame behind
 * posts a flush, so the last frame of a burst waits for a thread hop,
 * never for a timer. What the socket buffer cannot take waits for
 * POLL_OUT; TX_MAX queued messages mark the pipe full until it drains.
 * Closing writes what waits first, as far as the socket takes it.
 *
 * Locks: a connection's wlk is held by whoever writes to its socket
 * (writes stay in order; conn_close takes it, so no write reads what it
 * frees or a descriptor it let go); its qlk, a spinlock never held
 * across a write, guards what waits. wlk comes before qlk, or is only
 * tried. Both are taken with the sender's txlk held or none, never with
 * a socket lk held; the lists of connections still in their handshake
 * are guarded by the owning socket's lk, taken with nothing of ours
 * held. The poller calls into the socket core with none of our locks
 * held, except that a write that frees room tells the pipe (qlk held,
 * so that the full and ready marks keep their order).
 *
 * About 1350 lines: one connection's life, kept in one file so that its
 * state stays private to it (the send side is a third of it).
 */
#include "transports/stream.h"
#include "mailbox/alloc.h"
#include "mailbox/atomic.h"
#include "mailbox/lock.h"
#include "sp/proto.h"
#include "spry/error.h"
#include "transports/wire.h"

#include <errno.h>
#include <pthread.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <unistd.h>

#define container_of(p, T, f) ((T *)((char *)(p)-offsetof(T, f)))

#define RBUF_SIZE 65536u /* a receiving connection's buffer */
#define RX_BUDGET 16     /* reads per turn, then the others' */
#define RX_BATCH 64      /* decoded messages handed over at once */
#define TX_MAX 16        /* queued messages that fill a pipe */
#define TX_GATHER 16     /* messages per sendmsg when flushing */

#define TX_RING 65536u       /* copies of small frames (a power of 2) */
#define TX_COPY 4096u        /* larger frames are queued, not copied */
#define TX_BATCH 16384u      /* bytes waiting that the sender writes */
#define TX_BUDGET 16         /* the poller's writes per turn */
#define TX_GAP SPRY_USEC(20) /* sends closer than this: a stream */
#define TX_CLOCK 8           /* sends behind others per clock read */
#define HELLO SPRY__WIRE_HELLO_SIZE

/* Work posted to a connection. */
#define OP_START 1u /* register, begin the handshake */
#define OP_RX 2u    /* receive again (resumed, or more to read) */
#define OP_CLOSE 4u /* retire it: the last post it gets */
#define OP_FLUSH 8u /* write what waits behind */

/* A connection's phases (poller thread). */
enum { CONN_CONNECTING, CONN_HELLO, CONN_OPEN };

/* A message queued for sending, and how much of its frame went out. */
typedef struct stream_txq {
	struct stream_txq *next;  /* in the queue (conn qlk) */
	spry_msg          *m;     /* owned */
	size_t             off;   /* frame bytes written (conn qlk) */
	size_t             total; /* frame bytes: header and payload */
	size_t             hlen;  /* bytes in hdr */
	uint8_t            hdr[SPRY__WIRE_HEADER_MAX]; /* the frame header */
} stream_txq;

typedef spry__stream_conn stream_conn;
typedef spry__stream_ep   stream_ep;

/* One connection. */
struct spry__stream_conn {
	spry__poll_item         item; /* its socket; fd fixed */
	const spry__stream_ops *ops;  /* fixed */
	spry__ep               *ep;   /* held until freed; fixed */
	spry__pipe   *pipe;      /* set before the pipe starts, then fixed */
	stream_conn  *pnext;     /* in the endpoint's pending list (lk) */
	stream_conn **pprev;     /* (lk) */
	bool          pending;   /* linked there (lk) */
	uint32_t      refs;      /* poller, pending list, pipe (atomic) */
	uint32_t      closed;    /* 1 once closing (atomic; set under qlk) */
	uint32_t      rx_paused; /* socket full (atomic; set under lk) */
	int           err;       /* why it closed (qlk) */
	bool          dialer;    /* fixed */
	/*
	 * rxlk: a spinlock, only ever tried, held by whoever runs conn_rx:
	 * the poller, or a thread blocked receiving on the pipe's socket
	 * that reads the connection itself (spry__stream_rx_own). An event
	 * that finds it held sets rx_again, which the holder acts on before
	 * it lets go. The receive fields below (dec, rbuf, rpos, rlen, rxm,
	 * rxmpos, rxmlen, and pool, whose owner is the holder) are the
	 * holder's; before the pipe exists, the poller's alone.
	 */
	uint32_t rxlk;
	uint32_t rx_again; /* a run of conn_rx is owed (atomic) */
	/* The poller thread's alone: */
	uint8_t         state;    /* CONN_* */
	bool            added;    /* registered with the poller */
	bool            reported; /* dialer: the attempt's result told */
	spry_duration   hstimeo;  /* handshake deadline, from the socket */
	size_t          rcvmaxsz; /* largest payload, from the socket */
	uint8_t         hello_out[HELLO]; /* ours */
	uint8_t         hello_in[HELLO];  /* the peer's */
	size_t          hello_sent;       /* bytes of hello_out written */
	size_t          hello_got;        /* bytes of hello_in read */
	spry__wire_dec  dec;              /* the frame decoder */
	uint8_t        *rbuf; /* read buffer, once the peer sends messages */
	size_t          rpos; /* next byte of rbuf to decode */
	size_t          rlen; /* bytes in rbuf */
	spry_msg       *rxm[RX_BATCH]; /* decoded, not yet handed over */
	size_t          rxmpos;        /* next of rxm to hand over */
	size_t          rxmlen;        /* messages in rxm */
	spry__msg_pool *pool;          /* received messages' blocks, or NULL */
	/*
	 * The send side. What waits is the ring's bytes, then txq's.
	 * txowed: a write will come without another send (a flush is
	 * posted, a writer is at it, or POLL_OUT will come); while it
	 * holds, frames put behind post nothing.
	 */
	pthread_mutex_t wlk;      /* held while writing to the socket */
	uint32_t        qlk;      /* spinlock: what waits, closed, err */
	uint8_t        *cbuf;     /* TX_RING bytes, or NULL (qlk) */
	size_t          chead;    /* ring bytes written, free running (qlk) */
	size_t          ctail;    /* ring bytes put in, free running (qlk) */
	stream_txq     *txq;      /* queued messages, oldest first (qlk) */
	stream_txq    **txtail;   /* (qlk) */
	size_t          txlen;    /* messages in txq (qlk) */
	size_t          txbytes;  /* bytes waiting, ring and txq (qlk) */
	bool            txfull;   /* the pipe is marked full (qlk) */
	bool            txowed;   /* see above (qlk) */
	bool            txstall;  /* the last write found it full (qlk) */
	bool            txdirect; /* a direct write runs (qlk) */
	bool            txpolled; /* POLL_OUT came during it (qlk) */
	spry_time       txlast;   /* when the last send came (qlk) */
	uint64_t        txrx;     /* the socket's received count then (qlk) */
	uint32_t        txunread; /* sends since txlast was read (qlk) */
};

static void conn_close(stream_conn *c, int err);
static void conn_rx(stream_conn *c);
static void conn_rx_run(stream_conn *c);
static int  tx_write(stream_conn *c, stream_txq **done, bool *again);

/* ---- connection lifetime ------------------------------------------------ */

static void conn_io_cb(spry__poll_item *it, unsigned ev);
static void conn_post_cb(spry__poll_item *it, unsigned ops);
static void conn_timer_cb(spry__poll_item *it);

static stream_conn *
conn_new(spry__ep *ep, const spry__stream_ops *ops, int fd, bool dialer)
{
	stream_conn *c = spry__alloc(sizeof(*c));

	if (c == NULL) {
		return NULL;
	}
	c->item.fd       = fd;
	c->item.io_cb    = conn_io_cb;
	c->item.post_cb  = conn_post_cb;
	c->item.timer_cb = conn_timer_cb;
	c->ops           = ops;
	c->ep            = ep;
	c->refs          = 1; /* the poller's */
	c->dialer        = dialer;
	c->state         = dialer ? CONN_CONNECTING : CONN_HELLO;
	c->txtail        = &c->txq;
	spry__wire_hello(c->hello_out, (uint16_t)spry_socket_proto(ep->s));
	pthread_mutex_init(&c->wlk, NULL);
	spry__ep_hold(ep);
	spry__stream_live_add(1);
	return c;
}

static void
conn_unref(stream_conn *c)
{
	if (spry__faa(&c->refs, (uint32_t)-1) != 1) {
		return;
	}
	pthread_mutex_destroy(&c->wlk);
	spry__free(c->cbuf, TX_RING);
	spry__ep_release(c->ep);
	spry__free(c, sizeof(*c));
	spry__stream_live_add(-1);
}

/*
 * Post ops to c. A queued post holds a reference, given back when its
 * post_cb has run, so c outlives a post that comes late (a resume after
 * the retire, say). The caller holds a reference of its own.
 */
static void
conn_post(stream_conn *c, unsigned ops)
{
	spry__faa(&c->refs, 1);
	if (!spry__poll_post(&c->item, ops)) {
		conn_unref(c); /* merged into a post that holds one */
	}
}

/*
 * Put c on its endpoint's pending list, so that closing the endpoint
 * closes it, and take the socket's settings (poller thread). False when
 * the endpoint or its socket is closing.
 */
static bool
conn_pend(stream_conn *c)
{
	spry__ep    *ep = c->ep;
	spry_socket *s  = ep->s;
	stream_ep   *se = ep->tdata;
	bool         ok;

	spry__sock_lock(s);
	ok = !ep->closed && !spry__sock_closed(s);
	if (ok) {
		if ((c->pnext = se->pending) != NULL) {
			c->pnext->pprev = &c->pnext;
		}
		c->pprev    = &se->pending;
		se->pending = c;
		c->pending  = true;
		c->hstimeo  = s->hstimeo;
		c->rcvmaxsz = s->rcvmaxsz;
		spry__faa(&c->refs, 1); /* the list's */
	}
	spry__sock_unlock(s);
	return ok;
}

/*
 * Take c off the pending list (poller thread). False when the endpoint
 * took it first: it is closing c, and c must not become a pipe.
 */
static bool
conn_unpend(stream_conn *c)
{
	spry_socket *s = c->ep->s;
	bool         was;

	spry__sock_lock(s);
	if ((was = c->pending)) {
		if ((*c->pprev = c->pnext) != NULL) {
			c->pnext->pprev = c->pprev;
		}
		c->pending = false;
	}
	spry__sock_unlock(s);
	if (was) {
		conn_unref(c); /* the list's; the poller still holds one */
	}
	return was;
}

/* A dialer's attempt ends: tell the dialer, once (poller thread). */
static void
conn_report(stream_conn *c, int err)
{
	if (c->dialer && !c->reported) {
		c->reported = true;
		spry__ep_dialed(c->ep, err);
	}
}

static void
txq_free_all(stream_txq *q)
{
	while (q != NULL) {
		stream_txq *next = q->next;

		spry_msg_free(q->m);
		spry__free(q, sizeof(*q));
		q = next;
	}
}

/*
 * Close c (any thread, no socket lock; idempotent): no more sends, the
 * socket forgets the pipe, and the poller retires it. What waits to be
 * written goes first, as far as the socket buffer takes it: a frame
 * waits behind only to share a write, and would otherwise have gone at
 * once. What the socket cannot take now is dropped.
 */
static void
conn_close(stream_conn *c, int err)
{
	stream_txq *q, *done = NULL;
	bool        more;

	pthread_mutex_lock(&c->wlk); /* no write runs; none starts after */
	/* Nothing if closed already; a bounded number of writes, so that a
	   sender on another thread cannot hold the close. */
	(void)tx_write(c, &done, &more);
	txq_free_all(done);
	spry__spin_lock(&c->qlk);
	if (spry__load_relaxed(&c->closed)) {
		spry__spin_unlock(&c->qlk);
		pthread_mutex_unlock(&c->wlk);
		return;
	}
	spry__store_rel(&c->closed, 1);
	c->err     = err;
	q          = c->txq;
	c->txq     = NULL;
	c->txtail  = &c->txq;
	c->txlen   = 0;
	c->txbytes = 0;
	c->chead   = c->ctail;
	spry__spin_unlock(&c->qlk);
	pthread_mutex_unlock(&c->wlk);
	txq_free_all(q);
	(void)shutdown(c->item.fd, SHUT_RDWR); /* the peer hears at once */
	if (c->pipe != NULL) {
		spry__pipe_closed(c->pipe);
	}
	conn_post(c, OP_CLOSE);
}

/* The last post of c (poller thread): let go of everything. */
static void
conn_retire(stream_conn *c)
{
	spry__poll_timer(&c->item, 0);
	if (c->added) {
		spry__poll_del(&c->item);
	}
	/* A receiver reading c itself lets go soon: closing shut c down. */
	spry__spin_lock(&c->rxlk);
	(void)close(c->item.fd);
	spry__wire_dec_fini(&c->dec);
	spry__free(c->rbuf, RBUF_SIZE);
	c->rbuf = NULL;
	while (c->rxmpos < c->rxmlen) {
		spry_msg_free(c->rxm[c->rxmpos++]);
	}
	spry__msg_pool_close(c->pool); /* freed with its last message */
	c->pool = NULL;
	spry__spin_unlock(&c->rxlk);
	(void)conn_unpend(c);
	conn_report(c, c->err != 0 ? c->err : SPRY_ECLOSED);
	if (c->pipe != NULL) {
		spry__pipe_release(c->pipe); /* the transport's reference */
	}
	conn_unref(c); /* the poller's */
}

/* ---- handshake (poller thread) ------------------------------------------ */

/* Whether the dialer closed while c's pipe was starting. */
static bool
conn_dialer_gone(stream_conn *c)
{
	bool gone;

	spry__sock_lock(c->ep->s);
	gone = c->ep->closed;
	spry__sock_unlock(c->ep->s);
	return gone;
}

/* Both hellos are through: check the peer's and become a pipe. */
static void
conn_hs_done(stream_conn *c)
{
	spry__pipe *p;
	uint16_t    peer;
	int         rv;

	spry__poll_timer(&c->item, 0);
	if ((rv = spry__wire_hello_check(c->hello_in, &peer)) != 0) {
		conn_close(c, rv);
		return;
	}
	if (!conn_unpend(c)) {
		return; /* the endpoint is closing c */
	}
	if ((rv = spry__pipe_new(&p, c->ep->s, c->ep, c->ep->tran, c)) != 0) {
		conn_close(c, rv);
		return;
	}
	spry__faa(&c->refs, 1); /* the pipe's, given back by the free op */
	c->ops->peer(c->ep, c->item.fd, p->addr, sizeof(p->addr));
	c->ops->local(c->ep, c->item.fd, p->laddr, sizeof(p->laddr));
	spry__wire_dec_init(&c->dec, c->ops->ipc, c->rcvmaxsz);
	c->dec.pool = c->pool = spry__msg_pool_new(); /* NULL: malloc */
	c->pipe               = p;
	c->state              = CONN_OPEN;
	if ((rv = spry__pipe_start(p, peer)) != 0) {
		conn_report(c, rv);
		conn_close(c, rv);
		return;
	}
	conn_report(c, 0);
	if (c->dialer && conn_dialer_gone(c)) {
		conn_close(c, SPRY_ECLOSED); /* ep_close missed this pipe */
		return;
	}
	conn_rx_run(c); /* frames may have come with the hello */
}

/* Write our hello and read the peer's, as far as the socket lets us. */
static void
conn_hello(stream_conn *c)
{
	ssize_t n;

	while (c->hello_sent < HELLO) {
		n = send(c->item.fd, c->hello_out + c->hello_sent,
		    HELLO - c->hello_sent, MSG_NOSIGNAL);
		if (n < 0 && errno == EINTR) {
			continue;
		}
		if (n < 0) {
			if (errno != EAGAIN && errno != EWOULDBLOCK) {
				conn_close(c, spry__stream_errno(errno));
				return;
			}
			break;
		}
		c->hello_sent += (size_t)n;
	}
	while (c->hello_got < HELLO) {
		n = read(c->item.fd, c->hello_in + c->hello_got,
		    HELLO - c->hello_got);
		if (n < 0 && errno == EINTR) {
			continue;
		}
		if (n <= 0) {
			if (n == 0 ||
			    (errno != EAGAIN && errno != EWOULDBLOCK)) {
				conn_close(c,
				    n == 0 ? SPRY_ECONNRESET :
				             spry__stream_errno(errno));
			}
			return;
		}
		c->hello_got += (size_t)n;
	}
	if (c->hello_sent == HELLO) {
		conn_hs_done(c);
	}
}

/* A dialer's connect completed, or failed. */
static void
conn_connected(stream_conn *c)
{
	socklen_t len = sizeof(int);
	int       e   = 0;

	if (getsockopt(c->item.fd, SOL_SOCKET, SO_ERROR, &e, &len) != 0) {
		e = errno;
	}
	if (e != 0) {
		conn_close(c, spry__stream_errno(e));
		return;
	}
	c->ops->tune(c->item.fd);
	c->state = CONN_HELLO;
	conn_hello(c);
}

/* Register a new connection and start its handshake clock. */
static void
conn_begin(stream_conn *c)
{
	int rv;

	if (!conn_pend(c)) {
		conn_close(c, SPRY_ECLOSED);
		return;
	}
	if ((rv = spry__poll_add(&c->item)) != 0) {
		conn_close(c, rv);
		return;
	}
	c->added = true;
	spry__poll_timer(&c->item, spry_deadline_after(c->hstimeo));
	if (c->state == CONN_HELLO) {
		conn_hello(c);
	}
}

/* ---- receiving (poller thread) ----------------------------------------- */

static bool
conn_can_rx(stream_conn *c)
{
	return !spry__load_acq(&c->rx_paused) && !spry__load_acq(&c->closed);
}

/* The stream cannot be split into frames any more: close. */
static void
conn_bad_frame(stream_conn *c, int rv)
{
	if (rv == SPRY_EMSGSIZE) {
		spry__sock_count(&c->ep->s->st_oversize, 1);
	}
	conn_close(c, rv);
}

/*
 * Hand what is decoded to the socket, all under one socket lock; whether
 * all went (false: paused or closed, the rest kept for the resume).
 */
static bool
conn_hand(stream_conn *c)
{
	size_t taken;

	if (!conn_can_rx(c)) {
		return false;
	}
	if (c->rxmpos == c->rxmlen) {
		return true;
	}
	if (spry__pipe_deliver_n(c->pipe, c->rxm + c->rxmpos,
	        c->rxmlen - c->rxmpos, &taken) != 0) {
		c->rxmpos = c->rxmlen = 0; /* all taken */
		conn_close(c, SPRY_ECLOSED);
		return false;
	}
	if ((c->rxmpos += taken) < c->rxmlen) {
		return false; /* paused, or the pipe is going */
	}
	c->rxmpos = c->rxmlen = 0;
	return true;
}

/*
 * Keep m for the next hand-over. A peer that sends messages gets a read
 * buffer now; one that never does (the far side of a PUSH) never costs
 * one.
 */
static void
conn_keep(stream_conn *c, spry_msg *m)
{
	if (c->rbuf == NULL) {
		c->rbuf = spry__alloc(RBUF_SIZE); /* NULL: read direct */
	}
	c->rxm[c->rxmlen++] = m;
}

/*
 * Decode the frames in the read buffer, handing them over a batch at a
 * time (one socket lock, not one per message); whether to read more.
 */
static bool
conn_rx_buffered(stream_conn *c)
{
	while (conn_hand(c) && c->rpos < c->rlen) {
		while (c->rpos < c->rlen && c->rxmlen < RX_BATCH) {
			spry_msg *m;
			size_t    used;
			int       rv;

			rv = spry__wire_dec_feed(&c->dec, c->rbuf + c->rpos,
			    c->rlen - c->rpos, &used, &m);
			c->rpos += used;
			if (rv != 0) {
				conn_bad_frame(c, rv);
				return false;
			}
			if (m != NULL) {
				conn_keep(c, m);
			}
		}
	}
	if (c->rxmpos < c->rxmlen || !conn_can_rx(c)) {
		return false; /* keep the rest for the resume */
	}
	c->rpos = c->rlen = 0;
	return true;
}

/* One read: into the buffer, or straight into a large body. */
static bool
conn_read(stream_conn *c)
{
	spry_msg *m = NULL;
	void     *where;
	size_t    n;
	ssize_t   r;
	bool      direct;
	int       rv;

	if ((rv = spry__wire_dec_want(&c->dec, &where, &n)) != 0) {
		conn_bad_frame(c, rv);
		return false;
	}
	direct = c->rbuf == NULL || n >= RBUF_SIZE;
	do {
		r = direct ? read(c->item.fd, where, n) :
		             read(c->item.fd, c->rbuf, RBUF_SIZE);
	} while (r < 0 && errno == EINTR);
	if (r <= 0) {
		if (r == 0 || (errno != EAGAIN && errno != EWOULDBLOCK)) {
			conn_close(c,
			    r == 0 ? SPRY_ECONNRESET :
			             spry__stream_errno(errno));
		}
		return false;
	}
	if (!direct) {
		c->rlen = (size_t)r;
		return true;
	}
	if ((rv = spry__wire_dec_filled(&c->dec, (size_t)r, &m)) != 0) {
		conn_bad_frame(c, rv);
		return false;
	}
	if (m != NULL) {
		conn_keep(c, m);
		return conn_hand(c);
	}
	return true;
}

/*
 * Read and deliver until the socket is drained (edge-triggered: the
 * next event comes only with new bytes), the socket pauses us, or the
 * budget is spent (then the rest waits for a turn after the others).
 */
static void
conn_rx(stream_conn *c)
{
	for (int n = 0; conn_rx_buffered(c); n++) {
		if (n == RX_BUDGET) {
			conn_post(c, OP_RX);
			return;
		}
		if (!conn_read(c)) {
			return;
		}
	}
}

/*
 * Run conn_rx (any thread), or, if another thread is at it, leave it a
 * note: it runs conn_rx again before it lets go. The note is set before
 * the try and read after the unlock, so one of the two sees the other.
 */
static void
conn_rx_again(stream_conn *c)
{
	while (spry__load_acq(&c->rx_again) && spry__spin_trylock(&c->rxlk)) {
		spry__xchg(&c->rx_again, 0);
		if (!spry__load_acq(&c->closed)) {
			conn_rx(c);
		}
		spry__spin_unlock(&c->rxlk);
	}
}

static void
conn_rx_run(stream_conn *c)
{
	spry__xchg(&c->rx_again, 1);
	conn_rx_again(c);
}

/* ---- sending ------------------------------------------------------------ */

static void
txq_init(stream_txq *q, stream_conn *c, spry_msg *m)
{
	size_t len = spry_msg_header_len(m) + spry_msg_len(m);

	q->next  = NULL;
	q->m     = m;
	q->off   = 0;
	q->hlen  = spry__wire_frame_header(q->hdr, c->ops->ipc, len);
	q->total = q->hlen + len;
}

/* The unsent part of q's frame as iovecs (at most 3); their count. */
static int
txq_iov(const stream_txq *q, struct iovec *iov)
{
	const void *part[3] = {
	    q->hdr, spry__msg_header_peek(q->m), spry__msg_body_peek(q->m)};
	size_t len[3] = {
	    q->hlen, spry_msg_header_len(q->m), spry_msg_len(q->m)};
	size_t off = q->off;
	int    n   = 0;

	for (int i = 0; i < 3; i++) {
		if (off >= len[i]) {
			off -= len[i];
			continue;
		}
		iov[n].iov_base = (char *)part[i] + off;
		iov[n].iov_len  = len[i] - off;
		off             = 0;
		n++;
	}
	return n;
}

/* Copy len bytes to the tail of the copy ring (qlk; the room is there). */
static void
cbuf_put(stream_conn *c, const void *src, size_t len)
{
	size_t at = c->ctail & (TX_RING - 1);
	size_t n  = len < TX_RING - at ? len : TX_RING - at;

	memcpy(c->cbuf + at, src, n);
	memcpy(c->cbuf, (const char *)src + n, len - n);
	c->ctail += len;
}

/* The ring's unsent bytes as iovecs (at most 2; qlk); their count. */
static int
cbuf_iov(const stream_conn *c, struct iovec *iov, size_t *bytes)
{
	size_t at   = c->chead & (TX_RING - 1);
	size_t used = c->ctail - c->chead;
	size_t n    = used < TX_RING - at ? used : TX_RING - at;

	*bytes = used;
	if (used == 0) {
		return 0;
	}
	iov[0].iov_base = c->cbuf + at;
	iov[0].iov_len  = n;
	iov[1].iov_base = c->cbuf;
	iov[1].iov_len  = used - n;
	return used > n ? 2 : 1;
}

/*
 * Copy q's frame into the ring, behind what waits there (qlk): true
 * when it fits and nothing is queued (a copy must not pass a queued
 * message). The message can then be freed.
 */
static bool
cbuf_take(stream_conn *c, const stream_txq *q)
{
	if (q->total > TX_COPY || c->txq != NULL) {
		return false;
	}
	if (c->cbuf == NULL && (c->cbuf = spry__alloc(TX_RING)) == NULL) {
		return false; /* queue it instead */
	}
	if (TX_RING - (c->ctail - c->chead) < q->total) {
		return false;
	}
	cbuf_put(c, q->hdr, q->hlen);
	cbuf_put(c, spry__msg_header_peek(q->m), spry_msg_header_len(q->m));
	cbuf_put(c, spry__msg_body_peek(q->m), spry_msg_len(q->m));
	c->txbytes += q->total;
	return true;
}

/* sendmsg without SIGPIPE; bytes written, or -1 with errno. */
static ssize_t
tx_sendv(int fd, struct iovec *iov, int n)
{
	struct msghdr mh = {.msg_iov = iov, .msg_iovlen = (size_t)n};
	ssize_t       w;

	do {
		w = sendmsg(fd, &mh, MSG_NOSIGNAL | MSG_DONTWAIT);
	} while (w < 0 && errno == EINTR);
	return w;
}

/*
 * w bytes went out (qlk): first the ring's (ring bytes of them at
 * most), then the queue's; finished messages move to *done.
 */
static void
tx_advance(stream_conn *c, size_t w, size_t ring, stream_txq **done)
{
	ring = w < ring ? w : ring;
	c->chead += ring;
	c->txbytes -= w;
	w -= ring;
	while (w > 0) {
		stream_txq *q    = c->txq;
		size_t      left = q->total - q->off;

		if (w < left) {
			q->off += w;
			return;
		}
		w -= left;
		if ((c->txq = q->next) == NULL) {
			c->txtail = &c->txq;
		}
		c->txlen--;
		q->next = *done;
		*done   = q;
	}
}

/* The queue shrank (qlk): below TX_MAX the pipe takes messages again. */
static void
tx_unblock(stream_conn *c)
{
	if (c->txfull && c->txlen < TX_MAX) {
		c->txfull = false;
		spry__pipe_tx_ready(c->pipe);
	}
}

/* What waits, ring first, as iovecs for one sendmsg (qlk); their count. */
static int
tx_gather(const stream_conn *c, struct iovec *iov, size_t *ring)
{
	int n = cbuf_iov(c, iov, ring), k = 0;

	for (stream_txq *q = c->txq; q != NULL && k < TX_GATHER;
	     q             = q->next, k++) {
		n += txq_iov(q, iov + n);
	}
	return n;
}

/*
 * Write what waits until all of it went or the socket is full (wlk
 * held, qlk not). The writes run without qlk, so the sender keeps
 * queueing behind them; wlk keeps them in order and keeps conn_close
 * from freeing what they read. Finished messages go to *done. With
 * again (the poller's, the close's), at most TX_BUDGET writes, so that
 * a sender that keeps up cannot hold them: *again says more waits, and
 * txowed stays. Returns 0 or the error that ends the connection.
 */
static int
tx_write(stream_conn *c, stream_txq **done, bool *again)
{
	struct iovec iov[2 + TX_GATHER * 3];
	size_t       ring;
	ssize_t      w;
	int          n, rv = 0;

	spry__spin_lock(&c->qlk);
	for (unsigned k = 0; !spry__load_relaxed(&c->closed); k++) {
		if ((n = tx_gather(c, iov, &ring)) == 0) {
			c->txowed = false; /* the next queued frame posts */
			break;
		}
		if (again != NULL && k == TX_BUDGET) {
			*again = true; /* txowed stays: the caller posts */
			break;
		}
		spry__spin_unlock(&c->qlk);
		w = tx_sendv(c->item.fd, iov, n);
		spry__spin_lock(&c->qlk);
		if (w < 0) {
			if (errno != EAGAIN && errno != EWOULDBLOCK) {
				rv = spry__stream_errno(errno);
			}
			c->txowed  = true; /* POLL_OUT comes when it drains */
			c->txstall = true;
			break;
		}
		c->txstall = false;
		tx_advance(c, (size_t)w, ring, done);
		tx_unblock(c);
	}
	spry__spin_unlock(&c->qlk);
	return rv;
}

/*
 * POLL_OUT: the socket takes more. Whether anything waits for it; a
 * direct write running now is told instead (it queues what is left
 * only after this).
 */
static bool
tx_drained(stream_conn *c)
{
	bool any;

	spry__spin_lock(&c->qlk);
	c->txstall  = false;
	c->txpolled = c->txdirect;
	any         = c->txbytes != 0;
	spry__spin_unlock(&c->qlk);
	return any;
}

/*
 * Write what waits (poller thread). A posted flush (posted) leaves it
 * to a writer already running: every writer goes on until nothing
 * waits or the socket is full. POLL_OUT must not: the writer may have
 * seen the socket full just before this event said it drained; but
 * with nothing waiting (POLL_OUT comes with every input event) there
 * is nothing to wait for.
 */
static void
conn_flush(stream_conn *c, bool posted)
{
	stream_txq *done  = NULL;
	bool        again = false;
	int         rv;

	if (!posted) {
		if (!tx_drained(c)) {
			return;
		}
		pthread_mutex_lock(&c->wlk);
	} else if (pthread_mutex_trylock(&c->wlk) != 0) {
		return;
	}
	rv = tx_write(c, &done, &again);
	pthread_mutex_unlock(&c->wlk);
	txq_free_all(done);
	if (rv != 0) {
		conn_close(c, rv);
	} else if (again) {
		conn_post(c, OP_FLUSH); /* the rest after the others' turn */
	}
}

/*
 * Write q's frame now, nothing waiting before it (wlk held): true
 * when all of it went. Otherwise q->off says how much did, or *err
 * why none can.
 */
static bool
tx_now(stream_conn *c, stream_txq *q, int *err)
{
	struct iovec iov[3];
	ssize_t      w = tx_sendv(c->item.fd, iov, txq_iov(q, iov));

	if (w < 0) {
		if (errno != EAGAIN && errno != EWOULDBLOCK) {
			*err = spry__stream_errno(errno);
		}
		return false;
	}
	q->off = (size_t)w;
	return q->off == q->total;
}

/* Queue a copy of q (qlk); at TX_MAX the pipe is full. */
static int
tx_queue(stream_conn *c, const stream_txq *q)
{
	stream_txq *n = spry__alloc(sizeof(*n));

	if (n == NULL) {
		return SPRY_ENOMEM; /* the caller closes: a frame may be cut */
	}
	*n         = *q;
	*c->txtail = n;
	c->txtail  = &n->next;
	c->txbytes += q->total - q->off;
	if (++c->txlen >= TX_MAX && !c->txfull) {
		c->txfull = true;
		spry__pipe_tx_block(c->pipe);
	}
	return 0;
}

/*
 * Whether this send follows the last one closely, with nothing received
 * by the socket in between (qlk): a stream (PUSH, PUB), whose frames
 * may wait for a batch, rather than a request or a reply, which must
 * go at once. Records this send for the next.
 */
static bool
tx_streaming(stream_conn *c)
{
	uint64_t  rx   = spry__load_relaxed(&c->ep->s->st_received);
	bool      same = rx == c->txrx;
	spry_time now;

	c->txrx = rx;
	/*
	 * With frames waiting this one goes behind them anyway: the clock
	 * (a fifth of a small send's cost on some VMs) is read only every
	 * TX_CLOCK such sends. txlast then trails by a few sends, which
	 * can only make the next decision say "lone" (write at once).
	 */
	if (same && c->txbytes != 0 && ++c->txunread < TX_CLOCK) {
		return true;
	}
	now         = spry_now();
	c->txunread = 0;
	same        = same && now - c->txlast < TX_GAP;
	c->txlast   = now;
	return same;
}

/* What became of a message given to spry__stream_send. */
enum { TX_KEPT, TX_GONE, TX_QUEUED }; /* caller's; written or copied; ours */

/*
 * Whether q's frame can go now on this thread (qlk): the lone
 * message's way, with no hand-over. Not when something waits (it would
 * pass it), when the frame is part of a stream, or when a writer holds
 * the socket. Then wlk is this thread's, and txdirect says so.
 */
static bool
tx_alone(stream_conn *c, bool stream)
{
	if (c->txbytes != 0 || stream || pthread_mutex_trylock(&c->wlk) != 0) {
		return false;
	}
	c->txdirect = true;
	return true;
}

/*
 * Write q's frame (wlk held, from tx_alone). Only the sender adds to
 * what waits (the socket's txlk serializes sends), so nothing does
 * meanwhile. What the socket does not take is queued for POLL_OUT; but
 * a POLL_OUT that came during the write found nothing queued, and may
 * have been the last: then the caller posts a flush (the return).
 */
static bool
tx_direct(stream_conn *c, stream_txq *q, int *fate, int *rv)
{
	bool all = tx_now(c, q, rv), post = false;

	spry__spin_lock(&c->qlk);
	c->txdirect = false;
	c->txstall  = !all;
	if (all) {
		*fate     = TX_GONE;
		c->txowed = false; /* nothing waits: a stale flush may skip */
	} else if (*rv == 0 && (*rv = tx_queue(c, q)) == 0) {
		*fate     = TX_QUEUED;
		c->txowed = true;
		post      = c->txpolled;
	}
	c->txpolled = false;
	spry__spin_unlock(&c->qlk);
	pthread_mutex_unlock(&c->wlk);
	return post;
}

/*
 * Put q's frame behind what waits (qlk): a small one is copied into
 * the ring, a large one queued. Whether to post a flush: the poller
 * owes none yet.
 */
static bool
tx_behind(stream_conn *c, stream_txq *q, int *fate, int *rv)
{
	if (cbuf_take(c, q)) {
		*fate = TX_GONE;
	} else if ((*rv = tx_queue(c, q)) == 0) {
		*fate = TX_QUEUED;
	} else {
		return false;
	}
	if (c->txowed) {
		return false;
	}
	c->txowed = true;
	return true;
}

/* Enough waits for a write of its own: write it here unless one runs. */
static int
tx_batch(stream_conn *c)
{
	stream_txq *done = NULL;
	int         rv;

	if (pthread_mutex_trylock(&c->wlk) != 0) {
		return 0; /* the writer takes it along */
	}
	rv = tx_write(c, &done, NULL);
	pthread_mutex_unlock(&c->wlk);
	txq_free_all(done);
	return rv;
}

/*
 * A frame goes out at once when nothing waits and it is large or not
 * part of a stream; otherwise it waits behind, for the writer already
 * running, for this thread once TX_BATCH bytes wait (unless the socket
 * was full at the last write: then POLL_OUT has the poller write), or
 * for the poller, to which the first frame behind posts a flush (so the
 * last frame of a burst never waits for a timer).
 */
int
spry__stream_send(spry__pipe *p, spry_msg *m)
{
	stream_conn *c    = p->tdata;
	int          fate = TX_KEPT, rv = 0;
	bool         post = false, batch = false, direct = false, stream;
	stream_txq   q;

	txq_init(&q, c, m);
	spry__spin_lock(&c->qlk);
	if (spry__load_relaxed(&c->closed)) {
		rv = SPRY_ECLOSED;
	} else {
		stream = tx_streaming(c) && q.total <= TX_COPY;
		if (!(direct = tx_alone(c, stream))) {
			post  = tx_behind(c, &q, &fate, &rv);
			batch = c->txbytes >= TX_BATCH && !c->txstall;
		}
	}
	spry__spin_unlock(&c->qlk);
	if (direct) {
		post = tx_direct(c, &q, &fate, &rv);
	}
	if (fate == TX_GONE) {
		spry_msg_free(m);
	}
	if (post) {
		conn_post(c, OP_FLUSH);
	}
	if (rv == 0 && batch) {
		rv = tx_batch(c);
	}
	if (rv != 0) {
		conn_close(c, rv);
		return fate == TX_KEPT ? SPRY_ECLOSED : 0;
	}
	return 0;
}

/* ---- poller callbacks and pipe ops ------------------------------------- */

static void
conn_io_cb(spry__poll_item *it, unsigned ev)
{
	stream_conn *c = container_of(it, stream_conn, item);

	if (spry__load_acq(&c->closed)) {
		return; /* its retire is posted */
	}
	switch (c->state) {
	case CONN_CONNECTING:
		if (ev & (SPRY__POLL_OUT | SPRY__POLL_ERR)) {
			conn_connected(c);
		}
		break;
	case CONN_HELLO:
		conn_hello(c);
		break;
	default:
		if (ev & (SPRY__POLL_OUT | SPRY__POLL_ERR)) {
			conn_flush(c, false);
		}
		if (ev & (SPRY__POLL_IN | SPRY__POLL_ERR)) {
			conn_rx_run(c);
		}
		break;
	}
}

static void
conn_post_cb(spry__poll_item *it, unsigned ops)
{
	stream_conn *c = container_of(it, stream_conn, item);

	if ((ops & OP_START) && !spry__load_acq(&c->closed)) {
		conn_begin(c);
	}
	if ((ops & OP_RX) && !spry__load_acq(&c->closed) &&
	    c->state == CONN_OPEN) {
		conn_rx_run(c);
	}
	if ((ops & OP_FLUSH) && !spry__load_acq(&c->closed) &&
	    c->state == CONN_OPEN) {
		conn_flush(c, true);
	}
	if (ops & OP_CLOSE) {
		conn_retire(c);
	}
	conn_unref(c); /* the post's; may free c */
}

/*
 * The handshake (or connect) took longer than SPRY_OPT_HSTIMEO, as the
 * poller saw it. Under load the poller can be the late one: the peer's
 * hello may sit unread behind events still waiting their turn, while the
 * peer, which has ours, counts the connection as open and sends on it.
 * So a handshake waiting for the hello first reads what is there; only
 * one still not through is closed (closing that peer's connection would
 * lose what it sent).
 */
static void
conn_timer_cb(spry__poll_item *it)
{
	stream_conn *c = container_of(it, stream_conn, item);

	if (c->state == CONN_HELLO && !spry__load_acq(&c->closed)) {
		conn_hello(c);
	}
	if (c->state != CONN_OPEN) {
		conn_close(c, SPRY_ETIMEDOUT); /* a no-op if it closed */
	}
}

void
spry__stream_recv_pause(spry__pipe *p)
{
	stream_conn *c = p->tdata;

	spry__store_rel(&c->rx_paused, 1);
}

void
spry__stream_recv_resume(spry__pipe *p)
{
	stream_conn *c = p->tdata;

	/* The poller delivers, in order with what it reads next. */
	spry__store_rel(&c->rx_paused, 0);
	conn_post(c, OP_RX);
}

/*
 * A thread blocked receiving reads the connection itself (sp/consumer.c):
 * the kernel wakes it when bytes come, and it decodes and delivers them,
 * where otherwise the poller would wake, read, and wake it in turn. It
 * holds rxlk the while; the poller's events for c meanwhile only leave
 * notes. Closing shuts the descriptor down, which wakes the reader.
 */
bool
spry__stream_rx_own(spry__pipe *p, int *fd)
{
	stream_conn *c = p->tdata;

	if (!spry__spin_trylock(&c->rxlk)) {
		return false;
	}
	if (!conn_can_rx(c)) {
		spry__stream_rx_disown(p);
		return false;
	}
	*fd = c->item.fd; /* open until retired, which waits for rxlk */
	return true;
}

bool
spry__stream_rx_read(spry__pipe *p)
{
	stream_conn *c = p->tdata;

	spry__xchg(&c->rx_again, 0);
	if (conn_can_rx(c)) {
		conn_rx(c);
	}
	return conn_can_rx(c);
}

void
spry__stream_rx_disown(spry__pipe *p)
{
	stream_conn *c = p->tdata;

	spry__spin_unlock(&c->rxlk);
	conn_rx_again(c);
}

void
spry__stream_close(spry__pipe *p)
{
	conn_close(p->tdata, SPRY_ECLOSED);
}

void
spry__stream_free(spry__pipe *p)
{
	conn_unref(p->tdata);
}

/* ---- made by endpoints (transports/stream_ep.c) ------------------------ */

void
spry__stream_conn_accept(stream_ep *se, int fd)
{
	stream_conn *c;

	se->ops->tune(fd);
	if ((c = conn_new(se->ep, se->ops, fd, false)) == NULL) {
		(void)close(fd);
		return;
	}
	conn_begin(c);
}

int
spry__stream_conn_dial(stream_ep *se, int fd)
{
	stream_conn *c = conn_new(se->ep, se->ops, fd, true);

	if (c == NULL) {
		return SPRY_ENOMEM;
	}
	conn_post(c, OP_START); /* the poller registers it */
	return 0;
}

void
spry__stream_conns_close(stream_ep *se)
{
	spry_socket *s = se->ep->s;
	stream_conn *list, *c;

	spry__sock_lock(s);
	list        = se->pending;
	se->pending = NULL;
	for (c = list; c != NULL; c = c->pnext) {
		c->pending = false; /* their references are ours now */
	}
	spry__sock_unlock(s);
	while ((c = list) != NULL) {
		list = c->pnext;
		conn_close(c, SPRY_ECLOSED);
		conn_unref(c);
	}
}
