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
 * connection becomes a pipe of the socket. Receiving stays on the poller
 * thread: it reads into a 64 KiB buffer (or, for a large payload,
 * straight into the message body), decodes every frame the bytes hold
 * and hands each message to the socket at once. When the socket has no
 * room it pauses the pipe during that hand-over; the poller then stops,
 * keeping what it read, and the resume posts the connection back to the
 * poller, which goes on from the buffer. The kernel's buffers then fill
 * and the sender's writes stop: backpressure end to end.
 *
 * Sending runs on the sender's thread: a frame goes out with one
 * sendmsg when nothing is queued before it; what the socket buffer
 * cannot take waits in a per-connection queue that the poller flushes
 * when the descriptor becomes writable, several messages per call. A
 * queue of TX_MAX messages marks the pipe full until it drains.
 *
 * Locks: a connection's mtx guards its send side and is taken with the
 * sender's txlk held, never with a socket lk held; the lists of
 * connections still in their handshake are guarded by the owning
 * socket's lk, taken with nothing of ours held. The poller calls into
 * the socket core with none of our locks held.
 *
 * A little over 800 lines: one connection's life, kept in one file so
 * that its state stays private to it.
 */
#include "transports/stream.h"
#include "mailbox/alloc.h"
#include "mailbox/atomic.h"
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
#define TX_MAX 16        /* queued messages that fill a pipe */
#define TX_GATHER 16     /* messages per sendmsg when flushing */
#define HELLO SPRY__WIRE_HELLO_SIZE

/* Work posted to a connection. */
#define OP_START 1u /* register, begin the handshake */
#define OP_RX 2u    /* receive again (resumed, or more to read) */
#define OP_CLOSE 4u /* retire it: the last post it gets */

/* A connection's phases (poller thread). */
enum { CONN_CONNECTING, CONN_HELLO, CONN_OPEN };

/* A message queued for sending, and how much of its frame went out. */
typedef struct stream_txq {
	struct stream_txq *next;  /* in the queue (conn mtx) */
	spry_msg          *m;     /* owned */
	size_t             off;   /* frame bytes written (conn mtx) */
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
	uint32_t      closed;    /* 1 once closing (atomic; set under mtx) */
	uint32_t      rx_paused; /* socket full (atomic; set under lk) */
	int           err;       /* why it closed (mtx) */
	bool          dialer;    /* fixed */
	/* The poller thread's alone: */
	uint8_t        state;    /* CONN_* */
	bool           added;    /* registered with the poller */
	bool           reported; /* dialer: the attempt's result told */
	spry_duration  hstimeo;  /* handshake deadline, from the socket */
	size_t         rcvmaxsz; /* largest payload, from the socket */
	uint8_t        hello_out[HELLO]; /* ours */
	uint8_t        hello_in[HELLO];  /* the peer's */
	size_t         hello_sent;       /* bytes of hello_out written */
	size_t         hello_got;        /* bytes of hello_in read */
	spry__wire_dec dec;              /* the frame decoder */
	uint8_t       *rbuf; /* read buffer, once the peer sends messages */
	size_t         rpos; /* next byte of rbuf to decode */
	size_t         rlen; /* bytes in rbuf */
	/* The send side: */
	pthread_mutex_t mtx;    /* guards the queue and closed */
	stream_txq     *txq;    /* unsent messages, oldest first (mtx) */
	stream_txq    **txtail; /* (mtx) */
	size_t          txlen;  /* messages in txq (mtx) */
	bool            txfull; /* the pipe is marked full (mtx) */
};

static void conn_close(stream_conn *c, int err);
static void conn_rx(stream_conn *c);

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
	pthread_mutex_init(&c->mtx, NULL);
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
	pthread_mutex_destroy(&c->mtx);
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
 * socket forgets the pipe, and the poller retires it.
 */
static void
conn_close(stream_conn *c, int err)
{
	stream_txq *q;

	pthread_mutex_lock(&c->mtx);
	if (spry__load_relaxed(&c->closed)) {
		pthread_mutex_unlock(&c->mtx);
		return;
	}
	spry__store_rel(&c->closed, 1);
	c->err    = err;
	q         = c->txq;
	c->txq    = NULL;
	c->txtail = &c->txq;
	c->txlen  = 0;
	pthread_mutex_unlock(&c->mtx);
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
	(void)close(c->item.fd);
	spry__wire_dec_fini(&c->dec);
	spry__free(c->rbuf, RBUF_SIZE);
	c->rbuf = NULL;
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
	c->pipe  = p;
	c->state = CONN_OPEN;
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
	conn_rx(c); /* frames may have come with the hello */
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
 * Hand m to the socket. A peer that sends messages gets a read buffer
 * now; one that never does (the far side of a PUSH) never costs one.
 */
static void
conn_deliver(stream_conn *c, spry_msg *m)
{
	if (c->rbuf == NULL) {
		c->rbuf = spry__alloc(RBUF_SIZE); /* NULL: read direct */
	}
	if (spry__pipe_deliver(c->pipe, m) != 0) {
		conn_close(c, SPRY_ECLOSED);
	}
}

/* Deliver the frames in the read buffer; whether to read more. */
static bool
conn_rx_buffered(stream_conn *c)
{
	while (c->rpos < c->rlen) {
		spry_msg *m;
		size_t    used;
		int       rv;

		if (!conn_can_rx(c)) {
			return false; /* keep the rest for the resume */
		}
		rv = spry__wire_dec_feed(
		    &c->dec, c->rbuf + c->rpos, c->rlen - c->rpos, &used, &m);
		c->rpos += used;
		if (rv != 0) {
			conn_bad_frame(c, rv);
			return false;
		}
		if (m != NULL) {
			conn_deliver(c, m);
		}
	}
	c->rpos = c->rlen = 0;
	return conn_can_rx(c);
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
		conn_deliver(c, m);
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

/* w bytes of the queue went out: finished messages move to *done. */
static void
tx_advance(stream_conn *c, size_t w, stream_txq **done)
{
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

/* Write the queue until it is empty or the socket is full (mtx). */
static int
tx_flush_locked(stream_conn *c, stream_txq **done)
{
	struct iovec iov[TX_GATHER * 3];
	ssize_t      w;
	int          n, k;

	for (;;) {
		n = k = 0;
		for (stream_txq *q = c->txq; q != NULL && k < TX_GATHER;
		     q             = q->next, k++) {
			n += txq_iov(q, iov + n);
		}
		if (n == 0) {
			return 0;
		}
		if ((w = tx_sendv(c->item.fd, iov, n)) < 0) {
			return errno == EAGAIN || errno == EWOULDBLOCK ?
			    0 :
			    spry__stream_errno(errno);
		}
		tx_advance(c, (size_t)w, done);
	}
}

/* The socket can take more (poller thread): flush the queue. */
static void
conn_flush(stream_conn *c)
{
	stream_txq *done = NULL;
	int         rv   = 0;

	pthread_mutex_lock(&c->mtx);
	if (!spry__load_relaxed(&c->closed)) {
		rv = tx_flush_locked(c, &done);
		if (c->txfull && c->txlen < TX_MAX) {
			c->txfull = false;
			spry__pipe_tx_ready(c->pipe);
		}
	}
	pthread_mutex_unlock(&c->mtx);
	txq_free_all(done);
	if (rv != 0) {
		conn_close(c, rv);
	}
}

/*
 * Write q's frame now, the queue being empty (mtx): true when all of
 * it went. Otherwise q->off says how much did, or *err why none can.
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

/* Queue a copy of q (mtx); at TX_MAX the pipe is full. */
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
	if (++c->txlen >= TX_MAX && !c->txfull) {
		c->txfull = true;
		spry__pipe_tx_block(c->pipe);
	}
	return 0;
}

int
spry__stream_send(spry__pipe *p, spry_msg *m)
{
	stream_conn *c    = p->tdata;
	bool         sent = false;
	stream_txq   q;
	int          rv = 0;

	txq_init(&q, c, m);
	pthread_mutex_lock(&c->mtx);
	if (spry__load_relaxed(&c->closed)) {
		rv = SPRY_ECLOSED;
	} else if (c->txq == NULL && tx_now(c, &q, &rv)) {
		sent = true;
	} else if (rv == 0) {
		rv = tx_queue(c, &q);
	}
	pthread_mutex_unlock(&c->mtx);
	if (sent) {
		spry_msg_free(m);
	} else if (rv != 0) {
		conn_close(c, rv);
		return SPRY_ECLOSED; /* m stays the caller's */
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
			conn_flush(c);
		}
		if (ev & (SPRY__POLL_IN | SPRY__POLL_ERR)) {
			conn_rx(c);
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
		conn_rx(c);
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
