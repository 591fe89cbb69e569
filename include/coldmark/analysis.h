/* The analysis: a report's cells (per case x phase summaries), sweeps, trends and slopes, the
 * comparison and history models. Pure computation over the data model; nothing is written. */
#ifndef COLDMARK_ANALYSIS_H
#define COLDMARK_ANALYSIS_H

#include <stdbool.h>
#include <stdio.h>

#include "coldmark/model.h"
#include "coldmark/stats.h"

struct cm_cell {
	size_t case_idx, phase_idx;
	struct cm_summary s;
	size_t n_failed, n_warmup;
	size_t n_audit; /* measured boots the per-boot audit flagged (throttled, a slow clock) */
	size_t nrows; /* rows of any kind: 0 for a phase the case does not report (a reference
		       * case reports total only), which the writers leave out */
	/* ok boots whose source cannot see this phase's events (first_entry under debugcon):
	 * the cell is "not measurable with <source>", never "too few boots" */
	size_t n_unmeasurable;
	const char *unmeasurable_source;
	double *values; /* ok, counted boots in boot order */
	int *boots;     /* their boot numbers */
	int *sessions;  /* and sessions */
	struct cm_varcomp vc; /* within/between-session components (with 2+ sessions) */
};

struct cm_sweep;
/* How a phase scales along a numeric axis within one slice of the other axes. */
struct cm_trend {
	size_t axis, phase;
	char *held;            /* the slice: "accel=kvm,machine=pc"; "" for a 1-axis matrix */
	size_t nlevels;        /* values of the axis with 2+ ok boots */
	double unit;           /* x's unit in the axis's own terms: 2^30 bytes for sizes, else 1 */
	const char *unit_name; /* "GiB", or the axis name */
	struct cm_slope slope; /* ns per unit, Sen's CI */
	struct cm_slope elasticity; /* d log(time) / d log(x) */
	bool linear;           /* one slope describes it (the halves' CIs overlap, or < 4 levels) */
	struct cm_slope lower, upper; /* the halves' slopes (4+ levels) */
};
/* Two slices' slopes of one axis and phase: b's minus a's, with a CI. */
struct cm_interaction {
	size_t a, b; /* indices into trends */
	double diff, lo, hi;
};
struct cm_report {
	const struct cm_dataset *ds;
	struct cm_cell *cells; /* case-major: cells[c * nphases + p] */
	size_t ncells;
	double alpha;
	struct cm_sweep *sweeps; /* computed once by cm_report_build, rendered by every writer */
	size_t nsweeps;
	struct cm_trend *trends; /* likewise: the slopes of every numeric axis */
	size_t ntrends;
	struct cm_interaction *interactions;
	size_t ninteractions;
};
/* The slopes (cm_report_build calls it) and their release. */
void cm_report_trends(struct cm_report *r);
void cm_report_trends_free(struct cm_report *r);
/* The slices along axis a: slice[c] for every case (SIZE_MAX for a case without a value of a),
 * held[s] each slice's other axes; returns the number of slices. Linear in the cases. */
size_t cm_slices(const struct cm_dataset *ds, size_t a, size_t *slice, char ***held);

int cm_report_build(const struct cm_dataset *ds, double alpha, struct cm_report *r);
/* The same without the slopes (no trends): for compare and history, which show cells only;
 * the slopes of a 10^4-case sweep cost more than everything else there. */
int cm_report_build_cells(const struct cm_dataset *ds, double alpha, struct cm_report *r);
void cm_report_free(struct cm_report *r);
const struct cm_cell *cm_report_cell(const struct cm_report *r, size_t c, size_t p);

/* Sweep effect of one axis on one phase within one slice of the other axes. */
struct cm_sweep {
	size_t axis, phase;
	char *held;       /* the other axes' values, "accel=kvm,machine=pc"; "" for a 1-axis matrix */
	size_t ngroups;   /* values of the axis in the slice with at least 2 ok boots */
	double p, p_adj;  /* Holm over every row of the report. NAN: not tested */
	bool ordered;     /* p from Jonckheere-Terpstra (numeric axis, 3+ values), else Kruskal-Wallis */
	double ratio;     /* slowest median / fastest median in the slice */
	size_t fastest, slowest; /* their cases */
};
/* "accel=kvm,machine=pc": case c's values of every axis but a (its slice along a). */
char *cm_case_held_fixed(const struct cm_dataset *ds, size_t c, size_t a);
/* One row per axis x slice x phase, for every axis that takes 2+ values within a slice. */
int cm_report_sweeps(const struct cm_report *r, struct cm_sweep **out, size_t *n);
void cm_sweeps_free(struct cm_sweep *s, size_t n);
/* "×1.52", "×1862": the ratio as the reports print it; returns out. */
const char *cm_sweep_ratio(const struct cm_sweep *s, char *out, size_t n);

/* With 2+ sessions: how many sessions x boots a cell needs for a CI half-width of
 * CM_ADVICE_TARGET between runs at least cost (Kalibera & Jones), a boot costing the case's
 * median total and a session its warm-ups (one boot at least). false when the cell has
 * fewer than 2 sessions or no total. */
#define CM_ADVICE_TARGET 0.02
bool cm_cell_advice(const struct cm_report *r, const struct cm_cell *cell, struct cm_dimension *out);

/* "not measurable with debugcon" when the cell has no value because its source cannot see
 * the phase; NULL otherwise. */
const char *cm_cell_unmeasurable(const struct cm_cell *cell, char *buf, size_t n);
/* History: one point per run of a case, in time order. step: +1 a significant regression
 * from the previous run, -1 an improvement, 0 neither. */
struct cm_trend_point {
	const char *label; /* tag or run id */
	double median, lo, hi;
	size_t n;
	int step;         /* a change point just before this point: +1 up, -1 down */
	const char *note; /* what the plot says at it ("+10.2% [+6.1%, +14.5%], p 0.005"), or NULL */
};
/* What makes a verdict, shared by compare and history: --alpha, --threshold, --min-change. */
struct cm_judge {
	double alpha, thr, min_ns;
};
/* "a verdict needs Holm p < 0.05 and the whole CI beyond ±2%" */
void cm_judge_say(const struct cm_judge *j, char *out, size_t n);

/* Which model of the noise a row's change and CI come from. Between runs the session is the
 * unit: boots of one session share the host's state, and a boot-level CI of a change between
 * runs is far too narrow (two unchanged runs "regress" +44%). */
enum cm_cmp_model {
	CM_MODEL_SESSIONS,   /* 2+ sessions a side: a t on the session medians (and a calibration) */
	CM_MODEL_CALIBRATED, /* a side with one session: the host's calibration gives the between part */
	CM_MODEL_WITHIN_RUN, /* two values of an axis interleaved in the same sessions: boots, aligned
			      * by session when there are several */
	CM_MODEL_BOOTS,      /* between runs without sessions or a calibration: the boots' CI only,
			      * the between-session part missing (its regressions exit 5, not 1) */
	CM_MODEL_HOSTS,      /* a fleet: 2+ hosts on both sides; per-host changes, a t across hosts,
			      * van Elteren's stratified rank sum for p */
};
#define CM_NMODELS 5
/* Each model's name (tables, csv, json) and what the legend under a table says of it (a
 * printf format: %1$g the CI's percent, %2$g alpha, as --alpha set them), by enum value. */
struct cm_cmp_model_info {
	const char *name, *legend;
};
extern const struct cm_cmp_model_info cm_cmp_models[CM_NMODELS];

struct cm_cmp_row {
	const char *case_id, *phase; /* the candidate's */
	size_t base_n, cand_n;
	size_t base_sessions, cand_sessions;
	struct cm_comparison cmp;
	enum cm_cmp_model model;
	size_t ref_row; /* the row of its reference case in the same phase, or SIZE_MAX */
	struct cm_varcomp vc; /* within/between components, pooled over both sides (or calibration) */
	bool gating; /* a regression here fails the comparison (--fail-on) */
	struct cm_hosts hosts; /* the host level (model hosts); its indexes name r->hosts */
};

/* What the comparison may use beyond the two datasets. */
struct cm_cmp_opts {
	bool within_run; /* both sides are values of one axis in the same run (and sessions) */
	bool relative;   /* --relative-to reference: the sides were made relative to it */
	const struct cm_calibration *cal; /* this host's calibration, if any */
	size_t ncal;
};

struct cm_cmp_result {
	struct cm_cmp_row *rows;
	size_t nrows;
	char **only_base, **only_cand; /* case ids on one side only */
	size_t n_only_base, n_only_cand;
	char **not_comparable; /* "host differs: 'a' vs 'b'", "only the base loads efi-e1000.rom" */
	size_t n_not_comparable;
	char **reference_moved; /* "reference,accel=tcg total moved +12.0% [..] too: ..." */
	size_t n_reference_moved;
	bool relative;
	size_t regressions; /* among the gating rows, under a model with the session level */
	size_t regressions_boots_only; /* gating rows "regressed" under CM_MODEL_BOOTS */
	unsigned models; /* bit per cm_cmp_model used */
	double geomean;     /* candidate/base over the rows */
	char **hosts;       /* every host either side ran on, by the index rows' hosts use */
	size_t nhosts;
	struct cm_judge judge;
	bool fail_on_some;  /* --fail-on named the gating phases */
};

/* Compares cand against base case by case and phase by phase; fail_on: comma list of the
 * phases whose regressions count (NULL: all). The result keeps pointers into cand. */
int cm_compare_build(const struct cm_dataset *base, const struct cm_dataset *cand,
		     const struct cm_judge *j, const char *fail_on, const struct cm_cmp_opts *opts,
		     struct cm_cmp_result *out);
void cm_compare_free(struct cm_cmp_result *r);

/* The host level (reports/hosts.c): the row's change blocked on the host when 2+ hosts are
 * on both sides (true), the sessions' hosts named in r->hosts; floor (ln) flags a host. */
bool cm_cmp_hosts_row(const struct cm_dataset *b, const struct cm_dataset *c,
		      const struct cm_cell *x, const struct cm_cell *y, double alpha, double floor,
		      struct cm_cmp_row *row, struct cm_cmp_result *r);
/* The header items that make two runs not comparable and differ between a and b ("qemu
 * sha256 differs: 'x' vs 'y'", "only the candidate loads efi-e1000.rom"); *out to free. */
size_t cm_header_diffs(const struct cm_dataset *a, const struct cm_dataset *b, char ***out);

/* History: per case, one point per session (in time order) of one phase, and the change
 * points of that series (cm_stats_change_points): persistent steps, not adjacent pairs. */
struct cm_hist_point {
	char *label;          /* "v1.2" or "v1.2#3" (a run of several sessions) */
	const char *run_id;   /* borrowed from the caller */
	size_t run;           /* index of its run */
	struct cm_trend_point pt; /* median, CI, n, step (+1 a change up starts here, -1 down) */
	double step_rel;      /* that change's relative size */
};
struct cm_hist_change {
	size_t at;              /* index of the first point after the change */
	double rel, lo, hi, p;  /* its size with the CI, and the permutation p */
	char *changed;          /* header items that differ across it ("" when none: same run) */
	double ref_rel;         /* the reference case's change across the same sessions (NAN: none) */
};
struct cm_hist_series {
	char *case_id;
	struct cm_hist_point *pts;
	size_t n;
	struct cm_hist_change *changes;
	size_t nchanges;
};
struct cm_history {
	struct cm_hist_series *series;
	size_t n;
	const char *phase;
	struct cm_judge judge;
};
/* runs[i] labelled labels[i] (a tag) with id ids[i], in time order; only case_filter when not
 * NULL. Returns 0, or -1 when no run has such a case. */
int cm_history_build(const struct cm_dataset *runs, char *const *labels, char *const *ids,
		     size_t nruns, const char *case_filter, const char *phase,
		     const struct cm_judge *j, struct cm_history *out);
void cm_history_free(struct cm_history *h);

#endif
