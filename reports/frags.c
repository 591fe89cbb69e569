/* A live report's text cache: the writers' per-case pieces, kept by what they were drawn
 * from. A run rewriting its reports after every case formats the changed cases' pieces only
 * and concatenates the rest (see frags.h). */
#define _GNU_SOURCE
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "frags.h"

struct frag {
	uint64_t id; /* (kind, axis, case, phase) hashed; 0: empty */
	uint64_t version;
	double extra[CM_FRAG_NEXTRA];
	size_t nextra;
	char *s;
	size_t len;
};
struct cm_frag_cache {
	struct frag *v;
	size_t cap, n; /* cap a power of two */
	struct cm_buf samples; /* report.json's sample rows [0, nsamples) as text */
	size_t nsamples;
	bool unsynced; /* this write is a rewrite during the run */
};

static uint64_t mix(uint64_t h, uint64_t x)
{
	h ^= x + 0x9e3779b97f4a7c15ULL + (h << 6) + (h >> 2);
	return h * 0xff51afd7ed558ccdULL;
}

/* splitmix64's finaliser: every bit of x into the low bits a slot is taken from */
static uint64_t spread(uint64_t x)
{
	x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ULL;
	x = (x ^ (x >> 27)) * 0x94d049bb133111ebULL;
	return x ^ (x >> 31);
}

static struct frag *slot(struct frag *v, size_t cap, uint64_t id, uint64_t want)
{
	size_t i = (size_t)spread(id) & (cap - 1);
	while (v[i].id && v[i].id != want)
		i = (i + 1) & (cap - 1);
	return &v[i];
}

static struct frag *find(struct cm_frag_cache *fc, uint64_t id)
{
	if (2 * (fc->n + 1) > fc->cap) { /* grown at half full */
		size_t cap = fc->cap ? 2 * fc->cap : 1024;
		struct frag *v = cm_xcalloc(cap, sizeof(*v));
		for (size_t i = 0; i < fc->cap; i++)
			if (fc->v[i].id)
				*slot(v, cap, fc->v[i].id, fc->v[i].id) = fc->v[i];
		free(fc->v);
		fc->v = v, fc->cap = cap;
	}
	return slot(fc->v, fc->cap, id, id);
}

void cm_frag(const struct cm_report *r, enum cm_frag_kind kind, size_t a, size_t c, size_t p,
	     const double *extra, size_t nextra, cm_frag_fn fn, const void *arg, FILE *f)
{
	struct cm_frag_cache *fc = r->frags;
	if (!fc) {
		fn(r, c, p, arg, f);
		return;
	}
	uint64_t id = mix(mix(mix(mix(7, kind), a), c), p) | 1, version = cm_report_case_version(r, c);
	struct frag *e = find(fc, id);
	/* the same case version and the same report-wide values, bit for bit */
	if (e->id && e->version == version && e->nextra == nextra &&
	    !memcmp(e->extra, extra, nextra * sizeof(double))) {
		fwrite(e->s, 1, e->len, f);
		return;
	}
	if (!e->id) {
		e->id = id;
		fc->n++;
	}
	free(e->s);
	e->s = NULL;
	e->len = 0;
	FILE *m = open_memstream(&e->s, &e->len);
	fn(r, c, p, arg, m);
	fclose(m);
	e->version = version;
	e->nextra = nextra;
	memcpy(e->extra, extra, nextra * sizeof(double));
	fwrite(e->s, 1, e->len, f);
}

void cm_frag_meta_key(const struct cm_dataset *ds, double key[2])
{
	uint64_t h = 1469598103934665603ULL;
	for (size_t i = 0; i < ds->nmeta; i++)
		for (int k = 0; k < 2; k++) /* each string with its NUL: "ab","c" is not "a","bc" */
			for (const char *q = k ? ds->meta_vals[i] : ds->meta_keys[i];; q++) {
				h = (h ^ (unsigned char)*q) * 1099511628211ULL;
				if (!*q)
					break;
			}
	memcpy(&key[0], &h, sizeof(h)); /* compared bit for bit, never as a number */
	key[1] = (double)ds->nmeta + 1e6 * (double)ds->nphases;
}

bool cm_frag_unsynced(const struct cm_report *r)
{
	return r->frags && r->frags->unsynced;
}

const struct cm_buf *cm_frag_samples(const struct cm_report *r,
				     void (*fn)(const struct cm_dataset *ds, size_t i, struct cm_buf *b))
{
	struct cm_frag_cache *fc = r->frags;
	if (!fc)
		return NULL;
	if (fc->nsamples > r->ds->n) { /* rows gone: all again */
		fc->samples.len = 0;
		fc->nsamples = 0;
	}
	for (; fc->nsamples < r->ds->n; fc->nsamples++)
		fn(r->ds, fc->nsamples, &fc->samples);
	return &fc->samples;
}

int cm_report_live_write(struct cm_report *r, const struct cm_dataset *ds, double alpha,
			 const char *outdir, const char *formats, bool during, struct cm_diags *d)
{
	if (cm_report_live_update(r, ds, alpha) && r->frags) { /* rebuilt: so is its text */
		struct cm_report k = { .frags = r->frags };
		r->frags = NULL;
		cm_report_live_free(&k);
	}
	if (!r->frags)
		r->frags = cm_xcalloc(1, sizeof(*r->frags));
	r->frags->unsynced = during;
	int rc = cm_report_write(r, outdir, formats, false, d);
	r->frags->unsynced = false;
	return rc;
}

void cm_report_live_free(struct cm_report *r)
{
	struct cm_frag_cache *fc = r->frags;
	if (fc) {
		for (size_t i = 0; i < fc->cap; i++)
			free(fc->v[i].s);
		free(fc->v);
		cm_buf_free(&fc->samples);
		free(fc);
	}
	r->frags = NULL;
	cm_report_free(r);
}
