/* SPDX-License-Identifier: MIT */
/*
 * sp/socket.h: the socket core shared by the protocols (sp/proto_*.c)
 * and the transports (transports/). A protocol is an ops table run by
 * the core under the socket lock; a transport is an ops table the core
 * calls to move messages over pipes and to make pipes.
 *
 * Where the work happens. A send runs inline on the sender's thread when
 * nothing is queued ahead of it: the protocol picks pipes under the lock,
 * the core hands the message to the transport after dropping it, and an
 * inproc transport places it straight into the peer socket's consumer
 * mailbox. So a round trip between two threads costs two wake-ups, as
 * with a plain channel. Everything that has to wait (a send with no
 * ready pipe, a received message no consumer has room for, timers,
 * reconnects) goes to the socket's actor, which picks it up when a pipe
 * or a consumer pokes it (SPRY__EV_WAKE).
 *
 * Locks (spin, then yield: held for nanoseconds). `txlk` serializes the
 * senders of one socket and is held while the transport takes a message, so
 * pipe order is send order. `lk` guards the protocol state and the pipe and
 * consumer lists. Order: txlk, then lk of the same socket, or txlk, then the
 * lk of a PEER socket (inproc delivery). Whoever holds an lk takes no other
 * socket lock, so there is no cycle.
 */
#ifndef SPRY_SP_SOCKET_H
#define SPRY_SP_SOCKET_H

#include "spry/socket.h"
#include "spry/mailbox.h"
#include "spry/actor.h"
#include "mailbox/mailbox.h"
#include "sp/url.h"

#include <pthread.h>

typedef struct spry__pipe     spry__pipe;
typedef struct spry__ep       spry__ep;
typedef struct spry__proto    spry__proto;
typedef struct spry__tran     spry__tran;
typedef struct spry__consumer spry__consumer;

/* ---- emitting ----------------------------------------------------------- */

/*
 * spry__emit: what a protocol's send asks the core to transmit once the
 * lock is dropped: one message to n pipes (copies share the bytes). The
 * pipes are held (spry__pipe_hold) by spry__emit_add.
 */
typedef struct spry__emit {
	spry_msg    *msg;     /* the message (owned) or NULL */
	spry__pipe **pipes;   /* pipes[n] (inline or allocated) */
	size_t       n;       /* pipes to send to */
	size_t       cap;     /* room in pipes */
	spry__pipe  *inl[4];  /* inline room for small fan-outs */
	bool         drop_ok; /* best effort: count, never block */
} spry__emit;

/* spry__emit_add adds p (held) to e; SPRY_ENOMEM. Lock held. */
int spry__emit_add(spry__emit *e, spry__pipe *p);

/* ---- protocols -------------------------------------------------------- */

/* Protocol flags. */
#define SPRY__P_NOSEND 1u  /* cannot send (SUB, PULL) */
#define SPRY__P_NORECV 2u  /* cannot receive (PUB, PUSH) */
#define SPRY__P_LOSSY 4u   /* receive side drops when consumers are full */
#define SPRY__P_ONEPIPE 8u /* at most one pipe (PAIR) */

/* Results of a protocol's recv besides 0 (deliver) and errors. */
#define SPRY__RX_DROP 1 /* the protocol freed the message (counted) */
#define SPRY__RX_KEEP 2 /* taken, not for consumers (e.g. ignored) */

/*
 * spry__proto: one protocol in one mode. Functions marked "lk" run with
 * the socket lock held and must not block or call into transports.
 */
struct spry__proto {
	const char *name;      /* "req", "rep", ... */
	int         self;      /* our SP id */
	int         peer;      /* the peer's SP id */
	uint32_t    flags;     /* SPRY__P_* */
	size_t      sock_size; /* private bytes per socket */
	size_t      pipe_size; /* private bytes per pipe */
	/* init readies the private data (zeroed); lk not needed. */
	int (*init)(spry_socket *s);
	/* fini frees what init and the protocol allocated. */
	void (*fini)(spry_socket *s);
	/* pipe_add: a pipe joins (lk); an error refuses it. */
	int (*pipe_add)(spry_socket *s, spry__pipe *p);
	/* pipe_rem: a pipe leaves (lk). */
	void (*pipe_rem)(spry_socket *s, spry__pipe *p);
	/*
	 * send (lk): decide where m goes. 0: e filled (e->msg = m, now
	 * owned by the emit) or m freed (dropped, counted by the protocol);
	 * SPRY_EAGAIN: no pipe ready, m untouched; other errors: m
	 * untouched, the caller keeps it.
	 */
	int (*send)(spry_socket *s, spry_msg *m, spry__emit *e);
	/*
	 * recv (lk): a message arrived on p (wire form: all in the body).
	 * 0: deliver *m to *to (NULL: the consumers); SPRY__RX_DROP or
	 * SPRY__RX_KEEP: the protocol took it; SPRY_EPROTO: malformed,
	 * the core frees it and closes p.
	 */
	int (*recv)(
	    spry_socket *s, spry__pipe *p, spry_msg **m, spry_mailbox **to);
	/*
	 * recv_check (lk), before a blocking receive from the recvbox:
	 * SPRY_ESTATE when nothing can come, or narrow *deadline (a
	 * survey's end). NULL: always fine.
	 */
	int (*recv_check)(spry_socket *s, spry_time *deadline);
	/* timer: a tag set with spry__sock_timer fired (actor turn, no lk). */
	void (*timer)(spry_socket *s, void *tag);
	/* setopt/getopt (lk): protocol options; SPRY_ENOTSUP if not ours. */
	int (*setopt)(spry_socket *s, int opt, const spry_optval *v);
	int (*getopt)(spry_socket *s, int opt, spry_optval *v);
};

/* spry__proto_find returns the protocol for id and mode, or NULL. */
const spry__proto *spry__proto_find(int id, bool raw);

/* ---- consumers --------------------------------------------------------- */

/* spry__consumer: one mailbox that receives from a socket. */
struct spry__consumer {
	spry__consumer *next;   /* in s->subs (lk) */
	spry_mailbox   *mb;     /* held */
	spry_socket    *s;      /* owner, for the waiter */
	spry__waiter    w;      /* armed on mb's SEND side while full (lk) */
	bool            armed;  /* w linked (lk) */
	bool            events; /* wants pipe events */
	bool            data;   /* takes messages */
};

/* ---- the socket --------------------------------------------------------- */

struct spry_socket {
	const spry__proto *proto;   /* fixed */
	void              *pdata;   /* protocol's private data; fixed */
	spry_actor        *actor;   /* the socket's actor (held) */
	spry_mailbox      *sendbox; /* the actor's mailbox; fixed */
	spry_mailbox      *recvbox; /* own receive mailbox; fixed */
	/*
	 * Every put into the sendbox reads txblock (its notify hook), so it
	 * and txgen sit among fields that are fixed, away from the locks and
	 * counters the actor writes per message: a send then finds the line
	 * unchanged in its cache.
	 */
	uint32_t txgen;              /* pokes so far (atomic) */
	uint32_t txblock;            /* txgen + 1 when the actor last found no
	                                pipe for txpend, 0 once sending
	                                (atomic; stored on change) */
	spry__consumer  own;         /* the recvbox as a consumer */
	spry__consumer *subs;        /* subscribers (lk) */
	spry__consumer *rr;          /* next subscriber to try (lk) */
	spry__pipe     *pipes;       /* all pipes (lk) */
	spry__pipe     *paused;      /* pipes holding a message (lk), FIFO */
	spry__pipe    **paused_tail; /* end of paused (lk) */
	uint32_t        npaused;     /* pipes in paused (written in lk,
	                                read anywhere: atomic) */
	spry__ep *eps;               /* listeners and dialers (lk) */
	spry_msg *txpend;            /* a message the actor could not send
	                                yet (txlk) */
	struct spry__tlater *tlater; /* timers asked for outside the
	                                actor's turn (atomic push; the
	                                actor takes them all) */
	uint32_t txlk;               /* serializes senders (spry__spin_lock) */
	uint32_t lk;     /* protocol state and lists (spry__spin_lock) */
	uint32_t refs;   /* references (atomic) */
	uint32_t closed; /* 1 once closing (atomic; set in lk) */
	uint32_t owner;  /* 1 while the open ref is held (atomic) */
	uint32_t id;     /* socket id, for names; fixed */
	bool     raw;    /* fixed */
	/* options (lk) */
	spry_duration sndtimeo;  /* < 0: forever */
	spry_duration rcvtimeo;  /* < 0: forever */
	size_t        rcvmaxsz;  /* 0: unlimited */
	spry_duration reconnmin; /* > 0 */
	spry_duration reconnmax; /* 0 or >= reconnmin */
	int           maxttl;    /* 1..255 */
	spry_duration hstimeo;   /* stream handshake deadline, > 0 */
	int           ipcperm;   /* ipc socket file mode, or -1 */
	char          name[64];  /* SPRY_OPT_SOCKNAME */
	/* statistics (atomic) */
	uint64_t st_sent;
	uint64_t st_received;
	uint64_t st_dropped;
	uint64_t st_rejected;
	uint64_t st_malformed;
	uint64_t st_oversize;
	uint32_t st_pipes;
	/* st_sent when a receive last blocked (atomic): sp/consumer.c */
	uint64_t rx_sent;
};

/* spry__sock_hold / release: references on a socket. */
void spry__sock_hold(spry_socket *s);
void spry__sock_release(spry_socket *s);

/* spry__sock_lock / unlock: the protocol lock `lk`. */
void spry__sock_lock(spry_socket *s);
void spry__sock_unlock(spry_socket *s);

/* spry__sock_closed tells whether s is closing. */
bool spry__sock_closed(spry_socket *s);

/*
 * spry__sock_timer arms a one-shot timer of the socket's actor: after
 * delay, the protocol's timer op runs with tag (in an actor turn).
 * Returns the timer id (0 on failure) for spry__sock_timer_cancel. Any
 * thread: outside the actor's own turn the timer is handed to the actor,
 * which arms it at its next turn; such a timer returns
 * SPRY__SOCK_TIMER_LATER and cannot be canceled (its tag must stay
 * meaningful until it fires). One the actor cannot arm fires at once.
 */
#define SPRY__SOCK_TIMER_LATER UINT64_MAX
uint64_t spry__sock_timer(spry_socket *s, spry_duration delay, void *tag);

/* spry__sock_timer_cancel cancels a timer; only from an actor turn. */
void spry__sock_timer_cancel(spry_socket *s, uint64_t id);

/* spry__sock_wake pokes the socket's actor (any thread, no lock). */
void spry__sock_wake(spry_socket *s);

/*
 * spry__sock_deliver_to places m into mailbox `to` as a receive of s
 * (lk), e.g. a survey's end event; frees it and counts a drop when to
 * has no room. The caller held to.
 */
void spry__sock_deliver_to(spry_socket *s, spry_msg *m, spry_mailbox *to);

/* spry__sock_count adds to a statistic (atomic). */
static inline void
spry__sock_count(uint64_t *stat, uint64_t n)
{
	__atomic_fetch_add(stat, n, __ATOMIC_RELAXED);
}

/* ---- shared peer addresses (sp/msg.c) ------------------------------- */

/* spry__peer: a reference-counted address string, shared by messages. */
typedef struct spry__peer spry__peer;

spry__peer *spry__peer_new(const char *s); /* one reference, or NULL */
void        spry__peer_hold(spry__peer *p);
void        spry__peer_release(spry__peer *p); /* NULL is fine */

/* spry__msg_set_peer_ref makes m hold p as its peer (NULL: unknown). */
void spry__msg_set_peer_ref(spry_msg *m, spry__peer *p);

/* ---- pipes -------------------------------------------------------------- */

/* spry__pipe: one connection of a socket to a peer. */
struct spry__pipe {
	spry__pipe       *next;    /* in s->pipes (lk) */
	spry__pipe       *pnext;   /* in s->paused (lk) */
	spry_socket      *s;       /* held until the pipe is freed */
	spry__ep         *ep;      /* the dialer or listener (lk), or NULL */
	const spry__tran *tran;    /* fixed */
	void             *tdata;   /* transport's; fixed */
	void             *pdata;   /* protocol's private bytes; fixed */
	spry_msg         *rxpend;  /* received, waiting for room (lk) */
	spry_mailbox     *rxto;    /* its target (held) or NULL (lk) */
	spry__waiter      w;       /* armed on rxto while full (lk) */
	bool              armed;   /* w linked (lk) */
	bool              added;   /* the protocol knows it (lk) */
	bool              removed; /* left the socket (lk) */
	uint32_t          id;      /* 31-bit, nonzero; fixed */
	uint32_t          refs;    /* references (atomic) */
	uint32_t          txfull;  /* the transport takes no more for now
	                              (atomic; written by the transport) */
	int  peer;                 /* peer's SP id; fixed */
	char addr[128];            /* peer address as a URL, or ""; set by
	                              the transport before start */
	char        laddr[128];    /* our end's address, as addr */
	spry__peer *addrref;       /* addr, shared with the messages;
	                              made at start, released at free */
};

/* spry__pipe_hold / release: references; the last frees the pipe. */
void spry__pipe_hold(spry__pipe *p);
void spry__pipe_release(spry__pipe *p);

/* spry__pipe_ready tells whether p can take a message now. */
static inline bool
spry__pipe_ready(const spry__pipe *p)
{
	return !p->removed && !__atomic_load_n(&p->txfull, __ATOMIC_ACQUIRE);
}

/*
 * spry__pipe_find returns the pipe of s with this id, or NULL (lk): a
 * pipe is in the list from its start until it is closed.
 */
spry__pipe *spry__pipe_find(spry_socket *s, uint32_t id);

/*
 * The transport's side. spry__pipe_new makes a pipe for s (held once,
 * by the caller) with the transport's data; spry__pipe_start checks
 * the peer's protocol and joins the pipe to the socket (SPRY_EPROTO on
 * a wrong peer, SPRY_ECLOSED, or the protocol's refusal: the transport
 * must then close and release it).
 */
int spry__pipe_new(spry__pipe **out, spry_socket *s, spry__ep *ep,
    const spry__tran *t, void *tdata);
int spry__pipe_start(spry__pipe *p, int peer);

/*
 * spry__pipe_deliver hands a received message (wire form) to the
 * socket; always takes m. Returns 0, or SPRY_ECLOSED (socket closed).
 * When the message must wait for a consumer, the core calls the
 * transport's recv_pause before returning and recv_resume later; the
 * transport delivers nothing in between.
 */
int spry__pipe_deliver(spry__pipe *p, spry_msg *m);

/*
 * spry__pipe_deliver_n hands up to n messages, in order, under one
 * lock: a stream transport decodes many frames per read. Sets *taken to
 * how many it took (all on error); it stops after one that paused the
 * pipe, and the transport keeps the rest until recv_resume. Returns as
 * spry__pipe_deliver.
 */
int spry__pipe_deliver_n(
    spry__pipe *p, spry_msg *const *m, size_t n, size_t *taken);

/*
 * spry__pipe_tx_block / spry__pipe_tx_ready: the transport says it will
 * take no more / takes messages again (txfull). tx_ready pokes the
 * socket. Call them in an order the transport itself serializes.
 */
void spry__pipe_tx_block(spry__pipe *p);
void spry__pipe_tx_ready(spry__pipe *p);

/*
 * spry__pipe_tx_ready_here is spry__pipe_tx_ready for a caller that holds
 * no lock at all: the sends it unblocks run on this thread when the
 * socket's send lock is free, instead of on a worker after a wake-up.
 */
void spry__pipe_tx_ready_here(spry__pipe *p);

/*
 * spry__pipe_closed: the transport lost the connection (or the socket
 * closed it). Removes p from its socket, tells the protocol and the
 * pipe-event subscribers, and restarts its dialer. Idempotent.
 */
void spry__pipe_closed(spry__pipe *p);

/* ---- transports and endpoints ------------------------------------------ */

/*
 * spry__tran: a transport. Pipe functions may be called from any
 * thread, never with a socket lk held (txlk may be held for send).
 */
struct spry__tran {
	const char *scheme; /* URL scheme: "inproc", "tcp", ... */
	/* listen binds ep->url; SPRY_EADDRINUSE and such. */
	int (*listen)(spry__ep *ep);
	/*
	 * dial makes one connection attempt and reports it, now or later,
	 * through spry__ep_dialed.
	 */
	int (*dial)(spry__ep *ep);
	/* ep_close stops a listener or dialer's transport side. */
	void (*ep_close)(spry__ep *ep);
	/* ep_free frees what listen or dial kept in ep->tdata. */
	void (*ep_free)(spry__ep *ep);
	/*
	 * send takes m (header and body) for the peer: 0 (taken) or
	 * SPRY_ECLOSED (not taken). May call spry__pipe_tx_block before
	 * returning.
	 */
	int (*send)(spry__pipe *p, spry_msg *m);
	/*
	 * recv_pause (lk held) and recv_resume (no socket lock held): see
	 * spry__pipe_deliver.
	 */
	void (*recv_pause)(spry__pipe *p);
	void (*recv_resume)(spry__pipe *p);
	/* close closes the connection; then spry__pipe_closed follows. */
	void (*close)(spry__pipe *p);
	/* free frees tdata (the last reference went). */
	void (*free)(spry__pipe *p);
	/*
	 * Optional (NULL: the transport has no descriptor to wait on): a
	 * thread about to block receiving on p's socket reads p itself.
	 * rx_own gives it the right to (false: another thread has it, or p
	 * cannot receive now) and the descriptor to wait on, readable when
	 * there is something to read; rx_read reads and delivers what is
	 * there, and tells whether p can still receive; rx_disown gives the
	 * right back. No socket lock held.
	 */
	bool (*rx_own)(spry__pipe *p, int *fd);
	bool (*rx_read)(spry__pipe *p);
	void (*rx_disown)(spry__pipe *p);
};

/* spry__tran_register adds a transport (at load; not thread safe). */
void spry__tran_register(const spry__tran *t);

/* spry__ep: a listener or a dialer. */
struct spry__ep {
	spry__ep         *next;     /* in s->eps (lk) */
	spry_socket      *s;        /* held */
	const spry__tran *tran;     /* fixed */
	spry__url        *url;      /* parsed; fixed */
	void             *tdata;    /* transport's */
	spry__pipe       *pipe;     /* dialer: its current pipe (lk) */
	spry_duration     backoff;  /* dialer: current retry bound (lk) */
	uint32_t          refs;     /* references (atomic) */
	bool              dialer;   /* fixed */
	bool              closed;   /* (lk) */
	bool              retrying; /* dialer: a retry timer is armed (lk) */
	void             *first;    /* a blocking spry_dial waits here (lk) */
	uint64_t          id;       /* names it in retry timers; fixed */
};

/*
 * spry__ep_dialed reports a dial attempt: err 0 with a started pipe, or
 * an error (the core retries after the backoff).
 */
void spry__ep_dialed(spry__ep *ep, int err);

/* spry__ep_hold / release: references on an endpoint. */
void spry__ep_hold(spry__ep *ep);
void spry__ep_release(spry__ep *ep);

/* ---- internals between the core files --------------------------------- */

/* SPRY__SOCK_MAXBUF: the deepest send or receive buffer. */
#define SPRY__SOCK_MAXBUF 8192

/* sp/endpoint.c */
void spry__ep_retry(spry_socket *s, uint64_t id); /* actor turn: redial */
void spry__ep_retry_after(spry__ep *ep, spry_duration delay); /* sp/socket.c */
void spry__ep_pipe_gone(spry__ep *ep, spry__pipe *p);         /* lk */
void spry__eps_close(spry__ep *list); /* closes and releases a list */

/* sp/consumer.c */
int  spry__consumer_init(spry_socket *s, size_t recvbuf);
void spry__consumer_close(spry_socket *s); /* lk: close, event, unlink */
void spry__sock_rx_kick(spry_socket *s);   /* actor turn: place paused */
int  spry__sock_place(spry_socket *s, spry__pipe *p, spry_msg *m,
     spry_mailbox *to); /* lk: 0 or SPRY_EAGAIN (m kept) */
void spry__sock_rx_wait(spry_socket *s, spry__pipe *p);        /* lk: arm */
void spry__sock_events(spry_socket *s, spry__pipe *p, int ev); /* lk */
void spry__consumer_disarm(spry_socket *s, spry__pipe *p);     /* lk */
void spry__sock_rx_pause(
    spry_socket *s, spry__pipe *p, spry_msg *m, spry_mailbox *to); /* lk */
void spry__sock_rx_forget(spry_socket *s, spry__pipe *p);          /* lk */

/* sp/option.c */
int spry__opt_set(spry_socket *s, int opt, const spry_optval *v);
int spry__opt_get(spry_socket *s, int opt, spry_optval *v);

#endif /* SPRY_SP_SOCKET_H */
