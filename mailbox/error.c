/* SPDX-License-Identifier: MIT */
/*
 * mailbox/error.c: the table of error codes and their messages. Strings
 * are constants: spry_strerror never allocates or formats.
 */
#include "spry/error.h"

#include <stddef.h>

static const struct {
	int         code;
	const char *msg;
} errors[] = {
    {SPRY_OK, "Success"},
    {SPRY_EINTR, "Interrupted"},
    {SPRY_ENOMEM, "Out of memory"},
    {SPRY_EINVAL, "Invalid argument"},
    {SPRY_EBUSY, "Resource busy"},
    {SPRY_ETIMEDOUT, "Timed out"},
    {SPRY_ECONNREFUSED, "Connection refused"},
    {SPRY_ECLOSED, "Object closed"},
    {SPRY_EAGAIN, "Try again"},
    {SPRY_ENOTSUP, "Not supported"},
    {SPRY_EADDRINUSE, "Address in use"},
    {SPRY_ESTATE, "Incorrect state"},
    {SPRY_ENOENT, "Entry not found"},
    {SPRY_EPROTO, "Protocol error"},
    {SPRY_EUNREACHABLE, "Destination unreachable"},
    {SPRY_EADDRINVAL, "Address invalid"},
    {SPRY_EPERM, "Permission denied"},
    {SPRY_EMSGSIZE, "Message too large"},
    {SPRY_ECONNABORTED, "Connection aborted"},
    {SPRY_ECONNRESET, "Connection reset"},
    {SPRY_ECANCELED, "Operation canceled"},
    {SPRY_ENOFILES, "Out of files"},
    {SPRY_ENOSPC, "Out of space"},
    {SPRY_EEXIST, "Resource already exists"},
    {SPRY_EREADONLY, "Read only resource"},
    {SPRY_EWRITEONLY, "Write only resource"},
    {SPRY_EBADTYPE, "Incorrect type"},
    {SPRY_ERESTARTS, "Restart intensity reached"},
    {SPRY_EINTERNAL, "Internal error detected"},
};

const char *
spry_strerror(int err)
{
	for (size_t i = 0; i < sizeof(errors) / sizeof(errors[0]); i++) {
		if (errors[i].code == err) {
			return errors[i].msg;
		}
	}
	return "Unknown error";
}
