/* A live report's memo of its cross-case parts. A sweep's test and a trend's slopes read every
 * boot of their slice (Jonckheere, Theil-Sen: O(n log n) over the slice): a run rewriting its
 * reports after each case recomputes only the slices the new case belongs to; the rest come
 * from here, by a signature of their cases' versions. */
#include <stdlib.h>
#include <string.h>

#include "live.h"

struct memo_entry {
	uint64_t key, sig; /* key 0: empty */
	void *val;
	size_t size;
};
struct cm_report_memo {
	struct memo_entry *v;
	size_t cap, n; /* cap a power of two */
};

static uint64_t mix(uint64_t h, uint64_t x)
{
	h ^= x + 0x9e3779b97f4a7c15ULL + (h << 6) + (h >> 2);
	return h * 0xff51afd7ed558ccdULL;
}

static uint64_t key_of(enum cm_memo_kind kind, size_t a, size_t sl, size_t p)
{
	return mix(mix(mix(mix(1, kind), a), sl), p) | 1; /* never 0 */
}

/* splitmix64's finaliser: every bit of x into the low bits a slot is taken from */
static uint64_t spread(uint64_t x)
{
	x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ULL;
	x = (x ^ (x >> 27)) * 0x94d049bb133111ebULL;
	return x ^ (x >> 31);
}

static struct memo_entry *slot(struct cm_report_memo *m, uint64_t key)
{
	size_t i = (size_t)spread(key) & (m->cap - 1);
	while (m->v[i].key && m->v[i].key != key)
		i = (i + 1) & (m->cap - 1);
	return &m->v[i];
}

bool cm_report_memo_get(const struct cm_report *r, enum cm_memo_kind kind, size_t a, size_t sl,
			size_t p, const size_t *members, size_t k, uint64_t *sig, void *out,
			size_t size)
{
	struct cm_report_memo **mp = cm_report_memo_of(r);
	*sig = 0;
	if (!mp)
		return false;
	uint64_t h = mix(k, r->ds->nsessions);
	for (size_t i = 0; i < k; i++)
		h = mix(mix(h, members[i]), cm_report_case_version(r, members[i]));
	*sig = h;
	struct cm_report_memo *m = *mp;
	if (!m || !m->n)
		return false;
	struct memo_entry *e = slot(m, key_of(kind, a, sl, p));
	if (!e->key || e->sig != h || e->size != size)
		return false;
	memcpy(out, e->val, size);
	return true;
}

void cm_report_memo_put(const struct cm_report *r, enum cm_memo_kind kind, size_t a, size_t sl,
			size_t p, uint64_t sig, const void *val, size_t size)
{
	struct cm_report_memo **mp = cm_report_memo_of(r);
	if (!mp)
		return;
	if (!*mp)
		*mp = cm_xcalloc(1, sizeof(**mp));
	struct cm_report_memo *m = *mp;
	if (2 * (m->n + 1) > m->cap) { /* grown at half full */
		struct cm_report_memo g = { cm_xcalloc(m->cap ? 2 * m->cap : 64, sizeof(*g.v)),
					    m->cap ? 2 * m->cap : 64, m->n };
		for (size_t i = 0; i < m->cap; i++)
			if (m->v[i].key)
				*slot(&g, m->v[i].key) = m->v[i];
		free(m->v);
		*m = g;
	}
	uint64_t key = key_of(kind, a, sl, p);
	struct memo_entry *e = slot(m, key);
	if (!e->key) {
		e->key = key;
		m->n++;
	}
	free(e->val);
	e->val = cm_xmalloc(size);
	memcpy(e->val, val, size);
	e->size = size;
	e->sig = sig;
}

void cm_report_memo_free(struct cm_report_memo *m)
{
	if (!m)
		return;
	for (size_t i = 0; i < m->cap; i++)
		free(m->v[i].val);
	free(m->v);
	free(m);
}
