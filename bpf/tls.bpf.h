/* SPDX-License-Identifier: Apache-2.0 */
/*
 * TLS recognition from the first bytes of a connection: a handshake record (content type 22,
 * record version 3.x) whose first message is a ClientHello or a ServerHello. Only this verdict
 * lives in the kernel; the handshake is parsed in user space (src/engine/conns/native/tls.c).
 * A TLS connection's first tls_capture_bytes per direction are copied, then it is only counted.
 */
#ifndef WISP_TLS_BPF_H
#define WISP_TLS_BPF_H

#define WISP_TLS_CONTENT_HANDSHAKE 0x16
#define WISP_TLS_CLIENT_HELLO 1
#define WISP_TLS_SERVER_HELLO 2

/* A syscall of exactly a record header: OpenSSL reads the 5 header bytes first, then the body. */
#define WISP_TLS_HEADER_ONLY 0x100

/*
 * The handshake message type (WISP_TLS_CLIENT_HELLO or WISP_TLS_SERVER_HELLO) when b starts a
 * TLS handshake, WISP_TLS_HEADER_ONLY when b is just the header of a handshake record (the
 * message type is in the next syscall), else 0. Bytes: [0] content type, [1..2] record
 * version (3.0 to 3.4; a ClientHello often says 3.1 for old middleboxes), [3..4] record length
 * (a handshake record holds at most 2^14 bytes), [5] the first message's type.
 */
static __always_inline int tls_sniff(const __u8 *b, __u32 len)
{
	__u32 rec_len;

	if (len < 5)
		return 0;
	if (b[0] != WISP_TLS_CONTENT_HANDSHAKE || b[1] != 3 || b[2] > 4)
		return 0;
	rec_len = (__u32)b[3] << 8 | b[4];
	if (rec_len < 4 || rec_len > 16384)
		return 0;
	if (len == 5)
		return WISP_TLS_HEADER_ONLY;
	if (b[5] != WISP_TLS_CLIENT_HELLO && b[5] != WISP_TLS_SERVER_HELLO)
		return 0;
	return b[5];
}

/*
 * Whether this syscall of a TLS connection is copied: only while its direction is still within
 * tls_capture_bytes; past it the bytes are counted as ciphertext, and once both directions are
 * past it, from the enter half on.
 */
static __always_inline int tls_copy(struct wisp_conn_state *st, __u8 dir, __u64 pos, __u32 size)
{
	if (pos < tls_capture_bytes)
		return 1;
	count_drop(WISP_DROP_TLS_CIPHERTEXT_BYTES, size);
	if (st->pos[!dir] >= tls_capture_bytes)
		st->proto = WISP_CONN_PROTO_OTHER;
	return 0;
}

#endif
