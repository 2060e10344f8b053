// SPDX-License-Identifier: Apache-2.0
/* Credential redaction; the rules are in redact.h and docs/capture.md. */
#include "redact.h"

#include <stdlib.h>
#include <string.h>

/* Header names whose values are hidden by default (lower case). */
static const char *const default_headers[] = {
	"authorization", "proxy-authorization", "cookie", "set-cookie", "x-api-key", "api-key", "apikey",
	"x-auth-token", "x-access-token", "x-amz-security-token", "x-csrf-token", "x-xsrf-token",
};

/* Query parameter names whose values are hidden by default (lower case, compared decoded). */
static const char *const default_params[] = {
	"access_token", "token", "api_key", "apikey", "password", "secret",
};

struct redactor {
	int enabled;
	size_t nheaders;
	size_t nparams;
	char **headers;
	char **params;
};

static char *lower_dup(const char *s)
{
	size_t n = strlen(s);
	char *d = malloc(n + 1);

	if (!d)
		return NULL;
	for (size_t i = 0; i < n; i++)
		d[i] = (s[i] >= 'A' && s[i] <= 'Z') ? (char)(s[i] + 32) : s[i];
	d[n] = 0;
	return d;
}

static int add_names(char ***list, size_t *n, const char *const *defaults, size_t ndefaults, const char *const *extra,
		     size_t nextra)
{
	*list = calloc(ndefaults + nextra + 1, sizeof(char *));
	if (!*list)
		return -1;
	for (size_t i = 0; i < ndefaults + nextra; i++) {
		(*list)[i] = lower_dup(i < ndefaults ? defaults[i] : extra[i - ndefaults]);
		if (!(*list)[i])
			return -1;
		*n = i + 1;
	}
	return 0;
}

void redactor_free(struct redactor *r)
{
	if (!r)
		return;
	for (size_t i = 0; i < r->nheaders; i++)
		free(r->headers[i]);
	for (size_t i = 0; i < r->nparams; i++)
		free(r->params[i]);
	free(r->headers);
	free(r->params);
	free(r);
}

struct redactor *redactor_new(int enabled, const char *const *headers, size_t nheaders, const char *const *params,
			      size_t nparams)
{
	struct redactor *r = calloc(1, sizeof(*r));

	if (!r)
		return NULL;
	r->enabled = enabled;
	if (add_names(&r->headers, &r->nheaders, default_headers, sizeof(default_headers) / sizeof(*default_headers),
		      headers, nheaders) ||
	    add_names(&r->params, &r->nparams, default_params, sizeof(default_params) / sizeof(*default_params), params,
		      nparams)) {
		redactor_free(r);
		return NULL;
	}
	return r;
}

static int in_list(char *const *list, size_t n, const uint8_t *s, size_t len)
{
	for (size_t i = 0; i < n; i++)
		if (strlen(list[i]) == len && memcmp(list[i], s, len) == 0)
			return 1;
	return 0;
}

static int sep(uint8_t c)
{
	return c == '-' || c == '_';
}

/* `word` at s[i]: returns the index after it, or 0. `opt_sep` allows one '-' or '_' at `split`. */
static size_t match_word(const uint8_t *s, size_t n, size_t i, const char *word, size_t split)
{
	size_t w = strlen(word);

	for (size_t k = 0; k < w; k++) {
		if (split && k == split && i < n && sep(s[i]))
			i++;
		if (i >= n || s[i] != (uint8_t)word[k])
			return 0;
		i++;
	}
	return i;
}

/*
 * Names that look like credentials even when not listed: a segment (between '-'/'_' or the ends)
 * sequence api[-_]key, auth[-_]token, access[-_]token, session[-_]token, secret or password.
 */
static int credential_name(const uint8_t *s, size_t n)
{
	static const struct {
		const char *word;
		size_t split;
	} words[] = {
		{ "apikey", 3 }, { "authtoken", 4 }, { "accesstoken", 6 }, { "sessiontoken", 7 },
		{ "secret", 0 }, { "password", 0 },
	};

	for (size_t i = 0; i < n; i++) {
		if (i > 0 && !sep(s[i - 1]))
			continue;
		for (size_t k = 0; k < sizeof(words) / sizeof(*words); k++) {
			size_t e = match_word(s, n, i, words[k].word, words[k].split);

			if (e && (e == n || sep(s[e])))
				return 1;
		}
	}
	return 0;
}

int redact_header_name(const struct redactor *r, const uint8_t *lower, size_t n)
{
	if (!r->enabled)
		return 0;
	return in_list(r->headers, r->nheaders, lower, n) || credential_name(lower, n);
}

int redact_header_value(const struct redactor *r, const uint8_t *v, size_t n)
{
	(void)r;
	(void)v;
	(void)n;
	return 0;
}

size_t redact_path(const struct redactor *r, const uint8_t *in, size_t n, uint8_t *out)
{
	(void)r;
	(void)in;
	(void)n;
	(void)out;
	return 0;
}
