/* End-to-end: the bundled guest under qemu, and coldmark run with each source and each fault.
 * Usage: test_e2e GROUP. Groups that need KVM, root or perf exit 77 (CTest: skipped) when the
 * host lacks them, saying why. This file maps the groups onto the tests of the themed files
 * (e2e.h): test_e2e_runs.c, test_e2e_faults.c, test_e2e_robust.c, test_e2e_compare.c,
 * test_e2e_doctor.c; what they share is in test_e2e_common.c. */
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

/* The group's temp folder goes when it ends, passed, failed or skipped (~20 of them, 11 MB,
 * stayed after each run of the suite; th_remove_at_exit); COLDMARK_KEEP_TMP=1 keeps it to look
 * into. The full-disk test's tmpfs, if that test failed, is unmounted first. Not in the
 * children forked to run commands (they _exit), only in the process that made it. */
static pid_t tmp_owner;

static void umount_small(void)
{
	if (getpid() != tmp_owner)
		return;
	char *small = cm_xasprintf("%s/small", tmp);
	umount2(small, MNT_DETACH);
	free(small);
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
	if (th_mkdtemp(tmp, sizeof(tmp), "e2e-%s", group))
		return 1;
	th_remove_at_exit(tmp);
	tmp_owner = getpid();
	atexit(umount_small); /* before th_remove_at_exit's removal: atexit runs last first */
	setenv("COLDMARK_GUEST_DIR", GUEST_DIR, 1);
	free(th_need_program("qemu-system-x86_64"));
	if (!strcmp(group, "guest-tcg")) {
		const struct CMUnitTest t[] = { cmocka_unit_test(test_guest_tcg),
						cmocka_unit_test(test_launch_fds),
						cmocka_unit_test(test_launch_fds_not_leaked) };
		return cmocka_run_group_tests_name("guest-tcg", t, NULL, NULL);
	}
	if (!strcmp(group, "guest-kvm")) {
		if (!th_kvm_ok())
			th_skip_group("/dev/kvm cannot create a VM here");
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
			th_skip_group("this build has no perf source (COLDMARK_PERF=OFF)");
		if (!th_kvm_ok())
			th_skip_group("/dev/kvm cannot create a VM here");
		struct cm_error err = { 0 };
		const char *tracefs = cm_tracefs_path(geteuid() == 0, NULL);
		unsigned port = 0xf4;
		struct cm_perf_config pc = { &port, 1, "qemu-system-x86_64", "auto", "rip == 0xfff0",
					     tracefs };
		struct cm_perf *p = tracefs ? cm_perf_open(&pc, &err) : NULL;
		if (!p)
			th_skip_group(tracefs ? err.msg : "tracefs is not mounted");
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
			th_skip_group("chromium is not installed (apt-get install chromium)");
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
			th_skip_group(out);
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
			th_skip_group("the doctor checks switch users and mount namespaces: needs root");
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
			th_skip_group("dropping CAP_SYS_ADMIN to check the skips: needs root");
		if (drop_sys_admin())
			th_skip_group("cannot drop CAP_SYS_ADMIN here");
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
