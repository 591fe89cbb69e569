/* The comparison model (see coldmark/compare.h) and its writers. Pure: no store, no qemu;
 * tested from fixture datasets. */
#include "coldmark/compare.h"

#include <jansson.h>
#include <math.h>
#include <stdint.h>
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

static void push(char ***v, size_t *n, char *s);
static void header_diffs(const struct cm_dataset *b, const struct cm_dataset *c,
			 struct cm_cmp_result *r);

size_t cm_header_diffs(const struct cm_dataset *a, const struct cm_dataset *b, char ***out)
{
	struct cm_cmp_result r = { 0 };
	header_diffs(a, b, &r);
	*out = r.not_comparable;
	return r.n_not_comparable;
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

const char *const cm_cmp_model_names[] = { "sessions", "calibrated", "within run", "boots only",
					   "hosts" };

static const struct cm_calibration *find_cal(const struct cm_cmp_opts *o, const char *case_id,
					     const char *phase)
{
	for (size_t i = 0; o && i < o->ncal; i++)
		if (!strcmp(o->cal[i].case_id, case_id) && !strcmp(o->cal[i].phase, phase))
			return &o->cal[i];
	return NULL;
}

/* Within- and between-session components of both sides, pooled: every model shows them. */
static void pooled_components(const struct cm_cell *x, const struct cm_cell *y,
			      struct cm_varcomp *out)
{
	cm_stats_varcomp_sides(x->values, x->sessions, x->s.n, y->values, y->sessions, y->s.n, out);
}

/* Two arms of one run, interleaved in its sessions. The boots of a session are not
 * replicates of the arms' difference: the arms can move differently from session to session
 * (page placement, cache state, a neighbour that hurts one build more), and a test on boots
 * reads that interaction as a change (an interaction sd of 2% gave 18% false "regressed" at 3
 * sessions). So with 2+ sessions that hold both arms the unit is the session: the difference
 * of the arms' medians of ln(duration) in each, a t with k - 1 df. With one session nothing
 * can see the interaction: the boots' own test, labelled "within ×1 boots". */
static void within_run(const struct cm_dataset *b, const struct cm_dataset *c,
		       const struct cm_cell *x, const struct cm_cell *y, double alpha,
		       struct cm_cmp_row *row)
{
	size_t nx = x->s.n, ny = y->s.n;
	double *mx = cm_xmalloc((nx + 1) * sizeof(double)), *my = cm_xmalloc((ny + 1) * sizeof(double)),
	       *d = cm_xmalloc((nx + 1) * sizeof(double));
	int *ix = cm_xmalloc((nx + 1) * sizeof(int)), *iy = cm_xmalloc((ny + 1) * sizeof(int));
	size_t kx = cm_stats_session_medians(x->values, x->sessions, nx, 1, mx, NULL),
	       ky = cm_stats_session_medians(y->values, y->sessions, ny, 1, my, NULL), k = 0;
	cm_stats_session_ids(x->sessions, nx, 1, ix);
	cm_stats_session_ids(y->sessions, ny, 1, iy);
	for (size_t i = 0; i < kx; i++) /* the sessions that hold both arms, by their ids */
		for (size_t j = 0; j < ky; j++)
			if (ix[i] >= 1 && (size_t)ix[i] <= b->nsessions && iy[j] >= 1 &&
			    (size_t)iy[j] <= c->nsessions &&
			    !strcmp(b->sessions[ix[i] - 1].id, c->sessions[iy[j] - 1].id))
				d[k++] = my[j] - mx[i];
	if (k < 2 || cm_stats_compare_paired(d, k, alpha, &row->cmp))
		cm_stats_compare(x->values, nx, y->values, ny, alpha, &row->cmp);
	row->cmp.base_median = x->s.median;
	row->cmp.cand_median = y->s.median;
	row->model = CM_MODEL_WITHIN_RUN;
	row->base_sessions = row->cand_sessions = k;
	free(mx), free(my), free(d), free(ix), free(iy);
}

/* Two runs: sessions as the unit where both sides have 2+, else with the host's calibration,
 * else the boots' own comparison, said to be that. */
static void between_runs(const struct cm_cell *x, const struct cm_cell *y, double alpha,
			 const struct cm_calibration *cal, struct cm_cmp_row *row)
{
	double *mb = cm_xmalloc((x->s.n + 1) * sizeof(double)),
	       *mc = cm_xmalloc((y->s.n + 1) * sizeof(double));
	size_t kb = cm_stats_session_medians(x->values, x->sessions, x->s.n, 2, mb, NULL),
	       kc = cm_stats_session_medians(y->values, y->sessions, y->s.n, 2, mc, NULL);
	row->base_sessions = kb, row->cand_sessions = kc;
	struct cm_session_prior prior;
	size_t boots = kb + kc ? (x->s.n + y->s.n) / (kb + kc) : 0;
	if (cal)
		cm_session_prior_from(&cal->vc, boots, &prior);
	bool sessions = kb >= 2 && kc >= 2;
	if (kb && kc && (sessions || cal) &&
	    !cm_stats_compare_sessions(mb, kb, mc, kc, cal ? &prior : NULL, alpha, &row->cmp)) {
		row->model = sessions ? CM_MODEL_SESSIONS : CM_MODEL_CALIBRATED;
		if (row->model == CM_MODEL_CALIBRATED)
			row->vc = cal->vc;
		row->cmp.base_median = x->s.median;
		row->cmp.cand_median = y->s.median;
	} else {
		cm_stats_compare(x->values, x->s.n, y->values, y->s.n, alpha, &row->cmp);
		row->model = CM_MODEL_BOOTS;
	}
	free(mb), free(mc);
}

/* Rows for every case and phase both sides have; the cases on one side only. */
static void match_rows(const struct cm_report *rb, const struct cm_report *rc, double alpha,
		       const char *fail_on, const struct cm_cmp_opts *o, struct cm_cmp_result *r)
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
			if (!x->nrows || !y->nrows)
				continue; /* a phase the case does not report (a reference's, but total) */
			struct cm_cmp_row *row = &r->rows[r->nrows++];
			*row = (struct cm_cmp_row){ c->cases[ci].id, c->phases[pc], x->s.n, y->s.n };
			row->gating = !fail_on || cm_list_has(fail_on, c->phases[pc]);
			pooled_components(x, y, &row->vc); /* a calibrated row says the host's instead */
			if (o && o->within_run)
				within_run(b, c, x, y, alpha, row);
			else if (!cm_cmp_hosts_row(b, c, x, y, alpha, log1p(r->judge.thr), row, r))
				between_runs(x, y, alpha, find_cal(o, c->cases[ci].id, c->phases[pc]), row);
			row->cmp.no_floor = cm_value_is_bytes(c->phases[pc]);
			r->models |= 1u << row->model;
		}
	}
	for (size_t bi = 0; bi < b->ncases; bi++)
		if (cm_dataset_case_index(c, b->cases[bi].id) == c->ncases)
			push(&r->only_base, &r->n_only_base, cm_xstrdup(b->cases[bi].id));
}

/* Each row beside its reference's change (the reference's total, in the same sessions), and
 * a warning for every reference that moved: then the host changed, not only the guest. */
static void link_references(const struct cm_dataset *cand, struct cm_cmp_result *r)
{
	for (size_t i = 0; i < r->nrows; i++) {
		struct cm_cmp_row *row = &r->rows[i];
		row->ref_row = SIZE_MAX;
		size_t ci = cm_dataset_case_index(cand, row->case_id),
		       ref = ci < cand->ncases ? cm_reference_for(cand, ci) : cand->ncases;
		for (size_t k = 0; ref < cand->ncases && k < r->nrows; k++)
			if (!strcmp(r->rows[k].case_id, cand->cases[ref].id) &&
			    !strcmp(r->rows[k].phase, "total"))
				row->ref_row = k;
		const struct cm_comparison *x = &row->cmp;
		if (!cm_is_reference_case(row->case_id) || strcmp(row->phase, "total") ||
		    x->verdict == CM_NO_CHANGE || x->verdict == CM_INCOMPARABLE)
			continue;
		push(&r->reference_moved, &r->n_reference_moved,
		     cm_xasprintf("%s moved %+.1f%% [%+.1f%%, %+.1f%%] between the sides: the host "
				  "changed, not (only) the guests; --relative-to reference judges "
				  "each case against it in the same session", row->case_id,
				  x->rel * 100, x->rel_lo * 100, x->rel_hi * 100));
	}
}

int cm_compare_build(const struct cm_dataset *base, const struct cm_dataset *cand,
		     const struct cm_judge *j, const char *fail_on, const struct cm_cmp_opts *opts,
		     struct cm_cmp_result *out)
{
	memset(out, 0, sizeof(*out));
	out->judge = *j;
	out->fail_on_some = fail_on != NULL;
	struct cm_report rb, rc;
	cm_report_build(base, j->alpha, &rb);
	cm_report_build(cand, j->alpha, &rc);
	header_diffs(base, cand, out);
	match_rows(&rb, &rc, j->alpha, fail_on, opts, out);
	/* Holm over every row at once: the verdicts see the whole family */
	struct cm_comparison *cmps = cm_xcalloc(out->nrows + 1, sizeof(*cmps));
	for (size_t i = 0; i < out->nrows; i++)
		cmps[i] = out->rows[i].cmp;
	cm_stats_holm_verdicts(cmps, out->nrows, j->alpha, j->thr, j->min_ns);
	for (size_t i = 0; i < out->nrows; i++) {
		out->rows[i].cmp = cmps[i];
		bool reg = cmps[i].verdict == CM_REGRESSED && out->rows[i].gating;
		if (out->rows[i].model == CM_MODEL_BOOTS)
			out->regressions_boots_only += reg;
		else
			out->regressions += reg;
	}
	out->geomean = cm_stats_geomean_ratio(cmps, out->nrows);
	out->relative = opts && opts->relative;
	link_references(cand, out);
	free(cmps);
	cm_report_free(&rb);
	cm_report_free(&rc);
	return 0;
}

void cm_compare_free(struct cm_cmp_result *r)
{
	char **lists[] = { r->only_base, r->only_cand, r->not_comparable, r->reference_moved };
	size_t ns[] = { r->n_only_base, r->n_only_cand, r->n_not_comparable, r->n_reference_moved };
	for (int l = 0; l < 4; l++) {
		for (size_t i = 0; i < ns[l]; i++)
			free(lists[l][i]);
		free(lists[l]);
	}
	for (size_t i = 0; i < r->nrows; i++)
		cm_hosts_free(&r->rows[i].hosts);
	for (size_t i = 0; i < r->nhosts; i++)
		free(r->hosts[i]);
	free(r->hosts);
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
	if (row->model == CM_MODEL_WITHIN_RUN && row->base_sessions < 2)
		snprintf(out, n, "within ×1 boots");
	else if (row->model == CM_MODEL_BOOTS)
		snprintf(out, n, "%s", cm_cmp_model_names[row->model]);
	else if (row->model == CM_MODEL_WITHIN_RUN)
		snprintf(out, n, "within run ×%zu", row->base_sessions);
	else if (row->model == CM_MODEL_HOSTS)
		snprintf(out, n, "hosts %zu: %zu+%zu", row->hosts.shared, row->base_sessions,
			 row->cand_sessions);
	else
		snprintf(out, n, "%s %zu+%zu", cm_cmp_model_names[row->model], row->base_sessions,
			 row->cand_sessions);
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
	static const char *const says[] = {
		"sessions: the change and its CI from the session medians (t across sessions; "
		"one-sided tests, so the CI is the 90% interval whose bounds decide at alpha 0.05)",
		"calibrated: a side has one session; the between-session variance is this host's "
		"calibration (coldmark calibrate)",
		"within run ×k: both values interleaved in the same k sessions; the change and its "
		"CI from the per-session differences of their medians (t, k - 1 df: arms that move "
		"differently from session to session widen it); within ×1 boots: one session, the "
		"boots' own test, blind to that (run --sessions 3 or more)",
		"boots only: one session a side and no calibration of this host: the CI is the boots' "
		"alone, NOT the CI of a change between runs (between-session noise unknown); its "
		"regressions exit 5, not 1 (run --sessions K, or coldmark calibrate)",
		"hosts: sessions on 2+ hosts on both sides: the change measured on each host, then "
		"the mean and its t interval across hosts (90%, one-sided tests); p from van "
		"Elteren's rank sum stratified by host",
	};
	for (unsigned m = 0; m < CM_NMODELS; m++)
		if (r->models & (1u << m))
			fprintf(f, "  %s\n", says[m]);
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

static void write_text(const struct cm_cmp_result *r, FILE *f)
{
	fprintf(f, "%-36s %-12s %11s %11s %8s %19s %8s  %-10s %-16s %6s %7s %9s\n", "case", "phase",
		"base", "candidate", "change", "CI", "p(Holm)", "verdict", "model", "within", "between",
		"reference");
	for (size_t i = 0; i < r->nrows; i++) {
		const struct cm_cmp_row *row = &r->rows[i];
		struct row_text t;
		row_text(row->phase, &row->cmp, &t);
		char ci[80], model[48], w[16], b[16], ref[32];
		snprintf(ci, sizeof(ci), "[%s, %s]", t.lo, t.hi);
		fprintf(f, "%-36s %-12s %11s %11s %8s %19s %8.3g  %-10s %-16s %6s %7s %9s\n", row->case_id,
			row->phase, t.bm, t.cm, t.ch, ci, row->cmp.p_adj,
			row->cmp.verdict == CM_REGRESSED ? "REGRESSED" : cm_verdict_names[row->cmp.verdict],
			model_text(row, model, sizeof(model)), sd_text(row->vc.within, w, sizeof(w)),
			sd_text(row->vc.between, b, sizeof(b)), ref_text(r, row, ref, sizeof(ref)));
	}
	footer(r, f);
	cm_cmp_hosts_write(r, f);
}

static void write_md(const struct cm_cmp_result *r, FILE *f)
{
	fprintf(f, "| case | phase | base median | candidate median | change | CI | p (Holm) | "
		   "verdict | model | sd within | sd between |\n"
		   "|---|---|--:|--:|--:|---|--:|---|---|--:|--:|\n");
	for (size_t i = 0; i < r->nrows; i++) {
		const struct cm_cmp_row *row = &r->rows[i];
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
	footer(r, f);
	cm_cmp_hosts_write(r, f);
}

static void write_csv(const struct cm_cmp_result *r, FILE *f)
{
	fprintf(f, "case,phase,base_n,cand_n,base_median_ns,cand_median_ns,change,change_ci_lo,"
		   "change_ci_hi,p,p_adj,verdict,model,base_sessions,cand_sessions,var_within,"
		   "var_between,reference_change\n");
	for (size_t i = 0; i < r->nrows; i++) {
		const struct cm_cmp_row *row = &r->rows[i];
		const struct cm_comparison *x = &row->cmp;
		cm_csv_field(f, row->case_id);
		fputc(',', f);
		cm_csv_field(f, row->phase);
		fprintf(f, ",%zu,%zu,%.1f,%.1f,%.6f,%.6f,%.6f,%.6g,%.6g,%s,%s,%zu,%zu,%.6g,%.6g,%.6f\n",
			row->base_n, row->cand_n, x->base_median, x->cand_median, x->rel, x->rel_lo,
			x->rel_hi, x->p, x->p_adj, cm_verdict_names[x->verdict],
			cm_cmp_model_names[row->model], row->base_sessions, row->cand_sessions,
			row->vc.within, row->vc.between,
			row->ref_row == SIZE_MAX ? NAN : r->rows[row->ref_row].cmp.rel);
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
		json_t *o = json_array_get(rows, json_array_size(rows) - 1);
		json_object_set_new(o, "model", json_string(cm_cmp_model_names[row->model]));
		json_object_set_new(o, "base_sessions", json_integer((json_int_t)row->base_sessions));
		json_object_set_new(o, "cand_sessions", json_integer((json_int_t)row->cand_sessions));
		json_object_set_new(o, "var_within", real_or_null(row->vc.within));
		json_object_set_new(o, "var_between", real_or_null(row->vc.between));
		json_object_set_new(o, "icc", real_or_null(row->vc.icc));
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
