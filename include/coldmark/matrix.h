/* The YAML matrix: what to boot, how often, and what to measure. */
#ifndef COLDMARK_MATRIX_H
#define COLDMARK_MATRIX_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "coldmark/util.h"

/* Host events that exist besides the guest's markers. */
#define CM_EVENT_EXEC "exec"
#define CM_EVENT_FIRST_ENTRY "first_entry"
#define CM_EVENT_EXIT "exit"
/* when coldmark disabled the first-entry event (events.csv only: how long its filter ran) */
#define CM_EVENT_FIRST_ENTRY_OFF "first_entry_off"
/* qemu's end as the kernel stamped it (sched:sched_process_exit, perf source): the launcher
 * puts it in place of its own wake-up stamp of exit (events.csv keeps both) */
#define CM_EVENT_EXIT_KERNEL "exit_kernel"

struct cm_marker {
	unsigned port, value;
	char *name;
};

/* A console marker: the nth line of the guest's serial console that contains match (with
 * regex: that matches it, a POSIX extended regular expression applied to each line alone, so
 * ^ and $ are the line's start and end). */
struct cm_console_marker {
	char *name, *match;
	bool regex;
	int64_t nth; /* 1: the first matching line */
};

struct cm_phase {
	char *name, *from, *to;
};

/* What boots: the matrix's guest, or one an axis value carries (absolute paths, NULL when
 * unused). */
struct cm_guest {
	char *kernel, *initrd, *append, *disk;
};

/* One value of an axis: its label (in case ids) and the qemu arguments it adds. */
struct cm_axis_value {
	char *label;
	char **args;
	size_t nargs;
	/* its own console markers ({name, markers: {console: [...]}}): for the cases with this
	 * value they replace the matrix's of the same name, or add to them */
	struct cm_console_marker *console;
	size_t nconsole;
	int line, col;
	/* its own guest (axes: {build: [{name: new, guest: {disk: new.img}}]}): cases with this
	 * value boot it instead of the matrix's; NULL: the matrix's */
	struct cm_guest *guest;
};

struct cm_axis {
	char *name;
	struct cm_axis_value *values;
	size_t nvalues;
	char **tmpl; /* custom axes: arguments with "{}" replaced by the value */
	size_t ntmpl;
	int line, col;
};

struct cm_case {
	char *id;            /* "memory=128M,accel=kvm" */
	char **argv;         /* NULL-terminated, argv[0] the qemu binary */
	size_t argc;
	char **labels;       /* per matrix axis; NULL where the case has no value */
	char **extra_keys;   /* include-added keys that are not axes, with extra_vals */
	char **extra_vals;
	size_t nextra;
	bool reference;      /* a reference case (run.reference): evaluated by its own profile */
	int concurrency;     /* the concurrency axis's value: boots of this case K at once; 0: none */
};

enum cm_reference { CM_REFERENCE_BUNDLED, CM_REFERENCE_NONE };

enum cm_order { CM_ORDER_SEQUENTIAL, CM_ORDER_INTERLEAVED, CM_ORDER_SHUFFLED };
/* A value a room above checks by name (run.source: capture's source table, cm_source_find),
 * with where it was set, for the error that names a name no table has. */
struct cm_name {
	char *name;
	char *file; /* the matrix file, or the flag ("--source") */
	int line, col; /* 0: a default or a flag */
};
enum cm_drop { CM_DROP_AUTO, CM_DROP_SYSCTL, CM_DROP_EVICT };

struct mx_pool;
struct cm_matrix {
	char *path, *dir;
	char *qemu;
	char *kernel, *initrd, *append, *disk; /* absolute paths; NULL when unused */
	char **base_args;
	size_t nbase_args;
	struct cm_axis *axes;
	size_t naxes;
	struct cm_marker *markers;
	size_t nmarkers;
	struct cm_console_marker *console; /* markers.console: read from the serial console */
	size_t nconsole;
	unsigned *ports;
	size_t nports;
	struct cm_phase *phases;
	size_t nphases;
	char *end_marker;
	char *marker_preset;
	/* run settings */
	int64_t boots, warmup, timeout_ms, seed, exit_status;
	int64_t end_grace_ms; /* after the end marker, how long qemu may take to exit by itself */
	int64_t concurrency;  /* run.concurrency: the plan runs in waves of this many boots */
	int64_t sessions;     /* run.sessions: boots x sessions per case, each session its own order */
	/* the number of the run's first session (--replicate I/N runs session I + 1 alone, its
	 * order and boot numbers those of session I + 1 of a --sessions N run); 0 means 1 */
	int64_t first_session;
	enum cm_reference reference;
	/* the bundled guest's own matrix (markers, exit status), that reference boots are
	 * evaluated by; NULL without reference cases */
	struct cm_matrix *reference_profile;
	int64_t min_boots, max_boots;
	double until_ci_pct; /* 0: fixed count */
	double max_failed_pct; /* share of measured boots that may fail before exit 1 */
	char *until_ci_phase; /* the phase whose median CI decides; default total */
	bool drop_caches;
	bool keep_logs; /* every boot's log stays in logs/ (by default only failed boots') */
	bool profile; /* run.profile (issue 28) */
	bool profile_emulated; /* run.profile_emulated: kvm:kvm_emulate_insn too (it costs) */
	enum cm_drop drop_method;
	enum cm_order order;
	struct cm_name source; /* run.source */
	char *pin;
	char **env; /* "KEY=VALUE" */
	size_t nenv;
	char *first_entry_event, *first_entry_filter;
	/* expansion */
	struct cm_case *cases;
	size_t ncases;
	/* the cases' argv strings and labels, each distinct one once (matrix/strpool.c; a
	 * 10^5-case sweep's cases share nearly all); NULL: each case owns its strings */
	struct mx_pool *pool;
};

/* coldmark bisect's builds: "{build}" in any string of the matrix expands to the folder of the
 * case's build, and the builds are an axis of their own named "build" (one value per build,
 * labelled by names[i], expanding to dirs[i]). Without builds the placeholder is an error. */
#define CM_BUILD_PLACEHOLDER "{build}"
#define CM_BUILD_AXIS "build"
struct cm_builds {
	char **names, **dirs;
	size_t n;
};

/* Loads, validates and expands. Returns NULL when diags holds an error; warnings may be set
 * on success. */
struct cm_matrix *cm_matrix_load_builds(const char *path, const struct cm_builds *builds,
					struct cm_diags *diags);
struct cm_matrix *cm_matrix_load(const char *path, struct cm_diags *diags);
struct cm_matrix *cm_matrix_load_string(const char *text, size_t len, const char *name,
					struct cm_diags *diags);
void cm_matrix_free(struct cm_matrix *m);
/* A phase the matrix reports: one of its phases, or total. */
bool cm_matrix_has_phase(const struct cm_matrix *m, const char *name);
/* Sets one scalar key ("run.order") from text, parsed and range-checked by the same key table
 * as the file; errors name origin (a CLI flag). Cases are not re-expanded: run.* keys only. */
int cm_matrix_override(struct cm_matrix *m, const char *key, const char *value,
		       const char *origin, struct cm_diags *d);

/* Is name one of markers.console, or a console marker of some axis value? */
bool cm_matrix_is_console_marker(const struct cm_matrix *m, const char *name);
/* Has the matrix console markers (its own or an axis value's)? */
bool cm_matrix_uses_console(const struct cm_matrix *m);
/* The console markers of case c: the matrix's, those of the case's axis values in their
 * place or added (the first axis that defines a name wins). A malloc'd array of pointers into
 * m; *n of them. c NULL: the matrix's alone. */
const struct cm_console_marker **cm_case_console_markers(const struct cm_matrix *m,
							 const struct cm_case *c, size_t *n);
const struct cm_marker *cm_matrix_marker_by_name(const struct cm_matrix *m, const char *name);
const struct cm_marker *cm_matrix_marker_by_value(const struct cm_matrix *m, unsigned port,
						  unsigned value);
/* Print the key table (name, type, default, range, help) for `coldmark list --keys`. */
void cm_matrix_print_keys(FILE *f);
/* The run.* keys that are also flags of `coldmark run` (--boots/-n for run.boots, ...), from
 * the key table; returns how many were put in out. */
struct cm_key_flag {
	const char *key, *flag, *metavar, *help;
	char short_flag;
};
/* Fills at most max; returns how many there are (more than max: the caller's table is short). */
size_t cm_matrix_key_flags(struct cm_key_flag *out, size_t max);
/* The bundled guest images' folder: COLDMARK_GUEST_DIR, else <exe>/../share/coldmark/guest
 * for an installed coldmark, else the build tree's (malloc'd; from says which). */
enum cm_guest_dir_from { CM_GUEST_DIR_ENV, CM_GUEST_DIR_INSTALLED, CM_GUEST_DIR_BUILD };
char *cm_guest_dir(enum cm_guest_dir_from *from);
const char *cm_guest_dir_from_name(enum cm_guest_dir_from from);
/* The path of bundled image NAME when this user can read it; else NULL and why says whether
 * it is not there or cannot be read, with the errno and where the folder came from. */
char *cm_guest_image(const char *name, char *why, size_t n);
/* Shell-quoted command line of a case, for people to copy. */
char *cm_case_cmdline(const struct cm_case *c);

#endif
