/* Issue 24: the statistics' remaining corners, each against a textbook computation written
 * out here (brute-force pairwise slopes, Hollander & Wolfe's formulas, enumeration of
 * assignments, the order-statistic density integrated numerically), on seeded data. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <gsl/gsl_cdf.h>
#include <gsl/gsl_randist.h>
#include <gsl/gsl_rng.h>
#include <gsl/gsl_sort.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "coldmark/stats.h"

static int cmp_d(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return x < y ? -1 : x > y;
}

/* Sen's CI (Hollander & Wolfe 8.3): the pairwise slopes of distinct x sorted, C = z sqrt(Var S)
 * with Var S = [n(n-1)(2n+5) - sum t(t-1)(2t+5)] / 18 over the tie groups of x, M1 = (N - C)/2;
 * the bounds are the floor(M1)-th and the (N + 1 - floor(M1))-th slopes, as many slopes below
 * the one as above the other. */
static void test_sen_interval(void **state)
{
	(void)state;
	gsl_rng *r = gsl_rng_alloc(gsl_rng_mt19937);
	gsl_rng_set(r, 24);
	static double x[40], y[40], sl[800];
	for (int set = 0; set < 50; set++) {
		size_t levels = 3 + gsl_rng_uniform_int(r, 5), per = 1 + gsl_rng_uniform_int(r, 6), n = 0;
		for (size_t l = 0; l < levels; l++)
			for (size_t b = 0; b < per; b++, n++)
				x[n] = (double)(l + 1) * 2, y[n] = 5 + 0.7 * x[n] + gsl_ran_gaussian(r, 1);
		size_t N = 0;
		for (size_t i = 0; i < n; i++)
			for (size_t j = i + 1; j < n; j++)
				if (x[i] != x[j])
					sl[N++] = (y[j] - y[i]) / (x[j] - x[i]);
		qsort(sl, N, sizeof(double), cmp_d);
		double vs = (double)n * (n - 1) * (2.0 * n + 5) - (double)levels * per * (per - 1) * (2.0 * per + 5);
		double C = 1.959963984540054 * sqrt(vs / 18), m1 = floor((N - C) / 2);
		struct cm_slope s;
		assert_int_equal(cm_stats_theil_sen(x, y, n, 0.05, &s), 0);
		if (m1 < 1) {
			assert_true(isnan(s.lo) && isnan(s.hi));
			continue;
		}
		size_t lo = (size_t)m1, hi = N + 1 - (size_t)m1; /* 1-based ranks */
		assert_true(s.lo == sl[lo - 1]);
		assert_true(s.hi == sl[hi - 1]);
		assert_int_equal(lo - 1, N - hi); /* symmetric: as many slopes outside either end */
	}
	gsl_rng_free(r);
}

/* J with ties against Hollander & Wolfe's tie-corrected null variance (2nd ed., 6.19), written
 * out: durations in whole milliseconds, 4 groups of 8 (ties everywhere). J counts a tie as
 * 1/2, so its step is 1/2 and the continuity correction 1/4. */
static void test_jonckheere_ties(void **state)
{
	(void)state;
	gsl_rng *r = gsl_rng_alloc(gsl_rng_mt19937);
	gsl_rng_set(r, 2424);
	for (int set = 0; set < 40; set++) {
		enum { K = 4, M = 8 };
		double v[K][M], all[K * M];
		const double *g[K];
		size_t n[K];
		for (int a = 0; a < K; a++) {
			for (int b = 0; b < M; b++)
				v[a][b] = all[a * M + b] = round(100 + 0.4 * a * (set % 3) + gsl_ran_gaussian(r, 2));
			g[a] = v[a], n[a] = M;
		}
		double J = 0;
		for (int a = 0; a < K; a++)
			for (int b = a + 1; b < K; b++)
				for (int i = 0; i < M; i++)
					for (int j = 0; j < M; j++)
						J += v[a][i] < v[b][j] ? 1 : v[a][i] == v[b][j] ? 0.5 : 0;
		double N = K * M, mean = (N * N - K * M * M) / 4.0;
		qsort(all, K * M, sizeof(double), cmp_d);
		double t1 = 0, t2 = 0, t3 = 0;
		for (int i = 0, j; i < K * M; i = j) {
			for (j = i; j < K * M && all[j] == all[i]; j++)
				;
			double t = j - i;
			t1 += t * (t - 1) * (2 * t + 5), t2 += t * (t - 1) * (t - 2), t3 += t * (t - 1);
		}
		assert_true(t3 > 0);
		double var = (N * (N - 1) * (2 * N + 5) - K * M * (M - 1) * (2.0 * M + 5) - t1) / 72 +
			     K * M * (M - 1) * (M - 2.0) * t2 / (36 * N * (N - 1) * (N - 2)) +
			     K * M * (M - 1.0) * t3 / (8 * N * (N - 1));
		double z = (fabs(J - mean) - 0.25) / sqrt(var), p = z <= 0 ? 1 : 2 * gsl_cdf_ugaussian_Q(z);
		double j, got = cm_stats_jonckheere(g, n, K, &j);
		assert_true(j == J);
		assert_true(fabs(got - p) <= 1e-12 * fmax(p, 1e-300) + 1e-15);
	}
	gsl_rng_free(r);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_sen_interval),
		cmocka_unit_test(test_jonckheere_ties),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
