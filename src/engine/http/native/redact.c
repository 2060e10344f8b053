// SPDX-License-Identifier: Apache-2.0
/*
 * Credential redaction. Exact, because the stored text is what users audit; the vectors in
 * src/engine/http/redaction-vectors.json pin every rule. `[REDACTED]` is the marker throughout.
 *
 * Modes: `defaults` applies everything below with the built-in lists plus the extra names;
 * `listed` only H1 and T2/T3 by exact name with only the extra names; `off` nothing.
 *
 * Words of a name (the credential-name rule): maximal runs of ASCII letters and digits; inside
 * a run a new word also starts at an uppercase letter that follows a lowercase letter or a
 * digit, or that follows an uppercase letter and is followed by a lowercase one ("XApiKey" → x,
 * api, key; "AWSAccessKeyId" → aws, access, key, id). A name looks like a credential when one
 * of its words (lower-cased) ends with a credential suffix, or two consecutive words form a
 * credential pair.
 *
 * Headers, grouped by lower-case name into one JSON key spelled as first sent:
 * - H1: the key's lower-case name is listed, or (defaults) its name as first sent looks like a
 *   credential: the value is `[REDACTED]`, however many lines it had.
 * - Otherwise each line's value goes through H2 then H3, and the results are joined with ", ".
 * - H2 (defaults; not WWW-Authenticate/Proxy-Authenticate, whose scheme starts a challenge):
 *   the text before the first SP/HTAB is a known auth scheme (ASCII case-insensitive), and a
 *   non-blank character follows somewhere: the value becomes that word as sent, SP, `[REDACTED]`.
 * - H3 (defaults): the token patterns of T4, when H2 did not apply.
 * Request target, in order:
 * - T1 (defaults): an absolute-form target (a scheme, then "://"): everything from after "://"
 *   to the authority's last `@` becomes `[REDACTED]`; the authority ends at `/`, `?`, `#` or the end.
 * - T2: path parameters: in the path part (before the first `?`) each `;` starts a parameter
 *   ending at the next `;`, `/` or the end of the path part.
 * - T3: query parameters: the query (after the first `?`) split at each `&`.
 *   A T2/T3 parameter with `=` and a non-empty value has the value replaced when its name,
 *   percent-decoded once (`%XX` → byte, `+` → SP), ASCII lower-cased, is listed, or (defaults)
 *   looks like a credential. Names and separators are kept.
 * - T4 (defaults), over the whole result, left to right: a JWT/JWE (`eyJ`, a run of base64url
 *   characters, then two or more groups of `.` and a possibly empty run; every run maximal), or
 *   at a token start (the beginning, or after a non-base64url character) a known provider prefix
 *   followed by at least 16 base64url characters: the match becomes `[REDACTED]`.
 * Every scan is linear in its input: hostile headers and paths are as cheap as ordinary ones.
 */
#include "redact.h"
#include "ascii.h"

#include <stdlib.h>
#include <string.h>

static const char *const default_headers[] = {
	"authorization", "proxy-authorization", "cookie", "set-cookie",
	"x-api-key", "api-key", "apikey", "x-api-token", "token", "private-token",
	"x-auth-token", "x-access-token", "x-refresh-token", "x-id-token", "x-csrf-token", "x-xsrf-token",
	"x-amz-security-token", "x-vault-token", "x-gitlab-token", "x-jwt-assertion",
	"x-goog-iap-jwt-assertion", "cf-access-jwt-assertion", "x-amzn-oidc-accesstoken", "x-amzn-oidc-data",
	"x-auth-key", "x-functions-key", "ocp-apim-subscription-key", "x-sentry-auth", "x-honeycomb-team",
};

/*
 * `key` (Google API keys), `code` (OAuth authorization codes, credentials until redeemed),
 * `sig`/`signature` and the X-Amz/X-Goog signing parameters (pre-signed URLs), session ids that
 * frameworks put in URLs.
 */
static const char *const default_params[] = {
	"token", "access_token", "refresh_token", "id_token", "private_token", "oauth_token", "oauth_verifier",
	"api_key", "apikey", "key", "code", "auth", "jwt", "assertion", "client_assertion", "samlresponse",
	"password", "passwd", "pwd", "pass", "secret", "client_secret",
	"signature", "sig", "x-amz-signature", "x-amz-credential", "x-amz-security-token",
	"x-goog-signature", "x-goog-credential", "awsaccesskeyid",
	"session", "sessionid", "session_id", "sid", "phpsessid", "jsessionid",
};

static const char *const credential_suffixes[] = {
	"token", "secret", "password", "passwd", "pwd", "passphrase", "apikey", "sessionid",
	"authorization", "credential", "credentials", "signature", "jwt", "cookie",
};

static const char *const credential_pairs[][2] = {
	{ "api", "key" }, { "private", "key" }, { "access", "key" }, { "auth", "key" }, { "master", "key" },
	{ "app", "key" }, { "application", "key" }, { "subscription", "key" }, { "session", "id" }, { "session", "key" },
};

/* IANA's registry of authentication schemes plus common unregistered ones. */
static const char *const auth_schemes[] = {
	"basic", "bearer", "digest", "negotiate", "ntlm", "dpop", "gnap", "hoba", "mutual", "oauth",
	"privatetoken", "scram-sha-1", "scram-sha-256", "vapid", "concealed", "aws4-hmac-sha256", "token", "apikey",
};

/* GitHub, GitLab, Slack, Stripe, Anthropic, OpenAI, npm, PyPI, Google OAuth, Hugging Face. No
 * prefix begins another or begins with "eyJ", so at most one can match at a position. */
#define TOKEN_PREFIXES(X)                                                                                  \
	X("ghp_") X("gho_") X("ghu_") X("ghs_") X("ghr_") X("github_pat_") X("glpat-") X("xoxb-") X("xoxp-") \
	X("xoxa-") X("xoxr-") X("xoxs-") X("sk_live_") X("rk_live_") X("sk-ant-") X("sk-proj-") X("npm_")    \
	X("pypi-") X("ya29.") X("hf_")
#define AS_STRING(s) s,
#define AS_LENGTH(s) sizeof(s) - 1,
static const char *const token_prefixes[] = { TOKEN_PREFIXES(AS_STRING) };
static const size_t prefix_len[] = { TOKEN_PREFIXES(AS_LENGTH) };

/* Whether a token prefix can start with c: the scan tests prefixes only where one can start. */
static int prefix_start(uint8_t c)
{
	switch (c) {
	case 'g': case 'x': case 's': case 'r': case 'n': case 'p': case 'y': case 'h':
		return 1;
	default:
		return 0;
	}
}

#define TOKEN_MIN_RUN 16
#define COUNT(a) (sizeof(a) / sizeof(*(a)))

struct redactor {
	enum redact_mode mode;
	size_t nheaders;
	size_t nparams;
	char **headers; /* lower case */
	char **params;
	size_t *header_len;
	size_t *param_len;
};

/* A base64url character: what token runs are made of. */
static int is_token(uint8_t c)
{
	return ascii_alnum(c) || c == '_' || c == '-';
}

static char *lower_dup(const char *s)
{
	size_t n = strlen(s);
	char *d = malloc(n + 1);

	if (!d)
		return NULL;
	for (size_t i = 0; i < n; i++)
		d[i] = (char)ascii_lower((uint8_t)s[i]);
	d[n] = 0;
	return d;
}

static int add_names(char ***list, size_t **lens, size_t *n, const char *const *builtin, size_t nbuiltin,
		     const char *const *extra, size_t nextra)
{
	*list = calloc(nbuiltin + nextra + 1, sizeof(char *));
	*lens = calloc(nbuiltin + nextra + 1, sizeof(size_t));
	if (!*list || !*lens)
		return -1;
	for (size_t i = 0; i < nbuiltin + nextra; i++) {
		(*list)[i] = lower_dup(i < nbuiltin ? builtin[i] : extra[i - nbuiltin]);
		if (!(*list)[i])
			return -1;
		(*lens)[i] = strlen((*list)[i]);
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
	free(r->header_len);
	free(r->param_len);
	free(r);
}

struct redactor *redactor_new(enum redact_mode mode, const char *const *headers, size_t nheaders,
			      const char *const *params, size_t nparams)
{
	struct redactor *r = calloc(1, sizeof(*r));
	int builtin = mode == REDACT_DEFAULTS;

	if (!r)
		return NULL;
	r->mode = mode;
	if (add_names(&r->headers, &r->header_len, &r->nheaders, default_headers, builtin ? COUNT(default_headers) : 0,
		      headers, nheaders) ||
	    add_names(&r->params, &r->param_len, &r->nparams, default_params, builtin ? COUNT(default_params) : 0, params,
		      nparams)) {
		redactor_free(r);
		return NULL;
	}
	return r;
}

/* Whether s[0, n), ASCII lower-cased, is in the list (whose entries are lower case). */
static int listed(char *const *list, const size_t *lens, size_t nlist, const uint8_t *s, size_t n)
{
	for (size_t i = 0; i < nlist; i++) {
		size_t k = 0;

		if (lens[i] != n)
			continue;
		while (k < n && ascii_lower(s[k]) == (uint8_t)list[i][k])
			k++;
		if (k == n)
			return 1;
	}
	return 0;
}

static int word_ends_with(const uint8_t *w, size_t n, const char *s)
{
	size_t k = strlen(s);

	return k <= n && ascii_is(w + n - k, k, s);
}

/* Whether word w follows word p as a credential pair, or w ends in a credential suffix. */
static int credential_word(const uint8_t *p, size_t pn, const uint8_t *w, size_t wn)
{
	for (size_t i = 0; i < COUNT(credential_suffixes); i++)
		if (word_ends_with(w, wn, credential_suffixes[i]))
			return 1;
	if (!p)
		return 0;
	for (size_t i = 0; i < COUNT(credential_pairs); i++)
		if (ascii_is(p, pn, credential_pairs[i][0]) && ascii_is(w, wn, credential_pairs[i][1]))
			return 1;
	return 0;
}

/* The credential-name rule over the words of s[0, n) (see the top of this file). */
static int looks_like_credential(const uint8_t *s, size_t n)
{
	const uint8_t *prev = NULL;
	size_t prev_n = 0, start = 0;
	int in_word = 0;

	for (size_t i = 0; i <= n; i++) {
		uint8_t c = i < n ? s[i] : 0;
		int cut = 0, end = 0;

		if (!ascii_alnum(c)) {
			end = in_word;
		} else if (!in_word) {
			in_word = 1;
			start = i;
		} else if (ascii_upper(c)) {
			uint8_t p = s[i - 1], nx = i + 1 < n ? s[i + 1] : 0;

			cut = ascii_lower_letter(p) || ascii_digit(p) || (ascii_upper(p) && ascii_lower_letter(nx));
		}
		if (end || cut) {
			if (credential_word(prev, prev_n, s + start, i - start))
				return 1;
			prev = s + start;
			prev_n = i - start;
			in_word = cut;
			start = i;
		}
	}
	return 0;
}

int redact_header_name(const struct redactor *r, const uint8_t *name, const uint8_t *lower_name, size_t n)
{
	if (r->mode == REDACT_OFF)
		return 0;
	return listed(r->headers, r->header_len, r->nheaders, lower_name, n) || (r->mode == REDACT_DEFAULTS && looks_like_credential(name, n));
}

static size_t run_end(const uint8_t *s, size_t n, size_t i)
{
	while (i < n && is_token(s[i]))
		i++;
	return i;
}

/*
 * T4/H3 over s[0, n): when it holds JWTs or provider tokens, appends s to `out` with them
 * replaced and returns 1; else writes nothing and returns 0. Linear: a JWT that fails at one
 * "eyJ" fails at every later "eyJ" of the same run, so the scan skips the run.
 */
static int hide_tokens(const uint8_t *s, size_t n, struct buf *out)
{
	size_t i = 0, copied = 0;
	int hid = 0;

	while (i < n) {
		size_t end = 0;
		int found = 0;

		if (n - i >= 3 && s[i] == 'e' && s[i + 1] == 'y' && s[i + 2] == 'J') {
			size_t first = run_end(s, n, i), p = first;
			int groups = 0;

			while (first - i > 3 && p < n && s[p] == '.') {
				p = run_end(s, n, p + 1);
				groups++;
			}
			if (groups < 2) {
				i = first;
				continue;
			}
			end = p;
			found = 1;
		} else if (prefix_start(s[i]) && (i == 0 || !is_token(s[i - 1]))) {
			for (size_t k = 0; k < COUNT(token_prefixes); k++) {
				size_t pl = prefix_len[k], r;

				if ((uint8_t)token_prefixes[k][0] != s[i] || n - i < pl || memcmp(s + i, token_prefixes[k], pl) != 0)
					continue;
				r = run_end(s, n, i + pl);
				if (r - (i + pl) >= TOKEN_MIN_RUN) {
					end = r;
					found = 1;
				}
				break;
			}
		}
		if (!found) {
			i++;
			continue;
		}
		buf_put(out, s + copied, i - copied);
		buf_put(out, REDACTED, REDACTED_LEN);
		copied = i = end;
		hid = 1;
	}
	if (hid)
		buf_put(out, s + copied, n - copied);
	return hid;
}

void redact_header_value(const struct redactor *r, const uint8_t *lname, size_t ln, const uint8_t *v, size_t n,
			 struct buf *out)
{
	size_t sp = 0;

	if (r->mode != REDACT_DEFAULTS) {
		buf_put(out, v, n);
		return;
	}
	if (!ascii_is(lname, ln, "www-authenticate") && !ascii_is(lname, ln, "proxy-authenticate")) {
		while (sp < n && v[sp] != ' ' && v[sp] != '\t')
			sp++;
		if (sp > 0 && sp < n) {
			int scheme = 0, rest = 0;

			for (size_t k = 0; k < COUNT(auth_schemes) && !scheme; k++)
				scheme = ascii_is(v, sp, auth_schemes[k]);
			for (size_t k = sp; k < n && !rest; k++)
				rest = v[k] != ' ' && v[k] != '\t';
			if (scheme && rest) {
				buf_put(out, v, sp);
				buf_byte(out, ' ');
				buf_put(out, REDACTED, REDACTED_LEN);
				return;
			}
		}
	}
	if (!hide_tokens(v, n, out))
		buf_put(out, v, n);
}

static int hex(uint8_t c)
{
	return ascii_digit(c) ? c - '0' : c >= 'a' && c <= 'f' ? c - 'a' + 10 : c >= 'A' && c <= 'F' ? c - 'A' + 10 : -1;
}

/* Whether the value of a parameter named raw[0, n) (as sent, still encoded) is hidden. */
static int hides_param(const struct redactor *r, const uint8_t *raw, size_t n)
{
	uint8_t small[256], *d = n <= sizeof(small) ? small : malloc(n);
	size_t m = 0;
	int hide;

	if (!d)
		return 1; /* out of memory: hiding is the safe side */
	for (size_t i = 0; i < n; i++) {
		if (raw[i] == '+') {
			d[m++] = ' ';
		} else if (raw[i] == '%' && i + 2 < n && hex(raw[i + 1]) >= 0 && hex(raw[i + 2]) >= 0) {
			d[m++] = (uint8_t)(hex(raw[i + 1]) << 4 | hex(raw[i + 2]));
			i += 2;
		} else {
			d[m++] = raw[i];
		}
	}
	hide = listed(r->params, r->param_len, r->nparams, d, m) || (r->mode == REDACT_DEFAULTS && looks_like_credential(d, m));
	if (d != small)
		free(d);
	return hide;
}

/*
 * T2/T3 over t[from, end): t[from] is the first separator (`;` or `?`), `sep` starts the next
 * parameters (path parameters also end at `/`). Appends t with hidden values to `out`; 0 when
 * nothing was hidden (then `out` is untouched).
 */
static int params(const struct redactor *r, const uint8_t *t, size_t n, size_t from, size_t end, uint8_t sep,
		  struct buf *out)
{
	size_t start = from + 1, copied = 0;

	while (start <= end) {
		size_t stop = start, eq = SIZE_MAX;

		while (stop < end && t[stop] != sep && !(sep == ';' && t[stop] == '/')) {
			if (eq == SIZE_MAX && t[stop] == '=')
				eq = stop;
			stop++;
		}
		if (eq != SIZE_MAX && eq + 1 < stop && hides_param(r, t + start, eq - start)) {
			buf_put(out, t + copied, eq + 1 - copied);
			buf_put(out, REDACTED, REDACTED_LEN);
			copied = stop;
		}
		if (sep == ';' && stop < end && t[stop] == '/') {
			/* Parameters start again only at the next `;`. */
			const uint8_t *next = memchr(t + stop, ';', n - stop);

			if (!next || (size_t)(next - t) >= end)
				break;
			stop = (size_t)(next - t);
		}
		start = stop + 1;
	}
	if (copied == 0)
		return 0;
	buf_put(out, t + copied, n - copied);
	return 1;
}

static size_t index_of(const uint8_t *s, size_t n, uint8_t c)
{
	const uint8_t *p = memchr(s, c, n);

	return p ? (size_t)(p - s) : SIZE_MAX;
}

/* T1: the userinfo of an absolute-form target; 0 when there is none. */
static int hide_userinfo(const uint8_t *t, size_t n, struct buf *out)
{
	size_t i = 1, start, end, at = SIZE_MAX;

	if (n == 0 || !(ascii_upper(t[0]) || ascii_lower_letter(t[0])))
		return 0;
	while (i < n && (ascii_alnum(t[i]) || t[i] == '+' || t[i] == '-' || t[i] == '.'))
		i++;
	if (n - i < 3 || memcmp(t + i, "://", 3) != 0)
		return 0;
	start = end = i + 3;
	while (end < n && t[end] != '/' && t[end] != '?' && t[end] != '#')
		end++;
	for (size_t k = start; k < end; k++)
		if (t[k] == '@')
			at = k;
	if (at == SIZE_MAX)
		return 0;
	buf_put(out, t, start);
	buf_put(out, REDACTED, REDACTED_LEN);
	buf_put(out, t + at, n - at);
	return 1;
}

int redact_path(const struct redactor *r, const uint8_t *in, size_t n, struct buf *out, struct buf *tmp)
{
	const uint8_t *t = in;
	size_t q, semi;
	int changed = 0;

	if (r->mode == REDACT_OFF)
		return 0;
	/* Each step reads t and, when it hides something, writes the other buffer, which becomes t. */
#define STEP(call)                                               \
	do {                                                     \
		struct buf *dst = t == out->p ? tmp : out;       \
		dst->len = 0;                                    \
		if (call) {                                      \
			if (dst->failed)                         \
				return -1;                       \
			t = dst->p;                              \
			n = dst->len;                            \
			changed = 1;                             \
		}                                                \
	} while (0)
	if (r->mode == REDACT_DEFAULTS && n > 0 && t[0] != '/')
		STEP(hide_userinfo(t, n, dst));
	q = index_of(t, n, '?');
	semi = index_of(t, n, ';');
	if (semi != SIZE_MAX && (q == SIZE_MAX || semi < q))
		STEP(params(r, t, n, semi, q == SIZE_MAX ? n : q, ';', dst));
	q = index_of(t, n, '?');
	if (q != SIZE_MAX)
		STEP(params(r, t, n, q, n, '&', dst));
	if (r->mode == REDACT_DEFAULTS)
		STEP(hide_tokens(t, n, dst));
#undef STEP
	if (!changed)
		return 0;
	if (t != out->p) {
		out->len = 0;
		buf_put(out, t, n);
		if (out->failed)
			return -1;
	}
	return 1;
}
