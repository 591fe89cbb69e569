/* Axes: built-in ones (memory, smp, ...) and templates of one's own, values as scalars,
 * {name, args} groups or ranges {from, to, step|factor}. */
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

/* ---- axes -------------------------------------------------------------------------------- */

static const char *const builtin_axes[] = { "memory", "machine", "cpu", "smp", "accel",
					    "firmware", "devices", "concurrency" };
#define NBUILTIN (sizeof(builtin_axes) / sizeof(builtin_axes[0]))

bool mx_is_builtin(const char *name)
{
	for (size_t i = 0; i < NBUILTIN; i++)
		if (!strcmp(builtin_axes[i], name))
			return true;
	return false;
}

static void push_arg(struct cm_axis_value *v, char *arg)
{
	v->args = cm_xrealloc(v->args, (v->nargs + 1) * sizeof(char *));
	v->args[v->nargs++] = arg;
}

/* The arguments a scalar value of a built-in or templated axis adds. */
int mx_scalar_args(struct ctx *c, const struct cm_axis *ax, const char *name, const char *val,
		       struct cm_axis_value *out, yaml_node_t *where)
{
	static const char *const flags[] = { "-m", "-machine", "-cpu", "-smp", "-accel", "-bios",
					     "-device" };
	if (ax && ax->ntmpl) {
		for (size_t i = 0; i < ax->ntmpl; i++) {
			struct cm_buf b = { 0 };
			for (const char *p = ax->tmpl[i]; *p; p++) {
				if (p[0] == '{' && p[1] == '}') {
					cm_buf_puts(&b, val);
					p++;
				} else {
					cm_buf_printf(&b, "%c", *p);
				}
			}
			push_arg(out, cm_buf_steal(&b));
		}
		return 0;
	}
	if (!(ax && ax->ntmpl) && !strcmp(name, "concurrency")) {
		/* boots at once, not a qemu argument: the runner reads the case's value */
		char *end;
		errno = 0;
		long k = strtol(val, &end, 10);
		if (errno || *end || end == val || k < 1 || k > 1024) {
			ERR(c, where, "concurrency '%s' is not a whole number of boots at once (1..1024)",
			    val);
			return -1;
		}
		return 0;
	}
	for (size_t i = 0; i < NBUILTIN; i++) {
		if (strcmp(builtin_axes[i], name))
			continue;
		if (!strcmp(name, "memory")) {
			uint64_t bytes;
			if (cm_parse_size(val, &bytes)) {
				ERR(c, where, "memory size '%s' does not parse (e.g. 512M, 2G)", val);
				return -1;
			}
		}
		if (!strcmp(name, "firmware")) {
			if (!strcmp(val, "default"))
				return 0;
			if (strchr(val, '/')) {
				char *p = mx_resolve_path(c, val);
				if (access(p, R_OK))
					ERR(c, where, "firmware file '%s' not found", val);
				push_arg(out, cm_xstrdup("-bios"));
				push_arg(out, p);
				return 0;
			}
		}
		push_arg(out, cm_xstrdup(flags[i]));
		push_arg(out, cm_xstrdup(val));
		return 0;
	}
	ERR(c, where, "axis '%s' has no template: declare it as %s: {template: [...], values: [...]}",
	    name, name);
	return -1;
}

char *mx_format_size(uint64_t b)
{
	static const char sfx[] = "KMGT";
	for (int i = 3; i >= 0; i--) {
		uint64_t u = 1ULL << (10 * (i + 1));
		if (b >= u && b % u == 0)
			return cm_xasprintf("%llu%c", (unsigned long long)(b / u), sfx[i]);
	}
	return cm_xasprintf("%lluB", (unsigned long long)b);
}

#define MAX_AXIS_VALUES 10000 /* more is a typo (a factor of 1.0001), not a sweep */

/* Is label among the axis's values? By a set of the labels of the axis last added to (a scan
 * per value was quadratic: 10^4 values of a range took 5*10^7 strcmp), rebuilt when another
 * axis comes (told by its count and its last label, which another axis cannot share). */
static bool label_seen(struct ctx *c, const struct cm_axis *ax, const char *label)
{
	const char *last = ax->nvalues ? ax->values[ax->nvalues - 1].label : NULL;
	if (c->labels_of != ax || c->labels.n != ax->nvalues || c->labels_last != last) {
		cm_strset_free(&c->labels);
		for (size_t i = 0; i < ax->nvalues; i++)
			cm_strset_add(&c->labels, ax->values[i].label, (long)i);
		c->labels_of = ax, c->labels_last = last;
	}
	return cm_strset_find(&c->labels, label) >= 0;
}

void mx_add_value(struct ctx *c, struct cm_axis *ax, const char *label, yaml_node_t *where,
		      struct cm_axis_value v)
{
	const char *bad = cm_has_control(label) ? label : cm_has_control(ax->name) ? ax->name : NULL;
	if (bad || ax->nvalues >= MAX_AXIS_VALUES) {
		mx_console_free(v.console, v.nconsole);
		if (bad) {
			struct cm_buf b = { 0 }; /* said with \xNN: the message reaches a terminal */
			for (const char *p = bad; *p; p++)
				cm_buf_printf(&b, (unsigned char)*p < 0x20 || *p == 0x7f ? "\\x%02x" : "%c",
					      (unsigned char)*p);
			ERR(c, where, "a control character in the axis %s '%s' (it would reach "
				      "terminals and reports)", bad == label ? "value" : "name", b.s);
			cm_buf_free(&b);
		}
		else
			ERR(c, where, "axis '%s' has more than %d values", ax->name, MAX_AXIS_VALUES);
		for (size_t a = 0; a < v.nargs; a++)
			free(v.args[a]);
		free(v.args);
		mx_guest_free(v.guest);
		return;
	}
	if (label_seen(c, ax, label)) {
		mx_console_free(v.console, v.nconsole);
		ERR(c, where, "axis '%s' lists '%s' twice", ax->name, label);
		for (size_t a = 0; a < v.nargs; a++)
			free(v.args[a]);
		free(v.args);
		mx_guest_free(v.guest);
		return;
	}
	v.label = cm_xstrdup(label);
	v.line = (int)where->start_mark.line + 1;
	v.col = (int)where->start_mark.column + 1;
	size_t n = ax->nvalues; /* room for 4, then doubled at each power of two: no capacity field */
	if (!n || (n >= 4 && !(n & (n - 1))))
		ax->values = cm_xrealloc(ax->values, (n ? 2 * n : 4) * sizeof(*ax->values));
	ax->values[ax->nvalues++] = v;
	cm_strset_add(&c->labels, v.label, (long)n);
	c->labels_last = v.label;
}

static void axis_range(struct ctx *c, struct cm_axis *ax, yaml_node_t *n)
{
	const char *from = NULL, *to = NULL, *step = NULL, *factor = NULL;
	for (yaml_node_pair_t *p = n->data.mapping.pairs.start; p < n->data.mapping.pairs.top; p++) {
		const char *k = mx_scalar(mx_node(c, p->key)), *v = mx_scalar(mx_node(c, p->value));
		if (k && v && !strcmp(k, "from"))
			from = v;
		else if (k && v && !strcmp(k, "to"))
			to = v;
		else if (k && v && !strcmp(k, "step"))
			step = v;
		else if (k && v && !strcmp(k, "factor"))
			factor = v;
		else if (!k || (strcmp(k, "template") && strcmp(k, "values")))
			ERR(c, mx_node(c, p->key), "a range is {from, to, step|factor}");
	}
	if (!from || !to || (!step && !factor) || (step && factor)) {
		ERR(c, n, "axis '%s': a range needs from, to and one of step or factor", ax->name);
		return;
	}
	bool sizes = !strcmp(ax->name, "memory");
	double lo, hi, st;
	uint64_t b;
	char *end;
	if (sizes) {
		if (cm_parse_size(from, &b))
			return (void)ERR(c, n, "memory size '%s' does not parse", from);
		lo = (double)b;
		if (cm_parse_size(to, &b))
			return (void)ERR(c, n, "memory size '%s' does not parse", to);
		hi = (double)b;
	} else {
		lo = strtod(from, &end);
		if (*end)
			return (void)ERR(c, n, "range 'from' is not a number: %s", from);
		hi = strtod(to, &end);
		if (*end)
			return (void)ERR(c, n, "range 'to' is not a number: %s", to);
	}
	if (step && sizes && !cm_parse_size(step, &b))
		st = (double)b;
	else
		st = strtod(step ? step : factor, &end);
	if (!(st > 0) || (factor && !(st > 1)) || !(hi >= lo)) {
		ERR(c, n, "axis '%s': empty or endless range (from %s to %s by %s)", ax->name, from,
		    to, step ? step : factor);
		return;
	}
	size_t count = 0;
	char *prev = NULL;
	for (double x = lo; x <= hi * (1 + 1e-12); x = factor ? x * st : x + st) {
		if (++count > MAX_AXIS_VALUES) {
			ERR(c, n, "axis '%s': the range makes more than %d values (from %s to %s by %s)",
			    ax->name, MAX_AXIS_VALUES, from, to, step ? step : factor);
			break;
		}
		/* sizes in whole MiB, qemu's unit for -m: every label is one the parser reads
		 * back, and values that round to the same size are one value */
		uint64_t mib = (uint64_t)(x / 1048576.0 + 0.5);
		char *label = sizes ? mx_format_size((mib ? mib : 1) << 20) : cm_xasprintf("%.15g", x);
		struct cm_axis_value v = { 0 };
		if (prev && !strcmp(prev, label))
			free(label);
		else {
			if (!mx_scalar_args(c, ax, ax->name, label, &v, n))
				mx_add_value(c, ax, label, n, v);
			free(prev);
			prev = label;
		}
	}
	free(prev);
}

static void axis_values(struct ctx *c, struct cm_axis *ax, yaml_node_t *n)
{
	if (n->type == YAML_MAPPING_NODE) {
		axis_range(c, ax, n);
		return;
	}
	if (!mx_want(c, n, YAML_SEQUENCE_NODE, ax->name))
		return;
	for (yaml_node_item_t *i = n->data.sequence.items.start; i < n->data.sequence.items.top; i++) {
		yaml_node_t *e = mx_node(c, *i);
		struct cm_axis_value v = { 0 };
		if (e->type == YAML_SCALAR_NODE) {
			if (!*mx_scalar(e)) {
				ERR(c, e, "axis '%s': empty value", ax->name);
				continue;
			}
			if (!mx_scalar_args(c, ax, ax->name, mx_scalar(e), &v, e))
				mx_add_value(c, ax, mx_scalar(e), e, v);
			continue;
		}
		if (!mx_want(c, e, YAML_MAPPING_NODE, "an axis value"))
			continue;
		yaml_node_t *markers = NULL; /* its own console markers */
		const char *name = NULL;
		yaml_node_t *args = NULL, *guest = NULL;
		for (yaml_node_pair_t *p = e->data.mapping.pairs.start; p < e->data.mapping.pairs.top;
		     p++) {
			const char *k = mx_scalar(mx_node(c, p->key));
			if (k && !strcmp(k, "name"))
				name = mx_scalar(mx_node(c, p->value));
			else if (k && !strcmp(k, "markers"))
				markers = mx_node(c, p->value);
			else if (k && !strcmp(k, "args"))
				args = mx_node(c, p->value);
			else if (k && !strcmp(k, "guest"))
				guest = mx_node(c, p->value);
			else
				ERR(c, mx_node(c, p->key), "a named value is {name, args, guest, markers}");
		}
		if (!name || !mx_valid_name(name)) {
			ERR(c, e, "axis '%s': a named value needs a name of [A-Za-z0-9_-]+", ax->name);
			continue;
		}
		if (markers)
			mx_parse_value_markers(c, markers, &v);
		if (args)
			mx_strlist(c, args, "args", &v.args, &v.nargs);
		if (guest && !(v.guest = mx_parse_value_guest(c, guest)))
			continue;
		mx_check_debug_exit(c, e, v.args, v.nargs);
		mx_add_value(c, ax, name, e, v);
	}
}

void mx_guest_free(struct cm_guest *g)
{
	if (!g)
		return;
	free(g->kernel), free(g->initrd), free(g->append), free(g->disk);
	free(g);
}

/* A guest file qemu can read; one under bisect's "{build}" is checked once it is built. */
static bool guest_file_ok(struct ctx *c, const char *key, const char *path, yaml_node_t *at)
{
	struct stat st;
	if (strstr(path, CM_BUILD_PLACEHOLDER) ||
	    (!access(path, R_OK) && !stat(path, &st) && !S_ISDIR(st.st_mode)))
		return true;
	ERR(c, at, "guest.%s: guest file '%s' not found, not readable or not a file", key, path);
	return false;
}

/* An axis value's guest: the keys of the matrix's guest, its paths relative to the file. */
struct cm_guest *mx_parse_value_guest(struct ctx *c, yaml_node_t *n)
{
	if (!mx_want(c, n, YAML_MAPPING_NODE, "an axis value's guest"))
		return NULL;
	struct cm_guest *g = cm_xcalloc(1, sizeof(*g));
	bool ok = true;
	for (yaml_node_pair_t *p = n->data.mapping.pairs.start; p < n->data.mapping.pairs.top; p++) {
		yaml_node_t *kn = mx_node(c, p->key), *vn = mx_node(c, p->value);
		const char *k = mx_scalar(kn), *v = mx_scalar(vn);
		if (!k || !v || !*v) {
			ERR(c, kn, "a guest maps bundled, kernel, initrd, append or disk to a value");
			ok = false;
			continue;
		}
		char **dst = !strcmp(k, "kernel") ? &g->kernel : !strcmp(k, "initrd") ? &g->initrd
			   : !strcmp(k, "append") ? &g->append : !strcmp(k, "disk") ? &g->disk
			   : !strcmp(k, "bundled") ? &g->disk : NULL;
		if (!dst || *dst) {
			ERR(c, kn, dst ? "guest: '%s' given twice (bundled and disk are one image)"
				       : "guest: unknown key '%s' (bundled, kernel, initrd, append, disk)", k);
			ok = false;
			continue;
		}
		if (!strcmp(k, "bundled")) {
			if (!mx_valid_name(v)) {
				ERR(c, vn, "guest.bundled: '%s' is not a bundled guest name", v);
				ok = false;
				continue;
			}
			const char *dir = getenv("COLDMARK_GUEST_DIR");
			*dst = cm_xasprintf("%s/%s.img", dir ? dir : COLDMARK_GUEST_DIR, v);
			if (!c->set_exit_status)
				c->m->exit_status = 33; /* isa-debug-exit with value 0x10 */
		} else {
			*dst = strcmp(k, "append") ? mx_resolve_path(c, v) : cm_xstrdup(v);
		}
		if (strcmp(k, "append"))
			ok &= guest_file_ok(c, k, *dst, vn);
	}
	if (ok && !g->kernel && !g->disk) {
		ERR(c, n, "an axis value's guest needs bundled, kernel or disk");
		ok = false;
	}
	if (ok && g->initrd && !g->kernel) {
		ERR(c, n, "guest.initrd needs guest.kernel");
		ok = false;
	}
	if (!ok) {
		mx_guest_free(g);
		return NULL;
	}
	return g;
}

void mx_add_build_axis(struct ctx *c, yaml_node_t *root)
{
	for (size_t i = 0; i < c->m->naxes; i++)
		if (!strcmp(c->m->axes[i].name, CM_BUILD_AXIS)) {
			ERR(c, root, "axis '%s' is coldmark bisect's own (one value per build): "
				     "rename the matrix's", CM_BUILD_AXIS);
			return;
		}
	struct cm_axis ax = { .name = cm_xstrdup(CM_BUILD_AXIS), .line = 1, .col = 1 };
	for (size_t b = 0; b < c->builds->n; b++)
		mx_add_value(c, &ax, c->builds->names[b], root, (struct cm_axis_value){ 0 });
	c->m->axes = cm_xrealloc(c->m->axes, (c->m->naxes + 1) * sizeof(*c->m->axes));
	c->m->axes[c->m->naxes++] = ax;
}

void mx_parse_axes(struct ctx *c, yaml_node_t *n)
{
	if (!mx_want(c, n, YAML_MAPPING_NODE, "axes"))
		return;
	for (yaml_node_pair_t *p = n->data.mapping.pairs.start; p < n->data.mapping.pairs.top; p++) {
		yaml_node_t *kn = mx_node(c, p->key), *vn = mx_node(c, p->value);
		const char *name = mx_scalar(kn);
		if (!name || !mx_valid_name(name)) {
			ERR(c, kn, "axis names are [A-Za-z0-9_-]+");
			continue;
		}
		if (cm_samples_reserved_column(name) || !strcmp(name, CM_REFERENCE_ID)) {
			ERR(c, kn, "'%s' is a column of samples.csv or the reference cases' name: an "
				   "axis cannot have that name", name);
			continue;
		}
		bool dup = false;
		for (size_t i = 0; i < c->m->naxes; i++)
			if (!strcmp(c->m->axes[i].name, name))
				dup = true;
		if (dup) {
			ERR(c, kn, "duplicate key 'axes.%s'", name);
			continue;
		}
		struct cm_axis ax = { .name = cm_xstrdup(name),
				      .line = (int)kn->start_mark.line + 1,
				      .col = (int)kn->start_mark.column + 1 };
		yaml_node_t *values = vn;
		if (vn->type == YAML_MAPPING_NODE) {
			/* {template, values} declares a custom axis; {from, to, ...} is a range */
			yaml_node_t *tmpl = NULL;
			values = NULL;
			for (yaml_node_pair_t *q = vn->data.mapping.pairs.start;
			     q < vn->data.mapping.pairs.top; q++) {
				const char *k = mx_scalar(mx_node(c, q->key));
				if (k && !strcmp(k, "template"))
					tmpl = mx_node(c, q->value);
				else if (k && !strcmp(k, "values"))
					values = mx_node(c, q->value);
			}
			if (tmpl)
				mx_strlist(c, tmpl, "template", &ax.tmpl, &ax.ntmpl);
			if (!values)
				values = vn;
		} else if (!mx_is_builtin(name) && vn->type == YAML_SEQUENCE_NODE) {
			/* a custom axis without template must use named groups */
			bool all_groups = true;
			for (yaml_node_item_t *i = vn->data.sequence.items.start;
			     i < vn->data.sequence.items.top; i++)
				if (mx_node(c, *i)->type != YAML_MAPPING_NODE)
					all_groups = false;
			if (!all_groups) {
				const char *best = NULL;
				size_t bd = 3;
				for (size_t i = 0; i < NBUILTIN; i++)
					if (cm_edit_distance(name, builtin_axes[i]) < bd)
						bd = cm_edit_distance(name, builtin_axes[i]),
						best = builtin_axes[i];
				if (best)
					ERR(c, kn, "unknown axis '%s' (did you mean '%s'?)", name, best);
				else
					ERR(c, kn, "unknown axis '%s': give it a template "
						"({template: [-flag, \"{}\"], values: [...]}) or named values",
					    name);
				free(ax.name);
				continue;
			}
		}
		axis_values(c, &ax, values);
		if (!ax.nvalues && values && values->type == YAML_SEQUENCE_NODE)
			ERR(c, vn, "axis '%s' is empty", name);
		c->m->axes = cm_xrealloc(c->m->axes, (c->m->naxes + 1) * sizeof(*c->m->axes));
		c->m->axes[c->m->naxes++] = ax;
	}
}

