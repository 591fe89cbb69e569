/* compare, history, import: runs across releases. */
#include <jansson.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "cli.h"
#include "coldmark/report.h"
#include "coldmark/rundir.h"
#include "coldmark/store.h"

static const char *db_path(const struct cm_cli *cli)
{
	return cm_cli_db(cli);
}

/* The store as messages name it: a URL's password never printed. */
static const char *db_shown(const struct cm_cli *cli)
{
	static char shown[512];
	cm_store_redact(db_path(cli), shown, sizeof(shown));
	return shown;
}

/* The runs of a tag, each with its sessions, as one side: every session recorded under the
 * tag counts (sessions renamed RUN#k), the header is the newest run's. */
static int load_runs(struct cm_store *s, const char *ref, char *const *ids, size_t n,
		     struct cm_dataset *ds)
{
	if (n == 1)
		return cm_store_load(s, ids[0], ds);
	struct cm_dataset one;
	int rc = cm_store_load(s, ids[n - 1], &one);
	if (rc)
		return rc;
	cm_dataset_init(ds, one.axes, one.naxes);
	for (size_t i = 0; i < one.nmeta; i++)
		cm_dataset_meta(ds, one.meta_keys[i], one.meta_vals[i]);
	cm_dataset_free(&one);
	for (size_t i = 0; i < n && !rc; i++) {
		if (!(rc = cm_store_load(s, ids[i], &one)))
			cm_dataset_merge(ds, &one, ids[i]);
		cm_dataset_free(&one);
	}
	char what[256];
	snprintf(what, sizeof(what), "%zu runs of tag %s", n, ref);
	cm_dataset_meta(ds, "run", what);
	fprintf(stderr, "note: %s: %zu runs, %zu sessions\n", ref, n, ds->nsessions);
	if (rc)
		cm_dataset_free(ds);
	return rc;
}

/* A side of a comparison: a run folder, a samples.csv, or a run id / tag in the store. */
static int load_side(const char *ref, const char *db, struct cm_dataset *ds)
{
	struct stat sb;
	struct cm_diags d = { 0 };
	if (!stat(ref, &sb)) {
		char *samples = S_ISDIR(sb.st_mode) ? cm_xasprintf("%s/samples.csv", ref)
						    : cm_xstrdup(ref);
		int rc = cm_samples_read(samples, ds, &d);
		cm_diags_print(&d, stderr);
		cm_diags_clear(&d);
		if (!rc) {
			char *slash = strrchr(samples, '/');
			char *meta = slash ? cm_xasprintf("%.*s/meta.csv", (int)(slash - samples), samples)
					   : cm_xstrdup("meta.csv");
			cm_meta_read(meta, ds);
			free(meta);
		}
		free(samples);
		return rc;
	}
	struct cm_error err = { 0 };
	struct cm_store *s = cm_store_open_existing(db, &err);
	if (!s) {
		fprintf(stderr, "coldmark: '%s' is not a file, and it cannot be looked up as a tag "
				"or run id: %s\n", ref, err.msg);
		return CM_ERR(CM_EIO);
	}
	char **ids;
	size_t n;
	int rc = cm_store_resolve_all(s, ref, &ids, &n);
	if (rc) {
		char shown[512];
		cm_store_redact(db, shown, sizeof(shown));
		fprintf(stderr, "coldmark: '%s' is neither a file nor a tag or run id in %s\n", ref,
			shown);
	}
	else
		rc = load_runs(s, ref, ids, n, ds);
	for (size_t i = 0; i < n; i++)
		free(ids[i]);
	free(ids);
	cm_store_close(s);
	return rc;
}

/* One run, two sides: the cases whose value of axis is bval against those with cval, matched
 * by their other axes. Boots of both sides were interleaved in one run, so host drift between
 * runs, the bane of comparing two runs, cannot pass for a difference. */
static int split_by_axis(const struct cm_dataset *all, const char *axis, const char *bval,
			 const char *cval, struct cm_dataset *b, struct cm_dataset *c)
{
	size_t a = 0;
	while (a < all->naxes && strcmp(all->axes[a], axis))
		a++;
	if (a == all->naxes) {
		fprintf(stderr, "coldmark compare: the run has no axis '%s'\n", axis);
		return -1;
	}
	/* the axis's values in case order: base defaults to the first, cand to the second */
	const char **vals = cm_xcalloc(all->ncases + 1, sizeof(char *));
	size_t nv = 0;
	for (size_t i = 0; i < all->ncases; i++) {
		const char *v = all->cases[i].labels[a];
		bool seen = !*v;
		for (size_t k = 0; k < nv && !seen; k++)
			seen = !strcmp(vals[k], v);
		if (!seen)
			vals[nv++] = v;
	}
	const char *want[2] = { bval ? bval : nv > 0 ? vals[0] : "", cval };
	if (!cval && nv == 2)
		want[1] = !strcmp(vals[0], want[0]) ? vals[1] : vals[0];
	for (int s = 0; s < 2; s++) {
		bool found = false;
		for (size_t k = 0; k < nv; k++)
			found |= want[s] && !strcmp(vals[k], want[s]);
		if (!found) {
			struct cm_buf list = { 0 };
			for (size_t k = 0; k < nv; k++)
				cm_buf_printf(&list, "%s%s", k ? ", " : "", vals[k]);
			fprintf(stderr, "coldmark compare: %s: %s '%s' (axis %s has: %s)\n",
				s ? "--cand" : "--base", want[s] ? "no value" : "say which of",
				want[s] ? want[s] : "its values", axis, list.s ? list.s : "no values");
			cm_buf_free(&list);
			free(vals);
			return -1;
		}
	}
	free(vals);
	if (!strcmp(want[0], want[1])) {
		fprintf(stderr, "coldmark compare: --base and --cand are both '%s'\n", want[0]);
		return -1;
	}
	char **rest = cm_xcalloc(all->naxes, sizeof(char *));
	for (size_t x = 0, k = 0; x < all->naxes; x++)
		if (x != a)
			rest[k++] = all->axes[x];
	struct cm_dataset *side[2] = { b, c };
	for (int s = 0; s < 2; s++) {
		cm_dataset_init(side[s], rest, all->naxes - 1);
		for (size_t i = 0; i < all->nmeta; i++)
			cm_dataset_meta(side[s], all->meta_keys[i], all->meta_vals[i]);
		for (size_t p = 0; p < all->nphases; p++)
			cm_dataset_phase(side[s], all->phases[p]);
	}
	for (size_t i = 0; i < all->n; i++) {
		const struct cm_sample_row *r = &all->rows[i];
		const struct cm_ds_case *cs = &all->cases[r->case_idx];
		for (int s = 0; s < 2; s++) {
			if (strcmp(cs->labels[a], want[s]))
				continue;
			/* the case is named by its other axes, so both sides' ids match */
			char *id = cm_case_held_fixed(all, r->case_idx, a), **labels =
				cm_xcalloc(all->naxes, sizeof(char *));
			for (size_t x = 0, k = 0; x < all->naxes; x++)
				if (x != a)
					labels[k++] = cs->labels[x];
			cm_dataset_case(side[s], *id ? id : axis, labels);
			cm_dataset_session(side[s], all->sessions[r->session - 1].id,
					   all->sessions[r->session - 1].host);
			side[s]->audit_now = r->audit;
			cm_dataset_add(side[s], *id ? id : axis, r->boot, r->warmup, r->status, r->phase,
				       r->duration_ns, r->source, r->cache);
			side[s]->audit_now = NULL;
			free(labels);
			free(id);
		}
	}
	free(rest);
	fprintf(stderr, "note: %s=%s (base) against %s=%s (candidate), boots interleaved in one run\n",
		axis, want[0], axis, want[1]);
	return 0;
}

static int judge_opts(const struct cm_cli *cli, const char *cmd, struct cm_judge *j)
{
	const char *a = cm_cli_get(cli, "alpha"), *t = cm_cli_get(cli, "threshold"),
		   *mc = cm_cli_get(cli, "min-change");
	char *end = "";
	*j = (struct cm_judge){ CM_DEFAULT_ALPHA, 0.02, 0 };
	if (a && (j->alpha = strtod(a, &end), end == a || *end || !(j->alpha > 0 && j->alpha < 1))) {
		fprintf(stderr, "coldmark %s: --alpha '%s': a number in (0, 1)\n", cmd, a);
		return -1;
	}
	if (t && (j->thr = strtod(t, &end) / 100, end == t || *end || !(j->thr >= 0))) {
		fprintf(stderr, "coldmark %s: --threshold '%s': a percentage >= 0\n", cmd, t);
		return -1;
	}
	if (mc && cm_parse_duration_ns(mc, &j->min_ns)) {
		fprintf(stderr, "coldmark %s: --min-change '%s': a duration (250us, 1ms, 0.5s)\n",
			cmd, mc);
		return -1;
	}
	return 0;
}

/* The two sides: two runs, or two values of one axis within one run. */
static int load_sides(const struct cm_cli *cli, struct cm_dataset *b, struct cm_dataset *c)
{
	const char *axis = cm_cli_get(cli, "axis");
	if ((cli->npos == 2) == (axis != NULL)) {
		fprintf(stderr, "coldmark compare: give BASE and CAND, or one RUN and --axis\n");
		return -1;
	}
	if (!axis) {
		if (load_side(cli->pos[0], db_path(cli), b))
			return -1;
		if (!load_side(cli->pos[1], db_path(cli), c))
			return 0;
		cm_dataset_free(b);
		return -1;
	}
	struct cm_dataset all;
	if (load_side(cli->pos[0], db_path(cli), &all))
		return -1;
	int rc = split_by_axis(&all, axis, cm_cli_get(cli, "base"), cm_cli_get(cli, "cand"), b, c);
	cm_dataset_free(&all);
	return rc ? -1 : 0;
}

/* The calibration of the host both sides ran on, from the store, when there is one. */
static void host_calibration(const struct cm_cli *cli, const struct cm_dataset *b,
			     const struct cm_dataset *c, struct cm_cmp_opts *o)
{
	const char *hb = cm_dataset_get_meta(b, CM_HDR(HOST)), *hc = cm_dataset_get_meta(c, CM_HDR(HOST));
	struct stat sb;
	if (!hb || !hc || strcmp(hb, hc) || (!cm_store_is_url(db_path(cli)) && stat(db_path(cli), &sb)))
		return; /* across hosts a host's calibration says nothing */
	struct cm_error err = { 0 };
	struct cm_store *s = cm_store_open_existing(db_path(cli), &err);
	struct cm_calibration *cal = NULL;
	if (s && !cm_store_get_calibration(s, hc, &cal, &o->ncal) && o->ncal)
		fprintf(stderr, "note: calibration of host %s: %zu case × phase components\n", hc, o->ncal);
	o->cal = cal;
	cm_store_close(s);
}

int cm_cmd_compare(const struct cm_cli *cli)
{
	struct cm_judge j;
	if (judge_opts(cli, "compare", &j))
		return CM_EXIT_USAGE;
	const char *fmt = cm_cli_get(cli, "format") ? cm_cli_get(cli, "format") : "text";
	const struct cm_cmp_writer *w = cm_cmp_writer(fmt);
	if (!w) {
		char *names = cm_cmp_writer_names();
		fprintf(stderr, "coldmark compare: --format is %s\n", names);
		free(names);
		return CM_EXIT_USAGE;
	}
	struct cm_dataset b, c;
	if (load_sides(cli, &b, &c))
		return CM_EXIT_USAGE;
	const char *rel = cm_cli_get(cli, "relative-to");
	if (rel && strcmp(rel, "reference")) {
		fprintf(stderr, "coldmark compare: --relative-to: 'reference' is the one choice\n");
		cm_dataset_free(&b), cm_dataset_free(&c);
		return CM_EXIT_USAGE;
	}
	/* the candidate first: it is put in the base's terms, which must still be raw */
	if (rel && (cm_dataset_relative(&c, &b) || cm_dataset_relative(&b, &b))) {
		fprintf(stderr, "coldmark compare: --relative-to reference: a side has no reference "
				"case (run.reference)\n");
		cm_dataset_free(&b), cm_dataset_free(&c);
		return CM_EXIT_USAGE;
	}
	struct cm_cmp_result r;
	struct cm_cmp_opts o = { .within_run = cm_cli_get(cli, "axis") != NULL, .relative = rel != NULL };
	if (!o.within_run)
		host_calibration(cli, &b, &c, &o);
	cm_compare_build(&b, &c, &j, cm_cli_get(cli, "fail-on"), &o, &r);
	if (cm_compare_explain(cli, &r)) {
		cm_compare_free(&r), cm_dataset_free(&b), cm_dataset_free(&c);
		return CM_EXIT_USAGE;
	}
	for (size_t i = 0; i < r.n_not_comparable; i++)
		fprintf(stderr, "warning: not comparable: %s\n", r.not_comparable[i]);
	for (size_t i = 0; i < r.n_reference_moved; i++)
		fprintf(stderr, "warning: %s\n", r.reference_moved[i]);
	for (size_t i = 0; i < r.n_only_cand; i++)
		fprintf(stderr, "note: case only in the candidate: %s\n", r.only_cand[i]);
	for (size_t i = 0; i < r.n_only_base; i++)
		fprintf(stderr, "note: case only in the base: %s\n", r.only_base[i]);
	w->write(&r, stdout);
	cm_explain_free(&r);
	int rc = r.regressions ? CM_EXIT_FAILED
		 : r.regressions_boots_only ? CM_EXIT_BOOTS_ONLY : CM_EXIT_OK;
	cm_compare_free(&r);
	cm_calibration_free((struct cm_calibration *)o.cal, o.ncal);
	cm_dataset_free(&b);
	cm_dataset_free(&c);
	return rc;
}

/* ---- history ----------------------------------------------------------------------------------- */

struct hist {
	struct cm_store *s;
	const char *case_filter, *phase;
	char **ids, **tags;
	size_t n;
};

static int collect(void *ctx, const char *id, const char *tag, const char *started)
{
	struct hist *h = ctx;
	h->ids = cm_xrealloc(h->ids, (h->n + 1) * sizeof(char *));
	h->tags = cm_xrealloc(h->tags, (h->n + 1) * sizeof(char *));
	h->ids[h->n] = cm_xstrdup(id);
	h->tags[h->n++] = cm_xstrdup(*tag ? tag : "(untagged)");
	(void)started;
	return 0;
}

int cm_cmd_history(const struct cm_cli *cli)
{
	struct cm_error err = { 0 };
	struct cm_judge j;
	if (judge_opts(cli, "history", &j))
		return CM_EXIT_USAGE;
	struct cm_store *s = cm_store_open_existing(db_path(cli), &err);
	if (!s) {
		fprintf(stderr, "coldmark history: %s\n", err.msg);
		return CM_EXIT_USAGE;
	}
	struct hist h = { s, cm_cli_get(cli, "case"), cm_cli_get(cli, "phase") };
	if (!h.phase)
		h.phase = "total";
	cm_store_runs(s, collect, &h);
	struct cm_dataset *ds = cm_xcalloc(h.n + 1, sizeof(*ds));
	for (size_t i = 0; i < h.n; i++)
		cm_store_load(s, h.ids[i], &ds[i]);
	struct cm_history hi;
	int rc = CM_EXIT_OK;
	const char *rel = cm_cli_get(cli, "relative-to");
	if (rel && strcmp(rel, "reference")) {
		fprintf(stderr, "coldmark history: --relative-to: 'reference' is the one choice\n");
		rc = CM_EXIT_USAGE;
	}
	/* the last run first: every run is put in the first's terms, which must still be raw */
	for (size_t i = h.n; rel && !rc && i-- > 0;)
		if (cm_dataset_relative(&ds[i], &ds[0])) {
			fprintf(stderr, "coldmark history: --relative-to reference: run %s has no "
					"reference case (run.reference)\n", h.ids[i]);
			rc = CM_EXIT_USAGE;
		}
	if (rc) {
		memset(&hi, 0, sizeof(hi));
		goto out;
	}
	if (cm_history_build(ds, h.tags, h.ids, h.n, h.case_filter, h.phase, &j, &hi)) {
		fprintf(stderr, "coldmark history: no %s in %s\n",
			h.case_filter ? "such case" : "runs", db_shown(cli));
		rc = CM_EXIT_USAGE;
	}
	cm_history_text(&hi, stdout);
	const char *html_path = cm_cli_get(cli, "html");
	if (html_path && !rc) {
		FILE *html = fopen(html_path, "w");
		if (html) {
			cm_history_html(&hi, html);
			fclose(html);
			printf("trend plot: %s\n", html_path);
		} else {
			fprintf(stderr, "coldmark history: cannot write %s\n", html_path);
			rc = CM_EXIT_OUTPUT;
		}
	}
out:
	cm_history_free(&hi);
	for (size_t i = 0; i < h.n; i++) {
		cm_dataset_free(&ds[i]);
		free(h.ids[i]);
		free(h.tags[i]);
	}
	free(ds), free(h.ids), free(h.tags);
	cm_store_close(s);
	return rc;
}

/* ---- import ------------------------------------------------------------------------------------ */

int cm_cmd_import(const struct cm_cli *cli)
{
	const char *tag = cm_cli_get(cli, "tag");
	if (!tag) {
		fprintf(stderr, "coldmark import: --tag NAME is required\n");
		return CM_EXIT_USAGE;
	}
	struct cm_dataset ds;
	if (load_side(cli->pos[0], "/nonexistent", &ds))
		return CM_EXIT_USAGE;
	struct cm_error err = { 0 };
	char id[96] = "import-", date[64];
	time_t now = time(NULL);
	struct tm tm;
	localtime_r(&now, &tm);
	cm_rundir_new_id(id + strlen(id), sizeof(id) - strlen(id), &tm); /* unique, as a run's */
	if (!cm_dataset_get_meta(&ds, "date")) {
		strftime(date, sizeof(date), "%Y-%m-%d %H:%M:%S %z", &tm);
		cm_dataset_meta(&ds, "date", date);
	}
	cm_dataset_meta(&ds, "tag", tag);
	bool bad_input = false;
	struct cm_store *s = cm_store_open_how(db_path(cli), CM_STORE_WRITE, &bad_input, &err);
	int rc = CM_EXIT_OK;
	if (s && cm_store_note(s))
		fprintf(stderr, "coldmark import: %s: %s\n", db_shown(cli), cm_store_note(s));
	if (!s) {
		fprintf(stderr, "coldmark import: %s\n", err.msg);
		rc = bad_input ? CM_EXIT_USAGE : CM_EXIT_OUTPUT;
	} else if (cm_store_import(s, id, tag, &ds)) { /* one transaction: all, or nothing */
		fprintf(stderr, "coldmark import: %s refused the samples: %s (nothing was stored)\n",
			db_shown(cli), cm_store_error(s));
		rc = CM_EXIT_OUTPUT;
	} else {
		printf("imported %zu samples of %zu cases as run %s, tag %s, into %s\n", ds.n, ds.ncases,
		       id, tag, db_shown(cli));
	}
	cm_store_close(s);
	cm_dataset_free(&ds);
	return rc;
}
