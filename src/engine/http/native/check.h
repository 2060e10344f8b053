/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The few checks the native unit tests (*_test.c) need. Built with AddressSanitizer and UBSan by
 * `make native-tests`; each test program prints one line per test and exits non-zero on failure.
 */
#ifndef WISP_CHECK_H
#define WISP_CHECK_H

#include <stdio.h>
#include <string.h>

static int check_failures;

#define CHECK(cond)                                                                     \
	do {                                                                            \
		if (!(cond)) {                                                          \
			fprintf(stderr, "%s:%d: check failed: %s\n", __FILE__, __LINE__, #cond); \
			check_failures++;                                               \
		}                                                                       \
	} while (0)

#define CHECK_STR(got, want)                                                                        \
	do {                                                                                        \
		const char *g_ = (got), *w_ = (want);                                               \
		if (strcmp(g_, w_) != 0) {                                                          \
			fprintf(stderr, "%s:%d: got  %s\n%*swant %s\n", __FILE__, __LINE__, g_,        \
				(int)strlen(__FILE__) + 8, "", w_);                                     \
			check_failures++;                                                           \
		}                                                                                   \
	} while (0)

#define RUN(test)                                                                      \
	do {                                                                           \
		int before_ = check_failures;                                          \
		test();                                                                \
		printf("%s %s\n", check_failures == before_ ? "ok  " : "FAIL", #test); \
	} while (0)

#endif
