/* SPDX-License-Identifier: Apache-2.0 */
/*
 * TLS handshakes followed per connection: each direction's copied bytes are put in order by
 * stream position (the HTTP stage's reassembly), read as TLS records, and the handshake
 * messages in them handed to tls.c. A handshake makes one `tls_handshakes` row when it is done
 * (1.2: both sides sent ChangeCipherSpec; 1.3: the client sent its first encrypted record, its
 * Finished), or, with what was seen, when it ends otherwise (close, gap, malformed bytes, the
 * byte cap, a timeout). Then the kernel is asked to stop copying the connection.
 */
#ifndef WISP_HANDSHAKES_H
#define WISP_HANDSHAKES_H

#include "wisp_conns.h"

#include "socket_trace.h"

/* What the connections stage knows of a connection, for its row. */
struct hs_meta {
	struct wisp_proc proc;
	uint8_t role;            /* 0: unknown (then the ClientHello's direction tells it) */
	uint16_t local_port;
	uint16_t remote_port;
	uint8_t local_len;
	uint8_t remote_len;
	char local_addr[48];
	char remote_addr[48];
};

struct handshakes;

struct handshakes *hs_new(const struct wisp_conns_options *o, struct wisp_conns_counters *c, struct rows_out *out,
			  wisp_conns_ctl_fn ctl, void *ctl_ctx);
void hs_free(struct handshakes *h);

/* One TLS data record of connection `conn_id`; `meta` may be NULL (no open record was seen). */
void hs_data(struct handshakes *h, uint64_t conn_id, const struct hs_meta *meta, const struct wisp_data_event *ev,
	     const uint8_t *data, uint64_t ts);

/* The connection closed: a handshake still in progress makes its row with what was seen. */
void hs_close(struct handshakes *h, uint64_t conn_id, uint64_t ts);

/* Handshakes that waited longer than the timeout since their first record are given up. */
void hs_flush(struct handshakes *h, int64_t now_ns);

#endif
