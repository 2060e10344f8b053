// SPDX-License-Identifier: Apache-2.0
/*
 * libFuzzer harness for tls.c: the input, whole, as a ClientHello, a ServerHello, a Certificate
 * message, an X.509 certificate and a Name, each parsed and (when it parses) written out as
 * text. Checked: nothing reads outside the input, crashes or leaks (ASan, LSan, UBSan), and
 * every span a parser hands back lies inside the input.
 */
#include <stdlib.h>

#include "tls.h"

static void inside(struct tls_span s, const uint8_t *in, size_t n)
{
	if (s.n && (s.p < in || s.p + s.n > in + n))
		abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *in, size_t n)
{
	struct tls_client_hello ch;
	struct tls_server_hello sh;
	struct tls_span der, name = { in, (uint32_t)n };
	struct x509_cert cert;
	struct buf t = { 0 };

	if (tls_client_hello(in, n, &ch) == 0) {
		inside(ch.sni, in, n);
		inside(ch.alpn, in, n);
		inside(ch.versions, in, n);
		tls_printable_text(ch.sni, &t);
		tls_alpn_text(ch.alpn, &t);
		tls_versions_text(ch.versions, &t);
		tls_version_text(ch.legacy_version, &t);
	}
	if (tls_server_hello(in, n, &sh) == 0) {
		inside(sh.alpn, in, n);
		tls_printable_text(sh.alpn, &t);
		tls_version_text(sh.version, &t);
		tls_cipher_text(sh.cipher, &t);
	}
	if (tls_first_certificate(in, n, &der) == 0) {
		inside(der, in, n);
		if (x509_parse(der.p, der.n, &cert) == 0) {
			x509_name_text(cert.subject, &t);
			x509_sans_text(cert.sans, &t);
		}
	}
	if (x509_parse(in, n, &cert) == 0) {
		inside(cert.subject, in, n);
		inside(cert.issuer, in, n);
		inside(cert.sans, in, n);
		x509_name_text(cert.issuer, &t);
		x509_sans_text(cert.sans, &t);
	}
	x509_name_text(name, &t);
	x509_sans_text(name, &t);
	buf_free(&t);
	return 0;
}
