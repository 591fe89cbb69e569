/* The host level: per-host changes, a CI across hosts, van Elteren's stratified test, the
 * between-host variance and hosts that disagree with the rest. */
#include <gsl/gsl_cdf.h>
#include <gsl/gsl_statistics_double.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "coldmark/stats.h"
#include "coldmark/util.h"

/* mid-ranks (1-based) of v[0..n) */
static void midranks(const double *v, size_t n, double *rank)
{
	for (size_t i = 0; i < n; i++) {
		double below = 0, same = 0;
		for (size_t j = 0; j < n; j++)
			below += v[j] < v[i], same += v[j] == v[i];
		rank[i] = below + (same + 1) / 2;
	}
}

struct stratum {
	double *w; /* the weighted rank sum of every assignment of the candidate's labels */
	size_t n;
};

/* Every subset of size k of the N ranks: its sum, weighted. */
static void subsets(const double *rank, size_t N, size_t k, size_t from, double sum, double wgt,
		    struct stratum *s)
{
	if (!k) {
		s->w[s->n++] = sum * wgt;
		return;
	}
	for (size_t i = from; i + k <= N; i++)
		subsets(rank, N, k - 1, i + 1, sum + rank[i], wgt, s);
}

/* How many combinations over strata [h, H) bring the running total to or past t. */
static double tail(const struct stratum *s, size_t h, size_t H, double acc, double t, bool upper)
{
	if (h == H)
		return upper ? acc >= t - 1e-9 : acc <= t + 1e-9;
	double c = 0;
	for (size_t i = 0; i < s[h].n; i++)
		c += tail(s, h + 1, H, acc + s[h].w[i], t, upper);
	return c;
}

static double choose(size_t n, size_t k)
{
	double c = 1;
	for (size_t i = 1; i <= k; i++)
		c = c * (double)(n - k + i) / (double)i;
	return c;
}

double cm_stats_van_elteren(const double *const *b, const size_t *nb, const double *const *c,
			    const size_t *nc, size_t strata, bool upper, bool *exact)
{
	double t = 0, mean = 0, var = 0, combos = 1;
	struct stratum *s = cm_xcalloc(strata + 1, sizeof(*s));
	double **ranks = cm_xcalloc(strata + 1, sizeof(double *));
	for (size_t h = 0; h < strata; h++) {
		size_t N = nb[h] + nc[h];
		double *v = cm_xmalloc((N + 1) * sizeof(double));
		ranks[h] = cm_xmalloc((N + 1) * sizeof(double));
		memcpy(v, b[h], nb[h] * sizeof(double));
		memcpy(v + nb[h], c[h], nc[h] * sizeof(double));
		midranks(v, N, ranks[h]);
		double w = 1.0 / (double)(N + 1), sum = 0;
		for (size_t i = nb[h]; i < N; i++)
			sum += ranks[h][i];
		t += sum * w;
		mean += (double)nc[h] / 2; /* E[W] = nc (N + 1) / 2, times w */
		var += (double)nb[h] * (double)nc[h] / (12.0 * (double)(N + 1));
		combos *= choose(N, nc[h]);
		free(v);
	}
	double p;
	if ((*exact = combos <= CM_VAN_ELTEREN_EXACT)) {
		for (size_t h = 0; h < strata; h++) {
			size_t N = nb[h] + nc[h];
			s[h].w = cm_xmalloc(((size_t)choose(N, nc[h]) + 1) * sizeof(double));
			subsets(ranks[h], N, nc[h], 0, 0, 1.0 / (double)(N + 1), &s[h]);
		}
		p = tail(s, 0, strata, 0, t, upper) / combos;
	} else {
		double z = var > 0 ? (t - mean) / sqrt(var) : 0;
		p = upper ? gsl_cdf_ugaussian_Q(z) : gsl_cdf_ugaussian_P(z);
	}
	for (size_t h = 0; h < strata; h++)
		free(s[h].w), free(ranks[h]);
	free(s), free(ranks);
	return p;
}

/* Does x[i] lie outside the 99% prediction interval of the others (and beyond floor)? */
static bool disagrees(const double *x, size_t n, size_t i, double floor)
{
	if (n < 3)
		return false; /* two hosts: which one is off cannot be told */
	double *o = cm_xmalloc(n * sizeof(double));
	size_t k = 0;
	for (size_t j = 0; j < n; j++)
		if (j != i)
			o[k++] = x[j];
	double m = gsl_stats_mean(o, 1, k), sd = sqrt(gsl_stats_variance(o, 1, k));
	double half = gsl_cdf_tdist_Qinv(0.005, (double)(k - 1)) * sd * sqrt(1 + 1.0 / (double)k);
	free(o);
	return fabs(x[i] - m) > fmax(half, floor);
}

/* The hosts of either side, each with its sessions' mean level per side. */
static void per_host(const double *mb, const int *hb, size_t kb, const double *mc, const int *hc,
		     size_t kc, struct cm_hosts *out)
{
	out->h = cm_xcalloc(kb + kc + 1, sizeof(*out->h));
	for (int side = 0; side < 2; side++) {
		const double *m = side ? mc : mb;
		const int *hs = side ? hc : hb;
		for (size_t i = 0; i < (side ? kc : kb); i++) {
			size_t j = 0;
			while (j < out->n && out->h[j].host != hs[i])
				j++;
			if (j == out->n)
				out->h[out->n++] = (struct cm_host_stat){ hs[i], 0, 0, 0, 0, NAN, false };
			struct cm_host_stat *h = &out->h[j];
			double *lv = side ? &h->level_c : &h->level_b;
			size_t *k = side ? &h->kc : &h->kb;
			*lv += m[i], (*k)++;
		}
	}
	for (size_t j = 0; j < out->n; j++) {
		struct cm_host_stat *h = &out->h[j];
		h->level_b = h->kb ? h->level_b / (double)h->kb : NAN;
		h->level_c = h->kc ? h->level_c / (double)h->kc : NAN;
		if (h->kb && h->kc)
			h->rel = expm1(h->level_c - h->level_b), out->shared++;
	}
}

/* Hosts whose change, or whose level on a side, is off the others'. */
static void flag_sick(struct cm_hosts *out, double floor)
{
	double *x = cm_xmalloc((out->n + 1) * sizeof(double));
	size_t *at = cm_xmalloc((out->n + 1) * sizeof(size_t));
	for (int what = 0; what < 3; what++) { /* the change, the base level, the cand level */
		size_t k = 0;
		for (size_t j = 0; j < out->n; j++) {
			const struct cm_host_stat *h = &out->h[j];
			double v = what == 0 ? log1p(h->rel) : what == 1 ? h->level_b : h->level_c;
			if (!isnan(v))
				at[k] = j, x[k++] = v;
		}
		for (size_t i = 0; i < k; i++)
			if (disagrees(x, k, i, floor))
				out->h[at[i]].sick = true;
	}
	free(x), free(at);
}

/* mean and the 1 - 2 alpha t interval of the per-host changes d[0..n) (ln) */
static void across(const double *d, size_t n, double alpha, double *rel, double *lo, double *hi)
{
	double m = gsl_stats_mean(d, 1, n), se = sqrt(gsl_stats_variance(d, 1, n) / (double)n);
	double tq = gsl_cdf_tdist_Qinv(alpha, (double)(n - 1));
	*rel = expm1(m), *lo = expm1(m - tq * se), *hi = expm1(m + tq * se);
}

static double host_p(const double *mb, const int *hb, size_t kb, const double *mc,
		     const int *hc, size_t kc, const struct cm_hosts *out, bool upper, bool *exact)
{
	const double **b = cm_xcalloc(out->n + 1, sizeof(double *)), **c = cm_xcalloc(out->n + 1, sizeof(double *));
	size_t *nb = cm_xcalloc(out->n + 1, sizeof(size_t)), *nc = cm_xcalloc(out->n + 1, sizeof(size_t)), H = 0;
	double *vb = cm_xmalloc((kb + 1) * sizeof(double)), *vc = cm_xmalloc((kc + 1) * sizeof(double));
	size_t ob = 0, oc = 0;
	for (size_t j = 0; j < out->n; j++) {
		const struct cm_host_stat *h = &out->h[j];
		if (!h->kb || !h->kc)
			continue;
		b[H] = vb + ob, c[H] = vc + oc;
		for (size_t i = 0; i < kb; i++)
			if (hb[i] == h->host)
				vb[ob++] = mb[i], nb[H]++;
		for (size_t i = 0; i < kc; i++)
			if (hc[i] == h->host)
				vc[oc++] = mc[i], nc[H]++;
		H++;
	}
	double p = cm_stats_van_elteren(b, nb, c, nc, H, upper, exact);
	free(b), free(c), free(nb), free(nc), free(vb), free(vc);
	return p;
}

int cm_stats_compare_hosts(const double *mb, const int *hb, size_t kb, const double *mc,
			   const int *hc, size_t kc, double alpha, double floor, struct cm_hosts *out,
			   struct cm_comparison *cmp)
{
	memset(out, 0, sizeof(*out));
	out->var_between = out->rel_healthy = out->lo_healthy = out->hi_healthy = NAN;
	per_host(mb, hb, kb, mc, hc, kc, out);
	flag_sick(out, floor);
	if (out->shared < 2)
		return -1;
	double *d = cm_xmalloc((out->shared + 1) * sizeof(double)),
	       *a = cm_xmalloc((out->shared + 1) * sizeof(double)),
	       *healthy = cm_xmalloc((out->shared + 1) * sizeof(double));
	size_t k = 0, nh = 0;
	for (size_t j = 0; j < out->n; j++) {
		const struct cm_host_stat *h = &out->h[j];
		if (isnan(h->rel))
			continue;
		d[k] = h->level_c - h->level_b;
		a[k++] = (h->level_b + h->level_c) / 2;
		if (!h->sick)
			healthy[nh++] = h->level_c - h->level_b;
	}
	/* Var(a) = host + noise / 2 per side's share; Var(d) = 2 x that noise: the rest is the
	 * hosts' own spread */
	out->var_between = fmax(0, gsl_stats_variance(a, 1, k) - gsl_stats_variance(d, 1, k) / 4);
	across(d, k, alpha, &cmp->rel, &cmp->rel_lo, &cmp->rel_hi);
	if (nh >= 2 && nh < k)
		across(healthy, nh, alpha, &out->rel_healthy, &out->lo_healthy, &out->hi_healthy);
	cmp->p = host_p(mb, hb, kb, mc, hc, kc, out, cmp->rel >= 0, &out->exact);
	cmp->exact = out->exact;
	cmp->p_adj = NAN;
	cmp->verdict = CM_NO_CHANGE;
	free(d), free(a), free(healthy);
	return 0;
}

void cm_hosts_free(struct cm_hosts *h)
{
	free(h->h);
	memset(h, 0, sizeof(*h));
}
