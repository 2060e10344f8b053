// SPDX-License-Identifier: Apache-2.0
/*
 * libFuzzer harness for the HTTP/1.x parser alone: the input after two bytes of options is one
 * direction's stream, fed in pieces whose sizes (and occasional gaps) come from a generator
 * seeded by those bytes, as reads of any size and lost stretches would cut it.
 * Checked: nothing crashes or leaks (every message and header section is released: LSan),
 * positions handed to skip_body lie ahead of the bytes parsed, messages come out complete.
 */
#include <stdlib.h>
#include <string.h>

#include "http1.h"
#include "redact.h"

struct host {
	struct h1_msg *held[64];
	int nheld;
	uint64_t parsed_to;
	int method;
};

static enum h1_method_class request_method(void *ctx)
{
	return (enum h1_method_class)(((struct host *)ctx)->method % 3);
}

static void on_head(void *ctx, struct h1_msg *m)
{
	struct host *h = ctx;

	/* Hold a few, as a queue of requests would, and release the oldest beyond that. */
	if (h->nheld == 64) {
		h1_msg_unref(h->held[0]);
		memmove(h->held, h->held + 1, 63 * sizeof(*h->held));
		h->nheld--;
	}
	h1_msg_ref(m);
	h->held[h->nheld++] = m;
}

static void on_message(void *ctx, struct h1_msg *m)
{
	(void)ctx;
	if (!m->complete || m->body_len > m->body_cap || (m->kind != H1_REQUEST && m->kind != H1_RESPONSE))
		abort();
}

static void on_drop(void *ctx, struct h1_msg *m, int in_flight, uint64_t ts)
{
	(void)ctx;
	(void)m;
	(void)in_flight;
	(void)ts;
}

static void skip_body(void *ctx, uint64_t end)
{
	if (end < ((struct host *)ctx)->parsed_to)
		abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *in, size_t n)
{
	static struct redactor *rd;
	struct host host = { { 0 }, 0, 0, 0 };
	struct h1_host callbacks = { request_method, on_head, on_message, on_drop, skip_body, &host };
	uint64_t c1 = 0, c2 = 0, c3 = 0, c4 = 0, c5 = 0;
	struct h1_counters ctr = { &c1, &c2, &c3, &c4, &c5 };
	struct h1_limits lim;
	struct h1_heads *heads;
	struct h1_parser p;
	uint32_t seed;
	uint64_t pos = 0, ts = 1;
	size_t at = 2;

	if (n < 2)
		return 0;
	if (!rd)
		rd = redactor_new(REDACT_DEFAULTS, NULL, 0, NULL, 0);
	seed = (uint32_t)(in[0] | in[1] << 8) * 2654435761u + 1;
	lim.max_header_bytes = in[0] & 1 ? 96 : 8192;
	lim.body_prefix_bytes = in[0] & 2 ? 0 : 16;
	lim.skip_body_over = in[0] & 4 ? 8 : 0;
	host.method = in[1];
	heads = h1_heads_new(8, rd);
	if (!heads)
		return 0;
	h1_init(&p, callbacks, &lim, ctr, heads);
	if (in[1] & 1)
		h1_start_mid_stream(&p);
	while (at < n) {
		size_t piece;

		seed = seed * 1103515245u + 12345u;
		piece = 1 + (seed >> 16) % 61;
		if (piece > n - at)
			piece = n - at;
		if (((seed >> 8) & 31) == 0) {
			h1_gap(&p, piece, ts++);
		} else {
			host.parsed_to = pos + piece;
			h1_data(&p, pos, in + at, piece, ts++);
		}
		pos += piece;
		at += piece;
	}
	h1_end(&p, ts);
	h1_release(&p);
	for (int i = 0; i < host.nheld; i++)
		h1_msg_unref(host.held[i]);
	h1_heads_free(heads);
	return 0;
}
