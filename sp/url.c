/* SPDX-License-Identifier: MIT */
/*
 * sp/url.c: parsing and formatting the URLs of sp/url.h. A parse splits
 * the string without copying (url_parts), checks every part, then makes
 * one allocation that holds the struct, a copy of the string and the
 * lower-cased host; a name or path points into that copy.
 *
 * What is accepted, measured against NNG 1.5.2 (libnng-dev, whose
 * nng_url_parse, nng_listen and nng_dial were run on each case):
 *
 * - Schemes match without regard to case ("TCP://" is tcp://), as in
 *   NNG, and format in lower case. A well-formed scheme that is not
 *   ours gives SPRY_ENOTSUP, as nng_listen does; a malformed one, or no
 *   "://", gives SPRY_EADDRINVAL.
 * - inproc:// takes the rest verbatim as the name; ipc:// takes it
 *   verbatim as the path ("ipc:///tmp/s" is "/tmp/s", "ipc://s" is
 *   relative). NNG also takes an empty inproc name; we refuse it. An ipc
 *   path must fit sun_path with its NUL (107 bytes on Linux): NNG's
 *   listener refuses longer ones with NNG_EADDRINVAL too.
 * - tcp://: the host is lower-cased (NNG does); "*" and "" both mean any
 *   address and are stored as "" (NNG also turns "*" into ""); so is
 *   "[*]", as nanomsg allows the interface in brackets. An IPv6
 *   literal sits in brackets, which are not part of the host; NNG takes
 *   "[]" as an empty host, we refuse it. The port is required: NNG's
 *   listener takes a missing port as port 0 and its dialer refuses it;
 *   we ask for an explicit ":0". A lone "/" after the port is accepted
 *   and dropped (NNG accepts it); any other path, a query, a fragment
 *   or user info is refused, as NNG's tcp transport does.
 * - Ports: decimal digits, 0 to 65535 (leading zeros are fine). NNG 1.5
 *   also takes signs ("+5") through strtol; we do not. Service names:
 *   NNG 1.5 accepts them ("tcp://host:http" listens on port 80, looked
 *   up when listening or dialing) and NNG 2 looks them up while parsing
 *   (getservbyname). So do we: a name of letters, digits and hyphens is
 *   looked up, case-insensitively as NNG does, with getaddrinfo (which
 *   is thread safe) and an unknown name gives SPRY_EADDRINVAL.
 *
 * Checks that need the network or the peer's role are the transports':
 * resolving names, tcp4/tcp6 against the host's family, and a dialer's
 * refusal of an empty host or port 0 (as NNG's dialer refuses them).
 */
#include "sp/url.h"

#include "mailbox/alloc.h"
#include "spry/error.h"

#include <netdb.h>
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <sys/un.h>

/* The longest ipc path: what sun_path holds before its NUL. */
#define URL_IPC_MAXLEN (sizeof(((struct sockaddr_un *)0)->sun_path) - 1)

/* The longest service name looked up (IANA's are at most 15). */
#define URL_SERVICE_MAXLEN 32

/* A scheme's name and value; the table is the list of known schemes. */
typedef struct url_scheme_entry {
	const char      *name;   /* lower case, as formatted */
	spry__url_scheme scheme; /* its value */
} url_scheme_entry;

static const url_scheme_entry url_schemes[] = {
    {"inproc", SPRY__URL_INPROC},
    {"ipc", SPRY__URL_IPC},
    {"tcp", SPRY__URL_TCP},
    {"tcp4", SPRY__URL_TCP4},
    {"tcp6", SPRY__URL_TCP6},
};

#define URL_NSCHEMES (sizeof(url_schemes) / sizeof(url_schemes[0]))

/* The pieces of a URL being parsed: views into the caller's string. */
typedef struct url_parts {
	spry__url_scheme scheme; /* the transport */
	const char      *rest;   /* what follows "://" */
	size_t           len;    /* strlen of the whole string */
	const char      *host;   /* tcp*: the host, without brackets */
	size_t           hlen;   /* its length; 0 = any address */
	uint16_t         port;   /* tcp*: the port */
} url_parts;

/* ASCII only: the C library's versions depend on the locale. */
static bool
url_is_alpha(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

static bool
url_is_digit(char c)
{
	return c >= '0' && c <= '9';
}

static char
url_lower(char c)
{
	return c >= 'A' && c <= 'Z' ? (char)(c - 'A' + 'a') : c;
}

/* A scheme is a letter, then letters, digits, '+', '-', '.' (RFC 3986). */
static bool
url_is_scheme_char(char c, size_t i)
{
	if (i == 0) {
		return url_is_alpha(c);
	}
	return url_is_alpha(c) || url_is_digit(c) || c == '+' || c == '-' ||
	    c == '.';
}

/* Parse the scheme and "://"; sets p->scheme and p->rest. */
static int
url_split_scheme(const char *raw, url_parts *p)
{
	size_t n = 0;

	while (url_is_scheme_char(raw[n], n)) {
		n++;
	}
	if (n == 0 || strncmp(raw + n, "://", 3) != 0) {
		return SPRY_EADDRINVAL;
	}
	p->rest = raw + n + 3;
	for (size_t i = 0; i < URL_NSCHEMES; i++) {
		if (strlen(url_schemes[i].name) == n &&
		    strncasecmp(raw, url_schemes[i].name, n) == 0) {
			p->scheme = url_schemes[i].scheme;
			return 0;
		}
	}
	return SPRY_ENOTSUP;
}

/*
 * Whether c may appear in a host: no controls, spaces or delimiters of
 * other URL parts; ':' only inside brackets. Other bytes (UTF-8 names,
 * '%' of a zone id) are left for the resolver to judge.
 */
static bool
url_is_host_char(char c, bool bracketed)
{
	if ((unsigned char)c <= ' ' || c == 0x7f) {
		return false;
	}
	if (c == ':') {
		return bracketed;
	}
	return strchr("/?#@[]", c) == NULL;
}

/* Split "host" or "[v6]" off s; *after gets what follows it. */
static int
url_split_host(const char *s, url_parts *p, const char **after)
{
	bool bracketed = s[0] == '[';

	if (bracketed) {
		const char *end = strchr(s, ']');

		if (end == NULL || end == s + 1) {
			return SPRY_EADDRINVAL; /* unbalanced, or "[]" */
		}
		p->host = s + 1;
		p->hlen = (size_t)(end - p->host);
		*after  = end + 1;
	} else {
		p->host = s;
		p->hlen = strcspn(s, ":/");
		*after  = s + p->hlen;
	}
	if (p->hlen > SPRY__URL_HOST_MAXLEN) {
		return SPRY_EADDRINVAL;
	}
	for (size_t i = 0; i < p->hlen; i++) {
		if (!url_is_host_char(p->host[i], bracketed)) {
			return SPRY_EADDRINVAL;
		}
	}
	if (p->hlen == 1 && p->host[0] == '*') {
		p->hlen = 0; /* "*" or "[*]": any address, as "" */
	}
	return 0;
}

/* The port written as the n decimal digits at s: 0 to 65535. */
static int
url_port_number(const char *s, size_t n, uint16_t *port)
{
	uint32_t v = 0;

	for (size_t i = 0; i < n; i++) {
		/* Checked at each digit, so that v cannot wrap. */
		if ((v = v * 10 + (uint32_t)(s[i] - '0')) > UINT16_MAX) {
			return SPRY_EADDRINVAL;
		}
	}
	*port = (uint16_t)v;
	return 0;
}

/* Look up the TCP port of the service named by the n bytes at s. */
static int
url_port_service(const char *s, size_t n, uint16_t *port)
{
	char            name[URL_SERVICE_MAXLEN + 1];
	struct addrinfo hints, *res = NULL;
	int             rv;

	if (n > URL_SERVICE_MAXLEN) {
		return SPRY_EADDRINVAL;
	}
	for (size_t i = 0; i < n; i++) {
		if (!url_is_alpha(s[i]) && !url_is_digit(s[i]) &&
		    s[i] != '-') {
			return SPRY_EADDRINVAL;
		}
		name[i] = url_lower(s[i]);
	}
	name[n] = '\0';
	memset(&hints, 0, sizeof(hints));
	hints.ai_family   = AF_INET; /* one answer; the port is the same */
	hints.ai_socktype = SOCK_STREAM;
	hints.ai_flags    = AI_PASSIVE;
	if ((rv = getaddrinfo(NULL, name, &hints, &res)) != 0) {
		return rv == EAI_MEMORY ? SPRY_ENOMEM : SPRY_EADDRINVAL;
	}
	*port = ntohs(
	    ((const struct sockaddr_in *)(void *)res->ai_addr)->sin_port);
	freeaddrinfo(res);
	return 0;
}

/* Parse ":port" and an optional lone "/" at s, which must end there. */
static int
url_split_port(const char *s, url_parts *p)
{
	size_t n;

	if (s[0] != ':') {
		return SPRY_EADDRINVAL; /* no port */
	}
	s++;
	n = strcspn(s, "/");
	if (n == 0 || (s[n] == '/' && s[n + 1] != '\0')) {
		return SPRY_EADDRINVAL; /* empty port, or a path */
	}
	return strspn(s, "0123456789") == n ? url_port_number(s, n, &p->port) :
	                                      url_port_service(s, n, &p->port);
}

/* inproc: a non-empty name; ipc: a non-empty path that fits sun_path. */
static int
url_check_path(const url_parts *p)
{
	size_t n = strlen(p->rest);

	if (n == 0 || (p->scheme == SPRY__URL_IPC && n > URL_IPC_MAXLEN)) {
		return SPRY_EADDRINVAL;
	}
	return 0;
}

/* Split what follows "://" by scheme. */
static int
url_split_rest(url_parts *p)
{
	const char *after;
	int         rv;

	if (!spry__url_is_tcp(p->scheme)) {
		return url_check_path(p);
	}
	if ((rv = url_split_host(p->rest, p, &after)) != 0) {
		return rv;
	}
	return url_split_port(after, p);
}

/* Make the URL of checked parts p of raw: one block for everything. */
static int
url_build(spry__url **out, const char *raw, const url_parts *p)
{
	bool   tcp  = spry__url_is_tcp(p->scheme);
	size_t size = sizeof(spry__url) + p->len + 1 + (tcp ? p->hlen + 1 : 0);
	spry__url *u;

	if ((u = spry__alloc(size)) == NULL) {
		return SPRY_ENOMEM;
	}
	u->scheme = p->scheme;
	u->size   = size;
	u->raw    = (char *)(u + 1);
	memcpy(u->raw, raw, p->len + 1);
	if (tcp) {
		u->host = u->raw + p->len + 1;
		for (size_t i = 0; i < p->hlen; i++) {
			u->host[i] = url_lower(p->host[i]);
		}
		u->port = p->port; /* the block is zeroed: host ends in NUL */
	} else {
		u->path = u->raw + (p->rest - raw);
	}
	*out = u;
	return 0;
}

int
spry__url_parse(spry__url **out, const char *raw)
{
	url_parts p;
	int       rv;

	if (out == NULL || raw == NULL) {
		return SPRY_EINVAL;
	}
	memset(&p, 0, sizeof(p));
	if ((p.len = strnlen(raw, SPRY__URL_MAXLEN + 1)) > SPRY__URL_MAXLEN) {
		return SPRY_EADDRINVAL;
	}
	if ((rv = url_split_scheme(raw, &p)) != 0 ||
	    (rv = url_split_rest(&p)) != 0) {
		return rv;
	}
	return url_build(out, raw, &p);
}

void
spry__url_free(spry__url *u)
{
	if (u != NULL) {
		spry__free(u, u->size);
	}
}

const char *
spry__url_scheme_name(spry__url_scheme scheme)
{
	for (size_t i = 0; i < URL_NSCHEMES; i++) {
		if (url_schemes[i].scheme == scheme) {
			return url_schemes[i].name;
		}
	}
	return NULL;
}

int
spry__url_format(const spry__url *u, char *buf, size_t len)
{
	const char *name;
	bool        v6;
	int         n;

	if (u == NULL || buf == NULL ||
	    (name = spry__url_scheme_name(u->scheme)) == NULL) {
		return SPRY_EINVAL;
	}
	if (!spry__url_is_tcp(u->scheme)) {
		n = snprintf(buf, len, "%s://%s", name, u->path);
	} else {
		v6 = strchr(u->host, ':') != NULL;
		n  = snprintf(buf, len, "%s://%s%s%s:%u", name, v6 ? "[" : "",
		     u->host, v6 ? "]" : "", (unsigned)u->port);
	}
	return n >= 0 && (size_t)n < len ? 0 : SPRY_ENOSPC;
}

int
spry__url_set_port(spry__url *u, uint16_t port)
{
	if (u == NULL || !spry__url_is_tcp(u->scheme)) {
		return SPRY_EINVAL;
	}
	u->port = port;
	return 0;
}
