/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Incremental HTTP/1.x message parser for one direction of one connection. It sees bytes and
 * gaps, calls its host, and never fails on truncated or garbage input. Requests and responses
 * are both recognised from their start line, so a connection whose role is unknown still
 * parses; pairing is the host's business.
 *
 * Framing follows RFC 9112 §6: Transfer-Encoding (chunked last) wins over Content-Length;
 * responses to HEAD, 1xx, 204 and 304 have no body; a response without either runs to the close.
 * Interim 1xx responses (other than 101) are skipped. After a request that asks for an Upgrade
 * (or CONNECT) the parser holds until the host says whether the switch happened.
 */
#ifndef WISP_HTTP1_H
#define WISP_HTTP1_H

#include <stddef.h>
#include <stdint.h>

#include "redact.h"

enum h1_kind { H1_REQUEST = 1, H1_RESPONSE = 2 };

/* What a response's framing needs to know about its request's method. */
enum h1_method_class { H1_M_OTHER = 0, H1_M_HEAD = 1, H1_M_CONNECT = 2 };

/*
 * A parsed header section, shared by every message whose section had the same bytes (a
 * keep-alive client repeats its headers; a server repeats its own until the Date ticks).
 * Immutable once built; reference-counted.
 */
struct h1_head {
	uint32_t refs;
	uint32_t hash;
	uint64_t id;            /* unique per stitcher: equal ids, equal sections */
	uint32_t len;           /* bytes of the section: the cache compares them */
	int64_t content_length; /* -1: absent */
	uint8_t has_te;         /* a Transfer-Encoding header is present */
	uint8_t chunked;        /* ... and its last coding is chunked */
	uint8_t upgrade;        /* an Upgrade header and `Connection: upgrade` */
	uint8_t json_type;      /* Content-Type names a JSON media type */
	uint32_t json_len;
	const uint8_t *bytes;   /* the section, for the cache's compare */
	const char *json;       /* the headers as a JSON object, credentials redacted */
};

/* One message. The parser fills its body while in flight; complete when handed over. */
struct h1_msg {
	uint32_t refs;
	uint8_t kind;
	uint8_t major;
	uint8_t minor;
	uint8_t method_class;   /* requests */
	uint8_t upgrade;        /* request: asks to switch; response: the switch happened */
	uint8_t complete;
	uint8_t body_gap;       /* the body had a gap: the prefix stops there */
	uint16_t status;        /* responses */
	uint32_t head_bytes;    /* start line + header section */
	uint64_t first_ts;
	uint64_t last_ts;
	uint64_t body_size;     /* true size (de-chunked), counting bytes lost in gaps */
	uint32_t body_len;      /* prefix bytes kept */
	uint32_t body_cap;
	struct h1_head *head;
	uint32_t method_len;    /* requests: text[0, method_len) */
	uint32_t line_len;      /* requests: target at text + method_len; responses: the reason */
	uint8_t *body;          /* body_cap bytes, in the same allocation */
	uint8_t text[];
};

void h1_msg_ref(struct h1_msg *m);
void h1_msg_unref(struct h1_msg *m);

static inline const uint8_t *h1_msg_line(const struct h1_msg *m)
{
	return m->text + m->method_len;
}

/* What a parser needs from its connection. */
struct h1_host {
	/* The method class of the request the response being parsed answers. */
	enum h1_method_class (*request_method)(void *ctx);
	/* A request or final response head is complete; its body follows. The host may ref it. */
	void (*on_head)(void *ctx, struct h1_msg *m);
	/* A message is complete. */
	void (*on_message)(void *ctx, struct h1_msg *m);
	/*
	 * Bytes were lost or rejected. in_flight: a message had begun and is dropped (gap in framing,
	 * parse error, close before its end); m is that message when its head had been reported.
	 * Not in flight: a gap fell between messages, so whole messages may be missing.
	 */
	void (*on_drop)(void *ctx, struct h1_msg *m, int in_flight, uint64_t ts);
	/* A body's remaining bytes are not needed from `pos` (stream position) to `end` (~0: the close). */
	void (*skip_body)(void *ctx, uint64_t end);
	void *ctx;
};

struct h1_limits {
	uint32_t max_header_bytes;
	uint32_t body_prefix_bytes;
	uint32_t skip_body_over;
};

struct h1_counters {
	uint64_t *parse_errors;
	uint64_t *resyncs;
	uint64_t *oversized_headers;
	uint64_t *invalid_chunks;
	uint64_t *interim_responses;
};

/* Parsed header sections by content, shared by the parsers of one stitcher. */
struct h1_heads;

struct h1_heads *h1_heads_new(uint32_t slots, const struct redactor *redact);
void h1_heads_free(struct h1_heads *c);
/* The parsed section b[0, n) (through the blank line), or NULL when it is not a valid one. */
struct h1_head *h1_heads_get(struct h1_heads *c, const uint8_t *b, size_t n);
void h1_head_unref(struct h1_head *h);

enum h1_state {
	H1_IDLE,
	H1_HEAD,
	H1_BODY_FIXED,
	H1_CHUNK_SIZE,
	H1_CHUNK_DATA,
	H1_CHUNK_CRLF,
	H1_TRAILER,
	H1_BODY_EOF,
	H1_RESYNC,
	H1_HOLD,
	H1_TUNNEL,
};

/* "MKCALENDAR " is the longest start token. */
#define H1_MAX_TOKEN 11
#define H1_MAX_CHUNK_LINE 4096

struct h1_parser {
	enum h1_state state;
	struct h1_host host;
	const struct h1_limits *limits;
	struct h1_counters ctr;
	struct h1_heads *heads;
	uint8_t *head_buf;
	uint32_t head_len;
	uint32_t head_cap;
	uint8_t start_checked;
	uint8_t at_line_start;
	uint8_t skip_asked;
	uint64_t msg_first_ts;
	struct h1_msg *cur;
	uint64_t remaining;     /* body bytes (fixed) or chunk bytes (chunked) left */
	uint8_t *line_buf;      /* H1_MAX_CHUNK_LINE bytes while a chunk-size line is split across reads */
	uint32_t line_len;
	struct h1_head *last_head; /* this direction's previous section, compared before hashing */
	uint32_t trailer_bytes;
	uint8_t carry[H1_MAX_TOKEN];
	uint32_t carry_len;
	uint64_t carry_ts;
	uint64_t pos;           /* stream position of the next byte to parse */
	uint64_t resync_bytes;  /* bytes scanned in resync since the last message start */
};

void h1_init(struct h1_parser *p, struct h1_host host, const struct h1_limits *limits, struct h1_counters ctr,
	     struct h1_heads *heads);
/* Frees what the parser holds (its message in flight, its buffers). */
void h1_release(struct h1_parser *p);

/* Capture began mid-stream: the first bytes may be mid-message. */
void h1_start_mid_stream(struct h1_parser *p);
/* Stops parsing for good (the connection switched protocols). */
void h1_tunnel(struct h1_parser *p);
/* Leaves the hold after an Upgrade/CONNECT request the server refused. */
void h1_resume(struct h1_parser *p);

/* Consumes b[0, n), which starts at stream position `pos`, all read or written at `ts`. */
void h1_data(struct h1_parser *p, uint64_t pos, const uint8_t *b, size_t n, uint64_t ts);
/* `len` bytes of the stream were not captured. */
void h1_gap(struct h1_parser *p, uint64_t len, uint64_t ts);
/* The connection closed: a body delimited by the close completes; anything else is dropped. */
void h1_end(struct h1_parser *p, uint64_t ts);

/* Bytes held: partial head, body prefix in flight, resync carry. */
uint64_t h1_buffered(const struct h1_parser *p);

/* A start line: a request line (status 0) or a status line (method_len 0). */
struct h1_start {
	uint8_t major;
	uint8_t minor;
	uint16_t status;
	uint32_t method_len;  /* the method is b[0, method_len) */
	uint32_t text_off;    /* the target (requests) or the reason (responses) */
	uint32_t text_len;
};

/* Parses the start line b[0, n) (no line ending); 0 when it is neither kind. */
int h1_parse_start_line(const uint8_t *b, size_t n, struct h1_start *out);

#endif
