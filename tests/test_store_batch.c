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
#include <sys/wait.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "helpers.h"

static char tmp[256];

/* a matrix of BOOTS boots of /bin/true, one case; extra: more run keys (", concurrency: 3") */
static char *matrix_run(const char *name, int boots, const char *extra)
{
	char *yaml = cm_xasprintf("qemu: /bin/true\nguest: {bundled: guest}\nrun: {boots: %d, "
				  "warmup: 0, drop_caches: false, reference: none%s}\n", boots, extra);
	char *m = th_write_matrix(tmp, name, yaml);
	free(yaml);
	return m;
}

static char *matrix(const char *name, int boots)
{
	return matrix_run(name, boots, "");
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


/* a boot's rows in samples.csv (each boot of one /bin/true case has as many) */
static long long rows_a_boot(const char *dir)
{
	char *p = cm_xasprintf("%s/samples.csv", dir), *text = th_slurp(p);
	long long n = (long long)th_count(text, "\ndefault,1,") ;
	free(p), free(text);
	assert_true(n > 0);
	return n;
}

static char *resume(const char *m, const char *dir, const char *db, int want)
{
	char *out;
	int rc = th_coldmark(tmp, &out, "run", m, "--resume", dir, "--db", db, NULL);
	if (rc != want)
		fail_msg("--resume %s: exit %d, not %d: %s", dir, rc, want, out);
	return out;
}

/* Killed before its first batch (a period after the loop began): the store holds the run
 * and its cases but none of its boots, which both journals hold; --resume puts them in, says
 * so, and the store then equals samples.csv row for row, its summary counting every row.
 * Booted one by one, and in waves of three (each wave's boots recorded one by one). */
static void kill_and_resume(const char *name, const char *extra)
{
	char *m = matrix_run(name, 300, extra), *dir = cm_xasprintf("%s/%s", tmp, name),
	     *db = cm_xasprintf("%s/%s.db", tmp, name);
	setenv("COLDMARK_BATCH_MS", "600000", 1);
	th_run_killed_at(m, dir, db, 200, 0);
	unsetenv("COLDMARK_BATCH_MS");
	long long first = store_rows(db), journal = th_journal_rows(dir), per_boot = rows_a_boot(dir);
	if (first != 0 || journal < 200)
		fail_msg("after the kill: store %lld rows (want none before the first batch), "
			 "journal %lld (%lld a boot)", first, journal, per_boot);
	summary_agrees(db);
	char *out = resume(m, dir, db, 1); /* /bin/true's boots have no markers: failed, exit 1 */
	char *said = cm_xasprintf("%lld of the run's earlier boots were in", journal / per_boot);
	if (!strstr(out, said) || !strstr(out, "not yet in the results store"))
		fail_msg("--resume after a kill: want \"%s ... not yet in the results store\": %s",
			 said, out);
	free(said);
	assert_int_equal(store_rows(db), th_journal_rows(dir));
	assert_true(th_journal_rows(dir) > journal);
	summary_agrees(db);
	/* a second resume of the finished run: nothing lacked, nothing said */
	free(out);
	out = resume(m, dir, db, 1);
	assert_null(strstr(out, "not yet in the results store"));
	assert_int_equal(store_rows(db), th_journal_rows(dir));
	free(out), free(m), free(dir), free(db);
}

static void test_kill_between_batches_resume_catches_up(void **state)
{
	(void)state;
	kill_and_resume("kill", "");
	kill_and_resume("killw", ", concurrency: 3");
}

/* A batch the store refuses (a trigger on boot 3): exit 4, the message names the batch's
 * boots and --resume; the journals hold every boot, the store none (the loop's last batch
 * was its one); with the trigger gone, --resume brings them in. */
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
	if (rc != 4 ||
	    !strstr(out, "did not take 6 boots (default boot 1 the first, default boot 6 the last") ||
	    !strstr(out, "the run ends (exit 4): they are in") ||
	    !strstr(out, "boot 3 refused") || !strstr(out, "--resume"))
		fail_msg("a refused batch: exit %d: %s", rc, out);
	free(out);
	long long per_boot = th_journal_rows(dir) / 6;
	assert_int_equal(th_journal_rows(dir), 6 * per_boot);
	assert_int_equal(store_rows(db), before);
	th_store_exec(db, "DROP TRIGGER refuse");
	free(resume(m, dir, db, 1));
	assert_int_equal(store_rows(db) - before, th_journal_rows(dir));
	summary_agrees(db);
	free(m), free(dir), free(db), free(dir0);
}

/* The batch's period: COLDMARK_BATCH_MS=300 over ~1.5 s of fast boots puts batches in the
 * store (a period read as seconds, not milliseconds, would leave it empty); 0 puts each boot
 * in, the store at most a boot behind its journals when
 * killed; a value that is no number, or out of range, is said and the run goes on a batch a
 * second. */
static void test_batch_period(void **state)
{
	(void)state;
	char *m = matrix("period", 20000), *dir = cm_xasprintf("%s/period", tmp),
	     *db = cm_xasprintf("%s/period.db", tmp);
	setenv("COLDMARK_BATCH_MS", "300", 1);
	th_run_killed_at(m, dir, db, 0, 1500);
	long long journal = th_journal_rows(dir), stored = store_rows(db), per_boot = rows_a_boot(dir);
	if (stored < per_boot || stored > journal)
		fail_msg("batches of 300 ms, killed after 1.5 s: store %lld rows, journal %lld "
			 "(%lld a boot)", stored, journal, per_boot);
	summary_agrees(db);
	free(m), free(dir), free(db);
	m = matrix("every", 20000), dir = cm_xasprintf("%s/every", tmp),
	db = cm_xasprintf("%s/every.db", tmp);
	setenv("COLDMARK_BATCH_MS", "0", 1);
	th_run_killed_at(m, dir, db, 200, 0);
	journal = th_journal_rows(dir), stored = store_rows(db);
	if (stored > journal || stored < journal - per_boot || stored < 200 - per_boot)
		fail_msg("a batch a boot, killed: store %lld rows, journal %lld", stored, journal);
	summary_agrees(db);
	char *m2 = matrix("bad", 4), *dir2 = cm_xasprintf("%s/bad", tmp), *out;
	setenv("COLDMARK_BATCH_MS", "soon", 1);
	int rc = th_coldmark(tmp, &out, "run", m2, "-o", dir2, "--db", db, NULL);
	unsetenv("COLDMARK_BATCH_MS");
	if (rc != 1 || !strstr(out, "COLDMARK_BATCH_MS=soon is not a number of milliseconds"))
		fail_msg("a bad batch period: exit %d: %s", rc, out);
	free(out);
	setenv("COLDMARK_BATCH_MS", "3600001", 1);
	char *dir3 = cm_xasprintf("%s/long", tmp);
	rc = th_coldmark(tmp, &out, "run", m2, "-o", dir3, "--db", db, NULL);
	unsetenv("COLDMARK_BATCH_MS");
	if (rc != 1 || !strstr(out, "COLDMARK_BATCH_MS=3600001 is out of range"))
		fail_msg("a batch period over an hour: exit %d: %s", rc, out);
	assert_int_equal(th_sqlite_value(db, "SELECT COUNT(*) FROM samples s JOIN runs r ON "
					     "r.id = s.run_id WHERE r.rowid = (SELECT MAX(rowid) FROM runs)"),
			 th_journal_rows(dir3));
	free(out), free(m), free(dir), free(db), free(m2), free(dir2), free(dir3);
}

/* coldmark sync after a kill between batches: a run whose store is a server out of reach
 * keeps its boots in the run folder's journal.db, a batch at a time; killed between two,
 * samples.csv holds boots journal.db does not, and sync puts them in after journal.db's. */
static void test_sync_puts_in_the_tail(void **state)
{
	(void)state;
	char *m = matrix("tail", 300), *dir = cm_xasprintf("%s/tail", tmp),
	     *target = cm_xasprintf("%s/tail-target.db", tmp),
	     *jdb = cm_xasprintf("%s/tail/journal.db", tmp), *out;
	setenv("COLDMARK_BATCH_MS", "600000", 1);
	th_run_killed_at(m, dir, "postgresql:///coldmark?host=/nonexistent-coldmark-dir", 200, 0);
	unsetenv("COLDMARK_BATCH_MS");
	long long journal = th_journal_rows(dir), per_boot = rows_a_boot(dir);
	assert_int_equal(store_rows(jdb), 0); /* killed before its first batch */
	int rc = th_coldmark(tmp, &out, "sync", dir, "--db", target, NULL);
	char *said = cm_xasprintf("%lld boots added that journal.db did not hold yet",
				  journal / per_boot);
	if (rc || !strstr(out, said))
		fail_msg("sync after a kill between batches: exit %d, want \"%s\": %s", rc, said,
			 out);
	assert_int_equal(store_rows(target), journal);
	summary_agrees(target);
	free(out), free(said), free(m), free(dir), free(target), free(jdb);
}

/* the widest wave in DIR/samples.csv (its rows' last-but-one field), in boots */
static long long widest_wave(const char *dir)
{
	char *p = cm_xasprintf("%s/samples.csv", dir), *text = th_slurp(p);
	long long rows[4096] = { 0 }, widest = 0, per_boot = rows_a_boot(dir);
	for (char *save = NULL, *l = strtok_r(text, "\n", &save); l; l = strtok_r(NULL, "\n", &save)) {
		char *last = strrchr(l, ','), *w;
		if (!last || last == l)
			continue;
		*last = 0;
		w = strrchr(l, ',');
		long v = w ? strtol(w + 1, NULL, 10) : 0;
		if (v > 0 && v < 4096 && ++rows[v] / per_boot > widest)
			widest = rows[v] / per_boot;
	}
	free(p), free(text);
	return widest;
}

/* A run in waves stopped between its boots' journal lines and the wave's own line in
 * waves.csv (killed; or its journals failing mid-wave) is resumed: its next wave is numbered
 * past every wave the journal holds, not only past waves.csv's (a resumed run that began at
 * wave 1 again made "waves" of six boots of three). waves.csv removed: the extreme case. */
static void test_resume_waves_past_the_journal(void **state)
{
	(void)state;
	char *m = matrix_run("wnum", 60, ", concurrency: 3"), *dir = cm_xasprintf("%s/wnum", tmp),
	     *db = cm_xasprintf("%s/wnum.db", tmp), *waves = cm_xasprintf("%s/waves.csv", dir);
	th_run_killed_at(m, dir, db, 30, 0);
	assert_true(widest_wave(dir) <= 3);
	unlink(waves);
	free(resume(m, dir, db, 1));
	long long w = widest_wave(dir);
	if (w > 3)
		fail_msg("after --resume a wave holds %lld boots of a run in waves of 3", w);
	assert_int_equal(th_journal_rows(dir), 60 * rows_a_boot(dir));
	free(m), free(dir), free(db), free(waves);
}

int main(void)
{
	if (th_mkdtemp(tmp, sizeof(tmp), "store-batch"))
		return 1;
	th_remove_at_exit(tmp);
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_kill_between_batches_resume_catches_up),
		cmocka_unit_test(test_refused_batch_names_its_boots),
		cmocka_unit_test(test_batch_period),
		cmocka_unit_test(test_sync_puts_in_the_tail),
		cmocka_unit_test(test_resume_waves_past_the_journal),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
