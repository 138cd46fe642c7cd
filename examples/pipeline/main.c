/* SPDX-License-Identifier: MIT */
/*
 * examples/pipeline: supervision with actors alone. A supervisor
 * (one-for-one) owns a pipeline of three actors:
 *
 *	source --item--> transformer --item--> sink
 *
 * The source emits a numbered item every 150 ms (an actor timer), the
 * transformer squares it, the sink prints it. Item 3 is poison: the
 * transformer crashes on it (its behavior returns a positive error code)
 * and the supervisor restarts it. One second in, the deadline of the ctx
 * the supervisor runs under passes: every child gets SPRY_EV_CANCEL and
 * ends, then the supervisor ends. main waits for it, prints its exit
 * reason and restart count, stops the runtime and exits 0.
 *
 * How the actors find each other: start functions (called by the
 * supervisor) spawn each actor under the ctx they are given and publish
 * it in a shared slot guarded by a mutex, holding a reference for the
 * slot. Senders take a reference out of the slot under the mutex and send
 * outside it, so a restart (which swaps the slot and drops the old
 * reference) never frees an actor while someone is sending to it, and
 * items always go to the current instance.
 *
 * Ownership of an item: the source allocates it; a successful send hands
 * it to the receiver; a failed send leaves it with the sender, which
 * frees it; items still queued in an actor that ends are freed by that
 * actor's dispose callback. Each actor's state is freed by its exit
 * callback.
 */
#include <spry/spry.h>

#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>

#define TICK SPRY_MSEC(150)    /* the source's pace */
#define DEADLINE SPRY_SEC(1)   /* the whole tree's lifetime */
#define POISON 3               /* the item the transformer crashes on */
#define CRASH_CODE SPRY_EINVAL /* the transformer's failure reason */

/* item: what flows down the pipeline (heap-allocated by the source). */
typedef struct item {
	unsigned seq;   /* 1, 2, 3... set by the source */
	unsigned value; /* seq squared, set by the transformer */
} item;

/* pipeline: what the actors share. Lives in main, outlives them all. */
typedef struct pipeline {
	pthread_mutex_t mu;          /* guards the fields below */
	spry_actor     *transformer; /* current transformer, held (mu) */
	spry_actor     *sink;        /* current sink, held (mu) */
	unsigned        starts[3];   /* instances started, per role (mu) */
} pipeline;

/* The three roles, indexes into pipeline.starts and role_names. */
enum role { SOURCE, TRANSFORMER, SINK };

static const char *const role_names[] = {"source", "transformer", "sink"};

/* stage: one actor instance's state; freed by its exit callback. */
typedef struct stage {
	pipeline *p;        /* shared, borrowed */
	enum role role;     /* what this actor is */
	unsigned  instance; /* 1 for the first start, 2 after a restart */
	unsigned  count;    /* items sent (source) or received (others) */
} stage;

/* Start of the program, for timestamps; set before any thread starts. */
static spry_time t0;

/*
 * say prints one timestamped line for `who`. Actors print from several
 * worker threads at once: flockfile keeps each line in one piece.
 */
static void __attribute__((format(printf, 2, 3)))
say(const char *who, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	flockfile(stdout);
	printf(
	    "[%4ld ms] %-12s ", (long)((spry_now() - t0) / SPRY_MSEC(1)), who);
	vprintf(fmt, ap);
	putchar('\n');
	funlockfile(stdout);
	va_end(ap);
}

/* reason_str names an exit reason. */
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

/*
 * Send it to the actor in *slot. The reference taken under the mutex
 * keeps the actor allocated while we send, even if a restart replaces it
 * in the slot meanwhile. On failure the caller still owns it.
 */
static int
pipeline_send(pipeline *p, spry_actor **slot, item *it)
{
	spry_actor *to;
	int         rv;

	pthread_mutex_lock(&p->mu);
	if ((to = *slot) != NULL) {
		spry_actor_hold(to);
	}
	pthread_mutex_unlock(&p->mu);
	if (to == NULL) {
		return SPRY_ENOENT;
	}
	rv = spry_actor_send(to, it); /* never blocks: EAGAIN when full */
	spry_actor_release(to);
	return rv;
}

/* Pass it on to the actor in *slot, or drop it (and say so). */
static void
forward(stage *st, spry_actor **slot, const char *to, item *it)
{
	int rv = pipeline_send(st->p, slot, it);

	if (rv != 0) {
		say(role_names[st->role], "item %u dropped (send to %s: %s)",
		    it->seq, to, spry_strerror(rv));
		free(it);
	}
}

/* The behaviors share START and CANCEL handling. */
static int
on_start_or_cancel(stage *st, const spry_event *ev)
{
	const char *who = role_names[st->role];

	if (ev->type == SPRY_EV_START) {
		say(who, "START (instance %u%s)", st->instance,
		    st->instance > 1 ? ": restarted by the supervisor" : "");
		return SPRY_CONTINUE;
	}
	/* CANCEL: our ctx ended; ev->reason says why. */
	say(who, "CANCEL (%s): stopping", spry_strerror(ev->reason));
	return SPRY_EXIT_SHUTDOWN;
}

static int
source_behavior(spry_actor *self, const spry_event *ev, void *state)
{
	stage *st = state;
	item  *it;

	switch (ev->type) {
	case SPRY_EV_START:
		on_start_or_cancel(st, ev);
		say("source", "one item every %ld ms",
		    (long)(TICK / SPRY_MSEC(1)));
		return spry_actor_after(self, TICK, NULL, NULL);
	case SPRY_EV_TIMER:
		if ((it = calloc(1, sizeof(*it))) == NULL) {
			return SPRY_ENOMEM;
		}
		it->seq = ++st->count;
		say("source", "item %u -> transformer", it->seq);
		forward(st, &st->p->transformer, "transformer", it);
		/* Re-arm; an error (a positive code) ends the actor. */
		return spry_actor_after(self, TICK, NULL, NULL);
	case SPRY_EV_CANCEL:
		return on_start_or_cancel(st, ev);
	default:
		return SPRY_CONTINUE;
	}
}

static int
transformer_behavior(spry_actor *self, const spry_event *ev, void *state)
{
	stage *st = state;
	item  *it;

	(void)self;
	if (ev->type != SPRY_EV_MSG) {
		return on_start_or_cancel(st, ev);
	}
	it = ev->msg; /* ours now */
	st->count++;
	if (it->seq == POISON) {
		say("transformer", "item %u is poison: crashing (%s)", it->seq,
		    spry_strerror(CRASH_CODE));
		free(it);
		return CRASH_CODE; /* a positive code: the actor fails */
	}
	it->value = it->seq * it->seq;
	say("transformer", "item %u -> sink (%u squared = %u)", it->seq,
	    it->seq, it->value);
	forward(st, &st->p->sink, "sink", it);
	return SPRY_CONTINUE;
}

static int
sink_behavior(spry_actor *self, const spry_event *ev, void *state)
{
	stage *st = state;
	item  *it;

	(void)self;
	if (ev->type != SPRY_EV_MSG) {
		return on_start_or_cancel(st, ev);
	}
	it = ev->msg;
	st->count++;
	say("sink", "got item %u: value %u", it->seq, it->value);
	free(it);
	return SPRY_CONTINUE;
}

/* Exit callback: the last word of an instance, and where its state goes. */
static void
stage_exit(spry_actor *self, int reason, void *state)
{
	stage *st = state;

	(void)self;
	say(role_names[st->role], "EXIT (%s%s) after %u item(s)",
	    spry_exit_abnormal(reason) ? "failed: " : "", reason_str(reason),
	    st->count);
	free(st);
}

/* Dispose callback: frees items left in a mailbox nobody will read. */
static void
item_dispose(void *it, void *arg)
{
	(void)arg;
	free(it);
}

/*
 * Spawn one instance of role under ctx (the child ctx the supervisor made
 * for it), publish it in *slot (if any) and hand a reference to the
 * supervisor through *child.
 */
static int
start_stage(spry_ctx *ctx, pipeline *p, enum role role, spry_actor **slot,
    spry_actor **child)
{
	static const spry_behavior_fn behaviors[] = {
	    source_behavior, transformer_behavior, sink_behavior};
	spry_actor_opts opts = SPRY_ACTOR_OPTS_INIT;
	spry_actor     *old  = NULL;
	stage          *st;
	int             rv;

	if ((st = calloc(1, sizeof(*st))) == NULL) {
		return SPRY_ENOMEM;
	}
	st->p    = p;
	st->role = role;
	pthread_mutex_lock(&p->mu);
	st->instance = ++p->starts[role];
	pthread_mutex_unlock(&p->mu);

	opts.behavior   = behaviors[role];
	opts.state      = st;
	opts.ctx        = ctx; /* the actor ends when its ctx ends */
	opts.exit_cb    = stage_exit;
	opts.dispose_cb = item_dispose;
	if ((rv = spry_actor_spawn(child, &opts)) != 0) {
		free(st); /* never started: no exit callback will run */
		return rv;
	}
	if (slot != NULL) {
		spry_actor_hold(*child); /* the slot's own reference */
		pthread_mutex_lock(&p->mu);
		old   = *slot;
		*slot = *child;
		pthread_mutex_unlock(&p->mu);
		spry_actor_release(old); /* the instance it replaces */
	}
	return 0;
}

static int
start_source(spry_ctx *ctx, void *arg, spry_actor **child)
{
	return start_stage(ctx, arg, SOURCE, NULL, child);
}

static int
start_transformer(spry_ctx *ctx, void *arg, spry_actor **child)
{
	pipeline *p = arg;

	return start_stage(ctx, p, TRANSFORMER, &p->transformer, child);
}

static int
start_sink(spry_ctx *ctx, void *arg, spry_actor **child)
{
	pipeline *p = arg;

	return start_stage(ctx, p, SINK, &p->sink, child);
}

/* Drop the slots' references (every actor has ended by now). */
static void
pipeline_clear(pipeline *p)
{
	pthread_mutex_lock(&p->mu);
	spry_actor_release(p->transformer);
	spry_actor_release(p->sink);
	p->transformer = p->sink = NULL;
	pthread_mutex_unlock(&p->mu);
}

/*
 * Start the supervisor under a ctx that ends in DEADLINE. Children start
 * in this order (sink first, so that every stage has somewhere to send)
 * and stop in the reverse one.
 */
static int
start_tree(pipeline *p, spry_ctx *ctx, spry_actor **sup)
{
	spry_supervisor_opts opts       = SPRY_SUPERVISOR_OPTS_INIT;
	spry_child_spec      children[] = {
	         {"sink", start_sink, p, SPRY_PERMANENT, SPRY_MSEC(500)},
	         {"transformer", start_transformer, p, SPRY_PERMANENT,
	             SPRY_MSEC(500)},
	         {"source", start_source, p, SPRY_PERMANENT, SPRY_MSEC(500)},
        };

	opts.strategy  = SPRY_ONE_FOR_ONE;
	opts.intensity = 3; /* at most 3 restarts in 5 s */
	opts.period    = SPRY_SEC(5);
	opts.ctx       = ctx;
	opts.children  = children; /* copied by the supervisor */
	opts.nchildren = sizeof(children) / sizeof(children[0]);
	return spry_supervisor_start(sup, &opts);
}

int
main(void)
{
	pipeline    p   = {.mu = PTHREAD_MUTEX_INITIALIZER};
	spry_ctx   *ctx = NULL, *wait_ctx = NULL;
	spry_actor *sup = NULL;
	int         rv, reason = 0;

	setvbuf(stdout, NULL, _IOLBF, 0); /* lines appear as they happen */
	t0 = spry_now();
	printf("spry pipeline example: source -> transformer -> sink under a "
	       "one-for-one supervisor.\nItem %d crashes the transformer; "
	       "a %ld ms deadline ends the whole tree.\n\n",
	    POISON, (long)(DEADLINE / SPRY_MSEC(1)));

	if ((rv = spry_runtime_start(NULL)) != 0) {
		fprintf(stderr, "runtime: %s\n", spry_strerror(rv));
		return 1;
	}
	say("main", "runtime started: %u worker thread(s)",
	    spry_runtime_workers());
	if ((rv = spry_ctx_with_timeout(&ctx, NULL, DEADLINE)) != 0 ||
	    (rv = start_tree(&p, ctx, &sup)) != 0) {
		fprintf(stderr, "start: %s\n", spry_strerror(rv));
		spry_ctx_release(ctx);
		spry_runtime_stop();
		return 1;
	}
	say("main", "supervisor started; waiting for it to end");

	/* A safety net: wait at most 5 s (the tree ends after about 1 s). */
	if ((rv = spry_ctx_with_timeout(&wait_ctx, NULL, SPRY_SEC(5))) == 0) {
		rv = spry_actor_wait(wait_ctx, sup, &reason);
	}
	if (rv != 0) {
		say("main", "supervisor did not end: %s", spry_strerror(rv));
	} else {
		say("main", "supervisor exited (%s) after %llu restart(s)",
		    reason_str(reason),
		    (unsigned long long)spry_supervisor_restarts(sup));
	}

	spry_actor_release(sup);
	spry_ctx_cancel(wait_ctx); /* disarm its timer: free it now */
	spry_ctx_release(wait_ctx);
	spry_ctx_release(ctx);
	spry_runtime_stop(); /* would also end any actor still running */
	pipeline_clear(&p);
	say("main", "runtime stopped; bye");
	pthread_mutex_destroy(&p.mu);
	return rv == 0 ? 0 : 1;
}
