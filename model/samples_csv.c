/* samples.csv and meta.csv: the dataset's CSV form (RFC 4180), written and read back with
 * every cell checked (its line and column said). */
#include <errno.h>
#include <stdarg.h>
#include <limits.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "coldmark/model.h"

static const char *const fixed_cols[] = { CM_SAMPLES_COLUMNS };
#define NFIXED ((int)(sizeof(fixed_cols) / sizeof(fixed_cols[0])))

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

/* v in decimal, the bytes "%lld" gives, without printf's format parsing: the journals' rows of
 * every boot are mostly numbers, and vfprintf was most of their cost. */
void cm_csv_int(FILE *f, long long v)
{
	char buf[24], *p = buf + sizeof(buf);
	unsigned long long u = v < 0 ? 0ULL - (unsigned long long)v : (unsigned long long)v;
	do
		*--p = (char)('0' + u % 10);
	while (u /= 10);
	if (v < 0)
		*--p = '-';
	fwrite(p, 1, (size_t)(buf + sizeof(buf) - p), f);
}

/* "%.0f" of d: an integral d within ±2^53 is exactly its integer (the same bytes), any other
 * (a fraction to round, huge, infinite) goes through printf as it always did. */
void cm_csv_whole(FILE *f, double d)
{
	if (d == trunc(d) && fabs(d) <= 9007199254740992.0 && !(d == 0 && signbit(d)))
		cm_csv_int(f, (long long)d);
	else
		fprintf(f, "%.0f", d);
}

/* The fixed columns a file of ds has: wave and slot (the last two) in a run in waves only, so
 * that a run without them writes the columns it always did. */
static int ncols(const struct cm_dataset *ds)
{
	return ds->waves ? NFIXED : NFIXED - 2;
}

void cm_samples_write_header(FILE *f, const struct cm_dataset *ds)
{
	for (int i = 0; i < ncols(ds); i++)
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
	fputc(',', f);
	cm_csv_int(f, r->boot);
	fputc(',', f);
	cm_csv_field(f, r->status);
	fputc(',', f);
	cm_csv_field(f, r->phase);
	if (isnan(r->duration_ns))
		fputc(',', f);
	else
		fputc(',', f), cm_csv_whole(f, r->duration_ns);
	fputc(',', f);
	cm_csv_int(f, r->warmup);
	fputc(',', f);
	cm_csv_field(f, r->source);
	fputc(',', f);
	cm_csv_field(f, r->cache);
	/* a session's number within its run: the part of its id after the last '#' */
	const char *sid = r->session ? ds->sessions[r->session - 1].id : "1", *hash = strrchr(sid, '#');
	fputc(',', f), fputs(hash ? hash + 1 : sid, f), fputc(',', f); /* ",%s," without vfprintf */
	cm_csv_field(f, r->audit ? r->audit : "");
	fputs(cm_is_reference_case(r->case_id) ? ",true" : ",false", f); /* read back: ignored */
	if (ds->waves && r->wave > 0) {
		fputc(',', f), cm_csv_int(f, r->wave);
		fputc(',', f), cm_csv_int(f, r->slot);
	}
	else if (ds->waves)
		fputs(",,", f);
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
	ds->waves = r->col[11] >= 0 && r->col[12] >= 0; /* written again as read */
	if ((r->col[11] >= 0) != (r->col[12] >= 0))
		return fail(r, 1, 1, "a column '%s' without '%s': both or neither",
			    r->col[11] >= 0 ? "wave" : "slot", r->col[11] >= 0 ? "slot" : "wave");
	return 0;
}

#define F(k) (r->fl[r->col[k]].s ? r->fl[r->col[k]].s : "")

/* The row's wave and slot (columns 11 and 12) into ds->wave_now and slot_now: both empty (a
 * boot outside a wave) or both whole numbers from 1. */
static int read_wave(struct reader *r, struct cm_dataset *ds)
{
	int v[2] = { 0, 0 };
	for (int k = 0; k < 2; k++) {
		int c = r->col[11 + k];
		const char *s = c >= 0 && r->fl[c].s ? r->fl[c].s : "";
		char *end;
		errno = 0;
		long long x = strtoll(s, &end, 10);
		if (*s && (*end || errno || x < 1 || x > INT_MAX))
			return fail(r, r->line, c + 1, "%s '%s' is not a %s number (1, 2, ...; empty: "
				    "booted alone)", fixed_cols[11 + k], s, fixed_cols[11 + k]);
		v[k] = *s ? (int)x : 0;
	}
	if (!v[0] != !v[1])
		return fail(r, r->line, r->col[v[0] ? 12 : 11] + 1, "a wave without a slot, or a slot "
			    "without a wave: both or neither");
	ds->wave_now = v[0], ds->slot_now = v[1];
	return 0;
}

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
	int rc = read_wave(r, ds);
	if (rc)
		return rc;
	cm_dataset_add(ds, F(0), (int)boot, warm, F(2), F(3), dur, r->col[6] >= 0 ? F(6) : "",
		       r->col[7] >= 0 ? F(7) : "");
	ds->audit_now = NULL;
	ds->wave_now = ds->slot_now = 0;
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

/* waves.csv (a run in waves, harness/waves.c): the makespan of each wave by its number. */
int cm_waves_makespans(const char *path, double **by_wave, size_t *n, struct cm_error *err)
{
	*by_wave = NULL, *n = 0;
	FILE *f = fopen(path, "r");
	if (!f) {
		cm_error_set(err, CM_ERR(CM_ENOENT), "%s: cannot read: %s", path, strerror(errno));
		return -1;
	}
	struct cm_buf fl[8] = { 0 };
	int line = 0, k, wcol = -1, mcol = -1, rc = 0;
	while (!rc && (k = csv_record(f, fl, 8, &line)) != -1) {
		if (k < 2)
			continue; /* a blank line */
		for (int i = 0; line == 1 && i < k; i++) {
			wcol = fl[i].s && !strcmp(fl[i].s, "wave") ? i : wcol;
			mcol = fl[i].s && !strcmp(fl[i].s, "makespan_ns") ? i : mcol;
		}
		if (line == 1 && (wcol < 0 || mcol < 0)) {
			cm_error_set(err, CM_ERR(CM_EPARSE), "%s:1: no wave and makespan_ns columns",
				     path);
			rc = -1;
		}
		if (line == 1 || rc)
			continue;
		char *end;
		long w = k > wcol && fl[wcol].s ? strtol(fl[wcol].s, &end, 10) : 0;
		if (k <= wcol || !fl[wcol].s || *end || w < 1 || w > 1 << 24) {
			cm_error_set(err, CM_ERR(CM_EPARSE), "%s:%d: wave '%s' is not a wave number",
				     path, line, k > wcol && fl[wcol].s ? fl[wcol].s : "");
			rc = -1;
			continue;
		}
		if ((size_t)w >= *n) {
			size_t was = *n;
			*n = (size_t)w + 1;
			*by_wave = cm_xrealloc(*by_wave, *n * sizeof(double));
			for (size_t i = was; i < *n; i++)
				(*by_wave)[i] = NAN;
		}
		const char *m = k > mcol && fl[mcol].s ? fl[mcol].s : "";
		double v = *m ? strtod(m, &end) : NAN; /* empty: a boot without its end marker */
		(*by_wave)[w] = *m && !*end && v >= 0 ? v : NAN;
	}
	for (int i = 0; i < 8; i++)
		cm_buf_free(&fl[i]);
	fclose(f);
	if (rc)
		free(*by_wave), *by_wave = NULL, *n = 0;
	return rc;
}
