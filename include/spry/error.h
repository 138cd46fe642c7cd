/* SPDX-License-Identifier: MIT */
/*
 * spry/error.h: error codes. Every spry function that can fail returns 0
 * on success or one of these positive codes. Values follow NNG's nng_err
 * where the meaning is the same, so code ported from NNG keeps its numbers;
 * values are never reused.
 */
#ifndef SPRY_ERROR_H
#define SPRY_ERROR_H

#include "spry/defs.h"

enum spry_err {
	SPRY_OK           = 0,
	SPRY_EINTR        = 1,    /* interrupted */
	SPRY_ENOMEM       = 2,    /* out of memory */
	SPRY_EINVAL       = 3,    /* invalid argument */
	SPRY_EBUSY        = 4,    /* resource busy */
	SPRY_ETIMEDOUT    = 5,    /* deadline reached */
	SPRY_ECONNREFUSED = 6,    /* connection refused */
	SPRY_ECLOSED      = 7,    /* object closed */
	SPRY_EAGAIN       = 8,    /* try again: would block */
	SPRY_ENOTSUP      = 9,    /* not supported */
	SPRY_EADDRINUSE   = 10,   /* address in use */
	SPRY_ESTATE       = 11,   /* operation not valid in this state */
	SPRY_ENOENT       = 12,   /* no such entry */
	SPRY_EPROTO       = 13,   /* protocol error */
	SPRY_EUNREACHABLE = 14,   /* destination unreachable */
	SPRY_EADDRINVAL   = 15,   /* invalid address */
	SPRY_EPERM        = 16,   /* permission denied */
	SPRY_EMSGSIZE     = 17,   /* message too large */
	SPRY_ECONNABORTED = 18,   /* connection aborted */
	SPRY_ECONNRESET   = 19,   /* connection reset by peer */
	SPRY_ECANCELED    = 20,   /* operation canceled */
	SPRY_ENOFILES     = 21,   /* out of files */
	SPRY_ENOSPC       = 22,   /* out of space */
	SPRY_EEXIST       = 23,   /* resource already exists */
	SPRY_EREADONLY    = 24,   /* read only resource */
	SPRY_EWRITEONLY   = 25,   /* write only resource */
	SPRY_EBADTYPE     = 30,   /* option has another type */
	SPRY_ERESTARTS    = 100,  /* supervisor restart intensity reached */
	SPRY_EINTERNAL    = 1000, /* internal error (a bug in spry) */
};

/*
 * spry_strerror returns a constant, human readable description of err.
 * Any value is accepted: unknown codes give "Unknown error". The string
 * is never allocated or formatted and is safe to use from any thread.
 */
SPRY_API const char *spry_strerror(int err);

#endif /* SPRY_ERROR_H */
