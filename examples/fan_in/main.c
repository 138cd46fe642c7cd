/* SPDX-License-Identifier: MIT */
/*
 * examples/fan_in: many producers, one mailbox, one consumer. This is the
 * O(1) way to wait on many sources: rather than a select with a case per
 * source (O(n) to register each time it blocks), every source sends into
 * the same mailbox and the consumer waits on that one.
 *
 * Eight threads each send 2000 heap-allocated items tagged with their
 * source and sequence number. Sends block while the mailbox is full
 * (backpressure, never loss). The last producer to finish closes the
 * mailbox, like closing a Go channel once every writer is done; the
 * consumer receives until SPRY_ECLOSED, which comes only after everything
 * queued has been drained, then prints per-source counts and checks that
 * each source's items arrived in the order that source sent them.
 *
 * Ownership: a sent item belongs to the mailbox and then to whoever
 * receives it (the consumer frees it); a send that fails leaves it with
 * the producer. Items still queued when the last reference to the
 * mailbox goes are freed by its dispose callback.
 */
#include <spry/spry.h>

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>

#define PRODUCERS 8
#define ITEMS 2000 /* per producer */

/* item: what travels through the mailbox. */
typedef struct item {
	unsigned source; /* producer index */
	unsigned seq;    /* 0, 1, 2... per producer */
} item;

/* producer: one sending thread. */
typedef struct producer {
	unsigned      id;      /* index, stored in every item */
	spry_mailbox *mb;      /* borrowed from main, which outlives us */
	unsigned     *running; /* producers still sending (atomic) */
	pthread_t     thread;  /* joined by main */
} producer;

static void *
producer_main(void *arg)
{
	producer *p = arg;

	for (unsigned seq = 0; seq < ITEMS; seq++) {
		item *it = malloc(sizeof(*it));

		if (it == NULL) {
			break;
		}
		it->source = p->id;
		it->seq    = seq;
		/* On failure (closed) the item is still ours to free. */
		if (spry_mailbox_send(NULL, p->mb, it) != 0) {
			free(it);
			break;
		}
	}
	/* The last one out closes: the consumer drains, then sees ECLOSED. */
	if (__atomic_sub_fetch(p->running, 1, __ATOMIC_ACQ_REL) == 0) {
		spry_mailbox_close(p->mb);
	}
	return NULL;
}

/* The mailbox's dispose callback: frees items nobody received. */
static void
item_dispose(void *it, void *arg)
{
	(void)arg;
	free(it);
}

/*
 * Receive until the mailbox is closed and drained (0) or the ctx ends.
 * Counts items per source and checks each source's order.
 */
static int
consume(spry_ctx *ctx, spry_mailbox *mb, unsigned counts[PRODUCERS],
    bool *in_order)
{
	void *p;
	int   rv;

	*in_order = true;
	while ((rv = spry_mailbox_recv(ctx, mb, &p)) == 0) {
		item *it = p; /* ours now */

		if (it->seq != counts[it->source]) {
			*in_order = false;
		}
		counts[it->source]++;
		free(it);
	}
	return rv == SPRY_ECLOSED ? 0 : rv;
}

int
main(void)
{
	spry_mailbox_opts opts = SPRY_MAILBOX_OPTS_INIT;
	producer          producers[PRODUCERS];
	unsigned          counts[PRODUCERS] = {0};
	unsigned          running           = PRODUCERS;
	unsigned          total             = 0;
	spry_mailbox     *mb;
	spry_ctx         *ctx;
	spry_time         t0 = spry_now();
	bool              in_order;
	int               rv;

	opts.capacity   = 64;
	opts.dispose_cb = item_dispose;
	if ((rv = spry_mailbox_open_opts(&mb, &opts)) != 0) {
		fprintf(stderr, "mailbox: %s\n", spry_strerror(rv));
		return 1;
	}
	/* A safety net: never wait more than two seconds. */
	if ((rv = spry_ctx_with_timeout(&ctx, NULL, SPRY_SEC(2))) != 0) {
		fprintf(stderr, "ctx: %s\n", spry_strerror(rv));
		return 1;
	}
	for (unsigned i = 0; i < PRODUCERS; i++) {
		producers[i] = (producer){i, mb, &running, 0};
		if (pthread_create(&producers[i].thread, NULL, producer_main,
		        &producers[i]) != 0) {
			fprintf(stderr, "cannot start producer %u\n", i);
			return 1;
		}
	}
	printf("%d producers x %d items -> one mailbox of capacity %zu\n",
	    PRODUCERS, ITEMS, spry_mailbox_capacity(mb));

	rv = consume(ctx, mb, counts, &in_order);

	/* On a timeout the producers may still be sending: stop them. */
	spry_mailbox_close(mb);
	for (unsigned i = 0; i < PRODUCERS; i++) {
		pthread_join(producers[i].thread, NULL);
	}
	for (unsigned i = 0; i < PRODUCERS; i++) {
		printf("source %u: %u items\n", i, counts[i]);
		total += counts[i];
	}
	printf("total: %u items in %ld ms; every source in order: %s\n", total,
	    (long)((spry_now() - t0) / SPRY_MSEC(1)), in_order ? "yes" : "NO");
	if (rv != 0) {
		printf("consumer stopped early: %s\n", spry_strerror(rv));
	}
	spry_mailbox_release(mb); /* frees leftovers through item_dispose */
	spry_ctx_cancel(ctx);     /* disarms its timer: frees it now */
	spry_ctx_release(ctx);
	spry_runtime_stop(); /* the ctx's timer had started the runtime */
	return rv == 0 && in_order && total == PRODUCERS * ITEMS ? 0 : 1;
}
