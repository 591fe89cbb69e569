/* The project's scripts on a host that is not set up like this one.
 *
 * slurm-local: scripts/slurm-local.sh with a host name that does not resolve and without a
 * cgroup filesystem (each in a private UTS and mount namespace of its own: the host's name,
 * its mounts and any cluster on it are left alone) skips (77) in seconds with those words,
 * starting nothing; past its checks (SLURM_LOCAL_PREFLIGHT=0), the daemon that fails is named
 * with its own log, and the wait for the node is bounded; it stops what it started and
 * nothing else (processes named munged, slurmctld, slurmd and postgres that are not its own
 * survive), and PostgreSQL's tools do not complain of the caller's private working folder.
 * The runs that start daemons hold /tmp/coldmark-fleet.lock, as every fleet user does.
 *
 * skips: scripts/ctest-skips.sh names each test CTest skipped and why, from a real ctest
 * run's JUnit, and fails in CI when one that must run did not; test_e2e leaves no temp
 * folder behind.
 *
 * Usage: test_scripts slurm-local|skips */
#define _GNU_SOURCE
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/mount.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "coldmark/util.h"
#include "helpers.h"

#define SCRIPT SOURCE_DIR "/scripts/slurm-local.sh"
#define FLEET_LOCK "/tmp/coldmark-fleet.lock"
#define NS_FAILED 200 /* the child could not enter its namespaces: its output says why */
#define BOUND_S 30    /* issue 23: a skip in under 30 s (it took 11 minutes) */

static char tmp[256];

/* The private namespace a run of the script gets. */
struct ns {
	const char *hostname; /* a UTS namespace with this name; NULL: the host's */
	enum { CG_KEEP, CG_TMPFS, CG_UNMOUNTED } cgroup;
};

static double now_s(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

/* In the child: enter ns, or say why not and exit NS_FAILED. */
static void enter(const struct ns *ns)
{
	int flags = CLONE_NEWNS | (ns->hostname ? CLONE_NEWUTS : 0);
	if (unshare(flags)) {
		printf("unshare(CLONE_NEWNS%s): %s (errno %d)\n", ns->hostname ? "|CLONE_NEWUTS" : "",
		       strerror(errno), errno);
		_exit(NS_FAILED);
	}
	const char *step = "making / private";
	if (mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL))
		goto fail;
	step = "sethostname";
	if (ns->hostname && sethostname(ns->hostname, strlen(ns->hostname)))
		goto fail;
	step = "an empty tmpfs over /sys/fs/cgroup";
	if (ns->cgroup == CG_TMPFS && mount("none", "/sys/fs/cgroup", "tmpfs", 0, NULL))
		goto fail;
	step = "unmounting /sys/fs/cgroup";
	if (ns->cgroup == CG_UNMOUNTED && umount2("/sys/fs/cgroup", MNT_DETACH))
		goto fail;
	return;
fail:
	printf("%s: %s (errno %d)\n", step, strerror(errno), errno);
	_exit(NS_FAILED);
}

/* Runs argv (env: NAME=VALUE entries added, NULL-terminated, or NULL) in ns (or NULL) from cwd
 * (or here), its output into *output; returns its exit status and, in *secs, how long it
 * took. A run past 120 s is stopped (TERM, then KILL): the script's bound is far shorter. */
static int run_in(const struct ns *ns, char *const argv[], char *const env[], const char *cwd,
		  char **output, double *secs)
{
	static int nruns;
	char *out = cm_xasprintf("%s/run-%d.out", tmp, ++nruns);
	double t0 = now_s();
	fflush(stdout);
	pid_t pid = fork();
	if (pid == 0) {
		setpgid(0, 0);
		int fd = open(out, O_WRONLY | O_CREAT | O_TRUNC, 0644);
		dup2(fd, 1);
		dup2(fd, 2);
		if (ns)
			enter(ns);
		for (char *const *e = env; e && *e; e++)
			putenv(*e);
		if (cwd && chdir(cwd))
			_exit(126);
		execvp(argv[0], argv);
		_exit(127);
	}
	int st = 0;
	for (int waited_ms = 0; waitpid(pid, &st, WNOHANG) == 0; waited_ms += 50) {
		if (waited_ms == 120000)
			kill(-pid, SIGTERM);
		if (waited_ms == 130000)
			kill(-pid, SIGKILL);
		usleep(50000);
	}
	*secs = now_s() - t0;
	*output = th_slurp(out);
	free(out);
	int rc = WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
	printf("  [%s %s %s -> %d in %.1f s]\n", argv[0], argv[1] ? argv[1] : "",
	       argv[1] && argv[2] ? argv[2] : "", rc, *secs);
	return rc;
}

/* The script, as `slurm-local.sh start DIR` (the DIR is known, so is what it leaves). */
static int script_start(const struct ns *ns, char *const env[], const char *dir, char **output,
			double *secs)
{
	char *argv[] = { "bash", SCRIPT, "start", (char *)dir, NULL };
	return run_in(ns, argv, env, NULL, output, secs);
}

/* Live processes whose command line holds s (zombies, left for a parent that does not reap,
 * do not count); each is printed. */
static int processes_with(const char *s)
{
	int n = 0;
	DIR *d = opendir("/proc");
	for (struct dirent *e; d && (e = readdir(d));) {
		if (e->d_name[0] < '1' || e->d_name[0] > '9')
			continue;
		char *p = cm_xasprintf("/proc/%s/cmdline", e->d_name), *sp = cm_xasprintf("/proc/%s/stat", e->d_name);
		size_t len = 0, slen = 0;
		char *c = cm_read_file(p, &len), *st = cm_read_file(sp, &slen);
		for (size_t i = 0; c && i + 1 < len; i++) /* its arguments, 0-separated */
			if (!c[i])
				c[i] = ' ';
		if (c && st && strstr(c, s) && !strstr(st, ") Z ")) {
			printf("  still running: %s %s\n", e->d_name, c);
			n++;
		}
		free(c), free(st), free(p), free(sp);
	}
	if (d)
		closedir(d);
	return n;
}

/* The script gave up as it should: 77, in seconds, having started nothing or stopped all it
 * started, its folder gone; the words are checked by the caller. */
static void expect_skip(int rc, double secs, const char *out, const char *dir)
{
	if (rc != 77 || secs >= BOUND_S)
		printf("%s", out);
	assert_int_equal(rc, 77);
	assert_true(secs < BOUND_S);
	assert_int_equal(processes_with(dir), 0);
	assert_int_not_equal(access(dir, F_OK), 0);
}

static void expect_words(const char *out, const char *words)
{
	if (!strstr(out, words))
		printf("expected \"%s\" in:\n%s", words, out);
	assert_non_null(strstr(out, words));
}

/* The fleet lock, held until the process exits. Under `flock /tmp/coldmark-fleet.lock ctest`
 * we inherit an fd of that lock: locking it again returns at once (a new open of the file
 * would wait for ourselves). */
static void fleet_lock(void)
{
	static int fd = -1;
	if (fd >= 0)
		return;
	DIR *d = opendir("/proc/self/fd");
	for (struct dirent *e; d && (e = readdir(d));) {
		char link[300], target[256];
		snprintf(link, sizeof(link), "/proc/self/fd/%s", e->d_name);
		ssize_t n = readlink(link, target, sizeof(target) - 1);
		if (n > 0 && (target[n] = 0, !strcmp(target, FLEET_LOCK)))
			fd = atoi(e->d_name);
	}
	if (d)
		closedir(d);
	if (fd < 0)
		fd = open(FLEET_LOCK, O_RDONLY | O_CREAT | O_CLOEXEC, 0666);
	assert_true(fd >= 0);
	if (flock(fd, LOCK_EX | LOCK_NB)) {
		printf("  waiting for %s (another fleet runs)\n", FLEET_LOCK);
		fflush(stdout);
		assert_int_equal(flock(fd, LOCK_EX), 0);
	}
}

/* ---- before anything starts ------------------------------------------------------------------ */

static void test_host_unresolvable(void **state)
{
	char name[64], *out, *dir = cm_xasprintf("%s/fleet-nohost", tmp);
	snprintf(name, sizeof(name), "cm-nohost-%d", (int)getpid());
	struct ns ns = { name, CG_KEEP };
	double secs;
	int rc = script_start(&ns, NULL, dir, &out, &secs);
	expect_skip(rc, secs, out, dir);
	char *words = cm_xasprintf("the host name '%s' does not resolve (getent hosts %s", name, name);
	expect_words(out, words);
	expect_words(out, "/etc/hosts");
	free(words), free(out), free(dir);
}

static void test_cgroup_hidden(void **state)
{
	char *out, *dir = cm_xasprintf("%s/fleet-cgtmpfs", tmp);
	struct ns ns = { "localhost", CG_TMPFS }; /* a name that resolves: the check after it */
	double secs;
	int rc = script_start(&ns, NULL, dir, &out, &secs);
	expect_skip(rc, secs, out, dir);
	expect_words(out, "no cgroup filesystem mounted on /sys/fs/cgroup (a tmpfs without cgroup");
	free(out), free(dir);
}

static void test_cgroup_unmounted(void **state)
{
	char *out, *dir = cm_xasprintf("%s/fleet-nocg", tmp);
	struct ns ns = { "localhost", CG_UNMOUNTED };
	double secs;
	int rc = script_start(&ns, NULL, dir, &out, &secs);
	expect_skip(rc, secs, out, dir);
	expect_words(out, "no cgroup filesystem mounted on /sys/fs/cgroup (it is sysfs)");
	free(out), free(dir);
}

/* ---- past the checks: the daemons' own failures ------------------------------------------------ */

/* slurmd dies on the missing cgroup filesystem: its log says so, not slurmctld's. */
static void test_slurmd_log_shown(void **state)
{
	fleet_lock();
	char *out, *dir = cm_xasprintf("%s/fleet-slurmd", tmp);
	struct ns ns = { "localhost", CG_UNMOUNTED };
	char *env[] = { "SLURM_LOCAL_PREFLIGHT=0", NULL };
	double secs;
	int rc = script_start(&ns, env, dir, &out, &secs);
	expect_skip(rc, secs, out, dir);
	expect_words(out, "slurmd did not start");
	expect_words(out, "the end of slurmd's log");
	expect_words(out, "error: No filesystem mounted on /sys/fs/cgroup");
	free(out), free(dir);
}

/* A host name that does not resolve past the checks: each sinfo blocked ~10 s and the script
 * tried 60 times. Now the wait is bounded (8 s here) and the daemons' own words are shown
 * (Slurm retries the name for ~10 s before it writes "Unable to resolve": the retries'). */
static void test_node_wait_bounded(void **state)
{
	fleet_lock();
	char name[64], *out, *dir = cm_xasprintf("%s/fleet-wait", tmp);
	snprintf(name, sizeof(name), "cm-nohost-%d", (int)getpid());
	struct ns ns = { name, CG_KEEP };
	char *env[] = { "SLURM_LOCAL_PREFLIGHT=0", "SLURM_LOCAL_WAIT=8", NULL };
	double secs;
	int rc = script_start(&ns, env, dir, &out, &secs);
	expect_skip(rc, secs, out, dir);
	expect_words(out, "the node did not come up within 8 s");
	expect_words(out, "error: get_addr_info: getaddrinfo() failed: Name or service not known");
	free(out), free(dir);
}

/* ---- it stops what it started, and only that ------------------------------------------------- */

static pid_t decoy(const char *name)
{
	char *path = cm_xasprintf("%s/%s", tmp, name);
	assert_int_equal(symlink("/bin/sleep", path), 0); /* its comm: the name it is run by */
	pid_t pid = fork();
	if (pid == 0) {
		execl(path, name, "600", (char *)NULL);
		_exit(127);
	}
	free(path);
	return pid;
}

static bool alive(pid_t pid)
{
	char *p = cm_xasprintf("/proc/%d/stat", (int)pid), *st = th_slurp(p);
	bool yes = *st && !strstr(st, ") Z ");
	free(st), free(p);
	return yes;
}

static pid_t pid_in(const char *dir, const char *file)
{
	char *p = cm_xasprintf("%s/%s", dir, file), *s = th_slurp(p);
	pid_t pid = atoi(s);
	free(s), free(p);
	return pid;
}

/* Slurm's own port taken: the script's cluster takes others, and comes up. -1: it was not
 * free to take. */
static int hold_port(int port)
{
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_port = htons(port),
				 .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	if (bind(fd, (struct sockaddr *)&a, sizeof(a)) || listen(fd, 1)) {
		close(fd);
		return -1;
	}
	return fd;
}

static void test_own_processes_only(void **state)
{
	fleet_lock();
	static const char *const names[] = { "munged", "slurmctld", "slurmd", "postgres" };
	pid_t decoys[4];
	for (int i = 0; i < 4; i++)
		decoys[i] = decoy(names[i]);
	int port = hold_port(6817);
	/* called from a folder the postgres user cannot enter, as from root's home */
	char *priv = cm_xasprintf("%s/private", tmp), *dir = cm_xasprintf("%s/fleet-ok", tmp), *out;
	mkdir(priv, 0700);
	char *start[] = { "bash", SCRIPT, "start", dir, NULL };
	double secs;
	int rc = run_in(NULL, start, NULL, priv, &out, &secs);
	if (rc)
		printf("%s", out);
	if (rc == 77) { /* this host cannot run the cluster (the script said why): nor this test */
		for (int i = 0; i < 4; i++)
			kill(decoys[i], SIGKILL), waitpid(decoys[i], NULL, 0);
		if (port >= 0)
			close(port);
		printf("slurm-local.sh cannot start a cluster on this host (above): not run\n");
		skip();
	}
	assert_int_equal(rc, 0);
	assert_null(strstr(out, "could not change directory"));
	free(out);
	/* its own daemons, not the decoys */
	static const char *const pidfiles[] = { "munge/munged.pid", "slurm/slurmctld.pid",
						"slurm/slurmd.pid", "pg/data/postmaster.pid" };
	pid_t own[4];
	for (int i = 0; i < 4; i++) {
		own[i] = pid_in(dir, pidfiles[i]);
		assert_true(own[i] > 0 && alive(own[i]));
		assert_int_not_equal(own[i], decoys[i]);
	}
	if (port >= 0) {
		char *conf = cm_xasprintf("%s/slurm/slurm.conf", dir), *text = th_slurp(conf);
		assert_null(strstr(text, "SlurmctldPort=6817\n"));
		free(text), free(conf);
		close(port);
	}
	char *stop[] = { "bash", SCRIPT, "stop", dir, NULL };
	rc = run_in(NULL, stop, NULL, priv, &out, &secs);
	assert_int_equal(rc, 0);
	assert_null(strstr(out, "could not change directory"));
	for (int i = 0; i < 4; i++) {
		if (alive(own[i]) || !alive(decoys[i]))
			printf("%s: its own %d %s, the decoy %d %s\n", names[i], (int)own[i],
			       alive(own[i]) ? "alive" : "stopped", (int)decoys[i],
			       alive(decoys[i]) ? "alive" : "stopped");
		assert_false(alive(own[i]));
		assert_true(alive(decoys[i]));
		kill(decoys[i], SIGKILL);
		waitpid(decoys[i], NULL, 0);
	}
	assert_int_equal(processes_with(dir), 0);
	assert_int_not_equal(access(dir, F_OK), 0);
	free(out), free(dir), free(priv);
}

/* ---- scripts/ctest-skips.sh -------------------------------------------------------------------- */

static const char skip_project[] =
	"cmake_minimum_required(VERSION 3.21)\nproject(p NONE)\nenable_testing()\n"
	"add_test(NAME must-run COMMAND sh -c \"echo 'noise'; echo 'SKIP: no <widget> & co'; exit 77\")\n"
	"set_tests_properties(must-run PROPERTIES SKIP_RETURN_CODE 77)\n"
	"add_test(NAME partly COMMAND sh -c \"printf '[ RUN      ] test_a\\\\nneeds a widget: not run\\\\n"
	"[  SKIPPED ] test_a\\\\n[ RUN      ] test_b\\\\n[       OK ] test_b\\\\n"
	"[  SKIPPED ] 1 test(s), listed below:\\\\n[  SKIPPED ] test_a\\\\n'\")\n"
	"add_test(NAME fine COMMAND sh -c \"echo all good\")\n";

static void test_skips_listed(void **state)
{
	char *src = cm_xasprintf("%s/proj", tmp), *bin = cm_xasprintf("%s/proj/b", tmp), *out;
	char *lists = cm_xasprintf("%s/proj/CMakeLists.txt", tmp);
	char *junit = cm_xasprintf("%s/junit.xml", bin);
	mkdir(src, 0755);
	FILE *f = fopen(lists, "w");
	fputs(skip_project, f);
	fclose(f);
	double secs;
	char *configure[] = { "cmake", "-S", src, "-B", bin, NULL };
	assert_int_equal(run_in(NULL, configure, NULL, NULL, &out, &secs), 0);
	free(out);
	char *ctest[] = { "ctest", "--test-dir", bin, "--output-junit", junit, NULL };
	assert_int_equal(run_in(NULL, ctest, NULL, NULL, &out, &secs), 0); /* a skip "passes" */
	free(out);
	char *list[] = { "bash", SOURCE_DIR "/scripts/ctest-skips.sh", "--must-run", "other must-run",
			 "--expected", "partly", junit, NULL };
	char *not_ci[] = { "CI=false", NULL }, *ci[] = { "CI=true", NULL };
	assert_int_equal(run_in(NULL, list, not_ci, NULL, &out, &secs), 0);
	printf("%s", out);
	expect_words(out, "  must-run:\n      noise\n      SKIP: no <widget> & co\n");
	expect_words(out, "  partly / test_a (expected: the test checks this skip):\n"
			  "      needs a widget: not run\n");
	assert_null(strstr(out, "test_b"));
	assert_null(strstr(out, "fine"));
	assert_null(strstr(out, "must run here"));
	free(out);
	/* in CI, a test that must run here and skipped fails it */
	assert_int_equal(run_in(NULL, list, ci, NULL, &out, &secs), 1);
	expect_words(out, "must-run must run here (CI=true): this is a failure");
	free(out);
	/* no skip: said so */
	f = fopen(lists, "w");
	fputs("cmake_minimum_required(VERSION 3.21)\nproject(p NONE)\nenable_testing()\n"
	      "add_test(NAME fine COMMAND true)\n", f);
	fclose(f);
	assert_int_equal(run_in(NULL, configure, NULL, NULL, &out, &secs), 0);
	free(out);
	assert_int_equal(run_in(NULL, ctest, NULL, NULL, &out, &secs), 0);
	free(out);
	assert_int_equal(run_in(NULL, list, ci, NULL, &out, &secs), 0);
	expect_words(out, "skipped: none");
	free(out), free(junit), free(lists), free(bin), free(src);
}

/* ---- test_e2e's temp folders ----------------------------------------------------------------- */

/* How many /tmp/coldmark-e2e-GROUP-* folders there are. */
static int e2e_folders(const char *group)
{
	char *prefix = cm_xasprintf("coldmark-e2e-%s-", group);
	int n = 0;
	DIR *d = opendir("/tmp");
	for (struct dirent *e; d && (e = readdir(d));)
		n += !strncmp(e->d_name, prefix, strlen(prefix));
	if (d)
		closedir(d);
	free(prefix);
	return n;
}

/* Each run of test_e2e removed nothing: ~20 folders, 11 MB, per run of the suite. Now a group
 * that passes, skips or is not one leaves none. */
static void test_e2e_leaves_no_tmp(void **state)
{
	static const char *const groups[] = { "no-mntns", "no-such-group" };
	for (int i = 0; i < 2; i++) {
		int before = e2e_folders(groups[i]);
		char *argv[] = { TEST_E2E, (char *)groups[i], NULL }, *out;
		double secs;
		int rc = run_in(NULL, argv, NULL, NULL, &out, &secs);
		int after = e2e_folders(groups[i]);
		if ((rc != 0 && rc != 2 && rc != 77) || after != before) /* its cmocka lines only then */
			printf("%s", out);
		assert_true(rc == 0 || rc == 2 || rc == 77);
		assert_int_equal(after, before);
		free(out);
	}
}

int main(int argc, char **argv)
{
	const char *group = argc > 1 ? argv[1] : "";
	if (th_mkdtemp(tmp, sizeof(tmp), "scripts-%s", group))
		return 1;
	chmod(tmp, 0755); /* the script's munge and postgres users reach their folders in it */
	th_remove_at_exit(tmp); /* gone whatever happened */
	if (!strcmp(group, "slurm-local")) {
		if (geteuid() != 0)
			th_skip_group("the namespaces and Slurm's daemons need root");
		static const char *const need[] = { "/usr/sbin/slurmctld", "/usr/sbin/slurmd",
						    "/usr/sbin/munged", "/usr/lib/postgresql/15/bin/initdb" };
		for (size_t i = 0; i < 4; i++)
			if (access(need[i], X_OK)) {
				char *why = cm_xasprintf("no %s (scripts/setup-deps.sh installs it)", need[i]);
				th_skip_group(why);
			}
		/* can this host make the private namespaces at all (a chroot, some containers)? */
		char *probe[] = { "true", NULL }, *out;
		double secs;
		struct ns ns = { "cm-probe", CG_KEEP };
		if (run_in(&ns, probe, NULL, NULL, &out, &secs) == NS_FAILED)
			th_skip_group(out);
		free(out);
		const struct CMUnitTest t[] = {
			cmocka_unit_test(test_host_unresolvable),
			cmocka_unit_test(test_cgroup_hidden),
			cmocka_unit_test(test_cgroup_unmounted),
			cmocka_unit_test(test_slurmd_log_shown),
			cmocka_unit_test(test_node_wait_bounded),
			cmocka_unit_test(test_own_processes_only),
		};
		return cmocka_run_group_tests_name("slurm-local", t, NULL, NULL);
	}
	if (!strcmp(group, "skips")) {
		const struct CMUnitTest t[] = { cmocka_unit_test(test_skips_listed),
						cmocka_unit_test(test_e2e_leaves_no_tmp) };
		return cmocka_run_group_tests_name("skips", t, NULL, NULL);
	}
	fprintf(stderr, "usage: test_scripts slurm-local|skips\n");
	return 2;
}
