/* Issue 29, the data of waves: each sample's wave and slot in samples.csv (written by a run in
 * waves, read back; older files read as boots in no wave), in the store (the migration step
 * that adds them, on SQLite and with --pg on PostgreSQL; older stores still read and copy),
 * and the wave as a statistics level below the session (a seeded simulation). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <gsl/gsl_errno.h>
#include <gsl/gsl_randist.h>
#include <gsl/gsl_rng.h>
#include <jansson.h>
#include <libpq-fe.h>
#include <math.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

extern char **environ;

#include "coldmark/report.h"
#include "coldmark/store.h"

/* Two cases, 2 waves of 3 boots each (cases mixed in a wave), then a boot alone. */
static void waved(struct cm_dataset *ds)
{
	char *axes[] = { "g" };
	cm_dataset_init(ds, axes, 1);
	char *f[] = { "fast" }, *s[] = { "slow" };
	cm_dataset_case(ds, "g=fast", f);
	cm_dataset_case(ds, "g=slow", s);
	ds->waves = true;
	int boot[2] = { 0, 0 };
	for (int w = 1; w <= 2; w++)
		for (int k = 1; k <= 3; k++) {
			int c = (w + k) % 2;
			ds->wave_now = w, ds->slot_now = k;
			cm_dataset_add(ds, c ? "g=slow" : "g=fast", ++boot[c], false, "ok", "total",
				       1e6 * (c ? 20 : 1) + w * 100 + k, "debugcon", "none");
		}
	ds->wave_now = ds->slot_now = 0;
	cm_dataset_add(ds, "g=fast", ++boot[0], false, "ok", "total", 1e6, "debugcon", "none");
}

static char *slurp(const char *path)
{
	FILE *f = fopen(path, "r");
	assert_non_null(f);
	char *buf = cm_xcalloc(1 << 16, 1);
	size_t n = fread(buf, 1, (1 << 16) - 1, f);
	buf[n] = 0;
	fclose(f);
	return buf;
}

static void spit(const char *path, const char *text)
{
	FILE *f = fopen(path, "w");
	assert_non_null(f);
	fputs(text, f);
	fclose(f);
}

static void write_samples(const char *path, const struct cm_dataset *ds)
{
	FILE *f = fopen(path, "w");
	assert_non_null(f);
	cm_samples_write_header(f, ds);
	for (size_t i = 0; i < ds->n; i++)
		cm_samples_write_row(f, ds, &ds->rows[i]);
	fclose(f);
}

/* samples.csv of a run in waves: wave and slot columns, empty for a boot alone; read back the
 * same; a dataset without waves writes the columns it always did. */
static void test_samples_columns(void **state)
{
	(void)state;
	struct cm_dataset ds, back;
	struct cm_diags d = { 0 };
	waved(&ds);
	write_samples("wd_samples.csv", &ds);
	char *text = slurp("wd_samples.csv");
	assert_non_null(strstr(text, ",host_audit,reference,wave,slot,g\n"));
	assert_non_null(strstr(text, "\ng=slow,1,ok,total,20000102,0,debugcon,none,1,,false,1,2,slow\n"));
	assert_non_null(strstr(text, ",false,,,fast\n")); /* the boot alone */
	free(text);
	assert_int_equal(cm_samples_read("wd_samples.csv", &back, &d), 0);
	unlink("wd_samples.csv");
	assert_true(back.waves);
	assert_int_equal(back.n, ds.n);
	for (size_t i = 0; i < ds.n; i++) {
		size_t j = 0; /* cases are sorted on reading: find the row by case and boot */
		while (j < back.n && (strcmp(back.rows[j].case_id, ds.rows[i].case_id) ||
				      back.rows[j].boot != ds.rows[i].boot))
			j++;
		assert_true(j < back.n);
		assert_int_equal(back.rows[j].wave, ds.rows[i].wave);
		assert_int_equal(back.rows[j].slot, ds.rows[i].slot);
	}
	/* written again as read: the same bytes */
	write_samples("wd_again.csv", &back);
	struct cm_dataset again;
	assert_int_equal(cm_samples_read("wd_again.csv", &again, &d), 0);
	assert_true(again.waves);
	cm_dataset_free(&again);
	cm_dataset_free(&back);
	ds.waves = false; /* no waves: no columns */
	write_samples("wd_plain.csv", &ds);
	text = slurp("wd_plain.csv");
	assert_non_null(strstr(text, ",host_audit,reference,g\n"));
	assert_null(strstr(text, "wave"));
	free(text);
	cm_dataset_free(&ds);
	unlink("wd_again.csv"), unlink("wd_plain.csv");
	cm_diags_clear(&d);
}

/* A run folder from before waves (no wave, slot columns) reads as boots in no wave; a bad
 * wave or slot cell is refused with its line and column. */
static void test_samples_old_and_bad(void **state)
{
	(void)state;
	struct cm_dataset ds;
	struct cm_diags d = { 0 };
	spit("wd_old.csv", "case,boot,status,phase,duration_ns,warmup,source,cache_drop,session\n"
			   "a,1,ok,total,1000,0,perf,none,1\n");
	assert_int_equal(cm_samples_read("wd_old.csv", &ds, &d), 0);
	assert_false(ds.waves);
	assert_int_equal(ds.rows[0].wave, 0);
	assert_int_equal(ds.rows[0].slot, 0);
	cm_dataset_free(&ds);
	static const struct { const char *row, *says; } bad[] = {
		{ "a,1,ok,total,1000,x,1\n", "wd_bad.csv:2:6: error: wave 'x' is not a wave number" },
		{ "a,1,ok,total,1000,0,1\n", "wd_bad.csv:2:6: error: wave '0' is not a wave number" },
		{ "a,1,ok,total,1000,3,\n", "wd_bad.csv:2:7: error: a wave without a slot" },
		{ "a,1,ok,total,1000,,2\n", "wd_bad.csv:2:6: error: a wave without a slot" },
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		char *text = cm_xasprintf("case,boot,status,phase,duration_ns,wave,slot\n%s", bad[i].row);
		spit("wd_bad.csv", text);
		free(text);
		assert_int_not_equal(cm_samples_read("wd_bad.csv", &ds, &d), 0);
		char *said = NULL;
		size_t n = 0;
		FILE *f = open_memstream(&said, &n);
		cm_diags_print(&d, f);
		fclose(f);
		if (!strstr(said, bad[i].says))
			fail_msg("'%s' said '%s', not '%s'", bad[i].row, said, bad[i].says);
		free(said);
		cm_diags_clear(&d);
	}
	spit("wd_bad.csv", "case,boot,status,phase,duration_ns,wave\na,1,ok,total,1000,1\n");
	assert_int_not_equal(cm_samples_read("wd_bad.csv", &ds, &d), 0);
	cm_diags_clear(&d);
	unlink("wd_old.csv"), unlink("wd_bad.csv");
}

static const char *pg_base; /* COLDMARK_DB under --pg, NULL for SQLite */

static char *fresh(const char *name)
{
	if (!pg_base) {
		char *path = cm_xasprintf("%s.db", name);
		unlink(path);
		return path;
	}
	PGconn *c = PQconnectdb(pg_base);
	assert_int_equal(PQstatus(c), CONNECTION_OK);
	char *sql = cm_xasprintf("SET client_min_messages = warning; DROP SCHEMA IF EXISTS %s "
				 "CASCADE; CREATE SCHEMA %s;", name, name);
	PGresult *r = PQexec(c, sql);
	assert_int_equal(PQresultStatus(r), PGRES_COMMAND_OK);
	PQclear(r);
	free(sql);
	PQfinish(c);
	return cm_xasprintf("%s%soptions=-csearch_path%%3D%s", pg_base, strchr(pg_base, '?') ? "&" : "?",
			    name);
}

static void raw(const char *target, const char *sql)
{
	if (!pg_base) {
		sqlite3 *db;
		assert_int_equal(sqlite3_open(target, &db), SQLITE_OK);
		char *e = NULL;
		if (sqlite3_exec(db, sql, NULL, NULL, &e) != SQLITE_OK)
			fail_msg("%s", e);
		sqlite3_close(db);
		return;
	}
	PGconn *c = PQconnectdb(target);
	assert_int_equal(PQstatus(c), CONNECTION_OK);
	PGresult *r = PQexec(c, sql);
	if (PQresultStatus(r) != PGRES_COMMAND_OK)
		fail_msg("%s", PQresultErrorMessage(r));
	PQclear(r);
	PQfinish(c);
}

static void done_with(char *target)
{
	if (!pg_base)
		unlink(target);
	free(target);
}

static void same_waves(const struct cm_dataset *a, const struct cm_dataset *b, bool known)
{
	assert_int_equal(a->n, b->n);
	for (size_t i = 0; i < a->n; i++) { /* the store keeps the rows' order */
		assert_int_equal(b->rows[i].wave, known ? a->rows[i].wave : 0);
		assert_int_equal(b->rows[i].slot, known ? a->rows[i].slot : 0);
	}
}

/* A store of the schema before the wave step: its rows as a writer of then left them. */
static void make_older(const char *t)
{
	/* the steps after it first (the session summary, schema CM_STORE_WAVE_VERSION + 1) */
	const char *later = pg_base ? "DROP TABLE session_summary; DROP TRIGGER samples_added ON "
				      "samples; DROP TRIGGER samples_changed ON samples; DROP FUNCTION "
				      "coldmark_samples_added(); DROP FUNCTION coldmark_samples_changed();"
				      "ALTER TABLE runs DROP COLUMN samples; ALTER TABLE runs DROP COLUMN "
				      "samples_changed;"
				    : "DROP TABLE session_summary; DROP TRIGGER samples_added; DROP TRIGGER "
				      "samples_deleted; DROP TRIGGER samples_updated; ALTER TABLE runs DROP "
				      "COLUMN samples; ALTER TABLE runs DROP COLUMN samples_changed;";
	char *sql = cm_xasprintf("%s ALTER TABLE samples DROP COLUMN wave; ALTER TABLE samples DROP "
				 "COLUMN slot; %s %d;", later, pg_base ? "UPDATE coldmark_schema SET version ="
				 : "PRAGMA user_version =", CM_STORE_WAVE_VERSION - 1);
	raw(t, sql);
	free(sql);
}

/* The store keeps each sample's wave and slot (NULL for a boot alone) and gives them back; a
 * store of the schema before (no columns) is read as it is (waves unknown), copied from, and
 * migrated forward by a writer, its old boots then in no wave. */
static void test_store_waves(void **state)
{
	(void)state;
	char *t = fresh("wd_store"), *u = fresh("wd_copy");
	struct cm_error err = { 0 };
	struct cm_store *s = cm_store_open(t, &err);
	if (!s)
		fail_msg("%s", err.msg);
	assert_int_equal(cm_store_version(s), CM_STORE_VERSION);
	struct cm_dataset ds, back;
	waved(&ds);
	cm_dataset_meta(&ds, "host", "h");
	assert_int_equal(cm_store_begin_run(s, "r1", "t", &ds), 0);
	assert_int_equal(cm_store_add_rows(s, "r1", &ds, 0, ds.n), 0);
	assert_int_equal(cm_store_load(s, "r1", &back), 0);
	assert_true(back.waves);
	same_waves(&ds, &back, true);
	cm_dataset_free(&back);
	/* copied into another store: waves and all */
	struct cm_store *c = cm_store_open(u, &err);
	assert_non_null(c);
	struct cm_store_copied got = { 0 };
	assert_int_equal(cm_store_copy_run(s, c, "r1", &got), 0);
	assert_int_equal(cm_store_load(c, "r1", &back), 0);
	same_waves(&ds, &back, true);
	cm_dataset_free(&back);
	cm_store_close(c);
	cm_store_close(s);
	done_with(u);
	/* the schema before: a reader reads it, a copy copies from it, a writer migrates it */
	make_older(t);
	u = fresh("wd_copy_old");
	s = cm_store_open_existing(t, &err);
	if (!s)
		fail_msg("%s", err.msg);
	assert_int_equal(cm_store_version(s), CM_STORE_WAVE_VERSION - 1);
	assert_int_equal(cm_store_load(s, "r1", &back), 0);
	assert_false(back.waves);
	same_waves(&ds, &back, false);
	cm_dataset_free(&back);
	c = cm_store_open(u, &err);
	assert_non_null(c);
	memset(&got, 0, sizeof(got));
	assert_int_equal(cm_store_copy_run(s, c, "r1", &got), 0);
	assert_int_equal(cm_store_load(c, "r1", &back), 0);
	same_waves(&ds, &back, false);
	cm_dataset_free(&back);
	cm_store_close(c);
	cm_store_close(s);
	s = cm_store_open(t, &err);
	if (!s)
		fail_msg("%s", err.msg);
	assert_int_equal(cm_store_version(s), CM_STORE_VERSION);
	assert_int_equal(cm_store_load(s, "r1", &back), 0);
	same_waves(&ds, &back, false);
	cm_dataset_free(&back);
	/* and takes boots in waves again */
	assert_int_equal(cm_store_begin_run(s, "r2", "t", &ds), 0);
	assert_int_equal(cm_store_add_rows(s, "r2", &ds, 0, ds.n), 0);
	assert_int_equal(cm_store_load(s, "r2", &back), 0);
	same_waves(&ds, &back, true);
	cm_dataset_free(&back);
	cm_store_close(s);
	cm_dataset_free(&ds);
	done_with(t);
	done_with(u);
}

/* One side of a comparison: one session of W waves of K boots of case "c"; each wave shifted
 * by its own N(0, sd_wave) (its moment of the host, shared by its boots), each boot by N(0,
 * 3%). in_waves false: the same boots with their waves forgotten (boots as replicates). */
static void side(struct cm_dataset *ds, gsl_rng *r, int W, int K, double sd_wave, bool in_waves)
{
	cm_dataset_init(ds, NULL, 0);
	cm_dataset_meta(ds, "host", "sim");
	cm_dataset_session(ds, "1", "sim");
	ds->waves = in_waves;
	int boot = 0;
	for (int w = 1; w <= W; w++) {
		double shift = gsl_ran_gaussian(r, sd_wave);
		for (int k = 1; k <= K; k++) {
			ds->wave_now = in_waves ? w : 0, ds->slot_now = in_waves ? k : 0;
			cm_dataset_add(ds, "c", ++boot, false, "ok", "total",
				       1e8 * exp(shift + gsl_ran_gaussian(r, 0.03)), "sim", "none");
		}
	}
	ds->wave_now = ds->slot_now = 0;
}

/* Share of simulated pairs of runs (no true change) that compare calls "regressed" at
 * threshold 0. */
static double wave_fp(gsl_rng *r, int trials, double sd_wave, bool in_waves, bool *said_waves)
{
	int hits = 0;
	struct cm_judge j = { 0.05, 0, 0 };
	for (int t = 0; t < trials; t++) {
		struct cm_dataset b, c;
		struct cm_cmp_result res;
		side(&b, r, 8, 4, sd_wave, in_waves);
		side(&c, r, 8, 4, sd_wave, in_waves);
		cm_compare_build(&b, &c, &j, NULL, NULL, &res);
		hits += res.rows[0].cmp.verdict == CM_REGRESSED;
		if (said_waves)
			*said_waves = res.rows[0].waves;
		cm_compare_free(&res);
		cm_dataset_free(&b);
		cm_dataset_free(&c);
	}
	return (double)hits / trials;
}

/* The wave as a level below the session (issue 29 item 3): runs of 8 waves of 4 boots, each
 * wave's boots sharing a shift of sd 10% (the session effect's size in test_compare), no true
 * change. Taken as 32 independent boots a side, compare calls "regressed" far above 5%; with
 * the waves known (each wave one value: the median of its boots), at most 5% (seeded, 1,000
 * pairs). Without a wave shift both hold. Before the wave level, both rates were the boots'. */
static void test_wave_level_false_positives(void **state)
{
	(void)state;
	gsl_rng *r = gsl_rng_alloc(gsl_rng_mt19937);
	gsl_rng_set(r, 2929);
	bool said = false;
	double boots = wave_fp(r, 1000, 0.10, false, NULL), waves = wave_fp(r, 1000, 0.10, true, &said);
	double boots0 = wave_fp(r, 400, 0, false, NULL), waves0 = wave_fp(r, 400, 0, true, NULL);
	printf("8 waves x 4 boots a side, wave sd 10%%: false 'regressed' boots as replicates "
	       "%.1f%%, waves as the unit %.1f%%; wave sd 0: %.1f%%, %.1f%%\n", boots * 100,
	       waves * 100, boots0 * 100, waves0 * 100);
	assert_true(boots > 0.10); /* anti-conservative (3x nominal): why waves are a level */
	assert_true(waves <= 0.05);
	assert_true(said);
	assert_true(boots0 <= 0.05 && waves0 <= 0.05);
	/* the table says the unit */
	struct cm_dataset b, c;
	struct cm_cmp_result res;
	struct cm_judge j = { 0.05, 0, 0 };
	side(&b, r, 8, 4, 0.1, true);
	side(&c, r, 8, 4, 0.1, true);
	cm_compare_build(&b, &c, &j, NULL, NULL, &res);
	assert_int_equal(res.rows[0].base_n, 32);
	char *text = NULL;
	size_t n = 0;
	FILE *f = open_memstream(&text, &n);
	cm_cmp_writer("text")->write(&res, f);
	fclose(f);
	if (!strstr(text, "boots only (waves)"))
		fail_msg("the table does not say the unit:\n%s", text);
	free(text);
	cm_compare_free(&res);
	cm_dataset_free(&b);
	cm_dataset_free(&c);
	gsl_rng_free(r);
}

/* The units themselves: each (session, wave) one value, a boot alone its own. */
static void test_wave_units(void **state)
{
	(void)state;
	const double v[] = { 1, 4, 2, 100, 8, 16 };
	const int ses[] = { 1, 1, 1, 1, 2, 2 }, wave[] = { 1, 1, 1, 0, 1, 1 };
	double out[6];
	int os[6];
	size_t k = cm_stats_wave_units(v, ses, wave, 6, out, os);
	assert_int_equal(k, 3);
	assert_true(fabs(out[0] - 2) < 1e-9); /* the median of 1, 4, 2 */
	assert_true(fabs(out[1] - 100) < 1e-9);
	assert_true(fabs(out[2] - sqrt(8 * 16)) < 1e-9); /* wave 1 of session 2: not session 1's */
	assert_int_equal(os[0], 1), assert_int_equal(os[1], 1), assert_int_equal(os[2], 2);
}

/* A density sweep's report (issue 29 item 2): concurrency 1 (4 waves of 1) and 2 (2 waves of
 * 2), each boot's cost beside it, waves.csv's makespans: per level, K at a time, the makespan,
 * launches per second, the host's cost per wave and every phase's median, p90 and p99, the
 * total's slope per added VM; in report.md, report.json and report.html. */
static void test_wave_report(void **state)
{
	(void)state;
	char *axes[] = { "concurrency" }, *one[] = { "1" }, *two[] = { "2" };
	struct cm_dataset ds;
	cm_dataset_init(&ds, axes, 1);
	cm_dataset_case(&ds, "concurrency=1", one);
	cm_dataset_case(&ds, "concurrency=2", two);
	ds.waves = true;
	for (int b = 1; b <= 8; b++) {
		bool lone = b <= 4;
		ds.wave_now = lone ? b : 5 + (b - 5) / 2, ds.slot_now = lone ? 1 : 1 + (b - 5) % 2;
		const char *id = lone ? "concurrency=1" : "concurrency=2";
		int n = lone ? b : b - 4;
		cm_dataset_add(&ds, id, n, false, "ok", "work", 1e6 * b, "debugcon", "none");
		cm_dataset_add(&ds, id, n, false, "ok", "total", 1e7 * b, "debugcon", "none");
		cm_dataset_add(&ds, id, n, false, "ok", CM_METRIC_CPU, 5e6, "debugcon", "none");
		cm_dataset_add(&ds, id, n, false, "ok", CM_METRIC_MAXRSS, 1e8, "debugcon", "none");
	}
	ds.wave_now = ds.slot_now = 0;
	char dir[] = "/tmp/wd-report-XXXXXX";
	assert_non_null(mkdtemp(dir));
	char *wpath = cm_xasprintf("%s/waves.csv", dir);
	spit(wpath, "wave,session,warmup,boots,case,makespan_ns,cpu_ns,maxrss_bytes\n"
		    "1,1,0,1,concurrency=1,11000000,5000000,100000000\n"
		    "2,1,0,1,concurrency=1,21000000,5000000,100000000\n"
		    "3,1,0,1,concurrency=1,31000000,5000000,100000000\n"
		    "4,1,0,1,concurrency=1,41000000,5000000,100000000\n"
		    "5,1,0,2,concurrency=2,61000000,10000000,200000000\n"
		    "6,1,0,2,concurrency=2,81000000,10000000,200000000\n");
	struct cm_report r;
	struct cm_diags d = { 0 };
	cm_report_build(&ds, 0.05, &r);
	assert_int_equal(cm_report_write(&r, dir, "md,json,html", true, &d), 0);
	char *jp = cm_xasprintf("%s/report.json", dir), *mp = cm_xasprintf("%s/report.md", dir),
	     *hp = cm_xasprintf("%s/report.html", dir);
	json_error_t e;
	json_t *root = json_load_file(jp, 0, &e), *w = json_object_get(root, "waves");
	assert_non_null(w);
	json_t *lv = json_object_get(w, "levels");
	assert_int_equal(json_array_size(lv), 2);
	json_t *l1 = json_array_get(lv, 0), *l2 = json_array_get(lv, 1);
#define NUM(o, k) json_number_value(json_object_get(o, k))
	assert_int_equal(NUM(l1, "at_a_time"), 1), assert_int_equal(NUM(l2, "at_a_time"), 2);
	assert_int_equal(NUM(l1, "waves"), 4), assert_int_equal(NUM(l2, "waves"), 2);
	assert_true(fabs(NUM(l1, "launches_per_s") - 4 / 0.104) < 1e-9);
	assert_true(fabs(NUM(l2, "launches_per_s") - 4 / 0.142) < 1e-9);
	assert_true(fabs(NUM(l1, "makespan_median_ns") - 26e6) < 1e-3);
	assert_true(fabs(NUM(l2, "qemu_cpu_per_wave_ns") - 1e7) < 1e-3);
	assert_true(fabs(NUM(l2, "qemu_maxrss_per_wave_bytes") - 2e8) < 1e-3);
	json_t *ph = json_object_get(l1, "phases"), *tot = NULL, *x;
	size_t i;
	json_array_foreach(ph, i, x) {
		assert_false(cm_is_metric(json_string_value(json_object_get(x, "phase"))));
		if (!strcmp(json_string_value(json_object_get(x, "phase")), "total"))
			tot = x;
	}
	assert_non_null(tot); /* 10, 20, 30, 40 ms */
	assert_true(fabs(NUM(tot, "median") - 25e6) < 1e-3);
	assert_true(fabs(NUM(tot, "p90") - 37e6) < 1e-3);
	assert_true(fabs(NUM(tot, "p99") - 39.7e6) < 1e-3);
	json_t *per = json_object_get(w, "total_per_added_vm_ns");
	assert_non_null(per);
	/* a point per wave (the boots of one are one moment of the host): 4 + 2 waves are too
	 * few pairs for Sen's CI, which the 8 boots as points claimed */
	assert_true(json_is_number(json_object_get(per, "slope")));
	assert_true(json_is_null(json_object_get(per, "lo")) && json_is_null(json_object_get(per, "hi")));
#undef NUM
	json_decref(root);
	char *md = slurp(mp), *html = slurp(hp);
	assert_non_null(strstr(md, "## Boots at once (waves)"));
	assert_non_null(strstr(md, "| concurrency=2 | 2 | 2 | 71.0 ms | "));
	assert_non_null(strstr(md, "per added VM"));
	assert_non_null(strstr(md, "| concurrency=1 | 1 | concurrency=1 | total | 4 | 25.0 ms | 37.0 ms | 39.7 ms |"));
	assert_non_null(strstr(html, "Boots at once (waves)"));
	assert_non_null(strstr(html, "K at a time"));
	free(md), free(html);
	/* coldmark report of the folder into another: the makespans still from its waves.csv */
	char *other = cm_xasprintf("%s/other", dir), *op = cm_xasprintf("%s/report.json", other);
	char *argv[] = { COLDMARK_BIN, "report", dir, "-o", other, "--format", "json", NULL };
	pid_t pid;
	int st;
	assert_int_equal(posix_spawn(&pid, argv[0], NULL, NULL, argv, environ), 0);
	assert_int_equal(waitpid(pid, &st, 0), pid);
	assert_true(WIFEXITED(st) && WEXITSTATUS(st) == 0);
	root = json_load_file(op, 0, &e);
	lv = json_object_get(json_object_get(root, "waves"), "levels");
	assert_true(fabs(json_number_value(json_object_get(json_array_get(lv, 1), "launches_per_s")) -
			 4 / 0.142) < 1e-9);
	json_decref(root);
	free(other), free(op);
	char *rm = cm_xasprintf("rm -rf %s", dir);
	assert_int_equal(system(rm), 0);
	free(rm), free(jp), free(mp), free(hp), free(wpath);
	cm_report_free(&r);
	cm_dataset_free(&ds);
	cm_diags_clear(&d);
}

int main(int argc, char **argv)
{
	gsl_set_error_handler_off();
	if (argc > 1 && !strcmp(argv[1], "--pg")) {
		if (!(pg_base = getenv("COLDMARK_DB")) || !cm_store_is_url(pg_base)) {
			fprintf(stderr, "test_wave_data --pg: no PostgreSQL in COLDMARK_DB "
					"(scripts/slurm-local.sh run --pg-only -- test_wave_data --pg): skipped\n");
			return 77;
		}
		const struct CMUnitTest pg[] = { cmocka_unit_test(test_store_waves) };
		return cmocka_run_group_tests_name("wave-data-postgresql", pg, NULL, NULL);
	}
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_samples_columns),
		cmocka_unit_test(test_samples_old_and_bad),
		cmocka_unit_test(test_store_waves),
		cmocka_unit_test(test_wave_units),
		cmocka_unit_test(test_wave_level_false_positives),
		cmocka_unit_test(test_wave_report),
	};
	return cmocka_run_group_tests_name("wave-data", tests, NULL, NULL);
}
