/* report.html's sweep plots: per phase and numeric axis the medians with their CIs against
 * the axis, one line per slice of the other axes with its Theil-Sen line and band. Each case's
 * marks are a piece of a live report's text (frags.h), drawn again when the case or the plot's
 * scales change. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "frags.h"
#include "html.h"

#define esc cm_html_esc
#define palette cm_html_palette

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

/* The slice's Theil-Sen line (t: its trend, NULL when it has none), and its band (the CI's
 * slopes through the line's middle). */
static void fitted_line(const struct cm_report *r, const struct cm_trend *t, const struct scale *s,
			const char *colour, FILE *f)
{
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
void cm_html_slope_text(const struct cm_report *r, const struct cm_trend *t, FILE *f)
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

/* Each slice's trend of axis a and phase p (the first with its held values), or NULL: by a
 * hash of the held values (a scan of the trends per slice was slices x trends) */
static const struct cm_trend **slice_trends(const struct cm_report *r, size_t a, size_t p,
					    char *const *held, size_t nslices)
{
	struct cm_strset by_held = { 0 };
	for (size_t i = 0; i < r->ntrends; i++)
		if (r->trends[i].axis == a && r->trends[i].phase == p)
			cm_strset_add(&by_held, r->trends[i].held, (long)i); /* the first one stays */
	const struct cm_trend **t = cm_xcalloc(nslices + 1, sizeof(*t));
	for (size_t sl = 0; sl < nslices; sl++) {
		long i = cm_strset_find(&by_held, held[sl]);
		t[sl] = i >= 0 ? &r->trends[i] : NULL;
	}
	cm_strset_free(&by_held);
	return t;
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
 * value; a search for the next value over every case was quadratic). mine[0, k): the slice's
 * cases in case order. */
static void slice_marks(const struct cm_report *r, size_t a, size_t p, const size_t *mine,
			size_t k, size_t sl, const struct scale *sc, const char *colour, FILE *f)
{
	struct by_value *bv = cm_xmalloc((k + 1) * sizeof(*bv));
	size_t n = 0;
	for (size_t j = 0; j < k; j++) {
		size_t c = mine[j];
		double v;
		if (cm_report_cell(r, c, p)->s.n && cm_report_label_value(r, c, a, &v))
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

void cm_html_sweep(const struct cm_report *r, size_t p, FILE *f)
{
	const struct cm_dataset *ds = r->ds;
	const struct cm_sweep *sw = r->sweeps;
	size_t nsw = r->nsweeps;
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
		cm_html_y_ticks(f, ds->phases[p], 55, ylo, yhi, h - 40, h - 60);
		/* one line per slice (the other axes held fixed), through its medians in axis order */
		const size_t *slice;
		char *const *held;
		size_t nslices = cm_report_slices(r, a, &slice, &held);
		struct scale sc = { lo, hi, ylo, yhi, h, logx };
		/* each slice's cases, in case order, by one counting sort (a pass over every case
		 * per slice was slices x cases: an axis of two values has a slice per case pair) */
		size_t *from = cm_xcalloc(nslices + 2, sizeof(size_t)),
		       *mine = cm_xmalloc((ds->ncases + 1) * sizeof(size_t));
		for (size_t c = 0; c < ds->ncases; c++)
			if (slice[c] < nslices)
				from[slice[c] + 2]++;
		for (size_t sl = 0; sl < nslices; sl++)
			from[sl + 2] += from[sl + 1];
		for (size_t c = 0; c < ds->ncases; c++)
			if (slice[c] < nslices)
				mine[from[slice[c] + 1]++] = c; /* from[sl + 1] ends as slice sl's end */
		const struct cm_trend **trend = slice_trends(r, a, p, held, nslices);
		for (size_t sl = 0; sl < nslices; sl++) {
			const char *colour = palette[sl % 10];
			const struct cm_trend *t = trend[sl];
			fitted_line(r, t, &sc, colour, f);
			slice_marks(r, a, p, mine + from[sl], from[sl + 1] - from[sl], sl, &sc, colour, f);
			/* which slice is which line, and its slope */
			if (nslices > 1 || *held[0] || t) {
				fprintf(f, "<text class=\"slope\" x=\"%d\" y=\"%zu\" font-size=\"10\" "
					   "fill=\"%s\" text-anchor=\"end\">",
					W - 10, 14 + 12 * sl, colour);
				esc(f, held[sl]);
				fputs(*held[sl] && t ? ": " : "", f);
				if (t)
					cm_html_slope_text(r, t, f);
				fputs("</text>\n", f);
			}
		}
		free(from), free(mine), free(trend);
		struct labels_at la = { a, lo, hi, logx, h };
		double key[] = { lo, hi, logx, h };
		cm_frag(r, CM_FRAG_HTML_SWEEP_LABELS, a, 0, p, key, 4, sweep_x_labels, &la, f);
		sweep_legend(r, h, f);
		fputs("</svg>\n", f);
	}
}

