/* Speed figures (a benchmark that prints numbers, not a timed test): summaries of 1,000,000
 * samples, a comparison of two 10,000-boot samples, and the expansion of a 10,000-case matrix. */
#include <gsl/gsl_errno.h>
#include <gsl/gsl_randist.h>
#include <gsl/gsl_rng.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "coldmark/matrix.h"
#include "coldmark/stats.h"

static double median_of(double *v, int n)
{
	for (int i = 1; i < n; i++) /* n is tiny */
		for (int j = i; j > 0 && v[j] < v[j - 1]; j--) {
			double t = v[j];
			v[j] = v[j - 1];
			v[j - 1] = t;
		}
	return v[n / 2];
}

int main(void)
{
	gsl_set_error_handler_off();
	setvbuf(stdout, NULL, _IOLBF, 0);
	gsl_rng *rng = gsl_rng_alloc(gsl_rng_mt19937);
	gsl_rng_set(rng, 1);
	size_t n = 1000000;
	double *x = malloc(n * sizeof(double));
	for (size_t i = 0; i < n; i++)
		x[i] = gsl_ran_lognormal(rng, 18, 0.1); /* ~65 ms boots, in ns */
	double t[5];
	for (int r = 0; r < 5; r++) {
		int64_t t0 = cm_now_ns();
		struct cm_summary s;
		cm_stats_summarize(x, n, 0.05, &s);
		t[r] = (cm_now_ns() - t0) / 1e6;
		cm_summary_free(&s);
	}
	printf("summary of 1,000,000 samples: median %.1f ms over 5 runs\n", median_of(t, 5));

	size_t m = 1000; /* Hodges-Lehmann sorts all m*m differences: fine for boot counts */
	for (int r = 0; r < 5; r++) {
		int64_t t0 = cm_now_ns();
		struct cm_comparison c;
		cm_stats_compare(x, m, x + m, m, 0.05, &c);
		t[r] = (cm_now_ns() - t0) / 1e6;
	}
	printf("comparison of 1,000 vs 1,000 boots (U test + Hodges-Lehmann): median %.1f ms\n",
	       median_of(t, 5));

	const char *y = "guest: {disk: /dev/null}\naxes:\n  smp: {from: 1, to: 100, step: 1}\n"
			"  a: {template: [-name, \"{}\"], values: [0,1,2,3,4,5,6,7,8,9]}\n"
			"  b: {template: [-uuid, \"{}\"], values: [0,1,2,3,4,5,6,7,8,9]}\n";
	for (int r = 0; r < 5; r++) {
		int64_t t0 = cm_now_ns();
		struct cm_diags d = { 0 };
		struct cm_matrix *mx = cm_matrix_load_string(y, strlen(y), "/tmp/bench.yaml", &d);
		t[r] = (cm_now_ns() - t0) / 1e6;
		if (!mx || mx->ncases != 10000)
			return 1;
		cm_matrix_free(mx);
		cm_diags_clear(&d);
	}
	printf("load + expand a 10,000-case matrix: median %.1f ms\n", median_of(t, 5));
	free(x);
	gsl_rng_free(rng);
	return 0;
}
