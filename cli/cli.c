#include "cli.h"

#include <string.h>

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

const char *cm_cli_get(const struct cm_cli *cli, const char *name)
{
	for (int i = 0; i < opt_count(cli->cmd); i++)
		if (!strcmp(cli->cmd->opts[i].name, name))
			return cli->vals[i];
	return NULL;
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

int cm_cli_parse(const struct cm_cmd *cmd, int argc, char **argv, struct cm_cli *cli)
{
	memset(cli, 0, sizeof(*cli));
	cli->cmd = cmd;
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
		int k = -1;
		const char *inline_val = NULL;
		if (a[1] == '-') {
			size_t len = strcspn(a + 2, "=");
			if (a[2 + len] == '=')
				inline_val = a + 3 + len;
			for (int j = 0; j < nopts; j++)
				if (strlen(cmd->opts[j].name) == len && !strncmp(cmd->opts[j].name, a + 2, len))
					k = j;
		} else if (!a[2]) {
			for (int j = 0; j < nopts; j++)
				if (cmd->opts[j].short_name == a[1])
					k = j;
		}
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
			cli->vals[k] = "1";
		} else if (inline_val) {
			cli->vals[k] = inline_val;
		} else if (i + 1 < argc) {
			cli->vals[k] = argv[++i];
		} else {
			fprintf(stderr, "coldmark %s: %s needs a value (%s)\n", cmd->name, a,
				cmd->opts[k].metavar);
			goto usage;
		}
	}
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
