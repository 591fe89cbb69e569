/* Which capture sources a case's boots use, from the source table (capture/registry.c): the
 * chosen one (run.source) where it can see the case, with its second opinion if it has one; the
 * fallback (debugcon) where it cannot (TCG, or KVM without perf); and the ones every boot gets
 * (the console, when the matrix has console markers). Made once per run, reused by every boot. */
#include <stdlib.h>

#include "coldmark/harness.h"

static void add(struct cm_sources *s, struct cm_capture *c, enum cm_source_role role)
{
	if (c && s->n < CM_SOURCES_MAX) {
		s->role[s->n] = role;
		s->v[s->n++] = c;
	} else {
		cm_capture_free(c);
	}
}

void cm_sources_init(struct cm_sources *s, const struct cm_matrix *m, struct cm_perf *perf,
		     bool perf_assumed)
{
	*s = (struct cm_sources){ .chosen = cm_source_find(m->source.name) };
	const struct cm_source_reg *r = s->chosen ? s->chosen : cm_source_fallback(), *fb;
	/* a source made from perf exists only with the handle (or in list's description) */
	if (r->make && (!(r->flags & CM_SRC_PERF) || perf || perf_assumed)) {
		add(s, r->make(m, perf), CM_ROLE_CHOSEN);
		if (r->shadow)
			add(s, r->shadow(m, perf), CM_ROLE_SHADOW);
	}
	if ((fb = cm_source_fallback()) && fb != r)
		add(s, fb->make(m, perf), CM_ROLE_FALLBACK);
	for (size_t i = 0; (r = cm_source_at(i)); i++)
		if ((r->flags & CM_SRC_ALWAYS) && r->make)
			add(s, r->make(m, perf), CM_ROLE_ALWAYS);
	s->handle = perf;
	s->perf_assumed = perf_assumed;
}

size_t cm_sources_pick(const struct cm_sources *s, const struct cm_case *c,
		       struct cm_capture **out)
{
	bool chosen = s->n && s->role[0] == CM_ROLE_CHOSEN &&
		      !(s->chosen && (s->chosen->flags & CM_SRC_KVM_ONLY) && cm_case_is_tcg(c));
	size_t n = 0;
	for (size_t i = 0; i < s->n; i++) {
		enum cm_source_role role = s->role[i];
		if (role == CM_ROLE_ALWAYS || (chosen && role != CM_ROLE_FALLBACK) ||
		    (!chosen && role == CM_ROLE_FALLBACK))
			out[n++] = s->v[i];
	}
	return n;
}

bool cm_sources_first_entry(struct cm_capture *const *picked, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (picked[i]->ops->caps & CM_CAP_FIRST_ENTRY)
			return true;
	return false;
}

void cm_sources_free(struct cm_sources *s)
{
	for (size_t i = 0; i < s->n; i++)
		cm_capture_free(s->v[i]);
	s->n = 0;
}
