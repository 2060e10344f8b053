// SPDX-License-Identifier: Apache-2.0
/* Unit tests of http1.c's start lines and header sections (framing, JSON, the cache). */
#include <stdlib.h>

#include "check.h"
#include "http1.h"
#include "redact.h"

static struct redactor *rd_off, *rd_on;

static struct h1_head *section(struct h1_heads *c, const char *s)
{
	return h1_heads_get(c, (const uint8_t *)s, strlen(s));
}

static const char *json(const struct h1_head *h)
{
	static char buf[1024];

	snprintf(buf, sizeof(buf), "%.*s", (int)h->json_len, h->json);
	return buf;
}

static void repeated_section_is_the_same_object(void)
{
	struct h1_heads *c = h1_heads_new(64, rd_off);
	const char *a = "xxHost: a\r\nContent-Length: 5\r\n\r\n";
	struct h1_head *first = section(c, a + 2), *again, *other;
	char copy[64];

	CHECK_STR(json(first), "{\"Host\":\"a\",\"Content-Length\":\"5\"}");
	CHECK(first->content_length == 5);
	strcpy(copy, a + 2);
	again = section(c, copy);
	CHECK(again == first);
	other = section(c, "Host: b\r\nContent-Length: 5\r\n\r\n");
	CHECK(other != first && other->id != first->id);
	CHECK_STR(json(other), "{\"Host\":\"b\",\"Content-Length\":\"5\"}");
	h1_head_unref(first);
	h1_head_unref(again);
	h1_head_unref(other);
	h1_heads_free(c);
}

static void framing_facts(void)
{
	struct h1_heads *c = h1_heads_new(64, rd_off);
	struct h1_head *h;

#define FACT(text, expr)                       \
	do {                                   \
		h = section(c, text);          \
		CHECK(h && (expr));            \
		h1_head_unref(h);              \
	} while (0)
	FACT("Transfer-Encoding: gzip\r\nTransfer-Encoding: chunked\r\n\r\n", h->chunked);
	FACT("Transfer-Encoding: chunked, gzip\r\n\r\n", h->has_te && !h->chunked);
	FACT("Transfer-Encoding: CHUNKED \r\n\r\n", h->chunked);
	FACT("Upgrade: websocket\r\nConnection: keep-alive, Upgrade\r\n\r\n", h->upgrade);
	FACT("Upgrade: websocket\r\n\r\n", !h->upgrade);
	FACT("\r\n", h->content_length == -1 && !h->has_te);
	FACT("X: a\r\n  b \r\n\r\n", strcmp(json(h), "{\"X\":\"a b\"}") == 0);
	FACT("X-Name: caf\xc3\xa9\r\n\r\n", strcmp(json(h), "{\"X-Name\":\"caf\xc3\xa9\"}") == 0);
	FACT("Content-Type: application/json; charset=utf-8\r\n\r\n", h->json_type);
	FACT("content-type: application/problem+json\r\n\r\n", h->json_type);
	FACT("Content-Type: text/html\r\n\r\n", !h->json_type);
#undef FACT
	CHECK(section(c, "Content-Length: 1\r\nContent-Length: 2\r\n\r\n") == NULL);
	CHECK(section(c, "Content-Length: 1x\r\n\r\n") == NULL);
	CHECK(section(c, "Content-Length: 1234567890123456\r\n\r\n") == NULL);
	CHECK(section(c, " folded\r\n\r\n") == NULL);
	CHECK(section(c, "no colon here\r\n\r\n") == NULL);
	CHECK(section(c, "Name : v\r\n\r\n") == NULL);
	h1_heads_free(c);
}

static void headers_json(void)
{
	struct h1_heads *c = h1_heads_new(64, rd_off);
	struct h1_head *h = section(c, "Accept: a\r\nX-Q: say \"hi\"\\\r\naccept: b\r\nX-C: \x01\ttab\r\n\r\n");

	CHECK_STR(json(h), "{\"Accept\":\"a, b\",\"X-Q\":\"say \\\"hi\\\"\\\\\",\"X-C\":\"\\u0001\\ttab\"}");
	h1_head_unref(h);
	h = section(c, "\r\n");
	CHECK_STR(json(h), "{}");
	h1_head_unref(h);
	h = section(c, "__proto__: x\r\n\r\n");
	CHECK_STR(json(h), "{\"__proto__\":\"x\"}");
	h1_head_unref(h);
	h1_heads_free(c);
}

static void redacted_json(void)
{
	struct h1_heads *c = h1_heads_new(64, rd_on);
	struct h1_head *h = section(c, "Authorization: Basic dTpw\r\nCookie: a=1\r\nX-Service-Secret: s\r\nAccept: */*\r\n\r\n");

	CHECK_STR(json(h), "{\"Authorization\":\"[REDACTED]\",\"Cookie\":\"[REDACTED]\",\"X-Service-Secret\":\"[REDACTED]\",\"Accept\":\"*/*\"}");
	h1_head_unref(h);
	h1_heads_free(c);
}

static void start_lines(void)
{
	struct h1_start st;
	const char *get = "GET /a?b=1 HTTP/1.1";

#define LINE(s) h1_parse_start_line((const uint8_t *)(s), strlen(s), &st)
	CHECK(LINE(get) && st.status == 0 && st.method_len == 3 && st.major == 1 && st.minor == 1);
	CHECK(st.text_off == 4 && st.text_len == 6 && memcmp(get + st.text_off, "/a?b=1", 6) == 0);
	CHECK(LINE("HTTP/1.0 404 Not Found") && st.status == 404 && st.major == 1 && st.minor == 0 && st.text_len == 9);
	CHECK(LINE("HTTP/1.1 200") && st.status == 200 && st.text_len == 0);
	CHECK(LINE("HTTP/1.1 200 ") && st.status == 200 && st.text_len == 0);
	CHECK(LINE("PROPFIND /dav HTTP/1.1") && st.method_len == 8);
	CHECK(!LINE("GET /a HTTP/2"));
	CHECK(!LINE("GET /a b HTTP/1.1"));
	CHECK(!LINE("GET  HTTP/1.1"));
	CHECK(!LINE("HTTP/1.1 2000 OK"));
	CHECK(!LINE("HTTP/1.1 20 OK"));
	CHECK(!LINE("hello world"));
	CHECK(!LINE(""));
#undef LINE
}

int main(void)
{
	rd_off = redactor_new(REDACT_OFF, NULL, 0, NULL, 0);
	rd_on = redactor_new(REDACT_DEFAULTS, NULL, 0, NULL, 0);
	RUN(repeated_section_is_the_same_object);
	RUN(framing_facts);
	RUN(headers_json);
	RUN(redacted_json);
	RUN(start_lines);
	redactor_free(rd_off);
	redactor_free(rd_on);
	return check_failures ? 1 : 0;
}
