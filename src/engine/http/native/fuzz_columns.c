// SPDX-License-Identifier: Apache-2.0
/*
 * libFuzzer harness for column batches: rows of strings cut from the input go in, and every
 * row's codes must read back exactly the strings that went in (whatever the dedup path: the id
 * memo, the recent values, or the hash table), with the batch's cap respected.
 */
#include <stdlib.h>
#include <string.h>

#include "columns.h"

int LLVMFuzzerTestOneInput(const uint8_t *in, size_t n)
{
	struct wisp_batch *b;
	struct batch_row r;
	struct wisp_proc proc;
	size_t at = 0;
	uint32_t rows = 0;
	const uint8_t *starts[4096][WISP_COL_STR__COUNT];
	uint32_t lens[4096][WISP_COL_STR__COUNT];

	if (n < 1)
		return 0;
	b = batch_new(1 + in[0] % 200);
	if (!b)
		return 0;
	memset(&proc, 0, sizeof(proc));
	while (at < n && rows < 4096) {
		memset(&r, 0, sizeof(r));
		for (int k = 0; k < WISP_COL_STR__COUNT; k++) {
			uint8_t ctl = at < n ? in[at++] : 0;
			uint32_t len = ctl % 24;

			if (len > n - at)
				len = (uint32_t)(n - at);
			r.str[k] = in + at;
			r.str_len[k] = len;
			/* Equal ids must mean equal strings: a one-byte string's id is made of its byte. */
			if ((ctl & 0x80) && len > 0) {
				r.str_len[k] = len = 1;
				r.str_id[k] = 0x100u | in[at];
			}
			starts[rows][k] = r.str[k];
			lens[rows][k] = len;
			at += len;
		}
		proc.pid = rows % 7;
		r.proc = &proc;
		if (batch_append(b, &r))
			break;
		rows++;
	}
	if (b->rows != rows || b->rows > b->cap)
		abort();
	for (uint32_t i = 0; i < b->rows; i++) {
		for (int k = 0; k < WISP_COL_STR__COUNT; k++) {
			const struct wisp_strtab *t = &b->str[k].t;
			uint32_t c = b->codes[k][i];

			if (c >= t->count || t->len[c] != lens[i][k] ||
			    (lens[i][k] > 0 && memcmp(t->bytes + t->off[c], starts[i][k], lens[i][k]) != 0))
				abort();
		}
		if (b->procs[b->proc_code[i]].pid != i % 7)
			abort();
	}
	wisp_batch_free(b);
	return 0;
}
