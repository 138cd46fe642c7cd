/* SPDX-License-Identifier: MIT */
/*
 * tests/transports/test_stream.c: the tcp and ipc transports, one battery
 * of cases run once per scheme from a table (NNG's transport tests):
 * refused dials, addresses in use, the bound address read back, both
 * ends' addresses read by pipe id, messages both ways, messages sent just
 * before a close, large and over-size messages, raw peers that send
 * garbage, a wrong protocol, an absurd length or half a frame, handshake
 * deadlines on both sides, a listener restarting under a dialer,
 * hundreds of connections on one listener, backpressure with bounded
 * memory, and closing mid-handshake. Then what belongs to one scheme:
 * IPv6 (with its pipe addresses), a wildcard listener's own address and
 * name lookup for tcp, stale socket files and permissions for ipc.
 *
 * Nothing sleeps to synchronize: tests wait for pipe events, for a
 * plain socket's end of stream or for a blocked sender, each with a
 * 30 s bound that only a bug reaches. Teardown waits until the poller
 * has retired every connection, then checks for leaks. Cases are named
 * <scheme>_<case>; SPRY_TEST_FILTER (a cmocka glob such as "ipc_*")
 * runs some of them. The file is longer than most because it is the
 * whole battery for two transports.
 */
#include "tests/support/support.h"

#include "mailbox/alloc.h"
#include "mailbox/mailbox.h"
#include "sp/socket.h"
#include "transports/stream.h"
#include "transports/wire.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <pthread.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#define URL_MAX SPRY__URL_FORMAT_SIZE
#define GUARD SPRY_SEC(30) /* hang guard: only a bug waits this long */

/* One transport under test. */
typedef struct scheme {
	const char *name; /* "tcp" or "ipc" */
	bool        ipc;  /* ipc framing and addresses */
} scheme;

static const scheme scheme_tcp = {"tcp", false};
static const scheme scheme_ipc = {"ipc", true};

static int
up(void **state)
{
	return spry_test_up(state);
}

/* Connections retire on the poller thread: wait for them, then check. */
static int
down(void **state)
{
	if (!spry__stream_quiesce(spry_deadline_after(GUARD))) {
		fail_msg("%lld stream objects still live",
		    (long long)spry__stream_live());
	}
	return spry_test_down(state);
}

/* ---- helpers ------------------------------------------------------------ */

/* A fresh address to listen on: port 0, or a new path. */
static void
fresh_url(const scheme *sc, char *buf, size_t len)
{
	static unsigned seq;

	if (!sc->ipc) {
		snprintf(buf, len, "tcp://127.0.0.1:0");
		return;
	}
	snprintf(buf, len, "ipc:///tmp/spry-stream-%d-%u.sock", (int)getpid(),
	    seq++);
	(void)unlink(buf + strlen("ipc://"));
}

static spry_socket *
open_sock(int proto)
{
	spry_socket *s;

	spry_test_check(spry_socket_open(&s, proto, NULL), 0);
	spry_test_check(
	    spry_setopt(s, SPRY_OPT_RECVTIMEO, SPRY_DURATION(GUARD)), 0);
	spry_test_check(
	    spry_setopt(s, SPRY_OPT_SENDTIMEO, SPRY_DURATION(GUARD)), 0);
	spry_test_check(
	    spry_setopt(s, SPRY_OPT_RECONNMINT, SPRY_DURATION(SPRY_MSEC(10))),
	    0);
	return s;
}

/* Listen on a fresh address; the URL to dial goes into url. */
static spry_listener *
listen_on(const scheme *sc, spry_socket *s, char *url)
{
	spry_listener *l;
	char           want[URL_MAX];

	fresh_url(sc, want, sizeof(want));
	spry_test_check(spry_listen(s, want, &l), 0);
	spry_test_check(spry_listener_url(l, url, URL_MAX), 0);
	return l;
}

static spry_msg *
msg_of(uint32_t v)
{
	spry_msg *m;

	assert_int_equal(spry_msg_alloc(&m, 0), 0);
	assert_int_equal(spry_msg_append_u32(m, v), 0);
	return m;
}

/* The first word of m's body; frees m. */
static uint32_t
val_of(spry_msg *m)
{
	const uint8_t *b = spry_msg_body(m);
	uint32_t       v;

	assert_true(spry_msg_len(m) >= 4);
	v = (uint32_t)b[0] << 24 | (uint32_t)b[1] << 16 | (uint32_t)b[2] << 8 |
	    b[3];
	spry_msg_free(m);
	return v;
}

static void
send_val(spry_socket *s, uint32_t v)
{
	spry_msg *m = msg_of(v);

	spry_test_check(spry_send(s, m, 0), 0);
}

static uint32_t
recv_val(spry_socket *s)
{
	spry_msg *m;

	spry_test_check(spry_recv(s, &m, 0), 0);
	return val_of(m);
}

/* A mailbox subscribed to s's pipe events (and data, if s receives). */
static spry_mailbox *
events_of(spry_socket *s)
{
	spry_mailbox *mb;

	spry_test_check(spry_mailbox_open(&mb, 64), 0);
	spry_test_check(spry_socket_subscribe(s, mb, true), 0);
	return mb;
}

/*
 * The next item of mb whose spry_msg_err is err (0: a data message),
 * skipping and freeing others; the caller owns it.
 */
static spry_msg *
await_msg(spry_mailbox *mb, int err)
{
	spry_ctx *ctx;
	void     *item;

	assert_int_equal(spry_ctx_with_timeout(&ctx, NULL, GUARD), 0);
	for (;;) {
		spry_test_check(spry_mailbox_recv(ctx, mb, &item), 0);
		if (spry_msg_err(item) == err) {
			break;
		}
		spry_msg_free(item);
	}
	spry_ctx_cancel(ctx);
	spry_ctx_release(ctx);
	return item;
}

static void
await_event(spry_mailbox *mb, int ev)
{
	spry_msg_free(await_msg(mb, ev));
}

/* Close mb and free what it still holds (the socket closed first). */
static void
events_close(spry_mailbox *mb)
{
	void *item;

	spry_mailbox_close(mb);
	while (spry_mailbox_tryrecv(mb, &item) == 0) {
		spry_msg_free(item);
	}
	spry_mailbox_release(mb);
}

/* ---- plain sockets, to play a misbehaving peer ------------------------- */

/* A plain socket of sc's family, not yet connected. */
static int
raw_socket(const scheme *sc)
{
	int fd = socket(sc->ipc ? AF_UNIX : AF_INET, SOCK_STREAM, 0);

	assert_true(fd >= 0);
	return fd;
}

/* Connect fd (from raw_socket) to url, blocking; reads bounded by GUARD. */
static void
raw_connect_fd(const scheme *sc, int fd, const char *url)
{
	struct timeval tv = {30, 0};

	if (sc->ipc) {
		struct sockaddr_un sa = {.sun_family = AF_UNIX};

		strcpy(sa.sun_path, url + strlen("ipc://"));
		assert_int_equal(
		    connect(fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
	} else {
		struct sockaddr_in sa = {.sin_family = AF_INET};
		unsigned           port;

		assert_int_equal(sscanf(url, "tcp://127.0.0.1:%u", &port), 1);
		sa.sin_port        = htons((uint16_t)port);
		sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
		assert_int_equal(
		    connect(fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
	}
	assert_int_equal(
	    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv)), 0);
}

/* A blocking plain socket connected to url, reads bounded by GUARD. */
static int
raw_connect(const scheme *sc, const char *url)
{
	int fd = raw_socket(sc);

	raw_connect_fd(sc, fd, url);
	return fd;
}

static void
raw_send(int fd, const void *p, size_t n)
{
	assert_int_equal(send(fd, p, n, MSG_NOSIGNAL), (ssize_t)n);
}

static void
raw_hello(int fd, uint16_t proto)
{
	uint8_t h[SPRY__WIRE_HELLO_SIZE];

	spry__wire_hello(h, proto);
	raw_send(fd, h, sizeof(h));
}

static void
raw_frame_header(const scheme *sc, int fd, uint64_t len)
{
	uint8_t h[SPRY__WIRE_HEADER_MAX];

	raw_send(fd, h, spry__wire_frame_header(h, sc->ipc, len));
}

/* Read until the other side closes (end of stream or reset); close fd. */
static void
raw_await_close(int fd)
{
	char    buf[512];
	ssize_t n;

	while ((n = recv(fd, buf, sizeof(buf), 0)) > 0) { }
	if (n < 0 && errno != ECONNRESET) {
		fail_msg("peer did not close: %s", strerror(errno));
	}
	(void)close(fd);
}

/* A plain listener that never accepts nor speaks; its URL in url. */
static int
raw_listen(const scheme *sc, char *url)
{
	int fd;

	if (sc->ipc) {
		struct sockaddr_un sa = {.sun_family = AF_UNIX};

		fresh_url(sc, url, URL_MAX);
		strcpy(sa.sun_path, url + strlen("ipc://"));
		fd = socket(AF_UNIX, SOCK_STREAM, 0);
		assert_int_equal(
		    bind(fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
	} else {
		struct sockaddr_in sa  = {.sin_family = AF_INET};
		socklen_t          len = sizeof(sa);

		sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
		fd                 = socket(AF_INET, SOCK_STREAM, 0);
		assert_int_equal(
		    bind(fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
		assert_int_equal(
		    getsockname(fd, (struct sockaddr *)&sa, &len), 0);
		snprintf(url, URL_MAX, "tcp://127.0.0.1:%u",
		    (unsigned)ntohs(sa.sin_port));
	}
	assert_int_equal(listen(fd, 16), 0);
	return fd;
}

static void
raw_unlisten(const scheme *sc, int fd, const char *url)
{
	(void)close(fd);
	if (sc->ipc) {
		(void)unlink(url + strlen("ipc://"));
	}
}

/* ---- addresses ---------------------------------------------------------- */

static void
test_dial_refused(void **state)
{
	const scheme  *sc = *state;
	spry_socket   *a  = open_sock(SPRY_PAIR0);
	spry_socket   *b  = open_sock(SPRY_PAIR0);
	spry_listener *l;
	char           url[URL_MAX];

	l = listen_on(sc, a, url);
	spry_test_check(spry_listener_close(l), 0); /* the address is free */
	spry_test_check(spry_dial(b, url, NULL, 0), SPRY_ECONNREFUSED);
	spry_close(a);
	spry_close(b);
}

static void
test_listen_twice_in_use(void **state)
{
	const scheme *sc = *state;
	spry_socket  *a  = open_sock(SPRY_PAIR0);
	spry_socket  *b  = open_sock(SPRY_PAIR0);
	char          url[URL_MAX];

	(void)listen_on(sc, a, url);
	spry_test_check(spry_listen(b, url, NULL), SPRY_EADDRINUSE);
	spry_test_check(spry_listen(a, url, NULL), SPRY_EADDRINUSE);
	spry_close(a);
	spry_close(b);
}

static void
test_listener_url_reads_back(void **state)
{
	const scheme  *sc = *state;
	spry_socket   *a  = open_sock(SPRY_PAIR0);
	spry_listener *l;
	char           url[URL_MAX], small[8];
	unsigned       port = 0;

	l = listen_on(sc, a, url);
	if (sc->ipc) {
		assert_true(strncmp(url, "ipc:///tmp/spry-stream-", 23) == 0);
	} else {
		assert_int_equal(sscanf(url, "tcp://127.0.0.1:%u", &port), 1);
		assert_true(port > 0 && port < 65536);
	}
	spry_test_check(
	    spry_listener_url(l, small, sizeof(small)), SPRY_ENOSPC);
	spry_test_check(
	    spry_listener_url(NULL, url, sizeof(url)), SPRY_EINVAL);
	spry_test_check(spry_listener_url(l, NULL, 0), SPRY_EINVAL);
	spry_close(a);
}

/* Address option opt of the pipe m came in on (into buf, URL_MAX). */
static void
pipe_addr(spry_socket *s, const spry_msg *m, int opt, char *buf)
{
	spry_optval v = {.type = SPRY_TYPE_STRING, .u.buf = {buf, URL_MAX}};

	spry_test_check(spry_pipe_getopt(s, spry_msg_pipe(m), opt, &v), 0);
	assert_int_equal(v.u.buf.n, strlen(buf));
}

/*
 * b is connected to a, which listens on url: the two ends of the pipe
 * name each other. The dialer's remote end is the listener's URL and
 * the listener's remote end the dialer's local one (tcp: the same host,
 * the dialer's own port; ipc: both ends are the path).
 */
static void
check_pipe_addrs(spry_socket *a, spry_socket *b, const char *url)
{
	spry_msg *ma, *mb;
	char   loc_a[URL_MAX], rem_a[URL_MAX], loc_b[URL_MAX], rem_b[URL_MAX];
	size_t port; /* tcp: where the port starts */

	send_val(a, 1);
	spry_test_check(spry_recv(b, &mb, 0), 0);
	send_val(b, 2);
	spry_test_check(spry_recv(a, &ma, 0), 0);
	pipe_addr(b, mb, SPRY_OPT_REMADDR, rem_b);
	pipe_addr(b, mb, SPRY_OPT_LOCADDR, loc_b);
	pipe_addr(a, ma, SPRY_OPT_REMADDR, rem_a);
	pipe_addr(a, ma, SPRY_OPT_LOCADDR, loc_a);
	assert_string_equal(rem_b, url);
	assert_string_equal(loc_a, url);
	assert_string_equal(rem_a, loc_b);
	assert_string_equal(rem_b, spry_msg_peer(mb));
	assert_string_equal(rem_a, spry_msg_peer(ma));
	if (strncmp(url, "tcp://", 6) == 0) {
		port = (size_t)(strrchr(url, ':') - url) + 1;
		assert_memory_equal(loc_b, url, port); /* the same host */
		assert_true(strtoul(loc_b + port, NULL, 10) > 0);
		assert_string_not_equal(loc_b, url); /* another port */
	}
	assert_int_equal(val_of(mb), 1);
	assert_int_equal(val_of(ma), 2);
}

static void
test_pipe_addresses(void **state)
{
	const scheme *sc = *state;
	spry_socket  *a  = open_sock(SPRY_PAIR0);
	spry_socket  *b  = open_sock(SPRY_PAIR0);
	char          url[URL_MAX];

	(void)listen_on(sc, a, url);
	spry_test_check(spry_dial(b, url, NULL, 0), 0);
	check_pipe_addrs(a, b, url);
	spry_close(a);
	spry_close(b);
}

/* ---- moving messages ---------------------------------------------------- */

/* a listens, b dials; n values each way, then the peer addresses. */
static void
exchange(spry_socket *a, spry_socket *b, const char *url, uint32_t n)
{
	spry_msg *m;

	spry_test_check(spry_dial(b, url, NULL, 0), 0);
	for (uint32_t i = 0; i < n; i++) {
		send_val(a, i);
		send_val(b, i + 1000000);
	}
	for (uint32_t i = 0; i < n; i++) {
		assert_int_equal(recv_val(b), i);
		assert_int_equal(recv_val(a), i + 1000000);
	}
	send_val(a, 7);
	spry_test_check(spry_recv(b, &m, 0), 0);
	assert_string_equal(spry_msg_peer(m), url); /* the dialed address */
	spry_msg_free(m);
}

static void
test_pair_exchange_both_ways(void **state)
{
	const scheme *sc = *state;
	spry_socket  *a  = open_sock(SPRY_PAIR0);
	spry_socket  *b  = open_sock(SPRY_PAIR0);
	spry_msg     *m;
	char          url[URL_MAX];

	(void)listen_on(sc, a, url);
	exchange(a, b, url, 200);
	send_val(b, 8);
	spry_test_check(spry_recv(a, &m, 0), 0);
	if (sc->ipc) {
		assert_string_equal(spry_msg_peer(m), url);
	} else {
		assert_true(
		    strncmp(spry_msg_peer(m), "tcp://127.0.0.1:", 16) == 0);
	}
	assert_int_equal(val_of(m), 8);
	spry_close(a);
	spry_close(b);
}

static void
test_reqrep_round_trip(void **state)
{
	const scheme *sc  = *state;
	spry_socket  *rep = open_sock(SPRY_REP0);
	spry_socket  *req = open_sock(SPRY_REQ0);
	spry_msg     *m;
	char          url[URL_MAX];

	(void)listen_on(sc, rep, url);
	spry_test_check(spry_dial(req, url, NULL, 0), 0);
	for (uint32_t i = 0; i < 50; i++) {
		send_val(req, i);
		spry_test_check(spry_recv(rep, &m, 0), 0);
		spry_test_check(
		    spry_send(rep, m, 0), 0); /* echo: same route */
		assert_int_equal(recv_val(req), i);
	}
	spry_close(req);
	spry_close(rep);
}

/* A thread blocked in spry_recv, and what it got (a value or an error). */
typedef struct blocked {
	spry_socket *s;
	int          rv;
	uint32_t     val;
} blocked;

static void *
blocked_recv(void *arg)
{
	blocked  *b = arg;
	spry_msg *m = NULL;

	if ((b->rv = spry_recv(b->s, &m, 0)) == 0) {
		b->val = val_of(m);
	}
	return NULL;
}

/* Start a receiver on s and wait until it blocks. */
static void
block_recv(blocked *b, pthread_t *t)
{
	assert_int_equal(pthread_create(t, NULL, blocked_recv, b), 0);
	assert_true(spry_test_await_waiters(
	    spry_socket_recvbox(b->s, NULL), SPRY_SELECT_RECV, 1));
}

/*
 * Join a (listening at url) and b, and leave a having sent last: a
 * receive on a then waits for a reply, and reads its connection itself.
 */
static void
join_then_send(const scheme *sc, spry_socket *a, spry_socket *b, char *url)
{
	(void)listen_on(sc, a, url);
	spry_test_check(spry_dial(b, url, NULL, 0), 0);
	send_val(b, 1);
	assert_int_equal(recv_val(a), 1); /* the pipe is up */
	send_val(a, 2); /* a receive after a send waits for a reply */
	assert_int_equal(recv_val(b), 2);
}

/*
 * A receiver blocked for a reply on a socket with one connection reads
 * that connection itself; closing the socket still wakes it.
 */
static void
test_close_wakes_a_receiver_reading_itself(void **state)
{
	const scheme *sc = *state;
	spry_socket  *a  = open_sock(SPRY_PAIR0);
	spry_socket  *b  = open_sock(SPRY_PAIR0);
	blocked       r  = {a, -1, 0};
	pthread_t     t;
	char          url[URL_MAX];

	join_then_send(sc, a, b, url);
	spry_socket_hold(a);
	block_recv(&r, &t);
	spry_test_check(spry_close(a), 0);
	pthread_join(t, NULL);
	spry_test_check(r.rv, SPRY_ECLOSED);
	spry_socket_release(a);
	spry_close(b);
}

/*
 * The connection a blocked receiver reads itself ends under it (the
 * peer closed): it goes on waiting, and gets what a new peer sends.
 */
static void
test_receiver_reading_itself_outlives_its_pipe(void **state)
{
	const scheme     *sc = *state;
	spry_socket      *a  = open_sock(SPRY_PAIR0);
	spry_socket      *b  = open_sock(SPRY_PAIR0);
	spry_socket      *c  = open_sock(SPRY_PAIR0);
	blocked           r  = {a, -1, 0};
	spry_time         limit;
	spry_socket_stats st;
	pthread_t         t;
	char              url[URL_MAX];

	join_then_send(sc, a, b, url);
	block_recv(&r, &t);
	spry_close(b);
	limit = spry_deadline_after(GUARD);
	do { /* subscribing for pipe events would take a's messages */
		if (spry_now() > limit) {
			fail_msg("the closed peer's pipe stayed");
		}
		sched_yield();
		spry_socket_stats_get(a, &st);
	} while (st.pipes != 0);
	spry_test_check(spry_dial(c, url, NULL, 0), 0);
	send_val(c, 5);
	pthread_join(t, NULL);
	spry_test_check(r.rv, 0);
	assert_int_equal(r.val, 5);
	spry_close(c);
	spry_close(a);
}

/* Few enough that the buffers hold them all while nobody receives. */
#define CLOSE_SENDS 100

/*
 * Messages a socket took before spry_close reach a live peer: frames
 * sent back to back may still wait in the connection's buffer when the
 * close comes, and the close writes them first.
 */
static void
test_sent_before_close_arrive(void **state)
{
	const scheme *sc   = *state;
	spry_socket  *pull = open_sock(SPRY_PULL0);
	spry_socket  *push = open_sock(SPRY_PUSH0);
	spry_mailbox *mb   = events_of(push);
	char          url[URL_MAX];

	(void)listen_on(sc, pull, url);
	spry_test_check(spry_dial(push, url, NULL, 0), 0);
	await_event(mb, SPRY_PIPE_ADD); /* sends go to the pipe at once */
	for (uint32_t i = 0; i < CLOSE_SENDS; i++) {
		send_val(push, i);
	}
	spry_close(push);
	for (uint32_t i = 0; i < CLOSE_SENDS; i++) {
		assert_int_equal(recv_val(pull), i);
	}
	spry_close(pull);
	events_close(mb);
}

/* A body of n bytes with a pattern that shows any misplaced byte. */
static spry_msg *
big_msg(size_t n)
{
	spry_msg *m;
	uint8_t  *b;

	assert_int_equal(spry_msg_alloc(&m, n), 0);
	b = spry_msg_body(m);
	for (size_t i = 0; i < n; i++) {
		b[i] = (uint8_t)(i * 131 + (i >> 16));
	}
	return m;
}

static void
test_large_message_with_raised_limit(void **state)
{
	const scheme  *sc = *state;
	spry_socket   *a  = open_sock(SPRY_PAIR0);
	spry_socket   *b  = open_sock(SPRY_PAIR0);
	size_t         n  = ((size_t)1 << 20) + 4099;
	spry_msg      *m;
	const uint8_t *got;
	char           url[URL_MAX];

	spry_test_check(
	    spry_setopt(a, SPRY_OPT_RECVMAXSZ, SPRY_SIZE(4u << 20)), 0);
	(void)listen_on(sc, a, url);
	spry_test_check(spry_dial(b, url, NULL, 0), 0);
	for (int k = 0; k < 3; k++) { /* and small ones in between */
		spry_test_check(spry_send(b, big_msg(n), 0), 0);
		send_val(b, (uint32_t)k);
	}
	for (int k = 0; k < 3; k++) {
		spry_test_check(spry_recv(a, &m, 0), 0);
		assert_int_equal(spry_msg_len(m), n);
		got = spry_msg_body(m);
		for (size_t i = 0; i < n; i++) {
			if (got[i] != (uint8_t)(i * 131 + (i >> 16))) {
				fail_msg("byte %zu of message %d", i, k);
			}
		}
		spry_msg_free(m);
		assert_int_equal(recv_val(a), (uint32_t)k);
	}
	spry_close(a);
	spry_close(b);
}

static void
test_oversize_closes_pipe_only(void **state)
{
	const scheme     *sc   = *state;
	spry_socket      *pull = open_sock(SPRY_PULL0);
	spry_socket      *big  = open_sock(SPRY_PUSH0);
	spry_socket      *ok   = open_sock(SPRY_PUSH0);
	spry_mailbox     *mb   = events_of(pull);
	spry_socket_stats st;
	char              url[URL_MAX];

	(void)listen_on(sc, pull, url);
	spry_test_check(spry_dial(big, url, NULL, 0), 0);
	await_event(mb, SPRY_PIPE_ADD);
	spry_test_check(spry_send(big, big_msg(((size_t)1 << 20) + 1), 0), 0);
	await_event(mb, SPRY_PIPE_REM);
	spry_socket_stats_get(pull, &st);
	assert_int_equal(st.oversize, 1);
	spry_close(big);
	spry_test_check(spry_dial(ok, url, NULL, 0), 0);
	send_val(ok, 99);
	assert_int_equal(val_of(await_msg(mb, 0)), 99);
	spry_close(pull);
	spry_close(ok);
	events_close(mb);
}

/* ---- misbehaving peers -------------------------------------------------- */

/* A peer that is not SP at all: refused at the hello. */
static void
raw_garbage(const scheme *sc, const char *url)
{
	static const char junk[] = "GET / HTTP/1.0\r\n\r\n";
	int               fd     = raw_connect(sc, url);

	raw_send(fd, junk, sizeof(junk) - 1);
	raw_await_close(fd);
}

/* An SP peer of the wrong protocol (REQ to a PULL): rejected. */
static void
raw_wrong_proto(const scheme *sc, const char *url, spry_socket *pull)
{
	spry_socket_stats st;
	int               fd = raw_connect(sc, url);

	raw_hello(fd, SPRY_REQ0);
	raw_await_close(fd);
	spry_socket_stats_get(pull, &st);
	assert_int_equal(st.rejected, 1);
}

/* A length word of 2^63: closed before anything is allocated. */
static void
raw_huge_length(const scheme *sc, const char *url, spry_mailbox *mb)
{
	int fd = raw_connect(sc, url);

	raw_hello(fd, SPRY_PUSH0);
	await_event(mb, SPRY_PIPE_ADD);
	raw_frame_header(sc, fd, (uint64_t)1 << 63);
	await_event(mb, SPRY_PIPE_REM);
	raw_await_close(fd);
}

/* Half a frame, then the peer goes: the partial message is freed. */
static void
raw_mid_frame(const scheme *sc, const char *url, spry_mailbox *mb)
{
	int fd = raw_connect(sc, url);

	raw_hello(fd, SPRY_PUSH0);
	await_event(mb, SPRY_PIPE_ADD);
	raw_frame_header(sc, fd, 100);
	raw_send(fd, "0123456789", 10);
	(void)close(fd);
	await_event(mb, SPRY_PIPE_REM);
}

/* ipc: a frame type other than 0x01. */
static void
raw_bad_type(const char *url, spry_mailbox *mb)
{
	static const uint8_t frame[9] = {0x02, 0, 0, 0, 0, 0, 0, 0, 1};
	int                  fd       = raw_connect(&scheme_ipc, url);

	raw_hello(fd, SPRY_PUSH0);
	await_event(mb, SPRY_PIPE_ADD);
	raw_send(fd, frame, sizeof(frame));
	await_event(mb, SPRY_PIPE_REM);
	raw_await_close(fd);
}

static void
test_bad_peers_close_their_pipe_only(void **state)
{
	const scheme     *sc   = *state;
	spry_socket      *pull = open_sock(SPRY_PULL0);
	spry_socket      *push = open_sock(SPRY_PUSH0);
	spry_mailbox     *mb   = events_of(pull);
	spry_socket_stats st;
	char              url[URL_MAX];

	(void)listen_on(sc, pull, url);
	raw_garbage(sc, url);
	raw_wrong_proto(sc, url, pull);
	raw_huge_length(sc, url, mb);
	raw_mid_frame(sc, url, mb);
	if (sc->ipc) {
		raw_bad_type(url, mb);
	}
	spry_socket_stats_get(pull, &st);
	assert_int_equal(st.oversize, 1);
	assert_int_equal(st.pipes, 0);
	spry_test_check(spry_dial(push, url, NULL, 0), 0);
	send_val(push, 42);
	assert_int_equal(val_of(await_msg(mb, 0)), 42);
	spry_close(push);
	spry_close(pull);
	events_close(mb);
}

static void
test_silent_peer_hits_handshake_deadline(void **state)
{
	const scheme *sc   = *state;
	spry_socket  *pull = open_sock(SPRY_PULL0);
	spry_socket  *push = open_sock(SPRY_PUSH0);
	char          url[URL_MAX], rurl[URL_MAX];
	int           rfd;

	spry_test_check(
	    spry_setopt(pull, SPRY_OPT_HSTIMEO, SPRY_DURATION(SPRY_MSEC(50))),
	    0);
	(void)listen_on(sc, pull, url);
	raw_await_close(raw_connect(sc, url)); /* says nothing: closed */
	/* The dialer's side: a listener that never speaks. */
	spry_test_check(
	    spry_setopt(push, SPRY_OPT_HSTIMEO, SPRY_DURATION(SPRY_MSEC(50))),
	    0);
	rfd = raw_listen(sc, rurl);
	spry_test_check(spry_dial(push, rurl, NULL, 0), SPRY_ETIMEDOUT);
	raw_unlisten(sc, rfd, rurl);
	spry_close(push);
	spry_close(pull);
}

/*
 * The handshake deadline times the peer, not the poller. A poller that
 * is late (held up here by another socket's lock, as load holds it up
 * behind other events) must not time out a connection whose peer's
 * hello is waiting to be read: that peer has our hello, counts the
 * connection as open and sends at once, and closing it would lose the
 * message.
 */
static void
test_late_poller_reads_the_hello_before_the_deadline(void **state)
{
	const scheme *sc    = *state;
	spry_socket  *pull  = open_sock(SPRY_PULL0);
	spry_socket  *other = open_sock(SPRY_PULL0);
	uint8_t       hello[SPRY__WIRE_HELLO_SIZE], v[4] = {0, 0, 0, 7};
	char          url[URL_MAX], ourl[URL_MAX];
	spry_time     past, limit = spry_deadline_after(GUARD);
	int64_t       live;
	int           fd, ofd;

	spry_test_check(
	    spry_setopt(pull, SPRY_OPT_HSTIMEO, SPRY_DURATION(SPRY_MSEC(50))),
	    0);
	(void)listen_on(sc, pull, url);
	(void)listen_on(sc, other, ourl);
	fd = raw_connect(sc, url);
	/* pull's hello: the poller took the connection, the deadline runs */
	assert_int_equal(recv(fd, hello, sizeof(hello), MSG_WAITALL),
	    (ssize_t)sizeof(hello));
	past = spry_now() + SPRY_MSEC(100);
	/* The poller takes a connection to other and waits for its lock. */
	live = spry__stream_live();
	spry__sock_lock(other);
	ofd = raw_connect(sc, ourl);
	while (spry__stream_live() == live && spry_now() < limit) {
		sched_yield();
	}
	/* Our hello and a message arrive and wait past the deadline. */
	raw_hello(fd, SPRY_PUSH0);
	raw_frame_header(sc, fd, sizeof(v));
	raw_send(fd, v, sizeof(v));
	while (spry_now() < past) {
		sched_yield();
	}
	spry__sock_unlock(other);
	assert_int_equal(recv_val(pull), 7);
	(void)close(ofd);
	(void)close(fd);
	spry_close(other);
	spry_close(pull);
}

static void
test_close_ends_handshakes_in_flight(void **state)
{
	const scheme *sc   = *state;
	spry_socket  *pull = open_sock(SPRY_PULL0);
	spry_socket  *push = open_sock(SPRY_PUSH0);
	char          url[URL_MAX], rurl[URL_MAX];
	int           fd, rfd;

	/* With an hour to go, only closing the socket can end these. */
	spry_test_check(
	    spry_setopt(pull, SPRY_OPT_HSTIMEO, SPRY_DURATION(SPRY_SEC(3600))),
	    0);
	spry_test_check(
	    spry_setopt(push, SPRY_OPT_HSTIMEO, SPRY_DURATION(SPRY_SEC(3600))),
	    0);
	(void)listen_on(sc, pull, url);
	fd  = raw_connect(sc, url);
	rfd = raw_listen(sc, rurl);
	spry_test_check(spry_dial(push, rurl, NULL, SPRY_FLAG_NONBLOCK), 0);
	spry_close(pull);
	raw_await_close(fd);
	spry_close(push); /* teardown checks its attempt was retired */
	raw_unlisten(sc, rfd, rurl);
}

/* ---- reconnecting and many peers ---------------------------------------- */

static void
test_dialer_reconnects_to_restarted_listener(void **state)
{
	const scheme *sc   = *state;
	spry_socket  *pull = open_sock(SPRY_PULL0);
	spry_socket  *push = open_sock(SPRY_PUSH0);
	spry_mailbox *mb   = events_of(push);
	char          url[URL_MAX];

	(void)listen_on(sc, pull, url);
	spry_test_check(spry_dial(push, url, NULL, SPRY_FLAG_NONBLOCK), 0);
	await_event(mb, SPRY_PIPE_ADD);
	spry_close(pull);
	await_event(mb, SPRY_PIPE_REM);
	pull = open_sock(SPRY_PULL0);
	spry_test_check(spry_listen(pull, url, NULL), 0); /* same address */
	await_event(mb, SPRY_PIPE_ADD);
	send_val(push, 5);
	assert_int_equal(recv_val(pull), 5);
	spry_close(push);
	spry_close(pull);
	events_close(mb);
}

#define REDIALS 6                   /* attempts the peer hangs up on */
#define REDIAL_MIN SPRY_MSEC(20)    /* the dialer's SPRY_OPT_RECONNMINT */
#define REDIAL_MAX SPRY_MSEC(80)    /* and SPRY_OPT_RECONNMAXT */
#define REDIAL_LEAST SPRY_MSEC(150) /* half of 20 + 40 + 80 + 80 + 80 */

/*
 * A dialer whose peer hangs up before the handshake tries again after a
 * backoff that starts at the reconnect minimum, doubles up to the
 * maximum and is jittered to between half and all of it: it never
 * redials at once. The attempts cannot come sooner than the sum of the
 * shortest waits (a busy machine only makes them later).
 */
static void
test_dialer_backs_off_from_a_peer_that_hangs_up(void **state)
{
	const scheme  *sc   = *state;
	spry_socket   *push = open_sock(SPRY_PUSH0);
	struct timeval tv   = {30, 0};
	char           url[URL_MAX];
	int            lfd = raw_listen(sc, url);
	spry_time      t0;

	assert_int_equal(
	    setsockopt(lfd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv)), 0);
	spry_test_check(
	    spry_setopt(push, SPRY_OPT_RECONNMINT, SPRY_DURATION(REDIAL_MIN)),
	    0);
	spry_test_check(
	    spry_setopt(push, SPRY_OPT_RECONNMAXT, SPRY_DURATION(REDIAL_MAX)),
	    0);
	t0 = spry_now();
	spry_test_check(spry_dial(push, url, NULL, SPRY_FLAG_NONBLOCK), 0);
	for (int i = 0; i < REDIALS; i++) {
		int fd = accept(lfd, NULL, NULL);

		assert_true(fd >= 0);
		(void)close(fd); /* before any hello */
	}
	assert_true(spry_now() - t0 >= REDIAL_LEAST);
	spry_close(push);
	raw_unlisten(sc, lfd, url);
}

#define MANY 500

/* Room for MANY connections at both ends; false if the system has none. */
static bool
enough_files(void)
{
	struct rlimit rl;
	rlim_t        want = 4 * MANY + 64;

	if (getrlimit(RLIMIT_NOFILE, &rl) != 0) {
		return false;
	}
	if (rl.rlim_cur >= want) {
		return true;
	}
	if (rl.rlim_max < want) {
		return false;
	}
	rl.rlim_cur = want;
	return setrlimit(RLIMIT_NOFILE, &rl) == 0;
}

static void
test_many_connections_to_one_listener(void **state)
{
	const scheme *sc = *state;
	spry_socket  *pull, *push[MANY];
	static bool   seen[MANY];
	char          url[URL_MAX];

	if (!enough_files()) {
		skip();
	}
	pull = open_sock(SPRY_PULL0);
	(void)listen_on(sc, pull, url);
	memset(seen, 0, sizeof(seen));
	for (int i = 0; i < MANY; i++) { /* all connecting at once */
		push[i] = open_sock(SPRY_PUSH0);
		spry_test_check(
		    spry_dial(push[i], url, NULL, SPRY_FLAG_NONBLOCK), 0);
		send_val(push[i], (uint32_t)i); /* waits for its pipe */
	}
	for (int i = 0; i < MANY; i++) {
		uint32_t v = recv_val(pull);

		assert_true(v < MANY && !seen[v]);
		seen[v] = true;
	}
	for (int i = 0; i < MANY; i++) {
		spry_close(push[i]);
	}
	spry_close(pull);
}

#define STARVED_PEERS 4
#define STARVED_RETRIES 5

/*
 * A listener out of descriptors (EMFILE) leaves the connections in the
 * kernel's backlog and tries again every SPRY__STREAM_ACCEPT_RETRY, not
 * in a spin; once descriptors are free it takes them all, and each
 * works. The peers' sockets are made first; then the limit drops to the
 * lowest free descriptor, so that no new one can be made, and they
 * connect (which takes no descriptor).
 */
static void
test_listener_out_of_files_waits_then_accepts(void **state)
{
	const scheme *sc   = *state;
	spry_socket  *pull = open_sock(SPRY_PULL0);
	uint8_t       hello[SPRY__WIRE_HELLO_SIZE];
	char          url[URL_MAX];
	int           fds[STARVED_PEERS], lowest;
	struct rlimit was, starved;
	uint64_t      stalls, seen = 0;
	spry_time     t0, waited, limit = spry_deadline_after(GUARD);
	bool          got[STARVED_PEERS] = {false};

	(void)listen_on(sc, pull, url);
	for (int i = 0; i < STARVED_PEERS; i++) {
		fds[i] = raw_socket(sc);
	}
	lowest = fcntl(fds[0], F_DUPFD, 0); /* the lowest free number */
	assert_true(lowest >= 0);
	(void)close(lowest);
	assert_int_equal(getrlimit(RLIMIT_NOFILE, &was), 0);
	starved          = was;
	starved.rlim_cur = (rlim_t)lowest;
	stalls           = spry__stream_accept_stalls();
	assert_int_equal(setrlimit(RLIMIT_NOFILE, &starved), 0);
	t0 = spry_now();
	for (int i = 0; i < STARVED_PEERS; i++) {
		raw_connect_fd(sc, fds[i], url);
	}
	/*
	 * Each arriving connection may wake the listener (an accept that
	 * fails at once); after those, one accept per retry fails. Wait for
	 * STARVED_RETRIES retries beyond the arrivals.
	 */
	while ((seen = spry__stream_accept_stalls() - stalls) <
	        STARVED_PEERS + STARVED_RETRIES &&
	    spry_now() < limit) {
		sched_yield();
	}
	waited = spry_now() - t0;
	assert_int_equal(setrlimit(RLIMIT_NOFILE, &was), 0); /* first */
	assert_true(seen >= STARVED_PEERS + STARVED_RETRIES);
	/* A spin gets there at once; waits take a retry each at least (a
	   late poller is slower still, never faster). */
	assert_true(seen <= STARVED_PEERS + 1 +
	        (uint64_t)(waited / (SPRY__STREAM_ACCEPT_RETRY / 2)));
	for (int i = 0; i < STARVED_PEERS; i++) {
		uint8_t v[4] = {0, 0, 0, (uint8_t)i};

		assert_int_equal(
		    recv(fds[i], hello, sizeof(hello), MSG_WAITALL),
		    (ssize_t)sizeof(hello));
		raw_hello(fds[i], SPRY_PUSH0);
		raw_frame_header(sc, fds[i], sizeof(v));
		raw_send(fds[i], v, sizeof(v));
	}
	for (int i = 0; i < STARVED_PEERS; i++) {
		uint32_t v = recv_val(pull);

		assert_true(v < STARVED_PEERS && !got[v]);
		got[v] = true;
	}
	for (int i = 0; i < STARVED_PEERS; i++) {
		(void)close(fds[i]);
	}
	spry_close(pull);
}

/* ---- backpressure ------------------------------------------------------- */

#define FLOOD 100000
#define FLOOD_BODY 100
#define LIVE_BOUND 2000 /* blocks: without backpressure, ~2 per message */

typedef struct flood {
	spry_socket *push; /* the sender's socket */
	uint32_t     done; /* 1 once every message went (atomic) */
	int          err;  /* the first send error */
} flood;

static void *
flood_main(void *arg)
{
	flood    *f = arg;
	spry_msg *m;

	for (uint32_t i = 0; i < FLOOD && f->err == 0; i++) {
		if ((f->err = spry_msg_alloc(&m, FLOOD_BODY - 4)) != 0 ||
		    (f->err = spry_msg_prepend_u32(m, i)) != 0) {
			break;
		}
		if ((f->err = spry_send(f->push, m, 0)) != 0) {
			spry_msg_free(m);
		}
	}
	__atomic_store_n(&f->done, 1, __ATOMIC_RELEASE);
	return NULL;
}

/*
 * Wait until the sender blocks in spry_send (every buffer between it
 * and the stalled receiver is full) or has sent everything.
 */
static void
await_sender_stall(flood *f)
{
	spry_mailbox *sendbox = spry_socket_sendbox(f->push, NULL);
	spry_time     limit   = spry_deadline_after(GUARD);

	while (spry_test_waiters(sendbox, SPRY_SELECT_SEND) == 0 &&
	    !__atomic_load_n(&f->done, __ATOMIC_ACQUIRE)) {
		if (spry_now() > limit) {
			fail_msg("the sender neither blocked nor finished");
		}
		sched_yield();
	}
}

static void
test_backpressure_bounds_memory(void **state)
{
	const scheme *sc   = *state;
	spry_socket  *pull = open_sock(SPRY_PULL0);
	flood         f    = {.push = open_sock(SPRY_PUSH0)};
	int64_t       peak = 0;
	pthread_t     t;
	char          url[URL_MAX];

	(void)listen_on(sc, pull, url);
	spry_test_check(spry_dial(f.push, url, NULL, 0), 0);
	assert_int_equal(pthread_create(&t, NULL, flood_main, &f), 0);
	for (uint32_t i = 0; i < FLOOD; i++) {
		if (i % 20000 == 0) { /* stall: let every buffer fill */
			await_sender_stall(&f);
			peak = spry__alloc_live() > peak ? spry__alloc_live() :
			                                   peak;
		}
		assert_int_equal(recv_val(pull), i); /* none lost, in order */
	}
	pthread_join(t, NULL);
	assert_int_equal(f.err, 0);
	if (peak > LIVE_BOUND) {
		fail_msg("%lld blocks live while the receiver stalled",
		    (long long)peak);
	}
	spry_close(f.push);
	spry_close(pull);
}

/* ---- options ------------------------------------------------------------ */

static void
test_stream_options_checked(void **state)
{
	spry_socket *s = open_sock(SPRY_PAIR0);
	spry_optval  v = {.type = SPRY_TYPE_DURATION};

	(void)state;
	spry_test_check(spry_getopt(s, SPRY_OPT_HSTIMEO, &v), 0);
	assert_int_equal(v.u.d, SPRY_SEC(10));
	spry_test_check(
	    spry_setopt(s, SPRY_OPT_HSTIMEO, SPRY_INT(5)), SPRY_EBADTYPE);
	spry_test_check(
	    spry_setopt(s, SPRY_OPT_HSTIMEO, SPRY_DURATION(0)), SPRY_EINVAL);
	v.type = SPRY_TYPE_INT;
	spry_test_check(spry_getopt(s, SPRY_OPT_IPC_PERM, &v), 0);
	assert_int_equal(v.u.i, -1);
	spry_test_check(spry_setopt(s, SPRY_OPT_IPC_PERM, SPRY_DURATION(1)),
	    SPRY_EBADTYPE);
	spry_test_check(
	    spry_setopt(s, SPRY_OPT_IPC_PERM, SPRY_INT(01000)), SPRY_EINVAL);
	spry_test_check(
	    spry_setopt(s, SPRY_OPT_IPC_PERM, SPRY_INT(-1)), SPRY_EINVAL);
	spry_test_check(spry_setopt(s, SPRY_OPT_IPC_PERM, SPRY_INT(0640)), 0);
	spry_test_check(spry_getopt(s, SPRY_OPT_IPC_PERM, &v), 0);
	assert_int_equal(v.u.i, 0640);
	spry_close(s);
}

/* ---- tcp only ----------------------------------------------------------- */

static void
test_ipv6_loopback(void **state)
{
	spry_socket   *a = open_sock(SPRY_PAIR0);
	spry_socket   *b = open_sock(SPRY_PAIR0);
	spry_listener *l;
	char           url[URL_MAX];

	(void)state;
	if (spry_listen(a, "tcp://[::1]:0", &l) != 0) {
		spry_close(a);
		spry_close(b);
		skip(); /* no IPv6 here */
	}
	spry_test_check(spry_listener_url(l, url, sizeof(url)), 0);
	assert_true(strncmp(url, "tcp://[::1]:", 12) == 0);
	exchange(a, b, url, 10);
	check_pipe_addrs(a, b, url);
	spry_close(a);
	spry_close(b);
}

/* A wildcard listener's end of a pipe is the address dialed. */
static void
test_wildcard_listener_names_its_end(void **state)
{
	spry_socket   *a = open_sock(SPRY_PAIR0);
	spry_socket   *b = open_sock(SPRY_PAIR0);
	spry_listener *l;
	spry_msg      *m;
	spry_optval    v;
	char           url[URL_MAX], loc[URL_MAX];
	unsigned       port;

	(void)state;
	spry_test_check(spry_listen(a, "tcp://*:0", &l), 0);
	spry_test_check(spry_listener_url(l, url, sizeof(url)), 0);
	assert_int_equal(sscanf(url, "tcp://:%u", &port), 1);
	snprintf(url, sizeof(url), "tcp://127.0.0.1:%u", port);
	spry_test_check(spry_dial(b, url, NULL, 0), 0);
	send_val(b, 4);
	spry_test_check(spry_recv(a, &m, 0), 0);
	v = (spry_optval){.type = SPRY_TYPE_STRING, .u.buf = {loc, URL_MAX}};
	spry_test_check(
	    spry_pipe_getopt(a, spry_msg_pipe(m), SPRY_OPT_LOCADDR, &v), 0);
	assert_string_equal(loc, url);
	assert_int_equal(val_of(m), 4);
	spry_close(a);
	spry_close(b);
}

static void
test_names_and_families(void **state)
{
	spry_socket *a = open_sock(SPRY_PAIR0);
	spry_socket *b = open_sock(SPRY_PAIR0);
	char         url[URL_MAX], named[URL_MAX];
	unsigned     port;

	(void)state;
	(void)listen_on(&scheme_tcp, a, url);
	assert_int_equal(sscanf(url, "tcp://127.0.0.1:%u", &port), 1);
	snprintf(named, sizeof(named), "tcp4://localhost:%u", port);
	spry_test_check(spry_dial(b, named, NULL, 0), 0); /* a name lookup */
	send_val(b, 3);
	assert_int_equal(recv_val(a), 3);
	spry_test_check(spry_dial(b, "tcp://:5555", NULL, 0), SPRY_EADDRINVAL);
	spry_test_check(
	    spry_dial(b, "tcp4://[::1]:5555", NULL, 0), SPRY_EADDRINVAL);
	spry_test_check(
	    spry_dial(b, "tcp6://127.0.0.1:5555", NULL, 0), SPRY_EADDRINVAL);
	spry_test_check(
	    spry_dial(b, "tcp://no-such-host.invalid:5555", NULL, 0),
	    SPRY_EADDRINVAL);
	spry_close(a);
	spry_close(b);
}

/* ---- ipc only ----------------------------------------------------------- */

/* A socket file: stale (closed, left behind) or live (listening). */
static int
unix_file(const char *path, bool live)
{
	struct sockaddr_un sa = {.sun_family = AF_UNIX};
	int                fd = socket(AF_UNIX, SOCK_STREAM, 0);

	strcpy(sa.sun_path, path);
	assert_int_equal(bind(fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
	if (live) {
		assert_int_equal(listen(fd, 4), 0);
		return fd;
	}
	(void)close(fd);
	return -1;
}

static void
test_stale_socket_file(void **state)
{
	spry_socket   *a = open_sock(SPRY_PAIR0);
	spry_socket   *b = open_sock(SPRY_PAIR0);
	spry_listener *l;
	char           url[URL_MAX], url2[URL_MAX];
	const char    *path, *path2;
	int            live;

	(void)state;
	fresh_url(&scheme_ipc, url, sizeof(url));
	path = url + strlen("ipc://");
	(void)unix_file(path, false);
	spry_test_check(spry_listen(a, url, &l), 0); /* replaced */
	exchange(a, b, url, 3);
	spry_test_check(spry_listener_close(l), 0);
	assert_int_equal(access(path, F_OK), -1); /* the listener's file */
	fresh_url(&scheme_ipc, url2, sizeof(url2));
	path2 = url2 + strlen("ipc://");
	live  = unix_file(path2, true);
	spry_test_check(spry_listen(a, url2, NULL), SPRY_EADDRINUSE);
	assert_int_equal(access(path2, F_OK), 0); /* not ours to remove */
	(void)close(live);
	(void)unlink(path2);
	spry_close(a);
	spry_close(b);
}

static void
test_permissions_applied(void **state)
{
	spry_socket *a = open_sock(SPRY_PAIR0);
	char         url[URL_MAX];
	struct stat  st;

	(void)state;
	spry_test_check(spry_setopt(a, SPRY_OPT_IPC_PERM, SPRY_INT(0600)), 0);
	(void)listen_on(&scheme_ipc, a, url);
	assert_int_equal(stat(url + strlen("ipc://"), &st), 0);
	assert_int_equal(st.st_mode & 0777, 0600);
	spry_close(a);
}

/* ---- the table ---------------------------------------------------------- */

/* A case and the schemes it runs for. */
typedef struct tcase {
	const char        *name; /* without the scheme */
	CMUnitTestFunction fn;
	const scheme      *only; /* NULL: every scheme */
} tcase;

/* A case named after its function, without "test_". */
#define CASE(f, only)                                                         \
	{                                                                     \
		&(#f)[5], f, only                                             \
	}

static const tcase cases[] = {
    CASE(test_dial_refused, NULL),
    CASE(test_listen_twice_in_use, NULL),
    CASE(test_listener_url_reads_back, NULL),
    CASE(test_pipe_addresses, NULL),
    CASE(test_pair_exchange_both_ways, NULL),
    CASE(test_reqrep_round_trip, NULL),
    CASE(test_sent_before_close_arrive, NULL),
    CASE(test_close_wakes_a_receiver_reading_itself, NULL),
    CASE(test_receiver_reading_itself_outlives_its_pipe, NULL),
    CASE(test_large_message_with_raised_limit, NULL),
    CASE(test_oversize_closes_pipe_only, NULL),
    CASE(test_bad_peers_close_their_pipe_only, NULL),
    CASE(test_silent_peer_hits_handshake_deadline, NULL),
    CASE(test_late_poller_reads_the_hello_before_the_deadline, NULL),
    CASE(test_close_ends_handshakes_in_flight, NULL),
    CASE(test_dialer_reconnects_to_restarted_listener, NULL),
    CASE(test_dialer_backs_off_from_a_peer_that_hangs_up, NULL),
    CASE(test_many_connections_to_one_listener, NULL),
    CASE(test_listener_out_of_files_waits_then_accepts, NULL),
    CASE(test_backpressure_bounds_memory, NULL),
    CASE(test_stream_options_checked, &scheme_tcp),
    CASE(test_ipv6_loopback, &scheme_tcp),
    CASE(test_wildcard_listener_names_its_end, &scheme_tcp),
    CASE(test_names_and_families, &scheme_tcp),
    CASE(test_stale_socket_file, &scheme_ipc),
    CASE(test_permissions_applied, &scheme_ipc),
};

#define NCASES (sizeof(cases) / sizeof(cases[0]))

int
main(void)
{
	static const scheme     *schemes[] = {&scheme_tcp, &scheme_ipc};
	static struct CMUnitTest tests[2 * NCASES];
	static char              names[2 * NCASES][96];
	size_t                   n = 0;

	for (size_t s = 0; s < 2; s++) {
		for (size_t i = 0; i < NCASES; i++) {
			if (cases[i].only != NULL &&
			    cases[i].only != schemes[s]) {
				continue;
			}
			snprintf(names[n], sizeof(names[n]), "%s_%s",
			    schemes[s]->name, cases[i].name);
			tests[n] = (struct CMUnitTest){names[n], cases[i].fn,
			    up, down, (void *)schemes[s]};
			n++;
		}
	}
	if (getenv("SPRY_TEST_FILTER") != NULL) { /* e.g. "tcp_*" */
		cmocka_set_test_filter(getenv("SPRY_TEST_FILTER"));
	}
	return _cmocka_run_group_tests("stream", tests, n, NULL, NULL);
}
