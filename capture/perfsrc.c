/* perf as a source of the launcher: nothing on qemu's argv, nothing to poll (system-wide
 * rings are read every few ms), the first guest instruction seen. */
#include <stdlib.h>

#include "coldmark/capture.h"

struct perfsrc {
	struct cm_capture base;
	struct cm_perf *perf;
};

static void ps_begin(struct cm_capture *s)
{
	cm_perf_begin(((struct perfsrc *)s)->perf);
}

static size_t ps_poll_fds(const struct cm_capture *s, int *fds, size_t max)
{
	return cm_perf_poll_fds(((const struct perfsrc *)s)->perf, fds, max);
}

static void ps_drain(struct cm_capture *s, pid_t pid, struct cm_events *ev)
{
	cm_perf_drain(((struct perfsrc *)s)->perf, pid, ev);
}

static void ps_free(struct cm_capture *s)
{
	free(s); /* the handle is the run's */
}

static const struct cm_capture_ops perf_ops = {
	.name = "perf", .caps = CM_CAP_FIRST_ENTRY | CM_CAP_PERIODIC,
	.args = cm_capture_no_args, .open_boot = cm_capture_no_sockets, .begin = ps_begin,
	.poll_fds = ps_poll_fds, .drain = ps_drain, .end_boot = cm_capture_nothing,
	.free = ps_free,
};

struct cm_capture *cm_perf_source(struct cm_perf *p, const struct cm_matrix *m)
{
	struct perfsrc *ps = cm_xcalloc(1, sizeof(*ps));
	ps->base = (struct cm_capture){ &perf_ops, m, NULL };
	ps->perf = p;
	return &ps->base;
}
