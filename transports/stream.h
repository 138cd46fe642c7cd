/* SPDX-License-Identifier: MIT */
/*
 * transports/stream.h: what the byte-stream transports (tcp, ipc) share:
 * connections over non-blocking descriptors driven by the poller
 * (transports/poll.h), the SP handshake, framing (transports/wire.h),
 * sending with a bounded write queue, receiving with backpressure, and
 * listeners that accept. A transport supplies only what depends on the
 * address family, as a spry__stream_ops table, and builds its spry__tran
 * table from the functions below.
 *
 * Lifetimes. A connection is counted by references: the poller's (until
 * it retires the connection on its own thread, after which no event can
 * reach it), one per queued post (a post that comes after the retire
 * finds a closed connection and only gives its reference back), the
 * listener's or dialer's list of connections still in their handshake
 * (which closing the endpoint closes), and the pipe's (given back by
 * the pipe's free op). The transport's reference
 * on the pipe is given back when the poller retires the connection, so
 * memory outlives every thread that may touch it.
 */
#ifndef SPRY_TRANSPORTS_STREAM_H
#define SPRY_TRANSPORTS_STREAM_H

#include "sp/socket.h"
#include "transports/poll.h"

#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>

/* spry__stream_ops: the family-specific part of a stream transport. */
typedef struct spry__stream_ops {
	/* ipc framing (a type byte before the length) rather than tcp. */
	bool ipc;
	/*
	 * bind makes a bound, listening, non-blocking, close-on-exec socket
	 * for ep->url in *fd (storing the real port of port 0 in ep->url).
	 * Runs in spry_listen's thread and may block briefly (name lookup).
	 * Returns 0 or an spry error (SPRY_EADDRINUSE, ...).
	 */
	int (*bind)(spry__ep *ep, int *fd);
	/* unbind: the listener's socket was closed (ipc: unlink the path). */
	void (*unbind)(spry__ep *ep);
	/*
	 * connect starts one attempt to reach ep->url without blocking and
	 * ends it, now or later and from any thread, with exactly one call
	 * of spry__stream_connected.
	 */
	void (*connect)(spry__ep *ep);
	/* tune sets options on a new connection (tcp: TCP_NODELAY). */
	void (*tune)(int fd);
	/* peer writes the peer's address of connection fd as a URL. */
	void (*peer)(spry__ep *ep, int fd, char *buf, size_t len);
	/* local writes our own address of connection fd, as peer does. */
	void (*local)(spry__ep *ep, int fd, char *buf, size_t len);
} spry__stream_ops;

/* The tran ops of a stream transport; each does what spry__tran says. */
int  spry__stream_listen(spry__ep *ep, const spry__stream_ops *ops);
int  spry__stream_dial(spry__ep *ep, const spry__stream_ops *ops);
void spry__stream_ep_close(spry__ep *ep);
void spry__stream_ep_free(spry__ep *ep);
int  spry__stream_send(spry__pipe *p, spry_msg *m);
void spry__stream_recv_pause(spry__pipe *p);
void spry__stream_recv_resume(spry__pipe *p);
void spry__stream_close(spry__pipe *p);
void spry__stream_free(spry__pipe *p);
bool spry__stream_rx_own(spry__pipe *p, int *fd);
bool spry__stream_rx_read(spry__pipe *p);
void spry__stream_rx_disown(spry__pipe *p);

/*
 * spry__stream_connected ends an attempt started by ops->connect: fd is
 * a socket whose non-blocking connect has started (or completed), which
 * the stream layer now owns, or fd is -1 and err says why the attempt
 * failed (reported to the dialer, which retries). Any thread, no lock.
 */
void spry__stream_connected(spry__ep *ep, int fd, int err);

/* spry__stream_errno maps an errno value of a socket call to an spry error. */
int spry__stream_errno(int e);

/*
 * spry__stream_live counts the objects the stream transports hold:
 * connections, endpoint states and name lookups in flight. Closing a
 * socket retires its connections on the poller thread shortly after
 * spry_close returns; tests wait for this count to reach 0 (with
 * spry__stream_quiesce) before they check for leaks.
 */
int64_t spry__stream_live(void);

/* spry__stream_live_add adds n (+1 or -1) to that count (atomic). */
void spry__stream_live_add(int64_t n);

/*
 * A listener that cannot accept for want of descriptors or memory
 * (EMFILE, ENFILE, ENOBUFS, ENOMEM) tries again this long after, rather
 * than spinning on a socket that stays readable; the connections wait
 * in the kernel's backlog meanwhile. spry__stream_accept_stalls counts
 * such failed accepts, for the tests (atomic).
 */
#define SPRY__STREAM_ACCEPT_RETRY SPRY_MSEC(100)
uint64_t spry__stream_accept_stalls(void);

/*
 * spry__stream_quiesce waits until spry__stream_live is 0, or until
 * deadline (false). Never call it from the poller thread.
 */
bool spry__stream_quiesce(spry_time deadline);

/* ---- between stream.c (connections) and stream_ep.c (endpoints) ---- */

typedef struct spry__stream_conn spry__stream_conn;

/* spry__stream_ep: a listener's or dialer's transport state (ep->tdata). */
typedef struct spry__stream_ep {
	spry__poll_item         item;    /* listener: its socket (fd: mtx) */
	const spry__stream_ops *ops;     /* fixed */
	spry__ep               *ep;      /* the endpoint, which owns this */
	pthread_mutex_t         mtx;     /* listener: fd against close */
	spry__stream_conn      *pending; /* in connect or handshake
	                                    (the socket's lk) */
} spry__stream_ep;

/*
 * spry__stream_conn_accept makes a connection of fd, just accepted by
 * se's listener (fd is the connection's from now on), and starts its
 * handshake. Poller thread.
 */
void spry__stream_conn_accept(spry__stream_ep *se, int fd);

/*
 * spry__stream_conn_dial makes a connection of fd, whose connect for
 * se's dialer has started, and hands it to the poller. Any thread.
 * Returns 0 (fd is the connection's) or SPRY_ENOMEM (fd is not).
 */
int spry__stream_conn_dial(spry__stream_ep *se, int fd);

/*
 * spry__stream_conns_close closes the connections still in their
 * handshake on se's list: the endpoint is closing. No lock held.
 */
void spry__stream_conns_close(spry__stream_ep *se);

#endif /* SPRY_TRANSPORTS_STREAM_H */
