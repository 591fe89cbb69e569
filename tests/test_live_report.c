/* Issue 25, item 4: a run's live report (cm_report_live_write: the cases that changed since
 * the last rewrite formatted, the others' text and statistics kept) writes what a rebuild of
 * the whole report (cm_report_build + cm_report_write, what `coldmark report` does) writes,
 * byte for byte, after every few rows of a run fed in the order a run adds them: matrices
 * plain, with a reference case, with a numeric axis swept over two slices (sweeps, slopes,
 * interactions), with three sessions (the noise tables, the advice), in waves, and one whose
 * phase appears mid-run (the cells' layout changes). Label unit (CTest test_live_report). */
#define _GNU_SOURCE
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "coldmark/report.h"
#include "helpers.h"

static char dir[256];

struct shape {
	const char *name;
	bool reference, numeric, waves, late_phase;
	int sessions, boots, levels;
};

static const struct shape shapes[] = {
	{ "plain", false, false, false, false, 1, 6, 2 },
	{ "reference", true, false, false, false, 1, 6, 2 },
	{ "sweep", false, true, false, false, 1, 7, 6 },
	{ "sessions", true, true, false, false, 3, 4, 4 },
	{ "waves", false, true, true, false, 2, 4, 3 },
	{ "late-phase", true, true, false, true, 2, 5, 3 },
};

static uint64_t lcg = 88172645463325252ULL;
static double uniform(void)
{
	lcg = lcg * 6364136223846793005ULL + 1442695040888963407ULL;
	return (double)(lcg >> 11) / 9007199254740992.0;
}

/* The cases (ids and labels) of a shape, in the matrix's order: axes memory x machine. */
static size_t make_cases(const struct shape *sh, struct cm_dataset *ds)
{
	char *axes[] = { "memory", "machine" };
	cm_dataset_init(ds, axes, 2);
	const char *machines[] = { "pc", "q35" };
	for (int m = 0; m < 2; m++)
		for (int l = 0; l < sh->levels; l++) {
			char mem[16], id[64];
			if (sh->numeric)
				snprintf(mem, sizeof(mem), "%dM", 64 << l);
			else
				snprintf(mem, sizeof(mem), "%s", l % 2 ? "big" : "small|*x*");
			snprintf(id, sizeof(id), "memory=%s,machine=%s", mem, machines[m]);
			char *labels[] = { mem, (char *)machines[m] };
			if (!sh->numeric && l > 1)
				break;
			cm_dataset_case(ds, id, labels);
		}
	if (sh->reference) {
		char *labels[] = { "", "" };
		cm_dataset_case(ds, "reference,accel=tcg", labels);
	}
	const char *phases[] = { "firmware", "kernel", "total" };
	for (int p = 0; p < 3; p++)
		cm_dataset_phase(ds, phases[p]);
	cm_dataset_meta(ds, "run", "20261206-live");
	cm_dataset_meta(ds, CM_HDR(PHASES), "firmware: exec -> real_mode, kernel: real_mode -> "
					    "kernel_entry, total: exec -> kernel_entry");
	ds->waves = sh->waves;
	return ds->ncases;
}

/* A run's rows: session by session, boot by boot, the cases in a shuffled order; a warm-up
 * first in each session, some failed boots, an unmeasurable phase, bimodal and audited boots. */
static void make_rows(const struct shape *sh, struct cm_dataset *ds)
{
	size_t nc = ds->ncases, *order = cm_xmalloc(nc * sizeof(size_t));
	int wave = 0;
	for (int s = 1; s <= sh->sessions; s++) {
		cm_dataset_session_number(ds, s, "vm");
		for (int b = 0; b <= sh->boots; b++) {
			for (size_t c = 0; c < nc; c++)
				order[c] = c;
			for (size_t c = nc; c > 1; c--) { /* Fisher-Yates */
				size_t k = (size_t)(uniform() * (double)c), t = order[c - 1];
				order[c - 1] = order[k], order[k] = t;
			}
			for (size_t i = 0; i < nc; i++) {
				size_t c = order[i];
				const char *id = ds->cases[c].id;
				bool ref = cm_is_reference_case(id), failed = uniform() < 0.04;
				if (sh->waves) {
					if (i % 3 == 0)
						wave++;
					ds->wave_now = wave, ds->slot_now = (int)(i % 3) + 1;
				}
				ds->audit_now = uniform() < 0.05 ? "throttled" : NULL;
				double level = (double)(c % (size_t)sh->levels + 1);
				double fw = 40e6 * (1 + 0.02 * uniform()) + 3e6 * level * (c >= nc / 2),
				       kern = (uniform() < 0.3 ? 180e6 : 90e6) * (1 + 0.05 * uniform()),
				       scale = 1 + 0.03 * (s - 1);
				int boot = (s - 1) * (sh->boots + 1) + b + 1;
				const char *st = failed ? "timeout" : "ok";
				if (!ref) {
					cm_dataset_add(ds, id, boot, b == 0, st, "firmware",
						       failed ? NAN : fw * scale, "debugcon", "dropped");
					/* the kernel phase unmeasurable (ok, no time) in case 1 */
					cm_dataset_add(ds, id, boot, b == 0, st, "kernel",
						       failed || c == 1 ? NAN : kern * scale, "debugcon", "dropped");
				}
				cm_dataset_add(ds, id, boot, b == 0, st, "total",
					       failed ? NAN : (fw + kern) * scale, "debugcon", "dropped");
				if (sh->late_phase && s == sh->sessions && !ref)
					cm_dataset_add(ds, id, boot, b == 0, st, "late", 5e6 + 1e5 * uniform(),
						       "debugcon", "dropped");
			}
		}
	}
	ds->wave_now = ds->slot_now = 0, ds->audit_now = NULL;
	free(order);
}

static void same_files(const char *a, const char *b, const char *shape, size_t rows)
{
	const char *files[] = { "summary.csv", "report.md", "report.json", "report.html" };
	for (size_t i = 0; i < 4; i++) {
		char *pa = cm_xasprintf("%s/%s", a, files[i]), *pb = cm_xasprintf("%s/%s", b, files[i]);
		size_t la, lb;
		char *x = th_slurp_len(pa, &la), *y = th_slurp_len(pb, &lb);
		if (la != lb || memcmp(x, y, la)) {
			size_t k = 0;
			while (k < la && k < lb && x[k] == y[k])
				k++;
			fail_msg("%s after %zu rows: %s differs from a rebuild at byte %zu: live '%.60s' "
				 "rebuilt '%.60s'", shape, rows, files[i], k, x + k, y + k);
		}
		free(x), free(y), free(pa), free(pb);
	}
}

/* Feeds the shape's rows into a dataset as a run does; every `every` rows (and at the end)
 * the live report and a rebuild are written and compared. */
static void check_shape(const struct shape *sh, size_t every)
{
	struct cm_dataset src, g;
	make_cases(sh, &src);
	make_rows(sh, &src);
	make_cases(sh, &g);
	char *live = cm_xasprintf("%s/%s-live", dir, sh->name),
	     *full = cm_xasprintf("%s/%s-full", dir, sh->name);
	struct cm_report lr = { 0 };
	size_t checks = 0;
	for (size_t i = 0; i < src.n; i++) {
		cm_dataset_add_like(&g, &src, &src.rows[i], NULL);
		if ((i + 1) % every && i + 1 != src.n)
			continue;
		struct cm_diags d = { 0 };
		assert_int_equal(cm_report_live_write(&lr, &g, CM_DEFAULT_ALPHA, live,
						      "csv,md,json,html", i + 1 != src.n, &d), 0);
		struct cm_report fr;
		cm_report_build(&g, CM_DEFAULT_ALPHA, &fr);
		assert_int_equal(cm_report_write(&fr, full, "csv,md,json,html", false, &d), 0);
		cm_report_free(&fr);
		cm_diags_clear(&d);
		same_files(live, full, sh->name, i + 1);
		checks++;
	}
	print_message("%s: %zu cases, %zu rows, %zu rewrites byte-identical to a rebuild\n",
		      sh->name, g.ncases, g.n, checks);
	cm_report_live_free(&lr);
	cm_dataset_free(&src), cm_dataset_free(&g);
	free(live), free(full);
}

static void test_plain(void **state)
{
	(void)state;
	check_shape(&shapes[0], 3);
}

static void test_reference(void **state)
{
	(void)state;
	check_shape(&shapes[1], 4);
}

static void test_sweep(void **state)
{
	(void)state;
	check_shape(&shapes[2], 7);
}

static void test_sessions(void **state)
{
	(void)state;
	check_shape(&shapes[3], 9);
}

static void test_waves(void **state)
{
	(void)state;
	check_shape(&shapes[4], 8);
}

/* A boot that could not be journaled is cut from the dataset (cm_dataset_truncate); when rows
 * come after such a cut, as many as were cut, the live report must not keep the cut ones. */
static void test_rows_cut(void **state)
{
	(void)state;
	struct cm_dataset src, g;
	make_cases(&shapes[3], &src);
	make_rows(&shapes[3], &src);
	make_cases(&shapes[3], &g);
	char *live = cm_xasprintf("%s/cut-live", dir), *full = cm_xasprintf("%s/cut-full", dir);
	struct cm_report lr = { 0 };
	struct cm_diags d = { 0 };
	size_t half = src.n / 2;
	for (size_t i = 0; i < half; i++)
		cm_dataset_add_like(&g, &src, &src.rows[i], NULL);
	assert_int_equal(cm_report_live_write(&lr, &g, CM_DEFAULT_ALPHA, live, "csv,md,json,html",
					      true, &d), 0);
	cm_dataset_truncate(&g, half - 3);
	for (size_t i = half + 10; i < half + 13; i++) /* three other rows in their place */
		cm_dataset_add_like(&g, &src, &src.rows[i], NULL);
	assert_int_equal(g.n, half);
	assert_int_equal(cm_report_live_write(&lr, &g, CM_DEFAULT_ALPHA, live, "csv,md,json,html",
					      false, &d), 0);
	struct cm_report fr;
	cm_report_build(&g, CM_DEFAULT_ALPHA, &fr);
	assert_int_equal(cm_report_write(&fr, full, "csv,md,json,html", false, &d), 0);
	same_files(live, full, "cut", g.n);
	cm_report_free(&fr), cm_report_live_free(&lr), cm_diags_clear(&d);
	cm_dataset_free(&src), cm_dataset_free(&g);
	free(live), free(full);
}

static void test_phase_appears(void **state)
{
	(void)state;
	check_shape(&shapes[5], 6);
}

/* test_live_report dump DIR: each shape's whole run as DIR/NAME/samples.csv and meta.csv, for
 * `coldmark report` of this build and an older one to be compared. */
static int dump(const char *out)
{
	for (size_t i = 0; i < sizeof(shapes) / sizeof(shapes[0]); i++) {
		struct cm_dataset ds;
		make_cases(&shapes[i], &ds);
		make_rows(&shapes[i], &ds);
		struct cm_report r;
		cm_report_build(&ds, CM_DEFAULT_ALPHA, &r);
		struct cm_diags d = { 0 };
		char *sub = cm_xasprintf("%s/%s", out, shapes[i].name);
		int rc = cm_report_write(&r, sub, "csv", true, &d); /* samples.csv and meta.csv */
		cm_diags_clear(&d);
		cm_report_free(&r);
		char *sum = cm_xasprintf("%s/summary.csv", sub);
		unlink(sum);
		free(sum), free(sub);
		cm_dataset_free(&ds);
		if (rc)
			return 1;
	}
	return 0;
}

int main(int argc, char **argv)
{
	if (argc > 2 && !strcmp(argv[1], "dump"))
		return dump(argv[2]);
	th_mkdtemp(dir, sizeof(dir), "live");
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_plain),    cmocka_unit_test(test_reference),
		cmocka_unit_test(test_sweep),    cmocka_unit_test(test_sessions),
		cmocka_unit_test(test_waves),    cmocka_unit_test(test_phase_appears),
		cmocka_unit_test(test_rows_cut),
	};
	int rc = cmocka_run_group_tests_name("live-report", tests, NULL, NULL);
	if (!rc) /* kept when it failed: the two folders show the difference */
		th_remove_at_exit(dir);
	return rc;
}
