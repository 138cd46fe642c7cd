/* SPDX-License-Identifier: MIT */
/*
 * transports/transport.c: the list of transports built in. The socket
 * core calls spry__transports_init once, on the first listen or dial,
 * and each transport registers its ops table; this is the only place
 * the core reaches into transports/.
 */
#include "sp/socket.h"

extern const spry__tran spry__tran_inproc;
extern const spry__tran spry__tran_ipc;
extern const spry__tran spry__tran_tcp;
extern const spry__tran spry__tran_tcp4;
extern const spry__tran spry__tran_tcp6;

void spry__transports_init(void);

void
spry__transports_init(void)
{
	spry__tran_register(&spry__tran_inproc);
	spry__tran_register(&spry__tran_ipc);
	spry__tran_register(&spry__tran_tcp);
	spry__tran_register(&spry__tran_tcp4);
	spry__tran_register(&spry__tran_tcp6);
}
