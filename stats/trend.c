/* How a phase moves along an ordered axis (the slope itself: stats/theil_sen.c): the
 * Jonckheere-Terpstra test for ordered alternatives (exact without ties, as a convolution of
 * Mann-Whitney distributions; with ties, normal with Hollander & Wolfe's tie-corrected variance and a continuity correction). */
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
