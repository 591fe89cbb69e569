/* report.html's phase breakdown: per case the chain of consecutive phases stacked, the other
 * phases apart (issue 30, item 5). */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "frags.h"
#include "html.h"

#define esc cm_html_esc
#define palette cm_html_palette

/* The phases' markers from the run header ("firmware: exec -> real_mode, ..."): from[p], to[p]
 * (NULL when the header does not say). */
static void phase_markers(const struct cm_dataset *ds, char **from, char **to)
{
	const char *h = cm_dataset_get_meta(ds, CM_HDR(PHASES));
	for (size_t p = 0; p < ds->nphases; p++) {
		from[p] = to[p] = NULL;
		size_t n = strlen(ds->phases[p]);
		for (const char *q = h; q && (q = strstr(q, ds->phases[p])); q++) {
			if ((q != h && q[-1] != ' ') || strncmp(q + n, ": ", 2))
				continue;
			const char *fr = q + n + 2, *arrow = strstr(fr, " -> ");
			if (!arrow)
				break;
			const char *end = arrow + 4 + strcspn(arrow + 4, ",");
			from[p] = cm_xasprintf("%.*s", (int)(arrow - fr), fr);
			to[p] = cm_xasprintf("%.*s", (int)(end - arrow - 4), arrow + 4);
			break;
		}
	}
}

/* The longest chain of consecutive phases (one's "to" the next's "from"): chain[0..n). */
static size_t phase_chain(const struct cm_dataset *ds, char **from, char **to, size_t *chain)
{
	size_t best = 0, *cur = cm_xmalloc((ds->nphases + 1) * sizeof(size_t));
	for (size_t p0 = 0; p0 < ds->nphases; p0++) {
		if (!from[p0] || !strcmp(ds->phases[p0], "total") || cm_is_metric(ds->phases[p0]))
			continue;
		size_t n = 0, p = p0;
		while (p < ds->nphases && n < ds->nphases) {
			cur[n++] = p;
			size_t next = ds->nphases;
			for (size_t q = 0; q < ds->nphases && next == ds->nphases; q++)
				if (from[q] && !strcmp(from[q], to[p]) && strcmp(ds->phases[q], "total"))
					next = q;
			p = next;
		}
		if (n > best) {
			best = n;
			memcpy(chain, cur, n * sizeof(size_t));
		}
	}
	free(cur);
	return best;
}

/* Where a phase starts along the chain: after the chain phase that ends at its "from". */
static double chain_offset(const struct cm_report *r, size_t c, const size_t *chain, size_t nch,
			   char **from, char **to, size_t p)
{
	double x = 0;
	for (size_t i = 0; i < nch && from[p]; i++) {
		if (!strcmp(from[chain[i]], from[p]))
			return x;
		double m = cm_report_cell(r, c, chain[i])->s.median;
		x += isfinite(m) ? m : 0;
	}
	return 0;
}

static void bar(FILE *f, const struct cm_dataset *ds, size_t p, double x, double y, double w,
		double h, bool apart, double m)
{
	char lab[32];
	cm_format_ns(m, lab, sizeof(lab));
	fprintf(f, "<rect class=\"%s\" x=\"%.1f\" y=\"%.1f\" width=\"%.1f\" height=\"%.0f\" "
		   "fill=\"%s\"%s><title>",
		apart ? "apart" : "stacked", x, y, w, h, palette[p % 10],
		apart ? " opacity=\"0.7\"" : "");
	esc(f, ds->phases[p]);
	fprintf(f, ": %s</title></rect>\n", lab);
}

/* Case c's bars, at row y. */
struct bars_at {
	const size_t *chain;
	size_t nch;
	char **from, **to;
	const bool *in_chain, *shown;
	double scale, y;
	int rowh;
};

static void bars(const struct cm_report *r, size_t c, size_t unused, const void *arg, FILE *f)
{
	(void)unused;
	const struct bars_at *at = arg;
	const struct cm_dataset *ds = r->ds;
	double y = at->y, x = LEFT, scale = at->scale;
	fprintf(f, "<text class=\"case\" x=\"%d\" y=\"%.1f\" font-size=\"11\" "
		   "text-anchor=\"end\">", LEFT - 8, y + 12);
	esc(f, ds->cases[c].id);
	fputs("</text>\n", f);
	for (size_t i = 0; i < at->nch; i++) {
		double m = cm_report_cell(r, c, at->chain[i])->s.median;
		if (!isfinite(m))
			continue;
		bar(f, ds, at->chain[i], x, y, m * scale, 14, false, m);
		x += m * scale;
	}
	double ya = y + 17;
	for (size_t p = 0; p < ds->nphases; p++) {
		double m = cm_report_cell(r, c, p)->s.median;
		if (!at->shown[p] || at->in_chain[p])
			continue;
		if (isfinite(m))
			bar(f, ds, p, LEFT + chain_offset(r, c, at->chain, at->nch, at->from, at->to, p) * scale,
			    ya, m * scale, 5, true, m);
		ya += 8;
	}
}

/* Per case a stacked bar of the chain of consecutive phases (they add up: from -> to -> to),
 * and under it every other phase apart, starting where its first marker lies on the chain.
 * Overlapping phases stacked made bars twice the boot. */
void cm_html_breakdown(const struct cm_report *r, FILE *f)
{
	const struct cm_dataset *ds = r->ds;
	char **from = cm_xcalloc(ds->nphases + 1, sizeof(char *)),
	     **to = cm_xcalloc(ds->nphases + 1, sizeof(char *));
	size_t *chain = cm_xcalloc(ds->nphases + 1, sizeof(size_t));
	phase_markers(ds, from, to);
	size_t nch = phase_chain(ds, from, to, chain), napart = 0;
	bool *in_chain = cm_xcalloc(ds->nphases + 1, sizeof(bool)),
	     *shown = cm_xcalloc(ds->nphases + 1, sizeof(bool));
	for (size_t i = 0; i < nch; i++)
		in_chain[chain[i]] = shown[chain[i]] = true;
	for (size_t p = 0; p < ds->nphases; p++)
		if (!in_chain[p] && strcmp(ds->phases[p], "total") && !cm_is_metric(ds->phases[p]))
			shown[p] = true, napart++;
	double maxx = 0;
	for (size_t c = 0; c < ds->ncases; c++) {
		double sum = 0;
		for (size_t i = 0; i < nch; i++) {
			double m = cm_report_cell(r, c, chain[i])->s.median;
			sum += isfinite(m) ? m : 0;
		}
		maxx = fmax(maxx, sum);
		for (size_t p = 0; p < ds->nphases; p++) {
			double m = cm_report_cell(r, c, p)->s.median;
			if (shown[p] && !in_chain[p] && isfinite(m))
				maxx = fmax(maxx, m + chain_offset(r, c, chain, nch, from, to, p));
		}
	}
	if (maxx > 0) {
		bool *drawn = cm_xcalloc(ds->ncases + 1, sizeof(bool));
		size_t nrows = 0; /* the cases with a bar: a reference case reports total alone */
		for (size_t c = 0; c < ds->ncases; c++) {
			for (size_t p = 0; p < ds->nphases; p++)
				drawn[c] |= shown[p] && isfinite(cm_report_cell(r, c, p)->s.median);
			nrows += drawn[c];
		}
		int rowh = 20 + 8 * (int)napart, h = (int)nrows * rowh + 40;
		double scale = (W - LEFT - 20) / maxx;
		fputs("<h2>Phase breakdown (medians)</h2>\n<p>Stacked: the chain of consecutive "
		      "phases, each starting where the one before ends; thin bars under it: the "
		      "other phases, apart, from where their first marker lies.</p>\n", f);
		fprintf(f, "<svg class=\"plot breakdown\" viewBox=\"0 0 %d %d\" width=\"%d\" "
			   "height=\"%d\" role=\"img\">\n", W, h, W, h);
		struct bars_at at = { chain, nch, from, to, in_chain, shown, scale, 0, rowh };
		for (size_t c = 0, row = 0; c < ds->ncases; c++) {
			if (!drawn[c])
				continue;
			at.y = 10 + (double)row++ * rowh;
			double key[] = { scale, at.y, rowh, (double)nch };
			cm_frag(r, CM_FRAG_HTML_BAR, 0, c, 0, key, 4, bars, &at, f);
		}
		double lx = LEFT; /* the legend: the bars drawn, nothing else */
		for (size_t p = 0; p < ds->nphases; p++) {
			if (!shown[p])
				continue;
			fprintf(f, "<rect x=\"%.1f\" y=\"%d\" width=\"10\" height=\"%d\" fill=\"%s\"/>"
				   "<text class=\"legend\" x=\"%.1f\" y=\"%d\" font-size=\"11\">",
				lx, h - 18, in_chain[p] ? 10 : 5, palette[p % 10], lx + 14, h - 9);
			esc(f, ds->phases[p]);
			fputs(in_chain[p] ? "" : " (apart)", f);
			fputs("</text>\n", f);
			lx += 30 + 7 * (strlen(ds->phases[p]) + (in_chain[p] ? 0 : 8));
		}
		fputs("</svg>\n", f);
		free(drawn);
	}
	for (size_t p = 0; p < ds->nphases; p++)
		free(from[p]), free(to[p]);
	free(from), free(to), free(chain), free(in_chain), free(shown);
}

