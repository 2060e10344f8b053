// SPDX-License-Identifier: Apache-2.0
/* The HTTP/1.x parser of one direction; see http1.h. */
#include "http1.h"
#include "ascii.h"
#include "buf.h"
#include "../../native/hash.h"

#include <stdlib.h>
#include <string.h>

#define CR 13
#define LF 10

enum { MATCH = 1, NO = 0, NEED = -1 };

/* Sections up to this size are cached; bigger ones are rare and would make the cache's memory
 * unbounded in practice. */
#define MAX_CACHED_SECTION 4096

static int is_tchar(uint8_t c)
{
	if (ascii_alnum(c))
		return 1;
	switch (c) {
	case '!': case '#': case '$': case '%': case '&': case '\'': case '*': case '+':
	case '-': case '.': case '^': case '_': case '`': case '|': case '~':
		return 1;
	default:
		return 0;
	}
}

static const uint8_t *find_lf(const uint8_t *b, size_t from, size_t to)
{
	return from < to ? memchr(b + from, LF, to - from) : NULL;
}

/* ---- messages ---- */

void h1_msg_ref(struct h1_msg *m)
{
	m->refs++;
}

void h1_head_unref(struct h1_head *h)
{
	if (h && --h->refs == 0)
		free(h);
}

void h1_msg_unref(struct h1_msg *m)
{
	if (!m || --m->refs > 0)
		return;
	h1_head_unref(m->head);
	free(m);
}

static struct h1_msg *msg_new(const uint8_t *method, uint32_t method_len, const uint8_t *line, uint32_t line_len,
			      uint32_t body_cap)
{
	struct h1_msg *m = malloc(sizeof(*m) + method_len + line_len + body_cap);

	if (!m)
		return NULL;
	memset(m, 0, sizeof(*m));
	m->refs = 1;
	m->method_len = method_len;
	m->line_len = line_len;
	if (method_len)
		memcpy(m->text, method, method_len);
	if (line_len)
		memcpy(m->text + method_len, line, line_len);
	m->body = m->text + method_len + line_len;
	m->body_cap = body_cap;
	return m;
}

/* ---- start lines ---- */

static const struct {
	const char *s;
	uint32_t n;
} start_tokens[] = {
#define T(x) { x, sizeof(x) - 1 }
	T("HTTP/1."), T("GET "), T("POST "), T("PUT "), T("DELETE "), T("HEAD "), T("OPTIONS "), T("PATCH "),
	T("CONNECT "), T("TRACE "), T("PROPFIND "), T("PROPPATCH "), T("MKCOL "), T("COPY "), T("MOVE "),
	T("LOCK "), T("UNLOCK "), T("SEARCH "), T("REPORT "), T("PURGE "), T("LINK "), T("UNLINK "),
	T("MKCALENDAR "), T("QUERY "),
#undef T
};

/* Is there a message start (a known method + SP, or "HTTP/1.") at b[0, n)? */
static int match_start(const uint8_t *b, size_t n)
{
	int result = NO;

	if (n == 0)
		return NEED;
	for (size_t t = 0; t < sizeof(start_tokens) / sizeof(*start_tokens); t++) {
		const char *s = start_tokens[t].s;
		size_t len = start_tokens[t].n, k = n < len ? n : len, i = 1;

		if ((uint8_t)s[0] != b[0])
			continue;
		while (i < k && b[i] == (uint8_t)s[i])
			i++;
		if (i == len)
			return MATCH;
		if (i == k)
			result = NEED;
	}
	return result;
}

/* Index just past the blank line ending a header section in b[from, to), or -1. */
static long find_head_end(const uint8_t *b, size_t from, size_t to)
{
	/* memchr jumps from line end to line end; heads are a few dozen short lines. */
	while (from + 1 < to) {
		const uint8_t *p = memchr(b + from, LF, to - from - 1);
		size_t nl;

		if (!p)
			return -1;
		nl = (size_t)(p - b);
		if (b[nl + 1] == LF)
			return (long)(nl + 2);
		if (b[nl + 1] == CR) {
			if (nl + 2 >= to)
				return -1;
			if (b[nl + 2] == LF)
				return (long)(nl + 3);
		}
		from = nl + 1;
	}
	return -1;
}

/* A cheap check of a complete first line b[s, nl): "HTTP/" or token SP ... " HTTP/x.y". */
static int plausible_start_line(const uint8_t *b, size_t s, size_t nl)
{
	size_t e = nl, i = s;

	if (e > s && b[e - 1] == CR)
		e--;
	if (e - s >= 5 && memcmp(b + s, "HTTP/", 5) == 0)
		return 1;
	while (i < e && is_tchar(b[i]))
		i++;
	if (i == s || i >= e || b[i] != ' ')
		return 0;
	return e - i >= 9 && b[e - 9] == ' ' && memcmp(b + e - 8, "HTTP/", 5) == 0;
}

int h1_parse_start_line(const uint8_t *b, size_t n, struct h1_start *out)
{
	size_t i = 0, t;

	memset(out, 0, sizeof(*out));
	/* HTTP/D.D SP DDD [SP reason] */
	if (n >= 12 && memcmp(b, "HTTP/", 5) == 0 && ascii_digit(b[5]) && b[6] == '.' && ascii_digit(b[7]) &&
	    b[8] == ' ' && ascii_digit(b[9]) && ascii_digit(b[10]) && ascii_digit(b[11])) {
		if (n > 12 && b[12] != ' ')
			return 0;
		for (size_t k = 13; k < n; k++)
			if (b[k] == CR)
				return 0;
		out->major = b[5] - '0';
		out->minor = b[7] - '0';
		out->status = (uint16_t)((b[9] - '0') * 100 + (b[10] - '0') * 10 + (b[11] - '0'));
		out->text_off = n > 12 ? 13 : 12;
		out->text_len = (uint32_t)(n - out->text_off);
		return 1;
	}
	/* token SP target SP HTTP/D.D, the target without spaces */
	while (i < n && is_tchar(b[i]))
		i++;
	if (i == 0 || i >= n || b[i] != ' ' || n < i + 1 + 1 + 9)
		return 0;
	t = n - 9;
	if (b[t] != ' ' || memcmp(b + t + 1, "HTTP/", 5) != 0 || !ascii_digit(b[t + 6]) || b[t + 7] != '.' ||
	    !ascii_digit(b[t + 8]))
		return 0;
	for (size_t k = i + 1; k < t; k++)
		if (b[k] == ' ')
			return 0;
	if (t == i + 1)
		return 0;
	out->method_len = (uint32_t)i;
	out->text_off = (uint32_t)(i + 1);
	out->text_len = (uint32_t)(t - i - 1);
	out->major = b[t + 6] - '0';
	out->minor = b[t + 8] - '0';
	return 1;
}

/* ---- header sections ---- */

/* A JSON string literal of s[0, n): what JSON.stringify writes for the same (UTF-8) text. */
static void json_string(struct buf *o, const uint8_t *s, size_t n)
{
	static const char hex[] = "0123456789abcdef";

	buf_reserve(o, n + 2);
	buf_byte(o, '"');
	for (size_t i = 0; i < n; i++) {
		uint8_t c = s[i];

		if (c >= 0x20 && c != '"' && c != '\\') {
			buf_byte(o, c);
			continue;
		}
		buf_byte(o, '\\');
		switch (c) {
		case '"': buf_byte(o, '"'); break;
		case '\\': buf_byte(o, '\\'); break;
		case '\b': buf_byte(o, 'b'); break;
		case '\f': buf_byte(o, 'f'); break;
		case '\n': buf_byte(o, 'n'); break;
		case '\r': buf_byte(o, 'r'); break;
		case '\t': buf_byte(o, 't'); break;
		default: {
			uint8_t u[5] = { 'u', '0', '0', (uint8_t)hex[c >> 4], (uint8_t)hex[c & 15] };

			buf_put(o, u, 5);
		}
		}
	}
	buf_byte(o, '"');
}

struct field {
	uint32_t name_off;   /* into the section */
	uint32_t name_len;
	uint32_t lower_off;  /* into `text` */
	uint32_t val_off;    /* into `text` */
	uint32_t val_len;
	uint32_t next_same;  /* next field with the same lower-case name, +1; 0 = none */
	uint8_t first;       /* the first field with its lower-case name */
};

static int ows(uint8_t c)
{
	return c == ' ' || c == '\t';
}

/* JS's \s over ASCII, for the framing tokens (Transfer-Encoding, Connection). */
static int space(uint8_t c)
{
	return c == ' ' || c == '\t' || c == '\n' || c == '\v' || c == '\f' || c == '\r';
}

/* Whether the comma-separated list s has `word` as its last element (any case), or any element. */
static int list_has(const uint8_t *s, size_t n, const char *word, int last_only)
{
	size_t a = 0;

	if (n == 0)
		return 0;
	while (a <= n) {
		size_t e = a, x, y;

		while (e < n && s[e] != ',')
			e++;
		x = a;
		y = e;
		while (x < y && space(s[x]))
			x++;
		while (y > x && space(s[y - 1]))
			y--;
		if ((!last_only || e == n) && ascii_is(s + x, y - x, word))
			return 1;
		a = e + 1;
	}
	return 0;
}

struct section {
	struct field *f;
	uint32_t nf;
	struct buf text;     /* lower-case names and values */
};

/*
 * Splits the header lines of b[0, n) (through the blank line) into fields. 0 when a line is not
 * a header field or an obs-fold has nothing to continue.
 */
static int split_fields(const uint8_t *b, size_t n, struct section *sec)
{
	size_t p = 0;
	uint32_t cap = 0;

	while (p < n) {
		const uint8_t *nlp = find_lf(b, p, n);
		size_t nl, le, ls = p, i;
		struct field *f;

		if (!nlp)
			break;
		nl = (size_t)(nlp - b);
		le = nl > p && b[nl - 1] == CR ? nl - 1 : nl;
		p = nl + 1;
		if (le == ls)
			break;
		if (ows(b[ls])) {
			/* obs-fold: a continuation of the previous value (RFC 9112 §5.2). */
			size_t vs = ls, ve = le;
			struct field *prev;

			if (sec->nf == 0)
				return 0;
			prev = &sec->f[sec->nf - 1];
			/* The previous value is the last thing in `text`: extend it in place. */
			sec->text.len = prev->val_off + prev->val_len;
			while (vs < ve && ows(b[vs]))
				vs++;
			while (ve > vs && ows(b[ve - 1]))
				ve--;
			buf_byte(&sec->text, ' ');
			buf_put(&sec->text, b + vs, ve - vs);
			if (sec->text.failed)
				return 0;
			prev->val_len = (uint32_t)(sec->text.len - prev->val_off);
			while (prev->val_len > 0 && ows(sec->text.p[prev->val_off])) {
				prev->val_off++;
				prev->val_len--;
			}
			while (prev->val_len > 0 && ows(sec->text.p[prev->val_off + prev->val_len - 1]))
				prev->val_len--;
			continue;
		}
		i = ls;
		while (i < le && is_tchar(b[i]))
			i++;
		if (i == ls || i >= le || b[i] != ':')
			return 0;
		if (sec->nf == cap) {
			struct field *nf;

			cap = cap ? cap * 2 : 32;
			nf = realloc(sec->f, cap * sizeof(*nf));
			if (!nf)
				return 0;
			sec->f = nf;
		}
		f = &sec->f[sec->nf++];
		memset(f, 0, sizeof(*f));
		f->name_off = (uint32_t)ls;
		f->name_len = (uint32_t)(i - ls);
		f->lower_off = (uint32_t)sec->text.len;
		buf_reserve(&sec->text, i - ls);
		if (sec->text.failed)
			return 0;
		for (size_t k = ls; k < i; k++)
			sec->text.p[sec->text.len++] = ascii_lower(b[k]);
		{
			size_t vs = i + 1, ve = le;

			while (vs < ve && ows(b[vs]))
				vs++;
			while (ve > vs && ows(b[ve - 1]))
				ve--;
			f->val_off = (uint32_t)sec->text.len;
			f->val_len = (uint32_t)(ve - vs);
			buf_put(&sec->text, b + vs, ve - vs);
			if (sec->text.failed)
				return 0;
		}
	}
	return 1;
}

/* Links fields with equal lower-case names, in order; marks the first of each name. */
static int group_fields(struct section *sec)
{
	uint32_t nslots = 16, *slots;

	while (nslots < sec->nf * 2)
		nslots *= 2;
	slots = calloc(nslots, sizeof(*slots));
	if (!slots)
		return 0;
	for (uint32_t i = 0; i < sec->nf; i++) {
		struct field *f = &sec->f[i];
		const uint8_t *name = sec->text.p + f->lower_off;
		uint32_t h = (uint32_t)wisp_hash(name, f->name_len), s = h & (nslots - 1);

		for (;;) {
			uint32_t at = slots[s];
			struct field *g;

			if (at == 0) {
				slots[s] = i + 1;
				f->first = 1;
				break;
			}
			g = &sec->f[at - 1];
			if (g->name_len == f->name_len && memcmp(sec->text.p + g->lower_off, name, f->name_len) == 0) {
				/* Append to the chain that starts at g: the slot keeps the chain's last field. */
				g->next_same = i + 1;
				slots[s] = i + 1;
				break;
			}
			s = (s + 1) & (nslots - 1);
		}
	}
	free(slots);
	return 1;
}

/*
 * Builds the head of section b[0, n): framing (Content-Length, Transfer-Encoding, Upgrade), the
 * JSON object of its headers (a repeated header is one key, named as first sent, its values
 * joined with ", " in order — RFC 9110 §5.3; credentials redacted) and the content type. NULL
 * when the section is invalid, or a Content-Length is invalid or repeated with another value.
 */
static struct h1_head *build_head(const uint8_t *b, size_t n, const struct redactor *rd, int keep_bytes)
{
	struct section sec = { 0 };
	struct buf json = { 0 }, te = { 0 }, conn = { 0 };
	const uint8_t *cl = NULL, *ctype = NULL;
	uint32_t cl_len = 0, ctype_len = 0;
	int has_te = 0, has_upgrade = 0, ok = 0;
	int64_t length = -1;
	struct h1_head *h = NULL;

	if (!split_fields(b, n, &sec) || !group_fields(&sec))
		goto out;
	for (uint32_t i = 0; i < sec.nf; i++) {
		const struct field *f = &sec.f[i];
		const uint8_t *name = sec.text.p + f->lower_off, *v = sec.text.p + f->val_off;

		if (ascii_is(name, f->name_len, "content-length")) {
			if (cl && (cl_len != f->val_len || memcmp(cl, v, cl_len) != 0))
				goto out;
			cl = v;
			cl_len = f->val_len;
		} else if (ascii_is(name, f->name_len, "transfer-encoding")) {
			if (has_te)
				buf_put(&te, ", ", 2);
			buf_put(&te, v, f->val_len);
			has_te = 1;
		} else if (ascii_is(name, f->name_len, "connection")) {
			buf_byte(&conn, ',');
			buf_put(&conn, v, f->val_len);
		} else if (ascii_is(name, f->name_len, "upgrade")) {
			has_upgrade = 1;
		} else if (!ctype && ascii_is(name, f->name_len, "content-type")) {
			ctype = v;
			ctype_len = f->val_len;
		}
	}
	if (cl) {
		if (cl_len == 0 || cl_len > 15)
			goto out;
		length = 0;
		for (uint32_t i = 0; i < cl_len; i++) {
			if (!ascii_digit(cl[i]))
				goto out;
			length = length * 10 + (cl[i] - '0');
		}
	}
	buf_byte(&json, '{');
	for (uint32_t i = 0; i < sec.nf; i++) {
		const struct field *f = &sec.f[i];
		const uint8_t *lname = sec.text.p + f->lower_off;
		struct buf v = { 0 };

		if (!f->first)
			continue;
		if (json.len > 1)
			buf_byte(&json, ',');
		json_string(&json, b + f->name_off, f->name_len);
		buf_byte(&json, ':');
		if (redact_header_name(rd, b + f->name_off, lname, f->name_len)) {
			json_string(&json, (const uint8_t *)REDACTED, REDACTED_LEN);
			continue;
		}
		/* Each line's value on its own, then joined (a scheme or token is judged per line). */
		for (uint32_t j = i + 1; j; j = sec.f[j - 1].next_same) {
			const struct field *g = &sec.f[j - 1];

			if (j != i + 1)
				buf_put(&v, ", ", 2);
			redact_header_value(rd, lname, f->name_len, sec.text.p + g->val_off, g->val_len, &v);
		}
		json_string(&json, v.p ? v.p : (const uint8_t *)"", v.len);
		json.failed |= v.failed;
		buf_free(&v);
	}
	buf_byte(&json, '}');
	if (json.failed || te.failed || conn.failed)
		goto out;
	h = malloc(sizeof(*h) + (keep_bytes ? n : 0) + json.len);
	if (!h)
		goto out;
	memset(h, 0, sizeof(*h));
	h->refs = 1;
	h->len = (uint32_t)n;
	h->content_length = length;
	h->has_te = (uint8_t)has_te;
	h->chunked = has_te && list_has(te.p, te.len, "chunked", 1);
	h->upgrade = has_upgrade && list_has(conn.p, conn.len, "upgrade", 0);
	if (ctype) {
		for (uint32_t i = 0; i + 4 <= ctype_len && !h->json_type; i++)
			h->json_type = (uint8_t)ascii_is(ctype + i, 4, "json");
	}
	{
		uint8_t *tail = (uint8_t *)(h + 1);

		if (keep_bytes) {
			memcpy(tail, b, n);
			h->bytes = tail;
			tail += n;
		}
		memcpy(tail, json.p, json.len);
		h->json = (const char *)tail;
		h->json_len = (uint32_t)json.len;
	}
	ok = 1;
out:
	free(sec.f);
	free(sec.text.p);
	free(json.p);
	free(te.p);
	free(conn.p);
	if (!ok && h) {
		free(h);
		h = NULL;
	}
	return h;
}

struct h1_heads {
	const struct redactor *redact;
	uint64_t next_id;
	uint32_t mask;
	struct h1_head *slots[];
};

struct h1_heads *h1_heads_new(uint32_t slots, const struct redactor *redact)
{
	uint32_t n = 16;
	struct h1_heads *c;

	while (n < slots)
		n *= 2;
	c = calloc(1, sizeof(*c) + n * sizeof(struct h1_head *));
	if (!c)
		return NULL;
	c->redact = redact;
	c->mask = n - 1;
	return c;
}

void h1_heads_free(struct h1_heads *c)
{
	if (!c)
		return;
	for (uint32_t i = 0; i <= c->mask; i++)
		h1_head_unref(c->slots[i]);
	free(c);
}

struct h1_head *h1_heads_get(struct h1_heads *c, const uint8_t *b, size_t n)
{
	uint32_t hash;
	struct h1_head *h, **slot;

	if (n > MAX_CACHED_SECTION) {
		h = build_head(b, n, c->redact, 0);
		if (h)
			h->id = ++c->next_id;
		return h;
	}
	hash = (uint32_t)wisp_hash(b, n);
	slot = &c->slots[hash & c->mask];
	h = *slot;
	/* The bytes decide; the hash only picks the slot. */
	if (h && h->hash == hash && h->len == n && memcmp(h->bytes, b, n) == 0) {
		h->refs++;
		return h;
	}
	h = build_head(b, n, c->redact, 1);
	if (!h)
		return NULL;
	h->hash = hash;
	h->id = ++c->next_id;
	h1_head_unref(*slot);
	*slot = h;
	h->refs++;
	return h;
}

/* ---- the parser ---- */

void h1_init(struct h1_parser *p, struct h1_host host, const struct h1_limits *limits, struct h1_counters ctr,
	     struct h1_heads *heads)
{
	memset(p, 0, sizeof(*p));
	p->state = H1_IDLE;
	p->host = host;
	p->limits = limits;
	p->ctr = ctr;
	p->heads = heads;
	p->at_line_start = 1;
}

uint64_t h1_buffered(const struct h1_parser *p)
{
	return (uint64_t)p->head_cap + (p->cur ? p->cur->body_cap : 0) + p->carry_len + (p->line_buf ? H1_MAX_CHUNK_LINE : 0);
}

static void reset(struct h1_parser *p)
{
	struct h1_msg *m = p->cur;

	p->cur = NULL;
	h1_msg_unref(m);
	p->head_len = 0;
	p->carry_len = 0;
	p->line_len = 0;
	p->skip_asked = 0;
	free(p->line_buf);
	p->line_buf = NULL;
	if (p->head_cap > 4096) {
		free(p->head_buf);
		p->head_buf = NULL;
		p->head_cap = 0;
	}
}

void h1_release(struct h1_parser *p)
{
	reset(p);
	free(p->head_buf);
	p->head_buf = NULL;
	p->head_cap = 0;
	h1_head_unref(p->last_head);
	p->last_head = NULL;
}

void h1_start_mid_stream(struct h1_parser *p)
{
	p->state = H1_RESYNC;
	p->at_line_start = 1;
}

void h1_tunnel(struct h1_parser *p)
{
	reset(p);
	p->state = H1_TUNNEL;
}

void h1_resume(struct h1_parser *p)
{
	if (p->state == H1_HOLD) {
		p->state = H1_RESYNC;
		p->at_line_start = 1;
		p->resync_bytes = 0;
	}
}

static void enter_resync(struct h1_parser *p, int at_line_start)
{
	(*p->ctr.resyncs)++;
	reset(p);
	p->state = H1_RESYNC;
	p->at_line_start = (uint8_t)at_line_start;
	p->resync_bytes = 0;
}

/* Drops the message in flight and resyncs. */
static void drop(struct h1_parser *p, uint64_t ts, int at_line_start)
{
	struct h1_msg *m = p->cur;

	if (m)
		h1_msg_ref(m);
	enter_resync(p, at_line_start);
	p->host.on_drop(p->host.ctx, m, 1, ts);
	h1_msg_unref(m);
}

static void finish(struct h1_parser *p, uint64_t ts)
{
	struct h1_msg *m = p->cur;

	m->last_ts = ts;
	m->complete = 1;
	p->cur = NULL;
	p->skip_asked = 0;
	free(p->line_buf);
	p->line_buf = NULL;
	p->state = m->upgrade ? (m->kind == H1_REQUEST ? H1_HOLD : H1_TUNNEL) : H1_IDLE;
	p->host.on_message(p->host.ctx, m);
	h1_msg_unref(m);
}

static void head_error(struct h1_parser *p, uint64_t ts)
{
	(*p->ctr.parse_errors)++;
	drop(p, ts, 1);
}

static void append_body(struct h1_parser *p, const uint8_t *b, size_t n)
{
	struct h1_msg *m = p->cur;
	size_t k;

	m->body_size += n;
	if (m->body_gap || m->body_len >= m->body_cap || n == 0)
		return;
	k = m->body_cap - m->body_len;
	if (k > n)
		k = n;
	memcpy(m->body + m->body_len, b, k);
	m->body_len += (uint32_t)k;
}

/* Consumes what is left of a fixed-length body or chunk from b[0, n); returns the bytes taken. */
static size_t take_body(struct h1_parser *p, const uint8_t *b, size_t n)
{
	size_t k = p->remaining < n ? (size_t)p->remaining : n;

	append_body(p, b, k);
	p->remaining -= k;
	return k;
}

/*
 * Past the kept prefix, the rest of a long body is not needed: ask the kernel not to copy it
 * (`end` is the body's end position, ~0 when it runs to the close).
 */
static void maybe_skip(struct h1_parser *p, uint64_t end, uint64_t left)
{
	uint32_t over = p->limits->skip_body_over;

	if (p->skip_asked || over == 0 || p->cur->body_len < p->cur->body_cap || left <= over)
		return;
	p->skip_asked = 1;
	p->host.skip_body(p->host.ctx, end);
}

static void parse_head(struct h1_parser *p, const uint8_t *b, size_t n, uint64_t ts)
{
	const uint8_t *nlp = find_lf(b, 0, n);
	size_t nl = nlp ? (size_t)(nlp - b) : n, le = nl > 0 && b[nl - 1] == CR ? nl - 1 : nl;
	struct h1_start st;
	struct h1_head *head;
	struct h1_msg *m;
	enum h1_state next;
	uint64_t length;
	uint32_t limit = p->limits->body_prefix_bytes, cap;

	if (!nlp || !h1_parse_start_line(b, le, &st))
		return head_error(p, ts);
	head = p->last_head;
	/* A connection repeats its own section most of all: compare with it before hashing. */
	if (head && head->bytes && head->len == n - nl - 1 && memcmp(head->bytes, b + nl + 1, head->len) == 0) {
		head->refs++;
	} else {
		head = h1_heads_get(p->heads, b + nl + 1, n - nl - 1);
		if (!head)
			return head_error(p, ts);
		h1_head_unref(p->last_head);
		head->refs++;
		p->last_head = head;
	}
	length = head->content_length < 0 ? 0 : (uint64_t)head->content_length;
	if (st.status == 0) {
		if (head->has_te) {
			if (!head->chunked) {
				h1_head_unref(head);
				return head_error(p, ts);
			}
			next = H1_CHUNK_SIZE;
		} else {
			next = length > 0 ? H1_BODY_FIXED : H1_IDLE;
		}
		cap = next == H1_IDLE ? 0 : next == H1_BODY_FIXED && length < limit ? (uint32_t)length : limit;
		m = msg_new(b, st.method_len, b + st.text_off, st.text_len, cap);
		if (!m) {
			h1_head_unref(head);
			return head_error(p, ts);
		}
		m->kind = H1_REQUEST;
		/* Methods are case-sensitive (RFC 9110 §9.1). */
		m->method_class = st.method_len == 4 && memcmp(b, "HEAD", 4) == 0      ? H1_M_HEAD
				  : st.method_len == 7 && memcmp(b, "CONNECT", 7) == 0 ? H1_M_CONNECT
										       : H1_M_OTHER;
		m->upgrade = m->method_class == H1_M_CONNECT || head->upgrade;
	} else {
		enum h1_method_class mc;
		int tunnel;

		if (st.status < 100) {
			h1_head_unref(head);
			return head_error(p, ts);
		}
		if (st.status < 200 && st.status != 101) {
			(*p->ctr.interim_responses)++;
			h1_head_unref(head);
			p->state = H1_IDLE;
			return;
		}
		mc = p->host.request_method(p->host.ctx);
		tunnel = st.status == 101 || (mc == H1_M_CONNECT && st.status < 300);
		if (tunnel || mc == H1_M_HEAD || st.status == 204 || st.status == 304)
			next = H1_IDLE;
		else if (head->has_te)
			next = head->chunked ? H1_CHUNK_SIZE : H1_BODY_EOF;
		else if (head->content_length >= 0)
			next = length > 0 ? H1_BODY_FIXED : H1_IDLE;
		else
			next = H1_BODY_EOF;
		cap = next == H1_IDLE ? 0 : next == H1_BODY_FIXED && length < limit ? (uint32_t)length : limit;
		m = msg_new(NULL, 0, b + st.text_off, st.text_len, cap);
		if (!m) {
			h1_head_unref(head);
			return head_error(p, ts);
		}
		m->kind = H1_RESPONSE;
		m->status = st.status;
		m->upgrade = (uint8_t)tunnel;
	}
	m->major = st.major;
	m->minor = st.minor;
	m->head = head;
	m->head_bytes = (uint32_t)n;
	m->first_ts = p->msg_first_ts;
	m->last_ts = ts;
	p->cur = m;
	p->remaining = length;
	p->host.on_head(p->host.ctx, m);
	if (next == H1_IDLE) {
		finish(p, ts);
	} else {
		p->state = next;
		p->line_len = 0;
	}
}

/* False when the first line is complete and cannot be a start line. */
static int check_start(struct h1_parser *p, const uint8_t *b, size_t s, size_t end)
{
	const uint8_t *nl;

	if (p->start_checked)
		return 1;
	nl = find_lf(b, s, end);
	if (!nl)
		return 1;
	p->start_checked = 1;
	return plausible_start_line(b, s, (size_t)(nl - b));
}

/* The first line in b[off, end) is not a start line: skip it and resync after it. */
static size_t bad_start(struct h1_parser *p, const uint8_t *b, size_t off, size_t end)
{
	const uint8_t *nl = find_lf(b, off, end);

	(*p->ctr.parse_errors)++;
	drop(p, p->msg_first_ts, 1);
	return nl ? (size_t)(nl - b) + 1 : end;
}

static int head_reserve(struct h1_parser *p, uint32_t need)
{
	uint32_t cap;
	uint8_t *nb;

	if (need <= p->head_cap)
		return 1;
	cap = need * 2 > 1024 ? need * 2 : 1024;
	if (cap > p->limits->max_header_bytes)
		cap = p->limits->max_header_bytes;
	if (cap < need)
		cap = need;
	nb = realloc(p->head_buf, cap);
	if (!nb)
		return 0;
	p->head_buf = nb;
	p->head_cap = cap;
	return 1;
}

static size_t head(struct h1_parser *p, const uint8_t *b, size_t off, size_t end, uint64_t ts)
{
	uint32_t max = p->limits->max_header_bytes, prev, take;
	long e;

	if (p->head_len == 0) {
		/* Fast path: the whole head is in this read; parse it in place. */
		size_t lim = end - off < max ? end : off + max;

		if (!check_start(p, b, off, end))
			return bad_start(p, b, off, end);
		e = find_head_end(b, off, lim);
		if (e >= 0) {
			parse_head(p, b + off, (size_t)e - off, ts);
			return (size_t)e;
		}
		if (end - off >= max) {
			(*p->ctr.oversized_headers)++;
			drop(p, ts, 0);
			return off + max;
		}
	}
	prev = p->head_len;
	take = end - off < (size_t)(max - prev) ? (uint32_t)(end - off) : max - prev;
	if (!head_reserve(p, prev + take)) {
		(*p->ctr.oversized_headers)++;
		drop(p, ts, 0);
		return end;
	}
	memcpy(p->head_buf + prev, b + off, take);
	p->head_len = prev + take;
	if (!check_start(p, p->head_buf, 0, p->head_len)) {
		const uint8_t *nl = find_lf(p->head_buf, 0, p->head_len);
		size_t consumed = nl ? (size_t)(nl - p->head_buf) + 1 - prev : take;

		p->head_len = 0;
		(*p->ctr.parse_errors)++;
		drop(p, ts, nl != NULL);
		return off + consumed;
	}
	e = find_head_end(p->head_buf, prev > 3 ? prev - 3 : 0, p->head_len);
	if (e >= 0) {
		p->head_len = 0;
		parse_head(p, p->head_buf, (size_t)e, ts);
		return off + ((size_t)e - prev);
	}
	if (p->head_len >= max) {
		(*p->ctr.oversized_headers)++;
		drop(p, ts, 0);
	}
	return off + take;
}

/* chunk-size [ chunk-ext ] (RFC 9112 §7.1), the line without its LF; -1 when invalid. */
static int64_t parse_chunk_size(const uint8_t *l, size_t len)
{
	size_t i = 0;
	int64_t size = 0;

	if (len > 0 && l[len - 1] == CR)
		len--;
	for (; i < len; i++) {
		uint8_t c = l[i];
		int d = c >= '0' && c <= '9' ? c - '0' : c >= 'a' && c <= 'f' ? c - 'a' + 10 : c >= 'A' && c <= 'F' ? c - 'A' + 10 : -1;

		if (d < 0)
			break;
		if (i >= 12)
			return -1;
		size = size * 16 + d;
	}
	if (i == 0)
		return -1;
	while (i < len && (l[i] == ' ' || l[i] == '\t'))
		i++;
	if (i < len && l[i] != ';')
		return -1;
	return size;
}

static size_t chunk_size_line(struct h1_parser *p, const uint8_t *b, size_t off, size_t end)
{
	const uint8_t *nlp = find_lf(b, off, end);
	size_t stop = nlp ? (size_t)(nlp - b) : end, n = stop - off;
	int64_t size;

	if (p->line_len + n > H1_MAX_CHUNK_LINE) {
		(*p->ctr.invalid_chunks)++;
		drop(p, p->cur->last_ts, 0);
		return stop;
	}
	if (p->line_len == 0 && nlp) {
		/* The whole line is here (the common case): parse it in place. */
		size = parse_chunk_size(b + off, n);
	} else {
		/* A line split across reads is collected; the buffer lives until the message ends. */
		if (!p->line_buf) {
			p->line_buf = malloc(H1_MAX_CHUNK_LINE);
			if (!p->line_buf) {
				(*p->ctr.invalid_chunks)++;
				drop(p, p->cur->last_ts, 0);
				return stop;
			}
		}
		memcpy(p->line_buf + p->line_len, b + off, n);
		p->line_len += (uint32_t)n;
		if (!nlp)
			return end;
		size = parse_chunk_size(p->line_buf, p->line_len);
	}
	p->line_len = 0;
	if (size < 0) {
		(*p->ctr.invalid_chunks)++;
		drop(p, p->cur->last_ts, 1);
		return stop + 1;
	}
	if (size == 0) {
		p->state = H1_TRAILER;
		p->trailer_bytes = 0;
		p->at_line_start = 1;
	} else {
		p->remaining = (uint64_t)size;
		p->state = H1_CHUNK_DATA;
	}
	return stop + 1;
}

/* Trailer fields after the last chunk, up to an empty line; bounded like a header section. */
static size_t trailer(struct h1_parser *p, const uint8_t *b, size_t off, size_t end, uint64_t ts)
{
	while (off < end) {
		uint8_t c = b[off];
		const uint8_t *nl;
		size_t stop;

		if (p->at_line_start && c == LF) {
			finish(p, ts);
			return off + 1;
		}
		if (p->at_line_start && c == CR) {
			off++;
			continue;
		}
		nl = find_lf(b, off, end);
		stop = nl ? (size_t)(nl - b) + 1 : end;
		p->trailer_bytes += (uint32_t)(stop - off);
		if (p->trailer_bytes > p->limits->max_header_bytes) {
			(*p->ctr.oversized_headers)++;
			drop(p, ts, 0);
			return stop;
		}
		p->at_line_start = nl != NULL;
		off = stop;
	}
	return off;
}

static size_t resync(struct h1_parser *p, const uint8_t *b, size_t off, size_t end, uint64_t ts)
{
	if (p->carry_len > 0) {
		uint8_t tmp[2 * H1_MAX_TOKEN];
		size_t take = end - off < H1_MAX_TOKEN ? end - off : H1_MAX_TOKEN, len = p->carry_len + take;
		int r;

		memcpy(tmp, p->carry, p->carry_len);
		memcpy(tmp + p->carry_len, b + off, take);
		r = match_start(tmp, len);
		if (r == MATCH) {
			/* The carried bytes begin a head: they are its first bytes. */
			uint32_t held = p->carry_len;

			p->carry_len = 0;
			p->state = H1_HEAD;
			p->start_checked = 0;
			p->msg_first_ts = p->carry_ts;
			p->resync_bytes = 0;
			if (held > p->limits->max_header_bytes || !head_reserve(p, held)) {
				(*p->ctr.oversized_headers)++;
				drop(p, ts, 0);
				return off;
			}
			memcpy(p->head_buf, p->carry, held);
			p->head_len = held;
			return off;
		}
		if (r == NEED) {
			size_t keep = len < H1_MAX_TOKEN ? len : H1_MAX_TOKEN;

			memcpy(p->carry, tmp, keep);
			p->carry_len = (uint32_t)keep;
			return end;
		}
		p->carry_len = 0;
		p->at_line_start = 0;
	}
	while (off < end) {
		const uint8_t *nl;

		if (p->at_line_start) {
			int r = match_start(b + off, end - off);

			if (r == MATCH) {
				p->state = H1_IDLE;
				p->resync_bytes = 0;
				return off;
			}
			if (r == NEED) {
				memcpy(p->carry, b + off, end - off);
				p->carry_len = (uint32_t)(end - off);
				p->carry_ts = ts;
				return end;
			}
			p->at_line_start = 0;
		}
		nl = find_lf(b, off, end);
		if (!nl) {
			p->resync_bytes += end - off;
			return end;
		}
		p->resync_bytes += (size_t)(nl - b) + 1 - off;
		off = (size_t)(nl - b) + 1;
		p->at_line_start = 1;
	}
	return end;
}

void h1_data(struct h1_parser *p, uint64_t pos, const uint8_t *b, size_t n, uint64_t ts)
{
	size_t off = 0;

	while (off < n) {
		switch (p->state) {
		case H1_IDLE:
			while (off < n && (b[off] == CR || b[off] == LF))
				off++;
			if (off < n) {
				p->state = H1_HEAD;
				p->head_len = 0;
				p->start_checked = 0;
				p->msg_first_ts = ts;
			}
			break;
		case H1_HEAD:
			off = head(p, b, off, n, ts);
			break;
		case H1_BODY_FIXED:
			off += take_body(p, b + off, n - off);
			if (p->remaining == 0)
				finish(p, ts);
			else
				maybe_skip(p, pos + off + p->remaining, p->remaining);
			break;
		case H1_CHUNK_SIZE:
			off = chunk_size_line(p, b, off, n);
			break;
		case H1_CHUNK_DATA:
			off += take_body(p, b + off, n - off);
			if (p->remaining == 0) {
				p->state = H1_CHUNK_CRLF;
				p->line_len = 0;
			}
			break;
		case H1_CHUNK_CRLF: {
			/* Tolerates a bare LF as RFC 9112 §2.2 allows. */
			uint8_t c = b[off++];

			if (c == LF) {
				p->state = H1_CHUNK_SIZE;
				p->line_len = 0;
			} else if (c != CR || p->line_len++ > 0) {
				(*p->ctr.invalid_chunks)++;
				drop(p, ts, 0);
			}
			break;
		}
		case H1_TRAILER:
			off = trailer(p, b, off, n, ts);
			break;
		case H1_BODY_EOF:
			append_body(p, b + off, n - off);
			off = n;
			if (p->cur->body_size > p->limits->body_prefix_bytes)
				maybe_skip(p, UINT64_MAX, p->cur->body_size - p->limits->body_prefix_bytes);
			break;
		case H1_RESYNC:
			off = resync(p, b, off, n, ts);
			break;
		case H1_HOLD:
		case H1_TUNNEL:
			off = n;
			break;
		}
	}
	if (p->cur && (p->state == H1_BODY_FIXED || p->state == H1_CHUNK_DATA || p->state == H1_BODY_EOF ||
		       p->state == H1_CHUNK_SIZE || p->state == H1_CHUNK_CRLF || p->state == H1_TRAILER))
		p->cur->last_ts = ts;
}

void h1_gap(struct h1_parser *p, uint64_t len, uint64_t ts)
{
	struct h1_msg *m = p->cur;

	switch (p->state) {
	case H1_BODY_FIXED:
		m->body_gap = 1;
		m->last_ts = ts;
		if (len <= p->remaining) {
			m->body_size += len;
			p->remaining -= len;
			if (p->remaining == 0)
				finish(p, ts);
			return;
		}
		m->body_size += p->remaining;
		p->remaining = 0;
		finish(p, ts);
		enter_resync(p, 1);
		p->host.on_drop(p->host.ctx, NULL, 0, ts);
		return;
	case H1_CHUNK_DATA:
		/* The CRLF after the chunk data is known, so a gap may swallow it too. */
		if (len <= p->remaining + 2) {
			uint64_t over = len > p->remaining ? len - p->remaining : 0;

			m->body_gap = 1;
			m->body_size += len < p->remaining ? len : p->remaining;
			m->last_ts = ts;
			p->remaining = len < p->remaining ? p->remaining - len : 0;
			if (p->remaining == 0) {
				p->state = over == 2 ? H1_CHUNK_SIZE : H1_CHUNK_CRLF;
				p->line_len = over == 1 ? 1 : 0;
			}
			return;
		}
		drop(p, ts, 1);
		return;
	case H1_BODY_EOF:
		m->body_gap = 1;
		m->body_size += len;
		m->last_ts = ts;
		return;
	case H1_IDLE:
		enter_resync(p, 1);
		p->host.on_drop(p->host.ctx, NULL, 0, ts);
		return;
	case H1_HEAD:
	case H1_CHUNK_SIZE:
	case H1_CHUNK_CRLF:
	case H1_TRAILER:
		drop(p, ts, 1);
		return;
	case H1_RESYNC:
		p->carry_len = 0;
		p->at_line_start = 1;
		return;
	case H1_HOLD:
	case H1_TUNNEL:
		return;
	}
}

void h1_end(struct h1_parser *p, uint64_t ts)
{
	if (p->state == H1_BODY_EOF)
		finish(p, p->cur->last_ts);
	else if (p->state != H1_IDLE && p->state != H1_RESYNC && p->state != H1_HOLD && p->state != H1_TUNNEL)
		p->host.on_drop(p->host.ctx, p->cur, 1, ts);
	reset(p);
	p->state = H1_IDLE;
}
