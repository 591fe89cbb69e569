/* Issue 25: what grows with the input. "exact": Theil-Sen, Sen's CI and Jonckheere's J,
 * computed in O(n log n), against their O(n^2) definitions written out here, on random inputs
 * with ties in x and in y. "growth" (CTest label benchmark): each path that was quadratic, run
 * at n and at 4n; the CPU-time ratio must stay under 10 (n log n gives ~4.5, n^2 gives 16).
 * A ratio of two sizes, never a timed bound: a slower machine moves both. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <math.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "coldmark/analysis.h"
#include "coldmark/matrix.h"
#include "coldmark/model.h"
#include "coldmark/stats.h"
#include "coldmark/util.h"
#include "helpers.h"

static uint64_t rng_state = 88172645463325252ULL;
static uint64_t rnd(void)
{
	rng_state ^= rng_state << 13, rng_state ^= rng_state >> 7, rng_state ^= rng_state << 17;
	return rng_state;
}

static int cmp_d(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return x < y ? -1 : x > y;
}

/* Theil-Sen by its definition: all the slopes, sorted. */
static void naive_theil_sen(const double *x, const double *y, size_t n, double alpha,
			    struct cm_slope *out, size_t *npairs)
{
	double *sl = malloc((n * (n - 1) / 2 + 1) * sizeof(double));
	size_t m = 0;
	for (size_t i = 0; i < n; i++)
		for (size_t j = i + 1; j < n; j++)
			if (x[j] != x[i])
				sl[m++] = (y[j] - y[i]) / (x[j] - x[i]);
	qsort(sl, m, sizeof(double), cmp_d);
	*npairs = m;
	if (m < 2) { /* no slope to compare: the caller checks the error only */
		free(sl);
		return;
	}
	out->slope = m % 2 ? sl[m / 2] : (sl[m / 2 - 1] + sl[m / 2]) / 2;
	double *xs = malloc((n + 1) * sizeof(double)), vs = (double)n * (n - 1) * (2.0 * n + 5);
	memcpy(xs, x, n * sizeof(double));
	qsort(xs, n, sizeof(double), cmp_d);
	for (size_t i = 0; i < n;) {
		size_t j = i;
		while (j < n && xs[j] == xs[i])
			j++;
		double t = (double)(j - i);
		vs -= t * (t - 1) * (2 * t + 5);
		i = j;
	}
	/* z(1 - alpha/2) for alpha = 0.05 */
	double c = 1.959963984540054 * sqrt(vs / 18), m1 = floor(((double)m - c) / 2),
	       m2 = (double)m + 1 - m1;
	out->lo = out->hi = NAN;
	if (m1 >= 1 && m2 <= (double)m)
		out->lo = sl[(size_t)m1 - 1], out->hi = sl[(size_t)m2 - 1];
	(void)alpha;
	for (size_t i = 0; i < n; i++) /* the intercept: the median of y - slope x */
		xs[i] = y[i] - out->slope * x[i];
	qsort(xs, n, sizeof(double), cmp_d);
	out->intercept = cm_stats_quantile_sorted(xs, n, 0.5);
	free(xs), free(sl);
}

static void test_theil_sen_exact(void **state)
{
	(void)state;
	static double x[300], y[300];
	for (int set = 0; set < 400; set++) {
		size_t n = 3 + rnd() % (set < 300 ? 40 : 300), levels = 1 + rnd() % (n < 12 ? n : 12);
		int kind = set % 3; /* x: few levels; x: any; y: few values (ties in y) */
		for (size_t i = 0; i < n; i++) {
			x[i] = kind == 1 ? (double)(rnd() % 1000) / 7 : (double)(rnd() % levels) * 2.5;
			y[i] = kind == 2 ? (double)(rnd() % 5) : 10 + 0.3 * x[i] + (double)(rnd() % 1000) / 97;
		}
		struct cm_slope got, want;
		size_t npairs;
		naive_theil_sen(x, y, n, 0.05, &want, &npairs);
		int rc = cm_stats_theil_sen(x, y, n, 0.05, &got);
		assert_int_equal(got.npairs, npairs);
		if (npairs < 2) {
			assert_int_not_equal(rc, 0);
			continue;
		}
		assert_int_equal(rc, 0);
		if (got.slope != want.slope || got.intercept != want.intercept ||
		    !(got.lo == want.lo || (isnan(got.lo) && isnan(want.lo))) ||
		    !(got.hi == want.hi || (isnan(got.hi) && isnan(want.hi))))
			fail_msg("set %d (n %zu, kind %d): slope %.17g [%.17g, %.17g], the definition "
				 "%.17g [%.17g, %.17g]", set, n, kind, got.slope, got.lo, got.hi,
				 want.slope, want.lo, want.hi);
	}
}

static void ts_compare(const double *x, const double *y, size_t n, const char *what)
{
	struct cm_slope got, want;
	size_t npairs;
	naive_theil_sen(x, y, n, 0.05, &want, &npairs);
	assert_int_equal(cm_stats_theil_sen(x, y, n, 0.05, &got), 0);
	assert_int_equal(got.npairs, npairs);
	if (got.slope != want.slope || got.lo != want.lo || got.hi != want.hi ||
	    got.intercept != want.intercept)
		fail_msg("%s (n %zu): slope %.17g [%.17g, %.17g] + %.17g, the definition %.17g "
			 "[%.17g, %.17g] + %.17g", what, n, got.slope, got.lo, got.hi, got.intercept,
			 want.slope, want.lo, want.hi, want.intercept);
}

/* Past a few thousand slopes the search counts, then lists the slopes between two counts:
 * sweeps of boot times (integer ns), points on lines (many equal slopes: trials land on them),
 * logs of both (the elasticity: inexact differences), x at any value. */
static void test_theil_sen_exact_large(void **state)
{
	(void)state;
	static double x[2600], y[2600];
	for (int set = 0; set < 12; set++) {
		size_t n = 1500 + rnd() % 1100, levels = 5 + rnd() % 40;
		int kind = set % 4;
		for (size_t i = 0; i < n; i++) {
			double lv = (double)(16 + i % levels);
			x[i] = kind == 3 ? (double)(rnd() % 100000) / 7 : lv;
			y[i] = kind == 1 ? 3 * lv + (double)(rnd() % 3)
					 : floor(2e7 + 4e4 * lv + (double)(rnd() % 4000000));
			if (kind == 2)
				x[i] = log(x[i]), y[i] = log(y[i]);
		}
		static const char *const what[] = { "a sweep", "points on lines", "logs", "any x" };
		ts_compare(x, y, n, what[kind]);
	}
}

static void test_jonckheere_exact(void **state)
{
	(void)state;
	static double v[6][40];
	for (int set = 0; set < 200; set++) {
		size_t k = 2 + rnd() % 5, n[6];
		const double *g[6];
		double want = 0;
		for (size_t a = 0; a < k; a++) {
			n[a] = 1 + rnd() % 40;
			for (size_t i = 0; i < n[a]; i++)
				v[a][i] = (double)(rnd() % (set % 2 ? 6 : 100000)); /* ties, or few */
			g[a] = v[a];
		}
		for (size_t a = 0; a < k; a++)
			for (size_t b = a + 1; b < k; b++)
				for (size_t i = 0; i < n[a]; i++)
					for (size_t j = 0; j < n[b]; j++)
						want += v[a][i] < v[b][j] ? 1 : v[a][i] == v[b][j] ? 0.5 : 0;
		double j;
		cm_stats_jonckheere(g, n, k, &j);
		assert_true(j == want);
	}
}

/* ---- growth: CPU seconds of f(n), the least of three ------------------------------------ */
static void ts_run(size_t n) /* a sweep: n points over n/10 levels */
{
	double *x = malloc(n * sizeof(double)), *y = malloc(n * sizeof(double));
	for (size_t i = 0; i < n; i++)
		x[i] = (double)(i % (n / 10)), y[i] = 1e7 + 1e3 * x[i] + (double)(rnd() % 1000000);
	struct cm_slope s;
	assert_int_equal(cm_stats_theil_sen(x, y, n, 0.05, &s), 0);
	free(x), free(y);
}

static void jt_run(size_t n) /* 10 groups of n/10 */
{
	double *v = malloc(n * sizeof(double));
	const double *g[10];
	size_t sz[10];
	for (size_t i = 0; i < n; i++)
		v[i] = (double)(rnd() % 1000000);
	for (size_t a = 0; a < 10; a++)
		g[a] = v + a * (n / 10), sz[a] = n / 10;
	cm_stats_jonckheere(g, sz, 10, NULL);
	free(v);
}

static void varcomp_run(size_t n) /* n values in n/2 sessions */
{
	double *v = malloc(n * sizeof(double));
	int *s = malloc(n * sizeof(int));
	for (size_t i = 0; i < n; i++)
		v[i] = 1e7 + (double)(rnd() % 100000), s[i] = (int)(i / 2) + 1;
	struct cm_varcomp vc;
	cm_stats_varcomp(v, s, n, &vc);
	free(v), free(s);
}

static void sessions_run(size_t n) /* a dataset of n sessions of one row */
{
	struct cm_dataset ds;
	cm_dataset_init(&ds, NULL, 0);
	for (size_t i = 0; i < n; i++) {
		cm_dataset_session_number(&ds, (int)i + 1, NULL);
		cm_dataset_add(&ds, "c", 1, false, "ok", "total", 1e7, "perf", "none");
	}
	cm_dataset_free(&ds);
}

static char samples_path[64];
static void samples_run(size_t n) /* samples.csv of n boots of one case, 2 phases each */
{
	FILE *f = fopen(samples_path, "w");
	fprintf(f, "case,boot,status,phase,duration_ns,warmup,source,cache_drop\n");
	for (size_t b = 1; b <= n / 2; b++)
		fprintf(f, "c,%zu,ok,kernel,1000,0,perf,none\nc,%zu,ok,total,2000,0,perf,none\n", b, b);
	fclose(f);
	struct cm_dataset ds; /* cm_samples_read sets it up from the file's header */
	struct cm_diags d = { 0 };
	assert_int_equal(cm_samples_read(samples_path, &ds, &d), 0);
	cm_diags_clear(&d);
	cm_dataset_free(&ds);
}

static void matrix_run(size_t n) /* a matrix of one axis, a range of n values (n cases) */
{
	char yaml[512];
	int len = snprintf(yaml, sizeof(yaml),
			   "guest: {bundled: guest}\nrun: {reference: none}\n"
			   "axes:\n  memory: {from: 16M, to: %zuM, step: 1M}\n", 15 + n);
	struct cm_diags d = { 0 };
	struct cm_matrix *m = cm_matrix_load_string(yaml, (size_t)len, "growth.yaml", &d);
	assert_non_null(m);
	assert_int_equal(m->ncases, n);
	cm_matrix_free(m);
	cm_diags_clear(&d);
}

/* n cases under accel=tcg and their reference, 3 sessions of a boot each, the case's total
 * and kernel; seed moves the values (the candidate side) */
static void with_reference(struct cm_dataset *ds, size_t n, double seed)
{
	char *axes[] = { "memory", "accel" };
	cm_dataset_init(ds, axes, 2);
	for (size_t c = 0; c <= n; c++) {
		char id[64], mem[32], *labels[] = { mem, "tcg" }, *ref[] = { "", "tcg" };
		snprintf(mem, sizeof(mem), "%zuM", 16 + c);
		snprintf(id, sizeof(id), c < n ? "memory=%s,accel=tcg" : CM_REFERENCE_ID ",accel=tcg", mem);
		cm_dataset_case(ds, id, c < n ? labels : ref);
		for (int s = 1; s <= 3; s++) {
			cm_dataset_session_number(ds, s, NULL);
			cm_dataset_add(ds, id, s, false, "ok", "kernel", 5e6 + seed * s + (double)c, "perf", "none");
			cm_dataset_add(ds, id, s, false, "ok", "total", 1e7 + seed * s + (double)c, "perf", "none");
		}
	}
}

static void references_run(size_t n) /* compare and relative: each case beside its reference */
{
	struct cm_dataset a, b;
	with_reference(&a, n, 0), with_reference(&b, n, 1e4);
	struct cm_judge j = { 0.05, 0.02, 0 };
	struct cm_cmp_result r;
	assert_int_equal(cm_compare_build(&a, &b, &j, "total", NULL, &r), 0);
	assert_true(r.nrows > 0 && r.rows[0].ref_row != SIZE_MAX); /* linked to the reference */
	cm_compare_free(&r);
	assert_int_equal(cm_dataset_relative(&b, &a), 0);
	cm_dataset_free(&a), cm_dataset_free(&b);
}

static void test_growth_matrix(void **state)
{
	(void)state;
	setenv("COLDMARK_GUEST_DIR", GUEST_DIR, 1);
	/* 4n: the 10^4 values an axis may have */
	th_growth("a matrix's axis values (the duplicate check)", matrix_run, 2500);
}

static void test_growth_theil_sen(void **state)
{
	(void)state;
	th_growth("Theil-Sen and Sen's CI", ts_run, 5000);
}

static void test_growth_jonckheere(void **state)
{
	(void)state;
	th_growth("Jonckheere's J", jt_run, 20000);
}

static void test_growth_sessions(void **state)
{
	(void)state;
	th_growth("variance components over sessions", varcomp_run, 20000);
	th_growth("a dataset's sessions", sessions_run, 20000);
}

static void test_growth_references(void **state)
{
	(void)state;
	/* was cases x cases: the reference found by a scan of the cases for every case, and a
	 * compare row's reference row by a scan of every row */
	th_growth("compare and --relative-to beside a reference", references_run, 2000);
}

static void test_growth_samples(void **state)
{
	(void)state;
	snprintf(samples_path, sizeof(samples_path), "/tmp/cm-scale-%d.csv", (int)getpid());
	th_growth("samples.csv read (the duplicate-row check)", samples_run, 50000);
	unlink(samples_path);
}

int main(int argc, char **argv)
{
	const struct CMUnitTest exact[] = {
		cmocka_unit_test(test_theil_sen_exact),
		cmocka_unit_test(test_theil_sen_exact_large),
		cmocka_unit_test(test_jonckheere_exact),
	};
	const struct CMUnitTest grow[] = {
		cmocka_unit_test(test_growth_theil_sen),
		cmocka_unit_test(test_growth_jonckheere),
		cmocka_unit_test(test_growth_sessions),
		cmocka_unit_test(test_growth_samples),
		cmocka_unit_test(test_growth_matrix),
		cmocka_unit_test(test_growth_references),
	};
	if (argc > 1 && !strcmp(argv[1], "growth"))
		return cmocka_run_group_tests_name("growth", grow, NULL, NULL);
	return cmocka_run_group_tests_name("exact", exact, NULL, NULL);
}
