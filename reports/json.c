/* report.json through jansson: the Markdown report's content for machines, every duration in
 * ns (the unit named once at the top and in every key), raw samples included. */
#include <jansson.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "coldmark/report.h"
#include "frags.h"

static json_t *real(double v)
{
	return isfinite(v) ? json_real(v) : json_null();
}

static json_t *summary_json(const struct cm_cell *cell, const struct cm_report *r)
{
	const struct cm_summary *s = &cell->s;
	json_t *o = json_object();
	json_object_set_new(o, "n", json_integer((json_int_t)s->n));
	/* a metric's values are in its unit, under the same *_ns names */
	json_object_set_new(o, "unit", json_string(cm_value_is_bytes(r->ds->phases[cell->phase_idx])
						   ? "bytes" : "ns"));
	json_object_set_new(o, "n_failed", json_integer((json_int_t)cell->n_failed));
	json_object_set_new(o, "n_audit_flagged", json_integer((json_int_t)cell->n_audit));
	char why[64];
	if (cm_cell_unmeasurable(cell, why, sizeof(why)))
		json_object_set_new(o, "not_measurable", json_string(why));
	json_object_set_new(o, "mean_ns", real(s->mean));
	json_object_set_new(o, "sd_ns", real(s->sd));
	json_object_set_new(o, "cv", real(s->cv));
	json_object_set_new(o, "mean_ci_ns", json_pack("[oo]", real(s->mean_ci_lo), real(s->mean_ci_hi)));
	json_object_set_new(o, "median_ns", real(s->median));
	json_object_set_new(o, "median_ci_ns",
			    json_pack("[oo]", real(s->median_ci_lo), real(s->median_ci_hi)));
	json_object_set_new(o, "median_ci_level", real(s->median_ci_level));
	if (s->ci_units) { /* a run in waves: the CIs' replicate (absent: the boots) */
		json_object_set_new(o, "ci_unit", json_string("waves"));
		json_object_set_new(o, "ci_waves", json_integer((json_int_t)s->ci_units));
	}
	if (cell->vc.sessions >= 2) { /* the level above the boot */
		struct cm_dimension dim;
		json_t *ses = json_pack("{s:i, s:o, s:o, s:o}", "n", (json_int_t)cell->vc.sessions,
					"var_within", real(cell->vc.within), "var_between",
					real(cell->vc.between), "icc", real(cell->vc.icc));
		if (cm_cell_advice(r, cell, &dim))
			json_object_set_new(ses, "advice", json_pack("{s:f, s:i, s:i, s:f}", "ci_halfwidth",
								     CM_ADVICE_TARGET, "sessions", dim.sessions,
								     s->ci_units ? "waves" : "boots", dim.boots,
								     "cost_s", dim.cost_s));
		json_object_set_new(o, "sessions", ses);
	}
	json_t *pct = json_object();
	for (int i = 0; i < CM_STATS_NPCT; i++) {
		char k[32];
		snprintf(k, sizeof(k), "p%g_ns", cm_stats_pct[i] * 100);
		json_object_set_new(pct, k, real(s->pct[i]));
	}
	json_object_set_new(o, "percentiles", pct);
	json_object_set_new(o, "min_ns", real(s->min));
	json_object_set_new(o, "max_ns", real(s->max));
	json_object_set_new(o, "mad_ns", real(s->mad));
	json_t *out = json_array();
	for (size_t i = 0; i < s->n_outliers; i++)
		json_array_append_new(out, json_integer(cell->boots[s->outliers[i]]));
	json_object_set_new(o, "outlier_boots", out);
	json_object_set_new(o, "drift_p", real(s->drift_p));
	/* sample-size advice: boots for a median CI of +-1% of the median at this spread */
	/* (in waves null: that rule takes the boots as independent, which they are not) */
	size_t need = s->n >= 2 && !s->ci_units ? cm_stats_boots_needed(s, 0.01, r->alpha) : 0;
	json_object_set_new(o, "boots_for_1pct_ci", need ? json_integer((json_int_t)need) : json_null());
	json_t *w = json_array();
	for (unsigned b = 1; b <= CM_WARN_OUTLIERS; b <<= 1)
		if (s->warnings & b)
			json_array_append_new(w, json_string(cm_warning_text(b)));
	json_object_set_new(o, "warnings", w);
	if (s->warnings & CM_WARN_BIMODAL) {
		json_t *modes = json_array();
		for (int k = 0; k < 2; k++) {
			json_t *m = json_object();
			json_object_set_new(m, "share", json_real(s->mode_share[k]));
			json_object_set_new(m, "median_ns", json_real(s->mode_median[k]));
			json_array_append_new(modes, m);
		}
		json_object_set_new(o, "modes", modes);
	}
	return o;
}

static json_t *slope_json(const struct cm_slope *s)
{
	return json_pack("{s:o, s:o, s:o}", "estimate", real(s->slope), "ci_lo", real(s->lo),
			 "ci_hi", real(s->hi));
}

/* The slopes (ns per unit) with their elasticities, linearity and interactions. */
static json_t *slopes_json(const struct cm_report *r)
{
	const struct cm_dataset *ds = r->ds;
	json_t *a = json_array();
	for (size_t i = 0; i < r->ntrends; i++) {
		const struct cm_trend *t = &r->trends[i];
		json_t *o = json_pack("{s:s, s:s, s:s, s:i, s:s, s:f, s:o, s:o, s:b}", "axis",
				      ds->axes[t->axis], "phase", ds->phases[t->phase], "held_fixed",
				      t->held, "levels", (int)t->nlevels, "per", t->unit_name,
				      "unit_of_axis", t->unit, "slope_ns", slope_json(&t->slope),
				      "elasticity", slope_json(&t->elasticity), "linear", t->linear);
		json_object_set_new(o, "linearity", json_string(!t->linear_known ? "too few levels"
								: t->linear ? "yes" : "no"));
		if (t->off_level != SIZE_MAX)
			json_object_set_new(o, "off_line",
					    json_string(ds->cases[t->off_level].labels[t->axis]));
		if (!t->linear && t->off_level == SIZE_MAX) {
			json_object_set_new(o, "lower_half_ns", slope_json(&t->lower));
			json_object_set_new(o, "upper_half_ns", slope_json(&t->upper));
		}
		json_t *inter = json_array();
		for (size_t k = 0; k < r->ninteractions; k++)
			if (r->interactions[k].a == i) {
				const struct cm_interaction *x = &r->interactions[k];
				json_array_append_new(inter, json_pack("{s:s, s:o, s:o, s:o}", "versus",
					r->trends[x->b].held, "difference_ns", real(x->diff),
					"ci_lo", real(x->lo), "ci_hi", real(x->hi)));
			}
		json_object_set_new(o, "interactions", inter);
		json_array_append_new(a, o);
	}
	return a;
}

#define JSON_FLAGS (JSON_INDENT(2) | JSON_PRESERVE_ORDER | JSON_REAL_PRECISION(12))

/* Case c's object as report.json holds it: two levels in (its lines 4 spaces further). */
static void case_json(const struct cm_report *r, size_t c, size_t unused, const void *arg, FILE *f)
{
	(void)unused, (void)arg;
	const struct cm_dataset *ds = r->ds;
	json_t *co = json_object(), *ax = json_object(), *ph = json_object();
	json_object_set_new(co, "id", json_string(ds->cases[c].id));
	/* a script counting cases must tell the added reference case from the matrix's */
	json_object_set_new(co, "reference", json_boolean(cm_is_reference_case(ds->cases[c].id)));
	for (size_t a = 0; a < ds->naxes; a++)
		json_object_set_new(ax, ds->axes[a], json_string(ds->cases[c].labels[a]));
	json_object_set_new(co, "axes", ax);
	for (size_t p = 0; p < ds->nphases; p++)
		if (cm_report_cell(r, c, p)->nrows)
			json_object_set_new(ph, ds->phases[p], summary_json(cm_report_cell(r, c, p), r));
	json_object_set_new(co, "phases", ph);
	char *text = json_dumps(co, JSON_FLAGS);
	json_decref(co);
	for (const char *q = text; q && *q; q++) {
		fputc(*q, f);
		if (*q == '\n') /* strings hold their newlines escaped: these are the layout's */
			fputs("    ", f);
	}
	free(text);
}

/* One sample row as the samples array holds it, its separator first. */
static void sample_json(const struct cm_dataset *ds, size_t i, struct cm_buf *b)
{
	const struct cm_sample_row *s = &ds->rows[i];
	/* the session by its id: "2" in one run, "RUN#2" in a tag's merged runs */
	const char *ses = s->session ? ds->sessions[s->session - 1].id : "1";
	json_t *o = json_pack("{s:s, s:i, s:s, s:s, s:o, s:b, s:s, s:s, s:s, s:s}", "case",
			      s->case_id, "boot", s->boot, "status", s->status, "phase",
			      s->phase, "duration_ns",
			      isnan(s->duration_ns) ? json_null()
						    : json_integer((json_int_t)s->duration_ns),
			      "warmup", s->warmup, "source", s->source, "cache_drop", s->cache,
			      "session", ses, "host_audit", s->audit ? s->audit : "");
	if (cm_is_reference_case(s->case_id)) /* only where true: 10^5 rows stay small */
		json_object_set_new(o, "reference", json_true());
	cm_buf_puts(b, i ? ",\n    " : "\n    ");
	/* into a buffer, then one append: json_dumpf writes token by token, a tenth of a
	 * 10^6-boot report's time in fwrite's locking */
	char buf[4096];
	size_t len = json_dumpb(o, buf, sizeof(buf), JSON_COMPACT | JSON_PRESERVE_ORDER);
	if (len <= sizeof(buf)) {
		cm_buf_append(b, buf, len);
	} else {
		char *big = json_dumps(o, JSON_COMPACT | JSON_PRESERVE_ORDER);
		cm_buf_puts(b, big);
		free(big);
	}
	json_decref(o);
}

/* text without its object's closing brace and the white space before it */
static size_t open_end(const char *text)
{
	size_t hl = strlen(text);
	while (hl && text[hl - 1] != '}')
		hl--;
	if (hl)
		hl--;
	while (hl && (text[hl - 1] == '\n' || text[hl - 1] == ' '))
		hl--;
	return hl;
}

/* The keys before the cases: the run header, the unit, the axes and phases (*arg: set to
 * CM_ENOMEM when jansson could not dump them). */
static void json_head(const struct cm_report *r, size_t c, size_t p, const void *arg, FILE *f)
{
	(void)c, (void)p;
	const struct cm_dataset *ds = r->ds;
	json_t *root = json_object();
	json_t *run = json_object();
	for (size_t i = 0; i < ds->nmeta; i++)
		json_object_set_new(run, ds->meta_keys[i], json_string(ds->meta_vals[i]));
	json_object_set_new(root, "run", run);
	json_object_set_new(root, "unit", json_string("ns"));
	json_object_set_new(root, "confidence", json_real(1 - r->alpha));
	json_t *axes = json_array(), *phases = json_array();
	for (size_t a = 0; a < ds->naxes; a++)
		json_array_append_new(axes, json_string(ds->axes[a]));
	for (size_t p = 0; p < ds->nphases; p++)
		json_array_append_new(phases, json_string(ds->phases[p]));
	json_object_set_new(root, "axes", axes);
	json_object_set_new(root, "phases", phases);
	char *head = json_dumps(root, JSON_FLAGS);
	json_decref(root);
	if (!head) {
		*(int *)arg = CM_ERR(CM_ENOMEM);
		return;
	}
	fwrite(head, 1, open_end(head), f);
	free(head);
}

int cm_report_json(const struct cm_report *r, FILE *f)
{
	const struct cm_dataset *ds = r->ds;
	/* written as jansson would dump the whole tree, in three parts: the keys before the
	 * cases, the cases (each case's object a piece of its own: a live report formats the
	 * changed cases only), and the keys after them */
	double key[2];
	cm_frag_meta_key(r, key);
	int rc = 0;
	cm_frag(r, CM_FRAG_JSON_HEAD, 0, CM_FRAG_RUN, 0, key, 2, json_head, &rc, f);
	if (rc)
		return rc;
	fputs(",\n  \"cases\": [", f);
	double k = (double)ds->nsessions; /* the advice's warm-up share reads it */
	for (size_t c = 0; c < ds->ncases; c++) {
		fputs(c ? ",\n    " : "\n    ", f);
		cm_frag(r, CM_FRAG_JSON_CASE, 0, c, 0, &k, 1, case_json, NULL, f);
	}
	fputs(ds->ncases ? "\n  ]" : "]", f);
	json_t *root = json_object();
	/* sweep effects: a trend test (numeric axes) or Kruskal-Wallis per slice of the other axes */
	struct cm_sweep *sw;
	size_t nsw;
	sw = r->sweeps, nsw = r->nsweeps; /* computed once, in cm_report_build */
	json_t *sweeps = json_array();
	for (size_t i = 0; i < nsw; i++) {
		const struct cm_sweep *x = &sw[i];
		bool tested = !isnan(x->p);
		json_array_append_new(
			sweeps,
			json_pack("{s:s, s:s, s:s, s:i, s:s, s:o, s:o, s:o, s:o, s:o, s:b}", "axis",
				  ds->axes[x->axis], "phase", ds->phases[x->phase], "held_fixed", x->held,
				  "groups", (int)x->ngroups, "test",
				  x->ngroups == 2 ? "mann_whitney" : x->ordered ? "jonckheere_terpstra"
									 : "kruskal_wallis",
				  "p", real(x->p), "p_holm",
				  real(x->p_adj), "median_ratio", real(x->ratio), "fastest",
				  tested ? json_string(ds->cases[x->fastest].id) : json_null(), "slowest",
				  tested ? json_string(ds->cases[x->slowest].id) : json_null(),
				  "significant", tested && x->p_adj < r->alpha));
	}
	json_object_set_new(root, "sweeps", sweeps);
	json_object_set_new(root, "slopes", slopes_json(r));
	if (r->profile) /* issue 28: where the time went */
		json_object_set_new(root, "profile", cm_profile_json(r));
	if (r->waves && r->waves->n) /* issue 29: K at a time */
		json_object_set_new(root, "waves", cm_waves_json(r));
	char *head = json_dumps(root, JSON_FLAGS);
	json_decref(root);
	if (!head)
		return CM_ERR(CM_ENOMEM);
	fputc(',', f); /* its keys, after its opening brace */
	fwrite(head + 1, 1, open_end(head) - 1, f);
	free(head);
	/* the samples last, streamed: millions of rows as one jansson tree took gigabytes (a
	 * live report keeps their text, and formats the rows added since) */
	fputs(",\n  \"samples\": [", f);
	const struct cm_buf *kept = cm_frag_samples(r, sample_json);
	if (kept) {
		if (kept->len)
			fwrite(kept->s, 1, kept->len, f);
	} else {
		struct cm_buf b = { 0 };
		for (size_t i = 0; i < ds->n; i++) {
			sample_json(ds, i, &b);
			if (b.len > 65536 || i + 1 == ds->n) {
				fwrite(b.s, 1, b.len, f);
				b.len = 0;
			}
		}
		cm_buf_free(&b);
	}
	fputs(ds->n ? "\n  ]\n}\n" : "]\n}\n", f);
	return ferror(f) ? CM_ERR(CM_EIO) : 0;
}

int cm_report_hyperfine(const struct cm_report *r, const char *phase, FILE *f)
{
	const struct cm_dataset *ds = r->ds;
	size_t p = cm_dataset_find_phase(ds, phase);
	if (p == ds->nphases)
		return CM_ERR(CM_ENOENT);
	json_t *results = json_array();
	for (size_t c = 0; c < ds->ncases; c++) {
		const struct cm_cell *cell = cm_report_cell(r, c, p);
		const struct cm_summary *s = &cell->s;
		json_t *times = json_array(), *codes = json_array();
		for (size_t i = 0; i < s->n; i++) {
			json_array_append_new(times, json_real(cell->values[i] / 1e9));
			json_array_append_new(codes, json_integer(0));
		}
		/* hyperfine reports seconds */
		json_array_append_new(
			results,
			json_pack("{s:s, s:o, s:o, s:o, s:o, s:o, s:o, s:o, s:o, s:o}", "command",
				  ds->cases[c].id, "mean", real(s->mean / 1e9), "stddev",
				  real(s->sd / 1e9), "median", real(s->median / 1e9), "user",
				  json_real(0), "system", json_real(0), "min", real(s->min / 1e9),
				  "max", real(s->max / 1e9), "times", times, "exit_codes", codes));
		if (cm_is_reference_case(ds->cases[c].id)) /* hyperfine has no such key: ours */
			json_object_set_new(json_array_get(results, json_array_size(results) - 1),
					    "reference", json_true());
	}
	json_t *root = json_pack("{s:o}", "results", results);
	int rc = json_dumpf(root, f, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
	fputc('\n', f);
	json_decref(root);
	return rc ? CM_ERR(CM_EIO) : 0;
}

/* Bencher Metric Format: { case: { phase: { value, lower_value, upper_value } } }, the median
 * and its distribution-free CI in nanoseconds. Cells without a median are left out. */
int cm_report_bmf(const struct cm_report *r, FILE *f)
{
	const struct cm_dataset *ds = r->ds;
	json_t *root = json_object();
	for (size_t c = 0; c < ds->ncases; c++) {
		json_t *bench = json_object();
		for (size_t p = 0; p < ds->nphases; p++) {
			const struct cm_summary *s = &cm_report_cell(r, c, p)->s;
			if (!s->n)
				continue;
			json_t *m = json_pack("{s:f}", "value", s->median);
			if (!isnan(s->median_ci_lo)) {
				json_object_set_new(m, "lower_value", json_real(s->median_ci_lo));
				json_object_set_new(m, "upper_value", json_real(s->median_ci_hi));
			}
			json_object_set_new(bench, ds->phases[p], m);
		}
		json_object_set_new(root, ds->cases[c].id, bench);
	}
	int rc = json_dumpf(root, f, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
	fputc('\n', f);
	json_decref(root);
	return rc ? CM_ERR(CM_EIO) : 0;
}
