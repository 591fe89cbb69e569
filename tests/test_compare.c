/* The comparison model from fixture runs (tests/fixtures/compare/{base,cand}), without qemu:
 * rows and verdicts, cases on one side only, header items that make runs not comparable,
 * --fail-on gating, and every writer. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <gsl/gsl_errno.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "coldmark/compare.h"

static void load(const char *side, struct cm_dataset *ds)
{
	char path[512];
	struct cm_diags d = { 0 };
	snprintf(path, sizeof(path), "%s/compare/%s/samples.csv", FIXTURES, side);
	assert_int_equal(cm_samples_read(path, ds, &d), 0);
	snprintf(path, sizeof(path), "%s/compare/%s/meta.csv", FIXTURES, side);
	assert_int_equal(cm_meta_read(path, ds), 0);
	cm_diags_clear(&d);
}

static char *render(const struct cm_cmp_result *r, const char *fmt)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);
	cm_cmp_writer(fmt)->write(r, f);
	fclose(f);
	return buf;
}

static bool has(char **v, size_t n, const char *s)
{
	for (size_t i = 0; i < n; i++)
		if (strstr(v[i], s))
			return true;
	return false;
}

static void test_model(void **state)
{
	struct cm_dataset b, c;
	load("base", &b);
	load("cand", &c);
	struct cm_judge j = { 0.05, 0.02, 0 };
	struct cm_cmp_result r;
	assert_int_equal(cm_compare_build(&b, &c, &j, NULL, NULL, &r), 0);
	assert_int_equal(r.nrows, 4); /* 2 shared cases x 2 phases */
	size_t regressed = 0;
	for (size_t i = 0; i < r.nrows; i++) {
		const struct cm_cmp_row *row = &r.rows[i];
		bool slower = !strcmp(row->case_id, "memory=256M") && !strcmp(row->phase, "total");
		assert_int_equal(row->cmp.verdict == CM_REGRESSED, slower);
		regressed += row->cmp.verdict == CM_REGRESSED;
		if (slower)
			assert_true(row->cmp.rel > 0.25 && row->cmp.rel < 0.35);
		assert_int_equal(row->base_n, 12);
		/* one session a side, no calibration: the boots' CI only, said so */
		assert_int_equal(row->model, CM_MODEL_BOOTS);
	}
	assert_int_equal(r.regressions, 0);
	assert_int_equal(r.regressions_boots_only, 1);
	assert_int_equal(r.n_only_base, 1);
	assert_string_equal(r.only_base[0], "memory=1G");
	assert_int_equal(r.n_only_cand, 1);
	assert_string_equal(r.only_cand[0], "memory=2G");
	assert_true(has(r.not_comparable, r.n_not_comparable, "host differs: 'hostA (Linux 6.1)' vs 'hostB (Linux 6.1)'"));
	assert_true(has(r.not_comparable, r.n_not_comparable, "firmware sha256 (bios-256k.bin) differs"));
	assert_true(has(r.not_comparable, r.n_not_comparable, "only the candidate loads efi-e1000.rom"));
	assert_false(has(r.not_comparable, r.n_not_comparable, "qemu differs"));
	/* the writers */
	char *text = render(&r, "text"), *md = render(&r, "md"), *csv = render(&r, "csv"),
	     *js = render(&r, "json");
	assert_non_null(strstr(text, "REGRESSED"));
	assert_non_null(strstr(text, "0 regressions, 1 more beyond the boots' noise alone"));
	assert_non_null(strstr(text, "boots only: one session a side"));
	assert_non_null(strstr(md, "**regressed**"));
	assert_non_null(strstr(csv, "case,phase,base_n,cand_n"));
	assert_non_null(strstr(csv, "memory=256M,total,12,12,"));
	json_error_t err;
	json_t *root = json_loads(js, 0, &err);
	assert_non_null(root);
	assert_int_equal(json_integer_value(json_object_get(root, "regressions_boots_only")), 1);
	assert_string_equal(json_string_value(json_object_get(json_array_get(json_object_get(root, "rows"), 0), "model")),
			    "boots only");
	assert_int_equal(json_array_size(json_object_get(root, "rows")), 4);
	json_decref(root);
	free(text), free(md), free(csv), free(js);
	cm_compare_free(&r);
	/* --fail-on firmware: the total regression does not gate */
	assert_int_equal(cm_compare_build(&b, &c, &j, "firmware", NULL, &r), 0);
	assert_int_equal(r.regressions + r.regressions_boots_only, 0);
	cm_compare_free(&r);
	/* a practical floor: --threshold 40 keeps the 30% change from a verdict */
	j.thr = 0.40;
	assert_int_equal(cm_compare_build(&b, &c, &j, NULL, NULL, &r), 0);
	assert_int_equal(r.regressions + r.regressions_boots_only, 0);
	assert_null(cm_cmp_writer("pdf"));
	cm_compare_free(&r);
	cm_dataset_free(&b);
	cm_dataset_free(&c);
}

/* History over the two fixture runs: a step where the comparison says so, and nowhere else. */
static void test_history(void **state)
{
	struct cm_dataset runs[2];
	load("base", &runs[0]);
	load("cand", &runs[1]);
	char *labels[] = { "v1", "v2" }, *ids[] = { "run-1", "run-2" };
	struct cm_judge j = { 0.05, 0.02, 0 };
	struct cm_history h;
	assert_int_equal(cm_history_build(runs, labels, ids, 2, NULL, "total", &j, &h), 0);
	assert_int_equal(h.n, 4); /* every case either run has */
	for (size_t s = 0; s < h.n; s++) {
		const struct cm_hist_series *se = &h.series[s];
		bool both = !strcmp(se->case_id, "memory=128M") || !strcmp(se->case_id, "memory=256M");
		assert_int_equal(se->n, both ? 2 : 1);
		int want = !strcmp(se->case_id, "memory=256M") ? 1 : 0;
		assert_int_equal(se->pts[se->n - 1].pt.step, want);
	}
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);
	cm_history_text(&h, f);
	fclose(f);
	assert_non_null(strstr(buf, "memory=256M — phase total"));
	assert_non_null(strstr(buf, "▲ +"));
	free(buf);
	cm_history_free(&h);
	/* a case no run has */
	assert_int_equal(cm_history_build(runs, labels, ids, 2, "memory=9G", "total", &j, &h), -1);
	cm_history_free(&h);
	cm_dataset_free(&runs[0]);
	cm_dataset_free(&runs[1]);
}

int main(void)
{
	gsl_set_error_handler_off();
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_model),
		cmocka_unit_test(test_history),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
