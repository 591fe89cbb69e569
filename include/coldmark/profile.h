/* Profiling (issue 28): what a boot made KVM and qemu do, counted per phase. The capture
 * (capture/profile.c, behind the perf source) gathers timestamped records of the boot's
 * process; the runner attributes them to the phases that contain their timestamps and writes
 * profile.csv (case, boot, session, phase, counter, count); compare explains its changes. */
#ifndef COLDMARK_PROFILE_H
#define COLDMARK_PROFILE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <sys/types.h>

enum cm_prof_kind { CM_PROF_PIO, CM_PROF_MMIO, CM_PROF_EXIT, CM_PROF_EMUL, CM_PROF_PF, CM_PROF_CPU };

/* kvm:kvm_emulate_insn fires millions of times a boot on a nested host: the kernel counts it
 * and hands out one sample per this many, each standing for that many (never a sample each). */
#define CM_PROF_EMUL_PERIOD 1000

struct cm_prof_rec {
	int64_t ts_ns;   /* CLOCK_MONOTONIC */
	uint64_t key;    /* port; MMIO address; exit reason | isa << 32; CPU: ns run up to ts_ns
			  * (decoded: the switch's next_pid, until cm_prof_switch) */
	uint32_t weight; /* events it stands for */
	int32_t tid;     /* CPU: the thread switched out (prev_pid) */
	uint8_t kind, dir; /* dir: 0 read/in, 1 write/out */
};
struct cm_prof_recs {
	struct cm_prof_rec *v;
	size_t n, cap;
	uint64_t lost;
};
void cm_prof_recs_add(struct cm_prof_recs *r, const struct cm_prof_rec *rec);
void cm_prof_recs_free(struct cm_prof_recs *r);

/* Tracepoint formats and payloads (libtraceevent, fields by name): a format text parsed into
 * tep as kind (kind_by_id: CM_PROF_MAX_ID entries, kind + 1 by id; 0 not ours); the event id
 * or -1. A raw payload into out: 0, or -1 when it is none of ours. */
#define CM_PROF_MAX_ID 65536
struct tep_handle;
int cm_prof_add_format(struct tep_handle *tep, const char *system, const char *text, size_t len,
		       enum cm_prof_kind kind, signed char *kind_by_id);
int cm_prof_decode(struct tep_handle *tep, const signed char *kind_by_id, void *raw,
		   uint32_t size, struct cm_prof_rec *out);

/* qemu's memory map ("info mtree" of a paused qemu, address-space "memory"): its regions, so
 * that MMIO is counted by the device it hits (model/mtree.c). */
struct cm_mtree_region {
	uint64_t lo, hi; /* inclusive, as qemu prints them */
	char *name;      /* "hpet"; an alias by its own name ("smram-region") */
};
struct cm_mtree {
	struct cm_mtree_region *v;
	size_t n;
};
/* 0, or -1 when text has no address-space "memory" (out then empty). */
int cm_mtree_parse(const char *text, struct cm_mtree *out);
/* The innermost (smallest) region holding addr, a container spanning the whole address space
 * aside; NULL when none does. */
const struct cm_mtree_region *cm_mtree_find(const struct cm_mtree *t, uint64_t addr);
void cm_mtree_free(struct cm_mtree *t);
/* The case's memory map, asked of its paused qemu (harness/roms.c): 0, or -1 with err set. */
struct cm_error;
int cm_case_mtree(char *const *argv, struct cm_mtree *out, struct cm_error *err);

/* sched_switch records into slices: per CPU who was switched in last, and when. A switch
 * out of a thread (own: the sample is the boot's process) that came in on that CPU becomes
 * r: key = ns it ran up to r->ts_ns; true then. One whose switch in was not seen becomes r
 * with dir 1 and key = ns since the CPU's last switch seen (an upper bound). Every switch
 * record must pass, in each CPU's order (other processes' too: they say when a slice began). */
struct cm_prof_cpus {
	int64_t *in_ts;
	int32_t *in_tid;
	size_t n;
};
bool cm_prof_switch(struct cm_prof_cpus *c, unsigned cpu, bool own, struct cm_prof_rec *r);
void cm_prof_cpus_free(struct cm_prof_cpus *c);

/* A record's counter as profile.csv names it: "port 0x80 write", MMIO by the region of mt it
 * falls in ("mmio fed00000-fed003ff hpet read") else by page ("mmio 0xfed00000 read"; mt may
 * be NULL), "exit io", "emulated_insn", "page_fault", "qemu_cpu_ns", "qemu_cpu_unseen_ns". */
void cm_prof_counter_name(const struct cm_prof_rec *r, const struct cm_mtree *mt, char *out,
			  size_t n);
/* What a counter is, for reports ("POST", "CMOS RTC", "VM exits (io)"); "" when unknown. */
const char *cm_prof_counter_what(const char *counter);
/* The exit reason's name ("io", "ept_violation") or NULL. isa: 1 VMX, 2 SVM. */
const char *cm_prof_exit_reason(unsigned isa, unsigned reason);

/* The capture: system-wide tracepoint events of their own (own rings), opened once per run
 * with the perf source when run.profile is on; kvm:kvm_emulate_insn only when emulated (its
 * probe runs on every emulated instruction: +5-8% on the bundled guest's phases on a nested
 * host, scripts/observer.sh section 6). */
struct cm_profile;
struct cm_events;
struct cm_profile *cm_profile_open(const char *tracefs, bool emulated, char *why, size_t nwhy);
/* Moves the samples of pid into ev->prof (allocated on first use); pid < 0: forgets them. */
void cm_profile_drain(struct cm_profile *p, pid_t pid, struct cm_events *ev);
/* Did kvm:kvm_exit ever fire in this run (it never does on a nested host)? */
bool cm_profile_exit_fired(const struct cm_profile *p);
/* Which tracepoints it counts, for the header ("kvm:kvm_pio, kvm:kvm_mmio, ..."). */
const char *cm_profile_events(const struct cm_profile *p);
void cm_profile_close(struct cm_profile *p);

/* profile.csv read back (model/profile.c). */
struct cm_error;
struct cm_profile_row {
	char *case_id, *phase, *counter;
	int boot, session;
	double count;
};
struct cm_profile_data {
	struct cm_profile_row *rows;
	size_t n;
};
/* 0, or -1 with err naming the file and line. */
int cm_profile_load(const char *path, struct cm_profile_data *d, struct cm_error *err);
void cm_profile_data_free(struct cm_profile_data *d);
/* Per profiled boot of case in phase, the count of counter (0 where a boot has none);
 * returns the number of boots, *out malloc'd. */
size_t cm_profile_counts(const struct cm_profile_data *d, const char *case_id, const char *phase,
			 const char *counter, double **out);
/* The counters case has in phase (borrowed names, *out malloc'd). */
size_t cm_profile_counters(const struct cm_profile_data *d, const char *case_id,
			   const char *phase, char ***out);

#endif
