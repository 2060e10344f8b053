// SPDX-License-Identifier: Apache-2.0
/*
 * libFuzzer harness for the whole connections stage: ring records and `conns` map snapshots
 * for four connections, built from the input as a sequence of operations, through conn_stats,
 * the TLS reassembly, record layer and parsers, and the row batches.
 *
 * Input: one byte of options, then operations [op u8][len u16 le][len bytes]. The low 3 bits of
 * op pick what happens, the next 2 bits the connection:
 *   0 open (payload[0]: role, payload[1] bit 0: IPv6)   1 TLS data, egress   2 TLS data, ingress
 *   3 TLS data with only a prefix captured (a cut syscall)   4 a lost syscall (positions jump)
 *   5 close   6 a report (a snapshot of every open connection's positions)   7 time passes
 * Checked: nothing crashes or leaks (ASan, LSan, UBSan); every batch's codes are inside their
 * string and process tables; after every connection is closed and a report made, the stage
 * tracks no connection and holds no TLS bytes.
 */
#include <stdlib.h>
#include <string.h>

#include "socket_trace.h"
#include "wisp_conns.h"

#define CONNS 4

struct stream {
	uint64_t id;
	uint64_t pos[2];
	uint8_t role;
	int open;
};

static void header(struct wisp_event_header *h, uint8_t kind, const struct stream *c, uint64_t ts)
{
	memset(h, 0, sizeof(*h));
	h->kind = kind;
	h->tgid = 4242 + (uint32_t)(c->id & 1);
	h->fd = (uint32_t)c->id;
	h->conn_id = c->id;
	h->ts_ns = ts;
}

static void data(struct wisp_conns *s, struct stream *c, uint8_t dir, const uint8_t *p, uint32_t len, uint32_t captured,
		 uint64_t ts)
{
	uint8_t *rec = malloc(sizeof(struct wisp_data_event) + captured);
	struct wisp_data_event ev;

	if (!rec)
		return;
	memset(&ev, 0, sizeof(ev));
	header(&ev.hdr, WISP_EV_DATA, c, ts);
	ev.direction = dir;
	ev.protocol = WISP_PROTOCOL_TLS;
	ev.size = len;
	ev.pos = c->pos[dir];
	ev.data_len = captured;
	memcpy(rec, &ev, sizeof(ev));
	memcpy(rec + sizeof(ev), p, captured);
	wisp_conns_record(s, rec, sizeof(ev) + captured, 0);
	free(rec);
	c->pos[dir] += len;
}

static void check(struct wisp_rows *b)
{
	while (b) {
		struct wisp_rows *next = b->next;

		for (uint32_t r = 0; r < b->rows; r++) {
			for (uint32_t k = 0; k < b->schema->nstr; k++)
				if (b->codes[k][r] >= b->str[k].count)
					abort();
			if (b->proc_code[r] >= b->nprocs)
				abort();
		}
		b->next = NULL;
		wisp_rows_free(b);
		b = next;
	}
}

static void report(struct wisp_conns *s, const struct stream *conns, uint64_t ts)
{
	wisp_conns_snapshot_begin(s, (int64_t)ts);
	for (int i = 0; i < CONNS; i++) {
		struct wisp_conn_key k = { 4242, (uint32_t)conns[i].id };
		struct wisp_conn_state v;

		if (!conns[i].open)
			continue;
		memset(&v, 0, sizeof(v));
		v.conn_id = conns[i].id;
		v.role = conns[i].role;
		v.opened = 1;
		v.pos[0] = conns[i].pos[0];
		v.pos[1] = conns[i].pos[1];
		wisp_conns_snapshot_entry(s, &k, sizeof(k), &v, sizeof(v));
	}
	wisp_conns_report(s, (int64_t)ts);
}

/* Answers as a host would: processes live, connections found mid-stream are clients. */
static int alive(void *ctx, uint32_t pid, uint64_t start)
{
	(void)ctx;
	(void)start;
	return pid != 4243;
}

static uint8_t listen_role(void *ctx, uint32_t pid, uint16_t port, int v6)
{
	(void)ctx;
	(void)pid;
	(void)v6;
	return (uint8_t)(port & 1 ? 1 : 0);
}

int LLVMFuzzerTestOneInput(const uint8_t *in, size_t n)
{
	struct wisp_conns_options o;
	struct wisp_conns_host host = { alive, listen_role, NULL, NULL };
	struct wisp_conns *s;
	struct stream conns[CONNS];
	uint64_t ts = 1000000000ull, next_id = 1;
	size_t at = 1;

	if (n < 1)
		return 0;
	wisp_conns_options_default(&o);
	o.sides = (in[0] & 3) ? (in[0] & 3) : 3;
	o.tls_max_bytes = in[0] & 4 ? 64 : 32768;
	o.tls_max_buffered = in[0] & 8 ? 4096 : 1 << 20;
	o.max_handshakes = in[0] & 16 ? 2 : 64;
	o.max_conns = in[0] & 32 ? 2 : 64;
	o.batch_rows = in[0] & 64 ? 3 : 1024;
	o.period_ns = 5000000ull;
	s = wisp_conns_new(&o, &host);
	if (!s)
		return 0;
	memset(conns, 0, sizeof(conns));
	for (int i = 0; i < CONNS; i++)
		conns[i].id = next_id++;
	while (at + 3 <= n) {
		uint8_t op = in[at];
		uint32_t len = (uint32_t)(in[at + 1] | in[at + 2] << 8);
		const uint8_t *p = in + at + 3;
		struct stream *c = &conns[(op >> 3) & 3];

		at += 3;
		if (len > n - at)
			len = (uint32_t)(n - at);
		at += len;
		ts += 1000;
		switch (op & 7) {
		case 0: {
			struct wisp_open_event ev;

			memset(&ev, 0, sizeof(ev));
			header(&ev.hdr, WISP_EV_OPEN, c, ts);
			ev.role = len > 0 ? p[0] % 3 : 2;
			ev.family = len > 1 && (p[1] & 1) ? 10 : 2;
			ev.local_port = (uint16_t)(8080 + (c->id & 1));
			ev.remote_port = 40000;
			ev.remote_addr[0] = 10;
			ev.remote_addr[3] = (uint8_t)c->id;
			memcpy(ev.comm, "fuzz", 4);
			wisp_conns_record(s, &ev, sizeof(ev), 0);
			c->role = ev.role;
			c->open = 1;
			break;
		}
		case 1:
		case 2:
			data(s, c, (op & 7) == 1 ? WISP_DIR_EGRESS : WISP_DIR_INGRESS, p, len, len, ts);
			break;
		case 3:
			data(s, c, (op >> 5) & 1, p, len + (len > 0 ? p[0] : 0), len / 2, ts);
			break;
		case 4:
			c->pos[(op >> 5) & 1] += len;
			break;
		case 5: {
			struct wisp_close_event ev;

			memset(&ev, 0, sizeof(ev));
			header(&ev.hdr, WISP_EV_CLOSE, c, ts);
			ev.egress_bytes = c->pos[0];
			ev.ingress_bytes = c->pos[1];
			wisp_conns_record(s, &ev, sizeof(ev), 0);
			/* A closed connection's id is never used again, as in the kernel. */
			memset(c, 0, sizeof(*c));
			c->id = next_id++;
			break;
		}
		case 6:
			report(s, conns, ts);
			break;
		case 7:
			ts += (uint64_t)len * 1000000ull;
			wisp_conns_flush_idle(s, (int64_t)ts);
			break;
		}
		if (op & 0x80) {
			check(wisp_conns_take(s, WISP_TABLE_CONN_STATS));
			check(wisp_conns_take(s, WISP_TABLE_TLS_HANDSHAKES));
		}
	}
	for (int i = 0; i < CONNS; i++) {
		struct wisp_close_event ev;

		memset(&ev, 0, sizeof(ev));
		header(&ev.hdr, WISP_EV_CLOSE, &conns[i], ts);
		wisp_conns_record(s, &ev, sizeof(ev), 0);
		conns[i].open = 0;
	}
	report(s, conns, ts + 1);
	check(wisp_conns_take(s, WISP_TABLE_CONN_STATS));
	check(wisp_conns_take(s, WISP_TABLE_TLS_HANDSHAKES));
	if (wisp_conns_counters(s)->conns != 0 || wisp_conns_counters(s)->tls_buffered != 0)
		abort();
	wisp_conns_free(s);
	return 0;
}
