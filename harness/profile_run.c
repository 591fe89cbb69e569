/* run.profile's records of one boot counted per phase (issue 28): each record goes to every
 * phase whose interval [from, to) contains its timestamp, and to total [exec, end]; the
 * counts go to profile.csv (case, boot, session, phase, counter, count). */
#include <stdlib.h>
#include <string.h>

#include "coldmark/harness.h"
#include "coldmark/model.h"
#include "coldmark/profile.h"
#include "coldmark/store.h"

struct named {
	char name[96];
	int64_t ts_ns;
	int64_t dur_ns; /* CPU time: the record covers (ts_ns - dur_ns, ts_ns]; else -1 */
	uint32_t weight;
};

/* What of v counts in [from, to) (to included when to_inclusive): its weight when its stamp
 * is in; for CPU time the part of its span that is in, so that a slice running across a
 * phase boundary is split between the two phases. */
static uint64_t in_phase(const struct named *v, int64_t from, int64_t to, bool to_inclusive)
{
	if (v->dur_ns >= 0) {
		int64_t a = v->ts_ns - v->dur_ns, z = v->ts_ns;
		a = a > from ? a : from;
		z = z < to ? z : to;
		return z > a ? (uint64_t)(z - a) : 0;
	}
	return v->ts_ns >= from && (v->ts_ns < to || (to_inclusive && v->ts_ns == to)) ? v->weight
										       : 0;
}

static int by_name(const void *a, const void *b)
{
	return strcmp(((const struct named *)a)->name, ((const struct named *)b)->name);
}

static bool is_marker_port(const struct cm_matrix *m, unsigned port)
{
	for (size_t i = 0; i < m->nports; i++)
		if (m->ports[i] == port)
			return true;
	return false;
}

/* A marker's own port write is seen twice, by the marker event and here, each stamped by its
 * own perf event nanoseconds apart: it is put just before the marker it is, so that it counts
 * in the phase it ends, in every boot alike (not on either side of the boundary by chance). */
static int64_t snapped(const struct cm_matrix *m, const struct cm_events *ev,
		       const struct cm_prof_rec *r)
{
	if (r->kind != CM_PROF_PIO || !r->dir || !is_marker_port(m, (unsigned)r->key))
		return r->ts_ns;
	for (size_t i = 0; i < ev->n; i++) {
		const struct cm_event *e = &ev->v[i];
		int64_t d = e->ts_ns - r->ts_ns;
		if (e->kind == CM_EV_PORT && e->port == r->key && !e->shadow && d > -20000 &&
		    d < 20000)
			return e->ts_ns - 1;
	}
	return r->ts_ns;
}

struct rows {
	struct cm_profile_row *v;
	size_t n, cap;
};

static void add_row(struct rows *rs, const char *case_id, const struct cm_planned *b,
		    const char *phase, const char *counter, double count)
{
	if (rs->n == rs->cap)
		rs->v = cm_xrealloc(rs->v, (rs->cap = rs->cap ? 2 * rs->cap : 64) * sizeof(*rs->v));
	rs->v[rs->n++] = (struct cm_profile_row){ (char *)case_id, (char *)phase,
						  cm_xstrdup(counter), b->boot, b->session, count };
}

/* The counts of one interval, summed by counter name; "lost" (records the kernel dropped in
 * the boot) always, so that a profiled boot with nothing in a phase still counts as one. */
static void count_phase(struct rows *rs, const char *case_id, const struct cm_planned *b,
			const char *phase, const struct named *v, size_t n, int64_t from,
			int64_t to, bool to_inclusive, uint64_t lost)
{
	add_row(rs, case_id, b, phase, "lost", (double)lost);
	for (size_t i = 0; i < n;) {
		unsigned long long sum = 0;
		size_t j = i;
		for (; j < n && !strcmp(v[j].name, v[i].name); j++)
			sum += in_phase(&v[j], from, to, to_inclusive);
		if (sum)
			add_row(rs, case_id, b, phase, v[i].name, (double)sum);
		i = j;
	}
}

static void count_boot(struct rows *rs, const struct cm_matrix *m, const char *case_id,
		       const struct cm_planned *b, const struct cm_events *ev,
		       const struct named *v, size_t n)
{
	for (size_t p = 0; p < m->nphases; p++) {
		const struct cm_event *a = cm_events_find(ev, m->phases[p].from),
				      *z = cm_events_find(ev, m->phases[p].to);
		if (a && z)
			count_phase(rs, case_id, b, m->phases[p].name, v, n, a->ts_ns, z->ts_ns,
				    false, ev->prof->lost);
	}
	const struct cm_event *exec = cm_events_find(ev, CM_EVENT_EXEC);
	const struct cm_event *end = m->end_marker ? cm_events_find(ev, m->end_marker) : NULL;
	if (exec && end)
		count_phase(rs, case_id, b, "total", v, n, exec->ts_ns, end->ts_ns, true,
			    ev->prof->lost);
}

int cm_profile_journal(const char *rundir, const struct cm_matrix *m, const char *case_id,
		       const struct cm_planned *b, const struct cm_events *ev,
		       const struct cm_mtree *mt, struct cm_store *store, const char *run_id)
{
	if (!ev->prof || b->warmup)
		return 0;
	const struct cm_prof_recs *pr = ev->prof;
	struct named *v = cm_xcalloc(pr->n ? pr->n : 1, sizeof(*v));
	for (size_t i = 0; i < pr->n; i++) {
		cm_prof_counter_name(&pr->v[i], mt, v[i].name, sizeof(v[i].name));
		v[i].ts_ns = snapped(m, ev, &pr->v[i]);
		v[i].weight = pr->v[i].weight;
		v[i].dur_ns = pr->v[i].kind == CM_PROF_CPU ? (int64_t)pr->v[i].key : -1;
	}
	qsort(v, pr->n, sizeof(*v), by_name);
	struct rows rs = { 0 };
	count_boot(&rs, m, case_id, b, ev, v, pr->n);
	free(v);
	char *path = cm_xasprintf("%s/profile.csv", rundir);
	FILE *f = fopen(path, "a");
	int rc = f ? 0 : -1;
	if (f) {
		if (ftell(f) == 0)
			fputs("case,boot,session,phase,counter,count\n", f);
		for (size_t i = 0; i < rs.n; i++) {
			cm_csv_field(f, rs.v[i].case_id);
			fprintf(f, ",%d,%d,", rs.v[i].boot, rs.v[i].session);
			cm_csv_field(f, rs.v[i].phase);
			fprintf(f, ",%s,%.0f\n", rs.v[i].counter, rs.v[i].count);
		}
		rc = fclose(f) ? -1 : 0;
	}
	free(path);
	if (!rc && store && cm_store_add_profile(store, run_id, rs.v, rs.n))
		rc = -2;
	for (size_t i = 0; i < rs.n; i++)
		free(rs.v[i].counter);
	free(rs.v);
	return rc;
}
