/* Helper programs (qemu --version, -device help, -L help, ldd) run by argv, never through a
 * shell, each with a deadline, and each dying with coldmark: a hostile file name stays one
 * argument, a hanging helper cannot hang a run, and kill -9 of coldmark leaves no process. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include "coldmark/harness.h"

void cm_child_die_with_parent(pid_t parent)
{
	prctl(PR_SET_PDEATHSIG, SIGKILL);
	/* the parent may have died between fork and prctl: then nobody would send the signal */
	if (getppid() != parent)
		_exit(127);
}

static void helper_child(char *const *argv, int out_fd, bool merge_stderr, pid_t parent)
{
	cm_child_die_with_parent(parent);
	int null = open("/dev/null", O_RDWR);
	if (null < 0 || dup2(null, 0) < 0 || dup2(out_fd, 1) < 0 ||
	    dup2(merge_stderr ? out_fd : null, 2) < 0)
		_exit(127);
	cm_child_keep_fds(3, 2); /* 0-2 only */
	execvp(argv[0], argv);
	_exit(127);
}

/* Reads the child's output until EOF or the deadline; true when the deadline passed. */
static bool collect(int fd, int64_t deadline_ns, struct cm_buf *b, size_t max)
{
	for (;;) {
		int64_t left_ms = (deadline_ns - cm_now_ns()) / 1000000;
		struct pollfd pf = { fd, POLLIN, 0 };
		if (left_ms <= 0)
			return true;
		int n = poll(&pf, 1, (int)left_ms);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return true;
		char buf[4096];
		ssize_t got = read(fd, buf, sizeof(buf));
		if (got < 0 && errno == EINTR)
			continue;
		if (got <= 0)
			return false;
		if (b->len < max)
			cm_buf_append(b, buf, (size_t)got < max - b->len ? (size_t)got : max - b->len);
	}
}

int cm_proc_run(char *const *argv, int64_t timeout_ms, bool merge_stderr, char **out, size_t max)
{
	*out = NULL;
	int p[2];
	if (pipe2(p, O_CLOEXEC))
		return -errno;
	pid_t parent = getpid(), pid = fork();
	if (pid == 0)
		helper_child(argv, p[1], merge_stderr, parent);
	close(p[1]);
	if (pid < 0) {
		int e = errno;
		close(p[0]);
		return -e;
	}
	struct cm_buf b = { 0 };
	bool late = collect(p[0], cm_now_ns() + timeout_ms * 1000000LL, &b, max);
	close(p[0]);
	if (late)
		kill(pid, SIGKILL);
	int st = 0;
	while (waitpid(pid, &st, 0) < 0 && errno == EINTR)
		;
	*out = b.s ? cm_buf_steal(&b) : cm_xstrdup("");
	if (late)
		return -ETIMEDOUT;
	if (WIFEXITED(st))
		return WEXITSTATUS(st) == 127 && !**out ? -ENOENT : WEXITSTATUS(st);
	return 128 + WTERMSIG(st);
}

char *cm_proc_first_line(char *const *argv, int64_t timeout_ms)
{
	char *out;
	int rc = cm_proc_run(argv, timeout_ms, false, &out, 4096);
	if (rc == -ETIMEDOUT) {
		free(out);
		return cm_xasprintf("(no answer within %lld ms)", (long long)timeout_ms);
	}
	out[strcspn(out, "\n")] = 0;
	return out;
}
