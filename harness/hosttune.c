/* `coldmark host tune` and `host reset`: the state file, written ahead of every change (each
 * prior value on disk, synced, before its setting moves: a tune killed at any moment leaves
 * reset all it needs), and its restoration, which trusts that file no further than it must. */
#define _GNU_SOURCE
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "coldmark/host.h"
#include "host_int.h"

/* ---- the test hooks ---------------------------------------------------------------------------
 * COLDMARK_SYSROOT (a fake /sys and /proc) and COLDMARK_STATE_DIR (where the state file goes)
 * let the tests tune, kill and reset a fake host with the very binary that ships, which is why
 * they are not behind a test-only compile definition (a second build on a shared machine, and
 * a tested binary that is not the shipped one). Instead a write honours them only for a caller
 * that is not root: such a caller writes nothing it could not write anyway, so the hooks give
 * it nothing. A root tune or reset with either hook in its environment (sudo -E passes it on)
 * is refused, not run with the hook ignored: a test run as root must never tune the machine it
 * runs on. secure_getenv: a setuid or setcap coldmark ignores them. Reads (host check, the
 * per-boot audit, the online CPUs) honour them for everyone: a read changes nothing. */
const char *cm_host_hook(const char *name)
{
	return secure_getenv(name);
}

static int may_write(const char *verb, struct cm_error *err)
{
	if (geteuid() == 0) {
		if (!getenv("COLDMARK_SYSROOT") && !getenv("COLDMARK_STATE_DIR"))
			return 0;
		cm_error_set(err, CM_ERR(CM_EHOST), "COLDMARK_SYSROOT and COLDMARK_STATE_DIR are test hooks, never "
				 "honoured for root (sudo -E passes them on): unset them to %s this host",
			 verb);
		return CM_HOST_REFUSED;
	}
	if (cm_host_hook("COLDMARK_SYSROOT") && cm_host_hook("COLDMARK_STATE_DIR"))
		return 0; /* a fake host of the caller's own */
	cm_error_set(err, CM_ERR(CM_EHOST), "coldmark host %s needs root: it writes /sys and /proc/sys (run it with sudo)",
		 verb);
	return CM_HOST_FAILED;
}

static char *state_path(void)
{
	const char *dir = cm_host_hook("COLDMARK_STATE_DIR");
	return cm_xasprintf("%s/host-tune.state", dir ? dir : "/var/lib/coldmark");
}

bool cm_host_tuned(char *when, size_t n)
{
	char *p = state_path();
	struct stat st;
	bool tuned = !lstat(p, &st);
	if (tuned && when) {
		struct tm tm;
		strftime(when, n, "%Y-%m-%d %H:%M:%S", localtime_r(&st.st_mtime, &tm));
	}
	free(p);
	return tuned;
}

static char *parent_of(const char *path)
{
	char *d = cm_xstrdup(path), *s = strrchr(d, '/');
	if (!s)
		strcpy(d, ".");
	else
		s[s == d] = 0; /* "/x" -> "/" */
	return d;
}

static int sync_dir(const char *dir)
{
	int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC), rc = fd < 0 ? -1 : fsync(fd);
	if (fd >= 0)
		close(fd);
	return rc;
}

/* ---- tune: the write-ahead state file ---------------------------------------------------------- */

struct cm_tune_log {
	int fd;
	const char *path;
	char err[512];
};

/* One line per record: the value's bytes exactly (trailing newline too), escaped. */
static void escape(struct cm_buf *b, const char *s, size_t len)
{
	for (size_t i = 0; i < len; i++) {
		unsigned char ch = (unsigned char)s[i];
		if (ch == '\\')
			cm_buf_puts(b, "\\\\");
		else if (ch == '\n')
			cm_buf_puts(b, "\\n");
		else if (ch == '\t')
			cm_buf_puts(b, "\\t");
		else if (ch < 0x20 || ch == 0x7f)
			cm_buf_printf(b, "\\x%02x", ch);
		else
			cm_buf_append(b, &s[i], 1);
	}
}

/* The bytes back, in place (never longer); -1 on an escape tune does not write. */
static int unescape(char *s, size_t *len)
{
	char *w = s;
	for (const char *r = s; *r; r++) {
		if (*r != '\\') {
			*w++ = *r;
			continue;
		}
		r++;
		if (*r == '\\' || *r == 'n' || *r == 't') {
			*w++ = *r == 'n' ? '\n' : *r == 't' ? '\t' : '\\';
		} else if (*r == 'x' && isxdigit((unsigned char)r[1]) && isxdigit((unsigned char)r[2])) {
			char hex[3] = { r[1], r[2], 0 };
			*w++ = (char)strtol(hex, NULL, 16);
			r += 2;
		} else {
			return -1;
		}
	}
	*len = (size_t)(w - s);
	return 0;
}

int cm_tune_record(struct cm_tune_log *log, const char *path, const char *prior, size_t len)
{
	struct cm_buf b = { 0 };
	cm_buf_printf(&b, "%s\t", path);
	escape(&b, prior, len);
	cm_buf_puts(&b, "\n");
	int rc = 0;
	if (b.len > CM_HOST_LINE_MAX) {
		rc = 1;
	} else {
		/* one write per line: a crash tears at most the last line, which reset then skips
		 * (its setting had not changed: that waits for the sync) */
		ssize_t w = write(log->fd, b.s, b.len);
		if (w >= 0 && w != (ssize_t)b.len)
			errno = ENOSPC;
		if (w != (ssize_t)b.len || fdatasync(log->fd)) {
			snprintf(log->err, sizeof(log->err), "cannot record the prior value of %s in %s: "
				 "%s (it and every setting after it were left as they were)",
				 path, log->path, strerror(errno));
			rc = -1;
		}
	}
	cm_buf_free(&b);
	return rc;
}

/* Creates the state file (never over one: a second tune would take tuned values for prior
 * ones), on disk with its folder entry before anything changes. */
static int open_log(struct cm_tune_log *log, struct cm_error *err)
{
	static const char head[] = "# coldmark host tune: each setting's prior value, recorded "
				   "before it changed; coldmark host reset writes them back\n";
	char *dir = parent_of(log->path);
	struct stat st;
	bool fresh = lstat(dir, &st) != 0;
	int rc = CM_HOST_FAILED;
	if (cm_mkdirs(dir)) {
		cm_error_set(err, CM_ERR(CM_EHOST), "cannot create %s: %s", dir, strerror(errno));
		goto out;
	}
	if (fresh) { /* the folder's own entry in its parent */
		char *up = parent_of(dir);
		sync_dir(up);
		free(up);
	}
	log->fd = open(log->path, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
	if (log->fd < 0) {
		if (errno == EEXIST)
			cm_error_set(err, CM_ERR(CM_EHOST), "the host is tuned already (%s): coldmark host reset first",
				 log->path);
		else
			cm_error_set(err, CM_ERR(CM_EHOST), "cannot create %s: %s", log->path, strerror(errno));
		goto out;
	}
	/* fchmod: a umask must not leave it a mode reset refuses */
	if (fchmod(log->fd, 0600) || write(log->fd, head, sizeof(head) - 1) != (ssize_t)sizeof(head) - 1 ||
	    fsync(log->fd) || sync_dir(dir)) {
		cm_error_set(err, CM_ERR(CM_EHOST), "cannot write %s: %s (nothing was changed)", log->path, strerror(errno));
		close(log->fd);
		unlink(log->path);
		log->fd = -1;
		goto out;
	}
	rc = 0;
out:
	free(dir);
	return rc;
}

int cm_host_tune(const char *cpus, struct cm_host_item *out, size_t max, size_t *nitems,
		 size_t *changed, struct cm_error *err)
{
	*nitems = *changed = 0;
	int rc = may_write("tune", err);
	if (rc)
		return rc;
	char *p = state_path();
	struct cm_tune_log log = { .fd = -1, .path = p };
	if (!(rc = open_log(&log, err))) {
		*nitems = cm_host_run_checks(cpus, &log, out, max, changed);
		if (log.err[0]) {
			cm_error_set(err, CM_ERR(CM_EHOST), "%s; coldmark host reset restores the %zu changed before it",
				 log.err, *changed);
			rc = CM_HOST_FAILED;
		}
		close(log.fd);
	}
	free(p);
	return rc;
}

/* ---- reset: the state file trusted no further than it must be ---------------------------------- */

#define STATE_MAX (1 << 20) /* far above any host's: tune writes a line per setting */

struct record {
	char *path, *value;
	size_t len, line;
};

/* Untrusted text made fit to print: control bytes as '?', at most 200 bytes shown. */
static const char *shown(char *s)
{
	for (char *c = s; *c; c++)
		if ((unsigned char)*c < 0x20 || *c == 0x7f)
			*c = '?';
	if (strlen(s) > 200)
		strcpy(s + 197, "...");
	return s;
}

/* The state file opened as itself (not through a symbolic link) and as tune leaves it: a
 * regular file of the caller's own, mode 0600 (nothing for group or others), one link. The
 * caller is root outside tests (reset needs root), so that is "owned by root"; a non-root
 * caller gets here only with the test hooks, over a fake host and state of its own, and owns
 * the file itself (it could not make one root's, and a root-owned file it is handed is
 * exactly what it must not trust). Anything else may have been written by someone else.
 * fd, or -1. */
static int open_state(const char *p, int *rc, struct cm_error *err)
{
	int fd = open(p, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC);
	*rc = CM_HOST_FAILED;
	if (fd < 0) {
		if (errno == ENOENT)
			cm_error_set(err, CM_ERR(CM_EHOST), "the host is not tuned (no %s)", p);
		else if (errno == ELOOP && (*rc = CM_HOST_REFUSED))
			cm_error_set(err, CM_ERR(CM_EHOST), "refusing %s: a symbolic link (tune writes the file itself); "
					 "nothing restored", p);
		else
			cm_error_set(err, CM_ERR(CM_EHOST), "cannot read %s: %s", p, strerror(errno));
		return -1;
	}
	struct stat st;
	char why[160] = "";
	if (fstat(fd, &st))
		snprintf(why, sizeof(why), "%s", strerror(errno));
	else if (!S_ISREG(st.st_mode))
		snprintf(why, sizeof(why), "not a regular file");
	else if (st.st_uid != geteuid())
		snprintf(why, sizeof(why), "owned by uid %u, not by %s", (unsigned)st.st_uid,
			 geteuid() ? "the user running reset" : "root");
	else if (st.st_mode & 07077) /* 0600 as tune leaves it (0400 would be as safe) */
		snprintf(why, sizeof(why), "mode %04o, not 0600 (another user could have written it)",
			 (unsigned)(st.st_mode & 07777));
	else if (st.st_nlink != 1)
		snprintf(why, sizeof(why), "%lu links to it, not 1", (unsigned long)st.st_nlink);
	else if (st.st_size > STATE_MAX)
		snprintf(why, sizeof(why), "%lld bytes, more than any tune writes",
			 (long long)st.st_size);
	if (*why) {
		cm_error_set(err, CM_ERR(CM_EHOST), "refusing %s: %s; nothing restored", p, why);
		*rc = CM_HOST_REFUSED;
		close(fd);
		return -1;
	}
	return fd;
}

/* The records, the whole file refused at the first line tune would never write, so that a bad
 * file restores nothing at all. 0, or CM_HOST_REFUSED with err. */
static int parse_state(char *text, size_t size, const char *p, struct record **out, size_t *nout,
		       struct cm_error *err)
{
	char *s = text, *end = text + size, what[256] = "";
	size_t line = 0, cap = 0;
	while (s < end && !*what) {
		line++;
		char *nl = memchr(s, '\n', (size_t)(end - s)), *rec = s;
		size_t len = (size_t)((nl ? nl + 1 : end) - s);
		if (len > CM_HOST_LINE_MAX) {
			snprintf(what, sizeof(what), "is %zu bytes long, over the %d of the longest line tune "
				 "writes", len, CM_HOST_LINE_MAX);
			break;
		}
		/* a last line without its newline was torn by a crash before it was synced, so
		 * before its setting changed: nothing of it to restore */
		if (!nl)
			break;
		*nl = 0;
		s = nl + 1;
		if (!*rec || *rec == '#')
			continue;
		char *tab = memchr(rec, 0, len - 1) ? NULL : strchr(rec, '\t');
		size_t vlen = 0;
		if (!tab) {
			snprintf(what, sizeof(what), "is not a path, a tab and a value");
			break;
		}
		*tab = 0;
		if (!cm_host_tunable_path(rec))
			snprintf(what, sizeof(what), "names %s, not a file tune writes (the canonical path "
				 "of a setting under /sys or /proc)", shown(rec));
		else if (unescape(tab + 1, &vlen))
			snprintf(what, sizeof(what), "has a value with an escape tune does not write");
		if (*what)
			break;
		if (*nout == cap)
			*out = cm_xrealloc(*out, (cap = cap ? 2 * cap : 16) * sizeof(**out));
		(*out)[(*nout)++] = (struct record){ rec, tab + 1, vlen, line };
	}
	if (!*what)
		return 0;
	cm_error_set(err, CM_ERR(CM_EHOST), "refusing %s: line %zu %s; nothing restored", p, line, what);
	return CM_HOST_REFUSED;
}

/* What makes a named file no place to write: a symbolic link, not a regular file, or a folder
 * that leads out of the sysroot's /sys or /proc. A file gone since tune (an IRQ or a CPU
 * removed) is no reason to refuse: restoring it fails and the rest goes on. */
static const char *target_problem(const char *path)
{
	char *full = cm_host_path(path), *dir = parent_of(full), *root = cm_host_path("");
	char *real = realpath(dir, NULL), *rroot = realpath(*root ? root : "/", NULL);
	struct stat st;
	const char *why = NULL;
	bool here = !lstat(full, &st);
	if (here && S_ISLNK(st.st_mode)) {
		why = "a symbolic link";
	} else if (here && !S_ISREG(st.st_mode)) {
		why = "not a regular file";
	} else if (real && rroot) {
		size_t bl = strcmp(rroot, "/") ? strlen(rroot) : 0;
		char *in = cm_xasprintf("%s/", real + bl);
		if (strncmp(real, rroot, bl) || (strncmp(in, "/sys/", 5) && strncmp(in, "/proc/", 6)))
			why = "in a folder that leads out of /sys and /proc";
		free(in);
	}
	free(full), free(dir), free(root), free(real), free(rroot);
	return why;
}

static int read_all(int fd, struct cm_buf *text)
{
	char buf[8192];
	ssize_t r;
	while ((r = read(fd, buf, sizeof(buf))) > 0 && text->len <= STATE_MAX)
		cm_buf_append(text, buf, (size_t)r);
	return r < 0 ? -1 : 0;
}

int cm_host_reset(size_t *restored, struct cm_error *err)
{
	*restored = 0;
	int rc = may_write("reset", err);
	if (rc)
		return rc;
	char *p = state_path();
	int fd = open_state(p, &rc, err);
	struct cm_buf text = { 0 };
	struct record *r = NULL;
	size_t nr = 0;
	if (fd >= 0 && read_all(fd, &text)) {
		cm_error_set(err, CM_ERR(CM_EHOST), "cannot read %s: %s", p, strerror(errno));
		rc = CM_HOST_FAILED;
	} else if (fd >= 0) {
		cm_buf_append(&text, "", 1); /* a NUL after the last line */
		rc = parse_state(text.s, text.len - 1, p, &r, &nr, err);
	}
	for (size_t i = 0; fd >= 0 && !rc && i < nr; i++) {
		const char *why = target_problem(r[i].path);
		if (why) {
			cm_error_set(err, CM_ERR(CM_EHOST), "refusing %s: line %zu names %s, %s; nothing restored", p,
				 r[i].line, r[i].path, why);
			rc = CM_HOST_REFUSED;
		}
	}
	/* the last first: a path recorded twice ends at its first, oldest value */
	for (size_t i = nr; fd >= 0 && !rc && i-- > 0;) {
		int e = cm_host_write(r[i].path, r[i].value, r[i].len);
		if (e)
			cm_error_set(err, CM_ERR(CM_EHOST), "cannot restore %s: %s (the state is kept: coldmark host reset "
					 "again once it can be written)", r[i].path, strerror(-e));
		else
			(*restored)++;
	}
	if (fd >= 0 && !rc && *restored < nr)
		rc = CM_HOST_FAILED;
	if (fd >= 0 && !rc && !unlink(p)) { /* kept when a value could not be restored */
		char *dir = parent_of(p);
		sync_dir(dir);
		free(dir);
	}
	if (fd >= 0)
		close(fd);
	cm_buf_free(&text);
	free(r), free(p);
	return rc;
}
