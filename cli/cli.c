#include "cli.h"

#include <stdlib.h>
#include <string.h>

#include "coldmark/capture.h"
#include "coldmark/matrix.h"
#include "coldmark/util.h"

static const struct cm_builds *cli_builds;

void cm_cli_set_builds(const struct cm_builds *b)
{
	cli_builds = b;
}

struct cm_matrix *cm_cli_load_matrix(const char *path)
{
	struct cm_diags d = { 0 };
	struct cm_matrix *m = cm_matrix_load_builds(path, cli_builds, &d);
	if (m && cm_source_check(m, &d)) { /* run.source names a source of capture's table */
		cm_matrix_free(m);
		m = NULL;
	}
	cm_diags_print(&d, stderr);
	cm_diags_clear(&d);
	return m;
}

static int opt_count(const struct cm_cmd *cmd)
{
	int n = 0;
	while (cmd->opts && cmd->opts[n].name)
		n++;
	return n;
}

/* The option word a names (--name, --name=VALUE, -x): its index in cmd's table, or -1;
 * *inline_val the value after '=' (NULL without). */
static int opt_of(const struct cm_cmd *cmd, const char *a, const char **inline_val)
{
	int k = -1, nopts = opt_count(cmd);
	*inline_val = NULL;
	if (a[1] == '-') {
		size_t len = strcspn(a + 2, "=");
		if (a[2 + len] == '=')
			*inline_val = a + 3 + len;
		for (int j = 0; j < nopts; j++)
			if (strlen(cmd->opts[j].name) == len && !strncmp(cmd->opts[j].name, a + 2, len))
				k = j;
	} else if (!a[2]) {
		for (int j = 0; j < nopts; j++)
			if (cmd->opts[j].short_name == a[1])
				k = j;
	}
	return k;
}

const char *cm_cli_get(const struct cm_cli *cli, const char *name)
{
	const char *found = NULL;
	for (int i = 0; i < cli->argc; i++) { /* the words cm_cli_parse accepted */
		const char *a = cli->argv[i], *inline_val;
		if (!strcmp(a, "--"))
			break;
		if (a[0] != '-' || !a[1])
			continue;
		int k = opt_of(cli->cmd, a, &inline_val);
		if (k < 0)
			continue;
		const char *v = !cli->cmd->opts[k].metavar ? "1"
				: inline_val		   ? inline_val
				: i + 1 < cli->argc	   ? cli->argv[++i]
							   : NULL;
		if (!strcmp(cli->cmd->opts[k].name, name))
			found = v;
	}
	return found;
}

bool cm_cli_flag(const struct cm_cli *cli, const char *name)
{
	return cm_cli_get(cli, name) != NULL;
}

void cm_cli_help(const struct cm_cmd *cmd, FILE *f)
{
	fprintf(f, "usage: coldmark %s %s\n\n%s\n", cmd->name, cmd->args, cmd->summary);
	if (!opt_count(cmd))
		return;
	fputs("\noptions:\n", f);
	for (int i = 0; i < opt_count(cmd); i++) {
		const struct cm_opt *o = &cmd->opts[i];
		char lhs[64];
		snprintf(lhs, sizeof(lhs), "%s%c%s--%s%s%s", o->short_name ? "-" : "",
			 o->short_name ? o->short_name : ' ', o->short_name ? ", " : "  ", o->name,
			 o->metavar ? " " : "", o->metavar ? o->metavar : "");
		fprintf(f, "  %-30s %s\n", o->short_name ? lhs : lhs + 2, o->help);
	}
	fprintf(f, "  %-30s %s\n", "-h, --help", "show this help");
}

/* A password goes only where a store is expected (--db, merge's shards): a connection URL
 * given as a folder, matrix, samples file or tag would be printed, written to meta.csv or made
 * into folders named after it. -o names a folder, never a URL. True after saying which. */
static bool secret_misplaced(const struct cm_cli *cli)
{
	const struct cm_cmd *cmd = cli->cmd;
	const char *what = NULL, *v = NULL;
	char label[64];
	for (int i = 0; !what && !cmd->pos_stores && i < cli->npos; i++)
		if (cm_holds_secret(cli->pos[i]))
			what = "an argument", v = cli->pos[i];
	for (int k = 0; !what && k < opt_count(cmd); k++) {
		const char *name = cmd->opts[k].name, *val = cm_cli_get(cli, name);
		if (!val || !strcmp(name, "db"))
			continue;
		if (cm_holds_secret(val) || (!strcmp(name, "output") && strstr(val, "://"))) {
			snprintf(label, sizeof(label), "--%s", name);
			what = label, v = val;
		}
	}
	if (!what)
		return false;
	char *shown = cm_redact(v);
	fprintf(stderr, "coldmark %s: '%s', given as %s, looks like a connection URL: a store is "
			"named by --db (or $COLDMARK_DB) only, and never printed or written with its "
			"password\n", cmd->name, shown, what);
	free(shown);
	return true;
}

int cm_cli_parse(const struct cm_cmd *cmd, int argc, char **argv, struct cm_cli *cli)
{
	memset(cli, 0, sizeof(*cli));
	cli->cmd = cmd;
	cli->argv = argv;
	cli->argc = argc;
	int nopts = opt_count(cmd);
	bool only_pos = false;
	for (int i = 0; i < argc; i++) {
		const char *a = argv[i];
		if (only_pos || a[0] != '-' || !a[1]) {
			if (cli->npos >= cmd->max_pos) {
				fprintf(stderr, "coldmark %s: unexpected argument '%s'\n", cmd->name, a);
				goto usage;
			}
			cli->pos[cli->npos++] = a;
			continue;
		}
		if (!strcmp(a, "--")) {
			only_pos = true;
			continue;
		}
		if (!strcmp(a, "-h") || !strcmp(a, "--help")) {
			cm_cli_help(cmd, stdout);
			return -1;
		}
		const char *inline_val;
		int k = opt_of(cmd, a, &inline_val);
		if (k < 0) {
			const char *best = NULL;
			size_t bd = 3;
			for (int j = 0; j < nopts; j++) {
				size_t d = cm_edit_distance(a + strspn(a, "-"), cmd->opts[j].name);
				if (d < bd)
					bd = d, best = cmd->opts[j].name;
			}
			fprintf(stderr, "coldmark %s: unknown option '%s'", cmd->name, a);
			if (best)
				fprintf(stderr, " (did you mean '--%s'?)", best);
			fputc('\n', stderr);
			goto usage;
		}
		if (!cmd->opts[k].metavar) {
			if (inline_val) {
				fprintf(stderr, "coldmark %s: --%s takes no value\n", cmd->name,
					cmd->opts[k].name);
				goto usage;
			}
		} else if (!inline_val && i + 1 >= argc) {
			fprintf(stderr, "coldmark %s: %s needs a value (%s)\n", cmd->name, a,
				cmd->opts[k].metavar);
			goto usage;
		} else if (!inline_val) {
			i++; /* the value: cm_cli_get finds it there */
		}
	}
	if (secret_misplaced(cli))
		goto usage;
	if (cli->npos < cmd->min_pos) {
		fprintf(stderr, "coldmark %s: missing %s\n", cmd->name, cmd->args);
		goto usage;
	}
	return 0;
usage:
	fprintf(stderr, "usage: coldmark %s %s (see coldmark %s --help)\n", cmd->name, cmd->args,
		cmd->name);
	return 2;
}
