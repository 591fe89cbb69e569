/* Option lookup by name cannot fail silently: every literal name cli/ passes to cm_cli_get or
 * cm_cli_flag is an option of some command (a misspelling would read NULL, "not given",
 * forever), and every run.* key's flag is an option of run with its value found. */
#include <dirent.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "cli.h"
#include "coldmark/util.h"

static bool known(const char *name)
{
	for (size_t c = 0; c < cm_ncommands; c++)
		for (const struct cm_opt *o = cm_commands[c].opts; o && o->name; o++)
			if (!strcmp(o->name, name))
				return true;
	return false;
}

/* The names in `cm_cli_get(X, "name"` and `cm_cli_flag(X, "name"` of one source; returns how
 * many were checked, failing on the first unknown one. */
static size_t check_file(const char *path)
{
	size_t len, n = 0;
	char *text = cm_read_file(path, &len);
	assert_non_null(text);
	const char *calls[] = { "cm_cli_get(", "cm_cli_flag(" };
	for (int k = 0; k < 2; k++)
		for (const char *p = strstr(text, calls[k]); p; p = strstr(p + 1, calls[k])) {
			const char *comma = strchr(p, ','), *close = strchr(p, ')');
			if (!comma || (close && close < comma) || comma[1] != ' ' || comma[2] != '"')
				continue; /* a name from a table (checked there) or the definition */
			const char *b = comma + 3, *e = strchr(b, '"');
			char *name = cm_xasprintf("%.*s", (int)(e - b), b);
			if (!known(name))
				fail_msg("%s: cm_cli lookup of '%s', an option of no command", path, name);
			free(name);
			n++;
		}
	free(text);
	return n;
}

static void test_every_name_is_an_option(void **state)
{
	DIR *d = opendir(SOURCE_DIR "/cli");
	assert_non_null(d);
	size_t n = 0;
	for (struct dirent *e; (e = readdir(d));) {
		size_t l = strlen(e->d_name);
		if (l < 3 || strcmp(e->d_name + l - 2, ".c"))
			continue;
		char *p = cm_xasprintf("%s/cli/%s", SOURCE_DIR, e->d_name);
		n += check_file(p);
		free(p);
	}
	closedir(d);
	assert_true(n >= 8); /* today 10 */ /* the scan found the lookups (today about 35) */
}

static void test_a_misspelling_is_caught(void **state)
{
	assert_true(known("boots"));
	assert_false(known("boot"));
}

/* Every run.* key with a flag is an option of run and of calibrate, however many there are
 * (no fixed slots: the 25th was once dropped silently), and its value is found by its name. */
static void test_every_key_flag_is_an_option(void **state)
{
	(void)state;
	size_t n = cm_matrix_key_flags(NULL, 0);
	struct cm_key_flag *kf = calloc(n + 1, sizeof(*kf));
	cm_matrix_key_flags(kf, n);
	assert_true(n >= 8); /* today 10 */
	const char *cmds[] = { "run", "calibrate" };
	for (size_t c = 0; c < 2; c++)
		for (size_t i = 0; i < n; i++) {
			const struct cm_cmd *cmd = cm_command(cmds[c]);
			char *flag = cm_xasprintf("--%s", kf[i].flag);
			char *argv[] = { "m.yaml", flag, "7" };
			struct cm_cli cli;
			int argc = kf[i].metavar ? 3 : 2;
			if (cm_cli_parse(cmd, argc, argv, &cli))
				fail_msg("%s %s: not an option", cmds[c], flag);
			const char *v = cm_cli_get(&cli, kf[i].flag);
			if (!v || strcmp(v, kf[i].metavar ? "7" : "1"))
				fail_msg("%s %s: value not found", cmds[c], flag);
			free(flag);
		}
	free(kf);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_every_name_is_an_option),
		cmocka_unit_test(test_a_misspelling_is_caught),
		cmocka_unit_test(test_every_key_flag_is_an_option),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
