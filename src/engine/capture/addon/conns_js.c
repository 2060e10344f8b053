// SPDX-License-Identifier: Apache-2.0
/*
 * The connections stage's rows and counters as JS values: one object per batch, its numeric
 * columns typed arrays, its string columns codes plus a table of distinct strings (see
 * src/engine/conns/batch.ts for the shape). Crossed once per batch, never per row.
 */
#include "conns_js.h"

#include <stddef.h>
#include <string.h>

/* ns per clock tick of /proc/<pid>/stat (USER_HZ is 100 on every Linux architecture). */
#define NS_PER_TICK 10000000ull

static napi_value f64_array(napi_env env, const double *src, size_t n)
{
	napi_value ab, out;
	void *mem;

	napi_create_arraybuffer(env, n * 8, &mem, &ab);
	if (n)
		memcpy(mem, src, n * 8);
	napi_create_typedarray(env, napi_float64_array, n, ab, 0, &out);
	return out;
}

static napi_value u32_array(napi_env env, const uint32_t *src, size_t n)
{
	napi_value ab, out;
	void *mem;

	napi_create_arraybuffer(env, n * 4, &mem, &ab);
	if (n)
		memcpy(mem, src, n * 4);
	napi_create_typedarray(env, napi_uint32_array, n, ab, 0, &out);
	return out;
}

static napi_value strings(napi_env env, const struct wisp_strs *t)
{
	napi_value arr, s;

	napi_create_array_with_length(env, t->count, &arr);
	for (uint32_t c = 0; c < t->count; c++) {
		const char *p = (const char *)t->bytes + t->off[c];

		if (t->ascii[c])
			napi_create_string_latin1(env, p, t->len[c], &s);
		else
			napi_create_string_utf8(env, p, t->len[c], &s);
		napi_set_element(env, arr, c, s);
	}
	return arr;
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
		napi_set_named_property(env, nums, s->num_names[c], f64_array(env, b->num[c], n));
	napi_set_named_property(env, obj, "numbers", nums);
	napi_create_object(env, &strs);
	for (uint32_t c = 0; c < s->nstr; c++) {
		napi_value col;

		napi_create_object(env, &col);
		napi_set_named_property(env, col, "codes", u32_array(env, b->codes[c], n));
		napi_set_named_property(env, col, "dict", strings(env, &b->str[c]));
		napi_set_named_property(env, strs, s->str_names[c], col);
	}
	napi_set_named_property(env, obj, "strings", strs);
	napi_create_object(env, &proc);
	napi_set_named_property(env, proc, "codes", u32_array(env, b->proc_code, n));
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

static const struct {
	const char *name;
	size_t off;
} counters[] = {
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
	napi_value obj, v;

	napi_create_object(env, &obj);
	for (size_t i = 0; i < sizeof(counters) / sizeof(*counters); i++) {
		uint64_t x;

		memcpy(&x, (const uint8_t *)c + counters[i].off, sizeof(x));
		napi_create_double(env, (double)x, &v);
		napi_set_named_property(env, obj, counters[i].name, v);
	}
	return obj;
}
