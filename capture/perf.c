/* In-process marker capture through libperf: system-wide tracepoint events, one ring per CPU,
 * opened once per run (closing the last event on a tracepoint costs tens of ms) and kept
 * across boots. Filters run in the kernel so that only marker writes, qemu's exec and the
 * first guest instruction reach user space. */
#include <errno.h>
#include <fcntl.h>
#include <perf/core.h>
#include <perf/cpumap.h>
#include <perf/event.h>
#include <perf/evlist.h>
#include <dirent.h>
#include <sys/ioctl.h>
#include <linux/perf_event.h>
#include <perf/evsel.h>
#include <perf/mmap.h>
#include <perf/threadmap.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <time.h>
#include <traceevent/event-parse.h>
#include <unistd.h>

#include "coldmark/capture.h"
#include "coldmark/profile.h"

/* Global in libperf.a, hidden in libperf.so: the reason coldmark links libperf statically. */
int perf_evsel__apply_filter(struct perf_evsel *evsel, const char *filter);

#define MAX_TP_ID 65536

struct cm_perf {
	struct perf_evlist *evlist;
	struct perf_cpu_map *cpus;
	struct perf_thread_map *threads;
	struct tep_handle *tep;
	int *kinds; /* tracepoint id -> enum cm_tp_kind */
	struct perf_evsel *first[2];
	size_t nfirst;
	char first_name[96];
	bool first_seen, first_off;
	int first_id[2];        /* tracepoint ids of first[] */
	int fired;              /* index in first[] of this boot's first entry; -1: none yet */
	int *ring_fd;           /* the fd that owns each CPU's ring (pio's), to poll on */
	char *first_filter;     /* the first-entry events' filter, for reopening them */
	bool first_closed;      /* closed after this boot's first entry: reopened by begin */
	bool first_open[2];     /* first[i] has its fds (libperf's disable would crash on none) */
	bool has_exit;          /* sched:sched_process_exit is open: qemu's end, kernel-stamped */
	pthread_t closer;       /* closing the first-entry events after their hit */
	bool closing;
	int ncpu;
	unsigned fired_ever;    /* bit per first[]: gave some boot its first entry */
	/* waves (run.concurrency): K qemus at once share the rings. A sample belongs to the qemu
	 * whose pid (the tgid PERF_SAMPLE_TID gives, whichever vCPU thread wrote) it carries;
	 * the records of a wave's other boots wait in the stash until their launcher drains. */
	pthread_mutex_t lock;   /* the launchers of one wave drain from their own threads */
	int wave;               /* boots in the current wave; 0: one boot at a time */
	struct stash { pid_t pid; struct cm_events ev; } *stash;
	size_t nstash;
	pid_t *first_pids;      /* the wave's boots whose first entry is in */
	size_t nfirst_pids;
	uint64_t wave_lost;     /* lost records cannot be told apart: every boot of the wave has them */
	struct cm_profile *prof; /* run.profile (issue 28): its own events and rings */
	char prof_why[160];
	unsigned *ports;        /* the marker ports: the drain keeps writes to these only */
	size_t nports;
};

static bool marker_port(const struct cm_perf *p, uint64_t port)
{
	for (size_t i = 0; i < p->nports; i++)
		if (p->ports[i] == port)
			return true;
	return false;
}

static int cmp_int(const void *a, const void *b)
{
	int x = *(const int *)a, y = *(const int *)b;
	return (x > y) - (x < y);
}

static int quiet(enum libperf_print_level level, const char *fmt, va_list ap)
{
	(void)level, (void)fmt, (void)ap;
	return 0;
}

static struct perf_evsel *add_tp(struct cm_perf *p, const char *tracefs, const char *system,
				 const char *name, enum cm_tp_kind kind, struct cm_error *err)
{
	char path[768];
	size_t len;
	snprintf(path, sizeof(path), "%s/events/%s/%s/format", tracefs, system, name);
	char *text = cm_read_file(path, &len);
	if (!text) {
		cm_error_set(err, CM_ERR(CM_EHOST), "tracepoint %s:%s not available (%s: %s)", system, name, path,
			 strerror(errno));
		return NULL;
	}
	int id = cm_tp_add_format(p->tep, system, text, len, kind, p->kinds, MAX_TP_ID);
	free(text);
	if (id < 0) {
		cm_error_set(err, CM_ERR(CM_EHOST), "cannot parse the format of %s:%s", system, name);
		return NULL;
	}
	struct perf_event_attr attr = {
		.type = PERF_TYPE_TRACEPOINT,
		.size = sizeof(attr),
		.config = (unsigned)id,
		.sample_period = 1,
		/* what the drain reads, no more (no CPU: a ring is a CPU's) */
		.sample_type = PERF_SAMPLE_TID | PERF_SAMPLE_TIME | PERF_SAMPLE_RAW,
		.disabled = 1,
		/* a wakeup per sample of a frequent event means an IPI each: only the first-entry
		 * event wakes its ring's reader, once per boot, so that it is disabled at once */
		.wakeup_events = kind == CM_TP_FIRST_ENTRY,
		.use_clockid = 1,
		.clockid = CLOCK_MONOTONIC,
	};
	struct perf_evsel *e = perf_evsel__new(&attr);
	if (!e) {
		cm_error_set(err, CM_ERR(CM_EHOST), "out of memory");
		return NULL;
	}
	perf_evlist__add(p->evlist, e);
	return e;
}

/* The perf fds open now (sorted): what perf_evlist__open adds are the others. libperf keeps
 * its fds to itself, and the first-entry event needs its own. */
static size_t perf_fds(int *out, size_t max)
{
	DIR *d = opendir("/proc/self/fd");
	size_t k = 0;
	for (struct dirent *e; d && (e = readdir(d)) && k < max;) {
		char path[64], link[64];
		snprintf(path, sizeof(path), "/proc/self/fd/%.20s", e->d_name);
		ssize_t n = readlink(path, link, sizeof(link) - 1);
		if (n > 0 && (link[n] = 0, !strcmp(link, "anon_inode:[perf_event]")))
			out[k++] = atoi(e->d_name);
	}
	if (d)
		closedir(d);
	qsort(out, k, sizeof(int), cmp_int);
	return k;
}

/* libperf opens every evsel over every CPU in list order (pio first) and closes nothing in
 * between, each open taking the lowest free fd: so the new perf fds, sorted, are in the order
 * they were opened, and the first ncpu are pio's, which own the rings the others write to.
 * When the count does not add up, nothing is polled (ring_fd NULL) and the first-entry event
 * waits for the periodic drain to be disabled. */
/* The perf fds open now that were not in before (sorted): those opened since, in order. */
static size_t new_perf_fds(const int *before, size_t nbefore, int *out, size_t max)
{
	int all[1024];
	size_t nall = perf_fds(all, 1024), k = 0;
	for (size_t i = 0; i < nall && k < max; i++)
		if (!bsearch(&all[i], before, nbefore, sizeof(int), cmp_int))
			out[k++] = all[i];
	return k;
}

static void find_ring_fds(struct cm_perf *p, const int *before, size_t nbefore)
{
	int ncpu = perf_cpu_map__nr(p->cpus), nev = 2 + p->has_exit + (int)p->nfirst, fresh[1024];
	if ((int)new_perf_fds(before, nbefore, fresh, 1024) != nev * ncpu)
		return;
	p->ncpu = ncpu;
	p->ring_fd = cm_xcalloc((size_t)ncpu, sizeof(int));
	memcpy(p->ring_fd, fresh, (size_t)ncpu * sizeof(int));
}

/* The first_entry tracepoints into p (with their filter into filtered/filters); 0, or -1 with
 * err set. */
static int add_first_entry(struct cm_perf *p, const struct cm_perf_config *cfg,
			   const char *tracefs, struct perf_evsel **filtered, char **filters,
			   size_t *nf, struct cm_error *err)
{
	/* first_entry: kvm:kvm_entry where it fires; kvm:kvm_emulate_insn at the reset vector on
	 * hosts that emulate the first instruction (nested, as ours). auto takes the earlier. */
	const char *want = cfg->first_entry ? cfg->first_entry : "auto";
	const char *cands[2][2] = { { "kvm", "kvm_entry" }, { "kvm", "kvm_emulate_insn" } };
	char sys[64] = "", name[64] = "";
	size_t ncand = 2;
	if (strcmp(want, "auto")) {
		if (sscanf(want, "%63[^:]:%63s", sys, name) != 2) {
			cm_error_set(err, CM_ERR(CM_EHOST), "first_entry event '%s' is not system:name", want);
			return -1;
		}
		cands[0][0] = sys;
		cands[0][1] = name;
		ncand = 1;
	}
	for (size_t i = 0; i < ncand; i++) {
		struct cm_error e2 = { 0 };
		struct perf_evsel *e = add_tp(p, tracefs, cands[i][0], cands[i][1],
					      CM_TP_FIRST_ENTRY, &e2);
		if (!e) {
			if (ncand == 1) {
				cm_error_set(err, CM_ERR(CM_EHOST), "%s", e2.msg);
				return -1;
			}
			continue;
		}
		p->first_id[p->nfirst] = (int)perf_evsel__attr(e)->config;
		p->first[p->nfirst++] = e;
		if (cfg->first_entry_filter && *cfg->first_entry_filter) {
			free(p->first_filter);
			p->first_filter = cm_xstrdup(cfg->first_entry_filter);
			filtered[*nf] = e;
			filters[(*nf)++] = cm_xstrdup(cfg->first_entry_filter);
		}
		snprintf(p->first_name + strlen(p->first_name),
			 sizeof(p->first_name) - strlen(p->first_name), "%s%s:%s",
			 p->nfirst > 1 ? "|" : "", cands[i][0], cands[i][1]);
	}
	return 0;
}

struct cm_perf *cm_perf_open(const struct cm_perf_config *cfg, struct cm_error *err)
{
	struct cm_perf *p = cm_xcalloc(1, sizeof(*p));
	pthread_mutex_init(&p->lock, NULL);
	struct perf_evsel *pio, *exec;
	struct perf_evsel *filtered[5];
	char *filters[5] = { 0 };
	size_t nf = 0;
	struct cm_tracefs tf = { .state = CM_TRACEFS_READABLE };
	if (!cfg->tracefs)
		cm_tracefs_find(true, &tf);
	const char *tracefs = cfg->tracefs ? cfg->tracefs : tf.path;

	libperf_init(quiet);
	if (tf.state != CM_TRACEFS_READABLE) { /* not "not mounted" when it is, but shut */
		cm_tracefs_why(&tf, err->msg, sizeof(err->msg));
		err->code = CM_ERR(CM_EHOST);
		goto fail;
	}
	p->fired = -1;
	p->tep = tep_alloc();
	p->kinds = cm_xcalloc(MAX_TP_ID, sizeof(int));
	p->evlist = perf_evlist__new();

	if (!(pio = add_tp(p, tracefs, "kvm", "kvm_pio", CM_TP_PIO, err)))
		goto fail;
	/* Every port write, not only the markers' ports: the ports are picked in the drain. A
	 * filter that lets through only the few marker writes of a boot leaves the event's ring
	 * and its bookkeeping cold in the cache by the time a marker comes, and writing its sample
	 * then cost 0.9-1.0 us (median, in the tracepoint, after the time stamp) against perf
	 * record's 0.25-0.35 us; with every write (~650 a boot of the bundled guest) it is warm:
	 * 0.27 us (scripts/observer.sh, section 5). Reads stay out: there are as many. */
	p->ports = cm_xmalloc((cfg->nports + 1) * sizeof(unsigned));
	memcpy(p->ports, cfg->ports, cfg->nports * sizeof(unsigned));
	p->nports = cfg->nports;
	filtered[nf] = pio;
	filters[nf++] = cm_xstrdup("rw == 1");

	if (!(exec = add_tp(p, tracefs, "sched", "sched_process_exec", CM_TP_EXEC, err)))
		goto fail;
	/* Another program execs ~20 times a second: keep only qemu's binary. */
	const char *base = strrchr(cfg->qemu_path, '/');
	filtered[nf] = exec;
	filters[nf++] = cm_xasprintf("filename ~ \"*%s\"", base ? base + 1 : cfg->qemu_path);

	/* qemu's end, stamped by the kernel: the launcher's own stamp is when coldmark woke up,
	 * late by however long coldmark was stopped or waiting for a CPU. Optional (the
	 * launcher's stamp stays); only the process's last thread where the kernel says which.
	 * No wakeups: read with the boot's other samples. */
	struct cm_error exit_err = { 0 };
	char *exit_fmt = cm_xasprintf("%s/events/sched/sched_process_exit/format",
						     tracefs);
	size_t exit_len;
	char *exit_text = cm_read_file(exit_fmt, &exit_len);
	struct perf_evsel *ex = add_tp(p, tracefs, "sched", "sched_process_exit", CM_TP_EXIT,
				       &exit_err);
	p->has_exit = ex != NULL;
	if (ex && exit_text && strstr(exit_text, "group_dead")) {
		filtered[nf] = ex;
		filters[nf++] = cm_xstrdup("group_dead == 1");
	}
	free(exit_text);
	free(exit_fmt);

	if (add_first_entry(p, cfg, tracefs, filtered, filters, &nf, err))
		goto fail;

	p->cpus = perf_cpu_map__new(NULL);
	p->threads = perf_thread_map__new_dummy();
	perf_evlist__set_maps(p->evlist, p->cpus, p->threads);
	int before[1024];
	size_t nbefore = perf_fds(before, 1024);
	int rc = perf_evlist__open(p->evlist);
	if (rc) {
		int e = -rc;
		cm_error_set(err, CM_ERR(CM_EHOST), "perf_event_open of system-wide tracepoints failed: %s%s",
			 strerror(e),
			 e == EACCES || e == EPERM
				 ? " (needs root, CAP_PERFMON, or kernel.perf_event_paranoid <= -1)"
				 : "");
		goto fail;
	}
	for (size_t i = 0; i < nf; i++) {
		if (perf_evsel__apply_filter(filtered[i], filters[i])) {
			cm_error_set(err, CM_ERR(CM_EHOST), "the kernel refused the filter '%s'", filters[i]);
			goto fail;
		}
	}
	/* 64 pages per CPU is plenty for filtered markers */
	if (perf_evlist__mmap(p->evlist, 64)) {
		cm_error_set(err, CM_ERR(CM_EHOST), "cannot mmap the perf ring buffers: %s", strerror(errno));
		goto fail;
	}
	perf_evlist__enable(p->evlist);
	find_ring_fds(p, before, nbefore);
	if (cfg->profile) /* after find_ring_fds, which counts the perf fds opened above */
		p->prof = cm_profile_open(tracefs, cfg->profile_emulated, p->prof_why,
					  sizeof(p->prof_why));
	for (size_t i = 0; i < p->nfirst; i++)
		p->first_open[i] = true;
	for (size_t i = 0; i < nf; i++)
		free(filters[i]);
	return p;
fail:
	for (size_t i = 0; i < nf; i++)
		free(filters[i]);
	cm_perf_close(p);
	return NULL;
}

const char *cm_perf_first_entry_name(const struct cm_perf *p)
{
	return p->first_name;
}

/* Where a sample of process spid goes: the draining boot's events, another boot's stash in
 * a wave, or nowhere (NULL). */
static struct cm_events *target(struct cm_perf *p, pid_t pid, struct cm_events *ev, pid_t spid)
{
	if (spid == pid)
		return ev;
	if (!p->wave || !ev)
		return NULL;
	for (size_t i = 0; i < p->nstash; i++)
		if (p->stash[i].pid == spid)
			return &p->stash[i].ev;
	p->stash = cm_xrealloc(p->stash, (p->nstash + 1) * sizeof(*p->stash));
	p->stash[p->nstash] = (struct stash){ .pid = spid };
	return &p->stash[p->nstash++].ev;
}

/* A first entry of some boot in: in a wave, the events are on until every boot has its own. */
static void first_in(struct cm_perf *p, pid_t spid)
{
	if (!p->wave) {
		p->first_seen = true;
		return;
	}
	for (size_t i = 0; i < p->nfirst_pids; i++)
		if (p->first_pids[i] == spid)
			return;
	p->first_pids = cm_xrealloc(p->first_pids, (p->nfirst_pids + 1) * sizeof(pid_t));
	p->first_pids[p->nfirst_pids++] = spid;
	p->first_seen = p->nfirst_pids >= (size_t)p->wave;
}

/* Reads every ring; samples of pid go to ev (when ev is non-NULL), a wave's others to the
 * stash. */
static void drain(struct cm_perf *p, pid_t pid, struct cm_events *ev)
{
	struct perf_mmap *map;
	perf_evlist__for_each_mmap(p->evlist, map, false)
	{
		if (perf_mmap__read_init(map) < 0)
			continue;
		union perf_event *e;
		while ((e = perf_mmap__read_event(map)) != NULL) {
			if (e->header.type == PERF_RECORD_LOST && ev) {
				ev->lost += e->lost.lost;
				p->wave_lost += p->wave ? e->lost.lost : 0;
			} else if (e->header.type == PERF_RECORD_SAMPLE && ev) {
				/* layout for TID | TIME | RAW */
				const unsigned char *d = (const unsigned char *)e + sizeof(e->header);
				uint32_t spid, size;
				uint64_t time;
				memcpy(&spid, d, 4);
				memcpy(&time, d + 8, 8);
				memcpy(&size, d + 16, 4);
				struct cm_tp_record r;
				if (cm_tp_decode(p->tep, p->kinds, MAX_TP_ID, (void *)(d + 20), (int)size,
						 &r) == 0 && (r.kind != CM_TP_PIO || marker_port(p, r.port))) {
					struct cm_events *to = target(p, pid, ev,
								      r.kind == CM_TP_EXEC ? r.pid
											   : (pid_t)spid);
					if (!to)
						;
					else if (r.kind == CM_TP_EXEC)
						cm_events_add(to, CM_EVENT_EXEC, (int64_t)time, 0, 0);
					else if (r.kind == CM_TP_PIO)
						cm_events_add_port(to, (int64_t)time, (unsigned)r.port,
								     (unsigned)r.val, "perf", false);
					else if (r.kind == CM_TP_FIRST_ENTRY) {
						const struct cm_event *f =
							cm_events_find(to, CM_EVENT_FIRST_ENTRY);
						bool earlier = !f || (int64_t)time < f->ts_ns;
						if (!f)
							cm_events_add(to, CM_EVENT_FIRST_ENTRY,
								      (int64_t)time, 0, 0);
						else if (earlier)
							((struct cm_event *)f)->ts_ns = (int64_t)time;
						for (size_t i = 0; earlier && i < p->nfirst; i++)
							if (p->first_id[i] == r.type)
								p->fired = (int)i;
						first_in(p, (pid_t)spid);
					} else if (r.kind == CM_TP_EXIT && r.group_dead != 0) {
						/* the last thread's (or, unknown which, the latest) */
						const struct cm_event *x =
							cm_events_find(to, CM_EVENT_EXIT_KERNEL);
						if (!x)
							cm_events_add(to, CM_EVENT_EXIT_KERNEL,
								      (int64_t)time, 0, 0);
						else if ((int64_t)time > x->ts_ns)
							((struct cm_event *)x)->ts_ns = (int64_t)time;
					}
				}
			}
			perf_mmap__consume(map);
		}
		perf_mmap__read_done(map);
	}
}

bool cm_perf_first_entry_woken(const struct cm_perf *p)
{
	return p->nfirst && p->ring_fd;
}

static void *close_first(void *arg)
{
	struct cm_perf *p = arg;
	for (size_t i = 0; i < p->nfirst; i++)
		if (p->first_open[i]) {
			perf_evsel__close(p->first[i]);
			p->first_open[i] = false; /* read by the main thread only after the join */
		}
	return NULL;
}

static void join_closer(struct cm_perf *p)
{
	if (p->closing)
		pthread_join(p->closer, NULL);
	p->closing = false;
}

/* COLDMARK_FIRST_ENTRY_WAKEUP=0: the periodic drain alone disables the first-entry event, as
 * before (scripts/observer.sh measures what the wakeup and the close save against it) */
static bool wakeup_on(void)
{
	const char *w = getenv("COLDMARK_FIRST_ENTRY_WAKEUP");
	return !w || strcmp(w, "0");
}

size_t cm_perf_poll_fds(const struct cm_perf *p, int *fds, size_t max)
{
	size_t n = 0;
	if (!wakeup_on())
		return 0;
	/* until the first entry is in: its sample wakes the reader, which disables it */
	for (int c = 0; p->ring_fd && !p->first_seen && c < p->ncpu && n < max; c++)
		fds[n++] = p->ring_fd[c];
	return n;
}

/* After a boot's first entry the first-entry events are closed, not just disabled: a disabled
 * event keeps its tracepoint's probe registered, and kvm:kvm_emulate_insn's probe alone cost
 * the bundled guest's long-mode work loop 3-4% on the development host (every instruction is
 * emulated there). Reopened here, between boots, into the same rings. 0 or -errno. */
static int reopen_first(struct cm_perf *p)
{
	for (size_t i = 0; i < p->nfirst; i++) {
		int before[1024], fresh[1024];
		size_t nb = perf_fds(before, 1024);
		if (p->first_open[i])
			continue;
		int rc = perf_evsel__open(p->first[i], p->cpus, p->threads);
		if (rc)
			return rc;
		p->first_open[i] = true;
		if ((int)new_perf_fds(before, nb, fresh, 1024) != p->ncpu)
			return -EBADF;
		for (int c = 0; c < p->ncpu; c++)
			if (ioctl(fresh[c], PERF_EVENT_IOC_SET_OUTPUT, p->ring_fd[c]))
				return -errno;
		if (p->first_filter && perf_evsel__apply_filter(p->first[i], p->first_filter))
			return -EINVAL;
	}
	p->first_closed = false;
	return 0;
}

static void begin(struct cm_perf *p)
{
	drain(p, -1, NULL); /* what came before this boot is not its own */
	if (p->prof)
		cm_profile_drain(p->prof, -1, NULL);
	p->first_seen = p->first_off = false;
	p->fired = -1;
	join_closer(p);
	if (p->first_closed && reopen_first(p))
		/* the rings cannot take them again: this boot goes without (missing_marker) */
		fprintf(stderr, "coldmark: cannot reopen the first-entry event\n");
	for (size_t i = 0; i < p->nfirst; i++)
		if (p->first_open[i])
			perf_evsel__enable(p->first[i]);
}

void cm_perf_begin(struct cm_perf *p)
{
	pthread_mutex_lock(&p->lock);
	if (!p->wave) /* in a wave, cm_perf_wave_begin armed it once for every boot */
		begin(p);
	pthread_mutex_unlock(&p->lock);
}

static void stash_clear(struct cm_perf *p)
{
	for (size_t i = 0; i < p->nstash; i++)
		cm_events_free(&p->stash[i].ev);
	p->nstash = p->nfirst_pids = 0;
	p->wave_lost = 0;
}

void cm_perf_wave_begin(struct cm_perf *p, int k)
{
	pthread_mutex_lock(&p->lock);
	p->wave = 0;
	stash_clear(p);
	begin(p);
	p->wave = k > 1 ? k : 0;
	pthread_mutex_unlock(&p->lock);
}

/* What the wave's other launchers drained of pid's samples, into ev: a port write keeps its
 * earliest time, the first entry its earliest, the kernel's exit its latest. */
static void unstash(struct cm_perf *p, pid_t pid, struct cm_events *ev)
{
	for (size_t i = 0; i < p->nstash; i++) {
		if (p->stash[i].pid != pid)
			continue;
		struct cm_events *from = &p->stash[i].ev;
		for (size_t e = 0; e < from->n; e++) {
			const struct cm_event *x = &from->v[e];
			if (x->kind == CM_EV_PORT) {
				cm_events_add_port(ev, x->ts_ns, x->port, x->value, x->source, x->shadow);
				continue;
			}
			struct cm_event *have = (struct cm_event *)cm_events_find(ev, x->name);
			bool latest = !strcmp(x->name, CM_EVENT_EXIT_KERNEL);
			if (!have)
				cm_events_add(ev, x->name, x->ts_ns, 0, 0);
			else if (latest ? x->ts_ns > have->ts_ns : x->ts_ns < have->ts_ns)
				have->ts_ns = x->ts_ns;
		}
		cm_events_free(from);
		*from = (struct cm_events){ 0 };
	}
}

void cm_perf_drain(struct cm_perf *p, pid_t pid, struct cm_events *ev)
{
	pthread_mutex_lock(&p->lock);
	drain(p, pid, ev);
	if (p->wave && ev) {
		unstash(p, pid, ev);
		if (ev->lost < p->wave_lost)
			ev->lost = p->wave_lost;
	}
	if (p->prof)
		cm_profile_drain(p->prof, pid, ev);
	/* Only the first entry matters: stop the event once it is in, so that its filter stops
	 * running on every emulated instruction or VM entry (5.5 million a boot of the bundled
	 * guest on a nested host). Its sample wakes the launcher's poll (wakeup_events 1 on the
	 * ring fds cm_perf_poll_fds gives), so this runs microseconds after the hit, not at the
	 * next periodic drain. Re-armed by cm_perf_begin. */
	if (p->first_seen && !p->first_off) {
		/* disabled at once: off the tracepoint's list, its filter runs no more */
		for (size_t i = 0; i < p->nfirst; i++)
			if (p->first_open[i])
				perf_evsel__disable(p->first[i]);
		p->first_off = true;
		if (ev) /* when it stopped costing anything, for the observer benchmark */
			cm_events_add(ev, CM_EVENT_FIRST_ENTRY_OFF, cm_now_ns(), 0, 0);
		/* and closed, so that the tracepoint's probe is unregistered too; a close waits
		 * for an RCU grace period (~80 ms here), so a thread does it, and the launcher goes
		 * on reading the boot's markers meanwhile */
		if (p->ring_fd && wakeup_on() && !cm_thread_start(&p->closer, close_first, p))
			p->closing = p->first_closed = true; /* the stop signals go to main */
	}
	if (p->fired >= 0)
		p->fired_ever |= 1u << p->fired;
	pthread_mutex_unlock(&p->lock);
}

/* "system:name" of the candidate with index i, from first_name "a:b|c:d" */
static void candidate_name(const struct cm_perf *p, int i, char *out, size_t n)
{
	const char *s = p->first_name;
	for (int k = 0; k < i && s; k++)
		if ((s = strchr(s, '|')))
			s++;
	snprintf(out, n, "%.*s", s ? (int)strcspn(s, "|") : 0, s ? s : "");
}

void cm_perf_first_entry_fired(const struct cm_perf *p, bool ever, char *out, size_t n)
{
	*out = 0;
	for (size_t i = 0; i < p->nfirst; i++) {
		if (ever ? !(p->fired_ever & (1u << i)) : p->fired != (int)i)
			continue;
		size_t len = strlen(out);
		if (len)
			snprintf(out + len, n - len, ", ");
		len = strlen(out);
		candidate_name(p, (int)i, out + len, n - len);
	}
}

void cm_perf_close(struct cm_perf *p)
{
	if (!p)
		return;
	join_closer(p);
	stash_clear(p);
	free(p->stash);
	free(p->first_pids);
	pthread_mutex_destroy(&p->lock);
	cm_profile_close(p->prof);
	free(p->ring_fd);
	free(p->first_filter);
	free(p->ports);
	if (p->evlist) {
		/* a first-entry event closed after its hit has no fds for libperf to disable */
		for (size_t i = 0; i < p->nfirst; i++)
			if (!p->first_open[i]) {
				perf_evlist__remove(p->evlist, p->first[i]);
				/* the references the evlist gave it, which its purge would drop */
				perf_cpu_map__put(perf_evsel__cpus(p->first[i]));
				perf_thread_map__put(perf_evsel__threads(p->first[i]));
				perf_evsel__delete(p->first[i]);
			}
		perf_evlist__disable(p->evlist);
		perf_evlist__munmap(p->evlist);
		perf_evlist__close(p->evlist);
		/* libperf 6.1 deletes an evsel without dropping the references to the maps the
		 * evlist gave it (LeakSanitizer: the CPU and thread maps, every run) */
		struct perf_evsel *e;
		perf_evlist__for_each_evsel(p->evlist, e) {
			perf_cpu_map__put(perf_evsel__cpus(e));
			perf_thread_map__put(perf_evsel__threads(e));
		}
		perf_evlist__delete(p->evlist); /* deletes its evsels */
	}
	perf_cpu_map__put(p->cpus);
	perf_thread_map__put(p->threads);
	if (p->tep)
		tep_free(p->tep);
	free(p->kinds);
	free(p);
}

struct cm_profile *cm_perf_profile(const struct cm_perf *p, const char **why)
{
	*why = p ? p->prof_why : "";
	return p ? p->prof : NULL;
}

bool cm_perf_built_in(void)
{
	return true;
}
