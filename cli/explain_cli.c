/* compare's explanation (issue 28): the sides' profiles (run folders' profile.csv, or the
 * store's profile table for a tag or run id) into the comparison's rows, before a writer
 * writes them. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "cli.h"
#include "coldmark/analysis.h"
#include "coldmark/profile.h"
#include "coldmark/store.h"

/* ref's profile.csv: in the run folder, or beside the samples.csv given; NULL: none there. */
static char *profile_path(const char *ref)
{
	struct stat sb;
	char *p;
	if (stat(ref, &sb))
		return NULL;
	if (S_ISDIR(sb.st_mode)) {
		p = cm_xasprintf("%s/profile.csv", ref);
	} else {
		const char *slash = strrchr(ref, '/');
		p = slash ? cm_xasprintf("%.*s/profile.csv", (int)(slash - ref), ref)
			  : cm_xstrdup("profile.csv");
	}
	if (!stat(p, &sb))
		return p;
	free(p);
	return NULL;
}

/* A tag or run id: the store's profile table, every run of a tag in one side (each run's
 * sessions kept apart, as the samples are). 0, or -1 with err set. */
static int store_profile(const struct cm_cli *cli, const char *ref, struct cm_profile_data *d,
			 struct cm_error *err)
{
	struct cm_store *s = cm_store_open_existing(cm_cli_db(cli), err);
	if (!s)
		return -1;
	char **ids = NULL;
	size_t n = 0;
	int rc = cm_store_resolve_all(s, ref, &ids, &n);
	for (size_t i = 0; !rc && i < n; i++)
		if ((rc = cm_store_load_profile(s, ids[i], (int)i * 1000000, d)))
			cm_error_set(err, CM_ERR(CM_EIO), "%s: the store's profile of run %s: %s", ref,
				     ids[i], cm_store_error(s));
	for (size_t i = 0; i < n; i++)
		free(ids[i]);
	free(ids);
	cm_store_close(s);
	return rc ? -1 : 0; /* a ref the store does not know: compare itself said so */
}

/* A side's profile into d: its run folder's profile.csv, or the store's rows of the tag or run
 * id. 0 (d->n == 0: none), or -1 with err set. */
static int side_profile(const struct cm_cli *cli, const char *ref, struct cm_profile_data *d,
			struct cm_error *err)
{
	memset(d, 0, sizeof(*d));
	struct stat sb;
	if (stat(ref, &sb))
		return store_profile(cli, ref, d, err);
	char *p = profile_path(ref);
	int rc = p ? cm_profile_load(p, d, err) : 0;
	free(p);
	return rc;
}

/* 0; the explanations are in r's rows, or nothing is when a side has no profile (said, when
 * --explain asked). CM_EXIT_USAGE for a profile that cannot be read. */
int cm_compare_explain(const struct cm_cli *cli, struct cm_cmp_result *r)
{
	bool all = cm_cli_flag(cli, "explain");
	if (cli->npos != 2)
		return 0;
	struct cm_profile_data d[2] = { 0 };
	struct cm_error e = { 0 };
	int rc = 0;
	for (int i = 0; i < 2 && !rc; i++)
		if (side_profile(cli, cli->pos[i], &d[i], &e)) {
			fprintf(stderr, "coldmark compare: %s\n", e.msg);
			rc = CM_EXIT_USAGE;
		} else if (!d[i].n) {
			if (all)
				fprintf(stderr, "note: --explain: %s has no profile (run it with "
						"--profile)\n", cli->pos[i]);
			rc = -1;
		}
	if (!rc)
		cm_explain(r, &d[0], &d[1], all);
	cm_profile_data_free(&d[0]);
	cm_profile_data_free(&d[1]);
	return rc > 0 ? rc : 0;
}

char *cm_profile_header(const struct cm_perf *perf)
{
	const char *why;
	const struct cm_profile *p = cm_perf_profile(perf, &why);
	if (!p)
		return cm_xasprintf("not measured: %s", perf ? why : "perf is not open (no KVM case "
								    "or no perf): not measurable with debugcon");
	return cm_xasprintf("%s per phase (KVM cases; TCG cases: not measurable with debugcon)%s",
			    cm_profile_events(p),
			    cm_profile_exit_fired(p) ? ""
			    : "; kvm:kvm_exit never fired on this host (nested KVM): no exit reasons");
}
