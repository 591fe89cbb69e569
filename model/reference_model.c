/* The reference cases of a dataset (run.reference): which one stands beside a case, and the
 * samples judged relative to it, session by session. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "coldmark/model.h"

size_t cm_reference_for(const struct cm_dataset *ds, size_t c)
{
	size_t accel = 0, any = ds->ncases;
	while (accel < ds->naxes && strcmp(ds->axes[accel], "accel"))
		accel++;
	for (size_t r = 0; r < ds->ncases; r++) {
		if (!cm_is_reference_case(ds->cases[r].id) || r == c)
			continue;
		if (accel == ds->naxes || !strcmp(ds->cases[r].labels[accel], ds->cases[c].labels[accel]))
			return r; /* the reference under the case's own accelerator */
		if (any == ds->ncases)
			any = r;
	}
	return cm_is_reference_case(ds->cases[c].id) ? ds->ncases : any;
}

/* ln of the median of reference case ref's measured totals, in session (1-based) or, with 0,
 * in every session; NAN without an ok boot. */
static double ref_log_median(const struct cm_dataset *ds, size_t ref, int session)
{
	size_t total = cm_dataset_find_phase(ds, "total"), m = 0;
	double *v = cm_xmalloc((ds->n + 1) * sizeof(double)), lv = NAN;
	int *none = cm_xcalloc(ds->n + 1, sizeof(int));
	for (size_t i = 0; i < ds->n; i++) {
		const struct cm_sample_row *r = &ds->rows[i];
		if (r->case_idx == ref && r->phase_idx == total && (!session || r->session == session) &&
		    cm_row_kind(r) == CM_ROW_MEASURED)
			v[m++] = r->duration_ns;
	}
	if (m)
		cm_stats_session_medians(v, none, m, 1, &lv, NULL);
	free(v), free(none);
	return lv;
}

/* The reference's level in each session (ln of its median total). */
static double *session_levels(const struct cm_dataset *ds, size_t ref)
{
	double *level = cm_xcalloc(ds->nsessions + 1, sizeof(double));
	for (size_t s = 0; s < ds->nsessions; s++)
		level[s] = ref_log_median(ds, ref, (int)s + 1);
	return level;
}

int cm_dataset_relative(struct cm_dataset *ds, const struct cm_dataset *scale)
{
	size_t *ref = cm_xmalloc((ds->ncases + 1) * sizeof(size_t));
	double **level = cm_xcalloc(ds->ncases + 1, sizeof(double *)), *ns = cm_xcalloc(ds->ncases + 1, sizeof(double));
	bool any = false;
	for (size_t c = 0; c < ds->ncases; c++) {
		ref[c] = cm_reference_for(ds, c);
		if (ref[c] == ds->ncases || level[ref[c]])
			continue;
		any = true;
		level[ref[c]] = session_levels(ds, ref[c]);
		/* in the base's terms: the reference's typical time there */
		size_t sr = cm_dataset_case_index(scale, ds->cases[ref[c]].id);
		ns[ref[c]] = exp(sr < scale->ncases ? ref_log_median(scale, sr, 0)
						     : ref_log_median(ds, ref[c], 0));
	}
	for (size_t i = 0; any && i < ds->n; i++) {
		struct cm_sample_row *r = &ds->rows[i];
		size_t k = ref[r->case_idx];
		if (k == ds->ncases || isnan(r->duration_ns))
			continue;
		double lv = level[k][r->session - 1];
		/* a session without a reference boot cannot be judged against it */
		r->duration_ns = isfinite(lv) ? r->duration_ns / exp(lv) * ns[k] : NAN;
	}
	for (size_t c = 0; c < ds->ncases; c++)
		free(level[c]);
	free(level), free(ns), free(ref);
	return any ? 0 : -1;
}
