/* SPDX-License-Identifier: MIT */
/*
 * sp/proto.c: the protocol registry and the helpers protocols share.
 */
#include "sp/proto.h"
#include "mailbox/alloc.h"
#include "spry/error.h"

/* Cooked and raw ops of every protocol. */
static const spry__proto *const proto_table[][2] = {
    {&spry__pair0, &spry__pair0_raw},
    {&spry__pair1, &spry__pair1_raw},
    {&spry__push0, &spry__push0_raw},
    {&spry__pull0, &spry__pull0_raw},
    {&spry__req0, &spry__req0_raw},
    {&spry__rep0, &spry__rep0_raw},
    {&spry__surveyor0, &spry__surveyor0_raw},
    {&spry__respondent0, &spry__respondent0_raw},
    {&spry__pub0, &spry__pub0_raw},
    {&spry__sub0, &spry__sub0_raw},
    {&spry__bus0, &spry__bus0_raw},
};

const spry__proto *
spry__proto_find(int id, bool raw)
{
	for (size_t i = 0; i < sizeof(proto_table) / sizeof(proto_table[0]);
	     i++) {
		if (proto_table[i][0]->self == id) {
			return proto_table[i][raw ? 1 : 0];
		}
	}
	return NULL;
}

spry__pipe *
spry__pick_rr(spry_socket *s, spry__pipe **cursor)
{
	spry__pipe *start = *cursor != NULL ? (*cursor)->next : NULL;
	spry__pipe *p     = start != NULL ? start : s->pipes;

	for (spry__pipe *first = p; p != NULL;) {
		if (spry__pipe_ready(p)) {
			*cursor = p;
			return p;
		}
		p = p->next != NULL ? p->next : s->pipes;
		if (p == first) {
			break;
		}
	}
	return NULL;
}

void
spry__rr_forget(spry__pipe **cursor, spry__pipe *p)
{
	if (*cursor == p) {
		*cursor = NULL;
	}
}

int
spry__emit_all(spry_socket *s, spry_msg *m, spry__emit *e, uint32_t skip)
{
	for (spry__pipe *p = s->pipes; p != NULL; p = p->next) {
		if (p->id == skip) {
			continue;
		}
		if (!spry__pipe_ready(p)) {
			spry__sock_count(&s->st_dropped, 1);
			continue;
		}
		if (spry__emit_add(e, p) != 0) {
			for (size_t i = 0; i < e->n; i++) {
				spry__pipe_release(e->pipes[i]);
			}
			if (e->pipes != e->inl) {
				spry__free(
				    e->pipes, e->cap * sizeof(*e->pipes));
				e->pipes = e->inl;
				e->cap   = sizeof(e->inl) / sizeof(e->inl[0]);
			}
			e->n = 0;
			return SPRY_ENOMEM;
		}
	}
	e->msg = m;
	return 0;
}

int
spry__bt_take(spry_msg *m, int maxttl)
{
	uint32_t w;
	int      hops = 0;

	for (;;) {
		if (spry_msg_trim_u32(m, &w) != 0) {
			return SPRY_EPROTO;
		}
		if (spry_msg_header_append_u32(m, w) != 0) {
			return SPRY_ENOMEM;
		}
		if (w & 0x80000000u) {
			return 0;
		}
		if (++hops >= maxttl) {
			return SPRY__RX_DROP;
		}
	}
}
