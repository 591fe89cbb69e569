/* A live report's memo of its cross-case parts (analysis/report_live.c): per slice of an
 * axis and phase, a sweep's test or a trend, kept with a signature of its cases' versions and
 * taken again while none of them changed. Internal to analysis/. */
#ifndef COLDMARK_ANALYSIS_LIVE_H
#define COLDMARK_ANALYSIS_LIVE_H

#include <stdint.h>

#include "coldmark/analysis.h"

enum cm_memo_kind { CM_MEMO_SWEEP, CM_MEMO_TREND };
/* true when r is live and the entry (kind, axis a, slice sl, phase p) was computed from the
 * same versions of members[0..k): its bytes copied into out (size bytes, pointers as they
 * were: the caller sets the held text afresh). *sig: the members' signature, for _put. */
bool cm_report_memo_get(const struct cm_report *r, enum cm_memo_kind kind, size_t a, size_t sl,
			size_t p, const size_t *members, size_t k, uint64_t *sig, void *out,
			size_t size);
/* The entry computed now, kept (nothing when r is not live). */
void cm_report_memo_put(const struct cm_report *r, enum cm_memo_kind kind, size_t a, size_t sl,
			size_t p, uint64_t sig, const void *val, size_t size);

#endif
