/* The writers of a comparison: text, md, csv, json. */
#include <jansson.h>
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "coldmark/report.h"


static void pct_str(char *out, size_t n, double v)
{
	if (isnan(v))
		snprintf(out, n, "—");
	else
		snprintf(out, n, "%+.1f%%", v * 100);
}

/* A row's figures as people read them. */
struct row_text {
	char bm[32], cm[32], ch[32], lo[32], hi[32];
};

static void row_text(const char *phase, const struct cm_comparison *x, struct row_text *t)
{
	cm_format_value(phase, x->base_median, t->bm, sizeof(t->bm));
	cm_format_value(phase, x->cand_median, t->cm, sizeof(t->cm));
	pct_str(t->ch, sizeof(t->ch), x->rel);
	pct_str(t->lo, sizeof(t->lo), x->rel_lo);
	pct_str(t->hi, sizeof(t->hi), x->rel_hi);
}

/* "sessions 3+3", "calibrated 1+1", "boots only": the model and how many sessions a side */
static const char *model_text(const struct cm_cmp_row *row, char *out, size_t n)
{
	const struct cm_cmp_model_info *m = &cm_cmp_models[row->model];
	if (m->label)
		m->label(row, out, n);
	else
		snprintf(out, n, "%s %zu+%zu", m->name, row->base_sessions, row->cand_sessions);
	return out;
}

/* A variance component of ln(duration) as the relative sd people read: "3.1%", "—". */
static const char *sd_text(double var, char *out, size_t n)
{
	if (isfinite(var))
		snprintf(out, n, "%.1f%%", sqrt(var) * 100);
	else
		snprintf(out, n, "—");
	return out;
}

/* The reference's change beside a row: "+3.1%", "—" without one (or for itself). */
static const char *ref_text(const struct cm_cmp_result *r, const struct cm_cmp_row *row,
			    char *out, size_t n)
{
	if (row->ref_row == SIZE_MAX || &r->rows[row->ref_row] == row)
		snprintf(out, n, "—");
	else
		pct_str(out, n, r->rows[row->ref_row].cmp.rel);
	return out;
}

/* What each model in the table means, once, under it. */
static void models_legend(const struct cm_cmp_result *r, FILE *f)
{
	/* the interval and alpha as --alpha set them (one-sided tests at alpha: a 1 - 2 alpha CI) */
	double a = r->judge.alpha;
	for (unsigned m = 0; m < cm_cmp_nmodels; m++)
		if (r->models & (1u << m)) {
			fputs("  ", f);
			fprintf(f, cm_cmp_models[m].legend, (1 - 2 * a) * 100, a, (1 - a) * 100);
			fputc('\n', f);
		}
	/* the columns beside a session-level change: they disagreed in sign (3.91 s -> 3.63 s,
	 * +2.7%) with nothing saying why */
	unsigned session_level = 0; /* models whose change comes from session medians */
	for (unsigned m = 0; m < cm_cmp_nmodels; m++)
		if (!(cm_cmp_models[m].flags & CM_MODEL_NO_SESSION_LEVEL))
			session_level |= 1u << m;
	if (r->models & session_level)
		fputs("  base, candidate: the medians of all boots pooled; the change is computed from "
		      "the session medians (aligned by session within a run), so where sessions differ "
		      "in size or level the two can disagree, even in sign\n", f);
}

static void footer(const struct cm_cmp_result *r, FILE *f)
{
	char rule[160];
	cm_judge_say(&r->judge, rule, sizeof(rule));
	fprintf(f, "\ngeometric mean of candidate/base over %zu rows: %.4f×; %zu regression%s%s",
		r->nrows, r->geomean, r->regressions, r->regressions == 1 ? "" : "s",
		r->fail_on_some ? " in the gating phases" : "");
	if (r->regressions_boots_only)
		fprintf(f, ", %zu more beyond the boots' noise alone (boots only)",
			r->regressions_boots_only);
	fprintf(f, "\n(%s; within/between: the sd of ln(time) within a session and between "
		   "sessions; reference: its total's change between the same sides%s)\n", rule,
		r->relative ? "; every case relative to its reference in the same session" : "");
	models_legend(r, f);
}

/* The tables of a comparison (text, md, csv): a head, a line per row, and for the ones people
 * read the footer and the host level under it. walk() is the one loop over the rows. */
struct cmp_table {
	void (*head)(FILE *f);
	void (*row)(const struct cm_cmp_result *r, const struct cm_cmp_row *row, FILE *f);
	bool footer;
};

static void walk(const struct cm_cmp_result *r, const struct cmp_table *t, FILE *f)
{
	t->head(f);
	for (size_t i = 0; i < r->nrows; i++)
		t->row(r, &r->rows[i], f);
	if (t->footer) {
		footer(r, f);
		cm_cmp_hosts_write(r, f);
	}
}

static void text_head(FILE *f)
{
	fprintf(f, "%-36s %-12s %11s %11s %8s %19s %8s  %-10s %-16s %6s %7s %9s\n", "case", "phase",
		"base", "candidate", "change", "CI", "p(Holm)", "verdict", "model", "within", "between",
		"reference");
}

static void text_row(const struct cm_cmp_result *r, const struct cm_cmp_row *row, FILE *f)
{
	struct row_text t;
	row_text(row->phase, &row->cmp, &t);
	char ci[80], model[48], w[16], b[16], ref[32];
	snprintf(ci, sizeof(ci), "[%s, %s]", t.lo, t.hi);
	fprintf(f, "%-36s %-12s %11s %11s %8s %19s %8.3g  %-10s %-16s %6s %7s %9s\n", row->case_id,
		row->phase, t.bm, t.cm, t.ch, ci, row->cmp.p_adj,
		row->cmp.verdict == CM_REGRESSED ? "REGRESSED" : cm_verdict_names[row->cmp.verdict],
		model_text(row, model, sizeof(model)), sd_text(row->vc.within, w, sizeof(w)),
		sd_text(row->vc.between, b, sizeof(b)), ref_text(r, row, ref, sizeof(ref)));
	if (row->nwhy) { /* issue 28: what the guest made the host do differently */
		char why[1024];
		cm_explain_text(row, why, sizeof(why));
		fprintf(f, "    why: %s\n", why);
	}
}

static void md_head(FILE *f)
{
	fprintf(f, "| case | phase | base median | candidate median | change | CI | p (Holm) | "
		   "verdict | model | sd within | sd between |\n"
		   "|---|---|--:|--:|--:|---|--:|---|---|--:|--:|\n");
}

static void md_row(const struct cm_cmp_result *r, const struct cm_cmp_row *row, FILE *f)
{
	const struct cm_comparison *x = &row->cmp;
	struct row_text t;
	row_text(row->phase, x, &t);
	char model[48], w[16], b[16];
	fprintf(f, "| %s | %s | %s | %s | %s | %s … %s | %.3g | %s%s | %s | %s | %s |\n",
		row->case_id, row->phase, t.bm, t.cm, t.ch, t.lo, t.hi, x->p_adj,
		x->verdict == CM_REGRESSED ? "**regressed**" : cm_verdict_names[x->verdict],
		x->verdict == CM_IMPROVED ? " ✓" : "", model_text(row, model, sizeof(model)),
		sd_text(row->vc.within, w, sizeof(w)), sd_text(row->vc.between, b, sizeof(b)));
}

static void csv_head(FILE *f)
{
	fprintf(f, "case,phase,base_n,cand_n,base_median_ns,cand_median_ns,change,change_ci_lo,"
		   "change_ci_hi,p,p_adj,verdict,model,base_sessions,cand_sessions,var_within,"
		   "var_between,reference_change\n");
}

static void csv_row(const struct cm_cmp_result *r, const struct cm_cmp_row *row, FILE *f)
{
	const struct cm_comparison *x = &row->cmp;
	cm_csv_field(f, row->case_id);
	fputc(',', f);
	cm_csv_field(f, row->phase);
	fprintf(f, ",%zu,%zu,%.1f,%.1f,%.6f,%.6f,%.6f,%.6g,%.6g,%s,%s,%zu,%zu,%.6g,%.6g,%.6f\n",
		row->base_n, row->cand_n, x->base_median, x->cand_median, x->rel, x->rel_lo,
		x->rel_hi, x->p, x->p_adj, cm_verdict_names[x->verdict],
		cm_cmp_models[row->model].name, row->base_sessions, row->cand_sessions,
		row->vc.within, row->vc.between,
		row->ref_row == SIZE_MAX ? NAN : r->rows[row->ref_row].cmp.rel);
}

static const struct cmp_table text_table = { text_head, text_row, true };
static const struct cmp_table md_table = { md_head, md_row, true };
static const struct cmp_table csv_table = { csv_head, csv_row, false };
static void write_text(const struct cm_cmp_result *r, FILE *f) { walk(r, &text_table, f); }
static void write_md(const struct cm_cmp_result *r, FILE *f) { walk(r, &md_table, f); }
static void write_csv(const struct cm_cmp_result *r, FILE *f) { walk(r, &csv_table, f); }

static json_t *real_or_null(double v)
{
	return isfinite(v) ? json_real(v) : json_null();
}

static json_t *cm_explain_json(const struct cm_cmp_row *row)
{
	json_t *a = json_array();
	for (size_t k = 0; k < row->nwhy; k++) {
		const struct cm_explain *e = &row->why[k];
		char label[128];
		cm_explain_label(e, label, sizeof(label));
		json_array_append_new(a, json_pack("{s:s, s:s, s:s, s:f, s:f, s:f, s:b}", "counter",
						   e->counter, "what", e->what, "label", label,
						   "base_per_boot", e->base, "cand_per_boot", e->cand,
						   "change", e->cand - e->base, "exact", e->exact));
	}
	return a;
}

static void write_json(const struct cm_cmp_result *r, FILE *f)
{
	json_t *rows = json_array();
	for (size_t i = 0; i < r->nrows; i++) {
		const struct cm_cmp_row *row = &r->rows[i];
		const struct cm_comparison *x = &row->cmp;
		json_array_append_new(rows, json_pack("{s:s, s:s, s:i, s:i, s:f, s:f, s:o, s:o, s:o, s:o, "
						      "s:o, s:s}",
			"case", row->case_id, "phase", row->phase, "base_n", (int)row->base_n,
			"cand_n", (int)row->cand_n, "base_median_ns", x->base_median,
			"cand_median_ns", x->cand_median, "change", real_or_null(x->rel),
			"change_ci_lo", real_or_null(x->rel_lo), "change_ci_hi", real_or_null(x->rel_hi),
			"p", real_or_null(x->p), "p_adj", real_or_null(x->p_adj), "verdict",
			cm_verdict_names[x->verdict]));
		json_t *o = json_array_get(rows, json_array_size(rows) - 1);
		json_object_set_new(o, "model", json_string(cm_cmp_models[row->model].name));
		json_object_set_new(o, "base_sessions", json_integer((json_int_t)row->base_sessions));
		json_object_set_new(o, "cand_sessions", json_integer((json_int_t)row->cand_sessions));
		json_object_set_new(o, "var_within", real_or_null(row->vc.within));
		json_object_set_new(o, "var_between", real_or_null(row->vc.between));
		json_object_set_new(o, "icc", real_or_null(row->vc.icc));
		if (row->why) /* issue 28: the profile counters that changed, ranked */
			json_object_set_new(o, "explained_by", cm_explain_json(row));
		json_t *hosts = cm_cmp_hosts_json(r, row);
		if (hosts)
			json_object_set_new(o, "hosts", hosts);
		json_object_set_new(o, "reference_change",
				    row->ref_row == SIZE_MAX ? json_null()
							     : real_or_null(r->rows[row->ref_row].cmp.rel));
	}
	json_t *root = json_pack("{s:o, s:o, s:i, s:i, s:{s:f, s:f, s:f}}", "rows", rows,
				 "geomean_ratio", real_or_null(r->geomean), "regressions",
				 (int)r->regressions, "regressions_boots_only",
				 (int)r->regressions_boots_only,
				 "criteria", "alpha", r->judge.alpha, "threshold", r->judge.thr,
				 "min_change_ns", r->judge.min_ns);
	json_dumpf(root, f, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
	fputc('\n', f);
	json_decref(root);
}

const struct cm_cmp_writer cm_cmp_writers[] = {
	{ "text", write_text }, { "md", write_md }, { "csv", write_csv }, { "json", write_json },
	{ NULL, NULL },
};

const struct cm_cmp_writer *cm_cmp_writer(const char *name)
{
	for (const struct cm_cmp_writer *w = cm_cmp_writers; w->name; w++)
		if (!strcmp(w->name, name))
			return w;
	return NULL;
}

char *cm_cmp_writer_names(void)
{
	size_t n = 0;
	while (cm_cmp_writers[n].name)
		n++;
	char *out = cm_xstrdup("");
	for (size_t i = 0; i < n; i++) {
		const char *sep = i == 0 ? "" : i + 1 == n ? " or " : ", ";
		char *next = cm_xasprintf("%s%s%s", out, sep, cm_cmp_writers[i].name);
		free(out);
		out = next;
	}
	return out;
}
