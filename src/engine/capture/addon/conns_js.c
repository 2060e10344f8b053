// SPDX-License-Identifier: Apache-2.0
/*
 * The connections stage's rows and counters as JS values: one object per batch, its numeric
 * columns typed arrays, its string columns codes plus a table of distinct strings (see
 * src/engine/conns/batch.ts for the shape). Crossed once per batch, never per row.
 */
#include "conns_js.h"
#include "js.h"

#include <stddef.h>
#include <string.h>

/* ns per clock tick of /proc/<pid>/stat (USER_HZ is 100 on every Linux architecture). */
#define NS_PER_TICK 10000000ull

/* A typed array of its own memory holding a copy of src[0, n), elements of `elem` bytes. */
static napi_value copied_array(napi_env env, napi_typedarray_type type, const void *src, size_t n, size_t elem)
{
	napi_value ab, out;
	void *mem;

	napi_create_arraybuffer(env, n * elem, &mem, &ab);
	if (n)
		memcpy(mem, src, n * elem);
	napi_create_typedarray(env, type, n, ab, 0, &out);
	return out;
}

static napi_value rows_object(napi_env env, const struct wisp_rows *b)
{
	const struct wisp_rows_schema *s = b->schema;
	napi_value obj, v, nums, strs, proc, comm;
	size_t n = b->rows;
	int64_t base = n ? b->time_ns[0] : 0;
	double *tmp;

	for (size_t i = 1; i < n; i++)
		if (b->time_ns[i] < base)
			base = b->time_ns[i];
	napi_create_object(env, &obj);
	napi_create_string_utf8(env, s->table, NAPI_AUTO_LENGTH, &v);
	napi_set_named_property(env, obj, "table", v);
	napi_create_uint32(env, b->rows, &v);
	napi_set_named_property(env, obj, "rows", v);
	napi_create_bigint_int64(env, base, &v);
	napi_set_named_property(env, obj, "timeBase", v);
	{
		napi_value ab;
		void *mem;

		napi_create_arraybuffer(env, n * 8, &mem, &ab);
		tmp = mem;
		for (size_t i = 0; i < n; i++)
			tmp[i] = (double)(b->time_ns[i] - base);
		napi_create_typedarray(env, napi_float64_array, n, ab, 0, &v);
		napi_set_named_property(env, obj, "time", v);
	}
	napi_create_object(env, &nums);
	for (uint32_t c = 0; c < s->nnum; c++)
		napi_set_named_property(env, nums, s->num_names[c], copied_array(env, napi_float64_array, b->num[c], n, 8));
	napi_set_named_property(env, obj, "numbers", nums);
	napi_create_object(env, &strs);
	for (uint32_t c = 0; c < s->nstr; c++) {
		napi_value col;

		napi_create_object(env, &col);
		napi_set_named_property(env, col, "codes", copied_array(env, napi_uint32_array, b->codes[c], n, 4));
		napi_set_named_property(env, col, "dict", js_strings(env, &b->str[c]));
		napi_set_named_property(env, strs, s->str_names[c], col);
	}
	napi_set_named_property(env, obj, "strings", strs);
	napi_create_object(env, &proc);
	napi_set_named_property(env, proc, "codes", copied_array(env, napi_uint32_array, b->proc_code, n, 4));
	{
		napi_value pid_ab, ticks_ab, pid, ticks;
		void *pm, *tm;

		napi_create_arraybuffer(env, (size_t)b->nprocs * 4, &pm, &pid_ab);
		napi_create_arraybuffer(env, (size_t)b->nprocs * 8, &tm, &ticks_ab);
		for (uint32_t i = 0; i < b->nprocs; i++) {
			((uint32_t *)pm)[i] = b->procs[i].pid;
			((double *)tm)[i] = (double)(b->procs[i].start_boottime_ns / NS_PER_TICK);
		}
		napi_create_typedarray(env, napi_uint32_array, b->nprocs, pid_ab, 0, &pid);
		napi_create_typedarray(env, napi_float64_array, b->nprocs, ticks_ab, 0, &ticks);
		napi_set_named_property(env, proc, "pid", pid);
		napi_set_named_property(env, proc, "startTicks", ticks);
	}
	napi_create_array_with_length(env, b->nprocs, &comm);
	for (uint32_t i = 0; i < b->nprocs; i++) {
		napi_create_string_utf8(env, b->procs[i].comm, strnlen(b->procs[i].comm, sizeof(b->procs[i].comm)), &v);
		napi_set_element(env, comm, i, v);
	}
	napi_set_named_property(env, proc, "comm", comm);
	napi_set_named_property(env, obj, "procs", proc);
	return obj;
}

napi_value js_rows(napi_env env, struct wisp_rows *chain)
{
	napi_value arr;
	uint32_t i = 0;

	napi_create_array(env, &arr);
	while (chain) {
		struct wisp_rows *next = chain->next;

		chain->next = NULL;
		napi_set_element(env, arr, i++, rows_object(env, chain));
		wisp_rows_free(chain);
		chain = next;
	}
	return arr;
}

#define COUNTER(name, field) { name, offsetof(struct wisp_conns_counters, field) }

static const struct js_counter counters[] = {
	COUNTER("records", records), COUNTER("malformedRecords", malformed_records), COUNTER("connections", conns),
	COUNTER("keys", keys), COUNTER("opened", opened), COUNTER("closed", closed), COUNTER("vanished", vanished),
	COUNTER("exited", exited), COUNTER("roleFromListen", role_from_listen), COUNTER("roleFromPeer", role_from_peer), COUNTER("roleUnknown", role_unknown),
	COUNTER("connEvictions", conn_evictions), COUNTER("keyEvictions", key_evictions),
	COUNTER("statsRows", stats_rows), COUNTER("handshakes", handshakes), COUNTER("tlsRecords", tls_records),
	COUNTER("tlsMalformed", tls_malformed), COUNTER("tlsIncomplete", tls_incomplete), COUNTER("tlsGaps", tls_gaps),
	COUNTER("tlsTruncated", tls_truncated), COUNTER("tlsEvictions", tls_evictions),
	COUNTER("tlsLateRecords", tls_late_records), COUNTER("tlsBuffered", tls_buffered),
	COUNTER("muteRequests", mute_requests), COUNTER("rowAllocFailures", row_alloc_failures),
};

napi_value js_conns_counters(napi_env env, const struct wisp_conns_counters *c)
{
	return js_counter_object(env, c, counters, sizeof(counters) / sizeof(*counters));
}
