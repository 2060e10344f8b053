// SPDX-License-Identifier: Apache-2.0
/*
 * The stitcher on its own, fed framed records from JS: what the HTTP stage's tests and bench
 * use, with exactly the code the drain thread runs. Frames are [u32 length][u32 0][record]
 * padded to 8 bytes, the raw drain format (decode.ts).
 */
#include "js.h"

#include <stdlib.h>
#include <string.h>

struct ctl_call {
	uint64_t conn_id;
	uint64_t skip_to[2];
	int muted;
};

struct js_stitcher {
	struct wisp_stitcher *st;
	struct ctl_call *calls;
	size_t ncalls;
	size_t cap;
};

/* Remembers what the stitcher asked of the kernel, so tests can check it. */
static void record_ctl(void *ctx, uint64_t conn_id, const uint64_t skip_to[2], int muted)
{
	struct js_stitcher *j = ctx;

	if (j->ncalls == j->cap) {
		size_t cap = j->cap ? j->cap * 2 : 16;
		struct ctl_call *c = realloc(j->calls, cap * sizeof(*c));

		if (!c)
			return;
		j->calls = c;
		j->cap = cap;
	}
	j->calls[j->ncalls].conn_id = conn_id;
	j->calls[j->ncalls].skip_to[0] = skip_to[0];
	j->calls[j->ncalls].skip_to[1] = skip_to[1];
	j->calls[j->ncalls].muted = muted;
	j->ncalls++;
}

static void finalize(napi_env env, void *data, void *hint)
{
	struct js_stitcher *j = data;

	(void)env;
	(void)hint;
	wisp_stitcher_free(j->st);
	free(j->calls);
	free(j);
}

static struct js_stitcher *handle(napi_env env, napi_callback_info info, size_t want, napi_value *argv)
{
	size_t argc = want;
	void *data = NULL;

	if (napi_get_cb_info(env, info, &argc, argv, NULL, NULL) != napi_ok || argc < want ||
	    napi_get_value_external(env, argv[0], &data) != napi_ok || !data) {
		napi_throw_type_error(env, NULL, "wisp capture: expected a stitcher handle");
		return NULL;
	}
	if (!((struct js_stitcher *)data)->st) {
		napi_throw_error(env, NULL, "wisp capture: the stitcher is closed");
		return NULL;
	}
	return data;
}

static int bigint_arg(napi_env env, napi_value v, int64_t *out)
{
	bool lossless;

	if (napi_get_value_bigint_int64(env, v, out, &lossless) != napi_ok || !lossless) {
		napi_throw_type_error(env, NULL, "wisp capture: expected a bigint of 64 bits");
		return -1;
	}
	return 0;
}

/* stitcherOpen(options) -> handle */
static napi_value js_open(napi_env env, napi_callback_info info)
{
	size_t argc = 1;
	napi_value argv[1], out;
	struct js_options o;
	struct js_stitcher *j;

	if (napi_get_cb_info(env, info, &argc, argv, NULL, NULL) != napi_ok || argc < 1) {
		napi_throw_type_error(env, NULL, "wisp capture: stitcherOpen() needs an options object");
		return NULL;
	}
	if (js_http_options(env, argv[0], &o))
		return NULL;
	j = calloc(1, sizeof(*j));
	if (j)
		j->st = wisp_stitcher_new(&o.o, record_ctl, j);
	js_options_free(&o);
	if (!j || !j->st) {
		free(j);
		napi_throw_error(env, NULL, "wisp capture: allocating the stitcher failed");
		return NULL;
	}
	if (napi_create_external(env, j, finalize, NULL, &out) != napi_ok) {
		wisp_stitcher_free(j->st);
		free(j);
		return NULL;
	}
	return out;
}

/* stitcherPush(handle, frames: Uint8Array, clockOffsetNs: bigint) -> number of records */
static napi_value js_push(napi_env env, napi_callback_info info)
{
	napi_value argv[3], out;
	struct js_stitcher *j = handle(env, info, 3, argv);
	napi_typedarray_type type;
	size_t len, off = 0, n = 0;
	void *data;
	int64_t offset;

	if (!j)
		return NULL;
	if (napi_get_typedarray_info(env, argv[1], &type, &len, &data, NULL, NULL) != napi_ok || type != napi_uint8_array) {
		napi_throw_type_error(env, NULL, "wisp capture: stitcherPush() needs a Uint8Array of frames");
		return NULL;
	}
	if (bigint_arg(env, argv[2], &offset))
		return NULL;
	while (off + 8 <= len) {
		uint32_t rl;
		const uint8_t *rec = (const uint8_t *)data + off + 8;

		memcpy(&rl, (const uint8_t *)data + off, 4);
		if (rl > len - off - 8)
			break;
		wisp_stitcher_record(j->st, rec, rl, offset);
		n++;
		off += 8 + (((size_t)rl + 7) & ~(size_t)7);
	}
	napi_create_double(env, (double)n, &out);
	return out;
}

/* stitcherFlushIdle(handle, nowNs: bigint) */
static napi_value js_flush(napi_env env, napi_callback_info info)
{
	napi_value argv[2];
	struct js_stitcher *j = handle(env, info, 2, argv);
	int64_t now;

	if (!j || bigint_arg(env, argv[1], &now))
		return NULL;
	wisp_stitcher_flush_idle(j->st, now);
	return NULL;
}

/* stitcherTake(handle) -> column batches */
static napi_value js_take(napi_env env, napi_callback_info info)
{
	napi_value argv[1];
	struct js_stitcher *j = handle(env, info, 1, argv);

	return j ? js_batches(env, wisp_stitcher_take(j->st)) : NULL;
}

/* stitcherStats(handle) -> counters */
static napi_value js_stats(napi_env env, napi_callback_info info)
{
	napi_value argv[1];
	struct js_stitcher *j = handle(env, info, 1, argv);

	return j ? js_counters(env, wisp_stitcher_counters(j->st)) : NULL;
}

/* stitcherCtlCalls(handle) -> [{ connId, skipTo: [egress, ingress], muted }], then forgets them */
static napi_value js_ctl_calls(napi_env env, napi_callback_info info)
{
	napi_value argv[1], arr, o, v, skip;
	struct js_stitcher *j = handle(env, info, 1, argv);

	if (!j)
		return NULL;
	napi_create_array_with_length(env, j->ncalls, &arr);
	for (size_t i = 0; i < j->ncalls; i++) {
		napi_create_object(env, &o);
		napi_create_double(env, (double)j->calls[i].conn_id, &v);
		napi_set_named_property(env, o, "connId", v);
		napi_create_array_with_length(env, 2, &skip);
		for (uint32_t d = 0; d < 2; d++) {
			/* ~0 (the body runs to the close) is not a position: -1 says so. */
			napi_create_double(env, j->calls[i].skip_to[d] == UINT64_MAX ? -1 : (double)j->calls[i].skip_to[d], &v);
			napi_set_element(env, skip, d, v);
		}
		napi_set_named_property(env, o, "skipTo", skip);
		napi_get_boolean(env, j->calls[i].muted, &v);
		napi_set_named_property(env, o, "muted", v);
		napi_set_element(env, arr, (uint32_t)i, o);
	}
	j->ncalls = 0;
	return arr;
}

/* stitcherClose(handle): frees the stitcher now; the handle answers nothing after. */
static napi_value js_close(napi_env env, napi_callback_info info)
{
	napi_value argv[1];
	struct js_stitcher *j = handle(env, info, 1, argv);

	if (j) {
		wisp_stitcher_free(j->st);
		j->st = NULL;
	}
	return NULL;
}

void js_define_stitcher(napi_env env, napi_value exports)
{
	napi_property_descriptor props[] = {
		{ "stitcherOpen", NULL, js_open, NULL, NULL, NULL, napi_default, NULL },
		{ "stitcherPush", NULL, js_push, NULL, NULL, NULL, napi_default, NULL },
		{ "stitcherFlushIdle", NULL, js_flush, NULL, NULL, NULL, napi_default, NULL },
		{ "stitcherTake", NULL, js_take, NULL, NULL, NULL, napi_default, NULL },
		{ "stitcherStats", NULL, js_stats, NULL, NULL, NULL, napi_default, NULL },
		{ "stitcherCtlCalls", NULL, js_ctl_calls, NULL, NULL, NULL, napi_default, NULL },
		{ "stitcherClose", NULL, js_close, NULL, NULL, NULL, napi_default, NULL },
	};

	napi_define_properties(env, exports, sizeof(props) / sizeof(props[0]), props);
}
