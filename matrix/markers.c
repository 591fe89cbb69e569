/* The marker protocol and the other custom keys: base_args, run.env, markers.ports, .table,
 * phases (markers.console: console.c); the presets, and the checks of every event a phase names. */
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

/* ---- custom keys ------------------------------------------------------------------------- */

void mx_strlist(struct ctx *c, yaml_node_t *n, const char *what, char ***out, size_t *nout)
{
	if (!mx_want(c, n, YAML_SEQUENCE_NODE, what))
		return;
	for (yaml_node_item_t *i = n->data.sequence.items.start; i < n->data.sequence.items.top; i++) {
		yaml_node_t *e = mx_node(c, *i);
		if (!mx_want(c, e, YAML_SCALAR_NODE, what))
			continue;
		*out = cm_xrealloc(*out, (*nout + 2) * sizeof(char *));
		(*out)[(*nout)++] = cm_xstrdup(mx_scalar(e));
		(*out)[*nout] = NULL;
	}
}

/* isa-debug-exit on a marker port turns the first marker into a qemu exit. */
void mx_check_debug_exit(struct ctx *c, yaml_node_t *where, char **args, size_t nargs)
{
	for (size_t i = 0; i < nargs; i++) {
		if (!strstr(args[i], "isa-debug-exit"))
			continue;
		const char *io = strstr(args[i], "iobase=");
		unsigned long base = io ? strtoul(io + 7, NULL, 0) : 0x501;
		for (size_t p = 0; p < c->m->nports; p++)
			if (c->m->ports[p] == base)
				ERR(c, where,
				    "isa-debug-exit at iobase 0x%lx is on a marker port: the first marker "
				    "would exit qemu (use iobase=0x501)",
				    base);
	}
}

void mx_parse_base_args(struct ctx *c, yaml_node_t *n)
{
	mx_strlist(c, n, "base_args", &c->m->base_args, &c->m->nbase_args);
	c->base_args_node = n;
}

void mx_parse_env(struct ctx *c, yaml_node_t *n)
{
	if (!mx_want(c, n, YAML_MAPPING_NODE, "run.env"))
		return;
	for (yaml_node_pair_t *p = n->data.mapping.pairs.start; p < n->data.mapping.pairs.top; p++) {
		const char *k = mx_scalar(mx_node(c, p->key)), *v = mx_scalar(mx_node(c, p->value));
		if (!k || !v || !*k || strchr(k, '=')) {
			ERR(c, mx_node(c, p->key), "run.env: entries must be NAME: value scalars");
			continue;
		}
		c->m->env = cm_xrealloc(c->m->env, (c->m->nenv + 2) * sizeof(char *));
		c->m->env[c->m->nenv++] = cm_xasprintf("%s=%s", k, v);
		c->m->env[c->m->nenv] = NULL;
	}
}

void mx_parse_ports(struct ctx *c, yaml_node_t *n)
{
	if (c->ports_done) /* parsed ahead of the other keys */
		return;
	char **l = NULL;
	size_t nl = 0;
	mx_strlist(c, n, "markers.ports", &l, &nl);
	c->m->nports = 0;
	for (size_t i = 0; i < nl; i++) {
		int64_t v;
		if (mx_parse_int(l[i], &v) || v < 0 || v > 0xffff)
			ERR(c, n, "markers.ports: '%s' is not an I/O port (0..0xffff)", l[i]);
		else {
			c->m->ports = cm_xrealloc(c->m->ports, (c->m->nports + 1) * sizeof(unsigned));
			c->m->ports[c->m->nports++] = (unsigned)v;
		}
		free(l[i]);
	}
	free(l);
	if (!c->m->nports && !c->d->n_errors)
		ERR(c, n, "markers.ports: at least one port is needed");
}

bool mx_valid_name(const char *s)
{
	if (!*s)
		return false;
	for (; *s; s++)
		if (!isalnum((unsigned char)*s) && *s != '_' && *s != '-')
			return false;
	return true;
}

/* the events coldmark stamps itself, and the phase it always reports */
bool mx_is_reserved(const char *name)
{
	return !strcmp(name, CM_EVENT_EXEC) || !strcmp(name, CM_EVENT_EXIT) ||
	       !strcmp(name, CM_EVENT_FIRST_ENTRY) || !strcmp(name, "total");
}

void mx_add_marker(struct cm_matrix *m, unsigned port, unsigned value, const char *name)
{
	m->markers = cm_xrealloc(m->markers, (m->nmarkers + 1) * sizeof(*m->markers));
	m->markers[m->nmarkers++] = (struct cm_marker){ port, value, cm_xstrdup(name) };
}

void mx_clear_markers(struct cm_matrix *m)
{
	for (size_t i = 0; i < m->nmarkers; i++)
		free(m->markers[i].name);
	m->nmarkers = 0;
}

void mx_parse_table(struct ctx *c, yaml_node_t *n)
{
	if (!mx_want(c, n, YAML_SEQUENCE_NODE, "markers.table"))
		return;
	mx_clear_markers(c->m);
	c->set_preset = true; /* an explicit table replaces the preset's */
	for (yaml_node_item_t *i = n->data.sequence.items.start; i < n->data.sequence.items.top; i++) {
		yaml_node_t *e = mx_node(c, *i);
		if (!mx_want(c, e, YAML_MAPPING_NODE, "a markers.table entry"))
			continue;
		int64_t value = -1, port = -1;
		const char *name = NULL;
		for (yaml_node_pair_t *p = e->data.mapping.pairs.start; p < e->data.mapping.pairs.top;
		     p++) {
			const char *k = mx_scalar(mx_node(c, p->key));
			yaml_node_t *vn = mx_node(c, p->value);
			const char *v = mx_scalar(vn);
			if (!k || !v) {
				ERR(c, vn, "markers.table entries are {value, name, port} scalars");
			} else if (!strcmp(k, "value")) {
				if (mx_parse_int(v, &value) || value < 0 || value > 0xffffffffLL)
					ERR(c, vn, "marker value '%s' is not a number", v), value = -2;
			} else if (!strcmp(k, "port")) {
				if (mx_parse_int(v, &port) || port < 0 || port > 0xffff)
					ERR(c, vn, "marker port '%s' is not an I/O port", v), port = -2;
			} else if (!strcmp(k, "name")) {
				name = v;
				if (!mx_valid_name(v) || mx_is_reserved(v))
					ERR(c, vn, "marker name '%s' must be [A-Za-z0-9_-]+ and not a host event", v),
						name = NULL;
			} else {
				ERR(c, mx_node(c, p->key), "unknown key '%s' in a markers.table entry "
					"(value, name, port)", k);
			}
		}
		if (value == -1 || !name) {
			if (value != -2)
				ERR(c, e, "a markers.table entry needs a value and a name");
			continue;
		}
		if (value < 0 || port == -2)
			continue;
		unsigned prt = port >= 0 ? (unsigned)port : c->m->nports ? c->m->ports[0] : 0xf4;
		bool dup = false;
		for (size_t j = 0; j < c->m->nmarkers; j++) {
			if (c->m->markers[j].port == prt && c->m->markers[j].value == (unsigned)value) {
				ERR(c, e, "marker value %lld on port 0x%x is used twice ('%s' and '%s')",
				    (long long)value, prt, c->m->markers[j].name, name);
				dup = true;
			} else if (!strcmp(c->m->markers[j].name, name)) {
				ERR(c, e, "marker name '%s' is used twice", name);
				dup = true;
			}
		}
		if (!dup)
			mx_add_marker(c->m, prt, (unsigned)value, name);
	}
}

void mx_add_phase(struct cm_matrix *m, const char *name, const char *from, const char *to)
{
	m->phases = cm_xrealloc(m->phases, (m->nphases + 1) * sizeof(*m->phases));
	m->phases[m->nphases++] =
		(struct cm_phase){ cm_xstrdup(name), cm_xstrdup(from), cm_xstrdup(to) };
}

void mx_parse_phases(struct ctx *c, yaml_node_t *n)
{
	if (!mx_want(c, n, YAML_SEQUENCE_NODE, "phases"))
		return;
	c->set_phases = true;
	c->phases_node = n;
	for (yaml_node_item_t *i = n->data.sequence.items.start; i < n->data.sequence.items.top; i++) {
		yaml_node_t *e = mx_node(c, *i);
		if (!mx_want(c, e, YAML_MAPPING_NODE, "a phase"))
			continue;
		const char *f[3] = { 0 };
		static const char *const names[3] = { "name", "from", "to" };
		for (yaml_node_pair_t *p = e->data.mapping.pairs.start; p < e->data.mapping.pairs.top;
		     p++) {
			const char *k = mx_scalar(mx_node(c, p->key));
			const char *v = mx_scalar(mx_node(c, p->value));
			int j = 0;
			while (j < 3 && (!k || strcmp(k, names[j])))
				j++;
			if (j == 3 || !v)
				ERR(c, mx_node(c, p->key), "a phase is {name, from, to} with scalar values");
			else
				f[j] = v;
		}
		if (!f[0] || !f[1] || !f[2]) {
			ERR(c, e, "a phase needs name, from and to");
			continue;
		}
		if (!mx_valid_name(f[0]) || !strcmp(f[0], "total") || cm_is_metric(f[0])) {
			char *metrics = cm_metric_list();
			ERR(c, e, "phase name '%s' must be [A-Za-z0-9_-]+ and not 'total', %s "
				  "(what a boot costs the host is recorded under those)", f[0], metrics);
			free(metrics);
			continue;
		}
		mx_add_phase(c->m, f[0], f[1], f[2]);
	}
}

/* ---- presets and event checks ------------------------------------------------------------ */

/* The marker presets as data: each marker's port (0: the matrix's first marker port), value
 * and name; the end marker and the phases a preset brings when the matrix names none (NULL:
 * the last marker, and exec -> first marker -> ... -> last marker). */
struct preset {
	const char *name;
	struct {
		unsigned port, value;
		const char *name;
	} markers[8];
	const char *end;
	const char *phases[4][3]; /* name, from, to */
};

static const struct preset presets[] = {
	{ "coldmark-guest", { { 0, 0x10, "real_mode" }, { 0, 0x20, "long_mode" },
			      { 0, 0x30, "work_done" } } },
	{ "nanos", { { 0, 10, "stage1" }, { 0, 200, "first_thread" } } },
	/* qemu-boot-time puts firmware markers on 0xf5 and Linux's on 0xf4 */
	{ "qemu-boot-time",
	  { { 0xf5, 1, "fw_start" }, { 0xf4, 2, "linux_start_fwcfg" }, { 0xf4, 3, "linux_start_boot" },
	    { 0xf4, 4, "linux_start_pvhboot" }, { 0xf5, 5, "fw_do_boot" },
	    { 0xf4, 6, "linux_start_kernel" }, { 0xf4, 7, "linux_start_user" } },
	  "linux_start_user",
	  { { "qemu_init", CM_EVENT_EXEC, CM_EVENT_FIRST_ENTRY },
	    { "kernel", "linux_start_kernel", "linux_start_user" },
	    { "to_user", CM_EVENT_EXEC, "linux_start_user" } } },
	{ "none" },
};

static const struct preset *find_preset(const char *name)
{
	for (size_t i = 0; i < sizeof(presets) / sizeof(presets[0]); i++)
		if (!strcmp(presets[i].name, name))
			return &presets[i];
	return &presets[sizeof(presets) / sizeof(presets[0]) - 1];
}

/* every port a marker uses is traced */
static void trace_marker_ports(struct cm_matrix *m)
{
	for (size_t i = 0; i < m->nmarkers; i++) {
		bool have = false;
		for (size_t j = 0; j < m->nports; j++)
			have |= m->ports[j] == m->markers[i].port;
		if (!have) {
			m->ports = cm_xrealloc(m->ports, (m->nports + 1) * sizeof(unsigned));
			m->ports[m->nports++] = m->markers[i].port;
		}
	}
}

void mx_apply_preset(struct ctx *c)
{
	struct cm_matrix *m = c->m;
	const struct preset *pr = find_preset(m->marker_preset);
	/* a table of the matrix's own replaces the preset's markers (and its phases and end) */
	bool own_table = c->set_preset && m->nmarkers;
	if (!own_table) {
		unsigned port = m->nports ? m->ports[0] : 0xf4;
		mx_clear_markers(m);
		for (size_t i = 0; i < 8 && pr->markers[i].name; i++)
			mx_add_marker(m, pr->markers[i].port ? pr->markers[i].port : port,
				      pr->markers[i].value, pr->markers[i].name);
	}
	trace_marker_ports(m);
	bool preset_extras = pr->end && !c->set_preset;
	if (!m->end_marker && m->nmarkers)
		m->end_marker = cm_xstrdup(preset_extras ? pr->end : m->markers[m->nmarkers - 1].name);
	if (c->set_phases)
		return;
	if (preset_extras) {
		for (size_t i = 0; i < 4 && pr->phases[i][0]; i++)
			mx_add_phase(m, pr->phases[i][0], pr->phases[i][1], pr->phases[i][2]);
		return;
	}
	/* default: exec -> first marker -> ... -> last marker, in table order */
	const char *prev = CM_EVENT_EXEC;
	for (size_t i = 0; i < m->nmarkers; i++) {
		mx_add_phase(m, m->markers[i].name, prev, m->markers[i].name);
		prev = m->markers[i].name;
	}
}

bool mx_known_event(const struct cm_matrix *m, const char *e)
{
	return !strcmp(e, CM_EVENT_EXEC) || !strcmp(e, CM_EVENT_EXIT) ||
	       !strcmp(e, CM_EVENT_FIRST_ENTRY) || cm_matrix_marker_by_name(m, e) ||
	       cm_matrix_is_console_marker(m, e);
}

/* root[section][key]'s value node, for an error's position; root when absent */
yaml_node_t *mx_at_key(struct ctx *c, yaml_node_t *root, const char *section, const char *key)
{
	const char *path[2] = { section, key };
	yaml_node_t *n = root;
	for (int i = 0; i < 2; i++) {
		yaml_node_t *next = NULL;
		if (n->type == YAML_MAPPING_NODE)
			for (yaml_node_pair_t *p = n->data.mapping.pairs.start;
			     p < n->data.mapping.pairs.top && !next; p++)
				if (mx_scalar(mx_node(c, p->key)) && !strcmp(mx_scalar(mx_node(c, p->key)), path[i]))
					next = mx_node(c, p->value);
		if (!next)
			return root;
		n = next;
	}
	return n;
}

bool cm_matrix_has_phase(const struct cm_matrix *m, const char *name)
{
	for (size_t i = 0; i < m->nphases; i++)
		if (!strcmp(m->phases[i].name, name))
			return true;
	return !strcmp(name, "total") || cm_is_metric(name);
}

void mx_check_events(struct ctx *c, yaml_node_t *root)
{
	struct cm_matrix *m = c->m;
	for (size_t i = 0; i < m->nphases; i++) {
		const char *ends[2] = { m->phases[i].from, m->phases[i].to };
		for (int j = 0; j < 2; j++) {
			if (mx_known_event(m, ends[j]))
				continue;
			yaml_node_t *at = root;
			if (c->phases_node && i < (size_t)(c->phases_node->data.sequence.items.top -
							c->phases_node->data.sequence.items.start))
				at = mx_node(c, c->phases_node->data.sequence.items.start[i]);
			ERR(c, at, "phase '%s' names unknown event '%s' (events: exec, first_entry, "
				"exit, or a marker name)", m->phases[i].name, ends[j]);
		}
	}
	for (size_t k = 0; k < m->nconsole; k++)
		if (cm_matrix_marker_by_name(m, m->console[k].name))
			ERR(c, mx_at_key(c, root, "markers", "console"), "marker '%s' is named twice "
				"(a port marker and a console marker)", m->console[k].name);
	if (m->end_marker && !cm_matrix_marker_by_name(m, m->end_marker) &&
	    !cm_matrix_is_console_marker(m, m->end_marker))
		ERR(c, mx_at_key(c, root, "markers", "end"), "markers.end names unknown marker '%s'",
		    m->end_marker);
	if (m->until_ci_phase && !cm_matrix_has_phase(m, m->until_ci_phase)) {
		struct cm_buf names = { 0 };
		for (size_t i = 0; i < m->nphases; i++)
			cm_buf_printf(&names, "%s, ", m->phases[i].name);
		ERR(c, mx_at_key(c, root, "run", "until_ci_phase"),
		    "run.until_ci_phase names unknown phase '%s' (phases: %stotal)", m->until_ci_phase,
		    names.s ? names.s : "");
		cm_buf_free(&names);
	}
}

