/* Matrix loading: libyaml document -> key table -> validated spec -> expanded cases.
 * Every error carries the file:line:col of the YAML node it is about; parsing goes on after
 * an error so that one pass reports as many as it can. */
#include "coldmark/matrix.h"

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

#ifndef COLDMARK_GUEST_DIR
#define COLDMARK_GUEST_DIR "."
#endif

struct ctx {
	struct cm_matrix *m;
	struct cm_diags *d;
	yaml_document_t *doc;
	const char *file;
	bool set_exit_status, set_preset, set_phases, set_end, ports_done;
	yaml_node_t *include, *exclude;
};

#define ERR(c, node, ...)                                                                    \
	cm_diags_add((c)->d, CM_SEV_ERROR, (c)->file, (int)(node)->start_mark.line + 1,       \
		     (int)(node)->start_mark.column + 1, __VA_ARGS__)
/* At the node's position, or without one for a value that came from elsewhere (a CLI flag). */
#define ERR_AT(c, node, ...)                                                                 \
	do {                                                                                 \
		if (node)                                                                    \
			ERR(c, node, __VA_ARGS__);                                           \
		else                                                                         \
			cm_diags_add((c)->d, CM_SEV_ERROR, (c)->file, 0, 0, __VA_ARGS__);    \
	} while (0)
#define WARN(c, node, ...)                                                                   \
	cm_diags_add((c)->d, CM_SEV_WARNING, (c)->file, (int)(node)->start_mark.line + 1,     \
		     (int)(node)->start_mark.column + 1, __VA_ARGS__)

/* ---- the key table ---------------------------------------------------------------------- */

enum ktype { K_SECTION, K_STRING, K_PATH, K_INT, K_BOOL, K_DURATION, K_ENUM, K_PERCENT, K_CUSTOM };
static const char *const ktype_names[] = { "section", "string", "path", "integer", "boolean",
					   "duration", "enum", "percent", "list/map" };

struct key {
	const char *name; /* dotted path */
	enum ktype type;
	size_t off;       /* into struct cm_matrix, for scalar types */
	const char *def;  /* NULL: no default (unset) */
	int64_t min, max;
	const char *choices; /* K_ENUM: '|' separated, index = stored value */
	const char *help;
	void (*parse)(struct ctx *c, yaml_node_t *n); /* K_CUSTOM */
};

static void parse_base_args(struct ctx *c, yaml_node_t *n);
static void parse_axes(struct ctx *c, yaml_node_t *n);
static void parse_include(struct ctx *c, yaml_node_t *n) { c->include = n; }
static void parse_exclude(struct ctx *c, yaml_node_t *n) { c->exclude = n; }
static void parse_ports(struct ctx *c, yaml_node_t *n);
static void parse_table(struct ctx *c, yaml_node_t *n);
static void parse_console(struct ctx *c, yaml_node_t *n);
static void parse_phases(struct ctx *c, yaml_node_t *n);
static void parse_env(struct ctx *c, yaml_node_t *n);

#define OFF(f) offsetof(struct cm_matrix, f)
static const struct key keys[] = {
	{ "qemu", K_STRING, OFF(qemu), "qemu-system-x86_64", 0, 0, NULL,
	  "qemu binary: a name looked up in PATH, or a path" },
	{ "guest", K_SECTION, 0, NULL, 0, 0, NULL, "what boots (one of bundled, kernel, disk)" },
	{ "guest.bundled", K_STRING, OFF(disk), NULL, 0, 0, NULL,
	  "coldmark's own boot-sector guest: guest, guest-slow, guest-hang, guest-out-of-order, guest-crash, guest-serial" },
	{ "guest.kernel", K_PATH, OFF(kernel), NULL, 0, 0, NULL, "kernel image for -kernel" },
	{ "guest.initrd", K_PATH, OFF(initrd), NULL, 0, 0, NULL, "initrd for -initrd" },
	{ "guest.append", K_STRING, OFF(append), NULL, 0, 0, NULL, "kernel command line (-append)" },
	{ "guest.disk", K_PATH, OFF(disk), NULL, 0, 0, NULL,
	  "raw disk image; \"{disk}\" in base_args places it, else -drive ...,if=ide,snapshot=on" },
	{ "base_args", K_CUSTOM, 0, NULL, 0, 0, NULL, "arguments every case gets (list of strings)",
	  parse_base_args },
	{ "axes", K_CUSTOM, 0, NULL, 0, 0, NULL,
	  "memory, machine, cpu, smp, accel, firmware, devices, or NAME: {template, values}; "
	  "a value is a scalar, {name, args}, or a range {from, to, step|factor}",
	  parse_axes },
	{ "include", K_CUSTOM, 0, NULL, 0, 0, NULL,
	  "list of {axis: value} added to or extending cases (GitHub Actions semantics)",
	  parse_include },
	{ "exclude", K_CUSTOM, 0, NULL, 0, 0, NULL,
	  "list of {axis: value}: removes every case that matches all given keys", parse_exclude },
	{ "markers", K_SECTION, 0, NULL, 0, 0, NULL, "the guest's marker protocol" },
	{ "markers.preset", K_ENUM, OFF(marker_preset), "coldmark-guest", 0, 0,
	  "coldmark-guest|nanos|qemu-boot-time|none", "a named marker table (and default phases)" },
	{ "markers.ports", K_CUSTOM, 0, "[0xf4]", 0, 0, NULL,
	  "I/O ports whose writes are markers (for table entries without a port)", parse_ports },
	{ "markers.table", K_CUSTOM, 0, NULL, 0, 0, NULL,
	  "list of {value, name[, port]}; replaces the preset's table", parse_table },
	{ "markers.console", K_CUSTOM, 0, NULL, 0, 0, NULL,
	  "list of {name, match}: a marker at the first serial-console line containing match, "
	  "for guests that cannot write port 0xf4 (works with KVM and TCG, beside port markers)",
	  parse_console },
	{ "markers.end", K_STRING, OFF(end_marker), NULL, 0, 0, NULL,
	  "the marker that ends a boot (the harness stops waiting there); default: the table's last" },
	{ "phases", K_CUSTOM, 0, NULL, 0, 0, NULL,
	  "list of {name, from, to}: events exec, first_entry, exit or a marker name; "
	  "default: the preset's, or consecutive markers",
	  parse_phases },
	{ "run", K_SECTION, 0, NULL, 0, 0, NULL, "how the boots are run" },
	{ "run.boots", K_INT, OFF(boots), "10", 1, 1000000, NULL, "measured boots per case" },
	{ "run.warmup", K_INT, OFF(warmup), "1", 0, 10000, NULL,
	  "warm-up boots per case (stored, not counted)" },
	{ "run.timeout", K_DURATION, OFF(timeout_ms), "60s", 1, 86400000, NULL,
	  "per-boot limit; qemu is killed and the boot marked timeout" },
	{ "run.end_grace", K_DURATION, OFF(end_grace_ms), "2s", 0, 86400000, NULL,
	  "after the end marker, how long qemu gets to exit by itself before it is ended (when no "
	  "exit status is required, the boot still counts; 0: at once)" },
	{ "run.drop_caches", K_BOOL, OFF(drop_caches), "true", 0, 0, NULL,
	  "drop the page cache before every boot" },
	{ "run.drop_method", K_ENUM, OFF(drop_method), "auto", 0, 0, "auto|drop_caches|evict",
	  "drop_caches (root) or per-file eviction of qemu, its libraries and guest files" },
	{ "run.order", K_ENUM, OFF(order), "shuffled", 0, 0, "sequential|interleaved|shuffled",
	  "order of boots across cases" },
	{ "run.seed", K_INT, OFF(seed), "1", 0, INT64_MAX, NULL, "seed of the shuffled order" },
	{ "run.pin", K_STRING, OFF(pin), NULL, 0, 0, NULL, "CPU list qemu is pinned to (\"1\", \"0-1\")" },
	{ "run.env", K_CUSTOM, 0, NULL, 0, 0, NULL, "map of environment variables set for qemu",
	  parse_env },
	{ "run.exit_status", K_INT, OFF(exit_status), "-1", -1, 255, NULL,
	  "qemu's expected exit status (-1: 33 for the bundled guest, else 0)" },
	{ "run.source", K_ENUM, OFF(source), "auto", 0, 0, "auto|perf|debugcon|both",
	  "marker source: perf (kvm:kvm_pio), debugcon (TCG), auto (perf when usable for KVM), "
	  "both (perf, plus debugcon's events in events.csv, to compare the two)" },
	{ "run.first_entry_event", K_STRING, OFF(first_entry_event), "auto", 0, 0, NULL,
	  "tracepoint for first_entry (auto: kvm:kvm_entry and kvm:kvm_emulate_insn)" },
	{ "run.first_entry_filter", K_STRING, OFF(first_entry_filter), "rip == 0xfff0", 0, 0, NULL,
	  "kernel filter on the first_entry event (the reset vector)" },
	{ "run.max_failed", K_PERCENT, OFF(max_failed_pct), "0", 0, 100, NULL,
	  "share of measured boots (%) that may fail before the run exits 1 (all stay in the data)" },
	{ "run.until_ci", K_PERCENT, OFF(until_ci_pct), "0", 0, 100, NULL,
	  "adaptive: boot until the median CI half-width is this % of the median (0: off)" },
	{ "run.until_ci_phase", K_STRING, OFF(until_ci_phase), "total", 0, 0, NULL,
	  "adaptive: the phase whose median CI decides (a phase name, or total)" },
	{ "run.min_boots", K_INT, OFF(min_boots), "6", 1, 1000000, NULL, "with until_ci: at least" },
	{ "run.max_boots", K_INT, OFF(max_boots), "100", 1, 1000000, NULL, "with until_ci: at most" },
};
#define NKEYS (sizeof(keys) / sizeof(keys[0]))

void cm_matrix_print_keys(FILE *f)
{
	for (size_t i = 0; i < NKEYS; i++) {
		const struct key *k = &keys[i];
		fprintf(f, "%-24s %-9s", k->name, ktype_names[k->type]);
		if (k->def)
			fprintf(f, " default %s", k->def);
		if (k->type == K_INT || k->type == K_PERCENT)
			fprintf(f, " range [%lld, %lld]", (long long)k->min, (long long)k->max);
		if (k->choices)
			fprintf(f, " one of %s", k->choices);
		fprintf(f, "\n    %s\n", k->help);
	}
}

/* ---- node helpers ------------------------------------------------------------------------ */

static const char *scalar(yaml_node_t *n)
{
	return n && n->type == YAML_SCALAR_NODE ? (const char *)n->data.scalar.value : NULL;
}

static yaml_node_t *node(struct ctx *c, int id)
{
	return yaml_document_get_node(c->doc, id);
}

static const char *type_word(yaml_node_t *n)
{
	return n->type == YAML_SCALAR_NODE ? "a scalar" : n->type == YAML_SEQUENCE_NODE ? "a list"
									    : "a mapping";
}

static bool want(struct ctx *c, yaml_node_t *n, yaml_node_type_t t, const char *what)
{
	if (n->type == t)
		return true;
	ERR(c, n, "%s must be %s, not %s", what,
	    t == YAML_SCALAR_NODE ? "a scalar" : t == YAML_SEQUENCE_NODE ? "a list" : "a mapping",
	    type_word(n));
	return false;
}

static int parse_int(const char *s, int64_t *v)
{
	char *end;
	errno = 0;
	long long x = strtoll(s, &end, 0);
	if (!*s || *end || errno)
		return -1;
	*v = x;
	return 0;
}

static char *resolve_path(struct ctx *c, const char *p)
{
	if (p[0] == '/')
		return cm_xstrdup(p);
	return cm_xasprintf("%s/%s", c->m->dir, p);
}

static void suggest(struct ctx *c, yaml_node_t *kn, const char *prefix, const char *word)
{
	const char *best = NULL;
	size_t bestd = 4, plen = strlen(prefix);
	for (size_t i = 0; i < NKEYS; i++) {
		if (strncmp(keys[i].name, prefix, plen))
			continue;
		const char *tail = keys[i].name + plen;
		if (strchr(tail, '.'))
			continue;
		size_t dd = cm_edit_distance(word, tail);
		if (dd < bestd) {
			bestd = dd;
			best = tail;
		}
	}
	if (best)
		ERR(c, kn, "unknown key '%s%s' (did you mean '%s'?)", prefix, word, best);
	else
		ERR(c, kn, "unknown key '%s%s'", prefix, word);
}

/* Stores a scalar per the key's type. text may come from the default. */
static int store_scalar(struct ctx *c, const struct key *k, const char *text, yaml_node_t *n)
{
	char *base = (char *)c->m;
	switch (k->type) {
	case K_STRING:
	case K_PATH: {
		char **dst = (char **)(base + k->off);
		free(*dst);
		*dst = k->type == K_PATH && n ? resolve_path(c, text) : cm_xstrdup(text);
		return 0;
	}
	case K_INT: {
		int64_t v;
		if (parse_int(text, &v))
			goto type;
		if (v < k->min || v > k->max)
			goto range;
		*(int64_t *)(base + k->off) = v;
		return 0;
	}
	case K_PERCENT: {
		char *end;
		double v = strtod(text, &end);
		if (end == text || (*end && strcmp(end, "%")))
			goto type;
		if (v < k->min || v > k->max)
			goto range;
		*(double *)(base + k->off) = v;
		return 0;
	}
	case K_BOOL:
		if (!strcmp(text, "true") || !strcmp(text, "yes") || !strcmp(text, "on"))
			*(bool *)(base + k->off) = true;
		else if (!strcmp(text, "false") || !strcmp(text, "no") || !strcmp(text, "off"))
			*(bool *)(base + k->off) = false;
		else
			goto type;
		return 0;
	case K_DURATION: {
		int64_t ms;
		if (cm_parse_duration_ms(text, &ms))
			goto type;
		if (ms < k->min || ms > k->max)
			goto range;
		*(int64_t *)(base + k->off) = ms;
		return 0;
	}
	case K_ENUM: {
		const char *p = k->choices;
		size_t len = strlen(text);
		for (int idx = 0; p; idx++) {
			const char *bar = strchr(p, '|');
			size_t plen = bar ? (size_t)(bar - p) : strlen(p);
			if (plen == len && !strncmp(p, text, len)) {
				if (k->off == OFF(marker_preset)) {
					free(c->m->marker_preset);
					c->m->marker_preset = cm_xstrdup(text);
				} else {
					*(int *)(base + k->off) = idx;
				}
				return 0;
			}
			p = bar ? bar + 1 : NULL;
		}
		ERR_AT(c, n, "'%s' must be one of %s, not '%s'", k->name, k->choices, text);
		return -1;
	}
	default:
		return 0;
	}
type:
	ERR_AT(c, n, "'%s' must be %s %s, not '%s'", k->name, k->type == K_INT ? "an" : "a",
	       ktype_names[k->type], text);
	return -1;
range:
	ERR_AT(c, n, "'%s' is out of range [%lld, %lld]: %s", k->name, (long long)k->min,
	       (long long)k->max, text);
	return -1;
}

static void parse_mapping(struct ctx *c, yaml_node_t *map, const char *prefix);

/* A guest file qemu can read: a folder passes access(R_OK) but boots nothing. */
static bool readable_file(const char *path)
{
	struct stat st;
	return !access(path, R_OK) && !stat(path, &st) && !S_ISDIR(st.st_mode);
}

static void parse_key(struct ctx *c, const struct key *k, yaml_node_t *v, const char *prefix)
{
	switch (k->type) {
	case K_SECTION:
		if (want(c, v, YAML_MAPPING_NODE, k->name)) {
			char *p = cm_xasprintf("%s.", k->name);
			parse_mapping(c, v, p);
			free(p);
		}
		break;
	case K_CUSTOM:
		k->parse(c, v);
		break;
	default:
		if (!want(c, v, YAML_SCALAR_NODE, k->name))
			break;
		if (!strcmp(k->name, "guest.bundled")) {
			const char *name = scalar(v);
			for (const char *p = name; *p; p++)
				if (!isalnum((unsigned char)*p) && *p != '-' && *p != '_') {
					ERR(c, v, "guest.bundled: '%s' is not a bundled guest name", name);
					return;
				}
			const char *dir = getenv("COLDMARK_GUEST_DIR");
			free(c->m->disk);
			c->m->disk = cm_xasprintf("%s/%s.img", dir ? dir : COLDMARK_GUEST_DIR, name);
			if (access(c->m->disk, R_OK))
				ERR(c, v, "bundled guest '%s' not found at %s (is the build done?)", name,
				    c->m->disk);
			if (!c->set_exit_status)
				c->m->exit_status = 33; /* isa-debug-exit with value 0x10 */
			break;
		}
		if (store_scalar(c, k, scalar(v), v))
			break;
		if (k->type == K_PATH && !readable_file(*(char **)((char *)c->m + k->off)))
			ERR(c, v, "%s: guest file '%s' not found, not readable or not a file", k->name,
			    scalar(v));
		if (!strcmp(k->name, "run.exit_status"))
			c->set_exit_status = true;
		if (!strcmp(k->name, "markers.preset"))
			c->set_preset = true;
		if (!strcmp(k->name, "markers.end"))
			c->set_end = true;
	}
	(void)prefix;
}

static void parse_mapping(struct ctx *c, yaml_node_t *map, const char *prefix)
{
	size_t plen = strlen(prefix);
	struct cm_strset seen = { 0 };
	for (yaml_node_pair_t *p = map->data.mapping.pairs.start; p < map->data.mapping.pairs.top;
	     p++) {
		yaml_node_t *kn = node(c, p->key), *vn = node(c, p->value);
		const char *kname = scalar(kn);
		if (!kname) {
			ERR(c, kn, "keys must be scalars");
			continue;
		}
		/* a set, not a scan of the earlier keys: a mapping of 10^6 keys loads in linear time */
		long first = cm_strset_add(&seen, kname, (long)kn->start_mark.line + 1);
		if (first >= 0) {
			ERR(c, kn, "duplicate key '%s%s' (first at line %ld)", prefix, kname, first);
			goto next;
		}
		const struct key *k = NULL;
		for (size_t i = 0; i < NKEYS; i++)
			if (!strncmp(keys[i].name, prefix, plen) && !strcmp(keys[i].name + plen, kname))
				k = &keys[i];
		if (!k) {
			suggest(c, kn, prefix, kname);
			continue;
		}
		parse_key(c, k, vn, prefix);
next:;
	}
	cm_strset_free(&seen);
}

/* ---- custom keys ------------------------------------------------------------------------- */

static void strlist(struct ctx *c, yaml_node_t *n, const char *what, char ***out, size_t *nout)
{
	if (!want(c, n, YAML_SEQUENCE_NODE, what))
		return;
	for (yaml_node_item_t *i = n->data.sequence.items.start; i < n->data.sequence.items.top; i++) {
		yaml_node_t *e = node(c, *i);
		if (!want(c, e, YAML_SCALAR_NODE, what))
			continue;
		*out = cm_xrealloc(*out, (*nout + 2) * sizeof(char *));
		(*out)[(*nout)++] = cm_xstrdup(scalar(e));
		(*out)[*nout] = NULL;
	}
}

/* isa-debug-exit on a marker port turns the first marker into a qemu exit. */
static void check_debug_exit(struct ctx *c, yaml_node_t *where, char **args, size_t nargs)
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

static yaml_node_t *base_args_node;
static void parse_base_args(struct ctx *c, yaml_node_t *n)
{
	strlist(c, n, "base_args", &c->m->base_args, &c->m->nbase_args);
	base_args_node = n;
}

static void parse_env(struct ctx *c, yaml_node_t *n)
{
	if (!want(c, n, YAML_MAPPING_NODE, "run.env"))
		return;
	for (yaml_node_pair_t *p = n->data.mapping.pairs.start; p < n->data.mapping.pairs.top; p++) {
		const char *k = scalar(node(c, p->key)), *v = scalar(node(c, p->value));
		if (!k || !v || !*k || strchr(k, '=')) {
			ERR(c, node(c, p->key), "run.env: entries must be NAME: value scalars");
			continue;
		}
		c->m->env = cm_xrealloc(c->m->env, (c->m->nenv + 2) * sizeof(char *));
		c->m->env[c->m->nenv++] = cm_xasprintf("%s=%s", k, v);
		c->m->env[c->m->nenv] = NULL;
	}
}

static void parse_ports(struct ctx *c, yaml_node_t *n)
{
	if (c->ports_done) /* parsed ahead of the other keys */
		return;
	char **l = NULL;
	size_t nl = 0;
	strlist(c, n, "markers.ports", &l, &nl);
	c->m->nports = 0;
	for (size_t i = 0; i < nl; i++) {
		int64_t v;
		if (parse_int(l[i], &v) || v < 0 || v > 0xffff)
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

static bool valid_name(const char *s)
{
	if (!*s)
		return false;
	for (; *s; s++)
		if (!isalnum((unsigned char)*s) && *s != '_' && *s != '-')
			return false;
	return true;
}

static void add_marker(struct cm_matrix *m, unsigned port, unsigned value, const char *name)
{
	m->markers = cm_xrealloc(m->markers, (m->nmarkers + 1) * sizeof(*m->markers));
	m->markers[m->nmarkers++] = (struct cm_marker){ port, value, cm_xstrdup(name) };
}

static void clear_markers(struct cm_matrix *m)
{
	for (size_t i = 0; i < m->nmarkers; i++)
		free(m->markers[i].name);
	m->nmarkers = 0;
}

static void parse_table(struct ctx *c, yaml_node_t *n)
{
	if (!want(c, n, YAML_SEQUENCE_NODE, "markers.table"))
		return;
	clear_markers(c->m);
	c->set_preset = true; /* an explicit table replaces the preset's */
	for (yaml_node_item_t *i = n->data.sequence.items.start; i < n->data.sequence.items.top; i++) {
		yaml_node_t *e = node(c, *i);
		if (!want(c, e, YAML_MAPPING_NODE, "a markers.table entry"))
			continue;
		int64_t value = -1, port = -1;
		const char *name = NULL;
		for (yaml_node_pair_t *p = e->data.mapping.pairs.start; p < e->data.mapping.pairs.top;
		     p++) {
			const char *k = scalar(node(c, p->key));
			yaml_node_t *vn = node(c, p->value);
			const char *v = scalar(vn);
			if (!k || !v) {
				ERR(c, vn, "markers.table entries are {value, name, port} scalars");
			} else if (!strcmp(k, "value")) {
				if (parse_int(v, &value) || value < 0 || value > 0xffffffffLL)
					ERR(c, vn, "marker value '%s' is not a number", v), value = -2;
			} else if (!strcmp(k, "port")) {
				if (parse_int(v, &port) || port < 0 || port > 0xffff)
					ERR(c, vn, "marker port '%s' is not an I/O port", v), port = -2;
			} else if (!strcmp(k, "name")) {
				name = v;
				if (!valid_name(v) || !strcmp(v, CM_EVENT_EXEC) || !strcmp(v, CM_EVENT_EXIT) ||
				    !strcmp(v, CM_EVENT_FIRST_ENTRY) || !strcmp(v, "total"))
					ERR(c, vn, "marker name '%s' must be [A-Za-z0-9_-]+ and not a host event", v),
						name = NULL;
			} else {
				ERR(c, node(c, p->key), "unknown key '%s' in a markers.table entry "
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
			add_marker(c->m, prt, (unsigned)value, name);
	}
}

static void parse_console(struct ctx *c, yaml_node_t *n)
{
	if (!want(c, n, YAML_SEQUENCE_NODE, "markers.console"))
		return;
	for (yaml_node_item_t *i = n->data.sequence.items.start; i < n->data.sequence.items.top; i++) {
		yaml_node_t *e = node(c, *i);
		if (!want(c, e, YAML_MAPPING_NODE, "a markers.console entry"))
			continue;
		const char *name = NULL, *match = NULL;
		for (yaml_node_pair_t *p = e->data.mapping.pairs.start; p < e->data.mapping.pairs.top;
		     p++) {
			const char *k = scalar(node(c, p->key)), *v = scalar(node(c, p->value));
			if (k && v && !strcmp(k, "name"))
				name = v;
			else if (k && v && !strcmp(k, "match"))
				match = v;
			else
				ERR(c, node(c, p->key), "a markers.console entry is {name, match}");
		}
		if (!name || !valid_name(name) || !match || !*match) {
			ERR(c, e, "a markers.console entry needs a name of [A-Za-z0-9_-]+ and a "
				  "non-empty match");
			continue;
		}
		bool dup = false; /* against the port markers: in check_events, once the preset is in */
		for (size_t k = 0; k < c->m->nconsole; k++)
			dup |= !strcmp(c->m->console[k].name, name);
		if (dup) {
			ERR(c, e, "marker '%s' is named twice", name);
			continue;
		}
		c->m->console = cm_xrealloc(c->m->console, (c->m->nconsole + 1) * sizeof(*c->m->console));
		c->m->console[c->m->nconsole++] = (struct cm_console_marker){ cm_xstrdup(name),
									   cm_xstrdup(match) };
	}
}

bool cm_matrix_is_console_marker(const struct cm_matrix *m, const char *name)
{
	for (size_t i = 0; i < m->nconsole; i++)
		if (!strcmp(m->console[i].name, name))
			return true;
	return false;
}

static void add_phase(struct cm_matrix *m, const char *name, const char *from, const char *to)
{
	m->phases = cm_xrealloc(m->phases, (m->nphases + 1) * sizeof(*m->phases));
	m->phases[m->nphases++] =
		(struct cm_phase){ cm_xstrdup(name), cm_xstrdup(from), cm_xstrdup(to) };
}

static yaml_node_t *phases_node;
static void parse_phases(struct ctx *c, yaml_node_t *n)
{
	if (!want(c, n, YAML_SEQUENCE_NODE, "phases"))
		return;
	c->set_phases = true;
	phases_node = n;
	for (yaml_node_item_t *i = n->data.sequence.items.start; i < n->data.sequence.items.top; i++) {
		yaml_node_t *e = node(c, *i);
		if (!want(c, e, YAML_MAPPING_NODE, "a phase"))
			continue;
		const char *f[3] = { 0 };
		static const char *const names[3] = { "name", "from", "to" };
		for (yaml_node_pair_t *p = e->data.mapping.pairs.start; p < e->data.mapping.pairs.top;
		     p++) {
			const char *k = scalar(node(c, p->key));
			const char *v = scalar(node(c, p->value));
			int j = 0;
			while (j < 3 && (!k || strcmp(k, names[j])))
				j++;
			if (j == 3 || !v)
				ERR(c, node(c, p->key), "a phase is {name, from, to} with scalar values");
			else
				f[j] = v;
		}
		if (!f[0] || !f[1] || !f[2]) {
			ERR(c, e, "a phase needs name, from and to");
			continue;
		}
		if (!valid_name(f[0]) || !strcmp(f[0], "total")) {
			ERR(c, e, "phase name '%s' must be [A-Za-z0-9_-]+ and not 'total'", f[0]);
			continue;
		}
		add_phase(c->m, f[0], f[1], f[2]);
	}
}

/* ---- axes -------------------------------------------------------------------------------- */

static const char *const builtin_axes[] = { "memory", "machine", "cpu", "smp", "accel",
					    "firmware", "devices" };
#define NBUILTIN (sizeof(builtin_axes) / sizeof(builtin_axes[0]))

static bool is_builtin(const char *name)
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
static int scalar_args(struct ctx *c, const struct cm_axis *ax, const char *name, const char *val,
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
				char *p = resolve_path(c, val);
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

static char *format_size(uint64_t b)
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

static void add_value(struct ctx *c, struct cm_axis *ax, const char *label, yaml_node_t *where,
		      struct cm_axis_value v)
{
	const char *bad = cm_has_control(label) ? label : cm_has_control(ax->name) ? ax->name : NULL;
	if (bad || ax->nvalues >= MAX_AXIS_VALUES) {
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
		return;
	}
	for (size_t i = 0; i < ax->nvalues; i++)
		if (!strcmp(ax->values[i].label, label)) {
			ERR(c, where, "axis '%s' lists '%s' twice", ax->name, label);
			for (size_t a = 0; a < v.nargs; a++)
				free(v.args[a]);
			free(v.args);
			return;
		}
	v.label = cm_xstrdup(label);
	v.line = (int)where->start_mark.line + 1;
	v.col = (int)where->start_mark.column + 1;
	ax->values = cm_xrealloc(ax->values, (ax->nvalues + 1) * sizeof(*ax->values));
	ax->values[ax->nvalues++] = v;
}

static void axis_range(struct ctx *c, struct cm_axis *ax, yaml_node_t *n)
{
	const char *from = NULL, *to = NULL, *step = NULL, *factor = NULL;
	for (yaml_node_pair_t *p = n->data.mapping.pairs.start; p < n->data.mapping.pairs.top; p++) {
		const char *k = scalar(node(c, p->key)), *v = scalar(node(c, p->value));
		if (k && v && !strcmp(k, "from"))
			from = v;
		else if (k && v && !strcmp(k, "to"))
			to = v;
		else if (k && v && !strcmp(k, "step"))
			step = v;
		else if (k && v && !strcmp(k, "factor"))
			factor = v;
		else if (!k || (strcmp(k, "template") && strcmp(k, "values")))
			ERR(c, node(c, p->key), "a range is {from, to, step|factor}");
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
		char *label = sizes ? format_size((mib ? mib : 1) << 20) : cm_xasprintf("%.15g", x);
		struct cm_axis_value v = { 0 };
		if (prev && !strcmp(prev, label))
			free(label);
		else {
			if (!scalar_args(c, ax, ax->name, label, &v, n))
				add_value(c, ax, label, n, v);
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
	if (!want(c, n, YAML_SEQUENCE_NODE, ax->name))
		return;
	for (yaml_node_item_t *i = n->data.sequence.items.start; i < n->data.sequence.items.top; i++) {
		yaml_node_t *e = node(c, *i);
		struct cm_axis_value v = { 0 };
		if (e->type == YAML_SCALAR_NODE) {
			if (!*scalar(e)) {
				ERR(c, e, "axis '%s': empty value", ax->name);
				continue;
			}
			if (!scalar_args(c, ax, ax->name, scalar(e), &v, e))
				add_value(c, ax, scalar(e), e, v);
			continue;
		}
		if (!want(c, e, YAML_MAPPING_NODE, "an axis value"))
			continue;
		const char *name = NULL;
		yaml_node_t *args = NULL;
		for (yaml_node_pair_t *p = e->data.mapping.pairs.start; p < e->data.mapping.pairs.top;
		     p++) {
			const char *k = scalar(node(c, p->key));
			if (k && !strcmp(k, "name"))
				name = scalar(node(c, p->value));
			else if (k && !strcmp(k, "args"))
				args = node(c, p->value);
			else
				ERR(c, node(c, p->key), "a named value is {name, args}");
		}
		if (!name || !valid_name(name)) {
			ERR(c, e, "axis '%s': a named value needs a name of [A-Za-z0-9_-]+", ax->name);
			continue;
		}
		if (args)
			strlist(c, args, "args", &v.args, &v.nargs);
		check_debug_exit(c, e, v.args, v.nargs);
		add_value(c, ax, name, e, v);
	}
}

static void parse_axes(struct ctx *c, yaml_node_t *n)
{
	if (!want(c, n, YAML_MAPPING_NODE, "axes"))
		return;
	for (yaml_node_pair_t *p = n->data.mapping.pairs.start; p < n->data.mapping.pairs.top; p++) {
		yaml_node_t *kn = node(c, p->key), *vn = node(c, p->value);
		const char *name = scalar(kn);
		if (!name || !valid_name(name)) {
			ERR(c, kn, "axis names are [A-Za-z0-9_-]+");
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
				const char *k = scalar(node(c, q->key));
				if (k && !strcmp(k, "template"))
					tmpl = node(c, q->value);
				else if (k && !strcmp(k, "values"))
					values = node(c, q->value);
			}
			if (tmpl)
				strlist(c, tmpl, "template", &ax.tmpl, &ax.ntmpl);
			if (!values)
				values = vn;
		} else if (!is_builtin(name) && vn->type == YAML_SEQUENCE_NODE) {
			/* a custom axis without template must use named groups */
			bool all_groups = true;
			for (yaml_node_item_t *i = vn->data.sequence.items.start;
			     i < vn->data.sequence.items.top; i++)
				if (node(c, *i)->type != YAML_MAPPING_NODE)
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

/* ---- presets and event checks ------------------------------------------------------------ */

static void apply_preset(struct ctx *c)
{
	struct cm_matrix *m = c->m;
	const char *p = m->marker_preset;
	unsigned port = m->nports ? m->ports[0] : 0xf4;
	if (!c->set_preset || !m->nmarkers) {
		clear_markers(m);
		if (!strcmp(p, "coldmark-guest")) {
			add_marker(m, port, 0x10, "real_mode");
			add_marker(m, port, 0x20, "long_mode");
			add_marker(m, port, 0x30, "work_done");
		} else if (!strcmp(p, "nanos")) {
			add_marker(m, port, 10, "stage1");
			add_marker(m, port, 200, "first_thread");
		} else if (!strcmp(p, "qemu-boot-time")) {
			/* qemu-boot-time puts firmware markers on 0xf5 and Linux's on 0xf4 */
			add_marker(m, 0xf5, 1, "fw_start");
			add_marker(m, 0xf4, 2, "linux_start_fwcfg");
			add_marker(m, 0xf4, 3, "linux_start_boot");
			add_marker(m, 0xf4, 4, "linux_start_pvhboot");
			add_marker(m, 0xf5, 5, "fw_do_boot");
			add_marker(m, 0xf4, 6, "linux_start_kernel");
			add_marker(m, 0xf4, 7, "linux_start_user");
		}
	}
	/* every port a marker uses is traced */
	for (size_t i = 0; i < m->nmarkers; i++) {
		bool have = false;
		for (size_t j = 0; j < m->nports; j++)
			have |= m->ports[j] == m->markers[i].port;
		if (!have) {
			m->ports = cm_xrealloc(m->ports, (m->nports + 1) * sizeof(unsigned));
			m->ports[m->nports++] = m->markers[i].port;
		}
	}
	if (!m->end_marker && m->nmarkers)
		m->end_marker = cm_xstrdup(!strcmp(p, "qemu-boot-time") && !c->set_preset
						   ? "linux_start_user"
						   : m->markers[m->nmarkers - 1].name);
	if (c->set_phases)
		return;
	if (!strcmp(p, "qemu-boot-time") && !c->set_preset) {
		add_phase(m, "qemu_init", CM_EVENT_EXEC, CM_EVENT_FIRST_ENTRY);
		add_phase(m, "kernel", "linux_start_kernel", "linux_start_user");
		add_phase(m, "to_user", CM_EVENT_EXEC, "linux_start_user");
		return;
	}
	/* default: exec -> first marker -> ... -> last marker, in table order */
	const char *prev = CM_EVENT_EXEC;
	for (size_t i = 0; i < m->nmarkers; i++) {
		add_phase(m, m->markers[i].name, prev, m->markers[i].name);
		prev = m->markers[i].name;
	}
}

static bool known_event(const struct cm_matrix *m, const char *e)
{
	return !strcmp(e, CM_EVENT_EXEC) || !strcmp(e, CM_EVENT_EXIT) ||
	       !strcmp(e, CM_EVENT_FIRST_ENTRY) || cm_matrix_marker_by_name(m, e) ||
	       cm_matrix_is_console_marker(m, e);
}

/* root[section][key]'s value node, for an error's position; root when absent */
static yaml_node_t *at_key(struct ctx *c, yaml_node_t *root, const char *section, const char *key)
{
	const char *path[2] = { section, key };
	yaml_node_t *n = root;
	for (int i = 0; i < 2; i++) {
		yaml_node_t *next = NULL;
		if (n->type == YAML_MAPPING_NODE)
			for (yaml_node_pair_t *p = n->data.mapping.pairs.start;
			     p < n->data.mapping.pairs.top && !next; p++)
				if (scalar(node(c, p->key)) && !strcmp(scalar(node(c, p->key)), path[i]))
					next = node(c, p->value);
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
	return !strcmp(name, "total");
}

static void check_events(struct ctx *c, yaml_node_t *root)
{
	struct cm_matrix *m = c->m;
	for (size_t i = 0; i < m->nphases; i++) {
		const char *ends[2] = { m->phases[i].from, m->phases[i].to };
		for (int j = 0; j < 2; j++) {
			if (known_event(m, ends[j]))
				continue;
			yaml_node_t *at = root;
			if (phases_node && i < (size_t)(phases_node->data.sequence.items.top -
							phases_node->data.sequence.items.start))
				at = node(c, phases_node->data.sequence.items.start[i]);
			ERR(c, at, "phase '%s' names unknown event '%s' (events: exec, first_entry, "
				"exit, or a marker name)", m->phases[i].name, ends[j]);
		}
	}
	for (size_t k = 0; k < m->nconsole; k++)
		if (cm_matrix_marker_by_name(m, m->console[k].name))
			ERR(c, at_key(c, root, "markers", "console"), "marker '%s' is named twice "
				"(a port marker and a console marker)", m->console[k].name);
	if (m->end_marker && !cm_matrix_marker_by_name(m, m->end_marker) &&
	    !cm_matrix_is_console_marker(m, m->end_marker))
		ERR(c, at_key(c, root, "markers", "end"), "markers.end names unknown marker '%s'",
		    m->end_marker);
	if (m->until_ci_phase && !cm_matrix_has_phase(m, m->until_ci_phase)) {
		struct cm_buf names = { 0 };
		for (size_t i = 0; i < m->nphases; i++)
			cm_buf_printf(&names, "%s, ", m->phases[i].name);
		ERR(c, at_key(c, root, "run", "until_ci_phase"),
		    "run.until_ci_phase names unknown phase '%s' (phases: %stotal)", m->until_ci_phase,
		    names.s ? names.s : "");
		cm_buf_free(&names);
	}
}

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
	if (!want(c, e, YAML_MAPPING_NODE, "an include/exclude entry"))
		return -1;
	for (yaml_node_pair_t *p = e->data.mapping.pairs.start; p < e->data.mapping.pairs.top; p++) {
		yaml_node_t *kn = node(c, p->key), *vn = node(c, p->value);
		const char *k = scalar(kn), *v = scalar(vn);
		if (!k || !v) {
			ERR(c, kn, "include/exclude entries map axis names to scalar values");
			return -1;
		}
		int a = find_axis(c->m, k);
		if (a < 0 && add && is_builtin(k)) {
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
			if (scalar_args(c, ax, ax->name, v, &val, vn))
				return -1;
			add_value(c, ax, v, vn, val);
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

static void expand(struct ctx *c, yaml_node_t *root)
{
	struct cm_matrix *m = c->m;
	size_t total = m->naxes ? 1 : 1, cap, ncombo = 0;
	for (size_t a = 0; a < m->naxes; a++) {
		if (m->axes[a].nvalues)
			total *= m->axes[a].nvalues;
		if (total > 1000000) {
			ERR(c, root, "the matrix expands to over 1,000,000 cases");
			return;
		}
	}
	size_t max_axes = m->naxes + 16;
	cap = total + 16;
	struct combo *cs = cm_xcalloc(cap, sizeof(*cs));
	for (size_t i = 0; i < total; i++) {
		cs[i].idx = cm_xmalloc(max_axes * sizeof(int));
		cs[i].original = cm_xcalloc(max_axes, sizeof(bool));
		for (size_t a = 0; a < max_axes; a++)
			cs[i].idx[a] = -1; /* axes an include adds later start unset */
		size_t r = i;
		/* the last axis varies fastest, as people read a table */
		for (size_t a = m->naxes; a-- > 0;) {
			size_t nv = m->axes[a].nvalues;
			cs[i].idx[a] = nv ? (int)(r % nv) : -1;
			cs[i].original[a] = nv > 0;
			if (nv)
				r /= nv;
		}
	}
	ncombo = total;

	int ax[64], val[64];
	if (c->exclude && want(c, c->exclude, YAML_SEQUENCE_NODE, "exclude")) {
		for (yaml_node_item_t *it = c->exclude->data.sequence.items.start;
		     it < c->exclude->data.sequence.items.top; it++) {
			yaml_node_t *e = node(c, *it);
			if (e->type == YAML_MAPPING_NODE &&
			    e->data.mapping.pairs.top - e->data.mapping.pairs.start > 64) {
				ERR(c, e, "too many keys");
				continue;
			}
			int n = entry_pairs(c, e, false, ax, val);
			if (n < 0)
				continue;
			size_t kept = 0, removed = 0;
			for (size_t i = 0; i < ncombo; i++) {
				bool all = true;
				for (int k = 0; k < n; k++)
					all &= cs[i].idx[ax[k]] == val[k] && val[k] >= 0;
				if (all) {
					free(cs[i].idx);
					free(cs[i].original);
					removed++;
				} else {
					cs[kept++] = cs[i];
				}
			}
			ncombo = kept;
			if (!removed)
				WARN(c, e, "exclude entry matches no case");
		}
	}
	if (c->include && want(c, c->include, YAML_SEQUENCE_NODE, "include")) {
		for (yaml_node_item_t *it = c->include->data.sequence.items.start;
		     it < c->include->data.sequence.items.top; it++) {
			yaml_node_t *e = node(c, *it);
			if (e->type == YAML_MAPPING_NODE &&
			    e->data.mapping.pairs.top - e->data.mapping.pairs.start > 16) {
				ERR(c, e, "too many keys");
				continue;
			}
			if (m->naxes >= max_axes) {
				ERR(c, e, "include adds too many axes");
				continue;
			}
			int n = entry_pairs(c, e, true, ax, val);
			if (n < 0)
				continue;
			bool added = false;
			for (size_t i = 0; i < ncombo; i++) {
				bool ok = true;
				for (int k = 0; k < n; k++)
					if (cs[i].original[ax[k]] && cs[i].idx[ax[k]] != val[k])
						ok = false;
				if (!ok)
					continue;
				for (int k = 0; k < n; k++)
					cs[i].idx[ax[k]] = val[k];
				added = true;
			}
			if (!added) {
				CM_PUSH(cs, ncombo, cap);
				cs[ncombo].idx = cm_xmalloc(max_axes * sizeof(int));
				cs[ncombo].original = cm_xcalloc(max_axes, sizeof(bool));
				for (size_t a = 0; a < max_axes; a++)
					cs[ncombo].idx[a] = -1;
				for (int k = 0; k < n; k++)
					cs[ncombo].idx[ax[k]] = val[k];
				ncombo++;
			}
		}
	}
	if (!ncombo && !c->d->n_errors)
		ERR(c, root, "the matrix has no cases left (exclude removed every one)");

	/* cases: id and argv */
	m->cases = cm_xcalloc(ncombo, sizeof(*m->cases));
	for (size_t i = 0; i < ncombo; i++) {
		struct cm_case *cc = &m->cases[m->ncases];
		struct cm_buf id = { 0 };
		size_t argc = 0, argcap = 0;
		char **argv = NULL;
#define ARG(s)                                        \
	do {                                          \
		CM_PUSH(argv, argc + 1, argcap);      \
		argv[argc++] = cm_xstrdup(s);         \
	} while (0)
		ARG(m->qemu);
		bool disk_placed = false;
		for (size_t a = 0; a < m->nbase_args; a++) {
			const char *s = m->base_args[a];
			if (m->disk && strstr(s, "{disk}")) {
				struct cm_buf b = { 0 };
				const char *at = strstr(s, "{disk}");
				cm_buf_printf(&b, "%.*s%s%s", (int)(at - s), s, m->disk, at + 6);
				argv = cm_xrealloc(argv, (argc + 2) * sizeof(char *));
				argcap = argc + 2;
				argv[argc++] = cm_buf_steal(&b);
				disk_placed = true;
			} else {
				ARG(s);
			}
		}
		if (m->kernel) {
			ARG("-kernel");
			ARG(m->kernel);
			if (m->initrd) {
				ARG("-initrd");
				ARG(m->initrd);
			}
			if (m->append) {
				ARG("-append");
				ARG(m->append);
			}
		}
		if (m->disk && !disk_placed) {
			char *d = cm_xasprintf("file=%s,format=raw,if=ide,snapshot=on", m->disk);
			ARG("-drive");
			ARG(d);
			free(d);
			if (m->exit_status == 33 && strstr(m->disk, ".img")) {
				/* the bundled guest leaves through isa-debug-exit */
				bool have = false;
				for (size_t a = 0; a < m->nbase_args; a++)
					have |= strstr(m->base_args[a], "isa-debug-exit") != NULL;
				if (!have) {
					ARG("-device");
					ARG("isa-debug-exit,iobase=0x501,iosize=2");
				}
			}
		}
		cc->labels = cm_xcalloc(m->naxes ? m->naxes : 1, sizeof(char *));
		for (size_t a = 0; a < m->naxes; a++) {
			int vi = cs[i].idx[a];
			if (vi < 0)
				continue;
			const struct cm_axis_value *v = &m->axes[a].values[vi];
			cc->labels[a] = cm_xstrdup(v->label);
			cm_buf_printf(&id, "%s%s=%s", id.len ? "," : "", m->axes[a].name, v->label);
			for (size_t k = 0; k < v->nargs; k++)
				ARG(v->args[k]);
		}
#undef ARG
		argv = cm_xrealloc(argv, (argc + 1) * sizeof(char *));
		argv[argc] = NULL;
		cc->argv = argv;
		cc->argc = argc;
		cc->id = id.len ? cm_buf_steal(&id) : cm_xstrdup("default");
		cm_buf_free(&id);
		m->ncases++;
		free(cs[i].idx);
		free(cs[i].original);
	}
	free(cs);
	/* one defined order, the one a report rebuilt from samples.csv has too */
	sort_naxes = m->naxes;
	qsort(m->cases, m->ncases, sizeof(*m->cases), case_order);
	/* two combinations may collide after include: ids must be unique (sorted, so a large
	 * sweep stays fast) */
	const char **ids = cm_xcalloc(m->ncases + 1, sizeof(char *));
	for (size_t i = 0; i < m->ncases; i++)
		ids[i] = m->cases[i].id;
	qsort(ids, m->ncases, sizeof(char *), cmp_str);
	for (size_t i = 1; i < m->ncases; i++)
		if (!strcmp(ids[i - 1], ids[i]))
			ERR(c, root, "two cases have the same id '%s'", ids[i]);
	free(ids);
}

/* ---- entry points ------------------------------------------------------------------------ */

int cm_matrix_override(struct cm_matrix *m, const char *key, const char *value,
		       const char *origin, struct cm_diags *d)
{
	struct ctx c = { .m = m, .d = d, .file = origin };
	for (size_t i = 0; i < NKEYS; i++)
		if (!strcmp(keys[i].name, key) && keys[i].type != K_SECTION &&
		    keys[i].type != K_CUSTOM && keys[i].type != K_PATH)
			return store_scalar(&c, &keys[i], value, NULL) ? CM_ERR(CM_EPARSE) : 0;
	cm_diags_add(d, CM_SEV_ERROR, origin, 0, 0, "'%s' is not a scalar matrix key", key);
	return CM_ERR(CM_EUSAGE);
}

static void defaults(struct ctx *c)
{
	for (size_t i = 0; i < NKEYS; i++)
		if (keys[i].def && keys[i].type != K_CUSTOM)
			store_scalar(c, &keys[i], keys[i].def, NULL);
	c->m->ports = cm_xmalloc(sizeof(unsigned));
	c->m->ports[0] = 0xf4;
	c->m->nports = 1;
}

/* One matrix per file: a second document after "---" would be ignored silently. */
static void second_document(struct ctx *c, yaml_parser_t *parser)
{
	yaml_document_t next;
	if (!yaml_parser_load(parser, &next))
		return; /* a syntax error past the first document: libyaml stops there */
	yaml_node_t *root = yaml_document_get_root_node(&next);
	if (root)
		cm_diags_add(c->d, CM_SEV_ERROR, c->file, (int)root->start_mark.line + 1,
			     (int)root->start_mark.column + 1,
			     "a second YAML document: a matrix file holds one (merge them, or use "
			     "two files)");
	yaml_document_delete(&next);
}

struct cm_matrix *cm_matrix_load_string(const char *text, size_t len, const char *name,
					struct cm_diags *d)
{
	struct cm_matrix *m = cm_xcalloc(1, sizeof(*m));
	yaml_parser_t parser;
	yaml_document_t doc;
	struct ctx c = { .m = m, .d = d, .doc = &doc, .file = name };
	size_t errors_before = d->n_errors;
	base_args_node = phases_node = NULL;

	m->path = cm_xstrdup(name);
	char *tmp = cm_xstrdup(name);
	char rp[PATH_MAX];
	m->dir = realpath(dirname(tmp), rp) ? cm_xstrdup(rp) : cm_xstrdup(".");
	free(tmp);
	defaults(&c);

	yaml_parser_initialize(&parser);
	yaml_parser_set_input_string(&parser, (const unsigned char *)text, len);
	if (!yaml_parser_load(&parser, &doc)) {
		cm_diags_add(d, CM_SEV_ERROR, name, (int)parser.problem_mark.line + 1,
			     (int)parser.problem_mark.column + 1, "YAML syntax: %s%s%s",
			     parser.problem ? parser.problem : "error",
			     parser.context ? " " : "", parser.context ? parser.context : "");
		yaml_parser_delete(&parser);
		cm_matrix_free(m);
		return NULL;
	}
	yaml_node_t *root = yaml_document_get_root_node(&doc);
	if (!root) {
		cm_diags_add(d, CM_SEV_ERROR, name, 1, 1, "the matrix file is empty");
		goto fail;
	}
	if (!want(&c, root, YAML_MAPPING_NODE, "the matrix"))
		goto fail;
	second_document(&c, &parser);
	/* ports first: marker tables and isa-debug-exit checks depend on them */
	for (yaml_node_pair_t *p = root->data.mapping.pairs.start; p < root->data.mapping.pairs.top;
	     p++) {
		const char *k = scalar(node(&c, p->key));
		yaml_node_t *v = node(&c, p->value);
		if (!k || strcmp(k, "markers") || v->type != YAML_MAPPING_NODE)
			continue;
		for (yaml_node_pair_t *q = v->data.mapping.pairs.start; q < v->data.mapping.pairs.top;
		     q++)
			if (scalar(node(&c, q->key)) && !strcmp(scalar(node(&c, q->key)), "ports")) {
				m->nports = 0;
				parse_ports(&c, node(&c, q->value));
				c.ports_done = true;
			}
	}
	parse_mapping(&c, root, "");
	if (!m->kernel && !m->disk)
		cm_diags_add(d, CM_SEV_ERROR, name, 1, 1,
			     "no guest: set guest.bundled, guest.kernel or guest.disk");
	if (m->exit_status < 0)
		m->exit_status = 0;
	if (m->initrd && !m->kernel)
		ERR(&c, root, "guest.initrd needs guest.kernel");
	apply_preset(&c);
	check_events(&c, root);
	if (base_args_node)
		check_debug_exit(&c, base_args_node, m->base_args, m->nbase_args);
	if (m->until_ci_pct > 0 && m->min_boots > m->max_boots)
		ERR(&c, root, "run.min_boots (%lld) exceeds run.max_boots (%lld)",
		    (long long)m->min_boots, (long long)m->max_boots);
	if (d->n_errors == errors_before)
		expand(&c, root);
fail:
	yaml_document_delete(&doc);
	yaml_parser_delete(&parser);
	if (d->n_errors != errors_before) {
		cm_matrix_free(m);
		return NULL;
	}
	return m;
}

struct cm_matrix *cm_matrix_load(const char *path, struct cm_diags *d)
{
	struct stat st;
	if (!stat(path, &st) && !S_ISREG(st.st_mode)) {
		cm_diags_add(d, CM_SEV_ERROR, path, 0, 0, "%s, not a matrix file",
			     S_ISDIR(st.st_mode) ? "a folder" : "not a regular file");
		return NULL;
	}
	size_t len;
	char *text = cm_read_file(path, &len);
	if (!text) {
		cm_diags_add(d, CM_SEV_ERROR, path, 0, 0, "cannot open: %s", strerror(errno));
		return NULL;
	}
	if (len != strlen(text)) {
		cm_diags_add(d, CM_SEV_ERROR, path, 0, 0, "the file holds a NUL byte");
		free(text);
		return NULL;
	}
	struct cm_matrix *m = cm_matrix_load_string(text, len, path, d);
	free(text);
	return m;
}

const struct cm_marker *cm_matrix_marker_by_name(const struct cm_matrix *m, const char *name)
{
	for (size_t i = 0; i < m->nmarkers; i++)
		if (!strcmp(m->markers[i].name, name))
			return &m->markers[i];
	return NULL;
}

const struct cm_marker *cm_matrix_marker_by_value(const struct cm_matrix *m, unsigned port,
						  unsigned value)
{
	for (size_t i = 0; i < m->nmarkers; i++)
		if (m->markers[i].port == port && m->markers[i].value == value)
			return &m->markers[i];
	return NULL;
}

char *cm_case_cmdline(const struct cm_case *c)
{
	struct cm_buf b = { 0 };
	for (size_t i = 0; i < c->argc; i++) {
		if (i)
			cm_buf_puts(&b, " ");
		cm_shell_quote(&b, c->argv[i]);
	}
	return cm_buf_steal(&b);
}

static void free_strv(char **v, size_t n)
{
	for (size_t i = 0; i < n; i++)
		free(v[i]);
	free(v);
}

void cm_matrix_free(struct cm_matrix *m)
{
	if (!m)
		return;
	free(m->path);
	free(m->dir);
	free(m->qemu);
	free(m->kernel);
	free(m->initrd);
	free(m->append);
	free(m->disk);
	free_strv(m->base_args, m->nbase_args);
	for (size_t i = 0; i < m->ncases; i++) {
		free(m->cases[i].id);
		free_strv(m->cases[i].argv, m->cases[i].argc);
		free_strv(m->cases[i].labels, m->naxes);
	}
	free(m->cases);
	for (size_t i = 0; i < m->naxes; i++) {
		struct cm_axis *a = &m->axes[i];
		for (size_t j = 0; j < a->nvalues; j++) {
			free(a->values[j].label);
			free_strv(a->values[j].args, a->values[j].nargs);
		}
		free(a->values);
		free(a->name);
		free_strv(a->tmpl, a->ntmpl);
	}
	free(m->axes);
	clear_markers(m);
	free(m->markers);
	for (size_t i = 0; i < m->nconsole; i++) {
		free(m->console[i].name);
		free(m->console[i].match);
	}
	free(m->console);
	free(m->ports);
	for (size_t i = 0; i < m->nphases; i++) {
		free(m->phases[i].name);
		free(m->phases[i].from);
		free(m->phases[i].to);
	}
	free(m->phases);
	free(m->end_marker);
	free(m->marker_preset);
	free(m->pin);
	free_strv(m->env, m->nenv);
	free(m->first_entry_event);
	free(m->until_ci_phase);
	free(m->first_entry_filter);
	free(m);
}
