/* A live report's text cache (reports/frags.c): each writer's per-case pieces (a table's
 * rows, a JSON case object, a plot's marks) kept with what they were drawn from (the case's
 * version and the few report-wide values a piece depends on: a unit, a plot's scale, its
 * row), and written again from here while those are the same. A report that is not live
 * (r->frags NULL) draws every piece as before. Internal to reports/. */
#ifndef COLDMARK_REPORTS_FRAGS_H
#define COLDMARK_REPORTS_FRAGS_H

#include <stdbool.h>
#include <stdio.h>

#include "coldmark/report.h"

enum cm_frag_kind {
	CM_FRAG_CSV, CM_FRAG_MD_ROW, CM_FRAG_MD_SESSIONS, CM_FRAG_JSON_CASE, CM_FRAG_HTML_SUMMARY,
	CM_FRAG_HTML_STRIP, CM_FRAG_HTML_SWEEP_MARK, CM_FRAG_HTML_SWEEP_POINT, CM_FRAG_HTML_BAR,
	CM_FRAG_HTML_SESSIONS, CM_FRAG_HTML_SWEEP_LABELS, CM_FRAG_MD_HEAD, CM_FRAG_JSON_HEAD,
	CM_FRAG_HTML_HEAD, CM_FRAG_NKINDS
};
#define CM_FRAG_NEXTRA 6
/* Draws piece (c, p) into f; arg: the writer's own. */
typedef void (*cm_frag_fn)(const struct cm_report *r, size_t c, size_t p, const void *arg, FILE *f);
/* The piece (kind, axis a, case c, phase p) into f: from the cache when it was drawn from the
 * same version of case c and the same extra[0..nextra) (at most CM_FRAG_NEXTRA), else drawn
 * by fn (and kept). */
void cm_frag(const struct cm_report *r, enum cm_frag_kind kind, size_t a, size_t c, size_t p,
	     const double *extra, size_t nextra, cm_frag_fn fn, const void *arg, FILE *f);
/* The run header's pieces (their case: CM_FRAG_RUN): keyed by the header's content, which
 * gains an item or changes one only now and then during a run (it lists every case: a
 * 10^5-case matrix's header is megabytes of text). key[0..2) gets what to key them by. */
#define CM_FRAG_RUN ((size_t)-1)
void cm_frag_meta_key(const struct cm_report *r, double key[2]);
/* A live report's rewrite during its run is not synced before its rename (a reader still
 * sees the old file or the new: the journals are what a crash must not lose, and the run's
 * last rewrite is synced); every other write is. */
bool cm_frag_unsynced(const struct cm_report *r);
/* report.json's samples array, its rows as JSON text: the rows added since the last call
 * are formatted (fn, each row's text into b), the rest kept. The text, or NULL when r is
 * not live (the writer formats them itself). */
struct cm_buf;
const struct cm_buf *cm_frag_samples(const struct cm_report *r,
				     void (*fn)(const struct cm_dataset *ds, size_t i, struct cm_buf *b));

#endif
