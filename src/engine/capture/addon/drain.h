/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The drain thread: consumes the ring buffer in place, feeds every record to the stitcher and
 * publishes finished rows as column batches for JS to take. JS never waits on it for long: the
 * lock guards only the hand-over of batches and a copy of the counters. When JS stops taking,
 * the thread stops consuming (the ready queue has a cap), so the kernel's ring fills and its
 * own overload rules apply: memory stays bounded and every loss is counted where it happens.
 */
#ifndef WISP_DRAIN_H
#define WISP_DRAIN_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>

#include "../../http/native/wisp_http.h"
#include "../../conns/native/wisp_conns.h"
#include "socket_trace.h"

struct ring_buffer;
struct wisp_conn_ctl;

/*
 * What /proc said of a process when its first connection was seen, for JS to keep: a client
 * that exits before its rows are taken still gets its command line and container.
 */
struct proc_info {
	uint32_t pid;
	uint64_t start_boottime_ns;
	char *comm;                 /* /proc/PID/comm */
	size_t comm_len;
	char *cmdline;              /* /proc/PID/cmdline, NUL-separated arguments */
	size_t cmdline_len;
	char *cgroup;               /* /proc/PID/cgroup */
	size_t cgroup_len;
	struct proc_info *next;
};

void proc_info_free(struct proc_info *p);

/* Processes already read, by (pid, start time), so each is read once. */
#define PROC_SEEN_SLOTS 4096

struct drain_stats {
	uint64_t loops;        /* consume rounds */
	uint64_t stalls;       /* rounds skipped because JS had not taken the ready rows */
	uint64_t batches;      /* batches published */
};

/* Entries read per batch lookup of the `conns` map. */
#define SNAPSHOT_BATCH 1024

/* Rows of the connections stage's tables waiting for JS, by enum wisp_conns_table. */
struct conns_ready {
	struct wisp_rows *head;
	struct wisp_rows *tail;
};

struct drain {
	struct wisp_stitcher *st;
	/*
	 * The connections stage (conn_stats, tls_handshakes), fed the same records; every
	 * report_ns it reads the kernel's `conns` map (fd conns_map_fd) and reports.
	 */
	struct wisp_conns *conns;
	int conns_map_fd;
	int64_t report_ns;
	int64_t last_report;
	struct ring_buffer *rb;
	struct wisp_conn_ctl *ctl;  /* the conn_ctl map, mmapped */
	uint32_t poll_us;           /* sleep when the ring was empty */
	uint64_t max_ready_rows;    /* rows waiting for JS before the thread stops consuming */
	int64_t offset;             /* CLOCK_REALTIME - CLOCK_MONOTONIC, refreshed every round */
	uint32_t round_records;     /* records consumed in the current round */
	pthread_t thread;
	int started;
	atomic_int stop;
	pthread_mutex_t lock;
	/* Under lock: */
	struct wisp_batch *ready;
	struct wisp_batch *ready_tail;
	uint64_t ready_rows;
	struct wisp_http_counters counters;
	struct conns_ready conns_ready[2];
	struct wisp_conns_counters conns_counters;
	struct drain_stats stats;
	struct proc_info *procs;    /* read since the last take */
	struct proc_info *procs_tail;
	uint32_t nprocs;
	/* The drain thread's alone: */
	uint64_t seen[PROC_SEEN_SLOTS][2];
	struct wisp_conn_key snap_keys[SNAPSHOT_BATCH];
	struct wisp_conn_state snap_vals[SNAPSHOT_BATCH];
};

/* The ring callback: feeds one record to the stitcher. */
int drain_record(void *ctx, void *data, size_t size);

/* The stitcher's hook for opened connections: reads a process's /proc files once per process. */
void drain_proc(void *ctx, uint32_t pid, uint64_t start_boottime_ns);

/* The conn_ctl writer the stitcher calls (see bpf/socket_trace.h). */
void drain_ctl(void *ctx, uint64_t conn_id, const uint64_t skip_to[2], int muted);

/* Starts the thread; errno-style negative value on failure. */
int drain_start(struct drain *d);

/*
 * Stops the thread, then consumes what is left in the ring and publishes it, so nothing
 * captured before the stop is lost. Safe to call when not started.
 */
void drain_stop(struct drain *d);

/*
 * The batches ready for JS (a chain, or NULL), the processes read since and the connections
 * stage's rows by table (chains, or NULL); the caller owns them.
 */
struct wisp_batch *drain_take(struct drain *d, struct proc_info **procs, struct wisp_rows *conns[2]);

/* A copy of the counters and the drain's own stats. */
void drain_snapshot(struct drain *d, struct wisp_http_counters *c, struct wisp_conns_counters *cc, struct drain_stats *s);

/* CLOCK_REALTIME minus CLOCK_MONOTONIC, in ns: the tightest of a few readings. */
int64_t drain_clock_offset(void);

#endif
