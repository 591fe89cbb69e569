/* The journals' numbers formatted by hand (cm_csv_int, cm_csv_whole: issue 25 item 6, a
 * boot's rows without vfprintf) give the very bytes printf's "%lld" and "%.0f" gave: the
 * journals' text must not change by a byte. Edge values and a million seeded random ones. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "coldmark/model.h"

static uint64_t rng = 0x9e3779b97f4a7c15ULL;

static uint64_t next(void)
{
	rng ^= rng << 13, rng ^= rng >> 7, rng ^= rng << 17;
	return rng;
}

static void check_int(long long v)
{
	char want[64], *got = NULL;
	size_t n = 0;
	FILE *f = open_memstream(&got, &n);
	cm_csv_int(f, v);
	fclose(f);
	snprintf(want, sizeof(want), "%lld", v);
	if (strcmp(got, want))
		fail_msg("cm_csv_int(%lld) wrote \"%s\"", v, got);
	free(got);
}

static void check_whole(double d)
{
	char want[400], *got = NULL;
	size_t n = 0;
	FILE *f = open_memstream(&got, &n);
	cm_csv_whole(f, d);
	fclose(f);
	snprintf(want, sizeof(want), "%.0f", d);
	if (strcmp(got, want))
		fail_msg("cm_csv_whole(%a) wrote \"%s\", %%.0f gives \"%s\"", d, got, want);
	free(got);
}

static void test_int(void **st)
{
	(void)st;
	const long long edge[] = { 0, 1, -1, 9, 10, -10, 99, 100, INT_MAX, INT_MIN,
				   (long long)UINT_MAX, LLONG_MAX, LLONG_MIN, LLONG_MIN + 1 };
	for (size_t i = 0; i < sizeof(edge) / sizeof(edge[0]); i++)
		check_int(edge[i]);
	for (int i = 0; i < 1000000; i++) {
		uint64_t r = next();
		check_int((long long)(r >> (r % 64))); /* every length of number */
	}
}

static void test_whole(void **st)
{
	(void)st;
	const double edge[] = { 0.0, -0.0, 1.0, -1.0, 0.5, -0.5, 1.5, 2.5, -2.5, 0.49999999999999994,
				9007199254740992.0, -9007199254740992.0, 9007199254740993.0,
				9007199254740994.0, 1e300, -1e300, 4.9e-324, INFINITY, -INFINITY,
				1234567890123.0, 123456789.75 };
	for (size_t i = 0; i < sizeof(edge) / sizeof(edge[0]); i++)
		check_whole(edge[i]);
	for (int i = 0; i < 1000000; i++) {
		uint64_t r = next();
		double d = (double)(int64_t)(r >> (r % 64)) * ((r & 1) ? -1 : 1);
		check_whole(d);                     /* integral: durations in ns */
		check_whole(d / 4.0);               /* fractions and ties */
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_int),
		cmocka_unit_test(test_whole),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
