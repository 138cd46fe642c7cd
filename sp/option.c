/* SPDX-License-Identifier: MIT */
/*
 * sp/option.c: socket options through one typed value (spry_optval).
 * The socket's own options are here; the protocol gets the rest. Every
 * option checks the value's type first (SPRY_EBADTYPE), then its range
 * (SPRY_EINVAL).
 */
#include "sp/socket.h"
#include "spry/error.h"

#include <string.h>

static int
opt_int(const spry_optval *v, int lo, int hi, int *out)
{
	if (v->type != SPRY_TYPE_INT) {
		return SPRY_EBADTYPE;
	}
	if (v->u.i < lo || v->u.i > hi) {
		return SPRY_EINVAL;
	}
	*out = v->u.i;
	return 0;
}

static int
opt_dur(const spry_optval *v, spry_duration lo, spry_duration *out)
{
	if (v->type != SPRY_TYPE_DURATION) {
		return SPRY_EBADTYPE;
	}
	if (v->u.d < lo) {
		return SPRY_EINVAL;
	}
	__atomic_store_n(out, v->u.d, __ATOMIC_RELAXED); /* read unlocked */
	return 0;
}

/* Depth of a lazy mailbox: only before it carried anything. */
static int
opt_depth(spry_mailbox *mb, const spry_optval *v)
{
	int n, rv;

	if ((rv = opt_int(v, 1, SPRY__SOCK_MAXBUF, &n)) != 0) {
		return rv;
	}
	return spry__mailbox_set_capacity(mb, (size_t)n);
}

static int
opt_set_name(spry_socket *s, const spry_optval *v)
{
	size_t n;

	if (v->type != SPRY_TYPE_STRING) {
		return SPRY_EBADTYPE;
	}
	if (v->u.buf.p == NULL ||
	    (n = strlen(v->u.buf.p)) >= sizeof(s->name)) {
		return SPRY_EINVAL;
	}
	memcpy(s->name, v->u.buf.p, n + 1);
	return 0;
}

int
spry__opt_set(spry_socket *s, int opt, const spry_optval *v)
{
	spry_duration d;
	int           rv;

	switch (opt) {
	case SPRY_OPT_SENDBUF:
		return opt_depth(s->sendbox, v);
	case SPRY_OPT_RECVBUF:
		return opt_depth(s->recvbox, v);
	case SPRY_OPT_SENDTIMEO:
		return opt_dur(v, INT64_MIN, &s->sndtimeo);
	case SPRY_OPT_RECVTIMEO:
		return opt_dur(v, INT64_MIN, &s->rcvtimeo);
	case SPRY_OPT_RECVMAXSZ:
		if (v->type != SPRY_TYPE_SIZE) {
			return SPRY_EBADTYPE;
		}
		s->rcvmaxsz = v->u.sz;
		return 0;
	case SPRY_OPT_RECONNMINT:
		if ((rv = opt_dur(v, 1, &d)) == 0) {
			s->reconnmin = d;
		}
		return rv;
	case SPRY_OPT_RECONNMAXT:
		if ((rv = opt_dur(v, 0, &d)) == 0) {
			s->reconnmax = d;
		}
		return rv;
	case SPRY_OPT_MAXTTL:
		return opt_int(v, 1, 255, &s->maxttl);
	case SPRY_OPT_HSTIMEO:
		if ((rv = opt_dur(v, 1, &d)) == 0) {
			s->hstimeo = d;
		}
		return rv;
	case SPRY_OPT_IPC_PERM:
		return opt_int(v, 0, 0777, &s->ipcperm);
	case SPRY_OPT_SOCKNAME:
		return opt_set_name(s, v);
	case SPRY_OPT_RAW:
	case SPRY_OPT_PROTO:
	case SPRY_OPT_PEER:
		return SPRY_EREADONLY;
	default:
		break;
	}
	return s->proto->setopt != NULL ? s->proto->setopt(s, opt, v) :
	                                  SPRY_ENOTSUP;
}

static int
get_int(spry_optval *v, int i)
{
	if (v->type != SPRY_TYPE_INT) {
		return SPRY_EBADTYPE;
	}
	v->u.i = i;
	return 0;
}

static int
get_dur(spry_optval *v, spry_duration d)
{
	if (v->type != SPRY_TYPE_DURATION) {
		return SPRY_EBADTYPE;
	}
	v->u.d = d;
	return 0;
}

static int
get_name(spry_socket *s, spry_optval *v)
{
	size_t n = strlen(s->name);

	if (v->type != SPRY_TYPE_STRING) {
		return SPRY_EBADTYPE;
	}
	if (v->u.buf.p == NULL || v->u.buf.n <= n) {
		return SPRY_EINVAL;
	}
	memcpy(v->u.buf.p, s->name, n + 1);
	v->u.buf.n = n;
	return 0;
}

int
spry__opt_get(spry_socket *s, int opt, spry_optval *v)
{
	switch (opt) {
	case SPRY_OPT_SENDBUF:
		return get_int(v, (int)spry_mailbox_capacity(s->sendbox));
	case SPRY_OPT_RECVBUF:
		return get_int(v, (int)spry_mailbox_capacity(s->recvbox));
	case SPRY_OPT_SENDTIMEO:
		return get_dur(v, s->sndtimeo);
	case SPRY_OPT_RECVTIMEO:
		return get_dur(v, s->rcvtimeo);
	case SPRY_OPT_RECVMAXSZ:
		if (v->type != SPRY_TYPE_SIZE) {
			return SPRY_EBADTYPE;
		}
		v->u.sz = s->rcvmaxsz;
		return 0;
	case SPRY_OPT_RECONNMINT:
		return get_dur(v, s->reconnmin);
	case SPRY_OPT_RECONNMAXT:
		return get_dur(v, s->reconnmax);
	case SPRY_OPT_MAXTTL:
		return get_int(v, s->maxttl);
	case SPRY_OPT_HSTIMEO:
		return get_dur(v, s->hstimeo);
	case SPRY_OPT_IPC_PERM:
		return get_int(v, s->ipcperm);
	case SPRY_OPT_SOCKNAME:
		return get_name(s, v);
	case SPRY_OPT_RAW:
		if (v->type != SPRY_TYPE_BOOL) {
			return SPRY_EBADTYPE;
		}
		v->u.b = s->raw;
		return 0;
	case SPRY_OPT_PROTO:
		return get_int(v, s->proto->self);
	case SPRY_OPT_PEER:
		return get_int(v, s->proto->peer);
	default:
		break;
	}
	return s->proto->getopt != NULL ? s->proto->getopt(s, opt, v) :
	                                  SPRY_ENOTSUP;
}

int
spry_setopt(spry_socket *s, int opt, spry_optval v)
{
	int rv;

	if (s == NULL) {
		return SPRY_EINVAL;
	}
	spry__sock_lock(s);
	rv = spry__opt_set(s, opt, &v);
	spry__sock_unlock(s);
	return rv;
}

int
spry_getopt(spry_socket *s, int opt, spry_optval *v)
{
	int rv;

	if (s == NULL || v == NULL) {
		return SPRY_EINVAL;
	}
	spry__sock_lock(s);
	rv = spry__opt_get(s, opt, v);
	spry__sock_unlock(s);
	return rv;
}
