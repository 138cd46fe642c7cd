/* SPDX-License-Identifier: MIT */
/*
 * tests/fuzz/fuzz_url.c: libFuzzer harness for the URL parser
 * (sp/url.h). Any bytes are made into a C string (cut at the first NUL,
 * as a caller's string would be) and parsed. The parse must give 0 or a
 * code a user can cause, never crash or leak. A URL that parses must
 * have fields within the documented limits; its canonical form must fit
 * SPRY__URL_FORMAT_SIZE, parse back to the same fields and format the
 * same again; a buffer one byte short must give SPRY_ENOSPC; and for
 * tcp, a new port must survive formatting and parsing. A broken
 * invariant prints the input and aborts, which libFuzzer reports.
 *
 * Built two ways (tests/fuzz/meson.build): with -fsanitize=fuzzer as
 * the fuzzer itself, and with replay.c as a test that runs the seeds.
 */
#include "mailbox/alloc.h"
#include "sp/url.h"
#include "spry/error.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/un.h>

/* The longest ipc path: what sun_path holds before its NUL. */
#define FUZZ_IPC_MAXLEN (sizeof(((struct sockaddr_un *)0)->sun_path) - 1)

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* The input being checked, for the report of a broken invariant. */
static const char *fuzz_input;

static void
fuzz_fail(const char *what, int line)
{
	fprintf(stderr, "fuzz_url.c:%d: invariant broken: %s\ninput: \"%s\"\n",
	    line, what, fuzz_input);
	abort();
}

/* Abort unless cond holds; the message names the condition. */
#define FUZZ_CHECK(cond)                                                      \
	do {                                                                  \
		if (!(cond)) {                                                \
			fuzz_fail(#cond, __LINE__);                           \
		}                                                             \
	} while (0)

static bool
fuzz_same_str(const char *a, const char *b)
{
	return (a == NULL && b == NULL) ||
	    (a != NULL && b != NULL && strcmp(a, b) == 0);
}

/* The fields of u, checked against the string s it was parsed from. */
static void
fuzz_check_fields(const spry__url *u, const char *s)
{
	FUZZ_CHECK(spry__url_scheme_name(u->scheme) != NULL);
	FUZZ_CHECK(strcmp(u->raw, s) == 0);
	FUZZ_CHECK(strlen(u->raw) <= SPRY__URL_MAXLEN);
	if (spry__url_is_tcp(u->scheme)) {
		FUZZ_CHECK(u->host != NULL && u->path == NULL);
		FUZZ_CHECK(strlen(u->host) <= SPRY__URL_HOST_MAXLEN);
		FUZZ_CHECK(
		    strpbrk(u->host, "ABCDEFGHIJKLMNOPQRSTUVWXYZ") == NULL);
		FUZZ_CHECK(strpbrk(u->host, "[]/?#@ ") == NULL);
		FUZZ_CHECK(strcmp(u->host, "*") != 0);
	} else {
		FUZZ_CHECK(u->host == NULL && u->path != NULL);
		FUZZ_CHECK(u->path[0] != '\0' && u->port == 0);
		/* The name or path is the input after "://", verbatim. */
		FUZZ_CHECK(strstr(s, "://") + 3 == s + (u->path - u->raw));
		FUZZ_CHECK(u->scheme != SPRY__URL_IPC ||
		    strlen(u->path) <= FUZZ_IPC_MAXLEN);
	}
}

/* u and v have the same fields. */
static bool
fuzz_same_fields(const spry__url *u, const spry__url *v)
{
	return u->scheme == v->scheme && u->port == v->port &&
	    fuzz_same_str(u->host, v->host) && fuzz_same_str(u->path, v->path);
}

/* Format u, parse that, and check the fields and the second format. */
static void
fuzz_check_round_trip(const spry__url *u)
{
	char       buf[SPRY__URL_FORMAT_SIZE], again[SPRY__URL_FORMAT_SIZE];
	char       small[SPRY__URL_FORMAT_SIZE];
	size_t     n;
	spry__url *v = NULL;

	FUZZ_CHECK(spry__url_format(u, buf, sizeof(buf)) == 0);
	n = strlen(buf);
	FUZZ_CHECK(n > 0 && n <= SPRY__URL_MAXLEN);
	FUZZ_CHECK(spry__url_format(u, small, n) == SPRY_ENOSPC);
	FUZZ_CHECK(strlen(small) == n - 1 && memcmp(small, buf, n - 1) == 0);
	FUZZ_CHECK(spry__url_format(u, small, n + 1) == 0);
	FUZZ_CHECK(strcmp(small, buf) == 0);
	FUZZ_CHECK(spry__url_parse(&v, buf) == 0);
	FUZZ_CHECK(fuzz_same_fields(u, v));
	FUZZ_CHECK(strcmp(v->raw, buf) == 0);
	FUZZ_CHECK(spry__url_format(v, again, sizeof(again)) == 0);
	FUZZ_CHECK(strcmp(again, buf) == 0);
	spry__url_free(v);
}

/* Give a tcp URL port p and check it survives format and parse. */
static void
fuzz_check_set_port(spry__url *u, uint16_t p)
{
	char       buf[SPRY__URL_FORMAT_SIZE];
	spry__url *v = NULL;

	if (!spry__url_is_tcp(u->scheme)) {
		FUZZ_CHECK(spry__url_set_port(u, p) == SPRY_EINVAL);
		FUZZ_CHECK(u->port == 0);
		return;
	}
	FUZZ_CHECK(spry__url_set_port(u, p) == 0 && u->port == p);
	FUZZ_CHECK(spry__url_format(u, buf, sizeof(buf)) == 0);
	FUZZ_CHECK(spry__url_parse(&v, buf) == 0);
	FUZZ_CHECK(fuzz_same_fields(u, v));
	spry__url_free(v);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	int64_t    live = spry__alloc_live();
	char      *s    = malloc(size + 1);
	spry__url *u    = NULL;
	int        rv;

	if (s == NULL) {
		return 0;
	}
	memcpy(s, data, size);
	s[size]    = '\0';
	fuzz_input = s;
	rv         = spry__url_parse(&u, s);
	FUZZ_CHECK(rv == 0 || rv == SPRY_EADDRINVAL || rv == SPRY_ENOTSUP ||
	    rv == SPRY_ENOMEM);
	FUZZ_CHECK((rv == 0) == (u != NULL));
	if (u != NULL) {
		fuzz_check_fields(u, s);
		fuzz_check_round_trip(u);
		fuzz_check_set_port(u, (uint16_t)(size * 40503u + 1));
		fuzz_check_round_trip(u);
		spry__url_free(u);
	}
	FUZZ_CHECK(spry__alloc_live() == live); /* -1 == -1 when not counted */
	fuzz_input = NULL;
	free(s);
	return 0;
}
