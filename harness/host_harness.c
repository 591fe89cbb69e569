/* The host made quiet on purpose: what `coldmark host check` looks at (pyperf's `system`
 * command is the model) and what `host tune` changes, each prior value handed to the state
 * file (hosttune.c) before its setting changes. Every path goes through the sysroot
 * (COLDMARK_SYSROOT, for tests: a tree of fake /sys and /proc files; see hosttune.c for when
 * the hooks are honoured). */
#define _GNU_SOURCE
#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <fnmatch.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "coldmark/host.h"
#include "host_int.h"

int cm_cpulist_parse(const char *s, cpu_set_t *set)
{
	CPU_ZERO(set);
	if (!*s) /* no CPU at all: sched_setaffinity would refuse it at every boot */
		return -1;
	while (*s) {
		char *end;
		long a = strtol(s, &end, 10), b = a;
		if (end == s || a < 0 || a >= CPU_SETSIZE)
			return -1;
		if (*end == '-') {
			s = end + 1;
			b = strtol(s, &end, 10);
			if (end == s || b < a || b >= CPU_SETSIZE)
				return -1;
		}
		for (long c = a; c <= b; c++)
			CPU_SET(c, set);
		s = *end == ',' ? end + 1 : end;
		if (*end && *end != ',')
			return -1;
	}
	return 0;
}

void cm_cpulist_format(const cpu_set_t *set, char *out, size_t n)
{
	size_t len = 0;
	out[0] = 0;
	for (int c = 0; c < CPU_SETSIZE && len < n; c++) {
		if (!CPU_ISSET(c, set))
			continue;
		int e = c;
		while (e + 1 < CPU_SETSIZE && CPU_ISSET(e + 1, set))
			e++;
		len += (size_t)snprintf(out + len, n - len, e > c ? "%s%d-%d" : "%s%d", len ? "," : "", c, e);
		c = e;
	}
}

/* ---- paths and files ------------------------------------------------------------------------ */

char *cm_host_path(const char *path)
{
	const char *root = cm_host_hook("COLDMARK_SYSROOT");
	return cm_xasprintf("%s%s", root ? root : "", path);
}

/* A file's first line, without its newline; NULL when it cannot be read. */
static char *get(const char *path)
{
	char *p = cm_host_path(path), buf[4096];
	FILE *f = fopen(p, "r");
	free(p);
	if (!f)
		return NULL;
	char *line = fgets(buf, sizeof(buf), f) ? cm_xstrdup(buf) : cm_xstrdup("");
	fclose(f);
	line[strcspn(line, "\n")] = 0;
	return line;
}

/* Writes value to a host file: the file itself, never a symbolic link's target (O_NOFOLLOW; the
 * real /sys has symbolic links among the folders above, which are the kernel's own), and only a
 * regular file (a FIFO planted in a fake tree would hang the write). 0 or -errno. */
int cm_host_write(const char *path, const void *value, size_t len)
{
	char *p = cm_host_path(path);
	int fd = open(p, O_WRONLY | O_TRUNC | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC), rc = 0;
	free(p);
	if (fd < 0)
		return -errno;
	struct stat st;
	if (fstat(fd, &st) || !S_ISREG(st.st_mode))
		rc = -EINVAL;
	else if (write(fd, value, len) != (ssize_t)len)
		rc = -errno;
	if (close(fd) && !rc)
		rc = -errno;
	return rc;
}

/* A host file's bytes as they are (at most CM_HOST_VALUE_MAX: a sysfs value is a page); NULL
 * when it cannot be read or is longer. */
static char *raw(const char *path, size_t *len)
{
	char *p = cm_host_path(path), *buf = cm_xcalloc(1, CM_HOST_VALUE_MAX + 2);
	int fd = open(p, O_RDONLY | O_NONBLOCK | O_CLOEXEC);
	free(p);
	ssize_t got = 0, r = 0;
	while (fd >= 0 && got <= CM_HOST_VALUE_MAX &&
	       (r = read(fd, buf + got, (size_t)(CM_HOST_VALUE_MAX + 1 - got))) > 0)
		got += r;
	if (fd >= 0)
		close(fd);
	if (fd < 0 || r < 0 || got > CM_HOST_VALUE_MAX) {
		free(buf);
		return NULL;
	}
	*len = (size_t)got;
	return buf;
}

/* "always [madvise] never" -> "madvise" */
static void bracketed(const char *s, char *out, size_t n)
{
	const char *a = strchr(s, '['), *b = a ? strchr(a, ']') : NULL;
	snprintf(out, n, "%.*s", a && b ? (int)(b - a - 1) : (int)strlen(s), a && b ? a + 1 : s);
}

/* The online CPUs (or those of cpus when given), by number. */
static size_t cpus_of(const char *cpus, int *out, size_t max)
{
	char *online = get("/sys/devices/system/cpu/online");
	cpu_set_t set, want;
	size_t n = 0;
	if (!online || cm_cpulist_parse(online, &set))
		CPU_ZERO(&set);
	if (cpus && !cm_cpulist_parse(cpus, &want))
		CPU_AND(&set, &set, &want);
	for (int c = 0; c < CPU_SETSIZE && n < max; c++)
		if (CPU_ISSET(c, &set))
			out[n++] = c;
	free(online);
	return n;
}

/* The ids of the online CPUs, which need not be 0..n-1 (a CPU taken offline in the middle). */
int cm_cpus_online(cpu_set_t *set)
{
	char *online = get("/sys/devices/system/cpu/online");
	int rc = online ? cm_cpulist_parse(online, set) : -1;
	free(online);
	return rc;
}

int cm_cpulist_check(const char *s, cpu_set_t *want, cpu_set_t *online, struct cm_error *err)
{
	if (!*s) {
		cm_error_set(err, CM_ERR(CM_EUSAGE), "is empty: name the CPUs to measure on (\"2-3\", \"1,3\"), or leave "
				 "it out to measure on any");
		return -1;
	}
	if (cm_cpulist_parse(s, want)) {
		cm_error_set(err, CM_ERR(CM_EUSAGE), "'%s' is not a CPU list (\"2-3\", \"1,3\")", s);
		return -1;
	}
	/* without the kernel's list (no sysfs), the CPUs this process may run on stand in */
	if (cm_cpus_online(online) && sched_getaffinity(0, sizeof(*online), online)) {
		cm_error_set(err, CM_ERR(CM_EUSAGE), "'%s': the online CPUs cannot be read: %s", s, strerror(errno));
		return -1;
	}
	cpu_set_t off;
	CPU_AND(&off, want, online);
	CPU_XOR(&off, &off, want);
	if (CPU_COUNT(&off)) {
		char a[256], b[256];
		cm_cpulist_format(&off, a, sizeof(a));
		cm_cpulist_format(online, b, sizeof(b));
		cm_error_set(err, CM_ERR(CM_EUSAGE), "'%s' names CPU%s %s, not online on this host (online: %s)", s,
			 CPU_COUNT(&off) > 1 ? "s" : "", a, b);
		return -1;
	}
	return 0;
}

/* ---- checks ------------------------------------------------------------------------------------ */

struct ctx {
	const char *cpus; /* run.cpus, or NULL */
	int cpu[CPU_SETSIZE > 1024 ? 1024 : CPU_SETSIZE];
	size_t ncpu;
	struct cm_tune_log *log; /* tune: where each prior value goes before it changes */
	size_t changed;
	bool stopped; /* a prior value could not be recorded: nothing more may change */
};

/* tune: path to want, once its prior bytes (restore; NULL: the file's own) are recorded for
 * good; a value that cannot be recorded whole is left as it is. */
static void change(struct ctx *c, const char *path, const char *want, const char *restore)
{
	if (!c->log || c->stopped)
		return;
	size_t len = restore ? strlen(restore) : 0;
	char *prior = restore ? cm_xstrdup(restore) : raw(path, &len);
	int rc = prior ? cm_tune_record(c->log, path, prior, len) : 1;
	if (rc < 0)
		c->stopped = true;
	else if (!rc && !cm_host_write(path, want, strlen(want)))
		c->changed++;
	free(prior);
}

#define ITEM(it, v, ...) (snprintf((it)->value, sizeof((it)->value), __VA_ARGS__), (it)->verdict = (v))

/* A file per CPU that should read `want`: how many do, and (tune) set the rest. */
static void per_cpu(struct ctx *c, const char *file, const char *want, struct cm_host_item *it)
{
	size_t ok = 0, present = 0;
	char *seen = NULL;
	for (size_t i = 0; i < c->ncpu; i++) {
		char *path = cm_xasprintf("/sys/devices/system/cpu/cpu%d/cpufreq/%s", c->cpu[i], file);
		char *v = get(path);
		if (v) {
			present++;
			ok += !strcmp(v, want);
			if (!seen && strcmp(v, want))
				seen = cm_xstrdup(v);
			if (strcmp(v, want))
				change(c, path, want, NULL);
		}
		free(v), free(path);
	}
	if (!present)
		ITEM(it, CM_HOST_NA, "no cpufreq on this host");
	else if (ok == present)
		ITEM(it, CM_HOST_OK, "%s on %zu of %zu CPUs", want, ok, present);
	else
		ITEM(it, CM_HOST_WARN, "%s on %zu of %zu CPUs (others: %s)", want, ok, present, seen);
	free(seen);
}

static void check_governor(struct ctx *c, struct cm_host_item *it)
{
	per_cpu(c, "scaling_governor", "performance", it);
	snprintf(it->fix, sizeof(it->fix), "the performance governor on the measuring CPUs");
}

/* scaling_min_freq and scaling_max_freq at cpuinfo_max_freq: one clock, the highest sustained */
static void check_freq_limits(struct ctx *c, struct cm_host_item *it)
{
	char *max = get("/sys/devices/system/cpu/cpu0/cpufreq/cpuinfo_max_freq");
	if (!max) {
		ITEM(it, CM_HOST_NA, "no cpufreq on this host");
		return;
	}
	struct cm_host_item lo = { 0 }, hi = { 0 };
	per_cpu(c, "scaling_min_freq", max, &lo);
	per_cpu(c, "scaling_max_freq", max, &hi);
	if (lo.verdict == CM_HOST_OK && hi.verdict == CM_HOST_OK)
		ITEM(it, CM_HOST_OK, "min = max = %s kHz", max);
	else
		ITEM(it, CM_HOST_WARN, "min: %.120s; max: %.120s", lo.value, hi.value);
	snprintf(it->fix, sizeof(it->fix), "scaling_min_freq and scaling_max_freq at %s kHz", max);
	free(max);
}

/* One file that should read `want` (bracketed choices read as the chosen one). */
static void one_file(struct ctx *c, const char *path, const char *want, struct cm_host_item *it)
{
	char *v = get(path), now[128];
	if (!v) {
		ITEM(it, CM_HOST_NA, "%s not on this host", path);
		return;
	}
	bracketed(v, now, sizeof(now));
	if (!strcmp(now, want)) {
		ITEM(it, CM_HOST_OK, "%s", now);
	} else {
		ITEM(it, CM_HOST_WARN, "%s", now);
		/* a choice among brackets is written back as the chosen word, as the kernel takes it */
		char *chosen = strcmp(now, v) ? cm_xasprintf("%s\n", now) : NULL;
		change(c, path, want, chosen);
		free(chosen);
	}
	free(v);
}

static void check_turbo(struct ctx *c, struct cm_host_item *it)
{
	char *p = get("/sys/devices/system/cpu/intel_pstate/no_turbo");
	free(p);
	if (p)
		one_file(c, "/sys/devices/system/cpu/intel_pstate/no_turbo", "1", it);
	else
		one_file(c, "/sys/devices/system/cpu/cpufreq/boost", "0", it);
	snprintf(it->fix, sizeof(it->fix), "turbo/boost off: a clock that depends on the temperature "
					   "and the other cores' load moves boot times");
}

static void check_thp(struct ctx *c, struct cm_host_item *it)
{
	one_file(c, "/sys/kernel/mm/transparent_hugepage/enabled", "madvise", it);
	snprintf(it->fix, sizeof(it->fix), "madvise: qemu still asks for huge pages for guest RAM, "
					   "khugepaged stops rewriting everyone else's");
}

static void check_smt(struct ctx *c, struct cm_host_item *it)
{
	(void)c;
	char *v = get("/sys/devices/system/cpu/smt/control");
	if (!v || !strcmp(v, "notsupported") || !strcmp(v, "notimplemented"))
		ITEM(it, CM_HOST_NA, "%s", v ? v : "not reported");
	else if (!strcmp(v, "on"))
		ITEM(it, CM_HOST_WARN, "on: a sibling thread shares the core qemu runs on");
	else
		ITEM(it, CM_HOST_OK, "%s", v);
	snprintf(it->fix, sizeof(it->fix), "pin qemu (run.cpus) to cores whose siblings run nothing, "
					   "or nosmt on the kernel command line (not changed by tune)");
	free(v);
}

static void check_isolation(struct ctx *c, struct cm_host_item *it)
{
	char *cmd = get("/proc/cmdline");
	const char *keys[] = { "isolcpus=", "nohz_full=", "rcu_nocbs=" };
	struct cm_buf have = { 0 };
	for (size_t i = 0; cmd && i < 3; i++) {
		const char *at = strstr(cmd, keys[i]);
		if (at)
			cm_buf_printf(&have, "%s%.*s", have.len ? " " : "", (int)strcspn(at, " "), at);
	}
	if (have.len)
		ITEM(it, CM_HOST_OK, "%s", have.s);
	else
		ITEM(it, c->cpus ? CM_HOST_WARN : CM_HOST_NA, "none on the kernel command line");
	snprintf(it->fix, sizeof(it->fix), "boot with isolcpus=%s nohz_full=%s rcu_nocbs=%s (kernel "
					   "command line; not changed by tune)",
		 c->cpus ? c->cpus : "N-M", c->cpus ? c->cpus : "N-M", c->cpus ? c->cpus : "N-M");
	cm_buf_free(&have);
	free(cmd);
}

static void check_aslr(struct ctx *c, struct cm_host_item *it)
{
	(void)c;
	char *v = get("/proc/sys/kernel/randomize_va_space");
	if (!v)
		ITEM(it, CM_HOST_NA, "not reported");
	else if (!strcmp(v, "2"))
		ITEM(it, CM_HOST_OK, "full randomization");
	else
		ITEM(it, CM_HOST_WARN, "randomize_va_space = %s", v);
	snprintf(it->fix, sizeof(it->fix), "keep it at 2: each session should meet a fresh layout, "
					   "or the sessions share one by accident (not changed by tune)");
	free(v);
}

/* perf's sample-rate ceiling: below ~10k/s the kernel may throttle the marker tracepoints */
static void check_perf_rate(struct ctx *c, struct cm_host_item *it)
{
	char *v = get("/proc/sys/kernel/perf_event_max_sample_rate");
	long rate = v ? strtol(v, NULL, 10) : -1;
	if (!v)
		ITEM(it, CM_HOST_NA, "not reported");
	else if (rate >= 10000)
		ITEM(it, CM_HOST_OK, "%ld per second", rate);
	else {
		ITEM(it, CM_HOST_WARN, "%ld per second: marker samples may be throttled", rate);
		change(c, "/proc/sys/kernel/perf_event_max_sample_rate", "100000", NULL);
	}
	snprintf(it->fix, sizeof(it->fix), "perf_event_max_sample_rate 100000");
	free(v);
}

static void check_swap(struct ctx *c, struct cm_host_item *it)
{
	char *p = cm_host_path("/proc/swaps"), line[512];
	FILE *f = fopen(p, "r");
	size_t n = 0;
	while (f && fgets(line, sizeof(line), f))
		n += line[0] == '/';
	if (f)
		fclose(f);
	free(p);
	char *sw = get("/proc/sys/vm/swappiness");
	if (!n) {
		ITEM(it, CM_HOST_OK, "no swap");
	} else if (sw && atoi(sw) <= 10) {
		ITEM(it, CM_HOST_OK, "%zu swap areas, swappiness %s", n, sw);
	} else {
		ITEM(it, CM_HOST_WARN, "%zu swap areas, swappiness %s", n, sw ? sw : "?");
		if (sw)
			change(c, "/proc/sys/vm/swappiness", "1", NULL);
	}
	snprintf(it->fix, sizeof(it->fix), "swappiness 1: qemu's pages stay in memory between boots");
	free(sw);
}

/* Interrupts away from the measuring CPUs (only when run.cpus names them). */
static void check_irqs(struct ctx *c, struct cm_host_item *it)
{
	snprintf(it->fix, sizeof(it->fix), "interrupts on the CPUs coldmark does not measure on");
	cpu_set_t mine, all, rest;
	if (!c->cpus || cm_cpulist_parse(c->cpus, &mine)) {
		ITEM(it, CM_HOST_NA, "no run.cpus given (--cpus): nothing to keep them from");
		return;
	}
	int cpu[1024];
	size_t n = cpus_of(NULL, cpu, 1024);
	CPU_ZERO(&all);
	for (size_t i = 0; i < n; i++)
		CPU_SET(cpu[i], &all);
	CPU_XOR(&rest, &all, &mine);
	CPU_AND(&rest, &rest, &all);
	char want[256];
	cm_cpulist_format(&rest, want, sizeof(want));
	if (!CPU_COUNT(&rest)) {
		ITEM(it, CM_HOST_NA, "run.cpus %s leaves no other CPU for interrupts", c->cpus);
		return;
	}
	char *root = cm_host_path("/proc/irq");
	DIR *d = opendir(root);
	size_t on = 0, total = 0;
	for (struct dirent *e; d && (e = readdir(d));) {
		if (!isdigit((unsigned char)e->d_name[0]))
			continue;
		char *path = cm_xasprintf("/proc/irq/%s/smp_affinity_list", e->d_name), *v = get(path);
		cpu_set_t s;
		if (v && !cm_cpulist_parse(v, &s)) {
			total++;
			CPU_AND(&s, &s, &mine);
			bool hits = CPU_COUNT(&s) > 0;
			on += hits;
			if (hits)
				change(c, path, want, NULL);
		}
		free(v), free(path);
	}
	if (d)
		closedir(d);
	free(root);
	if (on)
		ITEM(it, CM_HOST_WARN, "%zu of %zu interrupts may land on %s", on, total, c->cpus);
	else
		ITEM(it, CM_HOST_OK, "none of %zu interrupts on %s", total, c->cpus);
}

/* Other processes that used a CPU in the last half second. */
static void check_busy(struct ctx *c, struct cm_host_item *it)
{
	(void)c;
	snprintf(it->fix, sizeof(it->fix), "stop them, or measure on CPUs they do not use");
	cm_host_busy(it->value, sizeof(it->value), 500, &it->verdict);
}

static const struct {
	const char *name;
	void (*check)(struct ctx *c, struct cm_host_item *it);
	bool tunable;
} checks[] = {
	{ "cpufreq governor", check_governor, true },
	{ "frequency limits", check_freq_limits, true },
	{ "turbo/boost", check_turbo, true },
	{ "SMT", check_smt, false },
	{ "isolated CPUs", check_isolation, false },
	{ "transparent hugepages", check_thp, true },
	{ "ASLR", check_aslr, false },
	{ "perf sample rate", check_perf_rate, true },
	{ "swap", check_swap, true },
	{ "interrupt affinity", check_irqs, true },
	{ "other busy processes", check_busy, false },
};
#define NCHECKS (sizeof(checks) / sizeof(checks[0]))

/* The files tune writes, and the only ones reset will write: a state file is no licence to
 * write anywhere else under /sys or /proc. Keep it beside the checks that write them. */
static const char *const tunable_paths[] = {
	"/sys/devices/system/cpu/cpu[0-9]*/cpufreq/scaling_governor",
	"/sys/devices/system/cpu/cpu[0-9]*/cpufreq/scaling_min_freq",
	"/sys/devices/system/cpu/cpu[0-9]*/cpufreq/scaling_max_freq",
	"/sys/devices/system/cpu/intel_pstate/no_turbo",
	"/sys/devices/system/cpu/cpufreq/boost",
	"/sys/kernel/mm/transparent_hugepage/enabled",
	"/proc/sys/kernel/perf_event_max_sample_rate",
	"/proc/sys/vm/swappiness",
	"/proc/irq/[0-9]*/smp_affinity_list",
};

bool cm_host_tunable_path(const char *path)
{
	/* canonical: absolute, no empty, "." or ".." component, no control byte or space */
	if (path[0] != '/' || strstr(path, "//") || strstr(path, "/./") || strstr(path, "/../"))
		return false;
	size_t len = strlen(path);
	if (path[len - 1] == '/' || (len >= 2 && !strcmp(path + len - 2, "/.")) ||
	    (len >= 3 && !strcmp(path + len - 3, "/..")))
		return false;
	for (const char *s = path; *s; s++)
		if ((unsigned char)*s <= ' ' || *s == 0x7f)
			return false;
	for (size_t i = 0; i < sizeof(tunable_paths) / sizeof(tunable_paths[0]); i++)
		if (!fnmatch(tunable_paths[i], path, FNM_PATHNAME | FNM_PERIOD))
			return true;
	return false;
}

size_t cm_host_run_checks(const char *cpus, struct cm_tune_log *log, struct cm_host_item *out,
			  size_t max, size_t *changed)
{
	struct ctx *c = cm_xcalloc(1, sizeof(*c));
	c->cpus = cpus;
	c->log = log;
	c->ncpu = cpus_of(c->cpus, c->cpu, sizeof(c->cpu) / sizeof(c->cpu[0]));
	size_t n = 0;
	for (size_t i = 0; i < NCHECKS && n < max; i++) {
		struct cm_host_item *it = &out[n++];
		memset(it, 0, sizeof(*it));
		it->name = checks[i].name;
		it->tunable = checks[i].tunable;
		checks[i].check(c, it);
	}
	if (changed)
		*changed = c->changed;
	free(c);
	return n;
}

size_t cm_host_check(const char *cpus, struct cm_host_item *out, size_t max)
{
	return cm_host_run_checks(cpus, NULL, out, max, NULL);
}
