/* SPDX-License-Identifier: Apache-2.0 */
/*
 * What the whole-stage fuzz harnesses (http/native/fuzz_stitcher.c, conns/native/fuzz_conns.c)
 * share: the input read as operations on four connections, and ring records built for them as
 * the kernel lays them out, handed to the stage under test.
 *
 * Input: one byte of options (the harness's), then operations [op u8][len u16 le][len bytes].
 * The low 3 bits of op pick what happens, the next 2 bits the connection:
 *   0 open (payload[0]: role, payload[1] bit 0: IPv6)   1 data, egress   2 data, ingress
 *   3 data with only a prefix captured (a cut syscall)   4 a lost syscall (positions jump)
 *   5 close   6 the harness's own (fuzz_stage.op6)   7 time passes (fuzz_stage.idle)
 * op bit 7: the batches are taken (fuzz_stage.take). At the end every connection closes.
 */
#ifndef WISP_FUZZ_SCRIPT_H
#define WISP_FUZZ_SCRIPT_H

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "socket_trace.h"

#define FUZZ_CONNS 4

struct fuzz_stream {
	uint64_t id;
	uint64_t pos[2];
	uint8_t role;
	int open;
};

struct fuzz_script;

/* The stage under test, as a harness describes it. */
struct fuzz_stage {
	void *stage;
	uint8_t protocol;    /* of data records */
	uint8_t two_procs;   /* connections of odd ids belong to a second process (4243) */
	void (*record)(void *stage, const void *rec, size_t len);
	/* Sets the ports and addresses of an open record. */
	void (*addresses)(struct wisp_open_event *ev, const struct fuzz_stream *c);
	void (*op6)(struct fuzz_script *f, struct fuzz_stream *c);
	void (*idle)(void *stage, int64_t now_ns);
	/* Takes the batches made so far, checks and frees them. */
	void (*take)(void *stage);
};

struct fuzz_script {
	const struct fuzz_stage *h;
	uint64_t ts;
	uint64_t next_id;
	struct fuzz_stream conns[FUZZ_CONNS];
};

static inline void fuzz_header(const struct fuzz_script *f, struct wisp_event_header *h, uint8_t kind,
			       const struct fuzz_stream *c)
{
	memset(h, 0, sizeof(*h));
	h->kind = kind;
	h->tgid = 4242 + (f->h->two_procs ? (uint32_t)(c->id & 1) : 0);
	h->fd = (uint32_t)c->id;
	h->conn_id = c->id;
	h->ts_ns = f->ts;
}

/* A data record of `len` bytes of which the first `captured` were copied. */
static inline void fuzz_data(struct fuzz_script *f, struct fuzz_stream *c, uint8_t dir, const uint8_t *p, uint32_t len,
			     uint32_t captured)
{
	uint8_t *rec = malloc(sizeof(struct wisp_data_event) + captured);
	struct wisp_data_event ev;

	if (!rec)
		return;
	memset(&ev, 0, sizeof(ev));
	fuzz_header(f, &ev.hdr, WISP_EV_DATA, c);
	ev.direction = dir;
	ev.protocol = f->h->protocol;
	ev.size = len;
	ev.pos = c->pos[dir];
	ev.data_len = captured;
	memcpy(rec, &ev, sizeof(ev));
	memcpy(rec + sizeof(ev), p, captured);
	f->h->record(f->h->stage, rec, sizeof(ev) + captured);
	free(rec);
	c->pos[dir] += len;
}

static inline void fuzz_open(struct fuzz_script *f, struct fuzz_stream *c, const uint8_t *p, uint32_t len)
{
	struct wisp_open_event ev;

	memset(&ev, 0, sizeof(ev));
	fuzz_header(f, &ev.hdr, WISP_EV_OPEN, c);
	ev.role = len > 0 ? p[0] % 3 : 2;
	ev.family = len > 1 && (p[1] & 1) ? 10 : 2;
	memcpy(ev.comm, "fuzz", 4);
	f->h->addresses(&ev, c);
	f->h->record(f->h->stage, &ev, sizeof(ev));
	c->role = ev.role;
	c->open = 1;
}

/* A close record of c with its totals; a closed connection's id is never used again, as in the kernel. */
static inline void fuzz_close(struct fuzz_script *f, struct fuzz_stream *c)
{
	struct wisp_close_event ev;

	memset(&ev, 0, sizeof(ev));
	fuzz_header(f, &ev.hdr, WISP_EV_CLOSE, c);
	ev.egress_bytes = c->pos[0];
	ev.ingress_bytes = c->pos[1];
	f->h->record(f->h->stage, &ev, sizeof(ev));
	memset(c, 0, sizeof(*c));
	c->id = f->next_id++;
}

/* Runs the input's operations on the stage, then closes every connection (close records without totals). */
static inline void fuzz_run(struct fuzz_script *f, const struct fuzz_stage *h, const uint8_t *in, size_t n)
{
	size_t at = 1;

	memset(f, 0, sizeof(*f));
	f->h = h;
	f->ts = 1000000000ull;
	f->next_id = 1;
	for (int i = 0; i < FUZZ_CONNS; i++)
		f->conns[i].id = f->next_id++;
	while (at + 3 <= n) {
		uint8_t op = in[at];
		uint32_t len = (uint32_t)(in[at + 1] | in[at + 2] << 8);
		const uint8_t *p = in + at + 3;
		struct fuzz_stream *c = &f->conns[(op >> 3) & 3];

		at += 3;
		if (len > n - at)
			len = (uint32_t)(n - at);
		at += len;
		f->ts += 1000;
		switch (op & 7) {
		case 0:
			fuzz_open(f, c, p, len);
			break;
		case 1:
		case 2:
			fuzz_data(f, c, (op & 7) == 1 ? WISP_DIR_EGRESS : WISP_DIR_INGRESS, p, len, len);
			break;
		case 3:
			fuzz_data(f, c, (op >> 5) & 1, p, len + (len > 0 ? p[0] : 0), len / 2);
			break;
		case 4:
			c->pos[(op >> 5) & 1] += len;
			break;
		case 5:
			fuzz_close(f, c);
			break;
		case 6:
			h->op6(f, c);
			break;
		case 7:
			f->ts += (uint64_t)len * 1000000ull;
			h->idle(h->stage, (int64_t)f->ts);
			break;
		}
		if (op & 0x80)
			h->take(h->stage);
	}
	for (int i = 0; i < FUZZ_CONNS; i++) {
		struct wisp_close_event ev;

		memset(&ev, 0, sizeof(ev));
		fuzz_header(f, &ev.hdr, WISP_EV_CLOSE, &f->conns[i]);
		h->record(h->stage, &ev, sizeof(ev));
		f->conns[i].open = 0;
	}
}

#endif
