/* The terminal summary after a run: hyperfine-like lines per case for one phase, the fastest
 * case against the others, the sweep effects and the steepest slopes. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "coldmark/report.h"

static void terminal_slopes(const struct cm_report *r, size_t p, FILE *f);
static void terminal_effects(const struct cm_report *r, size_t p, FILE *f);

/* The named phases compactly: one line per case, the phases' medians as columns ("—" where the
 * case does not report one: the reference case reports total alone). */
static void terminal_phases(const struct cm_report *r, FILE *f)
{
	const struct cm_dataset *ds = r->ds;
	size_t named = 0, w = 4;
	for (size_t p = 0; p < ds->nphases; p++)
		named += strcmp(ds->phases[p], "total") && !cm_is_metric(ds->phases[p]);
	if (!named)
		return;
	for (size_t c = 0; c < ds->ncases; c++)
		w = strlen(ds->cases[c].id) > w ? strlen(ds->cases[c].id) : w;
	fprintf(f, "\nPhases (median):\n  %-*s", (int)w, "case");
	for (size_t p = 0; p < ds->nphases; p++)
		if (!cm_is_metric(ds->phases[p]))
			fprintf(f, "  %12s", ds->phases[p]);
	fputc('\n', f);
	for (size_t c = 0; c < ds->ncases; c++) {
		fprintf(f, "  %-*s", (int)w, ds->cases[c].id);
		for (size_t p = 0; p < ds->nphases; p++) {
			const struct cm_cell *cell = cm_report_cell(r, c, p);
			char m[32] = "—";
			if (cm_is_metric(ds->phases[p]))
				continue;
			if (cell->s.n)
				cm_format_ns(cell->s.median, m, sizeof(m));
			/* "—" is 3 bytes for 1 column: pad by what is seen */
			fprintf(f, "  %*s", cell->s.n ? 12 : 14, m);
		}
		fputc('\n', f);
	}
}

/* "  Host cost (median):  75.4 ms CPU, 50.7 MiB peak RSS" */
static void host_cost(const struct cm_report *r, size_t c, FILE *f)
{
	size_t cpu = cm_dataset_find_phase(r->ds, CM_METRIC_CPU),
	       rss = cm_dataset_find_phase(r->ds, CM_METRIC_MAXRSS);
	if (cpu == r->ds->nphases || rss == r->ds->nphases || !cm_report_cell(r, c, cpu)->s.n)
		return;
	char a[32], b[32];
	cm_format_value(CM_METRIC_CPU, cm_report_cell(r, c, cpu)->s.median, a, sizeof(a));
	cm_format_value(CM_METRIC_MAXRSS, cm_report_cell(r, c, rss)->s.median, b, sizeof(b));
	fprintf(f, "  Host cost (median):  %s CPU, %s peak RSS\n", a, b);
}

void cm_report_terminal(const struct cm_report *r, const char *phase, FILE *f)
{
	const struct cm_dataset *ds = r->ds;
	size_t p = cm_dataset_find_phase(ds, phase);
	if (p == ds->nphases)
		return;
	size_t best = (size_t)-1;
	for (size_t c = 0; c < ds->ncases; c++) {
		const struct cm_cell *cell = cm_report_cell(r, c, p);
		const struct cm_summary *s = &cell->s;
		char med[32], lo[32], hi[32], mn[32], mx[32];
		cm_format_ns(s->median, med, sizeof(med));
		cm_format_ns(s->median_ci_lo, lo, sizeof(lo));
		cm_format_ns(s->median_ci_hi, hi, sizeof(hi));
		cm_format_ns(s->min, mn, sizeof(mn));
		cm_format_ns(s->max, mx, sizeof(mx));
		char w[48] = "";
		if (s->ci_units)
			snprintf(w, sizeof(w), " over %zu waves", s->ci_units);
		fprintf(f, "%s\n  %s (median):  %s   CI [%s, %s]%s\n  Range (min … max):  %s … %s   "
			   "n = %zu, failed = %zu\n",
			ds->cases[c].id, phase, med, lo, hi, w, mn, mx, s->n, cell->n_failed);
		for (unsigned b = 1; b <= CM_WARN_OUTLIERS; b <<= 1)
			if (s->warnings & b) {
				char modes[160];
				fprintf(f, "  Warning: %s%s%s\n", cm_warning_text(b),
					b == CM_WARN_BIMODAL ? ": " : "",
					b == CM_WARN_BIMODAL ? cm_modes_text(s, modes, sizeof(modes)) : "");
			}
		if (cell->n_audit)
			fprintf(f, "  Warning: %zu boots ran throttled or at a low clock (host_audit)\n",
				cell->n_audit);
		host_cost(r, c, f);
		size_t need = s->n >= 2 && !s->ci_units ? cm_stats_boots_needed(s, 0.01, r->alpha) : 0;
		if (need)
			fprintf(f, "  Boots for a ±1%% median CI at this spread: ~%zu\n", need);
		/* the reference case stands apart from the ranking: 40x faster than every real
		 * case says nothing about them */
		if (s->n && !cm_is_reference_case(ds->cases[c].id) &&
		    (best == (size_t)-1 || s->median < cm_report_cell(r, best, p)->s.median))
			best = c;
	}
	terminal_phases(r, f);
	size_t real = 0;
	for (size_t c = 0; c < ds->ncases; c++)
		real += !cm_is_reference_case(ds->cases[c].id);
	if (best != (size_t)-1 && real >= 2) {
		fprintf(f, "\nFastest by median %s: %s\n", phase, ds->cases[best].id);
		double b = cm_report_cell(r, best, p)->s.median;
		for (size_t c = 0; c < ds->ncases; c++) {
			double m = cm_report_cell(r, c, p)->s.median;
			if (c != best && m > 0 && !cm_is_reference_case(ds->cases[c].id))
				fprintf(f, "  %6.2f× faster than %s\n", m / b, ds->cases[c].id);
		}
	}
	terminal_effects(r, p, f);
	for (size_t q = 0; q < ds->nphases; q++)
		if (q != p && !cm_is_metric(ds->phases[q]))
			terminal_effects(r, q, f);
}

/* The sweep effects and the significant slopes of phase p. */
static void terminal_effects(const struct cm_report *r, size_t p, FILE *f)
{
	const struct cm_dataset *ds = r->ds;
	const char *phase = ds->phases[p];
	/* the axes this phase moves with, where the sweep test says so */
	struct cm_sweep *sw;
	size_t n;
	sw = r->sweeps, n = r->nsweeps; /* computed once, in cm_report_build */
	bool said = false;
	for (size_t i = 0; i < n; i++) {
		const struct cm_sweep *x = &sw[i];
		if (x->phase != p || !(x->p_adj < r->alpha))
			continue;
		if (!said)
			fprintf(f, "\nSweep effects on %s (Jonckheere–Terpstra or Kruskal–Wallis, Holm):\n",
				phase);
		said = true;
		char ratio[32];
		fprintf(f, "  %s moves it %s (%s → %s)%s%s, p %.2g\n", ds->axes[x->axis],
			cm_sweep_ratio(x, ratio, sizeof(ratio)),
			ds->cases[x->fastest].labels[x->axis], ds->cases[x->slowest].labels[x->axis],
			*x->held ? " at " : "", x->held, x->p_adj);
	}
	terminal_slopes(r, p, f);
}

/* The steepest slopes of a phase whose CI excludes 0, for the terminal. */
static void terminal_slopes(const struct cm_report *r, size_t p, FILE *f)
{
	bool said = false;
	const struct cm_trend *shown[3] = { 0 };
	for (int k = 0; k < 3; k++) {
		const struct cm_trend *best = NULL;
		for (size_t i = 0; i < r->ntrends; i++) {
			const struct cm_trend *t = &r->trends[i];
			bool taken = false;
			for (int j = 0; j < k; j++)
				taken |= shown[j] == t;
			if (t->phase != p || taken || !(t->slope.lo > 0 || t->slope.hi < 0))
				continue;
			if (!best || fabs(t->elasticity.slope) > fabs(best->elasticity.slope))
				best = t;
		}
		if (!(shown[k] = best))
			break;
		if (!said)
			fprintf(f, "\nSteepest slopes on %s (Theil–Sen, %.0f%% CI):\n",
				r->ds->phases[p], (1 - r->alpha) * 100);
		said = true;
		fprintf(f, "  %s: ", r->ds->axes[best->axis]);
		cm_print_slope_ci(r->ds->phases[best->phase], &best->slope, best->unit_name, f);
		if (!isnan(best->elasticity.slope))
			fprintf(f, ", time ∝ %s^%.2f", r->ds->axes[best->axis], best->elasticity.slope);
		fprintf(f, "%s%s%s\n", *best->held ? " at " : "", best->held,
			best->linear ? "" : " (not linear: see report.md)");
	}
}

