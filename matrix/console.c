/* Console markers: markers.console and an axis value's own (markers: {console: [...]}), each
 * {name, match|regex[, nth]}; which of them a case has; and the check that every case has the
 * console markers its phases and end marker need. */
#include <regex.h>
#include <stdlib.h>
#include <string.h>
#include <yaml.h>

#include "internal.h"

/* A regular expression the console source will compile the same way; regerror's words at
 * the pattern's line and column when it does not compile. */
static bool regex_ok(struct ctx *c, yaml_node_t *at, const char *name, const char *pat)
{
	regex_t re;
	int rc = regcomp(&re, pat, REG_EXTENDED | REG_NOSUB);
	if (!rc) {
		regfree(&re);
		return true;
	}
	char why[256];
	regerror(rc, &re, why, sizeof(why));
	ERR(c, at, "console marker '%s': regex '%s' does not compile: %s", name, pat, why);
	return false;
}

/* One {name, match|regex[, nth]} entry into *out; false after an error. */
static bool parse_entry(struct ctx *c, yaml_node_t *e, struct cm_console_marker *out)
{
	const char *name = NULL, *match = NULL, *regex = NULL;
	yaml_node_t *name_node = e, *pat_node = e;
	int64_t nth = 1;
	bool ok = true;
	for (yaml_node_pair_t *p = e->data.mapping.pairs.start; p < e->data.mapping.pairs.top; p++) {
		yaml_node_t *vn = mx_node(c, p->value);
		const char *k = mx_scalar(mx_node(c, p->key)), *v = mx_scalar(vn);
		if (k && v && !strcmp(k, "name"))
			name = v, name_node = vn;
		else if (k && v && !strcmp(k, "match"))
			match = v, pat_node = vn;
		else if (k && v && !strcmp(k, "regex"))
			regex = v, pat_node = vn;
		else if (k && v && !strcmp(k, "nth")) {
			if (mx_parse_int(v, &nth) || nth < 1 || nth > 1000000) {
				ERR(c, vn, "console marker nth: '%s' is not a count from 1 (the nth "
					   "matching line)", v);
				ok = false;
			}
		} else {
			ERR(c, mx_node(c, p->key), "a console marker is {name, match|regex[, nth]}");
			ok = false;
		}
	}
	if (!name || !mx_valid_name(name) || !(match || regex) || (match && regex) ||
	    !*(match ? match : regex)) {
		ERR(c, e, "a console marker needs a name of [A-Za-z0-9_-]+ and a non-empty match "
			  "(a substring) or regex (POSIX extended, per line), not both");
		return false;
	}
	/* a console line named exec would stand in for qemu's own exec event: every phase from
	 * it would start at a console line, every boot out of order */
	if (mx_is_reserved(name)) {
		ERR(c, name_node, "marker name '%s' is a host event's (exec, first_entry, exit, "
			"total): choose another", name);
		return false;
	}
	if (regex && !regex_ok(c, pat_node, name, regex))
		return false;
	if (!ok)
		return false;
	*out = (struct cm_console_marker){ cm_xstrdup(name), cm_xstrdup(match ? match : regex),
					   regex != NULL, nth };
	return true;
}

void mx_console_list(struct ctx *c, yaml_node_t *n, const char *what,
		     struct cm_console_marker **list, size_t *nlist)
{
	if (!mx_want(c, n, YAML_SEQUENCE_NODE, what))
		return;
	for (yaml_node_item_t *i = n->data.sequence.items.start; i < n->data.sequence.items.top; i++) {
		yaml_node_t *e = mx_node(c, *i);
		struct cm_console_marker cm;
		if (!mx_want(c, e, YAML_MAPPING_NODE, "a console marker") || !parse_entry(c, e, &cm))
			continue;
		/* against the port markers: in check_events, once the preset is in */
		bool dup = false;
		for (size_t k = 0; k < *nlist; k++)
			dup |= !strcmp((*list)[k].name, cm.name);
		if (dup) {
			ERR(c, e, "marker '%s' is named twice", cm.name);
			free(cm.name), free(cm.match);
			continue;
		}
		*list = cm_xrealloc(*list, (*nlist + 1) * sizeof(**list));
		(*list)[(*nlist)++] = cm;
	}
}

void mx_parse_console(struct ctx *c, yaml_node_t *n)
{
	mx_console_list(c, n, "markers.console", &c->m->console, &c->m->nconsole);
}

void mx_parse_value_markers(struct ctx *c, yaml_node_t *n, struct cm_axis_value *v)
{
	if (!mx_want(c, n, YAML_MAPPING_NODE, "an axis value's markers"))
		return;
	for (yaml_node_pair_t *p = n->data.mapping.pairs.start; p < n->data.mapping.pairs.top; p++) {
		const char *k = mx_scalar(mx_node(c, p->key));
		if (k && !strcmp(k, "console"))
			mx_console_list(c, mx_node(c, p->value), "markers.console", &v->console,
					&v->nconsole);
		else
			ERR(c, mx_node(c, p->key), "an axis value's markers are {console: [...]} (port "
				"markers are the matrix's)");
	}
}

void mx_console_free(struct cm_console_marker *list, size_t n)
{
	for (size_t i = 0; i < n; i++)
		free(list[i].name), free(list[i].match);
	free(list);
}

bool cm_matrix_is_console_marker(const struct cm_matrix *m, const char *name)
{
	for (size_t i = 0; i < m->nconsole; i++)
		if (!strcmp(m->console[i].name, name))
			return true;
	for (size_t a = 0; a < m->naxes; a++)
		for (size_t v = 0; v < m->axes[a].nvalues; v++)
			for (size_t k = 0; k < m->axes[a].values[v].nconsole; k++)
				if (!strcmp(m->axes[a].values[v].console[k].name, name))
					return true;
	return false;
}

bool cm_matrix_uses_console(const struct cm_matrix *m)
{
	for (size_t a = 0; a < m->naxes; a++)
		for (size_t v = 0; v < m->axes[a].nvalues; v++)
			if (m->axes[a].values[v].nconsole)
				return true;
	return m->nconsole > 0;
}

/* The value of axis a that case c has, or NULL. */
static const struct cm_axis_value *case_value(const struct cm_matrix *m, const struct cm_case *c,
					      size_t a)
{
	if (!c->labels || !c->labels[a])
		return NULL;
	for (size_t v = 0; v < m->axes[a].nvalues; v++)
		if (!strcmp(m->axes[a].values[v].label, c->labels[a]))
			return &m->axes[a].values[v];
	return NULL;
}

const struct cm_console_marker **cm_case_console_markers(const struct cm_matrix *m,
							 const struct cm_case *c, size_t *n)
{
	size_t cap = m->nconsole + 1;
	for (size_t a = 0; c && !c->reference && a < m->naxes; a++)
		for (size_t v = 0; v < m->axes[a].nvalues; v++)
			cap += m->axes[a].values[v].nconsole;
	const struct cm_console_marker **out = cm_xcalloc(cap, sizeof(*out));
	bool *own = cm_xcalloc(cap, sizeof(bool)); /* set by an axis value: not replaced again */
	*n = 0;
	for (size_t i = 0; i < m->nconsole; i++)
		out[(*n)++] = &m->console[i];
	for (size_t a = 0; c && !c->reference && a < m->naxes; a++) {
		const struct cm_axis_value *v = case_value(m, c, a);
		for (size_t k = 0; v && k < v->nconsole; k++) {
			size_t j = 0;
			while (j < *n && strcmp(out[j]->name, v->console[k].name))
				j++;
			if (j < *n && own[j])
				continue;
			own[j] = true;
			out[j] = &v->console[k];
			if (j == *n)
				(*n)++;
		}
	}
	free(own);
	return out;
}

/* Is event e one the case can see without console markers of its own? */
static bool known_without_console(const struct cm_matrix *m, const char *e)
{
	return !strcmp(e, CM_EVENT_EXEC) || !strcmp(e, CM_EVENT_EXIT) ||
	       !strcmp(e, CM_EVENT_FIRST_ENTRY) || cm_matrix_marker_by_name(m, e);
}

static bool case_has(const struct cm_console_marker **l, size_t n, const char *name)
{
	for (size_t i = 0; i < n; i++)
		if (!strcmp(l[i]->name, name))
			return true;
	return false;
}

/* A phase or end marker that needs a console marker only some axis values define: a case
 * without it would fail every boot (missing_marker); said once per event, with one case. */
void mx_check_case_markers(struct ctx *c, yaml_node_t *root)
{
	struct cm_matrix *m = c->m;
	for (size_t a = 0; a < m->naxes; a++)
		for (size_t v = 0; v < m->axes[a].nvalues; v++)
			for (size_t k = 0; k < m->axes[a].values[v].nconsole; k++)
				if (cm_matrix_marker_by_name(m, m->axes[a].values[v].console[k].name))
					cm_diags_add(c->d, CM_SEV_ERROR, c->file, m->axes[a].values[v].line,
						     m->axes[a].values[v].col, "marker '%s' is named "
						     "twice (a port marker and a console marker of %s=%s)",
						     m->axes[a].values[v].console[k].name, m->axes[a].name,
						     m->axes[a].values[v].label);
	size_t nev = 2 * m->nphases + 1;
	for (size_t i = 0; i < nev; i++) {
		const char *e = i < 2 * m->nphases ? (i % 2 ? m->phases[i / 2].to : m->phases[i / 2].from)
						   : m->end_marker;
		bool said = false;
		for (size_t j = 0; j < i && !said; j++) /* an event named by several phases: once */
			said = j < 2 * m->nphases &&
			       !strcmp(e ? e : "", j % 2 ? m->phases[j / 2].to : m->phases[j / 2].from);
		if (!e || said || known_without_console(m, e))
			continue;
		for (size_t k = 0; k < m->ncases; k++) {
			if (m->cases[k].reference)
				continue;
			size_t n;
			const struct cm_console_marker **l = cm_case_console_markers(m, &m->cases[k], &n);
			bool has = case_has(l, n, e);
			free(l);
			if (!has) {
				yaml_node_t *at = mx_at_key(c, root, "markers", "end");
				if (i < 2 * m->nphases)
					at = c->phases_node && (long)(i / 2) < c->phases_node->data.sequence
						.items.top - c->phases_node->data.sequence.items.start
						? mx_node(c, c->phases_node->data.sequence.items.start[i / 2])
						: root;
				ERR(c, at,
				    "%s%s%s needs console marker '%s', which case %s does not have: define "
				    "it in markers.console, or on a value of each axis that case has",
				    i < 2 * m->nphases ? "phase '" : "markers.end",
				    i < 2 * m->nphases ? m->phases[i / 2].name : "",
				    i < 2 * m->nphases ? "'" : "", e, m->cases[k].id);
				break;
			}
		}
	}
}
