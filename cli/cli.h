/* The command line: every command and flag is one table entry, from which parsing, --help
 * and "did you mean" all come. */
#ifndef COLDMARK_CLI_H
#define COLDMARK_CLI_H

#include <stdbool.h>
#include <stdio.h>

#include "coldmark/analysis.h"
#include "coldmark/harness.h"

#define CM_EXIT_OK 0
#define CM_EXIT_FAILED 1    /* failed boots beyond the allowed share; a regression */
#define CM_EXIT_USAGE 2     /* usage, matrix or data error */
#define CM_EXIT_HOST 3      /* this host cannot measure what was asked */
#define CM_EXIT_OUTPUT 4    /* results could not be written (full disk, I/O error, the store) */
#define CM_EXIT_BOOTS_ONLY 5 /* compare: changes beyond the boots' noise between one-session runs
			      * with no calibration: the between-session noise is unknown */
#define CM_EXIT_INTERRUPTED 130

/* Named defaults: one place says what an option is when it is not given. */
#define CM_DEFAULT_FORMATS "csv,md,json,html"
#define CM_DEFAULT_DB "coldmark.db"

struct cm_opt {
	const char *name;    /* long name, without "--" */
	char short_name;     /* 0: none */
	const char *metavar; /* NULL: a flag without value */
	const char *help;
};

#define CM_MAX_POS 64 /* merge takes many shard stores */

/* No slot per option: the parsed words are kept, checked once by cm_cli_parse, and an option's
 * value is looked up in them (the last one given wins), so a command may have any number. */
struct cm_cli {
	const struct cm_cmd *cmd;
	char **argv;
	int argc;
	const char *pos[CM_MAX_POS];
	int npos;
};

struct cm_cmd {
	const char *name, *args, *summary;
	const struct cm_opt *opts;
	int min_pos, max_pos;
	int (*fn)(const struct cm_cli *cli);
	bool pos_stores; /* its arguments are stores (merge): they may be URLs with a password */
};

const char *cm_cli_get(const struct cm_cli *cli, const char *name);
bool cm_cli_flag(const struct cm_cli *cli, const char *name);
/* Parses argv after the command name. Returns 0, or CM_EXIT_USAGE after printing why, or -1
 * when help was printed. */
int cm_cli_parse(const struct cm_cmd *cmd, int argc, char **argv, struct cm_cli *cli);
void cm_cli_help(const struct cm_cmd *cmd, FILE *f);

/* Loads a matrix and prints its diagnostics (warnings too); NULL on error. */
struct cm_matrix *cm_cli_load_matrix(const char *path);
/* The builds "{build}" expands to in the matrices loaded from now on (bisect runs its steps
 * through run's own code); NULL: none, the placeholder is an error. */
struct cm_builds;
void cm_cli_set_builds(const struct cm_builds *b);

/* The runner's callbacks (cli/run_say.c): say prints a message, progress the line after a
 * boot (ctx points to a bool: stdout is a terminal). */
struct cm_progress;
void cm_run_say(void *ctx, const struct cm_error *e);
struct cm_matrix;
void cm_run_say_plan(const struct cm_matrix *m, const char *outdir);
void cm_run_progress(void *ctx, const struct cm_progress *p);
/* A run's reports (cli/run_reports.c): the model and text kept between rewrites. */
struct cm_run_out {
	struct cm_report live;
	bool meta_saved; /* meta.csv written, from a header of meta_n items hashing to meta_hash */
	uint64_t meta_hash;
	size_t meta_n;
	const char *outdir, *formats;
};
/* The header items known late, meta.csv (when it changed) and every report format from the
 * samples so far; during: a rewrite as a case completes (not synced). 0, or the exit status
 * after saying why (o->live is brought up to ds either way). */
struct cm_perf;
struct cm_rundir;
struct cm_runner;
int cm_run_save(struct cm_run_out *o, struct cm_runner *rn, const struct cm_perf *perf,
		struct cm_rundir *rd, struct cm_dataset *ds, bool during);
void cm_run_out_free(struct cm_run_out *o);

/* Every command, in the order --help lists them. */
extern struct cm_cmd cm_commands[]; /* run's and calibrate's options filled before main */
extern const size_t cm_ncommands;
const struct cm_cmd *cm_command(const char *name);

/* Exit statuses and what they mean: --help, the man page and README say the same. */
struct cm_exit_code {
	int code;
	const char *meaning;
};
extern const struct cm_exit_code cm_exit_codes[];
extern const size_t cm_nexit_codes;
/* coldmark(1) in roff, and a bash completion script, from the command tables. */
void cm_write_man(FILE *f);
void cm_write_bash_completion(FILE *f);

struct cm_report;
/* Writes the --export-* files a command was given; 0, or -1 after saying why. */
int cm_export(const struct cm_cli *cli, const char *who, const struct cm_report *r);

int cm_cmd_run(const struct cm_cli *cli);
/* run with K sessions (default 10) whose variance components become this host's calibration */
int cm_cmd_calibrate(const struct cm_cli *cli);
#define CM_CALIBRATE_SESSIONS 10
/* calibrate: per case x phase the components of the sessions in rep, stored for the host of
 * ds's header in the runner's store (and shared store); where names it. 0, CM_EXIT_FAILED
 * (too few sessions) or CM_EXIT_OUTPUT. */
struct cm_runner;
int cm_calibration_save(const struct cm_dataset *ds, const struct cm_report *rep, const char *run_id,
			struct cm_runner *rn, const char *where);
/* cm_cmd_run with the function that boots qemu given: cm_launch_boot, or a test's fake. */
int cm_run(const struct cm_cli *cli, cm_launch_fn launch);
int cm_cmd_doctor(const struct cm_cli *cli);
int cm_cmd_host(const struct cm_cli *cli);
int cm_cmd_compare(const struct cm_cli *cli);
/* compare explains (issue 28, cli/explain_cli.c): the sides' profile.csv into r's rows. */
struct cm_cmp_result;
int cm_compare_explain(const struct cm_cli *cli, struct cm_cmp_result *r);
/* The run header's "profile" item (malloc'd): the events counted, kvm_exit never fired. */
char *cm_profile_header(const struct cm_perf *perf);
int cm_cmd_history(const struct cm_cli *cli);
int cm_cmd_import(const struct cm_cli *cli);
int cm_cmd_sync(const struct cm_cli *cli);
int cm_cmd_merge(const struct cm_cli *cli);
int cm_cmd_bisect(const struct cm_cli *cli);

/* The store a command uses: --db, else $COLDMARK_DB, else ./coldmark.db. */
const char *cm_cli_db(const struct cm_cli *cli);

/* A replicate of a fleet run: array task `index` of `count` (0 when unknown), found by
 * --replicate I/N or, with auto, in the scheduler's environment. */
struct cm_replicate {
	bool active;	   /* --replicate was given */
	int index, count;
	char job[96];	   /* the scheduler's job ("slurm 1234_2"), "" when none */
};
/* 0, or CM_EXIT_USAGE with err saying what is wrong with spec or the environment. */
int cm_replicate_parse(const char *spec, struct cm_replicate *rep, struct cm_error *err);
/* run's --replicate onto the matrix: session I + 1 alone (first_session); 0, or
 * CM_EXIT_USAGE after saying why (a bad spec, --sessions beside it). */
struct cm_matrix;
int cm_replicate_apply(const struct cm_cli *cli, struct cm_matrix *m, struct cm_replicate *rep);

/* --resume (cli/resume.c): the run's plan from DIR/meta.csv into m, its header into old and
 * its id into run_id (CM_EXIT_USAGE after saying why); then whether this resume would boot
 * anything else than the run began with into another store (CM_EXIT_USAGE naming each
 * difference). A store's name: a URL redacted, a file by its real path. */
struct cm_dataset;
int cm_resume_plan(const char *dir, struct cm_matrix *m, struct cm_dataset *old, char *run_id,
		   size_t n);
int cm_resume_check(const char *dir, const struct cm_dataset *old, const struct cm_matrix *m,
		    const char *qemu, const char *db);
void cm_run_store_name(const char *db, char *out, size_t n);

/* A run whose store is a URL. First, before the run folder is made, the server: *shared, NULL
 * when out of reach (said once: the boots go to the journal); a server that refuses the run
 * (a schema of the future, no right to create the tables): CM_EXIT_OUTPUT after saying why.
 * shown gets the URL with its password redacted. Then journal.db in the run folder (a link or
 * an unusable file: CM_EXIT_OUTPUT after saying why). The run goes to the server with its
 * first boot (harness/runner.c). */
struct cm_rundir;
struct cm_store;
int cm_fleet_server(const char *url, const char *outdir, struct cm_store **shared, char *shown,
		    size_t n);
int cm_fleet_journal(const char *outdir, const struct cm_rundir *rd, struct cm_store **journal);

#endif
