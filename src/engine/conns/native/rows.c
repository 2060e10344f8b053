// SPDX-License-Identifier: Apache-2.0
/* Column batches of small tables; see rows.h. */
#include "rows.h"

#include <stdlib.h>
#include <string.h>

/* A column's strings: first slots, strings and bytes (these tables stay small), and its bytes at most 1 GiB. */
static const struct wisp_strtab_sizes table_sizes = { 32, 16, 1024, 1u << 30 };
#define INITIAL_ROOM 64

void wisp_rows_free(struct wisp_rows *b)
{
	while (b) {
		struct wisp_rows *next = b->next;

		free(b->time_ns);
		for (int i = 0; i < WISP_ROWS_MAX_NUM; i++)
			free(b->num[i]);
		for (int i = 0; i < WISP_ROWS_MAX_STR; i++) {
			free(b->codes[i]);
			wisp_strtab_free(&b->str[i]);
		}
		free(b->proc_code);
		free(b->procs);
		free(b);
		b = next;
	}
}

/* Grows every per-row column to `room` rows; -1 when memory ran out (the old arrays stay valid). */
static int reserve(struct wisp_rows *b, uint32_t room)
{
	const struct wisp_rows_schema *s = b->schema;

	if (wisp_grow((void **)&b->time_ns, (size_t)room * sizeof(int64_t)) ||
	    wisp_grow((void **)&b->proc_code, (size_t)room * sizeof(uint32_t)))
		return -1;
	for (uint32_t i = 0; i < s->nnum; i++)
		if (wisp_grow((void **)&b->num[i], (size_t)room * sizeof(double)))
			return -1;
	for (uint32_t i = 0; i < s->nstr; i++)
		if (wisp_grow((void **)&b->codes[i], (size_t)room * sizeof(uint32_t)))
			return -1;
	b->bytes += (size_t)(room - b->room) * (sizeof(int64_t) + sizeof(uint32_t) + s->nnum * sizeof(double) +
						s->nstr * sizeof(uint32_t));
	b->room = room;
	return 0;
}

struct wisp_rows *rows_new(const struct wisp_rows_schema *schema, uint32_t cap)
{
	struct wisp_rows *b;

	if (schema->nnum > WISP_ROWS_MAX_NUM || schema->nstr > WISP_ROWS_MAX_STR)
		return NULL;
	b = calloc(1, sizeof(*b));
	if (!b)
		return NULL;
	b->schema = schema;
	b->cap = cap ? cap : 1;
	if (reserve(b, b->cap < INITIAL_ROOM ? b->cap : INITIAL_ROOM)) {
		wisp_rows_free(b);
		return NULL;
	}
	return b;
}

/* The code of process p in this batch (a linear search: a batch of these tables holds few). */
static int64_t proc_code(struct wisp_rows *b, const struct wisp_proc *p)
{
	for (uint32_t c = 0; c < b->nprocs; c++)
		if (b->procs[c].pid == p->pid && b->procs[c].start_boottime_ns == p->start_boottime_ns)
			return c;
	if (b->nprocs == b->procs_cap) {
		uint32_t cap = b->procs_cap ? b->procs_cap * 2 : 8;

		if (wisp_grow((void **)&b->procs, cap * sizeof(*b->procs)))
			return -1;
		b->bytes += (size_t)(cap - b->procs_cap) * sizeof(*b->procs);
		b->procs_cap = cap;
	}
	b->procs[b->nprocs] = *p;
	return b->nprocs++;
}

int rows_append(struct wisp_rows *b, const struct wisp_row *r)
{
	const struct wisp_rows_schema *s = b->schema;
	uint32_t i = b->rows, codes[WISP_ROWS_MAX_STR];
	int64_t pc;

	if (i >= b->cap)
		return -1;
	if (i == b->room && reserve(b, b->room * 2 < b->cap ? b->room * 2 : b->cap))
		return -1;
	for (uint32_t k = 0; k < s->nstr; k++) {
		int64_t c = wisp_strtab_intern(&b->str[k], &table_sizes, r->str[k] ? r->str[k] : (const uint8_t *)"",
					       r->str[k] ? r->str_len[k] : 0, &b->bytes);

		if (c < 0)
			return -1;
		codes[k] = (uint32_t)c;
	}
	pc = proc_code(b, r->proc);
	if (pc < 0)
		return -1;
	b->time_ns[i] = r->time_ns;
	for (uint32_t k = 0; k < s->nnum; k++)
		b->num[k][i] = r->num[k];
	for (uint32_t k = 0; k < s->nstr; k++)
		b->codes[k][i] = codes[k];
	b->proc_code[i] = (uint32_t)pc;
	b->rows++;
	return 0;
}

static void close_open(struct rows_out *o)
{
	if (!o->open || o->open->rows == 0)
		return;
	if (o->done_tail)
		o->done_tail->next = o->open;
	else
		o->done = o->open;
	o->done_tail = o->open;
	o->open = NULL;
}

void rows_out_append(struct rows_out *o, const struct wisp_row *r)
{
	if (!o->open) {
		o->open = rows_new(o->schema, o->batch_rows);
		if (!o->open) {
			(*o->failures)++;
			return;
		}
	}
	if (rows_append(o->open, r)) {
		(*o->failures)++;
		return;
	}
	(*o->rows)++;
	if (o->open->rows >= o->open->cap)
		close_open(o);
}

struct wisp_rows *rows_out_take(struct rows_out *o)
{
	struct wisp_rows *b;

	close_open(o);
	b = o->done;
	o->done = o->done_tail = NULL;
	return b;
}

void rows_out_free(struct rows_out *o)
{
	wisp_rows_free(o->open);
	wisp_rows_free(o->done);
	o->open = o->done = o->done_tail = NULL;
}
