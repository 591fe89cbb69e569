/* The interval scans of the change-point search (stats/change_scan.c): internal to stats/,
 * declared here so that tests can hold the fast scan against the plain definition. */
#ifndef CM_STATS_CHANGE_SCAN_H
#define CM_STATS_CHANGE_SCAN_H

#include <stddef.h>

/* The interval [*from, *to) of x[0..n) that differs most from the rest (circular binary
 * segmentation), every part the two cuts leave minseg long at least; returns its |t| (pooled
 * variance), -1 when there is no such interval. Exact: the interval chosen and the t returned
 * are bit for bit those of cm_cp_interval_plain, in far less than its O(n^2) time. */
double cm_cp_interval(const double *x, size_t n, size_t minseg, size_t *from, size_t *to);

/* The same by the definition: every interval scored, the first best kept. O(n^2). */
double cm_cp_interval_plain(const double *x, size_t n, size_t minseg, size_t *from, size_t *to);

/* The single split [0, *at) | [*at, n) with the largest |t|, each side minseg long at least. */
double cm_cp_split(const double *x, size_t n, size_t minseg, size_t *at);

#endif
