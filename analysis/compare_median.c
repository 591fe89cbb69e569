/* A cell's median for compare (issue 25). A cell of a fleet's tag holds 20,000 times (100
 * sessions x 20 boots), and 12 M-row compares take 6,000 of them: a copy and a three-way
 * quickselect over every one was 8% of the client's CPU. Here one pass over the times (no
 * copy) keeps only those between two pivots taken from a sample, which hold the two order
 * statistics the median needs; the selection then runs over that band (~1/8 of the times).
 * An order statistic is one value whatever finds it, so the result is the same to the bit;
 * where the band misses it (a rare sample, ties, NaN) the plain selection over a copy runs. */
#include "compare_median.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "coldmark/util.h"

/* the k-th smallest of v[0..n), v reordered so that every value after k is >= it
 * (quickselect, three-way: ties end it) */
static double select_kth(double *v, size_t n, size_t k)
{
	size_t lo = 0, hi = n;
	while (hi - lo > 1) {
		double pivot = v[lo + (hi - lo) / 2], t;
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
		else
			return pivot;
	}
	return v[k];
}

/* the k-th and (k+1)-th smallest of v[0..n) (the second only when k + 1 < n), v reordered */
static void select_pair(double *v, size_t n, size_t k, double *a, double *b)
{
	*a = select_kth(v, n, k);
	if (k + 1 >= n)
		return;
	double m = v[k + 1]; /* the smallest of those above the k-th */
	for (size_t i = k + 2; i < n; i++)
		m = v[i] < m ? v[i] : m;
	*b = m;
}

enum { SAMPLE = 256, MARGIN = 24, BAND_MIN = 1024 };

/* The band: the times in [lo, hi], the sample's order statistics around the wanted rank;
 * below counts those under lo. 0 when it holds the k-th and (k+1)-th (or k is the last). */
static int band_pair(const double *x, size_t n, size_t k, double *a, double *b)
{
	double s[SAMPLE];
	for (size_t i = 0; i < SAMPLE; i++)
		s[i] = x[i * n / SAMPLE];
	for (size_t i = 0; i < SAMPLE; i++)
		if (isnan(s[i]))
			return -1;
	/* the pivots: two order statistics of the sample, by selection (a sort of it cost more
	 * than the band saved); any pivots are right, the counts below check the band */
	size_t r = k * SAMPLE / n, rlo = r > MARGIN ? r - MARGIN : 0,
	       rhi = r + MARGIN < SAMPLE ? r + MARGIN : SAMPLE - 1;
	double hi = select_kth(s, SAMPLE, rhi), lo = select_kth(s, rhi + 1, rlo);
	if (lo <= 0 && hi >= 0)
		return -1; /* -0 and +0 are equal, not the same bits: which one is found differs */
	double *band = cm_xmalloc((n + 1) * sizeof(double));
	size_t below = 0, m = 0, above = 0;
	for (size_t i = 0; i < n; i++) {
		double v = x[i];
		band[m] = v;
		m += v >= lo && v <= hi;
		below += v < lo;
		above += v > hi;
	}
	int rc = -1;
	/* every time placed (no NaN), and both wanted ranks inside the band */
	if (below + m + above == n && below <= k && (k + 1 >= n || k + 1 < below + m)) {
		select_pair(band, m, k - below, a, b);
		rc = 0;
	}
	free(band);
	return rc;
}

double cm_compare_median(const double *x, size_t n)
{
	if (!n)
		return NAN;
	const double index = 0.5 * (double)(n - 1);
	const size_t lhs = (size_t)index;
	const double delta = index - (double)lhs;
	double a, b = 0;
	if (n < BAND_MIN || band_pair(x, n, lhs, &a, &b)) {
		double *v = cm_xmalloc(n * sizeof(double));
		memcpy(v, x, n * sizeof(double));
		select_pair(v, n, lhs, &a, &b);
		free(v);
	}
	return lhs != n - 1 ? (1 - delta) * a + delta * b : a;
}
