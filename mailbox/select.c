/* SPDX-License-Identifier: MIT */
/*
 * mailbox/select.c: spry_select, and the blocking mailbox calls, which
 * are one-case selects.
 *
 * A select first tries every case from a random start (fairness). To
 * block, it registers one waiter per case, all sharing one parker, plus
 * one on the ctx's done mailbox, re-checks, and parks until a case fires
 * it, the deadline passes or the ctx ends. Whoever fires a waiter unlinks
 * it; the selector unlinks the rest, retries, and if it did not use the
 * wake-up it was given, passes it on (spry__mailbox_pass), so no wake-up
 * is ever lost between competing waiters. It never parks while a case's
 * slot is mid-hand-over (spry__mailbox_settling): it yields and retries.
 *
 * A ctx reaches this layer through its public face only: its deadline
 * bounds the park, and its done mailbox is one more case.
 */
#include "mailbox/mailbox.h"

#include "mailbox/alloc.h"
#include "mailbox/atomic.h"
#include "spry/ctx.h"
#include "spry/error.h"

#include <sched.h>
#include <emmintrin.h>
#include <string.h>

#define SELECT_MAX_CASES 65536
#define SELECT_STACK_CASES 8

/*
 * The longest a parked select sleeps before it looks at its cases again
 * on its own. The wake-up protocol makes this unnecessary; it stays as
 * defence in depth for a young lock-free protocol. Under TSan and load a
 * lost wake-up did occur (a waiter parked beside an item whose claim
 * predated its flag, because "settling" ignored claims already published;
 * fixed in spry__mailbox_settling). Every rescue is counted
 * (spry__select_rescues) and reported by the tests, so a new loss shows;
 * a timeout that races a fire in progress is no rescue: a slot that owes
 * a wake turns ready under the lock together with its fire, so the
 * re-check tells "ready, and no wake coming" from "the wake is on its
 * way" (spry__mailbox_wait_del; docs/rationale.md, "Waking").
 */
#define SELECT_RECHECK SPRY_MSEC(50)

/*
 * How long a select polls its cases before it registers its waiters and
 * parks. Registering, parking and being woken cost two lock round trips
 * and, once asleep, a futex wake of several microseconds on each side; a
 * peer on another core usually answers sooner than that (a ping-pong
 * between two threads, a consumer just ahead of its producer).
 *
 * The poll is bounded by time, not by a count of pause instructions,
 * whose length differs more than tenfold between CPUs (1000 of them took
 * 20 us on an AMD EPYC VM, where "a few microseconds" was meant). For the
 * first SELECT_SPIN it pauses between looks; after that, up to SELECT_POLL in
 * all, it yields the CPU between looks. Yielding is what a busy machine needs:
 * with two CPUs, two threads that each poll for a reply would otherwise keep
 * the thread that carries the reply (a transport's poller) off both CPUs for
 * the whole poll. On an idle CPU a yield returns at once and the poll goes on,
 * and a poll that long still catches a peer that was asleep and needed its own
 * wake-up first, so a ping-pong that lost its pace finds it again rather than
 * parking on every message from then on. Measured on that 2-CPU VM (loaded):
 * REQ/REP over tcp and inproc both faster than with a 20 us pause-only poll or
 * a 2 us one.
 */
#define SELECT_SPIN SPRY_USEC(2)
#define SELECT_POLL SPRY_USEC(20)

/* Looks between clock reads while pausing (about 0.3 us on that VM). */
#define SELECT_CLOCK_EVERY 16

/* Re-checks that found a case ready with no wake: see spry__select_rescues. */
static uint64_t select_rescues;

uint64_t
spry__select_rescues(void)
{
	return spry__load_relaxed(&select_rescues);
}

/* Per-thread xorshift for fair choices; fairness, not security. */
static _Thread_local uint64_t select_rng;

/*
 * A number in [0, n), n <= 65536: the top 32 bits of the state scaled by
 * n (a multiply and a shift, where a modulo would cost a division).
 */
static size_t
select_rand(size_t n)
{
	uint64_t x = select_rng;

	if (x == 0) {
		x = (uint64_t)(uintptr_t)&select_rng ^ (uint64_t)spry_now();
		x |= 1;
	}
	x ^= x << 13;
	x ^= x >> 7;
	x ^= x << 17;
	select_rng = x;
	return (size_t)(((x >> 32) * (uint64_t)n) >> 32);
}

/* Try case c once: 0 if it completed (c->err set), else SPRY_EAGAIN. */
static int
select_try(spry_select_case *c)
{
	int rv;

	if (c->mb == NULL) {
		return SPRY_EAGAIN;
	}
	if (c->dir == SPRY_SELECT_RECV) {
		rv = spry_mailbox_tryrecv(c->mb, &c->item);
	} else {
		rv = spry_mailbox_trysend(c->mb, c->item);
	}
	if (rv == SPRY_EAGAIN) {
		return rv;
	}
	c->err = rv;
	return 0;
}

/*
 * Perform one ready case, chosen uniformly among the ready ones (Go's
 * fairness): a reservoir pick over a readiness pass, which only loads.
 * If the pick is lost to a racing thread, fall back to trying every case.
 */
static int
select_scan(spry_select_case *cases, size_t n, size_t *chosen)
{
	size_t start = n > 1 ? select_rand(n) : 0;
	size_t pick  = n;
	size_t ready = 0;

	/* With two cases a random start is already a uniform choice. */
	for (size_t k = 0; k < n && n > 2; k++) {
		size_t i = start + k < n ? start + k : start + k - n;
		spry_select_case *c = &cases[i];

		if (c->mb != NULL && spry__mailbox_ready(c->mb, c->dir) &&
		    (++ready == 1 || select_rand(ready) == 0)) {
			pick = i;
		}
	}
	if (pick < n && select_try(&cases[pick]) == 0) {
		*chosen = pick;
		return 0;
	}
	for (size_t k = 0; k < n; k++) {
		size_t i = start + k < n ? start + k : start + k - n;

		if (select_try(&cases[i]) == 0) {
			*chosen = i;
			return 0;
		}
	}
	return SPRY_EAGAIN;
}

/* Whether any case's mailbox has a hand-over in flight (see settling). */
static bool
select_settling(const spry_select_case *cases, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		if (cases[i].mb != NULL &&
		    spry__mailbox_settling(cases[i].mb, cases[i].dir)) {
			return true;
		}
	}
	return false;
}

static int
select_check(const spry_select_case *cases, size_t n, size_t *usable)
{
	if ((cases == NULL && n > 0) || n > SELECT_MAX_CASES) {
		return SPRY_EINVAL;
	}
	*usable = 0;
	for (size_t i = 0; i < n; i++) {
		if (cases[i].dir != SPRY_SELECT_RECV &&
		    cases[i].dir != SPRY_SELECT_SEND) {
			return SPRY_EINVAL;
		}
		*usable += cases[i].mb != NULL;
	}
	return 0;
}

int
spry_tryselect(spry_select_case *cases, size_t n, size_t *chosen)
{
	size_t usable;
	int    rv;

	if (chosen == NULL) {
		return SPRY_EINVAL;
	}
	if ((rv = select_check(cases, n, &usable)) != 0) {
		return rv;
	}
	return select_scan(cases, n, chosen);
}

/*
 * Pass on, once more, every wake-up this select received. A fire that
 * came while its mailbox was not yet ready (the other side released or
 * published out of order) could not be passed on then; if this select
 * later took another slot of that mailbox, the slot the fire was for is
 * still there, and without this its waiters would sleep beside it.
 */
static void
select_settle_debts(spry_select_case *cases, size_t n, spry__waiter *w)
{
	for (size_t i = 0; i < n; i++) {
		if (w[i].owed) {
			w[i].owed = false;
			spry__mailbox_pass(cases[i].mb, cases[i].dir);
		}
	}
}

/* Look at the cases once: 0 (chosen), the ctx's error, or EAGAIN. */
static int
select_look(spry_ctx *ctx, spry_mailbox *done, spry_select_case *cases,
    size_t n, size_t *chosen)
{
	for (size_t k = 0; k < n; k++) {
		if (cases[k].mb != NULL &&
		    spry__mailbox_ready(cases[k].mb, cases[k].dir) &&
		    select_scan(cases, n, chosen) == 0) {
			return 0;
		}
	}
	if (done != NULL && spry_mailbox_closed(done)) {
		return spry_ctx_err(ctx);
	}
	return SPRY_EAGAIN;
}

/* Poll the cases for a while (see SELECT_POLL): select_look's answers. */
static int
select_poll(spry_ctx *ctx, spry_select_case *cases, size_t n, size_t *chosen)
{
	spry_mailbox *done = ctx != NULL ? spry_ctx_done(ctx) : NULL;
	spry_time     start, spent = 0;
	int           rv;

	start = spry_now();
	for (unsigned i = 1;; i++) {
		if ((rv = select_look(ctx, done, cases, n, chosen)) !=
		    SPRY_EAGAIN) {
			return rv;
		}
		if (spent < SELECT_SPIN && i % SELECT_CLOCK_EVERY != 0) {
			_mm_pause();
			continue;
		}
		if ((spent = spry_now() - start) >= SELECT_POLL) {
			return SPRY_EAGAIN;
		}
		if (spent >= SELECT_SPIN) {
			sched_yield();
		}
	}
}

/*
 * The blocking part: waiters w[0..n-1] for the cases, w[n] for done (may
 * be unused). Returns 0 with *chosen, or the ctx's error.
 */
static int
select_block(spry_ctx *ctx, spry_time limit, spry_select_case *cases, size_t n,
    size_t *chosen, spry__waiter *w, int fd)
{
	spry_mailbox *done     = ctx != NULL ? spry_ctx_done(ctx) : NULL;
	spry_time     deadline = spry_ctx_deadline(ctx);
	spry__parker  p;
	uint32_t      fired;
	bool          settling, stranded, fd_ready;
	int           rv;

	if (limit < deadline) {
		deadline = limit;
	}
	/* With fd, what we wait for comes from fd, which no poll sees. */
	if (fd < 0 &&
	    (rv = select_poll(ctx, cases, n, chosen)) != SPRY_EAGAIN) {
		return rv;
	}
	for (;;) {
		spry__parker_init(&p);
		for (size_t i = 0; i <= n; i++) {
			spry_mailbox *mb = i < n ? cases[i].mb : done;
			int dir = i < n ? cases[i].dir : SPRY_SELECT_RECV;

			w[i].parker = &p;
			w[i].value  = SPRY__PARK_FIRED + (uint32_t)i;
			if (mb != NULL) {
				spry__mailbox_wait_add(mb, dir, &w[i]);
			}
		}
		rv = select_scan(cases, n, chosen);
		if (rv != 0 && done != NULL && spry_mailbox_closed(done)) {
			rv = spry_ctx_err(ctx);
		}
		/*
		 * Park only if the other side has claimed nothing we could
		 * use on any case: a claim made before our flag rose will not
		 * wake us, in flight or done, so yield and try again instead.
		 */
		settling = rv == SPRY_EAGAIN && select_settling(cases, n);
		fd_ready = false;
		if (rv == SPRY_EAGAIN && !settling) {
			spry_time until = spry_now() + SELECT_RECHECK;

			if (until > deadline) {
				until = deadline;
			}
			if (fd < 0) {
				spry__parker_wait(&p, until);
			} else {
				fd_ready = spry__parker_wait_fd(&p, until,
				               fd) == SPRY__PARK_AWAKE;
			}
		}
		/* stranded: a case was ready and no wake was coming */
		stranded = false;
		for (size_t i = 0; i <= n; i++) {
			spry_mailbox *mb = i < n ? cases[i].mb : done;

			if (mb != NULL &&
			    spry__mailbox_wait_del(mb,
			        i < n ? cases[i].dir : SPRY_SELECT_RECV,
			        &w[i])) {
				stranded |= i < n;
			}
		}
		/* Unlinked everywhere: no fire can land after this read. */
		fired = __atomic_load_n(&p.state, __ATOMIC_ACQUIRE);
		if (rv == SPRY_EAGAIN) {
			if (fired == SPRY__PARK_FIRED + n) {
				rv = spry_ctx_err(ctx);
			} else if ((fired == SPRY__PARK_TIMEOUT || settling) &&
			    spry_now() >= deadline) {
				rv = SPRY_ETIMEDOUT;
			} else {
				if (settling) {
					sched_yield();
				}
				rv = select_scan(cases, n, chosen);
				if (rv == 0 && fired == SPRY__PARK_TIMEOUT &&
				    stranded) {
					/*
					 * Ready, and no wake was coming. (One
					 * that lost to our timeout took the
					 * waiter off its list; one still on
					 * its way had not made the case ready
					 * yet.)
					 */
					spry__faa(&select_rescues, 1);
				}
			}
		}
		/*
		 * A wake-up goes on to another waiter whenever the mailbox
		 * that fired is still ready, even if we took that very case:
		 * a fire is not tied to the item we took. Slots can turn
		 * ready out of order (a producer preempted between claiming
		 * slot 0 and publishing it while slot 1 is published and
		 * fires in vain), so the fire we got may be the only one
		 * left for two items; keeping it would strand a parked
		 * receiver beside a queued item. pass is a no-op unless
		 * someone waits and the mailbox is ready.
		 */
		if (fired >= SPRY__PARK_FIRED &&
		    fired < SPRY__PARK_FIRED + n) {
			size_t j = fired - SPRY__PARK_FIRED;

			w[j].owed = true;
			spry__mailbox_pass(cases[j].mb, cases[j].dir);
		}
		if (rv != SPRY_EAGAIN || fd_ready) {
			select_settle_debts(cases, n, w);
			return rv;
		}
	}
}

int
spry_select(spry_ctx *ctx, spry_select_case *cases, size_t n, size_t *chosen)
{
	spry__waiter  stack[SELECT_STACK_CASES + 1];
	spry__waiter *w = stack;
	size_t        usable;
	int           rv;

	if (chosen == NULL) {
		return SPRY_EINVAL;
	}
	if ((rv = select_check(cases, n, &usable)) != 0) {
		return rv;
	}
	if ((rv = select_scan(cases, n, chosen)) == 0) {
		return 0;
	}
	if ((rv = spry_ctx_err(ctx)) != 0) {
		return rv;
	}
	if (usable == 0 && spry_ctx_done(ctx) == NULL &&
	    spry_ctx_deadline(ctx) == SPRY_TIME_NEVER) {
		return SPRY_EINVAL; /* would block forever */
	}
	if (n > SELECT_STACK_CASES &&
	    (w = spry__alloc((n + 1) * sizeof(*w))) == NULL) {
		return SPRY_ENOMEM;
	}
	memset(w, 0, (n + 1) * sizeof(*w));
	rv = select_block(ctx, SPRY_TIME_NEVER, cases, n, chosen, w, -1);
	if (w != stack) {
		spry__free(w, (n + 1) * sizeof(*w));
	}
	return rv;
}

int
spry_mailbox_send(spry_ctx *ctx, spry_mailbox *mb, void *item)
{
	spry_select_case c = {mb, SPRY_SELECT_SEND, item, 0};
	size_t           i;
	int              rv;

	if (mb == NULL) {
		return SPRY_EINVAL;
	}
	if ((rv = spry__mailbox_put(mb, item, true)) != SPRY_EAGAIN) {
		return rv;
	}
	rv = spry_select(ctx, &c, 1, &i);
	return rv != 0 ? rv : c.err;
}

int
spry_mailbox_recv(spry_ctx *ctx, spry_mailbox *mb, void **item)
{
	spry_select_case c = {mb, SPRY_SELECT_RECV, NULL, 0};
	size_t           i;
	int              rv;

	if (mb == NULL || item == NULL) {
		return SPRY_EINVAL;
	}
	if ((rv = spry_mailbox_tryrecv(mb, item)) != SPRY_EAGAIN) {
		return rv;
	}
	if ((rv = spry_select(ctx, &c, 1, &i)) == 0 && (rv = c.err) == 0) {
		*item = c.item;
	}
	return rv;
}

int
spry__mailbox_wait(spry_ctx *ctx, spry_time deadline, spry_select_case *c)
{
	return spry__mailbox_wait_fd(ctx, deadline, c, -1);
}

int
spry__mailbox_wait_fd(
    spry_ctx *ctx, spry_time deadline, spry_select_case *c, int fd)
{
	spry__waiter w[2];
	size_t       chosen;
	int          rv;

	if ((rv = select_scan(c, 1, &chosen)) != SPRY_EAGAIN) {
		return rv;
	}
	if ((rv = spry_ctx_err(ctx)) != 0) {
		return rv;
	}
	if (spry_now() >= deadline) {
		return SPRY_ETIMEDOUT;
	}
	memset(w, 0, sizeof(w));
	return select_block(ctx, deadline, c, 1, &chosen, w, fd);
}
