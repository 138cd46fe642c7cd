/* SPDX-License-Identifier: MIT */
/*
 * transports/ipc.c: ipc://path, SP over a Unix domain stream socket, in
 * NNG 1.5's wire format (each frame starts with a type byte). This file
 * knows paths; transports/stream.c does the rest.
 *
 * A listener owns its socket file: it removes the file when it closes.
 * A file left behind by a process that died is found stale when nothing
 * answers a connect to it, and is then replaced; a file someone listens
 * on gives SPRY_EADDRINUSE. SPRY_OPT_IPC_PERM, when set, gives the file
 * its permission bits right after bind, before anyone can connect. A
 * connect to a listener whose backlog is full fails at once on Unix
 * sockets (EAGAIN, not in progress): the dialer retries after its
 * backoff, as for a refusal.
 */
#include "spry/error.h"
#include "transports/stream.h"

#include <errno.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

/* The socket address of u's path (the URL parser checked its length). */
static socklen_t
ipc_addr(const spry__url *u, struct sockaddr_un *sa)
{
	size_t n = strlen(u->path);

	memset(sa, 0, sizeof(*sa));
	sa->sun_family = AF_UNIX;
	memcpy(sa->sun_path, u->path, n);
	return (socklen_t)(offsetof(struct sockaddr_un, sun_path) + n + 1);
}

static int
ipc_socket(int flags, int *fd)
{
	*fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | flags, 0);
	return *fd >= 0 ? 0 : spry__stream_errno(errno);
}

/* A socket file nobody listens on: a connect to it is refused. */
static bool
ipc_stale(const struct sockaddr_un *sa, socklen_t len)
{
	int fd, rv, e;

	if (ipc_socket(0, &fd) != 0) {
		return false;
	}
	rv = connect(fd, (const struct sockaddr *)sa, len);
	e  = errno;
	(void)close(fd);
	return rv != 0 && e == ECONNREFUSED;
}

/* bind, replacing a stale socket file. */
static int
ipc_bind_path(int fd, const struct sockaddr_un *sa, socklen_t len)
{
	int e;

	if (bind(fd, (const struct sockaddr *)sa, len) == 0) {
		return 0;
	}
	e = errno;
	if (e == EADDRINUSE && ipc_stale(sa, len) &&
	    unlink(sa->sun_path) == 0) {
		if (bind(fd, (const struct sockaddr *)sa, len) == 0) {
			return 0;
		}
		e = errno;
	}
	/* ENOENT here is a missing directory, not a refusal. */
	return e == ENOENT ? SPRY_EADDRINVAL : spry__stream_errno(e);
}

/* Apply SPRY_OPT_IPC_PERM, if set, to the bound path. */
static int
ipc_perm(spry__ep *ep)
{
	int perm;

	spry__sock_lock(ep->s);
	perm = ep->s->ipcperm;
	spry__sock_unlock(ep->s);
	if (perm >= 0 && chmod(ep->url->path, (mode_t)perm) != 0) {
		return spry__stream_errno(errno);
	}
	return 0;
}

static int
ipc_bind(spry__ep *ep, int *out)
{
	struct sockaddr_un sa;
	socklen_t          len = ipc_addr(ep->url, &sa);
	int                fd, rv;

	if ((rv = ipc_socket(SOCK_NONBLOCK, &fd)) != 0) {
		return rv;
	}
	if ((rv = ipc_bind_path(fd, &sa, len)) != 0) {
		(void)close(fd);
		return rv;
	}
	if ((rv = ipc_perm(ep)) == 0 && listen(fd, SOMAXCONN) != 0) {
		rv = spry__stream_errno(errno);
	}
	if (rv != 0) {
		(void)close(fd);
		(void)unlink(ep->url->path);
		return rv;
	}
	*out = fd;
	return 0;
}

static void
ipc_unbind(spry__ep *ep)
{
	(void)unlink(ep->url->path);
}

static void
ipc_connect(spry__ep *ep)
{
	struct sockaddr_un sa;
	socklen_t          len = ipc_addr(ep->url, &sa);
	int                fd, rv;

	if ((rv = ipc_socket(SOCK_NONBLOCK, &fd)) != 0) {
		spry__stream_connected(ep, -1, rv);
		return;
	}
	if (connect(fd, (struct sockaddr *)&sa, len) != 0 &&
	    errno != EINPROGRESS) {
		rv = errno == EAGAIN ? SPRY_ECONNREFUSED :
		                       spry__stream_errno(errno);
		(void)close(fd);
		spry__stream_connected(ep, -1, rv);
		return;
	}
	spry__stream_connected(ep, fd, 0);
}

static void
ipc_tune(int fd)
{
	(void)fd;
}

/*
 * Both ends' address: the listener's path. A dialer's Unix socket is
 * unnamed, so neither getsockname nor getpeername has a better one.
 */
static void
ipc_name(spry__ep *ep, int fd, char *buf, size_t len)
{
	(void)fd;
	if (spry__url_format(ep->url, buf, len) != 0) {
		buf[0] = '\0';
	}
}

static const spry__stream_ops ipc_ops = {
    .ipc     = true,
    .bind    = ipc_bind,
    .unbind  = ipc_unbind,
    .connect = ipc_connect,
    .tune    = ipc_tune,
    .peer    = ipc_name,
    .local   = ipc_name,
};

static int
ipc_listen(spry__ep *ep)
{
	return spry__stream_listen(ep, &ipc_ops);
}

static int
ipc_dial(spry__ep *ep)
{
	return spry__stream_dial(ep, &ipc_ops);
}

const spry__tran spry__tran_ipc = {
    .scheme      = "ipc",
    .listen      = ipc_listen,
    .dial        = ipc_dial,
    .ep_close    = spry__stream_ep_close,
    .ep_free     = spry__stream_ep_free,
    .send        = spry__stream_send,
    .recv_pause  = spry__stream_recv_pause,
    .recv_resume = spry__stream_recv_resume,
    .close       = spry__stream_close,
    .free        = spry__stream_free,
    .rx_own      = spry__stream_rx_own,
    .rx_read     = spry__stream_rx_read,
    .rx_disown   = spry__stream_rx_disown,
};
