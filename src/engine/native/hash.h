/* SPDX-License-Identifier: Apache-2.0 */
/* A fast non-cryptographic hash of a byte string (8 bytes per step); only picks slots, bytes decide. */
#ifndef WISP_HASH_H
#define WISP_HASH_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>

static inline uint64_t wisp_mix(uint64_t a, uint64_t b)
{
	__uint128_t r = (__uint128_t)a * b;

	return (uint64_t)r ^ (uint64_t)(r >> 64);
}

static inline uint64_t wisp_hash(const void *p, size_t n)
{
	const uint8_t *s = p;
	uint64_t h = 0x9e3779b97f4a7c15ull ^ n;
	size_t i = 0;

	for (; i + 8 <= n; i += 8) {
		uint64_t w;

		memcpy(&w, s + i, 8);
		h = wisp_mix(h ^ w, 0xa0761d6478bd642full);
	}
	if (i < n) {
		uint64_t w = 0;

		memcpy(&w, s + i, n - i);
		h = wisp_mix(h ^ w, 0xe7037ed1a0b428dbull);
	}
	return wisp_mix(h, 0x8ebc6af09c88c6e3ull);
}

#endif
