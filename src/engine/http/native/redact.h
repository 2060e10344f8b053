/* SPDX-License-Identifier: Apache-2.0 */
/*
 * What is hidden before a value is stored: credential headers (by name, by auth scheme, by
 * token shape) and credentials in the request target (userinfo, query and path parameters,
 * token shapes). The exact rules are written down in docs/capture.md ("What is kept") and at
 * the top of redact.c; src/engine/http/redaction-vectors.json holds the vectors they are
 * tested against (src/engine/http/redaction.test.ts).
 */
#ifndef WISP_REDACT_H
#define WISP_REDACT_H

#include <stddef.h>
#include <stdint.h>

#include "buf.h"

/* What a redacted value reads as. */
#define REDACTED "[REDACTED]"
#define REDACTED_LEN 10

enum redact_mode {
	REDACT_DEFAULTS = 0, /* the built-in rules and lists, plus extra names */
	REDACT_LISTED = 1,   /* only the extra names, whole header values and parameter values */
	REDACT_OFF = 2,      /* nothing */
};

struct redactor;

/* Extra names are compared ASCII case-insensitively. NULL when out of memory. */
struct redactor *redactor_new(enum redact_mode mode, const char *const *headers, size_t nheaders,
			      const char *const *params, size_t nparams);
void redactor_free(struct redactor *r);

/* H1: whether a header's whole value is hidden; `name` as first sent, `lower` its lower case. */
int redact_header_name(const struct redactor *r, const uint8_t *name, const uint8_t *lower, size_t n);

/*
 * H2 and H3 on one field line's value: appends the value to `out`, with what it hides replaced.
 * `lower` is the header's lower-case name.
 */
void redact_header_value(const struct redactor *r, const uint8_t *lower, size_t ln, const uint8_t *v, size_t n,
			 struct buf *out);

/*
 * T1–T4 on a request target: 0 when nothing is hidden (the caller keeps `in`), 1 with the
 * redacted target in `out` (overwritten), -1 when memory ran out (the caller must not store the
 * target as sent). `tmp` is scratch space; both keep their memory.
 */
int redact_path(const struct redactor *r, const uint8_t *in, size_t n, struct buf *out, struct buf *tmp);

#endif
