/* SPDX-License-Identifier: MIT */
/*
 * tests/sp/test_url.c: the URL parser of sp/url.h on its own. One table
 * lists inputs of every scheme, valid and not, with the code and the
 * fields each must give and, for valid ones, the canonical form; the
 * tests walk it to check parsing, formatting and that the canonical form
 * parses back to the same fields. Then the limits (URL, host and ipc
 * path lengths, each at the limit and one past), ports given by service
 * name, spry__url_set_port, short format buffers and NULL arguments.
 *
 * Allocation failure (SPRY_ENOMEM) is not injected here: the parser
 * allocates once, at the end, and returns at once when that fails.
 * Every test ends by asserting that nothing is left.
 */
#include "tests/support/support.h"

#include "sp/url.h"

#include <netdb.h>
#include <netinet/in.h>
#include <string.h>
#include <sys/un.h>

/* One input and what parsing it must give. */
typedef struct url_case {
	const char      *in;     /* the string parsed */
	int              rv;     /* the code wanted; the rest only if 0 */
	spry__url_scheme scheme; /* the scheme wanted */
	const char      *host;   /* the host wanted, or NULL: none */
	uint16_t         port;   /* the port wanted */
	const char      *path;   /* the name or path wanted, or NULL: none */
	const char      *canon;  /* what spry__url_format must write */
} url_case;

/* Valid: a scheme, then fields and canonical form. */
#define OK_INPROC(in, name, canon)                                            \
	{                                                                     \
		in, 0, SPRY__URL_INPROC, NULL, 0, name, canon                 \
	}
#define OK_IPC(in, path, canon)                                               \
	{                                                                     \
		in, 0, SPRY__URL_IPC, NULL, 0, path, canon                    \
	}
#define OK_TCP(s, in, host, port, canon)                                      \
	{                                                                     \
		in, 0, SPRY__URL_##s, host, port, NULL, canon                 \
	}
/* Refused with code rv. */
#define BAD(in, rv)                                                           \
	{                                                                     \
		in, rv, SPRY__URL_INPROC, NULL, 0, NULL, NULL                 \
	}

static const url_case cases[] = {
    /* inproc: any non-empty name, verbatim. */
    OK_INPROC("inproc://a", "a", "inproc://a"),
    OK_INPROC("inproc://Any Name/x:1?#[]", "Any Name/x:1?#[]",
        "inproc://Any Name/x:1?#[]"),
    OK_INPROC("INPROC://Case", "Case", "inproc://Case"),
    OK_INPROC("inproc:///", "/", "inproc:///"),
    BAD("inproc://", SPRY_EADDRINVAL),
    /* ipc: absolute and relative paths, verbatim. */
    OK_IPC("ipc:///tmp/spry.sock", "/tmp/spry.sock", "ipc:///tmp/spry.sock"),
    OK_IPC("ipc://rel/Spry.sock", "rel/Spry.sock", "ipc://rel/Spry.sock"),
    OK_IPC("Ipc://x", "x", "ipc://x"),
    BAD("ipc://", SPRY_EADDRINVAL),
    /* tcp: hosts. */
    OK_TCP(TCP, "tcp://127.0.0.1:5555", "127.0.0.1", 5555,
        "tcp://127.0.0.1:5555"),
    OK_TCP(TCP, "tcp://Example.COM:80", "example.com", 80,
        "tcp://example.com:80"),
    OK_TCP(TCP, "TCP://localhost:1", "localhost", 1, "tcp://localhost:1"),
    OK_TCP(TCP, "tcp://:5555", "", 5555, "tcp://:5555"),
    OK_TCP(TCP, "tcp://*:5555", "", 5555, "tcp://:5555"),
    OK_TCP(TCP, "tcp://[*]:5555", "", 5555, "tcp://:5555"), /* fuzz */
    OK_TCP(TCP, "tcp://[::1]:5555", "::1", 5555, "tcp://[::1]:5555"),
    OK_TCP(TCP, "tcp://[FE80::1%25eth0]:7", "fe80::1%25eth0", 7,
        "tcp://[fe80::1%25eth0]:7"),
    OK_TCP(TCP, "tcp://[127.0.0.1]:9", "127.0.0.1", 9, "tcp://127.0.0.1:9"),
    OK_TCP(TCP, "tcp://h-1.example:80/", "h-1.example", 80,
        "tcp://h-1.example:80"),
    BAD("tcp://[]:80", SPRY_EADDRINVAL),
    BAD("tcp://[::1:80", SPRY_EADDRINVAL),
    BAD("tcp://::1]:80", SPRY_EADDRINVAL),
    BAD("tcp://::1:80", SPRY_EADDRINVAL),
    BAD("tcp://[[::1]]:80", SPRY_EADDRINVAL),
    BAD("tcp://[::1]]:80", SPRY_EADDRINVAL),
    BAD("tcp://[::1]x:80", SPRY_EADDRINVAL),
    BAD("tcp://a]:80", SPRY_EADDRINVAL),
    BAD("tcp://user@h:80", SPRY_EADDRINVAL),
    BAD("tcp://h h:80", SPRY_EADDRINVAL),
    BAD("tcp://h\t:80", SPRY_EADDRINVAL),
    BAD("tcp://h?:80", SPRY_EADDRINVAL),
    BAD("tcp://h#:80", SPRY_EADDRINVAL),
    /* tcp: ports. */
    OK_TCP(TCP, "tcp://h:0", "h", 0, "tcp://h:0"),
    OK_TCP(TCP, "tcp://h:65535", "h", 65535, "tcp://h:65535"),
    OK_TCP(TCP, "tcp://h:00080", "h", 80, "tcp://h:80"),
    BAD("tcp://h", SPRY_EADDRINVAL),
    BAD("tcp://h:", SPRY_EADDRINVAL),
    BAD("tcp://h/", SPRY_EADDRINVAL),
    BAD("tcp://h:/", SPRY_EADDRINVAL),
    BAD("tcp://[::1]", SPRY_EADDRINVAL),
    BAD("tcp://[::1]:", SPRY_EADDRINVAL),
    BAD("tcp://", SPRY_EADDRINVAL),
    BAD("tcp://h:65536", SPRY_EADDRINVAL),
    BAD("tcp://h:99999999999999999999", SPRY_EADDRINVAL),
    BAD("tcp://h:-1", SPRY_EADDRINVAL),
    BAD("tcp://h:+5", SPRY_EADDRINVAL),
    BAD("tcp://h:0x50", SPRY_EADDRINVAL),
    BAD("tcp://h: 80", SPRY_EADDRINVAL),
    BAD("tcp://h:80 ", SPRY_EADDRINVAL),
    BAD("tcp://h:80:81", SPRY_EADDRINVAL),
    BAD("tcp://h:no-such-service-spry", SPRY_EADDRINVAL),
    BAD("tcp://h:serv_name", SPRY_EADDRINVAL),
    /* tcp: nothing may follow the port but a lone "/". */
    BAD("tcp://h:80/x", SPRY_EADDRINVAL),
    BAD("tcp://h:80//", SPRY_EADDRINVAL),
    BAD("tcp://h:80?q=1", SPRY_EADDRINVAL),
    BAD("tcp://h:80#f", SPRY_EADDRINVAL),
    /* tcp4, tcp6: the same syntax; families are the resolver's. */
    OK_TCP(TCP4, "tcp4://1.2.3.4:1", "1.2.3.4", 1, "tcp4://1.2.3.4:1"),
    OK_TCP(TCP4, "tcp4://*:2", "", 2, "tcp4://:2"),
    OK_TCP(TCP6, "tcp6://[::]:3", "::", 3, "tcp6://[::]:3"),
    OK_TCP(TCP6, "Tcp6://Host:4", "host", 4, "tcp6://host:4"),
    BAD("tcp6://[::1]", SPRY_EADDRINVAL),
    BAD("tcp4://h:x", SPRY_EADDRINVAL),
    /* Malformed: no scheme, bad scheme or no "://". */
    BAD("", SPRY_EADDRINVAL),
    BAD("inproc", SPRY_EADDRINVAL),
    BAD("inproc:a", SPRY_EADDRINVAL),
    BAD("inproc:/a", SPRY_EADDRINVAL),
    BAD("tcp:h:80", SPRY_EADDRINVAL),
    BAD("://a", SPRY_EADDRINVAL),
    BAD("1tcp://h:80", SPRY_EADDRINVAL),
    BAD("t cp://h:80", SPRY_EADDRINVAL),
    BAD(" tcp://h:80", SPRY_EADDRINVAL),
    BAD("h:80", SPRY_EADDRINVAL),
    /* Well formed, but not a scheme of ours. */
    BAD("ws://h:80/x", SPRY_ENOTSUP),
    BAD("wss://h:443/x", SPRY_ENOTSUP),
    BAD("tls+tcp://h:80", SPRY_ENOTSUP),
    BAD("unix:///tmp/s", SPRY_ENOTSUP),
    BAD("abstract://a", SPRY_ENOTSUP),
    BAD("zt://a", SPRY_ENOTSUP),
    BAD("udp://h:80", SPRY_ENOTSUP),
    BAD("tcp5://h:80", SPRY_ENOTSUP),
    BAD("tc://h:80", SPRY_ENOTSUP),
    BAD("tcpx://h:80", SPRY_ENOTSUP),
    BAD("inprocx://a", SPRY_ENOTSUP),
    BAD("x-y.z+w://a", SPRY_ENOTSUP),
};

#define N_CASES (sizeof(cases) / sizeof(cases[0]))

/* Compares two possibly NULL strings, naming the input on failure. */
static void
assert_str(const char *in, const char *what, const char *got, const char *want)
{
	if (got == NULL || want == NULL) {
		if (got != want) {
			fail_msg("%s: %s is %s, want %s", in, what,
			    got ? got : "NULL", want ? want : "NULL");
		}
	} else if (strcmp(got, want) != 0) {
		fail_msg("%s: %s is \"%s\", want \"%s\"", in, what, got, want);
	}
}

/* Fails unless u has exactly the fields of c (c->in names it). */
static void
assert_fields(const spry__url *u, const url_case *c)
{
	if (u->scheme != c->scheme || u->port != c->port) {
		fail_msg("%s: scheme %d port %u, want scheme %d port %u",
		    c->in, (int)u->scheme, (unsigned)u->port, (int)c->scheme,
		    (unsigned)c->port);
	}
	assert_str(c->in, "host", u->host, c->host);
	assert_str(c->in, "path", u->path, c->path);
}

/* Parses s, which must succeed, and returns the URL. */
static spry__url *
parse_ok(const char *s)
{
	spry__url *u = NULL;
	int        rv;

	if ((rv = spry__url_parse(&u, s)) != 0) {
		fail_msg("parse(\"%s\") = %d (%s), want 0", s, rv,
		    spry_strerror(rv));
	}
	return u;
}

/* Parses s and returns the code; a URL made on success is freed. */
static int
parse_rv(const char *s)
{
	spry__url *u  = NULL;
	int        rv = spry__url_parse(&u, s);

	spry__url_free(u);
	return rv;
}

/* prefix, n copies of c, then suffix; test_free() it. */
static char *
make_string(const char *prefix, char c, size_t n, const char *suffix)
{
	size_t pl = strlen(prefix), sl = strlen(suffix);
	char  *s = test_malloc(pl + n + sl + 1);

	memcpy(s, prefix, pl);
	memset(s + pl, c, n);
	memcpy(s + pl + n, suffix, sl + 1);
	return s;
}

static void
test_table_cases_parse_to_the_listed_code_and_fields(void **state)
{
	(void)state;
	for (size_t i = 0; i < N_CASES; i++) {
		const url_case *c = &cases[i];
		spry__url      *u = NULL;
		int             rv;

		if ((rv = spry__url_parse(&u, c->in)) != c->rv) {
			fail_msg("parse(\"%s\") = %d (%s), want %d (%s)",
			    c->in, rv, spry_strerror(rv), c->rv,
			    spry_strerror(c->rv));
		}
		if (rv == 0) {
			assert_fields(u, c);
			assert_str(c->in, "raw", u->raw, c->in);
			spry__url_free(u);
		} else {
			assert_null(u);
		}
	}
	spry_test_assert_clean();
}

static void
test_format_gives_the_canonical_form(void **state)
{
	char buf[SPRY__URL_FORMAT_SIZE];

	(void)state;
	for (size_t i = 0; i < N_CASES; i++) {
		spry__url *u;

		if (cases[i].rv != 0) {
			continue;
		}
		u = parse_ok(cases[i].in);
		spry_test_check(spry__url_format(u, buf, sizeof(buf)), 0);
		assert_str(cases[i].in, "format", buf, cases[i].canon);
		spry__url_free(u);
	}
	spry_test_assert_clean();
}

static void
test_canonical_form_parses_back_to_the_same_fields(void **state)
{
	char buf[SPRY__URL_FORMAT_SIZE], again[SPRY__URL_FORMAT_SIZE];

	(void)state;
	for (size_t i = 0; i < N_CASES; i++) {
		url_case   c = cases[i];
		spry__url *u, *v;

		if (c.rv != 0) {
			continue;
		}
		u = parse_ok(c.in);
		spry_test_check(spry__url_format(u, buf, sizeof(buf)), 0);
		v    = parse_ok(buf);
		c.in = buf;
		assert_fields(v, &c);
		spry_test_check(spry__url_format(v, again, sizeof(again)), 0);
		assert_str(buf, "format again", again, buf);
		spry__url_free(v);
		spry__url_free(u);
	}
	spry_test_assert_clean();
}

static void
test_urls_up_to_the_length_limit_parse_and_longer_ones_do_not(void **state)
{
	size_t n = SPRY__URL_MAXLEN - strlen("inproc://");
	char  *at, *past;

	(void)state;
	at   = make_string("inproc://", 'a', n, "");
	past = make_string("inproc://", 'a', n + 1, "");
	spry_test_check(parse_rv(at), 0);
	spry_test_check(parse_rv(past), SPRY_EADDRINVAL);
	test_free(at);
	test_free(past);
	/* Far past the limit: refused without reading it all. */
	past = make_string("tcp://", 'a', 100000, ":80");
	spry_test_check(parse_rv(past), SPRY_EADDRINVAL);
	test_free(past);
	spry_test_assert_clean();
}

static void
test_hosts_up_to_255_bytes_parse_and_longer_ones_do_not(void **state)
{
	char      *at, *past, *v6;
	spry__url *u;

	(void)state;
	at   = make_string("tcp://", 'h', SPRY__URL_HOST_MAXLEN, ":1");
	past = make_string("tcp://", 'h', SPRY__URL_HOST_MAXLEN + 1, ":1");
	v6   = make_string("tcp://[", ':', SPRY__URL_HOST_MAXLEN + 1, "]:1");
	u    = parse_ok(at);
	assert_int_equal(strlen(u->host), SPRY__URL_HOST_MAXLEN);
	spry__url_free(u);
	spry_test_check(parse_rv(past), SPRY_EADDRINVAL);
	spry_test_check(parse_rv(v6), SPRY_EADDRINVAL);
	test_free(at);
	test_free(past);
	test_free(v6);
	spry_test_assert_clean();
}

static void
test_ipc_paths_must_fit_a_unix_socket_address(void **state)
{
	/* What sun_path holds before its NUL: 107 bytes on Linux. */
	size_t     max = sizeof(((struct sockaddr_un *)0)->sun_path) - 1;
	char      *at, *past;
	spry__url *u;

	(void)state;
	at   = make_string("ipc:///", 'p', max - 1, ""); /* with the "/" */
	past = make_string("ipc:///", 'p', max, "");
	u    = parse_ok(at);
	assert_int_equal(strlen(u->path), max);
	spry__url_free(u);
	spry_test_check(parse_rv(past), SPRY_EADDRINVAL);
	test_free(at);
	test_free(past);
	spry_test_assert_clean();
}

static void
test_ports_may_be_service_names_as_in_nng(void **state)
{
	struct servent *se = getservbyname("http", "tcp");
	spry__url      *u;
	char            buf[SPRY__URL_FORMAT_SIZE];

	(void)state;
	if (se == NULL || ntohs((uint16_t)se->s_port) != 80) {
		skip(); /* no services database here */
	}
	u = parse_ok("tcp://h:http");
	assert_int_equal(u->port, 80);
	spry_test_check(spry__url_format(u, buf, sizeof(buf)), 0);
	assert_string_equal(buf, "tcp://h:80");
	spry__url_free(u);
	u = parse_ok("tcp6://[::1]:HTTP"); /* case-insensitive, as NNG */
	assert_int_equal(u->port, 80);
	spry__url_free(u);
	spry_test_assert_clean();
}

static void
test_set_port_changes_what_format_writes_but_not_raw(void **state)
{
	spry__url *u;
	char       buf[SPRY__URL_FORMAT_SIZE];

	(void)state;
	u = parse_ok("tcp://127.0.0.1:0");
	spry_test_check(spry__url_set_port(u, 43211), 0);
	assert_int_equal(u->port, 43211);
	spry_test_check(spry__url_format(u, buf, sizeof(buf)), 0);
	assert_string_equal(buf, "tcp://127.0.0.1:43211");
	assert_string_equal(u->raw, "tcp://127.0.0.1:0");
	spry__url_free(u);

	u = parse_ok("tcp6://[::1]:0");
	spry_test_check(spry__url_set_port(u, 65535), 0);
	spry_test_check(spry__url_format(u, buf, sizeof(buf)), 0);
	assert_string_equal(buf, "tcp6://[::1]:65535");
	spry__url_free(u);

	u = parse_ok("inproc://p");
	spry_test_check(spry__url_set_port(u, 1), SPRY_EINVAL);
	assert_int_equal(u->port, 0);
	spry__url_free(u);
	spry_test_assert_clean();
}

static void
test_format_into_a_short_buffer_gives_enospc_and_a_prefix(void **state)
{
	const char *want = "tcp://[::1]:5555";
	size_t      n    = strlen(want);
	spry__url  *u;
	char        buf[64];

	(void)state;
	u = parse_ok(want);
	spry_test_check(spry__url_format(u, buf, n + 1), 0);
	assert_string_equal(buf, want);
	spry_test_check(spry__url_format(u, buf, n), SPRY_ENOSPC);
	assert_int_equal(strlen(buf), n - 1);
	assert_memory_equal(buf, want, n - 1);
	spry_test_check(spry__url_format(u, buf, 1), SPRY_ENOSPC);
	assert_string_equal(buf, "");
	spry_test_check(spry__url_format(u, buf, 0), SPRY_ENOSPC);
	spry__url_free(u);
	spry_test_assert_clean();
}

static void
test_a_failed_parse_leaves_out_alone(void **state)
{
	spry__url *u = (spry__url *)&u; /* any value that is not NULL */

	(void)state;
	spry_test_check(spry__url_parse(&u, "tcp://h"), SPRY_EADDRINVAL);
	assert_ptr_equal(u, (spry__url *)&u);
	spry_test_check(spry__url_parse(&u, "ws://h:1"), SPRY_ENOTSUP);
	assert_ptr_equal(u, (spry__url *)&u);
	spry_test_assert_clean();
}

static void
test_null_arguments_give_einval(void **state)
{
	spry__url *u = NULL;
	char       buf[16];

	(void)state;
	spry_test_check(spry__url_parse(NULL, "inproc://a"), SPRY_EINVAL);
	spry_test_check(spry__url_parse(&u, NULL), SPRY_EINVAL);
	assert_null(u);
	spry_test_check(spry__url_format(NULL, buf, sizeof(buf)), SPRY_EINVAL);
	spry_test_check(spry__url_set_port(NULL, 1), SPRY_EINVAL);
	u = parse_ok("inproc://a");
	spry_test_check(spry__url_format(u, NULL, 16), SPRY_EINVAL);
	spry__url_free(u);
	spry__url_free(NULL);
	spry_test_assert_clean();
}

static void
test_scheme_names_are_lower_case_and_unknown_ones_null(void **state)
{
	(void)state;
	assert_string_equal(spry__url_scheme_name(SPRY__URL_INPROC), "inproc");
	assert_string_equal(spry__url_scheme_name(SPRY__URL_IPC), "ipc");
	assert_string_equal(spry__url_scheme_name(SPRY__URL_TCP), "tcp");
	assert_string_equal(spry__url_scheme_name(SPRY__URL_TCP4), "tcp4");
	assert_string_equal(spry__url_scheme_name(SPRY__URL_TCP6), "tcp6");
	assert_null(spry__url_scheme_name((spry__url_scheme)99));
	assert_true(spry__url_is_tcp(SPRY__URL_TCP6));
	assert_false(spry__url_is_tcp(SPRY__URL_IPC));
	spry_test_assert_clean();
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(
	        test_table_cases_parse_to_the_listed_code_and_fields),
	    cmocka_unit_test(test_format_gives_the_canonical_form),
	    cmocka_unit_test(
	        test_canonical_form_parses_back_to_the_same_fields),
	    cmocka_unit_test(
	        test_urls_up_to_the_length_limit_parse_and_longer_ones_do_not),
	    cmocka_unit_test(
	        test_hosts_up_to_255_bytes_parse_and_longer_ones_do_not),
	    cmocka_unit_test(test_ipc_paths_must_fit_a_unix_socket_address),
	    cmocka_unit_test(test_ports_may_be_service_names_as_in_nng),
	    cmocka_unit_test(
	        test_set_port_changes_what_format_writes_but_not_raw),
	    cmocka_unit_test(
	        test_format_into_a_short_buffer_gives_enospc_and_a_prefix),
	    cmocka_unit_test(test_a_failed_parse_leaves_out_alone),
	    cmocka_unit_test(test_null_arguments_give_einval),
	    cmocka_unit_test(
	        test_scheme_names_are_lower_case_and_unknown_ones_null),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
