/* Summaries per case x phase, and the text writers (summary.csv, Markdown, terminal). */
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "coldmark/report.h"

int cm_report_build(const struct cm_dataset *ds, double alpha, struct cm_report *r)
{
	memset(r, 0, sizeof(*r));
	r->ds = ds;
	r->alpha = alpha;
	r->ncells = ds->ncases * ds->nphases;
	r->cells = cm_xcalloc(r->ncells ? r->ncells : 1, sizeof(*r->cells));
	size_t *cap = cm_xcalloc(r->ncells ? r->ncells : 1, sizeof(size_t));
	/* failed boots per case: rows of one boot are adjacent, count boot numbers once */
	int *last_failed = cm_xmalloc((ds->ncases ? ds->ncases : 1) * sizeof(int));
	size_t *nfailed = cm_xcalloc(ds->ncases ? ds->ncases : 1, sizeof(size_t));
	for (size_t c = 0; c < ds->ncases; c++)
		last_failed[c] = -1;
	for (size_t i = 0; i < ds->n; i++) {
		const struct cm_sample_row *row = &ds->rows[i];
		struct cm_cell *cell = &r->cells[row->case_idx * ds->nphases + row->phase_idx];
		cell->nrows++;
		switch (cm_row_kind(row)) {
		case CM_ROW_WARMUP:
			cell->n_warmup++;
			continue;
		case CM_ROW_INTERRUPTED:
			continue;
		case CM_ROW_FAILED: /* rows of one boot are adjacent: count boot numbers once */
			if (last_failed[row->case_idx] != row->boot)
				nfailed[row->case_idx]++;
			last_failed[row->case_idx] = row->boot;
			continue;
		case CM_ROW_UNMEASURABLE: /* ok, yet no time: the source cannot see it */
			cell->n_unmeasurable++;
			cell->unmeasurable_source = row->source;
			continue;
		case CM_ROW_MEASURED:
			break;
		}
		cell->n_audit += row->audit && *row->audit;
		size_t k = row->case_idx * ds->nphases + row->phase_idx;
		if (cell->s.n >= cap[k]) {
			cap[k] = cap[k] ? 2 * cap[k] : 16;
			cell->values = cm_xrealloc(cell->values, cap[k] * sizeof(double));
			cell->boots = cm_xrealloc(cell->boots, cap[k] * sizeof(int));
			cell->sessions = cm_xrealloc(cell->sessions, cap[k] * sizeof(int));
		}
		cell->values[cell->s.n] = row->duration_ns;
		cell->sessions[cell->s.n] = row->session;
		cell->boots[cell->s.n++] = row->boot;
	}
	for (size_t c = 0; c < ds->ncases; c++)
		for (size_t p = 0; p < ds->nphases; p++) {
			struct cm_cell *cell = &r->cells[c * ds->nphases + p];
			cell->case_idx = c;
			cell->phase_idx = p;
			cell->n_failed = nfailed[c];
			size_t n = cell->s.n;
			cm_stats_summarize(cell->values, n, alpha, &cell->s);
			cm_stats_varcomp(cell->values, cell->sessions, n, &cell->vc);
			if (!n && cell->n_unmeasurable)
				cell->s.warnings = 0; /* not a matter of boots: no footnote */
		}
	free(cap);
	free(last_failed);
	free(nfailed);
	/* the sweep effects, once: every writer renders the same ones */
	cm_report_sweeps(r, &r->sweeps, &r->nsweeps);
	cm_report_trends(r);
	return 0;
}

void cm_report_free(struct cm_report *r)
{
	for (size_t i = 0; i < r->ncells; i++) {
		cm_summary_free(&r->cells[i].s);
		free(r->cells[i].values);
		free(r->cells[i].boots);
		free(r->cells[i].sessions);
	}
	free(r->cells);
	cm_sweeps_free(r->sweeps, r->nsweeps);
	cm_report_trends_free(r);
	memset(r, 0, sizeof(*r));
}

const struct cm_cell *cm_report_cell(const struct cm_report *r, size_t c, size_t p)
{
	return &r->cells[c * r->ds->nphases + p];
}

const char *cm_cell_unmeasurable(const struct cm_cell *cell, char *buf, size_t n)
{
	if (cell->s.n || !cell->n_unmeasurable)
		return NULL;
	const char *src = cell->unmeasurable_source;
	snprintf(buf, n, "not measurable with %s", src && *src ? src : "this marker source");
	return buf;
}

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

void cm_report_summary_csv(const struct cm_report *r, FILE *f)
{
	const struct cm_dataset *ds = r->ds;
	fputs("case,phase,n,n_failed,mean_ns,sd_ns,mean_ci_lo_ns,mean_ci_hi_ns,median_ns,"
	      "median_ci_lo_ns,median_ci_hi_ns,p5_ns,p25_ns,p75_ns,p95_ns,p99_ns,min_ns,max_ns,"
	      "mad_ns,outliers",
	      f);
	for (size_t a = 0; a < ds->naxes; a++) {
		fputc(',', f);
		cm_csv_field(f, ds->axes[a]);
	}
	fputc('\n', f);
	for (size_t c = 0; c < ds->ncases; c++)
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
			fprintf(f, ",%zu", s->n_outliers);
			for (size_t a = 0; a < ds->naxes; a++) {
				fputc(',', f);
				cm_csv_field(f, ds->cases[c].labels[a]);
			}
			fputc('\n', f);
		}
}

/* ---- Markdown -------------------------------------------------------------------------------- */

/* One unit per phase, chosen from its smallest median: ms when >= 1 ms, else µs. */
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
	for (; *s; s++) {
		if (*s == '<')
			fputs("&lt;", f);
		else if (*s == '>')
			fputs("&gt;", f);
		else if (*s == '&')
			fputs("&amp;", f);
		else if (strchr("|\\`*_[]", *s))
			fprintf(f, "\\%c", *s);
		else if (*s == '\n' || *s == '\r')
			fputc(' ', f);
		else
			fputc(*s, f);
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
		if (t->linear) {
			fputs(t->nlevels >= 4 ? "yes" : "— (fewer than 4 values)", f);
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
	for (size_t c = 0; c < ds->ncases; c++)
		for (size_t p = 0; p < ds->nphases; p++) {
			const struct cm_cell *cell = cm_report_cell(r, c, p);
			if (cell->vc.sessions < 2)
				continue;
			struct cm_dimension dim;
			char adv[64] = "—", cost[32] = "—";
			if (cm_cell_advice(r, cell, &dim)) {
				snprintf(adv, sizeof(adv), "%d sessions × %d boots", dim.sessions, dim.boots);
				cm_format_ns(dim.cost_s * 1e9, cost, sizeof(cost));
			}
			fputs("| ", f);
			md_escape(f, ds->cases[c].id);
			fputs(" | ", f);
			md_escape(f, ds->phases[p]);
			fprintf(f, " | %zu | %.2f%% | %.2f%% | %.2f | %s | %s |\n", cell->vc.sessions,
				sqrt(cell->vc.within) * 100, sqrt(cell->vc.between) * 100, cell->vc.icc,
				adv, cost);
		}
	fputs("\n", f);
}

void cm_report_markdown(const struct cm_report *r, FILE *f)
{
	const struct cm_dataset *ds = r->ds;
	fputs("# coldmark report\n\n", f);
	if (ds->nmeta) {
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
	fprintf(f, "Medians with %.0f%% distribution-free confidence intervals; failed boots are "
		   "counted, not measured; warm-ups are excluded.\n\n",
		(1 - r->alpha) * 100);
	unsigned used = 0;
	for (size_t p = 0; p < ds->nphases; p++) {
		const char *unit;
		double div = phase_unit(r, p, &unit);
		fputs(cm_is_metric(ds->phases[p]) ? "## Host cost " : "## Phase ", f);
		md_escape(f, ds->phases[p]);
		fprintf(f, " (%s)\n\n%s| case |", unit,
			!strcmp(ds->phases[p], CM_METRIC_CPU) ? "qemu's user + system CPU time per boot "
								"(wait4).\n\n"
			: !strcmp(ds->phases[p], CM_METRIC_MAXRSS) ? "qemu's peak resident memory per "
								     "boot (wait4).\n\n"
								   : "");
		md_cells(f, ds->axes, ds->naxes);
		fputs(" median | median CI | p5 | p95 | mean ± sd | n | failed |\n|---|", f);
		for (size_t a = 0; a < ds->naxes; a++)
			fputs("---|", f);
		fputs("--:|---|--:|--:|---|--:|--:|\n", f);
		for (size_t c = 0; c < ds->ncases; c++) {
			const struct cm_cell *cell = cm_report_cell(r, c, p);
			const struct cm_summary *s = &cell->s;
			if (!cell->nrows)
				continue;
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
				continue;
			}
			fprintf(f, " %s", med);
			for (unsigned b = 1; b <= CM_WARN_OUTLIERS; b <<= 1)
				if (s->warnings & b) {
					int k = __builtin_ctz(b) + 1;
					fprintf(f, "[^w%d]", k);
					used |= b;
				}
			if (isnan(s->median_ci_lo))
				fputs(" | — |", f);
			else
				fprintf(f, " | %s – %s |", lo, hi);
			fprintf(f, " %s | %s | %s ± %s | %zu | %zu |\n", p5, p95, mean, sd, s->n,
				cell->n_failed);
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
}

/* ---- all formats ----------------------------------------------------------------------------- */

static FILE *open_out(const char *dir, const char *name, struct cm_diags *d, char **path)
{
	*path = cm_xasprintf("%s/%s.tmp", dir, name);
	/* a stale or planted temporary goes by its name (never its target), and the new one is
	 * created afresh, never through a link */
	unlink(*path);
	int fd = open(*path, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0644);
	FILE *f = fd >= 0 ? fdopen(fd, "w") : NULL;
	if (fd >= 0 && !f)
		close(fd);
	if (!f)
		cm_diags_add(d, CM_SEV_ERROR, *path, 0, 0, "cannot write: %s", strerror(errno));
	return f;
}

/* Written to a temporary name and renamed: a reader never sees half a report. */
static int close_out(FILE *f, char *tmp, struct cm_diags *d)
{
	int rc = 0;
	/* synced before the rename: a crash leaves the old report or the new, never half */
	bool bad = fflush(f) || fdatasync(fileno(f)) || ferror(f);
	if (bad | fclose(f)) {
		cm_diags_add(d, CM_SEV_ERROR, tmp, 0, 0, "write failed: %s", strerror(errno));
		unlink(tmp);
		rc = CM_ERR(CM_EIO);
	} else {
		char *final = cm_xstrdup(tmp);
		final[strlen(final) - 4] = 0;
		if (rename(tmp, final))
			rc = CM_ERR(CM_EIO);
		free(final);
	}
	free(tmp);
	return rc;
}

/* The report writers: --format names, their files and functions. Validation, the help text
 * and the "reports:" line all come from this table. */
static void write_csv(const struct cm_report *r, FILE *f) { cm_report_summary_csv(r, f); }
static void write_json(const struct cm_report *r, FILE *f) { cm_report_json(r, f); }
const struct cm_writer cm_writers[] = {
	{ "csv", "summary.csv", write_csv },
	{ "md", "report.md", cm_report_markdown },
	{ "json", "report.json", write_json },
	{ "html", "report.html", cm_report_html },
};
const size_t cm_nwriters = sizeof(cm_writers) / sizeof(cm_writers[0]);

int cm_report_check_formats(const char *formats, char *err, size_t errsz)
{
	const char *s = formats;
	do {
		size_t len = strcspn(s, ",");
		bool known = false;
		for (size_t i = 0; i < cm_nwriters && !known; i++)
			known = strlen(cm_writers[i].name) == len && !strncmp(cm_writers[i].name, s, len);
		if (!known) {
			struct cm_buf b = { 0 };
			for (size_t i = 0; i < cm_nwriters; i++)
				cm_buf_printf(&b, "%s%s", i ? ", " : "", cm_writers[i].name);
			snprintf(err, errsz, "unknown report format '%.*s' (known: %s)", (int)len, s,
				 b.s);
			cm_buf_free(&b);
			return CM_ERR(CM_EUSAGE);
		}
		s += len;
	} while (*s++);
	return 0;
}

char *cm_report_files(const char *formats)
{
	struct cm_buf b = { 0 };
	for (size_t i = 0; i < cm_nwriters; i++)
		if (cm_list_has(formats, cm_writers[i].name))
			cm_buf_printf(&b, "%s%s", b.len ? "," : "", cm_writers[i].file);
	return b.s ? cm_buf_steal(&b) : cm_xstrdup("");
}

int cm_report_write(const struct cm_report *r, const char *outdir, const char *formats,
		    bool with_samples, struct cm_diags *d)
{
	char err[256];
	if (cm_report_check_formats(formats, err, sizeof(err))) {
		cm_diags_add(d, CM_SEV_ERROR, NULL, 0, 0, "%s", err);
		return CM_ERR(CM_EUSAGE);
	}
	int rc = 0;
	char *path;
	FILE *f;
	cm_mkdirs(outdir);
	if (with_samples && (f = open_out(outdir, "samples.csv", d, &path))) {
		cm_samples_write_header(f, r->ds);
		for (size_t i = 0; i < r->ds->n; i++)
			cm_samples_write_row(f, r->ds, &r->ds->rows[i]);
		rc |= close_out(f, path, d);
		/* the header beside them, the same way: a temporary name, then renamed */
		if (r->ds->nmeta && (f = open_out(outdir, "meta.csv", d, &path))) {
			char *text = cm_meta_format(r->ds);
			fputs(text, f);
			free(text);
			rc |= close_out(f, path, d);
		} else if (r->ds->nmeta) {
			free(path);
			rc = CM_ERR(CM_EIO);
		}
	} else if (with_samples) {
		free(path);
		rc = CM_ERR(CM_EIO);
	}
	for (size_t i = 0; i < cm_nwriters; i++) {
		if (!cm_list_has(formats, cm_writers[i].name))
			continue;
		if ((f = open_out(outdir, cm_writers[i].file, d, &path))) {
			cm_writers[i].write(r, f);
			rc |= close_out(f, path, d);
		} else {
			free(path);
			rc = CM_ERR(CM_EIO);
		}
	}
	return rc ? CM_ERR(CM_EIO) : 0;
}
