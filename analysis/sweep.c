/* Sweep effects: does boot time move with one axis of the matrix? Jonckheere-Terpstra across
 * the ordered values of a numeric axis, Kruskal-Wallis across an unordered one (Mann-Whitney,
 * exact when it can be, for two values), the other axes held fixed (one test per slice, so that an accelerator
 * axis does not masquerade as a memory effect), Holm-adjusted over every test of the report. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "live.h"

#include "coldmark/analysis.h"

char *cm_case_held_fixed(const struct cm_dataset *ds, size_t c, size_t a)
{
	struct cm_buf b = { 0 };
	for (size_t x = 0; x < ds->naxes; x++)
		if (x != a)
			cm_buf_printf(&b, "%s%s=%s", b.len ? "," : "", ds->axes[x],
				      ds->cases[c].labels[x]);
	return b.s ? cm_buf_steal(&b) : cm_xstrdup("");
}

/* One slice's test of one phase (s->axis, s->phase set): its groups, p, ratio, extremes. */
static void sweep_test(const struct cm_report *r, const size_t *members, size_t k, bool numeric,
		       const double **groups, size_t *sizes, struct cm_sweep *s)
{
	size_t p = s->phase, g = 0, lo = 0, hi = 0;
	for (size_t i = 0; i < k; i++) {
		const struct cm_cell *cell = cm_report_cell(r, members[i], p);
		if (cell->s.n < 2)
			continue;
		if (!g || cell->s.median < cm_report_cell(r, lo, p)->s.median)
			lo = members[i];
		if (!g || cell->s.median > cm_report_cell(r, hi, p)->s.median)
			hi = members[i];
		/* in a run in waves the waves are the replicates (the boots of one are not) */
		groups[g] = cell->units ? cell->units : cell->values;
		sizes[g++] = cell->units ? cell->s.ci_units : cell->s.n;
	}
	s->ngroups = g, s->p = s->p_adj = s->ratio = NAN, s->fastest = lo, s->slowest = hi;
	if (g < 2)
		return; /* too few boots to say: shown as such */
	/* two values: Kruskal-Wallis is the Mann-Whitney test, whose exact distribution (6 boots
	 * a side: p down to 0.0022, where the chi-square approximation stops at 0.0039)
	 * survives a Holm family of ~20 */
	struct cm_mwu u;
	if (g == 2 && !cm_stats_mann_whitney(groups[0], sizes[0], groups[1], sizes[1], &u))
		s->p = u.p;
	else if ((s->ordered = numeric)) /* the order of the levels counts */
		s->p = cm_stats_jonckheere(groups, sizes, g, NULL);
	else
		s->p = cm_stats_kruskal_wallis(groups, sizes, g);
	double fast = cm_report_cell(r, lo, p)->s.median;
	s->ratio = fast > 0 ? cm_report_cell(r, hi, p)->s.median / fast : NAN;
}

int cm_report_sweeps(const struct cm_report *r, struct cm_sweep **out, size_t *nout)
{
	const struct cm_dataset *ds = r->ds;
	struct cm_sweep *v = NULL;
	size_t n = 0;
	size_t *members = cm_xmalloc((ds->ncases ? ds->ncases : 1) * sizeof(size_t));
	const double **groups = cm_xmalloc((ds->ncases ? ds->ncases : 1) * sizeof(double *));
	size_t *sizes = cm_xmalloc((ds->ncases ? ds->ncases : 1) * sizeof(size_t));
	bool *numeric = cm_xcalloc(ds->naxes + 1, sizeof(bool));
	for (size_t a = 0; a < ds->naxes; a++) {
		numeric[a] = true; /* every label a number or a size: a numeric axis, ordered */
		for (size_t c = 0; c < ds->ncases; c++) {
			double v;
			numeric[a] &= !*ds->cases[c].labels[a] || cm_report_label_value(r, c, a, &v);
		}
	}
	/* reference cases stand apart from the sweeps (cm_slices leaves them out) */
	for (size_t a = 0; a < ds->naxes; a++) {
		/* the slices (the cases sharing the other axes' values), by their first case: a
		 * hash of the held values, where a scan of the cases before each was quadratic */
		const size_t *slice;
		char *const *heldv;
		size_t ns = cm_report_slices(r, a, &slice, &heldv);
		size_t *start = cm_xcalloc(ns + 2, sizeof(size_t));
		for (size_t c = 0; c < ds->ncases; c++)
			if (slice[c] != SIZE_MAX)
				start[slice[c] + 2]++;
		for (size_t s = 2; s < ns + 2; s++)
			start[s] += start[s - 1];
		size_t *all = cm_xmalloc((ds->ncases ? ds->ncases : 1) * sizeof(size_t));
		for (size_t c = 0; c < ds->ncases; c++)
			if (slice[c] != SIZE_MAX)
				all[start[slice[c] + 1]++] = c;
		for (size_t sl = 0; sl < ns; sl++) {
			size_t k = start[sl + 1] - start[sl];
			if (k < 2)
				continue; /* the axis does not vary here */
			memcpy(members, all + start[sl], k * sizeof(size_t));
			for (size_t p = 0; p < ds->nphases; p++) {
				v = cm_xrealloc(v, (n + 1) * sizeof(*v));
				struct cm_sweep *s = &v[n++];
				*s = (struct cm_sweep){ .axis = a, .phase = p, .held = cm_xstrdup(heldv[sl]) };
				/* a live report's slice whose cases did not change keeps its test */
				uint64_t sig;
				char *held = s->held;
				bool kept = cm_report_memo_get(r, CM_MEMO_SWEEP, a, sl, p, members, k,
							       &sig, s, sizeof(*s));
				s->held = held;
				if (kept)
					continue;
				sweep_test(r, members, k, numeric[a], groups, sizes, s);
				cm_report_memo_put(r, CM_MEMO_SWEEP, a, sl, p, sig, s, sizeof(*s));
			}
		}
		free(start), free(all);
	}
	double *p = cm_xmalloc((n ? n : 1) * sizeof(double)), *adj = cm_xmalloc((n ? n : 1) * sizeof(double));
	for (size_t i = 0; i < n; i++)
		p[i] = v[i].p;
	cm_stats_holm(p, n, adj);
	for (size_t i = 0; i < n; i++)
		v[i].p_adj = adj[i];
	free(p), free(adj), free(sizes), free(groups), free(members), free(numeric);
	*out = v;
	*nout = n;
	return 0;
}

const char *cm_sweep_ratio(const struct cm_sweep *s, char *out, size_t n)
{
	/* 3 significant digits, but never "1.86e+03" in a table */
	snprintf(out, n, s->ratio >= 1000 ? "×%.0f" : "×%.3g", s->ratio);
	return out;
}

void cm_sweeps_free(struct cm_sweep *s, size_t n)
{
	for (size_t i = 0; i < n; i++)
		free(s[i].held);
	free(s);
}
