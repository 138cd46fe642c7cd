/* SPDX-License-Identifier: MIT */
/*
 * examples/pubsub_actors: one publisher, many subscriber actors. Each
 * subscriber actor has a SUB socket of its own, subscribed to one topic
 * (SPRY_OPT_SUBSCRIBE, a prefix; "" is everything) and to "bye", and the
 * socket delivers into the actor's own mailbox (spry_socket_subscribe):
 * no thread per socket, no polling. A publisher thread publishes ROUNDS
 * rounds of one message per topic on a PUB socket, then "bye".
 *
 * Each actor counts what it gets and ends on "bye" (or when the safety
 * deadline cancels it). main waits for every actor and prints the counts
 * next to what the publisher sent for its topic, and how many messages
 * each SUB socket dropped. PUB/SUB is best effort, as in NNG: a message for a
 * full mailbox or pipe is dropped and counted in `dropped`; the publisher
 * paces itself so that none is.
 *
 * Ownership: the publisher allocates each message; a successful send
 * hands it to the PUB socket, which shares its bytes among the pipes; each
 * subscriber actor owns what it receives and frees it; messages left in
 * an actor's mailbox when it ends go to its dispose callback.
 */
#include <spry/spry.h>

#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define URL "inproc://pubsub-actors"
#define ROUNDS 10          /* messages per topic */
#define PACE SPRY_MSEC(10) /* between two rounds */
#define SAFETY SPRY_SEC(5) /* the most the subscribers wait */
#define NSUBS 4

static const char *const topics[] = {"weather", "sports", "news"};
#define NTOPICS (sizeof(topics) / sizeof(topics[0]))

/* subscriber: one actor's state; lives in main (outlives the actor). */
typedef struct subscriber {
	const char  *topic; /* what it subscribes to; "" everything */
	spry_socket *sub;   /* its SUB socket, owned by main */
	spry_actor  *actor; /* held by main */
	unsigned     got;   /* data messages (the actor only) */
	bool         bye;   /* it saw "bye" (the actor only) */
} subscriber;

/* Start of the program, for timestamps; set before any thread starts. */
static spry_time t0;

static void __attribute__((format(printf, 2, 3)))
say(const char *who, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	flockfile(stdout);
	printf(
	    "[%4ld ms] %-10s ", (long)((spry_now() - t0) / SPRY_MSEC(1)), who);
	vprintf(fmt, ap);
	putchar('\n');
	funlockfile(stdout);
	va_end(ap);
}

static const char *
name_of(const subscriber *s)
{
	return s->topic[0] != '\0' ? s->topic : "(all)";
}

static bool
starts_with(spry_msg *m, const char *prefix)
{
	size_t n = strlen(prefix);

	return spry_msg_len(m) >= n &&
	    memcmp(spry_msg_body(m), prefix, n) == 0;
}

static int
subscriber_behavior(spry_actor *self, const spry_event *ev, void *state)
{
	subscriber *s = state;
	spry_msg   *m;

	(void)self;
	switch (ev->type) {
	case SPRY_EV_MSG:
		m = ev->msg; /* ours now */
		if (spry_msg_err(m) == 0 && starts_with(m, "bye")) {
			s->bye = true;
		} else if (spry_msg_err(m) == 0) {
			s->got++;
		}
		spry_msg_free(m);
		return s->bye ? SPRY_EXIT_NORMAL : SPRY_CONTINUE;
	case SPRY_EV_CANCEL:
		say(name_of(s), "CANCEL (%s): no bye",
		    spry_strerror(ev->reason));
		return SPRY_EXIT_SHUTDOWN;
	default:
		return SPRY_CONTINUE;
	}
}

static void
subscriber_exit(spry_actor *self, int reason, void *state)
{
	subscriber *s = state;

	(void)self;
	say(name_of(s), "EXIT (%s): %u message(s)",
	    reason == SPRY_EXIT_NORMAL ? "got bye" : "canceled", s->got);
}

static void
msg_dispose(void *item, void *arg)
{
	(void)arg;
	spry_msg_free(item);
}

/*
 * Spawn s's actor under ctx, open its SUB socket (topic and "bye"),
 * subscribe the actor's mailbox to it and connect it to the publisher.
 */
static int
subscriber_start(subscriber *s, spry_ctx *ctx)
{
	spry_actor_opts o = SPRY_ACTOR_OPTS_INIT;
	const char     *t = s->topic;
	int             rv;

	o.behavior   = subscriber_behavior;
	o.state      = s;
	o.ctx        = ctx;
	o.capacity   = 64;
	o.exit_cb    = subscriber_exit;
	o.dispose_cb = msg_dispose;
	if ((rv = spry_actor_spawn(&s->actor, &o)) != 0 ||
	    (rv = spry_socket_open(&s->sub, SPRY_SUB0, NULL)) != 0) {
		return rv;
	}
	if ((rv = spry_setopt(
	         s->sub, SPRY_OPT_SUBSCRIBE, SPRY_BYTES(t, strlen(t)))) != 0 ||
	    (rv = spry_setopt(
	         s->sub, SPRY_OPT_SUBSCRIBE, SPRY_BYTES("bye", 3))) != 0 ||
	    (rv = spry_socket_subscribe(
	         s->sub, spry_actor_mailbox(s->actor), false)) != 0) {
		return rv;
	}
	return spry_dial(s->sub, URL, NULL, 0);
}

/* Publish one message: "<topic> <n>". */
static int
publish(spry_socket *pub, const char *text)
{
	spry_msg *m;
	int       rv;

	if ((rv = spry_msg_alloc(&m, 0)) != 0) {
		return rv;
	}
	if ((rv = spry_msg_append(m, text, strlen(text))) != 0 ||
	    (rv = spry_send(pub, m, 0)) != 0) {
		spry_msg_free(m); /* still ours after a failed send */
	}
	return rv;
}

/* The publisher thread: ROUNDS rounds over the topics, then "bye". */
static void *
publisher_main(void *arg)
{
	spry_socket *pub = arg;
	char         text[64];

	for (unsigned r = 1; r <= ROUNDS; r++) {
		struct timespec pause = {0, (long)PACE};

		for (size_t t = 0; t < NTOPICS; t++) {
			snprintf(text, sizeof(text), "%s %u", topics[t], r);
			if (publish(pub, text) != 0) {
				return NULL;
			}
		}
		nanosleep(&pause, NULL);
	}
	say("publisher", "sent %u message(s) per topic, then bye", ROUNDS);
	publish(pub, "bye");
	return NULL;
}

/* Wait for every actor; print its count next to what was sent. */
static bool
report(subscriber *subs)
{
	bool ok = true;

	for (int i = 0; i < NSUBS; i++) {
		subscriber       *s    = &subs[i];
		unsigned          want = ROUNDS * (s->topic[0] ? 1 : NTOPICS);
		spry_socket_stats st;

		spry_actor_wait(NULL, s->actor, NULL); /* ends by SAFETY */
		spry_socket_stats_get(s->sub, &st);
		say("main", "%-8s got %2u of %2u; its SUB socket dropped %llu",
		    name_of(s), s->got, want, (unsigned long long)st.dropped);
		ok = ok && s->bye && s->got + st.dropped >= want;
	}
	return ok;
}

int
main(void)
{
	subscriber subs[NSUBS] = {
	    {"weather", NULL, NULL, 0, false},
	    {"sports", NULL, NULL, 0, false},
	    {"news", NULL, NULL, 0, false},
	    {"", NULL, NULL, 0, false},
	};
	spry_socket *pub;
	spry_ctx    *safety;
	pthread_t    publisher;
	bool         ok = false;
	int          rv, n = 0;

	setvbuf(stdout, NULL, _IOLBF, 0);
	t0 = spry_now();
	if ((rv = spry_ctx_with_timeout(&safety, NULL, SAFETY)) != 0 ||
	    (rv = spry_socket_open(&pub, SPRY_PUB0, NULL)) != 0 ||
	    (rv = spry_listen(pub, URL, NULL)) != 0) {
		fprintf(stderr, "setup: %s\n", spry_strerror(rv));
		return 1;
	}
	for (; n < NSUBS && rv == 0; n++) {
		rv = subscriber_start(&subs[n], safety);
	}
	if (rv == 0) {
		say("main",
		    "%d subscriber actors connected, each with its "
		    "own SUB socket",
		    NSUBS);
	}
	if (rv == 0 &&
	    pthread_create(&publisher, NULL, publisher_main, pub) == 0) {
		ok = report(subs);
		pthread_join(publisher, NULL);
	}
	spry_ctx_cancel(safety); /* ends any actor still running */
	for (int i = 0; i < n; i++) {
		if (subs[i].actor != NULL) {
			spry_actor_wait(NULL, subs[i].actor, NULL);
			spry_actor_release(subs[i].actor);
		}
		if (subs[i].sub != NULL) {
			spry_close(subs[i].sub);
		}
	}
	spry_close(pub);
	spry_ctx_release(safety);
	spry_runtime_stop();
	return rv == 0 && ok ? 0 : 1;
}
