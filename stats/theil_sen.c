/* Theil-Sen's slope and Sen's CI (from Kendall's S), exact, in O(n log n) time and O(n) memory
 * without the n^2 slopes: counts of the pairs below a trial slope (a merge sort), a few of
 * them shared by the ranks wanted, then the slopes between two counts listed (an insertion
 * sort from one count's order to the other's) and the rank picked among them. */
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
	const struct ts_pt *order; /* the points ordered at order_t, by the last count */
	double order_t;
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

/* The count alone (no nearest slopes), for a finite t and a CPU with FMA: y_j - y_i - t (x_j -
 * x_i) rounded once has the sign of the exact dy / dx - t, which settles slope(i, j) <= t as
 * the definition computes the slope (rounding can only bring a slope above t down to t
 * itself), but within a few ulps above t, where the division decides. It takes the division
 * out of the merge's chain of dependent steps: half a count's time. */
__attribute__((target("fma"))) static uint64_t ts_merge_le(const struct ts_pt *src, size_t l0, size_t l1,
							  size_t r1, struct ts_pt *out, double t)
{
	size_t a = l0, b = l1, o = l0;
	uint64_t le = 0;
	double tu = fabs(t) * 0x1p-50 + 0x1p-1070; /* 8 half-ulps of t, and of 0 */
	while (a < l1 && b < r1) {
		struct ts_pt i = src[a], j = src[b];
		double dx = j.x - i.x, dy = j.y - i.y, d = __builtin_fma(-t, dx, dy);
		bool right = d <= 0;
		if (__builtin_expect(!right && d <= dx * tu, 0))
			right = dy / dx <= t;
		le += right ? l1 - a : 0;
		out[o++] = right ? j : i;
		b += right, a += !right;
	}
	while (a < l1)
		out[o++] = src[a++];
	while (b < r1)
		out[o++] = src[b++];
	return le;
}

/* fast: the count alone will do (no nearest slopes) */
static struct ts_count ts_count_fast(struct ts_points *p, double t, bool fast)
{
	struct ts_count c = { 0, -INFINITY, INFINITY };
	fast = fast && isfinite(t) && __builtin_cpu_supports("fma");
	struct ts_pt *src = p->buf[0], *dst = p->buf[1];
	size_t *rs = p->rs, *rs2 = p->rs2, nr = p->nruns;
	memcpy(src, p->pt, p->n * sizeof(*src));
	memcpy(rs, p->runs, (nr + 1) * sizeof(size_t));
	while (nr > 1) {
		size_t k = 0, r = 0;
		for (; r + 1 < nr; r += 2) {
			if (fast)
				c.le += ts_merge_le(src, rs[r], rs[r + 1], rs[r + 2], dst, t);
			else
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
	p->order = src, p->order_t = t; /* the points in their order at t: see ts_enumerate */
	return c;
}

static struct ts_count ts_count(struct ts_points *p, double t)
{
	return ts_count_fast(p, t, false);
}

/* A sample of the slopes, sorted: its quantiles bracket a rank for the first two trials. */
struct ts_sample {
	double *s;
	size_t n;
};

static struct ts_sample ts_sample(const struct ts_points *p, uint64_t m)
{
	/* 2^16 slopes: its quantiles only open the search (ts_rank interpolates on from them),
	 * and sorting n of them was a tenth of a 10^6-point fit */
	size_t want = 65536, got = 0;
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

/* The slopes in (a, b] are the pairs ordered one way at a and the other at b. From the order
 * at one end (the last count's), an insertion sort into the order at the other end moves each
 * point past exactly the points it forms such a pair with: O(n + K) for K slopes, each slope
 * computed as the counts and the definition compute it. Between the orders, for points u
 * before v: towards a larger t, v passes u when x_u < x_v and slope(u, v) <= t; towards a
 * smaller t, when x_v < x_u and slope(v, u) > t. Returns the number of slopes listed, or
 * UINT64_MAX when they do not add up to the counts (rounding that made an order
 * inconsistent: the caller then searches by counting alone). */
struct ts_list {
	double *s;
	uint64_t n, cap;
	uint64_t rlo, rhi; /* the slopes listed: ranks rlo + 1 .. rhi */
};

static uint64_t ts_enumerate(struct ts_points *p, const struct ts_pt *from, double t0, double t1,
			     struct ts_list *l)
{
	struct ts_pt *q = p->buf[from == p->buf[0] ? 1 : 0];
	memcpy(q, from, p->n * sizeof(*q));
	bool up = t1 > t0;
	double lo = up ? t0 : t1, hi = up ? t1 : t0;
	l->n = 0;
	for (size_t i = 1; i < p->n; i++) {
		struct ts_pt v = q[i];
		size_t j = i;
		while (j > 0) {
			struct ts_pt u = q[j - 1];
			const struct ts_pt *left = up ? &u : &v, *right = up ? &v : &u;
			if (!(left->x < right->x))
				break;
			double s = (right->y - left->y) / (right->x - left->x);
			if (up ? !(s <= t1) : !(s > t1))
				break;
			if (!(s > lo && s <= hi) || l->n == l->cap) {
				p->order = NULL;
				return UINT64_MAX;
			}
			l->s[l->n++] = s;
			q[j] = u;
			j--;
		}
		q[j] = v;
	}
	p->order = q, p->order_t = t1; /* q is now the order at t1 */
	return l->n;
}

/* The k-th smallest (0-based) of s[0..n), s reordered: Hoare's FIND with a median-of-three
 * pivot; a full sort past a depth that only an adversary reaches. */
static double ts_nth(double *s, uint64_t n, uint64_t k)
{
	int64_t l = 0, r = (int64_t)n - 1, kk = (int64_t)k;
	for (int depth = 0; l < r; depth++) {
		if (depth > 100) {
			qsort(s + l, (size_t)(r - l + 1), sizeof(double), cmp_double);
			break;
		}
		double a = s[l], b = s[kk], c = s[r];
		double x = a < b ? (b < c ? b : a < c ? c : a) : (a < c ? a : b < c ? c : b);
		int64_t i = l, j = r;
		do {
			while (s[i] < x)
				i++;
			while (x < s[j])
				j--;
			if (i <= j) {
				double t = s[i];
				s[i] = s[j], s[j] = t;
				i++, j--;
			}
		} while (i <= j);
		if (j < kk)
			l = i;
		if (kk < i)
			r = j;
	}
	return s[k];
}

/* What the counts so far say: each count at t is a known end (t, pairs <= t). */
#define TS_MAXENDS 96
struct ts_end {
	double t;
	uint64_t le;
	double below, above; /* the largest slope <= t, the smallest > t: NAN if not counted */
};

struct ts_search {
	struct ts_points *p;
	uint64_t m, span; /* span: at most this many slopes are listed at once */
	struct ts_end e[TS_MAXENDS];
	size_t nends;
	struct ts_list list;
	bool minmax;
	double min, max; /* the extreme slopes, once minmax */
};

static struct ts_end *ts_add(struct ts_search *s, double t, uint64_t le, double below, double above)
{
	static struct ts_end spare; /* full (a search gives up long before): dropped */
	struct ts_end *e = s->nends < TS_MAXENDS ? &s->e[s->nends++] : &spare;
	*e = (struct ts_end){ t, le, below, above };
	return e;
}

/* The extreme slopes (two counts), for the ends of a search that has no finite end yet. */
static void ts_extremes(struct ts_search *s)
{
	if (s->minmax)
		return;
	s->min = ts_count(s->p, -INFINITY).above, s->max = ts_count(s->p, INFINITY).below;
	s->minmax = true; /* rank 1 lies above anything below it, rank m at it */
	ts_add(s, nextafter(s->min, -INFINITY), 0, NAN, s->min);
	ts_add(s, s->max, s->m, s->max, NAN);
}

/* exact: with the nearest slopes (a slower count), to land on tied slopes */
static void ts_count_at(struct ts_search *s, double t, bool exact)
{
	struct ts_count c = ts_count_fast(s->p, t, !exact);
	ts_add(s, t, c.le, exact ? c.below : NAN, exact ? c.above : NAN);
}

/* The tightest known ends about rank k: pairs <= lo->t is below k, pairs <= hi->t at least k. */
static void ts_bracket(struct ts_search *s, uint64_t k, struct ts_end *lo, struct ts_end *hi)
{
	*lo = (struct ts_end){ -INFINITY, 0, NAN, NAN };
	*hi = (struct ts_end){ INFINITY, s->m, NAN, NAN };
	for (size_t i = 0; i < s->nends; i++) {
		const struct ts_end *e = &s->e[i];
		if (e->le < k && (e->le > lo->le || (e->le == lo->le && e->t >= lo->t)))
			*lo = *e;
		if (e->le >= k && (e->le < hi->le || (e->le == hi->le && e->t <= hi->t)))
			*hi = *e;
	}
}

/* The slopes of ranks cl + 1 .. ch listed, from the order at an end: the last count's if it is
 * one, else that of a count again. False if they do not add up. */
static bool ts_list_between(struct ts_search *s, const struct ts_end *lo, const struct ts_end *hi)
{
	struct ts_points *p = s->p;
	if (s->list.rlo == lo->le && s->list.rhi == hi->le)
		return true;
	const struct ts_pt *from = p->order;
	double t0 = lo->t, t1 = hi->t;
	if (lo->le == 0)
		from = p->pt, t0 = -INFINITY; /* no slope at or below: by x, then y */
	else if (p->order && p->order_t == hi->t)
		t0 = hi->t, t1 = lo->t;
	else if (!(p->order && p->order_t == lo->t))
		ts_count_fast(p, lo->t, true), from = p->order;
	s->list.rlo = lo->le, s->list.rhi = hi->le;
	if (ts_enumerate(p, from, t0, t1, &s->list) == hi->le - lo->le)
		return true;
	s->list.rhi = 0;
	return false;
}

/* The k-th smallest slope (1-based): NAN when the listing and the counts disagree. Trials aim
 * a quarter-span on either side of k (the upper first: the lower one's order then lists), by
 * interpolating the counts. When that stalls (a block of equal slopes wider than the span),
 * exact counts land on slope values: at the ends, then at the lower end's next slope. */
static double ts_rank(struct ts_search *s, uint64_t k)
{
	int stalls = 0;
	for (int iter = 0; iter < 40; iter++) { /* ~2 a rank: past 40, leave it to ts_select */
		struct ts_end lo, hi;
		ts_bracket(s, k, &lo, &hi);
		if (hi.le - lo.le <= s->span)
			return ts_list_between(s, &lo, &hi) ? ts_nth(s->list.s, s->list.n, k - lo.le - 1)
							   : NAN;
		if (!isfinite(lo.t) || !isfinite(hi.t)) {
			if (s->minmax)
				return NAN;
			ts_extremes(s);
			continue;
		}
		if (!isnan(lo.above) && !isnan(hi.below) && lo.above >= hi.below)
			return hi.below; /* the slopes in (lo, hi] are all one value */
		uint64_t width = hi.le - lo.le;
		if (stalls >= 2) {
			if (isnan(lo.above))
				ts_count_at(s, lo.t, true);
			else if (isnan(hi.below))
				ts_count_at(s, hi.t, true);
			else if (lo.above < hi.t) /* its whole block counts: above k, it is the k-th */
				ts_count_at(s, lo.above, true), stalls = 0;
			else
				return lo.above; /* no slope in (lo, hi) but hi itself */
			continue;
		}
		uint64_t q = s->span / 4, target = hi.le - k > s->span / 2 ? k + q : k - q;
		double t = lo.t + (hi.t - lo.t) * ((double)(target - lo.le) / (double)width);
		if (!(t > lo.t && t < hi.t))
			t = lo.t + (hi.t - lo.t) / 2;
		if (!(t > lo.t && t < hi.t))
			return hi.t; /* no double between the ends: the slopes in (lo, hi] are all hi */
		ts_count_at(s, t, false);
		ts_bracket(s, k, &lo, &hi);
		stalls = hi.le - lo.le > width / 2 ? stalls + 1 : 0;
	}
	return NAN;
}

/* Two counts at the sample's quantiles about the ranks wanted (the lowest and the highest):
 * with them the ranks' brackets are narrow enough to interpolate in. */
static void ts_open(struct ts_search *s, const struct ts_sample *sm, uint64_t kmin, uint64_t kmax)
{
	if (!sm->n)
		return;
	double spread = 1.5 * sqrt((double)sm->n) + 1;
	double at[2] = { (double)kmin / (double)s->m * (double)sm->n - spread,
			 (double)kmax / (double)s->m * (double)sm->n + spread };
	for (int i = 0; i < 2; i++)
		if (at[i] >= 0 && at[i] < (double)sm->n)
			ts_count_at(s, sm->s[(size_t)at[i]], false);
}

/* A rank: listed between counts, or (NAN: a listing inconsistent with the counts) by the
 * counting search alone. */
static double ts_value(struct ts_search *s, uint64_t k, const struct ts_sample *sm)
{
	double v = ts_rank(s, k);
	if (!isnan(v))
		return v;
	ts_extremes(s);
	return ts_select(s->p, k, s->min, s->max, s->m, sm);
}

int cm_stats_theil_sen(const double *x, const double *y, size_t n, double alpha,
		       struct cm_slope *out)
{
	memset(out, 0, sizeof(*out));
	out->slope = out->lo = out->hi = out->intercept = NAN;
	struct ts_points p = { cm_xmalloc((n + 1) * sizeof(struct ts_pt)), n,
			       cm_xmalloc((n + 2) * sizeof(size_t)), 0,
			       { cm_xmalloc((n + 1) * sizeof(struct ts_pt)), cm_xmalloc((n + 1) * sizeof(struct ts_pt)) },
			       cm_xmalloc((n + 2) * sizeof(size_t)), cm_xmalloc((n + 2) * sizeof(size_t)),
			       NULL, NAN };
	for (size_t i = 0; i < n; i++)
		p.pt[i] = (struct ts_pt){ x[i], y[i] };
	size_t sorted = 1; /* a sweep's points come level by level, each level's values sorted */
	while (sorted < n && cmp_xy(&p.pt[sorted - 1], &p.pt[sorted]) <= 0)
		sorted++;
	if (sorted < n)
		qsort(p.pt, n, sizeof(*p.pt), cmp_xy);
	uint64_t m = (uint64_t)n * (n ? n - 1 : 0) / 2;
	/* Var(S) of Kendall's S given the ties in x (the runs of equal x) */
	double vs = (double)n * (n ? n - 1 : 0) * (2.0 * n + 5);
	for (size_t i = 0; i < n; i++)
		if (!i || p.pt[i].x != p.pt[i - 1].x)
			p.runs[p.nruns++] = i;
	p.runs[p.nruns] = n;
	for (size_t r = 0; r < p.nruns; r++) {
		uint64_t g = p.runs[r + 1] - p.runs[r];
		double t = (double)g;
		m -= g * (g - 1) / 2; /* pairs of equal x have no slope */
		vs -= t * (t - 1) * (2 * t + 5);
	}
	out->npairs = (size_t)m;
	int rc = 0;
	struct ts_sample sm = { 0 };
	struct ts_search s = { &p, m, 4 * (uint64_t)n + 1024 };
	if (m < 2) {
		rc = CM_ERR(CM_EPARSE);
		goto done;
	}
	s.list.cap = s.span;
	s.list.s = cm_xmalloc((s.list.cap + 1) * sizeof(double));
	/* Sen (Hollander & Wolfe 8.3): with M1 = (m - C) / 2, the floor(M1)-th ordered slope
	 * below and the symmetric (m + 1 - floor(M1))-th above (M2 + 1, M2 = m - M1) */
	double c = gsl_cdf_ugaussian_Pinv(1 - alpha / 2) * sqrt(vs / 18);
	double m1 = floor(((double)m - c) / 2), m2 = (double)m + 1 - m1;
	bool ci = m1 >= 1 && m2 <= (double)m;
	if (m > s.span) {
		sm = ts_sample(&p, m);
		ts_open(&s, &sm, ci ? (uint64_t)m1 : m / 2, ci ? (uint64_t)m2 : m / 2 + 1);
	}
	out->slope = ts_value(&s, m / 2 + 1, &sm);
	if (m % 2 == 0) /* the mean of the (m/2)-th and the next */
		out->slope = (ts_value(&s, m / 2, &sm) + out->slope) / 2;
	if (ci) {
		out->lo = ts_value(&s, (uint64_t)m1, &sm);
		out->hi = ts_value(&s, (uint64_t)m2, &sm);
	}
	double *r = cm_xmalloc((n + 1) * sizeof(double));
	for (size_t i = 0; i < n; i++)
		r[i] = y[i] - out->slope * x[i];
	/* the median of the residuals by selection, in the words of gsl's quantile of sorted
	 * data (an interpolation between the two order statistics about (n - 1) / 2) */
	double index = 0.5 * (double)(n - 1), delta = index - (double)(size_t)index;
	size_t lhs = (size_t)index;
	double a = ts_nth(r, n, lhs), b = a;
	for (size_t i = lhs + 1; i < n; i++)
		b = i == lhs + 1 || r[i] < b ? r[i] : b;
	out->intercept = lhs == n - 1 ? a : (1 - delta) * a + delta * b;
	free(r);
done:
	free(sm.s), free(s.list.s);
	free(p.pt), free(p.runs), free(p.buf[0]), free(p.buf[1]), free(p.rs), free(p.rs2);
	return rc;
}
