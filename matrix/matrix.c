/* Matrix loading: libyaml document -> key table -> validated spec -> expanded cases.
 * Every error carries the file:line:col of the YAML node it is about; parsing goes on after
 * an error so that one pass reports as many as it can. This file: the key table, the
 * scalar keys, the entry points; markers.c, axes.c and expand.c hold the rest. */
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

#include "internal.h"

/* ---- the key table ---------------------------------------------------------------------- */

enum ktype { K_SECTION, K_STRING, K_PATH, K_INT, K_BOOL, K_DURATION, K_ENUM, K_PERCENT, K_CUSTOM,
	     K_NAME };
static const char *const ktype_names[] = { "section", "string", "path", "integer", "boolean",
					   "duration", "enum", "percent", "list/map", "name" };

struct key {
	const char *name; /* dotted path */
	enum ktype type;
	size_t off;       /* into struct cm_matrix, for scalar types */
	const char *def;  /* NULL: no default (unset) */
	int64_t min, max;
	const char *choices; /* K_ENUM: '|' separated, index = stored value */
	const char *help;
	void (*parse)(struct ctx *c, yaml_node_t *n); /* K_CUSTOM */
	/* run.* keys that `coldmark run` also takes as a flag: its name, letter and value name
	 * (the run command's options are generated from here) */
	const char *flag, *metavar;
	char short_flag;
};

static void parse_include(struct ctx *c, yaml_node_t *n) { c->include = n; }
static void parse_exclude(struct ctx *c, yaml_node_t *n) { c->exclude = n; }

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
	  mx_parse_base_args },
	{ "axes", K_CUSTOM, 0, NULL, 0, 0, NULL,
	  "memory, machine, cpu, smp, accel, firmware, devices, or NAME: {template, values}; "
	  "a value is a scalar, {name, args[, markers: {console: [...]}]}, or a range "
	  "{from, to, step|factor}",
	  mx_parse_axes },
	{ "include", K_CUSTOM, 0, NULL, 0, 0, NULL,
	  "list of {axis: value} added to or extending cases (GitHub Actions semantics)",
	  parse_include },
	{ "exclude", K_CUSTOM, 0, NULL, 0, 0, NULL,
	  "list of {axis: value}: removes every case that matches all given keys", parse_exclude },
	{ "markers", K_SECTION, 0, NULL, 0, 0, NULL, "the guest's marker protocol" },
	{ "markers.preset", K_ENUM, OFF(marker_preset), "coldmark-guest", 0, 0,
	  "coldmark-guest|nanos|qemu-boot-time|none", "a named marker table (and default phases)" },
	{ "markers.ports", K_CUSTOM, 0, "[0xf4]", 0, 0, NULL,
	  "I/O ports whose writes are markers (for table entries without a port)", mx_parse_ports },
	{ "markers.table", K_CUSTOM, 0, NULL, 0, 0, NULL,
	  "list of {value, name[, port]}; replaces the preset's table", mx_parse_table },
	{ "markers.console", K_CUSTOM, 0, NULL, 0, 0, NULL,
	  "list of {name, match|regex[, nth]}: a marker at the first (nth) serial-console line "
	  "containing match, or matching regex (POSIX extended, per line: ^ and $ anchor), for "
	  "guests that cannot write port 0xf4 (works with KVM and TCG, beside port markers); an "
	  "axis value may carry its own ({name, markers: {console: [...]}})",
	  mx_parse_console },
	{ "markers.end", K_STRING, OFF(end_marker), NULL, 0, 0, NULL,
	  "the marker that ends a boot (the harness stops waiting there); default: the table's last" },
	{ "phases", K_CUSTOM, 0, NULL, 0, 0, NULL,
	  "list of {name, from, to}: events exec, first_entry, exit or a marker name; "
	  "default: the preset's, or consecutive markers",
	  mx_parse_phases },
	{ "run", K_SECTION, 0, NULL, 0, 0, NULL, "how the boots are run" },
	{ "run.boots", K_INT, OFF(boots), "10", 1, 1000000, NULL, "measured boots per case", .flag = "boots", .metavar = "BOOTS", .short_flag = 'n' },
	{ "run.warmup", K_INT, OFF(warmup), "1", 0, 10000, NULL,
	  "warm-up boots per case (stored, not counted)", .flag = "warmup", .metavar = "WARMUP", .short_flag = 'w' },
	{ "run.timeout", K_DURATION, OFF(timeout_ms), "60s", 1, 86400000, NULL,
	  "per-boot limit; qemu is killed and the boot marked timeout" },
	{ "run.end_grace", K_DURATION, OFF(end_grace_ms), "2s", 0, 86400000, NULL,
	  "after the end marker, how long qemu gets to exit by itself before it is ended (when no "
	  "exit status is required, the boot still counts; 0: at once)" },
	{ "run.drop_caches", K_BOOL, OFF(drop_caches), "true", 0, 0, NULL,
	  "drop the page cache before every boot" },
	{ "run.keep_logs", K_BOOL, OFF(keep_logs), "false", 0, 0, NULL,
	  "keep every boot's log (qemu's output and the serial console) in logs/, not only those of "
	  "failed boots (--keep-logs)" },
	{ "run.drop_method", K_ENUM, OFF(drop_method), "auto", 0, 0, "auto|drop_caches|evict",
	  "drop_caches (root) or per-file eviction of qemu, its libraries and guest files" },
	{ "run.order", K_ENUM, OFF(order), "shuffled", 0, 0, "sequential|interleaved|shuffled",
	  "order of boots across cases", .flag = "order", .metavar = "ORDER", .short_flag = 0 },
	{ "run.sessions", K_INT, OFF(sessions), "1", 1, 10000, NULL,
	  "sessions one run holds: each boots every case (warm-ups too) in its own shuffled order, "
	  "with its own seed derived from run.seed; between runs the session is the unit compare "
	  "counts", .flag = "sessions", .metavar = "K", .short_flag = 0 },
	{ "run.concurrency", K_INT, OFF(concurrency), "1", 1, 1024, NULL,
	  "boots at once: the plan runs in waves of the next K boots, each boot measured as its "
	  "own (K beyond the CPUs is allowed: a density test)", .flag = "concurrency",
	  .metavar = "K", .short_flag = 0 },
	{ "run.reference", K_ENUM, OFF(reference), "bundled", 0, 0, "bundled|none",
	  "reference cases every session boots: the bundled guest under each of the matrix's "
	  "accelerators (told apart from the cases by compare and history), or none" },
	{ "run.seed", K_INT, OFF(seed), "1", 0, INT64_MAX, NULL, "seed of the shuffled order", .flag = "seed", .metavar = "N", .short_flag = 0 },
	{ "run.cpus", K_STRING, OFF(pin), NULL, 0, 0, NULL,
	  "CPU list qemu and all its threads are pinned to before exec (\"2-3\"); coldmark itself "
	  "runs on the other CPUs", .flag = "cpus", .metavar = "LIST", .short_flag = 0 },
	{ "run.pin", K_STRING, OFF(pin), NULL, 0, 0, NULL, "the former name of run.cpus" },
	{ "run.env", K_CUSTOM, 0, NULL, 0, 0, NULL, "map of environment variables set for qemu",
	  mx_parse_env },
	{ "run.exit_status", K_INT, OFF(exit_status), "-1", -1, 255, NULL,
	  "qemu's expected exit status (-1: 33 for the bundled guest, else 0)" },
	{ "run.source", K_NAME, OFF(source), "auto", 0, 0, NULL,
	  "marker source: a name of capture's source table (coldmark doctor lists them)", .flag = "source", .metavar = "SOURCE", .short_flag = 0 },
	{ "run.first_entry_event", K_STRING, OFF(first_entry_event), "auto", 0, 0, NULL,
	  "tracepoint for first_entry (auto: kvm:kvm_entry and kvm:kvm_emulate_insn)" },
	{ "run.first_entry_filter", K_STRING, OFF(first_entry_filter), "rip == 0xfff0", 0, 0, NULL,
	  "kernel filter on the first_entry event (the reset vector)" },
	{ "run.profile", K_BOOL, OFF(profile), "false", 0, 0, NULL,
	  "count per boot and phase what the guest made KVM do (port I/O, MMIO, exits, emulated "
	  "instructions, page faults) into profile.csv; KVM cases through perf (run --profile)" },
	{ "run.profile_emulated", K_BOOL, OFF(profile_emulated), "false", 0, 0, NULL,
	  "with run.profile, also count the instructions KVM emulated (kvm:kvm_emulate_insn): its "
	  "probe slows the boots ~5-8% where every instruction is emulated (nested KVM)" },
	{ "run.max_failed", K_PERCENT, OFF(max_failed_pct), "0", 0, 100, NULL,
	  "share of measured boots (%) that may fail before the run exits 1 (all stay in the data)", .flag = "max-failed", .metavar = "PCT", .short_flag = 0 },
	{ "run.until_ci", K_PERCENT, OFF(until_ci_pct), "0", 0, 100, NULL,
	  "adaptive: boot until the median CI half-width is this % of the median (0: off)", .flag = "until-ci", .metavar = "PCT", .short_flag = 0 },
	{ "run.until_ci_phase", K_STRING, OFF(until_ci_phase), "total", 0, 0, NULL,
	  "adaptive: the phase whose median CI decides (a phase name, or total)", .flag = "until-ci-phase", .metavar = "PHASE", .short_flag = 0 },
	{ "run.min_boots", K_INT, OFF(min_boots), "6", 1, 1000000, NULL, "with until_ci: at least" },
	{ "run.max_boots", K_INT, OFF(max_boots), "100", 1, 1000000, NULL, "with until_ci: at most" },
};
#define NKEYS (sizeof(keys) / sizeof(keys[0]))

size_t cm_matrix_key_flags(struct cm_key_flag *out, size_t max)
{
	size_t n = 0;
	for (size_t i = 0; i < NKEYS; i++)
		if (keys[i].flag && n++ < max)
			out[n - 1] = (struct cm_key_flag){ keys[i].name, keys[i].flag, keys[i].metavar,
							   keys[i].help, keys[i].short_flag };
	return n;
}

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

const char *mx_scalar(yaml_node_t *n)
{
	return n && n->type == YAML_SCALAR_NODE ? (const char *)n->data.scalar.value : NULL;
}

yaml_node_t *mx_node(struct ctx *c, int id)
{
	return yaml_document_get_node(c->doc, id);
}

const char *mx_type_word(yaml_node_t *n)
{
	return n->type == YAML_SCALAR_NODE ? "a scalar" : n->type == YAML_SEQUENCE_NODE ? "a list"
									    : "a mapping";
}

bool mx_want(struct ctx *c, yaml_node_t *n, yaml_node_type_t t, const char *what)
{
	if (n->type == t)
		return true;
	ERR(c, n, "%s must be %s, not %s", what,
	    t == YAML_SCALAR_NODE ? "a scalar" : t == YAML_SEQUENCE_NODE ? "a list" : "a mapping",
	    mx_type_word(n));
	return false;
}

int mx_parse_int(const char *s, int64_t *v)
{
	char *end;
	errno = 0;
	long long x = strtoll(s, &end, 0);
	if (!*s || *end || errno)
		return -1;
	*v = x;
	return 0;
}

char *mx_resolve_path(struct ctx *c, const char *p)
{
	/* "{build}/guest.img" is bisect's build folder, an absolute path once expanded */
	if (p[0] == '/' || !strncmp(p, CM_BUILD_PLACEHOLDER, strlen(CM_BUILD_PLACEHOLDER)))
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
		*dst = k->type == K_PATH && n ? mx_resolve_path(c, text) : cm_xstrdup(text);
		return 0;
	}
	case K_NAME: { /* checked by the room that owns the names */
		struct cm_name *dst = (struct cm_name *)(base + k->off);
		free(dst->name), free(dst->file);
		*dst = (struct cm_name){ cm_xstrdup(text), cm_xstrdup(c->file ? c->file : ""),
					 n ? (int)n->start_mark.line + 1 : 0,
					 n ? (int)n->start_mark.column + 1 : 0 };
		return 0;
	}
	case K_INT: {
		int64_t v;
		if (mx_parse_int(text, &v))
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
		if (mx_want(c, v, YAML_MAPPING_NODE, k->name)) {
			char *p = cm_xasprintf("%s.", k->name);
			parse_mapping(c, v, p);
			free(p);
		}
		break;
	case K_CUSTOM:
		k->parse(c, v);
		break;
	default:
		if (!mx_want(c, v, YAML_SCALAR_NODE, k->name))
			break;
		if (!strcmp(k->name, "guest.bundled")) {
			const char *name = mx_scalar(v);
			for (const char *p = name; *p; p++)
				if (!isalnum((unsigned char)*p) && *p != '-' && *p != '_') {
					ERR(c, v, "guest.bundled: '%s' is not a bundled guest name", name);
					return;
				}
			char why[1024];
			free(c->m->disk);
			if (!(c->m->disk = cm_guest_image(name, why, sizeof(why)))) {
				ERR(c, v, "%s", why);
				char *dir = cm_guest_dir(NULL); /* the path the case would boot */
				c->m->disk = cm_xasprintf("%s/%s.img", dir, name);
				free(dir);
			}
			if (!c->set_exit_status)
				c->m->exit_status = 33; /* isa-debug-exit with value 0x10 */
			break;
		}
		if (store_scalar(c, k, mx_scalar(v), v))
			break;
		if (k->type == K_PATH && !strstr(mx_scalar(v), CM_BUILD_PLACEHOLDER) &&
		    !readable_file(*(char **)((char *)c->m + k->off)))
			ERR(c, v, "%s: guest file '%s' not found, not readable or not a file", k->name,
			    mx_scalar(v));
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
		yaml_node_t *kn = mx_node(c, p->key), *vn = mx_node(c, p->value);
		const char *kname = mx_scalar(kn);
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

/* Every case boots a guest of its own: some axis gives each of its values one. */
static bool axis_guests_all(const struct cm_matrix *m)
{
	for (size_t a = 0; a < m->naxes; a++) {
		bool all = m->axes[a].nvalues > 0;
		for (size_t v = 0; v < m->axes[a].nvalues; v++)
			all &= m->axes[a].values[v].guest != NULL;
		if (all)
			return true;
	}
	return false;
}

static struct cm_matrix *load_string(const char *text, size_t len, const char *name,
				     const struct cm_builds *builds, struct cm_diags *d)
{
	struct cm_matrix *m = cm_xcalloc(1, sizeof(*m));
	yaml_parser_t parser;
	yaml_document_t doc;
	struct ctx c = { .m = m, .d = d, .doc = &doc, .file = name, .builds = builds };
	size_t errors_before = d->n_errors;

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
	if (!mx_want(&c, root, YAML_MAPPING_NODE, "the matrix"))
		goto fail;
	second_document(&c, &parser);
	/* ports first: marker tables and isa-debug-exit checks depend on them */
	for (yaml_node_pair_t *p = root->data.mapping.pairs.start; p < root->data.mapping.pairs.top;
	     p++) {
		const char *k = mx_scalar(mx_node(&c, p->key));
		yaml_node_t *v = mx_node(&c, p->value);
		if (!k || strcmp(k, "markers") || v->type != YAML_MAPPING_NODE)
			continue;
		for (yaml_node_pair_t *q = v->data.mapping.pairs.start; q < v->data.mapping.pairs.top;
		     q++)
			if (mx_scalar(mx_node(&c, q->key)) && !strcmp(mx_scalar(mx_node(&c, q->key)), "ports")) {
				m->nports = 0;
				mx_parse_ports(&c, mx_node(&c, q->value));
				c.ports_done = true;
			}
	}
	parse_mapping(&c, root, "");
	if (builds)
		mx_add_build_axis(&c, root);
	if (!m->kernel && !m->disk && !axis_guests_all(m))
		cm_diags_add(d, CM_SEV_ERROR, name, 1, 1,
			     "no guest: set guest.bundled, guest.kernel or guest.disk");
	if (m->exit_status < 0)
		m->exit_status = 0;
	if (m->initrd && !m->kernel)
		ERR(&c, root, "guest.initrd needs guest.kernel");
	mx_apply_preset(&c);
	mx_check_events(&c, root);
	if (c.base_args_node)
		mx_check_debug_exit(&c, c.base_args_node, m->base_args, m->nbase_args);
	if (m->until_ci_pct > 0 && m->min_boots > m->max_boots)
		ERR(&c, root, "run.min_boots (%lld) exceeds run.max_boots (%lld)",
		    (long long)m->min_boots, (long long)m->max_boots);
	if (d->n_errors == errors_before)
		mx_expand(&c, root);
	for (size_t i = 0; d->n_errors == errors_before && i < m->ncases; i++)
		if (m->cases[i].concurrency > 1 && m->boots % m->cases[i].concurrency) {
			/* a last wave of fewer boots would be measured as if K were at once */
			ERR(&c, root, "case %s: run.boots (%lld) is not a multiple of its concurrency "
				      "(%d): each wave boots exactly that many at once",
			    m->cases[i].id, (long long)m->boots, m->cases[i].concurrency);
			break;
		}
	if (d->n_errors == errors_before)
		mx_check_case_markers(&c, root);
	if (d->n_errors == errors_before)
		mx_add_references(&c, root);
fail:
	cm_strset_free(&c.labels);
	yaml_document_delete(&doc);
	yaml_parser_delete(&parser);
	if (d->n_errors != errors_before) {
		cm_matrix_free(m);
		return NULL;
	}
	return m;
}

struct cm_matrix *cm_matrix_load_string(const char *text, size_t len, const char *name,
					struct cm_diags *d)
{
	return load_string(text, len, name, NULL, d);
}

struct cm_matrix *cm_matrix_load(const char *path, struct cm_diags *d)
{
	return cm_matrix_load_builds(path, NULL, d);
}

struct cm_matrix *cm_matrix_load_builds(const char *path, const struct cm_builds *builds,
					struct cm_diags *d)
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
	struct cm_matrix *m = load_string(text, len, path, builds, d);
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
		free_strv(m->cases[i].argv, m->pool ? 0 : m->cases[i].argc);
		free_strv(m->cases[i].labels, m->pool ? 0 : m->naxes);
	}
	mx_pool_free(m->pool);
	free(m->cases);
	cm_matrix_free(m->reference_profile);
	for (size_t i = 0; i < m->naxes; i++) {
		struct cm_axis *a = &m->axes[i];
		for (size_t j = 0; j < a->nvalues; j++) {
			mx_console_free(a->values[j].console, a->values[j].nconsole);
			free(a->values[j].label);
			free_strv(a->values[j].args, a->values[j].nargs);
			mx_guest_free(a->values[j].guest);
		}
		free(a->values);
		free(a->name);
		free_strv(a->tmpl, a->ntmpl);
	}
	free(m->axes);
	mx_clear_markers(m);
	free(m->markers);
	mx_console_free(m->console, m->nconsole);
	free(m->ports);
	for (size_t i = 0; i < m->nphases; i++) {
		free(m->phases[i].name);
		free(m->phases[i].from);
		free(m->phases[i].to);
	}
	free(m->phases);
	free(m->end_marker);
	free(m->marker_preset);
	free(m->source.name), free(m->source.file);
	free(m->pin);
	free_strv(m->env, m->nenv);
	free(m->first_entry_event);
	free(m->until_ci_phase);
	free(m->first_entry_filter);
	free(m);
}

