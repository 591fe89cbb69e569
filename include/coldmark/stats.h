/* Statistics of boot times: summaries with distribution-free CIs, outliers, warnings, and the
 * base-vs-candidate comparison that gates releases. Pure functions of their inputs. */
#ifndef COLDMARK_STATS_H
#define COLDMARK_STATS_H

#include <stdbool.h>
#include <stddef.h>

#define CM_STATS_NPCT 5
/* The one default significance level: 95% intervals in reports, compare's and history's
 * --alpha, the adaptive plan's summaries. */
#define CM_DEFAULT_ALPHA 0.05
extern const double cm_stats_pct[CM_STATS_NPCT]; /* 0.05 0.25 0.75 0.95 0.99 */

/* Warning flags of a summary. */
enum {
	CM_WARN_FEW_BOOTS = 1 << 0,  /* too few boots for the median CI */
	CM_WARN_HIGH_CV = 1 << 1,    /* coefficient of variation above CM_STATS_CV_WARN */
	CM_WARN_BIMODAL = 1 << 2,    /* two separated clusters */
	CM_WARN_DRIFT = 1 << 3,      /* Mann-Kendall trend over boot order */
	CM_WARN_FIRST_SLOW = 1 << 4, /* first counted boot far slower than the rest */
	CM_WARN_OUTLIERS = 1 << 5,   /* severe outliers present */
};
#define CM_STATS_CV_WARN 0.10

struct cm_summary {
	size_t n;
	double mean, sd, cv, min, max, median, mad;
	double mean_ci_lo, mean_ci_hi;                  /* NaN when n < 2 */
	double median_ci_lo, median_ci_hi, median_ci_level; /* NaN/0 when too few boots */
	double pct[CM_STATS_NPCT];
	double pct_ci_lo[CM_STATS_NPCT], pct_ci_hi[CM_STATS_NPCT];
	size_t n_mild, n_severe;  /* Tukey: outside 1.5 IQR (mild, not severe) / 3 IQR */
	size_t *outliers;         /* boot-order indices of all outliers (mild and severe) */
	size_t n_outliers;
	double drift_p;           /* Mann-Kendall two-sided p over boot order (NaN if n < 4) */
	/* with CM_WARN_BIMODAL: the lower and the upper mode's share of the boots and median */
	double mode_share[2], mode_median[2];
	unsigned warnings;
	/* 0: the CIs' replicates are the boots; else a run in waves (cm_stats_wave_ci): the mean
	 * and median CIs are over this many waves (each boot outside a wave one of its own) */
	size_t ci_units;
};

/* x: samples in boot order. alpha: 1 - confidence (0.05). */
int cm_stats_summarize(const double *x, size_t n, double alpha, struct cm_summary *s);
void cm_summary_free(struct cm_summary *s);
/* Bimodality: the share of the log-times' variance between the two groups of the best split
 * of sorted (positive) data, each group 3 boots at least, and where it splits; NaN below 6.
 * A sample warns when it exceeds cm_stats_bimodal_bar(n) (n >= 10). */
double cm_stats_bimodal_r2(const double *sorted, size_t n, size_t *split);
double cm_stats_bimodal_bar(size_t n);

/* Quantile by linear interpolation at rank (n-1)p of sorted data (R type 7). */
double cm_stats_quantile_sorted(const double *sorted, size_t n, double p);
/* Distribution-free CI of the p-quantile from order statistics; returns the achieved
 * confidence, 0 (and NaN bounds) when n is too small. */
double cm_stats_quantile_ci(const double *sorted, size_t n, double p, double alpha, double *lo,
			    double *hi);
/* Boots needed so the median CI half-width is target_rel of the median (normal theory on
 * the robust spread); 0 when it cannot be said. */
size_t cm_stats_boots_needed(const struct cm_summary *s, double target_rel, double alpha);

/* Mann-Whitney U (R's wilcox.test(x, y)): W and the two-sided p. exact tells which path. */
struct cm_mwu {
	double w, p;
	bool exact;
};
int cm_stats_mann_whitney(const double *x, size_t nx, const double *y, size_t ny,
			  struct cm_mwu *out);

/* Hodges-Lehmann shift of x - y with its CI (R's wilcox.test(x, y, conf.int = TRUE)). */
int cm_stats_hodges_lehmann(const double *x, size_t nx, const double *y, size_t ny,
			    double alpha, double *est, double *lo, double *hi);
/* The rank[r]-th (from 0) of the nx * ny computed differences x_i - y_j in ascending order
 * (the order of their bits, as the stats sort them) into out[r], in O((nx + ny) log) time a
 * rank and O(nx + ny) memory; false (out untouched) for empty, non-finite or -0 input. */
bool cm_stats_diff_order_stats(const double *x, size_t nx, const double *y, size_t ny,
			       const size_t *rank, size_t nrank, double *out);

enum cm_verdict { CM_NO_CHANGE, CM_REGRESSED, CM_IMPROVED, CM_INCOMPARABLE };
extern const char *const cm_verdict_names[];

struct cm_comparison {
	double base_median, cand_median;
	double rel, rel_lo, rel_hi; /* exp(HL of ln cand - ln base) - 1, and its CI */
	double p, p_adj;
	bool exact;
	bool no_floor; /* the absolute floor (min_ns) is a time: not for a size in bytes */
	enum cm_verdict verdict;
};

/* One row: relative change and raw p. The verdict waits for cm_stats_holm_verdicts. */
int cm_stats_compare(const double *base, size_t nb, const double *cand, size_t nc, double alpha,
		     struct cm_comparison *out);
/* Holm's step-down adjustment of n p-values; NAN entries are not tests and stay NAN. */
void cm_stats_holm(const double *p, size_t n, double *adj);
/* Holm-adjusts p over all rows, then sets verdicts with alpha and threshold (0.02 = 2%); a
 * verdict also needs the CI's bound times the base median to reach min_ns (0: no floor). */
void cm_stats_holm_verdicts(struct cm_comparison *rows, size_t n, double alpha, double threshold,
			    double min_ns);
/* Geometric mean of (1 + rel) over rows with a comparison. */
double cm_stats_geomean_ratio(const struct cm_comparison *rows, size_t n);

/* Kruskal-Wallis H test across groups (sweep effect of one axis); returns p. */
double cm_stats_kruskal_wallis(const double *const *groups, const size_t *sizes, size_t k);

/* Theil-Sen: the median of the pairwise slopes (pairs with equal x left out), Sen's
 * distribution-free CI at 1 - alpha from Kendall's S (ties in x corrected), the intercept as
 * the median of y - slope x. lo/hi NaN when too few pairs for the CI. */
struct cm_slope {
	double slope, lo, hi, intercept;
	size_t npairs;
};
int cm_stats_theil_sen(const double *x, const double *y, size_t n, double alpha,
		       struct cm_slope *out);
/* Jonckheere-Terpstra across k groups in their order: the two-sided p of a monotone trend
 * (exact without ties and up to 50 values, else normal with the continuity correction and,
 * with ties, Hollander & Wolfe's tie-corrected variance);
 * J into *jstat when not NULL. */
double cm_stats_jonckheere(const double *const *g, const size_t *n, size_t k, double *jstat);

/* ---- the level above the boot: sessions (stats/sessions.c) ---------------------------------
 * Boots of one session share the host's state of the moment, so between runs the session is
 * the unit of replication. Everything here works on ln(duration): components are relative. */

/* One-way random-effects variance components of ln(duration), by the method of moments
 * (unbalanced ANOVA): within-session and between-session variance, the intraclass
 * correlation, over the sessions with 2+ values. */
struct cm_varcomp {
	size_t sessions; /* sessions with 2+ values */
	size_t boots;    /* their boots per session (the mean, rounded) */
	double within, between, icc; /* NAN below 2 sessions (between, icc) */
};
/* v[i] of session[i] (any ints), n values. */
void cm_stats_varcomp(const double *v, const int *session, size_t n, struct cm_varcomp *out);
/* Both sides' components at once, side a fixed effect: the sums of squares pooled across the
 * sides first (each side's sessions about its own mean), the between part cut at 0 once. */
void cm_stats_varcomp_sides(const double *va, const int *sa, size_t na, const double *vb,
			    const int *sb, size_t nb, struct cm_varcomp *out);

/* One session's measured values as compare uses them (issue 25: the store's session summary
 * holds exactly these): n, the median of ln (of the sorted logs), their mean and sum of
 * squares about it (summed in the values' order). cm_ln_session_stats makes them. */
struct cm_ln_session {
	int session;
	size_t n;
	double median, mean, ssw;
};
void cm_ln_session_stats(const double *v, size_t n, struct cm_ln_session *out);
/* cm_stats_varcomp_sides from each side's sessions (the same unbalanced ANOVA, sessions with
 * 2+ values): what compare reads from the summary, and from raw values through the same. */
void cm_stats_varcomp_sessions(const struct cm_ln_session *a, size_t na,
			       const struct cm_ln_session *b, size_t nb, struct cm_varcomp *out);

/* Per session (in order of first appearance) the median of ln(v) over its values; sessions
 * with fewer than min_n values are left out. Returns how many went into out (room for n). */
size_t cm_stats_session_medians(const double *v, const int *session, size_t n, size_t min_n,
				double *out, size_t *per_session);

/* The session ids of cm_stats_session_medians's medians, in the same order. */
size_t cm_stats_session_ids(const int *session, size_t n, size_t min_n, int *ids);

/* The wave as a level below the session (issue 29): the boots of one wave (one session, one
 * wave number > 0) shared one moment of the host (its load, its page cache, each other), so
 * they are not replicates of each other: they become one value, exp(median of their ln v),
 * with their session. A boot outside a wave (wave <= 0) stays a value of its own. Units in
 * order of first appearance; returns how many went into out and out_session (room for n). */
size_t cm_stats_wave_units(const double *v, const int *session, const int *wave, size_t n,
			   double *out, int *out_session);
/* A run's own summary s of v (cm_stats_summarize's, boots in boot order) when some of them ran
 * in waves: its mean and median CIs made over the waves instead of the boots (s->ci_units
 * says how many; CM_WARN_FEW_BOOTS when too few waves for the median's). The median stays the
 * boots'. Nothing is changed when no value was in a wave (wave NULL, or every wave <= 0).
 * units (room for n, or NULL): each wave's median of its values (as they are, not through
 * logs: a wave of one boot is that boot), the waves in (session, wave) order. Returns
 * s->ci_units. */
size_t cm_stats_wave_ci(const double *v, const int *session, const int *wave, size_t n,
			double alpha, struct cm_summary *s, double *units);

/* ---- the level above sessions: hosts (stats/hosts.c) --------------------------------------
 * On a fleet each host has its own level (its silicon, firmware, neighbours), so a change
 * between two sides is measured within each host and then across hosts: the host is a block.
 * Inputs are the session medians of ln(duration) of each side and the host of each. */
struct cm_host_stat {
	int host;		     /* the caller's index */
	size_t kb, kc;		     /* sessions on each side */
	double level_b, level_c;     /* mean session median (ln) per side; NAN where it has none */
	double rel;		     /* its own change, exp(level_c - level_b) - 1; NAN unless both */
	bool sick;		     /* its change disagrees with the other hosts' */
	bool judged;		     /* its design can see a CM_SICK_SIZE host (else never flagged) */
};
struct cm_hosts {
	struct cm_host_stat *h;	     /* every host of either side */
	size_t n, shared;	     /* hosts, hosts on both sides */
	double var_between;	     /* between-host variance of the level (ln); NAN below 2 shared */
	bool exact;		     /* p by full enumeration of van Elteren's statistic */
	/* the change across the hosts that are not flagged, when some are (NAN otherwise) */
	double rel_healthy, lo_healthy, hi_healthy;
	double session_sd;	     /* the sessions' pooled sd (ln) the flag is judged on; NAN */
	size_t needs;		     /* 0, or K: some host is not judged, K + K sessions a host would be */
};
/* 0 with cmp filled (rel = exp(mean of the per-host changes) - 1, the 1 - 2 alpha t interval
 * across hosts, p one-sided from van Elteren's stratified rank sum) when 2+ hosts are on both
 * sides; -1 otherwise (out still describes the hosts).
 * The sick-host flag (3+ hosts on both sides): each host's change minus the mean of the other
 * hosts' changes, over the standard error both get from their session counts and the session
 * variance pooled over hosts and sides, a t on that variance's df; two-sided, at Sidak's level
 * 1 - (1 - CM_SICK_ALPHA)^(1/r) over the r hosts, so that a fleet of healthy hosts sees any host
 * flagged in <= CM_SICK_ALPHA; the most extreme host first, the rest judged again without it
 * (at the same level), and only beyond floor (ln). A host is judged only where its design can
 * see a host CM_SICK_SIZE off the others (the test's power >= CM_SICK_POWER at the measured
 * session sd); otherwise it is never flagged and needs says how many sessions would do. */
#ifndef CM_SICK_ALPHA
#define CM_SICK_ALPHA 0.05
#endif
#define CM_SICK_SIZE 0.40
#define CM_SICK_POWER 0.80
int cm_stats_compare_hosts(const double *mb, const int *hb, size_t kb, const double *mc,
			   const int *hc, size_t kc, double alpha, double floor, struct cm_hosts *out,
			   struct cm_comparison *cmp);
void cm_hosts_free(struct cm_hosts *h);
/* The two-sided power of a t test (critical value crit, df) of an effect lam standard errors,
 * counting only the draws whose variance estimate is at most vmax times the true one
 * (INFINITY: all); by quadrature over the chi-square quantiles. */
double cm_stats_t_power(double lam, double crit, double df, double vmax);
/* The smallest K >= 2 such that r hosts of K + K sessions (session sd sd, ln) flag a host
 * CM_SICK_SIZE off the others with probability >= CM_SICK_POWER + CM_SICK_MARGIN by the rule
 * above, its power check included; CM_SICK_MAX_K + 1 when none up to CM_SICK_MAX_K; 0 below
 * 3 hosts. */
#define CM_SICK_MAX_K 50
#define CM_SICK_MARGIN 0.05
size_t cm_stats_sick_design(size_t r, double sd);
/* van Elteren's test: per stratum the candidate's rank sum weighted by 1 / (N + 1), summed;
 * exact (midranks for ties): each stratum's rank-sum distribution counted, the strata
 * convolved (no assignment is listed). Only when strata of many different sizes would give T
 * more than CM_VAN_ELTEREN_EXACT distinct values, normal with the tie-corrected variance and
 * half the smallest step as continuity correction (*exact false). One-sided p: upper (the
 * candidate larger) when upper, else lower. */
#define CM_VAN_ELTEREN_EXACT 1000000
double cm_stats_van_elteren(const double *const *b, const size_t *nb, const double *const *c,
			    const size_t *nc, size_t strata, bool upper, bool *exact);

/* A prior on the variance of a session's summary from a calibration of the host: that
 * variance (between + the within part a median of boots boots keeps) and its df. */
struct cm_session_prior {
	double var;
	double df;
};
/* The variance of the median of m independent N(0, 1) values: exact for m < 30 (tabulated
 * from the order statistics' densities), pi/2 / m with its 1/m correction past that. */
double cm_stats_median_var(size_t m);
/* The prior a calibration's components give for sessions of `boots` boots. */
void cm_session_prior_from(const struct cm_varcomp *cal, size_t boots, struct cm_session_prior *out);

/* Between runs, with sessions as the unit: the session medians of ln(duration) of each side,
 * a pooled-variance t (the prior's df added to the pooled variance when one is given; needed
 * when a side has one session). rel = exp(mean_c - mean_b) - 1; its CI is the 1 - 2 alpha
 * interval, whose bounds are the one-sided 1 - alpha bounds a verdict needs; p is the
 * one-sided p in the direction of the change (a gate asks "slower?", and "faster?"). */
int cm_stats_compare_sessions(const double *mb, size_t kb, const double *mc, size_t kc,
			      const struct cm_session_prior *prior, double alpha,
			      struct cm_comparison *out);

/* Within a run, with sessions as the unit: d[i] the candidate's minus the base's session median
 * of ln(duration) in session i, k >= 2 of them; a one-sample t with k - 1 df. rel, CI and p as
 * cm_stats_compare_sessions gives them. -1 below 2 sessions. */
int cm_stats_compare_paired(const double *d, size_t k, double alpha, struct cm_comparison *out);

/* Change points in a series of session summaries (ln of the medians, in time order): binary
 * segmentation on the two-sample t statistic, each split's significance from a permutation
 * test of the maximal statistic over the segment (E-divisive's way of making "the best split"
 * honest), kept when p < alpha (a segment of m of the n sessions is tested at alpha m / n, so
 * the segments left between real changes share alpha instead of each spending it afresh) and
 * the step is at least min_rel. Steps: the first session
 * after each change, its relative size with the Welch CI between the neighbouring segments,
 * and p. seed makes the permutations repeatable. */
struct cm_change {
	size_t at; /* index of the first session after the change */
	double rel, lo, hi, p;
};
size_t cm_stats_change_points(const double *x, size_t n, double alpha, double min_rel,
			      unsigned long seed, struct cm_change *out, size_t max);

/* How many sessions x boots reach a CI half-width of target (relative) at least cost, as
 * Kalibera & Jones derive it: boots per session n = sqrt(session_cost sigma_w^2 / (boot_cost
 * sigma_b^2)), then the fewest sessions whose t-interval is narrow enough. */
#define CM_DIMENSION_MAX_BOOTS 200 /* boots per session considered at most */
struct cm_dimension {
	int sessions, boots;
	double cost_s; /* sessions x (session_cost + boots x boot_cost) */
};
int cm_stats_dimension(const struct cm_varcomp *vc, double boot_s, double session_s,
		       double target, struct cm_dimension *out);

#endif
