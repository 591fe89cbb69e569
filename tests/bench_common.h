/* What the store benchmarks (bench_store, bench_summary) share: their repeatable noise, the
 * store opened, and a run begun the same way (cases c0000.., meta date and host). */
#ifndef COLDMARK_TESTS_BENCH_COMMON_H
#define COLDMARK_TESTS_BENCH_COMMON_H

#include "coldmark/store.h"

/* A repeatable noise in [-1, 1] from the state *s. */
double bench_noise(unsigned long *s);
/* The store at target; NULL having said why, as prog. */
struct cm_store *bench_open(const char *prog, const char *target);
/* ds made with cases cases (axis "case", labels c0000, c0001, ...) and meta date and host
 * "bench-host"; run_id of tag begun in st with it. cm_store_begin_run's result. */
int bench_begin_run(struct cm_store *st, struct cm_dataset *ds, int cases, const char *run_id,
		    const char *tag, const char *date);

#endif
