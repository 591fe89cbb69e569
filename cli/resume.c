/* --resume: the run's own plan comes back from its meta.csv, and a resume that would boot
 * something else than the run began with (other cases, command lines, phases, markers, guest,
 * qemu, or another store) is refused before anything is opened or booted. */
#define _GNU_SOURCE
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "coldmark/harness.h"
#include "coldmark/report.h"
#include "coldmark/rundir.h"
#include "coldmark/store.h"

void cm_run_store_name(const char *db, char *out, size_t n)
{
	if (cm_store_is_url(db)) {
		cm_store_redact(db, out, n);
		return;
	}
	/* a file by its real path: "coldmark.db" from two folders are two stores */
	char *real = realpath(db, NULL);
	if (!real) { /* not there yet: its folder's real path and its name */
		char *dir = cm_xstrdup(db), *slash = strrchr(dir, '/');
		if (slash)
			*slash = 0;
		char *rdir = realpath(!slash ? "." : *dir ? dir : "/", NULL);
		if (rdir)
			real = cm_xasprintf("%s/%s", strcmp(rdir, "/") ? rdir : "", slash ? slash + 1 : db);
		free(rdir), free(dir);
	}
	snprintf(out, n, "%s", real ? real : db);
	free(real);
}

int cm_resume_plan(const char *dir, struct cm_matrix *m, struct cm_dataset *old, char *run_id,
		   size_t n)
{
	char *mp = cm_xasprintf("%s/%s", dir, CM_RUN_META);
	cm_dataset_init(old, NULL, 0);
	const char *planv = !cm_meta_read(mp, old) ? cm_dataset_get_meta(old, CM_HDR(PLAN)) : NULL;
	const char *runv = cm_dataset_get_meta(old, CM_HDR(RUN));
	free(mp);
	if (!planv || !runv || cm_rundir_plan_parse(planv, m)) {
		fprintf(stderr, "coldmark run: %s is not a coldmark run folder to resume "
				"(no meta.csv with its plan)\n",
			dir);
		return CM_EXIT_USAGE;
	}
	snprintf(run_id, n, "%s", runv);
	return 0;
}

int cm_resume_check(const char *dir, const struct cm_dataset *old, const struct cm_matrix *m,
		    const char *qemu, const char *db)
{
	struct cm_dataset now;
	char store[1024], **diffs;
	cm_dataset_init(&now, NULL, 0);
	cm_run_store_name(db, store, sizeof(store));
	cm_header_host(&now, m, qemu);
	cm_header_plan(&now, m, store);
	/* the cases' hashes: plan.csv, or the header of a run from before it (by then they were
	 * header rows) */
	struct cm_dataset old_plan, now_plan;
	cm_dataset_init(&old_plan, NULL, 0);
	cm_dataset_init(&now_plan, NULL, 0);
	char *pp = cm_xasprintf("%s/%s", dir, CM_RUN_PLAN);
	bool planned = !cm_header_case_plan_read(pp, &old_plan);
	free(pp);
	cm_header_case_hashes(&now_plan, m);
	size_t n = cm_header_resume_diffs(old, &now, planned ? &old_plan : old, &now_plan, &diffs);
	cm_dataset_free(&old_plan);
	cm_dataset_free(&now_plan);
	if (n)
		fprintf(stderr, "coldmark run: --resume %s: refused, this resume differs from the "
				"run's plan (its meta.csv) in %zu thing%s:\n",
			dir, n, n > 1 ? "s" : "");
	for (size_t i = 0; i < n; i++) {
		fprintf(stderr, "  %s\n", diffs[i]);
		free(diffs[i]);
	}
	if (n)
		fprintf(stderr, "coldmark run: resume with the matrix, guest and store the run began "
				"with, or start a new run (-o another folder)\n");
	free(diffs);
	cm_dataset_free(&now);
	return n ? CM_EXIT_USAGE : 0;
}
