/* Watching the host while it measures: other busy processes (for host check) and the clock
 * and thermal throttle counters read around every boot (the per-boot audit). */
#define _GNU_SOURCE
#include <ctype.h>
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "coldmark/host.h"
#include "host_int.h"

static long long read_ll(const char *path)
{
	char *p = cm_host_path(path);
	FILE *f = fopen(p, "r");
	free(p);
	long long v = -1;
	if (f) {
		if (fscanf(f, "%lld", &v) != 1)
			v = -1;
		fclose(f);
	}
	return v;
}

/* ---- busy processes ---------------------------------------------------------------------------- */

struct proc_time {
	int pid;
	unsigned long long ticks;
	char comm[32];
};

/* utime + stime of every process but ours, from /proc/PID/stat. */
static size_t proc_times(struct proc_time *out, size_t max)
{
	char *root = cm_host_path("/proc");
	DIR *d = opendir(root);
	size_t n = 0;
	int self = getpid();
	for (struct dirent *e; d && (e = readdir(d)) && n < max;) {
		if (!isdigit((unsigned char)e->d_name[0]) || atoi(e->d_name) == self)
			continue;
		char *p = cm_xasprintf("%s/%s/stat", root, e->d_name), buf[1024];
		FILE *f = fopen(p, "r");
		free(p);
		if (!f)
			continue;
		size_t len = fread(buf, 1, sizeof(buf) - 1, f);
		fclose(f);
		buf[len] = 0;
		char *open = strchr(buf, '('), *close = strrchr(buf, ')');
		unsigned long long ut, st;
		if (!open || !close || sscanf(close + 2, "%*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %llu %llu",
					      &ut, &st) != 2)
			continue;
		out[n] = (struct proc_time){ atoi(e->d_name), ut + st, "" };
		snprintf(out[n].comm, sizeof(out[n].comm), "%.*s", (int)(close - open - 1), open + 1);
		n++;
	}
	if (d)
		closedir(d);
	free(root);
	return n;
}

void cm_host_busy(char *out, size_t n, int ms, enum cm_host_verdict *verdict)
{
	enum { MAXP = 8192 };
	struct proc_time *a = cm_xcalloc(MAXP, sizeof(*a)), *b = cm_xcalloc(MAXP, sizeof(*b));
	size_t na = proc_times(a, MAXP);
	struct timespec nap = { ms / 1000, (long)(ms % 1000) * 1000000L };
	nanosleep(&nap, NULL);
	size_t nb = proc_times(b, MAXP), len = 0;
	double hz = (double)sysconf(_SC_CLK_TCK), busiest = 0;
	out[0] = 0;
	for (size_t i = 0; i < nb; i++)
		for (size_t j = 0; j < na; j++) {
			if (a[j].pid != b[i].pid)
				continue;
			double share = (double)(b[i].ticks - a[j].ticks) / hz / (ms / 1000.0);
			if (share >= 0.10 && len < n)
				len += (size_t)snprintf(out + len, n - len, "%s%s %.0f%% (pid %d)",
							len ? ", " : "", b[i].comm, share * 100, b[i].pid);
			busiest = share > busiest ? share : busiest;
			break;
		}
	if (!len)
		snprintf(out, n, "none over 10%% of a CPU in %d ms (busiest %.0f%%)", ms, busiest * 100);
	*verdict = len ? CM_HOST_WARN : CM_HOST_OK;
	free(a), free(b);
}

/* ---- the per-boot audit ------------------------------------------------------------------------ */

void cm_host_clock(const char *cpus, struct cm_clock *out)
{
	double sum = 0;
	size_t n = 0;
	long long thr = -1;
	static long ncpu; /* sysconf reads a sysfs file each time */
	if (!ncpu)
		ncpu = sysconf(_SC_NPROCESSORS_CONF);
	/* read twice a boot: files a first look found on no CPU (a VM has neither) are not
	 * looked for again, each miss being a path walk of coldmark's CPU per boot */
	static bool none_freq, none_thr;
	bool real = !cm_host_hook("COLDMARK_SYSROOT"); /* not a test's fake host */
	bool no_freq = real && none_freq, no_thr = real && none_thr, any_freq = false, any_thr = false;
	if (no_freq && no_thr) { /* nothing to read: not even the CPU list and six paths formatted */
		*out = (struct cm_clock){ 0, -1 };
		return;
	}
	cpu_set_t want;
	bool some = cpus && !cm_cpulist_parse(cpus, &want);
	for (long c = 0; c < ncpu && c < CPU_SETSIZE; c++) {
		if (some && !CPU_ISSET(c, &want))
			continue;
		char path[128];
		snprintf(path, sizeof(path), "/sys/devices/system/cpu/cpu%ld/cpufreq/scaling_cur_freq", c);
		long long khz = no_freq ? -1 : read_ll(path);
		if (khz > 0)
			sum += (double)khz, n++;
		any_freq |= khz >= 0;
		const char *kinds[] = { "core", "package" };
		for (int k = 0; k < 2 && !no_thr; k++) {
			snprintf(path, sizeof(path),
				 "/sys/devices/system/cpu/cpu%ld/thermal_throttle/%s_throttle_count", c, kinds[k]);
			long long t = read_ll(path);
			if (t >= 0)
				thr = (thr < 0 ? 0 : thr) + t;
			any_thr |= t >= 0;
		}
	}
	if (real) {
		none_freq |= !any_freq;
		none_thr |= !any_thr;
	}
	*out = (struct cm_clock){ n ? sum / (double)n : 0, thr };
}
