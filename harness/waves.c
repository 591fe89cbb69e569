/* Boots at once (issue 29): the plan in waves of K boots, each launched from a thread of its
 * own with capture sources of its own (debugcon and console sockets per boot; perf's rings are
 * shared, and each sample goes to the qemu whose pid it carries). The page caches are dropped
 * once per wave, before it. A wave ends when its last boot does: a boot that fails or times
 * out stops nothing, a signal ends every boot of it. Then each boot is recorded on its own
 * (into both journals; synced and into the store a batch a second) in the plan's order, whatever order they
 * finished in: a run killed while it records a wave leaves each case's first boots, which is
 * what --resume counts on (it skips a case's first N boots). */
#define _GNU_SOURCE
#include <errno.h>
#include <pthread.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "coldmark/harness.h"
#include "coldmark/host.h"
#include "coldmark/model.h"
#include "runner_int.h"

bool cm_runner_wants_waves(const struct cm_matrix *m)
{
	if (m->concurrency > 1)
		return true;
	for (size_t c = 0; c < m->ncases; c++)
		if (m->cases[c].concurrency > 0)
			return true;
	return false;
}

/* Does b join a wave that a begins? Same session and kind; a case of the concurrency axis
 * waves with copies of itself only, every other case with the run's next boots. */
static bool joins(const struct cm_matrix *m, const struct cm_planned *a, const struct cm_planned *b)
{
	if (a->session != b->session || a->warmup != b->warmup)
		return false;
	bool own = m->cases[a->c].concurrency > 0;
	return own ? b->c == a->c : m->cases[b->c].concurrency == 0;
}

size_t cm_wave_take(const struct cm_matrix *m, struct cm_planned *pl, size_t n, size_t i)
{
	const struct cm_case *cs = &m->cases[pl[i].c];
	size_t k = cs->concurrency > 0 ? (size_t)cs->concurrency
		   : m->concurrency > 1 ? (size_t)m->concurrency : 1;
	size_t got = 1;
	/* the wave's members pulled forward in their order; the others keep theirs */
	for (size_t j = i + 1; j < n && got < k && pl[j].session == pl[i].session; j++) {
		if (!joins(m, &pl[i], &pl[j]))
			continue;
		struct cm_planned x = pl[j];
		memmove(&pl[i + got + 1], &pl[i + got], (j - i - got) * sizeof(*pl));
		pl[i + got++] = x;
	}
	return got;
}

static size_t wave_size(const struct cm_matrix *m, size_t c)
{
	const struct cm_case *cs = &m->cases[c];
	return cs->concurrency > 0 ? (size_t)cs->concurrency : m->concurrency > 1 ? (size_t)m->concurrency : 1;
}

/* pl[a, b) (one session) arranged as cm_wave_take from a on would, in one pass: each boot's
 * "kind" (a concurrency case's own copies, or every other case's boots; warm-ups apart) keeps
 * its boots in order, so a wave's members are the fronts of its first boot's kind. Successive
 * takes scanned (and moved) up to a whole session per member: a sweep's cases x cases. */
static void arrange_session(const struct cm_matrix *m, struct cm_planned *pl, size_t a, size_t b,
			    size_t *k)
{
	size_t n = b - a, nk = 2 * m->ncases + 2, none = SIZE_MAX;
	size_t *front = cm_xmalloc(nk * sizeof(size_t)), *after = cm_xmalloc((n + 1) * sizeof(size_t));
	bool *taken = cm_xcalloc(n + 1, sizeof(bool));
	struct cm_planned *out = cm_xmalloc((n + 1) * sizeof(*out));
	for (size_t q = 0; q < nk; q++)
		front[q] = none;
#define KIND(x) (m->cases[(x).c].concurrency > 0 ? 2 + 2 * (x).c + (x).warmup : (size_t)(x).warmup)
	for (size_t j = n; j-- > 0;) { /* each boot's next of its kind */
		size_t q = KIND(pl[a + j]);
		after[j] = front[q], front[q] = j;
	}
	for (size_t j = 0, o = 0; j < n; j++) {
		if (taken[j])
			continue;
		size_t q = KIND(pl[a + j]), want = wave_size(m, pl[a + j].c), got = 0, at = o;
		for (size_t x = j; got < want && x != none; x = front[q], got++) {
			front[q] = after[x]; /* j is its kind's front: the earlier ones are taken */
			taken[x] = true;
			out[o++] = pl[a + x];
		}
		k[a + at] = got;
	}
#undef KIND
	memcpy(&pl[a], out, n * sizeof(*out));
	free(front), free(after), free(taken), free(out);
}

void cm_wave_arrange(const struct cm_matrix *m, struct cm_planned *pl, size_t n, size_t i, size_t *k)
{
	for (size_t a = i, b; a < n; a = b) {
		for (b = a + 1; b < n && pl[b].session == pl[a].session; b++)
			;
		arrange_session(m, pl, a, b, k);
	}
}

struct slot {
	struct cm_runner *r;
	struct cm_planned b;
	size_t i;
	int wave, index;
	struct cm_sources *src;
	struct cm_capture *picked[4];
	size_t npicked;
	char *log;
	struct cm_events ev;
	struct cm_exit ex;
	int lrc;
	int64_t end_ns; /* when its launcher returned (a boot without exec events: its wave stamp) */
	pthread_t th;
	bool started;
};

static void *slot_run(void *arg)
{
	struct slot *s = arg;
	const struct cm_matrix *m = s->r->m;
	const struct cm_case *cs = &m->cases[s->b.c];
	const struct cm_matrix *em = cs->reference ? m->reference_profile : m;
	struct cm_launch l = {
		.argv = cs->argv, .env = m->env, .pin = m->pin, .log_path = s->log,
		.timeout_ms = m->timeout_ms, .end_marker = em->end_marker,
		.end_grace_ms = m->end_grace_ms, .sources = s->picked, .nsources = s->npicked,
		.m = em, .stop = s->r->stop, .boot = &s->b,
		.kase = cs, /* its console markers: an axis value's too */
	};
	s->lrc = s->r->launch(&l, &s->ev, &s->ex);
	if (s->lrc)
		s->ex.launched = false;
	s->end_ns = s->r->clock();
	return NULL;
}

/* The wave's boots recorded one by one in the plan's order; each carries its wave and slot
 * (events.csv: event "wave", port = the slot, value = the wave). Every boot of the wave has
 * ended: when an earlier slot's batch is refused by a store (or the run stops after a boot
 * for another reason than its journals), the later slots still go into the journals, which
 * --resume then puts in the store; they stay out only once the journals themselves failed (a
 * later boot written after a missing one would break the case's order --resume counts on).
 * *whole: every boot of the wave recorded. */
static int record_wave(struct cm_runner *r, struct slot *sl, size_t k, size_t nplan, int64_t t0,
		       bool *whole)
{
	int rc = 0;
	bool journals = true;
	*whole = true;
	for (size_t j = 0; j < k; j++) {
		struct slot *s = &sl[j];
		const struct cm_event *x = cm_events_find(&s->ev, CM_EVENT_EXEC);
		cm_events_add(&s->ev, "wave", x ? x->ts_ns : s->end_ns, (unsigned)s->index,
			      (unsigned)s->wave);
		struct cm_boot_result br = { 0 };
		const char *src;
		if (journals) {
			bool refused = r->store_refused || r->shared_refused;
			r->ds->wave_now = s->wave, r->ds->slot_now = s->index;
			int brc = cm_runner_record(r, &s->b, s->i, s->picked, s->npicked, s->lrc,
						   &s->ev, &s->ex, "", &br, &src);
			r->ds->wave_now = r->ds->slot_now = 0;
			if (!brc) {
				int arc = cm_runner_after(r, &s->b, s->i, nplan, &br, s->log, t0);
				rc = rc ? rc : arc;
			} else {
				cm_runner_keep_log(r, &s->b, s->log, s->ex.launched);
				/* in the journals, and this batch refused by a store: the rest too */
				journals = !refused && (r->store_refused || r->shared_refused);
				*whole = journals;
				rc = rc ? rc : brc;
			}
		} else { /* not recorded: the journals failed at an earlier slot */
			cm_runner_keep_log(r, &s->b, s->log, s->ex.launched);
		}
		cm_boot_result_free(&br);
	}
	return rc;
}

/* The wave as a whole into waves.csv (one line, appended; a side table, not the contract):
 * its makespan (the first exec to the last end marker, "" when a boot has neither), what its
 * boots cost the host together (qemu CPU time summed, peak RSS summed), how many were ok. */
static void wave_line(struct cm_runner *r, const struct slot *sl, size_t k, int wave)
{
	const struct cm_matrix *m = r->m;
	int64_t first = INT64_MAX, last = INT64_MIN;
	double cpu = 0, rss = 0;
	bool whole = true, one_case = true;
	for (size_t j = 0; j < k; j++) {
		const struct cm_case *cs = &m->cases[sl[j].b.c];
		const struct cm_matrix *em = cs->reference ? m->reference_profile : m;
		const struct cm_event *x = cm_events_find(&sl[j].ev, CM_EVENT_EXEC);
		const struct cm_event *e = em->end_marker ? cm_events_find(&sl[j].ev, em->end_marker)
							  : cm_events_find(&sl[j].ev, CM_EVENT_EXIT);
		whole &= x && e;
		if (x && x->ts_ns < first)
			first = x->ts_ns;
		if (e && e->ts_ns > last)
			last = e->ts_ns;
		double c = sl[j].ex.metrics[CM_MET_CPU], b = sl[j].ex.metrics[CM_MET_MAXRSS];
		cpu += c == c ? c : 0; /* NAN: qemu never ran */
		rss += b == b ? b : 0;
		one_case &= sl[j].b.c == sl[0].b.c;
	}
	char *path = cm_xasprintf("%s/%s", r->rd->path, CM_RUN_WAVES);
	bool fresh = access(path, F_OK) != 0;
	FILE *f = fopen(path, "a");
	free(path);
	if (!f)
		return;
	if (fresh)
		fputs("wave,session,warmup,boots,case,makespan_ns,cpu_ns,maxrss_bytes\n", f);
	fprintf(f, "%d,%d,%d,%zu,", wave, sl[0].b.session, sl[0].b.warmup, k);
	cm_csv_field(f, one_case ? m->cases[sl[0].b.c].id : "(mixed)");
	if (whole)
		fprintf(f, ",%lld,%.0f,%.0f\n", (long long)(last - first), cpu, rss);
	else
		fprintf(f, ",,%.0f,%.0f\n", cpu, rss);
	fclose(f);
}

/* One wave: k boots launched at once, waited for together, recorded. */
static int run_wave(struct cm_runner *r, struct cm_sources *srcs, const struct cm_planned *pl,
		    size_t i, size_t k, int wave, size_t nplan, int64_t t0)
{
	const struct cm_matrix *m = r->m;
	enum cm_drop_done dd = m->drop_caches ? cm_drop_caches(m->drop_method, r->drop_files, r->ndrop)
					      : CM_DROPPED_NONE;
	r->drop_used = cm_drop_names[dd];
	if (srcs[0].handle)
		cm_perf_wave_begin(srcs[0].handle, (int)k);
	struct slot *sl = cm_xcalloc(k, sizeof(*sl));
	for (size_t j = 0; j < k; j++) {
		struct slot *s = &sl[j];
		*s = (struct slot){ .r = r, .b = pl[i + j], .i = i + j, .wave = wave,
				    .index = (int)j + 1, .src = &srcs[j] };
		s->npicked = cm_sources_pick(s->src, &m->cases[s->b.c], s->picked);
		s->log = cm_runner_log(r, &s->b, (int)j + 1);
	}
	/* a slot whose thread cannot start boots in this one, after the others have started */
	for (size_t j = 0; j < k; j++)
		sl[j].started = !pthread_create(&sl[j].th, NULL, slot_run, &sl[j]);
	for (size_t j = 0; j < k; j++)
		if (!sl[j].started)
			slot_run(&sl[j]);
	for (size_t j = 0; j < k; j++)
		if (sl[j].started)
			pthread_join(sl[j].th, NULL);
	bool whole;
	int rc = record_wave(r, sl, k, nplan, t0, &whole);
	if (whole) /* a resumed run numbers its waves on from it */
		wave_line(r, sl, k, wave);
	for (size_t j = 0; j < k; j++) {
		free(sl[j].log);
		cm_events_free(&sl[j].ev);
	}
	free(sl);
	if (srcs[0].handle)
		cm_perf_wave_begin(srcs[0].handle, 1);
	return rc;
}

/* The widest wave the plan can ask for: sources for that many slots. */
static size_t widest(const struct cm_matrix *m)
{
	size_t k = m->concurrency > 1 ? (size_t)m->concurrency : 1;
	for (size_t c = 0; c < m->ncases; c++)
		if ((size_t)m->cases[c].concurrency > k)
			k = (size_t)m->cases[c].concurrency;
	return k;
}

int cm_wave_widest(const struct cm_matrix *m, int *cpus)
{
	cpu_set_t set;
	*cpus = 0;
	if (m->pin ? !cm_cpulist_parse(m->pin, &set) : !sched_getaffinity(0, sizeof(set), &set))
		*cpus = CPU_COUNT(&set);
	return cm_runner_wants_waves(m) ? (int)widest(m) : 1;
}

/* A resumed run numbers its waves on from the last one waves.csv or the journal has (a wave
 * whose line is not in waves.csv: the run stopped between its boots' journal lines and its
 * own, killed or with the journals failing mid-wave; its number must not be given again). */
static int last_wave(const struct cm_runner *r)
{
	char *path = cm_xasprintf("%s/%s", r->rd->path, CM_RUN_WAVES), *line = NULL;
	FILE *f = fopen(path, "r");
	free(path);
	size_t cap = 0;
	int last = 0, w;
	while (f && getline(&line, &cap, f) > 0)
		if (sscanf(line, "%d,", &w) == 1 && w > last)
			last = w;
	free(line);
	if (f)
		fclose(f);
	for (size_t i = 0; i < r->ds->n; i++)
		if (r->ds->rows[i].wave > last)
			last = r->ds->rows[i].wave;
	return last;
}

int cm_runner_waves(struct cm_runner *r, struct cm_planned **pl, size_t *nplan)
{
	const struct cm_matrix *m = r->m;
	size_t nslots = widest(m);
	struct cm_sources *srcs = cm_xcalloc(nslots, sizeof(*srcs));
	for (size_t j = 0; j < nslots; j++)
		cm_sources_init(&srcs[j], m, r->sources->handle,
				r->sources->perf_assumed);
	cm_proc_subreaper(); /* once, before the threads */
	int64_t t0 = r->clock();
	int rc = 0, wave = last_wave(r);
	char said[64];
	if (m->concurrency > 1 && nslots == (size_t)m->concurrency)
		snprintf(said, sizeof(said), "%zu at a time", nslots);
	else /* the axis: each case's value */
		snprintf(said, sizeof(said), "the concurrency axis, up to %zu at a time", nslots);
	rc = cm_runner_meta(r, "concurrency", said);
	size_t *wk = NULL, arranged = 0; /* wk[i]: the size of the wave at i, once arranged */
	for (size_t i = 0; !*r->stop && !rc;) {
		if (i == *nplan && !(m->until_ci_pct > 0 &&
				     cm_plan_next_block(m, r->ds, r->planned, pl, nplan)))
			break;
		if (i >= arranged) { /* the plan, or an adaptive block just added */
			wk = cm_xrealloc(wk, (*nplan + 1) * sizeof(size_t));
			cm_wave_arrange(m, *pl, *nplan, i, wk);
			arranged = *nplan;
		}
		size_t k = wk[i];
		if ((rc = cm_runner_next_session(r, (*pl)[i].session)))
			break;
		rc = run_wave(r, srcs, *pl, i, k, ++wave, *nplan, t0);
		i += k;
	}
	free(wk);
	for (size_t j = 0; j < nslots; j++) {
		cm_sources_free(&srcs[j]);
		cm_runner_log_done(r, (int)j + 1);
	}
	free(srcs);
	return rc; /* the last session's end, the last batch: cm_runner_loop's, as one by one */
}
