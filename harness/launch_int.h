/* Between the launcher (launch.c) and its argv builder (launch_argv.c): not for other modules. */
#ifndef COLDMARK_LAUNCH_INT_H
#define COLDMARK_LAUNCH_INT_H

#include <stddef.h>

#include "coldmark/capture.h"

/* qemu's argv as cm_launch_argv builds it, for one boot: the case's strings and the console's
 * constant ones are not copied but pointed to (they outlive the boot), only the sources'
 * arguments are made; argv[own[0]] .. argv[own[1] - 1] are those, to free with the array. */
char **cm_launch_argv_view(char *const *case_argv, struct cm_capture *const *sources,
			   size_t nsources, size_t own[2]);

#endif
