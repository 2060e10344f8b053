// SPDX-License-Identifier: Apache-2.0
/* Unit tests of tls.c: hellos, the Certificate message, X.509 and their text forms. */
#include "tls.h"
#include "tls_build.h"
#include "tls_test_data.h"
#include "../../http/native/check.h"

#include <stdlib.h>

/* The text of a span form, NUL-terminated (tests only). */
static const char *text(struct buf *b)
{
	buf_byte(b, 0);
	b->len--;
	return (const char *)b->p;
}

static void test_client_hello(void)
{
	static const char *const alpn[] = { "h2", "http/1.1", NULL };
	static const uint16_t versions[] = { 0x2a2a, 0x0304, 0x0303, 0 };
	struct ch_spec spec = { "tls.test", alpn, versions, 0, 0 };
	struct buf m = { 0 }, t = { 0 };
	struct tls_client_hello ch;

	b_client_hello(&m, &spec);
	CHECK(tls_client_hello(m.p + 4, m.len - 4, &ch) == 0);
	CHECK(ch.legacy_version == 0x0303);
	tls_printable_text(ch.sni, &t);
	CHECK_STR(text(&t), "tls.test");
	t.len = 0;
	tls_alpn_text(ch.alpn, &t);
	CHECK_STR(text(&t), "h2,http/1.1");
	t.len = 0;
	tls_versions_text(ch.versions, &t);
	CHECK_STR(text(&t), "TLS 1.3,TLS 1.2");
	buf_free(&m);
	buf_free(&t);
}

static void test_client_hello_of_old_clients(void)
{
	struct ch_spec spec = { NULL, NULL, NULL, 0x0301, 1 };
	struct buf m = { 0 }, t = { 0 };
	struct tls_client_hello ch;

	b_client_hello(&m, &spec);
	CHECK(tls_client_hello(m.p + 4, m.len - 4, &ch) == 0);
	CHECK(ch.sni.n == 0 && ch.alpn.n == 0 && ch.versions.n == 0);
	tls_version_text(ch.legacy_version, &t);
	CHECK_STR(text(&t), "TLS 1.0");
	buf_free(&m);
	buf_free(&t);
}

/* Every cut of a message is refused, never read past: the sanitizers watch each call. */
static void test_truncated_hellos_are_refused(void)
{
	static const char *const alpn[] = { "h2", NULL };
	static const uint16_t versions[] = { 0x0304, 0 };
	struct ch_spec spec = { "tls.test", alpn, versions, 0, 0 };
	struct buf ch = { 0 }, sh = { 0 };
	struct tls_client_hello c;
	struct tls_server_hello s;
	int refused = 1;

	b_client_hello(&ch, &spec);
	b_server_hello(&sh, 0x0304, 0x1301, NULL, 0);
	for (size_t n = 0; n < ch.len - 4; n++) {
		uint8_t *copy = malloc(n ? n : 1);

		memcpy(copy, ch.p + 4, n);
		/* Cut exactly after the compression methods it is a hello without extensions. */
		refused &= tls_client_hello(copy, n, &c) == (n == 43 ? 0 : -1);
		free(copy);
	}
	for (size_t n = 0; n < sh.len - 4; n++) {
		uint8_t *copy = malloc(n ? n : 1);

		memcpy(copy, sh.p + 4, n);
		/* Cut exactly after the fixed part it is a ServerHello without extensions. */
		refused &= tls_server_hello(copy, n, &s) == (n == 38 ? 0 : -1);
		free(copy);
	}
	CHECK(refused);
	buf_free(&ch);
	buf_free(&sh);
}

static void test_bad_lengths_are_refused(void)
{
	static const char *const alpn[] = { "h2", NULL };
	struct ch_spec spec = { "tls.test", alpn, NULL, 0, 0 };
	struct buf m = { 0 };
	struct tls_client_hello ch;
	size_t at;

	b_client_hello(&m, &spec);
	/* The session id says 33 bytes: more than RFC 8446 allows. */
	at = 4 + 2 + 32;
	m.p[at] = 33;
	CHECK(tls_client_hello(m.p + 4, m.len - 4, &ch) == -1);
	m.p[at] = 0;
	CHECK(tls_client_hello(m.p + 4, m.len - 4, &ch) == 0);
	/* An ALPN name of length 0. */
	m.p[m.len - 3] = 0;
	CHECK(tls_client_hello(m.p + 4, m.len - 4, &ch) == -1);
	buf_free(&m);
}

static void test_server_hellos(void)
{
	struct buf m = { 0 }, t = { 0 };
	struct tls_server_hello sh;

	b_server_hello(&m, 0x0304, 0x1302, NULL, 0);
	CHECK(tls_server_hello(m.p + 4, m.len - 4, &sh) == 0);
	CHECK(sh.version == 0x0304 && sh.cipher == 0x1302 && !sh.retry && sh.alpn.n == 0);
	tls_version_text(sh.version, &t);
	buf_byte(&t, ' ');
	tls_cipher_text(sh.cipher, &t);
	CHECK_STR(text(&t), "TLS 1.3 TLS_AES_256_GCM_SHA384");
	m.len = t.len = 0;
	b_server_hello(&m, 0x0303, 0xc02f, "http/1.1", 0);
	CHECK(tls_server_hello(m.p + 4, m.len - 4, &sh) == 0);
	tls_version_text(sh.version, &t);
	buf_byte(&t, ' ');
	tls_cipher_text(sh.cipher, &t);
	buf_byte(&t, ' ');
	tls_printable_text(sh.alpn, &t);
	CHECK_STR(text(&t), "TLS 1.2 TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256 http/1.1");
	m.len = 0;
	b_server_hello(&m, 0x0304, 0x1301, NULL, 1);
	CHECK(tls_server_hello(m.p + 4, m.len - 4, &sh) == 0 && sh.retry);
	t.len = 0;
	tls_cipher_text(0x1337, &t);
	buf_byte(&t, ' ');
	tls_version_text(0x7f1c, &t);
	CHECK_STR(text(&t), "0x1337 0x7f1c");
	buf_free(&m);
	buf_free(&t);
}

static void test_certificate(void)
{
	struct buf m = { 0 }, t = { 0 };
	struct tls_span der;
	struct x509_cert cert;

	b_certificate(&m, test_leaf_der, sizeof(test_leaf_der));
	CHECK(tls_first_certificate(m.p + 4, m.len - 4, &der) == 0);
	CHECK(der.n == sizeof(test_leaf_der));
	CHECK(x509_parse(der.p, der.n, &cert) == 0);
	CHECK(cert.not_after == TEST_LEAF_NOT_AFTER);
	CHECK(x509_name_text(cert.subject, &t) == 0);
	CHECK_STR(text(&t), "CN=tls.test,OU=Z\xc3\xbcrich,O=Wisp Test\\, Inc.,C=US");
	t.len = 0;
	CHECK(x509_name_text(cert.issuer, &t) == 0);
	CHECK_STR(text(&t), "CN=Wisp Test CA,O=Wisp Test");
	t.len = 0;
	x509_sans_text(cert.sans, &t);
	CHECK_STR(text(&t), "DNS:tls.test,DNS:*.tls.test,IP:127.0.0.1,IP:::1,email:ops@tls.test,URI:https://tls.test/");
	m.len = 0;
	b_u8(&m, 0);
	b_u16(&m, 0);
	CHECK(tls_first_certificate(m.p, m.len, &der) == 1);
	buf_free(&m);
	buf_free(&t);
}

static void test_truncated_certificates_are_refused(void)
{
	struct x509_cert cert;
	int refused = 1;

	for (size_t n = 0; n < sizeof(test_leaf_der); n++) {
		uint8_t *copy = malloc(n ? n : 1);

		memcpy(copy, test_leaf_der, n);
		refused &= x509_parse(copy, n, &cert) == -1;
		free(copy);
	}
	CHECK(refused);
}

/* Names beyond the test certificate: escapes, several values in one RDN, other string kinds, OIDs. */
static void test_names(void)
{
	/* RDNs, in the order sent: C=US; CN="#a+b " (UTF8String) and title (2.5.4.12) = "x"
	 * (PrintableString) in one RDN; O=Ü (BMPString); CN=U+0001 (IA5String). */
	static const uint8_t name[] = {
		0x31, 0x0b, 0x30, 0x09, 0x06, 0x03, 0x55, 0x04, 0x06, 0x13, 0x02, 'U', 'S',
		0x31, 0x18, 0x30, 0x0c, 0x06, 0x03, 0x55, 0x04, 0x03, 0x0c, 0x05, '#', 'a', '+', 'b', ' ',
		0x30, 0x08, 0x06, 0x03, 0x55, 0x04, 0x0c, 0x13, 0x01, 'x',
		0x31, 0x0b, 0x30, 0x09, 0x06, 0x03, 0x55, 0x04, 0x0a, 0x1e, 0x02, 0x00, 0xdc,
		0x31, 0x0a, 0x30, 0x08, 0x06, 0x03, 0x55, 0x04, 0x03, 0x16, 0x01, 0x01,
	};
	struct buf t = { 0 };
	struct tls_span s = { name, sizeof(name) };
	int refused = 1;

	CHECK(x509_name_text(s, &t) == 0);
	CHECK_STR(text(&t), "CN=\\01,O=\xc3\x9c,CN=\\#a\\+b\\ +2.5.4.12=#130178,C=US");
	for (uint32_t n = 1; n < sizeof(name); n++) {
		struct tls_span cut = { name, n };

		t.len = 0;
		refused &= x509_name_text(cut, &t) == -1 || n == 13 || n == 39 || n == 52;
	}
	CHECK(refused);
	buf_free(&t);
}

static void test_odd_protocol_names_are_escaped(void)
{
	static const uint8_t list[] = { 3, 'a', ',', 'b', 2, 0x00, 0xff };
	struct tls_span s = { list, sizeof(list) };
	struct buf t = { 0 };

	tls_alpn_text(s, &t);
	CHECK_STR(text(&t), "a\\x2cb,\\x00\\xff");
	buf_free(&t);
}

int main(void)
{
	RUN(test_client_hello);
	RUN(test_client_hello_of_old_clients);
	RUN(test_truncated_hellos_are_refused);
	RUN(test_bad_lengths_are_refused);
	RUN(test_server_hellos);
	RUN(test_certificate);
	RUN(test_truncated_certificates_are_refused);
	RUN(test_names);
	RUN(test_odd_protocol_names_are_escaped);
	return check_failures ? 1 : 0;
}
