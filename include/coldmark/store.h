/* The results store: runs, their cases and every boot's samples, so runs can be compared
 * across releases and hosts. A SQLite file (a path) or a PostgreSQL database (a
 * postgresql:// URL) behind one interface, with the same schema and migrations. A run writes
 * a batch of boots a transaction (harness/runner_store.c: once a second). */
#ifndef COLDMARK_STORE_H
#define COLDMARK_STORE_H

#include "coldmark/model.h"

#define CM_STORE_VERSION 8
/* The step that gave samples their wave and slot (issue 29): one number, so that steps added
 * beside it renumber it here alone (schema.c places its migration by it). */
#define CM_STORE_WAVE_VERSION 7
/* The step that added the session summary (issue 25 item 3), placed by the same rule. */
#define CM_SUMMARY_VERSION 8

struct cm_store;
/* Is target a PostgreSQL URL (postgresql://, postgres://) rather than a SQLite file? */
bool cm_store_is_url(const char *target);
/* Is url a well-formed PostgreSQL connection URL? false with err saying why. */
bool cm_store_url_valid(const char *url, struct cm_error *err);
/* target for messages and headers: a URL's password replaced by *** */
void cm_store_redact(const char *target, char *out, size_t n);
/* A writer's store is created or migrated forward; a reader's (history, compare, report, and
 * the source of a sync or merge) is opened read-only and never migrated: a missing, empty or
 * folder path is an error, never a new store. Either way a database with a table that is not
 * coldmark's is refused whole, at any schema version, nothing in it changed. */
enum cm_store_access { CM_STORE_WRITE, CM_STORE_READ };
/* NULL with err set on failure; *bad_input (may be NULL) is then true when target is not a
 * coldmark store at all (a stranger's database, an empty file, a folder, no such file: the
 * user's input, exit 2) rather than a store that cannot be used now. */
struct cm_store *cm_store_open_how(const char *target, enum cm_store_access how, bool *bad_input,
				   struct cm_error *err);
/* cm_store_open_how(target, CM_STORE_WRITE, NULL, ...) */
struct cm_store *cm_store_open(const char *target, struct cm_error *err);
/* The same, telling a server out of reach (*lost: no connection, or no answer in time) from
 * one that answered and refused (a schema of the future, no right to create the tables). */
struct cm_store *cm_store_open_lost(const char *target, struct cm_error *err, bool *lost);
/* Did the last failed operation fail for the connection's sake (gone, stalled past
 * COLDMARK_DB_TIMEOUT) rather than the store refusing it? Never for SQLite. */
bool cm_store_lost(const struct cm_store *s);
/* cm_store_open_how(path, CM_STORE_READ, NULL, ...) */
struct cm_store *cm_store_open_existing(const char *path, struct cm_error *err);
/* What opening did that people should know (a migration's count of the duplicate samples it
 * removed), or NULL: for the CLI to print. */
const char *cm_store_note(const struct cm_store *s);
void cm_store_close(struct cm_store *s);
/* Why the last write failed ("database or disk is full", ...). */
const char *cm_store_error(const struct cm_store *s);
int cm_store_version(struct cm_store *s);
const char *cm_store_backend(const struct cm_store *s); /* "SQLite", "PostgreSQL" */
/* What the store's tables take on disk, in bytes (-1 when it cannot say). */
int64_t cm_store_bytes(struct cm_store *s);

/* A run: its id, tag (may be NULL) and header (ds->meta). Cases come from ds->cases. An id
 * the store holds already is CM_ERR(CM_EEXIST) (another run's: never joined). */
int cm_store_begin_run(struct cm_store *s, const char *run_id, const char *tag,
		       const struct cm_dataset *ds);
/* The same with each case's command line, cmdline(ctx, c) for ds->cases[c] (malloc'd, freed
 * here), in the case's own row: one insert a case, one transaction, and the command lines
 * made one at a time (a 10^5-case matrix's are ~25 MB together). */
int cm_store_begin_run_argv(struct cm_store *s, const char *run_id, const char *tag,
			    const struct cm_dataset *ds, char *(*cmdline)(const void *ctx, size_t c),
			    const void *ctx);
/* begin_run and every row of ds in one transaction: all of it, or nothing under the tag. */
int cm_store_import(struct cm_store *s, const char *run_id, const char *tag,
		    const struct cm_dataset *ds);
/* A header item known only once boots ran (the cache drop that happened, ...). */
int cm_store_set_meta(struct cm_store *s, const char *run_id, const char *key, const char *value);
/* The cases' command lines, for the record, in one transaction. */
int cm_store_cases_argv(struct cm_store *s, const char *run_id, char *const *case_ids,
			char *const *cmdlines, size_t n);
/* rows [from, to) of ds, in one transaction: a boot is all in or not at all, and once: a
 * sample the store holds (run, case, session, boot, warm-up, phase) is not added again.
 * Writes wait for (and retry past) another process's lock for up to two minutes before they
 * fail; on PostgreSQL a lock wait, a statement and its answer each end after
 * COLDMARK_DB_TIMEOUT (default 5 s), and the failure is then a lost one (cm_store_lost). */
int cm_store_add_rows(struct cm_store *s, const char *run_id, const struct cm_dataset *ds,
		      size_t from, size_t to);
/* --resume and sync: the rows of ds (the run's samples.csv) the store lacks, added as above
 * (a run killed between two of its batches left the store behind its journals); *added says
 * how many boots. A store that holds them all costs one count. */
int cm_store_add_missing(struct cm_store *s, const char *run_id, const struct cm_dataset *ds,
			 long long *added);

/* Finds a run by id, or the newest run with that tag. Returns 0 and fills run_id. */
int cm_store_resolve(struct cm_store *s, const char *ref, char *run_id, size_t n);
/* Every run ref names: the run by that id, or all runs of that tag in time order (each
 * holds one or more sessions). 0 with *ids (to free) and *n, or an error when none. */
int cm_store_resolve_all(struct cm_store *s, const char *ref, char ***ids, size_t *n);
/* Loads a run into ds (samples, axes, header; each boot with its session). */
int cm_store_load(struct cm_store *s, const char *run_id, struct cm_dataset *ds);

/* How cm_store_load_summary read a run: from the session summary, or from the raw samples
 * (a store before the summary, or stale: its summary does not count every raw row). */
struct cm_store_read {
	bool summary, stale;
	long long raw_rows, summary_rows; /* what the check counted (of the loaded cases) */
};
/* A run for compare and history: its session summary (one row per case, session and phase),
 * when that accounts for every raw row of the run, else its raw samples; the dataset gives
 * the same statistics either way. With case_filter only that case and the reference cases
 * (history --case). With sessions the dataset holds the summary's rows as they are
 * (ds->sums, no rows: for cm_compare_build), else rows made from them. */
int cm_store_load_summary(struct cm_store *s, const char *run_id, const char *case_filter,
			  bool sessions, struct cm_dataset *ds, struct cm_store_read *how);
/* The n runs ids (a tag's, in time order) as one side: the same dataset as each run loaded by
 * cm_store_load_summary and merged into one (cm_dataset_merge, labelled by its id) in that
 * order, under the newest run's axes and meta; how[k] says how run k was read. Each query is
 * asked once for all the runs (PostgreSQL: in one pipeline). */
int cm_store_load_summary_runs(struct cm_store *s, char *const *ids, size_t n, bool sessions,
			       struct cm_dataset *ds, struct cm_store_read *how);

/* Runs in time order: id, tag, started. cb returns nonzero to stop. */
int cm_store_runs(struct cm_store *s, int (*cb)(void *ctx, const char *id, const char *tag,
						const char *started),
		  void *ctx);

int cm_store_put_calibration(struct cm_store *s, const char *host, const char *run_id,
			     const struct cm_calibration *c, size_t n);
/* Every calibration of host (*out to free with cm_calibration_free). */
int cm_store_get_calibration(struct cm_store *s, const char *host, struct cm_calibration **out,
			     size_t *n);
void cm_calibration_free(struct cm_calibration *c, size_t n);

/* Copying runs from one store to another (sync, merge): idempotent by the boot, a boot the
 * target holds already is skipped, so copying twice (or four copies at once) adds nothing.
 * Header items: the one said more often (the newer word) wins, whichever copy came last. */
struct cm_store_copied {
	size_t runs_new, boots_added, boots_present, calibrations;
};
/* One run (its header, cases and the boots dst lacks) in one transaction of dst. */
int cm_store_copy_run(struct cm_store *src, struct cm_store *dst, const char *run_id,
		      struct cm_store_copied *out);
/* The same for a run that begins now (its journal's first copy to the shared store): a run
 * of that id in dst is another run's, CM_ERR(CM_EEXIST), and nothing is copied. */
int cm_store_copy_new_run(struct cm_store *src, struct cm_store *dst, const char *run_id,
			  struct cm_store_copied *out);
/* Every run of src, then its calibrations (the newer of a host's case and phase wins). */
int cm_store_copy_all(struct cm_store *src, struct cm_store *dst, struct cm_store_copied *out);

/* run --profile's rows of a boot (issue 28; table profile, schema v6). 0 or an error. */
struct cm_profile_row;
int cm_store_add_profile(struct cm_store *s, const char *run_id, const struct cm_profile_row *rows,
			 size_t n);
/* The run's profile rows appended to d (free with cm_profile_data_free), each session moved
 * up by session_base (a tag's runs in one side). 0 or an error; no rows: 0 with d unchanged. */
struct cm_profile_data;
int cm_store_load_profile(struct cm_store *s, const char *run_id, int session_base,
			  struct cm_profile_data *d);

#endif
