/* The tests' shared scaffolding (see helpers.h): each fixture once, not once per test file. */
#define _GNU_SOURCE
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/kvm.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "coldmark/util.h"
#include "helpers.h"

/* ---- folders --------------------------------------------------------------------------------- */

int th_mkdtemp(char *buf, size_t size, const char *name)
{
	snprintf(buf, size, "/tmp/coldmark-%s-XXXXXX", name);
	return mkdtemp(buf) ? 0 : -1;
}

int th_rm_rf(const char *path)
{
	char *argv[] = { "rm", "-rf", (char *)path, NULL };
	return th_run(argv, NULL);
}

static const char *at_exit_dir;
static pid_t at_exit_owner;

static void remove_at_exit(void)
{
	if (getpid() != at_exit_owner) /* a forked child that returned instead of _exit */
		return;
	if (getenv("COLDMARK_KEEP_TMP")) {
		printf("kept %s (COLDMARK_KEEP_TMP)\n", at_exit_dir);
		return;
	}
	fflush(stdout);
	if (th_rm_rf(at_exit_dir))
		printf("could not remove %s\n", at_exit_dir);
}

void th_remove_at_exit(const char *dir)
{
	at_exit_dir = dir;
	at_exit_owner = getpid();
	atexit(remove_at_exit);
}

bool th_exists(const char *path)
{
	struct stat sb;
	return stat(path, &sb) == 0;
}

/* ---- files ----------------------------------------------------------------------------------- */

char *th_slurp_len(const char *path, size_t *len)
{
	char *s = cm_read_file(path, len);
	if (!s)
		*len = 0;
	return s ? s : cm_xstrdup("");
}

char *th_slurp(const char *path)
{
	size_t len;
	return th_slurp_len(path, &len);
}

void th_write(const char *path, const char *text, mode_t mode)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, mode);
	if (fd < 0)
		fail_msg("%s: %s", path, strerror(errno));
	size_t len = strlen(text);
	if (write(fd, text, len) != (ssize_t)len || fchmod(fd, mode))
		fail_msg("%s: %s", path, strerror(errno));
	close(fd);
}

char *th_write_in(const char *dir, const char *name, const char *text)
{
	char *path = cm_xasprintf("%s/%s", dir, name);
	th_write(path, text, 0644);
	return path;
}

/* ---- processes ------------------------------------------------------------------------------- */

pid_t th_start_in(char *const argv[], const char *out_path, const char *cwd)
{
	fflush(stdout), fflush(stderr); /* nothing buffered is written twice by the child */
	pid_t pid = fork();
	if (pid == 0) {
		if (out_path) {
			int fd = open(out_path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
			if (fd < 0)
				_exit(126);
			dup2(fd, 1);
			dup2(fd, 2);
		}
		if (cwd && chdir(cwd))
			_exit(126);
		execvp(argv[0], argv);
		_exit(127);
	}
	return pid;
}

pid_t th_start(char *const argv[], const char *out_path)
{
	return th_start_in(argv, out_path, NULL);
}

int th_finish(pid_t pid)
{
	int st;
	if (waitpid(pid, &st, 0) < 0)
		return -1;
	return WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
}

int th_run_signal(char *const argv[], const char *out_path, int sig, int after_ms)
{
	pid_t pid = th_start(argv, out_path);
	if (after_ms > 0) {
		usleep(after_ms * 1000);
		kill(pid, sig);
	}
	return th_finish(pid);
}

int th_run(char *const argv[], const char *out_path)
{
	return th_finish(th_start(argv, out_path));
}

int th_run_out(char *const argv[], const char *out_path, char **out)
{
	int rc = th_run(argv, out_path);
	*out = th_slurp(out_path);
	return rc;
}

/* ---- the host, the groups -------------------------------------------------------------------- */

bool th_kvm_ok(void)
{
	int fd = open("/dev/kvm", O_RDWR | O_CLOEXEC);
	if (fd < 0)
		return false;
	int vm = ioctl(fd, KVM_CREATE_VM, 0);
	close(fd);
	if (vm < 0)
		return false;
	close(vm);
	return true;
}

void th_skip_group(const char *why)
{
	printf("SKIP: %s\n", why);
	exit(77);
}

/* ---- PostgreSQL ------------------------------------------------------------------------------ */

PGconn *th_pg_connect(const char *conninfo)
{
	PGconn *c = PQconnectdb(conninfo);
	if (PQstatus(c) != CONNECTION_OK)
		fail_msg("connect: %s", PQerrorMessage(c));
	return c;
}

void th_pg_exec(PGconn *c, const char *q)
{
	PGresult *r = PQexec(c, q);
	if (PQresultStatus(r) != PGRES_COMMAND_OK && PQresultStatus(r) != PGRES_TUPLES_OK)
		fail_msg("%s: %s", q, PQresultErrorMessage(r));
	PQclear(r);
}

/* The first value of q's first row; has_row says whether there was one. */
static char *pg_first(const char *conninfo, const char *q, const char *arg, bool *has_row)
{
	PGconn *c = th_pg_connect(conninfo);
	const char *p[] = { arg };
	PGresult *r = arg ? PQexecParams(c, q, 1, NULL, p, NULL, NULL, 0) : PQexec(c, q);
	if (PQresultStatus(r) != PGRES_TUPLES_OK)
		fail_msg("%s: %s", q, PQresultErrorMessage(r));
	*has_row = PQntuples(r) > 0;
	char *v = cm_xstrdup(*has_row && !PQgetisnull(r, 0, 0) ? PQgetvalue(r, 0, 0) : "");
	PQclear(r);
	PQfinish(c);
	return v;
}

char *th_pg_text(const char *conninfo, const char *q, const char *arg)
{
	bool has_row;
	return pg_first(conninfo, q, arg, &has_row);
}

long long th_pg_scalar(const char *conninfo, const char *q, const char *arg)
{
	bool has_row;
	char *v = pg_first(conninfo, q, arg, &has_row);
	long long n = has_row ? atoll(v) : -1;
	free(v);
	return n;
}
