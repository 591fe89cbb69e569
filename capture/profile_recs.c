/* A boot's profile records (issue 28): grown as the rings are drained. */
#include <stdlib.h>

#include "coldmark/capture.h"
#include "coldmark/profile.h"

void cm_prof_recs_add(struct cm_prof_recs *r, const struct cm_prof_rec *rec)
{
	if (r->n == r->cap) {
		r->cap = r->cap ? 2 * r->cap : 1024;
		r->v = cm_xrealloc(r->v, r->cap * sizeof(*r->v));
	}
	r->v[r->n++] = *rec;
}

void cm_prof_recs_free(struct cm_prof_recs *r)
{
	if (!r)
		return;
	free(r->v);
	free(r);
}
