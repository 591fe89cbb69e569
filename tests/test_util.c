/* Shared utilities: SHA-256 against FIPS 180-4 vectors, helper programs by argv with a
 * deadline, capped diagnostics. */
#define _GNU_SOURCE
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "coldmark/harness.h"

static void hex_of(const char *s, size_t n, char out[65])
{
	struct cm_sha256 h;
	cm_sha256_init(&h);
	cm_sha256_update(&h, s, n);
	cm_sha256_hex(&h, out);
}

static void test_sha256(void **state)
{
	char out[65];
	hex_of("", 0, out);
	assert_string_equal(out, "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
	hex_of("abc", 3, out);
	assert_string_equal(out, "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
	/* 56 bytes: the padding spills into a second block */
	const char *two = "abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq";
	hex_of(two, strlen(two), out);
	assert_string_equal(out, "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1");
	/* a million 'a' fed in odd pieces, through a file */
	char path[] = "/tmp/cm-sha-XXXXXX";
	int fd = mkstemp(path);
	char chunk[1000];
	memset(chunk, 'a', sizeof(chunk));
	for (int i = 0; i < 1000; i++)
		assert_int_equal(write(fd, chunk, sizeof(chunk)), (ssize_t)sizeof(chunk));
	close(fd);
	assert_int_equal(cm_sha256_file(path, out), 0);
	assert_string_equal(out, "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0");
	unlink(path);
	assert_int_equal(cm_sha256_file("/nonexistent/x", out), -ENOENT);
}

static void test_proc(void **state)
{
	/* a hostile argument is one argument: nothing of it runs */
	char *out;
	char *echo[] = { "echo", "a';touch /tmp/cm-PWNED;'", "$(id)", NULL };
	unlink("/tmp/cm-PWNED");
	assert_int_equal(cm_proc_run(echo, 5000, false, &out, 1 << 10), 0);
	assert_string_equal(out, "a';touch /tmp/cm-PWNED;' $(id)\n");
	assert_int_not_equal(access("/tmp/cm-PWNED", F_OK), 0);
	free(out);
	/* the deadline holds: a helper that hangs is killed (had it been waited for, it would
	 * have left its file: that, not a wall time, tells the two apart on a busy host) */
	char *slept = cm_xasprintf("/tmp/cm-slept-%d", (int)getpid());
	char *hang_argv[] = { "sh", "-c", "sleep 30; touch \"$0\"", slept, NULL };
	unlink(slept);
	assert_int_equal(cm_proc_run(hang_argv, 200, false, &out, 16), -ETIMEDOUT);
	assert_int_not_equal(access(slept, F_OK), 0);
	free(out), free(slept);
	char *sleep_argv[] = { "sleep", "30", NULL };
	char *line = cm_proc_first_line(sleep_argv, 100);
	assert_non_null(strstr(line, "no answer within 100 ms"));
	free(line);
	/* missing programs and exit statuses */
	char *none[] = { "/nonexistent/prog", NULL };
	assert_int_equal(cm_proc_run(none, 5000, false, &out, 16), -ENOENT);
	free(out);
	char *fail[] = { "sh", "-c", "echo x; exit 3", NULL };
	assert_int_equal(cm_proc_run(fail, 5000, false, &out, 1), 3);
	assert_string_equal(out, "x"); /* capped at max bytes */
	free(out);
}

static void test_diags_capped(void **state)
{
	struct cm_diags d = { 0 };
	for (int i = 0; i < 100000; i++)
		cm_diags_add(&d, CM_SEV_ERROR, "m.yaml", i + 1, 1, "bad value %d", i);
	assert_int_equal(d.n, CM_DIAGS_MAX);
	assert_int_equal(d.n_errors, 100000);
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);
	cm_diags_print(&d, f);
	fclose(f);
	assert_true(len < 10000);
	assert_non_null(strstr(buf, "and 99950 more diagnostics like these (100000 errors in all)"));
	free(buf);
	cm_diags_clear(&d);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_sha256),
		cmocka_unit_test(test_proc),
		cmocka_unit_test(test_diags_capped),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
