/* The history model (see coldmark/compare.h): per case the runs' medians of one phase and
 * the significant steps between consecutive runs; rendered as text and as a trend page. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "coldmark/compare.h"

/* The step from the previous run with a value: significant by the comparison's rules? */
static void step(const struct cm_cell *prev, const struct cm_cell *cell,
		 const struct cm_judge *j, struct cm_hist_point *p)
{
	struct cm_comparison x;
	cm_stats_compare(prev->values, prev->s.n, cell->values, cell->s.n, j->alpha, &x);
	cm_stats_holm_verdicts(&x, 1, j->alpha, j->thr, j->min_ns);
	p->pt.step = x.verdict == CM_REGRESSED ? 1 : x.verdict == CM_IMPROVED ? -1 : 0;
	p->step_rel = x.rel;
}

static void one_series(const struct cm_report *rp, char *const *labels, char *const *ids,
		       size_t nruns, const char *phase, const struct cm_judge *j,
		       struct cm_hist_series *se)
{
	se->pts = cm_xcalloc(nruns + 1, sizeof(*se->pts));
	const struct cm_cell *prev = NULL;
	for (size_t i = 0; i < nruns; i++) {
		const struct cm_dataset *ds = rp[i].ds;
		size_t ci = cm_dataset_case_index(ds, se->case_id),
		       pi = cm_dataset_find_phase(ds, phase);
		if (ci == ds->ncases || pi == ds->nphases)
			continue;
		const struct cm_cell *cell = cm_report_cell(&rp[i], ci, pi);
		struct cm_hist_point *p = &se->pts[se->n++];
		*p = (struct cm_hist_point){ labels[i], ids[i],
					     { labels[i], cell->s.median, cell->s.median_ci_lo,
					       cell->s.median_ci_hi, cell->s.n, 0 },
					     NAN };
		if (prev && prev->s.n && cell->s.n)
			step(prev, cell, j, p);
		if (cell->s.n)
			prev = cell;
	}
}

int cm_history_build(const struct cm_dataset *runs, char *const *labels, char *const *ids,
		     size_t nruns, const char *case_filter, const char *phase,
		     const struct cm_judge *j, struct cm_history *out)
{
	memset(out, 0, sizeof(*out));
	out->phase = phase;
	struct cm_report *rp = cm_xcalloc(nruns + 1, sizeof(*rp));
	for (size_t i = 0; i < nruns; i++)
		cm_report_build(&runs[i], j->alpha, &rp[i]);
	/* cases in the order they first appear */
	struct cm_dataset all;
	cm_dataset_init(&all, NULL, 0);
	for (size_t i = 0; i < nruns; i++)
		for (size_t c = 0; c < runs[i].ncases; c++)
			if (!case_filter || !strcmp(case_filter, runs[i].cases[c].id))
				cm_dataset_case(&all, runs[i].cases[c].id, NULL);
	out->series = cm_xcalloc(all.ncases + 1, sizeof(*out->series));
	for (size_t c = 0; c < all.ncases; c++) {
		struct cm_hist_series *se = &out->series[out->n++];
		se->case_id = cm_xstrdup(all.cases[c].id);
		one_series(rp, labels, ids, nruns, phase, j, se);
	}
	for (size_t i = 0; i < nruns; i++)
		cm_report_free(&rp[i]);
	free(rp);
	cm_dataset_free(&all);
	return out->n ? 0 : -1;
}

void cm_history_text(const struct cm_history *h, FILE *f)
{
	for (size_t s = 0; s < h->n; s++) {
		const struct cm_hist_series *se = &h->series[s];
		fprintf(f, "%s — phase %s\n", se->case_id, h->phase);
		for (size_t i = 0; i < se->n; i++) {
			const struct cm_hist_point *p = &se->pts[i];
			char med[32], lo[32], hi[32], st[64] = "";
			cm_format_ns(p->pt.median, med, sizeof(med));
			cm_format_ns(p->pt.lo, lo, sizeof(lo));
			cm_format_ns(p->pt.hi, hi, sizeof(hi));
			if (p->pt.step)
				snprintf(st, sizeof(st), "  %s %+.1f%% (%s)", p->pt.step > 0 ? "▲" : "▼",
					 p->step_rel * 100, p->pt.step > 0 ? "regressed" : "improved");
			fprintf(f, "  %-16s %-30s %10s  CI [%s, %s]  n=%zu%s\n", p->label, p->run_id, med,
				lo, hi, p->pt.n, st);
		}
	}
}

void cm_history_html(const struct cm_history *h, FILE *f)
{
	cm_html_begin(f, "coldmark history");
	for (size_t s = 0; s < h->n; s++) {
		const struct cm_hist_series *se = &h->series[s];
		struct cm_trend_point *pts = cm_xcalloc(se->n + 1, sizeof(*pts));
		for (size_t i = 0; i < se->n; i++)
			pts[i] = se->pts[i].pt;
		cm_html_trend(f, se->case_id, h->phase, pts, se->n);
		free(pts);
	}
	cm_html_end(f);
}

void cm_history_free(struct cm_history *h)
{
	for (size_t s = 0; s < h->n; s++) {
		free(h->series[s].case_id);
		free(h->series[s].pts);
	}
	free(h->series);
	memset(h, 0, sizeof(*h));
}
