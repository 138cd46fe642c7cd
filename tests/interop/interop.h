/* SPDX-License-Identifier: MIT */
/*
 * tests/interop/interop.h: what the interoperability runner
 * (harness.c) needs from a peer library. Each executable links the
 * runner with one implementation of these functions over a foreign SP
 * library (test_nng.c over libnng, test_nanomsg.c over libnanomsg), so
 * one table of cases checks spry against both.
 *
 * A peer socket is used by one thread at a time: opened, connected and
 * closed by the test's main thread, driven by the peer thread in
 * between. Every blocking call is bounded by PEER_GUARD_MS (the
 * library's own send and receive timeouts), so a broken exchange fails
 * instead of hanging. Errors are the library's own positive codes;
 * peer_strerror names them.
 */
#ifndef SPRY_TESTS_INTEROP_H
#define SPRY_TESTS_INTEROP_H

#include <stdbool.h>
#include <stddef.h>

/* Hang guard of every peer call, in ms: only a bug waits this long. */
#define PEER_GUARD_MS 10000

/* Room for a URL, with the NUL. */
#define PEER_URL_MAX 256

typedef struct peer peer; /* a socket of the peer library */

/* The peer library's name, as test names show it ("nng"). */
extern const char *const peer_lib;

/*
 * peer_sub_empty_unreliable: whether the library's SUB may deliver a
 * 0-byte message that no topic matches. nanomsg 1.1's does, depending
 * on stale memory (nn_trie_match in src/protocols/pubsub/trie.c reads
 * the byte after the end of the message and goes on with a wrapped
 * size), nanomsg to nanomsg as well; the SUB cases then ignore 0-byte
 * messages at the peer.
 */
extern const bool peer_sub_empty_unreliable;

/* peer_has: whether the library implements proto (an SP id, 0x10...). */
bool peer_has(int proto);

/*
 * peer_open opens a cooked socket of proto (an SP id, spry_proto's
 * values) with send and receive timeouts of PEER_GUARD_MS.
 */
int peer_open(peer **out, int proto);

/*
 * peer_listen listens on url (tcp://127.0.0.1:0 or ipc:///path) and
 * writes the address to dial into got (PEER_URL_MAX bytes): the same
 * URL with the real port when the port was 0.
 */
int peer_listen(peer *p, const char *url, char *got);

/* peer_dial connects to url (the library may finish in the background). */
int peer_dial(peer *p, const char *url);

/* peer_send sends n bytes of buf as one message. */
int peer_send(peer *p, const void *buf, size_t n);

/*
 * peer_recv receives one message body into *buf (malloc'd, the caller
 * frees it; never NULL on success) and its length into *n.
 */
int peer_recv(peer *p, void **buf, size_t *n);

/* peer_subscribe adds a SUB topic of n bytes. */
int peer_subscribe(peer *p, const void *topic, size_t n);

/* peer_set_surveytime sets a SURVEYOR's survey time in ms. */
int peer_set_surveytime(peer *p, int ms);

/*
 * peer_survey_over: whether err, from peer_recv on a SURVEYOR, means
 * that the survey's time is up: a timeout, or the error the library
 * gives once the survey has ended before the receive began (NNG's
 * NNG_ESTATE, nanomsg's EFSM), which a slow run meets.
 */
bool peer_survey_over(int err);

/* peer_strerror: the library's text for err. */
const char *peer_strerror(int err);

/* peer_close closes p and frees it. NULL is fine. */
void peer_close(peer *p);

/*
 * interop_main runs every case of the table whose protocols the peer
 * library has, over tcp and ipc, each way round; returns the exit
 * status for main.
 */
int interop_main(void);

#endif /* SPRY_TESTS_INTEROP_H */
