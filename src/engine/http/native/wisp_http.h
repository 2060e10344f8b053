/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The HTTP stage in native code: ring-buffer records in (bpf/socket_trace.h), `http_events`
 * columns out. One stitcher per tracer; it is not thread-safe (the addon's drain thread owns
 * it and takes its lock around every call).
 *
 *   records ─► pairing.c (connections) ─► reassembly.c (per direction) ─► http1.c (parser)
 *                 └─ pairs ─► columns.c (one batch of columns, strings deduplicated)
 *
 * Every input byte is untrusted: the functions take a pointer and a length, never read past
 * them, never recurse, and bound every buffer they keep. Whatever is lost is counted by reason.
 */
#ifndef WISP_HTTP_H
#define WISP_HTTP_H

#include <stddef.h>
#include <stdint.h>

#include "../../native/strtab.h"

/* Stitcher limits and choices; wisp_http_options_default() fills in the defaults. */
struct wisp_http_options {
	uint32_t body_prefix_bytes;   /* body bytes kept per message (0: none); default 512 */
	uint32_t max_header_bytes;    /* start line + header section; default 16 KiB */
	uint32_t max_pending_bytes;   /* out-of-order bytes held per direction; default 256 KiB */
	uint32_t max_pending_segments;/* out-of-order segments per direction; default 64 */
	uint32_t max_pipelined;       /* requests waiting for responses per connection; default 64 */
	uint64_t max_buffered_bytes;  /* all bytes held by all connections; default 64 MiB */
	uint32_t max_connections;     /* connections tracked at once; default 16384 */
	uint64_t idle_ns;             /* a connection with no event for this long is evicted; 120 s */
	uint64_t reorder_ns;          /* a hole older than this becomes a gap; 50 ms */
	uint32_t batch_rows;          /* rows per column batch at most; default 65536 */
	/* Skip (ask the kernel not to copy) the rest of a body longer than this past the prefix. */
	uint32_t skip_body_over;      /* default 64 KiB; 0 never asks */
	uint8_t redact_mode;          /* enum redact_mode (redact.h): defaults, listed or off */
	/* Added to the default lists (redact.c); read only by wisp_stitcher_new. */
	const char *const *redact_headers;
	size_t n_redact_headers;
	const char *const *redact_params;
	size_t n_redact_params;
};

void wisp_http_options_default(struct wisp_http_options *o);

/* Counters, by reason. All only grow, except connections and buffered_bytes. */
struct wisp_http_counters {
	uint64_t records;            /* ring records consumed */
	uint64_t malformed_records;  /* too short, unknown kind, impossible values: skipped */
	uint64_t bytes;              /* captured payload bytes consumed */
	uint64_t rows;
	uint64_t connections;        /* tracked now */
	uint64_t buffered_bytes;     /* held now */
	uint64_t parse_errors;
	uint64_t resyncs;
	uint64_t oversized_headers;
	uint64_t invalid_chunks;
	uint64_t interim_responses;
	uint64_t gaps;
	uint64_t gap_bytes;
	uint64_t duplicate_bytes;
	uint64_t reorder_overflows;
	uint64_t unpaired_responses;
	uint64_t dropped_exchanges;
	uint64_t died_mid_exchange;
	uint64_t unanswered_requests;
	uint64_t evictions_idle;
	uint64_t evictions_memory;
	uint64_t evictions_count;
	uint64_t queue_overflows;
	uint64_t missing_open;
	uint64_t upgrades;
	uint64_t wrong_direction;
	uint64_t shed_gaps;          /* stretches the kernel shed under overload */
	uint64_t shed_exchanges;     /* exchanges in flight when their connection began to shed */
	uint64_t skip_requests;      /* bodies the kernel was asked not to copy */
	uint64_t mute_requests;      /* connections the kernel was asked to stop copying */
	uint64_t batches_full;       /* batches closed because they reached batch_rows or their byte cap */
	uint64_t row_alloc_failures; /* rows lost because memory for them ran out */
};

/* The stitcher's columns, in the order of enum wisp_col_num / wisp_col_str. */
enum wisp_col_num {
	WISP_COL_REMOTE_PORT,
	WISP_COL_LOCAL_PORT,
	WISP_COL_TRACE_ROLE,
	WISP_COL_MAJOR_VERSION,
	WISP_COL_MINOR_VERSION,
	WISP_COL_CONTENT_TYPE,
	WISP_COL_REQ_BODY_SIZE,
	WISP_COL_RESP_STATUS,
	WISP_COL_RESP_BODY_SIZE,
	WISP_COL_LATENCY,
	WISP_COL_PID,
	WISP_COL_NUM__COUNT,
};

enum wisp_col_str {
	WISP_COL_REMOTE_ADDR,
	WISP_COL_LOCAL_ADDR,
	WISP_COL_REQ_HEADERS,
	WISP_COL_REQ_METHOD,
	WISP_COL_REQ_PATH,
	WISP_COL_REQ_BODY,
	WISP_COL_RESP_HEADERS,
	WISP_COL_RESP_MESSAGE,
	WISP_COL_RESP_BODY,
	WISP_COL_STR__COUNT,
};

/* Column names as in `http_events` (src/engine/http/schema.ts). */
extern const char *const wisp_col_num_names[WISP_COL_NUM__COUNT];
extern const char *const wisp_col_str_names[WISP_COL_STR__COUNT];

/* Distinct strings of one column of one batch, and what makes repeats cheap to find. */
struct wisp_str_table {
	struct wisp_strtab t;
	uint64_t memo_id[8];   /* recent string ids (see batch_row.str_id) and their codes */
	uint32_t memo_code[8];
	uint32_t recent[4];    /* the last distinct codes appended (count when none) */
	uint32_t recent_next;
};

/* The process a row belongs to, as the kernel saw it at open; one entry per distinct process. */
struct wisp_proc {
	uint32_t pid;
	uint32_t pad;                /* zero: processes are compared and hashed as bytes */
	uint64_t start_boottime_ns;  /* 0: unknown (no open event seen) */
	char comm[16];               /* NUL-padded, '' when unknown */
};

/* One batch of finished rows, column by column. */
struct wisp_batch {
	uint32_t rows;
	uint32_t cap;                            /* rows at most */
	uint32_t room;                           /* rows the columns have room for now */
	int64_t *time_ns;                        /* CLOCK_REALTIME ns of the last response byte */
	double *num[WISP_COL_NUM__COUNT];        /* INT64 columns as exact doubles */
	uint8_t *encrypted;
	uint32_t *codes[WISP_COL_STR__COUNT];
	struct wisp_str_table str[WISP_COL_STR__COUNT];
	uint32_t *proc_code;                     /* per row, into procs */
	struct wisp_proc *procs;
	uint32_t nprocs;
	uint32_t procs_cap;
	uint32_t *proc_slots;                    /* open addressing over procs: code + 1 */
	uint32_t proc_slots_n;
	size_t bytes;                            /* memory held, for the caller's caps */
	struct wisp_batch *next;                 /* for the caller's queue */
};

void wisp_batch_free(struct wisp_batch *b);

/* Asks the kernel, through the addon, to stop copying bytes (see bpf/socket_trace.h conn_ctl). */
typedef void (*wisp_ctl_fn)(void *ctx, uint64_t conn_id, const uint64_t skip_to[2], int muted);

/*
 * A connection opened (the kernel saw its accept or connect): whoever keeps process metadata
 * can read the process now, while it still runs. Connections found mid-stream belong to
 * processes that were running before capture began, which are read when their rows are stored.
 */
typedef void (*wisp_proc_fn)(void *ctx, uint32_t pid, uint64_t start_boottime_ns);

struct wisp_stitcher;

/* NULL on allocation failure. `ctl` may be NULL (nothing to tell a kernel). */
struct wisp_stitcher *wisp_stitcher_new(const struct wisp_http_options *o, wisp_ctl_fn ctl, void *ctl_ctx);
void wisp_stitcher_free(struct wisp_stitcher *s);

/* Calls `fn` with each opened connection's process (NULL: nobody). */
void wisp_stitcher_on_process(struct wisp_stitcher *s, wisp_proc_fn fn, void *ctx);

/*
 * Consumes one ring record (bytes as bpf/socket_trace.h lays them out). `clock_offset_ns` turns
 * the kernel's CLOCK_MONOTONIC stamps into CLOCK_REALTIME. Never fails: bad records are counted.
 */
void wisp_stitcher_record(struct wisp_stitcher *s, const void *rec, size_t len, int64_t clock_offset_ns);

/*
 * Time passes (CLOCK_REALTIME ns): holes older than reorder_ns become gaps, connections idle
 * longer than idle_ns are evicted.
 */
void wisp_stitcher_flush_idle(struct wisp_stitcher *s, int64_t now_ns);

/* The rows finished so far as one batch (NULL when none); the caller owns and frees it. */
struct wisp_batch *wisp_stitcher_take(struct wisp_stitcher *s);

/* Rows waiting in the open batch. */
uint32_t wisp_stitcher_pending_rows(const struct wisp_stitcher *s);

const struct wisp_http_counters *wisp_stitcher_counters(const struct wisp_stitcher *s);

#endif
