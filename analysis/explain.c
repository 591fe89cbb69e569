/* compare explains (issue 28): for a row, the profile counters whose per-boot counts changed
 * between the sides, ranked by how much. A counter changed when its median moved by more than
 * either side's interquartile range (counts are often exact: a constant count on both sides
 * that differs is a change, said as exact); one that did not is not listed. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "coldmark/analysis.h"
#include "coldmark/profile.h"

struct side {
	double median, iqr;
	bool constant;
	size_t n;
};

static struct side summarize(const struct cm_profile_data *d, const char *case_id,
			     const char *phase, const char *counter)
{
	double *v;
	struct side s = { 0 };
	s.n = cm_profile_counts(d, case_id, phase, counter, &v);
	if (s.n) {
		qsort(v, s.n, sizeof(double), cm_cmp_double);
		s.median = cm_stats_quantile_sorted(v, s.n, 0.5);
		s.iqr = cm_stats_quantile_sorted(v, s.n, 0.75) - cm_stats_quantile_sorted(v, s.n, 0.25);
		s.constant = v[0] == v[s.n - 1];
	}
	free(v);
	return s;
}

/* larger relative change first (from zero: 1), then larger absolute change */
static int by_change(const void *a, const void *b)
{
	const struct cm_explain *x = a, *y = b;
	double dx = fabs(x->cand - x->base), dy = fabs(y->cand - y->base);
	double rx = dx / fmax(fmax(x->base, x->cand), 1), ry = dy / fmax(fmax(y->base, y->cand), 1);
	if (rx != ry)
		return rx < ry ? 1 : -1;
	return (dx < dy) - (dx > dy);
}

/* The counters either side has in this case and phase, each once (borrowed names). */
static size_t union_counters(const struct cm_profile_data *b, const struct cm_profile_data *c,
			     const char *case_id, const char *phase, char ***out)
{
	char **x, **y;
	size_t nx = cm_profile_counters(b, case_id, phase, &x);
	size_t ny = cm_profile_counters(c, case_id, phase, &y);
	x = cm_xrealloc(x, (nx + ny + 1) * sizeof(char *));
	for (size_t j = 0; j < ny; j++) {
		size_t k = 0;
		while (k < nx && strcmp(x[k], y[j]))
			k++;
		if (k == nx)
			x[nx++] = y[j];
	}
	free(y);
	*out = x;
	return nx;
}

static void explain_row(struct cm_cmp_row *row, const struct cm_profile_data *b,
			const struct cm_profile_data *c)
{
	char **names;
	size_t n = union_counters(b, c, row->case_id, row->phase, &names);
	for (size_t i = 0; i < n; i++) {
		/* how much of qemu's CPU the profile may have missed says nothing of the guest */
		if (!strcmp(names[i], "qemu_cpu_unseen_ns"))
			continue;
		struct side x = summarize(b, row->case_id, row->phase, names[i]);
		struct side y = summarize(c, row->case_id, row->phase, names[i]);
		if (!x.n || !y.n || x.median == y.median ||
		    fabs(y.median - x.median) <= fmax(x.iqr, y.iqr))
			continue;
		row->why = cm_xrealloc(row->why, (row->nwhy + 1) * sizeof(*row->why));
		row->why[row->nwhy++] = (struct cm_explain){
			.counter = cm_xstrdup(names[i]), .what = cm_prof_counter_what(names[i]),
			.base = x.median, .cand = y.median, .exact = x.constant && y.constant,
		};
	}
	free(names);
	if (row->nwhy)
		qsort(row->why, row->nwhy, sizeof(*row->why), by_change);
}

void cm_explain(struct cm_cmp_result *r, const struct cm_profile_data *base,
		const struct cm_profile_data *cand, bool all)
{
	for (size_t i = 0; i < r->nrows; i++) {
		struct cm_cmp_row *row = &r->rows[i];
		if (all || row->cmp.verdict == CM_REGRESSED || row->cmp.verdict == CM_IMPROVED)
			explain_row(row, base, cand);
	}
}

void cm_explain_free(struct cm_cmp_result *r)
{
	for (size_t i = 0; i < r->nrows; i++) {
		for (size_t k = 0; k < r->rows[i].nwhy; k++)
			free(r->rows[i].why[k].counter);
		free(r->rows[i].why);
		r->rows[i].why = NULL;
		r->rows[i].nwhy = 0;
	}
}

void cm_explain_label(const struct cm_explain *e, char *out, size_t n)
{
	unsigned long long a, hi;
	char dir[8];
	int k = 0;
	const char *last = strrchr(e->counter, ' ');
	/* "mmio fed00000-fed003ff hpet read": a region of qemu's memory map, by its name */
	if (!strncmp(e->counter, "mmio ", 5) &&
	    sscanf(e->counter + 5, "%llx-%llx %n", &a, &hi, &k) == 2 && k > 0 &&
	    last > e->counter + 5 + k) {
		const char *name = e->counter + 5 + k;
		snprintf(out, n, "mmio %.*s (%llx-%llx) %ss", (int)(last - name), name, a, hi,
			 last + 1);
	} else if (sscanf(e->counter, "port %llx %7s", &a, dir) == 2 ||
	    sscanf(e->counter, "mmio %llx %7s", &a, dir) == 2) {
		bool port = e->counter[0] == 'p';
		snprintf(out, n, "%s 0x%llx%s%s%s %ss", port ? "port" : "mmio", a, *e->what ? " (" : "",
			 e->what, *e->what ? ")" : "", dir);
	} else if (!strncmp(e->counter, "exit ", 5)) {
		snprintf(out, n, "VM exits (%s)", e->counter + 5);
	} else if (!strcmp(e->counter, "emulated_insn")) {
		snprintf(out, n, "emulated instructions");
	} else if (!strcmp(e->counter, "page_fault")) {
		snprintf(out, n, "KVM page faults");
	} else if (!strcmp(e->counter, "qemu_cpu_ns")) {
		snprintf(out, n, "qemu CPU ns");
	} else {
		snprintf(out, n, "%s", e->counter);
	}
}

void cm_explain_text(const struct cm_cmp_row *row, char *out, size_t n)
{
	size_t len = 0;
	out[0] = 0;
	for (size_t i = 0; i < row->nwhy && len < n; i++) {
		const struct cm_explain *e = &row->why[i];
		char label[128];
		cm_explain_label(e, label, sizeof(label));
		double d = e->cand - e->base;
		if (e->exact || e->base == 0)
			len += (size_t)snprintf(out + len, n - len, "%s%s %.0f → %.0f per boot%s",
						i ? "; " : "", label, e->base, e->cand,
						e->exact ? "" : " (medians)");
		else
			len += (size_t)snprintf(out + len, n - len, "%s%s %+.0f per boot (median %.0f → %.0f)",
						i ? "; " : "", label, d, e->base, e->cand);
	}
}
