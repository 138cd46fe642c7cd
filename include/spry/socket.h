/* SPDX-License-Identifier: MIT */
/*
 * spry/socket.h: Scalability Protocols sockets. A socket is an actor
 * running one protocol (REQ, REP, PUB, ...) over any number of pipes
 * (connections) made by listeners and dialers.
 *
 * Two ways in and out, usable at the same time on one socket:
 *   - blocking: spry_send/spry_recv (socket timeouts) and
 *     spry_send_ctx/spry_recv_ctx (a ctx's cancellation and deadline);
 *   - mailboxes: spry_socket_sendbox is the socket actor's own mailbox
 *     (send a spry_msg * into it, from anywhere, blocking or not);
 *     received messages go to the socket's consumers: the mailboxes
 *     added with spry_socket_subscribe or, while there are none, the
 *     socket's own spry_socket_recvbox (which spry_recv reads).
 * A received message goes to exactly one consumer. Messages that come
 * in on one pipe reach one consumer in the order they were sent.
 *
 * Backpressure: REQ/REP, PUSH/PULL and PAIR never drop: when every
 * consumer is full the socket stops taking messages from its pipes, and
 * a sender whose pipes are all full blocks (or gets SPRY_EAGAIN). PUB,
 * SUB, BUS and SURVEYOR/RESPONDENT fan-out is best effort, as in NNG:
 * messages for a full consumer or pipe are dropped and counted in the
 * statistics.
 *
 * Concurrency on one socket (NNG needs nng_ctx for this): a message
 * sent on REQ or SURVEYOR with a reply mailbox (spry_msg_set_reply)
 * starts a request (survey) of its own; its reply (responses) go to
 * that mailbox, and any number may be in flight at once. On REP and
 * RESPONDENT a received request keeps its route in its header, so
 * answering with that message (or a message with a copy of its header)
 * routes the answer to the right requester, whichever actor or thread
 * answers, in any order.
 *
 * Thread safety: every function may be called from any thread or
 * actor, concurrently, on the same socket.
 */
#ifndef SPRY_SOCKET_H
#define SPRY_SOCKET_H

#include "spry/defs.h"
#include "spry/msg.h"

typedef struct spry_socket   spry_socket;
typedef struct spry_mailbox  spry_mailbox;
typedef struct spry_ctx      spry_ctx;
typedef struct spry_actor    spry_actor;
typedef struct spry_listener spry_listener;
typedef struct spry_dialer   spry_dialer;

/*
 * Protocols: the 16-bit SP ids the wire carries (protocol * 16 + role).
 *
 *   id    name         peer         header on the wire
 *   0x10  PAIR0        PAIR0        none
 *   0x11  PAIR1        PAIR1        32-bit hop count
 *   0x20  PUB0         SUB0         none
 *   0x21  SUB0         PUB0         none (prefix filter is local)
 *   0x30  REQ0         REP0         backtrace, last word = request id
 *   0x31  REP0         REQ0         backtrace
 *   0x50  PUSH0        PULL0        none
 *   0x51  PULL0        PUSH0        none
 *   0x62  SURVEYOR0    RESPONDENT0  backtrace, last word = survey id
 *   0x63  RESPONDENT0  SURVEYOR0    backtrace
 *   0x70  BUS0         BUS0         none
 */
enum spry_proto {
	SPRY_PAIR0       = 0x10,
	SPRY_PAIR1       = 0x11,
	SPRY_PUB0        = 0x20,
	SPRY_SUB0        = 0x21,
	SPRY_REQ0        = 0x30,
	SPRY_REP0        = 0x31,
	SPRY_PUSH0       = 0x50,
	SPRY_PULL0       = 0x51,
	SPRY_SURVEYOR0   = 0x62,
	SPRY_RESPONDENT0 = 0x63,
	SPRY_BUS0        = 0x70,
};

/* Flags for spry_send, spry_recv and spry_dial. */
#define SPRY_FLAG_NONBLOCK 1 /* do not wait: SPRY_EAGAIN instead */

/*
 * spry_socket_opts: how a socket is opened. Fields may be added at the
 * end; start from SPRY_SOCKET_OPTS_INIT.
 */
typedef struct spry_socket_opts {
	size_t size;    /* sizeof(spry_socket_opts) */
	bool   raw;     /* raw mode: no protocol state, routing headers
	                   visible in the message header (for devices) */
	spry_ctx *ctx;  /* when it ends, the socket closes (a supervisor's
	                   child ctx, for one); NULL: only spry_close */
	size_t sendbuf; /* send mailbox depth, 1..8192; 0: 16 */
	size_t recvbuf; /* receive mailbox depth, 1..8192; 0: 16 */
} spry_socket_opts;

#define SPRY_SOCKET_OPTS_INIT                                                 \
	{                                                                     \
		sizeof(spry_socket_opts), false, NULL, 0, 0                   \
	}

/*
 * spry_socket_open opens a socket of protocol proto (an spry_proto)
 * and hands it out in *out; opts may be NULL (cooked, no ctx). Starts
 * the runtime if it is not running. The caller owns the socket and ends
 * it with spry_close. Errors: SPRY_EINVAL (out NULL, bad opts),
 * SPRY_ENOTSUP (unknown protocol), SPRY_ENOMEM.
 */
SPRY_API int spry_socket_open(
    spry_socket **out, int proto, const spry_socket_opts *opts);

/*
 * spry_close closes s: its pipes, listeners and dialers close, pending
 * and blocked operations fail with SPRY_ECLOSED, its send mailbox and
 * receive mailbox close (receivers drain what is queued, then see
 * SPRY_ECLOSED), messages still in its send mailbox are freed, and each
 * subscriber mailbox gets an error event (a message whose spry_msg_err
 * is SPRY_ECLOSED) if it has room. Never blocks. It also gives back the
 * caller's reference: s must not be used afterwards unless the caller
 * holds another one (spry_socket_hold), in which case calling it again
 * is harmless and returns SPRY_ECLOSED. Returns 0 the first time.
 */
SPRY_API int spry_close(spry_socket *s);

/* spry_socket_hold takes one more reference on s. */
SPRY_API void spry_socket_hold(spry_socket *s);

/* spry_socket_release gives back a reference taken with hold. */
SPRY_API void spry_socket_release(spry_socket *s);

/* spry_socket_proto returns the socket's protocol id. */
SPRY_API int spry_socket_proto(const spry_socket *s);

/* spry_socket_peer returns the protocol id of the socket's peers. */
SPRY_API int spry_socket_peer(const spry_socket *s);

/*
 * spry_socket_actor returns the socket's actor (borrowed), so that a
 * supervisor can own it: a child's start function opens the socket with
 * the child ctx and hands out this actor. Stopping the actor closes the
 * socket; the handle stays valid until spry_close.
 */
SPRY_API spry_actor *spry_socket_actor(spry_socket *s);

/*
 * spry_socket_sendbox returns the socket's send mailbox (borrowed: hold
 * it with spry_mailbox_hold to keep it past spry_close): send a
 * spry_msg * into it and the socket's actor sends it, in order. Once
 * queued, the message belongs to the socket. spry_mailbox_trysend and
 * select send cases only queue (a channel operation: tens of ns); a
 * blocking spry_mailbox_send that finds nothing queued and no send in
 * progress sends the message on the calling thread, as spry_send does,
 * which saves waking the actor. Returns NULL (and sets
 * *err to SPRY_ENOTSUP when err is not NULL) for SUB0 and PULL0, which
 * cannot send.
 */
SPRY_API spry_mailbox *spry_socket_sendbox(spry_socket *s, int *err);

/*
 * spry_socket_recvbox returns the socket's own receive mailbox
 * (borrowed, like the send mailbox): it receives messages while the
 * socket has no subscribers, and spry_recv reads it. Items are
 * spry_msg * the receiver owns. Returns NULL (and SPRY_ENOTSUP in *err)
 * for PUB0 and PUSH0, which cannot receive.
 */
SPRY_API spry_mailbox *spry_socket_recvbox(spry_socket *s, int *err);

/*
 * spry_socket_subscribe adds mb as a consumer of s: received messages
 * now go to the subscribers (each message to one of them, the first
 * with room, taking turns), not to the recvbox. One mailbox may
 * subscribe to many sockets (fan-in): spry_msg_socket tells where each
 * message came from. The socket holds a reference on mb until it is
 * unsubscribed or the socket closes. With `events`, mb also receives
 * pipe events: empty messages whose spry_msg_err is SPRY_PIPE_ADD or
 * SPRY_PIPE_REM and whose spry_msg_pipe/spry_msg_peer name the pipe.
 * Errors: SPRY_EINVAL (mb NULL), SPRY_ENOTSUP (the socket cannot
 * receive and events is false), SPRY_EEXIST, SPRY_ECLOSED, SPRY_ENOMEM.
 */
SPRY_API int spry_socket_subscribe(
    spry_socket *s, spry_mailbox *mb, bool events);

/* Pipe events, as spry_msg_err values of event messages. */
#define SPRY_PIPE_ADD (-1) /* a pipe joined the socket */
#define SPRY_PIPE_REM (-2) /* a pipe left the socket */

/*
 * spry_socket_unsubscribe removes mb from the consumers of s and gives
 * back the socket's reference on it. Errors: SPRY_ENOENT.
 */
SPRY_API int spry_socket_unsubscribe(spry_socket *s, spry_mailbox *mb);

/*
 * spry_send sends m on s. On success the socket owns m; on failure the
 * caller still does. Blocks while the socket's send buffer is full, up
 * to the send timeout (SPRY_ETIMEDOUT), unless flags has
 * SPRY_FLAG_NONBLOCK (SPRY_EAGAIN). Errors also: SPRY_EINVAL,
 * SPRY_ENOTSUP (SUB0, PULL0), SPRY_ESTATE (REP/RESPONDENT with no
 * request to answer), SPRY_ECLOSED.
 */
SPRY_API int spry_send(spry_socket *s, spry_msg *m, int flags);

/*
 * spry_send_ctx is spry_send bounded by ctx instead of the send timeout:
 * SPRY_ECANCELED or SPRY_ETIMEDOUT when ctx ends first (the caller
 * keeps m). ctx NULL: wait for as long as it takes.
 */
SPRY_API int spry_send_ctx(spry_ctx *ctx, spry_socket *s, spry_msg *m);

/*
 * spry_recv receives a message from s's recvbox into *out (the caller
 * owns it). Blocks up to the receive timeout (SPRY_ETIMEDOUT) unless
 * SPRY_FLAG_NONBLOCK (SPRY_EAGAIN). Errors also: SPRY_EINVAL,
 * SPRY_ENOTSUP (PUB0, PUSH0), SPRY_ESTATE (cooked REQ with no request
 * or SURVEYOR with no survey), SPRY_ETIMEDOUT (also: the survey ended),
 * SPRY_ECLOSED (closed and drained).
 */
SPRY_API int spry_recv(spry_socket *s, spry_msg **out, int flags);

/* spry_recv_ctx is spry_recv bounded by ctx instead of the timeout. */
SPRY_API int spry_recv_ctx(spry_ctx *ctx, spry_socket *s, spry_msg **out);

/*
 * spry_msg_set_reply names the mailbox that receives the reply to m
 * (REQ0) or the responses to it (SURVEYOR0), making m a request of its
 * own that runs beside any other. The message holds a reference on mb
 * until it is sent (the socket then holds it until the request ends) or
 * freed. When a survey's time is up, its mailbox gets an error event
 * (spry_msg_err SPRY_ETIMEDOUT). NULL clears it. Ignored by other
 * protocols. Errors: SPRY_EINVAL (m NULL).
 */
SPRY_API int spry_msg_set_reply(spry_msg *m, spry_mailbox *mb);

/* spry_msg_reply returns the reply mailbox of m (borrowed) or NULL. */
SPRY_API spry_mailbox *spry_msg_reply(const spry_msg *m);

/*
 * spry_listen listens on url (inproc://name, tcp://host:port with
 * tcp4:// and tcp6://, ipc:///path); *out, when not NULL, receives the
 * listener (owned by the socket; spry_listener_close ends it early).
 * tcp and ipc connections run on one I/O thread per process, started
 * with the first tcp or ipc endpoint and kept until the process ends.
 * Errors: SPRY_EADDRINVAL (bad URL, or a host that does not resolve),
 * SPRY_ENOTSUP (unknown scheme), SPRY_EADDRINUSE, SPRY_EPERM,
 * SPRY_ECLOSED, SPRY_ENOMEM, SPRY_ENOFILES.
 */
SPRY_API int spry_listen(spry_socket *s, const char *url, spry_listener **out);

/*
 * spry_dial connects to url. Without SPRY_FLAG_NONBLOCK it makes the
 * first attempt now and fails with its error (SPRY_ECONNREFUSED when
 * nothing listens), keeping nothing; with it, it returns at once and the
 * dialer connects in the background. Either way a dialer that connected
 * reconnects whenever its pipe closes, waiting between reconnect min and
 * max time (doubling, jittered). Errors as spry_listen.
 */
SPRY_API int spry_dial(
    spry_socket *s, const char *url, spry_dialer **out, int flags);

/*
 * spry_listener_url writes the address l listens on, as a URL, into buf
 * (len bytes with the NUL): the URL it was given, with the port the
 * system chose when that was 0 (tcp://127.0.0.1:0 gives, say,
 * tcp://127.0.0.1:40521), so that peers can dial it. Errors:
 * SPRY_EINVAL (l or buf NULL), SPRY_ENOSPC (too small; buf holds what
 * fits). 1025 bytes are always enough. Valid until the socket closes.
 */
SPRY_API int spry_listener_url(spry_listener *l, char *buf, size_t len);

/* spry_listener_close closes a listener; its pipes stay. Idempotent. */
SPRY_API int spry_listener_close(spry_listener *l);

/* spry_dialer_close stops a dialer and closes its pipe. Idempotent. */
SPRY_API int spry_dialer_close(spry_dialer *d);

/*
 * Options: one typed mechanism. A value carries its type; setting or
 * getting with a type other than the option's gives SPRY_EBADTYPE, a
 * value out of range SPRY_EINVAL, an option the protocol lacks
 * SPRY_ENOTSUP, setting a read-only one SPRY_EREADONLY.
 *
 *   option               type      default   range / notes
 *   SPRY_OPT_SENDBUF     INT       16        1..8192, send mailbox depth
 *   SPRY_OPT_RECVBUF     INT       16        1..8192, recvbox depth
 *   SPRY_OPT_SENDTIMEO   DURATION  -1        < 0: forever
 *   SPRY_OPT_RECVTIMEO   DURATION  -1        < 0: forever
 *   SPRY_OPT_RECVMAXSZ   SIZE      1 MiB     0: no limit (wire transports)
 *   SPRY_OPT_RECONNMINT  DURATION  100 ms    > 0
 *   SPRY_OPT_RECONNMAXT  DURATION  0         0: no growth, else >= min
 *   SPRY_OPT_RESENDTIME  DURATION  60 s      REQ0; <= 0: never resend
 *   SPRY_OPT_SURVEYTIME  DURATION  1 s       SURVEYOR0; > 0
 *   SPRY_OPT_MAXTTL      INT       8         1..255; REQ/REP, SURVEY,
 *                                            PAIR1
 *   SPRY_OPT_SUBSCRIBE   BYTES     -         SUB0, write only; empty:
 *                                            everything
 *   SPRY_OPT_UNSUBSCRIBE BYTES     -         SUB0, write only; ENOENT
 *   SPRY_OPT_SOCKNAME    STRING    "<id>"    up to 63 bytes
 *   SPRY_OPT_RAW         BOOL      -         read only
 *   SPRY_OPT_PROTO       INT       -         read only, our SP id
 *   SPRY_OPT_PEER        INT       -         read only, peer's SP id
 *   SPRY_OPT_HSTIMEO     DURATION  10 s      > 0; tcp/ipc: connect and
 *                                            SP handshake must end
 *                                            within it
 *   SPRY_OPT_IPC_PERM    INT       -1        0..0777 (-1: unset); ipc
 *                                            listeners chmod their
 *                                            socket file to it
 *   SPRY_OPT_LOCADDR     STRING    -         per pipe, read only: our
 *                                            end's address as a URL
 *                                            (spry_pipe_getopt)
 *   SPRY_OPT_REMADDR     STRING    -         per pipe, read only: the
 *                                            peer's address as a URL
 *                                            (spry_pipe_getopt)
 *
 * Buffer depths become powers of two (rounded up). Changing a depth
 * replaces the mailbox for new messages only when it is empty;
 * otherwise SPRY_EBUSY.
 */
enum spry_option {
	SPRY_OPT_SENDBUF = 1,
	SPRY_OPT_RECVBUF,
	SPRY_OPT_SENDTIMEO,
	SPRY_OPT_RECVTIMEO,
	SPRY_OPT_RECVMAXSZ,
	SPRY_OPT_RECONNMINT,
	SPRY_OPT_RECONNMAXT,
	SPRY_OPT_RESENDTIME,
	SPRY_OPT_SURVEYTIME,
	SPRY_OPT_MAXTTL,
	SPRY_OPT_SUBSCRIBE,
	SPRY_OPT_UNSUBSCRIBE,
	SPRY_OPT_SOCKNAME,
	SPRY_OPT_RAW,
	SPRY_OPT_PROTO,
	SPRY_OPT_PEER,
	SPRY_OPT_HSTIMEO,
	SPRY_OPT_IPC_PERM,
	SPRY_OPT_LOCADDR,
	SPRY_OPT_REMADDR,
};

/* Value types of options. */
enum spry_opt_type {
	SPRY_TYPE_INT = 1,  /* .i */
	SPRY_TYPE_BOOL,     /* .b */
	SPRY_TYPE_SIZE,     /* .sz */
	SPRY_TYPE_DURATION, /* .d, nanoseconds */
	SPRY_TYPE_STRING,   /* .buf: set: p is a NUL-terminated string;
	                       get: p/n is the caller's buffer and n
	                       becomes the string length (NUL not
	                       counted; SPRY_EINVAL if it does not fit) */
	SPRY_TYPE_BYTES,    /* .buf: p/n, the bytes */
};

/* spry_optval: a typed option value. */
typedef struct spry_optval {
	int type; /* an spry_opt_type */
	union {
		int           i;
		bool          b;
		size_t        sz;
		spry_duration d;
		struct {
			void  *p;
			size_t n;
		} buf;
	} u;
} spry_optval;

/* Value constructors: spry_setopt(s, SPRY_OPT_RECVBUF, SPRY_INT(64)). */
#define SPRY_INT(v) ((spry_optval){.type = SPRY_TYPE_INT, .u.i = (v)})
#define SPRY_BOOL(v) ((spry_optval){.type = SPRY_TYPE_BOOL, .u.b = (v)})
#define SPRY_SIZE(v) ((spry_optval){.type = SPRY_TYPE_SIZE, .u.sz = (v)})
#define SPRY_DURATION(v)                                                      \
	((spry_optval){.type = SPRY_TYPE_DURATION, .u.d = (v)})
#define SPRY_STRING(s)                                                        \
	((spry_optval){.type = SPRY_TYPE_STRING, .u.buf = {(void *)(s), 0}})
#define SPRY_BYTES(p, n)                                                      \
	((spry_optval){.type = SPRY_TYPE_BYTES, .u.buf = {(void *)(p), (n)}})

/* spry_setopt sets option opt of s to v. Errors: see above. */
SPRY_API int spry_setopt(spry_socket *s, int opt, spry_optval v);

/*
 * spry_getopt reads option opt into *v, whose type the caller sets
 * first (and, for STRING, its buffer). Errors: see above.
 */
SPRY_API int spry_getopt(spry_socket *s, int opt, spry_optval *v);

/*
 * spry_pipe_getopt reads option opt of one pipe of s, named by its id
 * (spry_msg_pipe of a message it received or of a SPRY_PIPE_ADD event),
 * into *v, whose type (STRING) and buffer the caller sets first, as for
 * spry_getopt. The options are a pipe's two addresses, as URLs, fixed
 * for the pipe's life:
 *   SPRY_OPT_LOCADDR  our end: tcp://127.0.0.1:5555 (numeric host and
 *                     port, tcp://[::1]:5555 for IPv6), ipc:///path,
 *                     inproc://name;
 *   SPRY_OPT_REMADDR  the peer's end, in the same form; what
 *                     spry_msg_peer gives for the pipe's messages.
 * Both ends of an ipc or inproc pipe have the listener's address (Unix
 * sockets have no name on the dialer's side); tcp names each end's own
 * address and port. "" when the transport could not tell (a tcp
 * connection reset as it started). Errors: SPRY_EINVAL (s or v NULL, or
 * the buffer too small for the string and its NUL), SPRY_ENOTSUP (not a
 * pipe option), SPRY_EBADTYPE (v not STRING), SPRY_ENOENT (no such pipe
 * on s: unknown, another socket's, or gone, as after its SPRY_PIPE_REM
 * event), SPRY_ECLOSED (s is closing). Both are read only: spry_setopt
 * gives SPRY_EREADONLY for them, and spry_getopt, which reads the
 * socket's own options, SPRY_ENOTSUP. Thread safety: any thread, at
 * any time, also while the pipe closes: the call either copies the
 * address or gives SPRY_ENOENT, and what it copied stays the caller's.
 */
SPRY_API int spry_pipe_getopt(
    spry_socket *s, uint32_t pipe, int opt, spry_optval *v);

/* spry_socket_stats: counters of one socket (a snapshot). */
typedef struct spry_socket_stats {
	uint64_t sent;      /* messages sent to pipes */
	uint64_t received;  /* messages handed to consumers */
	uint64_t dropped;   /* messages dropped: full consumer or pipe on a
	                       best-effort protocol, TTL exceeded, stale
	                       replies, no pipe to send to */
	uint64_t rejected;  /* pipes refused: wrong peer protocol */
	uint64_t malformed; /* messages with a bad header (pipe closed) */
	uint64_t oversize;  /* frames over SPRY_OPT_RECVMAXSZ (pipe
	                       closed) */
	uint32_t pipes;     /* pipes open now */
} spry_socket_stats;

/* spry_socket_stats_get copies the counters of s into *st. */
SPRY_API void spry_socket_stats_get(spry_socket *s, spry_socket_stats *st);

/*
 * spry_device forwards messages between two raw sockets, a to b and b
 * to a, in an actor of its own; b NULL (or b == a) reflects a onto
 * itself (PAIR, BUS). The sockets must be peers of each other (REP with
 * REQ, ...). Routing headers are kept and extended: REP/RESPONDENT push
 * the pipe id on the way in and pop it to route the reply; PAIR1 counts
 * hops. A full send side holds the device back, and so the other
 * side's pipes (backpressure), as for any consumer. The device forwards
 * what arrives once this returns, and ends when either socket closes
 * (exit reason SPRY_EXIT_NORMAL); *out, when not NULL, receives a
 * reference to its actor, which the caller gives back with
 * spry_actor_release (spry_actor_wait waits for it; stopping it ends
 * forwarding, reason SPRY_EXIT_SHUTDOWN). The sockets stay the
 * caller's; the device holds a reference on each while it runs.
 * Errors: SPRY_EINVAL (a NULL, not raw, not peers), SPRY_ECLOSED,
 * SPRY_ENOMEM.
 */
SPRY_API int spry_device(spry_socket *a, spry_socket *b, spry_actor **out);

#endif /* SPRY_SOCKET_H */
