/* run.profile's capture (issue 28): what the guest made KVM do, as timestamped records of
 * qemu's process, for the runner to count per phase. Its own evlist and rings, system-wide
 * per CPU, opened once per run like the marker events (closing the last event on a
 * tracepoint costs tens of ms). Port I/O, MMIO, exits and KVM's page faults are a sample
 * each (thousands a boot); emulated instructions, millions a boot on a nested host, are
 * counted by the kernel, which hands out one sample per CM_PROF_EMUL_PERIOD. qemu's own CPU
 * time comes from sched:sched_switch (the slices its threads ran, per CPU). */
#include <errno.h>
#include <linux/perf_event.h>
#include <perf/core.h>
#include <perf/cpumap.h>
#include <perf/event.h>
#include <perf/evlist.h>
#include <perf/evsel.h>
#include <perf/mmap.h>
#include <perf/threadmap.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <traceevent/event-parse.h>

#include "coldmark/capture.h"
#include "coldmark/profile.h"


struct cm_profile {
	struct perf_evlist *evlist;
	struct perf_cpu_map *cpus;
	struct perf_thread_map *threads;
	struct tep_handle *tep;
	signed char *kind_by_id; /* tracepoint id -> enum cm_prof_kind + 1; 0: not ours */
	bool exit_fired;
	char names[256];
	struct cm_prof_cpus cpus_in; /* per CPU the last switch: who came in, when */
};

static const struct {
	const char *system, *name;
	enum cm_prof_kind kind;
	bool required;
} tps[] = {
	{ "kvm", "kvm_pio", CM_PROF_PIO, true },
	{ "kvm", "kvm_mmio", CM_PROF_MMIO, false },
	{ "kvm", "kvm_exit", CM_PROF_EXIT, false },
	{ "kvm", "kvm_emulate_insn", CM_PROF_EMUL, false },
	{ "kvm", "kvm_page_fault", CM_PROF_PF, false },
	/* qemu's own CPU time: its threads' slices on each CPU, switch in to switch out (not
	 * sched_stat_runtime: its perf count is the runtime, so with a period of 1 the kernel
	 * emits a sample per nanosecond run, until it throttles the event) */
	{ "sched", "sched_switch", CM_PROF_CPU, false },
};

static bool add(struct cm_profile *p, const char *tracefs, size_t i)
{
	char path[768];
	size_t len;
	snprintf(path, sizeof(path), "%s/events/%s/%s/format", tracefs, tps[i].system, tps[i].name);
	char *text = cm_read_file(path, &len);
	int id = text ? cm_prof_add_format(p->tep, tps[i].system, text, len, tps[i].kind,
					   p->kind_by_id) : -1;
	free(text);
	if (id < 0)
		return false;
	bool emul = tps[i].kind == CM_PROF_EMUL;
	struct perf_event_attr attr = {
		.type = PERF_TYPE_TRACEPOINT,
		.size = sizeof(attr),
		.config = (unsigned)id,
		.sample_period = emul ? CM_PROF_EMUL_PERIOD : 1,
		.sample_type = PERF_SAMPLE_TID | PERF_SAMPLE_TIME | PERF_SAMPLE_CPU | PERF_SAMPLE_RAW,
		.disabled = 1,
		.wakeup_events = 0, /* never an IPI per sample: drained with the markers */
		.use_clockid = 1,
		.clockid = CLOCK_MONOTONIC,
	};
	struct perf_evsel *e = perf_evsel__new(&attr);
	perf_evlist__add(p->evlist, e);
	size_t l = strlen(p->names);
	snprintf(p->names + l, sizeof(p->names) - l, "%s%s:%s", l ? ", " : "", tps[i].system,
		 tps[i].name);
	return true;
}

struct cm_profile *cm_profile_open(const char *tracefs, bool emulated, char *why, size_t nwhy)
{
	struct cm_profile *p = cm_xcalloc(1, sizeof(*p));
	p->tep = tep_alloc();
	p->kind_by_id = cm_xcalloc(CM_PROF_MAX_ID, 1);
	p->evlist = perf_evlist__new();
	/* COLDMARK_PROFILE_OMIT=name,name: tracepoints left out, so that scripts/observer.sh can
	 * measure what each one costs the boots (section 6) */
	const char *omit = getenv("COLDMARK_PROFILE_OMIT");
	for (size_t i = 0; i < sizeof(tps) / sizeof(tps[0]); i++)
		if ((omit && strstr(omit, tps[i].name) && !tps[i].required) ||
		    (tps[i].kind == CM_PROF_EMUL && !emulated))
			continue;
		else if (!add(p, tracefs, i) && tps[i].required) {
			snprintf(why, nwhy, "tracepoint %s:%s not available", tps[i].system,
				 tps[i].name);
			goto fail;
		}
	p->cpus = perf_cpu_map__new(NULL);
	p->threads = perf_thread_map__new_dummy();
	perf_evlist__set_maps(p->evlist, p->cpus, p->threads);
	int rc = perf_evlist__open(p->evlist);
	if (rc) {
		snprintf(why, nwhy, "perf_event_open of the profile's tracepoints: %s", strerror(-rc));
		goto fail;
	}
	/* a boot sends thousands of port and MMIO records between two drains */
	if (perf_evlist__mmap(p->evlist, 256)) {
		snprintf(why, nwhy, "cannot mmap the profile's rings: %s", strerror(errno));
		goto fail;
	}
	perf_evlist__enable(p->evlist);
	return p;
fail:
	cm_profile_close(p);
	return NULL;
}

void cm_profile_drain(struct cm_profile *p, pid_t pid, struct cm_events *ev)
{
	struct perf_mmap *map;
	if (ev && !ev->prof)
		ev->prof = cm_xcalloc(1, sizeof(*ev->prof));
	perf_evlist__for_each_mmap(p->evlist, map, false)
	{
		if (perf_mmap__read_init(map) < 0)
			continue;
		union perf_event *e;
		while ((e = perf_mmap__read_event(map)) != NULL) {
			if (e->header.type == PERF_RECORD_LOST && ev && pid >= 0) {
				ev->prof->lost += e->lost.lost;
			} else if (e->header.type == PERF_RECORD_SAMPLE) {
				/* layout for TID | TIME | CPU | RAW; every switch is read, whoever's:
				 * it says when the next slice on its CPU began */
				const unsigned char *d = (const unsigned char *)e + sizeof(e->header);
				uint32_t spid, cpu, size;
				uint64_t time;
				memcpy(&spid, d, 4);
				memcpy(&cpu, d + 16, 4);
				memcpy(&time, d + 8, 8);
				memcpy(&size, d + 24, 4);
				struct cm_prof_rec r = { .ts_ns = (int64_t)time };
				bool own = ev && pid >= 0 && (pid_t)spid == pid; /* a switch: prev's */
				if (!cm_prof_decode(p->tep, p->kind_by_id, (void *)(d + 28), size, &r) &&
				    (r.kind == CM_PROF_CPU ? cm_prof_switch(&p->cpus_in, cpu, own, &r)
							   : own)) {
					p->exit_fired |= r.kind == CM_PROF_EXIT;
					cm_prof_recs_add(ev->prof, &r);
				}
			}
			perf_mmap__consume(map);
		}
		perf_mmap__read_done(map);
	}
}

bool cm_profile_exit_fired(const struct cm_profile *p)
{
	return p && p->exit_fired;
}

const char *cm_profile_events(const struct cm_profile *p)
{
	return p ? p->names : "";
}

void cm_profile_close(struct cm_profile *p)
{
	if (!p)
		return;
	if (p->evlist) {
		perf_evlist__disable(p->evlist);
		perf_evlist__munmap(p->evlist);
		perf_evlist__close(p->evlist);
		/* libperf 6.1 keeps the map references the evlist gave each evsel (as perf.c) */
		struct perf_evsel *e;
		perf_evlist__for_each_evsel(p->evlist, e) {
			perf_cpu_map__put(perf_evsel__cpus(e));
			perf_thread_map__put(perf_evsel__threads(e));
		}
		perf_evlist__delete(p->evlist);
	}
	perf_cpu_map__put(p->cpus);
	perf_thread_map__put(p->threads);
	if (p->tep)
		tep_free(p->tep);
	free(p->kind_by_id);
	cm_prof_cpus_free(&p->cpus_in);
	free(p);
}
