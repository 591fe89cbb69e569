/* compare's explanation (issue 28): the sides' profile.csv (run folders made with --profile)
 * into the comparison's rows, before a writer writes them. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "cli.h"
#include "coldmark/analysis.h"
#include "coldmark/profile.h"

/* ref's profile.csv: in the run folder, or beside the samples.csv given; NULL: none there. */
static char *profile_path(const char *ref)
{
	struct stat sb;
	if (stat(ref, &sb))
		return NULL; /* a tag or run id in the store: the store has no profile yet */
	char *p;
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

/* 0; the explanations are in r's rows, or nothing is when a side has no profile (said, when
 * --explain asked). CM_EXIT_USAGE for a profile.csv that cannot be read. */
int cm_compare_explain(const struct cm_cli *cli, struct cm_cmp_result *r)
{
	bool all = cm_cli_flag(cli, "explain");
	if (cli->npos != 2)
		return 0;
	char *pb = profile_path(cli->pos[0]), *pc = profile_path(cli->pos[1]);
	int rc = 0;
	if (!pb || !pc) {
		if (all)
			fprintf(stderr, "note: --explain: %s has no profile.csv (run it with --profile)\n",
				!pb ? cli->pos[0] : cli->pos[1]);
	} else {
		struct cm_profile_data b, c;
		struct cm_error e = { 0 };
		if (cm_profile_load(pb, &b, &e) || cm_profile_load(pc, &c, &e)) {
			fprintf(stderr, "coldmark compare: %s\n", e.msg);
			if (b.rows)
				cm_profile_data_free(&b);
			rc = CM_EXIT_USAGE;
		} else {
			cm_explain(r, &b, &c, all);
			cm_profile_data_free(&b);
			cm_profile_data_free(&c);
		}
	}
	free(pb);
	free(pc);
	return rc;
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
