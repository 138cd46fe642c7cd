/* SPDX-License-Identifier: MIT */
/*
 * bench/bench.h: what every spry benchmark shares: the monotonic clock,
 * option parsing (--quick, --runs, --peer), warm-up plus median of runs
 * (in this process, or each run in a fresh forked process when a figure
 * is about memory or must start cold), RSS readers, and the one function
 * that prints a figure:
 *
 *	name spry=<v> go=<v> unit=<unit> ratio=<spry/go>
 *
 * The Go peer figures are measured by the matching bench/go/<name>.go
 * program; bench/run.sh runs it first and hands its figures to the C
 * program as `--peer name=value`. A figure without a peer value prints
 * go=nan ratio=nan. A goal, when the figure has one, follows as a comment
 * line (`# name goal ...: met` or `missed`); goals never change the exit
 * status. Results that are wrong (a bad sum, a lost message) do: the
 * program prints why on stderr and exits 1.
 *
 * Everything here is static inline: each benchmark is one translation
 * unit, and unused helpers must not warn.
 */
#ifndef SPRY_BENCH_H
#define SPRY_BENCH_H

#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

/* BENCH_RUNS: timed runs per figure (the median is reported). */
#define BENCH_RUNS 5

/* BENCH_MAX_PEERS: how many --peer values a program accepts. */
#define BENCH_MAX_PEERS 16

/* BENCH_MAX_VALUES: how many values one run may measure. */
#define BENCH_MAX_VALUES 4

/* bench_peer: one Go figure given with --peer name=value. */
typedef struct bench_peer {
	char   name[64]; /* figure name */
	double value;    /* the Go value, same unit as ours */
} bench_peer;

/* bench_config: the parsed command line; one per program. */
static struct bench_config {
	bool       quick;                  /* --quick: small sizes, 1 run */
	int        runs;                   /* timed runs per figure */
	int        npeers;                 /* used entries of peers */
	bench_peer peers[BENCH_MAX_PEERS]; /* Go figures */
} bench_cfg;

/*
 * bench_goal: what a figure should reach. A zero field means no bound of
 * that kind: max_ratio bounds spry/go, max_value bounds spry's value.
 */
typedef struct bench_goal {
	double max_ratio; /* spry/go must be <= this; 0: none */
	double max_value; /* spry's value must be <= this; 0: none */
} bench_goal;

/*
 * bench_fn measures one run: it fills vals (as many as the caller asked
 * for, e.g. ns per operation, or ms and MB) and returns 0, or non-zero
 * when the run produced a wrong result (after saying why on stderr).
 */
typedef int (*bench_fn)(void *arg, double *vals);

/* bench_now returns CLOCK_MONOTONIC in nanoseconds. */
static inline uint64_t
bench_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

/* bench_fail says why the benchmark cannot go on and exits 1. */
static inline _Noreturn void
bench_fail(const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "bench: ");
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fprintf(stderr, "\n");
	exit(1);
}

static inline void
bench_usage(const char *prog, FILE *f)
{
	fprintf(f,
	    "usage: %s [--quick] [--runs N] [--peer NAME=VALUE]...\n"
	    "  --quick            small sizes and one run (CI smoke test)\n"
	    "  --runs N           timed runs per figure (default %d)\n"
	    "  --peer NAME=VALUE  the Go figure NAME, for the ratio\n",
	    prog, BENCH_RUNS);
}

static inline void
bench_add_peer(const char *spec)
{
	const char *eq = strchr(spec, '=');
	char       *end;
	bench_peer *p;

	if (eq == NULL || eq == spec || (size_t)(eq - spec) >= sizeof p->name)
		bench_fail("bad --peer '%s': want NAME=VALUE", spec);
	if (bench_cfg.npeers == BENCH_MAX_PEERS)
		bench_fail("too many --peer values");
	p = &bench_cfg.peers[bench_cfg.npeers++];
	memcpy(p->name, spec, (size_t)(eq - spec));
	p->name[eq - spec] = '\0';
	p->value           = strtod(eq + 1, &end);
	if (end == eq + 1 || *end != '\0')
		bench_fail("bad --peer value '%s'", eq + 1);
}

/* bench_init parses the command line; exits 2 on a bad one. */
static inline void
bench_init(int argc, char **argv)
{
	int runs = 0;

	for (int i = 1; i < argc; i++) {
		const char *a = argv[i];

		if (strcmp(a, "--quick") == 0) {
			bench_cfg.quick = true;
		} else if (strcmp(a, "--runs") == 0 && i + 1 < argc) {
			runs = atoi(argv[++i]);
			if (runs < 1) {
				bench_usage(argv[0], stderr);
				exit(2);
			}
		} else if (strcmp(a, "--peer") == 0 && i + 1 < argc) {
			bench_add_peer(argv[++i]);
		} else if (strcmp(a, "--help") == 0 || strcmp(a, "-h") == 0) {
			bench_usage(argv[0], stdout);
			exit(0);
		} else {
			bench_usage(argv[0], stderr);
			exit(2);
		}
	}
	bench_cfg.runs = runs > 0 ? runs : (bench_cfg.quick ? 1 : BENCH_RUNS);
	/* Figures go to a pipe: keep each line whole and in order. */
	setvbuf(stdout, NULL, _IOLBF, 0);
}

/* bench_size picks the full or the --quick size of a parameter. */
static inline uint64_t
bench_size(uint64_t full, uint64_t quick)
{
	return bench_cfg.quick ? quick : full;
}

static inline int
bench_cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a;
	double y = *(const double *)b;

	return (x > y) - (x < y);
}

/* bench_median returns the median of v[0..n); it sorts v. */
static inline double
bench_median(double *v, int n)
{
	qsort(v, (size_t)n, sizeof *v, bench_cmp_double);
	return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

/* bench_medians turns runs[r][k] into out[k] = median over r. */
static inline void
bench_medians(
    double runs[][BENCH_MAX_VALUES], int nruns, double *out, int nvals)
{
	double col[nruns];

	for (int k = 0; k < nvals; k++) {
		for (int r = 0; r < nruns; r++)
			col[r] = runs[r][k];
		out[k] = bench_median(col, nruns);
	}
}

/*
 * bench_measure runs fn once as a warm-up (not counted), then
 * bench_cfg.runs times, all in this process, and sets vals[k] to the
 * median of the k-th value. Exits 1 when a run reports a wrong result.
 */
static inline void
bench_measure(bench_fn fn, void *arg, double *vals, int nvals)
{
	double runs[bench_cfg.runs][BENCH_MAX_VALUES];

	if (nvals < 1 || nvals > BENCH_MAX_VALUES)
		bench_fail("bench_measure: bad nvals %d", nvals);
	if (fn(arg, runs[0]) != 0)
		bench_fail("warm-up run gave a wrong result");
	for (int r = 0; r < bench_cfg.runs; r++) {
		if (fn(arg, runs[r]) != 0)
			bench_fail("run %d gave a wrong result", r + 1);
	}
	bench_medians(runs, bench_cfg.runs, vals, nvals);
}

/*
 * bench_fork_once runs fn in a forked child and reads its values back
 * through a pipe. The child starts with this process's memory as it is,
 * so call it before starting the spry runtime or any thread.
 */
static inline void
bench_fork_once(bench_fn fn, void *arg, double *vals, int nvals)
{
	size_t  len = sizeof *vals * (size_t)nvals;
	int     fds[2], status;
	pid_t   pid;
	ssize_t got;

	fflush(NULL);
	if (pipe(fds) != 0 || (pid = fork()) < 0)
		bench_fail("cannot fork a run: %s", strerror(errno));
	if (pid == 0) {
		close(fds[0]);
		int rc = fn(arg, vals);
		if (rc == 0 && write(fds[1], vals, len) != (ssize_t)len)
			rc = 1;
		fflush(NULL);
		_exit(rc == 0 ? 0 : 1);
	}
	close(fds[1]);
	got = read(fds[0], vals, len);
	close(fds[0]);
	if (waitpid(pid, &status, 0) != pid)
		bench_fail("waitpid: %s", strerror(errno));
	if (WIFSIGNALED(status))
		bench_fail("run died of signal %d (%s)", WTERMSIG(status),
		    strsignal(WTERMSIG(status)));
	if (WEXITSTATUS(status) != 0)
		bench_fail("run gave a wrong result");
	if (got != (ssize_t)len)
		bench_fail("run sent no result");
}

/*
 * bench_measure_forked is bench_measure with every run (warm-up included)
 * in a fresh forked process: for figures about memory, which a previous
 * run would have warmed, and for runs that should start cold.
 */
static inline void
bench_measure_forked(bench_fn fn, void *arg, double *vals, int nvals)
{
	double runs[bench_cfg.runs][BENCH_MAX_VALUES];

	if (nvals < 1 || nvals > BENCH_MAX_VALUES)
		bench_fail("bench_measure_forked: bad nvals %d", nvals);
	bench_fork_once(fn, arg, runs[0], nvals);
	for (int r = 0; r < bench_cfg.runs; r++)
		bench_fork_once(fn, arg, runs[r], nvals);
	bench_medians(runs, bench_cfg.runs, vals, nvals);
}

/* bench_rss_bytes returns the resident set now (/proc/self/statm). */
static inline double
bench_rss_bytes(void)
{
	unsigned long size = 0, resident = 0;
	FILE         *f = fopen("/proc/self/statm", "r");

	if (f == NULL || fscanf(f, "%lu %lu", &size, &resident) != 2)
		bench_fail("cannot read /proc/self/statm");
	fclose(f);
	return (double)resident * (double)sysconf(_SC_PAGESIZE);
}

/* bench_peak_rss_mb returns the peak resident set (ru_maxrss) in MB. */
static inline double
bench_peak_rss_mb(void)
{
	struct rusage ru;

	if (getrusage(RUSAGE_SELF, &ru) != 0)
		bench_fail("getrusage: %s", strerror(errno));
	return (double)ru.ru_maxrss / 1024.0; /* ru_maxrss is in KiB */
}

/* bench_peer_value returns the Go value of a figure, or NAN. */
static inline double
bench_peer_value(const char *name)
{
	for (int i = 0; i < bench_cfg.npeers; i++) {
		if (strcmp(bench_cfg.peers[i].name, name) == 0)
			return bench_cfg.peers[i].value;
	}
	return NAN;
}

/*
 * bench_report prints the figure line, and a comment line on its goal.
 * The one output function of every benchmark.
 */
static inline void
bench_report(const char *name, const char *unit, double value, bench_goal goal)
{
	double go    = bench_peer_value(name);
	double ratio = go > 0 ? value / go : NAN;

	printf("%s spry=%.2f go=%.2f unit=%s ratio=%.4g\n", name, value, go,
	    unit, ratio);
	if (goal.max_ratio > 0) {
		printf("# %s goal ratio<=%.3f: %s\n", name, goal.max_ratio,
		    isnan(ratio)                ? "unknown (no go value)" :
		        ratio <= goal.max_ratio ? "met" :
		                                  "missed");
	}
	if (goal.max_value > 0) {
		printf("# %s goal spry<=%.2f %s: %s\n", name, goal.max_value,
		    unit, value <= goal.max_value ? "met" : "missed");
	}
}

#endif /* SPRY_BENCH_H */
