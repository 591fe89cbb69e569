/* A run folder: created or reopened safely, and written so that nothing measured is lost.
 * Files are opened relative to the folder's own fd with O_NOFOLLOW (a planted symlink is
 * never followed), new files with O_EXCL, appends are whole rows (synced to the disk a batch
 * of boots at a time, cm_rundir_sync), and a write that fails is cut back to the last
 * complete boot. */
#ifndef COLDMARK_RUNDIR_H
#define COLDMARK_RUNDIR_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

#include "coldmark/util.h"

enum cm_rundir_mode {
	CM_RUNDIR_NEW,    /* a missing or empty folder */
	CM_RUNDIR_FORCE,  /* a new run replacing an earlier run's files (never other files) */
	CM_RUNDIR_RESUME, /* an interrupted run, its journals continued */
};

/* The append-only journals of a run. */
enum cm_journal { CM_JOURNAL_SAMPLES, CM_JOURNAL_EVENTS, CM_NJOURNALS };

struct cm_syncer; /* the journals' fdatasync, off the boots' path (rundir.c) */
struct cm_rundir {
	char *path;
	int dfd;
	int fd[CM_NJOURNALS];
	off_t good[CM_NJOURNALS]; /* bytes known complete (written whole) */
	off_t cut[CM_NJOURNALS];  /* resume: bytes of a partial last row removed */
	struct cm_syncer *syncer;
};

/* Opens path as mode asks; 0, or -1 with a sentence in err (the caller adds the command). */
int cm_rundir_open(struct cm_rundir *rd, const char *path, enum cm_rundir_mode mode, struct cm_error *err);
/* Appends len bytes to a journal (written whole before it returns: a kill -9 after that loses
 * nothing); on failure cuts the journal back to its last good size and returns -errno (ENOSPC
 * for a full disk), or the error of a sync not yet waited for. The sync to the disk itself runs
 * in the background from cm_rundir_sync (the runner waits for it, cm_rundir_synced, before
 * the stores take the batch). */
int cm_rundir_append(struct cm_rundir *rd, enum cm_journal j, const char *buf, size_t len);
/* Starts the fdatasync of every journal written since the last one, in the background (the
 * next append, and close, wait for it and report its error). */
void cm_rundir_sync(struct cm_rundir *rd);
/* Waits for the background sync; 0 or its -errno. */
int cm_rundir_synced(struct cm_rundir *rd);
/* The journals' sync thread's CPU so far (ns; 0 without that thread): COLDMARK_CPU_REPORT. */
int64_t cm_rundir_sync_cpu_ns(const struct cm_rundir *rd);
/* Takes a journal back to an earlier good size (a boot whose other half failed). */
void cm_rundir_cut(struct cm_rundir *rd, enum cm_journal j, off_t size);
/* Writes a whole file under a temporary name, syncs it and renames it into place. -errno. */
int cm_rundir_replace(struct cm_rundir *rd, const char *name, const char *buf, size_t len);
/* May a file by that name in the folder be opened by path (by a library such as SQLite)? Yes
 * when there is none, or a regular file; never a link planted to elsewhere. */
bool cm_rundir_may_open(const struct cm_rundir *rd, const char *name);
/* True when the folder holds a journal written before (resume: append, no header). */
bool cm_rundir_has_data(const struct cm_rundir *rd, enum cm_journal j);
void cm_rundir_close(struct cm_rundir *rd);

/* The plan a run keeps in meta.csv ("boots=10 warmup=1 order=2 seed=1 until_ci=0
 * phase=total"), from the matrix, and back into it on --resume (-1: not a plan). */
struct cm_matrix;
struct tm;
void cm_rundir_plan_format(const struct cm_matrix *m, char *buf, size_t n);
int cm_rundir_plan_parse(const char *text, struct cm_matrix *m);
/* "20261126-010405-node7-9f3a61c2": the start time, the host's short name and 32 random bits
 * (getrandom): unique across processes, PID namespaces and hosts without coordination. */
void cm_rundir_new_id(char *buf, size_t n, const struct tm *started);

/* The file names of a run folder. */
#define CM_RUN_SAMPLES "samples.csv"
#define CM_RUN_EVENTS "events.csv"
#define CM_RUN_WAVES "waves.csv" /* boots at once: a line per wave (makespan, host cost) */
#define CM_RUN_META "meta.csv"
#define CM_RUN_PLAN "plan.csv" /* each case's command line hash, for --resume */
#define CM_RUN_LOGS "logs"
/* a run whose store is a server keeps every boot here too (coldmark sync uploads it) */
#define CM_RUN_JOURNAL_DB "journal.db"

#endif
