/* The tests' shared scaffolding (see helpers.h): each fixture once, not once per test file. */
#define _GNU_SOURCE
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <errno.h>
#include <math.h>
#include <fcntl.h>
#include <linux/kvm.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <sqlite3.h>

#include "cli.h"
#include "coldmark/capture.h"
#include "coldmark/harness.h"
#include "coldmark/store.h"
#include "coldmark/util.h"
#include "helpers.h"

/* ---- folders -------------------------------------------------------------------------------- */

int th_mkdtemp(char *buf, size_t size, const char *fmt, ...)
{
	char name[128];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(name, sizeof(name), fmt, ap);
	va_end(ap);
	snprintf(buf, size, "/tmp/coldmark-%s-XXXXXX", name);
	return mkdtemp(buf) ? 0 : -1;
}

int th_rm_rf(const char *path)
{
	char *argv[] = { "rm", "-rf", (char *)path, NULL };
	return th_run(argv, NULL);
}

static const char *at_exit_dir;
static pid_t at_exit_owner;

static void remove_at_exit(void)
{
	if (getpid() != at_exit_owner) /* a forked child that returned instead of _exit */
		return;
	if (getenv("COLDMARK_KEEP_TMP")) {
		printf("kept %s (COLDMARK_KEEP_TMP)\n", at_exit_dir);
		return;
	}
	fflush(stdout);
	if (th_rm_rf(at_exit_dir))
		printf("could not remove %s\n", at_exit_dir);
}

void th_remove_at_exit(const char *dir)
{
	at_exit_dir = dir;
	at_exit_owner = getpid();
	atexit(remove_at_exit);
}

bool th_exists(const char *path)
{
	struct stat sb;
	return lstat(path, &sb) == 0;
}

/* ---- files ---------------------------------------------------------------------------------- */

char *th_slurp_len(const char *path, size_t *len)
{
	char *s = cm_read_file(path, len);
	if (!s)
		*len = 0;
	return s ? s : cm_xstrdup("");
}

char *th_slurp(const char *path)
{
	size_t len;
	return th_slurp_len(path, &len);
}

size_t th_count(const char *hay, const char *needle)
{
	size_t n = 0;
	for (const char *p = hay; (p = strstr(p, needle)); p += strlen(needle))
		n++;
	return n;
}

void th_write(const char *path, const char *text, mode_t mode)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, mode);
	if (fd < 0)
		fail_msg("%s: %s", path, strerror(errno));
	size_t len = strlen(text);
	if (write(fd, text, len) != (ssize_t)len || fchmod(fd, mode))
		fail_msg("%s: %s", path, strerror(errno));
	close(fd);
}

char *th_write_in(const char *dir, const char *name, const char *text)
{
	char *path = cm_xasprintf("%s/%s", dir, name);
	th_write(path, text, 0644);
	return path;
}

char *th_write_matrix(const char *dir, const char *name, const char *body)
{
	char *file = cm_xasprintf("%s.yaml", name), *path = th_write_in(dir, file, body);
	free(file);
	return path;
}

/* ---- processes ------------------------------------------------------------------------------ */

/* argv started with its stdout into out_path and its stderr into err_path (the same file when
 * they are the same path; NULL: this process's own), in folder cwd (NULL: this one). */
static pid_t spawn(char *const argv[], const char *out_path, const char *err_path, const char *cwd)
{
	fflush(stdout), fflush(stderr); /* nothing buffered is written twice by the child */
	pid_t pid = fork();
	if (pid == 0) {
		int fd = out_path ? open(out_path, O_WRONLY | O_CREAT | O_TRUNC, 0644) : 1;
		int fe = !err_path ? 2 : err_path == out_path ? fd
				   : open(err_path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
		if (fd < 0 || fe < 0)
			_exit(126);
		dup2(fd, 1);
		dup2(fe, 2);
		if (cwd && chdir(cwd))
			_exit(126);
		execvp(argv[0], argv);
		_exit(127);
	}
	return pid;
}

pid_t th_start_in(char *const argv[], const char *out_path, const char *cwd)
{
	return spawn(argv, out_path, out_path, cwd);
}

pid_t th_start(char *const argv[], const char *out_path)
{
	return th_start_in(argv, out_path, NULL);
}

pid_t th_start_split(char *const argv[], const char *out_path, const char *err_path)
{
	return spawn(argv, out_path, err_path, NULL);
}

int th_finish(pid_t pid)
{
	int st;
	if (waitpid(pid, &st, 0) < 0)
		return -1;
	return WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
}

int th_run_signal(char *const argv[], const char *out_path, int sig, int after_ms)
{
	pid_t pid = th_start(argv, out_path);
	if (after_ms > 0) {
		usleep(after_ms * 1000);
		kill(pid, sig);
	}
	return th_finish(pid);
}

int th_run(char *const argv[], const char *out_path)
{
	return th_finish(th_start(argv, out_path));
}

int th_run_out(char *const argv[], const char *out_path, char **out)
{
	int rc = th_run(argv, out_path);
	*out = th_slurp(out_path);
	return rc;
}

int th_run_stdout(char *const argv[], const char *out_path, char **out)
{
	int rc = th_finish(spawn(argv, out_path, NULL, NULL));
	*out = th_slurp(out_path);
	return rc;
}

const char *th_coldmark_bin(void)
{
	const char *other = getenv("COLDMARK_TEST_BIN");
	return other ? other : COLDMARK_BIN;
}

int th_coldmark(const char *dir, char **out, ...)
{
	static int nruns;
	char *argv[64] = { COLDMARK_BIN };
	va_list ap;
	va_start(ap, out);
	for (int k = 1; k < 63 && (argv[k] = va_arg(ap, char *)); k++)
		;
	va_end(ap);
	char *path = cm_xasprintf("%s/coldmark-%d.out", dir, ++nruns);
	int rc = th_run_out(argv, path, out);
	free(path);
	return rc;
}

int th_stdout_off(void)
{
	fflush(stdout);
	int saved = dup(1), fd = open("/dev/null", O_WRONLY | O_CLOEXEC);
	dup2(fd, 1);
	close(fd);
	return saved;
}

void th_stdout_on(int saved)
{
	fflush(stdout);
	dup2(saved, 1);
	close(saved);
}

/* ---- a run of recorded boots ---------------------------------------------------------------- */

static struct cm_capture *replay;

/* The launcher of a replayed run: the boot's case played from the recording, as if qemu had
 * run it and exited with the guest's status. */
static int replay_launch(const struct cm_launch *l, struct cm_events *ev, struct cm_exit *ex)
{
	memset(ex, 0, sizeof(*ex));
	int c = (int)l->boot->c;
	assert_int_equal(cm_replay_boot(replay, (size_t)c, ev), 0);
	ex->launched = true;
	ex->status = (int)l->m->exit_status;
	return 0;
}

char *th_replay_run(const char *matrix, const char *events, const char *raw, const char *formats,
		    const char *out_dir, const char *db, const char *tag)
{
	struct cm_diags d = { 0 };
	struct cm_matrix *mx = cm_matrix_load(matrix, &d);
	assert_non_null(mx);
	replay = cm_replay_source(events, mx);
	assert_int_equal(cm_replay_profile(replay, raw, formats), 0);
	char *argv[] = { (char *)matrix, "-o", (char *)out_dir, "--db", (char *)db, "--tag",
			 (char *)tag };
	struct cm_cli cli;
	assert_int_equal(cm_cli_parse(cm_command("run"), tag ? 7 : 5, argv, &cli), 0);
	int saved = th_stdout_off();
	int rc = cm_run(&cli, replay_launch);
	th_stdout_on(saved);
	assert_int_equal(rc, 0);
	char *path = cm_xasprintf("%s/profile.csv", out_dir), *csv = th_slurp(path);
	cm_capture_free(replay);
	replay = NULL;
	cm_matrix_free(mx);
	cm_diags_clear(&d);
	free(path);
	return csv;
}

char *th_guest_run(const char *dir, const char *guest, const char *name, ...)
{
	char *yaml = cm_xasprintf(
		"guest: {bundled: %s}\n"
		"base_args: [-machine, pc, -display, none, -nodefaults, -no-reboot]\n"
		"axes: {accel: [kvm]}\n"
		"phases:\n"
		"  - {name: firmware, from: exec, to: real_mode}\n"
		"  - {name: mode_switch, from: real_mode, to: long_mode}\n"
		"  - {name: work, from: long_mode, to: work_done}\n"
		"run: {boots: 5, warmup: 1, reference: none, drop_caches: false}\n", guest);
	char *mpath = cm_xasprintf("%s/%s.yaml", dir, name), *out = cm_xasprintf("%s/%s", dir, name);
	th_write(mpath, yaml, 0644);
	char *argv[64] = { COLDMARK_BIN, "run", mpath, "-o", out };
	va_list ap;
	va_start(ap, name);
	for (int k = 5; k < 63 && (argv[k] = va_arg(ap, char *)); k++)
		;
	va_end(ap);
	char *path = cm_xasprintf("%s/out.txt", dir), *o = NULL;
	assert_int_equal(th_run_stdout(argv, path, &o), 0);
	free(o), free(path), free(yaml), free(mpath);
	return out;
}

/* ---- the host, the groups ------------------------------------------------------------------- */

bool th_kvm_ok(void)
{
	int fd = open("/dev/kvm", O_RDWR | O_CLOEXEC);
	if (fd < 0)
		return false;
	int vm = ioctl(fd, KVM_CREATE_VM, 0);
	close(fd);
	if (vm < 0)
		return false;
	close(vm);
	return true;
}

void th_skip_group(const char *why)
{
	printf("SKIP: %s\n", why);
	exit(77);
}

char *th_need_program(const char *name)
{
	char *path = cm_which(name);
	if (!path) {
		char *why = cm_xasprintf("%s is not installed", name);
		th_skip_group(why);
	}
	return path;
}

/* ---- PostgreSQL ----------------------------------------------------------------------------- */

PGconn *th_pg_connect(const char *conninfo)
{
	PGconn *c = PQconnectdb(conninfo);
	if (PQstatus(c) != CONNECTION_OK)
		fail_msg("connect: %s", PQerrorMessage(c));
	return c;
}

void th_pg_exec(PGconn *c, const char *q)
{
	PGresult *r = PQexec(c, q);
	if (PQresultStatus(r) != PGRES_COMMAND_OK && PQresultStatus(r) != PGRES_TUPLES_OK)
		fail_msg("%s: %s", q, PQresultErrorMessage(r));
	PQclear(r);
}

char *th_pg_schema(const char *base, const char *name)
{
	PGconn *c = th_pg_connect(base);
	char *q = cm_xasprintf("SET client_min_messages = warning; DROP SCHEMA IF EXISTS %s "
			       "CASCADE; CREATE SCHEMA %s;", name, name);
	th_pg_exec(c, q);
	free(q);
	PQfinish(c);
	return cm_xasprintf("%s%soptions=-csearch_path%%3D%s", base, strchr(base, '?') ? "&" : "?",
			    name);
}

/* The first value of q's first row; has_row says whether there was one. */
static char *pg_first(const char *conninfo, const char *q, const char *arg, bool *has_row)
{
	PGconn *c = th_pg_connect(conninfo);
	const char *p[] = { arg };
	PGresult *r = arg ? PQexecParams(c, q, 1, NULL, p, NULL, NULL, 0) : PQexec(c, q);
	if (PQresultStatus(r) != PGRES_TUPLES_OK)
		fail_msg("%s: %s", q, PQresultErrorMessage(r));
	*has_row = PQntuples(r) > 0;
	char *v = cm_xstrdup(*has_row && !PQgetisnull(r, 0, 0) ? PQgetvalue(r, 0, 0) : "");
	PQclear(r);
	PQfinish(c);
	return v;
}

char *th_pg_text(const char *conninfo, const char *q, const char *arg)
{
	bool has_row;
	return pg_first(conninfo, q, arg, &has_row);
}

long long th_pg_scalar(const char *conninfo, const char *q, const char *arg)
{
	bool has_row;
	char *v = pg_first(conninfo, q, arg, &has_row);
	long long n = has_row ? atoll(v) : -1;
	free(v);
	return n;
}

/* ---- a report, written in memory ------------------------------------------------------------ */

char *th_render(const struct cm_report *r, enum th_writer w)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);
	switch (w) {
	case TH_SUMMARY_CSV: cm_report_summary_csv(r, f); break;
	case TH_MARKDOWN: cm_report_markdown(r, f); break;
	case TH_JSON: cm_report_json(r, f); break;
	case TH_SAMPLES:
		cm_samples_write_header(f, r->ds);
		for (size_t i = 0; i < r->ds->n; i++)
			cm_samples_write_row(f, r->ds, &r->ds->rows[i]);
		break;
	case TH_HTML: cm_report_html(r, f); break;
	case TH_TERMINAL: cm_report_terminal(r, "total", f); break;
	}
	fclose(f);
	return buf;
}

char *th_render_compare(const struct cm_cmp_result *r, const char *fmt)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);
	cm_cmp_writer(fmt)->write(r, f);
	fclose(f);
	return buf;
}

/* ---- a store, as another program sees it ---------------------------------------------------- */

void th_store_exec(const char *target, const char *sql)
{
	if (cm_store_is_url(target)) {
		PGconn *c = th_pg_connect(target);
		th_pg_exec(c, sql);
		PQfinish(c);
		return;
	}
	sqlite3 *db;
	char *msg = NULL;
	if (sqlite3_open(target, &db) != SQLITE_OK)
		fail_msg("%s: %s", target, sqlite3_errmsg(db));
	if (sqlite3_exec(db, sql, NULL, NULL, &msg) != SQLITE_OK)
		fail_msg("%s: %s", sql, msg);
	sqlite3_close(db);
}

void th_fake_guest_boot(const struct cm_launch *l, struct cm_events *ev, struct cm_exit *ex,
			int64_t t)
{
	unsigned port = l->m->ports[0];
	cm_events_add(ev, CM_EVENT_EXEC, t, 0, 0);
	cm_events_add_marker(ev, l->m, t + 1000000, port, 0x10);
	cm_events_add_marker(ev, l->m, t + 2000000, port, 0x20);
	cm_events_add_marker(ev, l->m, t + 3000000, port, 0x30);
	cm_events_add(ev, CM_EVENT_EXIT, t + 4000000, 0, 0);
	ex->status = 33;
}

long long th_sqlite_value(const char *path, const char *sql)
{
	sqlite3 *db;
	sqlite3_stmt *st;
	assert_int_equal(sqlite3_open_v2(path, &db, SQLITE_OPEN_READONLY, NULL), SQLITE_OK);
	if (sqlite3_prepare_v2(db, sql, -1, &st, NULL) != SQLITE_OK)
		fail_msg("%s: %s", sql, sqlite3_errmsg(db));
	assert_int_equal(sqlite3_step(st), SQLITE_ROW);
	long long v = sqlite3_column_int64(st, 0);
	sqlite3_finalize(st);
	sqlite3_close(db);
	return v;
}

char *th_cpu_report_run(const char *dir, int boots, const char *const *keys, size_t n,
			long long *v)
{
	char *yaml = cm_xasprintf("qemu: /bin/true\nguest: {bundled: guest}\nrun: {boots: %d, "
				  "warmup: 0, drop_caches: false, reference: none}\n",
				  boots);
	char *m = th_write_in(dir, "cpu.yaml", yaml);
	char *report = cm_xasprintf("%s/cpu.txt", dir), *run = cm_xasprintf("%s/cpu-run", dir);
	char *db = cm_xasprintf("%s/cpu.db", dir), *out;
	setenv("COLDMARK_CPU_REPORT", report, 1);
	int rc = th_coldmark(dir, &out, "run", m, "-o", run, "--db", db, NULL);
	unsetenv("COLDMARK_CPU_REPORT");
	free(out);
	assert_true(rc != 127 && rc < 128); /* the boots failed (no markers), coldmark did not */
	char *line = th_slurp(report), *padded = cm_xasprintf(" %s", line); /* every key after a space */
	for (size_t k = 0; k < n; k++) {
		char *key = cm_xasprintf(" %s_ns=", keys[k]), *at = strstr(padded, key);
		if (!at)
			fail_msg("no %s in %s", key, line);
		v[k] = strtoll(at + strlen(key), NULL, 10);
		free(key);
	}
	free(padded), free(report), free(run), free(db), free(m), free(yaml);
	return line;
}

struct cm_store *th_store_fresh(const char *dir, const char *name, const char *run_id,
				struct cm_dataset *ds, char **path)
{
	*path = cm_xasprintf("%s/%s.db", dir, name);
	struct cm_error err = { 0 };
	struct cm_store *s = cm_store_open(*path, &err);
	if (!s)
		fail_msg("%s: %s", *path, err.msg);
	char *axes[] = { "variant" }, *la[] = { "a" };
	cm_dataset_init(ds, axes, 1);
	cm_dataset_case(ds, "variant=a", la);
	cm_dataset_meta(ds, "date", "2026-12-06 12:00:00 +0000");
	cm_dataset_meta(ds, "host", "h1");
	assert_int_equal(cm_store_begin_run(s, run_id, "t", ds), 0);
	cm_dataset_session(ds, "1", "h1");
	return s;
}

struct th_hold th_hold_target(const char *target)
{
	struct th_hold h = { 0 };
	if (!cm_store_is_url(target)) {
		sqlite3 *db = NULL;
		assert_int_equal(sqlite3_open(target, &db), SQLITE_OK);
		/* writers opening the store meanwhile (its schema check) hold its lock a moment */
		sqlite3_busy_timeout(db, 10000);
		assert_int_equal(sqlite3_exec(db, "BEGIN IMMEDIATE", NULL, NULL, NULL), SQLITE_OK);
		h.lite = db;
		return h;
	}
	h.pg = th_pg_connect(target);
	PGresult *r = PQexec(h.pg, "BEGIN; LOCK TABLE samples IN EXCLUSIVE MODE");
	assert_int_equal(PQresultStatus(r), PGRES_COMMAND_OK);
	PQclear(r);
	return h;
}

void th_release(struct th_hold *h)
{
	if (h->lite) {
		sqlite3_exec(h->lite, "COMMIT", NULL, NULL, NULL);
		sqlite3_close(h->lite);
	} else if (h->pg) {
		PQclear(PQexec(h->pg, "COMMIT"));
		PQfinish(h->pg);
	}
	*h = (struct th_hold){ 0 };
}

double th_cpu_s(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

double th_least_cpu(void (*f)(size_t), size_t n)
{
	double best = INFINITY;
	for (int r = 0; r < 3; r++) {
		double t0 = th_cpu_s();
		f(n);
		double t = th_cpu_s() - t0;
		best = t < best ? t : best;
	}
	return best;
}

void th_growth(const char *what, void (*f)(size_t), size_t n)
{
	double a = th_least_cpu(f, n), b = th_least_cpu(f, 4 * n),
	       ratio = b / (a > 1e-4 ? a : 1e-4);
	print_message("%s: n %zu %.4f s, 4n %.4f s, ratio %.1f (n log n ~4.5, n^2 16)\n", what, n, a,
		      b, ratio);
	assert_true(ratio < 10);
}

/* ---- a run killed, and what its journal and store hold ---------------------------------------- */

long long th_journal_rows(const char *dir)
{
	char *p = cm_xasprintf("%s/samples.csv", dir), *text = th_exists(p) ? th_slurp(p) : NULL;
	long long n = text ? (long long)th_count(text, "\n") - 1 : 0;
	free(p), free(text);
	return n;
}

void th_run_killed_at(const char *m, const char *dir, const char *db, long long rows, int ms)
{
	char *log = cm_xasprintf("%s.out", dir);
	char *argv[] = { (char *)th_coldmark_bin(), "run", (char *)m, "-o", (char *)dir, "--db",
			 (char *)db, NULL };
	pid_t pid = th_start(argv, log);
	int64_t t0 = cm_now_ns();
	for (int i = 0; i < 6000 && (th_journal_rows(dir) < rows || cm_now_ns() - t0 < ms * 1000000LL);
	     i++) {
		if (waitpid(pid, NULL, WNOHANG) == pid)
			fail_msg("coldmark ended before it was killed: %s", th_slurp(log));
		usleep(5000);
	}
	kill(pid, SIGKILL);
	assert_int_equal(th_finish(pid), 128 + SIGKILL);
	free(log);
}

static int th_by_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

char **th_dataset_lines(const struct cm_dataset *ds)
{
	char **l = cm_xcalloc(ds->n + 1, sizeof(char *));
	struct cm_strset seen = { 0 };
	char **keys = cm_xcalloc(ds->n + 1, sizeof(char *));
	long *count = cm_xcalloc(ds->n + 1, sizeof(long));
	size_t nk = 0;
	for (size_t i = 0; i < ds->n; i++) {
		const struct cm_sample_row *r = &ds->rows[i];
		int kind = cm_row_kind(r);
		char *k = cm_xasprintf("%s|%s|%s|%d", r->case_id, r->phase,
				       ds->sessions[r->session - 1].id, kind);
		long at = cm_strset_find(&seen, k);
		if (at < 0) {
			at = (long)nk;
			keys[nk++] = k;
			cm_strset_add(&seen, k, at);
		} else {
			free(k);
		}
		l[i] = cm_xasprintf("%s|%06ld|%.17g", keys[at], count[at]++,
				    kind == CM_ROW_MEASURED ? r->duration_ns : NAN);
	}
	for (size_t i = 0; i < nk; i++)
		free(keys[i]);
	free(keys), free(count);
	cm_strset_free(&seen);
	qsort(l, ds->n, sizeof(char *), th_by_str);
	return l;
}
