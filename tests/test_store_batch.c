/* The store a batch at a time (issue 25 item 6): a run's boots are in both journals before
 * the next boot starts, and go to the store once a second (COLDMARK_BATCH_MS), with the
 * run's first boot and at the loop's end. What a kill -9 leaves: the store behind its
 * journals by the boots since its last batch, and --resume puts them in before its first
 * boot. A batch the store refuses stops the run (exit 4) naming its boots, which the journals
 * keep; --resume brings them in once the store takes them. A real coldmark process whose
 * "qemu" is /bin/true: its boots fail fast (no markers), and each still has its rows. */
#define _GNU_SOURCE
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "helpers.h"

static char tmp[256];

/* a matrix of BOOTS boots of /bin/true, one case */
static char *matrix(const char *name, int boots)
{
	char *yaml = cm_xasprintf("qemu: /bin/true\nguest: {bundled: guest}\nrun: {boots: %d, "
				  "warmup: 0, drop_caches: false, reference: none}\n", boots);
	char *m = th_write_matrix(tmp, name, yaml);
	free(yaml);
	return m;
}

/* samples.csv's rows (its header apart) */
static long long journal_rows(const char *dir)
{
	char *p = cm_xasprintf("%s/samples.csv", dir), *text = th_exists(p) ? th_slurp(p) : NULL;
	long long n = text ? (long long)th_count(text, "\n") - 1 : 0;
	free(p), free(text);
	return n;
}

static long long store_rows(const char *db)
{
	return th_sqlite_value(db, "SELECT COUNT(*) FROM samples");
}

/* the session summary counts every raw row (compare and history then read it, not the raw) */
static void summary_agrees(const char *db)
{
	assert_int_equal(th_sqlite_value(db, "SELECT COALESCE(SUM(n_rows), 0) FROM session_summary"),
			 store_rows(db));
}

/* coldmark run M -o DIR --db DB started, killed with SIGKILL once samples.csv holds at least
 * rows rows */
static void run_killed_at(const char *m, const char *dir, const char *db, long long rows)
{
	char *log = cm_xasprintf("%s.out", dir);
	char *argv[] = { COLDMARK_BIN, "run", (char *)m, "-o", (char *)dir, "--db", (char *)db, NULL };
	pid_t pid = th_start(argv, log);
	for (int i = 0; i < 6000 && journal_rows(dir) < rows; i++)
		usleep(5000);
	kill(pid, SIGKILL);
	assert_int_equal(th_finish(pid), 128 + SIGKILL);
	free(log);
}

static char *resume(const char *m, const char *dir, const char *db, int want)
{
	char *out;
	int rc = th_coldmark(tmp, &out, "run", m, "--resume", dir, "--db", db, NULL);
	if (rc != want)
		fail_msg("--resume %s: exit %d, not %d: %s", dir, rc, want, out);
	return out;
}

/* Killed between two batches: the store holds the first batch (the run's first boot) and
 * lacks the boots after it, which both journals hold; --resume puts them in, says so, and
 * the store then equals samples.csv row for row, its summary counting every row. */
static void test_kill_between_batches_resume_catches_up(void **state)
{
	(void)state;
	char *m = matrix("kill", 3000), *dir = cm_xasprintf("%s/kill", tmp),
	     *db = cm_xasprintf("%s/kill.db", tmp);
	setenv("COLDMARK_BATCH_MS", "600000", 1);
	run_killed_at(m, dir, db, 200);
	unsetenv("COLDMARK_BATCH_MS");
	long long first = store_rows(db), journal = journal_rows(dir);
	if (!(first > 0 && first < 20 && journal >= 200))
		fail_msg("after the kill: store %lld rows (want the first boot's), journal %lld",
			 first, journal);
	summary_agrees(db);
	char *out = resume(m, dir, db, 1); /* /bin/true's boots have no markers: failed, exit 1 */
	assert_non_null(strstr(out, "lacked"));
	assert_int_equal(store_rows(db), journal_rows(dir));
	assert_true(journal_rows(dir) > journal);
	summary_agrees(db);
	/* a second resume of the finished run: nothing lacked, nothing said */
	free(out);
	out = resume(m, dir, db, 1);
	assert_null(strstr(out, "lacked"));
	assert_int_equal(store_rows(db), journal_rows(dir));
	free(out), free(m), free(dir), free(db);
}

/* A batch the store refuses (a trigger on boot 3): exit 4, the message names the batch's
 * boots and --resume; the journals hold every boot, the store those before the batch; with
 * the trigger gone, --resume brings them in. */
static void test_refused_batch_names_its_boots(void **state)
{
	(void)state;
	char *m = matrix("refused", 6), *dir = cm_xasprintf("%s/refused", tmp),
	     *db = cm_xasprintf("%s/refused.db", tmp), *dir0 = cm_xasprintf("%s/refused0", tmp);
	char *out;
	assert_int_equal(th_coldmark(tmp, &out, "run", m, "-o", dir0, "--db", db, NULL), 1);
	free(out);
	th_store_exec(db, "CREATE TRIGGER refuse BEFORE INSERT ON samples WHEN NEW.boot = 3 "
			  "BEGIN SELECT RAISE(ABORT, 'boot 3 refused'); END");
	long long before = store_rows(db);
	setenv("COLDMARK_BATCH_MS", "600000", 1);
	int rc = th_coldmark(tmp, &out, "run", m, "-o", dir, "--db", db, NULL);
	unsetenv("COLDMARK_BATCH_MS");
	if (rc != 4 || !strstr(out, "did not take the 5 boots from default boot 2 to default boot 6") ||
	    !strstr(out, "boot 3 refused") || !strstr(out, "--resume"))
		fail_msg("a refused batch: exit %d: %s", rc, out);
	free(out);
	long long per_boot = journal_rows(dir) / 6;
	assert_int_equal(journal_rows(dir), 6 * per_boot);
	assert_int_equal(store_rows(db) - before, per_boot); /* boot 1, its batch alone */
	th_store_exec(db, "DROP TRIGGER refuse");
	free(resume(m, dir, db, 1));
	assert_int_equal(store_rows(db) - before, journal_rows(dir));
	summary_agrees(db);
	free(m), free(dir), free(db), free(dir0);
}

/* COLDMARK_BATCH_MS=0: a batch a boot, the store at most a boot behind its journals
 * when killed; a value that is no number is said, and the run goes on a batch a second. */
static void test_every_boot_and_bad_value(void **state)
{
	(void)state;
	char *m = matrix("every", 3000), *dir = cm_xasprintf("%s/every", tmp),
	     *db = cm_xasprintf("%s/every.db", tmp);
	setenv("COLDMARK_BATCH_MS", "0", 1);
	run_killed_at(m, dir, db, 200);
	long long journal = journal_rows(dir), stored = store_rows(db);
	if (stored > journal || stored < journal - 7 || stored < 200 - 7)
		fail_msg("a batch a boot, killed: store %lld rows, journal %lld", stored, journal);
	summary_agrees(db);
	char *m2 = matrix("bad", 4), *dir2 = cm_xasprintf("%s/bad", tmp), *out;
	setenv("COLDMARK_BATCH_MS", "soon", 1);
	int rc = th_coldmark(tmp, &out, "run", m2, "-o", dir2, "--db", db, NULL);
	unsetenv("COLDMARK_BATCH_MS");
	if (rc != 1 || !strstr(out, "COLDMARK_BATCH_MS=soon is not a number of milliseconds"))
		fail_msg("a bad batch period: exit %d: %s", rc, out);
	assert_int_equal(th_sqlite_value(db, "SELECT COUNT(*) FROM samples s JOIN runs r ON "
					     "r.id = s.run_id WHERE r.rowid = (SELECT MAX(rowid) FROM runs)"),
			 journal_rows(dir2));
	free(out), free(m), free(dir), free(db), free(m2), free(dir2);
}

int main(void)
{
	if (th_mkdtemp(tmp, sizeof(tmp), "store-batch"))
		return 1;
	th_remove_at_exit(tmp);
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_kill_between_batches_resume_catches_up),
		cmocka_unit_test(test_refused_batch_names_its_boots),
		cmocka_unit_test(test_every_boot_and_bad_value),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
