/* SPDX-License-Identifier: MIT */
/*
 * sp/url.h: the URLs that name where a socket listens or dials, as NNG
 * 1.5 users write them: inproc://name, ipc:///abs/path or ipc://rel,
 * tcp://host:port (and tcp4://, tcp6://, IPv6 literals in brackets).
 * The socket layer parses a URL once, dispatches on its scheme to a
 * transport and hands it the parsed fields; after listening on port 0
 * it stores the bound port with spry__url_set_port so that formatting
 * the URL gives an address peers can dial. Parsing is syntax only:
 * host names are resolved, and address families checked against
 * tcp4/tcp6, by the transports. url.c says what is accepted, and how
 * that compares with NNG.
 */
#ifndef SPRY_SP_URL_H
#define SPRY_SP_URL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* The longest URL accepted, in bytes (without the terminating NUL). */
#define SPRY__URL_MAXLEN 1024

/*
 * The longest host accepted, in bytes, without brackets: a DNS name
 * has at most 253; NNG refuses 256 and more.
 */
#define SPRY__URL_HOST_MAXLEN 255

/*
 * A buffer of this many bytes holds the canonical form of any parsed URL,
 * also after spry__url_set_port.
 */
#define SPRY__URL_FORMAT_SIZE (SPRY__URL_MAXLEN + 1)

/* The schemes, one per transport (tcp4 and tcp6 restrict the family). */
typedef enum spry__url_scheme {
	SPRY__URL_INPROC, /* inproc://name: within one process */
	SPRY__URL_IPC,    /* ipc://path: a Unix domain socket */
	SPRY__URL_TCP,    /* tcp://host:port: IPv4 or IPv6 */
	SPRY__URL_TCP4,   /* tcp4://host:port: IPv4 only */
	SPRY__URL_TCP6,   /* tcp6://host:port: IPv6 only */
} spry__url_scheme;

/*
 * A parsed URL. It owns its strings, which live in the same allocation;
 * spry__url_free frees it all. Fields are read freely; only
 * spry__url_set_port changes one. Guarded by its holder (no locking).
 */
typedef struct spry__url {
	/* The transport. */
	spry__url_scheme scheme;
	/* The string as given; never changed, not even by set_port. */
	char *raw;
	/*
	 * tcp*: the host without brackets, in ASCII lower case; "" (written
	 * "" or "*") means any address. NULL for inproc and ipc.
	 */
	char *host;
	/* inproc: the name; ipc: the path; verbatim, non-empty. NULL: tcp*. */
	char *path;
	/* tcp*: the port, 0 = ephemeral. 0 for inproc and ipc. */
	uint16_t port;
	/* Bytes allocated for the struct and its strings. */
	size_t size;
} spry__url;

/*
 * spry__url_parse parses the NUL-terminated string raw and hands out a
 * new URL through *out, which the caller frees with spry__url_free.
 * Errors (nothing is allocated and *out is left alone): SPRY_EINVAL when
 * out or raw is NULL; SPRY_ENOTSUP for a well-formed scheme that spry
 * has no transport for (ws://, tls+tcp://, unix://, ...);
 * SPRY_EADDRINVAL for anything malformed (no "://", longer than
 * SPRY__URL_MAXLEN, empty inproc name, empty or too long ipc path, bad
 * host, brackets, or missing, unknown or out-of-range port); SPRY_ENOMEM.
 * A port given by service name ("http") reads the system's services
 * database; a numeric one never does. Thread safe; never blocks
 * otherwise.
 */
int spry__url_parse(spry__url **out, const char *raw);

/* spry__url_free frees u and its strings; NULL is fine. */
void spry__url_free(spry__url *u);

/*
 * spry__url_format writes u's canonical form into buf (len bytes with
 * the NUL): the scheme in lower case, then the name or path verbatim,
 * or the host (in brackets when it holds a ':', as IPv6 literals do)
 * and the decimal port. Parsing the result gives the same fields.
 * Returns 0; SPRY_EINVAL when u or buf is NULL; SPRY_ENOSPC when len is
 * too small, and buf then holds as much as fits (when len > 0).
 * SPRY__URL_FORMAT_SIZE bytes are always enough.
 */
int spry__url_format(const spry__url *u, char *buf, size_t len);

/*
 * spry__url_set_port replaces the port of a tcp* URL, e.g. with the
 * port the system chose for a listener on port 0. raw is unchanged.
 * Returns 0, or SPRY_EINVAL when u is NULL or has no port (inproc, ipc).
 */
int spry__url_set_port(spry__url *u, uint16_t port);

/*
 * spry__url_scheme_name returns the lower-case name of scheme ("tcp6"),
 * or NULL when scheme is not a spry__url_scheme.
 */
const char *spry__url_scheme_name(spry__url_scheme scheme);

/* spry__url_is_tcp says whether scheme is tcp, tcp4 or tcp6. */
static inline bool
spry__url_is_tcp(spry__url_scheme scheme)
{
	return scheme == SPRY__URL_TCP || scheme == SPRY__URL_TCP4 ||
	    scheme == SPRY__URL_TCP6;
}

#endif /* SPRY_SP_URL_H */
