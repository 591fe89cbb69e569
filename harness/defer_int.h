/* Deferred reading of kernel-stamped sources (defer.c), for the launcher (launch.c) only. */
#ifndef COLDMARK_DEFER_INT_H
#define COLDMARK_DEFER_INT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "coldmark/capture.h"
#include "coldmark/harness.h"

/* The child's ends of the boot's sockets (qemu's, still open in coldmark until the boot's
 * last drain): source i's are fds[at[i]..at[i + 1]). Their SO_MEMINFO says how full the
 * queue qemu writes into is (the reading end's says nothing: the sender is charged). */
struct cm_defer_fds {
	const int *fds;
	size_t at[CM_SOURCES_MAX + 1];
};

/* Before the boot's sockets are made: which of sources v (kase's boot; NULL: a launch outside a
 * run's cases) are left unread until qemu ends (their deferred set). Returns how often the
 * watch looks at their queues meanwhile (the valve), in ns; 0: none deferred. end_grace_ns <0:
 * no end marker, else the valve is at most half the grace, so that a boot the end marker ends
 * ends on time. More than CM_SOURCES_MAX sources: none. */
int64_t cm_defer_boot(struct cm_capture *const *v, size_t n, const struct cm_case *kase,
		      int64_t end_grace_ns);
/* The valve: the deferred sources drained while qemu runs; one that read more than a safe share
 * of what its socket holds is read live for the rest of the boot and of the run. One whose
 * queue could have filled (cm_defer_filled) first makes the boot held_up (ex). True when any
 * is still deferred. */
bool cm_defer_look(struct cm_capture *const *v, size_t n, pid_t pid, struct cm_events *ev,
		   const struct cm_defer_fds *q, struct cm_exit *ex);
/* Just before the boot's last drain: each deferred source whose queue could have filled (what
 * qemu sent and nobody read within 1/4 of its SO_SNDBUF) makes the boot held_up and is read
 * live for the rest of the run. */
void cm_defer_filled(struct cm_capture *const *v, size_t n, const struct cm_defer_fds *q,
		     struct cm_exit *ex);
/* After the boot's last drain: what each stamped source read and how long the boot took
 * (exec to end), into the case's record; a deferred one that read too much goes live. */
void cm_defer_learn(struct cm_capture *const *v, size_t n, const struct cm_case *kase,
		    int64_t boot_ns);

/* The clocks' offset (cm_clock_offset_ns; a seam for tests) as a boot of deferred sources
 * begins (valve != 0), and its check as their queues are read at the end: a move beyond what
 * the two reads can be off is a step of the realtime clock (ex->clock_step_ns). */
extern int64_t (*cm_defer_clock_offset)(int64_t *gap);
struct cm_defer_clock {
	int64_t offset, gap;
};
void cm_defer_clock_mark(int64_t valve, struct cm_defer_clock *c);
void cm_defer_clock_check(int64_t valve, const struct cm_defer_clock *c, struct cm_exit *ex);

#endif
