/* The comparison model (see coldmark/compare.h) and its writers. Pure: no store, no qemu;
 * tested from fixture datasets. */
#include "coldmark/analysis.h"

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


/* The calibration's entries by case: the first of each case's, and after each the next of
 * its case (a scan of the calibration for every row was a sweep's rows x its entries) */
struct cal_index {
	struct cm_strset first;
	size_t *next; /* SIZE_MAX: none */
};

static void cal_index_make(const struct cm_cmp_opts *o, struct cal_index *x)
{
	memset(x, 0, sizeof(*x));
	size_t n = o ? o->ncal : 0, *last = cm_xmalloc((n + 1) * sizeof(size_t));
	x->next = cm_xmalloc((n + 1) * sizeof(size_t));
	for (size_t i = 0; i < n; i++) {
		long f = cm_strset_add(&x->first, o->cal[i].case_id, (long)i);
		x->next[i] = SIZE_MAX;
		if (f >= 0)
			x->next[last[f]] = i, last[f] = i;
		else
			last[i] = i;
	}
	free(last);
}

/* the first entry of (case_id, phase), as a scan in the calibration's order finds it */
static const struct cm_calibration *find_cal(const struct cm_cmp_opts *o, const struct cal_index *x,
					     const char *case_id, const char *phase)
{
	long f = o ? cm_strset_find(&x->first, case_id) : -1;
	for (size_t i = f >= 0 ? (size_t)f : SIZE_MAX; i != SIZE_MAX; i = x->next[i])
		if (!strcmp(o->cal[i].phase, phase))
			return &o->cal[i];
	return NULL;
}

/* Within- and between-session components of both sides, pooled: every model shows them. */
static void pooled_components(const struct cm_cell *x, const struct cm_cell *y,
			      struct cm_varcomp *out)
{
	cm_stats_varcomp_sessions(x->sess, x->nsess, y->sess, y->nsess, out);
}

/* Two arms of one run, interleaved in its sessions. The boots of a session are not
 * replicates of the arms' difference: the arms can move differently from session to session
 * (page placement, cache state, a neighbour that hurts one build more), and a test on boots
 * reads that interaction as a change (an interaction sd of 2% gave 18% false "regressed" at 3
 * sessions). So with 2+ sessions that hold both arms the unit is the session: the difference
 * of the arms' medians of ln(duration) in each, a t with k - 1 df. With one session nothing
 * can see the interaction: the boots' own test, labelled "within ×1 boots". */
static bool fit_within_run(const struct cm_cmp_fit *a, struct cm_cmp_row *row)
{
	if (!a->o || !a->o->within_run)
		return false;
	const struct cm_dataset *b = a->b, *c = a->c;
	const struct cm_cell *x = a->x, *y = a->y;
	double alpha = a->alpha;
	size_t nx = x->s.n, ny = y->s.n;
	double *mx = cm_xmalloc((nx + 1) * sizeof(double)), *my = cm_xmalloc((ny + 1) * sizeof(double)),
	       *d = cm_xmalloc((nx + 1) * sizeof(double));
	int *ix = cm_xmalloc((nx + 1) * sizeof(int)), *iy = cm_xmalloc((ny + 1) * sizeof(int));
	size_t kx = cm_cell_session_medians(x, 1, mx, ix), ky = cm_cell_session_medians(y, 1, my, iy),
	       k = 0;
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
	row->base_sessions = row->cand_sessions = k;
	free(mx), free(my), free(d), free(ix), free(iy);
	return true;
}

static void label_within_run(const struct cm_cmp_row *row, char *out, size_t n)
{
	if (row->base_sessions < 2)
		snprintf(out, n, "within ×1 %s", row->waves ? "waves" : "boots");
	else
		snprintf(out, n, "within run ×%zu", row->base_sessions);
}

/* Two runs: sessions as the unit where both sides have 2+ (fit_sessions), else with the host's
 * calibration (fit_calibrated), else the boots' own comparison, said to be that (fit_boots).
 * Each fit takes the session medians of both sides; with a calibration, its prior. */
static bool between_runs(const struct cm_cmp_fit *a, bool need_sessions, bool need_cal,
			 struct cm_cmp_row *row)
{
	const struct cm_cell *x = a->x, *y = a->y;
	const struct cm_calibration *cal = a->cal;
	double *mb = cm_xmalloc((x->s.n + 1) * sizeof(double)),
	       *mc = cm_xmalloc((y->s.n + 1) * sizeof(double));
	size_t kb = cm_cell_session_medians(x, 2, mb, NULL), kc = cm_cell_session_medians(y, 2, mc, NULL);
	row->base_sessions = kb, row->cand_sessions = kc;
	struct cm_session_prior prior;
	size_t boots = kb + kc ? (x->s.n + y->s.n) / (kb + kc) : 0;
	if (cal)
		cm_session_prior_from(&cal->vc, boots, &prior);
	bool fits = kb && kc && (!need_sessions || (kb >= 2 && kc >= 2)) && (!need_cal || cal) &&
		    !cm_stats_compare_sessions(mb, kb, mc, kc, cal ? &prior : NULL, a->alpha,
					       &row->cmp);
	if (fits) {
		row->cmp.base_median = x->s.median;
		row->cmp.cand_median = y->s.median;
	}
	free(mb), free(mc);
	return fits;
}

static bool fit_sessions(const struct cm_cmp_fit *a, struct cm_cmp_row *row)
{
	return between_runs(a, true, false, row);
}

static bool fit_calibrated(const struct cm_cmp_fit *a, struct cm_cmp_row *row)
{
	if (!between_runs(a, false, true, row))
		return false;
	row->vc = a->cal->vc; /* the host's components, not the two sides' */
	return true;
}

static bool fit_boots(const struct cm_cmp_fit *a, struct cm_cmp_row *row)
{
	const struct cm_cell *x = a->x, *y = a->y;
	/* the sessions a side, for the csv and json, as the session models count them */
	double *m = cm_xmalloc((x->s.n + y->s.n + 1) * sizeof(double));
	row->base_sessions = cm_cell_session_medians(x, 2, m, NULL);
	row->cand_sessions = cm_cell_session_medians(y, 2, m, NULL);
	free(m);
	cm_stats_compare(x->values, x->s.n, y->values, y->s.n, a->alpha, &row->cmp);
	return true;
}

static void label_name(const struct cm_cmp_row *row, char *out, size_t n)
{
	snprintf(out, n, "%s%s", cm_cmp_models[row->model].name, row->waves ? " (waves)" : "");
}

/* The models: one entry each. Legends in this order; fits tried by ascending order. */
const struct cm_cmp_model_info cm_cmp_models[] = {
	{ "sessions",
		"sessions: the change and its CI from the session medians (t across sessions; "
		"one-sided tests, so the CI is the %1$g%% interval whose bounds decide at alpha %2$g)",
	  fit_sessions, 2, 0, NULL },
	{ "calibrated",
		"calibrated: a side has one session; the between-session variance is this host's "
		"calibration (coldmark calibrate); a %1$g%% t interval", fit_calibrated, 3, 0, NULL },
	{ "within run",
		"within run ×k: both values interleaved in the same k sessions; the change and its "
		"%1$g%% CI from the per-session differences of their medians (t, k - 1 df: arms that "
		"move differently from session to session widen it); within ×1 boots: one session, "
		"the boots' own test, blind to that (a %3$g%% Hodges–Lehmann CI; run --sessions 3 "
		"or more)", fit_within_run, 0, 0,
	  label_within_run },
	{ "boots only",
		"boots only: one session a side and no calibration of this host: the CI (%3$g%%, "
		"Hodges–Lehmann) is the boots' alone, NOT the CI of a change between runs "
		"(between-session noise unknown); its "
		"regressions exit 5, not 1 (run --sessions K, or coldmark calibrate)", fit_boots, 4,
	  CM_MODEL_NO_SESSION_LEVEL, label_name },
	{ "hosts",
		"hosts: sessions on 2+ hosts on both sides: the change measured on each host, then "
		"the mean and its t interval across hosts (%1$g%%, one-sided tests); p from van "
		"Elteren's rank sum stratified by host", cm_cmp_fit_hosts, 1, CM_MODEL_PER_HOST,
	  cm_cmp_label_hosts },
};
const size_t cm_cmp_nmodels = sizeof(cm_cmp_models) / sizeof(cm_cmp_models[0]);

/* The row under the first model, by order, whose fit takes it. */
static size_t fit_row(const struct cm_cmp_fit *a, struct cm_cmp_row *row)
{
	bool tried[32] = { false };
	for (size_t round = 0; round < cm_cmp_nmodels; round++) {
		size_t next = cm_cmp_nmodels;
		for (size_t m = 0; m < cm_cmp_nmodels; m++)
			if (!tried[m] && (next == cm_cmp_nmodels ||
					  cm_cmp_models[m].order < cm_cmp_models[next].order))
				next = m;
		tried[next] = true;
		if (cm_cmp_models[next].fit(a, row))
			return next;
	}
	abort(); /* the last model (boots only) always fits */
}

/* The wave as a level below the session (issue 29): a wave's boots shared one moment of the
 * host, so a wave, not a boot, is a replicate. A cell with boots in waves is compared as its
 * waves' medians within each session (cm_stats_wave_units): the boots' own tests then see
 * waves as their values, and the session models take session medians over them. Returns x
 * itself when none of its boots ran in a wave; else tmp, whose arrays the caller frees. */
static const struct cm_cell *wave_units(const struct cm_cell *x, size_t nsessions,
					struct cm_cell *tmp)
{
	bool any = false;
	for (size_t i = 0; x->waves && i < x->s.n && !any; i++)
		any = x->waves[i] > 0;
	if (!any)
		return x;
	*tmp = *x; /* its summary (the boots' median) stays the cell's */
	tmp->values = cm_xmalloc((x->s.n + 1) * sizeof(double));
	tmp->sessions = cm_xmalloc((x->s.n + 1) * sizeof(int));
	tmp->boots = tmp->waves = NULL;
	tmp->s.n = cm_stats_wave_units(x->values, x->sessions, x->waves, x->s.n, tmp->values,
				       tmp->sessions);
	tmp->sess = NULL, tmp->nsess = 0; /* the session models' figures, over the waves */
	cm_cell_sessions_of(tmp, nsessions);
	return tmp;
}

/* Rows for every case and phase both sides have; the cases on one side only. */
static void match_rows(const struct cm_report *rb, const struct cm_report *rc, double alpha,
		       const char *fail_on, const struct cm_cmp_opts *o, struct cm_cmp_result *r)
{
	const struct cm_dataset *b = rb->ds, *c = rc->ds;
	struct cal_index cx;
	cal_index_make(o, &cx);
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
			struct cm_cell wx, wy;
			const struct cm_cell *ux = wave_units(x, b->nsessions, &wx),
					     *uy = wave_units(y, c->nsessions, &wy);
			row->waves = ux != x || uy != y;
			/* the components shown over the units tested (in waves: "within" is between a
			 * session's waves, as a run's own report and its calibration say it); a
			 * calibrated row says the host's instead */
			pooled_components(ux, uy, &row->vc);
			struct cm_cmp_fit fit = { b, c, ux, uy, alpha, log1p(r->judge.thr), o,
						  find_cal(o, &cx, c->cases[ci].id, c->phases[pc]), r };
			row->model = fit_row(&fit, row);
			if (ux != x)
				free(wx.values), free(wx.sessions), free(wx.sess);
			if (uy != y)
				free(wy.values), free(wy.sessions), free(wy.sess);
			row->cmp.no_floor = cm_value_is_bytes(c->phases[pc]);
			r->models |= 1u << row->model;
		}
	}
	for (size_t bi = 0; bi < b->ncases; bi++)
		if (cm_dataset_case_index(c, b->cases[bi].id) == c->ncases)
			push(&r->only_base, &r->n_only_base, cm_xstrdup(b->cases[bi].id));
	cm_strset_free(&cx.first);
	free(cx.next);
}

/* Each row beside its reference's change (the reference's total, in the same sessions), and
 * a warning for every reference that moved: then the host changed, not only the guest. */
static void link_references(const struct cm_dataset *cand, struct cm_cmp_result *r)
{
	/* the references' total rows, found once (a run has one reference an accelerator): a
	 * scan of every row for every row was quadratic in a sweep's cases */
	size_t *ref_rows = NULL, nref = 0;
	for (size_t k = 0; k < r->nrows; k++)
		if (cm_is_reference_case(r->rows[k].case_id) && !strcmp(r->rows[k].phase, "total")) {
			ref_rows = cm_xrealloc(ref_rows, (nref + 1) * sizeof(*ref_rows));
			ref_rows[nref++] = k;
		}
	size_t *map = nref ? cm_reference_map(cand) : NULL;
	for (size_t i = 0; i < r->nrows; i++) {
		struct cm_cmp_row *row = &r->rows[i];
		row->ref_row = SIZE_MAX;
		size_t ci = nref ? cm_dataset_case_index(cand, row->case_id) : cand->ncases,
		       ref = ci < cand->ncases ? map[ci] : cand->ncases;
		for (size_t j = 0; ref < cand->ncases && j < nref; j++)
			if (!strcmp(r->rows[ref_rows[j]].case_id, cand->cases[ref].id))
				row->ref_row = ref_rows[j];
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
	free(ref_rows), free(map);
}

int cm_compare_build(const struct cm_dataset *base, const struct cm_dataset *cand,
		     const struct cm_judge *j, const char *fail_on, const struct cm_cmp_opts *opts,
		     struct cm_cmp_result *out)
{
	memset(out, 0, sizeof(*out));
	out->judge = *j;
	out->fail_on_some = fail_on != NULL;
	struct cm_report rb, rc;
	cm_report_build_compare_cells(base, &rb);
	cm_report_build_compare_cells(cand, &rc);
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
		if (cm_cmp_models[out->rows[i].model].flags & CM_MODEL_NO_SESSION_LEVEL)
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
