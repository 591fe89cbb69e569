/* The commands and their option tables: one entry each, from which parsing, --help and the
 * tests' command lines all come. list and report live here (they are a few lines over the
 * library); run, compare, history, import and doctor have their own files. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cli.h"
#include "coldmark/harness.h"
#include "coldmark/matrix.h"
#include "coldmark/report.h"

/* Does run.source make its captures from perf (so KVM cases get first_entry)? */
static bool src_uses_perf(const struct cm_matrix *m)
{
	const struct cm_source_reg *r = cm_source_find(m->source.name);
	return r && (r->flags & CM_SRC_PERF);
}

/* The argv a run gives qemu for case c, through the same sources a run picks (assuming perf
 * works for KVM cases, as it does where doctor says so). */
static char **launch_argv(const struct cm_sources *src,
			  const struct cm_case *c, size_t *n)
{
	struct cm_capture *picked[CM_SOURCES_MAX];
	size_t k = cm_sources_pick(src, c, picked);
	return cm_launch_argv(c->argv, picked, k, n);
}

/* --export-hyperfine and --export-bmf: the formats of the trackers people already use. Each
 * file is written whole or not at all. 0, or -1 after saying why. */
int cm_export(const struct cm_cli *cli, const char *who, const struct cm_report *r)
{
	static const struct {
		const char *opt;
		int (*write)(const struct cm_report *r, FILE *f);
	} exports[] = { { "export-hyperfine", NULL }, { "export-bmf", cm_report_bmf } };
	int rc = 0;
	for (size_t i = 0; i < sizeof(exports) / sizeof(exports[0]); i++) {
		const char *path = cm_cli_get(cli, exports[i].opt);
		if (!path)
			continue;
		char *tmp = cm_xasprintf("%s.tmp", path);
		FILE *f = fopen(tmp, "w");
		int err = !f;
		if (f) {
			err = exports[i].write ? exports[i].write(r, f)
					       : cm_report_hyperfine(r, "total", f);
			err |= ferror(f);
			err |= fclose(f);
		}
		if (!err && rename(tmp, path))
			err = 1;
		if (err) {
			fprintf(stderr, "%s: cannot write %s: %s\n", who, path, strerror(errno));
			unlink(tmp);
			rc = -1;
		}
		free(tmp);
	}
	return rc;
}

static int cmd_list(const struct cm_cli *cli)
{
	if (cm_cli_flag(cli, "keys")) {
		cm_matrix_print_keys(stdout);
		return CM_EXIT_OK;
	}
	if (!cli->npos) {
		fprintf(stderr, "coldmark list: missing MATRIX.yaml (or --keys)\n");
		return CM_EXIT_USAGE;
	}
	const char *fmt = cm_cli_get(cli, "format");
	if (fmt && strcmp(fmt, "text") && strcmp(fmt, "json")) {
		fprintf(stderr, "coldmark list: --format is text or json\n");
		return CM_EXIT_USAGE;
	}
	struct cm_matrix *m = cm_cli_load_matrix(cli->pos[0]);
	if (!m)
		return CM_EXIT_USAGE;
	long long boots = (long long)m->ncases * (m->boots + m->warmup) * m->sessions;
	if (fmt && !strcmp(fmt, "json")) {
		printf("{\"cases\": [");
		for (size_t c = 0; c < m->ncases; c++) {
			printf("%s\n  {\"id\": ", c ? "," : "");
			/* ids and argv are JSON-safe after escaping quotes and backslashes */
			struct cm_buf b = { 0 };
			for (const char *s = m->cases[c].id; *s; s++)
				cm_buf_printf(&b, *s == '"' || *s == '\\' ? "\\%c" : "%c", *s);
			printf("\"%s\", \"argv\": [", b.s ? b.s : "");
			cm_buf_free(&b);
			for (size_t i = 0; i < m->cases[c].argc; i++) {
				for (const char *s = m->cases[c].argv[i]; *s; s++)
					cm_buf_printf(&b, *s == '"' || *s == '\\' ? "\\%c" : "%c", *s);
				printf("%s\"%s\"", i ? ", " : "", b.s ? b.s : "");
				cm_buf_free(&b);
			}
			printf("], \"reference\": %s}", m->cases[c].reference ? "true" : "false");
		}
		printf("\n], \"boots_per_case\": %lld, \"warmup_per_case\": %lld, \"sessions\": %lld, "
		       "\"total_boots\": %lld}\n",
		       (long long)m->boots, (long long)m->warmup, (long long)m->sessions, boots);
	} else {
		struct cm_sources src;
		cm_sources_init(&src, m, NULL, true);
		for (size_t c = 0; c < m->ncases; c++) {
			/* what qemu really gets: coldmark's debugcon and console arguments too */
			size_t n;
			char **argv = launch_argv(&src, &m->cases[c], &n);
			struct cm_buf b = { 0 };
			for (size_t i = 0; i < n; i++) {
				if (i)
					cm_buf_puts(&b, " ");
				cm_shell_quote(&b, argv[i]);
				free(argv[i]);
			}
			free(argv);
			printf("%s\n    %s\n", m->cases[c].id, b.s);
			cm_buf_free(&b);
		}
		cm_sources_free(&src);
		if (m->sessions > 1)
			printf("%lld sessions × %zu cases × (%lld boots + %lld warm-up) = %lld boots\n",
			       (long long)m->sessions, m->ncases, (long long)m->boots,
			       (long long)m->warmup, boots);
		else
			printf("%zu cases × (%lld boots + %lld warm-up) = %lld boots\n", m->ncases,
			       (long long)m->boots, (long long)m->warmup, boots);
		cm_note_unmeasurable(m, src_uses_perf(m), stdout, "note");
	}
	cm_matrix_free(m);
	return CM_EXIT_OK;
}

static int cmd_report(const struct cm_cli *cli)
{
	struct stat sb;
	const char *in = cli->pos[0];
	char *samples = !stat(in, &sb) && S_ISDIR(sb.st_mode) ? cm_xasprintf("%s/samples.csv", in)
							       : cm_xstrdup(in);
	char *dir = cm_xstrdup(samples);
	char *slash = strrchr(dir, '/');
	if (slash)
		*slash = 0;
	else
		strcpy(dir, ".");
	const char *out = cm_cli_get(cli, "output") ? cm_cli_get(cli, "output") : dir;
	const char *formats = cm_cli_get(cli, "format") ? cm_cli_get(cli, "format") : CM_DEFAULT_FORMATS;
	struct cm_dataset ds;
	struct cm_diags d = { 0 };
	int rc = CM_EXIT_OK;
	struct cm_error ferr = { 0 };
	if (cm_report_check_formats(formats, &ferr)) {
		fprintf(stderr, "coldmark report: --format: %s\n", ferr.msg);
		rc = CM_EXIT_USAGE;
		goto out_nods;
	}
	if (cm_samples_read(samples, &ds, &d)) {
		cm_diags_print(&d, stderr);
		rc = CM_EXIT_USAGE;
		goto out;
	}
	char *meta = cm_xasprintf("%s/meta.csv", dir);
	cm_meta_read(meta, &ds);
	free(meta);
	struct cm_report r;
	cm_report_build(&ds, CM_DEFAULT_ALPHA, &r);
	/* samples.csv is rewritten only into another folder, never over its source */
	char rin[4096], rout[4096];
	bool same = realpath(dir, rin) && realpath(out, rout) && !strcmp(rin, rout);
	cm_mkdirs(out);
	struct cm_wave_summary ws; /* a run in waves: waves.csv is beside its samples */
	if (cm_report_waves(&r, dir, &ws, &d))
		r.waves = &ws;
	if (cm_report_write(&r, out, formats, !same, &d)) {
		cm_diags_print(&d, stderr);
		rc = CM_EXIT_OUTPUT;
	} else {
		printf("reports written to %s\n", out);
	}
	if (cm_export(cli, "coldmark report", &r))
		rc = CM_EXIT_OUTPUT;
	cm_wave_summary_free(&ws);
	cm_report_free(&r);
out:
	cm_dataset_free(&ds);
out_nods:
	cm_diags_clear(&d);
	free(samples);
	free(dir);
	return rc;
}

/* --db: a file, or a server a fleet shares */
#define DB_OPT                                                                                     \
	{ "db", 0, "PATH|URL", "results store: a SQLite file or postgresql://... (default "       \
			       "$COLDMARK_DB, else ./coldmark.db)" }

/* --format's help names the writers of the table that validates it (filled before main) */
static char format_help[160];
static char compare_format_help[80]; /* compare's: its writers' table, the first the default */

/* run's own options; the flags of run.* keys (--boots/-n, --order, ...) are added from the
 * matrix's key table before main runs, so a new key with a flag is one table entry. */
static const struct cm_opt run_own_opts[] = {
	{ "output", 'o', "OUTDIR", "output folder (default coldmark-out/<run-id>)" },
	{ "no-drop-caches", 0, NULL, "do not drop the page cache before boots (warm boots)" },
	{ "keep-logs", 0, NULL, "keep every boot's log (qemu's output, the serial console) in "
				"OUTDIR/logs, ok boots' too (overrides run.keep_logs)" },
	{ "profile", 0, NULL, "count per phase what the guest made KVM do into profile.csv "
			      "(overrides run.profile)" },
	{ "profile-emulated", 0, NULL, "--profile and the instructions KVM emulated (slows the "
				       "boots; overrides run.profile_emulated)" },
	{ "format", 0, "LIST", format_help },
	{ "export-hyperfine", 0, "FILE", "also write the total phase in hyperfine's JSON layout" },
	{ "export-bmf", 0, "FILE", "also write every phase's median and CI as Bencher Metric Format JSON" },
	DB_OPT,
	{ "tag", 0, "NAME", "label the run in the store (a release, a commit)" },
	{ "replicate", 0, "auto|I/N", "run as replicate I (0-based) of N on a fleet: session I+1 "
				      "alone, its order from the seed and I; auto reads Slurm's "
				      "SLURM_ARRAY_TASK_ID/COUNT or JOB_COMPLETION_INDEX" },
	{ "resume", 0, "RUNDIR", "continue an interrupted run to its planned counts (same plan, "
				 "seed and files)" },
	{ "force", 0, NULL, "with -o: replace the earlier run in OUTDIR (otherwise refused)" },
	{ 0 }
};
/* run's options (and calibrate's): made before main from the key table, as many as it has */
static struct cm_opt *run_opts;

/* --source's help: the source table's names, each with what it is. */
static char *source_help(void)
{
	struct cm_buf b = { 0 };
	const struct cm_source_reg *r;
	cm_buf_puts(&b, "marker source:");
	for (size_t i = 0, k = 0; (r = cm_source_at(i)); i++)
		if (!(r->flags & CM_SRC_ALWAYS))
			cm_buf_printf(&b, "%s %s (%s)", k++ ? "," : "", r->name, r->help);
	return cm_buf_steal(&b);
}

__attribute__((constructor)) static void run_options_from_keys(void)
{
	size_t len = (size_t)snprintf(format_help, sizeof(format_help),
				      "report formats, comma separated:");
	for (size_t i = 0; i < cm_nwriters && len < sizeof(format_help); i++)
		len += (size_t)snprintf(format_help + len, sizeof(format_help) - len, "%s%s",
					i ? "," : " ", cm_writers[i].name);
	char *names = cm_cmp_writer_names();
	snprintf(compare_format_help, sizeof(compare_format_help), "%s (default)%s",
		 cm_cmp_writers[0].name, names + strlen(cm_cmp_writers[0].name));
	free(names);
	size_t n = cm_matrix_key_flags(NULL, 0), k = 0, nown = 0;
	struct cm_key_flag *kf = cm_xcalloc(n + 1, sizeof(*kf));
	cm_matrix_key_flags(kf, n);
	while (run_own_opts[nown].name)
		nown++;
	run_opts = cm_xcalloc(n + nown + 1, sizeof(*run_opts)); /* ends in { NULL } */
	for (size_t i = 0; i < n; i++) {
		char *help = !strcmp(kf[i].key, "run.source") ? source_help() : NULL;
		run_opts[k] = (struct cm_opt){ kf[i].flag, kf[i].short_flag, kf[i].metavar,
					       cm_xasprintf("%s (overrides %s)",
							    help ? help : kf[i].help, kf[i].key) };
		free(help);
		k++;
	}
	for (size_t i = 0; run_own_opts[i].name; i++)
		run_opts[k++] = run_own_opts[i];
	free(kf);
	for (size_t i = 0; i < cm_ncommands; i++)
		if (cm_commands[i].fn == cm_cmd_run || cm_commands[i].fn == cm_cmd_calibrate)
			cm_commands[i].opts = run_opts;
}

static const struct cm_opt bisect_opts[] = {
	{ "repo", 0, "DIR", "the git repository of the guest's source (required)" },
	{ "good", 0, "REV", "a revision without the change (required)" },
	{ "bad", 0, "REV", "a later revision with it (required)" },
	{ "build", 0, "PROGRAM", "run as PROGRAM WORKTREE BUILDDIR with COLDMARK_REV=<sha>; exit 125: "
				 "cannot be tested (required)" },
	{ "phase", 0, "PHASE", "the phase judged (default total)" },
	{ "sessions", 0, "K", "interleaved sessions of a step before its first look (default 2)" },
	{ "max-sessions", 0, "K", "sessions a step (or check of the ends) may grow to, one a look, "
				  "before it is skipped (default 8)" },
	{ "threshold", 0, "PCT", "smallest change that counts, in percent (default 2)" },
	{ "alpha", 0, "A", "error rate of each step's verdict, spent over its looks (default 0.05)" },
	{ "output", 'o', "OUTDIR", "builds, steps and the answer (default coldmark-out/bisect)" },
	{ "db", 0, "PATH|URL", "results store (default $COLDMARK_DB, else ./" CM_DEFAULT_DB ")" },
	{ "format", 0, "FORMAT", "text (default) or json" },
	{ "resume", 0, "OUTDIR", "continue a bisect that was stopped, from the verdicts in OUTDIR" },
	{ 0 }
};

static const struct cm_opt list_opts[] = {
	{ "format", 0, "FORMAT", "text (default) or json" },
	{ "keys", 0, NULL, "print every matrix key with its type, default, range and help" },
	{ 0 }
};
static const struct cm_opt report_opts[] = {
	{ "output", 'o', "OUTDIR", "output folder (default: beside SAMPLES.csv)" },
	{ "format", 0, "LIST", format_help },
	{ "export-hyperfine", 0, "FILE", "also write the total phase in hyperfine's JSON layout" },
	{ "export-bmf", 0, "FILE", "also write every phase's median and CI as Bencher Metric Format JSON" },
	{ 0 }
};
static const struct cm_opt doctor_opts[] = {
	{ "qemu", 0, "BINARY", "qemu binary to check (default qemu-system-x86_64)" },
	{ "no-probe", 0, NULL, "skip the KVM boot that finds which first-entry event fires" },
	{ 0 }
};

/* what makes a verdict: compare's rows and history's steps alike */
#define JUDGE_OPTS                                                                                 \
	{ "alpha", 0, "A", "significance level after Holm correction (default 0.05)" },           \
	{ "threshold", 0, "PCT", "smallest change that counts, in percent (default 2)" },          \
	{ "min-change", 0, "TIME", "smallest change that counts, absolute (e.g. 200us; default 0)" }

static const struct cm_opt compare_opts[] = {
	DB_OPT,
	JUDGE_OPTS,
	{ "format", 0, "FORMAT", compare_format_help },
	{ "fail-on", 0, "PHASES", "comma list of phases whose regressions fail (default: all)" },
	{ "axis", 0, "NAME", "with one RUN: compare two values of this axis within the run" },
	{ "base", 0, "VALUE", "with --axis: the base value (default: the axis's first)" },
	{ "cand", 0, "VALUE", "with --axis: the candidate value (default: the other one of two)" },
	{ "relative-to", 0, "reference", "judge each case relative to its reference case in the "
					"same session (what the host did to both cancels)" },
	{ "explain", 0, NULL, "name the profile counters (run --profile) that changed in every "
			      "row, not only in those regressed or improved" },
	{ "from-samples", 0, NULL, "read the raw samples, not the session summary (an audit: the "
				   "results are the same)" },
	{ 0 }
};
static const struct cm_opt history_opts[] = {
	DB_OPT,
	{ "case", 0, "ID", "only this case" },
	{ "phase", 0, "NAME", "the phase to follow (default total)" },
	{ "html", 0, "FILE", "also write the trend plot (median per session, change points marked) as an HTML page" },
	{ "relative-to", 0, "reference", "follow each case relative to its reference case in the "
					"same session" },
	JUDGE_OPTS,
	{ "from-samples", 0, NULL, "read the raw samples, not the session summary (an audit: the "
				   "results are the same)" },
	{ 0 }
};
static const struct cm_opt host_opts[] = {
	{ "cpus", 0, "LIST", "the CPUs runs measure on (run.cpus): interrupts kept off them, "
			     "their clock checked" },
	{ 0 }
};
static const struct cm_opt import_opts[] = {
	DB_OPT,
	{ "tag", 0, "NAME", "label of the imported run (required)" },
	{ 0 }
};

static const struct cm_opt sync_opts[] = {
	DB_OPT,
	{ 0 }
};
static const struct cm_opt merge_opts[] = {
	{ "db", 0, "TARGET", "the store the shards go into: a SQLite file or postgresql://... "
			     "(required)" },
	{ 0 }
};

struct cm_cmd cm_commands[] = {
	{ "run", "MATRIX.yaml [options]",
	  "Boot every case of the matrix N times from a cold page cache and measure its phases.",
	  NULL, 1, 1, cm_cmd_run },
	{ "list", "MATRIX.yaml [--format text|json] | --keys",
	  "Print each case with its exact qemu command line, and the number of boots; boots nothing.",
	  list_opts, 0, 1, cmd_list },
	{ "report", "SAMPLES.csv|RUNDIR [options]",
	  "Rebuild summary.csv, report.md, report.json and report.html from raw samples.",
	  report_opts, 1, 1, cmd_report },
	{ "calibrate", "MATRIX.yaml [options]",
	  "Run K unchanged sessions (--sessions, default 10) and store this host's within- and "
	  "between-session variance per case and phase, for compares of one-session runs.",
	  NULL, 1, 1, cm_cmd_calibrate },
	{ "compare", "BASE CAND [options] | RUN --axis NAME [--base V] [--cand V]",
	  "Compare two sides (each a tag with all its sessions, a run id, a samples.csv or a run "
	  "folder) case by case and phase by phase, with the session as the unit, or two values "
	  "of one axis within a run; exit 1 on a regression, 5 on a change only the boots see.",
	  compare_opts, 1, 2, cm_cmd_compare },
	{ "history", "[--case ID] [--phase NAME] [--db PATH|URL] [--html FILE]",
	  "Every session in the store in time order with its median, and the change points of "
	  "the series: persistent steps, each with its size, CI, p and what changed in the header.",
	  history_opts, 0, 0, cm_cmd_history },
	{ "import", "SAMPLES.csv --tag NAME [--db PATH|URL]",
	  "Load samples measured elsewhere into the store under a tag.", import_opts, 1, 1,
	  cm_cmd_import },
	{ "sync", "RUNDIR [--db URL]",
	  "Upload the boots a run kept in RUNDIR/journal.db while its shared store was out of "
	  "reach; idempotent (boots the store has are skipped).",
	  sync_opts, 1, 1, cm_cmd_sync },
	{ "merge", "SHARD... --db TARGET",
	  "Fold shard stores (hosts that measured off the network) into one; idempotent "
	  "(merging twice adds nothing).",
	  merge_opts, 1, CM_MAX_POS, cm_cmd_merge, true },
	{ "bisect", "MATRIX.yaml --repo DIR --good REV --bad REV --build PROGRAM [options]",
	  "Find the commit that changed a phase: each step boots the candidate interleaved with the "
	  "good and bad builds in K sessions and judges it like good, like bad or inconclusive; "
	  "{build} in the matrix is the build's folder. Exit 0 found, 1 not found.",
	  bisect_opts, 1, 1, cm_cmd_bisect },
	{ "host", "check|tune|reset [--cpus LIST]",
	  "check: what on this host would move boot times, each with its fix (exit 0 quiet, 1 "
	  "with advice); tune: apply the fixes, saving the prior state (root); reset: restore it.",
	  host_opts, 1, 1, cm_cmd_host },
	{ "doctor", "[--qemu BINARY]",
	  "Tell what this host can measure and what is missing; exit 0 if a marker source works, "
	  "3 if none does.",
	  doctor_opts, 0, 0, cm_cmd_doctor },
};
const size_t cm_ncommands = sizeof(cm_commands) / sizeof(cm_commands[0]);

const struct cm_cmd *cm_command(const char *name)
{
	for (size_t i = 0; i < cm_ncommands; i++)
		if (!strcmp(cm_commands[i].name, name))
			return &cm_commands[i];
	return NULL;
}
