/* Summaries and comparisons. Definitions (README, Outputs: "Statistics"): type-7 quantiles,
 * order-statistic CIs, Student-t mean CI, MAD scaled by 1.4826, Tukey fences; comparisons as R's wilcox.test. */
#define _GNU_SOURCE /* qsort_r */
#include "coldmark/stats.h"

#include <gsl/gsl_cdf.h>
#include <gsl/gsl_sort.h>
#include <gsl/gsl_statistics_double.h>
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "coldmark/util.h"

const double cm_stats_pct[CM_STATS_NPCT] = { 0.05, 0.25, 0.75, 0.95, 0.99 };
const char *const cm_verdict_names[] = { "no change", "regressed", "improved", "incomparable" };

/* LSD radix sort of doubles on their bit patterns (negative ones flipped): O(n), several
 * times faster than gsl_sort's heapsort on a million boots. NaNs are not expected here. */
static void sort_doubles(double *v, size_t n)
{
	if (n < 256) {
		gsl_sort(v, 1, n);
		return;
	}
	uint64_t *a = cm_xmalloc(n * sizeof(uint64_t)), *b = cm_xmalloc(n * sizeof(uint64_t));
	for (size_t i = 0; i < n; i++) {
		uint64_t u;
		memcpy(&u, &v[i], 8);
		a[i] = u >> 63 ? ~u : u | (1ULL << 63);
	}
	for (int shift = 0; shift < 64; shift += 16) {
		size_t count[65537] = { 0 };
		for (size_t i = 0; i < n; i++)
			count[((a[i] >> shift) & 0xffff) + 1]++;
		for (size_t k = 1; k <= 65536; k++)
			count[k] += count[k - 1];
		for (size_t i = 0; i < n; i++)
			b[count[(a[i] >> shift) & 0xffff]++] = a[i];
		uint64_t *t = a;
		a = b;
		b = t;
	}
	for (size_t i = 0; i < n; i++) {
		uint64_t u = a[i] >> 63 ? a[i] & ~(1ULL << 63) : ~a[i];
		memcpy(&v[i], &u, 8);
	}
	free(a);
	free(b);
}

static double *sorted_copy(const double *x, size_t n)
{
	double *s = cm_xmalloc((n ? n : 1) * sizeof(double));
	memcpy(s, x, n * sizeof(double));
	sort_doubles(s, n);
	return s;
}

double cm_stats_quantile_sorted(const double *sorted, size_t n, double p)
{
	if (!n)
		return NAN;
	return gsl_stats_quantile_from_sorted_data(sorted, 1, n, p);
}

/* Smallest k in [0, n] with P(Binomial(n, p) <= k) >= target, n + 1 if none; the CDF grows
 * with k, so a binary search needs O(log n) evaluations. */
static size_t smallest_k(size_t n, double p, double target)
{
	size_t lo = 0, hi = n + 1;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		if (gsl_cdf_binomial_P((unsigned)mid, p, (unsigned)n) >= target)
			hi = mid;
		else
			lo = mid + 1;
	}
	return lo;
}

/* A quantile CI's order statistics and level depend on n, p and alpha alone, and a report
 * asks for the same few again and again (a history: 5 quantiles in each of thousands of
 * cells of 20 boots, ~60 binomial CDFs each, was a third of its CPU): the last ones computed
 * are remembered, per thread, and reused as they are (the same bits). */
struct qci_memo {
	size_t n, l, u;
	double p, alpha, level;
};
#define QCI_MEMO 64
static _Thread_local struct qci_memo qci_memo[QCI_MEMO];

double cm_stats_quantile_ci(const double *sorted, size_t n, double p, double alpha, double *lo,
			    double *hi)
{
	*lo = *hi = NAN;
	if (!n)
		return 0;
	size_t slot = n * 31 + (p >= 0 && p <= 1 ? (size_t)(p * 1000) : 0);
	struct qci_memo *m = &qci_memo[slot % QCI_MEMO];
	if (m->n != n || m->p != p || m->alpha != alpha) {
		/* l: smallest k with P(B <= k) >= alpha/2; u: smallest k with P(B <= k-1) >=
		 * 1-alpha/2, B ~ Binomial(n, p). The interval [x(l), x(u)] (1-based) covers the
		 * p-quantile with probability P(B <= u-1) - P(B <= l-1); l = 0 or u > n means too
		 * few boots. */
		size_t l = smallest_k(n, p, alpha / 2), u = smallest_k(n, p, 1 - alpha / 2) + 1;
		double level = 0;
		if (!(l == 0 || u > n || l > u)) {
			double below_l = gsl_cdf_binomial_P((unsigned)(l - 1), p, (unsigned)n);
			level = gsl_cdf_binomial_P((unsigned)(u - 1), p, (unsigned)n) - below_l;
		}
		*m = (struct qci_memo){ n, l, u, p, alpha, level };
	}
	if (m->l == 0 || m->u > n || m->l > m->u)
		return 0;
	*lo = sorted[m->l - 1];
	*hi = sorted[m->u - 1];
	return m->level;
}

/* Pairs i < j with v[i] > v[j], by merge sort: O(n log n), so a million boots stay cheap. */
static double inversions(double *v, double *tmp, size_t n)
{
	if (n < 2)
		return 0;
	size_t h = n / 2;
	double inv = inversions(v, tmp, h) + inversions(v + h, tmp, n - h);
	size_t i = 0, j = h, k = 0;
	while (i < h && j < n) {
		if (v[i] <= v[j]) {
			tmp[k++] = v[i++];
		} else {
			inv += (double)(h - i); /* every left element still waiting is larger */
			tmp[k++] = v[j++];
		}
	}
	while (i < h)
		tmp[k++] = v[i++];
	while (j < n)
		tmp[k++] = v[j++];
	memcpy(v, tmp, n * sizeof(double));
	return inv;
}

/* Mann-Kendall trend test over the order of the samples; two-sided p with tie correction.
 * S = concordant - discordant pairs of (boot order, value). */
static double mann_kendall_p(const double *x, size_t n)
{
	if (n < 4)
		return NAN;
	double *v = cm_xmalloc(n * sizeof(double)), *tmp = cm_xmalloc(n * sizeof(double));
	memcpy(v, x, n * sizeof(double));
	double disc = inversions(v, tmp, n); /* v is now sorted */
	free(tmp);
	double tied_pairs = 0, ties = 0;
	for (size_t i = 0; i < n;) {
		size_t j = i;
		while (j < n && v[j] == v[i])
			j++;
		double t = (double)(j - i);
		tied_pairs += t * (t - 1) / 2;
		ties += t * (t - 1) * (2 * t + 5);
		i = j;
	}
	free(v);
	double conc = (double)n * (n - 1) / 2 - disc - tied_pairs, s = conc - disc;
	double var = ((double)n * (n - 1) * (2.0 * n + 5) - ties) / 18.0;
	if (var <= 0)
		return 1;
	double z = s > 0 ? (s - 1) / sqrt(var) : s < 0 ? (s + 1) / sqrt(var) : 0;
	return 2 * gsl_cdf_ugaussian_Q(fabs(z));
}

/* Two modes: the best split of the sorted log-times into a lower and an upper group (each
 * at least 3 boots), judged by the share of the variance between the groups (Otsu's
 * criterion, R^2 of the split). On one unimodal mode the best split still explains ~64%
 * (2/pi of a normal's variance), and less the larger n, so the bar is that plus 0.8/sqrt(n):
 * the 97-98th percentile of the best split's R^2 on lognormal and exponential samples of
 * 10-200 boots. Validated by simulation in tests/test_stats.c (detection on two modes 2.5x
 * apart, false warnings on lognormal and gamma samples). Log scale: boot times are ratios. */
#define BIMODAL_MIN_N 10
#define BIMODAL_MIN_SIDE 3

double cm_stats_bimodal_r2(const double *sorted, size_t n, size_t *split)
{
	*split = 0;
	if (n < 2 * BIMODAL_MIN_SIDE || !(sorted[0] > 0))
		return NAN;
	double tot = 0, tot2 = 0;
	for (size_t i = 0; i < n; i++) {
		double l = log(sorted[i]);
		tot += l, tot2 += l * l;
	}
	double mean = tot / n, sst = tot2 - tot * mean, best = 0, left = 0;
	if (!(sst > 0))
		return 0;
	for (size_t i = 0; i + BIMODAL_MIN_SIDE < n; i++) {
		left += log(sorted[i]);
		size_t nl = i + 1, nr = n - nl;
		if (nl < BIMODAL_MIN_SIDE)
			continue;
		double ml = left / nl - mean, mr = (tot - left) / nr - mean;
		double r2 = (nl * ml * ml + nr * mr * mr) / sst;
		if (r2 > best) {
			best = r2;
			*split = nl;
		}
	}
	return best;
}

double cm_stats_bimodal_bar(size_t n)
{
	return 2 / M_PI + 0.8 / sqrt((double)n);
}

static bool bimodal(const double *sorted, size_t n, struct cm_summary *s)
{
	size_t split;
	if (n < BIMODAL_MIN_N || !(cm_stats_bimodal_r2(sorted, n, &split) > cm_stats_bimodal_bar(n)))
		return false;
	s->mode_share[0] = (double)split / n;
	s->mode_share[1] = 1 - s->mode_share[0];
	s->mode_median[0] = cm_stats_quantile_sorted(sorted, split, 0.5);
	s->mode_median[1] = cm_stats_quantile_sorted(sorted + split, n - split, 0.5);
	return true;
}

/* The t quantile of a mean's CI, remembered like the quantile CIs' order statistics. */
static double t_quantile(double alpha, size_t n)
{
	static _Thread_local struct {
		size_t n;
		double alpha, t;
	} memo[QCI_MEMO];
	size_t k = n % QCI_MEMO;
	if (memo[k].n != n || memo[k].alpha != alpha)
		memo[k].n = n, memo[k].alpha = alpha,
		memo[k].t = gsl_cdf_tdist_Pinv(1 - alpha / 2, (double)(n - 1));
	return memo[k].t;
}

int cm_stats_summarize(const double *x, size_t n, double alpha, struct cm_summary *s)
{
	memset(s, 0, sizeof(*s));
	s->n = n;
	s->mean = s->sd = s->cv = s->min = s->max = s->median = s->mad = NAN;
	s->mean_ci_lo = s->mean_ci_hi = s->median_ci_lo = s->median_ci_hi = NAN;
	s->drift_p = NAN;
	for (int i = 0; i < CM_STATS_NPCT; i++)
		s->pct[i] = s->pct_ci_lo[i] = s->pct_ci_hi[i] = NAN;
	if (!n) {
		s->warnings = CM_WARN_FEW_BOOTS;
		return 0;
	}
	double *sorted = sorted_copy(x, n);
	s->mean = gsl_stats_mean(x, 1, n);
	s->min = sorted[0];
	s->max = sorted[n - 1];
	s->median = cm_stats_quantile_sorted(sorted, n, 0.5);
	if (n >= 2) {
		s->sd = gsl_stats_sd_m(x, 1, n, s->mean);
		s->cv = s->mean != 0 ? s->sd / s->mean : NAN;
		double h = t_quantile(alpha, n) * s->sd / sqrt((double)n);
		s->mean_ci_lo = s->mean - h;
		s->mean_ci_hi = s->mean + h;
	}
	double *dev = cm_xmalloc(n * sizeof(double));
	for (size_t i = 0; i < n; i++)
		dev[i] = fabs(x[i] - s->median);
	sort_doubles(dev, n);
	s->mad = 1.4826 * cm_stats_quantile_sorted(dev, n, 0.5);
	free(dev);
	s->median_ci_level =
		cm_stats_quantile_ci(sorted, n, 0.5, alpha, &s->median_ci_lo, &s->median_ci_hi);
	for (int i = 0; i < CM_STATS_NPCT; i++) {
		s->pct[i] = cm_stats_quantile_sorted(sorted, n, cm_stats_pct[i]);
		cm_stats_quantile_ci(sorted, n, cm_stats_pct[i], alpha, &s->pct_ci_lo[i],
				     &s->pct_ci_hi[i]);
	}
	/* Tukey's fences on the type-7 quartiles: counted and listed, never dropped. */
	double q1 = s->pct[1], q3 = s->pct[2], iqr = q3 - q1;
	s->outliers = cm_xcalloc(n, sizeof(size_t));
	for (size_t i = 0; i < n; i++) {
		if (x[i] < q1 - 3 * iqr || x[i] > q3 + 3 * iqr)
			s->n_severe++;
		else if (x[i] < q1 - 1.5 * iqr || x[i] > q3 + 1.5 * iqr)
			s->n_mild++;
		else
			continue;
		s->outliers[s->n_outliers++] = i;
	}
	s->drift_p = mann_kendall_p(x, n);

	if (s->median_ci_level == 0)
		s->warnings |= CM_WARN_FEW_BOOTS;
	if (s->cv > CM_STATS_CV_WARN)
		s->warnings |= CM_WARN_HIGH_CV;
	s->mode_share[0] = s->mode_share[1] = s->mode_median[0] = s->mode_median[1] = NAN;
	if (bimodal(sorted, n, s))
		s->warnings |= CM_WARN_BIMODAL;
	if (n >= 8 && s->drift_p < 0.01)
		s->warnings |= CM_WARN_DRIFT;
	if (s->n_severe)
		s->warnings |= CM_WARN_OUTLIERS;
	/* hyperfine's check: the first counted boot far slower than the others is a sign of a
	 * missing warm-up or of a cache that was not dropped. Here "far": above the rest's
	 * severe Tukey fence and 10% above their median. */
	if (n >= 5) {
		double *rest = sorted_copy(x + 1, n - 1);
		double r1 = cm_stats_quantile_sorted(rest, n - 1, 0.25);
		double r3 = cm_stats_quantile_sorted(rest, n - 1, 0.75);
		double rmed = cm_stats_quantile_sorted(rest, n - 1, 0.5);
		if (x[0] > r3 + 3 * (r3 - r1) && x[0] > 1.1 * rmed)
			s->warnings |= CM_WARN_FIRST_SLOW;
		free(rest);
	}
	free(sorted);
	return 0;
}

void cm_summary_free(struct cm_summary *s)
{
	if (!s)
		return;
	free(s->outliers);
	s->outliers = NULL;
}

size_t cm_stats_boots_needed(const struct cm_summary *s, double target_rel, double alpha)
{
	/* The median's standard error is about sqrt(pi/2) sigma / sqrt(n); sigma from the MAD
	 * so that outliers do not inflate the advice. */
	if (!(s->median > 0) || !(target_rel > 0) || !(s->mad >= 0))
		return 0;
	double z = gsl_cdf_ugaussian_Pinv(1 - alpha / 2);
	double half_one = z * 1.2533141 * s->mad / s->median;
	double n = ceil(pow(half_one / target_rel, 2));
	return n < 6 ? 6 : (size_t)n;
}

/* ---- comparisons --------------------------------------------------------------------------- */

/* Ranks with ties averaged; returns the tie term sum(t^3 - t). */
static double ranks(const double *v, size_t n, double *r)
{
	size_t *idx = cm_xmalloc(n * sizeof(size_t));
	gsl_sort_index(idx, v, 1, n);
	double ties = 0;
	for (size_t i = 0; i < n;) {
		size_t j = i;
		while (j < n && v[idx[j]] == v[idx[i]])
			j++;
		double avg = (i + j + 1) / 2.0; /* ranks i+1 .. j averaged */
		for (size_t k = i; k < j; k++)
			r[idx[k]] = avg;
		double t = (double)(j - i);
		ties += t * t * t - t;
		i = j;
	}
	free(idx);
	return ties;
}

/* Counts of W = 0..m*n for the exact null distribution: the coefficients of the Gaussian
 * binomial [m+n choose m]_q, built as prod (1 - q^(n+i)) / (1 - q^i). */
static double *wilcox_counts(size_t m, size_t n)
{
	size_t len = m * n + 1;
	double *c = cm_xcalloc(len, sizeof(double));
	c[0] = 1;
	for (size_t i = 1; i <= m; i++) {
		for (size_t k = len; k-- > n + i;) /* multiply by (1 - q^(n+i)) */
			c[k] -= c[k - (n + i)];
		for (size_t k = i; k < len; k++) /* divide by (1 - q^i) */
			c[k] += c[k - i];
	}
	return c;
}

static double pwilcox(double q, const double *counts, size_t m, size_t n)
{
	double total = 0, below = 0;
	for (size_t k = 0; k <= m * n; k++) {
		total += counts[k];
		if ((double)k <= q)
			below += counts[k];
	}
	return below / total;
}

static bool has_ties(const double *x, size_t nx, const double *y, size_t ny)
{
	size_t n = nx + ny;
	double *all = cm_xmalloc(n * sizeof(double));
	memcpy(all, x, nx * sizeof(double));
	memcpy(all + nx, y, ny * sizeof(double));
	sort_doubles(all, n);
	bool t = false;
	for (size_t i = 1; i < n; i++)
		t |= all[i] == all[i - 1];
	free(all);
	return t;
}

int cm_stats_mann_whitney(const double *x, size_t nx, const double *y, size_t ny,
			  struct cm_mwu *out)
{
	if (!nx || !ny)
		return CM_ERR(CM_EPARSE);
	size_t n = nx + ny;
	double *all = cm_xmalloc(n * sizeof(double)), *r = cm_xmalloc(n * sizeof(double));
	memcpy(all, x, nx * sizeof(double));
	memcpy(all + nx, y, ny * sizeof(double));
	double ties = ranks(all, n, r), rx = 0;
	for (size_t i = 0; i < nx; i++)
		rx += r[i];
	free(all);
	free(r);
	double w = rx - nx * (nx + 1) / 2.0;
	out->w = w;
	/* R: exact when both samples are under 50 and there are no ties */
	out->exact = nx < 50 && ny < 50 && ties == 0;
	if (out->exact) {
		double *c = wilcox_counts(nx, ny);
		double p = w > nx * ny / 2.0 ? 1 - pwilcox(w - 1, c, nx, ny) : pwilcox(w, c, nx, ny);
		free(c);
		out->p = fmin(1, 2 * p);
		return 0;
	}
	double z = w - nx * ny / 2.0;
	double sigma = sqrt((nx * ny / 12.0) * ((n + 1) - ties / ((double)n * (n - 1))));
	if (sigma == 0) {
		out->p = 1;
		return 0;
	}
	double corr = z > 0 ? 0.5 : z < 0 ? -0.5 : 0;
	z = (z - corr) / sigma;
	out->p = fmin(1, 2 * gsl_cdf_ugaussian_Q(fabs(z)));
	return 0;
}

/* Lehmann's normal approximation of the CI's order statistic (0: none, the first) */
static size_t lehmann_qu(size_t nx, size_t ny, double alpha)
{
	size_t nd = nx * ny;
	double z = gsl_cdf_ugaussian_Pinv(1 - alpha / 2);
	double k = nd / 2.0 - z * sqrt(nx * ny * (nx + ny + 1) / 12.0);
	return k < 1 ? 0 : (size_t)floor(k);
}

/* Past this many differences they are not listed but selected (cm_stats_diff_order_stats):
 * the same order statistics, so the same estimate and CI, bit for bit. The exact CI's small
 * samples (< 50 a side) stay below it. */
#define HL_LISTED 4096
#define HL_EXACT_BELOW 50 /* a side: R's exact CI (no ties) */
_Static_assert((HL_EXACT_BELOW - 1) * (HL_EXACT_BELOW - 1) < HL_LISTED,
	       "the exact CI's samples must stay on the listing path");

static bool hl_selected(const double *x, size_t nx, const double *y, size_t ny, double alpha,
			double *est, double *lo, double *hi)
{
	size_t nd = nx * ny, qu = lehmann_qu(nx, ny, alpha);
	qu = qu ? qu : 1;
	/* gsl_stats_quantile_from_sorted_data's median, written out on the two order statistics */
	double index = 0.5 * (double)(nd - 1), v[4];
	size_t lhs = (size_t)index, rank[4] = { lhs, lhs + 1 < nd ? lhs + 1 : lhs, qu - 1, nd - qu };
	double delta = index - (double)lhs;
	if (!cm_stats_diff_order_stats(x, nx, y, ny, rank, 4, v))
		return false;
	*est = lhs == nd - 1 ? v[0] : (1 - delta) * v[0] + delta * v[1];
	*lo = v[2];
	*hi = v[3];
	return true;
}

int cm_stats_hodges_lehmann(const double *x, size_t nx, const double *y, size_t ny,
			    double alpha, double *est, double *lo, double *hi)
{
	*est = *lo = *hi = NAN;
	if (!nx || !ny)
		return CM_ERR(CM_EPARSE);
	size_t nd = nx * ny, qu;
	if (nd > HL_LISTED && hl_selected(x, nx, y, ny, alpha, est, lo, hi))
		return 0;
	double *d = cm_xmalloc(nd * sizeof(double));
	for (size_t i = 0; i < nx; i++)
		for (size_t j = 0; j < ny; j++)
			d[i * ny + j] = x[i] - y[j];
	sort_doubles(d, nd);
	*est = cm_stats_quantile_sorted(d, nd, 0.5);
	if (nx < HL_EXACT_BELOW && ny < HL_EXACT_BELOW && !has_ties(x, nx, y, ny)) {
		/* R: qu = qwilcox(alpha/2, nx, ny), at least 1; CI = [d(qu), d(nx ny - qu + 1)] */
		double *c = wilcox_counts(nx, ny), total = 0, acc = 0;
		for (size_t k = 0; k <= nd; k++)
			total += c[k];
		qu = 0;
		for (size_t k = 0; k <= nd; k++) {
			acc += c[k];
			if (acc / total >= alpha / 2 - 1e-12) {
				qu = k;
				break;
			}
		}
		free(c);
	} else {
		qu = lehmann_qu(nx, ny, alpha);
	}
	if (qu == 0)
		qu = 1;
	*lo = d[qu - 1];
	*hi = d[nd - qu];
	free(d);
	return 0;
}

int cm_stats_compare(const double *base, size_t nb, const double *cand, size_t nc, double alpha,
		     struct cm_comparison *out)
{
	memset(out, 0, sizeof(*out));
	out->rel = out->rel_lo = out->rel_hi = out->p = out->p_adj = NAN;
	out->verdict = CM_INCOMPARABLE;
	if (!nb || !nc)
		return CM_ERR(CM_EPARSE);
	double *sb = sorted_copy(base, nb), *sc = sorted_copy(cand, nc);
	out->base_median = cm_stats_quantile_sorted(sb, nb, 0.5);
	out->cand_median = cm_stats_quantile_sorted(sc, nc, 0.5);
	free(sb);
	free(sc);
	bool positive = out->base_median > 0;
	for (size_t i = 0; i < nb; i++)
		positive &= base[i] > 0;
	for (size_t i = 0; i < nc; i++)
		positive &= cand[i] > 0;
	if (!positive) {
		/* A 0 ns phase (below a source's resolution) has no logarithm: the shift on the
		 * linear scale, relative to the base median, says the same thing less exactly. */
		if (!(out->base_median > 0))
			return CM_ERR(CM_EPARSE);
		struct cm_mwu u;
		double est, lo, hi;
		cm_stats_mann_whitney(cand, nc, base, nb, &u);
		cm_stats_hodges_lehmann(cand, nc, base, nb, alpha, &est, &lo, &hi);
		out->p = out->p_adj = u.p;
		out->exact = u.exact;
		out->rel = est / out->base_median;
		out->rel_lo = lo / out->base_median;
		out->rel_hi = hi / out->base_median;
		out->verdict = CM_NO_CHANGE;
		return 0;
	}
	/* wilcox.test(log(cand), log(base), conf.int = TRUE) */
	double *lb = cm_xmalloc(nb * sizeof(double)), *lc = cm_xmalloc(nc * sizeof(double));
	for (size_t i = 0; i < nb; i++)
		lb[i] = log(base[i]);
	for (size_t i = 0; i < nc; i++)
		lc[i] = log(cand[i]);
	struct cm_mwu u;
	double est, lo, hi;
	cm_stats_mann_whitney(lc, nc, lb, nb, &u);
	cm_stats_hodges_lehmann(lc, nc, lb, nb, alpha, &est, &lo, &hi);
	free(lb);
	free(lc);
	out->p = out->p_adj = u.p;
	out->exact = u.exact;
	out->rel = expm1(est);
	out->rel_lo = expm1(lo);
	out->rel_hi = expm1(hi);
	out->verdict = CM_NO_CHANGE;
	return 0;
}

static int cmp_p(const void *a, const void *b, void *p_v)
{
	const double *p = p_v;
	double pa = p[*(const size_t *)a], pb = p[*(const size_t *)b];
	return (pa > pb) - (pa < pb);
}

void cm_stats_holm(const double *p, size_t n, double *adj)
{
	size_t m = 0, *idx = cm_xmalloc((n ? n : 1) * sizeof(size_t));
	for (size_t i = 0; i < n; i++) {
		adj[i] = NAN;
		if (!isnan(p[i]))
			idx[m++] = i;
	}
	qsort_r(idx, m, sizeof(size_t), cmp_p, (void *)p);
	double running = 0;
	for (size_t j = 0; j < m; j++) {
		running = fmax(running, fmin(1, (double)(m - j) * p[idx[j]]));
		adj[idx[j]] = running; /* Holm: adjusted p never decreases */
	}
	free(idx);
}

void cm_stats_holm_verdicts(struct cm_comparison *rows, size_t n, double alpha, double threshold,
			    double min_ns)
{
	double *p = cm_xmalloc((n ? n : 1) * sizeof(double)), *adj = cm_xmalloc((n ? n : 1) * sizeof(double));
	for (size_t i = 0; i < n; i++)
		p[i] = rows[i].verdict == CM_INCOMPARABLE ? NAN : rows[i].p;
	cm_stats_holm(p, n, adj);
	for (size_t i = 0; i < n; i++)
		if (rows[i].verdict != CM_INCOMPARABLE)
			rows[i].p_adj = adj[i];
	free(p);
	free(adj);
	for (size_t i = 0; i < n; i++) {
		struct cm_comparison *r = &rows[i];
		if (r->verdict == CM_INCOMPARABLE)
			continue;
		r->verdict = CM_NO_CHANGE;
		/* the whole CI past the relative threshold, and past the absolute floor in ns
		 * (a shift the marker source cannot resolve is not a change) */
		double floor = r->no_floor ? 0 : min_ns;
		if (r->p_adj < alpha && r->rel_lo > threshold && !(r->rel_lo * r->base_median < floor))
			r->verdict = CM_REGRESSED;
		else if (r->p_adj < alpha && r->rel_hi < -threshold &&
			 !(-r->rel_hi * r->base_median < floor))
			r->verdict = CM_IMPROVED;
	}
}

double cm_stats_geomean_ratio(const struct cm_comparison *rows, size_t n)
{
	double acc = 0;
	size_t k = 0;
	for (size_t i = 0; i < n; i++)
		if (rows[i].verdict != CM_INCOMPARABLE && isfinite(rows[i].rel)) {
			acc += log1p(rows[i].rel);
			k++;
		}
	return k ? exp(acc / k) : NAN;
}

double cm_stats_kruskal_wallis(const double *const *groups, const size_t *sizes, size_t k)
{
	size_t n = 0;
	for (size_t g = 0; g < k; g++)
		n += sizes[g];
	if (k < 2 || n < 3)
		return NAN;
	double *all = cm_xmalloc(n * sizeof(double)), *r = cm_xmalloc(n * sizeof(double));
	for (size_t g = 0, o = 0; g < k; o += sizes[g], g++)
		memcpy(all + o, groups[g], sizes[g] * sizeof(double));
	double ties = ranks(all, n, r), h = 0;
	for (size_t g = 0, o = 0; g < k; o += sizes[g], g++) {
		double rs = 0;
		for (size_t i = 0; i < sizes[g]; i++)
			rs += r[o + i];
		if (sizes[g])
			h += rs * rs / sizes[g];
	}
	free(all);
	free(r);
	h = 12.0 / (n * (n + 1.0)) * h - 3.0 * (n + 1);
	double c = 1 - ties / ((double)n * n * n - n);
	if (c <= 0)
		return 1;
	return gsl_cdf_chisq_Q(h / c, (double)(k - 1));
}
