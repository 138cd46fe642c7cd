/* SPDX-License-Identifier: MIT */
/*
 * tools/spry_cat.c: spry-cat, command line access to Scalability
 * Protocols sockets, with the flags and behaviour of NNG 1.5's nngcat(1)
 * so that shell scripts written for one run with the other. It opens one
 * socket, listens and dials in command line order, then runs one loop:
 *
 *   PUSH, PUB             send --data --count times (default once; with
 *                         --interval, forever unless --count)
 *   REQ                   send, print the reply; per --count/--interval
 *   SURVEYOR              send, print the responses until the survey ends
 *   PAIR0, PAIR1, BUS     with data: send, print what comes in until the
 *                         next send is due; without: receive only
 *   REP, RESPONDENT       print each request; reply with --data if given
 *   PULL, SUB             print each message (--count of them, or forever)
 *
 * Receiving stops, and spry-cat exits 0, when --recv-timeout passes with
 * no message since the last one received or sent. Before exiting, it
 * waits until the socket has handed every message it sent to a pipe (or
 * dropped it, as PUB does without subscribers), bounded by
 * --send-timeout, since closing a socket frees what is still queued.
 * docs/tools/spry-cat.md lists every flag and the differences from
 * nngcat. Single-threaded: only main's thread runs this file's code.
 *
 * Exit status:
 *   0  done (also: receiving ended by --recv-timeout), --help, --version
 *   1  run-time failure: connection refused, send timed out, receive
 *      error, unreadable --file, output error
 *   2  bad command line: unknown flag, bad value, conflicting flags,
 *      missing protocol, address or data
 *   3  malformed URL
 *   4  no transport for the URL's scheme (e.g. ipc:// or tcp:// in a
 *      build without them)
 *   5  address in use (listen)
 */
#include <spry/spry.h>

#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

/* Exit statuses (see the top of the file). */
enum cat_exit {
	CAT_OK     = 0,
	CAT_FAIL   = 1,
	CAT_USAGE  = 2,
	CAT_URL    = 3,
	CAT_NOTRAN = 4,
	CAT_INUSE  = 5,
};

/* Internal results besides the exit statuses; never returned by main. */
#define CAT_R_IDLE (-1)   /* --recv-timeout passed: stop, exit 0 */
#define CAT_R_WINDOW (-2) /* receive window over: next send, survey end */
#define CAT_R_HELP (-3)   /* --help or --version printed: exit 0 */

/* Output formats (--format values, in this order). */
enum cat_fmt {
	FMT_UNSET,
	FMT_NO,
	FMT_RAW,
	FMT_ASCII,
	FMT_QUOTED,
	FMT_HEX,
	FMT_MSGPACK,
	FMT_END,
};

static const char *const fmt_names[FMT_END] = {
    NULL, "no", "raw", "ascii", "quoted", "hex", "msgpack"};

/* What a protocol may do on the command line. */
#define CAP_SEND 1u /* may send --data (and so use --interval, --delay) */
#define CAP_NEED 2u /* must have --data or --file */
#define CAP_RECV 4u /* receives: --format applies */

/* cat_proto: one protocol flag (constant table). */
typedef struct cat_proto {
	const char *name; /* long flag without "--" */
	int         id;   /* SPRY_* protocol id; 0: --pair, resolved later */
	unsigned    caps; /* CAP_* */
} cat_proto;

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

/* cat_addr: one --listen or --dial (and their shortcuts). */
typedef struct cat_addr {
	char *url;    /* owned */
	bool  listen; /* listen (bind) rather than dial (connect) */
} cat_addr;

/* cat_opts: the parsed command line (main's thread only). */
typedef struct cat_opts {
	const cat_proto *proto;     /* chosen protocol flag, or NULL */
	bool             compat;    /* --compat: async dials, --pair=pair0 */
	bool             async;     /* --async: dial in the background */
	int              verbose;   /* -1 --silent, 0 default, >0 -v */
	cat_addr        *addrs;     /* addresses, command line order */
	size_t           naddrs;    /* entries in addrs */
	int              fmt;       /* enum cat_fmt */
	char           **topics;    /* --subscribe values (argv's) */
	size_t           ntopics;   /* entries in topics */
	const char      *data;      /* --data (argv's), or NULL */
	const char      *file;      /* --file path (argv's), or NULL */
	unsigned long    count;     /* --count; 0: unlimited or once */
	spry_duration    interval;  /* --interval; 0: none */
	spry_duration    delay;     /* --delay before the first send */
	spry_duration    recvtimeo; /* --recv-timeout; < 0: none */
	spry_duration    sendtimeo; /* --send-timeout; < 0: none */
	long long        maxsz;     /* --recv-maxsz; < 0: default */
} cat_opts;

/* cat: one run (main's thread only). */
typedef struct cat {
	const cat_opts *o;       /* the options */
	int             proto;   /* resolved SPRY_* id */
	spry_socket    *s;       /* the socket, or NULL */
	char           *body;    /* outgoing data (owned), or NULL */
	size_t          len;     /* bytes in body */
	bool            hasdata; /* --data or --file given */
	uint64_t        sent;    /* messages spry_send took */
	spry_time       idle_at; /* when --recv-timeout passes */
} cat;

static int cat_verbose; /* copy of opts.verbose for the log helpers */

/* cat_err prints an error line on stderr unless --silent. */
static void __attribute__((format(printf, 1, 2))) cat_err(const char *fmt, ...)
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
static void __attribute__((format(printf, 1, 2)))
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

#define LONG_PROTO(i)                                                         \
	{                                                                     \
		protos[i].name, no_argument, NULL, O_PROTO + (i)              \
	}

static const struct option long_opts[] = {
    LONG_PROTO(0),
    LONG_PROTO(1),
    LONG_PROTO(2),
    LONG_PROTO(3),
    LONG_PROTO(4),
    LONG_PROTO(5),
    LONG_PROTO(6),
    LONG_PROTO(7),
    LONG_PROTO(8),
    LONG_PROTO(9),
    LONG_PROTO(10),
    LONG_PROTO(11),
    LONG_PROTO(12),
    LONG_PROTO(13),
    LONG_PROTO(14),
    LONG_PROTO(15),
    LONG_PROTO(16),
    LONG_PROTO(17),
    LONG_PROTO(18),
    LONG_PROTO(19),
    LONG_PROTO(20),
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

	a = realloc(o->addrs, (o->naddrs + 1) * sizeof(*a));
	if (a == NULL) {
		cat_err("Out of memory.");
		return CAT_FAIL;
	}
	o->addrs = a;
	if (asprintf(&url, fmt, arg) < 0) {
		cat_err("Out of memory.");
		return CAT_FAIL;
	}
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

/* opts_parse reads argv into o (zeroed with defaults first). */
static int
opts_parse(cat_opts *o, int argc, char **argv)
{
	int ch;
	int rv = 0;

	memset(o, 0, sizeof(*o));
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

/* opts_check validates the whole command line. */
static int
opts_check(const cat_opts *o)
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

/* opts_fini frees what opts_parse allocated. */
static void
opts_fini(cat_opts *o)
{
	for (size_t i = 0; i < o->naddrs; i++) {
		free(o->addrs[i].url);
	}
	free(o->addrs);
	free(o->topics);
}

/* ---- output formats ------------------------------------------------- */

/* put_quoted prints p as a C string; every byte as \xNN with all_hex. */
static void
put_quoted(const unsigned char *p, size_t n, bool all_hex)
{
	putchar('"');
	for (size_t i = 0; i < n; i++) {
		unsigned char c = p[i];

		if (all_hex || c < 0x20 || c > 0x7e) {
			if (!all_hex &&
			    (c == '\n' || c == '\t' || c == '\r')) {
				printf("\\%c",
				    c == '\n'     ? 'n' :
				        c == '\t' ? 't' :
				                    'r');
			} else {
				printf("\\x%02x", c);
			}
		} else if (c == '"' || c == '\\') {
			printf("\\%c", c);
		} else {
			putchar(c);
		}
	}
	fputs("\"\n", stdout);
}

/* put_ascii prints printable ASCII as is, other bytes as '.'. */
static void
put_ascii(const unsigned char *p, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		putchar(p[i] >= 0x20 && p[i] <= 0x7e ? p[i] : '.');
	}
}

/* put_msgpack prints p as one MessagePack bin 8/16/32 object. */
static void
put_msgpack(const unsigned char *p, size_t n)
{
	if (n < 0x100) {
		putchar(0xc4);
		putchar((int)n);
	} else if (n < 0x10000) {
		putchar(0xc5);
		putchar((int)(n >> 8));
		putchar((int)(n & 0xff));
	} else {
		putchar(0xc6);
		for (int shift = 24; shift >= 0; shift -= 8) {
			putchar((int)((n >> shift) & 0xff));
		}
	}
	fwrite(p, 1, n, stdout);
}

/* cat_print prints m's body in the chosen format and flushes. */
static int
cat_print(const cat *c, spry_msg *m)
{
	const unsigned char *p = spry_msg_body(m);
	size_t               n = spry_msg_len(m);

	switch (c->o->fmt) {
	case FMT_RAW:
		fwrite(p, 1, n, stdout);
		break;
	case FMT_ASCII:
		put_ascii(p, n);
		break;
	case FMT_QUOTED:
	case FMT_HEX:
		put_quoted(p, n, c->o->fmt == FMT_HEX);
		break;
	case FMT_MSGPACK:
		put_msgpack(p, n);
		break;
	default: /* no output */
		return 0;
	}
	if (fflush(stdout) != 0 || ferror(stdout)) {
		cat_err("Cannot write output: %s", strerror(errno));
		return CAT_FAIL;
	}
	return 0;
}

/* ---- data ------------------------------------------------------------ */

/* read_all reads f to its end into a new buffer. */
static int
read_all(FILE *f, char **out, size_t *len)
{
	size_t cap = 0, n = 0, got;
	char  *buf = NULL;

	do {
		if (n == cap) {
			char *b = realloc(buf, cap = cap ? cap * 2 : 4096);

			if (b == NULL) {
				free(buf);
				return ENOMEM;
			}
			buf = b;
		}
		got = fread(buf + n, 1, cap - n, f);
		n += got;
	} while (got > 0);
	if (ferror(f)) {
		free(buf);
		return EIO;
	}
	*out = buf;
	*len = n;
	return 0;
}

/* cat_load reads the outgoing data: --data, or --file (- is stdin). */
static int
cat_load(cat *c)
{
	const char *path = c->o->file;
	FILE       *f;
	int         rv;

	c->hasdata = c->o->data != NULL || path != NULL;
	if (c->o->data != NULL) {
		c->len  = strlen(c->o->data);
		c->body = strdup(c->o->data);
		return c->body == NULL ? CAT_FAIL : 0;
	}
	if (path == NULL) {
		return 0;
	}
	f  = strcmp(path, "-") == 0 ? stdin : fopen(path, "rb");
	rv = f == NULL ? errno : read_all(f, &c->body, &c->len);
	if (f != NULL && f != stdin) {
		fclose(f);
	}
	if (rv != 0) {
		cat_err("Cannot read file %s: %s", path, strerror(rv));
		return CAT_FAIL;
	}
	return 0;
}

/* ---- the socket ------------------------------------------------------ */

/* ep_status maps a listen/dial error to an exit status. */
static int
ep_status(int err)
{
	switch (err) {
	case SPRY_EADDRINVAL:
		return CAT_URL;
	case SPRY_ENOTSUP:
		return CAT_NOTRAN;
	case SPRY_EADDRINUSE:
		return CAT_INUSE;
	default:
		return CAT_FAIL;
	}
}

/* cat_endpoints listens and dials, in command line order. */
static int
cat_endpoints(cat *c)
{
	bool async = c->o->async || c->o->compat;

	for (size_t i = 0; i < c->o->naddrs; i++) {
		const cat_addr *a = &c->o->addrs[i];
		int             rv;

		if (a->listen) {
			rv = spry_listen(c->s, a->url, NULL);
		} else {
			rv = spry_dial(c->s, a->url, NULL,
			    async ? SPRY_FLAG_NONBLOCK : 0);
		}
		if (rv != 0) {
			cat_err("Unable to %s on %s: %s",
			    a->listen ? "listen" : "dial", a->url,
			    spry_strerror(rv));
			return ep_status(rv);
		}
		cat_note("%s: %s",
		    a->listen ? "Listening at" :
		        async ? "Dialing" :
		                "Connected to",
		    a->url);
	}
	return 0;
}

/* cat_setopts applies the socket options given on the command line. */
static int
cat_setopts(cat *c)
{
	const cat_opts *o  = c->o;
	int             rv = 0;

	if (o->sendtimeo >= 0) {
		rv = spry_setopt(
		    c->s, SPRY_OPT_SENDTIMEO, SPRY_DURATION(o->sendtimeo));
	}
	if (rv == 0 && o->maxsz >= 0) {
		rv = spry_setopt(
		    c->s, SPRY_OPT_RECVMAXSZ, SPRY_SIZE((size_t)o->maxsz));
	}
	for (size_t i = 0; rv == 0 && i < o->ntopics; i++) {
		rv = spry_setopt(c->s, SPRY_OPT_SUBSCRIBE,
		    SPRY_BYTES(o->topics[i], strlen(o->topics[i])));
	}
	if (rv == 0 && c->proto == SPRY_SUB0 && o->ntopics == 0) {
		/* As nngcat: no --subscribe means everything. */
		rv = spry_setopt(c->s, SPRY_OPT_SUBSCRIBE, SPRY_BYTES("", 0));
	}
	if (rv != 0) {
		cat_err("Cannot set socket options: %s", spry_strerror(rv));
		return CAT_FAIL;
	}
	return 0;
}

/* cat_open opens the socket, sets its options and connects it. */
static int
cat_open(cat *c)
{
	int rv = spry_socket_open(&c->s, c->proto, NULL);

	if (rv != 0) {
		cat_err("Cannot open socket: %s", spry_strerror(rv));
		c->s = NULL;
		return CAT_FAIL;
	}
	if ((rv = cat_setopts(c)) != 0) {
		return rv;
	}
	return cat_endpoints(c);
}

/* ---- time ------------------------------------------------------------ */

/* sleep_until sleeps until the monotonic time t (no-op if past). */
static void
sleep_until(spry_time t)
{
	spry_time now;

	while (t != SPRY_TIME_NEVER && (now = spry_now()) < t) {
		struct timespec ts = {(time_t)((t - now) / 1000000000),
		    (long)((t - now) % 1000000000)};

		nanosleep(&ts, NULL);
	}
}

/* idle_reset restarts the --recv-timeout clock. */
static void
idle_reset(cat *c)
{
	c->idle_at = c->o->recvtimeo < 0 ?
	    SPRY_TIME_NEVER :
	    spry_deadline_after(c->o->recvtimeo);
}

/* ---- sending and receiving ------------------------------------------ */

/* cat_send_msg sends m (taken on success) and counts it. */
static int
cat_send_msg(cat *c, spry_msg *m)
{
	int rv = spry_send(c->s, m, 0);

	if (rv != 0) {
		spry_msg_free(m);
		cat_err("Send error: %s", spry_strerror(rv));
		return CAT_FAIL;
	}
	c->sent++;
	idle_reset(c);
	return 0;
}

/* cat_send sends the data once. */
static int
cat_send(cat *c)
{
	spry_msg *m;

	if (spry_msg_alloc(&m, 0) != 0 ||
	    spry_msg_append(m, c->body, c->len)) {
		spry_msg_free(m);
		cat_err("Out of memory.");
		return CAT_FAIL;
	}
	return cat_send_msg(c, m);
}

/*
 * cat_reply answers request m (REP, RESPONDENT) with the data: m keeps
 * its header, the route back to the requester; only the body changes.
 */
static int
cat_reply(cat *c, spry_msg *m)
{
	spry_msg_clear(m);
	if (spry_msg_append(m, c->body, c->len) != 0) {
		spry_msg_free(m);
		cat_err("Out of memory.");
		return CAT_FAIL;
	}
	return cat_send_msg(c, m);
}

/*
 * cat_recv receives one message, waiting until `until` or the
 * --recv-timeout, whichever comes first. 0 with *m; CAT_R_IDLE (the
 * timeout passed), CAT_R_WINDOW (until passed, or the survey ended) or
 * CAT_FAIL.
 */
static int
cat_recv(cat *c, spry_time until, spry_msg **m)
{
	spry_time dl  = until < c->idle_at ? until : c->idle_at;
	spry_time now = spry_now();
	int       rv;

	rv = spry_setopt(c->s, SPRY_OPT_RECVTIMEO,
	    SPRY_DURATION(dl == SPRY_TIME_NEVER ? -1 :
	            dl > now                    ? dl - now :
	                                          0));
	if (rv == 0) {
		rv = spry_recv(c->s, m, 0);
	}
	if (rv == 0) {
		idle_reset(c);
		return 0;
	}
	if (rv == SPRY_ETIMEDOUT || rv == SPRY_ESTATE) {
		return spry_now() >= c->idle_at ? CAT_R_IDLE : CAT_R_WINDOW;
	}
	cat_err("Receive error: %s", spry_strerror(rv));
	return CAT_FAIL;
}

/* cat_recv_print receives one message and prints it; reply or free it. */
static int
cat_recv_print(cat *c, spry_time until, bool reply)
{
	spry_msg *m;
	int       rv;

	if ((rv = cat_recv(c, until, &m)) != 0) {
		return rv;
	}
	if ((rv = cat_print(c, m)) == 0 && reply) {
		return cat_reply(c, m);
	}
	spry_msg_free(m);
	return rv;
}

/* ---- the loops ------------------------------------------------------- */

/* phase_none: PUSH and PUB only send. */
static int
phase_none(cat *c, spry_time until)
{
	(void)c;
	(void)until;
	return 0;
}

/* phase_reply: REQ prints the one reply (or stops at the timeout). */
static int
phase_reply(cat *c, spry_time until)
{
	(void)until; /* a reply is worth waiting for past the interval */
	return cat_recv_print(c, SPRY_TIME_NEVER, false);
}

/*
 * phase_window: SURVEYOR prints responses until the survey ends, PAIR
 * and BUS print what comes in until the next send is due.
 */
static int
phase_window(cat *c, spry_time until)
{
	int rv;

	while ((rv = cat_recv_print(c, until, false)) == 0) { }
	return rv == CAT_R_WINDOW ? 0 : rv;
}

/*
 * run_send: the loop of the protocols that send first. Each round sends
 * the data, then runs phase until the next round is due (the last round
 * without --interval: until --recv-timeout). Rounds: --count, or once,
 * or forever with --interval.
 */
static int
run_send(cat *c, int (*phase)(cat *, spry_time))
{
	const cat_opts *o = c->o;
	unsigned long   n = o->count == 0 && o->interval == 0 ? 1 : o->count;
	spry_time       next;
	int             rv = 0;

	sleep_until(spry_deadline_after(o->delay));
	next = spry_now();
	for (unsigned long i = 0; rv == 0 && (n == 0 || i < n); i++) {
		bool last = n != 0 && i + 1 == n;

		if ((rv = cat_send(c)) != 0) {
			break;
		}
		next += o->interval;
		rv = phase(
		    c, last && o->interval == 0 ? SPRY_TIME_NEVER : next);
		if (rv == 0 && !last) {
			sleep_until(next);
		}
	}
	return rv == CAT_R_IDLE ? 0 : rv;
}

/*
 * run_recv: the loop of the protocols that receive first: print each
 * message (and answer it when reply), --count of them or until the
 * receive timeout.
 */
static int
run_recv(cat *c, bool reply)
{
	const cat_opts *o  = c->o;
	int             rv = 0;

	for (unsigned long i = 0; rv == 0 && (o->count == 0 || i < o->count);
	     i++) {
		rv = cat_recv_print(c, SPRY_TIME_NEVER, reply);
	}
	return rv == CAT_R_IDLE || rv == CAT_R_WINDOW ? 0 : rv;
}

/* cat_loop runs the protocol's loop. */
static int
cat_loop(cat *c)
{
	switch (c->proto) {
	case SPRY_PUSH0:
	case SPRY_PUB0:
		return run_send(c, phase_none);
	case SPRY_REQ0:
		return run_send(c, phase_reply);
	case SPRY_SURVEYOR0:
		return run_send(c, phase_window);
	case SPRY_PAIR0:
	case SPRY_PAIR1:
	case SPRY_BUS0:
		return c->hasdata ? run_send(c, phase_window) :
		                    run_recv(c, false);
	default: /* PULL, SUB, REP, RESPONDENT */
		return run_recv(c, c->hasdata);
	}
}

/*
 * cat_linger waits until the socket has handed every message it took to
 * a pipe or dropped it, since spry_close frees what is still queued.
 * Bounded by --send-timeout, as nngcat's blocking send is. REQ and
 * SURVEYOR skip it: the answer (or its timeout) already settled them.
 */
static int
cat_linger(cat *c)
{
	spry_time         dl  = c->o->sendtimeo < 0 ?
	             SPRY_TIME_NEVER :
	             spry_deadline_after(c->o->sendtimeo);
	spry_duration     nap = SPRY_MSEC(1);
	spry_socket_stats st;

	if (c->proto == SPRY_REQ0 || c->proto == SPRY_SURVEYOR0) {
		return 0;
	}
	for (;;) {
		spry_socket_stats_get(c->s, &st);
		if (st.sent + st.dropped >= c->sent) {
			return 0;
		}
		if (spry_now() >= dl) {
			cat_err(
			    "Send error: %s", spry_strerror(SPRY_ETIMEDOUT));
			return CAT_FAIL;
		}
		sleep_until(spry_deadline_after(nap));
		nap = nap < SPRY_MSEC(32) ? nap * 2 : nap;
	}
}

/* cat_resolve picks the protocol id (--pair depends on --compat). */
static int
cat_resolve(const cat_opts *o)
{
	if (o->proto->id != 0) {
		return o->proto->id;
	}
	return o->compat ? SPRY_PAIR0 : SPRY_PAIR1;
}

/* cat_run runs the whole tool once the command line is valid. */
static int
cat_run(const cat_opts *o)
{
	cat c = {.o = o, .proto = cat_resolve(o)};
	int rv;

	if ((rv = cat_load(&c)) == 0 && (rv = cat_open(&c)) == 0) {
		idle_reset(&c);
		rv = cat_loop(&c);
		if (rv == 0) {
			rv = cat_linger(&c);
		}
	}
	if (c.s != NULL) {
		spry_close(c.s);
	}
	spry_runtime_stop();
	free(c.body);
	return rv;
}

int
main(int argc, char **argv)
{
	cat_opts o;
	int      rv = opts_parse(&o, argc, argv);

	if (rv == 0) {
		rv = opts_check(&o);
	}
	if (rv == 0) {
		rv = cat_run(&o);
	}
	opts_fini(&o);
	return rv == CAT_R_HELP ? 0 : rv;
}
