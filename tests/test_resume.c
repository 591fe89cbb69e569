/* A resume continues the same run or refuses; a plan is checked before anything is created.
 * Each resume test starts from a run folder made by a real short run (the bundled guest under
 * TCG, two boots) and resumes it with one thing changed: the resume must refuse (exit 2) naming
 * that thing, and leave the folder and the stores as they were. The plan tests run plans that
 * cannot be allocated or numbered: exit 2 naming the limit, and no run folder or store made.
 * Usage: test_resume resume|plan-limits (both boot qemu: run them under the e2e lock). */
#define _GNU_SOURCE
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "coldmark/harness.h"
#include "coldmark/report.h"
#include "helpers.h"

static char tmp[256];

/* The test's guest: a copy of the bundled one, so that a test may change its contents. */
#define MATRIX                                                                                \
	"guest: {disk: %s}\n"                                                                       \
	"base_args: [-machine, pc, -accel, tcg, -display, none, -nodefaults, -no-reboot%s]\n"       \
	"axes: {memory: [%s]}\n"                                                                    \
	"%s"                                                                                        \
	"run: {boots: 2, warmup: 0, timeout: 30s, reference: none, exit_status: 33}\n"

static char *matrix(const char *name, const char *disk, const char *more_args, const char *memory,
		    const char *phases)
{
	char *body = cm_xasprintf(MATRIX, disk, more_args, memory, phases);
	char *path = th_write_in(tmp, name, body);
	free(body);
	return path;
}

/* A real run folder: name's run of its own guest copy into db; *m its matrix, *disk the copy. */
static char *make_run(const char *name, const char *db, char **m, char **disk)
{
	char *img = cm_xasprintf("%s/guest.img", GUEST_DIR), *buf, *out;
	size_t len;
	buf = cm_read_file(img, &len);
	assert_non_null(buf);
	*disk = cm_xasprintf("%s/%s.img", tmp, name);
	FILE *f = fopen(*disk, "w");
	fwrite(buf, 1, len, f);
	fclose(f);
	free(buf), free(img);
	char *mname = cm_xasprintf("%s.yaml", name);
	*m = matrix(mname, *disk, "", "128M", "");
	char *dir = cm_xasprintf("%s/%s", tmp, name);
	int rc = th_coldmark(tmp, &out, "run", *m, "-o", dir, "--db", db, NULL);
	if (rc)
		fprintf(stderr, "%s", out);
	assert_int_equal(rc, 0);
	free(out), free(mname);
	return dir;
}

/* The resume refused: exit 2, each of the words said, and the run folder as it was. */
static void expect_refused(const char *dir, const char *db, const char *m, const char *const *words)
{
	char *meta = cm_xasprintf("%s/meta.csv", dir), *samples = cm_xasprintf("%s/samples.csv", dir);
	char *meta0 = th_slurp(meta), *samples0 = th_slurp(samples), *out;
	int rc = th_coldmark(tmp, &out, "run", (char *)m, "--resume", (char *)dir, "--db",
			(char *)db, NULL);
	if (rc != 2)
		fprintf(stderr, "%s", out);
	assert_int_equal(rc, 2);
	for (size_t i = 0; words[i]; i++) {
		if (!strstr(out, words[i]))
			fail_msg("'%s' not said in:\n%s", words[i], out);
	}
	assert_null(strstr(out, "resuming run"));
	char *meta1 = th_slurp(meta), *samples1 = th_slurp(samples);
	assert_string_equal(meta0, meta1);
	assert_string_equal(samples0, samples1);
	free(meta0), free(meta1), free(samples0), free(samples1), free(meta), free(samples), free(out);
}

/* The same matrix (a copy elsewhere: its path is not the plan) and the same store resume. */
static void test_resume_unchanged(void **state)
{
	char *db = cm_xasprintf("%s/same.db", tmp), *m, *disk, *out;
	char *dir = make_run("same", db, &m, &disk);
	char *body = th_slurp(m), *copy = th_write_in(tmp, "same-copy.yaml", body);
	assert_int_equal(th_coldmark(tmp, &out, "run", copy, "--resume", dir, "--db", db, NULL), 0);
	assert_non_null(strstr(out, "resuming run"));
	free(out), free(copy), free(body), free(dir), free(disk), free(m), free(db);
}

/* A case added: named, with the word "added" (before: it booted after the others). */
static void test_resume_case_added(void **state)
{
	char *db = cm_xasprintf("%s/added.db", tmp), *m, *disk;
	char *dir = make_run("added", db, &m, &disk);
	char *m2 = matrix("added2.yaml", disk, "", "128M, 256M", "");
	const char *const words[] = { "case 'memory=256M' is not in the run's plan (added)", NULL };
	expect_refused(dir, db, m2, words);
	free(m2), free(dir), free(disk), free(m), free(db);
}

/* base_args changed: both lines said, and the case whose command line it changed. */
static void test_resume_base_args(void **state)
{
	char *db = cm_xasprintf("%s/args.db", tmp), *m, *disk;
	char *dir = make_run("args", db, &m, &disk);
	char *m2 = matrix("args2.yaml", disk, ", -S", "128M", "");
	const char *const words[] = { "base args: '-machine pc -accel tcg -display none -nodefaults "
				      "-no-reboot' in the run, '-machine pc -accel tcg -display none "
				      "-nodefaults -no-reboot -S' in the matrix",
				      "case 'memory=128M' differs", NULL };
	expect_refused(dir, db, m2, words);
	free(m2), free(dir), free(disk), free(m), free(db);
}

/* The guest image's contents changed under the same path: its hash, both values said. */
static void test_resume_guest_image(void **state)
{
	char *db = cm_xasprintf("%s/image.db", tmp), *m, *disk;
	char *dir = make_run("image", db, &m, &disk);
	char hex[65];
	assert_int_equal(cm_sha256_file(disk, hex), 0);
	FILE *f = fopen(disk, "a");
	fputs("another guest", f);
	fclose(f);
	const char *const words[] = { "disk sha256: '", hex, "' in the run, '", NULL };
	expect_refused(dir, db, m, words);
	free(dir), free(disk), free(m), free(db);
}

/* Other phases (and so another phase set in the store) are refused, both sets said. */
static void test_resume_phases(void **state)
{
	char *db = cm_xasprintf("%s/phases.db", tmp), *m, *disk;
	char *dir = make_run("phases", db, &m, &disk);
	char *m2 = matrix("phases2.yaml", disk, "", "128M",
			  "phases: [{name: guest, from: real_mode, to: work_done}]\n");
	const char *const words[] = { "phases: 'real_mode: exec -> real_mode, long_mode: real_mode -> "
				      "long_mode, work_done: long_mode -> work_done' in the run, "
				      "'guest: real_mode -> work_done' in the matrix",
				      NULL };
	expect_refused(dir, db, m2, words);
	free(m2), free(dir), free(disk), free(m), free(db);
}

/* Another SQLite file than the run's: both named (real paths), the other one not created. */
static void test_resume_other_sqlite(void **state)
{
	char *db = cm_xasprintf("%s/store-a.db", tmp), *other = cm_xasprintf("%s/store-b.db", tmp);
	char *m, *disk;
	char *dir = make_run("store-a", db, &m, &disk);
	char *real = realpath(db, NULL), *rt = realpath(tmp, NULL);
	char *real_other = cm_xasprintf("%s/store-b.db", rt);
	const char *const words[] = { "store: the run's boots are in ", real, real_other, NULL };
	expect_refused(dir, other, m, words);
	assert_false(th_exists(other));
	free(rt), free(real_other), free(real), free(dir), free(disk), free(m), free(other), free(db);
}

/* SQLite run, PostgreSQL resume (the server need not answer: refused before it is asked):
 * both named, the password not. */
static void test_resume_sqlite_to_postgresql(void **state)
{
	char *db = cm_xasprintf("%s/to-pg.db", tmp), *m, *disk, *out;
	char *dir = make_run("to-pg", db, &m, &disk);
	char *url = "postgresql://coldmark:Sup3rS3cret@127.0.0.1:1/cm";
	const char *const words[] = { "store: the run's boots are in ", "to-pg.db",
				      "postgresql://coldmark:", "@127.0.0.1:1/cm", NULL };
	expect_refused(dir, url, m, words);
	assert_int_equal(th_coldmark(tmp, &out, "run", m, "--resume", dir, "--db", url, NULL), 2);
	assert_null(strstr(out, "Sup3rS3cret"));
	free(out), free(dir), free(disk), free(m), free(db);
}

/* A PostgreSQL run (its server out of reach: journal.db only), resumed into SQLite: refused,
 * both named, the password neither in the message nor in meta.csv. */
static void test_resume_postgresql_to_sqlite(void **state)
{
	char *url = "postgresql://coldmark:Sup3rS3cret@127.0.0.1:1/cm", *m, *disk, *out;
	char *dir = make_run("from-pg", url, &m, &disk);
	char *db = cm_xasprintf("%s/from-pg.db", tmp), *meta = cm_xasprintf("%s/meta.csv", dir);
	char *text = th_slurp(meta);
	assert_non_null(strstr(text, "\nstore,postgresql://coldmark:"));
	assert_null(strstr(text, "Sup3rS3cret"));
	const char *const words[] = { "store: the run's boots are in postgresql://coldmark:",
				      "from-pg.db", NULL };
	expect_refused(dir, db, m, words);
	assert_int_equal(th_coldmark(tmp, &out, "run", m, "--resume", dir, "--db", db, NULL), 2);
	assert_null(strstr(out, "Sup3rS3cret"));
	assert_false(th_exists(db));
	free(out), free(text), free(meta), free(db), free(dir), free(disk), free(m);
}

/* ---- plans that cannot be allocated ------------------------------------------------------ */

/* Refused with exit 2 and these words; neither the run folder nor the store made. */
static void expect_no_plan(const char *name, const char *const *words, ...)
{
	char *dir = cm_xasprintf("%s/%s", tmp, name), *db = cm_xasprintf("%s/%s.db", tmp, name);
	char *m = th_write_in(tmp, "plan.yaml", "guest: {bundled: guest}\n"
					  "base_args: [-machine, pc, -accel, tcg, -display, none, "
					  "-nodefaults, -no-reboot]\n"
					  "axes: {memory: [128M, 256M]}\n"
					  "run: {boots: 2, warmup: 1, timeout: 30s, reference: none}\n");
	char *argv[16] = { "run", m, "-o", dir, "--db", db }, *out;
	int k = 6;
	va_list ap;
	va_start(ap, words);
	for (char *a; k < 15 && (a = va_arg(ap, char *));)
		argv[k++] = a;
	va_end(ap);
	argv[k] = NULL;
	int rc = th_coldmark(tmp, &out, argv[0], argv[1], argv[2], argv[3], argv[4], argv[5], argv[6],
			  argv[7], argv[8], argv[9], NULL);
	if (rc != 2)
		fprintf(stderr, "exit %d:\n%s", rc, out);
	assert_int_equal(rc, 2);
	for (size_t i = 0; words[i]; i++)
		if (!strstr(out, words[i]))
			fail_msg("'%s' not said in:\n%s", words[i], out);
	assert_false(th_exists(dir));
	assert_false(th_exists(db));
	free(out), free(m), free(db), free(dir);
}

/* 10^4 sessions x 10^6 boots: was "out of memory" (SIGABRT) after the folder existed. */
static void test_plan_too_large(void **state)
{
	const char *const words[] = { "more than the 10000000 boots one run may hold",
				      "2 cases x (1000000 + 1 warm-up) boots x 10000 sessions", NULL };
	expect_no_plan("huge", words, "--sessions", "10000", "--boots", "1000000", NULL);
}

/* --replicate 1073741824/1073741825: boot numbers past INT_MAX (UBSan; 0 boots, exit 0). */
static void test_replicate_overflow(void **state)
{
	const char *const words[] = { "session 1073741825 numbers a case's boots past 2147483647",
				      NULL };
	expect_no_plan("overflow", words, "--replicate", "1073741824/1073741825", NULL);
}

/* --replicate auto in a stepped array (--array=0-20:10): task 10 is replicate 1 of 3 (it ran
 * session 11, "replicate 10/3"); a task id past the array, off its step, or of a sparse list
 * (whose ids are no range) is refused. */
static void test_replicate_auto_stepped(void **state)
{
	setenv("SLURM_ARRAY_JOB_ID", "77", 1);
	setenv("SLURM_ARRAY_TASK_MIN", "0", 1);
	setenv("SLURM_ARRAY_TASK_COUNT", "3", 1);
	setenv("SLURM_ARRAY_TASK_STEP", "10", 1);
	const char *const words[] = { "--replicate auto: SLURM_ARRAY_TASK_ID", "0 <= I < N", NULL };
	setenv("SLURM_ARRAY_TASK_ID", "30", 1);
	expect_no_plan("past", words, "--replicate", "auto", NULL);
	setenv("SLURM_ARRAY_TASK_ID", "15", 1);
	expect_no_plan("off-step", words, "--replicate", "auto", NULL);
	unsetenv("SLURM_ARRAY_TASK_STEP"); /* no step known: 10 of 3 is no task of this array */
	setenv("SLURM_ARRAY_TASK_ID", "10", 1);
	expect_no_plan("unstepped", words, "--replicate", "auto", NULL);
	setenv("SLURM_ARRAY_TASK_STEP", "1", 1); /* --array=0,1,7: sparse, no range */
	setenv("SLURM_ARRAY_TASK_MAX", "7", 1);
	setenv("SLURM_ARRAY_TASK_ID", "1", 1);
	expect_no_plan("sparse", words, "--replicate", "auto", NULL);
	setenv("SLURM_ARRAY_TASK_STEP", "10", 1); /* --array=0-20:10, task 10 */
	setenv("SLURM_ARRAY_TASK_MAX", "20", 1);
	setenv("SLURM_ARRAY_TASK_ID", "10", 1);
	char *dir = cm_xasprintf("%s/stepped", tmp), *db = cm_xasprintf("%s/stepped.db", tmp), *out;
	char *m = th_write_in(tmp, "stepped.yaml", "guest: {bundled: guest}\n"
					     "base_args: [-machine, pc, -accel, tcg, -display, none, "
					     "-nodefaults, -no-reboot]\n"
					     "run: {boots: 1, warmup: 0, timeout: 30s, reference: none}\n");
	int rc = th_coldmark(tmp, &out, "run", m, "-o", dir, "--db", db, "--replicate", "auto",
			NULL);
	if (rc)
		fprintf(stderr, "%s", out);
	assert_int_equal(rc, 0);
	char *meta = cm_xasprintf("%s/meta.csv", dir), *text = th_slurp(meta);
	assert_non_null(strstr(text, "\nreplicate,1/3\n"));
	assert_non_null(strstr(text, " first_session=2"));
	unsetenv("SLURM_ARRAY_TASK_ID"), unsetenv("SLURM_ARRAY_TASK_STEP");
	unsetenv("SLURM_ARRAY_TASK_MAX"), unsetenv("SLURM_ARRAY_TASK_MIN");
	unsetenv("SLURM_ARRAY_TASK_COUNT"), unsetenv("SLURM_ARRAY_JOB_ID");
	free(text), free(meta), free(out), free(m), free(db), free(dir);
}

int main(int argc, char **argv)
{
	const char *group = argc > 1 ? argv[1] : "";
	if (th_mkdtemp(tmp, sizeof(tmp), "resume-%s", group))
		return 1;
	setenv("COLDMARK_GUEST_DIR", GUEST_DIR, 1);
	unsetenv("COLDMARK_DB");
	unsetenv("SLURM_ARRAY_TASK_ID"), unsetenv("JOB_COMPLETION_INDEX");
	free(th_need_program("qemu-system-x86_64"));
	if (!strcmp(group, "resume")) {
		const struct CMUnitTest t[] = {
			cmocka_unit_test(test_resume_unchanged),
			cmocka_unit_test(test_resume_case_added),
			cmocka_unit_test(test_resume_base_args),
			cmocka_unit_test(test_resume_guest_image),
			cmocka_unit_test(test_resume_phases),
			cmocka_unit_test(test_resume_other_sqlite),
			cmocka_unit_test(test_resume_sqlite_to_postgresql),
			cmocka_unit_test(test_resume_postgresql_to_sqlite),
		};
		return cmocka_run_group_tests_name("resume", t, NULL, NULL);
	}
	if (!strcmp(group, "plan-limits")) {
		const struct CMUnitTest t[] = {
			cmocka_unit_test(test_plan_too_large),
			cmocka_unit_test(test_replicate_overflow),
			cmocka_unit_test(test_replicate_auto_stepped),
		};
		return cmocka_run_group_tests_name("plan-limits", t, NULL, NULL);
	}
	fprintf(stderr, "usage: test_resume resume|plan-limits\n");
	return 2;
}
