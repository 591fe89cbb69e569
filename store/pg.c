/* The PostgreSQL backend, through libpq: the store many hosts write to at once. Each query
 * is prepared once per connection (named by its SQL text's address) and run with text
 * parameters; a boot is one transaction, so READ COMMITTED is all the isolation it needs.
 * A connection that is lost is not retried here: the run's local journal takes over. */
#include "driver.h"

#include <libpq-fe.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "coldmark/store.h"
#include "coldmark/util.h"

#define NSTMTS 32
#define MIGRATION_LOCK "7402417" /* pg_advisory_xact_lock key: one migrating writer at a time */

struct stmt_cache {
	const char *sql[NSTMTS];
	char state[6]; /* SQLSTATE of the last failed statement, for retryable() */
};

static PGconn *conn(struct cm_store *s)
{
	return s->db;
}

/* libpq's messages end in a newline and may run to several lines: the first says why. */
static int fail_msg(struct cm_store *s, const char *msg)
{
	snprintf(s->err, sizeof(s->err), "%s", msg && *msg ? msg : "PostgreSQL error");
	s->err[strcspn(s->err, "\n")] = 0;
	return -1;
}

static int check(struct cm_store *s, PGresult *res, bool rows)
{
	ExecStatusType st = PQresultStatus(res);
	if (st == PGRES_COMMAND_OK || st == PGRES_TUPLES_OK || (!rows && st == PGRES_EMPTY_QUERY))
		return 0;
	const char *state = PQresultErrorField(res, PG_DIAG_SQLSTATE);
	struct stmt_cache *c = s->stmts;
	snprintf(c->state, sizeof(c->state), "%s", state ? state : "");
	return fail_msg(s, PQresultErrorMessage(res)[0] ? PQresultErrorMessage(res)
							: PQerrorMessage(conn(s)));
}

/* The statement's name in this connection: "cm<slot>", prepared on first use. */
static int prepared(struct cm_store *s, const char *sql, int n, char *name, size_t namesz)
{
	struct stmt_cache *c = s->stmts;
	for (int i = 0; i < NSTMTS; i++) {
		if (c->sql[i] == sql) {
			snprintf(name, namesz, "cm%d", i);
			return 0;
		}
		if (!c->sql[i]) {
			snprintf(name, namesz, "cm%d", i);
			PGresult *res = PQprepare(conn(s), name, sql, n, NULL);
			int rc = check(s, res, false);
			PQclear(res);
			if (!rc)
				c->sql[i] = sql;
			return rc;
		}
	}
	name[0] = 0; /* cache full: run unprepared */
	return 0;
}

static int run(struct cm_store *s, const char *sql, int n, const char *const *params,
	       cm_db_row_fn row, void *ctx)
{
	PGresult *res;
	char name[16];
	((struct stmt_cache *)s->stmts)->state[0] = 0;
	if (!n && !row) {
		res = PQexec(conn(s), sql); /* migrations: several statements */
	} else {
		if (prepared(s, sql, n, name, sizeof(name)))
			return -1;
		res = name[0] ? PQexecPrepared(conn(s), name, n, params, NULL, NULL, 0)
			      : PQexecParams(conn(s), sql, n, NULL, params, NULL, NULL, 0);
	}
	int rc = check(s, res, row != NULL);
	if (!rc && row && PQresultStatus(res) == PGRES_TUPLES_OK) {
		int ncol = PQnfields(res) < CM_DB_MAX_COLS ? PQnfields(res) : CM_DB_MAX_COLS;
		int nrow = PQntuples(res);
		const char *vals[CM_DB_MAX_COLS];
		for (int r = 0; r < nrow; r++) {
			for (int i = 0; i < ncol; i++)
				vals[i] = PQgetisnull(res, r, i) ? NULL : PQgetvalue(res, r, i);
			if (row(ctx, ncol, vals))
				break;
		}
	}
	PQclear(res);
	return rc;
}

static int begin(struct cm_store *s, bool migrate)
{
	return run(s, migrate ? "BEGIN; SELECT pg_advisory_xact_lock(" MIGRATION_LOCK ")" : "BEGIN",
		   0, NULL, NULL, NULL);
}

static int commit(struct cm_store *s)
{
	return run(s, "COMMIT", 0, NULL, NULL, NULL);
}

static void rollback(struct cm_store *s)
{
	char keep[sizeof(s->err)];
	memcpy(keep, s->err, sizeof(keep)); /* the reason is the failure before, not this */
	PGresult *res = PQexec(conn(s), "ROLLBACK");
	PQclear(res);
	memcpy(s->err, keep, sizeof(keep));
}

/* serialization_failure, deadlock_detected, lock_not_available: another writer's doing */
static bool retryable(struct cm_store *s)
{
	const char *last_state = ((struct stmt_cache *)s->stmts)->state;
	return PQstatus(conn(s)) == CONNECTION_OK &&
	       (!strcmp(last_state, "40001") || !strcmp(last_state, "40P01") ||
		!strcmp(last_state, "55P03"));
}

static int one_int(void *ctx, int ncol, const char *const *vals)
{
	*(long long *)ctx = vals[0] ? atoll(vals[0]) : -1;
	return 1;
}

static bool has_table(struct cm_store *s, const char *name)
{
	long long found = 0;
	const char *p[] = { name };
	run(s, "SELECT 1 FROM information_schema.tables WHERE table_schema = current_schema() "
	       "AND table_name = $1", 1, p, one_int, &found);
	return found == 1;
}

/* The version is a one-row table of its own (SQLite's is PRAGMA user_version). */
static int version(struct cm_store *s)
{
	if (!has_table(s, "coldmark_schema"))
		return 0;
	long long v = -1;
	return run(s, "SELECT version FROM coldmark_schema", 0, NULL, one_int, &v) ? -1 : (int)v;
}

static int set_version(struct cm_store *s, int v)
{
	char sql[160];
	snprintf(sql, sizeof(sql), "CREATE TABLE IF NOT EXISTS coldmark_schema (version INTEGER NOT NULL);"
		 "DELETE FROM coldmark_schema; INSERT INTO coldmark_schema VALUES (%d);", v);
	return run(s, sql, 0, NULL, NULL, NULL);
}

static int64_t bytes(struct cm_store *s)
{
	long long b = -1;
	run(s, "SELECT COALESCE(SUM(pg_total_relation_size(c.oid)), 0)::bigint FROM pg_class c "
	       "JOIN pg_namespace n ON n.oid = c.relnamespace WHERE n.nspname = current_schema() "
	       "AND c.relkind = 'r' AND c.relname IN ('runs', 'run_meta', 'cases', 'samples', "
	       "'calibration', 'coldmark_schema')", 0, NULL, one_int, &b);
	return b;
}

static void close_db(struct cm_store *s)
{
	free(s->stmts);
	PQfinish(conn(s));
}

static const struct cm_db_ops ops = {
	"PostgreSQL", begin, commit, rollback, retryable, run, version, set_version,
	has_table, bytes, close_db,
};

/* The notices of a migration ("relation already exists, skipping") are not for people. */
static void quiet(void *arg, const char *msg)
{
}

int cm_db_pg_open(struct cm_store *s, const char *url, char *err, size_t errsz)
{
	s->ops = &ops;
	s->pg = true;
	s->stmts = cm_xcalloc(1, sizeof(struct stmt_cache));
	/* connect_timeout: an unreachable server is known in seconds, and the run journals */
	const char *keys[] = { "connect_timeout", "application_name", "dbname", NULL };
	const char *vals[] = { "10", "coldmark", url, NULL }; /* the URL's own settings win */
	PGconn *c = PQconnectdbParams(keys, vals, 1);
	s->db = c;
	if (!c || PQstatus(c) != CONNECTION_OK) {
		char redacted[512];
		cm_store_redact(url, redacted, sizeof(redacted));
		snprintf(err, errsz, "%s: %s", redacted, c ? PQerrorMessage(c) : "out of memory");
		err[strcspn(err, "\n")] = 0;
		return -1;
	}
	PQsetNoticeProcessor(c, quiet, NULL);
	return 0;
}

bool cm_store_url_valid(const char *url, char *err, size_t errsz)
{
	char *msg = NULL;
	PQconninfoOption *o = PQconninfoParse(url, &msg);
	if (!o) {
		char shown[512];
		cm_store_redact(url, shown, sizeof(shown));
		snprintf(err, errsz, "%s: %s", shown, msg ? msg : "not a connection URL");
		err[strcspn(err, "\n")] = 0;
	}
	PQfreemem(msg);
	PQconninfoFree(o);
	return o != NULL;
}
