/* The store conformance suite: the same tests against SQLite (test_store) and PostgreSQL
 * (test_store --pg, with COLDMARK_DB naming a server; scripts/slurm-local.sh starts one):
 * round trip, tag resolution, migration from schema 1, a newer schema refused, a stranger's
 * database refused, many writers at once, idempotent copies (sync, merge). SQLite alone:
 * a writer past the busy timeout, a missing file. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <math.h>
#include <libpq-fe.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "coldmark/store.h"
#include "helpers.h"

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

static const char *pg_base; /* COLDMARK_DB under --pg, NULL for SQLite */

/* A fresh store for one test: a file, or a schema of its own in the PostgreSQL database
 * (search_path set through the URL, so the store's tables land there). */
static char *fresh(const char *name)
{
	if (!pg_base) {
		char *path = cm_xasprintf("%s.db", name);
		unlink(path);
		return path;
	}
	return th_pg_schema(pg_base, name);
}

static void done_with(char *target)
{
	if (!pg_base)
		unlink(target);
	free(target);
}

static void test_round_trip(void **state)
{
	char *t = fresh("t_round_trip");
	struct cm_error err = { 0 };
	char id[64];
	struct cm_store *s = cm_store_open(t, &err);
	assert_non_null(s);
	assert_int_equal(cm_store_version(s), CM_STORE_VERSION);
	assert_string_equal(cm_store_backend(s), pg_base ? "PostgreSQL" : "SQLite");
	struct cm_dataset a, b, back;
	dataset(&a, "2026-01-01 10:00:00 +0000");
	dataset(&b, "2026-02-01 10:00:00 +0000");
	a.rows[0].duration_ns = 1234567.891234567; /* all its digits come back */
	assert_int_equal(cm_store_begin_run(s, "run-a", "v1", &a), 0);
	assert_int_equal(cm_store_add_rows(s, "run-a", &a, 0, a.n), 0);
	assert_int_equal(cm_store_begin_run(s, "run-b", "v1", &b), 0);
	assert_int_equal(cm_store_add_rows(s, "run-b", &b, 0, 2), 0); /* a run cut short */
	assert_int_not_equal(cm_store_begin_run(s, "run-b", "v1", &b), 0); /* ids are unique */
	char *ids[] = { "memory=1G" }, *cls[] = { "qemu -m 1G" };
	assert_int_equal(cm_store_cases_argv(s, "run-a", ids, cls, 1), 0);
	assert_int_equal(cm_store_set_meta(s, "run-a", "qemu", "QEMU 8.0"), 0); /* said again */
	/* a tag means its newest run; an id means itself */
	assert_int_equal(cm_store_resolve(s, "v1", id, sizeof(id)), 0);
	assert_string_equal(id, "run-b");
	assert_int_equal(cm_store_resolve(s, "run-a", id, sizeof(id)), 0);
	assert_string_equal(id, "run-a");
	assert_int_not_equal(cm_store_resolve(s, "v9", id, sizeof(id)), 0);
	char **all;
	size_t n;
	assert_int_equal(cm_store_resolve_all(s, "v1", &all, &n), 0);
	assert_int_equal(n, 2);
	assert_string_equal(all[0], "run-a");
	for (size_t i = 0; i < n; i++)
		free(all[i]);
	free(all);
	assert_int_equal(cm_store_load(s, "run-a", &back), 0);
	assert_int_equal(back.n, a.n);
	assert_int_equal(back.ncases, 2);
	assert_string_equal(back.axes[0], "memory");
	assert_string_equal(back.cases[1].labels[0], "1G");
	assert_string_equal(cm_dataset_get_meta(&back, "qemu"), "QEMU 8.0");
	assert_true(back.rows[0].duration_ns == 1234567.891234567);
	assert_true(isnan(back.rows[3].duration_ns));
	assert_string_equal(back.rows[3].status, "timeout");
	assert_true(back.rows[4].duration_ns == 3000);
	cm_dataset_free(&back);
	assert_int_equal(cm_store_load(s, "run-b", &back), 0);
	assert_int_equal(back.n, 2);
	cm_dataset_free(&back);
	struct cm_calibration cal = { "memory=1G", "total", { .within = 1e-4, .between = 3.5e-5,
							     .sessions = 4, .boots = 10 } }, *got;
	assert_int_equal(cm_store_put_calibration(s, "hostA", "run-a", &cal, 1), 0);
	assert_int_equal(cm_store_put_calibration(s, "hostA", "run-a", &cal, 1), 0); /* replaced */
	assert_int_equal(cm_store_get_calibration(s, "hostA", &got, &n), 0);
	assert_int_equal(n, 1);
	assert_true(got[0].vc.between == 3.5e-5 && got[0].vc.sessions == 4);
	cm_calibration_free(got, n);
	assert_true(cm_store_bytes(s) > 0);
	cm_dataset_free(&a);
	cm_dataset_free(&b);
	cm_store_close(s);
	done_with(t);
}

static const char *const v1_sqlite =
	"CREATE TABLE runs (id TEXT PRIMARY KEY, tag TEXT, started TEXT NOT NULL);"
	"CREATE TABLE run_meta (run_id TEXT NOT NULL REFERENCES runs(id), key TEXT NOT NULL,"
	" value TEXT, PRIMARY KEY (run_id, key));"
	"CREATE TABLE cases (run_id TEXT NOT NULL REFERENCES runs(id), case_id TEXT NOT NULL,"
	" axes TEXT NOT NULL, PRIMARY KEY (run_id, case_id));"
	"CREATE TABLE samples (run_id TEXT NOT NULL REFERENCES runs(id), case_id TEXT NOT NULL,"
	" boot INTEGER NOT NULL, warmup INTEGER NOT NULL, status TEXT NOT NULL,"
	" phase TEXT NOT NULL, duration_ns REAL, source TEXT, cache_drop TEXT);"
	"INSERT INTO runs VALUES ('old', 'v0', '2025-01-01');"
	"INSERT INTO cases VALUES ('old', 'default', '');"
	"INSERT INTO samples VALUES ('old', 'default', 1, 0, 'ok', 'total', 42, 'perf', 'drop_caches');"
	"PRAGMA user_version = 1;";
static const char *const v1_pg =
	"CREATE TABLE runs (rowid BIGSERIAL, id TEXT PRIMARY KEY, tag TEXT, started TEXT NOT NULL);"
	"CREATE TABLE run_meta (rowid BIGSERIAL, run_id TEXT NOT NULL REFERENCES runs(id),"
	" key TEXT NOT NULL, value TEXT, PRIMARY KEY (run_id, key));"
	"CREATE TABLE cases (rowid BIGSERIAL, run_id TEXT NOT NULL REFERENCES runs(id),"
	" case_id TEXT NOT NULL, axes TEXT NOT NULL, PRIMARY KEY (run_id, case_id));"
	"CREATE TABLE samples (rowid BIGSERIAL, run_id TEXT NOT NULL REFERENCES runs(id),"
	" case_id TEXT NOT NULL, boot INTEGER NOT NULL, warmup INTEGER NOT NULL,"
	" status TEXT NOT NULL, phase TEXT NOT NULL, duration_ns DOUBLE PRECISION, source TEXT,"
	" cache_drop TEXT);"
	"INSERT INTO runs (id, tag, started) VALUES ('old', 'v0', '2025-01-01');"
	"INSERT INTO cases (run_id, case_id, axes) VALUES ('old', 'default', '');"
	"INSERT INTO samples (run_id, case_id, boot, warmup, status, phase, duration_ns, source,"
	" cache_drop) VALUES ('old', 'default', 1, 0, 'ok', 'total', 42, 'perf', 'drop_caches');"
	"CREATE TABLE coldmark_schema (version INTEGER NOT NULL);"
	"INSERT INTO coldmark_schema VALUES (1);";

/* A store as coldmark's schema 1 left it, with a run in it, migrates forward; one from a
 * newer coldmark is refused, not damaged. */
static void test_migration_from_v1(void **state)
{
	char *t = fresh("t_migration");
	th_store_exec(t, pg_base ? v1_pg : v1_sqlite);
	struct cm_error err = { 0 };
	struct cm_store *s = cm_store_open(t, &err);
	if (!s)
		fail_msg("%s", err.msg);
	assert_int_equal(cm_store_version(s), CM_STORE_VERSION);
	char *ids[] = { "default" }, *cls[] = { "qemu" };
	assert_int_equal(cm_store_cases_argv(s, "old", ids, cls, 1), 0); /* v2's column */
	struct cm_dataset ds;
	assert_int_equal(cm_store_load(s, "old", &ds), 0);
	assert_int_equal(ds.n, 1);
	assert_true(ds.rows[0].duration_ns == 42);
	assert_string_equal(ds.sessions[ds.rows[0].session - 1].id, "1"); /* v3's default */
	cm_dataset_free(&ds);
	cm_store_close(s);
	th_store_exec(t, pg_base ? "UPDATE coldmark_schema SET version = 99" : "PRAGMA user_version = 99");
	assert_null(cm_store_open(t, &err));
	assert_non_null(strstr(err.msg, "newer"));
	done_with(t);
}

/* A database that is not a store is refused whole, never altered into one. */
static void test_stranger_refused(void **state)
{
	char *t = fresh("t_stranger");
	th_store_exec(t, pg_base ? "CREATE TABLE x (a INTEGER); CREATE TABLE coldmark_schema (version INTEGER);"
			 "INSERT INTO coldmark_schema VALUES (2);"
		       : "CREATE TABLE x (a); PRAGMA user_version = 2;");
	struct cm_error err = { 0 };
	assert_null(cm_store_open(t, &err));
	assert_non_null(strstr(err.msg, "not a coldmark store (it has a table 'x'"));
	done_with(t);
}

#define WRITERS 4
#define WRITER_BOOTS 15

/* Many hosts write at once: each writer its own run, a transaction per boot; every boot of
 * every writer is there afterwards. */
static void test_many_writers(void **state)
{
	char *t = fresh("t_writers");
	struct cm_error err = { 0 };
	struct cm_store *s = cm_store_open(t, &err); /* migrated once, up front */
	assert_non_null(s);
	cm_store_close(s);
	pid_t pids[WRITERS];
	for (int w = 0; w < WRITERS; w++) {
		if ((pids[w] = fork()) == 0) {
			struct cm_store *ws = cm_store_open(t, &err);
			struct cm_dataset ds;
			char id[32];
			snprintf(id, sizeof(id), "writer-%d", w);
			dataset(&ds, "2026-03-01 10:00:00 +0000");
			cm_dataset_truncate(&ds, 0);
			int rc = !ws || cm_store_begin_run(ws, id, "many", &ds);
			for (int b = 1; !rc && b <= WRITER_BOOTS; b++) {
				size_t from = ds.n;
				cm_dataset_add(&ds, "memory=1G", b, false, "ok", "total", 1e6 + b, "perf", "none");
				cm_dataset_add(&ds, "memory=1G", b, false, "ok", "kernel", 5e5 + b, "perf", "none");
				rc = cm_store_add_rows(ws, id, &ds, from, ds.n);
			}
			cm_dataset_free(&ds);
			cm_store_close(ws);
			_exit(rc ? 1 : 0);
		}
	}
	for (int w = 0; w < WRITERS; w++) {
		int st;
		assert_int_equal(waitpid(pids[w], &st, 0), pids[w]);
		assert_true(WIFEXITED(st) && WEXITSTATUS(st) == 0);
	}
	s = cm_store_open_existing(t, &err);
	assert_non_null(s);
	char **ids;
	size_t n;
	assert_int_equal(cm_store_resolve_all(s, "many", &ids, &n), 0);
	assert_int_equal(n, WRITERS);
	for (size_t i = 0; i < n; i++) {
		struct cm_dataset back;
		assert_int_equal(cm_store_load(s, ids[i], &back), 0);
		assert_int_equal(back.n, 2 * WRITER_BOOTS);
		cm_dataset_free(&back);
		free(ids[i]);
	}
	free(ids);
	cm_store_close(s);
	done_with(t);
}

/* sync and merge: a store that holds the first boots of a run gets the rest, the header and
 * the calibrations; a second copy adds nothing. */
static void test_copy_is_idempotent(void **state)
{
	struct cm_error err = { 0 };
	unlink("t_copy_src.db");
	struct cm_store *src = cm_store_open("t_copy_src.db", &err);
	char *t = fresh("t_copy");
	struct cm_store *dst = cm_store_open(t, &err);
	assert_non_null(src);
	assert_non_null(dst);
	struct cm_dataset a;
	dataset(&a, "2026-04-01 10:00:00 +0000");
	char *ids[] = { "memory=1G" }, *cls[] = { "qemu -m 1G" };
	assert_int_equal(cm_store_begin_run(src, "r", "v2", &a), 0);
	assert_int_equal(cm_store_cases_argv(src, "r", ids, cls, 1), 0);
	assert_int_equal(cm_store_add_rows(src, "r", &a, 0, a.n), 0);
	struct cm_calibration cal = { "memory=1G", "total", { .within = 1e-4, .between = 2e-5,
							     .sessions = 3, .boots = 8 } };
	assert_int_equal(cm_store_put_calibration(src, "hostB", "r", &cal, 1), 0);
	/* the target took the run's first two boots (rows 0..1 are boot 1 of each case) before
	 * it went away */
	assert_int_equal(cm_store_begin_run(dst, "r", "v2", &a), 0);
	assert_int_equal(cm_store_add_rows(dst, "r", &a, 0, 2), 0);
	struct cm_store_copied c = { 0 };
	assert_int_equal(cm_store_copy_all(src, dst, &c), 0);
	assert_int_equal(c.runs_new, 0);
	assert_int_equal(c.boots_present, 2);
	assert_int_equal(c.boots_added, 4);
	assert_int_equal(c.calibrations, 1);
	struct cm_dataset back;
	assert_int_equal(cm_store_load(dst, "r", &back), 0);
	assert_int_equal(back.n, a.n);
	cm_dataset_free(&back);
	c = (struct cm_store_copied){ 0 };
	assert_int_equal(cm_store_copy_all(src, dst, &c), 0);
	assert_int_equal(c.boots_added, 0);
	assert_int_equal(c.boots_present, 6);
	assert_int_equal(cm_store_load(dst, "r", &back), 0);
	assert_int_equal(back.n, a.n);
	cm_dataset_free(&back);
	struct cm_calibration *got;
	size_t n;
	assert_int_equal(cm_store_get_calibration(dst, "hostB", &got, &n), 0);
	assert_int_equal(n, 1);
	cm_calibration_free(got, n);
	cm_dataset_free(&a);
	cm_store_close(src);
	cm_store_close(dst);
	unlink("t_copy_src.db");
	done_with(t);
}

/* A server that is not there is an error naming it, its password never printed. */
static char *argv_of(const void *ctx, size_t c)
{
	return c == 1 ? cm_xasprintf("%s -m 1G", (const char *)ctx) : NULL; /* case 0: none */
}

/* A run's cases go in with their command lines in one insert each (begin_run_argv: coldmark
 * run's; the command lines used to be an UPDATE a case in a second transaction) */
static void test_begin_run_argv(void **state)
{
	(void)state;
	char *t = fresh("t_begin_argv");
	struct cm_error err = { 0 };
	struct cm_store *s = cm_store_open(t, &err);
	assert_non_null(s);
	struct cm_dataset a;
	dataset(&a, "2026-05-01 10:00:00 +0000");
	assert_int_equal(cm_store_begin_run_argv(s, "r", "v3", &a, argv_of, "qemu 'x y'"), 0);
	cm_store_close(s);
	static const char q[] = "SELECT COALESCE(argv, '(null)') FROM cases WHERE run_id = 'r' AND case_id = $1";
	for (int c = 0; c < 2; c++) {
		const char *id = c ? "memory=1G" : "memory=128M", *want = c ? "qemu 'x y' -m 1G" : "(null)";
		char *got = NULL;
		if (pg_base) {
			got = th_pg_text(t, q, id);
		} else {
			sqlite3 *db;
			sqlite3_stmt *st;
			assert_int_equal(sqlite3_open(t, &db), SQLITE_OK);
			assert_int_equal(sqlite3_prepare_v2(db, q, -1, &st, NULL), SQLITE_OK);
			sqlite3_bind_text(st, 1, id, -1, SQLITE_STATIC);
			assert_int_equal(sqlite3_step(st), SQLITE_ROW);
			got = cm_xstrdup((const char *)sqlite3_column_text(st, 0));
			sqlite3_finalize(st);
			sqlite3_close(db);
		}
		assert_string_equal(got, want);
		free(got);
	}
	cm_dataset_free(&a);
	done_with(t);
}

static void test_unreachable_server(void **state)
{
	struct cm_error err = { 0 };
	char shown[256];
	assert_null(cm_store_open("postgresql://u:s3cret@/coldmark?host=/nonexistent-dir", &err));
	assert_null(strstr(err.msg, "s3cret"));
	assert_non_null(strstr(err.msg, "postgresql://u:***@/coldmark"));
	cm_store_redact("postgres://h/db?user=u&password=pw&sslmode=require", shown, sizeof(shown));
	assert_string_equal(shown, "postgres://h/db?user=u&password=***&sslmode=require");
	assert_true(cm_store_is_url("postgresql://x") && !cm_store_is_url("postgresql.db"));
}

/* A writer that holds the database past SQLite's busy timeout (a long import at the same
 * time) delays a boot; it never drops it. */
static void test_busy_is_retried(void **state)
{
	unlink("t3.db");
	struct cm_error err = { 0 };
	struct cm_store *s = cm_store_open("t3.db", &err);
	assert_non_null(s);
	struct cm_dataset a;
	dataset(&a, "2026-01-03 10:00:00 +0000");
	assert_int_equal(cm_store_begin_run(s, "r3", "busy", &a), 0);
	int go[2];
	assert_int_equal(pipe(go), 0);
	/* before the fork: the writer holds the lock 6 s after this whenever the test gets to
	 * read its go, so a boot that waited for it took over 5 s, however busy the host */
	int64_t t0 = cm_now_ns();
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

/* Readers get a clear error, never a new empty store; a folder is not a store. */
static void test_not_a_store(void **state)
{
	struct cm_error err = { 0 };
	unlink("none.db");
	assert_null(cm_store_open_existing("none.db", &err));
	assert_non_null(strstr(err.msg, "no results store there"));
	assert_int_not_equal(access("none.db", F_OK), 0);
	mkdir("dir.db", 0755);
	assert_null(cm_store_open("dir.db", &err));
	rmdir("dir.db");
}

int main(int argc, char **argv)
{
	if (argc > 1 && !strcmp(argv[1], "--pg")) {
		if (!(pg_base = getenv("COLDMARK_DB")) || !cm_store_is_url(pg_base)) {
			fprintf(stderr, "test_store --pg: no PostgreSQL in COLDMARK_DB "
					"(scripts/slurm-local.sh run --pg-only -- test_store --pg): skipped\n");
			return 77;
		}
		const struct CMUnitTest pg[] = {
			cmocka_unit_test(test_round_trip),	  cmocka_unit_test(test_migration_from_v1),
			cmocka_unit_test(test_stranger_refused),	  cmocka_unit_test(test_many_writers),
			cmocka_unit_test(test_copy_is_idempotent), cmocka_unit_test(test_unreachable_server),
			cmocka_unit_test(test_begin_run_argv),
		};
		return cmocka_run_group_tests_name("store-postgresql", pg, NULL, NULL);
	}
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_round_trip),	  cmocka_unit_test(test_migration_from_v1),
		cmocka_unit_test(test_stranger_refused),	  cmocka_unit_test(test_many_writers),
		cmocka_unit_test(test_copy_is_idempotent), cmocka_unit_test(test_unreachable_server),
			cmocka_unit_test(test_begin_run_argv),
		cmocka_unit_test(test_busy_is_retried),	  cmocka_unit_test(test_not_a_store),
	};
	return cmocka_run_group_tests_name("store-sqlite", tests, NULL, NULL);
}
