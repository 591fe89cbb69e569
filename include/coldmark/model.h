/* The data model: boot samples as rows, a run's cases, phases and sessions, the run header's
 * keys, samples.csv and meta.csv, and the reference cases. No statistics, no writer. */
#ifndef COLDMARK_MODEL_H
#define COLDMARK_MODEL_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "coldmark/stats.h"
#include "coldmark/util.h"

struct cm_sample_row {
	char *case_id, *status, *phase, *source, *cache;
	char *audit; /* the per-boot audit of the host: "" fine or unknown, "throttled", "clock ..." */
	int boot;
	int session; /* 1-based index into the dataset's sessions */
	bool warmup;
	/* the boot's wave in its run and its slot in that wave (1-based, issue 29: run
	 * --concurrency K, the concurrency axis); 0: booted alone, or a file that does not say */
	int wave, slot;
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
	X(STORE, "store", false) X(PROFILE, "profile", false)
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
	int number; /* its number within its run (3 for "3" and "RUN#3"), for the store */
};

/* One session of a case and phase as the store's session summary holds it (issue 25): a
 * dataset read for compare holds these instead of rows. ssw: the sum of squares of ln(time)
 * about mean_ln; values: the measured times in row order (to free with the dataset). */
struct cm_session_sum {
	size_t case_idx, phase_idx;
	int session; /* 1-based, into the dataset's sessions */
	size_t n, n_rows, n_warmup;
	double median_ln, mean_ln, ssw;
	double *values;
};

struct cm_dataset {
	struct cm_session_sum *sums; /* a compare's dataset from the session summary: no rows */
	size_t nsums, sums_cap;
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
	struct cm_strset session_ids; /* session id -> index */
	int session_now; /* rows added now belong to it (1-based; 0: session 1, made on demand) */
	const char *audit_now; /* and carry this audit (NULL: "") */
	int wave_now, slot_now; /* and this wave and slot (0: none) */
	bool waves; /* samples.csv has the wave and slot columns (a run in waves, or read so) */
	char **meta_keys, **meta_vals; /* run header, in order */
	size_t nmeta;
	struct cm_strset meta_index; /* meta key -> index */
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
/* The same for session number n of this run (its id "n"): the runner's, an int end to end. */
int cm_dataset_session_number(struct cm_dataset *ds, int n, const char *host);
/* Appends src's rows, cases and sessions to dst; src's sessions are renamed "label#id" and
 * take its header's host. dst's axes are kept: a case of src gets its values by axis name. */
void cm_dataset_merge(struct cm_dataset *dst, const struct cm_dataset *src, const char *label);
/* A session summary into ds (values taken over: ds frees them); case, phase and session
 * by index as they are in ds. */
void cm_dataset_add_sum(struct cm_dataset *ds, const struct cm_session_sum *sum);
void cm_dataset_add(struct cm_dataset *ds, const char *case_id, int boot, bool warmup,
		    const char *status, const char *phase, double duration_ns, const char *source,
		    const char *cache);
/* Adds a copy of row r of src (its session by id and host, its audit, wave and slot) under
 * case_id (NULL: r's own case): a journal read back, datasets merged or split by an axis. */
void cm_dataset_add_like(struct cm_dataset *ds, const struct cm_dataset *src,
			 const struct cm_sample_row *r, const char *case_id);
/* Puts the cases in the one defined order (cm_labels_cmp, then id), as the matrix lists
 * them: a report rebuilt from samples.csv is then the run's own, byte for byte. */
void cm_dataset_sort_cases(struct cm_dataset *ds);
/* Drops the rows from index n on (a boot that could not be written). */
void cm_dataset_truncate(struct cm_dataset *ds, size_t n);
void cm_dataset_meta(struct cm_dataset *ds, const char *key, const char *val);
/* A hash of the header's keys and values in order: whether a header changed since one seen
 * (a live report's meta.csv and its fragments depend on it). */
uint64_t cm_dataset_meta_hash(const struct cm_dataset *ds);
const char *cm_dataset_get_meta(const struct cm_dataset *ds, const char *key);
void cm_dataset_free(struct cm_dataset *ds);

/* samples.csv: case,boot,status,phase,duration_ns, then warmup,source,cache_drop,session,
 * host_audit,reference, then wave,slot when ds->waves (a run in waves: empty cells for a boot
 * outside one), and one column per axis (session: the boot's session within its run, 1 when
 * absent). Reading accepts any file with at least the five contract columns; one without
 * wave and slot reads as boots in no wave (wave 0). */
void cm_samples_write_header(FILE *f, const struct cm_dataset *ds);
void cm_samples_write_row(FILE *f, const struct cm_dataset *ds, const struct cm_sample_row *r);
int cm_samples_read(const char *path, struct cm_dataset *ds, struct cm_diags *d);
/* The same for a run's own journal, where a header alone is fine (killed before a boot). */
int cm_samples_read_journal(const char *path, struct cm_dataset *ds, struct cm_diags *d);
/* meta.csv beside samples.csv: key,value lines of the run header. */
/* Its text, for the caller to write whole (a temporary name, then renamed). */
char *cm_meta_format(const struct cm_dataset *ds);
int cm_meta_read(const char *path, struct cm_dataset *ds);

/* waves.csv beside samples.csv (a run in waves): each wave's makespan, the first exec to the
 * last end marker, in ns, by its wave number (NAN: unknown); *n: the highest wave + 1. */
int cm_waves_makespans(const char *path, double **by_wave, size_t *n, struct cm_error *err);

/* CSV field with RFC 4180 quoting. */
void cm_csv_field(FILE *f, const char *s);
void cm_csv_int(FILE *f, long long v);   /* "%lld" */
void cm_csv_whole(FILE *f, double d);    /* "%.0f" */

/* Per case c, the reference case that stands beside it (the first under the same accelerator,
 * else the first), or ds->ncases when the dataset has none (or c is one); ncases + 1 entries,
 * to free. */
size_t *cm_reference_map(const struct cm_dataset *ds);
/* Every case's durations divided by its reference's median in the same session and put in
 * the scale of scale's reference (its median in ns): "what the case would take with the
 * reference where it was in scale". The reference cases themselves stay as they are.
 * -1 when ds has no reference case. */
int cm_dataset_relative(struct cm_dataset *ds, const struct cm_dataset *scale);

/* What `coldmark calibrate` measured of this host: per case x phase the variance components
 * of log durations (within a session, between sessions) and how many sessions and boots
 * per session they come from. Later compares on the host use them when a side has one
 * session only. */
struct cm_calibration {
	char *case_id, *phase;
	struct cm_varcomp vc;
};

#endif
