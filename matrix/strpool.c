/* The cases' argv strings and labels, each distinct string once. A 10^5-case sweep's cases
 * share all but a value or two of their ~20 arguments; a copy each was most of the matrix's
 * memory (~0.7 KB a case). The pool owns the strings; a case owns its arrays only. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "internal.h"

struct mx_pool {
	char **slot; /* open addressing, NULL: empty */
	size_t cap, n;
};

static uint64_t hash(const char *s)
{
	uint64_t h = 1469598103934665603ULL; /* FNV-1a */
	for (; *s; s++)
		h = (h ^ (unsigned char)*s) * 1099511628211ULL;
	return h;
}

static void grow(struct mx_pool *p)
{
	size_t cap = p->cap ? 2 * p->cap : 256;
	char **slot = cm_xcalloc(cap, sizeof(char *));
	for (size_t i = 0; i < p->cap; i++) {
		if (!p->slot[i])
			continue;
		size_t j = hash(p->slot[i]) & (cap - 1);
		while (slot[j])
			j = (j + 1) & (cap - 1);
		slot[j] = p->slot[i];
	}
	free(p->slot);
	p->slot = slot, p->cap = cap;
}

const char *mx_pool_intern(struct mx_pool **pp, const char *s)
{
	if (!*pp)
		*pp = cm_xcalloc(1, sizeof(**pp));
	struct mx_pool *p = *pp;
	if (2 * (p->n + 1) > p->cap)
		grow(p);
	size_t j = hash(s) & (p->cap - 1);
	for (; p->slot[j]; j = (j + 1) & (p->cap - 1))
		if (!strcmp(p->slot[j], s))
			return p->slot[j];
	p->n++;
	return p->slot[j] = cm_xstrdup(s);
}

void mx_pool_free(struct mx_pool *p)
{
	for (size_t i = 0; p && i < p->cap; i++)
		free(p->slot[i]);
	if (p)
		free(p->slot);
	free(p);
}

void mx_pool_case(struct mx_pool **pp, struct cm_case *cc, size_t naxes)
{
	for (size_t i = 0; i < cc->argc; i++) {
		const char *s = mx_pool_intern(pp, cc->argv[i]);
		free(cc->argv[i]);
		cc->argv[i] = (char *)s;
	}
	for (size_t a = 0; cc->labels && a < naxes; a++)
		if (cc->labels[a]) {
			const char *s = mx_pool_intern(pp, cc->labels[a]);
			free(cc->labels[a]);
			cc->labels[a] = (char *)s;
		}
}
