/* SPDX-License-Identifier: MIT */
/*
 * sp/option.c: socket options through one typed value (spry_optval).
 * The socket's own options are here; the protocol gets the rest. Every
 * option checks the value's type first (SPRY_EBADTYPE), then its range
 * (SPRY_EINVAL). A pipe's options (its addresses) are read here too,
 * by pipe id, under the socket lock that guards the pipe list.
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
	case SPRY_OPT_LOCADDR: /* a pipe's, and read only there too */
	case SPRY_OPT_REMADDR:
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

/* Copy str into the caller's buffer; n becomes its length. */
static int
get_str(spry_optval *v, const char *str)
{
	size_t n = strlen(str);

	if (v->type != SPRY_TYPE_STRING) {
		return SPRY_EBADTYPE;
	}
	if (v->u.buf.p == NULL || v->u.buf.n <= n) {
		return SPRY_EINVAL;
	}
	memcpy(v->u.buf.p, str, n + 1);
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
		return get_str(v, s->name);
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
	case SPRY_OPT_LOCADDR: /* a socket has many: spry_pipe_getopt */
	case SPRY_OPT_REMADDR:
		return SPRY_ENOTSUP;
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

/* The address of p that opt names (fixed before p joined its socket). */
static const char *
pipe_addr(const spry__pipe *p, int opt)
{
	return opt == SPRY_OPT_LOCADDR ? p->laddr : p->addr;
}

int
spry_pipe_getopt(spry_socket *s, uint32_t pipe, int opt, spry_optval *v)
{
	spry__pipe *p;
	int         rv;

	if (s == NULL || v == NULL) {
		return SPRY_EINVAL;
	}
	if (opt != SPRY_OPT_LOCADDR && opt != SPRY_OPT_REMADDR) {
		return SPRY_ENOTSUP;
	}
	if (v->type != SPRY_TYPE_STRING) {
		return SPRY_EBADTYPE; /* before the pipe: a caller's mistake */
	}
	spry__sock_lock(s); /* keeps p in the list while we copy */
	if (spry__sock_closed(s)) {
		rv = SPRY_ECLOSED;
	} else if ((p = spry__pipe_find(s, pipe)) == NULL) {
		rv = SPRY_ENOENT;
	} else {
		rv = get_str(v, pipe_addr(p, opt));
	}
	spry__sock_unlock(s);
	return rv;
}
