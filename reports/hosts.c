/* The host level of a comparison: which host each session ran on, the change blocked on the
 * host (stats/hosts.c), and the lines that show it: per-host changes, the between-host spread,
 * and a host that disagrees with the rest (a sick node is a common cause of a false
 * regression: the change without it is shown beside). */
#include <jansson.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "coldmark/compare.h"

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
	size_t k = cm_stats_session_medians(x->values, x->sessions, x->s.n, 2, m, NULL);
	cm_stats_session_ids(x->sessions, x->s.n, 2, ids);
	for (size_t i = 0; i < k; i++) {
		const char *host = ids[i] >= 1 && (size_t)ids[i] <= ds->nsessions
					   ? ds->sessions[ids[i] - 1].host : NULL;
		h[i] = host_index(r, host ? host : "");
	}
	free(ids);
	return k;
}

bool cm_cmp_hosts_row(const struct cm_dataset *b, const struct cm_dataset *c,
		      const struct cm_cell *x, const struct cm_cell *y, double alpha, double floor,
		      struct cm_cmp_row *row, struct cm_cmp_result *r)
{
	double *mb = cm_xmalloc((x->s.n + 1) * sizeof(double)), *mc = cm_xmalloc((y->s.n + 1) * sizeof(double));
	int *hb = cm_xmalloc((x->s.n + 1) * sizeof(int)), *hc = cm_xmalloc((y->s.n + 1) * sizeof(int));
	size_t kb = medians_hosts(b, x, r, mb, hb), kc = medians_hosts(c, y, r, mc, hc);
	bool used = false;
	if (cm_stats_compare_hosts(mb, hb, kb, mc, hc, kc, alpha, floor, &row->hosts, &row->cmp)) {
		cm_hosts_free(&row->hosts);
	} else {
		used = true;
		row->model = CM_MODEL_HOSTS;
		row->base_sessions = kb, row->cand_sessions = kc;
		row->cmp.base_median = x->s.median;
		row->cmp.cand_median = y->s.median;
	}
	free(mb), free(mc), free(hb), free(hc);
	return used;
}

static bool any_sick(const struct cm_hosts *h)
{
	for (size_t i = 0; i < h->n; i++)
		if (h->h[i].sick)
			return true;
	return false;
}

static void pct(char *out, size_t n, double v)
{
	snprintf(out, n, isnan(v) ? "—" : "%+.1f%%", v * 100);
}

/* "node-a +0.4% (2+2)", "node-c +25.3% (1+1) DISAGREES", "node-d only in the candidate" */
static void host_item(const struct cm_cmp_result *r, const struct cm_host_stat *h, FILE *f)
{
	char ch[32];
	pct(ch, sizeof(ch), h->rel);
	const char *name = *r->hosts[h->host] ? r->hosts[h->host] : "(unknown host)";
	if (!h->kb || !h->kc)
		fprintf(f, "%s only in the %s%s", name, h->kb ? "base" : "candidate",
			h->sick ? " DISAGREES" : "");
	else
		fprintf(f, "%s %s (%zu+%zu)%s", name, ch, h->kb, h->kc, h->sick ? " DISAGREES" : "");
}

void cm_cmp_hosts_write(const struct cm_cmp_result *r, FILE *f)
{
	bool header = false;
	for (size_t i = 0; i < r->nrows; i++) {
		const struct cm_cmp_row *row = &r->rows[i];
		const struct cm_hosts *h = &row->hosts;
		if (row->model != CM_MODEL_HOSTS || (strcmp(row->phase, "total") && !any_sick(h)))
			continue;
		if (!header)
			fprintf(f, "\nhosts (the level above sessions: each host's own change, "
				   "sessions on each side; DISAGREES: its change off the other hosts' "
				   "mean, t on the sessions' noise, p < %g)\n", CM_SICK_ALPHA);
		header = true;
		char sd[32];
		snprintf(sd, sizeof(sd), isnan(h->var_between) ? "—" : "%.1f%%", sqrt(h->var_between) * 100);
		fprintf(f, "  %s %s: between-host sd %s; ", row->case_id, row->phase, sd);
		for (size_t j = 0; j < h->n; j++) {
			fprintf(f, "%s", j ? ", " : "");
			host_item(r, &h->h[j], f);
		}
		fprintf(f, "\n");
		if (!isnan(h->rel_healthy)) {
			char a[32], lo[32], hi[32];
			pct(a, sizeof(a), h->rel_healthy), pct(lo, sizeof(lo), h->lo_healthy);
			pct(hi, sizeof(hi), h->hi_healthy);
			fprintf(f, "    without the hosts that disagree: %s [%s, %s] (check them: "
				   "coldmark host check)\n", a, lo, hi);
		}
	}
}

void *cm_cmp_hosts_json(const struct cm_cmp_result *r, const struct cm_cmp_row *row)
{
	if (row->model != CM_MODEL_HOSTS)
		return NULL;
	const struct cm_hosts *h = &row->hosts;
	json_t *per = json_array();
	for (size_t j = 0; j < h->n; j++) {
		const struct cm_host_stat *s = &h->h[j];
		json_array_append_new(per, json_pack("{s:s, s:i, s:i, s:o, s:b}", "host",
						     r->hosts[s->host], "base_sessions", (int)s->kb,
						     "cand_sessions", (int)s->kc, "change",
						     isfinite(s->rel) ? json_real(s->rel) : json_null(),
						     "disagrees", s->sick));
	}
	return json_pack("{s:i, s:o, s:b, s:o, s:o}", "shared", (int)h->shared, "var_between",
			 isfinite(h->var_between) ? json_real(h->var_between) : json_null(),
			 "p_exact", h->exact, "per_host", per, "change_without_disagreeing",
			 isfinite(h->rel_healthy) ? json_pack("{s:f, s:f, s:f}", "change", h->rel_healthy,
							      "ci_lo", h->lo_healthy, "ci_hi", h->hi_healthy)
						  : json_null());
}
