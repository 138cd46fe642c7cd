/* SPDX-License-Identifier: MIT */
/*
 * spry/spry.h: the one header to include. spry is an actor runtime whose
 * sockets speak the Scalability Protocols; see docs/guide.md.
 */
#ifndef SPRY_H
#define SPRY_H

#include "spry/defs.h"
#include "spry/error.h"
#include "spry/mailbox.h"
#include "spry/msg.h"
#include "spry/ctx.h"
#include "spry/runtime.h"
#include "spry/actor.h"
#include "spry/supervisor.h"
#include "spry/socket.h"

#define SPRY_VERSION_MAJOR 0
#define SPRY_VERSION_MINOR 1
#define SPRY_VERSION_PATCH 0

#endif /* SPRY_H */
