/* The store at scale (printed by scripts/bench-store.sh; asserts nothing): two tags of
 * CASES cases x SESSIONS sessions (one run each, as a fleet's replicates) x BOOTS boots, six
 * rows a boot (three phases, total and the two host-cost metrics), written as a run writes
 * them: one transaction per boot. Prints rows per second and the store's bytes per million
 * rows. Deterministic: the same store every time. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bench_common.h"
#include "coldmark/store.h"

static const char *const phases[] = { "firmware", "mode_switch", "work", "total", "qemu_cpu",
				      "qemu_maxrss" };

static int one_run(struct cm_store *st, const char *tag, int session, int cases, int boots,
		   double slower, size_t *rows)
{
	char run_id[64], date[64], sid[16];
	struct cm_dataset ds;
	snprintf(run_id, sizeof(run_id), "%s-s%d", tag, session);
	snprintf(date, sizeof(date), "2026-11-%02d 02:00:00 +0000", 1 + session + (slower > 0) * 10);
	if (bench_begin_run(st, &ds, cases, run_id, tag, date))
		return -1;
	snprintf(sid, sizeof(sid), "%d", session);
	cm_dataset_session(&ds, sid, "bench-host");
	unsigned long seed = (unsigned long)session * 7919 + (slower > 0);
	for (int c = 0; c < cases; c++)
		for (int b = 1; b <= boots; b++) {
			size_t from = ds.n;
			double scale =
				exp(0.03 * bench_noise(&seed)) * (c % 10 == 0 ? 1 + slower : 1);
			for (size_t p = 0; p < 6; p++)
				cm_dataset_add(&ds, ds.cases[c].id, (session - 1) * boots + b, false, "ok",
					       phases[p], (p == 5 ? 5e7 : 1e8 / (double)(p + 1)) * scale,
					       "perf", "drop_caches");
			if (cm_store_add_rows(st, run_id, &ds, from, ds.n))
				return -1;
			*rows += ds.n - from;
			cm_dataset_truncate(&ds, 0); /* the rows are in the store: keep memory flat */
		}
	cm_dataset_free(&ds);
	return 0;
}

int main(int argc, char **argv)
{
	if (argc != 5) {
		fprintf(stderr, "usage: bench_store TARGET CASES SESSIONS BOOTS\n");
		return 2;
	}
	int cases = atoi(argv[2]), sessions = atoi(argv[3]), boots = atoi(argv[4]);
	struct cm_store *st = bench_open("bench_store", argv[1]);
	if (!st)
		return 1;
	size_t rows = 0;
	int64_t t0 = cm_now_ns();
	for (int s = 1; s <= sessions; s++)
		if (one_run(st, "bench-a", s, cases, boots, 0, &rows) ||
		    one_run(st, "bench-b", s, cases, boots, 0.05, &rows)) {
			fprintf(stderr, "bench_store: %s\n", cm_store_error(st));
			return 1;
		}
	double secs = (double)(cm_now_ns() - t0) / 1e9;
	int64_t bytes = cm_store_bytes(st);
	printf("%s: %zu rows (%zu boots, one transaction each) in %.1f s: %.0f rows/s, %.0f "
	       "boots/s; %.1f MiB, %.0f bytes a row, %.0f MiB per million rows\n",
	       cm_store_backend(st), rows, rows / 6, secs, (double)rows / secs,
	       (double)rows / 6 / secs, (double)bytes / 1048576, (double)bytes / (double)rows,
	       (double)bytes / (double)rows * 1e6 / 1048576);
	cm_store_close(st);
	return 0;
}
