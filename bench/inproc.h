/* SPDX-License-Identifier: MIT */
/*
 * bench/inproc.h: what the socket benchmarks (bench/inproc_lat.c,
 * bench/inproc_thr.c) add to bench.h. Their peers are not Go programs
 * but NNG and ZeroMQ, linked in and measured by the same program, so a
 * figure has two peer values and its line names them:
 *
 *	name spry=<v> zmq=<v> unit=<unit> ratio=<spry/zmq> nng=<v>
 *	ratio_nng=<spry/nng>
 *
 * (one line). The first five fields have the shape of bench_report's
 * line with ZeroMQ as the peer; NNG's value and ratio follow. A goal,
 * when a figure has one, follows as a comment line, as in bench.h; for
 * a rate (higher is better) the goal is a lower bound on the ratio.
 */
#ifndef SPRY_BENCH_INPROC_H
#define SPRY_BENCH_INPROC_H

#include "bench.h"

#include <nng/nng.h>
#include <spry/spry.h>
#include <spry/socket.h>
#include <zmq.h>

/* inproc_goal: what a figure should reach; 0 fields mean none. */
typedef struct inproc_goal {
	double max_ratio; /* spry/zmq must be <= this (times, sizes) */
	double min_ratio; /* spry/zmq must be >= this (rates) */
} inproc_goal;

/* inproc_spry_ok fails the benchmark when a spry call failed. */
static inline void
inproc_spry_ok(int rv, const char *what)
{
	if (rv != 0)
		bench_fail("%s: %s", what, spry_strerror(rv));
}

/* inproc_nng_ok fails the benchmark when an NNG call failed. */
static inline void
inproc_nng_ok(int rv, const char *what)
{
	if (rv != 0)
		bench_fail("%s: %s", what, nng_strerror(rv));
}

/* inproc_zmq_ok fails the benchmark when a ZeroMQ call returned -1. */
static inline void
inproc_zmq_ok(int rv, const char *what)
{
	if (rv == -1)
		bench_fail("%s: %s", what, zmq_strerror(zmq_errno()));
}

/* inproc_ratio returns a/b, or NAN when b is not a positive value. */
static inline double
inproc_ratio(double a, double b)
{
	return b > 0 ? a / b : NAN;
}

/*
 * inproc_report prints the figure line (see above), and a comment line
 * on its goal. The one output function of the socket benchmarks.
 */
static inline void
inproc_report(const char *name, const char *unit, double spry, double zmq,
    double nng, inproc_goal goal)
{
	double ratio = inproc_ratio(spry, zmq);

	printf("%s spry=%.2f zmq=%.2f unit=%s ratio=%.4g nng=%.2f "
	       "ratio_nng=%.4g\n",
	    name, spry, zmq, unit, ratio, nng, inproc_ratio(spry, nng));
	if (goal.max_ratio > 0) {
		printf("# %s goal ratio<=%.3f: %s\n", name, goal.max_ratio,
		    isnan(ratio)                ? "unknown (no zmq value)" :
		        ratio <= goal.max_ratio ? "met" :
		                                  "missed");
	}
	if (goal.min_ratio > 0) {
		printf("# %s goal ratio>=%.3f: %s\n", name, goal.min_ratio,
		    isnan(ratio)                ? "unknown (no zmq value)" :
		        ratio >= goal.min_ratio ? "met" :
		                                  "missed");
	}
}

#endif /* SPRY_BENCH_INPROC_H */
