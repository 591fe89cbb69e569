/* The host as a thing to check, tune and watch: `coldmark host check|tune|reset` (what would
 * move boot times, the fix, the prior state saved and restored exactly), CPU lists for
 * run.cpus, and the per-boot audit of the clock and thermal throttling. */
#ifndef COLDMARK_HOST_H
#define COLDMARK_HOST_H

#define _GNU_SOURCE
#include <sched.h>
#include <stdbool.h>
#include <stddef.h>

#include "coldmark/util.h"

/* A host path under the sysroot (COLDMARK_SYSROOT: a tree of fake /sys and /proc for tests). */
char *cm_host_path(const char *path);
/* "2-3,6" <-> a cpu_set_t ("" is no list: -1). */
int cm_cpulist_parse(const char *s, cpu_set_t *set);
void cm_cpulist_format(const cpu_set_t *set, char *out, size_t n);
/* The online CPUs' ids (/sys/devices/system/cpu/online: not always 0..n-1). 0, or -1. */
int cm_cpus_online(cpu_set_t *set);
/* A CPU list to measure on (run.cpus, --cpus): not empty, well formed, every CPU online. 0 with
 * the list and the online CPUs, or -1 with err (what is wrong, to follow "run.cpus "). */
int cm_cpulist_check(const char *s, cpu_set_t *want, cpu_set_t *online, struct cm_error *err);

enum cm_host_verdict { CM_HOST_OK, CM_HOST_WARN, CM_HOST_NA };
struct cm_host_item {
	const char *name;
	enum cm_host_verdict verdict;
	char value[256]; /* what is */
	char fix[256];   /* what would be better, and whether tune does it */
	bool tunable;
};
#define CM_HOST_MAX_ITEMS 16

/* Every check, for the measuring CPUs cpus (run.cpus; NULL: all). */
size_t cm_host_check(const char *cpus, struct cm_host_item *out, size_t max);
/* What tune and reset return besides 0: the host refused or failed (exit 3), or what they were
 * given is refused (exit 2: a state file not to be trusted, test hooks under root). */
#define CM_HOST_FAILED (-1)
#define CM_HOST_REFUSED (-2)
/* Applies every tunable fix, each prior value written and synced to the state file
 * (/var/lib/coldmark/host-tune.state) before its setting changes, so that reset restores all
 * of it whenever tune is stopped; the items as they were before. Refuses without root, or when
 * tuned already. 0, or CM_HOST_FAILED / CM_HOST_REFUSED with err. */
int cm_host_tune(const char *cpus, struct cm_host_item *out, size_t max, size_t *nitems,
		 size_t *changed, struct cm_error *err);
/* Writes every saved value back (the files tune writes, nothing else) and removes the state.
 * 0, or CM_HOST_FAILED / CM_HOST_REFUSED with err. */
int cm_host_reset(size_t *restored, struct cm_error *err);
/* Is the host tuned (a saved state exists)? when: since when. */
bool cm_host_tuned(char *when, size_t n);
/* Processes other than coldmark that used a CPU over ms milliseconds: "none", or
 * "stress-ng 98% (pid 123), ..."; *verdict WARN when any used 10% or more. */
void cm_host_busy(char *out, size_t n, int ms, enum cm_host_verdict *verdict);

/* The per-boot audit: the clock of the CPUs (mean scaling_cur_freq, kHz; 0 unknown) and the
 * thermal throttle events so far (core + package; -1 unknown). */
struct cm_clock {
	double khz;
	long long throttled;
};
void cm_host_clock(const char *cpus, struct cm_clock *out);

#endif
