/* SPDX-License-Identifier: MIT */
/*
 * examples/service: an actor-based REQ/REP service under a supervisor,
 * over tcp loopback, with a deadline. The demo that scripts/demo.sh runs.
 *
 *	client threads --REQ--> tcp://127.0.0.1:<port> --REP--> worker actors
 *
 * A supervisor (rest-for-one) owns the REP socket and WORKERS worker
 * actors. The REP socket is a child like any other: its start function
 * opens the socket with the child ctx and hands out spry_socket_actor(s),
 * so the supervisor starts, watches and stops it. Each worker subscribes
 * its own mailbox to the REP socket; the socket hands each request to
 * one worker (the first with room, taking turns), and the worker answers
 * with the request message itself, whose header holds the route back.
 *
 * main opens one REQ socket and dials the service. CLIENTS threads share
 * it: each request carries its client's reply mailbox
 * (spry_msg_set_reply), so several requests are in flight on one socket
 * at once. The whole tree runs under a ctx with a deadline; when it
 * passes, the supervisor's children end (the REP socket closes, the
 * workers get SPRY_EV_CANCEL), the clients' waits end with
 * SPRY_ETIMEDOUT, and main cleans up and prints the statistics.
 *
 * Usage: service [URL]   (default tcp://127.0.0.1:0: the system picks a
 * port, which spry_listener_url reports.)
 *
 * Ownership: a request is allocated by its client; a successful send
 * hands it to the socket; the worker that receives it owns it and hands
 * it back to the socket as the reply; the client frees the reply.
 * Messages left in a mailbox nobody reads are freed by its dispose
 * callback. The REP socket handle is owned by the service slot; each
 * worker holds its own reference while it serves.
 */
#include <spry/spry.h>

#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define WORKERS 3                /* worker actors answering requests */
#define CLIENTS 2                /* client threads sharing the REQ socket */
#define PACE SPRY_MSEC(100)      /* between two requests of one client */
#define DEADLINE SPRY_MSEC(1000) /* the service's lifetime */
#define URL_MAX 1025             /* spry_listener_url always fits */

typedef struct service service;

/* worker_spec: what a worker's start function needs (in service). */
typedef struct worker_spec {
	service *svc; /* the service, borrowed */
	unsigned id;  /* 1..WORKERS, printed in every reply */
} worker_spec;

/* service: what main, the start functions and the actors share. */
struct service {
	pthread_mutex_t mu;           /* guards rep, url and ready */
	spry_socket    *rep;          /* current REP socket, owned (mu) */
	char            url[URL_MAX]; /* where it listens; first the URL to
	                                 listen on, then the bound one (mu) */
	unsigned      ready;          /* workers subscribed so far (mu) */
	spry_mailbox *ready_mb;       /* gets one item once all WORKERS have
	                                 subscribed; fixed before start */
	worker_spec workers[WORKERS]; /* start arguments; fixed */
};

/* worker: one worker actor's state; freed by its exit callback. */
typedef struct worker {
	service     *svc;            /* borrowed */
	unsigned     id;             /* 1..WORKERS */
	spry_socket *rep;            /* the socket it serves, held */
	bool         subscribed;     /* its mailbox is a consumer of rep */
	unsigned     served;         /* requests answered */
	char         last_peer[128]; /* address of the last requester */
} worker;

/* client: one client thread. */
typedef struct client {
	unsigned     id;       /* 1..CLIENTS */
	spry_socket *req;      /* shared REQ socket, borrowed from main */
	spry_ctx    *deadline; /* the service's deadline, borrowed */
	unsigned     sent;     /* requests sent */
	unsigned     answered; /* replies received */
	pthread_t    thread;   /* joined by main */
} client;

/* Start of the program, for timestamps; set before any thread starts. */
static spry_time t0;

/* say prints one timestamped line; flockfile keeps it in one piece. */
static void __attribute__((format(printf, 2, 3)))
say(const char *who, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	flockfile(stdout);
	printf(
	    "[%4ld ms] %-9s ", (long)((spry_now() - t0) / SPRY_MSEC(1)), who);
	vprintf(fmt, ap);
	putchar('\n');
	funlockfile(stdout);
	va_end(ap);
}

static const char *
reason_str(int reason)
{
	switch (reason) {
	case SPRY_EXIT_NORMAL:
		return "normal";
	case SPRY_EXIT_SHUTDOWN:
		return "shutdown";
	case SPRY_EXIT_KILLED:
		return "killed";
	default:
		return spry_strerror(reason);
	}
}

/* Dispose callback of mailboxes of messages. */
static void
msg_dispose(void *item, void *arg)
{
	(void)arg;
	spry_msg_free(item);
}

/* ---- the REP socket, a supervised child ----------------------------- */

/*
 * Open the REP socket under the child ctx (it closes when that ends),
 * listen on svc->url and publish it. On a restart svc->url already holds
 * the bound address, so clients' dialers find the new socket at the old
 * port. Runs in the supervisor's actor: nothing here blocks (a numeric
 * tcp address binds at once).
 */
static int
start_rep(spry_ctx *ctx, void *arg, spry_actor **child)
{
	service         *svc = arg;
	spry_socket_opts o   = SPRY_SOCKET_OPTS_INIT;
	spry_socket     *s, *old;
	spry_listener   *l;
	char             url[URL_MAX];
	int              rv;

	o.ctx = ctx;
	if ((rv = spry_socket_open(&s, SPRY_REP0, &o)) != 0) {
		return rv;
	}
	pthread_mutex_lock(&svc->mu);
	memcpy(url, svc->url, sizeof(url));
	pthread_mutex_unlock(&svc->mu);
	if ((rv = spry_listen(s, url, &l)) != 0 ||
	    (rv = spry_listener_url(l, url, sizeof(url))) != 0) {
		say("rep", "cannot listen on %s: %s", url, spry_strerror(rv));
		spry_close(s);
		return rv;
	}
	pthread_mutex_lock(&svc->mu);
	old      = svc->rep;
	svc->rep = s;
	memcpy(svc->url, url, sizeof(url));
	pthread_mutex_unlock(&svc->mu);
	if (old != NULL) {
		spry_close(old); /* closed with its ctx; drops our reference */
	}
	say("rep", "REP socket listening on %s", url);
	*child = spry_socket_actor(s);
	spry_actor_hold(*child); /* the reference the supervisor takes */
	return 0;
}

/* ---- workers -------------------------------------------------------- */

/* Subscribe to the current REP socket; the last one in says ready. */
static int
worker_start(spry_actor *self, worker *w)
{
	service *svc = w->svc;
	int      rv;

	pthread_mutex_lock(&svc->mu);
	w->rep = svc->rep; /* rest-for-one: always the current socket */
	spry_socket_hold(w->rep);
	pthread_mutex_unlock(&svc->mu);
	if ((rv = spry_socket_subscribe(
	         w->rep, spry_actor_mailbox(self), false)) != 0) {
		return rv; /* a failure: the supervisor restarts us */
	}
	w->subscribed = true;
	say("worker", "%u START: serving requests", w->id);
	pthread_mutex_lock(&svc->mu);
	if (++svc->ready == WORKERS) {
		spry_mailbox_trysend(svc->ready_mb, svc);
	}
	pthread_mutex_unlock(&svc->mu);
	return SPRY_CONTINUE;
}

/*
 * Answer request m (body: n) with n squared and our id, in m itself: its
 * header routes the reply to the requester. Never blocks: when the
 * socket's send mailbox is full the reply is dropped (the requester
 * would resend after SPRY_OPT_RESENDTIME).
 */
static int
worker_serve(worker *w, spry_msg *m)
{
	uint32_t n;
	int      rv;

	if ((rv = spry_msg_err(m)) != 0) { /* an event, e.g. closed */
		say("worker", "%u event: %s", w->id, spry_strerror(rv));
		spry_msg_free(m);
		return SPRY_CONTINUE;
	}
	snprintf(w->last_peer, sizeof(w->last_peer), "%s", spry_msg_peer(m));
	if (spry_msg_trim_u32(m, &n) != 0 || spry_msg_len(m) != 0) {
		spry_msg_free(m); /* not a request of ours: ignore it */
		return SPRY_CONTINUE;
	}
	if (spry_msg_append_u32(m, n * n) != 0 ||
	    spry_msg_append_u32(m, w->id) != 0 ||
	    (rv = spry_mailbox_trysend(
	         spry_socket_sendbox(w->rep, NULL), m)) != 0) {
		spry_msg_free(m);
		return SPRY_CONTINUE;
	}
	w->served++;
	return SPRY_CONTINUE;
}

static int
worker_behavior(spry_actor *self, const spry_event *ev, void *state)
{
	worker *w = state;

	switch (ev->type) {
	case SPRY_EV_START:
		return worker_start(self, w);
	case SPRY_EV_MSG:
		return worker_serve(w, ev->msg);
	case SPRY_EV_CANCEL:
		say("worker", "%u CANCEL (%s): stopping", w->id,
		    spry_strerror(ev->reason));
		return SPRY_EXIT_SHUTDOWN;
	default:
		return SPRY_CONTINUE;
	}
}

/* Exit callback: leave the socket, say goodbye, free the state. */
static void
worker_exit(spry_actor *self, int reason, void *state)
{
	worker *w = state;

	if (w->subscribed) {
		spry_socket_unsubscribe(w->rep, spry_actor_mailbox(self));
	}
	if (w->rep != NULL) {
		spry_socket_release(w->rep);
	}
	say("worker", "%u EXIT (%s): served %u request(s)%s%s", w->id,
	    reason_str(reason), w->served,
	    w->last_peer[0] != '\0' ? ", the last from " : "", w->last_peer);
	free(w);
}

static int
start_worker(spry_ctx *ctx, void *arg, spry_actor **child)
{
	worker_spec    *spec = arg;
	spry_actor_opts opts = SPRY_ACTOR_OPTS_INIT;
	worker         *w;
	int             rv;

	if ((w = calloc(1, sizeof(*w))) == NULL) {
		return SPRY_ENOMEM;
	}
	w->svc          = spec->svc;
	w->id           = spec->id;
	opts.behavior   = worker_behavior;
	opts.state      = w;
	opts.ctx        = ctx; /* ends when the supervisor says so */
	opts.exit_cb    = worker_exit;
	opts.dispose_cb = msg_dispose; /* requests nobody will answer */
	if ((rv = spry_actor_spawn(child, &opts)) != 0) {
		free(w); /* never started: no exit callback will run */
	}
	return rv;
}

/*
 * The tree: the REP socket first, then the workers. Rest-for-one: if
 * the socket fails, the workers (started after it) restart with it and
 * subscribe to the new socket; a failed worker restarts with the
 * workers after it, which is harmless: they only hold a subscription.
 */
static int
start_tree(service *svc, spry_ctx *ctx, spry_actor **sup)
{
	spry_supervisor_opts opts = SPRY_SUPERVISOR_OPTS_INIT;
	spry_child_spec      children[1 + WORKERS];

	children[0] = (spry_child_spec){
	    "rep", start_rep, svc, SPRY_PERMANENT, SPRY_MSEC(500)};
	for (unsigned i = 0; i < WORKERS; i++) {
		svc->workers[i] = (worker_spec){svc, i + 1};
		children[1 + i] = (spry_child_spec){"worker", start_worker,
		    &svc->workers[i], SPRY_PERMANENT, SPRY_MSEC(500)};
	}
	opts.strategy  = SPRY_REST_FOR_ONE;
	opts.intensity = 3;
	opts.period    = SPRY_SEC(5);
	opts.ctx       = ctx; /* the deadline ends the whole tree */
	opts.children  = children;
	opts.nchildren = 1 + WORKERS;
	return spry_supervisor_start(sup, &opts);
}

/* ---- clients -------------------------------------------------------- */

/* Wait for d, or less when ctx ends first; returns spry_ctx_err(ctx). */
static int
pause_under(spry_ctx *ctx, spry_duration d)
{
	spry_ctx *t;
	void     *none;

	if (spry_ctx_with_timeout(&t, ctx, d) != 0) {
		return spry_ctx_err(ctx);
	}
	/* Nothing is sent on a done mailbox: this returns when t ends. */
	(void)spry_mailbox_recv(NULL, spry_ctx_done(t), &none);
	spry_ctx_cancel(t);
	spry_ctx_release(t);
	return spry_ctx_err(ctx);
}

/* One request: send n, wait for the reply in our own mailbox. */
static int
client_request(client *c, spry_mailbox *replies, uint32_t n)
{
	spry_msg *m;
	void     *item;
	uint32_t  square, by;
	int       rv;

	if ((rv = spry_msg_alloc(&m, 0)) != 0 ||
	    (rv = spry_msg_append_u32(m, n)) != 0 ||
	    (rv = spry_msg_set_reply(m, replies)) != 0 ||
	    (rv = spry_send_ctx(c->deadline, c->req, m)) != 0) {
		spry_msg_free(m); /* a failed send leaves m with us */
		return rv;
	}
	c->sent++;
	if ((rv = spry_mailbox_recv(c->deadline, replies, &item)) != 0) {
		return rv; /* the deadline: SPRY_ETIMEDOUT */
	}
	m = item; /* ours now */
	if ((rv = spry_msg_err(m)) == 0 &&
	    (spry_msg_trim_u32(m, &square) != 0 ||
	        spry_msg_trim_u32(m, &by) != 0)) {
		rv = SPRY_EPROTO;
	}
	spry_msg_free(m);
	if (rv == 0) {
		c->answered++;
		say("client", "%u: %2u squared is %3u, served by worker %u",
		    c->id, n, square, by);
	}
	return rv;
}

static void *
client_main(void *arg)
{
	client           *c = arg;
	spry_mailbox_opts o = SPRY_MAILBOX_OPTS_INIT;
	spry_mailbox     *replies;
	uint32_t          n = c->id; /* client 1 asks 1, 3, 5...; 2: 2, 4 */
	int               rv;

	o.capacity   = 4;
	o.dispose_cb = msg_dispose; /* a reply that came too late */
	if ((rv = spry_mailbox_open_opts(&replies, &o)) != 0) {
		say("client", "%u: mailbox: %s", c->id, spry_strerror(rv));
		return NULL;
	}
	while ((rv = client_request(c, replies, n)) == 0 &&
	    (rv = pause_under(c->deadline, PACE)) == 0) {
		n += CLIENTS;
	}
	say("client", "%u: stopping (%s): %u request(s), %u answered", c->id,
	    spry_strerror(rv), c->sent, c->answered);
	/* The socket keeps its own reference while a request is out. */
	spry_mailbox_release(replies);
	return NULL;
}

/* ---- main ----------------------------------------------------------- */

/* Open the REQ socket and dial the service's bound URL. */
static int
open_client_socket(service *svc, spry_socket **req)
{
	char url[URL_MAX];
	int  rv;

	pthread_mutex_lock(&svc->mu);
	memcpy(url, svc->url, sizeof(url));
	pthread_mutex_unlock(&svc->mu);
	if ((rv = spry_socket_open(req, SPRY_REQ0, NULL)) != 0) {
		return rv;
	}
	if ((rv = spry_dial(*req, url, NULL, 0)) != 0) {
		say("main", "cannot dial %s: %s", url, spry_strerror(rv));
		spry_close(*req);
		*req = NULL;
		return rv;
	}
	say("main", "REQ socket connected to %s; %d client threads start", url,
	    CLIENTS);
	return 0;
}

/* Print what the sockets counted. */
static void
print_stats(service *svc, spry_socket *req, unsigned answered)
{
	spry_socket_stats rq, rp;

	spry_socket_stats_get(req, &rq);
	spry_socket_stats_get(svc->rep, &rp); /* the supervisor has ended */
	say("main",
	    "REQ: %llu sent, %llu received; REP: %llu received, "
	    "%llu sent; clients got %u replies",
	    (unsigned long long)rq.sent, (unsigned long long)rq.received,
	    (unsigned long long)rp.received, (unsigned long long)rp.sent,
	    answered);
}

/* Wait for the deadline, then for the supervisor (at most 5 s more). */
static int
wait_for_shutdown(spry_ctx *deadline, spry_actor *sup)
{
	spry_ctx *safety;
	void     *none;
	int       rv, reason = 0;

	(void)spry_mailbox_recv(NULL, spry_ctx_done(deadline), &none);
	say("main", "deadline reached (%s): the supervisor stops the tree",
	    spry_strerror(spry_ctx_err(deadline)));
	if ((rv = spry_ctx_with_timeout(&safety, NULL, SPRY_SEC(5))) != 0) {
		return rv;
	}
	if ((rv = spry_actor_wait(safety, sup, &reason)) == 0) {
		say("main", "supervisor exited (%s) after %llu restart(s)",
		    reason_str(reason),
		    (unsigned long long)spry_supervisor_restarts(sup));
	} else {
		say("main", "supervisor did not end: %s", spry_strerror(rv));
	}
	spry_ctx_cancel(safety);
	spry_ctx_release(safety);
	return rv;
}

/* Run the clients against the started service until the deadline. */
static int
run_clients(service *svc, spry_ctx *deadline, spry_actor *sup)
{
	client       clients[CLIENTS];
	spry_socket *req;
	void        *none;
	unsigned     answered = 0, started = 0;
	int          rv;

	/* Wait until every worker has subscribed, then connect. */
	if ((rv = spry_mailbox_recv(deadline, svc->ready_mb, &none)) != 0 ||
	    (rv = open_client_socket(svc, &req)) != 0) {
		spry_ctx_cancel(deadline); /* stop the tree at once */
		wait_for_shutdown(deadline, sup);
		return 1;
	}
	for (unsigned i = 0; i < CLIENTS; i++) {
		clients[i] = (client){i + 1, req, deadline, 0, 0, 0};
		if (pthread_create(&clients[i].thread, NULL, client_main,
		        &clients[i]) != 0) {
			say("main", "cannot start client %u", i + 1);
			break;
		}
		started++;
	}
	rv = wait_for_shutdown(deadline, sup);
	for (unsigned i = 0; i < started; i++) {
		pthread_join(clients[i].thread, NULL);
		answered += clients[i].answered;
	}
	print_stats(svc, req, answered);
	spry_close(req);
	return rv == 0 && answered > 0 ? 0 : 1;
}

int
main(int argc, char **argv)
{
	service     svc = {.mu = PTHREAD_MUTEX_INITIALIZER};
	spry_ctx   *deadline;
	spry_actor *sup;
	int         rv;

	setvbuf(stdout, NULL, _IOLBF, 0); /* lines appear as they happen */
	t0 = spry_now();
	snprintf(svc.url, sizeof(svc.url), "%s",
	    argc > 1 ? argv[1] : "tcp://127.0.0.1:0");
	printf(
	    "spry service demo: %d REP worker actors under a supervisor, "
	    "%d client threads on one REQ socket,\nover %s, for %ld ms.\n\n",
	    WORKERS, CLIENTS, svc.url, (long)(DEADLINE / SPRY_MSEC(1)));
	if ((rv = spry_mailbox_open(&svc.ready_mb, 2)) != 0 ||
	    (rv = spry_ctx_with_timeout(&deadline, NULL, DEADLINE)) != 0) {
		fprintf(stderr, "setup: %s\n", spry_strerror(rv));
		return 1;
	}
	if ((rv = start_tree(&svc, deadline, &sup)) != 0) {
		fprintf(stderr, "supervisor: %s\n", spry_strerror(rv));
		return 1;
	}
	say("main",
	    "supervisor started: rep + %d workers, deadline in "
	    "%ld ms",
	    WORKERS, (long)(DEADLINE / SPRY_MSEC(1)));
	rv = run_clients(&svc, deadline, sup);

	spry_actor_release(sup);
	if (svc.rep != NULL) {
		spry_close(svc.rep); /* closed with its ctx: drops the ref */
	}
	spry_mailbox_release(svc.ready_mb);
	spry_ctx_release(deadline);
	spry_runtime_stop();
	say("main", "runtime stopped; bye");
	return rv;
}
