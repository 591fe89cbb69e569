/* Summaries per case x phase: a report's cells, built once and rendered by every writer,
 * and the design advice a cell's variance components give. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "coldmark/analysis.h"

int cm_report_build(const struct cm_dataset *ds, double alpha, struct cm_report *r)
{
	cm_report_build_cells(ds, alpha, r);
	cm_report_trends(r);
	return 0;
}

int cm_report_build_cells(const struct cm_dataset *ds, double alpha, struct cm_report *r)
{
	memset(r, 0, sizeof(*r));
	r->ds = ds;
	r->alpha = alpha;
	r->ncells = ds->ncases * ds->nphases;
	r->cells = cm_xcalloc(r->ncells ? r->ncells : 1, sizeof(*r->cells));
	size_t *cap = cm_xcalloc(r->ncells ? r->ncells : 1, sizeof(size_t));
	/* failed boots per case: rows of one boot are adjacent, count boot numbers once */
	int *last_failed = cm_xmalloc((ds->ncases ? ds->ncases : 1) * sizeof(int));
	size_t *nfailed = cm_xcalloc(ds->ncases ? ds->ncases : 1, sizeof(size_t));
	for (size_t c = 0; c < ds->ncases; c++)
		last_failed[c] = -1;
	for (size_t i = 0; i < ds->n; i++) {
		const struct cm_sample_row *row = &ds->rows[i];
		struct cm_cell *cell = &r->cells[row->case_idx * ds->nphases + row->phase_idx];
		cell->nrows++;
		switch (cm_row_kind(row)) {
		case CM_ROW_WARMUP:
			cell->n_warmup++;
			continue;
		case CM_ROW_INTERRUPTED:
			continue;
		case CM_ROW_FAILED: /* rows of one boot are adjacent: count boot numbers once */
			if (last_failed[row->case_idx] != row->boot)
				nfailed[row->case_idx]++;
			last_failed[row->case_idx] = row->boot;
			continue;
		case CM_ROW_UNMEASURABLE: /* ok, yet no time: the source cannot see it */
			cell->n_unmeasurable++;
			cell->unmeasurable_source = row->source;
			continue;
		case CM_ROW_MEASURED:
			break;
		}
		cell->n_audit += row->audit && *row->audit;
		size_t k = row->case_idx * ds->nphases + row->phase_idx;
		if (cell->s.n >= cap[k]) {
			cap[k] = cap[k] ? 2 * cap[k] : 16;
			cell->values = cm_xrealloc(cell->values, cap[k] * sizeof(double));
			cell->boots = cm_xrealloc(cell->boots, cap[k] * sizeof(int));
			cell->sessions = cm_xrealloc(cell->sessions, cap[k] * sizeof(int));
			if (ds->waves)
				cell->waves = cm_xrealloc(cell->waves, cap[k] * sizeof(int));
		}
		if (cell->waves)
			cell->waves[cell->s.n] = row->wave;
		cell->values[cell->s.n] = row->duration_ns;
		cell->sessions[cell->s.n] = row->session;
		cell->boots[cell->s.n++] = row->boot;
	}
	for (size_t c = 0; c < ds->ncases; c++)
		for (size_t p = 0; p < ds->nphases; p++) {
			struct cm_cell *cell = &r->cells[c * ds->nphases + p];
			cell->case_idx = c;
			cell->phase_idx = p;
			cell->n_failed = nfailed[c];
			size_t n = cell->s.n;
			cm_stats_summarize(cell->values, n, alpha, &cell->s);
			cm_stats_varcomp(cell->values, cell->sessions, n, &cell->vc);
			if (!n && cell->n_unmeasurable)
				cell->s.warnings = 0; /* not a matter of boots: no footnote */
		}
	free(cap);
	free(last_failed);
	free(nfailed);
	/* the sweep effects, once: every writer renders the same ones */
	cm_report_sweeps(r, &r->sweeps, &r->nsweeps);
	return 0;
}

void cm_report_free(struct cm_report *r)
{
	for (size_t i = 0; i < r->ncells; i++) {
		cm_summary_free(&r->cells[i].s);
		free(r->cells[i].values);
		free(r->cells[i].boots);
		free(r->cells[i].sessions);
		free(r->cells[i].waves);
		free(r->cells[i].sess);
	}
	free(r->cells);
	cm_sweeps_free(r->sweeps, r->nsweeps);
	cm_report_trends_free(r);
	memset(r, 0, sizeof(*r));
}

const struct cm_cell *cm_report_cell(const struct cm_report *r, size_t c, size_t p)
{
	return &r->cells[c * r->ds->nphases + p];
}

const char *cm_cell_unmeasurable(const struct cm_cell *cell, char *buf, size_t n)
{
	if (cell->s.n || !cell->n_unmeasurable)
		return NULL;
	const char *src = cell->unmeasurable_source;
	snprintf(buf, n, "not measurable with %s", src && *src ? src : "this marker source");
	return buf;
}

bool cm_cell_advice(const struct cm_report *r, const struct cm_cell *cell, struct cm_dimension *out)
{
	const struct cm_dataset *ds = r->ds;
	size_t t = cm_dataset_find_phase(ds, "total");
	if (cell->vc.sessions < 2 || t == ds->nphases || !isfinite(cell->vc.between))
		return false;
	double boot_s = cm_report_cell(r, cell->case_idx, t)->s.median / 1e9;
	double warm = (double)cell->n_warmup / (double)(ds->nsessions ? ds->nsessions : 1);
	return isfinite(boot_s) &&
	       !cm_stats_dimension(&cell->vc, boot_s, fmax(1, warm) * boot_s, CM_ADVICE_TARGET, out);
}

