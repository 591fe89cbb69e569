/* Boots at once (issue 29). Group "units": the waves a plan is cut into, the concurrency axis
 * and an axis value's own guest (no qemu). Groups "tcg", "kvm", "sweep": real boots through
 * coldmark run (run them under flock /tmp/coldmark-e2e.lock). */
#define _GNU_SOURCE
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <jansson.h>
#include <fcntl.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <pthread.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include "cli.h"
#include "coldmark/harness.h"
#include "coldmark/report.h"
#include "helpers.h"

static char tmp[256];

static struct cm_matrix *load(const char *text)
{
	struct cm_diags d = { 0 };
	struct cm_matrix *m = cm_matrix_load_string(text, strlen(text), "waves.yaml", &d);
	for (size_t i = 0; !m && i < d.n; i++)
		fprintf(stderr, "%s\n", d.v[i].msg);
	cm_diags_clear(&d);
	return m;
}

static bool has_error(const char *text, const char *needle)
{
	struct cm_diags d = { 0 };
	struct cm_matrix *m = cm_matrix_load_string(text, strlen(text), "waves.yaml", &d);
	bool found = false;
	for (size_t i = 0; i < d.n; i++)
		found |= strstr(d.v[i].msg, needle) != NULL;
	cm_matrix_free(m);
	cm_diags_clear(&d);
	return !m && found;
}

/* Every wave of a concurrency case holds K copies of it; the plan keeps every boot. */
static void test_axis_waves(void **state)
{
	(void)state;
	struct cm_matrix *m = load("guest: {bundled: guest}\n"
				   "axes: {concurrency: [1, 2, 4]}\n"
				   "run: {boots: 8, warmup: 0, reference: none}\n");
	assert_non_null(m);
	assert_int_equal(m->ncases, 3);
	size_t n, waves = 0;
	struct cm_planned *pl = cm_plan_new(m, &n);
	assert_int_equal(n, 24);
	size_t count[3] = { 0 };
	for (size_t i = 0; i < n; waves++) {
		size_t k = cm_wave_take(m, pl, n, i);
		int want = m->cases[pl[i].c].concurrency;
		assert_int_equal(k, (size_t)want);
		for (size_t j = i; j < i + k; j++) {
			assert_int_equal(pl[j].c, pl[i].c);
			count[pl[j].c]++;
		}
		i += k;
	}
	assert_int_equal(waves, 8 + 4 + 2);
	for (size_t c = 0; c < 3; c++)
		assert_int_equal(count[c], 8);
	free(pl);
	cm_matrix_free(m);
}

/* run.concurrency: waves take the next K boots of the shuffled plan, cases mixed. */
static void test_run_waves(void **state)
{
	(void)state;
	struct cm_matrix *m = load("guest: {bundled: guest}\n"
				   "axes: {g: [{name: fast}, {name: slow, guest: {bundled: guest-slow}}]}\n"
				   "run: {boots: 12, warmup: 1, concurrency: 4, reference: none}\n");
	assert_non_null(m);
	assert_int_equal(m->concurrency, 4);
	size_t n, mixed = 0;
	struct cm_planned *pl = cm_plan_new(m, &n);
	struct cm_planned *orig = cm_xmalloc(n * sizeof(*pl));
	memcpy(orig, pl, n * sizeof(*pl));
	for (size_t i = 0; i < n;) {
		size_t k = cm_wave_take(m, pl, n, i);
		assert_true(k >= 1 && k <= 4);
		for (size_t j = i; j < i + k; j++) {
			assert_int_equal(pl[j].warmup, pl[i].warmup); /* warm-ups wave apart */
			mixed += pl[j].c != pl[i].c;
		}
		if (!pl[i].warmup)
			assert_int_equal(k, 4); /* 24 measured boots: 6 full waves */
		i += k;
	}
	assert_true(mixed > 0); /* different cases share a wave */
	/* the next K of the shuffled plan: the order is the plan's */
	assert_memory_equal(pl, orig, n * sizeof(*pl));
	free(orig);
	free(pl);
	cm_matrix_free(m);
}

/* An axis value's own guest: its cases boot that image; the others the matrix's. */
static void test_value_guest(void **state)
{
	(void)state;
	struct cm_matrix *m = load("guest: {bundled: guest}\n"
				   "axes: {g: [{name: fast}, {name: slow, guest: {bundled: guest-slow}}]}\n");
	assert_non_null(m);
	for (size_t c = 0; c < m->ncases; c++) {
		char *line = cm_case_cmdline(&m->cases[c]);
		bool slow = strstr(m->cases[c].id, "slow") != NULL;
		assert_int_equal(strstr(line, "/guest-slow.img") != NULL, slow);
		assert_non_null(strstr(line, slow ? "guest-slow.img" : "/guest.img"));
		free(line);
	}
	cm_matrix_free(m);
	assert_true(has_error("guest: {bundled: guest}\n"
			      "axes: {g: [{name: x, guest: {bundled: no-such-guest}}]}\n",
			      "no-such-guest"));
	assert_true(has_error("guest: {bundled: guest}\naxes: {concurrency: [1, two]}\n",
			      "concurrency 'two'"));
	assert_true(has_error("guest: {bundled: guest}\naxes: {concurrency: [0]}\n",
			      "concurrency '0'"));
	assert_true(has_error("guest: {bundled: guest}\naxes: {concurrency: [1, 4]}\n"
			      "run: {boots: 6}\n", "not a multiple of its concurrency (4)"));
}

/* ---- the runner on a fake launcher (threads at once, no qemu) --------------------------------- */

static int at_once, most_at_once, launches, interrupt_at;
static int caseless; /* launches not told their case (its console markers, an axis value's) */
static pthread_mutex_t fake_lock = PTHREAD_MUTEX_INITIALIZER;

/* Sleeps 50 ms "booting"; counts how many boots are in at once. Thread-safe. */
static int fake_launch(const struct cm_launch *l, struct cm_events *ev, struct cm_exit *ex)
{
	memset(ex, 0, sizeof(*ex));
	ex->launched = true;
	pthread_mutex_lock(&fake_lock);
	int me = ++launches;
	caseless += !l->kase || l->kase->argv != l->argv;
	if (++at_once > most_at_once)
		most_at_once = at_once;
	pthread_mutex_unlock(&fake_lock);
	if (me == interrupt_at)
		raise(SIGINT); /* the runner's handler sets the flag every slot watches */
	int64_t t = cm_now_ns();
	for (int i = 0; i < 50 && !*l->stop; i++)
		usleep(1000);
	pthread_mutex_lock(&fake_lock);
	at_once--;
	pthread_mutex_unlock(&fake_lock);
	if (*l->stop) {
		ex->interrupted = true;
		ex->signal = SIGTERM;
		return 0;
	}
	th_fake_guest_boot(l, ev, ex, t);
	ex->metrics[CM_MET_CPU] = 1e6;
	ex->metrics[CM_MET_MAXRSS] = 1e6;
	return 0;
}

static char *write_matrix_fake(void);

static int fake_run(const char *out, const char *extra)
{
	char *mx = write_matrix_fake();
	char *dir = cm_xasprintf("%s/%s", tmp, out), *db = cm_xasprintf("%s/h.db", tmp);
	char *argv[8] = { mx, "-o", dir, "--db", db };
	int argc = 5;
	if (extra)
		argv[argc++] = "--resume", argv[argc++] = dir;
	struct cm_cli cli;
	assert_int_equal(cm_cli_parse(cm_command("run"), argc, argv, &cli), 0);
	launches = most_at_once = caseless = 0;
	int saved = th_stdout_off();
	int rc = cm_run(&cli, fake_launch);
	th_stdout_on(saved);
	free(db), free(dir), free(mx);
	return rc;
}

static size_t count_status(const char *dir, const char *sub, const char *status);

/* Three at a time: three boots are in at once; Ctrl-C in the second wave ends its three
 * (interrupted), and --resume goes on to exactly the planned counts, in the journal and the
 * store alike (one transaction per boot). */
/* samples.csv of a run in waves (after a cut and --resume): every row has its wave (1..last)
 * and slot (1..k); each (wave, slot) is one boot's, but for an interrupted boot and its boot
 * again in a later wave; the boots of a wave share it whatever order they were written in. */
static void waves_in_samples(const char *dir, int last, int k)
{
	char *path = cm_xasprintf("%s/samples.csv", dir);
	struct cm_dataset ds;
	struct cm_diags d = { 0 };
	assert_int_equal(cm_samples_read(path, &ds, &d), 0);
	assert_true(ds.waves);
	int *owner = cm_xcalloc((size_t)(last + 1) * (size_t)(k + 1), sizeof(int));
	size_t total = cm_dataset_find_phase(&ds, "total"), seen = 0;
	for (size_t i = 0; i < ds.n; i++) {
		const struct cm_sample_row *r = &ds.rows[i];
		assert_true(r->wave >= 1 && r->wave <= last);
		assert_true(r->slot >= 1 && r->slot <= k);
		if (r->phase_idx != total)
			continue;
		int *o = &owner[r->wave * (k + 1) + r->slot], me = (r->warmup ? -1 : 1) * r->boot;
		if (*o && (*o != me || !cm_row_boot_done(r)))
			fail_msg("wave %d slot %d: boots %d and %d", r->wave, r->slot, *o, me);
		*o = me;
		seen++;
	}
	assert_int_equal(seen, 3 * 6 + 3 + 3); /* every boot, the 3 interrupted ones too */
	free(owner), free(path);
	cm_dataset_free(&ds);
	cm_diags_clear(&d);
}

static void test_runner_waves(void **state)
{
	(void)state;
	assert_int_equal(fake_run("fake", NULL), 0);
	assert_int_equal(most_at_once, 3);
	assert_int_equal(caseless, 0);
	char *dir = cm_xasprintf("%s/fake", tmp);
	assert_int_equal(count_status(dir, "", "ok"), 3 * 6 + 3);
	/* waves.csv: a line per wave (the warm-ups' and six of three), each with its makespan */
	char *wpath = cm_xasprintf("%s/waves.csv", dir), *line = NULL;
	FILE *wf = fopen(wpath, "r");
	assert_non_null(wf);
	size_t cap = 0, nw = 0;
	while (getline(&line, &cap, wf) > 0)
		if (nw++) {
			int wave, session, warm;
			size_t k;
			long long span;
			assert_int_equal(sscanf(line, "%d,%d,%d,%zu,\"(mixed)\",%lld", &wave, &session,
						&warm, &k, &span) + 0 >= 4, 1);
			assert_int_equal(k, 3);
		}
	fclose(wf);
	free(line), free(wpath);
	assert_int_equal(nw, 1 + 7);
	interrupt_at = 8; /* the third wave (the first is the 3 warm-ups) */
	char *cut = cm_xasprintf("%s/cut", tmp);
	assert_int_equal(fake_run("cut", NULL), 130);
	interrupt_at = 0;
	assert_int_equal(count_status(cut, "", "interrupted"), 3);
	assert_int_equal(count_status(cut, "", "ok"), 3 + 3); /* the warm-ups and one wave */
	assert_int_equal(fake_run("cut", "resume"), 0);
	assert_int_equal(launches, 3 * 6 - 3); /* resumed at the wave boundary */
	assert_int_equal(count_status(cut, "", "ok"), 3 * 6 + 3);
	/* the resumed run numbers its waves on: 2 before the cut (the warm-ups', one), the cut
	 * one, then 5 more */
	char *wpath2 = cm_xasprintf("%s/waves.csv", cut), *text = NULL;
	FILE *f2 = fopen(wpath2, "r");
	assert_non_null(f2);
	size_t cap2 = 0;
	int last = 0, w;
	while (getline(&text, &cap2, f2) > 0)
		if (sscanf(text, "%d,", &w) == 1)
			last = w;
	fclose(f2);
	free(text), free(wpath2);
	assert_int_equal(last, 2 + 1 + 5);
	waves_in_samples(cut, last, 3);
	free(cut), free(dir);
}

/* The concurrency axis on the fake launcher: each level's waves hold that many boots at once,
 * and report.json has a slope of total over concurrency. */
static void test_runner_axis(void **state)
{
	(void)state;
	char *mx = th_write_matrix(tmp, "axis", "qemu: /bin/true\n"
					"guest: {bundled: guest}\n"
					"base_args: [-accel, tcg]\n"
					"axes: {concurrency: [1, 2, 4]}\n"
					"run: {boots: 8, warmup: 0, drop_caches: false, exit_status: 33, "
					"reference: none}\n");
	char *dir = cm_xasprintf("%s/axis", tmp);
	char *argv[] = { mx, "-o", dir };
	struct cm_cli cli;
	assert_int_equal(cm_cli_parse(cm_command("run"), 3, argv, &cli), 0);
	launches = most_at_once = caseless = 0;
	int saved = th_stdout_off();
	int rc = cm_run(&cli, fake_launch);
	th_stdout_on(saved);
	assert_int_equal(rc, 0);
	assert_int_equal(launches, 24);
	assert_int_equal(most_at_once, 4);
	assert_int_equal(caseless, 0);
	char *json = cm_xasprintf("%s/report.json", dir);
	FILE *f = fopen(json, "r");
	assert_non_null(f);
	char *text = calloc(1, 1 << 22);
	assert_true(fread(text, 1, (1 << 22) - 1, f) > 0);
	fclose(f);
	char *slopes = strstr(text, "\"slopes\"");
	assert_non_null(slopes);
	assert_non_null(strstr(slopes, "concurrency"));
	assert_non_null(strstr(text, "the concurrency axis, up to 4 at a time"));
	free(text), free(json), free(dir), free(mx);
}

/* ---- real boots ----------------------------------------------------------------------------- */

static char *write_matrix_fake(void)
{
	return th_write_matrix(tmp, "fake", "qemu: /bin/true\n"
				    "guest: {bundled: guest}\n"
				    "base_args: [-accel, tcg]\n"
				    "axes: {smp: [1, 2, 3]}\n"
				    "run: {boots: 6, warmup: 1, drop_caches: false, exit_status: 33, "
				    "reference: none, concurrency: 3}\n");
}

/* Whose markers each boot's row of events.csv carries: the fast guest (guest-serial) says "L"
 * and "W" on its console (the fast value's own markers said_l, said_w), the slow one nothing. A
 * boot's console is its own qemu's, so every fast row has each once and no slow row either,
 * however loaded the host; a wave's events recorded under another of its boots, a slot armed
 * with another case's markers, or a boot's sockets given to another qemu break that. */
static void expect_own_markers(const char *dir, int n)
{
	char *p = cm_xasprintf("%s/events.csv", dir), *csv = th_slurp(p);
	int said[2][2][64] = { 0 }, done[2][64] = { 0 }; /* [slow][L, W][boot], [slow][boot] */
	assert_true(n < 64);
	for (char *line = strtok(csv, "\n"); line; line = strtok(NULL, "\n")) {
		char kase[16], ev[64];
		int boot, warmup;
		if (sscanf(line, "g=%15[a-z],%d,%d,%63[^,],", kase, &boot, &warmup, ev) != 4)
			continue;
		assert_true(boot >= 1 && boot <= n && !warmup);
		int slow = !strcmp(kase, "slow");
		assert_true(slow || !strcmp(kase, "fast"));
		said[slow][0][boot] += !strcmp(ev, "said_l");
		said[slow][1][boot] += !strcmp(ev, "said_w");
		done[slow][boot] += !strcmp(ev, "work_done");
	}
	for (int boot = 1; boot <= n; boot++)
		for (int slow = 0; slow < 2; slow++) {
			if (said[slow][0][boot] != !slow || said[slow][1][boot] != !slow)
				fprintf(stderr, "g=%s boot %d: said_l %d, said_w %d (a %s guest's)\n",
					slow ? "slow" : "fast", boot, said[slow][0][boot],
					said[slow][1][boot], slow ? "fast" : "slow or no");
			assert_int_equal(done[slow][boot], 1);
			assert_int_equal(said[slow][0][boot], !slow);
			assert_int_equal(said[slow][1][boot], !slow);
		}
	free(csv), free(p);
}

/* A run of the fast and slow guests mixed in waves of k, n boots each: every boot ok, each
 * with its own guest's markers (expect_own_markers), and every wave's slots its own. */
static void mixed_run(const char *name, const char *accel, int k, int n, const char *extra)
{
	char *body = cm_xasprintf("guest: {bundled: guest}\n"
				  "base_args: [-machine, pc, -accel, %s, -display, none, -nodefaults]\n"
				  "axes: {g: [{name: fast, guest: {bundled: guest-serial}, markers: {console: "
				  "[{name: said_l, match: L}, {name: said_w, match: W}]}},\n"
				  "           {name: slow, guest: {bundled: guest-slow}}]}\n"
				  "phases:\n"
				  "  - {name: firmware, from: exec, to: real_mode}\n"
				  "  - {name: work, from: long_mode, to: work_done}\n"
				  "run: {boots: %d, warmup: 0, concurrency: %d, reference: none%s}\n",
				  accel, n, k, extra);
	char *mx = th_write_matrix(tmp, name, body);
	char *dir = cm_xasprintf("%s/%s", tmp, name), *out = cm_xasprintf("%s.out", dir);
	char *argv[] = { COLDMARK_BIN, "run", mx, "-o", dir, NULL };
	int rc = th_run(argv, out);
	char *said = cm_xasprintf("cat %s", out);
	if (rc)
		assert_int_equal(system(said), 0);
	assert_int_equal(rc, 0);
	char *samples = cm_xasprintf("%s/samples.csv", dir);
	struct cm_dataset ds;
	struct cm_diags d = { 0 };
	assert_int_equal(cm_samples_read(samples, &ds, &d), 0);
	double fast_min = INFINITY, fast_max = 0, slow_min = INFINITY, fast[24];
	size_t ok = 0, nf = 0, ns = 0;
	for (size_t i = 0; i < ds.n; i++) {
		const struct cm_sample_row *r = &ds.rows[i];
		if (!strcmp(r->phase, "total"))
			ok += !strcmp(r->status, "ok");
		if (strcmp(r->phase, "work") || nf == 24 || ns == 24)
			continue;
		if (strstr(r->case_id, "slow")) {
			slow_min = fmin(slow_min, r->duration_ns);
			ns++;
		} else {
			fast_min = fmin(fast_min, fast[nf++] = r->duration_ns);
			fast_max = fmax(fast_max, r->duration_ns);
		}
	}
	qsort(fast, nf, sizeof(double), cm_cmp_double);
	double fast_median = nf ? fast[nf / 2] : NAN;
	printf("%s: %zu/%d ok; slow work >= %.3f ms; fast work min %.3f ms, median %.3f ms, max "
	       "%.3f ms; slow min / fast max = %.1fx%s\n",
	       name, ok, 2 * n, slow_min / 1e6, fast_min / 1e6, fast_median / 1e6, fast_max / 1e6,
	       slow_min / fast_max,
	       slow_min > 10 * fast_max ? "" : " (a fast boot's work was preempted: K > CPUs)");
	assert_int_equal(ok, 2 * n);
	assert_int_equal(nf, n);
	assert_int_equal(ns, n);
	expect_own_markers(dir, n);
	/* The times as a rank statistic a loaded host cannot turn: a wall time only grows when
	 * the guest is kept waiting (one fast ~0.1 ms work took 178 ms beside an ASan build: the
	 * slowest fast boot says how the host was), and the slow guest's work (150x the
	 * iterations) is never shorter than its computation. 10x the fastest fast boot tops it
	 * only if all n fast boots were held up for a tenth of it inside their ~0.1 ms. A slow
	 * row with a fast guest's port markers (perf's pid attribution, apart from the console
	 * that expect_own_markers follows) falls below it. */
	assert_true(slow_min > 10 * fast_min);
	if (!strcmp(accel, "kvm")) /* through perf, its pid attribution */
		for (size_t i = 0; i < ds.n; i++)
			assert_string_equal(ds.rows[i].source, "perf");
	/* every boot carries its wave and slot; some wave filled all k slots */
	char *events = cm_xasprintf("%s/events.csv", dir), *ev = NULL;
	FILE *f = fopen(events, "r");
	assert_non_null(f);
	size_t cap = 0, nwave = 0;
	unsigned top = 0;
	while (getline(&ev, &cap, f) > 0) {
		unsigned slot, wave;
		char *at = strstr(ev, ",wave,");
		if (at && sscanf(at, ",wave,%u,%u,", &slot, &wave) == 2) {
			nwave++;
			top = slot > top ? slot : top;
		}
	}
	fclose(f);
	free(ev);
	assert_int_equal(nwave, 2 * n);
	assert_int_equal(top, (unsigned)k);
	/* and in samples.csv: each boot's wave and slot, a slot of a wave one boot's */
	char *seen = cm_xcalloc((size_t)(2 * n + 1) * (size_t)(k + 1), 1);
	for (size_t i = 0; i < ds.n; i++) {
		const struct cm_sample_row *r = &ds.rows[i];
		assert_true(r->wave >= 1 && r->wave <= 2 * n && r->slot >= 1 && r->slot <= k);
		if (!strcmp(r->phase, "total")) {
			assert_false(seen[r->wave * (k + 1) + r->slot]);
			seen[r->wave * (k + 1) + r->slot] = 1;
		}
	}
	free(seen);
	cm_dataset_free(&ds);
	cm_diags_clear(&d);
	free(events), free(samples), free(said), free(out), free(dir), free(mx), free(body);
}

static void test_tcg_mixed(void **state)
{
	(void)state;
	mixed_run("tcg-mixed", "tcg", 4, 12, "");
}

#ifndef KVM_BOOTS_EACH
#define KVM_BOOTS_EACH 4
#endif
static void test_kvm_mixed(void **state)
{
	(void)state;
	/* The validation: "mixed in waves of 4 under TCG, 12 boots each: [every slow over
	 * 10x every fast, 24 of 24 ok]; under KVM through perf the same with 2 at a time": the
	 * count is TCG's; under KVM the same checks on 4 boots each (4 waves of 2, the cases
	 * mixed by the shuffled plan). The slow guest's 3,000,000 iterations take ~17 s a boot
	 * under this host's nested KVM: 12 each took ~6 min, 4 each ~2 (~4 when the host is
	 * busy with other work, a boot then up to ~60 s: hence the timeout). */
	mixed_run("kvm-mixed", "kvm", 2, KVM_BOOTS_EACH, ", source: perf, timeout: 240s");
}

/* concurrency: [1, 2, 4] on the bundled guest: a slope of total over concurrency. */
/* report.json's waves of the sweep: a level per concurrency value (8 boots: 8/K waves of K),
 * each with its makespan, launches per second, cost per wave and every phase's median, p90 and
 * p99; the total's slope per added VM with its CI. */
static void sweep_levels(const char *path)
{
	json_error_t e;
	json_t *root = json_load_file(path, 0, &e), *w = json_object_get(root, "waves");
	assert_non_null(w);
	json_t *levels = json_object_get(w, "levels"), *per = json_object_get(w, "total_per_added_vm_ns");
	assert_int_equal(json_array_size(levels), 3);
	for (size_t i = 0; i < 3; i++) {
		json_t *l = json_array_get(levels, i);
		json_int_t k = json_integer_value(json_object_get(l, "at_a_time"));
		assert_int_equal(k, 1 << i);
		assert_int_equal(json_integer_value(json_object_get(l, "waves")), 8 / k);
		assert_true(json_real_value(json_object_get(l, "makespan_median_ns")) > 0);
		assert_true(json_real_value(json_object_get(l, "launches_per_s")) > 0);
		assert_true(json_real_value(json_object_get(l, "qemu_cpu_per_wave_ns")) > 0);
		assert_true(json_real_value(json_object_get(l, "qemu_maxrss_per_wave_bytes")) > 0);
		json_t *ph = json_object_get(l, "phases"), *x;
		size_t j;
		bool total = false;
		json_array_foreach(ph, j, x) {
			double med = json_real_value(json_object_get(x, "median")),
			       p90 = json_real_value(json_object_get(x, "p90")),
			       p99 = json_real_value(json_object_get(x, "p99"));
			assert_true(med > 0 && med <= p90 && p90 <= p99);
			total |= !strcmp(json_string_value(json_object_get(x, "phase")), "total");
		}
		assert_true(total);
		printf("sweep: %lld at a time: launches/s %.2f, makespan median %.1f ms\n", (long long)k,
		       json_real_value(json_object_get(l, "launches_per_s")),
		       json_real_value(json_object_get(l, "makespan_median_ns")) / 1e6);
	}
	assert_non_null(per);
	double sl = json_real_value(json_object_get(per, "slope")),
	       lo = json_real_value(json_object_get(per, "lo")), hi = json_real_value(json_object_get(per, "hi"));
	printf("sweep: total %+.1f ms per added VM [%+.1f, %+.1f]\n", sl / 1e6, lo / 1e6, hi / 1e6);
	assert_true(lo <= sl && sl <= hi);
	json_decref(root);
}

static void test_sweep(void **state)
{
	(void)state;
	char *mx = th_write_matrix(tmp, "sweep", "guest: {bundled: guest}\n"
					 "base_args: [-machine, pc, -accel, tcg, -display, none, -nodefaults]\n"
					 "axes: {concurrency: [1, 2, 4]}\n"
					 "run: {boots: 8, warmup: 0, reference: none}\n");
	char *dir = cm_xasprintf("%s/sweep", tmp), *out = cm_xasprintf("%s.out", dir);
	char *argv[] = { COLDMARK_BIN, "run", mx, "-o", dir, NULL };
	assert_int_equal(th_run(argv, out), 0);
	char *json = cm_xasprintf("%s/report.json", dir);
	FILE *f = fopen(json, "r");
	assert_non_null(f);
	char *text = calloc(1, 1 << 22);
	fread(text, 1, (1 << 22) - 1, f);
	fclose(f);
	char *slopes = strstr(text, "\"slopes\"");
	assert_non_null(slopes);
	assert_non_null(strstr(slopes, "\"concurrency\""));
	assert_non_null(strstr(slopes, "\"slope_ns\""));
	char *html = cm_xasprintf("%s/report.html", dir);
	f = fopen(html, "r");
	assert_non_null(f);
	fread(text, 1, (1 << 22) - 1, f);
	fclose(f);
	assert_non_null(strstr(text, "concurrency"));
	assert_non_null(strstr(text, "<svg"));
	assert_non_null(strstr(text, "Boots at once (waves)"));
	assert_non_null(strstr(text, "per added VM"));
	sweep_levels(json);
	free(text), free(html), free(json), free(out), free(dir), free(mx);
}

/* Counts the total rows of a run by status for cases whose id has sub. */
static size_t count_status(const char *dir, const char *sub, const char *status)
{
	char *samples = cm_xasprintf("%s/samples.csv", dir);
	struct cm_dataset ds;
	struct cm_diags d = { 0 };
	assert_int_equal(cm_samples_read(samples, &ds, &d), 0);
	size_t n = 0;
	for (size_t i = 0; i < ds.n; i++)
		n += !strcmp(ds.rows[i].phase, "total") && strstr(ds.rows[i].case_id, sub) &&
		     !strcmp(ds.rows[i].status, status);
	cm_dataset_free(&ds);
	cm_diags_clear(&d);
	free(samples);
	return n;
}

/* A qemu wrapper for waves of 2: a boot (not --version, -L help nor the ROM query) appends a
 * line to NAME.started and waits for its wave's other (lines 2w-1, 2w) before it execs qemu:
 * boots at once meet however loaded the host; one by one, the first waits to its timeout. */
static char *meeting_qemu(const char *name)
{
	char *qemu = cm_which("qemu-system-x86_64"), body[1024];
	assert_non_null(qemu);
	char *started = cm_xasprintf("%s/%s.started", tmp, name);
	snprintf(body, sizeof(body),
		 "#!/bin/sh\n"
		 "case \" $* \" in *\" -S \"*|*\" --version \"*|*\" help \"*) exec %s \"$@\";; esac\n"
		 "echo $$ >> %s\n"
		 "n=$(wc -l < %s)\n"
		 "want=$(( (n + 1) / 2 * 2 ))\n"
		 "while [ $(wc -l < %s) -lt $want ]; do sleep 0.01; done\n"
		 "exec %s \"$@\"\n",
		 qemu, started, started, started, qemu);
	char *path = cm_xasprintf("%s/%s-qemu", tmp, name);
	th_write(path, body, 0755);
	free(started), free(qemu);
	return path;
}

/* A boot that times out in a wave stops nothing: its wave's other boot is ok. Through
 * meeting_qemu, both fast boots ok also says each wave's two ran at once (not the run's wall
 * time under 12 s: a busy host's start can exceed it, and one by one would meet it). */
static void test_timeout_in_wave(void **state)
{
	(void)state;
	char *q = meeting_qemu("faults");
	char *body = cm_xasprintf("qemu: %s\n"
				  "guest: {bundled: guest}\n"
				  "base_args: [-machine, pc, -accel, tcg, -display, none, -nodefaults]\n"
				  "axes: {g: [{name: fast}, {name: hang, guest: {bundled: guest-hang}}]}\n"
				  "run: {boots: 2, warmup: 0, concurrency: 2, reference: none, timeout: 3s, "
				  "order: interleaved}\n", q);
	char *mx = th_write_matrix(tmp, "faults", body);
	char *dir = cm_xasprintf("%s/faults", tmp), *out = cm_xasprintf("%s.out", dir);
	char *argv[] = { COLDMARK_BIN, "run", mx, "-o", dir, NULL };
	int64_t t0 = cm_now_ns();
	assert_int_equal(th_run(argv, out), 1); /* failed boots */
	printf("timeout in a wave: the run took %.1f s\n", (double)(cm_now_ns() - t0) / 1e9);
	assert_int_equal(count_status(dir, "fast", "ok"), 2);
	assert_int_equal(count_status(dir, "hang", "timeout"), 2);
	free(out), free(dir), free(mx), free(body), free(q);
}

/* SIGINT ends the whole wave: both boots interrupted (not timeout, run on to 60 s), exit 130;
 * sent once both have started (meeting_qemu's lines), not 3 s after coldmark's start. */
static void test_sigint_wave(void **state)
{
	(void)state;
	char *q = meeting_qemu("sigint"), *started = cm_xasprintf("%s/sigint.started", tmp);
	char *body = cm_xasprintf("qemu: %s\nguest: {bundled: guest-hang}\n"
				  "base_args: [-machine, pc, -accel, tcg, -display, none, -nodefaults]\n"
				  "run: {boots: 4, warmup: 0, concurrency: 2, reference: none, timeout: 60s}\n",
				  q);
	char *mx = th_write_matrix(tmp, "sigint", body);
	char *dir = cm_xasprintf("%s/sigint", tmp), *out = cm_xasprintf("%s.out", dir);
	char *argv[] = { COLDMARK_BIN, "run", mx, "-o", dir, NULL };
	pid_t pid = th_start(argv, out);
	int st;
	bool both = false;
	while (!both && waitpid(pid, &st, WNOHANG) == 0) {
		char *s = th_exists(started) ? th_slurp(started) : NULL;
		both = s && th_count(s, "\n") >= 2;
		free(s);
		if (!both)
			usleep(2000);
	}
	assert_true(both);
	int64_t t0 = cm_now_ns();
	assert_int_equal(kill(pid, SIGINT), 0);
	waitpid(pid, &st, 0);
	printf("sigint in a wave: coldmark ended %.2f s after the signal\n",
	       (double)(cm_now_ns() - t0) / 1e9);
	assert_true(WIFEXITED(st));
	assert_int_equal(WEXITSTATUS(st), 130);
	assert_int_equal(count_status(dir, "", "interrupted"), 2); /* the wave's two, no more */
	assert_int_equal(count_status(dir, "", "timeout"), 0);
	free(out), free(dir), free(mx), free(body), free(q), free(started);
}

int main(int argc, char **argv)
{
	const char *group = argc > 1 ? argv[1] : "units";
	if (th_mkdtemp(tmp, sizeof(tmp), "waves"))
		return 1;
	setenv("COLDMARK_GUEST_DIR", GUEST_DIR, 1); /* the runs in process and their children */
	if (!strcmp(group, "units")) {
		const struct CMUnitTest t[] = { cmocka_unit_test(test_axis_waves),
						cmocka_unit_test(test_run_waves),
						cmocka_unit_test(test_value_guest),
						cmocka_unit_test(test_runner_waves),
						cmocka_unit_test(test_runner_axis) };
		return cmocka_run_group_tests_name("waves-units", t, NULL, NULL);
	}
	free(th_need_program("qemu-system-x86_64"));
	if (!strcmp(group, "tcg")) {
		const struct CMUnitTest t[] = { cmocka_unit_test(test_tcg_mixed) };
		return cmocka_run_group_tests_name("waves-tcg", t, NULL, NULL);
	}
	if (!strcmp(group, "kvm")) {
		if (!th_kvm_ok())
			th_skip_group("no usable /dev/kvm");
		const struct CMUnitTest t[] = { cmocka_unit_test(test_kvm_mixed) };
		return cmocka_run_group_tests_name("waves-kvm", t, NULL, NULL);
	}
	if (!strcmp(group, "faults")) {
		const struct CMUnitTest t[] = { cmocka_unit_test(test_timeout_in_wave),
						cmocka_unit_test(test_sigint_wave) };
		return cmocka_run_group_tests_name("waves-faults", t, NULL, NULL);
	}
	if (!strcmp(group, "sweep")) {
		const struct CMUnitTest t[] = { cmocka_unit_test(test_sweep) };
		return cmocka_run_group_tests_name("waves-sweep", t, NULL, NULL);
	}
	fprintf(stderr, "unknown group %s\n", group);
	return 2;
}
