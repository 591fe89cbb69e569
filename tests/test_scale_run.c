/* Issue 25, item 4: a run rewrites its reports as cases complete; what that costs over a run
 * must grow with the run (the cases changed), not with the square of its cases (the whole
 * report rebuilt after each case). coldmark run on a fake launcher (each boot ~8 ms of
 * sleep, no qemu): n cases and 4n cases of one boot each; coldmark's own CPU for the run, the
 * ratio under 10 (linear ~4, a rebuild per case ~16). And the same with a rewrite after every
 * case, unthrottled (COLDMARK_REPORT_EVERY_CASE=1): a rewrite costs the cases that changed
 * (plus the files' bytes), so the ratio stays near linear. A ratio of two sizes, never a
 * timed bound. Label benchmark (CTest scale-growth-run). */
#define _GNU_SOURCE
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <fcntl.h>
#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "cli.h"
#include "coldmark/harness.h"

static char tmp[256];

static bool vary; /* test_scale_run matrix: boot times that vary */
static long boot_ms = 8; /* a fake boot's time: the run's clock moves (the rewrite throttle) */
/* Were the reports rewritten between two boots? summary.csv's inode at each launch: an atomic
 * replace gives it a new one (the old is still held while the new is made, so two in a row
 * differ). stale: launches that found the same file as the launch before. */
static const char *watch_dir;
static ino_t last_ino;
static size_t launches, stale;

static void watch_reports(void)
{
	char path[512];
	struct stat st;
	snprintf(path, sizeof(path), "%s/summary.csv", watch_dir);
	ino_t ino = stat(path, &st) ? 0 : st.st_ino;
	if (launches++ && ino == last_ino)
		stale++;
	last_ino = ino;
}

static int fake_launch(const struct cm_launch *l, struct cm_events *ev, struct cm_exit *ex)
{
	static int64_t t = 1000000000LL;
	static uint64_t k = 1; /* boot times that vary, the same in every build: compare mode */
	k = k * 6364136223846793005ULL + 1442695040888963407ULL;
	int64_t j = vary ? (int64_t)(k >> 40) % 20000000 : 0;
	memset(ex, 0, sizeof(*ex));
	ex->launched = true;
	struct timespec nap = { 0, boot_ms * 1000000L };
	nanosleep(&nap, NULL);
	unsigned port = l->m->ports[0];
	if (watch_dir)
		watch_reports();
	t += 1000000000LL;
	cm_events_add(ev, CM_EVENT_EXEC, t, 0, 0);
	cm_events_add_marker(ev, l->m, t + 100000000 + j, port, 0x10);
	cm_events_add_marker(ev, l->m, t + 100001000 + j + j / 7, port, 0x20);
	cm_events_add_marker(ev, l->m, t + 101001000 + 2 * j, port, 0x30);
	cm_events_add(ev, CM_EVENT_EXIT, t + 101100000 + 2 * j, 0, 0);
	ex->status = 33;
	return 0;
}

static int rm_one(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	(void)st, (void)flag, (void)ftw;
	return remove(path);
}

static double cpu_s(void)
{
	struct rusage u;
	getrusage(RUSAGE_SELF, &u);
	return (double)u.ru_utime.tv_sec + (double)u.ru_utime.tv_usec / 1e6 +
	       (double)u.ru_stime.tv_sec + (double)u.ru_stime.tv_usec / 1e6;
}

/* coldmark run over n cases (an axis of n values) of `boots` boots each: its CPU seconds
 * (keep: the run folder's path, else one in tmp) */
static double run_cases(size_t n, size_t boots, const char *keep)
{
	char *path = cm_xasprintf("%s/m%zu.yaml", tmp, n),
	     *dir = keep ? cm_xstrdup(keep) : cm_xasprintf("%s/r%zu", tmp, n),
	     *db = cm_xasprintf("%s/h%zu.db", tmp, n), *log = cm_xasprintf("%s/r%zu.out", tmp, n);
	FILE *f = fopen(path, "w");
	assert_non_null(f);
	fprintf(f, "qemu: /bin/true\nguest: {bundled: guest}\nbase_args: [-accel, tcg]\n"
		   "axes:\n  memory: {from: 16M, to: %zuM, step: 1M}\n"
		   "phases:\n  - {name: firmware, from: exec, to: real_mode}\n"
		   "run: {boots: %zu, warmup: 0, drop_caches: false, exit_status: 33, "
		   "reference: none, order: sequential}\n", 15 + n, boots);
	fclose(f);
	char *argv[] = { path, "-o", dir, "--db", db };
	struct cm_cli cli;
	assert_int_equal(cm_cli_parse(cm_command("run"), 5, argv, &cli), 0);
	fflush(stdout), fflush(stderr);
	int saved = dup(1), saved2 = dup(2), fd = open(log, O_WRONLY | O_CREAT | O_TRUNC, 0644);
	dup2(fd, 1), dup2(fd, 2), close(fd);
	double t0 = cpu_s();
	int rc = cm_run(&cli, fake_launch);
	double t = cpu_s() - t0;
	fflush(stdout), fflush(stderr);
	dup2(saved, 1), dup2(saved2, 2), close(saved), close(saved2);
	assert_int_equal(rc, 0);
	free(path), free(dir), free(db), free(log);
	return t;
}

static void test_rewrites_grow_linearly(void **state)
{
	(void)state;
	size_t n = 150;
	double a = run_cases(n, 1, NULL), b = run_cases(4 * n, 1, NULL), ratio = b / a;
	print_message("coldmark run, reports rewritten as cases complete: %zu cases %.3f s CPU, "
		      "%zu cases %.3f s, ratio %.1f (linear ~4, a rebuild per case ~16)\n",
		      n, a, 4 * n, b, ratio);
	assert_true(ratio < 10);
}

/* Every case rewrites the reports (COLDMARK_REPORT_EVERY_CASE=1: no throttle), 150 and 600
 * cases: at each boot's launch the reports must already hold the case before it (a new
 * summary.csv since the last launch), and coldmark's CPU must grow near linearly. Each rewrite
 * formats the one case that completed and concatenates the others' text; what still grows
 * with the square of the cases is the files' bytes, written whole each time (~7 KB a case:
 * 4 MB a rewrite at 600 cases; a ratio of 7.7-10 here), which the bound 14 leaves room for
 * while a formatting or statistics pass over every case per rewrite breaks it: a whole rebuild
 * per case gave 1.62 s and 34.28 s, ratio 21.2, and the throttled code (a rewrite every >= 1 s)
 * left the reports stale at 147 of 150 launches. The run folder on tmpfs when there is one: ext4
 * without a journal scans every inode deleted in the last minutes when it makes a file (and
 * flushes a file renamed over another), a cost of this host's /tmp, not of coldmark. */
static void test_rewrite_every_case(void **state)
{
	(void)state;
	setenv("COLDMARK_REPORT_EVERY_CASE", "1", 1);
	bool shm = !access("/dev/shm", W_OK);
	double t[2];
	size_t sizes[2] = { 150, 600 };
	for (int i = 0; i < 4; i++) { /* each size twice, the less CPU kept: a loaded host's noise */
		size_t n = sizes[i % 2];
		char *keep = shm ? cm_xasprintf("/dev/shm/cm-scale-run-%d-%zu", (int)getpid(), n)
				 : cm_xasprintf("%s/every%zu", tmp, n);
		watch_dir = keep, launches = stale = 0;
		double cpu = run_cases(n, 1, keep);
		watch_dir = NULL;
		t[i % 2] = i < 2 || cpu < t[i % 2] ? cpu : t[i % 2];
		print_message("%zu cases: %.3f s CPU; %zu of %zu launches found the reports not "
			      "rewritten since the launch before\n", n, cpu, stale, launches);
		assert_int_equal(stale, 0);
		nftw(keep, rm_one, 16, FTW_DEPTH | FTW_PHYS);
		free(keep);
	}
	unsetenv("COLDMARK_REPORT_EVERY_CASE");
	double ratio = t[1] / t[0];
	print_message("coldmark run, the reports rewritten after every case: %zu cases %.3f s CPU, "
		      "%zu cases %.3f s, ratio %.1f (linear ~4, quadratic ~16; a rebuild per case "
		      "21.7)\n", sizes[0], t[0], sizes[1], t[1], ratio);
	assert_true(ratio < 14);
}

/* test_scale_run boots N: one case of N boots (1 ms each), coldmark's CPU a boot (no qemu:
 * what the journals, the store, the progress line and the reports cost; issue 25 item 6).
 * test_scale_run matrix FILE DIR: FILE's run on the fake launcher (boot times that vary, the
 * same in every build) into DIR: the reports of two builds compared.
 * test_scale_run cases N [DIR]: N cases of one boot, coldmark's CPU in all (scripts/bench-scale.sh;
 * with COLDMARK_REPORT_EVERY_CASE=1 a rewrite after every case), the run kept in DIR */
int main(int argc, char **argv)
{
	snprintf(tmp, sizeof(tmp), "/tmp/cm-scale-run-%d", (int)getpid());
	cm_mkdirs(tmp);
	setenv("COLDMARK_GUEST_DIR", GUEST_DIR, 1);
	if (argc > 2 && !strcmp(argv[1], "boots")) {
		size_t n = (size_t)atol(argv[2]);
		boot_ms = 1;
		double t = run_cases(1, n, NULL);
		printf("%zu %.3f %.1f\n", n, t, t / (double)n * 1e6); /* boots, CPU s, us a boot */
		return nftw(tmp, rm_one, 16, FTW_DEPTH | FTW_PHYS) ? 1 : 0;
	}
	if (argc > 3 && !strcmp(argv[1], "matrix")) { /* matrix FILE DIR: its run on the fake */
		vary = true, boot_ms = 1;
		char *av[] = { argv[2], "-o", argv[3], "--db", cm_xasprintf("%s/m.db", tmp) };
		struct cm_cli cli;
		if (cm_cli_parse(cm_command("run"), 5, av, &cli))
			return 2;
		int rc = cm_run(&cli, fake_launch);
		nftw(tmp, rm_one, 16, FTW_DEPTH | FTW_PHYS);
		return rc;
	}
	if (argc > 2 && !strcmp(argv[1], "cases")) {
		size_t n = (size_t)atol(argv[2]);
		double t = run_cases(n, 1, argc > 3 ? argv[3] : NULL); /* argv[3]: keep the run here */
		printf("%zu %.3f %.1f\n", n, t, t / (double)n * 1e6); /* cases, CPU s, us a case */
		return nftw(tmp, rm_one, 16, FTW_DEPTH | FTW_PHYS) ? 1 : 0;
	}
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_rewrites_grow_linearly),
		cmocka_unit_test(test_rewrite_every_case),
	};
	int rc = cmocka_run_group_tests_name("scale-run", tests, NULL, NULL);
	if (!rc) /* kept when it failed: the runs' logs say why */
		nftw(tmp, rm_one, 16, FTW_DEPTH | FTW_PHYS);
	return rc;
}
