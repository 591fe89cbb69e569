/* coldmark calibrate's own step: after the sessions ran, their variance components per case
 * and phase become this host's calibration in the store (and the shared store). */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>

#include "cli.h"
#include "coldmark/analysis.h"
#include "coldmark/runner.h"
#include "coldmark/store.h"

/* coldmark calibrate: per case x phase the components of the sessions just run, stored as this
 * host's calibration (replacing an earlier one of the same case and phase). */
int cm_calibration_save(const struct cm_dataset *ds, const struct cm_report *rep, const char *run_id,
			struct cm_runner *rn, const char *where)
{
	const char *host = cm_dataset_get_meta(ds, CM_HDR(HOST));
	struct cm_calibration *cal = cm_xcalloc(rep->ncells + 1, sizeof(*cal));
	size_t n = 0;
	printf("\ncalibration of host %s (sd of ln(time): within a session, between sessions)\n",
	       host ? host : "?");
	for (size_t i = 0; i < rep->ncells; i++) {
		const struct cm_cell *cell = &rep->cells[i];
		if (cell->vc.sessions < 2)
			continue;
		cal[n++] = (struct cm_calibration){ ds->cases[cell->case_idx].id,
						    ds->phases[cell->phase_idx], cell->vc };
		/* a run in waves: its components are over the waves (the units compare takes) */
		printf("  %-36s %-12s within %5.2f%%  between %5.2f%%  ICC %.2f  (%zu sessions × %zu%s)\n",
		       ds->cases[cell->case_idx].id, ds->phases[cell->phase_idx],
		       sqrt(cell->vc.within) * 100, sqrt(cell->vc.between) * 100, cell->vc.icc,
		       cell->vc.sessions, cell->vc.boots, cell->s.ci_units ? " waves" : "");
	}
	int rc = 0;
	if (!n) {
		fprintf(stderr, "coldmark calibrate: fewer than 2 sessions with 2+ ok boots: nothing "
				"to calibrate (--sessions K, K >= 2)\n");
		rc = CM_EXIT_FAILED;
	} else if (cm_store_put_calibration(rn->store, host ? host : "", run_id, cal, n) ||
		   (rn->shared && cm_store_put_calibration(rn->shared, host ? host : "", run_id, cal, n))) {
		struct cm_store *which = rn->shared ? rn->shared : rn->store;
		fprintf(stderr, "coldmark calibrate: the store %s did not take the calibration: %s\n",
			where, cm_store_error(which));
		rc = CM_EXIT_OUTPUT;
	} else {
		printf("stored for host %s in %s: compares of one-session runs on this host use it\n",
		       host ? host : "?", where);
	}
	free(cal); /* its strings belong to the dataset */
	return rc;
}

