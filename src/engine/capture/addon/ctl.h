/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Writing one slot of the mmapped conn_ctl map (bpf/socket_trace.h, struct wisp_conn_ctl): the
 * kernel reads conn_id before and after the other fields and trusts them only when both reads
 * name its connection, so the slot is first claimed with conn_id 0, then filled, then named.
 */
#ifndef WISP_CTL_H
#define WISP_CTL_H

#include <stdint.h>

#include "socket_trace.h"

static inline void ctl_write(struct wisp_conn_ctl *map, uint64_t conn_id, const uint64_t skip_to[2], int muted)
{
	struct wisp_conn_ctl *slot = &map[conn_id % WISP_CTL_SLOTS];

	__atomic_store_n(&slot->conn_id, 0, __ATOMIC_RELAXED);
	__atomic_thread_fence(__ATOMIC_RELEASE);
	slot->skip_to[WISP_DIR_EGRESS] = skip_to[WISP_DIR_EGRESS];
	slot->skip_to[WISP_DIR_INGRESS] = skip_to[WISP_DIR_INGRESS];
	slot->muted = (__u8)muted;
	__atomic_store_n(&slot->conn_id, conn_id, __ATOMIC_RELEASE);
}

#endif
