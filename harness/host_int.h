/* Between the host checks (host_harness.c) and tune/reset (hosttune.c): not for other modules. */
#ifndef COLDMARK_HOST_INT_H
#define COLDMARK_HOST_INT_H

#include <stdbool.h>
#include <stddef.h>

#include "coldmark/host.h"

/* The longest value tune records (a sysfs value is a page) and the longest state line reset
 * reads: a path, a tab and the value escaped. Anything longer is refused, never cut. */
#define CM_HOST_VALUE_MAX 4096
#define CM_HOST_LINE_MAX 8192

/* A test hook's value: COLDMARK_SYSROOT or COLDMARK_STATE_DIR (NULL for a setuid caller). */
const char *cm_host_hook(const char *name);

/* The state file of a tune in progress. */
struct cm_tune_log;
/* Records path's prior bytes in the state file, written and synced: 0; 1 when the line would
 * be too long to record (the setting must stay as it is); -1 when it cannot be written (no
 * setting may change after that). */
int cm_tune_record(struct cm_tune_log *log, const char *path, const char *prior, size_t len);

/* Every check; with log, each fix applied once its prior value is recorded there. */
size_t cm_host_run_checks(const char *cpus, struct cm_tune_log *log, struct cm_host_item *out,
			  size_t max, size_t *changed);
/* Is path one of the files tune writes, spelled canonically? */
bool cm_host_tunable_path(const char *path);
/* Writes a host file itself (never through a symbolic link; regular files only): 0 or -errno. */
int cm_host_write(const char *path, const void *value, size_t len);

#endif
