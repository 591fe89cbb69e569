/* The processes coldmark starts, with real qemu and real coldmark runs: nothing a qemu wrapper
 * forks outlives a boot, a qemu path that cannot run is a host error before any boot, and the
 * exit event is qemu's end, not the moment coldmark got round to it.
 * Usage: test_procs GROUP (wrapper, qemu-path, exit-stamp). */
#define _GNU_SOURCE
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <dirent.h>
#include <fcntl.h>
#include <math.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <poll.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "coldmark/harness.h"
#include "coldmark/report.h"
#include "helpers.h"

static char tmp[256];
static char *qemu; /* the real one */

static char *write_file(const char *name, const char *body, mode_t mode)
{
	char *path = cm_xasprintf("%s/%s", tmp, name);
	th_write(path, body, mode);
	return path;
}

/* coldmark run MATRIX -o OUTDIR [extra]; sends sig sig_ms after the start when sig_ms > 0.
 * Returns the exit status (128+signal when killed); *output what it said. */
static int coldmark(const char *matrix, const char *outdir, const char *extra, int sig,
		    int sig_ms, char **output)
{
	static int nruns;
	char *out = cm_xasprintf("%s/run-%d.out", tmp, ++nruns);
	char *argv[8] = { COLDMARK_BIN, "run", (char *)matrix, "-o", (char *)outdir,
			  (char *)extra, NULL };
	int rc = th_run_signal(argv, out, sig, sig_ms);
	*output = th_slurp(out);
	free(out);
	return rc;
}

/* coldmark run MATRIX -o OUTDIR, sent sig once the file when exists (a wrapper writes it as
 * it reaches the moment the test is about): at that moment however long coldmark took to get
 * there on a loaded host, not a fixed time after its start. */
static int coldmark_signal_when(const char *matrix, const char *outdir, int sig, const char *when,
				char **output)
{
	char *out = cm_xasprintf("%s/%s.out", tmp, strrchr(when, '/') + 1);
	char *argv[] = { COLDMARK_BIN, "run", (char *)matrix, "-o", (char *)outdir, NULL };
	pid_t pid = th_start(argv, out);
	/* the wait has no bound of its own: ctest's TIMEOUT ends a run that never gets there */
	int st;
	while (!th_exists(when) && waitpid(pid, &st, WNOHANG) == 0)
		usleep(2000);
	assert_true(th_exists(when));
	kill(pid, sig);
	int rc = th_finish(pid);
	*output = th_slurp(out);
	free(out);
	return rc;
}

/* ---- 14: a qemu wrapper's daemon ends with the boot ------------------------------------------ */

/* Processes (zombies included) whose process group is one of the groups listed in path, one
 * number a line: the wrapper writes its own pid there, which is its group's id. */
static int left_in_groups(const char *path, int *ngroups)
{
	char *text = th_slurp(path);
	int groups[256], n = 0, left = 0;
	for (char *s = text; *s && n < 256;) {
		groups[n++] = (int)strtol(s, &s, 10);
		while (*s == '\n')
			s++;
	}
	free(text);
	*ngroups = n;
	DIR *d = opendir("/proc");
	for (struct dirent *e; (e = readdir(d));) {
		if (e->d_name[0] < '1' || e->d_name[0] > '9')
			continue;
		char *p = cm_xasprintf("/proc/%s/stat", e->d_name), *st = th_slurp(p);
		char *rp = strrchr(st, ')');
		int ppid = 0, pgrp = 0;
		char state = 0;
		if (rp && sscanf(rp + 1, " %c %d %d", &state, &ppid, &pgrp) == 3)
			for (int i = 0; i < n; i++)
				if (pgrp == groups[i]) {
					fprintf(stderr, "left: pid %s state %c ppid %d group %d\n",
						e->d_name, state, ppid, pgrp);
					left++;
				}
		free(st), free(p);
	}
	closedir(d);
	return left;
}

/* A wrapper as the matrix's qemu: it records its group, forks a sleeping daemon, then execs
 * qemu (or, exec_qemu false, runs it as its child, as `taskset ... qemu` in a script would).
 * A boot's (not --version's, -L help's nor the ROM query's) also writes GROUPS.boot first. */
static char *wrapper(const char *name, const char *groups, bool exec_qemu)
{
	char body[1024];
	snprintf(body, sizeof(body),
		 "#!/bin/sh\n"
		 "echo $$ >> %s\n"
		 "sleep 1000 </dev/null >/dev/null 2>&1 &\n"
		 "echo $! >> %s.daemons\n"
		 "case \" $* \" in *\" -S \"*|*\" --version \"*|*\" help \"*) ;;\n"
		 "*) echo $$ >> %s.boot;; esac\n"
		 "%s%s \"$@\"\n",
		 groups, groups, groups, exec_qemu ? "exec " : "", qemu);
	return write_file(name, body, 0755);
}

static char *wrapper_matrix(const char *name, const char *wrap, const char *guest, int boots,
			    const char *timeout)
{
	char body[1024];
	snprintf(body, sizeof(body),
		 "qemu: %s\nguest: {bundled: %s}\n"
		 "base_args: [-machine, pc, -display, none, -nodefaults, -no-reboot]\n"
		 "axes: {accel: [tcg]}\n"
		 "run: {boots: %d, warmup: 0, timeout: %s, reference: none}\n",
		 wrap, guest, boots, timeout);
	return write_file(name, body, 0644);
}

/* The daemons the wrappers forked (pids listed in path) still alive: whatever their group. */
static int daemons_alive(const char *path)
{
	char *text = th_slurp(path);
	int alive = 0;
	for (char *s = text; *s;) {
		long pid = strtol(s, &s, 10);
		while (*s == '\n')
			s++;
		char *p = cm_xasprintf("/proc/%ld/cmdline", pid), *stat = cm_xasprintf("/proc/%ld/stat", pid);
		size_t len = 0;
		char *c = cm_read_file(p, &len), *st = th_slurp(stat);
		bool zombie = strstr(st, ") Z ") != NULL;
		if (c && len >= 11 && !memcmp(c, "sleep\0" "1000", 10) && !zombie)
			alive++;
		free(c), free(st), free(p), free(stat);
	}
	free(text);
	return alive;
}

static void expect_groups_empty(const char *groups, int min_groups)
{
	char *daemons = cm_xasprintf("%s.daemons", groups);
	for (int i = 0; i < 20 && daemons_alive(daemons); i++)
		usleep(100000);
	assert_int_equal(daemons_alive(daemons), 0);
	free(daemons);
	int n, left = 0;
	/* coldmark reaps the group itself; a moment for anything handed to init after it ended */
	for (int i = 0; i < 20 && (left = left_in_groups(groups, &n)); i++)
		usleep(100000);
	assert_true(n >= min_groups);
	assert_int_equal(left, 0);
}

/* Boots that end by themselves: the version helper, the ROM query and both boots went through
 * the wrapper, each leaving a daemon before the fix. */
static void test_wrapper_daemon_ends_with_boot(void **state)
{
	char *groups = cm_xasprintf("%s/groups-ok", tmp), *out;
	char *wrap = wrapper("qemu-wrap", groups, true);
	char *m = wrapper_matrix("wrap-ok.yaml", wrap, "guest", 2, "30s");
	char *dir = cm_xasprintf("%s/wrap-ok", tmp);
	int rc = coldmark(m, dir, NULL, 0, 0, &out);
	if (rc)
		fprintf(stderr, "%s", out);
	assert_int_equal(rc, 0);
	expect_groups_empty(groups, 3); /* --version, info roms, 2 boots (-L help: cached or not) */
	free(out), free(dir), free(m), free(wrap), free(groups);
}

/* A boot that times out, under a wrapper that does not exec: qemu is the wrapper's child. */
static void test_wrapper_daemon_ends_on_timeout(void **state)
{
	char *groups = cm_xasprintf("%s/groups-to", tmp), *out;
	char *wrap = wrapper("qemu-wrap-noexec", groups, false);
	char *m = wrapper_matrix("wrap-to.yaml", wrap, "guest-hang", 1, "1500ms");
	char *dir = cm_xasprintf("%s/wrap-to", tmp);
	assert_int_equal(coldmark(m, dir, NULL, 0, 0, &out), 1);
	assert_non_null(strstr(out, "timeout"));
	expect_groups_empty(groups, 3);
	free(out), free(dir), free(m), free(wrap), free(groups);
}

/* SIGTERM of coldmark during a boot: the boot is ended, and with it the whole group. The
 * signal goes once the boot's wrapper runs (not 2.5 s after the start: a loaded host may not
 * be at the boot yet, and the run's own handling, 130, is what is tested). */
static void test_wrapper_daemon_ends_on_sigterm(void **state)
{
	char *groups = cm_xasprintf("%s/groups-term", tmp), *out;
	char *wrap = wrapper("qemu-wrap-term", groups, true);
	char *m = wrapper_matrix("wrap-term.yaml", wrap, "guest-hang", 1, "60s");
	char *dir = cm_xasprintf("%s/wrap-term", tmp), *boot = cm_xasprintf("%s.boot", groups);
	assert_int_equal(coldmark_signal_when(m, dir, SIGTERM, boot, &out), 130);
	expect_groups_empty(groups, 3);
	free(out), free(dir), free(m), free(wrap), free(groups), free(boot);
}

/* SIGTERM while the ROM query (a paused qemu, before any boot and before the run's own signal
 * handling) is still starting: the query's group is ended, then coldmark dies of the signal
 * as it would have. The query's wrapper says when it is in its sleep (GROUPS.query), and the
 * signal goes then; had coldmark let the query run on (to its end, or to the query's 10 s
 * timeout), the sleep of 8 s (below that timeout) would end and write GROUPS.slept: its
 * absence, not a wall time, says the query was cut by the signal. Only a coldmark that took
 * over 8 s to act on a signal it polls for every 100 ms could fail it on a busy host. */
static void test_wrapper_daemon_ends_on_sigterm_in_rom_query(void **state)
{
	char *groups = cm_xasprintf("%s/groups-roms", tmp), *out;
	char body[1024];
	snprintf(body, sizeof(body),
		 "#!/bin/sh\n"
		 "echo $$ >> %s\n"
		 "sleep 1000 </dev/null >/dev/null 2>&1 &\n"
		 "echo $! >> %s.daemons\n"
		 "case \" $* \" in *\" -S \"*) echo $$ > %s.query; sleep 8; echo $$ > %s.slept;; esac\n"
		 "exec %s \"$@\"\n",
		 groups, groups, groups, groups, qemu);
	char *wrap = write_file("qemu-wrap-slow-roms", body, 0755);
	char *m = wrapper_matrix("wrap-roms.yaml", wrap, "guest", 1, "30s");
	char *dir = cm_xasprintf("%s/wrap-roms", tmp), *query = cm_xasprintf("%s.query", groups),
	     *slept = cm_xasprintf("%s.slept", groups);
	int64_t t0 = cm_now_ns();
	assert_int_equal(coldmark_signal_when(m, dir, SIGTERM, query, &out), 128 + SIGTERM);
	fprintf(stderr, "rom query: coldmark ended %.2f s after its start\n",
		(double)(cm_now_ns() - t0) / 1e9);
	expect_groups_empty(groups, 2); /* --version, info roms */
	assert_false(th_exists(slept)); /* the query's sleep never ended: it was killed in it */
	free(out), free(dir), free(m), free(wrap), free(groups), free(query), free(slept);
}

/* A helper through cm_proc_run whose daemon keeps the pipe open: the helper's end is the end
 * of its output (not 10 s later), and the daemon is gone with it. */
static void test_helper_daemon_ends(void **state)
{
	char *groups = cm_xasprintf("%s/groups-helper", tmp);
	char body[512];
	snprintf(body, sizeof(body),
		 "#!/bin/sh\necho $$ >> %s\nsleep 1000 &\necho $! >> %s.daemons\necho QEMU 9\n",
		 groups, groups);
	char *helper = write_file("helper-daemon", body, 0755), *out;
	char *argv[] = { helper, "--version", NULL };
	int rc = cm_proc_run(argv, CM_HELPER_TIMEOUT_MS, false, &out, 4096);
	/* 0, not -ETIMEDOUT: it returned on the helper's end, before the 10 s deadline it would
	 * have waited to for the pipe's EOF (what a wall-time bound said before, exactly) */
	assert_int_equal(rc, 0);
	assert_string_equal(out, "QEMU 9\n");
	expect_groups_empty(groups, 1);
	free(out), free(helper), free(groups);
}

/* ---- 18: a qemu that cannot run is a host error before any boot ------------------------------- */

static void test_qemu_path_not_runnable(void **state)
{
	char *dirq = cm_xasprintf("%s/qemu-dir", tmp);
	assert_int_equal(mkdir(dirq, 0755), 0);
	char *noexec = write_file("qemu-noexec", "#!/bin/sh\nexit 0\n", 0644);
	char *fifo = cm_xasprintf("%s/qemu-fifo", tmp);
	assert_int_equal(mkfifo(fifo, 0755), 0);
	const char *paths[] = { dirq, noexec, fifo };
	const char *why[] = { "is a directory", "not executable", "not a regular file" };
	for (int i = 0; i < 3; i++) {
		char *m = wrapper_matrix("badqemu.yaml", paths[i], "guest", 1, "30s"), *out;
		char *dir = cm_xasprintf("%s/badqemu-%d", tmp, i);
		int rc = coldmark(m, dir, NULL, 0, 0, &out);
		if (rc != 3 || !strstr(out, "cannot run the host's qemu") || !strstr(out, why[i]))
			fprintf(stderr, "%s: exit %d\n%s", paths[i], rc, out);
		assert_int_equal(rc, 3);
		assert_non_null(strstr(out, "cannot run the host's qemu"));
		assert_non_null(strstr(out, why[i]));
		assert_non_null(strstr(out, paths[i]));
		/* before any boot: no run folder was made */
		assert_int_not_equal(access(dir, F_OK), 0);
		free(out), free(dir), free(m);
	}
	free(fifo), free(noexec), free(dirq);
}

/* ---- 19: the exit event is qemu's end, or the boot says it cannot be ------------------------- */

/* One value of a boot's events.csv row named name (the timestamp), or 0. */
static int64_t event_ts(const char *dir, const char *name)
{
	char *p = cm_xasprintf("%s/events.csv", dir), *text = th_slurp(p), *want = cm_xasprintf(",%s,", name);
	int64_t ts = 0;
	for (char *line = strtok(text, "\n"); line; line = strtok(NULL, "\n")) {
		char *at = strstr(line, want);
		unsigned port, value;
		long long t;
		if (at && sscanf(at + strlen(want), "%u,%u,%lld", &port, &value, &t) == 3)
			ts = t;
	}
	free(want), free(text), free(p);
	return ts;
}

/* The status of the boot's total row in samples.csv. */
static char *boot_status(const char *dir)
{
	struct cm_dataset ds;
	struct cm_diags d = { 0 };
	char *p = cm_xasprintf("%s/samples.csv", dir);
	assert_int_equal(cm_samples_read(p, &ds, &d), 0);
	char *status = NULL;
	for (size_t i = 0; i < ds.n; i++)
		if (!strcmp(ds.rows[i].phase, "total"))
			status = cm_xstrdup(ds.rows[i].status);
	cm_dataset_free(&ds);
	cm_diags_clear(&d);
	free(p);
	assert_non_null(status);
	return status;
}

/* A real boot with coldmark stopped (SIGSTOP) from just before qemu's exec until 3 s later
 * (or 1 s after qemu ended, if that is later): qemu ends while coldmark cannot see it. The
 * test, not stopped, sees qemu end through a pidfd of its own. Returns the exit event minus
 * that real end (ns); *status the boot's status, *after_last the exit event minus the guest's
 * last marker's (work_done). */
static int64_t stopped_boot(const char *name, const char *accel, const char *source,
			    char **status, int64_t *after_last)
{
	char *pidfile = cm_xasprintf("%s/%s.pid", tmp, name), body[1024];
	/* only the boot stops coldmark (its parent) and then writes its pid (not the version
	 * helper nor the ROM query): coldmark is stopped before qemu runs, whenever the test
	 * gets round to reading the pid on a busy host */
	snprintf(body, sizeof(body),
		 "#!/bin/sh\n"
		 "case \" $* \" in *\" -S \"*|*\" --version \"*|*\" help \"*) ;;\n"
		 "*) kill -STOP $PPID; echo $$ > %s.tmp && mv %s.tmp %s;; esac\n"
		 "exec %s \"$@\"\n",
		 pidfile, pidfile, pidfile, qemu);
	char *wname = cm_xasprintf("%s-qemu", name), *wrap = write_file(wname, body, 0755);
	snprintf(body, sizeof(body),
		 "qemu: %s\nguest: {bundled: guest}\n"
		 "base_args: [-machine, pc, -display, none, -nodefaults, -no-reboot]\n"
		 "axes: {accel: [%s]}\n"
		 "phases:\n"
		 "  - {name: firmware, from: exec, to: real_mode}\n"
		 "  - {name: work, from: long_mode, to: work_done}\n"
		 "  - {name: shutdown, from: work_done, to: exit}\n"
		 "run: {boots: 1, warmup: 0, timeout: 60s, reference: none}\n",
		 wrap, accel);
	char *mname = cm_xasprintf("%s.yaml", name), *m = write_file(mname, body, 0644);
	char *dir = cm_xasprintf("%s/%s", tmp, name), *outp = cm_xasprintf("%s/%s.out", tmp, name);
	char *srcarg = cm_xstrdup(source);
	char *argv[] = { COLDMARK_BIN, "run", m, "-o", dir, "--source", srcarg, NULL };
	pid_t cm = th_start(argv, outp);
	int64_t give_up = cm_now_ns() + 120000000000LL;
	while (access(pidfile, R_OK) && cm_now_ns() < give_up)
		usleep(1000);
	char *pidtext = th_slurp(pidfile);
	pid_t q = (pid_t)atoi(pidtext);
	assert_true(q > 0);
	/* qemu, coldmark's child, is not reaped while coldmark is stopped: its pidfd opens even
	 * if it has ended already (then it reads at once) */
	int pidfd = (int)syscall(SYS_pidfd_open, q, 0);
	assert_true(pidfd >= 0);
	int64_t t_stop = cm_now_ns(); /* the stop as the test sees it: the wrapper's was earlier */
	struct pollfd pf = { pidfd, POLLIN, 0 };
	assert_int_equal(poll(&pf, 1, 60000), 1);
	int64_t t_end = cm_now_ns();
	close(pidfd);
	int64_t cont = t_stop + 3000000000LL > t_end + 1000000000LL ? t_stop + 3000000000LL
								    : t_end + 1000000000LL;
	int64_t wait_ns = cont - cm_now_ns();
	if (wait_ns > 0)
		usleep((useconds_t)(wait_ns / 1000));
	kill(cm, SIGCONT);
	int st;
	waitpid(cm, &st, 0);
	char *out = th_slurp(outp);
	fprintf(stderr, "%s: coldmark stopped %.2f s, qemu ended %.3f s into the stop; exit %d\n%s",
		name, (double)(cont - t_stop) / 1e9, (double)(t_end - t_stop) / 1e9,
		WIFEXITED(st) ? WEXITSTATUS(st) : -1, out);
	int64_t exit_ts = event_ts(dir, "exit"), done_ts = event_ts(dir, "work_done");
	assert_true(exit_ts > 0 && done_ts > 0);
	*after_last = exit_ts - done_ts;
	*status = boot_status(dir);
	fprintf(stderr, "%s: exit event - qemu's real end = %+.3f ms, status %s\n", name,
		(double)(exit_ts - t_end) / 1e6, *status);
	free(out), free(srcarg), free(outp), free(dir), free(m), free(mname), free(wrap),
		free(wname), free(pidtext), free(pidfile);
	return exit_ts - t_end;
}

/* Without a kernel stamp of the end (debugcon, TCG): the boot is flagged late_exit. */
static void test_exit_stamp_stopped_debugcon(void **state)
{
	char *status;
	int64_t after_last;
	int64_t off = stopped_boot("stop-tcg", "tcg", "debugcon", &status, &after_last);
	/* right within tens of ms, or flagged: here it cannot be right (coldmark slept through
	 * qemu's end), so it must be flagged */
	assert_true(llabs(off) < 30000000LL || !strcmp(status, "late_exit"));
	assert_string_equal(status, "late_exit");
	free(status);
}

/* With the perf source: sched:sched_process_exit stamps the end in the kernel, so the exit
 * event is right however long coldmark was stopped, and the boot counts. */
static void test_exit_stamp_stopped_perf(void **state)
{
	int kvm = open("/dev/kvm", O_RDWR | O_CLOEXEC);
	if (!cm_perf_built_in() || kvm < 0 || geteuid() != 0) {
		fprintf(stderr, "SKIP: no perf source or no KVM here\n");
		if (kvm >= 0)
			close(kvm);
		skip();
	}
	close(kvm);
	/* the exit event's fds do not hide the rings the first-entry event wakes the reader by
	 * (the launcher tells libperf's fds apart by counting them) */
	unsigned port = 0xf4;
	struct cm_error err = { 0 };
	struct cm_perf_config pc = { &port, 1, "qemu-system-x86_64", "auto", "rip == 0xfff0", NULL };
	struct cm_perf *p = cm_perf_open(&pc, &err);
	if (!p)
		fprintf(stderr, "%s\n", err.msg);
	assert_non_null(p);
	assert_true(cm_perf_first_entry_woken(p));
	cm_perf_close(p);
	char *status;
	int64_t after_last;
	int64_t off = stopped_boot("stop-kvm", "kvm", "perf", &status, &after_last);
	/* The kernel stamps qemu's exit as it begins (do_exit); the pidfd the test waits on
	 * becomes readable once the kernel has also torn down qemu's memory (~25 ms for this
	 * 128 MB guest on the development host), and the test reads its clock after it wakes:
	 * the stamp comes before the test's wake-up (30 ms allowed for the two clocks), however
	 * late a busy host wakes the test. A stamp taken as coldmark got round to it comes after
	 * its stop (>= 1 s after that end); and it comes after the guest's last marker, which
	 * qemu writes before it exits (a bound in time order, not in ms: a lower bound of -100 ms
	 * on off was a bound on the test's own wake-up). */
	assert_true(off < 30000000LL);
	assert_true(after_last > 0);
	assert_string_equal(status, "ok");
	free(status);
}

int main(int argc, char **argv)
{
	const char *group = argc > 1 ? argv[1] : "";
	if (th_mkdtemp(tmp, sizeof(tmp), "procs-%s", group))
		return 1;
	setenv("COLDMARK_GUEST_DIR", GUEST_DIR, 1);
	setenv("COLDMARK_CACHE_DIR", "", 1); /* every helper and the ROM query really run */
	qemu = th_need_program("qemu-system-x86_64");
	int rc = 1;
	if (!strcmp(group, "wrapper")) {
		const struct CMUnitTest t[] = {
			cmocka_unit_test(test_helper_daemon_ends),
			cmocka_unit_test(test_wrapper_daemon_ends_with_boot),
			cmocka_unit_test(test_wrapper_daemon_ends_on_timeout),
			cmocka_unit_test(test_wrapper_daemon_ends_on_sigterm),
			cmocka_unit_test(test_wrapper_daemon_ends_on_sigterm_in_rom_query),
		};
		rc = cmocka_run_group_tests_name("wrapper", t, NULL, NULL);
	} else if (!strcmp(group, "qemu-path")) {
		const struct CMUnitTest t[] = { cmocka_unit_test(test_qemu_path_not_runnable) };
		rc = cmocka_run_group_tests_name("qemu-path", t, NULL, NULL);
	} else if (!strcmp(group, "exit-stamp")) {
		const struct CMUnitTest t[] = {
			cmocka_unit_test(test_exit_stamp_stopped_debugcon),
			cmocka_unit_test(test_exit_stamp_stopped_perf),
		};
		rc = cmocka_run_group_tests_name("exit-stamp", t, NULL, NULL);
	} else {
		fprintf(stderr, "usage: test_procs wrapper|qemu-path|exit-stamp\n");
	}
	free(qemu);
	return rc;
}
