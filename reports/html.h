/* What report.html's parts share. Internal to reports/. */
#ifndef COLDMARK_REPORTS_HTML_H
#define COLDMARK_REPORTS_HTML_H

#include <stdio.h>

#include "coldmark/report.h"

#define W 960   /* the plots' viewBox width; they scale to the page's */
#define LEFT 230
#define ROW 22

extern const char *const cm_html_palette[10];
void cm_html_esc(FILE *f, const char *s);
void cm_html_breakdown(const struct cm_report *r, FILE *f);
/* Four labelled ticks on a vertical axis mapping [lo, hi] to y0 (bottom) .. y0 - span. */
void cm_html_y_ticks(FILE *f, const char *phase, double x, double lo, double hi, double y0,
		     double span);
/* Phase p's sweep plots, one per numeric axis (reports/html_sweep.c). */
void cm_html_sweep(const struct cm_report *r, size_t p, FILE *f);
/* "+63.0 ms per GiB [+22.0 ms, +110 ms]; linear: no (512M off the line)" */
void cm_html_slope_text(const struct cm_report *r, const struct cm_trend *t, FILE *f);

#endif
