/* The history as text and as a trend page. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "coldmark/report.h"

/* "+10.2% [+6.1%, +14.5%], p 0.005" */
static void change_text(const struct cm_hist_change *c, char *out, size_t n)
{
	snprintf(out, n, "%+.1f%% [%+.1f%%, %+.1f%%], p %.3g", c->rel * 100, c->lo * 100,
		 c->hi * 100, c->p);
}

void cm_history_text(const struct cm_history *h, FILE *f)
{
	for (size_t s = 0; s < h->n; s++) {
		const struct cm_hist_series *se = &h->series[s];
		fprintf(f, "%s — phase %s (one line per session)\n", se->case_id, h->phase);
		for (size_t i = 0; i < se->n; i++) {
			const struct cm_hist_point *p = &se->pts[i];
			char med[32], lo[32], hi[32], st[64] = "";
			cm_format_value(h->phase, p->pt.median, med, sizeof(med));
			cm_format_value(h->phase, p->pt.lo, lo, sizeof(lo));
			cm_format_value(h->phase, p->pt.hi, hi, sizeof(hi));
			if (p->pt.step)
				snprintf(st, sizeof(st), "  %s change point: %+.1f%%",
					 p->pt.step > 0 ? "▲" : "▼", p->step_rel * 100);
			fprintf(f, "  %-20s %-30s %10s  CI [%s, %s]  n=%zu%s\n", p->label, p->run_id, med,
				lo, hi, p->pt.n, st);
		}
		if (!se->nchanges)
			fprintf(f, "  no change point (permutation p < %g, steps of %g%% at least)\n",
				h->judge.alpha, h->judge.thr * 100);
		for (size_t c = 0; c < se->nchanges; c++) {
			const struct cm_hist_change *x = &se->changes[c];
			char t[96];
			change_text(x, t, sizeof(t));
			fprintf(f, "  change point before %s: %s\n", se->pts[x->at].label, t);
			if (isfinite(x->ref_rel))
				fprintf(f, "    the reference case moved %+.1f%% across the same sessions%s\n",
					x->ref_rel * 100, fabs(x->ref_rel) >= fabs(x->rel) / 2
						? ": the host changed too, suspect it first" : "");
			fprintf(f, "    what changed: %s\n", *x->changed ? x->changed
					: "nothing in the header (the same run, or runs alike)");
		}
	}
}

void cm_history_html(const struct cm_history *h, FILE *f)
{
	cm_html_begin(f, "coldmark history");
	for (size_t s = 0; s < h->n; s++) {
		const struct cm_hist_series *se = &h->series[s];
		struct cm_trend_point *pts = cm_xcalloc(se->n + 1, sizeof(*pts));
		char (*notes)[96] = cm_xcalloc(se->nchanges + 1, sizeof(*notes));
		for (size_t i = 0; i < se->n; i++)
			pts[i] = se->pts[i].pt;
		for (size_t c = 0; c < se->nchanges; c++) {
			change_text(&se->changes[c], notes[c], sizeof(notes[c]));
			pts[se->changes[c].at].note = notes[c];
		}
		cm_html_trend(f, se->case_id, h->phase, pts, se->n);
		free(pts);
		free(notes);
	}
	cm_html_end(f);
}
