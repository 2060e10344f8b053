/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Rows of a small table into column batches, for the tables of the connections stage: numbers
 * as doubles (INT64 values stay exact below 2^53; TIME64NS ones are whole seconds, exact until
 * 2116; BOOLEAN ones 0 or 1), strings into one table of distinct strings per column per batch
 * (rows hold codes), processes into a table of distinct (pid, start time). JS then builds one
 * string per distinct value, not one per row, and never a JS object per row.
 */
#ifndef WISP_ROWS_H
#define WISP_ROWS_H

#include <stddef.h>
#include <stdint.h>

#include "../../http/native/wisp_http.h"
#include "../../native/strtab.h"

#define WISP_ROWS_MAX_NUM 16
#define WISP_ROWS_MAX_STR 12

/* A table's columns besides time_ and upid, as the JS side names them (src/engine/conns/schema.ts). */
struct wisp_rows_schema {
	const char *table;
	uint32_t nnum;
	uint32_t nstr;
	const char *const *num_names;
	const char *const *str_names;
};

struct wisp_rows {
	const struct wisp_rows_schema *schema;
	uint32_t rows;
	uint32_t cap;                        /* rows at most */
	uint32_t room;                       /* rows the columns have room for now */
	int64_t *time_ns;                    /* CLOCK_REALTIME ns */
	double *num[WISP_ROWS_MAX_NUM];
	uint32_t *codes[WISP_ROWS_MAX_STR];
	struct wisp_strtab str[WISP_ROWS_MAX_STR];
	uint32_t *proc_code;                 /* per row, into procs */
	struct wisp_proc *procs;
	uint32_t nprocs;
	uint32_t procs_cap;
	size_t bytes;                        /* memory held */
	struct wisp_rows *next;              /* for the caller's chain */
};

/* One row as a producer hands it over; strings are only read during rows_append. */
struct wisp_row {
	int64_t time_ns;
	double num[WISP_ROWS_MAX_NUM];
	const uint8_t *str[WISP_ROWS_MAX_STR];
	uint32_t str_len[WISP_ROWS_MAX_STR];
	const struct wisp_proc *proc;
};

/* An empty batch of `schema` with room for `cap` rows at most, or NULL when out of memory. */
struct wisp_rows *rows_new(const struct wisp_rows_schema *schema, uint32_t cap);

/* Appends one row; -1 when the batch is full or memory ran out (the row is not in the batch). */
int rows_append(struct wisp_rows *b, const struct wisp_row *r);

/* Frees a batch and every batch chained after it. */
void wisp_rows_free(struct wisp_rows *b);

/* Where a producer's rows go: an open batch, and the full ones waiting to be taken. */
struct rows_out {
	const struct wisp_rows_schema *schema;
	uint32_t batch_rows;
	struct wisp_rows *open;
	struct wisp_rows *done;
	struct wisp_rows *done_tail;
	uint64_t *rows;          /* counted per row appended */
	uint64_t *failures;      /* counted per row lost for want of memory */
};

void rows_out_append(struct rows_out *o, const struct wisp_row *r);

/* Every row appended so far, as a chain (NULL when none); the caller owns it. */
struct wisp_rows *rows_out_take(struct rows_out *o);

void rows_out_free(struct rows_out *o);

#endif
