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

#endif
