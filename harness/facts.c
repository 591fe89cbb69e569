/* Facts about files that only change when the files do: a file's sha256, qemu's version, which
 * ROMs a device set loads. Each is cached under the file's identity (path, device, inode, size,
 * modification and change times), so a run's start-up does not hash an 18 MB qemu and start it
 * three times before every run, only after qemu changed. The cache is a text file of
 * "kind TAB key TAB value" lines in $COLDMARK_CACHE_DIR (or $XDG_CACHE_HOME/coldmark, or
 * ~/.cache/coldmark); COLDMARK_CACHE_DIR= (empty) turns it off. Lines are appended whole
 * (one write, O_APPEND), so runs at once do not tear each other's; the last line of a key wins. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "coldmark/harness.h"

static char *cache_file(void)
{
	const char *dir = getenv("COLDMARK_CACHE_DIR"), *xdg = getenv("XDG_CACHE_HOME"),
		   *home = getenv("HOME");
	if (dir)
		return *dir ? cm_xasprintf("%s/facts.tsv", dir) : NULL;
	if (xdg && *xdg)
		return cm_xasprintf("%s/coldmark/facts.tsv", xdg);
	return home && *home ? cm_xasprintf("%s/.cache/coldmark/facts.tsv", home) : NULL;
}

char *cm_file_identity(const char *path)
{
	struct stat st;
	if (!path || stat(path, &st))
		return NULL;
	return cm_xasprintf("%s|%llu|%llu|%lld|%lld.%09ld|%lld.%09ld", path,
			    (unsigned long long)st.st_dev, (unsigned long long)st.st_ino,
			    (long long)st.st_size, (long long)st.st_mtim.tv_sec, st.st_mtim.tv_nsec,
			    (long long)st.st_ctim.tv_sec, st.st_ctim.tv_nsec);
}

/* Tabs, newlines and backslashes escaped, so that a line is a line. */
static void escape(struct cm_buf *b, const char *s)
{
	for (; *s; s++)
		if (*s == '\t')
			cm_buf_puts(b, "\\t");
		else if (*s == '\n')
			cm_buf_puts(b, "\\n");
		else if (*s == '\\')
			cm_buf_puts(b, "\\\\");
		else
			cm_buf_printf(b, "%c", *s);
}

static char *unescape(const char *s, size_t n)
{
	struct cm_buf b = { 0 };
	for (size_t i = 0; i < n; i++) {
		if (s[i] == '\\' && i + 1 < n) {
			char c = s[++i];
			cm_buf_printf(&b, "%c", c == 't' ? '\t' : c == 'n' ? '\n' : c);
		} else {
			cm_buf_printf(&b, "%c", s[i]);
		}
	}
	return b.s ? cm_buf_steal(&b) : cm_xstrdup("");
}

char *cm_fact_get(const char *kind, const char *key)
{
	char *path = cache_file(), *found = NULL;
	size_t len;
	char *text = path ? cm_read_file(path, &len) : NULL;
	struct cm_buf want = { 0 };
	escape(&want, kind);
	cm_buf_puts(&want, "\t");
	escape(&want, key);
	cm_buf_puts(&want, "\t");
	for (char *line = text; line && *line;) {
		char *end = strchr(line, '\n');
		if (!end)
			break; /* a line cut off: not a fact */
		if ((size_t)(end - line) > want.len && !strncmp(line, want.s, want.len)) {
			free(found); /* the last one wins */
			found = unescape(line + want.len, (size_t)(end - line) - want.len);
		}
		line = end + 1;
	}
	cm_buf_free(&want);
	free(text);
	free(path);
	return found;
}

void cm_fact_put(const char *kind, const char *key, const char *value)
{
	char *path = cache_file();
	if (!path)
		return;
	char *dir = cm_xstrdup(path);
	*strrchr(dir, '/') = 0;
	cm_mkdirs(dir);
	struct cm_buf b = { 0 };
	escape(&b, kind);
	cm_buf_puts(&b, "\t");
	escape(&b, key);
	cm_buf_puts(&b, "\t");
	escape(&b, value);
	cm_buf_puts(&b, "\n");
	/* O_NOFOLLOW: a link planted as the cache file is never written through */
	int fd = open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0644);
	if (fd >= 0) {
		if (write(fd, b.s, b.len) != (ssize_t)b.len) {
			/* a fact half written is a line without its end: ignored on reading */
		}
		close(fd);
	}
	cm_buf_free(&b);
	free(dir);
	free(path);
}

int cm_sha256_cached(const char *path, char hex[65])
{
	char *id = cm_file_identity(path), *v = id ? cm_fact_get("sha256", id) : NULL;
	int rc = 0;
	if (v && strlen(v) == 64) {
		memcpy(hex, v, 65);
	} else if (!(rc = cm_sha256_file(path, hex)) && id) {
		cm_fact_put("sha256", id, hex);
	}
	free(v);
	free(id);
	return rc;
}

/* access(X_OK) alone passes a directory (search permission): then every boot failed to launch
 * and the run went on to the end before saying so. */
int cm_qemu_runnable(const char *path, char *why, size_t whysz)
{
	struct stat st;
	const char *no = NULL;
	if (stat(path, &st))
		no = strerror(errno);
	else if (S_ISDIR(st.st_mode))
		no = "it is a directory";
	else if (!S_ISREG(st.st_mode))
		no = "it is not a regular file";
	else if (!(st.st_mode & 0111) || access(path, X_OK))
		no = "it is not executable";
	if (no)
		snprintf(why, whysz, "%s", no);
	return no ? -1 : 0;
}
