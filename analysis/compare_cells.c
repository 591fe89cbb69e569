/* Compare's cells (issue 25): what a comparison reads of a case and phase, and nothing more:
 * the measured times with their sessions (the one-session models test the boots), n, the
 * median of the times, and per session n, the median, mean and sum of squares of ln(time)
 * (the session models, the variance components). Built from a dataset's rows, or from the
 * store's session summary (ds->sums) without a row: the same numbers, since the summary's
 * per-session figures come from the same function (cm_ln_session_stats) over the same times
 * in the same order, and the times themselves are in the summary. A full summary of each
 * cell (percentiles, CIs, modes) and the sweeps are the report's: compare showed none. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "coldmark/analysis.h"
#include "compare_median.h"

/* wave: the boot's wave (issue 29), kept when waves (a run in waves: compare's unit is then
 * the wave below the session) */
static void push_value(struct cm_cell *cell, size_t *cap, double v, int session, int boot,
		       bool waves, int wave)
{
	if (cell->s.n >= *cap) {
		*cap = *cap ? 2 * *cap : 16;
		cell->values = cm_xrealloc(cell->values, *cap * sizeof(double));
		cell->boots = cm_xrealloc(cell->boots, *cap * sizeof(int));
		cell->sessions = cm_xrealloc(cell->sessions, *cap * sizeof(int));
		if (waves)
			cell->waves = cm_xrealloc(cell->waves, *cap * sizeof(int));
	}
	if (waves)
		cell->waves[cell->s.n] = wave;
	cell->values[cell->s.n] = v;
	cell->sessions[cell->s.n] = session;
	cell->boots[cell->s.n++] = boot;
}

/* A cell's session table from its times: sessions in order of first appearance, each one's
 * times in their order (what the summary's row holds). */
void cm_cell_sessions_of(struct cm_cell *cell, size_t nsessions)
{
	size_t *slot = cm_xcalloc(nsessions + 1, sizeof(size_t)), *count, *at;
	int *order = cm_xmalloc((cell->s.n + 1) * sizeof(int));
	size_t k = 0;
	for (size_t i = 0; i < cell->s.n; i++) {
		size_t s = (size_t)cell->sessions[i];
		if (s > nsessions)
			s = 0; /* session 0: rows without one */
		if (!slot[s])
			order[k++] = (int)s, slot[s] = k;
	}
	count = cm_xcalloc(k + 1, sizeof(size_t));
	at = cm_xcalloc(k + 2, sizeof(size_t));
	for (size_t i = 0; i < cell->s.n; i++)
		count[slot[(size_t)cell->sessions[i] > nsessions ? 0 : (size_t)cell->sessions[i]] - 1]++;
	for (size_t g = 0; g < k; g++)
		at[g + 1] = at[g] + count[g];
	double *v = cm_xmalloc((cell->s.n + 1) * sizeof(double));
	size_t *fill = cm_xcalloc(k + 1, sizeof(size_t));
	for (size_t i = 0; i < cell->s.n; i++) {
		size_t g = slot[(size_t)cell->sessions[i] > nsessions ? 0 : (size_t)cell->sessions[i]] - 1;
		v[at[g] + fill[g]++] = cell->values[i];
	}
	cell->sess = cm_xcalloc(k + 1, sizeof(*cell->sess));
	for (size_t g = 0; g < k; g++) {
		cm_ln_session_stats(v + at[g], count[g], &cell->sess[g]);
		cell->sess[g].session = order[g];
	}
	cell->nsess = k;
	free(slot), free(order), free(count), free(at), free(v), free(fill);
}

static void from_rows(const struct cm_dataset *ds, struct cm_report *r, size_t *cap)
{
	for (size_t i = 0; i < ds->n; i++) {
		const struct cm_sample_row *row = &ds->rows[i];
		struct cm_cell *cell = &r->cells[row->case_idx * ds->nphases + row->phase_idx];
		cell->nrows++;
		enum cm_row_kind kind = cm_row_kind(row);
		cell->n_warmup += kind == CM_ROW_WARMUP;
		if (kind == CM_ROW_MEASURED)
			push_value(cell, &cap[row->case_idx * ds->nphases + row->phase_idx],
				   row->duration_ns, row->session, row->boot, ds->waves, row->wave);
	}
	for (size_t k = 0; k < r->ncells; k++)
		cm_cell_sessions_of(&r->cells[k], ds->nsessions);
}

/* the summary's sessions as they are: their figures, their times appended in order (each
 * cell's arrays sized first: 12 M times grown by doubling cost more than the rest) */
static void from_sums(const struct cm_dataset *ds, struct cm_report *r, size_t *cap)
{
	size_t *scap = cm_xcalloc(r->ncells + 1, sizeof(size_t));
	for (size_t i = 0; i < ds->nsums; i++) {
		size_t k = ds->sums[i].case_idx * ds->nphases + ds->sums[i].phase_idx;
		cap[k] += ds->sums[i].n;
		scap[k]++;
	}
	for (size_t k = 0; k < r->ncells; k++) {
		struct cm_cell *cell = &r->cells[k];
		cell->values = cm_xmalloc((cap[k] + 1) * sizeof(double));
		/* zeroed (the summary keeps no boot numbers): calloc's fresh pages are not written */
		cell->boots = cm_xcalloc(cap[k] + 1, sizeof(int));
		cell->sessions = cm_xmalloc((cap[k] + 1) * sizeof(int));
		cell->sess = cm_xmalloc((scap[k] + 1) * sizeof(*cell->sess));
		cap[k] = cap[k] ? cap[k] : 1;
		scap[k] = scap[k] ? scap[k] : 1;
	}
	for (size_t i = 0; i < ds->nsums; i++) {
		const struct cm_session_sum *m = &ds->sums[i];
		size_t k = m->case_idx * ds->nphases + m->phase_idx;
		struct cm_cell *cell = &r->cells[k];
		cell->nrows += m->n_rows;
		cell->n_warmup += m->n_warmup;
		memcpy(cell->values + cell->s.n, m->values, m->n * sizeof(double));
		for (size_t j = 0; j < m->n; j++)
			cell->sessions[cell->s.n + j] = m->session;
		cell->s.n += m->n;
		if (!m->n)
			continue;
		CM_PUSH(cell->sess, cell->nsess, scap[k]);
		cell->sess[cell->nsess++] = (struct cm_ln_session){ m->session, m->n, m->median_ln,
								    m->mean_ln, m->ssw };
	}
	free(scap);
}

int cm_report_build_compare_cells(const struct cm_dataset *ds, struct cm_report *r)
{
	memset(r, 0, sizeof(*r));
	r->ds = ds;
	r->ncells = ds->ncases * ds->nphases;
	r->cells = cm_xcalloc(r->ncells ? r->ncells : 1, sizeof(*r->cells));
	size_t *cap = cm_xcalloc(r->ncells + 1, sizeof(size_t));
	if (ds->nsums)
		from_sums(ds, r, cap);
	else
		from_rows(ds, r, cap);
	for (size_t c = 0; c < ds->ncases; c++)
		for (size_t p = 0; p < ds->nphases; p++) {
			struct cm_cell *cell = &r->cells[c * ds->nphases + p];
			cell->case_idx = c, cell->phase_idx = p;
			size_t n = cell->s.n;
			cm_stats_summarize(NULL, 0, 0.05, &cell->s); /* every figure NAN */
			cell->s.n = n;
			cell->s.warnings = 0;
			cell->s.median = cm_compare_median(cell->values, n);
		}
	free(cap);
	return 0;
}

size_t cm_cell_session_medians(const struct cm_cell *x, size_t min_n, double *out, int *ids)
{
	size_t k = 0;
	for (size_t i = 0; i < x->nsess; i++) {
		if (x->sess[i].n < min_n || !x->sess[i].n)
			continue;
		if (ids)
			ids[k] = x->sess[i].session;
		out[k++] = x->sess[i].median;
	}
	return k;
}
