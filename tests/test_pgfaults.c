/* A PostgreSQL store that says no, and one that stops answering (issue 22 items 5 and 6), on
 * the throw-away PostgreSQL 15 server scripts/slurm-local.sh starts (CTest: pg-faults):
 *   refusals: a SELECT-only role, a schema of the future (99), a dropped column, a trigger
 *     that raises: the run stops with exit 4 and the server's reason, never "kept in
 *     journal.db only", and the server is left with no run row for it (never an empty one);
 *   connect-time refusals: a wrong password, a database that is not there: exit 4 before
 *     anything is made, not "out of reach";
 *   lock: another session holds samples locked for 25 s: the run treats the server as lost
 *     after COLDMARK_DB_TIMEOUT once (said once) and its boots are not held up again;
 *   stopped: the run's backend is stopped (SIGSTOP) mid-run: the same.
 * The runs boot a fake qemu (a script that sleeps BOOT_S), so only the store's delays show.
 * Every URL carries a password, which must never be printed. Skipped (77) without a server. */
#define _GNU_SOURCE
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <fcntl.h>
#include <libpq-fe.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "coldmark/util.h"
#include "helpers.h"

#define BOOT_S 0.3
#define TIMEOUT_S 2 /* COLDMARK_DB_TIMEOUT for the runs */
#define SECRET "Zq7S3cretXy"

static char tmp[256];
static const char *pghost;
static const char *bin; /* th_coldmark_bin() */

/* A database of the server, as coldmark is given it (trust auth: the password is ignored). */
static char *url_of(const char *dbname, const char *user)
{
	return cm_xasprintf("postgresql://%s:" SECRET "@/%s?host=%s", user, dbname, pghost);
}

static PGconn *admin(const char *dbname)
{
	char *conninfo = cm_xasprintf("host=%s user=postgres dbname=%s", pghost, dbname);
	PGconn *c = th_pg_connect(conninfo);
	free(conninfo);
	return c;
}

static long long scalar(const char *dbname, const char *q, const char *arg)
{
	char *conninfo = cm_xasprintf("host=%s user=postgres dbname=%s", pghost, dbname);
	long long v = th_pg_scalar(conninfo, q, arg);
	free(conninfo);
	return v;
}

/* A fresh database holding a coldmark store (made by coldmark itself, at its version). */
static char *fresh_store(const char *dbname)
{
	PGconn *c = admin("postgres");
	char *q = cm_xasprintf("DROP DATABASE IF EXISTS %s", dbname);
	th_pg_exec(c, q);
	free(q);
	q = cm_xasprintf("CREATE DATABASE %s", dbname);
	th_pg_exec(c, q);
	free(q);
	PQfinish(c);
	char *url = url_of(dbname, "postgres"), *out = cm_xasprintf("%s/init.txt", tmp);
	char *argv[] = { (char *)bin, "import", FIXTURES "/samples.csv", "--tag", "init", "--db", url, NULL };
	int rc = th_finish(th_start(argv, out));
	if (rc) {
		char *text = th_slurp(out);
		fail_msg("import into %s: %d: %s", dbname, rc, text);
	}
	free(out);
	return url;
}

static char *write_matrix(const char *name, int boots)
{
	char *fake = cm_xasprintf("%s/fake-qemu.sh", tmp), *path = cm_xasprintf("%s/%s.yaml", tmp, name);
	FILE *f = fopen(fake, "w");
	fprintf(f, "#!/bin/sh\nsleep %.1f\nexit 33\n", BOOT_S);
	fclose(f);
	chmod(fake, 0755);
	f = fopen(path, "w");
	fprintf(f, "qemu: %s\nguest: {bundled: guest}\nbase_args: [-accel, tcg]\naxes: {smp: [1]}\n"
		   "phases:\n  - {name: firmware, from: exec, to: real_mode}\n"
		   "run: {boots: %d, warmup: 0, drop_caches: false, reference: none, exit_status: 33, "
		   "max_failed: 100}\n", fake, boots);
	fclose(f);
	free(fake);
	return path;
}

/* coldmark run of matrix m into database url, tag, to the end: status and output. */
static int run_into(const char *m, const char *url, const char *tag, char **out)
{
	char *dir = cm_xasprintf("%s/run-%s", tmp, tag), *log = cm_xasprintf("%s/%s.txt", tmp, tag);
	char *argv[] = { (char *)bin, "run", (char *)m, "-o", dir, "--tag", (char *)tag, "--db",
			 (char *)url, NULL };
	int rc = th_finish(th_start(argv, log));
	*out = th_slurp(log);
	if (strstr(*out, "S3cret"))
		fail_msg("%s: the password printed: %s", tag, *out);
	if (strstr(*out, "Sanitizer") || strstr(*out, "runtime error:")) /* the asan build */
		fail_msg("%s: %s", tag, *out);
	free(dir), free(log);
	return rc;
}

/* ---- refusals (item 5) ------------------------------------------------------------------ */

/* at_open: refused before anything is made (no run folder either); else at the first boot,
 * which is kept in the run folder (samples.csv), as every boot before a refusal is. */
static const struct {
	const char *db, *setup, *user, *reason;
	bool at_open;
} refusals[] = {
	{ "f_readonly", "DROP ROLE IF EXISTS cm_ro; CREATE ROLE cm_ro LOGIN; "
			"GRANT SELECT ON ALL TABLES IN SCHEMA public TO cm_ro", "cm_ro", "permission denied" },
	{ "f_future", "UPDATE coldmark_schema SET version = 99", "postgres", "newer", true },
	{ "f_column", "ALTER TABLE samples DROP COLUMN host_audit", "postgres", "host_audit" },
	{ "f_trigger", "CREATE FUNCTION frozen() RETURNS trigger LANGUAGE plpgsql AS "
		       "$$BEGIN RAISE EXCEPTION 'coldmark-test: samples are frozen'; END$$; "
		       "CREATE TRIGGER frozen BEFORE INSERT ON samples FOR EACH ROW "
		       "EXECUTE FUNCTION frozen()", "postgres", "samples are frozen" },
};

static void test_refusal_fails_the_run(void **state)
{
	char *m = write_matrix("refused", 3);
	int bad = 0;
	for (size_t i = 0; i < sizeof(refusals) / sizeof(refusals[0]); i++) {
		char *url = fresh_store(refusals[i].db), *out;
		PGconn *c = admin(refusals[i].db);
		th_pg_exec(c, refusals[i].setup);
		PQfinish(c);
		char *as = url_of(refusals[i].db, refusals[i].user);
		int rc = run_into(m, as, refusals[i].db, &out);
		/* no run row for it, above all no empty one (the import's run is the only one) */
		long long runs = scalar(refusals[i].db, "SELECT count(*) FROM runs WHERE tag = $1",
					refusals[i].db);
		const char *said = strstr(out, "refused");
		printf("%s: exit %d, %lld run rows: %.*s\n", refusals[i].db, rc, runs,
		       said ? (int)strcspn(said, "\n") : 0, said ? said : "");
		char *dir = cm_xasprintf("%s/run-%s", tmp, refusals[i].db);
		char *samples = cm_xasprintf("%s/samples.csv", dir);
		bool folder = !access(dir, F_OK), kept = !access(samples, F_OK);
		free(samples), free(dir);
		if (rc != 4 || !strstr(out, refusals[i].reason) || strstr(out, "journal.db only") ||
		    runs != 0 || (refusals[i].at_open ? folder : !kept)) {
			printf("REFUSAL %s: exit %d (want 4), %lld run rows (want 0), reason '%s' %s, "
			       "run folder %s:\n%s\n", refusals[i].db, rc, runs, refusals[i].reason,
			       strstr(out, refusals[i].reason) ? "said" : "NOT said",
			       folder ? (kept ? "with samples.csv" : "without samples.csv") : "none", out);
			bad++;
		}
		free(out), free(as), free(url);
	}
	if (bad)
		fail_msg("%d of 4 refusals not a failed run", bad);
	/* the trigger gone, --resume brings the server the refused boot and the rest */
	PGconn *c = admin("f_trigger");
	th_pg_exec(c, "DROP TRIGGER frozen ON samples");
	PQfinish(c);
	char *url = url_of("f_trigger", "postgres"), *dir = cm_xasprintf("%s/run-f_trigger", tmp);
	char *log = cm_xasprintf("%s/resume.txt", tmp), *out;
	char *argv[] = { (char *)bin, "run", m, "--resume", dir, "--db", url, NULL };
	int rc = th_finish(th_start(argv, log));
	out = th_slurp(log);
	long long boots = scalar("f_trigger", "SELECT count(DISTINCT boot) FROM samples s JOIN runs r "
				 "ON r.id = s.run_id WHERE r.tag = $1", "f_trigger");
	if (rc || boots != 3)
		fail_msg("resume after the refusal: exit %d, %lld of 3 boots in the server: %s", rc,
			 boots, out);
	free(out), free(log), free(dir), free(url), free(m);
}

/* A server that answers the connection and says no: a wrong password, a database that is not
 * there. Refused before anything is made (exit 4, the server's words, no run folder), never
 * "out of reach" with the boots journalled (libpq gives no SQLSTATE at connect time). */
static void test_connect_refusals(void **state)
{
	(void)state;
	PGconn *c = admin("postgres");
	th_pg_exec(c, "DROP ROLE IF EXISTS cm_pw; CREATE ROLE cm_pw LOGIN PASSWORD 'right-" SECRET "'");
	char *conninfo = cm_xasprintf("host=%s user=postgres dbname=postgres", pghost);
	char *hba = th_pg_text(conninfo, "SHOW hba_file", NULL);
	char *was = th_slurp(hba), *now = cm_xasprintf("local all cm_pw scram-sha-256\n%s", was);
	th_write(hba, now, 0600);
	th_pg_exec(c, "SELECT pg_reload_conf()");
	char *m = write_matrix("connect", 1);
	char *urls[] = { url_of("postgres", "cm_pw"), url_of("no_such_db", "postgres") };
	const char *why[] = { "password authentication failed", "does not exist" };
	int bad = 0;
	for (int i = 0; i < 2; i++) {
		char *tag = cm_xasprintf("connect%d", i), *out;
		int rc = run_into(m, urls[i], tag, &out);
		char *dir = cm_xasprintf("%s/run-%s", tmp, tag);
		bool folder = !access(dir, F_OK);
		printf("%s: exit %d, run folder %s\n", why[i], rc, folder ? "made" : "none");
		if (rc != 4 || !strstr(out, why[i]) || !strstr(out, "refused") || folder) {
			printf("CONNECT REFUSAL '%s': exit %d (want 4), folder %s:\n%s\n", why[i], rc,
			       folder ? "made" : "none", out);
			bad++;
		}
		free(tag), free(out), free(dir), free(urls[i]);
	}
	th_write(hba, was, 0600); /* the server's own rules back for the other groups */
	th_pg_exec(c, "SELECT pg_reload_conf()");
	PQfinish(c);
	free(hba), free(was), free(now), free(m), free(conninfo);
	if (bad)
		fail_msg("%d of 2 connect-time refusals taken for a lost server", bad);
}

/* ---- a stalled server (item 6) ----------------------------------------------------------- */

/* The progress lines' elapsed times: each boot's gap to the one before. Boots held up by the
 * store beyond their own BOOT_S: at most one, by at most the timeout and its answer margin. */
static void gaps_ok(const char *what, const char *out)
{
	double prev = 0, worst = 0;
	int slow = 0, n = 0;
	for (const char *p = out; (p = strstr(p, "(elapsed ")); p += 9, n++) {
		double t = strtod(p + 9, NULL), gap = t - prev;
		prev = t;
		worst = gap > worst ? gap : worst;
		slow += gap > BOOT_S + 0.7;
	}
	printf("%s: %d boots, %d held up, the longest gap %.1f s (a boot %.1f s, timeout %d s)\n",
	       what, n, slow, worst, BOOT_S, TIMEOUT_S);
	if (slow > 1 || worst > BOOT_S + TIMEOUT_S + 1 + 0.8)
		fail_msg("%s: boots held up by the store: %d, the longest gap %.1f s:\n%s", what, slow,
			 worst, out);
	if (th_count(out, "from here on the boots are kept in") != 1)
		fail_msg("%s: the journal-only message %zu times (want once):\n%s", what,
			 th_count(out, "from here on the boots are kept in"), out);
}

static void test_table_lock_is_lost(void **state)
{
	char *url = fresh_store("f_lock"), *m = write_matrix("lock", 6), *out;
	int ready[2];
	assert_int_equal(pipe(ready), 0);
	pid_t holder = fork();
	if (holder == 0) { /* another session: samples locked for 25 s */
		PGconn *c = admin("f_lock");
		PQclear(PQexec(c, "BEGIN; LOCK TABLE samples IN ACCESS EXCLUSIVE MODE"));
		if (write(ready[1], "x", 1) != 1)
			_exit(1);
		sleep(25);
		PQfinish(c);
		_exit(0);
	}
	char x;
	assert_int_equal(read(ready[0], &x, 1), 1);
	int64_t t0 = cm_now_ns();
	int rc = run_into(m, url, "lock", &out);
	double wall = (double)(cm_now_ns() - t0) / 1e9;
	kill(holder, SIGKILL);
	waitpid(holder, NULL, 0);
	printf("lock: the run took %.1f s with samples locked for 25 s\n", wall);
	if (rc)
		fail_msg("lock: exit %d: %s", rc, out);
	gaps_ok("lock", out);
	/* nor before the first boot: the whole run, its start and reports too */
	if (wall > 6 * BOOT_S + TIMEOUT_S + 1 + 3)
		fail_msg("lock: the run took %.1f s: held up by the lock", wall);
	free(out), free(m), free(url);
}

static void test_stopped_backend_is_lost(void **state)
{
	char *url = fresh_store("f_stop"), *m = write_matrix("stop", 10);
	char *dir = cm_xasprintf("%s/run-stop", tmp), *log = cm_xasprintf("%s/stop.txt", tmp);
	char *argv[] = { (char *)bin, "run", m, "-o", dir, "--tag", "stop", "--db", url, NULL };
	pid_t pid = th_start(argv, log);
	for (int i = 0; i < 600 && scalar("f_stop", "SELECT count(*) FROM samples s JOIN runs r ON "
					  "r.id = s.run_id WHERE r.tag = $1", "stop") < 1; i++)
		usleep(20000);
	long long backend = scalar("f_stop", "SELECT pid FROM pg_stat_activity WHERE "
				   "application_name = 'coldmark' AND datname = $1", "f_stop");
	assert_true(backend > 0);
	assert_int_equal(kill((pid_t)backend, SIGSTOP), 0);
	int st = 0, waited = 0;
	while (waitpid(pid, &st, WNOHANG) == 0 && waited < 600) { /* 60 s, then let it go */
		usleep(100000);
		waited++;
	}
	kill((pid_t)backend, SIGCONT);
	if (waited >= 600) {
		th_finish(pid);
		fail_msg("stopped: the run waited on the stopped backend for 60 s");
	}
	char *out = th_slurp(log);
	if (strstr(out, "S3cret") || strstr(out, "Sanitizer") || strstr(out, "runtime error:"))
		fail_msg("stopped: the password printed, or a sanitizer's report: %s", out);
	if (!WIFEXITED(st) || WEXITSTATUS(st))
		fail_msg("stopped: exit %d: %s", WIFEXITED(st) ? WEXITSTATUS(st) : -1, out);
	gaps_ok("stopped", out);
	free(out), free(log), free(dir), free(m), free(url);
}

int main(int argc, char **argv)
{
	const char *db = getenv("COLDMARK_DB");
	pghost = getenv("PGHOST");
	if (!db || strncmp(db, "postgresql://", 13) || !pghost) {
		printf("SKIP: no PostgreSQL server (run under scripts/slurm-local.sh run --pg-only -- "
		       "test_pgfaults)\n");
		return 77;
	}
	bin = th_coldmark_bin();
	setenv("COLDMARK_GUEST_DIR", GUEST_DIR, 1);
	setenv("COLDMARK_DB_TIMEOUT", "2s", 1); /* TIMEOUT_S, for every run this starts */
	if (th_mkdtemp(tmp, sizeof(tmp), "pgfaults"))
		return 1;
	chmod(tmp, 0755);
	const struct CMUnitTest refused[] = { cmocka_unit_test(test_refusal_fails_the_run),
					      cmocka_unit_test(test_connect_refusals) };
	const struct CMUnitTest stalled[] = {
		cmocka_unit_test(test_table_lock_is_lost),
		cmocka_unit_test(test_stopped_backend_is_lost),
	};
	const char *group = argc > 1 ? argv[1] : "";
	int rc = 0;
	if (!*group || !strcmp(group, "refused"))
		rc |= cmocka_run_group_tests_name("refused", refused, NULL, NULL);
	if (!*group || !strcmp(group, "stalled"))
		rc |= cmocka_run_group_tests_name("stalled", stalled, NULL, NULL);
	if (!rc)
		th_rm_rf(tmp);
	return rc;
}
