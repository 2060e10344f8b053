// SPDX-License-Identifier: Apache-2.0
/*
 * From ring records to `http_events` rows: connections by kernel id, per direction reassembly
 * and parsing, and FIFO pairing of requests with responses.
 *
 * Pairing rules (none of them ever produces a row from a guess):
 * - requests are queued when their head is complete, so a response that arrives before the
 *   request body (an early 413, a 100-continue refusal) still finds its request;
 * - a response pairs with the oldest queued request, unless it began before that request did:
 *   then its own request was lost, and it is counted as unpaired;
 * - a request dropped mid-way (gap in its framing) leaves a broken entry in the queue, so its
 *   response is consumed without a row instead of being paired with the next request;
 * - a response dropped mid-way, or a gap between responses, consumes the oldest request;
 * - a response that completes before its request does (a gap still pending in the request
 *   body, or an early answer) waits for the request, or for the close, to make its row.
 */
#include "wisp_http.h"
#include "addr.h"
#include "columns.h"
#include "http1.h"
#include "reassembly.h"
#include "redact.h"
#include "../../native/idtable.h"

#include <stdlib.h>
#include <string.h>

#include "socket_trace.h"

/* Bytes a placeholder queue entry is counted for. */
#define PLACEHOLDER_COST 64
/* Batches are closed at this many bytes even when they have room for rows. */
#define BATCH_MAX_BYTES (64u << 20)
/* Distinct header sections remembered (see http1.h's h1_heads). */
#define HEAD_CACHE_SLOTS 1024

enum evict_reason { EVICT_IDLE, EVICT_MEMORY, EVICT_COUNT };

struct qreq {
	struct h1_msg *msg; /* NULL: a request dropped before its head was complete */
	uint8_t broken;
	uint32_t cost;
};

struct waiting {
	struct h1_msg *req;
	struct h1_msg *resp;
};

struct conn;

struct side {
	struct reasm reasm;
	struct h1_parser parser;
	struct conn *conn;
	uint8_t dir;      /* WISP_DIR_EGRESS or WISP_DIR_INGRESS */
	uint8_t seen;
	uint8_t shedding; /* the kernel sheds this connection: holes are shed, not lost */
	uint64_t shed_ts; /* when it began: what was lost in the stretch was lost by then */
};

struct conn {
	struct wisp_id_entry e; /* by kernel id, in LRU order */
	struct wisp_stitcher *st;
	uint32_t fd;
	uint8_t role;
	uint8_t has_open;
	uint8_t tunneled;
	uint8_t closing;
	uint8_t dropped_at_close;
	uint8_t muted;
	uint8_t encrypted; /* its bytes are the plaintext the TLS uprobes read */
	uint16_t local_port;
	uint16_t remote_port;
	uint8_t local_len;
	uint8_t remote_len;
	char local_addr[48];
	char remote_addr[48];
	struct wisp_proc proc;
	struct qreq *queue;
	uint32_t qlen;
	uint32_t qcap;
	uint64_t queue_bytes;
	struct waiting *awaiting;
	uint32_t nawait;
	uint32_t await_cap;
	uint64_t last_ts;
	uint64_t buffered;
	uint64_t skip_to[2];
	struct side side[2];
};

struct wisp_stitcher {
	struct wisp_http_options o;
	struct wisp_http_counters c;
	struct h1_limits lim;
	struct reasm_limits rlim;
	struct redactor *redact;
	struct h1_heads *heads;
	wisp_ctl_fn ctl;
	void *ctl_ctx;
	wisp_proc_fn proc;
	void *proc_ctx;
	struct wisp_id_table conns;
	struct wisp_batch *open;
	struct wisp_batch *done;
	struct wisp_batch *done_tail;
	/* Set while the kernel's shed stretch is delivered: what it drops was shed, not lost. */
	int in_shed;
	struct buf path;      /* a redacted request target */
	struct buf path_tmp;
};

void wisp_http_options_default(struct wisp_http_options *o)
{
	memset(o, 0, sizeof(*o));
	o->body_prefix_bytes = 512;
	/* The kernel copies a syscall's first 16 KiB whole (bpf/maps.bpf.h): a longer head is cut. */
	o->max_header_bytes = 16 * 1024;
	o->max_pending_bytes = 256 * 1024;
	o->max_pending_segments = 64;
	o->max_pipelined = 64;
	o->max_buffered_bytes = 64ull << 20;
	o->max_connections = 16384;
	o->idle_ns = 120ull * 1000000000ull;
	o->reorder_ns = 50ull * 1000000ull;
	o->batch_rows = 65536;
	o->skip_body_over = 64 * 1024;
	o->redact_mode = REDACT_DEFAULTS;
}

const struct wisp_http_counters *wisp_stitcher_counters(const struct wisp_stitcher *s)
{
	return &s->c;
}

/* ---- connections ---- */

static struct conn *conn_of(struct wisp_lru_link *l)
{
	return WISP_CONTAINER(l, struct conn, e.lru);
}

static struct conn *find(struct wisp_stitcher *s, uint64_t id)
{
	return WISP_CONTAINER(wisp_idt_find(&s->conns, id), struct conn, e);
}

static enum h1_method_class side_request_method(void *ctx);
static void side_on_head(void *ctx, struct h1_msg *m);
static void side_on_message(void *ctx, struct h1_msg *m);
static void side_on_drop(void *ctx, struct h1_msg *m, int in_flight, uint64_t ts);
static void side_skip_body(void *ctx, uint64_t end);
static void side_data(void *ctx, uint64_t pos, const uint8_t *b, size_t n, uint64_t ts);
static void side_gap(void *ctx, uint64_t pos, uint64_t len, uint64_t ts);

static void side_init(struct wisp_stitcher *s, struct conn *c, uint8_t dir)
{
	struct side *sd = &c->side[dir];
	struct h1_host host = { side_request_method, side_on_head, side_on_message, side_on_drop, side_skip_body, sd };
	struct h1_counters hc = { &s->c.parse_errors, &s->c.resyncs, &s->c.oversized_headers, &s->c.invalid_chunks,
				  &s->c.interim_responses };
	struct reasm_sink sink = { side_data, side_gap, sd };
	struct reasm_counters rc = { &s->c.duplicate_bytes, &s->c.reorder_overflows };

	sd->conn = c;
	sd->dir = dir;
	h1_init(&sd->parser, host, &s->lim, hc, s->heads);
	reasm_init(&sd->reasm, sink, &s->rlim, rc);
}

static uint32_t queue_live(const struct conn *c)
{
	uint32_t n = 0;

	for (uint32_t i = 0; i < c->qlen; i++)
		n += !c->queue[i].broken;
	return n;
}

static void queue_clear(struct conn *c)
{
	for (uint32_t i = 0; i < c->qlen; i++)
		h1_msg_unref(c->queue[i].msg);
	c->qlen = 0;
	c->queue_bytes = 0;
}

static void remove_conn(struct wisp_stitcher *s, struct conn *c)
{
	wisp_idt_remove(&s->conns, &c->e);
	for (int d = 0; d < 2; d++) {
		reasm_discard(&c->side[d].reasm);
		h1_release(&c->side[d].parser);
	}
	queue_clear(c);
	free(c->queue);
	for (uint32_t i = 0; i < c->nawait; i++) {
		h1_msg_unref(c->awaiting[i].req);
		h1_msg_unref(c->awaiting[i].resp);
	}
	free(c->awaiting);
	s->c.buffered_bytes -= c->buffered;
	s->c.connections--;
	free(c);
}

static void evict(struct wisp_stitcher *s, struct conn *c, enum evict_reason why)
{
	if (why == EVICT_IDLE)
		s->c.evictions_idle++;
	else if (why == EVICT_MEMORY)
		s->c.evictions_memory++;
	else
		s->c.evictions_count++;
	if (!c->tunneled)
		s->c.unanswered_requests += queue_live(c);
	remove_conn(s, c);
}

/* The connection with this id, created (least recently used evicted beyond the cap) when new. */
static struct conn *conn_get(struct wisp_stitcher *s, uint64_t id, uint32_t pid, uint32_t fd)
{
	struct conn *c = find(s, id);

	if (c) {
		wisp_lru_touch(&s->conns.lru, &c->e.lru);
		return c;
	}
	c = calloc(1, sizeof(*c));
	if (!c)
		return NULL;
	c->e.id = id;
	c->st = s;
	c->fd = fd;
	c->proc.pid = pid;
	side_init(s, c, WISP_DIR_EGRESS);
	side_init(s, c, WISP_DIR_INGRESS);
	wisp_idt_insert(&s->conns, &c->e);
	s->c.connections++;
	if (s->c.connections > s->o.max_connections)
		evict(s, conn_of(s->conns.lru.head), EVICT_COUNT);
	return find(s, id);
}

static uint64_t conn_buffered(const struct conn *c)
{
	return reasm_buffered(&c->side[0].reasm) + reasm_buffered(&c->side[1].reasm) + h1_buffered(&c->side[0].parser) +
	       h1_buffered(&c->side[1].parser) + c->queue_bytes +
	       (uint64_t)c->nawait * 2 * sizeof(struct h1_msg);
}

/* Keeps the global byte count current and under its bound. May evict c itself: call last. */
static void account(struct wisp_stitcher *s, struct conn *c)
{
	uint64_t b = conn_buffered(c);

	s->c.buffered_bytes += b - c->buffered;
	c->buffered = b;
	while (s->c.buffered_bytes > s->o.max_buffered_bytes && s->conns.lru.head)
		evict(s, conn_of(s->conns.lru.head), EVICT_MEMORY);
}

/* ---- rows ---- */

/*
 * How much of a body prefix is text: when the body was cut, a multi-byte UTF-8 sequence split by
 * the cut is left out instead of becoming a replacement character.
 */
static uint32_t body_text_len(const uint8_t *b, uint32_t len, int cut)
{
	uint32_t n = len;
	int64_t i;

	if (!cut || n == 0)
		return n;
	i = (int64_t)n - 1;
	while (i >= 0 && n - i < 4 && (b[i] & 0xc0) == 0x80)
		i--;
	if (i >= 0) {
		uint8_t c = b[i];
		uint32_t need = c >= 0xf0 ? 4 : c >= 0xe0 ? 3 : c >= 0xc0 ? 2 : 1;

		if (need > n - i)
			n = (uint32_t)i;
	}
	return n;
}

static void close_open_batch(struct wisp_stitcher *s)
{
	if (!s->open || s->open->rows == 0)
		return;
	if (s->done_tail)
		s->done_tail->next = s->open;
	else
		s->done = s->open;
	s->done_tail = s->open;
	s->open = NULL;
}

static void emit(struct conn *c, struct h1_msg *req, struct h1_msg *resp)
{
	struct wisp_stitcher *s = c->st;
	struct batch_row r;
	const uint8_t *target = h1_msg_line(req);
	size_t target_len = req->line_len;

	if (!s->open) {
		s->open = batch_new(s->o.batch_rows);
		if (!s->open) {
			s->c.row_alloc_failures++;
			return;
		}
	}
	memset(&r, 0, sizeof(r));
	r.time_ns = (int64_t)resp->last_ts;
	r.num[WISP_COL_REMOTE_PORT] = c->remote_port;
	r.num[WISP_COL_LOCAL_PORT] = c->local_port;
	r.num[WISP_COL_TRACE_ROLE] = c->role;
	r.encrypted = c->encrypted;
	r.num[WISP_COL_MAJOR_VERSION] = resp->major;
	r.num[WISP_COL_MINOR_VERSION] = resp->minor;
	r.num[WISP_COL_CONTENT_TYPE] = resp->head->json_type;
	r.num[WISP_COL_REQ_BODY_SIZE] = (double)req->body_size;
	r.num[WISP_COL_RESP_STATUS] = resp->status;
	r.num[WISP_COL_RESP_BODY_SIZE] = (double)resp->body_size;
	r.num[WISP_COL_LATENCY] = resp->last_ts > req->first_ts ? (double)(resp->last_ts - req->first_ts) : 0;
	r.num[WISP_COL_PID] = c->proc.pid;
	r.str[WISP_COL_REMOTE_ADDR] = (const uint8_t *)c->remote_addr;
	r.str_len[WISP_COL_REMOTE_ADDR] = c->remote_len;
	r.str[WISP_COL_LOCAL_ADDR] = (const uint8_t *)c->local_addr;
	r.str_len[WISP_COL_LOCAL_ADDR] = c->local_len;
	r.str[WISP_COL_REQ_HEADERS] = (const uint8_t *)req->head->json;
	r.str_len[WISP_COL_REQ_HEADERS] = req->head->json_len;
	r.str_id[WISP_COL_REQ_HEADERS] = req->head->id;
	r.str[WISP_COL_REQ_METHOD] = req->text;
	r.str_len[WISP_COL_REQ_METHOD] = req->method_len;
	switch (redact_path(s->redact, target, target_len, &s->path, &s->path_tmp)) {
	case 0:
		r.str[WISP_COL_REQ_PATH] = target;
		r.str_len[WISP_COL_REQ_PATH] = (uint32_t)target_len;
		break;
	case 1:
		r.str[WISP_COL_REQ_PATH] = s->path.p;
		r.str_len[WISP_COL_REQ_PATH] = (uint32_t)s->path.len;
		break;
	default:
		/* No memory to redact it: the target is not stored as sent. */
		r.str[WISP_COL_REQ_PATH] = (const uint8_t *)REDACTED;
		r.str_len[WISP_COL_REQ_PATH] = REDACTED_LEN;
	}
	r.str[WISP_COL_REQ_BODY] = req->body;
	r.str_len[WISP_COL_REQ_BODY] = body_text_len(req->body, req->body_len, req->body_size > req->body_len);
	r.str[WISP_COL_RESP_HEADERS] = (const uint8_t *)resp->head->json;
	r.str_len[WISP_COL_RESP_HEADERS] = resp->head->json_len;
	r.str_id[WISP_COL_RESP_HEADERS] = resp->head->id;
	r.str[WISP_COL_RESP_MESSAGE] = h1_msg_line(resp);
	r.str_len[WISP_COL_RESP_MESSAGE] = resp->line_len;
	r.str[WISP_COL_RESP_BODY] = resp->body;
	r.str_len[WISP_COL_RESP_BODY] = body_text_len(resp->body, resp->body_len, resp->body_size > resp->body_len);
	r.proc = &c->proc;
	if (batch_append(s->open, &r)) {
		s->c.row_alloc_failures++;
		return;
	}
	s->c.rows++;
	if (s->open->rows >= s->open->cap || s->open->bytes >= BATCH_MAX_BYTES) {
		s->c.batches_full++;
		close_open_batch(s);
	}
}

/* ---- pairing ---- */

static struct side *request_side(struct conn *c)
{
	return &c->side[c->role == 1 ? WISP_DIR_EGRESS : WISP_DIR_INGRESS];
}

/* The direction that carries requests, once the role is known; -1 before. */
static int request_dir(const struct conn *c)
{
	return c->role == 1 ? WISP_DIR_EGRESS : c->role == 2 ? WISP_DIR_INGRESS : -1;
}

/* Settles the role from the first message seen when the open event did not tell it. */
static int role_fits(struct conn *c, uint8_t dir, uint8_t kind)
{
	if (c->role == 0)
		c->role = (dir == WISP_DIR_EGRESS) == (kind == H1_REQUEST) ? 1 : 2;
	return (request_dir(c) == dir) == (kind == H1_REQUEST);
}

static int queue_push(struct conn *c, struct h1_msg *m, uint8_t broken, uint32_t cost)
{
	if (c->qlen == c->qcap) {
		uint32_t cap = c->qcap ? c->qcap * 2 : 4;
		struct qreq *q = realloc(c->queue, cap * sizeof(*q));

		if (!q)
			return -1;
		c->queue = q;
		c->qcap = cap;
	}
	if (m)
		h1_msg_ref(m);
	c->queue[c->qlen].msg = m;
	c->queue[c->qlen].broken = broken;
	c->queue[c->qlen].cost = cost;
	c->qlen++;
	c->queue_bytes += cost;
	return 0;
}

/* Removes the oldest queued request; the caller gets its reference. */
static struct qreq dequeue(struct conn *c)
{
	struct qreq q = c->queue[0];

	c->qlen--;
	memmove(c->queue, c->queue + 1, c->qlen * sizeof(*c->queue));
	c->queue_bytes -= q.cost;
	return q;
}

static void mute(struct wisp_stitcher *s, struct conn *c)
{
	if (c->muted)
		return;
	c->muted = 1;
	s->c.mute_requests++;
	if (s->ctl)
		s->ctl(s->ctl_ctx, c->e.id, c->skip_to, 1);
}

/* Switches protocols after a 101 / CONNECT 2xx, or lets a refused Upgrade request go on. */
static void after_response(struct conn *c, struct h1_msg *req, struct h1_msg *resp)
{
	struct wisp_stitcher *s = c->st;

	if (resp->upgrade) {
		s->c.upgrades++;
		c->tunneled = 1;
		for (int d = 0; d < 2; d++) {
			h1_tunnel(&c->side[d].parser);
			reasm_discard(&c->side[d].reasm);
		}
		s->c.unanswered_requests += c->qlen;
		queue_clear(c);
		mute(s, c);
	} else if (req && req->upgrade) {
		h1_resume(&request_side(c)->parser);
	}
}

static enum h1_method_class side_request_method(void *ctx)
{
	struct conn *c = ((struct side *)ctx)->conn;

	return c->qlen > 0 && c->queue[0].msg ? (enum h1_method_class)c->queue[0].msg->method_class : H1_M_OTHER;
}

static void side_on_head(void *ctx, struct h1_msg *m)
{
	struct side *sd = ctx;
	struct conn *c = sd->conn;
	struct wisp_stitcher *s = c->st;

	if (!role_fits(c, sd->dir, m->kind)) {
		s->c.wrong_direction++;
		return;
	}
	if (m->kind != H1_REQUEST)
		return;
	if (c->qlen >= s->o.max_pipelined) {
		/* The oldest request gives up its memory but keeps its place, so later responses still
		 * pair with their own requests. */
		s->c.queue_overflows++;
		for (uint32_t i = 0; i < c->qlen; i++) {
			if (!c->queue[i].msg)
				continue;
			h1_msg_unref(c->queue[i].msg);
			c->queue_bytes += PLACEHOLDER_COST - (uint64_t)c->queue[i].cost;
			c->queue[i].msg = NULL;
			c->queue[i].broken = 1;
			c->queue[i].cost = PLACEHOLDER_COST;
			break;
		}
		if (c->qlen >= 4 * s->o.max_pipelined) {
			/* Nothing is answering: stop tracking these requests at all. */
			s->c.unanswered_requests += c->qlen;
			queue_clear(c);
		}
	}
	if (queue_push(c, m, 0, m->head_bytes * 2 + s->o.body_prefix_bytes))
		s->c.dropped_exchanges++;
}

static void await_remove(struct conn *c, uint32_t i)
{
	h1_msg_unref(c->awaiting[i].req);
	h1_msg_unref(c->awaiting[i].resp);
	c->nawait--;
	memmove(c->awaiting + i, c->awaiting + i + 1, (c->nawait - i) * sizeof(*c->awaiting));
}

static void side_on_message(void *ctx, struct h1_msg *m)
{
	struct side *sd = ctx;
	struct conn *c = sd->conn;
	struct wisp_stitcher *s = c->st;
	struct qreq q;

	if (m->kind == H1_REQUEST) {
		if (request_dir(c) != sd->dir)
			return;
		for (uint32_t i = 0; i < c->nawait; i++) {
			if (c->awaiting[i].req == m) {
				emit(c, m, c->awaiting[i].resp);
				await_remove(c, i);
				break;
			}
		}
		return;
	}
	if (request_dir(c) == sd->dir)
		return;
	if (c->qlen == 0 || (c->queue[0].msg && m->first_ts < c->queue[0].msg->first_ts)) {
		s->c.unpaired_responses++;
		after_response(c, NULL, m);
		return;
	}
	q = dequeue(c);
	if (q.broken || !q.msg) {
		s->c.dropped_exchanges++;
		after_response(c, q.msg, m);
		h1_msg_unref(q.msg);
		return;
	}
	after_response(c, q.msg, m);
	if (q.msg->complete) {
		emit(c, q.msg, m);
	} else {
		if (c->nawait == c->await_cap) {
			uint32_t cap = c->await_cap ? c->await_cap * 2 : 2;
			struct waiting *w = realloc(c->awaiting, cap * sizeof(*w));

			if (!w) {
				s->c.dropped_exchanges++;
				h1_msg_unref(q.msg);
				return;
			}
			c->awaiting = w;
			c->await_cap = cap;
		}
		h1_msg_ref(m);
		c->awaiting[c->nawait].req = q.msg;
		c->awaiting[c->nawait].resp = m;
		c->nawait++;
		return;
	}
	h1_msg_unref(q.msg);
}

/* An exchange lost: under the kernel's shedding it was shed, otherwise dropped. */
static void lost_exchange(struct wisp_stitcher *s)
{
	if (s->in_shed)
		s->c.shed_exchanges++;
	else
		s->c.dropped_exchanges++;
}

static void side_on_drop(void *ctx, struct h1_msg *m, int in_flight, uint64_t ts)
{
	struct side *sd = ctx;
	struct conn *c = sd->conn;
	struct wisp_stitcher *s = c->st;
	int req_dir = request_dir(c);

	if (req_dir < 0)
		return;
	if (c->closing && in_flight && sd->dir != req_dir)
		c->dropped_at_close = 1;
	if (sd->dir == req_dir) {
		if (!in_flight)
			return;
		if (m) {
			for (uint32_t i = 0; i < c->qlen; i++) {
				if (c->queue[i].msg == m) {
					c->queue[i].broken = 1;
					return;
				}
			}
			for (uint32_t i = 0; i < c->nawait; i++) {
				if (c->awaiting[i].req == m) {
					if (!c->closing) {
						await_remove(c, i);
						lost_exchange(s);
					}
					return;
				}
			}
			return;
		}
		/* A request lost before its head was complete still gets a response: hold its place. */
		if (!c->closing && queue_push(c, NULL, 1, PLACEHOLDER_COST))
			lost_exchange(s);
		return;
	}
	/* The response to the oldest request was lost, mid-way or (a gap between responses)
	 * entirely, if that request was sent before the loss. */
	if (c->qlen > 0 && (in_flight || !c->queue[0].msg || c->queue[0].msg->first_ts <= ts)) {
		struct qreq q = dequeue(c);

		h1_msg_unref(q.msg);
		lost_exchange(s);
	}
}

static void side_skip_body(void *ctx, uint64_t end)
{
	struct side *sd = ctx;
	struct conn *c = sd->conn;
	struct wisp_stitcher *s = c->st;

	if (end <= c->skip_to[sd->dir])
		return;
	c->skip_to[sd->dir] = end;
	s->c.skip_requests++;
	if (s->ctl)
		s->ctl(s->ctl_ctx, c->e.id, c->skip_to, c->muted);
}

static void side_data(void *ctx, uint64_t pos, const uint8_t *b, size_t n, uint64_t ts)
{
	struct side *sd = ctx;

	h1_data(&sd->parser, pos, b, n, ts);
}

static void side_gap(void *ctx, uint64_t pos, uint64_t len, uint64_t ts)
{
	struct side *sd = ctx;
	struct conn *c = sd->conn;
	struct wisp_stitcher *s = c->st;
	uint64_t skipped = c->skip_to[sd->dir] > pos ? c->skip_to[sd->dir] - pos : 0;

	/* Bytes the kernel was asked not to copy are not lost. */
	if (s->in_shed)
		s->c.shed_gaps++;
	else if (skipped < len) {
		s->c.gaps++;
		s->c.gap_bytes += len - skipped;
	}
	h1_gap(&sd->parser, len, ts);
}

/* ---- records ---- */

static uint64_t realtime(uint64_t mono, int64_t offset)
{
	return (uint64_t)((int64_t)mono + offset);
}

static void on_open(struct wisp_stitcher *s, const struct wisp_open_event *ev, uint64_t ts)
{
	struct conn *c;

	if (ev->role > 2 || (ev->family != 2 && ev->family != 10)) {
		s->c.malformed_records++;
		return;
	}
	c = conn_get(s, ev->hdr.conn_id, ev->hdr.tgid, ev->hdr.fd);
	if (!c)
		return;
	c->has_open = 1;
	if (c->role == 0)
		c->role = ev->role;
	if (s->proc)
		s->proc(s->proc_ctx, ev->hdr.tgid, ev->start_boottime_ns);
	c->local_port = ev->local_port;
	c->remote_port = ev->remote_port;
	c->local_len = wisp_format_addr(c->local_addr, ev->local_addr, ev->family == 10);
	c->remote_len = wisp_format_addr(c->remote_addr, ev->remote_addr, ev->family == 10);
	c->proc.start_boottime_ns = ev->start_boottime_ns;
	memcpy(c->proc.comm, ev->comm, sizeof(c->proc.comm));
	/* The kernel pads comm with NULs, but a record is untrusted: keep what follows the first NUL zero. */
	for (size_t i = 0, z = 0; i < sizeof(c->proc.comm); i++) {
		z |= c->proc.comm[i] == 0;
		if (z)
			c->proc.comm[i] = 0;
	}
	if (ts > c->last_ts)
		c->last_ts = ts;
	account(s, c);
}

static void on_data(struct wisp_stitcher *s, const struct wisp_data_event *ev, const uint8_t *data, uint64_t ts)
{
	struct conn *c;
	struct side *sd;
	uint8_t dir = ev->direction;

	s->c.bytes += ev->data_len;
	c = conn_get(s, ev->hdr.conn_id, ev->hdr.tgid, ev->hdr.fd);
	if (!c)
		return;
	if (ts > c->last_ts)
		c->last_ts = ts;
	if (ev->tls)
		c->encrypted = 1;
	if (c->tunneled)
		return;
	sd = &c->side[dir];
	/* Every chunk of a syscall is delivered before any record of a later syscall on the
	 * connection, so the other direction's last syscall is now complete. */
	reasm_seal(&c->side[!dir].reasm);
	if (c->tunneled) {
		account(s, c);
		return;
	}
	if (!sd->seen) {
		sd->seen = 1;
		if (!c->has_open && !(c->side[0].seen && c->side[1].seen))
			s->c.missing_open++;
		/* Without the open record, or past the stream start, the first bytes may be mid-message. */
		if (!c->has_open || ev->pos + ev->chunk_offset != 0)
			h1_start_mid_stream(&sd->parser);
	}
	if (sd->shedding) {
		sd->shedding = 0;
		s->in_shed = 1;
		reasm_skip_to(&sd->reasm, ev->pos, sd->shed_ts);
		s->in_shed = 0;
	}
	reasm_add(&sd->reasm, ev->pos, ev->size, ev->chunk_offset, data, ev->data_len, ts);
	account(s, c);
}

static void on_close(struct wisp_stitcher *s, const struct wisp_close_event *ev, uint64_t ts)
{
	struct conn *c = find(s, ev->hdr.conn_id);
	struct side *req, *resp;
	uint32_t waiting;

	if (!c)
		return;
	c->closing = 1;
	req = request_dir(c) == WISP_DIR_INGRESS ? &c->side[WISP_DIR_INGRESS] : &c->side[WISP_DIR_EGRESS];
	resp = req == &c->side[0] ? &c->side[1] : &c->side[0];
	if (!c->tunneled) {
		reasm_force_holes(&req->reasm);
		reasm_force_holes(&resp->reasm);
		h1_end(&req->parser, ts);
		h1_end(&resp->parser, ts);
		/* The exchange ended with the request unfinished (an early answer): what was sent is all. */
		while (c->nawait > 0) {
			emit(c, c->awaiting[0].req, c->awaiting[0].resp);
			await_remove(c, 0);
		}
	}
	waiting = c->tunneled ? 0 : queue_live(c);
	s->c.unanswered_requests += waiting;
	if (waiting > 0 || c->dropped_at_close)
		s->c.died_mid_exchange++;
	remove_conn(s, c);
}

static void on_shed(struct wisp_stitcher *s, const struct wisp_shed_event *ev, uint64_t ts)
{
	struct conn *c = find(s, ev->hdr.conn_id);

	if (!c)
		return;
	if (ts > c->last_ts)
		c->last_ts = ts;
	for (int d = 0; d < 2; d++) {
		struct side *sd = &c->side[d];

		/* The marker tells where each direction stood, even one that has sent nothing yet. */
		reasm_start_at(&sd->reasm, ev->pos[d]);
		if (!sd->seen) {
			sd->seen = 1;
			if (!c->has_open || ev->pos[d] != 0)
				h1_start_mid_stream(&sd->parser);
		}
		sd->shedding = 1;
		sd->shed_ts = ts;
	}
}

void wisp_stitcher_record(struct wisp_stitcher *s, const void *rec, size_t len, int64_t clock_offset_ns)
{
	const uint8_t *r = rec;
	struct wisp_event_header h;
	uint64_t ts;

	s->c.records++;
	if (len < sizeof(h)) {
		s->c.malformed_records++;
		return;
	}
	memcpy(&h, r, sizeof(h));
	ts = realtime(h.ts_ns, clock_offset_ns);
	switch (h.kind) {
	case WISP_EV_OPEN: {
		struct wisp_open_event ev;

		if (len < sizeof(ev))
			break;
		memcpy(&ev, r, sizeof(ev));
		on_open(s, &ev, ts);
		return;
	}
	case WISP_EV_DATA: {
		struct wisp_data_event ev;

		if (len < sizeof(ev))
			break;
		memcpy(&ev, r, sizeof(ev));
		/* A TLS handshake's bytes are the connections stage's (src/engine/conns/native). */
		if (ev.protocol == WISP_PROTOCOL_TLS)
			return;
		if (ev.direction > 1 || ev.protocol != WISP_PROTOCOL_HTTP || ev.data_len > len - sizeof(ev) ||
		    ev.pos > UINT64_MAX - ev.size)
			break;
		on_data(s, &ev, r + sizeof(ev), ts);
		return;
	}
	case WISP_EV_CLOSE: {
		struct wisp_close_event ev;

		if (len < sizeof(ev))
			break;
		memcpy(&ev, r, sizeof(ev));
		on_close(s, &ev, ts);
		return;
	}
	case WISP_EV_SHED: {
		struct wisp_shed_event ev;

		if (len < sizeof(ev))
			break;
		memcpy(&ev, r, sizeof(ev));
		on_shed(s, &ev, ts);
		return;
	}
	default:
		break;
	}
	s->c.malformed_records++;
}

void wisp_stitcher_flush_idle(struct wisp_stitcher *s, int64_t now_ns)
{
	struct conn *c = conn_of(s->conns.lru.head), *next;

	/* Idle connections go; holes that waited past the reorder window become gaps. Memory is
	 * checked after the walk, so that no eviction removes a connection the walk holds. */
	for (; c; c = next) {
		next = conn_of(c->e.lru.next);
		if ((int64_t)((uint64_t)now_ns - c->last_ts) > (int64_t)s->o.idle_ns) {
			evict(s, c, EVICT_IDLE);
			continue;
		}
		for (int d = 0; d < 2 && !c->tunneled; d++)
			if ((int64_t)((uint64_t)now_ns - c->side[d].reasm.last_ts) > (int64_t)s->o.reorder_ns)
				reasm_force_holes(&c->side[d].reasm);
		{
			uint64_t b = conn_buffered(c);

			s->c.buffered_bytes += b - c->buffered;
			c->buffered = b;
		}
	}
	while (s->c.buffered_bytes > s->o.max_buffered_bytes && s->conns.lru.head)
		evict(s, conn_of(s->conns.lru.head), EVICT_MEMORY);
}

struct wisp_batch *wisp_stitcher_take(struct wisp_stitcher *s)
{
	struct wisp_batch *b;

	close_open_batch(s);
	b = s->done;
	s->done = s->done_tail = NULL;
	return b;
}

uint32_t wisp_stitcher_pending_rows(const struct wisp_stitcher *s)
{
	uint32_t n = s->open ? s->open->rows : 0;

	for (const struct wisp_batch *b = s->done; b; b = b->next)
		n += b->rows;
	return n;
}

struct wisp_stitcher *wisp_stitcher_new(const struct wisp_http_options *o, wisp_ctl_fn ctl, void *ctl_ctx)
{
	struct wisp_stitcher *s = calloc(1, sizeof(*s));
	uint32_t n = 1024;

	if (!s)
		return NULL;
	s->o = *o;
	if (s->o.batch_rows == 0)
		s->o.batch_rows = 1;
	if (s->o.max_header_bytes < 64)
		s->o.max_header_bytes = 64;
	s->lim.max_header_bytes = s->o.max_header_bytes;
	s->lim.body_prefix_bytes = s->o.body_prefix_bytes;
	s->lim.skip_body_over = s->o.skip_body_over;
	s->rlim.max_pending_bytes = s->o.max_pending_bytes;
	s->rlim.max_pending_segments = s->o.max_pending_segments;
	s->ctl = ctl;
	s->ctl_ctx = ctl_ctx;
	while (n < s->o.max_connections * 2 && n < (1u << 30))
		n *= 2;
	wisp_idt_init(&s->conns, n);
	s->redact = redactor_new((enum redact_mode)s->o.redact_mode, o->redact_headers, o->n_redact_headers, o->redact_params,
				 o->n_redact_params);
	s->o.redact_headers = NULL;
	s->o.redact_params = NULL;
	s->heads = s->redact ? h1_heads_new(HEAD_CACHE_SLOTS, s->redact) : NULL;
	if (!s->conns.buckets || !s->heads) {
		wisp_stitcher_free(s);
		return NULL;
	}
	return s;
}

void wisp_stitcher_on_process(struct wisp_stitcher *s, wisp_proc_fn fn, void *ctx)
{
	s->proc = fn;
	s->proc_ctx = ctx;
}

void wisp_stitcher_free(struct wisp_stitcher *s)
{
	struct wisp_batch *b;

	if (!s)
		return;
	while (s->conns.lru.head)
		remove_conn(s, conn_of(s->conns.lru.head));
	wisp_batch_free(s->open);
	for (b = s->done; b;) {
		struct wisp_batch *next = b->next;

		wisp_batch_free(b);
		b = next;
	}
	h1_heads_free(s->heads);
	redactor_free(s->redact);
	wisp_idt_free(&s->conns);
	buf_free(&s->path);
	buf_free(&s->path_tmp);
	free(s);
}
