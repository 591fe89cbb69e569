/* Order statistics of the pairwise differences x_i - y_j without listing them: the
 * Hodges-Lehmann shift and its CI took nx * ny doubles (a compare of 4,000 boots a side:
 * 16 M differences a cell; 10^5 boots: 80 GB). */
#include <gsl/gsl_sort.h>
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "coldmark/stats.h"
#include "coldmark/util.h"

/* A double's bits as an integer in the order the stats' radix sort puts them */
static uint64_t key(double d)
{
	uint64_t u;
	memcpy(&u, &d, 8);
	return u >> 63 ? ~u : u | (1ULL << 63);
}

static double unkey(uint64_t a)
{
	uint64_t u = a >> 63 ? a & ~(1ULL << 63) : ~a;
	double d;
	memcpy(&d, &u, 8);
	return d;
}

/* How many of the computed differences have a key <= k. x and y ascending: fl(x_i - y_j)
 * grows with x_i and falls with y_j (rounding is monotone), so those of row i are a suffix
 * of the j's, a suffix that only shrinks as i grows: one pass over both. */
static size_t count_le(const double *x, size_t nx, const double *y, size_t ny, uint64_t k)
{
	size_t n = 0, j = 0;
	for (size_t i = 0; i < nx; i++) {
		while (j < ny && key(x[i] - y[j]) > k)
			j++;
		n += ny - j;
	}
	return n;
}

bool cm_stats_diff_order_stats(const double *x, size_t nx, const double *y, size_t ny,
			       const size_t *rank, size_t nrank, double *out)
{
	if (!nx || !ny)
		return false;
	for (size_t i = 0; i < nx + ny; i++) { /* -0 would make a -0 difference: sorts apart */
		double v = i < nx ? x[i] : y[i - nx];
		if (!isfinite(v) || (v == 0 && signbit(v)))
			return false;
	}
	double *sx = cm_xmalloc(nx * sizeof(double)), *sy = cm_xmalloc(ny * sizeof(double));
	memcpy(sx, x, nx * sizeof(double));
	memcpy(sy, y, ny * sizeof(double));
	gsl_sort(sx, 1, nx);
	gsl_sort(sy, 1, ny);
	uint64_t lo0 = key(sx[0] - sy[ny - 1]), hi0 = key(sx[nx - 1] - sy[0]);
	for (size_t r = 0; r < nrank; r++) {
		/* the smallest key with more than rank[r] differences at or below it is the key of
		 * the rank[r]-th difference (from 0): the count steps only at differences */
		uint64_t lo = lo0, hi = hi0;
		while (lo < hi) {
			uint64_t mid = lo + (hi - lo) / 2;
			if (count_le(sx, nx, sy, ny, mid) > rank[r])
				hi = mid;
			else
				lo = mid + 1;
		}
		out[r] = unkey(lo);
	}
	free(sx), free(sy);
	return true;
}
