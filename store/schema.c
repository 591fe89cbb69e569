/* The store's schema: its versions, the migrations between them, and opening a store for
 * writing (migrated forward, under the backend's migration lock) or for reading (read-only,
 * never migrated: a reader and the source of a copy leave the database as they found it).
 * A database with tables that are not coldmark's is refused whole, at any version. */
#include "coldmark/store.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "driver.h"

/* migrations[i] takes the schema from version i to i + 1: SQLite's text, and PostgreSQL's
 * where its types differ (DOUBLE PRECISION for REAL, an explicit rowid for insertion order). */
static const struct {
	const char *sqlite, *pg;
	int (*fill)(struct cm_store *s); /* after the SQL: rows the step derives (NULL: none) */
} migrations[] = {
	{ "CREATE TABLE runs (id TEXT PRIMARY KEY, tag TEXT, started TEXT NOT NULL);"
	  "CREATE TABLE run_meta (run_id TEXT NOT NULL REFERENCES runs(id), key TEXT NOT NULL,"
	  " value TEXT, PRIMARY KEY (run_id, key));"
	  "CREATE TABLE cases (run_id TEXT NOT NULL REFERENCES runs(id), case_id TEXT NOT NULL,"
	  " axes TEXT NOT NULL, PRIMARY KEY (run_id, case_id));"
	  "CREATE TABLE samples (run_id TEXT NOT NULL REFERENCES runs(id), case_id TEXT NOT NULL,"
	  " boot INTEGER NOT NULL, warmup INTEGER NOT NULL, status TEXT NOT NULL,"
	  " phase TEXT NOT NULL, duration_ns REAL, source TEXT, cache_drop TEXT);"
	  "CREATE INDEX samples_run ON samples(run_id, case_id, phase);"
	  "CREATE INDEX runs_tag ON runs(tag, started);",
	  "CREATE TABLE runs (rowid BIGSERIAL, id TEXT PRIMARY KEY, tag TEXT, started TEXT NOT NULL);"
	  "CREATE TABLE run_meta (rowid BIGSERIAL, run_id TEXT NOT NULL REFERENCES runs(id),"
	  " key TEXT NOT NULL, value TEXT, PRIMARY KEY (run_id, key));"
	  "CREATE TABLE cases (rowid BIGSERIAL, run_id TEXT NOT NULL REFERENCES runs(id),"
	  " case_id TEXT NOT NULL, axes TEXT NOT NULL, PRIMARY KEY (run_id, case_id));"
	  "CREATE TABLE samples (rowid BIGSERIAL, run_id TEXT NOT NULL REFERENCES runs(id),"
	  " case_id TEXT NOT NULL, boot INTEGER NOT NULL, warmup INTEGER NOT NULL,"
	  " status TEXT NOT NULL, phase TEXT NOT NULL, duration_ns DOUBLE PRECISION, source TEXT,"
	  " cache_drop TEXT);"
	  "CREATE INDEX samples_run ON samples(run_id, case_id, phase);"
	  "CREATE INDEX runs_tag ON runs(tag, started);" },
	/* v2: the exact command line of each case */
	{ "ALTER TABLE cases ADD COLUMN argv TEXT;" },
	/* v3: the session of each boot (a run of --sessions K holds K), and per host the
	 * between-session variance `coldmark calibrate` measured, for later compares */
	{ "ALTER TABLE samples ADD COLUMN session INTEGER NOT NULL DEFAULT 1;"
	  "CREATE TABLE calibration (host TEXT NOT NULL, case_id TEXT NOT NULL, phase TEXT NOT NULL,"
	  " var_within REAL NOT NULL, var_between REAL NOT NULL, sessions INTEGER NOT NULL,"
	  " boots INTEGER NOT NULL, run_id TEXT NOT NULL, created TEXT NOT NULL,"
	  " PRIMARY KEY (host, case_id, phase));",
	  "ALTER TABLE samples ADD COLUMN session INTEGER NOT NULL DEFAULT 1;"
	  "CREATE TABLE calibration (rowid BIGSERIAL, host TEXT NOT NULL, case_id TEXT NOT NULL,"
	  " phase TEXT NOT NULL, var_within DOUBLE PRECISION NOT NULL,"
	  " var_between DOUBLE PRECISION NOT NULL, sessions INTEGER NOT NULL,"
	  " boots INTEGER NOT NULL, run_id TEXT NOT NULL, created TEXT NOT NULL,"
	  " PRIMARY KEY (host, case_id, phase));" },
	/* v4: what the per-boot audit of the host said of each boot */
	{ "ALTER TABLE samples ADD COLUMN host_audit TEXT NOT NULL DEFAULT '';" },
	/* v5: every boot exactly once. Concurrent copies (4 syncs of one run folder, a sync while
	 * the run still wrote) stored boots several times: the first copy of each sample stays,
	 * and a unique key keeps it so (inserts skip what is there). The key is (run, case,
	 * session, boot, warm-up, phase) and whether the attempt was interrupted: a resumed run
	 * boots an interrupted boot again under its number, and samples.csv keeps both attempts
	 * (cm_row_boot_done), so the store does too. run_meta's revision counts how often an item
	 * was said, so that a copy never puts an older word over a newer one. The key's prefix
	 * (run_id) serves every query samples_run served: that index goes, so a boot's write
	 * maintains one index as before (the per-boot path must not slow). */
	{ "ALTER TABLE run_meta ADD COLUMN revision INTEGER NOT NULL DEFAULT 0;"
	  "DELETE FROM samples WHERE rowid NOT IN (SELECT MIN(rowid) FROM samples"
	  " GROUP BY run_id, case_id, session, boot, warmup, phase, status = 'interrupted');"
	  "CREATE UNIQUE INDEX samples_once ON samples(run_id, case_id, session, boot, warmup, phase,"
	  " (status = 'interrupted'));"
	  "DROP INDEX IF EXISTS samples_run;",
	  /* a writer of an older coldmark must not add a duplicate between the DELETE and the
	   * index; NOT IN over millions of rows is quadratic in PostgreSQL: a window instead */
	  "LOCK TABLE samples IN EXCLUSIVE MODE;"
	  "ALTER TABLE run_meta ADD COLUMN revision INTEGER NOT NULL DEFAULT 0;"
	  "DELETE FROM samples s USING (SELECT rowid, row_number() OVER (PARTITION BY run_id,"
	  " case_id, session, boot, warmup, phase, status = 'interrupted' ORDER BY rowid) AS k"
	  " FROM samples) d WHERE s.rowid = d.rowid AND d.k > 1;"
	  "CREATE UNIQUE INDEX samples_once ON samples(run_id, case_id, session, boot, warmup, phase,"
	  " (status = 'interrupted'));"
	  "DROP INDEX IF EXISTS samples_run;" },
	/* v6: run --profile's counts per boot and phase (issue 28), beside the samples */
	{ "CREATE TABLE profile (run_id TEXT NOT NULL REFERENCES runs(id), case_id TEXT NOT NULL,"
	  " boot INTEGER NOT NULL, session INTEGER NOT NULL, phase TEXT NOT NULL,"
	  " counter TEXT NOT NULL, count REAL NOT NULL,"
	  " UNIQUE (run_id, case_id, session, boot, phase, counter));",
	  "CREATE TABLE profile (rowid BIGSERIAL, run_id TEXT NOT NULL REFERENCES runs(id),"
	  " case_id TEXT NOT NULL, boot INTEGER NOT NULL, session INTEGER NOT NULL,"
	  " phase TEXT NOT NULL, counter TEXT NOT NULL, count DOUBLE PRECISION NOT NULL,"
	  " UNIQUE (run_id, case_id, session, boot, phase, counter));" },
	/* the boot's wave in its run and its slot in it (run --concurrency K, the concurrency
	 * axis); NULL: booted alone, or a boot stored before. By its own constant: steps added
	 * beside it renumber it in store.h, and two steps on one number do not compile. */
	[CM_STORE_WAVE_VERSION - 1] = { "ALTER TABLE samples ADD COLUMN wave INTEGER;"
					"ALTER TABLE samples ADD COLUMN slot INTEGER;" },
	/* v8 (CM_SUMMARY_VERSION): one row per run, case, session and phase (summary.c), written
	 * in the transaction of every write to samples; filled here for the stores before it */
	[CM_SUMMARY_VERSION - 1] = { CM_SUMMARY_SQL("REAL", "INTEGER") CM_SUMMARY_TRIGGERS_SQLITE,
	  CM_SUMMARY_SQL("DOUBLE PRECISION", "BIGINT") CM_SUMMARY_TRIGGERS_PG, cm_summary_fill },
};
#define NMIGRATIONS ((int)(sizeof(migrations) / sizeof(migrations[0])))
_Static_assert(NMIGRATIONS == CM_STORE_VERSION, "a migration step per schema version");
#define DEDUP_VERSION 5 /* the step that removed duplicate samples */
/* The oldest schema whose rows the readers' queries read as they are (v5 added a key, and a
 * column that copy.c reads as 0 from v4); an older store needs a writer to migrate it. */
#define READ_MIN_VERSION 4

int cm_store_version(struct cm_store *s)
{
	return s->ops->version(s);
}

const char *cm_store_note(const struct cm_store *s)
{
	return s->note[0] ? s->note : NULL;
}

static int not_ours(bool *flag)
{
	if (flag)
		*flag = true;
	return -1;
}

static const char TABLES_SQLITE[] = "SELECT name FROM sqlite_master WHERE type = 'table' AND "
				    "name NOT LIKE 'sqlite\\_%' ESCAPE '\\' ORDER BY name";
static const char TABLES_PG[] = "SELECT table_name FROM information_schema.tables WHERE "
				"table_schema = current_schema() AND table_type = 'BASE TABLE' "
				"ORDER BY table_name";

/* A store at schema version v holds coldmark's tables of that version and nothing else: a
 * database with a table of its own (someone's `accounts`) is a stranger's, whatever version
 * it claims, and is refused before anything is written (or read) there. */
static int check_ours(struct cm_store *s, int v, const char *name, struct cm_error *err,
		      bool *flag)
{
	static const char *const known[] = { "runs", "run_meta", "cases", "samples",
					     "calibration", "coldmark_schema", "profile",
					     "session_summary" };
	static const struct { const char *name; int since; } needed[] = {
		{ "runs", 1 }, { "run_meta", 1 }, { "cases", 1 }, { "samples", 1 }, { "calibration", 3 },
		{ "profile", 6 }, { "session_summary", CM_SUMMARY_VERSION },
	};
	struct cm_rows t;
	if (cm_store_rows(s, s->pg ? TABLES_PG : TABLES_SQLITE, 0, NULL, &t)) {
		cm_error_set(err, CM_ERR(CM_EIO), "%s: cannot list its tables: %s", name, s->err);
		return -1;
	}
	const char *stranger = NULL;
	for (size_t i = 0; i < t.n && !stranger; i++) {
		size_t k = 0;
		while (k < sizeof(known) / sizeof(known[0]) && strcmp(t.v[i], known[k]))
			k++;
		if (v == 0 || k == sizeof(known) / sizeof(known[0])) /* v0: nothing is ours yet */
			stranger = t.v[i];
	}
	if (stranger)
		cm_error_set(err, CM_ERR(CM_EIO), "%s: not a coldmark store (it has a table '%s', which is not "
			 "coldmark's): refused, nothing in it changed", name, stranger);
	cm_rows_free(&t);
	if (stranger)
		return not_ours(flag);
	for (size_t i = 0; i < sizeof(needed) / sizeof(needed[0]); i++) {
		if (v >= needed[i].since && !s->ops->has_table(s, needed[i].name)) {
			cm_error_set(err, CM_ERR(CM_EIO), "%s: not a coldmark store (no table '%s')", name,
				 needed[i].name);
			return not_ours(flag);
		}
	}
	return 0;
}

static long long count_samples(struct cm_store *s)
{
	struct cm_rows r;
	long long n = -1;
	if (!cm_store_rows(s, "SELECT COUNT(*) FROM samples", 0, NULL, &r) && r.n && r.v[0])
		n = atoll(r.v[0]);
	cm_rows_free(&r);
	return n;
}

/* Every step to the current version in one transaction, under the backend's migration lock
 * (two hosts opening a new PostgreSQL store at once: the second finds it migrated). */
static int migrate(struct cm_store *s, const char *name, struct cm_error *err, bool *flag)
{
	int v = cm_store_version(s);
	if (v == CM_STORE_VERSION)
		return check_ours(s, v, name, err, flag);
	if (s->ops->begin(s, true)) {
		cm_error_set(err, CM_ERR(CM_EIO), "%s: %s", name, s->err);
		return -1;
	}
	v = cm_store_version(s);
	if (v < 0) {
		cm_error_set(err, CM_ERR(CM_EIO), "%s: cannot read the schema version: %s", name, s->err);
		goto fail;
	}
	if (check_ours(s, v, name, err, flag))
		goto fail;
	if (v > CM_STORE_VERSION) {
		cm_error_set(err, CM_ERR(CM_EIO), "%s: schema version %d is newer than this coldmark's (%d)", name,
			 v, CM_STORE_VERSION);
		goto fail;
	}
	long long before = v >= 1 && v < DEDUP_VERSION ? count_samples(s) : -1;
	for (; v < NMIGRATIONS; v++) {
		const char *sql = s->pg && migrations[v].pg ? migrations[v].pg : migrations[v].sqlite;
		if (s->ops->query(s, sql, 0, NULL, NULL, NULL) ||
		    (migrations[v].fill && migrations[v].fill(s)) || s->ops->set_version(s, v + 1)) {
			cm_error_set(err, CM_ERR(CM_EIO), "%s: migrating to schema %d: %s", name, v + 1, s->err);
			goto fail;
		}
	}
	if (before >= 0)
		snprintf(s->note, sizeof(s->note), "migrated to schema %d: %lld duplicate sample rows "
			 "removed (boots stored more than once by concurrent copies)", DEDUP_VERSION,
			 before - count_samples(s));
	if (s->ops->commit(s)) {
		cm_error_set(err, CM_ERR(CM_EIO), "%s: migrating: %s", name, s->err);
		s->note[0] = 0;
		goto fail;
	}
	return check_ours(s, CM_STORE_VERSION, name, err, flag);
fail:
	s->ops->rollback(s);
	return -1;
}

/* A reader's checks, nothing written: coldmark's tables only, a version it can read. */
static int check_readable(struct cm_store *s, const char *name, struct cm_error *err,
			  bool *flag)
{
	int v = cm_store_version(s);
	if (v < 0) {
		cm_error_set(err, CM_ERR(CM_EIO), "%s: cannot read the schema version: %s", name, s->err);
		return -1;
	}
	if (check_ours(s, v, name, err, flag))
		return -1;
	if (v == 0) {
		cm_error_set(err, CM_ERR(CM_EIO), "%s: not a coldmark store (an empty database)", name);
		return not_ours(flag);
	}
	if (v > CM_STORE_VERSION) {
		cm_error_set(err, CM_ERR(CM_EIO), "%s: schema version %d is newer than this coldmark's (%d)", name,
			 v, CM_STORE_VERSION);
		return -1;
	}
	if (v < READ_MIN_VERSION) {
		cm_error_set(err, CM_ERR(CM_EIO), "%s: schema version %d is older than this coldmark reads (%d to "
			 "%d); a reader never migrates a store: a command that writes to it (run, "
			 "import, sync or merge --db) does", name, v, READ_MIN_VERSION, CM_STORE_VERSION);
		return -1;
	}
	return 0;
}

/* A file or folder that cannot be a store, said as it is (a stat that succeeded leaves errno
 * as an earlier call set it: the reason comes from what stat found). */
static int check_file(const char *target, struct cm_error *err, bool *flag)
{
	struct stat st;
	if (stat(target, &st)) {
		cm_error_set(err, CM_ERR(CM_EIO), "%s: no results store there (%s)", target,
			 errno == ENOENT ? "no such file" : strerror(errno));
		return errno == ENOENT ? not_ours(flag) : -1;
	}
	if (S_ISDIR(st.st_mode))
		cm_error_set(err, CM_ERR(CM_EIO), "%s: no results store there (a folder)", target);
	else if (!S_ISREG(st.st_mode))
		cm_error_set(err, CM_ERR(CM_EIO), "%s: no results store there (not a regular file)", target);
	else if (st.st_size == 0)
		cm_error_set(err, CM_ERR(CM_EIO), "%s: no results store there (an empty file, 0 bytes: not a "
			 "coldmark store)", target);
	else
		return 0;
	return not_ours(flag);
}

/* cm_store_open_how, and whether a failure was the connection's (*lost: no server, or no
 * answer in time) rather than a store that answered and refused. */
static struct cm_store *open_store(const char *target, enum cm_store_access how, bool *foreign,
				   bool *lost, struct cm_error *err)
{
	bool reader = how == CM_STORE_READ, url = cm_store_is_url(target);
	if (foreign)
		*foreign = false;
	if (lost)
		*lost = false;
	char name[512];
	cm_store_redact(target, name, sizeof(name));
	if (!url && cm_holds_secret(target)) { /* never a file named after a password */
		cm_error_set(err, CM_ERR(CM_EIO), "%s: a connection string with a password is not a SQLite file; "
			 "a PostgreSQL store is a postgresql:// URL", name);
		if (foreign)
			*foreign = true;
		return NULL;
	}
	if (reader && !url && check_file(target, err, foreign))
		return NULL;
	struct cm_store *s = cm_xcalloc(1, sizeof(*s));
	int rc = url ? cm_db_pg_open(s, target, err)
		     : cm_db_sqlite_open(s, target, reader, err);
	/* PostgreSQL: every transaction of this session read-only, so no query can write */
	if (!rc && url && reader &&
	    s->ops->query(s, "SET SESSION CHARACTERISTICS AS TRANSACTION READ ONLY", 0, NULL, NULL,
			  NULL)) {
		cm_error_set(err, CM_ERR(CM_EIO), "%s: %s", name, s->err);
		rc = -1;
	}
	if (rc || (reader ? check_readable(s, name, err, foreign)
			  : migrate(s, name, err, foreign))) {
		if (lost)
			*lost = s->lost;
		cm_store_close(s);
		return NULL;
	}
	return s;
}

struct cm_store *cm_store_open_how(const char *target, enum cm_store_access how, bool *foreign,
				   struct cm_error *err)
{
	return open_store(target, how, foreign, NULL, err);
}

struct cm_store *cm_store_open_lost(const char *target, struct cm_error *err, bool *lost)
{
	return open_store(target, CM_STORE_WRITE, NULL, lost, err);
}

bool cm_store_lost(const struct cm_store *s)
{
	return s->lost;
}

struct cm_store *cm_store_open(const char *target, struct cm_error *err)
{
	return cm_store_open_how(target, CM_STORE_WRITE, NULL, err);
}

struct cm_store *cm_store_open_existing(const char *target, struct cm_error *err)
{
	return cm_store_open_how(target, CM_STORE_READ, NULL, err);
}
