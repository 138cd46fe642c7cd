/* SPDX-License-Identifier: MIT */
/*
 * transports/tcp.c: tcp://host:port, tcp4:// and tcp6:// (the same with
 * the address family fixed), in NNG 1.5's wire format. This file knows
 * addresses: parsing and resolving them, binding, connecting, naming the
 * peer; transports/stream.c does the rest.
 *
 * Hosts. A numeric address (192.0.2.1, [::1]) is used as it is. A name
 * is resolved with getaddrinfo: for a listener in spry_listen's own
 * thread (the caller waits anyway), for a dialer in a short-lived thread
 * of its own, so that neither the socket's actor nor the poller ever
 * waits for DNS. (glibc's getaddrinfo_a would do the same with threads
 * it makes itself, which ThreadSanitizer cannot see: it crashes.) The
 * first address of the wanted family is used. An empty host ("" or "*")
 * means any address when listening (IPv4's for tcp and tcp4, IPv6's for
 * tcp6) and is refused when dialing.
 */
#include "spry/error.h"
#include "transports/stream.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

/* An address to bind or connect to. */
typedef struct tcp_addr {
	struct sockaddr_storage ss;  /* the address and port */
	socklen_t               len; /* bytes of ss in use */
} tcp_addr;

static int
tcp_family(const spry__url *u)
{
	switch (u->scheme) {
	case SPRY__URL_TCP4:
		return AF_INET;
	case SPRY__URL_TCP6:
		return AF_INET6;
	default:
		return AF_UNSPEC;
	}
}

/* Store a numeric host in a; false when host is not a numeric address. */
static bool
tcp_numeric(const char *host, uint16_t port, tcp_addr *a)
{
	struct sockaddr_in  *in  = (struct sockaddr_in *)&a->ss;
	struct sockaddr_in6 *in6 = (struct sockaddr_in6 *)&a->ss;

	memset(a, 0, sizeof(*a));
	if (inet_pton(AF_INET, host, &in->sin_addr) == 1) {
		in->sin_family = AF_INET;
		in->sin_port   = htons(port);
		a->len         = sizeof(*in);
		return true;
	}
	if (inet_pton(AF_INET6, host, &in6->sin6_addr) == 1) {
		in6->sin6_family = AF_INET6;
		in6->sin6_port   = htons(port);
		a->len           = sizeof(*in6);
		return true;
	}
	return false;
}

/* The wildcard address of a listener with an empty host. */
static void
tcp_any(int family, uint16_t port, tcp_addr *a)
{
	struct sockaddr_in  *in  = (struct sockaddr_in *)&a->ss;
	struct sockaddr_in6 *in6 = (struct sockaddr_in6 *)&a->ss;

	memset(a, 0, sizeof(*a));
	if (family == AF_INET6) {
		in6->sin6_family = AF_INET6;
		in6->sin6_addr   = in6addr_any;
		in6->sin6_port   = htons(port);
		a->len           = sizeof(*in6);
	} else {
		in->sin_family      = AF_INET;
		in->sin_addr.s_addr = htonl(INADDR_ANY);
		in->sin_port        = htons(port);
		a->len              = sizeof(*in);
	}
}

/* Resolve u's host for binding or connecting; blocks for names. */
static int
tcp_resolve(const spry__url *u, bool passive, tcp_addr *a)
{
	struct addrinfo hints  = {0}, *res;
	int             family = tcp_family(u);

	if (u->host[0] == '\0') {
		if (!passive) {
			return SPRY_EADDRINVAL;
		}
		tcp_any(family, u->port, a);
		return 0;
	}
	if (!tcp_numeric(u->host, u->port, a)) {
		hints.ai_family   = family;
		hints.ai_socktype = SOCK_STREAM;
		hints.ai_flags    = passive ? AI_PASSIVE : 0;
		if (getaddrinfo(u->host, NULL, &hints, &res) != 0) {
			return SPRY_EADDRINVAL;
		}
		memcpy(&a->ss, res->ai_addr, res->ai_addrlen);
		a->len = res->ai_addrlen;
		freeaddrinfo(res);
		((struct sockaddr_in *)&a->ss)->sin_port = htons(u->port);
	}
	if (family != AF_UNSPEC && a->ss.ss_family != family) {
		return SPRY_EADDRINVAL; /* tcp4://[::1]:80 and the like */
	}
	return 0;
}

static int
tcp_socket(int family, int *fd)
{
	*fd = socket(family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	return *fd >= 0 ? 0 : spry__stream_errno(errno);
}

/* After binding port 0: the port the system chose goes into the URL. */
static int
tcp_bound_port(spry__ep *ep, int fd)
{
	struct sockaddr_storage ss;
	socklen_t               len = sizeof(ss);

	if (ep->url->port != 0) {
		return 0;
	}
	if (getsockname(fd, (struct sockaddr *)&ss, &len) != 0) {
		return spry__stream_errno(errno);
	}
	/* sin_port and sin6_port sit at the same offset. */
	return spry__url_set_port(
	    ep->url, ntohs(((struct sockaddr_in *)&ss)->sin_port));
}

static int
tcp_bind(spry__ep *ep, int *out)
{
	tcp_addr a;
	int      fd, on = 1, rv;

	if ((rv = tcp_resolve(ep->url, true, &a)) != 0 ||
	    (rv = tcp_socket(a.ss.ss_family, &fd)) != 0) {
		return rv;
	}
	/* A restarted listener must not wait out TIME_WAIT. */
	(void)setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &on, sizeof(on));
	if (a.ss.ss_family == AF_INET6 && ep->url->scheme == SPRY__URL_TCP6) {
		(void)setsockopt(
		    fd, IPPROTO_IPV6, IPV6_V6ONLY, &on, sizeof(on));
	}
	if (bind(fd, (struct sockaddr *)&a.ss, a.len) != 0 ||
	    listen(fd, SOMAXCONN) != 0) {
		rv = spry__stream_errno(errno);
	} else {
		rv = tcp_bound_port(ep, fd);
	}
	if (rv != 0) {
		(void)close(fd);
		return rv;
	}
	*out = fd;
	return 0;
}

static void
tcp_unbind(spry__ep *ep)
{
	(void)ep;
}

/* Start a non-blocking connect to a and report it. */
static void
tcp_connect_addr(spry__ep *ep, const tcp_addr *a)
{
	int fd, rv;

	if ((rv = tcp_socket(a->ss.ss_family, &fd)) != 0) {
		spry__stream_connected(ep, -1, rv);
		return;
	}
	if (connect(fd, (const struct sockaddr *)&a->ss, a->len) != 0 &&
	    errno != EINPROGRESS) {
		rv = spry__stream_errno(errno);
		(void)close(fd);
		spry__stream_connected(ep, -1, rv);
		return;
	}
	spry__stream_connected(ep, fd, 0);
}

/* A dialer's name lookup, in its own thread; it holds ep. */
static void *
tcp_lookup_main(void *arg)
{
	spry__ep *ep = arg;
	tcp_addr  a;
	int       rv;

	if ((rv = tcp_resolve(ep->url, false, &a)) != 0) {
		spry__stream_connected(ep, -1, rv);
	} else {
		tcp_connect_addr(ep, &a);
	}
	spry__ep_release(ep);
	spry__stream_live_add(-1);
	return NULL;
}

/* Resolve a name in a thread of its own, signals blocked. */
static int
tcp_lookup_start(spry__ep *ep)
{
	pthread_attr_t attr;
	pthread_t      t;
	sigset_t       all, old;
	int            rv;

	spry__ep_hold(ep);
	spry__stream_live_add(1);
	sigfillset(&all);
	pthread_attr_init(&attr);
	pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
	pthread_sigmask(SIG_SETMASK, &all, &old);
	rv = pthread_create(&t, &attr, tcp_lookup_main, ep);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	pthread_attr_destroy(&attr);
	if (rv != 0) {
		spry__ep_release(ep);
		spry__stream_live_add(-1);
		return SPRY_ENOMEM;
	}
	return 0;
}

static void
tcp_connect(spry__ep *ep)
{
	const spry__url *u = ep->url;
	tcp_addr         a;
	int              rv;

	if (u->host[0] != '\0' && !tcp_numeric(u->host, u->port, &a)) {
		if ((rv = tcp_lookup_start(ep)) != 0) {
			spry__stream_connected(ep, -1, rv);
		}
		return;
	}
	if ((rv = tcp_resolve(u, false, &a)) != 0) {
		spry__stream_connected(ep, -1, rv);
		return;
	}
	tcp_connect_addr(ep, &a);
}

static void
tcp_tune(int fd)
{
	int on = 1;

	/* SP messages are whole: Nagle would only add latency. */
	(void)setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &on, sizeof(on));
}

/* ss as tcp://192.0.2.1:5555 or tcp://[::1]:5555, or "" when unknown. */
static void
tcp_format(const struct sockaddr_storage *ss, char *buf, size_t len)
{
	char        host[INET6_ADDRSTRLEN];
	const void *at;
	uint16_t    port;

	buf[0] = '\0';
	if (ss->ss_family == AF_INET6) {
		at   = &((const struct sockaddr_in6 *)ss)->sin6_addr;
		port = ntohs(((const struct sockaddr_in6 *)ss)->sin6_port);
	} else if (ss->ss_family == AF_INET) {
		at   = &((const struct sockaddr_in *)ss)->sin_addr;
		port = ntohs(((const struct sockaddr_in *)ss)->sin_port);
	} else {
		return;
	}
	if (inet_ntop(ss->ss_family, at, host, sizeof(host)) == NULL) {
		return;
	}
	(void)snprintf(buf, len,
	    ss->ss_family == AF_INET6 ? "tcp://[%s]:%u" : "tcp://%s:%u", host,
	    (unsigned)port);
}

static void
tcp_peer(spry__ep *ep, int fd, char *buf, size_t len)
{
	struct sockaddr_storage ss;
	socklen_t               sl = sizeof(ss);

	(void)ep;
	if (getpeername(fd, (struct sockaddr *)&ss, &sl) != 0) {
		ss.ss_family = AF_UNSPEC; /* reset before it started: "" */
	}
	tcp_format(&ss, buf, len);
}

/* The connection's own address: a wildcard listener's real one. */
static void
tcp_local(spry__ep *ep, int fd, char *buf, size_t len)
{
	struct sockaddr_storage ss;
	socklen_t               sl = sizeof(ss);

	(void)ep;
	if (getsockname(fd, (struct sockaddr *)&ss, &sl) != 0) {
		ss.ss_family = AF_UNSPEC;
	}
	tcp_format(&ss, buf, len);
}

static const spry__stream_ops tcp_ops = {
    .ipc     = false,
    .bind    = tcp_bind,
    .unbind  = tcp_unbind,
    .connect = tcp_connect,
    .tune    = tcp_tune,
    .peer    = tcp_peer,
    .local   = tcp_local,
};

static int
tcp_listen(spry__ep *ep)
{
	return spry__stream_listen(ep, &tcp_ops);
}

static int
tcp_dial(spry__ep *ep)
{
	return spry__stream_dial(ep, &tcp_ops);
}

/* One table per scheme: the registry matches schemes by name. */
#define TCP_TRAN(name)                                                        \
	{                                                                     \
		.scheme = (name), .listen = tcp_listen, .dial = tcp_dial,     \
		.ep_close = spry__stream_ep_close,                            \
		.ep_free = spry__stream_ep_free, .send = spry__stream_send,   \
		.recv_pause  = spry__stream_recv_pause,                       \
		.recv_resume = spry__stream_recv_resume,                      \
		.close = spry__stream_close, .free = spry__stream_free,       \
		.rx_own    = spry__stream_rx_own,                             \
		.rx_read   = spry__stream_rx_read,                            \
		.rx_disown = spry__stream_rx_disown,                          \
	}

const spry__tran spry__tran_tcp  = TCP_TRAN("tcp");
const spry__tran spry__tran_tcp4 = TCP_TRAN("tcp4");
const spry__tran spry__tran_tcp6 = TCP_TRAN("tcp6");
