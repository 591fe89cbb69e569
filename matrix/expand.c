/* Expansion: the cartesian product of the axes, exclude and include (GitHub Actions
 * semantics), one argv per case, cases in the defined order. */
#include <ctype.h>
#include <errno.h>
#include <libgen.h>
#include <limits.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <yaml.h>

#include "internal.h"

/* ---- expansion --------------------------------------------------------------------------- */

struct combo {
	int *idx;       /* per axis: value index or -1 */
	bool *original; /* per axis: value from the product (include may not overwrite it) */
};

static int find_axis(const struct cm_matrix *m, const char *name)
{
	for (size_t i = 0; i < m->naxes; i++)
		if (!strcmp(m->axes[i].name, name))
			return (int)i;
	return -1;
}

static int find_value(const struct cm_axis *ax, const char *label)
{
	for (size_t i = 0; i < ax->nvalues; i++)
		if (!strcmp(ax->values[i].label, label))
			return (int)i;
	return -1;
}

/* An include/exclude entry as (axis, value) pairs; a new scalar value is added to its axis
 * when `add` (include may bring values the product did not have). */
static int entry_pairs(struct ctx *c, yaml_node_t *e, bool add, int *ax_out, int *val_out)
{
	int n = 0;
	if (!mx_want(c, e, YAML_MAPPING_NODE, "an include/exclude entry"))
		return -1;
	for (yaml_node_pair_t *p = e->data.mapping.pairs.start; p < e->data.mapping.pairs.top; p++) {
		yaml_node_t *kn = mx_node(c, p->key), *vn = mx_node(c, p->value);
		const char *k = mx_scalar(kn), *v = mx_scalar(vn);
		if (!k || !v) {
			ERR(c, kn, "include/exclude entries map axis names to scalar values");
			return -1;
		}
		int a = find_axis(c->m, k);
		if (a < 0 && add && mx_is_builtin(k)) {
			/* include may name a built-in axis the product does not sweep */
			c->m->axes = cm_xrealloc(c->m->axes, (c->m->naxes + 1) * sizeof(*c->m->axes));
			c->m->axes[c->m->naxes] = (struct cm_axis){ .name = cm_xstrdup(k) };
			a = (int)c->m->naxes++;
		}
		if (a < 0) {
			ERR(c, kn, "'%s' is not an axis of this matrix", k);
			return -1;
		}
		struct cm_axis *ax = &c->m->axes[a];
		int vi = find_value(ax, v);
		if (vi < 0 && add) {
			struct cm_axis_value val = { 0 };
			if (mx_scalar_args(c, ax, ax->name, v, &val, vn))
				return -1;
			mx_add_value(c, ax, v, vn, val);
			vi = (int)ax->nvalues - 1;
		}
		ax_out[n] = a;
		val_out[n++] = vi; /* -1: exclude of a value the axis does not have */
	}
	return n;
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(const char *const *)a, *(const char *const *)b);
}

static size_t sort_naxes; /* qsort has no context argument; loading is single-threaded */
static int case_order(const void *a, const void *b)
{
	const struct cm_case *x = a, *y = b;
	int r = cm_labels_cmp(x->labels, y->labels, sort_naxes);
	return r ? r : strcmp(x->id, y->id);
}

/* The combinations of one value per axis: the full product, last axis fastest. */
struct combos {
	struct combo *v;
	size_t n, cap, max_axes;
};

static struct combo blank(size_t max_axes)
{
	struct combo x = { cm_xmalloc(max_axes * sizeof(int)), cm_xcalloc(max_axes, sizeof(bool)) };
	for (size_t a = 0; a < max_axes; a++)
		x.idx[a] = -1; /* axes an include adds later start unset */
	return x;
}

static int product(struct ctx *c, yaml_node_t *root, struct combos *cs)
{
	struct cm_matrix *m = c->m;
	size_t total = 1;
	for (size_t a = 0; a < m->naxes; a++) {
		if (m->axes[a].nvalues)
			total *= m->axes[a].nvalues;
		if (total > 1000000) {
			ERR(c, root, "the matrix expands to over 1,000,000 cases");
			return -1;
		}
	}
	cs->max_axes = m->naxes + 16;
	cs->cap = total + 16;
	cs->v = cm_xcalloc(cs->cap, sizeof(*cs->v));
	for (size_t i = 0; i < total; i++) {
		cs->v[i] = blank(cs->max_axes);
		size_t r = i;
		/* the last axis varies fastest, as people read a table */
		for (size_t a = m->naxes; a-- > 0;) {
			size_t nv = m->axes[a].nvalues;
			cs->v[i].idx[a] = nv ? (int)(r % nv) : -1;
			cs->v[i].original[a] = nv > 0;
			if (nv)
				r /= nv;
		}
	}
	cs->n = total;
	return 0;
}

static bool too_many_keys(struct ctx *c, yaml_node_t *e, long max)
{
	if (e->type == YAML_MAPPING_NODE && e->data.mapping.pairs.top - e->data.mapping.pairs.start > max) {
		ERR(c, e, "too many keys");
		return true;
	}
	return false;
}

/* exclude: removes every combination that matches all keys of an entry */
static void apply_exclude(struct ctx *c, struct combos *cs)
{
	int ax[64], val[64];
	for (yaml_node_item_t *it = c->exclude->data.sequence.items.start;
	     it < c->exclude->data.sequence.items.top; it++) {
		yaml_node_t *e = mx_node(c, *it);
		int n = too_many_keys(c, e, 64) ? -1 : entry_pairs(c, e, false, ax, val);
		if (n < 0)
			continue;
		size_t kept = 0, removed = 0;
		for (size_t i = 0; i < cs->n; i++) {
			bool all = true;
			for (int k = 0; k < n; k++)
				all &= cs->v[i].idx[ax[k]] == val[k] && val[k] >= 0;
			if (all) {
				free(cs->v[i].idx);
				free(cs->v[i].original);
				removed++;
			} else {
				cs->v[kept++] = cs->v[i];
			}
		}
		cs->n = kept;
		if (!removed)
			WARN(c, e, "exclude entry matches no case");
	}
}

/* include: extends every combination whose original values it does not contradict, or adds
 * one of its own (GitHub Actions semantics) */
static void apply_include(struct ctx *c, struct combos *cs)
{
	int ax[64], val[64];
	for (yaml_node_item_t *it = c->include->data.sequence.items.start;
	     it < c->include->data.sequence.items.top; it++) {
		yaml_node_t *e = mx_node(c, *it);
		if (too_many_keys(c, e, 16))
			continue;
		if (c->m->naxes >= cs->max_axes) {
			ERR(c, e, "include adds too many axes");
			continue;
		}
		int n = entry_pairs(c, e, true, ax, val);
		if (n < 0)
			continue;
		bool added = false;
		for (size_t i = 0; i < cs->n; i++) {
			bool ok = true;
			for (int k = 0; k < n; k++)
				ok &= !(cs->v[i].original[ax[k]] && cs->v[i].idx[ax[k]] != val[k]);
			for (int k = 0; ok && k < n; k++)
				cs->v[i].idx[ax[k]] = val[k];
			added |= ok;
		}
		if (!added) {
			CM_PUSH(cs->v, cs->n, cs->cap);
			cs->v[cs->n] = blank(cs->max_axes);
			for (int k = 0; k < n; k++)
				cs->v[cs->n].idx[ax[k]] = val[k];
			cs->n++;
		}
	}
}

/* The guest's arguments: base_args (the disk placed where "{disk}" says), -kernel and its
 * friends, or the disk as an IDE drive (and the bundled guest's isa-debug-exit). */
static void guest_args(const struct cm_matrix *m, const struct cm_guest *g, struct cm_argv *a)
{
	bool disk_placed = false;
	for (size_t i = 0; i < m->nbase_args; i++) {
		const char *s = m->base_args[i], *at = g->disk ? strstr(s, "{disk}") : NULL;
		if (at) {
			cm_argv_add(a, "%.*s%s%s", (int)(at - s), s, g->disk, at + 6);
			disk_placed = true;
		} else {
			cm_argv_add(a, "%s", s);
		}
	}
	if (g->kernel) {
		cm_argv_add(a, "-kernel"), cm_argv_add(a, "%s", g->kernel);
		if (g->initrd)
			cm_argv_add(a, "-initrd"), cm_argv_add(a, "%s", g->initrd);
		if (g->append)
			cm_argv_add(a, "-append"), cm_argv_add(a, "%s", g->append);
	}
	if (!g->disk || disk_placed)
		return;
	cm_argv_add(a, "-drive");
	cm_argv_add(a, "file=%s,format=raw,if=ide,snapshot=on", g->disk);
	if (m->exit_status == 33 && strstr(g->disk, ".img")) {
		/* the bundled guest leaves through isa-debug-exit */
		bool have = false;
		for (size_t i = 0; i < m->nbase_args; i++)
			have |= strstr(m->base_args[i], "isa-debug-exit") != NULL;
		if (!have)
			cm_argv_add(a, "-device"), cm_argv_add(a, "isa-debug-exit,iobase=0x501,iosize=2");
	}
}

/* s with every "{build}" replaced by dir (a new string). */
static char *with_build(const char *s, const char *dir)
{
	struct cm_buf b = { 0 };
	const char *at;
	size_t n = strlen(CM_BUILD_PLACEHOLDER);
	while ((at = strstr(s, CM_BUILD_PLACEHOLDER))) {
		cm_buf_printf(&b, "%.*s%s", (int)(at - s), s, dir);
		s = at + n;
	}
	cm_buf_puts(&b, s);
	return cm_buf_steal(&b);
}

/* bisect's "{build}" in a case's argv: its build's folder; without builds, an error that
 * names the placeholder (it would reach qemu as a literal file name). */
static void expand_build(struct ctx *c, const struct combo *x, struct cm_case *cc,
			 yaml_node_t *root)
{
	struct cm_matrix *m = c->m;
	const char *dir = NULL;
	for (size_t ax = 0; c->builds && ax < m->naxes; ax++)
		if (!strcmp(m->axes[ax].name, CM_BUILD_AXIS) && x->idx[ax] >= 0)
			dir = c->builds->dirs[x->idx[ax]];
	for (size_t i = 0; i < cc->argc; i++) {
		if (!strstr(cc->argv[i], CM_BUILD_PLACEHOLDER))
			continue;
		if (!dir) {
			ERR(c, root, "'%s' in case %s's argument '%s': the placeholder is coldmark "
				     "bisect's (the folder of the build under test); outside bisect it "
				     "has no value", CM_BUILD_PLACEHOLDER, cc->id, cc->argv[i]);
			return;
		}
		char *s = with_build(cc->argv[i], dir);
		cc->argv[i] = (char *)mx_pool_intern(&c->m->pool, s); /* the old one is the pool's */
		free(s);
	}
}

/* The guest a combination boots: the first of its axis values that carries one, else the
 * matrix's. */
static struct cm_guest case_guest(const struct cm_matrix *m, const struct combo *x)
{
	for (size_t ax = 0; ax < m->naxes; ax++)
		if (x->idx[ax] >= 0 && m->axes[ax].values[x->idx[ax]].guest)
			return *m->axes[ax].values[x->idx[ax]].guest;
	return (struct cm_guest){ m->kernel, m->initrd, m->append, m->disk };
}

/* One case from one combination: its labels, id and exact argv. */
static void make_case(struct cm_matrix *m, const struct combo *x, struct cm_case *cc)
{
	struct cm_argv a = { 0 };
	struct cm_buf id = { 0 };
	struct cm_guest g = case_guest(m, x);
	cm_argv_add(&a, "%s", m->qemu);
	guest_args(m, &g, &a);
	cc->labels = cm_xcalloc(m->naxes ? m->naxes : 1, sizeof(char *));
	for (size_t ax = 0; ax < m->naxes; ax++) {
		if (x->idx[ax] < 0)
			continue;
		const struct cm_axis_value *v = &m->axes[ax].values[x->idx[ax]];
		if (!strcmp(m->axes[ax].name, "concurrency") && !m->axes[ax].ntmpl)
			cc->concurrency = atoi(v->label);
		cc->labels[ax] = cm_xstrdup(v->label);
		cm_buf_printf(&id, "%s%s=%s", id.len ? "," : "", m->axes[ax].name, v->label);
		for (size_t k = 0; k < v->nargs; k++)
			cm_argv_add(&a, "%s", v->args[k]);
	}
	/* to its size: the builder's 32-slot start was most of a case's memory at 10^5 cases */
	cc->argv = cm_xrealloc(a.v, (a.n + 1) * sizeof(char *));
	cc->argc = a.n;
	cc->id = id.len ? cm_buf_steal(&id) : cm_xstrdup("default");
	cm_buf_free(&id);
	mx_pool_case(&m->pool, cc, m->naxes);
}

/* One defined order (the one a report rebuilt from samples.csv has too), and unique ids: two
 * combinations may collide after include (sorted, so a large sweep stays fast). */
static void order_cases(struct ctx *c, yaml_node_t *root)
{
	struct cm_matrix *m = c->m;
	sort_naxes = m->naxes;
	qsort(m->cases, m->ncases, sizeof(*m->cases), case_order);
	const char **ids = cm_xcalloc(m->ncases + 1, sizeof(char *));
	for (size_t i = 0; i < m->ncases; i++)
		ids[i] = m->cases[i].id;
	qsort(ids, m->ncases, sizeof(char *), cmp_str);
	for (size_t i = 1; i < m->ncases; i++)
		if (!strcmp(ids[i - 1], ids[i]))
			ERR(c, root, "two cases have the same id '%s'", ids[i]);
	free(ids);
}

void mx_expand(struct ctx *c, yaml_node_t *root)
{
	struct cm_matrix *m = c->m;
	struct combos cs = { 0 };
	if (product(c, root, &cs))
		return;
	if (c->exclude && mx_want(c, c->exclude, YAML_SEQUENCE_NODE, "exclude"))
		apply_exclude(c, &cs);
	if (c->include && mx_want(c, c->include, YAML_SEQUENCE_NODE, "include"))
		apply_include(c, &cs);
	if (!cs.n && !c->d->n_errors)
		ERR(c, root, "the matrix has no cases left (exclude removed every one)");
	m->cases = cm_xcalloc(cs.n + 1, sizeof(*m->cases));
	for (size_t i = 0; i < cs.n; i++) {
		make_case(m, &cs.v[i], &m->cases[m->ncases]);
		expand_build(c, &cs.v[i], &m->cases[m->ncases++], root);
		free(cs.v[i].idx);
		free(cs.v[i].original);
	}
	free(cs.v);
	order_cases(c, root);
	/* the header hashes the matrix's guest files: under bisect, those of the first build */
	char **paths[] = { &m->kernel, &m->initrd, &m->disk };
	for (size_t i = 0; c->builds && c->builds->n && i < 3; i++)
		if (*paths[i] && strstr(*paths[i], CM_BUILD_PLACEHOLDER)) {
			char *s = with_build(*paths[i], c->builds->dirs[0]);
			free(*paths[i]);
			*paths[i] = s;
		}
}
