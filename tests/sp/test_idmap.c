/* SPDX-License-Identifier: MIT */
/*
 * tests/sp/test_idmap.c: the id map (sp/idmap.h) against a plain array:
 * put, get and del in random order over a small range of ids, so probe
 * runs collide, wrap around the table's end and close over removed
 * entries; growing and shrinking; the walk; errors.
 */
#include "tests/support/support.h"
#include "sp/idmap.h"

#include <stdlib.h>

static int
up(void **state)
{
	return spry_test_up(state);
}

static int
down(void **state)
{
	return spry_test_down(state);
}

/* A value that names its id, never NULL. */
static void *
val_for(uint32_t id)
{
	return (void *)(uintptr_t)(id * 2 + 1);
}

static void
test_errors_and_empty_maps(void **state)
{
	spry__idmap m;
	size_t      cur = 0;

	(void)state;
	spry__idmap_init(&m);
	assert_null(spry__idmap_get(&m, 1));
	assert_null(spry__idmap_get(&m, 0));
	assert_null(spry__idmap_del(&m, 1));
	assert_null(spry__idmap_next(&m, &cur));
	spry_test_check(spry__idmap_put(&m, 0, val_for(0)), SPRY_EINVAL);
	spry_test_check(spry__idmap_put(&m, 1, NULL), SPRY_EINVAL);
	spry_test_check(spry__idmap_put(&m, 1, val_for(1)), 0);
	spry_test_check(spry__idmap_put(&m, 1, val_for(2)), SPRY_EEXIST);
	assert_ptr_equal(spry__idmap_get(&m, 1), val_for(1));
	assert_null(spry__idmap_get(&m, 0));
	assert_int_equal(spry__idmap_count(&m), 1);
	assert_ptr_equal(spry__idmap_del(&m, 1), val_for(1));
	assert_null(spry__idmap_del(&m, 1));
	assert_int_equal(spry__idmap_count(&m), 0);
	spry__idmap_fini(&m);
}

/* Check m holds exactly the ids marked in have[0..n). */
static void
check_same(const spry__idmap *m, const bool *have, uint32_t n)
{
	size_t count = 0, cur = 0;
	void  *v;

	for (uint32_t id = 1; id < n; id++) {
		assert_ptr_equal(
		    spry__idmap_get(m, id), have[id] ? val_for(id) : NULL);
		count += have[id];
	}
	assert_int_equal(spry__idmap_count(m), count);
	while ((v = spry__idmap_next(m, &cur)) != NULL) {
		uint32_t id = (uint32_t)(((uintptr_t)v - 1) / 2);

		assert_true(id > 0 && id < n && have[id]);
		count--;
	}
	assert_int_equal(count, 0);
}

static void
test_random_operations_match_an_array(void **state)
{
	enum { IDS = 3000, OPS = 200000 };
	static bool have[IDS];
	spry__idmap m;
	unsigned    seed = 12345;

	(void)state;
	spry__idmap_init(&m);
	for (int op = 0; op < OPS; op++) {
		uint32_t id = (uint32_t)(rand_r(&seed) % (IDS - 1)) + 1;
		/* Phases: fill up, then drain, so the table grows and
		 * shrinks through every size. */
		bool add = (op / 20000) % 2 == 0 ? rand_r(&seed) % 4 != 0 :
		                                   rand_r(&seed) % 4 == 0;

		if (add) {
			spry_test_check(spry__idmap_put(&m, id, val_for(id)),
			    have[id] ? SPRY_EEXIST : 0);
			have[id] = true;
		} else {
			assert_ptr_equal(spry__idmap_del(&m, id),
			    have[id] ? val_for(id) : NULL);
			have[id] = false;
		}
		if (op % 5000 == 0) {
			check_same(&m, have, IDS);
		}
	}
	check_same(&m, have, IDS);
	spry__idmap_fini(&m);
}

static void
test_sequential_ids_with_the_high_bit(void **state)
{
	enum { N = 100000 };
	spry__idmap m;
	uint32_t    base = 0xfffff000u; /* wraps past the top: still set */

	(void)state;
	spry__idmap_init(&m);
	for (uint32_t i = 0; i < N; i++) {
		uint32_t id = (base + i) | 0x80000000u;

		spry_test_check(spry__idmap_put(&m, id, val_for(i)), 0);
		if (i >= 64) { /* a window of 64 in flight, as REQ's */
			uint32_t old = (base + i - 64) | 0x80000000u;

			assert_ptr_equal(
			    spry__idmap_del(&m, old), val_for(i - 64));
		}
	}
	assert_int_equal(spry__idmap_count(&m), 64);
	assert_true(m.cap <= 256); /* sized by the window, not the ids */
	spry__idmap_fini(&m);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(
	        test_errors_and_empty_maps, up, down),
	    cmocka_unit_test_setup_teardown(
	        test_random_operations_match_an_array, up, down),
	    cmocka_unit_test_setup_teardown(
	        test_sequential_ids_with_the_high_bit, up, down),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
