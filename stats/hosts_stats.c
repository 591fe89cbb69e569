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

static double choose(size_t n, size_t k)
{
	double c = 1;
	for (size_t i = 1; i <= k; i++)
		c = c * (double)(n - k + i) / (double)i;
	return c;
}

/* The null distribution of one stratum's candidate rank sum: P(2 W = s) for s in 0..*len-1,
 * W the sum of nc of the N midranks drawn at random (2 W is an integer even with ties). The
 * subsets are counted by size and sum, item by item (a 0/1 knapsack), never listed. */
static double *rank_sum_dist(const double *rank, size_t N, size_t nc, size_t *len)
{
	size_t w = N * (N + 1) + 1;
	double *c = cm_xcalloc((nc + 1) * w, sizeof(double)), all = choose(N, nc);
	c[0] = 1;
	for (size_t i = 0; i < N; i++) {
		size_t r2 = (size_t)lround(2 * rank[i]);
		for (size_t j = nc; j >= 1; j--) /* downwards: each item joins a subset once */
			for (size_t s = r2; s < w; s++)
				c[j * w + s] += c[(j - 1) * w + s - r2];
	}
	double *d = cm_xmalloc(w * sizeof(double));
	for (size_t s = 0; s < w; s++)
		d[s] = c[nc * w + s] / all;
	free(c);
	*len = w;
	return d;
}

/* A distribution of values: v[i] with probability p[i], v ascending. */
struct dist {
	double *v, *p;
	size_t n;
};

static int cmp_pair(const void *a, const void *b)
{
	double x = ((const double *)a)[0], y = ((const double *)b)[0];
	return x < y ? -1 : x > y;
}

/* d + (the integer distribution q[0..len) scaled by scale), equal values merged. False (d
 * untouched) when the result would pass CM_VAN_ELTEREN_EXACT values. */
static bool convolve(struct dist *d, const double *q, size_t len, double scale)
{
	size_t nq = 0;
	for (size_t s = 0; s < len; s++)
		nq += q[s] > 0;
	if ((double)d->n * (double)nq > CM_VAN_ELTEREN_EXACT)
		return false;
	double *pair = cm_xmalloc((d->n * nq + 1) * 2 * sizeof(double));
	size_t m = 0;
	for (size_t i = 0; i < d->n; i++)
		for (size_t s = 0; s < len; s++)
			if (q[s] > 0)
				pair[2 * m] = d->v[i] + (double)s * scale, pair[2 * m + 1] = d->p[i] * q[s], m++;
	qsort(pair, m, 2 * sizeof(double), cmp_pair);
	d->v = cm_xrealloc(d->v, (m + 1) * sizeof(double));
	d->p = cm_xrealloc(d->p, (m + 1) * sizeof(double));
	d->n = 0;
	for (size_t i = 0; i < m; i++) {
		/* the same rational reached along two paths differs by rounding only */
		if (d->n && pair[2 * i] - d->v[d->n - 1] < 1e-9)
			d->p[d->n - 1] += pair[2 * i + 1];
		else
			d->v[d->n] = pair[2 * i], d->p[d->n++] = pair[2 * i + 1];
	}
	free(pair);
	return true;
}

/* The exact null distribution of T = sum_h W_h / (N_h + 1): the strata of one size are summed
 * on their common integer lattice (2 W), then the sizes convolved with their own weights. */
static bool exact_dist(double **ranks, const size_t *nb, const size_t *nc, size_t strata,
		       struct dist *d)
{
	d->v = cm_xcalloc(1, sizeof(double)), d->p = cm_xmalloc(sizeof(double)), d->n = 1;
	d->p[0] = 1;
	bool *done = cm_xcalloc(strata + 1, sizeof(bool)), ok = true;
	for (size_t h = 0; h < strata && ok; h++) {
		if (done[h])
			continue;
		size_t N = nb[h] + nc[h], len = 1;
		double *sum = cm_xcalloc(1, sizeof(double));
		sum[0] = 1;
		for (size_t g = h; g < strata; g++) {
			if (done[g] || nb[g] + nc[g] != N)
				continue;
			size_t ql;
			double *q = rank_sum_dist(ranks[g], N, nc[g], &ql);
			double *t = cm_xcalloc(len + ql, sizeof(double));
			for (size_t i = 0; i < len; i++)
				for (size_t s = 0; s < ql && sum[i] > 0; s++)
					t[i + s] += sum[i] * q[s];
			free(sum), free(q);
			sum = t, len += ql - 1, done[g] = true;
		}
		ok = convolve(d, sum, len, 1.0 / (2.0 * (double)(N + 1)));
		free(sum);
	}
	free(done);
	return ok;
}

double cm_stats_van_elteren(const double *const *b, const size_t *nb, const double *const *c,
			    const size_t *nc, size_t strata, bool upper, bool *exact)
{
	double t = 0, mean = 0, var = 0, step = INFINITY;
	double **ranks = cm_xcalloc(strata + 1, sizeof(double *));
	for (size_t h = 0; h < strata; h++) {
		size_t N = nb[h] + nc[h];
		double *v = cm_xmalloc((N + 1) * sizeof(double));
		ranks[h] = cm_xmalloc((N + 1) * sizeof(double));
		memcpy(v, b[h], nb[h] * sizeof(double));
		memcpy(v + nb[h], c[h], nc[h] * sizeof(double));
		midranks(v, N, ranks[h]);
		double w = 1.0 / (double)(N + 1), sum = 0, ss = 0;
		for (size_t i = nb[h]; i < N; i++)
			sum += ranks[h][i];
		for (size_t i = 0; i < N; i++) /* the midranks' mean is (N + 1) / 2, ties or not */
			ss += (ranks[h][i] - (N + 1) / 2.0) * (ranks[h][i] - (N + 1) / 2.0);
		t += sum * w;
		mean += (double)nc[h] / 2; /* E[W] = nc (N + 1) / 2, times w */
		/* nc drawn without replacement from the N midranks */
		if (N > 1)
			var += w * w * (double)nc[h] * (double)nb[h] / ((double)N * (double)(N - 1)) * ss;
		if (nb[h] && nc[h])
			step = fmin(step, w);
		free(v);
	}
	struct dist d;
	double p = 0;
	if ((*exact = exact_dist(ranks, nb, nc, strata, &d))) {
		for (size_t i = 0; i < d.n; i++)
			if (upper ? d.v[i] >= t - 1e-9 : d.v[i] <= t + 1e-9)
				p += d.p[i];
		p = fmin(p, 1);
	} else {
		/* normal, with half the smallest stratum's step as continuity correction */
		double cc = isfinite(step) ? step / 2 : 0;
		double z = var > 0 ? (upper ? t - mean - cc : t - mean + cc) / sqrt(var) : 0;
		p = upper ? gsl_cdf_ugaussian_Q(z) : gsl_cdf_ugaussian_P(z);
	}
	free(d.v), free(d.p);
	for (size_t h = 0; h < strata; h++)
		free(ranks[h]);
	free(ranks);
	return p;
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

/* The variance of a session's level about its host's mean on its side, pooled over hosts and
 * sides (the noise a host's own change is measured with), and its df. */
static double session_var(const double *mb, const int *hb, size_t kb, const double *mc,
			  const int *hc, size_t kc, const struct cm_hosts *out, double *df)
{
	double ss = 0;
	*df = 0;
	for (size_t j = 0; j < out->n; j++) {
		const struct cm_host_stat *h = &out->h[j];
		for (int side = 0; side < 2; side++) {
			const double *m = side ? mc : mb;
			const int *hs = side ? hc : hb;
			for (size_t i = 0; i < (side ? kc : kb); i++)
				if (hs[i] == h->host)
					ss += (m[i] - (side ? h->level_c : h->level_b)) *
					      (m[i] - (side ? h->level_c : h->level_b));
			size_t k = side ? h->kc : h->kb;
			*df += k ? (double)(k - 1) : 0;
		}
	}
	return *df > 0 ? ss / *df : NAN;
}

/* Hosts whose change is off the others': each host's change against the mean of the others',
 * with the standard error both get from their own sessions (the pooled session variance, on
 * its df), a t; the most extreme host is flagged when its two-sided p < CM_SICK_ALPHA and it is
 * beyond floor, then the rest are judged again without it (so a sick host does not drag the
 * healthy ones off their mean), while 3 or more remain. Levels are not judged: hosts differ in
 * level by nature, and the change is measured within each. */
static void flag_sick(const double *mb, const int *hb, size_t kb, const double *mc,
		      const int *hc, size_t kc, struct cm_hosts *out, double floor)
{
	double df, s2 = session_var(mb, hb, kb, mc, hc, kc, out, &df);
	if (!(df >= 1) || !(s2 > 0))
		return;
	for (;;) {
		size_t r = 0, best = out->n;
		double bt = 0, sum = 0, vsum = 0;
		for (size_t j = 0; j < out->n; j++) {
			const struct cm_host_stat *h = &out->h[j];
			if (!isnan(h->rel) && !h->sick)
				r++, sum += log1p(h->rel), vsum += 1.0 / (double)h->kb + 1.0 / (double)h->kc;
		}
		if (r < 3)
			return; /* two hosts: which one is off cannot be told */
		for (size_t j = 0; j < out->n; j++) {
			const struct cm_host_stat *h = &out->h[j];
			if (isnan(h->rel) || h->sick)
				continue;
			double own = 1.0 / (double)h->kb + 1.0 / (double)h->kc, d = log1p(h->rel);
			double diff = d - (sum - d) / (double)(r - 1);
			double se = sqrt(s2 * (own + (vsum - own) / ((double)(r - 1) * (double)(r - 1))));
			if (fabs(diff) / se > bt && fabs(diff) > floor)
				bt = fabs(diff) / se, best = j;
		}
		if (best == out->n || !(2 * gsl_cdf_tdist_Q(bt, df) < CM_SICK_ALPHA))
			return;
		out->h[best].sick = true;
	}
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
	flag_sick(mb, hb, kb, mc, hc, kc, out, floor);
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
