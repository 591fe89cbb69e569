/* coldmark's SQLite connections are opened SQLITE_OPEN_NOMUTEX (store7b, issue 25 item 6: the
 * serialized mode's connection mutex was ~8% of a boot's transaction). That is safe only while
 * no connection is used by two threads; these tests hold the store to it (real SQLite files):
 * - the connections of every kind (a writer's, a reader's) have no mutex: the flag is what
 *   the store chose, checked on the connection, not on the code that passes it;
 * - a store used from a thread other than its opener's refuses, with a message, before SQLite
 *   is called, and stays usable and whole for its own thread;
 * - a run in waves (fake launcher, waves of 3 boots, each launched from a thread of its own)
 *   stores every boot: the launches ran on threads other than the run's own (so the refusal
 *   above would have stopped the run, exit 4, had any of those threads used the store). */
#define _GNU_SOURCE
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <fcntl.h>
#include <pthread.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"
#include "coldmark/harness.h"
#include "coldmark/store.h"

#include "../store/driver.h"
#include "helpers.h"

static char tmp[256];
static const char *const PHASES[] = { "firmware", "work", "total" };

static struct cm_store *fresh(const char *name, struct cm_dataset *ds, char **path)
{
	return th_store_fresh(tmp, name, "run-t", ds, path);
}

/* boot b's rows into ds, then into the store; the store's answer */
static int boot(struct cm_store *s, struct cm_dataset *ds, int b)
{
	size_t from = ds->n;
	for (int p = 0; p < 3; p++)
		cm_dataset_add(ds, "variant=a", b, false, "ok", PHASES[p], 1e6 * (p + 1) + b, "perf",
			       "none");
	return cm_store_add_rows(s, "run-t", ds, from, ds->n);
}

/* Debian's libsqlite3 is serialized (SQLITE_THREADSAFE=1): a connection opened without
 * SQLITE_OPEN_NOMUTEX has a mutex (sqlite3_db_mutex), one opened with it has none. */
static void test_open_flags(void **state)
{
	(void)state;
	if (!sqlite3_threadsafe()) { /* no connection can have one: the check would say nothing */
		print_message("this libsqlite3 is built single-threaded (SQLITE_THREADSAFE=0)\n");
		skip();
	}
	struct cm_dataset ds;
	char *path;
	struct cm_store *w = fresh("flags", &ds, &path);
	if (sqlite3_db_mutex(w->db))
		fail_msg("a writer's connection has SQLite's mutex (opened without NOMUTEX)");
	struct cm_error err = { 0 };
	struct cm_store *r = cm_store_open_existing(path, &err);
	if (!r)
		fail_msg("%s: %s", path, err.msg);
	if (sqlite3_db_mutex(r->db))
		fail_msg("a reader's connection has SQLite's mutex (opened without NOMUTEX)");
	/* and a connection opened serialized has one: the check can see the difference (asked
	 * for, not the library's default, which SQLITE_THREADSAFE=2 makes multi-thread) */
	sqlite3 *plain;
	assert_int_equal(sqlite3_open_v2(path, &plain, SQLITE_OPEN_READWRITE | SQLITE_OPEN_FULLMUTEX,
					 NULL),
			 SQLITE_OK);
	assert_non_null(sqlite3_db_mutex(plain));
	sqlite3_close(plain);
	cm_store_close(r);
	cm_store_close(w);
	cm_dataset_free(&ds);
	free(path);
}

struct other {
	struct cm_store *s;
	struct cm_dataset *ds;
	int add_rc, version;
	char err[512];
};

static void *from_other_thread(void *arg)
{
	struct other *o = arg;
	o->add_rc = boot(o->s, o->ds, 2);
	snprintf(o->err, sizeof(o->err), "%s", cm_store_error(o->s));
	o->version = cm_store_version(o->s);
	return NULL;
}

/* Boot 1 from the opener's thread, boot 2 from another (refused: nothing of it stored), boot 3
 * from the opener's again (stored: the refusal left no transaction open). */
static void test_other_thread_refused(void **state)
{
	(void)state;
	struct cm_dataset ds;
	char *path;
	struct cm_store *s = fresh("other", &ds, &path);
	assert_int_equal(boot(s, &ds, 1), 0);
	struct other o = { .s = s, .ds = &ds };
	pthread_t th;
	assert_int_equal(pthread_create(&th, NULL, from_other_thread, &o), 0);
	pthread_join(th, NULL);
	if (o.add_rc == 0)
		fail_msg("a boot stored from a thread other than the store's opener");
	if (!strstr(o.err, "thread other than the one that opened it"))
		fail_msg("the refusal says: %s", o.err);
	assert_true(o.version < 0);
	if (boot(s, &ds, 3))
		fail_msg("boot 3 on the opener's thread: %s", cm_store_error(s));
	cm_store_close(s);
	assert_int_equal(th_sqlite_value(path, "SELECT COUNT(*) FROM samples WHERE run_id = 'run-t'"), 6);
	assert_int_equal(th_sqlite_value(path, "SELECT COUNT(*) FROM samples WHERE boot = 2"), 0);
	assert_int_equal(th_sqlite_value(path, "SELECT samples FROM runs WHERE id = 'run-t'"), 6);
	cm_dataset_free(&ds);
	free(path);
}

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_t run_thread;
static int launches, launched_elsewhere;

static int fake_launch(const struct cm_launch *l, struct cm_events *ev, struct cm_exit *ex)
{
	memset(ex, 0, sizeof(*ex));
	int fd = open(l->log_path, O_WRONLY | O_CREAT | O_TRUNC | O_APPEND | O_CLOEXEC, 0644);
	assert_true(fd >= 0);
	close(fd);
	ex->launched = true;
	int64_t t = cm_now_ns();
	th_fake_guest_boot(l, ev, ex, t);
	pthread_mutex_lock(&lock);
	launches++;
	launched_elsewhere += !pthread_equal(pthread_self(), run_thread);
	pthread_mutex_unlock(&lock);
	return 0;
}

/* A run in waves of 3 (2 cases, 6 boots and a warm-up each: 14 launches) into a SQLite store. */
static void test_run_in_waves(void **state)
{
	(void)state;
	char *mx = th_write_matrix(tmp, "waves",
				   "qemu: /bin/true\nguest: {bundled: guest}\nbase_args: [-accel, tcg]\n"
				   "axes: {smp: [1, 2]}\n"
				   "run: {boots: 6, warmup: 1, drop_caches: false, exit_status: 33, "
				   "reference: none, concurrency: 3}\n");
	char *dir = cm_xasprintf("%s/waves", tmp), *db = cm_xasprintf("%s/waves.db", tmp);
	char *argv[] = { mx, "-o", dir, "--db", db };
	struct cm_cli cli;
	assert_int_equal(cm_cli_parse(cm_command("run"), 5, argv, &cli), 0);
	run_thread = pthread_self();
	launches = launched_elsewhere = 0;
	int saved = th_stdout_off();
	int rc = cm_run(&cli, fake_launch);
	th_stdout_on(saved);
	if (rc)
		fail_msg("the run in waves ended %d (4: the store refused a use from another thread; "
			 "its output: %s/waves)", rc, tmp);
	assert_int_equal(launches, 14);
	/* the launches ran on the waves' threads: had one of them used the store, it would
	 * have been refused (test_other_thread_refused) and the run stopped */
	if (launched_elsewhere < 12)
		fail_msg("%d of %d launches on threads of their own: the run did not use its "
			 "threads, the test says nothing", launched_elsewhere, launches);
	assert_int_equal(th_sqlite_value(db, "SELECT COUNT(DISTINCT case_id || '/' || boot) FROM samples "
				   "WHERE warmup = 0"), 12);
	free(db), free(dir), free(mx);
}

int main(void)
{
	if (th_mkdtemp(tmp, sizeof(tmp), "storethread"))
		return 1;
	const struct CMUnitTest t[] = { cmocka_unit_test(test_open_flags),
					cmocka_unit_test(test_other_thread_refused),
					cmocka_unit_test(test_run_in_waves) };
	int rc = cmocka_run_group_tests_name("store-thread", t, NULL, NULL);
	if (!rc)
		th_rm_rf(tmp);
	return rc;
}
