/* Boot samples as data, their per case x phase summaries, and one writer per format. */
#ifndef COLDMARK_REPORT_H
#define COLDMARK_REPORT_H

#include <stdbool.h>
#include <stdio.h>

#include "coldmark/stats.h"
#include "coldmark/util.h"

struct cm_sample_row {
	char *case_id, *status, *phase, *source, *cache;
	char *audit; /* the per-boot audit of the host: "" fine or unknown, "throttled", "clock ..." */
	int boot;
	int session; /* 1-based index into the dataset's sessions */
	bool warmup;
	double duration_ns; /* NAN: not computable for this boot */
	size_t case_idx, phase_idx;
};

/* The one rule of what a row counts as, for reports, adaptive stopping, the exit status and
 * resume alike. A row of a boot coldmark interrupted is neither measured nor failed; a warm-up
 * is neither; an ok row without a duration cannot be measured by its source. */
enum cm_row_kind { CM_ROW_MEASURED, CM_ROW_FAILED, CM_ROW_UNMEASURABLE, CM_ROW_WARMUP,
		   CM_ROW_INTERRUPTED };
#define CM_STATUS_OK_NAME "ok"
#define CM_STATUS_INTERRUPTED_NAME "interrupted"
struct cm_sample_row;
enum cm_row_kind cm_row_kind(const struct cm_sample_row *r);
/* Did the boot end (ok or failed), so that a resumed run need not run it again? */
bool cm_row_boot_done(const struct cm_sample_row *r);

/* The run header's items: their names in meta.csv, the store and the reports, and whether a
 * difference between two runs makes them not comparable (compare warns). One table, used by
 * the writers of the header and by compare. Firmware items ("firmware sha256 (NAME)") are
 * keyed by the ROM and compared by their hash. */
#define CM_HEADER_KEYS(X)                                                                    \
	X(RUN, "run", false) X(DATE, "date", false) X(RESUMED, "resumed", false)                   \
	X(PLAN, "plan", false) X(MATRIX, "matrix", false)                                          \
	X(MARKER_SOURCE, "marker source", true) X(CONSOLE, "console markers", false)               \
	X(FIRST_ENTRY_EVENT, "first_entry event", true)                                            \
	X(FIRST_ENTRY_FIRED, "first_entry fired", true) X(BOOTS, "boots per case", false)          \
	X(FIRST_ENTRY_ARMING, "first_entry armed", false)                                          \
	X(ORDER, "order", false) X(ADAPTIVE, "adaptive stopping", false)                           \
	X(COLDMARK, "coldmark", false) X(CACHE_POLICY, "cache policy", true)                       \
	X(CACHE_DROP, "cache drop", true) X(HOST, "host", true) X(CPU, "cpu", true)                \
	X(CPUS, "cpus", true) X(QEMU, "qemu", true) X(QEMU_SHA, "qemu sha256", true)               \
	X(KERNEL_SHA, "kernel sha256", true) X(INITRD_SHA, "initrd sha256", true)                  \
	X(DISK_SHA, "disk sha256", true) X(GOVERNOR, "cpufreq governor", true)                     \
	X(TURBO, "turbo/boost", true) X(NO_TURBO, "intel no_turbo", true) X(SMT, "smt", true)      \
	X(THP, "transparent hugepages", true) X(HOST_TUNED, "host tuned", true)                    \
	X(QEMU_CPUS, "qemu cpus", true) X(AUDIT, "per-boot audit", false) X(TAG, "tag", false)  \
	X(REPLICATE, "replicate", false) X(JOB, "job", false)                                      \
	X(BASE_ARGS, "base args", false) X(PHASES, "phases", false) X(MARKERS, "markers", false)   \
	X(STORE, "store", false)
#define CM_HDR_ENUM_(e, name, cmp) CM_HDR_##e,
enum cm_header_key { CM_HEADER_KEYS(CM_HDR_ENUM_) CM_HDR_COUNT };
#undef CM_HDR_ENUM_
struct cm_header_key_info {
	const char *name;
	bool comparable;
};
extern const struct cm_header_key_info cm_header_keys[];
#define CM_HDR(e) (cm_header_keys[CM_HDR_##e].name)

struct cm_ds_case {
	char *id;
	char **labels; /* per dataset axis, "" when the case has none */
};

/* A session: one run invocation's unbroken series of boots (a run of --sessions K holds K).
 * Boots of one session share the host's state of the moment (load, frequency, layout), so
 * the session, not the boot, is the unit of replication between runs. */
struct cm_ds_session {
	char *id;   /* "3" within one run; "RUN#3" where runs are merged (a tag's sessions) */
	char *host; /* the host it ran on, "" when unknown */
};

struct cm_dataset {
	struct cm_sample_row *rows;
	size_t n, cap;
	char **axes;
	size_t naxes;
	struct cm_ds_case *cases;
	size_t ncases, ccap;
	char **phases;
	size_t nphases;
	struct cm_ds_session *sessions;
	size_t nsessions;
	int session_now; /* rows added now belong to it (1-based; 0: session 1, made on demand) */
	const char *audit_now; /* and carry this audit (NULL: "") */
	char **meta_keys, **meta_vals; /* run header, in order */
	size_t nmeta;
	size_t *hash; /* case id -> index + 1, open addressing */
	size_t hcap;
	struct cm_strset pool; /* the rows' status, source and cache strings, each kept once */
	char **pool_strings;
	size_t npool;
};

void cm_dataset_init(struct cm_dataset *ds, char *const *axes, size_t naxes);
size_t cm_dataset_case(struct cm_dataset *ds, const char *id, char *const *labels);
size_t cm_dataset_phase(struct cm_dataset *ds, const char *phase);
/* The index of a case, or ds->ncases when the dataset has none by that id. */
size_t cm_dataset_case_index(const struct cm_dataset *ds, const char *id);
/* The index of a phase, or ds->nphases when the dataset has none by that name. */
size_t cm_dataset_find_phase(const struct cm_dataset *ds, const char *phase);
/* The session by that id (1-based), added when new; rows added from now on belong to it. */
int cm_dataset_session(struct cm_dataset *ds, const char *id, const char *host);
/* Appends src's rows, cases and sessions to dst; src's sessions are renamed "label#id" and
 * take its header's host. dst's axes are kept: a case of src gets its values by axis name. */
void cm_dataset_merge(struct cm_dataset *dst, const struct cm_dataset *src, const char *label);
void cm_dataset_add(struct cm_dataset *ds, const char *case_id, int boot, bool warmup,
		    const char *status, const char *phase, double duration_ns, const char *source,
		    const char *cache);
/* Puts the cases in the one defined order (cm_labels_cmp, then id), as the matrix lists
 * them: a report rebuilt from samples.csv is then the run's own, byte for byte. */
void cm_dataset_sort_cases(struct cm_dataset *ds);
/* Drops the rows from index n on (a boot that could not be written). */
void cm_dataset_truncate(struct cm_dataset *ds, size_t n);
void cm_dataset_meta(struct cm_dataset *ds, const char *key, const char *val);
const char *cm_dataset_get_meta(const struct cm_dataset *ds, const char *key);
void cm_dataset_free(struct cm_dataset *ds);

/* samples.csv: case,boot,status,phase,duration_ns, then warmup,source,cache_drop,session and
 * one column per axis (session: the boot's session within its run, 1 when absent). Reading accepts any file with at least the five contract columns. */
void cm_samples_write_header(FILE *f, const struct cm_dataset *ds);
void cm_samples_write_row(FILE *f, const struct cm_dataset *ds, const struct cm_sample_row *r);
int cm_samples_read(const char *path, struct cm_dataset *ds, struct cm_diags *d);
/* The same for a run's own journal, where a header alone is fine (killed before a boot). */
int cm_samples_read_journal(const char *path, struct cm_dataset *ds, struct cm_diags *d);
/* meta.csv beside samples.csv: key,value lines of the run header. */
/* Its text, for the caller to write whole (a temporary name, then renamed). */
char *cm_meta_format(const struct cm_dataset *ds);
int cm_meta_read(const char *path, struct cm_dataset *ds);

/* CSV field with RFC 4180 quoting. */
void cm_csv_field(FILE *f, const char *s);

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

/* One report format: its --format name, its file in the output folder, its writer. */
struct cm_writer {
	const char *name, *file;
	void (*write)(const struct cm_report *r, FILE *f);
};
extern const struct cm_writer cm_writers[];
extern const size_t cm_nwriters;
/* 0 when every name of the comma list is a writer's; else a usage error naming the unknown
 * one and the known ones in err. */
int cm_report_check_formats(const char *formats, char *err, size_t errsz);
/* "summary.csv,report.md": the files the formats write (for "reports:" lines). */
char *cm_report_files(const char *formats);

/* The writers. formats: comma list of csv, md, json, html (unknown names: CM_EUSAGE). Writes samples.csv too when
 * with_samples. */
int cm_report_write(const struct cm_report *r, const char *outdir, const char *formats,
		    bool with_samples, struct cm_diags *d);
void cm_report_summary_csv(const struct cm_report *r, FILE *f);
void cm_report_markdown(const struct cm_report *r, FILE *f);
int cm_report_json(const struct cm_report *r, FILE *f);
void cm_report_html(const struct cm_report *r, FILE *f);
/* hyperfine's JSON layout (results[].command/mean/stddev/median/min/max/times) for one phase. */
int cm_report_hyperfine(const struct cm_report *r, const char *phase, FILE *f);
/* Bencher Metric Format JSON: per case, per phase the median (ns) and its CI. */
int cm_report_bmf(const struct cm_report *r, FILE *f);
/* hyperfine-like lines for a terminal, for one phase (usually "total"). */
void cm_report_terminal(const struct cm_report *r, const char *phase, FILE *f);
/* History: one point per run of a case, in time order. step: +1 a significant regression
 * from the previous run, -1 an improvement, 0 neither. */
struct cm_trend_point {
	const char *label; /* tag or run id */
	double median, lo, hi;
	size_t n;
	int step;         /* a change point just before this point: +1 up, -1 down */
	const char *note; /* what the plot says at it ("+10.2% [+6.1%, +14.5%], p 0.005"), or NULL */
};
void cm_html_begin(FILE *f, const char *title);
void cm_html_trend(FILE *f, const char *case_id, const char *phase,
		   const struct cm_trend_point *pts, size_t n);
void cm_html_end(FILE *f);

/* With 2+ sessions: how many sessions x boots a cell needs for a CI half-width of
 * CM_ADVICE_TARGET between runs at least cost (Kalibera & Jones), a boot costing the case's
 * median total and a session its warm-ups (one boot at least). false when the cell has
 * fewer than 2 sessions or no total. */
#define CM_ADVICE_TARGET 0.02
bool cm_cell_advice(const struct cm_report *r, const struct cm_cell *cell, struct cm_dimension *out);

/* "not measurable with debugcon" when the cell has no value because its source cannot see
 * the phase; NULL otherwise. */
const char *cm_cell_unmeasurable(const struct cm_cell *cell, char *buf, size_t n);
/* "60% of the boots around 172 ms, 40% around 405 ms", for a summary with CM_WARN_BIMODAL. */
const char *cm_modes_text(const struct cm_summary *s, char *out, size_t n);
/* "+3.10 ms per GiB": a slope in ns per unit, as people read it. */
const char *cm_format_slope(const char *phase, double ns, const char *unit, char *out, size_t n);
/* "+3.10 ms per GiB [+2.98, +3.21]": a slope with its CI, into f. */
void cm_print_slope_ci(const char *phase, const struct cm_slope *s, const char *unit, FILE *f);
/* Footnote text for one warning bit. */
const char *cm_warning_text(unsigned bit);

#endif
