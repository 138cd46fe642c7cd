/* SPDX-License-Identifier: MIT */
/*
 * bench/skynet.c: skynet (ms) and skynet_rss (peak MB), against
 * bench/go/skynet.go (the goroutine and channel version).
 *
 * A 10-ary tree of real actors, one per node, every one spawned with
 * spry_actor_spawn and no sequential cutoff: 1,000,000 leaves and
 * 1,111,111 actors in all (10,000 and 11,111 with --quick). Each leaf
 * sends its ordinal to its parent and ends; each inner node sums its ten
 * replies, sends the sum up and ends; the root's sum must be
 * leaves * (leaves - 1) / 2, i.e. 499999500000. The time runs from the
 * root's spawn to its end, seen by spry_actor_wait; the runtime (default
 * workers) is started before and stopped after.
 *
 * A child holds a reference on its parent until it has sent its reply,
 * so the send never touches an actor that has ended and been freed. An
 * inner node allocates its ten children's states in one block and frees
 * it when the last reply is in: a child reads its state only before it
 * sends. Any failure (a spawn or a send) stops the root, so a broken run
 * ends and is reported instead of hanging.
 *
 * Every run, the warm-up too, is a fresh process, as a skynet program is
 * run, so that each peak RSS is that run's own.
 */
#include "bench.h"

#include <spry/spry.h>

#include <stdatomic.h>

#define SKY_FANOUT 10

/* sky_run: what one tree shares. */
struct sky_run {
	spry_actor *root; /* set at the root's start; borrowed */
	atomic_int  err;  /* first spawn or send failure, or 0 */
	uint64_t    sum;  /* the root's total, written before it ends */
};

/* sky_node: the state of one actor of the tree. */
struct sky_node {
	spry_actor      *parent;  /* held until we reply; NULL: root */
	struct sky_run  *run;     /* the tree's record */
	struct sky_node *kids;    /* the children's states, or NULL */
	uint64_t         num;     /* ordinal of the first leaf below */
	uint64_t         size;    /* leaves below; 1 for a leaf */
	uint64_t         sum;     /* replies summed so far */
	unsigned         waiting; /* replies still to come */
};

/* sky_fail records the first failure and ends the tree from its root. */
static int
sky_fail(struct sky_run *run, int err)
{
	int none = 0;

	atomic_compare_exchange_strong(&run->err, &none, err);
	spry_actor_stop(run->root);
	return err;
}

/* sky_reply sends value up (or records the total at the root); ends. */
static int
sky_reply(struct sky_node *n, uint64_t value)
{
	spry_actor *parent = n->parent;
	int         rv;

	if (parent == NULL) {
		n->run->sum = value;
		return SPRY_EXIT_NORMAL;
	}
	rv = spry_actor_send(parent, (void *)(uintptr_t)value);
	spry_actor_release(parent);
	return rv == 0 ? SPRY_EXIT_NORMAL : sky_fail(n->run, rv);
}

static int sky_behavior(spry_actor *self, const spry_event *ev, void *state);

static int
sky_spawn_kids(spry_actor *self, struct sky_node *n)
{
	uint64_t        step = n->size / SKY_FANOUT;
	spry_actor_opts opts = SPRY_ACTOR_OPTS_INIT;

	n->kids = malloc(sizeof *n->kids * SKY_FANOUT);
	if (n->kids == NULL)
		return sky_fail(n->run, SPRY_ENOMEM);
	n->waiting    = SKY_FANOUT;
	opts.behavior = sky_behavior;
	for (unsigned i = 0; i < SKY_FANOUT; i++) {
		struct sky_node *k = &n->kids[i];
		int              rv;

		*k = (struct sky_node){
		    .parent = self,
		    .run    = n->run,
		    .num    = n->num + i * step,
		    .size   = step,
		};
		opts.state = k;
		spry_actor_hold(self);
		if ((rv = spry_actor_spawn(NULL, &opts)) != 0) {
			spry_actor_release(self);
			return sky_fail(n->run, rv);
		}
	}
	return SPRY_CONTINUE;
}

static int
sky_behavior(spry_actor *self, const spry_event *ev, void *state)
{
	struct sky_node *n = state;

	switch (ev->type) {
	case SPRY_EV_START:
		if (n->parent == NULL)
			n->run->root = self;
		if (n->size == 1)
			return sky_reply(n, n->num);
		return sky_spawn_kids(self, n);
	case SPRY_EV_MSG:
		n->sum += (uintptr_t)ev->msg;
		if (--n->waiting > 0)
			return SPRY_CONTINUE;
		free(n->kids);
		n->kids = NULL;
		return sky_reply(n, n->sum);
	default:
		return SPRY_CONTINUE;
	}
}

/* sky_tree runs one tree in this process: vals = ms, peak MB, sum. */
static int
sky_tree(void *arg, double *vals)
{
	uint64_t        leaves = *(const uint64_t *)arg;
	uint64_t        expect = leaves * (leaves - 1) / 2;
	struct sky_run  run    = {0};
	struct sky_node root   = {.run = &run, .size = leaves};
	spry_actor_opts opts   = SPRY_ACTOR_OPTS_INIT;
	spry_actor     *a;
	uint64_t        t0;
	int             rv, reason = 0;

	if ((rv = spry_runtime_start(NULL)) != 0)
		bench_fail("spry_runtime_start: %s", spry_strerror(rv));
	opts.behavior = sky_behavior;
	opts.state    = &root;
	t0            = bench_now();
	if ((rv = spry_actor_spawn(&a, &opts)) != 0)
		bench_fail("spry_actor_spawn: %s", spry_strerror(rv));
	if ((rv = spry_actor_wait(NULL, a, &reason)) != 0)
		bench_fail("spry_actor_wait: %s", spry_strerror(rv));
	vals[0] = (double)(bench_now() - t0) / 1e6;
	spry_actor_release(a);
	if ((rv = spry_runtime_stop()) != 0)
		bench_fail("spry_runtime_stop: %s", spry_strerror(rv));
	vals[1] = bench_peak_rss_mb();
	vals[2] = (double)run.sum;
	if (reason != SPRY_EXIT_NORMAL || atomic_load(&run.err) != 0 ||
	    run.sum != expect) {
		fprintf(stderr,
		    "skynet: root exit %d, first failure %d, sum %llu, "
		    "expected %llu\n",
		    reason, atomic_load(&run.err), (unsigned long long)run.sum,
		    (unsigned long long)expect);
		return 1;
	}
	return 0;
}

int
main(int argc, char **argv)
{
	uint64_t leaves;
	double   vals[3];

	bench_init(argc, argv);
	leaves = bench_size(1000000, 10000);
	bench_measure_forked(sky_tree, &leaves, vals, 3);
	printf("# skynet: %llu actors, root sum %.0f (expected %llu)\n",
	    (unsigned long long)(leaves * 10 - 1) / 9, vals[2],
	    (unsigned long long)(leaves * (leaves - 1) / 2));
	bench_report("skynet", "ms", vals[0], (bench_goal){0.5, 0});
	bench_report("skynet_rss", "MB", vals[1], (bench_goal){0, 0});
	return 0;
}
