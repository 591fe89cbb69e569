/* The fleet end to end, on the single-node Slurm cluster and the throw-away PostgreSQL server
 * scripts/slurm-local.sh starts (CTest runs this under it): an sbatch array of 3 replicates
 * of a small TCG matrix into the server, every planned boot of every replicate there, compare
 * across them; a run whose server is out of reach (and one whose connection is cut mid-run)
 * loses nothing and `coldmark sync` completes it; `coldmark merge` of a shard store, twice.
 * Skipped (77) when not started with a cluster and a server. */
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
#include <sys/wait.h>
#include <unistd.h>

#include "coldmark/util.h"
#include "helpers.h"

static char tmp[256];
static const char *db; /* COLDMARK_DB: the server */

static const char matrix_yaml[] =
	"qemu: qemu-system-x86_64\n"
	"guest: {bundled: guest}\n"
	"base_args: [-machine, pc, -display, none, -nodefaults, -no-reboot]\n"
	"axes: {memory: [128M, 256M], accel: [tcg]}\n"
	"markers: {preset: coldmark-guest}\n"
	"phases:\n"
	"  - {name: firmware, from: exec, to: real_mode}\n"
	"  - {name: work, from: long_mode, to: work_done}\n"
	"run: {boots: %d, warmup: 0, timeout: 30s, seed: 11}\n";

static char *write_matrix(const char *name, int boots)
{
	char *path = cm_xasprintf("%s/%s.yaml", tmp, name), *text = cm_xasprintf(matrix_yaml, boots);
	th_write(path, text, 0644);
	free(text);
	return path;
}

/* Runs argv to the end; its status, and what it printed in *out (to free). */
static int run(char *const argv[], char **out)
{
	char *path = cm_xasprintf("%s/out.txt", tmp);
	int rc = th_run_out(argv, path, out);
	free(path);
	return rc;
}

/* One number from the server. */
static long long scalar(const char *sql, const char *arg)
{
	return th_pg_scalar(db, sql, arg);
}

/* Every planned boot of run id (its cases x boots) has its total row in the server. */
static void all_boots_there(const char *run_id, int boots)
{
	long long cases = scalar("SELECT count(*) FROM cases WHERE run_id = $1", run_id);
	assert_true(cases >= 2);
	long long there = scalar("SELECT count(DISTINCT (case_id, session, boot)) FROM samples "
				 "WHERE run_id = $1 AND phase = 'total' AND status = 'ok'", run_id);
	if (there != cases * boots)
		fail_msg("run %s: %lld of %lld boots in the server", run_id, there, cases * boots);
}

/* The same for every run under tag. */
static void all_runs_there(const char *tag, int boots)
{
	PGconn *c = th_pg_connect(db);
	const char *p[] = { tag };
	PGresult *r = PQexecParams(c, "SELECT id FROM runs WHERE tag = $1", 1, NULL, p, NULL, NULL, 0);
	assert_true(PQntuples(r) >= 1);
	for (int i = 0; i < PQntuples(r); i++)
		all_boots_there(PQgetvalue(r, i, 0), boots);
	PQclear(r);
	PQfinish(c);
}

static void test_array_of_replicates(void **state)
{
	char *m = write_matrix("fleet", 2), *out;
	char *script = SOURCE_DIR "/scripts/coldmark.sbatch";
	setenv("COLDMARK", COLDMARK_BIN, 1);
	setenv("COLDMARK_OUT", tmp, 1);
	char *logs = cm_xasprintf("%s/slurm-%%A_%%a.out", tmp);
	char *sbatch[] = { "sbatch", "--wait", "--array=0-2", "--exclusive", "--chdir", tmp,
			   "--output", logs, script, m, "fleet-v1", NULL };
	int rc = run(sbatch, &out);
	free(logs);
	if (rc)
		fail_msg("sbatch: %d: %s", rc, out);
	free(out);
	assert_int_equal(scalar("SELECT count(*) FROM runs WHERE tag = $1", "fleet-v1"), 3);
	/* replicates 0/3, 1/3, 2/3: sessions 1, 2, 3, each under its Slurm job */
	assert_int_equal(scalar("SELECT count(DISTINCT value) FROM run_meta m JOIN runs r ON "
				"r.id = m.run_id WHERE r.tag = $1 AND m.key = 'replicate' AND "
				"m.value IN ('0/3', '1/3', '2/3')", "fleet-v1"), 3);
	assert_int_equal(scalar("SELECT count(DISTINCT session) FROM samples s JOIN runs r ON "
				"r.id = s.run_id WHERE r.tag = $1", "fleet-v1"), 3);
	assert_int_equal(scalar("SELECT count(*) FROM run_meta m JOIN runs r ON r.id = m.run_id "
				"WHERE r.tag = $1 AND m.key = 'job' AND m.value LIKE 'slurm %'",
				"fleet-v1"), 3);
	all_runs_there("fleet-v1", 2);
	/* compare across the replicates: sessions as the unit, the tag's three sessions a side */
	char *cmp[] = { COLDMARK_BIN, "compare", "fleet-v1", "fleet-v1", NULL };
	rc = run(cmp, &out);
	if (rc || !strstr(out, "3 runs, 3 sessions") || !strstr(out, "sessions 3+3"))
		fail_msg("compare: %d: %s", rc, out);
	free(out);
	free(m);
}

/* The server out of reach from the start: the boots are kept in journal.db; sync uploads
 * them, and a second sync adds nothing. */
static void test_unreachable_then_sync(void **state)
{
	char *m = write_matrix("offline", 2), *dir = cm_xasprintf("%s/offline-run", tmp), *out;
	char *argv[] = { COLDMARK_BIN, "run", m, "-o", dir, "--tag", "offline", "--db",
			 "postgresql://coldmark:secret@/coldmark?host=/nonexistent-coldmark", NULL };
	int rc = run(argv, &out);
	if (rc || !strstr(out, "out of reach") || !strstr(out, "coldmark sync") || strstr(out, "secret"))
		fail_msg("run: %d: %s", rc, out);
	free(out);
	char *sync[] = { COLDMARK_BIN, "sync", dir, NULL };
	assert_int_equal(run(sync, &out), 0);
	assert_non_null(strstr(out, " boots added, 0 already there (1 new runs)"));
	free(out);
	assert_int_equal(run(sync, &out), 0);
	assert_non_null(strstr(out, ": 0 boots added, "));
	free(out);
	assert_int_equal(scalar("SELECT count(*) FROM runs WHERE tag = $1", "offline"), 1);
	all_runs_there("offline", 2);
	/* a folder without a journal is told so */
	char *none[] = { COLDMARK_BIN, "sync", tmp, NULL };
	assert_int_equal(run(none, &out), 2);
	assert_non_null(strstr(out, "no journal there"));
	free(out), free(m), free(dir);
}

/* The connection cut while the run goes on (the server's backends terminated): the run goes
 * on into its journal, says so, and sync makes the server whole. */
static void test_connection_lost_mid_run(void **state)
{
	char *m = write_matrix("cut", 8), *dir = cm_xasprintf("%s/cut-run", tmp);
	char *log = cm_xasprintf("%s/cut.txt", tmp), *out;
	char *argv[] = { COLDMARK_BIN, "run", m, "-o", dir, "--tag", "cut", NULL };
	pid_t pid = th_start(argv, log);
	/* once the run has boots in the server, cut its connection */
	for (int i = 0; i < 600 && !scalar("SELECT count(*) FROM samples s JOIN runs r ON "
					   "r.id = s.run_id WHERE r.tag = $1", "cut"); i++)
		usleep(50000);
	long long cut = scalar("SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity "
			       "WHERE application_name = $1", "coldmark");
	assert_true(cut >= 1);
	assert_int_equal(th_finish(pid), 0);
	out = th_slurp(log);
	if (!strstr(out, "did not take") || !strstr(out, "coldmark sync"))
		fail_msg("run: %s", out);
	free(out);
	long long before = scalar("SELECT count(*) FROM samples s JOIN runs r ON r.id = s.run_id "
				  "WHERE r.tag = $1", "cut");
	char *sync[] = { COLDMARK_BIN, "sync", dir, NULL };
	assert_int_equal(run(sync, &out), 0);
	assert_null(strstr(out, ": 0 boots added")); /* the boots after the cut */
	free(out);
	assert_true(scalar("SELECT count(*) FROM samples s JOIN runs r ON r.id = s.run_id "
			   "WHERE r.tag = $1", "cut") > before);
	all_runs_there("cut", 8);
	free(m), free(dir), free(log);
}

/* A shard store measured off the network, merged into the server twice: the second adds
 * nothing; a shard that is also the target is refused. */
static void test_merge_shard(void **state)
{
	char *m = write_matrix("shard", 2), *dir = cm_xasprintf("%s/shard-run", tmp);
	char *shard = cm_xasprintf("%s/shard.db", tmp), *out;
	char *argv[] = { COLDMARK_BIN, "run", m, "-o", dir, "--tag", "shard", "--db", shard, NULL };
	assert_int_equal(run(argv, &out), 0);
	free(out);
	char *merge[] = { COLDMARK_BIN, "merge", shard, "--db", (char *)db, NULL };
	assert_int_equal(run(merge, &out), 0);
	assert_non_null(strstr(out, "0 already there (1 new runs)"));
	free(out);
	assert_int_equal(run(merge, &out), 0);
	assert_non_null(strstr(out, ": 0 boots added, "));
	free(out);
	char *self[] = { COLDMARK_BIN, "merge", shard, "--db", shard, NULL };
	assert_int_equal(run(self, &out), 2);
	free(out);
	assert_int_equal(scalar("SELECT count(*) FROM runs WHERE tag = $1", "shard"), 1);
	free(m), free(dir), free(shard);
}

int main(void)
{
	db = getenv("COLDMARK_DB");
	if (!getenv("SLURM_CONF") || !db || strncmp(db, "postgresql://", 13)) {
		printf("SKIP: no Slurm cluster and PostgreSQL server (run under "
		       "scripts/slurm-local.sh run -- test_fleet)\n");
		return 77;
	}
	if (th_mkdtemp(tmp, sizeof(tmp), "fleet-test"))
		return 1;
	setenv("COLDMARK_GUEST_DIR", GUEST_DIR, 1);
	const struct CMUnitTest t[] = {
		cmocka_unit_test(test_array_of_replicates),
		cmocka_unit_test(test_unreachable_then_sync),
		cmocka_unit_test(test_connection_lost_mid_run),
		cmocka_unit_test(test_merge_shard),
	};
	int rc = cmocka_run_group_tests_name("fleet", t, NULL, NULL);
	if (!rc)
		th_rm_rf(tmp);
	return rc;
}
