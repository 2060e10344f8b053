/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Rows into column batches: numbers into typed columns, strings into one table of distinct
 * strings per column per batch (rows hold codes), processes into a table of distinct
 * (pid, start time). JS then builds one string per distinct value, not one per row.
 */
#ifndef WISP_COLUMNS_H
#define WISP_COLUMNS_H

#include "wisp_http.h"

/* One row, as the stitcher hands it over; the strings are only read during batch_append. */
struct batch_row {
	int64_t time_ns;
	double num[WISP_COL_NUM__COUNT];
	uint8_t encrypted;
	const uint8_t *str[WISP_COL_STR__COUNT];
	uint32_t str_len[WISP_COL_STR__COUNT];
	/* Non-zero: equal ids have equal strings (a header section's JSON), so a repeat skips the hash. */
	uint64_t str_id[WISP_COL_STR__COUNT];
	const struct wisp_proc *proc;
};

/* A batch with room for `cap` rows, or NULL when out of memory. */
struct wisp_batch *batch_new(uint32_t cap);

/* Appends one row; -1 when memory ran out (the row is not in the batch). */
int batch_append(struct wisp_batch *b, const struct batch_row *r);

#endif
