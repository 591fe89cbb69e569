/* Shared by the matrix loader's files (not a public header): the loading context, the
 * diagnostics macros, and the helpers every part of the loader uses. */
#ifndef COLDMARK_MATRIX_INTERNAL_H
#define COLDMARK_MATRIX_INTERNAL_H

#include <stdbool.h>
#include <stdint.h>
#include <yaml.h>

#include "coldmark/matrix.h"

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
	yaml_node_t *base_args_node, *phases_node; /* for errors found after parsing */
	const struct cm_builds *builds; /* coldmark bisect's: "{build}" has a value */
	struct cm_strset labels;	/* mx_add_value's duplicate check: the labels of */
	const struct cm_axis *labels_of; /* this axis, the last of them labels_last */
	const char *labels_last;
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


/* reference cases after expansion (reference.c) */
void mx_add_references(struct ctx *c, yaml_node_t *root);

/* node helpers (matrix.c) */
const char *mx_scalar(yaml_node_t *n);
yaml_node_t *mx_node(struct ctx *c, int id);
const char *mx_type_word(yaml_node_t *n);
bool mx_want(struct ctx *c, yaml_node_t *n, yaml_node_type_t t, const char *what);
int mx_parse_int(const char *s, int64_t *v);
char *mx_resolve_path(struct ctx *c, const char *p);
/* custom keys and their checks (markers.c) */
void mx_strlist(struct ctx *c, yaml_node_t *n, const char *what, char ***out, size_t *nout);
void mx_check_debug_exit(struct ctx *c, yaml_node_t *where, char **args, size_t nargs);
bool mx_valid_name(const char *s);
void mx_parse_base_args(struct ctx *c, yaml_node_t *n);
void mx_parse_env(struct ctx *c, yaml_node_t *n);
void mx_parse_ports(struct ctx *c, yaml_node_t *n);
void mx_parse_table(struct ctx *c, yaml_node_t *n);
void mx_parse_phases(struct ctx *c, yaml_node_t *n);
void mx_add_marker(struct cm_matrix *m, unsigned port, unsigned value, const char *name);
void mx_clear_markers(struct cm_matrix *m);
void mx_add_phase(struct cm_matrix *m, const char *name, const char *from, const char *to);
void mx_apply_preset(struct ctx *c);
bool mx_known_event(const struct cm_matrix *m, const char *e);
yaml_node_t *mx_at_key(struct ctx *c, yaml_node_t *root, const char *section, const char *key);
void mx_check_events(struct ctx *c, yaml_node_t *root);
/* a host event's name, or total: no marker may take it */
bool mx_is_reserved(const char *name);
/* console markers (console.c): a list of {name, match|regex[, nth]} into *list */
void mx_console_list(struct ctx *c, yaml_node_t *n, const char *what,
		     struct cm_console_marker **list, size_t *nlist);
void mx_parse_console(struct ctx *c, yaml_node_t *n);
/* An axis value's markers: {console: [...]}. */
void mx_parse_value_markers(struct ctx *c, yaml_node_t *n, struct cm_axis_value *v);
void mx_console_free(struct cm_console_marker *list, size_t n);
/* After expansion: every case has the console markers its phases and end marker need. */
void mx_check_case_markers(struct ctx *c, yaml_node_t *root);
/* axes (axes.c) */
void mx_parse_axes(struct ctx *c, yaml_node_t *n);
bool mx_is_builtin(const char *name);
char *mx_format_size(uint64_t b);
/* A scalar value of axis ax as its qemu arguments; 0, or -1 after an error at where. */
int mx_scalar_args(struct ctx *c, const struct cm_axis *ax, const char *name, const char *val,
		   struct cm_axis_value *v, yaml_node_t *where);
/* Adds a value to an axis (refused: a twin, a control character, too many values). */
void mx_add_value(struct ctx *c, struct cm_axis *ax, const char *label, yaml_node_t *where,
		  struct cm_axis_value v);
/* An axis value's own guest ({bundled|kernel|initrd|append|disk}); NULL after an error. */
struct cm_guest *mx_parse_value_guest(struct ctx *c, yaml_node_t *n);
void mx_guest_free(struct cm_guest *g);
/* The builds as an axis of their own (bisect); refused when the matrix has one by that name. */
void mx_add_build_axis(struct ctx *c, yaml_node_t *root);
/* expansion into cases (expand.c) */
void mx_expand(struct ctx *c, yaml_node_t *root);
/* The matrix's string pool (strpool.c): s's pooled copy (the pool made on first use); a case's
 * argv strings and labels swapped for pooled ones (theirs freed). A matrix with a pool has
 * every case pooled: cm_matrix_free frees their arrays and the pool, not the strings. */
const char *mx_pool_intern(struct mx_pool **pp, const char *s);
void mx_pool_case(struct mx_pool **pp, struct cm_case *cc, size_t naxes);
void mx_pool_free(struct mx_pool *p);

#endif
