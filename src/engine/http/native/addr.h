/* SPDX-License-Identifier: Apache-2.0 */
/* Socket addresses as text, the way every table shows them (http_events, conn_stats, tls_handshakes). */
#ifndef WISP_ADDR_H
#define WISP_ADDR_H

#include <stdint.h>

/* Longest text wisp_format_addr writes (a full IPv6 address), without a terminator. */
#define WISP_ADDR_TEXT_MAX 39

/*
 * Addresses as the socket holds them: dotted IPv4, or RFC 5952 IPv6 (lower-case, the longest run
 * of two or more zero groups as `::`); IPv4-mapped IPv6 (a dual-stack socket talking IPv4) as
 * plain IPv4, as Pixie does.
 */
static inline int addr_put_dec(char *out, unsigned v)
{
	char t[3];
	int n = 0, k = 0;

	do {
		t[n++] = (char)('0' + v % 10);
		v /= 10;
	} while (v);
	while (n)
		out[k++] = t[--n];
	return k;
}

static inline int addr_put_hex(char *out, unsigned v)
{
	static const char hex[] = "0123456789abcdef";
	int n = 0;

	for (int shift = 12; shift >= 0; shift -= 4)
		if ((v >> shift) || shift == 0 || n)
			out[n++] = hex[(v >> shift) & 15];
	return n;
}

static inline uint8_t wisp_format_addr(char *out, const uint8_t a[16], int v6)
{
	int mapped = a[10] == 0xff && a[11] == 0xff, best = -1, best_len = 0, n = 0;
	uint16_t g[8];

	for (int i = 0; i < 10 && mapped; i++)
		mapped = a[i] == 0;
	if (!v6 || mapped) {
		const uint8_t *q = v6 ? a + 12 : a;

		for (int i = 0; i < 4; i++) {
			if (i)
				out[n++] = '.';
			n += addr_put_dec(out + n, q[i]);
		}
		return (uint8_t)n;
	}
	for (int i = 0; i < 8; i++)
		g[i] = (uint16_t)(a[2 * i] << 8 | a[2 * i + 1]);
	for (int i = 0; i < 8;) {
		int j = i;

		if (g[i] != 0) {
			i++;
			continue;
		}
		while (j < 8 && g[j] == 0)
			j++;
		if (j - i > best_len) {
			best = i;
			best_len = j - i;
		}
		i = j;
	}
	if (best_len < 2)
		best = -1;
	for (int i = 0; i < 8; i++) {
		if (i == best) {
			out[n++] = ':';
			out[n++] = ':';
			i += best_len - 1;
			continue;
		}
		if (n > 0 && out[n - 1] != ':')
			out[n++] = ':';
		n += addr_put_hex(out + n, g[i]);
	}
	return (uint8_t)n;
}

#endif
