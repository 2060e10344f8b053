// SPDX-License-Identifier: Apache-2.0
/* TLS hellos, the Certificate message and X.509 certificates; see tls.h. */
#include "tls.h"
#include "ciphers.h"
#include "../../http/native/addr.h"

#include <stdio.h>
#include <string.h>

/* ---- the TLS presentation language: a reader that latches any overrun ---- */

struct rd {
	const uint8_t *p;
	size_t n;
	int bad;
};

static uint32_t rd_int(struct rd *r, size_t width)
{
	uint32_t v = 0;

	if (r->bad || r->n < width) {
		r->bad = 1;
		return 0;
	}
	for (size_t i = 0; i < width; i++)
		v = v << 8 | r->p[i];
	r->p += width;
	r->n -= width;
	return v;
}

static struct tls_span rd_take(struct rd *r, size_t len)
{
	struct tls_span s = { NULL, 0 };

	if (r->bad || r->n < len) {
		r->bad = 1;
		return s;
	}
	s.p = r->p;
	s.n = (uint32_t)len;
	r->p += len;
	r->n -= len;
	return s;
}

/* A vector with a `width`-byte length in front, as a reader of its own. */
static struct rd rd_vec(struct rd *r, size_t width)
{
	size_t len = rd_int(r, width);
	struct tls_span s = rd_take(r, len);
	struct rd v = { s.p, s.n, r->bad };

	return v;
}

/* ---- hellos ---- */

/* The ServerHello random that marks a HelloRetryRequest (RFC 8446 §4.1.3). */
static const uint8_t hello_retry_random[32] = {
	0xCF, 0x21, 0xAD, 0x74, 0xE5, 0x9A, 0x61, 0x11, 0xBE, 0x1D, 0x8C, 0x02, 0x1E, 0x65, 0xB8, 0x91,
	0xC2, 0xA2, 0x11, 0x16, 0x7A, 0xBB, 0x8C, 0x5E, 0x07, 0x9E, 0x09, 0xE2, 0xC8, 0xA8, 0x33, 0x9C,
};

#define EXT_SERVER_NAME 0
#define EXT_ALPN 16
#define EXT_SUPPORTED_VERSIONS 43

/* A ProtocolNameList whose every name is non-empty and which holds at least one. */
static int alpn_list_ok(struct tls_span list)
{
	struct rd r = { list.p, list.n, 0 };

	if (list.n == 0)
		return 0;
	while (r.n > 0 && !r.bad) {
		size_t len = rd_int(&r, 1);

		if (len == 0)
			return 0;
		rd_take(&r, len);
	}
	return !r.bad;
}

static int client_extension(struct tls_client_hello *out, uint32_t type, struct rd *data)
{
	if (type == EXT_SERVER_NAME) {
		struct rd list = rd_vec(data, 2);

		while (list.n > 0 && !list.bad) {
			uint32_t kind = rd_int(&list, 1);
			struct rd name = rd_vec(&list, 2);

			if (kind == 0 && out->sni.n == 0 && !name.bad) {
				out->sni.p = name.p;
				out->sni.n = (uint32_t)name.n;
			}
		}
		return list.bad ? -1 : 0;
	}
	if (type == EXT_ALPN) {
		struct rd list = rd_vec(data, 2);

		if (list.bad || !alpn_list_ok((struct tls_span){ list.p, (uint32_t)list.n }))
			return -1;
		out->alpn.p = list.p;
		out->alpn.n = (uint32_t)list.n;
		return 0;
	}
	if (type == EXT_SUPPORTED_VERSIONS) {
		struct rd list = rd_vec(data, 1);

		if (list.bad || list.n < 2 || list.n % 2)
			return -1;
		out->versions.p = list.p;
		out->versions.n = (uint32_t)list.n;
	}
	return 0;
}

int tls_client_hello(const uint8_t *b, size_t n, struct tls_client_hello *out)
{
	struct rd r = { b, n, 0 }, session, suites, compression, exts;

	memset(out, 0, sizeof(*out));
	out->legacy_version = (uint16_t)rd_int(&r, 2);
	rd_take(&r, 32);
	session = rd_vec(&r, 1);
	suites = rd_vec(&r, 2);
	compression = rd_vec(&r, 1);
	if (r.bad || session.n > 32 || suites.n < 2 || suites.n % 2 || compression.n < 1)
		return -1;
	if (r.n == 0)
		return 0; /* no extensions: a TLS 1.0-era hello */
	exts = rd_vec(&r, 2);
	while (exts.n > 0 && !exts.bad) {
		uint32_t type = rd_int(&exts, 2);
		struct rd data = rd_vec(&exts, 2);

		if (exts.bad || client_extension(out, type, &data))
			return -1;
	}
	return exts.bad ? -1 : 0;
}

int tls_server_hello(const uint8_t *b, size_t n, struct tls_server_hello *out)
{
	struct rd r = { b, n, 0 }, session, exts;
	struct tls_span random;

	memset(out, 0, sizeof(*out));
	out->version = (uint16_t)rd_int(&r, 2);
	random = rd_take(&r, 32);
	session = rd_vec(&r, 1);
	out->cipher = (uint16_t)rd_int(&r, 2);
	rd_int(&r, 1);
	if (r.bad || session.n > 32)
		return -1;
	out->retry = memcmp(random.p, hello_retry_random, 32) == 0;
	if (r.n == 0)
		return 0;
	exts = rd_vec(&r, 2);
	while (exts.n > 0 && !exts.bad) {
		uint32_t type = rd_int(&exts, 2);
		struct rd data = rd_vec(&exts, 2);

		if (exts.bad)
			return -1;
		if (type == EXT_SUPPORTED_VERSIONS) {
			out->version = (uint16_t)rd_int(&data, 2);
			if (data.bad || data.n != 0)
				return -1;
		} else if (type == EXT_ALPN) {
			struct rd list = rd_vec(&data, 2);
			struct rd name = rd_vec(&list, 1);

			if (list.bad || name.n == 0 || list.n != 0)
				return -1;
			out->alpn.p = name.p;
			out->alpn.n = (uint32_t)name.n;
		}
	}
	return exts.bad ? -1 : 0;
}

int tls_first_certificate(const uint8_t *b, size_t n, struct tls_span *der)
{
	struct rd r = { b, n, 0 }, list = rd_vec(&r, 3), first;

	if (list.bad)
		return -1;
	if (list.n == 0)
		return 1;
	first = rd_vec(&list, 3);
	if (first.bad || first.n == 0)
		return -1;
	der->p = first.p;
	der->n = (uint32_t)first.n;
	return 0;
}

/* ---- DER ---- */

struct der {
	const uint8_t *p;
	size_t n;
};

/* Takes the next TLV: its tag, its contents and the whole encoding; -1 when it breaks DER. */
static int der_next(struct der *d, uint8_t *tag, struct tls_span *val, struct tls_span *whole)
{
	size_t len, hdr = 2;

	if (d->n < 2 || (d->p[0] & 0x1f) == 0x1f)
		return -1;
	*tag = d->p[0];
	len = d->p[1];
	if (len & 0x80) {
		size_t k = len & 0x7f;

		/* Indefinite lengths are BER, not DER; four length bytes cover any certificate. */
		if (k == 0 || k > 4 || d->n < 2 + k)
			return -1;
		len = 0;
		for (size_t i = 0; i < k; i++)
			len = len << 8 | d->p[2 + i];
		hdr += k;
	}
	if (len > d->n - hdr)
		return -1;
	val->p = d->p + hdr;
	val->n = (uint32_t)len;
	if (whole) {
		whole->p = d->p;
		whole->n = (uint32_t)(hdr + len);
	}
	d->p += hdr + len;
	d->n -= hdr + len;
	return 0;
}

/* The next TLV, which must have tag `want`. */
static int der_expect(struct der *d, uint8_t want, struct tls_span *val)
{
	uint8_t tag;

	return der_next(d, &tag, val, NULL) || tag != want ? -1 : 0;
}

/* Days from 1970-01-01 to y-m-d of the proleptic Gregorian calendar (H. Hinnant's days_from_civil). */
static int64_t days_from_civil(int64_t y, int64_t m, int64_t d)
{
	int64_t era, yoe, doy, doe;

	y -= m <= 2;
	era = (y >= 0 ? y : y - 399) / 400;
	yoe = y - era * 400;
	doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
	doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
	return era * 146097 + doe - 719468;
}

static int digits(const uint8_t *p, int n, int64_t *v)
{
	*v = 0;
	for (int i = 0; i < n; i++) {
		if (p[i] < '0' || p[i] > '9')
			return -1;
		*v = *v * 10 + (p[i] - '0');
	}
	return 0;
}

/* UTCTime (YYMMDDHHMM[SS]Z) or GeneralizedTime (YYYYMMDDHHMMSS[.fff]Z), as seconds since the epoch. */
static int der_time(uint8_t tag, struct tls_span v, int64_t *out)
{
	int64_t y, mo, d, h, mi, s = 0;
	uint32_t at;

	if (tag == 0x17) {
		if ((v.n != 11 && v.n != 13) || digits(v.p, 2, &y))
			return -1;
		y += y >= 50 ? 1900 : 2000;
		at = 2;
	} else if (tag == 0x18) {
		if (v.n < 15 || digits(v.p, 4, &y))
			return -1;
		at = 4;
	} else {
		return -1;
	}
	if (digits(v.p + at, 2, &mo) || digits(v.p + at + 2, 2, &d) || digits(v.p + at + 4, 2, &h) ||
	    digits(v.p + at + 6, 2, &mi))
		return -1;
	at += 8;
	if (v.n - at >= 3 && v.p[at] >= '0' && v.p[at] <= '9') {
		if (digits(v.p + at, 2, &s))
			return -1;
		at += 2;
	}
	if (tag == 0x18 && at < v.n && v.p[at] == '.') {
		at++;
		while (at < v.n && v.p[at] >= '0' && v.p[at] <= '9')
			at++;
	}
	if (at + 1 != v.n || v.p[at] != 'Z' || mo < 1 || mo > 12 || d < 1 || d > 31 || h > 23 || mi > 59 || s > 60)
		return -1;
	*out = days_from_civil(y, mo, d) * 86400 + h * 3600 + mi * 60 + s;
	return 0;
}

/* The subjectAltName extension's OID, 2.5.29.17. */
static const uint8_t oid_san[] = { 0x55, 0x1d, 0x11 };

static int extensions(struct tls_span v, struct x509_cert *out)
{
	struct der d = { v.p, v.n }, list;
	struct tls_span seq;

	if (der_expect(&d, 0x30, &seq) || d.n != 0)
		return -1;
	list.p = seq.p;
	list.n = seq.n;
	while (list.n > 0) {
		struct tls_span ext, oid, value;
		struct der e;
		uint8_t tag;

		if (der_expect(&list, 0x30, &ext))
			return -1;
		e.p = ext.p;
		e.n = ext.n;
		if (der_expect(&e, 0x06, &oid) || der_next(&e, &tag, &value, NULL))
			return -1;
		if (tag == 0x01 && der_next(&e, &tag, &value, NULL))
			return -1;
		if (tag != 0x04)
			return -1;
		if (oid.n == sizeof(oid_san) && memcmp(oid.p, oid_san, sizeof(oid_san)) == 0) {
			struct der names = { value.p, value.n };

			if (der_expect(&names, 0x30, &out->sans) || names.n != 0)
				return -1;
		}
	}
	return 0;
}

int x509_parse(const uint8_t *der, size_t n, struct x509_cert *out)
{
	struct der d = { der, n }, c, t, validity;
	struct tls_span cert, tbs, v;
	uint8_t tag;

	memset(out, 0, sizeof(*out));
	if (der_expect(&d, 0x30, &cert))
		return -1;
	c.p = cert.p;
	c.n = cert.n;
	if (der_expect(&c, 0x30, &tbs))
		return -1;
	t.p = tbs.p;
	t.n = tbs.n;
	if (der_next(&t, &tag, &v, NULL))
		return -1;
	if (tag == 0xa0 && der_next(&t, &tag, &v, NULL)) /* [0] version, then the serial number */
		return -1;
	if (tag != 0x02 || der_expect(&t, 0x30, &v) || der_expect(&t, 0x30, &out->issuer) ||
	    der_expect(&t, 0x30, &v))
		return -1;
	validity.p = v.p;
	validity.n = v.n;
	if (der_next(&validity, &tag, &v, NULL) || der_next(&validity, &tag, &v, NULL) ||
	    der_time(tag, v, &out->not_after))
		return -1;
	if (der_expect(&t, 0x30, &out->subject) || der_expect(&t, 0x30, &v))
		return -1;
	while (t.n > 0) {
		if (der_next(&t, &tag, &v, NULL))
			return -1;
		if (tag == 0xa3 && extensions(v, out))
			return -1;
	}
	return 0;
}

/* ---- text ---- */

static void put_str(struct buf *out, const char *s)
{
	buf_put(out, s, strlen(s));
}

static void put_hex_byte(struct buf *out, const char *prefix, uint8_t b)
{
	static const char hex[] = "0123456789abcdef";

	put_str(out, prefix);
	buf_byte(out, (uint8_t)hex[b >> 4]);
	buf_byte(out, (uint8_t)hex[b & 15]);
}

/* One Unicode code point as UTF-8 (U+FFFD for what is not one). */
static void put_utf8(struct buf *out, uint32_t cp)
{
	if (cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
		cp = 0xfffd;
	if (cp < 0x80) {
		buf_byte(out, (uint8_t)cp);
	} else if (cp < 0x800) {
		buf_byte(out, (uint8_t)(0xc0 | cp >> 6));
		buf_byte(out, (uint8_t)(0x80 | (cp & 0x3f)));
	} else if (cp < 0x10000) {
		buf_byte(out, (uint8_t)(0xe0 | cp >> 12));
		buf_byte(out, (uint8_t)(0x80 | ((cp >> 6) & 0x3f)));
		buf_byte(out, (uint8_t)(0x80 | (cp & 0x3f)));
	} else {
		buf_byte(out, (uint8_t)(0xf0 | cp >> 18));
		buf_byte(out, (uint8_t)(0x80 | ((cp >> 12) & 0x3f)));
		buf_byte(out, (uint8_t)(0x80 | ((cp >> 6) & 0x3f)));
		buf_byte(out, (uint8_t)(0x80 | (cp & 0x3f)));
	}
}

void tls_printable_text(struct tls_span s, struct buf *out)
{
	for (uint32_t i = 0; i < s.n; i++) {
		if (s.p[i] >= 0x20 && s.p[i] < 0x7f && s.p[i] != '\\')
			buf_byte(out, s.p[i]);
		else
			put_hex_byte(out, "\\x", s.p[i]);
	}
}

void tls_alpn_text(struct tls_span list, struct buf *out)
{
	struct rd r = { list.p, list.n, 0 };
	int first = 1;

	while (r.n > 0 && !r.bad) {
		struct tls_span name = rd_take(&r, rd_int(&r, 1));

		if (r.bad)
			break;
		if (!first)
			buf_byte(out, ',');
		first = 0;
		for (uint32_t i = 0; i < name.n; i++) {
			if (name.p[i] >= 0x20 && name.p[i] < 0x7f && name.p[i] != '\\' && name.p[i] != ',')
				buf_byte(out, name.p[i]);
			else
				put_hex_byte(out, "\\x", name.p[i]);
		}
	}
}

void tls_version_text(uint16_t v, struct buf *out)
{
	char tmp[8];

	if (v >= 0x0301 && v <= 0x0304) {
		snprintf(tmp, sizeof(tmp), "TLS 1.%d", v - 0x0301);
		put_str(out, tmp);
	} else if (v == 0x0300) {
		put_str(out, "SSL 3.0");
	} else {
		snprintf(tmp, sizeof(tmp), "0x%04x", v);
		put_str(out, tmp);
	}
}

void tls_versions_text(struct tls_span list, struct buf *out)
{
	int first = 1;

	for (uint32_t i = 0; i + 1 < list.n; i += 2) {
		uint16_t v = (uint16_t)(list.p[i] << 8 | list.p[i + 1]);

		/* GREASE (RFC 8701): 0x?a?a with equal bytes, sent only to keep peers tolerant. */
		if ((v & 0x0f0f) == 0x0a0a && list.p[i] == list.p[i + 1])
			continue;
		if (!first)
			buf_byte(out, ',');
		first = 0;
		tls_version_text(v, out);
	}
}

void tls_cipher_text(uint16_t id, struct buf *out)
{
	size_t lo = 0, hi = sizeof(tls_ciphers) / sizeof(tls_ciphers[0]);
	char tmp[8];

	while (lo < hi) {
		size_t mid = (lo + hi) / 2;

		if (tls_ciphers[mid].id == id) {
			put_str(out, tls_ciphers[mid].name);
			return;
		}
		if (tls_ciphers[mid].id < id)
			lo = mid + 1;
		else
			hi = mid;
	}
	snprintf(tmp, sizeof(tmp), "0x%04x", id);
	put_str(out, tmp);
}

/* Attribute types RFC 4514 writes by name (its §3), by the DER of their OIDs. */
static const struct {
	uint8_t len;
	uint8_t oid[10];
	const char *name;
} attr_names[] = {
	{ 3, { 0x55, 0x04, 0x03 }, "CN" },
	{ 3, { 0x55, 0x04, 0x06 }, "C" },
	{ 3, { 0x55, 0x04, 0x07 }, "L" },
	{ 3, { 0x55, 0x04, 0x08 }, "ST" },
	{ 3, { 0x55, 0x04, 0x09 }, "STREET" },
	{ 3, { 0x55, 0x04, 0x0a }, "O" },
	{ 3, { 0x55, 0x04, 0x0b }, "OU" },
	{ 10, { 0x09, 0x92, 0x26, 0x89, 0x93, 0xf2, 0x2c, 0x64, 0x01, 0x19 }, "DC" },
	{ 10, { 0x09, 0x92, 0x26, 0x89, 0x93, 0xf2, 0x2c, 0x64, 0x01, 0x01 }, "UID" },
};

/* An OID as dotted decimal; -1 when its encoding is broken. */
static int oid_text(struct tls_span oid, struct buf *out)
{
	uint64_t v = 0;
	int first = 1, bytes = 0;
	char tmp[24];

	if (oid.n == 0 || (oid.p[oid.n - 1] & 0x80))
		return -1;
	for (uint32_t i = 0; i < oid.n; i++) {
		if (++bytes > 9)
			return -1;
		v = v << 7 | (oid.p[i] & 0x7f);
		if (oid.p[i] & 0x80)
			continue;
		if (first) {
			uint64_t a = v < 80 ? v / 40 : 2;

			snprintf(tmp, sizeof(tmp), "%llu.%llu", (unsigned long long)a, (unsigned long long)(v - a * 40));
			first = 0;
		} else {
			snprintf(tmp, sizeof(tmp), ".%llu", (unsigned long long)v);
		}
		put_str(out, tmp);
		v = 0;
		bytes = 0;
	}
	return 0;
}

/* Appends one code point of an attribute value, escaped as RFC 4514 §2.4 says. */
static void put_escaped(struct buf *out, uint32_t cp, int first, int last)
{
	if (cp < 0x20 || cp == 0x7f) {
		put_hex_byte(out, "\\", (uint8_t)cp);
		return;
	}
	if (cp == '"' || cp == '+' || cp == ',' || cp == ';' || cp == '<' || cp == '>' || cp == '\\' ||
	    (first && (cp == '#' || cp == ' ')) || (last && cp == ' '))
		buf_byte(out, '\\');
	put_utf8(out, cp);
}

/*
 * A directory string's characters by their encoding: UTF-8 and ASCII kinds byte for byte,
 * T61String as Latin-1, BMPString as UTF-16BE, UniversalString as UTF-32BE. 0 when `tag` is
 * not a string type.
 */
static int string_value(uint8_t tag, struct tls_span v, struct buf *out)
{
	size_t width;

	switch (tag) {
	case 0x0c: case 0x12: case 0x13: case 0x14: case 0x16: case 0x1a:
		width = 1;
		break;
	case 0x1e:
		width = 2;
		break;
	case 0x1c:
		width = 4;
		break;
	default:
		return 0;
	}
	for (size_t i = 0; i + width <= v.n; i += width) {
		uint32_t cp = 0;

		for (size_t k = 0; k < width; k++)
			cp = cp << 8 | v.p[i + k];
		if (width == 2 && cp >= 0xd800 && cp <= 0xdbff && i + 4 <= v.n) {
			uint32_t lo = (uint32_t)v.p[i + 2] << 8 | v.p[i + 3];

			if (lo >= 0xdc00 && lo <= 0xdfff) {
				cp = 0x10000 + ((cp - 0xd800) << 10) + (lo - 0xdc00);
				i += 2;
			}
		}
		if (width == 1 && tag == 0x0c && cp >= 0x80) {
			/* UTF-8 bytes go through as they are (JS decodes them, U+FFFD for broken ones);
			 * in the other one-byte kinds such a byte is read as Latin-1. */
			buf_byte(out, (uint8_t)cp);
			continue;
		}
		put_escaped(out, cp, i == 0, i + width >= v.n);
	}
	return 1;
}

/* Most RDNs a Name is read with; a longer one is written as far as this. */
#define MAX_RDNS 64

int x509_name_text(struct tls_span name, struct buf *out)
{
	struct tls_span rdns[MAX_RDNS];
	struct der d = { name.p, name.n };
	int n = 0;

	while (d.n > 0) {
		struct tls_span set;

		if (der_expect(&d, 0x31, &set))
			return -1;
		if (n < MAX_RDNS)
			rdns[n++] = set;
	}
	for (int i = n - 1; i >= 0; i--) {
		struct der attrs = { rdns[i].p, rdns[i].n };
		int first_attr = 1;

		if (i != n - 1)
			buf_byte(out, ',');
		while (attrs.n > 0) {
			struct tls_span atv, oid, value, whole;
			struct der a;
			uint8_t tag;
			size_t k;

			if (der_expect(&attrs, 0x30, &atv))
				return -1;
			a.p = atv.p;
			a.n = atv.n;
			if (der_expect(&a, 0x06, &oid) || der_next(&a, &tag, &value, &whole))
				return -1;
			if (!first_attr)
				buf_byte(out, '+');
			first_attr = 0;
			for (k = 0; k < sizeof(attr_names) / sizeof(attr_names[0]); k++)
				if (attr_names[k].len == oid.n && memcmp(attr_names[k].oid, oid.p, oid.n) == 0)
					break;
			if (k < sizeof(attr_names) / sizeof(attr_names[0]))
				put_str(out, attr_names[k].name);
			else if (oid_text(oid, out))
				return -1;
			buf_byte(out, '=');
			if (k == sizeof(attr_names) / sizeof(attr_names[0]) || !string_value(tag, value, out)) {
				buf_byte(out, '#');
				for (uint32_t j = 0; j < whole.n; j++)
					put_hex_byte(out, "", whole.p[j]);
			}
		}
	}
	return 0;
}

void x509_sans_text(struct tls_span sans, struct buf *out)
{
	struct der d = { sans.p, sans.n };
	int first = 1;

	while (d.n > 0) {
		struct tls_span v;
		uint8_t tag, addr[16] = { 0 };
		char text[WISP_ADDR_TEXT_MAX + 1];
		const char *prefix;

		if (der_next(&d, &tag, &v, NULL))
			return;
		switch (tag) {
		case 0x81: prefix = "email:"; break;
		case 0x82: prefix = "DNS:"; break;
		case 0x86: prefix = "URI:"; break;
		case 0x87: prefix = "IP:"; break;
		default: continue;
		}
		if (tag == 0x87 && v.n != 4 && v.n != 16)
			continue;
		if (!first)
			buf_byte(out, ',');
		first = 0;
		put_str(out, prefix);
		if (tag == 0x87) {
			memcpy(addr, v.p, v.n);
			buf_put(out, text, wisp_format_addr(text, addr, v.n == 16));
		} else {
			tls_printable_text(v, out);
		}
	}
}
