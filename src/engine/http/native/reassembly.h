/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Per-direction stream reassembly by stream position. Data records carry the position of their
 * syscall, its true size, and the captured bytes at a chunk offset; bytes the kernel did not copy
 * are ranges no chunk covers. The reassembler turns them into an in-order sequence of "bytes" and
 * "gap of N bytes" for its sink, tolerating duplicates and out-of-order chunks within a bounded
 * window.
 *
 * When is a hole a gap rather than data still to come? The tracer emits all chunks of one
 * syscall at its exit, before any record of a later syscall on the connection, so:
 * - a syscall whose chunks do not cover its size is sealed (the uncovered ranges become gaps) as
 *   soon as a record of another syscall arrives, or when the stream goes quiet;
 * - any other hole (a whole syscall missing, or still in flight on another CPU) waits until the
 *   reorder window overflows (bytes or segments) or the caller forces it.
 */
#ifndef WISP_REASSEMBLY_H
#define WISP_REASSEMBLY_H

#include <stddef.h>
#include <stdint.h>

/* Where reassembled bytes go; `pos` is the stream position of the first byte. */
struct reasm_sink {
	void (*data)(void *ctx, uint64_t pos, const uint8_t *b, size_t n, uint64_t ts);
	void (*gap)(void *ctx, uint64_t pos, uint64_t len, uint64_t ts);
	void *ctx;
};

struct reasm_limits {
	uint32_t max_pending_bytes;
	uint32_t max_pending_segments;
};

/* Gaps are counted by the sink, which knows whether they were asked for (skipped, shed). */
struct reasm_counters {
	uint64_t *duplicate_bytes;
	uint64_t *reorder_overflows;
};

struct reasm_seg {
	uint64_t start;
	uint64_t end;
	uint64_t ts;
	uint8_t *data; /* NULL: a known gap (bytes the kernel did not copy) */
};

/* Chunks seen of the last syscall, merged, at most this many ranges (more are forgotten: their
 * bytes still arrive; only the gap claim for the syscall's uncovered part may then be too big,
 * and a gap claim never overrides data). */
#define REASM_COVER_MAX 8

struct reasm {
	struct reasm_sink sink;
	const struct reasm_limits *limits;
	struct reasm_counters ctr;
	uint64_t next;        /* stream position of the next byte the sink expects */
	int started;          /* next is valid */
	struct reasm_seg *pending;
	uint32_t npending;
	uint32_t cap_pending;
	uint64_t pending_bytes;
	int sys_open;         /* a syscall is being collected */
	uint64_t sys_pos;
	uint64_t sys_end;
	uint64_t sys_ts;
	uint64_t cover[REASM_COVER_MAX][2];
	uint32_t ncover;
	uint64_t last_ts;     /* newest record timestamp seen */
};

void reasm_init(struct reasm *r, struct reasm_sink sink, const struct reasm_limits *limits, struct reasm_counters ctr);

/*
 * Adds one record's chunk: `size` is the whole syscall's byte count, `chunk_off` the offset of
 * data[0] within it. Delivers whatever became contiguous.
 */
void reasm_add(struct reasm *r, uint64_t pos, uint32_t size, uint32_t chunk_off, const uint8_t *data,
	       uint32_t len, uint64_t ts);

/* The last syscall gets no more chunks: its uncovered ranges are gaps. */
void reasm_seal(struct reasm *r);

/* Gives up waiting: every hole before buffered data becomes a gap. */
void reasm_force_holes(struct reasm *r);

/* Forgets everything buffered (eviction, tunnel). */
void reasm_discard(struct reasm *r);

/* The stream is known to be at `pos` (a shed marker said so) before any record of it arrived. */
void reasm_start_at(struct reasm *r, uint64_t pos);

/* Every hole before `pos` is a gap now (the kernel said it sent nothing there). */
void reasm_skip_to(struct reasm *r, uint64_t pos, uint64_t ts);

static inline uint64_t reasm_buffered(const struct reasm *r)
{
	return r->pending_bytes;
}

#endif
