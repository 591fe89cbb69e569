/* Adding a capture source that --source can select is two files (issue 26): the tests' own
 * "fake" source (source_fake.c and its registration) is linked into coldmark_fake, a coldmark
 * whose main is the real one; run --source fake boots the bundled guest with it, while the
 * plain coldmark, without that registration, refuses the name with the table's names. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "coldmark/harness.h"
#include "coldmark/model.h"
#include "coldmark/util.h"
#include "helpers.h"

static char tmp[256];

/* argv's output (stdout and stderr) into *out; its exit status. No shell. */
static int run(char *const argv[], char **out)
{
	char *path = cm_xasprintf("%s/out-%d", tmp, rand());
	int rc = th_run_out(argv, path, out);
	free(path);
	return rc;
}

static char *matrix(void)
{
	char *path = cm_xasprintf("%s/m.yaml", tmp);
	FILE *f = fopen(path, "w");
	fprintf(f, "guest:\n  bundled: guest\nrun:\n  boots: 2\n  warmup: 0\n  reference: none\n"
		   "  drop_caches: false\n");
	fclose(f);
	return path;
}

/* list shows the argv a run gives qemu: the fake source adds nothing (no isa-debugcon) */
static void test_fake_list(void **state)
{
	(void)state;
	char *m = matrix(), *out;
	char *argv[] = { COLDMARK_FAKE_BIN, "list", m, NULL };
	assert_int_equal(run(argv, &out), 0);
	assert_non_null(strstr(out, "isa-debugcon")); /* run.source auto: debugcon under TCG */
	free(out);
	FILE *f = fopen(m, "a");
	fprintf(f, "  source: fake\n");
	fclose(f);
	assert_int_equal(run(argv, &out), 0);
	assert_null(strstr(out, "isa-debugcon"));
	free(out), free(m);
}

/* --source fake boots the bundled guest; every sample's source is the fake one, every boot ok */
static void test_fake_run(void **state)
{
	(void)state;
	char *m = matrix(), *dir = cm_xasprintf("%s/run", tmp), *out;
	char *argv[] = { COLDMARK_FAKE_BIN, "run", m, "--source", "fake", "-o", dir, "--db",
			 cm_xasprintf("%s/r.db", tmp), NULL };
	int rc = run(argv, &out);
	if (rc)
		fprintf(stderr, "%s", out);
	assert_int_equal(rc, 0);
	char *samples = cm_xasprintf("%s/samples.csv", dir);
	struct cm_dataset ds;
	struct cm_diags d = { 0 };
	assert_int_equal(cm_samples_read(samples, &ds, &d), 0);
	size_t totals = 0;
	for (size_t i = 0; i < ds.n; i++) {
		assert_string_equal(ds.rows[i].source, "fake");
		assert_string_equal(ds.rows[i].status, "ok");
		if (!strcmp(ds.rows[i].phase, "total")) {
			totals++;
			assert_true(ds.rows[i].duration_ns > 0);
		}
	}
	assert_int_equal(totals, 2);
	cm_dataset_free(&ds);
	free(samples), free(out), free(dir), free(m), free(argv[8]);
}

/* without the registration, the name is not a source: exit 2, the table's names said */
static void test_unregistered(void **state)
{
	(void)state;
	char *m = matrix(), *dir = cm_xasprintf("%s/plain", tmp), *out;
	char *argv[] = { COLDMARK_BIN, "run", m, "--source", "fake", "-o", dir, NULL };
	assert_int_equal(run(argv, &out), 2);
	assert_non_null(strstr(out, "--source: error: 'run.source' must be one of "
				    "auto|perf|debugcon|both, not 'fake'"));
	free(out), free(dir), free(m);
}

int main(void)
{
	if (th_mkdtemp(tmp, sizeof(tmp), "srcreg"))
		return 1;
	free(th_need_program("qemu-system-x86_64"));
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_fake_list),
		cmocka_unit_test(test_fake_run),
		cmocka_unit_test(test_unregistered),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
