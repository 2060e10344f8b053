// SPDX-License-Identifier: Apache-2.0
/* Per-batch tables of distinct strings; see strtab.h. */
#include "strtab.h"
#include "hash.h"

#include <stdlib.h>
#include <string.h>

void wisp_strtab_free(struct wisp_strtab *t)
{
	free(t->off);
	free(t->len);
	free(t->hash);
	free(t->ascii);
	free(t->bytes);
	free(t->slots);
}

int wisp_grow(void **p, size_t size)
{
	void *n = realloc(*p, size);

	if (!n)
		return -1;
	*p = n;
	return 0;
}

/* Rebuilds the open-addressing slots at twice the size (`first` when there are none). */
static int rehash(struct wisp_strtab *t, uint32_t first)
{
	uint32_t n = t->slots_mask ? (t->slots_mask + 1) * 2 : first;
	uint32_t *slots = calloc(n, sizeof(*slots));

	if (!slots)
		return -1;
	for (uint32_t c = 0; c < t->count; c++) {
		uint32_t at = t->hash[c] & (n - 1);

		while (slots[at])
			at = (at + 1) & (n - 1);
		slots[at] = c + 1;
	}
	free(t->slots);
	t->slots = slots;
	t->slots_mask = n - 1;
	return 0;
}

int64_t wisp_strtab_intern(struct wisp_strtab *t, const struct wisp_strtab_sizes *z, const uint8_t *s, uint32_t n,
			   size_t *bytes)
{
	uint32_t h = (uint32_t)wisp_hash(s, n), at, c;
	uint8_t ascii = 1;

	if (t->slots_mask == 0 || (t->count + 1) * 2 > t->slots_mask + 1) {
		size_t before = t->slots_mask ? (size_t)t->slots_mask + 1 : 0;

		if (rehash(t, z->first_slots))
			return -1;
		*bytes += ((size_t)t->slots_mask + 1 - before) * sizeof(uint32_t);
	}
	for (at = h & t->slots_mask; t->slots[at]; at = (at + 1) & t->slots_mask) {
		c = t->slots[at] - 1;
		if (t->hash[c] == h && t->len[c] == n && (n == 0 || memcmp(t->bytes + t->off[c], s, n) == 0))
			return c;
	}
	if (t->bytes_len + n > z->max_bytes)
		return -1;
	if (t->count == t->cap) {
		uint32_t cap = t->cap ? t->cap * 2 : z->first_strings;

		if (wisp_grow((void **)&t->off, cap * sizeof(uint32_t)) || wisp_grow((void **)&t->len, cap * sizeof(uint32_t)) ||
		    wisp_grow((void **)&t->hash, cap * sizeof(uint32_t)) || wisp_grow((void **)&t->ascii, cap))
			return -1;
		*bytes += (size_t)(cap - t->cap) * (3 * sizeof(uint32_t) + 1);
		t->cap = cap;
	}
	if (t->bytes_len + n > t->bytes_cap) {
		size_t cap = t->bytes_cap ? t->bytes_cap * 2 : z->first_bytes;

		while (cap < t->bytes_len + n)
			cap *= 2;
		if (wisp_grow((void **)&t->bytes, cap))
			return -1;
		*bytes += cap - t->bytes_cap;
		t->bytes_cap = cap;
	}
	for (uint32_t i = 0; i < n; i++)
		ascii &= s[i] < 0x80;
	c = t->count++;
	if (n)
		memcpy(t->bytes + t->bytes_len, s, n);
	t->off[c] = (uint32_t)t->bytes_len;
	t->len[c] = n;
	t->hash[c] = h;
	t->ascii[c] = ascii;
	t->bytes_len += n;
	t->slots[at] = c + 1;
	return c;
}
