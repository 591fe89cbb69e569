/* coldmark doctor: what this host can measure, one line per check with its fix. Each check
 * tries the real thing (create a VM, open a system-wide perf event), not a file's presence. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <limits.h>
#include <linux/capability.h>
#include <linux/kvm.h>
#include <linux/perf_event.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <pwd.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
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

/* This user's name, for the commands doctor prints. */
static const char *user_name(void)
{
	struct passwd *pw = getpwuid(getuid());
	return pw ? pw->pw_name : "USER";
}

/* Is this session in group gid (getgroups), and is the user in it by /etc/group? */
static bool in_session(gid_t gid)
{
	gid_t g[NGROUPS_MAX];
	int n = getgroups(NGROUPS_MAX, g);
	for (int i = 0; i < n; i++)
		if (g[i] == gid)
			return true;
	return getegid() == gid;
}

static bool in_group_db(gid_t gid)
{
	struct passwd *pw = getpwuid(getuid());
	gid_t g[NGROUPS_MAX];
	int n = NGROUPS_MAX;
	if (!pw || getgrouplist(pw->pw_name, pw->pw_gid, g, &n) < 0)
		return false;
	for (int i = 0; i < n; i++)
		if (g[i] == gid)
			return true;
	return false;
}

/* Why /dev/kvm does not open for this user, and what makes it open: its group, the login. */
static void kvm_denied(int e, char *why, size_t n)
{
	struct stat st;
	if (stat("/dev/kvm", &st)) {
		snprintf(why, n, "/dev/kvm: %s (enable virtualisation in the firmware; modprobe "
				 "kvm_intel or kvm_amd)", strerror(e));
		return;
	}
	struct group *gr = getgrgid(st.st_gid);
	char gname[64];
	if (gr)
		snprintf(gname, sizeof(gname), "%s", gr->gr_name);
	else
		snprintf(gname, sizeof(gname), "%u", (unsigned)st.st_gid);
	if (e != EACCES && e != EPERM)
		snprintf(why, n, "/dev/kvm: %s", strerror(e));
	else if (!st.st_gid || (st.st_mode & 060) != 060)
		snprintf(why, n, "/dev/kvm: %s (mode %04o, group %s: no group may open it): give it "
				 "group kvm and mode 0660 (udev: KERNEL==\"kvm\", GROUP=\"kvm\", "
				 "MODE=\"0660\"), then usermod -aG kvm %s and log in again",
			 strerror(e), (unsigned)(st.st_mode & 07777), gname, user_name());
	else if (in_group_db(st.st_gid) && !in_session(st.st_gid))
		snprintf(why, n, "/dev/kvm: %s: %s is in group %s, but this session began before: "
				 "log in again (or newgrp %s)",
			 strerror(e), user_name(), gname, gname);
	else
		snprintf(why, n, "/dev/kvm: %s (group %s): usermod -aG %s %s, then log in again "
				 "(a session keeps the groups it began with)",
			 strerror(e), gname, gname, user_name());
}

static int kvm_check(char *why, size_t n)
{
	int fd = open("/dev/kvm", O_RDWR | O_CLOEXEC);
	if (fd < 0) {
		kvm_denied(errno, why, n);
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

/* A tracepoint's id, or -errno (ENOENT: not in this kernel; EACCES: there, not readable). */
static int tp_id(const char *tracefs, const char *tp)
{
	char path[768], buf[32];
	snprintf(path, sizeof(path), "%s/events/%s/id", tracefs, tp);
	FILE *f = fopen(path, "r");
	if (!f)
		return -errno;
	int id = fgets(buf, sizeof(buf), f) ? atoi(buf) : -EIO;
	fclose(f);
	return id;
}

static int paranoid_level(void)
{
	int paranoid = 99;
	char *p = cm_trace_host_path("/proc/sys/kernel/perf_event_paranoid");
	FILE *f = fopen(p, "r");
	free(p);
	if (f) {
		if (fscanf(f, "%d", &paranoid) != 1)
			paranoid = 99;
		fclose(f);
	}
	return paranoid;
}

static bool has_perfmon(void)
{
	struct __user_cap_header_struct h = { _LINUX_CAPABILITY_VERSION_3, 0 };
	struct __user_cap_data_struct d[2] = { 0 };
	if (syscall(SYS_capget, &h, d))
		return false;
	return d[CAP_PERFMON / 32].effective & (1u << (CAP_PERFMON % 32));
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
	int e = errno;
	snprintf(why, n,
		 "perf_event_open: %s; kernel.perf_event_paranoid is %d: system-wide tracepoint "
		 "events need root, CAP_PERFMON (setcap cap_perfmon+ep on coldmark) or paranoid -1",
		 strerror(e), paranoid_level());
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
	struct cm_error err = { 0 };
	struct cm_perf_config pc = { m->ports, m->nports, m->cases[0].argv[0], m->first_entry_event,
				     m->first_entry_filter, NULL };
	struct cm_perf *perf = cm_perf_open(&pc, &err);
	if (!perf) {
		snprintf(why, n, "not probed: %.400s", err.msg);
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

/* What doctor found, for the summary and the advice to a user who is not root. */
struct found {
	bool qemu, debugcon, kvm, pio, exec, perf;
	struct cm_tracefs tf;
	char kvm_why[512];
};

static void qemu_lines(const char *qemu_name, struct found *f)
{
	char *qemu = cm_which(qemu_name);
	if (!qemu) {
		line(false, "qemu binary", "'%s' not in PATH (apt-get install qemu-system-x86)",
		     qemu_name);
		return;
	}
	/* by argv with a deadline: a path with quotes stays a path, a hanging qemu a verdict */
	char *version_argv[] = { qemu, "--version", NULL }, *ver;
	ver = cm_proc_first_line(version_argv, CM_HELPER_TIMEOUT_MS);
	f->qemu = strstr(ver, "QEMU") != NULL;
	line(f->qemu, "qemu binary", "%s: %s", qemu, f->qemu ? ver : "does not run");
	free(ver);
	char *help_argv[] = { qemu, "-device", "help", NULL }, *help;
	cm_proc_run(help_argv, CM_HELPER_TIMEOUT_MS, true, &help, 1 << 20);
	f->debugcon = strstr(help, "\"isa-debugcon\"") != NULL;
	free(help);
	line(f->debugcon, "isa-debugcon device",
	     f->debugcon ? "present (TCG marker source)" : "missing from this qemu build");
	free(qemu);
}

/* tracefs and the three tracepoints: "mounted but not readable" apart from "not mounted",
 * and a tracepoint that cannot be read apart from one the kernel does not have. */
static void trace_lines(struct found *f)
{
	struct cm_tracefs *t = &f->tf;
	cm_tracefs_find(geteuid() == 0, t);
	char why[768];
	cm_tracefs_why(t, why, sizeof(why));
	if (t->state == CM_TRACEFS_READABLE)
		line(true, "tracefs", "%s%s", t->path, t->mounted_now ? " (mounted it now)" : "");
	else if (t->state == CM_TRACEFS_UNREADABLE)
		line(false, "tracefs", "%s: mounted, but mode %04o shuts this user out (see below)",
		     t->path, t->mode);
	else if (t->state == CM_TRACEFS_NOT_MOUNTED && !geteuid())
		line(false, "tracefs", "%s (mount -t tracefs nodev %s)", why, t->path);
	else
		line(false, "tracefs", "%s", why);
	static const char *const tps[3] = { "kvm/kvm_pio", "sched/sched_process_exec",
					    "kvm/kvm_entry" };
	int ids[3];
	for (int i = 0; i < 3; i++) {
		char name[64];
		snprintf(name, sizeof(name), "tracepoint %s", tps[i]);
		*strchr(name, '/') = ':';
		ids[i] = t->state == CM_TRACEFS_READABLE ? tp_id(t->path, tps[i]) : -EACCES;
		if (ids[i] >= 0)
			line(true, name, "present (id %d)", ids[i]);
		else if (t->state != CM_TRACEFS_READABLE)
			line(false, name, "not looked up: tracefs is %s",
			     t->state == CM_TRACEFS_UNREADABLE ? "not readable" : "not mounted");
		else if (ids[i] == -ENOENT)
			line(false, name, "absent%s", i == 1 ? " (a kernel without sched tracepoints)"
							     : " (load the kvm module: modprobe "
							       "kvm_intel or kvm_amd)");
		else
			line(false, name, "not readable: %s/events/%s/id: %s", t->path, tps[i],
			     strerror(-ids[i]));
	}
	f->pio = ids[0] >= 0;
	f->exec = ids[1] >= 0;
	if (f->pio) {
		f->perf = perf_check(ids[0], why, sizeof(why)) == 0;
		line(f->perf, "perf_event_open", "%s", why);
	} else {
		line(false, "perf_event_open", "not tried: no kvm:kvm_pio tracepoint id to open");
	}
}

/* For a user who is not root: what works now, and the one combination that gives KVM cases
 * through perf. setcap or perf_event_paranoid alone are not it: the tracepoints' ids and
 * formats are read in tracefs, which neither makes readable. */
static void nonroot_advice(const struct found *f)
{
	const char *u = user_name();
	int paranoid = paranoid_level();
	bool perfmon = has_perfmon(), events = perfmon || paranoid <= -1;
	bool tracefs = f->tf.state == CM_TRACEFS_READABLE;
	char exe[PATH_MAX] = "coldmark";
	ssize_t n = readlink("/proc/self/exe", exe, sizeof(exe) - 1);
	exe[n > 0 ? n : 8] = 0;
	printf("\nas a user who is not root (%s, uid %u):\n", u, (unsigned)getuid());
	printf("  TCG cases through debugcon: %s\n",
	       f->qemu && f->debugcon ? "available (qemu and a readable guest image are all they need)"
				      : "unavailable (see qemu above)");
	printf("  KVM cases through debugcon: %s\n",
	       f->kvm ? "available" : "need /dev/kvm: see KVM above");
	printf("  KVM cases through perf: need all three at once (%d of 3 here now):\n",
	       f->kvm + tracefs + events);
	printf("    [%s] /dev/kvm read-write, as above\n", f->kvm ? " ok " : "FAIL");
	printf("    [%s] tracefs readable through a group: groupadd -r tracing; usermod -aG tracing %s;\n"
	       "           %s\n"
	       "           at every boot, a line in /etc/fstab: tracefs /sys/kernel/tracing tracefs "
	       "gid=tracing,mode=0750 0 0\n",
	       tracefs ? " ok " : "FAIL", u,
	       f->tf.state == CM_TRACEFS_UNREADABLE
		       ? "mount -o remount,gid=tracing,mode=0750 /sys/kernel/tracing"
		       : "mount -t tracefs -o gid=tracing,mode=0750 nodev /sys/kernel/tracing");
	printf("    [%s] system-wide tracepoint events (CAP_PERFMON %s, kernel.perf_event_paranoid "
	       "%d), either:\n"
	       "           setcap cap_perfmon+ep %s   (this binary only)\n"
	       "           or sysctl kernel.perf_event_paranoid=-1   (every user may then record "
	       "every process on the host)\n",
	       events ? " ok " : "FAIL", perfmon ? "held now" : "not held now", paranoid, exe);
	printf("  setcap and perf_event_paranoid change nothing by themselves: coldmark reads each\n"
	       "  tracepoint's id and format in tracefs, and neither makes tracefs readable or\n"
	       "  opens /dev/kvm.\n"
	       "  after usermod -aG, log in again: a session keeps the groups it began with\n"
	       "  (newgrp GROUP gives one shell the new group at once).\n"
	       "  the page cache: dropped per file (posix_fadvise) without root; drop_caches needs root.\n");
}

int cm_cmd_doctor(const struct cm_cli *cli)
{
	const char *qemu_name = cm_cli_get(cli, "qemu");
	if (!qemu_name)
		qemu_name = "qemu-system-x86_64";
	char why[1024];
	struct found f = { 0 };
	qemu_lines(qemu_name, &f);
	f.kvm = kvm_check(f.kvm_why, sizeof(f.kvm_why)) == 0;
	line(f.kvm, "KVM", "%s", f.kvm_why);
	char *guest = cm_guest_image("guest", why, sizeof(why));
	line(guest != NULL, "bundled guest", "%s", guest ? guest : why);
	free(guest);
	trace_lines(&f);
	bool root_drop = geteuid() == 0 && !access("/proc/sys/vm/drop_caches", W_OK);
	line(true, "page-cache drop", root_drop
		     ? "drop_caches (root)"
		     : "per-file eviction (posix_fadvise); run as root for a full drop_caches");

	bool tracefs_ok = f.tf.state == CM_TRACEFS_READABLE;
	bool perf_mode = f.qemu && f.kvm && tracefs_ok && f.pio && f.exec && f.perf;
	bool tcg_mode = f.qemu && f.debugcon;
	printf("\nmarker sources:\n");
	const struct cm_source_reg *src;
	for (size_t i = 0; (src = cm_source_at(i)); i++) { /* the table's own mechanisms */
		if (!src->doctor)
			continue;
		bool ok = src->flags & CM_SRC_PERF       ? perf_mode
			  : src->flags & CM_SRC_FALLBACK ? tcg_mode
							 : f.qemu;
		printf("  %s: %s\n", src->doctor,
		       ok ? "available"
		       : src->flags & CM_SRC_PERF ? "unavailable (see FAIL lines above)"
						  : "unavailable");
	}
	if (perf_mode && !cm_cli_flag(cli, "no-probe")) {
		/* not a verdict on the sources: without it runs measure every phase but qemu_init */
		char *q = cm_which(qemu_name);
		bool ok = probe_first_entry(q, why, sizeof(why)) == 0;
		free(q);
		printf("  first guest instruction (exec -> first_entry): %s%s\n", ok ? "" : "unknown: ",
		       why);
	}
	if (geteuid())
		nonroot_advice(&f);
	return perf_mode || tcg_mode ? CM_EXIT_OK : CM_EXIT_HOST;
}
