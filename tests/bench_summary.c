/* A big store, fast (printed by scripts/bench-store.sh; asserts nothing): TAGS tags of RUNS
 * runs (one session each, as a fleet's replicates) x CASES cases x BOOTS boots x 3 phases,
 * the samples bulk-loaded (SQLite: one transaction a run; PostgreSQL: COPY), then the session
 * summary filled by the migration's own code (cm_summary_fill), timed: what a store of that
 * size costs to migrate. Deterministic. Tag i's every tenth case is 5% x i slower. */
#include <libpq-fe.h>
#include <math.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../store/driver.h"
#include "bench_common.h"
#include "coldmark/store.h"

static const char *const phases[] = { "firmware", "kernel", "total" };

struct sink {
	sqlite3 *lite;
	sqlite3_stmt *ins;
	PGconn *pg;
	struct cm_buf buf;
};

static int row(struct sink *k, const char *run, const char *c, int boot, double d)
{
	for (int p = 0; p < 3; p++) {
		double v = d * (p == 2 ? 1 : p == 1 ? 0.6 : 0.2);
		if (k->pg) {
			cm_buf_printf(&k->buf, "%s\t%s\t%d\t0\tok\t%s\t%.17g\tperf\tnone\t1\t\n", run, c,
				      boot, phases[p], v);
			continue;
		}
		sqlite3_reset(k->ins);
		sqlite3_bind_text(k->ins, 1, run, -1, SQLITE_STATIC);
		sqlite3_bind_text(k->ins, 2, c, -1, SQLITE_STATIC);
		sqlite3_bind_int(k->ins, 3, boot);
		sqlite3_bind_text(k->ins, 4, phases[p], -1, SQLITE_STATIC);
		sqlite3_bind_double(k->ins, 5, v);
		if (sqlite3_step(k->ins) != SQLITE_DONE)
			return -1;
	}
	return 0;
}

static int begin(struct sink *k)
{
	if (k->pg) {
		PGresult *r = PQexec(k->pg, "COPY samples (run_id, case_id, boot, warmup, status, phase, "
					    "duration_ns, source, cache_drop, session, host_audit) FROM STDIN");
		int ok = PQresultStatus(r) == PGRES_COPY_IN;
		PQclear(r);
		return ok ? 0 : -1;
	}
	return sqlite3_exec(k->lite, "BEGIN", NULL, NULL, NULL) == SQLITE_OK ? 0 : -1;
}

static int end(struct sink *k)
{
	if (k->pg) {
		int rc = PQputCopyData(k->pg, k->buf.s ? k->buf.s : "", (int)k->buf.len) == 1 &&
				 PQputCopyEnd(k->pg, NULL) == 1 ? 0 : -1;
		PGresult *r = PQgetResult(k->pg);
		rc = rc || PQresultStatus(r) != PGRES_COMMAND_OK ? -1 : 0;
		if (rc)
			fprintf(stderr, "bench_summary: COPY: %s", PQerrorMessage(k->pg));
		PQclear(r);
		cm_buf_free(&k->buf);
		return rc;
	}
	return sqlite3_exec(k->lite, "COMMIT", NULL, NULL, NULL) == SQLITE_OK ? 0 : -1;
}

static int one_run(struct cm_store *st, struct sink *k, int tag, int run, int cases, int boots,
		   size_t *rows)
{
	char run_id[64], tname[16], date[64];
	struct cm_dataset ds;
	snprintf(tname, sizeof(tname), "bench-%c", 'a' + tag);
	snprintf(run_id, sizeof(run_id), "%s-r%04d", tname, run);
	snprintf(date, sizeof(date), "2026-%02d-%02d %02d:%02d:00 +0000", 1 + tag, 1 + run / 96,
		 run / 4 % 24, run % 4 * 15);
	int rc = bench_begin_run(st, &ds, cases, run_id, tname, date);
	unsigned long seed = (unsigned long)(tag * 100003 + run);
	double level = exp(0.02 * bench_noise(&seed));
	rc = rc ? rc : begin(k);
	for (int c = 0; !rc && c < cases; c++)
		for (int b = 1; !rc && b <= boots; b++) {
			double d = 1e8 * level * exp(0.03 * bench_noise(&seed)) *
				   (c % 10 == 0 ? 1 + 0.05 * tag : 1);
			rc = row(k, run_id, ds.cases[c].id, b, d);
			*rows += 3;
		}
	rc = rc ? rc : end(k);
	cm_dataset_free(&ds);
	return rc;
}

static int fill(struct cm_store *s, void *ctx)
{
	return cm_summary_fill(s);
}

int main(int argc, char **argv)
{
	if (argc != 6) {
		fprintf(stderr, "usage: bench_summary TARGET TAGS RUNS CASES BOOTS\n");
		return 2;
	}
	int tags = atoi(argv[2]), runs = atoi(argv[3]), cases = atoi(argv[4]), boots = atoi(argv[5]);
	struct cm_store *st = bench_open("bench_summary", argv[1]);
	if (!st)
		return 1;
	struct sink k = { 0 };
	if (cm_store_is_url(argv[1])) {
		k.pg = PQconnectdb(argv[1]);
		if (PQstatus(k.pg) != CONNECTION_OK)
			return 1;
		/* COPY without the per-row count triggers (a superuser's replica role): the runs'
		 * counts are set once after the load, as the migration sets them */
		PQclear(PQexec(k.pg, "SET session_replication_role = replica"));
	} else if (sqlite3_open(argv[1], &k.lite) != SQLITE_OK ||
		   sqlite3_prepare_v2(k.lite, "INSERT INTO samples (run_id, case_id, boot, warmup, "
					      "status, phase, duration_ns, source, cache_drop, session,"
					      " host_audit) VALUES (?1, ?2, ?3, 0, 'ok', ?4, ?5, 'perf',"
					      " 'none', 1, '')", -1, &k.ins, NULL) != SQLITE_OK) {
		return 1;
	}
	size_t rows = 0;
	int64_t t0 = cm_now_ns();
	for (int t = 0; t < tags; t++)
		for (int r = 0; r < runs; r++)
			if (one_run(st, &k, t, r, cases, boots, &rows)) {
				fprintf(stderr, "bench_summary: %s\n", cm_store_error(st));
				return 1;
			}
	int64_t t1 = cm_now_ns();
	if (k.ins)
		sqlite3_finalize(k.ins);
	sqlite3_close(k.lite);
	if (k.pg)
		PQclear(PQexec(k.pg, "UPDATE runs SET samples = (SELECT COUNT(*) FROM samples WHERE "
				     "run_id = runs.id)"));
	PQfinish(k.pg);
	if (cm_store_transaction(st, fill, NULL)) {
		fprintf(stderr, "bench_summary: fill: %s\n", cm_store_error(st));
		return 1;
	}
	int64_t t2 = cm_now_ns();
	printf("%s: %zu sample rows loaded in %.1f s; session summary filled from them (the "
	       "migration's code) in %.1f s\n", cm_store_backend(st), rows, (double)(t1 - t0) / 1e9,
	       (double)(t2 - t1) / 1e9);
	cm_store_close(st);
	return 0;
}
