/* SPDX-License-Identifier: MIT */
/*
 * transports/transport.c: the list of transports built in. The socket
 * core calls spry__transports_init once, on the first listen or dial,
 * and each transport registers its ops table; this is the only place
 * the core reaches into transports/.
 */
#include "sp/socket.h"

extern const spry__tran spry__tran_inproc;

void spry__transports_init(void);

void
spry__transports_init(void)
{
	spry__tran_register(&spry__tran_inproc);
}
