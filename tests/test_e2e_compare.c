/* End-to-end (test_e2e group regression): regressions across runs through the store
 * (compare, calibrate, history, import), and the store after coldmark is killed with -9. */
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

/* ---- regressions across runs ------------------------------------------------------------------- */

static const char *regress_base = "guest: {bundled: guest}\n"
	"base_args: [-machine, pc, -display, none, -nodefaults, -no-reboot, -accel, tcg]\n"
	"axes:\n  variant: %s\n"
	"phases:\n  - {name: firmware, from: exec, to: real_mode}\n"
	"  - {name: work, from: long_mode, to: work_done}\n"
	"run: {boots: %d, warmup: 1}\n";

/* Run folder src's boots as if one session had booted them all, in run folder dst. */
static void one_session(const char *src, const char *dst)
{
	char *cmd = cm_xasprintf("cd %s && mkdir -p %s && cp %s/meta.csv %s/ && "
				 "awk -F, -v OFS=, 'NR > 1 { $9 = 1 } { print }' %s/samples.csv "
				 "> %s/samples.csv",
				 tmp, dst, src, dst, src, dst), *out = sh_expect(cmd, 0);
	free(cmd), free(out);
}

/* Is variant=b's work among compare's REGRESSED rows in out (a text table), with the sessions
 * as the unit? With nothing_else, no other case's phase is REGRESSED (the reference's row is
 * absolute even --relative-to it, and the qemu_cpu/qemu_maxrss rows are divided by its total's
 * change, so neither is free of the host's drift). out is cut into lines. */
static bool b_work_regressed(char *out, bool nothing_else)
{
	bool b_work = false;
	for (char *line = strtok(out, "\n"); line; line = strtok(NULL, "\n")) {
		if (!strstr(line, "REGRESSED"))
			continue;
		bool b = strstr(line, "variant=b") != NULL;
		if (nothing_else && strncmp(line, "reference ", 10) && !strstr(line, " qemu_"))
			assert_true(b);
		if (b && strstr(line, " work ")) {
			assert_non_null(strstr(line, "sessions 4+4"));
			b_work = true;
		}
	}
	return b_work;
}

void test_regression(void **state)
{
	char body[2048], *out;
	snprintf(body, sizeof(body), regress_base, "[{name: a}, {name: b}]", 4);
	char *base = th_write_matrix(tmp, "base", body);
	/* the candidate: case b boots guest-slow first (more work before its last marker) */
	char variant[1024];
	snprintf(variant, sizeof(variant),
		 "[{name: a}, {name: b, args: [-drive, \"if=none,id=slow,file=%s/guest-slow.img,"
		 "format=raw,snapshot=on\", -device, \"ide-hd,drive=slow,bus=ide.1,bootindex=0\"]}]",
		 GUEST_DIR);
	snprintf(body, sizeof(body), regress_base, variant, 4);
	char *cand = th_write_matrix(tmp, "cand", body);
	/* two runs of two sessions under each tag: every session recorded under a tag counts */
	const char *runs[][3] = { { "old", "r1", "base" }, { "old", "r2", "base" },
				  { "new", "r3", "cand" }, { "new", "r4", "cand" } };
	for (int i = 0; i < 4; i++) {
		char *cmd = cm_xasprintf("run %s --tag %s -o %s --db h.db --sessions 2",
					 !strcmp(runs[i][2], "base") ? base : cand, runs[i][0], runs[i][1]);
		assert_int_equal(cm(cmd, &out), 0);
		free(cmd), free(out);
	}

	/* The slowed case and phase, with the session as the unit. The tolerance is the practical
	 * floor a user sets (the ~60 us work phase is read by debugcon to tens of us); the
	 * injected slowdown is ~+7800% and ~5 ms. */
#define TOLERANCE " --threshold 50 --min-change 1ms"
	int rc = cm("compare old new --db h.db" TOLERANCE, &out);
	if (rc != 1)
		fprintf(stderr, "%s", out);
	assert_int_equal(rc, 1);
	assert_non_null(strstr(out, "note: old: 2 runs, 4 sessions"));
	assert_true(b_work_regressed(out, false));
	free(out);
	/* And no other case's phase, judged against the reference booted in the same sessions.
	 * Not in the absolute comparison above: old's runs are all booted before new's, and the
	 * load of a shared host between the two halves moves every case's firmware alike (-18%,
	 * variant=a's firmware and the reference's total alike, in a passing run beside other
	 * engineers' builds; a REGRESSED row not variant=b's failed this test once under load).
	 * Relative to the reference that drift cancels (-0.8% there). */
	rc = cm("compare old new --db h.db --relative-to reference" TOLERANCE, &out);
	if (rc != 1)
		fprintf(stderr, "%s", out);
	assert_int_equal(rc, 1);
	assert_non_null(strstr(out, "relative to its reference in the same session"));
	assert_true(b_work_regressed(out, true));
	free(out);
	rc = cm("compare r1 r2" TOLERANCE, &out); /* unchanged */
	if (rc != 0)
		fprintf(stderr, "%s", out);
	assert_int_equal(rc, 0);
	assert_non_null(strstr(out, "beyond ±50% and beyond ±1.00 ms;")); /* the rule, stated */
	assert_non_null(strstr(out, "\nreference ")); /* the reference case: base_args' accelerator */
	free(out);
	/* old/new (4+4 sessions, df 6): r1 against r3 alone is 2+2 (df 2), where the base's ~60 us
	 * work, read by debugcon to tens of us, varies between sessions enough that b's +7800%
	 * missed Holm's level over the rows in a CI run (no "**regressed**") */
	assert_int_equal(
	    cm("compare old new --db h.db --fail-on firmware --format md" TOLERANCE, &out), 0);
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
	/* with a calibration of this host, the same two sessions are judged: one session a side,
	 * so the t has only the calibration's sessions - 1 df, and b's work (ln 79 ~ 4.4 up) must
	 * pass Holm over the rows (p < 0.05/9 for the first). With 3 sessions (df 2, t 9.4) a
	 * between-session sd above ~0.33 (log) missed it, and a loaded host's calibration had
	 * 0.32 (Holm p 0.127, failed once); 6 sessions (df 5, t 3.9) hold up to ~0.79. */
	char *cmd = cm_xasprintf("calibrate %s --sessions 6 -n 4 -o cal --db h.db", base);
	assert_int_equal(cm(cmd, &out), 0);
	assert_non_null(strstr(out, "stored for host"));
	free(cmd), free(out);
	/* Its floor 0.25 ms, not 1 ms: b's +~7.7 ms is judged with a 1+1 t interval whose width
	 * is the calibration's between-session sd, and beside two busy loops (a ~0.1 ms work
	 * phase preempted now and then) that interval's low end fell to +914% of the base's
	 * 0.10 ms = 0.93 ms (Holm p 0.0225): below a 1 ms floor, "no change". 0.25 ms is still
	 * 2.5x the base's whole work phase. */
	rc = cm("compare s1 s3 --db h.db --threshold 50 --min-change 250us", &out);
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
	char *tp = cm_xasprintf("%s/trend.html", tmp), *trend = th_slurp(tp);
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

void test_kill9(void **state)
{
	char body[2048], *out;
	snprintf(body, sizeof(body), regress_base, "[{name: a}]", 500);
	char *m = th_write_matrix(tmp, "long", body);
	char *dir = cm_xasprintf("%s/k", tmp), *db = cm_xasprintf("%s/h.db", tmp);
	char *extra = cm_xasprintf("--tag killed --db %s", db);
	stop_signal = SIGKILL;
	/* a batch a boot: the first measured boot is in the store once the second is recorded
	 * (in batches of a second the store lags by up to a second of boots, which --resume puts
	 * in: test_store_batch) */
	setenv("COLDMARK_BATCH_MS", "0", 1);
	assert_int_equal(coldmark_at(m, dir, extra, AT_RECORDED_2, &out), 128 + SIGKILL);
	unsetenv("COLDMARK_BATCH_MS");
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
