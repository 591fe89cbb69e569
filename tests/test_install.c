/* An installed coldmark and a user who is not root (issue 23, items 1-3).
 * Usage: test_install note|doctor|install.
 *   note:    the run's note on phases perf alone sees counts every case and says how the KVM
 *            cases are measured without perf (through debugcon, still under KVM).
 *   doctor:  doctor's output for nobody, line by line, against a fake tracefs and
 *            perf_event_paranoid (COLDMARK_TRACE_ROOT) in each state: mounted but not
 *            readable, not mounted, readable, readable with one tracepoint missing and one
 *            unreadable.
 *   install: cmake --install into a temporary prefix; the installed binary, run as nobody,
 *            finds the installed guest images and boots them under TCG; says "cannot be read"
 *            and "is not there" apart; then, in a private mount namespace, with /dev/kvm of a
 *            group nobody is given, KVM cases through debugcon, with CAP_PERFMON on the binary
 *            still no perf while tracefs is mounted 0700, and perf once tracefs is mounted
 *            with the gid=/mode= doctor recommends.
 * The doctor and install groups switch users and mount namespaces: they skip (77) without
 * root, saying so. */
#define _GNU_SOURCE
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <linux/capability.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/sysmacros.h>
#include <sys/wait.h>
#include <sys/xattr.h>
#include <unistd.h>

#include "coldmark/harness.h"
#include "helpers.h"

#define NOBODY 65534
#define KVM_GID 64990     /* groups no one on the host has: given to nobody only here */
#define TRACING_GID 64991

static char tmp[256];

/* mkdir -p, every new folder with mode */
static void mkdirs(const char *path, mode_t mode)
{
	char *p = cm_xstrdup(path);
	for (char *s = p + 1; *s; s++)
		if (*s == '/') {
			*s = 0;
			mkdir(p, 0755);
			*s = '/';
		}
	mkdir(p, mode);
	assert_int_equal(chmod(p, mode), 0);
	free(p);
}

/* How a command is run: as whom, with which groups, in a private mount namespace with
 * /dev/kvm replaced and tracefs mounted with options, from which folder, with what env. */
struct as {
	uid_t uid;
	gid_t gid;
	const gid_t *groups;
	int ngroups;
	const char *cwd;
	const char *const *env; /* NULL-terminated */
	const char *kvm_node;   /* bind-mounted over /dev/kvm */
	const char *tracefs;    /* mount options for tracefs at /sys/kernel/tracing */
	const char *etc_group;  /* bind-mounted over /etc/group */
	bool perfmon;           /* CAP_PERFMON as an ambient capability */
};

/* CAP_PERFMON kept through setresuid and handed to the program as an ambient capability */
static int ambient_perfmon(uid_t uid)
{
	struct __user_cap_header_struct h = { _LINUX_CAPABILITY_VERSION_3, 0 };
	struct __user_cap_data_struct d[2] = { 0 };
	unsigned bit = 1u << (CAP_PERFMON % 32);
	d[CAP_PERFMON / 32].effective = d[CAP_PERFMON / 32].permitted = bit;
	d[CAP_PERFMON / 32].inheritable = bit;
	if (prctl(PR_SET_KEEPCAPS, 1) || setresuid(uid, uid, uid) || syscall(SYS_capset, &h, d))
		return -1;
	return prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_RAISE, CAP_PERFMON, 0, 0);
}

/* The sanitizers' options (the asan preset's leak suppressions) pass to the user's
 * environment, which is otherwise only what each test gives. */
static const char *const *with_sanitizer_env(const char *const *env)
{
	static const char *out[16];
	static const char *const names[] = { "ASAN_OPTIONS", "LSAN_OPTIONS", "UBSAN_OPTIONS" };
	static char buf[3][1024];
	size_t n = 0;
	for (; env[n] && n < 12; n++)
		out[n] = env[n];
	for (int i = 0; i < 3; i++)
		if (getenv(names[i])) {
			snprintf(buf[i], sizeof(buf[i]), "%s=%s", names[i], getenv(names[i]));
			out[n++] = buf[i];
		}
	out[n] = NULL;
	return out;
}

static void child_fail(const char *step)
{
	fprintf(stderr, "test_install: %s: %s\n", step, strerror(errno));
	_exit(125);
}

/* Runs argv as a->uid; stdout and stderr into *out. Returns the exit status. */
static int run_as(const struct as *a, char *const argv[], char **out)
{
	char *path = cm_xasprintf("%s/cmd.out", tmp);
	fflush(stdout);
	pid_t pid = fork();
	if (pid == 0) {
		int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
		dup2(fd, 1);
		dup2(fd, 2);
		if (a->kvm_node || a->tracefs || a->etc_group) {
			if (unshare(CLONE_NEWNS) || mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL))
				child_fail("a private mount namespace");
			if (a->kvm_node && mount(a->kvm_node, "/dev/kvm", NULL, MS_BIND, NULL))
				child_fail("bind the KVM node over /dev/kvm");
			if (a->etc_group && mount(a->etc_group, "/etc/group", NULL, MS_BIND, NULL))
				child_fail("bind a group file over /etc/group");
			umount2("/sys/kernel/tracing", MNT_DETACH); /* whatever the host has there */
			if (a->tracefs && mount("nodev", "/sys/kernel/tracing", "tracefs", 0,
						*a->tracefs ? a->tracefs : NULL))
				child_fail("mount tracefs");
		}
		if (a->uid && (setgroups((size_t)a->ngroups, a->groups) || setresgid(a->gid, a->gid, a->gid) ||
			       (a->perfmon ? ambient_perfmon(a->uid) : setresuid(a->uid, a->uid, a->uid))))
			child_fail("become the user");
		if (a->cwd && chdir(a->cwd))
			child_fail("chdir");
		static const char *const base_env[] = { "PATH=/usr/local/bin:/usr/bin:/bin:/usr/sbin:/sbin",
							 NULL };
		execve(argv[0], argv, (char *const *)with_sanitizer_env(a->env ? a->env : base_env));
		child_fail(argv[0]);
	}
	int st;
	waitpid(pid, &st, 0);
	*out = th_slurp(path);
	free(path);
	int rc = WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
	if (rc == 125)
		fail_msg("could not run %s: %s", argv[0], *out);
	return rc;
}

/* ---- note: the words of the perf-only-phases note ------------------------------------------ */

static const char demo_yaml[] =
	"qemu: qemu-system-x86_64\nguest: {bundled: guest}\n"
	"base_args: [-machine, pc, -display, none, -nodefaults, -no-reboot]\n"
	"axes:\n  memory: [128M, 512M]\n  accel: [kvm, tcg]\n"
	"markers: {preset: coldmark-guest}\n"
	"phases:\n  - {name: firmware, from: exec, to: real_mode}\n"
	"  - {name: qemu_init, from: exec, to: first_entry}\n";

static char *note(bool perf_for_kvm)
{
	setenv("COLDMARK_GUEST_DIR", GUEST_DIR, 1);
	struct cm_diags d = { 0 };
	struct cm_matrix *m = cm_matrix_load_string(demo_yaml, strlen(demo_yaml), "demo.yaml", &d);
	cm_diags_print(&d, stderr);
	assert_non_null(m);
	assert_int_equal(m->ncases, 6); /* 4 cases and the reference under each accelerator */
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);
	assert_int_equal(cm_note_unmeasurable(m, perf_for_kvm, f, "coldmark run: note"), 1);
	fclose(f);
	cm_matrix_free(m);
	cm_diags_clear(&d);
	return buf;
}

/* perf unusable: 6 cases run, the KVM ones under KVM through debugcon, not "4 of 4 ... under
 * TCG" */
static void test_note_without_perf(void **state)
{
	char *s = note(false);
	assert_string_equal(s, "coldmark run: note: phase qemu_init (exec -> first_entry) is not "
			       "measurable for 4 of 6 cases: first_entry is seen only by the perf "
			       "source, which this run does not use; 2 KVM cases "
			       "(memory=128M,accel=kvm, memory=512M,accel=kvm) run under KVM, "
			       "measured through debugcon; 2 TCG cases (memory=128M,accel=tcg, "
			       "memory=512M,accel=tcg) run under TCG, measured through debugcon; "
			       "the 2 reference cases measure their total only\n");
	free(s);
}

static void test_note_with_perf(void **state)
{
	char *s = note(true);
	assert_string_equal(s, "coldmark run: note: phase qemu_init (exec -> first_entry) is not "
			       "measurable for 2 of 6 cases: first_entry is seen only by the perf "
			       "source, which measures KVM cases only; 2 TCG cases "
			       "(memory=128M,accel=tcg, memory=512M,accel=tcg) run under TCG, "
			       "measured through debugcon; the 2 reference cases measure their "
			       "total only\n");
	free(s);
}

/* ---- doctor for nobody against a fake tracefs ---------------------------------------------- */

enum tstate { MOUNTED_UNREADABLE, NOT_MOUNTED, READABLE, READABLE_PARTLY };

static char *fake_root(enum tstate s)
{
	static const char *const names[] = { "unreadable", "absent", "readable", "partly" };
	char *root = cm_xasprintf("%s/fake-%s", tmp, names[s]);
	char *p = cm_xasprintf("%s/proc/sys/kernel", root);
	mkdirs(p, 0755);
	free(p);
	p = cm_xasprintf("%s/proc/sys/kernel/perf_event_paranoid", root);
	th_write(p, "2\n", 0644);
	free(p);
	char *tr = cm_xasprintf("%s/sys/kernel/tracing", root);
	mkdirs(tr, 0755);
	if (s != NOT_MOUNTED) {
		static const char *const tps[] = { "kvm/kvm_pio", "sched/sched_process_exec",
						   "kvm/kvm_entry" };
		static const char *const ids[] = { "110\n", "365\n", "115\n" };
		for (int i = 0; i < 3; i++) {
			if (s == READABLE_PARTLY && i == 0)
				continue; /* the kvm module not loaded */
			p = cm_xasprintf("%s/events/%s", tr, tps[i]);
			mkdirs(p, 0755);
			char *id = cm_xasprintf("%s/id", p);
			th_write(id, ids[i], s == READABLE_PARTLY && i == 2 ? 0600 : 0444);
			free(id), free(p);
		}
	}
	/* a mounted tracefs is 0700 by default; the folder under a not mounted one 0555 */
	assert_int_equal(chmod(tr, s == MOUNTED_UNREADABLE ? 0700 : s == NOT_MOUNTED ? 0555 : 0755), 0);
	free(tr);
	return root;
}

static char *kvm_line(void)
{
	struct stat st;
	assert_int_equal(stat("/dev/kvm", &st), 0);
	if ((st.st_mode & 06) == 06)
		return NULL; /* nobody may open it: the line says it creates a VM */
	return cm_xstrdup("[FAIL] KVM                          /dev/kvm: Permission denied (");
}

static void doctor_state(enum tstate s, const char *const *want_trace)
{
	char *root = fake_root(s);
	char *troot = cm_xasprintf("COLDMARK_TRACE_ROOT=%s", root);
	const char *env[] = { "PATH=/usr/bin:/bin", troot, "COLDMARK_GUEST_DIR=" GUEST_DIR, NULL };
	struct as a = { .uid = NOBODY, .gid = NOBODY, .cwd = tmp, .env = env };
	char *argv[] = { COLDMARK_BIN, "doctor", "--no-probe", NULL }, *out;
	int rc = run_as(&a, argv, &out);
	printf("%s", out);
	assert_int_equal(rc, 0); /* debugcon works for nobody */
	if (s != NOT_MOUNTED) /* not "not mounted" when it is mounted, or readable */
		assert_null(strstr(out, "not mounted"));
	char *kvm = kvm_line();
	char *tr = cm_xasprintf("%s/sys/kernel/tracing", root);
	/* every line, in order: exact where the host does not decide it */
	const char *head[] = { "[ ok ] qemu binary                  /usr/bin/qemu-system-x86_64: QEMU emulator version ",
			       "[ ok ] isa-debugcon device          present (TCG marker source)", kvm,
			       "[ ok ] bundled guest                " GUEST_DIR "/guest.img" };
	char *line = out, *next;
	size_t i = 0;
	for (; i < 4; i++, line = next + 1) {
		assert_non_null(next = strchr(line, '\n'));
		*next = 0;
		if (i == 2 && kvm)
			assert_true(!strncmp(line, kvm, strlen(kvm)) && strstr(line, "log in again"));
		else if (i == 2)
			assert_non_null(strstr(line, "[ ok ] KVM"));
		else if (i == 0)
			assert_true(!strncmp(line, head[i], strlen(head[i])));
		else
			assert_string_equal(line, head[i]);
	}
	for (size_t k = 0; want_trace[k]; k++, line = next + 1) {
		assert_non_null(next = strchr(line, '\n'));
		*next = 0;
		char *want = cm_xasprintf(want_trace[k], tr, tr, tr);
		assert_string_equal(line, want);
		free(want);
	}
	assert_string_equal(line, ""); /* and nothing more */
	free(tr), free(kvm), free(out), free(troot), free(root);
}

#define MOUNT_NEW "mount -t tracefs -o gid=tracing,mode=0750 nodev /sys/kernel/tracing"
/* The page-cache line and what follows, the same in every state but the counts. */
#define TAIL(n, tracefs_ok, how)                                                                   \
	"[ ok ] page-cache drop              per-file eviction (posix_fadvise); run as root for a "     \
	"full drop_caches",                                                                         \
		"", "marker sources:",                                                              \
		"  perf-kvm  (KVM guests, kvm:kvm_pio through perf): unavailable (see FAIL lines "  \
		"above)",                                                                           \
		"  debugcon  (TCG or no perf, isa-debugcon timestamped by coldmark): available", "",  \
		"as a user who is not root (nobody, uid 65534):",                                   \
		"  TCG cases through debugcon: available (qemu and a readable guest image are all " \
		"they need)",                                                                       \
		"  KVM cases through debugcon: need /dev/kvm: see KVM above",                       \
		"  KVM cases through perf: need all three at once (" n " of 3 here now):",          \
		"    [FAIL] /dev/kvm read-write, as above",                                         \
		"    [" tracefs_ok "] tracefs readable through a group: groupadd -r tracing; usermod " \
		"-aG tracing nobody;",                                                              \
		"           " how,                                                                   \
		"           at every boot, a line in /etc/fstab: tracefs /sys/kernel/tracing tracefs " \
		"gid=tracing,mode=0750 0 0",                                                        \
		"    [FAIL] system-wide tracepoint events (CAP_PERFMON not held now, "               \
		"kernel.perf_event_paranoid 2), either:",                                           \
		"           setcap cap_perfmon+ep " COLDMARK_BIN "   (this binary only)",           \
		"           or sysctl kernel.perf_event_paranoid=-1   (every user may then record " \
		"every process on the host)",                                                       \
		"  setcap and perf_event_paranoid change nothing by themselves: coldmark reads each", \
		"  tracepoint's id and format in tracefs, and neither makes tracefs readable or",   \
		"  opens /dev/kvm.",                                                                \
		"  after usermod -aG, log in again: a session keeps the groups it began with",      \
		"  (newgrp GROUP gives one shell the new group at once).",                          \
		"  the page cache: dropped per file (posix_fadvise) without root; drop_caches needs " \
		"root.",                                                                            \
		NULL

static void test_doctor_mounted_unreadable(void **state)
{
	const char *const want[] = {
		"[FAIL] tracefs                      %s: mounted, but mode 0700 shuts this user out "
		"(see below)",
		"[FAIL] tracepoint kvm:kvm_pio       not looked up: tracefs is not readable",
		"[FAIL] tracepoint sched:sched_process_exec not looked up: tracefs is not readable",
		"[FAIL] tracepoint kvm:kvm_entry     not looked up: tracefs is not readable",
		"[FAIL] perf_event_open              not tried: no kvm:kvm_pio tracepoint id to open",
		TAIL("0", "FAIL", "mount -o remount,gid=tracing,mode=0750 /sys/kernel/tracing")
	};
	doctor_state(MOUNTED_UNREADABLE, want);
}

static void test_doctor_not_mounted(void **state)
{
	const char *const want[] = {
		"[FAIL] tracefs                      tracefs is not mounted at %s (only root can "
		"mount it)",
		"[FAIL] tracepoint kvm:kvm_pio       not looked up: tracefs is not mounted",
		"[FAIL] tracepoint sched:sched_process_exec not looked up: tracefs is not mounted",
		"[FAIL] tracepoint kvm:kvm_entry     not looked up: tracefs is not mounted",
		"[FAIL] perf_event_open              not tried: no kvm:kvm_pio tracepoint id to open",
		TAIL("0", "FAIL", MOUNT_NEW)
	};
	doctor_state(NOT_MOUNTED, want);
}

static void test_doctor_readable(void **state)
{
	const char *const want[] = {
		"[ ok ] tracefs                      %s",
		"[ ok ] tracepoint kvm:kvm_pio       present (id 110)",
		"[ ok ] tracepoint sched:sched_process_exec present (id 365)",
		"[ ok ] tracepoint kvm:kvm_entry     present (id 115)",
		"[FAIL] perf_event_open              perf_event_open: Permission denied; "
		"kernel.perf_event_paranoid is 2: system-wide tracepoint events need root, "
		"CAP_PERFMON (setcap cap_perfmon+ep on coldmark) or paranoid -1",
		TAIL("1", " ok ", MOUNT_NEW)
	};
	doctor_state(READABLE, want);
}

/* A tracepoint the kernel lacks says "absent", one it has but shuts says why: not "absent-1" */
static void test_doctor_readable_partly(void **state)
{
	const char *const want[] = {
		"[ ok ] tracefs                      %s",
		"[FAIL] tracepoint kvm:kvm_pio       absent (load the kvm module: modprobe kvm_intel "
		"or kvm_amd)",
		"[ ok ] tracepoint sched:sched_process_exec present (id 365)",
		"[FAIL] tracepoint kvm:kvm_entry     not readable: %s/events/kvm/kvm_entry/id: "
		"Permission denied",
		"[FAIL] perf_event_open              not tried: no kvm:kvm_pio tracepoint id to open",
		TAIL("1", " ok ", MOUNT_NEW)
	};
	doctor_state(READABLE_PARTLY, want);
}

/* ---- install: an installed coldmark, run by nobody ------------------------------------------ */

static char *prefix, *home, *ibin;

/* the installed coldmark as nobody, in nobody's folder, with the groups and mounts given */
static int installed(const struct as *extra, const char *args, char **out)
{
	char *home_env = cm_xasprintf("HOME=%s", home);
	const char *env[] = { "PATH=/usr/bin:/bin", home_env, NULL };
	struct as a = { .uid = NOBODY, .gid = NOBODY, .cwd = home, .env = env };
	if (extra)
		a.groups = extra->groups, a.ngroups = extra->ngroups, a.kvm_node = extra->kvm_node,
		a.tracefs = extra->tracefs, a.etc_group = extra->etc_group, a.perfmon = extra->perfmon,
		a.env = extra->env ? extra->env : env;
	char *argv[16] = { ibin };
	char *words = cm_xstrdup(args), *save = NULL;
	int n = 1;
	for (char *w = strtok_r(words, " ", &save); w && n < 15; w = strtok_r(NULL, " ", &save))
		argv[n++] = w;
	int rc = run_as(&a, argv, out);
	printf("$ coldmark %s -> %d\n%s", args, rc, *out);
	free(words), free(home_env);
	return rc;
}

static void matrix(const char *name, const char *accels)
{
	char *p = cm_xasprintf("%s/%s.yaml", home, name);
	char *body = cm_xasprintf("qemu: qemu-system-x86_64\nguest: {bundled: guest}\n"
				  "base_args: [-machine, pc, -display, none, -nodefaults, -no-reboot]\n"
				  "axes: {accel: [%s]}\nmarkers: {preset: coldmark-guest}\n"
				  "phases:\n  - {name: firmware, from: exec, to: real_mode}\n"
				  "  - {name: qemu_init, from: exec, to: first_entry}\n"
				  "run: {boots: 2, warmup: 0, timeout: 60s, reference: none}\n",
				  accels);
	th_write(p, body, 0644);
	free(p), free(body);
}

/* cmake --install puts the binary, the guest images and the manual under the prefix */
static void test_install_tree(void **state)
{
	char *argv[] = { CMAKE_COMMAND, "--install", BINARY_DIR, "--prefix", prefix, NULL }, *out;
	struct as me = { 0 };
	int rc = run_as(&me, argv, &out);
	printf("%s", out);
	assert_int_equal(rc, 0);
	free(out);
	char *img = cm_xasprintf("%s/share/coldmark/guest/guest.img", prefix);
	assert_true(th_exists(ibin));
	assert_true(th_exists(img));
	char *man = cm_xasprintf("%s/share/man/man1/coldmark.1", prefix), *text = th_slurp(man);
	assert_non_null(strstr(text, ".SH ENVIRONMENT\n.TP\n.B COLDMARK_GUEST_DIR\n"));
	assert_non_null(strstr(text, "share/coldmark/guest"));
	free(text), free(man), free(img);
}

/* nobody, with nothing granted, boots the installed guest under TCG through debugcon */
static void test_installed_tcg_as_nobody(void **state)
{
	matrix("tcg", "tcg");
	char *out;
	assert_int_equal(installed(NULL, "list tcg.yaml", &out), 0);
	char *want = cm_xasprintf("file=%s/share/coldmark/guest/guest.img,", prefix);
	assert_non_null(strstr(out, want)); /* the installed images, not the build tree's */
	free(want), free(out);
	assert_int_equal(installed(NULL, "run tcg.yaml -o out-tcg --format csv", &out), 0);
	char *sum = cm_xasprintf("%s/out-tcg/summary.csv", home), *text = th_slurp(sum);
	assert_non_null(strstr(text, "accel=tcg"));
	free(text), free(sum), free(out);
}

/* "cannot be read" and "is not there" apart, with the errno; COLDMARK_GUEST_DIR still wins */
static void test_installed_guest_messages(void **state)
{
	char *img = cm_xasprintf("%s/share/coldmark/guest/guest.img", prefix);
	char *moved = cm_xasprintf("%s.away", img), *out, *want;
	assert_int_equal(chmod(img, 0600), 0);
	assert_int_equal(installed(NULL, "list tcg.yaml", &out), 2);
	want = cm_xasprintf("bundled guest 'guest' cannot be read: %s: Permission denied (folder "
			    "from the installed coldmark's share/coldmark/guest;", img);
	assert_non_null(strstr(out, want));
	assert_null(strstr(out, "is the build done"));
	free(want), free(out);
	assert_int_equal(chmod(img, 0644), 0);
	assert_int_equal(rename(img, moved), 0);
	assert_int_equal(installed(NULL, "list tcg.yaml", &out), 2);
	want = cm_xasprintf("bundled guest 'guest' is not there: %s: No such file or directory "
			    "(folder from the installed coldmark's share/coldmark/guest;", img);
	assert_non_null(strstr(out, want));
	free(want), free(out);
	char *home_env = cm_xasprintf("HOME=%s", home);
	const char *env[] = { "PATH=/usr/bin:/bin", home_env, "COLDMARK_GUEST_DIR=" GUEST_DIR, NULL };
	struct as with_env = { .env = env };
	assert_int_equal(installed(&with_env, "list tcg.yaml", &out), 0);
	assert_non_null(strstr(out, "file=" GUEST_DIR "/guest.img,"));
	free(out), free(home_env);
	assert_int_equal(rename(moved, img), 0);
	free(moved), free(img);
}

/* The file capability `setcap cap_perfmon+ep` writes, written here without libcap's tool.
 * Under the sanitizers, CAP_PERFMON comes as an ambient capability instead: a file-capability
 * process cannot read its own /proc/self/environ, where the sanitizers find their options
 * (the leak suppressions of libperf's). Both give the process the same CAP_PERFMON. */
#if defined(__SANITIZE_ADDRESS__)
#define SANITIZED true
#else
#define SANITIZED false
#endif
static void give_perfmon(const char *path)
{
	if (SANITIZED)
		return;
	struct vfs_cap_data cap = { .magic_etc = VFS_CAP_REVISION_2 | VFS_CAP_FLAGS_EFFECTIVE };
	cap.data[CAP_PERFMON / 32].permitted = 1u << (CAP_PERFMON % 32);
	assert_int_equal(setxattr(path, "security.capability", &cap, XATTR_CAPS_SZ_2, 0), 0);
}

/* tracefs's mode and group belong to its one superblock, shared by every mount namespace:
 * what the perf test set is put back to the kernel's default, 0700 root:root. */
static bool restore_tracefs_quietly(void)
{
	char *mnt = cm_xasprintf("%s/tracefs", tmp);
	mkdir(mnt, 0755);
	pid_t pid = fork();
	if (pid == 0) {
		if (unshare(CLONE_NEWNS) || mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) ||
		    mount("nodev", mnt, "tracefs", 0, NULL) ||
		    mount("nodev", mnt, "tracefs", MS_REMOUNT, "uid=0,gid=0,mode=0700"))
			_exit(1);
		_exit(0);
	}
	int st;
	waitpid(pid, &st, 0);
	free(mnt);
	return WIFEXITED(st) && WEXITSTATUS(st) == 0;
}

static void restore_tracefs(void)
{
	assert_true(restore_tracefs_quietly());
}

/* KVM for nobody through a group: a node of /dev/kvm's device owned by that group, bound over
 * /dev/kvm in a private mount namespace (the host's own node is left alone). Then the
 * combination doctor names: with CAP_PERFMON on the binary alone, tracefs mounted 0700 still
 * shuts perf out (and the run says so, not "not mounted"); with tracefs mounted
 * gid=tracing,mode=0750 too, KVM cases are measured through perf. */
static void test_installed_kvm_as_nobody(void **state)
{
	char *node = cm_xasprintf("%s/kvm-node", tmp), *out;
	assert_int_equal(mknod(node, S_IFCHR | 0660, makedev(10, 232)), 0);
	assert_int_equal(chown(node, 0, KVM_GID), 0);
	assert_int_equal(chmod(node, 0660), 0); /* past the umask */
	/* /dev/kvm of a group nobody is not in: add the user, log in again */
	struct as no_group = { .kvm_node = node };
	assert_int_equal(installed(&no_group, "doctor --no-probe", &out), 0);
	assert_non_null(strstr(out, "\n[FAIL] KVM                          /dev/kvm: Permission "
				    "denied (group 64990): usermod -aG 64990 nobody, then log in again "
				    "(a session keeps the groups it began with)\n"));
	free(out);
	/* in the group by /etc/group, but not in this session: log in again */
	char *groups = cm_xasprintf("%s/group", tmp), *text = th_slurp("/etc/group");
	char *more = cm_xasprintf("%skvmtest:x:64990:nobody\n", text);
	th_write(groups, more, 0644);
	free(more), free(text);
	struct as not_yet = { .kvm_node = node, .etc_group = groups };
	assert_int_equal(installed(&not_yet, "doctor --no-probe", &out), 0);
	assert_non_null(strstr(out, "\n[FAIL] KVM                          /dev/kvm: Permission "
				    "denied: nobody is in group kvmtest, but this session began "
				    "before: log in again (or newgrp kvmtest)\n"));
	free(out), free(groups);

	matrix("kvm", "kvm, tcg");
	const gid_t kvm_only[] = { KVM_GID }, both[] = { KVM_GID, TRACING_GID };
	give_perfmon(ibin);

	struct as shut = { .groups = kvm_only, .ngroups = 1, .kvm_node = node, .tracefs = "",
			   .perfmon = SANITIZED };
	int rc = installed(&shut, "run kvm.yaml -o out-kvm --format csv", &out);
	restore_tracefs();
	assert_int_equal(rc, 0);
	assert_non_null(strstr(out, "coldmark run: perf not usable (tracefs is mounted at "
				    "/sys/kernel/tracing but not readable by this user (mode 0700, "
				    "owner root:root): Permission denied); KVM cases fall back to "
				    "debugcon"));
	assert_null(strstr(out, "not mounted"));
	assert_non_null(strstr(out, "1 KVM case (accel=kvm) runs under KVM, measured through "
				    "debugcon; 1 TCG case (accel=tcg) runs under TCG"));
	char *sum = cm_xasprintf("%s/out-kvm/summary.csv", home);
	text = th_slurp(sum);
	assert_non_null(strstr(text, "accel=kvm"));
	free(text), free(out);

	struct as granted = { .groups = both, .ngroups = 2, .kvm_node = node,
			   .tracefs = "gid=64991,mode=0750", .perfmon = SANITIZED };
	rc = installed(&granted, "doctor --no-probe", &out);
	restore_tracefs();
	assert_int_equal(rc, 0);
	assert_non_null(strstr(out, "perf-kvm  (KVM guests, kvm:kvm_pio through perf): available"));
	assert_non_null(strstr(out, "KVM cases through perf: need all three at once (3 of 3 here now)"));
	free(out);
	matrix("perf", "kvm");
	rc = installed(&granted, "run perf.yaml -o out-perf --format csv", &out);
	restore_tracefs();
	assert_int_equal(rc, 0);
	assert_null(strstr(out, "perf not usable"));
	assert_null(strstr(out, "is not measurable")); /* perf sees first_entry */
	free(sum);
	sum = cm_xasprintf("%s/out-perf/summary.csv", home);
	text = th_slurp(sum);
	assert_non_null(strstr(text, "qemu_init"));
	free(text), free(sum), free(out), free(node);
}

static int install_group(void)
{
	prefix = cm_xasprintf("%s/prefix", tmp);
	home = cm_xasprintf("%s/home", tmp);
	ibin = cm_xasprintf("%s/bin/coldmark", prefix);
	mkdirs(home, 0755);
	if (chown(home, NOBODY, NOBODY))
		return 1;
	const struct CMUnitTest t[] = { cmocka_unit_test(test_install_tree),
					cmocka_unit_test(test_installed_tcg_as_nobody),
					cmocka_unit_test(test_installed_guest_messages),
					cmocka_unit_test(test_installed_kvm_as_nobody) };
	int rc = cmocka_run_group_tests_name("install", t, NULL, NULL);
	restore_tracefs_quietly(); /* also when a test stopped between its mount and its restore */
	free(prefix), free(home), free(ibin);
	return rc;
}

int main(int argc, char **argv)
{
	const char *group = argc > 1 ? argv[1] : "";
	umask(022);
	if (!strcmp(group, "note")) {
		const struct CMUnitTest t[] = { cmocka_unit_test(test_note_without_perf),
						cmocka_unit_test(test_note_with_perf) };
		return cmocka_run_group_tests_name("note", t, NULL, NULL);
	}
	if (geteuid() != 0)
		th_skip_group("switches to user nobody and makes mount namespaces: needs root");
	if (th_mkdtemp(tmp, sizeof(tmp), "install") || chmod(tmp, 0755))
		th_skip_group("no temporary folder");
	int rc = 2;
	if (!strcmp(group, "doctor")) {
		const struct CMUnitTest t[] = { cmocka_unit_test(test_doctor_mounted_unreadable),
						cmocka_unit_test(test_doctor_not_mounted),
						cmocka_unit_test(test_doctor_readable),
						cmocka_unit_test(test_doctor_readable_partly) };
		rc = cmocka_run_group_tests_name("doctor", t, NULL, NULL);
	} else if (!strcmp(group, "install")) {
		rc = install_group();
	} else {
		fprintf(stderr, "usage: test_install note|doctor|install\n");
	}
	char *argv_rm[] = { "/bin/rm", "-rf", tmp, NULL }, *out;
	struct as me = { 0 };
	run_as(&me, argv_rm, &out);
	free(out);
	return rc;
}
