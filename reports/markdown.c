/* report.md: the Markdown report, and the text helpers (slopes, modes) other writers share. */
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "coldmark/report.h"
#include "frags.h"
#include "tables.h"

static double phase_unit(const struct cm_report *r, size_t p, const char **name)
{
	if (cm_value_is_bytes(r->ds->phases[p])) {
		*name = "MiB";
		return 1048576;
	}
	double lo = INFINITY;
	for (size_t c = 0; c < r->ds->ncases; c++) {
		double m = cm_report_cell(r, c, p)->s.median;
		if (m < lo)
			lo = m;
	}
	if (lo >= 1e9 && isfinite(lo)) { /* a phase with no value at all is not in seconds */
		*name = "s";
		return 1e9;
	}
	if (lo >= 1e6 || !isfinite(lo)) {
		*name = "ms";
		return 1e6;
	}
	*name = "µs";
	return 1e3;
}

/* 3 significant digits */
static void sig3(char *out, size_t n, double v)
{
	if (isnan(v)) {
		snprintf(out, n, "—");
		return;
	}
	double a = fabs(v);
	int prec = a >= 100 ? 0 : a >= 10 ? 1 : a >= 1 ? 2 : 3;
	snprintf(out, n, "%.*f", prec, v);
}

/* Text as Markdown shows it, never as markup: HTML is inert (renderers that allow it would
 * run a <script> from an axis value), and table pipes, emphasis and links are literal. */
static void md_escape(FILE *f, const char *s)
{
	for (;;) { /* the runs between special characters written whole */
		size_t n = strcspn(s, "<>&|\\`*_[]\n\r");
		if (n)
			fwrite(s, 1, n, f);
		s += n;
		if (!*s)
			return;
		if (*s == '<')
			fputs("&lt;", f);
		else if (*s == '>')
			fputs("&gt;", f);
		else if (*s == '&')
			fputs("&amp;", f);
		else if (*s == '\n' || *s == '\r')
			fputc(' ', f);
		else
			fprintf(f, "\\%c", *s);
		s++;
	}
}

/* " a | b |": table cells, escaped */
static void md_cells(FILE *f, char *const *names, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		fputc(' ', f);
		md_escape(f, names[i]);
		fputs(" |", f);
	}
}

/* One table per axis: a row per slice of the other axes, a column per phase. */
static void md_sweeps(const struct cm_report *r, FILE *f)
{
	const struct cm_dataset *ds = r->ds;
	struct cm_sweep *sw;
	size_t n, tested = 0;
	sw = r->sweeps, n = r->nsweeps; /* computed once, in cm_report_build */
	for (size_t i = 0; i < n; i++)
		tested += !isnan(sw[i].p);
	if (n)
		fprintf(f, "## Sweep effects\n\nDoes a phase move with one axis, the others held fixed? "
			   "Jonckheere–Terpstra across the ordered values of a numeric axis, "
			   "Kruskal–Wallis across an unordered one (Mann–Whitney for two values), within "
			   "each slice, Holm-adjusted "
			   "over all %zu tests. Each cell: slowest / fastest median, and the adjusted p; "
			   "**bold** below %g.\n\n",
			tested, r->alpha);
	for (size_t i = 0; i < n;) {
		size_t a = sw[i].axis;
		fputs("### ", f);
		md_escape(f, ds->axes[a]);
		fputs("\n\n| held fixed |", f);
		md_cells(f, ds->phases, ds->nphases);
		fputs("\n|---|", f);
		for (size_t p = 0; p < ds->nphases; p++)
			fputs("--:|", f);
		fputc('\n', f);
		/* rows come axis by axis, slice by slice, phase by phase */
		for (; i < n && sw[i].axis == a; i += ds->nphases) {
			fputs("| ", f);
			md_escape(f, *sw[i].held ? sw[i].held : "—");
			fputs(" |", f);
			for (size_t p = 0; p < ds->nphases; p++) {
				const struct cm_sweep *x = &sw[i + p];
				char ratio[32];
				bool sig = x->p_adj < r->alpha;
				if (isnan(x->p))
					fputs(" — |", f);
				else
					fprintf(f, " %s%s (p %.2g)%s |", sig ? "**" : "",
						cm_sweep_ratio(x, ratio, sizeof(ratio)), x->p_adj,
						sig ? "**" : "");
			}
			fputc('\n', f);
		}
		fputc('\n', f);
	}
	
}

/* "60% of the boots around 172 ms, 40% around 405 ms" */
const char *cm_modes_text(const struct cm_summary *s, char *out, size_t n)
{
	char lo[32], hi[32];
	cm_format_ns(s->mode_median[0], lo, sizeof(lo)); /* bimodality is a property of times */
	cm_format_ns(s->mode_median[1], hi, sizeof(hi));
	snprintf(out, n, "%.0f%% of the boots around %s, %.0f%% around %s",
		 100 * s->mode_share[0], lo, 100 * s->mode_share[1], hi);
	return out;
}

/* Where a phase has two modes, its median describes neither: say both. */
/* Boots the per-boot audit flagged, per case: their times are in the table, said here. */
static void md_audit(const struct cm_report *r, size_t p, FILE *f)
{
	for (size_t c = 0; c < r->ds->ncases; c++) {
		const struct cm_cell *cell = cm_report_cell(r, c, p);
		if (!cell->n_audit)
			continue;
		fputs("- ", f);
		md_escape(f, r->ds->cases[c].id);
		fprintf(f, ": %zu of %zu boots ran throttled or at a clock under 80%% of the run's "
			   "typical one (column host_audit of samples.csv)\n", cell->n_audit,
			cell->s.n);
	}
}

static void md_modes(const struct cm_report *r, size_t p, FILE *f)
{
	bool any = false;
	for (size_t c = 0; c < r->ds->ncases; c++) {
		const struct cm_summary *s = &cm_report_cell(r, c, p)->s;
		if (!(s->warnings & CM_WARN_BIMODAL))
			continue;
		if (!any)
			fputs("Two modes (a median describes neither):\n\n", f);
		any = true;
		char text[160];
		fputs("- ", f);
		md_escape(f, r->ds->cases[c].id);
		fprintf(f, ": %s\n", cm_modes_text(s, text, sizeof(text)));
	}
	if (any)
		fputs("\n", f);
}

const char *cm_format_slope(const char *phase, double ns, const char *unit, char *out, size_t n)
{
	char t[32];
	cm_format_value(phase, fabs(ns), t, sizeof(t));
	snprintf(out, n, "%s%s per %s", isnan(ns) ? "" : ns < 0 ? "−" : "+", t, unit);
	return out;
}

/* "+3.10 ms [+2.80 ms, +3.40 ms]" */
void cm_print_slope_ci(const char *phase, const struct cm_slope *s, const char *unit, FILE *f)
{
	char a[64], b[64], c[64];
	cm_format_slope(phase, s->slope, unit, a, sizeof(a));
	if (isnan(s->lo)) {
		fputs(a, f);
		return;
	}
	cm_format_slope(phase, s->lo, unit, b, sizeof(b));
	cm_format_slope(phase, s->hi, unit, c, sizeof(c));
	*strstr(b, " per ") = 0, *strstr(c, " per ") = 0;
	fprintf(f, "%s [%s, %s]", a, b, c);
}

/* How each phase scales along each numeric axis: slope, elasticity, linearity, and how the
 * slices differ. */
static void md_slopes(const struct cm_report *r, FILE *f)
{
	const struct cm_dataset *ds = r->ds;
	if (!r->ntrends)
		return;
	fprintf(f, "## How the phases scale\n\nPer numeric axis, per slice of the other axes: the "
		   "Theil–Sen slope with its %.0f%% distribution-free CI (Sen's), the elasticity "
		   "(time ∝ x^e, the slope on the log–log scale), and whether one slope describes "
		   "it (the slopes of the lower and upper halves of the values have overlapping "
		   "CIs). Failed boots are left out.\n\n",
		(1 - r->alpha) * 100);
	for (size_t i = 0; i < r->ntrends; i++) {
		const struct cm_trend *t = &r->trends[i];
		if (!i || t->axis != r->trends[i - 1].axis) {
			fputs("### ", f);
			md_escape(f, ds->axes[t->axis]);
			fputs("\n\n| held fixed | phase | slope | elasticity | linear |\n|---|---|---|---|---|\n", f);
		}
		fputs("| ", f);
		md_escape(f, *t->held ? t->held : "—");
		fputs(" | ", f);
		md_escape(f, ds->phases[t->phase]);
		fputs(" | ", f);
		cm_print_slope_ci(ds->phases[t->phase], &t->slope, t->unit_name, f);
		if (isnan(t->elasticity.slope))
			fputs(" | — | ", f);
		else
			fprintf(f, " | %.3g [%.3g, %.3g] | ", t->elasticity.slope, t->elasticity.lo,
				t->elasticity.hi);
		if (!t->linear_known) {
			fputs("— (too few levels to tell)", f);
		} else if (t->linear) {
			fputs("yes", f);
		} else if (t->off_level != SIZE_MAX) {
			fputs("**no**: ", f);
			md_escape(f, ds->cases[t->off_level].labels[t->axis]);
			fputs(" off the line", f);
		} else {
			fputs("**no**: lower half ", f);
			cm_print_slope_ci(ds->phases[t->phase], &t->lower, t->unit_name, f);
			fputs(", upper half ", f);
			cm_print_slope_ci(ds->phases[t->phase], &t->upper, t->unit_name, f);
		}
		fputs(" |\n", f);
	}
	fputs("\n", f);
	for (size_t i = 0; i < r->ninteractions; i++) {
		const struct cm_interaction *x = &r->interactions[i];
		const struct cm_trend *a = &r->trends[x->a], *b = &r->trends[x->b];
		if (!i)
			fputs("Interactions: how much more one slice pays per unit than another "
			      "(difference of slopes, with a CI from the two slopes' CIs).\n\n", f);
		char d[64], lo[64], hi[64];
		const char *ph = ds->phases[a->phase];
		cm_format_slope(ph, x->diff, a->unit_name, d, sizeof(d));
		cm_format_slope(ph, x->lo, a->unit_name, lo, sizeof(lo));
		cm_format_slope(ph, x->hi, a->unit_name, hi, sizeof(hi));
		*strstr(lo, " per ") = 0, *strstr(hi, " per ") = 0;
		fputs("- ", f);
		md_escape(f, ds->phases[a->phase]);
		fputs(": ", f);
		md_escape(f, b->held);
		fprintf(f, " pays %s more than at ", d);
		md_escape(f, a->held);
		fprintf(f, " [%s, %s]%s\n", lo, hi,
			x->lo > 0 || x->hi < 0 ? " (the CI excludes 0)" : "");
	}
	if (r->ninteractions)
		fputs("\n", f);
}

/* With 2+ sessions: per case x phase the noise within and between sessions, and what it takes
 * to measure a change between runs to the target. */
static void md_session_row(const struct cm_sessions_row *sr, void *ctx)
{
	FILE *f = ctx;
	char adv[64] = "—", cost[32] = "—";
	if (sr->advice) {
		snprintf(adv, sizeof(adv), "%d sessions × %d %s", sr->dim.sessions, sr->dim.boots,
			 sr->cell->s.ci_units ? "waves" : "boots");
		cm_format_ns(sr->dim.cost_s * 1e9, cost, sizeof(cost));
	}
	fputs("| ", f);
	md_escape(f, sr->case_id);
	fputs(" | ", f);
	md_escape(f, sr->phase);
	fprintf(f, " | %zu | %.2f%% | %.2f%% | %.2f | %s | %s |\n", sr->cell->vc.sessions,
		sqrt(sr->cell->vc.within) * 100, sqrt(sr->cell->vc.between) * 100, sr->cell->vc.icc,
		adv, cost);
}

static void md_sessions_case(const struct cm_report *r, size_t c, size_t p, const void *arg,
			     FILE *f)
{
	(void)p, (void)arg;
	cm_sessions_walk_case(r, c, md_session_row, f);
}

static void md_sessions(const struct cm_report *r, FILE *f)
{
	const struct cm_dataset *ds = r->ds;
	if (ds->nsessions < 2)
		return;
	fprintf(f, "## Sessions: where the noise is\n\n%zu sessions. sd of ln(time) within a session "
		   "and between sessions, the intraclass correlation (the share of the variance "
		   "between sessions), and the cheapest sessions × boots for a ±%g%% CI of a change "
		   "between runs (a boot costs the case's median total, a session its warm-ups; from "
		   "fewer than 5 sessions the between-session part is a rough guide).\n\n"
		   "| case | phase | sessions | sd within | sd between | ICC | for ±%g%% | boots' time |\n"
		   "|---|---|--:|--:|--:|--:|---|--:|\n",
		ds->nsessions, CM_ADVICE_TARGET * 100, CM_ADVICE_TARGET * 100);
	double k = (double)ds->nsessions; /* the advice's warm-up share reads it */
	for (size_t c = 0; c < ds->ncases; c++)
		cm_frag(r, CM_FRAG_MD_SESSIONS, 0, c, 0, &k, 1, md_sessions_case, NULL, f);
	fputs("\n", f);
}

/* Case c's row of phase p's table (arg: the phase's unit, in ns). */
static void md_row(const struct cm_report *r, size_t c, size_t p, const void *arg, FILE *f)
{
	const struct cm_dataset *ds = r->ds;
	double div = *(const double *)arg;
	const struct cm_cell *cell = cm_report_cell(r, c, p);
	const struct cm_summary *s = &cell->s;
	char med[32], lo[32], hi[32], p5[32], p95[32], mean[32], sd[32];
	sig3(med, sizeof(med), s->median / div);
	sig3(lo, sizeof(lo), s->median_ci_lo / div);
	sig3(hi, sizeof(hi), s->median_ci_hi / div);
	sig3(p5, sizeof(p5), s->pct[0] / div);
	sig3(p95, sizeof(p95), s->pct[3] / div);
	sig3(mean, sizeof(mean), s->mean / div);
	sig3(sd, sizeof(sd), s->sd / div);
	fputs("| ", f);
	md_escape(f, ds->cases[c].id);
	fputs(" |", f);
	for (size_t a = 0; a < ds->naxes; a++) {
		fputc(' ', f);
		md_escape(f, ds->cases[c].labels[a]);
		fputs(" |", f);
	}
	char why[64];
	if (cm_cell_unmeasurable(cell, why, sizeof(why))) {
		fprintf(f, " %s | — | — | — | — | 0 | %zu |\n", why, cell->n_failed);
		return;
	}
	fprintf(f, " %s", med);
	for (unsigned b = 1; b <= CM_WARN_OUTLIERS; b <<= 1)
		if (s->warnings & b)
			fprintf(f, "[^w%d]", __builtin_ctz(b) + 1);
	if (isnan(s->median_ci_lo))
		fputs(" | — |", f);
	else if (s->ci_units)
		fprintf(f, " | %s – %s (%zu w) |", lo, hi, s->ci_units);
	else
		fprintf(f, " | %s – %s |", lo, hi);
	fprintf(f, " %s | %s | %s ± %s | %zu | %zu |\n", p5, p95, mean, sd, s->n, cell->n_failed);
}

/* The run header's table. */
static void md_head(const struct cm_report *r, size_t c, size_t p, const void *arg, FILE *f)
{
	(void)c, (void)p, (void)arg;
	const struct cm_dataset *ds = r->ds;
	if (!ds->nmeta)
		return;
	fputs("| run | |\n|---|---|\n", f);
	for (size_t i = 0; i < ds->nmeta; i++) {
		fputs("| ", f);
		md_escape(f, ds->meta_keys[i]);
		fputs(" | ", f);
		md_escape(f, ds->meta_vals[i]);
		fputs(" |\n", f);
	}
	fputs("\n", f);
}

void cm_report_markdown(const struct cm_report *r, FILE *f)
{
	const struct cm_dataset *ds = r->ds;
	fputs("# coldmark report\n\n", f);
	double key[2];
	cm_frag_meta_key(r, key);
	cm_frag(r, CM_FRAG_MD_HEAD, 0, CM_FRAG_RUN, 0, key, 2, md_head, NULL, f);
	fprintf(f, "Medians with %.0f%% distribution-free confidence intervals; failed boots are "
		   "counted, not measured; warm-ups are excluded.\n\n",
		(1 - r->alpha) * 100);
	char unit[512];
	if (cm_ci_unit_text(r, unit, sizeof(unit)))
		fprintf(f, "%s\n\n", unit);
	unsigned used = 0;
	for (size_t p = 0; p < ds->nphases; p++) {
		const char *unit;
		double div = phase_unit(r, p, &unit);
		fputs(cm_is_metric(ds->phases[p]) ? "## Host cost " : "## Phase ", f);
		md_escape(f, ds->phases[p]);
		const struct cm_metric *met = cm_metric(ds->phases[p]);
		fprintf(f, " (%s)\n\n%s%s| case |", unit, met ? met->about : "", met ? "\n\n" : "");
		md_cells(f, ds->axes, ds->naxes);
		fputs(" median | median CI | p5 | p95 | mean ± sd | n | failed |\n|---|", f);
		for (size_t a = 0; a < ds->naxes; a++)
			fputs("---|", f);
		fputs("--:|---|--:|--:|---|--:|--:|\n", f);
		for (size_t c = 0; c < ds->ncases; c++) {
			const struct cm_cell *cell = cm_report_cell(r, c, p);
			char why[64];
			if (!cell->nrows)
				continue;
			if (!cm_cell_unmeasurable(cell, why, sizeof(why))) /* its footnotes */
				used |= cell->s.warnings & ((CM_WARN_OUTLIERS << 1) - 1);
			cm_frag(r, CM_FRAG_MD_ROW, 0, c, p, &div, 1, md_row, &div, f);
		}
		fputs("\n", f);
		md_modes(r, p, f);
		md_audit(r, p, f);
	}
	md_sessions(r, f);
	md_sweeps(r, f);
	md_slopes(r, f);
	for (unsigned b = 1; b <= CM_WARN_OUTLIERS; b <<= 1)
		if (used & b)
			fprintf(f, "[^w%d]: %s\n", __builtin_ctz(b) + 1, cm_warning_text(b));
	if (used)
		fputs("\n", f);
	cm_profile_md(r, f); /* issue 28: where the time went */
	cm_waves_md(r, f); /* issue 29: K at a time */
}
