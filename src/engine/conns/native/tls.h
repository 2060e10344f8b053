/* SPDX-License-Identifier: Apache-2.0 */
/*
 * What a TLS handshake says in plaintext, read from whole handshake messages (their 4-byte
 * header already taken off): the ClientHello (RFC 8446 §4.1.2), the ServerHello (§4.1.3) and,
 * for TLS ≤ 1.2, the Certificate message (RFC 5246 §7.4.2) and its first X.509 certificate
 * (RFC 5280 §4.1). TLS 1.3 sends everything after the ServerHello encrypted: the chosen ALPN
 * (EncryptedExtensions) and the certificate cannot be seen there.
 *
 * Every function takes a pointer and a length, never reads past them, never allocates (except
 * the text forms, into a struct buf) and never recurses; spans point into the input.
 */
#ifndef WISP_TLS_H
#define WISP_TLS_H

#include <stddef.h>
#include <stdint.h>

#include "../../http/native/buf.h"

/* Handshake message types (RFC 8446 §4). */
#define TLS_HS_CLIENT_HELLO 1
#define TLS_HS_SERVER_HELLO 2
#define TLS_HS_CERTIFICATE 11

/* Record content types (RFC 8446 §5.1). */
#define TLS_CT_CHANGE_CIPHER_SPEC 20
#define TLS_CT_ALERT 21
#define TLS_CT_HANDSHAKE 22
#define TLS_CT_APPLICATION_DATA 23
#define TLS_CT_HEARTBEAT 24

#define TLS_VERSION_1_3 0x0304

/* Bytes a record may carry: 2^14 of plaintext plus what protection adds (RFC 8446 §5.2). */
#define TLS_MAX_RECORD 18432

struct tls_span {
	const uint8_t *p;
	uint32_t n;
};

struct tls_client_hello {
	uint16_t legacy_version;
	struct tls_span sni;      /* the host_name of server_name, empty when absent */
	struct tls_span alpn;     /* the ProtocolNameList body: (u8 length, name)... */
	struct tls_span versions; /* the supported_versions list: u16... (empty when absent) */
};

struct tls_server_hello {
	uint16_t version;         /* from supported_versions when present, else legacy_version */
	uint16_t cipher;
	struct tls_span alpn;     /* the chosen protocol (TLS ≤ 1.2; 1.3 sends it encrypted) */
	uint8_t retry;            /* a HelloRetryRequest: another ClientHello and ServerHello follow */
};

struct x509_cert {
	struct tls_span subject;  /* the Name's RDNSequence contents */
	struct tls_span issuer;
	int64_t not_after;        /* seconds since the epoch (UTC) */
	struct tls_span sans;     /* the GeneralNames contents; empty without a subjectAltName */
};

/* 0, or -1 when the message breaks the format. */
int tls_client_hello(const uint8_t *b, size_t n, struct tls_client_hello *out);
int tls_server_hello(const uint8_t *b, size_t n, struct tls_server_hello *out);

/*
 * The first certificate (the server's own) of a TLS ≤ 1.2 Certificate message: 0 with its DER
 * in *der, 1 when the list is empty, -1 when the message breaks the format.
 */
int tls_first_certificate(const uint8_t *b, size_t n, struct tls_span *der);

/* 0, or -1 when the DER is not an X.509 certificate Wisp can read. */
int x509_parse(const uint8_t *der, size_t n, struct x509_cert *out);

/*
 * Text forms, appended to `out`:
 * - a Name as RFC 4514 writes it (last RDN first: `CN=tls.test,O=Wisp,C=US`), attribute types
 *   CN, C, L, ST, STREET, O, OU, DC, UID by name and others as dotted OIDs, values escaped as
 *   RFC 4514 says (non-string values as `#` and their DER in hex); -1 when it breaks DER;
 * - subject alternative names as `DNS:a.test,IP:127.0.0.1,email:x@y,URI:...` (other kinds
 *   are left out);
 * - a ProtocolNameList as names joined by `,` (`h2,http/1.1`);
 * - a supported_versions list as version names joined by `,`, GREASE values left out;
 * - a version (`TLS 1.3`, or `0x7f1c` when not a released one) and a cipher suite (its IANA
 *   name, or `0x1337` when unknown).
 * Bytes that are not printable ASCII in names and protocols (and `,` and `\` in protocols) are
 * written as `\xNN`.
 */
int x509_name_text(struct tls_span name, struct buf *out);
void x509_sans_text(struct tls_span sans, struct buf *out);
void tls_alpn_text(struct tls_span list, struct buf *out);
void tls_versions_text(struct tls_span list, struct buf *out);
void tls_version_text(uint16_t v, struct buf *out);
void tls_cipher_text(uint16_t id, struct buf *out);
/* A name as it was sent, with non-printable bytes escaped (the SNI). */
void tls_printable_text(struct tls_span s, struct buf *out);

#endif
