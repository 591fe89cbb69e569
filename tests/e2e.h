/* What the end-to-end groups of test_e2e share: the group's folder, coldmark run and the
 * other commands by argv or sh, a run's samples, and the tests each themed file holds
 * (test_e2e.c maps the CTest groups onto them). */
#ifndef COLDMARK_TESTS_E2E_H
#define COLDMARK_TESTS_E2E_H

#include <stdbool.h>

#include "coldmark/harness.h"
#include "coldmark/report.h"
#include "helpers.h"

extern char tmp[256];	/* the group's folder, removed when it ends */
extern int stop_signal; /* what run() sends after sigint_after_ms (SIGINT unless a test says) */
/* A matrix of the bundled guest: guest, accel list, extra phases, boots, warmup, timeout */
extern const char *matrix_head;

/* Runs argv with stdout+stderr into out_path; its exit status (128+sig if killed). When
 * sigint_after_ms > 0, sends stop_signal that long after the start. */
int run(char *const argv[], const char *out_path, int sigint_after_ms);
/* tmp/NAME.yaml: matrix_head of these values; the path (to free). */
char *head_matrix(const char *name, const char *guest, const char *accel, const char *phases,
		  int boots, int warmup, const char *timeout);
/* coldmark run MATRIX -o OUTDIR EXTRA... (extra split at spaces); what it said in *output. */
int coldmark(const char *matrix, const char *outdir, const char *extra, int sigint_ms,
	     char **output);
/* The same, sent stop_signal once the run is at a moment (whenever a busy host gets it
 * there), not a fixed time after its start: a boot launched (its log made), a measured boot's
 * rows in samples.csv (not a warm-up's nor the reference's), or two measured boots' (then the
 * first is in the store too when the store takes a batch a boot, COLDMARK_BATCH_MS=0). */
enum e2e_moment { AT_BOOT, AT_RECORDED, AT_RECORDED_2 };
int coldmark_at(const char *matrix, const char *outdir, const char *extra, enum e2e_moment at,
		char **output);
/* Fails, saying what coldmark said and every kept boot log, unless rc is 0. */
void expect_ok(int rc, const char *out, const char *outdir);
void load_samples(const char *outdir, struct cm_dataset *ds);
/* /bin/sh -c cmd; its status and what it said. */
int sh(const char *cmd, char **output);
/* The same, failing (with the command and its words) unless it exits want. */
char *sh_expect(const char *cmd, int want);
/* cd tmp && coldmark ARGS (through sh). */
int cm(const char *args, char **out);
/* Why no private mount namespace can be made here, with the errno; NULL when one can. */
char *mntns_error(void);

/* test_e2e_runs.c: the guest under qemu, the launcher, coldmark run, a real Linux guest */
void test_guest_tcg(void **state);
void test_guest_kvm(void **state);
void test_launch_fds(void **state);
void test_launch_fds_not_leaked(void **state);
void test_run_debugcon(void **state);
void test_until_ci(void **state);
void test_order(void **state);
void test_run_perf(void **state);
void test_console_markers(void **state);
void test_linux_guest(void **state);
void test_linux_console_markers(void **state);
void test_linux_console_log(void **state);
/* test_e2e_faults.c: a guest or a qemu that fails, a run interrupted and resumed */
void test_fault_timeout(void **state);
void test_fault_out_of_order(void **state);
void test_fault_bad_argument(void **state);
void test_fault_crash(void **state);
void test_fault_missing_qemu(void **state);
void test_fault_malformed(void **state);
void test_resume(void **state);
void test_end_grace(void **state);
void test_fault_sigint(void **state);
/* test_e2e_robust.c: nothing lost, nothing run that was not asked for */
void test_hostile_names(void **state);
void test_run_folder(void **state);
void test_kill_and_hangup(void **state);
void test_full_disk(void **state);
void test_bad_samples_cli(void **state);
void test_store_refuses(void **state);
/* test_e2e_compare.c: regressions across runs, the store after kill -9 */
void test_regression(void **state);
void test_kill9(void **state);
/* test_e2e_doctor.c: doctor as root, without KVM and tracefs, as nobody; HTML in Chromium */
void test_doctor_root(void **state);
void test_doctor_no_kvm_no_tracefs(void **state);
void test_doctor_unprivileged(void **state);
void test_html_in_chromium(void **state);

#endif
