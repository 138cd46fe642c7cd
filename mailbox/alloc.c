/* SPDX-License-Identifier: MIT */
/*
 * mailbox/alloc.c: spry's allocator front. It forwards to the C library
 * and, outside release builds, keeps a count of live blocks that tests use
 * to prove that teardown leaves nothing behind.
 */
#include "mailbox/alloc.h"

#include <ck_pr.h>
#include <stdlib.h>
#include <string.h>

#ifdef SPRY_COUNT_ALLOCS
static int64_t alloc_live;
#define ALLOC_COUNT(d) ck_pr_add_64((uint64_t *)&alloc_live, (uint64_t)(d))
#else
#define ALLOC_COUNT(d) ((void)0)
#endif

/*
 * malloc and memset, not calloc: glibc's calloc skips the per-thread
 * cache, so a message freed and allocated again went through the arena
 * each time, and freeing next to the top chunk ran malloc_consolidate
 * (17% of a send+receive in a profile). malloc takes from that cache.
 */
void *
spry__alloc(size_t sz)
{
	void *p = spry__alloc_raw(sz);

	if (p != NULL) {
		memset(p, 0, sz);
	}
	return p;
}

void *
spry__alloc_raw(size_t sz)
{
	void *p = malloc(sz ? sz : 1);

	if (p != NULL) {
		ALLOC_COUNT(1);
	}
	return p;
}

void
spry__free(void *p, size_t sz)
{
	(void)sz;
	if (p != NULL) {
		ALLOC_COUNT(-1);
		free(p);
	}
}

void *
spry__alloc_aligned(size_t align, size_t sz)
{
	void *p;

	sz = (sz + align - 1) & ~(align - 1);
	p  = aligned_alloc(align, sz);
	if (p != NULL) {
		memset(p, 0, sz);
		ALLOC_COUNT(1);
	}
	return p;
}

void
spry__free_aligned(void *p, size_t sz)
{
	spry__free(p, sz);
}

int64_t
spry__alloc_live(void)
{
#ifdef SPRY_COUNT_ALLOCS
	return (int64_t)ck_pr_load_64((uint64_t *)&alloc_live);
#else
	return -1;
#endif
}
