/* SPDX-License-Identifier: Apache-2.0 */
/* A growable byte buffer; `failed` latches an allocation failure so callers check once at the end. */
#ifndef WISP_BUF_H
#define WISP_BUF_H

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

struct buf {
	uint8_t *p;
	size_t len;
	size_t cap;
	int failed;
};

static inline void buf_reserve(struct buf *b, size_t more)
{
	size_t cap;
	uint8_t *p;

	if (b->failed || b->len + more <= b->cap)
		return;
	cap = b->cap ? b->cap : 256;
	while (cap < b->len + more)
		cap *= 2;
	p = realloc(b->p, cap);
	if (!p) {
		b->failed = 1;
		return;
	}
	b->p = p;
	b->cap = cap;
}

static inline void buf_put(struct buf *b, const void *s, size_t n)
{
	if (n == 0)
		return;
	buf_reserve(b, n);
	if (b->failed)
		return;
	memcpy(b->p + b->len, s, n);
	b->len += n;
}

static inline void buf_byte(struct buf *b, uint8_t c)
{
	buf_put(b, &c, 1);
}

static inline void buf_free(struct buf *b)
{
	free(b->p);
	memset(b, 0, sizeof(*b));
}

#endif
