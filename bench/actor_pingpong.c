/* SPDX-License-Identifier: MIT */
/*
 * bench/actor_pingpong.c: actor_pingpong, ns per round trip between two
 * actors, against bench/go/actor_pingpong.go (two goroutines over two
 * unbuffered channels, GOMAXPROCS default).
 *
 * The server sends ball 1 to the echo actor, which sends it back; the
 * server sends the next ball on every return, checks that each ball comes
 * back in order, and after the last round tells the echo actor to end
 * (ball 0) and ends itself. Both send with spry_actor_send from their
 * behaviors; this thread only spawns them and waits with spry_actor_wait.
 * The runtime has its default workers (one per CPU).
 */
#include "bench.h"

#include <spry/spry.h>

/* pp_player: the state of one side. */
struct pp_player {
	spry_actor       *peer;      /* whom to send to (see pp_server) */
	struct pp_player *echo;      /* server: the echo actor's state */
	uint64_t          rounds;    /* server: round trips to play */
	uint64_t          returned;  /* server: balls back so far */
	int               send_err;  /* first failed send, or 0 */
	uint64_t          bad_balls; /* balls out of order */
};

/* pp_send sends, and on failure records why and ends the other side. */
static int
pp_send(struct pp_player *p, uintptr_t ball)
{
	int rv = spry_actor_send(p->peer, (void *)ball);

	if (rv != 0) {
		p->send_err = rv;
		spry_actor_stop(p->peer);
		return rv;
	}
	return SPRY_CONTINUE;
}

static int
pp_echo(spry_actor *self, const spry_event *ev, void *state)
{
	struct pp_player *p = state;

	(void)self;
	if (ev->type != SPRY_EV_MSG)
		return SPRY_CONTINUE;
	if ((uintptr_t)ev->msg == 0)
		return SPRY_EXIT_NORMAL;
	return pp_send(p, (uintptr_t)ev->msg);
}

static int
pp_server(spry_actor *self, const spry_event *ev, void *state)
{
	struct pp_player *p = state;

	switch (ev->type) {
	case SPRY_EV_START:
		/* The echo actor learns who serves before its first ball:
		 * the send below orders this store before its receive. */
		p->echo->peer = self;
		return pp_send(p, 1);
	case SPRY_EV_MSG:
		if ((uintptr_t)ev->msg != ++p->returned)
			p->bad_balls++;
		if (p->returned < p->rounds)
			return pp_send(p, (uintptr_t)p->returned + 1);
		return pp_send(p, 0) != 0 ? p->send_err : SPRY_EXIT_NORMAL;
	default:
		return SPRY_CONTINUE;
	}
}

static spry_actor *
pp_spawn(spry_behavior_fn fn, struct pp_player *p)
{
	spry_actor_opts opts = SPRY_ACTOR_OPTS_INIT;
	spry_actor     *a;
	int             rv;

	opts.behavior = fn;
	opts.state    = p;
	if ((rv = spry_actor_spawn(&a, &opts)) != 0)
		bench_fail("spry_actor_spawn: %s", spry_strerror(rv));
	return a;
}

static int
pp_wait(spry_actor *a)
{
	int reason = 0;
	int rv     = spry_actor_wait(NULL, a, &reason);

	spry_actor_release(a);
	if (rv != 0)
		bench_fail("spry_actor_wait: %s", spry_strerror(rv));
	return reason;
}

static int
pp_run(void *arg, double *vals)
{
	struct pp_player server = {0}, echo = {0};
	spry_actor      *e, *s;
	uint64_t         t0;
	int              rs, re;

	server.rounds = *(const uint64_t *)arg;
	server.echo   = &echo;
	e             = pp_spawn(pp_echo, &echo);
	server.peer   = e;
	t0            = bench_now();
	s             = pp_spawn(pp_server, &server);
	rs            = pp_wait(s);
	re            = pp_wait(e);
	vals[0]       = (double)(bench_now() - t0) / (double)server.rounds;
	if (rs != SPRY_EXIT_NORMAL || re != SPRY_EXIT_NORMAL ||
	    server.send_err != 0 || echo.send_err != 0 ||
	    server.returned != server.rounds || server.bad_balls != 0) {
		fprintf(stderr,
		    "actor_pingpong: server exit %d, send error %d; echo "
		    "exit %d, send error %d; %llu of %llu balls back, %llu "
		    "out of order\n",
		    rs, server.send_err, re, echo.send_err,
		    (unsigned long long)server.returned,
		    (unsigned long long)server.rounds,
		    (unsigned long long)server.bad_balls);
		return 1;
	}
	return 0;
}

int
main(int argc, char **argv)
{
	uint64_t rounds;
	double   ns;
	int      rv;

	bench_init(argc, argv);
	rounds = bench_size(1000000, 100000);
	if ((rv = spry_runtime_start(NULL)) != 0)
		bench_fail("spry_runtime_start: %s", spry_strerror(rv));
	bench_measure(pp_run, &rounds, &ns, 1);
	if ((rv = spry_runtime_stop()) != 0)
		bench_fail("spry_runtime_stop: %s", spry_strerror(rv));
	bench_report("actor_pingpong", "ns", ns, (bench_goal){0.5, 0});
	return 0;
}
