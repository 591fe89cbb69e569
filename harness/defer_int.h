/* Deferred reading of kernel-stamped sources (defer.c), for the launcher (launch.c) only. */
#ifndef COLDMARK_DEFER_INT_H
#define COLDMARK_DEFER_INT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "coldmark/capture.h"

/* Before the boot's sockets are made: which of sources v (kase's boot; NULL: a launch outside a
 * run's cases) are left unread until qemu ends (their deferred set). Returns how often the
 * watch looks at their queues meanwhile (the valve), in ns; 0: none deferred. end_grace_ns <0:
 * no end marker, else the valve is at most half the grace, so that a boot the end marker ends
 * ends on time. More than CM_SOURCES_MAX sources: none. */
int64_t cm_defer_boot(struct cm_capture *const *v, size_t n, const struct cm_case *kase,
		      int64_t end_grace_ns);
/* The valve: the deferred sources drained while qemu runs; one that read more than a safe share
 * of what its socket holds is read live for the rest of the boot and of the run. True when any
 * is still deferred. */
bool cm_defer_look(struct cm_capture *const *v, size_t n, pid_t pid, struct cm_events *ev);
/* After the boot's last drain: what each stamped source read and how long the boot took
 * (exec to end), into the case's record; a deferred one that read too much goes live. */
void cm_defer_learn(struct cm_capture *const *v, size_t n, const struct cm_case *kase,
		    int64_t boot_ns);

#endif
