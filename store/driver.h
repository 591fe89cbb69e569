/* What the store asks of a database: the two backends (SQLite, PostgreSQL) each give these
 * few operations, and store.c writes every query once over them. Values travel as text in
 * both directions (NULL for SQL NULL): doubles are written with 17 digits, so a value comes
 * back exactly as it went in. Queries use $1, $2, ... in both dialects. */
#ifndef COLDMARK_STORE_DRIVER_H
#define COLDMARK_STORE_DRIVER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "coldmark/model.h"
#include "coldmark/util.h"

struct cm_store;
struct cm_summary_cache;

#define CM_DB_MAX_COLS 32 /* the widest row a query returns (samples: 11) */

/* one result row: ncol values, NULL where the column is NULL; nonzero stops the query */
typedef int (*cm_db_row_fn)(void *ctx, int ncol, const char *const *vals);

struct cm_db_ops {
	const char *name; /* "SQLite", "PostgreSQL" */
	/* a write transaction; for a migration also the lock that keeps a second process from
	 * migrating at the same time */
	int (*begin)(struct cm_store *s, bool migrate);
	int (*commit)(struct cm_store *s);
	void (*rollback)(struct cm_store *s);
	/* did the last failure come from another writer (busy, lock, serialization), so that the
	 * whole transaction may be tried again? */
	bool (*retryable)(struct cm_store *s);
	/* sql with n parameters, each result row to row (NULL: none wanted); without parameters
	 * and rows it may hold several statements (migrations) */
	int (*query)(struct cm_store *s, const char *sql, int n, const char *const *params,
		     cm_db_row_fn row, void *ctx);
	int (*version)(struct cm_store *s); /* -1 when it cannot be read */
	int (*set_version)(struct cm_store *s, int v);
	bool (*has_table)(struct cm_store *s, const char *name);
	int64_t (*bytes)(struct cm_store *s); /* the size on disk of what the store holds */
	void (*close)(struct cm_store *s);
	/* optional (NULL: query once per set): sql run for nsets sets of n parameters (params:
	 * nsets * n), the rows of set 0, then of set 1, ... to row; one call sends them all, so
	 * a server works on the next set while the client reads the last (compare of a tag's
	 * runs: a query per run, without a round trip and a server's wait per run) */
	int (*query_sets)(struct cm_store *s, const char *sql, int n, size_t nsets,
			  const char *const *params, cm_db_row_fn row, void *ctx);
};

/* Each backend's part of struct cm_store follows this head. */
struct cm_store {
	const struct cm_db_ops *ops;
	char err[512];	  /* why the last operation failed, for people */
	void *db;	  /* the backend's handle */
	void *stmts;	  /* the backend's statement cache */
	bool pg;	  /* migrations differ in their column types */
	bool lost;	  /* the last failure was the connection's (gone, no answer in time),
			   * not the database's refusal */
	char note[160];	  /* what opening did that people should know (cm_store_note) */
	long long changed; /* rows the last statement wrote (an insert that conflicted: 0) */
	int64_t last_rowid; /* SQLite: the rowid of the row the last insert wrote */
	struct cm_summary_cache *sums; /* the summary writer's groups between boots (summary.c) */
	/* SQLite, read as a write transaction begins: a data version (it changes when
	 * another connection has committed; sqlite.c's begin), and whether this connection runs
	 * no triggers and counts its own inserts to samples (cm_store_count_added; sqlite.c
	 * says when) */
	long long data_version;
	bool own_count;
};

/* sql with its parameters, for its effect (store.c's helpers over ops->query). 0 or an error. */
int cm_store_exec(struct cm_store *s, const char *sql, int n, const char *const *p);
/* A parameter with its type, for the per-boot writes: SQLite binds a number as a number (no
 * text printed with %.17g and parsed back by SQLite, each boot); PostgreSQL gets the text it
 * always got. Non-finite reals go as that same text. */
struct cm_param {
	char type; /* 't' text (NULL text: SQL NULL), 'i' integer, 'd' real, 0 SQL NULL */
	const char *text;
	long long i;
	double d;
};
#define CM_PTEXT(x) ((struct cm_param){ .type = 't', .text = (x) })
#define CM_PINT(x) ((struct cm_param){ .type = 'i', .i = (x) })
#define CM_PREAL(x) ((struct cm_param){ .type = 'd', .d = (x) })
#define CM_PNULL ((struct cm_param){ 0 })
/* sql (its parameters $1..$n in order) with typed parameters, for its effect; row as in
 * ops->query (PostgreSQL's RETURNING). 0 or an error. */
int cm_store_exec_typed(struct cm_store *s, const char *sql, int n, const struct cm_param *p,
			cm_db_row_fn row, void *ctx);
/* out[k] (k = 1..max): "head (k rows of ncol parameters $1, $2, ... in order) tail", the text
 * of a k-row INSERT (values.c); made once, kept for the process. */
void cm_store_values_sql(char **out, int max, const char *head, int ncol, const char *tail);
/* "$n" into out (room for 12 bytes; no printf); its length */
size_t cm_store_param_name(char *out, int n);
/* SQLite's side of it (sqlite.c): 0 or -1 with err set */
int cm_db_sqlite_exec_typed(struct cm_store *s, const char *sql, int n, const struct cm_param *p);
/* Every column of every result row, copied and flattened (ncol a row); NULL stays NULL. */
struct cm_rows {
	char **v;
	size_t n, ncol;
};
int cm_store_rows(struct cm_store *s, const char *sql, int n, const char *const *p,
		  struct cm_rows *out);
void cm_rows_free(struct cm_rows *r);
/* The run's row, (id, tag, started), which must be new: CM_ERR(CM_EEXIST) with err saying so
 * when a run of that id is there already (a new run never joins another's). */
int cm_store_new_run_row(struct cm_store *s, const char *const *p);
/* a query's row callback that counts the rows (ctx: an int) */
int cm_store_count_row(void *ctx, int ncol, const char *const *vals);

/* Inside a write transaction that added n rows of run_id's to samples: counted in the run's
 * row as the samples_added trigger counts them, when the connection runs no triggers
 * (s->own_count, SQLite); else (PostgreSQL, SQLite with other triggers) a no-op: the
 * trigger counted them. 0 or an error. */
int cm_store_count_added(struct cm_store *s, const char *run_id, long long n);
/* body in one write transaction, retried while another writer holds the store; body's own
 * error (or CM_ERR(CM_EIO)) when it fails */
int cm_store_transaction(struct cm_store *s, int (*body)(struct cm_store *s, void *ctx), void *ctx);

/* The session summary (summary.c, schema CM_SUMMARY_VERSION): per run, case, session and
 * phase the counts of its raw rows by kind, n, median and mean of ln(time), the within-session
 * variance (and sum of squares) of ln(time), and the measured times in row order (vals: what
 * makes every statistic of compare and history exact from it). */
#define CM_SUMMARY_SQL(REAL, BIG)                                                                  \
	"CREATE TABLE session_summary (run_id TEXT NOT NULL REFERENCES runs(id),"                  \
	" case_id TEXT NOT NULL, session INTEGER NOT NULL, phase TEXT NOT NULL,"                   \
	" first_row " BIG " NOT NULL, n_rows INTEGER NOT NULL, n INTEGER NOT NULL,"                 \
	" n_warmup INTEGER NOT NULL, n_failed INTEGER NOT NULL, n_unmeasurable INTEGER NOT NULL,"  \
	" n_interrupted INTEGER NOT NULL, median_ln " REAL ", mean_ln " REAL ", var_ln " REAL ","    \
	" ssw_ln " REAL ", vals TEXT NOT NULL, last_row " BIG " NOT NULL,"                          \
	" PRIMARY KEY (run_id, case_id, session, phase));"                                         \
	"ALTER TABLE runs ADD COLUMN samples " BIG " NOT NULL DEFAULT 0;"                          \
	"ALTER TABLE runs ADD COLUMN samples_changed " BIG " NOT NULL DEFAULT 0;"                  \
	"UPDATE runs SET samples = (SELECT COUNT(*) FROM samples WHERE run_id = runs.id);"
/* Every change to samples, by coldmark or around it, counted in its run's row: rows added
 * (samples) and rows deleted or changed (samples_changed), so that a reader can tell a
 * summary that counts every raw row from one that does not without counting them. */
#define CM_SUMMARY_TRIGGERS_SQLITE                                                                 \
	"CREATE TRIGGER samples_added AFTER INSERT ON samples BEGIN UPDATE runs SET samples ="     \
	" samples + 1 WHERE id = NEW.run_id; END;"                                                 \
	"CREATE TRIGGER samples_deleted AFTER DELETE ON samples BEGIN UPDATE runs SET samples ="   \
	" samples - 1, samples_changed = samples_changed + 1 WHERE id = OLD.run_id; END;"         \
	"CREATE TRIGGER samples_updated AFTER UPDATE ON samples BEGIN UPDATE runs SET"             \
	" samples_changed = samples_changed + 1 WHERE id IN (OLD.run_id, NEW.run_id); END;"
#define CM_SUMMARY_TRIGGERS_PG                                                                     \
	"CREATE FUNCTION coldmark_samples_added() RETURNS trigger LANGUAGE plpgsql AS $f$ BEGIN"   \
	" UPDATE runs SET samples = samples + 1 WHERE id = NEW.run_id; RETURN NULL; END $f$;"      \
	"CREATE FUNCTION coldmark_samples_changed() RETURNS trigger LANGUAGE plpgsql AS $f$ BEGIN" \
	" UPDATE runs SET samples = samples - (TG_OP = 'DELETE')::int, samples_changed ="          \
	" samples_changed + 1 WHERE id = OLD.run_id OR (TG_OP = 'UPDATE' AND id = NEW.run_id);"    \
	" RETURN NULL; END $f$;"                                                                   \
	"CREATE TRIGGER samples_added AFTER INSERT ON samples FOR EACH ROW EXECUTE FUNCTION"       \
	" coldmark_samples_added();"                                                               \
	"CREATE TRIGGER samples_changed AFTER DELETE OR UPDATE ON samples FOR EACH ROW EXECUTE"    \
	" FUNCTION coldmark_samples_changed();"
/* vals: each measured time as the 16 hex digits of its IEEE-754 bits (exact, and read back
 * without strtod: a compare of 12 M rows decodes 12 M of them); n values from text. 0, or -1
 * when text is not n of them. */
int cm_summary_vals_decode(const char *text, double *out, size_t n);
/* A boot's rows as its transaction wrote them (rowid; those the samples' key skipped are not
 * here), for cm_summary_add. */
struct cm_summary_new {
	const char *phase;
	int kind; /* enum cm_row_kind */
	double value;
	int64_t rowid;
};
/* Inside the write transaction that wrote rows of run_id's (case, session): its summary rows
 * brought up to date by appending them (under the key's lock on PostgreSQL), or, when they do
 * not come after every row the summary holds (another writer's boot committed in between
 * with a later rowid), recomputed from the samples as cm_summary_refresh does. key: "case\tsession". */
int cm_summary_add(struct cm_store *s, const char *run_id, const char *key,
		   const struct cm_summary_new *rows, size_t n);
/* The writer's cache of the summary rows it wrote emptied: after a transaction that did not
 * commit (its rows are not the store's), and when the store closes. */
void cm_summary_forget(struct cm_store *s);
/* Every summary row of the store from its samples (the migration to CM_SUMMARY_VERSION). */
int cm_summary_fill(struct cm_store *s);
/* Inside a write transaction, after rows of run_id's (case, session) keys went in: their
 * summary rows again from the samples (under a lock per key on PostgreSQL, so concurrent
 * writers of one session each see the other's committed boots). keys: n "case\tsession". */
int cm_summary_refresh(struct cm_store *s, const char *run_id, char *const *keys, size_t n);
/* A run's cases (axes) and header into a fresh ds (cm_store_load's first half); with
 * case_filter, that case and the reference cases only. */
int cm_store_load_head(struct cm_store *s, const char *run_id, const char *case_filter,
		       struct cm_dataset *ds);
/* A fresh ds with the axes and cases of cases (rows of case_id, axes in the run's order; the
 * axes strings are cut up in place), as cm_store_load_head makes it. */
void cm_store_cases_into(struct cm_dataset *ds, struct cm_rows *cases);

/* Opens a backend into s (ops, db). 0, or -1 with err set. */
int cm_db_sqlite_open(struct cm_store *s, const char *path, bool readonly, struct cm_error *err);
int cm_db_pg_open(struct cm_store *s, const char *url, struct cm_error *err);

#endif
