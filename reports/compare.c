/* The comparison model (see coldmark/compare.h) and its writers. Pure: no store, no qemu;
 * tested from fixture datasets. */
#include "coldmark/compare.h"

#include <jansson.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

void cm_judge_say(const struct cm_judge *j, char *out, size_t n)
{
	char floor[32] = "";
	if (j->min_ns > 0)
		cm_format_ns(j->min_ns, floor, sizeof(floor));
	snprintf(out, n, "a verdict needs Holm p < %g and the whole CI beyond ±%g%%%s%s", j->alpha,
		 j->thr * 100, j->min_ns > 0 ? " and beyond ±" : "", floor);
}

static void push(char ***v, size_t *n, char *s)
{
	*v = cm_xrealloc(*v, (*n + 1) * sizeof(char *));
	(*v)[(*n)++] = s;
}

/* firmware: every ROM either side loaded, by its content (the hash, not the path) */
static void firmware_diffs(const struct cm_dataset *b, const struct cm_dataset *c,
			   struct cm_cmp_result *r)
{
	static const char fw[] = "firmware sha256 (";
	bool recorded[2] = { false, false }; /* runs before coldmark asked qemu recorded none */
	for (int side = 0; side < 2; side++)
		for (size_t i = 0; i < (side ? c->nmeta : b->nmeta); i++)
			recorded[side] |= !strncmp((side ? c->meta_keys : b->meta_keys)[i], fw,
						   sizeof(fw) - 1);
	for (int side = 0; side < 2 && recorded[0] && recorded[1]; side++) {
		const struct cm_dataset *one = side ? c : b, *other = side ? b : c;
		for (size_t i = 0; i < one->nmeta; i++) {
			const char *k = one->meta_keys[i], *x = one->meta_vals[i];
			if (strncmp(k, fw, sizeof(fw) - 1))
				continue;
			const char *y = cm_dataset_get_meta(other, k);
			if (!y)
				push(&r->not_comparable, &r->n_not_comparable,
				     cm_xasprintf("only the %s loads %.*s", side ? "candidate" : "base",
						  (int)(strlen(k) - sizeof(fw)), k + sizeof(fw) - 1));
			else if (!side && strncmp(x, y, strcspn(x, " ")))
				push(&r->not_comparable, &r->n_not_comparable,
				     cm_xasprintf("%s differs: '%s' vs '%s'", k, x, y));
		}
	}
}

static void header_diffs(const struct cm_dataset *b, const struct cm_dataset *c,
			 struct cm_cmp_result *r)
{
	for (size_t k = 0; k < CM_HDR_COUNT; k++) {
		if (!cm_header_keys[k].comparable)
			continue;
		const char *name = cm_header_keys[k].name, *x = cm_dataset_get_meta(b, name),
			   *y = cm_dataset_get_meta(c, name);
		if (x && y && strcmp(x, y))
			push(&r->not_comparable, &r->n_not_comparable,
			     cm_xasprintf("%s differs: '%s' vs '%s'", name, x, y));
	}
	firmware_diffs(b, c, r);
}

/* Rows for every case and phase both sides have; the cases on one side only. */
static void match_rows(const struct cm_report *rb, const struct cm_report *rc, double alpha,
		       const char *fail_on, struct cm_cmp_result *r)
{
	const struct cm_dataset *b = rb->ds, *c = rc->ds;
	r->rows = cm_xcalloc(c->ncases * c->nphases + 1, sizeof(*r->rows));
	for (size_t ci = 0; ci < c->ncases; ci++) {
		size_t bi = cm_dataset_case_index(b, c->cases[ci].id);
		if (bi == b->ncases) {
			push(&r->only_cand, &r->n_only_cand, cm_xstrdup(c->cases[ci].id));
			continue;
		}
		for (size_t pc = 0; pc < c->nphases; pc++) {
			size_t pb = cm_dataset_find_phase(b, c->phases[pc]);
			if (pb == b->nphases)
				continue;
			const struct cm_cell *x = cm_report_cell(rb, bi, pb), *y = cm_report_cell(rc, ci, pc);
			struct cm_cmp_row *row = &r->rows[r->nrows++];
			*row = (struct cm_cmp_row){ c->cases[ci].id, c->phases[pc], x->s.n, y->s.n };
			row->gating = !fail_on || cm_list_has(fail_on, c->phases[pc]);
			cm_stats_compare(x->values, x->s.n, y->values, y->s.n, alpha, &row->cmp);
		}
	}
	for (size_t bi = 0; bi < b->ncases; bi++)
		if (cm_dataset_case_index(c, b->cases[bi].id) == c->ncases)
			push(&r->only_base, &r->n_only_base, cm_xstrdup(b->cases[bi].id));
}

int cm_compare_build(const struct cm_dataset *base, const struct cm_dataset *cand,
		     const struct cm_judge *j, const char *fail_on, struct cm_cmp_result *out)
{
	memset(out, 0, sizeof(*out));
	out->judge = *j;
	out->fail_on_some = fail_on != NULL;
	struct cm_report rb, rc;
	cm_report_build(base, j->alpha, &rb);
	cm_report_build(cand, j->alpha, &rc);
	header_diffs(base, cand, out);
	match_rows(&rb, &rc, j->alpha, fail_on, out);
	/* Holm over every row at once: the verdicts see the whole family */
	struct cm_comparison *cmps = cm_xcalloc(out->nrows + 1, sizeof(*cmps));
	for (size_t i = 0; i < out->nrows; i++)
		cmps[i] = out->rows[i].cmp;
	cm_stats_holm_verdicts(cmps, out->nrows, j->alpha, j->thr, j->min_ns);
	for (size_t i = 0; i < out->nrows; i++) {
		out->rows[i].cmp = cmps[i];
		out->regressions += cmps[i].verdict == CM_REGRESSED && out->rows[i].gating;
	}
	out->geomean = cm_stats_geomean_ratio(cmps, out->nrows);
	free(cmps);
	cm_report_free(&rb);
	cm_report_free(&rc);
	return 0;
}

void cm_compare_free(struct cm_cmp_result *r)
{
	char **lists[] = { r->only_base, r->only_cand, r->not_comparable };
	size_t ns[] = { r->n_only_base, r->n_only_cand, r->n_not_comparable };
	for (int l = 0; l < 3; l++) {
		for (size_t i = 0; i < ns[l]; i++)
			free(lists[l][i]);
		free(lists[l]);
	}
	free(r->rows);
	memset(r, 0, sizeof(*r));
}

/* ---- writers ------------------------------------------------------------------------------ */

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

static void row_text(const struct cm_comparison *x, struct row_text *t)
{
	cm_format_ns(x->base_median, t->bm, sizeof(t->bm));
	cm_format_ns(x->cand_median, t->cm, sizeof(t->cm));
	pct_str(t->ch, sizeof(t->ch), x->rel);
	pct_str(t->lo, sizeof(t->lo), x->rel_lo);
	pct_str(t->hi, sizeof(t->hi), x->rel_hi);
}

static void footer(const struct cm_cmp_result *r, FILE *f)
{
	char rule[160];
	cm_judge_say(&r->judge, rule, sizeof(rule));
	fprintf(f, "\ngeometric mean of candidate/base over %zu rows: %.4f×; %zu regression%s%s\n"
		   "(%s)\n",
		r->nrows, r->geomean, r->regressions, r->regressions == 1 ? "" : "s",
		r->fail_on_some ? " in the gating phases" : "", rule);
}

static void write_text(const struct cm_cmp_result *r, FILE *f)
{
	fprintf(f, "%-36s %-12s %11s %11s %8s %19s %8s  %s\n", "case", "phase", "base", "candidate",
		"change", "CI", "p(Holm)", "verdict");
	for (size_t i = 0; i < r->nrows; i++) {
		const struct cm_cmp_row *row = &r->rows[i];
		struct row_text t;
		row_text(&row->cmp, &t);
		char ci[80];
		snprintf(ci, sizeof(ci), "[%s, %s]", t.lo, t.hi);
		fprintf(f, "%-36s %-12s %11s %11s %8s %19s %8.3g  %s\n", row->case_id, row->phase, t.bm,
			t.cm, t.ch, ci, row->cmp.p_adj,
			row->cmp.verdict == CM_REGRESSED ? "REGRESSED" : cm_verdict_names[row->cmp.verdict]);
	}
	footer(r, f);
}

static void write_md(const struct cm_cmp_result *r, FILE *f)
{
	fprintf(f, "| case | phase | base median | candidate median | change | %.0f%% CI | p (Holm) | "
		   "verdict |\n|---|---|--:|--:|--:|---|--:|---|\n",
		(1 - r->judge.alpha) * 100);
	for (size_t i = 0; i < r->nrows; i++) {
		const struct cm_cmp_row *row = &r->rows[i];
		const struct cm_comparison *x = &row->cmp;
		struct row_text t;
		row_text(x, &t);
		fprintf(f, "| %s | %s | %s | %s | %s | %s … %s | %.3g | %s%s |\n", row->case_id,
			row->phase, t.bm, t.cm, t.ch, t.lo, t.hi, x->p_adj,
			x->verdict == CM_REGRESSED ? "**regressed**" : cm_verdict_names[x->verdict],
			x->verdict == CM_IMPROVED ? " ✓" : "");
	}
	footer(r, f);
}

static void write_csv(const struct cm_cmp_result *r, FILE *f)
{
	fprintf(f, "case,phase,base_n,cand_n,base_median_ns,cand_median_ns,change,change_ci_lo,"
		   "change_ci_hi,p,p_adj,verdict\n");
	for (size_t i = 0; i < r->nrows; i++) {
		const struct cm_cmp_row *row = &r->rows[i];
		const struct cm_comparison *x = &row->cmp;
		cm_csv_field(f, row->case_id);
		fputc(',', f);
		cm_csv_field(f, row->phase);
		fprintf(f, ",%zu,%zu,%.1f,%.1f,%.6f,%.6f,%.6f,%.6g,%.6g,%s\n", row->base_n, row->cand_n,
			x->base_median, x->cand_median, x->rel, x->rel_lo, x->rel_hi, x->p, x->p_adj,
			cm_verdict_names[x->verdict]);
	}
}

static json_t *real_or_null(double v)
{
	return isfinite(v) ? json_real(v) : json_null();
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
	}
	json_t *root = json_pack("{s:o, s:o, s:i, s:{s:f, s:f, s:f}}", "rows", rows, "geomean_ratio",
				 real_or_null(r->geomean), "regressions", (int)r->regressions,
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
