/* Table walkers the writers share: the loop over a table's rows lives once, each format only
 * says how a row looks. Internal to reports/. */
#ifndef COLDMARK_REPORTS_TABLES_H
#define COLDMARK_REPORTS_TABLES_H

#include <stdbool.h>

#include "coldmark/report.h"

/* One row of "Sessions: where the noise is": a cell with 2+ sessions, and the cheapest design
 * for CM_ADVICE_TARGET when there is one (advice false: none). */
struct cm_sessions_row {
	const char *case_id, *phase;
	const struct cm_cell *cell;
	bool advice;
	struct cm_dimension dim;
};
/* Calls row() for every such cell of case c, in phase order (the writers walk the cases:
 * each case's rows are one piece of a live report's text). */
void cm_sessions_walk_case(const struct cm_report *r, size_t c,
			   void (*row)(const struct cm_sessions_row *sr, void *ctx), void *ctx);

/* A run in waves (issue 29): the sentence that says its CIs' replicate is the wave, with how
 * many boots ran at once (the run's "concurrency" line); NULL for a run not in waves, whose
 * reports say nothing new. */
const char *cm_ci_unit_text(const struct cm_report *r, char *out, size_t n);

#endif
