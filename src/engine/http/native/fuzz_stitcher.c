// SPDX-License-Identifier: Apache-2.0
/*
 * libFuzzer harness for the whole native path: ring records for four connections, built from
 * the input as a sequence of operations, through reassembly, parsing, pairing and columns.
 *
 * Input: one byte of options, then the operations of src/engine/native/fuzz_script.h; 6 is a
 * shed marker at the connection's positions, 7 flushes idle connections.
 * Checked: nothing crashes or leaks (ASan, LSan, UBSan); after every connection is closed the
 * stitcher holds nothing (connections and buffered bytes back to 0); every batch's codes are
 * inside their string tables.
 */
#include <stdlib.h>
#include <string.h>

#include "socket_trace.h"
#include "redact.h"
#include "wisp_http.h"

#include "../../native/fuzz_script.h"

static void record(void *stage, const void *rec, size_t len)
{
	wisp_stitcher_record(stage, rec, len, 0);
}

static void addresses(struct wisp_open_event *ev, const struct fuzz_stream *c)
{
	(void)c;
	ev->local_port = 8080;
	ev->remote_port = 40000;
	ev->local_addr[0] = 127;
	ev->local_addr[3] = 1;
}

static void shed(struct fuzz_script *f, struct fuzz_stream *c)
{
	struct wisp_shed_event ev;

	memset(&ev, 0, sizeof(ev));
	fuzz_header(f, &ev.hdr, WISP_EV_SHED, c);
	ev.pos[0] = c->pos[0];
	ev.pos[1] = c->pos[1];
	record(f->h->stage, &ev, sizeof(ev));
}

static void idle(void *stage, int64_t now_ns)
{
	wisp_stitcher_flush_idle(stage, now_ns);
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

static void take(void *stage)
{
	check_batches(wisp_stitcher_take(stage));
}

int LLVMFuzzerTestOneInput(const uint8_t *in, size_t n)
{
	struct wisp_http_options o;
	struct wisp_stitcher *s;
	struct fuzz_script f;

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
	{
		const struct fuzz_stage h = { s, WISP_PROTOCOL_HTTP, 0, record, addresses, shed, idle, take };

		fuzz_run(&f, &h, in, n);
	}
	take(s);
	if (wisp_stitcher_counters(s)->connections != 0 || wisp_stitcher_counters(s)->buffered_bytes != 0)
		abort();
	wisp_stitcher_free(s);
	return 0;
}
