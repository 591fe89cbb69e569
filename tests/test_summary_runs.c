/* A tag's runs read as one side from the session summary (issue 25 item 3): every kind of
 * query asked once for all the runs (PostgreSQL: pipelined), each run's summary rows put in
 * the order of their first raw row by coldmark, runs in waves and runs whose summary is not
 * trusted read raw and merged in their place. The dataset must be the one that loading each
 * run alone and merging them in turn gives (what compare did before), to the bit, and
 * compare's output the same bytes as from the raw samples (--from-samples).
 * The runs are written so that a run's key order (case, session, phase) is not the order of
 * its rows: sessions written 2 before 1, cases c before a, phases total before kernel before
 * firmware. Real stores: a SQLite file (test_summary_runs) and a PostgreSQL 15 server
 * (test_summary_runs --pg with COLDMARK_DB naming one). */
#define _GNU_SOURCE
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <fcntl.h>
#include <libpq-fe.h>
#include <math.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "coldmark/store.h"

#include "helpers.h"
#include "summary_util.h"

static double noise(unsigned long *s)
{
	*s = *s * 6364136223846793005UL + 1442695040888963407UL;
	return (double)(*s >> 11) / (double)(1UL << 53) * 2 - 1;
}

/* cases in the run's order: c first (not the key's order); extra: a case only this run has */
static const char *const CASES[] = { "variant=c", "variant=a", "variant=b", "variant=d" };
static const char *const PHASES[] = { "total", "kernel", "firmware" };

struct shape {
	const char *id, *tag;
	int day, sessions, boots;
	bool waves, extra_case;
	double slow;
};

/* A run as a runner writes it, a transaction a boot: sessions from the last to the first,
 * each boot's phases total, kernel, firmware; the first boot of a session a warm-up; in waves
 * (meta "concurrency", each boot's wave) when asked. */
static void write_run(const char *target, const struct shape *r, unsigned long seed)
{
	struct cm_error err = { 0 };
	struct cm_store *s = cm_store_open(target, &err);
	if (!s)
		fail_msg("%s", err.msg);
	char *axes[] = { "variant" }, date[64];
	struct cm_dataset ds;
	cm_dataset_init(&ds, axes, 1);
	int ncases = r->extra_case ? 4 : 3;
	for (int c = 0; c < ncases; c++) {
		char *label[] = { (char *)CASES[c] + strlen("variant=") };
		cm_dataset_case(&ds, CASES[c], label);
	}
	snprintf(date, sizeof(date), "2026-12-%02d 01:00:00 +0000", r->day);
	cm_dataset_meta(&ds, "date", date);
	cm_dataset_meta(&ds, "host", "h1");
	if (r->waves)
		cm_dataset_meta(&ds, "concurrency", "2");
	assert_int_equal(cm_store_begin_run(s, r->id, r->tag, &ds), 0);
	for (int k = r->sessions; k >= 1; k--) {
		cm_dataset_session_number(&ds, k, "h1");
		double level = exp(0.02 * noise(&seed));
		for (int b = 1; b <= r->boots; b++)
			for (int c = 0; c < ncases; c++) {
				size_t from = ds.n;
				ds.wave_now = r->waves ? b : 0, ds.slot_now = r->waves ? 1 : 0;
				for (int p = 0; p < 3; p++)
					cm_dataset_add(&ds, CASES[c], (k - 1) * r->boots + b, b == 1, "ok",
						       PHASES[p], (3 - p) * 1e7 * level *
						       exp(0.01 * noise(&seed)) * (c == 2 ? 1 + r->slow : 1),
						       "perf", "none");
				assert_int_equal(cm_store_add_rows(s, r->id, &ds, from, ds.n), 0);
			}
	}
	cm_dataset_free(&ds);
	cm_store_close(s);
}

/* What compare did before: each run by cm_store_load_summary, merged in turn under the
 * newest run's axes and meta. */
static void one_by_one(struct cm_store *s, char *const *ids, size_t n, bool sessions,
		       struct cm_dataset *ds)
{
	struct cm_dataset one;
	struct cm_store_read how;
	assert_int_equal(cm_store_load_summary(s, ids[n - 1], NULL, sessions, &one, &how), 0);
	cm_dataset_init(ds, one.axes, one.naxes);
	for (size_t i = 0; i < one.nmeta; i++)
		cm_dataset_meta(ds, one.meta_keys[i], one.meta_vals[i]);
	cm_dataset_free(&one);
	for (size_t i = 0; i < n; i++) {
		assert_int_equal(cm_store_load_summary(s, ids[i], NULL, sessions, &one, &how), 0);
		cm_dataset_merge(ds, &one, ids[i]);
		cm_dataset_free(&one);
	}
}

/* the two datasets the same: sessions, cases and labels, phases, meta, rows, and every
 * session summary with its times, to the bit, in the same order */
static void same_dataset(const struct cm_dataset *a, const struct cm_dataset *b)
{
	assert_int_equal(a->nsessions, b->nsessions);
	for (size_t i = 0; i < a->nsessions; i++) {
		assert_string_equal(a->sessions[i].id, b->sessions[i].id);
		assert_string_equal(a->sessions[i].host, b->sessions[i].host);
	}
	assert_int_equal(a->ncases, b->ncases);
	assert_int_equal(a->naxes, b->naxes);
	for (size_t i = 0; i < a->ncases; i++) {
		assert_string_equal(a->cases[i].id, b->cases[i].id);
		for (size_t k = 0; k < a->naxes; k++)
			assert_string_equal(a->cases[i].labels[k], b->cases[i].labels[k]);
	}
	assert_int_equal(a->nphases, b->nphases);
	for (size_t i = 0; i < a->nphases; i++)
		assert_string_equal(a->phases[i], b->phases[i]);
	assert_int_equal(a->nmeta, b->nmeta);
	for (size_t i = 0; i < a->nmeta; i++) {
		assert_string_equal(a->meta_keys[i], b->meta_keys[i]);
		assert_string_equal(a->meta_vals[i], b->meta_vals[i]);
	}
	assert_int_equal(a->n, b->n); /* the raw runs' rows */
	for (size_t i = 0; i < a->n; i++) {
		assert_int_equal(a->rows[i].case_idx, b->rows[i].case_idx);
		assert_int_equal(a->rows[i].session, b->rows[i].session);
		assert_memory_equal(&a->rows[i].duration_ns, &b->rows[i].duration_ns, sizeof(double));
	}
	assert_int_equal(a->nsums, b->nsums);
	for (size_t i = 0; i < a->nsums; i++) {
		const struct cm_session_sum *x = &a->sums[i], *y = &b->sums[i];
		if (x->case_idx != y->case_idx || x->phase_idx != y->phase_idx ||
		    x->session != y->session || x->n != y->n || x->n_rows != y->n_rows ||
		    x->n_warmup != y->n_warmup)
			fail_msg("session summary %zu differs (case %zu/%zu, session %d/%d)", i,
				 x->case_idx, y->case_idx, x->session, y->session);
		assert_memory_equal(x->values, y->values, x->n * sizeof(double));
		assert_memory_equal(&x->median_ln, &y->median_ln, sizeof(double));
		assert_memory_equal(&x->ssw, &y->ssw, sizeof(double));
	}
}

/* Tag T: five runs (two sessions written last first; one in waves; one whose summary a
 * deleted sample makes untrusted; one with a case the others lack), tag U: two runs. */
static void test_tag_as_one_side(void **state)
{
	char *t = fresh("t_runs");
	const struct shape runs[] = {
		{ "t1", "T", 1, 2, 4, false, false, 0 }, { "t2", "T", 2, 1, 4, true, false, 0 },
		{ "t3", "T", 3, 2, 3, false, false, 0 }, { "t4", "T", 4, 1, 5, false, true, 0 },
		{ "t5", "T", 5, 2, 4, false, false, 0 }, { "u1", "U", 6, 2, 4, false, false, 0.1 },
		{ "u2", "U", 7, 1, 4, false, false, 0.1 },
	};
	for (size_t i = 0; i < sizeof(runs) / sizeof(runs[0]); i++)
		write_run(t, &runs[i], 100 + i);
	th_store_exec(t, "DELETE FROM samples WHERE rowid = (SELECT MAX(rowid) FROM samples WHERE "
		    "run_id = 't3' AND phase = 'kernel')");
	assert_int_equal(scalar(t, "SELECT COUNT(*) FROM runs"), 7);

	struct cm_error e = { 0 };
	struct cm_store *s = cm_store_open_existing(t, &e);
	if (!s)
		fail_msg("%s", e.msg);
	/* U: every run from its summary, as session summaries */
	char *u[] = { "u1", "u2" }, *ids[] = { "t1", "t2", "t3", "t4", "t5" };
	struct cm_dataset before, now;
	struct cm_store_read how[5];
	one_by_one(s, u, 2, true, &before);
	assert_int_equal(cm_store_load_summary_runs(s, u, 2, true, &now, how), 0);
	assert_true(now.nsums > 0 && !now.n && how[0].summary && how[1].summary);
	same_dataset(&before, &now);
	cm_dataset_free(&before), cm_dataset_free(&now);
	/* T: runs read raw beside the others: every run as rows (compare's cells count rows or
	 * session summaries, never both) */
	one_by_one(s, ids, 5, false, &before);
	assert_int_equal(cm_store_load_summary_runs(s, ids, 5, true, &now, how), 0);
	assert_true(!now.nsums && now.n > 0);
	same_dataset(&before, &now);
	assert_true(how[0].summary && how[3].summary && how[4].summary);
	assert_true(!how[1].summary && !how[1].stale); /* in waves: raw, no note */
	assert_true(how[2].stale && how[2].raw_rows == how[2].summary_rows - 1);
	cm_dataset_free(&before), cm_dataset_free(&now);
	cm_store_close(s);

	char *out, *err, *out2, *err2;
	int rc = coldmark(&out, &err, "compare", "T", "U", "--db", t, "--format", "json", NULL);
	assert_int_equal(coldmark(&out2, &err2, "compare", "T", "U", "--db", t, "--format", "json",
				  "--from-samples", NULL), rc);
	assert_non_null(strstr(err, "run t3: its session summary counts"));
	assert_null(strstr(err, "run t2: its session summary")); /* waves: raw by design */
	assert_string_equal(out, out2);
	free(out), free(err), free(out2), free(err2);
	rc = coldmark(&out, &err, "compare", "T", "U", "--db", t, "--relative-to", "variant=a", NULL);
	assert_int_equal(coldmark(&out2, &err2, "compare", "T", "U", "--db", t, "--relative-to",
				  "variant=a", "--from-samples", NULL), rc);
	assert_string_equal(out, out2);
	free(out), free(err), free(out2), free(err2);
	/* one run in waves against one from its summary: the run in waves raw (decided before
	 * its head is read) */
	rc = coldmark(&out, &err, "compare", "t2", "t1", "--db", t, "--format", "json", NULL);
	assert_int_equal(coldmark(&out2, &err2, "compare", "t2", "t1", "--db", t, "--format", "json",
				  "--from-samples", NULL), rc);
	assert_string_equal(out, out2);
	free(out), free(err), free(out2), free(err2), free(t);
}

static int cleanup(void **state)
{
	th_rm_rf(tmp);
	return 0;
}

int main(int argc, char **argv)
{
	snprintf(tmp, sizeof(tmp), "/tmp/cm-sumruns-XXXXXX");
	if (!mkdtemp(tmp))
		return 1;
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_tag_as_one_side),
	};
	if (argc > 1 && !strcmp(argv[1], "--pg")) {
		if (!(pg_base = getenv("COLDMARK_DB")) || !cm_store_is_url(pg_base)) {
			fprintf(stderr, "test_summary_runs --pg: no PostgreSQL in COLDMARK_DB: skipped\n");
			cleanup(NULL);
			return 77;
		}
		return cmocka_run_group_tests_name("summary-runs-postgresql", tests, NULL, cleanup);
	}
	return cmocka_run_group_tests_name("summary-runs-sqlite", tests, NULL, cleanup);
}
