/* What the cheaper launch and watch (issue 25, item 6: launch6) must keep, against real
 * processes and sockets: every message a source's socket holds is read at one drain, in order,
 * each with the kernel's stamp of its sending (not of its reading); the console's log gets every
 * byte in order; a boot leaves no fd of its own open (the child's socket ends are now held until
 * qemu is reaped, the pidfd comes from clone); the child, which now starts on coldmark's own fd
 * table, leaves coldmark's fds and their flags alone; what the boot's process forked is ended
 * and reaped with it (the group's end takes fewer syscalls when the pidfd saw the leader's end).
 * No timed assertion: stamps are checked against clock readings taken around the sends. */
#define _GNU_SOURCE
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "coldmark/capture.h"
#include "coldmark/harness.h"
#include "coldmark/matrix.h"
#include "helpers.h"

static char tmp[256];

static struct cm_matrix *matrix(void)
{
	static const char yaml[] = "guest: {bundled: guest}\n";
	struct cm_diags d = { 0 };
	struct cm_matrix *m = cm_matrix_load_string(yaml, sizeof(yaml) - 1, "w.yaml", &d);
	cm_diags_print(&d, stderr);
	cm_diags_clear(&d);
	assert_non_null(m);
	return m;
}

/* n messages of one byte each (value i % 251) sent on the child's end, none read yet; then one
 * drain. More than a batch of recvmmsg, so a drain that stopped after one batch loses some. */
static void drain_reads_all(struct cm_capture *s, size_t n, const char *log)
{
	struct cm_matrix *m = (struct cm_matrix *)s->m;
	struct cm_boot_io io = { log, &m->cases[0] };
	int fds[CM_CAPTURE_MAXFDS];
	int k = s->ops->open_boot(s, &io, fds, CM_CAPTURE_MAXFDS);
	assert_true(k >= 1);
	int64_t *sent = cm_xcalloc(2 * n, sizeof(int64_t));
	for (size_t i = 0; i < n; i++) {
		unsigned char b = (unsigned char)(1 + i % 251);
		sent[2 * i] = cm_now_ns();
		assert_int_equal(send(fds[0], &b, 1, 0), 1);
		sent[2 * i + 1] = cm_now_ns();
	}
	struct cm_events ev = { 0 };
	usleep(20000); /* read well after the sends: a stamp of the reading would show */
	int64_t before_drain = cm_now_ns();
	s->ops->drain(s, getpid(), &ev);
	assert_int_equal(ev.n, n);
	for (size_t i = 0; i < n; i++) {
		assert_int_equal(ev.v[i].value, 1 + i % 251);
		/* the kernel's stamp of the send, moved onto CLOCK_MONOTONIC by the clocks' offset
		 * read after the receive (a preemption between the two reads can only make it
		 * later, never earlier: the lower bound is exact, the upper one is the reading) */
		assert_true(ev.v[i].ts_ns >= sent[2 * i] - 1000);
		assert_true(ev.v[i].ts_ns < before_drain);
	}
	/* nothing is left, and a drain that finds nothing adds nothing */
	s->ops->drain(s, getpid(), &ev);
	assert_int_equal(ev.n, n);
	for (int i = 0; i < k; i++)
		close(fds[i]);
	s->ops->end_boot(s);
	cm_events_free(&ev);
	free(sent);
}

static void test_debugcon_drain_reads_all(void **state)
{
	(void)state;
	struct cm_matrix *m = matrix();
	struct cm_capture *dc = cm_debugcon_source(m, NULL);
	drain_reads_all(dc, 1, NULL);
	drain_reads_all(dc, CM_RECV_BATCH, NULL);
	drain_reads_all(dc, 5 * CM_RECV_BATCH + 3, NULL);
	cm_capture_free(dc);
	cm_matrix_free(m);
}

/* The console's messages: every byte into the log, in order, with the batch's bytes written at
 * once; a line's marker stamp is still its first byte's kernel stamp. */
static void test_console_drain_logs_all(void **state)
{
	(void)state;
	struct cm_matrix *m = matrix();
	struct cm_capture *co = cm_console_source(m);
	char *log = cm_xasprintf("%s/console.log", tmp);
	size_t n = 3 * CM_RECV_BATCH + 5;
	struct cm_boot_io io = { log, &m->cases[0] };
	int fds[CM_CAPTURE_MAXFDS];
	assert_int_equal(co->ops->open_boot(co, &io, fds, CM_CAPTURE_MAXFDS), 1);
	char want[256] = "";
	for (size_t i = 0; i < n; i++) {
		char b = (char)('a' + i % 26);
		want[i] = b;
		assert_int_equal(send(fds[0], &b, 1, 0), 1);
	}
	struct cm_events ev = { 0 };
	co->ops->drain(co, getpid(), &ev);
	close(fds[0]);
	co->ops->end_boot(co);
	size_t len;
	char *text = cm_read_file(log, &len);
	assert_non_null(text);
	assert_int_equal(len, n);
	assert_memory_equal(text, want, n);
	free(text);
	unlink(log);
	free(log);
	cm_events_free(&ev);
	cm_capture_free(co);
	cm_matrix_free(m);
}

static int count_fds(void)
{
	DIR *d = opendir("/proc/self/fd");
	assert_non_null(d);
	int n = 0;
	while (readdir(d))
		n++;
	closedir(d);
	return n;
}

/* One launch of argv through a debugcon source, its log at tmp/w.log; ex filled; *stop as the
 * run's stop flag. */
static void launch_stop(char **argv, struct cm_exit *ex, struct cm_events *ev,
			volatile sig_atomic_t *stop)
{
	struct cm_matrix *m = matrix();
	char *log = cm_xasprintf("%s/w.log", tmp);
	struct cm_capture *dc = cm_debugcon_source(m, NULL);
	struct cm_launch l = { .argv = argv, .log_path = log, .timeout_ms = 20000,
			       .sources = &dc, .nsources = 1, .m = m, .stop = stop };
	assert_int_equal(cm_launch_boot(&l, ev, ex), 0);
	cm_capture_free(dc);
	cm_matrix_free(m);
	free(log);
}

static void launch(char **argv, struct cm_exit *ex, struct cm_events *ev)
{
	volatile sig_atomic_t stop = 0;
	launch_stop(argv, ex, ev, &stop);
}

/* No fd of a boot stays open in coldmark: the child's socket ends (now held until qemu is
 * reaped), the pidfd (now from clone), the sockets' reading ends; after a boot that wrote to
 * its socket, one that ended at once, and one that could not be started. */
static void test_launch_leaves_no_fd(void **state)
{
	(void)state;
	/* bash: dash takes fds 0-9 only in a redirection */
	char *wrote[] = { "/bin/bash", "-c", "printf A >&10; printf B >&10", NULL };
	char *quiet[] = { "/bin/true", NULL };
	char *missing[] = { "/nonexistent/qemu-system-x86_64", NULL };
	struct cm_events ev = { 0 };
	struct cm_exit ex;
	launch(quiet, &ex, &ev); /* the first launch's one-time fds (schedstat) come and stay */
	cm_events_free(&ev);
	int before = count_fds();
	launch(wrote, &ex, &ev);
	assert_true(ex.launched);
	assert_int_equal(ex.status, 0);
	size_t ports = 0;
	for (size_t i = 0; i < ev.n; i++)
		ports += ev.v[i].source && !strcmp(ev.v[i].source, "debugcon");
	assert_int_equal(ports, 2); /* both, read at the last drain or before */
	cm_events_free(&ev);
	launch(quiet, &ex, &ev);
	assert_true(ex.launched);
	cm_events_free(&ev);
	launch(missing, &ex, &ev);
	assert_false(ex.launched);
	cm_events_free(&ev);
	assert_int_equal(count_fds(), before);
}

/* The child starts on coldmark's fd table (CLONE_FILES) and makes its own copy before it
 * touches an fd: its dup2s, its closing of what qemu must not get and its CLOEXEC marks must
 * not reach coldmark's own fds. */
static void test_launch_leaves_coldmark_fds_alone(void **state)
{
	(void)state;
	int low = open("/dev/null", O_RDONLY); /* no CLOEXEC: the child's close_range marks it */
	assert_true(low >= 0);
	int high = dup2(low, 200);
	assert_int_equal(high, 200);
	int at10 = dup2(low, CM_CAPTURE_FD0 + 2); /* where the child would put a third socket */
	assert_int_equal(at10, CM_CAPTURE_FD0 + 2);
	char *lister[] = { "/bin/sh", "-c", "ls /proc/$$/fd", NULL };
	struct cm_events ev = { 0 };
	struct cm_exit ex;
	launch(lister, &ex, &ev);
	assert_true(ex.launched);
	assert_int_equal(ex.status, 0);
	cm_events_free(&ev);
	for (int fd = low; fd >= 0; fd = fd == low ? high : fd == high ? at10 : -1)
		assert_int_equal(fcntl(fd, F_GETFD), 0); /* open, and no FD_CLOEXEC */
	/* and qemu got none of them: 0-2 and its socket (the shell's ls may add its own) */
	char *log = cm_xasprintf("%s/w.log", tmp), *text = th_slurp(log);
	assert_non_null(text);
	char name[16];
	snprintf(name, sizeof(name), "\n%d\n", high);
	assert_null(strstr(text, name));
	snprintf(name, sizeof(name), "\n%d\n", at10);
	assert_null(strstr(text, name));
	assert_non_null(strstr(text, "\n10\n"));
	free(text), free(log);
	close(low), close(high), close(at10);
}

/* What the boot's process forked (a wrapper's daemon, here a sleep in its group) is ended and
 * reaped with it when the pidfd saw the leader's own end: not left running, not a zombie. */
static void test_launch_ends_and_reaps_group(void **state)
{
	(void)state;
	char *pidfile = cm_xasprintf("%s/member.pid", tmp);
	char *script = cm_xasprintf("sleep 30 & echo $! > %s; exit 7", pidfile);
	char *wrapper[] = { "/bin/sh", "-c", script, NULL };
	struct cm_events ev = { 0 };
	struct cm_exit ex;
	launch(wrapper, &ex, &ev);
	assert_true(ex.launched);
	assert_int_equal(ex.status, 7);
	assert_false(ex.ended_by_us || ex.timed_out || ex.interrupted);
	char *text = th_slurp(pidfile);
	assert_non_null(text);
	pid_t member = (pid_t)atoi(text);
	assert_true(member > 0);
	/* gone: a zombie (killed, not reaped) would still take a signal 0 */
	assert_int_equal(kill(member, 0), -1);
	assert_int_equal(errno, ESRCH);
	cm_events_free(&ev);
	unlink(pidfile);
	free(text), free(script), free(pidfile);
}

/* The main thread's voluntary context switches so far: each time it slept. */
static long slept(void)
{
	char *text = th_slurp("/proc/thread-self/status");
	assert_non_null(text);
	const char *at = strstr(text, "\nvoluntary_ctxt_switches:");
	assert_non_null(at);
	long n = strtol(at + strlen("\nvoluntary_ctxt_switches:"), NULL, 10);
	free(text);
	return n;
}

/* The main thread's watch sleeps until something happens (qemu's end, a marker, the deadline),
 * not also every 100 ms to look at the stop flag: the run's own threads are born with the stop
 * signals blocked and the watch takes them in its ppoll. A child that lives 0.8 s: the watch
 * sleeps in clone's vfork and in its poll, woken by the child's end (it slept 8 times more
 * with the 100 ms cap). */
static void test_watch_sleeps_till_something_happens(void **state)
{
	(void)state;
	char *sleeper[] = { "/bin/sh", "-c", "sleep 0.8", NULL }; /* the source's args: $0... */
	struct cm_events ev = { 0 };
	struct cm_exit ex;
	launch(sleeper, &ex, &ev); /* the first launch's one-time opens */
	cm_events_free(&ev);
	long before = slept();
	launch(sleeper, &ex, &ev);
	long n = slept() - before;
	printf("the watch of a 0.8 s child slept %ld times\n", n);
	assert_true(ex.launched);
	assert_int_equal(ex.status, 0);
	assert_true(n <= 4);
	cm_events_free(&ev);
}

static volatile sig_atomic_t stop_flag;

static void on_stop(int sig)
{
	(void)sig;
	stop_flag = 1;
}

static void *send_sigint(void *arg)
{
	(void)arg;
	usleep(200000); /* the watch is asleep in its ppoll by then, or about to be */
	kill(getpid(), SIGINT); /* process-directed: the kernel picks a thread that takes it */
	return NULL;
}

/* A stop signal sent to the process while the main thread watches ends the boot: from a
 * thread born with the signals blocked (as the journals' sync thread is), so the main thread,
 * which blocks them outside its ppoll, takes it there. The child would live 30 s; the watch
 * says interrupted, not timed out, and the child is ended. */
static void test_watch_takes_stop_signal(void **state)
{
	(void)state;
	struct sigaction sa = { .sa_handler = on_stop }, old;
	sigaction(SIGINT, &sa, &old);
	stop_flag = 0;
	pthread_t th;
	assert_int_equal(cm_thread_start(&th, send_sigint, NULL), 0);
	char *sleeper[] = { "/bin/sh", "-c", "sleep 30", NULL };
	struct cm_events ev = { 0 };
	struct cm_exit ex;
	int64_t t0 = cm_now_ns();
	launch_stop(sleeper, &ex, &ev, &stop_flag);
	pthread_join(th, NULL);
	sigaction(SIGINT, &old, NULL);
	printf("stopped after %.0f ms\n", (cm_now_ns() - t0) / 1e6);
	assert_true(ex.launched);
	assert_true(ex.interrupted);
	assert_false(ex.timed_out);
	cm_events_free(&ev);
}

int main(void)
{
	setenv("COLDMARK_GUEST_DIR", GUEST_DIR, 1);
	if (th_mkdtemp(tmp, sizeof(tmp), "launchwatch"))
		return 1;
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_debugcon_drain_reads_all),
		cmocka_unit_test(test_console_drain_logs_all),
		cmocka_unit_test(test_launch_leaves_no_fd),
		cmocka_unit_test(test_launch_leaves_coldmark_fds_alone),
		cmocka_unit_test(test_launch_ends_and_reaps_group),
		cmocka_unit_test(test_watch_sleeps_till_something_happens),
		cmocka_unit_test(test_watch_takes_stop_signal),
	};
	int rc = cmocka_run_group_tests(tests, NULL, NULL);
	th_rm_rf(tmp);
	return rc;
}
