/* A live report's text cache: the writers' per-case pieces, kept by what they were drawn
 * from. A run rewriting its reports after every case formats the changed cases' pieces only
 * and concatenates the rest (see frags.h). */
#define _GNU_SOURCE
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "frags.h"

struct frag {
	uint64_t version, extra; /* the case's version, the extras hashed (0, 0: empty) */
	char *s;
	size_t len;
};
/* per kind, whether its pieces are per phase and per axis (else one a case) */
enum { PER_PHASE = 1, PER_AXIS = 2 };
static const unsigned char uses[CM_FRAG_NKINDS] = {
	[CM_FRAG_MD_ROW] = PER_PHASE, [CM_FRAG_HTML_STRIP] = PER_PHASE,
	[CM_FRAG_HTML_SWEEP_MARK] = PER_PHASE | PER_AXIS,
	[CM_FRAG_HTML_SWEEP_POINT] = PER_PHASE | PER_AXIS,
	[CM_FRAG_HTML_SWEEP_LABELS] = PER_PHASE | PER_AXIS,
};
struct cm_frag_cache {
	struct frag *k[CM_FRAG_NKINDS]; /* per kind: [axis][phase][case], the run's last */
	size_t ncases, nphases, naxes;	/* the shape they were made for */
	struct cm_buf samples; /* report.json's sample rows [0, nsamples) as text */
	size_t nsamples;
	bool unsynced; /* this write is a rewrite during the run */
	double meta_key[2]; /* this write's header's */
};

static uint64_t mix(uint64_t h, uint64_t x)
{
	h ^= x + 0x9e3779b97f4a7c15ULL + (h << 6) + (h >> 2);
	return h * 0xff51afd7ed558ccdULL;
}

static void drop_all(struct cm_frag_cache *fc)
{
	for (int k = 0; k < CM_FRAG_NKINDS; k++) {
		size_t n = (fc->ncases + 1) * (uses[k] & PER_PHASE ? fc->nphases : 1) *
			   (uses[k] & PER_AXIS ? fc->naxes : 1);
		for (size_t i = 0; fc->k[k] && i < n; i++)
			free(fc->k[k][i].s);
		free(fc->k[k]);
		fc->k[k] = NULL;
	}
}

/* Piece (kind, a, c, p)'s place: arrays indexed directly, in case order (a rewrite walks
 * them case by case: a hash table's probes were a cache miss a piece). */
static struct frag *place(struct cm_frag_cache *fc, const struct cm_dataset *ds,
			  enum cm_frag_kind kind, size_t a, size_t c, size_t p)
{
	if (fc->ncases != ds->ncases || fc->nphases != ds->nphases || fc->naxes != ds->naxes) {
		drop_all(fc);
		fc->ncases = ds->ncases, fc->nphases = ds->nphases, fc->naxes = ds->naxes;
	}
	size_t np = uses[kind] & PER_PHASE ? fc->nphases : 1, na = uses[kind] & PER_AXIS ? fc->naxes : 1;
	if (!fc->k[kind])
		fc->k[kind] = cm_xcalloc((fc->ncases + 1) * np * (na ? na : 1), sizeof(struct frag));
	size_t ci = c < fc->ncases ? c : fc->ncases; /* CM_FRAG_RUN: the last */
	return &fc->k[kind][((uses[kind] & PER_AXIS ? a : 0) * np + (uses[kind] & PER_PHASE ? p : 0)) *
			    (fc->ncases + 1) + ci];
}

void cm_frag(const struct cm_report *r, enum cm_frag_kind kind, size_t a, size_t c, size_t p,
	     const double *extra, size_t nextra, cm_frag_fn fn, const void *arg, FILE *f)
{
	struct cm_frag_cache *fc = r->frags;
	if (!fc) {
		fn(r, c, p, arg, f);
		return;
	}
	uint64_t version = cm_report_case_version(r, c) + 1, xh = nextra + 1;
	for (size_t i = 0; i < nextra; i++) { /* bit for bit, never as numbers */
		uint64_t bits;
		memcpy(&bits, &extra[i], sizeof(bits));
		xh = mix(xh, bits);
	}
	struct frag *e = place(fc, r->ds, kind, a, c, p);
	if (e->version == version && e->extra == xh) { /* the same case, the same report-wide values */
		fwrite(e->s, 1, e->len, f);
		return;
	}
	free(e->s);
	e->s = NULL;
	e->len = 0;
	FILE *m = open_memstream(&e->s, &e->len);
	fn(r, c, p, arg, m);
	fclose(m);
	e->version = version, e->extra = xh;
	fwrite(e->s, 1, e->len, f);
}

static void meta_key(const struct cm_dataset *ds, double key[2])
{
	uint64_t h = cm_dataset_meta_hash(ds);
	memcpy(&key[0], &h, sizeof(h)); /* compared bit for bit, never as a number */
	key[1] = (double)ds->nmeta + 1e6 * (double)ds->nphases;
}

void cm_frag_meta_key(const struct cm_report *r, double key[2])
{
	if (r->frags) /* hashed once a rewrite, not once a writer */
		memcpy(key, r->frags->meta_key, sizeof(r->frags->meta_key));
	else
		meta_key(r->ds, key);
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
	meta_key(ds, r->frags->meta_key);
	int rc = cm_report_write(r, outdir, formats, false, d);
	r->frags->unsynced = false;
	return rc;
}

void cm_report_live_free(struct cm_report *r)
{
	struct cm_frag_cache *fc = r->frags;
	if (fc) {
		drop_all(fc);
		cm_buf_free(&fc->samples);
		free(fc);
	}
	r->frags = NULL;
	cm_report_free(r);
}
