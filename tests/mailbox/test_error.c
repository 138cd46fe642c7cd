/* SPDX-License-Identifier: MIT */
/*
 * tests/mailbox/test_error.c: the error table. Walks every spry_err value
 * declared in spry/error.h: each has its own constant message, and any
 * other value, however odd, gives "Unknown error" (never NULL, never a
 * formatted buffer).
 */
#include "tests/support/support.h"

#include <limits.h>
#include <string.h>

/* Every value of enum spry_err, in the order spry/error.h declares them. */
static const int all_errors[] = {
    SPRY_OK,
    SPRY_EINTR,
    SPRY_ENOMEM,
    SPRY_EINVAL,
    SPRY_EBUSY,
    SPRY_ETIMEDOUT,
    SPRY_ECONNREFUSED,
    SPRY_ECLOSED,
    SPRY_EAGAIN,
    SPRY_ENOTSUP,
    SPRY_EADDRINUSE,
    SPRY_ESTATE,
    SPRY_ENOENT,
    SPRY_EPROTO,
    SPRY_EUNREACHABLE,
    SPRY_EADDRINVAL,
    SPRY_EPERM,
    SPRY_EMSGSIZE,
    SPRY_ECONNABORTED,
    SPRY_ECONNRESET,
    SPRY_ECANCELED,
    SPRY_ENOFILES,
    SPRY_ENOSPC,
    SPRY_EEXIST,
    SPRY_EREADONLY,
    SPRY_EWRITEONLY,
    SPRY_EBADTYPE,
    SPRY_ERESTARTS,
    SPRY_EINTERNAL,
};

#define N_ERRORS (sizeof(all_errors) / sizeof(all_errors[0]))

static const char unknown[] = "Unknown error";

static bool
is_known(int err)
{
	for (size_t i = 0; i < N_ERRORS; i++) {
		if (all_errors[i] == err) {
			return true;
		}
	}
	return false;
}

static void
test_every_error_has_its_own_message(void **state)
{
	(void)state;
	for (size_t i = 0; i < N_ERRORS; i++) {
		const char *msg = spry_strerror(all_errors[i]);

		assert_non_null(msg);
		assert_true(strlen(msg) > 0);
		if (strcmp(msg, unknown) == 0) {
			fail_msg(
			    "spry_strerror(%d) is \"%s\"", all_errors[i], msg);
		}
	}
}

static void
test_error_messages_are_distinct(void **state)
{
	(void)state;
	for (size_t i = 0; i < N_ERRORS; i++) {
		for (size_t j = i + 1; j < N_ERRORS; j++) {
			const char *a = spry_strerror(all_errors[i]);
			const char *b = spry_strerror(all_errors[j]);

			if (strcmp(a, b) == 0) {
				fail_msg("codes %d and %d share \"%s\"",
				    all_errors[i], all_errors[j], a);
			}
		}
	}
}

static void
test_error_values_are_distinct(void **state)
{
	(void)state;
	for (size_t i = 0; i < N_ERRORS; i++) {
		assert_true(all_errors[i] >= 0);
		for (size_t j = i + 1; j < N_ERRORS; j++) {
			assert_int_not_equal(all_errors[i], all_errors[j]);
		}
	}
}

static void
test_error_messages_are_constant(void **state)
{
	(void)state;
	/* The same pointer every time: nothing is allocated or formatted. */
	for (size_t i = 0; i < N_ERRORS; i++) {
		assert_ptr_equal(spry_strerror(all_errors[i]),
		    spry_strerror(all_errors[i]));
	}
	assert_ptr_equal(spry_strerror(9999), spry_strerror(-1));
}

static void
test_unknown_values_give_unknown_error(void **state)
{
	static const int odd[] = {-1, -2, -1000, INT_MIN, 26, 29, 31, 99, 101,
	    999, 1001, 9999, INT_MAX};

	(void)state;
	for (size_t i = 0; i < sizeof(odd) / sizeof(odd[0]); i++) {
		const char *msg = spry_strerror(odd[i]);

		assert_non_null(msg);
		assert_string_equal(msg, unknown);
	}
}

static void
test_only_declared_values_have_messages(void **state)
{
	size_t known = 0;

	(void)state;
	/*
	 * The table and the enum agree: no code past the ones declared has
	 * a message, so a new code must be added here (and to the table).
	 */
	for (int err = -16; err <= 2000; err++) {
		const char *msg = spry_strerror(err);

		assert_non_null(msg);
		if (strcmp(msg, unknown) != 0) {
			if (!is_known(err)) {
				fail_msg(
				    "undeclared code %d has \"%s\"", err, msg);
			}
			known++;
		}
	}
	assert_int_equal(known, N_ERRORS);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_every_error_has_its_own_message),
	    cmocka_unit_test(test_error_messages_are_distinct),
	    cmocka_unit_test(test_error_values_are_distinct),
	    cmocka_unit_test(test_error_messages_are_constant),
	    cmocka_unit_test(test_unknown_values_give_unknown_error),
	    cmocka_unit_test(test_only_declared_values_have_messages),
	};

	return cmocka_run_group_tests(tests, spry_test_up, spry_test_down);
}
