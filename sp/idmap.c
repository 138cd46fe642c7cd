/* SPDX-License-Identifier: MIT */
/*
 * sp/idmap.c: the id map of sp/idmap.h: linear probing from the slot a
 * Fibonacci hash picks (ids come in sequence, so the multiplication
 * spreads neighbours over the table), backward-shift removal, resizing
 * by rehashing into a fresh table.
 */
#include "sp/idmap.h"
#include "mailbox/alloc.h"
#include "spry/error.h"

#include <stdbool.h>

/* The slot where id's probe starts. */
static inline size_t
idmap_home(const spry__idmap *m, uint32_t id)
{
	return (size_t)((uint32_t)(id * 0x9e3779b9u) >> m->shift);
}

/* The slot holding id, or cap when absent. */
static size_t
idmap_find(const spry__idmap *m, uint32_t id)
{
	size_t mask = m->cap - 1;

	if (m->cap == 0 || id == 0) {
		return m->cap;
	}
	for (size_t i = idmap_home(m, id);; i = (i + 1) & mask) {
		if (m->slots[i].key == id) {
			return i;
		}
		if (m->slots[i].key == 0) {
			return m->cap;
		}
	}
}

/* Place an entry known to be absent into a table with room. */
static void
idmap_place(spry__idmap *m, uint32_t id, void *val)
{
	size_t mask = m->cap - 1;
	size_t i    = idmap_home(m, id);

	while (m->slots[i].key != 0) {
		i = (i + 1) & mask;
	}
	m->slots[i].key = id;
	m->slots[i].val = val;
}

/* Rehash into a table of cap slots; false (m unchanged) on ENOMEM. */
static bool
idmap_resize(spry__idmap *m, size_t cap)
{
	spry__idmap   nm    = {NULL, cap, 0, 32};
	spry__idslot *slots = spry__alloc(cap * sizeof(*slots));

	if (slots == NULL) {
		return false;
	}
	nm.slots = slots;
	for (size_t c = cap; c > 1; c >>= 1) {
		nm.shift--;
	}
	for (size_t i = 0; i < m->cap; i++) {
		if (m->slots[i].key != 0) {
			idmap_place(&nm, m->slots[i].key, m->slots[i].val);
		}
	}
	nm.n = m->n;
	spry__free(m->slots, m->cap * sizeof(*m->slots));
	*m = nm;
	return true;
}

void
spry__idmap_init(spry__idmap *m)
{
	*m = (spry__idmap){NULL, 0, 0, 32};
}

void
spry__idmap_fini(spry__idmap *m)
{
	spry__free(m->slots, m->cap * sizeof(*m->slots));
	spry__idmap_init(m);
}

void *
spry__idmap_get(const spry__idmap *m, uint32_t id)
{
	size_t i = idmap_find(m, id);

	return i < m->cap ? m->slots[i].val : NULL;
}

int
spry__idmap_put(spry__idmap *m, uint32_t id, void *val)
{
	if (id == 0 || val == NULL) {
		return SPRY_EINVAL;
	}
	if (idmap_find(m, id) < m->cap) {
		return SPRY_EEXIST;
	}
	if ((m->n + 1) * 2 > m->cap &&
	    !idmap_resize(m, m->cap == 0 ? SPRY__IDMAP_MIN : m->cap * 2)) {
		return SPRY_ENOMEM;
	}
	idmap_place(m, id, val);
	m->n++;
	return 0;
}

/*
 * Fill the hole at i: an entry further along the run moves back into it
 * when its home slot does not lie cyclically in (i, j], where it would
 * still be reachable without the hole.
 */
static void
idmap_close_hole(spry__idmap *m, size_t i)
{
	size_t mask = m->cap - 1;

	for (size_t j = (i + 1) & mask; m->slots[j].key != 0;
	     j        = (j + 1) & mask) {
		size_t h = idmap_home(m, m->slots[j].key);

		if (((j - h) & mask) >= ((j - i) & mask)) {
			m->slots[i] = m->slots[j];
			i           = j;
		}
	}
	m->slots[i].key = 0;
	m->slots[i].val = NULL;
}

void *
spry__idmap_del(spry__idmap *m, uint32_t id)
{
	size_t i = idmap_find(m, id);
	void  *val;

	if (i >= m->cap) {
		return NULL;
	}
	val = m->slots[i].val;
	idmap_close_hole(m, i);
	m->n--;
	if (m->cap > SPRY__IDMAP_MIN && m->n < m->cap / 8) {
		(void)idmap_resize(
		    m, m->cap / 2); /* a big table still works */
	}
	return val;
}

void *
spry__idmap_next(const spry__idmap *m, size_t *cursor)
{
	for (size_t i = *cursor; i < m->cap; i++) {
		if (m->slots[i].key != 0) {
			*cursor = i + 1;
			return m->slots[i].val;
		}
	}
	*cursor = m->cap;
	return NULL;
}
