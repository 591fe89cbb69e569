/* The matrix layer: expansion, ids, argv, and every validation error with its line:col. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <dirent.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "coldmark/matrix.h"

#define GUEST "guest: {bundled: guest}\n"

static struct cm_matrix *load(const char *text, struct cm_diags *d)
{
	setenv("COLDMARK_GUEST_DIR", GUEST_DIR, 1);
	return cm_matrix_load_string(text, strlen(text), SOURCE_DIR "/tests/inline.yaml", d);
}

/* The matrix's own cases: the reference cases (run.reference) come after them. */
static size_t own(const struct cm_matrix *m)
{
	size_t n = 0;
	while (n < m->ncases && !m->cases[n].reference)
		n++;
	return n;
}

/* Asserts that loading fails with exactly this diagnostic among the errors. */
static void expect_error(const char *text, int line, int col, const char *needle)
{
	struct cm_diags d = { 0 };
	struct cm_matrix *m = load(text, &d);
	bool found = false;
	for (size_t i = 0; i < d.n; i++)
		if (d.v[i].line == line && d.v[i].col == col && strstr(d.v[i].msg, needle))
			found = true;
	if (!found || m) {
		cm_diags_print(&d, stderr);
		fprintf(stderr, "wanted %d:%d '%s'\n", line, col, needle);
	}
	assert_null(m);
	assert_true(found);
	cm_diags_clear(&d);
}

static void test_product_and_ids(void **state)
{
	struct cm_diags d = { 0 };
	struct cm_matrix *m = load(GUEST "axes:\n  memory: [128M, 1G]\n  machine: [pc, q35]\n"
				       "  smp: [1, 2, 4]\n",
				   &d);
	assert_non_null(m);
	assert_int_equal(own(m), 12);
	assert_string_equal(m->cases[0].id, "memory=128M,machine=pc,smp=1");
	assert_string_equal(m->cases[11].id, "memory=1G,machine=q35,smp=4");
	/* argv: qemu, guest drive, exit device, then the axes in order; never a shell string */
	const struct cm_case *c = &m->cases[5];
	assert_string_equal(c->id, "memory=128M,machine=q35,smp=4");
	assert_string_equal(c->argv[0], "qemu-system-x86_64");
	assert_string_equal(c->argv[c->argc - 6], "-m");
	assert_string_equal(c->argv[c->argc - 5], "128M");
	assert_string_equal(c->argv[c->argc - 4], "-machine");
	assert_string_equal(c->argv[c->argc - 2], "-smp");
	assert_string_equal(c->argv[c->argc - 1], "4");
	assert_null(c->argv[c->argc]);
	assert_int_equal(m->exit_status, 33);
	assert_int_equal(m->boots, 10);
	cm_matrix_free(m);
	cm_diags_clear(&d);
}

static void test_exclude_include(void **state)
{
	struct cm_diags d = { 0 };
	/* GitHub Actions: exclude first; include extends matching cases without overwriting
	 * original values, else adds a case */
	struct cm_matrix *m =
		load(GUEST "axes:\n  memory: [128M, 1G]\n  accel: [kvm, tcg]\n"
			   "exclude:\n  - {memory: 1G, accel: tcg}\n"
			   "include:\n  - {accel: kvm, cpu: max}\n  - {memory: 4G, accel: tcg}\n",
		     &d);
	assert_non_null(m);
	assert_int_equal(own(m), 4);
	assert_string_equal(m->cases[0].id, "memory=128M,accel=kvm,cpu=max");
	assert_string_equal(m->cases[1].id, "memory=128M,accel=tcg");
	assert_string_equal(m->cases[2].id, "memory=1G,accel=kvm,cpu=max");
	assert_string_equal(m->cases[3].id, "memory=4G,accel=tcg");
	char *cmd = cm_case_cmdline(&m->cases[0]);
	assert_non_null(strstr(cmd, "-accel kvm -cpu max"));
	free(cmd);
	cm_matrix_free(m);
	cm_diags_clear(&d);
}

static void test_exclude_matches_nothing_warns(void **state)
{
	struct cm_diags d = { 0 };
	struct cm_matrix *m = load(GUEST "axes:\n  memory: [128M, 1G]\nexclude:\n  - {memory: 2G}\n", &d);
	assert_non_null(m);
	assert_int_equal(own(m), 2);
	assert_int_equal(d.n, 1);
	assert_int_equal(d.v[0].sev, CM_SEV_WARNING);
	assert_int_equal(d.v[0].line, 5);
	assert_int_equal(d.v[0].col, 5);
	cm_matrix_free(m);
	cm_diags_clear(&d);
}

static void test_ranges(void **state)
{
	struct cm_diags d = { 0 };
	struct cm_matrix *m = load(GUEST "axes:\n  memory: {from: 128M, to: 4G, factor: 2}\n"
				       "  smp: {from: 1, to: 3, step: 1}\n",
				   &d);
	assert_non_null(m);
	assert_int_equal(m->axes[0].nvalues, 6); /* 128M 256M 512M 1G 2G 4G */
	assert_string_equal(m->axes[0].values[3].label, "1G");
	assert_string_equal(m->axes[0].values[5].label, "4G");
	assert_int_equal(m->axes[1].nvalues, 3);
	assert_int_equal(own(m), 18);
	cm_matrix_free(m);
	cm_diags_clear(&d);
}

static void test_groups_and_custom_axis(void **state)
{
	struct cm_diags d = { 0 };
	struct cm_matrix *m =
		load(GUEST "axes:\n  devices:\n    - {name: none}\n"
			   "    - {name: rng, args: [-device, virtio-rng-pci]}\n"
			   "  hugepages:\n    template: [-mem-path, \"/dev/hugepages/{}\"]\n"
			   "    values: [a, b]\n",
		     &d);
	assert_non_null(m);
	assert_int_equal(own(m), 4);
	assert_string_equal(m->cases[2].id, "devices=rng,hugepages=a");
	const struct cm_case *c = &m->cases[2];
	assert_string_equal(c->argv[c->argc - 1], "/dev/hugepages/a");
	assert_string_equal(c->argv[c->argc - 3], "virtio-rng-pci");
	cm_matrix_free(m);
	cm_diags_clear(&d);
}

static void test_presets_and_phases(void **state)
{
	struct cm_diags d = { 0 };
	struct cm_matrix *m = load(GUEST "markers: {preset: nanos}\n", &d);
	assert_non_null(m);
	assert_int_equal(m->nmarkers, 2);
	assert_int_equal(m->markers[1].value, 200);
	assert_string_equal(m->end_marker, "first_thread");
	assert_int_equal(m->nphases, 2);
	assert_string_equal(m->phases[0].from, "exec");
	assert_string_equal(m->phases[1].to, "first_thread");
	cm_matrix_free(m);
	m = load(GUEST "markers: {preset: qemu-boot-time}\n", &d);
	assert_non_null(m);
	assert_int_equal(m->nmarkers, 7);
	assert_int_equal(m->nports, 2); /* 0xf4 and 0xf5 */
	assert_string_equal(m->end_marker, "linux_start_user");
	assert_non_null(cm_matrix_marker_by_value(m, 0xf5, 5));
	cm_matrix_free(m);
	cm_diags_clear(&d);
}

static void test_run_settings(void **state)
{
	struct cm_diags d = { 0 };
	struct cm_matrix *m = load(GUEST "run:\n  boots: 7\n  warmup: 0\n  timeout: 1500ms\n"
				       "  order: interleaved\n  drop_caches: false\n  pin: \"1\"\n"
				       "  env: {FOO: bar}\n",
				   &d);
	assert_non_null(m);
	assert_int_equal(m->boots, 7);
	assert_int_equal(m->warmup, 0);
	assert_int_equal(m->timeout_ms, 1500);
	assert_int_equal(m->order, CM_ORDER_INTERLEAVED);
	assert_false(m->drop_caches);
	assert_string_equal(m->pin, "1");
	assert_string_equal(m->env[0], "FOO=bar");
	cm_matrix_free(m);
	cm_diags_clear(&d);
}

static void test_errors(void **state)
{
	expect_error(GUEST "axis:\n  memory: [1G]\n", 2, 1, "did you mean 'axes'");
	expect_error(GUEST "run:\n  boot: 3\n", 3, 3, "did you mean 'boots'");
	expect_error(GUEST "run:\n  boots: many\n", 3, 10, "must be an integer");
	expect_error(GUEST "run:\n  boots: 0\n", 3, 10, "out of range");
	expect_error(GUEST "run:\n  boots: 1\n  boots: 2\n", 4, 3, "duplicate key 'run.boots'");
	expect_error(GUEST "axes:\n  memory: []\n", 3, 11, "axis 'memory' is empty");
	expect_error(GUEST "axes:\n  memory: [128M, lots]\n", 3, 18, "does not parse");
	expect_error(GUEST "markers:\n  table:\n    - {value: 1, name: a}\n    - {value: 1, name: b}\n",
		     5, 7, "used twice");
	expect_error(GUEST "phases:\n  - {name: p, from: exec, to: nowhere}\n", 3, 5,
		     "unknown event 'nowhere'");
	expect_error("guest: {kernel: /nonexistent/vmlinuz}\n", 1, 17, "not found");
	expect_error(GUEST "base_args: [-device, \"isa-debug-exit,iobase=0xf4\"]\n", 2, 12,
		     "marker port");
	/* libyaml marks the end of the input, where it gave up looking for the ']' */
	expect_error(GUEST "axes:\n  memory: [1G\n", 4, 1, "YAML syntax");
	expect_error(GUEST "axes:\n  memroy: [1G]\n", 3, 3, "did you mean 'memory'");
	expect_error(GUEST "run:\n  order: random\n", 3, 10, "must be one of");
	expect_error("run: {boots: 1}\n", 1, 1, "no guest");
	expect_error(GUEST "phases:\n  - {name: boot, from: exec, to: exit}\n"
			   "run:\n  until_ci_phase: bot\n",
		     5, 19, "unknown phase 'bot' (phases: boot, total)");
	expect_error(GUEST "markers:\n  end: nope\n", 3, 8, "markers.end names unknown marker");
	expect_error(GUEST "exclude:\n  - {memory: 1G, accel: kvm}\naxes: {memory: [1G], accel: [kvm]}\n",
		     1, 1, "no cases left");
}

static void test_all_errors_in_one_pass(void **state)
{
	struct cm_diags d = { 0 };
	struct cm_matrix *m = load(GUEST "run:\n  boots: x\n  warmup: -1\nbogus: 1\n", &d);
	assert_null(m);
	assert_int_equal(d.n_errors, 3);
	cm_diags_clear(&d);
}

/* CLI flags override run.* keys through the same table: same parsing, same ranges */
static void test_override(void **state)
{
	struct cm_diags d = { 0 };
	struct cm_matrix *m = load(GUEST, &d);
	assert_non_null(m);
	assert_int_equal(cm_matrix_override(m, "run.boots", "7", "-n", &d), 0);
	assert_int_equal(m->boots, 7);
	assert_int_equal(cm_matrix_override(m, "run.order", "interleaved", "--order", &d), 0);
	assert_int_equal(m->order, CM_ORDER_INTERLEAVED);
	assert_int_equal(d.n, 0);
	assert_int_not_equal(cm_matrix_override(m, "run.boots", "0", "-n", &d), 0);
	assert_int_equal(m->boots, 7); /* a refused value changes nothing */
	assert_int_not_equal(cm_matrix_override(m, "run.order", "random", "--order", &d), 0);
	assert_int_not_equal(cm_matrix_override(m, "axes", "x", "--axes", &d), 0);
	assert_int_equal(d.n_errors, 3);
	assert_string_equal(d.v[0].file, "-n");
	assert_int_equal(d.v[0].line, 0);
	assert_non_null(strstr(d.v[0].msg, "out of range [1, 1000000]"));
	assert_non_null(strstr(d.v[1].msg, "one of sequential|interleaved|shuffled"));
	cm_matrix_free(m);
	cm_diags_clear(&d);
}

static void test_key_table(void **state)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);
	cm_matrix_print_keys(f);
	fclose(f);
	/* every key the parser accepts is listed with its help */
	const char *keys[] = { "qemu", "guest.bundled", "axes", "include", "exclude",
			       "markers.preset", "phases", "run.boots", "run.timeout", "run.order",
			       "run.pin", "run.env", "run.source", "run.until_ci" };
	for (size_t i = 0; i < sizeof(keys) / sizeof(keys[0]); i++)
		assert_non_null(strstr(buf, keys[i]));
	assert_non_null(strstr(buf, "default 10"));
	free(buf);
}

static void test_large_sweep(void **state)
{
	/* 10,000 cases expand; the timing figure lives in scripts/bench.sh */
	struct cm_diags d = { 0 };
	struct cm_matrix *m = load(GUEST "axes:\n  smp: {from: 1, to: 100, step: 1}\n"
				       "  custom1: {template: [-name, \"{}\"], values: "
				       "[a0,a1,a2,a3,a4,a5,a6,a7,a8,a9]}\n"
				       "  custom2: {template: [-uuid, \"{}\"], values: "
				       "[b0,b1,b2,b3,b4,b5,b6,b7,b8,b9]}\n",
				   &d);
	assert_non_null(m);
	assert_int_equal(own(m), 10000);
	cm_matrix_free(m);
	cm_diags_clear(&d);
}

static void test_fixture_files(void **state)
{
	/* every malformed matrix under tests/fixtures/bad gives one clear error, never a crash */
	static const char *const bad[] = { "bad/unknown-key.yaml", "bad/syntax.yaml",
					   "bad/debug-exit-on-marker-port.yaml" };
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		struct cm_diags d = { 0 };
		char *p = cm_xasprintf("%s/%s", FIXTURES, bad[i]);
		struct cm_matrix *m = cm_matrix_load(p, &d);
		assert_null(m);
		assert_int_equal(d.n_errors, 1);
		assert_true(d.v[0].line > 0);
		free(p);
		cm_diags_clear(&d);
	}
	/* a NUL byte in the file is an error, not a silently shorter matrix */
	FILE *nf = fopen("nul.yaml", "wb");
	fwrite("guest: {bundled: guest}\n\0run: {boots: x}\n", 1, 42, nf);
	fclose(nf);
	struct cm_diags dn = { 0 };
	assert_null(cm_matrix_load("nul.yaml", &dn));
	assert_non_null(strstr(dn.v[0].msg, "NUL"));
	cm_diags_clear(&dn);
	remove("nul.yaml");

	struct cm_diags d = { 0 };
	struct cm_matrix *m = cm_matrix_load(SOURCE_DIR "/configs/demo.yaml", &d);
	assert_non_null(m);
	assert_int_equal(own(m), 4);
	cm_matrix_free(m);
	cm_diags_clear(&d);
}

/* Every input the fuzzer kept, and every crash it ever found, loads without a crash: either a
 * matrix or errors with a position. */
static void test_fuzz_corpus(void **state)
{
	static const char *const dirs[] = { SOURCE_DIR "/tests/fuzz/corpus",
					    SOURCE_DIR "/tests/fuzz/crashes" };
	size_t n = 0;
	setenv("COLDMARK_GUEST_DIR", "/nonexistent", 1);
	for (int i = 0; i < 2; i++) {
		DIR *d = opendir(dirs[i]);
		struct dirent *e;
		while (d && (e = readdir(d))) {
			if (e->d_name[0] == '.')
				continue;
			char *p = cm_xasprintf("%s/%s", dirs[i], e->d_name);
			struct cm_diags dg = { 0 };
			struct cm_matrix *m = cm_matrix_load(p, &dg);
			assert_true(m != NULL || dg.n_errors > 0);
			cm_matrix_free(m);
			cm_diags_clear(&dg);
			free(p);
			n++;
		}
		if (d)
			closedir(d);
	}
	print_message("replayed %zu fuzz inputs\n", n);
	assert_true(n > 0);
}

static void test_durations(void **state)
{
	static const struct {
		const char *text;
		double ns;
	} ok[] = { { "30s", 30e9 }, { "7", 7e9 }, { "500ms", 500e6 }, { "250us", 250e3 },
		   { "250µs", 250e3 }, { "40ns", 40 }, { "1.5s", 1.5e9 }, { "2m", 120e9 },
		   { "2min", 120e9 }, { ".5ms", 5e5 } };
	for (size_t i = 0; i < sizeof(ok) / sizeof(ok[0]); i++) {
		double ns = -1;
		assert_int_equal(cm_parse_duration_ns(ok[i].text, &ns), 0);
		assert_true(fabs(ns - ok[i].ns) < 1e-6 * ok[i].ns);
	}
	static const char *const bad[] = { "", "s", "-1s", "5h", "1e30s", "10 ms", "ms5", "nan" };
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		double ns;
		assert_int_not_equal(cm_parse_duration_ns(bad[i], &ns), 0);
	}
	int64_t ms;
	assert_int_equal(cm_parse_duration_ms("1500us", &ms), 0);
	assert_int_equal(ms, 2); /* rounded */
}

/* Hostile and runaway inputs: control characters never reach a terminal; a range with a
 * tiny factor stops with one error, not 10^5; a mapping of many keys loads in linear time and
 * still finds its duplicate. */
static void test_hostile_and_runaway(void **state)
{
	expect_error("guest: {bundled: guest}\naxes:\n  mode: {template: [-name, \"{}\"], values: "
		     "[\"a\\e[31mred\", b]}\n",
		     3, 44, "a control character in the axis value 'a\\x1b[31mred'");
	struct cm_diags d = { 0 };
	const char *runaway = "guest: {bundled: guest}\naxes:\n  memory: {from: 128M, to: 16G, factor: 1.0001}\n";
	assert_null(load(runaway, &d));
	assert_true(d.n <= CM_DIAGS_MAX);
	assert_true(d.n_errors < 10);
	bool said = false;
	for (size_t i = 0; i < d.n; i++)
		said |= strstr(d.v[i].msg, "more than 10000 values") != NULL;
	assert_true(said);
	cm_diags_clear(&d);
	/* every value of a fine range parses back: whole MiB, no '...B' labels */
	struct cm_matrix *m = load("guest: {bundled: guest}\naxes:\n  memory: {from: 100M, to: 200M, factor: 1.01}\n", &d);
	cm_diags_print(&d, stderr);
	assert_non_null(m);
	for (size_t i = 0; i < m->axes[0].nvalues; i++) {
		uint64_t b;
		assert_int_equal(cm_parse_size(m->axes[0].values[i].label, &b), 0);
	}
	cm_matrix_free(m);
	cm_diags_clear(&d);
	/* a second document, a folder as a guest file, a folder as the matrix */
	expect_error("guest: {bundled: guest}\n---\nqemu: other\n", 3, 1, "a second YAML document");
	expect_error("guest: {kernel: /tmp}\n", 1, 17, "not a file");
	assert_null(cm_matrix_load("/tmp", &d));
	assert_non_null(strstr(d.v[0].msg, "a folder, not a matrix file"));
	cm_diags_clear(&d);
	/* markers.console: {name, match}; names are unique across port and console markers */
	expect_error("guest: {bundled: guest}\nmarkers:\n  console: [{name: real_mode, match: x}]\n",
		     3, 12, "marker 'real_mode' is named twice");
	expect_error("guest: {bundled: guest}\nmarkers:\n  console: [{name: a}]\n", 3, 13,
		     "needs a name of [A-Za-z0-9_-]+ and a non-empty match");
	/* a console marker named after a host event would replace it: every boot out of order */
	static const char *const reserved[] = { "exec", "first_entry", "exit", "total" };
	for (size_t i = 0; i < 4; i++) {
		char y[256];
		snprintf(y, sizeof(y), "guest: {bundled: guest}\nmarkers:\n  console:\n"
				       "    - {match: Linux, name: %s}\n", reserved[i]);
		expect_error(y, 4, 28, "is a host event's");
	}
	m = load("guest: {bundled: guest}\nmarkers:\n  console: [{name: up, match: \"Run /init\"}]\n"
		 "  end: up\nphases: [{name: boot, from: exec, to: up}]\n", &d);
	cm_diags_print(&d, stderr);
	assert_non_null(m);
	assert_int_equal(m->nconsole, 1);
	assert_true(cm_matrix_is_console_marker(m, "up"));
	cm_matrix_free(m);
	cm_diags_clear(&d);
	/* run.end_grace: how long qemu gets after the end marker (was a fixed 2 s) */
	m = load("guest: {bundled: guest}\nrun: {end_grace: 250ms}\n", &d);
	assert_non_null(m);
	assert_int_equal(m->end_grace_ms, 250);
	cm_matrix_free(m);
	m = load("guest: {bundled: guest}\n", &d);
	assert_int_equal(m->end_grace_ms, 2000);
	cm_matrix_free(m);
	cm_diags_clear(&d);
	expect_error("guest: {bundled: guest}\nrun: {end_grace: soon}\n", 2, 18, "end_grace");
	/* 20,000 keys under env load at once (the speed is in scripts/bench.sh) */
	struct cm_buf y = { 0 };
	cm_buf_puts(&y, "guest: {bundled: guest}\nrun:\n  env:\n");
	for (int i = 0; i < 20000; i++)
		cm_buf_printf(&y, "    K%d: v\n", i);
	cm_buf_puts(&y, "    K7: again\n");
	m = load(y.s, &d);
	(void)m;
	cm_matrix_free(m);
	cm_diags_clear(&d);
	cm_buf_free(&y);
}

/* Reference cases: the bundled guest under each accelerator the matrix boots, after its own
 * cases, judged by the bundled guest's own profile; none when asked, or when the matrix's
 * ports leave out the bundled guest's. */
static void test_reference_cases(void **state)
{
	(void)state;
	struct cm_diags d = { 0 };
	struct cm_matrix *m = load(GUEST "axes:\n  memory: [128M, 1G]\n  accel: [kvm, tcg]\n"
				       "exclude: [{memory: 1G, accel: kvm}]\n", &d);
	assert_non_null(m);
	assert_int_equal(own(m), 3);
	assert_int_equal(m->ncases, 5);
	assert_string_equal(m->cases[3].id, "reference,accel=kvm");
	assert_string_equal(m->cases[4].id, "reference,accel=tcg");
	assert_true(cm_is_reference_case(m->cases[4].id) && !cm_is_reference_case(m->cases[0].id));
	assert_string_equal(m->cases[4].labels[1], "tcg");
	assert_null(m->cases[4].labels[0]);
	bool tcg = false, guest = false;
	for (size_t i = 0; i < m->cases[4].argc; i++) {
		tcg |= !strcmp(m->cases[4].argv[i], "tcg");
		guest |= strstr(m->cases[4].argv[i], "/guest.img,") != NULL;
	}
	assert_true(tcg && guest);
	assert_non_null(m->reference_profile);
	assert_int_equal(m->reference_profile->exit_status, 33);
	cm_matrix_free(m);
	/* no accel axis: one reference, with base_args' accelerator */
	m = load(GUEST "base_args: [-machine, \"pc,accel=tcg\"]\naxes: {memory: [128M, 1G]}\n", &d);
	assert_non_null(m);
	assert_string_equal(m->cases[m->ncases - 1].id, "reference");
	bool accel = false;
	for (size_t i = 0; i + 1 < m->cases[m->ncases - 1].argc; i++)
		accel |= !strcmp(m->cases[m->ncases - 1].argv[i], "-accel") &&
			 !strcmp(m->cases[m->ncases - 1].argv[i + 1], "tcg");
	assert_true(accel);
	cm_matrix_free(m);
	m = load(GUEST "axes: {memory: [128M, 1G]}\nrun: {reference: none}\n", &d);
	assert_int_equal(m->ncases, 2);
	assert_null(m->reference_profile);
	cm_matrix_free(m);
	m = load(GUEST "markers: {ports: [0x80]}\n", &d);
	assert_int_equal(m->ncases, 1);
	bool said = false;
	for (size_t i = 0; i < d.n; i++)
		said |= strstr(d.v[i].msg, "leave out 0xf4") != NULL;
	assert_true(said);
	cm_matrix_free(m);
	cm_diags_clear(&d);
	expect_error(GUEST "axes: {reference: [a, b]}\n", 2, 8, "the reference cases' name");
	expect_error(GUEST "axes: {session: [a, b]}\n", 2, 8, "a column of samples.csv");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_reference_cases),
		cmocka_unit_test(test_product_and_ids),
		cmocka_unit_test(test_exclude_include),
		cmocka_unit_test(test_exclude_matches_nothing_warns),
		cmocka_unit_test(test_ranges),
		cmocka_unit_test(test_groups_and_custom_axis),
		cmocka_unit_test(test_presets_and_phases),
		cmocka_unit_test(test_run_settings),
		cmocka_unit_test(test_errors),
		cmocka_unit_test(test_all_errors_in_one_pass),
		cmocka_unit_test(test_override),
		cmocka_unit_test(test_key_table),
		cmocka_unit_test(test_large_sweep),
		cmocka_unit_test(test_fixture_files),
		cmocka_unit_test(test_fuzz_corpus),
		cmocka_unit_test(test_durations),
		cmocka_unit_test(test_hostile_and_runaway),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
