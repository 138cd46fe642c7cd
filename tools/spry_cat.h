/* SPDX-License-Identifier: MIT */
/*
 * tools/spry_cat.h: what the two halves of spry-cat share: the exit
 * statuses, the parsed command line (tools/spry_cat_opts.c fills it) and
 * the message helpers. tools/spry_cat.c runs the socket and says what
 * each status means; docs/tools/spry-cat.md is the manual.
 */
#ifndef SPRY_TOOLS_SPRY_CAT_H
#define SPRY_TOOLS_SPRY_CAT_H

#include <spry/spry.h>

/* Exit statuses; the top of tools/spry_cat.c says what each means. */
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

/*
 * cat_verbose: -1 with --silent, 0 by default, above 0 with --verbose;
 * set while parsing, read by cat_err and cat_note.
 */
extern int cat_verbose;

/* cat_err prints "spry-cat: <message>" on stderr unless --silent. */
void cat_err(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* cat_note prints a progress line on stderr with --verbose. */
void cat_note(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/*
 * cat_opts_parse reads argv into *o (which it initializes). Returns 0,
 * CAT_R_HELP (--help or --version printed), CAT_USAGE or CAT_FAIL (out of
 * memory), having said why on stderr. cat_opts_fini frees o either way.
 */
int cat_opts_parse(cat_opts *o, int argc, char **argv);

/* cat_opts_check validates a parsed command line: 0 or CAT_USAGE. */
int cat_opts_check(const cat_opts *o);

/* cat_opts_fini frees what cat_opts_parse allocated. */
void cat_opts_fini(cat_opts *o);

/*
 * cat_opts_proto returns the SPRY_* id to open (--pair: SPRY_PAIR1, or
 * SPRY_PAIR0 with --compat). o must have passed cat_opts_check.
 */
int cat_opts_proto(const cat_opts *o);

#endif /* SPRY_TOOLS_SPRY_CAT_H */
