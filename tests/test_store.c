/* The results store: round trip, tag resolution, and the migration from schema 1. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <math.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "coldmark/store.h"

static void dataset(struct cm_dataset *ds, const char *date)
{
	char *axes[] = { "memory" };
	cm_dataset_init(ds, axes, 1);
	char *l1[] = { "128M" }, *l2[] = { "1G" };
	cm_dataset_case(ds, "memory=128M", l1);
	cm_dataset_case(ds, "memory=1G", l2);
	cm_dataset_meta(ds, "date", date);
	cm_dataset_meta(ds, "qemu", "QEMU 7.2");
	for (int b = 1; b <= 3; b++) {
		cm_dataset_add(ds, "memory=128M", b, false, "ok", "total", 1000.0 * b, "perf", "drop_caches");
		cm_dataset_add(ds, "memory=1G", b, false, b == 2 ? "timeout" : "ok", "total",
			       b == 2 ? NAN : 2000.0 * b, "perf", "drop_caches");
	}
}

static void test_round_trip(void **state)
{
	unlink("t1.db");
	char err[256], id[64];
	struct cm_store *s = cm_store_open("t1.db", err, sizeof(err));
	assert_non_null(s);
	assert_int_equal(cm_store_version(s), CM_STORE_VERSION);
	struct cm_dataset a, b, back;
	dataset(&a, "2026-01-01 10:00:00 +0000");
	dataset(&b, "2026-02-01 10:00:00 +0000");
	assert_int_equal(cm_store_begin_run(s, "run-a", "v1", &a), 0);
	assert_int_equal(cm_store_add_rows(s, "run-a", &a, 0, a.n), 0);
	assert_int_equal(cm_store_begin_run(s, "run-b", "v1", &b), 0);
	assert_int_equal(cm_store_add_rows(s, "run-b", &b, 0, 2), 0); /* a run cut short */
	char *ids[] = { "memory=1G" }, *cls[] = { "qemu -m 1G" };
	assert_int_equal(cm_store_cases_argv(s, "run-a", ids, cls, 1), 0);
	/* a tag means its newest run; an id means itself */
	assert_int_equal(cm_store_resolve(s, "v1", id, sizeof(id)), 0);
	assert_string_equal(id, "run-b");
	assert_int_equal(cm_store_resolve(s, "run-a", id, sizeof(id)), 0);
	assert_string_equal(id, "run-a");
	assert_int_not_equal(cm_store_resolve(s, "v9", id, sizeof(id)), 0);
	assert_int_equal(cm_store_load(s, "run-a", &back), 0);
	assert_int_equal(back.n, a.n);
	assert_int_equal(back.ncases, 2);
	assert_string_equal(back.axes[0], "memory");
	assert_string_equal(back.cases[1].labels[0], "1G");
	assert_string_equal(cm_dataset_get_meta(&back, "qemu"), "QEMU 7.2");
	assert_true(isnan(back.rows[3].duration_ns));
	assert_string_equal(back.rows[3].status, "timeout");
	assert_true(back.rows[4].duration_ns == 3000);
	cm_dataset_free(&back);
	assert_int_equal(cm_store_load(s, "run-b", &back), 0);
	assert_int_equal(back.n, 2);
	cm_dataset_free(&back);
	cm_dataset_free(&a);
	cm_dataset_free(&b);
	cm_store_close(s);
	unlink("t1.db");
}

static void test_migration_from_v1(void **state)
{
	/* a database as coldmark's schema 1 left it, with a run in it */
	unlink("t2.db");
	sqlite3 *db;
	assert_int_equal(sqlite3_open("t2.db", &db), SQLITE_OK);
	const char *v1 =
		"CREATE TABLE runs (id TEXT PRIMARY KEY, tag TEXT, started TEXT NOT NULL);"
		"CREATE TABLE run_meta (run_id TEXT NOT NULL REFERENCES runs(id), key TEXT NOT NULL,"
		" value TEXT, PRIMARY KEY (run_id, key));"
		"CREATE TABLE cases (run_id TEXT NOT NULL REFERENCES runs(id), case_id TEXT NOT NULL,"
		" axes TEXT NOT NULL, PRIMARY KEY (run_id, case_id));"
		"CREATE TABLE samples (run_id TEXT NOT NULL REFERENCES runs(id), case_id TEXT NOT NULL,"
		" boot INTEGER NOT NULL, warmup INTEGER NOT NULL, status TEXT NOT NULL,"
		" phase TEXT NOT NULL, duration_ns REAL, source TEXT, cache_drop TEXT);"
		"CREATE INDEX samples_run ON samples(run_id, case_id, phase);"
		"CREATE INDEX runs_tag ON runs(tag, started);"
		"INSERT INTO runs VALUES ('old', 'v0', '2025-01-01');"
		"INSERT INTO cases VALUES ('old', 'default', '');"
		"INSERT INTO samples VALUES ('old', 'default', 1, 0, 'ok', 'total', 42, 'perf', 'drop_caches');"
		"PRAGMA user_version = 1;";
	assert_int_equal(sqlite3_exec(db, v1, NULL, NULL, NULL), SQLITE_OK);
	sqlite3_close(db);
	char err[256];
	struct cm_store *s = cm_store_open("t2.db", err, sizeof(err));
	assert_non_null(s);
	assert_int_equal(cm_store_version(s), CM_STORE_VERSION);
	char *ids[] = { "default" }, *cls[] = { "qemu" };
	assert_int_equal(cm_store_cases_argv(s, "old", ids, cls, 1), 0); /* v2's column */
	struct cm_dataset ds;
	assert_int_equal(cm_store_load(s, "old", &ds), 0);
	assert_int_equal(ds.n, 1);
	assert_true(ds.rows[0].duration_ns == 42);
	cm_dataset_free(&ds);
	cm_store_close(s);
	/* a database from a newer coldmark is refused, not damaged */
	assert_int_equal(sqlite3_open("t2.db", &db), SQLITE_OK);
	sqlite3_exec(db, "PRAGMA user_version = 99", NULL, NULL, NULL);
	sqlite3_close(db);
	assert_null(cm_store_open("t2.db", err, sizeof(err)));
	assert_non_null(strstr(err, "newer"));
	unlink("t2.db");
}

/* A writer that holds the database past SQLite's busy timeout (a long import at the same
 * time) delays a boot; it never drops it. */
static void test_busy_is_retried(void **state)
{
	unlink("t3.db");
	char err[256];
	struct cm_store *s = cm_store_open("t3.db", err, sizeof(err));
	assert_non_null(s);
	struct cm_dataset a;
	dataset(&a, "2026-01-03 10:00:00 +0000");
	assert_int_equal(cm_store_begin_run(s, "r3", "busy", &a), 0);
	int go[2];
	assert_int_equal(pipe(go), 0);
	pid_t pid = fork();
	if (pid == 0) {
		sqlite3 *db;
		sqlite3_open("t3.db", &db);
		sqlite3_exec(db, "BEGIN IMMEDIATE", NULL, NULL, NULL);
		if (write(go[1], "x", 1) != 1)
			_exit(1);
		sleep(6); /* past the 5 s busy timeout */
		sqlite3_exec(db, "COMMIT", NULL, NULL, NULL);
		sqlite3_close(db);
		_exit(0);
	}
	char c;
	assert_int_equal(read(go[0], &c, 1), 1);
	int64_t t0 = cm_now_ns();
	assert_int_equal(cm_store_add_rows(s, "r3", &a, 0, a.n), 0);
	assert_true(cm_now_ns() - t0 > 5000000000LL); /* it did wait for the lock */
	waitpid(pid, NULL, 0);
	struct cm_dataset back;
	assert_int_equal(cm_store_load(s, "r3", &back), 0);
	assert_int_equal(back.n, a.n);
	cm_dataset_free(&back);
	cm_dataset_free(&a);
	cm_store_close(s);
	unlink("t3.db");
}

/* Readers get a clear error, never a new empty store; a file without the tables is refused. */
static void test_not_a_store(void **state)
{
	char err[256];
	unlink("none.db");
	assert_null(cm_store_open_existing("none.db", err, sizeof(err)));
	assert_non_null(strstr(err, "no results store there"));
	assert_int_not_equal(access("none.db", F_OK), 0);
	sqlite3 *db;
	unlink("other.db");
	sqlite3_open("other.db", &db);
	sqlite3_exec(db, "CREATE TABLE x (a); PRAGMA user_version = 2;", NULL, NULL, NULL);
	sqlite3_close(db);
	assert_null(cm_store_open("other.db", err, sizeof(err)));
	assert_non_null(strstr(err, "not a coldmark results store (no table 'runs')"));
	unlink("other.db");
	mkdir("dir.db", 0755);
	assert_null(cm_store_open("dir.db", err, sizeof(err)));
	rmdir("dir.db");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_round_trip),
		cmocka_unit_test(test_migration_from_v1),
		cmocka_unit_test(test_busy_is_retried),
		cmocka_unit_test(test_not_a_store),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
