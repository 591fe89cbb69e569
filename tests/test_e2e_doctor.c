/* End-to-end (test_e2e groups doctor, no-mntns, html): coldmark doctor as root, without KVM
 * and tracefs, as nobody; the HTML report in headless Chromium. */
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

/* ---- doctor ---------------------------------------------------------------------------------- */

void test_doctor_root(void **state)
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

void test_doctor_no_kvm_no_tracefs(void **state)
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

void test_doctor_unprivileged(void **state)
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

void test_html_in_chromium(void **state)
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
	char *logp = cm_xasprintf("%s/chromium.log", dir), *log = th_slurp(logp);
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
