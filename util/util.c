/* Shared helpers. They live in the matrix library because it is the bottom layer that every
 * other library already links. */
#include "coldmark/util.h"

#include <ctype.h>
#include <math.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <errno.h>
#include <sys/stat.h>
#include <time.h>

#define CM_MSG_(e, m) m,
static const char *const cm_messages[] = { CM_ERRORS(CM_MSG_) };
#undef CM_MSG_

const char *cm_strerror(int err)
{
	int i = err < 0 ? -err : err;
	return i < CM_ERR_COUNT ? cm_messages[i] : "unknown error";
}

int cm_error_set(struct cm_error *e, int code, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(e->msg, sizeof(e->msg), fmt, ap);
	va_end(ap);
	e->code = code;
	return code;
}

void *cm_xmalloc(size_t n)
{
	void *p = malloc(n ? n : 1);
	if (!p) {
		fputs("coldmark: out of memory\n", stderr);
		abort();
	}
	return p;
}

void *cm_xcalloc(size_t n, size_t sz)
{
	void *p = calloc(n ? n : 1, sz ? sz : 1);
	if (!p) {
		fputs("coldmark: out of memory\n", stderr);
		abort();
	}
	return p;
}

void *cm_xrealloc(void *p, size_t n)
{
	p = realloc(p, n ? n : 1);
	if (!p) {
		fputs("coldmark: out of memory\n", stderr);
		abort();
	}
	return p;
}

char *cm_xstrdup(const char *s)
{
	size_t n = strlen(s) + 1;
	return memcpy(cm_xmalloc(n), s, n);
}

char *cm_xasprintf(const char *fmt, ...)
{
	struct cm_buf b = { 0 };
	va_list ap;
	va_start(ap, fmt);
	cm_buf_vprintf(&b, fmt, ap);
	va_end(ap);
	return cm_buf_steal(&b);
}

void cm_buf_vprintf(struct cm_buf *b, const char *fmt, va_list ap)
{
	va_list ap2;
	va_copy(ap2, ap);
	int n = vsnprintf(NULL, 0, fmt, ap2);
	va_end(ap2);
	if (n < 0)
		return;
	if (b->len + (size_t)n + 1 > b->cap) {
		b->cap = (b->len + n + 1) * 2;
		b->s = cm_xrealloc(b->s, b->cap);
	}
	vsnprintf(b->s + b->len, n + 1, fmt, ap);
	b->len += n;
}

void cm_buf_printf(struct cm_buf *b, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	cm_buf_vprintf(b, fmt, ap);
	va_end(ap);
}

/* a copy, not a format: puts is on the paths that run once per case of a 10^5-case matrix.
 * NULL reads "(null)", as the "%s" it replaced printed it. */
void cm_buf_puts(struct cm_buf *b, const char *s)
{
	if (!s)
		s = "(null)";
	cm_buf_append(b, s, strlen(s));
}

void cm_buf_append(struct cm_buf *b, const void *data, size_t n)
{
	if (b->len + n + 1 > b->cap) {
		b->cap = (b->len + n + 1) * 2;
		b->s = cm_xrealloc(b->s, b->cap);
	}
	memcpy(b->s + b->len, data, n);
	b->len += n;
	b->s[b->len] = 0;
}

char *cm_read_file(const char *path, size_t *len)
{
	FILE *f = fopen(path, "rb");
	if (!f)
		return NULL;
	struct cm_buf b = { 0 };
	char chunk[65536];
	size_t n;
	while ((n = fread(chunk, 1, sizeof(chunk), f)) > 0)
		cm_buf_append(&b, chunk, n);
	fclose(f);
	*len = b.len;
	return cm_buf_steal(&b);
}

char *cm_buf_steal(struct cm_buf *b)
{
	char *s = b->s ? b->s : cm_xstrdup("");
	b->s = NULL;
	b->len = b->cap = 0;
	return s;
}

void cm_buf_free(struct cm_buf *b)
{
	free(b->s);
	b->s = NULL;
	b->len = b->cap = 0;
}

void cm_diags_add(struct cm_diags *d, enum cm_severity sev, const char *file, int line,
		  int col, const char *fmt, ...)
{
	if (sev == CM_SEV_ERROR)
		d->n_errors++;
	/* past the cap only counted: a generated range or a huge file can make errors by the
	 * hundred thousand, and one screenful says what is wrong */
	if (d->n >= CM_DIAGS_MAX) {
		d->n_dropped++;
		return;
	}
	CM_PUSH(d->v, d->n, d->cap);
	struct cm_diag *g = &d->v[d->n++];
	struct cm_buf b = { 0 };
	va_list ap;
	va_start(ap, fmt);
	cm_buf_vprintf(&b, fmt, ap);
	va_end(ap);
	g->file = cm_xstrdup(file ? file : "");
	g->line = line;
	g->col = col;
	g->sev = sev;
	g->msg = cm_buf_steal(&b);
}

void cm_diags_print(const struct cm_diags *d, FILE *f)
{
	static const char *const names[] = { "error", "warning", "note" };
	for (size_t i = 0; i < d->n; i++) {
		const struct cm_diag *g = &d->v[i];
		/* a file named by a connection URL, a value quoted from it: no password shown */
		char *file = cm_redact(g->file), *msg = cm_redact(g->msg);
		if (g->line)
			fprintf(f, "%s:%d:%d: %s: %s\n", file, g->line, g->col, names[g->sev], msg);
		else if (*file)
			fprintf(f, "%s: %s: %s\n", file, names[g->sev], msg);
		else
			fprintf(f, "%s: %s\n", names[g->sev], msg);
		free(file);
		free(msg);
	}
	if (d->n_dropped)
		fprintf(f, "... and %zu more diagnostics like these (%zu errors in all)\n",
			d->n_dropped, d->n_errors);
}

void cm_diags_clear(struct cm_diags *d)
{
	for (size_t i = 0; i < d->n; i++) {
		free(d->v[i].file);
		free(d->v[i].msg);
	}
	free(d->v);
	memset(d, 0, sizeof(*d));
}

int cm_parse_size(const char *s, uint64_t *bytes)
{
	char *end;
	if (!s || !isdigit((unsigned char)*s))
		return CM_ERR(CM_EPARSE);
	double v = strtod(s, &end);
	uint64_t mul = 1ULL << 20; /* qemu -m: a bare number is MiB */
	switch (toupper((unsigned char)*end)) {
	case 0: break;
	case 'K': mul = 1ULL << 10; end++; break;
	case 'M': mul = 1ULL << 20; end++; break;
	case 'G': mul = 1ULL << 30; end++; break;
	case 'T': mul = 1ULL << 40; end++; break;
	default: return CM_ERR(CM_EPARSE);
	}
	if (*end == 'i' || *end == 'I')
		end++;
	if (*end == 'B' || *end == 'b')
		end++;
	if (*end || v <= 0 || v * mul > 1e15)
		return CM_ERR(CM_EPARSE);
	*bytes = (uint64_t)(v * mul);
	return 0;
}

int cm_parse_duration_ns(const char *s, double *ns)
{
	static const struct {
		const char *unit;
		double ns;
	} units[] = { { "", 1e9 }, { "s", 1e9 }, { "ms", 1e6 }, { "us", 1e3 }, { "µs", 1e3 },
		      { "ns", 1 }, { "m", 60e9 }, { "min", 60e9 } };
	char *end;
	if (!s || !(isdigit((unsigned char)*s) || *s == '.'))
		return CM_ERR(CM_EPARSE);
	double v = strtod(s, &end);
	for (size_t i = 0; i < sizeof(units) / sizeof(units[0]); i++)
		if (!strcmp(end, units[i].unit)) {
			if (!(v >= 0) || v * units[i].ns > 1e18)
				return CM_ERR(CM_EPARSE);
			*ns = v * units[i].ns;
			return 0;
		}
	return CM_ERR(CM_EPARSE);
}

int cm_parse_duration_ms(const char *s, int64_t *ms)
{
	double ns;
	if (cm_parse_duration_ns(s, &ns))
		return CM_ERR(CM_EPARSE);
	*ms = (int64_t)llround(ns / 1e6);
	return 0;
}

void cm_format_ns(double ns, char *out, size_t outsz)
{
	static const struct {
		double div;
		const char *unit;
	} units[] = { { 1e9, "s" }, { 1e6, "ms" }, { 1e3, "µs" }, { 1, "ns" } };
	if (isnan(ns)) {
		snprintf(out, outsz, "—");
		return;
	}
	for (size_t i = 0; i < 4; i++) {
		if (fabs(ns) >= units[i].div || i == 3) {
			double v = ns / units[i].div;
			int prec = fabs(v) >= 100 ? 0 : fabs(v) >= 10 ? 1 : 2;
			snprintf(out, outsz, "%.*f %s", prec, v, units[i].unit);
			return;
		}
	}
}

#define CM_MET_FN_(e, name, bytes, about, value)                                                \
	static double metric_##e(const struct rusage *ru) { return value; }
CM_METRICS(CM_MET_FN_)
#undef CM_MET_FN_
#define CM_MET_ROW_(e, name, bytes, about, value) { name, bytes, about, metric_##e },
const struct cm_metric cm_metrics[CM_NMETRICS] = { CM_METRICS(CM_MET_ROW_) };
#undef CM_MET_ROW_

const struct cm_metric *cm_metric(const char *phase)
{
	for (size_t k = 0; k < CM_NMETRICS; k++)
		if (!strcmp(phase, cm_metrics[k].name))
			return &cm_metrics[k];
	return NULL;
}

bool cm_is_metric(const char *phase)
{
	return cm_metric(phase) != NULL;
}

bool cm_value_is_bytes(const char *phase)
{
	const struct cm_metric *m = cm_metric(phase);
	return m && m->bytes;
}

char *cm_metric_list(void)
{
	struct cm_buf b = { 0 };
	for (size_t k = 0; k < CM_NMETRICS; k++)
		cm_buf_printf(&b, "%s'%s'", k == 0 ? "" : k + 1 == CM_NMETRICS ? " or " : ", ",
			      cm_metrics[k].name);
	return cm_buf_steal(&b);
}

void cm_format_value(const char *phase, double v, char *out, size_t outsz)
{
	if (!cm_value_is_bytes(phase) || isnan(v)) {
		cm_format_ns(v, out, outsz);
		return;
	}
	static const char *const units[] = { "B", "KiB", "MiB", "GiB", "TiB" };
	size_t u = 0;
	while (fabs(v) >= 1024 && u < 4)
		v /= 1024, u++;
	snprintf(out, outsz, "%.*f %s", fabs(v) >= 100 ? 0 : fabs(v) >= 10 ? 1 : 2, v, units[u]);
}

void cm_shell_quote(struct cm_buf *b, const char *arg)
{
	int plain = *arg != 0;
	for (const char *p = arg; *p; p++)
		if (!isalnum((unsigned char)*p) && !strchr("@%+=:,./-_", *p))
			plain = 0;
	if (plain) {
		cm_buf_puts(b, arg);
		return;
	}
	cm_buf_puts(b, "'");
	for (const char *p = arg; *p;) { /* the runs between quotes whole, each quote escaped */
		size_t n = strcspn(p, "'");
		cm_buf_append(b, p, n);
		p += n;
		if (*p == '\'') {
			cm_buf_puts(b, "'\\''");
			p++;
		}
	}
	cm_buf_puts(b, "'");
}

bool cm_list_has(const char *list, const char *name)
{
	size_t n = strlen(name);
	for (const char *p = list; p && *p;) {
		size_t len = strcspn(p, ",");
		if (len == n && !strncmp(p, name, n))
			return true;
		p += len + (p[len] == ',');
	}
	return false;
}

size_t cm_edit_distance(const char *a, const char *b)
{
	size_t la = strlen(a), lb = strlen(b);
	size_t *row = cm_xcalloc(lb + 1, sizeof(*row));
	for (size_t j = 0; j <= lb; j++)
		row[j] = j;
	for (size_t i = 1; i <= la; i++) {
		size_t diag = row[0];
		row[0] = i;
		for (size_t j = 1; j <= lb; j++) {
			size_t up = row[j];
			size_t best = diag + (a[i - 1] != b[j - 1]);
			if (up + 1 < best)
				best = up + 1;
			if (row[j - 1] + 1 < best)
				best = row[j - 1] + 1;
			row[j] = best;
			diag = up;
		}
	}
	size_t d = row[lb];
	free(row);
	return d;
}

int cm_mkdirs(const char *path)
{
	char *p = cm_xstrdup(path);
	int rc = 0;
	for (char *s = p + 1; *s && !rc; s++) {
		if (*s != '/')
			continue;
		*s = 0;
		if (mkdir(p, 0755) && errno != EEXIST)
			rc = -1;
		*s = '/';
	}
	if (!rc && mkdir(p, 0755) && errno != EEXIST)
		rc = -1;
	free(p);
	return rc;
}

int64_t cm_now_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

bool cm_label_value(const char *s, double *v)
{
	uint64_t b;
	char *end;
	if (!s || !*s)
		return false;
	if (!cm_parse_size(s, &b) && !isdigit((unsigned char)s[strlen(s) - 1])) {
		*v = (double)b;
		return true;
	}
	*v = strtod(s, &end);
	return !*end;
}

int cm_label_cmp(const char *a, const char *b)
{
	double x, y;
	if (cm_label_value(a, &x) && cm_label_value(b, &y) && x != y)
		return x < y ? -1 : 1;
	return strcmp(a ? a : "", b ? b : "");
}

int cm_labels_cmp(char *const *a, char *const *b, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		int r = cm_label_cmp(a[i], b[i]);
		if (r)
			return r;
	}
	return 0;
}

bool cm_has_control(const char *s)
{
	for (; *s; s++)
		if ((unsigned char)*s < 0x20 || *s == 0x7f)
			return true;
	return false;
}

static uint64_t str_hash(const char *s)
{
	uint64_t h = 1469598103934665603ULL;
	for (; *s; s++)
		h = (h ^ (unsigned char)*s) * 1099511628211ULL;
	return h;
}

long cm_strset_add(struct cm_strset *set, const char *s, long value)
{
	if (2 * (set->n + 1) > set->cap) {
		struct cm_strset bigger = { cm_xcalloc(set->cap ? 2 * set->cap : 16, sizeof(*set->slot)),
					    set->cap ? 2 * set->cap : 16, 0 };
		for (size_t i = 0; i < set->cap; i++)
			if (set->slot[i].key)
				cm_strset_add(&bigger, set->slot[i].key, set->slot[i].value);
		free(set->slot);
		*set = bigger;
	}
	size_t h = str_hash(s) & (set->cap - 1);
	while (set->slot[h].key) {
		if (!strcmp(set->slot[h].key, s))
			return set->slot[h].value;
		h = (h + 1) & (set->cap - 1);
	}
	set->slot[h].key = s;
	set->slot[h].value = value;
	set->n++;
	return -1;
}

long cm_strset_find(const struct cm_strset *set, const char *s)
{
	if (!set->cap)
		return -1;
	size_t h = str_hash(s) & (set->cap - 1);
	while (set->slot[h].key) {
		if (!strcmp(set->slot[h].key, s))
			return set->slot[h].value;
		h = (h + 1) & (set->cap - 1);
	}
	return -1;
}

void cm_strset_free(struct cm_strset *set)
{
	free(set->slot);
	memset(set, 0, sizeof(*set));
}

void cm_argv_add(struct cm_argv *a, const char *fmt, ...)
{
	va_list ap;
	struct cm_buf b = { 0 };
	char *arg = NULL;
	va_start(ap, fmt);
	if (fmt[0] == '%' && fmt[1] == 's' && !fmt[2]) { /* most are: no printf (two) a boot */
		const char *v = va_arg(ap, const char *);
		arg = cm_xstrdup(v ? v : "(null)");
	} else {
		cm_buf_vprintf(&b, fmt, ap);
	}
	va_end(ap);
	cm_argv_put(a, arg ? arg : b.s ? cm_buf_steal(&b) : cm_xstrdup(""));
}

void cm_argv_put(struct cm_argv *a, char *s)
{
	if (a->n + 2 > a->cap) {
		a->cap = a->cap ? 2 * a->cap : 32;
		a->v = cm_xrealloc(a->v, a->cap * sizeof(char *));
	}
	a->v[a->n++] = s;
	a->v[a->n] = NULL;
}

void cm_argv_free(struct cm_argv *a)
{
	for (size_t i = 0; i < a->n; i++)
		free(a->v[i]);
	free(a->v);
	memset(a, 0, sizeof(*a));
}


int cm_cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return x < y ? -1 : x > y;
}

bool cm_samples_reserved_column(const char *name)
{
	static const char *const cols[] = { CM_SAMPLES_COLUMNS };
	for (size_t i = 0; i < sizeof(cols) / sizeof(cols[0]); i++)
		if (!strcmp(name, cols[i]))
			return true;
	return false;
}

bool cm_is_reference_case(const char *id)
{
	return !strncmp(id, CM_REFERENCE_ID, sizeof(CM_REFERENCE_ID) - 1) &&
	       (!id[sizeof(CM_REFERENCE_ID) - 1] || id[sizeof(CM_REFERENCE_ID) - 1] == ',');
}

void cm_block_stop_signals(sigset_t *old)
{
	sigset_t set;
	sigemptyset(&set);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGHUP);
	pthread_sigmask(SIG_BLOCK, &set, old);
}

int cm_thread_start(pthread_t *th, void *(*fn)(void *), void *arg)
{
	sigset_t old;
	cm_block_stop_signals(&old);
	int rc = pthread_create(th, NULL, fn, arg);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	return rc;
}
