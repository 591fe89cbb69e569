/* The plan without qemu: orders, warm-ups first, resume skipping, adaptive blocks. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <gsl/gsl_errno.h>
#include <stdlib.h>
#include <string.h>

#include "coldmark/harness.h"
#include "coldmark/report.h"
#include "coldmark/rundir.h"

static struct cm_matrix *matrix(const char *order, int seed, int boots, int warmup)
{
	setenv("COLDMARK_GUEST_DIR", GUEST_DIR, 1);
	char *y = cm_xasprintf("guest: {bundled: guest}\naxes: {smp: [1, 2, 3, 4, 5]}\n"
			       "run: {boots: %d, warmup: %d, order: %s, seed: %d, min_boots: 6, "
			       "max_boots: 20, until_ci: 1, reference: none}\n",
			       boots, warmup, order, seed);
	struct cm_diags d = { 0 };
	struct cm_matrix *m = cm_matrix_load_string(y, strlen(y), SOURCE_DIR "/p.yaml", &d);
	cm_diags_print(&d, stderr);
	assert_non_null(m);
	cm_diags_clear(&d);
	free(y);
	return m;
}

static void test_orders(void **state)
{
	size_t n;
	struct cm_matrix *m = matrix("sequential", 1, 3, 1);
	struct cm_planned *p = cm_plan_new(m, &n);
	assert_int_equal(n, 5 * 4);
	for (size_t i = 0; i < 5; i++) /* warm-ups of every case first */
		assert_true(p[i].warmup && p[i].c == i && p[i].boot == 1);
	for (size_t i = 5; i < n; i++) /* then case by case */
		assert_true(!p[i].warmup && p[i].c == (i - 5) / 3 && p[i].boot == (int)((i - 5) % 3) + 1);
	free(p);
	cm_matrix_free(m);

	m = matrix("interleaved", 1, 3, 0);
	p = cm_plan_new(m, &n);
	for (size_t i = 0; i < n; i++) /* round robin */
		assert_true(p[i].c == i % 5 && p[i].boot == (int)(i / 5) + 1);
	free(p);
	cm_matrix_free(m);

	/* shuffled: every block is a permutation of all cases, the same for the same seed */
	m = matrix("shuffled", 7, 4, 0);
	struct cm_matrix *m2 = matrix("shuffled", 7, 4, 0), *m3 = matrix("shuffled", 8, 4, 0);
	size_t n2, n3;
	struct cm_planned *q = cm_plan_new(m2, &n2), *r = cm_plan_new(m3, &n3);
	p = cm_plan_new(m, &n);
	assert_int_equal(n, 20);
	bool same = true, differs = false, in_order = true;
	for (size_t b = 0; b < 4; b++) {
		int seen = 0;
		for (size_t i = 0; i < 5; i++) {
			const struct cm_planned *x = &p[b * 5 + i];
			assert_int_equal(x->boot, (int)b + 1);
			seen |= 1 << x->c;
			in_order &= x->c == i;
		}
		assert_int_equal(seen, 0x1f);
	}
	for (size_t i = 0; i < n; i++) {
		same &= p[i].c == q[i].c;
		differs |= p[i].c != r[i].c;
	}
	assert_true(same);
	assert_true(differs);
	assert_false(in_order);
	free(p), free(q), free(r);
	cm_matrix_free(m), cm_matrix_free(m2), cm_matrix_free(m3);
}

static void test_skip_done(void **state)
{
	size_t n;
	struct cm_matrix *m = matrix("shuffled", 3, 4, 1);
	struct cm_planned *p = cm_plan_new(m, &n);
	int warm[5] = { 1, 1, 1, 0, 0 }, meas[5] = { 4, 2, 0, 0, 3 };
	size_t kept = cm_plan_skip_done(p, n, warm, meas);
	/* left: warm-ups of cases 3, 4; measured 0 + 2 + 4 + 4 + 1 */
	assert_int_equal(kept, 2 + 11);
	for (size_t i = 0; i < kept; i++)
		assert_true(p[i].boot > (p[i].warmup ? warm : meas)[p[i].c]);
	free(p);
	cm_matrix_free(m);
}

static void test_next_block(void **state)
{
	struct cm_matrix *m = matrix("shuffled", 1, 6, 0);
	struct cm_dataset ds;
	char *axes[] = { "smp" };
	cm_dataset_init(&ds, axes, 1);
	for (size_t c = 0; c < m->ncases; c++)
		cm_dataset_case(&ds, m->cases[c].id, m->cases[c].labels);
	/* case 0 is tight (spread 0.1%), the others spread 10%: only they need more boots */
	for (int b = 1; b <= 6; b++)
		for (size_t c = 0; c < m->ncases; c++)
			cm_dataset_add(&ds, m->cases[c].id, b, false, "ok", "total",
				       c == 0 ? 1e6 + b * 100 : 1e6 * (1 + 0.02 * b), "perf", "");
	int planned[5] = { 6, 6, 6, 6, 20 };
	size_t n = 0;
	struct cm_planned *pl = NULL;
	size_t k = cm_plan_next_block(m, &ds, planned, &pl, &n);
	assert_int_equal(k, 3); /* cases 1..3; case 0 is precise, case 4 is at max_boots */
	for (size_t i = 0; i < k; i++) {
		assert_true(pl[i].c >= 1 && pl[i].c <= 3);
		assert_int_equal(pl[i].boot, 7);
		assert_false(pl[i].warmup);
	}
	assert_int_equal(planned[1], 7);
	assert_int_equal(planned[0], 6);
	free(pl);
	cm_dataset_free(&ds);
	cm_matrix_free(m);
}

/* --replicate I/N runs session I + 1 alone: the same boots, in the same order with the same
 * numbers, as session I + 1 of a run of N sessions; and the plan's text keeps it for resume. */
static void test_replicate_is_a_session(void **state)
{
	struct cm_matrix *all = matrix("shuffled", 5, 4, 1), *one = matrix("shuffled", 5, 4, 1);
	all->sessions = 3;
	one->first_session = 3;
	size_t na, n1;
	struct cm_planned *pa = cm_plan_new(all, &na), *p1 = cm_plan_new(one, &n1);
	assert_int_equal(na, 3 * n1);
	for (size_t i = 0; i < n1; i++) {
		const struct cm_planned *x = &pa[2 * n1 + i], *y = &p1[i];
		assert_int_equal(x->c, y->c);
		assert_int_equal(x->boot, y->boot);
		assert_int_equal(x->warmup, y->warmup);
		assert_int_equal(y->session, 3);
	}
	char text[256];
	cm_rundir_plan_format(one, text, sizeof(text));
	assert_non_null(strstr(text, " first_session=3"));
	one->first_session = 0;
	assert_int_equal(cm_rundir_plan_parse(text, one), 0);
	assert_int_equal(one->first_session, 3);
	cm_rundir_plan_format(all, text, sizeof(text)); /* a plain run says nothing of it */
	assert_null(strstr(text, "first_session"));
	free(pa), free(p1);
	cm_matrix_free(all), cm_matrix_free(one);
}

/* Plans past the limits are refused by cm_plan_check and never allocated by cm_plan_new
 * (10^4 sessions x 10^6 boots aborted "out of memory"; a replicate's boot numbers overflowed
 * int); plans at the limits pass. */
static void test_plan_limits(void **state)
{
	struct cm_matrix *m = matrix("shuffled", 1, 6, 1);
	struct cm_error err = { 0 };
	size_t n = 99;
	m->until_ci_pct = 0;
	m->sessions = 10000, m->boots = 1000000;
	assert_int_equal(cm_plan_check(m, &err), -1);
	assert_non_null(strstr(err.msg, "10000000 boots"));
	assert_null(cm_plan_new(m, &n));
	assert_int_equal(n, 0);
	m->sessions = 1, m->boots = CM_PLAN_MAX_BOOTS / 5 - 1; /* 5 cases x (boots + 1) = the limit */
	assert_int_equal(cm_plan_check(m, &err), 0);
	m->boots = 6, m->first_session = 1073741825; /* --replicate 1073741824/1073741825 */
	assert_int_equal(cm_plan_check(m, &err), -1);
	assert_non_null(strstr(err.msg, "2147483647"));
	assert_null(cm_plan_new(m, &n));
	m->first_session = INT32_MAX / 6; /* its last boot is number INT_MAX - 1 */
	assert_int_equal(cm_plan_check(m, &err), 0);
	struct cm_planned *p = cm_plan_new(m, &n);
	assert_int_equal(n, 5 * 7);
	for (size_t i = 0; i < n; i++)
		assert_true(p[i].boot > 0);
	free(p);
	m->until_ci_pct = 1, m->max_boots = 1000000, m->sessions = 1, m->first_session = 1;
	m->ncases = 20; /* adaptive: 20 x (10^6 max_boots + 1) may be planned */
	assert_int_equal(cm_plan_check(m, &err), -1);
	assert_non_null(strstr(err.msg, "max_boots"));
	m->ncases = 5;
	cm_matrix_free(m);
}

int main(void)
{
	gsl_set_error_handler_off();
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_orders),
		cmocka_unit_test(test_skip_done),
		cmocka_unit_test(test_next_block),
		cmocka_unit_test(test_replicate_is_a_session),
		cmocka_unit_test(test_plan_limits),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
