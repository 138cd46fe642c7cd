/* SPDX-License-Identifier: MIT */
/*
 * tools/spry_cat_opts.c: spry-cat's command line: nngcat's flags (NNG
 * 1.5) read with getopt_long into a cat_opts, and the checks of what the
 * chosen protocol may be given. Long flags may be shortened while
 * unambiguous, as nngcat allows. Errors are said on stderr here; the
 * caller only passes the status on. Single-threaded (main's thread).
 */
#include "spry_cat.h"

#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char *const fmt_names[FMT_END] = {
    NULL, "no", "raw", "ascii", "quoted", "hex", "msgpack"};

static const cat_proto protos[] = {
    {"req0", SPRY_REQ0, CAP_SEND | CAP_NEED | CAP_RECV},
    {"req", SPRY_REQ0, CAP_SEND | CAP_NEED | CAP_RECV},
    {"rep0", SPRY_REP0, CAP_SEND | CAP_RECV},
    {"rep", SPRY_REP0, CAP_SEND | CAP_RECV},
    {"pub0", SPRY_PUB0, CAP_SEND | CAP_NEED},
    {"pub", SPRY_PUB0, CAP_SEND | CAP_NEED},
    {"sub0", SPRY_SUB0, CAP_RECV},
    {"sub", SPRY_SUB0, CAP_RECV},
    {"push0", SPRY_PUSH0, CAP_SEND | CAP_NEED},
    {"push", SPRY_PUSH0, CAP_SEND | CAP_NEED},
    {"pull0", SPRY_PULL0, CAP_RECV},
    {"pull", SPRY_PULL0, CAP_RECV},
    {"surveyor0", SPRY_SURVEYOR0, CAP_SEND | CAP_NEED | CAP_RECV},
    {"surveyor", SPRY_SURVEYOR0, CAP_SEND | CAP_NEED | CAP_RECV},
    {"respondent0", SPRY_RESPONDENT0, CAP_SEND | CAP_RECV},
    {"respondent", SPRY_RESPONDENT0, CAP_SEND | CAP_RECV},
    {"bus0", SPRY_BUS0, CAP_SEND | CAP_RECV},
    {"bus", SPRY_BUS0, CAP_SEND | CAP_RECV},
    {"pair0", SPRY_PAIR0, CAP_SEND | CAP_RECV},
    {"pair1", SPRY_PAIR1, CAP_SEND | CAP_RECV},
    {"pair", 0, CAP_SEND | CAP_RECV},
};

#define NPROTOS (sizeof(protos) / sizeof(protos[0]))

/* getopt_long values of the flags without a short letter. */
enum {
	O_PROTO = 0x100, /* + index into protos */
	O_FMT   = 0x200, /* + enum cat_fmt */
	O_DIAL  = 0x300,
	O_LISTEN,
	O_FORMAT,
	O_SUBSCRIBE,
	O_RECVTIMEO,
	O_SENDTIMEO,
	O_COMPAT,
	O_ASYNC,
};

int cat_verbose;

/* cat_err prints an error line on stderr unless --silent. */
void
cat_err(const char *fmt, ...)
{
	va_list ap;

	if (cat_verbose < 0) {
		return;
	}
	va_start(ap, fmt);
	fputs("spry-cat: ", stderr);
	vfprintf(stderr, fmt, ap);
	fputc('\n', stderr);
	va_end(ap);
}

/* cat_note prints a progress line on stderr with --verbose. */
void
cat_note(const char *fmt, ...)
{
	va_list ap;

	if (cat_verbose <= 0) {
		return;
	}
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	fputc('\n', stderr);
	va_end(ap);
}

/* ---- usage ---------------------------------------------------------- */

static const char usage_text[] =
    "Usage: spry-cat <proto> <addr>... [<fmt>] [<opts>...] [<src>]\n"
    "\n"
    "<proto>: --req0 (--req), --rep0 (--rep), --pub0 (--pub),\n"
    "  --sub0 (--sub), --push0 (--push), --pull0 (--pull),\n"
    "  --surveyor0 (--surveyor), --respondent0 (--respondent),\n"
    "  --bus0 (--bus), --pair0, --pair1, --pair (pair1; pair0 with "
    "--compat)\n"
    "<addr>: --dial <url> (--connect), --listen <url> (--bind),\n"
    "  --bind-local <port> (-L), --connect-local <port> (-l),\n"
    "  --bind-ipc <path> (-X), --connect-ipc <path> (-x)\n"
    "<fmt>: --format <no|ascii|hex|msgpack|quoted|raw>, --ascii (-A),\n"
    "  --quoted (-Q), --hex, --msgpack, --raw\n"
    "<opts>: --subscribe <topic>, --silent (-q), --verbose (-v),\n"
    "  --count <num> (-C), --delay <secs> (-d), --interval <secs> (-i),\n"
    "  --recv-timeout <secs>, --send-timeout <secs>,\n"
    "  --recv-maxsz <size> (-Z), --compat, --async\n"
    "<src>: --file <file> (-F; - is standard input), --data <data> (-D)\n"
    "\n"
    "Exit status: 0 done, 1 failure, 2 bad command line, 3 bad URL,\n"
    "4 unsupported transport, 5 address in use.\n";

/* ---- option parsing ------------------------------------------------- */

/*
 * The flags besides the protocols; opts_table puts one entry per protocol
 * (from protos, so the two lists cannot drift apart) in front of them.
 */
static const struct option other_opts[] = {
    {"dial", required_argument, NULL, O_DIAL},
    {"connect", required_argument, NULL, O_DIAL},
    {"listen", required_argument, NULL, O_LISTEN},
    {"bind", required_argument, NULL, O_LISTEN},
    {"connect-local", required_argument, NULL, 'l'},
    {"bind-local", required_argument, NULL, 'L'},
    {"connect-ipc", required_argument, NULL, 'x'},
    {"bind-ipc", required_argument, NULL, 'X'},
    {"format", required_argument, NULL, O_FORMAT},
    {"ascii", no_argument, NULL, 'A'},
    {"quoted", no_argument, NULL, 'Q'},
    {"hex", no_argument, NULL, O_FMT + FMT_HEX},
    {"msgpack", no_argument, NULL, O_FMT + FMT_MSGPACK},
    {"raw", no_argument, NULL, O_FMT + FMT_RAW},
    {"subscribe", required_argument, NULL, O_SUBSCRIBE},
    {"silent", no_argument, NULL, 'q'},
    {"quiet", no_argument, NULL, 'q'},
    {"verbose", no_argument, NULL, 'v'},
    {"count", required_argument, NULL, 'C'},
    {"delay", required_argument, NULL, 'd'},
    {"interval", required_argument, NULL, 'i'},
    {"recv-timeout", required_argument, NULL, O_RECVTIMEO},
    {"receive-timeout", required_argument, NULL, O_RECVTIMEO},
    {"send-timeout", required_argument, NULL, O_SENDTIMEO},
    {"recv-maxsz", required_argument, NULL, 'Z'},
    {"compat", no_argument, NULL, O_COMPAT},
    {"async", no_argument, NULL, O_ASYNC},
    {"file", required_argument, NULL, 'F'},
    {"data", required_argument, NULL, 'D'},
    {"help", no_argument, NULL, 'h'},
    {"version", no_argument, NULL, 'V'},
    {NULL, 0, NULL, 0},
};

#define NOTHER (sizeof(other_opts) / sizeof(other_opts[0]))

/* The whole getopt_long table, filled by opts_table. */
static struct option long_opts[NPROTOS + NOTHER];

/* opts_table builds long_opts: the protocols, then other_opts. */
static void
opts_table(void)
{
	for (size_t i = 0; i < NPROTOS; i++) {
		long_opts[i] = (struct option){
		    protos[i].name, no_argument, NULL, O_PROTO + (int)i};
	}
	memcpy(&long_opts[NPROTOS], other_opts, sizeof(other_opts));
}

/* The leading ':' makes getopt report a missing value as ':'. */
static const char short_opts[] = ":hVvqAQC:d:i:D:F:l:L:x:X:Z:";

/* parse_count reads a non-negative decimal integer. */
static int
parse_count(const char *arg, unsigned long long *out)
{
	char *end;

	errno = 0;
	if (arg[0] < '0' || arg[0] > '9') {
		goto bad;
	}
	*out = strtoull(arg, &end, 10);
	if (errno == 0 && *end == '\0') {
		return 0;
	}
bad:
	cat_err("Integer argument expected, not '%s'.", arg);
	return CAT_USAGE;
}

/* parse_secs reads non-negative seconds (fractions allowed). */
static int
parse_secs(const char *arg, spry_duration *out)
{
	char  *end;
	double v;

	errno = 0;
	v     = strtod(arg, &end);
	if (errno != 0 || end == arg || *end != '\0' || !isfinite(v) ||
	    v < 0 || v > 1e9) {
		cat_err("Number of seconds expected, not '%s'.", arg);
		return CAT_USAGE;
	}
	*out = (spry_duration)(v * 1e9 + 0.5);
	return 0;
}

/* opt_addr records an address; fmt builds the URL from arg. */
static int
opt_addr(cat_opts *o, bool listen, const char *fmt, const char *arg)
{
	cat_addr *a;
	char     *url;
	size_t    n;

	a = realloc(o->addrs, (o->naddrs + 1) * sizeof(*a));
	if (a == NULL) {
		cat_err("Out of memory.");
		return CAT_FAIL;
	}
	o->addrs = a;
	n        = (size_t)snprintf(NULL, 0, fmt, arg) + 1;
	if ((url = malloc(n)) == NULL) {
		cat_err("Out of memory.");
		return CAT_FAIL;
	}
	snprintf(url, n, fmt, arg);
	a[o->naddrs].url    = url;
	a[o->naddrs].listen = listen;
	o->naddrs++;
	return 0;
}

/* opt_topic records a --subscribe topic. */
static int
opt_topic(cat_opts *o, char *arg)
{
	char **t = realloc(o->topics, (o->ntopics + 1) * sizeof(*t));

	if (t == NULL) {
		cat_err("Out of memory.");
		return CAT_FAIL;
	}
	o->topics               = t;
	o->topics[o->ntopics++] = arg;
	return 0;
}

/* opt_proto selects a protocol; only one may be given. */
static int
opt_proto(cat_opts *o, size_t i)
{
	if (o->proto != NULL) {
		cat_err("Only one protocol may be specified.");
		return CAT_USAGE;
	}
	o->proto = &protos[i];
	return 0;
}

/* opt_fmt selects the output format; only once. */
static int
opt_fmt(cat_opts *o, int fmt)
{
	if (o->fmt != FMT_UNSET) {
		cat_err("Format may be specified only once.");
		return CAT_USAGE;
	}
	o->fmt = fmt;
	return 0;
}

/* opt_format handles --format NAME. */
static int
opt_format(cat_opts *o, const char *arg)
{
	for (int f = FMT_NO; f < FMT_END; f++) {
		if (strcmp(arg, fmt_names[f]) == 0) {
			return opt_fmt(o, f);
		}
	}
	cat_err("Invalid format '%s'.", arg);
	return CAT_USAGE;
}

/* opt_source handles --data and --file; only one, only once. */
static int
opt_source(cat_opts *o, int ch, const char *arg)
{
	if (o->data != NULL || o->file != NULL) {
		cat_err("Data (--file, --data) may be specified only once.");
		return CAT_USAGE;
	}
	if (ch == 'D') {
		o->data = arg;
	} else {
		o->file = arg;
	}
	return 0;
}

/* opt_number handles the flags whose value is a number. */
static int
opt_number(cat_opts *o, int ch, const char *arg)
{
	unsigned long long n;
	int                rv;

	switch (ch) {
	case 'C':
		if ((rv = parse_count(arg, &n)) == 0) {
			o->count = (unsigned long)n;
		}
		return rv;
	case 'Z':
		if ((rv = parse_count(arg, &n)) == 0) {
			o->maxsz = n > (unsigned long long)LLONG_MAX ?
			    LLONG_MAX :
			    (long long)n;
		}
		return rv;
	case 'd':
		return parse_secs(arg, &o->delay);
	case 'i':
		return parse_secs(arg, &o->interval);
	case O_RECVTIMEO:
		return parse_secs(arg, &o->recvtimeo);
	default: /* O_SENDTIMEO */
		return parse_secs(arg, &o->sendtimeo);
	}
}

/* opt_misc applies the flags that are neither numbers nor addresses. */
static int
opt_misc(cat_opts *o, int ch, char *arg)
{
	switch (ch) {
	case 'A':
		return opt_fmt(o, FMT_ASCII);
	case 'Q':
		return opt_fmt(o, FMT_QUOTED);
	case O_FORMAT:
		return opt_format(o, arg);
	case O_SUBSCRIBE:
		return opt_topic(o, arg);
	case 'D':
	case 'F':
		return opt_source(o, ch, arg);
	case 'v':
		cat_verbose = o->verbose = o->verbose < 0 ? 1 : o->verbose + 1;
		return 0;
	case 'q':
		cat_verbose = o->verbose = -1;
		return 0;
	case O_COMPAT:
		o->compat = true;
		return 0;
	case O_ASYNC:
		o->async = true;
		return 0;
	default:
		return opt_number(o, ch, arg);
	}
}

/* opt_apply applies one flag (ch as getopt_long returned it). */
static int
opt_apply(cat_opts *o, int ch, char *arg)
{
	if (ch >= O_PROTO && ch < O_PROTO + (int)NPROTOS) {
		return opt_proto(o, (size_t)(ch - O_PROTO));
	}
	if (ch >= O_FMT && ch < O_FMT + FMT_END) {
		return opt_fmt(o, ch - O_FMT);
	}
	switch (ch) {
	case O_DIAL:
	case O_LISTEN:
		return opt_addr(o, ch == O_LISTEN, "%s", arg);
	case 'l':
	case 'L':
		return opt_addr(o, ch == 'L', "tcp://127.0.0.1:%s", arg);
	case 'x':
	case 'X':
		return opt_addr(o, ch == 'X', "ipc://%s", arg);
	default:
		return opt_misc(o, ch, arg);
	}
}

/* opt_bad reports a flag getopt_long refused (ch '?' or ':'). */
static int
opt_bad(int ch, char **argv)
{
	const char *arg = argv[optind - 1];

	if (ch == ':') {
		cat_err("Option %s requires an argument.", arg);
	} else if (optopt != 0 && strncmp(arg, "--", 2) != 0) {
		cat_err("Option -%c is invalid.", optopt);
	} else {
		cat_err("Option %s is invalid or ambiguous.", arg);
	}
	cat_err("Try 'spry-cat --help'.");
	return CAT_USAGE;
}

/* cat_opts_parse: see spry_cat.h. */
int
cat_opts_parse(cat_opts *o, int argc, char **argv)
{
	int ch;
	int rv = 0;

	memset(o, 0, sizeof(*o));
	opts_table();
	o->recvtimeo = o->sendtimeo = o->maxsz = -1;
	opterr                                 = 0;
	while (rv == 0 &&
	    (ch = getopt_long(argc, argv, short_opts, long_opts, NULL)) !=
	        -1) {
		if (ch == 'h') {
			fputs(usage_text, stdout);
			return CAT_R_HELP;
		}
		if (ch == 'V') {
			printf("spry-cat %d.%d.%d\n", SPRY_VERSION_MAJOR,
			    SPRY_VERSION_MINOR, SPRY_VERSION_PATCH);
			return CAT_R_HELP;
		}
		rv = (ch == '?' || ch == ':') ? opt_bad(ch, argv) :
		                                opt_apply(o, ch, optarg);
	}
	if (rv == 0 && optind < argc) {
		cat_err("Unexpected argument '%s'.", argv[optind]);
		rv = CAT_USAGE;
	}
	return rv;
}

/* opts_check_caps: flags the chosen protocol cannot use. */
static int
opts_check_caps(const cat_opts *o)
{
	unsigned caps = o->proto->caps;
	bool     data = o->data != NULL || o->file != NULL;

	if ((caps & CAP_NEED) && !data) {
		cat_err("Protocol requires either --file or --data.");
	} else if (!(caps & CAP_SEND) && data) {
		cat_err("Protocol does not support --file or --data.");
	} else if (!(caps & CAP_SEND) && (o->interval > 0 || o->delay > 0)) {
		cat_err("Protocol does not support --interval or --delay.");
	} else if (!(caps & CAP_RECV) && o->fmt != FMT_UNSET) {
		cat_err("Protocol does not support --format options.");
	} else if (o->proto->id != SPRY_SUB0 && o->ntopics > 0) {
		cat_err("Protocol does not support --subscribe.");
	} else {
		return 0;
	}
	return CAT_USAGE;
}

/* cat_opts_check: see spry_cat.h. */
int
cat_opts_check(const cat_opts *o)
{
	if (o->proto == NULL) {
		cat_err("No protocol specified.");
		return CAT_USAGE;
	}
	if (o->naddrs == 0) {
		cat_err("No address specified.");
		return CAT_USAGE;
	}
	return opts_check_caps(o);
}

/* cat_opts_fini: see spry_cat.h. */
void
cat_opts_fini(cat_opts *o)
{
	for (size_t i = 0; i < o->naddrs; i++) {
		free(o->addrs[i].url);
	}
	free(o->addrs);
	free(o->topics);
}

/* cat_opts_proto: see spry_cat.h. */
int
cat_opts_proto(const cat_opts *o)
{
	if (o->proto->id != 0) {
		return o->proto->id;
	}
	return o->compat ? SPRY_PAIR0 : SPRY_PAIR1;
}
