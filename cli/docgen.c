/* coldmark(1) and the bash completion, generated from the same command and option tables as
 * --help and the parser: a new option is documented and completed by its table entry alone. */
#include <stdio.h>
#include <string.h>

#include "cli.h"

const struct cm_exit_code cm_exit_codes[] = {
	{ CM_EXIT_OK, "success" },
	{ CM_EXIT_FAILED, "failed boots beyond run.max_failed, or a regression found by compare "
			  "(between runs: with sessions or a calibration as the unit)" },
	{ CM_EXIT_USAGE, "usage, matrix or data error (with file:line:col where there is one)" },
	{ CM_EXIT_HOST, "this host cannot measure what was asked (no qemu, KVM or perf)" },
	{ CM_EXIT_OUTPUT, "results could not be written (full disk, I/O error, the store refused); "
			  "every boot before is kept, --resume continues" },
	{ CM_EXIT_BOOTS_ONLY, "compare found changes beyond the boots' noise alone between runs of "
			      "one session each, with no calibration of the host: not a verdict "
			      "(run --sessions K, or coldmark calibrate)" },
	{ CM_EXIT_INTERRUPTED, "interrupted by SIGINT, SIGTERM or SIGHUP; what was measured is "
			       "kept and reported" },
};
const size_t cm_nexit_codes = sizeof(cm_exit_codes) / sizeof(cm_exit_codes[0]);

/* The environment coldmark reads, for coldmark(1)'s ENVIRONMENT section. */
static const struct {
	const char *name, *meaning;
} environment[] = {
	{ "COLDMARK_GUEST_DIR",
	  "the folder of the bundled guest images (guest: {bundled: NAME} boots NAME.img there). "
	  "Unset, an installed coldmark looks in share/coldmark/guest beside its own bin folder "
	  "(found from /proc/self/exe: <prefix>/bin/coldmark reads <prefix>/share/coldmark/guest, "
	  "whatever the prefix), and the build tree's binary in the build tree's guest folder. An "
	  "image that is missing or cannot be read is named with the reason (errno)." },
	{ "COLDMARK_DB", "the results store when --db is not given (a SQLite file or a "
			 "postgresql:// URL)." },
	{ "COLDMARK_DB_TIMEOUT", "how long a PostgreSQL store may take: a statement, a lock wait "
				 "and the server's answer each end after it (a duration: 5s, "
				 "2500ms; default 5s; migrations get 60 times it). A server that "
				 "does not answer in time is lost: the run goes on, every boot kept "
				 "in the run folder's journal.db for coldmark sync." },
	{ "COLDMARK_CPU_REPORT", "coldmark run appends one line of its own CPU use to this file "
				 "at exit (startup_ns, boots_ns, end_ns, boots, qemu_ns: every thread "
				 "of coldmark; qemu's over the boots; the boots' part by where it went: "
				 "launch_ns, record_ns, journals_ns, store_ns, after_ns and loop_ns "
				 "(between them) on the main thread, sync_ns the journals' sync "
				 "thread), as scripts/observer.sh "
				 "reads it." },
	{ "COLDMARK_BATCH_MS", "how long coldmark run gathers finished boots before it syncs "
			       "the journals to the disk and puts the boots in the store, in "
			       "milliseconds (default 1000; 0: every boot; up to 3600000). Every "
			       "boot is in samples.csv and events.csv before the next starts; a "
			       "kill -9 leaves the store behind them by at most a batch, which "
			       "--resume puts in; a power cut takes back at most the boots since "
			       "the last batch and the one in flight." },
	{ "COLDMARK_CACHE_DIR", "where the identities of files already hashed are kept "
				"(default $XDG_CACHE_HOME/coldmark or ~/.cache/coldmark; empty: none)." },
	{ "COLDMARK_STATE_DIR", "where host tune saves the values it changed (default "
				"/var/lib/coldmark)." },
	{ "COLDMARK_TRACE_ROOT", "for tests: a folder that stands for / where tracefs and "
				 "/proc/sys/kernel/perf_event_paranoid are looked up. Ignored when "
				 "running as root, so it cannot redirect a privileged coldmark." },
};

/* roff text: a leading dot or quote would be a request, a backslash an escape */
static void roff(FILE *f, const char *s)
{
	if (*s == '.' || *s == '\'')
		fputs("\\&", f);
	for (; *s; s++) {
		if (*s == '\\')
			fputs("\\e", f);
		else if (*s == '-')
			fputs("\\-", f);
		else
			fputc(*s, f);
	}
}

void cm_write_man(FILE *f)
{
	fprintf(f, ".TH COLDMARK 1 \"\" \"coldmark %s\" \"User Commands\"\n", COLDMARK_VERSION);
	fputs(".SH NAME\ncoldmark \\- cold-boot time of QEMU/KVM guests, measured statistically\n"
	      ".SH SYNOPSIS\n", f);
	for (size_t i = 0; i < cm_ncommands; i++) {
		fprintf(f, ".B coldmark %s\n", cm_commands[i].name);
		roff(f, cm_commands[i].args);
		fputs("\n.br\n", f);
	}
	fputs(".SH COMMANDS\n", f);
	for (size_t i = 0; i < cm_ncommands; i++) {
		const struct cm_cmd *c = &cm_commands[i];
		fprintf(f, ".SS %s\n", c->name);
		roff(f, c->summary);
		fputc('\n', f);
		for (const struct cm_opt *o = c->opts; o && o->name; o++) {
			fputs(".TP\n", f);
			if (o->short_name)
				fprintf(f, "\\fB\\-%c\\fR, ", o->short_name);
			fprintf(f, "\\fB\\-\\-");
			roff(f, o->name);
			fputs("\\fR", f);
			if (o->metavar) {
				fputs(" \\fI", f);
				roff(f, o->metavar);
				fputs("\\fR", f);
			}
			fputc('\n', f);
			roff(f, o->help);
			fputc('\n', f);
		}
	}
	fputs(".SH EXIT STATUS\n", f);
	for (size_t i = 0; i < cm_nexit_codes; i++) {
		fprintf(f, ".TP\n.B %d\n", cm_exit_codes[i].code);
		roff(f, cm_exit_codes[i].meaning);
		fputc('\n', f);
	}
	fputs(".SH ENVIRONMENT\n", f);
	for (size_t i = 0; i < sizeof(environment) / sizeof(environment[0]); i++) {
		fprintf(f, ".TP\n.B %s\n", environment[i].name);
		roff(f, environment[i].meaning);
		fputc('\n', f);
	}
	fputs(".SH SEE ALSO\nREADME.md of coldmark: the matrix keys (coldmark list \\-\\-keys), the "
	      "data files and the statistics.\n", f);
}

void cm_write_bash_completion(FILE *f)
{
	fputs("# bash completion for coldmark, generated by coldmark --completion bash\n"
	      "_coldmark() {\n"
	      "    local cur=${COMP_WORDS[COMP_CWORD]} cmd=${COMP_WORDS[1]}\n"
	      "    if [ \"$COMP_CWORD\" -eq 1 ]; then\n"
	      "        COMPREPLY=($(compgen -W \"", f);
	for (size_t i = 0; i < cm_ncommands; i++)
		fprintf(f, "%s ", cm_commands[i].name);
	fputs("--help --version\" -- \"$cur\")); return\n"
	      "    fi\n"
	      "    local opts\n"
	      "    case $cmd in\n", f);
	for (size_t i = 0; i < cm_ncommands; i++) {
		fprintf(f, "    %s) opts=\"", cm_commands[i].name);
		for (const struct cm_opt *o = cm_commands[i].opts; o && o->name; o++)
			fprintf(f, "--%s ", o->name);
		fputs("--help\" ;;\n", f);
	}
	fputs("    esac\n"
	      "    if [[ $cur == -* ]]; then COMPREPLY=($(compgen -W \"$opts\" -- \"$cur\"));\n"
	      "    else COMPREPLY=($(compgen -f -- \"$cur\")); fi\n"
	      "}\n"
	      "complete -o filenames -F _coldmark coldmark\n", f);
}
