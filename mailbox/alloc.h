/* SPDX-License-Identifier: MIT */
/*
 * mailbox/alloc.h: the one memory entry point of spry. Every allocation
 * goes through spry__alloc/spry__free so that tests can assert that
 * nothing is left (builds other than release count live blocks). Sizes are
 * passed to free, as NNG does, so counting needs no header.
 */
#ifndef SPRY_MAILBOX_ALLOC_H
#define SPRY_MAILBOX_ALLOC_H

#include <stddef.h>
#include <stdint.h>

/* spry__alloc returns zeroed memory of sz bytes, or NULL. */
void *spry__alloc(size_t sz);

/*
 * spry__alloc_raw returns sz bytes of uninitialized memory, or NULL, for
 * callers that write every byte before reading it (a received message's
 * body, which read() fills: zeroing 64 KiB first only costs time).
 */
void *spry__alloc_raw(size_t sz);

/* spry__free frees p (NULL is fine); sz is what was allocated. */
void spry__free(void *p, size_t sz);

/* spry__alloc_aligned returns zeroed memory aligned to align, or NULL. */
void *spry__alloc_aligned(size_t align, size_t sz);

/* spry__free_aligned frees memory from spry__alloc_aligned. */
void spry__free_aligned(void *p, size_t sz);

/*
 * spry__alloc_live returns the number of live blocks, or -1 in builds
 * that do not count (release).
 */
int64_t spry__alloc_live(void);

#endif /* SPRY_MAILBOX_ALLOC_H */
