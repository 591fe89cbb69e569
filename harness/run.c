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
	char *logs = cm_xasprintf("%s/logs", outdir);
	if (cm_mkdirs(logs)) {
		fprintf(stderr, "coldmark run: cannot create %s: %s\n", logs, strerror(errno));
		free(logs);
		free(outdir);
		cm_perf_close(perf);
		rc = CM_EXIT_USAGE;
		goto out_early;
	}
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
	const char *db_path = cm_cli_get(cli, "db") ? cm_cli_get(cli, "db") : "coldmark.db";
	char db_err[512];
	struct cm_store *store = cm_store_open(db_path, db_err, sizeof(db_err));
	char known[64];
	if (!store)
		fprintf(stderr, "coldmark run: results store not written: %s\n", db_err);
	else if (resume && !cm_store_resolve(store, run_id, known, sizeof(known)))
		; /* the run is there already: its new boots are appended */
	else if (cm_store_begin_run(store, run_id, cm_cli_get(cli, "tag"), &ds)) {
		fprintf(stderr, "coldmark run: results store %s refused the run\n", db_path);
		cm_store_close(store);
		store = NULL;
	}
	for (size_t c = 0; store && c < m->ncases; c++) {
		char *cl = cm_case_cmdline(&m->cases[c]);
		cm_store_case_argv(store, run_id, m->cases[c].id, cl);
		free(cl);
	}

	char *samples_path = cm_xasprintf("%s/samples.csv", outdir);
	char *events_path = cm_xasprintf("%s/events.csv", outdir);
	/* what a resumed run already measured comes back in, boot by boot */
	int *warm_done = cm_xcalloc(m->ncases + 1, sizeof(int)), *meas_done = cm_xcalloc(m->ncases + 1, sizeof(int));
	if (resume) {
		struct cm_dataset prev;
		struct cm_diags pd = { 0 };
		if (cm_samples_read(samples_path, &prev, &pd)) {
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
	FILE *samples = fopen(samples_path, resume ? "a" : "w"),
	     *events = fopen(events_path, resume ? "a" : "w");
	if (!samples || !events) {
		fprintf(stderr, "coldmark run: cannot write in %s: %s\n", outdir, strerror(errno));
		rc = CM_EXIT_USAGE;
		goto out;
	}
	if (!resume) {
		cm_samples_write_header(samples, &ds);
		fputs("case,boot,warmup,event,port,value,ts_ns,source\n", events);
	}
	fflush(samples);
	fflush(events);

	stop_flag = 0; /* a fresh run: tests call cm_run more than once per process */
	struct sigaction sa = { .sa_handler = on_signal };
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);

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
	int64_t t0 = cm_now_ns();
	const char *drop_used = "none";

	printf("coldmark: %zu cases × (%lld + %lld warm-up) boots → %s\n", m->ncases,
	       (long long)m->boots, (long long)m->warmup, outdir);
	for (size_t i = 0; !stop_flag; i++) {
		if (i == nplan && !(m->until_ci_pct > 0 &&
				    cm_plan_next_block(m, &ds, planned, &pl, &nplan)))
			break;
		const struct cm_planned *b = &pl[i];
		const struct cm_case *cs = &m->cases[b->c];
		bool tcg = cm_case_is_tcg(cs);
		bool use_perf = perf && !tcg;
		enum cm_drop_done dd = m->drop_caches ? cm_drop_caches(m->drop_method, files, nfiles)
						      : CM_DROPPED_NONE;
		drop_used = cm_drop_names[dd];
		char *log = cm_xasprintf("%s/%zu-%s%d.log", logs, b->c, b->warmup ? "w" : "b", b->boot);
		struct cm_launch l = {
			.argv = cs->argv, .env = m->env, .pin = m->pin, .log_path = log,
			.timeout_ms = m->timeout_ms, .end_marker = m->end_marker,
			.debugcon_ports = m->ports,
			.ndebugcon = use_perf && m->source != CM_SOURCE_BOTH ? 0 : m->nports,
			.perf = use_perf ? perf : NULL,
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
		cm_boot_evaluate(m, &ev, &ex, use_perf, &br);
		const char *src = use_perf ? "perf" : "debugcon";
		const char *st = cm_status_names[br.status];
		size_t first_row = ds.n;
		for (size_t p = 0; p < br.nphase; p++) {
			const char *ph = p < m->nphases ? m->phases[p].name : "total";
			cm_dataset_add(&ds, cs->id, b->boot, b->warmup, st, ph, br.phase_ns[p], src,
				       drop_used);
			cm_samples_write_row(samples, &ds, &ds.rows[ds.n - 1]);
		}
		cm_events_sort(&ev); /* exec is added last, after the markers the rings held */
		for (size_t e = 0; e < ev.n; e++) {
			cm_csv_field(events, cs->id);
			fprintf(events, ",%d,%d,%s,%u,%u,%lld,%s\n", b->boot, b->warmup, ev.v[e].name,
				ev.v[e].port, ev.v[e].value, (long long)ev.v[e].ts_ns, src);
		}
		/* nothing lost: this boot is on disk before the next one starts */
		fflush(samples);
		fflush(events);
		fdatasync(fileno(samples));
		if (store && cm_store_add_rows(store, run_id, &ds, first_row, ds.n))
			fprintf(stderr, "coldmark run: boot not stored in %s (it is in samples.csv)\n",
				db_path);
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

		/* a case that has all its boots gets its reports now, not only at the end */
		if (!b->warmup && done[b->c] == (size_t)m->boots) {
			struct cm_report r;
			late_meta(&ds, store, run_id, perf, drop_used);
			cm_report_build(&ds, 0.05, &r);
			cm_report_write(&r, outdir, formats, false, &d);
			cm_report_free(&r);
			char *meta = cm_xasprintf("%s/meta.csv", outdir);
			cm_meta_write(meta, &ds);
			free(meta);
		}
	}
	if (tty)
		printf("\n");
	late_meta(&ds, store, run_id, perf, drop_used);
	char *meta = cm_xasprintf("%s/meta.csv", outdir);
	cm_meta_write(meta, &ds);
	free(meta);
	struct cm_report r;
	cm_report_build(&ds, 0.05, &r);
	if (cm_report_write(&r, outdir, formats, false, &d))
		cm_diags_print(&d, stderr);
	if ((v = cm_cli_get(cli, "export-hyperfine"))) {
		FILE *hf = fopen(v, "w");
		if (hf) {
			cm_report_hyperfine(&r, "total", hf);
			fclose(hf);
		} else {
			fprintf(stderr, "coldmark run: cannot write %s: %s\n", v, strerror(errno));
		}
	}
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
	if (store)
		printf("stored as run %s%s%s in %s\n", run_id, cm_cli_get(cli, "tag") ? ", tag " : "",
		       cm_cli_get(cli, "tag") ? cm_cli_get(cli, "tag") : "", db_path);
	cm_store_close(store);

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
	if (stop_flag) {
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
out:
	if (samples)
		fclose(samples);
	if (events)
		fclose(events);
out_nofiles:
	free(samples_path);
	free(events_path);
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
