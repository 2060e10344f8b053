// SPDX-License-Identifier: Apache-2.0
/* Unit tests of reassembly.c: what the parser would see, as text runs and gaps. */
#include <stdlib.h>

#include "check.h"
#include "reassembly.h"

struct harness {
	struct reasm r;
	struct reasm_limits lim;
	uint64_t dup, overflow;
	char out[1024];
};

static void on_data(void *ctx, uint64_t pos, const uint8_t *b, size_t n, uint64_t ts)
{
	struct harness *h = ctx;
	size_t at = strlen(h->out);

	(void)pos;
	(void)ts;
	snprintf(h->out + at, sizeof(h->out) - at, "%s%.*s", at ? "|" : "", (int)n, (const char *)b);
}

static void on_gap(void *ctx, uint64_t pos, uint64_t len, uint64_t ts)
{
	struct harness *h = ctx;
	size_t at = strlen(h->out);

	(void)pos;
	(void)ts;
	snprintf(h->out + at, sizeof(h->out) - at, "%s<gap %llu>", at ? "|" : "", (unsigned long long)len);
}

static void init(struct harness *h, uint32_t max_bytes, uint32_t max_segments)
{
	struct reasm_sink sink = { on_data, on_gap, h };
	struct reasm_counters ctr = { &h->dup, &h->overflow };

	memset(h, 0, sizeof(*h));
	h->lim.max_pending_bytes = max_bytes;
	h->lim.max_pending_segments = max_segments;
	reasm_init(&h->r, sink, &h->lim, ctr);
}

/* One record: `text` at chunk offset `off` of a syscall at `pos` moving `size` bytes (0: the text's). */
static void add(struct harness *h, uint64_t pos, const char *text, uint32_t size, uint32_t off)
{
	uint32_t n = (uint32_t)strlen(text);

	reasm_add(&h->r, pos, size ? size : n + off, off, (const uint8_t *)text, n, 1);
}

static void in_order(void)
{
	struct harness h;

	init(&h, 1000, 8);
	add(&h, 0, "abc", 0, 0);
	add(&h, 3, "def", 0, 0);
	CHECK_STR(h.out, "abc|def");
	CHECK(reasm_buffered(&h.r) == 0);
	reasm_discard(&h.r);
}

static void out_of_order_across_syscalls(void)
{
	struct harness h;

	init(&h, 1000, 8);
	add(&h, 0, "ab", 0, 0);
	add(&h, 5, "fg", 0, 0);
	add(&h, 2, "cde", 0, 0);
	CHECK_STR(h.out, "ab|cde|fg");
	CHECK(reasm_buffered(&h.r) == 0);
	reasm_discard(&h.r);
}

static void duplicates_trimmed_and_counted(void)
{
	struct harness h;

	init(&h, 1000, 8);
	add(&h, 0, "abcd", 0, 0);
	add(&h, 0, "abcd", 0, 0);
	add(&h, 2, "cdef", 0, 0);
	CHECK_STR(h.out, "abcd|ef");
	CHECK(h.dup == 6);
	reasm_discard(&h.r);
}

static void truncated_syscall_tail_is_a_gap_at_the_next(void)
{
	struct harness h;

	init(&h, 1000, 8);
	add(&h, 0, "abc", 10, 0);
	CHECK_STR(h.out, "abc");
	add(&h, 10, "xyz", 0, 0);
	CHECK_STR(h.out, "abc|<gap 7>|xyz");
	reasm_discard(&h.r);
}

static void chunks_in_any_order_missing_middle_sealed(void)
{
	struct harness h;

	init(&h, 1000, 8);
	add(&h, 0, "ghi", 9, 6);
	add(&h, 0, "abc", 9, 0);
	CHECK_STR(h.out, "abc");
	reasm_seal(&h.r);
	CHECK_STR(h.out, "abc|<gap 3>|ghi");
	reasm_discard(&h.r);
}

static void chunk_after_seal_is_too_late(void)
{
	struct harness h;

	init(&h, 1000, 8);
	add(&h, 0, "ef", 6, 4);
	CHECK_STR(h.out, "");
	add(&h, 6, "gh", 0, 0);
	CHECK_STR(h.out, "<gap 4>|ef|gh");
	add(&h, 0, "ab", 6, 0);
	CHECK_STR(h.out, "<gap 4>|ef|gh");
	CHECK(h.dup == 2);
	reasm_discard(&h.r);
}

static void force_holes(void)
{
	struct harness h;

	init(&h, 1000, 8);
	add(&h, 0, "ab", 0, 0);
	add(&h, 4, "ef", 4, 0);
	add(&h, 2, "c", 2, 0);
	CHECK_STR(h.out, "ab|c");
	reasm_force_holes(&h.r);
	CHECK_STR(h.out, "ab|c|<gap 1>|ef|<gap 2>");
	CHECK(reasm_buffered(&h.r) == 0);
	reasm_discard(&h.r);
}

static void reorder_window_overflow(void)
{
	struct harness h, k;

	init(&h, 10, 100);
	add(&h, 0, "a", 0, 0);
	add(&h, 5, "bbbbbb", 0, 0);
	CHECK_STR(h.out, "a");
	add(&h, 11, "ccccc", 0, 0);
	CHECK_STR(h.out, "a|<gap 4>|bbbbbb|ccccc");
	CHECK(h.overflow == 1);
	reasm_discard(&h.r);
	init(&k, 1000, 2);
	add(&k, 0, "a", 0, 0);
	add(&k, 3, "b", 0, 0);
	add(&k, 5, "c", 0, 0);
	add(&k, 7, "d", 0, 0);
	/* Three segments held is one over the bound: the first hole goes, two stay held. */
	CHECK_STR(k.out, "a|<gap 2>|b");
	CHECK(reasm_buffered(&k.r) == 2);
	reasm_discard(&k.r);
}

static void first_record_fixes_start_discard_drops(void)
{
	struct harness h;

	init(&h, 1000, 8);
	add(&h, 100, "xy", 0, 0);
	add(&h, 110, "zz", 0, 0);
	CHECK_STR(h.out, "xy");
	CHECK(reasm_buffered(&h.r) == 2);
	reasm_discard(&h.r);
	CHECK(reasm_buffered(&h.r) == 0);
}

static void skip_to_makes_holes_gaps(void)
{
	struct harness h;

	init(&h, 1000, 8);
	add(&h, 0, "ab", 0, 0);
	add(&h, 6, "gh", 0, 0);
	reasm_skip_to(&h.r, 10, 1);
	CHECK_STR(h.out, "ab|<gap 4>|gh|<gap 2>");
	reasm_discard(&h.r);
}

int main(void)
{
	RUN(in_order);
	RUN(out_of_order_across_syscalls);
	RUN(duplicates_trimmed_and_counted);
	RUN(truncated_syscall_tail_is_a_gap_at_the_next);
	RUN(chunks_in_any_order_missing_middle_sealed);
	RUN(chunk_after_seal_is_too_late);
	RUN(force_holes);
	RUN(reorder_window_overflow);
	RUN(first_record_fixes_start_discard_drops);
	RUN(skip_to_makes_holes_gaps);
	return check_failures ? 1 : 0;
}
