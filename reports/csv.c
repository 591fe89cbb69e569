/* summary.csv: one line per case x phase, and the warning footnotes' texts. */
#include <math.h>
#include <stdio.h>

#include "coldmark/report.h"
#include "frags.h"

const char *cm_warning_text(unsigned bit)
{
	switch (bit) {
	case CM_WARN_FEW_BOOTS: return "too few boots for a median CI (6 or more at 95%)";
	case CM_WARN_HIGH_CV: return "coefficient of variation above 10%: a noisy host or guest";
	case CM_WARN_BIMODAL: return "two separated clusters of boot times (bimodal)";
	case CM_WARN_DRIFT: return "a trend over the run order (Mann-Kendall p < 0.01): the host drifted";
	case CM_WARN_FIRST_SLOW: return "the first counted boot is far slower than the rest: a missing warm-up or a cache not dropped";
	case CM_WARN_OUTLIERS: return "severe outliers (beyond 3 IQR): counted, not dropped";
	}
	return "";
}

/* ---- summary.csv ----------------------------------------------------------------------------- */

static void num(FILE *f, double v)
{
	if (isnan(v))
		fputc(',', f);
	else if (v == floor(v) && fabs(v) < 1e15)
		fprintf(f, ",%.0f", v);
	else
		fprintf(f, ",%.1f", v);
}

/* Case c's lines, every phase it reports. */
static void csv_case(const struct cm_report *r, size_t c, size_t unused, const void *arg, FILE *f)
{
	(void)unused, (void)arg;
	const struct cm_dataset *ds = r->ds;
	for (size_t p = 0; p < ds->nphases; p++) {
		const struct cm_cell *cell = cm_report_cell(r, c, p);
		const struct cm_summary *s = &cell->s;
		if (!cell->nrows)
			continue;
		cm_csv_field(f, ds->cases[c].id);
		fputc(',', f);
		cm_csv_field(f, ds->phases[p]);
		fprintf(f, ",%zu,%zu", s->n, cell->n_failed);
		double v[] = { s->mean, s->sd, s->mean_ci_lo, s->mean_ci_hi, s->median,
			       s->median_ci_lo, s->median_ci_hi, s->pct[0], s->pct[1],
			       s->pct[2], s->pct[3], s->pct[4], s->min, s->max, s->mad };
		for (size_t i = 0; i < sizeof(v) / sizeof(v[0]); i++)
			num(f, v[i]);
		fprintf(f, ",%zu,%s", s->n_outliers,
			cm_is_reference_case(ds->cases[c].id) ? "true" : "false");
		for (size_t a = 0; a < ds->naxes; a++) {
			fputc(',', f);
			cm_csv_field(f, ds->cases[c].labels[a]);
		}
		fputc('\n', f);
	}
}

void cm_report_summary_csv(const struct cm_report *r, FILE *f)
{
	const struct cm_dataset *ds = r->ds;
	fputs("case,phase,n,n_failed,mean_ns,sd_ns,mean_ci_lo_ns,mean_ci_hi_ns,median_ns,"
	      "median_ci_lo_ns,median_ci_hi_ns,p5_ns,p25_ns,p75_ns,p95_ns,p99_ns,min_ns,max_ns,"
	      "mad_ns,outliers,reference",
	      f);
	for (size_t a = 0; a < ds->naxes; a++) {
		fputc(',', f);
		cm_csv_field(f, ds->axes[a]);
	}
	fputc('\n', f);
	for (size_t c = 0; c < ds->ncases; c++)
		cm_frag(r, CM_FRAG_CSV, 0, c, 0, NULL, 0, csv_case, NULL, f);
}

/* ---- Markdown -------------------------------------------------------------------------------- */

/* One unit per phase, chosen from its smallest median: ms when >= 1 ms, else µs. */
