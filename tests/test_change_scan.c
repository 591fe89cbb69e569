/* History's change-point search (issue 25 item 3): the interval scan by branch and bound
 * (stats/change_scan.c) against the plain O(n^2) definition, bit for bit on the interval
 * chosen and its t, over many seeded random series of the kinds that make a bound or a tie go
 * wrong; and (group "growth", CTest label benchmark) the CPU-time ratio of the search at n and
 * 4n, so a quadratic scan cannot come back unnoticed: a ratio of two sizes, not a timed bound. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <gsl/gsl_cdf.h>

#include "../stats/change_scan.h"
#include "coldmark/stats.h"
#include "helpers.h"

static uint64_t rng_state;

static uint64_t next(void) /* splitmix64: seeded, the same on every host */
{
	uint64_t z = (rng_state += 0x9e3779b97f4a7c15ULL);
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	return z ^ (z >> 31);
}

static double unif(void) /* (0, 1) */
{
	return ((double)(next() >> 11) + 0.5) / 9007199254740992.0;
}

static double gauss(void)
{
	return sqrt(-2 * log(unif())) * cos(6.283185307179586 * unif());
}

static size_t below(size_t k)
{
	return (size_t)(next() % k);
}

/* A series of one of 12 kinds: noise; a step; an epidemic interval; small integers (ties
 * everywhere); one outlier on a constant; a level of 1e6 with 1e-9 noise (cancellation); a
 * clean step with 1e-13 noise (Q rounds to zero or below: infinite scores); Cauchy; a trend;
 * session medians' logs; repeated blocks (tied intervals); a constant (every score 0). */
static void series(int kind, double *x, size_t n)
{
	size_t a = below(n), b = a + below(n - a + 1);
	for (size_t i = 0; i < n; i++) {
		double e = gauss();
		switch (kind) {
		case 0: x[i] = e; break;
		case 1: x[i] = e + (i >= a ? 1.5 : 0); break;
		case 2: x[i] = e + (i >= a && i < b ? -2 : 0); break;
		case 3: x[i] = (double)below(3); break;
		case 4: x[i] = i == a ? 5 : 1; break;
		case 5: x[i] = 1e6 + 1e-9 * e; break;
		case 6: x[i] = (i >= a ? 1 : 0) + 1e-13 * e; break;
		case 7: x[i] = tan(3.141592653589793 * (unif() - 0.5)); break;
		case 8: x[i] = 0.01 * (double)i + 0.1 * e; break;
		case 9: x[i] = log(0.1) + 0.01 * e + (i >= a ? 0.03 : 0); break;
		case 10: x[i] = i % 4 < 2 ? 0 : 1; break;
		default: x[i] = 2.5; break;
		}
	}
}

static void same(const double *x, size_t n, size_t minseg, int kind)
{
	size_t f1, t1, f2, t2;
	double a = cm_cp_interval(x, n, minseg, &f1, &t1), b = cm_cp_interval_plain(x, n, minseg, &f2, &t2);
	if (f1 != f2 || t1 != t2 || memcmp(&a, &b, sizeof a))
		fail_msg("kind %d n %zu minseg %zu: fast [%zu, %zu) t %.17g, plain [%zu, %zu) t %.17g", kind,
			 n, minseg, f1, t1, a, f2, t2, b);
}

/* 6,000 series of 2..400 values (and a few of 1,000-2,000), every kind, minseg 1..5. */
static void test_scan_exact(void **state)
{
	(void)state;
	rng_state = 25;
	double *x = malloc(2000 * sizeof(double));
	for (int r = 0; r < 6000; r++) {
		int kind = r % 12;
		size_t n = r % 500 == 499 ? 1000 + below(1001) : 2 + below(399), minseg = 1 + below(5);
		series(kind, x, n);
		same(x, n, minseg, kind);
		if (kind == 3 || kind == 10) { /* the permutations' case: the same values reordered */
			for (size_t i = n; i > 1; i--) {
				size_t k = below(i);
				double v = x[i - 1];
				x[i - 1] = x[k], x[k] = v;
			}
			same(x, n, minseg, kind);
		}
	}
	free(x);
}

/* Non-finite values go to the definition too: the same answer, no crash. */
static void test_scan_nonfinite(void **state)
{
	(void)state;
	double x[64];
	rng_state = 7;
	series(0, x, 64);
	x[10] = NAN;
	same(x, 64, 3, -1);
	x[10] = INFINITY;
	same(x, 64, 3, -1);
	x[10] = 1e200;
	same(x, 64, 3, -1);
}

/* The quantile CIs' remembered order statistics (stats/stats.c) against the definition, in an
 * order that makes every memo slot change hands: n 1..120, five quantiles, three alphas. */
static void test_quantile_ci_memo(void **state)
{
	(void)state;
	static const double ps[] = { 0.5, 0.05, 0.25, 0.75, 0.95 }, alphas[] = { 0.05, 0.1, 0.01 };
	double sorted[120];
	for (int i = 0; i < 120; i++)
		sorted[i] = i + 1;
	rng_state = 11;
	for (int r = 0; r < 20000; r++) {
		size_t n = 1 + below(120);
		double p = ps[below(5)], alpha = alphas[below(3)], lo, hi;
		double level = cm_stats_quantile_ci(sorted, n, p, alpha, &lo, &hi);
		size_t l = 0, u = 0; /* the smallest k with P(B <= k) >= alpha/2, and with >= 1-alpha/2 */
		while (l <= n && gsl_cdf_binomial_P((unsigned)l, p, (unsigned)n) < alpha / 2)
			l++;
		while (u <= n && gsl_cdf_binomial_P((unsigned)u, p, (unsigned)n) < 1 - alpha / 2)
			u++;
		u++;
		if (l == 0 || u > n || l > u) {
			assert_true(level == 0 && isnan(lo) && isnan(hi));
			continue;
		}
		double want = gsl_cdf_binomial_P((unsigned)(u - 1), p, (unsigned)n) -
			      gsl_cdf_binomial_P((unsigned)(l - 1), p, (unsigned)n);
		assert_true(lo == (double)l && hi == (double)u && level == want);
	}
}

/* ---- growth: CPU seconds, the least of three ----------------------------------------------- */
/* History's whole search on one case's sessions with no change: the scans of the series and
 * of its 199 permutations. */
static void history_run(size_t n)
{
	double *x = malloc(n * sizeof(double));
	struct cm_change ch[8];
	rng_state = 3;
	for (size_t i = 0; i < n; i++)
		x[i] = log(0.1) + 0.01 * gauss(); /* no change: one search, 200 scans */
	cm_stats_change_points(x, n, 0.05, 0.02, 1, ch, 8);
	free(x);
}

/* A series at a large mean (1e6 + 1e-9 noise): its centred sum's rounding dwarfs the noise,
 * which once made the bound useless (the scan slower than the plain one, at any n). */
static double *large_mean;

static void fast_run(size_t n)
{
	size_t f, t;
	cm_cp_interval(large_mean, n, 3, &f, &t);
}

static void plain_run(size_t n)
{
	size_t f, t;
	cm_cp_interval_plain(large_mean, n, 3, &f, &t);
}

static void test_growth_change_points(void **state)
{
	(void)state;
	th_growth("change points of a history", history_run, 500);
	size_t n = 4000;
	large_mean = malloc(n * sizeof(double));
	rng_state = 1; /* a series whose z[n] is 30 times its noise */
	for (size_t i = 0; i < n; i++)
		large_mean[i] = 1e6 + 1e-9 * gauss();
	double a = th_least_cpu(fast_run, n), b = th_least_cpu(plain_run, n);
	print_message("the interval scan at a large mean, n %zu: %.4f s, the plain scan %.4f s, "
		      "ratio %.3f\n", n, a, b, a / b);
	free(large_mean);
	assert_true(a < 0.25 * b);
}

int main(int argc, char **argv)
{
	const struct CMUnitTest exact[] = {
		cmocka_unit_test(test_scan_exact),
		cmocka_unit_test(test_scan_nonfinite),
		cmocka_unit_test(test_quantile_ci_memo),
	};
	const struct CMUnitTest grow[] = {
		cmocka_unit_test(test_growth_change_points),
	};
	if (argc > 1 && !strcmp(argv[1], "growth"))
		return cmocka_run_group_tests_name("growth", grow, NULL, NULL);
	return cmocka_run_group_tests_name("exact", exact, NULL, NULL);
}
