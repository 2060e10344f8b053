/* SPDX-License-Identifier: Apache-2.0 */
/*
 * HTTP/1.x recognition from the first bytes of a message. Only this verdict lives in the
 * kernel; parsing is user space's job. A connection that is not HTTP stops costing copies.
 */
#ifndef WISP_HTTP_BPF_H
#define WISP_HTTP_BPF_H

#define WISP_SNIFF_BYTES 8

enum wisp_sniff {
	SNIFF_SHORT = 0, /* too few bytes to tell */
	SNIFF_REQUEST,
	SNIFF_RESPONSE,
	SNIFF_OTHER,
};

static __always_inline int has_prefix(const __u8 *b, const char *p, int n)
{
	for (int i = 0; i < n; i++)
		if (b[i] != (__u8)p[i])
			return 0;
	return 1;
}

/* A request line with any method, or a status line. */
static __always_inline int http_sniff(const __u8 *b, __u32 len)
{
	if (len < WISP_SNIFF_BYTES)
		return SNIFF_SHORT;
	if (has_prefix(b, "HTTP/1.", 7))
		return SNIFF_RESPONSE;
	if (has_prefix(b, "GET ", 4) || has_prefix(b, "PUT ", 4) || has_prefix(b, "POST ", 5) ||
	    has_prefix(b, "HEAD ", 5) || has_prefix(b, "PATCH ", 6) || has_prefix(b, "TRACE ", 6) ||
	    has_prefix(b, "DELETE ", 7) || has_prefix(b, "OPTIONS ", 8) ||
	    has_prefix(b, "CONNECT ", 8))
		return SNIFF_REQUEST;
	return SNIFF_OTHER;
}

#endif
