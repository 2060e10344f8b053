/* SPDX-License-Identifier: Apache-2.0 */
/*
 * What is hidden before a value is stored: credential headers (by name, and by value pattern)
 * and credential query parameters. The rules are stated once in docs/capture.md ("What is
 * kept") and tested against src/engine/http/redaction-vectors.json.
 */
#ifndef WISP_REDACT_H
#define WISP_REDACT_H

#include <stddef.h>
#include <stdint.h>

/* What a redacted value reads as. */
#define REDACTED "[REDACTED]"
#define REDACTED_LEN 10

struct redactor;

/*
 * `enabled` 0: nothing is redacted. `headers`: extra header names (any case) added to the
 * defaults; `params`: extra query parameter names added to the defaults.
 */
struct redactor *redactor_new(int enabled, const char *const *headers, size_t nheaders, const char *const *params,
			      size_t nparams);
void redactor_free(struct redactor *r);

/* Whether the value of the header with this lower-case name is hidden. */
int redact_header_name(const struct redactor *r, const uint8_t *lower, size_t n);

/* Whether this header value is hidden whatever its name (a bearer token, a JWT …). */
int redact_header_value(const struct redactor *r, const uint8_t *v, size_t n);

/*
 * Writes the request target with the values of credential query parameters replaced; returns
 * the length written. `out` must hold redact_path_cap(n) bytes. Returns 0 and writes nothing
 * when nothing needs redacting (the caller keeps the original).
 */
size_t redact_path(const struct redactor *r, const uint8_t *in, size_t n, uint8_t *out);

static inline size_t redact_path_cap(size_t n)
{
	/* Each redacted value may grow to REDACTED_LEN; a value is at least its '=' before it. */
	return n + (n / 2 + 1) * REDACTED_LEN;
}

#endif
