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
static void y_ticks(FILE *f, const char *phase, double x, double lo, double hi, double y0,
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

/* The sweep plot's scales: x over [lo, hi] (logarithmic for geometric ranges), y in ns. */
struct scale {
	double lo, hi, ylo, yhi;
	int h;
	bool logx;
};

static double sx(const struct scale *s, double v)
{
	return 60 + (s->logx ? log(v / s->lo) / log(s->hi / s->lo) : (v - s->lo) / (s->hi - s->lo)) *
			    (W - 90);
}

/* y as the marks have it: unclipped */
static double sy_raw(const struct scale *s, double v)
{
	return s->h - 40 - (v - s->ylo) / (s->yhi - s->ylo) * (s->h - 60);
}

static double sy(const struct scale *s, double v)
{
	double y = s->h - 40 - (v - s->ylo) / (s->yhi - s->ylo) * (s->h - 60);
	return fmin(s->h - 40, fmax(10, y)); /* a band may leave the plot: clip it to the axes */
}

/* The slice's Theil-Sen line, and its band (the CI's slopes through the line's middle). */
static void fitted_line(const struct cm_report *r, size_t a, size_t p, const char *held,
			const struct scale *s, const char *colour, FILE *f)
{
	const struct cm_trend *t = NULL;
	for (size_t i = 0; i < r->ntrends && !t; i++)
		if (r->trends[i].axis == a && r->trends[i].phase == p && !strcmp(r->trends[i].held, held))
			t = &r->trends[i];
	if (!t)
		return;
	enum { STEPS = 24 };
	double xmid = s->logx ? sqrt(s->lo * s->hi) : (s->lo + s->hi) / 2;
	double ymid = t->slope.intercept + t->slope.slope * xmid / t->unit;
	struct cm_buf line = { 0 }, band = { 0 };
	for (int k = 0; k <= 2 * STEPS + 1; k++) {
		int i = k <= STEPS ? k : 2 * STEPS + 1 - k; /* out along one edge, back along the other */
		double x = s->logx ? s->lo * pow(s->hi / s->lo, (double)i / STEPS)
				   : s->lo + (s->hi - s->lo) * i / STEPS;
		double du = (x - xmid) / t->unit, edge = k <= STEPS ? t->slope.lo : t->slope.hi;
		if (k <= STEPS)
			cm_buf_printf(&line, "%.1f,%.1f ", sx(s, x), sy(s, ymid + t->slope.slope * du));
		if (isfinite(edge))
			cm_buf_printf(&band, "%.1f,%.1f ", sx(s, x), sy(s, ymid + edge * du));
	}
	if (band.s && isfinite(t->slope.lo))
		fprintf(f, "<polygon class=\"band\" points=\"%s\" fill=\"%s\" fill-opacity=\"0.12\"/>\n",
			band.s, colour);
	char lab[64];
	fprintf(f, "<polyline class=\"fit\" points=\"%s\" fill=\"none\" stroke=\"%s\" "
		   "stroke-dasharray=\"4 3\"><title>Theil–Sen: %s</title></polyline>\n",
		line.s, colour,
		cm_format_slope(r->ds->phases[t->phase], t->slope.slope, t->unit_name, lab, sizeof(lab)));
	cm_buf_free(&line);
	cm_buf_free(&band);
}

/* "+63.0 ms per GiB [+22.0 ms, +110 ms]; linear: no (512M off the line)" */
static void slope_text(const struct cm_report *r, const struct cm_trend *t, FILE *f)
{
	char a[64], b[64], c[64];
	const char *ph = r->ds->phases[t->phase];
	cm_format_slope(ph, t->slope.slope, t->unit_name, a, sizeof(a));
	fputs(a, f);
	if (isfinite(t->slope.lo)) {
		cm_format_slope(ph, t->slope.lo, t->unit_name, b, sizeof(b));
		cm_format_slope(ph, t->slope.hi, t->unit_name, c, sizeof(c));
		*strstr(b, " per ") = 0, *strstr(c, " per ") = 0;
		fprintf(f, " [%s, %s]", b, c);
	}
	if (!t->linear_known)
		fputs("; linear? too few levels to tell", f);
	else if (t->linear)
		fputs("; linear: yes", f);
	else if (t->off_level == SIZE_MAX)
		fputs("; linear: no (the halves' slopes differ)", f);
	else {
		fputs("; linear: no (", f);
		esc(f, r->ds->cases[t->off_level].labels[t->axis]);
		fputs(" off the line)", f);
	}
}

static const struct cm_trend *find_trend(const struct cm_report *r, size_t a, size_t p,
					 const char *held)
{
	for (size_t i = 0; i < r->ntrends; i++)
		if (r->trends[i].axis == a && r->trends[i].phase == p && !strcmp(r->trends[i].held, held))
			return &r->trends[i];
	return NULL;
}

/* Under the sweep plot: what each mark is. */
static void sweep_legend(const struct cm_report *r, int h, FILE *f)
{
	int y = h - 8;
	fprintf(f, "<g class=\"legend\"><line x1=\"60\" x2=\"80\" y1=\"%d\" y2=\"%d\" "
		   "stroke=\"#555\"/><circle cx=\"70\" cy=\"%d\" r=\"3\" fill=\"#555\"/>"
		   "<text x=\"86\" y=\"%d\" font-size=\"10\">median, bar: its %.0f%% CI</text>\n"
		   "<line x1=\"270\" x2=\"290\" y1=\"%d\" y2=\"%d\" stroke=\"#555\" "
		   "stroke-dasharray=\"4 3\"/><text x=\"296\" y=\"%d\" font-size=\"10\">"
		   "Theil–Sen line</text>\n<rect x=\"420\" y=\"%d\" width=\"20\" height=\"8\" "
		   "fill=\"#555\" fill-opacity=\"0.15\"/><text x=\"446\" y=\"%d\" "
		   "font-size=\"10\">band: the slope's %.0f%% CI</text></g>\n",
		y - 3, y - 3, y - 3, y, (1 - r->alpha) * 100, y - 3, y - 3, y, y - 8, y,
		(1 - r->alpha) * 100);
}

/* Each value of axis a once, under its place on the x axis. */
struct labels_at {
	size_t a;
	double lo, hi;
	bool logx;
	int h;
};

static void sweep_x_labels(const struct cm_report *r, size_t unused_c, size_t unused_p,
			   const void *arg, FILE *f)
{
	(void)unused_c, (void)unused_p;
	const struct labels_at *at = arg;
	const struct cm_dataset *ds = r->ds;
	size_t a = at->a;
	double lo = at->lo, hi = at->hi;
	struct cm_strset seen = { 0 }; /* the labels written (a scan of the cases before each was
					* quadratic) */
	for (size_t c = 0; c < ds->ncases; c++) {
		double v;
		if (cm_is_reference_case(ds->cases[c].id) || !cm_report_label_value(r, c, a, &v))
			continue;
		if (cm_strset_find(&seen, ds->cases[c].labels[a]) >= 0)
			continue;
		cm_strset_add(&seen, ds->cases[c].labels[a], 1);
		double x = 60 + (at->logx ? log(v / lo) / log(hi / lo) : (v - lo) / (hi - lo)) * (W - 90);
		fprintf(f, "<text class=\"tick\" x=\"%.1f\" y=\"%d\" font-size=\"10\" "
			   "text-anchor=\"middle\">", x, at->h - 26);
		esc(f, ds->cases[c].labels[a]);
		fputs("</text>\n", f);
	}
	cm_strset_free(&seen);
}

/* A case's marks on the sweep plot (its median's CI and its dot), and its point of the
 * slice's line: at its axis value on the plot's scales. */
struct mark_at {
	const struct scale *sc;
	double v;
	const char *colour;
};

static void sweep_mark(const struct cm_report *r, size_t c, size_t p, const void *arg, FILE *f)
{
	const struct mark_at *m = arg;
	const struct cm_summary *s = &cm_report_cell(r, c, p)->s;
	if (!isnan(s->median_ci_lo))
		fprintf(f, "<line x1=\"%.1f\" x2=\"%.1f\" y1=\"%.1f\" y2=\"%.1f\" "
			   "stroke=\"%s\" stroke-opacity=\"0.5\"/>\n",
			sx(m->sc, m->v), sx(m->sc, m->v), sy_raw(m->sc, s->median_ci_lo),
			sy_raw(m->sc, s->median_ci_hi), m->colour);
	fprintf(f, "<circle cx=\"%.1f\" cy=\"%.1f\" r=\"4\" fill=\"%s\"><title>", sx(m->sc, m->v),
		sy_raw(m->sc, s->median), m->colour);
	esc(f, r->ds->cases[c].id);
	fputs("</title></circle>\n", f);
}

static void sweep_point(const struct cm_report *r, size_t c, size_t p, const void *arg, FILE *f)
{
	const struct mark_at *m = arg;
	fprintf(f, "%.1f,%.1f ", sx(m->sc, m->v), sy_raw(m->sc, cm_report_cell(r, c, p)->s.median));
}

struct by_value {
	double v;
	size_t c;
};

static int cmp_by_value(const void *x, const void *y)
{
	const struct by_value *a = x, *b = y;
	return a->v < b->v ? -1 : a->v > b->v ? 1 : a->c < b->c ? -1 : a->c > b->c;
}

/* One slice's marks and line, its cases by increasing axis value (the first case of each
 * value; a search for the next value over every case was quadratic). */
static void slice_marks(const struct cm_report *r, size_t a, size_t p, const size_t *slice,
			size_t sl, const struct scale *sc, const char *colour, FILE *f)
{
	const struct cm_dataset *ds = r->ds;
	struct by_value *bv = cm_xmalloc((ds->ncases + 1) * sizeof(*bv));
	size_t n = 0;
	for (size_t c = 0; c < ds->ncases; c++) {
		double v;
		if (slice[c] == sl && cm_report_cell(r, c, p)->s.n &&
		    cm_report_label_value(r, c, a, &v))
			bv[n++] = (struct by_value){ v, c };
	}
	qsort(bv, n, sizeof(*bv), cmp_by_value);
	char *pts = NULL;
	size_t len = 0;
	FILE *pf = open_memstream(&pts, &len);
	for (size_t i = 0; i < n; i++) {
		if (i && bv[i].v == bv[i - 1].v)
			continue;
		struct mark_at m = { sc, bv[i].v, colour };
		double key[] = { sc->lo, sc->hi, sc->ylo, sc->yhi, sc->logx, (double)(sl % 10) };
		cm_frag(r, CM_FRAG_HTML_SWEEP_POINT, a, bv[i].c, p, key, 6, sweep_point, &m, pf);
		cm_frag(r, CM_FRAG_HTML_SWEEP_MARK, a, bv[i].c, p, key, 6, sweep_mark, &m, f);
	}
	fclose(pf);
	if (len)
		fprintf(f, "<polyline class=\"slice\" points=\"%s\" fill=\"none\" "
			   "stroke=\"%s\"/>\n",
			pts, colour);
	free(pts);
	free(bv);
}

static void sweep(const struct cm_report *r, size_t p, const struct cm_sweep *sw, size_t nsw,
		  FILE *f)
{
	const struct cm_dataset *ds = r->ds;
	for (size_t a = 0; a < ds->naxes; a++) {
		size_t distinct = 0;
		bool numeric = ds->ncases > 1;
		double lo = INFINITY, hi = -INFINITY, ylo = INFINITY, yhi = -INFINITY;
		for (size_t c = 0; c < ds->ncases && numeric; c++) {
			double v;
			if (cm_is_reference_case(ds->cases[c].id))
				continue; /* reference cases stand apart from every sweep */
			if (!cm_report_label_value(r, c, a, &v))
				numeric = false;
			if (v < lo || v > hi)
				distinct++;
			lo = fmin(lo, v);
			hi = fmax(hi, v);
			const struct cm_summary *s = &cm_report_cell(r, c, p)->s;
			if (s->n) {
				ylo = fmin(ylo, isnan(s->median_ci_lo) ? s->median : s->median_ci_lo);
				yhi = fmax(yhi, isnan(s->median_ci_hi) ? s->median : s->median_ci_hi);
			}
		}
		if (!numeric || distinct < 2 || !(hi > lo) || !isfinite(ylo))
			continue;
		double ypad = (yhi - ylo) * 0.1 + 1;
		ylo = fmax(0, ylo - ypad);
		yhi += ypad;
		int h = 250;
		fputs("<h3>Median against ", f);
		esc(f, ds->axes[a]);
		fputs("</h3>\n<p class=\"kw\">Trend test per slice (Jonckheere–Terpstra; "
		      "Mann–Whitney for two values), Holm-adjusted:", f);
		for (size_t i = 0; i < nsw; i++)
			if (sw[i].axis == a && sw[i].phase == p && !isnan(sw[i].p)) {
				fputs(" ", f);
				esc(f, *sw[i].held ? sw[i].held : ds->axes[a]);
				char ratio[32];
				fprintf(f, " %s, p %.2g%s;", cm_sweep_ratio(&sw[i], ratio, sizeof(ratio)),
					sw[i].p_adj,
					sw[i].p_adj < r->alpha ? " (significant)" : "");
			}
		fputs("</p>\n", f);
		fprintf(f, "<svg class=\"plot sweep\" viewBox=\"0 0 %d %d\" width=\"%d\" "
			   "height=\"%d\" role=\"img\">\n", W, h, W, h);
		bool logx = lo > 0 && hi / lo >= 8;
		y_ticks(f, ds->phases[p], 55, ylo, yhi, h - 40, h - 60);
		/* one line per slice (the other axes held fixed), through its medians in axis order */
		const size_t *slice;
		char *const *held;
		size_t nslices = cm_report_slices(r, a, &slice, &held);
		struct scale sc = { lo, hi, ylo, yhi, h, logx };
		for (size_t sl = 0; sl < nslices; sl++) {
			const char *colour = palette[sl % 10];
			fitted_line(r, a, p, held[sl], &sc, colour, f);
			slice_marks(r, a, p, slice, sl, &sc, colour, f);
			/* which slice is which line, and its slope */
			const struct cm_trend *t = find_trend(r, a, p, held[sl]);
			if (nslices > 1 || *held[0] || t) {
				fprintf(f, "<text class=\"slope\" x=\"%d\" y=\"%zu\" font-size=\"10\" "
					   "fill=\"%s\" text-anchor=\"end\">",
					W - 10, 14 + 12 * sl, colour);
				esc(f, held[sl]);
				fputs(*held[sl] && t ? ": " : "", f);
				if (t)
					slope_text(r, t, f);
				fputs("</text>\n", f);
			}
		}
		struct labels_at la = { a, lo, hi, logx, h };
		double key[] = { lo, hi, logx, h };
		cm_frag(r, CM_FRAG_HTML_SWEEP_LABELS, a, 0, p, key, 4, sweep_x_labels, &la, f);
		sweep_legend(r, h, f);
		fputs("</svg>\n", f);
	}
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
	y_ticks(f, phase, 62, lo, hi, h - 40, h - 60);
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
		fprintf(f, "%d × %d", sr->dim.sessions, sr->dim.boots);
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
		if (cell->s.n)
			fprintf(f, "</td><td>%s</td><td>[%s, %s]</td><td>%zu</td></tr>\n", m,
				isnan(cell->s.median_ci_lo) ? "—" : lo,
				isnan(cell->s.median_ci_hi) ? "—" : hi, cell->s.n);
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
		slope_text(r, t, f);
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
	for (size_t p = 0; p < ds->nphases; p++) {
		fputs("<section class=\"phase\"><h2>Phase <code>", f);
		esc(f, ds->phases[p]);
		fputs("</code></h2>\n", f);
		strip_plot(r, p, f);
		sweep(r, p, r->sweeps, r->nsweeps, f);
		fputs("</section>\n", f);
	}
	sessions_table(r, f);
	cm_html_breakdown(r, f);
	cm_profile_html(r, f); /* issue 28: where the time went */
	cm_waves_html(r, f); /* issue 29: K at a time */
	cm_html_end(f);
}
