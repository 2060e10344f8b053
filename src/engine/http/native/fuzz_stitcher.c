// SPDX-License-Identifier: Apache-2.0
/*
 * libFuzzer harness for the whole native path: ring records for four connections, built from
 * the input as a sequence of operations, through reassembly, parsing, pairing and columns.
 *
 * Input: one byte of options, then operations [op u8][len u16 le][len bytes]. The low 3 bits of
 * op pick what happens, the next 2 bits the connection:
 *   0 open (payload[0]: role, payload[1] bit 0: IPv6)   1 data, egress   2 data, ingress
 *   3 data with only a prefix captured (a cut syscall)  4 a lost syscall (positions jump)
 *   5 close   6 shed marker   7 time passes (flush_idle)
 * Checked: nothing crashes or leaks (ASan, LSan, UBSan); after every connection is closed the
 * stitcher holds nothing (connections and buffered bytes back to 0); every batch's codes are
 * inside their string tables.
 */
#include <stdlib.h>
#include <string.h>

#include "socket_trace.h"
#include "redact.h"
#include "wisp_http.h"

#define CONNS 4

struct stream {
	uint64_t id;
	uint64_t pos[2];
	int open;
};

static void emit(struct wisp_stitcher *s, const void *rec, size_t len)
{
	wisp_stitcher_record(s, rec, len, 0);
}

static void header(struct wisp_event_header *h, uint8_t kind, const struct stream *c, uint64_t ts)
{
	memset(h, 0, sizeof(*h));
	h->kind = kind;
	h->tgid = 4242;
	h->fd = (uint32_t)c->id;
	h->conn_id = c->id;
	h->ts_ns = ts;
}

static void data(struct wisp_stitcher *s, struct stream *c, uint8_t dir, const uint8_t *p, uint32_t len,
		 uint32_t captured, uint64_t ts)
{
	uint8_t *rec = malloc(sizeof(struct wisp_data_event) + captured);
	struct wisp_data_event ev;

	if (!rec)
		return;
	memset(&ev, 0, sizeof(ev));
	header(&ev.hdr, WISP_EV_DATA, c, ts);
	ev.direction = dir;
	ev.size = len;
	ev.pos = c->pos[dir];
	ev.data_len = captured;
	memcpy(rec, &ev, sizeof(ev));
	memcpy(rec + sizeof(ev), p, captured);
	emit(s, rec, sizeof(ev) + captured);
	free(rec);
	c->pos[dir] += len;
}

static void check_batches(struct wisp_batch *b)
{
	while (b) {
		struct wisp_batch *next = b->next;

		for (uint32_t r = 0; r < b->rows; r++) {
			for (int k = 0; k < WISP_COL_STR__COUNT; k++)
				if (b->codes[k][r] >= b->str[k].t.count)
					abort();
			if (b->proc_code[r] >= b->nprocs)
				abort();
		}
		wisp_batch_free(b);
		b = next;
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *in, size_t n)
{
	struct wisp_http_options o;
	struct wisp_stitcher *s;
	struct stream conns[CONNS];
	uint64_t ts = 1000000000ull;
	size_t at = 1;
	uint64_t next_id = 1;

	if (n < 1)
		return 0;
	wisp_http_options_default(&o);
	o.body_prefix_bytes = (in[0] & 3) == 0 ? 0 : (in[0] & 3) == 1 ? 7 : 512;
	o.max_header_bytes = in[0] & 4 ? 128 : 65536;
	o.max_pipelined = in[0] & 8 ? 2 : 64;
	o.redact_mode = (in[0] & 16) ? REDACT_OFF : REDACT_DEFAULTS;
	o.max_buffered_bytes = in[0] & 32 ? 4096 : 1 << 20;
	o.max_pending_segments = 8;
	o.batch_rows = in[0] & 64 ? 3 : 1024;
	o.skip_body_over = in[0] & 128 ? 16 : 65536;
	s = wisp_stitcher_new(&o, NULL, NULL);
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
			ev.local_port = 8080;
			ev.remote_port = 40000;
			ev.local_addr[0] = 127;
			ev.local_addr[3] = 1;
			memcpy(ev.comm, "fuzz", 4);
			emit(s, &ev, sizeof(ev));
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
			emit(s, &ev, sizeof(ev));
			/* A closed connection's id is never used again, as in the kernel. */
			memset(c, 0, sizeof(*c));
			c->id = next_id++;
			break;
		}
		case 6: {
			struct wisp_shed_event ev;

			memset(&ev, 0, sizeof(ev));
			header(&ev.hdr, WISP_EV_SHED, c, ts);
			ev.pos[0] = c->pos[0];
			ev.pos[1] = c->pos[1];
			emit(s, &ev, sizeof(ev));
			break;
		}
		case 7:
			ts += (uint64_t)len * 1000000ull;
			wisp_stitcher_flush_idle(s, (int64_t)ts);
			break;
		}
		if (op & 0x80)
			check_batches(wisp_stitcher_take(s));
	}
	for (int i = 0; i < CONNS; i++) {
		struct wisp_close_event ev;

		memset(&ev, 0, sizeof(ev));
		header(&ev.hdr, WISP_EV_CLOSE, &conns[i], ts);
		emit(s, &ev, sizeof(ev));
	}
	check_batches(wisp_stitcher_take(s));
	if (wisp_stitcher_counters(s)->connections != 0 || wisp_stitcher_counters(s)->buffered_bytes != 0)
		abort();
	wisp_stitcher_free(s);
	return 0;
}
