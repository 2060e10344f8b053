// SPDX-License-Identifier: Apache-2.0
/* TLS handshakes per connection, from ordered bytes to rows; see handshakes.h. */
#include "handshakes.h"
#include "tls.h"
#include "../../http/native/buf.h"
#include "../../http/native/reassembly.h"
#include "../../native/idtable.h"

#include <stdlib.h>
#include <string.h>

/* Records of a connection's handshake, per direction. */
struct hs_dir {
	struct reasm reasm;
	struct hs_conn *conn;
	uint8_t dir;
	uint8_t hdr[5];
	uint8_t hdr_len;     /* bytes of the current record's header read */
	uint8_t type;        /* the current record's content type */
	uint32_t body_left;  /* bytes of the current record's body still to come */
	struct buf msg;      /* the handshake message being assembled */
	uint32_t msg_need;   /* its whole length, header included, once known */
	uint8_t stopped;     /* a gap, malformed bytes or the cap: no more records are read */
	uint8_t encrypted;   /* its handshake messages are encrypted from here on */
	uint8_t ccs;         /* it sent ChangeCipherSpec */
	uint64_t ccs_ts;
	uint64_t app_ts;     /* its last application_data record before the ServerHello was read */
	uint64_t bytes;      /* bytes read in order */
};

struct hs_conn {
	struct wisp_id_entry e; /* by kernel id, in LRU order */
	struct handshakes *h;
	struct hs_meta meta;
	struct hs_dir dir[2];
	int8_t client_dir;   /* the direction that carried the ClientHello; -1 before */
	uint8_t have_sh;
	uint8_t have_cert;
	uint8_t done;        /* the row is made: nothing more to read */
	uint8_t malformed;
	uint8_t truncated;
	uint16_t version;
	uint16_t cipher;
	uint64_t first_ts;   /* the first record */
	uint64_t ch_ts;
	uint64_t sh_ts;
	uint64_t end_ts;
	uint64_t last_ts;
	int64_t not_after_ns;
	uint64_t buffered;
	struct buf text[6];  /* sni, alpn offered, alpn, versions offered, subject, issuer */
	struct buf sans;
};

enum { T_SNI, T_ALPN_OFFERED, T_ALPN, T_VERSIONS_OFFERED, T_SUBJECT, T_ISSUER };

struct handshakes {
	const struct wisp_conns_options *o;
	struct wisp_conns_counters *c;
	struct rows_out *out;
	wisp_conns_ctl_fn ctl;
	void *ctl_ctx;
	struct reasm_limits rlim;
	uint64_t duplicate_bytes;    /* the reassembly's own counters; not reported */
	uint64_t reorder_overflows;
	struct wisp_id_table conns;
	uint32_t count;
};

/* The latest a certificate's not-after can be stored as: the last whole second of TIME64NS. */
#define MAX_NOT_AFTER_S 9223372036LL

static struct hs_conn *conn_of(struct wisp_lru_link *l)
{
	return WISP_CONTAINER(l, struct hs_conn, e.lru);
}

static struct hs_conn *find(struct handshakes *h, uint64_t id)
{
	return WISP_CONTAINER(wisp_idt_find(&h->conns, id), struct hs_conn, e);
}

static uint64_t conn_bytes(const struct hs_conn *c)
{
	uint64_t n = 0;

	for (int d = 0; d < 2; d++)
		n += reasm_buffered(&c->dir[d].reasm) + c->dir[d].msg.cap;
	for (int i = 0; i < 6; i++)
		n += c->text[i].cap;
	return n + c->sans.cap + sizeof(*c);
}

static void remove_conn(struct handshakes *h, struct hs_conn *c)
{
	wisp_idt_remove(&h->conns, &c->e);
	for (int d = 0; d < 2; d++) {
		reasm_discard(&c->dir[d].reasm);
		buf_free(&c->dir[d].msg);
	}
	for (int i = 0; i < 6; i++)
		buf_free(&c->text[i]);
	buf_free(&c->sans);
	h->c->tls_buffered -= c->buffered;
	h->count--;
	free(c);
}

/* ---- the row ---- */

static void put_span(struct wisp_row *r, int col, const struct buf *b)
{
	r->str[col] = b->failed ? NULL : b->p;
	r->str_len[col] = b->failed ? 0 : (uint32_t)b->len;
}

/* Column order of wisp_tls_handshakes_schema (conns.c). */
enum { N_REMOTE_PORT, N_LOCAL_PORT, N_TRACE_ROLE, N_DURATION, N_NOT_AFTER };
enum { S_REMOTE_ADDR, S_LOCAL_ADDR, S_SNI, S_ALPN_OFFERED, S_ALPN, S_VERSIONS_OFFERED, S_VERSION, S_CIPHER, S_SUBJECT,
       S_ISSUER, S_SANS };

/* Makes the connection's row (once, when its ClientHello was read) and asks the kernel to stop copying it. */
static void finish(struct handshakes *h, struct hs_conn *c, uint64_t ts)
{
	struct wisp_row r;
	struct buf version = { 0 }, cipher = { 0 };
	uint8_t role = c->meta.role;

	if (c->done)
		return;
	c->done = 1;
	if (h->ctl) {
		static const uint64_t none[2] = { 0, 0 };

		h->c->mute_requests++;
		h->ctl(h->ctl_ctx, c->e.id, none, 1);
	}
	if (c->client_dir < 0)
		return;
	if (c->end_ts == 0)
		h->c->tls_incomplete++;
	if (c->truncated)
		h->c->tls_truncated++;
	if (role == 0)
		role = c->client_dir == WISP_DIR_EGRESS ? 1 : 2;
	memset(&r, 0, sizeof(r));
	r.time_ns = (int64_t)(c->end_ts ? c->end_ts : ts > c->last_ts ? ts : c->last_ts);
	r.num[N_REMOTE_PORT] = c->meta.remote_port;
	r.num[N_LOCAL_PORT] = c->meta.local_port;
	r.num[N_TRACE_ROLE] = role;
	r.num[N_DURATION] = c->end_ts > c->ch_ts ? (double)(c->end_ts - c->ch_ts) : 0;
	r.num[N_NOT_AFTER] = (double)c->not_after_ns;
	r.str[S_REMOTE_ADDR] = (const uint8_t *)c->meta.remote_addr;
	r.str_len[S_REMOTE_ADDR] = c->meta.remote_len;
	r.str[S_LOCAL_ADDR] = (const uint8_t *)c->meta.local_addr;
	r.str_len[S_LOCAL_ADDR] = c->meta.local_len;
	put_span(&r, S_SNI, &c->text[T_SNI]);
	put_span(&r, S_ALPN_OFFERED, &c->text[T_ALPN_OFFERED]);
	put_span(&r, S_ALPN, &c->text[T_ALPN]);
	put_span(&r, S_VERSIONS_OFFERED, &c->text[T_VERSIONS_OFFERED]);
	if (c->have_sh) {
		tls_version_text(c->version, &version);
		tls_cipher_text(c->cipher, &cipher);
	}
	put_span(&r, S_VERSION, &version);
	put_span(&r, S_CIPHER, &cipher);
	put_span(&r, S_SUBJECT, &c->text[T_SUBJECT]);
	put_span(&r, S_ISSUER, &c->text[T_ISSUER]);
	put_span(&r, S_SANS, &c->sans);
	r.proc = &c->meta.proc;
	rows_out_append(h->out, &r);
	buf_free(&version);
	buf_free(&cipher);
}

/* The handshake is done once both sides switched to encryption (see handshakes.h). */
static void check_done(struct handshakes *h, struct hs_conn *c)
{
	struct hs_dir *cli, *srv;

	if (c->done || !c->have_sh || c->client_dir < 0)
		return;
	cli = &c->dir[c->client_dir];
	srv = &c->dir[!c->client_dir];
	if (c->version == TLS_VERSION_1_3) {
		if (cli->app_ts >= c->sh_ts && cli->app_ts != 0)
			c->end_ts = cli->app_ts;
	} else if (cli->ccs && srv->ccs) {
		c->end_ts = cli->ccs_ts > srv->ccs_ts ? cli->ccs_ts : srv->ccs_ts;
	}
	if (c->end_ts)
		finish(h, c, c->end_ts);
}

/* ---- handshake messages ---- */

static void malformed(struct hs_dir *d)
{
	if (!d->conn->malformed)
		d->conn->h->c->tls_malformed++;
	d->conn->malformed = 1;
	d->stopped = 1;
}

static void certificate(struct hs_conn *c, const uint8_t *b, uint32_t n)
{
	struct tls_span der;
	struct x509_cert cert;
	int r = tls_first_certificate(b, n, &der);

	if (r == 1)
		return;
	if (r < 0 || x509_parse(der.p, der.n, &cert) || x509_name_text(cert.subject, &c->text[T_SUBJECT]) ||
	    x509_name_text(cert.issuer, &c->text[T_ISSUER])) {
		c->text[T_SUBJECT].len = c->text[T_ISSUER].len = 0;
		malformed(&c->dir[!c->client_dir]);
		return;
	}
	x509_sans_text(cert.sans, &c->sans);
	if (cert.not_after > MAX_NOT_AFTER_S)
		cert.not_after = MAX_NOT_AFTER_S;
	c->not_after_ns = cert.not_after < 0 ? 0 : cert.not_after * 1000000000LL;
	c->have_cert = 1;
}

static void message(struct hs_dir *d, uint8_t type, const uint8_t *b, uint32_t n, uint64_t ts)
{
	struct hs_conn *c = d->conn;

	if (type == TLS_HS_CLIENT_HELLO && c->client_dir < 0) {
		struct tls_client_hello ch;

		if (tls_client_hello(b, n, &ch)) {
			malformed(d);
			return;
		}
		c->client_dir = (int8_t)d->dir;
		c->ch_ts = ts;
		tls_printable_text(ch.sni, &c->text[T_SNI]);
		tls_alpn_text(ch.alpn, &c->text[T_ALPN_OFFERED]);
		if (ch.versions.n)
			tls_versions_text(ch.versions, &c->text[T_VERSIONS_OFFERED]);
		else
			tls_version_text(ch.legacy_version, &c->text[T_VERSIONS_OFFERED]);
		return;
	}
	if (type == TLS_HS_SERVER_HELLO && c->client_dir >= 0 && d->dir != c->client_dir && !c->have_sh) {
		struct tls_server_hello sh;

		if (tls_server_hello(b, n, &sh)) {
			malformed(d);
			return;
		}
		if (sh.retry)
			return;
		c->have_sh = 1;
		c->sh_ts = ts;
		c->version = sh.version;
		c->cipher = sh.cipher;
		tls_printable_text(sh.alpn, &c->text[T_ALPN]);
		if (c->version == TLS_VERSION_1_3) {
			/* From here on both sides' handshake messages are encrypted. */
			d->encrypted = 1;
			c->dir[c->client_dir].encrypted = 1;
		}
		/* The client's records may have been read first (the other direction). */
		check_done(c->h, c);
		return;
	}
	if (type == TLS_HS_CERTIFICATE && c->have_sh && !c->have_cert && d->dir != c->client_dir)
		certificate(c, b, n);
}

/* Handshake-record bytes of one direction: messages may span records and share them. */
static void handshake_bytes(struct hs_dir *d, const uint8_t *b, uint32_t n, uint64_t ts)
{
	const struct wisp_conns_options *o = d->conn->h->o;

	while (n > 0 && !d->stopped) {
		uint32_t take;

		if (d->msg.len < 4) {
			take = 4 - (uint32_t)d->msg.len < n ? 4 - (uint32_t)d->msg.len : n;
			buf_put(&d->msg, b, take);
			if (d->msg.len == 4) {
				d->msg_need = 4 + ((uint32_t)d->msg.p[1] << 16 | (uint32_t)d->msg.p[2] << 8 | d->msg.p[3]);
				if (d->msg_need > o->tls_max_bytes) {
					d->conn->truncated = 1;
					d->stopped = 1;
				}
			}
		} else {
			take = d->msg_need - (uint32_t)d->msg.len < n ? d->msg_need - (uint32_t)d->msg.len : n;
			buf_put(&d->msg, b, take);
		}
		if (d->msg.failed) {
			d->stopped = 1;
			return;
		}
		b += take;
		n -= take;
		if (d->msg.len >= 4 && d->msg.len == d->msg_need) {
			message(d, d->msg.p[0], d->msg.p + 4, d->msg_need - 4, ts);
			d->msg.len = 0;
		}
	}
}

/* A record header was read: what its type says before its body arrives. */
static void record_start(struct hs_dir *d, uint64_t ts)
{
	struct hs_conn *c = d->conn;
	uint32_t len = (uint32_t)d->hdr[3] << 8 | d->hdr[4];

	d->type = d->hdr[0];
	d->body_left = len;
	if (d->type < TLS_CT_CHANGE_CIPHER_SPEC || d->type > TLS_CT_HEARTBEAT || d->hdr[1] != 3 || len > TLS_MAX_RECORD ||
	    (d->type == TLS_CT_HANDSHAKE && len == 0)) {
		malformed(d);
		return;
	}
	if (d->type == TLS_CT_CHANGE_CIPHER_SPEC && !d->ccs) {
		d->ccs = 1;
		d->ccs_ts = ts;
		/* TLS ≤ 1.2: what this side sends next is encrypted. (1.3 sends it only for middleboxes.) */
		if (c->version != TLS_VERSION_1_3)
			d->encrypted = 1;
	} else if (d->type == TLS_CT_APPLICATION_DATA && c->client_dir == (int8_t)d->dir &&
		   (d->app_ts == 0 || d->app_ts < c->sh_ts)) {
		d->app_ts = ts;
	}
	check_done(c->h, c);
}

/* The reassembly's sink: bytes of one direction, in order. */
static void dir_data(void *ctx, uint64_t pos, const uint8_t *b, size_t n, uint64_t ts)
{
	struct hs_dir *d = ctx;
	const struct wisp_conns_options *o = d->conn->h->o;

	(void)pos;
	if (d->stopped || d->conn->done)
		return;
	if (d->bytes + n > o->tls_max_bytes) {
		d->conn->truncated = 1;
		n = d->bytes < o->tls_max_bytes ? (size_t)(o->tls_max_bytes - d->bytes) : 0;
	}
	d->bytes += n;
	while (n > 0 && !d->stopped && !d->conn->done) {
		uint32_t take;

		if (d->hdr_len < 5) {
			take = (uint32_t)(5 - d->hdr_len) < n ? (uint32_t)(5 - d->hdr_len) : (uint32_t)n;
			memcpy(d->hdr + d->hdr_len, b, take);
			d->hdr_len += (uint8_t)take;
			b += take;
			n -= take;
			if (d->hdr_len == 5)
				record_start(d, ts);
			continue;
		}
		take = d->body_left < n ? d->body_left : (uint32_t)n;
		if (d->type == TLS_CT_HANDSHAKE && !d->encrypted)
			handshake_bytes(d, b, take, ts);
		b += take;
		n -= take;
		d->body_left -= take;
		if (d->body_left == 0)
			d->hdr_len = 0;
	}
	if (d->conn->truncated && d->bytes >= o->tls_max_bytes)
		d->stopped = 1;
}

/* A gap: the record layer cannot be followed past it. */
static void dir_gap(void *ctx, uint64_t pos, uint64_t len, uint64_t ts)
{
	struct hs_dir *d = ctx;

	(void)pos;
	(void)ts;
	if (d->stopped || d->conn->done)
		return;
	d->conn->h->c->tls_gaps += len;
	d->stopped = 1;
}

static struct hs_conn *conn_new(struct handshakes *h, uint64_t id, const struct hs_meta *meta, uint32_t tgid, uint64_t ts)
{
	struct hs_conn *c = calloc(1, sizeof(*c)), *old;

	if (!c)
		return NULL;
	c->e.id = id;
	c->h = h;
	c->client_dir = -1;
	c->first_ts = c->last_ts = ts;
	if (meta)
		c->meta = *meta;
	else
		c->meta.proc.pid = tgid;
	for (uint8_t d = 0; d < 2; d++) {
		struct reasm_sink sink = { dir_data, dir_gap, &c->dir[d] };
		struct reasm_counters rc = { &h->duplicate_bytes, &h->reorder_overflows };

		c->dir[d].conn = c;
		c->dir[d].dir = d;
		reasm_init(&c->dir[d].reasm, sink, &h->rlim, rc);
	}
	wisp_idt_insert(&h->conns, &c->e);
	h->count++;
	old = conn_of(h->conns.lru.head);
	if (h->count > h->o->max_handshakes && old != c) {
		h->c->tls_evictions++;
		finish(h, old, ts);
		remove_conn(h, old);
	}
	return c;
}

/* Keeps the bytes held by all handshakes under their bound, giving up the least recently used. */
static void account(struct handshakes *h, struct hs_conn *c)
{
	uint64_t b = conn_bytes(c);

	h->c->tls_buffered += b - c->buffered;
	c->buffered = b;
	while (h->c->tls_buffered > h->o->tls_max_buffered && h->conns.lru.head) {
		struct hs_conn *old = conn_of(h->conns.lru.head);

		h->c->tls_evictions++;
		finish(h, old, old->last_ts);
		remove_conn(h, old);
	}
}

void hs_data(struct handshakes *h, uint64_t conn_id, const struct hs_meta *meta, const struct wisp_data_event *ev,
	     const uint8_t *data, uint64_t ts)
{
	struct hs_conn *c = find(h, conn_id);
	uint8_t dir = ev->direction;

	h->c->tls_records++;
	if (!c) {
		/* The kernel copies a TLS connection from a record that starts a handshake on; anything
		 * else is the tail of one already reported, in flight when it was muted. */
		if (ev->chunk_offset != 0 || ev->data_len < 2 || data[0] != TLS_CT_HANDSHAKE || data[1] != 3) {
			h->c->tls_late_records++;
			return;
		}
		c = conn_new(h, conn_id, meta, ev->hdr.tgid, ts);
		if (!c)
			return;
	}
	if (c->done) {
		h->c->tls_late_records++;
		return;
	}
	wisp_lru_touch(&h->conns.lru, &c->e.lru);
	if (meta && c->meta.role == 0)
		c->meta.role = meta->role;
	if (ts > c->last_ts)
		c->last_ts = ts;
	reasm_seal(&c->dir[!dir].reasm);
	reasm_add(&c->dir[dir].reasm, ev->pos, ev->size, ev->chunk_offset, data, ev->data_len, ts);
	/* Nothing more can be learnt: both directions stopped, or the ClientHello itself was broken. */
	if (!c->done && ((c->dir[0].stopped && c->dir[1].stopped) || (c->malformed && c->client_dir < 0)))
		finish(h, c, ts);
	if (c->done) {
		remove_conn(h, c);
		return;
	}
	account(h, c);
}

void hs_close(struct handshakes *h, uint64_t conn_id, uint64_t ts)
{
	struct hs_conn *c = find(h, conn_id);

	if (!c)
		return;
	for (int d = 0; d < 2 && !c->done; d++)
		reasm_force_holes(&c->dir[d].reasm);
	finish(h, c, ts);
	remove_conn(h, c);
}

void hs_flush(struct handshakes *h, int64_t now_ns)
{
	struct hs_conn *c = conn_of(h->conns.lru.head), *next;

	for (; c; c = next) {
		next = conn_of(c->e.lru.next);
		if ((int64_t)((uint64_t)now_ns - c->first_ts) > (int64_t)h->o->tls_timeout_ns) {
			finish(h, c, (uint64_t)now_ns);
			remove_conn(h, c);
		}
	}
}

struct handshakes *hs_new(const struct wisp_conns_options *o, struct wisp_conns_counters *c, struct rows_out *out,
			  wisp_conns_ctl_fn ctl, void *ctl_ctx)
{
	struct handshakes *h = calloc(1, sizeof(*h));
	uint32_t n = 64;

	if (!h)
		return NULL;
	h->o = o;
	h->c = c;
	h->out = out;
	h->ctl = ctl;
	h->ctl_ctx = ctl_ctx;
	/* Handshake bytes come in a few syscalls per direction; reordering beyond this is loss. */
	h->rlim.max_pending_bytes = o->tls_max_bytes;
	h->rlim.max_pending_segments = 16;
	while (n < o->max_handshakes * 2 && n < (1u << 24))
		n *= 2;
	if (!wisp_idt_init(&h->conns, n)) {
		free(h);
		return NULL;
	}
	return h;
}

void hs_free(struct handshakes *h)
{
	if (!h)
		return;
	while (h->conns.lru.head)
		remove_conn(h, conn_of(h->conns.lru.head));
	wisp_idt_free(&h->conns);
	free(h);
}
