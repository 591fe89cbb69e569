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
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "coldmark/report.h"
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

/* van Elteren against the enumeration of every assignment: each stratum's candidate labels
 * over all C(N, nc) subsets of its values, all strata's combinations, T = sum of the midrank
 * sums / (N + 1); p = the share of combinations with T at or past the observed one. */
#define VE_MAX 6
static double ve_enumerate(double v[][2 * VE_MAX], const size_t *nb, const size_t *nc, size_t H,
			   bool upper, double *tobs)
{
	static double sums[VE_MAX][1 << (2 * VE_MAX)];
	size_t cnt[VE_MAX];
	*tobs = 0;
	for (size_t h = 0; h < H; h++) {
		size_t N = nb[h] + nc[h];
		double rank[2 * VE_MAX];
		for (size_t i = 0; i < N; i++) { /* midrank: 1 + those below + (ties - 1) / 2 */
			double below = 0, same = 0;
			for (size_t j = 0; j < N; j++)
				below += v[h][j] < v[h][i], same += v[h][j] == v[h][i];
			rank[i] = below + (same + 1) / 2;
		}
		cnt[h] = 0;
		for (unsigned m = 0; m < 1u << N; m++) {
			if ((size_t)__builtin_popcount(m) != nc[h])
				continue;
			double s = 0;
			for (size_t i = 0; i < N; i++)
				s += (m >> i & 1) ? rank[i] : 0;
			sums[h][cnt[h]++] = s / (double)(N + 1);
		}
		double s = 0; /* the candidate's values are the last nc */
		for (size_t i = nb[h]; i < N; i++)
			s += rank[i];
		*tobs += s / (double)(N + 1);
	}
	double hit = 0, all = 0;
	size_t at[VE_MAX] = { 0 };
	for (;;) {
		double t = 0;
		for (size_t h = 0; h < H; h++)
			t += sums[h][at[h]];
		hit += upper ? t >= *tobs - 1e-9 : t <= *tobs + 1e-9;
		all++;
		size_t h = 0;
		while (h < H && ++at[h] == cnt[h])
			at[h++] = 0;
		if (h == H)
			break;
	}
	return hit / all;
}

static void test_van_elteren_exact(void **state)
{
	(void)state;
	gsl_rng *r = gsl_rng_alloc(gsl_rng_mt19937);
	gsl_rng_set(r, 5);
	/* 5 hosts x (3 + 3) sessions (3.2 million assignments), then unequal strata with ties */
	static const size_t nb1[] = { 3, 3, 3, 3, 3 }, nc1[] = { 3, 3, 3, 3, 3 };
	static const size_t nb2[] = { 2, 3, 3, 4, 2 }, nc2[] = { 2, 2, 3, 2, 1 };
	for (int set = 0; set < 6; set++) {
		const size_t *nb = set < 3 ? nb1 : nb2, *nc = set < 3 ? nc1 : nc2, H = 5;
		double v[VE_MAX][2 * VE_MAX];
		const double *B[VE_MAX], *C[VE_MAX];
		for (size_t h = 0; h < H; h++) {
			double host = gsl_ran_gaussian(r, 1);
			for (size_t i = 0; i < nb[h] + nc[h]; i++) {
				v[h][i] = host + gsl_ran_gaussian(r, 0.3) + (i >= nb[h] ? 0.15 : 0);
				if (set >= 3)
					v[h][i] = round(v[h][i] * 4) / 4; /* coarse: ties */
			}
			B[h] = v[h], C[h] = v[h] + nb[h];
		}
		for (int upper = 0; upper < 2; upper++) {
			double tobs, want = ve_enumerate(v, nb, nc, H, upper, &tobs);
			bool exact;
			double got = cm_stats_van_elteren(B, nb, C, nc, H, upper, &exact);
			printf("van Elteren set %d %s: enumeration %.10f, coldmark %.10f\n", set,
			       upper ? "upper" : "lower", want, got);
			assert_true(exact);
			assert_true(fabs(got - want) < 1e-12);
		}
	}
	gsl_rng_free(r);
}

/* The variance of the median of m normals, integrated here from the order statistics'
 * densities (trapezoid on [-9, 9]): odd m, the middle one's second moment; even m, the mean of
 * the two middle ones, E[X(r) X(r+1)] from their joint density, the inner integral over y > x
 * accumulated from the right. A calibration's prior for sessions of m boots uses it. */
static double median_var_integrated(int m)
{
	enum { G = 36001 };
	static double x[G], phi[G], P[G], Q[G], inner[G];
	double hstep = 18.0 / (G - 1);
	for (int i = 0; i < G; i++)
		x[i] = -9 + i * hstep, phi[i] = gsl_ran_ugaussian_pdf(x[i]),
		P[i] = gsl_cdf_ugaussian_P(x[i]), Q[i] = gsl_cdf_ugaussian_Q(x[i]);
	int k = m % 2 ? (m + 1) / 2 : m / 2; /* the (lower) middle one */
	double c = exp(lgamma(m + 1) - lgamma(k) - lgamma(m - k + 1)), ex2 = 0;
	for (int i = 0; i < G; i++)
		ex2 += (i == 0 || i == G - 1 ? 0.5 : 1) * hstep * x[i] * x[i] * c *
		       pow(P[i], k - 1) * pow(Q[i], m - k) * phi[i];
	if (m % 2)
		return ex2;
	double c2 = exp(lgamma(m + 1) - lgamma(k) - lgamma(m - k)), exy = 0;
	inner[G - 1] = 0;
	for (int i = G - 2; i >= 0; i--)
		inner[i] = inner[i + 1] + hstep / 2 * (x[i] * pow(Q[i], m - k - 1) * phi[i] +
						       x[i + 1] * pow(Q[i + 1], m - k - 1) * phi[i + 1]);
	for (int i = 0; i < G; i++)
		exy += (i == 0 || i == G - 1 ? 0.5 : 1) * hstep * x[i] * c2 * pow(P[i], k - 1) * phi[i] * inner[i];
	return (2 * ex2 + 2 * exy) / 4; /* E X(r)^2 = E X(r+1)^2 by symmetry */
}

static void test_median_variance(void **state)
{
	(void)state;
	for (int m = 1; m <= 40; m++) {
		double want = m == 1 ? 1 : median_var_integrated(m);
		assert_true(fabs(cm_stats_median_var((size_t)m) / want - 1) < (m < 30 ? 1e-5 : 2e-3));
	}
	assert_true(fabs(median_var_integrated(6) - 0.214) < 0.001); /* not (pi/2)/6 = 0.262 */
	struct cm_varcomp cal = { 8, 6, 0.0004, 0.0001, NAN };
	struct cm_session_prior pr;
	cm_session_prior_from(&cal, 6, &pr);
	assert_true(fabs(pr.var - (0.0001 + 0.0004 * median_var_integrated(6))) < 1e-9);
	assert_true(pr.df == 7);
}

/* Between-session variance over two sides, side a fixed effect (a balanced 2 x 4 sessions x 5
 * boots, ln values; R: set.seed(1), y = ln 1000 + 0.05 side + N(0, 0.01) session + N(0, 0.02)).
 * Side a alone estimates a negative component, side b a positive one: cutting each at 0 and
 * averaging gave 8.35e-5; the one-way ANOVA with the sums of squares pooled over the sides,
 * written out here, is lme4::lmer(y ~ side + (1 | session), REML = TRUE)'s 4.844303558e-05
 * (within 2.6835281006e-04) in R 4.2. */
static const double vc_y[40] = {
	6.913006, 6.895383, 6.931726, 6.909288, 6.889066, 6.865298, 6.932090, 6.908693, 6.909268,
	6.928468, 6.915823, 6.911277, 6.917779, 6.915042, 6.900890, 6.883921, 6.936105, 6.922586,
	6.920592, 6.894293, 6.951487, 6.969409, 6.988224, 6.958995, 6.968804, 6.948474, 6.922009,
	6.941251, 6.941665, 6.948364, 6.984630, 6.977893, 6.959339, 6.957562, 6.976569, 6.976272,
	6.951363, 6.950989, 6.972430, 6.980509,
};

static void test_pooled_between(void **state)
{
	(void)state;
	double v[40], mean[8] = { 0 }, side[2] = { 0 }, ssw = 0, ssb = 0;
	int ses[40];
	for (int i = 0; i < 40; i++)
		v[i] = exp(vc_y[i]), ses[i] = i / 5, mean[i / 5] += vc_y[i] / 5, side[i / 20] += vc_y[i] / 20;
	for (int i = 0; i < 40; i++)
		ssw += (vc_y[i] - mean[i / 5]) * (vc_y[i] - mean[i / 5]);
	for (int g = 0; g < 8; g++)
		ssb += 5 * (mean[g] - side[g / 4]) * (mean[g] - side[g / 4]);
	double msw = ssw / (40 - 8), msb = ssb / (8 - 2), between = (msb - msw) / 5;
	struct cm_varcomp a, b, both;
	cm_stats_varcomp(v, ses, 20, &a);
	cm_stats_varcomp(v + 20, ses + 20, 20, &b);
	assert_true(a.between == 0 && b.between > 0); /* side a alone: negative, cut */
	cm_stats_varcomp_sides(v, ses, 20, v + 20, ses + 20, 20, &both);
	assert_int_equal(both.sessions, 8);
	assert_int_equal(both.boots, 5);
	assert_true(fabs(both.within / msw - 1) < 1e-9);
	assert_true(fabs(both.between / between - 1) < 1e-9);
	assert_true(fabs(both.between / 4.844303558e-05 - 1) < 1e-4); /* lme4 REML */
	assert_true(fabs(both.within / 2.6835281006e-04 - 1) < 1e-4);
	/* unbalanced: n0 = (N - sum over sides of sum n_g^2 / N_side) / (k - 2); sessions of
	 * 2..6 boots */
	int ses2[40], k = 0;
	size_t na = 0;
	double m2[12] = { 0 }, s2[2] = { 0 }, w2 = 0, b2 = 0, cnt[12] = { 0 }, sq[2] = { 0 };
	for (int i = 0; i < 40; k++)
		for (int j = 0; j < 2 + k % 5 && i < 40; j++, i++)
			ses2[i] = k, na += i < 20 ? 1 : 0;
	for (int i = 0; i < 40; i++)
		cnt[ses2[i]]++, m2[ses2[i]] += vc_y[i], s2[i >= 20] += vc_y[i] / 20;
	/* the split at 20 falls inside no session: check, then side = i >= 20 */
	assert_true(ses2[19] != ses2[20]);
	for (int g = 0; g < k; g++)
		m2[g] /= cnt[g];
	for (int i = 0; i < 40; i++)
		w2 += (vc_y[i] - m2[ses2[i]]) * (vc_y[i] - m2[ses2[i]]);
	int ka = ses2[19] + 1;
	for (int g = 0; g < k; g++)
		b2 += cnt[g] * (m2[g] - s2[g >= ka]) * (m2[g] - s2[g >= ka]), sq[g >= ka] += cnt[g] * cnt[g];
	double n0 = (40 - sq[0] / 20 - sq[1] / 20) / (k - 2);
	double want = fmax(0, (b2 / (k - 2) - w2 / (40 - k)) / n0);
	cm_stats_varcomp_sides(v, ses2, na, v + na, ses2 + na, 40 - na, &both);
	assert_true(fabs(both.within / (w2 / (40 - k)) - 1) < 1e-9);
	assert_true(fabs(both.between - want) <= 1e-9 * want + 1e-15);
}

/* history after a real step (issue 24's case): 20 sessions of 2% noise, one +8% step at a
 * uniform place in [3, 17], 1,000 seeded series: the step found within 2 sessions in >= 99%,
 * an extra change point in <= 5%; without a step, any change point in <= 5%. */
static void test_change_points_extra(void **state)
{
	(void)state;
	enum { T = 1000, n = 20 };
	gsl_rng *r = gsl_rng_alloc(gsl_rng_mt19937);
	gsl_rng_set(r, 2408);
	double x[n];
	struct cm_change ch[8];
	int located = 0, extra = 0, null_any = 0;
	for (int t = 0; t < T; t++) {
		int at = 3 + (int)gsl_rng_uniform_int(r, n - 5);
		for (int i = 0; i < n; i++)
			x[i] = gsl_ran_gaussian(r, 0.02) + (i >= at ? log(1.08) : 0);
		size_t k = cm_stats_change_points(x, n, 0.05, 0, (unsigned long)t, ch, 8);
		bool near = false;
		for (size_t i = 0; i < k; i++)
			near |= ch[i].rel > 0 && abs((int)ch[i].at - at) <= 2;
		located += near, extra += k > 1;
		for (int i = 0; i < n; i++)
			x[i] = gsl_ran_gaussian(r, 0.02);
		null_any += cm_stats_change_points(x, n, 0.05, 0, (unsigned long)t + 50000, ch, 8) > 0;
	}
	printf("+8%% step in 20 sessions of 2%% noise, %d series: located %.1f%%, extra change point "
	       "%.1f%%; no step: any change point %.1f%%\n", T, 100.0 * located / T,
	       100.0 * extra / T, 100.0 * null_any / T);
	assert_true(located >= 0.99 * T);
	assert_true(extra <= 0.05 * T);
	assert_true(null_any <= 0.05 * T);
	gsl_rng_free(r);
}

/* One seeded fleet: r hosts, levels N(0, 10%) (host `shifted` +30% more), kb[h] + kc[h]
 * session medians about them with sd sd; every host changes +5%, host `sick` 40% more than
 * the others (x 1.40; -1: none). */
static void sick_fleet(gsl_rng *g, size_t r, const int *kb, const int *kc, double sd, int sick,
		       int shifted, struct cm_hosts *out)
{
	double mb[256], mc[256];
	int hb[256], hc[256];
	size_t nb = 0, nc = 0;
	for (size_t h = 0; h < r; h++) {
		double lvl = gsl_ran_gaussian(g, 0.1) + ((int)h == shifted ? log(1.3) : 0);
		double ch = log(1.05) + ((int)h == sick ? log(1.40) : 0);
		for (int k = 0; k < kb[h]; k++, nb++)
			mb[nb] = lvl + gsl_ran_gaussian(g, sd), hb[nb] = (int)h;
		for (int k = 0; k < kc[h]; k++, nc++)
			mc[nc] = lvl + ch + gsl_ran_gaussian(g, sd), hc[nc] = (int)h;
	}
	struct cm_comparison cmp;
	cm_stats_compare_hosts(mb, hb, nb, mc, hc, nc, 0.05, 0, out, &cmp);
}

struct sick_cell {
	double sick, healthy_any, declined, shifted; /* shares of fleets */
};

/* T fleets with host 0 sick (sick 0) or none (-1): how often host 0 is flagged, any other
 * host is, the flag declines (some host not judged: the design too small), host 1 (shifted
 * level: shifted 1) is flagged. */
static struct sick_cell sick_cell(gsl_rng *g, int T, size_t r, const int *kb, const int *kc,
				  double sd, int sick, int shifted)
{
	struct sick_cell c = { 0, 0, 0, 0 };
	for (int t = 0; t < T; t++) {
		struct cm_hosts out;
		sick_fleet(g, r, kb, kc, sd, sick, shifted, &out);
		bool any = false;
		for (size_t j = 0; j < out.n; j++)
			any |= out.h[j].sick && out.h[j].host != sick;
		c.sick += sick >= 0 && out.h[sick].sick, c.healthy_any += any;
		c.declined += out.needs > 0, c.shifted += shifted >= 0 && out.h[shifted].sick;
		cm_hosts_free(&out);
	}
	c.sick /= T, c.healthy_any /= T, c.declined /= T, c.shifted /= T;
	return c;
}

/* The power of the two-sided t by brute force: t = (Z + lam) / sqrt(V), V = chi2_df / df,
 * drawn; the share beyond crit (and with V <= vmax). */
static double t_power_mc(gsl_rng *g, double lam, double crit, double df, double vmax)
{
	int hit = 0, n = 200000;
	for (int i = 0; i < n; i++) {
		double v = gsl_ran_chisq(g, df) / df, t = (gsl_ran_gaussian(g, 1) + lam) / sqrt(v);
		hit += v <= vmax && fabs(t) > crit;
	}
	return (double)hit / n;
}

/* Issue 24 item 6: the sick-host flag validated by simulation at README's noise (a session
 * median's sd 10.06%: sessions 10%, boots 3%, medians of 10). Targets: a healthy host flagged
 * in <= 5% of fleets (any of them: with 8 hosts, Sidak's bound over the hosts), a host 40% off
 * the others flagged >= 80% at the design coldmark names, a host whose level alone is off never
 * flagged for it; where the design cannot see such a host (2 + 2 sessions), coldmark declines
 * and says so (needs) rather than flag in about half the fleets. */
static void test_sick_host_design(void **state)
{
	(void)state;
	gsl_rng *g = gsl_rng_alloc(gsl_rng_mt19937);
	gsl_rng_set(g, 24);
	const double sd = sqrt(0.1 * 0.1 + 0.03 * 0.03 * 0.138); /* 0.138: median of 10 normals */
	/* the power the judgement and the design rest on, against brute force */
	double crit = gsl_cdf_tdist_Qinv((1 - pow(0.95, 0.25)) / 2, 8);
	for (double lam = 1; lam <= 5; lam += 2)
		for (int cut = 0; cut < 2; cut++) {
			double vmax = cut ? 1.2 : INFINITY, q = cm_stats_t_power(lam, crit, 8, vmax);
			assert_true(fabs(q - t_power_mc(g, lam, crit, 8, vmax)) < 0.006);
		}
	size_t need4 = cm_stats_sick_design(4, sd), need8 = cm_stats_sick_design(8, sd);
	printf("README's noise (session sd %.2f%%): 4 hosts need %zu + %zu sessions, 8 hosts %zu + "
	       "%zu\n", sd * 100, need4, need4, need8, need8);
	assert_true(need4 > 2 && need4 <= 8 && need8 > 2 && need8 <= need4);
	/* one session a side: the noise is not measured, nobody is judged, 2 + 2 at least */
	int k1[4] = { 1, 1, 1, 1 };
	struct cm_hosts one;
	sick_fleet(g, 4, k1, k1, sd, 0, -1, &one);
	assert_true(one.needs == 2 && isnan(one.session_sd));
	for (size_t j = 0; j < one.n; j++)
		assert_false(one.h[j].sick || one.h[j].judged);
	cm_hosts_free(&one);
	int k2[8] = { 2, 2, 2, 2, 2, 2, 2, 2 }, k3[8] = { 3, 3, 3, 3, 3, 3, 3, 3 }, kn4[8], kn8[8];
	int kb_u[4] = { 6, 3, 5, 2 }, kc_u[4] = { 5, 4, 6, 3 }; /* unequal */
	for (int h = 0; h < 8; h++)
		kn4[h] = (int)need4, kn8[h] = (int)need8;
	struct { const char *what; size_t r; const int *kb, *kc; int shifted; bool named; } d[] = {
		{ "4 hosts, 2 + 2", 4, k2, k2, -1, false },
		{ "4 hosts, the design named", 4, kn4, kn4, -1, true },
		{ "4 hosts, the design named, one level +30%", 4, kn4, kn4, 1, true },
		{ "4 hosts, unequal sessions", 4, kb_u, kc_u, -1, false },
		{ "8 hosts, 3 + 3", 8, k3, k3, -1, false },
		{ "8 hosts, the design named", 8, kn8, kn8, -1, true },
	};
	const double fp_max = 0.05 + 1.645 * sqrt(0.05 * 0.95 / 1000);
	for (size_t i = 0; i < sizeof(d) / sizeof(d[0]); i++) {
		struct sick_cell s = sick_cell(g, 1000, d[i].r, d[i].kb, d[i].kc, sd, 0, d[i].shifted);
		struct sick_cell z = sick_cell(g, 1000, d[i].r, d[i].kb, d[i].kc, sd, -1, d[i].shifted);
		printf("%-44s +40%% host flagged %5.1f%%, a healthy one beside it %4.1f%%, declined "
		       "%5.1f%%; all healthy: any flagged %4.1f%%\n", d[i].what, s.sick * 100,
		       s.healthy_any * 100, s.declined * 100, z.healthy_any * 100);
		/* at most 5%: not above it by more than a one-sided 95% binomial margin */
		assert_true(s.healthy_any <= fp_max && z.healthy_any <= fp_max);
		assert_true(s.shifted <= fp_max && z.shifted <= fp_max);
		if (d[i].named)
			assert_true(s.sick >= 0.80);
		if (d[i].kb == k2) /* too small: declined, not judged in half the fleets */
			assert_true(s.declined >= 0.80 && z.declined >= 0.80);
	}
	gsl_rng_free(g);
}

/* A fleet's side as coldmark reads it: 4 hosts (node-0..3), K sessions of 10 boots each,
 * host levels lvl, session sd 10%, boots 3% (README's noise); chg: each host's change. */
static void fleet_side(gsl_rng *g, struct cm_dataset *ds, int K, const double *lvl,
		       const double *chg, const char *side)
{
	cm_dataset_init(ds, NULL, 0);
	cm_dataset_meta(ds, "host", "node-0");
	int boot = 0;
	for (int h = 0; h < 4; h++)
		for (int s = 0; s < K; s++) {
			char id[32], host[16];
			snprintf(id, sizeof(id), "%s%d#%d", side, h, s + 1);
			snprintf(host, sizeof(host), "node-%d", h);
			cm_dataset_session(ds, id, host);
			double u = lvl[h] + log1p(chg[h]) + gsl_ran_gaussian(g, 0.1);
			for (int b = 0; b < 10; b++, boot++)
				cm_dataset_add(ds, "c", boot + 1, false, "ok", "total",
					       1e8 * exp(u + gsl_ran_gaussian(g, 0.03)), "", "");
		}
}

static char *fleet_text(const struct cm_cmp_result *r, const char *fmt)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);
	cm_cmp_writer(fmt)->write(r, f);
	fclose(f);
	return buf;
}

/* What compare says of a fleet with a host 40% off the others (node-3 +40%, the others
 * unchanged), README's noise, seeded: with 2 + 2 sessions it flags nobody and says the design
 * is too small and what would do (text and JSON); with the design it names, node-3 is flagged
 * and the line is gone. */
static void test_sick_host_output(void **state)
{
	(void)state;
	gsl_rng *g = gsl_rng_alloc(gsl_rng_mt19937);
	gsl_rng_set(g, 7);
	const double lvl[] = { 0.08, -0.12, 0.02, 0.1 }, none[4] = { 0 }, chg[] = { 0, 0, 0, 0.40 };
	struct cm_judge j = { 0.05, 0.02, 0 };
	size_t need = 0;
	for (int K = 2; K <= 5; K += 3) {
		struct cm_dataset b, c;
		struct cm_cmp_result r;
		fleet_side(g, &b, K, lvl, none, "b");
		fleet_side(g, &c, K, lvl, chg, "c");
		assert_int_equal(cm_compare_build(&b, &c, &j, NULL, NULL, &r), 0);
		const struct cm_hosts *h = &r.rows[0].hosts;
		char *text = fleet_text(&r, "text"), *json = fleet_text(&r, "json");
		printf("%d + %d sessions a host:\n%s\n", K, K, text);
		if (K == 2) {
			need = h->needs;
			assert_true(need > 2 && need <= CM_SICK_MAX_K);
			char line[96];
			snprintf(line, sizeof(line), "design too small to flag a +40%% host: needs %zu+%zu "
				 "sessions a host", need, need);
			assert_non_null(strstr(text, line));
			assert_null(strstr(text, "(2+2) DISAGREES"));
			assert_non_null(strstr(json, "\"flag_design_too_small\": {"));
		} else {
			assert_true((size_t)K >= need); /* the design it named */
			assert_int_equal(h->needs, 0);
			assert_true(h->h[3].sick && !h->h[0].sick && !h->h[1].sick && !h->h[2].sick);
			assert_non_null(strstr(text, "(5+5) DISAGREES"));
			assert_null(strstr(text, "design too small"));
			assert_non_null(strstr(json, "\"flag_design_too_small\": null"));
		}
		free(text), free(json);
		cm_compare_free(&r);
		cm_dataset_free(&b);
		cm_dataset_free(&c);
	}
	gsl_rng_free(g);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_sen_interval),
		cmocka_unit_test(test_jonckheere_ties),
		cmocka_unit_test(test_van_elteren_exact),
		cmocka_unit_test(test_median_variance),
		cmocka_unit_test(test_pooled_between),
		cmocka_unit_test(test_change_points_extra),
		cmocka_unit_test(test_sick_host_design),
		cmocka_unit_test(test_sick_host_output),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
