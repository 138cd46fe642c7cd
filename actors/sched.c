/* SPDX-License-Identifier: MIT */
/*
 * actors/sched.c: the runtime: workers, run queues, idle parking, the
 * live-actor registry and start/stop (see actors/sched.h for the shape).
 *
 * Finding work, in order: every 61st turn the global queue first (so it
 * cannot starve), the run-next slot, the local ring, the global queue, due
 * timers, then stealing from other workers while counted as "spinning".
 * Submitters wake an idle worker only when nobody spins: the spinner will
 * find the work. A worker parks after publishing itself idle (a seq_cst
 * RMW) and re-checking every queue; submitters publish work, fence, then
 * read the idle count: one of the two always sees the other.
 *
 * Lock order: start/stop mutex, then a registry shard, then actor locks.
 */
#include "actors/sched.h"

#include "actors/actor.h"
#include "actors/timer.h"
#include "mailbox/alloc.h"
#include "mailbox/atomic.h"
#include "mailbox/lock.h"
#include "mailbox/park.h"
#include "spry/error.h"

#include <ck_ring.h>
#include <emmintrin.h>
#include <pthread.h>
#include <sched.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#define RUNQ_SIZE 256    /* local ring slots (power of two) */
#define GLOBAL_EVERY 61  /* turns between global-queue-first checks */
#define SPIN_ROUNDS 32   /* steal rounds before yielding between looks */
#define SPIN_NS 20000    /* looking for work before parking, in ns */
#define SHARDS 16        /* registry shards */
#define DEFAULT_BATCH 64 /* messages per actor turn */
#define STOP_GRACE_SEC 5 /* before spry_runtime_stop kills */
#define BLOCK_CACHE 1024 /* actor blocks a worker keeps for reuse */

/*
 * ASan must see every free to catch use after free: no block cache.
 */
#if defined(__SANITIZE_ADDRESS__)
#define SPRY__BLOCK_CACHE_OFF 1
#endif

typedef struct worker {
	ck_ring_t        ring;      /* owner pushes, anyone pops */
	spry_actor      *runnext;   /* owner only */
	struct worker   *idle_next; /* idle stack link (idle lock) */
	bool             idle;      /* on the idle stack (idle lock) */
	uint32_t         park;      /* futex word: 1 = woken */
	bool             linger;    /* look longer before parking (owner) */
	uint32_t         tick;      /* turns run (owner) */
	uint64_t         rng;       /* victim choice (owner) */
	pthread_t        thread;
	size_t           bsize;               /* size of cached blocks */
	unsigned         nblocks;             /* cached blocks (owner) */
	void            *blocks[BLOCK_CACHE]; /* freed actor blocks */
	ck_ring_buffer_t slots[RUNQ_SIZE];
} worker;

/*
 * The live-actor registry, only read by spry_runtime_stop. A worker
 * registers the actors it spawns in its own shard, so the lock's cache
 * line mostly stays on that core.
 */
typedef struct shard {
	uint32_t    lock;  /* guards the fields below and actors' links */
	uint32_t    count; /* live actors in this shard */
	spry_actor *head;
} __attribute__((aligned(64))) shard;

static struct {
	pthread_mutex_t mtx;      /* serializes start and stop */
	uint32_t        running;  /* atomic: workers are up */
	uint32_t        stopping; /* atomic (and under shard locks) */
	uint32_t        quit;     /* atomic: workers must exit */
	unsigned        nworkers; /* fixed while running */
	unsigned        batch;    /* fixed while running */
	worker         *workers;
	uint32_t        glock;  /* global queue lock */
	spry_actor     *ghead;  /* global queue (glock) */
	spry_actor     *gtail;  /* (glock) */
	uint32_t        glen;   /* atomic hint: queued globally */
	uint32_t        ilock;  /* idle stack lock */
	worker         *idle;   /* idle stack (ilock) */
	uint32_t        nidle;  /* atomic */
	uint32_t        nspin;  /* atomic: workers looking for work */
	uint32_t        deaths; /* atomic: bumped per death while stopping */
	shard           shards[SHARDS];
} rt = {.mtx = PTHREAD_MUTEX_INITIALIZER};

static _Thread_local worker *tls_worker;

bool
spry__sched_on_worker(void)
{
	return tls_worker != NULL;
}

void
spry__sched_linger(void)
{
	if (tls_worker != NULL) {
		tls_worker->linger = true;
	}
}

unsigned
spry__sched_batch(void)
{
	return rt.batch;
}

unsigned
spry_runtime_workers(void)
{
	return spry__load_acq(&rt.running) ? rt.nworkers : 0;
}

/* ---- queues ---------------------------------------------------------- */

static void
global_push(spry_actor *a)
{
	a->qnext = NULL;
	spry__spin_lock(&rt.glock);
	if (rt.gtail != NULL) {
		rt.gtail->qnext = a;
	} else {
		rt.ghead = a;
	}
	rt.gtail = a;
	spry__faa(&rt.glen, 1);
	spry__spin_unlock(&rt.glock);
}

static spry_actor *
global_pop(void)
{
	spry_actor *a;

	if (spry__load_relaxed(&rt.glen) == 0) {
		return NULL;
	}
	spry__spin_lock(&rt.glock);
	if ((a = rt.ghead) != NULL) {
		rt.ghead = a->qnext;
		if (rt.ghead == NULL) {
			rt.gtail = NULL;
		}
		spry__fas(&rt.glen, 1);
	}
	spry__spin_unlock(&rt.glock);
	return a;
}

/* ck_ring calls, hidden from TSan; the actor hand-off is annotated. */
static spry_actor *
ring_pop(worker *w)
{
	void *p;
	bool  ok;

	spry__tsan_ignore_begin();
	ok = ck_ring_dequeue_spmc(&w->ring, w->slots, &p);
	spry__tsan_ignore_end();
	return ok ? p : NULL;
}

static bool
ring_push(worker *w, spry_actor *a)
{
	bool ok;

	spry__tsan_ignore_begin();
	ok = ck_ring_enqueue_spmc(&w->ring, w->slots, a);
	spry__tsan_ignore_end();
	return ok;
}

static unsigned
ring_len(worker *w)
{
	unsigned n;

	spry__tsan_ignore_begin();
	n = ck_ring_size(&w->ring);
	spry__tsan_ignore_end();
	return n;
}

/*
 * Wake one idle worker unless somebody is already looking for work. The
 * first read is an RMW: a full barrier after publishing the work (a fence
 * would do, but TSan does not model fences).
 */
static void
wake_one(void)
{
	worker *w;

	if (spry__faa(&rt.nspin, 0) != 0 || spry__load_acq(&rt.nidle) == 0) {
		return;
	}
	spry__spin_lock(&rt.ilock);
	if ((w = rt.idle) != NULL) {
		rt.idle = w->idle_next;
		w->idle = false;
		spry__fas(&rt.nidle, 1);
		/* Counted as spinning for it, so others don't wake more. */
		spry__faa(&rt.nspin, 1);
	}
	spry__spin_unlock(&rt.ilock);
	if (w != NULL) {
		spry__xchg(&w->park, 1);
		spry__futex_wake(&w->park, 1);
	}
}

void
spry__sched_submit(spry_actor *a, bool handoff)
{
	worker *w = tls_worker;

	spry__tsan_release(a);
	if (w == NULL) {
		global_push(a);
	} else if (handoff) {
		spry_actor *old = w->runnext;

		w->runnext = a;
		if (old == NULL) {
			return; /* runs right after the current turn */
		}
		if (!ring_push(w, old)) {
			global_push(old);
		}
	} else if (!ring_push(w, a)) {
		global_push(a);
	}
	wake_one();
}

void
spry__sched_kick_timers(void)
{
	worker *w;

	/* Any idle worker will re-read the earliest deadline. */
	spry__spin_lock(&rt.ilock);
	if ((w = rt.idle) != NULL) {
		rt.idle = w->idle_next;
		w->idle = false;
		spry__fas(&rt.nidle, 1);
		spry__faa(&rt.nspin, 1);
	}
	spry__spin_unlock(&rt.ilock);
	if (w != NULL) {
		spry__xchg(&w->park, 1);
		spry__futex_wake(&w->park, 1);
	}
}

/* ---- workers --------------------------------------------------------- */

static spry_actor *
steal(worker *self)
{
	unsigned    n = rt.nworkers;
	unsigned    start;
	spry_actor *a;

	self->rng ^= self->rng << 13;
	self->rng ^= self->rng >> 7;
	self->rng ^= self->rng << 17;
	start = (unsigned)(self->rng % n);
	for (unsigned k = 0; k < n; k++) {
		worker *v = &rt.workers[(start + k) % n];

		if (v != self && (a = ring_pop(v)) != NULL) {
			return a;
		}
	}
	return NULL;
}

static bool
work_visible(void)
{
	if (spry__load_acq(&rt.glen) != 0 || spry__load_acq(&rt.quit)) {
		return true;
	}
	for (unsigned i = 0; i < rt.nworkers; i++) {
		if (ring_len(&rt.workers[i]) != 0) {
			return true;
		}
	}
	return spry__timer_next() <= spry_now();
}

/* Park w until woken or the next timer is due. */
static void
park(worker *w)
{
	spry__spin_lock(&rt.ilock);
	spry__store_relaxed(&w->park, 0);
	w->idle_next = rt.idle;
	rt.idle      = w;
	w->idle      = true;
	spry__spin_unlock(&rt.ilock);
	spry__faa(&rt.nidle, 1); /* full barrier before the re-check */
	if (!work_visible()) {
		spry__futex_wait(&w->park, 0, spry__timer_next());
	}
	spry__spin_lock(&rt.ilock);
	if (w->idle) { /* not woken by anyone: take ourselves off */
		worker **pp = &rt.idle;

		while (*pp != w) {
			pp = &(*pp)->idle_next;
		}
		*pp     = w->idle_next;
		w->idle = false;
		spry__fas(&rt.nidle, 1);
		spry__faa(&rt.nspin, 1);
	}
	spry__spin_unlock(&rt.ilock);
}

static spry_actor *
find_local(worker *w)
{
	spry_actor *a;

	if (++w->tick % GLOBAL_EVERY == 0) {
		if ((a = global_pop()) != NULL) {
			return a;
		}
		spry__timer_run(spry_now());
	}
	if ((a = w->runnext) != NULL) {
		w->runnext = NULL;
		return a;
	}
	if ((a = ring_pop(w)) != NULL || (a = global_pop()) != NULL) {
		return a;
	}
	return NULL;
}

/*
 * A spinner that found work stops spinning. If it was the last one and
 * more work is queued, it wakes another worker: submitters skipped the
 * wake because it was spinning, and it is now busy with one actor.
 */
static void
stop_spinning(void)
{
	if (spry__fas(&rt.nspin, 1) == 1 && work_visible()) {
		wake_one();
	}
}

/*
 * Look for work while counted as spinning: SPIN_ROUNDS looks with a pause
 * between them; then, when the last turn asked to linger and no other
 * worker is looking, looks with the CPU yielded between them, up to
 * SPIN_NS in all. A worker that parks at once costs the next submitter a
 * futex wake (microseconds on a VM, on the submitter's thread): a thread
 * feeding a socket's sendbox, which the socket's actor drains faster than
 * the thread fills it, woke a parked worker every few messages. Only
 * then: a worker that yields its CPU still competes for it, which costs
 * threads that do not need it (a receiving thread's figure doubled when
 * every worker lingered). Returns NULL when nothing came (or the runtime
 * quits).
 */
static spry_actor *
spin_for_work(worker *w)
{
	spry_time   t0 = spry_now(), now;
	spry_actor *a;
	bool        linger = w->linger;

	w->linger = false;
	for (int r = 0;; r++) {
		now = spry_now();
		if (spry__timer_next() <= now) {
			spry__timer_run(now);
		}
		if ((a = find_local(w)) != NULL || (a = steal(w)) != NULL) {
			return a;
		}
		if (spry__load_acq(&rt.quit)) {
			return NULL;
		}
		if (r < SPIN_ROUNDS) {
			_mm_pause();
		} else if (linger && now - t0 < SPIN_NS &&
		    spry__load_relaxed(&rt.nspin) == 1) {
			sched_yield();
		} else {
			return NULL;
		}
	}
}

/*
 * Returns the next actor to run, or NULL when the runtime quits. Entered
 * not spinning; spinning while it steals and across a park.
 */
static spry_actor *
find_work(worker *w)
{
	spry_actor *a;

	if ((a = find_local(w)) != NULL) {
		return a;
	}
	spry__faa(&rt.nspin, 1);
	for (;;) {
		if ((a = spin_for_work(w)) != NULL) {
			stop_spinning();
			return a;
		}
		spry__fas(&rt.nspin, 1);
		if (spry__load_acq(&rt.quit)) {
			return NULL;
		}
		park(w); /* comes back counted as spinning */
	}
}

static void *
worker_main(void *arg)
{
	worker     *w = arg;
	spry_actor *a;

	tls_worker = w;
	while ((a = find_work(w)) != NULL) {
		spry__tsan_acquire(a);
		spry__actor_run(a);
	}
	tls_worker = NULL;
	return NULL;
}

/* ---- actor blocks ---------------------------------------------------- */

/*
 * Actors are many and short-lived; a worker reuses the blocks of actors
 * that ended on it instead of going back to malloc, whose per-thread
 * arenas lock and grow page by page when blocks cross threads.
 */
void *
spry__sched_block_get(size_t sz)
{
	worker *w = tls_worker;

	if (w != NULL && w->nblocks > 0 && w->bsize == sz) {
		void *p = w->blocks[--w->nblocks];

		memset(p, 0, sz);
		return p;
	}
	return spry__alloc(sz);
}

void
spry__sched_block_put(void *p, size_t sz)
{
#ifndef SPRY__BLOCK_CACHE_OFF
	worker *w = tls_worker;

	if (w != NULL && w->nblocks < BLOCK_CACHE &&
	    (w->bsize == sz || w->nblocks == 0)) {
		w->bsize                = sz;
		w->blocks[w->nblocks++] = p;
		return;
	}
#endif
	spry__free(p, sz);
}

static void
blocks_free(worker *w)
{
	while (w->nblocks > 0) {
		spry__free(w->blocks[--w->nblocks], w->bsize);
	}
}

/* ---- registry -------------------------------------------------------- */

int
spry__sched_actor_born(spry_actor *a)
{
	worker *w = tls_worker;
	size_t  i =
            w != NULL ? (size_t)(w - rt.workers) : (size_t)((uintptr_t)a >> 6);
	shard *s  = &rt.shards[i % SHARDS];
	int    rv = 0;

	a->shard = (uint16_t)(s - rt.shards);
	spry__spin_lock(&s->lock);
	if (spry__load_acq(&rt.stopping)) {
		rv = SPRY_ECLOSED;
	} else {
		a->rprev = NULL;
		a->rnext = s->head;
		if (s->head != NULL) {
			s->head->rprev = a;
		}
		s->head = a;
		s->count++;
	}
	spry__spin_unlock(&s->lock);
	return rv;
}

void
spry__sched_actor_died(spry_actor *a)
{
	shard *s = &rt.shards[a->shard];

	spry__spin_lock(&s->lock);
	if (a->rprev != NULL) {
		a->rprev->rnext = a->rnext;
	} else {
		s->head = a->rnext;
	}
	if (a->rnext != NULL) {
		a->rnext->rprev = a->rprev;
	}
	s->count--;
	spry__spin_unlock(&s->lock);
	if (spry__load_acq(&rt.stopping)) {
		spry__faa(&rt.deaths, 1);
		spry__futex_wake(&rt.deaths, 1);
	}
}

/* Post bits to every registered actor. */
static void
registry_post(uint32_t bits)
{
	for (int i = 0; i < SHARDS; i++) {
		spry__spin_lock(&rt.shards[i].lock);
		for (spry_actor *a = rt.shards[i].head; a; a = a->rnext) {
			spry__actor_post(a, bits);
		}
		spry__spin_unlock(&rt.shards[i].lock);
	}
}

static uint32_t
registry_count(void)
{
	uint32_t n = 0;

	for (int i = 0; i < SHARDS; i++) {
		spry__spin_lock(&rt.shards[i].lock);
		n += rt.shards[i].count;
		spry__spin_unlock(&rt.shards[i].lock);
	}
	return n;
}

/* Wait until no actor is live, or deadline; true when none is. */
static bool
registry_wait_empty(spry_time deadline)
{
	for (;;) {
		uint32_t seen =
		    spry__load_acq(&rt.deaths); /* before counting */

		if (registry_count() == 0) {
			return true;
		}
		if (spry_now() >= deadline) {
			return false;
		}
		spry__futex_wait(&rt.deaths, seen, deadline);
	}
}

/* ---- start and stop -------------------------------------------------- */

/* Worker threads carry names, for top -H, perf and gdb. */
static void
name_worker(unsigned i)
{
	char name[16]; /* the kernel's limit, with the NUL */

	snprintf(name, sizeof(name), "spry-w%u", i);
	(void)pthread_setname_np(rt.workers[i].thread, name);
}

static int
rt_start_locked(const spry_runtime_opts *opts)
{
	unsigned n;

	if (spry__load_acq(&rt.running)) {
		return SPRY_EBUSY;
	}
	if (opts != NULL &&
	    (opts->size != sizeof(*opts) ||
	        opts->workers > SPRY_RUNTIME_MAX_WORKERS)) {
		return SPRY_EINVAL;
	}
	n          = opts != NULL && opts->workers ?
	             opts->workers :
	             (unsigned)sysconf(_SC_NPROCESSORS_ONLN);
	n          = n < 1                        ? 1 :
	             n > SPRY_RUNTIME_MAX_WORKERS ? SPRY_RUNTIME_MAX_WORKERS :
	                                            n;
	rt.batch   = opts != NULL && opts->batch ? opts->batch : DEFAULT_BATCH;
	rt.workers = spry__alloc_aligned(64, n * sizeof(worker));
	if (rt.workers == NULL) {
		return SPRY_ENOMEM;
	}
	rt.nworkers = n;
	spry__store_rel(&rt.quit, 0);
	for (unsigned i = 0; i < n; i++) {
		ck_ring_init(&rt.workers[i].ring, RUNQ_SIZE);
		rt.workers[i].rng = 0x9e3779b97f4a7c15ULL * (i + 1);
	}
	spry__store_rel(&rt.running, 1);
	for (unsigned i = 0; i < n; i++) {
		if (pthread_create(&rt.workers[i].thread, NULL, worker_main,
		        &rt.workers[i]) != 0) {
			spry__store_rel(&rt.quit, 1);
			for (unsigned j = 0; j < i; j++) {
				spry__xchg(&rt.workers[j].park, 1);
				spry__futex_wake(&rt.workers[j].park, 1);
				pthread_join(rt.workers[j].thread, NULL);
			}
			spry__free_aligned(rt.workers, n * sizeof(worker));
			rt.workers = NULL;
			spry__store_rel(&rt.running, 0);
			return SPRY_ENOFILES;
		}
		name_worker(i);
	}
	return 0;
}

int
spry_runtime_start(const spry_runtime_opts *opts)
{
	int rv;

	pthread_mutex_lock(&rt.mtx);
	rv = rt_start_locked(opts);
	pthread_mutex_unlock(&rt.mtx);
	return rv;
}

int
spry__sched_ensure(void)
{
	int rv = 0;

	if (spry__load_acq(&rt.running) && !spry__load_acq(&rt.stopping)) {
		return 0;
	}
	if (spry__load_acq(&rt.stopping)) {
		return SPRY_ECLOSED;
	}
	pthread_mutex_lock(&rt.mtx);
	if (!spry__load_acq(&rt.running)) {
		rv = rt_start_locked(NULL);
	}
	pthread_mutex_unlock(&rt.mtx);
	return rv;
}

/* Run what is left queued (ended actors draining signals) on this thread. */
static void
drain_queues(void)
{
	spry_actor *a;

	for (;;) {
		a = global_pop();
		for (unsigned i = 0; a == NULL && i < rt.nworkers; i++) {
			worker *w = &rt.workers[i];

			if ((a = w->runnext) != NULL) {
				w->runnext = NULL;
			} else {
				a = ring_pop(w);
			}
		}
		if (a == NULL) {
			return;
		}
		spry__tsan_acquire(a);
		spry__actor_run(a);
	}
}

int
spry_runtime_stop(void)
{
	if (tls_worker != NULL) {
		return SPRY_ESTATE;
	}
	pthread_mutex_lock(&rt.mtx);
	if (!spry__load_acq(&rt.running)) {
		pthread_mutex_unlock(&rt.mtx);
		return 0;
	}
	for (int i = 0; i < SHARDS; i++) { /* no spawn passes after this */
		spry__spin_lock(&rt.shards[i].lock);
		spry__store_rel(&rt.stopping, 1);
		spry__spin_unlock(&rt.shards[i].lock);
	}
	registry_post(SPRY__PEND_CANCELED);
	if (!registry_wait_empty(spry_now() + SPRY_SEC(STOP_GRACE_SEC))) {
		registry_post(SPRY__PEND_KILL);
		registry_wait_empty(SPRY_TIME_NEVER);
	}
	spry__store_rel(&rt.quit, 1);
	for (unsigned i = 0; i < rt.nworkers; i++) {
		spry__xchg(&rt.workers[i].park, 1);
		spry__futex_wake(&rt.workers[i].park, 1);
	}
	for (unsigned i = 0; i < rt.nworkers; i++) {
		pthread_join(rt.workers[i].thread, NULL);
	}
	spry__timer_clear();
	drain_queues();
	spry__timer_fini();
	for (unsigned i = 0; i < rt.nworkers; i++) {
		blocks_free(&rt.workers[i]);
	}
	spry__free_aligned(rt.workers, rt.nworkers * sizeof(worker));
	rt.workers  = NULL;
	rt.nworkers = 0;
	rt.idle     = NULL;
	rt.nidle = rt.nspin = 0;
	spry__store_rel(&rt.running, 0);
	spry__store_rel(&rt.stopping, 0);
	pthread_mutex_unlock(&rt.mtx);
	return 0;
}
