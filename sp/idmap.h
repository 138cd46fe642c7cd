/* SPDX-License-Identifier: MIT */
/*
 * sp/idmap.h: a map from nonzero 32-bit ids to pointers, for protocols
 * that match answers to questions by id (REQ0's request ids). Open
 * addressing with linear probing and Fibonacci hashing; removal shifts
 * the entries that follow back into the hole, so there are no
 * tombstones and probes stay short however many ids come and go. The
 * table doubles when half full and halves when an eighth full, so get,
 * put and del cost O(1) on average at any size.
 *
 * Not locked: whoever owns the map guards it (a socket's lk).
 */
#ifndef SPRY_SP_IDMAP_H
#define SPRY_SP_IDMAP_H

#include <stddef.h>
#include <stdint.h>

/* One slot: key 0 means empty. */
typedef struct spry__idslot {
	uint32_t key; /* the id, or 0 */
	void    *val; /* its value (never NULL while key != 0) */
} spry__idslot;

/* spry__idmap: the map; zeroed (or spry__idmap_init) is empty. */
typedef struct spry__idmap {
	spry__idslot *slots; /* cap slots, or NULL while cap is 0 */
	size_t        cap;   /* 0 or a power of two, >= SPRY__IDMAP_MIN */
	size_t        n;     /* entries */
	unsigned      shift; /* 32 - log2(cap): hash bits to drop */
} spry__idmap;

/* The smallest table (slots); also the size it never shrinks below. */
#define SPRY__IDMAP_MIN 16

/* spry__idmap_init makes m empty (allocates nothing). */
void spry__idmap_init(spry__idmap *m);

/* spry__idmap_fini frees the table; the values stay the caller's. */
void spry__idmap_fini(spry__idmap *m);

/* spry__idmap_get returns the value of id, or NULL. */
void *spry__idmap_get(const spry__idmap *m, uint32_t id);

/*
 * spry__idmap_put maps id (nonzero) to val (not NULL). Errors:
 * SPRY_EINVAL (id 0, val NULL), SPRY_EEXIST (id is mapped; nothing
 * changes), SPRY_ENOMEM (the table could not grow; nothing changes).
 */
int spry__idmap_put(spry__idmap *m, uint32_t id, void *val);

/* spry__idmap_del unmaps id and returns its value, or NULL if absent. */
void *spry__idmap_del(spry__idmap *m, uint32_t id);

/* spry__idmap_count returns the number of entries. */
static inline size_t
spry__idmap_count(const spry__idmap *m)
{
	return m->n;
}

/*
 * spry__idmap_next walks the values: start with *cursor = 0; each call
 * returns the next value and advances *cursor, or NULL at the end. The
 * map must not change during the walk.
 */
void *spry__idmap_next(const spry__idmap *m, size_t *cursor);

#endif /* SPRY_SP_IDMAP_H */
