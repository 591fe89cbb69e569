/* The table walkers of reports/tables.h. */
#include <stdio.h>

#include "tables.h"

const char *cm_ci_unit_text(const struct cm_report *r, char *out, size_t n)
{
	if (!r->ds->waves)
		return NULL;
	const char *k = cm_dataset_get_meta(r->ds, "concurrency");
	snprintf(out, n, "CIs over waves (%s): the boots of a wave shared the "
		 "host's moment, so a wave, not a boot, is a replicate; a median's CI is the "
		 "distribution-free CI over its waves' medians (the median shown is still the "
		 "boots'), a mean's over its waves as clusters, and \"w\" says over how many "
		 "waves (a boot outside a wave counts as one). With 2+ sessions, \"within\" is "
		 "between a session's waves and the advice counts waves.",
		 k && *k ? k : "K at a time");
	return out;
}

void cm_sessions_walk_case(const struct cm_report *r, size_t c,
			   void (*row)(const struct cm_sessions_row *sr, void *ctx), void *ctx)
{
	const struct cm_dataset *ds = r->ds;
	for (size_t p = 0; p < ds->nphases; p++) {
		const struct cm_cell *cell = cm_report_cell(r, c, p);
		if (cell->vc.sessions < 2)
			continue;
		struct cm_sessions_row sr = { ds->cases[c].id, ds->phases[p], cell };
		sr.advice = cm_cell_advice(r, cell, &sr.dim);
		row(&sr, ctx);
	}
}
