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

/* A run for compare and history: from its session summary (one row per session, case and
 * phase), or with --from-samples from its raw samples (an audit: the same results). A run
 * whose summary does not count every raw row is read raw, and said so. */
enum from { FROM_SAMPLES, FROM_SUMMARY, FROM_SESSIONS /* ds->sums: compare's cells */ };

static int load_run(struct cm_store *s, const char *id, const char *case_filter, enum from from,
		    struct cm_dataset *ds)
{
	if (from == FROM_SAMPLES)
		return cm_store_load(s, id, ds);
	bool sessions = from == FROM_SESSIONS;
	struct cm_store_read how;
	int rc = cm_store_load_summary(s, id, case_filter, sessions, ds, &how);
	if (!rc && how.stale)
		fprintf(stderr, "note: run %s: its session summary counts %lld of its %lld sample rows:"
				" read from the raw samples\n", id, how.summary_rows, how.raw_rows);
	return rc;
}

/* --from-samples: each run raw, merged in turn under the newest run's header */
static int load_raw_runs(struct cm_store *s, char *const *ids, size_t n, struct cm_dataset *ds)
{
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
	if (rc)
		cm_dataset_free(ds);
	return rc;
}

/* from the session summary: every run's queries asked once for all of them */
static int load_summary_runs(struct cm_store *s, char *const *ids, size_t n, bool sessions,
			     struct cm_dataset *ds)
{
	struct cm_store_read *how = cm_xcalloc(n, sizeof(*how));
	int rc = cm_store_load_summary_runs(s, ids, n, sessions, ds, how);
	for (size_t i = 0; !rc && i < n; i++)
		if (how[i].stale)
			fprintf(stderr, "note: run %s: its session summary counts %lld of its %lld "
					"sample rows: read from the raw samples\n", ids[i],
				how[i].summary_rows, how[i].raw_rows);
	free(how);
	return rc;
}

/* The runs of a tag, each with its sessions, as one side: every session recorded under the
 * tag counts (sessions renamed RUN#k), the header is the newest run's. */
static int load_runs(struct cm_store *s, const char *ref, char *const *ids, size_t n,
		     enum from raw, struct cm_dataset *ds)
{
	if (n == 1)
		return load_run(s, ids[0], NULL, raw, ds);
	int rc = raw == FROM_SAMPLES ? load_raw_runs(s, ids, n, ds)
		 : load_summary_runs(s, ids, n, raw == FROM_SESSIONS, ds);
	if (rc)
		return rc;
	char what[256];
	snprintf(what, sizeof(what), "%zu runs of tag %s", n, ref);
	cm_dataset_meta(ds, "run", what);
	fprintf(stderr, "note: %s: %zu runs, %zu sessions\n", ref, n, ds->nsessions);
	return 0;
}

/* A side of a comparison: a run folder, a samples.csv, or a run id / tag in the store. */
static int load_side(const char *ref, const char *db, enum from raw, struct cm_dataset *ds)
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
		rc = load_runs(s, ref, ids, n, raw, ds);
	for (size_t i = 0; i < n; i++)
		free(ids[i]);
	free(ids);
	cm_store_close(s);
	return rc;
}

/* Where value v stands in an "axis values (NAME)" list (", v, " in ", list, "). */
static size_t list_pos(const char *list, const char *v)
{
	char *needle = cm_xasprintf(", %s, ", v), *at = strstr(list, needle);
	free(needle);
	return at ? (size_t)(at - list) : (size_t)-1;
}

/* Axis a's values (reference cases' empty one left out) in the matrix's order, from the run's
 * header; runs written before it was there: in case order. */
static size_t axis_values(const struct cm_dataset *all, size_t a, const char ***out)
{
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
	char *k = cm_xasprintf(CM_AXIS_VALUES_KEY "%s)", all->axes[a]);
	const char *order = cm_dataset_get_meta(all, k);
	char *list = order ? cm_xasprintf(", %s, ", order) : NULL;
	for (size_t i = 1; list && i < nv; i++) /* stable: values the list lacks keep case order */
		for (size_t j = i; j > 0 && list_pos(list, vals[j]) < list_pos(list, vals[j - 1]); j--) {
			const char *t = vals[j];
			vals[j] = vals[j - 1], vals[j - 1] = t;
		}
	free(list), free(k);
	*out = vals;
	return nv;
}

/* The boots of the cases whose value of axis a is val, the cases named by their other axes
 * (so that every side's ids match). */
static void axis_side(const struct cm_dataset *all, size_t a, const char *val, struct cm_dataset *ds)
{
	char **rest = cm_xcalloc(all->naxes, sizeof(char *));
	for (size_t x = 0, k = 0; x < all->naxes; x++)
		if (x != a)
			rest[k++] = all->axes[x];
	cm_dataset_init(ds, rest, all->naxes - 1);
	for (size_t i = 0; i < all->nmeta; i++)
		cm_dataset_meta(ds, all->meta_keys[i], all->meta_vals[i]);
	for (size_t p = 0; p < all->nphases; p++)
		cm_dataset_phase(ds, all->phases[p]);
	for (size_t i = 0; i < all->n; i++) {
		const struct cm_sample_row *r = &all->rows[i];
		const struct cm_ds_case *cs = &all->cases[r->case_idx];
		if (strcmp(cs->labels[a], val))
			continue;
		char *id = cm_case_held_fixed(all, r->case_idx, a), **labels =
			cm_xcalloc(all->naxes, sizeof(char *));
		for (size_t x = 0, k = 0; x < all->naxes; x++)
			if (x != a)
				labels[k++] = cs->labels[x];
		cm_dataset_case(ds, *id ? id : all->axes[a], labels);
		cm_dataset_add_like(ds, all, r, *id ? id : all->axes[a]);
		free(labels);
		free(id);
	}
	free(rest);
}

/* One run, sides by one axis: the base value (--base, else the matrix's first) against the
 * candidate (--cand, else every other value, each against the base), cases matched by their
 * other axes. Boots of all sides were interleaved in one run, so host drift between runs, the
 * bane of comparing two runs, cannot pass for a difference. *c: *nc candidates. */
static int split_by_axis(const struct cm_dataset *all, const char *axis, const char *bval,
			 const char *cval, struct cm_dataset *b, struct cm_dataset **c, size_t *nc,
			 char ***cnames)
{
	size_t a = 0;
	while (a < all->naxes && strcmp(all->axes[a], axis))
		a++;
	if (a == all->naxes) {
		fprintf(stderr, "coldmark compare: the run has no axis '%s'\n", axis);
		return -1;
	}
	const char **vals;
	size_t nv = axis_values(all, a, &vals);
	struct cm_buf list = { 0 };
	for (size_t k = 0; k < nv; k++)
		cm_buf_printf(&list, "%s%s", k ? ", " : "", vals[k]);
	const char *want[2] = { bval ? bval : nv ? vals[0] : "", cval };
	int rc = 0;
	for (int s = 0; s < 2 && !rc; s++) {
		bool found = !want[s]; /* no --cand: every other value */
		for (size_t k = 0; k < nv; k++)
			found |= want[s] && !strcmp(vals[k], want[s]);
		if (!found) {
			fprintf(stderr, "coldmark compare: %s: axis %s has no value '%s' (its values: "
					"%s)\n", s ? "--cand" : "--base", axis, want[s],
				list.s ? list.s : "none");
			rc = -1;
		}
	}
	if (!rc && want[1] && !strcmp(want[0], want[1])) {
		fprintf(stderr, "coldmark compare: --base and --cand are both '%s'\n", want[0]);
		rc = -1;
	} else if (!rc && nv < 2) {
		fprintf(stderr, "coldmark compare: axis %s has one value (%s): nothing to compare it "
				"with\n", axis, list.s ? list.s : "none");
		rc = -1;
	}
	*nc = 0;
	*c = rc ? NULL : cm_xcalloc(nv, sizeof(**c));
	*cnames = rc ? NULL : cm_xcalloc(nv + 1, sizeof(char *));
	struct cm_buf cands = { 0 };
	for (size_t k = 0; !rc && k < nv; k++) {
		if (!strcmp(vals[k], want[0]) || (want[1] && strcmp(vals[k], want[1])))
			continue;
		(*cnames)[*nc] = cm_xasprintf("%s=%s against %s=%s", axis, vals[k], axis, want[0]);
		axis_side(all, a, vals[k], &(*c)[(*nc)++]);
		cm_buf_printf(&cands, "%s%s=%s", cands.len ? ", " : "", axis, vals[k]);
	}
	if (!rc) {
		axis_side(all, a, want[0], b);
		fprintf(stderr, "note: %s=%s (base%s) against %s (candidate%s), boots interleaved in "
				"one run\n", axis, want[0], bval ? "" : ", the matrix's first value",
			cands.s, *nc > 1 ? "s, each against the base" : "");
	}
	cm_buf_free(&cands);
	cm_buf_free(&list);
	free(vals);
	return rc;
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

/* The sides: two runs, or values of one axis within one run (a base, one or more
 * candidates). */
static int load_sides(const struct cm_cli *cli, struct cm_dataset *b, struct cm_dataset **c,
		      size_t *nc, char ***cnames)
{
	*cnames = NULL;
	const char *axis = cm_cli_get(cli, "axis");
	if ((cli->npos == 2) == (axis != NULL)) {
		fprintf(stderr, "coldmark compare: give BASE and CAND, or one RUN and --axis\n");
		return -1;
	}
	/* compare's own cells come from the summary's sessions as they are; an axis split and
	 * --relative-to rework rows, which the summary gives as well */
	enum from raw = cm_cli_flag(cli, "from-samples") ? FROM_SAMPLES
			: axis || cm_cli_get(cli, "relative-to") ? FROM_SUMMARY : FROM_SESSIONS;
	if (!axis) {
		*c = cm_xcalloc(1, sizeof(**c));
		*nc = 1;
		if (!load_side(cli->pos[0], db_path(cli), raw, b)) {
			if (!load_side(cli->pos[1], db_path(cli), raw, *c))
				return 0;
			cm_dataset_free(b);
		}
		free(*c);
		return -1;
	}
	struct cm_dataset all;
	if (load_side(cli->pos[0], db_path(cli), raw, &all))
		return -1;
	int rc = split_by_axis(&all, axis, cm_cli_get(cli, "base"), cm_cli_get(cli, "cand"), b, c,
			       nc, cnames);
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

/* One candidate against the base: warnings on stderr, the result on stdout; its exit status. */
static int compare_one(const struct cm_cli *cli, const struct cm_judge *j,
		       const struct cm_cmp_writer *w, struct cm_dataset *b, struct cm_dataset *c)
{
	struct cm_cmp_result r;
	struct cm_cmp_opts o = { .within_run = cm_cli_get(cli, "axis") != NULL,
				 .relative = cm_cli_get(cli, "relative-to") != NULL };
	if (!o.within_run)
		host_calibration(cli, b, c, &o);
	cm_compare_build(b, c, j, cm_cli_get(cli, "fail-on"), &o, &r);
	if (cm_compare_explain(cli, &r)) {
		cm_compare_free(&r);
		cm_calibration_free((struct cm_calibration *)o.cal, o.ncal);
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
	return rc;
}

/* Several candidates (--axis with three or more values): one result each, headed by what it
 * compares; JSON as one array of them. */
static void candidate_head(const char *fmt, size_t i, size_t nc, const char *what)
{
	if (nc < 2)
		return;
	if (!strcmp(fmt, "json"))
		fputs(i ? ",\n" : "[\n", stdout);
	else /* csv too: tables one after another, each under the line that says what it holds */
		fprintf(stdout, "%s%s %s (%zu of %zu)\n", i ? "\n" : "",
			!strcmp(fmt, "md") ? "###" : "#", what, i + 1, nc);
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
	struct cm_dataset b, *c;
	size_t nc;
	char **what;
	if (load_sides(cli, &b, &c, &nc, &what))
		return CM_EXIT_USAGE;
	const char *rel = cm_cli_get(cli, "relative-to");
	int rc = CM_EXIT_OK;
	if (rel && strcmp(rel, "reference")) {
		fprintf(stderr, "coldmark compare: --relative-to: 'reference' is the one choice\n");
		rc = CM_EXIT_USAGE;
	}
	/* the candidates first: each is put in the base's terms, which must still be raw */
	bool no_ref = false;
	for (size_t i = 0; rel && !rc && i < nc; i++)
		no_ref |= cm_dataset_relative(&c[i], &b) != 0;
	if (rel && !rc && (no_ref || cm_dataset_relative(&b, &b))) {
		fprintf(stderr, "coldmark compare: --relative-to reference: a side has no reference "
				"case (run.reference)\n");
		rc = CM_EXIT_USAGE;
	}
	/* the worst of the candidates: a regression (1) before boots-only changes (5) */
	int worst = CM_EXIT_OK;
	for (size_t i = 0; !rc && i < nc; i++) {
		candidate_head(fmt, i, nc, what ? what[i] : "");
		int one = compare_one(cli, &j, w, &b, &c[i]);
		worst = one == CM_EXIT_FAILED || worst == CM_EXIT_FAILED ? CM_EXIT_FAILED
			: one ? one : worst;
	}
	if (!rc && nc > 1 && !strcmp(fmt, "json"))
		fputs("]\n", stdout);
	rc = rc ? rc : worst;
	for (size_t i = 0; i < nc; i++) {
		cm_dataset_free(&c[i]);
		if (what)
			free(what[i]);
	}
	free(what);
	free(c);
	cm_dataset_free(&b);
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
	enum from raw = cm_cli_flag(cli, "from-samples") ? FROM_SAMPLES : FROM_SUMMARY;
	for (size_t i = 0; i < h.n; i++)
		load_run(s, h.ids[i], h.case_filter, raw, &ds[i]);
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
	if (load_side(cli->pos[0], "/nonexistent", FROM_SAMPLES, &ds))
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
