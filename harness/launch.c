/* qemu by argv (never a shell), in its own process group, watched through a pidfd. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <time.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "coldmark/harness.h"

#define DEBUGCON_FD0 10     /* where the child finds the debugcon sockets */
#define POLL_PERF_MS 10     /* perf rings are read this often while waiting for the end */

static int pidfd_open_(pid_t pid)
{
	return (int)syscall(SYS_pidfd_open, pid, 0);
}

static int parse_cpulist(const char *s, cpu_set_t *set)
{
	CPU_ZERO(set);
	while (*s) {
		char *end;
		long a = strtol(s, &end, 10), b = a;
		if (end == s || a < 0 || a >= CPU_SETSIZE)
			return -1;
		if (*end == '-') {
			s = end + 1;
			b = strtol(s, &end, 10);
			if (end == s || b < a || b >= CPU_SETSIZE)
				return -1;
		}
		for (long c = a; c <= b; c++)
			CPU_SET(c, set);
		s = *end == ',' ? end + 1 : end;
		if (*end && *end != ',')
			return -1;
	}
	return 0;
}

struct stamp {
	int64_t ts_ns;
	int err;
};

void cm_child_keep_fds(int lo, int hi)
{
	/* CLOEXEC rather than close: the child still writes its stamp pipe before execve */
	if (lo > 3)
		close_range(3, (unsigned)lo - 1, CLOSE_RANGE_CLOEXEC);
	close_range((unsigned)hi + 1, ~0U, CLOSE_RANGE_CLOEXEC);
}

static void child(const struct cm_launch *l, char **argv, int stamp_fd, int *dbg_w, pid_t parent)
{
	/* qemu dies with coldmark, even when coldmark is killed with -9 or by a hang-up */
	cm_child_die_with_parent(parent);
	setpgid(0, 0); /* Ctrl-C reaches coldmark, which then ends qemu itself */
	struct stamp st = { 0, 0 };
	/* The stamp pipe and debugcon sockets may sit on the very numbers the debugcon copies
	 * must take (10, 11, ...), depending on how many fds coldmark inherited and opened: a
	 * dup2 onto one in use closes it, and dup2(fd, fd) leaves O_CLOEXEC set. Lift them all
	 * above that range first. */
	int top = DEBUGCON_FD0 + (int)l->ndebugcon;
	int lifted = fcntl(stamp_fd, F_DUPFD_CLOEXEC, top);
	if (lifted < 0)
		_exit(127); /* the parent reads EOF with no stamp: "could not be started" */
	stamp_fd = lifted;
	for (size_t i = 0; i < l->ndebugcon; i++)
		if ((dbg_w[i] = fcntl(dbg_w[i], F_DUPFD_CLOEXEC, top)) < 0)
			st.err = errno;
	int devnull = open("/dev/null", O_RDONLY);
	if (devnull >= 0)
		dup2(devnull, 0);
	int log = l->log_path ? open(l->log_path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644)
			      : open("/dev/null", O_WRONLY);
	if (log >= 0) {
		dup2(log, 1);
		dup2(log, 2);
	}
	for (size_t i = 0; i < l->ndebugcon && !st.err; i++)
		if (dup2(dbg_w[i], DEBUGCON_FD0 + (int)i) < 0) /* clears O_CLOEXEC on the copy */
			st.err = errno;
	/* qemu gets 0-2 and its debugcon pipes, nothing coldmark inherited or opened: a pipe of
	 * whoever started coldmark must not stay open for as long as a guest runs */
	cm_child_keep_fds(DEBUGCON_FD0, top - 1);
	if (l->pin && !st.err) {
		cpu_set_t set;
		if (parse_cpulist(l->pin, &set) || sched_setaffinity(0, sizeof(set), &set))
			st.err = EINVAL;
	}
	for (char *const *e = l->env; e && *e; e++)
		putenv(*e);
	if (!st.err) {
		st.ts_ns = cm_now_ns();
		if (write(stamp_fd, &st, sizeof(st)) < 0)
			_exit(127);
		execvp(argv[0], argv);
		st.err = errno;
	}
	if (write(stamp_fd, &st, sizeof(st)) < 0)
		_exit(127);
	_exit(127);
}

/* Every message waiting on debugcon socket i, each byte a marker write stamped with the
 * kernel's time of its message (CLOCK_REALTIME, moved onto CLOCK_MONOTONIC by the offset
 * between the two clocks now); the time of reading where the kernel gave none. */
static void read_debugcon(int fd, const struct cm_launch *l, size_t i, const char *shadow,
			  struct cm_events *ev)
{
	for (;;) {
		unsigned char buf[256];
		union {
			char space[CMSG_SPACE(sizeof(struct timespec))];
			struct cmsghdr align;
		} ctl;
		struct iovec iov = { buf, sizeof(buf) };
		struct msghdr msg = { .msg_iov = &iov, .msg_iovlen = 1, .msg_control = ctl.space,
				      .msg_controllen = sizeof(ctl.space) };
		ssize_t got = recvmsg(fd, &msg, 0);
		if (got <= 0)
			return;
		struct timespec rt, mono;
		clock_gettime(CLOCK_REALTIME, &rt);
		clock_gettime(CLOCK_MONOTONIC, &mono);
		int64_t mono_ns = mono.tv_sec * 1000000000LL + mono.tv_nsec, ts = mono_ns;
		for (struct cmsghdr *c = CMSG_FIRSTHDR(&msg); c; c = CMSG_NXTHDR(&msg, c))
			if (c->cmsg_level == SOL_SOCKET && c->cmsg_type == SCM_TIMESTAMPNS) {
				struct timespec sent;
				memcpy(&sent, CMSG_DATA(c), sizeof(sent));
				int64_t age = (rt.tv_sec - sent.tv_sec) * 1000000000LL +
					      (rt.tv_nsec - sent.tv_nsec);
				ts = mono_ns - (age > 0 ? age : 0);
			}
		for (ssize_t b = 0; b < got; b++)
			cm_events_add_marker_as(ev, l->m, ts, l->debugcon_ports[i], buf[b], shadow);
	}
}

static void end_qemu(pid_t pid, int pidfd)
{
	kill(pid, SIGTERM);
	struct pollfd pf = { pidfd, POLLIN, 0 };
	if (poll(&pf, 1, 1000) <= 0)
		kill(pid, SIGKILL);
}

/* Does the case leave the guest's serial console unconnected? Then coldmark connects it to
 * the boot's log. A -serial, -nographic, a serial device or any stdio chardev of the user's
 * own is left alone. */
bool cm_argv_wants_console(char *const *argv)
{
	for (size_t i = 0; argv[i]; i++)
		if (!strcmp(argv[i], "-serial") || !strcmp(argv[i], "-nographic") ||
		    !strcmp(argv[i], "-curses") || strstr(argv[i], "stdio") ||
		    strstr(argv[i], "isa-serial") || strstr(argv[i], "pci-serial"))
			return false;
	return true;
}

char **cm_launch_argv(char *const *case_argv, const unsigned *ports, size_t nports, size_t *n)
{
	size_t argc = 0;
	while (case_argv[argc])
		argc++;
	bool console = cm_argv_wants_console(case_argv);
	char **argv = cm_xcalloc(argc + 4 * nports + 5, sizeof(char *));
	size_t k = 0;
	for (size_t i = 0; i < argc; i++)
		argv[k++] = cm_xstrdup(case_argv[i]);
	/* one isa-debugcon per marker port, sending to an inherited socket */
	for (size_t i = 0; i < nports; i++) {
		argv[k++] = cm_xstrdup("-chardev");
		argv[k++] = cm_xasprintf("socket,id=cmdbg%zu,fd=%zu", i, DEBUGCON_FD0 + i);
		argv[k++] = cm_xstrdup("-device");
		argv[k++] = cm_xasprintf("isa-debugcon,iobase=0x%x,chardev=cmdbg%zu", ports[i], i);
	}
	/* the serial console into qemu's stdout, which is the boot's log: a failed boot keeps
	 * what the guest said (stdin is /dev/null, so nothing is read from it) */
	if (console) {
		argv[k++] = cm_xstrdup("-chardev");
		argv[k++] = cm_xstrdup("stdio,id=cmcon,signal=off");
		argv[k++] = cm_xstrdup("-serial");
		argv[k++] = cm_xstrdup("chardev:cmcon");
	}
	*n = k;
	return argv;
}

int cm_launch_boot(const struct cm_launch *l, struct cm_events *ev, struct cm_exit *ex)
{
	memset(ex, 0, sizeof(*ex));
	int stamp[2], dbg_r[8], dbg_w[8];
	size_t nd = l->ndebugcon > 8 ? 8 : l->ndebugcon;
	if (pipe2(stamp, O_CLOEXEC))
		return CM_ERR(CM_EIO);
	/* One SOCK_SEQPACKET pair per marker port: qemu sends each debugcon byte as its own
	 * message, and the kernel stamps it as qemu sends it (SO_TIMESTAMPNS), so how late
	 * coldmark wakes up to read it does not enter the measurement. */
	for (size_t i = 0; i < nd; i++) {
		int sv[2], on = 1;
		if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv))
			return CM_ERR(CM_EIO);
		dbg_r[i] = sv[0];
		dbg_w[i] = sv[1];
		fcntl(dbg_r[i], F_SETFL, O_NONBLOCK);
		setsockopt(dbg_r[i], SOL_SOCKET, SO_TIMESTAMPNS, &on, sizeof(on));
	}
	size_t k;
	char **argv = cm_launch_argv(l->argv, l->debugcon_ports, nd, &k);
	if (l->perf)
		cm_perf_begin(l->perf);
	/* with perf as the source, debugcon events are a second opinion on the same boot */
	const char *shadow = l->perf && nd ? "@debugcon" : NULL;

	pid_t parent = getpid(), pid = fork();
	if (pid == 0)
		child(l, argv, stamp[1], dbg_w, parent);
	for (size_t i = 0; i < k; i++)
		free(argv[i]);
	free(argv);
	close(stamp[1]);
	for (size_t i = 0; i < nd; i++)
		close(dbg_w[i]);
	if (pid < 0) {
		close(stamp[0]);
		for (size_t i = 0; i < nd; i++)
			close(dbg_r[i]);
		return CM_ERR(CM_EIO);
	}
	setpgid(pid, pid);
	struct stamp st = { 0, 0 }, st2 = { 0, 0 };
	ssize_t r1, r2;
	while ((r1 = read(stamp[0], &st, sizeof(st))) < 0 && errno == EINTR)
		;
	while ((r2 = read(stamp[0], &st2, sizeof(st2))) < 0 && errno == EINTR)
		; /* EOF: execve closed the pipe */
	close(stamp[0]);
	int pidfd = pidfd_open_(pid);
	int status = 0;
	if (r1 != sizeof(st) || st.err || r2 > 0 || pidfd < 0) {
		waitpid(pid, &status, 0);
		if (pidfd >= 0)
			close(pidfd);
		for (size_t i = 0; i < nd; i++)
			close(dbg_r[i]);
		ex->launched = false;
		ex->launch_errno = st.err ? st.err : r2 > 0 ? st2.err : pidfd < 0 ? errno : 0;
		errno = ex->launch_errno;
		return 0;
	}
	ex->launched = true;
	int64_t exec_ts = st.ts_ns, deadline = exec_ts + l->timeout_ms * 1000000LL, end_seen = 0;
	bool exited = false;

	while (!exited) {
		int64_t now = cm_now_ns();
		if (*l->stop) {
			ex->interrupted = true;
			end_qemu(pid, pidfd);
			break;
		}
		if (now >= deadline) {
			ex->timed_out = true;
			end_qemu(pid, pidfd);
			break;
		}
		if (end_seen && now >= end_seen + l->end_grace_ms * 1000000LL) {
			ex->ended_by_us = true;
			end_qemu(pid, pidfd);
			break;
		}
		int64_t wait_ms = (deadline - now) / 1000000 + 1;
		if (l->perf && l->end_marker && wait_ms > POLL_PERF_MS)
			wait_ms = POLL_PERF_MS;
		if (end_seen) {
			int64_t grace_left = (end_seen + l->end_grace_ms * 1000000LL - now) / 1000000 + 1;
			if (wait_ms > grace_left)
				wait_ms = grace_left;
		}
		if (wait_ms > 100)
			wait_ms = 100; /* a signal's flag is seen within 0.1 s */
		struct pollfd pf[9] = { { pidfd, POLLIN, 0 } };
		for (size_t i = 0; i < nd; i++)
			pf[1 + i] = (struct pollfd){ dbg_r[i], POLLIN, 0 };
		int n = poll(pf, 1 + nd, (int)wait_ms);
		now = cm_now_ns();
		for (size_t i = 0; n > 0 && i < nd; i++)
			read_debugcon(dbg_r[i], l, i, shadow, ev);
		if (l->perf)
			cm_perf_drain(l->perf, pid, l->m, ev);
		if (n > 0 && (pf[0].revents & POLLIN)) {
			cm_events_add(ev, CM_EVENT_EXIT, now, 0, 0);
			exited = true;
		}
		if (!end_seen && l->end_marker && cm_events_find(ev, l->end_marker))
			end_seen = now;
	}
	waitpid(pid, &status, 0);
	close(pidfd);
	/* what the pipes and rings still hold was written before qemu ended */
	for (size_t i = 0; i < nd; i++) {
		read_debugcon(dbg_r[i], l, i, shadow, ev);
		close(dbg_r[i]);
	}
	if (l->perf)
		cm_perf_drain(l->perf, pid, l->m, ev);
	if (!cm_events_find(ev, CM_EVENT_EXEC))
		cm_events_add(ev, CM_EVENT_EXEC, exec_ts, 0, 0);
	if (WIFSIGNALED(status))
		ex->signal = WTERMSIG(status);
	else
		ex->status = WEXITSTATUS(status);
	return 0;
}
