/* The host level of a comparison: which host each session ran on, the change blocked on the
 * host (stats/hosts.c), and the lines that show it: per-host changes, the between-host spread,
 * and a host that disagrees with the rest (a sick node is a common cause of a false
 * regression: the change without it is shown beside). */
#include <jansson.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "coldmark/analysis.h"

/* The index of host name in r->hosts, added when new. */
static int host_index(struct cm_cmp_result *r, const char *name)
{
	for (size_t i = 0; i < r->nhosts; i++)
		if (!strcmp(r->hosts[i], name))
			return (int)i;
	r->hosts = cm_xrealloc(r->hosts, (r->nhosts + 1) * sizeof(char *));
	r->hosts[r->nhosts] = cm_xstrdup(name);
	return (int)r->nhosts++;
}

/* The session medians (ln) of a cell and the host of each. */
static size_t medians_hosts(const struct cm_dataset *ds, const struct cm_cell *x,
			    struct cm_cmp_result *r, double *m, int *h)
{
	int *ids = cm_xmalloc((x->s.n + 1) * sizeof(int));
	size_t k = cm_cell_session_medians(x, 2, m, ids);
	for (size_t i = 0; i < k; i++) {
		const char *host = ids[i] >= 1 && (size_t)ids[i] <= ds->nsessions
					   ? ds->sessions[ids[i] - 1].host : NULL;
		h[i] = host_index(r, host ? host : "");
	}
	free(ids);
	return k;
}

bool cm_cmp_fit_hosts(const struct cm_cmp_fit *a, struct cm_cmp_row *row)
{
	const struct cm_cell *x = a->x, *y = a->y;
	struct cm_cmp_result *r = a->r;
	double *mb = cm_xmalloc((x->s.n + 1) * sizeof(double)), *mc = cm_xmalloc((y->s.n + 1) * sizeof(double));
	int *hb = cm_xmalloc((x->s.n + 1) * sizeof(int)), *hc = cm_xmalloc((y->s.n + 1) * sizeof(int));
	size_t kb = medians_hosts(a->b, x, r, mb, hb), kc = medians_hosts(a->c, y, r, mc, hc);
	bool used = false;
	if (cm_stats_compare_hosts(mb, hb, kb, mc, hc, kc, a->alpha, a->floor, &row->hosts,
				   &row->cmp)) {
		cm_hosts_free(&row->hosts);
	} else {
		used = true;
		row->base_sessions = kb, row->cand_sessions = kc;
		row->cmp.base_median = x->s.median;
		row->cmp.cand_median = y->s.median;
	}
	free(mb), free(mc), free(hb), free(hc);
	return used;
}

void cm_cmp_label_hosts(const struct cm_cmp_row *row, char *out, size_t n)
{
	snprintf(out, n, "hosts %zu: %zu+%zu", row->hosts.shared, row->base_sessions,
		 row->cand_sessions);
}

void cm_cmp_hosts_design(const struct cm_cmp_row *row, char *out, size_t n)
{
	const struct cm_hosts *h = &row->hosts;
	*out = 0;
	if (!h->needs)
		return;
	if (isnan(h->session_sd)) {
		snprintf(out, n, "design too small to flag a %+.0f%% host: needs 2+2 sessions a host at "
			 "least (one session a side does not measure the sessions' noise)",
			 CM_SICK_SIZE * 100);
		return;
	}
	char need[48];
	if (h->needs > CM_SICK_MAX_K)
		snprintf(need, sizeof(need), "more than %d+%d", CM_SICK_MAX_K, CM_SICK_MAX_K);
	else
		snprintf(need, sizeof(need), "%zu+%zu", h->needs, h->needs);
	snprintf(out, n, "design too small to flag a %+.0f%% host: needs %s sessions a host (%zu "
		 "hosts, session sd %.1f%%; to flag it %.0f%% of the time)", CM_SICK_SIZE * 100, need,
		 h->shared, h->session_sd * 100, CM_SICK_POWER * 100);
}
