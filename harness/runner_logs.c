/* The boots' logs for the runner (runner.c) and its waves (waves.c): where a boot's log is
 * written while it runs, and what becomes of it after. */
#define _GNU_SOURCE
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "coldmark/harness.h"
#include "coldmark/runner.h"
#include "runner_int.h"

/* A boot's log: qemu's output (and the console's) while it runs. It gets its own name
 * (logs/CASEINDEX-bN.log, warm-ups -wN) when it is kept: a failed boot's, every boot's with
 * run.keep_logs. Else it is written into logs/running.log (a wave's slot S: running-S.log),
 * emptied by the next boot's launch (O_TRUNC, as a new file is made) and named as its boot's
 * when the boot failed (cm_runner_after): a log made and unlinked at every boot was ~25 us of
 * the main thread's CPU a boot in the unlink alone (the inode's eviction) and ~15 us more in
 * the launch's open (an inode made, not one reused). A rename that fails stops the reuse:
 * from there on every boot has its own name again. */
static bool logs_named; /* a failed boot's log could not be renamed: every log by its name */

static char *boot_log_name(const struct cm_runner *r, const struct cm_planned *b)
{
	return cm_xasprintf("%s/%zu-%s%d.log", r->logs, b->c, b->warmup ? "w" : "b", b->boot);
}

/* The reused log of the main thread (slot 0) or of a wave's slot */
static char *running_name(const struct cm_runner *r, int slot)
{
	return slot ? cm_xasprintf("%s/running-%d.log", r->logs, slot)
		    : cm_xasprintf("%s/running.log", r->logs);
}

char *cm_runner_log(const struct cm_runner *r, const struct cm_planned *b, int slot)
{
	return r->m->keep_logs || logs_named ? boot_log_name(r, b) : running_name(r, slot);
}

void cm_runner_log_done(const struct cm_runner *r, int slot)
{
	if (logs_named) /* a failed boot's log may be the one left there */
		return;
	char *p = running_name(r, slot);
	unlink(p);
	free(p);
}

/* After the boot: its log left for the next boot to empty (not kept), or moved to its own name
 * (kept). launched: its child ran (and emptied the log before qemu wrote to it); else what the
 * reused log holds is an earlier boot's, and the kept log is emptied. Returns the name the log
 * has now (for the progress line), or NULL: log is its name already. */
static char *settle(struct cm_runner *r, const struct cm_planned *b, const char *log, bool kept,
		    bool launched)
{
	char *name = boot_log_name(r, b);
	if (!strcmp(name, log)) { /* named from the start */
		if (!kept)
			unlink(log);
		free(name);
		return NULL;
	}
	if (!kept) { /* the next boot's launch empties it (O_TRUNC), as it would a new one */
		free(name);
		return NULL;
	}
	if (rename(log, name)) {
		if (r->say) {
			struct cm_error e = { CM_ERR(CM_EIO) };
			snprintf(e.msg, sizeof(e.msg), "cannot rename %s to %s (%s): that boot's log "
				 "stays where it is, and every later boot's log gets its own name", log,
				 name, strerror(errno));
			r->say(r->ctx, &e);
		}
		logs_named = true;
		free(name);
		return NULL;
	}
	/* not launched: the child that empties the log never ran, and what it holds is an
	 * earlier boot's (a launched boot's child opened it with O_TRUNC before qemu ran) */
	if (!launched)
		truncate(name, 0);
	return name;
}

char *cm_runner_settle_log(struct cm_runner *r, const struct cm_planned *b,
			   const struct cm_boot_result *br, const char *log)
{
	return settle(r, b, log, br->status != CM_STATUS_OK || r->m->keep_logs,
		      br->status != CM_STATUS_LAUNCH_FAILED);
}

/* A boot that stopped the run before cm_runner_after (its journals or store refused it): its
 * log kept by its name, as every such boot's was, with what it holds when it was launched. */
void cm_runner_keep_log(struct cm_runner *r, const struct cm_planned *b, const char *log,
			bool launched)
{
	free(settle(r, b, log, true, launched));
}

void cm_runner_logs_reset(void)
{
	logs_named = false;
}
