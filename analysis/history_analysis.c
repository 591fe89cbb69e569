/* The history model (see coldmark/compare.h): per case the sessions' medians of one phase in
 * time order, and the change points of that series; rendered as text and as a trend page. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "coldmark/analysis.h"

/* The points of one run's sessions: each session's boots of the cell summarised alone. */
static void run_points(const struct cm_dataset *ds, const struct cm_cell *cell, size_t run,
		       const char *label, const char *id, struct cm_hist_series *se)
{
	double *v = cm_xmalloc((cell->s.n + 1) * sizeof(double));
	int *w = cm_xmalloc((cell->s.n + 1) * sizeof(int)), *ses = cm_xmalloc((cell->s.n + 1) * sizeof(int));
	/* the cell's values by session, each session's in the cell's order, by one counting sort
	 * (a pass over the cell per session was sessions x boots: a run of 10^4 sessions) */
	size_t ns = ds->nsessions, *from = cm_xcalloc(ns + 2, sizeof(size_t)),
	       *at = cm_xmalloc((cell->s.n + 1) * sizeof(size_t));
	for (size_t i = 0; i < cell->s.n; i++)
		if (cell->sessions[i] >= 1 && (size_t)cell->sessions[i] <= ns)
			from[cell->sessions[i] + 1]++; /* session q = sessions[i] - 1 at from[q + 2] */
	for (size_t q = 0; q < ns; q++)
		from[q + 2] += from[q + 1];
	for (size_t i = 0; i < cell->s.n; i++)
		if (cell->sessions[i] >= 1 && (size_t)cell->sessions[i] <= ns)
			at[from[cell->sessions[i]]++] = i; /* from[q + 1] ends as session q's end */
	for (size_t s = 0; s < ns; s++) {
		size_t m = 0;
		for (size_t k = from[s]; k < from[s + 1]; k++) {
			size_t i = at[k];
			w[m] = cell->waves ? cell->waves[i] : 0, ses[m] = (int)s + 1;
			v[m++] = cell->values[i];
		}
		if (!m && ds->nsessions > 1)
			continue;
		struct cm_summary sum;
		cm_stats_summarize(v, m, CM_DEFAULT_ALPHA, &sum);
		/* a run in waves: the point's CI over its waves, as the run's own report has it */
		cm_stats_wave_ci(v, ses, cell->waves ? w : NULL, m, CM_DEFAULT_ALPHA, &sum, NULL);
		struct cm_hist_point *p = &se->pts[se->n++];
		*p = (struct cm_hist_point){
			ds->nsessions > 1 ? cm_xasprintf("%s#%s", label, ds->sessions[s].id)
					  : cm_xstrdup(label),
			id, run, { NULL, sum.median, sum.median_ci_lo, sum.median_ci_hi, m, 0, NULL }, NAN,
		};
		p->pt.label = p->label;
		cm_summary_free(&sum);
	}
	free(v), free(w), free(ses), free(from), free(at);
}

/* The reference's points by label: the first with each label, and after each the next with
 * its label (a scan of every reference point per point was points x points a change) */
struct ref_index {
	struct cm_strset first;
	size_t *next; /* SIZE_MAX: none */
};

static void ref_index_make(const struct cm_hist_series *ref, struct ref_index *x)
{
	memset(x, 0, sizeof(*x));
	x->next = cm_xmalloc((ref->n + 1) * sizeof(size_t));
	size_t *last = cm_xmalloc((ref->n + 1) * sizeof(size_t));
	for (size_t k = 0; k < ref->n; k++) {
		long f = cm_strset_add(&x->first, ref->pts[k].label, (long)k);
		x->next[k] = SIZE_MAX;
		if (f >= 0) /* the label's chain so far ends at last[f] */
			x->next[last[f]] = k, last[f] = k;
		else
			last[k] = k;
	}
	free(last);
}

/* The mean ln median over the reference's points of the same run and label as se's points
 * [from, to): the same sessions (a label alone is a tag's: the runs of a tag given to every
 * nightly share it, and their references' points were all averaged in). NAN when the
 * reference has none of them. The sum in the order of a scan of the reference per point. */
static double ref_level(const struct cm_hist_series *ref, const struct ref_index *x,
			const struct cm_hist_series *se, size_t from, size_t to)
{
	double sum = 0;
	size_t n = 0;
	for (size_t i = from; i < to; i++) {
		long f = cm_strset_find(&x->first, se->pts[i].label);
		for (size_t k = f >= 0 ? (size_t)f : SIZE_MAX; k != SIZE_MAX; k = x->next[k])
			if (ref->pts[k].pt.n && ref->pts[k].run == se->pts[i].run) {
				sum += log(ref->pts[k].pt.median);
				n++;
			}
	}
	return n ? sum / (double)n : NAN;
}

/* The reference's change across the same sessions as change c of se (between the segments
 * on either side of it). */
static double reference_change(const struct cm_hist_series *ref, const struct ref_index *x,
			       const struct cm_hist_series *se, size_t from, size_t at, size_t to)
{
	if (!ref)
		return NAN;
	return expm1(ref_level(ref, x, se, at, to) - ref_level(ref, x, se, from, at));
}

/* Change points of the series (ln of the session medians), with what changed at each. */
static void changes(const struct cm_dataset *runs, const struct cm_hist_series *ref,
		    const struct cm_judge *j, struct cm_hist_series *se)
{
	double *x = cm_xmalloc((se->n + 1) * sizeof(double));
	size_t *map = cm_xmalloc((se->n + 1) * sizeof(size_t)), k = 0;
	for (size_t i = 0; i < se->n; i++)
		if (se->pts[i].pt.n && se->pts[i].pt.median > 0)
			map[k] = i, x[k++] = log(se->pts[i].pt.median);
	struct cm_change ch[32];
	size_t nc = cm_stats_change_points(x, k, j->alpha, j->thr, 1, ch, 32);
	struct ref_index rx = { 0 };
	if (ref && nc)
		ref_index_make(ref, &rx);
	se->changes = cm_xcalloc(nc + 1, sizeof(*se->changes));
	for (size_t c = 0; c < nc; c++) {
		const struct cm_hist_point *before = &se->pts[map[ch[c].at - 1]];
		struct cm_hist_point *after = &se->pts[map[ch[c].at]];
		if (j->min_ns > 0 && fabs(ch[c].rel) * before->pt.median < j->min_ns)
			continue; /* a step the marker source cannot resolve is not a change */
		char **d = NULL;
		size_t nd = before->run == after->run ? 0
			    : cm_header_diffs(&runs[before->run], &runs[after->run], &d);
		struct cm_buf b = { 0 };
		for (size_t i = 0; i < nd; i++) {
			cm_buf_printf(&b, "%s%s", i ? "; " : "", d[i]);
			free(d[i]);
		}
		free(d);
		se->changes[se->nchanges++] = (struct cm_hist_change){
			map[ch[c].at], ch[c].rel, ch[c].lo, ch[c].hi, ch[c].p,
			b.s ? b.s : cm_xstrdup(""),
			reference_change(ref, &rx, se, c ? map[ch[c - 1].at] : 0, map[ch[c].at],
					 c + 1 < nc ? map[ch[c + 1].at] : se->n),
		};
		after->pt.step = ch[c].rel > 0 ? 1 : -1;
		after->step_rel = ch[c].rel;
	}
	cm_strset_free(&rx.first);
	free(rx.next);
	free(x), free(map);
}

/* Every session's point of se's case in one phase, run after run. */
static void points(const struct cm_dataset *runs, const struct cm_report *rp, size_t nruns,
		   char *const *labels, char *const *ids, const char *phase, size_t npoints,
		   struct cm_hist_series *se)
{
	se->pts = cm_xcalloc(npoints + 1, sizeof(*se->pts));
	for (size_t i = 0; i < nruns; i++) {
		size_t ci = cm_dataset_case_index(&runs[i], se->case_id),
		       pi = cm_dataset_find_phase(&runs[i], phase);
		if (ci < runs[i].ncases && pi < runs[i].nphases)
			run_points(&runs[i], cm_report_cell(&rp[i], ci, pi), i, labels[i], ids[i], se);
	}
}

static void series_free(struct cm_hist_series *se)
{
	for (size_t i = 0; i < se->n; i++)
		free(se->pts[i].label);
	for (size_t c = 0; c < se->nchanges; c++)
		free(se->changes[c].changed);
	free(se->case_id);
	free(se->pts);
	free(se->changes);
}

int cm_history_build(const struct cm_dataset *runs, char *const *labels, char *const *ids,
		     size_t nruns, const char *case_filter, const char *phase,
		     const struct cm_judge *j, struct cm_history *out)
{
	memset(out, 0, sizeof(*out));
	out->phase = phase;
	out->judge = *j;
	struct cm_report *rp = cm_xcalloc(nruns + 1, sizeof(*rp));
	size_t npoints = 0;
	for (size_t i = 0; i < nruns; i++) {
		cm_report_build_cells(&runs[i], j->alpha, &rp[i]);
		npoints += runs[i].nsessions + 1;
	}
	/* cases in the order they first appear */
	struct cm_dataset all;
	cm_dataset_init(&all, NULL, 0);
	for (size_t i = 0; i < nruns; i++)
		for (size_t c = 0; c < runs[i].ncases; c++)
			if (!case_filter || !strcmp(case_filter, runs[i].cases[c].id))
				cm_dataset_case(&all, runs[i].cases[c].id, NULL);
	out->series = cm_xcalloc(all.ncases + 1, sizeof(*out->series));
	size_t **refs = cm_xcalloc(nruns + 1, sizeof(*refs)); /* per run, made when first needed */
	for (size_t c = 0; c < all.ncases; c++) {
		struct cm_hist_series *se = &out->series[out->n++];
		se->case_id = cm_xstrdup(all.cases[c].id);
		points(runs, rp, nruns, labels, ids, phase, npoints, se);
		/* the reference beside it: its total, in the same sessions */
		struct cm_hist_series ref = { 0 };
		for (size_t i = 0; i < nruns && !ref.case_id; i++) {
			size_t ci = cm_dataset_case_index(&runs[i], se->case_id), r;
			if (ci < runs[i].ncases && !refs[i])
				refs[i] = cm_reference_map(&runs[i]);
			if (ci < runs[i].ncases && (r = refs[i][ci]) < runs[i].ncases)
				ref.case_id = cm_xstrdup(runs[i].cases[r].id);
		}
		if (ref.case_id)
			points(runs, rp, nruns, labels, ids, "total", npoints, &ref);
		changes(runs, ref.case_id ? &ref : NULL, j, se);
		series_free(&ref);
	}
	for (size_t i = 0; i < nruns; i++)
		cm_report_free(&rp[i]), free(refs[i]);
	free(rp), free(refs);
	cm_dataset_free(&all);
	return out->n ? 0 : -1;
}

void cm_history_free(struct cm_history *h)
{
	for (size_t s = 0; s < h->n; s++)
		series_free(&h->series[s]);
	free(h->series);
	memset(h, 0, sizeof(*h));
}
