/* Comparisons across runs, as a model built once and rendered by writers: rows (case x phase,
 * both sides' medians, the change with its CI, Holm-adjusted p, verdict), cases on one side
 * only, and the items of the two run headers that make the runs not comparable. */
#ifndef COLDMARK_COMPARE_H
#define COLDMARK_COMPARE_H

#include <stdio.h>

#include "coldmark/report.h"
#include "coldmark/store.h"

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
extern const char *const cm_cmp_model_names[];

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
/* The per-host lines under a comparison's table (the total rows, and any with a flagged host). */
void cm_cmp_hosts_write(const struct cm_cmp_result *r, FILE *f);
/* A row's host level as JSON (NULL when it has none); a json_t *, untyped here. */
void *cm_cmp_hosts_json(const struct cm_cmp_result *r, const struct cm_cmp_row *row);

/* The writers of a comparison: text, md, csv, json. */
struct cm_cmp_writer {
	const char *name;
	void (*write)(const struct cm_cmp_result *r, FILE *f);
};
extern const struct cm_cmp_writer cm_cmp_writers[];
const struct cm_cmp_writer *cm_cmp_writer(const char *name);

/* The reference case that stands beside case c (the one under the same accelerator, else any),
 * or ds->ncases when the dataset has none (or c is one). */
size_t cm_reference_for(const struct cm_dataset *ds, size_t c);
/* Every case's durations divided by its reference's median in the same session and put in
 * the scale of scale's reference (its median in ns): "what the case would take with the
 * reference where it was in scale". The reference cases themselves stay as they are.
 * -1 when ds has no reference case. */
int cm_dataset_relative(struct cm_dataset *ds, const struct cm_dataset *scale);

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
void cm_history_text(const struct cm_history *h, FILE *f);
void cm_history_html(const struct cm_history *h, FILE *f);
void cm_history_free(struct cm_history *h);

#endif
