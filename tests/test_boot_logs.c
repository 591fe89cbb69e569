/* The boots' logs (issue 25 item 6: no log made and unlinked at every ok boot). A fake launcher
 * writes "boot CASE-BOOT" into the log it is given, as qemu's output would be, and fails the
 * boots it is told to. After the run logs/ holds the failed boots' logs, each by its own name
 * and with its own boot's text alone (not an earlier boot's), nothing else (no running*.log
 * left); with --keep-logs every boot's. Sequential and in waves of three. And the journals
 * written from buffers reused between boots hold each boot's rows alone. */
#define _GNU_SOURCE
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <dirent.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"
#include "coldmark/harness.h"
#include "helpers.h"

static char tmp[256];
static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static char *first_path;     /* the first ok boot's log path (no wave: every ok boot's) */
static int same_path, oks;   /* ok boots launched on first_path, ok boots launched */

static bool fails(const struct cm_planned *b)
{
	return !b->warmup && (b->boot == 2 || b->boot == 5) && b->c == 1;
}

static int fake_launch(const struct cm_launch *l, struct cm_events *ev, struct cm_exit *ex)
{
	memset(ex, 0, sizeof(*ex));
	/* as launch.c opens it: created or emptied, appended to */
	int fd = open(l->log_path, O_WRONLY | O_CREAT | O_TRUNC | O_APPEND | O_CLOEXEC, 0644);
	assert_true(fd >= 0);
	dprintf(fd, "boot %zu-%s%d\n", l->boot->c, l->boot->warmup ? "w" : "b", l->boot->boot);
	close(fd);
	ex->launched = true;
	int64_t t = cm_now_ns();
	unsigned port = l->m->ports[0];
	cm_events_add(ev, CM_EVENT_EXEC, t, 0, 0);
	cm_events_add_marker(ev, l->m, t + 1000000, port, 0x10);
	if (!fails(l->boot)) { /* a failed boot has fewer events: its rows are shorter than the last */
		cm_events_add_marker(ev, l->m, t + 2000000, port, 0x20);
		cm_events_add_marker(ev, l->m, t + 3000000, port, 0x30);
	}
	cm_events_add(ev, CM_EVENT_EXIT, t + 4000000, 0, 0);
	ex->status = fails(l->boot) ? 1 : 33; /* exit_status: 33 is ok */
	pthread_mutex_lock(&lock);
	if (!fails(l->boot)) {
		oks++;
		if (!first_path)
			first_path = cm_xstrdup(l->log_path);
		same_path += !strcmp(first_path, l->log_path);
	}
	pthread_mutex_unlock(&lock);
	return 0;
}

static const char *db_of; /* the store's name when not the run's */

static int run(const char *out, const char *extra_run, const char *flag)
{
	char *text = cm_xasprintf("qemu: /bin/true\nguest: {bundled: guest}\nbase_args: [-accel, tcg]\n"
				  "axes: {smp: [1, 2]}\n"
				  "run: {boots: 6, warmup: 1, drop_caches: false, exit_status: 33, "
				  "reference: none%s}\n", extra_run);
	char *mx = th_write_matrix(tmp, out, text);
	char *dir = cm_xasprintf("%s/%s", tmp, out);
	char *db = cm_xasprintf("%s/%s.db", tmp, db_of ? db_of : out);
	char *argv[8] = { mx, "-o", dir, "--db", db };
	int argc = 5;
	if (flag)
		argv[argc++] = (char *)flag;
	struct cm_cli cli;
	assert_int_equal(cm_cli_parse(cm_command("run"), argc, argv, &cli), 0);
	free(first_path);
	first_path = NULL;
	same_path = oks = 0;
	int saved = th_stdout_off();
	int rc = cm_run(&cli, fake_launch);
	th_stdout_on(saved);
	free(db), free(dir), free(mx), free(text);
	return rc;
}

/* logs/ of run OUT: the failed boots' logs (all: every boot's), each with its boot's line alone. */
static void check_logs(const char *out, bool all)
{
	char *p = cm_xasprintf("%s/%s/logs", tmp, out);
	DIR *d = opendir(p);
	assert_non_null(d);
	size_t n = 0;
	for (struct dirent *e; (e = readdir(d));) {
		if (e->d_name[0] == '.')
			continue;
		size_t c;
		char kind;
		int boot;
		if (sscanf(e->d_name, "%zu-%c%d.log", &c, &kind, &boot) != 3)
			fail_msg("logs/%s: not a boot's log", e->d_name);
		struct cm_planned b = { .c = c, .boot = boot, .warmup = kind == 'w' };
		if (!all && !fails(&b))
			fail_msg("logs/%s: an ok boot's log kept", e->d_name);
		char *f = cm_xasprintf("%s/%s", p, e->d_name), *text = th_slurp(f);
		char *want = cm_xasprintf("boot %.*s\n", (int)strlen(e->d_name) - 4, e->d_name);
		assert_string_equal(text, want); /* its own boot's output, nothing before it */
		free(f), free(text), free(want);
		n++;
	}
	closedir(d);
	assert_int_equal(n, all ? 2 * 7 : 2); /* 2 cases x (6 + 1 warm-up); or c1's b2 and b5 */
	free(p);
}

/* The journals formatted in buffers reused from boot to boot: a boot with fewer events than
 * the one before writes its own rows alone (no tail of the earlier boot's). events.csv: the
 * header, 5 events an ok boot (exec, 3 markers, exit), 3 a failed one, and in waves each boot's
 * "wave" (extra 1); each line 8 fields. */
static void check_journals(const char *out, size_t extra)
{
	char *p = cm_xasprintf("%s/%s/events.csv", tmp, out), *text = th_slurp(p);
	size_t lines = 0;
	for (char *line = text, *nl; (nl = strchr(line, '\n')); line = nl + 1, lines++) {
		size_t commas = 0;
		for (char *c = line; c < nl; c++)
			commas += *c == ',';
		assert_int_equal(commas, 7);
	}
	assert_int_equal(text[strlen(text) - 1], '\n');
	assert_int_equal(lines, 1 + 12 * (5 + extra) + 2 * (3 + extra));
	free(p), free(text);
	p = cm_xasprintf("%s/%s/samples.csv", tmp, out);
	struct cm_dataset ds;
	struct cm_diags d = { 0 };
	assert_int_equal(cm_samples_read(p, &ds, &d), 0);
	size_t total = cm_dataset_find_phase(&ds, "total"), boots = 0;
	for (size_t i = 0; i < ds.n; i++)
		boots += ds.rows[i].phase_idx == total;
	assert_int_equal(boots, 2 * 7);
	cm_dataset_free(&ds);
	cm_diags_clear(&d);
	free(p);
}

static void test_sequential(void **state)
{
	(void)state;
	assert_int_equal(run("seq", "", NULL), 1); /* failed boots: exit 1 */
	check_logs("seq", false);
	check_journals("seq", 0);
	/* the ok boots wrote one reused log, not one made and unlinked each */
	assert_int_equal(oks, 2 * 7 - 2);
	assert_int_equal(same_path, oks);
}

static void test_waves(void **state)
{
	(void)state;
	assert_int_equal(run("waves", ", concurrency: 3", NULL), 1);
	check_logs("waves", false);
	check_journals("waves", 1);
}

static void test_keep_logs(void **state)
{
	(void)state;
	assert_int_equal(run("keep", "", "--keep-logs"), 1);
	check_logs("keep", true);
	assert_int_equal(run("keepw", ", concurrency: 3", "--keep-logs"), 1);
	check_logs("keepw", true);
}

/* A boot the store refuses stops the run (exit 4) after it was launched and wrote its output:
 * its log is kept by its own name with that output (it was emptied as if never launched).
 * The store then takes a batch a boot (COLDMARK_BATCH_MS=0): in batches of a second
 * the refused batch's boots are named (test_store_batch) and the log kept is the boot's
 * whose end sent the batch. */
static void check_refused(const char *out, const char *extra_run)
{
	db_of = "refusing";
	char *db = cm_xasprintf("%s/refusing.db", tmp);
	if (!th_exists(db)) { /* a store made by a first run, then told to refuse boot 3 */
		assert_int_equal(run("refusing-first", "", NULL), 1);
		th_store_exec(db, "CREATE TRIGGER refuse BEFORE INSERT ON samples WHEN NEW.boot = 3 "
				  "BEGIN SELECT RAISE(ABORT, 'refused'); END");
	}
	setenv("COLDMARK_BATCH_MS", "0", 1);
	assert_int_equal(run(out, extra_run, NULL), 4);
	unsetenv("COLDMARK_BATCH_MS");
	db_of = NULL;
	char *p = cm_xasprintf("%s/%s/logs", tmp, out);
	DIR *d = opendir(p);
	assert_non_null(d);
	size_t refused = 0;
	for (struct dirent *e; (e = readdir(d));) {
		size_t c;
		int boot;
		if (sscanf(e->d_name, "%zu-b%d.log", &c, &boot) != 2 || boot != 3)
			continue;
		char *f = cm_xasprintf("%s/%s", p, e->d_name), *text = th_slurp(f);
		char *want = cm_xasprintf("boot %zu-b3\n", c);
		assert_string_equal(text, want);
		free(f), free(text), free(want);
		refused++;
	}
	closedir(d);
	assert_true(refused >= 1);
	free(p), free(db);
}

static void test_refused_boot_keeps_its_log(void **state)
{
	(void)state;
	check_refused("refused", "");
	check_refused("refusedw", ", concurrency: 3");
}

int main(void)
{
	if (th_mkdtemp(tmp, sizeof(tmp), "bootlogs"))
		return 1;
	const struct CMUnitTest t[] = { cmocka_unit_test(test_sequential),
					cmocka_unit_test(test_waves),
					cmocka_unit_test(test_keep_logs),
					cmocka_unit_test(test_refused_boot_keeps_its_log) };
	int rc = cmocka_run_group_tests_name("boot-logs", t, NULL, NULL);
	th_rm_rf(tmp);
	return rc;
}
