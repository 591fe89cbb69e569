/* Statistics against reference values computed independently: scipy 1.10 (Debian's
 * python3-scipy) and brute-force enumeration in Python, as noted beside each value. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <gsl/gsl_cdf.h>
#include <gsl/gsl_errno.h>
#include <gsl/gsl_randist.h>
#include <gsl/gsl_rng.h>
#include <gsl/gsl_sort.h>
#include <gsl/gsl_statistics_double.h>
#include <math.h>
#include <stdlib.h>

#include "coldmark/stats.h"

#define NEAR(a, b) assert_true(fabs((double)(a) - (double)(b)) <= 1e-9 * fmax(1, fabs((double)(b))))

static const double x10[] = { 12.1, 10.3, 11.8, 9.7, 13.5, 10.9, 11.2, 12.7, 10.1, 30.0 };

static void test_summary_reference(void **state)
{
	struct cm_summary s;
	cm_stats_summarize(x10, 10, 0.05, &s);
	/* numpy mean/std(ddof=1)/median/quantile (linear = R type 7) */
	NEAR(s.mean, 13.23);
	NEAR(s.sd, 6.01203422774);
	NEAR(s.median, 11.5);
	NEAR(s.pct[0], 9.88);
	NEAR(s.pct[1], 10.45);
	NEAR(s.pct[2], 12.55);
	NEAR(s.pct[3], 22.575);
	NEAR(s.pct[4], 28.515);
	NEAR(s.mad, 1.77912);            /* 1.4826 * median(|x - median|) */
	NEAR(s.mean_ci_lo, 8.92924979636); /* mean -+ t.ppf(0.975, 9) * sd / sqrt(10) */
	NEAR(s.mean_ci_hi, 17.5307502036);
	/* l = 2 (binom.cdf(2, 10, .5) = 0.0547 >= 0.025): [x(2), x(9)], 1 - 2 * cdf(1) */
	NEAR(s.median_ci_lo, 10.1);
	NEAR(s.median_ci_hi, 13.5);
	NEAR(s.median_ci_level, 0.978515625);
	NEAR(s.min, 9.7);
	NEAR(s.max, 30.0);
	/* 30.0 is beyond q3 + 3 IQR = 18.85: one severe outlier, boot index 9 */
	assert_int_equal(s.n_severe, 1);
	assert_int_equal(s.n_mild, 0);
	assert_int_equal(s.n_outliers, 1);
	assert_int_equal(s.outliers[0], 9);
	assert_true(s.warnings & CM_WARN_OUTLIERS);
	assert_true(s.warnings & CM_WARN_HIGH_CV);
	assert_false(s.warnings & CM_WARN_FEW_BOOTS);
	cm_summary_free(&s);
}

static void test_small_and_equal(void **state)
{
	struct cm_summary s;
	double one = 5;
	cm_stats_summarize(&one, 1, 0.05, &s);
	NEAR(s.median, 5);
	assert_true(isnan(s.sd));
	assert_true(isnan(s.mean_ci_lo));
	assert_true(isnan(s.median_ci_lo));
	assert_true(s.warnings & CM_WARN_FEW_BOOTS);
	cm_summary_free(&s);

	double two[] = { 4, 6 };
	cm_stats_summarize(two, 2, 0.05, &s);
	NEAR(s.median, 5);
	NEAR(s.sd, sqrt(2));
	/* t.ppf(0.975, 1) = 12.7062047362 */
	NEAR(s.mean_ci_hi, 5 + 12.7062047361747 * sqrt(2) / sqrt(2));
	assert_true(isnan(s.median_ci_lo));
	cm_summary_free(&s);

	/* five boots: P(B <= 0) = 1/32 >= 0.025 gives l = 0, too few; six: l = 1 */
	double five[] = { 1, 2, 3, 4, 5 }, six[] = { 1, 2, 3, 4, 5, 6 };
	cm_stats_summarize(five, 5, 0.05, &s);
	assert_true(isnan(s.median_ci_lo));
	assert_int_equal(s.median_ci_level, 0);
	cm_summary_free(&s);
	cm_stats_summarize(six, 6, 0.05, &s);
	NEAR(s.median_ci_lo, 1);
	NEAR(s.median_ci_hi, 6);
	NEAR(s.median_ci_level, 1 - 2.0 / 64);
	cm_summary_free(&s);

	double eq[8] = { 7, 7, 7, 7, 7, 7, 7, 7 };
	cm_stats_summarize(eq, 8, 0.05, &s);
	NEAR(s.mad, 0);
	NEAR(s.pct[2] - s.pct[1], 0); /* IQR 0 */
	assert_int_equal(s.n_outliers, 0);
	NEAR(s.sd, 0);
	assert_int_equal(s.warnings & ~CM_WARN_FEW_BOOTS, 0);
	cm_summary_free(&s);
}

static void test_warnings(void **state)
{
	struct cm_summary s;
	/* two clusters */
	double bi[20];
	for (int i = 0; i < 20; i++)
		bi[i] = (i % 2 ? 100 : 200) + (i % 5) * 0.5;
	cm_stats_summarize(bi, 20, 0.05, &s);
	assert_true(s.warnings & CM_WARN_BIMODAL);
	cm_summary_free(&s);
	/* a trend: Mann-Kendall S = 41, p = 0.000346619351135 (computed by hand in Python) */
	double y[] = { 1, 3, 2, 4, 6, 5, 7, 8, 9, 10 };
	cm_stats_summarize(y, 10, 0.05, &s);
	NEAR(s.drift_p, 0.000346619351135);
	assert_true(s.warnings & CM_WARN_DRIFT);
	assert_false(s.warnings & CM_WARN_BIMODAL);
	cm_summary_free(&s);
	/* first boot slow */
	double f[] = { 300, 100, 101, 99, 100, 102, 98, 100 };
	cm_stats_summarize(f, 8, 0.05, &s);
	assert_true(s.warnings & CM_WARN_FIRST_SLOW);
	cm_summary_free(&s);
	double g[] = { 100, 300, 101, 99, 100, 102, 98, 100 };
	cm_stats_summarize(g, 8, 0.05, &s);
	assert_false(s.warnings & CM_WARN_FIRST_SLOW);
	/* sample-size advice grows as the target shrinks */
	assert_true(cm_stats_boots_needed(&s, 0.001, 0.05) > cm_stats_boots_needed(&s, 0.01, 0.05));
	cm_summary_free(&s);
}

static void test_mann_whitney(void **state)
{
	struct cm_mwu u;
	/* no ties, n < 50: exact. scipy mannwhitneyu(method='exact'): U = 65, p = 0.0314685314685 */
	double a[] = { 1.83, 1.50, 1.62, 2.48, 1.68, 1.88, 1.55, 3.06, 1.30 };
	double b[] = { 0.878, 0.647, 0.598, 2.05, 1.06, 1.29, 1.06, 3.14, 1.29 };
	/* b has ties (1.06, 1.29): R and coldmark switch to the normal approximation there */
	double b_no_ties[] = { 0.878, 0.647, 0.598, 2.05, 1.06, 1.29, 1.07, 3.14, 1.28 };
	cm_stats_mann_whitney(a, 9, b_no_ties, 9, &u);
	assert_true(u.exact);
	NEAR(u.w, 65);
	NEAR(u.p, 0.0314685314685);
	/* ties: asymptotic with tie and continuity correction, scipy: U = 17.5, p = 0.0262060363817 */
	double a2[] = { 1, 2, 2, 3, 4, 5, 5, 5, 6 }, b2[] = { 3, 4, 4, 5, 6, 7, 7, 8, 9, 9 };
	cm_stats_mann_whitney(a2, 9, b2, 10, &u);
	assert_false(u.exact);
	NEAR(u.w, 17.5);
	assert_true(fabs(u.p - 0.0262060363817) < 1e-9);
	cm_stats_mann_whitney(a, 9, b, 9, &u);
	assert_false(u.exact);
	/* scipy exact for x = [3.1 2.9 3.5 3.3 3.8], y = [2.5 2.7 2.2 2.6 2.4 2.8]: U = 30,
	 * p = 0.004329004329 (= 2/462) */
	double xa[] = { 3.1, 2.9, 3.5, 3.3, 3.8 }, ya[] = { 2.5, 2.7, 2.2, 2.6, 2.4, 2.8 };
	cm_stats_mann_whitney(xa, 5, ya, 6, &u);
	NEAR(u.w, 30);
	NEAR(u.p, 0.004329004329);
	/* large samples switch to the approximation even without ties */
	double big1[60], big2[60];
	for (int i = 0; i < 60; i++)
		big1[i] = i, big2[i] = i + 0.5;
	cm_stats_mann_whitney(big1, 60, big2, 60, &u);
	assert_false(u.exact);
}

static void test_hodges_lehmann(void **state)
{
	/* enumeration of all C(11,5) rank sets gives qu = 4; median of the 30 differences 0.75;
	 * CI [d(4), d(27)] = [0.3, 1.3] */
	double xa[] = { 3.1, 2.9, 3.5, 3.3, 3.8 }, ya[] = { 2.5, 2.7, 2.2, 2.6, 2.4, 2.8 };
	double est, lo, hi;
	cm_stats_hodges_lehmann(xa, 5, ya, 6, 0.05, &est, &lo, &hi);
	NEAR(est, 0.75);
	NEAR(lo, 0.3);
	NEAR(hi, 1.3);
}

static void test_compare_and_holm(void **state)
{
	double base[12], slow[12], same[12];
	for (int i = 0; i < 12; i++) {
		base[i] = 100 + i;
		slow[i] = (100 + i) * 1.10;
		same[i] = 100.5 + i;
	}
	struct cm_comparison rows[3];
	cm_stats_compare(base, 12, slow, 12, 0.05, &rows[0]);
	cm_stats_compare(base, 12, same, 12, 0.05, &rows[1]);
	cm_stats_compare(slow, 12, base, 12, 0.05, &rows[2]);
	cm_stats_holm_verdicts(rows, 3, 0.05, 0.02, 0);
	assert_int_equal(rows[0].verdict, CM_REGRESSED);
	assert_true(rows[0].rel > 0.05 && rows[0].rel < 0.15);
	assert_true(rows[0].rel_lo > 0.02);
	assert_int_equal(rows[1].verdict, CM_NO_CHANGE);
	assert_int_equal(rows[2].verdict, CM_IMPROVED);
	assert_true(rows[0].p_adj >= rows[0].p);
	NEAR(cm_stats_geomean_ratio(rows, 1), 1 + rows[0].rel);
	/* an absolute floor: the slowdown's lower bound is rel_lo * ~100 ns; below the floor,
	 * no verdict either way, at or above it the verdicts stand */
	double lo_ns = rows[0].rel_lo * rows[0].base_median;
	cm_stats_holm_verdicts(rows, 3, 0.05, 0.02, lo_ns * 1.01);
	assert_int_equal(rows[0].verdict, CM_NO_CHANGE);
	cm_stats_holm_verdicts(rows, 3, 0.05, 0.02, lo_ns * 0.99);
	assert_int_equal(rows[0].verdict, CM_REGRESSED);
	cm_stats_holm_verdicts(rows, 3, 0.05, 0.02, 1000);
	assert_int_equal(rows[2].verdict, CM_NO_CHANGE);

	/* a 0 ns sample (below a source's resolution): the linear-scale fallback still judges */
	double zb[10] = { 0, 100, 101, 99, 100, 102, 98, 100, 101, 99 }, zc[10];
	for (int i = 0; i < 10; i++)
		zc[i] = zb[i] + 50;
	struct cm_comparison z;
	assert_int_equal(cm_stats_compare(zb, 10, zc, 10, 0.05, &z), 0);
	cm_stats_holm_verdicts(&z, 1, 0.05, 0.02, 0);
	assert_int_equal(z.verdict, CM_REGRESSED);
	NEAR(z.rel, 0.5);

	/* Holm by hand: p = .01 .04 .03 .005 -> adjusted .03 .06 .06 .02 */
	struct cm_comparison h[4] = { 0 };
	double ps[] = { 0.01, 0.04, 0.03, 0.005 }, want[] = { 0.03, 0.06, 0.06, 0.02 };
	for (int i = 0; i < 4; i++)
		h[i].p = ps[i], h[i].rel_lo = h[i].rel_hi = 0;
	cm_stats_holm_verdicts(h, 4, 0.05, 0.02, 0);
	for (int i = 0; i < 4; i++)
		NEAR(h[i].p_adj, want[i]);
}

static void test_kruskal(void **state)
{
	/* scipy.stats.kruskal */
	double g1[] = { 1, 2, 3, 4, 5 }, g2[] = { 3, 4, 5, 6, 7 }, g3[] = { 6, 7, 8, 9, 10 };
	const double *gs[] = { g1, g2, g3 };
	size_t sz[] = { 5, 5, 5 };
	NEAR(cm_stats_kruskal_wallis(gs, sz, 3), 0.0080624278919);
	double t1[] = { 1, 2, 2, 4 }, t2[] = { 2, 4, 5, 6 }, t3[] = { 6, 6, 8, 9 };
	const double *ts[] = { t1, t2, t3 };
	size_t tz[] = { 4, 4, 4 };
	NEAR(cm_stats_kruskal_wallis(ts, tz, 3), 0.0171555556539);
}

/* Large samples take the radix-sort path: compare with gsl_sort on negatives and positives. */
static void test_large_sample_sort(void **state)
{
	gsl_rng *rng = gsl_rng_alloc(gsl_rng_mt19937);
	gsl_rng_set(rng, 7);
	size_t n = 5001;
	double *x = malloc(n * sizeof(double)), *ref = malloc(n * sizeof(double));
	for (size_t i = 0; i < n; i++)
		ref[i] = x[i] = gsl_ran_gaussian(rng, 1000) - 200;
	gsl_sort(ref, 1, n);
	struct cm_summary s;
	cm_stats_summarize(x, n, 0.05, &s);
	NEAR(s.min, ref[0]);
	NEAR(s.max, ref[n - 1]);
	NEAR(s.median, ref[n / 2]);
	NEAR(s.pct[1], gsl_stats_quantile_from_sorted_data(ref, 1, n, 0.25));
	cm_summary_free(&s);
	free(x);
	free(ref);
	gsl_rng_free(rng);
}

/* Seeded simulations: coverage of the median CI on a skewed distribution, and the false
 * alarm rate of the comparison. */
static void test_simulation(void **state)
{
	gsl_rng *rng = gsl_rng_alloc(gsl_rng_mt19937);
	gsl_rng_set(rng, 42);
	/* lognormal(0, 0.5): median exactly 1. n = 17 achieves 95.10% (binomial), so coverage
	 * must land within 95% +- 1.5% over 10,000 trials. */
	int trials = 10000, covered = 0;
	double x[17], level = 0;
	for (int t = 0; t < trials; t++) {
		for (int i = 0; i < 17; i++)
			x[i] = gsl_ran_lognormal(rng, 0, 0.5);
		struct cm_summary s;
		cm_stats_summarize(x, 17, 0.05, &s);
		covered += s.median_ci_lo <= 1 && 1 <= s.median_ci_hi;
		level = s.median_ci_level;
		cm_summary_free(&s);
	}
	double cov = (double)covered / trials;
	print_message("median CI coverage %.4f (achieved level %.4f)\n", cov, level);
	assert_true(cov >= 0.935 && cov <= 0.965);

	int same = 0, runs = 2000;
	double a[15], b[15];
	for (int t = 0; t < runs; t++) {
		for (int i = 0; i < 15; i++) {
			a[i] = gsl_ran_lognormal(rng, 4, 0.1);
			b[i] = gsl_ran_lognormal(rng, 4, 0.1);
		}
		struct cm_comparison c;
		cm_stats_compare(a, 15, b, 15, 0.05, &c);
		cm_stats_holm_verdicts(&c, 1, 0.05, 0.02, 0);
		same += c.verdict == CM_NO_CHANGE;
	}
	print_message("no change in %.2f%% of same-distribution comparisons\n", 100.0 * same / runs);
	assert_true(same >= 0.95 * runs);
	gsl_rng_free(rng);
}

static bool warns_bimodal(double *x, size_t n)
{
	struct cm_summary s;
	cm_stats_summarize(x, n, 0.05, &s);
	bool w = s.warnings & CM_WARN_BIMODAL;
	cm_summary_free(&s);
	return w;
}

/* The bimodality warning, validated by simulation (seeded: the figures are fixed):
 * >= 90% detection on two lognormal modes 2.5x apart (sd 0.15 on the log scale each, the
 * spread of the Nanos DHCP modes) with the minor mode at 25-45% of 20 boots; <= 5% false
 * warnings on unimodal lognormal and gamma samples of 20-100 boots. */
static void test_bimodal_simulation(void **state)
{
	gsl_rng *r = gsl_rng_alloc(gsl_rng_mt19937);
	gsl_rng_set(r, 20261126);
	enum { TRIALS = 1000 };
	double x[100];
	size_t hits = 0;
	for (int t = 0; t < TRIALS; t++) {
		size_t minor = 5 + gsl_rng_uniform_int(r, 5); /* 5..9 of 20: 25-45% */
		for (size_t i = 0; i < 20; i++)
			x[i] = 0.17 * exp((i < minor ? log(2.5) : 0) + gsl_ran_gaussian(r, 0.15));
		gsl_ran_shuffle(r, x, 20, sizeof(double));
		hits += warns_bimodal(x, 20);
	}
	printf("bimodal detection: %zu of %d\n", hits, TRIALS);
	assert_true(hits >= 0.90 * TRIALS);
	static const size_t ns[] = { 20, 50, 100 };
	for (size_t k = 0; k < 3; k++) {
		size_t n = ns[k];
		for (int shape = 0; shape < 6; shape++) {
			static const double sig[] = { 0.05, 0.2, 0.5 }, gam[] = { 2, 10, 50 };
			size_t fp = 0;
			for (int t = 0; t < TRIALS; t++) {
				for (size_t i = 0; i < n; i++)
					x[i] = shape < 3 ? exp(gsl_ran_gaussian(r, sig[shape]))
							 : gsl_ran_gamma(r, gam[shape - 3], 1);
				fp += warns_bimodal(x, n);
			}
			printf("false bimodal, n=%zu %s %.2f: %zu of %d\n", n,
			       shape < 3 ? "lognormal sd" : "gamma shape",
			       shape < 3 ? sig[shape] : gam[shape - 3], fp, TRIALS);
			assert_true(fp <= 0.05 * TRIALS);
		}
	}
	gsl_rng_free(r);
	/* the Nanos image of the issue: 12 boots at 144-210 ms, 8 at 296-517 ms */
	double nanos[] = { 144, 150, 158, 161, 166, 170, 175, 181, 188, 196, 203, 210,
			   296, 318, 352, 389, 420, 455, 488, 517 };
	struct cm_summary s;
	cm_stats_summarize(nanos, 20, 0.05, &s);
	assert_true(s.warnings & CM_WARN_BIMODAL);
	NEAR(s.mode_share[0], 0.6);
	NEAR(s.mode_median[0], 172.5);
	NEAR(s.mode_median[1], 404.5);
	cm_summary_free(&s);
}

/* Theil-Sen and Jonckheere-Terpstra on hand-checked cases. */
static void test_trend_exact(void **state)
{
	double x[] = { 1, 2, 3, 4, 5 }, y[] = { 2, 4, 6, 8, 10 };
	struct cm_slope sl;
	assert_int_equal(cm_stats_theil_sen(x, y, 5, 0.05, &sl), 0);
	NEAR(sl.slope, 2);
	NEAR(sl.intercept, 0);
	assert_int_equal(sl.npairs, 10);
	/* an outlier does not move the median slope: pairwise slopes 2 (x6), and 4 others */
	double y2[] = { 2, 4, 6, 8, 100 };
	assert_int_equal(cm_stats_theil_sen(x, y2, 5, 0.05, &sl), 0);
	NEAR(sl.slope, 2);
	/* J for {1,2} < {3,4}: all 4 pairs increase; U(2,2) is 0..4 with weights 1,1,2,1,1 /6 */
	double a[] = { 1, 2 }, b[] = { 3, 4 };
	const double *g[] = { a, b };
	size_t n[] = { 2, 2 };
	double j;
	NEAR(cm_stats_jonckheere(g, n, 2, &j), 2.0 / 6);
	NEAR(j, 4);
	/* three groups, exact: the smallest possible two-sided p is 2 / (6!/(2!2!2!)) = 2/90 */
	double c[] = { 5, 6 };
	const double *g3[] = { a, b, c };
	size_t n3[] = { 2, 2, 2 };
	NEAR(cm_stats_jonckheere(g3, n3, 3, &j), 2.0 / 90);
	NEAR(j, 12);
}

/* Slopes validated by simulation (seeded): y = 100 + 3 x + iid lognormal noise, 4-8 levels,
 * 6-20 boots a level; Sen's 95% CI covers 3 in >= 93% of the data sets, and 0 on a flat axis;
 * and on a monotone trend the Jonckheere-Terpstra test finds more than Kruskal-Wallis. */
static double draw_set(gsl_rng *r, double slope, double noise, double *x, double *y,
		       size_t *levels, size_t *per)
{
	*levels = 4 + gsl_rng_uniform_int(r, 5);
	*per = 6 + gsl_rng_uniform_int(r, 15);
	size_t k = 0;
	for (size_t l = 0; l < *levels; l++)
		for (size_t b = 0; b < *per; b++, k++) {
			x[k] = (double)(l + 1);
			y[k] = 100 + slope * x[k] + noise * (exp(gsl_ran_gaussian(r, 0.5)) - 1);
		}
	return (double)k;
}

static void test_trend_simulation(void **state)
{
	gsl_rng *r = gsl_rng_alloc(gsl_rng_mt19937);
	gsl_rng_set(r, 17);
	enum { SETS = 500 };
	static double x[160], y[160];
	size_t levels, per, cover = 0, flat = 0;
	for (int t = 0; t < SETS; t++) {
		struct cm_slope sl;
		size_t n = (size_t)draw_set(r, 3, 10, x, y, &levels, &per);
		cm_stats_theil_sen(x, y, n, 0.05, &sl);
		cover += sl.lo <= 3 && 3 <= sl.hi;
		n = (size_t)draw_set(r, 0, 10, x, y, &levels, &per);
		cm_stats_theil_sen(x, y, n, 0.05, &sl);
		flat += sl.lo <= 0 && 0 <= sl.hi;
	}
	printf("Theil-Sen 95%% CI covers the true slope in %zu of %d, 0 on a flat axis in %zu\n",
	       cover, SETS, flat);
	assert_true(cover >= 0.93 * SETS);
	assert_true(flat >= 0.93 * SETS);
	/* power: a small monotone trend, 6 boots at each of 5 levels */
	size_t jt = 0, kw = 0;
	for (int t = 0; t < SETS; t++) {
		double v[5][6];
		const double *g[5];
		size_t n[5];
		for (int l = 0; l < 5; l++) {
			for (int b = 0; b < 6; b++)
				v[l][b] = 100 + 0.8 * l + 10 * (exp(gsl_ran_gaussian(r, 0.5)) - 1);
			g[l] = v[l], n[l] = 6;
		}
		jt += cm_stats_jonckheere(g, n, 5, NULL) < 0.05;
		kw += cm_stats_kruskal_wallis(g, n, 5) < 0.05;
	}
	printf("power on a monotone trend at alpha 0.05: Jonckheere-Terpstra %zu of %d, "
	       "Kruskal-Wallis %zu of %d\n", jt, SETS, kw, SETS);
	assert_true(jt > kw);
	gsl_rng_free(r);
}

/* The level above the boot: components, the session-level comparison and change points
 * against hand computations (and R: pt(3.674, 4, lower.tail = FALSE) = 0.01066). */
static void test_sessions(void **state)
{
	(void)state;
	double v[6];
	int ses[6] = { 7, 7, 7, 9, 9, 9 };
	for (int i = 0; i < 6; i++)
		v[i] = exp(i < 3 ? 1 + i : 1 + i);
	struct cm_varcomp vc;
	cm_stats_varcomp(v, ses, 6, &vc);
	assert_int_equal(vc.sessions, 2);
	assert_int_equal(vc.boots, 3);
	assert_true(fabs(vc.within - 1.0) < 1e-12);     /* SSW 4 over N - k = 4 */
	assert_true(fabs(vc.between - 12.5 / 3) < 1e-12); /* (MSB 13.5 - MSW 1) / n0 3 */
	assert_true(fabs(vc.icc - (12.5 / 3) / (12.5 / 3 + 1)) < 1e-12);
	double med[6];
	size_t per[6];
	assert_int_equal(cm_stats_session_medians(v, ses, 6, 2, med, per), 2);
	assert_true(fabs(med[0] - 2) < 1e-12 && fabs(med[1] - 5) < 1e-12 && per[1] == 3);
	/* one session: no between part */
	cm_stats_varcomp(v, (int[]){ 1, 1, 1, 1, 1, 1 }, 6, &vc);
	assert_true(isnan(vc.between));

	const double mb[] = { 0, 0.1, 0.2 }, mc[] = { 0.3, 0.4, 0.5 };
	struct cm_comparison x;
	assert_int_equal(cm_stats_compare_sessions(mb, 3, mc, 3, NULL, 0.05, &x), 0);
	assert_true(fabs(x.rel - expm1(0.3)) < 1e-12);
	assert_true(fabs(x.p - 0.01066) < 1e-4);
	assert_true(fabs(x.rel_lo - expm1(0.3 - 2.131847 * 0.1 * sqrt(2.0 / 3))) < 1e-5);
	assert_true(fabs(x.rel_hi - expm1(0.3 + 2.131847 * 0.1 * sqrt(2.0 / 3))) < 1e-5);
	/* one session a side: nothing to estimate the between part from, unless calibrated */
	assert_int_equal(cm_stats_compare_sessions(mb, 1, mc, 1, NULL, 0.05, &x), -1);
	struct cm_session_prior prior = { 0.01, 9 };
	assert_int_equal(cm_stats_compare_sessions(mb, 1, mc, 1, &prior, 0.05, &x), 0);
	assert_true(fabs(x.p - gsl_cdf_tdist_Q(0.3 / sqrt(0.02), 9)) < 1e-12);

	/* a step of 1.0 after 15 of 30 points with +-0.1 noise is found there; the same noise
	 * without the step gives nothing */
	double y[30];
	for (int i = 0; i < 30; i++)
		y[i] = 0.1 * sin(i * 2.3) + (i >= 15 ? 1.0 : 0);
	struct cm_change ch[4];
	size_t k = cm_stats_change_points(y, 30, 0.05, 0, 1, ch, 4);
	assert_int_equal(k, 1);
	assert_int_equal(ch[0].at, 15);
	assert_true(ch[0].p < 0.01 && ch[0].lo > expm1(0.8) && ch[0].hi < expm1(1.2));
	for (int i = 0; i < 30; i++)
		y[i] = 0.1 * sin(i * 2.3);
	assert_int_equal(cm_stats_change_points(y, 30, 0.05, 0, 1, ch, 4), 0);
	/* a minimum magnitude keeps a real but small step out */
	for (int i = 0; i < 30; i++)
		y[i] = 0.001 * sin(i * 2.3) + (i >= 15 ? 0.01 : 0);
	assert_int_equal(cm_stats_change_points(y, 30, 0.05, 0, 1, ch, 4), 1);
	assert_int_equal(cm_stats_change_points(y, 30, 0.05, 0.02, 1, ch, 4), 0);

	/* dimensioning: a between-session sd of 10% needs more sessions than a within-session
	 * sd of 3% needs boots; cheap sessions buy more of them */
	struct cm_varcomp c2 = { 10, 10, 0.03 * 0.03, 0.1 * 0.1, NAN };
	struct cm_dimension dim, cheap;
	assert_int_equal(cm_stats_dimension(&c2, 1.0, 10.0, 0.05, &dim), 0);
	assert_int_equal(dim.boots, 2); /* sqrt(10 * 0.0009 / 0.01) ~ 0.95, at least 2 */
	assert_true(dim.sessions >= 16 && dim.sessions <= 20);
	assert_true(fabs(dim.cost_s - dim.sessions * (10.0 + dim.boots)) < 1e-9);
	assert_int_equal(cm_stats_dimension(&c2, 1.0, 0.1, 0.05, &cheap), 0);
	assert_true(cheap.cost_s < dim.cost_s);
}

/* van Elteren: one stratum is Wilcoxon's rank sum (3 + 3, all of one side above: 1/20);
 * two strata of 2 + 2 each all above: (1/6)^2. */
static void test_van_elteren(void **state)
{
	double b1[] = { 1, 2, 3 }, c1[] = { 4, 5, 6 }, b2[] = { 1, 2 }, c2[] = { 3, 4 };
	const double *B[] = { b1 }, *C[] = { c1 };
	size_t nb[] = { 3 }, nc[] = { 3 };
	bool exact;
	assert_true(fabs(cm_stats_van_elteren(B, nb, C, nc, 1, true, &exact) - 0.05) < 1e-12);
	assert_true(exact);
	assert_true(fabs(cm_stats_van_elteren(B, nb, C, nc, 1, false, &exact) - 1) < 1e-12);
	const double *B2[] = { b2, b2 }, *C2[] = { c2, c2 };
	size_t nb2[] = { 2, 2 }, nc2[] = { 2, 2 };
	assert_true(fabs(cm_stats_van_elteren(B2, nb2, C2, nc2, 2, true, &exact) - 1.0 / 36) < 1e-12);
	/* many strata: still exact (the strata's distributions are convolved, not enumerated) */
	double big_b[12][4], big_c[12][4];
	const double *BB[12], *CC[12];
	size_t n4[12];
	for (int h = 0; h < 12; h++) {
		for (int i = 0; i < 4; i++)
			big_b[h][i] = h * 10 + i, big_c[h][i] = h * 10 + i + 2.5;
		BB[h] = big_b[h], CC[h] = big_c[h], n4[h] = 4;
	}
	double p = cm_stats_van_elteren(BB, n4, CC, n4, 12, true, &exact);
	assert_true(exact);
	assert_true(p < 0.001);
}

/* Four hosts, each with its own level (±10%), two sessions a side: three move +5%, one (a
 * sick node) +40%. It is flagged, the change without it is the healthy +5%, and the
 * between-host spread is seen; with two hosts nobody can be told sick. */
static void test_hosts(void **state)
{
	double mb[8], mc[8];
	int hb[8], hc[8];
	const double level[] = { 0, 0.1, -0.1, 0.05 }, change[] = { 0.05, 0.05, 0.05, 0.40 };
	const double jitter[] = { -0.004, 0.004 };
	for (int h = 0; h < 4; h++)
		for (int s = 0; s < 2; s++) {
			mb[h * 2 + s] = log(0.1) + level[h] + jitter[s];
			mc[h * 2 + s] = log(0.1) + level[h] + log1p(change[h]) - jitter[s] * (h % 2 ? 1 : -0.5);
			hb[h * 2 + s] = hc[h * 2 + s] = h;
		}
	struct cm_hosts out;
	struct cm_comparison cmp;
	assert_int_equal(cm_stats_compare_hosts(mb, hb, 8, mc, hc, 8, 0.05, log1p(0.02), &out, &cmp), 0);
	assert_int_equal(out.n, 4);
	assert_int_equal(out.shared, 4);
	assert_false(out.h[0].sick || out.h[1].sick || out.h[2].sick);
	assert_true(out.h[3].sick);
	assert_true(fabs(out.rel_healthy - 0.05) < 0.01);
	assert_true(cmp.rel > 0.1); /* the mean over all four hosts is pulled by the sick one */
	assert_true(sqrt(out.var_between) > 0.05 && sqrt(out.var_between) < 0.12);
	assert_true(cmp.p < 0.01 && out.exact); /* every host's sessions moved up */
	assert_true(fabs(out.h[1].rel - 0.05) < 0.01);
	cm_hosts_free(&out);
	/* two hosts: a change and a CI, no host flagged */
	assert_int_equal(cm_stats_compare_hosts(mb, hb, 4, mc, hc, 4, 0.05, log1p(0.02), &out, &cmp), 0);
	assert_false(out.h[0].sick || out.h[1].sick);
	assert_true(fabs(cmp.rel - 0.05) < 1e-6 && cmp.rel_lo <= cmp.rel && cmp.rel_hi >= cmp.rel);
	cm_hosts_free(&out);
	/* hosts on one side only: no host level */
	int other[8] = { 9, 9, 9, 9, 8, 8, 8, 8 };
	assert_int_equal(cm_stats_compare_hosts(mb, hb, 8, mc, other, 8, 0.05, 0.02, &out, &cmp), -1);
	assert_int_equal(out.shared, 0);
	cm_hosts_free(&out);
}

int main(void)
{
	gsl_set_error_handler_off();
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_bimodal_simulation),
		cmocka_unit_test(test_trend_exact),
		cmocka_unit_test(test_trend_simulation),
		cmocka_unit_test(test_summary_reference),
		cmocka_unit_test(test_small_and_equal),
		cmocka_unit_test(test_warnings),
		cmocka_unit_test(test_mann_whitney),
		cmocka_unit_test(test_hodges_lehmann),
		cmocka_unit_test(test_compare_and_holm),
		cmocka_unit_test(test_kruskal),
		cmocka_unit_test(test_large_sample_sort),
		cmocka_unit_test(test_simulation),
		cmocka_unit_test(test_sessions),
		cmocka_unit_test(test_van_elteren),
		cmocka_unit_test(test_hosts),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
