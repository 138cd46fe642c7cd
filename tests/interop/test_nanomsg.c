/* SPDX-License-Identifier: MIT */
/*
 * tests/interop/test_nanomsg.c: spry against libnanomsg (1.1): the peer
 * functions of interop.h over nanomsg's AF_SP sockets, and main. The
 * cases themselves are in cases.c. nanomsg has no PAIR1, so those
 * cases are not run.
 *
 * nanomsg cannot listen on port 0 and tell the port, so a tcp listener
 * asks the system for a free port first (bind to port 0, read it,
 * close) and binds that, trying again with another if someone took it
 * in between.
 */
#include "tests/interop/interop.h"

#include <nanomsg/bus.h>
#include <nanomsg/nn.h>
#include <nanomsg/pair.h>
#include <nanomsg/pipeline.h>
#include <nanomsg/pubsub.h>
#include <nanomsg/reqrep.h>
#include <nanomsg/survey.h>

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

/* Free ports to try for one tcp listener. */
#define NNP_PORT_TRIES 20

/* A nanomsg socket (used by one thread at a time, see interop.h). */
struct peer {
	int fd; /* the nanomsg socket */
};

const char *const peer_lib = "nanomsg";

/* See interop.h: its SUB filter reads past a 0-byte message. */
const bool peer_sub_empty_unreliable = true;

/* nanomsg's protocol of each SP id, -1 for none. */
static int
nnp_proto(int proto)
{
	switch (proto) {
	case 0x10:
		return NN_PAIR;
	case 0x20:
		return NN_PUB;
	case 0x21:
		return NN_SUB;
	case 0x30:
		return NN_REQ;
	case 0x31:
		return NN_REP;
	case 0x50:
		return NN_PUSH;
	case 0x51:
		return NN_PULL;
	case 0x62:
		return NN_SURVEYOR;
	case 0x63:
		return NN_RESPONDENT;
	case 0x70:
		return NN_BUS;
	default:
		return -1;
	}
}

bool
peer_has(int proto)
{
	return nnp_proto(proto) >= 0;
}

static int
nnp_setint(int fd, int level, int opt, int v)
{
	return nn_setsockopt(fd, level, opt, &v, sizeof(v)) == 0 ? 0 :
	                                                           nn_errno();
}

int
peer_open(peer **out, int proto)
{
	peer *p;
	int   rv;

	if (nnp_proto(proto) < 0) {
		return ENOTSUP;
	}
	if ((p = calloc(1, sizeof(*p))) == NULL) {
		return ENOMEM;
	}
	if ((p->fd = nn_socket(AF_SP, nnp_proto(proto))) < 0) {
		rv = nn_errno();
		free(p);
		return rv;
	}
	if ((rv = nnp_setint(
	         p->fd, NN_SOL_SOCKET, NN_RCVTIMEO, PEER_GUARD_MS)) != 0 ||
	    (rv = nnp_setint(
	         p->fd, NN_SOL_SOCKET, NN_SNDTIMEO, PEER_GUARD_MS)) != 0) {
		peer_close(p);
		return rv;
	}
	*out = p;
	return 0;
}

/* A port of 127.0.0.1 nobody listens on right now, or 0. */
static int
nnp_free_port(void)
{
	struct sockaddr_in sa  = {0};
	socklen_t          len = sizeof(sa);
	int                fd, port = 0;

	if ((fd = socket(AF_INET, SOCK_STREAM, 0)) < 0) {
		return 0;
	}
	sa.sin_family      = AF_INET;
	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (bind(fd, (struct sockaddr *)&sa, sizeof(sa)) == 0 &&
	    getsockname(fd, (struct sockaddr *)&sa, &len) == 0) {
		port = ntohs(sa.sin_port);
	}
	(void)close(fd);
	return port;
}

/* Bind tcp://127.0.0.1 on a free port (see the top of the file). */
static int
nnp_listen_tcp(peer *p, char *got)
{
	for (int i = 0; i < NNP_PORT_TRIES; i++) {
		int port = nnp_free_port();

		if (port == 0) {
			return EADDRNOTAVAIL;
		}
		snprintf(got, PEER_URL_MAX, "tcp://127.0.0.1:%d", port);
		if (nn_bind(p->fd, got) >= 0) {
			return 0;
		}
		if (nn_errno() != EADDRINUSE) {
			return nn_errno();
		}
	}
	return EADDRINUSE;
}

int
peer_listen(peer *p, const char *url, char *got)
{
	if (strcmp(url, "tcp://127.0.0.1:0") == 0) {
		return nnp_listen_tcp(p, got);
	}
	snprintf(got, PEER_URL_MAX, "%s", url);
	return nn_bind(p->fd, url) >= 0 ? 0 : nn_errno();
}

int
peer_dial(peer *p, const char *url)
{
	return nn_connect(p->fd, url) >= 0 ? 0 : nn_errno();
}

int
peer_send(peer *p, const void *buf, size_t n)
{
	int rv = nn_send(p->fd, buf, n, 0);

	if (rv < 0) {
		return nn_errno();
	}
	return (size_t)rv == n ? 0 : EMSGSIZE;
}

int
peer_recv(peer *p, void **buf, size_t *n)
{
	void *m = NULL;
	int   rv;

	if ((rv = nn_recv(p->fd, &m, NN_MSG, 0)) < 0) {
		return nn_errno();
	}
	*n = (size_t)rv;
	if ((*buf = malloc(*n + 1)) == NULL) {
		nn_freemsg(m);
		return ENOMEM;
	}
	memcpy(*buf, m, *n);
	nn_freemsg(m);
	return 0;
}

int
peer_subscribe(peer *p, const void *topic, size_t n)
{
	return nn_setsockopt(p->fd, NN_SUB, NN_SUB_SUBSCRIBE, topic, n) == 0 ?
	    0 :
	    nn_errno();
}

int
peer_set_surveytime(peer *p, int ms)
{
	return nnp_setint(p->fd, NN_SURVEYOR, NN_SURVEYOR_DEADLINE, ms);
}

bool
peer_survey_over(int err)
{
	return err == ETIMEDOUT || err == EFSM;
}

const char *
peer_strerror(int err)
{
	return nn_strerror(err);
}

void
peer_close(peer *p)
{
	if (p == NULL) {
		return;
	}
	/* nn_close may be interrupted by a signal; it must not leak. */
	while (nn_close(p->fd) != 0 && nn_errno() == EINTR) { }
	free(p);
}

int
main(void)
{
	return interop_main();
}
