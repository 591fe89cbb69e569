/* What test_e2e's themed files share (e2e.h): the group's folder, coldmark run, sh. */
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

char tmp[256];
int stop_signal = SIGINT;

int run(char *const argv[], const char *out_path, int sigint_after_ms)
{
	return th_run_signal(argv, out_path, stop_signal, sigint_after_ms);
}

/* ---- coldmark run ---------------------------------------------------------------------------- */

const char *matrix_head = "guest: {bundled: %s}\n"
				 "base_args: [-machine, pc, -display, none, -nodefaults, -no-reboot]\n"
				 "axes: {accel: [%s]}\n"
				 "phases:\n"
				 "  - {name: firmware, from: exec, to: real_mode}\n"
				 "  - {name: mode_switch, from: real_mode, to: long_mode}\n"
				 "  - {name: work, from: long_mode, to: work_done}\n"
				 "%s"
				 "run: {boots: %d, warmup: %d, timeout: %s}\n";

/* The measured boots (not warm-up, not the reference's) in a samples.csv's text: their
 * total rows. */
static size_t measured_boots(char *text)
{
	size_t n = 0;
	for (char *line = strtok(text, "\n"); line; line = strtok(NULL, "\n")) {
		char kase[512], phase[64], status[64];
		int boot, warmup, k = 0;
		double d;
		if (*line == '"') /* a quoted case id: its commas are its own */
			sscanf(line, "\"%511[^\"]\"%n", kase, &k);
		else
			sscanf(line, "%511[^,]%n", kase, &k);
		if (k && sscanf(line + k, ",%d,%63[^,],%63[^,],%lf,%d", &boot, status, phase, &d,
				&warmup) == 5)
			n += !strcmp(phase, "total") && !warmup && !cm_is_reference_case(kase);
	}
	return n;
}

/* Has the run in outdir reached the moment? */
static bool reached(const char *outdir, enum e2e_moment at)
{
	char *p = cm_xasprintf("%s/%s", outdir, at == AT_BOOT ? "logs" : "samples.csv");
	bool yes = false;
	if (at == AT_BOOT) { /* a boot's log: made as its qemu is launched */
		DIR *d = opendir(p);
		for (struct dirent *e; d && !yes && (e = readdir(d));)
			yes = strstr(e->d_name, ".log") != NULL;
		if (d)
			closedir(d);
	} else if (th_exists(p)) { /* a measured boot's rows, or two boots' */
		char *text = th_slurp(p);
		yes = measured_boots(text) >= (at == AT_RECORDED ? 1u : 2u);
		free(text);
	}
	free(p);
	return yes;
}

/* coldmark run, sent stop_signal sigint_ms after its start or (at) once it reaches a moment */
static int coldmark_run(const char *matrix, const char *outdir, const char *extra, int sigint_ms,
			int at, char **output)
{
	static int nruns;
	/* in tmp, not beside outdir: outdir's parents may not exist yet */
	char *out = cm_xasprintf("%s/run-%d.out", tmp, ++nruns);
	char *argv[12] = { COLDMARK_BIN, "run", (char *)matrix, "-o", (char *)outdir };
	int k = 5;
	char *copy = extra ? strdup(extra) : NULL, *save;
	for (char *t = copy ? strtok_r(copy, " ", &save) : NULL; t && k < 11; t = strtok_r(NULL, " ", &save))
		argv[k++] = t;
	argv[k] = NULL;
	int rc;
	if (at < 0) {
		rc = run(argv, out, sigint_ms);
	} else {
		pid_t pid = th_start(argv, out);
		int st;
		bool there = false;
		/* no bound of its own: ctest's TIMEOUT ends a run that never gets there */
		while (!(there = reached(outdir, (enum e2e_moment)at)) && !waitpid(pid, &st, WNOHANG))
			usleep(2000);
		if (there) {
			kill(pid, stop_signal);
			rc = th_finish(pid);
		} else { /* it ended before: its own status, which the caller's check refuses */
			rc = WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
			fprintf(stderr, "coldmark ended (%d) before the moment a signal was for\n", rc);
		}
	}
	*output = th_slurp(out);
	free(copy);
	free(out);
	return rc;
}

int coldmark(const char *matrix, const char *outdir, const char *extra, int sigint_ms,
	     char **output)
{
	return coldmark_run(matrix, outdir, extra, sigint_ms, -1, output);
}

int coldmark_at(const char *matrix, const char *outdir, const char *extra, enum e2e_moment at,
		char **output)
{
	return coldmark_run(matrix, outdir, extra, 0, (int)at, output);
}

char *head_matrix(const char *name, const char *guest, const char *accel, const char *phases,
		  int boots, int warmup, const char *timeout)
{
	char *body = cm_xasprintf(matrix_head, guest, accel, phases, boots, warmup, timeout);
	char *path = th_write_matrix(tmp, name, body);
	free(body);
	return path;
}

/* A run that should have succeeded: when it did not, say everything it said, and every kept
 * boot log (they name qemu's own complaint), before failing. */
void expect_ok(int rc, const char *out, const char *outdir)
{
	if (rc == 0)
		return;
	fprintf(stderr, "coldmark exited %d:\n%s", rc, out);
	char *logs = cm_xasprintf("%s/logs", outdir);
	DIR *d = opendir(logs);
	for (struct dirent *e; d && (e = readdir(d));) {
		if (e->d_name[0] == '.')
			continue;
		char *p = cm_xasprintf("%s/%s", logs, e->d_name), *text = th_slurp(p);
		fprintf(stderr, "--- %s:\n%.2000s\n", p, text);
		free(text), free(p);
	}
	if (d)
		closedir(d);
	free(logs);
	fail_msg("coldmark run exited %d", rc);
}

void load_samples(const char *outdir, struct cm_dataset *ds)
{
	char *p = cm_xasprintf("%s/samples.csv", outdir);
	struct cm_diags d = { 0 };
	int rc = cm_samples_read(p, ds, &d);
	cm_diags_print(&d, stderr);
	assert_int_equal(rc, 0);
	cm_diags_clear(&d);
	free(p);
}

int sh(const char *cmd, char **output)
{
	char *out = cm_xasprintf("%s/doctor.out", tmp);
	char *argv[] = { "/bin/sh", "-c", (char *)cmd, NULL };
	int rc = run(argv, out, 0);
	*output = th_slurp(out);
	free(out);
	return rc;
}

/* Runs cmd and returns what it said; when it exits otherwise than want, prints the command,
 * its status and its output (an exit status alone, "0x1 != 0", names no cause), and fails. */
char *sh_expect(const char *cmd, int want)
{
	char *out;
	int rc = sh(cmd, &out);
	if (rc != want) {
		printf("command: %s\nexited %d (expected %d), saying:\n%s\n", cmd, rc, want, out);
		fail_msg("the command exited %d", rc);
	}
	return out;
}

/* Why this process cannot make a private mount namespace (a chroot, a container without
 * CAP_SYS_ADMIN), with the errno; NULL when it can. Tried in a child, which stays outside. */
char *mntns_error(void)
{
	int p[2];
	if (pipe(p))
		return cm_xasprintf("pipe: %s (errno %d)", strerror(errno), errno);
	pid_t pid = fork();
	if (pid == 0) {
		const char *step = "unshare(CLONE_NEWNS)";
		int err = 0;
		if (unshare(CLONE_NEWNS))
			err = errno;
		else if (mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL))
			err = errno, step = "mount(/, MS_REC | MS_PRIVATE)";
		if (err)
			dprintf(p[1], "%s: %s (errno %d)", step, strerror(err), err);
		_exit(0);
	}
	close(p[1]);
	char why[256] = "";
	ssize_t n = read(p[0], why, sizeof(why) - 1);
	close(p[0]);
	waitpid(pid, NULL, 0);
	return n > 0 ? (why[n] = 0, cm_xstrdup(why)) : NULL;
}

int cm(const char *args, char **out)
{
	char *cmd = cm_xasprintf("cd %s && " COLDMARK_BIN " %s", tmp, args);
	int rc = sh(cmd, out);
	free(cmd);
	return rc;
}

