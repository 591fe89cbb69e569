/* The reference cases of a dataset (run.reference): which one stands beside a case, and the
 * samples judged relative to it, session by session. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "coldmark/model.h"

size_t *cm_reference_map(const struct cm_dataset *ds)
{
	size_t accel = 0, *refs = NULL, nrefs = 0, *map = cm_xmalloc((ds->ncases + 1) * sizeof(size_t));
	while (accel < ds->naxes && strcmp(ds->axes[accel], "accel"))
		accel++;
	/* the reference cases, found once (one an accelerator): each case then looks among them,
	 * not through every case (a sweep's cases times its cases) */
	for (size_t r = 0; r < ds->ncases; r++)
		if (cm_is_reference_case(ds->cases[r].id)) {
			refs = cm_xrealloc(refs, (nrefs + 1) * sizeof(size_t));
			refs[nrefs++] = r;
		}
	for (size_t c = 0; c < ds->ncases; c++) {
		size_t any = ds->ncases;
		map[c] = ds->ncases;
		for (size_t k = 0; k < nrefs && !cm_is_reference_case(ds->cases[c].id); k++) {
			const struct cm_ds_case *r = &ds->cases[refs[k]];
			if (accel == ds->naxes || !strcmp(r->labels[accel], ds->cases[c].labels[accel])) {
				any = refs[k]; /* the reference under the case's own accelerator */
				break;
			}
			if (any == ds->ncases)
				any = refs[k];
		}
		map[c] = any;
	}
	free(refs);
	return map;
}

/* What a row is judged against: a phase against the reference's total (the reference boots
 * have no phases), a metric against the reference's same metric (qemu's peak RSS divided by
 * the reference's change in time carried the host's drift into a size: +0.2% read +22.4%). */
enum { K_TOTAL, K_METRIC0 };
#define NKINDS (K_METRIC0 + CM_NMETRICS)

static size_t kind_of(const struct cm_dataset *ds, size_t phase)
{
	const struct cm_metric *m = cm_metric(ds->phases[phase]);
	return m ? K_METRIC0 + (size_t)(m - cm_metrics) : K_TOTAL;
}

/* ln of the median of v[0..m), NAN when m is 0 (zeros: m session ids of 0, one group) */
static double ln_median(const double *v, size_t m, const int *zeros)
{
	double lv = NAN;
	if (m)
		cm_stats_session_medians(v, zeros, m, 1, &lv, NULL);
	return lv;
}

/* ln medians of reference case ref's measured values of each kind, in one pass over the rows
 * (a pass a kind and session was O(rows x sessions)): per session into level[k][s - 1] (when
 * level), over every session into all[k] (when all); NAN without a value. Each bucket keeps
 * the rows' order, so the medians are the ones a scan per bucket gave. */
static void ref_medians(const struct cm_dataset *ds, size_t ref, double **level, double *all)
{
	size_t want[NKINDS], ns = ds->nsessions, nb = NKINDS * (ns + 1);
	for (size_t k = 0; k < NKINDS; k++)
		want[k] = cm_dataset_find_phase(ds, k == K_TOTAL ? "total" : cm_metrics[k - K_METRIC0].name);
	double **v = cm_xcalloc(nb, sizeof(*v));
	size_t *m = cm_xcalloc(nb, sizeof(*m)), *cap = cm_xcalloc(nb, sizeof(*cap));
	for (size_t i = 0; i < ds->n; i++) {
		const struct cm_sample_row *r = &ds->rows[i];
		size_t k = 0;
		while (k < NKINDS && want[k] != r->phase_idx)
			k++;
		if (r->case_idx != ref || k == NKINDS || cm_row_kind(r) != CM_ROW_MEASURED)
			continue;
		/* bucket s = 0: every session; 1..ns: that session */
		size_t b[2] = { k * (ns + 1), r->session >= 1 && (size_t)r->session <= ns
						      ? k * (ns + 1) + (size_t)r->session : nb };
		for (int t = 0; t < 2 && b[t] < nb; t++) {
			CM_PUSH(v[b[t]], m[b[t]], cap[b[t]]);
			v[b[t]][m[b[t]]++] = r->duration_ns;
		}
	}
	int *zeros = cm_xcalloc(ds->n + 1, sizeof(int));
	for (size_t k = 0; k < NKINDS; k++) {
		for (size_t s = 1; level && s <= ns; s++)
			level[k][s - 1] = ln_median(v[k * (ns + 1) + s], m[k * (ns + 1) + s], zeros);
		if (all)
			all[k] = ln_median(v[k * (ns + 1)], m[k * (ns + 1)], zeros);
	}
	for (size_t b = 0; b < nb; b++)
		free(v[b]);
	free(v), free(m), free(cap), free(zeros);
}

/* Reference case ref's levels of every kind, and its typical value of each in the base's
 * terms (scale's own reference when it has one, else ds's). */
struct ref_levels {
	double *level[NKINDS], typical[NKINDS];
};

static struct ref_levels *levels_of(const struct cm_dataset *ds, const struct cm_dataset *scale,
				    size_t ref)
{
	struct ref_levels *l = cm_xcalloc(1, sizeof(*l));
	size_t sr = cm_dataset_case_index(scale, ds->cases[ref].id);
	double all[NKINDS];
	for (size_t k = 0; k < NKINDS; k++)
		l->level[k] = cm_xcalloc(ds->nsessions + 1, sizeof(double));
	ref_medians(ds, ref, l->level, sr < scale->ncases ? NULL : all);
	if (sr < scale->ncases)
		ref_medians(scale, sr, NULL, all);
	for (size_t k = 0; k < NKINDS; k++)
		l->typical[k] = exp(all[k]);
	return l;
}

int cm_dataset_relative(struct cm_dataset *ds, const struct cm_dataset *scale)
{
	size_t *ref = cm_reference_map(ds);
	struct ref_levels **lv = cm_xcalloc(ds->ncases + 1, sizeof(*lv));
	bool any = false;
	for (size_t c = 0; c < ds->ncases; c++) {
		if (ref[c] == ds->ncases || lv[ref[c]])
			continue;
		any = true;
		lv[ref[c]] = levels_of(ds, scale, ref[c]);
	}
	for (size_t i = 0; any && i < ds->n; i++) {
		struct cm_sample_row *r = &ds->rows[i];
		size_t c = ref[r->case_idx], k;
		if (c == ds->ncases || isnan(r->duration_ns))
			continue;
		k = kind_of(ds, r->phase_idx);
		double l = lv[c]->level[k][r->session - 1];
		/* a session without a reference value of its kind cannot be judged against it */
		r->duration_ns = isfinite(l) ? r->duration_ns / exp(l) * lv[c]->typical[k] : NAN;
	}
	for (size_t c = 0; c < ds->ncases; c++)
		if (lv[c]) {
			for (size_t k = 0; k < NKINDS; k++)
				free(lv[c]->level[k]);
			free(lv[c]);
		}
	free(lv), free(ref);
	return any ? 0 : -1;
}
