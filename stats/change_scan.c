/* The interval scans of the change-point search: circular binary segmentation's "which
 * interval differs most from the rest", run once for the series and once for each of the
 * permutations that judge it, so it is where `coldmark history` spends its time.
 *
 * The plain scan scores every interval [i, j) (O(n^2)). The fast one finds the same interval
 * by branch and bound over blocks of (i, j): a block's intervals have their sums in a range
 * known from the least and greatest prefix sum of its i's and its j's, and their lengths in a
 * range, which bounds the score of every interval in it; the blocks are opened best bound
 * first, and the search ends when no block left can reach the best interval found. The bound
 * is on the score as computed in floating point (a margin far above the rounding of the few
 * operations it takes), and ties go to the first interval in the plain scan's order, so the
 * interval chosen and its t are bit for bit the plain scan's. */
#include "change_scan.h"

#include <math.h>
#include <stdint.h>
#include <stdlib.h>

#include "coldmark/util.h"

/* Relative margin of the bounds: the score's own rounding is a few units of 1.1e-16. */
#define SLACK 1e-12
/* Blocks of LEAF x LEAF intervals or fewer are scored one by one. */
#define LEAF 8
/* Below this length the plain scan is as quick. */
#define FAST_MIN_N 48

/* The pooled-variance t of the interval [i, j) of n values against the rest, as the
 * definition says (c: their prefix sums, tot2: their sum of squares). */
static double interval_t(const double *c, double tot2, size_t n, size_t i, size_t j)
{
	size_t in = j - i, out = n - in;
	double si = c[j] - c[i], mi = si / (double)in, mo = (c[n] - si) / (double)out;
	double ss = tot2 - (double)in * mi * mi - (double)out * mo * mo;
	double var = fmax(ss, 0) / (double)(n - 2) * (1 / (double)in + 1 / (double)out);
	return var > 0 ? fabs(mi - mo) / sqrt(var) : (mi != mo ? INFINITY : 0);
}

/* The rank of [i, j) among the intervals: monotone in t, without a square root and with one
 * division. With z the prefix sums of x centred on its mean (which keeps the cancellation
 * small), D = si*out - so*in and Q = ss*in*out = ztot2*in*out - si^2*out - so^2*in, and
 * t^2 = (n - 2)/n * D^2/Q. Both scans score by this one function, so they agree bit for bit. */
static inline double score(const double *z, double ztot2, size_t n, size_t i, size_t j)
{
	size_t in = j - i, out = n - in;
	double si = z[j] - z[i], so = z[n] - si, fi = (double)in, fo = (double)out;
	double d = si * fo - so * fi, q = ztot2 * fi * fo - si * si * fo - so * so * fi;
	return q > 0 ? d * d / q : (d != 0 ? INFINITY : 0);
}

/* Whether [i, j) is one of the intervals scanned: every part the cuts leave minseg long. */
static inline int valid(size_t n, size_t minseg, size_t i, size_t j)
{
	return (i == 0 || i >= minseg) && j >= i + minseg && j <= n && n - (j - i) >= minseg &&
	       (j == n || n - j >= minseg);
}

struct best {
	double score;
	size_t i, j;
};

/* Keeps [i, j) if it scores higher, or the same and comes first in the plain scan's order. */
static inline void consider(struct best *b, double v, size_t i, size_t j)
{
	if (v > b->score || (v == b->score && (i < b->i || (i == b->i && j < b->j))))
		*b = (struct best){ v, i, j };
}

static struct best plain(const double *z, double ztot2, size_t n, size_t minseg)
{
	struct best b = { -1, 0, 0 };
	for (size_t i = 0; i < n; i++) {
		if (i > 0 && i < minseg)
			continue;
		for (size_t j = i + minseg; j <= n; j++)
			if (valid(n, minseg, i, j)) {
				double v = score(z, ztot2, n, i, j);
				if (v > b.score)
					b = (struct best){ v, i, j };
			}
	}
	return b;
}

/* ---- branch and bound --------------------------------------------------------------------- */

struct block {
	double bound;
	uint32_t ti, tj; /* nodes of the tree over the i's and over the j's, of one depth */
};

struct scan {
	const double *z;
	double ztot2, zn, zabs; /* z[n]: the centred sum, zero but for rounding; |z[n]| */
	double ztot2p;          /* ztot2 - z[n]^2 / n */
	size_t n, minseg, p; /* p: leaves of the tree, a power of two above n */
	double *lo, *hi;     /* least and greatest z over each node's range */
	struct block *heap;
	size_t nheap, cap;
	struct best b;
};

/* A node's range of indices [*a0, *a1), cut to 0..n. */
static void range(const struct scan *s, uint32_t t, size_t *a0, size_t *a1)
{
	size_t depth = 0;
	while ((1u << (depth + 1)) <= t)
		depth++;
	size_t width = s->p >> depth;
	*a0 = (t - (1u << depth)) * width;
	*a1 = *a0 + width < s->n + 1 ? *a0 + width : s->n + 1;
}

/* An upper bound on the score of every scanned interval [i, j) with i in node ti's range and
 * j in tj's, as computed (see score): -INFINITY when there is none. With Z = z[n] (zero but
 * for rounding, which a large mean makes far larger than the noise) and w = si - Z*in/n, the
 * interval's sum less its share of Z: D = n*w and Q = in*out*(ztot2 - Z^2/n) - n*w^2, so
 * the score grows with |w| and falls with in*out. |w| is greatest at a corner of the block's
 * ranges of si (from the least and greatest z of its i's and j's) and of in; the bound takes
 * that and the least in*out, widened by SLACK times the magnitudes the score's rounding
 * scales with (|si|, |so| <= A + |Z|; ztot2*in*out), far above that rounding. */
static double bound(const struct scan *s, uint32_t ti, uint32_t tj)
{
	size_t a0, a1, b0, b1, n = s->n;
	range(s, ti, &a0, &a1);
	range(s, tj, &b0, &b1);
	if (a0 >= a1 || b0 >= b1 || b1 - 1 < a0 + s->minseg)
		return -INFINITY;
	size_t mlo = b0 > a1 - 1 ? b0 - (a1 - 1) : 0, mhi = b1 - 1 - a0;
	if (mlo < s->minseg)
		mlo = s->minseg;
	if (mhi > n - s->minseg)
		mhi = n - s->minseg;
	if (mlo > mhi)
		return -INFINITY;
	double sh = s->hi[tj] - s->lo[ti], sl = s->lo[tj] - s->hi[ti];
	double nd = (double)n, fl = (double)mlo, fh = (double)mhi;
	double el = s->zn * fl / nd, eh = s->zn * fh / nd; /* Z's share at the shortest, longest */
	double w = fmax(fmax(fabs(sh - el), fabs(sh - eh)), fmax(fabs(sl - el), fabs(sl - eh)));
	double g = fmax(fabs(sh), fabs(sl)) + s->zabs, gg = g * g * nd;
	w += SLACK * g;
	double mmin = fmin(fl * (nd - fl), fh * (nd - fh));
	double qlo = mmin * s->ztot2p - nd * w * w - SLACK * (s->ztot2 * nd * nd * 0.25 + gg);
	if (!(qlo > 0))
		return INFINITY;
	double dup = nd * w;
	return dup * dup / qlo * (1 + 4 * SLACK);
}

static void push(struct scan *s, struct block k)
{
	if (s->nheap == s->cap) {
		s->cap = s->cap ? 2 * s->cap : 256;
		s->heap = cm_xrealloc(s->heap, s->cap * sizeof(*s->heap));
	}
	size_t c = s->nheap++;
	while (c > 0 && s->heap[(c - 1) / 2].bound < k.bound) {
		s->heap[c] = s->heap[(c - 1) / 2];
		c = (c - 1) / 2;
	}
	s->heap[c] = k;
}

static struct block pop(struct scan *s)
{
	struct block top = s->heap[0], last = s->heap[--s->nheap];
	size_t c = 0;
	for (;;) {
		size_t l = 2 * c + 1, m = c;
		double mb = last.bound;
		if (l < s->nheap && s->heap[l].bound > mb)
			m = l, mb = s->heap[l].bound;
		if (l + 1 < s->nheap && s->heap[l + 1].bound > mb)
			m = l + 1;
		if (m == c)
			break;
		s->heap[c] = s->heap[m];
		c = m;
	}
	if (s->nheap)
		s->heap[c] = last;
	return top;
}

/* Scores every scanned interval of a small block. */
static void leaf(struct scan *s, uint32_t ti, uint32_t tj)
{
	size_t a0, a1, b0, b1;
	range(s, ti, &a0, &a1);
	range(s, tj, &b0, &b1);
	for (size_t i = a0; i < a1; i++)
		for (size_t j = b0 > i + s->minseg ? b0 : i + s->minseg; j < b1; j++)
			if (valid(s->n, s->minseg, i, j))
				consider(&s->b, score(s->z, s->ztot2, s->n, i, j), i, j);
}

/* The best interval by branch and bound, best bound first; ends when no block left can reach
 * (or tie) the best score found. */
static struct best fast(const double *z, double ztot2, size_t n, size_t minseg)
{
	struct scan s = { z, ztot2, z[n], fabs(z[n]), ztot2 - z[n] * z[n] / (double)n, n, minseg, 1,
			  NULL, NULL, NULL, 0, 0, { -1, 0, 0 } };
	while (s.p < n + 1)
		s.p *= 2;
	s.lo = cm_xmalloc(2 * s.p * sizeof(double));
	s.hi = cm_xmalloc(2 * s.p * sizeof(double));
	for (size_t k = 0; k < s.p; k++) {
		s.lo[s.p + k] = k <= n ? z[k] : INFINITY;
		s.hi[s.p + k] = k <= n ? z[k] : -INFINITY;
	}
	for (size_t v = s.p - 1; v >= 1; v--) {
		s.lo[v] = fmin(s.lo[2 * v], s.lo[2 * v + 1]);
		s.hi[v] = fmax(s.hi[2 * v], s.hi[2 * v + 1]);
	}
	push(&s, (struct block){ INFINITY, 1, 1 });
	size_t width = s.p;
	while (s.nheap) {
		struct block k = pop(&s);
		if (k.bound < s.b.score)
			break;
		size_t depth = 0;
		while ((1u << (depth + 1)) <= k.ti)
			depth++;
		width = s.p >> depth;
		if (width <= LEAF) {
			leaf(&s, k.ti, k.tj);
			continue;
		}
		for (uint32_t ci = 2 * k.ti; ci <= 2 * k.ti + 1; ci++)
			for (uint32_t cj = 2 * k.tj; cj <= 2 * k.tj + 1; cj++) {
				double v = bound(&s, ci, cj);
				if (v >= s.b.score)
					push(&s, (struct block){ v, ci, cj });
			}
	}
	free(s.lo), free(s.hi), free(s.heap);
	return s.b;
}

/* Prefix sums of x (c) and of x centred on its mean (z), and their sums of squares. */
static void sums(const double *x, size_t n, double *c, double *tot2, double *z, double *ztot2)
{
	c[0] = z[0] = 0;
	*tot2 = *ztot2 = 0;
	for (size_t i = 0; i < n; i++)
		c[i + 1] = c[i] + x[i], *tot2 += x[i] * x[i];
	double mean = c[n] / (double)n;
	for (size_t i = 0; i < n; i++)
		z[i + 1] = z[i] + (x[i] - mean), *ztot2 += (x[i] - mean) * (x[i] - mean);
}

static double interval(const double *x, size_t n, size_t minseg, size_t *from, size_t *to,
		       int quick)
{
	double *c = cm_xmalloc((n + 1) * sizeof(double)), *z = cm_xmalloc((n + 1) * sizeof(double));
	double tot2, ztot2;
	sums(x, n, c, &tot2, z, &ztot2);
	/* a constant series (every score 0) or a non-finite one is left to the definition */
	int use_fast = quick && n >= FAST_MIN_N && ztot2 > 0 && isfinite(ztot2) && isfinite(z[n]);
	struct best b = use_fast ? fast(z, ztot2, n, minseg) : plain(z, ztot2, n, minseg);
	*from = b.i, *to = b.j;
	double t = b.score < 0 ? -1 : interval_t(c, tot2, n, b.i, b.j);
	free(c), free(z);
	return t;
}

double cm_cp_interval(const double *x, size_t n, size_t minseg, size_t *from, size_t *to)
{
	return interval(x, n, minseg, from, to, 1);
}

double cm_cp_interval_plain(const double *x, size_t n, size_t minseg, size_t *from, size_t *to)
{
	return interval(x, n, minseg, from, to, 0);
}

double cm_cp_split(const double *x, size_t n, size_t minseg, size_t *at)
{
	double *c = cm_xmalloc((n + 1) * sizeof(double)), tot2 = 0, best = -1;
	c[0] = 0;
	for (size_t i = 0; i < n; i++)
		c[i + 1] = c[i] + x[i], tot2 += x[i] * x[i];
	*at = 0;
	for (size_t k = minseg; k + minseg <= n; k++) {
		double nl = (double)k, nr = (double)(n - k), ml = c[k] / nl, mr = (c[n] - c[k]) / nr;
		double ss = tot2 - nl * ml * ml - nr * mr * mr;
		double var = fmax(ss, 0) / (double)(n - 2) * (1 / nl + 1 / nr);
		double t = var > 0 ? fabs(ml - mr) / sqrt(var) : (ml != mr ? INFINITY : 0);
		if (t > best)
			best = t, *at = k;
	}
	free(c);
	return best;
}
