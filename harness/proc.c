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
#include <sys/resource.h>
#include <sys/syscall.h>
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

void cm_proc_subreaper(void)
{
	static bool done;
	if (!done)
		prctl(PR_SET_CHILD_SUBREAPER, 1);
	done = true;
}

/* ended: the leader is known to have ended (its pidfd said so), so it is a zombie until it
 * is reaped here, and its waitid is not needed. */
static pid_t end_group(pid_t pid, bool ended, int *status, struct rusage *ru)
{
	/* the leader's end first, not reaped (WNOWAIT): while it is a zombie its pid cannot be
	 * reused, so -pid is still its group when the group is killed */
	siginfo_t si;
	while (!ended && waitid(P_PID, (id_t)pid, &si, WEXITED | WNOWAIT) < 0 && errno == EINTR)
		;
	kill(-pid, SIGKILL);
	int st = 0;
	pid_t r;
	while ((r = wait4(pid, &st, 0, ru)) < 0 && errno == EINTR)
		;
	if (status)
		*status = st;
	/* The members: ours once their parent died (coldmark is their subreaper). A zombie is
	 * still a member for kill(), so an empty group is one kill(0) (no wrapper, the usual
	 * case), and a member that died is reaped before the group reads empty. */
	int64_t give_up = cm_now_ns() + 1000000000LL;
	while (kill(-pid, 0) == 0) {
		pid_t m = waitpid(-pid, &st, WNOHANG);
		if (m > 0 || (m < 0 && errno == EINTR))
			continue;
		if (cm_now_ns() > give_up)
			break; /* a member hangs in the kernel (or is not ours): left alone */
		usleep(1000); /* a member still dying, or not yet handed back to us */
	}
	return r;
}

pid_t cm_proc_end_group(pid_t pid, int *status, struct rusage *ru)
{
	return end_group(pid, false, status, ru);
}

pid_t cm_proc_end_ended(pid_t pid, int *status, struct rusage *ru)
{
	return end_group(pid, true, status, ru);
}

bool cm_proc_collect(int fd, pid_t pid, int64_t deadline_ns, struct cm_buf *b, size_t max)
{
	/* The child's end is the end of its output (a process it forked may hold the pipe open
	 * for as long as it lives), and EOF is not its end (it may go on without its stdout):
	 * both are waited for, up to the deadline. */
	int pidfd = (int)syscall(SYS_pidfd_open, pid, 0);
	bool late = false, gone = false, eof = false;
	while (!eof || (!gone && pidfd >= 0)) {
		int64_t left_ms = (deadline_ns - cm_now_ns()) / 1000000;
		if (left_ms <= 0 || cm_sig_guard_caught()) {
			late = true;
			break;
		}
		struct pollfd pf[2] = { { eof ? -1 : fd, POLLIN, 0 }, { gone ? -1 : pidfd, POLLIN, 0 } };
		/* slices: a signal caught by another thread does not interrupt this poll; once
		 * the child is gone, only what is already written is read */
		int n = poll(pf, 2, gone ? 0 : left_ms > 100 ? 100 : (int)left_ms);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 || (n == 0 && gone))
			break;
		gone |= (pf[1].revents & POLLIN) != 0;
		if (eof || !(pf[0].revents & (POLLIN | POLLHUP | POLLERR)))
			continue;
		char buf[4096];
		ssize_t got = read(fd, buf, sizeof(buf));
		if (got < 0 && errno == EINTR)
			continue;
		if (got <= 0) {
			eof = true;
			continue;
		}
		if (b->len < max)
			cm_buf_append(b, buf, (size_t)got < max - b->len ? (size_t)got : max - b->len);
	}
	if (pidfd >= 0)
		close(pidfd);
	return late;
}

static volatile sig_atomic_t guard_sig;
static const int guarded[3] = { SIGINT, SIGTERM, SIGHUP };

static void on_guarded(int sig)
{
	guard_sig = sig;
}

int cm_sig_guard_begin(void)
{
	int mine = 0;
	for (int i = 0; i < 3; i++) {
		struct sigaction old, sa = { .sa_handler = on_guarded };
		if (sigaction(guarded[i], NULL, &old) || old.sa_handler != SIG_DFL)
			continue;
		if (!sigaction(guarded[i], &sa, NULL))
			mine |= 1 << i;
	}
	if (mine)
		guard_sig = 0;
	return mine;
}

bool cm_sig_guard_caught(void)
{
	return guard_sig != 0;
}

void cm_sig_guard_end(int mine)
{
	struct sigaction dfl = { .sa_handler = SIG_DFL };
	for (int i = 0; i < 3; i++)
		if (mine & (1 << i))
			sigaction(guarded[i], &dfl, NULL);
	if (mine && guard_sig) /* what the signal would have done, now that the helper is gone */
		raise(guard_sig);
}

static void helper_child(char *const *argv, int out_fd, bool merge_stderr, pid_t parent)
{
	cm_child_die_with_parent(parent);
	setpgid(0, 0); /* what it forks is ended with it */
	int null = open("/dev/null", O_RDWR);
	if (null < 0 || dup2(null, 0) < 0 || dup2(out_fd, 1) < 0 ||
	    dup2(merge_stderr ? out_fd : null, 2) < 0)
		_exit(127);
	cm_child_keep_fds(3, 2); /* 0-2 only */
	execvp(argv[0], argv);
	_exit(127);
}

int cm_proc_run(char *const *argv, int64_t timeout_ms, bool merge_stderr, char **out, size_t max)
{
	*out = NULL;
	int p[2];
	if (pipe2(p, O_CLOEXEC))
		return -errno;
	cm_proc_subreaper();
	int guard = cm_sig_guard_begin();
	pid_t parent = getpid(), pid = fork();
	if (pid == 0)
		helper_child(argv, p[1], merge_stderr, parent);
	close(p[1]);
	if (pid < 0) {
		int e = errno;
		close(p[0]);
		cm_sig_guard_end(guard);
		return -e;
	}
	setpgid(pid, pid); /* as the child does: whichever runs first */
	struct cm_buf b = { 0 };
	bool late = cm_proc_collect(p[0], pid, cm_now_ns() + timeout_ms * 1000000LL, &b, max);
	close(p[0]);
	if (late)
		kill(-pid, SIGKILL); /* the leader is not reaped yet: -pid is still its group */
	int st = 0;
	cm_proc_end_group(pid, &st, NULL);
	cm_sig_guard_end(guard);
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
