/* coldmark host check | tune | reset on a fake host: a sysroot of /sys and /proc files
 * (COLDMARK_SYSROOT) laid out like a noisy machine, so every check, every change and its exact
 * restoration is tested without touching this one. The hooks are honoured for writing only
 * when the caller is not root, so tune and reset run as the real coldmark binary under uid
 * 65534 when the tests run as root (and as the test's own user otherwise). */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <grp.h>
#include <signal.h>
#include <time.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "coldmark/host.h"
#include "helpers.h"

static char base[64], root[128], state[128];

static void put(const char *path, const char *text)
{
	char *p = cm_xasprintf("%s%s", root, path), *dir = cm_xstrdup(p);
	*strrchr(dir, '/') = 0;
	assert_int_equal(cm_mkdirs(dir), 0);
	FILE *f = fopen(p, "w");
	assert_non_null(f);
	fputs(text, f);
	fclose(f);
	free(dir), free(p);
}

static char *got(const char *path)
{
	char *p = cm_xasprintf("%s%s", root, path);
	size_t len;
	char *t = cm_read_file(p, &len);
	free(p);
	return t;
}

/* A two-CPU host with every knob in the noisy position. */
static void noisy_host(void)
{
	put("/sys/devices/system/cpu/online", "0-1\n");
	for (int c = 0; c < 2; c++) {
		char base[128];
		snprintf(base, sizeof(base), "/sys/devices/system/cpu/cpu%d/cpufreq/", c);
		const char *files[][2] = { { "scaling_governor", "powersave\n" },
					   { "scaling_min_freq", "800000\n" },
					   { "scaling_max_freq", "3000000\n" },
					   { "cpuinfo_max_freq", "3000000\n" },
					   { "scaling_cur_freq", c ? "2800000\n" : "3000000\n" } };
		for (int i = 0; i < 5; i++) {
			char *p = cm_xasprintf("%s%s", base, files[i][0]);
			put(p, files[i][1]);
			free(p);
		}
		snprintf(base, sizeof(base), "/sys/devices/system/cpu/cpu%d/thermal_throttle/core_throttle_count", c);
		put(base, "4\n");
	}
	put("/sys/devices/system/cpu/intel_pstate/no_turbo", "0\n");
	put("/sys/devices/system/cpu/smt/control", "on\n");
	put("/sys/kernel/mm/transparent_hugepage/enabled", "[always] madvise never\n");
	put("/proc/cmdline", "quiet splash\n");
	put("/proc/sys/kernel/randomize_va_space", "2\n");
	put("/proc/sys/kernel/perf_event_max_sample_rate", "5000\n");
	put("/proc/swaps", "Filename Type Size Used Priority\n/dev/sda2 partition 1000 0 -2\n");
	put("/proc/sys/vm/swappiness", "60\n");
	put("/proc/irq/5/smp_affinity_list", "0-1\n");
	put("/proc/irq/9/smp_affinity_list", "0\n");
}

/* ---- the tester: the real binary, as a user that is not root ------------------------------- */

#define TESTER 65534 /* nobody */

static int chown_one(const char *p, const struct stat *sb, int flag, struct FTW *ftw)
{
	(void)sb, (void)flag, (void)ftw;
	return lchown(p, TESTER, TESTER);
}

/* The fake host and state folder belong to the tester (when the tests run as root). */
static void give_away(void)
{
	if (geteuid() == 0)
		assert_int_equal(nftw(base, chown_one, 16, FTW_PHYS), 0);
}

/* In a child: become the tester. COLDMARK_TEST_HOST_AS_ROOT keeps root, only to check these
 * tests against a coldmark from before the hooks were refused for root (which refused every
 * caller but root); the current one refuses it, as test_hooks_refused_for_root wants. */
static void become_tester(void)
{
	if (geteuid() == 0 && !getenv("COLDMARK_TEST_HOST_AS_ROOT") &&
	    (setgroups(0, NULL) || setgid(TESTER) || setuid(TESTER)))
		_exit(125);
}

/* Starts coldmark with args (NULL-terminated), as the tester unless as_root; its stdout and
 * stderr go to base/out.txt. */
static pid_t spawn_cm(bool as_root, const char *const *args)
{
	pid_t pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		if (!as_root)
			become_tester();
		char *out = cm_xasprintf("%s/out.txt", base);
		int fd = open(out, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
		if (fd < 0 || dup2(fd, 1) < 0 || dup2(fd, 2) < 0)
			_exit(126);
		char *argv[16] = { "coldmark" };
		for (size_t i = 0; args[i] && i < 14; i++)
			argv[i + 1] = (char *)args[i];
		execv(COLDMARK_BIN, argv);
		_exit(127);
	}
	return pid;
}

#define CM(as_root, ...) th_finish(spawn_cm(as_root, (const char *const[]){ __VA_ARGS__, NULL }))

/* What the last coldmark said. */
static char *said(void)
{
	char *p = cm_xasprintf("%s/out.txt", base);
	size_t len;
	char *t = cm_read_file(p, &len);
	free(p);
	assert_non_null(t);
	return t;
}

static void assert_said(const char *what)
{
	char *t = said();
	if (!strstr(t, what))
		fail_msg("coldmark said:\n%s\nnot: %s", t, what);
	free(t);
}

/* ---- every file of the fake host, to compare byte for byte ------------------------------------ */

struct snapshot {
	size_t n;
	char *path[64], *text[64];
	size_t len[64];
};
static struct snapshot *snap_into;

static int snap_one(const char *p, const struct stat *sb, int flag, struct FTW *ftw)
{
	(void)sb, (void)ftw;
	struct snapshot *s = snap_into;
	if (flag != FTW_F || s->n == 64)
		return 0;
	s->path[s->n] = cm_xstrdup(p);
	s->text[s->n] = cm_read_file(p, &s->len[s->n]);
	s->n++;
	return 0;
}

static void snapshot(struct snapshot *s)
{
	memset(s, 0, sizeof(*s));
	snap_into = s;
	assert_int_equal(nftw(root, snap_one, 16, FTW_PHYS), 0);
}

static void snapshot_free(struct snapshot *s)
{
	for (size_t i = 0; i < s->n; i++)
		free(s->path[i]), free(s->text[i]);
}

/* Every file as it was, byte for byte. The one exception is a choice among brackets, which
 * the kernel reads as "[always] madvise never" and takes back as "always": the fake file gets
 * what was written, so there the chosen word is compared. */
static void assert_same(const struct snapshot *was, const char *when)
{
	struct snapshot now;
	snapshot(&now);
	assert_int_equal(now.n, was->n);
	for (size_t i = 0; i < was->n; i++) {
		assert_string_equal(now.path[i], was->path[i]);
		const char *a = was->text[i], *b = now.text[i], *br = strchr(a, '[');
		if (now.len[i] == was->len[i] && !memcmp(a, b, was->len[i]))
			continue;
		if (br) {
			size_t k = strcspn(br + 1, "]");
			if (strncmp(b, br + 1, k) || strcmp(b + k, "\n"))
				fail_msg("%s: %s reads '%s', not the choice of '%s'", when, now.path[i], b, a);
		} else if (now.len[i] != was->len[i] || memcmp(a, b, was->len[i])) {
			fail_msg("%s: %s reads '%s', was '%s'", when, now.path[i], b, a);
		}
	}
	snapshot_free(&now);
}

static void no_state(void)
{
	char *p = cm_xasprintf("%s/host-tune.state", state);
	unlink(p);
	free(p);
}

/* A state file as the tester would leave it (owner and mode given where not). */
static void write_state(const char *text, mode_t mode, uid_t owner)
{
	char *p = cm_xasprintf("%s/host-tune.state", state);
	assert_int_equal(cm_mkdirs(state), 0);
	unlink(p);
	int fd = open(p, O_WRONLY | O_CREAT | O_EXCL, 0600);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, text, strlen(text)), (ssize_t)strlen(text));
	assert_int_equal(fchmod(fd, mode), 0);
	give_away(); /* the folder too: reset removes the file */
	if (geteuid() == 0)
		assert_int_equal(fchown(fd, owner, owner), 0);
	close(fd);
	free(p);
}

static int setup(void **st)
{
	(void)st;
	assert_int_equal(th_mkdtemp(base, sizeof(base), "host"), 0);
	snprintf(root, sizeof(root), "%s/root", base); /* the sysroot: its parent is outside */
	snprintf(state, sizeof(state), "%s/state", base);
	setenv("COLDMARK_SYSROOT", root, 1);
	setenv("COLDMARK_STATE_DIR", state, 1);
	noisy_host();
	give_away();
	return 0;
}

static int teardown(void **st)
{
	(void)st;
	int rc = th_rm_rf(base);
	unsetenv("COLDMARK_SYSROOT");
	unsetenv("COLDMARK_STATE_DIR");
	return rc;
}

static const struct cm_host_item *item(const struct cm_host_item *it, size_t n, const char *name)
{
	for (size_t i = 0; i < n; i++)
		if (!strcmp(it[i].name, name))
			return &it[i];
	fail_msg("no check '%s'", name);
	return NULL;
}

static void test_check(void **st)
{
	(void)st;
	struct cm_host_item it[CM_HOST_MAX_ITEMS];
	size_t n = cm_host_check("1", it, CM_HOST_MAX_ITEMS);
	const char *warn[] = { "cpufreq governor", "frequency limits", "turbo/boost", "SMT",
			       "isolated CPUs", "transparent hugepages", "perf sample rate", "swap",
			       "interrupt affinity" };
	for (size_t i = 0; i < sizeof(warn) / sizeof(warn[0]); i++)
		assert_int_equal(item(it, n, warn[i])->verdict, CM_HOST_WARN);
	assert_int_equal(item(it, n, "ASLR")->verdict, CM_HOST_OK);
	assert_non_null(strstr(item(it, n, "cpufreq governor")->value, "others: powersave"));
	assert_non_null(strstr(item(it, n, "transparent hugepages")->value, "always"));
	assert_non_null(strstr(item(it, n, "interrupt affinity")->value, "1 of 2 interrupts"));
	assert_non_null(strstr(item(it, n, "isolated CPUs")->fix, "isolcpus=1"));
	assert_false(cm_host_tuned(NULL, 0));
}

static void test_tune_and_reset(void **st)
{
	(void)st;
	struct snapshot was;
	snapshot(&was);
	assert_int_equal(CM(false, "host", "tune", "--cpus", "1"), 0);
	/* the measuring CPU's governor and min freq, turbo, THP, perf rate, swappiness, one
	 * interrupt; CPU 0 is not measured on and keeps its governor */
	assert_said("tuned: 7 settings changed");
	assert_true(cm_host_tuned(NULL, 0));
	char *v = got("/sys/devices/system/cpu/cpu1/cpufreq/scaling_governor");
	assert_string_equal(v, "performance");
	free(v);
	v = got("/sys/devices/system/cpu/cpu0/cpufreq/scaling_governor");
	assert_string_equal(v, "powersave\n");
	free(v);
	v = got("/proc/irq/5/smp_affinity_list");
	assert_string_equal(v, "0"); /* off the measuring CPU */
	free(v);
	v = got("/proc/irq/9/smp_affinity_list");
	assert_string_equal(v, "0\n"); /* never on it: untouched */
	free(v);
	/* what tune fixes now checks out */
	struct cm_host_item it[CM_HOST_MAX_ITEMS];
	size_t n = cm_host_check("1", it, CM_HOST_MAX_ITEMS);
	const char *ok[] = { "cpufreq governor", "frequency limits", "turbo/boost",
			     "transparent hugepages", "perf sample rate", "swap", "interrupt affinity" };
	for (size_t i = 0; i < sizeof(ok) / sizeof(ok[0]); i++)
		assert_int_equal(item(it, n, ok[i])->verdict, CM_HOST_OK);
	/* a second tune would save tuned values as the prior ones: refused */
	assert_int_equal(CM(false, "host", "tune", "--cpus", "1"), 3);
	assert_said("tuned already");
	assert_int_equal(CM(false, "host", "reset"), 0);
	assert_said("restored 7 settings");
	assert_false(cm_host_tuned(NULL, 0));
	assert_same(&was, "after reset"); /* byte for byte, trailing newlines too */
	assert_int_equal(CM(false, "host", "reset"), 3);
	assert_said("not tuned");
	snapshot_free(&was);
}

/* Without root both refuse, and say why. */
static void test_needs_root(void **st)
{
	(void)st;
	if (geteuid() != 0)
		skip();
	pid_t pid = fork();
	if (pid == 0) {
		unsetenv("COLDMARK_SYSROOT"); /* with them, it tunes the fake host it owns */
		unsetenv("COLDMARK_STATE_DIR");
		if (setgroups(0, NULL) || setgid(TESTER) || setuid(TESTER))
			_exit(3);
		struct cm_host_item it[CM_HOST_MAX_ITEMS];
		size_t n, changed, restored;
		struct cm_error err = { 0 };
		int a = cm_host_tune(NULL, it, CM_HOST_MAX_ITEMS, &n, &changed, &err);
		bool said = strstr(err.msg, "needs root") != NULL;
		int b = cm_host_reset(&restored, &err);
		_exit(a == -1 && b == -1 && said && strstr(err.msg, "needs root") ? 0 : 1);
	}
	int status;
	waitpid(pid, &status, 0);
	assert_true(WIFEXITED(status));
	assert_int_equal(WEXITSTATUS(status), 0);
}

static void test_clock_and_cpulists(void **st)
{
	(void)st;
	struct cm_clock c;
	cm_host_clock(NULL, &c);
	if (sysconf(_SC_NPROCESSORS_CONF) >= 2) {
		assert_true(c.khz > 2.89e6 && c.khz < 2.91e6); /* the mean of 3.0 and 2.8 GHz */
		assert_int_equal(c.throttled, 8);
	}
	cm_host_clock("1", &c);
	if (sysconf(_SC_NPROCESSORS_CONF) >= 2)
		assert_true(c.khz > 2.79e6 && c.khz < 2.81e6);
	cpu_set_t set;
	char out[64];
	assert_int_equal(cm_cpulist_parse("0-2,5,7-8", &set), 0);
	cm_cpulist_format(&set, out, sizeof(out));
	assert_string_equal(out, "0-2,5,7-8");
	assert_int_equal(cm_cpulist_parse("3-1", &set), -1);
	assert_int_equal(cm_cpulist_parse("a", &set), -1);
	assert_int_equal(cm_cpulist_parse("1;2", &set), -1);
	assert_int_equal(cm_cpulist_parse("", &set), -1); /* no CPU is no list */
}

/* ---- item 12: a tune stopped at any moment ---------------------------------------------------- */

static uint64_t rng;

static uint64_t next_rand(void)
{
	rng ^= rng << 13;
	rng ^= rng >> 7;
	rng ^= rng << 17;
	return rng;
}

/* Still running (not reaped: its status is for reap). */
static bool running(pid_t pid)
{
	siginfo_t si = { 0 };
	return !waitid(P_PID, (id_t)pid, &si, WEXITED | WNOHANG | WNOWAIT) && si.si_pid == 0;
}

/* The prior values in the state file (whole lines), or -1 when there is none. */
static int state_records(void)
{
	char *p = cm_xasprintf("%s/host-tune.state", state);
	size_t len;
	char *t = cm_read_file(p, &len);
	free(p);
	if (!t)
		return -1;
	int n = 0;
	for (char *l = t, *nl; (nl = strchr(l, '\n')); l = nl + 1)
		n += *l != '#';
	free(t);
	return n;
}

/* kill -9 (every fifth a SIGTERM) of the real coldmark host tune at 50 seeded random moments,
 * then host reset: every value comes back byte for byte each time, and reset finds a state
 * whenever anything had changed. */
static void test_tune_killed_at_random_moments(void **st)
{
	(void)st;
	const char *seed = getenv("COLDMARK_TEST_SEED");
	rng = seed && strtoull(seed, NULL, 10) ? strtoull(seed, NULL, 10) : 22;
	print_message("kill moments seeded with %llu (COLDMARK_TEST_SEED)\n", (unsigned long long)rng);
	struct snapshot was;
	snapshot(&was);
	/* an uninterrupted tune, watched: when its 7 prior values are all recorded, and its end */
	int64_t t0 = cm_now_ns(), writes = 0;
	pid_t pid = spawn_cm(false, (const char *const[]){ "host", "tune", "--cpus", "1", NULL });
	while (!writes && running(pid))
		if (state_records() == 7)
			writes = cm_now_ns() - t0;
	assert_int_equal(th_finish(pid), 0);
	int64_t whole = cm_now_ns() - t0;
	assert_true(writes > 0);
	print_message("a whole tune: %.1f ms, its 7 prior values recorded by %.1f ms\n",
		      (double)whole / 1e6, (double)writes / 1e6);
	assert_int_equal(CM(false, "host", "reset"), 0);
	assert_same(&was, "after an uninterrupted tune");
	size_t none = 0, empty = 0, some = 0, all = 0, ended = 0;
	for (int i = 0; i < 50; i++) {
		/* half of the moments from its start (anywhere in it, or in its first writes); the
		 * other half within 1 ms of its k-th prior value appearing in the state file (0: the
		 * file itself), where the settings change */
		int k = (int)(next_rand() % 8);
		uint64_t span = i % 2 == 0 ? 1000000 : i % 4 == 1 ? (uint64_t)whole : 2 * (uint64_t)writes;
		int64_t at = (int64_t)(next_rand() % span);
		int sig = i % 5 == 4 ? SIGTERM : SIGKILL;
		pid_t pid = spawn_cm(false, (const char *const[]){ "host", "tune", "--cpus", "1", NULL });
		while (i % 2 == 0 && state_records() < k && running(pid))
			;
		nanosleep(&(struct timespec){ at / 1000000000, at % 1000000000 }, NULL);
		kill(pid, sig);
		int rc = th_finish(pid), records = state_records();
		char when[128];
		snprintf(when, sizeof(when), "tune sent signal %d %.3f ms %s (exit %d, %d prior values "
			 "recorded)", sig, (double)at / 1e6, i % 2 ? "in" : "after a record", rc, records);
		int reset = CM(false, "host", "reset");
		if (records < 0 && reset != 3)
			fail_msg("%s: reset without a state exits %d", when, reset);
		else if (records >= 0 && reset != 0)
			fail_msg("%s: reset exits %d", when, reset);
		assert_same(&was, when);
		assert_false(cm_host_tuned(NULL, 0));
		if (rc == 0)
			ended++;
		else
			*(records < 0 ? &none : records == 0 ? &empty : records < 7 ? &some : &all) += 1;
	}
	print_message("50 stopped tunes: %zu before the state file, %zu before any change, %zu with "
		      "1-6 of the 7 prior values recorded, %zu with all 7, %zu after tune ended\n",
		      none, empty, some, all, ended);
	snapshot_free(&was);
}

/* ---- item 13: reset trusts the state file no further than it must -------------------------------- */

static void victim(const char *path)
{
	char *v = cm_read_file(path, &(size_t){ 0 });
	assert_non_null(v);
	if (strcmp(v, "precious\n"))
		fail_msg("%s was overwritten: '%s'", path, v);
	free(v);
}

static void test_reset_refuses_state(void **st)
{
	(void)st;
	char *outside = cm_xasprintf("%s/outside.txt", base), *linked = cm_xasprintf("%s/linked.txt", base);
	char *evil = cm_xasprintf("%s/evil", base), *evil_file = cm_xasprintf("%s/evil/smp_affinity_list", base);
	char *rate = cm_xasprintf("%s/proc/sys/kernel/perf_event_max_sample_rate", root);
	char *irq7 = cm_xasprintf("%s/proc/irq/7", root);
	put("/etc/victim.conf", "precious\n");
	assert_int_equal(cm_mkdirs(evil), 0);
	const char *victims[] = { outside, linked, evil_file };
	for (size_t i = 0; i < 3; i++) {
		FILE *f = fopen(victims[i], "w");
		assert_non_null(f);
		fputs("precious\n", f);
		fclose(f);
	}
	/* a setting that is a symbolic link, and a folder that is one */
	assert_int_equal(unlink(rate), 0);
	assert_int_equal(symlink(linked, rate), 0);
	assert_int_equal(symlink(evil, irq7), 0);
	give_away();
	struct snapshot was;
	snapshot(&was);
	struct cm_buf longer = { 0 };
	cm_buf_puts(&longer, "/proc/sys/vm/swappiness\t");
	for (int i = 0; i < 10000; i++)
		cm_buf_puts(&longer, "x");
	cm_buf_puts(&longer, "\n");
	const struct {
		const char *text, *said;
		mode_t mode;
		uid_t owner;
	} bad[] = {
		/* a good line first: a bad file restores nothing at all */
		{ "/proc/sys/vm/swappiness\t7\n/etc/victim.conf\towned\n",
		  "line 2 names /etc/victim.conf, not a file tune writes", 0600, TESTER },
		{ "/sys/../../outside.txt\towned\n", "names /sys/../../outside.txt, not a file tune writes",
		  0600, TESTER },
		{ "/proc/sys/kernel/perf_event_max_sample_rate\towned\n", "perf_event_max_sample_rate, a symbolic link", 0600,
		  TESTER },
		{ "/proc/irq/7/smp_affinity_list\towned\n", "leads out of /sys and /proc", 0600, TESTER },
		{ longer.s, "line 1 is 10025 bytes long", 0600, TESTER },
		{ "/proc/sys/vm/swappiness\t7\n", "mode 0644, not 0600", 0644, TESTER },
		{ "/proc/sys/vm/swappiness\t7\\q\n", "an escape tune does not write", 0600, TESTER },
		/* root's file is not the tester's (only a root test can make one; readable, or it could not tell) */
		{ "/proc/sys/vm/swappiness\t7\n", "owned by uid 0, not by the user running reset", 0644, 0 },
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		if (bad[i].owner == 0 && geteuid() != 0)
			continue;
		write_state(bad[i].text, bad[i].mode, bad[i].owner);
		int rc = CM(false, "host", "reset");
		if (rc != 2)
			fail_msg("case %zu: reset exits %d:\n%s", i, rc, said());
		assert_said(bad[i].said);
		assert_said("nothing restored");
		assert_same(&was, bad[i].said);
		for (size_t k = 0; k < 3; k++)
			victim(victims[k]);
		assert_true(cm_host_tuned(NULL, 0)); /* kept, to look at */
	}
	/* the state file itself a symbolic link, to a good one */
	char *other = cm_xasprintf("%s/other.state", base), *sp = cm_xasprintf("%s/host-tune.state", state);
	write_state("/proc/sys/vm/swappiness\t7\n", 0600, TESTER);
	assert_int_equal(rename(sp, other), 0);
	assert_int_equal(symlink(other, sp), 0);
	assert_int_equal(CM(false, "host", "reset"), 2);
	assert_said("a symbolic link (tune writes the file itself)");
	assert_same(&was, "a state file that is a link");
	unlink(sp);
	/* a long value within bounds is written whole, never cut */
	cm_buf_free(&longer);
	cm_buf_puts(&longer, "/proc/sys/vm/swappiness\t");
	for (int i = 0; i < 6000; i++)
		cm_buf_puts(&longer, "y");
	cm_buf_puts(&longer, "\n");
	write_state(longer.s, 0600, TESTER);
	assert_int_equal(CM(false, "host", "reset"), 0);
	char *v = got("/proc/sys/vm/swappiness");
	assert_int_equal(strlen(v), 6000);
	free(v);
	assert_false(cm_host_tuned(NULL, 0));
	cm_buf_free(&longer);
	snapshot_free(&was);
	free(outside), free(linked), free(evil), free(evil_file), free(rate), free(irq7), free(other), free(sp);
}

/* The hooks cannot redirect a root tune or reset: refused, and nothing written. */
static void test_hooks_refused_for_root(void **st)
{
	(void)st;
	if (geteuid() != 0)
		skip(); /* without root there is no root caller to refuse */
	struct snapshot was;
	snapshot(&was);
	assert_int_equal(CM(true, "host", "tune", "--cpus", "1"), 2);
	assert_said("COLDMARK_SYSROOT and COLDMARK_STATE_DIR are test hooks, never honoured for root");
	assert_same(&was, "a root tune with the hooks");
	assert_false(cm_host_tuned(NULL, 0));
	write_state("/proc/sys/vm/swappiness\t7\n", 0600, 0); /* even a state file root's own */
	assert_int_equal(CM(true, "host", "reset"), 2);
	assert_said("never honoured for root");
	assert_same(&was, "a root reset with the hooks");
	assert_true(cm_host_tuned(NULL, 0));
	/* one hook is enough; a CPU no host has, in case a coldmark honoured it */
	write_state("/sys/devices/system/cpu/cpu9999/cpufreq/scaling_governor\tx\n", 0600, 0);
	unsetenv("COLDMARK_SYSROOT");
	int rc = CM(true, "host", "reset");
	setenv("COLDMARK_SYSROOT", root, 1);
	assert_int_equal(rc, 2);
	assert_said("never honoured for root");
	no_state();
	snapshot_free(&was);
}

/* ---- item 16: CPU lists ---------------------------------------------------------------------- */

static void test_cpus_empty_and_offline(void **st)
{
	(void)st;
	cpu_set_t want, online;
	struct cm_error err = { 0 };
	assert_int_equal(CM(true, "host", "check", "--cpus", ""), 2);
	assert_said("--cpus is empty");
	assert_int_equal(cm_cpulist_check("", &want, &online, &err), -1);
	/* a host whose CPU 1 went offline */
	put("/sys/devices/system/cpu/online", "0,2-3\n");
	assert_int_equal(cm_cpulist_check("1", &want, &online, &err), -1);
	assert_non_null(strstr(err.msg, "names CPU 1, not online on this host (online: 0,2-3)"));
	assert_int_equal(cm_cpulist_check("2-3", &want, &online, &err), 0);
	assert_int_equal(CPU_COUNT(&online), 3);
	assert_int_equal(CM(true, "host", "check", "--cpus", "1"), 2);
	assert_said("names CPU 1, not online");
	assert_int_equal(CM(true, "host", "check", "--cpus", "3"), 1); /* checked, with warnings */
	/* run: refused before anything is made; a qemu that is not there is the check after the
	 * CPUs', so exit 3 says the list passed */
	char *m = cm_xasprintf("%s/m.yaml", base), *out = cm_xasprintf("%s/run", base);
	const char *yaml = "qemu: /nonexistent/qemu-system-x86_64\nguest:\n  bundled: guest\n"
			   "base_args: [-machine, pc, -display, none, -nodefaults, -no-reboot]\n"
			   "axes:\n  accel: [tcg]\nmarkers:\n  preset: coldmark-guest\nphases:\n"
			   "  - {name: work, from: long_mode, to: work_done}\nrun:\n  boots: 2\n"
			   "  warmup: 0\n%s";
	for (int k = 0; k < 2; k++) {
		FILE *f = fopen(m, "w");
		assert_non_null(f);
		fprintf(f, yaml, k ? "  cpus: \"\"\n" : "");
		fclose(f);
		int rc = k ? CM(true, "run", m, "-o", out) : CM(true, "run", m, "-o", out, "--cpus", "");
		assert_int_equal(rc, 2);
		assert_said("run.cpus is empty");
		assert_int_equal(access(out, F_OK), -1);
	}
	assert_int_equal(CM(true, "run", m, "-o", out, "--cpus", "1"), 2);
	assert_said("run.cpus '1' names CPU 1, not online on this host (online: 0,2-3)");
	assert_int_equal(CM(true, "run", m, "-o", out, "--cpus", "2"), 3);
	assert_said("cannot run the host's qemu");
	assert_int_equal(access(out, F_OK), -1);
	free(m), free(out);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_check, setup, teardown),
		cmocka_unit_test_setup_teardown(test_tune_and_reset, setup, teardown),
		cmocka_unit_test_setup_teardown(test_needs_root, setup, teardown),
		cmocka_unit_test_setup_teardown(test_clock_and_cpulists, setup, teardown),
		cmocka_unit_test_setup_teardown(test_tune_killed_at_random_moments, setup, teardown),
		cmocka_unit_test_setup_teardown(test_reset_refuses_state, setup, teardown),
		cmocka_unit_test_setup_teardown(test_hooks_refused_for_root, setup, teardown),
		cmocka_unit_test_setup_teardown(test_cpus_empty_and_offline, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
