/* SPDX-License-Identifier: MIT */
/*
 * tests/actors/test_supervisor.c: supervisor contracts: the three
 * strategies, the three restart types, restart intensity, escalation
 * through nested supervisors, ordered shutdown (reverse start order,
 * grandchildren before their supervisor, grace period then kill) and
 * shutdown driven by a ctx (cancel and deadline).
 *
 * Children are small worker actors: a message makes one fail or exit
 * normally, CANCEL makes it end with SPRY_EXIT_SHUTDOWN. Start functions
 * (which the supervisor runs in order) and the workers' exit callbacks
 * leave notes in a mailbox that the test thread reads, so the notes of one
 * supervisor's sequential actions arrive in the order they happened. The
 * test thread waits with a generous ctx deadline that only guards against
 * hangs: nothing here sleeps to synchronize or asserts a duration.
 *
 * Longer than most test files: every contract gets its own short scenario
 * (cmocka's one-line-per-case list is also wrapped by clang-format).
 */
#include "tests/support/support.h"

#include <stdlib.h>
#include <string.h>

#define NKIDS 16     /* child ids are 0..NKIDS-1 */
#define FAIL_CODE 42 /* a worker's failure reason */
#define START_ERR 77 /* what a failing start function returns */
#define HANG_GUARD SPRY_SEC(30)
#define LONG_PERIOD SPRY_SEC(3600)

/* Commands a worker understands. */
#define CMD_FAIL ((void *)(uintptr_t)1)   /* end with FAIL_CODE */
#define CMD_NORMAL ((void *)(uintptr_t)2) /* end with SPRY_EXIT_NORMAL */

/* What a start function builds. */
enum {
	KID_WORKER = 0, /* a worker under the ctx it is given */
	KID_DEAF,       /* a worker under the background ctx: ignores it */
	KID_BAD,        /* start fails with START_ERR */
	KID_FLAKY,      /* starts once, then fails to start */
	KID_SUP,        /* a supervisor of `specs` */
};

/* kid: the argument of start_kid for child `id`. */
typedef struct kid {
	int                    id;
	int                    kind;      /* KID_* */
	int                    starts;    /* starts so far (start fn only) */
	const spry_child_spec *specs;     /* KID_SUP: its children */
	size_t                 nspecs;    /* KID_SUP */
	unsigned               intensity; /* KID_SUP */
} kid;

enum { NOTE_START = 1, NOTE_EXIT };

/* note: what happened to child `id`. */
typedef struct note {
	int         kind;   /* NOTE_* */
	int         id;     /* child id */
	int         reason; /* NOTE_EXIT: exit reason */
	spry_actor *actor;  /* NOTE_START: the child, held */
	spry_ctx   *ctx;    /* NOTE_START: its ctx, held */
} note;

static spry_mailbox *notes;
static kid           kids[NKIDS];
static int           lost_notes;       /* notes that did not fit (atomic) */
static int           exits[NKIDS * 4]; /* child ids in exit order */
static unsigned      nexits;           /* next slot of exits (atomic) */

/* The latest start of each child, as seen by the test thread. */
static struct {
	spry_actor *actor; /* held */
	spry_ctx   *ctx;   /* held */
} cur[NKIDS];

/* ---- notes --------------------------------------------------------- */

/* Called from actors and start functions: no cmocka asserts here. */
static void
put(int kind, int id, int reason, spry_actor *a, spry_ctx *ctx)
{
	note *n = calloc(1, sizeof(*n));

	if (n == NULL) {
		__atomic_fetch_add(&lost_notes, 1, __ATOMIC_SEQ_CST);
		return;
	}
	*n = (note){kind, id, reason, a, ctx};
	if (a != NULL) {
		spry_actor_hold(a);
	}
	if (ctx != NULL) {
		spry_ctx_hold(ctx);
	}
	if (spry_mailbox_trysend(notes, n) != 0) {
		__atomic_fetch_add(&lost_notes, 1, __ATOMIC_SEQ_CST);
		spry_actor_release(a);
		spry_ctx_release(ctx);
		free(n);
	}
}

static void
note_free(note *n)
{
	spry_actor_release(n->actor);
	spry_ctx_release(n->ctx);
	free(n);
}

/* The next note; the caller frees it. */
static note *
get(void)
{
	spry_ctx *guard;
	void     *item = NULL;

	assert_int_equal(spry_ctx_with_timeout(&guard, NULL, HANG_GUARD), 0);
	spry_test_check(spry_mailbox_recv(guard, notes, &item), 0);
	spry_ctx_cancel(guard);
	spry_ctx_release(guard);
	return item;
}

/* A start note becomes the child's current incarnation. */
static void
take_start(note *n)
{
	spry_actor_release(cur[n->id].actor);
	spry_ctx_release(cur[n->id].ctx);
	cur[n->id].actor = n->actor;
	cur[n->id].ctx   = n->ctx;
	n->actor         = NULL;
	n->ctx           = NULL;
	note_free(n);
}

static void
expect_start(int id)
{
	note *n = get();

	assert_int_equal(n->kind, NOTE_START);
	assert_int_equal(n->id, id);
	take_start(n);
}

static void
expect_exit(int id, int reason)
{
	note *n    = get();
	int   kind = n->kind, nid = n->id, nreason = n->reason;

	note_free(n);
	assert_int_equal(kind, NOTE_EXIT);
	assert_int_equal(nid, id);
	assert_int_equal(nreason, reason);
}

/*
 * Expect the notes of kind for the ids in any order (children of
 * different actors run at the same time). Exits must have `reason`.
 */
static void
expect_any_order(int kind, const int *ids, size_t n, int reason)
{
	bool seen[NKIDS] = {false};

	for (size_t i = 0; i < n; i++) {
		note *nt = get();
		bool  ok = false;

		assert_int_equal(nt->kind, kind);
		for (size_t j = 0; j < n; j++) {
			ok = ok || (nt->id == ids[j] && !seen[ids[j]]);
		}
		assert_true(ok);
		seen[nt->id] = true;
		if (kind == NOTE_EXIT) {
			assert_int_equal(nt->reason, reason);
			note_free(nt);
		} else {
			take_start(nt);
		}
	}
}

/* Nothing more has happened (call once every actor involved ended). */
static void
expect_quiet(void)
{
	void *item;

	assert_int_equal(spry_mailbox_tryrecv(notes, &item), SPRY_EAGAIN);
}

/* ---- children ------------------------------------------------------ */

static int
worker(spry_actor *self, const spry_event *ev, void *state)
{
	(void)self;
	(void)state;
	switch (ev->type) {
	case SPRY_EV_MSG:
		return ev->msg == CMD_FAIL ? FAIL_CODE : SPRY_EXIT_NORMAL;
	case SPRY_EV_CANCEL:
		return SPRY_EXIT_SHUTDOWN;
	default:
		return SPRY_CONTINUE;
	}
}

static void
worker_exit(spry_actor *self, int reason, void *state)
{
	int      id = (int)(intptr_t)state;
	unsigned k  = __atomic_fetch_add(&nexits, 1, __ATOMIC_SEQ_CST);

	(void)self;
	if (k < NKIDS * 4) {
		__atomic_store_n(&exits[k], id, __ATOMIC_RELEASE);
	}
	put(NOTE_EXIT, id, reason, NULL, NULL);
}

static int
spawn_worker(spry_ctx *ctx, int id, spry_actor **out)
{
	spry_actor_opts o = SPRY_ACTOR_OPTS_INIT;

	o.behavior = worker;
	o.state    = (void *)(intptr_t)id;
	o.ctx      = ctx;
	o.exit_cb  = worker_exit;
	return spry_actor_spawn(out, &o);
}

static int
start_sub(spry_ctx *ctx, const kid *k, spry_actor **out)
{
	spry_supervisor_opts o = SPRY_SUPERVISOR_OPTS_INIT;

	o.ctx       = ctx;
	o.children  = k->specs;
	o.nchildren = k->nspecs;
	o.intensity = k->intensity;
	o.period    = LONG_PERIOD;
	return spry_supervisor_start(out, &o);
}

/* The start function of every child: builds what kids[id] says. */
static int
start_kid(spry_ctx *ctx, void *arg, spry_actor **child)
{
	kid *k = arg;
	int  rv;

	k->starts++;
	switch (k->kind) {
	case KID_BAD:
		return START_ERR;
	case KID_FLAKY:
		if (k->starts > 1) {
			return START_ERR;
		}
		rv = spawn_worker(ctx, k->id, child);
		break;
	case KID_SUP:
		rv = start_sub(ctx, k, child);
		break;
	case KID_DEAF: /* breaks the contract on purpose: ignores ctx */
		rv = spawn_worker(NULL, k->id, child);
		break;
	default:
		rv = spawn_worker(ctx, k->id, child);
		break;
	}
	if (rv == 0) {
		put(NOTE_START, k->id, 0, *child, ctx);
	}
	return rv;
}

static spry_child_spec
spec(int id, int restart)
{
	spry_child_spec c = {NULL, start_kid, &kids[id], restart, 0};

	return c;
}

/* ---- supervisors --------------------------------------------------- */

static spry_actor *
sup_start(spry_supervisor_opts *o, const spry_child_spec *c, size_t n)
{
	spry_actor *sup;

	o->children  = c;
	o->nchildren = n;
	spry_test_check(spry_supervisor_start(&sup, o), 0);
	return sup;
}

/* Opts for most tests: OTP's defaults with a period no test can outlast. */
static spry_supervisor_opts
sopts(int strategy)
{
	spry_supervisor_opts o = SPRY_SUPERVISOR_OPTS_INIT;

	o.strategy = strategy;
	o.period   = LONG_PERIOD;
	return o;
}

/* Wait for a to end and return its reason. */
static int
wait_reason(spry_actor *a)
{
	spry_ctx *guard;
	int       reason = 0;

	assert_int_equal(spry_ctx_with_timeout(&guard, NULL, HANG_GUARD), 0);
	spry_test_check(spry_actor_wait(guard, a, &reason), 0);
	spry_ctx_cancel(guard);
	spry_ctx_release(guard);
	return reason;
}

static void
stop_and_wait(spry_actor *sup, int reason)
{
	spry_actor_stop(sup);
	assert_int_equal(wait_reason(sup), reason);
}

static void
tell(int id, void *cmd)
{
	spry_test_check(spry_actor_send(cur[id].actor, cmd), 0);
}

/*
 * Block until the supervisor has handled the end of child id: it cancels
 * the child's ctx when it does, and that closes the ctx's done mailbox.
 */
static void
await_handled(int id)
{
	spry_ctx *guard;
	void     *item;

	assert_int_equal(spry_ctx_with_timeout(&guard, NULL, HANG_GUARD), 0);
	spry_test_check(
	    spry_mailbox_recv(guard, spry_ctx_done(cur[id].ctx), &item),
	    SPRY_ECLOSED);
	spry_ctx_cancel(guard);
	spry_ctx_release(guard);
}

/* ---- fixture ------------------------------------------------------- */

static int
up(void **state)
{
	memset(kids, 0, sizeof(kids));
	for (int i = 0; i < NKIDS; i++) {
		kids[i].id = i;
	}
	memset(exits, 0, sizeof(exits));
	nexits     = 0;
	lost_notes = 0;
	if (spry_mailbox_open(&notes, 1024) != 0) {
		return -1;
	}
	return spry_test_up(state);
}

static int
down(void **state)
{
	void *item;
	int   rv = spry_runtime_stop();

	(void)state;
	while (spry_mailbox_tryrecv(notes, &item) == 0) {
		note_free(item);
	}
	for (int i = 0; i < NKIDS; i++) {
		spry_actor_release(cur[i].actor);
		spry_ctx_release(cur[i].ctx);
		cur[i].actor = NULL;
		cur[i].ctx   = NULL;
	}
	spry_mailbox_release(notes);
	notes = NULL;
	assert_int_equal(lost_notes, 0);
	spry_test_assert_clean();
	return rv;
}

/* ---- strategies ---------------------------------------------------- */

static void
test_one_for_one_restarts_only_the_failed_child(void **state)
{
	spry_supervisor_opts o   = sopts(SPRY_ONE_FOR_ONE);
	spry_child_spec      c[] = {spec(0, 0), spec(1, 0), spec(2, 0)};
	spry_actor          *sup = sup_start(&o, c, 3);

	(void)state;
	expect_start(0);
	expect_start(1);
	expect_start(2);
	tell(1, CMD_FAIL);
	expect_exit(1, FAIL_CODE);
	expect_start(1);
	assert_int_equal(spry_supervisor_restarts(sup), 1);
	stop_and_wait(sup, SPRY_EXIT_SHUTDOWN);
	expect_exit(2, SPRY_EXIT_SHUTDOWN);
	expect_exit(1, SPRY_EXIT_SHUTDOWN);
	expect_exit(0, SPRY_EXIT_SHUTDOWN);
	expect_quiet();
	spry_actor_release(sup);
}

static void
test_one_for_all_restarts_all_children_in_order(void **state)
{
	spry_supervisor_opts o   = sopts(SPRY_ONE_FOR_ALL);
	spry_child_spec      c[] = {spec(0, 0), spec(1, 0), spec(2, 0)};
	spry_actor          *sup = sup_start(&o, c, 3);

	(void)state;
	expect_start(0);
	expect_start(1);
	expect_start(2);
	tell(1, CMD_FAIL);
	expect_exit(1, FAIL_CODE);
	expect_exit(2, SPRY_EXIT_SHUTDOWN); /* the others, in reverse */
	expect_exit(0, SPRY_EXIT_SHUTDOWN);
	expect_start(0); /* then all, in order */
	expect_start(1);
	expect_start(2);
	assert_int_equal(spry_supervisor_restarts(sup), 1);
	stop_and_wait(sup, SPRY_EXIT_SHUTDOWN);
	expect_exit(2, SPRY_EXIT_SHUTDOWN);
	expect_exit(1, SPRY_EXIT_SHUTDOWN);
	expect_exit(0, SPRY_EXIT_SHUTDOWN);
	expect_quiet();
	spry_actor_release(sup);
}

static void
test_rest_for_one_restarts_the_failed_child_and_those_after_it(void **state)
{
	spry_supervisor_opts o = sopts(SPRY_REST_FOR_ONE);
	spry_child_spec c[] = {spec(0, 0), spec(1, 0), spec(2, 0), spec(3, 0)};
	spry_actor     *sup = sup_start(&o, c, 4);

	(void)state;
	for (int i = 0; i < 4; i++) {
		expect_start(i);
	}
	tell(1, CMD_FAIL);
	expect_exit(1, FAIL_CODE);
	expect_exit(3, SPRY_EXIT_SHUTDOWN);
	expect_exit(2, SPRY_EXIT_SHUTDOWN);
	expect_start(1);
	expect_start(2);
	expect_start(3);
	assert_int_equal(spry_supervisor_restarts(sup), 1);
	stop_and_wait(sup, SPRY_EXIT_SHUTDOWN);
	for (int i = 3; i >= 0; i--) {
		expect_exit(i, SPRY_EXIT_SHUTDOWN);
	}
	expect_quiet();
	spry_actor_release(sup);
}

/* ---- restart types ------------------------------------------------- */

static void
test_permanent_child_restarts_after_a_normal_exit(void **state)
{
	spry_supervisor_opts o   = sopts(SPRY_ONE_FOR_ONE);
	spry_child_spec      c[] = {spec(0, SPRY_PERMANENT)};
	spry_actor          *sup = sup_start(&o, c, 1);

	(void)state;
	expect_start(0);
	tell(0, CMD_NORMAL);
	expect_exit(0, SPRY_EXIT_NORMAL);
	expect_start(0);
	assert_int_equal(spry_supervisor_restarts(sup), 1);
	stop_and_wait(sup, SPRY_EXIT_SHUTDOWN);
	expect_exit(0, SPRY_EXIT_SHUTDOWN);
	expect_quiet();
	spry_actor_release(sup);
}

static void
test_transient_child_restarts_only_after_an_abnormal_exit(void **state)
{
	spry_supervisor_opts o   = sopts(SPRY_ONE_FOR_ONE);
	spry_child_spec      c[] = {
	         spec(0, SPRY_TRANSIENT), spec(1, SPRY_PERMANENT)};
	spry_actor *sup = sup_start(&o, c, 2);

	(void)state;
	expect_start(0);
	expect_start(1);
	tell(0, CMD_FAIL);
	expect_exit(0, FAIL_CODE);
	expect_start(0);
	tell(0, CMD_NORMAL);
	expect_exit(0, SPRY_EXIT_NORMAL);
	await_handled(0);
	/* A restart would have been noted before the stop below. */
	stop_and_wait(sup, SPRY_EXIT_SHUTDOWN);
	expect_exit(1, SPRY_EXIT_SHUTDOWN);
	expect_quiet();
	assert_int_equal(spry_supervisor_restarts(sup), 1);
	spry_actor_release(sup);
}

static void
test_temporary_child_is_never_restarted(void **state)
{
	spry_supervisor_opts o   = sopts(SPRY_ONE_FOR_ALL);
	spry_child_spec      c[] = {
	         spec(0, SPRY_TEMPORARY), spec(1, SPRY_PERMANENT)};
	spry_actor *sup = sup_start(&o, c, 2);

	(void)state;
	expect_start(0);
	expect_start(1);
	tell(0, CMD_FAIL);
	expect_exit(0, FAIL_CODE);
	await_handled(0);
	stop_and_wait(sup, SPRY_EXIT_SHUTDOWN);
	expect_exit(1, SPRY_EXIT_SHUTDOWN);
	expect_quiet();
	assert_int_equal(spry_supervisor_restarts(sup), 0);
	spry_actor_release(sup);
}

static void
test_temporary_sibling_is_dropped_by_a_one_for_all_restart(void **state)
{
	spry_supervisor_opts o   = sopts(SPRY_ONE_FOR_ALL);
	spry_child_spec      c[] = {
	         spec(0, SPRY_TEMPORARY), spec(1, SPRY_PERMANENT)};
	spry_actor *sup = sup_start(&o, c, 2);

	(void)state;
	expect_start(0);
	expect_start(1);
	tell(1, CMD_FAIL);
	expect_exit(1, FAIL_CODE);
	expect_exit(0, SPRY_EXIT_SHUTDOWN);
	expect_start(1); /* and not 0: OTP deletes stopped temporaries */
	stop_and_wait(sup, SPRY_EXIT_SHUTDOWN);
	expect_exit(1, SPRY_EXIT_SHUTDOWN);
	expect_quiet();
	spry_actor_release(sup);
}

/* ---- restart intensity --------------------------------------------- */

static void
test_defaults_allow_one_restart_in_five_seconds(void **state)
{
	spry_supervisor_opts o = SPRY_SUPERVISOR_OPTS_INIT;

	(void)state;
	assert_int_equal(o.size, sizeof(o));
	assert_int_equal(o.strategy, SPRY_ONE_FOR_ONE);
	assert_int_equal(o.intensity, 1);
	assert_true(o.period == SPRY_SEC(5));
}

static void
test_second_failure_in_the_period_exits_with_erestarts(void **state)
{
	spry_supervisor_opts o   = sopts(SPRY_ONE_FOR_ONE);
	spry_child_spec      c[] = {spec(0, 0), spec(1, 0)};
	spry_actor          *sup = sup_start(&o, c, 2);

	(void)state;
	expect_start(0);
	expect_start(1);
	tell(0, CMD_FAIL);
	expect_exit(0, FAIL_CODE);
	expect_start(0);
	tell(0, CMD_FAIL);
	expect_exit(0, FAIL_CODE);
	expect_exit(1, SPRY_EXIT_SHUTDOWN); /* stops the rest, then fails */
	assert_int_equal(wait_reason(sup), SPRY_ERESTARTS);
	assert_true(spry_exit_abnormal(SPRY_ERESTARTS));
	expect_quiet();
	/* The count stays readable once the supervisor has ended. */
	assert_int_equal(spry_supervisor_restarts(sup), 1);
	spry_actor_release(sup);
}

static void
test_restarts_older_than_the_period_are_forgotten(void **state)
{
	spry_supervisor_opts o   = sopts(SPRY_ONE_FOR_ONE);
	spry_child_spec      c[] = {spec(0, 0)};
	spry_actor          *sup;

	(void)state;
	o.period = 1; /* 1 ns: every earlier restart is out of the window */
	sup      = sup_start(&o, c, 1);
	expect_start(0);
	for (int i = 0; i < 3; i++) {
		tell(0, CMD_FAIL);
		expect_exit(0, FAIL_CODE);
		expect_start(0);
	}
	assert_int_equal(spry_supervisor_restarts(sup), 3);
	stop_and_wait(sup, SPRY_EXIT_SHUTDOWN);
	expect_exit(0, SPRY_EXIT_SHUTDOWN);
	expect_quiet();
	spry_actor_release(sup);
}

static void
test_restart_that_fails_to_start_counts_against_intensity(void **state)
{
	spry_supervisor_opts o   = sopts(SPRY_ONE_FOR_ONE);
	spry_child_spec      c[] = {spec(0, 0)};
	spry_actor          *sup;

	(void)state;
	kids[0].kind = KID_FLAKY;
	o.intensity  = 2;
	sup          = sup_start(&o, c, 1);
	expect_start(0);
	tell(0, CMD_FAIL);
	expect_exit(0, FAIL_CODE);
	/* Restart 1 fails to start, restart 2 too, a third is too many. */
	assert_int_equal(wait_reason(sup), SPRY_ERESTARTS);
	assert_int_equal(spry_supervisor_restarts(sup), 2);
	assert_int_equal(kids[0].starts, 3);
	expect_quiet();
	spry_actor_release(sup);
}

/* ---- nesting ------------------------------------------------------- */

static void
test_nested_supervisor_failure_is_restarted_by_its_parent(void **state)
{
	static spry_child_spec g[1];
	spry_supervisor_opts   o     = sopts(SPRY_ONE_FOR_ONE);
	spry_child_spec        c[]   = {spec(0, 0)};
	const int              ids[] = {0, 10};
	spry_actor            *sup, *sub;

	(void)state;
	g[0]    = spec(10, 0);
	kids[0] = (kid){0, KID_SUP, 0, g, 1, 0}; /* intensity 0 */
	sup     = sup_start(&o, c, 1);
	expect_any_order(NOTE_START, ids, 2, 0);
	sub = cur[0].actor;
	spry_actor_hold(sub);
	tell(10, CMD_FAIL);
	expect_exit(10, FAIL_CODE);
	assert_int_equal(wait_reason(sub), SPRY_ERESTARTS);
	expect_any_order(NOTE_START, ids, 2, 0); /* the parent restarts it */
	assert_int_equal(spry_supervisor_restarts(sup), 1);
	assert_int_equal(spry_supervisor_restarts(sub), 0);
	stop_and_wait(sup, SPRY_EXIT_SHUTDOWN);
	expect_exit(10, SPRY_EXIT_SHUTDOWN);
	expect_quiet();
	spry_actor_release(sub);
	spry_actor_release(sup);
}

static void
test_nested_failure_escalates_to_the_root(void **state)
{
	static spry_child_spec g[1];
	spry_supervisor_opts   o     = sopts(SPRY_ONE_FOR_ONE);
	spry_child_spec        c[]   = {spec(0, 0), spec(1, 0)};
	const int              ids[] = {0, 10, 1};
	spry_actor            *sup;

	(void)state;
	g[0]        = spec(10, 0);
	kids[0]     = (kid){0, KID_SUP, 0, g, 1, 0};
	o.intensity = 0;
	sup         = sup_start(&o, c, 2);
	expect_any_order(NOTE_START, ids, 3, 0);
	tell(10, CMD_FAIL);
	expect_exit(10, FAIL_CODE);
	expect_exit(1, SPRY_EXIT_SHUTDOWN);
	assert_int_equal(wait_reason(sup), SPRY_ERESTARTS);
	expect_quiet();
	spry_actor_release(sup);
}

/* ---- shutdown ------------------------------------------------------ */

static void
test_shutdown_stops_children_in_reverse_start_order(void **state)
{
	spry_supervisor_opts o = sopts(SPRY_ONE_FOR_ONE);
	spry_child_spec c[] = {spec(0, 0), spec(1, 0), spec(2, 0), spec(3, 0)};
	spry_actor     *sup = sup_start(&o, c, 4);

	(void)state;
	for (int i = 0; i < 4; i++) {
		expect_start(i);
	}
	stop_and_wait(sup, SPRY_EXIT_SHUTDOWN);
	assert_int_equal(__atomic_load_n(&nexits, __ATOMIC_ACQUIRE), 4);
	for (int i = 0; i < 4; i++) {
		assert_int_equal(exits[i], 3 - i);
		expect_exit(3 - i, SPRY_EXIT_SHUTDOWN);
	}
	expect_quiet();
	spry_actor_release(sup);
}

static void
test_grandchildren_stop_before_their_supervisor(void **state)
{
	static spry_child_spec g[2];
	spry_supervisor_opts   o       = sopts(SPRY_ONE_FOR_ONE);
	spry_child_spec        c[]     = {spec(0, 0), spec(1, 0), spec(2, 0)};
	const int              ids[]   = {1, 10, 11, 2};
	const int              grand[] = {10, 11};
	spry_actor            *sup;

	(void)state;
	g[0]    = spec(10, 0);
	g[1]    = spec(11, 0);
	kids[1] = (kid){1, KID_SUP, 0, g, 2, 1};
	sup     = sup_start(&o, c, 3);
	expect_start(0);
	expect_any_order(NOTE_START, ids, 4, 0);
	stop_and_wait(sup, SPRY_EXIT_SHUTDOWN);
	/* 2, then the subtree of 1 (its children end before it does, and
	 * its end is what lets the parent go on), then 0. */
	expect_exit(2, SPRY_EXIT_SHUTDOWN);
	expect_any_order(NOTE_EXIT, grand, 2, SPRY_EXIT_SHUTDOWN);
	expect_exit(0, SPRY_EXIT_SHUTDOWN);
	assert_int_equal(exits[0], 2);
	assert_int_equal(exits[3], 0);
	expect_quiet();
	spry_actor_release(sup);
}

static void
test_shutdown_timeout_escalates_to_kill(void **state)
{
	spry_supervisor_opts o   = sopts(SPRY_ONE_FOR_ONE);
	spry_child_spec      c[] = {spec(0, 0), spec(1, 0)};
	spry_actor          *sup;

	(void)state;
	kids[0].kind  = KID_DEAF;
	c[0].shutdown = SPRY_MSEC(50);
	sup           = sup_start(&o, c, 2);
	expect_start(0);
	expect_start(1);
	stop_and_wait(sup, SPRY_EXIT_SHUTDOWN);
	expect_exit(1, SPRY_EXIT_SHUTDOWN);
	expect_exit(0, SPRY_EXIT_KILLED);
	expect_quiet();
	spry_actor_release(sup);
}

static void
test_brutal_shutdown_kills_at_once(void **state)
{
	spry_supervisor_opts o   = sopts(SPRY_ONE_FOR_ONE);
	spry_child_spec      c[] = {spec(0, 0)};
	spry_actor          *sup;

	(void)state;
	c[0].shutdown = SPRY_SHUTDOWN_BRUTAL;
	sup           = sup_start(&o, c, 1);
	expect_start(0);
	stop_and_wait(sup, SPRY_EXIT_SHUTDOWN);
	expect_exit(0, SPRY_EXIT_KILLED);
	expect_quiet();
	spry_actor_release(sup);
}

static void
test_cancelling_the_parent_ctx_stops_the_whole_tree(void **state)
{
	static spry_child_spec g[2];
	spry_supervisor_opts   o        = sopts(SPRY_ONE_FOR_ONE);
	spry_child_spec        c[]      = {spec(0, 0), spec(1, 0), spec(2, 0)};
	const int              starts[] = {0, 1, 10, 11, 2};
	const int              workers[] = {0, 10, 11, 2};
	spry_ctx              *ctx;
	spry_actor            *sup;

	(void)state;
	g[0]    = spec(10, 0);
	g[1]    = spec(11, 0);
	kids[1] = (kid){1, KID_SUP, 0, g, 2, 1};
	assert_int_equal(spry_ctx_with_cancel(&ctx, NULL), 0);
	o.ctx = ctx;
	sup   = sup_start(&o, c, 3);
	expect_any_order(NOTE_START, starts, 5, 0);
	spry_ctx_cancel(ctx);
	assert_int_equal(wait_reason(sup), SPRY_EXIT_SHUTDOWN);
	/* Every worker had ended before the root did. */
	assert_int_equal(__atomic_load_n(&nexits, __ATOMIC_ACQUIRE), 4);
	expect_any_order(NOTE_EXIT, workers, 4, SPRY_EXIT_SHUTDOWN);
	expect_quiet();
	spry_actor_release(sup);
	spry_ctx_release(ctx);
}

static void
test_deadline_on_the_supervisor_stops_children_first(void **state)
{
	spry_supervisor_opts o     = sopts(SPRY_ONE_FOR_ONE);
	spry_child_spec      c[]   = {spec(0, 0), spec(1, 0), spec(2, 0)};
	const int            ids[] = {0, 1, 2};
	spry_ctx            *ctx;
	spry_actor          *sup;

	(void)state;
	assert_int_equal(spry_ctx_with_timeout(&ctx, NULL, SPRY_MSEC(100)), 0);
	o.ctx = ctx;
	sup   = sup_start(&o, c, 3);
	assert_int_equal(wait_reason(sup), SPRY_EXIT_SHUTDOWN);
	assert_int_equal(spry_ctx_err(ctx), SPRY_ETIMEDOUT);
	assert_int_equal(__atomic_load_n(&nexits, __ATOMIC_ACQUIRE), 3);
	expect_start(0);
	expect_start(1);
	expect_start(2);
	expect_any_order(NOTE_EXIT, ids, 3, SPRY_EXIT_SHUTDOWN);
	expect_quiet();
	spry_actor_release(sup);
	spry_ctx_release(ctx);
}

static void
test_killed_supervisor_still_ends_its_children(void **state)
{
	spry_supervisor_opts o     = sopts(SPRY_ONE_FOR_ONE);
	spry_child_spec      c[]   = {spec(0, 0), spec(1, 0)};
	const int            ids[] = {0, 1};
	spry_actor          *sup   = sup_start(&o, c, 2);

	(void)state;
	expect_start(0);
	expect_start(1);
	spry_actor_kill(sup);
	assert_int_equal(wait_reason(sup), SPRY_EXIT_KILLED);
	/* No ordered stop, but their ctxs are cancelled on the way out. */
	expect_any_order(NOTE_EXIT, ids, 2, SPRY_EXIT_SHUTDOWN);
	assert_int_equal(spry_supervisor_restarts(sup), 0);
	spry_actor_release(sup);
}

/* ---- start and options --------------------------------------------- */

static void
test_start_failure_stops_started_children_and_exits_with_its_error(
    void **state)
{
	spry_supervisor_opts o = sopts(SPRY_ONE_FOR_ONE);
	spry_child_spec c[] = {spec(0, 0), spec(1, 0), spec(2, 0), spec(3, 0)};
	spry_actor     *sup;

	(void)state;
	kids[2].kind = KID_BAD;
	sup          = sup_start(&o, c, 4);
	expect_start(0);
	expect_start(1);
	expect_exit(1, SPRY_EXIT_SHUTDOWN);
	expect_exit(0, SPRY_EXIT_SHUTDOWN);
	assert_int_equal(wait_reason(sup), START_ERR);
	assert_int_equal(kids[3].starts, 0);
	expect_quiet();
	spry_actor_release(sup);
}

static void
test_supervisor_without_children_runs_until_stopped(void **state)
{
	spry_supervisor_opts o   = sopts(SPRY_ONE_FOR_ONE);
	spry_actor          *sup = sup_start(&o, NULL, 0);

	(void)state;
	stop_and_wait(sup, SPRY_EXIT_SHUTDOWN);
	assert_int_equal(spry_supervisor_restarts(sup), 0);
	spry_actor_release(sup);
}

static void
test_bad_options_are_rejected(void **state)
{
	spry_supervisor_opts o   = SPRY_SUPERVISOR_OPTS_INIT;
	spry_child_spec      c[] = {spec(0, 0)};
	spry_actor          *sup = NULL;

	(void)state;
	spry_test_check(spry_supervisor_start(&sup, NULL), SPRY_EINVAL);
	o.children  = c;
	o.nchildren = 1;
	o.size      = 1;
	spry_test_check(spry_supervisor_start(&sup, &o), SPRY_EINVAL);
	o.size     = sizeof(o);
	o.strategy = 9;
	spry_test_check(spry_supervisor_start(&sup, &o), SPRY_EINVAL);
	o.strategy = 0;
	o.period   = -1;
	spry_test_check(spry_supervisor_start(&sup, &o), SPRY_EINVAL);
	o.period   = 0;
	o.children = NULL;
	spry_test_check(spry_supervisor_start(&sup, &o), SPRY_EINVAL);
	o.children = c;
	c[0].start = NULL;
	spry_test_check(spry_supervisor_start(&sup, &o), SPRY_EINVAL);
	c[0] = spec(0, 7);
	spry_test_check(spry_supervisor_start(&sup, &o), SPRY_EINVAL);
	c[0]          = spec(0, 0);
	c[0].shutdown = -5;
	spry_test_check(spry_supervisor_start(&sup, &o), SPRY_EINVAL);
	assert_null(sup);
	assert_int_equal(spry_supervisor_restarts(NULL), 0);
	assert_int_equal(kids[0].starts, 0);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(
	        test_one_for_one_restarts_only_the_failed_child, up, down),
	    cmocka_unit_test_setup_teardown(
	        test_one_for_all_restarts_all_children_in_order, up, down),
	    cmocka_unit_test_setup_teardown(
	        test_rest_for_one_restarts_the_failed_child_and_those_after_it,
	        up, down),
	    cmocka_unit_test_setup_teardown(
	        test_permanent_child_restarts_after_a_normal_exit, up, down),
	    cmocka_unit_test_setup_teardown(
	        test_transient_child_restarts_only_after_an_abnormal_exit, up,
	        down),
	    cmocka_unit_test_setup_teardown(
	        test_temporary_child_is_never_restarted, up, down),
	    cmocka_unit_test_setup_teardown(
	        test_temporary_sibling_is_dropped_by_a_one_for_all_restart, up,
	        down),
	    cmocka_unit_test_setup_teardown(
	        test_defaults_allow_one_restart_in_five_seconds, up, down),
	    cmocka_unit_test_setup_teardown(
	        test_second_failure_in_the_period_exits_with_erestarts, up,
	        down),
	    cmocka_unit_test_setup_teardown(
	        test_restarts_older_than_the_period_are_forgotten, up, down),
	    cmocka_unit_test_setup_teardown(
	        test_restart_that_fails_to_start_counts_against_intensity, up,
	        down),
	    cmocka_unit_test_setup_teardown(
	        test_nested_supervisor_failure_is_restarted_by_its_parent, up,
	        down),
	    cmocka_unit_test_setup_teardown(
	        test_nested_failure_escalates_to_the_root, up, down),
	    cmocka_unit_test_setup_teardown(
	        test_shutdown_stops_children_in_reverse_start_order, up, down),
	    cmocka_unit_test_setup_teardown(
	        test_grandchildren_stop_before_their_supervisor, up, down),
	    cmocka_unit_test_setup_teardown(
	        test_shutdown_timeout_escalates_to_kill, up, down),
	    cmocka_unit_test_setup_teardown(
	        test_brutal_shutdown_kills_at_once, up, down),
	    cmocka_unit_test_setup_teardown(
	        test_cancelling_the_parent_ctx_stops_the_whole_tree, up, down),
	    cmocka_unit_test_setup_teardown(
	        test_deadline_on_the_supervisor_stops_children_first, up,
	        down),
	    cmocka_unit_test_setup_teardown(
	        test_killed_supervisor_still_ends_its_children, up, down),
	    cmocka_unit_test_setup_teardown(
	        test_start_failure_stops_started_children_and_exits_with_its_error,
	        up, down),
	    cmocka_unit_test_setup_teardown(
	        test_supervisor_without_children_runs_until_stopped, up, down),
	    cmocka_unit_test_setup_teardown(
	        test_bad_options_are_rejected, up, down),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
