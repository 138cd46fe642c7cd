/* SPDX-License-Identifier: MIT */
/*
 * examples/select_timeout: Go's
 *
 *	select {
 *	case v := <-fast: ...
 *	case v := <-slow: ...
 *	case <-ctx.Done(): return ctx.Err()
 *	}
 *
 * in C. Two threads feed two mailboxes at different paces; main selects
 * over both under a ctx that times out after one second and prints which
 * case fired each time, then the timeout. Afterwards it closes both
 * mailboxes, which stops the feeders, and drains what is left, disabling
 * each case once its mailbox reports SPRY_ECLOSED (Go's nil channel).
 *
 * Items are small integers carried in the `void *` slots, so nothing
 * needs freeing.
 */
#include <spry/spry.h>

#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <time.h>

/* feeder: one thread sending numbered items into one mailbox. */
typedef struct feeder {
	const char   *name;   /* printed when its case fires */
	spry_duration every;  /* pause between two items */
	spry_mailbox *mb;     /* borrowed from main, which outlives us */
	pthread_t     thread; /* joined by main */
} feeder;

/* Start of the program, for the timestamps; written once before threads. */
static spry_time t0;

static long
elapsed_ms(void)
{
	return (long)((spry_now() - t0) / SPRY_MSEC(1));
}

static void *
feeder_main(void *arg)
{
	feeder *f = arg;

	for (uintptr_t n = 1;; n++) {
		struct timespec pause = {0, (long)f->every};

		nanosleep(&pause, NULL);
		/*
		 * Blocks only while the mailbox is full. Once main closes it
		 * the send fails with SPRY_ECLOSED: that is our signal to go.
		 */
		if (spry_mailbox_send(NULL, f->mb, (void *)n) != 0) {
			return NULL;
		}
	}
}

/* Select under ctx until it ends; returns how it ended. */
static int
select_until_done(spry_ctx *ctx, feeder *fast, feeder *slow)
{
	feeder *who[2] = {fast, slow};

	for (;;) {
		spry_select_case cases[2] = {
		    {fast->mb, SPRY_SELECT_RECV, NULL, 0},
		    {slow->mb, SPRY_SELECT_RECV, NULL, 0},
		};
		size_t i;
		int    rv = spry_select(ctx, cases, 2, &i);

		if (rv != 0) {
			/* The ctx ended first: no case was performed. */
			printf("[%4ld ms] select: %s\n", elapsed_ms(),
			    spry_strerror(rv));
			return rv;
		}
		if (cases[i].err != 0) { /* nobody closes them yet */
			printf(
			    "case %zu: %s\n", i, spry_strerror(cases[i].err));
			return cases[i].err;
		}
		printf("[%4ld ms] case %zu (%s) fired: item %lu\n",
		    elapsed_ms(), i, who[i]->name,
		    (unsigned long)(uintptr_t)cases[i].item);
	}
}

/*
 * Drain both closed mailboxes with a blocking select and no ctx. A closed
 * mailbox's case fires with SPRY_ECLOSED once it is empty; we then set
 * the case's mailbox to NULL so that it is never chosen again.
 */
static void
drain(feeder *fast, feeder *slow)
{
	spry_select_case cases[2] = {
	    {fast->mb, SPRY_SELECT_RECV, NULL, 0},
	    {slow->mb, SPRY_SELECT_RECV, NULL, 0},
	};
	unsigned left = 0;
	size_t   i;

	while (cases[0].mb != NULL || cases[1].mb != NULL) {
		if (spry_select(NULL, cases, 2, &i) != 0) {
			break; /* cannot happen: a usable case remains */
		}
		if (cases[i].err == SPRY_ECLOSED) {
			cases[i].mb = NULL;
		} else {
			left++;
		}
	}
	printf("[%4ld ms] closed both mailboxes; %u item(s) were still "
	       "queued\n",
	    elapsed_ms(), left);
}

int
main(void)
{
	feeder    fast = {"fast", SPRY_MSEC(100), NULL, 0};
	feeder    slow = {"slow", SPRY_MSEC(250), NULL, 0};
	spry_ctx *ctx;
	int       rv;

	t0 = spry_now();
	if ((rv = spry_mailbox_open(&fast.mb, 0)) != 0 ||
	    (rv = spry_mailbox_open(&slow.mb, 0)) != 0) {
		fprintf(stderr, "mailbox: %s\n", spry_strerror(rv));
		return 1;
	}
	/* A deadline one second from now; its timer starts the runtime. */
	if ((rv = spry_ctx_with_timeout(&ctx, NULL, SPRY_SEC(1))) != 0) {
		fprintf(stderr, "ctx: %s\n", spry_strerror(rv));
		return 1;
	}
	if (pthread_create(&fast.thread, NULL, feeder_main, &fast) != 0 ||
	    pthread_create(&slow.thread, NULL, feeder_main, &slow) != 0) {
		fprintf(stderr, "cannot start the feeder threads\n");
		return 1;
	}

	rv = select_until_done(ctx, &fast, &slow);

	/* Closing wakes the feeders (their sends fail) and lets us drain. */
	spry_mailbox_close(fast.mb);
	spry_mailbox_close(slow.mb);
	drain(&fast, &slow);
	pthread_join(fast.thread, NULL);
	pthread_join(slow.thread, NULL);
	spry_mailbox_release(fast.mb);
	spry_mailbox_release(slow.mb);
	spry_ctx_cancel(ctx); /* a no-op here; frees the timer otherwise */
	spry_ctx_release(ctx);
	spry_runtime_stop();
	return rv == SPRY_ETIMEDOUT ? 0 : 1;
}
