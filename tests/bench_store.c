/* The store at scale (printed by scripts/bench-store.sh; asserts nothing): two tags of
 * CASES cases x SESSIONS sessions (one run each, as a fleet's replicates) x BOOTS boots, six
 * rows a boot (three phases, total and the two host-cost metrics), written as a run writes
 * them: one transaction per boot. Prints rows per second and the store's bytes per million
 * rows. Deterministic: the same store every time. With COLD_MB, that much memory is walked
 * between boots (not timed), as qemu's ~80 ms on the core leaves the caches and the TLB to
 * coldmark's next transaction: a real run's store part (COLDMARK_CPU_REPORT's store_ns) is
 * the cold figure (~3x the warm one), not the warm one. Prints the median thread CPU of a
 * boot's transaction either way. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "bench_common.h"
#include "coldmark/store.h"

static const char *const phases[] = { "firmware", "mode_switch", "work", "total", "qemu_cpu",
				      "qemu_maxrss" };

static unsigned char *junk; /* COLD_MB of it, walked between boots */
static size_t njunk;
static int64_t *cost; /* each boot's thread CPU in cm_store_add_rows */
static size_t ncost;
static int64_t walked; /* wall time of the walks, not the store's */

static int64_t thread_ns(void)
{
	struct timespec t;
	clock_gettime(CLOCK_THREAD_CPUTIME_ID, &t);
	return (int64_t)t.tv_sec * 1000000000 + t.tv_nsec;
}

static int by_value(const void *a, const void *b)
{
	int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
	return x < y ? -1 : x > y;
}

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
			int64_t w = cm_now_ns();
			for (size_t i = 0; i < njunk; i += 64)
				junk[i]++;
			walked += cm_now_ns() - w;
			int64_t t0 = thread_ns();
			if (cm_store_add_rows(st, run_id, &ds, from, ds.n))
				return -1;
			cost[ncost++] = thread_ns() - t0;
			*rows += ds.n - from;
			cm_dataset_truncate(&ds, 0); /* the rows are in the store: keep memory flat */
		}
	cm_dataset_free(&ds);
	return 0;
}

int main(int argc, char **argv)
{
	if (argc != 5 && argc != 6) {
		fprintf(stderr, "usage: bench_store TARGET CASES SESSIONS BOOTS [COLD_MB]\n");
		return 2;
	}
	int cases = atoi(argv[2]), sessions = atoi(argv[3]), boots = atoi(argv[4]);
	int cold_mb = argc == 6 ? atoi(argv[5]) : 0;
	if (cases < 1 || sessions < 1 || boots < 1 || cold_mb < 0 || cold_mb > 4096) {
		fprintf(stderr, "bench_store: CASES, SESSIONS, BOOTS from 1, COLD_MB 0..4096\n");
		return 2;
	}
	njunk = (size_t)cold_mb << 20;
	junk = njunk ? cm_xcalloc(njunk, 1) : NULL;
	cost = cm_xmalloc(2 * (size_t)cases * (size_t)sessions * (size_t)boots * sizeof(*cost));
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
	double secs = (double)(cm_now_ns() - t0 - walked) / 1e9;
	int64_t bytes = cm_store_bytes(st);
	printf("%s: %zu rows (%zu boots, one transaction each) in %.1f s: %.0f rows/s, %.0f "
	       "boots/s; %.1f MiB, %.0f bytes a row, %.0f MiB per million rows\n",
	       cm_store_backend(st), rows, rows / 6, secs, (double)rows / secs,
	       (double)rows / 6 / secs, (double)bytes / 1048576, (double)bytes / (double)rows,
	       (double)bytes / (double)rows * 1e6 / 1048576);
	qsort(cost, ncost, sizeof(*cost), by_value);
	printf("a boot's transaction: median %.1f us of thread CPU (%s)\n",
	       (double)cost[ncost / 2] / 1e3, njunk ? "caches cold: COLD_MB walked between boots"
						    : "caches warm");
	cm_store_close(st);
	free(cost), free(junk);
	return 0;
}
