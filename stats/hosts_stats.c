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
				out->h[out->n++] = (struct cm_host_stat){ hs[i], 0, 0, 0, 0, NAN, false, false };
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

/* ---- the sick-host flag and the design it needs ---------------------------------------- */

/* V = s^2 / sigma^2 (chi-square on df, over df) at the midpoints of QN equal-probability
 * slices: E[f(V)] is then the mean of f over the grid. */
#define QN 200
static void v_grid(double df, double *v)
{
	for (int i = 0; i < QN; i++)
		v[i] = gsl_cdf_chisq_Pinv((i + 0.5) / QN, df) / df;
}

/* P(|t| > crit) given V, t = (Z + lam) / sqrt(V) */
static double reject_given(double lam, double crit, double v)
{
	double q = crit * sqrt(v);
	return gsl_cdf_ugaussian_P(lam - q) + gsl_cdf_ugaussian_P(-lam - q);
}

static double grid_power(double lam, double crit, const double *v)
{
	double p = 0;
	for (int i = 0; i < QN; i++)
		p += reject_given(lam, crit, v[i]);
	return p / QN;
}

double cm_stats_t_power(double lam, double crit, double df, double vmax)
{
	if (!(df > 0))
		return NAN;
	double v[QN], p = 0;
	v_grid(df, v);
	for (int i = 0; i < QN && v[i] <= vmax; i++)
		p += reject_given(lam, crit, v[i]);
	return p / QN;
}

/* Sidak's level for one host of r, so that r healthy hosts see any flag in <= CM_SICK_ALPHA
 * (the hosts' contrasts are correlated; Sidak's inequality holds for any correlation of
 * two-sided t's on one variance estimate) */
static double sick_level(size_t r)
{
	return 1 - pow(1 - CM_SICK_ALPHA, 1.0 / (double)r);
}

/* A host is judged when the flag's power against a CM_SICK_SIZE host is CM_SICK_POWER at the
 * measured sd; so of the draws of V (the variance estimate over the true one) only those with
 * V small enough open the judgement: the design's power counts those alone. It must pass
 * CM_SICK_POWER by CM_SICK_MARGIN: sd is itself measured, and the hosts compete for the flag
 * (by simulation at README's noise, 4 hosts of 4 + 4 computed at 80.3% flag 79.7%). */
size_t cm_stats_sick_design(size_t r, double sd)
{
	if (r < 3 || !(sd > 0))
		return 0;
	double a1 = sick_level(r), v[QN];
	for (size_t K = 2; K <= CM_SICK_MAX_K; K++) {
		double df = 2.0 * (double)r * (double)(K - 1), crit = gsl_cdf_tdist_Qinv(a1 / 2, df);
		/* the host's change (K + K) less the mean of r - 1 others' */
		double lam = log1p(CM_SICK_SIZE) / (sd * sqrt(2.0 / (double)K * (double)r / (double)(r - 1)));
		v_grid(df, v);
		if (grid_power(lam, crit, v) < CM_SICK_POWER)
			continue; /* even judged every time it would fall short */
		/* V ascending, the measured power falls: the judged draws are v[0..open), found by
		 * bisection (v[0] is judged, the plain power having passed) */
		int open = 1, closed = QN;
		while (closed - open > 0) {
			int mid = (open + closed) / 2;
			if (grid_power(lam / sqrt(v[mid]), crit, v) >= CM_SICK_POWER)
				open = mid + 1;
			else
				closed = mid;
		}
		double p = 0;
		for (int i = 0; i < open; i++)
			p += reject_given(lam, crit, v[i]);
		if (p / QN >= CM_SICK_POWER + CM_SICK_MARGIN)
			return K;
	}
	return CM_SICK_MAX_K + 1;
}

/* Hosts whose change is off the others': each host's change against the mean of the others',
 * with the standard error both get from their session counts and the session variance pooled
 * over hosts and sides, a t on that variance's df, two-sided at Sidak's level over the r
 * hosts. The most extreme judged host is flagged when beyond that and beyond floor, then the
 * rest are judged again without it (so a sick host does not drag the healthy ones off their
 * mean), at the same level, while 3 or more remain. A host is judged only where the test can
 * see a CM_SICK_SIZE host at CM_SICK_POWER (else needs: the sessions that would). Levels are
 * not judged: hosts differ in level by nature, and the change is measured within each. */
static void flag_sick(const double *mb, const int *hb, size_t kb, const double *mc,
		      const int *hc, size_t kc, struct cm_hosts *out, double floor)
{
	double df, s2 = session_var(mb, hb, kb, mc, hc, kc, out, &df), v[QN];
	size_t r = 0;
	for (size_t j = 0; j < out->n; j++)
		r += !isnan(out->h[j].rel);
	if (r < 3)
		return; /* two hosts: which one is off cannot be told */
	if (!(df >= 1) || !(s2 > 0)) {
		out->needs = 2; /* one session a side: the sessions' noise is not measured */
		return;
	}
	out->session_sd = sqrt(s2);
	double crit = gsl_cdf_tdist_Qinv(sick_level(r) / 2, df);
	v_grid(df, v);
	for (size_t left = r;; left--) {
		size_t best = out->n;
		double bt = 0, sum = 0, vsum = 0;
		for (size_t j = 0; j < out->n; j++) {
			const struct cm_host_stat *h = &out->h[j];
			if (!isnan(h->rel) && !h->sick)
				sum += log1p(h->rel), vsum += 1.0 / (double)h->kb + 1.0 / (double)h->kc;
		}
		if (left < 3)
			return;
		for (size_t j = 0; j < out->n; j++) {
			struct cm_host_stat *h = &out->h[j];
			if (isnan(h->rel) || h->sick)
				continue;
			double own = 1.0 / (double)h->kb + 1.0 / (double)h->kc, d = log1p(h->rel);
			double diff = d - (sum - d) / (double)(left - 1);
			double se = sqrt(s2 * (own + (vsum - own) / ((double)(left - 1) * (double)(left - 1))));
			if (left == r) { /* the design is judged once, on every host */
				h->judged = grid_power(log1p(CM_SICK_SIZE) / se, crit, v) >= CM_SICK_POWER;
				if (!h->judged && !out->needs)
					out->needs = cm_stats_sick_design(r, out->session_sd);
			}
			if (h->judged && fabs(diff) / se > bt && fabs(diff) > floor)
				bt = fabs(diff) / se, best = j;
		}
		if (best == out->n || !(bt > crit))
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
	out->session_sd = NAN;
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
