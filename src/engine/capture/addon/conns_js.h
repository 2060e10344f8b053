/* SPDX-License-Identifier: Apache-2.0 */
/* The connections stage's rows and counters for JS (see conns_js.c). */
#ifndef WISP_CONNS_JS_H
#define WISP_CONNS_JS_H

#include <node_api.h>

#include "../../conns/native/wisp_conns.h"

/* The batches of a chain as a JS array of row batches; frees the chain. */
napi_value js_rows(napi_env env, struct wisp_rows *chain);

/* The counters as a JS object of numbers (names as in src/engine/capture/addon.ts ConnsCounters). */
napi_value js_conns_counters(napi_env env, const struct wisp_conns_counters *c);

#endif
