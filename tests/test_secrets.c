/* No secret printed or written (issue 22 item 11): every way a password was seen to leak,
 * each tried in every argument position of every command of the real coldmark binary, with
 * stdout, stderr, every file written (meta.csv, the journals, the reports, logs) and every
 * file and folder name searched for any piece of the password. No server is needed: the
 * URLs point at a socket folder that does not exist (the server-side cases are in
 * test_pgfaults). Groups: redact (util's redaction itself), commands (the binary). */
#define _GNU_SOURCE
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <dirent.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "coldmark/util.h"
#include "helpers.h"

/* A target holding a password, and the pieces of it that must never be seen. */
struct variant {
	const char *name;
	char *target;
	const char *marks[3];
};

#define NOHOST "host=/nonexistent-coldmark-sock"
#define LONG_UNIT "Lq9S3cret"

static char *long_url(size_t len)
{
	struct cm_buf b = { 0 };
	cm_buf_puts(&b, "postgresql://iam:");
	while (b.len < len)
		cm_buf_puts(&b, LONG_UNIT);
	cm_buf_puts(&b, "@/coldmark?" NOHOST);
	return cm_buf_steal(&b);
}

static struct variant variants[] = {
	{ "plain URL", "postgresql://u:Zq7S3cretXy@/coldmark?" NOHOST, { "Zq7S3cret" } },
	{ "bad %-escape", "postgresql://u:Zq7S3cr%zzXy@/coldmark?" NOHOST, { "Zq7S3cr", "zzXy" } },
	{ "unencoded /", "postgresql://u:Zq7/S3cretXy@localhost/coldmark", { "Zq7", "S3cretXy" } },
	{ "unencoded @", "postgresql://u:Zq7@S3cretXy@/coldmark?" NOHOST, { "Zq7", "S3cretXy" } },
	{ "600-byte password", NULL, { LONG_UNIT } },
	{ "5000-byte password", NULL, { LONG_UNIT } },
	{ "password= in the query", "postgresql:///coldmark?" NOHOST "&password=Zq7S3cretXy",
	  { "Zq7S3cret" } },
	{ "Password= in the query", "postgresql:///coldmark?" NOHOST "&Password=Zq7S3cretXy",
	  { "Zq7S3cret" } },
	{ "%-encoded key", "postgresql:///coldmark?" NOHOST "&pass%77ord=Zq7S3cretXy", { "Zq7S3cret" } },
	{ "POSTGRESQL://", "POSTGRESQL://u:Zq7S3cretXy@/coldmark?" NOHOST, { "Zq7S3cret" } },
	{ "postgres:// sslpassword", "postgres://u@/coldmark?" NOHOST "&sslpassword=Zq7S3cretXy",
	  { "Zq7S3cret" } },
	{ "key=value", NOHOST " password=Zq7S3cretXy dbname=coldmark", { "Zq7S3cret" } },
	{ "key=value quoted", NOHOST " Password = 'Zq7 S3cretXy' dbname=coldmark", { "Zq7 ", "S3cretXy" } },
};
#define NVARIANTS (sizeof(variants) / sizeof(variants[0]))

static char tmp[256];
static const char *bin; /* th_coldmark_bin() */

/* ---- redact: util's redaction ------------------------------------------------------------ */

static void assert_clean(const char *text, const struct variant *v)
{
	for (int k = 0; k < 3 && v->marks[k]; k++)
		if (strstr(text, v->marks[k]))
			fail_msg("%s: '%s' shows in: %.300s", v->name, v->marks[k], text);
}

static void test_redact_variants(void **state)
{
	for (size_t i = 0; i < NVARIANTS; i++) {
		const struct variant *v = &variants[i];
		char *r = cm_redact(v->target), small[64];
		assert_clean(r, v);
		assert_non_null(strstr(r, "***"));
		assert_true(cm_holds_secret(v->target));
		free(r);
		cm_redact_to(v->target, small, sizeof(small)); /* cut after, never before */
		assert_clean(small, v);
		/* a message that quotes the URL, and libpq's text about it */
		char *msg = cm_xasprintf("coldmark: '%s' is not a file", v->target);
		r = cm_redact(msg);
		assert_clean(r, v);
		free(r), free(msg);
	}
}

static void test_redact_exact(void **state)
{
	static const char *const cases[][2] = {
		{ "postgresql://u:pw@h:5432/db?sslmode=require", "postgresql://u:***@h:5432/db?sslmode=require" },
		{ "postgres://h/db?user=u&password=pw&sslmode=require",
		  "postgres://h/db?user=u&password=***&sslmode=require" },
		{ "postgresql://h:5432/db", "postgresql://h:5432/db" },
		{ "postgresql://[::1]:5432/db", "postgresql://[::1]:5432/db" },
		{ "postgresql://u@h/db", "postgresql://u@h/db" },
		{ "postgresql:///db?host=/x: no results store for \"me@corp\"",
		  "postgresql:///db?host=/x: no results store for \"me@corp\"" },
		{ "password authentication failed for user \"u\"",
		  "password authentication failed for user \"u\"" },
		{ "host=h password='a \\' b' user=u", "host=h password=*** user=u" },
		{ "postgresql://u:cut-short", "postgresql://u:***" },
		{ "runs/2026-01-01", "runs/2026-01-01" },
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		char *r = cm_redact(cases[i][0]);
		assert_string_equal(r, cases[i][1]);
		assert_int_equal(cm_holds_secret(cases[i][0]), strcmp(cases[i][0], cases[i][1]) != 0);
		free(r);
	}
	/* libpq's own words about a URL it could not parse quote pieces of the password */
	char *m = cm_redact_msg("invalid integer value \"Zq7\" for connection option \"port\"",
				"postgresql://u:Zq7/S3cretXy@localhost/db");
	assert_string_equal(m, "invalid integer value \"***\" for connection option \"port\"");
	free(m);
	m = cm_redact_msg("invalid percent-encoded token: \"Zq7S3cr%zzXy\"",
			  "postgresql://u:Zq7S3cr%zzXy@/db");
	assert_string_equal(m, "invalid percent-encoded token: \"***\"");
	free(m);
}

/* ---- commands: the real binary --------------------------------------------------------- */

static const char matrix_yaml[] =
	"qemu: /bin/true\n"
	"guest: {bundled: guest}\n"
	"base_args: [-accel, tcg]\n"
	"axes: {smp: [1]}\n"
	"phases:\n"
	"  - {name: firmware, from: exec, to: real_mode}\n"
	"run: {boots: 2, warmup: 0, drop_caches: false, reference: none, max_failed: 100}\n";

/* Each command line, @T the target with the password, @M a matrix, @S a samples.csv; 2 when
 * the target is where no store belongs (refused before anything is done), else -1: any. */
static const struct {
	const char *argv[12];
	int want;
} commands[] = {
	{ { "run", "@M", "-o", "out", "--db", "@T" }, -1 },
	{ { "run", "@M", "-o", "@T" }, 2 },
	{ { "run", "@T" }, 2 },
	{ { "run", "@M", "--resume", "@T" }, 2 },
	{ { "run", "@M", "--tag", "@T", "-o", "out", "--db", "local.db" }, 2 },
	{ { "calibrate", "@M", "--sessions", "2", "-o", "out", "--db", "@T" }, -1 },
	{ { "sync", "@T" }, 2 },
	{ { "sync", "out", "--db", "@T" }, -1 },
	{ { "compare", "@T", "x" }, 2 },
	{ { "compare", "x", "@T" }, 2 },
	{ { "compare", "a", "b", "--db", "@T" }, -1 },
	{ { "compare", "@S", "--axis", "@T" }, 2 },
	{ { "history", "--db", "@T" }, -1 },
	{ { "import", "@T", "--tag", "t" }, 2 },
	{ { "import", "@S", "--tag", "@T", "--db", "local.db" }, 2 },
	{ { "import", "@S", "--tag", "t", "--db", "@T" }, -1 },
	{ { "report", "@T" }, 2 },
	{ { "report", "@S", "-o", "@T" }, 2 },
	{ { "merge", "@T", "--db", "local.db" }, -1 },
	{ { "merge", "local.db", "--db", "@T" }, -1 },
	{ { "list", "@T" }, 2 },
	{ { "ENV", "history" }, -1 },	      /* COLDMARK_DB=@T */
	{ { "ENV", "run", "@M", "-o", "out" }, -1 },
};
#define NCOMMANDS (sizeof(commands) / sizeof(commands[0]))

static int leaks; /* every leak is told, then the test fails: the whole table is seen */

static void leak(const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	printf("\n");
	leaks++;
}

/* Every name and every byte under dir: no piece of the password. */
static void tree_clean(const char *dir, const struct variant *v, const char *what)
{
	DIR *d = opendir(dir);
	struct dirent *e;
	assert_non_null(d);
	while ((e = readdir(d))) {
		if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, ".."))
			continue;
		char *path = cm_xasprintf("%s/%s", dir, e->d_name);
		for (int k = 0; k < 3 && v->marks[k]; k++)
			if (strstr(e->d_name, v->marks[k]))
				leak("LEAK %s, %s: a file named after the password: %.200s", v->name, what, path);
		struct stat st;
		if (!lstat(path, &st) && S_ISDIR(st.st_mode)) {
			tree_clean(path, v, what);
		} else if (S_ISREG(st.st_mode)) {
			size_t len;
			char *s = th_slurp_len(path, &len);
			for (int k = 0; k < 3 && v->marks[k]; k++)
				if (memmem(s, len, v->marks[k], strlen(v->marks[k])))
					leak("LEAK %s, %s: '%s' written in %.200s", v->name, what, v->marks[k], path);
			free(s);
		}
		free(path);
	}
	closedir(d);
}

/* One command of one variant, in a folder of its own: its status. */
static int run_one(size_t vi, size_t ci, const char *dir)
{
	const struct variant *v = &variants[vi];
	char *argv[16] = { (char *)bin };
	int n = 1;
	bool env = !strcmp(commands[ci].argv[0], "ENV");
	for (int k = env ? 1 : 0; commands[ci].argv[k]; k++) {
		const char *a = commands[ci].argv[k];
		argv[n++] = !strcmp(a, "@T") ? v->target : !strcmp(a, "@M") ? "m.yaml"
			    : !strcmp(a, "@S") ? "samples.csv" : (char *)a;
	}
	char *out = cm_xasprintf("%s.out", dir);
	if (env) /* the child inherits it */
		setenv("COLDMARK_DB", v->target, 1);
	else
		unsetenv("COLDMARK_DB");
	int rc = th_finish(th_start_in(argv, out, dir));
	unsetenv("COLDMARK_DB");
	size_t len;
	char *text = th_slurp_len(out, &len);
	for (int k = 0; k < 3 && v->marks[k]; k++)
		if (memmem(text, len, v->marks[k], strlen(v->marks[k])))
			leak("LEAK %s, command %zu (%s %s): '%s' printed: %.300s", v->name, ci,
			     commands[ci].argv[0], commands[ci].argv[1] ? commands[ci].argv[1] : "",
			     v->marks[k], text);
	if (strstr(text, "Sanitizer") || strstr(text, "runtime error:")) /* the asan build */
		leak("SANITIZER %s, command %zu: %.2000s", v->name, ci, text);
	free(text);
	free(out);
	return rc;
}

static void test_every_command(void **state)
{
	char *samples = cm_xasprintf("%s", FIXTURES "/samples.csv");
	size_t slen, leaky = 0;
	char *stext = th_slurp_len(samples, &slen);
	for (size_t vi = 0; vi < NVARIANTS; vi++) {
		int before = leaks;
		for (size_t ci = 0; ci < NCOMMANDS; ci++) {
			char *dir = cm_xasprintf("%s/v%zu-c%zu", tmp, vi, ci);
			assert_int_equal(mkdir(dir, 0755), 0);
			char *m = cm_xasprintf("%s/m.yaml", dir), *s = cm_xasprintf("%s/samples.csv", dir);
			th_write(m, matrix_yaml, 0644);
			th_write(s, stext, 0644);
			int rc = run_one(vi, ci, dir);
			char what[200];
			snprintf(what, sizeof(what), "command %zu (%s %s)", ci, commands[ci].argv[0],
				 commands[ci].argv[1] ? commands[ci].argv[1] : "");
			tree_clean(dir, &variants[vi], what);
			if (commands[ci].want >= 0 && rc != commands[ci].want)
				leak("EXIT %s, %s: exit %d, expected %d", variants[vi].name, what, rc,
				     commands[ci].want);
			free(m), free(s), free(dir);
		}
		leaky += leaks > before;
	}
	free(stext), free(samples);
	if (leaks)
		fail_msg("%d leaks or wrong exits; %zu of %zu variants leak", leaks, leaky, NVARIANTS);
}

int main(int argc, char **argv)
{
	variants[4].target = long_url(600);
	variants[5].target = long_url(5000);
	bin = th_coldmark_bin();
	setenv("COLDMARK_GUEST_DIR", GUEST_DIR, 1);
	if (th_mkdtemp(tmp, sizeof(tmp), "secrets"))
		return 1;
	const struct CMUnitTest redact[] = {
		cmocka_unit_test(test_redact_variants),
		cmocka_unit_test(test_redact_exact),
	};
	const struct CMUnitTest commands_t[] = {
		cmocka_unit_test(test_every_command),
	};
	const char *group = argc > 1 ? argv[1] : "";
	int rc = 0;
	if (!*group || !strcmp(group, "redact"))
		rc |= cmocka_run_group_tests_name("redact", redact, NULL, NULL);
	if (!*group || !strcmp(group, "commands"))
		rc |= cmocka_run_group_tests_name("commands", commands_t, NULL, NULL);
	if (!rc)
		th_rm_rf(tmp);
	free(variants[4].target), free(variants[5].target);
	return rc;
}
