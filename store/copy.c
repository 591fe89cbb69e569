/* Copying runs between stores: `coldmark sync` (a run folder's local journal into the shared
 * store) and `coldmark merge` (shard stores into one). Idempotent by the boot: a boot is
 * committed whole or not at all, so one that the target holds (same run, case, session,
 * boot number and warm-up flag) is complete there and is skipped; copying twice adds nothing. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "coldmark/store.h"
#include "driver.h"

static int get(struct cm_store *s, const char *sql, const char *arg, struct cm_rows *out)
{
	const char *p[] = { arg };
	return cm_store_rows(s, sql, arg ? 1 : 0, p, out);
}

static const char RUN_ROW[] = "SELECT id, tag, started FROM runs WHERE id = $1";
static const char META_ROWS[] = "SELECT run_id, key, value FROM run_meta WHERE run_id = $1 ORDER BY rowid";
static const char CASE_ROWS[] =
	"SELECT run_id, case_id, axes, argv FROM cases WHERE run_id = $1 ORDER BY rowid";
static const char SAMPLE_ROWS[] =
	"SELECT run_id, case_id, boot, warmup, status, phase, duration_ns, source, cache_drop, "
	"session, host_audit FROM samples WHERE run_id = $1 ORDER BY rowid";
static const char BOOT_KEYS[] =
	"SELECT DISTINCT case_id, session, boot, warmup FROM samples WHERE run_id = $1";

static const char PUT_RUN[] =
	"INSERT INTO runs (id, tag, started) VALUES ($1, $2, $3) ON CONFLICT (id) DO NOTHING";
static const char PUT_CASE[] =
	"INSERT INTO cases (run_id, case_id, axes, argv) VALUES ($1, $2, $3, $4) "
	"ON CONFLICT (run_id, case_id) DO UPDATE SET argv = COALESCE(cases.argv, excluded.argv)";

static char *boot_key(char *const *v)
{
	return cm_xasprintf("%s\t%s\t%s\t%s", v[0], v[1], v[2], v[3]);
}

struct copy {
	struct cm_rows run, meta, cases, samples;
	struct cm_strset present; /* boots the target holds already */
	char **keys;		  /* the strings the sets borrow */
	size_t nkeys;
	size_t boots, skipped;	  /* of the last try of the body */
};

static void keep(struct copy *c, char *key)
{
	c->keys = cm_xrealloc(c->keys, (c->nkeys + 1) * sizeof(char *));
	c->keys[c->nkeys++] = key;
}

static int put_all(struct cm_store *dst, const char *sql, const struct cm_rows *r)
{
	int rc = 0;
	for (size_t i = 0; !rc && i < r->n; i++)
		rc = cm_store_exec(dst, sql, (int)r->ncol, (const char *const *)&r->v[i * r->ncol]);
	return rc;
}

/* The run, its header and cases, then the samples of each boot the target lacks. */
static int copy_body(struct cm_store *dst, void *ctx)
{
	struct copy *c = ctx;
	int rc = put_all(dst, PUT_RUN, &c->run);
	/* a header item said again later (a session's end load) is the newer word */
	rc = rc ? rc : put_all(dst, cm_sql_set_meta, &c->meta);
	rc = rc ? rc : put_all(dst, PUT_CASE, &c->cases);
	struct cm_strset seen = { 0 };
	c->boots = c->skipped = 0;
	for (size_t i = 0; !rc && i < c->samples.n; i++) {
		char *const *v = &c->samples.v[i * c->samples.ncol];
		char *const key_cols[] = { v[1], v[9], v[2], v[3] };
		char *key = boot_key(key_cols);
		bool there = cm_strset_find(&c->present, key) >= 0;
		if (cm_strset_add(&seen, key, 1) == -1) { /* the boot's first row */
			keep(c, key);
			there ? c->skipped++ : c->boots++;
		} else {
			free(key);
		}
		if (!there)
			rc = cm_store_exec(dst, cm_sql_add_sample, 11, (const char *const *)v);
	}
	cm_strset_free(&seen);
	return rc;
}

int cm_store_copy_run(struct cm_store *src, struct cm_store *dst, const char *run_id,
		      struct cm_store_copied *out)
{
	struct copy c = { 0 };
	struct cm_rows keys = { 0 };
	int rc = get(src, RUN_ROW, run_id, &c.run);
	if (!rc && !c.run.n)
		rc = CM_ERR(CM_ENOENT);
	rc = rc ? rc : get(src, META_ROWS, run_id, &c.meta);
	rc = rc ? rc : get(src, CASE_ROWS, run_id, &c.cases);
	rc = rc ? rc : get(src, SAMPLE_ROWS, run_id, &c.samples);
	if (rc)
		snprintf(dst->err, sizeof(dst->err), "reading run %s: %s", run_id, cm_store_error(src));
	rc = rc ? rc : get(dst, BOOT_KEYS, run_id, &keys);
	for (size_t i = 0; !rc && i < keys.n; i++) {
		char *key = boot_key(&keys.v[i * keys.ncol]);
		keep(&c, key);
		cm_strset_add(&c.present, key, 1);
	}
	rc = rc ? rc : cm_store_transaction(dst, copy_body, &c);
	if (!rc) {
		out->runs_new += !keys.n;
		out->boots_added += c.boots;
		out->boots_present += c.skipped;
	}
	cm_rows_free(&c.run), cm_rows_free(&c.meta), cm_rows_free(&c.cases), cm_rows_free(&c.samples);
	cm_rows_free(&keys);
	cm_strset_free(&c.present);
	for (size_t i = 0; i < c.nkeys; i++)
		free(c.keys[i]);
	free(c.keys);
	return rc;
}

static const char CALIBRATIONS[] =
	"SELECT host, case_id, phase, var_within, var_between, sessions, boots, run_id, created "
	"FROM calibration ORDER BY rowid";
/* the newer calibration of a host's case and phase wins, whichever store it came from */
static const char PUT_CALIBRATION[] =
	"INSERT INTO calibration (host, case_id, phase, var_within, var_between, sessions, boots, "
	"run_id, created) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) ON CONFLICT (host, case_id, "
	"phase) DO UPDATE SET var_within = excluded.var_within, var_between = excluded.var_between,"
	" sessions = excluded.sessions, boots = excluded.boots, run_id = excluded.run_id, "
	"created = excluded.created WHERE excluded.created > calibration.created";

static int calibration_body(struct cm_store *dst, void *ctx)
{
	return put_all(dst, PUT_CALIBRATION, ctx);
}

struct copy_all {
	struct cm_store *src, *dst;
	struct cm_store_copied *out;
	int rc;
};

static int copy_one(void *ctx, const char *id, const char *tag, const char *started)
{
	struct copy_all *x = ctx;
	return x->rc = cm_store_copy_run(x->src, x->dst, id, x->out);
}

int cm_store_copy_all(struct cm_store *src, struct cm_store *dst, struct cm_store_copied *out)
{
	struct copy_all x = { src, dst, out, 0 };
	struct cm_rows cal = { 0 };
	int rc = cm_store_runs(src, copy_one, &x);
	rc = rc ? rc : x.rc ? x.rc : get(src, CALIBRATIONS, NULL, &cal);
	if (!rc && cal.n && !(rc = cm_store_transaction(dst, calibration_body, &cal)))
		out->calibrations += cal.n;
	cm_rows_free(&cal);
	return rc;
}
