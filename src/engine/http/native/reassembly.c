// SPDX-License-Identifier: Apache-2.0
/* Stream reassembly by position; see reassembly.h for when a hole is a gap. */
#include "reassembly.h"

#include <stdlib.h>
#include <string.h>

void reasm_init(struct reasm *r, struct reasm_sink sink, const struct reasm_limits *limits, struct reasm_counters ctr)
{
	memset(r, 0, sizeof(*r));
	r->sink = sink;
	r->limits = limits;
	r->ctr = ctr;
}

static void deliver(struct reasm *r, uint64_t start, uint64_t end, const uint8_t *data, uint64_t ts)
{
	r->next = end;
	if (data)
		r->sink.data(r->sink.ctx, start, data, (size_t)(end - start), ts);
	else
		r->sink.gap(r->sink.ctx, start, end - start, ts);
}

static void seg_free(struct reasm_seg *s)
{
	free(s->data);
	s->data = NULL;
}

/* Removes pending[0]. */
static void shift(struct reasm *r)
{
	r->npending--;
	memmove(r->pending, r->pending + 1, r->npending * sizeof(*r->pending));
}

/*
 * Queues [start, end) (data, or a gap claim when data is NULL), or delivers it at once when it is
 * next and nothing waits. `data` points at the byte for `start`; it is copied when queued.
 */
static void insert(struct reasm *r, uint64_t start, uint64_t end, const uint8_t *data, uint64_t ts)
{
	struct reasm_seg seg;
	uint32_t i;

	if (end <= r->next) {
		if (data)
			*r->ctr.duplicate_bytes += end - start;
		return;
	}
	if (start < r->next) {
		if (data) {
			*r->ctr.duplicate_bytes += r->next - start;
			data += r->next - start;
		}
		start = r->next;
	}
	if (start == r->next && r->npending == 0) {
		deliver(r, start, end, data, ts);
		return;
	}
	if (r->npending == r->cap_pending) {
		uint32_t cap = r->cap_pending ? r->cap_pending * 2 : 8;
		struct reasm_seg *p = realloc(r->pending, cap * sizeof(*p));

		if (!p) {
			/* Out of memory: the bytes are lost like any other gap. */
			if (data)
				(*r->ctr.reorder_overflows)++;
			return;
		}
		r->pending = p;
		r->cap_pending = cap;
	}
	seg.start = start;
	seg.end = end;
	seg.ts = ts;
	seg.data = NULL;
	if (data) {
		seg.data = malloc((size_t)(end - start));
		if (!seg.data) {
			(*r->ctr.reorder_overflows)++;
			return;
		}
		memcpy(seg.data, data, (size_t)(end - start));
		r->pending_bytes += end - start;
	}
	/* Sorted by start; at equal starts data goes before gap claims, so data wins over a claim. */
	i = r->npending;
	while (i > 0 && (r->pending[i - 1].start > start ||
			 (r->pending[i - 1].start == start && data && !r->pending[i - 1].data)))
		i--;
	memmove(r->pending + i + 1, r->pending + i, (r->npending - i) * sizeof(*r->pending));
	r->pending[i] = seg;
	r->npending++;
}

static void skip_to(struct reasm *r, uint64_t pos, uint64_t ts)
{
	if (pos > r->next)
		deliver(r, r->next, pos, NULL, ts);
}

/* Delivers what is contiguous. Stops when a sink call discarded this stream (a tunnel began). */
static void drain(struct reasm *r)
{
	while (r->npending > 0) {
		struct reasm_seg s = r->pending[0];
		uint64_t limit;

		if (s.start > r->next) {
			if (r->pending_bytes > r->limits->max_pending_bytes ||
			    r->npending > r->limits->max_pending_segments) {
				(*r->ctr.reorder_overflows)++;
				skip_to(r, s.start, s.ts);
				if (!r->started)
					return;
				continue;
			}
			return;
		}
		shift(r);
		if (s.data)
			r->pending_bytes -= s.end - s.start;
		if (s.end <= r->next) {
			if (s.data)
				*r->ctr.duplicate_bytes += s.end - s.start;
			seg_free(&s);
			continue;
		}
		if (s.data) {
			uint64_t skip = r->next - s.start;

			if (skip > 0)
				*r->ctr.duplicate_bytes += skip;
			deliver(r, r->next, s.end, s.data + skip, s.ts);
			seg_free(&s);
			if (!r->started)
				return;
			continue;
		}
		/* A gap claim: delivered only up to the next real data, which wins over the claim. */
		limit = s.end;
		for (uint32_t i = 0; i < r->npending; i++) {
			const struct reasm_seg *o = &r->pending[i];

			if (o->start >= limit)
				break;
			if (o->data && o->end > r->next) {
				limit = o->start > r->next ? o->start : r->next;
				break;
			}
		}
		if (limit > r->next) {
			deliver(r, r->next, limit, NULL, s.ts);
			if (!r->started)
				return;
		}
		if (limit < s.end)
			insert(r, limit, s.end, NULL, s.ts);
	}
}

static void cover(struct reasm *r, uint64_t a, uint64_t b)
{
	uint32_t i = 0, j;

	if (b <= a)
		return;
	/* Keep the ranges sorted and merged: find the first range that ends at or after a. */
	while (i < r->ncover && r->cover[i][1] < a)
		i++;
	j = i;
	while (j < r->ncover && r->cover[j][0] <= b) {
		if (r->cover[j][0] < a)
			a = r->cover[j][0];
		if (r->cover[j][1] > b)
			b = r->cover[j][1];
		j++;
	}
	if (j > i) {
		/* Ranges i..j-1 merge into one. */
		r->cover[i][0] = a;
		r->cover[i][1] = b;
		memmove(r->cover + i + 1, r->cover + j, (r->ncover - j) * sizeof(r->cover[0]));
		r->ncover -= j - i - 1;
		return;
	}
	if (r->ncover == REASM_COVER_MAX)
		return;
	memmove(r->cover + i + 1, r->cover + i, (r->ncover - i) * sizeof(r->cover[0]));
	r->cover[i][0] = a;
	r->cover[i][1] = b;
	r->ncover++;
}

void reasm_seal(struct reasm *r)
{
	uint64_t at;
	int gaps = 0;

	if (!r->sys_open)
		return;
	r->sys_open = 0;
	at = r->sys_pos;
	for (uint32_t i = 0; i < r->ncover; i++) {
		if (r->cover[i][0] > at) {
			insert(r, at, r->cover[i][0], NULL, r->sys_ts);
			gaps = 1;
		}
		if (r->cover[i][1] > at)
			at = r->cover[i][1];
	}
	if (at < r->sys_end) {
		insert(r, at, r->sys_end, NULL, r->sys_ts);
		gaps = 1;
	}
	r->ncover = 0;
	if (gaps)
		drain(r);
}

void reasm_add(struct reasm *r, uint64_t pos, uint32_t size, uint32_t chunk_off, const uint8_t *data,
	       uint32_t len, uint64_t ts)
{
	uint64_t cs = pos + chunk_off;
	uint64_t avail = size > chunk_off ? size - chunk_off : 0;
	uint64_t ce = cs + (len < avail ? len : avail);

	if (ts > r->last_ts)
		r->last_ts = ts;
	if (!r->started) {
		r->next = pos;
		r->started = 1;
	}
	if (!r->sys_open || pos != r->sys_pos) {
		reasm_seal(r);
		if (!r->started)
			return;
		r->sys_open = 1;
		r->sys_pos = pos;
		r->sys_end = pos + size;
		r->ncover = 0;
	}
	r->sys_ts = ts;
	cover(r, cs, ce);
	if (ce > cs)
		insert(r, cs, ce, data, ts);
	if (r->started)
		drain(r);
}

void reasm_force_holes(struct reasm *r)
{
	reasm_seal(r);
	while (r->started && r->npending > 0) {
		skip_to(r, r->pending[0].start, r->pending[0].ts);
		if (!r->started)
			return;
		drain(r);
	}
}

void reasm_start_at(struct reasm *r, uint64_t pos)
{
	if (r->started)
		return;
	r->next = pos;
	r->started = 1;
}

void reasm_skip_to(struct reasm *r, uint64_t pos, uint64_t ts)
{
	reasm_seal(r);
	while (r->started && r->npending > 0 && r->pending[0].start < pos) {
		skip_to(r, r->pending[0].start, r->pending[0].ts);
		if (!r->started)
			return;
		drain(r);
	}
	if (r->started)
		skip_to(r, pos, ts);
}

void reasm_discard(struct reasm *r)
{
	for (uint32_t i = 0; i < r->npending; i++)
		seg_free(&r->pending[i]);
	free(r->pending);
	r->pending = NULL;
	r->npending = 0;
	r->cap_pending = 0;
	r->pending_bytes = 0;
	r->sys_open = 0;
	r->ncover = 0;
	/* A sink call may discard the stream it is called from (a tunnel began): loops check this. */
	r->started = 0;
}
