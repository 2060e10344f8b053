/* SPDX-License-Identifier: Apache-2.0 */
/* The host side of the connections stage: /proc answers (see conns_host.c). */
#ifndef WISP_CONNS_HOST_H
#define WISP_CONNS_HOST_H

#include "../../conns/native/wisp_conns.h"

/* Fills `h` with the /proc answers; `ctl` (with `ctx`) asks the kernel to stop copying a connection. */
void conns_host_init(struct wisp_conns_host *h, wisp_conns_ctl_fn ctl, void *ctx);

#endif
