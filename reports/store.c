/* SQLite store. WAL and synchronous=NORMAL: a kill -9 at any moment leaves the database
 * consistent with every committed boot in it. The schema is versioned by PRAGMA user_version
 * and migrated forward step by step. */
#include "coldmark/store.h"

#include <errno.h>
#include <math.h>
#include <sqlite3.h>
#include <sys/stat.h>
#include <time.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct cm_store {
	sqlite3 *db;
	char err[256]; /* why the last write failed, for people */
};

#define BUSY_RETRY_MS 120000 /* how long a boot waits for a store another process holds */

const char *cm_store_error(const struct cm_store *s)
{
	return s->err[0] ? s->err : "unknown error";
}

static int fail_with(struct cm_store *s, int rc)
{
	snprintf(s->err, sizeof(s->err), "%s", sqlite3_errmsg(s->db));
	return rc;
}

/* One write transaction, retried while another process holds the database (a long import at
 * the same time): BEGIN IMMEDIATE takes the write lock first, so the body never meets BUSY
 * halfway. Either all of body is committed, or none of it. */
static int transaction(struct cm_store *s, int (*body)(struct cm_store *s, void *ctx), void *ctx)
{
	int64_t give_up = cm_now_ns() + BUSY_RETRY_MS * 1000000LL;
	for (;;) {
		int rc = sqlite3_exec(s->db, "BEGIN IMMEDIATE", NULL, NULL, NULL);
		if (rc == SQLITE_OK) {
			int brc = body(s, ctx);
			if (!brc && (rc = sqlite3_exec(s->db, "COMMIT", NULL, NULL, NULL)) == SQLITE_OK)
				return 0;
			if (brc)
				rc = sqlite3_errcode(s->db);
			fail_with(s, 0);
			sqlite3_exec(s->db, "ROLLBACK", NULL, NULL, NULL);
		} else {
			fail_with(s, 0);
		}
		if ((rc != SQLITE_BUSY && rc != SQLITE_LOCKED) || cm_now_ns() > give_up)
			return CM_ERR(CM_EIO);
		struct timespec nap = { 0, 50 * 1000000L };
		nanosleep(&nap, NULL);
	}
}

/* A file at schema version v must have that version's tables (checked before migrating it,
 * so that a stranger's database is refused whole, never half altered). */
static int check_tables(struct cm_store *s, int v, char *err, size_t errsz, const char *path)
{
	static const struct { const char *name; int since; } tables[] = {
		{ "runs", 1 }, { "run_meta", 1 }, { "cases", 1 }, { "samples", 1 }, { "calibration", 3 },
	};
	for (size_t i = 0; i < sizeof(tables) / sizeof(tables[0]); i++) {
		if (v < tables[i].since)
			continue;
		sqlite3_stmt *st;
		bool found = false;
		if (sqlite3_prepare_v2(s->db, "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = ?1",
				       -1, &st, NULL) == SQLITE_OK) {
			sqlite3_bind_text(st, 1, tables[i].name, -1, SQLITE_STATIC);
			found = sqlite3_step(st) == SQLITE_ROW;
		}
		sqlite3_finalize(st);
		if (!found) {
			snprintf(err, errsz, "%s: not a coldmark results store (no table '%s')", path,
				 tables[i].name);
			return -1;
		}
	}
	return 0;
}

/* migrations[i] takes the schema from version i to i + 1 */
static const char *const migrations[] = {
	"CREATE TABLE runs (id TEXT PRIMARY KEY, tag TEXT, started TEXT NOT NULL);"
	"CREATE TABLE run_meta (run_id TEXT NOT NULL REFERENCES runs(id), key TEXT NOT NULL,"
	" value TEXT, PRIMARY KEY (run_id, key));"
	"CREATE TABLE cases (run_id TEXT NOT NULL REFERENCES runs(id), case_id TEXT NOT NULL,"
	" axes TEXT NOT NULL, PRIMARY KEY (run_id, case_id));"
	"CREATE TABLE samples (run_id TEXT NOT NULL REFERENCES runs(id), case_id TEXT NOT NULL,"
	" boot INTEGER NOT NULL, warmup INTEGER NOT NULL, status TEXT NOT NULL,"
	" phase TEXT NOT NULL, duration_ns REAL, source TEXT, cache_drop TEXT);"
	"CREATE INDEX samples_run ON samples(run_id, case_id, phase);"
	"CREATE INDEX runs_tag ON runs(tag, started);",
	/* v2: the exact command line of each case */
	"ALTER TABLE cases ADD COLUMN argv TEXT;",
	/* v3: the session of each boot (a run of --sessions K holds K), and per host the
	 * between-session variance `coldmark calibrate` measured, for later compares */
	"ALTER TABLE samples ADD COLUMN session INTEGER NOT NULL DEFAULT 1;"
	"CREATE TABLE calibration (host TEXT NOT NULL, case_id TEXT NOT NULL, phase TEXT NOT NULL,"
	" var_within REAL NOT NULL, var_between REAL NOT NULL, sessions INTEGER NOT NULL,"
	" boots INTEGER NOT NULL, run_id TEXT NOT NULL, created TEXT NOT NULL,"
	" PRIMARY KEY (host, case_id, phase));",
	/* v4: what the per-boot audit of the host said of each boot */
	"ALTER TABLE samples ADD COLUMN host_audit TEXT NOT NULL DEFAULT '';",
};
#define NMIGRATIONS ((int)(sizeof(migrations) / sizeof(migrations[0])))

int cm_store_version(struct cm_store *s)
{
	sqlite3_stmt *st;
	int v = -1;
	if (sqlite3_prepare_v2(s->db, "PRAGMA user_version", -1, &st, NULL) == SQLITE_OK &&
	    sqlite3_step(st) == SQLITE_ROW)
		v = sqlite3_column_int(st, 0);
	sqlite3_finalize(st);
	return v;
}

struct cm_store *cm_store_open(const char *path, char *err, size_t errsz)
{
	struct cm_store *s = cm_xcalloc(1, sizeof(*s));
	char *msg = NULL;
	if (sqlite3_open(path, &s->db) != SQLITE_OK) {
		snprintf(err, errsz, "%s: %s", path, sqlite3_errmsg(s->db));
		goto fail;
	}
	sqlite3_busy_timeout(s->db, 5000);
	struct stat sb;
	if (!stat(path, &sb) && S_ISDIR(sb.st_mode)) {
		snprintf(err, errsz, "%s: is a folder, not a database file", path);
		goto fail;
	}
	/* WAL with synchronous=NORMAL: a commit is in the WAL file when it returns (a kill -9 at
	 * any moment keeps every committed boot, and the database consistent); only a power cut
	 * may take back the last commits, never corrupt it. FULL synced every boot between
	 * boots, ~1 ms each on the development host. */
	if (sqlite3_exec(s->db, "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;", NULL, NULL,
			 &msg) != SQLITE_OK) {
		snprintf(err, errsz, "%s: %s", path, msg ? msg : sqlite3_errmsg(s->db));
		goto fail;
	}
	int v = cm_store_version(s);
	if (v > CM_STORE_VERSION) {
		snprintf(err, errsz, "%s: schema version %d is newer than this coldmark's (%d)", path,
			 v, CM_STORE_VERSION);
		goto fail;
	}
	if (v >= 1 && check_tables(s, v, err, errsz, path))
		goto fail;
	for (; v >= 0 && v < NMIGRATIONS; v++) {
		char *sql = cm_xasprintf("BEGIN; %s PRAGMA user_version = %d; COMMIT;", migrations[v],
					 v + 1);
		int rc = sqlite3_exec(s->db, sql, NULL, NULL, &msg);
		free(sql);
		if (rc != SQLITE_OK) {
			snprintf(err, errsz, "%s: migrating to schema %d: %s", path, v + 1,
				 msg ? msg : "failed");
			sqlite3_exec(s->db, "ROLLBACK", NULL, NULL, NULL);
			goto fail;
		}
	}
	if (check_tables(s, CM_STORE_VERSION, err, errsz, path))
		goto fail;
	return s;
fail:
	sqlite3_free(msg);
	cm_store_close(s);
	return NULL;
}

struct cm_store *cm_store_open_existing(const char *path, char *err, size_t errsz)
{
	struct stat st;
	if (stat(path, &st) || !S_ISREG(st.st_mode)) {
		snprintf(err, errsz, "%s: no results store there (%s)", path,
			 errno == ENOENT ? "no such file" : S_ISDIR(st.st_mode) ? "a folder" : strerror(errno));
		return NULL;
	}
	return cm_store_open(path, err, errsz);
}

void cm_store_close(struct cm_store *s)
{
	if (!s)
		return;
	sqlite3_close(s->db);
	free(s);
}

static int exec1(struct cm_store *s, const char *sql, const char *a, const char *b,
		 const char *c, const char *d)
{
	sqlite3_stmt *st;
	if (sqlite3_prepare_v2(s->db, sql, -1, &st, NULL) != SQLITE_OK)
		return CM_ERR(CM_EIO);
	const char *v[] = { a, b, c, d };
	for (int i = 0; i < 4; i++)
		if (v[i])
			sqlite3_bind_text(st, i + 1, v[i], -1, SQLITE_TRANSIENT);
	int rc = sqlite3_step(st);
	sqlite3_finalize(st);
	return rc == SQLITE_DONE ? 0 : CM_ERR(CM_EIO);
}

int cm_store_set_meta(struct cm_store *s, const char *run_id, const char *key, const char *value)
{
	return exec1(s, "INSERT OR REPLACE INTO run_meta VALUES (?1, ?2, ?3)", run_id, key, value,
		     NULL);
}

struct begin_ctx {
	const char *run_id, *tag;
	const struct cm_dataset *ds;
};

static int begin_body(struct cm_store *s, void *ctx)
{
	const struct begin_ctx *b = ctx;
	const struct cm_dataset *ds = b->ds;
	const char *started = cm_dataset_get_meta(ds, "date");
	int rc = exec1(s, "INSERT INTO runs (id, tag, started) VALUES (?1, ?2, ?3)", b->run_id,
		       b->tag, started ? started : "", NULL);
	for (size_t i = 0; !rc && i < ds->nmeta; i++)
		rc = exec1(s, "INSERT OR REPLACE INTO run_meta VALUES (?1, ?2, ?3)", b->run_id,
			   ds->meta_keys[i], ds->meta_vals[i], NULL);
	for (size_t c = 0; !rc && c < ds->ncases; c++) {
		struct cm_buf axes = { 0 };
		for (size_t a = 0; a < ds->naxes; a++)
			cm_buf_printf(&axes, "%s%s=%s", a ? "\t" : "", ds->axes[a],
				      ds->cases[c].labels[a]);
		rc = exec1(s, "INSERT INTO cases (run_id, case_id, axes) VALUES (?1, ?2, ?3)",
			   b->run_id, ds->cases[c].id, axes.s ? axes.s : "", NULL);
		cm_buf_free(&axes);
	}
	return rc;
}

int cm_store_begin_run(struct cm_store *s, const char *run_id, const char *tag,
		       const struct cm_dataset *ds)
{
	struct begin_ctx b = { run_id, tag, ds };
	return transaction(s, begin_body, &b);
}

struct argv_ctx {
	const char *run_id;
	char *const *case_ids, *const *cmdlines;
	size_t n;
};

static int argv_body(struct cm_store *s, void *ctx)
{
	const struct argv_ctx *x = ctx;
	sqlite3_stmt *st;
	if (sqlite3_prepare_v2(s->db, "UPDATE cases SET argv = ?3 WHERE run_id = ?1 AND case_id = ?2",
			       -1, &st, NULL) != SQLITE_OK)
		return CM_ERR(CM_EIO);
	int rc = 0;
	for (size_t i = 0; !rc && i < x->n; i++) {
		sqlite3_reset(st);
		sqlite3_bind_text(st, 1, x->run_id, -1, SQLITE_TRANSIENT);
		sqlite3_bind_text(st, 2, x->case_ids[i], -1, SQLITE_TRANSIENT);
		sqlite3_bind_text(st, 3, x->cmdlines[i], -1, SQLITE_TRANSIENT);
		if (sqlite3_step(st) != SQLITE_DONE)
			rc = CM_ERR(CM_EIO);
	}
	sqlite3_finalize(st);
	return rc;
}

int cm_store_cases_argv(struct cm_store *s, const char *run_id, char *const *case_ids,
			char *const *cmdlines, size_t n)
{
	/* one transaction, one sync: a sync per case made 10^5 cases take minutes to start */
	struct argv_ctx x = { run_id, case_ids, cmdlines, n };
	return transaction(s, argv_body, &x);
}

struct rows_ctx {
	const char *run_id;
	const struct cm_dataset *ds;
	size_t from, to;
};

static int rows_body(struct cm_store *s, void *ctx)
{
	const struct rows_ctx *x = ctx;
	sqlite3_stmt *st;
	if (sqlite3_prepare_v2(s->db,
			       "INSERT INTO samples (run_id, case_id, boot, warmup, status, phase, "
			       "duration_ns, source, cache_drop, session, host_audit) "
			       "VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11)", -1,
			       &st, NULL) != SQLITE_OK)
		return CM_ERR(CM_EIO);
	int rc = 0;
	for (size_t i = x->from; !rc && i < x->to; i++) {
		const struct cm_sample_row *r = &x->ds->rows[i];
		sqlite3_reset(st);
		sqlite3_bind_text(st, 1, x->run_id, -1, SQLITE_TRANSIENT);
		sqlite3_bind_text(st, 2, r->case_id, -1, SQLITE_TRANSIENT);
		sqlite3_bind_int(st, 3, r->boot);
		sqlite3_bind_int(st, 4, r->warmup);
		sqlite3_bind_text(st, 5, r->status, -1, SQLITE_TRANSIENT);
		sqlite3_bind_text(st, 6, r->phase, -1, SQLITE_TRANSIENT);
		if (isnan(r->duration_ns))
			sqlite3_bind_null(st, 7);
		else
			sqlite3_bind_double(st, 7, r->duration_ns);
		sqlite3_bind_text(st, 8, r->source, -1, SQLITE_TRANSIENT);
		sqlite3_bind_text(st, 9, r->cache, -1, SQLITE_TRANSIENT);
		/* the session's number within the run: its id, or what follows a merged id's '#' */
		const char *sid = x->ds->sessions[r->session - 1].id, *hash = strrchr(sid, '#');
		sqlite3_bind_int(st, 10, atoi(hash ? hash + 1 : sid));
		sqlite3_bind_text(st, 11, r->audit ? r->audit : "", -1, SQLITE_TRANSIENT);
		if (sqlite3_step(st) != SQLITE_DONE)
			rc = CM_ERR(CM_EIO);
	}
	sqlite3_finalize(st);
	return rc;
}

int cm_store_add_rows(struct cm_store *s, const char *run_id, const struct cm_dataset *ds,
		      size_t from, size_t to)
{
	struct rows_ctx x = { run_id, ds, from, to };
	return transaction(s, rows_body, &x);
}

int cm_store_resolve(struct cm_store *s, const char *ref, char *run_id, size_t n)
{
	sqlite3_stmt *st;
	int rc = CM_ERR(CM_ENOENT);
	if (sqlite3_prepare_v2(s->db,
			       "SELECT id FROM runs WHERE id = ?1 UNION ALL "
			       "SELECT * FROM (SELECT id FROM runs WHERE tag = ?1 "
			       "ORDER BY started DESC, rowid DESC LIMIT 1)",
			       -1, &st, NULL) != SQLITE_OK)
		return CM_ERR(CM_EIO);
	sqlite3_bind_text(st, 1, ref, -1, SQLITE_TRANSIENT);
	if (sqlite3_step(st) == SQLITE_ROW) {
		snprintf(run_id, n, "%s", (const char *)sqlite3_column_text(st, 0));
		rc = 0;
	}
	sqlite3_finalize(st);
	return rc;
}

static const char *col(sqlite3_stmt *st, int i)
{
	const unsigned char *t = sqlite3_column_text(st, i);
	return t ? (const char *)t : "";
}

int cm_store_load(struct cm_store *s, const char *run_id, struct cm_dataset *ds)
{
	sqlite3_stmt *st;
	/* axes from the first case's "name=value\t..." list */
	char *axes[64];
	size_t nax = 0;
	if (sqlite3_prepare_v2(s->db, "SELECT case_id, axes FROM cases WHERE run_id = ?1 ORDER BY rowid",
			       -1, &st, NULL) != SQLITE_OK)
		return CM_ERR(CM_EIO);
	sqlite3_bind_text(st, 1, run_id, -1, SQLITE_TRANSIENT);
	bool first = true;
	char **case_ids = NULL, **case_axes = NULL;
	size_t ncases = 0;
	while (sqlite3_step(st) == SQLITE_ROW) {
		case_ids = cm_xrealloc(case_ids, (ncases + 1) * sizeof(char *));
		case_axes = cm_xrealloc(case_axes, (ncases + 1) * sizeof(char *));
		case_ids[ncases] = cm_xstrdup(col(st, 0));
		case_axes[ncases++] = cm_xstrdup(col(st, 1));
		if (first) {
			char *copy = cm_xstrdup(col(st, 1)), *save = NULL;
			for (char *t = strtok_r(copy, "\t", &save); t && nax < 64;
			     t = strtok_r(NULL, "\t", &save)) {
				t[strcspn(t, "=")] = 0;
				axes[nax++] = cm_xstrdup(t);
			}
			free(copy);
			first = false;
		}
	}
	sqlite3_finalize(st);
	cm_dataset_init(ds, axes, nax);
	for (size_t i = 0; i < nax; i++)
		free(axes[i]);
	for (size_t c = 0; c < ncases; c++) {
		char *labels[64] = { 0 }, *save = NULL;
		size_t a = 0;
		for (char *t = strtok_r(case_axes[c], "\t", &save); t && a < nax;
		     t = strtok_r(NULL, "\t", &save)) {
			char *eq = strchr(t, '=');
			labels[a++] = eq ? eq + 1 : t;
		}
		cm_dataset_case(ds, case_ids[c], labels);
		free(case_ids[c]);
		free(case_axes[c]);
	}
	free(case_ids);
	free(case_axes);
	if (sqlite3_prepare_v2(s->db, "SELECT key, value FROM run_meta WHERE run_id = ?1 ORDER BY rowid",
			       -1, &st, NULL) == SQLITE_OK) {
		sqlite3_bind_text(st, 1, run_id, -1, SQLITE_TRANSIENT);
		while (sqlite3_step(st) == SQLITE_ROW)
			cm_dataset_meta(ds, col(st, 0), col(st, 1));
		sqlite3_finalize(st);
	}
	if (sqlite3_prepare_v2(s->db,
			       "SELECT case_id, boot, warmup, status, phase, duration_ns, source, "
			       "cache_drop, session, host_audit FROM samples WHERE run_id = ?1 ORDER BY rowid",
			       -1, &st, NULL) != SQLITE_OK)
		return CM_ERR(CM_EIO);
	sqlite3_bind_text(st, 1, run_id, -1, SQLITE_TRANSIENT);
	const char *host = cm_dataset_get_meta(ds, "host");
	while (sqlite3_step(st) == SQLITE_ROW) {
		cm_dataset_session(ds, col(st, 8), host);
		ds->audit_now = col(st, 9);
		cm_dataset_add(ds, col(st, 0), sqlite3_column_int(st, 1), sqlite3_column_int(st, 2),
			       col(st, 3), col(st, 4),
			       sqlite3_column_type(st, 5) == SQLITE_NULL ? NAN
									 : sqlite3_column_double(st, 5),
			       col(st, 6), col(st, 7));
	}
	ds->audit_now = NULL;
	sqlite3_finalize(st);
	return 0;
}

int cm_store_resolve_all(struct cm_store *s, const char *ref, char ***ids, size_t *n)
{
	sqlite3_stmt *st;
	*ids = NULL;
	*n = 0;
	if (sqlite3_prepare_v2(s->db,
			       "SELECT id FROM runs WHERE id = ?1 UNION ALL "
			       "SELECT * FROM (SELECT id FROM runs WHERE tag = ?1 AND id <> ?1 "
			       "ORDER BY started, rowid)",
			       -1, &st, NULL) != SQLITE_OK)
		return CM_ERR(CM_EIO);
	sqlite3_bind_text(st, 1, ref, -1, SQLITE_TRANSIENT);
	bool by_id = false;
	while (sqlite3_step(st) == SQLITE_ROW && !by_id) {
		*ids = cm_xrealloc(*ids, (*n + 1) * sizeof(char *));
		(*ids)[(*n)++] = cm_xstrdup(col(st, 0));
		by_id = *n == 1 && !strcmp(col(st, 0), ref); /* a run id names that run alone */
	}
	sqlite3_finalize(st);
	return *n ? 0 : CM_ERR(CM_ENOENT);
}

struct cal_ctx {
	const char *host, *run_id;
	const struct cm_calibration *c;
	size_t n;
};

static int put_calibration_body(struct cm_store *s, void *ctx)
{
	const struct cal_ctx *x = ctx;
	sqlite3_stmt *st;
	if (sqlite3_prepare_v2(s->db, "INSERT OR REPLACE INTO calibration VALUES (?1, ?2, ?3, ?4, "
				      "?5, ?6, ?7, ?8, datetime('now'))",
			       -1, &st, NULL) != SQLITE_OK)
		return CM_ERR(CM_EIO);
	int rc = 0;
	for (size_t i = 0; !rc && i < x->n; i++) {
		const struct cm_calibration *c = &x->c[i];
		sqlite3_reset(st);
		sqlite3_bind_text(st, 1, x->host, -1, SQLITE_TRANSIENT);
		sqlite3_bind_text(st, 2, c->case_id, -1, SQLITE_TRANSIENT);
		sqlite3_bind_text(st, 3, c->phase, -1, SQLITE_TRANSIENT);
		sqlite3_bind_double(st, 4, c->vc.within);
		sqlite3_bind_double(st, 5, c->vc.between);
		sqlite3_bind_int(st, 6, (int)c->vc.sessions);
		sqlite3_bind_int(st, 7, (int)c->vc.boots);
		sqlite3_bind_text(st, 8, x->run_id, -1, SQLITE_TRANSIENT);
		if (sqlite3_step(st) != SQLITE_DONE)
			rc = CM_ERR(CM_EIO);
	}
	sqlite3_finalize(st);
	return rc;
}

int cm_store_put_calibration(struct cm_store *s, const char *host, const char *run_id,
			     const struct cm_calibration *c, size_t n)
{
	struct cal_ctx x = { host, run_id, c, n };
	return transaction(s, put_calibration_body, &x);
}

int cm_store_get_calibration(struct cm_store *s, const char *host, struct cm_calibration **out,
			     size_t *n)
{
	sqlite3_stmt *st;
	*out = NULL;
	*n = 0;
	if (sqlite3_prepare_v2(s->db, "SELECT case_id, phase, var_within, var_between, sessions, "
				      "boots FROM calibration WHERE host = ?1 ORDER BY rowid",
			       -1, &st, NULL) != SQLITE_OK)
		return CM_ERR(CM_EIO);
	sqlite3_bind_text(st, 1, host, -1, SQLITE_TRANSIENT);
	while (sqlite3_step(st) == SQLITE_ROW) {
		*out = cm_xrealloc(*out, (*n + 1) * sizeof(**out));
		(*out)[(*n)++] = (struct cm_calibration){
			cm_xstrdup(col(st, 0)), cm_xstrdup(col(st, 1)),
			{ .within = sqlite3_column_double(st, 2), .between = sqlite3_column_double(st, 3),
			  .sessions = (size_t)sqlite3_column_int(st, 4),
			  .boots = (size_t)sqlite3_column_int(st, 5) },
		};
	}
	sqlite3_finalize(st);
	return 0;
}

void cm_calibration_free(struct cm_calibration *c, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		free(c[i].case_id);
		free(c[i].phase);
	}
	free(c);
}

int cm_store_runs(struct cm_store *s, int (*cb)(void *ctx, const char *id, const char *tag,
						const char *started),
		  void *ctx)
{
	sqlite3_stmt *st;
	if (sqlite3_prepare_v2(s->db, "SELECT id, tag, started FROM runs ORDER BY started, rowid",
			       -1, &st, NULL) != SQLITE_OK)
		return CM_ERR(CM_EIO);
	while (sqlite3_step(st) == SQLITE_ROW)
		if (cb(ctx, col(st, 0), col(st, 1), col(st, 2)))
			break;
	sqlite3_finalize(st);
	return 0;
}
