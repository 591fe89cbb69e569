/* Sessions in the data: a dataset's sessions, runs merged as sessions of one side (a tag's),
 * and the design advice a cell's variance components give. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "coldmark/model.h"

int cm_dataset_session(struct cm_dataset *ds, const char *id, const char *host)
{
	/* rows come session by session: the one at hand first, then the ids' hash set (a run
	 * may hold 10^6 sessions; a scan per new one was quadratic) */
	if (ds->session_now && !strcmp(ds->sessions[ds->session_now - 1].id, id))
		return ds->session_now;
	long at = cm_strset_find(&ds->session_ids, id);
	size_t i = at >= 0 ? (size_t)at : ds->nsessions;
	if (i == ds->nsessions) {
		if (!(i & (i - 1))) /* capacity doubles at powers of two */
			ds->sessions = cm_xrealloc(ds->sessions, (i ? 2 * i : 1) * sizeof(*ds->sessions));
		/* the number within its run: the id, or what follows a merged id's '#' */
		const char *hash = strrchr(id, '#');
		ds->sessions[i] = (struct cm_ds_session){ cm_xstrdup(id), cm_xstrdup(host ? host : ""),
							  atoi(hash ? hash + 1 : id) };
		cm_strset_add(&ds->session_ids, ds->sessions[i].id, (long)i); /* borrows the copy */
		ds->nsessions++;
	}
	return ds->session_now = (int)i + 1;
}

int cm_dataset_session_number(struct cm_dataset *ds, int n, const char *host)
{
	char id[16];
	snprintf(id, sizeof(id), "%d", n);
	return cm_dataset_session(ds, id, host);
}

void cm_dataset_merge(struct cm_dataset *dst, const struct cm_dataset *src, const char *label)
{
	const char *host = cm_dataset_get_meta(src, "host");
	int *map = cm_xcalloc(src->nsessions + 1, sizeof(int));
	for (size_t s = 0; s < src->nsessions; s++) {
		char *id = cm_xasprintf("%s#%s", label, src->sessions[s].id);
		map[s] = cm_dataset_session(dst, id, *src->sessions[s].host ? src->sessions[s].host : host);
		free(id);
	}
	char **labels = cm_xcalloc(dst->naxes + 1, sizeof(char *));
	for (size_t c = 0; c < src->ncases; c++) {
		for (size_t a = 0; a < dst->naxes; a++) {
			size_t k = 0;
			while (k < src->naxes && strcmp(src->axes[k], dst->axes[a]))
				k++;
			labels[a] = k < src->naxes ? src->cases[c].labels[k] : "";
		}
		cm_dataset_case(dst, src->cases[c].id, labels);
	}
	free(labels);
	for (size_t p = 0; p < src->nphases; p++)
		cm_dataset_phase(dst, src->phases[p]);
	for (size_t i = 0; i < src->nsums; i++) { /* a summary dataset's sessions: copied */
		struct cm_session_sum m = src->sums[i];
		m.case_idx = cm_dataset_case(dst, src->cases[m.case_idx].id, NULL);
		m.phase_idx = cm_dataset_phase(dst, src->phases[m.phase_idx]);
		m.session = map[m.session - 1];
		m.values = cm_xmalloc((m.n + 1) * sizeof(double));
		memcpy(m.values, src->sums[i].values, m.n * sizeof(double));
		cm_dataset_add_sum(dst, &m);
	}
	for (size_t i = 0; i < src->n; i++) {
		const struct cm_sample_row *r = &src->rows[i];
		dst->session_now = r->session ? map[r->session - 1] : map[0];
		dst->audit_now = r->audit;
		dst->wave_now = r->wave, dst->slot_now = r->slot;
		cm_dataset_add(dst, r->case_id, r->boot, r->warmup, r->status, r->phase,
			       r->duration_ns, r->source, r->cache);
	}
	dst->waves |= src->waves;
	dst->audit_now = NULL;
	dst->wave_now = dst->slot_now = 0;
	free(map);
}

void cm_dataset_add_sum(struct cm_dataset *ds, const struct cm_session_sum *sum)
{
	CM_PUSH(ds->sums, ds->nsums, ds->sums_cap);
	ds->sums[ds->nsums++] = *sum;
}
