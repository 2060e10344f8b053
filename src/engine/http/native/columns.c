// SPDX-License-Identifier: Apache-2.0
/* Column batches with per-batch string tables; see columns.h. */
#include "columns.h"
#include "../../native/hash.h"

#include <stdlib.h>
#include <string.h>

const char *const wisp_col_num_names[WISP_COL_NUM__COUNT] = {
	[WISP_COL_REMOTE_PORT] = "remote_port",
	[WISP_COL_LOCAL_PORT] = "local_port",
	[WISP_COL_TRACE_ROLE] = "trace_role",
	[WISP_COL_MAJOR_VERSION] = "major_version",
	[WISP_COL_MINOR_VERSION] = "minor_version",
	[WISP_COL_CONTENT_TYPE] = "content_type",
	[WISP_COL_REQ_BODY_SIZE] = "req_body_size",
	[WISP_COL_RESP_STATUS] = "resp_status",
	[WISP_COL_RESP_BODY_SIZE] = "resp_body_size",
	[WISP_COL_LATENCY] = "latency",
	[WISP_COL_PID] = "pid",
};

const char *const wisp_col_str_names[WISP_COL_STR__COUNT] = {
	[WISP_COL_REMOTE_ADDR] = "remote_addr",
	[WISP_COL_LOCAL_ADDR] = "local_addr",
	[WISP_COL_REQ_HEADERS] = "req_headers",
	[WISP_COL_REQ_METHOD] = "req_method",
	[WISP_COL_REQ_PATH] = "req_path",
	[WISP_COL_REQ_BODY] = "req_body",
	[WISP_COL_RESP_HEADERS] = "resp_headers",
	[WISP_COL_RESP_MESSAGE] = "resp_message",
	[WISP_COL_RESP_BODY] = "resp_body",
};

/* A column's strings: first slots, strings and bytes, and its bytes at most 2 GiB (32-bit offsets). */
static const struct wisp_strtab_sizes table_sizes = { 64, 64, 4096, 1u << 31 };

void wisp_batch_free(struct wisp_batch *b)
{
	if (!b)
		return;
	free(b->time_ns);
	for (int i = 0; i < WISP_COL_NUM__COUNT; i++)
		free(b->num[i]);
	free(b->encrypted);
	for (int i = 0; i < WISP_COL_STR__COUNT; i++) {
		free(b->codes[i]);
		wisp_strtab_free(&b->str[i].t);
	}
	free(b->proc_code);
	free(b->procs);
	free(b->proc_slots);
	free(b);
}

/* Rows a batch starts with room for; it doubles up to its cap as rows arrive. */
#define INITIAL_ROWS 256

static size_t row_bytes(void)
{
	return sizeof(int64_t) + 1 + sizeof(uint32_t) + WISP_COL_NUM__COUNT * sizeof(double) +
	       WISP_COL_STR__COUNT * sizeof(uint32_t);
}

/* Grows every per-row column to `room` rows; -1 when memory ran out (nothing lost: the old
 * arrays stay valid). */
static int reserve_rows(struct wisp_batch *b, uint32_t room)
{
	void *p;

	if (room <= b->room)
		return 0;
#define GROW(field, size)                                      \
	do {                                                       \
		p = realloc((void *)(field), (size_t)room * (size)); \
		if (!p)                                            \
			return -1;                                 \
		(field) = p;                                       \
	} while (0)
	GROW(b->time_ns, sizeof(int64_t));
	GROW(b->encrypted, 1);
	GROW(b->proc_code, sizeof(uint32_t));
	for (int i = 0; i < WISP_COL_NUM__COUNT; i++)
		GROW(b->num[i], sizeof(double));
	for (int i = 0; i < WISP_COL_STR__COUNT; i++)
		GROW(b->codes[i], sizeof(uint32_t));
#undef GROW
	b->bytes += (size_t)(room - b->room) * row_bytes();
	b->room = room;
	return 0;
}

struct wisp_batch *batch_new(uint32_t cap)
{
	struct wisp_batch *b = calloc(1, sizeof(*b));

	if (!b)
		return NULL;
	b->cap = cap ? cap : 1;
	if (reserve_rows(b, b->cap < INITIAL_ROWS ? b->cap : INITIAL_ROWS)) {
		wisp_batch_free(b);
		return NULL;
	}
	return b;
}

/*
 * The code of s[0, n) when it is one of the column's last few distinct values: runs of equal
 * values (one endpoint's body, "OK", "GET") are the common case, and a length check then a
 * compare costs less than hashing the bytes. -1 when it is not.
 */
static int64_t recent(struct wisp_str_table *t, const uint8_t *s, uint32_t n)
{
	for (int i = 0; i < 4; i++) {
		uint32_t c = t->recent[i];

		if (c < t->t.count && t->t.len[c] == n && (n == 0 || memcmp(t->t.bytes + t->t.off[c], s, n) == 0))
			return c;
	}
	return -1;
}

static uint32_t proc_hash(const struct wisp_proc *p)
{
	return (uint32_t)wisp_hash(p, sizeof(*p));
}

/* The code of process p in this batch, added when new; -1 when memory ran out. */
static int64_t proc_code(struct wisp_batch *b, const struct wisp_proc *p)
{
	uint32_t slot;

	if (b->nprocs * 2 >= b->proc_slots_n) {
		uint32_t n = b->proc_slots_n ? b->proc_slots_n * 2 : 64, *slots = calloc(n, sizeof(*slots));

		if (!slots)
			return -1;
		for (uint32_t c = 0; c < b->nprocs; c++) {
			uint32_t s = proc_hash(&b->procs[c]) & (n - 1);

			while (slots[s])
				s = (s + 1) & (n - 1);
			slots[s] = c + 1;
		}
		b->bytes += (size_t)(n - b->proc_slots_n) * sizeof(*slots);
		free(b->proc_slots);
		b->proc_slots = slots;
		b->proc_slots_n = n;
	}
	for (slot = proc_hash(p) & (b->proc_slots_n - 1); b->proc_slots[slot]; slot = (slot + 1) & (b->proc_slots_n - 1)) {
		uint32_t c = b->proc_slots[slot] - 1;

		if (memcmp(&b->procs[c], p, sizeof(*p)) == 0)
			return c;
	}
	if (b->nprocs == b->procs_cap) {
		uint32_t cap = b->procs_cap ? b->procs_cap * 2 : 16;

		if (wisp_grow((void **)&b->procs, cap * sizeof(*b->procs)))
			return -1;
		b->bytes += (cap - b->procs_cap) * sizeof(*b->procs);
		b->procs_cap = cap;
	}
	b->procs[b->nprocs] = *p;
	b->proc_slots[slot] = b->nprocs + 1;
	return b->nprocs++;
}

int batch_append(struct wisp_batch *b, const struct batch_row *r)
{
	uint32_t i = b->rows, codes[WISP_COL_STR__COUNT];
	int64_t pc;

	if (i >= b->cap)
		return -1;
	if (i == b->room && reserve_rows(b, b->room * 2 < b->cap ? b->room * 2 : b->cap))
		return -1;
	for (int k = 0; k < WISP_COL_STR__COUNT; k++) {
		struct wisp_str_table *t = &b->str[k];
		uint64_t id = r->str_id[k];
		uint32_t m = (uint32_t)(id & 7);
		int64_t c;

		if (id && t->memo_id[m] == id) {
			codes[k] = t->memo_code[m];
			continue;
		}
		c = recent(t, r->str[k], r->str_len[k]);
		if (c < 0)
			c = wisp_strtab_intern(&t->t, &table_sizes, r->str[k] ? r->str[k] : (const uint8_t *)"", r->str_len[k],
					       &b->bytes);
		if (c < 0)
			return -1;
		if (t->recent[0] != (uint32_t)c && t->recent[1] != (uint32_t)c && t->recent[2] != (uint32_t)c &&
		    t->recent[3] != (uint32_t)c)
			t->recent[t->recent_next++ & 3] = (uint32_t)c;
		codes[k] = (uint32_t)c;
		if (id) {
			t->memo_id[m] = id;
			t->memo_code[m] = (uint32_t)c;
		}
	}
	pc = proc_code(b, r->proc);
	if (pc < 0)
		return -1;
	b->time_ns[i] = r->time_ns;
	for (int k = 0; k < WISP_COL_NUM__COUNT; k++)
		b->num[k][i] = r->num[k];
	b->encrypted[i] = r->encrypted;
	for (int k = 0; k < WISP_COL_STR__COUNT; k++)
		b->codes[k][i] = codes[k];
	b->proc_code[i] = (uint32_t)pc;
	b->rows++;
	return 0;
}
