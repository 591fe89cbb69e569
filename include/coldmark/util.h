/* Small shared pieces: error codes, diagnostics with file:line:col, a growable string. */
#ifndef COLDMARK_UTIL_H
#define COLDMARK_UTIL_H

#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

/* One list yields the enum and the messages (as libtraceevent's tep_errno does). */
#define CM_ERRORS(X)                                                    \
	X(CM_OK, "success")                                             \
	X(CM_ENOMEM, "out of memory")                                   \
	X(CM_EPARSE, "invalid input")                                   \
	X(CM_EIO, "input/output error")                                 \
	X(CM_EUSAGE, "bad usage")                                       \
	X(CM_EHOST, "this host cannot measure")                         \
	X(CM_EINTR, "interrupted")                                      \
	X(CM_ENOENT, "not found")                                       \
	X(CM_EEXIST, "already exists")

#define CM_ENUM_(e, m) e##_,
enum cm_err_index { CM_ERRORS(CM_ENUM_) CM_ERR_COUNT };
#undef CM_ENUM_
/* Functions return 0 or one of these negated. */
#define CM_ERR(e) (-(int)(e##_))
const char *cm_strerror(int err);

/* The one error value: a code (a CM_ERR value) and the message that says what and why.
 * Library functions fill it and return; the CLI alone prints it. */
struct cm_error {
	int code;
	char msg[1024];
};
/* Sets e's message and code; returns code (as functions that return it pass it on). */
int cm_error_set(struct cm_error *e, int code, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

enum cm_severity { CM_SEV_ERROR, CM_SEV_WARNING, CM_SEV_NOTE };

struct cm_diag {
	char *file;
	int line, col; /* 1-based; 0 when unknown */
	enum cm_severity sev;
	char *msg;
};

/* Diagnostics kept with their text; beyond this many only counted (n_dropped). */
#define CM_DIAGS_MAX 50

struct cm_diags {
	struct cm_diag *v;
	size_t n, cap;
	size_t n_errors;  /* every error, kept or dropped */
	size_t n_dropped; /* diagnostics past CM_DIAGS_MAX */
};

void cm_diags_add(struct cm_diags *d, enum cm_severity sev, const char *file, int line,
		  int col, const char *fmt, ...) __attribute__((format(printf, 6, 7)));
void cm_diags_print(const struct cm_diags *d, FILE *f);
void cm_diags_clear(struct cm_diags *d);

/* A growable NUL-terminated string. */
struct cm_buf {
	char *s;
	size_t len, cap;
};
void cm_buf_printf(struct cm_buf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void cm_buf_vprintf(struct cm_buf *b, const char *fmt, va_list ap);
void cm_buf_puts(struct cm_buf *b, const char *s);
char *cm_buf_steal(struct cm_buf *b);
void cm_buf_append(struct cm_buf *b, const void *data, size_t n); /* raw bytes, NULs too */
/* A whole file, NUL-terminated; *len counts every byte (a NUL inside shows as len > strlen).
 * NULL with errno set when it cannot be read. */
char *cm_read_file(const char *path, size_t *len);
void cm_buf_free(struct cm_buf *b);

/* A growable, NULL-terminated argv; each argument formatted and owned. */
struct cm_argv {
	char **v;
	size_t n, cap;
};
void cm_argv_add(struct cm_argv *a, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* s itself appended, not a copy (the caller says who frees it; cm_argv_free frees every one) */
void cm_argv_put(struct cm_argv *a, char *s);
void cm_argv_free(struct cm_argv *a);

/* Allocation that aborts on failure: an OOM in a benchmark harness is not recoverable data. */
void *cm_xmalloc(size_t n);
void *cm_xcalloc(size_t n, size_t sz);
void *cm_xrealloc(void *p, size_t n);
char *cm_xstrdup(const char *s);
char *cm_xasprintf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* Grow an array to hold at least n+1 elements. */
#define CM_PUSH(arr, n, cap)                                                        \
	do {                                                                        \
		if ((n) >= (cap)) {                                                 \
			(cap) = (cap) ? 2 * (cap) : 8;                              \
			(arr) = cm_xrealloc((arr), (cap) * sizeof(*(arr)));         \
		}                                                                   \
	} while (0)

/* Secrets out of sight: text with every password it may hold replaced by "***" (a URL's
 * user:password@, any scheme and case, any length, unencoded '/', '@' or spaces inside;
 * password=/sslpassword=/Password= in a URL's query or a key=value connection string, quoted
 * or not). Everything that can hold a secret goes through these before any message, log or
 * file; over-redacting is preferred to a leak. */
char *cm_redact(const char *text); /* to free */
/* The same into out, cut to n only after redacting (a long password never survives a cut). */
void cm_redact_to(const char *text, char *out, size_t n);
/* Would cm_redact change text (does it hold a password)? */
bool cm_holds_secret(const char *text);
/* A message about conninfo (libpq's own text) with conninfo's secrets hidden, as written and
 * %-decoded, and any "quoted" piece of them (libpq quotes a password's pieces when it splits
 * one at an unencoded '/'); then cm_redact. To free. */
char *cm_redact_msg(const char *msg, const char *conninfo);

/* "512M", "2G", "1024" (MiB, as qemu's -m reads a bare number) -> bytes. */
int cm_parse_size(const char *s, uint64_t *bytes);
/* "30s", "500ms", "250us", "2m", "1.5s", bare number = seconds -> nanoseconds. */
int cm_parse_duration_ns(const char *s, double *ns);
/* The same, rounded to milliseconds. */
int cm_parse_duration_ms(const char *s, int64_t *ms);
/* Format nanoseconds for people: "1.23 ms", "456 µs", "7.89 s" (3 significant digits). */
void cm_format_ns(double ns, char *out, size_t outsz);
/* What each boot costs the host, recorded beside the phases as metrics (rows of their own in
 * samples.csv, summarised and compared like phases): qemu's CPU time in ns, its peak RSS in
 * bytes. No phase may take these names. A metric is one entry here: its id, its name, a size
 * in bytes (1) or a time in ns (0), what the Markdown report says of it, and its value from
 * the boot's rusage (wait4; ru points to it). */
#define CM_METRICS(X)                                                                          \
	X(CPU, "qemu_cpu", 0, "qemu's user + system CPU time per boot (wait4).",                   \
	  (double)(ru->ru_utime.tv_sec + ru->ru_stime.tv_sec) * 1e9 +                          \
		  (double)(ru->ru_utime.tv_usec + ru->ru_stime.tv_usec) * 1e3)                      \
	X(MAXRSS, "qemu_maxrss", 1, "qemu's peak resident memory per boot (wait4).",              \
	  (double)ru->ru_maxrss * 1024)
#define CM_MET_ENUM_(e, name, bytes, about, value) CM_MET_##e,
enum cm_metric_id { CM_METRICS(CM_MET_ENUM_) CM_NMETRICS };
#undef CM_MET_ENUM_
struct rusage;
struct cm_metric {
	const char *name;
	bool bytes;        /* a size in bytes rather than a time in ns */
	const char *about; /* the report's line under its heading */
	double (*value)(const struct rusage *ru);
};
extern const struct cm_metric cm_metrics[CM_NMETRICS];
#define CM_METRIC_CPU (cm_metrics[CM_MET_CPU].name)
#define CM_METRIC_MAXRSS (cm_metrics[CM_MET_MAXRSS].name)
/* The metric by that name, or NULL for a phase. */
const struct cm_metric *cm_metric(const char *phase);
bool cm_is_metric(const char *phase);
/* Is a phase's value a size in bytes (qemu_maxrss) rather than a time in ns? */
bool cm_value_is_bytes(const char *phase);
/* "'qemu_cpu' or 'qemu_maxrss'": every metric's name, for messages (to free). */
char *cm_metric_list(void);
/* A phase's or metric's value as people read it: "1.52 s", "142 MiB". */
void cm_format_value(const char *phase, double v, char *out, size_t outsz);
/* Quote one argument for a POSIX shell, only when needed. */
void cm_shell_quote(struct cm_buf *b, const char *arg);
/* Is name one of the items of a comma-separated list ("csv,md")? */
bool cm_list_has(const char *list, const char *name);
/* The order cases are listed in everywhere (list, run, reports, report from samples.csv):
 * axis by axis, sizes and numbers by value ("512M" < "2G" < "16G"), words as strings. */
int cm_label_cmp(const char *a, const char *b);
/* A label's numeric value: a size in bytes ("512M", "2G") or a plain number; false for words. */
bool cm_label_value(const char *s, double *v);
int cm_labels_cmp(char *const *a, char *const *b, size_t n);
/* Does s hold a control character (an ANSI escape, BEL, CR, ...)? Such text is refused where
 * it enters (matrix values, samples.csv cells), so no terminal ever receives one. */
bool cm_has_control(const char *s);
/* A set of borrowed strings, each with a value: linear-time duplicate checks. */
struct cm_strset {
	struct {
		const char *key;
		long value;
	} *slot;
	size_t cap, n;
};
/* Adds s (not copied) with value; returns -1, or the value s was added with before. */
long cm_strset_add(struct cm_strset *set, const char *s, long value);
/* The value s was added with, or -1. */
long cm_strset_find(const struct cm_strset *set, const char *s);
void cm_strset_free(struct cm_strset *set);
/* qsort's comparison of doubles, ascending. */
int cm_cmp_double(const void *a, const void *b);
/* Levenshtein distance, for "did you mean". */
size_t cm_edit_distance(const char *a, const char *b);
/* mkdir -p: creates path and its missing parents; 0 or -1 with errno. */
int cm_mkdirs(const char *path);
/* SHA-256, streaming, and of a whole file (hex, NUL-terminated; 0 or -errno). */
struct cm_sha256 {
	uint32_t h[8];
	uint64_t len;
	unsigned char buf[64];
	size_t fill;
};
void cm_sha256_init(struct cm_sha256 *s);
void cm_sha256_update(struct cm_sha256 *s, const void *data, size_t n);
void cm_sha256_hex(struct cm_sha256 *s, char out[65]);
int cm_sha256_file(const char *path, char out[65]);

/* samples.csv's own columns, in order: no axis may take one of these names. The last two
 * (wave, slot) are written only by a run in waves (model.h). */
#define CM_SAMPLES_COLUMNS \
	"case", "boot", "status", "phase", "duration_ns", "warmup", "source", "cache_drop", "session", \
		"host_audit", "reference", "wave", "slot"
bool cm_samples_reserved_column(const char *name);

/* Reference cases' ids (run.reference): "reference", or "reference,accel=kvm" per accelerator;
 * no axis may be named "reference", so no other case id starts so. */
#define CM_REFERENCE_ID "reference"
bool cm_is_reference_case(const char *id);

/* CLOCK_MONOTONIC in ns: the clock perf samples are taken on (use_clockid). */
int64_t cm_now_ns(void);

/* Blocks the signals that stop a run (SIGINT, SIGTERM, SIGHUP) in the calling thread, the old
 * mask into *old. A thread coldmark starts for itself (the journals' sync, perf's closer) is
 * made with them blocked, so the kernel always gives them to the main thread, whose watch of a
 * boot takes them in its ppoll (harness/launch.c) and needs no periodic wake-up to see them. */
void cm_block_stop_signals(sigset_t *old);
/* pthread_create of a thread born with those signals blocked (the caller's mask unchanged):
 * pthread_create's return. */
int cm_thread_start(pthread_t *th, void *(*fn)(void *), void *arg);

#endif
