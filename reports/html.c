/* report.html: one self-contained page (inline SVG, no scripts fetched), per phase a strip
 * plot of every boot per case with the median and its CI, a phase breakdown of the medians,
 * and for a numeric axis (memory, smp) the median with its CI against the axis. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "coldmark/report.h"
#include "frags.h"
#include "html.h"
#include "tables.h"

#define esc cm_html_esc
#define palette cm_html_palette

void cm_html_esc(FILE *f, const char *s)
{
	for (;;) { /* the runs between special characters written whole (a report's header
		    * holds the matrix: a character at a time was a tenth of a rewrite) */
		size_t n = strcspn(s, "<>&\"");
		if (n)
			fwrite(s, 1, n, f);
		s += n;
		switch (*s) {
		case '<': fputs("&lt;", f); break;
		case '>': fputs("&gt;", f); break;
		case '&': fputs("&amp;", f); break;
		case '"': fputs("&quot;", f); break;
		default: return;
		}
		s++;
	}
}

const char *const cm_html_palette[10] = { "#4e79a7", "#f28e2b", "#e15759", "#76b7b2", "#59a14f",
				       "#edc948", "#b07aa1", "#ff9da7", "#9c755f", "#bab0ac" };

#define MAX_DOTS 1000 /* dots per case in a strip plot */

/* Four labelled ticks on a vertical axis that maps [lo, hi] to y0 (bottom) .. y0 - span. */
void cm_html_y_ticks(FILE *f, const char *phase, double x, double lo, double hi, double y0,
		    double span)
{
	for (int t = 0; t <= 3; t++) {
		double v = lo + (hi - lo) * t / 3;
		char lab[32];
		cm_format_value(phase, v, lab, sizeof(lab));
		fprintf(f, "<text x=\"%.0f\" y=\"%.1f\" font-size=\"10\" text-anchor=\"end\">%s</text>\n",
			x, y0 - (v - lo) / (hi - lo) * span + 3, lab);
	}
}

/* The strip plot's x axis: linear, or logarithmic when the cases span more than ten times
 * (a 100 ms TCG case beside a 3.5 s KVM case is otherwise a smudge at zero). */
struct x_axis {
	double lo, hi;
	bool log;
	const char *phase; /* its values' unit: ns, or bytes */
};

#define LOG_SPAN 10.0

static double x_of(const struct x_axis *a, double v)
{
	double t = a->log ? (log(v) - log(a->lo)) / (log(a->hi) - log(a->lo))
			  : (v - a->lo) / (a->hi - a->lo);
	return LEFT + t * (W - LEFT - 20);
}

static void x_ticks(FILE *f, const struct x_axis *a, int base)
{
	for (int t = 0; t <= 4; t++) {
		double v = a->log ? exp(log(a->lo) + (log(a->hi) - log(a->lo)) * t / 4)
				  : a->lo + (a->hi - a->lo) * t / 4;
		char lab[32];
		cm_format_value(a->phase, v, lab, sizeof(lab));
		fprintf(f, "<line x1=\"%.1f\" x2=\"%.1f\" y1=\"10\" y2=\"%d\" stroke=\"#ddd\"/>"
			   "<text class=\"tick\" x=\"%.1f\" y=\"%d\" font-size=\"10\" "
			   "text-anchor=\"middle\">%s</text>\n",
			x_of(a, v), x_of(a, v), base, x_of(a, v), base + 14, lab);
	}
	/* on a line of its own under the ticks: beside them it overprinted the last one */
	if (a->log)
		fprintf(f, "<text class=\"caption\" x=\"%d\" y=\"%d\" font-size=\"10\" "
			   "text-anchor=\"end\">log scale</text>\n",
			W - 20, base + 28);
}

/* A reference case off the real cases' axis: its median in words, at the row. */
static bool strip_off_axis(const struct cm_cell *cell, const struct x_axis *a, double y, FILE *f)
{
	if (!cell->s.n || (cell->s.min >= a->lo && cell->s.max <= a->hi))
		return false;
	char med[32];
	cm_format_value(a->phase, cell->s.median, med, sizeof(med));
	fprintf(f, "<text class=\"off-axis\" x=\"%d\" y=\"%.1f\" font-size=\"11\" fill=\"#555\">"
		   "median %s (n=%zu), off this axis: reference cases stand apart</text>\n",
		LEFT, y + 4, med, cell->s.n);
	return true;
}

static void strip_row(const struct cm_report *r, size_t c, size_t p, const struct x_axis *a,
		      double y, FILE *f)
{
	const struct cm_cell *cell = cm_report_cell(r, c, p);
	fprintf(f, "<text class=\"case\" x=\"%d\" y=\"%.1f\" font-size=\"11\" text-anchor=\"end\">",
		LEFT - 8, y + 4);
	esc(f, r->ds->cases[c].id);
	fputs("</text>\n", f);
	char why[64];
	if (cm_cell_unmeasurable(cell, why, sizeof(why)))
		fprintf(f, "<text x=\"%d\" y=\"%.1f\" font-size=\"11\" fill=\"#888\">%s</text>\n",
			LEFT, y + 4, why);
	if (strip_off_axis(cell, a, y, f))
		return;
	if (!isnan(cell->s.median_ci_lo))
		fprintf(f, "<rect x=\"%.1f\" y=\"%.1f\" width=\"%.1f\" height=\"14\" "
			   "fill=\"#4e79a7\" opacity=\"0.2\"><title>median CI</title></rect>\n",
			x_of(a, cell->s.median_ci_lo), y - 7,
			fmax(1, x_of(a, cell->s.median_ci_hi) - x_of(a, cell->s.median_ci_lo)));
	/* every boot up to MAX_DOTS; beyond, an even thinning (the page stays a page: 10^5
	 * boots drew 10^5 circles) */
	size_t step = cell->s.n > MAX_DOTS ? (cell->s.n + MAX_DOTS - 1) / MAX_DOTS : 1;
	for (size_t i = 0; i < cell->s.n; i += step)
		fprintf(f, "<circle cx=\"%.1f\" cy=\"%.1f\" r=\"3\" fill=\"%s\" opacity=\"0.6\">"
			   "<title>boot %d</title></circle>\n",
			x_of(a, cell->values[i]), y + ((double)(i % 5) - 2) * 1.5, palette[c % 10],
			cell->boots[i]);
	if (step > 1)
		fprintf(f, "<text x=\"%d\" y=\"%.1f\" font-size=\"9\" fill=\"#888\" "
			   "text-anchor=\"end\">every %zuth of %zu boots</text>\n",
			W - 20, y + 4, step, cell->s.n);
	if (cell->s.n)
		fprintf(f, "<line x1=\"%.1f\" x2=\"%.1f\" y1=\"%.1f\" y2=\"%.1f\" stroke=\"#000\" "
			   "stroke-width=\"2\"><title>median</title></line>\n",
			x_of(a, cell->s.median), x_of(a, cell->s.median), y - 8, y + 8);
}

struct strip_at {
	const struct x_axis *a;
	double y;
};

static void strip_frag(const struct cm_report *r, size_t c, size_t p, const void *arg, FILE *f)
{
	const struct strip_at *at = arg;
	strip_row(r, c, p, at->a, at->y, f);
}

/* The x range of the strip plot: the real cases' boots; the reference cases' only when there
 * is nothing else (a 50 ms reference beside 1 s cases forced a log axis that squashed them). */
static void strip_range(const struct cm_report *r, size_t p, bool refs, struct x_axis *a)
{
	const struct cm_dataset *ds = r->ds;
	for (size_t c = 0; c < ds->ncases; c++) {
		const struct cm_cell *cell = cm_report_cell(r, c, p);
		if (cm_is_reference_case(ds->cases[c].id) != refs)
			continue;
		if (cell->s.n) { /* its summary's extremes: the values' own */
			a->lo = fmin(a->lo, cell->s.min);
			a->hi = fmax(a->hi, cell->s.max);
		}
	}
}

static void strip_plot(const struct cm_report *r, size_t p, FILE *f)
{
	const struct cm_dataset *ds = r->ds;
	struct x_axis a = { INFINITY, -INFINITY, false, ds->phases[p] };
	strip_range(r, p, false, &a);
	if (!isfinite(a.lo))
		strip_range(r, p, true, &a);
	if (!isfinite(a.lo)) {
		fputs("<p>No successful boot for this phase.</p>\n", f);
		return;
	}
	a.log = a.lo > 0 && a.hi / a.lo > LOG_SPAN;
	if (a.log) {
		a.lo /= 1.1;
		a.hi *= 1.1;
	} else {
		double pad = (a.hi - a.lo) * 0.05 + 1;
		a.lo = fmax(0, a.lo - pad);
		a.hi += pad;
	}
	size_t rows = 0; /* a row per case that reports the phase: none for a reference's firmware */
	for (size_t c = 0; c < ds->ncases; c++)
		rows += cm_report_cell(r, c, p)->nrows > 0;
	int base = (int)rows * ROW + 12, h = base + (a.log ? 34 : 20);
	fprintf(f, "<svg class=\"plot strip%s\" viewBox=\"0 0 %d %d\" width=\"%d\" height=\"%d\" "
		   "role=\"img\">\n",
		a.log ? " log" : "", W, h, W, h);
	x_ticks(f, &a, base);
	for (size_t c = 0, row = 0; c < ds->ncases; c++)
		if (cm_report_cell(r, c, p)->nrows) {
			struct strip_at at = { &a, 20 + (double)row++ * ROW };
			double key[] = { a.lo, a.hi, a.log, at.y };
			cm_frag(r, CM_FRAG_HTML_STRIP, 0, c, p, key, 4, strip_frag, &at, f);
		}
	fputs("</svg>\n", f);
}

void cm_html_begin(FILE *f, const char *title)
{
	fputs("<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\n<title>", f);
	esc(f, title);
	fputs("</title>\n<style>body{font-family:sans-serif;margin:2em;"
	      "max-width:80em}table{border-collapse:collapse}td,th{border:1px solid #ccc;"
	      "padding:2px 8px;text-align:left}svg{display:block;margin:1em 0;width:100%;height:auto}</style>\n"
	      "</head><body>\n<h1>",
	      f);
	esc(f, title);
	fputs("</h1>\n", f);
}

void cm_html_end(FILE *f)
{
	fputs("</body></html>\n", f);
}

/* Median with its CI per run, in run order; steps marked red (regressed) or green. */
void cm_html_trend(FILE *f, const char *case_id, const char *phase,
		   const struct cm_trend_point *pts, size_t n)
{
	double lo = INFINITY, hi = -INFINITY;
	for (size_t i = 0; i < n; i++) {
		lo = fmin(lo, isnan(pts[i].lo) ? pts[i].median : pts[i].lo);
		hi = fmax(hi, isnan(pts[i].hi) ? pts[i].median : pts[i].hi);
	}
	fputs("<section class=\"trend\"><h2>", f);
	esc(f, case_id);
	fputs(" — <code>", f);
	esc(f, phase);
	fputs("</code></h2>\n", f);
	if (!n || !isfinite(lo)) {
		fputs("<p>No successful boot in any run.</p></section>\n", f);
		return;
	}
	double pad = (hi - lo) * 0.1 + 1;
	lo = fmax(0, lo - pad);
	hi += pad;
	int h = 240;
	fprintf(f, "<svg class=\"plot trend\" width=\"%d\" height=\"%d\" role=\"img\">\n", W, h);
#define TX(i) (70 + (n > 1 ? (double)(i) / (n - 1) : 0.5) * (W - 110))
#define TY(v) (h - 40 - ((v) - lo) / (hi - lo) * (h - 60))
	cm_html_y_ticks(f, phase, 62, lo, hi, h - 40, h - 60);
	for (size_t i = 0; i + 1 < n; i++)
		if (pts[i].n && pts[i + 1].n)
			fprintf(f, "<line x1=\"%.1f\" x2=\"%.1f\" y1=\"%.1f\" y2=\"%.1f\" stroke=\"#999\"/>\n",
				TX(i), TX(i + 1), TY(pts[i].median), TY(pts[i + 1].median));
	for (size_t i = 0; i < n; i++) {
		const struct cm_trend_point *p = &pts[i];
		if (p->note && i) { /* a change point: a dashed line between the sessions it splits */
			double x = (TX(i - 1) + TX(i)) / 2;
			fprintf(f, "<line x1=\"%.1f\" x2=\"%.1f\" y1=\"20\" y2=\"%d\" stroke=\"%s\" "
				   "stroke-dasharray=\"4 3\"/><text x=\"%.1f\" y=\"14\" font-size=\"11\" "
				   "text-anchor=\"middle\" class=\"change-point\">",
				x, x, h - 40, p->step > 0 ? "#e15759" : "#59a14f", x);
			esc(f, p->note);
			fputs("</text>\n", f);
		}
		if (p->n && !isnan(p->lo))
			fprintf(f, "<line x1=\"%.1f\" x2=\"%.1f\" y1=\"%.1f\" y2=\"%.1f\" stroke=\"#4e79a7\" "
				   "stroke-width=\"3\" opacity=\"0.4\"/>\n",
				TX(i), TX(i), TY(p->lo), TY(p->hi));
		if (p->n) {
			char med[32];
			cm_format_value(phase, p->median, med, sizeof(med));
			fprintf(f, "<circle cx=\"%.1f\" cy=\"%.1f\" r=\"5\" fill=\"%s\"><title>", TX(i),
				TY(p->median),
				p->step > 0 ? "#e15759" : p->step < 0 ? "#59a14f" : "#4e79a7");
			esc(f, p->label);
			fprintf(f, ": %s, n=%zu%s</title></circle>\n", med, p->n,
				p->step > 0 ? ", regressed" : p->step < 0 ? ", improved" : "");
		}
		fprintf(f, "<text x=\"%.1f\" y=\"%d\" font-size=\"10\" text-anchor=\"middle\">", TX(i),
			h - 15);
		esc(f, p->label);
		fputs("</text>\n", f);
	}
#undef TX
#undef TY
	fputs("</svg></section>\n", f);
}

/* With 2+ sessions: the noise within and between them, and the cheapest design for the target. */
static void html_session_row(const struct cm_sessions_row *sr, void *ctx)
{
	FILE *f = ctx;
	fputs("<tr><td>", f);
	esc(f, sr->case_id);
	fputs("</td><td>", f);
	esc(f, sr->phase);
	fprintf(f, "</td><td>%zu</td><td>%.2f%%</td><td>%.2f%%</td><td>%.2f</td><td>",
		sr->cell->vc.sessions, sqrt(sr->cell->vc.within) * 100,
		sqrt(sr->cell->vc.between) * 100, sr->cell->vc.icc);
	if (sr->advice)
		fprintf(f, "%d × %d%s", sr->dim.sessions, sr->dim.boots,
			sr->cell->s.ci_units ? " waves" : "");
	else
		fputs("—", f);
	fputs("</td></tr>\n", f);
}

static void html_sessions_case(const struct cm_report *r, size_t c, size_t p, const void *arg,
			       FILE *f)
{
	(void)p, (void)arg;
	cm_sessions_walk_case(r, c, html_session_row, f);
}

static void sessions_table(const struct cm_report *r, FILE *f)
{
	const struct cm_dataset *ds = r->ds;
	if (ds->nsessions < 2)
		return;
	fprintf(f, "<section class=\"sessions\"><h2>Sessions: where the noise is</h2>\n<p>%zu "
		   "sessions; sd of ln(time) within and between them, the intraclass correlation, "
		   "and the cheapest sessions × boots for a ±%g%% CI of a change between runs.</p>\n"
		   "<table><tr><th>case</th><th>phase</th><th>sessions</th><th>sd within</th>"
		   "<th>sd between</th><th>ICC</th><th>for ±%g%%</th></tr>\n",
		ds->nsessions, CM_ADVICE_TARGET * 100, CM_ADVICE_TARGET * 100);
	double k = (double)ds->nsessions; /* the advice's warm-up share reads it */
	for (size_t c = 0; c < ds->ncases; c++)
		cm_frag(r, CM_FRAG_HTML_SESSIONS, 0, c, 0, &k, 1, html_sessions_case, NULL, f);
	fputs("</table></section>\n", f);
}

/* Case c's rows of the summary table. */
static void summary_rows(const struct cm_report *r, size_t c, size_t unused, const void *arg,
			 FILE *f)
{
	(void)unused, (void)arg;
	const struct cm_dataset *ds = r->ds;
	for (size_t p = 0; p < ds->nphases; p++) {
		const struct cm_cell *cell = cm_report_cell(r, c, p);
		if (!cell->nrows)
			continue; /* a phase the case does not report (a reference's firmware) */
		char m[32], lo[32], hi[32];
		cm_format_value(ds->phases[p], cell->s.median, m, sizeof(m));
		cm_format_value(ds->phases[p], cell->s.median_ci_lo, lo, sizeof(lo));
		cm_format_value(ds->phases[p], cell->s.median_ci_hi, hi, sizeof(hi));
		fprintf(f, "<tr%s><td>", cm_is_reference_case(ds->cases[c].id) ?
					   " class=\"reference\"" : "");
		esc(f, ds->cases[c].id);
		fputs("</td><td>", f);
		esc(f, ds->phases[p]);
		char w[32] = "";
		if (cell->s.ci_units)
			snprintf(w, sizeof(w), " (%zu w)", cell->s.ci_units);
		if (cell->s.n)
			fprintf(f, "</td><td>%s</td><td>[%s, %s]%s</td><td>%zu</td></tr>\n", m,
				isnan(cell->s.median_ci_lo) ? "—" : lo,
				isnan(cell->s.median_ci_hi) ? "—" : hi, w, cell->s.n);
		else
			fprintf(f, "</td><td>—</td><td>—</td><td>0</td></tr>\n");
	}
}

/* The results first: every case x phase it measures, with median, CI and n. */
static void summary_table(const struct cm_report *r, FILE *f)
{
	const struct cm_dataset *ds = r->ds;
	fprintf(f, "<table class=\"summary\"><tr><th>case</th><th>phase</th><th>median</th>"
		   "<th>%.0f%% CI</th><th>n</th></tr>\n", (1 - r->alpha) * 100);
	for (size_t c = 0; c < ds->ncases; c++)
		cm_frag(r, CM_FRAG_HTML_SUMMARY, 0, c, 0, NULL, 0, summary_rows, NULL, f);
	fputs("</table>\n", f);
}

/* The significant sweep effects and every slope, one line each. */
static void effects_list(const struct cm_report *r, FILE *f)
{
	const struct cm_dataset *ds = r->ds;
	bool any = false;
	for (size_t i = 0; i < r->nsweeps; i++) {
		const struct cm_sweep *x = &r->sweeps[i];
		if (!(x->p_adj < r->alpha))
			continue;
		fputs(any ? "" : "<ul class=\"effects\">\n", f);
		any = true;
		char ratio[32];
		fputs("<li class=\"sweep-effect\"><code>", f);
		esc(f, ds->phases[x->phase]);
		fputs("</code> moves with ", f);
		esc(f, ds->axes[x->axis]);
		fprintf(f, " %s, p %.2g (Holm)", cm_sweep_ratio(x, ratio, sizeof(ratio)), x->p_adj);
		if (*x->held) {
			fputs(" at ", f);
			esc(f, x->held);
		}
		fputs("</li>\n", f);
	}
	for (size_t i = 0; i < r->ntrends; i++) {
		const struct cm_trend *t = &r->trends[i];
		fputs(any ? "" : "<ul class=\"effects\">\n", f);
		any = true;
		fputs("<li class=\"slope\"><code>", f);
		esc(f, ds->phases[t->phase]);
		fputs("</code> against ", f);
		esc(f, ds->axes[t->axis]);
		fputs(": ", f);
		cm_html_slope_text(r, t, f);
		if (*t->held) {
			fputs(" at ", f);
			esc(f, t->held);
		}
		fputs("</li>\n", f);
	}
	fputs(any ? "</ul>\n" : "", f);
}

/* The run header, folded: it filled the first screen before any number. */
static void run_header(const struct cm_report *r, size_t c, size_t p, const void *arg, FILE *f)
{
	(void)c, (void)p, (void)arg;
	const struct cm_dataset *ds = r->ds;
	if (!ds->nmeta)
		return;
	fprintf(f, "<details class=\"run\"><summary>The run (%zu items: host, qemu, plan, "
		   "markers)</summary>\n<table class=\"run\">\n", ds->nmeta);
	for (size_t i = 0; i < ds->nmeta; i++) {
		fputs("<tr><th>", f);
		esc(f, ds->meta_keys[i]);
		fputs("</th><td>", f);
		esc(f, ds->meta_vals[i]);
		fputs("</td></tr>\n", f);
	}
	fputs("</table></details>\n", f);
}

void cm_report_html(const struct cm_report *r, FILE *f)
{
	const struct cm_dataset *ds = r->ds;
	cm_html_begin(f, "coldmark report");
	summary_table(r, f);
	effects_list(r, f);
	for (size_t c = 0; c < ds->ncases; c++)
		if (cm_is_reference_case(ds->cases[c].id)) {
			fputs("<p class=\"reference-note\">Reference cases (the bundled guest, added by "
			      "<code>run.reference</code>) stand apart from every sweep and ranking.</p>\n",
			      f);
			break;
		}
	double key[2];
	cm_frag_meta_key(r, key);
	cm_frag(r, CM_FRAG_HTML_HEAD, 0, CM_FRAG_RUN, 0, key, 2, run_header, NULL, f);
	fprintf(f, "<p>Every counted boot is a dot; the black tick is the median, the band its "
		   "%.0f%% confidence interval.</p>\n",
		(1 - r->alpha) * 100);
	char unit[512];
	if (cm_ci_unit_text(r, unit, sizeof(unit))) {
		fputs("<p class=\"ci-unit\">", f);
		esc(f, unit);
		fputs("</p>\n", f);
	}
	for (size_t p = 0; p < ds->nphases; p++) {
		fputs("<section class=\"phase\"><h2>Phase <code>", f);
		esc(f, ds->phases[p]);
		fputs("</code></h2>\n", f);
		strip_plot(r, p, f);
		cm_html_sweep(r, p, f);
		fputs("</section>\n", f);
	}
	sessions_table(r, f);
	cm_html_breakdown(r, f);
	cm_profile_html(r, f); /* issue 28: where the time went */
	cm_waves_html(r, f); /* issue 29: K at a time */
	cm_html_end(f);
}
