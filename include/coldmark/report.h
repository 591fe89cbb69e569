/* The writers: one per report format (summary.csv, Markdown, JSON, HTML, terminal), the
 * comparison's and the history's. Only cli/ uses them. */
#ifndef COLDMARK_REPORT_H
#define COLDMARK_REPORT_H

#include <stdbool.h>
#include <stdio.h>

#include "coldmark/analysis.h"

/* One report format: its --format name, its file in the output folder, its writer. */
struct cm_writer {
	const char *name, *file;
	void (*write)(const struct cm_report *r, FILE *f);
};
extern const struct cm_writer cm_writers[];
extern const size_t cm_nwriters;
/* 0 when every name of the comma list is a writer's; else a usage error naming the unknown
 * one and the known ones in err. */
int cm_report_check_formats(const char *formats, struct cm_error *err);
/* "summary.csv,report.md": the files the formats write (for "reports:" lines). */
char *cm_report_files(const char *formats);

/* The writers. formats: comma list of csv, md, json, html (unknown names: CM_EUSAGE). Writes samples.csv too when
 * with_samples. */
int cm_report_write(const struct cm_report *r, const char *outdir, const char *formats,
		    bool with_samples, struct cm_diags *d);
/* A run's reports rewritten as its cases complete (r: zeroed before the first call, then the
 * same report each time): the report brought up to ds (cm_report_live_update) and written as
 * cm_report_write does, byte for byte, with each case's pieces of text formatted only when
 * the case changed (or a unit, a plot's scale or row it is drawn at did) and concatenated
 * otherwise. during: a rewrite while the run goes on, whose files are renamed into place
 * without a sync (the run's last one is synced; the samples are in the synced journals).
 * cm_report_live_free releases it. */
int cm_report_live_write(struct cm_report *r, const struct cm_dataset *ds, double alpha,
			 const char *outdir, const char *formats, bool during, struct cm_diags *d);
void cm_report_live_free(struct cm_report *r);
void cm_report_summary_csv(const struct cm_report *r, FILE *f);
void cm_report_markdown(const struct cm_report *r, FILE *f);
int cm_report_json(const struct cm_report *r, FILE *f);
void cm_report_html(const struct cm_report *r, FILE *f);
/* hyperfine's JSON layout (results[].command/mean/stddev/median/min/max/times) for one phase. */
int cm_report_hyperfine(const struct cm_report *r, const char *phase, FILE *f);
/* Bencher Metric Format JSON: per case, per phase the median (ns) and its CI. */
int cm_report_bmf(const struct cm_report *r, FILE *f);
/* hyperfine-like lines for a terminal, for one phase (usually "total"). */
void cm_report_terminal(const struct cm_report *r, const char *phase, FILE *f);
void cm_html_begin(FILE *f, const char *title);
void cm_html_trend(FILE *f, const char *case_id, const char *phase,
		   const struct cm_trend_point *pts, size_t n);
void cm_html_end(FILE *f);

/* "60% of the boots around 172 ms, 40% around 405 ms", for a summary with CM_WARN_BIMODAL. */
const char *cm_modes_text(const struct cm_summary *s, char *out, size_t n);
/* "+3.10 ms per GiB": a slope in ns per unit, as people read it. */
const char *cm_format_slope(const char *phase, double ns, const char *unit, char *out, size_t n);
/* "+3.10 ms per GiB [+2.98, +3.21]": a slope with its CI, into f. */
void cm_print_slope_ci(const char *phase, const struct cm_slope *s, const char *unit, FILE *f);
/* Footnote text for one warning bit. */
const char *cm_warning_text(unsigned bit);

/* The per-host lines under a comparison's table (the total rows, and any with a flagged host). */
void cm_cmp_hosts_write(const struct cm_cmp_result *r, FILE *f);
/* A row's host level as JSON (NULL when it has none); a json_t *, untyped here. */
void *cm_cmp_hosts_json(const struct cm_cmp_result *r, const struct cm_cmp_row *row);

/* The writers of a comparison: text, md, csv, json. */
struct cm_cmp_writer {
	const char *name;
	void (*write)(const struct cm_cmp_result *r, FILE *f);
};
extern const struct cm_cmp_writer cm_cmp_writers[];
const struct cm_cmp_writer *cm_cmp_writer(const char *name);
/* "text, md, csv or json": the names of that table, for messages (to free). */
char *cm_cmp_writer_names(void);

void cm_history_text(const struct cm_history *h, FILE *f);
void cm_history_html(const struct cm_history *h, FILE *f);
/* "Where the time went" (issue 28, reports/profile_report.c), when r->profile is set: a
 * Markdown section, a JSON array (a json_t *, NULL when none), an HTML section. */
void cm_profile_md(const struct cm_report *r, FILE *f);
void *cm_profile_json(const struct cm_report *r);
void cm_profile_html(const struct cm_report *r, FILE *f);
/* A run in waves (issue 29): its levels into ws, the makespans from dir/waves.csv when it
 * is there (a warning in d when it cannot be read); false (ws empty) for a run not in waves.
 * cm_report_write does it with its outdir unless r->waves is set. */
bool cm_report_waves(const struct cm_report *r, const char *dir, struct cm_wave_summary *ws,
		     struct cm_diags *d);
/* The same in each report (reports/waves_report.c): per level, K at a time. */
void cm_waves_md(const struct cm_report *r, FILE *f);
void *cm_waves_json(const struct cm_report *r);
void cm_waves_html(const struct cm_report *r, FILE *f);

#endif
