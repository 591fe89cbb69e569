/* How a phase moves along an ordered axis: the Theil-Sen slope with Sen's distribution-free
 * CI (from Kendall's S), and the Jonckheere-Terpstra test for ordered alternatives (exact
 * without ties, as a convolution of Mann-Whitney distributions; with ties, normal with
 * Hollander & Wolfe's tie-corrected variance and a continuity correction). */
#include <gsl/gsl_cdf.h>
#include <math.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "coldmark/stats.h"
#include "coldmark/util.h"

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return x < y ? -1 : x > y;
}

/* Var(S) of Kendall's S between x and a continuous y, corrected for the ties in x. */
static double kendall_var(const double *x, size_t n)
{
	double *s = cm_xmalloc((n + 1) * sizeof(double));
	memcpy(s, x, n * sizeof(double));
	qsort(s, n, sizeof(double), cmp_double);
	double v = (double)n * (n - 1) * (2.0 * n + 5);
	for (size_t i = 0; i < n;) {
		size_t j = i;
		while (j < n && s[j] == s[i])
			j++;
		double t = (double)(j - i);
		v -= t * (t - 1) * (2 * t + 5);
		i = j;
	}
	free(s);
	return v / 18;
}

/* Theil-Sen without the n^2 slopes: the k-th smallest pairwise slope is found by counting,
 * for a trial slope t, the pairs whose slope is <= t. Sorted by x, a pair (i, j) with
 * x_i < x_j has slope <= t exactly when y_j - t x_j <= y_i - t x_i: an inversion of the order
 * by y - t x, counted by a merge sort in O(n log d) (d distinct x; each x's points start as
 * one run, sorted by y). The merge compares the pair's own slope with t, so a count agrees
 * with the O(n^2) definition's slopes; and the merge meets every pair adjacent in the order
 * at t, among them the pair of the largest slope <= t and that of the smallest slope > t, so
 * a trial lands on slopes themselves and the search ends on the k-th value exactly. */
struct ts_pt {
	double x, y;
};

struct ts_points {
	struct ts_pt *pt;	/* sorted by x, then y */
	size_t n, *runs, nruns; /* the start of each distinct x, and n after the last */
	struct ts_pt *buf[2];	/* a merge's source and destination: points, not indices, so
				 * that a merge reads and writes in order */
	size_t *rs, *rs2;
};

struct ts_count {
	uint64_t le;	     /* pairs of slope <= t */
	double below, above; /* the largest slope <= t, the smallest > t */
};

static int cmp_xy(const void *a, const void *b)
{
	const struct ts_pt *p = a, *q = b;
	return p->x < q->x ? -1 : p->x > q->x ? 1 : p->y < q->y ? -1 : p->y > q->y;
}

static void ts_merge(const struct ts_pt *src, size_t l0, size_t l1, size_t r1, struct ts_pt *out,
		     double t, struct ts_count *c)
{
	size_t a = l0, b = l1, o = l0;
	uint64_t le = 0;
	double below = c->below, above = c->above;
	while (a < l1 && b < r1) {
		struct ts_pt i = src[a], j = src[b];
		double s = (j.y - i.y) / (j.x - i.x);
		/* s <= t: j's y - t x is at most i's, and so at most each of left's rest */
		bool right = s <= t;
		le += right ? l1 - a : 0;
		below = right && s > below ? s : below;
		above = !right && s < above ? s : above;
		out[o++] = right ? j : i;
		b += right, a += !right;
	}
	while (a < l1)
		out[o++] = src[a++];
	while (b < r1)
		out[o++] = src[b++];
	c->le += le, c->below = below, c->above = above;
}

static struct ts_count ts_count(struct ts_points *p, double t)
{
	struct ts_count c = { 0, -INFINITY, INFINITY };
	struct ts_pt *src = p->buf[0], *dst = p->buf[1];
	size_t *rs = p->rs, *rs2 = p->rs2, nr = p->nruns;
	memcpy(src, p->pt, p->n * sizeof(*src));
	memcpy(rs, p->runs, (nr + 1) * sizeof(size_t));
	while (nr > 1) {
		size_t k = 0, r = 0;
		for (; r + 1 < nr; r += 2) {
			ts_merge(src, rs[r], rs[r + 1], rs[r + 2], dst, t, &c);
			rs2[k++] = rs[r];
		}
		if (r < nr) {
			memcpy(dst + rs[r], src + rs[r], (rs[r + 1] - rs[r]) * sizeof(*src));
			rs2[k++] = rs[r];
		}
		rs2[k] = p->n;
		struct ts_pt *t1 = src;
		src = dst, dst = t1;
		size_t *t2 = rs;
		rs = rs2, rs2 = t2;
		nr = k;
	}
	return c;
}

/* A sample of the slopes, sorted: its quantiles bracket a rank for the first two trials. */
struct ts_sample {
	double *s;
	size_t n;
};

static struct ts_sample ts_sample(const struct ts_points *p, uint64_t m)
{
	size_t want = p->n < 4096 ? 4096 : p->n, got = 0;
	struct ts_sample sm = { cm_xmalloc((want + 1) * sizeof(double)), 0 };
	uint64_t st = 0x9e3779b97f4a7c15ULL; /* xorshift: a fixed seed, the result is exact anyway */
	for (size_t tries = 0; m >= 2 && got < want && tries < 4 * want; tries++) {
		st ^= st << 13, st ^= st >> 7, st ^= st << 17;
		size_t i = (size_t)(st % p->n), j = (size_t)((st >> 32) % p->n);
		if (p->pt[i].x != p->pt[j].x)
			sm.s[got++] = (p->pt[j].y - p->pt[i].y) / (p->pt[j].x - p->pt[i].x);
	}
	qsort(sm.s, got, sizeof(double), cmp_double);
	sm.n = got;
	return sm;
}

/* The k-th smallest slope (1-based), given the smallest and the largest of the m. */
static double ts_select(struct ts_points *p, uint64_t k, double min, double max, uint64_t m,
			const struct ts_sample *sm)
{
	uint64_t clo = 0, chi = m;
	double above = min, hi = max; /* slopes in (lo, hi]: above is the smallest of them */
	double pos = (double)k / (double)m * (double)sm->n, spread = 1.5 * sqrt((double)sm->n) + 1;
	double wlo = 1, whi = 1; /* Illinois: an end kept twice weighs half */
	int last = 0;		  /* the end the last trial moved: -1 low, 1 high */
	for (int step = 0;; step++) {
		if (clo + 1 == k || above >= hi)
			return above >= hi ? hi : above;
		if (chi == k)
			return hi;
		/* first the sample's quantiles about k, then regula falsi on the counts (the
		 * Illinois variant: the counts bend, and plain interpolation stays on one side) */
		double flo = ((double)k - 0.5 - (double)clo) * wlo, fhi = ((double)chi - (double)k + 0.5) * whi;
		double t = above + (hi - above) * (flo / (flo + fhi));
		if (step < 2 && sm->n) {
			double at = step ? pos + spread : pos - spread;
			t = sm->s[at < 0 ? 0 : at >= (double)sm->n ? sm->n - 1 : (size_t)at];
		}
		if (!(t >= above && t < hi))
			t = above + (hi - above) / 2;
		if (!(t < hi))
			t = above;
		struct ts_count c = ts_count(p, t);
		if (c.le >= k) {
			hi = c.below, chi = c.le, whi = 1;
			wlo = last == 1 ? wlo / 2 : 1;
			last = 1;
		} else {
			clo = c.le, above = c.above, wlo = 1;
			whi = last == -1 ? whi / 2 : 1;
			last = -1;
		}
	}
}

int cm_stats_theil_sen(const double *x, const double *y, size_t n, double alpha,
		       struct cm_slope *out)
{
	memset(out, 0, sizeof(*out));
	out->slope = out->lo = out->hi = out->intercept = NAN;
	struct ts_points p = { cm_xmalloc((n + 1) * sizeof(struct ts_pt)), n,
			       cm_xmalloc((n + 2) * sizeof(size_t)), 0,
			       { cm_xmalloc((n + 1) * sizeof(struct ts_pt)), cm_xmalloc((n + 1) * sizeof(struct ts_pt)) },
			       cm_xmalloc((n + 2) * sizeof(size_t)), cm_xmalloc((n + 2) * sizeof(size_t)) };
	for (size_t i = 0; i < n; i++)
		p.pt[i] = (struct ts_pt){ x[i], y[i] };
	qsort(p.pt, n, sizeof(*p.pt), cmp_xy);
	uint64_t m = (uint64_t)n * (n ? n - 1 : 0) / 2;
	for (size_t i = 0; i < n; i++)
		if (!i || p.pt[i].x != p.pt[i - 1].x)
			p.runs[p.nruns++] = i;
	p.runs[p.nruns] = n;
	for (size_t r = 0; r < p.nruns; r++) {
		uint64_t g = p.runs[r + 1] - p.runs[r];
		m -= g * (g - 1) / 2; /* pairs of equal x have no slope */
	}
	out->npairs = (size_t)m;
	int rc = 0;
	struct ts_sample sm = { 0 };
	if (m < 2) {
		rc = CM_ERR(CM_EPARSE);
		goto done;
	}
	double min = ts_count(&p, -INFINITY).above, max = ts_count(&p, INFINITY).below;
	sm = ts_sample(&p, m);
	out->slope = ts_select(&p, m / 2 + 1, min, max, m, &sm);
	if (m % 2 == 0) { /* the mean of the (m/2)-th and the next: the largest below it, or it */
		struct ts_count c = ts_count(&p, nextafter(out->slope, -INFINITY));
		double before = c.le >= m / 2 ? c.below : out->slope;
		out->slope = (before + out->slope) / 2;
	}
	/* Sen (Hollander & Wolfe 8.3): with M1 = (m - C) / 2, the floor(M1)-th ordered slope
	 * below and the symmetric (m + 1 - floor(M1))-th above (M2 + 1, M2 = m - M1) */
	double c = gsl_cdf_ugaussian_Pinv(1 - alpha / 2) * sqrt(kendall_var(x, n));
	double m1 = floor(((double)m - c) / 2), m2 = (double)m + 1 - m1;
	if (m1 >= 1 && m2 <= (double)m) {
		out->lo = ts_select(&p, (uint64_t)m1, min, max, m, &sm);
		out->hi = ts_select(&p, (uint64_t)m2, min, max, m, &sm);
	}
	double *r = cm_xmalloc((n + 1) * sizeof(double));
	for (size_t i = 0; i < n; i++)
		r[i] = y[i] - out->slope * x[i];
	qsort(r, n, sizeof(double), cmp_double);
	out->intercept = cm_stats_quantile_sorted(r, n, 0.5);
	free(r);
done:
	free(sm.s);
	free(p.pt), free(p.runs), free(p.buf[0]), free(p.buf[1]), free(p.rs), free(p.rs2);
	return rc;
}

/* The null distribution of Mann-Whitney's U for sizes a and b, as probabilities (a*b + 1). */
static double *mw_dist(size_t a, size_t b)
{
	/* c[i][j][u]: rolling over i; counts of U = u for i and j items, normalised as we go */
	size_t umax = a * b;
	double *prev = cm_xcalloc((b + 1) * (umax + 1), sizeof(double));
	double *cur = cm_xcalloc((b + 1) * (umax + 1), sizeof(double));
#define AT(t, j, u) (t)[(j) * (umax + 1) + (u)]
	for (size_t j = 0; j <= b; j++)
		AT(prev, j, 0) = 1; /* i = 0 */
	for (size_t i = 1; i <= a; i++) {
		memset(cur, 0, (b + 1) * (umax + 1) * sizeof(double));
		AT(cur, 0, 0) = 1;
		for (size_t j = 1; j <= b; j++)
			for (size_t u = 0; u <= i * j; u++) {
				/* the largest of the i + j is an x (adds j to U) or a y */
				double px = (double)i / (i + j), py = (double)j / (i + j);
				double v = py * AT(cur, j - 1, u);
				if (u >= j)
					v += px * AT(prev, j, u - j);
				AT(cur, j, u) = v;
			}
		double *t = prev;
		prev = cur;
		cur = t;
	}
	double *d = cm_xmalloc((umax + 1) * sizeof(double));
	for (size_t u = 0; u <= umax; u++)
		d[u] = AT(prev, b, u);
#undef AT
	free(prev);
	free(cur);
	return d;
}

/* The tie groups of all the values: sums over them of t(t-1)(2t+5), t(t-1)(t-2) and t(t-1)
 * (all 0 without ties), the terms of Hollander & Wolfe's tie-corrected Var(J). */
static void tie_sums(const double *const *g, const size_t *n, size_t k, double ts[3])
{
	size_t total = 0;
	for (size_t i = 0; i < k; i++)
		total += n[i];
	double *all = cm_xmalloc((total + 1) * sizeof(double));
	size_t m = 0;
	for (size_t i = 0; i < k; i++)
		for (size_t j = 0; j < n[i]; j++)
			all[m++] = g[i][j];
	qsort(all, m, sizeof(double), cmp_double);
	ts[0] = ts[1] = ts[2] = 0;
	for (size_t i = 0; i < m;) {
		size_t j = i;
		while (j < m && all[j] == all[i])
			j++;
		double t = (double)(j - i);
		ts[0] += t * (t - 1) * (2 * t + 5), ts[1] += t * (t - 1) * (t - 2), ts[2] += t * (t - 1);
		i = j;
	}
	free(all);
}

/* J's exact null distribution: the U of group j against groups 1..j-1, independent under H0,
 * convolved. */
static double *jt_dist(const size_t *n, size_t k, size_t *jmax)
{
	double *d = cm_xcalloc(1, sizeof(double));
	d[0] = 1;
	size_t len = 1, before = n[0];
	for (size_t g = 1; g < k; g++) {
		double *u = mw_dist(n[g], before);
		size_t ulen = n[g] * before + 1, nlen = len + ulen - 1;
		double *c = cm_xcalloc(nlen, sizeof(double));
		for (size_t i = 0; i < len; i++)
			for (size_t j = 0; j < ulen; j++)
				c[i + j] += d[i] * u[j];
		free(d);
		free(u);
		d = c, len = nlen;
		before += n[g];
	}
	*jmax = len - 1;
	return d;
}

/* J = the sum over groups a < b of #{x in a, y in b: x < y} + #{x == y} / 2, in O(N log N):
 * the values in ascending order (ties by group), each counted against the smaller values of
 * the earlier groups already seen (a Fenwick tree over the groups) and against its tie
 * block's values of earlier groups. */
struct jt_item {
	double v;
	size_t g;
};

static int cmp_jt(const void *a, const void *b)
{
	const struct jt_item *p = a, *q = b;
	return p->v < q->v ? -1 : p->v > q->v ? 1 : p->g < q->g ? -1 : p->g > q->g;
}

static double jt_statistic(const double *const *g, const size_t *n, size_t k)
{
	size_t total = 0;
	for (size_t a = 0; a < k; a++)
		total += n[a];
	struct jt_item *it = cm_xmalloc((total + 1) * sizeof(*it));
	size_t m = 0;
	for (size_t a = 0; a < k; a++)
		for (size_t i = 0; i < n[a]; i++)
			it[m++] = (struct jt_item){ g[a][i], a };
	qsort(it, m, sizeof(*it), cmp_jt);
	uint64_t *fen = cm_xcalloc(k + 1, sizeof(uint64_t));
	double j = 0;
	for (size_t i = 0; i < m;) {
		size_t e = i;
		while (e < m && it[e].v == it[i].v)
			e++;
		for (size_t q = i, first = i; q < e; q++) {
			uint64_t less = 0; /* smaller values seen, in groups before it[q].g */
			for (size_t f = it[q].g; f > 0; f -= f & -f)
				less += fen[f];
			if (it[q].g != it[first].g)
				first = q; /* the block's values of earlier groups: sorted before first */
			j += (double)less + 0.5 * (double)(first - i);
		}
		for (size_t q = i; q < e; q++)
			for (size_t f = it[q].g + 1; f <= k; f += f & -f)
				fen[f]++;
		i = e;
	}
	free(fen);
	free(it);
	return j;
}

#define JT_EXACT_MAX 50 /* values in all: past this the normal approximation is close, and cheaper */

double cm_stats_jonckheere(const double *const *g, const size_t *n, size_t k, double *jstat)
{
	double j = jt_statistic(g, n, k), total = 0, sq = 0;
	for (size_t a = 0; a < k; a++) {
		total += (double)n[a];
		sq += (double)n[a] * n[a];
	}
	if (jstat)
		*jstat = j;
	if (k < 2 || total < 3)
		return NAN;
	double mean = (total * total - sq) / 4;
	double ts[3];
	tie_sums(g, n, k, ts);
	if (total <= JT_EXACT_MAX && !ts[2]) {
		size_t jmax;
		double *d = jt_dist(n, k, &jmax), lower = 0, upper = 0;
		for (size_t v = 0; v <= jmax; v++) {
			if ((double)v <= j + 1e-9)
				lower += d[v];
			if ((double)v >= j - 1e-9)
				upper += d[v];
		}
		free(d);
		double p = 2 * fmin(lower, upper);
		return p > 1 ? 1 : p;
	}
	/* Hollander & Wolfe (2nd ed., 6.19): the null variance given the ties; without ties it
	 * is the usual [N^2 (2N + 3) - sum n^2 (2n + 3)] / 72 */
	double N = total, g1 = 0, g2 = 0, g3 = 0;
	for (size_t a = 0; a < k; a++) {
		double m = (double)n[a];
		g1 += m * (m - 1) * (2 * m + 5), g2 += m * (m - 1) * (m - 2), g3 += m * (m - 1);
	}
	double var = (N * (N - 1) * (2 * N + 5) - g1 - ts[0]) / 72 +
		     g2 * ts[1] / (36 * N * (N - 1) * (N - 2)) + g3 * ts[2] / (8 * N * (N - 1));
	/* the continuity correction is half J's step: 1 without ties, 1/2 with them */
	double z = (fabs(j - mean) - (ts[2] ? 0.25 : 0.5)) / sqrt(var);
	return z <= 0 ? 1 : 2 * gsl_cdf_ugaussian_Q(z);
}
