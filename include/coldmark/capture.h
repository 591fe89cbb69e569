/* Capture sources: where a boot's events come from. perf (kvm:kvm_pio, the qemu exec and the
 * first guest instruction, through libperf and libtraceevent) lives here; a build with
 * -DCOLDMARK_PERF=OFF has the same interface, whose open says the source is not built in. */
#ifndef COLDMARK_CAPTURE_H
#define COLDMARK_CAPTURE_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

#include "coldmark/matrix.h"

#include <stdint.h>

/* One timestamped event of a boot, as a source saw it: its identity (a host event or console
 * line by name, a port write by port and value), never a marker name, which is the matrix's
 * business and given once, when the boot is evaluated (cm_events_resolve). */
enum cm_event_kind { CM_EV_HOST, CM_EV_PORT, CM_EV_CONSOLE };
struct cm_event {
	enum cm_event_kind kind;
	char *name;         /* owned; a port write's is NULL until cm_events_resolve */
	int64_t ts_ns;      /* CLOCK_MONOTONIC */
	unsigned port, value;
	const char *source; /* the source that saw it ("perf", "debugcon", ...); NULL: the boot's */
	bool shadow;        /* a second source's view of the same boot: kept, makes no phase */
	size_t seq;         /* order of arrival, for ties in cm_events_sort */
};

struct cm_events {
	struct cm_event *v;
	size_t n, cap;
	uint64_t lost; /* records the kernel dropped during this boot (perf) */
	struct cm_prof_recs *prof; /* run.profile's records of this boot (profile.h); NULL: none */
};
/* A host event (exec, first_entry, exit) or a console marker, by name. */
void cm_events_add(struct cm_events *e, const char *name, int64_t ts_ns, unsigned port,
		   unsigned value);
/* A write to a marker port. A repeated write keeps its earliest time: the moment it first
 * happened (rings of different CPUs are read one after the other). */
void cm_events_add_port(struct cm_events *e, int64_t ts_ns, unsigned port, unsigned value,
			const char *source, bool shadow);
/* The same from the boot's own source (tests and replays). */
void cm_events_add_marker(struct cm_events *e, const struct cm_matrix *m, int64_t ts_ns,
			  unsigned port, unsigned value);
/* Names the port writes through m's marker table ("real_mode"; "mf4:153" for a value the table
 * does not know; "real_mode@debugcon" for a shadow source's). Idempotent. */
void cm_events_resolve(struct cm_events *e, const struct cm_matrix *m);
/* An event by name: host events, console markers, resolved port writes. */
const struct cm_event *cm_events_find(const struct cm_events *e, const char *name);
/* An event by marker name before resolution: port writes by the table's port and value. */
const struct cm_event *cm_events_find_marker(const struct cm_events *e, const struct cm_matrix *m,
					     const char *name);
/* Sorts by time (ties: order of arrival). Phases are computed before: a tie's order there
 * is the order of arrival too. */
void cm_events_sort(struct cm_events *e);
void cm_events_free(struct cm_events *e);

/* ---- capture sources ---------------------------------------------------------------------- */

/* perf: kvm:kvm_pio (marker ports), sched:sched_process_exec (qemu), first-entry event(s);
 * opened once per run, system-wide, per CPU. */
struct cm_perf;
struct cm_perf_config {
	const unsigned *ports;
	size_t nports;
	const char *qemu_path;        /* exec filter: its basename */
	const char *first_entry;      /* "auto" or "system:event" */
	const char *first_entry_filter;
	const char *tracefs;          /* NULL: find it */
	bool profile;                 /* run.profile: also open the profile's events (profile.h) */
	bool profile_emulated;        /* run.profile_emulated: kvm:kvm_emulate_insn among them */
};
struct cm_perf *cm_perf_open(const struct cm_perf_config *cfg, struct cm_error *err);
/* Before launching qemu: re-arms the first-entry events and forgets stale records. */
void cm_perf_begin(struct cm_perf *p);
/* Before a wave of k boots at once (k > 1; 1: back to one at a time): forgets stale records
 * and arms the first-entry events once for all of them; each boot's begin then does nothing,
 * and each drain keeps the other boots' samples (by the qemu pid they carry) for them. */
void cm_perf_wave_begin(struct cm_perf *p, int k);
/* Moves the records of process pid into ev (markers named through m). Thread-safe. */
void cm_perf_drain(struct cm_perf *p, pid_t pid, struct cm_events *ev);
/* Which tracepoint(s) give first_entry, for reports. */
const char *cm_perf_first_entry_name(const struct cm_perf *p);
/* Which opened event gave the first entry: of the last boot, or (ever) of any boot so far,
 * as "system:name" joined by ", "; "" when none fired. */
void cm_perf_first_entry_fired(const struct cm_perf *p, bool ever, char *out, size_t n);
/* Does the first-entry event's sample wake the launcher (so it is disabled microseconds after
 * its hit), rather than wait for the next periodic drain? */
bool cm_perf_first_entry_woken(const struct cm_perf *p);
/* The fds to poll for that wakeup, until this boot's first entry is in. */
size_t cm_perf_poll_fds(const struct cm_perf *p, int *fds, size_t max);
void cm_perf_close(struct cm_perf *p);
/* run.profile's capture riding on p (NULL: not asked, or not available: *why says why). */
struct cm_profile *cm_perf_profile(const struct cm_perf *p, const char **why);

/* Decoding of raw tracepoint payloads with libtraceevent, by field name (unit-tested on
 * embedded format files). */
struct tep_handle;
enum cm_tp_kind { CM_TP_UNKNOWN, CM_TP_PIO, CM_TP_EXEC, CM_TP_FIRST_ENTRY, CM_TP_EXIT };
struct cm_tp_record {
	enum cm_tp_kind kind;
	int type; /* the tracepoint's id */
	unsigned long long rw, port, val, count, size, rip;
	int pid;
	int group_dead; /* sched_process_exit: the process's last thread (1), another (0), -1:
			 * unknown (kernels before 6.16 have no such field) */
	char filename[256];
};
/* Parses a tracefs format text into tep, marking it as kind. Returns the event id or <0. */
int cm_tp_add_format(struct tep_handle *tep, const char *system, const char *text, size_t len,
		     enum cm_tp_kind kind, int *kinds_by_id, size_t nkinds);
int cm_tp_decode(struct tep_handle *tep, const int *kinds_by_id, size_t nkinds, void *raw,
		 int size, struct cm_tp_record *out);

/* tracefs location ("/sys/kernel/tracing" or the debugfs one), mounting it when allowed;
 * NULL when this process cannot read it (cm_tracefs_find says why). */
const char *cm_tracefs_path(bool try_mount, bool *mounted_now);
/* tracefs as this process sees it: readable, mounted but not readable (the mount's mode and
 * owner shut this user out), not mounted, or a kernel without it. */
enum cm_tracefs_state { CM_TRACEFS_READABLE, CM_TRACEFS_UNREADABLE, CM_TRACEFS_NOT_MOUNTED,
			CM_TRACEFS_NO_KERNEL };
struct cm_tracefs {
	enum cm_tracefs_state state;
	char path[512];   /* the readable one, else the mount point looked at */
	int err;          /* errno of the look-up that failed */
	int mount_err;    /* errno of the mount tried (root), 0 if none was tried */
	bool mounted_now;
	unsigned mode;    /* the mount point's permission bits and owner, when stat could tell */
	unsigned uid, gid;
};
void cm_tracefs_find(bool try_mount, struct cm_tracefs *t);
/* One line on why tracefs cannot be used, for an error message ("" when it is readable). */
void cm_tracefs_why(const struct cm_tracefs *t, char *out, size_t n);
/* A host path under the tracing test root: COLDMARK_TRACE_ROOT, honoured only for a process
 * that is not root and not privileged by setuid or file capabilities, so that it cannot
 * redirect a privileged coldmark; "" otherwise. malloc'd. */
char *cm_trace_host_path(const char *path);

/* ---- capture sources behind one interface --------------------------------------------------
 * A source is one table of operations: what it adds to qemu's argv (with the numbers of the
 * fds qemu inherits from it), the sockets it makes per boot, the fds the launcher polls, how
 * it drains what arrived into raw events, and what it can see. A new source is one file and
 * one constructor; the launcher, list and the runner go through this table only. */

#define CM_CAPTURE_FD0 10   /* qemu finds the sources' sockets at fds 10, 11, ... in order */
#define CM_CAPTURE_MAXFDS 16
#define CM_CAPTURE_MAXPOLL 1024 /* fds a boot's sources may ask to be polled on (a ring per CPU) */

enum cm_source_caps {
	CM_CAP_FIRST_ENTRY = 1u << 0, /* sees the guest's first instruction (first_entry) */
	CM_CAP_PERIODIC = 1u << 1,    /* has nothing to poll: drained every few ms */
	CM_CAP_SERIAL = 1u << 2,      /* takes the guest's serial console */
	/* one message per write of the guest, each stamped by the kernel as qemu sends it: read
	 * late, it gives the same events, so the watch may leave it unread while qemu runs
	 * (harness/defer.c says when); it counts what its drains read in boot_msgs */
	CM_CAP_STAMPED = 1u << 3,
};

struct cm_capture;
struct cm_boot_io {
	const char *log_path; /* the boot's log: a source may append what it reads to it */
	const struct cm_case *kase; /* the case booted (its own console markers); NULL: none */
};
/* An operation a source has no use for is left NULL (the launcher skips it), as fio's engines
 * do; free alone is required. */
struct cm_capture_ops {
	const char *name; /* "perf", "debugcon", "console": events.csv's source column */
	unsigned caps;
	/* Appends qemu's arguments for this source, its sockets at fd0, fd0 + 1, ...; returns
	 * how many fds qemu inherits from it. Pure: list shows the same argv without a boot. */
	size_t (*args)(const struct cm_capture *s, int fd0, struct cm_argv *a);
	/* Per boot, before the fork: makes its sockets, the child's ends into child_fds (room for
	 * max); returns how many, or <0 (then nothing of this boot stays open). */
	int (*open_boot)(struct cm_capture *s, const struct cm_boot_io *io, int *child_fds,
			 size_t max);
	void (*begin)(struct cm_capture *s); /* just before the fork (perf re-arms) */
	size_t (*poll_fds)(const struct cm_capture *s, int *fds, size_t max);
	/* Moves what arrived into ev (nonblocking); pid is qemu's. */
	void (*drain)(struct cm_capture *s, pid_t pid, struct cm_events *ev);
	void (*end_boot)(struct cm_capture *s); /* after the final drain: per-boot fds closed */
	void (*free)(struct cm_capture *s);
};
struct cm_capture {
	const struct cm_capture_ops *ops;
	const struct cm_matrix *m;
	const char *suffix; /* "@debugcon": a second opinion on the same boot, makes no phase */
	/* CM_CAP_STAMPED: messages its drains read this boot (reset by open_boot) */
	size_t boot_msgs;
	/* set by the launcher before open_boot: this boot's sockets are read only at qemu's end
	 * (or the watch's valve), so the sender's buffer is made as deep as the host allows */
	bool deferred;
	/* the launcher's record of this source's boots, per case (harness/defer.c); freed by
	 * cm_capture_free */
	struct cm_defer_rec *defer;
	size_t ndefer, cdefer;	  /* records, and room for them */
	struct cm_strset defer_of; /* a case's id: its record's index */
	bool live_only; /* a deferred boot's queue held too much: read live for the rest of the run */
};

/* For sources that add nothing to qemu, make no sockets, poll nothing or end nothing. */
size_t cm_capture_no_args(const struct cm_capture *s, int fd0, struct cm_argv *a);
int cm_capture_no_sockets(struct cm_capture *s, const struct cm_boot_io *io, int *child_fds,
			  size_t max);
size_t cm_capture_no_fds(const struct cm_capture *s, int *fds, size_t max);
void cm_capture_nothing(struct cm_capture *s);

/* debugcon: one isa-debugcon per marker port on a SOCK_SEQPACKET socket the kernel stamps. */
struct cm_capture *cm_debugcon_source(const struct cm_matrix *m, const char *suffix);
/* console: the guest's serial console on a kernel-stamped socket; each console marker of the
 * case is a marker at the nth line containing its match (matching its regex); every byte also
 * goes to the boot's log. */
struct cm_capture *cm_console_source(const struct cm_matrix *m);
/* perf, through a handle opened once per run (cm_perf_open). */
struct cm_capture *cm_perf_source(struct cm_perf *p, const struct cm_matrix *m);
/* replay: plays back recorded boots (an events.csv) for tests of the runner without qemu;
 * cm_replay_boot puts the next recorded boot of case case_idx into ev (-1: none recorded). */
struct cm_capture *cm_replay_source(const char *events_csv, const struct cm_matrix *m);
int cm_replay_boot(struct cm_capture *s, size_t case_idx, struct cm_events *ev);
/* Profile records of the recorded boots (issue 28): a CSV (case,boot,warmup,system:event,
 * ts_ns,payload in hex[,own,cpu]) of raw tracepoint payloads, decoded through
 * formats_dir/<event>.format as the perf capture decodes them; own (the sample is the boot's
 * process, default 1) and cpu (default 0) as perf's sample says, for sched_switch. 0, or -1 for a file or line it cannot use. */
int cm_replay_profile(struct cm_capture *s, const char *raw_csv, const char *formats_dir);
void cm_capture_free(struct cm_capture *s);
/* Up to CM_RECV_BATCH messages of fd at once, message i in buf + i * size (len[i] bytes,
 * stamped ts[i]: the kernel's stamp of its sending on CLOCK_MONOTONIC, the message's
 * CLOCK_REALTIME stamp moved by the offset between the clocks now; now when it gave none): how
 * many. Fewer than CM_RECV_BATCH: none was left
 * (or the end, or an error); CM_RECV_BATCH: there may be more. */
#define CM_RECV_BATCH 16
struct cm_recv_batch {
	unsigned char *buf; /* CM_RECV_BATCH * size bytes */
	size_t len[CM_RECV_BATCH];
	int64_t ts[CM_RECV_BATCH];
};
size_t cm_recv_stamped_batch(int fd, struct cm_recv_batch *b, size_t size);
/* A SOCK_SEQPACKET pair whose reading end (sv[0]) gets kernel stamps; it is read with
 * MSG_DONTWAIT (cm_recv_stamped_batch), never blocking. deep: the writing end's send buffer
 * (which bounds how many unread messages the pair holds before the writer blocks) as large as
 * net.core.wmem_max lets an unprivileged process make it. */
int cm_stamped_socketpair(int sv[2], bool deep);
/* CLOCK_REALTIME less CLOCK_MONOTONIC now, as the stamps' conversion reads it; *gap: how far
 * off it may be (the time between the monotonic reads around the realtime one). Only a step of
 * the realtime clock moves it (settimeofday, an NTP or PTP step, a VM resumed): a slew changes
 * both clocks' rate alike. */
int64_t cm_clock_offset_ns(int64_t *gap);

/* ---- the source table: what run.source / --source can name --------------------------------
 * A source is its file (a struct cm_capture_ops and a constructor) and one line of the table in
 * capture/registry.c; a test adds one with cm_source_register. What a source cannot do is left
 * NULL or 0, as fio's engines do: no make (auto, both: another entry's capture chosen per case),
 * no shadow, no flags. The harness, list, doctor and run read this table only. */
enum cm_source_flags {
	CM_SRC_PERF = 1u << 0,     /* made from the run's perf handle: the CLI opens it */
	CM_SRC_KVM_ONLY = 1u << 1, /* sees nothing under TCG: those cases use the fallback */
	CM_SRC_OPTIONAL = 1u << 2, /* where it cannot be used, the fallback rather than a refusal */
	CM_SRC_FALLBACK = 1u << 3, /* what cases the chosen source cannot see use (debugcon) */
	CM_SRC_ALWAYS = 1u << 4,   /* not chosen by name: added to every boot when it has something
				    * to see (console: the matrix's console markers) */
};
struct cm_source_reg {
	const char *name; /* run.source / --source; events.csv's source is its capture's ops name */
	const char *help; /* for --source's help */
	/* The run's capture of this source (perf: NULL when assumed, for list); NULL: none */
	struct cm_capture *(*make)(const struct cm_matrix *m, struct cm_perf *perf);
	/* a second opinion on the same boots (events kept, no phase), beside make's */
	struct cm_capture *(*shadow)(const struct cm_matrix *m, struct cm_perf *perf);
	unsigned flags;
	const char *header; /* the run header's "marker source" line */
	const char *doctor; /* doctor's line for a mechanism of its own; NULL: none (auto, both) */
};
/* By name among the sources a user can choose (not CM_SRC_ALWAYS ones); NULL: none. */
const struct cm_source_reg *cm_source_find(const char *name);
/* The i-th registration, NULL past the last (the built-in ones, then registered ones). */
const struct cm_source_reg *cm_source_at(size_t i);
/* The first CM_SRC_FALLBACK entry (debugcon). */
const struct cm_source_reg *cm_source_fallback(void);
/* Adds a source to the table (a test's); 0, or -1 when the table is full or the name taken. */
int cm_source_register(const struct cm_source_reg *r);
/* The choosable names joined by sep ("auto|perf|debugcon|both"); malloc'd. */
char *cm_source_names(const char *sep);
/* 0 when the matrix's run.source names a source; else an error in d at the file, line and
 * column (or flag) that set it, naming the sources there are. */
int cm_source_check(const struct cm_matrix *m, struct cm_diags *d);

/* Was this build made with the perf source (COLDMARK_PERF=ON)? */
bool cm_perf_built_in(void);

#endif
