/* A run in waves (issue 29) in report.md, report.json and report.html: per level (K at a
 * time) the waves' makespan, launches per second and cost to the host, every boot's phases
 * (median, p90, p99), and the density sweep's "+x ms of total per added VM". */
#include <jansson.h>
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "coldmark/report.h"

#include "html.h"

static const char *level_name(const struct cm_report *r, const struct cm_wave_level *l)
{
	return l->case_idx == SIZE_MAX ? "cases mixed" : r->ds->cases[l->case_idx].id;
}

/* A value for people, "—" when unknown. */
static const char *val(const char *phase, double v, char *out, size_t n)
{
	if (isnan(v))
		snprintf(out, n, "—");
	else
		cm_format_value(phase, v, out, n);
	return out;
}

static void per_vm(const struct cm_report *r, FILE *f, bool html)
{
	const struct cm_trend *t = r->waves->per_vm;
	if (!t)
		return;
	fputs(html ? "<p>The density sweep: " : "\nThe density sweep: ", f);
	cm_print_slope_ci("total", &t->slope, "added VM", f);
	fprintf(f, " of total (Theil–Sen over the concurrency levels, a point per wave: its boots' "
		   "median, its %.0f%% CI%s)%s\n",
		(1 - r->alpha) * 100, *t->held ? "; the first slice" : "",
		html ? "; plotted under the slopes.</p>" : "; the slopes above plot it.");
}

void cm_waves_md(const struct cm_report *r, FILE *f)
{
	const struct cm_wave_summary *w = r->waves;
	if (!w || !w->n)
		return;
	fputs("\n## Boots at once (waves)\n\nPer level, K at a time: a wave's makespan (its first "
	      "exec to its last end marker), launches per second (its boots over the waves' summed "
	      "makespans), and what a wave cost the host (qemu CPU time and peak RSS summed over "
	      "its boots; medians over the waves). Warm-ups apart.\n\n"
	      "| level | K at a time | waves | makespan median | makespan p90 | launches/s | "
	      "qemu CPU per wave | peak RSS per wave |\n|---|--:|--:|--:|--:|--:|--:|--:|\n", f);
	char a[32], b[32], c[32], d[32];
	for (size_t i = 0; i < w->n; i++) {
		const struct cm_wave_level *l = &w->v[i];
		fprintf(f, "| %s | %zu | %zu | %s | %s | ", level_name(r, l), l->k, l->nwaves,
			val("total", l->makespan_median, a, sizeof(a)),
			val("total", l->makespan_p90, b, sizeof(b)));
		if (isnan(l->launches_per_s))
			fputs("— | ", f);
		else
			fprintf(f, "%.3g | ", l->launches_per_s);
		fprintf(f, "%s | %s |\n", val(CM_METRIC_CPU, l->cpu_per_wave, c, sizeof(c)),
			val(CM_METRIC_MAXRSS, l->rss_per_wave, d, sizeof(d)));
	}
	per_vm(r, f, false);
	fputs("\nEvery boot's phases per level, K at a time:\n\n| level | K | case | phase | boots "
	      "| median | p90 | p99 |\n|---|--:|---|---|--:|--:|--:|--:|\n", f);
	for (size_t i = 0; i < w->n; i++)
		for (size_t k = 0; k < w->v[i].nphases; k++) {
			const struct cm_wave_phase *p = &w->v[i].phases[k];
			const char *ph = r->ds->phases[p->phase_idx];
			fprintf(f, "| %s | %zu | %s | %s | %zu | %s | %s | %s |\n",
				level_name(r, &w->v[i]), w->v[i].k, r->ds->cases[p->case_idx].id, ph,
				p->n, val(ph, p->median, a, sizeof(a)), val(ph, p->p90, b, sizeof(b)),
				val(ph, p->p99, c, sizeof(c)));
		}
}

static json_t *num(double v)
{
	return isnan(v) ? json_null() : json_real(v);
}

void *cm_waves_json(const struct cm_report *r)
{
	const struct cm_wave_summary *w = r->waves;
	if (!w || !w->n)
		return NULL;
	json_t *levels = json_array();
	for (size_t i = 0; i < w->n; i++) {
		const struct cm_wave_level *l = &w->v[i];
		json_t *ph = json_array();
		for (size_t k = 0; k < l->nphases; k++) {
			const struct cm_wave_phase *p = &l->phases[k];
			json_array_append_new(ph, json_pack("{s:s, s:s, s:I, s:o, s:o, s:o}", "case",
							    r->ds->cases[p->case_idx].id, "phase",
							    r->ds->phases[p->phase_idx], "boots",
							    (json_int_t)p->n, "median", num(p->median),
							    "p90", num(p->p90), "p99", num(p->p99)));
		}
		json_array_append_new(levels, json_pack(
			"{s:o, s:I, s:I, s:I, s:o, s:o, s:o, s:o, s:o, s:o}", "case",
			l->case_idx == SIZE_MAX ? json_null() : json_string(r->ds->cases[l->case_idx].id),
			"at_a_time", (json_int_t)l->k, "waves", (json_int_t)l->nwaves, "boots",
			(json_int_t)l->nboots, "makespan_median_ns", num(l->makespan_median),
			"makespan_p90_ns", num(l->makespan_p90), "launches_per_s", num(l->launches_per_s),
			"qemu_cpu_per_wave_ns", num(l->cpu_per_wave), "qemu_maxrss_per_wave_bytes",
			num(l->rss_per_wave), "phases", ph));
	}
	json_t *o = json_pack("{s:o}", "levels", levels);
	if (w->per_vm)
		json_object_set_new(o, "total_per_added_vm_ns",
				    json_pack("{s:o, s:o, s:o}", "slope", num(w->per_vm->slope.slope),
					      "lo", num(w->per_vm->slope.lo), "hi",
					      num(w->per_vm->slope.hi)));
	return o;
}

void cm_waves_html(const struct cm_report *r, FILE *f)
{
	const struct cm_wave_summary *w = r->waves;
	if (!w || !w->n)
		return;
	fputs("<section class=\"waves\"><h2>Boots at once (waves)</h2>\n<table><tr><th>level</th>"
	      "<th>K at a time</th><th>waves</th><th>makespan median</th><th>makespan p90</th>"
	      "<th>launches/s</th><th>qemu CPU per wave</th><th>peak RSS per wave</th></tr>\n", f);
	char a[32], b[32], c[32], d[32];
	for (size_t i = 0; i < w->n; i++) {
		const struct cm_wave_level *l = &w->v[i];
		fputs("<tr><td>", f);
		cm_html_esc(f, level_name(r, l));
		fprintf(f, "</td><td>%zu</td><td>%zu</td><td>%s</td><td>%s</td>", l->k, l->nwaves,
			val("total", l->makespan_median, a, sizeof(a)),
			val("total", l->makespan_p90, b, sizeof(b)));
		if (isnan(l->launches_per_s))
			fputs("<td>—</td>", f);
		else
			fprintf(f, "<td>%.3g</td>", l->launches_per_s);
		fprintf(f, "<td>%s</td><td>%s</td></tr>\n",
			val(CM_METRIC_CPU, l->cpu_per_wave, c, sizeof(c)),
			val(CM_METRIC_MAXRSS, l->rss_per_wave, d, sizeof(d)));
	}
	fputs("</table>\n", f);
	per_vm(r, f, true);
	fputs("<table><tr><th>level</th><th>K</th><th>case</th><th>phase</th><th>boots</th>"
	      "<th>median</th><th>p90</th><th>p99</th></tr>\n", f);
	for (size_t i = 0; i < w->n; i++)
		for (size_t k = 0; k < w->v[i].nphases; k++) {
			const struct cm_wave_phase *p = &w->v[i].phases[k];
			const char *ph = r->ds->phases[p->phase_idx];
			fputs("<tr><td>", f);
			cm_html_esc(f, level_name(r, &w->v[i]));
			fprintf(f, "</td><td>%zu</td><td>", w->v[i].k);
			cm_html_esc(f, r->ds->cases[p->case_idx].id);
			fputs("</td><td>", f);
			cm_html_esc(f, ph);
			fprintf(f, "</td><td>%zu</td><td>%s</td><td>%s</td><td>%s</td></tr>\n", p->n,
				val(ph, p->median, a, sizeof(a)), val(ph, p->p90, b, sizeof(b)),
				val(ph, p->p99, c, sizeof(c)));
		}
	fputs("</table></section>\n", f);
}
