/* Copying runs between stores: `coldmark sync` (a run folder's local journal into the shared
 * store) and `coldmark merge` (shard stores into one). Idempotent by the boot: a boot is
 * committed whole or not at all, so one that the target holds (same run, case, session, boot
 * number, warm-up flag and attempt: interrupted or not) is complete there and is skipped;
 * copying twice adds nothing, and copies at the same time add each boot once (the samples'
 * unique key decides). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "coldmark/model.h"
#include "coldmark/store.h"
#include "coldmark/util.h"
#include "driver.h"

static int get(struct cm_store *s, const char *sql, const char *arg, struct cm_rows *out)
{
	const char *p[] = { arg };
	return cm_store_rows(s, sql, arg ? 1 : 0, p, out);
}

static const char RUN_ROW[] = "SELECT id, tag, started FROM runs WHERE id = $1";
static const char META_ROWS[] =
	"SELECT run_id, key, value, revision FROM run_meta WHERE run_id = $1 ORDER BY rowid";
/* a source of schema 4 (an older coldmark's shard, read as it is): no revision yet */
static const char META_ROWS_V4[] =
	"SELECT run_id, key, value, 0 FROM run_meta WHERE run_id = $1 ORDER BY rowid";
static const char CASE_ROWS[] =
	"SELECT run_id, case_id, axes, argv FROM cases WHERE run_id = $1 ORDER BY rowid";
static const char SAMPLE_ROWS[] =
	"SELECT run_id, case_id, boot, warmup, status, phase, duration_ns, source, cache_drop, "
	"session, host_audit, wave, slot FROM samples WHERE run_id = $1 ORDER BY rowid";
/* a source of a schema before waves: its boots in none */
static const char SAMPLE_ROWS_NO_WAVES[] =
	"SELECT run_id, case_id, boot, warmup, status, phase, duration_ns, source, cache_drop, "
	"session, host_audit, NULL, NULL FROM samples WHERE run_id = $1 ORDER BY rowid";
/* a boot's attempt: an interrupted one and the boot again on --resume are two */
static const char BOOT_KEYS[] =
	"SELECT DISTINCT case_id, session, boot, warmup, CASE WHEN status = 'interrupted' THEN 1 "
	"ELSE 0 END FROM samples WHERE run_id = $1";

static const char PUT_RUN[] =
	"INSERT INTO runs (id, tag, started) VALUES ($1, $2, $3) ON CONFLICT (id) DO NOTHING";
/* Newer wins, not "never overwritten": a shared store lost mid-run holds the header the
 * run began with, and the journal the end-of-session words said later; sync must bring
 * those in. Last-copy-wins put an older copy's "session began" over the newer end load.
 * The revision (how often the item was said) orders them; a tie keeps what is there. */
static const char PUT_META[] =
	"INSERT INTO run_meta (run_id, key, value, revision) VALUES ($1, $2, $3, $4) "
	"ON CONFLICT (run_id, key) DO UPDATE SET value = excluded.value, "
	"revision = excluded.revision WHERE excluded.revision > run_meta.revision";
/* a row for each sample inserted, none for one the target holds (another copy's) */
static const char PUT_SAMPLE[] =
	"INSERT INTO samples (run_id, case_id, boot, warmup, status, phase, duration_ns, source, "
	"cache_drop, session, host_audit, wave, slot) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, "
	"$10, $11, $12, $13) ON CONFLICT DO NOTHING RETURNING 1";
/* run --profile's counts (schema 6): a row the target holds (the same boot's) is skipped */
static const char PROFILE_ROWS[] =
	"SELECT run_id, case_id, boot, session, phase, counter, count FROM profile "
	"WHERE run_id = $1 ORDER BY rowid";
static const char PUT_PROFILE[] =
	"INSERT INTO profile (run_id, case_id, boot, session, phase, counter, count) "
	"VALUES ($1, $2, $3, $4, $5, $6, $7) ON CONFLICT DO NOTHING";
static const char PUT_CASE[] =
	"INSERT INTO cases (run_id, case_id, axes, argv) VALUES ($1, $2, $3, $4) "
	"ON CONFLICT (run_id, case_id) DO UPDATE SET argv = COALESCE(cases.argv, excluded.argv)";

static char *boot_key(char *const *v)
{
	return cm_xasprintf("%s\t%s\t%s\t%s\t%s", v[0], v[1], v[2], v[3], v[4]);
}

struct copy {
	struct cm_rows run, meta, cases, samples, profile;
	struct cm_strset touched; /* "case\tsession" of the boots added: their summary again */
	char **tkeys;
	size_t ntouched;
	struct cm_strset present; /* boots the target holds already */
	char **keys;		  /* the strings the sets borrow */
	size_t nkeys;
	size_t boots, skipped;	  /* of the last try of the body */
	bool fresh;		  /* a run that begins now: its id must be new in the target */
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

/* The samples of each boot the target lacks. A boot is "added" when a row of it went in:
 * another copy at the same time may have put it there since the target was read, and the
 * unique key then skips its rows (it counts as there already). */
static int copy_samples(struct cm_store *dst, struct copy *c)
{
	struct cm_strset seen = { 0 };
	enum { THERE, SKIPPED_NOW, ADDED } *boot = cm_xcalloc(c->samples.n + 1, sizeof(*boot));
	size_t nboots = 0;
	long long nadded = 0;
	int rc = 0;
	for (size_t i = 0; !rc && i < c->samples.n; i++) {
		char *const *v = &c->samples.v[i * c->samples.ncol];
		char *const key_cols[] = { v[1], v[9], v[2], v[3],
					   !strcmp(v[4], CM_STATUS_INTERRUPTED_NAME) ? "1" : "0" };
		char *key = boot_key(key_cols);
		long b = cm_strset_find(&seen, key);
		if (b < 0) { /* the boot's first row */
			b = (long)nboots++;
			cm_strset_add(&seen, key, b);
			keep(c, key);
			boot[b] = cm_strset_find(&c->present, key) >= 0 ? THERE : SKIPPED_NOW;
		} else {
			free(key);
		}
		if (boot[b] == THERE)
			continue;
		int added = 0;
		if (dst->ops->query(dst, PUT_SAMPLE, 13, (const char *const *)v,
				    cm_store_count_row, &added))
			rc = CM_ERR(CM_EIO);
		nadded += added;
		if (added && boot[b] != ADDED) {
			boot[b] = ADDED;
			char *k = cm_xasprintf("%s\t%s", v[1], v[9]);
			if (cm_strset_find(&c->touched, k) < 0) {
				c->tkeys = cm_xrealloc(c->tkeys, (c->ntouched + 1) * sizeof(char *));
				c->tkeys[c->ntouched++] = k;
				cm_strset_add(&c->touched, k, 1);
			} else {
				free(k);
			}
		}
	}
	if (!rc && c->samples.n) /* the rows are the run's: v[0] its id */
		rc = cm_store_count_added(dst, c->samples.v[0], nadded);
	c->boots = c->skipped = 0;
	for (size_t b = 0; b < nboots; b++) {
		if (boot[b] == ADDED)
			c->boots++;
		else
			c->skipped++;
	}
	free(boot);
	cm_strset_free(&seen);
	return rc;
}

static void forget_touched(struct copy *c)
{
	for (size_t i = 0; i < c->ntouched; i++)
		free(c->tkeys[i]);
	free(c->tkeys);
	c->tkeys = NULL;
	c->ntouched = 0;
	cm_strset_free(&c->touched);
	c->touched = (struct cm_strset){ 0 };
}

/* The run, its header and cases, the samples of each boot the target lacks, its profile
 * rows, and the summary of the sessions that gained boots. */
static int copy_body(struct cm_store *dst, void *ctx)
{
	struct copy *c = ctx;
	int rc = c->fresh && c->run.n ? cm_store_new_run_row(dst, (const char *const *)c->run.v)
				      : put_all(dst, PUT_RUN, &c->run);
	rc = rc ? rc : put_all(dst, PUT_META, &c->meta);
	rc = rc ? rc : put_all(dst, PUT_CASE, &c->cases);
	rc = rc ? rc : copy_samples(dst, c);
	rc = rc ? rc : put_all(dst, PUT_PROFILE, &c->profile);
	/* the summary of the sessions that gained boots, from the target's samples (a retried
	 * body starts again from none touched) */
	rc = rc ? rc : cm_summary_refresh(dst, c->run.v[0], c->tkeys, c->ntouched);
	forget_touched(c);
	return rc;
}

static int copy_run(struct cm_store *src, struct cm_store *dst, const char *run_id, bool fresh,
		    struct cm_store_copied *out)
{
	struct copy c = { .fresh = fresh };
	struct cm_rows keys = { 0 };
	int rc = get(src, RUN_ROW, run_id, &c.run);
	if (!rc && !c.run.n)
		rc = CM_ERR(CM_ENOENT);
	rc = rc ? rc : get(src, cm_store_version(src) >= 5 ? META_ROWS : META_ROWS_V4, run_id, &c.meta);
	rc = rc ? rc : get(src, CASE_ROWS, run_id, &c.cases);
	rc = rc ? rc : get(src, cm_store_version(src) >= CM_STORE_WAVE_VERSION ? SAMPLE_ROWS
			   : SAMPLE_ROWS_NO_WAVES, run_id, &c.samples);
	if (!rc && cm_store_version(src) >= 6) /* profile: schema 6 */
		rc = get(src, PROFILE_ROWS, run_id, &c.profile);
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
	cm_rows_free(&c.profile), cm_rows_free(&keys);
	cm_strset_free(&c.present);
	for (size_t i = 0; i < c.nkeys; i++)
		free(c.keys[i]);
	free(c.keys);
	return rc;
}

int cm_store_copy_run(struct cm_store *src, struct cm_store *dst, const char *run_id,
		      struct cm_store_copied *out)
{
	return copy_run(src, dst, run_id, false, out);
}

int cm_store_copy_new_run(struct cm_store *src, struct cm_store *dst, const char *run_id,
			  struct cm_store_copied *out)
{
	return copy_run(src, dst, run_id, true, out);
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

/* ---- a run's journal into the store: what a kill between two batches left out ---------------- */

/* rows and boots (their "total" rows) */
static int count_of(void *ctx, int ncol, const char *const *vals)
{
	long long *n = ctx;
	n[0] = vals[0] ? atoll(vals[0]) : 0;
	n[1] = ncol > 1 && vals[1] ? atoll(vals[1]) : 0;
	return 1;
}

/* How many rows of ds the store can hold: one per key (case, session, boot, warm-up, phase,
 * interrupted or not). A boot interrupted twice under one number is in samples.csv twice
 * with one key, in the store once. */
static long long distinct_keys(const struct cm_dataset *ds)
{
	struct cm_strset seen = { 0 };
	char **keys = NULL; /* the set borrows them */
	size_t nkeys = 0, cap = 0;
	long long n = 0;
	for (size_t i = 0; i < ds->n; i++) {
		const struct cm_sample_row *r = &ds->rows[i];
		if (cm_row_kind(r) != CM_ROW_INTERRUPTED) { /* one attempt of a boot is not interrupted */
			n++;
			continue;
		}
		char *key = cm_xasprintf("%s\t%d\t%d\t%d\t%s", r->case_id, r->session, r->boot,
					 r->warmup, r->phase);
		if (cm_strset_add(&seen, key, 1) >= 0) {
			free(key); /* a key seen before */
			continue;
		}
		CM_PUSH(keys, nkeys, cap);
		keys[nkeys++] = key;
		n++;
	}
	cm_strset_free(&seen);
	for (size_t k = 0; k < nkeys; k++)
		free(keys[k]);
	free(keys);
	return n;
}

static const char RUN_ROWS_COUNT[] = "SELECT COUNT(*), COALESCE(SUM(CASE WHEN phase = 'total' "
				     "THEN 1 ELSE 0 END), 0) FROM samples WHERE run_id = $1";

/* The run's rows in ds that the store lacks: the store holds a prefix of them when a run was
 * killed between two of its batches (and never a row ds lacks: a batch is synced to the
 * journals before a store gets it). Rows it holds are skipped by the samples' key; counted
 * first, so that a store with them all costs a count. *added: the boots added (each boot has
 * a "total" row). */
int cm_store_add_missing(struct cm_store *s, const char *run_id, const struct cm_dataset *ds,
			 long long *added)
{
	long long before[2] = { -1, 0 }, after[2] = { -1, 0 };
	const char *p[] = { run_id };
	*added = 0;
	int rc = s->ops->query(s, RUN_ROWS_COUNT, 1, p, count_of, before) ? CM_ERR(CM_EIO) : 0;
	if (rc || before[0] >= distinct_keys(ds))
		return rc;
	if ((rc = cm_store_add_rows(s, run_id, ds, 0, ds->n)) ||
	    (rc = s->ops->query(s, RUN_ROWS_COUNT, 1, p, count_of, after) ? CM_ERR(CM_EIO) : 0))
		return rc;
	*added = after[1] - before[1];
	return 0;
}
