/* Beyond one host: replicates of a run on a cluster (--replicate), and moving runs between
 * stores: `coldmark sync` uploads a run folder's local journal to the shared store the run
 * could not reach, `coldmark merge` folds shard stores into one. Both are idempotent. */
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"
#include "coldmark/matrix.h"
#include "coldmark/rundir.h"
#include "coldmark/runner.h"
#include "coldmark/store.h"

const char *cm_cli_db(const struct cm_cli *cli)
{
	const char *db = cm_cli_get(cli, "db"), *env = getenv("COLDMARK_DB");
	return db ? db : env && *env ? env : CM_DEFAULT_DB;
}

static bool parse_index(const char *s, int *out)
{
	char *end;
	long v = s ? strtol(s, &end, 10) : -1;
	if (!s || !*s || *end || v < 0 || v > INT_MAX)
		return false;
	*out = (int)v;
	return true;
}

/* Slurm's array task: its id less the array's first id, over its step (--array=1-3 is 0..2,
 * --array=0-20:10 too), which must be one of the array's 0..N-1; a sparse list such as
 * --array=0,2,7 is no range over a step (refused: --replicate I/N says it). */
static bool slurm_task(const char *id, struct cm_replicate *rep)
{
	const char *min_s = getenv("SLURM_ARRAY_TASK_MIN"), *max_s = getenv("SLURM_ARRAY_TASK_MAX"),
		   *step_s = getenv("SLURM_ARRAY_TASK_STEP");
	int task, min = 0, max = 0, step = 1;
	if (!parse_index(id, &task) || (min_s && !parse_index(min_s, &min)) ||
	    (step_s && (!parse_index(step_s, &step) || step < 1)) || (max_s && !parse_index(max_s, &max)) ||
	    !parse_index(getenv("SLURM_ARRAY_TASK_COUNT"), &rep->count))
		return false;
	if (task < min || (task - min) % step || (task - min) / step >= rep->count ||
	    (max_s && (long long)max != min + (long long)step * (rep->count - 1)))
		return false;
	rep->index = (task - min) / step;
	return true;
}

/* Slurm's array task, or a Kubernetes Indexed Job's completion index (whose count the pod is
 * not told). */
static int from_environment(struct cm_replicate *rep, struct cm_error *err)
{
	const char *id = getenv("SLURM_ARRAY_TASK_ID"), *k8s = getenv("JOB_COMPLETION_INDEX");
	if (id) {
		if (!slurm_task(id, rep)) {
			cm_error_set(err, CM_ERR(CM_EUSAGE), "--replicate auto: SLURM_ARRAY_TASK_ID '%s' (with _MIN, _MAX, "
				 "_STEP, _COUNT) is not the index of one of the array's tasks (0 <= I < N "
				 "over a range with a step; a sparse array needs --replicate I/N)", id);
			return CM_EXIT_USAGE;
		}
		snprintf(rep->job, sizeof(rep->job), "slurm %s_%s",
			 getenv("SLURM_ARRAY_JOB_ID") ? getenv("SLURM_ARRAY_JOB_ID") : "?", id);
		return 0;
	}
	if (k8s) {
		if (!parse_index(k8s, &rep->index)) {
			cm_error_set(err, CM_ERR(CM_EUSAGE), "--replicate auto: JOB_COMPLETION_INDEX '%s' is not an index", k8s);
			return CM_EXIT_USAGE;
		}
		snprintf(rep->job, sizeof(rep->job), "kubernetes %s",
			 getenv("HOSTNAME") ? getenv("HOSTNAME") : "?");
		return 0;
	}
	cm_error_set(err, CM_ERR(CM_EUSAGE), "--replicate auto: neither SLURM_ARRAY_TASK_ID nor JOB_COMPLETION_INDEX "
		 "is set (not an array task): give --replicate I/N");
	return CM_EXIT_USAGE;
}

int cm_replicate_parse(const char *spec, struct cm_replicate *rep, struct cm_error *err)
{
	*rep = (struct cm_replicate){ 0 };
	if (!strcmp(spec, "auto"))
		return from_environment(rep, err);
	char idx[32] = "", cnt[32] = "";
	const char *slash = strchr(spec, '/');
	if (slash && (size_t)(slash - spec) < sizeof(idx) && strlen(slash + 1) < sizeof(cnt)) {
		memcpy(idx, spec, (size_t)(slash - spec));
		snprintf(cnt, sizeof(cnt), "%s", slash + 1);
	}
	if (!slash || !parse_index(idx, &rep->index) || !parse_index(cnt, &rep->count) ||
	    rep->index >= rep->count) {
		cm_error_set(err, CM_ERR(CM_EUSAGE), "--replicate '%s': expected auto or I/N with 0 <= I < N "
			 "(\"0/3\" is the first of three)", spec);
		return CM_EXIT_USAGE;
	}
	return 0;
}

int cm_replicate_apply(const struct cm_cli *cli, struct cm_matrix *m, struct cm_replicate *rep)
{
	const char *spec = cm_cli_get(cli, "replicate");
	struct cm_error err = { 0 };
	if (!spec)
		return 0;
	if (cm_replicate_parse(spec, rep, &err)) {
		fprintf(stderr, "coldmark run: %s\n", err.msg);
		return CM_EXIT_USAGE;
	}
	if (m->sessions > 1) {
		fprintf(stderr, "coldmark run: --replicate runs one session (the array gives the "
				"sessions); drop --sessions/run.sessions %lld\n", (long long)m->sessions);
		return CM_EXIT_USAGE;
	}
	rep->active = true;
	m->first_session = rep->index + 1;
	return 0;
}

/* The server before anything is created: one out of reach does not stop the run (said once:
 * its boots go to the run folder's journal.db), one that answers and refuses (a schema of the
 * future, no right to create the tables) does, exit 4 with its reason. */
int cm_fleet_server(const char *url, const char *outdir, struct cm_store **shared, char *shown,
		    size_t n)
{
	struct cm_error err = { 0 };
	bool lost;
	cm_redact_to(url, shown, n);
	if ((*shared = cm_store_open_lost(url, &err, &lost))) {
		if (cm_store_note(*shared)) /* a migration's count of the duplicates it removed */
			fprintf(stderr, "coldmark run: %s: %s\n", shown, cm_store_note(*shared));
		return 0;
	}
	if (!lost) {
		fprintf(stderr, "coldmark run: the shared store refused the run: %s\n", err.msg);
		return CM_EXIT_OUTPUT;
	}
	char why[1100];
	snprintf(why, sizeof(why), "is out of reach (%s)", err.msg);
	struct cm_error e;
	cm_runner_journal_only(&e, shown, why, outdir);
	fprintf(stderr, "coldmark run: %s\n", e.msg);
	return 0;
}

/* The journal: a local SQLite store in the run folder, so a run never waits on or loses
 * anything to the network. */
int cm_fleet_journal(const char *outdir, const struct cm_rundir *rd, struct cm_store **journal)
{
	struct cm_error err = { 0 };
	char *path = cm_xasprintf("%s/%s", outdir, CM_RUN_JOURNAL_DB);
	if (!cm_rundir_may_open(rd, CM_RUN_JOURNAL_DB))
		cm_error_set(&err, CM_ERR(CM_EIO), "%s: not a regular file (a link?): refused", path);
	else
		*journal = cm_store_open(path, &err);
	free(path);
	if (!*journal) {
		fprintf(stderr, "coldmark run: the run's journal cannot be used: %s\n", err.msg);
		return CM_EXIT_OUTPUT;
	}
	return 0;
}

/* A source (existing) is opened read-only and never migrated; *rc gets the exit status of a
 * failure: 2 for what is not a coldmark store (a stranger's database, an empty or folder
 * journal.db), 4 for a store that cannot be used now. */
static struct cm_store *open_or_say(const char *who, const char *target, bool existing, int *rc)
{
	struct cm_error err = { 0 };
	bool bad_input = false;
	struct cm_store *s = cm_store_open_how(target, existing ? CM_STORE_READ : CM_STORE_WRITE,
					       &bad_input, &err);
	if (!s) {
		fprintf(stderr, "coldmark %s: %s\n", who, err.msg);
		*rc = bad_input ? CM_EXIT_USAGE : CM_EXIT_OUTPUT;
	} else if (cm_store_note(s)) {
		char shown[512];
		cm_store_redact(target, shown, sizeof(shown));
		fprintf(stderr, "coldmark %s: %s: %s\n", who, shown, cm_store_note(s));
	}
	return s;
}

static void print_copied(const char *what, const char *to, const struct cm_store_copied *c)
{
	printf("%s -> %s: %zu boots added, %zu already there (%zu new runs", what, to,
	       c->boots_added, c->boots_present, c->runs_new);
	if (c->calibrations)
		printf(", %zu calibrations", c->calibrations);
	printf(")\n");
}

/* The boots of RUNDIR/samples.csv the target still lacks once journal.db is in: a run killed
 * between two of its batches has them in its journals (every boot, before the next starts)
 * and not yet in journal.db. Its run id from meta.csv. 0, or an exit status after saying why. */
static int sync_tail(const char *rundir, struct cm_store *dst, const char *shown)
{
	char *mp = cm_xasprintf("%s/%s", rundir, CM_RUN_META),
	     *sp = cm_xasprintf("%s/%s", rundir, CM_RUN_SAMPLES);
	struct cm_dataset meta, ds;
	struct cm_diags d = { 0 };
	cm_dataset_init(&meta, NULL, 0);
	const char *run = !cm_meta_read(mp, &meta) ? cm_dataset_get_meta(&meta, CM_HDR(RUN)) : NULL;
	long long added = 0;
	int rc = 0;
	if (!run || access(sp, F_OK)) {
		/* no meta.csv or samples.csv: journal.db is all there is */
	} else if (cm_samples_read_journal(sp, &ds, &d)) {
		cm_diags_print(&d, stderr);
		rc = CM_EXIT_USAGE;
	} else {
		if (cm_store_add_missing(dst, run, &ds, &added)) {
			fprintf(stderr, "coldmark sync: %s -> %s: %s\n", sp, shown, cm_store_error(dst));
			rc = CM_EXIT_OUTPUT;
		} else if (added) {
			printf("%s -> %s: %lld boots added that journal.db did not hold yet (the run "
			       "was stopped between two of its batches)\n", sp, shown, added);
		}
		cm_dataset_free(&ds);
	}
	cm_diags_clear(&d);
	cm_dataset_free(&meta);
	free(mp), free(sp);
	return rc;
}

int cm_cmd_sync(const struct cm_cli *cli)
{
	const char *rundir = cli->pos[0], *db = cm_cli_db(cli);
	char shown[512];
	cm_redact_to(db, shown, sizeof(shown));
	if (!cm_store_is_url(db))
		fprintf(stderr, "coldmark sync: note: %s is a local file; sync is for a shared "
				"(postgresql://) store, but copies there all the same\n", shown);
	char *journal = cm_xasprintf("%s/%s", rundir, CM_RUN_JOURNAL_DB), *named = cm_redact(journal);
	int rc = CM_EXIT_OUTPUT;
	struct cm_store *src = NULL, *dst = NULL;
	if (access(journal, F_OK)) {
		fprintf(stderr, "coldmark sync: %s: no journal there (only a run whose store is a "
				"postgresql:// URL keeps one; a samples.csv goes in with coldmark import)\n",
			named);
		rc = CM_EXIT_USAGE;
	} else if ((src = open_or_say("sync", journal, true, &rc)) &&
		   (dst = open_or_say("sync", db, false, &rc))) {
		struct cm_store_copied c = { 0 };
		if (cm_store_copy_all(src, dst, &c)) {
			fprintf(stderr, "coldmark sync: %s -> %s: %s (nothing of the failed run was "
					"written; sync again)\n", named, shown, cm_store_error(dst));
		} else {
			print_copied(named, shown, &c);
			rc = sync_tail(rundir, dst, shown);
		}
	}
	cm_store_close(src);
	cm_store_close(dst);
	free(journal), free(named);
	return rc;
}

int cm_cmd_merge(const struct cm_cli *cli)
{
	const char *db = cm_cli_get(cli, "db");
	if (!db) {
		fprintf(stderr, "coldmark merge: --db TARGET is required (the store the shards go "
				"into)\n");
		return CM_EXIT_USAGE;
	}
	char shown[512];
	cm_redact_to(db, shown, sizeof(shown));
	for (int i = 0; i < cli->npos; i++)
		if (!strcmp(cli->pos[i], db)) {
			fprintf(stderr, "coldmark merge: %s is both a shard and the target\n", shown);
			return CM_EXIT_USAGE;
		}
	int rc = 0;
	struct cm_store *dst = open_or_say("merge", db, false, &rc);
	if (!dst)
		return rc;
	for (int i = 0; i < cli->npos && !rc; i++) {
		struct cm_store *src = open_or_say("merge", cli->pos[i], true, &rc);
		struct cm_store_copied c = { 0 };
		char from[512];
		cm_redact_to(cli->pos[i], from, sizeof(from));
		if (!src) {
			rc = CM_EXIT_USAGE;
		} else if (cm_store_copy_all(src, dst, &c)) {
			fprintf(stderr, "coldmark merge: %s -> %s: %s (runs copied before it are in; "
					"merge again to finish)\n", from, shown, cm_store_error(dst));
			rc = CM_EXIT_OUTPUT;
		} else {
			print_copied(from, shown, &c);
		}
		cm_store_close(src);
	}
	cm_store_close(dst);
	return rc;
}
