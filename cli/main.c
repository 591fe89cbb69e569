/* coldmark: options -> command -> exit status. Only this layer prints to the user and picks
 * the exit status. */
#include <gsl/gsl_errno.h>
#include <malloc.h>
#include <stdio.h>
#include <string.h>

#include "cli.h"

static void usage(FILE *f)
{
	fprintf(f, "coldmark %s — cold-boot time of QEMU/KVM guests, measured statistically\n\n"
		   "usage: coldmark COMMAND [options]   (coldmark COMMAND --help for its options)\n\n"
		   "commands:\n",
		COLDMARK_VERSION);
	for (size_t i = 0; i < cm_ncommands; i++)
		fprintf(f, "  %-10s %s\n", cm_commands[i].name, cm_commands[i].summary);
	fputs("\nexit status:\n", f);
	for (size_t i = 0; i < cm_nexit_codes; i++)
		fprintf(f, "  %-4d %s\n", cm_exit_codes[i].code, cm_exit_codes[i].meaning);
	fputs("\nalso: coldmark --man (this manual in roff), coldmark --completion bash\n", f);
}

int main(int argc, char **argv)
{
	gsl_set_error_handler_off(); /* GSL's default handler aborts */
	/* Fixed malloc thresholds: with glibc's defaults a run's heap grew by ~160 KB and was
	 * trimmed back at every boot's store transaction (two brk calls and ~40 page faults a
	 * boot, in the run's own CPU). Blocks under 4 MB come from the heap, which keeps up to
	 * 8 MB free at its top. */
	mallopt(M_MMAP_THRESHOLD, 4 << 20);
	mallopt(M_TRIM_THRESHOLD, 8 << 20);
	setvbuf(stdout, NULL, _IOLBF, 0);
	if (argc < 2) {
		usage(stderr);
		return CM_EXIT_USAGE;
	}
	if (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h") || !strcmp(argv[1], "help")) {
		usage(stdout);
		return CM_EXIT_OK;
	}
	if (!strcmp(argv[1], "--version") || !strcmp(argv[1], "-V")) {
		printf("coldmark %s\n", COLDMARK_VERSION);
		return CM_EXIT_OK;
	}
	if (!strcmp(argv[1], "--man")) {
		cm_write_man(stdout);
		return CM_EXIT_OK;
	}
	if (!strcmp(argv[1], "--completion")) {
		if (argc < 3 || strcmp(argv[2], "bash")) {
			fprintf(stderr, "coldmark: --completion takes 'bash'\n");
			return CM_EXIT_USAGE;
		}
		cm_write_bash_completion(stdout);
		return CM_EXIT_OK;
	}
	const struct cm_cmd *cmd = cm_command(argv[1]);
	if (cmd) {
		struct cm_cli cli;
		int rc = cm_cli_parse(cmd, argc - 2, argv + 2, &cli);
		if (rc < 0)
			return CM_EXIT_OK;
		if (rc)
			return CM_EXIT_USAGE;
		return cmd->fn(&cli);
	}
	fprintf(stderr, "coldmark: unknown command '%s'\n", argv[1]);
	usage(stderr);
	return CM_EXIT_USAGE;
}
