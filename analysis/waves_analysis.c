/* A run in waves (issue 29), per level: its waves' boots grouped by what ran together (one
 * case K at a time, or cases mixed K at a time), every boot's phases (median and tail: p90,
 * p99), the waves' makespans and launches per second, and what a wave cost the host. */
#define _GNU_SOURCE /* qsort_r */
#include <gsl/gsl_sort.h>
#include <gsl/gsl_statistics_double.h>
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "coldmark/analysis.h"

/* One wave as the rows give it. */
struct wave {
	int session, wave;
	size_t first_case; /* its boots' case, or SIZE_MAX when they are of several */
	size_t boots;      /* its boots (rows of total) */
	double cpu, rss;   /* its boots' qemu CPU time and peak RSS, summed */
	size_t level;
};

static int by_wave(const void *a, const void *b, void *ctx)
{
	const struct cm_dataset *ds = ctx;
	const struct cm_sample_row *x = &ds->rows[*(const size_t *)a], *y = &ds->rows[*(const size_t *)b];
	if (x->session != y->session)
		return x->session < y->session ? -1 : 1;
	if (x->wave != y->wave)
		return x->wave < y->wave ? -1 : 1;
	return *(const size_t *)a < *(const size_t *)b ? -1 : 1;
}

static void quantiles(double *v, size_t n, double *med, double *p90, double *p99)
{
	gsl_sort(v, 1, n);
	*med = n ? gsl_stats_median_from_sorted_data(v, 1, n) : NAN;
	*p90 = n ? gsl_stats_quantile_from_sorted_data(v, 1, n, 0.90) : NAN;
	*p99 = n ? gsl_stats_quantile_from_sorted_data(v, 1, n, 0.99) : NAN;
}

/* The waves of measured boots (warm-ups apart), in (session, wave) order; idx gets the rows in
 * that order, start[w] the first of wave w. */
static size_t find_waves(const struct cm_dataset *ds, size_t *idx, size_t *start, struct wave *w)
{
	size_t n = 0, nw = 0, cpu = cm_dataset_find_phase(ds, CM_METRIC_CPU),
	       rss = cm_dataset_find_phase(ds, CM_METRIC_MAXRSS),
	       total = cm_dataset_find_phase(ds, "total");
	for (size_t i = 0; i < ds->n; i++)
		if (ds->rows[i].wave > 0 && !ds->rows[i].warmup)
			idx[n++] = i;
	qsort_r(idx, n, sizeof(size_t), by_wave, (void *)ds);
	for (size_t i = 0; i < n; i++) {
		const struct cm_sample_row *r = &ds->rows[idx[i]];
		if (!nw || r->session != w[nw - 1].session || r->wave != w[nw - 1].wave) {
			start[nw] = i;
			w[nw++] = (struct wave){ r->session, r->wave, r->case_idx, 0, 0, 0, 0 };
		}
		struct wave *x = &w[nw - 1];
		if (x->first_case != r->case_idx)
			x->first_case = SIZE_MAX;
		x->boots += r->phase_idx == total;
		if (!isnan(r->duration_ns) && (r->phase_idx == cpu || r->phase_idx == rss))
			*(r->phase_idx == cpu ? &x->cpu : &x->rss) += r->duration_ns;
	}
	start[nw] = n;
	return nw;
}

/* The level of each wave: its case (or mixed) and how many boots it held; found by a hash
 * of (case, boots) over the levels so far (a scan of them per wave was waves x levels: a
 * sweep in waves has a level per case) */
static size_t level_hash(size_t case_idx, size_t k, size_t mask)
{
	uint64_t h = ((uint64_t)case_idx + 1) * 0x9e3779b97f4a7c15ULL ^ (uint64_t)k * 0xbf58476d1ce4e5b9ULL;
	return (size_t)(h ^ h >> 31) & mask;
}

static size_t find_levels(struct wave *w, size_t nw, struct cm_wave_level **out)
{
	size_t nl = 0, cap = 16;
	while (cap < 2 * nw)
		cap *= 2;
	struct cm_wave_level *l = cm_xcalloc(nw + 1, sizeof(*l));
	size_t *slot = cm_xcalloc(cap, sizeof(size_t)); /* level index + 1, 0 empty */
	for (size_t i = 0; i < nw; i++) {
		size_t h = level_hash(w[i].first_case, w[i].boots, cap - 1), k = nl;
		for (; slot[h]; h = (h + 1) & (cap - 1))
			if (l[slot[h] - 1].case_idx == w[i].first_case && l[slot[h] - 1].k == w[i].boots) {
				k = slot[h] - 1;
				break;
			}
		if (k == nl) {
			l[nl++] = (struct cm_wave_level){ .case_idx = w[i].first_case, .k = w[i].boots };
			slot[h] = nl;
		}
		w[i].level = k;
		l[k].nwaves++;
		l[k].nboots += w[i].boots;
	}
	free(slot);
	*out = l;
	return nl;
}

static int level_order(const void *a, const void *b)
{
	const struct cm_wave_level *x = a, *y = b;
	if (x->case_idx != y->case_idx) /* mixed (SIZE_MAX) last */
		return x->case_idx < y->case_idx ? -1 : 1;
	return (x->k > y->k) - (x->k < y->k);
}

/* Level l's waves: makespans, launches per second, the host's cost per wave. */
static void level_waves(struct cm_wave_level *l, const struct wave *w, const size_t *mine,
			size_t nw, const double *makespan, size_t nmake)
{
	double *ms = cm_xmalloc((nw + 1) * sizeof(double)), *cpu = cm_xmalloc((nw + 1) * sizeof(double)),
	       *rss = cm_xmalloc((nw + 1) * sizeof(double)), p;
	size_t nm = 0, nc = 0, boots = 0;
	double span = 0;
	for (size_t j = 0; j < nw; j++) {
		const struct wave *x = &w[mine[j]];
		cpu[nc] = x->cpu, rss[nc++] = x->rss;
		double m = (size_t)x->wave < nmake ? makespan[x->wave] : NAN;
		if (!isnan(m)) {
			ms[nm++] = m;
			span += m;
			boots += x->boots;
		}
	}
	l->nmakespan = nm;
	quantiles(ms, nm, &l->makespan_median, &l->makespan_p90, &p);
	l->launches_per_s = span > 0 ? (double)boots / (span / 1e9) : NAN;
	quantiles(cpu, nc, &l->cpu_per_wave, &p, &p);
	quantiles(rss, nc, &l->rss_per_wave, &p, &p);
	free(ms), free(cpu), free(rss);
}

static int by_cell(const void *a, const void *b, void *ctx)
{
	const struct cm_dataset *ds = ctx;
	const struct cm_sample_row *x = &ds->rows[*(const size_t *)a], *y = &ds->rows[*(const size_t *)b];
	if (x->case_idx != y->case_idx)
		return x->case_idx < y->case_idx ? -1 : 1;
	return (x->phase_idx > y->phase_idx) - (x->phase_idx < y->phase_idx);
}

/* Level l's boots: per case and phase (the metrics apart: they are the waves' cost) the
 * median, p90 and p99 of the measured ones. Its rows sorted by case and phase, each group
 * once: linear in the level's rows but for the sort. */
static void level_phases(const struct cm_dataset *ds, struct cm_wave_level *l,
			 const size_t *waves, size_t nw, const size_t *idx, const size_t *start)
{
	size_t n = 0, rows = 0;
	for (size_t i = 0; i < nw; i++)
		rows += start[waves[i] + 1] - start[waves[i]];
	size_t *mine = cm_xmalloc((rows + 1) * sizeof(size_t));
	for (size_t i = 0; i < nw; i++)
		for (size_t j = start[waves[i]]; j < start[waves[i] + 1]; j++) {
			const struct cm_sample_row *r = &ds->rows[idx[j]];
			if (cm_row_kind(r) == CM_ROW_MEASURED && !cm_is_metric(r->phase))
				mine[n++] = idx[j];
		}
	qsort_r(mine, n, sizeof(size_t), by_cell, (void *)ds);
	double *v = cm_xmalloc((n + 1) * sizeof(double));
	l->phases = cm_xcalloc(n + 1, sizeof(*l->phases));
	for (size_t a = 0, b; a < n; a = b) {
		const struct cm_sample_row *r = &ds->rows[mine[a]];
		for (b = a; b < n && !by_cell(&mine[a], &mine[b], (void *)ds); b++)
			v[b - a] = ds->rows[mine[b]].duration_ns;
		struct cm_wave_phase *x = &l->phases[l->nphases++];
		*x = (struct cm_wave_phase){ r->case_idx, r->phase_idx, b - a };
		quantiles(v, b - a, &x->median, &x->p90, &x->p99);
	}
	free(v), free(mine);
}

void cm_wave_summary_build(const struct cm_dataset *ds, const double *makespan, size_t nmake,
			   const struct cm_report *r, struct cm_wave_summary *out)
{
	memset(out, 0, sizeof(*out));
	size_t *idx = cm_xmalloc((ds->n + 1) * sizeof(size_t)),
	       *start = cm_xmalloc((ds->n + 2) * sizeof(size_t));
	struct wave *w = cm_xcalloc(ds->n + 1, sizeof(*w));
	size_t nw = find_waves(ds, idx, start, w);
	out->n = find_levels(w, nw, &out->v);
	/* each level's waves in wave order, by one counting sort: a pass over every wave per
	 * level was levels x waves (and a rows-long list per level) */
	size_t *from = cm_xcalloc(out->n + 2, sizeof(size_t)), *bylevel = cm_xmalloc((nw + 1) * sizeof(size_t));
	for (size_t i = 0; i < nw; i++)
		from[w[i].level + 2]++;
	for (size_t li = 0; li < out->n; li++)
		from[li + 2] += from[li + 1];
	for (size_t i = 0; i < nw; i++)
		bylevel[from[w[i].level + 1]++] = i; /* from[li + 1] ends as level li's end */
	for (size_t li = 0; li < out->n; li++) {
		level_waves(&out->v[li], w, bylevel + from[li], from[li + 1] - from[li], makespan, nmake);
		level_phases(ds, &out->v[li], bylevel + from[li], from[li + 1] - from[li], idx, start);
	}
	free(from), free(bylevel);
	qsort(out->v, out->n, sizeof(*out->v), level_order);
	size_t total = cm_dataset_find_phase(ds, "total");
	for (size_t i = 0; r && i < r->ntrends; i++) /* the density sweep's "per added VM" */
		if (r->trends[i].phase == total && !strcmp(ds->axes[r->trends[i].axis], "concurrency")) {
			out->per_vm = &r->trends[i];
			break;
		}
	free(idx), free(start), free(w);
}

void cm_wave_summary_free(struct cm_wave_summary *s)
{
	for (size_t i = 0; i < s->n; i++)
		free(s->v[i].phases);
	free(s->v);
	memset(s, 0, sizeof(*s));
}
