/* qemu by argv (never a shell), in its own process group, watched through a pidfd. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <time.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <pthread.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "coldmark/harness.h"
#include "coldmark/host.h"
#include "defer_int.h"
#include "launch_int.h"

#define POLL_PERF_MS 10     /* perf rings are read this often while waiting for the end */

static int pidfd_open_(pid_t pid)
{
	return (int)syscall(SYS_pidfd_open, pid, 0);
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

/* Every fd in fds (the sources' ends, then the stamp pipe) moved above the range the
 * sources' copies must take (10, 11, ...): a dup2 onto one in use would close it, and
 * dup2(fd, fd) leaves O_CLOEXEC set. Which numbers they have depends on how many fds
 * coldmark inherited and opened. */
static int lift_fds(int *fds, size_t n, int top)
{
	for (size_t i = 0; i < n; i++)
		if ((fds[i] = fcntl(fds[i], F_DUPFD_CLOEXEC, top)) < 0)
			return errno;
	return 0;
}

static void child_stdio(const struct cm_launch *l)
{
	int devnull = open("/dev/null", O_RDONLY);
	if (devnull >= 0)
		dup2(devnull, 0);
	/* O_APPEND: a source (the console) may append to the same log */
	int log = l->log_path ? open(l->log_path, O_WRONLY | O_CREAT | O_TRUNC | O_APPEND |
							  O_NOFOLLOW | O_CLOEXEC, 0644)
			      : open("/dev/null", O_WRONLY);
	if (log >= 0) {
		dup2(log, 1);
		dup2(log, 2);
	}
}

/* What the child needs, prepared by the parent: a child that shares the parent's memory
 * (spawn below) must not allocate or write anything the parent uses. */
struct child_args {
	const struct cm_launch *l;
	char **argv, **envp; /* envp NULL: fork()ed, l->env put into the child's own copy */
	int stamp_fd, *src_fds; /* stamp_fd -1: the stamps go into got[] (shared memory) */
	size_t nfds;
	struct stamp got[2];
	int ngot;
	int pidfd; /* the kernel's, from spawn's clone (CLONE_PIDFD); -1: none */
	pid_t parent;
	sigset_t mask; /* the parent's, restored just before execve */
};

/* The stamp to the parent: a child that shares its memory (spawn's clone, the parent asleep
 * until execve) writes it there, which saves a pipe, its two reads and three closes a boot. */
static bool put_stamp(struct child_args *a, int fd, const struct stamp *st)
{
	if (a->stamp_fd < 0) {
		a->got[a->ngot++] = *st;
		return true;
	}
	return write(fd, st, sizeof(*st)) == sizeof(*st);
}

static int child(void *arg)
{
	struct child_args *a = arg;
	const struct cm_launch *l = a->l;
	/* qemu dies with coldmark, even when coldmark is killed with -9 or by a hang-up */
	cm_child_die_with_parent(a->parent);
	setpgid(0, 0); /* Ctrl-C reaches coldmark, which then ends qemu itself */
	struct stamp st = { 0, 0 };
	/* spawn's clone shares coldmark's fd table (CLONE_FILES: the parent's clone does not
	 * copy it, the child does, here, on its own CPU time) and nothing may touch an fd before
	 * the child has a table of its own */
	if (a->envp && unshare(CLONE_FILES)) {
		st.err = errno;
		put_stamp(a, -1, &st);
		_exit(127);
	}
	size_t nfds = a->nfds;
	int top = CM_CAPTURE_FD0 + (int)nfds, stamp_fd = a->stamp_fd, src_fds[CM_CAPTURE_MAXFDS];
	memcpy(src_fds, a->src_fds, nfds * sizeof(int)); /* the parent's array stays as it is */
	if (stamp_fd >= 0 && lift_fds(&stamp_fd, 1, top))
		_exit(127); /* the parent reads EOF with no stamp: "could not be started" */
	st.err = lift_fds(src_fds, nfds, top);
	child_stdio(l);
	for (size_t i = 0; i < nfds && !st.err; i++)
		if (dup2(src_fds[i], CM_CAPTURE_FD0 + (int)i) < 0) /* clears O_CLOEXEC on the copy */
			st.err = errno;
	/* qemu gets 0-2 and its sources' sockets, nothing coldmark inherited or opened: a pipe
	 * of whoever started coldmark must not stay open for as long as a guest runs */
	cm_child_keep_fds(CM_CAPTURE_FD0, top - 1);
	if (l->pin && !st.err) {
		cpu_set_t set;
		if (cm_cpulist_parse(l->pin, &set) || sched_setaffinity(0, sizeof(set), &set))
			st.err = EINVAL;
	}
	for (char *const *e = l->env; !a->envp && e && *e; e++)
		putenv(*e);
	pthread_sigmask(SIG_SETMASK, &a->mask, NULL);
	if (!st.err) {
		st.ts_ns = cm_now_ns();
		if (!put_stamp(a, stamp_fd, &st))
			_exit(127);
		if (a->envp)
			execvpe(a->argv[0], a->argv, a->envp);
		else
			execvp(a->argv[0], a->argv);
		st.err = errno;
	}
	put_stamp(a, stamp_fd, &st);
	_exit(127);
}

/* The whole group: under a wrapper script that does not exec, qemu is the script's child.
 * True when qemu's end was seen (then it is a zombie, not yet reaped). */
static bool end_qemu(pid_t pid, int pidfd)
{
	kill(-pid, SIGTERM);
	struct pollfd pf = { pidfd, POLLIN, 0 };
	if (poll(&pf, 1, 1000) == 1)
		return true;
	kill(-pid, SIGKILL); /* not reaped yet: -pid is still its group */
	return false;
}

/* Each source's sockets for this boot; the child's ends in fds, source i's from at[i] (the
 * first CM_SOURCES_MAX). Returns how many, or -1 with every child end closed (the sources
 * close their own ends in end_boot). */
static ssize_t open_sources(const struct cm_launch *l, int *fds, size_t *at)
{
	struct cm_boot_io io = { l->log_path, l->kase };
	size_t n = 0;
	for (size_t i = 0; i < l->nsources; i++) {
		if (i <= CM_SOURCES_MAX)
			at[i] = n;
		int k = !l->sources[i]->ops->open_boot ? 0
			: l->sources[i]->ops->open_boot(l->sources[i], &io, fds + n, CM_CAPTURE_MAXFDS - n);
		if (k < 0) {
			for (size_t j = 0; j < n; j++)
				close(fds[j]);
			return -1;
		}
		n += (size_t)k;
	}
	if (l->nsources <= CM_SOURCES_MAX)
		at[l->nsources] = n;
	return (ssize_t)n;
}

static void drain_sources(const struct cm_launch *l, pid_t pid, struct cm_events *ev)
{
	for (size_t i = 0; i < l->nsources; i++)
		if (l->sources[i]->ops->drain)
			l->sources[i]->ops->drain(l->sources[i], pid, ev);
}

/* After a poll of the watch: a source whose fds poll found empty has nothing to read (its
 * messages carry the kernel's stamps, so one that comes meanwhile wakes the next poll at once
 * and loses nothing); a drain of it would only be a read that finds nothing, at each of the
 * watch's timeouts and after its sockets hung up. Source i's pollfds are pf[lo[i]..hi[i]);
 * lo[i] == SIZE_MAX: drained at every wake-up (periodic, or no fds to poll). */
static void drain_ready(const struct cm_launch *l, pid_t pid, struct cm_events *ev,
			const struct pollfd *pf, const size_t *lo, const size_t *hi, int n)
{
	for (size_t i = 0; i < l->nsources; i++) {
		if (l->sources[i]->deferred) /* read at the valve's looks and at qemu's end */
			continue;
		bool ready = lo[i] == SIZE_MAX || n < 0;
		for (size_t f = lo[i]; !ready && n > 0 && f < hi[i]; f++)
			ready = pf[f].revents != 0;
		if (ready && l->sources[i]->ops->drain)
			l->sources[i]->ops->drain(l->sources[i], pid, ev);
	}
}

/* A held_up boot's cause at the end of its log (qemu's output, which is kept with a failed boot) */
static void log_held_up(const struct cm_launch *l, const struct cm_exit *ex)
{
	int fd = l->log_path ? open(l->log_path, O_WRONLY | O_APPEND | O_NOFOLLOW | O_CLOEXEC) : -1;
	if (fd < 0)
		return;
	char line[200] = "coldmark: ";
	cm_exit_held_up_text(ex, line + strlen(line), sizeof(line) - strlen(line) - 1);
	strcat(line, "\n");
	ssize_t w = write(fd, line, strlen(line)); /* lost: the status says it all the same */
	(void)w;
	close(fd);
}

static void end_sources(const struct cm_launch *l)
{
	for (size_t i = 0; i < l->nsources; i++)
		if (l->sources[i]->ops->end_boot)
			l->sources[i]->ops->end_boot(l->sources[i]);
}

/* coldmark's pid, asked once (a syscall a boot otherwise); a fork()ed copy of coldmark asks
 * again (its pid is its own). */
static _Atomic pid_t self_pid;

static void forget_pid(void)
{
	self_pid = 0;
}

static void forget_at_fork(void)
{
	pthread_atfork(NULL, NULL, forget_pid);
}

static pid_t my_pid(void)
{
	static pthread_once_t once = PTHREAD_ONCE_INIT;
	pthread_once(&once, forget_at_fork);
	if (!self_pid)
		self_pid = getpid();
	return self_pid;
}

/* The run's main thread (asked once a thread: two syscalls a wake-up otherwise). A wave's
 * boots are launched and watched from threads of their own. */
static bool on_main_thread(void)
{
	static _Thread_local signed char main_tid = -1;
	if (main_tid < 0)
		main_tid = gettid() == getpid();
	return main_tid;
}

/* How long the next poll may sleep: to the deadline, the end of the grace, a periodic
 * source's next reading, and never past the cap: 0.1 s on a wave's launcher threads (the main
 * thread takes a stop signal then, and they see its flag that soon), 1 s on the main thread,
 * which takes the stop signals in its ppoll (watch) and wakes for them at once: a cap there
 * only guards against a thread of some library taking one. */
int cm_launch_poll_ms(const struct cm_launch *l, int64_t now, int64_t deadline, int64_t end_seen,
		      int64_t look)
{
	int cap = on_main_thread() ? 1000 : 100;
	int64_t wait_ms = ((look < deadline ? look : deadline) - now) / 1000000 + 1;
	for (size_t i = 0; i < l->nsources; i++)
		if ((l->sources[i]->ops->caps & CM_CAP_PERIODIC) && l->end_marker &&
		    wait_ms > POLL_PERF_MS)
			wait_ms = POLL_PERF_MS;
	if (end_seen) {
		int64_t grace_left = (end_seen + l->end_grace_ms * 1000000LL - now) / 1000000 + 1;
		if (wait_ms > grace_left)
			wait_ms = grace_left;
	}
	if (wait_ms < 0) /* a look overdue: poll(-1) would sleep to qemu's end on a wave's thread */
		wait_ms = 0;
	return (int)(wait_ms > cap ? cap : wait_ms);
}

/* What can be known of how late coldmark saw qemu's end, when no source stamps it in the
 * kernel. qemu ended after the last moment the launcher saw it alive (a poll that found the
 * pidfd not ready) and before the wake-up that found it ready. Had coldmark been able to run
 * all along, that wake-up came within microseconds of the end; it could not when it was
 * stopped meanwhile (SIGSTOP, Ctrl-Z: a SIGCONT came since) or waited for a CPU (the run
 * queue delay in /proc/thread-self/schedstat grew), and then the end is anywhere in between. */
static volatile sig_atomic_t continued; /* SIGCONTs so far */

static void on_sigcont(int sig)
{
	(void)sig;
	continued++;
}

static void watch_stops(void)
{
	static bool done;
	struct sigaction old, sa = { .sa_handler = on_sigcont };
	/* SA_RESTART: the journal's writes are not cut short by a SIGCONT */
	sa.sa_flags = SA_RESTART;
	if (!done && !sigaction(SIGCONT, NULL, &old) && old.sa_handler == SIG_DFL)
		sigaction(SIGCONT, &sa, NULL);
	done = true;
}

static int64_t run_delay_ns(void)
{
	/* the calling thread's own: a wave's boots are watched from threads of their own, whose
	 * schedstat is opened afresh each time (a kept fd would be one thread's for all) */
	static int fd = -2;
	bool main_thread = on_main_thread();
	if (fd == -2 && main_thread)
		fd = open("/proc/thread-self/schedstat", O_RDONLY | O_CLOEXEC);
	int use = main_thread ? fd : open("/proc/thread-self/schedstat", O_RDONLY | O_CLOEXEC);
	char buf[96];
	ssize_t n = use >= 0 ? pread(use, buf, sizeof(buf) - 1, 0) : -1;
	if (!main_thread && use >= 0)
		close(use);
	if (n <= 0)
		return 0;
	buf[n] = 0;
	/* "on_cpu waited slices": the second number, read by hand (sscanf was half this
	 * function's cost, read at every wake-up of the watch) */
	char *end;
	errno = 0;
	strtoull(buf, &end, 10);
	if (end == buf || *end != ' ' || errno)
		return 0;
	char *at = end;
	unsigned long long waited = strtoull(at, &end, 10);
	return end != at && !errno ? (int64_t)waited : 0;
}

struct alive {
	int64_t at, delay;
	sig_atomic_t conts;
};

static void seen_alive(struct alive *a, int64_t now)
{
	a->at = now;
	a->delay = run_delay_ns();
	a->conts = continued;
}

/* How late the exit stamped at now may be: 0 when within CM_EXIT_SLACK_NS. */
static int64_t exit_lateness(const struct alive *a, int64_t now)
{
	int64_t window = now - a->at;
	if (window <= CM_EXIT_SLACK_NS)
		return 0; /* it cannot be later than that: no run-delay read (most boots) */
	int64_t kept = continued != a->conts ? window : run_delay_ns() - a->delay;
	if (kept > window)
		kept = window;
	return kept > CM_EXIT_SLACK_NS ? kept : 0;
}

/* poll, or on the main thread ppoll with the stop signals let in (open: the mask outside the
 * watch): one that came while the loop drained or decided is pending and ends it at once. */
static int wait_ready(struct pollfd *pf, size_t npf, int ms, const sigset_t *open)
{
	if (!open)
		return poll(pf, npf, ms);
	struct timespec ts = { ms / 1000, (long)(ms % 1000) * 1000000L };
	return ppoll(pf, npf, &ts, open);
}

static _Atomic unsigned long wakeups; /* the watches' poll returns, for the tests */

unsigned long cm_launch_wakeups(void)
{
	return wakeups;
}

/* Waits for qemu: its exit, the end marker plus the grace, the deadline, or *stop. True when
 * qemu's end was seen (its pidfd readable): it is a zombie, not yet reaped. open: see
 * wait_ready (NULL off the main thread). valve: how often the deferred sources' queues are
 * looked at (0: none deferred); q: qemu's ends of them. */
static bool watch_loop(const struct cm_launch *l, pid_t pid, int pidfd, int64_t exec_ts,
		       struct cm_events *ev, struct cm_exit *ex, const sigset_t *open,
		       int64_t valve, const struct cm_defer_fds *q)
{
	int64_t deadline = exec_ts + l->timeout_ms * 1000000LL, end_seen = 0;
	int64_t look = valve ? exec_ts + valve : INT64_MAX; /* the deferred queues' next look */
	/* source fds whose writer hung up (qemu closed its end on the way out): polled again,
	 * they would wake the loop at once, again and again, while qemu shuts down */
	int hung[CM_CAPTURE_MAXPOLL];
	size_t nhung = 0;
	struct alive alive;
	seen_alive(&alive, exec_ts);
	for (;;) {
		int64_t now = cm_now_ns();
		bool *why = *l->stop ? &ex->interrupted : now >= deadline ? &ex->timed_out
			    : end_seen && now >= end_seen + l->end_grace_ms * 1000000LL
				    ? &ex->ended_by_us
				    : NULL;
		/* a coldmark stopped past the deadline: qemu may have ended in time meanwhile */
		if (why == &ex->timed_out && poll(&(struct pollfd){ pidfd, POLLIN, 0 }, 1, 0) == 1)
			why = NULL;
		if (why) {
			*why = true;
			return end_qemu(pid, pidfd);
		}
		struct pollfd pf[1 + CM_CAPTURE_MAXPOLL] = { { pidfd, POLLIN, 0 } };
		size_t npf = 1, lo[CM_SOURCES_MAX], hi[CM_SOURCES_MAX];
		for (size_t i = 0; i < l->nsources; i++) {
			int fds[CM_CAPTURE_MAXPOLL];
			size_t k = !l->sources[i]->ops->poll_fds || l->sources[i]->deferred ? 0
				   : l->sources[i]->ops->poll_fds(l->sources[i], fds,
								   CM_CAPTURE_MAXPOLL + 1 - npf);
			size_t first = npf;
			for (size_t j = 0; j < k; j++) {
				bool gone = false;
				for (size_t h = 0; h < nhung && !gone; h++)
					gone = hung[h] == fds[j];
				if (!gone)
					pf[npf++] = (struct pollfd){ fds[j], POLLIN, 0 };
			}
			/* polled (or all hung): drained when poll says so; else at every wake-up */
			if (i < CM_SOURCES_MAX) {
				bool always = !k || (l->sources[i]->ops->caps & CM_CAP_PERIODIC);
				lo[i] = always ? SIZE_MAX : first;
				hi[i] = npf;
			}
		}
		int ms = cm_launch_poll_ms(l, now, deadline, end_seen, look);
		int n = wait_ready(pf, npf, ms, open);
		now = cm_now_ns();
		wakeups++;
		if (l->nsources <= CM_SOURCES_MAX)
			drain_ready(l, pid, ev, pf, lo, hi, n);
		else
			drain_sources(l, pid, ev);
		for (size_t i = 1; n > 0 && i < npf; i++) /* drained to the end: nothing more comes */
			if ((pf[i].revents & (POLLHUP | POLLERR | POLLNVAL)) && nhung < CM_CAPTURE_MAXPOLL)
				hung[nhung++] = pf[i].fd;
		if (n > 0 && (pf[0].revents & POLLIN)) {
			cm_events_add(ev, CM_EVENT_EXIT, now, 0, 0);
			ex->exit_late_ns = exit_lateness(&alive, now);
			return true; /* the last drain reads the deferred queues */
		}
		if (n >= 0) /* the poll looked at the pidfd (after EINTR, revents say nothing) */
			seen_alive(&alive, now);
		bool looked = now >= look;
		if (looked)
			look = cm_defer_look(l->sources, l->nsources, pid, ev, q, ex) ? now + valve
										       : INT64_MAX;
		const struct cm_event *e = end_seen || !l->end_marker ? NULL
					   : cm_events_find_marker(ev, l->m, l->end_marker);
		/* found at a look: the grace runs from its sending, as it does from its wake-up
		 * when read live (which comes microseconds after) */
		if (e)
			end_seen = looked && e->ts_ns > 0 && e->ts_ns < now ? e->ts_ns : now;
	}
}

/* The main thread watches with the stop signals blocked but in its ppoll: a signal that comes
 * between the loop's look at *stop and its sleep would otherwise sleep to the cap. */
static bool watch(const struct cm_launch *l, pid_t pid, int pidfd, int64_t exec_ts,
		  struct cm_events *ev, struct cm_exit *ex, int64_t valve,
		  const struct cm_defer_fds *q)
{
	if (!on_main_thread())
		return watch_loop(l, pid, pidfd, exec_ts, ev, ex, NULL, valve, q);
	sigset_t open;
	cm_block_stop_signals(&open);
	bool ended = watch_loop(l, pid, pidfd, exec_ts, ev, ex, &open, valve, q);
	pthread_sigmask(SIG_SETMASK, &open, NULL);
	return ended;
}

/* The environment qemu gets: coldmark's, with the matrix's env entries put over it (as putenv
 * would). NULL when an entry sets PATH: execvpe searches coldmark's own PATH, so that boot is
 * fork()ed and the child puts the entries into its own copy. Without entries, coldmark's own
 * (environ itself, not a copy a boot: *owned false); else a copy, *owned, freed with free()
 * alone. */
static char **child_env(char *const *env, bool *owned)
{
	extern char **environ;
	size_t n = 0, k = 0, ne = 0;
	*owned = false;
	for (char *const *e = env; e && *e; e++, ne++)
		if (!strncmp(*e, "PATH=", 5))
			return NULL;
	if (!ne)
		return environ;
	*owned = true;
	while (environ[n])
		n++;
	char **out = cm_xcalloc(n + ne + 1, sizeof(char *));
	for (size_t i = 0; i < n; i++) {
		size_t len = strcspn(environ[i], "=");
		bool over = false;
		for (size_t j = 0; j < ne && !over; j++)
			over = !strncmp(env[j], environ[i], len) && env[j][len] == '=';
		if (!over)
			out[k++] = environ[i];
	}
	for (size_t j = 0; j < ne; j++)
		out[k++] = env[j];
	return out;
}

/* The child, started the way posix_spawn does (CLONE_VM | CLONE_VFORK, on a stack of its own)
 * rather than by fork(): a fork copies coldmark's page tables and the parent then takes a
 * copy-on-write fault on every page it touches after, which was the largest part of
 * coldmark's own CPU per boot. The parent sleeps until the child has exec'd or given up. */
static pid_t spawn(struct child_args *a)
{
	enum { STACK = 256 * 1024 };
	if (!a->envp) {
		pid_t pid = fork();
		if (pid == 0)
			child(a);
		return pid;
	}
	/* a stack per launch: waves launch from several threads at once, and CLONE_VFORK gives
	 * it back when the child has exec'd, so it is unmapped at once (a few µs). The main
	 * thread's is kept for its next launch (an mmap, a munmap and its page faults a boot):
	 * only it launches from the main thread, one launch at a time. */
	static char *main_stack;
	bool main_tid = on_main_thread();
	char *stack = main_tid ? main_stack : NULL;
	if (!stack)
		stack = mmap(NULL, STACK, PROT_READ | PROT_WRITE,
			     MAP_PRIVATE | MAP_ANONYMOUS | MAP_STACK, -1, 0);
	if (stack == MAP_FAILED)
		return -1;
	/* no handler of the parent's may run in the child before execve resets them */
	sigset_t all;
	sigfillset(&all);
	pthread_sigmask(SIG_SETMASK, &all, &a->mask);
	/* CLONE_PIDFD: the pidfd comes with the child (no pidfd_open); a kernel before 5.2
	 * leaves a->pidfd -1 and the caller opens one */
	pid_t pid = clone(child, stack + STACK,
			  CLONE_VM | CLONE_VFORK | CLONE_FILES | CLONE_PIDFD | SIGCHLD, a, &a->pidfd);
	int e = errno;
	pthread_sigmask(SIG_SETMASK, &a->mask, NULL);
	if (main_tid)
		main_stack = stack;
	else
		munmap(stack, STACK);
	errno = e;
	return pid;
}

static void close_fds(const int *fds, ssize_t n)
{
	for (ssize_t i = 0; i < n; i++)
		close(fds[i]);
}

static void close_pipe(int *p)
{
	for (int i = 0; i < 2; i++)
		if (p[i] >= 0)
			close(p[i]);
}

/* The child's stamps: before its execve (r1 of them) and of an execve that failed (r2). */
static void read_stamps(const struct child_args *ca, pid_t pid, int *stamp, struct stamp *st,
			struct stamp *st2, ssize_t *r1, ssize_t *r2)
{
	if (stamp[0] < 0) { /* spawn's clone returned: the child has exec'd or given up */
		*r1 = ca->ngot > 0 ? (ssize_t)sizeof(*st) : 0;
		*r2 = ca->ngot > 1 ? (ssize_t)sizeof(*st2) : 0;
		if (ca->ngot > 0)
			*st = ca->got[0];
		if (ca->ngot > 1)
			*st2 = ca->got[1];
		return; /* its own setpgid is done (a parent's now would be refused after execve) */
	}
	close(stamp[1]);
	setpgid(pid, pid); /* fork()ed: the parent may run first */
	while ((*r1 = read(stamp[0], st, sizeof(*st))) < 0 && errno == EINTR)
		;
	while ((*r2 = read(stamp[0], st2, sizeof(*st2))) < 0 && errno == EINTR)
		; /* EOF: execve closed the pipe */
	close(stamp[0]);
}

int cm_launch_boot(const struct cm_launch *l, struct cm_events *ev, struct cm_exit *ex)
{
	memset(ex, 0, sizeof(*ex));
	for (size_t k = 0; k < CM_NMETRICS; k++)
		ex->metrics[k] = NAN;
	int stamp[2] = { -1, -1 }, src_fds[CM_CAPTURE_MAXFDS];
	bool own_env;
	char **envp = child_env(l->env, &own_env);
	/* a pipe for the stamps only when the child is fork()ed (its memory is its own) */
	if (!envp && pipe2(stamp, O_CLOEXEC))
		return CM_ERR(CM_EIO);
	/* sources read only at qemu's end this boot (and at the valve's looks, every valve ns) */
	int64_t valve = cm_defer_boot(l->sources, l->nsources, l->kase,
				      l->end_marker ? l->end_grace_ms * 1000000LL : -1);
	struct cm_defer_fds q = { .fds = src_fds };
	struct cm_defer_clock clk;
	cm_defer_clock_mark(valve, &clk);
	ssize_t nfds = open_sources(l, src_fds, q.at);
	if (nfds < 0) {
		close_pipe(stamp);
		if (own_env)
			free(envp);
		end_sources(l);
		return CM_ERR(CM_EIO);
	}
	size_t own[2];
	char **argv = cm_launch_argv_view(l->argv, l->sources, l->nsources, own);
	for (size_t i = 0; i < l->nsources; i++)
		if (l->sources[i]->ops->begin)
			l->sources[i]->ops->begin(l->sources[i]);
	cm_proc_subreaper(); /* what a wrapper forks comes back to coldmark to be reaped */
	watch_stops();
	struct child_args ca = { .l = l, .argv = argv, .envp = envp, .stamp_fd = stamp[1],
				 .src_fds = src_fds, .nfds = (size_t)nfds, .pidfd = -1,
				 .parent = my_pid() };
	if (!envp) /* spawn's clone path takes it as it blocks every signal */
		pthread_sigmask(SIG_SETMASK, NULL, &ca.mask);
	pid_t pid = spawn(&ca);
	if (own_env)
		free(envp);
	for (size_t i = own[0]; i < own[1]; i++)
		free(argv[i]);
	free(argv);
	/* The child's ends of the sources' sockets stay open here until qemu has ended: then
	 * qemu's exit does not hang them up, which woke the watch once more just before the
	 * pidfd did (and made a read that found the end); the last drain reads them out. */
	if (pid < 0) {
		close_fds(src_fds, nfds);
		close_pipe(stamp);
		end_sources(l);
		return CM_ERR(CM_EIO);
	}
	struct stamp st = { 0, 0 }, st2 = { 0, 0 };
	ssize_t r1, r2;
	read_stamps(&ca, pid, stamp, &st, &st2, &r1, &r2);
	int pidfd = ca.pidfd >= 0 ? ca.pidfd : pidfd_open_(pid);
	int status = 0;
	if (r1 != sizeof(st) || st.err || r2 > 0 || pidfd < 0) {
		cm_proc_end_group(pid, &status, NULL);
		if (pidfd >= 0)
			close(pidfd);
		close_fds(src_fds, nfds);
		end_sources(l);
		ex->launched = false;
		ex->launch_errno = st.err ? st.err : r2 > 0 ? st2.err : pidfd < 0 ? errno : 0;
		errno = ex->launch_errno;
		return 0;
	}
	ex->launched = true;
	bool ended = watch(l, pid, pidfd, st.ts_ns, ev, ex, valve, &q);
	struct rusage ru;
	/* whatever qemu (or a wrapper script) forked ends with the boot */
	if ((ended ? cm_proc_end_ended : cm_proc_end_group)(pid, &status, &ru) == pid) {
		for (size_t k = 0; k < CM_NMETRICS; k++) /* what the boot cost the host */
			ex->metrics[k] = cm_metrics[k].value(&ru);
	}
	close(pidfd);
	/* what the sockets and rings still hold was written before qemu ended (a read that finds
	 * none left, while the child's ends are still open here, rather than the end); a deferred
	 * queue's account first, then the boot's log says why it is held_up */
	if (valve)
		cm_defer_filled(l->sources, l->nsources, &q, ex);
	cm_defer_clock_check(valve, &clk, ex);
	drain_sources(l, pid, ev);
	if (ex->held_up)
		log_held_up(l, ex);
	cm_defer_learn(l->sources, l->nsources, l->kase, cm_now_ns() - st.ts_ns);
	close_fds(src_fds, nfds);
	end_sources(l);
	/* the kernel's stamp of qemu's end, where a source has one, rather than the wake-up's */
	const struct cm_event *kx = cm_events_find(ev, CM_EVENT_EXIT_KERNEL);
	struct cm_event *x = (struct cm_event *)cm_events_find(ev, CM_EVENT_EXIT);
	if (kx && x) {
		x->ts_ns = kx->ts_ns;
		ex->exit_late_ns = 0;
	}
	if (!cm_events_find(ev, CM_EVENT_EXEC))
		cm_events_add(ev, CM_EVENT_EXEC, st.ts_ns, 0, 0);
	if (WIFSIGNALED(status))
		ex->signal = WTERMSIG(status);
	else
		ex->status = WEXITSTATUS(status);
	return 0;
}
