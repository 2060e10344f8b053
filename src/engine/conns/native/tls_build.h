/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Test support of the native TLS tests: TLS messages and records written byte by byte, as RFC
 * 8446 and RFC 5246 lay them out, into a struct buf. Not linked into the addon.
 */
#ifndef WISP_TLS_BUILD_H
#define WISP_TLS_BUILD_H

#include <stdint.h>
#include <string.h>

#include "../../http/native/buf.h"

static inline void b_u8(struct buf *b, uint32_t v)
{
	buf_byte(b, (uint8_t)v);
}

static inline void b_u16(struct buf *b, uint32_t v)
{
	b_u8(b, v >> 8);
	b_u8(b, v);
}

static inline void b_u24(struct buf *b, uint32_t v)
{
	b_u8(b, v >> 16);
	b_u16(b, v);
}

/* Opens a vector with a `width`-byte length; b_end fills the length in. */
static inline size_t b_begin(struct buf *b, int width)
{
	size_t at = b->len;

	for (int i = 0; i < width; i++)
		b_u8(b, 0);
	return at;
}

static inline void b_end(struct buf *b, size_t at, int width)
{
	size_t len = b->len - at - (size_t)width;

	for (int i = width - 1; i >= 0; i--) {
		b->p[at + (size_t)i] = (uint8_t)len;
		len >>= 8;
	}
}

static inline void b_bytes(struct buf *b, const void *p, size_t n)
{
	buf_put(b, p, n);
}

/* What a test ClientHello carries; NULL / 0 leaves a part out. */
struct ch_spec {
	const char *sni;
	const char *const *alpn;     /* NULL-terminated */
	const uint16_t *versions;    /* 0-terminated; NULL: no supported_versions extension */
	uint16_t legacy_version;     /* default 0x0303 */
	int no_extensions;
};

/* A ClientHello handshake message (header included). */
static inline void b_client_hello(struct buf *b, const struct ch_spec *s)
{
	size_t msg, exts, e, list, names;
	uint8_t random[32];

	memset(random, 0x11, sizeof(random));
	b_u8(b, 1);
	msg = b_begin(b, 3);
	b_u16(b, s->legacy_version ? s->legacy_version : 0x0303);
	b_bytes(b, random, 32);
	b_u8(b, 0);                 /* session id */
	b_u16(b, 4);                /* cipher suites */
	b_u16(b, 0x1301);
	b_u16(b, 0xc02f);
	b_u8(b, 1);                 /* compression methods */
	b_u8(b, 0);
	if (!s->no_extensions) {
		exts = b_begin(b, 2);
		if (s->sni) {
			b_u16(b, 0);
			e = b_begin(b, 2);
			list = b_begin(b, 2);
			b_u8(b, 0);
			b_u16(b, (uint32_t)strlen(s->sni));
			b_bytes(b, s->sni, strlen(s->sni));
			b_end(b, list, 2);
			b_end(b, e, 2);
		}
		if (s->alpn) {
			b_u16(b, 16);
			e = b_begin(b, 2);
			names = b_begin(b, 2);
			for (const char *const *a = s->alpn; *a; a++) {
				b_u8(b, (uint32_t)strlen(*a));
				b_bytes(b, *a, strlen(*a));
			}
			b_end(b, names, 2);
			b_end(b, e, 2);
		}
		if (s->versions) {
			b_u16(b, 43);
			e = b_begin(b, 2);
			list = b_begin(b, 1);
			for (const uint16_t *v = s->versions; *v; v++)
				b_u16(b, *v);
			b_end(b, list, 1);
			b_end(b, e, 2);
		}
		b_end(b, exts, 2);
	}
	b_end(b, msg, 3);
}

/* A ServerHello handshake message; version 0x0304 goes in supported_versions (legacy 0x0303). */
static inline void b_server_hello(struct buf *b, uint16_t version, uint16_t cipher, const char *alpn, int retry)
{
	static const uint8_t hrr[32] = {
		0xCF, 0x21, 0xAD, 0x74, 0xE5, 0x9A, 0x61, 0x11, 0xBE, 0x1D, 0x8C, 0x02, 0x1E, 0x65, 0xB8, 0x91,
		0xC2, 0xA2, 0x11, 0x16, 0x7A, 0xBB, 0x8C, 0x5E, 0x07, 0x9E, 0x09, 0xE2, 0xC8, 0xA8, 0x33, 0x9C,
	};
	size_t msg, exts, e, list;
	uint8_t random[32];

	memset(random, 0x22, sizeof(random));
	b_u8(b, 2);
	msg = b_begin(b, 3);
	b_u16(b, version == 0x0304 ? 0x0303 : version);
	b_bytes(b, retry ? hrr : random, 32);
	b_u8(b, 0);
	b_u16(b, cipher);
	b_u8(b, 0);
	exts = b_begin(b, 2);
	if (version == 0x0304) {
		b_u16(b, 43);
		b_u16(b, 2);
		b_u16(b, 0x0304);
	}
	if (alpn) {
		b_u16(b, 16);
		e = b_begin(b, 2);
		list = b_begin(b, 2);
		b_u8(b, (uint32_t)strlen(alpn));
		b_bytes(b, alpn, strlen(alpn));
		b_end(b, list, 2);
		b_end(b, e, 2);
	}
	b_end(b, exts, 2);
	b_end(b, msg, 3);
}

/* A TLS ≤ 1.2 Certificate message holding one certificate. */
static inline void b_certificate(struct buf *b, const uint8_t *der, size_t n)
{
	size_t msg, list;

	b_u8(b, 11);
	msg = b_begin(b, 3);
	list = b_begin(b, 3);
	b_u24(b, (uint32_t)n);
	b_bytes(b, der, n);
	b_end(b, list, 3);
	b_end(b, msg, 3);
}

/* A record of content type `type` around p[0, n). */
static inline void b_record(struct buf *b, uint8_t type, const uint8_t *p, size_t n)
{
	b_u8(b, type);
	b_u16(b, 0x0303);
	b_u16(b, (uint32_t)n);
	b_bytes(b, p, n);
}

#endif
