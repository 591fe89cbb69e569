/* The tidy sample table in memory (its CSV form: samples_csv.c). */
#include <errno.h>
#include <stdarg.h>
#include <limits.h>
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "coldmark/model.h"

#define CM_HDR_INFO_(e, name, cmp) { name, cmp },
const struct cm_header_key_info cm_header_keys[] = { CM_HEADER_KEYS(CM_HDR_INFO_) };
#undef CM_HDR_INFO_

enum cm_row_kind cm_row_kind(const struct cm_sample_row *r)
{
	if (!strcmp(r->status, CM_STATUS_INTERRUPTED_NAME))
		return CM_ROW_INTERRUPTED; /* coldmark was stopped: not the guest's failure */
	if (r->warmup)
		return CM_ROW_WARMUP;
	if (strcmp(r->status, CM_STATUS_OK_NAME))
		return CM_ROW_FAILED;
	return isnan(r->duration_ns) ? CM_ROW_UNMEASURABLE : CM_ROW_MEASURED;
}

bool cm_row_boot_done(const struct cm_sample_row *r)
{
	return strcmp(r->status, CM_STATUS_INTERRUPTED_NAME) != 0;
}

void cm_dataset_init(struct cm_dataset *ds, char *const *axes, size_t naxes)
{
	memset(ds, 0, sizeof(*ds));
	ds->axes = cm_xcalloc(naxes + 1, sizeof(char *));
	for (size_t i = 0; i < naxes; i++)
		ds->axes[i] = cm_xstrdup(axes[i]);
	ds->naxes = naxes;
}

static uint64_t fnv(const char *s)
{
	uint64_t h = 1469598103934665603ULL;
	for (; *s; s++)
		h = (h ^ (unsigned char)*s) * 1099511628211ULL;
	return h;
}

static void rehash(struct cm_dataset *ds)
{
	free(ds->hash);
	ds->hcap = ds->hcap ? ds->hcap * 2 : 64;
	ds->hash = cm_xcalloc(ds->hcap, sizeof(size_t));
	for (size_t i = 0; i < ds->ncases; i++) {
		size_t h = fnv(ds->cases[i].id) & (ds->hcap - 1);
		while (ds->hash[h])
			h = (h + 1) & (ds->hcap - 1);
		ds->hash[h] = i + 1;
	}
}

size_t cm_dataset_case(struct cm_dataset *ds, const char *id, char *const *labels)
{
	if (ds->hcap) {
		size_t h = fnv(id) & (ds->hcap - 1);
		while (ds->hash[h]) {
			if (!strcmp(ds->cases[ds->hash[h] - 1].id, id))
				return ds->hash[h] - 1;
			h = (h + 1) & (ds->hcap - 1);
		}
	}
	CM_PUSH(ds->cases, ds->ncases, ds->ccap);
	struct cm_ds_case *c = &ds->cases[ds->ncases++];
	c->id = cm_xstrdup(id);
	c->labels = cm_xcalloc(ds->naxes + 1, sizeof(char *));
	for (size_t i = 0; i < ds->naxes; i++)
		c->labels[i] = cm_xstrdup(labels && labels[i] ? labels[i] : "");
	if (2 * ds->ncases > ds->hcap)
		rehash(ds);
	else {
		size_t h = fnv(id) & (ds->hcap - 1);
		while (ds->hash[h])
			h = (h + 1) & (ds->hcap - 1);
		ds->hash[h] = ds->ncases;
	}
	return ds->ncases - 1;
}

size_t cm_dataset_case_index(const struct cm_dataset *ds, const char *id)
{
	if (!ds->hcap)
		return ds->ncases;
	size_t h = fnv(id) & (ds->hcap - 1);
	while (ds->hash[h]) {
		if (!strcmp(ds->cases[ds->hash[h] - 1].id, id))
			return ds->hash[h] - 1;
		h = (h + 1) & (ds->hcap - 1);
	}
	return ds->ncases;
}

size_t cm_dataset_find_phase(const struct cm_dataset *ds, const char *phase)
{
	size_t i = 0;
	while (i < ds->nphases && strcmp(ds->phases[i], phase))
		i++;
	return i;
}

size_t cm_dataset_phase(struct cm_dataset *ds, const char *phase)
{
	size_t i = cm_dataset_find_phase(ds, phase);
	if (i < ds->nphases)
		return i;
	ds->phases = cm_xrealloc(ds->phases, (ds->nphases + 1) * sizeof(char *));
	ds->phases[ds->nphases] = cm_xstrdup(phase);
	return ds->nphases++;
}

/* Statuses, sources and cache drops take a handful of values over millions of rows: each
 * is stored once and the rows point at it. */
static char *intern(struct cm_dataset *ds, const char *s)
{
	long at = cm_strset_find(&ds->pool, s);
	if (at >= 0)
		return ds->pool_strings[at];
	ds->pool_strings = cm_xrealloc(ds->pool_strings, (ds->npool + 1) * sizeof(char *));
	char *copy = ds->pool_strings[ds->npool] = cm_xstrdup(s);
	cm_strset_add(&ds->pool, copy, (long)ds->npool++); /* the set borrows our copy */
	return copy;
}

void cm_dataset_add(struct cm_dataset *ds, const char *case_id, int boot, bool warmup,
		    const char *status, const char *phase, double duration_ns, const char *source,
		    const char *cache)
{
	if (!ds->session_now)
		cm_dataset_session(ds, "1", NULL);
	size_t ci = cm_dataset_case(ds, case_id, NULL), pi = cm_dataset_phase(ds, phase);
	CM_PUSH(ds->rows, ds->n, ds->cap);
	ds->rows[ds->n++] = (struct cm_sample_row){
		.case_id = ds->cases[ci].id, .status = intern(ds, status),
		.phase = ds->phases[pi], .source = intern(ds, source ? source : ""),
		.cache = intern(ds, cache ? cache : ""), .boot = boot, .warmup = warmup,
		.session = ds->session_now, .audit = intern(ds, ds->audit_now ? ds->audit_now : ""),
		.wave = ds->wave_now, .slot = ds->slot_now, .duration_ns = duration_ns, .case_idx = ci, .phase_idx = pi,
	};
}

void cm_dataset_add_like(struct cm_dataset *ds, const struct cm_dataset *src,
			 const struct cm_sample_row *r, const char *case_id)
{
	const struct cm_ds_session *ses = r->session ? &src->sessions[r->session - 1] : NULL;
	cm_dataset_session(ds, ses ? ses->id : "1", ses ? ses->host : NULL);
	ds->audit_now = r->audit;
	ds->wave_now = r->wave, ds->slot_now = r->slot;
	ds->waves |= r->wave > 0;
	cm_dataset_add(ds, case_id ? case_id : r->case_id, r->boot, r->warmup, r->status, r->phase,
		       r->duration_ns, r->source, r->cache);
	ds->audit_now = NULL;
	ds->wave_now = ds->slot_now = 0;
}

void cm_dataset_truncate(struct cm_dataset *ds, size_t n)
{
	if (n < ds->n)
		ds->n = n;
}

uint64_t cm_dataset_meta_hash(const struct cm_dataset *ds)
{
	uint64_t h = 1469598103934665603ULL; /* FNV-1a */
	for (size_t i = 0; i < ds->nmeta; i++)
		for (int k = 0; k < 2; k++) /* each string with its NUL: "ab","c" is not "a","bc" */
			for (const char *q = k ? ds->meta_vals[i] : ds->meta_keys[i];; q++) {
				h = (h ^ (unsigned char)*q) * 1099511628211ULL;
				if (!*q)
					break;
			}
	return h;
}

void cm_dataset_meta(struct cm_dataset *ds, const char *key, const char *val)
{
	/* by a hash set of the keys: a header may be copied key by key (10^3 and more) */
	long at = cm_strset_find(&ds->meta_index, key);
	if (at >= 0) {
		free(ds->meta_vals[at]);
		ds->meta_vals[at] = cm_xstrdup(val);
		return;
	}
	size_t i = ds->nmeta;
	if (!(i & (i - 1))) { /* capacity doubles at powers of two */
		ds->meta_keys = cm_xrealloc(ds->meta_keys, (i ? 2 * i : 1) * sizeof(char *));
		ds->meta_vals = cm_xrealloc(ds->meta_vals, (i ? 2 * i : 1) * sizeof(char *));
	}
	ds->meta_keys[i] = cm_xstrdup(key);
	ds->meta_vals[i] = cm_xstrdup(val);
	cm_strset_add(&ds->meta_index, ds->meta_keys[i], (long)i); /* borrows the key */
	ds->nmeta++;
}

const char *cm_dataset_get_meta(const struct cm_dataset *ds, const char *key)
{
	long at = cm_strset_find(&ds->meta_index, key);
	return at >= 0 ? ds->meta_vals[at] : NULL;
}

void cm_dataset_free(struct cm_dataset *ds)
{
	for (size_t i = 0; i < ds->npool; i++)
		free(ds->pool_strings[i]);
	free(ds->pool_strings);
	cm_strset_free(&ds->pool);
	free(ds->rows);
	for (size_t i = 0; i < ds->nsums; i++)
		free(ds->sums[i].values);
	free(ds->sums);
	for (size_t i = 0; i < ds->ncases; i++) {
		free(ds->cases[i].id);
		for (size_t a = 0; a < ds->naxes; a++)
			free(ds->cases[i].labels[a]);
		free(ds->cases[i].labels);
	}
	free(ds->cases);
	for (size_t i = 0; i < ds->naxes; i++)
		free(ds->axes[i]);
	free(ds->axes);
	for (size_t i = 0; i < ds->nphases; i++)
		free(ds->phases[i]);
	free(ds->phases);
	for (size_t i = 0; i < ds->nmeta; i++) {
		free(ds->meta_keys[i]);
		free(ds->meta_vals[i]);
	}
	free(ds->meta_keys);
	free(ds->meta_vals);
	cm_strset_free(&ds->meta_index);
	for (size_t i = 0; i < ds->nsessions; i++) {
		free(ds->sessions[i].id);
		free(ds->sessions[i].host);
	}
	free(ds->sessions);
	cm_strset_free(&ds->session_ids);
	free(ds->hash);
	memset(ds, 0, sizeof(*ds));
}

static const struct cm_dataset *sort_ds; /* qsort has no context argument */
static int case_order(const void *a, const void *b)
{
	const struct cm_ds_case *x = &sort_ds->cases[*(const size_t *)a],
				*y = &sort_ds->cases[*(const size_t *)b];
	int r = cm_labels_cmp(x->labels, y->labels, sort_ds->naxes);
	return r ? r : strcmp(x->id, y->id);
}

/* Moves phase name to the end, the rows' indices following. */
static void phase_to_end(struct cm_dataset *ds, const char *name)
{
	size_t t = cm_dataset_find_phase(ds, name), last = ds->nphases - 1;
	if (t >= last)
		return;
	char *keep = ds->phases[t];
	memmove(&ds->phases[t], &ds->phases[t + 1], (last - t) * sizeof(char *));
	ds->phases[last] = keep;
	for (size_t i = 0; i < ds->n; i++) {
		size_t *pi = &ds->rows[i].phase_idx;
		*pi = *pi == t ? last : *pi > t ? *pi - 1 : *pi;
	}
}

/* Phases in the order first seen, then total, then the metrics, as a run lists them: a
 * reference case reports total alone, and when its boot came first total would lead. */
static void total_last(struct cm_dataset *ds)
{
	if (!ds->nphases)
		return;
	phase_to_end(ds, "total");
	for (size_t k = 0; k < CM_NMETRICS; k++)
		phase_to_end(ds, cm_metrics[k].name);
}

void cm_dataset_sort_cases(struct cm_dataset *ds)
{
	size_t n = ds->ncases, *order = cm_xmalloc((n + 1) * sizeof(size_t)),
	       *where = cm_xmalloc((n + 1) * sizeof(size_t));
	for (size_t i = 0; i < n; i++)
		order[i] = i;
	sort_ds = ds;
	qsort(order, n, sizeof(size_t), case_order);
	struct cm_ds_case *cases = cm_xmalloc((ds->ccap + 1) * sizeof(*cases));
	for (size_t i = 0; i < n; i++) {
		cases[i] = ds->cases[order[i]];
		where[order[i]] = i;
	}
	free(ds->cases);
	ds->cases = cases;
	for (size_t i = 0; i < ds->n; i++)
		ds->rows[i].case_idx = where[ds->rows[i].case_idx];
	ds->hcap /= 2; /* rehash doubles it back */
	rehash(ds);
	free(order);
	free(where);
	total_last(ds);
}
