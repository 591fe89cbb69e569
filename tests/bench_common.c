/* The store benchmarks' shared set-up (bench_common.h). */
#include <stdio.h>

#include "bench_common.h"

double bench_noise(unsigned long *s)
{
	*s = *s * 6364136223846793005UL + 1442695040888963407UL;
	return (double)(*s >> 11) / (double)(1UL << 53) * 2 - 1;
}

struct cm_store *bench_open(const char *prog, const char *target)
{
	struct cm_error err = { 0 };
	struct cm_store *st = cm_store_open(target, &err);
	if (!st)
		fprintf(stderr, "%s: %s\n", prog, err.msg);
	return st;
}

int bench_begin_run(struct cm_store *st, struct cm_dataset *ds, int cases, const char *run_id,
		    const char *tag, const char *date)
{
	char *axes[] = { "case" }, label[16];
	cm_dataset_init(ds, axes, 1);
	for (int c = 0; c < cases; c++) {
		char *l[] = { label };
		snprintf(label, sizeof(label), "c%04d", c);
		cm_dataset_case(ds, label, l);
	}
	cm_dataset_meta(ds, "date", date);
	cm_dataset_meta(ds, "host", "bench-host");
	return cm_store_begin_run(st, run_id, tag, ds);
}
