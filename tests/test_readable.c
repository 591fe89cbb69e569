/* Issue 30: what a user reads. A run with the reference case and a three-level memory sweep,
 * written as samples.csv, read back and rendered: the HTML sweep plot, the strip plot's axis,
 * the phase breakdown, the summary first, the slopes' linearity. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "coldmark/report.h"
#include "helpers.h"

static char path[256];

/* memory 128M/512M/2G (total ~1 s, +60 ms per GiB) and the reference case (total 50 ms,
 * nothing else). step: a 128M->512M step off the line instead of a straight one. */
static void write_samples(bool step)
{
	snprintf(path, sizeof(path), "/tmp/test_readable.%d.csv", (int)getpid());
	FILE *f = fopen(path, "w");
	assert_non_null(f);
	fputs("case,boot,status,phase,duration_ns,warmup,source,cache_drop,memory\n", f);
	const char *mem[] = { "128M", "512M", "2G" };
	double gib[] = { 0.125, 0.5, 2 };
	for (int m = 0; m < 3; m++)
		for (int b = 1; b <= 10; b++) {
			double noise = ((b * 7919) % 13 - 6) * 1e6; /* +-6 ms */
			double work = 5e8 + (step ? (m ? 2e8 : 0) : 6e7 * gib[m]) + noise;
			fprintf(f, "\"memory=%s\",%d,ok,firmware,%.0f,0,debugcon,none,%s\n", mem[m], b,
				3e8 + noise / 3, mem[m]);
			fprintf(f, "\"memory=%s\",%d,ok,work,%.0f,0,debugcon,none,%s\n", mem[m], b, work,
				mem[m]);
			fprintf(f, "\"memory=%s\",%d,ok,total,%.0f,0,debugcon,none,%s\n", mem[m], b,
				3e8 + work + 1e8, mem[m]);
		}
	for (int b = 1; b <= 10; b++)
		fprintf(f, "\"reference,accel=tcg\",%d,ok,total,%.0f,0,debugcon,none,\n", b,
			5e7 + b * 1e5);
	fclose(f);
}

static char *html_of(bool step, struct cm_dataset *ds, struct cm_report *r)
{
	write_samples(step);
	struct cm_diags d = { 0 };
	int rc = cm_samples_read(path, ds, &d);
	cm_diags_print(&d, stderr);
	cm_diags_clear(&d);
	assert_int_equal(rc, 0);
	cm_dataset_meta(ds, CM_HDR(PHASES), "firmware: exec -> real_mode, work: real_mode -> "
					    "work_done, to_user: exec -> user");
	cm_report_build(ds, 0.05, r);
	unlink(path);
	return th_render(r, TH_HTML);
}

/* item 1: the sweep plot is drawn though the reference case has no memory value */
static void test_sweep_plot_with_reference(void **state)
{
	(void)state;
	struct cm_dataset ds;
	struct cm_report r;
	char *h = html_of(false, &ds, &r);
	assert_non_null(strstr(h, "class=\"plot sweep\""));
	assert_non_null(strstr(h, "Median against memory"));
	free(h);
	cm_report_free(&r);
	cm_dataset_free(&ds);
}

/* item 6: a 50 ms reference beside ~1 s cases does not force a log axis */
static void test_strip_axis_without_reference(void **state)
{
	(void)state;
	struct cm_dataset ds;
	struct cm_report r;
	char *h = html_of(false, &ds, &r);
	assert_null(strstr(h, "class=\"plot strip log\""));
	assert_non_null(strstr(h, "off this axis"));
	free(h);
	cm_report_free(&r);
	cm_dataset_free(&ds);
}

/* item 11: results first, the run header folded, reference rows only where measured */
static void test_results_first(void **state)
{
	(void)state;
	struct cm_dataset ds;
	struct cm_report r;
	char *h = html_of(false, &ds, &r);
	char *summary = strstr(h, "class=\"summary\""), *run = strstr(h, "<details class=\"run\"");
	assert_non_null(summary);
	assert_non_null(run);
	assert_true(summary < run);
	/* the firmware section lists the three memory cases, not the reference */
	char *fw = strstr(h, "Phase <code>firmware</code>"), *next = strstr(fw + 1, "<section");
	assert_non_null(fw);
	*next = 0;
	assert_null(strstr(fw, "reference,accel=tcg"));
	free(h);
	cm_report_free(&r);
	cm_dataset_free(&ds);
}

/* item 7: the slope with its CI on the plot, the legend, linearity said */
static void test_slope_on_plot(void **state)
{
	(void)state;
	struct cm_dataset ds;
	struct cm_report r;
	char *h = html_of(false, &ds, &r);
	char *sw = strstr(h, "class=\"plot sweep\"");
	assert_non_null(sw);
	assert_non_null(strstr(sw, "class=\"slope\""));
	assert_non_null(strstr(sw, "per GiB ["));
	assert_non_null(strstr(sw, "Theil–Sen line"));
	assert_non_null(strstr(sw, "band: the slope's 95% CI"));
	assert_non_null(strstr(sw, "linear: yes"));
	free(h);
	cm_report_free(&r);
	cm_dataset_free(&ds);
}

/* item 7: a step between the lower two of three levels is not linear */
static void test_step_not_linear(void **state)
{
	(void)state;
	struct cm_dataset ds;
	struct cm_report r;
	char *h = html_of(true, &ds, &r);
	size_t work = cm_dataset_find_phase(&ds, "work");
	bool seen = false;
	for (size_t i = 0; i < r.ntrends; i++)
		if (r.trends[i].phase == work) {
			seen = true;
			assert_true(r.trends[i].linear_known);
			assert_false(r.trends[i].linear);
		}
	assert_true(seen);
	assert_non_null(strstr(h, "linear: no"));
	free(h);
	cm_report_free(&r);
	cm_dataset_free(&ds);
}

/* item 5: only the chain firmware -> work is stacked; the legend names only bars */
static void test_breakdown_chain(void **state)
{
	(void)state;
	struct cm_dataset ds;
	struct cm_report r;
	char *h = html_of(false, &ds, &r);
	char *bd = strstr(h, "class=\"plot breakdown\"");
	assert_non_null(bd);
	assert_non_null(strstr(bd, "class=\"stacked\""));
	assert_null(strstr(bd, "qemu_cpu"));
	assert_null(strstr(bd, "peak RSS"));
	free(h);
	cm_report_free(&r);
	cm_dataset_free(&ds);
}

/* item 2: the terminal shows the named phases per case, their slopes, and ranks the real
 * cases only */
static void test_terminal_phases(void **state)
{
	(void)state;
	struct cm_dataset ds;
	struct cm_report r;
	free(html_of(false, &ds, &r));
	char *t = th_render(&r, TH_TERMINAL);
	assert_non_null(strstr(t, "Phases (median):"));
	assert_non_null(strstr(t, "firmware"));
	assert_non_null(strstr(t, "Steepest slopes on work"));
	char *fast = strstr(t, "Fastest by median total: ");
	assert_non_null(fast);
	assert_null(strstr(fast, "reference"));
	free(t);
	cm_report_free(&r);
	cm_dataset_free(&ds);
}

/* item 12: the reference case marked in summary.csv, samples.csv and JSON; the new
 * samples.csv reads back as the old did (the column is no axis) */
static void test_reference_marked(void **state)
{
	(void)state;
	struct cm_dataset ds, ds2;
	struct cm_report r;
	free(html_of(false, &ds, &r));
	char *csv = th_render(&r, TH_SUMMARY_CSV), *js = th_render(&r, TH_JSON);
	char *sam = th_render(&r, TH_SAMPLES);
	assert_non_null(strstr(csv, ",outliers,reference,memory\n"));
	assert_non_null(strstr(csv, "\"reference,accel=tcg\",total,10,0,"));
	assert_non_null(strstr(strstr(csv, "\"reference,accel=tcg\""), ",true,"));
	assert_non_null(strstr(csv, ",false,128M\n"));
	assert_non_null(strstr(js, "\"reference\": true"));
	assert_non_null(strstr(js, "\"reference\": false"));
	assert_non_null(strstr(sam, ",host_audit,reference,memory\n"));
	char *hf = NULL;
	size_t hlen = 0;
	FILE *hff = open_memstream(&hf, &hlen);
	assert_int_equal(cm_report_hyperfine(&r, "total", hff), 0);
	fclose(hff);
	assert_non_null(strstr(hf, "\"reference\": true"));
	free(hf);
	FILE *f = fopen(path, "w");
	fputs(sam, f);
	fclose(f);
	struct cm_diags d = { 0 };
	assert_int_equal(cm_samples_read(path, &ds2, &d), 0);
	cm_diags_clear(&d);
	unlink(path);
	assert_int_equal(ds2.naxes, 1);
	assert_string_equal(ds2.axes[0], "memory");
	assert_int_equal(ds2.n, ds.n);
	assert_int_equal(ds2.ncases, ds.ncases);
	cm_dataset_free(&ds2);
	free(csv), free(js), free(sam);
	cm_report_free(&r);
	cm_dataset_free(&ds);
}

/* item 12: list --format json marks the added reference case (a real coldmark process) */
static void test_list_json_reference(void **state)
{
	(void)state;
	char dir[] = "/tmp/test_readable.XXXXXX";
	assert_non_null(mkdtemp(dir));
	char m[300], cmd[700];
	snprintf(m, sizeof(m), "%s/m.yaml", dir);
	FILE *f = fopen(m, "w");
	fputs("guest: {bundled: guest}\nbase_args: [-machine, pc, -display, none, -nodefaults, "
	      "-no-reboot, -accel, tcg]\naxes:\n  memory: [128M, 512M]\nphases:\n"
	      "  - {name: work, from: long_mode, to: work_done}\n", f);
	fclose(f);
	snprintf(cmd, sizeof(cmd), "cd %s && " COLDMARK_BIN " list --format json m.yaml", dir);
	FILE *p = popen(cmd, "r");
	char out[8192] = { 0 };
	size_t n = fread(out, 1, sizeof(out) - 1, p);
	out[n] = 0;
	assert_int_equal(pclose(p), 0);
	unlink(m);
	rmdir(dir);
	char *ref = strstr(out, "{\"id\": \"reference");
	assert_non_null(ref);
	assert_non_null(strstr(ref, "\"reference\": true"));
	assert_non_null(strstr(out, "\"reference\": false"));
}

/* Three sessions of one case: a session's level times the per-boot values. */
static void sessions_ds(struct cm_dataset *ds, const double *level, double scale)
{
	cm_dataset_init(ds, NULL, 0);
	for (int k = 0; k < 3; k++) {
		char id[8];
		snprintf(id, sizeof(id), "%d", k + 1);
		cm_dataset_session(ds, id, NULL);
		for (int b = 1; b <= 6; b++)
			cm_dataset_add(ds, "a", k * 6 + b, false, "ok", "total",
				       level[k] * scale * (1 + 0.001 * b), "", "");
	}
}

/* item 4: the legend says why pooled medians and a session-level change can disagree, and
 * states each model's CI level (session level 90%, boots 95% at alpha 0.05) */
static void test_compare_legend(void **state)
{
	(void)state;
	struct cm_dataset b, c;
	double lb[] = { 1e9, 1.1e9, 1.2e9 }, lc[] = { 1e9, 1.1e9, 1.2e9 };
	sessions_ds(&b, lb, 1.0);
	sessions_ds(&c, lc, 1.03);
	struct cm_judge j = { 0.05, 0.02, 0 };
	struct cm_cmp_result res;
	assert_int_equal(cm_compare_build(&b, &c, &j, NULL, NULL, &res), 0);
	char *t = th_render_compare(&res, "text");
	assert_non_null(strstr(t, "the CI is the 90% interval"));
	assert_non_null(strstr(t, "base, candidate: the medians of all boots pooled; the change is "
				  "computed from the session medians"));
	free(t);
	cm_compare_free(&res);
	cm_dataset_free(&b);
	cm_dataset_free(&c);
}

/* ---- a real run in a real browser (CTest readable-chromium; boots qemu) ---------------------- */

static char *run_out(const char *cmd, int *rc)
{
	FILE *p = popen(cmd, "r");
	assert_non_null(p);
	size_t cap = 1 << 22, n = 0, got;
	char *out = calloc(1, cap);
	while ((got = fread(out + n, 1, cap - 1 - n, p)) > 0)
		n += got;
	*rc = pclose(p);
	return out;
}

static const char chromium_flags[] =
	"chromium --headless --no-sandbox --disable-gpu --disable-quic --no-first-run "
	"--disable-background-networking --disable-component-update --disable-sync "
	"--window-size=1000,1600 ";

/* The bundled guest under TCG over three memory sizes, the reference case left in (the
 * default): the sweep plot, its slope text and legend are on the page, and no label
 * overlaps another (the browser's bounding boxes, tests/html_check.js). */
static void test_real_run_in_chromium(void **state)
{
	(void)state;
	char dir[] = "/tmp/test_readable_html.XXXXXX";
	assert_non_null(mkdtemp(dir));
	char *cmd = NULL, *out;
	int rc;
	size_t len = 0;
	FILE *f = open_memstream(&cmd, &len);
	fprintf(f, "cat > %s/m.yaml <<'EOF'\n"
		   "guest: {bundled: guest}\n"
		   "base_args: [-machine, pc, -display, none, -nodefaults, -no-reboot, -accel, tcg]\n"
		   "axes:\n  memory: [128M, 512M, 2G]\n"
		   "phases:\n  - {name: firmware, from: exec, to: real_mode}\n"
		   "  - {name: mode_switch, from: real_mode, to: long_mode}\n"
		   "  - {name: work, from: long_mode, to: work_done}\n"
		   "run: {boots: 6, warmup: 1}\nEOF\n"
		   "cd %s && " COLDMARK_BIN " run m.yaml -o out 2>&1",
		dir, dir);
	fclose(f);
	out = run_out(cmd, &rc);
	fprintf(stderr, "%s", out);
	assert_int_equal(rc, 0);
	assert_non_null(strstr(out, "added: the reference case"));
	free(out), free(cmd);
	/* the page with the check appended: it writes its findings into the DOM */
	cmd = NULL;
	f = open_memstream(&cmd, &len);
	fprintf(f, "sed 's#</body>#<script src=\"file://" SOURCE_DIR "/tests/html_check.js\">"
		   "</script></body>#' %s/out/report.html > %s/check.html && %s "
		   "--user-data-dir=%s/profile --virtual-time-budget=3000 --dump-dom "
		   "file://%s/check.html 2>/dev/null",
		dir, dir, chromium_flags, dir, dir);
	fclose(f);
	out = run_out(cmd, &rc);
	assert_int_equal(rc, 0);
	char *check = strstr(out, "<pre id=\"domcheck\">");
	assert_non_null(check);
	fprintf(stderr, "%s\n", check);
	assert_null(strstr(check, "sweep plots: 0"));
	assert_null(strstr(check, "slope texts: 0"));
	assert_null(strstr(check, "sweep legends: 0"));
	assert_non_null(strstr(check, "overlaps: 0"));
	free(out), free(cmd);
	/* and the screenshot a person looks at (kept: its path is printed) */
	cmd = NULL;
	f = open_memstream(&cmd, &len);
	fprintf(f, "bash " SOURCE_DIR "/scripts/screenshot.sh %s/out/report.html %s/report.png", dir,
		dir);
	fclose(f);
	out = run_out(cmd, &rc);
	assert_int_equal(rc, 0);
	fprintf(stderr, "screenshot: %s", out);
	free(out), free(cmd);
}

int main(int argc, char **argv)
{
	if (argc > 1 && !strcmp(argv[1], "chromium")) {
		if (system("command -v chromium >/dev/null 2>&1")) {
			fprintf(stderr, "chromium is not installed (scripts/setup-deps.sh)\n");
			return 77;
		}
		const struct CMUnitTest t[] = { cmocka_unit_test(test_real_run_in_chromium) };
		return cmocka_run_group_tests_name("readable-chromium", t, NULL, NULL);
	}
	const struct CMUnitTest t[] = {
		cmocka_unit_test(test_sweep_plot_with_reference),
		cmocka_unit_test(test_strip_axis_without_reference),
		cmocka_unit_test(test_results_first),
		cmocka_unit_test(test_slope_on_plot),
		cmocka_unit_test(test_step_not_linear),
		cmocka_unit_test(test_breakdown_chain),
		cmocka_unit_test(test_terminal_phases),
		cmocka_unit_test(test_reference_marked),
		cmocka_unit_test(test_list_json_reference),
		cmocka_unit_test(test_compare_legend),
	};
	return cmocka_run_group_tests_name("readable", t, NULL, NULL);
}
