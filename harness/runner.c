/* The runner: boots the plan one after the other through a launcher and the capture sources
 * it is given, writes every finished boot to both journals before the next starts (synced and
 * into the store a batch a second, runner_store.c),
 * and tells a progress sink and a case-done hook as it goes. The launcher, the clock and the
 * sinks are parameters: tests run it on a fake launcher, without qemu. */
#define _GNU_SOURCE
#include <errno.h>
#include <stdarg.h>
#include <math.h>
#include <stdio.h>
#include <stdio_ext.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

#include "coldmark/harness.h"
#include "coldmark/host.h"
#include "coldmark/model.h"
#include "coldmark/profile.h"
#include "coldmark/runner.h"
#include "coldmark/store.h"
#include "runner_int.h"

/* Where a boot's CPU goes, for COLDMARK_CPU_REPORT (below): the main thread's CPU clock read
 * at each boundary between the parts of a boot, each read closing one part and opening the
 * next, so that the parts cover the main thread's whole time in the loop: "loop" is what lies
 * between the others (the next boot's plan step and session, its sources, log name and host
 * clock readings, the audit, the last boot's frees, and these reads themselves). Read only
 * while that report is asked for (each read is a syscall), and only by the main thread; the
 * journals' sync thread keeps its own clock (cm_rundir_sync_cpu_ns). */
enum { ST_LAUNCH, ST_RECORD, ST_JOURNALS, ST_STORE, ST_AFTER, ST_LOOP, ST_N };
static const char *const stage_names[ST_N] = { "launch", "record", "journals", "store", "after",
					       "loop" };
static struct {
	bool on;
	int64_t last; /* the main thread's CPU clock at the last boundary */
	int64_t ns[ST_N];
} stages;

/* The main thread's CPU since the last boundary goes to part k. */
static void stage_end(int k)
{
	struct timespec t;
	if (!stages.on || clock_gettime(CLOCK_THREAD_CPUTIME_ID, &t))
		return;
	int64_t now = (int64_t)t.tv_sec * 1000000000LL + t.tv_nsec;
	stages.ns[k] += now - stages.last;
	stages.last = now;
}

/* meta.csv, whole or not at all: the plan must be on disk before the first boot, so a run
 * killed at any moment can be resumed. 0, or CM_RUNNER_OUTPUT after saying why. */
int cm_runner_save_meta(struct cm_rundir *rd, const struct cm_dataset *ds, struct cm_error *e)
{
	char *text = cm_meta_format(ds);
	int err = cm_rundir_replace(rd, CM_RUN_META, text, strlen(text));
	free(text);
	if (err)
		cm_error_set(e, CM_ERR(CM_EIO), "cannot write %s/%s: %s", rd->path, CM_RUN_META,
			     strerror(-err));
	return err ? CM_RUNNER_OUTPUT : 0;
}

static void full_journal(struct cm_error *e, const struct cm_rundir *rd, const char *what, int err)
{
	cm_error_set(e, CM_ERR(CM_EIO), "cannot write %s/%s: %s. The run stops here; every boot "
			"before this one is kept (continue it with --resume %s when there is room)",
		rd->path, what, strerror(-err), rd->path);
}

/* What the run has to tell its user goes to the CLI, which alone prints. */
void cm_runner_say(const struct cm_runner *r, const struct cm_error *e)
{
	if (r->say)
		r->say(r->ctx, e);
}

void cm_runner_sayf(const struct cm_runner *r, const char *fmt, ...)
{
	struct cm_error e = { CM_ERR(CM_EIO) };
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(e.msg, sizeof(e.msg), fmt, ap);
	va_end(ap);
	cm_runner_say(r, &e);
}

/* The column headers of a new run's journals. */
int cm_runner_headers(struct cm_rundir *rd, const struct cm_dataset *ds, struct cm_error *e)
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
		full_journal(e, rd, CM_RUN_SAMPLES, err);
		return CM_RUNNER_OUTPUT;
	}
	cm_buf_puts(&b, "case,boot,warmup,event,port,value,ts_ns,source\n");
	err = cm_rundir_has_data(rd, CM_JOURNAL_EVENTS)
		      ? 0 : cm_rundir_append(rd, CM_JOURNAL_EVENTS, b.s, b.len);
	cm_buf_free(&b);
	if (err) {
		full_journal(e, rd, CM_RUN_EVENTS, err);
		return CM_RUNNER_OUTPUT;
	}
	return 0;
}

/* A boot's rows (0: samples.csv's, 1: events.csv's) are formatted into two memory streams kept
 * from boot to boot, rewound each time (a memstream's size is its position at each fflush), and
 * locked by no one but this thread: an open_memstream and fclose a journal a boot, and a lock
 * around each of a row's ~25 fputc/fputs, were a third of the journals' main-thread CPU. */
static struct {
	FILE *f[2];
	char *text[2];
	size_t len[2];
} jbuf;

static FILE *jbuf_rewind(int k)
{
	if (!jbuf.f[k]) {
		jbuf.f[k] = open_memstream(&jbuf.text[k], &jbuf.len[k]);
		if (!jbuf.f[k]) {
			fputs("coldmark: out of memory\n", stderr);
			abort();
		}
		__fsetlocking(jbuf.f[k], FSETLOCKING_BYCALLER);
	}
	rewind(jbuf.f[k]);
	return jbuf.f[k];
}

static const char *jbuf_text(int k, size_t *len)
{
	fflush(jbuf.f[k]);
	*len = jbuf.len[k];
	return jbuf.text[k];
}

static void jbuf_free(void)
{
	for (int k = 0; k < 2; k++)
		if (jbuf.f[k])
			fclose(jbuf.f[k]);
	for (int k = 0; k < 2; k++)
		free(jbuf.text[k]);
	memset(&jbuf, 0, sizeof(jbuf));
}

/* One boot into both journals, or nowhere: on a write that fails its rows leave the dataset
 * again and the journals are cut back; then, when a batch is due, the boots since the last
 * one synced and into the stores (runner_store.c). 0 or CM_RUNNER_OUTPUT. */
static int journal_boot(struct cm_runner *r, size_t first_row, const struct cm_planned *b,
			const char *case_id, const struct cm_events *ev, const char *src)
{
	struct cm_rundir *rd = r->rd;
	struct cm_dataset *ds = r->ds;
	size_t nrows, nevs;
	FILE *f = jbuf_rewind(0);
	for (size_t i = first_row; i < ds->n; i++)
		cm_samples_write_row(f, ds, &ds->rows[i]);
	f = jbuf_rewind(1);
	for (size_t e = 0; e < ev->n; e++) {
		cm_csv_field(f, case_id);
		/* ",%d,%d,%s,%u,%u,%lld,%s\n" without printf's format parsing (a boot's events) */
		fputc(',', f), cm_csv_int(f, b->boot);
		fputc(',', f), cm_csv_int(f, b->warmup);
		fputc(',', f), fputs(ev->v[e].name, f);
		fputc(',', f), cm_csv_int(f, ev->v[e].port);
		fputc(',', f), cm_csv_int(f, ev->v[e].value);
		fputc(',', f), cm_csv_int(f, (long long)ev->v[e].ts_ns);
		fputc(',', f), fputs(ev->v[e].source && ev->v[e].shadow ? ev->v[e].source : src, f);
		fputc('\n', f);
	}
	const char *rows = jbuf_text(0, &nrows), *evs = jbuf_text(1, &nevs);
	/* events first: samples.csv is the contract, and a boot is in it only when its events
	 * are on disk too (a failure in samples.csv takes the boot's events back out) */
	off_t events_before = rd->good[CM_JOURNAL_EVENTS];
	int rc = 0, err = cm_rundir_append(rd, CM_JOURNAL_EVENTS, evs, nevs);
	struct cm_error e;
	if (err)
		full_journal(&e, rd, CM_RUN_EVENTS, err), cm_runner_say(r, &e);
	else if ((err = cm_rundir_append(rd, CM_JOURNAL_SAMPLES, rows, nrows))) {
		full_journal(&e, rd, CM_RUN_SAMPLES, err), cm_runner_say(r, &e);
		cm_rundir_cut(rd, CM_JOURNAL_EVENTS, events_before);
	} else {
		stage_end(ST_JOURNALS);
		rc = cm_runner_batch_boot(r); /* to the disk and the stores a batch a second */
		stage_end(ST_STORE);
	}
	if (err) {
		cm_dataset_truncate(ds, first_row);
		rc = CM_RUNNER_OUTPUT;
	}
	return rc;
}

/* A session's place in the header: when it began and the host's load then, and the load when
 * it ended ("session 2": "2026-11-26 02:30:01, load 0.52, 1 running → load 0.61, 2 running").
 * The host busier in one session than another is the first suspect of a change between them. */
int cm_runner_session_mark(struct cm_runner *r, int session, bool begin)
{
	if (session < 1)
		return 0;
	char key[32], load[64], when[32];
	snprintf(key, sizeof(key), "session %d", session);
	cm_header_load(load, sizeof(load));
	const char *was = cm_dataset_get_meta(r->ds, key);
	char *val;
	if (begin && !was) {
		time_t now = time(NULL);
		struct tm tm;
		strftime(when, sizeof(when), "%Y-%m-%d %H:%M:%S", localtime_r(&now, &tm));
		val = cm_xasprintf("%s, %s", when, load);
	} else if (!begin && was) {
		const char *arrow = strstr(was, " → "); /* a resumed session's end is said again */
		val = cm_xasprintf("%.*s → %s", (int)(arrow ? (size_t)(arrow - was) : strlen(was)), was,
				   load);
	} else {
		return 0; /* a resumed session keeps when it began */
	}
	int rc = cm_runner_meta(r, key, val);
	free(val);
	struct cm_error e;
	if (cm_runner_save_meta(r->rd, r->ds, &e)) {
		cm_runner_say(r, &e);
		return CM_RUNNER_OUTPUT;
	}
	return rc;
}

int cm_runner_next_session(struct cm_runner *r, int session)
{
	if (session == r->session)
		return 0;
	int rc = cm_runner_session_mark(r, r->session, false);
	return rc ? rc : cm_runner_session_mark(r, r->session = session, true);
}

/* The per-boot audit: the clock and the thermal throttle counters read around the boot. A boot
 * that ran throttled, or at a clock under 80% of the run's typical one so far, is flagged. */
static void audit(struct cm_runner *r, const struct cm_clock *before, const struct cm_clock *after,
		  char *out, size_t n)
{
	out[0] = 0;
	if (before->throttled >= 0 && after->throttled > before->throttled) {
		snprintf(out, n, "throttled (%lld thermal events)", after->throttled - before->throttled);
		return;
	}
	if (!(before->khz > 0 && after->khz > 0))
		return;
	double khz = (before->khz + after->khz) / 2;
	r->clocks = cm_xrealloc(r->clocks, (r->nclocks + 1) * sizeof(double));
	r->clocks[r->nclocks++] = khz;
	if (r->nclocks < 3)
		return;
	double *sorted = cm_xmalloc(r->nclocks * sizeof(double));
	memcpy(sorted, r->clocks, r->nclocks * sizeof(double));
	qsort(sorted, r->nclocks, sizeof(double), cm_cmp_double);
	double typical = sorted[r->nclocks / 2];
	free(sorted);
	if (khz < 0.8 * typical)
		snprintf(out, n, "clock %.2f GHz, typical %.2f GHz", khz / 1e6, typical / 1e6);
}

/* One boot: caches dropped, launched through the case's sources, evaluated into rows. */
static int run_boot(struct cm_runner *r, const struct cm_planned *b, size_t i,
		    struct cm_boot_result *br, struct cm_events *ev, char **log, const char **src)
{
	const struct cm_matrix *m = r->m;
	const struct cm_case *cs = &m->cases[b->c];
	struct cm_capture *picked[CM_SOURCES_MAX];
	size_t npicked = cm_sources_pick(r->sources, cs, picked);
	enum cm_drop_done dd = m->drop_caches ? cm_drop_caches(m->drop_method, r->drop_files, r->ndrop)
					      : CM_DROPPED_NONE;
	r->drop_used = cm_drop_names[dd];
	*log = cm_runner_log(r, b, 0);
	/* a reference case is the bundled guest: its own markers and exit status judge it */
	const struct cm_matrix *em = cs->reference ? m->reference_profile : m;
	struct cm_launch l = {
		.argv = cs->argv, .env = m->env, .pin = m->pin, .log_path = *log,
		.timeout_ms = m->timeout_ms, .end_marker = em->end_marker,
		.end_grace_ms = m->end_grace_ms, .sources = picked, .nsources = npicked,
		.m = em, .stop = r->stop,
		.kase = cs, .boot = b,
	};
	struct cm_exit ex;
	struct cm_clock c0, c1;
	cm_host_clock(m->pin, &c0);
	stage_end(ST_LOOP);
	int lrc = r->launch(&l, ev, &ex);
	stage_end(ST_LAUNCH);
	cm_host_clock(m->pin, &c1);
	char flag[96];
	audit(r, &c0, &c1, flag, sizeof(flag));
	return cm_runner_record(r, b, i, picked, npicked, lrc, ev, &ex, flag, br, src);
}

int cm_runner_record(struct cm_runner *r, const struct cm_planned *b, size_t i,
		     struct cm_capture *const *picked, size_t npicked, int lrc,
		     struct cm_events *ev, struct cm_exit *ex, const char *flag,
		     struct cm_boot_result *br, const char **src)
{
	const struct cm_matrix *m = r->m;
	const struct cm_case *cs = &m->cases[b->c];
	const struct cm_matrix *em = cs->reference ? m->reference_profile : m;
	stage_end(ST_LOOP);
	if (lrc) {
		cm_runner_sayf(r, "cannot launch qemu: %s", cm_strerror(lrc));
		ex->launched = false;
	}
	if (!ex->launched && i == 0 && (ex->launch_errno == ENOENT || errno == ENOENT))
		cm_runner_sayf(r, "%s: not found", cs->argv[0]);
	cm_boot_evaluate(em, ev, ex, cm_sources_first_entry(picked, npicked), br);
	*src = picked[0]->ops->name;
	size_t first_row = r->ds->n;
	cm_dataset_session_number(r->ds, b->session > 0 ? b->session : 1, NULL);
	r->ds->audit_now = flag;
	/* phases (a reference case: total alone), total, then what the boot cost the host */
	for (size_t p = cs->reference ? em->nphases : 0; p < br->nphase; p++)
		cm_dataset_add(r->ds, cs->id, b->boot, b->warmup, cm_status_names[br->status],
			       p < em->nphases ? em->phases[p].name
			       : p == em->nphases ? "total" : cm_metrics[p - em->nphases - 1].name,
			       br->phase_ns[p], *src, r->drop_used);
	r->ds->audit_now = NULL;
	cm_events_sort(ev); /* exec is added last, after the markers the rings held */
	int prc = cm_profile_journal(r->rd->path, em, cs->id, b, ev,
				     r->mtree ? &r->mtree[b->c] : NULL, r->store, r->run_id);
	if (prc == -1) /* the boot's samples are kept: only its profile is lost */
		cm_runner_sayf(r, "cannot write %s/profile.csv: %s", r->rd->path, strerror(errno));
	else if (prc)
		cm_runner_sayf(r, "the store did not take the profile of %s boot %d", cs->id, b->boot);
	stage_end(ST_RECORD);
	/* nothing lost: this boot is on disk before the next one starts, or the run stops */
	return journal_boot(r, first_row, b, cs->id, ev, *src);
}

/* The median of case c's measured totals so far, for the progress line: the median alone, not
 * the whole summary (its CIs and mode search were a tenth of coldmark's CPU per boot), from
 * each case's totals kept sorted as rows come (a scan of every row at every boot grows with
 * the run: 2 ms a boot at 10^5 boots). Reset by each loop; rows cut from the dataset (a boot
 * the journals refused) rebuild it. */
static struct {
	size_t seen;  /* ds->rows before this were taken in */
	size_t ncase; /* cases with a vector below */
	struct totals { double *v; size_t n, cap; } *c;
} med;

static void medians_reset(void)
{
	for (size_t c = 0; c < med.ncase; c++)
		free(med.c[c].v);
	free(med.c);
	memset(&med, 0, sizeof(med));
}

static double case_median(const struct cm_dataset *ds, size_t c)
{
	size_t total = cm_dataset_find_phase(ds, "total");
	if (ds->n < med.seen)
		medians_reset();
	for (; med.seen < ds->n; med.seen++) {
		const struct cm_sample_row *row = &ds->rows[med.seen];
		if (row->phase_idx != total || cm_row_kind(row) != CM_ROW_MEASURED ||
		    isnan(row->duration_ns))
			continue;
		if (row->case_idx >= med.ncase) {
			med.c = cm_xrealloc(med.c, (row->case_idx + 1) * sizeof(*med.c));
			memset(med.c + med.ncase, 0, (row->case_idx + 1 - med.ncase) * sizeof(*med.c));
			med.ncase = row->case_idx + 1;
		}
		struct totals *t = &med.c[row->case_idx];
		if (t->n == t->cap)
			t->v = cm_xrealloc(t->v, (t->cap = t->cap ? 2 * t->cap : 16) * sizeof(double));
		size_t k = t->n++; /* insertion: the new total into its place */
		for (; k > 0 && t->v[k - 1] > row->duration_ns; k--)
			t->v[k] = t->v[k - 1];
		t->v[k] = row->duration_ns;
	}
	return c < med.ncase && med.c[c].n ? cm_stats_quantile_sorted(med.c[c].v, med.c[c].n, 0.5)
					   : NAN;
}

/* What the sink is told after each boot. */
static void tell(struct cm_runner *r, const struct cm_planned *b, size_t i, size_t nplan,
		 const struct cm_boot_result *br, const char *log, int64_t t0)
{
	double median = case_median(r->ds, b->c);
	double el = (r->clock() - t0) / 1e9;
	struct cm_progress p = {
		.i = i, .n = nplan, .c = &r->m->cases[b->c], .b = b,
		.of = b->warmup ? (int)(r->m->warmup * r->m->sessions) : r->planned[b->c],
		.sessions = (int)r->m->sessions,
		.status = br->status, .detail = br->detail, .log = log,
		.total_ns = br->phase_ns[br->nphase - 1 - CM_NMETRICS], .median_ns = median,
		.elapsed_s = el, .eta_s = el / (i + 1) * (nplan - i - 1),
	};
	if (r->progress)
		r->progress(r->ctx, &p);
}

/* A case with all its boots gets its reports now, not only at the end: a user watching a long
 * run sees each case as it completes. A rewrite formats only the cases that changed and
 * concatenates the rest (cm_report_live_write), so it costs about the files' bytes; the one
 * guard left is for matrices so large that even that is much: the next rewrite waits until
 * 200x the last one's cost has passed (rewrites <= ~0.5% of the run: what issue 25 allows
 * coldmark a boot). It was 500x and at least 1 s, when a rewrite rebuilt every case. COLDMARK_REPORT_EVERY_CASE=1: no guard (the growth
 * check, scripts/bench-scale.sh). */
static bool every_case; /* COLDMARK_REPORT_EVERY_CASE=1, read at the loop's start */

static int maybe_case_done(struct cm_runner *r, const struct cm_planned *b, bool last)
{
	int64_t since = r->clock() - r->last_report_ns;
	/* after the plan's last boot the run's end writes them anyway */
	if (last || b->warmup || r->done[b->c] != (size_t)(r->m->boots * r->m->sessions) || !r->case_done ||
	    (!every_case && since < 200 * r->report_cost_ns))
		return 0;
	int64_t t = r->clock();
	int rc = r->case_done(r->ctx);
	r->last_report_ns = r->clock();
	r->report_cost_ns = r->last_report_ns - t;
	return rc;
}

/* COLDMARK_CPU_REPORT=FILE: coldmark's own CPU (every thread, exited ones too: RUSAGE_SELF)
 * split into start-up (to the first boot), the boots (journals, store, progress, report
 * rewrites: the per-boot cost) and the end (reports, exports), and qemu's (RUSAGE_CHILDREN)
 * over the boots, for scripts/observer.sh. One line, "key=value ...", written at exit; the
 * boots' part also by where it went (launch_ns ... loop_ns: the main thread's parts above,
 * which cover its whole time in the loop; sync_ns: the journals' sync thread; what is left is
 * the other threads: a wave's slot threads, perf's closer, threads that have exited). */
static struct {
	const char *path;
	int64_t self[2], kids[2], sync[2]; /* at the first boot, after the last */
	size_t boots;
	bool armed;
} cpu_mark;

static int64_t cpu_ns(int who)
{
	struct rusage ru;
	getrusage(who, &ru);
	return ((int64_t)ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) * 1000000000LL +
	       ((int64_t)ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) * 1000LL;
}

static void cpu_report(void)
{
	FILE *f = fopen(cpu_mark.path, "a");
	if (!f)
		return;
	fprintf(f, "startup_ns=%lld boots_ns=%lld end_ns=%lld boots=%zu qemu_ns=%lld",
		(long long)cpu_mark.self[0], (long long)(cpu_mark.self[1] - cpu_mark.self[0]),
		(long long)(cpu_ns(RUSAGE_SELF) - cpu_mark.self[1]), cpu_mark.boots,
		(long long)(cpu_mark.kids[1] - cpu_mark.kids[0]));
	for (int k = 0; k < ST_N; k++)
		fprintf(f, " %s_ns=%lld", stage_names[k], (long long)stages.ns[k]);
	fprintf(f, " sync_ns=%lld\n", (long long)(cpu_mark.sync[1] - cpu_mark.sync[0]));
	fclose(f);
}

static void cpu_at(const struct cm_runner *r, int end, size_t boots)
{
	const char *path = getenv("COLDMARK_CPU_REPORT");
	if (!path || !*path)
		return;
	stage_end(ST_LOOP); /* the last boot's frees and the loop's end */
	if (!end) { /* a test's second cm_run counts afresh */
		memset(&stages, 0, sizeof(stages));
		stages.on = true;
		stage_end(ST_LOOP);
		stages.ns[ST_LOOP] = 0;
	}
	stages.on = !end;
	cpu_mark.sync[end] = cm_rundir_sync_cpu_ns(r->rd);
	cpu_mark.self[end] = cpu_ns(RUSAGE_SELF);
	cpu_mark.kids[end] = cpu_ns(RUSAGE_CHILDREN);
	cpu_mark.boots = boots;
	cpu_mark.path = path;
	if (end && !cpu_mark.armed) /* once per process: tests run cm_run more than once */
		cpu_mark.armed = !atexit(cpu_report);
}

int cm_runner_after(struct cm_runner *r, const struct cm_planned *b, size_t i, size_t nplan,
		    const struct cm_boot_result *br, const char *log, int64_t t0)
{
	/* it follows the boot's store part at once: no boundary of its own at the start */
	char *named = cm_runner_settle_log(r, b, br, log); /* run.keep_logs keeps them all */
	if (!b->warmup && br->status != CM_STATUS_INTERRUPTED) {
		r->nmeasured++;
		r->done[b->c]++;
	}
	tell(r, b, i, nplan, br, named ? named : log, t0);
	free(named);
	/* the plan's last boot: the run's end writes the reports anyway */
	int rc = maybe_case_done(r, b, i + 1 == nplan && !(r->m->until_ci_pct > 0));
	if (!rc && r->shared_refused) /* a header item refused between boots */
		rc = CM_RUNNER_OUTPUT;
	stage_end(ST_AFTER);
	return rc;
}

/* The plan's first session begins with the loop, before its first boot: COLDMARK_CPU_REPORT
 * counts that header mark (a line in the store, meta.csv rewritten and synced) as start-up, as
 * it counts the last session's end, after the last boot, as the run's end; the marks between
 * two sessions are the boots'. */
static int first_session(struct cm_runner *r, const struct cm_planned *pl, size_t nplan)
{
	return nplan && !*r->stop ? cm_runner_next_session(r, pl[0].session) : 0;
}

/* The plan one boot after another (growing by adaptive blocks); *done: the boots gone
 * through. 0 or what stopped it. */
static int one_by_one(struct cm_runner *r, struct cm_planned **pl, size_t *nplan, size_t *done)
{
	int64_t t0 = r->clock();
	int rc = 0;
	size_t i = 0;
	for (; !*r->stop && !rc; i++) {
		if (i == *nplan && !(r->m->until_ci_pct > 0 &&
				     cm_plan_next_block(r->m, r->ds, r->planned, pl, nplan)))
			break;
		const struct cm_planned b = (*pl)[i];
		if ((rc = cm_runner_next_session(r, b.session)))
			break;
		struct cm_boot_result br;
		struct cm_events ev = { 0 };
		char *log;
		const char *src;
		rc = run_boot(r, &b, i, &br, &ev, &log, &src);
		if (!rc)
			rc = cm_runner_after(r, &b, i, *nplan, &br, log, t0);
		else
			cm_runner_keep_log(r, &b, log, br.status != CM_STATUS_LAUNCH_FAILED);
		free(log);
		cm_boot_result_free(&br);
		cm_events_free(&ev);
	}
	cm_runner_log_done(r, 0);
	*done = i;
	return rc;
}

static int loop(struct cm_runner *r, struct cm_planned **pl, size_t *nplan)
{
	int rc = first_session(r, *pl, *nplan);
	cpu_at(r, 0, 0);
	if (rc)
		return rc;
	cm_runner_batch_start(r);
	medians_reset();
	cm_runner_logs_reset();
	const char *every = getenv("COLDMARK_REPORT_EVERY_CASE");
	every_case = every && !strcmp(every, "1");
	size_t done;
	if (cm_runner_wants_waves(r->m))
		rc = cm_runner_waves(r, pl, nplan), done = *nplan; /* its blocks may grow the plan */
	else
		rc = one_by_one(r, pl, nplan, &done);
	stage_end(ST_LOOP);
	int st = cm_runner_batch_end(r); /* the boots since the last batch, whatever ended the loop */
	stage_end(ST_STORE);
	cpu_at(r, 1, done);
	int end = cm_runner_session_mark(r, r->session, false);
	medians_reset();
	return rc ? rc : st ? st : end ? end : cm_runner_share_rest(r);
}

int cm_runner_loop(struct cm_runner *r, struct cm_planned **pl, size_t *nplan)
{
	/* run.profile: each KVM case's memory map, asked of its paused qemu before the first
	 * boot, names the device regions MMIO hits; a case without one is counted by page */
	const struct cm_matrix *m = r->m;
	if (m->profile && !r->mtree) {
		r->mtree = cm_xcalloc(m->ncases + 1, sizeof(*r->mtree));
		for (size_t c = 0; c < m->ncases; c++) {
			struct cm_error err = { 0 };
			if (!cm_case_is_tcg(&m->cases[c]) &&
			    cm_case_mtree(m->cases[c].argv, &r->mtree[c], &err))
				cm_runner_sayf(r, "%s: MMIO counted by page: %s", m->cases[c].id, err.msg);
		}
	}
	int rc = loop(r, pl, nplan);
	jbuf_free();
	for (size_t c = 0; r->mtree && c < m->ncases; c++)
		cm_mtree_free(&r->mtree[c]);
	free(r->mtree);
	r->mtree = NULL;
	return rc;
}
