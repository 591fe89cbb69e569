/* End-to-end (test_e2e group robustness): nothing lost, nothing run that was not asked for
 * (README's promises): hostile file names, links planted in a run folder, kill -9 and SIGHUP,
 * a full disk, bad samples.csv files, a store that cannot be used. */
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

/* ---- nothing lost, nothing run that was not asked for (README's promises) ---------------------- */

static bool exists(const char *dir, const char *name)
{
	char *p = cm_xasprintf("%s/%s", dir, name);
	bool yes = th_exists(p);
	free(p);
	return yes;
}

/* File names a shell would run: a disk image and a qemu path made of quotes and $(...). */
void test_hostile_names(void **state)
{
	char *img = cm_xasprintf("%s/a';touch PWNED;'$(touch PWNED2).img", tmp);
	char *src = cm_xasprintf("%s/guest.img", GUEST_DIR), *data = NULL;
	size_t len = 0;
	data = cm_read_file(src, &len);
	assert_non_null(data);
	FILE *f = fopen(img, "w");
	fwrite(data, 1, len, f);
	fclose(f);
	char *qemu = cm_which("qemu-system-x86_64");
	char *q = cm_xasprintf("%s/q';touch PWNED3;'", tmp);
	assert_int_equal(symlink(qemu, q), 0);
	char body[4096];
	snprintf(body, sizeof(body),
		 "qemu: \"%s\"\nguest: {disk: \"%s\"}\n"
		 "base_args: [-machine, pc, -display, none, -nodefaults, -no-reboot,"
		 " -device, \"isa-debug-exit,iobase=0x501,iosize=2\"]\n"
		 "axes: {accel: [tcg]}\nrun: {boots: 1, warmup: 0, exit_status: 33, reference: none}\n",
		 q, img);
	char *m = th_write_matrix(tmp, "hostile", body);
	char *out, *dir = cm_xasprintf("%s/hostile", tmp);
	char *cmd = cm_xasprintf("run %s -o hostile --db hostile.db", m);
	int rc = cm(cmd, &out);
	expect_ok(rc, out, dir);
	free(out);
	char *doc = cm_xasprintf("doctor --no-probe --qemu \"%s\"", q);
	cm(doc, &out);
	free(out);
	assert_false(exists(tmp, "PWNED"));
	assert_false(exists(tmp, "PWNED2"));
	assert_false(exists(tmp, "PWNED3"));
	/* the hash was taken in process, of the file itself */
	char *mp = cm_xasprintf("%s/meta.csv", dir), *meta = th_slurp(mp);
	assert_non_null(strstr(meta, "disk sha256"));
	free(meta), free(mp), free(doc), free(cmd), free(dir), free(m), free(q), free(qemu);
	free(data), free(src), free(img);
}

/* Links planted in a run folder are never followed; an earlier run is not overwritten. */
void test_run_folder(void **state)
{
	char *out;
	char *m = head_matrix("folder", "guest", "tcg", "", 1, 0, "30s");
	char *victim = cm_xasprintf("%s/victim", tmp), *dir = cm_xasprintf("%s/planted", tmp);
	FILE *f = fopen(victim, "w");
	fputs("precious\n", f);
	fclose(f);
	static const char *const names[] = { "samples.csv", "meta.csv", "report.json.tmp", "logs" };
	for (size_t i = 0; i < 4; i++) {
		mkdir(dir, 0755);
		char *link = cm_xasprintf("%s/%s", dir, names[i]);
		assert_int_equal(symlink(i == 3 ? tmp : victim, link), 0);
		for (int force = 0; force < 2; force++) {
			assert_int_equal(coldmark(m, dir, force ? "--force" : NULL, 0, &out), 2);
			assert_non_null(strstr(out, "no coldmark run wrote (or a link)"));
			free(out);
		}
		char *v = th_slurp(victim);
		assert_string_equal(v, "precious\n");
		free(v);
		unlink(link);
		free(link);
	}
	/* a second run into the same folder is refused; --force replaces it */
	char *d2 = cm_xasprintf("%s/twice", tmp);
	assert_int_equal(coldmark(m, d2, NULL, 0, &out), 0);
	free(out);
	assert_int_equal(coldmark(m, d2, NULL, 0, &out), 2);
	assert_non_null(strstr(out, "holds a run already"));
	free(out);
	assert_int_equal(coldmark(m, d2, "--force", 0, &out), 0);
	free(out);
	struct cm_dataset ds;
	load_samples(d2, &ds);
	/* one boot: 3 phases, total and the 2 host-cost metrics, and the reference's total and
	 * metrics; not two runs' rows */
	assert_int_equal(ds.n, 4 + CM_NMETRICS + 1 + CM_NMETRICS);
	cm_dataset_free(&ds);
	/* a folder with files of its own is never written to, --force or not */
	f = fopen(victim, "w");
	fclose(f);
	assert_int_equal(coldmark(m, tmp, "--force", 0, &out), 2);
	free(out);
	free(d2), free(dir), free(victim), free(m);
}

/* qemu processes whose command line holds tag, still alive */
static int live_qemus(const char *tag)
{
	int n = 0;
	DIR *d = opendir("/proc");
	struct dirent *e;
	while ((e = readdir(d))) {
		if (e->d_name[0] < '0' || e->d_name[0] > '9')
			continue;
		char *p = cm_xasprintf("/proc/%s/cmdline", e->d_name);
		size_t len = 0;
		char *c = cm_read_file(p, &len);
		for (size_t i = 0; c && i + 1 < len; i++)
			if (!c[i])
				c[i] = ' ';
		char *sp = cm_xasprintf("/proc/%s/stat", e->d_name), *st = cm_read_file(sp, &len);
		bool zombie = st && strstr(st, ") Z ");
		n += c && strstr(c, tag) && strstr(c, "qemu-system") && !zombie;
		free(c), free(p), free(st), free(sp);
	}
	closedir(d);
	return n;
}

static void wait_no_qemu(const char *tag)
{
	for (int i = 0; i < 50 && live_qemus(tag); i++)
		usleep(100000);
	assert_int_equal(live_qemus(tag), 0);
}

/* kill -9 and SIGHUP while a guest hangs: qemu dies with coldmark, and the run resumes. */
void test_kill_and_hangup(void **state)
{
	char body[2048], *out, tag[64];
	snprintf(tag, sizeof(tag), "cmk9-%d", (int)getpid());
	snprintf(body, sizeof(body),
		 "guest: {bundled: guest-hang}\n"
		 "base_args: [-machine, pc, -display, none, -nodefaults, -no-reboot, -name, %s]\n"
		 "axes: {accel: [tcg]}\nrun: {boots: 1, warmup: 0, timeout: 3s, reference: none}\n", tag);
	char *m = th_write_matrix(tmp, "hang", body), *dir = cm_xasprintf("%s/k9", tmp);
	stop_signal = SIGKILL;
	assert_int_equal(coldmark_at(m, dir, NULL, AT_BOOT, &out), 128 + SIGKILL);
	free(out);
	wait_no_qemu(tag);
	/* the plan was on disk before the first boot: the run resumes to its planned count */
	char *extra = cm_xasprintf("--resume %s", dir);
	assert_int_equal(coldmark(m, tmp, extra, 0, &out), 1); /* the one boot times out */
	assert_non_null(strstr(out, "resuming run"));
	free(out);
	struct cm_dataset ds;
	load_samples(dir, &ds);
	assert_true(ds.n >= 1);
	for (size_t i = 0; i < ds.n; i++) { /* one boot, its phases, timed out */
		assert_int_equal(ds.rows[i].boot, 1);
		assert_string_equal(ds.rows[i].status, "timeout");
	}
	cm_dataset_free(&ds);
	/* a hang-up (a dropped ssh session) stops the run as SIGTERM does: reports, exit 130 */
	char *d2 = cm_xasprintf("%s/hup", tmp);
	stop_signal = SIGHUP;
	assert_int_equal(coldmark_at(m, d2, NULL, AT_BOOT, &out), 130);
	stop_signal = SIGINT;
	assert_non_null(strstr(out, "interrupted by signal 1"));
	assert_true(exists(d2, "summary.csv"));
	assert_true(exists(d2, "meta.csv"));
	free(out);
	wait_no_qemu(tag);
	free(d2), free(extra), free(dir), free(m);
}

/* A full disk: the run stops with exit 4, no partial row, and resumes when there is room. */
void test_full_disk(void **state)
{
	/* a small tmpfs, mounted in a mount namespace of this process's own (the last test) */
	char *why = geteuid() ? cm_xasprintf("needs root to mount a tmpfs (euid %d)", (int)geteuid())
			      : mntns_error();
	if (!why && unshare(CLONE_NEWNS)) /* as mntns_error found it can, this time for us */
		why = cm_xasprintf("unshare(CLONE_NEWNS): %s (errno %d)", strerror(errno), errno);
	if (!why && mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL))
		why = cm_xasprintf("mount(/, MS_REC | MS_PRIVATE): %s (errno %d)", strerror(errno), errno);
	if (why) {
		printf("full-disk test: not run: %s\n", why);
		free(why);
		skip();
	}
	char *small = cm_xasprintf("%s/small", tmp);
	mkdir(small, 0755);
	assert_int_equal(mount("tmpfs", small, "tmpfs", 0, "size=24k"), 0);
	char *out;
	char *m = head_matrix("full", "guest", "tcg], cpu: [qemu64, max", "", 40, 0,
		 "30s"), *dir = cm_xasprintf("%s/run", small);
	char *extra = cm_xasprintf("--format csv --db %s/full.db", tmp);
	assert_int_equal(coldmark(m, dir, extra, 0, &out), 4);
	assert_non_null(strstr(out, "No space left on device"));
	free(out);
	/* every row complete: the file reads, and its last byte ends a row */
	struct cm_dataset ds;
	load_samples(dir, &ds);
	size_t first = ds.n;
	assert_true(first > 0 && first < 3 * 40 * 4); /* two cases and the reference */
	cm_dataset_free(&ds);
	char *p = cm_xasprintf("%s/samples.csv", dir), *text = th_slurp(p);
	assert_int_equal(text[strlen(text) - 1], '\n');
	free(text);
	/* room again: the run continues to its planned counts */
	assert_int_equal(mount("tmpfs", small, NULL, MS_REMOUNT, "size=4m"), 0);
	char *resume = cm_xasprintf("--resume %s %s", dir, extra);
	assert_int_equal(coldmark(m, tmp, resume, 0, &out), 0);
	free(out);
	load_samples(dir, &ds);
	size_t ok = 0;
	for (size_t i = 0; i < ds.n; i++)
		ok += !strcmp(ds.rows[i].phase, "total") && !strcmp(ds.rows[i].status, "ok") &&
		      !cm_is_reference_case(ds.rows[i].case_id);
	assert_int_equal(ok, 80);
	cm_dataset_free(&ds);
	umount(small);
	free(resume), free(p), free(extra), free(dir), free(m), free(small);
}

/* Bad samples.csv files through the command line: exit 2 naming file:line:col, and (in the
 * ASan build) no leak on the way out. */
void test_bad_samples_cli(void **state)
{
	static const char *const bad[] = {
		"case,boot,status,phase,duration_ns\nx,1,ok,total,-5\n",
		"case,boot,status,phase,duration_ns\nx,99999999999,ok,total,5\n",
		"case,boot,status,phase,duration_ns\nx,1,ok,total,5\nx,1,ok,total,6\n",
		"case,boot,status,phase,duration_ns\nx,1,ok,total,5\nx,2,ok,to",
		"case,boot,status,phase\nx,1,ok,total\n",
		"case,boot,status,phase,duration_ns\n\"x,1,ok,total,5\n",
		"case,boot,status,phase,duration_ns\nx\x1b[31m,1,ok,total,5\n",
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		char *p = cm_xasprintf("%s/bad%zu.csv", tmp, i), *out;
		FILE *f = fopen(p, "w");
		fputs(bad[i], f);
		fclose(f);
		char *cmd = cm_xasprintf("report %s -o badrep%zu", p, i);
		int rc = cm(cmd, &out);
		if (rc != 2)
			fprintf(stderr, "%s -> %d\n%s", bad[i], rc, out);
		assert_int_equal(rc, 2);
		assert_non_null(strstr(out, p));
		free(out), free(cmd), free(p);
	}
}

/* A store that cannot take the run stops it before the first boot, loudly. */
void test_store_refuses(void **state)
{
	char *out;
	char *m = head_matrix("store", "guest", "tcg", "", 1, 0, "30s");
	char *dbdir = cm_xasprintf("%s/db-is-a-folder", tmp), *junk = cm_xasprintf("%s/junk.db", tmp);
	mkdir(dbdir, 0755);
	FILE *f = fopen(junk, "w");
	fputs("this is not a database, it only has its name\n", f);
	fclose(f);
	const char *const dbs[] = { dbdir, junk };
	for (int i = 0; i < 2; i++) {
		char *extra = cm_xasprintf("--db %s", dbs[i]), *dir = cm_xasprintf("%s/st%d", tmp, i);
		assert_int_equal(coldmark(m, dir, extra, 0, &out), 4);
		assert_non_null(strstr(out, "the results store cannot be used"));
		assert_false(exists(dir, "samples.csv")); /* nothing booted */
		free(out), free(extra), free(dir);
	}
	/* readers never make an empty store */
	assert_int_equal(cm("history --db nowhere.db", &out), 2);
	assert_non_null(strstr(out, "no results store there"));
	free(out);
	assert_false(exists(tmp, "nowhere.db"));
	assert_int_equal(cm("compare a b --db db-is-a-folder", &out), 2);
	assert_non_null(strstr(out, "no results store there"));
	free(out);
	/* unknown formats are usage errors for run and report alike */
	assert_int_equal(coldmark(m, tmp, "--format csv,pdf", 0, &out), 2);
	assert_non_null(strstr(out, "unknown report format 'pdf' (known: csv, md, json, html)"));
	free(out);
	free(junk), free(dbdir), free(m);
}
