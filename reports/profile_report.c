/* "Where the time went" (issue 28) in report.md, report.json and report.html: per case and
 * phase the median per-boot count of each non-zero profile counter, largest first. */
#include <jansson.h>
#include <stdio.h>
#include <string.h>

#include "coldmark/report.h"

#include "html.h"

void cm_profile_md(const struct cm_report *r, FILE *f)
{
	if (!r->profile)
		return;
	fputs("\n## Where the time went (run --profile)\n\n"
	      "What the guest made KVM do, per case and phase: the median count per boot of each "
	      "counter that is not zero, largest first. Cases under TCG: not measurable with "
	      "debugcon.\n\n| case | phase | counter | what | median per boot | boots |\n"
	      "|---|---|---|---|--:|--:|\n", f);
	for (size_t i = 0; i < r->profile->n; i++) {
		const struct cm_prof_line *l = &r->profile->v[i];
		fprintf(f, "| %s | %s | %s | %s | %.0f | %zu |\n", l->case_id, l->phase, l->counter,
			l->what, l->median, l->nboots);
	}
}

void *cm_profile_json(const struct cm_report *r)
{
	if (!r->profile)
		return NULL;
	json_t *a = json_array();
	for (size_t i = 0; i < r->profile->n; i++) {
		const struct cm_prof_line *l = &r->profile->v[i];
		json_array_append_new(a, json_pack("{s:s, s:s, s:s, s:s, s:f, s:i}", "case",
						   l->case_id, "phase", l->phase, "counter",
						   l->counter, "what", l->what, "median_per_boot",
						   l->median, "boots", (int)l->nboots));
	}
	return a;
}

void cm_profile_html(const struct cm_report *r, FILE *f)
{
	if (!r->profile)
		return;
	fputs("<section class=\"profile\"><h2>Where the time went (run --profile)</h2>\n"
	      "<table><tr><th>case</th><th>phase</th><th>counter</th><th>what</th>"
	      "<th>median per boot</th><th>boots</th></tr>\n", f);
	for (size_t i = 0; i < r->profile->n; i++) {
		const struct cm_prof_line *l = &r->profile->v[i];
		const char *cells[] = { l->case_id, l->phase, l->counter, l->what };
		fputs("<tr>", f);
		for (size_t k = 0; k < 4; k++) {
			fputs("<td>", f);
			cm_html_esc(f, cells[k]);
			fputs("</td>", f);
		}
		fprintf(f, "<td>%.0f</td><td>%zu</td></tr>\n", l->median, l->nboots);
	}
	fputs("</table></section>\n", f);
}
