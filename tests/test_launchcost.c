/* What starting a boot costs coldmark itself (issue 25, item 6), against a real child process
 * (/bin/sh, no qemu): the launch's CPU must not grow with coldmark's own memory, as a fork()
 * does (page tables copied, then a copy-on-write fault on every page the parent touches), and
 * the matrix's env must still reach the child over coldmark's. Growth checks are a ratio of
 * two sizes of the same run, never a timed assertion. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

#include "coldmark/capture.h"
#include "coldmark/harness.h"
#include "coldmark/matrix.h"
#include "helpers.h"

static char tmp[256];

static struct cm_matrix *matrix(void)
{
	static const char yaml[] = "guest: {bundled: guest}\n";
	struct cm_diags d = { 0 };
	struct cm_matrix *m = cm_matrix_load_string(yaml, sizeof(yaml) - 1, "l.yaml", &d);
	cm_diags_print(&d, stderr);
	cm_diags_clear(&d);
	assert_non_null(m);
	return m;
}

/* One launch of argv; its log's text (freed by the caller) */
static char *launch(char **argv, char **env)
{
	struct cm_matrix *m = matrix();
	char *log = cm_xasprintf("%s/out.log", tmp);
	volatile int stop = 0;
	struct cm_capture *dc = cm_debugcon_source(m, NULL);
	struct cm_launch l = { .argv = argv, .env = env, .log_path = log, .timeout_ms = 10000,
			       .sources = &dc, .nsources = 1, .m = m, .stop = &stop };
	struct cm_events ev = { 0 };
	struct cm_exit ex;
	assert_int_equal(cm_launch_boot(&l, &ev, &ex), 0);
	assert_true(ex.launched);
	assert_int_equal(ex.status, 0);
	cm_capture_free(dc);
	cm_events_free(&ev);
	cm_matrix_free(m);
	size_t len;
	char *text = cm_read_file(log, &len);
	assert_non_null(text);
	unlink(log);
	free(log);
	return text;
}

static int64_t self_cpu_ns(void)
{
	struct rusage ru;
	getrusage(RUSAGE_SELF, &ru);
	return ((int64_t)ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) * 1000000000LL +
	       ((int64_t)ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) * 1000LL;
}

/* coldmark's CPU for the median of 7 launches of a process that does nothing */
static int64_t launch_cpu_ns(void)
{
	char *argv[] = { "/bin/true", NULL };
	int64_t v[7];
	for (int i = 0; i < 7; i++) {
		int64_t t = self_cpu_ns();
		free(launch(argv, NULL));
		v[i] = self_cpu_ns() - t;
	}
	for (int i = 0; i < 7; i++) /* insertion sort: seven values */
		for (int j = i; j > 0 && v[j] < v[j - 1]; j--) {
			int64_t x = v[j];
			v[j] = v[j - 1], v[j - 1] = x;
		}
	return v[3];
}

/* With fork(), 512 MB of coldmark's own touched memory made each launch cost ~10x more of
 * coldmark's CPU (page tables and their rmap copied at every boot); started the way
 * posix_spawn does, the cost does not depend on it. */
static void test_launch_cpu_flat_in_memory(void **state)
{
	(void)state;
	int64_t small = launch_cpu_ns();
	size_t big = 512u << 20;
	char *heap = cm_xmalloc(big);
	memset(heap, 1, big); /* touched: mapped pages with page tables, as a long run's data */
	int64_t large = launch_cpu_ns();
	heap[big - 1] = 2;
	free(heap);
	fprintf(stderr, "coldmark's CPU per launch: %.3f ms, with 512 MB touched %.3f ms (x%.2f)\n",
		small / 1e6, large / 1e6, (double)large / (double)small);
	assert_true(large < 3 * small + 200000); /* 0.2 ms: a clock tick's rounding, not growth */
}

/* The matrix's env over coldmark's own: replaced, added, the rest kept. */
static void test_launch_env(void **state)
{
	(void)state;
	setenv("CM_LC_KEEP", "kept", 1);
	setenv("CM_LC_OVER", "coldmark's", 1);
	char *argv[] = { "/bin/sh", "-c", "echo $CM_LC_KEEP $CM_LC_OVER $CM_LC_NEW", NULL };
	char *env[] = { "CM_LC_OVER=matrix's", "CM_LC_NEW=new", NULL };
	char *out = launch(argv, env);
	assert_string_equal(out, "kept matrix's new\n");
	free(out);
	/* a PATH of the matrix's own is searched for qemu (the fork path) */
	char *bin = cm_xasprintf("%s/bin", tmp);
	assert_int_equal(cm_mkdirs(bin), 0);
	char *script = cm_xasprintf("%s/only-here", bin);
	FILE *f = fopen(script, "w");
	assert_non_null(f);
	fputs("#!/bin/sh\necho found \"$CM_LC_NEW\"\n", f);
	fclose(f);
	chmod(script, 0755);
	char *path = cm_xasprintf("PATH=%s:/usr/bin:/bin", bin);
	char *argv2[] = { "only-here", NULL };
	char *env2[] = { path, "CM_LC_NEW=new", NULL };
	out = launch(argv2, env2);
	assert_string_equal(out, "found new\n");
	free(out);
	unlink(script);
	rmdir(bin);
	free(script), free(bin), free(path);
}

/* COLDMARK_CPU_REPORT: one line at exit with every key observer.sh reads, and the boots' part
 * split by where it went (the main thread's stages and the journals' sync thread), parts that
 * add up to no more than the boots' whole (all threads). qemu is /bin/true here: each boot ends
 * at once, unmeasured, but it is launched, journalled and stored like any other. */
static void test_cpu_report_parts(void **state)
{
	(void)state;
	const char *const keys[] = { "startup", "boots", "end", "qemu", "launch", "record",
				     "journals", "store", "after", "sync" };
	long long v[10], parts = 0;
	char *line = th_cpu_report_run(tmp, 4, keys, 10, v);
	for (int k = 0; k < 10; k++) {
		assert_true(v[k] >= 0);
		parts += k >= 4 ? v[k] : 0;
	}
	assert_non_null(strstr(line, " boots=4 "));
	assert_true(v[4] > 0 && v[6] > 0 && v[7] > 0); /* launched, journalled, stored */
	/* thread clocks in ns, getrusage in us: a few us of rounding at most */
	assert_true(parts <= v[1] + 50000);
	free(line);
}

int main(void)
{
	if (th_mkdtemp(tmp, sizeof(tmp), "launchcost"))
		return 1;
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_launch_cpu_flat_in_memory),
		cmocka_unit_test(test_launch_env),
		cmocka_unit_test(test_cpu_report_parts),
	};
	int rc = cmocka_run_group_tests(tests, NULL, NULL);
	rmdir(tmp);
	return rc;
}
