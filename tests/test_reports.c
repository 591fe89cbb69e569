/* Report writers against golden files, the CSV round trip, and the HTML page's shape.
 * Regenerate the goldens (after reading the diff!) with: test_reports --update */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <gsl/gsl_errno.h>
#include <jansson.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "coldmark/report.h"
#include "helpers.h"

static bool update;

static void golden(const char *name, const char *got)
{
	char path[512];
	snprintf(path, sizeof(path), "%s/golden/%s", FIXTURES, name);
	if (update) {
		FILE *f = fopen(path, "w");
		fputs(got, f);
		fclose(f);
	}
	char *want = th_slurp(path);
	assert_non_null(want);
	if (strcmp(want, got))
		fprintf(stderr, "%s differs from the golden file; got:\n%s\n", name, got);
	assert_string_equal(want, got);
	free(want);
}

static void load(struct cm_dataset *ds, struct cm_report *r)
{
	struct cm_diags d = { 0 };
	int rc = cm_samples_read(FIXTURES "/samples.csv", ds, &d);
	cm_diags_print(&d, stderr);
	assert_int_equal(rc, 0);
	cm_diags_clear(&d);
	cm_dataset_meta(ds, "date", "2026-11-25 10:00:00 +0000");
	cm_dataset_meta(ds, "marker source", "perf (kvm:kvm_pio)");
	cm_report_build(ds, 0.05, r);
}

static void test_read(void **state)
{
	struct cm_dataset ds;
	struct cm_report r;
	load(&ds, &r);
	assert_int_equal(ds.n, 22);
	assert_int_equal(ds.ncases, 2);
	assert_int_equal(ds.naxes, 2);
	assert_string_equal(ds.axes[1], "note");
	assert_string_equal(ds.cases[1].labels[1], "a, \"quoted\" note");
	const struct cm_cell *c = cm_report_cell(&r, 0, 1);
	assert_int_equal(c->s.n, 6);        /* warm-up and the timeout are not counted */
	assert_int_equal(c->n_failed, 1);
	assert_int_equal(c->n_warmup, 1);
	c = cm_report_cell(&r, 1, 0);
	assert_int_equal(c->s.n, 2);
	assert_int_equal(c->n_failed, 1);
	assert_true(c->s.warnings & CM_WARN_FEW_BOOTS);
	cm_report_free(&r);
	cm_dataset_free(&ds);
}

static void test_goldens(void **state)
{
	struct cm_dataset ds;
	struct cm_report r;
	load(&ds, &r);
	static const char *const names[] = { "summary.csv", "report.md", "report.json" };
	for (int i = 0; i < 3; i++) {
		char *got = th_render(&r, i);
		golden(names[i], got);
		free(got);
	}
	cm_report_free(&r);
	cm_dataset_free(&ds);
}

/* memory x accel: under tcg memory triples the time, under kvm it changes nothing; one case
 * (memory=4G,accel=kvm) has a single boot. */
static void test_sweeps(void **state)
{
	char *axes[] = { "memory", "accel" };
	struct cm_dataset ds;
	cm_dataset_init(&ds, axes, 2);
	static const char *const mem[] = { "128M", "1G", "4G" }, *const acc[] = { "kvm", "tcg" };
	for (size_t a = 0; a < 2; a++)
		for (size_t m = 0; m < 3; m++) {
			char id[64], *labels[] = { (char *)mem[m], (char *)acc[a] };
			snprintf(id, sizeof(id), "memory=%s,accel=%s", mem[m], acc[a]);
			cm_dataset_case(&ds, id, labels);
			int boots = a == 0 && m == 2 ? 1 : 8;
			for (int b = 1; b <= boots; b++) {
				double base = a ? 100e6 * (double)(m + 1) : 100e6;
				cm_dataset_add(&ds, id, b, false, "ok", "total", base + b * 1e5, "perf", "none");
			}
		}
	struct cm_report r;
	cm_report_build(&ds, 0.05, &r);
	struct cm_sweep *sw;
	size_t n;
	assert_int_equal(cm_report_sweeps(&r, &sw, &n), 0);
	/* memory: 2 slices (accel=kvm, accel=tcg); accel: 3 slices (one per memory) */
	assert_int_equal(n, 5);
	const struct cm_sweep *kvm = &sw[0], *tcg = &sw[1];
	assert_int_equal(kvm->axis, 0);
	assert_string_equal(kvm->held, "accel=kvm");
	assert_string_equal(tcg->held, "accel=tcg");
	/* kvm: 4G has one boot and drops out; 128M and 1G are the same distribution */
	assert_int_equal(kvm->ngroups, 2);
	assert_true(kvm->p_adj > 0.05);
	assert_true(fabs(kvm->ratio - 1) < 0.001);
	/* tcg: three disjoint groups of 8, in the axis's order, no ties: memory is numeric, so
	 * the trend test. By hand: every one of the 3 * 64 cross pairs increases, J = 192, the
	 * maximum, which exactly 1 of the 24! / (8!)^3 = 9,465,511,770 orderings reaches:
	 * two-sided p = 2 / 9465511770 (Kruskal-Wallis said 3.6e-05 here). Holm: x4. */
	assert_int_equal(tcg->ngroups, 3);
	assert_true(tcg->ordered);
	assert_true(fabs(tcg->p - 2 / 9465511770.0) < 1e-18);
	assert_true(fabs(tcg->p_adj - 4 * tcg->p) < 1e-12);
	assert_true(fabs(tcg->ratio - 300.45e6 / 100.45e6) < 1e-9);
	assert_string_equal(ds.cases[tcg->fastest].id, "memory=128M,accel=tcg");
	assert_string_equal(ds.cases[tcg->slowest].id, "memory=4G,accel=tcg");
	/* accel, with memory held at 4G: kvm's single boot leaves one group, not tested */
	assert_string_equal(sw[4].held, "memory=4G");
	assert_true(isnan(sw[4].p));
	assert_true(isnan(sw[4].p_adj));
	/* the Markdown table says the same, with the significant cell in bold */
	char *md = th_render(&r, TH_MARKDOWN);
	assert_non_null(strstr(md, "| accel=tcg | **×2.99 (p 8.5e-10)** |"));
	assert_non_null(strstr(md, "| memory=4G | — |"));
	free(md);
	/* the terminal summary names the significant ones */
	char *term = th_render(&r, TH_TERMINAL);
	assert_non_null(strstr(term, "Sweep effects on total (Jonckheere–Terpstra or Kruskal–Wallis, Holm):\n"
				     "  memory moves it ×2.99 (128M → 4G) at accel=tcg, p 8.5e-10\n"));
	assert_null(strstr(term, "at accel=kvm"));
	free(term);
	/* HTML: memory is numeric, so one line per accel slice; accel is not, so no plot */
	char *html = th_render(&r, TH_HTML), *q = html;
	size_t lines = 0;
	while ((q = strstr(q, "<polyline class=\"slice\"")))
		lines++, q++;
	assert_int_equal(lines, 2);
	assert_non_null(strstr(html, "accel=tcg ×2.99, p 8.5e-10 (significant);"));
	assert_null(strstr(html, "Median against accel"));
	/* the slopes: memory raises tcg's time (the CI excludes 0), not kvm's (it includes 0) */
	assert_int_equal(r.ntrends, 2);
	assert_string_equal(r.trends[0].held, "accel=kvm");
	assert_true(r.trends[0].slope.lo <= 0 && r.trends[0].slope.hi >= 0);
	assert_true(r.trends[1].slope.lo > 0);
	assert_int_equal(th_count(html, "class=\"fit\""), 2);
	free(html);
	cm_sweeps_free(sw, n);
	cm_report_free(&r);
	cm_dataset_free(&ds);
}

/* A memory sweep 1G..8G, 10 boots a value, two machines: pc pays 3 ms per GiB, q35 4.8 ms;
 * a third slice bends (1 ms per GiB, then 10). */
static void test_slopes(void **state)
{
	char *axes[] = { "memory", "machine" };
	struct cm_dataset ds;
	cm_dataset_init(&ds, axes, 2);
	static const char *const machines[] = { "pc", "q35", "microvm" };
	uint64_t rng = 7;
	for (int mc = 0; mc < 3; mc++)
		for (int g = 1; g <= 8; g++) {
			char id[64], mem[16];
			snprintf(mem, sizeof(mem), "%dG", g);
			snprintf(id, sizeof(id), "memory=%s,machine=%s", mem, machines[mc]);
			char *labels[] = { mem, (char *)machines[mc] };
			cm_dataset_case(&ds, id, labels);
			double per = mc == 0 ? 3e6 : mc == 1 ? 4.8e6 : 0;
			double y0 = mc == 2 ? (g <= 4 ? 1e6 * g : 4e6 + 10e6 * (g - 4)) : per * g;
			for (int b = 1; b <= 10; b++) {
				rng = rng * 6364136223846793005ULL + 1442695040888963407ULL;
				double noise = ((double)(rng >> 11) / 9007199254740992.0 - 0.5) * 0.4e6;
				cm_dataset_add(&ds, id, b, false, "ok", "total", 100e6 + y0 + noise, "", "");
			}
		}
	struct cm_report r;
	cm_report_build(&ds, 0.05, &r);
	assert_int_equal(r.ntrends, 3);
	const struct cm_trend *pc = NULL, *q35 = NULL, *bent = NULL;
	for (size_t i = 0; i < r.ntrends; i++) {
		const struct cm_trend *t = &r.trends[i];
		if (!strcmp(t->held, "machine=pc"))
			pc = t;
		else if (!strcmp(t->held, "machine=q35"))
			q35 = t;
		else
			bent = t;
	}
	assert_string_equal(pc->unit_name, "GiB");
	assert_true(fabs(pc->slope.slope - 3e6) < 0.1e6);
	assert_true(pc->slope.lo < 3e6 && 3e6 < pc->slope.hi);
	assert_true(pc->linear && q35->linear);
	assert_false(bent->linear);
	assert_true(bent->lower.hi < bent->upper.lo);
	/* q35 against pc: +1.8 ms per GiB, its CI excluding 0 */
	bool found = false;
	for (size_t i = 0; i < r.ninteractions; i++) {
		const struct cm_interaction *x = &r.interactions[i];
		if (&r.trends[x->a] == pc && &r.trends[x->b] == q35) {
			found = true;
			assert_true(fabs(x->diff - 1.8e6) < 0.15e6);
			assert_true(x->lo > 0);
		}
	}
	assert_true(found);
	char *md = th_render(&r, TH_MARKDOWN), *js = th_render(&r, TH_JSON);
	assert_non_null(strstr(md, "## How the phases scale"));
	assert_non_null(strstr(md, "| machine=pc | total | +2.99 ms per GiB [+2.98 ms, +3.00 ms] |"));
	assert_non_null(strstr(md, "per GiB ["));
	assert_non_null(strstr(md, "**no**: lower half"));
	assert_non_null(strstr(md, "machine=q35 pays +1."));
	assert_non_null(strstr(js, "\"slopes\""));
	assert_non_null(strstr(js, "\"per\": \"GiB\""));
	char *term = th_render(&r, TH_TERMINAL);
	assert_non_null(strstr(term, "Steepest slopes on total"));
	free(md), free(js), free(term);
	cm_report_free(&r);
	cm_dataset_free(&ds);
}

static void test_round_trip(void **state)
{
	struct cm_dataset ds, ds2;
	struct cm_report r, r2;
	load(&ds, &r);
	char *csv = th_render(&r, TH_SAMPLES);
	FILE *f = fopen("roundtrip-samples.csv", "w");
	fputs(csv, f);
	fclose(f);
	struct cm_diags d = { 0 };
	assert_int_equal(cm_samples_read("roundtrip-samples.csv", &ds2, &d), 0);
	cm_report_build(&ds2, 0.05, &r2);
	char *a = th_render(&r, TH_SUMMARY_CSV), *b = th_render(&r2, TH_SUMMARY_CSV);
	char *csv2 = th_render(&r2, TH_SAMPLES);
	assert_string_equal(a, b);     /* same summary */
	assert_string_equal(csv, csv2); /* same samples, byte for byte */
	free(a);
	free(b);
	free(csv);
	free(csv2);
	cm_report_free(&r);
	cm_report_free(&r2);
	cm_dataset_free(&ds);
	cm_dataset_free(&ds2);
	remove("roundtrip-samples.csv");
}

static void test_bad_samples(void **state)
{
	struct cm_dataset ds;
	struct cm_diags d = { 0 };
	FILE *f = fopen("bad-samples.csv", "w");
	fputs("case,boot,status,phase\nx,1,ok,total\n", f);
	fclose(f);
	assert_int_not_equal(cm_samples_read("bad-samples.csv", &ds, &d), 0);
	assert_non_null(strstr(d.v[0].msg, "duration_ns"));
	cm_diags_clear(&d);
	f = fopen("bad-samples.csv", "w");
	fputs("case,boot,status,phase,duration_ns\nx,1,ok,total,12\nx,two,ok,total,13\n", f);
	fclose(f);
	assert_int_not_equal(cm_samples_read("bad-samples.csv", &ds, &d), 0);
	assert_int_equal(d.v[0].line, 3);
	cm_dataset_free(&ds);
	cm_diags_clear(&d);
	/* each bad row is refused with its line and column, and nothing leaks on the way out */
	static const struct {
		const char *text, *says;
		int line, col;
	} bad[] = {
		{ "case,boot,status,phase,duration_ns\nx,1,ok,total,-5\n", "not positive", 2, 5 },
		{ "case,boot,status,phase,duration_ns\nx,1,ok,total,0\n", "not positive", 2, 5 },
		{ "case,boot,status,phase,duration_ns\nx,99999999999,ok,total,5\n", "out of range", 2, 2 },
		{ "case,boot,status,phase,duration_ns\nx,-1,ok,total,5\n", "out of range", 2, 2 },
		{ "case,boot,status,phase,duration_ns\nx,1,ok,total,5\ny,1,ok,total,6\nx,1,ok,total,7\n",
		  "duplicate row", 4, 1 },
		{ "case,boot,status,phase,duration_ns\nx,1,ok,total,5\nx,2,ok,tot", "cut off", 3, 1 },
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		f = fopen("bad-samples.csv", "w");
		fputs(bad[i].text, f);
		fclose(f);
		assert_int_not_equal(cm_samples_read("bad-samples.csv", &ds, &d), 0);
		if (!strstr(d.v[0].msg, bad[i].says))
			fprintf(stderr, "case %zu: %s\n", i, d.v[0].msg);
		assert_non_null(strstr(d.v[0].msg, bad[i].says));
		assert_int_equal(d.v[0].line, bad[i].line);
		assert_int_equal(d.v[0].col, bad[i].col);
		cm_dataset_free(&ds);
		cm_diags_clear(&d);
	}
	/* accepted: a byte order mark and blank lines before the header; an interrupted boot
	 * measured again under its number by --resume */
	f = fopen("bad-samples.csv", "w");
	fputs("\xEF\xBB\xBF\n\ncase,boot,status,phase,duration_ns\nx,1,interrupted,total,\n"
	      "x,1,ok,total,5\n", f);
	fclose(f);
	assert_int_equal(cm_samples_read("bad-samples.csv", &ds, &d), 0);
	assert_int_equal(ds.n, 2);
	assert_string_equal(ds.cases[0].id, "x");
	cm_dataset_free(&ds);
	cm_diags_clear(&d);
	remove("bad-samples.csv");
}

/* Spreadsheet formulas stay text, and the CSV reads back to the same values. */
static void test_csv_guard(void **state)
{
	char *axes[] = { "cmd" };
	struct cm_dataset ds, back;
	cm_dataset_init(&ds, axes, 1);
	char *l1[] = { "=HYPERLINK(\"x\")" }, *l2[] = { "-1" }, *l3[] = { "@SUM(A1)" };
	cm_dataset_case(&ds, "=cmd", l1);
	cm_dataset_case(&ds, "b", l2);
	cm_dataset_case(&ds, "c", l3);
	cm_dataset_add(&ds, "=cmd", 1, false, "ok", "total", 5, "", "");
	cm_dataset_add(&ds, "b", 1, false, "ok", "total", 6, "", "");
	cm_dataset_add(&ds, "c", 1, false, "ok", "total", 7, "", "");
	FILE *f = fopen("guard.csv", "w");
	cm_samples_write_header(f, &ds);
	for (size_t i = 0; i < ds.n; i++)
		cm_samples_write_row(f, &ds, &ds.rows[i]);
	fclose(f);
	/* Markdown: HTML is inert, markup literal */
	struct cm_report gr;
	cm_dataset_meta(&ds, "note", "<script>alert(1)</script> *bold* [link](x) a|b");
	cm_report_build(&ds, 0.05, &gr);
	char *md = th_render(&gr, TH_MARKDOWN);
	assert_null(strstr(md, "<script>"));
	assert_non_null(strstr(md, "&lt;script&gt;alert(1)&lt;/script&gt; \\*bold\\* \\[link\\](x) a\\|b"));
	free(md);
	cm_report_free(&gr);
	char *text = th_slurp("guard.csv");
	assert_non_null(strstr(text, "'=cmd,"));
	assert_non_null(strstr(text, "\"'=HYPERLINK(\"\"x\"\")\""));
	assert_non_null(strstr(text, ",'-1\n"));
	assert_null(strstr(text, ",=")); /* no cell starts with = */
	free(text);
	struct cm_diags d = { 0 };
	assert_int_equal(cm_samples_read("guard.csv", &back, &d), 0);
	size_t found = 0;
	for (size_t c = 0; c < back.ncases; c++)
		found += !strcmp(back.cases[c].id, "=cmd") &&
			 !strcmp(back.cases[c].labels[0], "=HYPERLINK(\"x\")");
	assert_int_equal(found, 1);
	cm_dataset_free(&back);
	cm_dataset_free(&ds);
	remove("guard.csv");
}

/* The order of a shuffled run without warm-ups (cases first seen in any order) is the
 * defined one when read back: report reproduces the run's summary byte for byte. */
static void test_defined_order(void **state)
{
	char *axes[] = { "memory" };
	struct cm_dataset ds, back;
	cm_dataset_init(&ds, axes, 1);
	char *a[] = { "512M" }, *b[] = { "2G" }, *c[] = { "16G" };
	cm_dataset_case(&ds, "memory=2G", b);
	cm_dataset_case(&ds, "memory=16G", c);
	cm_dataset_case(&ds, "memory=512M", a);
	cm_dataset_sort_cases(&ds);
	assert_string_equal(ds.cases[0].id, "memory=512M");
	assert_string_equal(ds.cases[1].id, "memory=2G");
	assert_string_equal(ds.cases[2].id, "memory=16G");
	cm_dataset_add(&ds, "memory=16G", 1, false, "ok", "total", 9, "", "");
	cm_dataset_add(&ds, "memory=512M", 1, false, "ok", "total", 5, "", "");
	cm_dataset_add(&ds, "memory=2G", 1, false, "ok", "total", 7, "", "");
	struct cm_report r, r2;
	cm_report_build(&ds, 0.05, &r);
	char *csv = th_render(&r, TH_SAMPLES), *sum = th_render(&r, TH_SUMMARY_CSV);
	FILE *f = fopen("order.csv", "w");
	fputs(csv, f);
	fclose(f);
	struct cm_diags d = { 0 };
	assert_int_equal(cm_samples_read("order.csv", &back, &d), 0);
	cm_report_build(&back, 0.05, &r2);
	char *sum2 = th_render(&r2, TH_SUMMARY_CSV);
	assert_string_equal(sum, sum2);
	free(csv), free(sum), free(sum2);
	cm_report_free(&r), cm_report_free(&r2);
	cm_dataset_free(&ds), cm_dataset_free(&back);
	remove("order.csv");
}




static void test_html(void **state)
{
	struct cm_dataset ds;
	struct cm_report r;
	load(&ds, &r);
	char *html = th_render(&r, TH_HTML);
	assert_int_equal(th_count(html, "class=\"plot strip\""), ds.nphases);
	assert_int_equal(th_count(html, "class=\"plot breakdown\""), 1);
	assert_int_equal(th_count(html, "class=\"plot sweep\""), 2); /* memory is numeric: per phase */
	assert_null(strstr(html, "http"));                        /* self-contained */
	assert_non_null(strstr(html, "memory=1G,accel=kvm"));
	/* every coordinate lies on the page: a dot off the plot is a dot nobody sees */
	static const char *const attrs[] = { " cx=\"", " cy=\"", " x=\"", " y=\"", " x1=\"", " y1=\"" };
	size_t ncoord = 0;
	for (size_t a = 0; a < sizeof(attrs) / sizeof(attrs[0]); a++)
		for (const char *p = html; (p = strstr(p, attrs[a])); p++) {
			double v = strtod(p + strlen(attrs[a]), NULL);
			assert_true(v >= -1 && v <= 2000);
			ncoord++;
		}
	assert_true(ncoord > 40);
	free(html);
	cm_report_free(&r);
	cm_dataset_free(&ds);
}

/* Unknown format names are a usage error naming the known ones, and nothing is written. */
/* The session's number stays an int from the runner to the store: kept beside its id. */
static void test_session_number(void **state)
{
	struct cm_dataset ds;
	cm_dataset_init(&ds, NULL, 0);
	int a = cm_dataset_session_number(&ds, 4, NULL), b = cm_dataset_session(&ds, "v1.2#3", "h");
	assert_string_equal(ds.sessions[a - 1].id, "4");
	assert_int_equal(ds.sessions[a - 1].number, 4);
	assert_int_equal(ds.sessions[b - 1].number, 3);
	cm_dataset_free(&ds);
}

static void test_formats(void **state)
{
	struct cm_error err = { 0 };
	assert_int_equal(cm_report_check_formats("csv,md,json,html", &err), 0);
	assert_int_equal(cm_report_check_formats("csv,pdf", &err), CM_ERR(CM_EUSAGE));
	assert_string_equal(err.msg, "unknown report format 'pdf' (known: csv, md, json, html)");
	assert_int_equal(err.code, CM_ERR(CM_EUSAGE)); /* the one error value: code and message */
	assert_int_not_equal(cm_report_check_formats("csv,", &err), 0);
	assert_int_not_equal(cm_report_check_formats("", &err), 0);
	struct cm_dataset ds;
	struct cm_report r;
	load(&ds, &r);
	char dir[] = "/tmp/cm-formats-XXXXXX";
	assert_non_null(mkdtemp(dir));
	struct cm_diags d = { 0 };
	assert_int_equal(cm_report_write(&r, dir, "pdf,xml", true, &d), CM_ERR(CM_EUSAGE));
	assert_non_null(strstr(d.v[0].msg, "'pdf'"));
	char *p = cm_xasprintf("%s/samples.csv", dir);
	assert_int_not_equal(access(p, F_OK), 0); /* nothing written */
	free(p);
	cm_diags_clear(&d);
	/* a planted temporary is replaced by name, never written through */
	char *victim = cm_xasprintf("%s/victim", dir), *link = cm_xasprintf("%s/summary.csv.tmp", dir);
	FILE *vf = fopen(victim, "w");
	fputs("precious\n", vf);
	fclose(vf);
	assert_int_equal(symlink(victim, link), 0);
	assert_int_equal(cm_report_write(&r, dir, "csv", false, &d), 0);
	char *v = th_slurp(victim);
	assert_string_equal(v, "precious\n");
	free(v);
	char *sum = cm_xasprintf("%s/summary.csv", dir);
	struct stat st;
	assert_int_equal(lstat(sum, &st), 0);
	assert_true(S_ISREG(st.st_mode));
	unlink(sum), unlink(victim);
	free(sum), free(victim), free(link);
	char *files = cm_report_files("md,csv");
	assert_string_equal(files, "summary.csv,report.md");
	free(files);
	rmdir(dir);
	cm_report_free(&r);
	cm_dataset_free(&ds);
}

/* A phase the source cannot see (qemu_init under debugcon) is "not measurable", never "too
 * few boots", and its heading is not in seconds; cases 35x apart get a log axis. */
static void test_unmeasurable_and_log_axis(void **state)
{
	char *axes[] = { "accel" };
	struct cm_dataset ds;
	cm_dataset_init(&ds, axes, 1);
	char *tcg[] = { "tcg" }, *kvm[] = { "kvm" };
	cm_dataset_case(&ds, "accel=tcg", tcg);
	cm_dataset_case(&ds, "accel=kvm", kvm);
	for (int b = 1; b <= 6; b++) {
		cm_dataset_add(&ds, "accel=tcg", b, false, "ok", "qemu_init", NAN, "debugcon", "");
		cm_dataset_add(&ds, "accel=tcg", b, false, "ok", "total", 100e6 + b * 1e6, "debugcon", "");
		cm_dataset_add(&ds, "accel=kvm", b, false, "ok", "qemu_init", 60e6 + b * 1e5, "perf", "");
		cm_dataset_add(&ds, "accel=kvm", b, false, "ok", "total", 3.5e9 + b * 1e7, "perf", "");
	}
	struct cm_report r;
	cm_report_build(&ds, 0.05, &r);
	char *md = th_render(&r, TH_MARKDOWN), *json = th_render(&r, TH_JSON);
	char *html = th_render(&r, TH_HTML);
	assert_non_null(strstr(md, "| accel=tcg | tcg | not measurable with debugcon |"));
	assert_null(strstr(md, "too few boots"));
	assert_non_null(strstr(md, "## Phase qemu\\_init (ms)"));
	assert_non_null(strstr(json, "\"not_measurable\": \"not measurable with debugcon\""));
	assert_non_null(strstr(html, "not measurable with debugcon"));
	assert_non_null(strstr(html, "class=\"plot strip log\"")); /* total: 0.1 s vs 3.5 s */
	free(md), free(json), free(html);
	cm_report_free(&r);
	cm_dataset_free(&ds);
	/* two modes: each one's share and median, in Markdown, JSON and the terminal */
	static const double ms[] = { 144, 150, 158, 161, 166, 170, 175, 181, 188, 196, 203, 210,
				     296, 318, 352, 389, 420, 455, 488, 517 };
	cm_dataset_init(&ds, NULL, 0);
	for (int b = 0; b < 20; b++)
		cm_dataset_add(&ds, "nanos", b + 1, false, "ok", "total", ms[(b * 7) % 20] * 1e6, "", "");
	cm_report_build(&ds, 0.05, &r);
	md = th_render(&r, TH_MARKDOWN);
	json = th_render(&r, TH_JSON);
	assert_non_null(strstr(md, "Two modes (a median describes neither):\n\n- nanos: 60% of the "
				   "boots around 172 ms, 40% around 404 ms"));
	assert_non_null(strstr(json, "\"modes\""));
	char *term = th_render(&r, TH_TERMINAL);
	assert_non_null(strstr(term, "(bimodal): 60% of the boots around 172 ms"));
	free(term), free(md), free(json);
	cm_report_free(&r);
	cm_dataset_free(&ds);
}

/* Bencher Metric Format: case -> phase -> {value, lower_value, upper_value}, in ns. */
static void test_bmf(void **state)
{
	struct cm_dataset ds;
	struct cm_report r;
	load(&ds, &r);
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);
	assert_int_equal(cm_report_bmf(&r, f), 0);
	fclose(f);
	json_error_t err;
	json_t *root = json_loads(buf, 0, &err);
	assert_non_null(root);
	json_t *m = json_object_get(json_object_get(root, "memory=128M,accel=kvm"), "boot");
	assert_non_null(m);
	const struct cm_summary *s = &cm_report_cell(&r, 0, 0)->s;
	assert_true(json_real_value(json_object_get(m, "value")) == s->median);
	assert_true(json_real_value(json_object_get(m, "lower_value")) == s->median_ci_lo);
	assert_true(json_real_value(json_object_get(m, "upper_value")) == s->median_ci_hi);
	/* a case with too few boots for a CI has its value only */
	m = json_object_get(json_object_get(root, "memory=1G,accel=kvm"), "boot");
	assert_non_null(json_object_get(m, "value"));
	assert_null(json_object_get(m, "lower_value"));
	json_decref(root);
	free(buf);
	cm_report_free(&r);
	cm_dataset_free(&ds);
}

int main(int argc, char **argv)
{
	update = argc > 1 && !strcmp(argv[1], "--update");
	gsl_set_error_handler_off();
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_read),
		cmocka_unit_test(test_goldens),
		cmocka_unit_test(test_sweeps),
		cmocka_unit_test(test_slopes),
		cmocka_unit_test(test_round_trip),
		cmocka_unit_test(test_bad_samples),
		cmocka_unit_test(test_html),
		cmocka_unit_test(test_formats),
		cmocka_unit_test(test_session_number),
		cmocka_unit_test(test_csv_guard),
		cmocka_unit_test(test_defined_order),
		cmocka_unit_test(test_unmeasurable_and_log_axis),
		cmocka_unit_test(test_bmf),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
