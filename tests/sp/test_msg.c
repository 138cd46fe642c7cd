/* SPDX-License-Identifier: MIT */
/*
 * tests/sp/test_msg.c: the message type on its own: allocation, every
 * header and body operation with its edge cases (empty, exact length,
 * past the length, growth past the headroom, sizes past the limit), the
 * big-endian helpers and their bytes on the wire, the receive metadata,
 * and sharing: spry_msg_dup shares bytes, writes copy them first, and
 * holders on many threads never see each other's writes.
 *
 * Whether bytes are shared or copied is read from spry's count of live
 * allocations (internal), so those tests skip in release builds, which
 * do not count. Every test ends by asserting that nothing is left.
 * Helper threads never call cmocka's assertions; they record results
 * that the test thread checks.
 *
 * Longer than the usual 800 lines: one executable per unit, and every
 * function of the contract gets its own small cases.
 */
#include "tests/support/support.h"

#include "mailbox/alloc.h"

#include <pthread.h>
#include <string.h>

/* Bytes 0, 1, 2, ... wrapping at 251 (a prime, so runs do not align). */
static void
pattern(uint8_t *p, size_t n, size_t from)
{
	for (size_t i = 0; i < n; i++) {
		p[i] = (uint8_t)((from + i) % 251);
	}
}

/* Fails unless m's body is exactly the n bytes at want. */
static void
assert_body_is(spry_msg *m, const void *want, size_t n)
{
	assert_int_equal(spry_msg_len(m), n);
	assert_non_null(spry_msg_body(m));
	if (n > 0) {
		assert_memory_equal(spry_msg_body(m), want, n);
	}
}

/* Fails unless m's header is exactly the n bytes at want. */
static void
assert_header_is(spry_msg *m, const void *want, size_t n)
{
	assert_int_equal(spry_msg_header_len(m), n);
	assert_non_null(spry_msg_header(m));
	if (n > 0) {
		assert_memory_equal(spry_msg_header(m), want, n);
	}
}

/* Live spry allocations; skips the test in builds that do not count. */
static int64_t
live_blocks(void)
{
	int64_t n = spry__alloc_live();

	if (n < 0) {
		skip();
	}
	return n;
}

static void
test_alloc_gives_a_zeroed_body_and_an_empty_header(void **state)
{
	static const uint8_t zeros[100];
	spry_msg            *m;

	(void)state;
	spry_test_check(spry_msg_alloc(&m, sizeof(zeros)), 0);
	assert_body_is(m, zeros, sizeof(zeros));
	assert_header_is(m, NULL, 0);
	spry_msg_free(m);

	spry_test_check(spry_msg_alloc(&m, 0), 0);
	assert_body_is(m, NULL, 0);
	assert_header_is(m, NULL, 0);
	spry_msg_free(m);
	spry_test_assert_clean();
}

static void
test_body_can_be_filled_through_its_pointer(void **state)
{
	uint8_t   want[64];
	spry_msg *m;

	(void)state;
	pattern(want, sizeof(want), 0);
	spry_test_check(spry_msg_alloc(&m, sizeof(want)), 0);
	memcpy(spry_msg_body(m), want, sizeof(want));
	assert_body_is(m, want, sizeof(want));
	spry_msg_free(m);
	spry_test_assert_clean();
}

static void
test_append_and_prepend_add_bytes_at_each_end(void **state)
{
	spry_msg *m;

	(void)state;
	spry_test_check(spry_msg_alloc(&m, 0), 0);
	spry_test_check(spry_msg_append(m, "cd", 2), 0);
	spry_test_check(spry_msg_prepend(m, "b", 1), 0);
	spry_test_check(spry_msg_append(m, "ef", 2), 0);
	spry_test_check(spry_msg_insert(m, "a", 1), 0); /* NNG's name */
	assert_body_is(m, "abcdef", 6);
	assert_header_is(m, NULL, 0);
	spry_msg_free(m);
	spry_test_assert_clean();
}

static void
test_many_appends_grow_the_body_and_keep_every_byte(void **state)
{
	enum { TOTAL = 1 << 20 };
	uint8_t  *want = test_malloc(TOTAL);
	size_t    len  = 0;
	spry_msg *m;

	(void)state;
	pattern(want, TOTAL, 0);
	spry_test_check(spry_msg_alloc(&m, 0), 0);
	/* Pieces of growing, uneven sizes, then one big block. */
	for (size_t n = 1; len + n <= TOTAL / 2; n = n * 3 / 2 + 1) {
		spry_test_check(spry_msg_append(m, want + len, n), 0);
		len += n;
	}
	spry_test_check(spry_msg_append(m, want + len, TOTAL - len), 0);
	assert_body_is(m, want, TOTAL);
	spry_msg_free(m);
	test_free(want);
	spry_test_assert_clean();
}

static void
test_prepend_within_the_headroom_does_not_allocate(void **state)
{
	uint8_t   want[48];
	spry_msg *m;
	int64_t   before;

	(void)state;
	pattern(want, sizeof(want), 0);
	spry_test_check(spry_msg_alloc(&m, 16), 0);
	memcpy(spry_msg_body(m), want + 32, 16);
	before = live_blocks();
	/* Eight words: the 32 bytes of room every body keeps in front. */
	for (int i = 7; i >= 0; i--) {
		spry_test_check(spry_msg_prepend(m, want + 4 * i, 4), 0);
	}
	assert_int_equal(live_blocks(), before);
	assert_body_is(m, want, sizeof(want));
	spry_msg_free(m);
	spry_test_assert_clean();
}

static void
test_prepend_beyond_the_headroom_grows_the_front(void **state)
{
	enum { TOTAL = 10000 };
	uint8_t  *want = test_malloc(TOTAL);
	size_t    len  = 100;
	spry_msg *m;

	(void)state;
	pattern(want, TOTAL, 7);
	spry_test_check(spry_msg_alloc(&m, 0), 0);
	spry_test_check(spry_msg_append(m, want + TOTAL - len, len), 0);
	/* One block far larger than the headroom, then many small ones. */
	spry_test_check(spry_msg_prepend(m, want + TOTAL - 1100, 1000), 0);
	len += 1000;
	while (len < TOTAL) {
		size_t n = TOTAL - len < 13 ? TOTAL - len : 13;

		spry_test_check(
		    spry_msg_prepend(m, want + TOTAL - len - n, n), 0);
		len += n;
	}
	assert_body_is(m, want, TOTAL);
	spry_msg_free(m);
	test_free(want);
	spry_test_assert_clean();
}

static void
test_bytes_from_the_message_itself_can_be_added_to_it(void **state)
{
	uint8_t   want[4 * 40];
	spry_msg *m;

	(void)state;
	pattern(want, 40, 0);
	memcpy(want + 40, want, 40);
	spry_test_check(spry_msg_alloc(&m, 40), 0);
	memcpy(spry_msg_body(m), want, 40);
	/* Each grows past the room there is, so the bytes move meanwhile. */
	spry_test_check(spry_msg_append(m, spry_msg_body(m), 40), 0);
	assert_body_is(m, want, 80);
	spry_test_check(spry_msg_prepend(m, spry_msg_body(m), 80), 0);
	memcpy(want + 80, want, 80);
	assert_body_is(m, want, 160);
	spry_msg_free(m);
	spry_test_assert_clean();
}

static void
test_trim_and_chop_remove_bytes_from_each_end(void **state)
{
	spry_msg *m;

	(void)state;
	spry_test_check(spry_msg_alloc(&m, 0), 0);
	spry_test_check(spry_msg_append(m, "abcdefgh", 8), 0);
	spry_test_check(spry_msg_trim(m, 2), 0);
	assert_body_is(m, "cdefgh", 6);
	spry_test_check(spry_msg_chop(m, 3), 0);
	assert_body_is(m, "cde", 3);
	/* The room trimming frees in front is used again. */
	spry_test_check(spry_msg_prepend(m, "xy", 2), 0);
	assert_body_is(m, "xycde", 5);
	spry_msg_free(m);
	spry_test_assert_clean();
}

static void
test_trim_or_chop_of_exactly_the_length_empties_the_body(void **state)
{
	spry_msg *m;

	(void)state;
	spry_test_check(spry_msg_alloc(&m, 0), 0);
	spry_test_check(spry_msg_append(m, "abcd", 4), 0);
	spry_test_check(spry_msg_trim(m, 4), 0);
	assert_body_is(m, NULL, 0);
	spry_test_check(spry_msg_append(m, "efgh", 4), 0);
	spry_test_check(spry_msg_chop(m, 4), 0);
	assert_body_is(m, NULL, 0);
	spry_test_check(spry_msg_append(m, "ij", 2), 0);
	assert_body_is(m, "ij", 2);
	spry_msg_free(m);
	spry_test_assert_clean();
}

static void
test_trim_or_chop_past_the_length_fails_and_changes_nothing(void **state)
{
	spry_msg *m;
	uint32_t  v = 7;

	(void)state;
	spry_test_check(spry_msg_alloc(&m, 0), 0);
	spry_test_check(spry_msg_trim(m, 1), SPRY_EINVAL);
	spry_test_check(spry_msg_chop(m, 1), SPRY_EINVAL);
	spry_test_check(spry_msg_append(m, "abc", 3), 0);
	spry_test_check(spry_msg_trim(m, 4), SPRY_EINVAL);
	spry_test_check(spry_msg_chop(m, 4), SPRY_EINVAL);
	spry_test_check(spry_msg_trim(m, SIZE_MAX), SPRY_EINVAL);
	spry_test_check(spry_msg_chop(m, SIZE_MAX), SPRY_EINVAL);
	spry_test_check(spry_msg_trim_u32(m, &v), SPRY_EINVAL);
	spry_test_check(spry_msg_chop_u32(m, &v), SPRY_EINVAL);
	assert_int_equal(v, 7);
	assert_body_is(m, "abc", 3);
	spry_test_check(spry_msg_header_append(m, "xy", 2), 0);
	spry_test_check(spry_msg_header_trim(m, 3), SPRY_EINVAL);
	spry_test_check(spry_msg_header_chop(m, 3), SPRY_EINVAL);
	spry_test_check(spry_msg_header_trim_u32(m, &v), SPRY_EINVAL);
	spry_test_check(spry_msg_header_chop_u32(m, &v), SPRY_EINVAL);
	assert_int_equal(v, 7);
	assert_header_is(m, "xy", 2);
	assert_body_is(m, "abc", 3);
	spry_msg_free(m);
	spry_test_assert_clean();
}

static void
test_zero_length_operations_succeed_and_change_nothing(void **state)
{
	spry_msg *m;
	int64_t   before;

	(void)state;
	spry_test_check(spry_msg_alloc(&m, 0), 0);
	before = live_blocks();
	spry_test_check(spry_msg_append(m, NULL, 0), 0);
	spry_test_check(spry_msg_prepend(m, NULL, 0), 0);
	spry_test_check(spry_msg_trim(m, 0), 0);
	spry_test_check(spry_msg_chop(m, 0), 0);
	spry_test_check(spry_msg_realloc(m, 0), 0);
	spry_test_check(spry_msg_header_append(m, NULL, 0), 0);
	spry_test_check(spry_msg_header_prepend(m, "x", 0), 0);
	spry_test_check(spry_msg_header_trim(m, 0), 0);
	spry_test_check(spry_msg_header_chop(m, 0), 0);
	spry_msg_clear(m);
	spry_msg_header_clear(m);
	assert_int_equal(live_blocks(), before); /* an empty one has none */
	assert_body_is(m, NULL, 0);
	assert_header_is(m, NULL, 0);

	spry_test_check(spry_msg_append(m, "ab", 2), 0);
	spry_test_check(spry_msg_append(m, "zz", 0), 0);
	spry_test_check(spry_msg_prepend(m, "zz", 0), 0);
	spry_test_check(spry_msg_trim(m, 0), 0);
	spry_test_check(spry_msg_chop(m, 0), 0);
	assert_body_is(m, "ab", 2);
	spry_msg_free(m);
	spry_test_assert_clean();
}

static void
test_clear_empties_and_keeps_the_storage_for_reuse(void **state)
{
	uint8_t   want[200];
	spry_msg *m;
	int64_t   before;

	(void)state;
	pattern(want, sizeof(want), 3);
	spry_test_check(spry_msg_alloc(&m, 0), 0);
	spry_test_check(spry_msg_append(m, want, sizeof(want)), 0);
	spry_test_check(spry_msg_header_append(m, want, 8), 0);
	spry_msg_clear(m);
	assert_body_is(m, NULL, 0);
	assert_header_is(m, want, 8); /* the header is another chunk */
	spry_msg_header_clear(m);
	assert_header_is(m, NULL, 0);

	before = live_blocks();
	spry_test_check(spry_msg_append(m, want + 32, sizeof(want) - 32), 0);
	spry_test_check(spry_msg_prepend(m, want, 32), 0);
	spry_test_check(spry_msg_header_append(m, want, 8), 0);
	assert_int_equal(live_blocks(), before);
	assert_body_is(m, want, sizeof(want));
	assert_header_is(m, want, 8);
	spry_msg_free(m);
	spry_test_assert_clean();
}

static void
test_realloc_shrinks_from_the_end_and_grows_with_zero_bytes(void **state)
{
	uint8_t   want[300] = {0};
	spry_msg *m;

	(void)state;
	pattern(want, 10, 1);
	spry_test_check(spry_msg_alloc(&m, 0), 0);
	spry_test_check(spry_msg_append(m, want, 10), 0);
	spry_test_check(spry_msg_realloc(m, 4), 0);
	assert_body_is(m, want, 4);
	/* Growing in place: the bytes chopped before come back as zeros. */
	memset(want + 4, 0, 6);
	spry_test_check(spry_msg_realloc(m, 10), 0);
	assert_body_is(m, want, 10);
	/* Growing past the storage. */
	spry_test_check(spry_msg_realloc(m, sizeof(want)), 0);
	assert_body_is(m, want, sizeof(want));
	spry_test_check(spry_msg_realloc(m, 0), 0);
	assert_body_is(m, NULL, 0);
	spry_msg_free(m);
	spry_test_assert_clean();
}

static void
test_u32_helpers_write_big_endian_and_round_trip(void **state)
{
	static const uint8_t wire[] = {0x0a, 0x0b, 0x0c, 0x0d, 0x80, 0x00,
	    0x00, 0x2a, 0x01, 0x02, 0x03, 0x04, 0xff, 0xff, 0xff, 0xff};
	spry_msg            *m;
	uint32_t             v;

	(void)state;
	spry_test_check(spry_msg_alloc(&m, 0), 0);
	spry_test_check(spry_msg_append_u32(m, 0x01020304), 0);
	spry_test_check(spry_msg_append_u32(m, 0xffffffff), 0);
	spry_test_check(spry_msg_prepend_u32(m, 0x8000002a), 0);
	spry_test_check(spry_msg_prepend_u32(m, 0x0a0b0c0d), 0);
	assert_body_is(m, wire, sizeof(wire));

	spry_test_check(spry_msg_trim_u32(m, &v), 0);
	assert_int_equal(v, 0x0a0b0c0d);
	spry_test_check(spry_msg_chop_u32(m, &v), 0);
	assert_int_equal(v, 0xffffffff);
	spry_test_check(spry_msg_trim_u32(m, &v), 0);
	assert_int_equal(v, 0x8000002a);
	spry_test_check(spry_msg_chop_u32(m, &v), 0);
	assert_int_equal(v, 0x01020304);
	assert_int_equal(spry_msg_len(m), 0);

	/* Bytes that arrived from the wire read the same way. */
	spry_test_check(spry_msg_append(m, wire, sizeof(wire)), 0);
	spry_test_check(spry_msg_trim_u32(m, &v), 0);
	assert_int_equal(v, 0x0a0b0c0d);
	spry_test_check(spry_msg_chop_u32(m, &v), 0);
	assert_int_equal(v, 0xffffffff);
	spry_msg_free(m);
	spry_test_assert_clean();
}

static void
test_header_operations_mirror_the_body_ones(void **state)
{
	static const uint8_t wire[] = {
	    0x80, 0x00, 0x00, 0x01, 'h', 'i', 0x00, 0x00, 0x00, 0x05};
	spry_msg *m;
	uint32_t  v;

	(void)state;
	spry_test_check(spry_msg_alloc(&m, 0), 0);
	spry_test_check(spry_msg_header_append(m, "i", 1), 0);
	spry_test_check(spry_msg_header_prepend(m, "h", 1), 0);
	spry_test_check(spry_msg_header_append_u32(m, 5), 0);
	spry_test_check(spry_msg_header_prepend_u32(m, 0x80000001), 0);
	assert_header_is(m, wire, sizeof(wire));

	spry_test_check(spry_msg_header_trim_u32(m, &v), 0);
	assert_int_equal(v, 0x80000001);
	spry_test_check(spry_msg_header_chop_u32(m, &v), 0);
	assert_int_equal(v, 5);
	assert_header_is(m, "hi", 2);
	spry_test_check(spry_msg_header_insert(m, "oh, ", 4), 0);
	assert_header_is(m, "oh, hi", 6);
	spry_test_check(spry_msg_header_trim(m, 2), 0);
	spry_test_check(spry_msg_header_chop(m, 1), 0);
	assert_header_is(m, ", h", 3);
	assert_body_is(m, NULL, 0);
	spry_msg_free(m);
	spry_test_assert_clean();
}

static void
test_header_and_body_change_independently(void **state)
{
	spry_msg *m;
	uint32_t  v;

	(void)state;
	spry_test_check(spry_msg_alloc(&m, 0), 0);
	spry_test_check(spry_msg_append(m, "body", 4), 0);
	spry_test_check(spry_msg_header_append(m, "head", 4), 0);
	spry_test_check(spry_msg_append_u32(m, 1), 0);
	spry_test_check(spry_msg_header_prepend_u32(m, 2), 0);
	assert_body_is(m, "body\0\0\0\1", 8);
	assert_header_is(m, "\0\0\0\2head", 8);
	/* A protocol moves a backtrace word from the body to the header. */
	spry_test_check(spry_msg_trim(m, 4), 0);
	spry_test_check(spry_msg_trim_u32(m, &v), 0);
	spry_test_check(spry_msg_header_append_u32(m, v), 0);
	assert_body_is(m, NULL, 0);
	assert_header_is(m, "\0\0\0\2head\0\0\0\1", 12);
	spry_msg_clear(m);
	assert_header_is(m, "\0\0\0\2head\0\0\0\1", 12);
	spry_msg_free(m);
	spry_test_assert_clean();
}

static void
test_sizes_past_the_limit_give_enomem_and_change_nothing(void **state)
{
	spry_msg *m = NULL;
	char      byte;

	(void)state;
	spry_test_check(spry_msg_alloc(&m, SIZE_MAX), SPRY_ENOMEM);
	spry_test_check(spry_msg_alloc(&m, SIZE_MAX / 2), SPRY_ENOMEM);
	assert_null(m);
	spry_test_check(spry_msg_alloc(&m, 0), 0);
	spry_test_check(spry_msg_append(m, "abc", 3), 0);
	spry_test_check(spry_msg_header_append(m, "h", 1), 0);
	/* Never read: the size is refused before any byte is. */
	spry_test_check(spry_msg_append(m, &byte, SIZE_MAX), SPRY_ENOMEM);
	spry_test_check(spry_msg_prepend(m, &byte, SIZE_MAX), SPRY_ENOMEM);
	spry_test_check(spry_msg_realloc(m, SIZE_MAX), SPRY_ENOMEM);
	spry_test_check(
	    spry_msg_header_append(m, &byte, SIZE_MAX / 4), SPRY_ENOMEM);
	spry_test_check(
	    spry_msg_header_prepend(m, &byte, SIZE_MAX), SPRY_ENOMEM);
	assert_body_is(m, "abc", 3);
	assert_header_is(m, "h", 1);
	spry_msg_free(m);
	spry_test_assert_clean();
}

static void
test_null_arguments_give_einval(void **state)
{
	spry_msg *m;
	uint32_t  v;

	(void)state;
	spry_test_check(spry_msg_alloc(NULL, 1), SPRY_EINVAL);
	spry_test_check(spry_msg_dup(NULL, NULL), SPRY_EINVAL);
	spry_test_check(spry_msg_dup(&m, NULL), SPRY_EINVAL);
	spry_test_check(spry_msg_append(NULL, "a", 1), SPRY_EINVAL);
	spry_test_check(spry_msg_prepend(NULL, "a", 1), SPRY_EINVAL);
	spry_test_check(spry_msg_insert(NULL, "a", 1), SPRY_EINVAL);
	spry_test_check(spry_msg_trim(NULL, 0), SPRY_EINVAL);
	spry_test_check(spry_msg_chop(NULL, 0), SPRY_EINVAL);
	spry_test_check(spry_msg_realloc(NULL, 0), SPRY_EINVAL);
	spry_test_check(spry_msg_append_u32(NULL, 1), SPRY_EINVAL);
	spry_test_check(spry_msg_prepend_u32(NULL, 1), SPRY_EINVAL);
	spry_test_check(spry_msg_trim_u32(NULL, &v), SPRY_EINVAL);
	spry_test_check(spry_msg_chop_u32(NULL, &v), SPRY_EINVAL);
	spry_test_check(spry_msg_header_append(NULL, "a", 1), SPRY_EINVAL);
	spry_test_check(spry_msg_header_prepend(NULL, "a", 1), SPRY_EINVAL);
	spry_test_check(spry_msg_header_insert(NULL, "a", 1), SPRY_EINVAL);
	spry_test_check(spry_msg_header_trim(NULL, 0), SPRY_EINVAL);
	spry_test_check(spry_msg_header_chop(NULL, 0), SPRY_EINVAL);
	spry_test_check(spry_msg_header_append_u32(NULL, 1), SPRY_EINVAL);
	spry_test_check(spry_msg_header_prepend_u32(NULL, 1), SPRY_EINVAL);
	spry_test_check(spry_msg_header_trim_u32(NULL, &v), SPRY_EINVAL);
	spry_test_check(spry_msg_header_chop_u32(NULL, &v), SPRY_EINVAL);
	spry_test_check(spry_msg_set_peer(NULL, "x"), SPRY_EINVAL);
	spry_msg_free(NULL);

	/* NULL data with a length, NULL out values: nothing changes. */
	spry_test_check(spry_msg_alloc(&m, 0), 0);
	spry_test_check(spry_msg_append_u32(m, 9), 0);
	spry_test_check(spry_msg_header_append_u32(m, 9), 0);
	spry_test_check(spry_msg_append(m, NULL, 1), SPRY_EINVAL);
	spry_test_check(spry_msg_prepend(m, NULL, 1), SPRY_EINVAL);
	spry_test_check(spry_msg_header_append(m, NULL, 1), SPRY_EINVAL);
	spry_test_check(spry_msg_header_prepend(m, NULL, 1), SPRY_EINVAL);
	spry_test_check(spry_msg_trim_u32(m, NULL), SPRY_EINVAL);
	spry_test_check(spry_msg_chop_u32(m, NULL), SPRY_EINVAL);
	spry_test_check(spry_msg_header_trim_u32(m, NULL), SPRY_EINVAL);
	spry_test_check(spry_msg_header_chop_u32(m, NULL), SPRY_EINVAL);
	assert_body_is(m, "\0\0\0\x09", 4);
	assert_header_is(m, "\0\0\0\x09", 4);
	spry_msg_free(m);
	spry_test_assert_clean();
}

static void
test_metadata_starts_empty_and_keeps_what_is_set(void **state)
{
	spry_msg *m;
	int       sock;
	char      addr[] = "tcp://192.0.2.1:5555";

	(void)state;
	spry_test_check(spry_msg_alloc(&m, 0), 0);
	assert_int_equal(spry_msg_err(m), 0);
	assert_null(spry_msg_socket(m));
	assert_int_equal(spry_msg_pipe(m), 0);
	assert_string_equal(spry_msg_peer(m), "");

	spry_msg_set_err(m, SPRY_ECLOSED);
	spry_msg_set_socket(m, (spry_socket *)&sock);
	spry_msg_set_pipe(m, 0xdeadbeef);
	spry_test_check(spry_msg_set_peer(m, addr), 0);
	addr[0] = 'X'; /* the message keeps its own copy */
	assert_int_equal(spry_msg_err(m), SPRY_ECLOSED);
	assert_ptr_equal(spry_msg_socket(m), &sock);
	assert_int_equal(spry_msg_pipe(m), 0xdeadbeef);
	assert_string_equal(spry_msg_peer(m), "tcp://192.0.2.1:5555");

	/* Setting it again replaces it, even from its own string. */
	spry_test_check(spry_msg_set_peer(m, spry_msg_peer(m)), 0);
	assert_string_equal(spry_msg_peer(m), "tcp://192.0.2.1:5555");
	spry_test_check(spry_msg_set_peer(m, "ipc:///tmp/x"), 0);
	assert_string_equal(spry_msg_peer(m), "ipc:///tmp/x");
	spry_test_check(spry_msg_set_peer(m, ""), 0);
	assert_string_equal(spry_msg_peer(m), "");
	spry_test_check(spry_msg_set_peer(m, "inproc://a"), 0);
	spry_test_check(spry_msg_set_peer(m, NULL), 0);
	assert_string_equal(spry_msg_peer(m), "");

	/* Metadata is not bytes: the header and body stay empty. */
	assert_int_equal(spry_msg_len(m), 0);
	assert_int_equal(spry_msg_header_len(m), 0);
	spry_test_check(spry_msg_set_peer(m, "inproc://left"), 0);
	spry_msg_free(m); /* frees the peer string too */
	spry_test_assert_clean();
}

static void
test_dup_gives_an_equal_message_with_its_own_metadata(void **state)
{
	spry_msg *m, *d;
	int       sock;

	(void)state;
	spry_test_check(spry_msg_alloc(&m, 0), 0);
	spry_test_check(spry_msg_append(m, "body", 4), 0);
	spry_test_check(spry_msg_header_append_u32(m, 0x80000007), 0);
	spry_msg_set_err(m, SPRY_ECONNRESET);
	spry_msg_set_socket(m, (spry_socket *)&sock);
	spry_msg_set_pipe(m, 42);
	spry_test_check(spry_msg_set_peer(m, "tcp://[::1]:80"), 0);

	spry_test_check(spry_msg_dup(&d, m), 0);
	assert_ptr_not_equal(d, m);
	assert_int_equal(spry_msg_err(d), SPRY_ECONNRESET);
	assert_ptr_equal(spry_msg_socket(d), &sock);
	assert_int_equal(spry_msg_pipe(d), 42);
	assert_string_equal(spry_msg_peer(d), "tcp://[::1]:80");
	/* The address string is shared (it never changes in place). */

	spry_msg_set_pipe(d, 43);
	spry_msg_set_err(d, 0);
	spry_test_check(spry_msg_set_peer(d, NULL), 0);
	assert_int_equal(spry_msg_pipe(m), 42);
	assert_int_equal(spry_msg_err(m), SPRY_ECONNRESET);
	assert_string_equal(spry_msg_peer(m), "tcp://[::1]:80");
	assert_body_is(d, "body", 4);
	assert_header_is(d, "\x80\0\0\x07", 4);
	spry_msg_free(m);
	spry_msg_free(d);

	/* An empty message dups to an empty message. */
	spry_test_check(spry_msg_alloc(&m, 0), 0);
	spry_test_check(spry_msg_dup(&d, m), 0);
	assert_body_is(d, NULL, 0);
	assert_header_is(d, NULL, 0);
	spry_msg_free(d);
	spry_msg_free(m);
	spry_test_assert_clean();
}

static void
test_dup_shares_the_bytes_until_one_holder_writes(void **state)
{
	enum { N = 1000 };
	uint8_t   want[N + 2];
	spry_msg *m, *d;
	int64_t   before;

	(void)state;
	pattern(want, N, 0);
	spry_test_check(spry_msg_alloc(&m, 0), 0);
	spry_test_check(spry_msg_append(m, want, N), 0);
	spry_test_check(spry_msg_header_append(m, want, 8), 0);
	before = live_blocks();
	spry_test_check(spry_msg_dup(&d, m), 0);
	assert_int_equal(live_blocks(), before + 1); /* the message only */

	/* The copy's first write copies its body, and only its body. */
	spry_test_check(spry_msg_append(d, "!", 1), 0);
	assert_int_equal(live_blocks(), before + 2);
	spry_test_check(spry_msg_append(d, "?", 1), 0);
	assert_int_equal(live_blocks(), before + 2);
	/* The original is the sole holder of the old body again. */
	spry_test_check(spry_msg_append(m, "x", 1), 0);
	assert_int_equal(live_blocks(), before + 2);
	spry_test_check(spry_msg_header_append(m, "h", 1), 0);
	assert_int_equal(live_blocks(), before + 3);

	/* Both read what they wrote, and only that. */
	want[N] = 'x';
	assert_body_is(m, want, N + 1);
	assert_header_is(m, "\0\1\2\3\4\5\6\7h", 9);
	memcpy(want + N, "!?", 2);
	assert_body_is(d, want, N + 2);
	assert_header_is(d, want, 8);
	spry_msg_free(m);
	spry_msg_free(d);
	spry_test_assert_clean();
}

/* The ways a holder can write to a message's body or header. */
enum { W_APPEND, W_PREPEND, W_U32, W_POINTER, W_REALLOC, W_HEADER, W_N };

static void
write_one_way(spry_msg *m, int how)
{
	switch (how) {
	case W_APPEND:
		spry_test_check(spry_msg_append(m, "+", 1), 0);
		break;
	case W_PREPEND:
		spry_test_check(spry_msg_prepend(m, "+", 1), 0);
		break;
	case W_U32:
		spry_test_check(spry_msg_prepend_u32(m, 0x2b2b2b2b), 0);
		break;
	case W_POINTER:
		assert_non_null(spry_msg_body(m));
		memset(spry_msg_body(m), '+', spry_msg_len(m));
		break;
	case W_REALLOC:
		spry_test_check(spry_msg_realloc(m, spry_msg_len(m) + 1), 0);
		break;
	default:
		spry_test_check(spry_msg_header_append(m, "+", 1), 0);
		assert_non_null(spry_msg_header(m));
		memset(spry_msg_header(m), '+', spry_msg_header_len(m));
		break;
	}
}

/*
 * Make a message and a copy sharing its bytes, write to one of them in
 * every way there is, and check the other still reads as before.
 */
static void
check_writes_stay_private(bool write_copy)
{
	for (int how = 0; how < W_N; how++) {
		spry_msg *m, *d;

		spry_test_check(spry_msg_alloc(&m, 0), 0);
		spry_test_check(spry_msg_append(m, "original", 8), 0);
		spry_test_check(spry_msg_header_append(m, "hdr", 3), 0);
		spry_test_check(spry_msg_dup(&d, m), 0);
		write_one_way(write_copy ? d : m, how);
		assert_body_is(write_copy ? m : d, "original", 8);
		assert_header_is(write_copy ? m : d, "hdr", 3);
		spry_msg_free(write_copy ? m : d);
		spry_msg_free(write_copy ? d : m);
	}
	spry_test_assert_clean();
}

static void
test_writing_to_a_copy_leaves_the_original_unchanged(void **state)
{
	(void)state;
	check_writes_stay_private(true);
}

static void
test_writing_to_the_original_leaves_the_copy_unchanged(void **state)
{
	(void)state;
	check_writes_stay_private(false);
}

static void
test_trim_and_chop_of_shared_bytes_do_not_copy(void **state)
{
	spry_msg *m, *d;
	uint32_t  v;
	int64_t   before;

	(void)state;
	spry_test_check(spry_msg_alloc(&m, 0), 0);
	spry_test_check(spry_msg_append(m, "\0\0\0\1middle\0\0\0\2", 14), 0);
	spry_test_check(spry_msg_header_append(m, "\0\0\0\3", 4), 0);
	spry_test_check(spry_msg_dup(&d, m), 0);
	before = live_blocks();
	spry_test_check(spry_msg_trim_u32(d, &v), 0);
	assert_int_equal(v, 1);
	spry_test_check(spry_msg_chop_u32(d, &v), 0);
	assert_int_equal(v, 2);
	spry_test_check(spry_msg_trim(d, 1), 0);
	spry_test_check(spry_msg_chop(d, 1), 0);
	spry_test_check(spry_msg_realloc(d, 3), 0);
	spry_test_check(spry_msg_header_trim_u32(d, &v), 0);
	assert_int_equal(v, 3);
	assert_int_equal(live_blocks(), before);
	assert_int_equal(spry_msg_len(d), 3);
	assert_int_equal(spry_msg_header_len(d), 0);

	/* A write after a trim copies only what the copy still has. */
	spry_test_check(spry_msg_prepend(d, "<", 1), 0);
	assert_body_is(d, "<idd", 4);
	assert_body_is(m, "\0\0\0\1middle\0\0\0\2", 14);
	assert_header_is(m, "\0\0\0\3", 4);
	spry_msg_free(d);
	spry_msg_free(m);
	spry_test_assert_clean();
}

static void
test_clear_of_a_shared_body_lets_it_go(void **state)
{
	spry_msg *m, *d;

	(void)state;
	spry_test_check(spry_msg_alloc(&m, 0), 0);
	spry_test_check(spry_msg_append(m, "shared", 6), 0);
	spry_test_check(spry_msg_header_append(m, "h", 1), 0);
	spry_test_check(spry_msg_dup(&d, m), 0);
	spry_msg_clear(d);
	spry_msg_header_clear(d);
	spry_msg_free(m); /* d no longer refers to the bytes */
	assert_body_is(d, NULL, 0);
	assert_header_is(d, NULL, 0);
	spry_test_check(spry_msg_append(d, "new", 3), 0);
	assert_body_is(d, "new", 3);
	spry_msg_free(d);
	spry_test_assert_clean();
}

static void
test_copies_can_be_freed_in_either_order(void **state)
{
	(void)state;
	for (int first = 0; first < 3; first++) {
		spry_msg *m[3];

		spry_test_check(spry_msg_alloc(&m[0], 0), 0);
		spry_test_check(spry_msg_append(m[0], "fan-out", 7), 0);
		spry_test_check(spry_msg_header_append_u32(m[0], 7), 0);
		spry_test_check(spry_msg_dup(&m[1], m[0]), 0);
		spry_test_check(spry_msg_dup(&m[2], m[1]), 0);
		spry_msg_free(m[first]);
		for (int i = 0; i < 3; i++) {
			if (i != first) {
				assert_body_is(m[i], "fan-out", 7);
				assert_header_is(m[i], "\0\0\0\7", 4);
			}
		}
		for (int i = 0; i < 3; i++) {
			if (i != first) {
				spry_msg_free(m[i]);
			}
		}
	}
	spry_test_assert_clean();
}

static void
test_the_last_holder_writes_in_place(void **state)
{
	spry_msg *m, *d;
	int64_t   before;

	(void)state;
	spry_test_check(spry_msg_alloc(&m, 0), 0);
	spry_test_check(spry_msg_append(m, "solo", 4), 0);
	spry_test_check(spry_msg_dup(&d, m), 0);
	spry_msg_free(m);
	before = live_blocks();
	spry_test_check(spry_msg_append(d, "!", 1), 0);
	assert_non_null(spry_msg_body(d));
	assert_int_equal(live_blocks(), before);
	assert_body_is(d, "solo!", 5);
	spry_msg_free(d);
	spry_test_assert_clean();
}

/*
 * Fan-out across threads, as a socket sends one message down many pipes:
 * in each generation, threads each dup the test thread's message; then,
 * all at once, the test thread frees the original, readers (even ids)
 * take words off their copies without copying and free them, and writers
 * (odd ids) write to theirs and keep writing. A writer that comes last
 * finds itself the sole holder and writes in place, right after the
 * others' reads: TSan checks that hand-over (a relaxed instead of an
 * acquire load of the count makes it report), the contents check that
 * nobody ever saw another holder's writes.
 */
#define COW_THREADS 8
#define COW_GENERATIONS 100
#define COW_ROUNDS 20
#define COW_WORDS 64
#define COW_LEN (4 * COW_WORDS)

typedef struct {
	pthread_barrier_t ready; /* the original is there to dup */
	pthread_barrier_t dupd;  /* every thread holds its copy */
	spry_msg         *orig;  /* written by the test thread before ready */
} cow_shared;

typedef struct {
	pthread_t   thr;
	cow_shared *sh;
	uint8_t     id;
	int         rv;  /* first failed call, or 0 */
	bool        bad; /* saw bytes it did not expect */
} cow_arg;

/* Whether m's body is COW_LEN bytes of id then the words id:0..n-1. */
static bool
cow_check(spry_msg *m, uint8_t id, uint32_t n)
{
	const uint8_t *p = spry_msg_body(m);

	if (p == NULL || spry_msg_len(m) != COW_LEN + 4 * (size_t)n) {
		return false;
	}
	for (size_t i = 0; i < COW_LEN; i++) {
		if (p[i] != id) {
			return false;
		}
	}
	for (uint32_t w = 0; w < n; w++) {
		const uint8_t *q = p + COW_LEN + 4 * w;

		if (q[0] != id || q[1] != 0 || q[2] != 0 || q[3] != w) {
			return false;
		}
	}
	return true;
}

/* A reader: every word of the original, read off the front, then free. */
static int
cow_read(cow_arg *a, spry_msg *mine)
{
	uint32_t v;
	int      rv;

	for (uint32_t w = 0; w < COW_WORDS; w++) {
		if ((rv = spry_msg_trim_u32(mine, &v)) != 0) {
			return rv;
		}
		a->bad |= v != w;
	}
	if ((rv = spry_msg_header_chop_u32(mine, &v)) == 0) {
		a->bad |= v != 0x80000001;
	}
	return rv;
}

/* A writer: overwrite, then rounds of snapshot, write and check both. */
static int
cow_write(cow_arg *a, spry_msg *mine)
{
	uint8_t *p = spry_msg_body(mine);
	int      rv;

	if (p == NULL || spry_msg_len(mine) != COW_LEN) {
		return SPRY_EINTERNAL;
	}
	for (uint32_t w = 0; w < COW_WORDS; w++) {
		a->bad |= p[4 * w + 3] != w;
	}
	/*
	 * A length known only at run time: gcc expands a constant-size
	 * memset inline, where TSan does not see the writes.
	 */
	memset(p, a->id, spry_msg_len(mine));
	for (uint32_t r = 0; r < COW_ROUNDS; r++) {
		spry_msg *snap;

		if ((rv = spry_msg_dup(&snap, mine)) != 0) {
			return rv;
		}
		rv = spry_msg_append_u32(mine, (uint32_t)a->id << 24 | r);
		a->bad |= !cow_check(snap, a->id, r);
		spry_msg_free(snap);
		if (rv != 0) {
			return rv;
		}
	}
	a->bad |= !cow_check(mine, a->id, COW_ROUNDS);
	return 0;
}

static void *
cow_main(void *arg)
{
	cow_arg *a = arg;

	for (int g = 0; g < COW_GENERATIONS; g++) {
		spry_msg *mine = NULL;
		int       rv;

		pthread_barrier_wait(&a->sh->ready);
		rv = spry_msg_dup(&mine, a->sh->orig);
		pthread_barrier_wait(&a->sh->dupd); /* the original goes now */
		if (rv == 0) {
			rv = a->id % 2 == 0 ? cow_read(a, mine) :
			                      cow_write(a, mine);
		}
		if (a->rv == 0) {
			a->rv = rv;
		}
		spry_msg_free(mine);
	}
	return NULL;
}

/* The message of one generation: COW_WORDS words 0, 1, ... and a header. */
static spry_msg *
cow_original(void)
{
	spry_msg *m;

	spry_test_check(spry_msg_alloc(&m, 0), 0);
	for (uint32_t w = 0; w < COW_WORDS; w++) {
		spry_test_check(spry_msg_append_u32(m, w), 0);
	}
	spry_test_check(spry_msg_header_append_u32(m, 0x80000001), 0);
	return m;
}

static void
test_threads_writing_their_own_copies_never_see_each_other(void **state)
{
	cow_arg    args[COW_THREADS];
	cow_shared sh;

	(void)state;
	assert_int_equal(
	    pthread_barrier_init(&sh.ready, NULL, COW_THREADS + 1), 0);
	assert_int_equal(
	    pthread_barrier_init(&sh.dupd, NULL, COW_THREADS + 1), 0);
	for (int i = 0; i < COW_THREADS; i++) {
		args[i] = (cow_arg){.sh = &sh, .id = (uint8_t)(i + 1)};
		assert_int_equal(
		    pthread_create(&args[i].thr, NULL, cow_main, &args[i]), 0);
	}
	for (int g = 0; g < COW_GENERATIONS; g++) {
		sh.orig = cow_original();
		pthread_barrier_wait(&sh.ready);
		pthread_barrier_wait(&sh.dupd);
		spry_msg_free(sh.orig);
	}
	for (int i = 0; i < COW_THREADS; i++) {
		assert_int_equal(pthread_join(args[i].thr, NULL), 0);
		spry_test_check(args[i].rv, 0);
		assert_false(args[i].bad);
	}
	pthread_barrier_destroy(&sh.ready);
	pthread_barrier_destroy(&sh.dupd);
	spry_test_assert_clean();
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(
	        test_alloc_gives_a_zeroed_body_and_an_empty_header),
	    cmocka_unit_test(test_body_can_be_filled_through_its_pointer),
	    cmocka_unit_test(test_append_and_prepend_add_bytes_at_each_end),
	    cmocka_unit_test(
	        test_many_appends_grow_the_body_and_keep_every_byte),
	    cmocka_unit_test(
	        test_prepend_within_the_headroom_does_not_allocate),
	    cmocka_unit_test(test_prepend_beyond_the_headroom_grows_the_front),
	    cmocka_unit_test(
	        test_bytes_from_the_message_itself_can_be_added_to_it),
	    cmocka_unit_test(test_trim_and_chop_remove_bytes_from_each_end),
	    cmocka_unit_test(
	        test_trim_or_chop_of_exactly_the_length_empties_the_body),
	    cmocka_unit_test(
	        test_trim_or_chop_past_the_length_fails_and_changes_nothing),
	    cmocka_unit_test(
	        test_zero_length_operations_succeed_and_change_nothing),
	    cmocka_unit_test(
	        test_clear_empties_and_keeps_the_storage_for_reuse),
	    cmocka_unit_test(
	        test_realloc_shrinks_from_the_end_and_grows_with_zero_bytes),
	    cmocka_unit_test(test_u32_helpers_write_big_endian_and_round_trip),
	    cmocka_unit_test(test_header_operations_mirror_the_body_ones),
	    cmocka_unit_test(test_header_and_body_change_independently),
	    cmocka_unit_test(
	        test_sizes_past_the_limit_give_enomem_and_change_nothing),
	    cmocka_unit_test(test_null_arguments_give_einval),
	    cmocka_unit_test(test_metadata_starts_empty_and_keeps_what_is_set),
	    cmocka_unit_test(
	        test_dup_gives_an_equal_message_with_its_own_metadata),
	    cmocka_unit_test(
	        test_dup_shares_the_bytes_until_one_holder_writes),
	    cmocka_unit_test(
	        test_writing_to_a_copy_leaves_the_original_unchanged),
	    cmocka_unit_test(
	        test_writing_to_the_original_leaves_the_copy_unchanged),
	    cmocka_unit_test(test_trim_and_chop_of_shared_bytes_do_not_copy),
	    cmocka_unit_test(test_clear_of_a_shared_body_lets_it_go),
	    cmocka_unit_test(test_copies_can_be_freed_in_either_order),
	    cmocka_unit_test(test_the_last_holder_writes_in_place),
	    cmocka_unit_test(
	        test_threads_writing_their_own_copies_never_see_each_other),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
