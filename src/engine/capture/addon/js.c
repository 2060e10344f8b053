// SPDX-License-Identifier: Apache-2.0
/* Options in, column batches and counters out; see js.h. */
#include "js.h"
#include "drain.h"
#include "../../http/native/redact.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ns per clock tick of /proc/<pid>/stat (USER_HZ is 100 on every Linux architecture). */
#define NS_PER_TICK 10000000ull

static int has(napi_env env, napi_value obj, const char *name, napi_value *v)
{
	bool yes = false;
	napi_valuetype t;

	if (napi_has_named_property(env, obj, name, &yes) != napi_ok || !yes)
		return 0;
	if (napi_get_named_property(env, obj, name, v) != napi_ok || napi_typeof(env, *v, &t) != napi_ok ||
	    t == napi_undefined)
		return 0;
	return 1;
}

static int type_error(napi_env env, const char *name, const char *what)
{
	char msg[160];

	snprintf(msg, sizeof(msg), "wisp capture: option %s must be %s", name, what);
	napi_throw_type_error(env, NULL, msg);
	return -1;
}

/* An optional integer option in [0, max]; 1 when present (in *out), 0 when absent, -1 after throwing. */
static int int_opt(napi_env env, napi_value obj, const char *name, double max, const char *what, double *out)
{
	napi_value v;

	if (!has(env, obj, name, &v))
		return 0;
	if (napi_get_value_double(env, v, out) != napi_ok || *out < 0 || *out > max || *out != (double)(uint64_t)*out)
		return type_error(env, name, what);
	return 1;
}

int js_u32_opt(napi_env env, napi_value obj, const char *name, uint32_t *out)
{
	double d;
	int r = int_opt(env, obj, name, 4294967295.0, "an integer in [0, 2^32)", &d);

	if (r > 0)
		*out = (uint32_t)d;
	return r < 0 ? -1 : 0;
}

int js_u64_opt(napi_env env, napi_value obj, const char *name, uint64_t *out)
{
	double d;
	int r = int_opt(env, obj, name, 9007199254740992.0, "an integer in [0, 2^53]", &d);

	if (r > 0)
		*out = (uint64_t)d;
	return r < 0 ? -1 : 0;
}

/* An optional array of strings; its copies are added to o->strings. */
static int str_list(napi_env env, napi_value obj, const char *name, struct js_options *o, size_t *first, size_t *n)
{
	napi_value v, e;
	bool is_array = false;
	uint32_t len;

	*first = o->nstrings;
	*n = 0;
	if (!has(env, obj, name, &v))
		return 0;
	if (napi_is_array(env, v, &is_array) != napi_ok || !is_array || napi_get_array_length(env, v, &len) != napi_ok ||
	    len > 1024)
		return type_error(env, name, "an array of at most 1024 strings");
	{
		char **grown = realloc(o->strings, (o->nstrings + len) * sizeof(char *));

		if (!grown && len > 0)
			return type_error(env, name, "smaller (out of memory)");
		o->strings = grown;
	}
	for (uint32_t i = 0; i < len; i++) {
		char buf[256];
		size_t sl = 0;

		if (napi_get_element(env, v, i, &e) != napi_ok ||
		    napi_get_value_string_utf8(env, e, buf, sizeof(buf), &sl) != napi_ok || sl == 0 || sl >= sizeof(buf) - 1)
			return type_error(env, name, "an array of non-empty strings under 255 bytes");
		o->strings[o->nstrings] = strdup(buf);
		if (!o->strings[o->nstrings])
			return type_error(env, name, "smaller (out of memory)");
		o->nstrings++;
		(*n)++;
	}
	return 0;
}

void js_options_free(struct js_options *o)
{
	for (size_t i = 0; i < o->nstrings; i++)
		free(o->strings[i]);
	free(o->strings);
	o->strings = NULL;
	o->nstrings = 0;
}

int js_http_options(napi_env env, napi_value obj, struct js_options *out)
{
	struct wisp_http_options *o = &out->o;
	uint32_t redact = REDACT_DEFAULTS;
	size_t hf = 0, hn = 0, pf = 0, pn = 0;
	napi_value v;

	memset(out, 0, sizeof(*out));
	wisp_http_options_default(o);
	if (js_u32_opt(env, obj, "bodyPrefixBytes", &o->body_prefix_bytes) ||
	    js_u32_opt(env, obj, "maxHeaderBytes", &o->max_header_bytes) ||
	    js_u32_opt(env, obj, "maxPendingBytes", &o->max_pending_bytes) ||
	    js_u32_opt(env, obj, "maxPendingSegments", &o->max_pending_segments) ||
	    js_u32_opt(env, obj, "maxPipelined", &o->max_pipelined) ||
	    js_u64_opt(env, obj, "maxBufferedBytes", &o->max_buffered_bytes) ||
	    js_u32_opt(env, obj, "maxConnections", &o->max_connections) ||
	    js_u64_opt(env, obj, "idleNs", &o->idle_ns) || js_u64_opt(env, obj, "reorderNs", &o->reorder_ns) ||
	    js_u32_opt(env, obj, "batchRows", &o->batch_rows) || js_u32_opt(env, obj, "skipBodyOver", &o->skip_body_over))
		return -1;
	if (has(env, obj, "redaction", &v)) {
		napi_value m;
		char mode[16];
		size_t ml = 0;

		if (has(env, v, "mode", &m)) {
			if (napi_get_value_string_utf8(env, m, mode, sizeof(mode), &ml) != napi_ok)
				return type_error(env, "redaction.mode", "a string");
			if (strcmp(mode, "defaults") == 0)
				redact = REDACT_DEFAULTS;
			else if (strcmp(mode, "listed") == 0)
				redact = REDACT_LISTED;
			else if (strcmp(mode, "off") == 0)
				redact = REDACT_OFF;
			else
				return type_error(env, "redaction.mode", "defaults, listed or off");
		}
		if (str_list(env, v, "headers", out, &hf, &hn) || str_list(env, v, "params", out, &pf, &pn)) {
			js_options_free(out);
			return -1;
		}
	}
	o->redact_mode = (uint8_t)redact;
	o->redact_headers = hn ? (const char *const *)out->strings + hf : NULL;
	o->n_redact_headers = hn;
	o->redact_params = pn ? (const char *const *)out->strings + pf : NULL;
	o->n_redact_params = pn;
	return 0;
}

static size_t pad8(size_t n)
{
	return (n + 7) & ~(size_t)7;
}

/*
 * Property names of a batch object, made once per environment: a name given as a C string is
 * looked up in V8's string table on every use, and a batch sets about seventy of them.
 */
enum key {
	K_ROWS, K_TIME_BASE, K_TIME, K_NUMBERS, K_ENCRYPTED, K_STRINGS, K_CODES, K_DICT, K_PROCS, K_PID,
	K_START_TICKS, K_COMM, K_NUM0, K_STR0 = K_NUM0 + WISP_COL_NUM__COUNT, K__COUNT = K_STR0 + WISP_COL_STR__COUNT,
};

static const char *const fixed_keys[K_NUM0] = {
	"rows", "timeBase", "time", "numbers", "encrypted", "strings", "codes", "dict", "procs", "pid", "startTicks", "comm",
};

/* References to strings need Node-API 10; an array of them is an object, referenced since 1. */
struct keys {
	napi_ref names;
};

static void keys_finalize(napi_env env, void *data, void *hint)
{
	struct keys *k = data;

	(void)hint;
	if (k->names)
		napi_delete_reference(env, k->names);
	free(k);
}

int js_keys_init(napi_env env)
{
	struct keys *k = calloc(1, sizeof(*k));
	napi_value arr, v;

	if (!k || napi_create_array_with_length(env, K__COUNT, &arr) != napi_ok) {
		free(k);
		return -1;
	}
	for (int i = 0; i < K__COUNT; i++) {
		const char *name = i < K_NUM0 ? fixed_keys[i] : i < K_STR0 ? wisp_col_num_names[i - K_NUM0] : wisp_col_str_names[i - K_STR0];

		if (napi_create_string_utf8(env, name, NAPI_AUTO_LENGTH, &v) != napi_ok ||
		    napi_set_element(env, arr, (uint32_t)i, v) != napi_ok) {
			free(k);
			return -1;
		}
	}
	if (napi_create_reference(env, arr, 1, &k->names) != napi_ok) {
		free(k);
		return -1;
	}
	return napi_set_instance_data(env, k, keys_finalize, NULL) == napi_ok ? 0 : -1;
}

/* The names, for one batch: an array read by index (no string-table lookups). */
static napi_value names_of(napi_env env, const struct keys *k)
{
	napi_value arr;

	napi_get_reference_value(env, k->names, &arr);
	return arr;
}

static void set(napi_env env, napi_value obj, napi_value names, enum key key, napi_value v)
{
	napi_value name;

	napi_get_element(env, names, (uint32_t)key, &name);
	napi_set_property(env, obj, name, v);
}

napi_value js_strings(napi_env env, const struct wisp_strtab *t)
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

/* A typed array over mem[*at, *at + n * elem) of `ab`, after which *at moves to the next 8 bytes. */
static napi_value view(napi_env env, napi_typedarray_type type, size_t n, size_t elem, napi_value ab, size_t *at)
{
	napi_value v;

	napi_create_typedarray(env, type, n, ab, *at, &v);
	*at += pad8(n * elem);
	return v;
}

/* One batch: every numeric column is a view into one ArrayBuffer, filled with one copy each. */
static napi_value batch_object(napi_env env, napi_value k, const struct wisp_batch *b)
{
	size_t n = b->rows, P = b->nprocs, size, at = 0;
	napi_value obj, ab, v, cols, strs, proc, comm;
	uint8_t *mem;
	int64_t base = n ? b->time_ns[0] : 0;

	for (size_t i = 1; i < n; i++)
		if (b->time_ns[i] < base)
			base = b->time_ns[i];
	size = pad8(n * 8) * (1 + WISP_COL_NUM__COUNT) + pad8(n) + pad8(n * 4) * (WISP_COL_STR__COUNT + 1) + pad8(P * 4) +
	       pad8(P * 8);
	if (napi_create_arraybuffer(env, size, (void **)&mem, &ab) != napi_ok)
		return NULL;
	napi_create_object(env, &obj);
	napi_create_uint32(env, b->rows, &v);
	set(env, obj, k, K_ROWS, v);
	napi_create_bigint_int64(env, base, &v);
	set(env, obj, k, K_TIME_BASE, v);
	for (size_t i = 0; i < n; i++)
		((double *)mem)[i] = (double)(b->time_ns[i] - base);
	set(env, obj, k, K_TIME, view(env, napi_float64_array, n, 8, ab, &at));
	napi_create_object(env, &cols);
	for (int c = 0; c < WISP_COL_NUM__COUNT; c++) {
		memcpy(mem + at, b->num[c], n * 8);
		set(env, cols, k, (enum key)(K_NUM0 + c), view(env, napi_float64_array, n, 8, ab, &at));
	}
	set(env, obj, k, K_NUMBERS, cols);
	memcpy(mem + at, b->encrypted, n);
	set(env, obj, k, K_ENCRYPTED, view(env, napi_uint8_array, n, 1, ab, &at));
	napi_create_object(env, &strs);
	for (int c = 0; c < WISP_COL_STR__COUNT; c++) {
		napi_value col;

		napi_create_object(env, &col);
		memcpy(mem + at, b->codes[c], n * 4);
		set(env, col, k, K_CODES, view(env, napi_uint32_array, n, 4, ab, &at));
		set(env, col, k, K_DICT, js_strings(env, &b->str[c].t));
		set(env, strs, k, (enum key)(K_STR0 + c), col);
	}
	set(env, obj, k, K_STRINGS, strs);
	napi_create_object(env, &proc);
	memcpy(mem + at, b->proc_code, n * 4);
	set(env, proc, k, K_CODES, view(env, napi_uint32_array, n, 4, ab, &at));
	for (size_t i = 0; i < P; i++)
		((uint32_t *)(mem + at))[i] = b->procs[i].pid;
	set(env, proc, k, K_PID, view(env, napi_uint32_array, P, 4, ab, &at));
	for (size_t i = 0; i < P; i++)
		((double *)(mem + at))[i] = (double)(b->procs[i].start_boottime_ns / NS_PER_TICK);
	set(env, proc, k, K_START_TICKS, view(env, napi_float64_array, P, 8, ab, &at));
	napi_create_array_with_length(env, P, &comm);
	for (size_t i = 0; i < P; i++) {
		napi_create_string_utf8(env, b->procs[i].comm, strnlen(b->procs[i].comm, sizeof(b->procs[i].comm)), &v);
		napi_set_element(env, comm, (uint32_t)i, v);
	}
	set(env, proc, k, K_COMM, comm);
	set(env, obj, k, K_PROCS, proc);
	return obj;
}

napi_value js_batches(napi_env env, struct wisp_batch *chain)
{
	napi_value arr;
	uint32_t i = 0;
	struct keys *k = NULL;

	napi_get_instance_data(env, (void **)&k);
	napi_create_array(env, &arr);
	while (chain) {
		struct wisp_batch *next = chain->next;
		napi_value o = k ? batch_object(env, names_of(env, k), chain) : NULL;

		wisp_batch_free(chain);
		chain = next;
		if (!o) {
			while (chain) {
				next = chain->next;
				wisp_batch_free(chain);
				chain = next;
			}
			napi_throw_error(env, NULL, "wisp capture: allocating a column batch failed");
			return NULL;
		}
		napi_set_element(env, arr, i++, o);
	}
	return arr;
}

napi_value js_procs(napi_env env, const struct proc_info *p)
{
	napi_value arr, o, v;
	uint32_t i = 0;

	napi_create_array(env, &arr);
	for (; p; p = p->next) {
		napi_create_object(env, &o);
		napi_create_uint32(env, p->pid, &v);
		napi_set_named_property(env, o, "pid", v);
		napi_create_double(env, (double)(p->start_boottime_ns / NS_PER_TICK), &v);
		napi_set_named_property(env, o, "startTicks", v);
		napi_create_string_utf8(env, p->comm ? p->comm : "", p->comm ? p->comm_len : 0, &v);
		napi_set_named_property(env, o, "comm", v);
		napi_create_string_utf8(env, p->cmdline ? p->cmdline : "", p->cmdline ? p->cmdline_len : 0, &v);
		napi_set_named_property(env, o, "cmdline", v);
		napi_create_string_utf8(env, p->cgroup ? p->cgroup : "", p->cgroup ? p->cgroup_len : 0, &v);
		napi_set_named_property(env, o, "cgroup", v);
		napi_set_element(env, arr, i++, o);
	}
	return arr;
}

napi_value js_counter_object(napi_env env, const void *c, const struct js_counter *names, size_t n)
{
	napi_value obj, v;

	napi_create_object(env, &obj);
	for (size_t i = 0; i < n; i++) {
		uint64_t x;

		memcpy(&x, (const uint8_t *)c + names[i].off, sizeof(x));
		napi_create_double(env, (double)x, &v);
		napi_set_named_property(env, obj, names[i].name, v);
	}
	return obj;
}

#define COUNTER(name, field) { name, offsetof(struct wisp_http_counters, field) }

static const struct js_counter counters[] = {
	COUNTER("records", records), COUNTER("malformedRecords", malformed_records), COUNTER("bytes", bytes),
	COUNTER("rows", rows), COUNTER("connections", connections), COUNTER("bufferedBytes", buffered_bytes),
	COUNTER("parseErrors", parse_errors), COUNTER("resyncs", resyncs),
	COUNTER("oversizedHeaders", oversized_headers), COUNTER("invalidChunks", invalid_chunks),
	COUNTER("interimResponses", interim_responses), COUNTER("gaps", gaps), COUNTER("gapBytes", gap_bytes),
	COUNTER("duplicateBytes", duplicate_bytes), COUNTER("reorderOverflows", reorder_overflows),
	COUNTER("unpairedResponses", unpaired_responses), COUNTER("droppedExchanges", dropped_exchanges),
	COUNTER("diedMidExchange", died_mid_exchange), COUNTER("unansweredRequests", unanswered_requests),
	COUNTER("evictionsIdle", evictions_idle), COUNTER("evictionsMemory", evictions_memory),
	COUNTER("evictionsCount", evictions_count), COUNTER("queueOverflows", queue_overflows),
	COUNTER("missingOpen", missing_open), COUNTER("upgrades", upgrades), COUNTER("wrongDirection", wrong_direction),
	COUNTER("shedGaps", shed_gaps), COUNTER("shedExchanges", shed_exchanges), COUNTER("skipRequests", skip_requests),
	COUNTER("muteRequests", mute_requests), COUNTER("batchesFull", batches_full),
	COUNTER("rowAllocFailures", row_alloc_failures),
};

napi_value js_counters(napi_env env, const struct wisp_http_counters *c)
{
	return js_counter_object(env, c, counters, sizeof(counters) / sizeof(*counters));
}
