/* Console markers (issue 30, items 8 and 9): regex beside match, the nth matching line, an axis
 * value's own markers, and run.keep_logs / --keep-logs.
 * Also issue 30's items 10 (the plan's order in words, per-case firmware) and 3 (compare --axis
 * with three or more values).
 * Usage: test_console GROUP: matrix (the loader), source (the console source on a real
 * kernel-stamped socket, no qemu), boots (coldmark run on the bundled guest-serial), compare
 * (the coldmark binary on a run folder with a three-valued axis). */
#define _GNU_SOURCE
#include <dirent.h>
#include <regex.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "coldmark/capture.h"
#include "coldmark/harness.h"
#include "coldmark/matrix.h"
#include "coldmark/report.h"
#include "coldmark/rundir.h"
#include "coldmark/util.h"
#include "helpers.h"

static char tmp[256];

static struct cm_matrix *load(const char *y, struct cm_diags *d)
{
	return cm_matrix_load_string(y, strlen(y), SOURCE_DIR "/x.yaml", d);
}

/* The matrix is refused with an error at line:col whose message holds want. */
static void expect_error(const char *y, int line, int col, const char *want)
{
	struct cm_diags d = { 0 };
	struct cm_matrix *m = load(y, &d);
	bool found = false;
	for (size_t i = 0; i < d.n; i++)
		found |= d.v[i].line == line && d.v[i].col == col && strstr(d.v[i].msg, want);
	if (!found || m) {
		cm_diags_print(&d, stderr);
		fail_msg("want an error at %d:%d with '%s'", line, col, want);
	}
	cm_diags_clear(&d);
}

#define GUEST "guest: {bundled: guest}\n"

/* ---- the loader ------------------------------------------------------------------------------ */

static void test_regex_and_nth_parse(void **state)
{
	(void)state;
	setenv("COLDMARK_GUEST_DIR", GUEST_DIR, 1);
	struct cm_diags d = { 0 };
	struct cm_matrix *m = load(GUEST "markers:\n  console:\n"
					 "    - {name: edd, regex: \"^P+r+o+b+i+n+g+ +E+D+\"}\n"
					 "    - {name: second, match: L, nth: 2}\n"
					 "phases: [{name: setup, from: exec, to: edd}]\n", &d);
	cm_diags_print(&d, stderr);
	assert_non_null(m);
	assert_int_equal(m->nconsole, 2);
	assert_true(m->console[0].regex);
	assert_int_equal(m->console[0].nth, 1);
	assert_false(m->console[1].regex);
	assert_int_equal(m->console[1].nth, 2);
	cm_matrix_free(m);
	cm_diags_clear(&d);
	/* a regex that does not compile: at its own line and column, in regerror's words */
	regex_t re;
	int rc = regcomp(&re, "a(b", REG_EXTENDED | REG_NOSUB);
	char why[256];
	regerror(rc, &re, why, sizeof(why));
	expect_error(GUEST "markers:\n  console:\n    - {name: x, regex: \"a(b\"}\n", 4, 24, why);
	expect_error(GUEST "markers:\n  console:\n    - {name: x, regex: \"a(b\"}\n", 4, 24,
		     "regex 'a(b' does not compile");
	/* nth counts lines from 1 */
	expect_error(GUEST "markers:\n  console:\n    - {name: x, match: a, nth: 0}\n", 4, 32,
		     "is not a count from 1");
	expect_error(GUEST "markers:\n  console:\n    - {name: x, match: a, nth: two}\n", 4, 32,
		     "is not a count from 1");
	/* one of match and regex, not both */
	expect_error(GUEST "markers:\n  console:\n    - {name: x, match: a, regex: b}\n", 4, 7,
		     "not both");
	expect_error(GUEST "markers:\n  console:\n    - {name: x, nth: 2}\n", 4, 7,
		     "a non-empty match (a substring) or regex");
}

static const char per_case[] =
	GUEST "axes:\n  fw:\n"
	"    - {name: a, markers: {console: [{name: mid, match: A}]}}\n"
	"    - {name: b, markers: {console: [{name: mid, regex: \"^B$\", nth: 2}]}}\n"
	"    - {name: c}\n"
	"markers:\n  console: [{name: mid, match: Z}, {name: other, match: O}]\n"
	"phases: [{name: p, from: exec, to: mid}]\n";

static void test_value_markers_parse(void **state)
{
	(void)state;
	struct cm_diags d = { 0 };
	struct cm_matrix *m = load(per_case, &d);
	cm_diags_print(&d, stderr);
	assert_non_null(m);
	assert_int_equal(m->ncases, 3 + 1); /* and the reference case */
	for (size_t i = 0; i < m->ncases; i++) {
		size_t n;
		const struct cm_console_marker **l = cm_case_console_markers(m, &m->cases[i], &n);
		const char *want = m->cases[i].reference ? "Z" : !strcmp(m->cases[i].id, "fw=a") ? "A"
				   : !strcmp(m->cases[i].id, "fw=b") ? "^B$" : "Z";
		assert_int_equal(n, 2); /* mid replaced in place, other kept */
		assert_string_equal(l[0]->name, "mid");
		assert_string_equal(l[0]->match, want);
		assert_int_equal(l[0]->nth, !strcmp(m->cases[i].id, "fw=b") ? 2 : 1);
		assert_string_equal(l[1]->name, "other");
		free(l);
	}
	assert_true(cm_matrix_uses_console(m));
	cm_matrix_free(m);
	cm_diags_clear(&d);
	/* markers only on values: a value without one would fail every boot of its case */
	expect_error(GUEST "axes:\n  fw:\n    - {name: a, markers: {console: [{name: mid, match: A}]}}\n"
			   "    - {name: c}\n"
			   "phases:\n  - {name: p, from: exec, to: mid}\n",
		     7, 5, "phase 'p' needs console marker 'mid', which case fw=c does not have");
	m = load(GUEST "axes:\n  fw:\n    - {name: a, markers: {console: [{name: mid, match: A}]}}\n"
		       "phases:\n  - {name: p, from: exec, to: mid}\n", &d);
	cm_diags_print(&d, stderr);
	assert_non_null(m); /* every case has it: the matrix needs no markers.console */
	assert_true(cm_matrix_uses_console(m));
	cm_matrix_free(m);
	cm_diags_clear(&d);
	/* what a value's markers may hold, and its regexes checked as the matrix's are */
	expect_error(GUEST "axes:\n  fw:\n    - {name: a, markers: {table: []}}\n", 4, 27,
		     "an axis value's markers are {console: [...]}");
	expect_error(GUEST "axes:\n  fw:\n    - {name: a, markers: {console: [{name: m, regex: \"[\"}]}}\n",
		     4, 54, "does not compile");
	expect_error(GUEST "axes:\n  fw:\n    - {name: a, markers: {console: [{name: real_mode, "
			   "match: R}]}}\n",
		     4, 7, "marker 'real_mode' is named twice (a port marker and a console marker "
			   "of fw=a)");
}

/* The plan item (meta.csv, report.md's plan row) names the order in words; a run written
 * before, with its number, still resumes (issue 30, item 10). */
static void test_plan_order_words(void **state)
{
	(void)state;
	struct cm_diags d = { 0 };
	struct cm_matrix *m = load(GUEST, &d);
	assert_non_null(m);
	static const char *const words[] = { "order=sequential ", "order=interleaved ",
					     "order=shuffled " };
	char text[256];
	for (int o = 0; o < 3; o++) {
		m->order = (enum cm_order)o;
		cm_rundir_plan_format(m, text, sizeof(text));
		assert_non_null(strstr(text, words[o]));
		m->order = CM_ORDER_SEQUENTIAL;
		assert_int_equal(cm_rundir_plan_parse(text, m), 0);
		assert_int_equal(m->order, o);
	}
	assert_int_equal(cm_rundir_plan_parse("boots=3 warmup=1 order=1 seed=7 until_ci=0 "
					      "phase=total sessions=1", m), 0);
	assert_int_equal(m->order, CM_ORDER_INTERLEAVED);
	assert_int_equal(m->seed, 7);
	assert_int_equal(cm_rundir_plan_parse("boots=3 warmup=1 order=3 seed=7 until_ci=0", m), -1);
	assert_int_equal(cm_rundir_plan_parse("boots=3 warmup=1 order=random seed=7 until_ci=0", m),
			 -1);
	cm_matrix_free(m);
	cm_diags_clear(&d);
}

/* ---- the console source on a real socket ----------------------------------------------------- */

struct boot {
	struct cm_capture *s;
	int child;
	struct cm_events ev;
};

static void open_boot(struct boot *b, const struct cm_matrix *m, const struct cm_case *kase)
{
	memset(b, 0, sizeof(*b));
	b->s = cm_console_source(m);
	struct cm_boot_io io = { NULL, kase };
	assert_int_equal(b->s->ops->open_boot(b->s, &io, &b->child, 1), 1);
}

/* One write of the guest's UART (one message, its own kernel stamp), then what arrived. */
static void say(struct boot *b, const char *text)
{
	assert_int_equal(write(b->child, text, strlen(text)), (ssize_t)strlen(text));
	usleep(2000); /* stamps apart */
	b->s->ops->drain(b->s, 0, &b->ev);
}

static void close_boot(struct boot *b)
{
	close(b->child);
	b->s->ops->end_boot(b->s);
	cm_capture_free(b->s);
	cm_events_free(&b->ev);
}

static int64_t ts(const struct boot *b, const char *name)
{
	const struct cm_event *e = cm_events_find(&b->ev, name);
	return e ? e->ts_ns : -1;
}

static size_t count(const struct boot *b, const char *name)
{
	size_t n = 0;
	for (size_t i = 0; i < b->ev.n; i++)
		n += !strcmp(b->ev.v[i].name, name);
	return n;
}

/* ^ and $ are the line's ends: a line still being written does not match $ at its end yet */
static void test_source_regex_anchors(void **state)
{
	(void)state;
	struct cm_diags d = { 0 };
	struct cm_matrix *m = load(GUEST "markers:\n  console:\n"
					 "    - {name: edd_end, regex: \"EDD$\"}\n"
					 "    - {name: probing, regex: \"^P+r+o+b+i+n+g+ +E+D+\"}\n"
					 "    - {name: plain, match: \"Probing EDD\"}\n", &d);
	cm_diags_print(&d, stderr);
	assert_non_null(m);
	struct boot b;
	open_boot(&b, m, NULL);
	say(&b, "xPPrroobbiinngg  EEDDDD\n"); /* not at the line's start */
	assert_int_equal(b.ev.n, 0);
	say(&b, "PPrroobbiinngg  EEDD"); /* qboot's doubled characters; the line goes on */
	int64_t doubled = ts(&b, "probing");
	assert_true(doubled > 0);
	assert_int_equal(ts(&b, "edd_end"), -1); /* "EDD" ends the text so far, not the line */
	say(&b, "DD ok\n");
	assert_int_equal(ts(&b, "edd_end"), -1);
	assert_int_equal(ts(&b, "plain"), -1);
	say(&b, "Probing EDD\n");
	assert_true(ts(&b, "edd_end") > doubled);
	assert_int_equal(ts(&b, "edd_end"), ts(&b, "plain"));
	assert_int_equal(count(&b, "probing"), 1); /* fires once */
	for (size_t i = 0; i < b.ev.n; i++)
		assert_int_equal(b.ev.v[i].kind, CM_EV_CONSOLE);
	close_boot(&b);
	cm_matrix_free(m);
	cm_diags_clear(&d);
}

/* nth: the nth matching line, each line counted once however it arrives */
static void test_source_nth(void **state)
{
	(void)state;
	struct cm_diags d = { 0 };
	struct cm_matrix *m = load(GUEST "markers:\n  console:\n"
					 "    - {name: first, regex: \"^[RLW]$\"}\n"
					 "    - {name: second, regex: \"^[RLW]$\", nth: 2}\n"
					 "    - {name: el, match: L}\n"
					 "    - {name: third_l, match: L, nth: 3}\n", &d);
	cm_diags_print(&d, stderr);
	assert_non_null(m);
	struct boot b;
	open_boot(&b, m, NULL);
	say(&b, "R\r\n");
	say(&b, "L\n");
	say(&b, "W\n");
	assert_true(ts(&b, "first") > 0);
	assert_true(ts(&b, "second") > ts(&b, "first"));
	assert_int_equal(ts(&b, "second"), ts(&b, "el")); /* the L line, not W */
	/* a line in pieces: matched as it comes, counted once */
	say(&b, "L");
	say(&b, "L\n");
	assert_int_equal(ts(&b, "third_l"), -1); /* two lines with L so far */
	say(&b, "xL\n");
	assert_true(ts(&b, "third_l") > ts(&b, "el"));
	assert_int_equal(count(&b, "second"), 1);
	close_boot(&b);
	cm_matrix_free(m);
	cm_diags_clear(&d);
}

/* each case matches by its own markers, and the next boot starts afresh */
static void test_source_per_case(void **state)
{
	(void)state;
	struct cm_diags d = { 0 };
	struct cm_matrix *m = load(per_case, &d);
	assert_non_null(m);
	const struct cm_case *a = NULL, *bb = NULL, *c = NULL;
	for (size_t i = 0; i < m->ncases; i++) {
		a = !strcmp(m->cases[i].id, "fw=a") ? &m->cases[i] : a;
		bb = !strcmp(m->cases[i].id, "fw=b") ? &m->cases[i] : bb;
		c = !strcmp(m->cases[i].id, "fw=c") ? &m->cases[i] : c;
	}
	const char *lines[] = { "Z\n", "B\n", "A\n", "B\n" };
	const struct cm_case *cases[] = { a, bb, c };
	int want_line[] = { 2, 3, 0 }; /* which line fires mid: A; the second B; Z */
	for (int k = 0; k < 3; k++) {
		struct boot b;
		open_boot(&b, m, cases[k]);
		int64_t at[4];
		for (int i = 0; i < 4; i++) {
			say(&b, lines[i]);
			at[i] = b.ev.n ? b.ev.v[b.ev.n - 1].ts_ns : -1;
		}
		assert_int_equal(count(&b, "mid"), 1);
		assert_int_equal(ts(&b, "mid"), at[want_line[k]]);
		close_boot(&b);
	}
	cm_matrix_free(m);
	cm_diags_clear(&d);
}

/* ---- boots ----------------------------------------------------------------------------------- */

static int coldmark_run(const char *matrix, const char *outdir, const char *flag, char **out)
{
	char *argv[] = { COLDMARK_BIN, "run", (char *)matrix, "-o", (char *)outdir, "--db",
			 cm_xasprintf("%s/db.sqlite", tmp), (char *)flag, NULL };
	int rc = cm_proc_run(argv, 120000, true, out, 1 << 20);
	free(argv[6]);
	if (rc)
		fprintf(stderr, "coldmark run exited %d:\n%s\n", rc, *out);
	return rc;
}

/* The events of one case and boot from events.csv, in its (time) order, as "name,name,...". */
static char *event_order(const char *outdir, const char *case_id, int boot)
{
	char *p = cm_xasprintf("%s/events.csv", outdir), *csv = th_slurp(p);
	struct cm_buf b = { 0 };
	char prefix[128];
	int k = snprintf(prefix, sizeof(prefix), "\"%s\",%d,0,", case_id, boot);
	for (char *line = strtok(csv, "\n"); line; line = strtok(NULL, "\n"))
		if (!strncmp(line, prefix, (size_t)k))
			cm_buf_printf(&b, "%s%.*s", b.len ? "," : "", (int)strcspn(line + k, ","),
				      line + k);
	free(p), free(csv);
	return b.s ? cm_buf_steal(&b) : cm_xstrdup("");
}

/* guest-serial prints "R", "L", "W" lines right after real_mode, long_mode and work_done: a
 * regex with anchors, the second matching line, and markers that differ per case fire at the
 * lines they should, in time order among the port markers. */
static void test_boot_markers(void **state)
{
	(void)state;
	char *m = th_write_in(tmp, "markers.yaml",
		"guest: {bundled: guest-serial}\n"
		"base_args: [-machine, pc, -display, none, -nodefaults, -no-reboot]\n"
		"axes:\n  accel: [tcg]\n  v:\n"
		"    - {name: a, markers: {console: [{name: mid, regex: \"^L$\"}]}}\n"
		"    - {name: b, markers: {console: [{name: mid, match: W}]}}\n"
		"markers:\n  console:\n"
		"    - {name: second, regex: \"^[RLW]$\", nth: 2}\n"
		"    - {name: last, regex: \"^W$\"}\n"
		"  end: last\n"
		"phases:\n  - {name: to_second, from: long_mode, to: second}\n"
		"  - {name: to_mid, from: real_mode, to: mid}\n"
		"run: {boots: 2, warmup: 0, reference: none}\n");
	char *dir = cm_xasprintf("%s/markers", tmp), *out;
	assert_int_equal(coldmark_run(m, dir, NULL, &out), 0);
	free(out);
	for (int boot = 1; boot <= 2; boot++) {
		char *a = event_order(dir, "accel=tcg,v=a", boot), *b = event_order(dir, "accel=tcg,v=b", boot);
		/* exec first, then markers in time order; second and mid on the L line for a */
		assert_non_null(strstr(a, "long_mode,second,mid,work_done,last"));
		assert_non_null(strstr(b, "long_mode,second,work_done,mid,last"));
		free(a), free(b);
	}
	char *p = cm_xasprintf("%s/samples.csv", dir), *s = th_slurp(p);
	assert_null(strstr(s, "missing_marker"));
	assert_non_null(strstr(s, ",to_mid,"));
	free(p), free(s), free(dir), free(m);
}

static size_t logs_in(const char *dir)
{
	char *p = cm_xasprintf("%s/logs", dir);
	DIR *d = opendir(p);
	size_t n = 0;
	for (struct dirent *e; d && (e = readdir(d));)
		n += strstr(e->d_name, ".log") != NULL;
	if (d)
		closedir(d);
	free(p);
	return n;
}

/* run.keep_logs and --keep-logs keep every ok boot's log, with what the guest said */
static void test_keep_logs(void **state)
{
	(void)state;
	static const char body[] =
		"guest: {bundled: guest-serial}\n"
		"base_args: [-machine, pc, -display, none, -nodefaults, -no-reboot]\n"
		"axes: {accel: [tcg]}\n"
		"markers:\n  console: [{name: done, match: W}]\n"
		"run: {boots: 2, warmup: 1, reference: none%s}\n";
	char y[512], *out;
	snprintf(y, sizeof(y), body, "");
	char *plain = th_write_in(tmp, "plain.yaml", y);
	snprintf(y, sizeof(y), body, ", keep_logs: true");
	char *kept = th_write_in(tmp, "kept.yaml", y);
	char *d1 = cm_xasprintf("%s/plain", tmp), *d2 = cm_xasprintf("%s/flag", tmp),
	     *d3 = cm_xasprintf("%s/key", tmp);
	assert_int_equal(coldmark_run(plain, d1, NULL, &out), 0);
	free(out);
	assert_int_equal(logs_in(d1), 0); /* by default, ok boots leave no log */
	assert_int_equal(coldmark_run(plain, d2, "--keep-logs", &out), 0);
	free(out);
	assert_int_equal(coldmark_run(kept, d3, NULL, &out), 0);
	free(out);
	const char *dirs[] = { d2, d3 };
	for (int i = 0; i < 2; i++) {
		assert_int_equal(logs_in(dirs[i]), 3); /* the warm-up and both measured boots */
		char *p = cm_xasprintf("%s/logs/0-b2.log", dirs[i]), *log = th_slurp(p);
		assert_non_null(strstr(log, "R\nL\nW\n")); /* the serial console, whole */
		free(p), free(log);
	}
	free(plain), free(kept), free(d1), free(d2), free(d3);
}

/* meta.csv says which ROMs each case loads, not only the run's union (issue 30, item 10) */
static void test_firmware_per_case(void **state)
{
	(void)state;
	struct cm_diags d = { 0 };
	struct cm_matrix *m = load(GUEST "base_args: [-machine, pc, -display, none, -nodefaults]\n"
				   "axes: {firmware: [default, qboot.rom], accel: [tcg]}\n"
				   "run: {reference: none}\n", &d);
	cm_diags_print(&d, stderr);
	assert_non_null(m);
	struct cm_dataset ds;
	cm_dataset_init(&ds, NULL, 0);
	cm_header_host(&ds, m, m->qemu);
	const char *sea = cm_dataset_get_meta(&ds, "firmware (firmware=default,accel=tcg)");
	const char *qb = cm_dataset_get_meta(&ds, "firmware (firmware=qboot.rom,accel=tcg)");
	assert_non_null(sea);
	assert_non_null(qb);
	assert_non_null(strstr(sea, "bios-256k.bin (/"));
	assert_null(strstr(sea, "qboot.rom"));
	assert_non_null(strstr(qb, "qboot.rom ("));
	assert_null(strstr(qb, "bios-256k.bin"));
	/* the run-wide hashes stay, a -bios given by bare name too: qemu looks for it in the
	 * working folder first, then in its data directories, and so must its hash */
	assert_non_null(cm_dataset_get_meta(&ds, "firmware sha256 (bios-256k.bin)"));
	const char *qsha = cm_dataset_get_meta(&ds, "firmware sha256 (qboot.rom)");
	if (!qsha || strspn(qsha, "0123456789abcdef") != 64 || !strstr(qb, "qboot.rom (/"))
		fail_msg("-bios qboot.rom: loads '%s', sha256 '%s'", qb, qsha ? qsha : "(none)");
	cm_dataset_free(&ds);
	cm_matrix_free(m);
	cm_diags_clear(&d);
}

static int firmware_items(const struct cm_dataset *ds)
{
	int n = 0;
	for (size_t i = 0; i < ds->nmeta; i++)
		n += !strncmp(ds->meta_keys[i], "firmware (", 10);
	return n;
}

/* "firmware (CASES)" is one item per device set, named by the axis values its cases share
 * ("*" where they differ, "-" on an axis they lack): a 10^5-case sweep over memory and CPUs was
 * 10^5 header rows (12.9 MB of meta.csv, copied into every report); per case only where no
 * name fits a set exactly; a reference case (run.reference, on by default) by its own id
 * (issue 25, item 4) */
static void test_firmware_per_set(void **state)
{
	(void)state;
	struct cm_diags d = { 0 };
	struct { const char *axes, *items[4]; int n; } cases[] = {
		{ "axes: {memory: [16M, 32M, 48M], smp: [1, 2]}\nrun: {reference: none}",
		  { "firmware (every case)" }, 1 },
		{ "axes: {firmware: [default, qboot.rom], memory: [16M, 32M]}\nrun: {reference: none}",
		  { "firmware (firmware=default,memory=*)", "firmware (firmware=qboot.rom,memory=*)" }, 2 },
		/* the device sets {x,1}+{y,2}, {x,2}, {y,1}: no name fits the first alone */
		{ "axes:\n  a: [{name: x}, {name: y, args: [-device, virtio-rng-pci]}]\n"
		  "  b: [{name: \"1\", args: [-device, virtio-rng-pci]}, {name: \"2\"}]\n"
		  "run: {reference: none}",
		  { "firmware (a=x,b=1)", "firmware (a=y,b=2)", "firmware (a=x,b=2)", "firmware (a=y,b=1)" }, 4 },
		/* the default reference case: its own item, the sweep's still one */
		{ "axes: {memory: [16M, 32M, 48M], smp: [1, 2]}",
		  { "firmware (every case)", "firmware (" CM_REFERENCE_ID ")" }, 2 },
		/* a case that lacks an axis the others have: "-", not left out */
		{ "axes: {memory: [16M, 32M]}\ninclude: [{memory: 64M, firmware: qboot.rom}]\n"
		  "run: {reference: none}",
		  { "firmware (memory=*,firmware=-)", "firmware (memory=64M,firmware=qboot.rom)" }, 2 },
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		char *y = cm_xasprintf(GUEST "base_args: [-machine, pc, -display, none, -nodefaults]\n%s\n",
				       cases[i].axes);
		struct cm_matrix *m = load(y, &d);
		cm_diags_print(&d, stderr);
		assert_non_null(m);
		struct cm_dataset ds;
		cm_dataset_init(&ds, NULL, 0);
		cm_header_host(&ds, m, m->qemu);
		for (int k = 0; k < cases[i].n; k++)
			if (!cm_dataset_get_meta(&ds, cases[i].items[k]))
				fail_msg("matrix %zu: no item '%s'", i, cases[i].items[k]);
		if (firmware_items(&ds) != cases[i].n)
			for (size_t k = 0; k < ds.nmeta; k++)
				fprintf(stderr, "matrix %zu: %s\n", i, ds.meta_keys[k]);
		assert_int_equal(firmware_items(&ds), cases[i].n);
		if (i == 2) /* one device set, its two cases' items the same */
			assert_string_equal(cm_dataset_get_meta(&ds, cases[i].items[0]),
					    cm_dataset_get_meta(&ds, cases[i].items[1]));
		cm_dataset_free(&ds);
		cm_matrix_free(m);
		cm_diags_clear(&d);
		free(y);
	}
}

/* compare --axis on a run whose axis has three values, listed in the matrix's order (qboot,
 * seabios, ovmf) unlike the cases' sort order (ovmf first): the base is the matrix's first,
 * named in the note with the candidates, each candidate compared to it (issue 30, item 3). */
static void test_compare_three_values(void **state)
{
	(void)state;
	char dirbuf[300];
	snprintf(dirbuf, sizeof(dirbuf), "%s/cmp3", tmp);
	char *mk[] = { "mkdir", "-p", dirbuf, NULL }, *out;
	cm_proc_run(mk, 10000, true, &out, 1024);
	free(out);
	struct cm_buf b = { 0 };
	cm_buf_puts(&b, "case,boot,status,phase,duration_ns,warmup,source,cache_drop,fw\n");
	static const char *const fw[] = { "ovmf", "qboot", "seabios" };
	static const long long base_ns[] = { 900000000, 100000000, 200000000 };
	for (int f = 0; f < 3; f++)
		for (int boot = 1; boot <= 8; boot++)
			cm_buf_printf(&b, "fw=%s,%d,ok,total,%lld,0,debugcon,none,%s\n", fw[f], boot,
				      base_ns[f] + boot * 1000000LL, fw[f]);
	char *p = cm_xasprintf("%s/samples.csv", dirbuf);
	free(th_write_in(tmp, "cmp3/samples.csv", b.s));
	free(th_write_in(tmp, "cmp3/meta.csv",
			 "key,value\nplan,boots=8 warmup=0 order=shuffled seed=1 "
			 "until_ci=0 phase=total sessions=1\n"
			 "axis values (fw),\"qboot, seabios, ovmf\"\n"));
	cm_buf_free(&b);
	char *argv[] = { COLDMARK_BIN, "compare", dirbuf, "--axis", "fw", NULL };
	int rc = cm_proc_run(argv, 60000, true, &out, 1 << 20);
	fprintf(stderr, "%s", out);
	assert_int_equal(rc, 1); /* seabios and ovmf are slower than qboot: regressions */
	assert_null(strstr(out, "its values"));
	assert_non_null(strstr(out, "note: fw=qboot (base, the matrix's first value) against "
				    "fw=seabios, fw=ovmf (candidates, each against the base)"));
	char *one = strstr(out, "fw=seabios against fw=qboot (1 of 2)"),
	     *two = strstr(out, "fw=ovmf against fw=qboot (2 of 2)");
	assert_non_null(one);
	assert_non_null(two);
	assert_true(one < two);
	free(out);
	/* JSON: one array of the two results */
	char *argj[] = { COLDMARK_BIN, "compare", dirbuf, "--axis", "fw", "--format", "json", NULL };
	char *js;
	rc = cm_proc_run(argj, 60000, false, &js, 1 << 20);
	assert_int_equal(rc, 1);
	assert_int_equal(js[0], '[');
	free(js);
	/* --base and --cand still pick one pair; a value the axis lacks is named */
	char *arg2[] = { COLDMARK_BIN, "compare", dirbuf, "--axis", "fw", "--base", "ovmf", "--cand",
			 "qboot", NULL };
	rc = cm_proc_run(arg2, 60000, true, &out, 1 << 20);
	assert_int_equal(rc, 0);
	assert_non_null(strstr(out, "note: fw=ovmf (base) against fw=qboot (candidate), boots"));
	assert_null(strstr(out, "(1 of"));
	free(out);
	char *arg3[] = { COLDMARK_BIN, "compare", dirbuf, "--axis", "fw", "--cand", "uefi", NULL };
	rc = cm_proc_run(arg3, 60000, true, &out, 1 << 20);
	assert_int_equal(rc, 2);
	assert_non_null(strstr(out, "--cand: axis fw has no value 'uefi' (its values: qboot, "
				    "seabios, ovmf)"));
	free(out);
	free(p);
}

int main(int argc, char **argv)
{
	const char *group = argc > 1 ? argv[1] : "";
	if (argc > 2)
		cmocka_set_test_filter(argv[2]); /* one test of the group: test_console boots test_x */
	setenv("COLDMARK_GUEST_DIR", GUEST_DIR, 1);
	if (!strcmp(group, "matrix")) {
		const struct CMUnitTest t[] = { cmocka_unit_test(test_regex_and_nth_parse),
						cmocka_unit_test(test_value_markers_parse),
						cmocka_unit_test(test_plan_order_words) };
		return cmocka_run_group_tests_name("console-matrix", t, NULL, NULL);
	}
	if (!strcmp(group, "source")) {
		const struct CMUnitTest t[] = { cmocka_unit_test(test_source_regex_anchors),
						cmocka_unit_test(test_source_nth),
						cmocka_unit_test(test_source_per_case) };
		return cmocka_run_group_tests_name("console-source", t, NULL, NULL);
	}
	if (!strcmp(group, "boots")) {
		free(th_need_program("qemu-system-x86_64"));
		if (th_mkdtemp(tmp, sizeof(tmp), "console"))
			return 1;
		th_remove_at_exit(tmp);
		const struct CMUnitTest t[] = { cmocka_unit_test(test_boot_markers),
						cmocka_unit_test(test_keep_logs),
						cmocka_unit_test(test_firmware_per_case),
						cmocka_unit_test(test_firmware_per_set) };
		return cmocka_run_group_tests_name("console-boots", t, NULL, NULL);
	}
	if (!strcmp(group, "compare")) {
		if (th_mkdtemp(tmp, sizeof(tmp), "console"))
			return 1;
		th_remove_at_exit(tmp);
		const struct CMUnitTest t[] = { cmocka_unit_test(test_compare_three_values) };
		return cmocka_run_group_tests_name("console-compare", t, NULL, NULL);
	}
	fprintf(stderr, "usage: test_console matrix|source|boots|compare\n");
	return 2;
}
