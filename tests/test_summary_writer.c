/* The session summary's writer (issue 25 item 6): a boot's rows are appended to the summary
 * rows the writer keeps from its last write, not to the rows read back and decoded (the whole
 * session so far, every boot: quadratic over a session). What it keeps is used only while it
 * is the store's own row; these tests write through two connections at once, fail a
 * transaction halfway, and write times with no log, and ask every summary row, to the bit,
 * to be what the raw samples give (test_summary_writer, and summary-writer-postgresql on a
 * throw-away PostgreSQL 15); and the cost of a boot late in a long session against one early
 * in it (summary-writer-growth: a ratio, benchmark label). */
#define _GNU_SOURCE
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <fcntl.h>
#include <libpq-fe.h>
#include <math.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "coldmark/stats.h"
#include "coldmark/store.h"

#include "helpers.h"
#include "summary_util.h"

static const char *const PHASES[] = { "firmware", "mode_switch", "work", "markers" };

static void head(struct cm_dataset *ds)
{
	char *axes[] = { "variant" }, *la[] = { "a" }, *lb[] = { "b" };
	cm_dataset_init(ds, axes, 1);
	cm_dataset_case(ds, "variant=a", la);
	cm_dataset_case(ds, "variant=b", lb);
	cm_dataset_meta(ds, "date", "2026-12-06 08:00:00 +0000");
	cm_dataset_meta(ds, "host", "h1");
}

/* a repeatable noise in [-1, 1] */
static double noise(unsigned long *s)
{
	*s = *s * 6364136223846793005UL + 1442695040888963407UL;
	return (double)(*s >> 11) / (double)(1UL << 53) * 2 - 1;
}

/* One boot of case c, its four phases (time t of phase p: t * (p + 1)), into ds. */
static void boot_rows(struct cm_dataset *ds, const char *c, int boot, double t)
{
	for (int p = 0; p < 4; p++)
		cm_dataset_add(ds, c, boot, false, "ok", PHASES[p], t * (p + 1), "perf", "none");
}

static void add(struct cm_store *s, struct cm_dataset *ds, size_t from, int want)
{
	int rc = cm_store_add_rows(s, "run-w", ds, from, ds->n);
	if ((rc != 0) != (want != 0))
		fail_msg("boot rows %zu..%zu: %d (%s)", from, ds->n, rc, cm_store_error(s));
}

/* ---- every summary row against the raw samples, to the bit ----------------------------------- */

struct want {
	const struct cm_dataset *raw;
	size_t rows;
	const char *target;
};

static void first_text(void *ctx, char **v)
{
	snprintf(ctx, 64, "%s", v[0]);
}

/* One summary row (case, session, phase, n_rows, n, warm, failed, unmeasurable, interrupted,
 * vals, then median, mean, var, ssw as doubles) against what the raw rows of its key give. */
static void check_row(struct want *w, char **v, const double *st, const bool *null)
{
	const struct cm_dataset *ds = w->raw;
	double *t = cm_xcalloc(ds->n + 1, sizeof(double));
	long counts[6] = { 0 }; /* n_rows, n, warm-ups, failed, unmeasurable, interrupted */
	for (size_t i = 0; i < ds->n; i++) {
		const struct cm_sample_row *r = &ds->rows[i];
		if (strcmp(r->case_id, v[0]) || strcmp(ds->sessions[r->session - 1].id, v[1]) ||
		    strcmp(r->phase, v[2]))
			continue;
		int kind = cm_row_kind(r);
		counts[0]++;
		counts[kind == CM_ROW_MEASURED ? 1 : kind == CM_ROW_WARMUP ? 2 : kind == CM_ROW_FAILED ? 3
			: kind == CM_ROW_UNMEASURABLE ? 4 : 5]++;
		if (kind == CM_ROW_MEASURED)
			t[counts[1] - 1] = r->duration_ns;
	}
	for (int i = 0; i < 6; i++)
		if (counts[i] != atol(v[3 + i]))
			fail_msg("%s %s %s: column %d is %s, the samples give %ld", v[0], v[1], v[2],
				 3 + i, v[3 + i], counts[i]);
	char *hex = cm_xcalloc(16 * (size_t)counts[1] + 1, 1); /* each time's IEEE-754 bits */
	for (long i = 0; i < counts[1]; i++) {
		uint64_t bits;
		memcpy(&bits, &t[i], sizeof(bits));
		snprintf(hex + 16 * i, 17, "%016llx", (unsigned long long)bits);
	}
	assert_string_equal(v[9], hex);
	/* its first and last raw rows (the order readers put sessions and phases in) */
	char *sql = cm_xasprintf("SELECT MIN(rowid) || ' ' || MAX(rowid) FROM samples WHERE run_id = "
				 "'run-w' AND case_id = '%s' AND session = %s AND phase = '%s'",
				 v[0], v[1], v[2]);
	struct { char text[64]; } ends = { "" };
	each_row(w->target, sql, first_text, &ends);
	char mine[64];
	snprintf(mine, sizeof(mine), "%s %s", v[10], v[11]);
	if (strcmp(mine, ends.text))
		fail_msg("%s %s %s: first and last rows %s, the samples' %s", v[0], v[1], v[2], mine,
			 ends.text);
	free(sql);
	struct cm_ln_session ln;
	cm_ln_session_stats(t, (size_t)counts[1], &ln);
	size_t n = (size_t)counts[1];
	double want[4] = { ln.median, ln.mean, n > 1 ? ln.ssw / (double)(n - 1) : NAN, ln.ssw };
	for (int i = 0; i < 4; i++) {
		if (!isfinite(want[i]) ? !null[i] : null[i] || memcmp(&st[i], &want[i], sizeof(double)))
			fail_msg("%s %s %s: statistic %d is %.17g%s, the samples' %.17g", v[0], v[1],
				 v[2], i, st[i], null[i] ? " (NULL)" : "", want[i]);
	}
	free(t), free(hex);
	w->rows++;
}

#define COLS "SELECT case_id, session, phase, n_rows, n, n_warmup, n_failed, n_unmeasurable, " \
	"n_interrupted, vals, first_row, last_row, median_ln, mean_ln, var_ln, ssw_ln FROM " \
	"session_summary WHERE run_id = 'run-w'"

static void pg_row(void *ctx, char **v)
{
	double st[4];
	bool null[4];
	for (int i = 0; i < 4; i++) { /* PostgreSQL 12+ prints a float8 exactly (shortest) */
		null[i] = !*v[12 + i];
		st[i] = null[i] ? NAN : strtod(v[12 + i], NULL);
	}
	check_row(ctx, v, st, null);
}

/* every summary row of run-w is its raw samples', and there is one for every key and phase */
static void summary_exact(const char *target, size_t keys)
{
	struct cm_error err = { 0 };
	struct cm_store *s = cm_store_open_existing(target, &err);
	if (!s)
		fail_msg("%s", err.msg);
	struct cm_dataset raw;
	assert_int_equal(cm_store_load(s, "run-w", &raw), 0);
	cm_store_close(s);
	struct want w = { &raw, 0, target };
	if (pg_base) {
		each_row(target, COLS, pg_row, &w);
	} else { /* the REALs as doubles: SQLite's text of them is not exact */
		sqlite3 *db;
		sqlite3_stmt *st;
		assert_int_equal(sqlite3_open(target, &db), SQLITE_OK);
		assert_int_equal(sqlite3_prepare_v2(db, COLS, -1, &st, NULL), SQLITE_OK);
		while (sqlite3_step(st) == SQLITE_ROW) {
			char *v[12];
			double d[4];
			bool null[4];
			for (int i = 0; i < 12; i++)
				v[i] = cm_xstrdup((char *)sqlite3_column_text(st, i));
			for (int i = 0; i < 4; i++) {
				null[i] = sqlite3_column_type(st, 12 + i) == SQLITE_NULL;
				d[i] = sqlite3_column_double(st, 12 + i);
			}
			check_row(&w, v, d, null);
			for (int i = 0; i < 12; i++)
				free(v[i]);
		}
		sqlite3_finalize(st);
		sqlite3_close(db);
	}
	assert_int_equal(w.rows, keys * 4);
	cm_dataset_free(&raw);
}

/* Two connections write boots of one session in turn (each boot's row must be read back by
 * the other), one boot of two keys fails halfway (its first key's summary written, then the
 * second's refused: the transaction rolls back), a session long enough to be sorted by gsl,
 * times of 0 and below (no log, or -inf), and a writer that comes back after another's. */
static void test_writer_exact(void **state)
{
	char *t = fresh("t_writer");
	struct cm_error err = { 0 };
	struct cm_store *a = cm_store_open(t, &err), *b = cm_store_open(t, &err);
	assert_non_null(a), assert_non_null(b);
	struct cm_dataset ds;
	head(&ds);
	const char *refuse = pg_base
		? "CREATE FUNCTION refuse_9() RETURNS trigger LANGUAGE plpgsql AS $f$ BEGIN IF "
		  "NEW.session = 9 THEN RAISE EXCEPTION 'refused'; END IF; RETURN NEW; END $f$; "
		  "CREATE TRIGGER refuse_9 BEFORE INSERT ON session_summary FOR EACH ROW EXECUTE "
		  "FUNCTION refuse_9()"
		: "CREATE TRIGGER refuse_9 BEFORE INSERT ON session_summary WHEN NEW.session = 9 "
		  "BEGIN SELECT RAISE(ABORT, 'refused'); END";
	th_store_exec(t, refuse);
	assert_int_equal(cm_store_begin_run(a, "run-w", "w", &ds), 0);
	unsigned long seed = 7;
	cm_dataset_session_number(&ds, 1, "h1"); /* one writer, 45 boots: gsl sorts past 32 */
	for (int i = 1; i <= 45; i++) {
		size_t from = ds.n;
		double t1 = i == 9 ? 0 : i == 17 ? -5 : 1e8 * exp(0.05 * noise(&seed));
		boot_rows(&ds, "variant=a", i, t1);
		add(a, &ds, from, 0);
	}
	cm_dataset_session_number(&ds, 2, "h1"); /* two writers in turn, then a, then b again */
	for (int i = 1; i <= 30; i++) {
		size_t from = ds.n;
		boot_rows(&ds, "variant=a", 100 + i, 1e8 * exp(0.05 * noise(&seed)));
		add(i <= 20 && i % 2 ? b : i == 25 ? b : a, &ds, from, 0);
	}
	/* a boot of a and b at once, b's summary refused after a's was written (session 9's:
	 * the trigger is made before any boot, as a change by another connection shows) */
	size_t from = ds.n;
	boot_rows(&ds, "variant=a", 200, 2e8);
	cm_dataset_session_number(&ds, 9, "h1");
	boot_rows(&ds, "variant=b", 200, 2e8);
	add(a, &ds, from, 1);
	cm_dataset_truncate(&ds, from);
	cm_dataset_session_number(&ds, 2, "h1");
	for (int i = 1; i <= 5; i++) { /* a again: the failed boot is in neither (b's rows first:
					* SQLite gives a's the rowids after the failed boot's) */
		from = ds.n;
		boot_rows(&ds, "variant=b", 200 + i, 1e8 * exp(0.05 * noise(&seed)));
		boot_rows(&ds, "variant=a", 200 + i, 1e8 * exp(0.05 * noise(&seed)));
		add(a, &ds, from, 0);
	}
	/* the last boot again with a new one in one call: some rows skipped (a resumed run's) */
	size_t last = from;
	boot_rows(&ds, "variant=a", 206, 1e8 * exp(0.05 * noise(&seed)));
	add(a, &ds, last, 0);
	add(b, &ds, last, 0); /* and all of them again */
	cm_store_close(a), cm_store_close(b);
	cm_dataset_free(&ds);
	summary_exact(t, 3); /* a in sessions 1 and 2, b in 2 */
	free(t);
}

/* ---- growth: a boot's cost late in a long session against early in it ------------------------ */

static int64_t thread_cpu_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
	return ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

static int by_ll(const void *a, const void *b)
{
	int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
	return x < y ? -1 : x > y;
}

static double median_ns(int64_t *v, size_t n)
{
	qsort(v, n, sizeof(*v), by_ll);
	return (double)(v[(n - 1) / 2] + v[n / 2]) / 2;
}

/* Boots written as a run writes them (a transaction each, four phases) alternately into a
 * session 1,500 boots long and into a new one (so that both meet the host as it is at that
 * moment): the median CPU of a boot of the long session over the new one's, 200 of each.
 * Reading back and decoding the session's summary every boot made it ~7 here (a boot at
 * 1,600 decoded, logged and sorted 6,400 times); what grows now is the row's text (16 bytes
 * a time) handed to the store and written to its journal. */
static void test_writer_growth(void **state)
{
	char *t = fresh("t_growth");
	struct cm_error err = { 0 };
	struct cm_store *s = cm_store_open(t, &err);
	assert_non_null(s);
	struct cm_dataset ds;
	head(&ds);
	assert_int_equal(cm_store_begin_run(s, "run-w", "w", &ds), 0);
	enum { LONG = 1500, K = 200 };
	int64_t cost[2][K];
	unsigned long seed = 3;
	for (int i = 0; i < LONG + K; i++)
		for (int k = i < LONG; k < 2; k++) { /* session 2 (long), then 1 (new) */
			cm_dataset_session_number(&ds, 2 - k, "h1");
			size_t from = ds.n;
			boot_rows(&ds, "variant=a", i + 1, 1e8 * exp(0.05 * noise(&seed)));
			int64_t t0 = thread_cpu_ns();
			add(s, &ds, from, 0);
			if (i >= LONG)
				cost[k][i - LONG] = thread_cpu_ns() - t0;
		}
	double fresh_ns = median_ns(cost[0], K), long_ns = median_ns(cost[1], K);
	printf("summary writer: a boot of a new session %.1f us, of a session %d boots long %.1f us:"
	       " ratio %.2f\n", fresh_ns / 1e3, LONG, long_ns / 1e3, long_ns / fresh_ns);
	assert_true(long_ns / fresh_ns < 5);
	cm_store_close(s);
	cm_dataset_free(&ds);
	summary_exact(t, 2);
	free(t);
}

int main(int argc, char **argv)
{
	snprintf(tmp, sizeof(tmp), "/tmp/cm-sumw-XXXXXX");
	if (!mkdtemp(tmp))
		return 1;
	const struct CMUnitTest tests[] = { cmocka_unit_test(test_writer_exact) };
	const struct CMUnitTest growth[] = { cmocka_unit_test(test_writer_growth) };
	int rc;
	(void)scalar, (void)coldmark; /* summary_util.h's, used by test_summary */
	if (argc > 1 && !strcmp(argv[1], "growth")) {
		rc = cmocka_run_group_tests_name("summary-writer-growth", growth, NULL, NULL);
	} else if (argc > 1 && !strcmp(argv[1], "--pg")) {
		if (!(pg_base = getenv("COLDMARK_DB")) || !cm_store_is_url(pg_base)) {
			fprintf(stderr, "test_summary_writer --pg: no PostgreSQL in COLDMARK_DB: skipped\n");
			rc = 77;
		} else {
			rc = cmocka_run_group_tests_name("summary-writer-postgresql", tests, NULL, NULL);
		}
	} else {
		rc = cmocka_run_group_tests_name("summary-writer-sqlite", tests, NULL, NULL);
	}
	th_rm_rf(tmp);
	return rc;
}
