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
#include "coldmark/matrix.h"

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

/* The runner's own first_entry choice, tried: one KVM boot of the bundled guest with perf
 * opened as a run opens it (run.first_entry_event: auto), then which event fired. */
static int probe_first_entry(const char *qemu, char *why, size_t n)
{
	char *yaml = cm_xasprintf("qemu: '%s'\nguest: {bundled: guest}\n"
				  "base_args: [-machine, pc, -accel, kvm, -display, none, -nodefaults, "
				  "-no-reboot]\nrun: {timeout: 60s}\n",
				  qemu);
	struct cm_diags d = { 0 };
	struct cm_matrix *m = cm_matrix_load_string(yaml, strlen(yaml), "(doctor probe)", &d);
	free(yaml);
	if (!m) {
		snprintf(why, n, "not probed: %s", d.n ? d.v[0].msg : "no bundled guest");
		cm_diags_clear(&d);
		return -1;
	}
	cm_diags_clear(&d);
	char err[512];
	struct cm_perf_config pc = { m->ports, m->nports, m->cases[0].argv[0], m->first_entry_event,
				     m->first_entry_filter, NULL };
	struct cm_perf *perf = cm_perf_open(&pc, err, sizeof(err));
	if (!perf) {
		snprintf(why, n, "not probed: %.400s", err);
		cm_matrix_free(m);
		return -1;
	}
	volatile int stop = 0;
	struct cm_capture *src = cm_perf_source(perf, m);
	struct cm_launch l = { .argv = m->cases[0].argv, .timeout_ms = m->timeout_ms,
			       .end_grace_ms = m->end_grace_ms, .end_marker = m->end_marker,
			       .sources = &src, .nsources = 1, .m = m, .stop = &stop };
	struct cm_events ev = { 0 };
	struct cm_exit ex;
	int64_t t0 = cm_now_ns();
	int rc = cm_launch_boot(&l, &ev, &ex);
	cm_capture_free(src);
	double secs = (cm_now_ns() - t0) / 1e9;
	char fired[128];
	cm_perf_first_entry_fired(perf, false, fired, sizeof(fired));
	if (rc || !ex.launched || ex.timed_out)
		snprintf(why, n, "not probed: the bundled guest did not boot under KVM%s",
			 ex.timed_out ? " (timeout)" : "");
	else if (!*fired)
		snprintf(why, n, "none of %s fired in a KVM boot: runs get no qemu_init phase; set "
				 "run.first_entry_event to an event that fires here",
			 cm_perf_first_entry_name(perf));
	else
		snprintf(why, n, "%s (the first of %s to fire, filtered '%s', in a %.1f s probe boot)",
			 fired, cm_perf_first_entry_name(perf), m->first_entry_filter, secs);
	rc = !rc && ex.launched && !ex.timed_out && *fired ? 0 : -1;
	cm_events_free(&ev);
	cm_perf_close(perf);
	cm_matrix_free(m);
	return rc;
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
		/* by argv with a deadline: a path with quotes stays a path, a hanging qemu a verdict */
		char *version_argv[] = { qemu, "--version", NULL }, *ver;
		ver = cm_proc_first_line(version_argv, CM_HELPER_TIMEOUT_MS);
		qemu_ok = strstr(ver, "QEMU") != NULL;
		line(qemu_ok, "qemu binary", "%s: %s", qemu, qemu_ok ? ver : "does not run");
		free(ver);
		char *help_argv[] = { qemu, "-device", "help", NULL }, *help;
		cm_proc_run(help_argv, CM_HELPER_TIMEOUT_MS, true, &help, 1 << 20);
		debugcon_ok = strstr(help, "\"isa-debugcon\"") != NULL;
		free(help);
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
	if (perf_mode && !cm_cli_flag(cli, "no-probe")) {
		/* not a verdict on the sources: without it runs measure every phase but qemu_init */
		char *q = cm_which(qemu_name);
		bool ok = probe_first_entry(q, why, sizeof(why)) == 0;
		free(q);
		printf("  first guest instruction (exec -> first_entry): %s%s\n", ok ? "" : "unknown: ",
		       why);
	}
	return perf_mode || tcg_mode ? CM_EXIT_OK : CM_EXIT_HOST;
}
