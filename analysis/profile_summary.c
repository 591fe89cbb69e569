/* "Where the time went" (issue 28): per case and phase the median per-boot count of each
 * profile counter that is not zero, largest first, with what it is. */
#include <stdlib.h>
#include <string.h>

#include "coldmark/analysis.h"
#include "coldmark/profile.h"

static size_t first_seen(char ***seen, size_t *n, const char *s)
{
	for (size_t i = 0; i < *n; i++)
		if (!strcmp((*seen)[i], s))
			return i;
	*seen = cm_xrealloc(*seen, (*n + 1) * sizeof(char *));
	(*seen)[*n] = (char *)s;
	return (*n)++;
}

static int by_place(const void *a, const void *b)
{
	const struct cm_prof_line *x = a, *y = b;
	if (x->case_rank != y->case_rank)
		return x->case_rank < y->case_rank ? -1 : 1;
	if (x->phase_rank != y->phase_rank)
		return x->phase_rank < y->phase_rank ? -1 : 1;
	return (x->median < y->median) - (x->median > y->median);
}

void cm_prof_summary_build(const struct cm_profile_data *d, struct cm_prof_summary *s)
{
	memset(s, 0, sizeof(*s));
	char **cases = NULL, **phases = NULL;
	size_t ncases = 0, nphases = 0;
	for (size_t i = 0; i < d->n; i++) {
		first_seen(&cases, &ncases, d->rows[i].case_id);
		first_seen(&phases, &nphases, d->rows[i].phase);
	}
	for (size_t c = 0; c < ncases; c++)
		for (size_t p = 0; p < nphases; p++) {
			char **names;
			size_t nn = cm_profile_counters(d, cases[c], phases[p], &names);
			for (size_t k = 0; k < nn; k++) {
				double *v;
				size_t nb = cm_profile_counts(d, cases[c], phases[p], names[k], &v);
				qsort(v, nb, sizeof(double), cm_cmp_double);
				double med = nb ? cm_stats_quantile_sorted(v, nb, 0.5) : 0;
				free(v);
				if (med <= 0)
					continue;
				s->v = cm_xrealloc(s->v, (s->n + 1) * sizeof(*s->v));
				s->v[s->n++] = (struct cm_prof_line){
					.case_id = cases[c], .phase = phases[p], .counter = names[k],
					.what = cm_prof_counter_what(names[k]), .median = med,
					.nboots = nb, .case_rank = c, .phase_rank = p,
				};
			}
			free(names);
		}
	if (s->n)
		qsort(s->v, s->n, sizeof(*s->v), by_place);
	free(cases);
	free(phases);
}

void cm_prof_summary_free(struct cm_prof_summary *s)
{
	free(s->v);
	memset(s, 0, sizeof(*s));
}
