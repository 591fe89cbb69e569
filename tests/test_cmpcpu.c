/* compare's CPU (issue 25 item 3): the faster paths give the same bits as the ones they
 * replace. median: analysis/compare_median.c against gsl's median of the sorted times and
 * against the plain selection it replaced; hexdecode: store/hexdecode.c against
 * the digit-table decoder summary.c had (ref_decode), valid and invalid texts alike; lnstats:
 * cm_ln_session_stats against its definition (logs, sorted, gsl's median), for whoever speeds
 * it up next (a quickselect of the median was tried: slower than the insertion sort at 20). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <gsl/gsl_sort.h>
#include <gsl/gsl_statistics_double.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "coldmark/stats.h"

#include "../analysis/compare_median.h"
#include "../store/driver.h"
#include "../store/hexdecode.h"

static uint64_t rng = 88172645463325252ull;
static uint64_t next(void)
{
	rng ^= rng << 13, rng ^= rng >> 7, rng ^= rng << 17;
	return rng;
}

/* the median compare_cells.c took before: a copy, a three-way quickselect, the min above */
static double old_median(const double *x, size_t n)
{
	if (!n)
		return NAN;
	double *v = malloc(n * sizeof(double)), t;
	memcpy(v, x, n * sizeof(double));
	const double index = 0.5 * (double)(n - 1);
	const size_t lhs = (size_t)index, k = lhs;
	const double delta = index - (double)lhs;
	size_t lo = 0, hi = n;
	double a = NAN;
	while (hi - lo > 1) {
		double pivot = v[lo + (hi - lo) / 2];
		size_t lt = lo, i = lo, gt = hi;
		while (i < gt) {
			if (v[i] < pivot)
				t = v[lt], v[lt++] = v[i], v[i++] = t;
			else if (v[i] > pivot)
				t = v[--gt], v[gt] = v[i], v[i] = t;
			else
				i++;
		}
		if (k < lt)
			hi = lt;
		else if (k >= gt)
			lo = gt;
		else {
			a = pivot;
			break;
		}
	}
	if (hi - lo <= 1)
		a = v[k];
	double r = a;
	if (lhs != n - 1) {
		double b = v[lhs + 1];
		for (size_t i = lhs + 2; i < n; i++)
			b = v[i] < b ? v[i] : b;
		r = (1 - delta) * a + delta * b;
	}
	free(v);
	return r;
}

/* The same bits, except that any NaN is as good as another: C leaves the sign and payload of
 * an operation's NaN open, and GCC may swap the operands of an addition (x86 keeps the first
 * NaN), so code compiled around it differently gives -nan for nan (a mean of logs of -1). */
static void same_bits(double x, double y, const char *what, size_t n, int kind)
{
	if (memcmp(&x, &y, sizeof(x)) && !(isnan(x) && isnan(y)))
		fail_msg("%s: n %zu kind %d: %.17g != %.17g", what, n, kind, x, y);
}

/* kind: 0 spread, 1 few distinct (ties), 2 sorted, 3 reversed, 4 one value, 5 a NaN,
 * 6 zeros of both signs, 7 the sample's positions all one value (the band misses) */
static void fill(double *x, size_t n, int kind)
{
	for (size_t i = 0; i < n; i++) {
		double u = (double)(next() >> 11) / 9007199254740992.0;
		x[i] = kind == 1   ? (double)(next() % 5) + 1
		       : kind == 2 ? (double)i + 0.5
		       : kind == 3 ? (double)(n - i)
		       : kind == 4 ? 7e7
				   : 1e8 * (1 + u);
	}
	if (kind == 5 && n)
		x[next() % n] = NAN;
	if (kind == 6)
		for (size_t i = 0; i < n; i++)
			x[i] = next() % 3 == 0 ? 0.0 : next() % 2 ? -0.0 : (double)(next() % 3) - 1;
	if (kind == 7)
		for (size_t j = 0; j < 256 && n >= 256; j++)
			x[j * n / 256] = 1.0; /* every sampled time the smallest */
}

static void test_median_exact(void **state)
{
	(void)state;
	static const size_t sizes[] = {0,    1,	   2,	 3,    20,    21,   1022,
				       1023, 1024, 1025, 4000, 20000, 20001};
	for (size_t si = 0; si < sizeof(sizes) / sizeof(sizes[0]); si++)
		for (int kind = 0; kind < 8; kind++)
			for (int rep = 0; rep < (sizes[si] > 4000 ? 4 : 20); rep++) {
				size_t n = sizes[si];
				double *x = malloc((n + 1) * sizeof(double)),
				       *keep = malloc((n + 1) * sizeof(double));
				fill(x, n, kind);
				memcpy(keep, x, n * sizeof(double));
				double got = cm_compare_median(x, n);
				assert_memory_equal(x, keep,
						    n * sizeof(double)); /* x not changed */
				same_bits(got, old_median(x, n), "vs the old selection", n, kind);
				if (kind != 5 && kind != 6 &&
				    n) { /* gsl's median (the old one differs too at NaN, ±0) */
					gsl_sort(keep, 1, n);
					same_bits(
					    got,
					    gsl_stats_quantile_from_sorted_data(keep, 1, n, 0.5),
					    "vs gsl", n, kind);
				}
				free(x), free(keep);
			}
}

static void encode(const double *v, size_t n, char *s)
{
	for (size_t i = 0; i < n; i++) {
		uint64_t bits;
		memcpy(&bits, &v[i], sizeof(bits));
		for (int d = 0; d < 16; d++)
			s[16 * i + (size_t)d] = "0123456789abcdef"[(bits >> (60 - 4 * d)) & 15];
	}
	s[16 * n] = 0;
}

/* The reference: summary.c's digit-table decoder before it called cm_hex_vals_decode, a byte
 * at a time by the definition (16 lower-case hex digits a time, most significant first). */
static int ref_decode(const char *text, double *out, size_t n)
{
	static signed char digit[256];
	if (!digit['1']) { /* once: -1 for a byte that is no hex digit */
		memset(digit, -1, sizeof(digit));
		for (int d = 0; d < 16; d++)
			digit[(unsigned char)"0123456789abcdef"[d]] = (signed char)d;
	}
	if (strlen(text) != 16 * n)
		return -1;
	const unsigned char *t = (const unsigned char *)text;
	for (size_t i = 0; i < n; i++, t += 16) {
		uint64_t bits = 0;
		int bad = 0;
		for (int d = 0; d < 16; d++) {
			bad |= digit[t[d]];
			bits = bits << 4 | (uint64_t)(digit[t[d]] & 15);
		}
		if (bad < 0)
			return -1;
		memcpy(&out[i], &bits, sizeof(bits));
	}
	return 0;
}

/* cm_summary_vals_decode (now cm_hex_vals_decode) against the digit-table reference */
static void test_hexdecode_exact(void **state)
{
	(void)state;
	enum { N = 40 };
	double v[N], a[N + 1], b[N + 1];
	char s[16 * N + 2];
	for (int rep = 0; rep < 2000; rep++) {
		size_t n = next() % N;
		for (size_t i = 0; i < n; i++) {
			uint64_t bits = next();
			memcpy(&v[i], &bits, sizeof(bits));
		}
		encode(v, n, s);
		int ra = ref_decode(s, a, n), rb = cm_hex_vals_decode(s, b, n);
		assert_int_equal(ra, 0);
		assert_int_equal(rb, 0);
		assert_memory_equal(a, b, n * sizeof(double));
		assert_int_equal(cm_hex_vals_decode_len(s, 16 * n, b, n), 0);
		assert_memory_equal(a, b, n * sizeof(double));
		assert_int_equal(cm_summary_vals_decode(s, b, n), 0); /* what the store calls */
		assert_memory_equal(a, b, n * sizeof(double));
		/* every byte value at one place: both decoders agree on valid or not */
		if (!n)
			continue;
		size_t at = next() % (16 * n);
		char keep = s[at];
		for (int c = 1; c < 256; c++) {
			s[at] = (char)c;
			ra = ref_decode(s, a, n), rb = cm_hex_vals_decode(s, b, n);
			if (ra != rb)
				fail_msg("byte 0x%02x at %zu of %zu: %d vs %d", c, at, 16 * n, ra,
					 rb);
			if (!ra)
				assert_memory_equal(a, b, n * sizeof(double));
		}
		s[at] = 0; /* a text cut short: both refuse, neither reads past it */
		assert_int_equal(cm_hex_vals_decode(s, b, n), ref_decode(s, a, n));
		s[at] = keep;
		assert_int_equal(cm_hex_vals_decode(s, b, n + 1), -1); /* too short for n + 1 */
		assert_int_equal(cm_hex_vals_decode(s, b, n - 1),
				 ref_decode(s, a, n - 1));
	}
	assert_int_equal(cm_hex_vals_decode("", b, 0), 0);
	assert_int_equal(cm_hex_vals_decode("0", b, 0), -1);
	assert_int_equal(cm_hex_vals_decode("3ff000000000000", b, 1), -1);
	assert_int_equal(cm_hex_vals_decode("3ff0000000000000", b, 1), 0);
	assert_true(b[0] == 1.0);
	assert_int_equal(cm_hex_vals_decode("3FF0000000000000", b, 1), -1); /* upper case: no */
}

/* cm_ln_session_stats as it was: logs, their insertion (or gsl) sort, gsl's median */
static void old_ln_stats(const double *v, size_t n, struct cm_ln_session *out)
{
	double *l = malloc((n + 1) * sizeof(double)), mean = 0, ss = 0;
	for (size_t i = 0; i < n; i++)
		l[i] = log(v[i]), mean += l[i];
	mean = n ? mean / (double)n : NAN;
	for (size_t i = 0; i < n; i++)
		ss += (l[i] - mean) * (l[i] - mean);
	if (n > 32)
		gsl_sort(l, 1, n);
	for (size_t i = 1; i < n && n <= 32; i++) {
		double x = l[i];
		size_t j = i;
		for (; j > 0 && l[j - 1] > x; j--)
			l[j] = l[j - 1];
		l[j] = x;
	}
	*out = (struct cm_ln_session){0, n, n ? gsl_stats_median_from_sorted_data(l, 1, n) : NAN,
				      mean, n ? ss : NAN};
	free(l);
}

static void test_ln_stats_exact(void **state)
{
	(void)state;
	double v[40];
	for (int rep = 0; rep < 20000; rep++) {
		size_t n = next() % 40;
		int kind = (int)(next() % 6);
		for (size_t i = 0; i < n; i++) {
			double u = (double)(next() >> 11) / 9007199254740992.0;
			v[i] = kind == 1 ? (double)(next() % 3) + 1 : 1e8 * (1 + u);
			if (kind >= 2 &&
			    next() % 4 == 0) /* 1 (log +0), 0 (-inf), -1 (NaN), inf, NaN */
				v[i] = (double[]){1.0, 0.0, -1.0, INFINITY, NAN}[next() % 5];
		}
		struct cm_ln_session a, b;
		cm_ln_session_stats(v, n, &a);
		old_ln_stats(v, n, &b);
		same_bits(a.median, b.median, "ln median", n, kind);
		same_bits(a.mean, b.mean, "ln mean", n, kind);
		same_bits(a.ssw, b.ssw, "ln ssw", n, kind);
		assert_int_equal(a.n, b.n);
	}
}

int main(int argc, char **argv)
{
	const struct CMUnitTest median[] = {cmocka_unit_test(test_median_exact)};
	const struct CMUnitTest hex[] = {cmocka_unit_test(test_hexdecode_exact)};
	const struct CMUnitTest ln[] = {cmocka_unit_test(test_ln_stats_exact)};
	const char *only = argc > 1 ? argv[1] : NULL;
	int rc = 0;
	if (!only || !strcmp(only, "median"))
		rc |= cmocka_run_group_tests_name("median", median, NULL, NULL);
	if (!only || !strcmp(only, "hexdecode"))
		rc |= cmocka_run_group_tests_name("hexdecode", hex, NULL, NULL);
	if (!only || !strcmp(only, "lnstats"))
		rc |= cmocka_run_group_tests_name("lnstats", ln, NULL, NULL);
	return rc;
}
