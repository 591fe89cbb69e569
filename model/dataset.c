/* The tidy sample table in memory, and its CSV form (RFC 4180). */
#include <errno.h>
#include <stdarg.h>
#include <limits.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "coldmark/model.h"

static const char *const fixed_cols[] = { CM_SAMPLES_COLUMNS };
#define NFIXED ((int)(sizeof(fixed_cols) / sizeof(fixed_cols[0])))

#define CM_HDR_INFO_(e, name, cmp) { name, cmp },
const struct cm_header_key_info cm_header_keys[] = { CM_HEADER_KEYS(CM_HDR_INFO_) };
#undef CM_HDR_INFO_

enum cm_row_kind cm_row_kind(const struct cm_sample_row *r)
{
	if (!strcmp(r->status, CM_STATUS_INTERRUPTED_NAME))
		return CM_ROW_INTERRUPTED; /* coldmark was stopped: not the guest's failure */
	if (r->warmup)
		return CM_ROW_WARMUP;
	if (strcmp(r->status, CM_STATUS_OK_NAME))
		return CM_ROW_FAILED;
	return isnan(r->duration_ns) ? CM_ROW_UNMEASURABLE : CM_ROW_MEASURED;
}

bool cm_row_boot_done(const struct cm_sample_row *r)
{
	return strcmp(r->status, CM_STATUS_INTERRUPTED_NAME) != 0;
}

void cm_dataset_init(struct cm_dataset *ds, char *const *axes, size_t naxes)
{
	memset(ds, 0, sizeof(*ds));
	ds->axes = cm_xcalloc(naxes + 1, sizeof(char *));
	for (size_t i = 0; i < naxes; i++)
		ds->axes[i] = cm_xstrdup(axes[i]);
	ds->naxes = naxes;
}

static uint64_t fnv(const char *s)
{
	uint64_t h = 1469598103934665603ULL;
	for (; *s; s++)
		h = (h ^ (unsigned char)*s) * 1099511628211ULL;
	return h;
}

static void rehash(struct cm_dataset *ds)
{
	free(ds->hash);
	ds->hcap = ds->hcap ? ds->hcap * 2 : 64;
	ds->hash = cm_xcalloc(ds->hcap, sizeof(size_t));
	for (size_t i = 0; i < ds->ncases; i++) {
		size_t h = fnv(ds->cases[i].id) & (ds->hcap - 1);
		while (ds->hash[h])
			h = (h + 1) & (ds->hcap - 1);
		ds->hash[h] = i + 1;
	}
}

size_t cm_dataset_case(struct cm_dataset *ds, const char *id, char *const *labels)
{
	if (ds->hcap) {
		size_t h = fnv(id) & (ds->hcap - 1);
		while (ds->hash[h]) {
			if (!strcmp(ds->cases[ds->hash[h] - 1].id, id))
				return ds->hash[h] - 1;
			h = (h + 1) & (ds->hcap - 1);
		}
	}
	CM_PUSH(ds->cases, ds->ncases, ds->ccap);
	struct cm_ds_case *c = &ds->cases[ds->ncases++];
	c->id = cm_xstrdup(id);
	c->labels = cm_xcalloc(ds->naxes + 1, sizeof(char *));
	for (size_t i = 0; i < ds->naxes; i++)
		c->labels[i] = cm_xstrdup(labels && labels[i] ? labels[i] : "");
	if (2 * ds->ncases > ds->hcap)
		rehash(ds);
	else {
		size_t h = fnv(id) & (ds->hcap - 1);
		while (ds->hash[h])
			h = (h + 1) & (ds->hcap - 1);
		ds->hash[h] = ds->ncases;
	}
	return ds->ncases - 1;
}

size_t cm_dataset_case_index(const struct cm_dataset *ds, const char *id)
{
	if (!ds->hcap)
		return ds->ncases;
	size_t h = fnv(id) & (ds->hcap - 1);
	while (ds->hash[h]) {
		if (!strcmp(ds->cases[ds->hash[h] - 1].id, id))
			return ds->hash[h] - 1;
		h = (h + 1) & (ds->hcap - 1);
	}
	return ds->ncases;
}

size_t cm_dataset_find_phase(const struct cm_dataset *ds, const char *phase)
{
	size_t i = 0;
	while (i < ds->nphases && strcmp(ds->phases[i], phase))
		i++;
	return i;
}

size_t cm_dataset_phase(struct cm_dataset *ds, const char *phase)
{
	size_t i = cm_dataset_find_phase(ds, phase);
	if (i < ds->nphases)
		return i;
	ds->phases = cm_xrealloc(ds->phases, (ds->nphases + 1) * sizeof(char *));
	ds->phases[ds->nphases] = cm_xstrdup(phase);
	return ds->nphases++;
}

/* Statuses, sources and cache drops take a handful of values over millions of rows: each
 * is stored once and the rows point at it. */
static char *intern(struct cm_dataset *ds, const char *s)
{
	long at = cm_strset_find(&ds->pool, s);
	if (at >= 0)
		return ds->pool_strings[at];
	ds->pool_strings = cm_xrealloc(ds->pool_strings, (ds->npool + 1) * sizeof(char *));
	char *copy = ds->pool_strings[ds->npool] = cm_xstrdup(s);
	cm_strset_add(&ds->pool, copy, (long)ds->npool++); /* the set borrows our copy */
	return copy;
}

void cm_dataset_add(struct cm_dataset *ds, const char *case_id, int boot, bool warmup,
		    const char *status, const char *phase, double duration_ns, const char *source,
		    const char *cache)
{
	if (!ds->session_now)
		cm_dataset_session(ds, "1", NULL);
	size_t ci = cm_dataset_case(ds, case_id, NULL), pi = cm_dataset_phase(ds, phase);
	CM_PUSH(ds->rows, ds->n, ds->cap);
	ds->rows[ds->n++] = (struct cm_sample_row){
		.case_id = ds->cases[ci].id, .status = intern(ds, status),
		.phase = ds->phases[pi], .source = intern(ds, source ? source : ""),
		.cache = intern(ds, cache ? cache : ""), .boot = boot, .warmup = warmup,
		.session = ds->session_now, .audit = intern(ds, ds->audit_now ? ds->audit_now : ""),
		.duration_ns = duration_ns, .case_idx = ci, .phase_idx = pi,
	};
}

void cm_dataset_truncate(struct cm_dataset *ds, size_t n)
{
	if (n < ds->n)
		ds->n = n;
}

void cm_dataset_meta(struct cm_dataset *ds, const char *key, const char *val)
{
	/* by a hash set of the keys: a header may be copied key by key (10^3 and more) */
	long at = cm_strset_find(&ds->meta_index, key);
	if (at >= 0) {
		free(ds->meta_vals[at]);
		ds->meta_vals[at] = cm_xstrdup(val);
		return;
	}
	size_t i = ds->nmeta;
	if (!(i & (i - 1))) { /* capacity doubles at powers of two */
		ds->meta_keys = cm_xrealloc(ds->meta_keys, (i ? 2 * i : 1) * sizeof(char *));
		ds->meta_vals = cm_xrealloc(ds->meta_vals, (i ? 2 * i : 1) * sizeof(char *));
	}
	ds->meta_keys[i] = cm_xstrdup(key);
	ds->meta_vals[i] = cm_xstrdup(val);
	cm_strset_add(&ds->meta_index, ds->meta_keys[i], (long)i); /* borrows the key */
	ds->nmeta++;
}

const char *cm_dataset_get_meta(const struct cm_dataset *ds, const char *key)
{
	long at = cm_strset_find(&ds->meta_index, key);
	return at >= 0 ? ds->meta_vals[at] : NULL;
}

void cm_dataset_free(struct cm_dataset *ds)
{
	for (size_t i = 0; i < ds->npool; i++)
		free(ds->pool_strings[i]);
	free(ds->pool_strings);
	cm_strset_free(&ds->pool);
	free(ds->rows);
	for (size_t i = 0; i < ds->nsums; i++)
		free(ds->sums[i].values);
	free(ds->sums);
	for (size_t i = 0; i < ds->ncases; i++) {
		free(ds->cases[i].id);
		for (size_t a = 0; a < ds->naxes; a++)
			free(ds->cases[i].labels[a]);
		free(ds->cases[i].labels);
	}
	free(ds->cases);
	for (size_t i = 0; i < ds->naxes; i++)
		free(ds->axes[i]);
	free(ds->axes);
	for (size_t i = 0; i < ds->nphases; i++)
		free(ds->phases[i]);
	free(ds->phases);
	for (size_t i = 0; i < ds->nmeta; i++) {
		free(ds->meta_keys[i]);
		free(ds->meta_vals[i]);
	}
	free(ds->meta_keys);
	free(ds->meta_vals);
	cm_strset_free(&ds->meta_index);
	for (size_t i = 0; i < ds->nsessions; i++) {
		free(ds->sessions[i].id);
		free(ds->sessions[i].host);
	}
	free(ds->sessions);
	cm_strset_free(&ds->session_ids);
	free(ds->hash);
	memset(ds, 0, sizeof(*ds));
}

void cm_csv_field(FILE *f, const char *s)
{
	/* a spreadsheet runs a cell that starts with = + - @ as a formula: a quote in front
	 * keeps it text (and is removed again when coldmark reads the file) */
	bool guard = *s && strchr("=+-@\t\r", *s);
	if (!s[strcspn(s, ",\"\r\n")]) {
		if (guard)
			fputc('\'', f);
		fputs(s, f);
		return;
	}
	fputc('"', f);
	if (guard)
		fputc('\'', f);
	for (; *s; s++) {
		if (*s == '"')
			fputc('"', f);
		fputc(*s, f);
	}
	fputc('"', f);
}

void cm_samples_write_header(FILE *f, const struct cm_dataset *ds)
{
	for (int i = 0; i < NFIXED; i++)
		fprintf(f, "%s%s", i ? "," : "", fixed_cols[i]);
	for (size_t i = 0; i < ds->naxes; i++) {
		fputc(',', f);
		cm_csv_field(f, ds->axes[i]);
	}
	fputc('\n', f);
}

void cm_samples_write_row(FILE *f, const struct cm_dataset *ds, const struct cm_sample_row *r)
{
	cm_csv_field(f, r->case_id);
	fprintf(f, ",%d,", r->boot);
	cm_csv_field(f, r->status);
	fputc(',', f);
	cm_csv_field(f, r->phase);
	if (isnan(r->duration_ns))
		fputc(',', f);
	else
		fprintf(f, ",%.0f", r->duration_ns);
	fprintf(f, ",%d,", r->warmup);
	cm_csv_field(f, r->source);
	fputc(',', f);
	cm_csv_field(f, r->cache);
	/* a session's number within its run: the part of its id after the last '#' */
	const char *sid = r->session ? ds->sessions[r->session - 1].id : "1", *hash = strrchr(sid, '#');
	fprintf(f, ",%s,", hash ? hash + 1 : sid);
	cm_csv_field(f, r->audit ? r->audit : "");
	fputs(cm_is_reference_case(r->case_id) ? ",true" : ",false", f); /* read back: ignored */
	const struct cm_ds_case *c = &ds->cases[r->case_idx];
	for (size_t i = 0; i < ds->naxes; i++) {
		fputc(',', f);
		cm_csv_field(f, c->labels[i]);
	}
	fputc('\n', f);
}

static void buf_putc(struct cm_buf *b, char c)
{
	if (b->len + 2 > b->cap) {
		b->cap = b->cap ? 2 * b->cap : 32;
		b->s = cm_xrealloc(b->s, b->cap);
	}
	b->s[b->len++] = c;
	b->s[b->len] = 0;
}

/* One CSV record; returns the number of fields, -1 at EOF, -2 on a malformed quote. */
static int csv_record(FILE *f, struct cm_buf *fields, size_t max, int *line)
{
	size_t n = 0;
	int ch = getc_unlocked(f);
	if (ch == EOF)
		return -1;
	for (size_t i = 0; i < max; i++)
		fields[i].len = 0, fields[i].s ? fields[i].s[0] = 0 : 0;
	bool quoted = false, was_quoted = false;
	for (;; ch = getc_unlocked(f)) {
		if (ch == EOF && quoted)
			return -2;
		if (quoted) {
			if (ch == '"') {
				int nx = getc_unlocked(f);
				if (nx == '"') {
					if (n < max)
						cm_buf_puts(&fields[n], "\"");
					continue;
				}
				quoted = false;
				ch = nx;
			} else {
				if (ch == '\n')
					(*line)++;
				if (n < max)
					buf_putc(&fields[n], (char)ch);
				continue;
			}
		}
		if (ch == '"' && !was_quoted && (n >= max || !fields[n].len)) {
			quoted = was_quoted = true;
			continue;
		}
		if (ch == ',' ) {
			n++;
			was_quoted = false;
			continue;
		}
		if (ch == '\n' || ch == EOF) {
			(*line)++;
			return (int)n + 1;
		}
		if (ch == '\r')
			continue;
		if (n < max)
			buf_putc(&fields[n], (char)ch);
	}
}

static int read_samples(const char *path, struct cm_dataset *ds, struct cm_diags *d,
			bool allow_empty);

int cm_samples_read(const char *path, struct cm_dataset *ds, struct cm_diags *d)
{
	return read_samples(path, ds, d, false);
}

int cm_samples_read_journal(const char *path, struct cm_dataset *ds, struct cm_diags *d)
{
	return read_samples(path, ds, d, true);
}

/* Rows seen, by (case, boot, warm-up, phase): a second row of one boot's phase would count
 * twice. A boot cut short by an interrupt is run again under its number on --resume, so a
 * row of status interrupted may be followed by the real one. */
struct seen {
	size_t *slot; /* row index + 1 */
	size_t cap, n;
};

static uint64_t row_key(const struct cm_sample_row *r)
{
	/* the slot is the key's low bits: mixed (splitmix64's finaliser), or consecutive boots
	 * of the cases and phases fill one run of slots and each probe walks it */
	uint64_t h = ((uint64_t)r->case_idx * 1000003u + (uint64_t)r->phase_idx) * 2654435761u ^
		     ((uint64_t)(unsigned)r->boot << 1 | r->warmup);
	h = (h ^ (h >> 30)) * 0xbf58476d1ce4e5b9ULL;
	h = (h ^ (h >> 27)) * 0x94d049bb133111ebULL;
	return h ^ (h >> 31);
}

static bool same_slot(const struct cm_sample_row *a, const struct cm_sample_row *b)
{
	return a->case_idx == b->case_idx && a->phase_idx == b->phase_idx && a->boot == b->boot &&
	       a->warmup == b->warmup;
}

static void seen_put(struct seen *s, const struct cm_dataset *ds, size_t row)
{
	size_t h = row_key(&ds->rows[row]) & (s->cap - 1);
	while (s->slot[h] && !same_slot(&ds->rows[s->slot[h] - 1], &ds->rows[row]))
		h = (h + 1) & (s->cap - 1);
	if (!s->slot[h])
		s->n++;
	s->slot[h] = row + 1;
}

/* The row index of an earlier row of the same boot and phase, or -1 (and remembers row). */
static size_t seen_row(struct seen *s, const struct cm_dataset *ds, size_t row)
{
	if (2 * (s->n + 1) > s->cap) {
		struct seen bigger = { cm_xcalloc(s->cap ? 2 * s->cap : 1024, sizeof(size_t)),
				       s->cap ? 2 * s->cap : 1024, 0 };
		for (size_t i = 0; i < s->cap; i++)
			if (s->slot[i])
				seen_put(&bigger, ds, s->slot[i] - 1);
		free(s->slot);
		*s = bigger;
	}
	const struct cm_sample_row *r = &ds->rows[row];
	size_t h = row_key(r) & (s->cap - 1);
	while (s->slot[h] && !same_slot(&ds->rows[s->slot[h] - 1], r))
		h = (h + 1) & (s->cap - 1);
	size_t before = s->slot[h] ? s->slot[h] - 1 : (size_t)-1;
	if (before != (size_t)-1 && (!cm_row_boot_done(&ds->rows[before]) || !cm_row_boot_done(r)))
		before = (size_t)-1;
	seen_put(s, ds, row);
	return before;
}

/* A cell written as '=... (see cm_csv_field) reads back as =... */
static void unguard(struct cm_buf *b)
{
	if (b->len >= 2 && b->s[0] == '\'' && strchr("=+-@\t\r", b->s[1])) {
		memmove(b->s, b->s + 1, b->len);
		b->len--;
	}
}

/* A samples.csv being read: the file, its header's columns, the record at hand. */
enum { MAXF = 256 };
struct reader {
	const char *path;
	FILE *f;
	struct cm_diags *d;
	struct cm_buf *fl; /* the current record's fields */
	char *header[MAXF];
	int nh, col[NFIXED], axcol[MAXF], line;
	size_t nax;
	struct seen seen;
};

static int fail(struct reader *r, int line, int col, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));
static int fail(struct reader *r, int line, int col, const char *fmt, ...)
{
	struct cm_buf b = { 0 };
	va_list ap;
	va_start(ap, fmt);
	cm_buf_vprintf(&b, fmt, ap);
	va_end(ap);
	cm_diags_add(r->d, CM_SEV_ERROR, r->path, line, col, "%s", b.s);
	cm_buf_free(&b);
	return CM_ERR(CM_EPARSE);
}

/* The header (after a byte order mark and blank lines): the contract columns, and every other
 * column an axis. */
static int read_header(struct reader *r, struct cm_dataset *ds)
{
	unsigned char bom[3]; /* spreadsheets write one */
	if (fread(bom, 1, 3, r->f) != 3 || memcmp(bom, "\xEF\xBB\xBF", 3))
		rewind(r->f);
	while ((r->nh = csv_record(r->f, r->fl, MAXF, &r->line)) == 1 && !r->fl[0].len)
		;
	if (r->nh <= 0)
		return fail(r, 1, 1, "empty file: no header");
	for (int i = 0; i < r->nh && i < MAXF; i++)
		r->header[i] = cm_xstrdup(r->fl[i].s ? r->fl[i].s : "");
	for (int k = 0; k < NFIXED; k++) {
		r->col[k] = -1;
		for (int i = 0; i < r->nh && i < MAXF; i++)
			if (!strcmp(r->header[i], fixed_cols[k]))
				r->col[k] = i;
		if (k < 5 && r->col[k] < 0)
			return fail(r, 1, 1, "missing column '%s' (need %s)", fixed_cols[k],
				    "case,boot,status,phase,duration_ns");
	}
	char *axes[MAXF];
	for (int i = 0; i < r->nh && i < MAXF; i++) {
		bool fixed = false;
		for (int k = 0; k < NFIXED; k++)
			fixed |= r->col[k] == i;
		if (!fixed && *r->header[i]) {
			r->axcol[r->nax] = i;
			axes[r->nax++] = r->header[i];
		}
	}
	cm_dataset_init(ds, axes, r->nax);
	return 0;
}

#define F(k) (r->fl[r->col[k]].s ? r->fl[r->col[k]].s : "")

/* One record of n fields into ds, each cell checked with its line and column. */
static int read_row(struct reader *r, int n, struct cm_dataset *ds)
{
	if (n != r->nh)
		return fail(r, r->line, 1, "%d fields, the header has %d", n, r->nh);
	for (int i = 0; i < n; i++) {
		unguard(&r->fl[i]);
		if (r->fl[i].s && cm_has_control(r->fl[i].s))
			return fail(r, r->line, i + 1, "a control character in column '%s' (an "
				    "escape sequence would reach the terminal)", r->header[i]);
	}
	char *end;
	errno = 0;
	long long boot = strtoll(F(1), &end, 10);
	if (!*F(1) || *end || errno || boot < 0 || boot > INT_MAX)
		return fail(r, r->line, r->col[1] + 1, *F(1) && !*end
			    ? "boot '%s' is out of range (0 to 2147483647)" : "boot '%s' is not a number",
			    F(1));
	double dur = NAN;
	/* an ok boot's phase takes time; a failed boot's may run backwards (out_of_order) and
	 * is kept as data, never measured */
	if (*F(4) && ((dur = strtod(F(4), &end)), *end || !isfinite(dur)))
		return fail(r, r->line, r->col[4] + 1, "duration_ns '%s' is not a number", F(4));
	if (*F(4) && !(dur > 0) && !strcmp(F(2), CM_STATUS_OK_NAME))
		return fail(r, r->line, r->col[4] + 1, "duration_ns '%s' is not positive", F(4));
	char *labels[MAXF];
	for (size_t a = 0; a < r->nax; a++)
		labels[a] = r->fl[r->axcol[a]].s ? r->fl[r->axcol[a]].s : "";
	cm_dataset_case(ds, F(0), labels);
	bool warm = r->col[5] >= 0 && (!strcmp(F(5), "1") || !strcmp(F(5), "true"));
	if (r->col[8] >= 0) {
		long long sn = strtoll(F(8), &end, 10);
		if (!*F(8) || *end || sn < 1 || sn > INT_MAX)
			return fail(r, r->line, r->col[8] + 1, "session '%s' is not a session number "
				    "(1, 2, ...)", F(8));
		cm_dataset_session(ds, F(8), NULL);
	}
	ds->audit_now = r->col[9] >= 0 ? F(9) : NULL;
	cm_dataset_add(ds, F(0), (int)boot, warm, F(2), F(3), dur, r->col[6] >= 0 ? F(6) : "",
		       r->col[7] >= 0 ? F(7) : "");
	ds->audit_now = NULL;
	size_t first = seen_row(&r->seen, ds, ds->n - 1);
	if (first != (size_t)-1)
		return fail(r, r->line, 1, "duplicate row: case '%s', boot %lld%s, phase '%s' again "
			    "(first on row %zu of the samples)", ds->rows[ds->n - 1].case_id, boot,
			    warm ? " (warm-up)" : "", ds->rows[ds->n - 1].phase, first + 1);
	return 0;
}

#undef F

static int read_rows(struct reader *r, struct cm_dataset *ds, bool partial)
{
	int n, rc = 0;
	while (!rc && (n = csv_record(r->f, r->fl, MAXF, &r->line)) != -1) {
		if (n == -2)
			return fail(r, r->line, 1, "unterminated quoted field");
		if (n == 1 && !r->fl[0].len)
			continue; /* blank line */
		if (partial && feof(r->f))
			break; /* the cut-off last row: said below, never counted */
		rc = read_row(r, n, ds);
	}
	if (!rc && partial)
		rc = fail(r, r->line, 1, "the last row has no end of line: it was cut off (a crash "
			  "or a full disk); coldmark run --resume cuts it, or remove it by hand");
	return rc;
}

static int read_samples(const char *path, struct cm_dataset *ds, struct cm_diags *d,
			bool allow_empty)
{
	memset(ds, 0, sizeof(*ds)); /* freeable whatever happens below */
	struct reader r = { .path = path, .d = d };
	if (!(r.f = fopen(path, "r"))) {
		cm_diags_add(d, CM_SEV_ERROR, path, 0, 0, "cannot open: %s", strerror(errno));
		return CM_ERR(CM_EIO);
	}
	r.fl = cm_xcalloc(MAXF, sizeof(*r.fl));
	/* a file cut off mid-row ends without a newline: found now, said after the rows */
	bool partial = fseek(r.f, -1, SEEK_END) == 0 && getc_unlocked(r.f) != '\n';
	rewind(r.f);
	int rc = read_header(&r, ds);
	if (!rc)
		rc = read_rows(&r, ds, partial);
	if (!rc)
		cm_dataset_sort_cases(ds);
	if (!rc && !ds->n && !allow_empty) {
		cm_diags_add(d, CM_SEV_ERROR, path, 0, 0, "no samples in the file");
		rc = CM_ERR(CM_EPARSE);
	}
	for (int i = 0; i < MAXF; i++) {
		cm_buf_free(&r.fl[i]);
		free(r.header[i]);
	}
	free(r.fl);
	free(r.seen.slot);
	fclose(r.f);
	if (rc)
		cm_dataset_free(ds); /* nothing half-read reaches the caller, nothing leaks */
	return rc;
}

static void meta_to(FILE *f, const struct cm_dataset *ds)
{
	fputs("key,value\n", f);
	for (size_t i = 0; i < ds->nmeta; i++) {
		cm_csv_field(f, ds->meta_keys[i]);
		fputc(',', f);
		cm_csv_field(f, ds->meta_vals[i]);
		fputc('\n', f);
	}
}

char *cm_meta_format(const struct cm_dataset *ds)
{
	char *text = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&text, &len);
	meta_to(f, ds);
	fclose(f);
	return text;
}

static const struct cm_dataset *sort_ds; /* qsort has no context argument */
static int case_order(const void *a, const void *b)
{
	const struct cm_ds_case *x = &sort_ds->cases[*(const size_t *)a],
				*y = &sort_ds->cases[*(const size_t *)b];
	int r = cm_labels_cmp(x->labels, y->labels, sort_ds->naxes);
	return r ? r : strcmp(x->id, y->id);
}

/* Moves phase name to the end, the rows' indices following. */
static void phase_to_end(struct cm_dataset *ds, const char *name)
{
	size_t t = cm_dataset_find_phase(ds, name), last = ds->nphases - 1;
	if (t >= last)
		return;
	char *keep = ds->phases[t];
	memmove(&ds->phases[t], &ds->phases[t + 1], (last - t) * sizeof(char *));
	ds->phases[last] = keep;
	for (size_t i = 0; i < ds->n; i++) {
		size_t *pi = &ds->rows[i].phase_idx;
		*pi = *pi == t ? last : *pi > t ? *pi - 1 : *pi;
	}
}

/* Phases in the order first seen, then total, then the metrics, as a run lists them: a
 * reference case reports total alone, and when its boot came first total would lead. */
static void total_last(struct cm_dataset *ds)
{
	if (!ds->nphases)
		return;
	phase_to_end(ds, "total");
	for (size_t k = 0; k < CM_NMETRICS; k++)
		phase_to_end(ds, cm_metrics[k].name);
}

void cm_dataset_sort_cases(struct cm_dataset *ds)
{
	size_t n = ds->ncases, *order = cm_xmalloc((n + 1) * sizeof(size_t)),
	       *where = cm_xmalloc((n + 1) * sizeof(size_t));
	for (size_t i = 0; i < n; i++)
		order[i] = i;
	sort_ds = ds;
	qsort(order, n, sizeof(size_t), case_order);
	struct cm_ds_case *cases = cm_xmalloc((ds->ccap + 1) * sizeof(*cases));
	for (size_t i = 0; i < n; i++) {
		cases[i] = ds->cases[order[i]];
		where[order[i]] = i;
	}
	free(ds->cases);
	ds->cases = cases;
	for (size_t i = 0; i < ds->n; i++)
		ds->rows[i].case_idx = where[ds->rows[i].case_idx];
	ds->hcap /= 2; /* rehash doubles it back */
	rehash(ds);
	free(order);
	free(where);
	total_last(ds);
}


int cm_meta_read(const char *path, struct cm_dataset *ds)
{
	FILE *f = fopen(path, "r");
	if (!f)
		return CM_ERR(CM_ENOENT);
	struct cm_buf fl[2] = { 0 };
	int line = 0, n;
	bool first = true;
	while ((n = csv_record(f, fl, 2, &line)) != -1) {
		unguard(&fl[0]);
		unguard(&fl[1]);
		if (n == 2 && !first)
			cm_dataset_meta(ds, fl[0].s ? fl[0].s : "", fl[1].s ? fl[1].s : "");
		first = false;
	}
	cm_buf_free(&fl[0]);
	cm_buf_free(&fl[1]);
	fclose(f);
	return 0;
}
