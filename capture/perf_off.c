/* The perf source in a build without libperf (-DCOLDMARK_PERF=OFF): the same interface, and an
 * open that says why it cannot. Runs then use debugcon; --source perf is refused with this. */
#include <stdio.h>

#include "coldmark/capture.h"
#include "coldmark/profile.h"

struct cm_perf *cm_perf_open(const struct cm_perf_config *cfg, struct cm_error *err)
{
	(void)cfg;
	cm_error_set(err, CM_ERR(CM_EHOST), "this coldmark was built without the perf source (COLDMARK_PERF=OFF): "
			     "rebuild with libperf (scripts/setup-deps.sh) to use it");
	return NULL;
}

void cm_perf_begin(struct cm_perf *p) { (void)p; }
void cm_perf_wave_begin(struct cm_perf *p, int k) { (void)p, (void)k; }

void cm_perf_drain(struct cm_perf *p, pid_t pid, struct cm_events *ev)
{
	(void)p, (void)pid, (void)ev;
}

const char *cm_perf_first_entry_name(const struct cm_perf *p)
{
	(void)p;
	return "";
}

void cm_perf_first_entry_fired(const struct cm_perf *p, bool ever, char *out, size_t n)
{
	(void)p, (void)ever;
	if (n)
		*out = 0;
}

void cm_perf_close(struct cm_perf *p) { (void)p; }

bool cm_perf_built_in(void)
{
	return false;
}

bool cm_perf_first_entry_woken(const struct cm_perf *p)
{
	(void)p;
	return false;
}

size_t cm_perf_poll_fds(const struct cm_perf *p, int *fds, size_t max)
{
	(void)p, (void)fds, (void)max;
	return 0;
}

struct cm_profile *cm_perf_profile(const struct cm_perf *p, const char **why)
{
	(void)p;
	*why = "this coldmark was built without the perf source";
	return NULL;
}

/* run.profile rides on the perf source: never open in this build */
bool cm_profile_exit_fired(const struct cm_profile *p)
{
	(void)p;
	return false;
}

const char *cm_profile_events(const struct cm_profile *p)
{
	(void)p;
	return "";
}
