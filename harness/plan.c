/* The run plan: which boot of which case comes when. Pure, so order, adaptive stopping and
 * resume are unit-tested without booting anything (tests/test_plan.c). */
#include <gsl/gsl_randist.h>
#include <gsl/gsl_rng.h>
#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "coldmark/harness.h"
#include "coldmark/model.h"

unsigned long cm_plan_session_seed(int64_t seed, int session)
{
	if (session <= 1)
		return (unsigned long)seed; /* a one-session run keeps the order it always had */
	/* splitmix64 of (seed, session): sessions' orders independent of each other */
	uint64_t z = (uint64_t)seed + 0x9e3779b97f4a7c15ULL * (uint64_t)session;
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	return (unsigned long)(z ^ (z >> 31));
}

/* One session's boots into p from k on: warm-ups of every case first, then the measured boots
 * in the chosen order. Shuffled order goes in blocks (one boot of every case per block,
 * permuted) so every case advances together and slow drift of the host does not masquerade
 * as a difference between cases. Boot numbers go on from the sessions before. */
static size_t plan_session(const struct cm_matrix *m, int s, struct cm_planned *p, size_t k)
{
	size_t nc = m->ncases, nb = (size_t)m->boots, nw = (size_t)m->warmup;
	/* in range: cm_plan_check bounds (sessions so far) x boots by INT_MAX */
	int wb = (int)((int64_t)(s - 1) * (int64_t)nw), mb = (int)((int64_t)(s - 1) * (int64_t)nb);
	for (size_t c = 0; c < nc; c++)
		for (size_t w = 0; w < nw; w++)
			p[k++] = (struct cm_planned){ c, wb + (int)w + 1, true, s };
	gsl_rng *rng = gsl_rng_alloc(gsl_rng_mt19937);
	gsl_rng_set(rng, cm_plan_session_seed(m->seed, s));
	size_t *perm = cm_xcalloc(nc + 1, sizeof(size_t));
	if (m->order == CM_ORDER_SEQUENTIAL) {
		for (size_t c = 0; c < nc; c++)
			for (size_t b = 0; b < nb; b++)
				p[k++] = (struct cm_planned){ c, mb + (int)b + 1, false, s };
	} else {
		for (size_t b = 0; b < nb; b++) {
			for (size_t c = 0; c < nc; c++)
				perm[c] = c;
			if (m->order == CM_ORDER_SHUFFLED)
				gsl_ran_shuffle(rng, perm, nc, sizeof(size_t));
			for (size_t c = 0; c < nc; c++)
				p[k++] = (struct cm_planned){ perm[c], mb + (int)b + 1, false, s };
		}
	}
	free(perm);
	gsl_rng_free(rng);
	return k;
}

/* a*b into *out; false for a negative factor, an overflow or a product past limit: the plan's
 * size is checked before anything is allocated or numbered by it */
static bool product(int64_t a, int64_t b, int64_t limit, int64_t *out)
{
	int64_t p;
	if (a < 0 || b < 0 || __builtin_mul_overflow(a, b, &p) || p > limit)
		return false;
	*out = p;
	return true;
}

int cm_plan_check(const struct cm_matrix *m, struct cm_error *err)
{
	int64_t ns = m->sessions > 0 ? m->sessions : 1, first = m->first_session > 1 ? m->first_session : 1;
	int64_t per_case = m->until_ci_pct > 0 ? (m->max_boots > m->boots ? m->max_boots : m->boots)
					       : m->boots;
	int64_t boots_case, per_session, total, last;
	/* every boot the run may make: cases x (boots + warm-ups) x sessions (adaptive: max_boots) */
	if (!product((int64_t)m->ncases, per_case + m->warmup, CM_PLAN_MAX_BOOTS, &per_session) ||
	    !product(per_session, ns, CM_PLAN_MAX_BOOTS, &total)) {
		cm_error_set(err, CM_ERR(CM_EUSAGE), "the plan is %zu cases x (%lld%s + %lld warm-up) boots x %lld "
			 "sessions: more than the %d boots one run may hold; split it (fewer cases or "
			 "sessions, or --replicate I/N over an array of runs)",
			 m->ncases, (long long)per_case, m->until_ci_pct > 0 ? " max_boots" : "",
			 (long long)m->warmup, (long long)ns, CM_PLAN_MAX_BOOTS);
		return -1;
	}
	/* boot numbers go on from the sessions before (a replicate's too): the last one is an int */
	int64_t most = per_case > m->warmup ? per_case : m->warmup > 0 ? m->warmup : 1;
	if (__builtin_add_overflow(first - 1, ns, &last) ||
	    !product(last, most, INT_MAX, &boots_case)) {
		cm_error_set(err, CM_ERR(CM_EUSAGE), "session %lld numbers a case's boots past %d (%lld boots a "
			 "session): one run, its replicates included, holds at most %lld sessions of "
			 "%lld boots", (long long)(first + ns - 1), INT_MAX, (long long)most,
			 (long long)(INT_MAX / most), (long long)most);
		return -1;
	}
	return 0;
}

struct cm_planned *cm_plan_new(const struct cm_matrix *m, size_t *n)
{
	struct cm_error err = { 0 };
	*n = 0;
	if (cm_plan_check(m, &err))
		return NULL; /* the caller checked: never allocate or number past the limits */
	size_t per = m->ncases * (size_t)(m->boots + m->warmup), k = 0;
	int ns = m->sessions > 0 ? (int)m->sessions : 1;
	int first = m->first_session > 1 ? (int)m->first_session : 1;
	struct cm_planned *p = cm_xcalloc(per * (size_t)ns + 1, sizeof(*p));
	for (int s = first; s < first + ns; s++)
		k = plan_session(m, s, p, k);
	*n = k;
	return p;
}

/* values [0, n) of one case summarised (in a run in waves, its CIs over the waves) */
static void summarize(double *v, const int *session, const int *wave, size_t n, struct cm_summary *s)
{
	cm_stats_summarize(v, n, CM_DEFAULT_ALPHA, s);
	/* in waves the CI the rule stops on is over waves, as the report's is (issue 29): over
	 * the boots it was too narrow where a wave's boots share a shift, and stopped too early */
	cm_stats_wave_ci(v, session, wave, n, CM_DEFAULT_ALPHA, s, NULL);
}

static bool counted(const struct cm_sample_row *r, size_t phase)
{
	return r->phase_idx == phase && cm_row_kind(r) == CM_ROW_MEASURED;
}

/* The summary of case c's counted boots of one phase so far. */
void cm_plan_case_summary(const struct cm_dataset *ds, size_t c, const char *phase,
			  struct cm_summary *s)
{
	size_t total = cm_dataset_find_phase(ds, phase); /* nphases: no row matches */
	double *v = cm_xmalloc((ds->n + 1) * sizeof(double));
	int *session = cm_xmalloc((ds->n + 1) * sizeof(int)), *wave = cm_xmalloc((ds->n + 1) * sizeof(int));
	size_t n = 0;
	for (size_t i = 0; i < ds->n; i++) {
		const struct cm_sample_row *r = &ds->rows[i];
		if (r->case_idx == c && counted(r, total))
			session[n] = r->session, wave[n] = r->wave, v[n++] = r->duration_ns;
	}
	summarize(v, session, wave, n, s);
	free(v), free(session), free(wave);
}

static double halfwidth_pct(const struct cm_summary *s)
{
	return isnan(s->median_ci_lo) || !(s->median > 0)
		       ? INFINITY
		       : 100 * fmax(s->median - s->median_ci_lo, s->median_ci_hi - s->median) / s->median;
}

/* Adaptive stopping: the relative half-width of case c's median CI of a phase, in percent;
 * INFINITY while the CI is empty (too few ok boots). */
double cm_plan_ci_halfwidth_pct(const struct cm_dataset *ds, size_t c, const char *phase)
{
	struct cm_summary s;
	cm_plan_case_summary(ds, c, phase, &s);
	double h = halfwidth_pct(&s);
	cm_summary_free(&s);
	return h;
}

void cm_plan_ci_halfwidths(const struct cm_dataset *ds, size_t ncases, const char *phase, double *h)
{
	/* the rows bucketed by case in one pass, each bucket in the rows' order (the values a scan
	 * per case gave, in its order): a scan of every row per case was cases x rows a block */
	size_t total = cm_dataset_find_phase(ds, phase), n = 0,
	       *from = cm_xcalloc(ncases + 2, sizeof(size_t));
	for (size_t i = 0; i < ds->n; i++)
		if (ds->rows[i].case_idx < ncases && counted(&ds->rows[i], total))
			from[ds->rows[i].case_idx + 2]++, n++;
	for (size_t c = 0; c < ncases; c++)
		from[c + 2] += from[c + 1];
	double *v = cm_xmalloc((n + 1) * sizeof(double));
	int *session = cm_xmalloc((n + 1) * sizeof(int)), *wave = cm_xmalloc((n + 1) * sizeof(int));
	for (size_t i = 0; i < ds->n; i++) {
		const struct cm_sample_row *r = &ds->rows[i];
		if (r->case_idx < ncases && counted(r, total)) {
			size_t at = from[r->case_idx + 1]++; /* ends as the case's end */
			session[at] = r->session, wave[at] = r->wave, v[at] = r->duration_ns;
		}
	}
	for (size_t c = 0; c < ncases; c++) {
		struct cm_summary s;
		summarize(v + from[c], session + from[c], wave + from[c], from[c + 1] - from[c], &s);
		h[c] = halfwidth_pct(&s);
		cm_summary_free(&s);
	}
	free(v), free(session), free(wave), free(from);
}

/* How many boots case c's next block adds: 1, or its concurrency (K boots at once), never
 * past max_boots. */
static size_t block_of(const struct cm_matrix *m, size_t c, const int *planned)
{
	int64_t k = m->cases[c].concurrency > 1 ? m->cases[c].concurrency : 1;
	int64_t left = m->max_boots - planned[c];
	return (size_t)(left < k ? (left > 0 ? left : 0) : k);
}

/* The next block of an adaptive run: one more boot of every case whose median is not yet
 * precise enough and that has boots left, shuffled like the fixed plan. Stops on precision,
 * never on a p-value. Returns how many boots it appended. */
size_t cm_plan_next_block(const struct cm_matrix *m, const struct cm_dataset *ds, int *planned,
			  struct cm_planned **pl, size_t *nplan)
{
	size_t k = 0, *want = cm_xcalloc(m->ncases + 1, sizeof(size_t));
	double *h = cm_xmalloc((m->ncases + 1) * sizeof(double));
	cm_plan_ci_halfwidths(ds, m->ncases, m->until_ci_phase, h);
	for (size_t c = 0; c < m->ncases; c++)
		if (planned[c] < m->max_boots && h[c] > m->until_ci_pct)
			want[k++] = c;
	free(h);
	if (k) {
		gsl_rng *rng = gsl_rng_alloc(gsl_rng_mt19937);
		gsl_rng_set(rng, (unsigned long)m->seed + *nplan);
		if (m->order == CM_ORDER_SHUFFLED)
			gsl_ran_shuffle(rng, want, k, sizeof(size_t));
		gsl_rng_free(rng);
		/* a case of the concurrency axis gets a whole wave (K copies of itself at once, as
		 * its fixed plan had them): one boot a block made its waves one boot wide */
		size_t add = 0;
		for (size_t i = 0; i < k; i++)
			add += block_of(m, want[i], planned);
		*pl = cm_xrealloc(*pl, (*nplan + add) * sizeof(**pl));
		for (size_t i = 0; i < k; i++)
			for (size_t j = block_of(m, want[i], planned); j > 0; j--)
				(*pl)[(*nplan)++] = (struct cm_planned){ want[i], ++planned[want[i]], false, 1 };
		k = add;
	}
	free(want);
	return k;
}

size_t cm_plan_skip_done(struct cm_planned *pl, size_t n, const int *warm_done,
			 const int *meas_done)
{
	size_t kept = 0;
	for (size_t i = 0; i < n; i++)
		if (pl[i].boot > (pl[i].warmup ? warm_done : meas_done)[pl[i].c])
			pl[kept++] = pl[i];
	return kept;
}
