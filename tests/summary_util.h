/* test_summary's plumbing: a fresh store per test (a file, or a schema of its own on the
 * PostgreSQL server), rows read over either backend, and coldmark run with its stdout and
 * stderr apart (raw SQL is th_store_exec, a process th_start_split, the hold of a store's
 * samples th_hold_target: helpers.h). Included by test_summary.c alone, after its includes
 * (cmocka, sqlite3, libpq, coldmark/store.h, helpers.h). */
#ifndef COLDMARK_TEST_SUMMARY_UTIL_H
#define COLDMARK_TEST_SUMMARY_UTIL_H

static const char *pg_base; /* COLDMARK_DB under --pg, NULL for SQLite */
static char tmp[64];

/* A fresh store for one test: a file, or a schema of its own on the server. */
static char *fresh(const char *name)
{
	return pg_base ? th_pg_schema(pg_base, name) : cm_xasprintf("%s/%s.db", tmp, name);
}

/* Every row of sql over target, each column as text ("" for NULL), to cb. */
static void each_row(const char *target, const char *sql, void (*cb)(void *, char **), void *ctx)
{
	if (!cm_store_is_url(target)) {
		sqlite3 *db;
		sqlite3_stmt *st;
		assert_int_equal(sqlite3_open(target, &db), SQLITE_OK);
		sqlite3_busy_timeout(db, 10000);
		if (sqlite3_prepare_v2(db, sql, -1, &st, NULL) != SQLITE_OK)
			fail_msg("%s: %s", sql, sqlite3_errmsg(db));
		int rc;
		while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
			char *v[16] = { 0 };
			for (int i = 0; i < sqlite3_column_count(st) && i < 16; i++)
				v[i] = (char *)(sqlite3_column_text(st, i) ? (const char *)sqlite3_column_text(st, i) : "");
			if (cb)
				cb(ctx, v);
		}
		if (rc != SQLITE_DONE)
			fail_msg("%s: %s", sql, sqlite3_errmsg(db));
		sqlite3_finalize(st);
		sqlite3_close(db);
		return;
	}
	PGconn *c = PQconnectdb(target);
	assert_int_equal(PQstatus(c), CONNECTION_OK);
	PGresult *r = PQexec(c, sql);
	if (PQresultStatus(r) != PGRES_COMMAND_OK && PQresultStatus(r) != PGRES_TUPLES_OK)
		fail_msg("%s: %s", sql, PQresultErrorMessage(r));
	for (int i = 0; cb && i < PQntuples(r); i++) {
		char *v[16] = { 0 };
		for (int k = 0; k < PQnfields(r) && k < 16; k++)
			v[k] = PQgetvalue(r, i, k);
		cb(ctx, v);
	}
	PQclear(r);
	PQfinish(c);
}

static void first(void *ctx, char **v)
{
	*(long long *)ctx = atoll(v[0]);
}

static long long scalar(const char *target, const char *sql)
{
	long long n = -1;
	each_row(target, sql, first, &n);
	return n;
}

/* `coldmark ARGS...`: its exit status, stdout in *out and stderr in *err (to free). */
static int coldmark(char **out, char **err, ...)
{
	char *argv[20] = { COLDMARK_BIN };
	va_list ap;
	va_start(ap, err);
	for (int i = 1; i < 19 && (argv[i] = va_arg(ap, char *)); i++)
		;
	va_end(ap);
	char *o = cm_xasprintf("%s/out.txt", tmp), *e = cm_xasprintf("%s/err.txt", tmp);
	int rc = th_finish(th_start_split(argv, o, e));
	*out = th_slurp(o);
	*err = th_slurp(e);
	free(o), free(e);
	return rc;
}

#endif
