/* The table walkers of reports/tables.h. */
#include "tables.h"

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
