/* The option tables: parsing, values, errors and the generated help. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"

static int never(const struct cm_cli *cli)
{
	return 0;
}

static const struct cm_opt opts[] = {
	{ "boots", 'n', "BOOTS", "measured boots" },
	{ "no-drop-caches", 0, NULL, "warm boots" },
	{ "output", 'o', "DIR", "where" },
	{ 0 }
};
static const struct cm_cmd cmd = { "run", "MATRIX.yaml", "Boot.", opts, 1, 1, never };

static void test_parse(void **state)
{
	struct cm_cli cli;
	char *argv[] = { "m.yaml", "-n", "5", "--output=out", "--no-drop-caches" };
	assert_int_equal(cm_cli_parse(&cmd, 5, argv, &cli), 0);
	assert_string_equal(cli.pos[0], "m.yaml");
	assert_string_equal(cm_cli_get(&cli, "boots"), "5");
	assert_string_equal(cm_cli_get(&cli, "output"), "out");
	assert_true(cm_cli_flag(&cli, "no-drop-caches"));
	char *argv2[] = { "--boots", "7", "--", "-weird.yaml" };
	assert_int_equal(cm_cli_parse(&cmd, 4, argv2, &cli), 0);
	assert_string_equal(cli.pos[0], "-weird.yaml");
	assert_string_equal(cm_cli_get(&cli, "boots"), "7");
}

static void test_errors(void **state)
{
	struct cm_cli cli;
	char *a1[] = { "m.yaml", "--boot", "5" };
	assert_int_equal(cm_cli_parse(&cmd, 3, a1, &cli), 2);
	char *a2[] = { "m.yaml", "-n" };
	assert_int_equal(cm_cli_parse(&cmd, 2, a2, &cli), 2);
	char *a3[] = { "-n", "3" };
	assert_int_equal(cm_cli_parse(&cmd, 2, a3, &cli), 2); /* missing MATRIX.yaml */
	char *a4[] = { "a.yaml", "b.yaml" };
	assert_int_equal(cm_cli_parse(&cmd, 2, a4, &cli), 2);
	char *a5[] = { "a.yaml", "--no-drop-caches=yes" };
	assert_int_equal(cm_cli_parse(&cmd, 2, a5, &cli), 2);
}

static void test_help_from_table(void **state)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);
	cm_cli_help(&cmd, f);
	fclose(f);
	for (int i = 0; opts[i].name; i++) {
		assert_non_null(strstr(buf, opts[i].name));
		assert_non_null(strstr(buf, opts[i].help));
	}
	assert_non_null(strstr(buf, "-n, --boots BOOTS"));
	free(buf);
}

/* coldmark(1) and the bash completion name every command and option of the tables, and the
 * completion really completes. */
static void test_man_and_completion(void **state)
{
	char *man = NULL, *bash = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&man, &len);
	cm_write_man(f);
	fclose(f);
	f = open_memstream(&bash, &len);
	cm_write_bash_completion(f);
	fclose(f);
	for (size_t i = 0; i < cm_ncommands; i++) {
		char *ss = cm_xasprintf(".SS %s\n", cm_commands[i].name);
		assert_non_null(strstr(man, ss));
		free(ss);
		for (const struct cm_opt *o = cm_commands[i].opts; o && o->name; o++) {
			struct cm_buf want = { 0 }; /* roff escapes the option's dashes */
			cm_buf_puts(&want, "\\fB\\-\\-");
			for (const char *c = o->name; *c; c++)
				cm_buf_printf(&want, *c == '-' ? "\\-" : "%c", *c);
			assert_non_null(strstr(man, want.s));
			cm_buf_free(&want);
			char *opt = cm_xasprintf("--%s ", o->name);
			assert_non_null(strstr(bash, opt));
			free(opt);
		}
	}
	assert_non_null(strstr(man, ".SH EXIT STATUS"));
	char *script = cm_xasprintf("%s\nCOMP_WORDS=(coldmark run --fo); COMP_CWORD=2; _coldmark; "
				    "echo \"${COMPREPLY[*]}\"", bash);
	char *argv[] = { "bash", "-c", script, NULL }, *out;
	assert_int_equal(cm_proc_run(argv, 5000, true, &out, 4096), 0);
	assert_string_equal(out, "--format --force\n");
	free(out), free(script), free(man), free(bash);
}

/* --replicate: auto from Slurm's array (less its first index) or an Indexed Job, I/N given;
 * anything else is refused with what was wrong. */
static void test_replicate(void **state)
{
	struct cm_replicate r;
	struct cm_error err = { 0 };
	unsetenv("SLURM_ARRAY_TASK_ID"), unsetenv("JOB_COMPLETION_INDEX");
	assert_int_equal(cm_replicate_parse("auto", &r, &err), CM_EXIT_USAGE);
	assert_non_null(strstr(err.msg, "SLURM_ARRAY_TASK_ID"));
	setenv("SLURM_ARRAY_TASK_ID", "5", 1), setenv("SLURM_ARRAY_TASK_MIN", "4", 1);
	setenv("SLURM_ARRAY_TASK_COUNT", "3", 1), setenv("SLURM_ARRAY_JOB_ID", "4711", 1);
	assert_int_equal(cm_replicate_parse("auto", &r, &err), 0);
	assert_int_equal(r.index, 1);
	assert_int_equal(r.count, 3);
	assert_string_equal(r.job, "slurm 4711_5");
	setenv("SLURM_ARRAY_TASK_ID", "x", 1);
	assert_int_equal(cm_replicate_parse("auto", &r, &err), CM_EXIT_USAGE);
	unsetenv("SLURM_ARRAY_TASK_ID"), unsetenv("SLURM_ARRAY_TASK_MIN");
	setenv("JOB_COMPLETION_INDEX", "7", 1);
	assert_int_equal(cm_replicate_parse("auto", &r, &err), 0);
	assert_int_equal(r.index, 7);
	assert_int_equal(r.count, 0); /* an Indexed Job's pod is not told the count */
	unsetenv("JOB_COMPLETION_INDEX");
	assert_int_equal(cm_replicate_parse("2/3", &r, &err), 0);
	assert_int_equal(r.index, 2);
	const char *bad[] = { "3/3", "-1/3", "1", "a/b", "1/0", "" };
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		assert_int_equal(cm_replicate_parse(bad[i], &r, &err), CM_EXIT_USAGE);
		assert_non_null(strstr(err.msg, "0 <= I < N"));
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_parse),
		cmocka_unit_test(test_errors),
		cmocka_unit_test(test_help_from_table),
		cmocka_unit_test(test_man_and_completion),
		cmocka_unit_test(test_replicate),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
