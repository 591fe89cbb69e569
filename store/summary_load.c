/* Reading runs from the session summary (issue 25): compare and history read one row per
 * session, case and phase instead of one per boot and phase, and get the same dataset for
 * their statistics: each session's measured times in their order, its warm-ups, failed,
 * unmeasurable and interrupted rows counted. A run whose summary does not account for every
 * one of its raw rows (a store written around coldmark, a row deleted by hand) is not
 * trusted: it is read from the raw samples, and the caller is told so. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "coldmark/stats.h"
#include "coldmark/store.h"
#include "driver.h"

/* rows added to the run's samples, and rows deleted or changed (the triggers' counts) */
static const char RUN_COUNTS[] = "SELECT samples, samples_changed FROM runs WHERE id = $1";
static const char IS_WAVES[] = "SELECT 1 FROM run_meta WHERE run_id = $1 AND key = 'concurrency'";
/* one round trip: a history of 1,000 runs asks it 1,000 times */
static const char COUNTS_CASE[] =
	"SELECT (SELECT COUNT(*) FROM samples WHERE run_id = $1 AND case_id = $2), "
	"(SELECT COALESCE(SUM(n_rows), 0) FROM session_summary WHERE run_id = $1 AND case_id = $2)";
/* median_ln, mean_ln and ssw_ln are for SQL's readers: compare makes them from the times by
 * the function that made them (cm_ln_session_stats), which costs less than reading a REAL
 * column as exact text */
#define COLS "SELECT case_id, session, phase, first_row, n_warmup, n_failed, n_unmeasurable, " \
	"n_interrupted, vals, n, n_rows FROM session_summary "
static const char ROWS[] = COLS "WHERE run_id = $1 ORDER BY first_row";
static const char ROWS_CASE[] = COLS "WHERE run_id = $1 AND case_id = $2 ORDER BY first_row";
#define NCOL 11

struct sel {
	char **v; /* NCOL columns a row */
	long long first;
};

static int by_first(const void *a, const void *b)
{
	const struct sel *x = a, *y = b;
	return x->first < y->first ? -1 : x->first > y->first;
}

/* One summary row's times (NULL when vals is not its n times: then the run is read raw). */
static double *times(char *const *v, size_t n)
{
	double *t = cm_xmalloc((n + 1) * sizeof(double));
	if (!cm_summary_vals_decode(v[8] ? v[8] : "", t, n))
		return t;
	free(t);
	return NULL;
}

/* One summary row's rows: warm-ups, then the rows that are no time (interrupted, failed,
 * unmeasurable), then the measured times in their order. Boot numbers are not kept: a
 * compare or history never reads them. With sessions, the row as it is (cm_session_sum). */
static int add_group(struct cm_dataset *ds, char *const *v, const char *host, int *boot,
		     bool sessions)
{
	static const char *const status[] = { CM_STATUS_OK_NAME, "failed", CM_STATUS_OK_NAME,
					       CM_STATUS_INTERRUPTED_NAME };
	size_t n = (size_t)atoll(v[9]);
	double *t = times(v, n);
	if (!t)
		return -1;
	int session = cm_dataset_session(ds, v[1], host);
	if (sessions) {
		struct cm_ln_session ln;
		cm_ln_session_stats(t, n, &ln);
		struct cm_session_sum m = {
			cm_dataset_case(ds, v[0], NULL), cm_dataset_phase(ds, v[2]), session, n,
			(size_t)atoll(v[10]), (size_t)atoll(v[4]), ln.median, ln.mean, ln.ssw, t,
		};
		cm_dataset_add_sum(ds, &m);
		return 0;
	}
	for (int kind = 0; kind < 4; kind++)
		for (long i = atol(v[4 + kind]); i > 0; i--)
			cm_dataset_add(ds, v[0], ++*boot, kind == 0, status[kind], v[2], NAN, "", "");
	for (size_t i = 0; i < n; i++)
		cm_dataset_add(ds, v[0], ++*boot, false, CM_STATUS_OK_NAME, v[2], t[i], "", "");
	free(t);
	return 0;
}

/* The run's summary rows (of its loaded cases, with a filter) in the order of their first
 * raw row: sessions and phases are met in the order the raw samples meet them. */
struct stream {
	struct cm_dataset *ds;
	const char *host;
	int boot;
	bool sessions, bad;
	long long counted;
};

static int stream_row(void *ctx, int ncol, const char *const *v)
{
	struct stream *x = ctx;
	x->counted += atoll(v[10]);
	x->bad = add_group(x->ds, (char *const *)v, x->host, &x->boot, x->sessions) != 0;
	return x->bad;
}

static int load_rows(struct cm_store *s, const char *run_id, const char *case_filter,
		     bool sessions, struct cm_dataset *ds, long long *counted)
{
	if (!case_filter) { /* the whole run, in the database's order: no copy of the rows */
		struct stream x = { ds, cm_dataset_get_meta(ds, "host"), 0, sessions, false, 0 };
		const char *p[] = { run_id };
		int rc = s->ops->query(s, ROWS, 1, p, stream_row, &x);
		*counted = x.counted;
		return x.bad ? CM_ERR(CM_EPARSE) : rc ? CM_ERR(CM_EIO) : 0;
	}
	struct cm_rows *parts = cm_xcalloc(ds->ncases + 1, sizeof(*parts));
	size_t nparts = case_filter ? ds->ncases : 1, total = 0;
	int rc = 0;
	for (size_t i = 0; !rc && i < nparts; i++) {
		const char *p[] = { run_id, case_filter ? ds->cases[i].id : NULL };
		rc = cm_store_rows(s, case_filter ? ROWS_CASE : ROWS, case_filter ? 2 : 1, p, &parts[i]);
		total += parts[i].n;
	}
	struct sel *all = cm_xcalloc(total + 1, sizeof(*all));
	size_t k = 0;
	for (size_t i = 0; !rc && i < nparts; i++)
		for (size_t r = 0; r < parts[i].n; r++, k++)
			all[k] = (struct sel){ &parts[i].v[r * NCOL], atoll(parts[i].v[r * NCOL + 3]) };
	if (nparts > 1)
		qsort(all, k, sizeof(*all), by_first);
	const char *host = cm_dataset_get_meta(ds, "host");
	int boot = 0;
	*counted = 0;
	for (size_t i = 0; !rc && i < k; i++) {
		*counted += atoll(all[i].v[10]);
		if (add_group(ds, all[i].v, host, &boot, sessions))
			rc = CM_ERR(CM_EPARSE);
	}
	free(all);
	for (size_t i = 0; i < nparts; i++)
		cm_rows_free(&parts[i]);
	free(parts);
	return rc;
}

/* Does the summary account for every raw row of the case (history --case: its rows are
 * few, so they are counted)? */
static bool accounts_case(struct cm_store *s, const char *run_id, const struct cm_dataset *ds,
			  struct cm_store_read *how)
{
	how->raw_rows = how->summary_rows = 0;
	for (size_t i = 0; i < ds->ncases; i++) {
		const char *p[] = { run_id, ds->cases[i].id };
		struct cm_rows r;
		long long raw = -1, sum = -1;
		if (!cm_store_rows(s, COUNTS_CASE, 2, p, &r) && r.n && r.v[0] && r.v[1])
			raw = atoll(r.v[0]), sum = atoll(r.v[1]);
		cm_rows_free(&r);
		if (raw < 0 || sum < 0)
			return false;
		how->raw_rows += raw;
		how->summary_rows += sum;
	}
	return how->raw_rows == how->summary_rows;
}

/* Does the summary (counted rows of it) account for every raw row of the run? The run's row
 * says how many samples were added and whether any was deleted or changed since (triggers on
 * samples count every change, coldmark's or another program's): no scan of the samples. */
static bool accounts_run(struct cm_store *s, const char *run_id, long long counted,
			 struct cm_store_read *how)
{
	struct cm_rows r;
	const char *p[] = { run_id };
	bool ok = !cm_store_rows(s, RUN_COUNTS, 1, p, &r) && r.n && r.v[0] && r.v[1];
	how->raw_rows = ok ? atoll(r.v[0]) : -1;
	how->summary_rows = counted;
	ok = ok && !atoll(r.v[1]) && how->raw_rows == counted;
	cm_rows_free(&r);
	return ok;
}

int cm_store_load_summary(struct cm_store *s, const char *run_id, const char *case_filter,
			  bool sessions, struct cm_dataset *ds, struct cm_store_read *how)
{
	*how = (struct cm_store_read){ 0 };
	if (cm_store_version(s) < CM_SUMMARY_VERSION) /* a store no writer migrated yet */
		return cm_store_load(s, run_id, ds);
	/* a run in waves (its "concurrency" item): compare's unit is the wave below the session
	 * (issue 29), which a per-session summary does not keep, so the raw rows: asked first,
	 * so that its head is not loaded twice */
	int waves = 0;
	const char *p[] = { run_id };
	if (s->ops->query(s, IS_WAVES, 1, p, cm_store_count_row, &waves))
		return CM_ERR(CM_EIO);
	if (waves)
		return cm_store_load(s, run_id, ds);
	int rc = cm_store_load_head(s, run_id, case_filter, ds);
	if (rc)
		return rc;
	long long counted = 0;
	if (!case_filter || accounts_case(s, run_id, ds, how)) {
		rc = load_rows(s, run_id, case_filter, sessions, ds, &counted);
		if (rc != CM_ERR(CM_EPARSE) && (rc || case_filter || accounts_run(s, run_id, counted, how))) {
			how->summary = !rc;
			return rc;
		}
	}
	/* not trusted: a summary that does not count every raw row, or whose times are not its
	 * n (a table written around coldmark): the raw samples */
	how->stale = true;
	cm_dataset_free(ds);
	return cm_store_load(s, run_id, ds);
}

/* A tag's runs as one side of a compare (issue 25): what loading each run by
 * cm_store_load_summary and merging it (cm_dataset_merge, sessions "RUN#k") in the order of
 * ids gives, the header (axes, meta) the newest run's, but each kind of query asked once for
 * all the runs (query_sets: PostgreSQL pipelines them, so its server works on the next run
 * while coldmark reads the last, with no round trip between them). Runs in waves and runs
 * whose summary is not trusted are read raw, after the others' rows, merged in their place;
 * then the side is rows throughout (see cm_store_load_summary_runs). */
static const char SETS_META[] =
	"SELECT run_id, key, value FROM run_meta WHERE run_id = $1 ORDER BY rowid";
static const char SETS_COUNTS[] = "SELECT id, samples, samples_changed FROM runs WHERE id = $1";
static const char SETS_CASES[] =
	"SELECT run_id, case_id, axes FROM cases WHERE run_id = $1 ORDER BY rowid";
static const char SETS_ROWS[] = "SELECT run_id, case_id, session, phase, first_row, n_warmup, "
	"n_failed, n_unmeasurable, n_interrupted, vals, n, n_rows FROM session_summary WHERE "
	"run_id = $1"; /* in the key's order: each run's rows are put in order here (a sort of
			* 3,000 rows of ~390 bytes a run cost the server a third of its time) */
#define SETS_NCOL 12
enum { META, COUNTS, CASES };

struct part { /* run k: what the batches bring of it, then its dataset until merged */
	struct cm_rows cases, meta; /* (case_id, axes), (key, value) */
	size_t ccap, mcap;
	long long samples, changed, counted;
	bool has_counts, waves, started, done, raw, bad;
	int boot;
	struct cm_dataset one;
	/* its summary rows until they are all in: each row's columns (NULL as "") one after the
	 * other in text, and where each row starts there, with its first_row */
	char *text;
	size_t len, tcap, nrec, rcap;
	struct rec {
		long long first;
		size_t at;
	} *recs;
};

struct side {
	struct cm_store *s;
	char *const *ids;
	size_t n, at, next; /* at: the run the rows in hand belong to; next: the next to merge */
	struct part *p;
	int which;
	bool sessions;
	struct cm_dataset *ds;
	struct cm_store_read *how;
};

static int sets(struct cm_store *s, const char *sql, char *const *ids, size_t n,
		cm_db_row_fn row, void *ctx)
{
	const char *const *p = (const char *const *)ids;
	if (s->ops->query_sets)
		return s->ops->query_sets(s, sql, 1, n, p, row, ctx) ? CM_ERR(CM_EIO) : 0;
	for (size_t k = 0; k < n; k++)
		if (s->ops->query(s, sql, 1, p + k, row, ctx))
			return CM_ERR(CM_EIO);
	return 0;
}

/* the run whose rows these are: the sets come in the order of ids, each run once */
static struct part *part_of(struct side *x, const char *id)
{
	while (x->at < x->n && strcmp(x->ids[x->at], id))
		x->at++;
	return x->at < x->n ? &x->p[x->at] : NULL;
}

static int to_part(void *ctx, int ncol, const char *const *v)
{
	struct side *x = ctx;
	struct part *p = v[0] ? part_of(x, v[0]) : NULL;
	if (!p)
		return 1;
	if (x->which == COUNTS) {
		p->has_counts = v[1] && v[2];
		p->samples = v[1] ? atoll(v[1]) : -1;
		p->changed = v[2] ? atoll(v[2]) : -1;
		return 0;
	}
	struct cm_rows *r = x->which == CASES ? &p->cases : &p->meta;
	size_t *cap = x->which == CASES ? &p->ccap : &p->mcap;
	if (r->n >= *cap) {
		*cap = *cap ? 2 * *cap : 16;
		r->v = cm_xrealloc(r->v, *cap * 2 * sizeof(char *));
	}
	r->ncol = 2;
	r->v[2 * r->n] = v[1] ? cm_xstrdup(v[1]) : NULL;
	r->v[2 * r->n + 1] = v[2] ? cm_xstrdup(v[2]) : NULL;
	r->n++;
	return 0;
}

static int batch(struct side *x, int which, const char *sql)
{
	x->at = 0;
	x->which = which;
	return sets(x->s, sql, x->ids, x->n, to_part, x);
}

static void meta_into(struct cm_dataset *ds, const struct cm_rows *meta)
{
	for (size_t i = 0; i < meta->n; i++)
		cm_dataset_meta(ds, meta->v[2 * i], meta->v[2 * i + 1] ? meta->v[2 * i + 1] : "");
}

/* run k's dataset, its cases and meta as cm_store_load_head reads them */
static void start(struct part *p)
{
	cm_store_cases_into(&p->one, &p->cases);
	meta_into(&p->one, &p->meta);
	cm_rows_free(&p->cases);
	cm_rows_free(&p->meta);
	p->started = true;
}

static int by_first_rec(const void *a, const void *b)
{
	const struct rec *x = a, *y = b;
	return x->first < y->first ? -1 : x->first > y->first;
}

/* run k's rows, kept as they came, into its dataset in the order of their first raw row:
 * sessions and phases are met in the order the raw samples meet them */
static void add_kept(struct side *x, struct part *p)
{
	bool sorted = true;
	for (size_t i = 1; i < p->nrec; i++)
		sorted &= p->recs[i - 1].first < p->recs[i].first;
	if (!sorted)
		qsort(p->recs, p->nrec, sizeof(*p->recs), by_first_rec);
	const char *host = cm_dataset_get_meta(&p->one, "host");
	for (size_t i = 0; i < p->nrec && !p->bad; i++) {
		char *v[SETS_NCOL - 1], *t = p->text + p->recs[i].at;
		for (int c = 0; c < SETS_NCOL - 1; c++, t += strlen(t) + 1)
			v[c] = t;
		p->bad = add_group(&p->one, v, host, &p->boot, x->sessions) != 0;
	}
	free(p->text), free(p->recs);
	p->text = NULL, p->recs = NULL;
	p->len = p->tcap = p->nrec = p->rcap = 0;
}

/* run k's rows are all in: is its summary trusted (as cm_store_load_summary asks)? */
static void finish(struct side *x, size_t k)
{
	struct part *p = &x->p[k];
	struct cm_store_read *how = &x->how[k];
	p->done = true;
	if (p->raw) /* in waves: read raw */
		return;
	if (!p->started)
		start(p);
	add_kept(x, p);
	if (!p->bad) {
		how->raw_rows = p->has_counts ? p->samples : -1;
		how->summary_rows = p->counted;
	}
	if (!p->bad && p->has_counts && !p->changed && p->samples == p->counted) {
		how->summary = true;
		return;
	}
	how->stale = p->raw = true;
	cm_dataset_free(&p->one);
	p->started = false;
}

/* every run done so far merged in the order of ids (a run to read raw holds the rest back
 * until the rows' query is over) */
static void merge_done(struct side *x)
{
	while (x->next < x->n && x->p[x->next].done && !x->p[x->next].raw) {
		cm_dataset_merge(x->ds, &x->p[x->next].one, x->ids[x->next]);
		cm_dataset_free(&x->p[x->next].one);
		x->p[x->next++].started = false;
	}
}

static int sum_row(void *ctx, int ncol, const char *const *v)
{
	struct side *x = ctx;
	if (x->at < x->n && strcmp(x->ids[x->at], v[0] ? v[0] : "")) {
		while (x->at < x->n && strcmp(x->ids[x->at], v[0] ? v[0] : ""))
			finish(x, x->at++); /* the last run's rows are in (or it has none) */
		merge_done(x);
	}
	if (x->at == x->n)
		return 1;
	struct part *p = &x->p[x->at];
	if (!p->started)
		start(p);
	p->counted += atoll(v[11]);
	size_t need = 0, len[SETS_NCOL];
	for (int c = 1; c < SETS_NCOL; c++)
		need += (len[c] = v[c] ? strlen(v[c]) : 0) + 1;
	if (p->len + need > p->tcap) {
		p->tcap = 2 * (p->len + need);
		p->text = cm_xrealloc(p->text, p->tcap);
	}
	CM_PUSH(p->recs, p->nrec, p->rcap);
	p->recs[p->nrec++] = (struct rec){ atoll(v[4]), p->len };
	for (int c = 1; c < SETS_NCOL; c++) {
		memcpy(p->text + p->len, v[c] ? v[c] : "", len[c] + 1);
		p->len += len[c] + 1;
	}
	return 0;
}

/* ds's axes and meta: the newest run's (its first case's axes) */
static void header(struct cm_dataset *ds, const struct part *newest)
{
	struct cm_rows first = { 0 };
	if (newest->cases.n) {
		first.v = cm_xcalloc(2, sizeof(char *));
		first.v[0] = cm_xstrdup(newest->cases.v[0]);
		first.v[1] = cm_xstrdup(newest->cases.v[1]);
		first.n = 1, first.ncol = 2;
	}
	struct cm_dataset h;
	cm_store_cases_into(&h, &first);
	cm_rows_free(&first);
	cm_dataset_init(ds, h.axes, h.naxes);
	meta_into(ds, &newest->meta);
	cm_dataset_free(&h);
}

/* the summary rows of the runs not in waves, into their datasets, merged as they finish */
static int load_sums(struct side *x)
{
	char **some = cm_xcalloc(x->n + 1, sizeof(char *));
	size_t k = 0;
	for (size_t i = 0; i < x->n; i++)
		if (!x->p[i].waves)
			some[k++] = x->ids[i];
	x->at = 0;
	int rc = k ? sets(x->s, SETS_ROWS, some, k, sum_row, x) : 0;
	free(some);
	return rc;
}

/* One pass; *mixed: with sessions, a run was read raw (its rows beside the others' session
 * summaries, which compare's cells would not count) */
static int load_side(struct cm_store *s, char *const *ids, size_t n, bool sessions,
		     struct cm_dataset *ds, struct cm_store_read *how, bool *mixed)
{
	struct side x = { s, ids, n, 0, 0, cm_xcalloc(n + 1, sizeof(struct part)), 0, sessions,
			  ds, how };
	memset(how, 0, n * sizeof(*how));
	bool summary = cm_store_version(s) >= CM_SUMMARY_VERSION; /* else every run raw */
	int rc = batch(&x, META, SETS_META);
	if (!rc)
		rc = batch(&x, CASES, SETS_CASES);
	if (!rc && summary)
		rc = batch(&x, COUNTS, SETS_COUNTS);
	if (!rc)
		header(ds, &x.p[n - 1]);
	bool inited = !rc;
	for (size_t i = 0; i < n; i++) {
		/* a run in waves: compare's unit is the wave below the session (issue 29), which a
		 * per-session summary does not keep: decided here, before anything is loaded */
		for (size_t m = 0; m < x.p[i].meta.n; m++)
			x.p[i].waves |= !strcmp(x.p[i].meta.v[2 * m], "concurrency");
		x.p[i].raw = x.p[i].waves || !summary;
		*mixed |= sessions && x.p[i].raw;
	}
	if (!rc && summary && !*mixed)
		rc = load_sums(&x);
	for (size_t i = x.next; !rc && !*mixed && i < n; i++) {
		struct part *p = &x.p[i];
		if (!p->done)
			finish(&x, i);
		if (p->raw) {
			*mixed |= sessions;
			if (*mixed)
				break;
			if (p->started)
				cm_dataset_free(&p->one);
			rc = cm_store_load(s, ids[i], &p->one);
			p->started = true;
			p->done = true, p->raw = false;
		}
		if (!rc)
			merge_done(&x);
	}
	for (size_t i = 0; i < n; i++) {
		if (x.p[i].started)
			cm_dataset_free(&x.p[i].one);
		cm_rows_free(&x.p[i].cases);
		cm_rows_free(&x.p[i].meta);
		free(x.p[i].text), free(x.p[i].recs);
	}
	free(x.p);
	if ((rc || *mixed) && inited)
		cm_dataset_free(ds);
	return rc;
}

int cm_store_load_summary_runs(struct cm_store *s, char *const *ids, size_t n, bool sessions,
			       struct cm_dataset *ds, struct cm_store_read *how)
{
	bool mixed = false;
	int rc = load_side(s, ids, n, sessions, ds, how, &mixed);
	/* a run read raw (in waves, or its summary not trusted): the side's cells are built from
	 * rows then, so every run's are rows (rebuilt from its summary where it is trusted) */
	if (!rc && mixed) {
		mixed = false;
		rc = load_side(s, ids, n, false, ds, how, &mixed);
	}
	return rc;
}
