/* The host level's lines under a comparison: per-host changes, the between-host spread, and a
 * host that disagrees with the rest (the change without it beside). */
#include <jansson.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "coldmark/report.h"

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

/* "node-a +0.4% (2+2)", "node-c +25.3% (4+4) DISAGREES", "node-d only in the candidate",
 * "node-b +9.0% (1+2) not judged" (where others are: its sessions too few to judge it) */
static void host_item(const struct cm_cmp_result *r, const struct cm_hosts *all,
		      const struct cm_host_stat *h, FILE *f)
{
	bool some = false;
	for (size_t i = 0; i < all->n; i++)
		some |= all->h[i].judged;
	char ch[32];
	pct(ch, sizeof(ch), h->rel);
	const char *name = *r->hosts[h->host] ? r->hosts[h->host] : "(unknown host)";
	if (!h->kb || !h->kc)
		fprintf(f, "%s only in the %s%s", name, h->kb ? "base" : "candidate",
			h->sick ? " DISAGREES" : "");
	else
		fprintf(f, "%s %s (%zu+%zu)%s", name, ch, h->kb, h->kc,
			h->sick ? " DISAGREES" : some && !h->judged ? " not judged" : "");
}

void cm_cmp_hosts_write(const struct cm_cmp_result *r, FILE *f)
{
	bool header = false;
	for (size_t i = 0; i < r->nrows; i++) {
		const struct cm_cmp_row *row = &r->rows[i];
		const struct cm_hosts *h = &row->hosts;
		if (!(cm_cmp_models[row->model].flags & CM_MODEL_PER_HOST) || (strcmp(row->phase, "total") && !any_sick(h)))
			continue;
		if (!header)
			fprintf(f, "\nhosts (the level above sessions: each host's own change, "
				   "sessions on each side; DISAGREES: its change off the other hosts' "
				   "mean, t on the sessions' noise, at Sidak's level over the hosts: any "
				   "healthy host flagged in <= %g%% of fleets)\n", CM_SICK_ALPHA * 100);
		header = true;
		char sd[32];
		snprintf(sd, sizeof(sd), isnan(h->var_between) ? "—" : "%.1f%%", sqrt(h->var_between) * 100);
		fprintf(f, "  %s %s: between-host sd %s; ", row->case_id, row->phase, sd);
		for (size_t j = 0; j < h->n; j++) {
			fprintf(f, "%s", j ? ", " : "");
			host_item(r, h, &h->h[j], f);
		}
		fprintf(f, "\n");
		char design[256];
		cm_cmp_hosts_design(row, design, sizeof(design));
		if (*design)
			fprintf(f, "    %s\n", design);
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
	if (!(cm_cmp_models[row->model].flags & CM_MODEL_PER_HOST))
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
	char design[256];
	cm_cmp_hosts_design(row, design, sizeof(design));
	return json_pack("{s:i, s:o, s:o, s:b, s:o, s:o}", "shared", (int)h->shared,
			 "flag_design_too_small", *design ? json_pack("{s:s, s:i}", "why", design,
			 "needs_sessions", (int)h->needs) : json_null(), "var_between",
			 isfinite(h->var_between) ? json_real(h->var_between) : json_null(),
			 "p_exact", h->exact, "per_host", per, "change_without_disagreeing",
			 isfinite(h->rel_healthy) ? json_pack("{s:f, s:f, s:f}", "change", h->rel_healthy,
							      "ci_lo", h->lo_healthy, "ci_hi", h->hi_healthy)
						  : json_null());
}
