/* The SQLite backend: a file on one host. WAL and synchronous=NORMAL: a kill -9 at any moment
 * leaves the database consistent with every committed boot in it (only a power cut may take
 * back the last commits, never corrupt it; FULL synced every boot, ~1 ms each here). */
#include "driver.h"

#include <pthread.h>
#include <sqlite3.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "coldmark/util.h"

#define NSTMTS 32 /* prepared statements kept, by their SQL text's address */

struct stmt_cache {
	const char *sql[NSTMTS];
	sqlite3_stmt *st[NSTMTS];
	bool ordered[NSTMTS]; /* its parameters are $1, $2, ... at indexes 1, 2, ... */
	bool checked;	      /* the triggers were looked at (own_count) at data_version seen */
	long long seen;
	/* s->data_version without a statement (begin): the file's change count as this
	 * connection's last commit left it (valid while mine), and the version begin gives */
	unsigned after;
	bool mine;
	long long epoch;
	pthread_t owner; /* the thread that opened the connection: the only one that uses it */
};

static sqlite3 *db(struct cm_store *s)
{
	return s->db;
}

/* The connection is opened without SQLite's own mutex (SQLITE_OPEN_NOMUTEX, cm_db_sqlite_open):
 * a use from a thread other than its opener's is refused here, before SQLite is called, so that
 * a change that moved a store call into a wave's launcher threads or the journals' sync thread
 * fails at once (test_store_thread) instead of racing. pthread_self: a read of the thread
 * pointer, no call into SQLite. */
static bool foreign(struct cm_store *s)
{
	if (pthread_equal(((struct stmt_cache *)s->stmts)->owner, pthread_self()))
		return false;
	snprintf(s->err, sizeof(s->err), "the store was used from a thread other than the one "
		 "that opened it (each SQLite connection of coldmark's has one thread)");
	return true;
}

static int fail(struct cm_store *s)
{
	snprintf(s->err, sizeof(s->err), "%s", sqlite3_errmsg(db(s)));
	return -1;
}

/* Does the text number its parameters in order ($k is the k-th)? Then bind() binds by
 * position: asking SQLite a parameter's name scans its list of names, which cost every boot's
 * bindings a quadratic walk (3% of coldmark's CPU in a run). */
static bool in_order(sqlite3_stmt *st)
{
	char name[12];
	for (int k = 1; k <= sqlite3_bind_parameter_count(st); k++) {
		const char *at = sqlite3_bind_parameter_name(st, k);
		cm_store_param_name(name, k);
		if (!at || strcmp(at, name))
			return false;
	}
	return true;
}

/* The queries are static strings: their address is their name in the cache. */
static sqlite3_stmt *prepared(struct cm_store *s, const char *sql, bool *ordered)
{
	struct stmt_cache *c = s->stmts;
	int free_slot = -1;
	for (int i = 0; i < NSTMTS; i++) {
		if (c->sql[i] == sql) {
			sqlite3_reset(c->st[i]);
			sqlite3_clear_bindings(c->st[i]);
			*ordered = c->ordered[i];
			return c->st[i];
		}
		if (!c->sql[i] && free_slot < 0)
			free_slot = i;
	}
	sqlite3_stmt *st;
	if (sqlite3_prepare_v2(db(s), sql, -1, &st, NULL) != SQLITE_OK)
		return NULL;
	*ordered = in_order(st);
	if (free_slot >= 0) {
		c->sql[free_slot] = sql;
		c->st[free_slot] = st;
		c->ordered[free_slot] = *ordered;
	}
	return st;
}

static void done(struct cm_store *s, sqlite3_stmt *st)
{
	struct stmt_cache *c = s->stmts;
	for (int i = 0; i < NSTMTS; i++)
		if (c->st[i] == st) {
			sqlite3_reset(st);
			return;
		}
	sqlite3_finalize(st);
}

static void f64hex(sqlite3_context *c, int n, sqlite3_value **v)
{
	static const char hex[] = "0123456789abcdef";
	if (sqlite3_value_type(v[0]) == SQLITE_NULL) {
		sqlite3_result_null(c);
		return;
	}
	double d = sqlite3_value_double(v[0]);
	uint64_t bits;
	char out[16];
	memcpy(&bits, &d, sizeof(bits));
	for (int i = 0; i < 16; i++)
		out[i] = hex[(bits >> (60 - 4 * i)) & 15];
	sqlite3_result_text(c, out, 16, SQLITE_TRANSIENT);
	(void)n;
}

/* $1, $2, ... are named parameters to SQLite: bound by name, so their order in the text does
 * not matter; a statement that numbers them in order is bound by position (no name made). */
static int bind(sqlite3_stmt *st, bool ordered, int n, const char *const *params)
{
	int count = sqlite3_bind_parameter_count(st);
	for (int i = 0; i < n; i++) {
		int idx = i < count ? i + 1 : 0;
		if (!ordered) {
			char name[16];
			snprintf(name, sizeof(name), "$%d", i + 1);
			idx = sqlite3_bind_parameter_index(st, name);
		}
		/* static: run() steps the statement before it returns, while params are alive (the
		 * next use clears the bindings first); TRANSIENT copied each value */
		if (idx && params[i] && sqlite3_bind_text(st, idx, params[i], -1, SQLITE_STATIC))
			return -1;
	}
	return 0;
}

static int run(struct cm_store *s, const char *sql, int n, const char *const *params,
	       cm_db_row_fn row, void *ctx)
{
	if (foreign(s))
		return -1;
	if (!n && !row) { /* migrations: several statements, no parameters */
		char *msg = NULL;
		int rc = sqlite3_exec(db(s), sql, NULL, NULL, &msg);
		if (rc != SQLITE_OK)
			snprintf(s->err, sizeof(s->err), "%s", msg ? msg : sqlite3_errmsg(db(s)));
		sqlite3_free(msg);
		return rc == SQLITE_OK ? 0 : -1;
	}
	bool ordered = false;
	sqlite3_stmt *st = prepared(s, sql, &ordered);
	if (!st || bind(st, ordered, n, params))
		return st ? (done(s, st), fail(s)) : fail(s);
	int rc, ncol = sqlite3_column_count(st);
	ncol = ncol < CM_DB_MAX_COLS ? ncol : CM_DB_MAX_COLS;
	const char *vals[CM_DB_MAX_COLS];
	char num[CM_DB_MAX_COLS][32];
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		for (int i = 0; i < ncol; i++) {
			if (sqlite3_column_type(st, i) == SQLITE_FLOAT) { /* all 17 digits */
				snprintf(num[i], sizeof(num[i]), "%.17g", sqlite3_column_double(st, i));
				vals[i] = num[i];
			} else {
				vals[i] = (const char *)sqlite3_column_text(st, i);
			}
		}
		if (row && row(ctx, ncol, vals)) {
			rc = SQLITE_DONE;
			break;
		}
	}
	int err = rc == SQLITE_DONE ? 0 : fail(s);
	s->changed = sqlite3_changes(db(s));
	s->last_rowid = sqlite3_last_insert_rowid(db(s));
	done(s, st);
	return err;
}

/* A typed write (store.c's per-boot rows, the summary): numbers bound as numbers, the values
 * SQLite would have made of their %.17g text, without the printing and the parsing. */
int cm_db_sqlite_exec_typed(struct cm_store *s, const char *sql, int n, const struct cm_param *p)
{
	if (foreign(s))
		return -1;
	bool ordered = false;
	sqlite3_stmt *st = prepared(s, sql, &ordered);
	if (!st)
		return fail(s);
	int count = sqlite3_bind_parameter_count(st), rc = SQLITE_OK;
	for (int i = 0; i < n && rc == SQLITE_OK; i++) {
		int idx = i < count ? i + 1 : 0;
		if (!ordered) {
			char name[16];
			snprintf(name, sizeof(name), "$%d", i + 1);
			idx = sqlite3_bind_parameter_index(st, name);
		}
		if (!idx)
			continue;
		if (p[i].type == 'i')
			rc = sqlite3_bind_int64(st, idx, p[i].i);
		else if (p[i].type == 'd')
			rc = sqlite3_bind_double(st, idx, p[i].d);
		else if (p[i].type == 't' && p[i].text) /* static: stepped before the values go */
			rc = sqlite3_bind_text(st, idx, p[i].text, -1, SQLITE_STATIC);
	}
	while (rc == SQLITE_OK && (rc = sqlite3_step(st)) == SQLITE_ROW)
		rc = SQLITE_OK;
	int err = rc == SQLITE_DONE ? 0 : fail(s);
	s->changed = sqlite3_changes(db(s));
	s->last_rowid = sqlite3_last_insert_rowid(db(s));
	done(s, st);
	return err;
}

/* BEGIN IMMEDIATE takes the write lock first, so a body never meets BUSY halfway. */
/* BEGIN and COMMIT prepared once (the cache): a boot's transaction no longer parses them. */
static int step_cached(struct cm_store *s, const char *sql)
{
	if (foreign(s))
		return -1;
	bool ordered;
	sqlite3_stmt *st = prepared(s, sql, &ordered);
	if (!st)
		return fail(s);
	int rc = sqlite3_step(st) == SQLITE_DONE ? 0 : fail(s); /* the message before the reset */
	done(s, st);
	return rc;
}

static const char BEGIN_IMMEDIATE[] = "BEGIN IMMEDIATE", COMMIT[] = "COMMIT";

/* The pager's count of changes to the file (SQLITE_FCNTL_DATA_VERSION: this connection's
 * commits count too, unlike PRAGMA data_version; a call, not a statement) */
static int file_version(struct cm_store *s, unsigned *v)
{
	if (sqlite3_file_control(db(s), "main", SQLITE_FCNTL_DATA_VERSION, v) == SQLITE_OK)
		return 0;
	snprintf(s->err, sizeof(s->err), "the file's data version: %s", sqlite3_errmsg(db(s)));
	return -1;
}

/* The store's triggers, in name order, when they are coldmark's counting ones and no other. */
static const char TRIGGERS[] = "SELECT group_concat(sql, ';') FROM (SELECT sql FROM sqlite_master "
			       "WHERE type = 'trigger' ORDER BY name)";
static const char OWN_TRIGGERS[] = CM_SUMMARY_TRIGGERS_SQLITE;

static int same_text(void *ctx, int ncol, const char *const *vals)
{
	size_t n = sizeof(OWN_TRIGGERS) - 2; /* without the last ';' */
	*(bool *)ctx = vals[0] && strlen(vals[0]) == n && !memcmp(vals[0], OWN_TRIGGERS, n);
	return 1;
}

/* The samples' counting triggers count a row at a time: a trigger program a row, 7 a boot,
 * ~20% of a boot's transaction after qemu ran. While the store's triggers are coldmark's
 * three and no other, its connection runs none and counts its own inserts in one statement
 * (cm_store_count_added); any other trigger (a refusal, an audit) turns them all back on.
 * Looked at when the transaction begins and another connection has committed since the last
 * look (data_version: a trigger made or dropped is such a commit); under BEGIN IMMEDIATE no
 * one else commits until this transaction ends. Other connections run them as ever.
 * coldmark inserts into samples (store.c, copy.c, both counting) and never updates or deletes
 * a row there once the triggers exist (the dedup step of schema 5 runs before them): a write
 * that did would have to count itself as samples_updated/samples_deleted do. */
static int own_count(struct cm_store *s)
{
	struct stmt_cache *c = s->stmts;
	if (c->checked && c->seen == s->data_version)
		return 0;
	bool own = false;
	if (run(s, TRIGGERS, 0, NULL, same_text, &own))
		return -1;
	if (own != s->own_count &&
	    sqlite3_db_config(db(s), SQLITE_DBCONFIG_ENABLE_TRIGGER, own ? 0 : 1, (int *)NULL))
		return fail(s);
	s->own_count = own;
	c->checked = true;
	c->seen = s->data_version;
	return 0;
}

/* s->data_version, once a transaction (it does not change within one; the summary's cache
 * reads it too): the same number as long as no other connection has committed since this
 * one's last commit, a new one when one has (or when this connection wrote outside begin and
 * commit, rolled back, or cannot say). BEGIN IMMEDIATE has read the file's state (a commit
 * by anyone else since the last look counts), and no one else commits until it ends. The
 * file's count is read by a call, not by PRAGMA data_version: one statement less a boot,
 * ~4% of the store's CPU in a run (its step and the text made of its number, cold). */
static int begin(struct cm_store *s, bool migrate)
{
	(void)migrate;
	struct stmt_cache *c = s->stmts;
	if (step_cached(s, BEGIN_IMMEDIATE))
		return -1;
	unsigned v = 0;
	/* a library or VFS without the file control: taken as changed (the triggers looked at
	 * again, every transaction), not as an error */
	bool known = !file_version(s, &v);
	if (!known || !c->mine || v != c->after)
		c->epoch++;
	c->mine = false; /* until this transaction's own commit */
	s->data_version = c->epoch;
	if (!own_count(s))
		return 0;
	sqlite3_exec(db(s), "ROLLBACK", NULL, NULL, NULL);
	return -1;
}

static int commit(struct cm_store *s)
{
	struct stmt_cache *c = s->stmts;
	if (step_cached(s, COMMIT))
		return -1;
	c->mine = !file_version(s, &c->after);
	return 0;
}

static void rollback(struct cm_store *s)
{
	if (foreign(s))
		return;
	((struct stmt_cache *)s->stmts)->mine = false;
	sqlite3_exec(db(s), "ROLLBACK", NULL, NULL, NULL);
}

static bool retryable(struct cm_store *s)
{
	int rc = sqlite3_errcode(db(s));
	return rc == SQLITE_BUSY || rc == SQLITE_LOCKED;
}

static int one_int(void *ctx, int ncol, const char *const *vals)
{
	*(int *)ctx = vals[0] ? atoi(vals[0]) : -1;
	return 1;
}

static int version(struct cm_store *s)
{
	int v = -1;
	return run(s, "PRAGMA user_version", 0, NULL, one_int, &v) ? -1 : v;
}

static int set_version(struct cm_store *s, int v)
{
	/* a migration of this connection's (its own commit leaves data_version as it was): the
	 * triggers looked at again as the next transaction begins */
	((struct stmt_cache *)s->stmts)->checked = false;
	char sql[64];
	snprintf(sql, sizeof(sql), "PRAGMA user_version = %d", v);
	return run(s, sql, 0, NULL, NULL, NULL);
}

static bool has_table(struct cm_store *s, const char *name)
{
	int found = 0;
	const char *p[] = { name };
	run(s, "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = $1", 1, p, one_int,
	    &found);
	return found == 1;
}

static int64_t bytes(struct cm_store *s)
{
	int pages = 0, size = 0;
	run(s, "PRAGMA page_count", 0, NULL, one_int, &pages);
	run(s, "PRAGMA page_size", 0, NULL, one_int, &size);
	return (int64_t)pages * size;
}

static void close_db(struct cm_store *s)
{
	struct stmt_cache *c = s->stmts;
	for (int i = 0; c && i < NSTMTS; i++)
		if (c->st[i])
			sqlite3_finalize(c->st[i]);
	free(c);
	sqlite3_close(db(s));
}

static const struct cm_db_ops ops = {
	"SQLite", begin, commit, rollback, retryable, run, version, set_version,
	has_table, bytes, close_db,
};

int cm_db_sqlite_open(struct cm_store *s, const char *path, bool readonly, struct cm_error *err)
{
	sqlite3 *h = NULL;
	s->ops = &ops;
	struct stmt_cache *c = cm_xcalloc(1, sizeof(struct stmt_cache));
	c->owner = pthread_self();
	s->stmts = c;
	/* a reader's file is opened read-only: nothing it runs can change it. NOMUTEX: every
	 * connection coldmark opens (a run's store or journal.db, compare's, copy's and merge's
	 * two, explain's, the tests') is used by the thread that opened it alone (a wave's
	 * launcher threads, the journals' sync thread and perf's closer never touch a store:
	 * foreign() refuses it), so SQLite's serialized mode, a mutex taken by every API call
	 * (~420 a boot from the binds; ~8% of a boot's transaction), guards nothing. */
	int rc = sqlite3_open_v2(path, &h,
				 (readonly ? SQLITE_OPEN_READONLY
					   : SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE) |
					 SQLITE_OPEN_NOMUTEX,
				 NULL);
	s->db = h;
	if (rc != SQLITE_OK) {
		cm_error_set(err, CM_ERR(CM_EIO), "%s: %s", path, sqlite3_errmsg(h));
		return -1;
	}
	sqlite3_busy_timeout(h, 5000);
	/* f64hex(x): a REAL's IEEE-754 bits as 16 hex digits (NULL for NULL): the summary reads
	 * the times it recomputes from without printing and parsing each (summary.c) */
	sqlite3_create_function(h, "f64hex", 1, SQLITE_UTF8 | SQLITE_DETERMINISTIC, NULL, f64hex,
				NULL, NULL);
	struct stat sb;
	if (!stat(path, &sb) && S_ISDIR(sb.st_mode)) {
		cm_error_set(err, CM_ERR(CM_EIO), "%s: is a folder, not a database file", path);
		return -1;
	}
	/* WAL is the file's own setting, made by its writer: a reader leaves it */
	if (!readonly &&
	    run(s, "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;", 0, NULL, NULL, NULL)) {
		cm_error_set(err, CM_ERR(CM_EIO), "%s: %s", path, s->err);
		return -1;
	}
	return 0;
}
