/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The connections stage in native code: ring records and the kernel's `conns` map in,
 * `conn_stats` and `tls_handshakes` rows out. One stage per tracer, beside the HTTP stitcher;
 * it is not thread-safe (the addon's drain thread owns it).
 *
 *   open/close records ─┐
 *   conns map, a period ─┼─► conn_stats.c (connections by kernel id, totals per upid × remote
 *                        │     endpoint × role, reported on the period) ─► conn_stats rows
 *   TLS data records ────┴─► handshakes.c (per direction, by stream position) ─► tls.c (record
 *                              layer, hellos, X.509) ─► tls_handshakes rows, then mute
 *
 * Every input byte is untrusted: the functions take a pointer and a length, never read past
 * them, never recurse, and bound every buffer they keep. Whatever is lost is counted by reason.
 */
#ifndef WISP_CONNS_H
#define WISP_CONNS_H

#include <stddef.h>
#include <stdint.h>

#include "rows.h"

/* The stage's limits and choices; wisp_conns_options_default() fills in the defaults. */
struct wisp_conns_options {
	uint64_t period_ns;          /* conn_stats report period; default 5 s (Pixie's) */
	uint8_t sides;               /* roles reported, a mask: 1 client, 2 server; default 3 */
	uint32_t max_conns;          /* connections tracked at once; default 65536 (the kernel map's size) */
	uint32_t max_keys;           /* conn_stats keys kept at once; default 65536 */
	uint64_t exit_check_ns;      /* how often a quiet process is checked for having exited; 10 s */
	uint32_t max_handshakes;     /* TLS handshakes followed at once; default 4096 */
	uint32_t tls_max_bytes;      /* bytes of each direction of a handshake parsed at most; 32 KiB */
	uint64_t tls_max_buffered;   /* bytes all handshakes hold at once; default 16 MiB */
	uint64_t tls_timeout_ns;     /* a handshake not done this long after its ClientHello is given up; 10 s */
	uint32_t batch_rows;         /* rows per batch at most; default 65536 */
};

void wisp_conns_options_default(struct wisp_conns_options *o);

/* Counters, by reason. All only grow, except the "now" ones. */
struct wisp_conns_counters {
	uint64_t records;            /* ring records looked at */
	uint64_t malformed_records;  /* too short or impossible values: skipped */
	uint64_t conns;              /* connections tracked now */
	uint64_t keys;               /* conn_stats keys held now */
	uint64_t opened;             /* connections counted as opened */
	uint64_t closed;             /* ... and as closed, by a close record */
	uint64_t vanished;           /* closed because the kernel's map lost them (LRU) with no close record */
	uint64_t exited;             /* closed because their process exited without close(2) */
	uint64_t role_from_listen;   /* roles of connections found mid-stream told by the listening sockets */
	uint64_t role_from_peer;     /* ... told by the traced other end of the connection */
	uint64_t role_unknown;       /* connections left out of conn_stats: their role could not be told */
	uint64_t conn_evictions;     /* connections forgotten beyond max_conns */
	uint64_t key_evictions;      /* idle keys forgotten beyond max_keys (their totals start over) */
	uint64_t stats_rows;
	uint64_t handshakes;         /* tls_handshakes rows */
	uint64_t tls_records;        /* TLS data records taken */
	uint64_t tls_malformed;      /* handshakes whose bytes broke the TLS or X.509 format */
	uint64_t tls_incomplete;     /* rows of handshakes that ended (close, gap, cap, timeout) before they were done */
	uint64_t tls_gaps;           /* bytes of a handshake the kernel did not copy */
	uint64_t tls_truncated;      /* handshakes cut at tls_max_bytes */
	uint64_t tls_evictions;      /* handshakes given up beyond max_handshakes or tls_max_buffered */
	uint64_t tls_late_records;   /* records of a handshake already reported (in flight when it was muted) */
	uint64_t tls_buffered;       /* bytes held now */
	uint64_t mute_requests;      /* connections the kernel was asked to stop copying */
	uint64_t row_alloc_failures; /* rows lost because memory for them ran out */
};

/* The tables this stage fills; rows.h batches say which. */
enum wisp_conns_table {
	WISP_TABLE_CONN_STATS = 0,
	WISP_TABLE_TLS_HANDSHAKES = 1,
};

/* Asks the kernel to stop copying a connection (the HTTP stage's signature, wisp_http.h). */
typedef void (*wisp_conns_ctl_fn)(void *ctx, uint64_t conn_id, const uint64_t skip_to[2], int muted);

/*
 * What the stage asks of the host (the addon reads /proc; tests answer as they like). Both may
 * be NULL: then no process ever counts as exited, and a connection found mid-stream whose bytes
 * do not show its role is left out.
 */
struct wisp_conns_host {
	/* 1 while process (pid, start time) runs, 0 once it is gone, -1 when it cannot be told. */
	int (*alive)(void *ctx, uint32_t pid, uint64_t start_boottime_ns);
	/*
	 * The role of a connection found mid-stream from the process's listening sockets: 2 when
	 * its local port is one it listens on (it accepted the connection), 1 when not, 0 when it
	 * cannot be told (the process is gone).
	 */
	uint8_t (*listen_role)(void *ctx, uint32_t pid, uint16_t local_port, int v6);
	wisp_conns_ctl_fn ctl;
	void *ctx;
};

struct wisp_conns;

/* NULL on allocation failure. */
struct wisp_conns *wisp_conns_new(const struct wisp_conns_options *o, const struct wisp_conns_host *host);
void wisp_conns_free(struct wisp_conns *s);

/*
 * Consumes one ring record (bpf/socket_trace.h): opens, closes and TLS data records; HTTP data
 * and shed markers are the HTTP stage's and are passed over. Never fails: bad records are
 * counted. `clock_offset_ns` turns CLOCK_MONOTONIC stamps into CLOCK_REALTIME.
 */
void wisp_conns_record(struct wisp_conns *s, const void *rec, size_t len, int64_t clock_offset_ns);

/*
 * A report: the kernel's `conns` map is read whole (begin, one call per entry, end), then every
 * key with open connections or changes since its last row gets a row stamped `now_ns`
 * (CLOCK_REALTIME). Entries are struct wisp_conn_key / wisp_conn_state as bytes.
 */
void wisp_conns_snapshot_begin(struct wisp_conns *s, int64_t now_ns);
void wisp_conns_snapshot_entry(struct wisp_conns *s, const void *key, size_t key_len, const void *value, size_t value_len);
void wisp_conns_report(struct wisp_conns *s, int64_t now_ns);

/* Time passes without a report: TLS handshakes that waited too long are given up. */
void wisp_conns_flush_idle(struct wisp_conns *s, int64_t now_ns);

/* The rows finished so far of one table as a chain of batches (NULL when none); the caller frees them. */
struct wisp_rows *wisp_conns_take(struct wisp_conns *s, enum wisp_conns_table table);

const struct wisp_conns_counters *wisp_conns_counters(const struct wisp_conns *s);

/* Column names of each table, in the order of its rows.h columns. */
extern const struct wisp_rows_schema wisp_conn_stats_schema;
extern const struct wisp_rows_schema wisp_tls_handshakes_schema;

#endif
