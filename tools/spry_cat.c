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
 * tools/spry_cat_opts.c reads the command line; docs/tools/spry-cat.md
 * lists every flag and the differences from nngcat. Single-threaded:
 * only main's thread runs spry-cat's own code.
 *
 * Exit status:
 *   0  done (also: receiving ended by --recv-timeout), --help, --version
 *   1  run-time failure: connection refused, send timed out, receive
 *      error, unreadable --file, output error
 *   2  bad command line: unknown flag, bad value, conflicting flags,
 *      missing protocol, address or data
 *   3  bad URL: malformed, or a host name that does not resolve
 *   4  no transport for the URL's scheme (e.g. ipc:// or tcp:// in a
 *      build without them)
 *   5  address in use (listen)
 */
#include "spry_cat.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

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

/* ---- output formats ------------------------------------------------- */

/* esc_letter returns the C escape letter of c (\n, \t, \r), or 0. */
static char
esc_letter(unsigned char c)
{
	switch (c) {
	case '\n':
		return 'n';
	case '\t':
		return 't';
	case '\r':
		return 'r';
	default:
		return 0;
	}
}

/*
 * put_quoted prints p as a C string on one line: ", \ and \n \t \r
 * escaped, other bytes outside printable ASCII as \xNN (every byte so
 * with all_hex), as nngcat's quoted and hex formats do.
 */
static void
put_quoted(const unsigned char *p, size_t n, bool all_hex)
{
	putchar('"');
	for (size_t i = 0; i < n; i++) {
		unsigned char c = p[i];
		char          e = all_hex ? 0 : esc_letter(c);

		if (e != 0) {
			printf("\\%c", e);
		} else if (all_hex || c < 0x20 || c > 0x7e) {
			printf("\\x%02x", c);
		} else {
			if (c == '"' || c == '\\') {
				putchar('\\');
			}
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

	if (p == NULL) { /* copying a shared body failed */
		cat_err("Out of memory.");
		return CAT_FAIL;
	}

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

/* cat_run runs the whole tool once the command line is valid. */
static int
cat_run(const cat_opts *o)
{
	cat c = {.o = o, .proto = cat_opts_proto(o)};
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
	int      rv = cat_opts_parse(&o, argc, argv);

	if (rv == 0) {
		rv = cat_opts_check(&o);
	}
	if (rv == 0) {
		rv = cat_run(&o);
	}
	cat_opts_fini(&o);
	return rv == CAT_R_HELP ? 0 : rv;
}
