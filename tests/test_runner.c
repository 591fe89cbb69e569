/* The runner loop (harness/run.c) on a fake launcher: no qemu, no KVM, no perf. The fake
 * answers each boot with events whose timings it draws from a seeded generator, records the
 * order in which the runner asked for boots, and can play a Ctrl-C at a chosen boot. What is
 * checked is what the runner does with that: order, warm-ups, adaptive stopping, resume, and
 * the files it leaves. */
#define _GNU_SOURCE
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <fcntl.h>
#include <math.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"
#include "coldmark/harness.h"
#include "coldmark/report.h"
#include "coldmark/store.h"
#include "helpers.h"

static char tmp[256];

/* ---- the fake qemu ----------------------------------------------------------------------------- */

struct call {
	int c, boot, warmup;
};

static struct {
	struct call calls[1024];
	size_t n;
	size_t interrupt_at; /* 1-based call that gets a Ctrl-C; 0: none */
	double spread[8];    /* relative spread of each case's firmware phase */
	int crash_case;      /* 1-based case whose boots all crash; 0: none */
	int throttle_case;   /* 1-based case whose boots bump the fake host's throttle counter */
	int slow_call;       /* 1-based call during which the fake host's clock drops to 1 GHz */
	uint64_t rng;
} fake;

/* The fake host of the per-boot audit (COLDMARK_SYSROOT): two CPUs' clocks and counters. */
static char sysroot[300];
static void fake_host_file(const char *rel, const char *text)
{
	char *p = cm_xasprintf("%s%s", sysroot, rel), *dir = cm_xstrdup(p);
	*strrchr(dir, '/') = 0;
	cm_mkdirs(dir);
	FILE *f = fopen(p, "w");
	fputs(text, f);
	fclose(f);
	free(dir), free(p);
}

static void fake_host_during_boot(int c)
{
	if (!*sysroot)
		return;
	static int throttles;
	if (c + 1 == fake.throttle_case) {
		char n[32];
		snprintf(n, sizeof(n), "%d\n", ++throttles);
		fake_host_file("/sys/devices/system/cpu/cpu0/thermal_throttle/core_throttle_count", n);
	}
	const char *khz = (int)fake.n == fake.slow_call ? "1000000\n" : "3000000\n";
	fake_host_file("/sys/devices/system/cpu/cpu0/cpufreq/scaling_cur_freq", khz);
	fake_host_file("/sys/devices/system/cpu/cpu1/cpufreq/scaling_cur_freq", khz);
}

static double uniform(void)
{
	fake.rng = fake.rng * 6364136223846793005ULL + 1442695040888963407ULL;
	return (double)(fake.rng >> 11) / 9007199254740992.0;
}

static int fake_launch(const struct cm_launch *l, struct cm_events *ev, struct cm_exit *ex)
{
	memset(ex, 0, sizeof(*ex));
	/* which boot the runner asked for (its log is logs/running.log: the name need not say) */
	struct call *k = &fake.calls[fake.n++];
	assert_non_null(l->boot);
	k->c = (int)l->boot->c, k->boot = l->boot->boot, k->warmup = l->boot->warmup;
	assert_ptr_equal(l->argv, l->m->cases[k->c].argv); /* that case's own argv */
	ex->launched = true;
	if (fake.n == fake.interrupt_at)
		raise(SIGINT); /* the runner's handler sets the flag it passed us */
	if (*l->stop) {
		ex->interrupted = true;
		ex->signal = SIGTERM;
		return 0;
	}
	if (k->c + 1 == fake.crash_case) {
		ex->signal = SIGSEGV;
		return 0;
	}
	fake_host_during_boot(k->c);
	/* firmware ~100 ms (+10 ms per case index) with the case's spread; work 1 ms */
	int64_t t = (int64_t)fake.n * 1000000000LL;
	double fw = (100 + 10 * k->c) * 1e6 * (1 + fake.spread[k->c] * (2 * uniform() - 1));
	unsigned port = l->m->ports[0];
	cm_events_add(ev, CM_EVENT_EXEC, t, 0, 0);
	cm_events_add_marker(ev, l->m, t + (int64_t)fw, port, 0x10);
	cm_events_add_marker(ev, l->m, t + (int64_t)fw + 1000, port, 0x20);
	cm_events_add_marker(ev, l->m, t + (int64_t)fw + 1001000, port, 0x30);
	cm_events_add(ev, CM_EVENT_EXIT, t + (int64_t)fw + 1100000, 0, 0);
	ex->status = 33;
	ex->metrics[CM_MET_CPU] = fw * 0.9; /* what the boot cost the host, as wait4 would say */
	ex->metrics[CM_MET_MAXRSS] = 50 * 1048576.0 + k->c * 1048576.0;
	return 0;
}

/* ---- driving the runner ------------------------------------------------------------------------ */

static const char *matrix_text = "qemu: /bin/true\n"
				 "guest: {bundled: guest}\n"
				 "base_args: [-accel, tcg]\n"
				 "axes: {smp: [1, 2, 3]}\n"
				 "phases:\n"
				 "  - {name: firmware, from: exec, to: real_mode}\n"
				 "  - {name: work, from: long_mode, to: work_done}\n"
				 "run: {boots: 4, warmup: 1, drop_caches: false, exit_status: 33, reference: none%s}\n";

static char *write_matrix(const char *name, const char *run_extra)
{
	char *path = cm_xasprintf("%s/%s.yaml", tmp, name);
	FILE *f = fopen(path, "w");
	assert_non_null(f);
	fprintf(f, matrix_text, run_extra);
	fclose(f);
	return path;
}

/* coldmark run MATRIX -o tmp/OUT --db tmp/h.db EXTRA... on a launcher; the exit status */
static int run_with(const char *matrix, const char *out, const char *extra, cm_launch_fn launch)
{
	char *dir = cm_xasprintf("%s/%s", tmp, out), *db = cm_xasprintf("%s/h.db", tmp);
	char *copy = cm_xstrdup(extra ? extra : ""), *save;
	char *argv[24] = { (char *)matrix, "-o", dir, "--db", db };
	int argc = 5;
	for (char *t = strtok_r(copy, " ", &save); t && argc < 23; t = strtok_r(NULL, " ", &save))
		argv[argc++] = t;
	struct cm_cli cli;
	assert_int_equal(cm_cli_parse(cm_command("run"), argc, argv, &cli), 0);
	fake.n = 0;
	fake.rng = 42;
	/* the runner's progress and summary would bury cmocka's report, and the errors the tests
	 * provoke read like failures of their own: both go to a log (kept when a test fails) */
	char *log = cm_xasprintf("%s/%s.out", tmp, out);
	fflush(stdout), fflush(stderr);
	int saved = dup(1), saved2 = dup(2), fd = open(log, O_WRONLY | O_CREAT | O_APPEND, 0644);
	dup2(fd, 1);
	dup2(fd, 2);
	close(fd);
	int rc = cm_run(&cli, launch);
	fflush(stdout), fflush(stderr);
	dup2(saved, 1);
	dup2(saved2, 2);
	close(saved), close(saved2);
	free(log);
	free(copy), free(db), free(dir);
	return rc;
}

static int run(const char *matrix, const char *out, const char *extra)
{
	return run_with(matrix, out, extra, fake_launch);
}

/* The run into tmp/OUT said text (on stdout or stderr); if not, what it said is shown. */
static bool logged(const char *out, const char *text)
{
	char *p = cm_xasprintf("%s/%s.out", tmp, out);
	size_t len = 0;
	char *log = cm_read_file(p, &len);
	bool yes = log && strstr(log, text);
	if (!yes)
		printf("expected \"%s\" in %s:\n%s\n", text, p, log ? log : "(no log)");
	free(log), free(p);
	return yes;
}

static void load(const char *out, struct cm_dataset *ds)
{
	char *p = cm_xasprintf("%s/%s/samples.csv", tmp, out);
	struct cm_diags d = { 0 };
	int rc = cm_samples_read(p, ds, &d);
	cm_diags_print(&d, stderr);
	cm_diags_clear(&d);
	assert_int_equal(rc, 0);
	free(p);
	p = cm_xasprintf("%s/%s/meta.csv", tmp, out);
	assert_int_equal(cm_meta_read(p, ds), 0);
	free(p);
}

/* measured (or warm-up) boots of case c with status ok, from the total rows */
static int count(const struct cm_dataset *ds, size_t c, int warmup)
{
	int n = 0;
	for (size_t i = 0; i < ds->n; i++) {
		const struct cm_sample_row *r = &ds->rows[i];
		n += !strcmp(r->case_id, ds->cases[c].id) && r->warmup == warmup &&
		     !strcmp(r->phase, "total") && !strcmp(r->status, "ok");
	}
	return n;
}

/* ---- the tests --------------------------------------------------------------------------------- */

static void test_orders(void **state)
{
	char *m = write_matrix("orders", "");
	/* sequential: every warm-up first, then case by case */
	assert_int_equal(run(m, "seq", "--order sequential"), 0);
	assert_int_equal(fake.n, 3 + 12);
	for (size_t i = 0; i < 3; i++)
		assert_true(fake.calls[i].warmup && fake.calls[i].c == (int)i);
	for (size_t i = 3; i < 15; i++) {
		assert_false(fake.calls[i].warmup);
		assert_int_equal(fake.calls[i].c, (int)(i - 3) / 4);
		assert_int_equal(fake.calls[i].boot, (int)(i - 3) % 4 + 1);
	}
	/* interleaved: round robin */
	assert_int_equal(run(m, "rr", "--order interleaved"), 0);
	for (size_t i = 3; i < 15; i++)
		assert_int_equal(fake.calls[i].c, (int)(i - 3) % 3);
	/* shuffled (the default): each block a permutation, the same for the same seed */
	struct call a[16], b[16], c[16];
	assert_int_equal(run(m, "sh1", "--seed 7"), 0);
	memcpy(a, fake.calls, sizeof(a));
	assert_int_equal(run(m, "sh2", "--seed 7"), 0);
	memcpy(b, fake.calls, sizeof(b));
	assert_int_equal(run(m, "sh3", "--seed 8"), 0);
	memcpy(c, fake.calls, sizeof(c));
	bool differs = false, in_order = true;
	for (size_t blk = 0; blk < 4; blk++) {
		int seen = 0;
		for (size_t i = 0; i < 3; i++) {
			const struct call *x = &a[3 + blk * 3 + i];
			assert_int_equal(x->boot, (int)blk + 1);
			seen |= 1 << x->c;
			in_order &= x->c == (int)i;
		}
		assert_int_equal(seen, 7);
	}
	for (size_t i = 0; i < 15; i++) {
		assert_int_equal(a[i].c, b[i].c);
		differs |= a[i].c != c[i].c;
	}
	assert_true(differs);
	assert_false(in_order);
	/* warm-ups are stored as such and kept out of the statistics */
	struct cm_dataset ds;
	load("sh1", &ds);
	for (size_t k = 0; k < 3; k++) {
		assert_int_equal(count(&ds, k, 1), 1);
		assert_int_equal(count(&ds, k, 0), 4);
	}
	struct cm_report r;
	cm_report_build(&ds, 0.05, &r);
	assert_int_equal(cm_report_cell(&r, 0, 0)->s.n, 4);
	cm_report_free(&r);
	assert_non_null(strstr(cm_dataset_get_meta(&ds, "order"), "shuffled (seed 7)"));
	cm_dataset_free(&ds);
	free(m);
}

static void test_until_ci(void **state)
{
	/* cases 0 and 1 are steady (0.1%), case 2 is noisy (30%): at 1% the steady ones stop at
	 * min_boots, the noisy one runs to max_boots */
	char *m = write_matrix("adaptive", ", until_ci: 1, min_boots: 6, max_boots: 20");
	fake.spread[0] = fake.spread[1] = 0.001;
	fake.spread[2] = 0.3;
	int rc = run(m, "adaptive", "--order interleaved");
	memset(fake.spread, 0, sizeof(fake.spread));
	assert_int_equal(rc, 0);
	struct cm_dataset ds;
	load("adaptive", &ds);
	assert_int_equal(count(&ds, 0, 0), 6);
	assert_int_equal(count(&ds, 1, 0), 6);
	assert_int_equal(count(&ds, 2, 0), 20);
	assert_int_equal(fake.n, 3 + 6 + 6 + 20);
	assert_non_null(cm_dataset_get_meta(&ds, "adaptive stopping"));
	cm_dataset_free(&ds);
	/* the phase that decides: case 2's noise is all in firmware, its work phase is steady,
	 * so watching work stops every case at min_boots */
	m = (free(m), write_matrix("adaptive-work", ", until_ci: 1, min_boots: 6, max_boots: 20"));
	fake.spread[2] = 0.3;
	rc = run(m, "adaptive-work", "--until-ci-phase work");
	fake.spread[2] = 0;
	assert_int_equal(rc, 0);
	load("adaptive-work", &ds);
	for (size_t k = 0; k < 3; k++)
		assert_int_equal(count(&ds, k, 0), 6);
	assert_non_null(strstr(cm_dataset_get_meta(&ds, "adaptive stopping"), "the work median"));
	cm_dataset_free(&ds);
	assert_int_equal(run(m, "bad-phase", "--until-ci-phase nope"), CM_EXIT_USAGE);
	assert_true(logged("bad-phase", "--until-ci-phase: 'nope' is not a phase of"));
	/* stopping is on precision: a target the steady cases meet at once changes nothing for
	 * them, and a case is never stopped below min_boots */
	m = (free(m), write_matrix("adaptive2", ", until_ci: 50, min_boots: 6, max_boots: 20"));
	assert_int_equal(run(m, "adaptive2", ""), 0);
	load("adaptive2", &ds);
	for (size_t k = 0; k < 3; k++)
		assert_int_equal(count(&ds, k, 0), 6);
	cm_dataset_free(&ds);
	free(m);
}

static void test_resume(void **state)
{
	char *m = write_matrix("resume", "");
	/* the uninterrupted run: its order is the plan */
	assert_int_equal(run(m, "whole", "--seed 5"), 0);
	struct call plan[16];
	size_t nplan = fake.n;
	memcpy(plan, fake.calls, sizeof(plan));
	/* the same run, Ctrl-C during its 8th boot: exit 130, the 7 finished boots on disk */
	fake.interrupt_at = 8;
	int rc = run(m, "cut", "--seed 5");
	fake.interrupt_at = 0;
	assert_int_equal(rc, CM_EXIT_INTERRUPTED);
	assert_int_equal(fake.n, 8);
	struct cm_dataset ds;
	load("cut", &ds);
	int done = 0;
	for (size_t k = 0; k < 3; k++)
		done += count(&ds, k, 0) + count(&ds, k, 1);
	assert_int_equal(done, 7);
	cm_dataset_free(&ds);
	/* resume: the flags given now do not change the plan; it picks up at the 8th boot */
	char *dir = cm_xasprintf("%s/cut", tmp), *extra = cm_xasprintf("--resume %s --seed 99", dir);
	assert_int_equal(run(m, "cut", extra), 0);
	assert_int_equal(fake.n, nplan - 7);
	for (size_t i = 0; i < fake.n; i++) {
		assert_int_equal(fake.calls[i].c, plan[7 + i].c);
		assert_int_equal(fake.calls[i].boot, plan[7 + i].boot);
		assert_int_equal(fake.calls[i].warmup, plan[7 + i].warmup);
	}
	/* exactly the planned counts, the interrupted boot kept as such */
	load("cut", &ds);
	size_t interrupted = 0;
	for (size_t k = 0; k < 3; k++) {
		assert_int_equal(count(&ds, k, 0), 4);
		assert_int_equal(count(&ds, k, 1), 1);
	}
	for (size_t i = 0; i < ds.n; i++)
		interrupted += !strcmp(ds.rows[i].phase, "total") &&
			       !strcmp(ds.rows[i].status, "interrupted");
	assert_int_equal(interrupted, 1);
	/* the store holds the same run, appended to under the same id */
	struct cm_error err = { 0 };
	char *db = cm_xasprintf("%s/h.db", tmp);
	struct cm_store *st = cm_store_open(db, &err);
	assert_non_null(st);
	struct cm_dataset sd;
	assert_int_equal(cm_store_load(st, cm_dataset_get_meta(&ds, "run"), &sd), 0);
	assert_int_equal(sd.n, ds.n);
	for (size_t k = 0; k < 3; k++)
		assert_int_equal(count(&sd, k, 0), 4);
	cm_dataset_free(&sd);
	cm_store_close(st);
	free(db);
	cm_dataset_free(&ds);
	/* resuming a finished run has nothing left to do */
	assert_int_equal(run(m, "cut", extra), 0);
	assert_int_equal(fake.n, 0);
	free(extra), free(dir), free(m);
}

/* failed boots are data; the exit status depends on their share against run.max_failed */
static void test_failed_share(void **state)
{
	char *m = write_matrix("crash", "");
	fake.crash_case = 2; /* 4 of 12 measured boots: 33% */
	assert_int_equal(run(m, "crash0", ""), CM_EXIT_FAILED);
	assert_true(logged("crash0", "4 of 12 measured boots failed (33.3%; run.max_failed allows 0%)"));
	assert_int_equal(run(m, "crash30", "--max-failed 30"), CM_EXIT_FAILED);
	assert_int_equal(run(m, "crash40", "--max-failed 40"), 0);
	assert_int_equal(run(m, "crashbad", "--max-failed 140"), CM_EXIT_USAGE);
	assert_true(logged("crashbad", "--max-failed: error: 'run.max_failed' is out of range [0, 100]: 140"));
	fake.crash_case = 0;
	struct cm_dataset ds;
	load("crash40", &ds);
	assert_int_equal(count(&ds, 1, 0), 0); /* not ok, but there */
	size_t crashed = 0;
	for (size_t i = 0; i < ds.n; i++)
		crashed += !strcmp(ds.rows[i].phase, "total") && !strcmp(ds.rows[i].status, "crashed");
	assert_int_equal(crashed, 5); /* 4 measured + 1 warm-up */
	cm_dataset_free(&ds);
	free(m);
}

/* The per-boot audit: a boot during which the host throttled, or ran at a third of its clock,
 * is flagged in the samples and named in the report; the rest are not. What each boot cost the
 * host comes out as the metrics beside the phases. */
static void test_audit_and_cost(void **state)
{
	(void)state;
	snprintf(sysroot, sizeof(sysroot), "%s/fakehost", tmp);
	setenv("COLDMARK_SYSROOT", sysroot, 1);
	fake_host_file("/sys/devices/system/cpu/cpu0/thermal_throttle/core_throttle_count", "0\n");
	fake_host_file("/sys/devices/system/cpu/cpu0/cpufreq/scaling_cur_freq", "3000000\n");
	fake_host_file("/sys/devices/system/cpu/cpu1/cpufreq/scaling_cur_freq", "3000000\n");
	char *m = write_matrix("audit", ", order: sequential");
	fake.throttle_case = 3;
	fake.slow_call = 8; /* case 1's first measured boot: 3 warm-ups, 4 of case 0, then it */
	assert_int_equal(run(m, "audit", ""), 0);
	fake.throttle_case = fake.slow_call = 0;
	unsetenv("COLDMARK_SYSROOT");
	*sysroot = 0;
	struct cm_dataset ds;
	load("audit", &ds);
	size_t throttled = 0, slow = 0, cpu = 0;
	for (size_t i = 0; i < ds.n; i++) {
		const struct cm_sample_row *r = &ds.rows[i];
		if (strcmp(r->phase, "total"))
			continue;
		bool third = !strcmp(r->case_id, "smp=3");
		assert_int_equal(third, !strncmp(r->audit, "throttled", 9));
		throttled += third && !r->warmup;
		if (!strncmp(r->audit, "clock 2.00 GHz, typical 3.00 GHz", 32)) {
			/* read just before and after each boot: the boot that left the clock low
			 * and the next, which began at it */
			slow++;
			assert_string_equal(r->case_id, "smp=2");
			assert_true(r->boot == 1 || r->boot == 2);
		}
	}
	for (size_t i = 0; i < ds.n; i++)
		cpu += !strcmp(ds.rows[i].phase, "qemu_cpu") && ds.rows[i].duration_ns > 0;
	assert_int_equal(throttled, 4);
	assert_int_equal(slow, 2);
	assert_int_equal(cpu, 3 * 5); /* every boot, warm-ups too */
	cm_dataset_free(&ds);
	char *md = cm_xasprintf("%s/audit/report.md", tmp), *text = cm_read_file(md, &(size_t){ 0 });
	assert_non_null(strstr(text, "- smp=3: 4 of 4 boots ran throttled"));
	assert_non_null(strstr(text, "## Host cost qemu\\_maxrss (MiB)"));
	assert_non_null(strstr(text, "| smp=3 | 3 | 52.0[^w1] |")); /* 4 boots: no CI yet */
	char *meta = cm_xasprintf("%s/audit/meta.csv", tmp), *mt = cm_read_file(meta, &(size_t){ 0 });
	assert_non_null(strstr(mt, "per-boot audit,the clock (scaling_cur_freq) and thermal"));
	free(mt), free(meta), free(text), free(md), free(m);
}

/* ---- the runner through the capture interface, on recorded boots ------------------------------ */

static struct cm_capture *replay;

/* Boots nothing: the case's next recorded boot (tests/fixtures/replay/events.csv, a real run of
 * the bundled guest: KVM boots through perf, TCG boots through debugcon) comes back through a
 * capture source, as a launcher gets events from its sources. */
static int replay_launch(const struct cm_launch *l, struct cm_events *ev, struct cm_exit *ex)
{
	memset(ex, 0, sizeof(*ex));
	int c;
	c = (int)l->boot->c;
	int fds[CM_CAPTURE_MAXFDS];
	struct cm_boot_io io = { l->log_path };
	assert_int_equal(replay->ops->open_boot(replay, &io, fds, CM_CAPTURE_MAXFDS), 0);
	assert_int_equal(cm_replay_boot(replay, (size_t)c, ev), 0);
	replay->ops->drain(replay, 0, ev);
	replay->ops->end_boot(replay);
	ex->launched = true;
	ex->status = (int)l->m->exit_status;
	return 0;
}

static void test_replayed_capture(void **state)
{
	char *m = cm_xasprintf("%s/replay.yaml", tmp);
	FILE *f = fopen(m, "w");
	fputs("guest: {bundled: guest}\n"
	      "base_args: [-machine, pc, -display, none, -nodefaults, -accel, tcg]\n"
	      "axes: {rec: {template: [-name, \"{}\"], values: [kvm, tcg]}}\n"
	      "phases:\n  - {name: qemu_init, from: exec, to: first_entry}\n"
	      "  - {name: firmware, from: exec, to: real_mode}\n"
	      "  - {name: work, from: long_mode, to: work_done}\n"
	      "run: {boots: 3, warmup: 0, order: sequential, drop_caches: false, reference: none}\n", f);
	fclose(f);
	struct cm_diags d = { 0 };
	struct cm_matrix *mx = cm_matrix_load(m, &d);
	assert_non_null(mx);
	replay = cm_replay_source(FIXTURES "/replay/events.csv", mx);
	assert_non_null(replay);
	assert_int_equal(run_with(m, "replay", "", replay_launch), 0);
	struct cm_dataset ds;
	load("replay", &ds);
	/* the recorded work phases (work_done - long_mode of rec=kvm's three boots, in ns) */
	static const double kvm_work[] = { 4112621688733 - 4112576932256.0,
					   4114087983116 - 4114043900948.0,
					   4115577779586 - 4115533371995.0 };
	size_t ok = 0, kvm = 0, unmeasurable = 0;
	for (size_t i = 0; i < ds.n; i++) {
		const struct cm_sample_row *r = &ds.rows[i];
		assert_string_equal(r->status, "ok");
		ok++;
		if (!strcmp(r->case_id, "rec=kvm") && !strcmp(r->phase, "work"))
			assert_true(fabs(r->duration_ns - kvm_work[kvm++]) < 1);
		unmeasurable += !strcmp(r->case_id, "rec=tcg") && !strcmp(r->phase, "qemu_init") &&
				isnan(r->duration_ns);
	}
	assert_int_equal(kvm, 3);
	assert_int_equal(unmeasurable, 3); /* debugcon's recording has no first_entry */
	assert_int_equal(ok, 2 * 3 * (4 + CM_NMETRICS)); /* 2 cases x 3 boots: 3 phases, total and
							  * the two host-cost metrics */
	cm_dataset_free(&ds);
	cm_capture_free(replay);
	cm_matrix_free(mx);
	cm_diags_clear(&d);
	free(m);
}

int main(void)
{
	if (th_mkdtemp(tmp, sizeof(tmp), "runner"))
		return 1;
	setenv("COLDMARK_GUEST_DIR", GUEST_DIR, 1);
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_orders),
		cmocka_unit_test(test_until_ci),
		cmocka_unit_test(test_resume),
		cmocka_unit_test(test_failed_share),
		cmocka_unit_test(test_audit_and_cost),
		cmocka_unit_test(test_replayed_capture),
	};
	int rc = cmocka_run_group_tests(tests, NULL, NULL);
	if (rc)
		printf("kept %s: what each run said is in its NAME.out there\n", tmp);
	char *cmd = cm_xasprintf("rm -rf '%s'", tmp);
	if (!rc && system(cmd))
		rc = 1;
	free(cmd);
	return rc;
}
