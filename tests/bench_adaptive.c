/* How many boots --until-ci saves against a fixed N sized for the noisiest case. Seeded
 * simulation through the runner's own planner (cm_plan_next_block): five cases whose boot
 * times are lognormal with CVs from 1% to 8%, a 2% target. Prints figures; asserts nothing. */
#include <gsl/gsl_errno.h>
#include <gsl/gsl_randist.h>
#include <gsl/gsl_rng.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "coldmark/harness.h"
#include "coldmark/report.h"

int main(void)
{
	gsl_set_error_handler_off();
	static const double cv[] = { 0.01, 0.02, 0.04, 0.06, 0.08 };
	const char *y = "guest: {disk: /dev/null}\naxes: {smp: [1, 2, 3, 4, 5]}\n"
			"run: {until_ci: 2, min_boots: 6, max_boots: 400, seed: 1}\n";
	struct cm_diags d = { 0 };
	struct cm_matrix *m = cm_matrix_load_string(y, strlen(y), "/tmp/adaptive.yaml", &d);
	if (!m)
		return 1;
	gsl_rng *rng = gsl_rng_alloc(gsl_rng_mt19937);
	size_t trials = 20, total_adaptive = 0, total_fixed = 0;
	for (size_t t = 0; t < trials; t++) {
		gsl_rng_set(rng, 1000 + t);
		struct cm_dataset ds;
		char *axes[] = { "smp" };
		cm_dataset_init(&ds, axes, 1);
		int planned[5];
		for (size_t c = 0; c < 5; c++) {
			cm_dataset_case(&ds, m->cases[c].id, m->cases[c].labels);
			planned[c] = (int)m->min_boots;
			for (int b = 1; b <= planned[c]; b++)
				cm_dataset_add(&ds, m->cases[c].id, b, false, "ok", "total",
					       1e8 * gsl_ran_lognormal(rng, 0, cv[c]), "sim", "");
		}
		struct cm_planned *pl = NULL;
		size_t n = 0, from = 0;
		while (cm_plan_next_block(m, &ds, planned, &pl, &n)) {
			for (; from < n; from++)
				cm_dataset_add(&ds, m->cases[pl[from].c].id, pl[from].boot, false, "ok",
					       "total", 1e8 * gsl_ran_lognormal(rng, 0, cv[pl[from].c]),
					       "sim", "");
		}
		int most = 0;
		size_t sum = 0;
		for (size_t c = 0; c < 5; c++) {
			sum += planned[c];
			most = planned[c] > most ? planned[c] : most;
		}
		total_adaptive += sum;
		total_fixed += 5 * (size_t)most; /* a fixed N that the noisiest case needed */
		if (t == 0) {
			printf("trial 1, boots per case (CV 1%%, 2%%, 4%%, 6%%, 8%%):");
			for (size_t c = 0; c < 5; c++)
				printf(" %d", planned[c]);
			printf("\n");
		}
		free(pl);
		cm_dataset_free(&ds);
	}
	printf("--until-ci 2 over %zu seeded trials of 5 cases: %.1f boots per trial, against %.1f "
	       "for a fixed N sized for the noisiest case: %.0f%% saved\n",
	       trials, (double)total_adaptive / trials, (double)total_fixed / trials,
	       100.0 * (1 - (double)total_adaptive / total_fixed));
	gsl_rng_free(rng);
	cm_matrix_free(m);
	cm_diags_clear(&d);
	return 0;
}
