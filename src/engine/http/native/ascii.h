/* SPDX-License-Identifier: Apache-2.0 */
/* ASCII character classes and case-insensitive compares: HTTP's grammar is ASCII, whatever the bytes. */
#ifndef WISP_ASCII_H
#define WISP_ASCII_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>

static inline int ascii_upper(uint8_t c)
{
	return c >= 'A' && c <= 'Z';
}

static inline int ascii_lower_letter(uint8_t c)
{
	return c >= 'a' && c <= 'z';
}

static inline int ascii_digit(uint8_t c)
{
	return c >= '0' && c <= '9';
}

static inline int ascii_alnum(uint8_t c)
{
	return ascii_upper(c) || ascii_lower_letter(c) || ascii_digit(c);
}

static inline uint8_t ascii_lower(uint8_t c)
{
	return ascii_upper(c) ? (uint8_t)(c + 32) : c;
}

/* Whether s[0, n), lower-cased, is exactly `word` (which is lower case). */
static inline int ascii_is(const uint8_t *s, size_t n, const char *word)
{
	if (strlen(word) != n)
		return 0;
	for (size_t i = 0; i < n; i++)
		if (ascii_lower(s[i]) != (uint8_t)word[i])
			return 0;
	return 1;
}

#endif
