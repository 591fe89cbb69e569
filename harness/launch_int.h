/* Between the launcher (launch.c) and its argv builder (launch_argv.c): not for other modules. */
#ifndef COLDMARK_LAUNCH_INT_H
#define COLDMARK_LAUNCH_INT_H

#include <stddef.h>
#include <stdint.h>

#include "coldmark/capture.h"

/* qemu's argv as cm_launch_argv builds it, for one boot: the case's strings and the console's
 * constant ones are not copied but pointed to (they outlive the boot), only the sources'
 * arguments are made; argv[own[0]] .. argv[own[1] - 1] are those, to free with the array. */
char **cm_launch_argv_view(char *const *case_argv, struct cm_capture *const *sources,
			   size_t nsources, size_t own[2]);

struct cm_launch;
/* How long the watch's next poll may sleep (ms, never negative: poll(-1) sleeps till an fd
 * wakes it): to the deadline, the deferred queues' next look, the end of the end marker's
 * grace (end_seen: when it was seen, 0: not yet), never past the thread's cap. */
int cm_launch_poll_ms(const struct cm_launch *l, int64_t now, int64_t deadline, int64_t end_seen,
		      int64_t look);

#endif
