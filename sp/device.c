/* SPDX-License-Identifier: MIT */
/*
 * sp/device.c: spry_device, a forwarder between two raw sockets (or a
 * reflector on one), run by an actor of its own.
 *
 * The device's mailbox subscribes to both sockets (fan-in; a message's
 * spry_msg_socket tells which side it came from) and each message goes
 * into the other socket's send mailbox untouched: the raw protocols
 * keep and extend the routing headers (REP pushes the pipe id, PAIR1
 * counts hops, BUS names the source pipe). When that send mailbox is
 * full the device holds the message, arms a waiter on it and takes
 * nothing more from its own mailbox until the message is in; so a slow
 * side pushes back through the device to the pipes of the other, and
 * order is kept. The actor drains its own mailbox (selfdrain) for that.
 *
 * The device ends when either socket closes (it hears it twice: the
 * error event a socket sends its subscribers, which a full mailbox may
 * miss, and the DOWN of the socket's actor, which never goes missing),
 * or when its actor is stopped. Exit reasons: SPRY_EXIT_NORMAL (a
 * socket closed), SPRY_EXIT_SHUTDOWN (stopped). The sockets stay the
 * caller's; the device holds a reference on each while it runs.
 */
#include "sp/socket.h"
#include "actors/actor.h"
#include "mailbox/alloc.h"
#include "spry/error.h"

#include <pthread.h>

#define container_of(p, T, f) ((T *)((char *)(p)-offsetof(T, f)))

/* Messages moved per turn before the device lets other actors run. */
#define DEV_BATCH 64

/*
 * A device. Setup (spry_device) and teardown (the actor) may overlap,
 * so what links the device to the sockets is under lk; the forwarding
 * state belongs to the actor's turns.
 */
typedef struct device {
	spry_socket *s[2];        /* the sockets (held); s[1] == s[0]: a
	                             reflector; fixed */
	spry_mailbox *tx[2];      /* their send mailboxes (kept valid by the
	                             socket references), NULL if the
	                             protocol cannot send; fixed */
	spry_actor     *self;     /* the device's actor; set at START */
	spry_msg       *held;     /* a message waiting for room (turns) */
	int             to;       /* held's target index (turns) */
	spry_mailbox   *armed;    /* the mailbox w is armed on (turns) */
	spry__waiter    w;        /* room waiter (mailbox lock of armed) */
	pthread_mutex_t lk;       /* guards the fields below */
	spry_mailbox   *in;       /* the actor's mailbox, once spawned (lk) */
	bool            subd[2];  /* subscribed to s[i] (lk) */
	uint64_t        mon[2];   /* monitor refs on s[i]'s actor (lk) */
	bool            detached; /* teardown done: link nothing (lk) */
} device;

/* The target had room (its mailbox lock held): poke the device. */
static void
dev_room_cb(spry__waiter *w)
{
	spry__actor_post(container_of(w, device, w)->self, SPRY__PEND_WAKE);
}

/*
 * Undo what linked the device to its sockets, once: subscriptions and
 * monitors. Then nothing new reaches the actor's mailbox.
 */
static void
dev_detach(device *d, spry_actor *self)
{
	pthread_mutex_lock(&d->lk);
	if (!d->detached) {
		d->detached = true;
		for (int i = 0; i < 2; i++) {
			if (d->subd[i]) {
				(void)spry_socket_unsubscribe(d->s[i], d->in);
			}
			if (d->mon[i] != 0) {
				(void)spry_actor_demonitor(self,
				    spry_socket_actor(d->s[i]), d->mon[i]);
			}
		}
	}
	pthread_mutex_unlock(&d->lk);
}

/* Release what the forwarding state holds (turns, or exit). */
static void
dev_drop_held(device *d)
{
	if (d->armed != NULL) {
		spry__mailbox_wait_del(d->armed, SPRY_SELECT_SEND, &d->w);
		d->armed = NULL;
	}
	spry_msg_free(d->held);
	d->held = NULL;
}

/* Stop forwarding: the device ends with reason. */
static int
dev_end(device *d, spry_actor *self, int reason)
{
	dev_detach(d, self);
	dev_drop_held(d);
	return reason;
}

/*
 * Arm the waiter on the held message's target, then look again: room
 * may have come between the failed send and the arming, and then no
 * callback would follow.
 */
static void
dev_arm(device *d)
{
	spry_mailbox *mb = d->tx[d->to];

	if (d->armed != NULL) {
		spry__mailbox_wait_del(d->armed, SPRY_SELECT_SEND, &d->w);
	}
	d->armed = mb;
	if (spry__mailbox_wait_arm(mb, SPRY_SELECT_SEND, &d->w)) {
		spry__actor_post(d->self, SPRY__PEND_WAKE);
	}
}

/*
 * Take m from the device's mailbox and make it the held message with
 * its target. SPRY_ECLOSED when m says a socket closed; 0 otherwise
 * (held may stay NULL: m was freed).
 */
static int
dev_take(device *d, spry_msg *m)
{
	spry_socket *from = spry_msg_socket(m);
	int          err  = spry_msg_err(m);

	if (err != 0 || (from != d->s[0] && from != d->s[1])) {
		spry_msg_free(m); /* only closing sends events here */
		return err == SPRY_ECLOSED ? SPRY_ECLOSED : 0;
	}
	d->to = from == d->s[0] ? 1 : 0;
	if (d->tx[d->to] == NULL) {
		spry_msg_free(m); /* peers that cannot send never send us */
		return 0;
	}
	d->held = m;
	return 0;
}

/*
 * Move messages: the held one first, then from the mailbox, a batch
 * per turn. Stops at a full target (armed) or an empty mailbox.
 */
static int
dev_pump(device *d, spry_actor *self)
{
	spry_mailbox *in = spry_actor_mailbox(self);
	void         *item;
	int           rv;

	for (unsigned n = 0; n < DEV_BATCH; n++) {
		if (d->held == NULL) {
			if (spry_mailbox_tryrecv(in, &item) != 0) {
				return SPRY_CONTINUE;
			}
			if (dev_take(d, item) != 0) {
				return dev_end(d, self, SPRY_EXIT_NORMAL);
			}
			if (d->held == NULL) {
				continue;
			}
		}
		rv = spry_mailbox_trysend(d->tx[d->to], d->held);
		if (rv == SPRY_EAGAIN) {
			dev_arm(d);
			return SPRY_CONTINUE;
		}
		if (rv == SPRY_ECLOSED) {
			return dev_end(d, self, SPRY_EXIT_NORMAL);
		}
		if (rv != 0) {
			spry_msg_free(d->held); /* out of memory: lost */
		}
		d->held = NULL;
	}
	spry__actor_post(self, SPRY__PEND_WAKE); /* more may wait */
	return SPRY_CONTINUE;
}

static int
dev_behavior(spry_actor *self, const spry_event *ev, void *state)
{
	device *d = state;

	switch (ev->type) {
	case SPRY_EV_START:
		d->self = self;
		spry__actor_selfdrain(self);
		return SPRY_CONTINUE;
	case SPRY__EV_WAKE:
		return dev_pump(d, self);
	case SPRY_EV_DOWN: /* only the sockets' actors are watched */
		return dev_end(d, self, SPRY_EXIT_NORMAL);
	case SPRY_EV_CANCEL:
		return dev_end(d, self, SPRY_EXIT_SHUTDOWN);
	default:
		return SPRY_CONTINUE;
	}
}

static void
dev_free(device *d)
{
	spry_socket_release(d->s[0]);
	spry_socket_release(d->s[1]);
	pthread_mutex_destroy(&d->lk);
	spry__free(d, sizeof(*d));
}

/* The actor ended (also when killed, with no CANCEL): let go. */
static void
dev_exit_cb(spry_actor *self, int reason, void *state)
{
	(void)reason;
	dev_detach(state, self);
	dev_drop_held(state);
	dev_free(state);
}

static void
dev_dispose(void *item, void *arg)
{
	(void)arg;
	spry_msg_free(item);
}

/*
 * Link the device to its sockets (lk held): watch both sockets' actors,
 * then subscribe to each that can receive. Done here rather than in the
 * actor so that the device forwards everything that arrives once
 * spry_device has returned.
 */
static int
dev_attach(device *d, spry_actor *a)
{
	int rv;

	if (d->detached) {
		return SPRY_ECLOSED; /* the actor already ended */
	}
	for (int i = 0; i < (d->s[1] == d->s[0] ? 1 : 2); i++) {
		if ((rv = spry_actor_monitor(
		         a, spry_socket_actor(d->s[i]), &d->mon[i])) != 0) {
			return rv;
		}
		if (spry_socket_recvbox(d->s[i], NULL) == NULL) {
			continue; /* PUB, PUSH: nothing to take from them */
		}
		if ((rv = spry_socket_subscribe(d->s[i], d->in, false)) != 0) {
			return rv;
		}
		d->subd[i] = true;
	}
	return 0;
}

/* The checks of spry_device: raw sockets that are each other's peers. */
static int
dev_check(spry_socket *a, spry_socket *b)
{
	if (a == NULL || !a->raw || !b->raw) {
		return SPRY_EINVAL;
	}
	if (spry_socket_peer(a) != spry_socket_proto(b) ||
	    spry_socket_peer(b) != spry_socket_proto(a)) {
		return SPRY_EINVAL;
	}
	if (spry__sock_closed(a) || spry__sock_closed(b)) {
		return SPRY_ECLOSED;
	}
	return 0;
}

static device *
dev_new(spry_socket *a, spry_socket *b)
{
	device *d = spry__alloc(sizeof(*d));

	if (d == NULL) {
		return NULL;
	}
	d->s[0]  = a;
	d->s[1]  = b;
	d->tx[0] = spry_socket_sendbox(a, NULL);
	d->tx[1] = spry_socket_sendbox(b, NULL);
	d->w.cb  = dev_room_cb;
	pthread_mutex_init(&d->lk, NULL);
	spry_socket_hold(a);
	spry_socket_hold(b);
	return d;
}

static int
dev_spawn(device *d, spry_actor **out)
{
	spry_actor_opts o = SPRY_ACTOR_OPTS_INIT;

	o.behavior   = dev_behavior;
	o.state      = d;
	o.exit_cb    = dev_exit_cb;
	o.dispose_cb = dev_dispose;
	return spry_actor_spawn(out, &o);
}

int
spry_device(spry_socket *a, spry_socket *b, spry_actor **out)
{
	spry_actor *act;
	device     *d;
	int         rv;

	if (b == NULL) {
		b = a;
	}
	if ((rv = dev_check(a, b)) != 0) {
		return rv;
	}
	if ((d = dev_new(a, b)) == NULL) {
		return SPRY_ENOMEM;
	}
	if ((rv = dev_spawn(d, &act)) != 0) {
		dev_free(d);
		return rv;
	}
	pthread_mutex_lock(&d->lk);
	d->in = spry_actor_mailbox(act);
	rv    = dev_attach(d, act);
	pthread_mutex_unlock(&d->lk);
	if (rv != 0) {
		spry_actor_stop(act); /* its exit undoes what attach did */
		spry_actor_release(act);
		return rv;
	}
	if (out != NULL) {
		*out = act;
	} else {
		spry_actor_release(act);
	}
	return 0;
}
