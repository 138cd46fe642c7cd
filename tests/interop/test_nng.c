/* SPDX-License-Identifier: MIT */
/*
 * tests/interop/test_nng.c: spry against libnng (1.5): the peer
 * functions of interop.h over NNG's cooked sockets, and main. The cases
 * themselves are in cases.c. NNG has every protocol spry has,
 * PAIR1 included.
 */
#include "tests/interop/interop.h"

#include <nng/nng.h>
#include <nng/protocol/bus0/bus.h>
#include <nng/protocol/pair0/pair.h>
#include <nng/protocol/pair1/pair.h>
#include <nng/protocol/pipeline0/pull.h>
#include <nng/protocol/pipeline0/push.h>
#include <nng/protocol/pubsub0/pub.h>
#include <nng/protocol/pubsub0/sub.h>
#include <nng/protocol/reqrep0/rep.h>
#include <nng/protocol/reqrep0/req.h>
#include <nng/protocol/survey0/respond.h>
#include <nng/protocol/survey0/survey.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* An NNG socket (used by one thread at a time, see interop.h). */
struct peer {
	nng_socket s; /* the socket */
};

const char *const peer_lib = "nng";

const bool peer_sub_empty_unreliable = false;

/* An NNG socket constructor (nng_req0_open, ...). */
typedef int (*nngp_open_fn)(nng_socket *);

/* The constructor of each SP id, NULL for none. */
static nngp_open_fn
nngp_opener(int proto)
{
	switch (proto) {
	case 0x10:
		return nng_pair0_open;
	case 0x11:
		return nng_pair1_open;
	case 0x20:
		return nng_pub0_open;
	case 0x21:
		return nng_sub0_open;
	case 0x30:
		return nng_req0_open;
	case 0x31:
		return nng_rep0_open;
	case 0x50:
		return nng_push0_open;
	case 0x51:
		return nng_pull0_open;
	case 0x62:
		return nng_surveyor0_open;
	case 0x63:
		return nng_respondent0_open;
	case 0x70:
		return nng_bus0_open;
	default:
		return NULL;
	}
}

bool
peer_has(int proto)
{
	return nngp_opener(proto) != NULL;
}

int
peer_open(peer **out, int proto)
{
	nngp_open_fn open = nngp_opener(proto);
	peer        *p;
	int          rv;

	if (open == NULL) {
		return NNG_ENOTSUP;
	}
	if ((p = calloc(1, sizeof(*p))) == NULL) {
		return NNG_ENOMEM;
	}
	if ((rv = open(&p->s)) != 0) {
		free(p);
		return rv;
	}
	if ((rv = nng_socket_set_ms(p->s, NNG_OPT_RECVTIMEO, PEER_GUARD_MS)) !=
	        0 ||
	    (rv = nng_socket_set_ms(p->s, NNG_OPT_SENDTIMEO, PEER_GUARD_MS)) !=
	        0) {
		peer_close(p);
		return rv;
	}
	*out = p;
	return 0;
}

int
peer_listen(peer *p, const char *url, char *got)
{
	nng_listener l;
	int          port, rv;

	if ((rv = nng_listen(p->s, url, &l, 0)) != 0) {
		return rv;
	}
	if (strncmp(url, "tcp://", 6) != 0) {
		snprintf(got, PEER_URL_MAX, "%s", url);
		return 0;
	}
	/* The tests listen on 127.0.0.1:0: ask which port was bound. */
	if ((rv = nng_listener_get_int(l, NNG_OPT_TCP_BOUND_PORT, &port)) !=
	    0) {
		return rv;
	}
	snprintf(got, PEER_URL_MAX, "tcp://127.0.0.1:%d", port);
	return 0;
}

int
peer_dial(peer *p, const char *url)
{
	return nng_dial(p->s, url, NULL, 0);
}

int
peer_send(peer *p, const void *buf, size_t n)
{
	nng_msg *m;
	int      rv;

	if ((rv = nng_msg_alloc(&m, 0)) != 0) {
		return rv;
	}
	if ((rv = nng_msg_append(m, buf, n)) != 0 ||
	    (rv = nng_sendmsg(p->s, m, 0)) != 0) {
		nng_msg_free(m); /* still ours on failure */
	}
	return rv;
}

int
peer_recv(peer *p, void **buf, size_t *n)
{
	nng_msg *m;
	int      rv;

	if ((rv = nng_recvmsg(p->s, &m, 0)) != 0) {
		return rv;
	}
	*n = nng_msg_len(m);
	if ((*buf = malloc(*n + 1)) == NULL) {
		nng_msg_free(m);
		return NNG_ENOMEM;
	}
	memcpy(*buf, nng_msg_body(m), *n);
	nng_msg_free(m);
	return 0;
}

int
peer_subscribe(peer *p, const void *topic, size_t n)
{
	return nng_socket_set(p->s, NNG_OPT_SUB_SUBSCRIBE, topic, n);
}

int
peer_set_surveytime(peer *p, int ms)
{
	return nng_socket_set_ms(p->s, NNG_OPT_SURVEYOR_SURVEYTIME, ms);
}

bool
peer_survey_over(int err)
{
	return err == NNG_ETIMEDOUT || err == NNG_ESTATE;
}

const char *
peer_strerror(int err)
{
	return nng_strerror(err);
}

void
peer_close(peer *p)
{
	if (p != NULL) {
		nng_close(p->s);
		free(p);
	}
}

int
main(void)
{
	return interop_main();
}
