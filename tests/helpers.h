/* What the tests share: a test's temporary folder, a program run with its output and exit
 * status, a file read or written, the host's KVM, a group skipped, and statements to a
 * PostgreSQL server. One copy here (libcm_testhelpers), linked into every test program.
 * Failures inside are cmocka failures of the calling test (fail_msg). */
#ifndef COLDMARK_TESTS_HELPERS_H
#define COLDMARK_TESTS_HELPERS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include <libpq-fe.h>

#include "coldmark/report.h"

/* ---- folders -------------------------------------------------------------------------------- */

/* Makes /tmp/coldmark-NAME-XXXXXX into buf (size bytes), NAME as printf makes it of fmt; 0, or
 * -1 when it cannot. */
int th_mkdtemp(char *buf, size_t size, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
/* rm -rf path, by argv; its exit status. */
int th_rm_rf(const char *path);
/* Removes dir when this process exits (not in the children it forks), unless
 * COLDMARK_KEEP_TMP is set (then says it kept it). dir must outlive the process. */
void th_remove_at_exit(const char *dir);
/* Something is at path (a link, dangling or not, included). */
bool th_exists(const char *path);

/* ---- files ---------------------------------------------------------------------------------- */

/* The whole file as a string, "" when it cannot be read (to free). */
char *th_slurp(const char *path);
/* The same with its length (a file may hold NUL bytes). */
char *th_slurp_len(const char *path, size_t *len);
/* How many times needle stands in hay (not overlapping). */
size_t th_count(const char *hay, const char *needle);
/* Writes text to path with mode (fails the test when it cannot). */
void th_write(const char *path, const char *text, mode_t mode);
/* Writes text to dir/name (mode 0644); the path (to free). */
char *th_write_in(const char *dir, const char *name, const char *text);
/* A matrix: body into dir/NAME.yaml; the path (to free). */
char *th_write_matrix(const char *dir, const char *name, const char *body);

/* ---- processes ------------------------------------------------------------------------------ */

/* Starts argv (PATH searched when argv[0] has no /) with stdout and stderr into out_path
 * (truncated; NULL: this process's own). */
pid_t th_start(char *const argv[], const char *out_path);
/* The same in folder cwd (126 when the child cannot open out_path or enter cwd). */
pid_t th_start_in(char *const argv[], const char *out_path, const char *cwd);
/* Starts argv with its stdout into out_path and its stderr into err_path (each truncated). */
pid_t th_start_split(char *const argv[], const char *out_path, const char *err_path);
/* Waits for pid: its exit status, 128 + the signal when one killed it. */
int th_finish(pid_t pid);
/* Runs argv to the end (th_start + th_finish). */
int th_run(char *const argv[], const char *out_path);
/* The same, sending sig after_ms after the start when after_ms > 0. */
int th_run_signal(char *const argv[], const char *out_path, int sig, int after_ms);
/* Runs argv to the end with its output in out_path; what it said in *out (to free). */
int th_run_out(char *const argv[], const char *out_path, char **out);
/* The same with only its stdout in out_path (a JSON answer), its stderr this process's. */
int th_run_stdout(char *const argv[], const char *out_path, char **out);
/* The coldmark a test runs: COLDMARK_TEST_BIN when set (another build of it, an older one to
 * compare), else this build's. */
const char *th_coldmark_bin(void);
/* Runs this build's coldmark with the arguments (NULL-terminated) to the end, its output in a
 * file of its own in dir; its exit status, what it said in *out (to free). */
int th_coldmark(const char *dir, char **out, ...) __attribute__((sentinel));
/* This process's stdout to /dev/null (a run in process that prints its progress); the saved
 * descriptor, for th_stdout_on. */
int th_stdout_off(void);
void th_stdout_on(int saved);

/* ---- a run of recorded boots ---------------------------------------------------------------- */

/* coldmark run of the matrix file, in this process (its stdout to /dev/null), each boot played
 * from the recording events (a fixtures/replay events.csv) with the profile records of raw
 * (payloads by the format files in the folder formats), into out_dir and the store db, tagged
 * tag (NULL: untagged); the run folder's profile.csv (to free). Fails the test when the run
 * does. */
char *th_replay_run(const char *matrix, const char *events, const char *raw, const char *formats,
		    const char *out_dir, const char *db, const char *tag);

/* coldmark run (this build's) of the bundled guest image guest under KVM, 5 boots after a
 * warm-up, phases firmware, mode_switch and work by its markers, into dir/name (the matrix
 * dir/name.yaml), the arguments (NULL-terminated) after "-o dir/name"; its stdout in
 * dir/out.txt. The run folder (to free); fails the test when the run does. */
char *th_guest_run(const char *dir, const char *guest, const char *name, ...)
	__attribute__((sentinel));

/* ---- the host, the groups ------------------------------------------------------------------- */

/* /dev/kvm opens and creates a VM. */
bool th_kvm_ok(void);
/* Prints "SKIP: why" and exits 77 (CTest: skipped). */
_Noreturn void th_skip_group(const char *why);
/* The program's path on PATH (to free); the group skipped, saying so, when there is none. */
char *th_need_program(const char *name);

/* ---- PostgreSQL ----------------------------------------------------------------------------- */

/* Connects (fails the test, naming the server's words, when it cannot). */
PGconn *th_pg_connect(const char *conninfo);
/* Runs q on c: a command or a query; fails the test on an error. */
void th_pg_exec(PGconn *c, const char *q);
/* A fresh schema NAME on the server of URL base (dropped first with all it holds); base's URL
 * with that schema as its search_path, so that a store's tables land there (to free). */
char *th_pg_schema(const char *base, const char *name);
/* The first value of q's first row (with $1 = arg when arg), "" for none or NULL (to free). */
char *th_pg_text(const char *conninfo, const char *q, const char *arg);
/* The same as a number; -1 when q returns no row. */
long long th_pg_scalar(const char *conninfo, const char *q, const char *arg);

/* ---- a report, written in memory ------------------------------------------------------------ */

/* What th_render writes (numbered as test_reports' golden files are). */
enum th_writer {
	TH_SUMMARY_CSV,
	TH_MARKDOWN,
	TH_JSON,
	TH_SAMPLES, /* samples.csv: its header and every row of the report's dataset */
	TH_HTML,
	TH_TERMINAL, /* the terminal summary of the phase "total" */
};
/* r as the writer writes it (to free). */
char *th_render(const struct cm_report *r, enum th_writer w);
/* A comparison as compare's writer of format fmt (text, md, csv, json) writes it (to free). */
char *th_render_compare(const struct cm_cmp_result *r, const char *fmt);

/* ---- a store, as another program sees it ---------------------------------------------------- */

/* Raw SQL into the store at target (a SQLite file, or a PostgreSQL URL), as another program
 * (or an old coldmark) would; fails the test, naming the statement, on an error. */
void th_store_exec(const char *target, const char *sql);
/* The one integer SQL's first row holds, read from the SQLite store at path (a connection of
 * its own, closed after). */
long long th_sqlite_value(const char *path, const char *sql);
struct cm_launch;
struct cm_events;
struct cm_exit;
/* A fake launcher's boot of the bundled guest's shape from t (ns): exec, the markers 0x10,
 * 0x20 and 0x30 on the matrix's first port 1, 2 and 3 ms on, its exit at 4 ms, status 33. */
void th_fake_guest_boot(const struct cm_launch *l, struct cm_events *ev, struct cm_exit *ex,
			int64_t t);
/* A run of BOOTS boots of /bin/true (as qemu) in DIR with COLDMARK_CPU_REPORT: the report's
 * line (malloc'd), each KEYS[k]'s "_ns" figure into v[k] (a key missing fails the test). */
char *th_cpu_report_run(const char *dir, int boots, const char *const *keys, size_t n,
			long long *v);
struct cm_dataset;
struct cm_store;
/* A new SQLite store DIR/NAME.db (*path, malloc'd) with run RUN_ID begun: one case
 * "variant=a" (axis variant) and session "1" on host h1, in ds (initialised here). */
struct cm_store *th_store_fresh(const char *dir, const char *name, const char *run_id,
				struct cm_dataset *ds, char **path);
/* Holds the store's samples (SQLite: the write lock; PostgreSQL: an EXCLUSIVE lock on samples)
 * so that copies or writers started meanwhile all read it before any of them writes; until
 * th_release. */
struct th_hold {
	void *lite; /* sqlite3 * */
	PGconn *pg;
};
struct th_hold th_hold_target(const char *target);
void th_release(struct th_hold *h);

/* ---- a run killed, and what its journal and store hold ---------------------------------------- */

/* DIR/samples.csv's rows, its header apart (0: no file). */
long long th_journal_rows(const char *dir);
/* `coldmark run M -o DIR --db DB` started, killed with SIGKILL once samples.csv holds at least
 * rows rows and ms milliseconds have passed (a run that ends first fails the test). */
void th_run_killed_at(const char *m, const char *dir, const char *db, long long rows, int ms);
struct cm_dataset;
/* Each row of ds as "case|phase|session|kind|k|value" (k: its place among the rows of that
 * kind in its case, phase and session), sorted; ds->n of them (each and the array to free):
 * two datasets with the same lines give every statistic of compare and history alike. */
char **th_dataset_lines(const struct cm_dataset *ds);

/* ---- growth checks: a ratio of two sizes' CPU, never a timed assertion ---------------------- */

/* This process's CPU seconds so far. */
double th_cpu_s(void);
/* The least CPU seconds of three calls of f(n). */
double th_least_cpu(void (*f)(size_t), size_t n);
/* f's CPU at n and 4n (the least of three each), printed with what; fails the test when the
 * ratio is 10 or more (n log n gives ~4.5, n^2 16). */
void th_growth(const char *what, void (*f)(size_t), size_t n);

#endif
