/* coldmark host check | tune | reset on a fake host: a sysroot of /sys and /proc files
 * (COLDMARK_SYSROOT) laid out like a noisy machine, so every check, every change and its exact
 * restoration is tested without touching this one. */
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

static char root[64], state[128];

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

static int setup(void **st)
{
	(void)st;
	snprintf(root, sizeof(root), "/tmp/coldmark-host-XXXXXX");
	assert_non_null(mkdtemp(root));
	snprintf(state, sizeof(state), "%s/state", root);
	setenv("COLDMARK_SYSROOT", root, 1);
	setenv("COLDMARK_STATE_DIR", state, 1);
	noisy_host();
	return 0;
}

static int teardown(void **st)
{
	(void)st;
	char *cmd = cm_xasprintf("rm -rf %s", root);
	int rc = system(cmd);
	free(cmd);
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
	struct cm_host_item it[CM_HOST_MAX_ITEMS];
	size_t n, changed;
	char err[512];
	assert_int_equal(cm_host_tune("1", it, CM_HOST_MAX_ITEMS, &n, &changed, err, sizeof(err)), 0);
	/* the measuring CPU's governor and min freq, turbo, THP, perf rate, swappiness, one
	 * interrupt; CPU 0 is not measured on and keeps its governor */
	assert_int_equal(changed, 7);
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
	n = cm_host_check("1", it, CM_HOST_MAX_ITEMS);
	const char *ok[] = { "cpufreq governor", "frequency limits", "turbo/boost",
			     "transparent hugepages", "perf sample rate", "swap", "interrupt affinity" };
	for (size_t i = 0; i < sizeof(ok) / sizeof(ok[0]); i++)
		assert_int_equal(item(it, n, ok[i])->verdict, CM_HOST_OK);
	/* a second tune would save tuned values as the prior ones: refused */
	assert_int_equal(cm_host_tune("1", it, CM_HOST_MAX_ITEMS, &n, &changed, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "tuned already"));
	size_t restored;
	assert_int_equal(cm_host_reset(&restored, err, sizeof(err)), 0);
	assert_int_equal(restored, 7);
	assert_false(cm_host_tuned(NULL, 0));
	const char *back[][2] = { { "/sys/devices/system/cpu/cpu1/cpufreq/scaling_governor", "powersave" },
				  { "/sys/devices/system/cpu/cpu1/cpufreq/scaling_min_freq", "800000" },
				  { "/sys/devices/system/cpu/intel_pstate/no_turbo", "0" },
				  { "/sys/kernel/mm/transparent_hugepage/enabled", "always" },
				  { "/proc/sys/kernel/perf_event_max_sample_rate", "5000" },
				  { "/proc/sys/vm/swappiness", "60" },
				  { "/proc/irq/5/smp_affinity_list", "0-1" } };
	for (size_t i = 0; i < sizeof(back) / sizeof(back[0]); i++) {
		v = got(back[i][0]);
		assert_string_equal(v, back[i][1]);
		free(v);
	}
	assert_int_equal(cm_host_reset(&restored, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "not tuned"));
	noisy_host();
}

/* Without root both refuse, and say why. */
static void test_needs_root(void **st)
{
	(void)st;
	if (geteuid() != 0)
		skip();
	pid_t pid = fork();
	if (pid == 0) {
		if (setgid(65534) || setuid(65534))
			_exit(3);
		struct cm_host_item it[CM_HOST_MAX_ITEMS];
		size_t n, changed, restored;
		char err[512];
		int a = cm_host_tune(NULL, it, CM_HOST_MAX_ITEMS, &n, &changed, err, sizeof(err));
		bool said = strstr(err, "needs root") != NULL;
		int b = cm_host_reset(&restored, err, sizeof(err));
		_exit(a == -1 && b == -1 && said && strstr(err, "needs root") ? 0 : 1);
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
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_check, setup, teardown),
		cmocka_unit_test_setup_teardown(test_tune_and_reset, setup, teardown),
		cmocka_unit_test_setup_teardown(test_needs_root, setup, teardown),
		cmocka_unit_test_setup_teardown(test_clock_and_cpulists, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
