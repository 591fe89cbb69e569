/* The results store: an SQLite database of runs, their cases and every boot's samples, so
 * runs can be compared across releases. Writes are one transaction per boot. */
#ifndef COLDMARK_STORE_H
#define COLDMARK_STORE_H

#include "coldmark/report.h"

#define CM_STORE_VERSION 2

struct cm_store;
/* Opens (creating or migrating) the database at path. NULL with err set on failure. */
struct cm_store *cm_store_open(const char *path, char *err, size_t errsz);
/* The same for readers (compare, history): a missing file or a folder is an error, never a
 * new empty store. */
struct cm_store *cm_store_open_existing(const char *path, char *err, size_t errsz);
void cm_store_close(struct cm_store *s);
/* Why the last write failed ("database or disk is full", ...). */
const char *cm_store_error(const struct cm_store *s);
int cm_store_version(struct cm_store *s);

/* A run: its id, tag (may be NULL) and header (ds->meta). Cases come from ds->cases. */
int cm_store_begin_run(struct cm_store *s, const char *run_id, const char *tag,
		       const struct cm_dataset *ds);
/* A header item known only once boots ran (the cache drop that happened, ...). */
int cm_store_set_meta(struct cm_store *s, const char *run_id, const char *key, const char *value);
/* The cases' command lines, for the record, in one transaction. */
int cm_store_cases_argv(struct cm_store *s, const char *run_id, char *const *case_ids,
			char *const *cmdlines, size_t n);
/* rows [from, to) of ds, in one transaction: a boot is all in or not at all. Writes wait for
 * (and retry past) another process's lock for up to two minutes before they fail. */
int cm_store_add_rows(struct cm_store *s, const char *run_id, const struct cm_dataset *ds,
		      size_t from, size_t to);

/* Finds a run by id, or the newest run with that tag. Returns 0 and fills run_id. */
int cm_store_resolve(struct cm_store *s, const char *ref, char *run_id, size_t n);
/* Loads a run into ds (samples, axes, header). */
int cm_store_load(struct cm_store *s, const char *run_id, struct cm_dataset *ds);

/* Runs in time order: id, tag, started. cb returns nonzero to stop. */
int cm_store_runs(struct cm_store *s, int (*cb)(void *ctx, const char *id, const char *tag,
						const char *started),
		  void *ctx);

#endif
