/* The system layer: capture sources, the qemu launcher, cache dropping, and the pure logic that
 * turns a boot's events into a status and phases. */
#ifndef COLDMARK_HARNESS_H
#define COLDMARK_HARNESS_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <sys/types.h>

#include "coldmark/capture.h"
#include "coldmark/matrix.h"

/* ---- boot outcome and phases (pure) ------------------------------------------------------- */

#define CM_STATUSES(X)                                                                   \
	X(OK, "ok")                                                                      \
	X(TIMEOUT, "timeout")                                                            \
	X(CRASHED, "crashed")                                                            \
	X(EXIT_STATUS, "exit_status")                                                    \
	X(MISSING_MARKER, "missing_marker")                                              \
	X(OUT_OF_ORDER, "out_of_order")                                                  \
	X(LOST_RECORDS, "lost_records")                                                  \
	X(LAUNCH_FAILED, "launch_failed")                                                \
	X(INTERRUPTED, "interrupted")                                                    \
	X(LATE_EXIT, "late_exit")                                                        \
	X(HELD_UP, "held_up")                                                            \
	X(CLOCK_STEPPED, "clock_stepped")
#define CM_ST_(e, s) CM_STATUS_##e,
enum cm_status { CM_STATUSES(CM_ST_) CM_STATUS_COUNT };
#undef CM_ST_
extern const char *const cm_status_names[];

/* How qemu ended, as the launcher saw it. */
struct cm_exit {
	bool launched;    /* execve succeeded */
	bool timed_out;   /* killed by the harness at the per-boot limit */
	bool interrupted; /* killed by the harness on SIGINT/SIGTERM */
	bool ended_by_us; /* killed by the harness after the end marker (guest does not exit) */
	int signal;       /* terminating signal, 0 if exited */
	int status;       /* exit status when exited */
	int launch_errno; /* why execve (or the set-up before it) failed, when !launched */
	/* what the boot cost the host (wait4): qemu's user + system CPU time and its peak RSS;
	 * NAN when qemu never ran */
	double metrics[CM_NMETRICS]; /* per cm_metrics: what the boot cost the host (NAN: unknown) */
	/* When qemu's end was seen (the exit event) with no kernel stamp of it, and coldmark had
	 * been stopped or waiting for a CPU since it last saw qemu alive: how late that stamp
	 * may be (ns). 0: it is right within CM_EXIT_SLACK_NS. */
	int64_t exit_late_ns;
	/* A source read only at qemu's end (harness/defer.c) whose queue was found so near its
	 * SO_SNDBUF that qemu's writes to it may have waited for coldmark: its name (NULL: none),
	 * and the bytes queued against the bytes the socket takes. The boot is held_up. */
	const char *held_up;
	int64_t held_bytes, held_sndbuf;
	/* A source read only at qemu's end converts its kernel stamps (CLOCK_REALTIME, taken as
	 * qemu sent) with the clocks' offset read then: when that offset moved during the boot
	 * by more than its reads can be off, the realtime clock stepped and the stamps cannot be
	 * placed: by how much (ns; 0: it did not). The boot is clock_stepped. */
	int64_t clock_step_ns;
};
#define CM_EXIT_SLACK_NS 50000000LL
/* Why a held_up boot is not measured, for its detail and its log. */
void cm_exit_held_up_text(const struct cm_exit *ex, char *buf, size_t n);

struct cm_boot_result {
	enum cm_status status;
	char detail[160]; /* why, for people: "no 'work_done' marker", "exit status 1, want 33" */
	double *phase_ns; /* per matrix phase, then total, then the metrics; NAN when not computable */
	size_t nphase;    /* m->nphases + 1 + CM_NMETRICS */
};

/* Events to phases and a status; host events that a source cannot see (first_entry under
 * debugcon) leave their phases empty without failing the boot. */
void cm_boot_evaluate(const struct cm_matrix *m, struct cm_events *ev,
		      const struct cm_exit *ex, bool source_has_first_entry,
		      struct cm_boot_result *r);
void cm_boot_result_free(struct cm_boot_result *r);
/* Says, one line per phase, which cases cannot measure a phase that needs first_entry (their
 * source is debugcon); perf_for_kvm: KVM cases are measured through perf. Returns the lines. */
size_t cm_note_unmeasurable(const struct cm_matrix *m, bool perf_for_kvm, FILE *f,
			    const char *who);

/* ---- launching ---------------------------------------------------------------------------- */

struct cm_launch {
	char *const *argv;
	char *const *env;   /* extra NAME=VALUE, may be NULL */
	const char *pin;    /* CPU list or NULL */
	const char *log_path;
	int64_t timeout_ms;
	const char *end_marker; /* stop waiting once seen; NULL: wait for exit */
	int64_t end_grace_ms;   /* after the end marker, qemu's time to exit before it is ended */
	struct cm_capture *const *sources; /* where this boot's events come from */
	size_t nsources;
	const struct cm_matrix *m;
	volatile int *stop;   /* set by a signal handler: kill qemu and return */
	const struct cm_case *kase; /* the case booted: its own console markers (NULL: none) */
	const struct cm_planned *boot; /* which boot of the plan (log_path need not say: a test's
					* fake launcher reads it) */
};

/* The capture sources of a run (made from the source table for run.source), and which of them
 * a case's boots use. */
#define CM_SOURCES_MAX 8
enum cm_source_role { CM_ROLE_CHOSEN, CM_ROLE_SHADOW, CM_ROLE_FALLBACK, CM_ROLE_ALWAYS };
struct cm_sources {
	const struct cm_source_reg *chosen; /* run.source's registration */
	struct cm_capture *v[CM_SOURCES_MAX];
	enum cm_source_role role[CM_SOURCES_MAX];
	size_t n;
	struct cm_perf *handle; /* the run's perf handle (NULL: none), shared by every wave slot */
	bool perf_assumed;      /* made to describe perf's cases without a handle (list) */
};
/* perf_assumed: no handle, but describe perf's cases as a run with perf would (list). */
void cm_sources_init(struct cm_sources *s, const struct cm_matrix *m, struct cm_perf *perf,
		     bool perf_assumed);
/* The sources for case c into out (room for CM_SOURCES_MAX); the first names the samples'
 * source. */
size_t cm_sources_pick(const struct cm_sources *s, const struct cm_case *c,
		       struct cm_capture **out);
bool cm_sources_first_entry(struct cm_capture *const *picked, size_t n);
void cm_sources_free(struct cm_sources *s);

/* Forks and execs qemu, captures its events into ev, waits (pidfd + poll) until it exits,
 * the end marker plus a grace period has passed, the timeout, or *stop. */
int cm_launch_boot(const struct cm_launch *l, struct cm_events *ev, struct cm_exit *ex);
/* How many times the watches of this process woke from their poll so far (for tests). */
unsigned long cm_launch_wakeups(void);
/* How many one-byte messages the socket of a source read only at qemu's end (harness/defer.c)
 * holds before qemu's write would block: measured once a process; 0: nothing is deferred. */
size_t cm_defer_capacity(void);
/* The argv qemu really gets: the case's, then each source's (its sockets at fds 10, 11, ...),
 * then the serial console into the boot's log when neither the case nor a source takes it.
 * NULL-terminated; *n arguments. */
char **cm_launch_argv(char *const *case_argv, struct cm_capture *const *sources, size_t nsources,
		     size_t *n);
bool cm_argv_wants_console(char *const *argv);
/* In a forked child before execve: every fd but 0-2 and lo..hi gets O_CLOEXEC. */
void cm_child_keep_fds(int lo, int hi);
/* In a forked child: SIGKILL when coldmark dies (even by kill -9), or _exit now when parent
 * (coldmark's pid before the fork) is already gone. */
void cm_child_die_with_parent(pid_t parent);

/* ---- helper programs ---------------------------------------------------------------------- */

/* Runs argv (no shell; stdin /dev/null) and collects up to max bytes of its stdout (and
 * stderr when merge_stderr) into *out (always set, NUL-terminated). Killed at timeout_ms.
 * Returns its exit status, 128+signal, -ETIMEDOUT, or -ENOENT/-errno when it did not start. */
int cm_proc_run(char *const *argv, int64_t timeout_ms, bool merge_stderr, char **out, size_t max);
/* The first line of its stdout ("" when none; a note when it timed out). */
char *cm_proc_first_line(char *const *argv, int64_t timeout_ms);
/* Every child coldmark starts (qemu, the ROM query, helpers) leads a process group of its own,
 * so that what it forks (a wrapper script's daemon) can be ended with it. After the child
 * ended or was ended: SIGKILL to the group, reap the child (status, rusage: may be NULL), then
 * every member that was ours (coldmark is a child subreaper, so orphans come back to it),
 * waiting at most a second for members still dying. Returns wait4's result. */
struct rusage;
pid_t cm_proc_end_group(pid_t pid, int *status, struct rusage *ru);
/* The same for a child whose end was seen already (its pidfd was readable): one syscall less. */
pid_t cm_proc_end_ended(pid_t pid, int *status, struct rusage *ru);
/* Reads fd (non-blocking or not) into b (up to max bytes kept) until EOF, the end of child pid
 * and what it wrote by then, the deadline or a guarded signal; true when the deadline or a
 * signal stopped it. */
struct cm_buf;
bool cm_proc_collect(int fd, pid_t pid, int64_t deadline_ns, struct cm_buf *b, size_t max);
/* Makes coldmark the reaper of its orphaned descendants (PR_SET_CHILD_SUBREAPER), once. */
void cm_proc_subreaper(void);
/* SIGINT, SIGTERM and SIGHUP while a helper runs outside the boots (no handler of the run's
 * yet): caught, so that the helper's group is ended before coldmark dies of the signal, which
 * cm_sig_guard_end raises again. Signals with a handler, or ignored, are left alone.
 * begin returns which it caught (for end); caught says whether one came. */
int cm_sig_guard_begin(void);
bool cm_sig_guard_caught(void);
void cm_sig_guard_end(int mine);
#define CM_HELPER_TIMEOUT_MS 10000 /* --version, -device help, ldd: seconds at most anywhere */

/* What the runner calls to boot: cm_launch_boot, or a stand-in that fakes qemu in tests. */
typedef int (*cm_launch_fn)(const struct cm_launch *l, struct cm_events *ev, struct cm_exit *ex);

/* ---- the run header ---------------------------------------------------------------------- */

struct cm_dataset;
/* The host fingerprint into ds's header: host, CPU, cpufreq governor, turbo, SMT, THP, qemu
 * and its version, the guest files and every firmware/option ROM the cases load (asked of a
 * paused qemu, at most 32 device sets), each hashed with SHA-256 in process. */
void cm_header_host(struct cm_dataset *ds, const struct cm_matrix *m, const char *qemu);
/* The host's load at this moment, for the header around each session: "load 0.52, 3 running"
 * (the 1-minute load average and the runnable tasks other than ours, from /proc). */
void cm_header_load(char *buf, size_t n);
/* "axis values (NAME)": an axis's values, ", " joined, in the matrix's order */
#define CM_AXIS_VALUES_KEY "axis values ("
/* The plan beyond its counts into the header: base args, phases, markers and the store
 * (redacted; NULL: none); each case's command line goes to plan.csv instead. */
void cm_header_plan(struct cm_dataset *ds, const struct cm_matrix *m, const char *store);
/* Everything a resume may not change that differs between the run's header (old) and the one
 * the matrix gives now (guest hashes included): one line each into *out (freed by the caller,
 * each line and the array). Returns how many. */
size_t cm_header_resume_diffs(const struct cm_dataset *old, const struct cm_dataset *now,
			      const struct cm_dataset *old_plan, const struct cm_dataset *now_plan,
			      char ***out);
/* plan.csv (CM_RUN_PLAN): each case and the SHA-256 of its exact command line, written before
 * the first boot; text to free. */
char *cm_header_case_plan(const struct cm_matrix *m);
/* The same hashes as keyed rows of ds's header, from the matrix or from a plan.csv (0, or
 * CM_ENOENT when there is none), for cm_header_resume_diffs's old_plan and now_plan. */
void cm_header_case_hashes(struct cm_dataset *ds, const struct cm_matrix *m);
int cm_header_case_plan_read(const char *path, struct cm_dataset *ds);

/* ---- firmware ----------------------------------------------------------------------------- */

struct cm_rom {
	char *name; /* as qemu names it: "bios-256k.bin", "linuxboot_dma.bin", "efi-e1000.rom" */
	char *path; /* the file, found as qemu finds it; NULL when not found */
};
/* The firmware and option ROMs qemu loads for argv (argv[0] is qemu), asked of a paused qemu.
 * Returns 0, or -1 with err set (qemu refused the arguments, did not answer). */
int cm_case_roms(char *const *argv, struct cm_rom **roms, size_t *n, struct cm_error *err);
void cm_roms_free(struct cm_rom *roms, size_t n);

/* ---- page cache --------------------------------------------------------------------------- */

enum cm_drop_done { CM_DROPPED_NONE, CM_DROPPED_SYSCTL, CM_DROPPED_EVICT };
extern const char *const cm_drop_names[];
/* Files a boot reads: qemu (resolved in PATH), its shared libraries, firmware, guest files. */
char **cm_boot_files(const struct cm_matrix *m, size_t *n);
enum cm_drop_done cm_drop_caches(enum cm_drop how, char **files, size_t nfiles);

/* ---- the plan (pure) ---------------------------------------------------------------------- */

struct cm_dataset;
struct cm_summary;
struct cm_planned {
	size_t c;    /* case index */
	int boot;    /* 1-based, per case and kind, counted on across sessions */
	bool warmup;
	int session; /* 1-based */
};
/* Session after session: warm-ups of every case first, then the measured boots in m->order,
 * session 1 with m->seed and each later one with its own seed derived from it. */
unsigned long cm_plan_session_seed(int64_t seed, int session);
/* NULL (n = 0) for a plan cm_plan_check refuses. */
struct cm_planned *cm_plan_new(const struct cm_matrix *m, size_t *n);
/* The most boots one run may plan (cases x (boots + warm-ups) x sessions; adaptive runs count
 * max_boots): ~240 MB of plan, weeks of booting. */
#define CM_PLAN_MAX_BOOTS 10000000
/* Can the plan be allocated and its boots numbered (ints, across sessions and replicates)?
 * 0, or -1 with err naming the limit. Checked before the run creates anything. */
int cm_plan_check(const struct cm_matrix *m, struct cm_error *err);
/* Drops the boots a resumed run already finished; returns the new count. */
size_t cm_plan_skip_done(struct cm_planned *pl, size_t n, const int *warm_done,
			 const int *meas_done);
/* Counted boots of case c so far in one phase ("total", ...), summarised. */
void cm_plan_case_summary(const struct cm_dataset *ds, size_t c, const char *phase,
			  struct cm_summary *s);
/* Relative half-width (%) of case c's median CI in a phase; INFINITY while it is empty. */
double cm_plan_ci_halfwidth_pct(const struct cm_dataset *ds, size_t c, const char *phase);
/* The same for cases [0, ncases) into h[c], in one pass over the rows. */
void cm_plan_ci_halfwidths(const struct cm_dataset *ds, size_t ncases, const char *phase, double *h);
/* Adaptive stopping: appends one shuffled block of the cases not yet precise (and below
 * run.max_boots; a case of the concurrency axis gets a whole wave, K copies); planned[c]
 * counts each case's measured boots. Returns the block's size. */
size_t cm_plan_next_block(const struct cm_matrix *m, const struct cm_dataset *ds, int *planned,
			  struct cm_planned **pl, size_t *nplan);

/* The wave that begins at pl[i] (issue 29): a case of the concurrency axis boots K copies of
 * itself at once, every other case the run's next run.concurrency boots (same session and
 * kind); the members are pulled forward to pl[i..i+k), the others keep their order. Returns k
 * (fewer at the end of a session's boots of that kind). */
size_t cm_wave_take(const struct cm_matrix *m, struct cm_planned *pl, size_t n, size_t i);
/* pl[i, n) arranged as successive cm_wave_take from i on would leave it, in one pass; k[j]
 * gets the size of each wave, at the index j where it begins. */
void cm_wave_arrange(const struct cm_matrix *m, struct cm_planned *pl, size_t n, size_t i, size_t *k);

/* The most boots the run has at once (1: one at a time), and into cpus how many CPUs qemu
 * may use (run.pin's, else coldmark's affinity; 0: unknown). */
int cm_wave_widest(const struct cm_matrix *m, int *cpus);

/* Facts cached under a file's identity (harness/facts.c): "path|dev|ino|size|mtime|ctime", or
 * NULL when the file is not there; a fact by kind and key (NULL: not known), and a new one. */
char *cm_file_identity(const char *path);
char *cm_fact_get(const char *kind, const char *key);
void cm_fact_put(const char *kind, const char *key, const char *value);
/* cm_sha256_file, from the cache while the file's identity is unchanged. */
int cm_sha256_cached(const char *path, char hex[65]);

/* Can the host run the qemu at this path (a regular file, executable by us)? 0, or -1 with
 * why it cannot ("is a directory", ...) in why (harness/facts.c). */
int cm_qemu_runnable(const char *path, char *why, size_t whysz);
/* qemu binary resolved through PATH; NULL when absent. */
char *cm_which(const char *name);
/* Is this case run by TCG (no kvm_pio)? */
bool cm_case_is_tcg(const struct cm_case *c);

/* run.profile: the boot's profile records counted per phase into RUNDIR/profile.csv and the
 * store (when not NULL): a measured boot with records only; MMIO by the regions of the case's
 * memory map mt (NULL: by page). 0, -1 (the file could not be
 * written) or -2 (the store did not take them). */
struct cm_store;
struct cm_mtree;
int cm_profile_journal(const char *rundir, const struct cm_matrix *m, const char *case_id,
		       const struct cm_planned *b, const struct cm_events *ev,
		       const struct cm_mtree *mt, struct cm_store *store, const char *run_id);

#endif
