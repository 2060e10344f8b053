/* SPDX-License-Identifier: Apache-2.0 */
/*
 * What the addon's files share on the JS side of the boundary: reading options, building the
 * column batches and counters JS receives (crossed once per batch, never per row), and the
 * standalone stitcher the HTTP tests feed records to.
 */
#ifndef WISP_ADDON_JS_H
#define WISP_ADDON_JS_H

#include <node_api.h>
#include <stdint.h>

#include "../../http/native/wisp_http.h"

/* Reads an optional uint32 option; -1 after throwing a TypeError. */
int js_u32_opt(napi_env env, napi_value obj, const char *name, uint32_t *out);

/* Reads an optional non-negative integer option up to 2^53; -1 after throwing. */
int js_u64_opt(napi_env env, napi_value obj, const char *name, uint64_t *out);

/* Stitcher options from a JS object; the string lists live in `hold` until js_options_free. */
struct js_options {
	struct wisp_http_options o;
	char **strings;
	size_t nstrings;
};
int js_http_options(napi_env env, napi_value obj, struct js_options *out);
void js_options_free(struct js_options *o);

/*
 * The batches of a chain as a JS array of column batches (see src/engine/http/batch.ts for
 * the shape); frees the chain. NULL after throwing.
 */
napi_value js_batches(napi_env env, struct wisp_batch *chain);

struct proc_info;

/* The processes of a list as a JS array of { pid, startTicks, comm, cmdline, cgroup } (raw file text). */
napi_value js_procs(napi_env env, const struct proc_info *p);

/* A table of distinct strings as a JS array of strings, by code (latin1 when 7-bit). */
napi_value js_strings(napi_env env, const struct wisp_strtab *t);

/* One counter of a stage's counters struct: its JS name, and the offset of its uint64_t. */
struct js_counter {
	const char *name;
	size_t off;
};

/* The `n` counters `names` lists, read from `c`, as a JS object of numbers. */
napi_value js_counter_object(napi_env env, const void *c, const struct js_counter *names, size_t n);

/* The counters as a JS object of numbers named as in src/engine/http/batch.ts. */
napi_value js_counters(napi_env env, const struct wisp_http_counters *c);

/* Makes the property names of batch objects once for this environment; -1 on failure. */
int js_keys_init(napi_env env);

/* Registers the standalone stitcher's functions (stitcherOpen, stitcherPush, …) on exports. */
void js_define_stitcher(napi_env env, napi_value exports);

#endif
