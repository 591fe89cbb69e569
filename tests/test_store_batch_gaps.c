/* The store a batch at a time (issue 25 item 6) where test_store_batch does not reach:
 *   waves: a run in waves of three (run.concurrency) whose store refuses a batch mid-run, not
 *     its first: exit 4 naming the batch's boots; every boot that ended, the refused wave's
 *     later slots too, is in samples.csv and events.csv; the store holds each boot before the
 *     batch; --resume then leaves the store with every planned boot exactly once, the keys of
 *     samples.csv, and the waves numbered on, never one number for two waves.
 *   pg: a server-backed run (--db postgresql://...: journal.db in the run folder, the server's
 *     shared store) killed with SIGKILL before its first batch reached the server, and killed
 *     between two batches; then --resume: the server and journal.db each hold every planned
 *     boot exactly once, the keys of samples.csv, and their session summaries are the raw
 *     samples' (row for row, and trusted: they count every raw row); and the waves test
 *     with the server's shared store refusing the batch (journal.db takes every boot).
 * Real coldmark processes, a real SQLite file and a real PostgreSQL 15 server (CTest runs the
 * pg group under scripts/slurm-local.sh run --pg-only; without COLDMARK_DB naming a server
 * it exits 77). "qemu" is a bash script that sleeps, then writes the bundled guest's three
 * markers to its debugcon socket: its boots are ok and measured, a few ms each. */
#define _GNU_SOURCE
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <libpq-fe.h>
#include <math.h>
#include <signal.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "coldmark/store.h"
#include "coldmark/util.h"
#include "helpers.h"

static char tmp[256];
static const char *pg_base; /* COLDMARK_DB: the pg group's server */

/* ---- the run's pieces ---------------------------------------------------------------------- */

/* A qemu that sleeps secs, then sends the bundled guest's markers (0x10, 0x20, 0x30, one
 * message each) on the debugcon socket coldmark gives it (-chardev socket,id=cmdbg0,fd=N),
 * and exits 0. */
static char *fake_qemu(const char *name, const char *secs)
{
	char *path = cm_xasprintf("%s/%s.sh", tmp, name);
	char *text = cm_xasprintf("#!/bin/bash\nfor a; do case $a in *id=cmdbg0,fd=*) "
				  "fd=${a##*fd=} ;; esac; done\nsleep %s\nprintf '\\020' >&$fd\n"
				  "printf '\\040' >&$fd\nprintf '\\060' >&$fd\n", secs);
	th_write(path, text, 0755);
	free(text);
	return path;
}

/* BOOTS boots of qemu q, one case ("default"), no warm-up; extra: more run keys */
static char *matrix(const char *name, const char *q, int boots, const char *extra)
{
	char *yaml = cm_xasprintf("qemu: %s\nguest: {bundled: guest}\nrun: {boots: %d, warmup: 0, "
				  "drop_caches: false, reference: none, exit_status: 0%s}\n",
				  q, boots, extra);
	char *m = th_write_matrix(tmp, name, yaml);
	free(yaml);
	return m;
}

/* coldmark's output holds no sanitizer report (the asan build) */
static void clean(const char *what, const char *out)
{
	if (strstr(out, "Sanitizer") || strstr(out, "runtime error:"))
		fail_msg("%s: %s", what, out);
}

/* The run's id, from its folder's meta.csv ("run,ID") (to free). */
static char *run_id_of(const char *dir)
{
	char *p = cm_xasprintf("%s/meta.csv", dir), *text = th_slurp(p), *at = strstr(text, "\nrun,");
	if (!at)
		fail_msg("%s: no run id", p);
	char *id = strndup(at + 5, strcspn(at + 5, "\r\n"));
	free(p), free(text);
	return id;
}

static int by_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

static int by_int(const void *a, const void *b)
{
	int x = *(const int *)a, y = *(const int *)b;
	return (x > y) - (x < y);
}

/* A sorted list of keys, as samples.csv or a store holds a run's rows. */
struct keys {
	char **v;
	size_t n, cap;
};

static void keys_add(struct keys *k, char *key)
{
	CM_PUSH(k->v, k->n, k->cap);
	k->v[k->n++] = key;
}

static void keys_free(struct keys *k)
{
	for (size_t i = 0; i < k->n; i++)
		free(k->v[i]);
	free(k->v);
	memset(k, 0, sizeof(*k));
}

/* The column named name in a CSV header (no quoted fields: this file's cases have none). */
static int column(const char *header, const char *name)
{
	int i = 0;
	for (const char *p = header;; i++) {
		size_t len = strcspn(p, ",\n");
		if (len == strlen(name) && !strncmp(p, name, len))
			return i;
		if (p[len] != ',')
			fail_msg("no column %s in '%.*s'", name, (int)strcspn(header, "\n"), header);
		p += len + 1;
	}
}

/* Each row of dir/file as "case|session|boot|warmup|phase" (samples.csv) or
 * "case|boot|warmup" (events.csv: a boot's key), sorted. */
static struct keys journal_keys(const char *dir, const char *file)
{
	char *path = cm_xasprintf("%s/%s", dir, file), *text = th_slurp(path);
	bool samples = !strcmp(file, "samples.csv");
	const char *names[] = { "case", "session", "boot", "warmup", "phase" };
	int col[5], nc = 0;
	for (int i = 0; i < 5; i++)
		if (samples || (i != 1 && i != 4))
			col[nc++] = column(text, names[i]);
	struct keys k = { 0 };
	for (char *line = strchr(text, '\n'); line && line[1]; line = strchr(line + 1, '\n')) {
		const char *f[16] = { 0 };
		size_t len[16] = { 0 }, nf = 0;
		for (const char *p = line + 1; nf < 16; p += len[nf++] + 1) {
			f[nf] = p;
			len[nf] = strcspn(p, ",\n");
			if (p[len[nf]] != ',') {
				nf++;
				break;
			}
		}
		struct cm_buf b = { 0 };
		for (int i = 0; i < nc; i++)
			cm_buf_printf(&b, "%s%.*s", i ? "|" : "", (int)len[col[i]], f[col[i]]);
		keys_add(&k, b.s);
	}
	if (k.n)
		qsort(k.v, k.n, sizeof(char *), by_str);
	free(path), free(text);
	return k;
}

/* The run's rows in the store at target (a SQLite file or a PostgreSQL URL), keyed as
 * samples.csv's are, sorted; every row, so that a duplicate shows. */
static struct keys store_keys(const char *target, const char *run_id)
{
	char *sql = cm_xasprintf("SELECT case_id || '|' || session || '|' || boot || '|' || warmup "
				 "|| '|' || phase FROM samples WHERE run_id = '%s'", run_id);
	struct keys k = { 0 };
	if (cm_store_is_url(target)) {
		PGconn *c = th_pg_connect(target);
		PGresult *r = PQexec(c, sql);
		if (PQresultStatus(r) != PGRES_TUPLES_OK)
			fail_msg("%s: %s", sql, PQresultErrorMessage(r));
		for (int i = 0; i < PQntuples(r); i++)
			keys_add(&k, cm_xstrdup(PQgetvalue(r, i, 0)));
		PQclear(r);
		PQfinish(c);
	} else {
		sqlite3 *db;
		sqlite3_stmt *st;
		assert_int_equal(sqlite3_open(target, &db), SQLITE_OK);
		if (sqlite3_prepare_v2(db, sql, -1, &st, NULL) != SQLITE_OK)
			fail_msg("%s: %s", sql, sqlite3_errmsg(db));
		while (sqlite3_step(st) == SQLITE_ROW)
			keys_add(&k, cm_xstrdup((const char *)sqlite3_column_text(st, 0)));
		sqlite3_finalize(st);
		sqlite3_close(db);
	}
	if (k.n)
		qsort(k.v, k.n, sizeof(char *), by_str);
	free(sql);
	return k;
}

/* Distinct values of key field `field` (0-based, '|'-separated) that are whole numbers: the
 * boots of a list; and, what named (a list of rows: not events.csv's), that no key is there
 * twice. */
static size_t distinct_boots(const struct keys *k, int field, const char *what)
{
	size_t n = 0;
	int last = -1;
	int *seen = cm_xcalloc(k->n + 1, sizeof(int));
	for (size_t i = 0; i < k->n; i++) {
		if (what && i && !strcmp(k->v[i], k->v[i - 1]))
			fail_msg("%s: the row %s twice", what, k->v[i]);
		const char *p = k->v[i];
		for (int f = 0; f < field; f++)
			p = strchr(p, '|') + 1;
		seen[i] = atoi(p);
	}
	qsort(seen, k->n, sizeof(int), by_int);
	for (size_t i = 0; i < k->n; i++)
		n += seen[i] != last, last = seen[i];
	free(seen);
	return n;
}

/* Two key lists alike, or the first difference said. */
static void same_keys(const char *what, const struct keys *a, const struct keys *b)
{
	for (size_t i = 0; i < a->n && i < b->n; i++)
		if (strcmp(a->v[i], b->v[i]))
			fail_msg("%s: row %zu: '%s' against '%s' (%zu and %zu rows)", what, i,
				 a->v[i], b->v[i], a->n, b->n);
	if (a->n != b->n)
		fail_msg("%s: %zu rows against %zu", what, a->n, b->n);
}

/* ---- waves: a batch refused mid-run --------------------------------------------------------- */


/* The run's session summary in the store at target: trusted (it counts every raw row) and
 * giving the raw samples' dataset row for row. */
static void summary_is_raw(const char *what, const char *target, const char *run_id)
{
	struct cm_error err = { 0 };
	struct cm_store *s = cm_store_open_existing(target, &err);
	if (!s)
		fail_msg("%s: %s", what, err.msg);
	struct cm_dataset raw, sum;
	struct cm_store_read how;
	assert_int_equal(cm_store_load(s, run_id, &raw), 0);
	assert_int_equal(cm_store_load_summary(s, run_id, NULL, false, &sum, &how), 0);
	if (!how.summary)
		fail_msg("%s: the summary not used (it counts %lld of %lld raw rows)", what,
			 how.summary_rows, how.raw_rows);
	if (raw.n != sum.n)
		fail_msg("%s: the summary gives %zu rows, the raw samples %zu", what, sum.n, raw.n);
	char **a = th_dataset_lines(&raw), **b = th_dataset_lines(&sum);
	for (size_t i = 0; i < raw.n; i++) {
		if (strcmp(a[i], b[i]))
			fail_msg("%s: raw '%s' but summary '%s'", what, a[i], b[i]);
		free(a[i]), free(b[i]);
	}
	free(a), free(b);
	cm_dataset_free(&raw), cm_dataset_free(&sum);
	cm_store_close(s);
}

/* One integer from sql over target (a SQLite file or a PostgreSQL URL). */
static long long value_in(const char *target, const char *sql)
{
	return cm_store_is_url(target) ? th_pg_scalar(target, sql, NULL)
				       : th_sqlite_value(target, sql);
}

/* The run's session summary in the store at target against its raw samples, by counts (a
 * run in waves is read raw, so its summary is not loaded; it is kept all the same): one row
 * per case, session and phase of the raw rows, each counting that key's raw rows (n_rows)
 * and its measured ones (n). */
static void summary_counts(const char *what, const char *target, const char *run_id)
{
	char *sql = cm_xasprintf(
		"SELECT COUNT(*) FROM session_summary s WHERE s.run_id = '%s' AND (s.n_rows <> "
		"(SELECT COUNT(*) FROM samples r WHERE r.run_id = s.run_id AND r.case_id = s.case_id "
		"AND r.session = s.session AND r.phase = s.phase) OR s.n <> (SELECT COUNT(*) FROM "
		"samples r WHERE r.run_id = s.run_id AND r.case_id = s.case_id AND r.session = "
		"s.session AND r.phase = s.phase AND r.status = 'ok' AND r.warmup = 0 AND "
		"r.duration_ns IS NOT NULL))", run_id);
	long long wrong = value_in(target, sql);
	free(sql);
	sql = cm_xasprintf("SELECT COUNT(*) FROM session_summary WHERE run_id = '%s'", run_id);
	long long rows = value_in(target, sql);
	free(sql);
	sql = cm_xasprintf("SELECT COUNT(*) FROM (SELECT DISTINCT case_id, session, phase FROM "
			   "samples WHERE run_id = '%s') k", run_id);
	long long keys = value_in(target, sql);
	free(sql);
	if (wrong || rows != keys || !rows)
		fail_msg("%s: the session summary has %lld rows for %lld keys of the raw samples, "
			 "%lld of them counting other rows than the raw samples'", what, rows, keys,
			 wrong);
}

/* The refused batch's first and last boot from coldmark's message, where after ("did not take
 * " for the store, "refused " for a server's shared store) is followed by "4 boots (default
 * boot 5 the first, default boot 8 the last, ..." or "default boot 7 (". */
static void refused_boots(const char *out, const char *after, int *first, int *last)
{
	size_t n;
	for (const char *p = out; (p = strstr(p, after)); p++) {
		if (sscanf(p + strlen(after), "%zu boots (default boot %d the first, default boot "
			   "%d the last", &n, first, last) == 3)
			return;
		if (sscanf(p + strlen(after), "default boot %d (", first) == 1) {
			*last = *first;
			return;
		}
	}
	fail_msg("the refused batch not named after \"%s\": %s", after, out);
}

/* 15 boots of 0.2 s in waves of three into target (a SQLite file; or a server, the run's
 * store then journal.db in its folder), batches every 50 ms: a batch at each wave's first
 * slot (the wave took 0.2 s) takes the rest of the wave before and that slot; target refuses
 * the one with boot 7 (refuse: SQL that makes a trigger; allow: SQL that drops it), in wave
 * 3, after batches it took; coldmark names it after `after`. */
static void waves_refused(const char *name, const char *target, const char *refuse,
			  const char *allow, const char *after)
{
	const int boots = 15, k = 3;
	bool server = cm_store_is_url(target);
	char *q = fake_qemu("q-wave", "0.2"), *m = matrix(name, q, boots, ", concurrency: 3");
	char *name0 = cm_xasprintf("%s0", name), *m0 = matrix(name0, q, 1, ""),
	     *dir0 = cm_xasprintf("%s/%s", tmp, name0), *dir = cm_xasprintf("%s/%s", tmp, name),
	     *jdb = cm_xasprintf("%s/journal.db", dir), *out;
	/* the store made by a run of its own, then told to refuse boot 7 */
	assert_int_equal(th_coldmark(tmp, &out, "run", m0, "-o", dir0, "--db", target, NULL), 0);
	free(out);
	th_store_exec(target, refuse);
	setenv("COLDMARK_BATCH_MS", "50", 1);
	int rc = th_coldmark(tmp, &out, "run", m, "-o", dir, "--db", target, NULL);
	int first, last;
	clean(name, out);
	if (rc != 4 || !strstr(out, "boot 7 refused") || !strstr(out, "--resume"))
		fail_msg("%s: a batch refused mid-run, in waves: exit %d (want 4): %s", name, rc, out);
	refused_boots(out, after, &first, &last);
	char *id = run_id_of(dir);
	struct keys stored = store_keys(target, id), samples = journal_keys(dir, "samples.csv"),
		    events = journal_keys(dir, "events.csv");
	size_t per_boot = samples.n / distinct_boots(&samples, 2, "samples.csv");
	int wave_end = (last + k - 1) / k * k; /* the refused batch's last wave ended whole */
	printf("%s: refused boots %d to %d; the store %zu boots; samples.csv %zu boots, events.csv "
	       "%zu\n", name, first, last, distinct_boots(&stored, 2, "store"),
	       distinct_boots(&samples, 2, "samples.csv"), distinct_boots(&events, 1, NULL));
	if (first < 2 || first > 7 || last < 7)
		fail_msg("%s: the refused batch is boots %d to %d: want the batch with boot 7, after "
			 "a batch the store took: %s", name, first, last, out);
	/* every boot that ended is in both journals, the refused wave's later slots too */
	if (distinct_boots(&samples, 2, "samples.csv") != (size_t)wave_end ||
	    samples.n != (size_t)wave_end * per_boot ||
	    distinct_boots(&events, 1, NULL) != (size_t)wave_end)
		fail_msg("%s: the journals after a refused batch in wave %d: samples.csv %zu boots "
			 "(%zu rows), events.csv %zu boots; want boots 1 to %d, each wave whole: %s",
			 name, wave_end / k, distinct_boots(&samples, 2, "samples.csv"), samples.n,
			 distinct_boots(&events, 1, NULL), wave_end, out);
	if (server) { /* journal.db, the run's own store, took every batch */
		struct keys local = store_keys(jdb, id);
		same_keys("journal.db against samples.csv after the refusal", &local, &samples);
		keys_free(&local);
	}
	/* the store: each boot before the refused batch, none of it */
	assert_int_equal(distinct_boots(&stored, 2, "store"), first - 1);
	assert_int_equal(stored.n, (size_t)(first - 1) * per_boot);
	free(out);
	keys_free(&stored);
	/* the store takes them again: --resume puts in the boots it lacks (the store's from
	 * samples.csv, the server's from journal.db), then boots the rest */
	th_store_exec(target, allow);
	rc = th_coldmark(tmp, &out, "run", m, "--resume", dir, "--db", target, NULL);
	unsetenv("COLDMARK_BATCH_MS");
	char *said = cm_xasprintf("%d of the run's earlier boots were in", wave_end - first + 1);
	clean(name, out);
	if (rc || (!server && (!strstr(out, said) || !strstr(out, "not yet in the results store"))))
		fail_msg("%s: --resume after a refused batch: exit %d, want \"%s ... not yet in the "
			 "results store\": %s", name, rc, said, out);
	keys_free(&samples);
	samples = journal_keys(dir, "samples.csv"), stored = store_keys(target, id);
	same_keys("the store against samples.csv after --resume", &stored, &samples);
	assert_int_equal(distinct_boots(&stored, 2, "store"), boots);
	assert_int_equal(stored.n, (size_t)boots * per_boot);
	summary_counts(name, target, id);
	if (server) {
		struct keys local = store_keys(jdb, id);
		same_keys("journal.db against samples.csv after --resume", &local, &samples);
		summary_counts("journal.db", jdb, id);
		keys_free(&local);
	}
	/* the resumed run numbers its waves after the refused one's: no wave of more than k */
	char *sql = cm_xasprintf("SELECT MAX(n) FROM (SELECT COUNT(*) n FROM samples WHERE run_id "
				 "= '%s' AND phase = 'total' GROUP BY wave) w", id);
	long long widest = value_in(target, sql);
	free(sql);
	sql = cm_xasprintf("SELECT COUNT(DISTINCT wave) FROM samples WHERE run_id = '%s'", id);
	long long waves = value_in(target, sql);
	if (widest != k || waves != boots / k)
		fail_msg("%s: after --resume: %lld waves, the widest of %lld boots (want %d of %d)",
			 name, waves, widest, boots / k, k);
	free(sql), free(said), free(out), free(id), free(name0), free(jdb);
	keys_free(&stored), keys_free(&samples), keys_free(&events);
	free(q), free(m), free(m0), free(dir0), free(dir);
}

static void test_waves_refused_batch_mid_run(void **state)
{
	(void)state;
	char *db = cm_xasprintf("%s/wref.db", tmp);
	waves_refused("wref", db, "CREATE TRIGGER refuse BEFORE INSERT ON samples WHEN NEW.boot "
			       "= 7 BEGIN SELECT RAISE(ABORT, 'boot 7 refused'); END",
		      "DROP TRIGGER refuse", "did not take ");
	free(db);
}

/* ---- PostgreSQL: killed before the server had a batch --------------------------------------- */


/* A server-backed run of 400 boots, batches every batch_ms, killed once samples.csv holds
 * half of them and kill_ms have passed: the server and journal.db then hold none of its boots
 * and the server not the run (none), or the run and no more boots than samples.csv (!none);
 * --resume then puts in what each lacks and boots the rest: both hold each planned boot
 * exactly once, samples.csv's rows, their summaries the raw samples'. */
static void pg_kill_and_resume(const char *name, const char *batch_ms, int kill_ms, bool none)
{
	const int boots = 400;
	char *url = th_pg_schema(pg_base, name), *q = fake_qemu("q-pg", "0"),
	     *m = matrix(name, q, boots, ""), *dir = cm_xasprintf("%s/%s", tmp, name),
	     *jdb = cm_xasprintf("%s/%s/journal.db", tmp, name), *out;
	setenv("COLDMARK_BATCH_MS", batch_ms, 1);
	th_run_killed_at(m, dir, url, 6 * boots / 2, kill_ms);
	unsetenv("COLDMARK_BATCH_MS");
	char *id = run_id_of(dir);
	struct keys samples = journal_keys(dir, "samples.csv"), server = store_keys(url, id),
		    local = store_keys(jdb, id);
	size_t journal_boots = distinct_boots(&samples, 2, "samples.csv"),
	       per_boot = samples.n / journal_boots;
	long long runs = th_pg_scalar(url, "SELECT COUNT(*) FROM runs WHERE id = $1", id);
	printf("%s: killed with %zu boots in samples.csv, %zu in the server (%lld run rows), %zu "
	       "in journal.db\n", name, journal_boots, distinct_boots(&server, 2, "server"), runs,
	       distinct_boots(&local, 2, "journal.db"));
	if (none ? server.n || local.n || runs
		 : !server.n || server.n > samples.n || local.n > samples.n || runs != 1)
		fail_msg("%s, killed: the server %zu rows (%lld run rows), journal.db %zu, "
			 "samples.csv %zu: want %s", name, server.n, runs, local.n, samples.n,
			 none ? "no boot and no run in either store (killed before the first batch)"
			      : "the run and some of its boots in the server, no more than the journal");
	/* --resume with the same server: journal.db takes samples.csv's boots it lacks, the
	 * server the run and every boot journal.db holds, then the rest as they come */
	setenv("COLDMARK_BATCH_MS", "200", 1);
	int rc = th_coldmark(tmp, &out, "run", m, "--resume", dir, "--db", url, NULL);
	unsetenv("COLDMARK_BATCH_MS");
	char *said = cm_xasprintf("%zu of the run's earlier boots were in",
				  journal_boots - distinct_boots(&local, 2, "journal.db"));
	clean(name, out);
	if (rc || (local.n < samples.n && !strstr(out, said)) || strstr(out, "missed boots"))
		fail_msg("%s: --resume: exit %d, want \"%s\": %s", name, rc, said, out);
	keys_free(&samples), keys_free(&server), keys_free(&local);
	samples = journal_keys(dir, "samples.csv"), server = store_keys(url, id);
	local = store_keys(jdb, id);
	assert_int_equal(distinct_boots(&samples, 2, "samples.csv"), boots);
	assert_int_equal(samples.n, (size_t)boots * per_boot);
	same_keys("the server against samples.csv", &server, &samples);
	same_keys("journal.db against samples.csv", &local, &samples);
	assert_int_equal(th_pg_scalar(url, "SELECT COUNT(*) FROM samples WHERE run_id = $1 AND "
				      "phase = 'total' AND status = 'ok'", id), boots);
	summary_is_raw("the server", url, id);
	summary_is_raw("journal.db", jdb, id);
	keys_free(&samples), keys_free(&server), keys_free(&local);
	free(said), free(out), free(id), free(url), free(q), free(m), free(dir), free(jdb);
}

/* Killed before its first batch (batches every 10 minutes): the server has not the run, nor
 * has journal.db a boot; --resume brings both every boot once. */
static void test_pg_killed_before_first_batch(void **state)
{
	(void)state;
	pg_kill_and_resume("kill_first", "600000", 0, true);
}

/* Killed between two batches (every 100 ms, after 0.5 s): the server holds the run and a
 * prefix of its boots; --resume brings it and journal.db the rest, each once. */
static void test_pg_killed_between_batches(void **state)
{
	(void)state;
	pg_kill_and_resume("kill_between", "100", 500, false);
}

/* The same on a server's shared store: the server refuses the batch with boot 7 (a trigger
 * that raises); journal.db, the run's own store, takes every boot. */
static void test_pg_waves_refused_batch_mid_run(void **state)
{
	(void)state;
	char *url = th_pg_schema(pg_base, "wref");
	waves_refused("pg_wref", url, "CREATE FUNCTION refuse7() RETURNS trigger LANGUAGE plpgsql "
			  "AS $$BEGIN IF NEW.boot = 7 THEN RAISE EXCEPTION 'boot 7 refused'; END IF; "
			  "RETURN NEW; END$$; CREATE TRIGGER refuse BEFORE INSERT ON samples FOR EACH "
			  "ROW EXECUTE FUNCTION refuse7()", "DROP TRIGGER refuse ON samples",
		      "refused ");
	free(url);
}

int main(int argc, char **argv)
{
	setenv("COLDMARK_GUEST_DIR", GUEST_DIR, 1);
	if (th_mkdtemp(tmp, sizeof(tmp), "store-batch-gaps"))
		return 1;
	chmod(tmp, 0755);
	th_remove_at_exit(tmp);
	const char *group = argc > 1 ? argv[1] : "waves";
	if (!strcmp(group, "waves")) {
		const struct CMUnitTest tests[] = {
			cmocka_unit_test(test_waves_refused_batch_mid_run),
		};
		return cmocka_run_group_tests_name("waves", tests, NULL, NULL);
	}
	if (!strcmp(group, "pg")) {
		pg_base = getenv("COLDMARK_DB");
		if (!pg_base || !cm_store_is_url(pg_base)) {
			printf("SKIP: no PostgreSQL server in COLDMARK_DB (scripts/slurm-local.sh run "
			       "--pg-only -- test_store_batch_gaps pg)\n");
			return 77;
		}
		const struct CMUnitTest tests[] = {
			cmocka_unit_test(test_pg_killed_before_first_batch),
			cmocka_unit_test(test_pg_killed_between_batches),
			cmocka_unit_test(test_pg_waves_refused_batch_mid_run),
		};
		return cmocka_run_group_tests_name("pg", tests, NULL, NULL);
	}
	fprintf(stderr, "test_store_batch_gaps: no group %s (waves, pg)\n", group);
	return 2;
}
