/* Which capture sources a case's boots use: perf for KVM cases where it works, debugcon for
 * TCG (and KVM without perf), debugcon as a second opinion with --source both, the console
 * wherever the matrix has console markers. Made once per run, reused by every boot. */
#include <stdlib.h>

#include "coldmark/harness.h"

void cm_sources_init(struct cm_sources *s, const struct cm_matrix *m, struct cm_perf *perf,
		     bool perf_assumed)
{
	s->debugcon = cm_debugcon_source(m, NULL);
	s->shadow = cm_debugcon_source(m, "@debugcon");
	s->perf = perf || perf_assumed ? cm_perf_source(perf, m) : NULL;
	s->console = cm_matrix_uses_console(m) ? cm_console_source(m) : NULL;
}

size_t cm_sources_pick(const struct cm_sources *s, const struct cm_matrix *m,
		       const struct cm_case *c, struct cm_capture **out)
{
	size_t n = 0;
	bool use_perf = s->perf && !cm_case_is_tcg(c) && m->source != CM_SOURCE_DEBUGCON;
	if (use_perf) {
		out[n++] = s->perf;
		if (m->source == CM_SOURCE_BOTH)
			out[n++] = s->shadow;
	} else {
		out[n++] = s->debugcon;
	}
	if (s->console)
		out[n++] = s->console;
	return n;
}

bool cm_sources_first_entry(struct cm_capture *const *picked, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (picked[i]->ops->caps & CM_CAP_FIRST_ENTRY)
			return true;
	return false;
}

void cm_sources_free(struct cm_sources *s)
{
	cm_capture_free(s->debugcon);
	cm_capture_free(s->shadow);
	cm_capture_free(s->perf);
	cm_capture_free(s->console);
}
