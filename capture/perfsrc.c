/* perf as a source of the launcher: nothing on qemu's argv, nothing to poll (system-wide
 * rings are read every few ms), the first guest instruction seen. */
#include <stdlib.h>

#include "coldmark/capture.h"

struct perfsrc {
	struct cm_capture base;
	struct cm_perf *perf;
};

static size_t ps_args(const struct cm_capture *s, int fd0, struct cm_argv *a)
{
	(void)s, (void)fd0, (void)a;
	return 0;
}

static int ps_open_boot(struct cm_capture *s, const struct cm_boot_io *io, int *child_fds)
{
	(void)s, (void)io, (void)child_fds;
	return 0;
}

static void ps_begin(struct cm_capture *s)
{
	cm_perf_begin(((struct perfsrc *)s)->perf);
}

static size_t ps_poll_fds(const struct cm_capture *s, int *fds, size_t max)
{
	(void)s, (void)fds, (void)max;
	return 0;
}

static void ps_drain(struct cm_capture *s, pid_t pid, struct cm_events *ev)
{
	cm_perf_drain(((struct perfsrc *)s)->perf, pid, ev);
}

static void ps_end_boot(struct cm_capture *s)
{
	(void)s;
}

static void ps_free(struct cm_capture *s)
{
	free(s); /* the handle is the run's */
}

static const struct cm_capture_ops perf_ops = {
	.name = "perf", .caps = CM_CAP_FIRST_ENTRY | CM_CAP_PERIODIC, .args = ps_args,
	.open_boot = ps_open_boot, .begin = ps_begin, .poll_fds = ps_poll_fds, .drain = ps_drain,
	.end_boot = ps_end_boot, .free = ps_free,
};

struct cm_capture *cm_perf_source(struct cm_perf *p, const struct cm_matrix *m)
{
	struct perfsrc *ps = cm_xcalloc(1, sizeof(*ps));
	ps->base = (struct cm_capture){ &perf_ops, m, NULL };
	ps->perf = p;
	return &ps->base;
}
