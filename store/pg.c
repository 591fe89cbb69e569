/* The PostgreSQL backend, through libpq: the store many hosts write to at once. Each query
 * is prepared once per connection (named by its SQL text's address) and run with text
 * parameters; a boot is one transaction, so READ COMMITTED is all the isolation it needs.
 * Nothing waits on the network: every statement has a deadline (the server's statement and
 * lock timeouts, and coldmark's own wait for the answer, which a stopped backend cannot
 * stretch); a connection that is gone or does not answer in time is "lost" (s->lost), which
 * the run tells apart from the server's refusal. A lost connection is not retried here: the
 * run's local journal takes over. */
#include "driver.h"

#include <ctype.h>
#include <libpq-fe.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "coldmark/store.h"
#include "coldmark/util.h"

#define NSTMTS 32
#define MIGRATION_LOCK "7402417" /* pg_advisory_xact_lock key: one migrating writer at a time */
#define DEFAULT_TIMEOUT_MS 5000
#define MIGRATION_FACTOR 60	 /* a migration may rewrite a large store: its own deadline */

struct stmt_cache {
	const char *sql[NSTMTS];
	char state[6];	 /* SQLSTATE of the last failed statement, for retryable() */
	int64_t timeout_ms; /* COLDMARK_DB_TIMEOUT: statement, lock and answer timeouts */
	bool migrating;	 /* in a migration's transaction: MIGRATION_FACTOR times longer */
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

/* Gone (libpq's CONNECTION_BAD, SQLSTATE class 08, the server shutting down: 57P0x) or
 * stalled (our statement or lock timeout ran out: 57014, 55P03) rather than refused. */
static bool lost_state(PGconn *c, const char *state)
{
	return PQstatus(c) != CONNECTION_OK || !strncmp(state, "08", 2) ||
	       !strncmp(state, "57P0", 4) || !strcmp(state, "57014") || !strcmp(state, "55P03");
}

static int check(struct cm_store *s, PGresult *res, bool rows)
{
	ExecStatusType st = PQresultStatus(res);
	if (st == PGRES_COMMAND_OK || st == PGRES_TUPLES_OK || (!rows && st == PGRES_EMPTY_QUERY))
		return 0;
	const char *state = PQresultErrorField(res, PG_DIAG_SQLSTATE);
	struct stmt_cache *c = s->stmts;
	snprintf(c->state, sizeof(c->state), "%s", state ? state : "");
	s->lost = lost_state(conn(s), c->state);
	/* the server's own words ("permission denied for table runs"), without "ERROR:  " */
	const char *primary = PQresultErrorField(res, PG_DIAG_MESSAGE_PRIMARY);
	return fail_msg(s, primary ? primary : PQresultErrorMessage(res)[0] ? PQresultErrorMessage(res)
									  : PQerrorMessage(conn(s)));
}

/* The connection given up: closed at once (a stopped backend is never waited for again). */
static PGresult *give_up(struct cm_store *s, const char *why)
{
	char msg[160];
	snprintf(msg, sizeof(msg), "%s", why);
	PQfinish(conn(s));
	s->db = NULL;
	s->lost = true;
	fail_msg(s, msg);
	return NULL;
}

static int64_t limit_ms(struct cm_store *s)
{
	struct stmt_cache *c = s->stmts;
	return c->timeout_ms * (c->migrating ? MIGRATION_FACTOR : 1);
}

/* The answer to what was just sent, within the deadline (the server's own timeouts plus a
 * second): every result in turn, the first error or else the last one kept, as PQexec does.
 * NULL when the connection was given up (s->err says why). */
static PGresult *answer(struct cm_store *s, bool sent)
{
	PGconn *c = conn(s);
	if (!sent)
		return give_up(s, PQerrorMessage(c));
	int64_t deadline = cm_now_ns() + (limit_ms(s) + 1000) * 1000000LL;
	PGresult *keep = NULL, *r;
	for (;;) {
		int flushed = PQflush(c);
		if (flushed < 0 || !PQconsumeInput(c))
			break;
		if (!flushed && !PQisBusy(c)) {
			if (!(r = PQgetResult(c)))
				return keep ? keep : give_up(s, "no answer from the server");
			if (keep && PQresultStatus(keep) == PGRES_FATAL_ERROR)
				PQclear(r);
			else
				PQclear(keep), keep = r;
			continue;
		}
		int64_t left = (deadline - cm_now_ns()) / 1000000;
		if (left <= 0) {
			PQclear(keep);
			char why[128];
			snprintf(why, sizeof(why), "no answer from the server in %.1f s (stalled or "
				 "stopped)", (double)(limit_ms(s) + 1000) / 1000);
			return give_up(s, why);
		}
		struct pollfd p = { PQsocket(c), POLLIN | (flushed ? POLLOUT : 0), 0 };
		poll(&p, 1, left > 1000 ? 1000 : (int)left);
	}
	PQclear(keep);
	char why[sizeof(s->err)];
	snprintf(why, sizeof(why), "%s", PQerrorMessage(c));
	return give_up(s, why);
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
			PGresult *res = answer(s, PQsendPrepare(conn(s), name, sql, n, NULL));
			int rc = res ? check(s, res, false) : -1;
			PQclear(res);
			if (!rc)
				c->sql[i] = sql;
			return rc;
		}
	}
	name[0] = 0; /* cache full: run unprepared */
	return 0;
}

/* A result's rows to row (until it returns nonzero: then true). Every 256 rows whatever
 * the server has sent meanwhile is taken in, so that it goes on with the next statement of
 * a pipeline instead of waiting for its socket to drain. */
static bool deliver(struct cm_store *s, PGresult *res, cm_db_row_fn row, void *ctx)
{
	if (PQresultStatus(res) != PGRES_TUPLES_OK)
		return false;
	int ncol = PQnfields(res) < CM_DB_MAX_COLS ? PQnfields(res) : CM_DB_MAX_COLS;
	int nrow = PQntuples(res);
	const char *vals[CM_DB_MAX_COLS];
	for (int r = 0; r < nrow; r++) {
		for (int i = 0; i < ncol; i++)
			vals[i] = PQgetisnull(res, r, i) ? NULL : PQgetvalue(res, r, i);
		if (row(ctx, ncol, vals))
			return true;
		if (!(r & 255) && PQpipelineStatus(conn(s)) == PQ_PIPELINE_ON)
			PQconsumeInput(conn(s));
	}
	return false;
}

static int run(struct cm_store *s, const char *sql, int n, const char *const *params,
	       cm_db_row_fn row, void *ctx)
{
	PGresult *res;
	char name[16];
	((struct stmt_cache *)s->stmts)->state[0] = 0;
	s->lost = false;
	if (!conn(s)) {
		s->lost = true; /* given up before: the reason said then stays in s->err */
		return -1;
	}
	if (!n && !row) {
		res = answer(s, PQsendQuery(conn(s), sql)); /* migrations: several statements */
	} else {
		if (prepared(s, sql, n, name, sizeof(name)))
			return -1;
		res = answer(s, name[0] ? PQsendQueryPrepared(conn(s), name, n, params, NULL, NULL, 0)
				  : PQsendQueryParams(conn(s), sql, n, NULL, params, NULL, NULL, 0));
	}
	if (!res)
		return -1;
	int rc = check(s, res, row != NULL);
	s->changed = rc ? 0 : atoll(PQcmdTuples(res));
	if (!rc && row)
		deliver(s, res, row, ctx);
	PQclear(res);
	return rc;
}

/* The same statement for nsets parameter sets in one pipeline (libpq's pipeline mode), WINDOW
 * sets ahead of the one whose rows go to row: the server runs the next sets while this one's
 * rows are read (a compare of a tag's 100 runs: no round trip and no idle server between
 * runs), and what it has sent waits in libpq's buffer, at most WINDOW answers of it (libpq
 * moves that backlog to the buffer's start each time it reads more: all the sets at once
 * would cost a copy of every later answer for each one). The first failure is the answer. */
#define WINDOW 2
static int run_sets(struct cm_store *s, const char *sql, int n, size_t nsets,
		    const char *const *params, cm_db_row_fn row, void *ctx)
{
	char name[16];
	((struct stmt_cache *)s->stmts)->state[0] = 0;
	s->lost = !conn(s);
	if (!conn(s) || prepared(s, sql, n, name, sizeof(name)))
		return -1;
	PGconn *c = conn(s);
	if (!nsets)
		return 0;
	if (!name[0] || !PQenterPipelineMode(c)) { /* unprepared: one statement at a time */
		int rc = 0;
		for (size_t k = 0; !rc && k < nsets; k++)
			rc = run(s, sql, n, params + k * (size_t)n, row, ctx);
		return rc;
	}
	int rc = 0;
	bool stop = false;
	size_t sent = 0;
	for (size_t k = 0; k <= nsets; k++) { /* each set's answer, then the sync's */
		for (; sent < nsets && sent <= k + WINDOW; sent++)
			if (!PQsendQueryPrepared(c, name, n, params + sent * (size_t)n, NULL, NULL, 0) ||
			    (sent + 1 < nsets ? !PQsendFlushRequest(c) : !PQpipelineSync(c))) {
				give_up(s, PQerrorMessage(c));
				return -1;
			}
		PGresult *res = answer(s, true);
		if (!res)
			return -1; /* given up: the connection is closed */
		ExecStatusType st = PQresultStatus(res);
		if (k < nsets && !rc && st != PGRES_PIPELINE_ABORTED) {
			rc = check(s, res, true);
			if (!rc && !stop)
				stop = deliver(s, res, row, ctx);
		}
		PQclear(res);
	}
	if (!PQexitPipelineMode(c))
		return rc ? rc : fail_msg(s, PQerrorMessage(c));
	return rc;
}

/* A migration waits for another opener's (the advisory lock) and may rewrite a large store:
 * its transaction has MIGRATION_FACTOR times the deadlines of a boot's. */
static int begin(struct cm_store *s, bool migrate)
{
	struct stmt_cache *c = s->stmts;
	if (!migrate)
		return run(s, "BEGIN", 0, NULL, NULL, NULL);
	char sql[200];
	long long ms = (long long)c->timeout_ms * MIGRATION_FACTOR;
	snprintf(sql, sizeof(sql), "BEGIN; SET LOCAL statement_timeout = %lld; SET LOCAL "
		 "lock_timeout = %lld; SELECT pg_advisory_xact_lock(" MIGRATION_LOCK ")", ms, ms);
	c->migrating = true;
	int rc = run(s, sql, 0, NULL, NULL, NULL);
	if (rc)
		c->migrating = false;
	return rc;
}

static int commit(struct cm_store *s)
{
	int rc = run(s, "COMMIT", 0, NULL, NULL, NULL);
	((struct stmt_cache *)s->stmts)->migrating = false;
	return rc;
}

static void rollback(struct cm_store *s)
{
	char keep[sizeof(s->err)];
	bool lost = s->lost;
	memcpy(keep, s->err, sizeof(keep)); /* the reason is the failure before, not this */
	if (conn(s) && PQtransactionStatus(conn(s)) != PQTRANS_IDLE)
		run(s, "ROLLBACK", 0, NULL, NULL, NULL);
	((struct stmt_cache *)s->stmts)->migrating = false;
	memcpy(s->err, keep, sizeof(keep));
	s->lost = lost || !conn(s);
}

/* serialization_failure, deadlock_detected: another writer's doing, over in an instant (a
 * lock_not_available is our lock timeout: a stall, so lost, never waited for again) */
static bool retryable(struct cm_store *s)
{
	const char *last_state = ((struct stmt_cache *)s->stmts)->state;
	return conn(s) && PQstatus(conn(s)) == CONNECTION_OK &&
	       (!strcmp(last_state, "40001") || !strcmp(last_state, "40P01"));
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
	has_table, bytes, close_db, run_sets,
};

/* The notices of a migration ("relation already exists, skipping") are not for people. */
static void quiet(void *arg, const char *msg)
{
}

/* COLDMARK_DB_TIMEOUT ("5s", "2500ms"; default 5 s): how long a statement, a lock wait and
 * the answer may take, and connect_timeout. -1 when it is not a duration. */
static int64_t timeout_ms(void)
{
	const char *v = getenv("COLDMARK_DB_TIMEOUT");
	int64_t ms = DEFAULT_TIMEOUT_MS;
	if (v && *v && (cm_parse_duration_ms(v, &ms) || ms < 1 || ms > 86400000))
		return -1;
	return ms;
}

/* The URL with its scheme in lower case (libpq knows "postgresql://" only so). */
static char *lower_scheme(const char *url)
{
	char *u = cm_xstrdup(url), *sep = strstr(u, "://");
	for (char *p = u; sep && p < sep; p++)
		*p = (char)tolower((unsigned char)*p);
	return u;
}

/* err: the URL and why, its secrets hidden (libpq quotes pieces of a malformed password). */
static void say_url(const char *url, const char *why, struct cm_error *err)
{
	char *shown = cm_redact(url), *reason = cm_redact_msg(why, url);
	cm_error_set(err, CM_ERR(CM_EIO), "%s: %s", shown, reason);
	err->msg[strcspn(err->msg, "\n")] = 0;
	free(shown);
	free(reason);
}

int cm_db_pg_open(struct cm_store *s, const char *url, struct cm_error *err)
{
	s->ops = &ops;
	s->pg = true;
	struct stmt_cache *sc = s->stmts = cm_xcalloc(1, sizeof(struct stmt_cache));
	if ((sc->timeout_ms = timeout_ms()) < 0) {
		cm_error_set(err, CM_ERR(CM_EIO), "COLDMARK_DB_TIMEOUT '%s' is not a duration (\"5s\", \"2500ms\")",
			 getenv("COLDMARK_DB_TIMEOUT"));
		return -1;
	}
	/* connect_timeout: an unreachable or stopped server is known in seconds (libpq's least
	 * is 2), and the run journals */
	char secs[24], *u = lower_scheme(url);
	snprintf(secs, sizeof(secs), "%lld", (long long)(sc->timeout_ms + 999) / 1000);
	const char *keys[] = { "connect_timeout", "application_name", "dbname", NULL };
	const char *vals[] = { secs, "coldmark", u, NULL }; /* the URL's own settings win */
	PGconn *c = PQconnectdbParams(keys, vals, 1);
	s->db = c;
	if (!c || PQstatus(c) != CONNECTION_OK) {
		/* A server that answered and said no (wrong password, no such role or database) refuses
		 * the run; one that did not answer, or is starting or stopping, is out of reach. libpq
		 * keeps a startup error's SQLSTATE to itself, but its ping tells the two apart without
		 * reading localised text: PQPING_OK is any answer but "cannot connect now". */
		s->lost = !c || PQpingParams(keys, vals, 1) != PQPING_OK;
		free(u);
		say_url(url, c ? PQerrorMessage(c) : "out of memory", err);
		return -1;
	}
	free(u);
	PQsetNoticeProcessor(c, quiet, NULL);
	PQsetnonblocking(c, 1);
	char sql[120];
	snprintf(sql, sizeof(sql), "SET statement_timeout = %lld; SET lock_timeout = %lld",
		 (long long)sc->timeout_ms, (long long)sc->timeout_ms);
	if (run(s, sql, 0, NULL, NULL, NULL)) {
		say_url(url, s->err, err);
		return -1;
	}
	return 0;
}

bool cm_store_url_valid(const char *url, struct cm_error *err)
{
	char *msg = NULL, *u = lower_scheme(url);
	PQconninfoOption *o = PQconninfoParse(u, &msg);
	free(u);
	if (!o)
		say_url(url, msg ? msg : "not a connection URL", err);
	PQfreemem(msg);
	PQconninfoFree(o);
	return o != NULL;
}
