/* The session summary (issue 25 item 3): one row per run, case, session and phase, equal to
 * what the raw samples give after every way rows reach a store (boots one transaction each,
 * a writer killed mid-session, a resumed boot, four merges of disjoint shards and four syncs
 * at once, the migration of an older store), not trusted when it does not count every raw
 * row, and compare/history from it equal to compare/history from the raw samples to 1e-12
 * (interrupted boots, warm-ups, several sessions and runs, an A/B split within a run).
 * Real `coldmark` processes and real stores: a SQLite file (test_summary) and a PostgreSQL 15
 * server (test_summary --pg, with COLDMARK_DB naming one: scripts/slurm-local.sh run
 * --pg-only starts a throw-away server). */
#define _GNU_SOURCE
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <fcntl.h>
#include <libpq-fe.h>
#include <math.h>
#include <signal.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "coldmark/profile.h"
#include "coldmark/rundir.h"
#include "coldmark/store.h"

#include "helpers.h"
#include "summary_util.h"

/* a repeatable noise in [-1, 1] */
static double noise(unsigned long *s)
{
	*s = *s * 6364136223846793005UL + 1442695040888963407UL;
	return (double)(*s >> 11) / (double)(1UL << 53) * 2 - 1;
}

static const char *const CASES[] = { "variant=a", "variant=b", "reference" };

/* The head of a run as the runner begins it: cases variant=a, variant=b and the reference. */
static void run_head(struct cm_dataset *ds, int day)
{
	char *axes[] = { "variant" }, *la[] = { "a" }, *lb[] = { "b" }, *lr[] = { "" }, date[64];
	cm_dataset_init(ds, axes, 1);
	cm_dataset_case(ds, CASES[0], la);
	cm_dataset_case(ds, CASES[1], lb);
	cm_dataset_case(ds, CASES[2], lr);
	snprintf(date, sizeof(date), "2026-12-%02d 01:00:00 +0000", day);
	cm_dataset_meta(ds, "date", date);
	cm_dataset_meta(ds, "host", "h1");
}

/* One boot of case c (all its phases) into ds: a warm-up, an interrupted attempt then the
 * boot again, a failed boot, the reference's kernel phase unmeasurable, or measured times. */
static void one_boot(struct cm_dataset *ds, int c, int boot, bool warm, double scale)
{
	const char *id = CASES[c];
	bool interrupted = c == 0 && boot == 3, failed = c == 1 && boot == 4;
	if (interrupted) { /* coldmark stopped mid-boot; the resumed run booted it again */
		cm_dataset_add(ds, id, boot, false, "interrupted", "total", NAN, "perf", "none");
		cm_dataset_add(ds, id, boot, false, "interrupted", "kernel", NAN, "perf", "none");
	}
	if (failed) {
		cm_dataset_add(ds, id, boot, false, "timeout", "total", NAN, "perf", "none");
		return;
	}
	cm_dataset_add(ds, id, boot, warm, "ok", "total", 1e8 * scale, "perf", "none");
	cm_dataset_add(ds, id, boot, warm, "ok", "kernel", c == 2 ? NAN : 4e7 * scale * scale,
		       "perf", "none");
}

/* A run of `sessions` sessions of `boots` boots (the first a warm-up) of each case, each boot
 * its own transaction as a run writes it; variant b `slow` slower, and each session's level
 * its own (between-session noise). */
static void write_run(const char *target, const char *run_id, const char *tag, int day,
		      int sessions, int boots, double slow, unsigned long seed)
{
	struct cm_error err = { 0 };
	struct cm_store *s = cm_store_open(target, &err);
	if (!s)
		fail_msg("%s", err.msg);
	struct cm_dataset ds;
	run_head(&ds, day);
	assert_int_equal(cm_store_begin_run(s, run_id, tag, &ds), 0);
	for (int k = 1; k <= sessions; k++) {
		cm_dataset_session_number(&ds, k, "h1");
		double level = exp(0.02 * noise(&seed));
		for (int b = 1; b <= boots; b++)
			for (int c = 0; c < 3; c++) {
				size_t from = ds.n;
				double scale = level * exp(0.01 * noise(&seed)) * (c == 1 ? 1 + slow : 1);
				one_boot(&ds, c, (k - 1) * boots + b, b == 1, scale);
				assert_int_equal(cm_store_add_rows(s, run_id, &ds, from, ds.n), 0);
			}
	}
	cm_dataset_free(&ds);
	cm_store_close(s);
}

/* ---- the summary against the raw samples ---------------------------------------------------- */


struct stats_check {
	const struct cm_dataset *raw;
	size_t rows;
};

/* A summary row's n, median, mean and variance of ln(time) against the raw samples'. */
static void check_stats(void *ctx, char **v)
{
	struct stats_check *x = ctx;
	const struct cm_dataset *ds = x->raw;
	double *l = cm_xcalloc(ds->n + 1, sizeof(double)), mean = 0, ss = 0;
	size_t n = 0;
	for (size_t i = 0; i < ds->n; i++) {
		const struct cm_sample_row *r = &ds->rows[i];
		if (!strcmp(r->case_id, v[0]) && !strcmp(ds->sessions[r->session - 1].id, v[1]) &&
		    !strcmp(r->phase, v[2]) && cm_row_kind(r) == CM_ROW_MEASURED)
			l[n++] = log(r->duration_ns);
	}
	assert_int_equal(atoll(v[3]), n);
	for (size_t i = 0; i < n; i++)
		mean += l[i] / (double)n;
	for (size_t i = 0; i < n; i++)
		ss += (l[i] - mean) * (l[i] - mean);
	qsort(l, n, sizeof(double), cm_cmp_double);
	if (n) {
		double med = n % 2 ? l[n / 2] : (l[n / 2 - 1] + l[n / 2]) / 2;
		assert_true(fabs(strtod(v[4], NULL) - med) <= 1e-12 * fabs(med));
		assert_true(fabs(strtod(v[5], NULL) - mean) <= 1e-12 * fabs(mean));
	}
	if (n > 1)
		assert_true(fabs(strtod(v[6], NULL) - ss / (double)(n - 1)) <= 1e-9 * ss + 1e-300);
	free(l);
	x->rows++;
}

/* The run's summary gives the raw samples' dataset exactly (every session, case, phase; its
 * measured times in order; its warm-ups, failed, unmeasurable and interrupted rows), and its
 * statistics columns are the raw samples'. */
static void summary_is_raw(const char *target, const char *run_id)
{
	struct cm_error err = { 0 };
	struct cm_store *s = cm_store_open_existing(target, &err);
	if (!s)
		fail_msg("%s", err.msg);
	struct cm_dataset raw, sum;
	struct cm_store_read how;
	assert_int_equal(cm_store_load(s, run_id, &raw), 0);
	assert_int_equal(cm_store_load_summary(s, run_id, NULL, false, &sum, &how), 0);
	if (!how.summary)
		fail_msg("run %s: summary not used (it counts %lld of %lld raw rows)", run_id,
			 how.summary_rows, how.raw_rows);
	assert_int_equal(raw.n, sum.n);
	assert_int_equal(raw.nsessions, sum.nsessions);
	char **a = th_dataset_lines(&raw), **b = th_dataset_lines(&sum);
	for (size_t i = 0; i < raw.n; i++) {
		if (strcmp(a[i], b[i]))
			fail_msg("run %s: raw '%s' but summary '%s'", run_id, a[i], b[i]);
		free(a[i]), free(b[i]);
	}
	free(a), free(b);
	char *sql = cm_xasprintf("SELECT case_id, session, phase, n, median_ln, mean_ln, var_ln FROM "
				 "session_summary WHERE run_id = '%s'", run_id);
	struct stats_check x = { &raw, 0 };
	each_row(target, sql, check_stats, &x);
	assert_true(x.rows > 0);
	free(sql);
	cm_dataset_free(&raw), cm_dataset_free(&sum);
	cm_store_close(s);
}

/* Boots one transaction each, a warm-up a session, an interrupted boot booted again, a failed
 * boot, an unmeasurable phase, three sessions: the summary is the samples'. */
static void test_summary_written_with_each_boot(void **state)
{
	char *t = fresh("t_boots");
	write_run(t, "run-boots", "boots", 1, 3, 6, 0.05, 1);
	summary_is_raw(t, "run-boots");
	/* one row per run, case, session and phase: 3 cases x 3 sessions x 2 phases */
	assert_int_equal(scalar(t, "SELECT COUNT(*) FROM session_summary"), 18);
	free(t);
}

/* ---- a writer killed mid-session ------------------------------------------------------------- */

/* A child that writes boots of session `k` of run-kill until it is killed. */
static pid_t writer(const char *t, int k)
{
	pid_t pid = fork();
	if (pid)
		return pid;
	struct cm_error err = { 0 };
	struct cm_store *s = cm_store_open(t, &err);
	if (!s)
		_exit(3);
	struct cm_dataset ds;
	run_head(&ds, 2);
	cm_dataset_session_number(&ds, k, "h1");
	unsigned long seed = (unsigned long)k;
	for (int b = 1; b < 100000; b++)
		for (int c = 0; c < 3; c++) {
			size_t from = ds.n;
			one_boot(&ds, c, b, b == 1, exp(0.01 * noise(&seed)));
			if (cm_store_add_rows(s, "run-kill", &ds, from, ds.n))
				_exit(4);
		}
	_exit(0);
}

/* kill -9 at five moments of five sessions: whatever boot the kill met, committed or not,
 * the summary holds exactly the boots the samples hold. */
static void test_summary_killed_mid_session(void **state)
{
	char *t = fresh("t_kill");
	struct cm_error err = { 0 };
	struct cm_store *s = cm_store_open(t, &err);
	assert_non_null(s);
	struct cm_dataset ds;
	run_head(&ds, 2);
	assert_int_equal(cm_store_begin_run(s, "run-kill", "kill", &ds), 0);
	cm_dataset_free(&ds);
	cm_store_close(s);
	for (int k = 1; k <= 5; k++) {
		pid_t pid = writer(t, k);
		/* the kill lands after the writer's first boot (a loaded host may take a while to
		 * get there: waited for, up to 60 s), at a moment that differs per session */
		char *sql = cm_xasprintf("SELECT COUNT(*) FROM samples WHERE run_id = 'run-kill' AND "
					 "session = %d", k);
		struct timespec poll = { 0, 5000000L }, nap = { 0, (3 + 17 * k) * 1000000L };
		for (int w = 0; w < 12000 && scalar(t, sql) <= 0; w++)
			nanosleep(&poll, NULL);
		free(sql);
		nanosleep(&nap, NULL);
		kill(pid, SIGKILL);
		assert_int_equal(th_finish(pid), 128 + SIGKILL);
	}
	char *sql = "SELECT COUNT(DISTINCT session) FROM samples WHERE run_id = 'run-kill'";
	assert_int_equal(scalar(t, sql), 5); /* every writer got somewhere before its kill */
	summary_is_raw(t, "run-kill");
	free(t);
}

/* A boot written again (a resumed run's, a retry after a lost answer) is skipped by the
 * samples' key, and counted once in the summary; an interrupted attempt and the boot again
 * are two rows of the samples and of the summary. */
static void test_summary_boot_written_twice(void **state)
{
	char *t = fresh("t_twice");
	struct cm_error err = { 0 };
	struct cm_store *s = cm_store_open(t, &err);
	assert_non_null(s);
	struct cm_dataset ds;
	run_head(&ds, 3);
	assert_int_equal(cm_store_begin_run(s, "run-twice", "twice", &ds), 0);
	cm_dataset_session_number(&ds, 1, "h1");
	for (int b = 1; b <= 5; b++) {
		size_t from = ds.n;
		one_boot(&ds, 0, b, false, 1 + b / 100.0);
		assert_int_equal(cm_store_add_rows(s, "run-twice", &ds, from, ds.n), 0);
		assert_int_equal(cm_store_add_rows(s, "run-twice", &ds, from, ds.n), 0); /* again */
	}
	assert_int_equal(cm_store_add_rows(s, "run-twice", &ds, 0, ds.n), 0); /* all again */
	cm_dataset_free(&ds);
	cm_store_close(s);
	assert_int_equal(scalar(t, "SELECT n FROM session_summary WHERE phase = 'total'"), 5);
	assert_int_equal(scalar(t, "SELECT n_interrupted FROM session_summary WHERE phase = 'total'"), 1);
	summary_is_raw(t, "run-twice");
	free(t);
}

/* ---- copies ------------------------------------------------------------------------------------ */

/* `coldmark CMD SOURCE --db T` for each source at once, started while T is held. */
static void copies_at_once(const char *cmd, char *const *sources, int n, const char *t)
{
	struct cm_error err = { 0 };
	struct cm_store *s = cm_store_open(t, &err);
	assert_non_null(s);
	cm_store_close(s);
	struct th_hold h = th_hold_target(t);
	pid_t pids[8];
	for (int i = 0; i < n; i++) {
		char *o = cm_xasprintf("%s/copy%d.out", tmp, i), *e = cm_xasprintf("%s/copy%d.err", tmp, i);
		char *argv[] = { COLDMARK_BIN, (char *)cmd, sources[i], "--db", (char *)t, NULL };
		pids[i] = th_start_split(argv, o, e);
		free(o), free(e);
	}
	struct timespec wait = { 2, 0 };
	nanosleep(&wait, NULL);
	th_release(&h);
	for (int i = 0; i < n; i++) {
		int rc = th_finish(pids[i]);
		char *e = cm_xasprintf("%s/copy%d.err", tmp, i), *msg = th_slurp(e);
		if (rc)
			fail_msg("%s %d: exit %d: %s", cmd, i, rc, msg);
		free(e), free(msg);
	}
}

/* Eight writers of one session at once, a boot each (a run's own writer and the boots a
 * sync brings of the same session, or waves of one run): all wait on the held samples, then
 * go together. Each recomputes the session's summary; without a lock per session a writer
 * would compute it before another's commit and put its older view last (PostgreSQL). */
static void test_summary_concurrent_writers(void **state)
{
	char *t = fresh("t_writers");
	struct cm_error err = { 0 };
	struct cm_store *s = cm_store_open(t, &err);
	assert_non_null(s);
	struct cm_dataset ds;
	run_head(&ds, 5);
	assert_int_equal(cm_store_begin_run(s, "run-writers", "writers", &ds), 0);
	cm_dataset_free(&ds);
	cm_store_close(s);
	enum { WRITERS = 8 };
	int go[2];
	assert_int_equal(pipe(go), 0);
	pid_t pids[WRITERS];
	for (int i = 0; i < WRITERS; i++) {
		if ((pids[i] = fork()))
			continue;
		close(go[1]);
		struct cm_store *w = cm_store_open(t, &err);
		char c;
		if (!w || read(go[0], &c, 1) != 1)
			_exit(3);
		struct cm_dataset d;
		run_head(&d, 5);
		cm_dataset_session_number(&d, 1, "h1");
		one_boot(&d, 0, 100 + i, false, 1 + i / 50.0);
		_exit(cm_store_add_rows(w, "run-writers", &d, 0, d.n) ? 4 : 0);
	}
	close(go[0]);
	struct th_hold h = th_hold_target(t);
	for (int i = 0; i < WRITERS; i++)
		assert_int_equal(write(go[1], "g", 1), 1);
	close(go[1]);
	struct timespec wait = { 1, 0 }; /* every writer waits on the held samples by now */
	nanosleep(&wait, NULL);
	th_release(&h);
	for (int i = 0; i < WRITERS; i++)
		assert_int_equal(th_finish(pids[i]), 0);
	assert_int_equal(scalar(t, "SELECT n FROM session_summary WHERE phase = 'total'"), WRITERS);
	summary_is_raw(t, "run-writers");
	free(t);
}

/* A shard holding boots [from, from + n) of session 1 of run-shards, with profile rows. */
static char *shard(int i, int from, int n)
{
	char *path = cm_xasprintf("%s/shard%d.db", tmp, i);
	struct cm_error err = { 0 };
	struct cm_store *s = cm_store_open(path, &err);
	assert_non_null(s);
	struct cm_dataset ds;
	run_head(&ds, 4);
	assert_int_equal(cm_store_begin_run(s, "run-shards", "shards", &ds), 0);
	cm_dataset_session_number(&ds, 1, "h1");
	unsigned long seed = (unsigned long)i + 7;
	for (int b = from; b < from + n; b++)
		for (int c = 0; c < 3; c++) {
			size_t at = ds.n;
			one_boot(&ds, c, b, b == 1, exp(0.01 * noise(&seed)));
			assert_int_equal(cm_store_add_rows(s, "run-shards", &ds, at, ds.n), 0);
		}
	struct cm_profile_row p = { "variant=a", "total", "instructions", from, 1, 1000.0 + i };
	assert_int_equal(cm_store_add_profile(s, "run-shards", &p, 1), 0);
	cm_dataset_free(&ds);
	cm_store_close(s);
	return path;
}

/* Four merges at once of shards holding disjoint boots of one session: each adds boots to the
 * same session summary, and the one that commits last must see the others' boots. Then four
 * syncs of one run folder at once. Summary == samples each time; profile rows copied once. */
static void test_summary_concurrent_copies(void **state)
{
	char *t = fresh("t_copies"), *shards[4];
	for (int i = 0; i < 4; i++)
		shards[i] = shard(i, 1 + 10 * i, 10);
	copies_at_once("merge", shards, 4, t);
	assert_int_equal(scalar(t, "SELECT COUNT(*) FROM samples"),
			 4 * 10 * 3 * 2 - 1 + 2); /* a failed boot, an interrupted one */
	summary_is_raw(t, "run-shards");
	assert_int_equal(scalar(t, "SELECT n FROM session_summary WHERE case_id = 'variant=a' "
				   "AND phase = 'total'"), 39); /* 40 boots, the warm-up apart */
	assert_int_equal(scalar(t, "SELECT COUNT(*) FROM profile"), 4);
	/* four syncs of one run folder (its journal) at once */
	char *dir = cm_xasprintf("%s/folder", tmp), *journal;
	mkdir(dir, 0755);
	journal = cm_xasprintf("%s/%s", dir, CM_RUN_JOURNAL_DB);
	write_run(journal, "run-folder", "folder", 5, 2, 5, 0, 3);
	char *dirs[] = { dir, dir, dir, dir };
	copies_at_once("sync", dirs, 4, t);
	summary_is_raw(t, "run-folder");
	assert_int_equal(scalar(t, "SELECT COUNT(*) FROM session_summary WHERE run_id = 'run-folder'"),
			 3 * 2 * 2);
	for (int i = 0; i < 4; i++)
		free(shards[i]);
	free(journal), free(dir), free(t);
}

/* ---- migration, and a summary that does not add up ------------------------------------------------ */

/* A store of the schema before the summary is read from its raw samples, and the first writer
 * that opens it fills the summary of every run it holds. */
static void test_summary_migration_fills(void **state)
{
	char *t = fresh("t_migrate");
	write_run(t, "run-old1", "old", 6, 2, 4, 0, 5);
	write_run(t, "run-old2", "old", 7, 1, 4, 0.1, 6);
	/* back to the schema before: what the step added, removed */
	char *back = cm_xasprintf("%s%d", cm_store_is_url(t)
			    ? "DROP TABLE session_summary; DROP TRIGGER samples_added ON samples;"
			      "DROP TRIGGER samples_changed ON samples; DROP FUNCTION "
			      "coldmark_samples_added(); DROP FUNCTION coldmark_samples_changed();"
			      "ALTER TABLE runs DROP COLUMN samples; ALTER TABLE runs DROP COLUMN "
			      "samples_changed; UPDATE coldmark_schema SET version = "
			    : "DROP TABLE session_summary; DROP TRIGGER samples_added; DROP TRIGGER "
			      "samples_deleted; DROP TRIGGER samples_updated; ALTER TABLE runs DROP "
			      "COLUMN samples; ALTER TABLE runs DROP COLUMN samples_changed; "
			      "PRAGMA user_version = ", CM_SUMMARY_VERSION - 1);
	th_store_exec(t, back);
	free(back);
	struct cm_error err = { 0 };
	struct cm_store *s = cm_store_open_existing(t, &err);
	assert_non_null(s);
	struct cm_dataset ds;
	struct cm_store_read how;
	assert_int_equal(cm_store_load_summary(s, "run-old1", NULL, false, &ds, &how), 0);
	assert_false(how.summary); /* a reader never migrates: the raw samples */
	assert_true(ds.n > 0);
	cm_dataset_free(&ds);
	cm_store_close(s);
	s = cm_store_open(t, &err); /* a writer migrates */
	assert_non_null(s);
	assert_int_equal(cm_store_version(s), CM_STORE_VERSION);
	cm_store_close(s);
	summary_is_raw(t, "run-old1");
	summary_is_raw(t, "run-old2");
	free(t);
}

/* A summary that does not count every raw row (a sample deleted by hand, a summary row
 * changed) is not trusted: the run is read from the raw samples, and compare says so. */
static void test_summary_stale_not_trusted(void **state)
{
	char *t = fresh("t_stale"), *out, *err, *out2, *err2;
	write_run(t, "run-s1", "s1", 8, 2, 5, 0, 9);
	write_run(t, "run-s2", "s2", 9, 2, 5, 0.1, 10);
	th_store_exec(t, "DELETE FROM samples WHERE rowid = (SELECT MAX(rowid) FROM samples WHERE "
		       "run_id = 'run-s2' AND phase = 'total' AND status = 'ok')");
	th_store_exec(t, "UPDATE session_summary SET n_rows = n_rows + 1 WHERE run_id = 'run-s1' AND "
		       "session = 2 AND phase = 'kernel' AND case_id = 'variant=a'");
	write_run(t, "run-s3", "s3", 10, 1, 3, 0, 11); /* a row added around coldmark */
	th_store_exec(t, "INSERT INTO samples (run_id, case_id, boot, warmup, status, phase, duration_ns,"
		       " source, cache_drop, session, host_audit) VALUES ('run-s3', 'variant=a', 99, 0, "
		       "'ok', 'total', 123456789, 'perf', 'none', 1, '')");
	struct cm_error e = { 0 };
	struct cm_store *s = cm_store_open_existing(t, &e);
	struct cm_dataset ds;
	struct cm_store_read how;
	const char *runs[] = { "run-s1", "run-s2", "run-s3" };
	for (int i = 0; i < 3; i++) {
		assert_int_equal(cm_store_load_summary(s, runs[i], NULL, i == 0, &ds, &how), 0);
		if (!how.stale || how.summary)
			fail_msg("%s: its summary was trusted", runs[i]);
		cm_dataset_free(&ds);
	}
	/* history --case counts the case's raw rows itself */
	assert_int_equal(cm_store_load_summary(s, "run-s3", "variant=a", false, &ds, &how), 0);
	assert_true(how.stale && how.raw_rows == how.summary_rows + 1);
	cm_dataset_free(&ds);
	cm_store_close(s);
	int rc = coldmark(&out, &err, "compare", "s1", "s2", "--db", t, "--format", "json", NULL);
	assert_int_equal(coldmark(&out2, &err2, "compare", "s1", "s2", "--db", t, "--format", "json",
				  "--from-samples", NULL), rc);
	assert_non_null(strstr(err, "run run-s1: its session summary counts"));
	assert_non_null(strstr(err, "run run-s2: its session summary counts"));
	assert_string_equal(out, out2);
	free(out), free(err), free(out2), free(err2), free(t);
}

/* ---- compare and history: from the summary as from the raw samples ------------------------------- */

/* The two outputs are the same text, every number in them equal to 1e-12 (relative). */
static void agree(const char *what, const char *a, const char *b)
{
	const char *p = a, *q = b;
	while (*p && *q) {
		char *ep, *eq;
		bool num = (*p >= '0' && *p <= '9') || ((*p == '-' || *p == '+') && p[1] >= '0' && p[1] <= '9');
		if (num) {
			double x = strtod(p, &ep), y = strtod(q, &eq);
			if (eq == q || fabs(x - y) > 1e-12 * fmax(1e-300, fmax(fabs(x), fabs(y))))
				fail_msg("%s: %.40s... vs %.40s...", what, p, q);
			p = ep, q = eq;
			continue;
		}
		if (*p != *q)
			fail_msg("%s: '%.60s' vs '%.60s'", what, p, q);
		p++, q++;
	}
	if (*p || *q)
		fail_msg("%s: one output is longer: '%.60s' / '%.60s'", what, p, q);
}

/* one command twice: from the summary, then --from-samples; the same exit and output */
static void same_both_ways(const char *what, char **args, int nargs)
{
	char *argv[20] = { COLDMARK_BIN };
	for (int i = 0; i < nargs; i++)
		argv[1 + i] = args[i];
	char *o1 = cm_xasprintf("%s/a.out", tmp), *e1 = cm_xasprintf("%s/a.err", tmp),
	     *o2 = cm_xasprintf("%s/b.out", tmp), *e2 = cm_xasprintf("%s/b.err", tmp);
	int rc1 = th_finish(th_start_split(argv, o1, e1));
	argv[1 + nargs] = "--from-samples";
	int rc2 = th_finish(th_start_split(argv, o2, e2));
	char *a = th_slurp(o1), *b = th_slurp(o2), *ea = th_slurp(e1);
	if (rc1 != rc2 || !*a)
		fail_msg("%s: exit %d vs %d: %s", what, rc1, rc2, ea);
	assert_null(strstr(ea, "session summary counts")); /* the summary was used */
	agree(what, a, b);
	free(a), free(b), free(ea), free(o1), free(e1), free(o2), free(e2);
}

/* Tags of several runs (one and three sessions), interrupted boots, warm-ups, a failed boot,
 * an unmeasurable phase: compare (between tags, within one run by --axis, relative to the
 * reference) and history (every case, one case) agree with their raw-sample selves. */
static void test_summary_compare_history_equal_raw(void **state)
{
	char *t = fresh("t_equal");
	write_run(t, "run-a1", "A", 10, 3, 6, 0, 11);
	write_run(t, "run-a2", "A", 11, 1, 6, 0, 12);
	write_run(t, "run-b1", "B", 12, 2, 6, 0.08, 13);
	write_run(t, "run-b2", "B", 13, 1, 6, 0.08, 14);
	char *cmp[] = { "compare", "A", "B", "--db", t, "--format", "json" };
	same_both_ways("compare A B", cmp, 7);
	char *one[] = { "compare", "run-a2", "run-b2", "--db", t, "--format", "json" };
	same_both_ways("compare of one-session runs", one, 7);
	char *axis[] = { "compare", "run-a1", "--axis", "variant", "--db", t, "--format", "json" };
	same_both_ways("compare --axis variant (A/B within a run)", axis, 8);
	char *rel[] = { "compare", "A", "B", "--db", t, "--format", "json", "--relative-to", "reference" };
	same_both_ways("compare --relative-to reference", rel, 9);
	char *hist[] = { "history", "--db", t };
	same_both_ways("history", hist, 3);
	char *hcase[] = { "history", "--db", t, "--case", "variant=b", "--phase", "kernel" };
	same_both_ways("history --case variant=b", hcase, 7);
	free(t);
}

static int cleanup(void **state)
{
	th_rm_rf(tmp);
	return 0;
}

int main(int argc, char **argv)
{
	snprintf(tmp, sizeof(tmp), "/tmp/cm-summary-XXXXXX");
	if (!mkdtemp(tmp))
		return 1;
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_summary_written_with_each_boot),
		cmocka_unit_test(test_summary_killed_mid_session),
		cmocka_unit_test(test_summary_boot_written_twice),
		cmocka_unit_test(test_summary_concurrent_copies),
		cmocka_unit_test(test_summary_concurrent_writers),
		cmocka_unit_test(test_summary_migration_fills),
		cmocka_unit_test(test_summary_stale_not_trusted),
		cmocka_unit_test(test_summary_compare_history_equal_raw),
	};
	if (argc > 1 && !strcmp(argv[1], "--pg")) {
		if (!(pg_base = getenv("COLDMARK_DB")) || !cm_store_is_url(pg_base)) {
			fprintf(stderr, "test_summary --pg: no PostgreSQL in COLDMARK_DB "
					"(scripts/slurm-local.sh run --pg-only -- test_summary --pg): "
					"skipped\n");
			cleanup(NULL);
			return 77;
		}
		return cmocka_run_group_tests_name("summary-postgresql", tests, NULL, cleanup);
	}
	return cmocka_run_group_tests_name("summary-sqlite", tests, NULL, cleanup);
}
