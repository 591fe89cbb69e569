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

#include "coldmark/store.h"
#include "driver.h"

static const char RAW_COUNT[] = "SELECT COUNT(*) FROM samples WHERE run_id = $1";
static const char SUM_COUNT[] =
	"SELECT COALESCE(SUM(n_rows), 0) FROM session_summary WHERE run_id = $1";
static const char RAW_COUNT_CASE[] =
	"SELECT COUNT(*) FROM samples WHERE run_id = $1 AND case_id = $2";
static const char SUM_COUNT_CASE[] =
	"SELECT COALESCE(SUM(n_rows), 0) FROM session_summary WHERE run_id = $1 AND case_id = $2";
static const char ROWS[] =
	"SELECT case_id, session, phase, first_row, n_warmup, n_failed, n_unmeasurable, "
	"n_interrupted, vals FROM session_summary WHERE run_id = $1 ORDER BY first_row";
static const char ROWS_CASE[] =
	"SELECT case_id, session, phase, first_row, n_warmup, n_failed, n_unmeasurable, "
	"n_interrupted, vals FROM session_summary WHERE run_id = $1 AND case_id = $2 "
	"ORDER BY first_row";
#define NCOL 9

static long long count(struct cm_store *s, const char *sql, int n, const char *const *p)
{
	struct cm_rows r;
	long long c = -1;
	if (!cm_store_rows(s, sql, n, p, &r) && r.n && r.v[0])
		c = atoll(r.v[0]);
	cm_rows_free(&r);
	return c;
}

struct sel {
	char **v; /* NCOL columns a row */
	long long first;
};

static int by_first(const void *a, const void *b)
{
	const struct sel *x = a, *y = b;
	return x->first < y->first ? -1 : x->first > y->first;
}

/* One summary row's rows: warm-ups, then the rows that are no time (interrupted, failed,
 * unmeasurable), then the measured times in their order. Boot numbers are not kept: a
 * compare or history never reads them. */
static void add_group(struct cm_dataset *ds, char *const *v, const char *host, int *boot)
{
	static const char *const status[] = { CM_STATUS_OK_NAME, "failed", CM_STATUS_OK_NAME,
					       CM_STATUS_INTERRUPTED_NAME };
	cm_dataset_session(ds, v[1], host);
	for (int kind = 0; kind < 4; kind++)
		for (long i = atol(v[4 + kind]); i > 0; i--)
			cm_dataset_add(ds, v[0], ++*boot, kind == 0, status[kind], v[2], NAN, "", "");
	for (char *p = v[8], *end; p && *p; p = *end ? end + 1 : end) {
		double d = strtod(p, &end);
		if (end == p)
			break;
		cm_dataset_add(ds, v[0], ++*boot, false, CM_STATUS_OK_NAME, v[2], d, "", "");
	}
}

/* The run's summary rows (of its loaded cases, with a filter) in the order of their first
 * raw row: sessions and phases are met in the order the raw samples meet them. */
static int load_rows(struct cm_store *s, const char *run_id, const char *case_filter,
		     struct cm_dataset *ds)
{
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
	for (size_t i = 0; i < k; i++)
		add_group(ds, all[i].v, host, &boot);
	free(all);
	for (size_t i = 0; i < nparts; i++)
		cm_rows_free(&parts[i]);
	free(parts);
	return rc;
}

/* Does the summary account for every raw row of the run (of its loaded cases)? */
static bool accounts(struct cm_store *s, const char *run_id, const struct cm_dataset *ds,
		     const char *case_filter, struct cm_store_read *how)
{
	how->raw_rows = how->summary_rows = 0;
	for (size_t i = 0; i < (case_filter ? ds->ncases : 1); i++) {
		const char *p[] = { run_id, case_filter ? ds->cases[i].id : NULL };
		long long raw = count(s, case_filter ? RAW_COUNT_CASE : RAW_COUNT, case_filter ? 2 : 1, p),
			  sum = count(s, case_filter ? SUM_COUNT_CASE : SUM_COUNT, case_filter ? 2 : 1, p);
		if (raw < 0 || sum < 0)
			return false;
		how->raw_rows += raw;
		how->summary_rows += sum;
	}
	return how->raw_rows == how->summary_rows;
}

int cm_store_load_summary(struct cm_store *s, const char *run_id, const char *case_filter,
			  struct cm_dataset *ds, struct cm_store_read *how)
{
	*how = (struct cm_store_read){ 0 };
	if (cm_store_version(s) < CM_SUMMARY_VERSION) /* a store no writer migrated yet */
		return cm_store_load(s, run_id, ds);
	int rc = cm_store_load_head(s, run_id, case_filter, ds);
	if (rc)
		return rc;
	if (!accounts(s, run_id, ds, case_filter, how)) {
		how->stale = true;
		cm_dataset_free(ds);
		return cm_store_load(s, run_id, ds);
	}
	how->summary = true;
	return load_rows(s, run_id, case_filter, ds);
}
