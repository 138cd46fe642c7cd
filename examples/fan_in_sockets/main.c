/* SPDX-License-Identifier: MIT */
/*
 * examples/fan_in_sockets: many sockets, one mailbox. The seed's fan-in
 *
 *	for _, s := range sources {
 *		go func(s *Socket) { for d := range s.RecvChan() { out <- d }
 *}(s)
 *	}
 *
 * needs a goroutine per socket; here every PULL socket delivers into the
 * same mailbox itself (spry_socket_subscribe), and spry_msg_socket tells
 * which socket each message came from. Waiting on that one mailbox costs
 * O(1) however many sockets feed it.
 *
 * SOURCES PULL sockets listen on inproc and subscribe one mailbox, with
 * pipe events (best effort, like every event: dropped when the mailbox
 * is full, so everything connects before anything is sent). Then a
 * producer thread per source sends PER messages on its own PUSH socket; sends
 *block while the mailbox is full (PUSH/PULL never drop: backpressure). main
 *receives from the mailbox and sees, in order of phase:
 *   1. a SPRY_PIPE_ADD event per connection and every data message,
 *      counted per origin and checked for order;
 *   2. once all data is in, main closes the PUSH sockets: a
 *      SPRY_PIPE_REM event per connection;
 *   3. then it closes the PULL sockets: each subscriber gets an event
 *      whose spry_msg_err is SPRY_ECLOSED.
 * A ctx with a timeout is the safety net of every receive.
 *
 * Ownership: a producer allocates each message; a successful send
 * hands it to the socket; main owns what it receives and frees it;
 * messages left in the mailbox at the end go to its dispose callback.
 */
#include <spry/spry.h>

#include <pthread.h>
#include <stdio.h>

#define SOURCES 4
#define PER 500 /* messages per source */

/* Consecutive data messages from different sockets (main only). */
static unsigned switches;

/* The source of the last data message (main only). */
static const void *last;

/* The events a source counts, indexes into source.events. */
enum { EV_ADD, EV_REM, EV_CLOSED, EV_KINDS };

/* source: one PULL socket, its PUSH peer and the producer thread. */
typedef struct source {
	spry_socket *pull;     /* main's, plus a hold that outlives close */
	spry_socket *push;     /* used by the producer, closed by main */
	pthread_t    thread;   /* joined by main */
	spry_ctx    *ctx;      /* the safety net, borrowed from main */
	unsigned     got;      /* data messages received (main only) */
	bool         in_order; /* every one in sending order (main only) */
	int          events[EV_KINDS]; /* seen, per kind (main only) */
} source;

static void *
produce(void *arg)
{
	source *s = arg;

	for (uint32_t n = 0; n < PER; n++) {
		spry_msg *m;

		if (spry_msg_alloc(&m, 0) != 0) {
			break;
		}
		if (spry_msg_append_u32(m, n) != 0 ||
		    spry_send_ctx(s->ctx, s->push, m) != 0) {
			spry_msg_free(m); /* a failed send leaves m with us */
			break;
		}
	}
	return NULL;
}

static void
msg_dispose(void *item, void *arg)
{
	(void)arg;
	spry_msg_free(item);
}

/*
 * Connect source i and subscribe mb to its PULL socket, with events. On
 * failure the caller closes what was opened.
 */
static int
source_open(int i, source *s, spry_mailbox *mb)
{
	char url[64];
	int  rv;

	snprintf(url, sizeof(url), "inproc://fan-in-sockets-%d", i);
	s->in_order = true;
	if ((rv = spry_socket_open(&s->pull, SPRY_PULL0, NULL)) != 0) {
		return rv;
	}
	spry_socket_hold(s->pull); /* spry_msg_socket stays comparable */
	if ((rv = spry_socket_subscribe(s->pull, mb, true)) != 0 ||
	    (rv = spry_listen(s->pull, url, NULL)) != 0 ||
	    (rv = spry_socket_open(&s->push, SPRY_PUSH0, NULL)) != 0) {
		return rv;
	}
	return spry_dial(s->push, url, NULL, 0);
}

/* Which source a message came from, by its receiving socket. */
static source *
origin(source *srcs, const spry_msg *m)
{
	for (int i = 0; i < SOURCES; i++) {
		if (spry_msg_socket(m) == srcs[i].pull) {
			return &srcs[i];
		}
	}
	return NULL;
}

/* Account for one message (ours); returns 0 or an unexpected error. */
static int
take(source *srcs, spry_msg *m)
{
	source  *s   = origin(srcs, m);
	int      err = spry_msg_err(m), i;
	uint32_t n;

	if (s == NULL) {
		spry_msg_free(m);
		return SPRY_EINTERNAL;
	}
	i = (int)(s - srcs);
	if (err == SPRY_PIPE_ADD || err == SPRY_PIPE_REM) {
		printf("pull-%d: pipe %u %s (peer %s)\n", i, spry_msg_pipe(m),
		    err == SPRY_PIPE_ADD ? "added" : "removed",
		    spry_msg_peer(m));
		s->events[err == SPRY_PIPE_ADD ? EV_ADD : EV_REM]++;
	} else if (err == SPRY_ECLOSED) {
		printf("pull-%d: closed (%s)\n", i, spry_strerror(err));
		s->events[EV_CLOSED]++;
	} else if (err == 0 && spry_msg_trim_u32(m, &n) == 0) {
		s->in_order = s->in_order && n == s->got;
		s->got++;
		switches += last != NULL && last != s;
		last = s;
	}
	spry_msg_free(m);
	return 0;
}

/* Receive until every source is done(). */
static int
receive_until(spry_ctx *ctx, spry_mailbox *mb, source *srcs,
    bool (*done)(const source *))
{
	void *item;
	int   rv;

	for (int i = 0; i < SOURCES; i++) {
		while (!done(&srcs[i])) {
			if ((rv = spry_mailbox_recv(ctx, mb, &item)) != 0 ||
			    (rv = take(srcs, item)) != 0) {
				return rv;
			}
		}
	}
	return 0;
}

static bool
all_in(const source *s)
{
	return s->events[EV_ADD] == 1 && s->got == PER;
}

static bool
removed(const source *s)
{
	return s->events[EV_REM] == 1;
}

static bool
closed(const source *s)
{
	return s->events[EV_CLOSED] == 1;
}

/* The three phases; stops at the first receive that fails. */
static int
run(spry_ctx *ctx, spry_mailbox *mb, source *srcs)
{
	int rv;

	if ((rv = receive_until(ctx, mb, srcs, all_in)) != 0) {
		return rv;
	}
	for (int i = 0; i < SOURCES; i++) {
		pthread_join(srcs[i].thread, NULL);
		srcs[i].thread = 0;
		printf("pull-%d: %u messages, in order: %s\n", i, srcs[i].got,
		    srcs[i].in_order ? "yes" : "NO");
	}
	printf("all %d messages in; the origin changed %u times between "
	       "consecutive ones\nclosing the PUSH sockets\n",
	    SOURCES * PER, switches);
	for (int i = 0; i < SOURCES; i++) {
		spry_close(srcs[i].push);
		srcs[i].push = NULL;
	}
	if ((rv = receive_until(ctx, mb, srcs, removed)) != 0) {
		return rv;
	}
	printf("closing the PULL sockets\n");
	for (int i = 0; i < SOURCES; i++) {
		spry_close(srcs[i].pull); /* we still hold one reference */
	}
	return receive_until(ctx, mb, srcs, closed);
}

/* Close and release what is left; joins producers still running. */
static void
cleanup(source *srcs, int n)
{
	for (int i = 0; i < n; i++) {
		if (srcs[i].thread != 0) {
			pthread_join(srcs[i].thread, NULL);
		}
		if (srcs[i].push != NULL) {
			spry_close(srcs[i].push);
		}
		if (srcs[i].pull != NULL) {
			spry_close(srcs[i].pull); /* harmless if closed */
			spry_socket_release(srcs[i].pull);
		}
	}
}

int
main(void)
{
	spry_mailbox_opts o             = SPRY_MAILBOX_OPTS_INIT;
	source            srcs[SOURCES] = {{0}};
	spry_mailbox     *mb;
	spry_ctx         *ctx;
	spry_time         t0 = spry_now();
	bool              ok = true;
	int               rv, n;

	o.capacity   = 64;
	o.dispose_cb = msg_dispose;
	if ((rv = spry_mailbox_open_opts(&mb, &o)) != 0 ||
	    (rv = spry_ctx_with_timeout(&ctx, NULL, SPRY_SEC(5))) != 0) {
		fprintf(stderr, "setup: %s\n", spry_strerror(rv));
		return 1;
	}
	printf("%d PULL sockets -> one mailbox of capacity %zu; %d messages "
	       "per socket\n",
	    SOURCES, spry_mailbox_capacity(mb), PER);
	/*
	 * Connect everything before anything is sent: pipe events, like the
	 * closed events, are dropped when the mailbox is full.
	 */
	for (n = 0; n < SOURCES && rv == 0; n++) {
		srcs[n].ctx = ctx;
		rv          = source_open(n, &srcs[n], mb);
	}
	for (int i = 0; i < SOURCES && rv == 0; i++) {
		if (pthread_create(&srcs[i].thread, NULL, produce, &srcs[i])) {
			rv = SPRY_ENOMEM; /* no thread: stop here */
		}
	}
	if (rv == 0) {
		rv = run(ctx, mb, srcs);
	}
	if (rv != 0) {
		printf("stopped: %s; received per socket:", spry_strerror(rv));
		for (int i = 0; i < SOURCES; i++) {
			printf(" %u", srcs[i].got);
		}
		putchar('\n');
		spry_ctx_cancel(ctx); /* unblocks the producers */
	}
	cleanup(srcs, n);
	for (int i = 0; i < SOURCES; i++) {
		ok = ok && srcs[i].got == PER && srcs[i].in_order;
	}
	printf("done in %ld ms\n", (long)((spry_now() - t0) / SPRY_MSEC(1)));
	spry_mailbox_release(mb); /* leftovers go to msg_dispose */
	spry_ctx_cancel(ctx);
	spry_ctx_release(ctx);
	spry_runtime_stop();
	return rv == 0 && ok ? 0 : 1;
}
