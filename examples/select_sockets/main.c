/* SPDX-License-Identifier: MIT */
/*
 * examples/select_sockets: Go's
 *
 *	for {
 *		select {
 *		case m := <-a.RecvChan(): ...
 *		case m := <-b.RecvChan(): ...
 *		case m := <-c.RecvChan(): ...
 *		case <-time.After(150 * time.Millisecond): // idle
 *		case <-ctx.Done(): return ctx.Err()        // deadline
 *		}
 *	}
 *
 * in C, over sockets. Three PULL sockets listen on inproc; three feeder
 * threads, each with a PUSH socket, send readings at their own pace
 * (sensor-a stops after a few). main selects over the three PULL
 * sockets' recvboxes: each wait is bounded by an idle timeout of its
 * own, a child of the overall deadline, so a quiet spell and the
 * deadline are told apart by asking the deadline ctx which one ended.
 *
 * At the deadline the feeders stop (their pauses and sends are bounded
 * by the same ctx). main then closes the PULL sockets, holding their
 * recvboxes, and drains them with a select: a closed recvbox's case
 * fires with SPRY_ECLOSED once empty and is disabled by setting its
 * mailbox to NULL (Go's nil channel).
 *
 * Ownership: a feeder allocates each reading; a successful send hands
 * it to the socket; main owns what select hands it and frees it.
 */
#include <spry/spry.h>

#include <pthread.h>
#include <stdio.h>

#define SOURCES 3
#define IDLE SPRY_MSEC(150)      /* a quiet spell worth reporting */
#define DEADLINE SPRY_MSEC(1200) /* the whole run */

/* feeder: one PUSH socket and the thread that sends on it. */
typedef struct feeder {
	const char   *name;     /* printed when its case fires */
	spry_duration every;    /* pause before each reading */
	unsigned      count;    /* readings to send; 0: until the deadline */
	spry_ctx     *deadline; /* borrowed from main */
	spry_socket  *push;     /* owned by the thread once it runs */
	pthread_t     thread;   /* joined by main */
} feeder;

/* Start of the program, for the timestamps; written once before threads. */
static spry_time t0;

static long
elapsed_ms(void)
{
	return (long)((spry_now() - t0) / SPRY_MSEC(1));
}

/* Wait for d, or less when ctx ends first; returns spry_ctx_err(ctx). */
static int
pause_under(spry_ctx *ctx, spry_duration d)
{
	spry_ctx *t;
	void     *none;

	if (spry_ctx_with_timeout(&t, ctx, d) != 0) {
		return spry_ctx_err(ctx);
	}
	/* Nothing is sent on a done mailbox: this returns when t ends. */
	(void)spry_mailbox_recv(NULL, spry_ctx_done(t), &none);
	spry_ctx_cancel(t);
	spry_ctx_release(t);
	return spry_ctx_err(ctx);
}

static void *
feeder_main(void *arg)
{
	feeder *f = arg;

	for (uint32_t n = 1; f->count == 0 || n <= f->count; n++) {
		spry_msg *m;

		if (pause_under(f->deadline, f->every) != 0 ||
		    spry_msg_alloc(&m, 0) != 0) {
			break;
		}
		if (spry_msg_append_u32(m, n) != 0 ||
		    spry_send_ctx(f->deadline, f->push, m) != 0) {
			spry_msg_free(m); /* still ours after a failed send */
			break;
		}
	}
	spry_close(f->push);
	return NULL;
}

/* Open PULL i, listen, and connect feeder i's PUSH socket to it. */
static int
connect_pair(int i, feeder *f, spry_socket **pull)
{
	char url[64];
	int  rv;

	snprintf(url, sizeof(url), "inproc://select-sockets-%d", i);
	if ((rv = spry_socket_open(pull, SPRY_PULL0, NULL)) != 0) {
		return rv;
	}
	if ((rv = spry_socket_open(&f->push, SPRY_PUSH0, NULL)) != 0) {
		spry_close(*pull);
		return rv;
	}
	if ((rv = spry_listen(*pull, url, NULL)) != 0 ||
	    (rv = spry_dial(f->push, url, NULL, 0)) != 0) {
		spry_close(f->push);
		spry_close(*pull);
	}
	return rv;
}

/* Print one reading; m is ours. */
static void
show(size_t i, const feeder *f, spry_socket *pull, spry_msg *m)
{
	uint32_t n = 0;

	(void)spry_msg_trim_u32(m, &n);
	printf("[%4ld ms] case %zu (%s) fired: reading %u%s\n", elapsed_ms(),
	    i, f->name, n,
	    spry_msg_socket(m) == pull ? "" : " (from another socket?)");
	spry_msg_free(m);
}

/* Select over the recvboxes until the deadline; counts what came. */
static int
select_until_deadline(spry_ctx *deadline, spry_socket **pull, feeder *fs)
{
	unsigned got = 0, idle = 0;

	for (;;) {
		spry_select_case cases[SOURCES];
		spry_ctx        *wait;
		size_t           i;
		int              rv;

		for (int k = 0; k < SOURCES; k++) {
			cases[k] = (spry_select_case){
			    spry_socket_recvbox(pull[k], NULL),
			    SPRY_SELECT_RECV, NULL, 0};
		}
		/* The idle timeout, bounded by the deadline (its parent). */
		if ((rv = spry_ctx_with_timeout(&wait, deadline, IDLE)) != 0) {
			return rv;
		}
		rv = spry_select(wait, cases, SOURCES, &i);
		spry_ctx_cancel(wait);
		spry_ctx_release(wait);
		if (rv == SPRY_ETIMEDOUT && spry_ctx_err(deadline) != 0) {
			printf("[%4ld ms] deadline: %s; %u reading(s), %u "
			       "idle spell(s)\n",
			    elapsed_ms(),
			    spry_strerror(spry_ctx_err(deadline)), got, idle);
			return 0;
		}
		if (rv == SPRY_ETIMEDOUT) {
			printf("[%4ld ms] nothing for %ld ms\n", elapsed_ms(),
			    (long)(IDLE / SPRY_MSEC(1)));
			idle++;
			continue;
		}
		if (rv != 0 ||
		    cases[i].err != 0) { /* nobody closes them yet */
			return rv != 0 ? rv : cases[i].err;
		}
		show(i, &fs[i], pull[i], cases[i].item);
		got++;
	}
}

/*
 * Close the PULL sockets and drain their recvboxes: each case fires
 * with SPRY_ECLOSED once its mailbox is closed and empty.
 */
static void
close_and_drain(spry_socket **pull)
{
	spry_select_case cases[SOURCES];
	unsigned         left = 0, open = SOURCES;
	size_t           i;

	for (int k = 0; k < SOURCES; k++) {
		spry_mailbox *rb = spry_socket_recvbox(pull[k], NULL);

		spry_mailbox_hold(rb); /* keep it past spry_close */
		cases[k] = (spry_select_case){rb, SPRY_SELECT_RECV, NULL, 0};
		spry_close(pull[k]);
	}
	while (open > 0 && spry_select(NULL, cases, SOURCES, &i) == 0) {
		if (cases[i].err == SPRY_ECLOSED) {
			spry_mailbox_release(cases[i].mb);
			cases[i].mb = NULL; /* never chosen again */
			open--;
		} else {
			spry_msg_free(cases[i].item);
			left++;
		}
	}
	printf("[%4ld ms] closed the sockets; %u reading(s) were still "
	       "queued\n",
	    elapsed_ms(), left);
}

int
main(void)
{
	feeder fs[SOURCES] = {
	    {"sensor-a", SPRY_MSEC(100), 4, NULL, NULL, 0},
	    {"sensor-b", SPRY_MSEC(300), 0, NULL, NULL, 0},
	    {"sensor-c", SPRY_MSEC(500), 0, NULL, NULL, 0},
	};
	spry_socket *pull[SOURCES];
	spry_ctx    *deadline;
	int          rv, n = 0;

	t0 = spry_now();
	if ((rv = spry_ctx_with_timeout(&deadline, NULL, DEADLINE)) != 0) {
		fprintf(stderr, "ctx: %s\n", spry_strerror(rv));
		return 1;
	}
	for (; n < SOURCES; n++) {
		fs[n].deadline = deadline;
		if ((rv = connect_pair(n, &fs[n], &pull[n])) != 0) {
			fprintf(
			    stderr, "setup %d: %s\n", n, spry_strerror(rv));
			break;
		}
		if (pthread_create(&fs[n].thread, NULL, feeder_main, &fs[n]) !=
		    0) {
			fprintf(stderr, "setup %d: no thread\n", n);
			spry_close(fs[n].push);
			spry_close(pull[n]);
			break;
		}
	}
	if (n == SOURCES) {
		printf("3 PULL sockets, select with a %ld ms idle timeout "
		       "under a %ld ms deadline\n",
		    (long)(IDLE / SPRY_MSEC(1)),
		    (long)(DEADLINE / SPRY_MSEC(1)));
		rv = select_until_deadline(deadline, pull, fs);
	}
	spry_ctx_cancel(deadline); /* stops the feeders on any early exit */
	for (int k = 0; k < n; k++) {
		pthread_join(fs[k].thread, NULL);
	}
	if (n == SOURCES) {
		close_and_drain(pull);
	}
	for (int k = 0; k < n && n < SOURCES; k++) {
		spry_close(pull[k]); /* setup failed: no draining */
	}
	spry_ctx_release(deadline);
	spry_runtime_stop();
	return rv == 0 && n == SOURCES ? 0 : 1;
}
