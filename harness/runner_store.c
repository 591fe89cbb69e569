/* The runner's batches: every boot is written whole to both journals (samples.csv,
 * events.csv) before the next starts, and the boots gathered since the last batch are
 * synced to the disk (the journals' sync thread) and put in the stores (the store: a file,
 * or a server-backed run's local journal.db; then a server's shared store) in one go, once a
 * second has passed since the last batch (COLDMARK_BATCH_MS; 0: a batch a boot; the first
 * comes a second after the loop began) and at the loop's end, whatever ended it. Issue 25
 * item 6: a transaction and two fdatasyncs a boot were most of coldmark's own CPU a boot
 * (~170 + ~85 of ~470 us in 60-boot TCG runs: SQLite's code and the kernel's sync path cold
 * after qemu's ~70 ms on the core, paid at every boot); a batch pays them once a second.
 * What a kill -9 leaves: the journals every finished boot, the store every boot up to its
 * last batch (--resume and sync put the rest in, cm_store_add_missing). What a power cut
 * takes back: at most the boots since the last batch and the one in flight; a batch is on
 * the disk before any store has it. A batch the store refuses stops the run (exit 4) naming
 * its boots, which stay in the journals. */
#define _GNU_SOURCE
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "coldmark/harness.h"
#include "coldmark/rundir.h"
#include "coldmark/runner.h"
#include "coldmark/store.h"
#include "runner_int.h"

#define BATCH_EVERY_NS 1000000000LL /* a batch a second: ~15 boots of the bundled guest */

void cm_runner_journal_only(struct cm_error *e, const char *shown, const char *why,
			    const char *rundir)
{
	cm_error_set(e, CM_ERR(CM_EIO), "the shared store %s %s: from here on the boots are kept in "
			"%s/%s only; upload them later with: coldmark sync %s --db URL",
		shown, why, rundir, CM_RUN_JOURNAL_DB, rundir);
}

/* A boot as the progress line names it: "default boot 3", "default warm-up boot 1". */
static void boot_name(const struct cm_sample_row *row, char *buf, size_t n)
{
	snprintf(buf, n, "%s %sboot %d", row->case_id, row->warmup ? "warm-up " : "", row->boot);
}

/* Rows [from, n) for a message: "default boot 3", or "15 boots (default boot 3 the first,
 * c2 boot 5 the last, in the plan's order)"; how many boots they are. Made only when a batch
 * failed. */
static size_t batch_name(const struct cm_runner *r, size_t from, char *buf, size_t n)
{
	const struct cm_sample_row *rows = r->ds->rows;
	size_t boots = 0; /* a boot's rows are one after another: count where the boot changes */
	for (size_t i = from; i < r->ds->n; i++)
		boots += i == from || rows[i].boot != rows[i - 1].boot ||
			 rows[i].case_idx != rows[i - 1].case_idx || rows[i].warmup != rows[i - 1].warmup;
	char first[200], last[200];
	boot_name(&rows[from], first, sizeof(first));
	boot_name(&rows[r->ds->n - 1], last, sizeof(last));
	if (boots == 1)
		snprintf(buf, n, "%s", first);
	else
		snprintf(buf, n, "%zu boots (%s the first, %s the last, in the plan's order)", boots,
			 first, last);
	return boots;
}

/* The shared store that fails a write is given up for the rest of the run. Out of reach (the
 * connection gone, or no answer in time): nothing is lost, the local journal.db has every
 * boot, coldmark sync uploads them later, said once. Refused (the server answered no: no
 * right to write, a column or table gone, a trigger that raises): the run stops (exit 4) with
 * the server's reason, as a local store that refuses a boot does. CM_RUNNER_OUTPUT then. */
static int shared_failed(struct cm_runner *r, const char *what)
{
	char why[700], *reason = cm_redact(cm_store_error(r->shared));
	if (cm_store_lost(r->shared)) {
		snprintf(why, sizeof(why), "did not take %s (%s)", what, reason);
		struct cm_error e;
		cm_runner_journal_only(&e, r->shared_name, why, r->rd->path);
		cm_runner_say(r, &e);
	} else {
		cm_runner_sayf(r, "the shared store %s refused %s: %s. The run stops here: "
				"every boot so far is in %s/%s and %s/%s (continue with --resume %s once "
				"the store takes them)",
			r->shared_name, what, reason, r->rd->path, CM_RUN_JOURNAL_DB, r->rd->path,
			CM_RUN_SAMPLES, r->rd->path);
		r->shared_refused = true;
	}
	free(reason);
	cm_store_close(r->shared);
	r->shared = NULL;
	return r->shared_refused ? CM_RUNNER_OUTPUT : 0;
}

/* The run goes to the shared store with its first batch: its header, cases and every boot
 * the store lacks in one transaction (a store that refuses the run is never left with an
 * empty run row); after that batch by batch (rows from first_row on). */
static int share(struct cm_runner *r, size_t first_row)
{
	if (!r->shared)
		return 0;
	char name[512];
	const char *what = name;
	if (r->shared_begun) {
		if (!cm_store_add_rows(r->shared, r->run_id, r->ds, first_row, r->ds->n))
			return 0;
		batch_name(r, first_row, name, sizeof(name)); /* named only now that they failed */
	} else {
		what = "the run (its header, its cases and every boot so far)";
		struct cm_store_copied c = { 0 };
		/* a new run's id already there is another run's: refused, never joined */
		if (!(r->shared_fresh ? cm_store_copy_new_run : cm_store_copy_run)(r->store, r->shared,
										   r->run_id, &c)) {
			r->shared_begun = true;
			return 0;
		}
	}
	return shared_failed(r, what);
}

int cm_runner_meta(struct cm_runner *r, const char *key, const char *val)
{
	cm_dataset_meta(r->ds, key, val);
	if (r->store)
		cm_store_set_meta(r->store, r->run_id, key, val);
	/* before the run is there, its first batch's copy brings the header along */
	if (r->shared && r->shared_begun && cm_store_set_meta(r->shared, r->run_id, key, val))
		return shared_failed(r, key);
	return 0;
}

int cm_runner_share_rest(struct cm_runner *r)
{
	/* a resumed run with no boot left still brings the server what it lacks */
	if (r->shared && !r->shared_begun && r->ds->n)
		return share(r, r->ds->n);
	return 0;
}

void cm_runner_batch_start(struct cm_runner *r)
{
	r->batch_from = r->ds->n; /* a resumed run's earlier rows: cm_store_add_missing's */
	/* the first batch a period after the loop begins, not with the first boot: a short run
	 * pays one batch less (the store took the run and its cases at the start, so a store
	 * that refuses writes has said so already) */
	r->batch_at = r->clock();
	r->store_refused = false;
	r->batch_every_ns = BATCH_EVERY_NS;
	const char *e = getenv("COLDMARK_BATCH_MS");
	if (!e || !*e)
		return;
	char *end;
	long long ms = strtoll(e, &end, 10);
	if (*end || end == e)
		cm_runner_sayf(r, "COLDMARK_BATCH_MS=%s is not a number of milliseconds: a batch a "
				  "second", e);
	else if (ms < 0 || ms > 3600000)
		cm_runner_sayf(r, "COLDMARK_BATCH_MS=%s is out of range (0 to 3600000 ms, an hour): "
				  "a batch a second", e);
	else
		r->batch_every_ns = ms * 1000000LL;
}

/* The journals' last batch on the disk, or the run stops: its boots are in them but may not
 * be on the disk, and no store has them. */
static int synced(struct cm_runner *r, size_t from, bool end)
{
	cm_rundir_sync(r->rd);
	int err = cm_rundir_synced(r->rd);
	if (!err)
		return 0;
	char what[512];
	size_t boots = batch_name(r, from, what, sizeof(what));
	cm_runner_sayf(r, "cannot sync %s/%s and %s to the disk (%s): the run %s (exit 4); %s %s "
			  "in them but may not be on the disk, and in no store",
		       r->rd->path, CM_RUN_SAMPLES, CM_RUN_EVENTS, strerror(-err),
		       end ? "ends" : "stops here", what, boots == 1 ? "is" : "are");
	return CM_RUNNER_OUTPUT;
}

/* The rows since the last batch to the disk (the journals' sync thread; waited for, so
 * that no store ever holds a boot a power cut could take from the journals: a --resume would
 * boot it again, and the store's key would keep the lost attempt's times), then into the
 * store and the shared store. */
static int batch(struct cm_runner *r, bool end)
{
	size_t from = r->batch_from, n = r->ds->n;
	if (from >= n)
		return 0;
	r->batch_from = n;
	r->batch_at = r->clock();
	int rc = synced(r, from, end);
	if (rc || r->store_refused)
		return rc;
	if (r->store && cm_store_add_rows(r->store, r->run_id, r->ds, from, n)) {
		char what[512];
		size_t boots = batch_name(r, from, what, sizeof(what));
		cm_runner_sayf(r, "the results store %s did not take %s (%s); the run %s (exit 4): "
				  "%s in %s/%s and %s, each boot before in the store too (--resume "
				  "%s puts %s in once the store takes %s)",
			       r->db_path, what, cm_store_error(r->store), end ? "ends" : "stops here",
			       boots == 1 ? "it is" : "they are", r->rd->path, CM_RUN_SAMPLES,
			       CM_RUN_EVENTS, r->rd->path, boots == 1 ? "it" : "them",
			       boots == 1 ? "it" : "them");
		r->store_refused = true;
		return CM_RUNNER_OUTPUT;
	}
	return share(r, from);
}

int cm_runner_batch_boot(struct cm_runner *r)
{
	if (r->clock() - r->batch_at < r->batch_every_ns)
		return 0;
	return batch(r, false);
}

int cm_runner_batch_end(struct cm_runner *r)
{
	return batch(r, true);
}
