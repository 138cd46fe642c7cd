/* SPDX-License-Identifier: MIT */
/*
 * bench/async.c: the async API (socket mailboxes, select and fan-in over
 * sockets), the seed PRD's BenchmarkAsyncSend/Recv/VsSync/Select, against
 * bench/go/async.go. Every socket is a PUSH->PULL pair over inproc; every
 * message carries a sequence number, checked on receipt (a lost,
 * reordered or wrong message fails the program). Figures, in ns:
 *
 *   async_send      one spry_mailbox_trysend of a message into a PUSH
 *                   socket's sendbox (Go: one send on a chan []byte
 *                   that the seed PRD's sendPump drains into the
 *                   protocol, as the socket's actor drains the sendbox).
 *   async_recv      one spry_mailbox_tryrecv of a message from a PULL
 *                   socket's recvbox (Go: one receive on a chan the
 *                   seed's recvPump fills from the protocol).
 *   async_send_chan, async_recv_chan
 *                   the same spry figures against a bare Go chan, whose
 *                   other end does nothing but take or make messages.
 *   async_cas       one compare-and-swap on a word only the measuring
 *                   thread touches: the locked instruction a trysend
 *                   claims its slot with (Go: atomic.CompareAndSwap).
 *   async_vs_sync_async, async_vs_sync_sync, async_vs_sync
 *                   per message of a producer -> consumer stream through
 *                   spry_mailbox_send on the sendbox and spry_mailbox_recv
 *                   on the recvbox, the same through spry_send/spry_recv,
 *                   and the difference (the overhead of the mailbox path;
 *                   its ratio= is async/sync). A blocking
 *                   spry_mailbox_send sends on the producer's thread
 *                   when nothing is queued (a trysend would only queue
 *                   and wake the socket's actor). No Go peer.
 *   async_select<N> one message delivered through spry_select over the
 *                   recvboxes of N PULL sockets, N = 1, 16, 256, one of
 *                   them (chosen at random) holding a message and the
 *                   others idle; the PUSH send is included (Go:
 *                   reflect.Select over N channels, the send included).
 *   async_fanin<N>  the same with the N PULL sockets subscribed to one
 *                   mailbox, received with spry_mailbox_recv (Go: the same
 *                   reflect.Select). Its cost must not grow with N: a
 *                   check line compares N = 256 with N = 1.
 *
 * Method. The machine may be shared and busy, and a thread that loses
 * its CPU mid-measurement would charge the wait to the operation. So
 * every figure times short batches of operations back to back (one
 * clock read per batch) and takes the median batch of a run, then the
 * median of the runs; both sides do the same.
 *
 * async_send and async_recv measure the operation itself in a steady
 * stream, the other side keeping up in its own threads: the mailboxes
 * hold AS_CAP messages, and the measuring thread waits (untimed) until
 * a burst of AS_BURST operations is sure to find room (send) or
 * messages (recv), then times the burst. For send, the socket's actor
 * drains the sendbox concurrently and a consumer thread drains the
 * recvbox; each trysend also notes the actor (and wakes it if it went
 * idle), which is part of the cost. For recv, a producer thread keeps
 * the PULL socket's recvbox fed through spry_send. Messages are made
 * before the burst and checked after it, untimed: the figure is the
 * mailbox operation. Go's side does the same with a chan of AS_CAP; at
 * its other end the seed's pump goroutine joins it to a second chan of
 * AS_CAP (the protocol, in process), which a goroutine drains or feeds.
 *
 * Why the pump: what a send costs depends on what the other end is
 * doing. With a consumer that is busy on the other CPU through the
 * burst (a socket's actor sends each message on), every send pays the
 * cache lines the consumer takes back; a bare chan's consumer does
 * nothing per message, drains the chan at once and sleeps through the
 * next burst, so its sends stay in one cache (18 ns a send on the test
 * machine, 40 to 80 ns with the pump). So async_send compares like
 * with like, spry's socket against the seed's; the _chan lines keep
 * the bare comparison in view.
 *
 * async_vs_sync times every AS_FLOW_BATCH messages the consumer takes,
 * each message allocated by the producer and freed by the consumer,
 * with default (16-deep) buffers; each run measures both paths, twice
 * each, in the order async, sync, sync, async (see as_vs_run).
 *
 * The select and fan-in loops are single-threaded: send one message on
 * a random PUSH socket (inproc delivers it into its PULL socket's
 * consumer before spry_send returns), then receive it. Both sides draw
 * the sockets from the xorshift generator bench/mailbox.c uses.
 */
#include "bench.h"

#include <pthread.h>
#include <sched.h>

#include <spry/spry.h>

#define AS_CAP 256         /* send/recv figures: mailbox depth, chan cap */
#define AS_BURST 128       /* send/recv figures: operations per burst */
#define AS_FLOW_BATCH 1024 /* async_vs_sync: messages per timed batch */
#define AS_MAXN 256        /* widest select and fan-in */
#define AS_SEED 88172645463325252u

/* as_pair: a PUSH socket dialed into a PULL socket. */
struct as_pair {
	spry_socket *push; /* sends; its sendbox is the async send side */
	spry_socket *pull; /* receives; its recvbox the async receive side */
};

/*
 * as_flow: the send, recv and async_vs_sync figures' state. Set up
 * before a run's threads start; during a run the measuring thread owns
 * ns, the other thread `other`.
 */
struct as_flow {
	struct as_pair pair;  /* the sockets, for every run */
	spry_mailbox  *sb;    /* pair.push's sendbox (borrowed) */
	spry_mailbox  *rb;    /* pair.pull's recvbox (borrowed) */
	bool           async; /* async_vs_sync: this pass's path */
	uint64_t       n;     /* messages per run (pass) */
	double        *ns;    /* per batch: ns per operation */
	uint64_t       other; /* the other thread's wrong messages
	                         (written by it, read after the join) */
	const char *figure;   /* for error messages */
};

/* as_sel: the select and fan-in figures' state, one width (one thread). */
struct as_sel {
	size_t           n;              /* sockets */
	bool             fanin;          /* through `in`, else select */
	struct as_pair   pair[AS_MAXN];  /* the sockets */
	spry_select_case cases[AS_MAXN]; /* RECV on each recvbox */
	spry_mailbox    *in;             /* fan-in: every pull's consumer */
	uint64_t         batches;        /* timed batches per run */
	uint64_t         batch;          /* messages per batch */
	double          *ns;             /* per batch: ns per message */
	char             name[2][32];    /* figure names: select, fan-in */
	double           fig[2];         /* the two figures */
};

static void
as_ok(int rv, const char *what)
{
	if (rv != 0)
		bench_fail("%s: %s", what, spry_strerror(rv));
}

/* as_rand: xorshift64, as bench/mailbox.c and bench/go/async.go. */
static inline uint64_t
as_rand(uint64_t *x)
{
	*x ^= *x << 13;
	*x ^= *x >> 7;
	*x ^= *x << 17;
	return *x >> 24;
}

/* as_msg returns a new message carrying seq. */
static spry_msg *
as_msg(uint32_t seq)
{
	spry_msg *m;

	as_ok(spry_msg_alloc(&m, 0), "spry_msg_alloc");
	as_ok(spry_msg_append_u32(m, seq), "spry_msg_append_u32");
	return m;
}

/* as_check frees m and tells whether it carried seq. */
static bool
as_check(spry_msg *m, uint32_t seq)
{
	uint32_t got = 0;
	bool ok = spry_msg_len(m) == 4 && spry_msg_trim_u32(m, &got) == 0 &&
	    got == seq;

	spry_msg_free(m);
	return ok;
}

static void
as_spawn(pthread_t *t, void *(*fn)(void *), void *arg)
{
	int rv = pthread_create(t, NULL, fn, arg);

	if (rv != 0)
		bench_fail("pthread_create: %s", strerror(rv));
}

static int
as_verdict(const char *name, uint64_t bad, uint64_t n)
{
	if (bad == 0)
		return 0;
	fprintf(stderr, "%s: %llu of %llu messages went wrong\n", name,
	    (unsigned long long)bad, (unsigned long long)n);
	return 1;
}

static void
as_pair_open(struct as_pair *p, const char *url, size_t buf)
{
	spry_socket_opts o = SPRY_SOCKET_OPTS_INIT;

	o.sendbuf = buf;
	o.recvbuf = buf;
	as_ok(spry_socket_open(&p->push, SPRY_PUSH0, &o), "open push");
	as_ok(spry_socket_open(&p->pull, SPRY_PULL0, &o), "open pull");
	as_ok(spry_listen(p->pull, url, NULL), "spry_listen");
	as_ok(spry_dial(p->push, url, NULL, 0), "spry_dial");
}

static void
as_pair_close(struct as_pair *p)
{
	spry_close(p->push);
	spry_close(p->pull);
}

static void
as_flow_open(struct as_flow *f, const char *url, size_t buf, uint64_t n)
{
	memset(f, 0, sizeof *f);
	as_pair_open(&f->pair, url, buf);
	f->sb = spry_socket_sendbox(f->pair.push, NULL);
	f->rb = spry_socket_recvbox(f->pair.pull, NULL);
	f->n  = n;
	if ((f->ns = calloc(n / AS_BURST + 1, sizeof *f->ns)) == NULL)
		bench_fail("out of memory");
}

static void
as_flow_close(struct as_flow *f)
{
	as_pair_close(&f->pair);
	free(f->ns);
}

/* ---- async_send -------------------------------------------------------- */

/* The consumer: takes the run's messages from the recvbox, in order. */
static void *
as_send_drain(void *arg)
{
	struct as_flow *f = arg;

	for (uint64_t i = 1; i <= f->n; i++) {
		void *item;

		if (spry_mailbox_recv(NULL, f->rb, &item) != 0) {
			f->other += f->n - i + 1;
			break;
		}
		if (!as_check(item, (uint32_t)i))
			f->other++;
	}
	return NULL;
}

/* Time one burst of trysends; room for all of them was seen before. */
static double
as_send_burst(struct as_flow *f, spry_msg **m)
{
	uint64_t t0 = bench_now();

	for (int j = 0; j < AS_BURST; j++) {
		int rv;

		/* A slot the actor has claimed but not yet freed. Rare. */
		while ((rv = spry_mailbox_trysend(f->sb, m[j])) == SPRY_EAGAIN)
			sched_yield();
		as_ok(rv, "spry_mailbox_trysend");
	}
	return (double)(bench_now() - t0) / AS_BURST;
}

static int
as_send_run(void *arg, double *vals)
{
	struct as_flow *f = arg;
	spry_msg       *m[AS_BURST];
	uint64_t        bursts = f->n / AS_BURST;
	pthread_t       t;

	f->other = 0;
	as_spawn(&t, as_send_drain, f);
	for (uint64_t k = 0; k < bursts; k++) {
		for (int j = 0; j < AS_BURST; j++)
			m[j] =
			    as_msg((uint32_t)(k * AS_BURST + (uint64_t)j + 1));
		/* Only the socket takes from the sendbox: room only grows. */
		while (spry_mailbox_len(f->sb) > AS_CAP - AS_BURST)
			sched_yield();
		f->ns[k] = as_send_burst(f, m);
	}
	pthread_join(t, NULL);
	vals[0] = bench_median(f->ns, (int)bursts);
	return as_verdict(f->figure, f->other, f->n);
}

/* ---- async_recv -------------------------------------------------------- */

/* The producer: feeds the run's messages through the blocking send. */
static void *
as_recv_feed(void *arg)
{
	struct as_flow *f = arg;

	for (uint64_t i = 1; i <= f->n; i++) {
		spry_msg *m = as_msg((uint32_t)i);

		if (spry_send(f->pair.push, m, 0) != 0) {
			spry_msg_free(m);
			f->other++;
		}
	}
	return NULL;
}

/* Time one burst of tryrecvs; that many messages were seen before. */
static double
as_recv_burst(struct as_flow *f, void **items)
{
	uint64_t t0 = bench_now();

	for (int j = 0; j < AS_BURST; j++) {
		int rv;

		/* A message claimed but not yet published. Rare. */
		while ((rv = spry_mailbox_tryrecv(f->rb, &items[j])) ==
		    SPRY_EAGAIN)
			sched_yield();
		as_ok(rv, "spry_mailbox_tryrecv");
	}
	return (double)(bench_now() - t0) / AS_BURST;
}

static int
as_recv_run(void *arg, double *vals)
{
	struct as_flow *f = arg;
	void           *items[AS_BURST];
	uint64_t        bursts = f->n / AS_BURST, bad = 0;
	pthread_t       t;

	f->other = 0;
	as_spawn(&t, as_recv_feed, f);
	for (uint64_t k = 0; k < bursts; k++) {
		/* Only we take from the recvbox: what we saw stays. */
		while (spry_mailbox_len(f->rb) < AS_BURST)
			sched_yield();
		f->ns[k] = as_recv_burst(f, items);
		for (int j = 0; j < AS_BURST; j++) {
			if (!as_check(items[j],
			        (uint32_t)(k * AS_BURST + (uint64_t)j + 1)))
				bad++;
		}
	}
	pthread_join(t, NULL);
	vals[0] = bench_median(f->ns, (int)bursts);
	return as_verdict(f->figure, bad + f->other, f->n);
}

/* ---- async_vs_sync ----------------------------------------------------- */

static void *
as_vs_feed(void *arg)
{
	struct as_flow *f = arg;

	for (uint64_t i = 1; i <= f->n; i++) {
		spry_msg *m  = as_msg((uint32_t)i);
		int       rv = f->async ? spry_mailbox_send(NULL, f->sb, m) :
		                          spry_send(f->pair.push, m, 0);

		if (rv != 0) {
			spry_msg_free(m);
			f->other++;
		}
	}
	return NULL;
}

static spry_msg *
as_vs_take(struct as_flow *f)
{
	void     *item;
	spry_msg *m;

	if (f->async) {
		as_ok(spry_mailbox_recv(NULL, f->rb, &item),
		    "spry_mailbox_recv");
		return item;
	}
	as_ok(spry_recv(f->pair.pull, &m, 0), "spry_recv");
	return m;
}

/*
 * One pass of f->n messages down one path; the ns per message of each
 * batch goes to ns[0 .. f->n / AS_FLOW_BATCH).
 */
static void
as_vs_pass(struct as_flow *f, bool async, double *ns, uint64_t *bad)
{
	uint64_t  t = bench_now(), now;
	pthread_t th;

	f->async = async;
	f->other = 0;
	as_spawn(&th, as_vs_feed, f);
	for (uint64_t i = 1; i <= f->n; i++) {
		if (!as_check(as_vs_take(f), (uint32_t)i))
			(*bad)++;
		if (i % AS_FLOW_BATCH == 0) {
			now = bench_now();
			ns[i / AS_FLOW_BATCH - 1] =
			    (double)(now - t) / AS_FLOW_BATCH;
			t = now;
		}
	}
	pthread_join(th, NULL);
	*bad += f->other;
}

/*
 * Two passes down each path, in the order async, sync, sync, async: a
 * machine that gets busier or quieter during the run weighs on both
 * paths alike, and the difference of two figures of about a microsecond
 * is not swamped by the drift between them. vals: the median batch of
 * each path.
 */
static int
as_vs_run(void *arg, double *vals)
{
	static const bool order[] = {true, false, false, true};
	struct as_flow   *f       = arg;
	uint64_t          nb      = f->n / AS_FLOW_BATCH;
	uint64_t          bad     = 0;
	double           *ns[2]   = {f->ns, f->ns + 2 * nb}; /* async, sync */
	uint64_t          done[2] = {0, 0};

	for (int p = 0; p < 4; p++) {
		int path = order[p] ? 0 : 1;

		as_vs_pass(f, order[p], ns[path] + nb * done[path]++, &bad);
	}
	vals[0] = bench_median(ns[0], (int)(2 * nb));
	vals[1] = bench_median(ns[1], (int)(2 * nb));
	return as_verdict(f->figure, bad, 4 * f->n);
}

/* ---- async_cas --------------------------------------------------------- */

static uint64_t as_cas_word; /* touched by the measuring thread only */

/*
 * One compare-and-swap on a word no other thread touches: the locked
 * instruction a trysend claims its slot with, so a floor under
 * async_send that no queue layout lowers (Go: atomic.CompareAndSwap).
 */
static int
as_cas_run(void *arg, double *vals)
{
	uint64_t batches = *(const uint64_t *)arg;
	uint64_t start   = as_cas_word;
	double  *ns      = calloc(batches, sizeof *ns);

	if (ns == NULL)
		bench_fail("out of memory");
	for (uint64_t k = 0; k < batches; k++) {
		uint64_t t0 = bench_now();

		for (int j = 0; j < AS_FLOW_BATCH; j++) {
			uint64_t seen =
			    __atomic_load_n(&as_cas_word, __ATOMIC_RELAXED);

			__atomic_compare_exchange_n(&as_cas_word, &seen,
			    seen + 1, false, __ATOMIC_SEQ_CST,
			    __ATOMIC_RELAXED);
		}
		ns[k] = (double)(bench_now() - t0) / AS_FLOW_BATCH;
	}
	vals[0] = bench_median(ns, (int)batches);
	free(ns);
	return as_verdict(
	    "async_cas", as_cas_word - start != batches * AS_FLOW_BATCH, 1);
}

/* ---- select and fan-in ------------------------------------------------- */

/* Receive the message just sent on pair src; false if it is not seq. */
static bool
as_sel_recv(struct as_sel *b, size_t src, uint32_t seq)
{
	size_t chosen = b->n;
	void  *item   = NULL;
	bool   from;

	if (b->fanin) {
		as_ok(spry_mailbox_recv(NULL, b->in, &item),
		    "spry_mailbox_recv");
		from = spry_msg_socket(item) == b->pair[src].pull;
	} else {
		as_ok(
		    spry_select(NULL, b->cases, b->n, &chosen), "spry_select");
		as_ok(b->cases[chosen].err, "select case");
		item = b->cases[chosen].item;
		from = chosen == src;
	}
	return as_check(item, seq) && from;
}

static int
as_sel_run(void *arg, double *vals)
{
	struct as_sel *b = arg;
	uint64_t       x = AS_SEED, bad = 0;
	uint32_t       seq = 0;

	for (uint64_t k = 0; k < b->batches; k++) {
		uint64_t t0 = bench_now();

		for (uint64_t j = 0; j < b->batch; j++) {
			size_t src = (size_t)(as_rand(&x) % b->n);

			as_ok(spry_send(b->pair[src].push, as_msg(++seq), 0),
			    "spry_send");
			if (!as_sel_recv(b, src, seq))
				bad++;
		}
		b->ns[k] = (double)(bench_now() - t0) / (double)b->batch;
	}
	vals[0] = bench_median(b->ns, (int)b->batches);
	return as_verdict(b->name[b->fanin], bad, b->batches * b->batch);
}

static void
as_sel_open(struct as_sel *b, size_t n)
{
	char url[64];

	memset(b, 0, sizeof *b);
	b->n = n;
	snprintf(b->name[0], sizeof b->name[0], "async_select%zu", n);
	snprintf(b->name[1], sizeof b->name[1], "async_fanin%zu", n);
	for (size_t i = 0; i < n; i++) {
		snprintf(
		    url, sizeof url, "inproc://bench-async-%zu-%zu", n, i);
		as_pair_open(&b->pair[i], url, 0);
		b->cases[i].mb  = spry_socket_recvbox(b->pair[i].pull, NULL);
		b->cases[i].dir = SPRY_SELECT_RECV;
	}
	as_ok(spry_mailbox_open(&b->in, 0), "spry_mailbox_open");
}

static void
as_sel_close(struct as_sel *b)
{
	for (size_t i = 0; i < b->n; i++) {
		if (b->fanin)
			as_ok(spry_socket_unsubscribe(b->pair[i].pull, b->in),
			    "spry_socket_unsubscribe");
		as_pair_close(&b->pair[i]);
	}
	if (spry_mailbox_len(b->in) != 0)
		bench_fail("async_fanin%zu: messages left behind", b->n);
	spry_mailbox_release(b->in);
}

/*
 * as_sel_width measures select then fan-in over n sockets; batch
 * messages per timed batch, batches per run (full and --quick).
 */
static void
as_sel_width(
    struct as_sel *b, size_t n, uint64_t batch, uint64_t full, uint64_t quick)
{
	as_sel_open(b, n);
	b->batch   = batch;
	b->batches = bench_size(full, quick);
	if ((b->ns = calloc(b->batches, sizeof *b->ns)) == NULL)
		bench_fail("out of memory");
	bench_measure(as_sel_run, b, &b->fig[0], 1);
	b->fanin = true;
	b->batch = 256; /* fan-in is as cheap at any width */
	for (size_t i = 0; i < n; i++)
		as_ok(spry_socket_subscribe(b->pair[i].pull, b->in, false),
		    "spry_socket_subscribe");
	bench_measure(as_sel_run, b, &b->fig[1], 1);
	free(b->ns);
	as_sel_close(b);
}

/* ---- main -------------------------------------------------------------- */

static void
as_send_recv(void)
{
	static const bench_goal goal = {0.5, 100};
	struct as_flow          f;
	uint64_t                n = bench_size(4000, 400) * AS_BURST;
	double                  send, recv;

	as_flow_open(&f, "inproc://bench-async-send", AS_CAP, n);
	f.figure = "async_send";
	bench_measure(as_send_run, &f, &send, 1);
	as_flow_close(&f);
	as_flow_open(&f, "inproc://bench-async-recv", AS_CAP, n);
	f.figure = "async_recv";
	bench_measure(as_recv_run, &f, &recv, 1);
	as_flow_close(&f);
	bench_report("async_send", "ns", send, goal);
	bench_report("async_recv", "ns", recv, goal);
	/* The same figures against a bare Go chan (see the top comment). */
	bench_report("async_send_chan", "ns", send, (bench_goal){0, 0});
	bench_report("async_recv_chan", "ns", recv, (bench_goal){0, 0});
}

static void
as_cas(void)
{
	uint64_t batches = bench_size(1000, 100);
	double   cas;

	bench_measure(as_cas_run, &batches, &cas, 1);
	bench_report("async_cas", "ns", cas, (bench_goal){0, 0});
}

static void
as_vs_sync(void)
{
	struct as_flow f;
	uint64_t       n = bench_size(100, 10) * AS_FLOW_BATCH; /* a pass */
	double         v[2], diff;

	as_flow_open(&f, "inproc://bench-async-vs-sync", 0, n);
	f.figure = "async_vs_sync";
	bench_measure(as_vs_run, &f, v, 2);
	as_flow_close(&f);
	diff = v[0] - v[1];
	bench_report("async_vs_sync_async", "ns", v[0], (bench_goal){0, 0});
	bench_report("async_vs_sync_sync", "ns", v[1], (bench_goal){0, 0});
	/* The difference: its ratio is async/sync, there is no Go peer. */
	printf("async_vs_sync spry=%.2f go=nan unit=ns ratio=%.4g\n", diff,
	    v[1] > 0 ? v[0] / v[1] : NAN);
	printf("# async_vs_sync goal spry<=100.00 ns: %s\n",
	    diff <= 100 ? "met" : "missed");
}

/* as_width: one select width and its run sizes. */
struct as_width {
	size_t   n;       /* sockets */
	uint64_t batch;   /* select: messages per timed batch */
	uint64_t batches; /* batches per run */
	uint64_t quick;   /* the same with --quick */
};

static void
as_select(void)
{
	/* spry_select scans every case: fewer, shorter batches when wide
	 * (and Go's reflect.Select takes tens of microseconds there). */
	static const struct as_width widths[] = {
	    {1, 256, 4000, 400},
	    {16, 256, 1000, 100},
	    {AS_MAXN, 32, 500, 50},
	};
	static struct as_sel b;
	double               fanin1 = 0;

	for (size_t w = 0; w < sizeof widths / sizeof widths[0]; w++) {
		const struct as_width *a = &widths[w];

		as_sel_width(&b, a->n, a->batch, a->batches, a->quick);
		bench_report(b.name[0], "ns", b.fig[0], (bench_goal){0, 0});
		bench_report(b.name[1], "ns", b.fig[1], (bench_goal){0, 0});
		if (a->n == 1)
			fanin1 = b.fig[1];
	}
	printf("# async_select fan-in flat: %s (fanin%d/fanin1 = %.2f, "
	       "bound 2)\n",
	    b.fig[1] <= 2 * fanin1 ? "met" : "missed", AS_MAXN,
	    b.fig[1] / fanin1);
}

int
main(int argc, char **argv)
{
	bench_init(argc, argv);
	as_ok(spry_runtime_start(NULL), "spry_runtime_start");
	as_send_recv();
	as_cas();
	as_vs_sync();
	as_select();
	as_ok(spry_runtime_stop(), "spry_runtime_stop");
	return 0;
}
