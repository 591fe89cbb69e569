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
#include "coldmark/host.h"
#include "coldmark/report.h"
#include "coldmark/rundir.h"
#include "coldmark/runner.h"
#include "coldmark/store.h"

static volatile int stop_flag;
static void on_signal(int sig)
{
	stop_flag = sig;
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

int cm_cmd_calibrate(const struct cm_cli *cli)
{
	return cm_run(cli, cm_launch_boot);
}

/* Everything one run holds, so that each stage below is a short function. */
struct run {
	const struct cm_cli *cli;
	struct cm_matrix *m;
	const char *formats, *resume, *db_path, *tag;
	struct cm_dataset old; /* a resumed run's header */
	char old_run[64], run_id[64];
	char *qemu, *outdir, *logs, *samples_path;
	bool any_tcg;
	struct cm_perf *perf;
	struct cm_store *store;
	struct cm_rundir rd;
	struct cm_dataset ds;
	struct cm_run_out out; /* the reports' model and text, kept from one rewrite to the next */
	int *warm_done, *meas_done;
	struct tm started;
	bool calibrate; /* coldmark calibrate: the sessions' components become the host's */
	cpu_set_t own_cpus; /* coldmark's own CPUs before run.cpus moved it off qemu's */
	bool moved;
	/* a postgresql:// store: the server (NULL when out of reach), while r->store is the run
	 * folder's journal.db, which holds every boot whatever the server does (up to its last
	 * batch: a run killed between two has the rest in samples.csv, which --resume and sync
	 * put in) */
	struct cm_store *shared;
	char shared_name[512]; /* "" unless the store is a server */
	struct cm_replicate rep; /* --replicate: one session of a fleet's array (rep.active) */
};

/* run.cpus: qemu (and every thread it starts) goes to those CPUs before exec; coldmark's own
 * threads to the others, so that draining rings and writing journals never preempt qemu.
 * 0, or a usage error naming the list. */
static int pin_self(struct run *r)
{
	const char *cpus = r->m->pin;
	cpu_set_t want, online, rest;
	if (!cpus)
		return 0;
	struct cm_error err = { 0 };
	if (cm_cpulist_check(cpus, &want, &online, &err)) { /* ids as the kernel has them */
		fprintf(stderr, "%s: run.cpus %s\n", r->m->path, err.msg);
		return CM_EXIT_USAGE;
	}
	CPU_XOR(&rest, &online, &want);
	if (CPU_COUNT(&rest) && !sched_getaffinity(0, sizeof(r->own_cpus), &r->own_cpus) &&
	    !sched_setaffinity(0, sizeof(rest), &rest))
		r->moved = true;
	else if (!CPU_COUNT(&rest))
		fprintf(stderr, "coldmark run: note: run.cpus %s is every CPU: coldmark shares them "
				"with qemu\n", cpus);
	return 0;
}

/* Flags that override run.* keys: generated from the matrix's key table, applied through it. */
static int apply_flags(struct run *r)
{
	struct cm_matrix *m = r->m;
	struct cm_diags d = { 0 };
	size_t nkf = cm_matrix_key_flags(NULL, 0);
	struct cm_key_flag *kf = cm_xcalloc(nkf + 1, sizeof(*kf));
	cm_matrix_key_flags(kf, nkf);
	for (size_t i = 0; i < nkf; i++) {
		const char *v = cm_cli_get(r->cli, kf[i].flag);
		char label[64];
		if (kf[i].short_flag)
			snprintf(label, sizeof(label), "-%c", kf[i].short_flag);
		else
			snprintf(label, sizeof(label), "--%s", kf[i].flag);
		if (v && (cm_matrix_override(m, kf[i].key, v, label, &d) || cm_source_check(m, &d))) {
			cm_diags_print(&d, stderr);
			cm_diags_clear(&d);
			free(kf);
			return CM_EXIT_USAGE;
		}
	}
	free(kf);
	struct cm_error ferr = { 0 };
	if (cm_report_check_formats(r->formats, &ferr)) {
		fprintf(stderr, "coldmark run: --format: %s\n", ferr.msg);
		return CM_EXIT_USAGE;
	}
	if (cm_cli_flag(r->cli, "no-drop-caches"))
		m->drop_caches = false;
	if (cm_cli_flag(r->cli, "keep-logs"))
		m->keep_logs = true;
	if (cm_cli_flag(r->cli, "profile"))
		m->profile = true;
	if (cm_cli_flag(r->cli, "profile-emulated"))
		m->profile = m->profile_emulated = true;
	if (!cm_matrix_has_phase(m, m->until_ci_phase)) {
		fprintf(stderr, "coldmark run: --until-ci-phase: '%s' is not a phase of %s\n",
			m->until_ci_phase, m->path);
		return CM_EXIT_USAGE;
	}
	if (m->until_ci_pct > 0 && m->sessions > 1) {
		fprintf(stderr, "coldmark run: --until-ci stops one session on the precision of its "
				"boots; with --sessions %lld the precision that counts between runs is the "
				"sessions': choose one of the two\n", (long long)m->sessions);
		return CM_EXIT_USAGE;
	}
	if (m->until_ci_pct > 0) {
		if (m->min_boots > m->max_boots) {
			fprintf(stderr, "coldmark run: run.min_boots exceeds run.max_boots\n");
			return CM_EXIT_USAGE;
		}
		m->boots = m->min_boots; /* the fixed plan is the minimum; blocks follow as needed */
	}
	return 0;
}

/* A plan that cannot be allocated or numbered stops the run before anything is created. */
static int check_plan(struct run *r)
{
	struct cm_error err = { 0 };
	if (!cm_plan_check(r->m, &err))
		return 0;
	fprintf(stderr, "coldmark run: %s: %s\n", r->m->path, err.msg);
	return CM_EXIT_USAGE;
}

/* qemu, KVM for the KVM cases, perf where it is asked for or works. */
static int check_host(struct run *r)
{
	struct cm_matrix *m = r->m;
	char why[128];
	if (strchr(m->qemu, '/') && cm_qemu_runnable(m->qemu, why, sizeof(why))) {
		fprintf(stderr, "coldmark run: cannot run the host's qemu '%s': %s (set qemu: in "
				"%s)\n", m->qemu, why, m->path);
		return CM_EXIT_HOST;
	}
	if (!(r->qemu = cm_which(m->qemu))) {
		fprintf(stderr, "coldmark run: qemu binary '%s' not found in PATH "
				"(apt-get install qemu-system-x86, or set qemu: in %s)\n",
			m->qemu, m->path);
		return CM_EXIT_HOST;
	}
	const struct cm_source_reg *src = cm_source_find(m->source.name);
	bool uses_perf = src->flags & CM_SRC_PERF, any_kvm = false;
	bool want_perf = uses_perf && !(src->flags & CM_SRC_OPTIONAL);
	for (size_t c = 0; c < m->ncases; c++) {
		bool tcg = cm_case_is_tcg(&m->cases[c]);
		any_kvm |= !tcg;
		r->any_tcg |= tcg;
		if (tcg && want_perf) {
			fprintf(stderr, "coldmark run: case %s runs under TCG, where kvm:kvm_pio does "
					"not fire: use --source debugcon or auto\n",
				m->cases[c].id);
			return CM_EXIT_USAGE;
		}
		if (!tcg && !kvm_usable()) {
			fprintf(stderr, "coldmark run: case %s needs KVM and /dev/kvm is not usable: %s "
					"(coldmark doctor tells more)\n",
				m->cases[c].id, strerror(errno));
			return CM_EXIT_HOST;
		}
	}
	if (!any_kvm || !uses_perf)
		return 0;
	struct cm_error err = { 0 };
	struct cm_perf_config pc = { m->ports, m->nports, r->qemu, m->first_entry_event,
				     m->first_entry_filter, NULL, m->profile, m->profile_emulated };
	if ((r->perf = cm_perf_open(&pc, &err)))
		return 0;
	fprintf(stderr, want_perf ? "coldmark run: the perf source is not usable: %s\n"
				  : "coldmark run: perf not usable (%s); KVM cases fall back to debugcon\n",
		err.msg);
	return want_perf ? CM_EXIT_HOST : 0;
}

/* The store first: a database that is a folder, junk or of a future schema stops the run
 * before anything is created or booted; then the run folder. */
static int open_outputs(struct run *r)
{
	time_t now = time(NULL);
	localtime_r(&now, &r->started);
	if (r->resume)
		snprintf(r->run_id, sizeof(r->run_id), "%s", r->old_run);
	else
		cm_rundir_new_id(r->run_id, sizeof(r->run_id), &r->started);
	if (r->rep.active && !r->resume) { /* array tasks start in the same second, pids alike */
		size_t len = strlen(r->run_id);
		snprintf(r->run_id + len, sizeof(r->run_id) - len, "-r%d", r->rep.index);
	}
	const char *out = cm_cli_get(r->cli, "output");
	r->outdir = r->resume ? cm_xstrdup(r->resume)
		    : out     ? cm_xstrdup(out)
			      : cm_xasprintf("coldmark-out/%s", r->run_id);
	struct cm_error err = { 0 };
	bool remote = cm_store_is_url(r->db_path);
	if (remote && !cm_store_url_valid(r->db_path, &err)) {
		fprintf(stderr, "coldmark run: --db: %s\n", err.msg);
		return CM_EXIT_USAGE;
	}
	int rc = remote ? cm_fleet_server(r->db_path, r->outdir, &r->shared, r->shared_name,
					  sizeof(r->shared_name)) : 0;
	if (rc)
		return rc;
	bool bad_input = false; /* a stranger's database: exit 2, nothing in it changed */
	if (!remote && !(r->store = cm_store_open_how(r->db_path, CM_STORE_WRITE, &bad_input, &err))) {
		fprintf(stderr, "coldmark run: the results store cannot be used: %s\n", err.msg);
		return bad_input ? CM_EXIT_USAGE : CM_EXIT_OUTPUT;
	}
	if (r->store && cm_store_note(r->store))
		fprintf(stderr, "coldmark run: %s: %s\n", r->db_path, cm_store_note(r->store));
	enum cm_rundir_mode mode = r->resume ? CM_RUNDIR_RESUME
				   : cm_cli_flag(r->cli, "force") ? CM_RUNDIR_FORCE : CM_RUNDIR_NEW;
	if (cm_rundir_open(&r->rd, r->outdir, mode, &err)) {
		fprintf(stderr, "coldmark run: %s\n", err.msg);
		return CM_EXIT_USAGE;
	}
	if (r->rd.cut[CM_JOURNAL_SAMPLES])
		fprintf(stderr, "coldmark run: %s/%s ended in a partial row (%lld bytes, cut off "
				"by a crash or a full disk): removed\n",
			r->outdir, CM_RUN_SAMPLES, (long long)r->rd.cut[CM_JOURNAL_SAMPLES]);
	r->logs = cm_xasprintf("%s/%s", r->outdir, CM_RUN_LOGS);
	r->samples_path = cm_xasprintf("%s/%s", r->outdir, CM_RUN_SAMPLES);
	return remote ? cm_fleet_journal(r->outdir, &r->rd, &r->store) : 0;
}

/* The run header: what a later reader needs to judge these numbers. */
static void write_header(struct run *r)
{
	struct cm_matrix *m = r->m;
	struct cm_dataset *ds = &r->ds;
	char date[64], buf[512];
	strftime(date, sizeof(date), "%Y-%m-%d %H:%M:%S %z", &r->started);
	for (size_t i = 0; i < r->old.nmeta; i++) /* a resumed run keeps its header */
		cm_dataset_meta(ds, r->old.meta_keys[i], r->old.meta_vals[i]);
	cm_dataset_meta(ds, CM_HDR(RUN), r->run_id);
	cm_dataset_meta(ds, r->resume ? CM_HDR(RESUMED) : CM_HDR(DATE), date);
	cm_rundir_plan_format(m, buf, sizeof(buf));
	cm_dataset_meta(ds, CM_HDR(PLAN), buf);
	cm_dataset_meta(ds, CM_HDR(MATRIX), m->path);
	if (r->rep.active) {
		char rep[32];
		if (r->rep.count)
			snprintf(rep, sizeof(rep), "%d/%d", r->rep.index, r->rep.count);
		else
			snprintf(rep, sizeof(rep), "%d", r->rep.index);
		cm_dataset_meta(ds, CM_HDR(REPLICATE), rep);
		if (r->rep.job[0])
			cm_dataset_meta(ds, CM_HDR(JOB), r->rep.job);
	}
	/* perf is open only when some case runs under KVM; without it, the fallback's line */
	const struct cm_source_reg *src = cm_source_find(m->source.name), *fb = cm_source_fallback();
	if ((src->flags & CM_SRC_PERF) && !r->perf)
		src = fb;
	if ((src->flags & CM_SRC_KVM_ONLY) && !src->shadow && r->any_tcg)
		snprintf(buf, sizeof(buf), "%s for KVM cases; %s for TCG cases", src->header, fb->name);
	else
		snprintf(buf, sizeof(buf), "%s", src->header ? src->header : src->name);
	cm_dataset_meta(ds, CM_HDR(MARKER_SOURCE), buf);
	if (cm_matrix_uses_console(m))
		cm_dataset_meta(ds, CM_HDR(CONSOLE), "from the serial console (kernel-stamped socket)");
	if (r->perf) {
		cm_dataset_meta(ds, CM_HDR(FIRST_ENTRY_EVENT), cm_perf_first_entry_name(r->perf));
		cm_dataset_meta(ds, CM_HDR(FIRST_ENTRY_ARMING),
				cm_perf_first_entry_woken(r->perf)
					? "until its first hit (its sample wakes coldmark, which disables it)"
					: "until the next periodic drain (10 ms at most)");
	}
	if (m->sessions > 1)
		snprintf(buf, sizeof(buf), "%lld measured + %lld warm-up in each of %lld sessions",
			 (long long)m->boots, (long long)m->warmup, (long long)m->sessions);
	else
		snprintf(buf, sizeof(buf), "%lld measured + %lld warm-up", (long long)m->boots,
			 (long long)m->warmup);
	cm_dataset_meta(ds, CM_HDR(BOOTS), buf);
	static const char *const orders[] = { "sequential", "interleaved", "shuffled" };
	snprintf(buf, sizeof(buf), "%s (seed %lld)", orders[m->order], (long long)m->seed);
	cm_dataset_meta(ds, CM_HDR(ORDER), buf);
	if (m->until_ci_pct > 0) {
		snprintf(buf, sizeof(buf), "until the %s median's 95%% CI half-width is <= %g%% "
					   "(%lld to %lld boots per case)",
			 m->until_ci_phase, m->until_ci_pct, (long long)m->min_boots,
			 (long long)m->max_boots);
		cm_dataset_meta(ds, CM_HDR(ADAPTIVE), buf);
	}
	cm_dataset_meta(ds, CM_HDR(COLDMARK), COLDMARK_VERSION);
	cm_dataset_meta(ds, CM_HDR(CACHE_POLICY), !m->drop_caches ? "warm (no drop)"
					     : m->drop_method == CM_DROP_EVICT ? "per-file eviction"
					     : m->drop_method == CM_DROP_SYSCTL ? "drop_caches"
										: "auto");
	cm_header_host(ds, m, r->qemu);
	char store[1024]; /* as cm_resume_check names it, to be compared on a resume */
	cm_run_store_name(r->db_path, store, sizeof(store));
	cm_header_plan(ds, m, store);
	struct cm_clock clk;
	cm_host_clock(m->pin, &clk);
	cm_dataset_meta(ds, CM_HDR(AUDIT), clk.khz > 0 || clk.throttled >= 0
		? "the clock (scaling_cur_freq) and thermal throttle counters read around each boot"
		: "not possible here (no scaling_cur_freq, no thermal_throttle counters)");
	if (r->tag)
		cm_dataset_meta(ds, CM_HDR(TAG), r->tag);
}

/* The dataset the run fills: every case and phase up front, so reports list them all. */
static void new_dataset(struct run *r)
{
	struct cm_matrix *m = r->m;
	char **axis_names = cm_xcalloc(m->naxes + 1, sizeof(char *));
	for (size_t a = 0; a < m->naxes; a++)
		axis_names[a] = m->axes[a].name;
	cm_dataset_init(&r->ds, axis_names, m->naxes);
	r->ds.waves = cm_runner_wants_waves(m);
	free(axis_names);
	for (size_t c = 0; c < m->ncases; c++)
		cm_dataset_case(&r->ds, m->cases[c].id, m->cases[c].labels);
	for (size_t p = 0; p < m->nphases; p++)
		cm_dataset_phase(&r->ds, m->phases[p].name);
	cm_dataset_phase(&r->ds, "total");
	for (size_t k = 0; k < CM_NMETRICS; k++)
		cm_dataset_phase(&r->ds, cm_metrics[k].name);
}

/* The dataset's case c's command line: the matrix's case c (new_dataset added them in the
 * matrix's order), else the one of that id. */
static char *case_cmdline(const void *ctx, size_t c)
{
	const struct run *r = ctx;
	const char *id = r->ds.cases[c].id;
	if (c < r->m->ncases && !strcmp(r->m->cases[c].id, id))
		return cm_case_cmdline(&r->m->cases[c]);
	for (size_t i = 0; i < r->m->ncases; i++)
		if (!strcmp(r->m->cases[i].id, id))
			return cm_case_cmdline(&r->m->cases[i]);
	return NULL;
}

/* The run and its cases with their command lines into the store (a resumed run is there
 * already): one transaction, a row a case. */
static int store_run(struct run *r)
{
	char known[64];
	if (r->resume && !cm_store_resolve(r->store, r->run_id, known, sizeof(known)))
		return 0; /* its new boots are appended */
	int err = cm_store_begin_run_argv(r->store, r->run_id, r->tag, &r->ds, case_cmdline, r);
	if (err)
		fprintf(stderr, "coldmark run: the results store %s refused the run: %s\n",
			r->shared_name[0] ? "journal.db (in the run folder)" : r->db_path,
			cm_store_error(r->store));
	return err ? CM_EXIT_OUTPUT : 0;
}

/* What a resumed run already measured comes back in, boot by boot. */
static int load_previous(struct run *r)
{
	struct cm_matrix *m = r->m;
	r->warm_done = cm_xcalloc(m->ncases + 1, sizeof(int));
	r->meas_done = cm_xcalloc(m->ncases + 1, sizeof(int));
	if (!r->resume)
		return 0;
	struct cm_dataset prev;
	struct cm_diags pd = { 0 };
	if (cm_samples_read_journal(r->samples_path, &prev, &pd)) {
		cm_diags_print(&pd, stderr);
		cm_diags_clear(&pd);
		return CM_EXIT_USAGE;
	}
	int rc = 0;
	for (size_t i = 0; i < prev.n && !rc; i++) {
		const struct cm_sample_row *row = &prev.rows[i];
		/* r->ds holds the matrix's cases in its order (new_dataset): its hash finds the
		 * case (a scan of the cases a row made resuming 10^5 cases quadratic) */
		size_t c = cm_dataset_case_index(&r->ds, row->case_id);
		if (c >= m->ncases || strcmp(m->cases[c].id, row->case_id)) {
			fprintf(stderr, "coldmark run: %s has case '%s', which the matrix no longer "
					"has: resume with the matrix the run began with\n",
				r->samples_path, row->case_id);
			rc = CM_EXIT_USAGE;
			break;
		}
		cm_dataset_add_like(&r->ds, &prev, row, NULL);
		if (strcmp(row->phase, "total") || !cm_row_boot_done(row))
			continue;
		int *d = row->warmup ? &r->warm_done[c] : &r->meas_done[c];
		if (row->boot > *d)
			*d = row->boot;
	}
	r->ds.waves = prev.waves; /* the journal's columns as its header has them */
	cm_dataset_free(&prev);
	return rc;
}

/* --resume: the earlier boots the store lacks (a run killed between two of its batches: the
 * journals have every boot, the store those up to its last batch), in before the first boot. */
static int catch_up(struct run *r)
{
	long long added = 0;
	if (!r->resume || !r->store || !r->ds.n)
		return 0;
	const char *name = r->shared_name[0] ? "journal.db (in the run folder)" : r->db_path;
	if (cm_store_add_missing(r->store, r->run_id, &r->ds, &added)) {
		fprintf(stderr, "coldmark run: the results store %s did not take the run's earlier "
				"boots from %s: %s\n", name, r->samples_path, cm_store_error(r->store));
		return CM_EXIT_OUTPUT;
	}
	if (added)
		fprintf(stderr, "coldmark run: %lld of the run's earlier boots were in %s but not "
				"yet in the results store %s: put in\n",
			added, r->samples_path, name);
	return 0;
}

/* Prepares everything the first boot needs; 0 or an exit status after saying why. */
static int prepare(struct run *r)
{
	int rc;
	if ((rc = apply_flags(r)) || (!r->resume && (rc = cm_replicate_apply(r->cli, r->m, &r->rep))) ||
	    /* --resume: the run's own plan (counts, order, seed) wins over the matrix and flags */
	    (r->resume && (rc = cm_resume_plan(r->resume, r->m, &r->old, r->old_run, sizeof(r->old_run)))) ||
	    (rc = check_plan(r)) || (rc = pin_self(r)) || (rc = check_host(r)) ||
	    (r->resume && (rc = cm_resume_check(r->resume, &r->old, r->m, r->qemu, r->db_path))))
		return rc;
	cm_note_unmeasurable(r->m, r->perf != NULL, stderr, "coldmark run: note");
	if ((rc = open_outputs(r)))
		return rc;
	new_dataset(r);
	write_header(r);
	if ((rc = store_run(r)) || (rc = load_previous(r)) || (rc = catch_up(r)))
		return rc;
	/* the plan and the header are on disk before the first boot */
	struct cm_error e;
	if (cm_runner_headers(&r->rd, &r->ds, &e) || cm_runner_save_meta(&r->rd, &r->ds, &e)) {
		fprintf(stderr, "coldmark run: %s\n", e.msg);
		return CM_EXIT_OUTPUT;
	}
	char *plan = cm_header_case_plan(r->m); /* each case's command line hash, for --resume */
	int err = cm_rundir_replace(&r->rd, CM_RUN_PLAN, plan, strlen(plan));
	free(plan);
	if (err) {
		fprintf(stderr, "coldmark run: cannot write %s/%s: %s\n", r->rd.path, CM_RUN_PLAN,
			strerror(-err));
		return CM_EXIT_OUTPUT;
	}
	return 0;
}

static void release(struct run *r)
{
	cm_rundir_close(&r->rd);
	cm_store_close(r->store);
	cm_store_close(r->shared);
	cm_run_out_free(&r->out);
	cm_dataset_free(&r->ds);
	cm_dataset_free(&r->old);
	cm_perf_close(r->perf);
	cm_matrix_free(r->m);
	free(r->warm_done), free(r->meas_done);
	if (r->moved)
		sched_setaffinity(0, sizeof(r->own_cpus), &r->own_cpus);
	free(r->samples_path), free(r->logs), free(r->outdir), free(r->qemu);
}

struct loop_ctx {
	bool tty;
	struct run *r;
	struct cm_runner *runner;
};

/* A case completed: the header and reports rewritten (not synced: the run's end does). */
static int case_done(void *ctx)
{
	struct loop_ctx *lc = ctx;
	struct run *r = lc->r;
	return cm_run_save(&r->out, lc->runner, r->perf, &r->rd, &r->ds, true);
}

/* Signals for the length of the boots: SIGINT, SIGTERM and SIGHUP (a dropped ssh session)
 * end the current boot and keep everything; a closed stdout (| head) must not kill a run. */
static void catch_signals(struct sigaction *old_pipe)
{
	stop_flag = 0; /* a fresh run: tests call cm_run more than once per process */
	struct sigaction sa = { .sa_handler = on_signal }, ign = { .sa_handler = SIG_IGN };
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGHUP, &sa, NULL);
	sigaction(SIGPIPE, &ign, old_pipe);
}

/* The boots: the same plan and seed, less what a resumed run did already. */
static int boots(struct run *r, struct cm_runner *rn)
{
	struct cm_matrix *m = r->m;
	size_t nplan;
	struct cm_planned *pl = cm_plan_new(m, &nplan);
	int per_case = (int)(m->boots * m->sessions);
	for (size_t c = 0; c < m->ncases; c++) {
		rn->planned[c] = r->meas_done[c] > per_case ? r->meas_done[c] : per_case;
		rn->done[c] = (size_t)r->meas_done[c];
		rn->nmeasured += rn->done[c];
	}
	/* boots of a case run in order, so the counts say which are done */
	size_t kept = cm_plan_skip_done(pl, nplan, r->warm_done, r->meas_done);
	if (r->resume)
		printf("coldmark: resuming run %s: %zu boots left of %zu planned\n", r->run_id, kept,
		       nplan);
	nplan = kept;
	cm_run_say_plan(m, r->outdir);
	int rc = cm_runner_loop(rn, &pl, &nplan);
	if (isatty(1))
		printf("\n");
	free(pl);
	return rc;
}

/* Failed boots: the whole run's share, a resumed run's earlier boots included. */
static int exit_status(const struct run *r, const struct cm_runner *rn, int rc)
{
	size_t all = 0, bad = 0;
	for (size_t i = 0; i < r->ds.n; i++) {
		const struct cm_sample_row *row = &r->ds.rows[i];
		enum cm_row_kind k = cm_row_kind(row);
		if (strcmp(row->phase, "total") || k == CM_ROW_WARMUP || k == CM_ROW_INTERRUPTED)
			continue;
		all++;
		bad += k == CM_ROW_FAILED;
	}
	double share = all ? 100.0 * (double)bad / (double)all : 0;
	if (rc == CM_EXIT_OUTPUT)
		return rc; /* said already: the output could not be written */
	if (stop_flag) {
		fprintf(stderr, "coldmark run: interrupted by signal %d after %zu measured boots; "
				"everything measured is in %s\n",
			stop_flag, rn->nmeasured, r->outdir);
		return CM_EXIT_INTERRUPTED;
	}
	if (bad)
		fprintf(stderr, "coldmark run: %zu of %zu measured boots failed (%.1f%%; run.max_failed "
				"allows %g%%); see the statuses in samples.csv and the logs in %s\n",
			bad, all, share, r->m->max_failed_pct, r->logs);
	return bad && share > r->m->max_failed_pct ? CM_EXIT_FAILED : rc;
}

/* Reports, exports, the terminal summary and the exit status. */
static int finish(struct run *r, struct cm_runner *rn, int rc)
{
	struct cm_matrix *m = r->m;
	int out_rc = cm_run_save(&r->out, rn, r->perf, &r->rd, &r->ds, false); /* synced */
	const struct cm_report *rep = &r->out.live; /* the exports and the terminal's */
	rc = rc ? rc : out_rc ? out_rc : rn->shared_refused ? CM_EXIT_OUTPUT : 0;
	if (cm_export(r->cli, "coldmark run", rep))
		rc = rc ? rc : CM_EXIT_OUTPUT;
	printf("\n");
	cm_report_terminal(rep, "total", stdout);
	if (r->calibrate && !rc && !stop_flag)
		rc = cm_calibration_save(&r->ds, rep, r->run_id, rn, rn->shared ? r->shared_name : rn->db_path);
	if (m->until_ci_pct > 0) {
		printf("\nadaptive stopping at %g%% on the %s phase: boots each case needed\n",
		       m->until_ci_pct, m->until_ci_phase);
		double *hw = cm_xmalloc((m->ncases + 1) * sizeof(double)); /* one pass, not a case's */
		cm_plan_ci_halfwidths(&r->ds, m->ncases, m->until_ci_phase, hw);
		for (size_t c = 0; c < m->ncases; c++) {
			double h = hw[c];
			printf("  %-40s %3d boots, CI half-width %.2f%%%s\n", m->cases[c].id,
			       rn->planned[c], isinf(h) ? NAN : h,
			       h <= m->until_ci_pct ? "" : " (max_boots reached before the target)");
		}
		free(hw);
	}
	char *written = cm_report_files(r->formats);
	printf("\nsamples: %s\nreports: %s/{%s}\n", r->samples_path, r->outdir, written);
	free(written);
	/* a server out of reach, or let go (one that refused the run said so and why) */
	bool lost = r->shared_name[0] && !rn->shared && !rn->shared_refused;
	printf("stored as run %s%s%s in %s\n", r->run_id, r->tag ? ", tag " : "",
	       r->tag ? r->tag : "", lost ? "the run folder's journal.db only"
			       : rn->shared ? r->shared_name : rn->db_path);
	if (lost)
		fprintf(stderr, "coldmark run: the shared store %s missed boots of this run: upload "
				"them with: coldmark sync %s --db URL\n", r->shared_name, r->outdir);
	return exit_status(r, rn, rc);
}

int cm_run(const struct cm_cli *cli, cm_launch_fn launch)
{
	struct run r = { .cli = cli };
	r.rd = (struct cm_rundir){ .dfd = -1, .fd = { -1, -1 } };
	if (!(r.m = cm_cli_load_matrix(cli->pos[0])))
		return CM_EXIT_USAGE;
	r.formats = cm_cli_get(cli, "format") ? cm_cli_get(cli, "format") : CM_DEFAULT_FORMATS;
	r.out.formats = r.formats;
	r.resume = cm_cli_get(cli, "resume");
	r.db_path = cm_cli_db(cli);
	r.tag = cm_cli_get(cli, "tag");
	if ((r.calibrate = !strcmp(cli->cmd->name, "calibrate"))) {
		if (r.m->sessions < 2)
			r.m->sessions = CM_CALIBRATE_SESSIONS; /* --sessions, applied next, may say otherwise */
		if (!r.tag)
			r.tag = "calibration";
	}
	int rc = prepare(&r);
	r.out.outdir = r.outdir;
	if (!rc) {
		struct cm_sources sources;
		cm_sources_init(&sources, r.m, r.perf, false);
		size_t nfiles = 0;
		char **files = r.m->drop_caches ? cm_boot_files(r.m, &nfiles) : NULL;
		struct loop_ctx lc = { isatty(1), &r, NULL };
		struct cm_runner rn = {
			.m = r.m, .launch = launch, .sources = &sources, .clock = cm_now_ns,
			.stop = &stop_flag, .rd = &r.rd, .ds = &r.ds, .store = r.store,
			.run_id = r.run_id, .logs = r.logs, .drop_files = files,
			.db_path = r.shared_name[0] ? "journal.db (in the run folder)" : r.db_path,
			.ndrop = nfiles, .progress = cm_run_progress, .case_done = case_done, .say = cm_run_say, .ctx = &lc,
			.planned = cm_xcalloc(r.m->ncases + 1, sizeof(int)),
			.done = cm_xcalloc(r.m->ncases + 1, sizeof(size_t)), .drop_used = "none",
			.shared = r.shared, .shared_name = r.shared_name, .shared_fresh = !r.resume,
		};
		r.shared = NULL; /* the runner's now: it lets go of a server that fails */
		lc.runner = &rn;
		struct sigaction old_pipe;
		catch_signals(&old_pipe);
		rc = finish(&r, &rn, boots(&r, &rn));
		cm_store_close(rn.shared);
		sigaction(SIGPIPE, &old_pipe, NULL);
		cm_sources_free(&sources);
		for (size_t i = 0; i < nfiles; i++)
			free(files[i]);
		free(files), free(rn.planned), free(rn.done), free(rn.clocks);
	}
	release(&r);
	return rc;
}
