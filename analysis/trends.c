/* How a phase scales along a numeric axis (memory, smp, a number of one's own), per slice of
 * the other axes: the Theil-Sen slope in natural units with Sen's CI, the elasticity on the
 * log-log scale, whether one slope describes it (the halves' CIs overlap), and the differences
 * of slopes between slices (interactions). Failed boots stay out, as everywhere. */
#include <ctype.h>
#include <gsl/gsl_cdf.h>
#include <math.h>
#include <stdlib.h>
#include <stdint.h>
#include <string.h>

#include "coldmark/analysis.h"
#include "live.h"

#define GIB 1073741824.0
#define Z95 1.959963984540054
#define MAX_INTERACTION_SLICES 8

/* Is axis a numeric, and in which unit: memory sizes per GiB, other numbers as they are. */
static bool numeric_axis(const struct cm_report *r, size_t a, double *unit, const char **name)
{
	const struct cm_dataset *ds = r->ds;
	bool sizes = false;
	for (size_t c = 0; c < ds->ncases; c++) {
		const char *l = ds->cases[c].labels[a];
		double v;
		if (!*l)
			continue;
		if (!cm_report_label_value(r, c, a, &v))
			return false;
		sizes |= !isdigit((unsigned char)l[strlen(l) - 1]);
	}
	*unit = sizes ? GIB : 1;
	*name = sizes ? "GiB" : ds->axes[a];
	return true;
}

/* The ok boots of the slice's cases: x in units, y in ns; the levels seen. */
static size_t slice_points(const struct cm_report *r, const size_t *members, size_t k, size_t a,
			   size_t p, double unit, double **x, double **y, size_t *levels)
{
	size_t n = 0, cap = 0;
	*levels = 0;
	for (size_t i = 0; i < k; i++) {
		const struct cm_cell *cell = cm_report_cell(r, members[i], p);
		double v;
		if (cell->s.n < 2 || !cm_report_label_value(r, members[i], a, &v))
			continue;
		(*levels)++;
		/* a run in waves: a point per wave (its median), the boots of a wave being one
		 * moment of the host, so Sen's CI counts waves (the density sweep's per added VM) */
		const double *pts = cell->units ? cell->units : cell->values;
		size_t npts = cell->units ? cell->s.ci_units : cell->s.n;
		for (size_t j = 0; j < npts; j++) {
			if (n + 1 > cap) {
				cap = cap ? 2 * cap : 64;
				*x = cm_xrealloc(*x, cap * sizeof(double));
				*y = cm_xrealloc(*y, cap * sizeof(double));
			}
			(*x)[n] = v / unit;
			(*y)[n++] = pts[j];
		}
	}
	return n;
}

/* One slope over the points whose x lies in [lo, hi]. */
static void slope_between(const double *x, const double *y, size_t n, double lo, double hi,
			  double alpha, struct cm_slope *out)
{
	double *xs = cm_xmalloc((n + 1) * sizeof(double)), *ys = cm_xmalloc((n + 1) * sizeof(double));
	size_t m = 0;
	for (size_t i = 0; i < n; i++)
		if (x[i] >= lo && x[i] <= hi)
			xs[m] = x[i], ys[m++] = y[i];
	if (cm_stats_theil_sen(xs, ys, m, alpha, out))
		out->slope = out->lo = out->hi = NAN;
	free(xs), free(ys);
}

/* Linear? The slopes of the lower and upper halves of the levels (the middle one in both when
 * their number is odd) have overlapping CIs; with fewer than 4 levels it cannot be said. */
static void linearity(const double *x, const double *y, size_t n, size_t nlevels, double alpha,
		      struct cm_trend *t)
{
	t->linear = true;
	if (nlevels < 4)
		return;
	/* the distinct levels: sorted, then each kept once (a scan per point was n x levels) */
	double *lv = cm_xmalloc((n + 1) * sizeof(double));
	memcpy(lv, x, n * sizeof(double));
	qsort(lv, n, sizeof(double), cm_cmp_double);
	size_t nl = 0;
	for (size_t i = 0; i < n; i++)
		if (!nl || lv[nl - 1] != lv[i])
			lv[nl++] = lv[i];
	double mid_lo = lv[(nl - 1) / 2], mid_hi = lv[nl / 2];
	slope_between(x, y, n, lv[0], mid_hi, alpha, &t->lower);
	slope_between(x, y, n, mid_lo, lv[nl - 1], alpha, &t->upper);
	free(lv);
	if (isfinite(t->lower.hi) && isfinite(t->upper.lo))
		t->linear = !(t->lower.hi < t->upper.lo || t->upper.hi < t->lower.lo);
}

/* Each level's median against the fitted line: a level whose median's CI, widened for the
 * number of levels (Bonferroni), misses the line is off it. This has power from 3 levels on
 * (a step between the lower two of three is a middle level off the line through the others);
 * the halves' slopes alone needed 4 and passed a 128M->256M step. */
static void levels_off_line(const struct cm_report *r, const size_t *members, size_t k,
			    size_t a, size_t p, struct cm_trend *t)
{
	double worst = 0, z = gsl_cdf_ugaussian_Pinv(1 - r->alpha / (2.0 * (double)t->nlevels)),
	       z0 = gsl_cdf_ugaussian_Pinv(1 - r->alpha / 2);
	for (size_t i = 0; i < k; i++) {
		const struct cm_summary *s = &cm_report_cell(r, members[i], p)->s;
		double v;
		if (s->n < 2 || !cm_report_label_value(r, members[i], a, &v) ||
		    !isfinite(s->median_ci_lo) || !isfinite(s->median_ci_hi))
			continue;
		double fit = t->slope.intercept + t->slope.slope * v / t->unit;
		double se = (s->median_ci_hi - s->median_ci_lo) / (2 * z0);
		/* the line's own uncertainty is not in se: a tiny floor keeps identical boots sane */
		se = fmax(se, 1e-3 * fabs(s->median));
		double dev = fabs(s->median - fit) / se;
		if (dev > z && dev > worst) {
			worst = dev;
			t->linear = false;
			t->off_level = members[i];
		}
	}
}

static void one_trend(const struct cm_report *r, const size_t *members, size_t k, size_t a,
		      size_t p, double unit, struct cm_trend *t)
{
	double *x = NULL, *y = NULL;
	size_t n = slice_points(r, members, k, a, p, unit, &x, &y, &t->nlevels);
	t->slope.slope = t->slope.lo = t->slope.hi = t->elasticity.slope = NAN;
	t->elasticity.lo = t->elasticity.hi = NAN;
	t->linear = true;
	t->off_level = SIZE_MAX;
	if (t->nlevels >= 2 && !cm_stats_theil_sen(x, y, n, r->alpha, &t->slope)) {
		linearity(x, y, n, t->nlevels, r->alpha, t);
		t->linear_known = t->nlevels >= 3;
		if (t->linear_known && t->linear)
			levels_off_line(r, members, k, a, p, t);
		bool positive = true;
		for (size_t i = 0; i < n; i++) {
			positive &= x[i] > 0 && y[i] > 0;
			x[i] = log(x[i]), y[i] = log(y[i]);
		}
		if (!positive || cm_stats_theil_sen(x, y, n, r->alpha, &t->elasticity))
			t->elasticity.slope = t->elasticity.lo = t->elasticity.hi = NAN;
	}
	free(x), free(y);
}

/* The differences of slopes between the slices of one axis and phase. */
static void interactions(struct cm_report *r, size_t from, size_t to)
{
	for (size_t i = from; i < to; i++)
		for (size_t j = i + 1; j < to; j++) {
			const struct cm_trend *a = &r->trends[i], *b = &r->trends[j];
			if (a->phase != b->phase || !isfinite(a->slope.lo) || !isfinite(b->slope.lo))
				continue;
			/* each CI's half-width as a normal standard error, combined */
			double sa = (a->slope.hi - a->slope.lo) / (2 * Z95),
			       sb = (b->slope.hi - b->slope.lo) / (2 * Z95);
			double d = b->slope.slope - a->slope.slope, h = Z95 * sqrt(sa * sa + sb * sb);
			r->interactions = cm_xrealloc(r->interactions,
						      (r->ninteractions + 1) * sizeof(*r->interactions));
			r->interactions[r->ninteractions++] =
				(struct cm_interaction){ i, j, d, d - h, d + h };
		}
}

size_t cm_slices(const struct cm_dataset *ds, size_t a, size_t *slice, char ***held)
{
	struct cm_strset set = { 0 };
	size_t n = 0;
	*held = cm_xcalloc(ds->ncases + 1, sizeof(char *));
	for (size_t c = 0; c < ds->ncases; c++) {
		slice[c] = SIZE_MAX;
		if (!*ds->cases[c].labels[a] || cm_is_reference_case(ds->cases[c].id))
			continue; /* reference cases stand apart from the sweeps */
		char *h = cm_case_held_fixed(ds, c, a);
		long s = cm_strset_find(&set, h);
		if (s >= 0) {
			slice[c] = (size_t)s;
			free(h);
		} else {
			(*held)[n] = h;
			cm_strset_add(&set, h, (long)n);
			slice[c] = n++;
		}
	}
	cm_strset_free(&set);
	return n;
}

/* The trends of one numeric axis: every slice with 2+ cases, every phase. */
static void axis_trends(struct cm_report *r, size_t a, double unit, const char *uname)
{
	const struct cm_dataset *ds = r->ds;
	size_t *members = cm_xmalloc((ds->ncases + 1) * sizeof(size_t));
	const size_t *slice;
	char *const *held;
	size_t nslices = cm_report_slices(r, a, &slice, &held), first = r->ntrends;
	/* the cases bucketed by slice, in case order (cases are sorted: ascending along a) */
	size_t *start = cm_xcalloc(nslices + 2, sizeof(size_t));
	for (size_t c = 0; c < ds->ncases; c++)
		if (slice[c] != SIZE_MAX)
			start[slice[c] + 2]++;
	for (size_t s = 2; s < nslices + 2; s++)
		start[s] += start[s - 1];
	for (size_t c = 0; c < ds->ncases; c++)
		if (slice[c] != SIZE_MAX)
			members[start[slice[c] + 1]++] = c;
	for (size_t s = 0; s < nslices; s++) {
		size_t k = start[s + 1] - start[s];
		const size_t *mem = members + start[s];
		for (size_t p = 0; p < ds->nphases && k >= 2; p++) {
			r->trends = cm_xrealloc(r->trends, (r->ntrends + 1) * sizeof(*r->trends));
			struct cm_trend *t = &r->trends[r->ntrends];
			*t = (struct cm_trend){ .axis = a, .phase = p, .unit = unit, .unit_name = uname };
			/* a live report's slice whose cases did not change keeps its slopes */
			uint64_t sig;
			if (!cm_report_memo_get(r, CM_MEMO_TREND, a, s, p, mem, k, &sig, t, sizeof(*t))) {
				one_trend(r, mem, k, a, p, unit, t);
				cm_report_memo_put(r, CM_MEMO_TREND, a, s, p, sig, t, sizeof(*t));
			}
			t->held = NULL;
			if (t->nlevels >= 2 && isfinite(t->slope.slope))
				r->trends[r->ntrends++].held = cm_xstrdup(held[s]);
		}
	}
	if (nslices <= MAX_INTERACTION_SLICES) /* every pair: a handful of slices, not 10^4 */
		interactions(r, first, r->ntrends);
	free(members), free(start);
}

void cm_report_trends(struct cm_report *r)
{
	for (size_t a = 0; a < r->ds->naxes; a++) {
		double unit;
		const char *uname;
		if (numeric_axis(r, a, &unit, &uname))
			axis_trends(r, a, unit, uname);
	}
}

void cm_report_trends_free(struct cm_report *r)
{
	for (size_t i = 0; i < r->ntrends; i++)
		free(r->trends[i].held);
	free(r->trends);
	free(r->interactions);
}
