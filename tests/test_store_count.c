/* The SQLite writer counts its own inserts (store6, issue 25 item 6): while the store's
 * triggers are coldmark's three counting ones and no other, coldmark's connection runs no
 * trigger program a row and adds the rows its transaction put in to runs.samples in one
 * statement. These tests ask (real SQLite files, a second plain connection for the writes
 * around coldmark):
 * - a boot's transaction is BEGIN, the samples' insert, the count, the summary's upsert,
 *   COMMIT: 5 statements and no trigger program (19 trace events before store6, 6 before
 *   store7: PRAGMA data_version is a file control now);
 * - runs.samples equals COUNT(*) of the run's samples after boots, boots again (all skipped
 *   by the unique key), some rows again, a copy to another store, and writes around
 *   coldmark (a row inserted, one deleted: the triggers still count those);
 * - a trigger of someone else's (here: one that logs each sample inserted) runs on
 *   coldmark's next boot, and the counts stay exact; dropped, the own count is back;
 * - two coldmark writers of one session in turn: each one's summary takes the other's boots
 *   in (the data version begin reads says another connection committed);
 * - the k-row VALUES text the inserts are made of. */
#define _GNU_SOURCE
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "coldmark/store.h"

#include "../store/driver.h"
#include "helpers.h"

static char tmp[256];
static const char *const PHASES[] = { "firmware", "mode_switch", "work", "markers", "total",
				      "qemu_cpu", "qemu_maxrss" };

/* sql on a connection of its own: a write around coldmark */
static void around(const char *path, const char *sql)
{
	sqlite3 *db;
	char *msg = NULL;
	assert_int_equal(sqlite3_open(path, &db), SQLITE_OK);
	sqlite3_busy_timeout(db, 10000);
	if (sqlite3_exec(db, sql, NULL, NULL, &msg) != SQLITE_OK)
		fail_msg("%s: %s", sql, msg);
	sqlite3_close(db);
}

/* runs.samples and samples_changed against the rows there are */
static void counts_exact(const char *path, long long changed)
{
	long long rows = th_sqlite_value(path, "SELECT COUNT(*) FROM samples WHERE run_id = 'run-c'");
	long long said = th_sqlite_value(path, "SELECT samples FROM runs WHERE id = 'run-c'");
	if (rows != said)
		fail_msg("%s: runs.samples %lld, the samples %lld", path, said, rows);
	assert_int_equal(th_sqlite_value(path, "SELECT samples_changed FROM runs WHERE id = 'run-c'"), changed);
}

static struct cm_store *fresh(const char *name, struct cm_dataset *ds, char **path)
{
	return th_store_fresh(tmp, name, "run-c", ds, path);
}

/* boot's 7 rows into ds and the store (rows [from, n)); 0 or the store's error */
static int boot(struct cm_store *s, struct cm_dataset *ds, int b)
{
	size_t from = ds->n;
	for (int p = 0; p < 7; p++)
		cm_dataset_add(ds, "variant=a", b, false, "ok", PHASES[p], 1e6 * (p + 1) + b, "perf",
			       "none");
	int rc = cm_store_add_rows(s, "run-c", ds, from, ds->n);
	if (rc)
		fail_msg("boot %d: %s", b, cm_store_error(s));
	return rc;
}

struct trace {
	int stmts, triggers;
	char seen[2048];
};

static int traced(unsigned type, void *ctx, void *p, void *x)
{
	struct trace *t = ctx;
	const char *sql = x;
	t->stmts++;
	t->triggers += !strncmp(sql, "-- TRIGGER", 10);
	size_t n = strlen(t->seen);
	snprintf(t->seen + n, sizeof(t->seen) - n, "%.40s | ", sql);
	(void)type, (void)p;
	return 0;
}

/* One boot's transaction, statement by statement (sqlite3_trace_v2 on coldmark's connection) */
static void test_boot_statements(void **state)
{
	struct cm_dataset ds;
	char *path;
	struct cm_store *s = fresh("stmts", &ds, &path);
	boot(s, &ds, 1); /* the first: the triggers looked at, statements prepared */
	struct trace t = { 0 };
	sqlite3_trace_v2(s->db, SQLITE_TRACE_STMT, traced, &t);
	boot(s, &ds, 2);
	sqlite3_trace_v2(s->db, 0, NULL, NULL);
	if (t.triggers || t.stmts != 5)
		fail_msg("boot 2: %d statements, %d trigger programs (want 5 and 0): %s", t.stmts,
			 t.triggers, t.seen);
	cm_store_close(s);
	counts_exact(path, 0);
	cm_dataset_free(&ds);
	free(path);
	(void)state;
}

static void test_counts_exact(void **state)
{
	struct cm_dataset ds;
	char *path, *copy;
	struct cm_store *s = fresh("exact", &ds, &path);
	for (int b = 1; b <= 5; b++)
		boot(s, &ds, b);
	counts_exact(path, 0);
	/* every row again (another copy's boots): all skipped, none counted */
	assert_int_equal(cm_store_add_rows(s, "run-c", &ds, 0, ds.n), 0);
	counts_exact(path, 0);
	/* a boot whose first rows are there and last not */
	size_t from = ds.n;
	for (int p = 0; p < 7; p++)
		cm_dataset_add(&ds, "variant=a", 6, false, "ok", PHASES[p], 2e6 + p, "perf", "none");
	assert_int_equal(cm_store_add_rows(s, "run-c", &ds, from, from + 3), 0);
	assert_int_equal(cm_store_add_rows(s, "run-c", &ds, from, ds.n), 0);
	counts_exact(path, 0);
	assert_int_equal(th_sqlite_value(path, "SELECT COUNT(*) FROM samples"), 42);
	/* around coldmark: a row in, a row out, by a connection that runs the triggers */
	around(path, "INSERT INTO samples (run_id, case_id, boot, warmup, status, phase, "
		     "duration_ns, source, cache_drop, session) VALUES ('run-c', 'variant=a', 99, 0,"
		     " 'ok', 'work', 5, 'perf', 'none', 1); DELETE FROM samples WHERE boot = 1 AND "
		     "phase = 'total'");
	counts_exact(path, 1);
	boot(s, &ds, 7); /* coldmark's next boot: another connection committed in between */
	counts_exact(path, 1);
	/* a copy (sync, merge) into another store counts what it adds */
	struct cm_dataset ds2;
	struct cm_store *t = fresh("copy", &ds2, &copy);
	struct cm_store_copied out = { 0 };
	assert_int_equal(cm_store_copy_run(s, t, "run-c", &out), 0);
	assert_int_equal(cm_store_copy_run(s, t, "run-c", &out), 0); /* again: nothing added */
	cm_store_close(t);
	counts_exact(copy, 0);
	assert_int_equal(th_sqlite_value(copy, "SELECT COUNT(*) FROM samples"), 49);
	cm_store_close(s);
	cm_dataset_free(&ds), cm_dataset_free(&ds2);
	free(path), free(copy);
	(void)state;
}

/* someone else's trigger runs on coldmark's boots; without it, coldmark counts again */
static void test_other_trigger(void **state)
{
	struct cm_dataset ds;
	char *path;
	struct cm_store *s = fresh("other", &ds, &path);
	boot(s, &ds, 1);
	around(path, "CREATE TABLE seen (boot INTEGER);"
		     "CREATE TRIGGER log_boots AFTER INSERT ON samples BEGIN INSERT INTO seen "
		     "VALUES (NEW.boot); END;");
	boot(s, &ds, 2);
	assert_int_equal(th_sqlite_value(path, "SELECT COUNT(*) FROM seen WHERE boot = 2"), 7);
	counts_exact(path, 0);
	around(path, "DROP TRIGGER log_boots");
	struct trace t = { 0 };
	boot(s, &ds, 3); /* the triggers looked at again: coldmark's alone */
	sqlite3_trace_v2(s->db, SQLITE_TRACE_STMT, traced, &t);
	boot(s, &ds, 4);
	sqlite3_trace_v2(s->db, 0, NULL, NULL);
	assert_int_equal(t.triggers, 0);
	assert_int_equal(th_sqlite_value(path, "SELECT COUNT(*) FROM seen"), 7);
	counts_exact(path, 0);
	/* one of coldmark's own changed (same name, another body): not coldmark's set */
	around(path, "DROP TRIGGER samples_added; CREATE TRIGGER samples_added AFTER INSERT ON "
		     "samples BEGIN UPDATE runs SET samples = samples + 1 WHERE id = NEW.run_id; "
		     "INSERT INTO seen VALUES (-1); END;");
	boot(s, &ds, 5);
	assert_int_equal(th_sqlite_value(path, "SELECT COUNT(*) FROM seen WHERE boot = -1"), 7);
	counts_exact(path, 0);
	cm_store_close(s);
	cm_dataset_free(&ds);
	free(path);
	(void)state;
}

/* the summary's rows of phase total (session 1) count every boot stored so far */
static void summary_counts(const char *path, int boots)
{
	long long n = th_sqlite_value(path, "SELECT n_rows FROM session_summary WHERE run_id = 'run-c' AND "
				  "phase = 'total' AND session = 1");
	if (n != boots)
		fail_msg("after boot %d the summary counts %lld rows of 'total'", boots, n);
}

/* Two coldmark writers of one session in turn: each one's summary of the session must take
 * the other's boots in (its cache of the rows it wrote last is stale once the other has
 * committed: the data version begin reads must say so, with no PRAGMA statement now), and so
 * after a commit around coldmark, and after a transaction of its own that rolled back. */
static void test_other_writer(void **state)
{
	struct cm_dataset ds;
	char *path;
	struct cm_store *a = fresh("writers", &ds, &path);
	struct cm_error err = { 0 };
	struct cm_store *b = cm_store_open(path, &err);
	assert_non_null(b);
	for (int i = 1; i <= 6; i++) { /* a, a, b, a, b, b */
		boot(i == 3 || i >= 5 ? b : a, &ds, i);
		summary_counts(path, i);
	}
	around(path, "UPDATE runs SET tag = tag"); /* a commit that changes no row's value */
	boot(a, &ds, 7);
	summary_counts(path, 7);
	around(path, "CREATE TRIGGER refuse_9 BEFORE INSERT ON samples WHEN NEW.boot = 9 BEGIN "
		     "SELECT RAISE(ABORT, 'refused'); END");
	boot(b, &ds, 8);
	size_t from = ds.n; /* boot 9: refused, rolled back */
	for (int p = 0; p < 7; p++)
		cm_dataset_add(&ds, "variant=a", 9, false, "ok", PHASES[p], 3e6 + p, "perf", "none");
	assert_int_not_equal(cm_store_add_rows(b, "run-c", &ds, from, ds.n), 0);
	cm_dataset_truncate(&ds, from);
	boot(a, &ds, 10);
	boot(b, &ds, 11);
	summary_counts(path, 10);
	cm_store_close(a), cm_store_close(b);
	counts_exact(path, 0);
	cm_dataset_free(&ds);
	free(path);
	(void)state;
}

static void test_values_text(void **state)
{
	char *sql[3] = { 0 };
	cm_store_values_sql(sql, 2, "INSERT INTO t (a, b) VALUES ", 2, " ON CONFLICT DO NOTHING");
	assert_string_equal(sql[1], "INSERT INTO t (a, b) VALUES ($1, $2) ON CONFLICT DO NOTHING");
	assert_string_equal(sql[2], "INSERT INTO t (a, b) VALUES ($1, $2), ($3, $4) ON CONFLICT "
				    "DO NOTHING");
	free(sql[1]), free(sql[2]);
	/* made without printf now: the same texts as printf makes, up to the writers' 16 rows */
	char *big[17] = { 0 };
	cm_store_values_sql(big, 16, "H ", 13, " T");
	for (int k = 1; k <= 16; k++) {
		struct cm_buf want = { 0 };
		cm_buf_printf(&want, "H ");
		for (int r = 0; r < k; r++) {
			cm_buf_printf(&want, "%s(", r ? ", " : "");
			for (int c = 1; c <= 13; c++)
				cm_buf_printf(&want, "%s$%d", c > 1 ? ", " : "", r * 13 + c);
			cm_buf_printf(&want, ")");
		}
		cm_buf_printf(&want, " T");
		assert_string_equal(big[k], want.s);
		cm_buf_free(&want);
		free(big[k]);
	}
	char name[12];
	assert_int_equal(cm_store_param_name(name, 0), 2);
	assert_string_equal(name, "$0");
	assert_int_equal(cm_store_param_name(name, 2147483647), 11);
	assert_string_equal(name, "$2147483647");
	(void)state;
}

int main(void)
{
	snprintf(tmp, sizeof(tmp), "/tmp/cm-count-XXXXXX");
	if (!mkdtemp(tmp))
		return 1;
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_boot_statements),
		cmocka_unit_test(test_counts_exact),
		cmocka_unit_test(test_other_trigger),
		cmocka_unit_test(test_other_writer),
		cmocka_unit_test(test_values_text),
	};
	int rc = cmocka_run_group_tests_name("store-count", tests, NULL, NULL);
	th_rm_rf(tmp);
	return rc;
}
