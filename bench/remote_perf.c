/* SPDX-License-Identifier: MIT */
/*
 * bench/remote_perf.c: NNG's remote performance tools, one end per run,
 * for spry, ZeroMQ, NNG or nanomsg (bench/perf_ends.h says what each end
 * does):
 *
 *	remote_perf [--lib LIB] [--buf N] local_lat  <url> <msg-size> <count>
 *	remote_perf [--lib LIB] [--buf N] remote_lat <url> <msg-size> <count>
 *	remote_perf [--lib LIB] [--buf N] local_thr  <url> <msg-size> <count>
 *	remote_perf [--lib LIB] [--buf N] remote_thr <url> <msg-size> <count>
 *
 * LIB is spry (the default), zmq, nng or nanomsg; N the queue depth in
 * messages (default 1000, ZeroMQ's high-water mark; 0 keeps every
 * library's defaults). Start the local end first, then the remote one
 * with the same url, size and count, e.g. in two shells:
 *
 *	remote_perf local_thr tcp://127.0.0.1:5555 64 1000000
 *	remote_perf remote_thr tcp://127.0.0.1:5555 64 1000000
 *
 * A local end prints `# listening <url>` once it listens (bench/tcp_perf
 * waits for that line before it starts the remote end). The measuring end
 * prints one line:
 *
 *	remote_lat lib=<lib> url=<url> size=<n> count=<n> value=<ns> unit=ns
 *	local_thr lib=<lib> url=<url> size=<n> count=<n> value=<msg/s>
 *	    unit=msg/s mbs=<MB/s>
 *
 * (the second on one line; MB is 10^6 bytes). Exits 1 when a message was
 * wrong or a library call failed, 2 on a bad command line.
 */
#include "bench.h"
#include "perf_ends.h"

#include <spry/spry.h>

/* rp_usage prints the usage on f. */
static void
rp_usage(FILE *f)
{
	fprintf(f,
	    "usage: remote_perf [--lib spry|zmq|nng|nanomsg] [--buf N] "
	    "local_lat|remote_lat|local_thr|remote_thr <url> "
	    "<msg-size> <count>\n");
}

/* rp_ready: the local end listens; tell whoever reads our output. */
static void
rp_ready(void *arg)
{
	printf("# listening %s\n", (const char *)arg);
	fflush(stdout);
}

/* rp_number parses a positive decimal argument, or exits 2. */
static uint64_t
rp_number(const char *s, uint64_t min)
{
	char              *end;
	unsigned long long v;

	errno = 0;
	v     = strtoull(s, &end, 10);
	if (errno != 0 || end == s || *end != '\0' || v < min) {
		rp_usage(stderr);
		exit(2);
	}
	return v;
}

/*
 * rp_args parses the command line into *a and returns the end to run
 * (setting *lib), or exits: 0 after --help, 2 on a bad command line.
 */
static int
rp_args(int argc, char **argv, perf_args *a, const perf_lib **lib)
{
	int i = 1, role;

	if (argc == 2 &&
	    (strcmp(argv[1], "-h") == 0 || strcmp(argv[1], "--help") == 0)) {
		rp_usage(stdout);
		exit(0);
	}
	for (; i + 1 < argc && strncmp(argv[i], "--", 2) == 0; i += 2) {
		if (strcmp(argv[i], "--lib") == 0)
			*lib = perf_lib_find(argv[i + 1]);
		else if (strcmp(argv[i], "--buf") == 0)
			a->buf = (int)rp_number(argv[i + 1], 0);
		else
			*lib = NULL;
		if (*lib == NULL)
			break;
	}
	if (*lib == NULL || argc - i != 4 ||
	    (role = perf_role_find(argv[i])) < 0) {
		rp_usage(stderr);
		exit(2);
	}
	a->url   = argv[i + 1];
	a->size  = rp_number(argv[i + 2], 1);
	a->count = rp_number(argv[i + 3], 2);
	return role;
}

/* rp_print prints the measuring end's line (see the top of the file). */
static void
rp_print(int role, const perf_lib *lib, const perf_args *a, double v)
{
	if (role == PERF_REMOTE_LAT) {
		printf("remote_lat lib=%s url=%s size=%zu count=%llu "
		       "value=%.2f unit=ns\n",
		    lib->name, a->url, a->size, (unsigned long long)a->count,
		    v);
	} else if (role == PERF_LOCAL_THR) {
		printf("local_thr lib=%s url=%s size=%zu count=%llu "
		       "value=%.2f unit=msg/s mbs=%.2f\n",
		    lib->name, a->url, a->size, (unsigned long long)a->count,
		    v, v * (double)a->size / 1e6);
	}
}

int
main(int argc, char **argv)
{
	const perf_lib *lib = perf_lib_find("spry");
	perf_args       a   = {.buf = PERF_DEFAULT_BUF};
	double          v   = 0;
	int             role, rc;

	role        = rp_args(argc, argv, &a, &lib);
	a.ready_cb  = rp_ready;
	a.ready_arg = (void *)a.url;
	rc          = lib->ends[role](&a, &v);
	if (rc == 0)
		rp_print(role, lib, &a, v);
	if (strcmp(lib->name, "spry") == 0)
		spry_runtime_stop();
	return rc == 0 ? 0 : 1;
}
