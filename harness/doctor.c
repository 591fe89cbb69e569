/* coldmark doctor: what this host can measure, one line per check with its fix. Each check
 * tries the real thing (create a VM, open a system-wide perf event), not a file's presence. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <linux/kvm.h>
#include <linux/perf_event.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "cli.h"
#include "coldmark/harness.h"

static void line(bool ok, const char *what, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
static void line(bool ok, const char *what, const char *fmt, ...)
{
	va_list ap;
	printf("[%s] %-28s ", ok ? " ok " : "FAIL", what);
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	putchar('\n');
}

static int kvm_check(char *why, size_t n)
{
	int fd = open("/dev/kvm", O_RDWR | O_CLOEXEC);
	if (fd < 0) {
		snprintf(why, n, "/dev/kvm: %s (enable virtualisation; add the user to group kvm)",
			 strerror(errno));
		return -1;
	}
	int api = ioctl(fd, KVM_GET_API_VERSION, 0);
	int vm = ioctl(fd, KVM_CREATE_VM, 0);
	if (api != KVM_API_VERSION || vm < 0) {
		snprintf(why, n, "/dev/kvm opens but KVM_CREATE_VM fails: %s", strerror(errno));
		close(fd);
		return -1;
	}
	close(vm);
	close(fd);
	snprintf(why, n, "/dev/kvm creates a VM (API %d)", api);
	return 0;
}

static int tp_id(const char *tracefs, const char *tp)
{
	char path[256], buf[32];
	snprintf(path, sizeof(path), "%s/events/%s/id", tracefs, tp);
	FILE *f = fopen(path, "r");
	if (!f)
		return -1;
	int id = fgets(buf, sizeof(buf), f) ? atoi(buf) : -1;
	fclose(f);
	return id;
}

static int perf_check(int id, char *why, size_t n)
{
	struct perf_event_attr attr = { .type = PERF_TYPE_TRACEPOINT, .size = sizeof(attr),
					.config = (unsigned)id, .sample_period = 1, .disabled = 1 };
	int fd = (int)syscall(SYS_perf_event_open, &attr, -1, 0, -1, PERF_FLAG_FD_CLOEXEC);
	if (fd >= 0) {
		close(fd);
		snprintf(why, n, "system-wide tracepoint events open");
		return 0;
	}
	int e = errno, paranoid = 99;
	FILE *f = fopen("/proc/sys/kernel/perf_event_paranoid", "r");
	if (f) {
		if (fscanf(f, "%d", &paranoid) != 1)
			paranoid = 99;
		fclose(f);
	}
	snprintf(why, n,
		 "perf_event_open: %s; kernel.perf_event_paranoid is %d: system-wide tracepoints "
		 "need root or CAP_PERFMON (setcap cap_perfmon+ep coldmark) or paranoid <= -1",
		 strerror(e), paranoid);
	return -1;
}

int cm_cmd_doctor(const struct cm_cli *cli)
{
	const char *qemu_name = cm_cli_get(cli, "qemu");
	if (!qemu_name)
		qemu_name = "qemu-system-x86_64";
	char why[512];
	bool qemu_ok = false, debugcon_ok = false, kvm_ok, tracefs_ok, pio_ok, exec_ok, perf_ok = false;

	char *qemu = cm_which(qemu_name);
	if (qemu) {
		char *cmd = cm_xasprintf("'%s' --version 2>&1", qemu), ver[256] = "";
		FILE *p = popen(cmd, "r");
		if (p && fgets(ver, sizeof(ver), p))
			ver[strcspn(ver, "\n")] = 0;
		if (p)
			pclose(p);
		free(cmd);
		qemu_ok = strstr(ver, "QEMU") != NULL;
		line(qemu_ok, "qemu binary", "%s: %s", qemu, qemu_ok ? ver : "does not run");
		cmd = cm_xasprintf("'%s' -device help 2>&1", qemu);
		p = popen(cmd, "r");
		char l[512];
		while (p && fgets(l, sizeof(l), p))
			debugcon_ok |= strstr(l, "\"isa-debugcon\"") != NULL;
		if (p)
			pclose(p);
		free(cmd);
		line(debugcon_ok, "isa-debugcon device", debugcon_ok ? "present (TCG marker source)"
								    : "missing from this qemu build");
	} else {
		line(false, "qemu binary", "'%s' not in PATH (apt-get install qemu-system-x86)",
		     qemu_name);
	}
	free(qemu);

	kvm_ok = kvm_check(why, sizeof(why)) == 0;
	line(kvm_ok, "KVM", "%s", why);

	bool mounted = false;
	const char *tracefs = cm_tracefs_path(geteuid() == 0, &mounted);
	tracefs_ok = tracefs != NULL;
	if (tracefs_ok)
		line(true, "tracefs", "%s%s", tracefs, mounted ? " (mounted it now)" : "");
	else
		line(false, "tracefs", "not mounted%s (mount -t tracefs nodev /sys/kernel/tracing)",
		     geteuid() ? " and only root can mount it" : "");

	int ids[3] = { -1, -1, -1 };
	static const char *const tps[3] = { "kvm/kvm_pio", "sched/sched_process_exec",
					    "kvm/kvm_entry" };
	for (int i = 0; i < 3; i++) {
		ids[i] = tracefs ? tp_id(tracefs, tps[i]) : -1;
		char name[64];
		snprintf(name, sizeof(name), "tracepoint %s", tps[i]);
		for (char *c = name; *c; c++)
			if (*c == '/')
				*c = ':';
		line(ids[i] >= 0, name, ids[i] >= 0 ? "present (id %d)" : "absent%.0d%s", ids[i],
		     ids[i] >= 0 ? ""
		     : !tracefs ? " (tracefs not readable)"
		     : i == 0 || i == 2 ? " (load the kvm module: modprobe kvm_intel or kvm_amd)"
					: " (kernel without sched tracepoints)");
	}
	pio_ok = ids[0] >= 0;
	exec_ok = ids[1] >= 0;
	if (pio_ok) {
		perf_ok = perf_check(ids[0], why, sizeof(why)) == 0;
		line(perf_ok, "perf_event_open", "%s", why);
	} else {
		line(false, "perf_event_open", "not tried: no kvm:kvm_pio tracepoint to open");
	}
	bool root_drop = geteuid() == 0 && !access("/proc/sys/vm/drop_caches", W_OK);
	line(true, "page-cache drop", root_drop
		     ? "drop_caches (root)"
		     : "per-file eviction (posix_fadvise); run as root for a full drop_caches");

	bool perf_mode = qemu_ok && kvm_ok && tracefs_ok && pio_ok && exec_ok && perf_ok;
	bool tcg_mode = qemu_ok && debugcon_ok;
	printf("\nmarker sources:\n");
	printf("  perf-kvm  (KVM guests, kvm:kvm_pio through perf): %s\n",
	       perf_mode ? "available" : "unavailable (see FAIL lines above)");
	printf("  debugcon  (TCG or no perf, isa-debugcon timestamped by coldmark): %s\n",
	       tcg_mode ? "available" : "unavailable");
	if (perf_mode && ids[2] < 0)
		printf("  note: no kvm:kvm_entry; first_entry falls back to kvm:kvm_emulate_insn\n");
	return perf_mode || tcg_mode ? CM_EXIT_OK : CM_EXIT_HOST;
}
