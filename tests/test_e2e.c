/* End-to-end: the bundled guest under qemu, and coldmark run with each source and each fault.
 * Usage: test_e2e GROUP. Groups that need KVM, root or perf exit 77 (CTest: skipped) when the
 * host lacks them, saying why. */
#define _GNU_SOURCE
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/kvm.h>
#include <math.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sched.h>
#include <sys/ioctl.h>
#include <linux/capability.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "coldmark/harness.h"
#include "coldmark/report.h"

static char tmp[256];
static int stop_signal = SIGINT; /* what run() sends after sigint_after_ms */

static bool kvm_ok(void)
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

static void skip_group(const char *why)
{
	printf("SKIP: %s\n", why);
	exit(77);
}

/* Runs argv with stdout+stderr into out_path; returns the exit status (128+sig if killed).
 * When sigint_after_ms > 0, sends SIGINT that long after the start. */
static int run(char *const argv[], const char *out_path, int sigint_after_ms)
{
	pid_t pid = fork();
	if (pid == 0) {
		int fd = open(out_path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
		dup2(fd, 1);
		dup2(fd, 2);
		execv(argv[0], argv);
		_exit(127);
	}
	if (sigint_after_ms > 0) {
		usleep(sigint_after_ms * 1000);
		kill(pid, stop_signal);
	}
	int st;
	waitpid(pid, &st, 0);
	return WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
}

static char *slurp(const char *path)
{
	FILE *f = fopen(path, "r");
	if (!f)
		return calloc(1, 1);
	char *buf = calloc(1, 1 << 22);
	size_t n = fread(buf, 1, (1 << 22) - 1, f);
	buf[n] = 0;
	fclose(f);
	return buf;
}

static char *write_matrix(const char *name, const char *body)
{
	char *path = cm_xasprintf("%s/%s.yaml", tmp, name);
	FILE *f = fopen(path, "w");
	fprintf(f, "%s", body);
	fclose(f);
	return path;
}

/* ---- the guest under qemu directly --------------------------------------------------------- */

static void boot_guest(const char *accel)
{
	char *trace = cm_xasprintf("%s/trace-%s.log", tmp, accel);
	char *tr = cm_xasprintf("memory_region_ops_write,file=%s", trace);
	char *drive = cm_xasprintf("file=%s/guest.img,format=raw,if=ide,snapshot=on", GUEST_DIR);
	char *qemu = cm_which("qemu-system-x86_64");
	assert_non_null(qemu);
	char *argv[] = { qemu, "-machine", "pc", "-accel", (char *)accel, "-display", "none",
			 "-nodefaults", "-no-reboot", "-m", "128M", "-drive", drive, "-device",
			 "isa-debug-exit,iobase=0x501,iosize=2", "-trace", tr, NULL };
	char *out = cm_xasprintf("%s/qemu-%s.out", tmp, accel);
	int rc = run(argv, out, 0);
	assert_int_equal(rc, 33); /* isa-debug-exit: (0x10 << 1) | 1 */
	/* the three markers, in order, on port 0xf4 */
	char *log = slurp(trace);
	char *m1 = strstr(log, "addr 0xf4 value 0x10 ");
	char *m2 = strstr(log, "addr 0xf4 value 0x20 ");
	char *m3 = strstr(log, "addr 0xf4 value 0x30 ");
	assert_non_null(m1);
	assert_non_null(m2);
	assert_non_null(m3);
	assert_true(m1 < m2 && m2 < m3);
	free(log);
	free(out);
	free(qemu);
	free(drive);
	free(tr);
	free(trace);
}

static void test_guest_tcg(void **state)
{
	boot_guest("tcg");
}

static void test_guest_kvm(void **state)
{
	boot_guest("kvm");
}

/* ---- the launcher, whatever fd numbers its pipes get ------------------------------------------ */

/* The launcher hands qemu its debugcon pipe as fd 10. Whether its own pipes land on 10 depends
 * on how many fds coldmark inherited and opened (in CI once, every TCG boot failed to launch).
 * Occupy 3..lowest-1 and free the next few so that the launcher's first pipe lands on
 * `lowest`, then boot. */
static void launch_with_free_fd(int lowest)
{
	int held[16], nheld = 0;
	for (int fd = 3; fd < lowest; fd++)
		if (fcntl(fd, F_GETFD) < 0)
			held[nheld++] = dup2(open("/dev/null", O_RDONLY | O_CLOEXEC), fd);
	for (int fd = lowest; fd < lowest + 4; fd++)
		close(fd); /* anything inherited there goes, so pipe2 takes them in order */
	static const char yaml[] = "guest: {bundled: guest}\n"
				   "base_args: [-machine, pc, -accel, tcg, -display, none, -nodefaults]\n"
				   "run: {timeout: 30s}\n";
	struct cm_diags d = { 0 };
	struct cm_matrix *m = cm_matrix_load_string(yaml, sizeof(yaml) - 1, "fd.yaml", &d);
	cm_diags_print(&d, stderr);
	assert_non_null(m);
	volatile int stop = 0;
	struct cm_capture *dc = cm_debugcon_source(m, NULL);
	struct cm_launch l = { .argv = m->cases[0].argv, .timeout_ms = 30000, .sources = &dc,
			       .nsources = 1, .m = m, .stop = &stop };
	struct cm_events ev = { 0 };
	struct cm_exit ex;
	assert_int_equal(cm_launch_boot(&l, &ev, &ex), 0);
	cm_capture_free(dc);
	for (int i = 0; i < nheld; i++)
		close(held[i]);
	assert_true(ex.launched);
	assert_int_equal(ex.status, 33);
	assert_non_null(cm_events_find_marker(&ev, m, "real_mode"));
	assert_non_null(cm_events_find_marker(&ev, m, "work_done"));
	cm_events_free(&ev);
	cm_diags_clear(&d);
	cm_matrix_free(m);
}

static void test_launch_fds(void **state)
{
	for (int lowest = 7; lowest <= 11; lowest++) /* stamp pipe, then debugcon pipe, on 10 */
		launch_with_free_fd(lowest);
}

/* What the launched program holds: 0-2 and its debugcon pipe, not an fd coldmark inherited.
 * The "qemu" is ls listing its own fds into the boot log (3 is its directory handle; the
 * debugcon arguments become the shell's $0... and are not seen by ls). */
static void test_launch_fds_not_leaked(void **state)
{
	int p[2];
	assert_int_equal(pipe(p), 0); /* no O_CLOEXEC: as inherited from a careless parent */
	assert_int_equal(dup2(p[1], 42), 42);
	char *list = cm_xasprintf("%s/fds.txt", tmp);
	char *argv[] = { "/bin/sh", "-c", "exec ls /proc/self/fd", NULL };
	static const char yaml[] = "guest: {bundled: guest}\n";
	struct cm_diags d = { 0 };
	struct cm_matrix *m = cm_matrix_load_string(yaml, sizeof(yaml) - 1, "fd.yaml", &d);
	assert_non_null(m);
	volatile int stop = 0;
	struct cm_capture *dc = cm_debugcon_source(m, NULL);
	struct cm_launch l = { .argv = argv, .log_path = list, .timeout_ms = 10000, .sources = &dc,
			       .nsources = 1, .m = m, .stop = &stop };
	struct cm_events ev = { 0 };
	struct cm_exit ex;
	assert_int_equal(cm_launch_boot(&l, &ev, &ex), 0);
	cm_capture_free(dc);
	close(42), close(p[0]), close(p[1]);
	assert_true(ex.launched);
	assert_int_equal(ex.status, 0);
	char *fds = slurp(list);
	assert_string_equal(fds, "0\n1\n10\n2\n3\n");
	free(fds), free(list);
	cm_events_free(&ev);
	cm_diags_clear(&d);
	cm_matrix_free(m);
}

/* ---- coldmark run ---------------------------------------------------------------------------- */

static const char *matrix_head = "guest: {bundled: %s}\n"
				 "base_args: [-machine, pc, -display, none, -nodefaults, -no-reboot]\n"
				 "axes: {accel: [%s]}\n"
				 "phases:\n"
				 "  - {name: firmware, from: exec, to: real_mode}\n"
				 "  - {name: mode_switch, from: real_mode, to: long_mode}\n"
				 "  - {name: work, from: long_mode, to: work_done}\n"
				 "%s"
				 "run: {boots: %d, warmup: %d, timeout: %s}\n";

static int coldmark(const char *matrix, const char *outdir, const char *extra, int sigint_ms,
		    char **output)
{
	static int nruns;
	/* in tmp, not beside outdir: outdir's parents may not exist yet */
	char *out = cm_xasprintf("%s/run-%d.out", tmp, ++nruns);
	char *argv[12] = { COLDMARK_BIN, "run", (char *)matrix, "-o", (char *)outdir };
	int k = 5;
	char *copy = extra ? strdup(extra) : NULL, *save;
	for (char *t = copy ? strtok_r(copy, " ", &save) : NULL; t && k < 11; t = strtok_r(NULL, " ", &save))
		argv[k++] = t;
	argv[k] = NULL;
	int rc = run(argv, out, sigint_ms);
	*output = slurp(out);
	free(copy);
	free(out);
	return rc;
}

/* A run that should have succeeded: when it did not, say everything it said, and every kept
 * boot log (they name qemu's own complaint), before failing. */
static void expect_ok(int rc, const char *out, const char *outdir)
{
	if (rc == 0)
		return;
	fprintf(stderr, "coldmark exited %d:\n%s", rc, out);
	char *logs = cm_xasprintf("%s/logs", outdir);
	DIR *d = opendir(logs);
	for (struct dirent *e; d && (e = readdir(d));) {
		if (e->d_name[0] == '.')
			continue;
		char *p = cm_xasprintf("%s/%s", logs, e->d_name), *text = slurp(p);
		fprintf(stderr, "--- %s:\n%.2000s\n", p, text);
		free(text), free(p);
	}
	if (d)
		closedir(d);
	free(logs);
	fail_msg("coldmark run exited %d", rc);
}

static void load_samples(const char *outdir, struct cm_dataset *ds)
{
	char *p = cm_xasprintf("%s/samples.csv", outdir);
	struct cm_diags d = { 0 };
	int rc = cm_samples_read(p, ds, &d);
	cm_diags_print(&d, stderr);
	assert_int_equal(rc, 0);
	cm_diags_clear(&d);
	free(p);
}

static void check_ok_run(const char *outdir, int boots, const char *source, bool entry)
{
	struct cm_dataset ds;
	load_samples(outdir, &ds);
	size_t ok = 0, ref = 0, cost = 0;
	for (size_t i = 0; i < ds.n; i++) {
		const struct cm_sample_row *r = &ds.rows[i];
		assert_string_equal(r->status, "ok");
		if (cm_is_reference_case(r->case_id)) { /* the bundled guest, beside the cases */
			assert_true(!strcmp(r->phase, "total") || cm_is_metric(r->phase));
			ref += !r->warmup && !strcmp(r->phase, "total");
			continue;
		}
		assert_string_equal(r->source, source);
		assert_string_equal(r->cache, geteuid() == 0 ? "drop_caches" : "evict");
		if (!strcmp(r->phase, "qemu_init") && !entry)
			assert_true(isnan(r->duration_ns));
		else if (!strcmp(source, "debugcon") && strcmp(r->phase, "total"))
			/* markers read from the pipe in one go share a timestamp: a short phase can
			 * be 0 on a loaded host (the resolution of this source, see README) */
			assert_true(r->duration_ns >= 0);
		else
			assert_true(r->duration_ns > 0);
		ok += !r->warmup && !strcmp(r->phase, "total");
		/* what the boot cost the host, from wait4 */
		cost += !r->warmup && !strcmp(r->phase, CM_METRIC_MAXRSS) && r->duration_ns > 1e6;
	}
	assert_int_equal(ok, boots);
	assert_int_equal(cost, boots);
	assert_int_equal(ref, boots); /* one accelerator: one reference case, booted as often */
	cm_dataset_free(&ds);
	/* every report is there, and the summary is reproducible from samples.csv alone */
	static const char *const files[] = { "summary.csv", "report.md", "report.json",
					     "report.html", "events.csv", "meta.csv" };
	for (size_t i = 0; i < 6; i++) {
		char *p = cm_xasprintf("%s/%s", outdir, files[i]);
		assert_int_equal(access(p, R_OK), 0);
		free(p);
	}
	char *again = cm_xasprintf("%s-again", outdir), *out = cm_xasprintf("%s.out", again);
	char *samples = cm_xasprintf("%s/samples.csv", outdir);
	char *argv[] = { COLDMARK_BIN, "report", samples, "-o", again, NULL };
	assert_int_equal(run(argv, out, 0), 0);
	char *p1 = cm_xasprintf("%s/summary.csv", outdir), *p2 = cm_xasprintf("%s/summary.csv", again);
	char *s1 = slurp(p1), *s2 = slurp(p2);
	assert_true(strlen(s1) > 100);
	assert_string_equal(s1, s2);
	free(s1), free(s2), free(p1), free(p2), free(samples), free(out), free(again);
}

static void test_run_debugcon(void **state)
{
	char body[2048];
	snprintf(body, sizeof(body), matrix_head, "guest", "tcg",
		 "  - {name: qemu_init, from: exec, to: first_entry}\n", 5, 1, "30s");
	/* -o into folders that do not exist yet */
	char *m = write_matrix("tcg", body), *out, *dir = cm_xasprintf("%s/new/parents/run-tcg", tmp);
	char *extra = cm_xasprintf("--source debugcon --export-hyperfine %s/hf.json --export-bmf "
				   "%s/bmf.json", tmp, tmp);
	int rc = coldmark(m, dir, extra, 0, &out);
	free(extra);
	expect_ok(rc, out, dir);
	check_ok_run(dir, 5, "debugcon", false);
	/* qemu_init needs first_entry, which debugcon cannot see: said at the start */
	assert_non_null(strstr(out, "phase qemu_init (exec -> first_entry) is not measurable for 1 of 2 cases"));
	char *bp = cm_xasprintf("%s/bmf.json", tmp), *bmf = slurp(bp);
	assert_non_null(strstr(bmf, "\"accel=tcg\": {"));
	assert_non_null(strstr(bmf, "\"total\": {"));
	assert_non_null(strstr(bmf, "\"value\": ")); /* 5 boots: no CI bounds yet */
	free(bmf), free(bp);
	/* hyperfine's layout: results[].command, times in seconds */
	char *hp = cm_xasprintf("%s/hf.json", tmp), *hf = slurp(hp);
	assert_non_null(strstr(hf, "\"results\""));
	assert_non_null(strstr(hf, "\"command\": \"accel=tcg\""));
	assert_non_null(strstr(hf, "\"times\""));
	assert_non_null(strstr(hf, "\"median\": 0."));
	free(hf), free(hp);
	free(out), free(m), free(dir);
}

static size_t count_total_rows(const char *dir, size_t *cases)
{
	struct cm_dataset ds;
	load_samples(dir, &ds);
	size_t n = 0;
	for (size_t i = 0; i < ds.n; i++)
		n += !ds.rows[i].warmup && !strcmp(ds.rows[i].phase, "total") &&
		     !cm_is_reference_case(ds.rows[i].case_id);
	*cases = ds.ncases;
	cm_dataset_free(&ds);
	return n;
}

/* --until-ci: stops at min_boots when the target is loose, runs to max_boots when it cannot
 * be met, and says so */
static void test_until_ci(void **state)
{
	char body[2048], *out;
	snprintf(body, sizeof(body), matrix_head, "guest", "tcg", "", 3, 0, "30s");
	strcat(body, "include: [{accel: tcg, memory: 256M}]\n");
	char *extra = cm_xstrdup("run: {min_boots: 6, max_boots: 9}\n");
	char *full = cm_xasprintf("%s%s", body, extra);
	/* run: appears twice in that text: keep the last one only */
	char *first_run = strstr(full, "run: {boots");
	memmove(first_run, strchr(first_run, '\n') + 1, strlen(strchr(first_run, '\n') + 1) + 1);
	char *m = write_matrix("until", full), *dir = cm_xasprintf("%s/until-loose", tmp);
	size_t cases;
	assert_int_equal(coldmark(m, dir, "--until-ci 99", 0, &out), 0);
	assert_int_equal(count_total_rows(dir, &cases), 6);
	free(out), free(dir);
	dir = cm_xasprintf("%s/until-tight", tmp);
	assert_int_equal(coldmark(m, dir, "--until-ci 0.0001", 0, &out), 0);
	assert_int_equal(count_total_rows(dir, &cases), 9);
	assert_non_null(strstr(out, "max_boots reached before the target"));
	char *md = cm_xasprintf("%s/report.md", dir), *text = slurp(md);
	assert_non_null(strstr(text, "adaptive stopping"));
	free(text), free(md), free(out), free(dir), free(m), free(full), free(extra);
}

/* --order: the boots happen in the planned order (samples.csv is written in boot order) */
static void test_order(void **state)
{
	char body[2048], *out;
	snprintf(body, sizeof(body), matrix_head, "guest", "tcg], cpu: [qemu64, max", "", 3, 0, "30s");
	char *m = write_matrix("order", body);
	static const char *const orders[] = { "sequential", "interleaved" };
	/* cases in the defined order (cpu=max before cpu=qemu64), then as --order says */
	static const char *const want[] = { "bbbaaa", "bababa" };
	for (int o = 0; o < 2; o++) {
		char *dir = cm_xasprintf("%s/order-%s", tmp, orders[o]);
		char *extra = cm_xasprintf("--order %s", orders[o]);
		assert_int_equal(coldmark(m, dir, extra, 0, &out), 0);
		struct cm_dataset ds;
		load_samples(dir, &ds);
		char seq[16] = "";
		for (size_t i = 0; i < ds.n && strlen(seq) < 15; i++)
			if (!strcmp(ds.rows[i].phase, "total") && !cm_is_reference_case(ds.rows[i].case_id))
				strcat(seq, strstr(ds.rows[i].case_id, "qemu64") ? "a" : "b");
		assert_string_equal(seq, want[o]);
		cm_dataset_free(&ds);
		free(out), free(extra), free(dir);
	}
	free(m);
}

static void test_run_perf(void **state)
{
	char body[2048];
	snprintf(body, sizeof(body), matrix_head, "guest", "kvm",
		 "  - {name: qemu_init, from: exec, to: first_entry}\n", 5, 0, "120s");
	char *m = write_matrix("kvm", body), *out, *dir = cm_xasprintf("%s/run-kvm", tmp);
	/* both: perf measures, and debugcon's times of the same markers are kept beside */
	int rc = coldmark(m, dir, "--source both", 0, &out);
	expect_ok(rc, out, dir);
	check_ok_run(dir, 5, "perf", true);
	char *evp = cm_xasprintf("%s/events.csv", dir), *ev = slurp(evp);
	assert_non_null(strstr(ev, ",real_mode,244,16,"));
	assert_non_null(strstr(ev, ",real_mode@debugcon,244,16,"));
	assert_non_null(strstr(ev, ",first_entry,"));
	free(ev);
	free(evp);
	/* the header says which of the opened first-entry events fired, and the firmware qemu
	 * itself reported loading, by content */
	char *mp0 = cm_xasprintf("%s/meta.csv", dir), *meta0 = slurp(mp0);
	assert_non_null(strstr(meta0, "firmware sha256 (bios-256k.bin),"));
	assert_non_null(strstr(meta0, "firmware sha256 (kvmvapic.bin),")); /* the KVM option ROM */
	free(meta0), free(mp0);
	char *mp = cm_xasprintf("%s/meta.csv", dir), *meta = slurp(mp);
	assert_non_null(strstr(meta, "first_entry fired,kvm:kvm_"));
	free(meta), free(mp);
	free(out), free(m), free(dir);
}

/* ---- faults ---------------------------------------------------------------------------------- */

static void expect_status(const char *dir, const char *status, int nboots)
{
	struct cm_dataset ds;
	load_samples(dir, &ds);
	int n = 0;
	for (size_t i = 0; i < ds.n; i++)
		if (!strcmp(ds.rows[i].phase, "total") && !cm_is_reference_case(ds.rows[i].case_id)) {
			assert_string_equal(ds.rows[i].status, status);
			n++;
		}
	assert_int_equal(n, nboots);
	cm_dataset_free(&ds);
}

static void test_fault_timeout(void **state)
{
	char body[2048];
	snprintf(body, sizeof(body), matrix_head, "guest-hang", "tcg", "", 2, 0, "1500ms");
	char *m = write_matrix("hang", body), *out, *dir = cm_xasprintf("%s/hang", tmp);
	assert_int_equal(coldmark(m, dir, NULL, 0, &out), 1);
	assert_non_null(strstr(out, "timeout"));
	assert_non_null(strstr(out, "no 'work_done'"));
	expect_status(dir, "timeout", 2);
	char *log = cm_xasprintf("%s/logs/0-b1.log", dir);
	assert_int_equal(access(log, R_OK), 0); /* kept for a failed boot */
	free(log), free(out), free(m), free(dir);
}

static void test_fault_out_of_order(void **state)
{
	char body[2048];
	snprintf(body, sizeof(body), matrix_head, "guest-out-of-order", "tcg", "", 2, 0, "30s");
	char *m = write_matrix("ooo", body), *out, *dir = cm_xasprintf("%s/ooo", tmp);
	assert_int_equal(coldmark(m, dir, NULL, 0, &out), 1);
	assert_non_null(strstr(out, "out_of_order"));
	expect_status(dir, "out_of_order", 2);
	free(out), free(m), free(dir);
}

static void test_fault_bad_argument(void **state)
{
	char body[2048];
	snprintf(body, sizeof(body), matrix_head, "guest", "tcg", "", 2, 0, "30s");
	strcat(body, "include: [{accel: tcg, cpu: no-such-cpu-model}]\n");
	char *m = write_matrix("badarg", body), *out, *dir = cm_xasprintf("%s/badarg", tmp);
	assert_int_equal(coldmark(m, dir, NULL, 0, &out), 1);
	assert_non_null(strstr(out, "exit_status"));
	expect_status(dir, "exit_status", 2);
	/* qemu's own words are in the kept log */
	char *log = cm_xasprintf("%s/logs/0-b1.log", dir), *text = slurp(log);
	assert_non_null(strstr(text, "no-such-cpu-model"));
	free(text), free(log), free(out), free(m), free(dir);
}

static void test_fault_crash(void **state)
{
	/* a "qemu" that dies of SIGSEGV */
	char *fake = cm_xasprintf("%s/fake-qemu-crash", tmp);
	FILE *f = fopen(fake, "w");
	fprintf(f, "#!/bin/sh\nkill -SEGV $$\n");
	fclose(f);
	chmod(fake, 0755);
	char body[2048], head[2300];
	snprintf(body, sizeof(body), matrix_head, "guest", "tcg", "", 1, 0, "30s");
	snprintf(head, sizeof(head), "qemu: %s\n%s", fake, body);
	char *m = write_matrix("crash", head), *out, *dir = cm_xasprintf("%s/crash", tmp);
	assert_int_equal(coldmark(m, dir, NULL, 0, &out), 1);
	expect_status(dir, "crashed", 1);
	assert_non_null(strstr(out, "signal 11"));
	free(out), free(m), free(dir), free(fake);
}

static void test_fault_missing_qemu(void **state)
{
	char body[2048], head[2300];
	snprintf(body, sizeof(body), matrix_head, "guest", "tcg", "", 1, 0, "30s");
	snprintf(head, sizeof(head), "qemu: qemu-system-does-not-exist\n%s", body);
	char *m = write_matrix("noqemu", head), *out, *dir = cm_xasprintf("%s/noqemu", tmp);
	assert_int_equal(coldmark(m, dir, NULL, 0, &out), 3);
	assert_non_null(strstr(out, "qemu-system-does-not-exist"));
	assert_non_null(strstr(out, "not found"));
	free(out), free(m), free(dir);
}

static void test_fault_malformed(void **state)
{
	char *m = write_matrix("malformed", "guest: {bundled: guest}\nrun:\n  boots: lots\n");
	char *out, *dir = cm_xasprintf("%s/malformed", tmp);
	assert_int_equal(coldmark(m, dir, NULL, 0, &out), 2);
	assert_non_null(strstr(out, "malformed.yaml:3:10: error:"));
	free(out), free(m), free(dir);
}

/* SIGINT, then --resume: exactly the planned counts, the same files, the same run, each boot
 * in its planned session (two sessions of 8 boots and a warm-up each) */
static void test_resume(void **state)
{
	char body[2048], *out;
	snprintf(body, sizeof(body), matrix_head, "guest", "tcg], cpu: [qemu64, max", "", 8, 1, "30s");
	char *m = write_matrix("resume", body), *dir = cm_xasprintf("%s/resume", tmp);
	char *db = cm_xasprintf("--db %s/resume.db --sessions 2", tmp);
	assert_int_equal(coldmark(m, dir, db, 1500, &out), 130);
	free(out);
	char *extra = cm_xasprintf("--resume %s %s", dir, db);
	char *argv_dir = cm_xasprintf("%s-unused", dir);
	assert_int_equal(coldmark(m, argv_dir, extra, 0, &out), 0);
	assert_non_null(strstr(out, "resuming run"));
	free(out);
	struct cm_dataset ds;
	load_samples(dir, &ds);
	size_t ok[3] = { 0 }, warm[3] = { 0 }, per_session[3][2] = { { 0 } };
	for (size_t i = 0; i < ds.n; i++) {
		const struct cm_sample_row *r = &ds.rows[i];
		if (strcmp(r->phase, "total") || strcmp(r->status, "ok"))
			continue;
		size_t c = cm_is_reference_case(r->case_id) ? 2 : strstr(r->case_id, "qemu64") ? 0 : 1;
		(r->warmup ? warm : ok)[c]++;
		/* boots 1-8 are session 1's, 9-16 session 2's, whichever process ran them */
		assert_string_equal(ds.sessions[r->session - 1].id, r->boot <= (r->warmup ? 1 : 8) ? "1" : "2");
		per_session[c][r->session - 1] += !r->warmup;
	}
	assert_int_equal(ds.ncases, 3); /* two cases and the reference */
	for (int c = 0; c < 3; c++) {
		assert_int_equal(ok[c], 16);
		assert_int_equal(warm[c], 2);
		assert_int_equal(per_session[c][0], 8);
		assert_int_equal(per_session[c][1], 8);
	}
	cm_dataset_free(&ds);
	/* a folder that is not a run is refused */
	free(extra);
	extra = cm_xasprintf("--resume %s %s", tmp, db);
	assert_int_equal(coldmark(m, argv_dir, extra, 0, &out), 2);
	assert_non_null(strstr(out, "not a coldmark run folder"));
	free(out), free(extra), free(argv_dir), free(db), free(dir), free(m);
}

/* run.end_grace: a guest that keeps running after its end marker is ended that long after it
 * (the boot counts); a grace past the boot's timeout lets the timeout end it instead. */
static void test_end_grace(void **state)
{
	static const char *const graces[] = { "100ms", "60s" };
	static const char *const want[] = { "ok", "timeout" };
	for (int i = 0; i < 2; i++) {
		char body[1024], *out;
		snprintf(body, sizeof(body),
			 "guest: {bundled: guest-hang}\n"
			 "base_args: [-machine, pc, -display, none, -nodefaults, -no-reboot]\n"
			 "axes: {accel: [tcg]}\n"
			 "markers: {end: long_mode}\n"
			 "phases: [{name: mode_switch, from: real_mode, to: long_mode}]\n"
			 "run: {boots: 1, warmup: 0, timeout: 5s, end_grace: %s}\n",
			 graces[i]);
		char *m = write_matrix("grace", body), *dir = cm_xasprintf("%s/grace%d", tmp, i);
		coldmark(m, dir, NULL, 0, &out);
		free(out);
		struct cm_dataset ds;
		load_samples(dir, &ds);
		for (size_t r = 0; r < ds.n; r++)
			if (!cm_is_reference_case(ds.rows[r].case_id))
				assert_string_equal(ds.rows[r].status, want[i]);
		cm_dataset_free(&ds);
		free(dir), free(m);
	}
}

static void test_fault_sigint(void **state)
{
	char body[2048];
	snprintf(body, sizeof(body), matrix_head, "guest", "tcg", "", 200, 0, "30s");
	char *m = write_matrix("sigint", body), *out, *dir = cm_xasprintf("%s/sigint", tmp);
	assert_int_equal(coldmark(m, dir, NULL, 2500, &out), 130);
	assert_non_null(strstr(out, "interrupted"));
	struct cm_dataset ds;
	load_samples(dir, &ds);
	size_t ok = 0;
	for (size_t i = 0; i < ds.n; i++)
		ok += !strcmp(ds.rows[i].phase, "total") && !strcmp(ds.rows[i].status, "ok");
	assert_true(ok >= 1 && ok < 200); /* every finished boot is on disk */
	cm_dataset_free(&ds);
	char *sum = cm_xasprintf("%s/summary.csv", dir);
	assert_int_equal(access(sum, R_OK), 0); /* and reports were written */
	free(sum), free(out), free(m), free(dir);
}

/* ---- doctor ---------------------------------------------------------------------------------- */

static int sh(const char *cmd, char **output)
{
	char *out = cm_xasprintf("%s/doctor.out", tmp);
	char *argv[] = { "/bin/sh", "-c", (char *)cmd, NULL };
	int rc = run(argv, out, 0);
	*output = slurp(out);
	free(out);
	return rc;
}

/* Runs cmd and returns what it said; when it exits otherwise than want, prints the command,
 * its status and its output (an exit status alone, "0x1 != 0", names no cause), and fails. */
static char *sh_expect(const char *cmd, int want)
{
	char *out;
	int rc = sh(cmd, &out);
	if (rc != want) {
		printf("command: %s\nexited %d (expected %d), saying:\n%s\n", cmd, rc, want, out);
		fail_msg("the command exited %d", rc);
	}
	return out;
}

/* Why this process cannot make a private mount namespace (a chroot, a container without
 * CAP_SYS_ADMIN), with the errno; NULL when it can. Tried in a child, which stays outside. */
static char *mntns_error(void)
{
	int p[2];
	if (pipe(p))
		return cm_xasprintf("pipe: %s (errno %d)", strerror(errno), errno);
	pid_t pid = fork();
	if (pid == 0) {
		const char *step = "unshare(CLONE_NEWNS)";
		int err = 0;
		if (unshare(CLONE_NEWNS))
			err = errno;
		else if (mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL))
			err = errno, step = "mount(/, MS_REC | MS_PRIVATE)";
		if (err)
			dprintf(p[1], "%s: %s (errno %d)", step, strerror(err), err);
		_exit(0);
	}
	close(p[1]);
	char why[256] = "";
	ssize_t n = read(p[0], why, sizeof(why) - 1);
	close(p[0]);
	waitpid(pid, NULL, 0);
	return n > 0 ? (why[n] = 0, cm_xstrdup(why)) : NULL;
}

static void test_doctor_root(void **state)
{
	char *out = sh_expect(COLDMARK_BIN " doctor", 0);
	assert_non_null(strstr(out, "[ ok ] qemu binary"));
	assert_non_null(strstr(out, "[ ok ] KVM"));
	assert_non_null(strstr(out, "perf-kvm  (KVM guests, kvm:kvm_pio through perf): available"));
	assert_non_null(strstr(out, "debugcon  (TCG or no perf, isa-debugcon timestamped by coldmark): available"));
	/* the probe boot names the first-entry event a run will get on this host */
	assert_non_null(strstr(out, "first guest instruction (exec -> first_entry): kvm:kvm_"));
	free(out);
	out = sh_expect(COLDMARK_BIN " doctor --no-probe", 0);
	assert_null(strstr(out, "first guest instruction"));
	free(out);
}

static void test_doctor_no_kvm_no_tracefs(void **state)
{
	/* a private mount namespace: /dev/kvm masked by /dev/null, tracefs unmounted */
	char *why = mntns_error();
	if (why) {
		printf("doctor without KVM and tracefs: not run: no private mount namespace here: %s\n",
		       why);
		free(why);
		skip();
	}
	/* TCG through debugcon still works */
	char *out = sh_expect("unshare -m sh -c 'mount --bind /dev/null /dev/kvm && "
			      "(umount /sys/kernel/tracing 2>/dev/null; true) && " COLDMARK_BIN " doctor'",
			      0);
	assert_non_null(strstr(out, "[FAIL] KVM"));
	assert_non_null(strstr(out, "KVM_CREATE_VM fails"));
	assert_non_null(strstr(out, "perf-kvm  (KVM guests, kvm:kvm_pio through perf): unavailable"));
	free(out);
}

static void test_doctor_unprivileged(void **state)
{
	char *out = sh_expect("setpriv --reuid=65534 --regid=65534 --clear-groups " COLDMARK_BIN " doctor", 0);
	assert_non_null(strstr(out, "[FAIL] KVM"));
	assert_non_null(strstr(out, "per-file eviction"));
	/* either the perf check explains the permission, or tracefs is unreadable to nobody */
	assert_true(strstr(out, "CAP_PERFMON") || strstr(out, "tracefs not readable") ||
		    strstr(out, "[FAIL] tracefs"));
	free(out);
	/* nothing works without qemu: exit 3 */
	out = sh_expect("setpriv --reuid=65534 --regid=65534 --clear-groups " COLDMARK_BIN
			" doctor --qemu qemu-system-nope", 3);
	assert_non_null(strstr(out, "[FAIL] qemu binary"));
	free(out);
}

/* ---- the HTML report in a real browser --------------------------------------------------------- */

static void test_html_in_chromium(void **state)
{
	char *dir = cm_xasprintf("%s/html", tmp), *out;
	char *cmd = cm_xasprintf(COLDMARK_BIN " report " FIXTURES "/samples.csv -o %s", dir);
	out = sh_expect(cmd, 0);
	free(out);
	free(cmd);
	/* the DOM after rendering, and Chromium's log, where console messages show as CONSOLE */
	cmd = cm_xasprintf("chromium --headless --no-sandbox --disable-gpu --disable-quic "
			   "--no-first-run --disable-background-networking --disable-component-update "
			   "--disable-sync --user-data-dir=%s/profile --enable-logging=stderr --v=0 "
			   "--dump-dom file://%s/report.html 2>%s/chromium.log",
			   tmp, dir, dir);
	out = sh_expect(cmd, 0);
	free(cmd);
	size_t strips = 0, phases = 2;
	for (const char *p = out; (p = strstr(p, "class=\"plot strip\"")); p++)
		strips++;
	assert_int_equal(strips, phases);
	assert_non_null(strstr(out, "Phase breakdown"));
	free(out);
	char *logp = cm_xasprintf("%s/chromium.log", dir), *log = slurp(logp);
	if (strstr(log, "CONSOLE"))
		fprintf(stderr, "%s", log);
	assert_null(strstr(log, "CONSOLE"));
	free(log);
	free(logp);
	/* and the screenshot a person looks at */
	cmd = cm_xasprintf("bash " SOURCE_DIR "/scripts/screenshot.sh %s/report.html %s/report.png", dir, dir);
	out = sh_expect(cmd, 0);
	free(out);
	free(cmd);
	char *png = cm_xasprintf("%s/report.png", dir);
	struct stat sb;
	assert_int_equal(stat(png, &sb), 0);
	assert_true(sb.st_size > 10000);
	free(png);
	free(dir);
}

/* ---- regressions across runs ------------------------------------------------------------------- */

static const char *regress_base = "guest: {bundled: guest}\n"
	"base_args: [-machine, pc, -display, none, -nodefaults, -no-reboot, -accel, tcg]\n"
	"axes:\n  variant: %s\n"
	"phases:\n  - {name: firmware, from: exec, to: real_mode}\n"
	"  - {name: work, from: long_mode, to: work_done}\n"
	"run: {boots: %d, warmup: 1}\n";

static int cm(const char *args, char **out)
{
	char *cmd = cm_xasprintf("cd %s && " COLDMARK_BIN " %s", tmp, args);
	int rc = sh(cmd, out);
	free(cmd);
	return rc;
}

/* Run folder src's boots as if one session had booted them all, in run folder dst. */
static void one_session(const char *src, const char *dst)
{
	char *cmd = cm_xasprintf("cd %s && mkdir -p %s && cp %s/meta.csv %s/ && "
				 "awk -F, -v OFS=, 'NR > 1 { $9 = 1 } { print }' %s/samples.csv "
				 "> %s/samples.csv",
				 tmp, dst, src, dst, src, dst), *out = sh_expect(cmd, 0);
	free(cmd), free(out);
}

static void test_regression(void **state)
{
	char body[2048], *out;
	snprintf(body, sizeof(body), regress_base, "[{name: a}, {name: b}]", 4);
	char *base = write_matrix("base", body);
	/* the candidate: case b boots guest-slow first (more work before its last marker) */
	char variant[1024];
	snprintf(variant, sizeof(variant),
		 "[{name: a}, {name: b, args: [-drive, \"if=none,id=slow,file=%s/guest-slow.img,"
		 "format=raw,snapshot=on\", -device, \"ide-hd,drive=slow,bus=ide.1,bootindex=0\"]}]",
		 GUEST_DIR);
	snprintf(body, sizeof(body), regress_base, variant, 4);
	char *cand = write_matrix("cand", body);
	/* two runs of two sessions under each tag: every session recorded under a tag counts */
	const char *runs[][3] = { { "old", "r1", "base" }, { "old", "r2", "base" },
				  { "new", "r3", "cand" }, { "new", "r4", "cand" } };
	for (int i = 0; i < 4; i++) {
		char *cmd = cm_xasprintf("run %s --tag %s -o %s --db h.db --sessions 2",
					 !strcmp(runs[i][2], "base") ? base : cand, runs[i][0], runs[i][1]);
		assert_int_equal(cm(cmd, &out), 0);
		free(cmd), free(out);
	}

	/* The slowed case and phase, and nothing else, with the session as the unit. The
	 * tolerance is the practical floor a user sets (the ~60 us work phase is read by
	 * debugcon to tens of us); the injected slowdown is ~+7800% and ~5 ms. */
#define TOLERANCE " --threshold 50 --min-change 1ms"
	int rc = cm("compare old new --db h.db" TOLERANCE, &out);
	if (rc != 1)
		fprintf(stderr, "%s", out);
	assert_int_equal(rc, 1);
	assert_non_null(strstr(out, "note: old: 2 runs, 4 sessions"));
	bool b_work = false;
	for (char *line = strtok(out, "\n"); line; line = strtok(NULL, "\n")) {
		if (!strstr(line, "REGRESSED"))
			continue;
		assert_non_null(strstr(line, "variant=b"));
		assert_non_null(strstr(line, "sessions 4+4"));
		b_work |= strstr(line, " work ") != NULL;
	}
	assert_true(b_work);
	free(out);
	/* and judged against the reference booted in the same sessions: the same verdict */
	rc = cm("compare old new --db h.db --relative-to reference" TOLERANCE, &out);
	assert_int_equal(rc, 1);
	assert_non_null(strstr(out, "relative to its reference in the same session"));
	free(out);
	rc = cm("compare r1 r2" TOLERANCE, &out); /* unchanged */
	if (rc != 0)
		fprintf(stderr, "%s", out);
	assert_int_equal(rc, 0);
	assert_non_null(strstr(out, "beyond ±50% and beyond ±1.00 ms;")); /* the rule, stated */
	assert_non_null(strstr(out, "\nreference ")); /* the reference case: base_args' accelerator */
	free(out);
	assert_int_equal(cm("compare r1 r3 --fail-on firmware --format md" TOLERANCE, &out), 0);
	assert_non_null(strstr(out, "| variant=b | work |"));
	assert_non_null(strstr(out, "**regressed**"));
	free(out);
	/* one session a side and no calibration: the boots see it, and it is not a verdict (5) */
	one_session("r1", "s1");
	one_session("r3", "s3");
	rc = cm("compare s1 s3 --db none.db" TOLERANCE, &out);
	if (rc != 5)
		fprintf(stderr, "%s", out);
	assert_int_equal(rc, 5);
	assert_non_null(strstr(out, "boots only"));
	assert_non_null(strstr(out, "NOT the CI of a change between runs"));
	free(out);
	/* with a calibration of this host, the same two sessions are judged */
	char *cmd = cm_xasprintf("calibrate %s --sessions 3 -n 4 -o cal --db h.db", base);
	assert_int_equal(cm(cmd, &out), 0);
	assert_non_null(strstr(out, "stored for host"));
	free(cmd), free(out);
	rc = cm("compare s1 s3 --db h.db" TOLERANCE, &out);
	if (rc != 1)
		fprintf(stderr, "%s", out);
	assert_int_equal(rc, 1);
	assert_non_null(strstr(out, "calibrated 1+1"));
	free(out);
	/* within runs: variant=b against variant=a in the same sessions, the four of tag new (two
	 * sessions give the per-session t one df: too few for Holm over five rows) */
	rc = cm("compare new --axis variant --db h.db" TOLERANCE, &out);
	if (rc != 1)
		fprintf(stderr, "%s", out);
	assert_int_equal(rc, 1);
	/* the default base is the matrix's first value, and the note says so */
	assert_non_null(strstr(out, "variant=a (base, the matrix's first value) against variant=b "
				    "(candidate)"));
	assert_non_null(strstr(out, "\nvariant                              work "));
	assert_non_null(strstr(out, "within run ×4"));
	assert_non_null(strstr(out, "REGRESSED"));
	free(out);
	assert_int_equal(cm("compare r1 --axis variant --base b --cand a" TOLERANCE, &out), 0);
	free(out);
	assert_int_equal(cm("compare r1 --axis variant --cand c", &out), 2);
	assert_non_null(strstr(out, "--cand: axis variant has no value 'c' (its values: a, b)"));
	free(out);
	assert_int_equal(cm("compare r1 r2 --axis variant", &out), 2);
	free(out);
	assert_int_equal(cm("compare r1 --axis variant --base a --cand a", &out), 2);
	assert_non_null(strstr(out, "--base and --cand are both 'a'"));
	free(out);
	assert_int_equal(cm("compare r1 r2 --relative-to nothing", &out), 2);
	free(out);
	/* a different firmware image is named, by content */
	char *edit = cm_xasprintf("cd %s && cp -r r1 r1x && "
				  "sed -i 's/^firmware sha256 (bios-256k.bin),./&0/' r1x/meta.csv", tmp);
	out = sh_expect(edit, 0);
	free(out), free(edit);
	assert_int_equal(cm("compare r1 r1x", &out), 0);
	assert_non_null(strstr(out, "not comparable: firmware sha256 (bios-256k.bin) differs"));
	free(out);
	assert_int_equal(cm("compare old new --db h.db --min-change 5h", &out), 2);
	assert_non_null(strstr(out, "--min-change '5h': a duration"));
	free(out);
	assert_int_equal(cm("compare old new --db h.db --threshold 2x", &out), 2);
	free(out);
	/* history: a point per session, the change point where new began */
	assert_int_equal(cm("history --db h.db --phase work --case variant=b --html trend.html"
			    TOLERANCE, &out), 0);
	assert_non_null(strstr(out, "old#1"));
	assert_non_null(strstr(out, "change point before new#1: +"));
	free(out);
	char *tp = cm_xasprintf("%s/trend.html", tmp), *trend = slurp(tp);
	assert_non_null(strstr(trend, "class=\"plot trend\""));
	assert_non_null(strstr(trend, "class=\"change-point\""));
	free(trend), free(tp);
	/* samples measured elsewhere come in under a tag */
	assert_int_equal(cm("import r1/samples.csv --tag elsewhere --db h.db", &out), 0);
	free(out);
	assert_int_equal(cm("compare elsewhere r1 --db h.db --format json", &out), 0);
	assert_non_null(strstr(out, "\"regressions\": 0"));
	free(out);
	assert_int_equal(cm("compare nosuchtag old --db h.db", &out), 2);
	free(out);
	free(base), free(cand);
}

static void test_kill9(void **state)
{
	char body[2048], *out;
	snprintf(body, sizeof(body), regress_base, "[{name: a}]", 500);
	char *m = write_matrix("long", body);
	char *dir = cm_xasprintf("%s/k", tmp), *db = cm_xasprintf("%s/h.db", tmp);
	char *extra = cm_xasprintf("--tag killed --db %s", db);
	stop_signal = SIGKILL;
	assert_int_equal(coldmark(m, dir, extra, 4000, &out), 128 + SIGKILL);
	stop_signal = SIGINT;
	free(out);
	/* every finished boot is in the store, and the store reads */
	assert_int_equal(cm("history --db h.db --case variant=a --phase total", &out), 0);
	char *line = strstr(out, "killed");
	assert_non_null(line);
	char *n = strstr(line, "n=");
	assert_non_null(n);
	assert_true(atoi(n + 2) >= 1);
	free(out);
	assert_int_equal(cm("compare killed k --db h.db", &out), 0); /* the store and samples.csv agree */
	free(out);
	free(m), free(dir), free(db), free(extra);
}

/* ---- nothing lost, nothing run that was not asked for (README's promises) ---------------------- */

static bool exists(const char *dir, const char *name)
{
	char *p = cm_xasprintf("%s/%s", dir, name);
	bool yes = access(p, F_OK) == 0;
	free(p);
	return yes;
}

/* File names a shell would run: a disk image and a qemu path made of quotes and $(...). */
static void test_hostile_names(void **state)
{
	char *img = cm_xasprintf("%s/a';touch PWNED;'$(touch PWNED2).img", tmp);
	char *src = cm_xasprintf("%s/guest.img", GUEST_DIR), *data = NULL;
	size_t len = 0;
	data = cm_read_file(src, &len);
	assert_non_null(data);
	FILE *f = fopen(img, "w");
	fwrite(data, 1, len, f);
	fclose(f);
	char *qemu = cm_which("qemu-system-x86_64");
	char *q = cm_xasprintf("%s/q';touch PWNED3;'", tmp);
	assert_int_equal(symlink(qemu, q), 0);
	char body[4096];
	snprintf(body, sizeof(body),
		 "qemu: \"%s\"\nguest: {disk: \"%s\"}\n"
		 "base_args: [-machine, pc, -display, none, -nodefaults, -no-reboot,"
		 " -device, \"isa-debug-exit,iobase=0x501,iosize=2\"]\n"
		 "axes: {accel: [tcg]}\nrun: {boots: 1, warmup: 0, exit_status: 33, reference: none}\n",
		 q, img);
	char *m = write_matrix("hostile", body), *out, *dir = cm_xasprintf("%s/hostile", tmp);
	char *cmd = cm_xasprintf("run %s -o hostile --db hostile.db", m);
	int rc = cm(cmd, &out);
	expect_ok(rc, out, dir);
	free(out);
	char *doc = cm_xasprintf("doctor --no-probe --qemu \"%s\"", q);
	cm(doc, &out);
	free(out);
	assert_false(exists(tmp, "PWNED"));
	assert_false(exists(tmp, "PWNED2"));
	assert_false(exists(tmp, "PWNED3"));
	/* the hash was taken in process, of the file itself */
	char *mp = cm_xasprintf("%s/meta.csv", dir), *meta = slurp(mp);
	assert_non_null(strstr(meta, "disk sha256"));
	free(meta), free(mp), free(doc), free(cmd), free(dir), free(m), free(q), free(qemu);
	free(data), free(src), free(img);
}

/* Links planted in a run folder are never followed; an earlier run is not overwritten. */
static void test_run_folder(void **state)
{
	char body[2048], *out;
	snprintf(body, sizeof(body), matrix_head, "guest", "tcg", "", 1, 0, "30s");
	char *m = write_matrix("folder", body);
	char *victim = cm_xasprintf("%s/victim", tmp), *dir = cm_xasprintf("%s/planted", tmp);
	FILE *f = fopen(victim, "w");
	fputs("precious\n", f);
	fclose(f);
	static const char *const names[] = { "samples.csv", "meta.csv", "report.json.tmp", "logs" };
	for (size_t i = 0; i < 4; i++) {
		mkdir(dir, 0755);
		char *link = cm_xasprintf("%s/%s", dir, names[i]);
		assert_int_equal(symlink(i == 3 ? tmp : victim, link), 0);
		for (int force = 0; force < 2; force++) {
			assert_int_equal(coldmark(m, dir, force ? "--force" : NULL, 0, &out), 2);
			assert_non_null(strstr(out, "no coldmark run wrote (or a link)"));
			free(out);
		}
		char *v = slurp(victim);
		assert_string_equal(v, "precious\n");
		free(v);
		unlink(link);
		free(link);
	}
	/* a second run into the same folder is refused; --force replaces it */
	char *d2 = cm_xasprintf("%s/twice", tmp);
	assert_int_equal(coldmark(m, d2, NULL, 0, &out), 0);
	free(out);
	assert_int_equal(coldmark(m, d2, NULL, 0, &out), 2);
	assert_non_null(strstr(out, "holds a run already"));
	free(out);
	assert_int_equal(coldmark(m, d2, "--force", 0, &out), 0);
	free(out);
	struct cm_dataset ds;
	load_samples(d2, &ds);
	/* one boot: 3 phases, total and the 2 host-cost metrics, and the reference's total and
	 * metrics; not two runs' rows */
	assert_int_equal(ds.n, 4 + CM_NMETRICS + 1 + CM_NMETRICS);
	cm_dataset_free(&ds);
	/* a folder with files of its own is never written to, --force or not */
	f = fopen(victim, "w");
	fclose(f);
	assert_int_equal(coldmark(m, tmp, "--force", 0, &out), 2);
	free(out);
	free(d2), free(dir), free(victim), free(m);
}

/* qemu processes whose command line holds tag, still alive */
static int live_qemus(const char *tag)
{
	int n = 0;
	DIR *d = opendir("/proc");
	struct dirent *e;
	while ((e = readdir(d))) {
		if (e->d_name[0] < '0' || e->d_name[0] > '9')
			continue;
		char *p = cm_xasprintf("/proc/%s/cmdline", e->d_name);
		size_t len = 0;
		char *c = cm_read_file(p, &len);
		for (size_t i = 0; c && i + 1 < len; i++)
			if (!c[i])
				c[i] = ' ';
		char *sp = cm_xasprintf("/proc/%s/stat", e->d_name), *st = cm_read_file(sp, &len);
		bool zombie = st && strstr(st, ") Z ");
		n += c && strstr(c, tag) && strstr(c, "qemu-system") && !zombie;
		free(c), free(p), free(st), free(sp);
	}
	closedir(d);
	return n;
}

static void wait_no_qemu(const char *tag)
{
	for (int i = 0; i < 50 && live_qemus(tag); i++)
		usleep(100000);
	assert_int_equal(live_qemus(tag), 0);
}

/* kill -9 and SIGHUP while a guest hangs: qemu dies with coldmark, and the run resumes. */
static void test_kill_and_hangup(void **state)
{
	char body[2048], *out, tag[64];
	snprintf(tag, sizeof(tag), "cmk9-%d", (int)getpid());
	snprintf(body, sizeof(body),
		 "guest: {bundled: guest-hang}\n"
		 "base_args: [-machine, pc, -display, none, -nodefaults, -no-reboot, -name, %s]\n"
		 "axes: {accel: [tcg]}\nrun: {boots: 1, warmup: 0, timeout: 3s, reference: none}\n", tag);
	char *m = write_matrix("hang", body), *dir = cm_xasprintf("%s/k9", tmp);
	stop_signal = SIGKILL;
	assert_int_equal(coldmark(m, dir, NULL, 1000, &out), 128 + SIGKILL);
	free(out);
	wait_no_qemu(tag);
	/* the plan was on disk before the first boot: the run resumes to its planned count */
	char *extra = cm_xasprintf("--resume %s", dir);
	assert_int_equal(coldmark(m, tmp, extra, 0, &out), 1); /* the one boot times out */
	assert_non_null(strstr(out, "resuming run"));
	free(out);
	struct cm_dataset ds;
	load_samples(dir, &ds);
	assert_true(ds.n >= 1);
	for (size_t i = 0; i < ds.n; i++) { /* one boot, its phases, timed out */
		assert_int_equal(ds.rows[i].boot, 1);
		assert_string_equal(ds.rows[i].status, "timeout");
	}
	cm_dataset_free(&ds);
	/* a hang-up (a dropped ssh session) stops the run as SIGTERM does: reports, exit 130 */
	char *d2 = cm_xasprintf("%s/hup", tmp);
	stop_signal = SIGHUP;
	assert_int_equal(coldmark(m, d2, NULL, 1000, &out), 130);
	stop_signal = SIGINT;
	assert_non_null(strstr(out, "interrupted by signal 1"));
	assert_true(exists(d2, "summary.csv"));
	assert_true(exists(d2, "meta.csv"));
	free(out);
	wait_no_qemu(tag);
	free(d2), free(extra), free(dir), free(m);
}

/* A full disk: the run stops with exit 4, no partial row, and resumes when there is room. */
static void test_full_disk(void **state)
{
	/* a small tmpfs, mounted in a mount namespace of this process's own (the last test) */
	char *why = geteuid() ? cm_xasprintf("needs root to mount a tmpfs (euid %d)", (int)geteuid())
			      : mntns_error();
	if (!why && unshare(CLONE_NEWNS)) /* as mntns_error found it can, this time for us */
		why = cm_xasprintf("unshare(CLONE_NEWNS): %s (errno %d)", strerror(errno), errno);
	if (!why && mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL))
		why = cm_xasprintf("mount(/, MS_REC | MS_PRIVATE): %s (errno %d)", strerror(errno), errno);
	if (why) {
		printf("full-disk test: not run: %s\n", why);
		free(why);
		skip();
	}
	char *small = cm_xasprintf("%s/small", tmp);
	mkdir(small, 0755);
	assert_int_equal(mount("tmpfs", small, "tmpfs", 0, "size=24k"), 0);
	char body[2048], *out;
	snprintf(body, sizeof(body), matrix_head, "guest", "tcg], cpu: [qemu64, max", "", 40, 0,
		 "30s");
	char *m = write_matrix("full", body), *dir = cm_xasprintf("%s/run", small);
	char *extra = cm_xasprintf("--format csv --db %s/full.db", tmp);
	assert_int_equal(coldmark(m, dir, extra, 0, &out), 4);
	assert_non_null(strstr(out, "No space left on device"));
	free(out);
	/* every row complete: the file reads, and its last byte ends a row */
	struct cm_dataset ds;
	load_samples(dir, &ds);
	size_t first = ds.n;
	assert_true(first > 0 && first < 3 * 40 * 4); /* two cases and the reference */
	cm_dataset_free(&ds);
	char *p = cm_xasprintf("%s/samples.csv", dir), *text = slurp(p);
	assert_int_equal(text[strlen(text) - 1], '\n');
	free(text);
	/* room again: the run continues to its planned counts */
	assert_int_equal(mount("tmpfs", small, NULL, MS_REMOUNT, "size=4m"), 0);
	char *resume = cm_xasprintf("--resume %s %s", dir, extra);
	assert_int_equal(coldmark(m, tmp, resume, 0, &out), 0);
	free(out);
	load_samples(dir, &ds);
	size_t ok = 0;
	for (size_t i = 0; i < ds.n; i++)
		ok += !strcmp(ds.rows[i].phase, "total") && !strcmp(ds.rows[i].status, "ok") &&
		      !cm_is_reference_case(ds.rows[i].case_id);
	assert_int_equal(ok, 80);
	cm_dataset_free(&ds);
	umount(small);
	free(resume), free(p), free(extra), free(dir), free(m), free(small);
}

/* Bad samples.csv files through the command line: exit 2 naming file:line:col, and (in the
 * ASan build) no leak on the way out. */
static void test_bad_samples_cli(void **state)
{
	static const char *const bad[] = {
		"case,boot,status,phase,duration_ns\nx,1,ok,total,-5\n",
		"case,boot,status,phase,duration_ns\nx,99999999999,ok,total,5\n",
		"case,boot,status,phase,duration_ns\nx,1,ok,total,5\nx,1,ok,total,6\n",
		"case,boot,status,phase,duration_ns\nx,1,ok,total,5\nx,2,ok,to",
		"case,boot,status,phase\nx,1,ok,total\n",
		"case,boot,status,phase,duration_ns\n\"x,1,ok,total,5\n",
		"case,boot,status,phase,duration_ns\nx\x1b[31m,1,ok,total,5\n",
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		char *p = cm_xasprintf("%s/bad%zu.csv", tmp, i), *out;
		FILE *f = fopen(p, "w");
		fputs(bad[i], f);
		fclose(f);
		char *cmd = cm_xasprintf("report %s -o badrep%zu", p, i);
		int rc = cm(cmd, &out);
		if (rc != 2)
			fprintf(stderr, "%s -> %d\n%s", bad[i], rc, out);
		assert_int_equal(rc, 2);
		assert_non_null(strstr(out, p));
		free(out), free(cmd), free(p);
	}
}

/* A store that cannot take the run stops it before the first boot, loudly. */
static void test_store_refuses(void **state)
{
	char body[2048], *out;
	snprintf(body, sizeof(body), matrix_head, "guest", "tcg", "", 1, 0, "30s");
	char *m = write_matrix("store", body);
	char *dbdir = cm_xasprintf("%s/db-is-a-folder", tmp), *junk = cm_xasprintf("%s/junk.db", tmp);
	mkdir(dbdir, 0755);
	FILE *f = fopen(junk, "w");
	fputs("this is not a database, it only has its name\n", f);
	fclose(f);
	const char *const dbs[] = { dbdir, junk };
	for (int i = 0; i < 2; i++) {
		char *extra = cm_xasprintf("--db %s", dbs[i]), *dir = cm_xasprintf("%s/st%d", tmp, i);
		assert_int_equal(coldmark(m, dir, extra, 0, &out), 4);
		assert_non_null(strstr(out, "the results store cannot be used"));
		assert_false(exists(dir, "samples.csv")); /* nothing booted */
		free(out), free(extra), free(dir);
	}
	/* readers never make an empty store */
	assert_int_equal(cm("history --db nowhere.db", &out), 2);
	assert_non_null(strstr(out, "no results store there"));
	free(out);
	assert_false(exists(tmp, "nowhere.db"));
	assert_int_equal(cm("compare a b --db db-is-a-folder", &out), 2);
	assert_non_null(strstr(out, "no results store there"));
	free(out);
	/* unknown formats are usage errors for run and report alike */
	assert_int_equal(coldmark(m, tmp, "--format csv,pdf", 0, &out), 2);
	assert_non_null(strstr(out, "unknown report format 'pdf' (known: csv, md, json, html)"));
	free(out);
	free(junk), free(dbdir), free(m);
}

/* Console markers beside port markers on the same boots: the bundled guest's SERIAL variant
 * prints a line after each port marker; every boot is ok, each console marker comes after its
 * port marker, and the serial also reached the boot log of a failed boot. */
static void test_console_markers(void **state)
{
	static const char body[] =
		"guest: {bundled: guest-serial}\n"
		"base_args: [-machine, pc, -display, none, -nodefaults, -no-reboot]\n"
		"axes: {accel: [tcg]}\n"
		"markers:\n  console:\n    - {name: con_real, match: \"R\"}\n"
		"    - {name: con_done, match: \"W\"}\n  end: con_done\n"
		"phases:\n  - {name: err_real, from: real_mode, to: con_real}\n"
		"  - {name: work, from: con_real, to: con_done}\n"
		"run: {boots: 3, warmup: 0}\n";
	char *m = write_matrix("console-markers", body), *out, *dir = cm_xasprintf("%s/conm", tmp);
	int rc = coldmark(m, dir, NULL, 0, &out);
	expect_ok(rc, out, dir);
	free(out);
	struct cm_dataset ds;
	load_samples(dir, &ds);
	size_t ok = 0;
	for (size_t i = 0; i < ds.n; i++) {
		assert_string_equal(ds.rows[i].status, "ok");
		assert_true(ds.rows[i].duration_ns > 0); /* console after port, work after start */
		ok += !strcmp(ds.rows[i].phase, "err_real");
	}
	assert_int_equal(ok, 3);
	cm_dataset_free(&ds);
	/* console events are in events.csv, in time order with the port markers */
	char *ep = cm_xasprintf("%s/events.csv", dir), *ev = slurp(ep);
	char *port = strstr(ev, ",real_mode,"), *con = strstr(ev, ",con_real,");
	assert_non_null(port);
	assert_non_null(con);
	assert_true(port < con);
	free(ev), free(ep), free(dir), free(m);
}

/* ---- a real Linux guest ------------------------------------------------------------------------ */

/* Runs a Linux config for one boot; every row ok and positive; returns how many rows are of
 * the named phases (names: a NULL-terminated list). */
static size_t linux_run(const char *config, const char *name, const char *const *phases)
{
	char *dir = cm_xasprintf("%s/%s", tmp, name), *out;
	int rc = coldmark(config, dir, "-n 1", 0, &out);
	expect_ok(rc, out, dir);
	free(out);
	struct cm_dataset ds;
	load_samples(dir, &ds);
	size_t seen = 0;
	for (size_t i = 0; i < ds.n; i++) {
		assert_string_equal(ds.rows[i].status, "ok");
		assert_true(ds.rows[i].duration_ns > 0);
		for (const char *const *p = phases; *p; p++)
			seen += !strcmp(ds.rows[i].phase, *p);
	}
	cm_dataset_free(&ds);
	free(dir);
	return seen;
}

static void test_linux_guest(void **state)
{
	static const char *const phases[] = { "to_user", "shutdown", NULL };
	/* exec -> linux_start_user -> exit */
	assert_int_equal(linux_run(SOURCE_DIR "/configs/linux.yaml", "linux", phases), 2);
	char *mp = cm_xasprintf("%s/linux/meta.csv", tmp), *meta = slurp(mp);
	assert_non_null(strstr(meta, "firmware sha256 (linuxboot_dma.bin),")); /* -kernel's ROM */
	free(meta), free(mp);
}

/* configs/linux-console.yaml: the Debian kernel measured from its console, no change to it */
static void test_linux_console_markers(void **state)
{
	static const char *const phases[] = { "kernel", "to_kernel", NULL };
	assert_int_equal(linux_run(SOURCE_DIR "/configs/linux-console.yaml", "linux-console", phases),
			 2);
}

/* A failed boot keeps what the guest said on its serial console, though the matrix connects
 * no serial (the usual case); a matrix's own -serial is left alone. */
static void test_linux_console_log(void **state)
{
	char body[2048], *out;
	snprintf(body, sizeof(body),
		 "qemu: qemu-system-x86_64\n"
		 "guest: {kernel: %s/linux/vmlinuz, initrd: %s/linux/initrd.img, "
		 "append: \"console=ttyS0 panic=-1\"}\n"
		 "base_args: [-machine, pc, -display, none, -nodefaults, -no-reboot,"
		 " -device, \"isa-debug-exit,iobase=0x501,iosize=2\"]\n"
		 "axes: {accel: [tcg], memory: [256M]}\n"
		 "markers: {preset: qemu-boot-time}\n"
		 "phases: [{name: to_user, from: exec, to: linux_start_user}]\n"
		 "run: {boots: 1, warmup: 0, timeout: 180s, exit_status: 0}\n", /* 33 really */
		 BUILD_DIR, BUILD_DIR);
	char *m = write_matrix("console", body), *dir = cm_xasprintf("%s/console", tmp);
	assert_int_equal(coldmark(m, dir, NULL, 0, &out), 1);
	free(out);
	char *log = cm_xasprintf("%s/logs/0-b1.log", dir), *text = slurp(log);
	assert_non_null(strstr(text, "Run /init as init process"));
	free(text), free(log), free(dir), free(m);
}

/* The group's temp folder goes when it ends, passed, failed or skipped (~20 of them, 11 MB,
 * stayed after each run of the suite); COLDMARK_KEEP_TMP=1 keeps it to look into. Not in the
 * children forked to run commands (they _exit), only in the process that made it. */
static pid_t tmp_owner;

static void remove_tmp(void)
{
	if (getpid() != tmp_owner)
		return;
	if (getenv("COLDMARK_KEEP_TMP")) {
		printf("kept %s (COLDMARK_KEEP_TMP)\n", tmp);
		return;
	}
	char *small = cm_xasprintf("%s/small", tmp); /* the full-disk tmpfs, if a test failed */
	umount2(small, MNT_DETACH);
	free(small);
	fflush(stdout);
	pid_t pid = fork();
	if (pid == 0) {
		execlp("rm", "rm", "-rf", tmp, (char *)NULL);
		_exit(127);
	}
	int st;
	if (waitpid(pid, &st, 0) < 0 || !WIFEXITED(st) || WEXITSTATUS(st))
		printf("could not remove %s\n", tmp);
}

/* CAP_SYS_ADMIN dropped (as in a chroot or a container without it): no mount namespace. */
static int drop_sys_admin(void)
{
	struct __user_cap_header_struct h = { _LINUX_CAPABILITY_VERSION_3, 0 };
	struct __user_cap_data_struct d[2];
	if (prctl(PR_CAPBSET_DROP, CAP_SYS_ADMIN, 0, 0, 0) || syscall(SYS_capget, &h, d))
		return -1;
	for (int i = 0; i < 2; i++) {
		unsigned bit = i == CAP_SYS_ADMIN / 32 ? 1u << (CAP_SYS_ADMIN % 32) : 0;
		d[i].effective &= ~bit, d[i].permitted &= ~bit, d[i].inheritable &= ~bit;
	}
	return syscall(SYS_capset, &h, d);
}

int main(int argc, char **argv)
{
	const char *group = argc > 1 ? argv[1] : "";
	snprintf(tmp, sizeof(tmp), "/tmp/coldmark-e2e-%s-XXXXXX", group);
	if (!mkdtemp(tmp))
		return 1;
	tmp_owner = getpid();
	atexit(remove_tmp);
	setenv("COLDMARK_GUEST_DIR", GUEST_DIR, 1);
	char *qemu = cm_which("qemu-system-x86_64");
	if (!qemu)
		skip_group("qemu-system-x86_64 is not installed");
	free(qemu);
	if (!strcmp(group, "guest-tcg")) {
		const struct CMUnitTest t[] = { cmocka_unit_test(test_guest_tcg),
						cmocka_unit_test(test_launch_fds),
						cmocka_unit_test(test_launch_fds_not_leaked) };
		return cmocka_run_group_tests_name("guest-tcg", t, NULL, NULL);
	}
	if (!strcmp(group, "guest-kvm")) {
		if (!kvm_ok())
			skip_group("/dev/kvm cannot create a VM here");
		const struct CMUnitTest t[] = { cmocka_unit_test(test_guest_kvm) };
		return cmocka_run_group_tests_name("guest-kvm", t, NULL, NULL);
	}
	if (!strcmp(group, "run-debugcon")) {
		const struct CMUnitTest t[] = { cmocka_unit_test(test_run_debugcon),
						cmocka_unit_test(test_console_markers),
						cmocka_unit_test(test_until_ci),
						cmocka_unit_test(test_order) };
		return cmocka_run_group_tests_name("run-debugcon", t, NULL, NULL);
	}
	if (!strcmp(group, "run-perf")) {
		if (!cm_perf_built_in())
			skip_group("this build has no perf source (COLDMARK_PERF=OFF)");
		if (!kvm_ok())
			skip_group("/dev/kvm cannot create a VM here");
		struct cm_error err = { 0 };
		const char *tracefs = cm_tracefs_path(geteuid() == 0, NULL);
		unsigned port = 0xf4;
		struct cm_perf_config pc = { &port, 1, "qemu-system-x86_64", "auto", "rip == 0xfff0",
					     tracefs };
		struct cm_perf *p = tracefs ? cm_perf_open(&pc, &err) : NULL;
		if (!p)
			skip_group(tracefs ? err.msg : "tracefs is not mounted");
		cm_perf_close(p);
		const struct CMUnitTest t[] = { cmocka_unit_test(test_run_perf) };
		return cmocka_run_group_tests_name("run-perf", t, NULL, NULL);
	}
	if (!strcmp(group, "faults")) {
		const struct CMUnitTest t[] = {
			cmocka_unit_test(test_fault_malformed),
			cmocka_unit_test(test_fault_missing_qemu),
			cmocka_unit_test(test_fault_bad_argument),
			cmocka_unit_test(test_fault_crash),
			cmocka_unit_test(test_fault_out_of_order),
			cmocka_unit_test(test_fault_timeout),
			cmocka_unit_test(test_end_grace),
			cmocka_unit_test(test_fault_sigint),
			cmocka_unit_test(test_resume),
		};
		return cmocka_run_group_tests_name("faults", t, NULL, NULL);
	}
	if (!strcmp(group, "html")) {
		char *chromium = cm_which("chromium");
		if (!chromium)
			skip_group("chromium is not installed (apt-get install chromium)");
		free(chromium);
		const struct CMUnitTest t[] = { cmocka_unit_test(test_html_in_chromium) };
		return cmocka_run_group_tests_name("html", t, NULL, NULL);
	}
	if (!strcmp(group, "linux")) {
		char *out;
		/* 77: the kernel package cannot be fetched here (a skip, with the script's own
		 * words); any other failure (a missing tool, a failed build) fails the group */
		int rc = sh("bash " SOURCE_DIR "/scripts/linux-guest.sh " BUILD_DIR "/linux", &out);
		if (rc == 77)
			skip_group(out);
		if (rc) {
			printf("linux-guest.sh failed (exit %d):\n%s", rc, out);
			return 1;
		}
		free(out);
		const struct CMUnitTest t[] = { cmocka_unit_test(test_linux_guest),
						cmocka_unit_test(test_linux_console_markers),
						cmocka_unit_test(test_linux_console_log) };
		return cmocka_run_group_tests_name("linux", t, NULL, NULL);
	}
	if (!strcmp(group, "robustness")) {
		const struct CMUnitTest t[] = {
			cmocka_unit_test(test_hostile_names),
			cmocka_unit_test(test_run_folder),
			cmocka_unit_test(test_kill_and_hangup),
			cmocka_unit_test(test_store_refuses),
			cmocka_unit_test(test_bad_samples_cli),
			cmocka_unit_test(test_full_disk), /* last: it enters a mount namespace */
		};
		return cmocka_run_group_tests_name("robustness", t, NULL, NULL);
	}
	if (!strcmp(group, "regression")) {
		const struct CMUnitTest t[] = { cmocka_unit_test(test_regression),
						cmocka_unit_test(test_kill9) };
		return cmocka_run_group_tests_name("regression", t, NULL, NULL);
	}
	if (!strcmp(group, "doctor")) {
		if (geteuid() != 0)
			skip_group("the doctor checks switch users and mount namespaces: needs root");
		chmod(tmp, 0755); /* nobody writes nothing here, but reads the binary's path */
		const struct CMUnitTest t[] = {
			cmocka_unit_test(test_doctor_root),
			cmocka_unit_test(test_doctor_no_kvm_no_tracefs),
			cmocka_unit_test(test_doctor_unprivileged),
		};
		return cmocka_run_group_tests_name("doctor", t, NULL, NULL);
	}
	if (!strcmp(group, "no-mntns")) {
		/* where no private mount namespace can be made, the tests that need one skip
		 * saying why, with the errno (CTest checks their words) */
		if (geteuid() != 0)
			skip_group("dropping CAP_SYS_ADMIN to check the skips: needs root");
		if (drop_sys_admin())
			skip_group("cannot drop CAP_SYS_ADMIN here");
		char *why = mntns_error();
		if (!why) {
			printf("a mount namespace could still be made without CAP_SYS_ADMIN\n");
			return 1;
		}
		free(why);
		chmod(tmp, 0755);
		const struct CMUnitTest t[] = { cmocka_unit_test(test_doctor_no_kvm_no_tracefs),
						cmocka_unit_test(test_full_disk) };
		return cmocka_run_group_tests_name("no-mntns", t, NULL, NULL);
	}
	fprintf(stderr, "usage: test_e2e guest-tcg|guest-kvm|run-debugcon|run-perf|faults|robustness|doctor|html|regression|linux|no-mntns\n");
	return 2;
}
