/* The session level of the statistics, proven by simulation (printed by scripts/bench-sessions.sh;
 * asserts nothing). Boot times are lognormal: each session draws its own level (between-session
 * CV 10%), each boot its own noise around it (within-session CV 3%). Every comparison goes
 * through cm_compare_build, the code `coldmark compare` runs; the histories through
 * cm_stats_change_points, the code `coldmark history` runs. Seeded: the figures repeat. */
#include <gsl/gsl_errno.h>
#include <gsl/gsl_randist.h>
#include <gsl/gsl_rng.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "coldmark/report.h"
#include "coldmark/report.h"

#define SD_BETWEEN 0.1
#define SD_WITHIN 0.03
#define BASE_NS 100e6

static gsl_rng *rng;
static double sd_inter; /* within run: each arm's own move in each session (arm x session) */

/* K sessions x B boots of case "c" into ds, the candidate's change applied. */
static void side(struct cm_dataset *ds, int K, int B, double change, const double *levels)
{
	cm_dataset_init(ds, NULL, 0);
	cm_dataset_meta(ds, "host", "sim");
	int boot = 0;
	for (int k = 0; k < K; k++) {
		char id[16];
		snprintf(id, sizeof(id), "%d", k + 1);
		cm_dataset_session(ds, id, "sim");
		double u = levels ? levels[k] + gsl_ran_gaussian(rng, sd_inter)
				  : gsl_ran_gaussian(rng, SD_BETWEEN);
		for (int b = 0; b < B; b++)
			cm_dataset_add(ds, "c", ++boot, false, "ok", "total",
				       BASE_NS * (1 + change) * exp(u + gsl_ran_gaussian(rng, SD_WITHIN)),
				       "sim", "none");
	}
}

/* A calibration of the simulated host: K unchanged sessions of B boots. */
static void calibrate(int K, int B, struct cm_calibration *cal)
{
	struct cm_dataset ds;
	side(&ds, K, B, 0, NULL);
	struct cm_report r;
	cm_report_build(&ds, 0.05, &r);
	const struct cm_cell *cell = cm_report_cell(&r, 0, 0);
	cm_stats_varcomp(cell->values, cell->sessions, cell->s.n, &cal->vc);
	cal->case_id = "c", cal->phase = "total";
	cm_report_free(&r);
	cm_dataset_free(&ds);
}

/* Share of trials whose comparison says "regressed" (what exits non-zero). */
static double rate(int trials, int K, int B, double change, bool within, int cal_k,
		   double thr, size_t *model)
{
	int hits = 0;
	double levels[64];
	for (int t = 0; t < trials; t++) {
		struct cm_dataset b, c;
		for (int k = 0; k < K; k++)
			levels[k] = gsl_ran_gaussian(rng, SD_BETWEEN);
		side(&b, K, B, 0, within ? levels : NULL);
		side(&c, K, B, change, within ? levels : NULL);
		struct cm_judge j = { 0.05, thr, 0 };
		struct cm_calibration cal; /* a fresh calibration per trial: it is noisy too */
		if (cal_k > 0)
			calibrate(cal_k, B, &cal);
		struct cm_cmp_opts o = { .within_run = within, .cal = cal_k > 0 ? &cal : NULL,
					 .ncal = cal_k > 0 };
		struct cm_cmp_result r;
		cm_compare_build(&b, &c, &j, NULL, &o, &r);
		hits += r.rows[0].cmp.verdict == CM_REGRESSED;
		*model = r.rows[0].model;
		cm_compare_free(&r);
		cm_dataset_free(&b);
		cm_dataset_free(&c);
	}
	return (double)hits / trials;
}

static void comparisons(int trials)
{
	size_t m;
	printf("between-session CV %.0f%%, within-session CV %.0f%%; %d comparisons per figure; "
	       "alpha 0.05, threshold 0\n\n", SD_BETWEEN * 100, SD_WITHIN * 100, trials);
	printf("%-58s %10s %10s\n", "design (a side)", "false pos.", "power");
	struct { const char *what; int K, B; double change; bool within; int cal_k; } d[] = {
		{ "3 sessions x 10 boots, boots pooled (the old compare)", 3, 10, 0.25, false, -1 },
		{ "3 sessions x 10 boots, sessions as the unit", 3, 10, 0.25, false, 0 },
		{ "3 sessions x 10 boots, sessions + 10-session calibration", 3, 10, 0.25, false, 10 },
		{ "5 sessions x 10 boots, sessions as the unit", 5, 10, 0.25, false, 0 },
		{ "1 session x 10 boots, 10-session calibration", 1, 10, 0.25, false, 10 },
		{ "1 session x 30 boots, boots only (exit 5)", 1, 30, 0.25, false, 0 },
		{ "within run (--axis), 3 sessions x 10 boots, change 3%", 3, 10, 0.03, true, 0 },
		{ "within run (--axis), 1 session x 10 boots, change 3%", 1, 10, 0.03, true, 0 },
	};
	for (size_t i = 0; i < sizeof(d) / sizeof(d[0]); i++) {
		double fp, pw;
		if (d[i].cal_k < 0) { /* the old model: every boot a replicate, sessions ignored */
			/* the old compare saw the three sessions' boots as one sample */
			int hits = 0;
			for (int t = 0; t < trials; t++) {
				struct cm_dataset b, c;
				side(&b, d[i].K, d[i].B, 0, NULL);
				side(&c, d[i].K, d[i].B, 0, NULL);
				for (size_t r = 0; r < b.n; r++)
					b.rows[r].session = 1;
				for (size_t r = 0; r < c.n; r++)
					c.rows[r].session = 1;
				struct cm_judge j = { 0.05, 0, 0 };
				struct cm_cmp_result res;
				cm_compare_build(&b, &c, &j, NULL, NULL, &res);
				hits += res.rows[0].cmp.verdict != CM_NO_CHANGE;
				cm_compare_free(&res);
				cm_dataset_free(&b);
				cm_dataset_free(&c);
			}
			fp = (double)hits / trials;
			printf("%-58s %9.1f%% %10s   (either direction)\n", d[i].what, fp * 100, "—");
			continue;
		}
		fp = rate(trials, d[i].K, d[i].B, 0, d[i].within, d[i].cal_k, 0, &m);
		pw = rate(trials, d[i].K, d[i].B, d[i].change, d[i].within, d[i].cal_k, 0, &m);
		printf("%-58s %9.1f%% %9.1f%%   (model: %s, change %+.0f%%)\n", d[i].what, fp * 100,
		       pw * 100, cm_cmp_models[m].name, d[i].change * 100);
	}
}

/* The within-run A/B with an arm x session interaction: each arm moves by its own N(0, sd) in
 * each session; false positives at threshold 0 and the power at +3%. */
static void interaction(int trials)
{
	size_t m;
	printf("\nwithin run (--axis), 10 boots an arm a session, arm x session interaction "
	       "(each arm's own sd in each session)\n%-58s %10s %10s\n", "design", "false pos.",
	       "power +3%");
	const double sds[] = { 0, 0.01, 0.02 };
	const int ks[] = { 1, 3, 5, 8 };
	for (size_t i = 0; i < 3; i++)
		for (size_t k = 0; k < 4; k++) {
			sd_inter = sds[i];
			double fp = rate(trials, ks[k], 10, 0, true, 0, 0, &m);
			double pw = rate(trials, ks[k], 10, 0.03, true, 0, 0, &m);
			char what[80];
			snprintf(what, sizeof(what), "%d session%s, interaction sd %.0f%%", ks[k],
				 ks[k] > 1 ? "s" : "", sds[i] * 100);
			printf("%-58s %9.1f%% %9.1f%%\n", what, fp * 100, pw * 100);
		}
	sd_inter = 0;
}

/* The ln median of 10 boots around level u. */
static double session_median(double u)
{
	double v[10], med;
	int ses[10] = { 0 };
	for (int b = 0; b < 10; b++)
		v[b] = BASE_NS * exp(u + gsl_ran_gaussian(rng, SD_WITHIN));
	cm_stats_session_medians(v, ses, 10, 1, &med, NULL);
	return med;
}

/* One history: n session summaries, a step at `at` (n: none). relative: each session's
 * reference case shares its level, and the series is the case over its reference. */
static void series(double *x, int n, int at, double step, bool relative)
{
	for (int i = 0; i < n; i++) {
		double u = gsl_ran_gaussian(rng, SD_BETWEEN), s = i >= at ? log1p(step) : 0;
		x[i] = session_median(u + s) - (relative ? session_median(u) - log(BASE_NS) : 0);
	}
}

static void change_points(int trials, double step, bool relative)
{
	double x[60];
	struct cm_change ch[16];
	int found = 0, located = 0, flat_quiet = 0, lo = 3, hi = 57;
	for (int t = 0; t < trials; t++) {
		int at = lo + (int)gsl_rng_uniform_int(rng, (unsigned long)(hi - lo + 1));
		series(x, 60, at, step, relative);
		size_t k = cm_stats_change_points(x, 60, 0.05, 0, (unsigned long)t, ch, 16);
		bool hit = false, near = false;
		for (size_t i = 0; i < k; i++) {
			hit |= ch[i].rel > 0;
			near |= ch[i].rel > 0 && abs((int)ch[i].at - at) <= 2;
		}
		found += hit, located += near;
		series(x, 60, 60, 0, relative);
		flat_quiet += cm_stats_change_points(x, 60, 0.05, 0, (unsigned long)t + 7777, ch, 16) == 0;
	}
	printf("  %+3.0f%% step%-26s %9.1f%% %9.1f%% %9.1f%%\n", step * 100,
	       relative ? ", relative to a reference" : "", 100.0 * found / trials,
	       100.0 * located / trials, 100.0 * flat_quiet / trials);
}

/* Wilson's 95% interval of k hits in n, in percent. */
static void wilson(int k, int n, double *lo, double *hi)
{
	double p = (double)k / n, z = 1.959964, d = 1 + z * z / n;
	double c = (p + z * z / (2.0 * n)) / d, h = z * sqrt(p * (1 - p) / n + z * z / (4.0 * n * n)) / d;
	*lo = 100 * (c - h), *hi = 100 * (c + h);
}

/* Issue 24's history case: 20 session summaries with 2% noise, one +8% step at a uniform
 * place in [3, 17]: found within 2 sessions, an extra change point besides, and on series
 * without a step, any change point. */
static void extra_points(int trials)
{
	double x[20], lo, hi;
	struct cm_change ch[8];
	int located = 0, extra = 0, null_any = 0;
	for (int t = 0; t < trials; t++) {
		int at = 3 + (int)gsl_rng_uniform_int(rng, 15);
		for (int i = 0; i < 20; i++)
			x[i] = gsl_ran_gaussian(rng, 0.02) + (i >= at ? log(1.08) : 0);
		size_t k = cm_stats_change_points(x, 20, 0.05, 0, (unsigned long)t, ch, 8);
		bool near = false;
		for (size_t i = 0; i < k; i++)
			near |= ch[i].rel > 0 && abs((int)ch[i].at - at) <= 2;
		located += near, extra += k > 1;
		for (int i = 0; i < 20; i++)
			x[i] = gsl_ran_gaussian(rng, 0.02);
		null_any += cm_stats_change_points(x, 20, 0.05, 0, (unsigned long)t + 99999, ch, 8) > 0;
	}
	printf("\nchange points: 20 sessions, 2%% noise, one +8%% step at a uniform position in "
	       "[3, 17], %d series\n", trials);
	wilson(located, trials, &lo, &hi);
	printf("  step found within ±2 sessions     %5.1f%% [%.1f, %.1f]\n", 100.0 * located / trials, lo, hi);
	wilson(extra, trials, &lo, &hi);
	printf("  an extra change point besides it  %5.1f%% [%.1f, %.1f]\n", 100.0 * extra / trials, lo, hi);
	wilson(null_any, trials, &lo, &hi);
	printf("  no step: any change point         %5.1f%% [%.1f, %.1f]\n", 100.0 * null_any / trials, lo, hi);
}

/* Issue 24 item 6: the sick-host flag (cm_stats_compare_hosts, the code compare runs on a
 * fleet). r hosts, levels N(0, 10%), K + K sessions of 10 boots a host (README's noise); every
 * host changes +5%, host 0 eff more (x (1 + eff); 0: all healthy), host 1's level +30% (a
 * level alone must not flag it). Shares of fleets: host 0 flagged, another host flagged, the
 * flag declined (some host not judged: "design too small"), host 1 flagged. */
struct flag_rates {
	int sick, other, any, declined, shifted;
};
static struct flag_rates flag_cell(int trials, int r, const int *kb, const int *kc, double eff)
{
	struct flag_rates f = { 0, 0, 0, 0, 0 };
	for (int t = 0; t < trials; t++) {
		double mb[128], mc[128];
		int hb[128], hc[128];
		size_t nb = 0, nc = 0;
		for (int h = 0; h < r; h++) {
			double lvl = gsl_ran_gaussian(rng, 0.1) + (h == 1 ? log(1.3) : 0);
			double ch = log(1.05) + (h == 0 ? log1p(eff) : 0);
			for (int k = 0; k < kb[h]; k++, nb++)
				mb[nb] = session_median(lvl + gsl_ran_gaussian(rng, SD_BETWEEN)), hb[nb] = h;
			for (int k = 0; k < kc[h]; k++, nc++)
				mc[nc] = session_median(lvl + ch + gsl_ran_gaussian(rng, SD_BETWEEN)), hc[nc] = h;
		}
		struct cm_hosts out;
		struct cm_comparison cmp;
		cm_stats_compare_hosts(mb, hb, nb, mc, hc, nc, 0.05, 0, &out, &cmp);
		bool other = false;
		for (size_t j = 0; j < out.n; j++)
			other |= out.h[j].sick && out.h[j].host != 0;
		f.sick += out.h[0].sick, f.other += other, f.any += other || out.h[0].sick;
		f.declined += out.needs > 0;
		f.shifted += out.h[1].sick;
		cm_hosts_free(&out);
	}
	return f;
}

static void sick_hosts(int trials)
{
	const double sd = sqrt(SD_BETWEEN * SD_BETWEEN + SD_WITHIN * SD_WITHIN * cm_stats_median_var(10));
	printf("\nsick-host flag: hosts' levels sd 10%%, sessions of 10 boots (README's noise: a "
	       "session median's sd %.2f%%), every host +5%%, host 0 a further +20/40/60%%, host 1's "
	       "level +30%%; %d fleets a cell\n", sd * 100, trials);
	printf("%-26s %7s | %-31s | %-27s | %8s %8s\n", "design", "named", "all healthy: any flagged",
	       "host 0 flagged at +20/40/60%", "beside", "declined");
	printf("%-26s %7s | %-31s | %-27s | %8s %8s\n", "", "", "", "", "(+40%)", "(+40%)");
	const int ks[] = { 2, 3, 4, 5, 6, 8 };
	const int hs[] = { 4, 8 };
	for (size_t i = 0; i < 2; i++)
		for (size_t k = 0; k <= 6; k++) {
			int kb[16], kc[16], r = hs[i];
			char what[64];
			if (k == 6) { /* unequal: 2 to 6 sessions a side */
				for (int h = 0; h < r; h++) /* host 0: 5 + 6 */
					kb[h] = 2 + (h * 3 + 3) % 5, kc[h] = 2 + (h * 2 + 4) % 5;
				snprintf(what, sizeof(what), "%d hosts, 2..6 a side", r);
			} else {
				for (int h = 0; h < r; h++)
					kb[h] = kc[h] = ks[k];
				snprintf(what, sizeof(what), "%d hosts, %d + %d", r, ks[k], ks[k]);
			}
			struct flag_rates z = flag_cell(trials, r, kb, kc, 0);
			struct flag_rates e[3];
			for (int x = 0; x < 3; x++)
				e[x] = flag_cell(trials, r, kb, kc, 0.2 * (x + 1));
			char need[16] = "n/a";
			if (k < 6)
				snprintf(need, sizeof(need), "%zu+%zu", cm_stats_sick_design((size_t)r, sd),
					 cm_stats_sick_design((size_t)r, sd));
			printf("%-26s %7s | %5.1f%% (host +30%% level %4.1f%%) | %5.1f%% %6.1f%% %6.1f%% | "
			       "%7.1f%% %7.1f%%\n", what, need, 100.0 * z.any / trials, 100.0 * z.shifted / trials,
			       100.0 * e[0].sick / trials, 100.0 * e[1].sick / trials,
			       100.0 * e[2].sick / trials, 100.0 * e[1].other / trials,
			       100.0 * e[1].declined / trials);
		}
}

int main(int argc, char **argv)
{
	gsl_set_error_handler_off();
	int trials = argc > 1 ? atoi(argv[1]) : 2000;
	rng = gsl_rng_alloc(gsl_rng_mt19937);
	gsl_rng_set(rng, 20261126);
	if (argc > 2 && !strcmp(argv[2], "hosts")) { /* the sick-host table alone */
		sick_hosts(trials);
		gsl_rng_free(rng);
		return 0;
	}
	comparisons(trials);
	interaction(trials);
	printf("\nchange points: 60 sessions x 10 boots, one step at a uniform position in [3, 57], "
	       "%d series each\n  %-36s %10s %10s %10s\n", trials / 2, "series", "detected",
	       "within ±2", "flat: none");
	change_points(trials / 2, 0.10, false);
	change_points(trials / 2, 0.20, false);
	change_points(trials / 2, 0.10, true);
	extra_points(trials / 2);
	sick_hosts(trials / 2);
	gsl_rng_free(rng);
	return 0;
}
