/* Summaries per case x phase: a report's cells, built once and rendered by every writer,
 * and the design advice a cell's variance components give. */
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "coldmark/analysis.h"

int cm_report_build(const struct cm_dataset *ds, double alpha, struct cm_report *r)
{
	cm_report_build_cells(ds, alpha, r);
	cm_report_trends(r);
	return 0;
}

/* What ingesting rows into cells carries from one call to the next: a live report (a run's,
 * rewritten as cases complete) takes the new rows only. */
struct cm_report_live {
	size_t seen;		 /* rows ingested */
	struct cm_sample_row last; /* the last of them, as it was (its strings not kept) */
	size_t ncases, nphases;	 /* the shape the cells were made for */
	bool waves;
	size_t *cap;		 /* per cell: its arrays' room */
	int *last_failed;	 /* per case: the boot of its last failed row */
	size_t *nfailed;	 /* per case: failed boots */
	uint64_t *version;	 /* per case: bumped by each ingest that brought it rows */
	bool *dirty;		 /* per case: rows came since its cells were summarised */
	struct cm_report_memo *memo; /* the cross-case parts' (analysis/report_live.c) */
	/* per axis, once for the cases there are: the slices (cm_slices) and each case's value
	 * on the axis (0 unknown, 1 a number, -1 none): every rewrite asked them of every case */
	size_t naxes, **slice, *nslices;
	char ***held;
	signed char *label_ok;
	double *label_v;
};

static void shape_free(struct cm_report_live *l)
{
	for (size_t a = 0; a < l->naxes && l->slice; a++) {
		for (size_t s = 0; l->held[a] && s < l->nslices[a]; s++)
			free(l->held[a][s]);
		free(l->held[a]), free(l->slice[a]);
	}
	free(l->slice), free(l->held), free(l->nslices), free(l->label_ok), free(l->label_v);
	l->slice = NULL, l->held = NULL, l->nslices = NULL, l->label_ok = NULL, l->label_v = NULL;
	l->naxes = 0;
}

/* The live part of r, made when r has none (a report built whole gets one too). */
static struct cm_report_live *live_of(const struct cm_report *r)
{
	if (!r->live) /* r itself is never a const object: its builder's or a writer's copy */
		((struct cm_report *)r)->live = cm_xcalloc(1, sizeof(*r->live));
	struct cm_report_live *l = r->live;
	const struct cm_dataset *ds = r->ds;
	if (!l->slice || l->naxes != ds->naxes || l->ncases != ds->ncases) {
		shape_free(l);
		l->naxes = ds->naxes, l->ncases = ds->ncases;
		size_t na = ds->naxes ? ds->naxes : 1, nc = (ds->ncases ? ds->ncases : 1) * na;
		l->slice = cm_xcalloc(na, sizeof(size_t *));
		l->held = cm_xcalloc(na, sizeof(char **));
		l->nslices = cm_xcalloc(na, sizeof(size_t));
		l->label_ok = cm_xcalloc(nc, 1);
		l->label_v = cm_xcalloc(nc, sizeof(double));
	}
	return l;
}

bool cm_report_label_value(const struct cm_report *r, size_t c, size_t a, double *v)
{
	struct cm_report_live *l = live_of(r);
	size_t k = c * r->ds->naxes + a;
	if (!l->label_ok[k])
		l->label_ok[k] = cm_label_value(r->ds->cases[c].labels[a], &l->label_v[k]) ? 1 : -1;
	*v = l->label_v[k];
	return l->label_ok[k] > 0;
}

size_t cm_report_slices(const struct cm_report *r, size_t a, const size_t **slice,
			char *const **held)
{
	struct cm_report_live *l = live_of(r);
	if (!l->slice[a]) {
		l->slice[a] = cm_xmalloc((r->ds->ncases + 1) * sizeof(size_t));
		l->nslices[a] = cm_slices(r->ds, a, l->slice[a], &l->held[a]);
	}
	*slice = l->slice[a];
	*held = l->held[a];
	return l->nslices[a];
}

static void live_alloc(struct cm_report *r, const struct cm_dataset *ds)
{
	struct cm_report_live *l = r->live;
	size_t nc = ds->ncases ? ds->ncases : 1;
	r->ncells = ds->ncases * ds->nphases;
	r->cells = cm_xcalloc(r->ncells ? r->ncells : 1, sizeof(*r->cells));
	for (size_t c = 0; c < ds->ncases; c++)
		for (size_t p = 0; p < ds->nphases; p++) {
			r->cells[c * ds->nphases + p].case_idx = c;
			r->cells[c * ds->nphases + p].phase_idx = p;
		}
	l->seen = 0;
	l->ncases = ds->ncases, l->nphases = ds->nphases, l->waves = ds->waves;
	l->cap = cm_xcalloc(r->ncells ? r->ncells : 1, sizeof(size_t));
	l->last_failed = cm_xmalloc(nc * sizeof(int));
	l->nfailed = cm_xcalloc(nc, sizeof(size_t));
	l->dirty = cm_xcalloc(nc, sizeof(bool));
	if (!l->version)
		l->version = cm_xcalloc(nc, sizeof(uint64_t));
	for (size_t c = 0; c < ds->ncases; c++)
		l->last_failed[c] = -1;
}

static void cells_free(struct cm_report *r)
{
	for (size_t i = 0; i < r->ncells; i++) {
		cm_summary_free(&r->cells[i].s);
		free(r->cells[i].values);
		free(r->cells[i].boots);
		free(r->cells[i].sessions);
		free(r->cells[i].waves);
		free(r->cells[i].units);
		free(r->cells[i].sess);
	}
	free(r->cells);
	r->cells = NULL;
	r->ncells = 0;
}

static void live_release(struct cm_report_live *l)
{
	free(l->cap), free(l->last_failed), free(l->nfailed), free(l->dirty);
	l->cap = NULL, l->last_failed = NULL, l->dirty = NULL, l->nfailed = NULL;
}

/* Rows [l->seen, ds->n) into the cells; their cases marked dirty. */
static void ingest(struct cm_report *r, const struct cm_dataset *ds)
{
	struct cm_report_live *l = r->live;
	for (size_t i = l->seen; i < ds->n; i++) {
		const struct cm_sample_row *row = &ds->rows[i];
		size_t k = row->case_idx * ds->nphases + row->phase_idx;
		struct cm_cell *cell = &r->cells[k];
		l->dirty[row->case_idx] = true;
		cell->nrows++;
		switch (cm_row_kind(row)) {
		case CM_ROW_WARMUP:
			cell->n_warmup++;
			continue;
		case CM_ROW_INTERRUPTED:
			continue;
		case CM_ROW_FAILED: /* rows of one boot are adjacent: count boot numbers once */
			if (l->last_failed[row->case_idx] != row->boot)
				l->nfailed[row->case_idx]++;
			l->last_failed[row->case_idx] = row->boot;
			continue;
		case CM_ROW_UNMEASURABLE: /* ok, yet no time: the source cannot see it */
			cell->n_unmeasurable++;
			cell->unmeasurable_source = row->source;
			continue;
		case CM_ROW_MEASURED:
			break;
		}
		cell->n_audit += row->audit && *row->audit;
		if (cell->s.n >= l->cap[k]) {
			l->cap[k] = l->cap[k] ? 2 * l->cap[k] : 16;
			cell->values = cm_xrealloc(cell->values, l->cap[k] * sizeof(double));
			cell->boots = cm_xrealloc(cell->boots, l->cap[k] * sizeof(int));
			cell->sessions = cm_xrealloc(cell->sessions, l->cap[k] * sizeof(int));
			if (ds->waves)
				cell->waves = cm_xrealloc(cell->waves, l->cap[k] * sizeof(int));
		}
		if (cell->waves)
			cell->waves[cell->s.n] = row->wave;
		cell->values[cell->s.n] = row->duration_ns;
		cell->sessions[cell->s.n] = row->session;
		cell->boots[cell->s.n++] = row->boot;
	}
	l->seen = ds->n;
	if (ds->n)
		l->last = ds->rows[ds->n - 1];
}

/* A cell's CIs and its session model with the right replicate: in a run in waves a wave's
 * boots shared one moment of the host (issue 29), so its CIs are over waves
 * (cm_stats_wave_ci) and its variance components over the waves' medians within each session
 * (cm_stats_wave_units), as compare takes them: "within" is then the spread between a
 * session's waves, vc.boots its waves, and a calibration from such a run what compare's
 * prior over wave units needs. A cell with no boot in a wave is as it always was. */
static void cell_components(struct cm_cell *cell, size_t n, double alpha)
{
	free(cell->units);
	cell->units = cell->waves ? cm_xmalloc((n + 1) * sizeof(double)) : NULL;
	if (!cm_stats_wave_ci(cell->values, cell->sessions, cell->waves, n, alpha, &cell->s,
			      cell->units)) {
		free(cell->units);
		cell->units = NULL;
		cm_stats_varcomp(cell->values, cell->sessions, n, &cell->vc);
		return;
	}
	double *u = cm_xmalloc((n + 1) * sizeof(double));
	int *us = cm_xmalloc((n + 1) * sizeof(int));
	size_t k = cm_stats_wave_units(cell->values, cell->sessions, cell->waves, n, u, us);
	cm_stats_varcomp(u, us, k, &cell->vc);
	free(u), free(us);
}

/* The dirty cases' cells summarised again (the others keep theirs); their versions bumped. */
static void summarize_dirty(struct cm_report *r, const struct cm_dataset *ds)
{
	struct cm_report_live *l = r->live;
	for (size_t c = 0; c < ds->ncases; c++) {
		if (!l->dirty[c])
			continue;
		l->dirty[c] = false;
		l->version[c]++;
		for (size_t p = 0; p < ds->nphases; p++) {
			struct cm_cell *cell = &r->cells[c * ds->nphases + p];
			cell->n_failed = l->nfailed[c];
			size_t n = cell->s.n;
			cm_summary_free(&cell->s);
			cm_stats_summarize(cell->values, n, r->alpha, &cell->s);
			cell_components(cell, n, r->alpha);
			if (!n && cell->n_unmeasurable)
				cell->s.warnings = 0; /* not a matter of boots: no footnote */
		}
	}
}

int cm_report_build_cells(const struct cm_dataset *ds, double alpha, struct cm_report *r)
{
	memset(r, 0, sizeof(*r));
	r->ds = ds;
	r->alpha = alpha;
	struct cm_report_live *l = r->live = cm_xcalloc(1, sizeof(*r->live));
	live_alloc(r, ds);
	for (size_t c = 0; c < ds->ncases; c++)
		l->dirty[c] = true; /* a case without rows still gets its (empty) summaries */
	ingest(r, ds);
	summarize_dirty(r, ds);
	live_release(l); /* the versions and shape stay: the writers ask for slices */
	/* the sweep effects, once: every writer renders the same ones */
	cm_report_sweeps(r, &r->sweeps, &r->nsweeps);
	return 0;
}

bool cm_report_live_update(struct cm_report *r, const struct cm_dataset *ds, double alpha)
{
	struct cm_report_live *l = r->live;
	bool fresh = !l;
	if (fresh) {
		memset(r, 0, sizeof(*r));
		r->alpha = alpha;
		l = r->live = cm_xcalloc(1, sizeof(*l));
	}
	r->ds = ds;
	/* a new phase or case, rows gone, waves that began: the cells' layout changed, all again
	 * (the versions go on: a fragment cached under an old one is never taken for new) */
	const struct cm_sample_row *was = l->seen && l->seen <= ds->n ? &ds->rows[l->seen - 1] : NULL;
	bool reshaped = fresh || l->ncases != ds->ncases || l->nphases != ds->nphases ||
			l->waves != ds->waves || l->seen > ds->n ||
			/* rows cut back and others added since: the last one taken is not there */
			(was && (was->case_idx != l->last.case_idx || was->phase_idx != l->last.phase_idx ||
				 was->boot != l->last.boot || was->session != l->last.session ||
				 memcmp(&was->duration_ns, &l->last.duration_ns, sizeof(double))));
	if (reshaped) {
		cells_free(r);
		live_release(l);
		uint64_t *old = l->version;
		size_t nold = l->ncases;
		l->version = NULL;
		live_alloc(r, ds);
		for (size_t c = 0; c < ds->ncases; c++) {
			l->version[c] = (c < nold && old ? old[c] : 0) + 1;
			l->dirty[c] = true;
		}
		free(old);
		shape_free(l);
		cm_report_memo_free(l->memo);
		l->memo = NULL;
	}
	ingest(r, ds);
	summarize_dirty(r, ds);
	cm_sweeps_free(r->sweeps, r->nsweeps);
	cm_report_trends_free(r);
	r->sweeps = NULL, r->nsweeps = 0, r->trends = NULL, r->ntrends = 0;
	r->interactions = NULL, r->ninteractions = 0;
	cm_report_sweeps(r, &r->sweeps, &r->nsweeps);
	cm_report_trends(r);
	return reshaped;
}

uint64_t cm_report_case_version(const struct cm_report *r, size_t c)
{
	return r->live && c < r->live->ncases ? r->live->version[c] : 0;
}

struct cm_report_memo **cm_report_memo_of(const struct cm_report *r)
{
	return r->live ? &r->live->memo : NULL;
}

void cm_report_free(struct cm_report *r)
{
	cells_free(r);
	if (r->live) {
		live_release(r->live);
		shape_free(r->live);
		cm_report_memo_free(r->live->memo);
		free(r->live->version);
		free(r->live);
	}
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

