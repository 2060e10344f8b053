/* SPDX-License-Identifier: Apache-2.0 */
/*
 * A table of distinct strings of one column of one batch, rows holding codes into it: the column
 * batches of the HTTP stage (columns.c) and of the connections stage (rows.c). JS builds one
 * string per distinct value, not one per row.
 */
#ifndef WISP_STRTAB_H
#define WISP_STRTAB_H

#include <stddef.h>
#include <stdint.h>

/* Codes index `off`/`len`/`hash`/`ascii`. */
struct wisp_strtab {
	uint32_t count;
	uint32_t cap;
	uint32_t *off;      /* into bytes */
	uint32_t *len;
	uint32_t *hash;
	uint8_t *ascii;     /* 1 when the string is 7-bit: created as latin1, no UTF-8 decode */
	uint8_t *bytes;
	size_t bytes_len;
	size_t bytes_cap;
	uint32_t *slots;    /* open addressing: code + 1, 0 = empty */
	uint32_t slots_mask;
};

/* How a stage sizes its tables: what each starts with when first used, and the bound on bytes. */
struct wisp_strtab_sizes {
	uint32_t first_slots;   /* a power of two */
	uint32_t first_strings;
	size_t first_bytes;
	size_t max_bytes;       /* at most 2^32: offsets are 32-bit */
};

void wisp_strtab_free(struct wisp_strtab *t);

/*
 * The code of s[0, n) in t, added when new; -1 when memory ran out or the bytes would pass
 * z->max_bytes (t is unchanged but for its slots). Memory the table takes is added to *bytes.
 */
int64_t wisp_strtab_intern(struct wisp_strtab *t, const struct wisp_strtab_sizes *z, const uint8_t *s, uint32_t n,
			   size_t *bytes);

/* Resizes *p to `size` bytes; -1 when memory ran out (then *p is unchanged and still valid). */
int wisp_grow(void **p, size_t size);

#endif
