/* coldmark run: plan the boots, run them cold, keep every finished boot on disk before the
 * next one starts, and rewrite the reports as cases complete. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/utsname.h>
#include <time.h>
#include <unistd.h>

#include "cli.h"
#include "coldmark/harness.h"
#include "coldmark/report.h"
#include "coldmark/rundir.h"
#include "coldmark/store.h"

static volatile int stop_flag;
static void on_signal(int sig)
{
	stop_flag = sig;
}

/* One line of a sysfs/procfs file, or NULL when the host does not expose it. */
static char *read_line(const char *path)
{
	FILE *f = fopen(path, "r");
	char buf[256];
	if (!f)
		return NULL;
	char *ok = fgets(buf, sizeof(buf), f);
	fclose(f);
	if (!ok)
		return NULL;
	buf[strcspn(buf, "\n")] = 0;
	return cm_xstrdup(buf);
}

static void meta_file(struct cm_dataset *ds, const char *key, const char *path)
{
	char *v = read_line(path);
	if (v)
		cm_dataset_meta(ds, key, v);
	free(v);
}

/* sha256 of a file, hashed in process (no helper: a file name never reaches a command). */
static void meta_hash(struct cm_dataset *ds, const char *key, const char *path)
{
	char hex[65];
	if (!path || cm_sha256_file(path, hex))
		return;
	char *v = cm_xasprintf("%s  %s", hex, path);
	cm_dataset_meta(ds, key, v);
	free(v);
}

/* argv without the values that cannot change which ROMs qemu loads: cases that differ only
 * in memory, CPUs or accelerator are asked once. */
static char *rom_key(const struct cm_case *c)
{
	static const char *const irrelevant[] = { "-m", "-smp", "-accel", "-cpu", "-name" };
	struct cm_buf b = { 0 };
	for (size_t i = 0; i < c->argc; i++) {
		bool skip = false;
		for (size_t k = 0; k < sizeof(irrelevant) / sizeof(irrelevant[0]); k++)
			skip |= i > 0 && !strcmp(c->argv[i - 1], irrelevant[k]);
		if (!skip)
			cm_buf_printf(&b, "%s\x1f", c->argv[i]);
	}
	return cm_buf_steal(&b);
}

#define MAX_ROM_QUERIES 32
#define CM_STR_(x) #x
#define CM_STR(x) CM_STR_(x)

/* sha256 of every firmware and option ROM file the cases load, as qemu itself reports them */
static void capture_firmware(struct cm_dataset *ds, const struct cm_matrix *m)
{
	char **asked = NULL;
	size_t nasked = 0;
	for (size_t c = 0; c < m->ncases; c++) {
		char *key = rom_key(&m->cases[c]);
		bool seen = false;
		for (size_t i = 0; i < nasked && !seen; i++)
			seen = !strcmp(asked[i], key);
		if (seen) {
			free(key);
			continue;
		}
		if (nasked == MAX_ROM_QUERIES) {
			/* each query starts a qemu: hundreds of device sets would delay the first
			 * boot by minutes */
			char *k = cm_xasprintf("firmware (%s)", m->cases[c].id);
			cm_dataset_meta(ds, k, "not asked: more than " CM_STR(MAX_ROM_QUERIES)
					       " distinct device sets in the matrix");
			free(k), free(key);
			continue;
		}
		asked = cm_xrealloc(asked, (nasked + 1) * sizeof(char *));
		asked[nasked++] = key;
		struct cm_rom *roms;
		size_t n;
		char err[256];
		if (cm_case_roms(m->cases[c].argv, &roms, &n, err, sizeof(err))) {
			char *k = cm_xasprintf("firmware (%s)", m->cases[c].id);
			char *v = cm_xasprintf("not known: %s", err);
			cm_dataset_meta(ds, k, v);
			free(k), free(v);
			continue;
		}
		for (size_t i = 0; i < n; i++) {
			char *k = cm_xasprintf("firmware sha256 (%s)", roms[i].name);
			const char *had = cm_dataset_get_meta(ds, k);
			if (had && roms[i].path && !strstr(had, roms[i].path)) {
				/* the same name from another file (a -bios of another case) */
				free(k);
				k = cm_xasprintf("firmware sha256 (%s, %s)", roms[i].name, roms[i].path);
			}
			if (roms[i].path)
				meta_hash(ds, k, roms[i].path);
			else if (!had)
				cm_dataset_meta(ds, k, "file not found in qemu's data directories");
			free(k);
		}
		cm_roms_free(roms, n);
	}
	for (size_t i = 0; i < nasked; i++)
		free(asked[i]);
	free(asked);
}

/* What a later comparison needs to say exactly what differs between two runs. */
static void capture_environment(struct cm_dataset *ds, const struct cm_matrix *m, const char *qemu)
{
	char buf[512];
	FILE *f = fopen("/proc/cpuinfo", "r");
	while (f && fgets(buf, sizeof(buf), f))
		if (!strncmp(buf, "model name", 10)) {
			char *v = strchr(buf, ':');
			if (v) {
				v += 1 + strspn(v + 1, " \t");
				v[strcspn(v, "\n")] = 0;
				cm_dataset_meta(ds, "cpu", v);
			}
			break;
		}
	if (f)
		fclose(f);
	snprintf(buf, sizeof(buf), "%ld online", sysconf(_SC_NPROCESSORS_ONLN));
	cm_dataset_meta(ds, "cpus", buf);
	meta_file(ds, "cpufreq governor", "/sys/devices/system/cpu/cpu0/cpufreq/scaling_governor");
	meta_file(ds, "turbo/boost", "/sys/devices/system/cpu/cpufreq/boost");
	meta_file(ds, "intel no_turbo", "/sys/devices/system/cpu/intel_pstate/no_turbo");
	meta_file(ds, "smt", "/sys/devices/system/cpu/smt/control");
	meta_file(ds, "transparent hugepages", "/sys/kernel/mm/transparent_hugepage/enabled");
	meta_hash(ds, "qemu sha256", qemu);
	meta_hash(ds, "kernel sha256", m->kernel);
	meta_hash(ds, "initrd sha256", m->initrd);
	meta_hash(ds, "disk sha256", m->disk);
	capture_firmware(ds, m);
}

/* Header items known only once boots ran, into the run's header and its stored copy. */
static void late_meta(struct cm_dataset *ds, struct cm_store *store, const char *run_id,
		      const struct cm_perf *perf, const char *drop_used)
{
	char fired[128] = "";
	if (perf)
		cm_perf_first_entry_fired(perf, true, fired, sizeof(fired));
	const char *items[][2] = { { "cache drop", drop_used },
				   { "first_entry fired", perf ? (*fired ? fired : "none") : NULL } };
	for (size_t i = 0; i < 2; i++) {
		if (!items[i][1])
			continue;
		cm_dataset_meta(ds, items[i][0], items[i][1]);
		if (store)
			cm_store_set_meta(store, run_id, items[i][0], items[i][1]);
	}
}

static bool kvm_usable(void)
{
	int fd = open("/dev/kvm", O_RDWR | O_CLOEXEC);
	if (fd < 0)
		return false;
	close(fd);
	return true;
}

/* Every report format asked for, rebuilt from the samples so far. 0 or CM_EXIT_OUTPUT. */
static int write_reports(const struct cm_dataset *ds, const char *outdir, const char *formats)
{
	struct cm_report r;
	struct cm_diags d = { 0 };
	cm_report_build(ds, 0.05, &r);
	int err = cm_report_write(&r, outdir, formats, false, &d);
	cm_report_free(&r);
	if (err) {
		cm_diags_print(&d, stderr);
		fprintf(stderr, "coldmark run: the reports could not be written; the run stops here "
				"(the samples are kept: coldmark report %s rebuilds them)\n",
			outdir);
	}
	cm_diags_clear(&d);
	return err ? CM_EXIT_OUTPUT : 0;
}

/* meta.csv, whole or not at all: the plan must be on disk before the first boot, so a run
 * killed at any moment can be resumed. 0, or CM_EXIT_OUTPUT after saying why. */
static int save_meta(struct cm_rundir *rd, const struct cm_dataset *ds)
{
	char *text = cm_meta_format(ds);
	int err = cm_rundir_replace(rd, CM_RUN_META, text, strlen(text));
	free(text);
	if (err)
		fprintf(stderr, "coldmark run: cannot write %s/%s: %s\n", rd->path, CM_RUN_META,
			strerror(-err));
	return err ? CM_EXIT_OUTPUT : 0;
}

static void print_full_journal(const struct cm_rundir *rd, const char *what, int err)
{
	fprintf(stderr, "coldmark run: cannot write %s/%s: %s. The run stops here; every boot "
			"before this one is kept (continue it with --resume %s when there is room)\n",
		rd->path, what, strerror(-err), rd->path);
}

/* The column headers of a new run's journals. */
static int journal_headers(struct cm_rundir *rd, const struct cm_dataset *ds)
{
	struct cm_buf b = { 0 };
	char *text = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&text, &len);
	cm_samples_write_header(f, ds);
	fclose(f);
	int err = cm_rundir_has_data(rd, CM_JOURNAL_SAMPLES)
			  ? 0 : cm_rundir_append(rd, CM_JOURNAL_SAMPLES, text, len);
	free(text);
	if (err) {
		print_full_journal(rd, CM_RUN_SAMPLES, err);
		return CM_EXIT_OUTPUT;
	}
	cm_buf_puts(&b, "case,boot,warmup,event,port,value,ts_ns,source\n");
	err = cm_rundir_has_data(rd, CM_JOURNAL_EVENTS)
		      ? 0 : cm_rundir_append(rd, CM_JOURNAL_EVENTS, b.s, b.len);
	cm_buf_free(&b);
	if (err) {
		print_full_journal(rd, CM_RUN_EVENTS, err);
		return CM_EXIT_OUTPUT;
	}
	return 0;
}

/* One boot into both journals (synced) and the store, or nowhere: on a write that fails its
 * rows leave the dataset again and the journals are cut back. 0 or CM_EXIT_OUTPUT. */
static int journal_boot(struct cm_rundir *rd, struct cm_dataset *ds, size_t first_row,
			const struct cm_planned *b, const char *case_id, const struct cm_events *ev,
			const char *src, struct cm_store *store, const char *run_id,
			const char *db_path)
{
	char *rows = NULL, *evs = NULL;
	size_t nrows = 0, nevs = 0;
	FILE *f = open_memstream(&rows, &nrows);
	for (size_t i = first_row; i < ds->n; i++)
		cm_samples_write_row(f, ds, &ds->rows[i]);
	fclose(f);
	f = open_memstream(&evs, &nevs);
	for (size_t e = 0; e < ev->n; e++) {
		cm_csv_field(f, case_id);
		fprintf(f, ",%d,%d,%s,%u,%u,%lld,%s\n", b->boot, b->warmup, ev->v[e].name,
			ev->v[e].port, ev->v[e].value, (long long)ev->v[e].ts_ns, src);
	}
	fclose(f);
	/* events first: samples.csv is the contract, and a boot is in it only when its events
	 * are on disk too (a failure in samples.csv takes the boot's events back out) */
	off_t events_before = rd->good[CM_JOURNAL_EVENTS];
	int rc = 0, err = cm_rundir_append(rd, CM_JOURNAL_EVENTS, evs, nevs);
	if (err)
		print_full_journal(rd, CM_RUN_EVENTS, err);
	else if ((err = cm_rundir_append(rd, CM_JOURNAL_SAMPLES, rows, nrows))) {
		print_full_journal(rd, CM_RUN_SAMPLES, err);
		cm_rundir_cut(rd, CM_JOURNAL_EVENTS, events_before);
	} else if (store && cm_store_add_rows(store, run_id, ds, first_row, ds->n)) {
		fprintf(stderr, "coldmark run: the results store %s did not take %s boot %d (%s); "
				"the run stops here: the boot is in %s/%s, and every earlier one in both\n",
			db_path, case_id, b->boot, cm_store_error(store), rd->path, CM_RUN_SAMPLES);
		rc = CM_EXIT_OUTPUT;
	}
	if (err) {
		cm_dataset_truncate(ds, first_row);
		rc = CM_EXIT_OUTPUT;
	}
	free(rows);
	free(evs);
	return rc;
}

int cm_cmd_run(const struct cm_cli *cli)
{
	return cm_run(cli, cm_launch_boot);
}

int cm_run(const struct cm_cli *cli, cm_launch_fn launch)
{
	struct cm_diags d = { 0 };
	struct cm_matrix *m = cm_cli_load_matrix(cli->pos[0]);
	if (!m)
		return CM_EXIT_USAGE;
	int rc = CM_EXIT_OK;
	const char *v;
	/* flags that override run.* keys go through the matrix's own key table */
	static const char *const overrides[][3] = {
		{ "boots", "run.boots", "-n" },     { "warmup", "run.warmup", "-w" },
		{ "seed", "run.seed", "--seed" },   { "order", "run.order", "--order" },
		{ "source", "run.source", "--source" },
		{ "until-ci", "run.until_ci", "--until-ci" },
		{ "until-ci-phase", "run.until_ci_phase", "--until-ci-phase" },
		{ "max-failed", "run.max_failed", "--max-failed" },
	};
	for (size_t i = 0; i < sizeof(overrides) / sizeof(overrides[0]); i++)
		if ((v = cm_cli_get(cli, overrides[i][0])) &&
		    cm_matrix_override(m, overrides[i][1], v, overrides[i][2], &d)) {
			cm_diags_print(&d, stderr);
			cm_diags_clear(&d);
			goto usage;
		}
	const char *formats = cm_cli_get(cli, "format") ? cm_cli_get(cli, "format") : "csv,md,json,html";
	char ferr[256];
	if (cm_report_check_formats(formats, ferr, sizeof(ferr))) {
		fprintf(stderr, "coldmark run: --format: %s\n", ferr);
		goto usage;
	}
	if (cm_cli_flag(cli, "no-drop-caches"))
		m->drop_caches = false;
	if (!cm_matrix_has_phase(m, m->until_ci_phase)) {
		fprintf(stderr, "coldmark run: --until-ci-phase: '%s' is not a phase of %s\n",
			m->until_ci_phase, m->path);
		goto usage;
	}
	if (m->until_ci_pct > 0) {
		if (m->min_boots > m->max_boots) {
			fprintf(stderr, "coldmark run: run.min_boots exceeds run.max_boots\n");
			goto usage;
		}
		m->boots = m->min_boots; /* the fixed plan is the minimum; blocks follow as needed */
	}

	/* --resume: the run's own plan (counts, order, seed) wins over the matrix and flags */
	const char *resume = cm_cli_get(cli, "resume");
	struct cm_dataset old = { 0 };
	char old_run[64] = "";
	if (resume) {
		char *mp = cm_xasprintf("%s/meta.csv", resume);
		cm_dataset_init(&old, NULL, 0);
		long long boots, warmup, seed;
		int order;
		double until;
		char until_phase[64] = "total"; /* runs before run.until_ci_phase existed */
		const char *planv = !cm_meta_read(mp, &old) ? cm_dataset_get_meta(&old, "plan") : NULL;
		const char *runv = cm_dataset_get_meta(&old, "run");
		free(mp);
		if (!planv || !runv ||
		    sscanf(planv, "boots=%lld warmup=%lld order=%d seed=%lld until_ci=%lf phase=%63s",
			   &boots, &warmup, &order, &seed, &until, until_phase) < 5 || order < 0 ||
		    order > 2 || !cm_matrix_has_phase(m, until_phase)) {
			fprintf(stderr, "coldmark run: %s is not a coldmark run folder to resume "
					"(no meta.csv with its plan)\n",
				resume);
			cm_dataset_free(&old);
			goto usage;
		}
		m->boots = boots, m->warmup = warmup, m->order = order, m->seed = seed;
		m->until_ci_pct = until;
		free(m->until_ci_phase);
		m->until_ci_phase = cm_xstrdup(until_phase);
		snprintf(old_run, sizeof(old_run), "%s", runv);
	}

	char *qemu = cm_which(m->qemu);
	if (!qemu) {
		fprintf(stderr, "coldmark run: qemu binary '%s' not found in PATH "
				"(apt-get install qemu-system-x86, or set qemu: in %s)\n",
			m->qemu, m->path);
		cm_matrix_free(m);
		return CM_EXIT_HOST;
	}

	/* Which source each case uses: kvm_pio does not fire under TCG. */
	bool any_kvm = false, any_tcg = false;
	for (size_t c = 0; c < m->ncases; c++) {
		bool tcg = cm_case_is_tcg(&m->cases[c]);
		any_kvm |= !tcg;
		any_tcg |= tcg;
		if (tcg && (m->source == CM_SOURCE_PERF || m->source == CM_SOURCE_BOTH)) {
			fprintf(stderr, "coldmark run: case %s runs under TCG, where kvm:kvm_pio does "
					"not fire: use --source debugcon or auto\n",
				m->cases[c].id);
			rc = CM_EXIT_USAGE;
			goto out_early;
		}
		if (!tcg && !kvm_usable()) {
			fprintf(stderr, "coldmark run: case %s needs KVM and /dev/kvm is not usable: %s "
					"(coldmark doctor tells more)\n",
				m->cases[c].id, strerror(errno));
			rc = CM_EXIT_HOST;
			goto out_early;
		}
	}
	struct cm_perf *perf = NULL;
	char perf_err[512] = "";
	if (any_kvm && m->source != CM_SOURCE_DEBUGCON) {
		struct cm_perf_config pc = { m->ports, m->nports, qemu, m->first_entry_event,
					     m->first_entry_filter, NULL };
		perf = cm_perf_open(&pc, perf_err, sizeof(perf_err));
		if (!perf && (m->source == CM_SOURCE_PERF || m->source == CM_SOURCE_BOTH)) {
			fprintf(stderr, "coldmark run: the perf source is not usable: %s\n", perf_err);
			rc = CM_EXIT_HOST;
			goto out_early;
		}
		if (!perf)
			fprintf(stderr, "coldmark run: perf not usable (%s); KVM cases fall back to "
					"debugcon\n",
				perf_err);
	}

	cm_note_unmeasurable(m, perf != NULL, stderr, "coldmark run: note");

	/* The output folder and its files, created before the first boot. */
	char run_id[64], *outdir;
	time_t now = time(NULL);
	struct tm tm;
	localtime_r(&now, &tm);
	strftime(run_id, sizeof(run_id), "%Y%m%d-%H%M%S", &tm);
	/* time and pid tell runs of different processes apart; the count, runs of one process
	 * within a second (the runner's unit tests) */
	static int runs_in_process;
	snprintf(run_id + strlen(run_id), sizeof(run_id) - strlen(run_id), "-%d", (int)getpid());
	if (runs_in_process++)
		snprintf(run_id + strlen(run_id), sizeof(run_id) - strlen(run_id), "-%d",
			 runs_in_process);
	if (resume) {
		snprintf(run_id, sizeof(run_id), "%s", old_run);
		outdir = cm_xstrdup(resume);
	} else if ((v = cm_cli_get(cli, "output")))
		outdir = cm_xstrdup(v);
	else {
		outdir = cm_xasprintf("coldmark-out/%s", run_id);
	}
	/* the store first: a database that is a folder, junk or of a future schema stops the
	 * run before anything is created or booted */
	const char *db_path = cm_cli_get(cli, "db") ? cm_cli_get(cli, "db") : "coldmark.db";
	char db_err[512];
	struct cm_store *store = cm_store_open(db_path, db_err, sizeof(db_err));
	if (!store) {
		fprintf(stderr, "coldmark run: the results store cannot be used: %s\n", db_err);
		free(outdir);
		cm_perf_close(perf);
		rc = CM_EXIT_OUTPUT;
		goto out_early;
	}
	struct cm_rundir rd;
	char rd_err[1024];
	enum cm_rundir_mode mode = resume ? CM_RUNDIR_RESUME
				   : cm_cli_flag(cli, "force") ? CM_RUNDIR_FORCE : CM_RUNDIR_NEW;
	if (cm_rundir_open(&rd, outdir, mode, rd_err, sizeof(rd_err))) {
		fprintf(stderr, "coldmark run: %s\n", rd_err);
		free(outdir);
		cm_perf_close(perf);
		cm_store_close(store);
		rc = CM_EXIT_USAGE;
		goto out_early;
	}
	if (rd.cut[CM_JOURNAL_SAMPLES])
		fprintf(stderr, "coldmark run: %s/%s ended in a partial row (%lld bytes, cut off "
				"by a crash or a full disk): removed\n",
			outdir, CM_RUN_SAMPLES, (long long)rd.cut[CM_JOURNAL_SAMPLES]);
	char *logs = cm_xasprintf("%s/%s", outdir, CM_RUN_LOGS);
	struct cm_dataset ds;
	char **axis_names = cm_xcalloc(m->naxes + 1, sizeof(char *));
	for (size_t a = 0; a < m->naxes; a++)
		axis_names[a] = m->axes[a].name;
	cm_dataset_init(&ds, axis_names, m->naxes);
	free(axis_names);
	for (size_t c = 0; c < m->ncases; c++)
		cm_dataset_case(&ds, m->cases[c].id, m->cases[c].labels);
	for (size_t p = 0; p < m->nphases; p++)
		cm_dataset_phase(&ds, m->phases[p].name);
	cm_dataset_phase(&ds, "total");

	/* run header: what a later reader needs to judge these numbers */
	struct utsname un;
	uname(&un);
	char date[64], buf[512];
	strftime(date, sizeof(date), "%Y-%m-%d %H:%M:%S %z", &tm);
	for (size_t i = 0; i < old.nmeta; i++) /* a resumed run keeps its header */
		cm_dataset_meta(&ds, old.meta_keys[i], old.meta_vals[i]);
	cm_dataset_meta(&ds, "run", run_id);
	cm_dataset_meta(&ds, resume ? "resumed" : "date", date);
	snprintf(buf, sizeof(buf), "boots=%lld warmup=%lld order=%d seed=%lld until_ci=%g phase=%s",
		 (long long)m->boots, (long long)m->warmup, (int)m->order, (long long)m->seed,
		 m->until_ci_pct, m->until_ci_phase);
	cm_dataset_meta(&ds, "plan", buf);
	snprintf(buf, sizeof(buf), "%s (%s %s)", un.nodename, un.sysname, un.release);
	cm_dataset_meta(&ds, "host", buf);
	char *version_argv[] = { qemu, "--version", NULL };
	char *ver = cm_proc_first_line(version_argv, CM_HELPER_TIMEOUT_MS);
	cm_dataset_meta(&ds, "qemu", ver);
	free(ver);
	cm_dataset_meta(&ds, "matrix", m->path);
	/* perf is open only when some case runs under KVM */
	cm_dataset_meta(&ds, "marker source",
			!perf ? "debugcon (isa-debugcon timestamped by coldmark)"
			: m->source == CM_SOURCE_BOTH
				? "perf (kvm:kvm_pio); debugcon's events on the same boots in "
				  "events.csv as <marker>@debugcon"
			: any_tcg ? "perf (kvm:kvm_pio) for KVM cases; debugcon for TCG cases"
				  : "perf (kvm:kvm_pio)");
	if (perf)
		cm_dataset_meta(&ds, "first_entry event", cm_perf_first_entry_name(perf));
	snprintf(buf, sizeof(buf), "%lld measured + %lld warm-up", (long long)m->boots,
		 (long long)m->warmup);
	cm_dataset_meta(&ds, "boots per case", buf);
	static const char *const orders[] = { "sequential", "interleaved", "shuffled" };
	snprintf(buf, sizeof(buf), "%s (seed %lld)", orders[m->order], (long long)m->seed);
	cm_dataset_meta(&ds, "order", buf);
	if (m->until_ci_pct > 0) {
		snprintf(buf, sizeof(buf), "until the %s median's 95%% CI half-width is <= %g%% "
					   "(%lld to %lld boots per case)",
			 m->until_ci_phase, m->until_ci_pct, (long long)m->min_boots,
			 (long long)m->max_boots);
		cm_dataset_meta(&ds, "adaptive stopping", buf);
	}
	cm_dataset_meta(&ds, "coldmark", COLDMARK_VERSION);
	cm_dataset_meta(&ds, "cache policy", !m->drop_caches ? "warm (no drop)"
					      : m->drop_method == CM_DROP_EVICT ? "per-file eviction"
					      : m->drop_method == CM_DROP_SYSCTL ? "drop_caches"
										 : "auto");
	capture_environment(&ds, m, qemu);

	if ((v = cm_cli_get(cli, "tag")))
		cm_dataset_meta(&ds, "tag", v);

	/* The results store: a boot is committed there in the same step as samples.csv. */
	char known[64];
	if (resume && !cm_store_resolve(store, run_id, known, sizeof(known)))
		; /* the run is there already: its new boots are appended */
	else if (cm_store_begin_run(store, run_id, cm_cli_get(cli, "tag"), &ds)) {
		fprintf(stderr, "coldmark run: the results store %s refused the run: %s\n", db_path,
			cm_store_error(store));
		rc = CM_EXIT_OUTPUT;
		goto out_nofiles_early;
	}
	char **ids = cm_xcalloc(m->ncases + 1, sizeof(char *)),
	     **cls = cm_xcalloc(m->ncases + 1, sizeof(char *));
	for (size_t c = 0; c < m->ncases; c++) {
		ids[c] = m->cases[c].id;
		cls[c] = cm_case_cmdline(&m->cases[c]);
	}
	int serr = cm_store_cases_argv(store, run_id, ids, cls, m->ncases);
	for (size_t c = 0; c < m->ncases; c++)
		free(cls[c]);
	free(cls);
	free(ids);
	if (serr) {
		fprintf(stderr, "coldmark run: the results store %s refused the run: %s\n", db_path,
			cm_store_error(store));
		rc = CM_EXIT_OUTPUT;
		goto out_nofiles_early;
	}

	char *samples_path = cm_xasprintf("%s/%s", outdir, CM_RUN_SAMPLES);
	/* what a resumed run already measured comes back in, boot by boot */
	int *warm_done = cm_xcalloc(m->ncases + 1, sizeof(int)), *meas_done = cm_xcalloc(m->ncases + 1, sizeof(int));
	if (resume) {
		struct cm_dataset prev;
		struct cm_diags pd = { 0 };
		if (cm_samples_read_journal(samples_path, &prev, &pd)) {
			cm_diags_print(&pd, stderr);
			cm_diags_clear(&pd);
			free(warm_done), free(meas_done);
			rc = CM_EXIT_USAGE;
			goto out_nofiles;
		}
		for (size_t i = 0; i < prev.n; i++) {
			const struct cm_sample_row *r = &prev.rows[i];
			size_t c = 0;
			while (c < m->ncases && strcmp(m->cases[c].id, r->case_id))
				c++;
			if (c == m->ncases) {
				fprintf(stderr, "coldmark run: %s has case '%s', which the matrix no longer "
						"has: resume with the matrix the run began with\n",
					samples_path, r->case_id);
				cm_dataset_free(&prev);
				free(warm_done), free(meas_done);
				rc = CM_EXIT_USAGE;
				goto out_nofiles;
			}
			cm_dataset_add(&ds, r->case_id, r->boot, r->warmup, r->status, r->phase,
				       r->duration_ns, r->source, r->cache);
			if (strcmp(r->phase, "total") || !strcmp(r->status, "interrupted"))
				continue;
			int *d = r->warmup ? &warm_done[c] : &meas_done[c];
			if (r->boot > *d)
				*d = r->boot;
		}
		cm_dataset_free(&prev);
	}
	/* the plan and the header are on disk before the first boot */
	if ((rc = journal_headers(&rd, &ds)) || (rc = save_meta(&rd, &ds))) {
		free(warm_done), free(meas_done);
		goto out_nofiles;
	}

	stop_flag = 0; /* a fresh run: tests call cm_run more than once per process */
	struct sigaction sa = { .sa_handler = on_signal };
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGHUP, &sa, NULL); /* a dropped ssh session: stop as for SIGTERM, keep all */
	/* a closed pipe on stdout (| head) must not kill a run: its writes fail quietly */
	struct sigaction ign = { .sa_handler = SIG_IGN }, old_pipe;
	sigaction(SIGPIPE, &ign, &old_pipe);

	size_t nfiles = 0, nplan;
	char **files = m->drop_caches ? cm_boot_files(m, &nfiles) : NULL;
	struct cm_planned *pl = cm_plan_new(m, &nplan);
	size_t *done = cm_xcalloc(m->ncases, sizeof(size_t)), nmeasured = 0;
	int *planned = cm_xcalloc(m->ncases, sizeof(int));
	for (size_t c = 0; c < m->ncases; c++) {
		planned[c] = meas_done[c] > (int)m->boots ? meas_done[c] : (int)m->boots;
		done[c] = (size_t)meas_done[c];
		nmeasured += done[c];
	}
	/* the same plan and seed, less what is done: boots of a case run in order, so the
	 * counts say which */
	size_t kept = cm_plan_skip_done(pl, nplan, warm_done, meas_done);
	if (resume)
		printf("coldmark: resuming run %s: %zu boots left of %zu planned\n", run_id, kept, nplan);
	nplan = kept;
	free(warm_done);
	free(meas_done);
	bool tty = isatty(1);
	int64_t t0 = cm_now_ns(), last_report_ns = 0, report_cost_ns = 0;
	const char *drop_used = "none";

	struct cm_sources sources;
	cm_sources_init(&sources, m, perf, false);
	printf("coldmark: %zu cases × (%lld + %lld warm-up) boots → %s\n", m->ncases,
	       (long long)m->boots, (long long)m->warmup, outdir);
	for (size_t i = 0; !stop_flag; i++) {
		if (i == nplan && !(m->until_ci_pct > 0 &&
				    cm_plan_next_block(m, &ds, planned, &pl, &nplan)))
			break;
		const struct cm_planned *b = &pl[i];
		const struct cm_case *cs = &m->cases[b->c];
		struct cm_capture *picked[4];
		size_t npicked = cm_sources_pick(&sources, m, cs, picked);
		enum cm_drop_done dd = m->drop_caches ? cm_drop_caches(m->drop_method, files, nfiles)
						      : CM_DROPPED_NONE;
		drop_used = cm_drop_names[dd];
		char *log = cm_xasprintf("%s/%zu-%s%d.log", logs, b->c, b->warmup ? "w" : "b", b->boot);
		struct cm_launch l = {
			.argv = cs->argv, .env = m->env, .pin = m->pin, .log_path = log,
			.timeout_ms = m->timeout_ms, .end_marker = m->end_marker,
			.end_grace_ms = m->end_grace_ms, .sources = picked, .nsources = npicked,
			.m = m, .stop = &stop_flag,
		};
		struct cm_events ev = { 0 };
		struct cm_exit ex;
		int lrc = launch(&l, &ev, &ex);
		if (lrc) {
			fprintf(stderr, "coldmark run: cannot launch qemu: %s\n", cm_strerror(lrc));
			ex.launched = false;
		}
		if (!ex.launched && i == 0 && errno == ENOENT)
			fprintf(stderr, "coldmark run: %s: not found\n", cs->argv[0]);
		struct cm_boot_result br;
		cm_boot_evaluate(m, &ev, &ex, cm_sources_first_entry(picked, npicked), &br);
		const char *src = picked[0]->ops->name;
		const char *st = cm_status_names[br.status];
		size_t first_row = ds.n;
		for (size_t p = 0; p < br.nphase; p++) {
			const char *ph = p < m->nphases ? m->phases[p].name : "total";
			cm_dataset_add(&ds, cs->id, b->boot, b->warmup, st, ph, br.phase_ns[p], src,
				       drop_used);
		}
		cm_events_sort(&ev); /* exec is added last, after the markers the rings held */
		/* nothing lost: this boot is on disk before the next one starts, or the run stops */
		if ((rc = journal_boot(&rd, &ds, first_row, b, cs->id, &ev, src, store, run_id,
				       db_path))) {
			cm_boot_result_free(&br);
			cm_events_free(&ev);
			free(log);
			break;
		}
		if (br.status == CM_STATUS_OK)
			unlink(log);
		else if (br.status != CM_STATUS_INTERRUPTED) {
			fprintf(stderr, "%s%s boot %d%s: %s — %s (log: %s)\n", tty ? "\r\033[K" : "",
				cs->id, b->boot, b->warmup ? " (warm-up)" : "", st, br.detail, log);
		}
		free(log);
		if (!b->warmup && br.status != CM_STATUS_INTERRUPTED) {
			nmeasured++;
			done[b->c]++;
		}
		double total = br.phase_ns[m->nphases];
		cm_boot_result_free(&br);
		cm_events_free(&ev);

		double el = (cm_now_ns() - t0) / 1e9, eta = el / (i + 1) * (nplan - i - 1);
		char tot[32], med[32];
		struct cm_summary run_s;
		cm_plan_case_summary(&ds, b->c, "total", &run_s);
		cm_format_ns(total, tot, sizeof(tot));
		cm_format_ns(run_s.median, med, sizeof(med));
		cm_summary_free(&run_s);
		if (tty)
			printf("\r\033[K[%zu/%zu] %s boot %d/%d%s: %s %s, median %s  elapsed %.0fs, ETA %.0fs",
			       i + 1, nplan, cs->id, b->boot, b->warmup ? (int)m->warmup : planned[b->c],
			       b->warmup ? " (warm-up)" : "", st, tot, med, el, eta);
		else
			printf("[%zu/%zu] %s boot %d/%d%s: %s total %s, running median %s (elapsed %.1fs, "
			       "ETA %.0fs)\n",
			       i + 1, nplan, cs->id, b->boot, b->warmup ? (int)m->warmup : planned[b->c],
			       b->warmup ? " (warm-up)" : "", st, tot, med, el, eta);
		fflush(stdout);

		/* a case that has all its boots gets its reports now, not only at the end; with
		 * many cases the rewrite is throttled so that it never costs more than ~5% of
		 * the run's time (a 10^5-case matrix rewrote every report after every case) */
		int64_t since = cm_now_ns() - last_report_ns;
		if (!b->warmup && done[b->c] == (size_t)m->boots && since >= 20 * report_cost_ns &&
		    since >= 1000000000LL) {
			int64_t t_rep = cm_now_ns();
			late_meta(&ds, store, run_id, perf, drop_used);
			if ((rc = save_meta(&rd, &ds)) || (rc = write_reports(&ds, outdir, formats)))
				break;
			last_report_ns = cm_now_ns();
			report_cost_ns = last_report_ns - t_rep;
		}
	}
	cm_sources_free(&sources);
	if (tty)
		printf("\n");
	late_meta(&ds, store, run_id, perf, drop_used);
	int out_rc = save_meta(&rd, &ds);
	if (!out_rc)
		out_rc = write_reports(&ds, outdir, formats);
	if (out_rc)
		rc = out_rc;
	struct cm_report r;
	cm_report_build(&ds, 0.05, &r);
	if (cm_export(cli, "coldmark run", &r))
		rc = rc ? rc : CM_EXIT_OUTPUT;
	printf("\n");
	cm_report_terminal(&r, "total", stdout);
	if (m->until_ci_pct > 0) {
		printf("\nadaptive stopping at %g%% on the %s phase: boots each case needed\n",
		       m->until_ci_pct, m->until_ci_phase);
		for (size_t c = 0; c < m->ncases; c++) {
			double h = cm_plan_ci_halfwidth_pct(&ds, c, m->until_ci_phase);
			printf("  %-40s %3d boots, CI half-width %s%.2f%%%s\n", m->cases[c].id, planned[c],
			       "", isinf(h) ? NAN : h,
			       h <= m->until_ci_pct ? "" : " (max_boots reached before the target)");
		}
	}
	cm_report_free(&r);
	char *written = cm_report_files(formats);
	printf("\nsamples: %s\nreports: %s/{%s}\n", samples_path, outdir, written);
	free(written);
	printf("stored as run %s%s%s in %s\n", run_id, cm_cli_get(cli, "tag") ? ", tag " : "",
	       cm_cli_get(cli, "tag") ? cm_cli_get(cli, "tag") : "", db_path);

	/* failed boots: the whole run's share, a resumed run's earlier boots included */
	size_t all = 0, bad = 0;
	for (size_t i = 0; i < ds.n; i++) {
		const struct cm_sample_row *row = &ds.rows[i];
		if (row->warmup || strcmp(row->phase, "total") || !strcmp(row->status, "interrupted"))
			continue;
		all++;
		bad += strcmp(row->status, "ok") != 0;
	}
	double share = all ? 100.0 * (double)bad / (double)all : 0;
	if (rc == CM_EXIT_OUTPUT) {
		; /* said already: the output could not be written */
	} else if (stop_flag) {
		fprintf(stderr, "coldmark run: interrupted by signal %d after %zu measured boots; "
				"everything measured is in %s\n",
			stop_flag, nmeasured, outdir);
		rc = CM_EXIT_INTERRUPTED;
	} else if (bad) {
		fprintf(stderr, "coldmark run: %zu of %zu measured boots failed (%.1f%%; run.max_failed "
				"allows %g%%); see the statuses in samples.csv and the logs in %s\n",
			bad, all, share, m->max_failed_pct, logs);
		if (share > m->max_failed_pct)
			rc = CM_EXIT_FAILED;
	}
	free(pl);
	free(done);
	free(planned);
	for (size_t i = 0; i < nfiles; i++)
		free(files[i]);
	free(files);
	sigaction(SIGPIPE, &old_pipe, NULL);
out_nofiles:
	free(samples_path);
out_nofiles_early:
	cm_rundir_close(&rd);
	cm_store_close(store);
	cm_dataset_free(&ds);
	cm_diags_clear(&d);
	cm_perf_close(perf);
	free(logs);
	free(outdir);
out_early:
	free(qemu);
	cm_matrix_free(m);
	cm_dataset_free(&old);
	return rc;
usage:
	cm_matrix_free(m);
	return CM_EXIT_USAGE;
}
