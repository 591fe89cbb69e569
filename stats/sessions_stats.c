/* The level above the boot: variance components, session-level comparison, change points in
 * a history of sessions, and how many sessions x boots a precision needs. See coldmark/stats.h
 * for the model; README ("Sessions") for why. */
#include <gsl/gsl_cdf.h>
#include <gsl/gsl_randist.h>
#include <gsl/gsl_rng.h>
#include <gsl/gsl_sort.h>
#include <gsl/gsl_statistics_double.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "change_scan.h"
#include "coldmark/stats.h"
#include "coldmark/util.h"

/* The values' indices grouped by session, groups in order of first appearance: idx holds the
 * indices, start[g]..start[g+1] group g. Returns the number of groups. Sorted, not scanned
 * per value: a run may hold 10^6 sessions. */
struct sess_ix {
	int session;
	size_t i;
};

static int cmp_sess_ix(const void *a, const void *b)
{
	const struct sess_ix *p = a, *q = b;
	return p->session != q->session ? (p->session > q->session) - (p->session < q->session)
					: (p->i > q->i) - (p->i < q->i);
}

struct sess_seg {
	size_t first, from, to; /* the group's first value index; its part of the sorted array */
};

static int cmp_seg(const void *a, const void *b)
{
	const struct sess_seg *p = a, *q = b;
	return (p->first > q->first) - (p->first < q->first);
}

static size_t group(const int *session, size_t n, size_t *idx, size_t *start)
{
	struct sess_ix *v = cm_xmalloc((n + 1) * sizeof(*v));
	struct sess_seg *seg = cm_xmalloc((n + 1) * sizeof(*seg));
	for (size_t i = 0; i < n; i++)
		v[i] = (struct sess_ix){ session[i], i };
	qsort(v, n, sizeof(*v), cmp_sess_ix);
	size_t ng = 0;
	for (size_t i = 0; i < n; i++)
		if (!i || v[i].session != v[i - 1].session) {
			if (ng)
				seg[ng - 1].to = i;
			seg[ng++] = (struct sess_seg){ v[i].i, i, n };
		}
	qsort(seg, ng, sizeof(*seg), cmp_seg);
	start[0] = 0;
	for (size_t g = 0, o = 0; g < ng; g++) {
		for (size_t j = seg[g].from; j < seg[g].to; j++)
			idx[o++] = v[j].i;
		start[g + 1] = o;
	}
	free(seg), free(v);
	return ng;
}

/* The sums one-way ANOVA needs, accumulated side by side (a side is a fixed effect: its
 * sessions' spread is taken about its own mean). */
struct anova {
	double ssw, ssb, sumsq_n; /* within SS; between SS; sum over sides of sum n_g^2 / N_side */
	size_t N, k, sides;       /* values and sessions with 2+ values; sides with any */
};

static void anova_add(const double *v, const int *session, size_t n, struct anova *a)
{
	size_t *idx = cm_xmalloc((n + 1) * sizeof(size_t)), *start = cm_xmalloc((n + 2) * sizeof(size_t));
	size_t ng = group(session, n, idx, start), k = 0, N = 0;
	double sum = 0, sumsq = 0, *mean = cm_xcalloc(ng + 1, sizeof(double));
	size_t *ns = cm_xcalloc(ng + 1, sizeof(size_t));
	for (size_t g = 0; g < ng; g++) {
		size_t m = start[g + 1] - start[g];
		if (m < 2)
			continue;
		double mu = 0;
		for (size_t j = start[g]; j < start[g + 1]; j++)
			mu += log(v[idx[j]]);
		mu /= (double)m;
		for (size_t j = start[g]; j < start[g + 1]; j++)
			a->ssw += (log(v[idx[j]]) - mu) * (log(v[idx[j]]) - mu);
		mean[k] = mu, ns[k++] = m;
		N += m, sum += mu * (double)m, sumsq += (double)(m * m);
	}
	for (size_t g = 0; g < k; g++)
		a->ssb += (double)ns[g] * (mean[g] - sum / (double)N) * (mean[g] - sum / (double)N);
	if (k)
		a->N += N, a->k += k, a->sides++, a->sumsq_n += sumsq / (double)N;
	free(idx), free(start), free(mean), free(ns);
}

/* between = (MSB - MSW) / n0, cut at 0 once; n0 the unbalanced design's effective session
 * size. Balanced, this is REML's estimate wherever that is positive. */
static void anova_finish(const struct anova *a, struct cm_varcomp *out)
{
	*out = (struct cm_varcomp){ a->k, 0, NAN, NAN, NAN };
	if (!a->k)
		return;
	out->boots = (a->N + a->k / 2) / a->k;
	out->within = a->ssw / (double)(a->N - a->k);
	if (a->k < a->sides + 1)
		return; /* a session per side: no between part */
	double df = (double)(a->k - a->sides), msb = a->ssb / df;
	double n0 = ((double)a->N - a->sumsq_n) / df;
	out->between = fmax(0, (msb - out->within) / n0);
	out->icc = out->between + out->within > 0 ? out->between / (out->between + out->within) : 0;
}

/* A session's logs sorted: by insertion when few (a session is ~20 boots, and compare sorts
 * 600,000 of them), else by gsl; the same sorted values either way. */
static void sort_small(double *l, size_t n)
{
	if (n > 32) {
		gsl_sort(l, 1, n);
		return;
	}
	for (size_t i = 1; i < n; i++) {
		double x = l[i];
		size_t j = i;
		for (; j > 0 && l[j - 1] > x; j--)
			l[j] = l[j - 1];
		l[j] = x;
	}
}

void cm_ln_session_stats(const double *v, size_t n, struct cm_ln_session *out)
{
	double small[33], *l = n < 33 ? small : cm_xmalloc((n + 1) * sizeof(double)), mean = 0, ss = 0;
	for (size_t i = 0; i < n; i++) {
		l[i] = log(v[i]);
		mean += l[i];
	}
	mean = n ? mean / (double)n : NAN;
	for (size_t i = 0; i < n; i++)
		ss += (l[i] - mean) * (l[i] - mean);
	sort_small(l, n);
	out->n = n;
	out->median = n ? gsl_stats_median_from_sorted_data(l, 1, n) : NAN;
	out->mean = mean;
	out->ssw = n ? ss : NAN;
	if (l != small)
		free(l);
}

static void anova_sessions(const struct cm_ln_session *g, size_t ng, struct anova *a)
{
	size_t k = 0, N = 0;
	double sum = 0, sumsq = 0;
	for (size_t i = 0; i < ng; i++) {
		if (g[i].n < 2)
			continue;
		a->ssw += g[i].ssw;
		k++;
		N += g[i].n, sum += g[i].mean * (double)g[i].n, sumsq += (double)(g[i].n * g[i].n);
	}
	for (size_t i = 0; i < ng; i++)
		if (g[i].n >= 2)
			a->ssb += (double)g[i].n * (g[i].mean - sum / (double)N) *
				  (g[i].mean - sum / (double)N);
	if (k)
		a->N += N, a->k += k, a->sides++, a->sumsq_n += sumsq / (double)N;
}

void cm_stats_varcomp_sessions(const struct cm_ln_session *a, size_t na,
			       const struct cm_ln_session *b, size_t nb, struct cm_varcomp *out)
{
	struct anova s = { 0 };
	anova_sessions(a, na, &s);
	anova_sessions(b, nb, &s);
	anova_finish(&s, out);
}

void cm_stats_varcomp(const double *v, const int *session, size_t n, struct cm_varcomp *out)
{
	struct anova a = { 0 };
	anova_add(v, session, n, &a);
	anova_finish(&a, out);
}

void cm_stats_varcomp_sides(const double *va, const int *sa, size_t na, const double *vb,
			    const int *sb, size_t nb, struct cm_varcomp *out)
{
	struct anova a = { 0 };
	anova_add(va, sa, na, &a);
	anova_add(vb, sb, nb, &a);
	anova_finish(&a, out);
}

size_t cm_stats_session_medians(const double *v, const int *session, size_t n, size_t min_n,
				double *out, size_t *per_session)
{
	size_t *idx = cm_xmalloc((n + 1) * sizeof(size_t)), *start = cm_xmalloc((n + 2) * sizeof(size_t));
	size_t ng = group(session, n, idx, start), k = 0;
	double *tmp = cm_xmalloc((n + 1) * sizeof(double));
	for (size_t g = 0; g < ng; g++) {
		size_t m = start[g + 1] - start[g];
		if (m < min_n || !m)
			continue;
		for (size_t j = 0; j < m; j++)
			tmp[j] = log(v[idx[start[g] + j]]);
		gsl_sort(tmp, 1, m);
		if (per_session)
			per_session[k] = m;
		out[k++] = gsl_stats_median_from_sorted_data(tmp, 1, m);
	}
	free(idx), free(start), free(tmp);
	return k;
}

size_t cm_stats_session_ids(const int *session, size_t n, size_t min_n, int *ids)
{
	size_t *idx = cm_xmalloc((n + 1) * sizeof(size_t)), *start = cm_xmalloc((n + 2) * sizeof(size_t));
	size_t ng = group(session, n, idx, start), k = 0;
	for (size_t g = 0; g < ng; g++)
		if (start[g + 1] - start[g] >= min_n && start[g + 1] > start[g])
			ids[k++] = session[idx[start[g]]];
	free(idx), free(start);
	return k;
}

/* Var of the median of m independent N(0, 1) values, m = 1..29: the order statistics'
 * densities integrated numerically (R 4.2 integrate(), rel.tol 1e-13; even m through the
 * joint density of the two middle ones). m = 6 gives 0.2147, where (pi/2) / m says 0.2618. */
static const double median_var[30] = {
	NAN, 1.000000000000, 0.500000000000, 0.448671104578, 0.298199618435, 0.286833661606,
	0.214742666582, 0.210446861535, 0.168180855159, 0.166101281359, 0.138326435836,
	0.137162433548, 0.117516187119, 0.116798995001, 0.102167836796, 0.101694652082,
	0.090375211225, 0.090046581423, 0.081028510052, 0.080790975072, 0.073437027705,
	0.073259754987, 0.067148109108, 0.067012296262, 0.061852608054, 0.061746257032,
	0.057332133661, 0.057247294801, 0.053427994546, 0.053359230702,
};

struct wave_ix {
	int session, wave;
	size_t i;
};

static int cmp_wave_ix(const void *a, const void *b)
{
	const struct wave_ix *p = a, *q = b;
	if (p->session != q->session)
		return (p->session > q->session) - (p->session < q->session);
	if (p->wave != q->wave)
		return (p->wave > q->wave) - (p->wave < q->wave);
	return (p->i > q->i) - (p->i < q->i);
}

/* Each value's unit: each (session, wave) a key of its own, each boot outside a wave too; keys
 * numbered 0.. in the values' sorted order. Returns how many. */
static size_t wave_keys(const int *session, const int *wave, size_t n, int *key)
{
	struct wave_ix *w = cm_xmalloc((n + 1) * sizeof(*w));
	for (size_t i = 0; i < n; i++)
		w[i] = (struct wave_ix){ session[i], wave[i] > 0 ? wave[i] : 0, i };
	qsort(w, n, sizeof(*w), cmp_wave_ix);
	int next = 0;
	for (size_t i = 0; i < n; i++) {
		bool same = i && w[i].wave > 0 && w[i].session == w[i - 1].session &&
			    w[i].wave == w[i - 1].wave;
		key[w[i].i] = same ? key[w[i - 1].i] : next++;
	}
	free(w);
	return (size_t)next;
}

size_t cm_stats_wave_units(const double *v, const int *session, const int *wave, size_t n,
			   double *out, int *out_session)
{
	/* the units grouped as sessions are, in order of first appearance */
	int *key = cm_xmalloc((n + 1) * sizeof(int));
	wave_keys(session, wave, n, key);
	size_t *idx = cm_xmalloc((n + 1) * sizeof(size_t)), *start = cm_xmalloc((n + 2) * sizeof(size_t));
	size_t ng = group(key, n, idx, start);
	double *tmp = cm_xmalloc((n + 1) * sizeof(double));
	for (size_t g = 0; g < ng; g++) {
		size_t m = start[g + 1] - start[g];
		for (size_t j = 0; j < m; j++)
			tmp[j] = log(v[idx[start[g] + j]]);
		gsl_sort(tmp, 1, m);
		out[g] = exp(gsl_stats_median_from_sorted_data(tmp, 1, m));
		out_session[g] = session[idx[start[g]]];
	}
	free(key), free(idx), free(start), free(tmp);
	return ng;
}

/* The mean's CI with the waves as clusters: the boots' mean, its cluster-robust variance
 * (CR1: k/(k-1) sum over units of the squared sum of their residuals, over n^2), t on k - 1 df.
 * A boot's residual is shared by the boots of its wave: this is what a shift they share
 * costs the mean; with one boot a unit it is the boots' own t CI (the same variance). */
static void wave_mean_ci(const double *v, const int *key, size_t n, size_t k, double alpha,
			 struct cm_summary *s)
{
	s->mean_ci_lo = s->mean_ci_hi = NAN;
	if (k < 2 || !isfinite(s->mean))
		return;
	double *sum = cm_xcalloc(k, sizeof(double)), ss = 0;
	for (size_t i = 0; i < n; i++)
		sum[key[i]] += v[i] - s->mean;
	for (size_t g = 0; g < k; g++)
		ss += sum[g] * sum[g];
	free(sum);
	double se = sqrt((double)k / (double)(k - 1) * ss) / (double)n;
	double h = gsl_cdf_tdist_Pinv(1 - alpha / 2, (double)(k - 1)) * se;
	s->mean_ci_lo = s->mean - h, s->mean_ci_hi = s->mean + h;
}

/* Why the median's CI is the order statistics' (sign test) CI over the waves' medians, and not
 * a bootstrap that resamples waves: the sign-test interval's coverage is exact (its achieved
 * level, s->median_ci_level, is a binomial sum) for ANY independent units that share a median,
 * whatever each one's distribution, so waves holding 1, 2 or K of the cell's boots (cases
 * mixed in a wave) all count as they are; a bootstrap is only asymptotically right and claims
 * an interval from 3 waves, where this one says "too few" as it does below 6 boots. The waves
 * are the units compare takes (cm_stats_wave_units' grouping; a unit's median here on the
 * values' own scale, so that a wave of one boot is that boot), and a wave's median has the boots'
 * median as its own when a wave's shift and its boots' scatter about it are symmetric on the
 * log scale (the model compare's tests simulate). The reported median stays the boots' (the
 * same number the run reported before); the interval is widened to hold it when the two
 * medians differ (never narrowed). Deterministic: no seed, so a live rewrite is a rebuild. */
size_t cm_stats_wave_ci(const double *v, const int *session, const int *wave, size_t n,
			double alpha, struct cm_summary *s, double *units)
{
	bool any = false;
	for (size_t i = 0; wave && i < n && !any; i++)
		any = wave[i] > 0;
	if (!any)
		return 0;
	int *key = cm_xmalloc((n + 1) * sizeof(int));
	size_t k = wave_keys(session, wave, n, key);
	wave_mean_ci(v, key, n, k, alpha, s);
	/* each unit's median, of its values as they are (a wave of one boot is that boot, to the
	 * bit): the values ordered by unit, then each unit's run sorted */
	size_t *at = cm_xcalloc(k + 1, sizeof(size_t));
	double *byu = cm_xmalloc((n + 1) * sizeof(double)), *u = cm_xmalloc((k + 1) * sizeof(double));
	for (size_t i = 0; i < n; i++)
		at[key[i] + 1]++;
	for (size_t g = 0; g < k; g++)
		at[g + 1] += at[g];
	size_t *fill = cm_xmalloc((k + 1) * sizeof(size_t));
	memcpy(fill, at, (k + 1) * sizeof(size_t));
	for (size_t i = 0; i < n; i++)
		byu[fill[key[i]]++] = v[i];
	for (size_t g = 0; g < k; g++) {
		gsl_sort(byu + at[g], 1, at[g + 1] - at[g]);
		u[g] = gsl_stats_median_from_sorted_data(byu + at[g], 1, at[g + 1] - at[g]);
	}
	if (units)
		memcpy(units, u, k * sizeof(double));
	gsl_sort(u, 1, k);
	s->median_ci_level = cm_stats_quantile_ci(u, k, 0.5, alpha, &s->median_ci_lo, &s->median_ci_hi);
	if (s->median_ci_level > 0) {
		s->median_ci_lo = fmin(s->median_ci_lo, s->median);
		s->median_ci_hi = fmax(s->median_ci_hi, s->median);
		s->warnings &= ~(unsigned)CM_WARN_FEW_BOOTS;
	} else {
		s->warnings |= CM_WARN_FEW_BOOTS;
	}
	s->ci_units = k;
	free(key), free(at), free(fill), free(byu), free(u);
	return k;
}

double cm_stats_median_var(size_t m)
{
	if (!m)
		return NAN;
	if (m < 30)
		return median_var[m];
	/* past the table, pi/2 with its 1/m term (from m = 29 and 28): within 0.1% of the
	 * integral at m = 30..101; odd and even m approach pi/2 at different speeds */
	double a = m % 2 ? 0.6779805 : 2.094749;
	return (M_PI / 2 - a / (double)m) / (double)m;
}

void cm_session_prior_from(const struct cm_varcomp *cal, size_t boots, struct cm_session_prior *out)
{
	out->var = cal->between + cm_stats_median_var(boots ? boots : 1) * cal->within;
	out->df = cal->sessions >= 2 ? (double)(cal->sessions - 1) : 0;
}

static void mean_ss(const double *x, size_t n, double *mean, double *ss)
{
	double m = 0, s = 0;
	for (size_t i = 0; i < n; i++)
		m += x[i];
	m /= (double)n;
	for (size_t i = 0; i < n; i++)
		s += (x[i] - m) * (x[i] - m);
	*mean = m, *ss = s;
}

int cm_stats_compare_sessions(const double *mb, size_t kb, const double *mc, size_t kc,
			      const struct cm_session_prior *prior, double alpha,
			      struct cm_comparison *out)
{
	out->rel = out->rel_lo = out->rel_hi = out->p = out->p_adj = NAN;
	out->exact = false;
	out->verdict = CM_INCOMPARABLE;
	if (!kb || !kc)
		return -1;
	double xb, sb, xc, sc;
	mean_ss(mb, kb, &xb, &sb);
	mean_ss(mc, kc, &xc, &sc);
	double df = (double)(kb + kc) - 2, ss = sb + sc;
	if (prior && prior->df > 0) { /* the calibration's sessions join the pooled variance */
		ss += prior->var * prior->df;
		df += prior->df;
	}
	if (!(df >= 1))
		return -1; /* one session a side and no calibration: no between-session variance */
	double se = sqrt(ss / df * (1.0 / (double)kb + 1.0 / (double)kc)), d = xc - xb;
	double tq = gsl_cdf_tdist_Qinv(alpha, df);
	out->rel = expm1(d);
	out->rel_lo = expm1(d - tq * se);
	out->rel_hi = expm1(d + tq * se);
	out->p = se > 0 ? gsl_cdf_tdist_Q(fabs(d) / se, df) : (d != 0 ? 0 : 1);
	out->verdict = CM_NO_CHANGE;
	return 0;
}

int cm_stats_compare_paired(const double *d, size_t k, double alpha, struct cm_comparison *out)
{
	out->rel = out->rel_lo = out->rel_hi = out->p = out->p_adj = NAN;
	out->exact = false;
	out->verdict = CM_INCOMPARABLE;
	if (k < 2)
		return -1;
	double m, ss;
	mean_ss(d, k, &m, &ss);
	double df = (double)k - 1, se = sqrt(ss / df / (double)k), tq = gsl_cdf_tdist_Qinv(alpha, df);
	out->rel = expm1(m);
	out->rel_lo = expm1(m - tq * se);
	out->rel_hi = expm1(m + tq * se);
	out->p = se > 0 ? gsl_cdf_tdist_Q(fabs(m) / se, df) : (m != 0 ? 0 : 1);
	out->verdict = CM_NO_CHANGE;
	return 0;
}

/* ---- change points ------------------------------------------------------------------------- */

/* The scans themselves (the best single split, the best interval) are in change_scan.c. */

#define CP_MINSEG 3
#define CP_PERMUTATIONS 199

/* How often the CP_PERMUTATIONS + 1 statistics (the permutations' and the observed one, last)
 * reach v or more, as a p. */
static double perm_p(const double *stat, double v)
{
	size_t ge = 0;
	for (int r = 0; r <= CP_PERMUTATIONS; r++)
		ge += stat[r] >= v;
	return (double)ge / (CP_PERMUTATIONS + 1);
}

/* Which of the two searches to trust, and how sure: the best single split (most power for one
 * step) and the best interval (a step that is undone later) are both tried, and the smaller
 * of their permutation p's is itself judged against the permutations' smaller p's (the min-p
 * method: the family-wise error stays at alpha, nothing is lost to Bonferroni). The observed
 * statistics join the permutations' in every p, theirs included, so that all 200 are
 * exchangeable under no change (leaving it out of theirs made the observed min-p look smaller
 * than its peers': 5.6% false alarms at alpha 0.05). Returns p; *interval says which search
 * won. */
static double split_p(const double *x, size_t n, double t1, double t2, gsl_rng *rng,
		      bool *interval)
{
	double *y = cm_xmalloc(n * sizeof(double)), s1[CP_PERMUTATIONS + 1], s2[CP_PERMUTATIONS + 1];
	memcpy(y, x, n * sizeof(double));
	size_t at, i, j;
	for (int r = 0; r < CP_PERMUTATIONS; r++) {
		gsl_ran_shuffle(rng, y, n, sizeof(double));
		s1[r] = cm_cp_split(y, n, CP_MINSEG, &at);
		s2[r] = cm_cp_interval(y, n, CP_MINSEG, &i, &j);
	}
	s1[CP_PERMUTATIONS] = t1, s2[CP_PERMUTATIONS] = t2;
	free(y);
	double p1 = perm_p(s1, t1), p2 = perm_p(s2, t2), pmin = fmin(p1, p2);
	size_t le = 0;
	for (int r = 0; r <= CP_PERMUTATIONS; r++)
		le += fmin(perm_p(s1, s1[r]), perm_p(s2, s2[r])) <= pmin;
	*interval = p2 < p1;
	return (double)le / (CP_PERMUTATIONS + 1);
}

static int cmp_change(const void *a, const void *b)
{
	size_t x = ((const struct cm_change *)a)->at, y = ((const struct cm_change *)b)->at;
	return (x > y) - (x < y);
}

/* Splits [a, b) while significant; the changes found go to out. alpha is spent over the
 * recursion in proportion to length: a segment of b - a values is tested at alpha_per * (b - a),
 * so the segments a split leaves share their parent's alpha, and however deep the recursion,
 * the null segments between real changes together get no more than alpha (testing each afresh
 * at alpha gave an extra change point after one real step in 7-9% of histories). */
static void segment(const double *x, size_t a, size_t b, double alpha_per, gsl_rng *rng,
		    struct cm_change *out, size_t *k, size_t max)
{
	if (b - a < 2 * CP_MINSEG || *k >= max)
		return;
	size_t i, j, at;
	double t1 = cm_cp_split(x + a, b - a, CP_MINSEG, &at),
	       t2 = cm_cp_interval(x + a, b - a, CP_MINSEG, &i, &j);
	bool interval;
	double p = split_p(x + a, b - a, t1, t2, rng, &interval);
	if (!(p < alpha_per * (double)(b - a)))
		return;
	if (!interval)
		i = 0, j = at; /* the single step */
	/* one change point where the interval reaches an end, two where it lies inside */
	size_t cuts[2], nc = 0;
	if (i > 0)
		cuts[nc++] = a + i;
	if (a + j < b && *k + nc < max)
		cuts[nc++] = a + j;
	for (size_t c = 0; c < nc; c++)
		out[(*k)++] = (struct cm_change){ cuts[c], NAN, NAN, NAN, p };
	size_t lo = a;
	for (size_t c = 0; c < nc; c++) {
		segment(x, lo, cuts[c], alpha_per, rng, out, k, max);
		lo = cuts[c];
	}
	segment(x, lo, b, alpha_per, rng, out, k, max);
}

/* The step at change i: Welch's interval between its neighbouring segments. */
static void step_size(const double *x, size_t from, size_t at, size_t to, double alpha,
		      struct cm_change *c)
{
	double ml, sl, mr, sr;
	size_t nl = at - from, nr = to - at;
	mean_ss(x + from, nl, &ml, &sl);
	mean_ss(x + at, nr, &mr, &sr);
	double vl = sl / (double)(nl - 1) / (double)nl, vr = sr / (double)(nr - 1) / (double)nr;
	double se = sqrt(vl + vr), d = mr - ml;
	double df = se > 0 ? pow(vl + vr, 2) / (vl * vl / (double)(nl - 1) + vr * vr / (double)(nr - 1))
			   : 1;
	double tq = gsl_cdf_tdist_Qinv(alpha / 2, df);
	c->rel = expm1(d), c->lo = expm1(d - tq * se), c->hi = expm1(d + tq * se);
}

size_t cm_stats_change_points(const double *x, size_t n, double alpha, double min_rel,
			      unsigned long seed, struct cm_change *out, size_t max)
{
	gsl_rng *rng = gsl_rng_alloc(gsl_rng_mt19937);
	gsl_rng_set(rng, seed);
	size_t k = 0;
	if (n)
		segment(x, 0, n, alpha / (double)n, rng, out, &k, max);
	gsl_rng_free(rng);
	qsort(out, k, sizeof(*out), cmp_change);
	size_t kept = 0;
	for (size_t i = 0; i < k; i++) {
		size_t from = i ? out[i - 1].at : 0, to = i + 1 < k ? out[i + 1].at : n;
		step_size(x, from, out[i].at, to, alpha, &out[i]);
		if (fabs(out[i].rel) >= min_rel)
			out[kept++] = out[i];
	}
	return kept;
}

/* ---- dimensioning -------------------------------------------------------------------------- */

int cm_stats_dimension(const struct cm_varcomp *vc, double boot_s, double session_s,
		       double target, struct cm_dimension *out)
{
	*out = (struct cm_dimension){ 0, 0, NAN };
	if (!isfinite(vc->within) || !isfinite(vc->between) || !(target > 0) || !(boot_s > 0))
		return -1;
	/* for each number of sessions k, the fewest boots n that make the t-interval of the mean
	 * of k session medians narrow enough: t^2 (sb^2 + sw^2 / n) / k <= h^2; then the cheapest k.
	 * At the optimum n is Kalibera & Jones' sqrt(session_s sw^2 / (boot_s sb^2)). */
	double h = log1p(target);
	for (int k = 2; k <= 10000; k++) {
		double t = gsl_cdf_tdist_Qinv(0.025, k - 1), room = k * h * h / (t * t) - vc->between;
		if (!(room > 0))
			continue;
		double n = fmax(2, ceil(vc->within / room));
		if (n > CM_DIMENSION_MAX_BOOTS)
			continue;
		double cost = k * (session_s + n * boot_s);
		if (isnan(out->cost_s) || cost < out->cost_s)
			*out = (struct cm_dimension){ k, (int)n, cost };
		else if (n <= 2)
			break; /* more sessions only cost more from here */
	}
	return isnan(out->cost_s) ? -1 : 0;
}
