// SPDX-License-Identifier: Apache-2.0
/*
 * libFuzzer harness for stream reassembly. The stream's true bytes are a function of their
 * position, so every byte the reassembler delivers can be checked. The input is a list of
 * records [syscall index u8][chunk offset u8][chunk length u8]; syscalls are 64 bytes each, and
 * records arrive in any order, repeated, cut or missing.
 * Checked: deliveries are contiguous (each starts where the last ended), data bytes equal the
 * stream's, nothing is delivered twice, and held bytes stay within the reorder window.
 */
#include <stdlib.h>
#include <string.h>

#include "reassembly.h"

#define SYSCALL 64

struct sink {
	uint64_t next;
	int started;
};

static uint8_t truth(uint64_t pos)
{
	return (uint8_t)(pos * 31 + (pos >> 7));
}

static void check_start(struct sink *k, uint64_t pos)
{
	if (k->started && pos != k->next)
		abort();
	k->started = 1;
}

static void on_data(void *ctx, uint64_t pos, const uint8_t *b, size_t n, uint64_t ts)
{
	struct sink *k = ctx;

	(void)ts;
	check_start(k, pos);
	for (size_t i = 0; i < n; i++)
		if (b[i] != truth(pos + i))
			abort();
	k->next = pos + n;
}

static void on_gap(void *ctx, uint64_t pos, uint64_t len, uint64_t ts)
{
	struct sink *k = ctx;

	(void)ts;
	check_start(k, pos);
	if (len == 0)
		abort();
	k->next = pos + len;
}

int LLVMFuzzerTestOneInput(const uint8_t *in, size_t n)
{
	struct sink k = { 0, 0 };
	struct reasm_limits lim = { 4 * SYSCALL, 6 };
	uint64_t dup = 0, overflow = 0;
	struct reasm_counters ctr = { &dup, &overflow };
	struct reasm_sink sink = { on_data, on_gap, &k };
	struct reasm r;
	uint8_t chunk[SYSCALL];

	reasm_init(&r, sink, &lim, ctr);
	for (size_t at = 0; at + 3 <= n; at += 3) {
		uint64_t pos = (uint64_t)in[at] * SYSCALL;
		uint32_t off = in[at + 1] % SYSCALL, len = in[at + 2] % (SYSCALL + 1);

		if (len > SYSCALL - off)
			len = SYSCALL - off;
		for (uint32_t i = 0; i < len; i++)
			chunk[i] = truth(pos + off + i);
		reasm_add(&r, pos, SYSCALL, off, chunk, len, at);
		if (reasm_buffered(&r) > lim.max_pending_bytes + SYSCALL)
			abort();
		if (in[at] == 0xff)
			reasm_force_holes(&r);
	}
	reasm_force_holes(&r);
	if (reasm_buffered(&r) != 0)
		abort();
	reasm_discard(&r);
	return 0;
}
