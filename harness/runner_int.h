/* Between the runner (runner.c: one boot at a time) and its waves (waves.c: K at once). */
#ifndef COLDMARK_RUNNER_INT_H
#define COLDMARK_RUNNER_INT_H

#include "coldmark/runner.h"

/* A session's begin or end into the header. 0 or CM_RUNNER_OUTPUT. */
int cm_runner_session_mark(struct cm_runner *r, int session, bool begin);
/* The boot about to run is of session: when it is not r->session, that one ends and this one
 * begins (both marked). 0 or CM_RUNNER_OUTPUT. */
int cm_runner_next_session(struct cm_runner *r, int session);
/* A launched boot (lrc: the launcher's result) evaluated into rows and journaled, as one
 * transaction of its own. 0 or CM_RUNNER_OUTPUT. */
int cm_runner_record(struct cm_runner *r, const struct cm_planned *b, size_t i,
		     struct cm_capture *const *picked, size_t npicked, int lrc,
		     struct cm_events *ev, struct cm_exit *ex, const char *flag,
		     struct cm_boot_result *br, const char **src);
/* After a recorded boot: its log kept when it failed, the counts, the sink, the case's
 * reports. 0 or what stops the run. */
int cm_runner_after(struct cm_runner *r, const struct cm_planned *b, size_t i, size_t nplan,
		    const struct cm_boot_result *br, const char *log, int64_t t0);
/* What the runner's files tell the user (r->say). */
void cm_runner_say(const struct cm_runner *r, const struct cm_error *e);
void cm_runner_sayf(const struct cm_runner *r, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
/* The stores' batches (runner_store.c): begun with the loop (the rows the dataset holds then
 * are the store's already), a boot's rows in (a batch when a second has passed since the last,
 * or with the run's first boot), and what is left at the loop's end. 0 or CM_RUNNER_OUTPUT
 * (said). */
void cm_runner_batch_start(struct cm_runner *r);
int cm_runner_batch_boot(struct cm_runner *r);
int cm_runner_batch_end(struct cm_runner *r);
/* At the end: a resumed run with no boot left still brings the shared store what it lacks. */
int cm_runner_share_rest(struct cm_runner *r);
/* The log a boot writes while it runs: its own name when kept from the start (run.keep_logs),
 * else the reused logs/running.log (slot 0) or a wave slot's running-SLOT.log; and that
 * reused file removed at the run's end. */
char *cm_runner_log(const struct cm_runner *r, const struct cm_planned *b, int slot);
void cm_runner_log_done(const struct cm_runner *r, int slot);
/* After a boot: its log left for the next boot to empty (ok), or given its own name (kept);
 * returns that name when it changed (free it), else NULL. */
char *cm_runner_settle_log(struct cm_runner *r, const struct cm_planned *b,
			   const struct cm_boot_result *br, const char *log);
/* A new run: every boot's log through the reused file again. */
void cm_runner_logs_reset(void);
/* A boot the run stopped at before cm_runner_after: its log kept by its own name (emptied
 * when the boot was not launched: the reused log then holds an earlier boot's output). */
void cm_runner_keep_log(struct cm_runner *r, const struct cm_planned *b, const char *log,
			bool launched);
int cm_runner_waves(struct cm_runner *r, struct cm_planned **pl, size_t *nplan);

#endif
