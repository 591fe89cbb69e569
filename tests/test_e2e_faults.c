/* End-to-end (test_e2e group faults): a guest that hangs or runs out of order, a qemu that
 * refuses its arguments, crashes or is missing, a malformed matrix, SIGINT then --resume,
 * run.end_grace. */
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

void test_fault_timeout(void **state)
{
	char *m = head_matrix("hang", "guest-hang", "tcg", "", 2, 0, "1500ms");
	char *out, *dir = cm_xasprintf("%s/hang", tmp);
	assert_int_equal(coldmark(m, dir, NULL, 0, &out), 1);
	assert_non_null(strstr(out, "timeout"));
	assert_non_null(strstr(out, "no 'work_done'"));
	expect_status(dir, "timeout", 2);
	char *log = cm_xasprintf("%s/logs/0-b1.log", dir);
	assert_int_equal(access(log, R_OK), 0); /* kept for a failed boot */
	free(log), free(out), free(m), free(dir);
}

void test_fault_out_of_order(void **state)
{
	char *m = head_matrix("ooo", "guest-out-of-order", "tcg", "", 2, 0, "30s");
	char *out, *dir = cm_xasprintf("%s/ooo", tmp);
	assert_int_equal(coldmark(m, dir, NULL, 0, &out), 1);
	assert_non_null(strstr(out, "out_of_order"));
	expect_status(dir, "out_of_order", 2);
	free(out), free(m), free(dir);
}

void test_fault_bad_argument(void **state)
{
	char body[2048];
	snprintf(body, sizeof(body), matrix_head, "guest", "tcg", "", 2, 0, "30s");
	strcat(body, "include: [{accel: tcg, cpu: no-such-cpu-model}]\n");
	char *m = th_write_matrix(tmp, "badarg", body), *out, *dir = cm_xasprintf("%s/badarg", tmp);
	assert_int_equal(coldmark(m, dir, NULL, 0, &out), 1);
	assert_non_null(strstr(out, "exit_status"));
	expect_status(dir, "exit_status", 2);
	/* qemu's own words are in the kept log */
	char *log = cm_xasprintf("%s/logs/0-b1.log", dir), *text = th_slurp(log);
	assert_non_null(strstr(text, "no-such-cpu-model"));
	free(text), free(log), free(out), free(m), free(dir);
}

void test_fault_crash(void **state)
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
	char *m = th_write_matrix(tmp, "crash", head), *out, *dir = cm_xasprintf("%s/crash", tmp);
	assert_int_equal(coldmark(m, dir, NULL, 0, &out), 1);
	expect_status(dir, "crashed", 1);
	assert_non_null(strstr(out, "signal 11"));
	free(out), free(m), free(dir), free(fake);
}

void test_fault_missing_qemu(void **state)
{
	char body[2048], head[2300];
	snprintf(body, sizeof(body), matrix_head, "guest", "tcg", "", 1, 0, "30s");
	snprintf(head, sizeof(head), "qemu: qemu-system-does-not-exist\n%s", body);
	char *m = th_write_matrix(tmp, "noqemu", head), *out, *dir = cm_xasprintf("%s/noqemu", tmp);
	assert_int_equal(coldmark(m, dir, NULL, 0, &out), 3);
	assert_non_null(strstr(out, "qemu-system-does-not-exist"));
	assert_non_null(strstr(out, "not found"));
	free(out), free(m), free(dir);
}

void test_fault_malformed(void **state)
{
	char *m = th_write_matrix(tmp, "malformed", "guest: {bundled: guest}\nrun:\n  boots: lots\n");
	char *out, *dir = cm_xasprintf("%s/malformed", tmp);
	assert_int_equal(coldmark(m, dir, NULL, 0, &out), 2);
	assert_non_null(strstr(out, "malformed.yaml:3:10: error:"));
	free(out), free(m), free(dir);
}

/* SIGINT, then --resume: exactly the planned counts, the same files, the same run, each boot
 * in its planned session (two sessions of 8 boots and a warm-up each) */
void test_resume(void **state)
{
	char *out;
	char *m = head_matrix("resume", "guest", "tcg], cpu: [qemu64, max", "", 8, 1, "30s");
	char *dir = cm_xasprintf("%s/resume", tmp);
	char *db = cm_xasprintf("--db %s/resume.db --sessions 2", tmp);
	assert_int_equal(coldmark_at(m, dir, db, AT_RECORDED, &out), 130);
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
void test_end_grace(void **state)
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
		char *m = th_write_matrix(tmp, "grace", body);
		char *dir = cm_xasprintf("%s/grace%d", tmp, i);
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

void test_fault_sigint(void **state)
{
	char *m = head_matrix("sigint", "guest", "tcg", "", 200, 0, "30s");
	char *out, *dir = cm_xasprintf("%s/sigint", tmp);
	assert_int_equal(coldmark_at(m, dir, NULL, AT_RECORDED, &out), 130);
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
