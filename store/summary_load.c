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
	int rc = cm_store_load_head(s, run_id, case_filter, ds);
	if (rc)
		return rc;
	/* a run in waves (its "concurrency" item): compare's unit is the wave below the session
	 * (issue 29), which a per-session summary does not keep, so the raw rows */
	if (cm_dataset_get_meta(ds, "concurrency")) {
		cm_dataset_free(ds);
		return cm_store_load(s, run_id, ds);
	}
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
