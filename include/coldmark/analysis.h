/* The analysis: a report's cells (per case x phase summaries), sweeps, trends and slopes, the
 * comparison and history models. Pure computation over the data model; nothing is written. */
#ifndef COLDMARK_ANALYSIS_H
#define COLDMARK_ANALYSIS_H

#include <stdbool.h>
#include <stdint.h>
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
	int *waves;     /* and waves (0: booted alone); NULL when no boot of it was in a wave */
	/* a run's report of a run in waves: each wave's median (s.ci_units of them), the
	 * replicates its CIs, sweeps and slopes take (cm_stats_wave_ci); NULL otherwise */
	double *units;
	struct cm_varcomp vc; /* within/between-session components (with 2+ sessions) */
	/* compare's cells (cm_report_build_compare_cells) only: per session with a measured
	 * value, in order of first appearance, its n, median, mean and sum of squares of ln */
	struct cm_ln_session *sess;
	size_t nsess;
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
	bool linear;           /* one slope describes it: no level's median off the line, and
				* with 4+ levels the halves' CIs overlap */
	bool linear_known;     /* 3+ levels: with 2 any two points make a line ("too few levels") */
	size_t off_level;      /* the level furthest off the line (its case); SIZE_MAX: none */
	struct cm_slope lower, upper; /* the halves' slopes (4+ levels) */
};
/* Two slices' slopes of one axis and phase: b's minus a's, with a CI. */
struct cm_interaction {
	size_t a, b; /* indices into trends */
	double diff, lo, hi;
};
/* "Where the time went" (issue 28, analysis/profile_summary.c): per case and phase the median
 * per-boot count of every non-zero profile counter, largest first. Borrows profile.csv's data. */
struct cm_prof_line {
	const char *case_id, *phase, *counter, *what;
	double median;
	size_t nboots, case_rank, phase_rank;
};
struct cm_prof_summary {
	struct cm_prof_line *v;
	size_t n;
};
struct cm_profile_data;
void cm_prof_summary_build(const struct cm_profile_data *d, struct cm_prof_summary *s);
void cm_prof_summary_free(struct cm_prof_summary *s);

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
	const struct cm_prof_summary *profile; /* run --profile's, when the run folder has one */
	const struct cm_wave_summary *waves;   /* a run in waves: per level (issue 29) */
	/* a live report (cm_report_live_update): what carries from one update to the next */
	struct cm_report_live *live;
	struct cm_frag_cache *frags; /* reports/: the writers' per-case text, by case version */
};

/* A run in waves, per level: the waves that held K boots of one case (the concurrency axis's
 * levels, a run of one case) or of cases mixed (run --concurrency K). */
struct cm_wave_phase {
	size_t case_idx, phase_idx;
	size_t n;		 /* its measured boots in the level's waves */
	double median, p90, p99; /* ns (bytes for a size) */
};
struct cm_wave_level {
	size_t case_idx;	/* the case its waves held, SIZE_MAX: cases mixed */
	size_t k;		/* boots a wave */
	size_t nwaves, nboots;
	size_t nmakespan;	/* waves with a makespan (waves.csv beside the samples) */
	double makespan_median, makespan_p90; /* first exec to last end marker, ns; NAN: none */
	double launches_per_s;	/* its boots over its waves' summed makespans; NAN: none */
	double cpu_per_wave, rss_per_wave; /* medians over its waves of qemu CPU (ns), peak RSS
					    * (bytes) summed over each wave's boots */
	struct cm_wave_phase *phases;
	size_t nphases;
};
struct cm_wave_summary {
	struct cm_wave_level *v;
	size_t n;
	const struct cm_trend *per_vm; /* total over the concurrency axis: "+x ms per added VM" */
};
/* From ds's rows with a wave (warm-ups apart), makespan[w] for wave w < nmake (NAN unknown;
 * NULL, 0: none), and r's slopes (r may be NULL). */
void cm_wave_summary_build(const struct cm_dataset *ds, const double *makespan, size_t nmake,
			   const struct cm_report *r, struct cm_wave_summary *out);
void cm_wave_summary_free(struct cm_wave_summary *s);
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
/* A live report, a run's (rewritten as its cases complete): r zeroed the first time, then
 * brought up to ds by taking only the rows added since the last call; the cells of the cases
 * that got rows are summarised again, the others kept (the cross-case parts, sweeps and
 * slopes, are recomputed per slice only when a case of the slice changed). The result is
 * what cm_report_build gives for ds. true when everything was rebuilt (the first call, or a
 * new case or phase). */
bool cm_report_live_update(struct cm_report *r, const struct cm_dataset *ds, double alpha);
/* Case c's value on axis a (cm_label_value) and the slices along a (cm_slices, the arrays r's
 * own): each computed once for r's cases, where every writer and every rewrite asked them of
 * every case again. */
bool cm_report_label_value(const struct cm_report *r, size_t c, size_t a, double *v);
size_t cm_report_slices(const struct cm_report *r, size_t a, const size_t **slice,
			char *const **held);
/* Case c's version in a live report: it changes whenever c's cells do (0: not live). */
uint64_t cm_report_case_version(const struct cm_report *r, size_t c);
/* The cross-case parts' memo of a live report (analysis/report_live.c); NULL when not live. */
struct cm_report_memo;
struct cm_report_memo **cm_report_memo_of(const struct cm_report *r);
void cm_report_memo_free(struct cm_report_memo *m);
/* Compare's cells: per case and phase the measured times, their sessions, n, nrows,
 * n_warmup, the median (s.median; the rest of s is NAN) and the per-session table (sess),
 * from ds's rows or from its session summary (ds->sums) alike. No sweeps, no full summary:
 * compare reads neither. */
int cm_report_build_compare_cells(const struct cm_dataset *ds, struct cm_report *r);
/* cell->sess and nsess from its values and sessions (ids 1..nsessions; others as session 0):
 * compare's per-session figures, built again over a cell's wave units (issue 29). */
void cm_cell_sessions_of(struct cm_cell *cell, size_t nsessions);
/* The session medians (ln) of cell x over its sessions with min_n+ values, from its table,
 * and (ids, may be NULL) their session numbers: cm_stats_session_medians's and _ids'. */
size_t cm_cell_session_medians(const struct cm_cell *x, size_t min_n, double *out, int *ids);
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

/* Which model of the noise a row's change and CI come from: one entry of cm_cmp_models each
 * (analysis/compare_analysis.c), a model being its fit function and that entry. Between runs
 * the session is the unit: boots of one session share the host's state, and a boot-level CI of
 * a change between runs is far too narrow (two unchanged runs "regress" +44%). The models, in
 * the order their fits are tried: within run (two values of an axis interleaved in the same
 * sessions), hosts (a fleet: 2+ hosts on both sides), sessions (2+ a side: a t on the session
 * medians), calibrated (a side with one session: the host's calibration gives the between
 * part), boots only (the boots' CI alone, the between-session part missing: its regressions
 * exit 5, not 1). */
struct cm_cmp_row;
struct cm_cmp_result;
struct cm_cmp_opts;
/* What a model's fit is given: the two cells, their datasets, this host's calibration of
 * the row (or NULL), the result (the hosts' names go there). */
struct cm_cmp_fit {
	const struct cm_dataset *b, *c;
	const struct cm_cell *x, *y;
	double alpha, floor; /* floor: ln(1 + --threshold), for the host level */
	const struct cm_cmp_opts *o;
	const struct cm_calibration *cal;
	struct cm_cmp_result *r;
};
enum cm_cmp_model_flags {
	CM_MODEL_NO_SESSION_LEVEL = 1u << 0, /* the between-session part unknown: regressions exit 5 */
	CM_MODEL_PER_HOST = 1u << 1,         /* row->hosts holds the per-host changes */
};
/* A model: its name (tables, csv, json), what the legend under a table says of it (a printf
 * format: %1$g the session-level CI's percent, 1 - 2 alpha (one-sided tests), %2$g
 * alpha, %3$g the boots' CI percent, 1 - alpha, as --alpha set them), its fit (fills row->cmp
 * and the sessions a side, or returns false and the next is tried, by ascending order), and
 * the table's model cell (NULL: "name base+cand"). The legend follows the table's order. */
struct cm_cmp_model_info {
	const char *name, *legend;
	bool (*fit)(const struct cm_cmp_fit *a, struct cm_cmp_row *row);
	int order;
	unsigned flags;
	void (*label)(const struct cm_cmp_row *row, char *out, size_t n);
};
extern const struct cm_cmp_model_info cm_cmp_models[];
extern const size_t cm_cmp_nmodels;

/* A profile counter whose per-boot count changed between the sides (analysis/explain.c). */
struct cm_explain {
	char *counter;    /* profile.csv's name ("port 0x80 write") */
	const char *what; /* "POST", "" */
	double base, cand; /* median counts per boot */
	bool exact;       /* the count was the same in every boot of each side */
};

struct cm_cmp_row {
	const char *case_id, *phase; /* the candidate's */
	size_t base_n, cand_n;
	size_t base_sessions, cand_sessions;
	struct cm_comparison cmp;
	size_t model; /* its entry in cm_cmp_models */
	size_t ref_row; /* the row of its reference case in the same phase, or SIZE_MAX */
	struct cm_varcomp vc; /* within/between components, pooled over both sides (or calibration) */
	bool gating; /* a regression here fails the comparison (--fail-on) */
	bool waves;  /* a side's boots ran in waves: its values are its waves' medians (issue 29) */
	struct cm_hosts hosts; /* the host level (model hosts); its indexes name r->hosts */
	struct cm_explain *why; /* compare explains (issue 28): ranked; NULL when not asked */
	size_t nwhy;
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
	size_t regressions_boots_only; /* gating rows "regressed" without the session level */
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

/* The host level (analysis/hosts_analysis.c), model "hosts": the row's change blocked on the
 * host when 2+ hosts are on both sides (true), the sessions' hosts named in a->r->hosts;
 * a->floor (ln) flags a host. */
bool cm_cmp_fit_hosts(const struct cm_cmp_fit *a, struct cm_cmp_row *row);
void cm_cmp_label_hosts(const struct cm_cmp_row *row, char *out, size_t n);
/* Why the row's sick-host flag judged no host, or some hosts not, in the user's words ("" when
 * it judged every host, or there are fewer than 3): "design too small to flag a +40% host:
 * needs 5+5 sessions a host (4 hosts, session sd 10.1%; the flag's power 80%)". */
void cm_cmp_hosts_design(const struct cm_cmp_row *row, char *out, size_t n);
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

/* compare explains (issue 28): the profile counters that changed, into the rows regressed or
 * improved (all: every row), ranked; cm_explain_free undoes it. */
struct cm_profile_data;
void cm_explain(struct cm_cmp_result *r, const struct cm_profile_data *base,
		const struct cm_profile_data *cand, bool all);
void cm_explain_free(struct cm_cmp_result *r);
/* "port 0x80 (POST) writes", "VM exits (io)" */
void cm_explain_label(const struct cm_explain *e, char *out, size_t n);
/* The row's "why:" text: "port 0x80 (POST) writes 0 → 500 per boot; VM exits (io) +500 ..." */
void cm_explain_text(const struct cm_cmp_row *row, char *out, size_t n);

#endif
