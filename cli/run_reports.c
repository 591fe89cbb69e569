/* A run's header and reports, written as its cases complete and at its end: the report model
 * is kept from one rewrite to the next (cm_report_live_write formats the cases that changed
 * and concatenates the others), and meta.csv is replaced only when the header changed. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "coldmark/harness.h"
#include "coldmark/profile.h"
#include "coldmark/report.h"
#include "coldmark/runner.h"

/* Header items known only once boots ran, into the run's header and its stored copies. */
static void late_meta(struct cm_runner *rn, const struct cm_perf *perf, const char *drop_used)
{
	char fired[128] = "";
	if (perf)
		cm_perf_first_entry_fired(perf, true, fired, sizeof(fired));
	const char *items[][2] = { { CM_HDR(CACHE_DROP), drop_used },
				   { CM_HDR(FIRST_ENTRY_FIRED), perf ? (*fired ? fired : "none") : NULL } };
	for (size_t i = 0; i < 2; i++) {
		if (!items[i][1])
			continue;
		cm_runner_meta(rn, items[i][0], items[i][1]);
	}
	if (rn->m->profile) { /* issue 28: what was counted, and what this host never shows */
		char *text = cm_profile_header(perf);
		cm_runner_meta(rn, CM_HDR(PROFILE), text);
		free(text);
	}
}

int cm_run_save(struct cm_run_out *o, struct cm_runner *rn, const struct cm_perf *perf,
		struct cm_rundir *rd, struct cm_dataset *ds, bool during)
{
	late_meta(rn, perf, rn->drop_used);
	/* meta.csv again only when an item changed (it lists every case: rewritten after each
	 * case it was a file of O(cases) formatted and replaced per case for nothing) */
	uint64_t h = cm_dataset_meta_hash(ds);
	if (!o->meta_saved || o->meta_hash != h || o->meta_n != ds->nmeta) {
		struct cm_error e;
		int rc = cm_runner_save_meta(rd, ds, &e);
		if (rc) {
			fprintf(stderr, "coldmark run: %s\n", e.msg);
			cm_report_live_update(&o->live, ds, CM_DEFAULT_ALPHA); /* for the terminal */
			return rc;
		}
		o->meta_saved = true, o->meta_hash = h, o->meta_n = ds->nmeta;
	}
	struct cm_diags d = { 0 };
	int err = cm_report_live_write(&o->live, ds, CM_DEFAULT_ALPHA, o->outdir, o->formats,
				       during, &d);
	if (err) {
		cm_diags_print(&d, stderr);
		fprintf(stderr, "coldmark run: the reports could not be written; the run stops here "
				"(the samples are kept: coldmark report %s rebuilds them)\n",
			o->outdir);
	}
	cm_diags_clear(&d);
	return err ? CM_EXIT_OUTPUT : 0;
}

void cm_run_out_free(struct cm_run_out *o)
{
	cm_report_live_free(&o->live);
	o->meta_saved = false;
}
