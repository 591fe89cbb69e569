/* A cell's median for compare (issue 25): gsl's median of the sorted times, exactly, without
 * sorting or copying them all. Private to analysis/ (and its test). */
#ifndef CM_COMPARE_MEDIAN_H
#define CM_COMPARE_MEDIAN_H
#include <stddef.h>

/* gsl_stats_quantile_from_sorted_data(sorted x, 1, n, 0.5), bit for bit, for times without
 * NaN or a zero of either sign among the middle ones (there, the selection it replaced, bit
 * for bit: compare_median.c); NAN when n is 0. x is not changed. */
double cm_compare_median(const double *x, size_t n);

#endif
