/* Issue 25, the paths found in its seventh round (see also test_scale.c). "exact": the
 * faster paths give what the slower ones gave, bit for bit (Hodges-Lehmann by selection
 * against the listing of every difference; a run's plan arranged into waves in one pass
 * against cm_wave_take wave after wave). "growth" (CTest scale-growth-paths, label
 * benchmark): each path that was quadratic, run at n and at 4n; the CPU-time ratio must stay
 * under 10 (n log n gives ~4.5, n^2 16). A ratio of two sizes, never a timed bound. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <gsl/gsl_cdf.h>
#include <gsl/gsl_statistics_double.h>
#include <math.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "coldmark/analysis.h"
#include "coldmark/harness.h"
#include "coldmark/matrix.h"
#include "coldmark/model.h"
#include "coldmark/report.h"
#include "coldmark/stats.h"
#include "coldmark/store.h"
#include "coldmark/util.h"
#include "helpers.h"

static uint64_t rng_state = 88172645463325252ULL;
static uint64_t rnd(void)
{
	rng_state ^= rng_state << 13;
	rng_state ^= rng_state >> 7;
	rng_state ^= rng_state << 17;
	return rng_state;
}

static int cmp_d(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return (x > y) - (x < y);
}

/* Hodges-Lehmann by listing every difference, as it was: the shift's median and the CI's
 * order statistics (Lehmann's normal approximation) */
static void naive_hl(const double *x, size_t nx, const double *y, size_t ny, double alpha,
		     double out[3])
{
	size_t nd = nx * ny;
	double *d = malloc(nd * sizeof(double));
	for (size_t i = 0; i < nx; i++)
		for (size_t j = 0; j < ny; j++)
			d[i * ny + j] = x[i] - y[j];
	qsort(d, nd, sizeof(double), cmp_d);
	out[0] = gsl_stats_quantile_from_sorted_data(d, 1, nd, 0.5);
	double z = gsl_cdf_ugaussian_Pinv(1 - alpha / 2);
	double k = nd / 2.0 - z * sqrt(nx * ny * (nx + ny + 1) / 12.0);
	size_t qu = k < 1 ? 0 : (size_t)floor(k);
	qu = qu ? qu : 1;
	out[1] = d[qu - 1], out[2] = d[nd - qu];
	free(d);
}

/* Hodges-Lehmann's shift and CI by selection, bit for bit the listed ones: durations, their
 * logs, few distinct values (ties across the sides), negative differences, sizes either
 * side of the listing threshold, one side far smaller than the other */
static void test_hodges_lehmann_exact(void **state)
{
	(void)state;
	static const size_t sz[][2] = { { 60, 80 }, { 300, 300 }, { 49, 200 }, { 1000, 7 },
					{ 7, 1000 }, { 64, 65 }, { 500, 400 }, { 2, 3000 } };
	static double x[3000], y[3000];
	for (size_t t = 0; t < 4 * sizeof(sz) / sizeof(sz[0]); t++) {
		size_t nx = sz[t % 8][0], ny = sz[t % 8][1], kind = t / 8;
		for (size_t i = 0; i < nx + ny; i++) {
			double v = kind == 2 ? (double)(rnd() % 7) + 1 /* few values: ties */
					     : 2e7 + (double)(rnd() % 4000000);
			v = kind == 1 ? log(v) : kind == 3 ? v - 2.2e7 : v; /* logs; either sign */
			*(i < nx ? &x[i] : &y[i - nx]) = v;
		}
		double want[3], got[3];
		naive_hl(x, nx, y, ny, 0.1, want);
		assert_int_equal(cm_stats_hodges_lehmann(x, nx, y, ny, 0.1, &got[0], &got[1], &got[2]), 0);
		if (memcmp(want, got, sizeof(want)))
			fail_msg("set %zu (%zu x %zu): %.17g [%.17g, %.17g], listed %.17g [%.17g, %.17g]",
				 t, nx, ny, got[0], got[1], got[2], want[0], want[1], want[2]);
	}
}

static struct cm_matrix *waves_matrix(const char *axes, const char *run)
{
	setenv("COLDMARK_GUEST_DIR", GUEST_DIR, 1);
	char *y = cm_xasprintf("guest: {bundled: guest}\nrun: {reference: none, %s}\naxes: {%s}\n",
			       run, axes);
	struct cm_diags d = { 0 };
	struct cm_matrix *m = cm_matrix_load_string(y, strlen(y), "waves.yaml", &d);
	cm_diags_print(&d, stderr);
	assert_non_null(m);
	cm_diags_clear(&d);
	free(y);
	return m;
}

/* cm_wave_arrange leaves the plan, and gives the wave sizes, that cm_wave_take wave after
 * wave does: the concurrency axis (copies of one case; warm-ups apart; sessions; a value
 * whose last wave is short) and run.concurrency (the next K boots, cases mixed) */
static void test_wave_arrange_exact(void **state)
{
	(void)state;
	static const char *const mx[][2] = {
		{ "concurrency: [1, 2, 4, 8], memory: {from: 16M, to: 40M, step: 1M}",
		  "boots: 8, warmup: 0, sessions: 3" },
		{ "concurrency: [2, 4], memory: {from: 16M, to: 30M, step: 1M}", "boots: 8, warmup: 4, sessions: 2" },
		{ "concurrency: [2, 5], memory: [16M, 32M]", "boots: 10, warmup: 0, order: sequential" },
		{ "memory: {from: 16M, to: 52M, step: 1M}", "boots: 5, warmup: 1, concurrency: 4, sessions: 2" },
		{ "memory: {from: 16M, to: 20M, step: 1M}", "boots: 3, warmup: 3, concurrency: 7" },
	};
	for (size_t t = 0; t < sizeof(mx) / sizeof(mx[0]); t++) {
		struct cm_matrix *m = waves_matrix(mx[t][0], mx[t][1]);
		size_t n;
		struct cm_planned *a = cm_plan_new(m, &n), *b = cm_xmalloc((n + 1) * sizeof(*b));
		memcpy(b, a, n * sizeof(*a));
		size_t *k = cm_xcalloc(n + 1, sizeof(size_t)), waves = 0;
		cm_wave_arrange(m, b, n, 0, k);
		for (size_t i = 0; i < n; waves++) {
			size_t got = cm_wave_take(m, a, n, i);
			assert_int_equal(k[i], got);
			i += got;
		}
		assert_memory_equal(a, b, n * sizeof(*a));
		assert_true(waves < n); /* some waves of several boots */
		free(a), free(b), free(k);
		cm_matrix_free(m);
	}
}

static char store_path[64];
/* an import of n cases of one boot into a new SQLite store: n (case, session) summary keys,
 * each case id sharing its first characters with every other (as a sweep's ids do) */
static void import_run(size_t n)
{
	unlink(store_path);
	struct cm_dataset ds;
	cm_dataset_init(&ds, NULL, 0);
	for (size_t c = 0; c < n; c++) {
		char id[48];
		snprintf(id, sizeof(id), "memory=%zuM,smp=1", 16 + c);
		cm_dataset_add(&ds, id, 1, false, "ok", "total", 1e7 + (double)c, "perf", "none");
	}
	struct cm_error err = { 0 };
	struct cm_store *s = cm_store_open(store_path, &err);
	assert_non_null(s);
	assert_int_equal(cm_store_import(s, "growth-run", "growth", &ds), 0);
	cm_store_close(s);
	cm_dataset_free(&ds);
}

/* a run in waves of n cases, each case 2 waves of 2 boots at once: n levels (case, K) */
static void waves_run(size_t n)
{
	struct cm_dataset ds;
	cm_dataset_init(&ds, NULL, 0);
	ds.waves = true;
	for (size_t c = 0; c < n; c++) {
		char id[48];
		snprintf(id, sizeof(id), "memory=%zuM", 16 + c);
		for (int b = 0; b < 4; b++) {
			ds.wave_now = (int)(2 * c) + b / 2 + 1, ds.slot_now = b % 2 + 1;
			cm_dataset_add(&ds, id, b + 1, false, "ok", "kernel", 5e6 + b, "perf", "none");
			cm_dataset_add(&ds, id, b + 1, false, "ok", "total", 1e7 + b, "perf", "none");
		}
	}
	struct cm_wave_summary ws;
	cm_wave_summary_build(&ds, NULL, 0, NULL, &ws);
	assert_int_equal(ws.n, n);
	cm_wave_summary_free(&ws);
	cm_dataset_free(&ds);
}

/* adaptive stopping's next block over n cases of 6 boots each (every case still wide) */
static void next_block_run(size_t n)
{
	char yaml[512];
	int len = snprintf(yaml, sizeof(yaml),
			   "guest: {bundled: guest}\nrun: {boots: 6, min_boots: 6, max_boots: 20, "
			   "until_ci: 1, reference: none}\naxes:\n  memory: {from: 16M, to: %zuM, step: 1M}\n",
			   15 + n);
	struct cm_diags d = { 0 };
	struct cm_matrix *m = cm_matrix_load_string(yaml, (size_t)len, "growth.yaml", &d);
	assert_non_null(m);
	struct cm_dataset ds;
	char *axes[] = { "memory" };
	cm_dataset_init(&ds, axes, 1);
	for (size_t c = 0; c < m->ncases; c++)
		cm_dataset_case(&ds, m->cases[c].id, m->cases[c].labels);
	for (int b = 1; b <= 6; b++)
		for (size_t c = 0; c < m->ncases; c++)
			cm_dataset_add(&ds, m->cases[c].id, b, false, "ok", "total", 1e6 * (1 + 0.02 * b),
				       "perf", "");
	int *planned = cm_xcalloc(n + 1, sizeof(int));
	for (size_t c = 0; c < n; c++)
		planned[c] = 6;
	struct cm_planned *pl = NULL;
	size_t npl = 0;
	assert_int_equal(cm_plan_next_block(m, &ds, planned, &pl, &npl), n);
	free(pl), free(planned);
	cm_dataset_free(&ds);
	cm_matrix_free(m);
	cm_diags_clear(&d);
}

static size_t plan_cases;
/* the waves of a shuffled plan over the concurrency axis x n/4 memory values, 8 boots each,
 * as a run in waves arranges them */
static void wave_plan_run(size_t n)
{
	char axes[128];
	snprintf(axes, sizeof(axes), "concurrency: [1, 2, 4, 8], memory: {from: 16M, to: %zuM, step: 1M}",
		 15 + n / 4);
	struct cm_matrix *m = waves_matrix(axes, "boots: 8, warmup: 0");
	size_t np;
	struct cm_planned *pl = cm_plan_new(m, &np);
	size_t *k = cm_xmalloc((np + 1) * sizeof(size_t));
	cm_wave_arrange(m, pl, np, 0, k);
	plan_cases = m->ncases;
	free(pl), free(k);
	cm_matrix_free(m);
}

/* report.html of n cases over memory (n/2 values) x smp (1, 2): the smp plot has a slice
 * (a line, its marks and its slope) per memory value. The report is built once per size:
 * the least of three runs is the writing alone. */
static char html_dir[64];
static struct cm_dataset html_ds;
static struct cm_report html_r;
static size_t html_built;
static void html_sweep_run(size_t n)
{
	struct cm_dataset *ds = &html_ds;
	if (html_built != n) {
		if (html_built)
			cm_report_free(&html_r), cm_dataset_free(ds);
		char *axes[] = { "memory", "smp" };
		cm_dataset_init(ds, axes, 2);
		for (size_t c = 0; c < n; c++) {
			char id[64], mem[32], smp[8], *labels[] = { mem, smp };
			snprintf(mem, sizeof(mem), "%zuM", 16 + c / 2);
			snprintf(smp, sizeof(smp), "%zu", 1 + c % 2);
			snprintf(id, sizeof(id), "memory=%s,smp=%s", mem, smp);
			cm_dataset_case(ds, id, labels);
			for (int b = 1; b <= 3; b++)
				cm_dataset_add(ds, id, b, false, "ok", "total",
					       1e7 + 1e3 * (double)(c % 2) + (double)(rnd() % 100000), "perf", "none");
		}
		assert_int_equal(cm_report_build(ds, 0.05, &html_r), 0);
		html_built = n;
	}
	struct cm_diags d = { 0 };
	assert_int_equal(cm_report_write(&html_r, html_dir, "html", false, &d), 0);
	cm_diags_clear(&d);
}

static void hl_run(size_t n) /* Hodges-Lehmann of two sides of n boots */
{
	double *x = malloc(n * sizeof(double)), *y = malloc(n * sizeof(double)), e, lo, hi;
	for (size_t i = 0; i < n; i++)
		x[i] = 2e7 + (double)(rnd() % 4000000), y[i] = 2.01e7 + (double)(rnd() % 4000000);
	assert_int_equal(cm_stats_hodges_lehmann(x, n, y, n, 0.1, &e, &lo, &hi), 0);
	free(x), free(y);
}

/* history of one run of n sessions of 30 boots (one case): a point per session */
static void history_run(size_t n)
{
	struct cm_dataset ds;
	cm_dataset_init(&ds, NULL, 0);
	for (size_t q = 0; q < n; q++) {
		cm_dataset_session_number(&ds, (int)q + 1, NULL);
		for (int b = 1; b <= 30; b++)
			cm_dataset_add(&ds, "c", (int)q * 30 + b, false, "ok", "total",
				       1e7 + (double)(rnd() % 100000), "perf", "none");
	}
	char *labels[] = { "t" }, *ids[] = { "run-1" };
	struct cm_judge j = { 0.05, 0.02, 0 };
	struct cm_history h;
	assert_int_equal(cm_history_build(&ds, labels, ids, 1, NULL, "total", &j, &h), 0);
	assert_int_equal(h.series[0].n, n);
	cm_history_free(&h);
	cm_dataset_free(&ds);
}

/* history of a case and its reference over one run of n sessions of a boot each, both
 * stepping up by 10% half-way: a change point, with the reference's change across it. The
 * points' labels are the tag's ("TAG#session"), a CI tag as long as they come. */
static void history_ref_run(size_t n)
{
	char *axes[] = { "memory" };
	struct cm_dataset ds;
	cm_dataset_init(&ds, axes, 1);
	char *lab[] = { "16M" }, *none[] = { "" };
	cm_dataset_case(&ds, "memory=16M", lab);
	cm_dataset_case(&ds, CM_REFERENCE_ID, none);
	for (size_t q = 0; q < n; q++) {
		double step = q < n / 2 ? 1 : 1.1;
		cm_dataset_session_number(&ds, (int)q + 1, NULL);
		cm_dataset_add(&ds, "memory=16M", (int)q + 1, false, "ok", "total",
			       step * (1e7 + (double)(rnd() % 100000)), "perf", "none");
		cm_dataset_add(&ds, CM_REFERENCE_ID, (int)q + 1, false, "ok", "total",
			       step * (5e6 + (double)(rnd() % 50000)), "perf", "none");
	}
	char *labels[] = { "nightly/x86_64-kvm/qemu-9.2.0-rc3/linux-6.12" }, *ids[] = { "run-1" };
	struct cm_judge j = { 0.05, 0.02, 0 };
	struct cm_history h;
	assert_int_equal(cm_history_build(&ds, labels, ids, 1, "memory=16M", "total", &j, &h), 0);
	assert_true(h.series[0].nchanges > 0 && !isnan(h.series[0].changes[0].ref_rel));
	cm_history_free(&h);
	cm_dataset_free(&ds);
}

/* compare of two one-session runs of n cases with this host's calibration of every case and
 * phase (a sweep's calibration): each row takes its own case's components */
static void calibrated_run(size_t n)
{
	struct cm_dataset a, b;
	struct cm_calibration *cal = cm_xcalloc(2 * n + 1, sizeof(*cal));
	char *axes[] = { "memory" };
	cm_dataset_init(&a, axes, 1), cm_dataset_init(&b, axes, 1);
	for (size_t c = 0; c < n; c++) {
		char id[48];
		snprintf(id, sizeof(id), "memory=%zuM", 16 + c);
		for (int k = 0; k < 2; k++) {
			struct cm_dataset *d = k ? &b : &a;
			for (int i = 0; i < 5; i++)
				cm_dataset_add(d, id, i + 1, false, "ok", "total",
					       1e7 + 1e4 * k + (double)(rnd() % 10000), "perf", "none");
			cal[2 * c + k] = (struct cm_calibration){ cm_xstrdup(id), cm_xstrdup(k ? "total" : "kernel"),
								  { 5, 5, 1e-4 * (double)(c + 1), 1e-5, 0.1 } };
		}
	}
	struct cm_cmp_opts o = { .cal = cal, .ncal = 2 * n };
	struct cm_judge j = { 0.05, 0.02, 0 };
	struct cm_cmp_result r;
	assert_int_equal(cm_compare_build(&a, &b, &j, "total", &o, &r), 0);
	assert_int_equal(r.nrows, n);
	for (size_t i = 0; i < r.nrows; i++) /* memory=(16 + c)M: its entry's within */
		assert_true(r.rows[i].vc.within == 1e-4 * (double)(atoi(r.rows[i].case_id + 7) - 15));
	cm_compare_free(&r);
	cm_calibration_free(cal, 2 * n);
	cm_dataset_free(&a), cm_dataset_free(&b);
}

static void test_growth_import(void **state)
{
	(void)state;
	/* was rows x keys: each row's (case, session) summary key found by a scan of the keys
	 * (import, sync, --resume's missing rows, a shared store's first batch) */
	snprintf(store_path, sizeof(store_path), "/tmp/cm-scale-%d.db", (int)getpid());
	th_growth("import into a store (the rows' summary keys)", import_run, 10000);
	unlink(store_path);
}

static void test_growth_waves(void **state)
{
	(void)state;
	/* was levels x waves (and a list as long as the rows per level): each wave's level found
	 * by a scan of the levels, each level's waves by a pass over every wave */
	th_growth("a run in waves: its levels' waves and boots", waves_run, 4000);
}

static void test_growth_next_block(void **state)
{
	(void)state;
	setenv("COLDMARK_GUEST_DIR", GUEST_DIR, 1);
	/* was cases x rows a block: each case's CI from a scan of every row */
	th_growth("adaptive stopping's next block (each case's CI)", next_block_run, 1000);
}

static void test_growth_wave_plan(void **state)
{
	(void)state;
	/* was cases x cases x K: each wave's members found by a scan of the session and moved
	 * forward one memmove each (a concurrency case's copies are a shuffled block apart) */
	th_growth("a run in waves: its plan's waves", wave_plan_run, 1000);
	assert_int_equal(plan_cases, 4000);
}

static void test_growth_html_sweep(void **state)
{
	(void)state;
	/* was slices x cases and slices x trends: each slice's marks from a pass over every
	 * case, its line and slope from a scan of the trends */
	snprintf(html_dir, sizeof(html_dir), "/tmp/cm-scale-html-%d", (int)getpid());
	th_growth("report.html's sweep plot (a slice per case pair)", html_sweep_run, 10000);
	cm_report_free(&html_r), cm_dataset_free(&html_ds);
	char *f = cm_xasprintf("%s/report.html", html_dir);
	unlink(f), free(f), rmdir(html_dir);
}

static void test_growth_hodges_lehmann(void **state)
{
	(void)state;
	/* was nx x ny: every difference listed and sorted (compare's boots-only CI) */
	th_growth("Hodges-Lehmann shift and CI (compare of two runs' boots)", hl_run, 4000);
}

static void test_growth_history(void **state)
{
	(void)state;
	/* was sessions x boots per case and run: each session's point from a pass over every
	 * boot of the cell */
	th_growth("history: a run's points, one a session", history_run, 6000);
}

static void test_growth_history_reference(void **state)
{
	(void)state;
	/* was changes x points x the reference's points: the reference's points with a change's
	 * labels found by a scan of them all for every point */
	th_growth("history: the reference's change across each change", history_ref_run, 6000);
}

static void test_growth_calibrated(void **state)
{
	(void)state;
	/* was rows x entries: each row's calibration found by a scan of the host's entries */
	th_growth("compare with the host's calibration of every case", calibrated_run, 4000);
}


int main(int argc, char **argv)
{
	const struct CMUnitTest exact[] = {
		cmocka_unit_test(test_wave_arrange_exact),
		cmocka_unit_test(test_hodges_lehmann_exact),
	};
	const struct CMUnitTest grow[] = {
		cmocka_unit_test(test_growth_import),
		cmocka_unit_test(test_growth_waves),
		cmocka_unit_test(test_growth_next_block),
		cmocka_unit_test(test_growth_wave_plan),
		cmocka_unit_test(test_growth_html_sweep),
		cmocka_unit_test(test_growth_hodges_lehmann),
		cmocka_unit_test(test_growth_history),
		cmocka_unit_test(test_growth_history_reference),
		cmocka_unit_test(test_growth_calibrated),
	};
	if (argc > 1 && !strcmp(argv[1], "growth"))
		return cmocka_run_group_tests_name("growth", grow, NULL, NULL);
	return cmocka_run_group_tests_name("exact", exact, NULL, NULL);
}
