/* SPDX-License-Identifier: MIT */
/*
 * bench/inproc_lat.c: REQ/REP round trips over inproc, spry against NNG
 * (1.5, req0/rep0) and ZeroMQ (ZMQ_REQ/ZMQ_REP), all linked in and
 * measured here; named after NNG's perf tool inproc_lat. A request is a
 * 64-byte message; the reply is the same message sent back. Figures, in
 * ns per round trip (lower is better):
 *
 *   inproc_lat        two threads, blocking API: this thread requests
 *                     (spry_send then spry_recv; nng_sendmsg then
 *                     nng_recvmsg; zmq_send then zmq_recv) while a
 *                     replier thread receives and sends each request
 *                     back.
 *   inproc_lat_actor  two spry actors: each subscribes its own mailbox
 *                     (spry_actor_mailbox) to its socket and sends with
 *                     spry_mailbox_trysend into spry_socket_sendbox; the
 *                     requester sends the next request when a reply
 *                     comes in. NNG: the same with aio callbacks
 *                     (nng_send_aio/nng_recv_aio on both sockets).
 *                     ZeroMQ has no callbacks: zmq= is its blocking
 *                     figure, the one ratio= compares with.
 *
 * Each implementation's sockets are opened and connected once and serve
 * the warm-up and every timed run; a run times its round trips only (NNG's
 * blocking figure makes fewer of them, see LAT_NNG_SHARE).
 * Every reply is checked (length, and the round number the requester
 * wrote in it); a wrong one fails the program.
 */
#include "bench.h"
#include "inproc.h"

#include <pthread.h>

#include <nng/protocol/reqrep0/rep.h>
#include <nng/protocol/reqrep0/req.h>

#define LAT_SIZE 64 /* bytes per request and reply */

/*
 * LAT_NNG_SHARE: NNG's blocking calls cost tens of microseconds each
 * (every one is an aio handed to NNG's task threads), so its blocking
 * figure makes this many times fewer round trips per run, lest the
 * program take minutes; the mean does not depend on the count.
 */
#define LAT_NNG_SHARE 4

/* lat_put writes the round number at the front of a message body. */
static inline void
lat_put(void *body, uint64_t round)
{
	memcpy(body, &round, sizeof round);
}

/* lat_ok tells whether a reply of len bytes carries round. */
static inline bool
lat_ok(const void *body, size_t len, uint64_t round)
{
	uint64_t got;

	if (len != LAT_SIZE)
		return false;
	memcpy(&got, body, sizeof got);
	return got == round;
}

/* lat_verdict sets vals[0] to ns per round trip and judges the run. */
static int
lat_verdict(
    const char *who, uint64_t rounds, uint64_t bad, uint64_t ns, double *vals)
{
	vals[0] = (double)ns / (double)rounds;
	if (bad != 0) {
		fprintf(stderr, "inproc_lat %s: %llu of %llu replies wrong\n",
		    who, (unsigned long long)bad, (unsigned long long)rounds);
		return 1;
	}
	return 0;
}

/* lat_spawn starts a replier thread. */
static void
lat_spawn(pthread_t *t, void *(*fn)(void *), void *arg)
{
	int rv = pthread_create(t, NULL, fn, arg);

	if (rv != 0)
		bench_fail("pthread_create: %s", strerror(rv));
}

/* ---- ZeroMQ, blocking ----------------------------------------------------
 */

struct zlat {
	void    *ctx;    /* the ZeroMQ context */
	void    *req;    /* ZMQ_REQ, connected to rep */
	void    *rep;    /* ZMQ_REP, bound */
	uint64_t rounds; /* round trips per run */
};

static void *
zlat_replier(void *arg)
{
	struct zlat *z = arg;
	char         buf[LAT_SIZE];

	for (uint64_t i = 0; i < z->rounds; i++) {
		int n = zmq_recv(z->rep, buf, sizeof buf, 0);

		inproc_zmq_ok(n, "zmq_recv (rep)");
		inproc_zmq_ok(
		    zmq_send(z->rep, buf, (size_t)n, 0), "zmq_send (rep)");
	}
	return NULL;
}

static int
zlat_run(void *arg, double *vals)
{
	struct zlat *z             = arg;
	char         buf[LAT_SIZE] = {0};
	uint64_t     bad           = 0, t0, t1;
	pthread_t    t;

	lat_spawn(&t, zlat_replier, z);
	t0 = bench_now();
	for (uint64_t i = 1; i <= z->rounds; i++) {
		int n;

		lat_put(buf, i);
		inproc_zmq_ok(
		    zmq_send(z->req, buf, sizeof buf, 0), "zmq_send");
		n = zmq_recv(z->req, buf, sizeof buf, 0);
		inproc_zmq_ok(n, "zmq_recv");
		if (!lat_ok(buf, (size_t)n, i))
			bad++;
	}
	t1 = bench_now();
	pthread_join(t, NULL);
	return lat_verdict("zmq", z->rounds, bad, t1 - t0, vals);
}

static void
zlat_open(struct zlat *z)
{
	int linger = 0;

	if ((z->ctx = zmq_ctx_new()) == NULL)
		bench_fail("zmq_ctx_new: %s", zmq_strerror(zmq_errno()));
	z->req = zmq_socket(z->ctx, ZMQ_REQ);
	z->rep = zmq_socket(z->ctx, ZMQ_REP);
	if (z->req == NULL || z->rep == NULL)
		bench_fail("zmq_socket: %s", zmq_strerror(zmq_errno()));
	inproc_zmq_ok(
	    zmq_setsockopt(z->req, ZMQ_LINGER, &linger, sizeof linger),
	    "zmq_setsockopt");
	inproc_zmq_ok(
	    zmq_setsockopt(z->rep, ZMQ_LINGER, &linger, sizeof linger),
	    "zmq_setsockopt");
	inproc_zmq_ok(zmq_bind(z->rep, "inproc://inproc_lat"), "zmq_bind");
	inproc_zmq_ok(
	    zmq_connect(z->req, "inproc://inproc_lat"), "zmq_connect");
}

static void
zlat_close(struct zlat *z)
{
	zmq_close(z->req);
	zmq_close(z->rep);
	zmq_ctx_term(z->ctx);
}

/* ---- NNG, blocking and aio ------------------------------------------------
 */

struct nlat {
	nng_socket req;    /* req0, dialed to rep */
	nng_socket rep;    /* rep0, listening */
	uint64_t   rounds; /* round trips per run */
	/* aio figure: */
	nng_aio        *req_tx, *req_rx; /* requester's send and receive */
	nng_aio        *rep_tx, *rep_rx; /* replier's send and receive */
	uint64_t        round;           /* requester: replies so far */
	uint64_t        replied;         /* replier: replies sent */
	uint64_t        bad;             /* wrong replies */
	uint64_t        t1;              /* when the last reply came */
	int             done;            /* sides finished (0..2) */
	pthread_mutex_t mu;              /* guards done */
	pthread_cond_t  cv;              /* signals done */
};

static void *
nlat_replier(void *arg)
{
	struct nlat *n = arg;

	for (uint64_t i = 0; i < n->rounds; i++) {
		nng_msg *m;

		inproc_nng_ok(nng_recvmsg(n->rep, &m, 0), "nng_recvmsg (rep)");
		inproc_nng_ok(nng_sendmsg(n->rep, m, 0), "nng_sendmsg (rep)");
	}
	return NULL;
}

static int
nlat_run(void *arg, double *vals)
{
	struct nlat *n   = arg;
	uint64_t     bad = 0, t0, t1;
	nng_msg     *m;
	pthread_t    t;

	inproc_nng_ok(nng_msg_alloc(&m, LAT_SIZE), "nng_msg_alloc");
	lat_spawn(&t, nlat_replier, n);
	t0 = bench_now();
	for (uint64_t i = 1; i <= n->rounds; i++) {
		lat_put(nng_msg_body(m), i);
		inproc_nng_ok(nng_sendmsg(n->req, m, 0), "nng_sendmsg");
		inproc_nng_ok(nng_recvmsg(n->req, &m, 0), "nng_recvmsg");
		if (!lat_ok(nng_msg_body(m), nng_msg_len(m), i))
			bad++;
	}
	t1 = bench_now();
	nng_msg_free(m);
	pthread_join(t, NULL);
	return lat_verdict("nng", n->rounds, bad, t1 - t0, vals);
}

/* nlat_finish: one side of the aio figure is done. */
static void
nlat_finish(struct nlat *n)
{
	pthread_mutex_lock(&n->mu);
	n->done++;
	pthread_cond_signal(&n->cv);
	pthread_mutex_unlock(&n->mu);
}

/* nlat_result fails the benchmark when an aio failed. */
static void
nlat_result(nng_aio *aio, const char *what)
{
	int rv = nng_aio_result(aio);

	if (rv != 0)
		bench_fail("%s: %s", what, nng_strerror(rv));
}

static void
nlat_req_tx_cb(void *arg)
{
	struct nlat *n = arg;

	nlat_result(n->req_tx, "nng_send_aio");
	nng_recv_aio(n->req, n->req_rx);
}

static void
nlat_req_rx_cb(void *arg)
{
	struct nlat *n = arg;
	nng_msg     *m;

	nlat_result(n->req_rx, "nng_recv_aio");
	m = nng_aio_get_msg(n->req_rx);
	if (!lat_ok(nng_msg_body(m), nng_msg_len(m), ++n->round))
		n->bad++;
	if (n->round == n->rounds) {
		n->t1 = bench_now();
		nng_msg_free(m);
		nlat_finish(n);
		return;
	}
	lat_put(nng_msg_body(m), n->round + 1);
	nng_aio_set_msg(n->req_tx, m);
	nng_send_aio(n->req, n->req_tx);
}

static void
nlat_rep_rx_cb(void *arg)
{
	struct nlat *n = arg;

	nlat_result(n->rep_rx, "nng_recv_aio (rep)");
	nng_aio_set_msg(n->rep_tx, nng_aio_get_msg(n->rep_rx));
	nng_send_aio(n->rep, n->rep_tx);
}

static void
nlat_rep_tx_cb(void *arg)
{
	struct nlat *n = arg;

	nlat_result(n->rep_tx, "nng_send_aio (rep)");
	if (++n->replied < n->rounds)
		nng_recv_aio(n->rep, n->rep_rx);
	else
		nlat_finish(n);
}

static int
nlat_aio_run(void *arg, double *vals)
{
	struct nlat *n = arg;
	nng_msg     *m;
	uint64_t     t0;

	n->round = n->replied = n->bad = 0;
	n->done                        = 0;
	inproc_nng_ok(nng_msg_alloc(&m, LAT_SIZE), "nng_msg_alloc");
	lat_put(nng_msg_body(m), 1);
	nng_recv_aio(n->rep, n->rep_rx);
	t0 = bench_now();
	nng_aio_set_msg(n->req_tx, m);
	nng_send_aio(n->req, n->req_tx);
	pthread_mutex_lock(&n->mu);
	while (n->done < 2)
		pthread_cond_wait(&n->cv, &n->mu);
	pthread_mutex_unlock(&n->mu);
	return lat_verdict("nng aio", n->rounds, n->bad, n->t1 - t0, vals);
}

static void
nlat_open(struct nlat *n)
{
	inproc_nng_ok(nng_req0_open(&n->req), "nng_req0_open");
	inproc_nng_ok(nng_rep0_open(&n->rep), "nng_rep0_open");
	inproc_nng_ok(
	    nng_listen(n->rep, "inproc://inproc_lat", NULL, 0), "nng_listen");
	inproc_nng_ok(
	    nng_dial(n->req, "inproc://inproc_lat", NULL, 0), "nng_dial");
	inproc_nng_ok(
	    nng_aio_alloc(&n->req_tx, nlat_req_tx_cb, n), "nng_aio_alloc");
	inproc_nng_ok(
	    nng_aio_alloc(&n->req_rx, nlat_req_rx_cb, n), "nng_aio_alloc");
	inproc_nng_ok(
	    nng_aio_alloc(&n->rep_tx, nlat_rep_tx_cb, n), "nng_aio_alloc");
	inproc_nng_ok(
	    nng_aio_alloc(&n->rep_rx, nlat_rep_rx_cb, n), "nng_aio_alloc");
	pthread_mutex_init(&n->mu, NULL);
	pthread_cond_init(&n->cv, NULL);
}

static void
nlat_close(struct nlat *n)
{
	nng_aio_free(n->req_tx);
	nng_aio_free(n->req_rx);
	nng_aio_free(n->rep_tx);
	nng_aio_free(n->rep_rx);
	nng_close(n->req);
	nng_close(n->rep);
	pthread_mutex_destroy(&n->mu);
	pthread_cond_destroy(&n->cv);
}

/* ---- spry, blocking and actors --------------------------------------------
 */

struct slat {
	spry_socket *req;    /* REQ0, dialed to rep */
	spry_socket *rep;    /* REP0, listening */
	uint64_t     rounds; /* round trips per run */
};

static void *
slat_replier(void *arg)
{
	struct slat *s = arg;

	for (uint64_t i = 0; i < s->rounds; i++) {
		spry_msg *m;

		inproc_spry_ok(spry_recv(s->rep, &m, 0), "spry_recv (rep)");
		inproc_spry_ok(spry_send(s->rep, m, 0), "spry_send (rep)");
	}
	return NULL;
}

static int
slat_run(void *arg, double *vals)
{
	struct slat *s   = arg;
	uint64_t     bad = 0, t0, t1;
	spry_msg    *m;
	pthread_t    t;

	inproc_spry_ok(spry_msg_alloc(&m, LAT_SIZE), "spry_msg_alloc");
	lat_spawn(&t, slat_replier, s);
	t0 = bench_now();
	for (uint64_t i = 1; i <= s->rounds; i++) {
		/* The reply is the next request: drop its REQ header. */
		spry_msg_header_clear(m);
		lat_put(spry_msg_body(m), i);
		inproc_spry_ok(spry_send(s->req, m, 0), "spry_send");
		inproc_spry_ok(spry_recv(s->req, &m, 0), "spry_recv");
		if (!lat_ok(spry_msg_body(m), spry_msg_len(m), i))
			bad++;
	}
	t1 = bench_now();
	spry_msg_free(m);
	pthread_join(t, NULL);
	return lat_verdict("spry", s->rounds, bad, t1 - t0, vals);
}

/* salat: the actor figure; the actors' state. */
struct salat {
	spry_socket  *req;        /* REQ0, dialed to rep */
	spry_socket  *rep;        /* REP0, listening */
	spry_mailbox *req_tx;     /* req's sendbox */
	spry_mailbox *rep_tx;     /* rep's sendbox */
	uint64_t      rounds;     /* round trips per run */
	uint64_t      round;      /* requester: replies so far */
	uint64_t      bad;        /* requester: wrong replies */
	uint64_t      req_events; /* requester: error events */
	uint64_t      rep_events; /* replier: error events */
	uint64_t      t0, t1;     /* requester: first request, last reply */
	int           req_err;    /* requester: first failure, or 0 */
	int           rep_err;    /* replier: first failure, or 0 */
	spry_actor   *replier;    /* the replier actor */
	spry_actor   *requester;  /* the requester actor */
};

/* salat_request sends request number round from the requester. */
static int
salat_request(struct salat *a, spry_msg *m, uint64_t round)
{
	int rv;

	spry_msg_header_clear(m);
	lat_put(spry_msg_body(m), round);
	if ((rv = spry_mailbox_trysend(a->req_tx, m)) != 0) {
		spry_msg_free(m);
		a->req_err = rv;
		return rv;
	}
	return SPRY_CONTINUE;
}

static int
salat_requester(spry_actor *self, const spry_event *ev, void *state)
{
	struct salat *a = state;
	spry_msg     *m;
	int           rv;

	switch (ev->type) {
	case SPRY_EV_START:
		rv = spry_socket_subscribe(
		    a->req, spry_actor_mailbox(self), false);
		if (rv == 0)
			rv = spry_msg_alloc(&m, LAT_SIZE);
		if (rv != 0) {
			a->req_err = rv;
			return rv;
		}
		a->t0 = bench_now();
		return salat_request(a, m, 1);
	case SPRY_EV_MSG:
		m = ev->msg;
		if (spry_msg_err(m) != 0) {
			a->req_events++;
			spry_msg_free(m);
			return SPRY_CONTINUE;
		}
		if (!lat_ok(spry_msg_body(m), spry_msg_len(m), ++a->round))
			a->bad++;
		if (a->round == a->rounds) {
			a->t1 = bench_now();
			spry_msg_free(m);
			return SPRY_EXIT_NORMAL;
		}
		return salat_request(a, m, a->round + 1);
	default:
		return SPRY_CONTINUE;
	}
}

static int
salat_replier(spry_actor *self, const spry_event *ev, void *state)
{
	struct salat *a = state;
	spry_msg     *m = ev->msg;
	int           rv;

	(void)self;
	if (ev->type != SPRY_EV_MSG)
		return SPRY_CONTINUE;
	if (spry_msg_err(m) != 0) {
		a->rep_events++;
		spry_msg_free(m);
		return SPRY_CONTINUE;
	}
	/* The request keeps its route in its header: send it back. */
	if ((rv = spry_mailbox_trysend(a->rep_tx, m)) != 0) {
		spry_msg_free(m);
		a->rep_err = rv;
		return rv;
	}
	return SPRY_CONTINUE;
}

/* salat_dispose frees messages left in an ended actor's mailbox. */
static void
salat_dispose(void *msg, void *arg)
{
	(void)arg;
	spry_msg_free(msg);
}

static spry_actor *
salat_spawn(spry_behavior_fn fn, struct salat *a)
{
	spry_actor_opts opts = SPRY_ACTOR_OPTS_INIT;
	spry_actor     *actor;

	opts.behavior   = fn;
	opts.state      = a;
	opts.dispose_cb = salat_dispose;
	inproc_spry_ok(spry_actor_spawn(&actor, &opts), "spry_actor_spawn");
	return actor;
}

static int
salat_wait(spry_actor *actor)
{
	int reason = 0;

	inproc_spry_ok(
	    spry_actor_wait(NULL, actor, &reason), "spry_actor_wait");
	return reason;
}

static int
salat_run(void *arg, double *vals)
{
	struct salat *a = arg;
	int           rq, rp;

	a->round = a->bad = a->req_events = a->rep_events = 0;
	a->req_err = a->rep_err = 0;
	/* The replier listens before the first request can come; the
	 * requester subscribes itself before it sends. */
	a->replier = salat_spawn(salat_replier, a);
	inproc_spry_ok(spry_socket_subscribe(
	                   a->rep, spry_actor_mailbox(a->replier), false),
	    "spry_socket_subscribe (rep)");
	a->requester = salat_spawn(salat_requester, a);
	rq           = salat_wait(a->requester);
	spry_actor_stop(a->replier);
	rp = salat_wait(a->replier);
	inproc_spry_ok(
	    spry_socket_unsubscribe(a->req, spry_actor_mailbox(a->requester)),
	    "spry_socket_unsubscribe (req)");
	inproc_spry_ok(
	    spry_socket_unsubscribe(a->rep, spry_actor_mailbox(a->replier)),
	    "spry_socket_unsubscribe (rep)");
	spry_actor_release(a->requester);
	spry_actor_release(a->replier);
	if (rq != SPRY_EXIT_NORMAL || a->req_err != 0 || a->rep_err != 0 ||
	    a->req_events + a->rep_events != 0 || a->round != a->rounds) {
		fprintf(stderr,
		    "inproc_lat_actor: requester exit %d (%s), replier exit "
		    "%d (%s), %llu error events, %llu of %llu replies\n",
		    rq, spry_strerror(a->req_err), rp,
		    spry_strerror(a->rep_err),
		    (unsigned long long)(a->req_events + a->rep_events),
		    (unsigned long long)a->round,
		    (unsigned long long)a->rounds);
		return 1;
	}
	return lat_verdict(
	    "spry actors", a->rounds, a->bad, a->t1 - a->t0, vals);
}

/* slat_pair opens a REQ0 socket dialed to a REP0 one listening on url. */
static void
slat_pair(spry_socket **req, spry_socket **rep, const char *url)
{
	inproc_spry_ok(
	    spry_socket_open(rep, SPRY_REP0, NULL), "spry_socket_open (rep)");
	inproc_spry_ok(
	    spry_socket_open(req, SPRY_REQ0, NULL), "spry_socket_open (req)");
	inproc_spry_ok(spry_listen(*rep, url, NULL), "spry_listen");
	inproc_spry_ok(spry_dial(*req, url, NULL, 0), "spry_dial");
}

static spry_mailbox *
slat_sendbox(spry_socket *s)
{
	int           err = 0;
	spry_mailbox *mb  = spry_socket_sendbox(s, &err);

	if (mb == NULL)
		bench_fail("spry_socket_sendbox: %s", spry_strerror(err));
	return mb;
}

int
main(int argc, char **argv)
{
	struct zlat  z = {0};
	struct nlat  n = {0};
	struct slat  s = {0};
	struct salat a = {0};
	double       zns, nns, nans, sns, sans;
	uint64_t     rounds;

	bench_init(argc, argv);
	rounds   = bench_size(20000, 1000);
	z.rounds = rounds;
	n.rounds = rounds / LAT_NNG_SHARE;
	s.rounds = rounds;
	a.rounds = rounds;

	zlat_open(&z);
	bench_measure(zlat_run, &z, &zns, 1);
	zlat_close(&z);

	nlat_open(&n);
	bench_measure(nlat_run, &n, &nns, 1);
	n.rounds = rounds;
	bench_measure(nlat_aio_run, &n, &nans, 1);
	nlat_close(&n);

	inproc_spry_ok(spry_runtime_start(NULL), "spry_runtime_start");
	slat_pair(&s.req, &s.rep, "inproc://inproc_lat");
	bench_measure(slat_run, &s, &sns, 1);
	slat_pair(&a.req, &a.rep, "inproc://inproc_lat_actor");
	a.req_tx = slat_sendbox(a.req);
	a.rep_tx = slat_sendbox(a.rep);
	bench_measure(salat_run, &a, &sans, 1);
	spry_close(s.req);
	spry_close(s.rep);
	spry_close(a.req);
	spry_close(a.rep);
	inproc_spry_ok(spry_runtime_stop(), "spry_runtime_stop");

	inproc_report("inproc_lat", "ns", sns, zns, nns, (inproc_goal){0});
	inproc_report(
	    "inproc_lat_actor", "ns", sans, zns, nans, (inproc_goal){0});
	return 0;
}
