/* End-to-end (test_e2e groups guest-tcg, guest-kvm, run-debugcon, run-perf, linux): the bundled
 * guest under qemu directly, the launcher's fds, coldmark run with each source, its reports,
 * --until-ci and --order, console markers, a real Linux guest. */
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

#include "e2e.h"

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
	char *log = th_slurp(trace);
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

void test_guest_tcg(void **state)
{
	boot_guest("tcg");
}

void test_guest_kvm(void **state)
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

void test_launch_fds(void **state)
{
	for (int lowest = 7; lowest <= 11; lowest++) /* stamp pipe, then debugcon pipe, on 10 */
		launch_with_free_fd(lowest);
}

/* What the launched program holds: 0-2 and its debugcon pipe, not an fd coldmark inherited.
 * The "qemu" is ls listing its own fds into the boot log (3 is its directory handle; the
 * debugcon arguments become the shell's $0... and are not seen by ls). */
void test_launch_fds_not_leaked(void **state)
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
	char *fds = th_slurp(list);
	assert_string_equal(fds, "0\n1\n10\n2\n3\n");
	free(fds), free(list);
	cm_events_free(&ev);
	cm_diags_clear(&d);
	cm_matrix_free(m);
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
	char *s1 = th_slurp(p1), *s2 = th_slurp(p2);
	assert_true(strlen(s1) > 100);
	assert_string_equal(s1, s2);
	free(s1), free(s2), free(p1), free(p2), free(samples), free(out), free(again);
}

void test_run_debugcon(void **state)
{
	char body[2048];
	snprintf(body, sizeof(body), matrix_head, "guest", "tcg",
		 "  - {name: qemu_init, from: exec, to: first_entry}\n", 5, 1, "30s");
	/* -o into folders that do not exist yet */
	char *m = th_write_matrix(tmp, "tcg", body);
	char *out, *dir = cm_xasprintf("%s/new/parents/run-tcg", tmp);
	char *extra = cm_xasprintf("--source debugcon --export-hyperfine %s/hf.json --export-bmf "
				   "%s/bmf.json", tmp, tmp);
	int rc = coldmark(m, dir, extra, 0, &out);
	free(extra);
	expect_ok(rc, out, dir);
	check_ok_run(dir, 5, "debugcon", false);
	/* qemu_init needs first_entry, which debugcon cannot see: said at the start */
	assert_non_null(strstr(out, "phase qemu_init (exec -> first_entry) is not measurable for 1 of 2 cases"));
	char *bp = cm_xasprintf("%s/bmf.json", tmp), *bmf = th_slurp(bp);
	assert_non_null(strstr(bmf, "\"accel=tcg\": {"));
	assert_non_null(strstr(bmf, "\"total\": {"));
	assert_non_null(strstr(bmf, "\"value\": ")); /* 5 boots: no CI bounds yet */
	free(bmf), free(bp);
	/* hyperfine's layout: results[].command, times in seconds */
	char *hp = cm_xasprintf("%s/hf.json", tmp), *hf = th_slurp(hp);
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
void test_until_ci(void **state)
{
	char body[2048], *out;
	snprintf(body, sizeof(body), matrix_head, "guest", "tcg", "", 3, 0, "30s");
	strcat(body, "include: [{accel: tcg, memory: 256M}]\n");
	char *extra = cm_xstrdup("run: {min_boots: 6, max_boots: 9}\n");
	char *full = cm_xasprintf("%s%s", body, extra);
	/* run: appears twice in that text: keep the last one only */
	char *first_run = strstr(full, "run: {boots");
	memmove(first_run, strchr(first_run, '\n') + 1, strlen(strchr(first_run, '\n') + 1) + 1);
	char *m = th_write_matrix(tmp, "until", full), *dir = cm_xasprintf("%s/until-loose", tmp);
	size_t cases;
	assert_int_equal(coldmark(m, dir, "--until-ci 99", 0, &out), 0);
	assert_int_equal(count_total_rows(dir, &cases), 6);
	free(out), free(dir);
	dir = cm_xasprintf("%s/until-tight", tmp);
	assert_int_equal(coldmark(m, dir, "--until-ci 0.0001", 0, &out), 0);
	assert_int_equal(count_total_rows(dir, &cases), 9);
	assert_non_null(strstr(out, "max_boots reached before the target"));
	char *md = cm_xasprintf("%s/report.md", dir), *text = th_slurp(md);
	assert_non_null(strstr(text, "adaptive stopping"));
	free(text), free(md), free(out), free(dir), free(m), free(full), free(extra);
}

/* --order: the boots happen in the planned order (samples.csv is written in boot order) */
void test_order(void **state)
{
	char *out;
	char *m = head_matrix("order", "guest", "tcg], cpu: [qemu64, max", "", 3, 0, "30s");
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

void test_run_perf(void **state)
{
	char *m = head_matrix("kvm", "guest", "kvm",
		 "  - {name: qemu_init, from: exec, to: first_entry}\n", 5, 0, "120s"), *out, *dir = cm_xasprintf("%s/run-kvm", tmp);
	/* both: perf measures, and debugcon's times of the same markers are kept beside */
	int rc = coldmark(m, dir, "--source both", 0, &out);
	expect_ok(rc, out, dir);
	check_ok_run(dir, 5, "perf", true);
	char *evp = cm_xasprintf("%s/events.csv", dir), *ev = th_slurp(evp);
	assert_non_null(strstr(ev, ",real_mode,244,16,"));
	assert_non_null(strstr(ev, ",real_mode@debugcon,244,16,"));
	assert_non_null(strstr(ev, ",first_entry,"));
	free(ev);
	free(evp);
	/* the header says which of the opened first-entry events fired, and the firmware qemu
	 * itself reported loading, by content */
	char *mp0 = cm_xasprintf("%s/meta.csv", dir), *meta0 = th_slurp(mp0);
	assert_non_null(strstr(meta0, "firmware sha256 (bios-256k.bin),"));
	assert_non_null(strstr(meta0, "firmware sha256 (kvmvapic.bin),")); /* the KVM option ROM */
	free(meta0), free(mp0);
	char *mp = cm_xasprintf("%s/meta.csv", dir), *meta = th_slurp(mp);
	assert_non_null(strstr(meta, "first_entry fired,kvm:kvm_"));
	free(meta), free(mp);
	free(out), free(m), free(dir);
}

/* Console markers beside port markers on the same boots: the bundled guest's SERIAL variant
 * prints a line after each port marker; every boot is ok, each console marker comes after its
 * port marker, and the serial also reached the boot log of a failed boot. */
void test_console_markers(void **state)
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
	char *m = th_write_matrix(tmp, "console-markers", body);
	char *out, *dir = cm_xasprintf("%s/conm", tmp);
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
	char *ep = cm_xasprintf("%s/events.csv", dir), *ev = th_slurp(ep);
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

void test_linux_guest(void **state)
{
	static const char *const phases[] = { "to_user", "shutdown", NULL };
	/* exec -> linux_start_user -> exit */
	assert_int_equal(linux_run(SOURCE_DIR "/configs/linux.yaml", "linux", phases), 2);
	char *mp = cm_xasprintf("%s/linux/meta.csv", tmp), *meta = th_slurp(mp);
	assert_non_null(strstr(meta, "firmware sha256 (linuxboot_dma.bin),")); /* -kernel's ROM */
	free(meta), free(mp);
}

/* configs/linux-console.yaml: the Debian kernel measured from its console, no change to it */
void test_linux_console_markers(void **state)
{
	static const char *const phases[] = { "kernel", "to_kernel", NULL };
	assert_int_equal(linux_run(SOURCE_DIR "/configs/linux-console.yaml", "linux-console", phases),
			 2);
}

/* A failed boot keeps what the guest said on its serial console, though the matrix connects
 * no serial (the usual case); a matrix's own -serial is left alone. */
void test_linux_console_log(void **state)
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
	char *m = th_write_matrix(tmp, "console", body), *dir = cm_xasprintf("%s/console", tmp);
	assert_int_equal(coldmark(m, dir, NULL, 0, &out), 1);
	free(out);
	char *log = cm_xasprintf("%s/logs/0-b1.log", dir), *text = th_slurp(log);
	assert_non_null(strstr(text, "Run /init as init process"));
	free(text), free(log), free(dir), free(m);
}
