/* Sweep effects: does boot time move with one axis of the matrix? Jonckheere-Terpstra across
 * the ordered values of a numeric axis, Kruskal-Wallis across an unordered one (Mann-Whitney,
 * exact when it can be, for two values), the other axes held fixed (one test per slice, so that an accelerator
 * axis does not masquerade as a memory effect), Holm-adjusted over every test of the report. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "coldmark/analysis.h"

char *cm_case_held_fixed(const struct cm_dataset *ds, size_t c, size_t a)
{
	struct cm_buf b = { 0 };
	for (size_t x = 0; x < ds->naxes; x++)
		if (x != a)
			cm_buf_printf(&b, "%s%s=%s", b.len ? "," : "", ds->axes[x],
				      ds->cases[c].labels[x]);
	return b.s ? cm_buf_steal(&b) : cm_xstrdup("");
}

int cm_report_sweeps(const struct cm_report *r, struct cm_sweep **out, size_t *nout)
{
	const struct cm_dataset *ds = r->ds;
	struct cm_sweep *v = NULL;
	size_t n = 0;
	size_t *members = cm_xmalloc((ds->ncases ? ds->ncases : 1) * sizeof(size_t));
	const double **groups = cm_xmalloc((ds->ncases ? ds->ncases : 1) * sizeof(double *));
	size_t *sizes = cm_xmalloc((ds->ncases ? ds->ncases : 1) * sizeof(size_t));
	char **held = cm_xcalloc(ds->ncases ? ds->ncases : 1, sizeof(char *));
	bool *numeric = cm_xcalloc(ds->naxes + 1, sizeof(bool));
	for (size_t a = 0; a < ds->naxes; a++) {
		numeric[a] = true; /* every label a number or a size: a numeric axis, ordered */
		for (size_t c = 0; c < ds->ncases; c++) {
			double v;
			numeric[a] &= !*ds->cases[c].labels[a] || cm_label_value(ds->cases[c].labels[a], &v);
		}
	}
	/* reference cases stand apart from the sweeps: a case without a value on any axis */
	bool *swept = cm_xcalloc(ds->ncases + 1, sizeof(bool));
	for (size_t c = 0; c < ds->ncases; c++)
		swept[c] = !cm_is_reference_case(ds->cases[c].id);
	for (size_t a = 0; a < ds->naxes; a++) {
		for (size_t c = 0; c < ds->ncases; c++)
			held[c] = cm_case_held_fixed(ds, c, a);
		for (size_t c0 = 0; c0 < ds->ncases; c0++) {
			/* a slice: the cases sharing c0's other values, c0 being its first */
			bool first = *ds->cases[c0].labels[a] != 0 && swept[c0];
			for (size_t c = 0; c < c0 && first; c++)
				first = strcmp(held[c], held[c0]) || !*ds->cases[c].labels[a] || !swept[c];
			if (!first)
				continue;
			size_t k = 0;
			for (size_t c = c0; c < ds->ncases; c++)
				if (!strcmp(held[c], held[c0]) && *ds->cases[c].labels[a] && swept[c])
					members[k++] = c;
			if (k < 2)
				continue; /* the axis does not vary here */
			for (size_t p = 0; p < ds->nphases; p++) {
				size_t g = 0, lo = 0, hi = 0;
				for (size_t i = 0; i < k; i++) {
					const struct cm_cell *cell = cm_report_cell(r, members[i], p);
					if (cell->s.n < 2)
						continue;
					if (!g || cell->s.median < cm_report_cell(r, lo, p)->s.median)
						lo = members[i];
					if (!g || cell->s.median > cm_report_cell(r, hi, p)->s.median)
						hi = members[i];
					groups[g] = cell->values;
					sizes[g++] = cell->s.n;
				}
				v = cm_xrealloc(v, (n + 1) * sizeof(*v));
				struct cm_sweep *s = &v[n++];
				*s = (struct cm_sweep){ .axis = a, .phase = p, .held = cm_xstrdup(held[c0]),
							.ngroups = g, .p = NAN, .p_adj = NAN,
							.ratio = NAN, .fastest = lo, .slowest = hi };
				if (g < 2)
					continue; /* too few boots to say: shown as such */
				/* two values: Kruskal-Wallis is the Mann-Whitney test, whose exact
				 * distribution (6 boots a side: p down to 0.0022, where the chi-square
				 * approximation stops at 0.0039) survives a Holm family of ~20 */
				struct cm_mwu u;
				if (g == 2 && !cm_stats_mann_whitney(groups[0], sizes[0], groups[1],
								      sizes[1], &u))
					s->p = u.p;
				else if ((s->ordered = numeric[a])) /* the order of the levels counts */
					s->p = cm_stats_jonckheere(groups, sizes, g, NULL);
				else
					s->p = cm_stats_kruskal_wallis(groups, sizes, g);
				double fast = cm_report_cell(r, lo, p)->s.median;
				s->ratio = fast > 0 ? cm_report_cell(r, hi, p)->s.median / fast : NAN;
			}
		}
		for (size_t c = 0; c < ds->ncases; c++)
			free(held[c]);
	}
	double *p = cm_xmalloc((n ? n : 1) * sizeof(double)), *adj = cm_xmalloc((n ? n : 1) * sizeof(double));
	for (size_t i = 0; i < n; i++)
		p[i] = v[i].p;
	cm_stats_holm(p, n, adj);
	for (size_t i = 0; i < n; i++)
		v[i].p_adj = adj[i];
	free(p), free(adj), free(held), free(sizes), free(groups), free(members), free(numeric), free(swept);
	*out = v;
	*nout = n;
	return 0;
}

const char *cm_sweep_ratio(const struct cm_sweep *s, char *out, size_t n)
{
	/* 3 significant digits, but never "1.86e+03" in a table */
	snprintf(out, n, s->ratio >= 1000 ? "×%.0f" : "×%.3g", s->ratio);
	return out;
}

void cm_sweeps_free(struct cm_sweep *s, size_t n)
{
	for (size_t i = 0; i < n; i++)
		free(s[i].held);
	free(s);
}
