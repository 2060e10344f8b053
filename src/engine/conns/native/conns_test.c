// SPDX-License-Identifier: Apache-2.0
/*
 * Unit tests of the connections stage through its API: records written as the kernel writes
 * them (bpf/socket_trace.h), `conns` map entries as the addon reads them, rows read back from
 * the batches.
 */
#include "wisp_conns.h"
#include "tls.h"
#include "tls_build.h"
#include "tls_test_data.h"
#include "../../http/native/check.h"

#include <stdlib.h>

#include "socket_trace.h"

#define S 1000000000ll
#define PERIOD (5 * S)

/* ---- the host, as a test plays it ---- */

struct host {
	int dead_pid;
	uint8_t listen;          /* the role listen_role answers */
	uint64_t muted[8];
	int nmuted;
	int alive_calls;
};

static int alive(void *ctx, uint32_t pid, uint64_t start)
{
	struct host *h = ctx;

	(void)start;
	h->alive_calls++;
	return (int)pid != h->dead_pid;
}

static uint8_t listen_role(void *ctx, uint32_t pid, uint16_t port, int v6)
{
	(void)pid;
	(void)port;
	(void)v6;
	return ((struct host *)ctx)->listen;
}

static void ctl(void *ctx, uint64_t conn_id, const uint64_t skip[2], int muted)
{
	struct host *h = ctx;

	(void)skip;
	if (muted && h->nmuted < 8)
		h->muted[h->nmuted++] = conn_id;
}

static struct wisp_conns *stage(struct host *h, uint8_t sides)
{
	struct wisp_conns_options o;
	struct wisp_conns_host host = { alive, listen_role, ctl, h };

	wisp_conns_options_default(&o);
	o.period_ns = PERIOD;
	o.sides = sides;
	return wisp_conns_new(&o, &host);
}

/* ---- records ---- */

static void header(struct wisp_event_header *h, uint8_t kind, uint64_t id, uint32_t pid, uint64_t ts)
{
	memset(h, 0, sizeof(*h));
	h->kind = kind;
	h->tgid = pid;
	h->fd = 3;
	h->conn_id = id;
	h->ts_ns = ts;
}

static void open_rec(struct wisp_conns *s, uint64_t id, uint32_t pid, uint8_t role, uint16_t lport, uint16_t rport,
		     uint8_t remote_last, uint64_t ts)
{
	struct wisp_open_event ev;

	memset(&ev, 0, sizeof(ev));
	header(&ev.hdr, WISP_EV_OPEN, id, pid, ts);
	ev.role = role;
	ev.family = 2;
	ev.local_port = lport;
	ev.remote_port = rport;
	ev.local_addr[0] = 127;
	ev.local_addr[3] = 1;
	ev.remote_addr[0] = 10;
	ev.remote_addr[3] = remote_last;
	ev.start_boottime_ns = 1000ull * pid;
	memcpy(ev.comm, "app", 3);
	wisp_conns_record(s, &ev, sizeof(ev), 0);
}

static void close_rec(struct wisp_conns *s, uint64_t id, uint32_t pid, uint64_t out, uint64_t in, uint64_t ts)
{
	struct wisp_close_event ev;

	header(&ev.hdr, WISP_EV_CLOSE, id, pid, ts);
	ev.egress_bytes = out;
	ev.ingress_bytes = in;
	wisp_conns_record(s, &ev, sizeof(ev), 0);
}

/* One map entry, as the addon reads it. */
static void entry(struct wisp_conns *s, uint64_t id, uint32_t pid, uint8_t role, uint64_t out, uint64_t in)
{
	struct wisp_conn_key k = { pid, 3 };
	struct wisp_conn_state v;

	memset(&v, 0, sizeof(v));
	v.conn_id = id;
	v.role = role;
	v.proto = WISP_CONN_PROTO_OTHER;
	v.opened = 1;
	v.pos[WISP_DIR_EGRESS] = out;
	v.pos[WISP_DIR_INGRESS] = in;
	wisp_conns_snapshot_entry(s, &k, sizeof(k), &v, sizeof(v));
}

/* A data record carrying `n` bytes of a TLS connection's direction at stream position `pos`. */
static void tls_rec(struct wisp_conns *s, uint64_t id, uint32_t pid, uint8_t dir, uint64_t pos, const uint8_t *p,
		    uint32_t n, uint64_t ts)
{
	uint8_t *rec = malloc(sizeof(struct wisp_data_event) + n);
	struct wisp_data_event ev;

	memset(&ev, 0, sizeof(ev));
	header(&ev.hdr, WISP_EV_DATA, id, pid, ts);
	ev.direction = dir;
	ev.protocol = WISP_PROTOCOL_TLS;
	ev.size = n;
	ev.pos = pos;
	ev.data_len = n;
	memcpy(rec, &ev, sizeof(ev));
	memcpy(rec + sizeof(ev), p, n);
	wisp_conns_record(s, rec, sizeof(ev) + n, 0);
	free(rec);
}

/* ---- rows ---- */

struct rows {
	struct wisp_rows *chain;
	uint32_t n;
};

static struct rows take(struct wisp_conns *s, enum wisp_conns_table t)
{
	struct rows r = { wisp_conns_take(s, t), 0 };

	for (struct wisp_rows *b = r.chain; b; b = b->next)
		r.n += b->rows;
	return r;
}

static double num(const struct rows *r, uint32_t i, const char *col)
{
	for (struct wisp_rows *b = r->chain; b; b = b->next) {
		if (i >= b->rows) {
			i -= b->rows;
			continue;
		}
		for (uint32_t k = 0; k < b->schema->nnum; k++)
			if (strcmp(b->schema->num_names[k], col) == 0)
				return b->num[k][i];
	}
	return -1;
}

/* A string cell, NUL-terminated into `out`. */
static const char *str(const struct rows *r, uint32_t i, const char *col, char *out, size_t cap)
{
	out[0] = 0;
	for (struct wisp_rows *b = r->chain; b; b = b->next) {
		if (i >= b->rows) {
			i -= b->rows;
			continue;
		}
		for (uint32_t k = 0; k < b->schema->nstr; k++) {
			if (strcmp(b->schema->str_names[k], col) == 0) {
				const struct wisp_strtab *t = &b->str[k];
				uint32_t c = b->codes[k][i], n = t->len[c] < cap - 1 ? t->len[c] : (uint32_t)cap - 1;

				if (n)
					memcpy(out, t->bytes + t->off[c], n);
				out[n] = 0;
			}
		}
	}
	return out;
}

static int64_t when(const struct rows *r, uint32_t i)
{
	for (struct wisp_rows *b = r->chain; b; b = b->next) {
		if (i < b->rows)
			return b->time_ns[i];
		i -= b->rows;
	}
	return -1;
}

static uint32_t pid_of(const struct rows *r, uint32_t i)
{
	for (struct wisp_rows *b = r->chain; b; b = b->next) {
		if (i < b->rows)
			return b->procs[b->proc_code[i]].pid;
		i -= b->rows;
	}
	return 0;
}

/* "open,close,active,sent,recv" of row i. */
static const char *counters(const struct rows *r, uint32_t i, char *out)
{
	snprintf(out, 96, "%.0f,%.0f,%.0f,%.0f,%.0f", num(r, i, "conn_open"), num(r, i, "conn_close"), num(r, i, "conn_active"),
		 num(r, i, "bytes_sent"), num(r, i, "bytes_recv"));
	return out;
}

static void report(struct wisp_conns *s, int64_t now)
{
	wisp_conns_snapshot_begin(s, now);
	wisp_conns_report(s, now);
}

/* ---- conn_stats ---- */

static void test_one_key_per_remote_endpoint_and_role(void)
{
	struct host h = { 0 };
	struct wisp_conns *s = stage(&h, 3);
	struct rows r;
	char a[96], b[64];

	/* Two connections of pid 7 to 10.0.0.2:6379, one closed; pid 7 also serves 10.0.0.3 twice. */
	open_rec(s, 1, 7, WISP_ROLE_CLIENT, 40001, 6379, 2, 10 * S);
	open_rec(s, 2, 7, WISP_ROLE_CLIENT, 40002, 6379, 2, 10 * S + 5);
	close_rec(s, 1, 7, 100, 2000, 11 * S);
	open_rec(s, 3, 7, WISP_ROLE_SERVER, 8080, 50001, 3, 12 * S);
	open_rec(s, 4, 7, WISP_ROLE_SERVER, 8080, 50002, 3, 12 * S);
	wisp_conns_snapshot_begin(s, 13 * S);
	entry(s, 2, 7, 1, 30, 40);
	entry(s, 3, 7, 2, 5, 6);
	entry(s, 4, 7, 2, 7, 8);
	wisp_conns_report(s, 13 * S);
	r = take(s, WISP_TABLE_CONN_STATS);
	/* Two baselines (a key's totals before its first open), then one row per key. */
	CHECK(r.n == 4);
	CHECK(when(&r, 0) == 10 * S - 1 && when(&r, 1) == 12 * S - 1);
	CHECK_STR(counters(&r, 0, a), "0,0,0,0,0");
	CHECK_STR(counters(&r, 2, a), "2,1,1,130,2040");
	CHECK(num(&r, 2, "remote_port") == 6379 && num(&r, 2, "trace_role") == 1 && when(&r, 2) == 13 * S);
	CHECK_STR(str(&r, 2, "remote_addr", b, sizeof(b)), "10.0.0.2");
	CHECK_STR(counters(&r, 3, a), "2,0,2,12,14");
	CHECK(num(&r, 3, "remote_port") == 0 && num(&r, 3, "trace_role") == 2 && num(&r, 3, "addr_family") == 2);
	CHECK(pid_of(&r, 3) == 7);
	wisp_rows_free(r.chain);
	CHECK(wisp_conns_counters(s)->opened == 4 && wisp_conns_counters(s)->closed == 1);
	wisp_conns_free(s);
}

static void test_rows_each_period_while_open_then_none(void)
{
	struct host h = { 0 };
	struct wisp_conns *s = stage(&h, 3);
	struct rows r;
	char a[96];

	open_rec(s, 1, 7, WISP_ROLE_CLIENT, 40001, 5432, 2, 1 * S);
	for (int i = 1; i <= 3; i++) {
		wisp_conns_snapshot_begin(s, (1 + i * 5) * S);
		entry(s, 1, 7, 1, 10 * (uint64_t)i, 0);
		wisp_conns_report(s, (1 + i * 5) * S);
	}
	close_rec(s, 1, 7, 35, 1, 17 * S);
	report(s, 21 * S);
	report(s, 26 * S);
	r = take(s, WISP_TABLE_CONN_STATS);
	/* The baseline, three periods while open (bytes from the map), the close's report; then nothing. */
	CHECK(r.n == 5);
	CHECK_STR(counters(&r, 1, a), "1,0,1,10,0");
	CHECK_STR(counters(&r, 3, a), "1,0,1,30,0");
	CHECK_STR(counters(&r, 4, a), "1,1,0,35,1");
	CHECK(when(&r, 4) == 21 * S);
	wisp_rows_free(r.chain);
	wisp_conns_free(s);
}

static void test_a_key_going_idle_is_reported_at_the_close(void)
{
	struct host h = { 0 };
	struct wisp_conns *s = stage(&h, 3);
	struct rows r;
	char a[96];

	open_rec(s, 1, 7, WISP_ROLE_CLIENT, 40001, 6379, 2, 1 * S);
	close_rec(s, 1, 7, 40, 12, 3 * S);
	/* One after another on the same key, within a quarter period of that row: the report has it. */
	open_rec(s, 2, 7, WISP_ROLE_CLIENT, 40002, 6379, 2, 3 * S + S / 2);
	close_rec(s, 2, 7, 5, 6, 4 * S);
	r = take(s, WISP_TABLE_CONN_STATS);
	/* The baseline and the close of the first, before any report. */
	CHECK(r.n == 2);
	CHECK_STR(counters(&r, 1, a), "1,1,0,40,12");
	CHECK(when(&r, 1) == 3 * S);
	wisp_rows_free(r.chain);
	report(s, 6 * S);
	report(s, 11 * S);
	r = take(s, WISP_TABLE_CONN_STATS);
	CHECK(r.n == 1);
	CHECK_STR(counters(&r, 0, a), "2,2,0,45,18");
	CHECK(when(&r, 0) == 6 * S);
	wisp_rows_free(r.chain);
	wisp_conns_free(s);
}

static void test_a_key_coming_back_gets_a_baseline(void)
{
	struct host h = { 0 };
	struct wisp_conns *s = stage(&h, 3);
	struct rows r;
	char a[96];

	open_rec(s, 1, 7, WISP_ROLE_CLIENT, 40001, 443, 2, 1 * S);
	close_rec(s, 1, 7, 5, 6, 2 * S);
	report(s, 3 * S);
	/* Within a period of its last row: that row already holds its totals. */
	open_rec(s, 2, 7, WISP_ROLE_CLIENT, 40002, 443, 2, 4 * S);
	close_rec(s, 2, 7, 1, 1, 4 * S + 1);
	report(s, 8 * S);
	/* A minute later: its totals just before the open, so max - min over a window from here counts it. */
	open_rec(s, 3, 7, WISP_ROLE_CLIENT, 40003, 443, 2, 70 * S);
	close_rec(s, 3, 7, 2, 2, 70 * S + 1);
	report(s, 73 * S);
	r = take(s, WISP_TABLE_CONN_STATS);
	CHECK(r.n == 5);
	CHECK_STR(counters(&r, 1, a), "1,1,0,5,6");
	CHECK_STR(counters(&r, 2, a), "2,2,0,6,7");
	CHECK(when(&r, 3) == 70 * S - 1);
	CHECK_STR(counters(&r, 3, a), "2,2,0,6,7");
	CHECK_STR(counters(&r, 4, a), "3,3,0,8,9");
	wisp_rows_free(r.chain);
	wisp_conns_free(s);
}

static void test_connections_found_mid_stream(void)
{
	struct host h = { 0 };
	struct wisp_conns *s = stage(&h, 3);
	struct rows r;
	char a[96];

	/* Role 0: the kernel's map tells one (its first message showed it), the listening sockets the other. */
	open_rec(s, 1, 7, WISP_ROLE_UNKNOWN, 40001, 80, 2, 1 * S);
	open_rec(s, 2, 8, WISP_ROLE_UNKNOWN, 6379, 40002, 3, 1 * S);
	h.listen = WISP_ROLE_SERVER;
	wisp_conns_snapshot_begin(s, 2 * S);
	entry(s, 1, 7, WISP_ROLE_CLIENT, 10, 20);
	entry(s, 2, 8, WISP_ROLE_UNKNOWN, 30, 40);
	wisp_conns_report(s, 2 * S);
	r = take(s, WISP_TABLE_CONN_STATS);
	CHECK(r.n == 4);
	CHECK(num(&r, 2, "trace_role") == 1 && num(&r, 2, "remote_port") == 80);
	CHECK_STR(counters(&r, 2, a), "1,0,1,10,20");
	CHECK(num(&r, 3, "trace_role") == 2 && num(&r, 3, "remote_port") == 0);
	CHECK_STR(counters(&r, 3, a), "1,0,1,30,40");
	CHECK(wisp_conns_counters(s)->role_from_listen == 1);
	wisp_rows_free(r.chain);
	/* A process gone before its role could be told is left out, counted. */
	h.listen = WISP_ROLE_UNKNOWN;
	open_rec(s, 3, 9, WISP_ROLE_UNKNOWN, 1234, 5678, 4, 3 * S);
	report(s, 4 * S);
	CHECK(wisp_conns_counters(s)->role_unknown == 1 && wisp_conns_counters(s)->conns == 2);
	wisp_rows_free(wisp_conns_take(s, WISP_TABLE_CONN_STATS));
	wisp_conns_free(s);
}

/* An open record of a loopback connection: both addresses 127.0.0.1. */
static void loopback_open(struct wisp_conns *s, uint64_t id, uint32_t pid, uint8_t role, uint16_t lport, uint16_t rport)
{
	struct wisp_open_event ev;

	memset(&ev, 0, sizeof(ev));
	header(&ev.hdr, WISP_EV_OPEN, id, pid, 1 * S);
	ev.role = role;
	ev.family = 2;
	ev.local_port = lport;
	ev.remote_port = rport;
	ev.local_addr[0] = ev.remote_addr[0] = 127;
	ev.local_addr[3] = ev.remote_addr[3] = 1;
	ev.start_boottime_ns = 1000ull * pid;
	wisp_conns_record(s, &ev, sizeof(ev), 0);
}

static void test_a_role_told_by_the_traced_other_end(void)
{
	struct host h = { 0 };
	struct wisp_conns *s = stage(&h, 3);
	struct rows r;
	char a[96];
	int found = 0;

	/* The client was found mid-stream and exited before /proc could tell; the server end was accepted. */
	loopback_open(s, 2, 8, WISP_ROLE_UNKNOWN, 41000, 6000);
	CHECK(wisp_conns_counters(s)->role_from_peer == 0);
	loopback_open(s, 1, 7, WISP_ROLE_SERVER, 6000, 41000);
	close_rec(s, 2, 8, 400, 400, 2 * S);
	CHECK(wisp_conns_counters(s)->role_from_peer == 1 && wisp_conns_counters(s)->role_unknown == 0);
	report(s, 6 * S);
	r = take(s, WISP_TABLE_CONN_STATS);
	/* Each end: its baseline and the report's row. */
	CHECK(r.n == 4);
	for (uint32_t i = 0; i < r.n; i++) {
		if (pid_of(&r, i) != 8 || when(&r, i) != 6 * S)
			continue;
		CHECK(num(&r, i, "trace_role") == 1 && num(&r, i, "remote_port") == 6000);
		CHECK_STR(counters(&r, i, a), "1,1,0,400,400");
		found++;
	}
	CHECK(found == 1);
	wisp_rows_free(r.chain);
	wisp_conns_free(s);
}

static void test_only_the_traced_side(void)
{
	struct host h = { 0 };
	struct wisp_conns *s = stage(&h, WISP_ROLE_SERVER);
	struct rows r;

	open_rec(s, 1, 7, WISP_ROLE_CLIENT, 40001, 80, 2, 1 * S);
	open_rec(s, 2, 7, WISP_ROLE_SERVER, 80, 40001, 2, 1 * S);
	report(s, 2 * S);
	r = take(s, WISP_TABLE_CONN_STATS);
	CHECK(r.n == 2 && num(&r, 1, "trace_role") == 2);
	wisp_rows_free(r.chain);
	wisp_conns_free(s);
}

static void test_gone_without_a_close(void)
{
	struct host h = { 0 };
	struct wisp_conns *s = stage(&h, 3);
	struct rows r;
	char a[96];

	open_rec(s, 1, 7, WISP_ROLE_CLIENT, 40001, 80, 2, 1 * S);
	open_rec(s, 2, 8, WISP_ROLE_CLIENT, 40002, 80, 2, 1 * S);
	wisp_conns_snapshot_begin(s, 2 * S);
	entry(s, 1, 7, 1, 10, 10);
	entry(s, 2, 8, 1, 20, 20);
	wisp_conns_report(s, 2 * S);
	/* Connection 1 leaves the kernel's map (its LRU evicted it): gone after two reports without it. */
	wisp_conns_snapshot_begin(s, 7 * S);
	entry(s, 2, 8, 1, 20, 20);
	wisp_conns_report(s, 7 * S);
	CHECK(wisp_conns_counters(s)->vanished == 0);
	wisp_conns_snapshot_begin(s, 12 * S);
	entry(s, 2, 8, 1, 20, 20);
	wisp_conns_report(s, 12 * S);
	CHECK(wisp_conns_counters(s)->vanished == 1);
	/* Process 8 exits without close(2): its quiet connection ends once /proc says so. */
	h.dead_pid = 8;
	wisp_conns_snapshot_begin(s, 30 * S);
	entry(s, 2, 8, 1, 20, 20);
	wisp_conns_report(s, 30 * S);
	CHECK(wisp_conns_counters(s)->exited == 1 && wisp_conns_counters(s)->conns == 0);
	CHECK(wisp_conns_counters(s)->keys == 1);
	r = take(s, WISP_TABLE_CONN_STATS);
	CHECK_STR(counters(&r, r.n - 1, a), "1,1,0,20,20");
	CHECK(pid_of(&r, r.n - 1) == 8);
	wisp_rows_free(r.chain);
	/* Quiet processes are asked about at most once per exit_check_ns. */
	h.alive_calls = 0;
	report(s, 31 * S);
	report(s, 32 * S);
	CHECK(h.alive_calls <= 1);
	wisp_rows_free(wisp_conns_take(s, WISP_TABLE_CONN_STATS));
	wisp_conns_free(s);
}

static void test_bad_records_are_counted(void)
{
	struct host h = { 0 };
	struct wisp_conns *s = stage(&h, 3);
	struct wisp_open_event ev;
	uint8_t junk[8] = { 0 };

	wisp_conns_record(s, junk, sizeof(junk), 0);
	memset(&ev, 0, sizeof(ev));
	header(&ev.hdr, WISP_EV_OPEN, 1, 7, 1);
	ev.family = 99;
	wisp_conns_record(s, &ev, sizeof(ev), 0);
	wisp_conns_record(s, &ev, sizeof(ev) - 1, 0);
	CHECK(wisp_conns_counters(s)->malformed_records == 3 && wisp_conns_counters(s)->conns == 0);
	wisp_conns_free(s);
}

/* ---- TLS handshakes ---- */

/* One direction's bytes: records of handshake messages, a ChangeCipherSpec, encrypted bytes. */
static void flight(struct buf *out, const struct buf *handshake, int ccs, int encrypted)
{
	static const uint8_t one = 1, noise[32] = { 0x5a };

	if (handshake)
		b_record(out, TLS_CT_HANDSHAKE, handshake->p, handshake->len);
	if (ccs)
		b_record(out, TLS_CT_CHANGE_CIPHER_SPEC, &one, 1);
	if (encrypted)
		b_record(out, TLS_CT_APPLICATION_DATA, noise, sizeof(noise));
}

static const char *const alpn_offered[] = { "h2", "http/1.1", NULL };
static const uint16_t versions_offered[] = { 0x0304, 0x0303, 0 };

static void test_tls12_handshake_row(void)
{
	struct host h = { 0 };
	struct wisp_conns *s = stage(&h, 3);
	struct ch_spec spec = { "tls.test", alpn_offered, versions_offered, 0, 0 };
	struct buf ch = { 0 }, srv = { 0 }, c1 = { 0 }, s1 = { 0 }, c2 = { 0 }, s2 = { 0 }, cke = { 0 };
	struct rows r;
	char v[160];

	b_client_hello(&ch, &spec);
	b_server_hello(&srv, 0x0303, 0xc02f, "http/1.1", 0);
	b_certificate(&srv, test_leaf_der, sizeof(test_leaf_der));
	b_u8(&srv, 14);  /* ServerHelloDone */
	b_u24(&srv, 0);
	b_u8(&cke, 16);  /* ClientKeyExchange */
	b_u24(&cke, 3);
	b_u8(&cke, 2);
	b_u16(&cke, 0x4141);
	flight(&c1, &ch, 0, 0);
	flight(&s1, &srv, 0, 0);
	flight(&c2, &cke, 1, 1);
	flight(&s2, NULL, 1, 1);
	/* The client (pid 7) as it sees its connection: it writes (egress) and reads (ingress). */
	open_rec(s, 1, 7, WISP_ROLE_CLIENT, 40001, 443, 2, 1 * S);
	tls_rec(s, 1, 7, WISP_DIR_EGRESS, 0, c1.p, (uint32_t)c1.len, 1 * S + 100);
	/* The server's flight split across two reads, at a place inside the certificate. */
	tls_rec(s, 1, 7, WISP_DIR_INGRESS, 0, s1.p, 300, 1 * S + 200);
	tls_rec(s, 1, 7, WISP_DIR_INGRESS, 300, s1.p + 300, (uint32_t)s1.len - 300, 1 * S + 210);
	tls_rec(s, 1, 7, WISP_DIR_EGRESS, c1.len, c2.p, (uint32_t)c2.len, 1 * S + 300);
	CHECK(take(s, WISP_TABLE_TLS_HANDSHAKES).chain == NULL);
	tls_rec(s, 1, 7, WISP_DIR_INGRESS, s1.len, s2.p, (uint32_t)s2.len, 1 * S + 400);
	r = take(s, WISP_TABLE_TLS_HANDSHAKES);
	CHECK(r.n == 1);
	CHECK_STR(str(&r, 0, "sni", v, sizeof(v)), "tls.test");
	CHECK_STR(str(&r, 0, "alpn_offered", v, sizeof(v)), "h2,http/1.1");
	CHECK_STR(str(&r, 0, "alpn", v, sizeof(v)), "http/1.1");
	CHECK_STR(str(&r, 0, "versions_offered", v, sizeof(v)), "TLS 1.3,TLS 1.2");
	CHECK_STR(str(&r, 0, "version", v, sizeof(v)), "TLS 1.2");
	CHECK_STR(str(&r, 0, "cipher", v, sizeof(v)), "TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256");
	CHECK_STR(str(&r, 0, "cert_issuer", v, sizeof(v)), "CN=Wisp Test CA,O=Wisp Test");
	CHECK_STR(str(&r, 0, "cert_sans", v, sizeof(v)),
		  "DNS:tls.test,DNS:*.tls.test,IP:127.0.0.1,IP:::1,email:ops@tls.test,URI:https://tls.test/");
	CHECK_STR(str(&r, 0, "remote_addr", v, sizeof(v)), "10.0.0.2");
	CHECK(num(&r, 0, "cert_not_after") == TEST_LEAF_NOT_AFTER * 1e9);
	CHECK(num(&r, 0, "handshake_duration") == 300 && when(&r, 0) == 1 * S + 400);
	CHECK(num(&r, 0, "trace_role") == 1 && num(&r, 0, "remote_port") == 443);
	CHECK(h.nmuted == 1 && h.muted[0] == 1);
	wisp_rows_free(r.chain);
	/* A record still in flight when the mute took effect is passed over. */
	tls_rec(s, 1, 7, WISP_DIR_INGRESS, s1.len + s2.len, s2.p + 6, 37, 1 * S + 500);
	CHECK(wisp_conns_counters(s)->tls_late_records == 1);
	/* The connection is TLS in conn_stats. */
	report(s, 2 * S);
	r = take(s, WISP_TABLE_CONN_STATS);
	CHECK(r.n == 2 && num(&r, 1, "ssl") == 1 && num(&r, 1, "protocol") == 13);
	wisp_rows_free(r.chain);
	buf_free(&ch); buf_free(&srv); buf_free(&cke); buf_free(&c1); buf_free(&s1); buf_free(&c2); buf_free(&s2);
	wisp_conns_free(s);
}

static void test_tls13_handshake_row(void)
{
	struct host h = { 0 };
	struct wisp_conns *s = stage(&h, 3);
	struct ch_spec spec = { "api.tls.test", alpn_offered, versions_offered, 0, 0 };
	struct buf ch = { 0 }, sh = { 0 }, c1 = { 0 }, s1 = { 0 }, c2 = { 0 };
	struct rows r;
	char v[160];

	b_client_hello(&ch, &spec);
	b_server_hello(&sh, 0x0304, 0x1302, NULL, 0);
	flight(&c1, &ch, 0, 0);
	flight(&s1, &sh, 1, 1);   /* ServerHello, the compatibility CCS, encrypted extensions... */
	flight(&c2, NULL, 1, 1);  /* the client's CCS and Finished */
	/* The server (pid 9) as it sees the connection: it reads the client (ingress). */
	open_rec(s, 5, 9, WISP_ROLE_SERVER, 443, 40001, 2, 1 * S);
	tls_rec(s, 5, 9, WISP_DIR_INGRESS, 0, c1.p, (uint32_t)c1.len, 1 * S + 1000);
	tls_rec(s, 5, 9, WISP_DIR_EGRESS, 0, s1.p, (uint32_t)s1.len, 1 * S + 2000);
	tls_rec(s, 5, 9, WISP_DIR_INGRESS, c1.len, c2.p, (uint32_t)c2.len, 1 * S + 5000);
	r = take(s, WISP_TABLE_TLS_HANDSHAKES);
	CHECK(r.n == 1);
	CHECK_STR(str(&r, 0, "sni", v, sizeof(v)), "api.tls.test");
	CHECK_STR(str(&r, 0, "version", v, sizeof(v)), "TLS 1.3");
	CHECK_STR(str(&r, 0, "cipher", v, sizeof(v)), "TLS_AES_256_GCM_SHA384");
	/* 1.3 encrypts the chosen ALPN and the certificate. */
	CHECK_STR(str(&r, 0, "alpn", v, sizeof(v)), "");
	CHECK_STR(str(&r, 0, "cert_subject", v, sizeof(v)), "");
	CHECK(num(&r, 0, "cert_not_after") == 0);
	CHECK(num(&r, 0, "handshake_duration") == 4000 && num(&r, 0, "trace_role") == 2);
	wisp_rows_free(r.chain);
	buf_free(&ch); buf_free(&sh); buf_free(&c1); buf_free(&s1); buf_free(&c2);
	wisp_conns_free(s);
}

static void test_tls_handshakes_that_end_early(void)
{
	struct host h = { 0 };
	struct wisp_conns *s = stage(&h, 3);
	struct ch_spec spec = { "gone.test", NULL, NULL, 0, 0 };
	struct buf ch = { 0 }, c1 = { 0 }, bad = { 0 };
	struct rows r;
	char v[160];

	b_client_hello(&ch, &spec);
	flight(&c1, &ch, 0, 0);
	/* Closed after the ClientHello: a row with what was seen, no duration. */
	open_rec(s, 1, 7, WISP_ROLE_CLIENT, 40001, 443, 2, 1 * S);
	tls_rec(s, 1, 7, WISP_DIR_EGRESS, 0, c1.p, (uint32_t)c1.len, 1 * S + 10);
	close_rec(s, 1, 7, c1.len, 0, 2 * S);
	/* A ClientHello that breaks the format: counted, no row. */
	memcpy(&bad, &c1, sizeof(bad));
	bad.p = malloc(c1.len);
	memcpy(bad.p, c1.p, c1.len);
	bad.p[5 + 4 + 2 + 32] = 40;
	open_rec(s, 2, 7, WISP_ROLE_CLIENT, 40002, 443, 2, 1 * S);
	tls_rec(s, 2, 7, WISP_DIR_EGRESS, 0, bad.p, (uint32_t)bad.len, 1 * S + 10);
	/* The rest of a ClientHello never came: given up after the timeout. */
	open_rec(s, 3, 7, WISP_ROLE_CLIENT, 40003, 443, 2, 1 * S);
	tls_rec(s, 3, 7, WISP_DIR_EGRESS, 0, c1.p, 20, 1 * S + 10);
	wisp_conns_flush_idle(s, 5 * S);
	CHECK(wisp_conns_counters(s)->handshakes == 1);
	wisp_conns_flush_idle(s, 12 * S);
	r = take(s, WISP_TABLE_TLS_HANDSHAKES);
	CHECK(r.n == 1);
	CHECK_STR(str(&r, 0, "sni", v, sizeof(v)), "gone.test");
	CHECK_STR(str(&r, 0, "version", v, sizeof(v)), "");
	CHECK(num(&r, 0, "handshake_duration") == 0 && when(&r, 0) == 2 * S);
	CHECK(wisp_conns_counters(s)->tls_malformed == 1 && wisp_conns_counters(s)->tls_incomplete == 1);
	/* Each connection was muted once its handshake ended. */
	CHECK(h.nmuted == 3);
	wisp_rows_free(r.chain);
	buf_free(&ch); buf_free(&c1); buf_free(&bad);
	wisp_conns_free(s);
}

static void test_tls_gap_stops_a_direction(void)
{
	struct host h = { 0 };
	struct wisp_conns *s = stage(&h, 3);
	struct ch_spec spec = { "gap.test", NULL, NULL, 0, 0 };
	struct buf ch = { 0 }, c1 = { 0 }, sh = { 0 }, s1 = { 0 };
	struct wisp_data_event ev;
	uint8_t *rec;

	b_client_hello(&ch, &spec);
	flight(&c1, &ch, 0, 0);
	b_server_hello(&sh, 0x0303, 0xc02f, NULL, 0);
	flight(&s1, &sh, 0, 0);
	open_rec(s, 1, 7, WISP_ROLE_CLIENT, 40001, 443, 2, 1 * S);
	tls_rec(s, 1, 7, WISP_DIR_EGRESS, 0, c1.p, (uint32_t)c1.len, 1 * S + 10);
	/* The server's first read, of which the kernel copied only the first 10 bytes. */
	rec = malloc(sizeof(ev) + 10);
	memset(&ev, 0, sizeof(ev));
	header(&ev.hdr, WISP_EV_DATA, 1, 7, 1 * S + 20);
	ev.direction = WISP_DIR_INGRESS;
	ev.protocol = WISP_PROTOCOL_TLS;
	ev.size = (uint32_t)s1.len;
	ev.data_len = 10;
	memcpy(rec, &ev, sizeof(ev));
	memcpy(rec + sizeof(ev), s1.p, 10);
	wisp_conns_record(s, rec, sizeof(ev) + 10, 0);
	tls_rec(s, 1, 7, WISP_DIR_EGRESS, c1.len, c1.p, 5, 1 * S + 30);
	CHECK(wisp_conns_counters(s)->tls_gaps == s1.len - 10);
	close_rec(s, 1, 7, 0, 0, 2 * S);
	CHECK(wisp_conns_counters(s)->handshakes == 1 && wisp_conns_counters(s)->tls_incomplete == 1);
	wisp_rows_free(wisp_conns_take(s, WISP_TABLE_TLS_HANDSHAKES));
	free(rec);
	buf_free(&ch); buf_free(&c1); buf_free(&sh); buf_free(&s1);
	wisp_conns_free(s);
}

int main(void)
{
	RUN(test_one_key_per_remote_endpoint_and_role);
	RUN(test_rows_each_period_while_open_then_none);
	RUN(test_a_key_going_idle_is_reported_at_the_close);
	RUN(test_a_key_coming_back_gets_a_baseline);
	RUN(test_connections_found_mid_stream);
	RUN(test_a_role_told_by_the_traced_other_end);
	RUN(test_only_the_traced_side);
	RUN(test_gone_without_a_close);
	RUN(test_bad_records_are_counted);
	RUN(test_tls12_handshake_row);
	RUN(test_tls13_handshake_row);
	RUN(test_tls_handshakes_that_end_early);
	RUN(test_tls_gap_stops_a_direction);
	return check_failures ? 1 : 0;
}
