/* Every boot exactly once (issue 22): run ids that cannot collide, copies at the same time
 * that store each boot once, an import that is all or nothing, a merge of an older copy
 * that keeps the newer header, a stranger's database and a bad journal left as they were.
 * Real `coldmark` processes against a SQLite file (test_exactly_once) and a PostgreSQL 15
 * server (test_exactly_once --pg, with COLDMARK_DB naming one: scripts/slurm-local.sh
 * run --pg-only starts a throw-away server). */
#define _GNU_SOURCE
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <fcntl.h>
#include <libpq-fe.h>
#include <math.h>
#include <sched.h>
#include <signal.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "coldmark/rundir.h"
#include "coldmark/store.h"
#include "helpers.h"

static const char *pg_base; /* COLDMARK_DB under --pg, NULL for SQLite */
static char tmp[64];	    /* this run's folder */

/* A fresh target store for one test: a file, or a schema of its own on the server. */
static char *fresh(const char *name)
{
	if (!pg_base)
		return cm_xasprintf("%s/%s.db", tmp, name);
	return th_pg_schema(pg_base, name);
}

static bool is_pg(const char *target)
{
	return cm_store_is_url(target);
}

/* The first value of the first row of sql over target, as text (to free; "" for none). */
static char *text(const char *target, const char *sql)
{
	char *v = NULL;
	if (!is_pg(target)) {
		sqlite3 *db;
		sqlite3_stmt *st;
		assert_int_equal(sqlite3_open_v2(target, &db, SQLITE_OPEN_READONLY, NULL), SQLITE_OK);
		if (sqlite3_prepare_v2(db, sql, -1, &st, NULL) != SQLITE_OK)
			fail_msg("%s: %s", sql, sqlite3_errmsg(db));
		if (sqlite3_step(st) == SQLITE_ROW && sqlite3_column_text(st, 0))
			v = cm_xstrdup((const char *)sqlite3_column_text(st, 0));
		sqlite3_finalize(st);
		sqlite3_close(db);
		return v ? v : cm_xstrdup("");
	}
	return th_pg_text(target, sql, NULL);
}

static long long scalar(const char *target, const char *sql)
{
	char *v = text(target, sql);
	long long n = atoll(v);
	free(v);
	return n;
}

/* The store's tables by name, comma-separated, and its schema version. */
static char *tables(const char *target)
{
	return text(target, is_pg(target)
			    ? "SELECT string_agg(table_name, ',' ORDER BY table_name) FROM "
			      "information_schema.tables WHERE table_schema = current_schema()"
			    : "SELECT group_concat(name) FROM (SELECT name FROM sqlite_master "
			      "WHERE type = 'table' ORDER BY name)");
}

static long long version(const char *target)
{
	return scalar(target, is_pg(target) ? "SELECT version FROM coldmark_schema"
					    : "PRAGMA user_version");
}

/* Rows that repeat a boot's sample (0 when every boot is there once). */
static long long repeats(const char *target)
{
	return scalar(target, "SELECT COALESCE(SUM(n - 1), 0) FROM (SELECT COUNT(*) AS n FROM "
			      "samples GROUP BY run_id, case_id, session, boot, warmup, phase, "
			      "status = 'interrupted') AS g");
}


/* A run of `boots` boots (case memory=1G; phases total and, with two, kernel) into target;
 * with phases 2 its last boot was interrupted once before (a resumed run booted it again). */
static void put_run(const char *target, const char *run_id, const char *tag, int boots, int phases)
{
	struct cm_error err = { 0 };
	struct cm_store *s = cm_store_open(target, &err);
	if (!s)
		fail_msg("%s", err.msg);
	char *axes[] = { "memory" }, *l[] = { "1G" };
	struct cm_dataset ds;
	cm_dataset_init(&ds, axes, 1);
	cm_dataset_case(&ds, "memory=1G", l);
	cm_dataset_meta(&ds, "date", "2026-12-06 01:00:00 +0000");
	for (int b = 1; b <= boots; b++) {
		if (phases > 1 && b == boots) {
			cm_dataset_add(&ds, "memory=1G", b, false, "interrupted", "total", NAN, "perf", "none");
			cm_dataset_add(&ds, "memory=1G", b, false, "interrupted", "kernel", NAN, "perf", "none");
		}
		cm_dataset_add(&ds, "memory=1G", b, false, "ok", "total", 1e6 + b, "perf", "none");
		if (phases > 1)
			cm_dataset_add(&ds, "memory=1G", b, false, "ok", "kernel", 5e5 + b, "perf", "none");
	}
	assert_int_equal(cm_store_begin_run(s, run_id, tag, &ds), 0);
	assert_int_equal(cm_store_add_rows(s, run_id, &ds, 0, ds.n), 0);
	cm_dataset_free(&ds);
	cm_store_close(s);
}

/* A run folder holding only journal.db with a run of `boots` boots. */
static char *run_folder(const char *name, const char *run_id, int boots)
{
	char *dir = cm_xasprintf("%s/%s", tmp, name), *journal;
	mkdir(dir, 0755);
	journal = cm_xasprintf("%s/%s", dir, CM_RUN_JOURNAL_DB);
	put_run(journal, run_id, "once", boots, 2);
	free(journal);
	return dir;
}

static size_t added_in(const char *out)
{
	size_t sum = 0;
	for (const char *p = out; (p = strstr(p, " boots added")); p++) {
		const char *q = p;
		while (q > out && q[-1] != ' ')
			q--;
		sum += (size_t)atoll(q);
	}
	return sum;
}

/* Item 1. Two runs begun in one second by processes of one pid (each pid 1 of a PID
 * namespace of its own, as in two containers) get two ids; an id the store holds is
 * refused to a new run, never merged into. */
static void test_run_ids_unique_across_pid_namespaces(void **state)
{
	char ids[2][64] = { "", "" };
	for (int i = 0; i < 2; i++) {
		int fd[2];
		assert_int_equal(pipe(fd), 0);
		pid_t pid = fork();
		if (pid == 0) {
			if (unshare(CLONE_NEWPID))
				_exit(3);
			pid_t inner = fork();
			if (inner == 0) {
				struct tm tm = { .tm_year = 126, .tm_mon = 11, .tm_mday = 6, .tm_hour = 1 };
				char id[64];
				cm_rundir_new_id(id, sizeof(id), &tm);
				_exit(getpid() != 1 || write(fd[1], id, strlen(id)) < 0 ? 4 : 0);
			}
			_exit(th_finish(inner));
		}
		close(fd[1]);
		assert_int_equal(th_finish(pid), 0);
		assert_true(read(fd[0], ids[i], sizeof(ids[i]) - 1) > 0);
		close(fd[0]);
	}
	assert_string_not_equal(ids[0], ids[1]);
	assert_memory_equal(ids[0], "20261206-010000-", 16);

	/* a second run of an id the target holds, from its own journal: refused whole */
	char *t = fresh("t_collide"), *j = cm_xasprintf("%s/collide-journal.db", tmp);
	struct cm_error err = { 0 };
	put_run(t, "20261206-010000-1", "first", 3, 2);
	put_run(j, "20261206-010000-1", "second", 5, 2);
	struct cm_store *src = cm_store_open_existing(j, &err),
			*dst = cm_store_open(t, &err);
	assert_non_null(src);
	assert_non_null(dst);
	struct cm_store_copied c = { 0 };
	assert_int_equal(cm_store_copy_new_run(src, dst, "20261206-010000-1", &c), CM_ERR(CM_EEXIST));
	assert_non_null(strstr(cm_store_error(dst), "in the store already"));
	assert_int_equal(scalar(t, "SELECT COUNT(*) FROM samples"), 8); /* the first run's only */
	assert_int_equal(scalar(t, "SELECT COUNT(*) FROM runs WHERE tag = 'second'"), 0);
	struct cm_dataset ds;
	cm_dataset_init(&ds, NULL, 0);
	assert_int_equal(cm_store_begin_run(dst, "20261206-010000-1", "third", &ds), CM_ERR(CM_EEXIST));
	cm_dataset_free(&ds);
	/* a resumed run continues its own id: its copy joins it */
	assert_int_equal(cm_store_copy_run(src, dst, "20261206-010000-1", &c), 0);
	cm_store_close(src);
	cm_store_close(dst);
	free(j);
	free(t);
}

#define COPIES 4

/* 4 copies of one source at once (sync: of a run folder; merge: of a shard), each boot once
 * afterwards, and the copies' "boots added" sum to the boots there are. */
static void copies_at_once(const char *cmd, const char *source, const char *t, long long rows,
			   size_t boots)
{
	struct cm_error err = { 0 };
	struct cm_store *s = cm_store_open(t, &err); /* created before the lock */
	assert_non_null(s);
	cm_store_close(s);
	struct th_hold h = th_hold_target(t);
	pid_t pids[COPIES];
	char *outs[COPIES];
	for (int i = 0; i < COPIES; i++) {
		outs[i] = cm_xasprintf("%s/copy%d.txt", tmp, i);
		char *argv[] = { COLDMARK_BIN, (char *)cmd, (char *)source, "--db", (char *)t, NULL };
		pids[i] = th_start(argv, outs[i]);
	}
	struct timespec wait = { 2, 0 }; /* every copy has read the target by now */
	nanosleep(&wait, NULL);
	th_release(&h);
	size_t added = 0;
	for (int i = 0; i < COPIES; i++) {
		int rc = th_finish(pids[i]);
		char *o = th_slurp(outs[i]);
		if (rc)
			fail_msg("copy %d: exit %d: %s", i, rc, o);
		added += added_in(o);
		free(o);
		free(outs[i]);
	}
	assert_int_equal(repeats(t), 0);
	assert_int_equal(scalar(t, "SELECT COUNT(*) FROM samples"), rows);
	assert_int_equal(added, boots);
}

/* Item 2: 4 `coldmark sync` of one run folder at once. */
static void test_concurrent_sync_once(void **state)
{
	char *t = fresh("t_sync4"), *dir = run_folder("sync4", "run-sync4", 50);
	copies_at_once("sync", dir, t, 102, 51); /* 50 boots, one of them interrupted once */
	free(dir);
	free(t);
}

/* Item 2: 4 `coldmark merge` of one 4,800-boot shard at once. */
static void test_concurrent_merge_once(void **state)
{
	char *t = fresh("t_merge4"), *shard = cm_xasprintf("%s/shard4.db", tmp);
	put_run(shard, "run-merge4", "shard", 4800, 1);
	copies_at_once("merge", shard, t, 4800, 4800);
	free(shard);
	free(t);
}

/* A store as coldmark's schema `v` (3 or 4) left it: one run, its sample repeated `dup`
 * extra times (as 4 syncs at once left them before the key). */
static void old_store(const char *t, int v, int dup)
{
	bool pg = is_pg(t);
	struct cm_buf b = { 0 };
	cm_buf_printf(&b, "%s", pg ? "CREATE TABLE runs (rowid BIGSERIAL, id TEXT PRIMARY KEY, tag TEXT,"
				   " started TEXT NOT NULL);"
				   "CREATE TABLE run_meta (rowid BIGSERIAL, run_id TEXT NOT NULL, key TEXT NOT"
				   " NULL, value TEXT, PRIMARY KEY (run_id, key));"
				   "CREATE TABLE cases (rowid BIGSERIAL, run_id TEXT NOT NULL, case_id TEXT NOT"
				   " NULL, axes TEXT NOT NULL, argv TEXT, PRIMARY KEY (run_id, case_id));"
				   "CREATE TABLE samples (rowid BIGSERIAL, run_id TEXT NOT NULL, case_id TEXT"
				   " NOT NULL, boot INTEGER NOT NULL, warmup INTEGER NOT NULL, status TEXT NOT"
				   " NULL, phase TEXT NOT NULL, duration_ns DOUBLE PRECISION, source TEXT,"
				   " cache_drop TEXT, session INTEGER NOT NULL DEFAULT 1);"
				   "CREATE TABLE calibration (rowid BIGSERIAL, host TEXT NOT NULL, case_id TEXT"
				   " NOT NULL, phase TEXT NOT NULL, var_within DOUBLE PRECISION NOT NULL,"
				   " var_between DOUBLE PRECISION NOT NULL, sessions INTEGER NOT NULL, boots"
				   " INTEGER NOT NULL, run_id TEXT NOT NULL, created TEXT NOT NULL,"
				   " PRIMARY KEY (host, case_id, phase));"
				   "CREATE TABLE coldmark_schema (version INTEGER NOT NULL);"
				 : "CREATE TABLE runs (id TEXT PRIMARY KEY, tag TEXT, started TEXT NOT NULL);"
				   "CREATE TABLE run_meta (run_id TEXT NOT NULL, key TEXT NOT NULL, value TEXT,"
				   " PRIMARY KEY (run_id, key));"
				   "CREATE TABLE cases (run_id TEXT NOT NULL, case_id TEXT NOT NULL, axes TEXT"
				   " NOT NULL, argv TEXT, PRIMARY KEY (run_id, case_id));"
				   "CREATE TABLE samples (run_id TEXT NOT NULL, case_id TEXT NOT NULL, boot"
				   " INTEGER NOT NULL, warmup INTEGER NOT NULL, status TEXT NOT NULL, phase TEXT"
				   " NOT NULL, duration_ns REAL, source TEXT, cache_drop TEXT, session INTEGER"
				   " NOT NULL DEFAULT 1);"
				   "CREATE TABLE calibration (host TEXT NOT NULL, case_id TEXT NOT NULL, phase"
				   " TEXT NOT NULL, var_within REAL NOT NULL, var_between REAL NOT NULL,"
				   " sessions INTEGER NOT NULL, boots INTEGER NOT NULL, run_id TEXT NOT NULL,"
				   " created TEXT NOT NULL, PRIMARY KEY (host, case_id, phase));");
	if (v >= 4)
		cm_buf_printf(&b, "ALTER TABLE samples ADD COLUMN host_audit TEXT NOT NULL DEFAULT '';");
	cm_buf_printf(&b, pg ? "INSERT INTO coldmark_schema VALUES (%d);" : "PRAGMA user_version = %d;",
		      v);
	cm_buf_printf(&b, "INSERT INTO runs (id, tag, started) VALUES ('old', 'v0', '2025-01-01');"
			  "INSERT INTO run_meta (run_id, key, value) VALUES ('old', 'host', 'h1');"
			  "INSERT INTO cases (run_id, case_id, axes) VALUES ('old', 'default', '');");
	for (int i = 0; i <= dup; i++)
		cm_buf_printf(&b, "INSERT INTO samples (run_id, case_id, boot, warmup, status, phase, "
				  "duration_ns) VALUES ('old', 'default', 1, 0, 'ok', 'total', 42);");
	cm_buf_printf(&b, "INSERT INTO samples (run_id, case_id, boot, warmup, status, phase, "
			  "duration_ns) VALUES ('old', 'default', 2, 0, 'ok', 'total', 43);");
	th_store_exec(t, b.s);
	cm_buf_free(&b);
}

/* Item 2: a store of schema 4 holding repeated boots is cleaned by its migration, which says
 * how many rows it removed. */
static void test_migration_dedups(void **state)
{
	char *t = fresh("t_dedup"), *out;
	old_store(t, 4, 3);
	assert_int_equal(repeats(t), 3);
	int rc = th_coldmark(tmp, &out, "import", FIXTURES "/samples.csv", "--tag", "later", "--db",
			t, NULL);
	if (rc)
		fail_msg("import: exit %d: %s", rc, out);
	if (!strstr(out, "migrated to schema 5: 3 duplicate sample rows removed"))
		fail_msg("no count of the rows removed: %s", out);
	assert_int_equal(repeats(t), 0);
	assert_int_equal(scalar(t, "SELECT COUNT(*) FROM samples WHERE run_id = 'old'"), 2);
	free(out);
	free(t);
}

/* Item 3: an import the store refuses exits 4 with the store's reason and leaves nothing
 * under the tag; killed halfway (PostgreSQL: a trigger that waits) likewise. */
static void test_import_atomic(void **state)
{
	char *t = fresh("t_import"), *out;
	struct cm_error err = { 0 };
	struct cm_store *s = cm_store_open(t, &err);
	assert_non_null(s);
	cm_store_close(s);
	th_store_exec(t, is_pg(t) ? "CREATE FUNCTION frozen() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN "
			  "RAISE EXCEPTION 'samples are frozen'; END $$;"
			  "CREATE TRIGGER frozen BEFORE INSERT ON samples FOR EACH ROW EXECUTE FUNCTION frozen();"
			: "CREATE TRIGGER frozen BEFORE INSERT ON samples BEGIN "
			  "SELECT RAISE(ABORT, 'samples are frozen'); END;");
	int rc = th_coldmark(tmp, &out, "import", FIXTURES "/samples.csv", "--tag", "refused",
			"--db", t, NULL);
	if (rc != 4 || !strstr(out, "samples are frozen"))
		fail_msg("import into a refusing store: exit %d (want 4 and the reason): %s", rc, out);
	assert_int_equal(scalar(t, "SELECT COUNT(*) FROM runs WHERE tag = 'refused'"), 0);
	free(out);
	if (is_pg(t)) {
		th_store_exec(t, "DROP TRIGGER frozen ON samples;"
		       "CREATE FUNCTION slow() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN "
		       "PERFORM pg_sleep(4); RETURN NEW; END $$;"
		       "CREATE TRIGGER slow BEFORE INSERT ON samples FOR EACH ROW EXECUTE FUNCTION slow();");
		char *path = cm_xasprintf("%s/import.txt", tmp);
		char *argv[] = { COLDMARK_BIN, "import", FIXTURES "/samples.csv", "--tag", "killed",
				 "--db", t, NULL };
		pid_t pid = th_start(argv, path);
		struct timespec wait = { 1, 500000000 }; /* in the first sample's trigger by now */
		nanosleep(&wait, NULL);
		kill(pid, SIGKILL);
		assert_int_equal(th_finish(pid), 128 + SIGKILL);
		assert_int_equal(scalar(t, "SELECT COUNT(*) FROM runs WHERE tag = 'killed'"), 0);
		/* the server ends the dead client's transaction when the trigger returns */
		th_store_exec(t, "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE "
		       "application_name = 'coldmark' AND pid <> pg_backend_pid()");
		free(path);
	}
	free(t);
}

/* Item 4: merging an older copy of a run (its header item said once, "session began") into
 * a store that holds the newer word (said again at the session's end) keeps the newer; a
 * newer copy (the journal after the server was lost) still brings its newer word in. */
static void test_older_copy_keeps_newer_header(void **state)
{
	char *t = fresh("t_header"), *old = cm_xasprintf("%s/old-shard.db", tmp), *out;
	struct cm_error err = { 0 };
	put_run(old, "run-h", "h", 2, 1);
	struct cm_store *o = cm_store_open(old, &err), *d = cm_store_open(t, &err);
	assert_non_null(o);
	assert_non_null(d);
	assert_int_equal(cm_store_set_meta(o, "run-h", "session_load", "began 0.10"), 0);
	struct cm_store_copied c = { 0 };
	assert_int_equal(cm_store_copy_all(o, d, &c), 0);
	assert_int_equal(cm_store_set_meta(d, "run-h", "session_load", "end 0.90"), 0);
	cm_store_close(d);
	cm_store_close(o);
	int rc = th_coldmark(tmp, &out, "merge", old, "--db", t, NULL);
	if (rc)
		fail_msg("merge: exit %d: %s", rc, out);
	free(out);
	char *v = text(t, "SELECT value FROM run_meta WHERE run_id = 'run-h' AND key = 'session_load'");
	assert_string_equal(v, "end 0.90");
	free(v);
	/* the other way: the source said it more often (newer), the target is behind */
	o = cm_store_open(old, &err);
	assert_int_equal(cm_store_set_meta(o, "run-h", "session_load", "a"), 0);
	assert_int_equal(cm_store_set_meta(o, "run-h", "session_load", "end 0.95"), 0);
	cm_store_close(o);
	rc = th_coldmark(tmp, &out, "merge", old, "--db", t, NULL);
	assert_int_equal(rc, 0);
	free(out);
	v = text(t, "SELECT value FROM run_meta WHERE run_id = 'run-h' AND key = 'session_load'");
	assert_string_equal(v, "end 0.95");
	free(v);
	free(old);
	free(t);
}

/* Item 7: a stranger's database (an `accounts` table), bare or beside coldmark's tables, is
 * refused by readers and writers alike (exit 2) and left as it was; a reader and a copy's
 * source never migrate a store (one of schema 3 stays at 3). */
static void test_stranger_untouched(void **state)
{
	char *t = fresh("t_stranger"), *good = fresh("t_good"), *out;
	char *dir = run_folder("stranger-run", "run-s", 2);
	th_store_exec(t, "CREATE TABLE accounts (id INTEGER, owner TEXT);"
	       "INSERT INTO accounts VALUES (1, 'alice');");
	for (int pass = 0; pass < 2; pass++) {
		char *before = tables(t);
		const char *const cmds[][6] = {
			{ "history", "--db", t }, { "compare", "v1", "v2", "--db", t },
			{ "merge", t, "--db", good },
			{ "sync", dir, "--db", t }, { "merge", dir, "--db", t },
			{ "import", FIXTURES "/samples.csv", "--tag", "x", "--db", t },
		};
		for (size_t i = 0; i < sizeof(cmds) / sizeof(cmds[0]); i++) {
			int rc = th_coldmark(tmp, &out, cmds[i][0], cmds[i][1], cmds[i][2], cmds[i][3], cmds[i][4],
					  cmds[i][5], NULL);
			if (rc != 2 || !strstr(out, "not a coldmark store"))
				fail_msg("coldmark %s (pass %d): exit %d: %s", cmds[i][0], pass, rc, out);
			free(out);
			char *after = tables(t);
			assert_string_equal(after, before);
			free(after);
		}
		free(before);
		if (!pass) { /* the second pass: a coldmark store with the stranger's table beside */
			struct cm_error err = { 0 };
			th_store_exec(t, "DROP TABLE accounts");
			struct cm_store *s = cm_store_open(t, &err);
			assert_non_null(s);
			cm_store_close(s);
			th_store_exec(t, "CREATE TABLE accounts (id INTEGER)");
		}
	}
	char *v3 = fresh("t_v3");
	old_store(v3, 3, 0);
	assert_int_not_equal(th_coldmark(tmp, &out, "history", "--db", v3, NULL), 0);
	free(out);
	assert_int_not_equal(th_coldmark(tmp, &out, "merge", v3, "--db", good, NULL), 0);
	free(out);
	assert_int_equal(version(v3), 3);
	free(v3);
	free(dir);
	free(good);
	free(t);
}

/* Item 8: a zero-length journal.db is an error with the right words and stays 0 bytes; a
 * journal.db that is a folder is said to be one (not a stale "no such file"). */
static void test_sync_bad_journal(void **state)
{
	char *t = fresh("t_badjournal"), *out;
	char *empty = cm_xasprintf("%s/empty-run", tmp),
	     *ej = cm_xasprintf("%s/%s", empty, CM_RUN_JOURNAL_DB);
	mkdir(empty, 0755);
	close(open(ej, O_WRONLY | O_CREAT | O_TRUNC, 0644));
	int rc = th_coldmark(tmp, &out, "sync", empty, "--db", t, NULL);
	if (rc != 2 || !strstr(out, "empty file, 0 bytes"))
		fail_msg("sync of an empty journal.db: exit %d: %s", rc, out);
	free(out);
	struct stat st;
	assert_int_equal(stat(ej, &st), 0);
	assert_int_equal(st.st_size, 0);
	char *folder = cm_xasprintf("%s/folder-run", tmp),
	     *fj = cm_xasprintf("%s/%s", folder, CM_RUN_JOURNAL_DB);
	mkdir(folder, 0755);
	mkdir(fj, 0755);
	rc = th_coldmark(tmp, &out, "sync", folder, "--db", t, NULL);
	if (rc != 2 || !strstr(out, "a folder") || strstr(out, "no such file"))
		fail_msg("sync of a folder journal.db: exit %d: %s", rc, out);
	free(out);
	free(empty), free(ej), free(folder), free(fj), free(t);
}

static int cleanup(void **state)
{
	th_rm_rf(tmp);
	return 0;
}

int main(int argc, char **argv)
{
	if (th_mkdtemp(tmp, sizeof(tmp), "once"))
		return 1;
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_run_ids_unique_across_pid_namespaces),
		cmocka_unit_test(test_concurrent_sync_once),
		cmocka_unit_test(test_concurrent_merge_once),
		cmocka_unit_test(test_migration_dedups),
		cmocka_unit_test(test_import_atomic),
		cmocka_unit_test(test_older_copy_keeps_newer_header),
		cmocka_unit_test(test_stranger_untouched),
		cmocka_unit_test(test_sync_bad_journal),
	};
	if (argc > 1 && !strcmp(argv[1], "--pg")) {
		if (!(pg_base = getenv("COLDMARK_DB")) || !cm_store_is_url(pg_base)) {
			fprintf(stderr, "test_exactly_once --pg: no PostgreSQL in COLDMARK_DB "
					"(scripts/slurm-local.sh run --pg-only -- test_exactly_once --pg): "
					"skipped\n");
			cleanup(NULL);
			return 77;
		}
		return cmocka_run_group_tests_name("exactly-once-postgresql", tests, NULL, cleanup);
	}
	return cmocka_run_group_tests_name("exactly-once-sqlite", tests, NULL, cleanup);
}
