// SPDX-License-Identifier: Apache-2.0
/*
 * libFuzzer harness for the whole connections stage: ring records and `conns` map snapshots
 * for four connections, built from the input as a sequence of operations, through conn_stats,
 * the TLS reassembly, record layer and parsers, and the row batches.
 *
 * Input: one byte of options, then the operations of src/engine/native/fuzz_script.h, with TLS
 * data; 6 is a report (a snapshot of every open connection's positions), 7 flushes idle handshakes.
 * Checked: nothing crashes or leaks (ASan, LSan, UBSan); every batch's codes are inside their
 * string and process tables; after every connection is closed and a report made, the stage
 * tracks no connection and holds no TLS bytes.
 */
#include <stdlib.h>
#include <string.h>

#include "socket_trace.h"
#include "wisp_conns.h"

#include "../../native/fuzz_script.h"

static void record(void *stage, const void *rec, size_t len)
{
	wisp_conns_record(stage, rec, len, 0);
}

static void addresses(struct wisp_open_event *ev, const struct fuzz_stream *c)
{
	ev->local_port = (uint16_t)(8080 + (c->id & 1));
	ev->remote_port = 40000;
	ev->remote_addr[0] = 10;
	ev->remote_addr[3] = (uint8_t)c->id;
}

static void idle(void *stage, int64_t now_ns)
{
	wisp_conns_flush_idle(stage, now_ns);
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

static void report(struct wisp_conns *s, const struct fuzz_stream *conns, uint64_t ts)
{
	wisp_conns_snapshot_begin(s, (int64_t)ts);
	for (int i = 0; i < FUZZ_CONNS; i++) {
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

static void report_now(struct fuzz_script *f, struct fuzz_stream *c)
{
	(void)c;
	report(f->h->stage, f->conns, f->ts);
}

static void take(void *stage)
{
	check(wisp_conns_take(stage, WISP_TABLE_CONN_STATS));
	check(wisp_conns_take(stage, WISP_TABLE_TLS_HANDSHAKES));
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
	struct fuzz_script f;

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
	{
		const struct fuzz_stage h = { s, WISP_PROTOCOL_TLS, 1, record, addresses, report_now, idle, take };

		fuzz_run(&f, &h, in, n);
	}
	report(s, f.conns, f.ts + 1);
	take(s);
	if (wisp_conns_counters(s)->conns != 0 || wisp_conns_counters(s)->tls_buffered != 0)
		abort();
	wisp_conns_free(s);
	return 0;
}
