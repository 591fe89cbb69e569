/* The session summary (issue 25): one row per run, case, session and phase, derived from the
 * samples and kept equal to them, in the transaction that writes them. A boot's rows are
 * appended to its key's rows when they come after every row those hold (from the writer's own
 * copy while that is the store's row, else read back); every other write to samples (a boot
 * out of order, a sync or merge, the migration that created it) recomputes the rows of the
 * (case, session) keys it touched from the samples themselves. So whatever reaches the
 * samples (a duplicate skipped by the unique key, a boot killed before its commit, four
 * copies at once) the summary says the same: a transaction that does not commit leaves
 * neither. On PostgreSQL (READ COMMITTED) two writers of one session
 * could each recompute without the other's uncommitted boot; a transaction-level advisory
 * lock per key, taken before the recompute reads, makes the later one wait and then see the
 * earlier one's commit. Keys are locked in one order (by their lock number), so two copies
 * never wait on each other in a cycle. */
#include <math.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <gsl/gsl_sort.h>
#include <gsl/gsl_statistics_double.h>

#include "coldmark/stats.h"
#include "driver.h"
#include "hexdecode.h"

struct phase_acc {
	char *phase;
	char first[24]; /* the rowid of its first row: sessions and phases in the raw order */
	long long last;	/* and of its last: a boot's rows are appended only after it */
	long rows, warm, failed, unmeas, intr;
	double *v;
	size_t n, cap;
	/* What the row's text and figures are made of, kept for the times past them only (the
	 * writer's cache keeps a group across boots: a boot adds its own times, not all again):
	 * vals' text of v[0..nhex); the logs of v[0..nl) in order, sorted, and their sum. */
	struct cm_buf hex;
	size_t nhex, nl, lcap;
	double *l, *sorted, lsum;
	bool lnan; /* a time with no log (NaN): cm_ln_session_stats decides then */
};

/* the rows of one (run, case, session), by phase */
struct group {
	char *run, *case_id, *session;
	struct phase_acc *p;
	size_t np;
	bool bad; /* a summary row whose times did not decode */
};

static void group_reset(struct group *g)
{
	for (size_t i = 0; i < g->np; i++) {
		free(g->p[i].phase);
		free(g->p[i].v);
		cm_buf_free(&g->p[i].hex);
		free(g->p[i].l), free(g->p[i].sorted);
	}
	free(g->p);
	free(g->run), free(g->case_id), free(g->session);
	*g = (struct group){ 0 };
}

/* One raw row (rowid, phase, warmup, status, duration_ns), classified as cm_row_kind does. */
static void group_add(struct group *g, const char *const *v)
{
	size_t k = 0;
	while (k < g->np && strcmp(g->p[k].phase, v[1]))
		k++;
	if (k == g->np) {
		g->p = cm_xrealloc(g->p, (g->np + 1) * sizeof(*g->p));
		g->p[g->np++] = (struct phase_acc){ .phase = cm_xstrdup(v[1]) };
		snprintf(g->p[k].first, sizeof(g->p[k].first), "%s", v[0]);
	}
	struct phase_acc *a = &g->p[k];
	a->rows++;
	a->last = atoll(v[0]);
	double d = NAN; /* the time's bits in hex (f64hex, float8send): no printf, no strtod */
	if (v[4] && cm_summary_vals_decode(v[4], &d, 1))
		d = NAN;
	if (!strcmp(v[3], CM_STATUS_INTERRUPTED_NAME))
		a->intr++;
	else if (atoi(v[2]))
		a->warm++;
	else if (strcmp(v[3], CM_STATUS_OK_NAME))
		a->failed++;
	else if (isnan(d))
		a->unmeas++;
	else {
		CM_PUSH(a->v, a->n, a->cap);
		a->v[a->n++] = d;
	}
}

static const char HEX[] = "0123456789abcdef";

/* vals: the text of a's times, made for the times it does not hold yet */
static const char *vals_text(struct phase_acc *a)
{
	for (; a->nhex < a->n; a->nhex++) {
		uint64_t bits;
		char d[16];
		memcpy(&bits, &a->v[a->nhex], sizeof(bits));
		for (int i = 0; i < 16; i++)
			d[i] = HEX[(bits >> (60 - 4 * i)) & 15];
		cm_buf_append(&a->hex, d, sizeof(d));
	}
	return a->hex.s ? a->hex.s : "";
}

/* 8 digits a machine word (hexdecode.c): a compare of 12 M times spent ~10% of its CPU in
 * the digit table's loop that was here (it is tests/test_cmpcpu.c's reference now) */
int cm_summary_vals_decode(const char *text, double *out, size_t n)
{
	return cm_hex_vals_decode(text, out, n);
}

#define PUT_COLS                                                                                   \
	"INSERT INTO session_summary (run_id, case_id, session, phase, first_row, n_rows, n, "     \
	"n_warmup, n_failed, n_unmeasurable, n_interrupted, median_ln, mean_ln, var_ln, ssw_ln, "   \
	"vals, last_row) VALUES "
#define PUT_UPDATE                                                                                 \
	" ON CONFLICT (run_id, case_id, session, phase) DO UPDATE SET first_row = "                \
	"excluded.first_row, n_rows = excluded.n_rows, n = excluded.n, n_warmup = "                 \
	"excluded.n_warmup, n_failed = excluded.n_failed, n_unmeasurable = excluded.n_unmeasurable,"\
	" n_interrupted = excluded.n_interrupted, median_ln = excluded.median_ln, mean_ln = "       \
	"excluded.mean_ln, var_ln = excluded.var_ln, ssw_ln = excluded.ssw_ln, vals = excluded.vals, "\
	"last_row = excluded.last_row"
#define PUT_NCOL 17
#define PUT_MAX 8 /* phases in one statement: a boot's are one round trip */

/* The upsert of k rows (k = 1..PUT_MAX), made once: the statement caches know a query by its
 * text's address. */
static char *put_sql[PUT_MAX + 1];
static pthread_once_t put_once = PTHREAD_ONCE_INIT;

static void make_put(void)
{
	cm_store_values_sql(put_sql, PUT_MAX, PUT_COLS, PUT_NCOL, PUT_UPDATE);
}

/* cm_ln_session_stats of a's times, the same operations in the same order (the same bits:
 * the logs summed in the times' order, their squares about the mean in that order, the median
 * of the sorted logs as gsl takes it), from logs kept across boots: a boot's own times are
 * logged and put in their sorted place, not every time of the session again. */
static void ln_stats(struct phase_acc *a, struct cm_ln_session *out)
{
	size_t n = a->n, from = a->nl;
	if (a->lcap < n) {
		a->lcap = a->cap > n ? a->cap : n;
		a->l = cm_xrealloc(a->l, a->lcap * sizeof(double));
		a->sorted = cm_xrealloc(a->sorted, a->lcap * sizeof(double));
	}
	for (size_t i = from; i < n; i++) {
		a->l[i] = log(a->v[i]);
		a->lsum += a->l[i];
		a->lnan |= isnan(a->l[i]);
	}
	a->nl = n;
	if (a->lnan) { /* NaN has no sorted place: the definition itself */
		cm_ln_session_stats(a->v, n, out);
		return;
	}
	if (n - from > 8) { /* a group read whole (the migration, a refresh): sorted at once */
		memcpy(a->sorted, a->l, n * sizeof(double));
		gsl_sort(a->sorted, 1, n);
	} else {
		for (size_t i = from; i < n; i++) { /* a boot's few: each in its place */
			size_t lo = 0, hi = i;
			while (lo < hi) {
				size_t mid = lo + (hi - lo) / 2;
				if (a->sorted[mid] <= a->l[i])
					lo = mid + 1;
				else
					hi = mid;
			}
			memmove(a->sorted + lo + 1, a->sorted + lo, (i - lo) * sizeof(double));
			a->sorted[lo] = a->l[i];
		}
	}
	double mean = n ? a->lsum / (double)n : NAN, ss = 0;
	for (size_t i = 0; i < n; i++)
		ss += (a->l[i] - mean) * (a->l[i] - mean);
	*out = (struct cm_ln_session){ .n = n, .mean = mean, .ssw = n ? ss : NAN,
				       .median = n ? gsl_stats_median_from_sorted_data(a->sorted, 1, n)
						   : NAN };
}

/* a statistic: NULL when it is not a finite number */
static struct cm_param real(double x)
{
	return isfinite(x) ? CM_PREAL(x) : CM_PNULL;
}

/* A phase's row as the upsert's 17 parameters: n, median, mean, the within-session (n - 1)
 * variance and sum of squares of ln(time) as cm_ln_session_stats makes them, the code compare
 * runs on raw times, so that the same numbers come out of either; the times. */
static void phase_params(const struct group *g, struct phase_acc *a, struct cm_param *p)
{
	struct cm_ln_session ln;
	ln_stats(a, &ln);
	struct cm_param q[PUT_NCOL] = {
		CM_PTEXT(g->run), CM_PTEXT(g->case_id), CM_PTEXT(g->session), CM_PTEXT(a->phase),
		CM_PTEXT(a->first), CM_PINT(a->rows), CM_PINT((long long)a->n), CM_PINT(a->warm),
		CM_PINT(a->failed), CM_PINT(a->unmeas), CM_PINT(a->intr), real(ln.median),
		real(ln.mean), real(a->n > 1 ? ln.ssw / (double)(a->n - 1) : NAN), real(ln.ssw),
		CM_PTEXT(vals_text(a)), CM_PINT(a->last),
	};
	memcpy(p, q, sizeof(q));
}

/* g's phases whose touched[i] is set (all with NULL), PUT_MAX to a statement */
static int put_phases(struct cm_store *s, struct group *g, const bool *touched)
{
	pthread_once(&put_once, make_put);
	struct cm_param p[PUT_MAX * PUT_NCOL];
	int rc = 0;
	size_t i = 0;
	while (!rc && i < g->np) {
		int k = 0;
		for (; i < g->np && k < PUT_MAX; i++)
			if (!touched || touched[i])
				phase_params(g, &g->p[i], &p[k++ * PUT_NCOL]);
		if (k)
			rc = cm_store_exec_typed(s, put_sql[k], k * PUT_NCOL, p, NULL, NULL);
	}
	return rc;
}

static int group_put(struct cm_store *s, struct group *g)
{
	int rc = put_phases(s, g, NULL);
	group_reset(g);
	return rc;
}

/* ---- the migration: every group of the store in one pass ------------------------------------ */

struct fill {
	struct cm_store *s;
	struct group g;
	int rc;
};

/* rows (run, case, session, rowid, phase, warmup, status, duration) in group order */
static int fill_row(void *ctx, int ncol, const char *const *v)
{
	struct fill *f = ctx;
	if (f->g.run && (strcmp(f->g.run, v[0]) || strcmp(f->g.case_id, v[1]) ||
			 strcmp(f->g.session, v[2])))
		f->rc = group_put(f->s, &f->g);
	if (!f->g.run) {
		f->g.run = cm_xstrdup(v[0]);
		f->g.case_id = cm_xstrdup(v[1]);
		f->g.session = cm_xstrdup(v[2]);
	}
	group_add(&f->g, v + 3);
	return f->rc;
}

#define HEX_SQLITE "f64hex(duration_ns)"
#define HEX_PG "encode(float8send(duration_ns), 'hex')"
#define RUN_ROWS(HEX)                                                                              \
	"SELECT run_id, case_id, session, rowid, phase, warmup, status, " HEX " FROM samples "    \
	"WHERE run_id = $1 ORDER BY case_id, session, rowid"
static const char RUN_ROWS_SQLITE[] = RUN_ROWS(HEX_SQLITE), RUN_ROWS_PG[] = RUN_ROWS(HEX_PG);
static const char RUN_IDS[] = "SELECT id FROM runs ORDER BY rowid";

/* Run by run (PostgreSQL's driver holds a whole result: a run's, not the store's). Rows are
 * written while SQLite's query still reads: it allows that on one connection (the summary is
 * another table). */
int cm_summary_fill(struct cm_store *s)
{
	cm_summary_forget(s);
	struct cm_rows runs;
	int rc = cm_store_rows(s, RUN_IDS, 0, NULL, &runs);
	for (size_t i = 0; !rc && i < runs.n; i++) {
		struct fill f = { s, { 0 }, 0 };
		const char *p[] = { runs.v[i] };
		rc = s->ops->query(s, s->pg ? RUN_ROWS_PG : RUN_ROWS_SQLITE, 1, p, fill_row, &f)
			     ? CM_ERR(CM_EIO) : 0;
		if (!rc && !f.rc && f.g.run)
			f.rc = group_put(s, &f.g);
		group_reset(&f.g);
		rc = rc ? rc : f.rc;
	}
	cm_rows_free(&runs);
	return rc;
}

/* ---- after a write: the keys it touched ------------------------------------------------------ */

static int refresh_row(void *ctx, int ncol, const char *const *v)
{
	group_add(ctx, v);
	return 0;
}

#define KEY_ROWS(HEX)                                                                              \
	"SELECT rowid, phase, warmup, status, " HEX " FROM samples WHERE run_id = $1 AND "        \
	"case_id = $2 AND session = $3 ORDER BY rowid"
static const char KEY_ROWS_SQLITE[] = KEY_ROWS(HEX_SQLITE), KEY_ROWS_PG[] = KEY_ROWS(HEX_PG);
static const char LOCK_KEY[] = "SELECT pg_advisory_xact_lock($1)";

struct key {
	int64_t lock;
	const char *k;
};

static int by_lock(const void *a, const void *b)
{
	const struct key *x = a, *y = b;
	return x->lock < y->lock ? -1 : x->lock > y->lock;
}

static int64_t lock_of(const char *run, const char *k)
{
	uint64_t h = 1469598103934665603ULL;
	for (const char *p = run; *p; p++)
		h = (h ^ (unsigned char)*p) * 1099511628211ULL;
	h = (h ^ '\n') * 1099511628211ULL;
	for (const char *p = k; *p; p++)
		h = (h ^ (unsigned char)*p) * 1099511628211ULL;
	return (int64_t)h;
}

int cm_summary_refresh(struct cm_store *s, const char *run_id, char *const *keys, size_t n)
{
	cm_summary_forget(s); /* rows written around the writer's cache */
	struct key *order = cm_xcalloc(n + 1, sizeof(*order));
	for (size_t i = 0; i < n; i++)
		order[i] = (struct key){ lock_of(run_id, keys[i]), keys[i] };
	qsort(order, n, sizeof(*order), by_lock);
	int rc = 0;
	for (size_t i = 0; !rc && i < n; i++) {
		if (s->pg) {
			char lock[24];
			snprintf(lock, sizeof(lock), "%lld", (long long)order[i].lock);
			const char *p[] = { lock };
			if ((rc = cm_store_exec(s, LOCK_KEY, 1, p)))
				break;
		}
		char *c = cm_xstrdup(order[i].k), *tab = strchr(c, '\t');
		*tab = 0;
		struct group g = { cm_xstrdup(run_id), cm_xstrdup(c), cm_xstrdup(tab + 1), NULL, 0,
				   false };
		const char *p[] = { run_id, c, tab + 1 };
		rc = s->ops->query(s, s->pg ? KEY_ROWS_PG : KEY_ROWS_SQLITE, 3, p, refresh_row, &g)
			     ? CM_ERR(CM_EIO) : 0;
		rc = rc ? rc : group_put(s, &g);
		group_reset(&g);
		free(c);
	}
	free(order);
	return rc;
}

/* ---- after a boot: its rows appended ---------------------------------------------------------- */

static const char KEY_SUMMARY[] =
	"SELECT phase, first_row, last_row, n_rows, n, n_warmup, n_failed, n_unmeasurable, "
	"n_interrupted, vals FROM session_summary WHERE run_id = $1 AND case_id = $2 AND "
	"session = $3";

static int summary_row(void *ctx, int ncol, const char *const *v)
{
	struct group *g = ctx;
	size_t n = (size_t)atoll(v[4]);
	g->p = cm_xrealloc(g->p, (g->np + 1) * sizeof(*g->p));
	struct phase_acc *a = &g->p[g->np++];
	*a = (struct phase_acc){ .phase = cm_xstrdup(v[0]), .last = atoll(v[2]), .rows = atol(v[3]),
				 .warm = atol(v[5]), .failed = atol(v[6]), .unmeas = atol(v[7]),
				 .intr = atol(v[8]), .v = cm_xmalloc((n + 1) * sizeof(double)),
				 .n = n, .cap = n + 1 };
	snprintf(a->first, sizeof(a->first), "%s", v[1]);
	g->bad |= !v[9] || cm_summary_vals_decode(v[9], a->v, n);
	if (!g->bad) { /* the text as it is: the writer appends to it */
		cm_buf_append(&a->hex, v[9], 16 * n);
		a->nhex = n;
	}
	return 0;
}

/* appends row r to g's phases; false when it does not come after its phase's last row */
static bool append(struct group *g, const struct cm_summary_new *r, bool *touched)
{
	size_t k = 0;
	while (k < g->np && strcmp(g->p[k].phase, r->phase))
		k++;
	if (k == g->np) {
		g->p = cm_xrealloc(g->p, (g->np + 1) * sizeof(*g->p));
		g->p[g->np++] = (struct phase_acc){ .phase = cm_xstrdup(r->phase), .last = -1 };
		snprintf(g->p[k].first, sizeof(g->p[k].first), "%lld", (long long)r->rowid);
	}
	struct phase_acc *a = &g->p[k];
	if (r->rowid <= a->last)
		return false;
	a->last = r->rowid;
	a->rows++;
	touched[k] = true;
	switch (r->kind) {
	case CM_ROW_INTERRUPTED: a->intr++; break;
	case CM_ROW_WARMUP: a->warm++; break;
	case CM_ROW_FAILED: a->failed++; break;
	case CM_ROW_UNMEASURABLE: a->unmeas++; break;
	default:
		CM_PUSH(a->v, a->n, a->cap);
		a->v[a->n++] = r->value;
	}
	return true;
}

/* ---- the writer's cache: a session's summary kept between its boots ------------------------- */

/* A boot's rows are appended to the groups the writer wrote last, not to the summary read
 * back and decoded (which cost every boot the whole session so far: quadratic over a
 * session). A group is used only while it is the store's own row, to the bit:
 * - SQLite: no other connection has committed to the file since this one's last write
 *   (the data version sqlite.c reads as the write transaction begins, where no one else can
 *   commit);
 * - PostgreSQL: the key's rows still count what the group counts (n_rows and last_row of
 *   every phase), read under the key's lock: another writer's boot or copy adds to them;
 * - every write that does not go through here (a refresh, the migration) and every
 *   transaction that does not commit forget the cache (cm_summary_forget).
 * Else the row is read back as before. */
#define CACHE_MAX 256 /* keys kept: a shuffled session visits every case in turn */

struct cached {
	int64_t hash; /* lock_of(run, key) */
	char *key;
	struct group g;
};

struct cm_summary_cache {
	struct cached e[CACHE_MAX];
	size_t n, next; /* entries in use; the one replaced next (the oldest) */
	long long version; /* SQLite's data version the entries are the store's at */
};

void cm_summary_forget(struct cm_store *s)
{
	struct cm_summary_cache *c = s->sums;
	for (size_t i = 0; c && i < c->n; i++) {
		free(c->e[i].key);
		group_reset(&c->e[i].g);
	}
	free(c);
	s->sums = NULL;
}

static const char KEY_MARKS[] = "SELECT phase, n_rows, last_row FROM session_summary WHERE "
				"run_id = $1 AND case_id = $2 AND session = $3";

struct marks {
	const struct group *g;
	size_t seen;
	bool differ;
};

static int mark_row(void *ctx, int ncol, const char *const *v)
{
	struct marks *m = ctx;
	size_t k = 0;
	while (k < m->g->np && strcmp(m->g->p[k].phase, v[0]))
		k++;
	m->seen++;
	m->differ |= k == m->g->np || m->g->p[k].rows != atol(v[1]) || m->g->p[k].last != atoll(v[2]);
	return 0;
}

/* The cache, emptied when it may no longer be the store's (SQLite); NULL when it cannot say. */
static struct cm_summary_cache *cache(struct cm_store *s)
{
	long long v = s->pg ? 0 : s->data_version; /* read as the transaction began (sqlite.c) */
	if (v < 0) {
		cm_summary_forget(s);
		return NULL;
	}
	struct cm_summary_cache *c = s->sums;
	if (c && c->version != v) {
		cm_summary_forget(s);
		c = NULL;
	}
	if (!c) {
		c = s->sums = cm_xcalloc(1, sizeof(*c));
		c->version = v;
	}
	return c;
}

/* run's key's group, when the cache holds it and it is the store's row */
static struct cached *cache_find(struct cm_store *s, struct cm_summary_cache *c, int64_t hash,
				 const char *key)
{
	size_t i = 0;
	while (i < c->n && (c->e[i].hash != hash || strcmp(c->e[i].key, key)))
		i++;
	if (i == c->n)
		return NULL;
	struct cached *e = &c->e[i];
	if (s->pg) {
		struct marks m = { &e->g, 0, false };
		const char *p[] = { e->g.run, e->g.case_id, e->g.session };
		if (s->ops->query(s, KEY_MARKS, 3, p, mark_row, &m) || m.differ || m.seen != e->g.np) {
			free(e->key); /* read back instead */
			group_reset(&e->g);
			*e = c->e[--c->n];
			c->e[c->n] = (struct cached){ 0 };
			c->next = 0;
			return NULL;
		}
	}
	return e;
}

/* g (now written) kept for the key's next boot; when full, in place of the one kept longest
 * (round robin from slot 0: a PostgreSQL key dropped as stale moves the last slot into its own
 * and restarts the round, so "longest" is then approximate; a miss only costs a read-back) */
static void cache_keep(struct cm_summary_cache *c, int64_t hash, const char *key, struct group *g)
{
	size_t i = 0;
	while (i < c->n && (c->e[i].hash != hash || strcmp(c->e[i].key, key)))
		i++;
	if (i == c->n) {
		if (c->n < CACHE_MAX) {
			i = c->n++;
		} else {
			i = c->next;
			c->next = (c->next + 1) % CACHE_MAX;
		}
		free(c->e[i].key);
		c->e[i].key = cm_xstrdup(key);
	}
	group_reset(&c->e[i].g);
	c->e[i].hash = hash;
	c->e[i].g = *g;
	*g = (struct group){ 0 };
}

/* The key's summary rows as the store holds them, read back. */
static int read_back(struct cm_store *s, const char *run_id, const char *key, struct group *g)
{
	char *c = cm_xstrdup(key), *tab = strchr(c, '\t');
	*tab = 0;
	*g = (struct group){ cm_xstrdup(run_id), cm_xstrdup(c), cm_xstrdup(tab + 1), NULL, 0, false };
	const char *p[] = { run_id, c, tab + 1 };
	int rc = s->ops->query(s, KEY_SUMMARY, 3, p, summary_row, g) ? CM_ERR(CM_EIO) : 0;
	free(c);
	return rc;
}

int cm_summary_add(struct cm_store *s, const char *run_id, const char *key,
		   const struct cm_summary_new *rows, size_t n)
{
	if (!n)
		return 0;
	char *k = (char *)key;
	int64_t hash = lock_of(run_id, key);
	if (s->pg) { /* the key's lock before its summary is read (cm_summary_refresh's) */
		char lock[24];
		snprintf(lock, sizeof(lock), "%lld", (long long)hash);
		const char *p[] = { lock };
		if (cm_store_exec(s, LOCK_KEY, 1, p))
			return CM_ERR(CM_EIO);
	}
	struct cm_summary_cache *c = cache(s);
	struct cached *e = c ? cache_find(s, c, hash, key) : NULL;
	struct group own = { 0 }, *g = e ? &e->g : &own;
	int rc = e ? 0 : read_back(s, run_id, key, &own);
	bool *touched = cm_xcalloc(g->np + n + 1, sizeof(bool)), in_order = !rc && !g->bad;
	for (size_t i = 0; in_order && i < n; i++)
		in_order = append(g, &rows[i], touched);
	if (in_order && !rc)
		rc = put_phases(s, g, touched);
	free(touched);
	if (rc || !in_order)
		cm_summary_forget(s); /* the transaction ends, or the key is read from its samples */
	else if (!e && c)
		cache_keep(c, hash, key, &own);
	group_reset(&own);
	if (!in_order && !rc) /* another writer's later row first: the key from its samples */
		rc = cm_summary_refresh(s, run_id, &k, 1); /* its lock again: held already, granted */
	return rc;
}
