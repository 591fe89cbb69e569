/* The journals' sync thread and the per-boot CPU report (issue 25, item 6), against real
 * files, a real thread and real coldmark runs: what a boot's sync asks of the disk and of the
 * scheduler, and the report's parts covering the boots' CPU. Not timed assertions: counts
 * (block writes, context switches) and a key the report must carry. */
#define _GNU_SOURCE
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <dirent.h>
#include <errno.h>
#include <linux/magic.h>
#include <linux/perf_event.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/vfs.h>
#include <unistd.h>

#include "coldmark/rundir.h"
#include "coldmark/util.h"
#include "helpers.h"

static char tmp[256];

enum { BOOTS = 40 };

/* What a boot leaves in the caches: qemu ran ~70 ms on the core, the runner comes back cold. */
static char thrash[8 << 20];

/* One boot's rows into both journals, as the runner writes them, after a boot's worth of other
 * memory traffic, then the sync handed off; the next boot comes 2 ms later (its append waits
 * for this sync, as a run's does). */
static void one_boot(struct cm_rundir *rd, int i)
{
	memset(thrash, i, sizeof(thrash));
	char ev[256], row[400];
	int ne = snprintf(ev, sizeof(ev), "default,%d,0,exec,0,0,%d,perf\n", i, 1000 + i);
	int nr = snprintf(row, sizeof(row), "default,%d,ok,firmware,%d,perf\n", i, 7000 + i);
	assert_int_equal(cm_rundir_append(rd, CM_JOURNAL_EVENTS, ev, (size_t)ne), 0);
	assert_int_equal(cm_rundir_append(rd, CM_JOURNAL_SAMPLES, row, (size_t)nr), 0);
	cm_rundir_sync(rd);
	usleep(2000);
	assert_int_equal(cm_rundir_synced(rd), 0);
}

/* The voluntary context switches of this process's threads other than the caller. */
static long other_threads_switches(void)
{
	DIR *d = opendir("/proc/self/task");
	assert_non_null(d);
	long sum = 0, me = (long)syscall(SYS_gettid);
	struct dirent *e;
	while ((e = readdir(d))) {
		if (e->d_name[0] == '.' || atol(e->d_name) == me)
			continue;
		char path[300], line[128];
		snprintf(path, sizeof(path), "/proc/self/task/%s/status", e->d_name);
		FILE *f = fopen(path, "r");
		while (f && fgets(line, sizeof(line), f))
			if (!strncmp(line, "voluntary_ctxt_switches:", 24))
				sum += atol(line + 24);
		if (f)
			fclose(f);
	}
	closedir(d);
	return sum;
}

/* The hand-off wakes the sync thread once a boot. On a folder in memory (/dev/shm: fdatasync
 * has no I/O to wait for) the thread sleeps only between boots: one voluntary switch a boot.
 * Signalled while the runner still held the mutex, the woken thread found it taken and slept
 * on it again (a second switch, and a second futex call on the main thread). */
static void test_sync_handoff_one_wake(void **state)
{
	(void)state;
	char dir[256];
	snprintf(dir, sizeof(dir), "/dev/shm/coldmark-sync7-XXXXXX");
	if (!mkdtemp(dir))
		skip(); /* no /dev/shm */
	char *run = cm_xasprintf("%s/run", dir);
	struct cm_rundir rd;
	struct cm_error err = { 0 };
	/* both threads on one CPU (the sync thread inherits it): the woken thread then runs at
	 * once, as it does when the other CPU is free, whatever the host's load */
	cpu_set_t was, one;
	assert_int_equal(sched_getaffinity(0, sizeof(was), &was), 0);
	CPU_ZERO(&one);
	for (int c = 0; c < CPU_SETSIZE; c++)
		if (CPU_ISSET(c, &was)) {
			CPU_SET(c, &one);
			break;
		}
	assert_int_equal(sched_setaffinity(0, sizeof(one), &one), 0);
	assert_int_equal(cm_rundir_open(&rd, run, CM_RUNDIR_NEW, &err), 0);
	one_boot(&rd, 0); /* the thread started and asleep */
	long before = other_threads_switches();
	for (int i = 1; i <= BOOTS; i++)
		one_boot(&rd, i);
	long per100 = (other_threads_switches() - before) * 100 / BOOTS;
	cm_rundir_close(&rd);
	sched_setaffinity(0, sizeof(was), &was);
	print_message("sync thread: %ld.%02ld voluntary switches a boot\n", per100 / 100, per100 % 100);
	th_rm_rf(dir); /* before the checks: a failed one leaves nothing in memory */
	free(run);
	assert_true(per100 >= 90);  /* the thread did sleep between boots: the count is its own */
	assert_true(per100 <= 110); /* and was woken once, not twice (before: 1.37-2.00) */
}

static long perf_open(struct perf_event_attr *a)
{
	return syscall(SYS_perf_event_open, a, 0, -1, -1, 0);
}

/* The tracepoint's id, or -1. */
static long tracepoint_id(const char *name)
{
	const char *roots[] = { "/sys/kernel/tracing/events", "/sys/kernel/debug/tracing/events" };
	for (int i = 0; i < 2; i++) {
		char path[256];
		snprintf(path, sizeof(path), "%s/%s/id", roots[i], name);
		FILE *f = fopen(path, "r");
		long id = -1;
		if (f && fscanf(f, "%ld", &id) != 1)
			id = -1;
		if (f)
			fclose(f);
		if (id >= 0)
			return id;
	}
	return -1;
}

/* Opens a run folder whose two journals' inodes share an inode-table block (16 inodes of
 * 256 bytes a 4 KiB block, ext4's default), as two files created one after the other do once
 * the inode table's holes are filled. */
static void open_paired(struct cm_rundir *rd, char *run, size_t n)
{
	for (int k = 0; k < 64; k++) { /* a group's freed inodes are reused first: holes */
		snprintf(run, n, "%s/io%d", tmp, k);
		struct cm_error err = { 0 };
		assert_int_equal(cm_rundir_open(rd, run, CM_RUNDIR_NEW, &err), 0);
		struct stat a, b;
		assert_int_equal(fstat(rd->fd[0], &a), 0);
		assert_int_equal(fstat(rd->fd[1], &b), 0);
		if ((a.st_ino - 1) / 16 == (b.st_ino - 1) / 16)
			return;
		cm_rundir_close(rd);
	}
	/* another file system's inode allocator: the figure below is ext4's */
	print_message("no two journals with their inodes in one block under %s\n", tmp);
	skip();
}

/* A boot of BLOCK bytes in each journal: each append starts a block the file has not yet
 * (delayed allocation gives it one, and the new size to the inode, only at writeback). */
static void block_boot(struct cm_rundir *rd, int i)
{
	static char buf[4096];
	memset(thrash, i, sizeof(thrash));
	memset(buf, 'a' + i % 26, sizeof(buf));
	buf[sizeof(buf) - 1] = '\n';
	assert_int_equal(cm_rundir_append(rd, CM_JOURNAL_EVENTS, buf, sizeof(buf)), 0);
	assert_int_equal(cm_rundir_append(rd, CM_JOURNAL_SAMPLES, buf, sizeof(buf)), 0);
	cm_rundir_sync(rd);
	usleep(2000);
	assert_int_equal(cm_rundir_synced(rd), 0);
}

/* A boot's sync waits for the disk less: both journals' data are put under writeback before
 * the first fdatasync, so the second journal's data is written while the first one's inode
 * and flush are, and the second fdatasync does not wait for it (one sleep of the sync thread
 * a boot fewer: ~8 us of its CPU, tests/bench in the report); and in a boot that gives a
 * journal a new block, whose size reaches the inode only at writeback, the first fdatasync's
 * inode write carries both journals' new sizes (their inodes share a block) and the second
 * finds that block clean: three block writes, not four. Counted with the block:block_rq_issue
 * tracepoint on this process's threads (the sync thread inherits the counter), on the test
 * folder's own disk. */
static void test_sync_three_writes_a_boot(void **state)
{
	(void)state;
	long id = tracepoint_id("block/block_rq_issue");
	struct perf_event_attr a = { .type = PERF_TYPE_TRACEPOINT, .size = sizeof(a),
				     .config = (unsigned long long)id, .inherit = 1,
				     .disabled = 1 };
	long fd = id >= 0 ? perf_open(&a) : -1;
	if (fd < 0) {
		print_message("no block:block_rq_issue tracepoint to count with (%s)\n",
			      strerror(errno));
		skip();
	}
	struct statfs fs;
	if (statfs(tmp, &fs) || fs.f_type != EXT4_SUPER_MAGIC) { /* the counts below are ext4's */
		close((int)fd);
		print_message("%s is not on ext4: its block writes are another file system's\n", tmp);
		skip();
	}
	struct cm_rundir rd;
	char run[300];
	open_paired(&rd, run, sizeof(run)); /* after the counter: the sync thread inherits it */
	block_boot(&rd, 0);
	long before = other_threads_switches();
	ioctl((int)fd, PERF_EVENT_IOC_ENABLE, 0);
	for (int i = 1; i <= BOOTS; i++)
		block_boot(&rd, i);
	ioctl((int)fd, PERF_EVENT_IOC_DISABLE, 0);
	long switches = other_threads_switches() - before;
	long long writes = 0;
	assert_int_equal(read((int)fd, &writes, sizeof(writes)), (ssize_t)sizeof(writes));
	close((int)fd);
	cm_rundir_close(&rd);
	print_message("%lld block writes, %ld sync-thread sleeps in %d boots\n", writes, switches,
		      BOOTS);
	if (writes < BOOTS) { /* a folder in memory: nothing to count */
		print_message("%s has no block device under it\n", tmp);
		skip();
	}
	/* this host (ext4, virtio): 4.85 a boot, 5.85 before */
	assert_true(writes * 100 <= 535LL * BOOTS);
}

/* COLDMARK_CPU_REPORT's parts cover the main thread's whole time in the loop: loop_ns is what
 * lies between the other parts (the next boot's plan step, sources, log name and host clock,
 * the frees, the clock reads themselves), so that what is left of boots_ns beside the parts
 * is the other threads' alone (none in a sequential run but the sync thread, counted). */
static void test_cpu_report_loop_part(void **state)
{
	(void)state;
	const char *const keys[] = { "boots", "launch", "record", "journals", "store", "after",
				     "loop", "sync" };
	long long v[8], parts = 0;
	free(th_cpu_report_run(tmp, 6, keys, 8, v));
	for (int k = 1; k < 8; k++)
		parts += v[k];
	print_message("boots_ns %lld, parts %lld, loop_ns %lld\n", v[0], parts, v[6]);
	assert_true(v[6] > 0);
	/* getrusage counts in us (rounding), the parts in ns: nothing left beyond 5% */
	assert_true(parts <= v[0] + 50000);
	assert_true(v[0] - parts <= v[0] / 20 + 50000);
}

int main(void)
{
	if (th_mkdtemp(tmp, sizeof(tmp), "journalsync"))
		return 1;
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_sync_handoff_one_wake),
		cmocka_unit_test(test_sync_three_writes_a_boot),
		cmocka_unit_test(test_cpu_report_loop_part),
	};
	int rc = cmocka_run_group_tests(tests, NULL, NULL);
	th_rm_rf(tmp);
	return rc;
}
