/* The runner engine: the plan's boots through a launcher and capture sources, each boot in
 * both journals before the next (synced and in the store a batch a second), a progress sink
 * and a case-done hook told as it goes. */
#ifndef COLDMARK_RUNNER_H
#define COLDMARK_RUNNER_H

#include "coldmark/harness.h"
#include "coldmark/rundir.h"

#define CM_RUNNER_OUTPUT 4 /* a journal, meta.csv or the store could not be written */

/* After each boot. */
struct cm_progress {
	size_t i, n; /* this boot's place in the plan so far */
	const struct cm_case *c;
	const struct cm_planned *b;
	int of;      /* boots of this kind the case has planned */
	int sessions; /* in the run (b->session is this boot's) */
	enum cm_status status;
	const char *detail, *log;
	double total_ns, median_ns, elapsed_s, eta_s;
};

struct cm_store;
struct cm_runner {
	/* what runs */
	const struct cm_matrix *m;
	cm_launch_fn launch;               /* cm_launch_boot, or a test's fake */
	const struct cm_sources *sources;
	int64_t (*clock)(void);            /* cm_now_ns */
	volatile int *stop;                /* set by a signal: the boot is ended, the loop stops */
	/* where the boots go */
	struct cm_rundir *rd;
	struct cm_dataset *ds;
	struct cm_store *store; /* the store, or a server-backed run's local journal.db */
	const char *run_id, *db_path, *logs;
	/* a server-backed run's shared store: NULL when shared_name is set means it was lost
	 * (or never reached), and the journal alone has every boot */
	struct cm_store *shared;
	const char *shared_name; /* its URL, password redacted; NULL or "": no server */
	bool shared_begun;	 /* the run is in the shared store (it goes with its first boot) */
	bool shared_fresh;	 /* a new run: an id the shared store holds is another run's (exit 4) */
	bool shared_refused;	 /* the shared store refused a write: the run stops, exit 4 */
	/* A run's boots are written to both journals one by one, and a batch at a time synced
	 * to the disk and put in the stores (runner_store.c): the rows from batch_from on are
	 * in the journals but not yet synced nor in the stores; batch_at is when the last batch
	 * went (the loop's start before the first), batch_every_ns how long a batch gathers. */
	size_t batch_from;
	int64_t batch_at, batch_every_ns;
	bool store_refused; /* the store refused a batch: the run stops, nothing more goes */
	char **drop_files;
	size_t ndrop;
	/* told as it goes */
	void (*progress)(void *ctx, const struct cm_progress *p);
	int (*case_done)(void *ctx); /* reports of a finished case; nonzero stops the run */
	/* what the user must be told (a write that failed, qemu not found); the CLI prints it */
	void (*say)(void *ctx, const struct cm_error *e);
	void *ctx;
	/* kept up to date: per case the measured boots planned and done */
	int *planned;
	size_t *done, nmeasured;
	const char *drop_used;
	int session; /* the session the last boot belonged to (0: none yet) */
	double *clocks; /* the per-boot audit: each boot's clock so far (kHz), for "typical" */
	size_t nclocks;
	int64_t last_report_ns, report_cost_ns;
	struct cm_mtree *mtree; /* run.profile: per case qemu's memory map (cm_runner_loop's) */
};

/* Runs the plan (growing it by adaptive blocks); 0, CM_RUNNER_OUTPUT after saying why, or a
 * case_done hook's status. */
int cm_runner_loop(struct cm_runner *r, struct cm_planned **pl, size_t *nplan);
/* "the shared store URL <why>: from here on the boots are kept in RUNDIR/journal.db only;
 * upload them later with: coldmark sync RUNDIR --db URL", once, when the server goes. */
void cm_runner_journal_only(struct cm_error *e, const char *shown, const char *why,
			    const char *rundir);
/* A header item into the dataset, the store and the shared store (one known only as the run
 * goes: a session's start, the cache drop that happened). 0, or CM_RUNNER_OUTPUT when the
 * shared store refused it (said; shared_refused set). */
int cm_runner_meta(struct cm_runner *r, const char *key, const char *val);
/* Does the run boot in waves (run.concurrency > 1, or a case of the concurrency axis)? Its
 * samples then carry their wave and slot (samples.csv's wave,slot columns). */
bool cm_runner_wants_waves(const struct cm_matrix *m);
/* The journals' column headers (a new run), and meta.csv written whole. 0 or CM_RUNNER_OUTPUT. */
int cm_runner_headers(struct cm_rundir *rd, const struct cm_dataset *ds, struct cm_error *e);
int cm_runner_save_meta(struct cm_rundir *rd, const struct cm_dataset *ds, struct cm_error *e);

#endif
