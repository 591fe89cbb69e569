/* The results store: runs, their cases and every boot's samples, so runs can be compared
 * across releases and hosts. One logic over two backends (driver.h): a SQLite file on one
 * host, or a PostgreSQL server a fleet writes to at once. The schema is versioned and
 * migrated forward step by step, the same versions in both. */
#include "coldmark/store.h"

#include <math.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <time.h>

#include "driver.h"

#define BUSY_RETRY_MS 120000 /* how long a boot waits for a store another process holds */

const char *cm_store_error(const struct cm_store *s)
{
	return s->err[0] ? s->err : "unknown error";
}

const char *cm_store_backend(const struct cm_store *s)
{
	return s->ops->name;
}

/* The scheme in any case: libpq wants it in lower case, and pg.c gives it so. */
bool cm_store_is_url(const char *target)
{
	return !strncasecmp(target, "postgresql://", 13) || !strncasecmp(target, "postgres://", 11);
}

/* util's redaction, the one for every message (kept here for the store's callers) */
void cm_store_redact(const char *target, char *out, size_t n)
{
	cm_redact_to(target, out, n);
}

static int query(struct cm_store *s, const char *sql, int n, const char *const *p,
		 cm_db_row_fn row, void *ctx)
{
	return s->ops->query(s, sql, n, p, row, ctx) ? CM_ERR(CM_EIO) : 0;
}

int cm_store_exec(struct cm_store *s, const char *sql, int n, const char *const *p)
{
	return query(s, sql, n, p, NULL, NULL);
}

/* A typed parameter as the text PostgreSQL (and SQLite, for a non-finite real) always got. */
static const char *param_text(const struct cm_param *p, char *buf, size_t n)
{
	switch (p->type) {
	case 't': return p->text;
	case 'i': snprintf(buf, n, "%lld", p->i); return buf;
	case 'd': snprintf(buf, n, "%.17g", p->d); return buf;
	default: return NULL;
	}
}

int cm_store_exec_typed(struct cm_store *s, const char *sql, int n, const struct cm_param *p,
			cm_db_row_fn row, void *ctx)
{
	bool finite = true;
	for (int i = 0; i < n && finite; i++)
		finite = p[i].type != 'd' || isfinite(p[i].d);
	if (!s->pg && !row && finite)
		return cm_db_sqlite_exec_typed(s, sql, n, p) ? CM_ERR(CM_EIO) : 0;
	char (*buf)[32] = cm_xmalloc(((size_t)n + 1) * sizeof(*buf));
	const char **t = cm_xmalloc(((size_t)n + 1) * sizeof(*t));
	for (int i = 0; i < n; i++)
		t[i] = param_text(&p[i], buf[i], sizeof(buf[i]));
	int rc = query(s, sql, n, t, row, ctx);
	free(buf), free(t);
	return rc;
}

static int collect(void *ctx, int ncol, const char *const *vals)
{
	struct cm_rows *r = ctx;
	r->ncol = (size_t)ncol;
	r->v = cm_xrealloc(r->v, (r->n + 1) * (size_t)ncol * sizeof(char *));
	for (int i = 0; i < ncol; i++)
		r->v[r->n * (size_t)ncol + (size_t)i] = vals[i] ? cm_xstrdup(vals[i]) : NULL;
	r->n++;
	return 0;
}

int cm_store_rows(struct cm_store *s, const char *sql, int n, const char *const *p,
		  struct cm_rows *out)
{
	*out = (struct cm_rows){ 0 };
	return query(s, sql, n, p, collect, out);
}

void cm_rows_free(struct cm_rows *r)
{
	for (size_t i = 0; i < r->n * r->ncol; i++)
		free(r->v[i]);
	free(r->v);
	*r = (struct cm_rows){ 0 };
}

/* One write transaction, retried while another writer holds what it needs (a long import at
 * the same time, a serialization failure): all of body is committed, or none of it. */
int cm_store_transaction(struct cm_store *s, int (*body)(struct cm_store *s, void *ctx), void *ctx)
{
	int64_t give_up = cm_now_ns() + BUSY_RETRY_MS * 1000000LL;
	for (;;) {
		if (!s->ops->begin(s, false)) {
			int rc = body(s, ctx);
			if (!rc && !s->ops->commit(s))
				return 0;
			bool again = s->ops->retryable(s);
			s->ops->rollback(s);
			cm_summary_forget(s); /* what it kept of the body's writes is not the store's */
			if (!again)
				return rc ? rc : CM_ERR(CM_EIO);
		} else if (!s->ops->retryable(s)) {
			return CM_ERR(CM_EIO);
		}
		if (cm_now_ns() > give_up)
			return CM_ERR(CM_EIO);
		struct timespec nap = { 0, 50 * 1000000L };
		nanosleep(&nap, NULL);
	}
}

void cm_store_close(struct cm_store *s)
{
	if (!s)
		return;
	if (s->ops)
		s->ops->close(s);
	cm_summary_forget(s);
	free(s);
}

int64_t cm_store_bytes(struct cm_store *s)
{
	return s->ops->bytes(s);
}

/* Each time an item is said its revision grows by one: the runner says it to the journal and
 * the shared store alike, so the copy with the higher revision holds the newer word (copy.c
 * keeps it; a clock would not do: a resumed run may be on another host or after a reboot). */
static const char SET_META[] =
	"INSERT INTO run_meta (run_id, key, value, revision) VALUES ($1, $2, $3, 1) "
	"ON CONFLICT (run_id, key) DO UPDATE SET value = excluded.value, "
	"revision = run_meta.revision + 1";

int cm_store_set_meta(struct cm_store *s, const char *run_id, const char *key, const char *value)
{
	const char *p[] = { run_id, key, value };
	return cm_store_exec(s, SET_META, 3, p);
}

int cm_store_count_row(void *ctx, int ncol, const char *const *vals)
{
	(*(int *)ctx)++;
	return 0;
}

/* ON CONFLICT DO NOTHING decides in the database, so two runs of one id that begin at the
 * same moment cannot both pass (a look first, then an insert, could) */
static const char ADD_RUN[] = "INSERT INTO runs (id, tag, started) VALUES ($1, $2, $3) "
			      "ON CONFLICT (id) DO NOTHING RETURNING id";

int cm_store_new_run_row(struct cm_store *s, const char *const *p)
{
	int added = 0;
	if (query(s, ADD_RUN, 3, p, cm_store_count_row, &added))
		return CM_ERR(CM_EIO);
	if (added)
		return 0;
	snprintf(s->err, sizeof(s->err), "run id %s is in the store already, another run's: a new "
		 "run never joins one (nothing of this run was stored)", p[0]);
	return CM_ERR(CM_EEXIST);
}

static const char COUNT_ADDED[] = "UPDATE runs SET samples = samples + $2 WHERE id = $1";

int cm_store_count_added(struct cm_store *s, const char *run_id, long long n)
{
	if (s->pg || !s->own_count || !n)
		return 0;
	struct cm_param p[] = { CM_PTEXT(run_id), CM_PINT(n) };
	return cm_store_exec_typed(s, COUNT_ADDED, 2, p, NULL, NULL);
}

struct begin_ctx {
	const char *run_id, *tag;
	const struct cm_dataset *ds;
	char *(*cmdline)(const void *ctx, size_t c); /* NULL: no command lines */
	const void *ctx;
};

static const char ADD_CASE[] = "INSERT INTO cases (run_id, case_id, axes, argv) VALUES ($1, $2, $3, $4)";

static int begin_body(struct cm_store *s, void *ctx)
{
	const struct begin_ctx *b = ctx;
	const struct cm_dataset *ds = b->ds;
	const char *started = cm_dataset_get_meta(ds, "date");
	const char *run[] = { b->run_id, b->tag, started ? started : "" };
	int rc = cm_store_new_run_row(s, run);
	for (size_t i = 0; !rc && i < ds->nmeta; i++)
		rc = cm_store_set_meta(s, b->run_id, ds->meta_keys[i], ds->meta_vals[i]);
	for (size_t c = 0; !rc && c < ds->ncases; c++) {
		struct cm_buf axes = { 0 };
		for (size_t a = 0; a < ds->naxes; a++)
			cm_buf_printf(&axes, "%s%s=%s", a ? "\t" : "", ds->axes[a],
				      ds->cases[c].labels[a]);
		char *cl = b->cmdline ? b->cmdline(b->ctx, c) : NULL;
		const char *p[] = { b->run_id, ds->cases[c].id, axes.s ? axes.s : "", cl };
		rc = cm_store_exec(s, ADD_CASE, 4, p);
		cm_buf_free(&axes);
		free(cl);
	}
	return rc;
}

int cm_store_begin_run(struct cm_store *s, const char *run_id, const char *tag,
		       const struct cm_dataset *ds)
{
	return cm_store_begin_run_argv(s, run_id, tag, ds, NULL, NULL);
}

int cm_store_begin_run_argv(struct cm_store *s, const char *run_id, const char *tag,
			    const struct cm_dataset *ds, char *(*cmdline)(const void *ctx, size_t c),
			    const void *ctx)
{
	struct begin_ctx b = { run_id, tag, ds, cmdline, ctx };
	return cm_store_transaction(s, begin_body, &b);
}

struct argv_ctx {
	const char *run_id;
	char *const *case_ids, *const *cmdlines;
	size_t n;
};

static const char SET_ARGV[] = "UPDATE cases SET argv = $3 WHERE run_id = $1 AND case_id = $2";

static int argv_body(struct cm_store *s, void *ctx)
{
	const struct argv_ctx *x = ctx;
	int rc = 0;
	for (size_t i = 0; !rc && i < x->n; i++) {
		const char *p[] = { x->run_id, x->case_ids[i], x->cmdlines[i] };
		rc = cm_store_exec(s, SET_ARGV, 3, p);
	}
	return rc;
}

int cm_store_cases_argv(struct cm_store *s, const char *run_id, char *const *case_ids,
			char *const *cmdlines, size_t n)
{
	/* one transaction, one sync: a sync per case made 10^5 cases take minutes to start */
	struct argv_ctx x = { run_id, case_ids, cmdlines, n };
	return cm_store_transaction(s, argv_body, &x);
}

struct rows_ctx {
	const char *run_id;
	const struct cm_dataset *ds;
	size_t from, to;
};

/* a sample the store holds (samples' one unique key, samples_once) is skipped; no RETURNING
 * here: the writer needs no count, and SQLite's RETURNING cost ~40 us a boot. SQLite takes up
 * to ADD_MAX rows (a boot's) in one statement (add_sql[k]: k rows): one statement's work a
 * boot, not one a row. */
#define ADD_COLS                                                                                   \
	"INSERT INTO samples (run_id, case_id, boot, warmup, status, phase, duration_ns, source, " \
	"cache_drop, session, host_audit, wave, slot) VALUES "
#define ADD_NCOL 13
#define ADD_MAX 16
static char *add_sql[ADD_MAX + 1];
static pthread_once_t add_once = PTHREAD_ONCE_INIT;

static void make_add(void)
{
	cm_store_values_sql(add_sql, ADD_MAX, ADD_COLS, ADD_NCOL, " ON CONFLICT DO NOTHING");
}

/* PostgreSQL says the rowid it gave (a row for a row inserted, none for a skipped one) */
static const char ADD_SAMPLE_PG[] =
	ADD_COLS "($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13) ON CONFLICT DO NOTHING "
	"RETURNING rowid";

static int take_rowid(void *ctx, int ncol, const char *const *vals)
{
	*(int64_t *)ctx = vals[0] ? atoll(vals[0]) : -1;
	return 0;
}

/* the rows [from, to) that went in, by (case, session): each key's summary gets them (or, when
 * which of a statement's rows went in is not known, is made again from its samples) */
struct added {
	char *key;
	const char *case_id; /* the key's parts (the dataset's text): found without making it */
	int session;
	struct cm_summary_new *rows;
	size_t n, cap;
	bool refresh;
};

static void sample_params(const struct rows_ctx *x, const struct cm_sample_row *r, int session,
			  struct cm_param *p)
{
	struct cm_param q[ADD_NCOL] = {
		CM_PTEXT(x->run_id), CM_PTEXT(r->case_id), CM_PINT(r->boot),
		CM_PINT(r->warmup ? 1 : 0), CM_PTEXT(r->status), CM_PTEXT(r->phase),
		isnan(r->duration_ns) ? CM_PNULL : CM_PREAL(r->duration_ns), CM_PTEXT(r->source),
		CM_PTEXT(r->cache), CM_PINT(session), CM_PTEXT(r->audit ? r->audit : ""),
		r->wave > 0 ? CM_PINT(r->wave) : CM_PNULL, r->wave > 0 ? CM_PINT(r->slot) : CM_PNULL,
	};
	memcpy(p, q, sizeof(q));
}

/* the keys in the order first seen, and an open-addressing index over them (a scan of the
 * keys per row was rows x (cases x sessions): an import of 10^4 sessions took minutes) */
struct keyset {
	struct added *v;
	size_t n, cap, *slot, scap; /* slot: key index + 1, 0 empty; scap a power of two */
};

static size_t key_hash(const char *case_id, int session)
{
	uint64_t h = 1469598103934665603ULL; /* FNV-1a, then the session mixed in */
	for (const char *q = case_id; *q; q++)
		h = (h ^ (unsigned char)*q) * 1099511628211ULL;
	h ^= (uint64_t)(unsigned)session * 0x9e3779b97f4a7c15ULL;
	h ^= h >> 29;
	return (size_t)(h * 0xbf58476d1ce4e5b9ULL >> 7);
}

static void key_place(struct keyset *ks, size_t i)
{
	size_t h = key_hash(ks->v[i].case_id, ks->v[i].session) & (ks->scap - 1);
	while (ks->slot[h])
		h = (h + 1) & (ks->scap - 1);
	ks->slot[h] = i + 1;
}

/* the key's text made once a key, not once a row (a printf a row was ~4% of a boot's
 * instructions) */
static struct added *key_of(struct keyset *ks, const char *case_id, int session)
{
	size_t h = ks->scap ? key_hash(case_id, session) & (ks->scap - 1) : 0;
	for (; ks->scap && ks->slot[h]; h = (h + 1) & (ks->scap - 1)) {
		struct added *a = &ks->v[ks->slot[h] - 1];
		if (a->session == session && !strcmp(a->case_id, case_id))
			return a;
	}
	CM_PUSH(ks->v, ks->n, ks->cap);
	ks->v[ks->n++] = (struct added){ cm_xasprintf("%s\t%d", case_id, session), case_id,
					 session, NULL, 0, 0, false };
	if (2 * ks->n > ks->scap) { /* at most half full: rebuilt at twice the size */
		free(ks->slot);
		ks->scap = ks->scap ? 2 * ks->scap : 64;
		ks->slot = cm_xcalloc(ks->scap, sizeof(size_t));
		for (size_t i = 0; i < ks->n; i++)
			key_place(ks, i);
	} else {
		key_place(ks, ks->n - 1);
	}
	return &ks->v[ks->n - 1];
}

/* Rows [i, i + k) (k = 1 on PostgreSQL) into the samples; each one that went in to its key's
 * list with its rowid. SQLite gives a statement's rows rowids in order, one after another
 * (each the largest so far + 1), so all k in: the last k rowids; only some: their keys are
 * made again from their samples. */
static int add_samples(struct cm_store *s, const struct rows_ctx *x, size_t i, size_t k,
		       struct keyset *keys, long long *nadded)
{
	struct cm_param p[ADD_MAX * ADD_NCOL];
	int session[ADD_MAX];
	for (size_t j = 0; j < k; j++) {
		const struct cm_sample_row *r = &x->ds->rows[i + j];
		/* the session's number within the run, as the dataset keeps it */
		session[j] = x->ds->sessions[r->session - 1].number;
		sample_params(x, r, session[j], &p[j * ADD_NCOL]);
	}
	int64_t first = -1;
	int rc;
	bool some = false;
	if (s->pg) {
		rc = cm_store_exec_typed(s, ADD_SAMPLE_PG, ADD_NCOL, p, take_rowid, &first);
	} else {
		pthread_once(&add_once, make_add);
		rc = cm_store_exec_typed(s, add_sql[k], (int)k * ADD_NCOL, p, NULL, NULL);
		if (!rc && s->changed == (long long)k)
			first = s->last_rowid - (int64_t)k + 1;
		some = !rc && s->changed > 0 && s->changed < (long long)k;
		*nadded += rc ? 0 : s->changed;
	}
	for (size_t j = 0; !rc && (first >= 0 || some) && j < k; j++) {
		const struct cm_sample_row *r = &x->ds->rows[i + j];
		struct added *a = key_of(keys, r->case_id, session[j]);
		a->refresh |= some;
		if (some)
			continue;
		CM_PUSH(a->rows, a->n, a->cap);
		a->rows[a->n++] = (struct cm_summary_new){ r->phase, (int)cm_row_kind(r),
							   r->duration_ns, first + (int64_t)j };
	}
	return rc;
}

static int rows_body(struct cm_store *s, void *ctx)
{
	const struct rows_ctx *x = ctx;
	struct keyset ks = { 0 };
	size_t step = s->pg ? 1 : ADD_MAX;
	long long nadded = 0;
	int rc = 0;
	for (size_t i = x->from; !rc && i < x->to; i += step)
		rc = add_samples(s, x, i, x->to - i < step ? x->to - i : step, &ks, &nadded);
	rc = rc ? rc : cm_store_count_added(s, x->run_id, nadded);
	for (size_t k = 0; k < ks.n; k++) {
		struct added *a = &ks.v[k];
		if (!rc && a->refresh)
			rc = cm_summary_refresh(s, x->run_id, &a->key, 1);
		else if (!rc)
			rc = cm_summary_add(s, x->run_id, a->key, a->rows, a->n);
		free(a->key);
		free(a->rows);
	}
	free(ks.v);
	free(ks.slot);
	return rc;
}

int cm_store_add_rows(struct cm_store *s, const char *run_id, const struct cm_dataset *ds,
		      size_t from, size_t to)
{
	struct rows_ctx x = { run_id, ds, from, to };
	return cm_store_transaction(s, rows_body, &x);
}

/* import: the run and its rows in one transaction, so that a refusal or a kill leaves
 * nothing under the tag (a run row of 0 samples was left before) */
struct import_ctx {
	struct begin_ctx run;
	struct rows_ctx rows;
};

static int import_body(struct cm_store *s, void *ctx)
{
	struct import_ctx *x = ctx;
	int rc = begin_body(s, &x->run);
	return rc ? rc : rows_body(s, &x->rows);
}

int cm_store_import(struct cm_store *s, const char *run_id, const char *tag,
		    const struct cm_dataset *ds)
{
	struct import_ctx x = { { run_id, tag, ds }, { run_id, ds, 0, ds->n } };
	return cm_store_transaction(s, import_body, &x);
}

static int first_text(void *ctx, int ncol, const char *const *vals)
{
	struct cm_buf *b = ctx;
	cm_buf_printf(b, "%s", vals[0] ? vals[0] : "");
	return 1;
}

static const char RESOLVE[] =
	"SELECT id FROM runs WHERE id = $1 UNION ALL SELECT * FROM (SELECT id FROM runs "
	"WHERE tag = $1 ORDER BY started DESC, rowid DESC LIMIT 1) AS newest";

int cm_store_resolve(struct cm_store *s, const char *ref, char *run_id, size_t n)
{
	struct cm_buf b = { 0 };
	const char *p[] = { ref };
	int rc = query(s, RESOLVE, 1, p, first_text, &b);
	if (!rc && !b.s)
		rc = CM_ERR(CM_ENOENT);
	if (!rc)
		snprintf(run_id, n, "%s", b.s);
	cm_buf_free(&b);
	return rc;
}

/* The axes from the first case's "name=value\t..." list, then each case's labels. */
void cm_store_cases_into(struct cm_dataset *ds, struct cm_rows *cases)
{
	char *axes[64] = { 0 };
	size_t nax = 0;
	if (cases->n) {
		char *copy = cm_xstrdup(cases->v[1]), *save = NULL;
		for (char *t = strtok_r(copy, "\t", &save); t && nax < 64; t = strtok_r(NULL, "\t", &save)) {
			t[strcspn(t, "=")] = 0;
			axes[nax++] = cm_xstrdup(t);
		}
		free(copy);
	}
	cm_dataset_init(ds, axes, nax);
	for (size_t i = 0; i < nax; i++)
		free(axes[i]);
	for (size_t c = 0; c < cases->n; c++) { /* case_id, axes: both NOT NULL */
		char *labels[64] = { 0 }, *save = NULL;
		size_t a = 0;
		for (char *t = strtok_r(cases->v[2 * c + 1], "\t", &save); t && a < nax;
		     t = strtok_r(NULL, "\t", &save)) {
			char *eq = strchr(t, '=');
			labels[a++] = eq ? eq + 1 : t;
		}
		cm_dataset_case(ds, cases->v[2 * c], labels);
	}
}

struct load_ctx {
	struct cm_dataset *ds;
	const char *host;
};

static int load_sample(void *ctx, int ncol, const char *const *v)
{
	struct load_ctx *x = ctx;
	cm_dataset_session(x->ds, v[8] ? v[8] : "1", x->host);
	x->ds->audit_now = v[9] ? v[9] : "";
	x->ds->wave_now = v[10] ? atoi(v[10]) : 0; /* NULL: alone, or a store before waves */
	x->ds->slot_now = x->ds->wave_now > 0 && v[11] ? atoi(v[11]) : 0;
	x->ds->waves |= x->ds->wave_now > 0;
	cm_dataset_add(x->ds, v[0], atoi(v[1]), atoi(v[2]), v[3], v[4], v[5] ? strtod(v[5], NULL) : NAN,
		       v[6] ? v[6] : "", v[7] ? v[7] : "");
	return 0;
}

static const char LOAD_CASES[] = "SELECT case_id, axes FROM cases WHERE run_id = $1 ORDER BY rowid";
static const char LOAD_META[] = "SELECT key, value FROM run_meta WHERE run_id = $1 ORDER BY rowid";
static const char LOAD_SAMPLES[] =
	"SELECT case_id, boot, warmup, status, phase, duration_ns, source, cache_drop, session, "
	"host_audit, wave, slot FROM samples WHERE run_id = $1 ORDER BY rowid";
/* a store of a schema before waves (read as it is: readers never migrate) */
static const char LOAD_SAMPLES_NO_WAVES[] =
	"SELECT case_id, boot, warmup, status, phase, duration_ns, source, cache_drop, session, "
	"host_audit, NULL, NULL FROM samples WHERE run_id = $1 ORDER BY rowid";

/* one case and the reference cases (history --case: a case's reference stands beside it) */
static const char LOAD_CASE[] =
	"SELECT case_id, axes FROM cases WHERE run_id = $1 AND (case_id = $2 OR case_id = $3 OR "
	"substr(case_id, 1, length($3) + 1) = $3 || ',') ORDER BY rowid";

int cm_store_load_head(struct cm_store *s, const char *run_id, const char *case_filter,
		       struct cm_dataset *ds)
{
	const char *p[] = { run_id, case_filter, CM_REFERENCE_ID };
	struct cm_rows cases, meta = { 0 };
	int rc = cm_store_rows(s, case_filter ? LOAD_CASE : LOAD_CASES, case_filter ? 3 : 1, p,
			       &cases);
	cm_store_cases_into(ds, &cases);
	cm_rows_free(&cases);
	if (!rc)
		rc = cm_store_rows(s, LOAD_META, 1, p, &meta);
	for (size_t i = 0; i < meta.n; i++)
		cm_dataset_meta(ds, meta.v[2 * i], meta.v[2 * i + 1] ? meta.v[2 * i + 1] : "");
	cm_rows_free(&meta);
	return rc;
}

int cm_store_load(struct cm_store *s, const char *run_id, struct cm_dataset *ds)
{
	const char *p[] = { run_id };
	int rc = cm_store_load_head(s, run_id, NULL, ds);
	struct load_ctx x = { ds, cm_dataset_get_meta(ds, "host") };
	if (!rc)
		rc = query(s, cm_store_version(s) >= CM_STORE_WAVE_VERSION ? LOAD_SAMPLES
			   : LOAD_SAMPLES_NO_WAVES, 1, p, load_sample, &x);
	ds->audit_now = NULL;
	ds->wave_now = ds->slot_now = 0;
	return rc;
}

static const char RESOLVE_ALL[] =
	"SELECT id FROM runs WHERE id = $1 UNION ALL SELECT * FROM (SELECT id FROM runs "
	"WHERE tag = $1 AND id <> $1 ORDER BY started, rowid) AS tagged";

int cm_store_resolve_all(struct cm_store *s, const char *ref, char ***ids, size_t *n)
{
	struct cm_rows l; /* one column: ids, NOT NULL */
	const char *p[] = { ref };
	int rc = cm_store_rows(s, RESOLVE_ALL, 1, p, &l);
	if (!rc && l.n && !strcmp(l.v[0], ref)) /* a run id names that run alone */
		while (l.n > 1)
			free(l.v[--l.n]);
	*ids = l.v;
	*n = l.n;
	return rc ? rc : l.n ? 0 : CM_ERR(CM_ENOENT);
}

struct cal_ctx {
	const char *host, *run_id;
	const struct cm_calibration *c;
	size_t n;
};

static const char PUT_CALIBRATION[] =
	"INSERT INTO calibration (host, case_id, phase, var_within, var_between, sessions, boots, "
	"run_id, created) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) ON CONFLICT (host, case_id, "
	"phase) DO UPDATE SET var_within = excluded.var_within, var_between = excluded.var_between,"
	" sessions = excluded.sessions, boots = excluded.boots, run_id = excluded.run_id, "
	"created = excluded.created";

static void utc_now(char *buf, size_t n)
{
	time_t t = time(NULL);
	struct tm tm;
	strftime(buf, n, "%Y-%m-%d %H:%M:%S", gmtime_r(&t, &tm));
}

static int put_calibration_body(struct cm_store *s, void *ctx)
{
	const struct cal_ctx *x = ctx;
	char now[32];
	utc_now(now, sizeof(now));
	int rc = 0;
	for (size_t i = 0; !rc && i < x->n; i++) {
		const struct cm_calibration *c = &x->c[i];
		char w[32], b[32], ns[16], nb[16];
		snprintf(w, sizeof(w), "%.17g", c->vc.within);
		snprintf(b, sizeof(b), "%.17g", c->vc.between);
		snprintf(ns, sizeof(ns), "%zu", c->vc.sessions);
		snprintf(nb, sizeof(nb), "%zu", c->vc.boots);
		const char *p[] = { x->host, c->case_id, c->phase, w, b, ns, nb, x->run_id, now };
		rc = cm_store_exec(s, PUT_CALIBRATION, 9, p);
	}
	return rc;
}

int cm_store_put_calibration(struct cm_store *s, const char *host, const char *run_id,
			     const struct cm_calibration *c, size_t n)
{
	struct cal_ctx x = { host, run_id, c, n };
	return cm_store_transaction(s, put_calibration_body, &x);
}

static int calibration_row(void *ctx, int ncol, const char *const *v)
{
	struct { struct cm_calibration *c; size_t n; } *l = ctx;
	l->c = cm_xrealloc(l->c, (l->n + 1) * sizeof(*l->c));
	l->c[l->n++] = (struct cm_calibration){
		cm_xstrdup(v[0]), cm_xstrdup(v[1]),
		{ .within = strtod(v[2], NULL), .between = strtod(v[3], NULL),
		  .sessions = (size_t)atoi(v[4]), .boots = (size_t)atoi(v[5]) },
	};
	return 0;
}

static const char GET_CALIBRATION[] =
	"SELECT case_id, phase, var_within, var_between, sessions, boots FROM calibration "
	"WHERE host = $1 ORDER BY rowid";

int cm_store_get_calibration(struct cm_store *s, const char *host, struct cm_calibration **out,
			     size_t *n)
{
	struct { struct cm_calibration *c; size_t n; } l = { 0 };
	const char *p[] = { host };
	int rc = query(s, GET_CALIBRATION, 1, p, calibration_row, &l);
	*out = l.c;
	*n = l.n;
	return rc;
}

void cm_calibration_free(struct cm_calibration *c, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		free(c[i].case_id);
		free(c[i].phase);
	}
	free(c);
}

static const char RUNS[] = "SELECT id, tag, started FROM runs ORDER BY started, rowid";

int cm_store_runs(struct cm_store *s, int (*cb)(void *ctx, const char *id, const char *tag,
						const char *started),
		  void *ctx)
{
	struct cm_rows l;
	int rc = cm_store_rows(s, RUNS, 0, NULL, &l);
	for (size_t i = 0; !rc && i < l.n; i++)
		if (cb(ctx, l.v[3 * i], l.v[3 * i + 1] ? l.v[3 * i + 1] : "", l.v[3 * i + 2]))
			break;
	cm_rows_free(&l);
	return rc;
}
