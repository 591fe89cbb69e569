/* Reference cases: the bundled guest under each of the matrix's accelerators, booted in every
 * session's shuffled blocks beside the matrix's own cases. A change in the guest moves its
 * cases and leaves the reference alone; a busier or slower host moves both. compare and
 * history show each change beside the reference's, and can judge a case relative to it. */
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "internal.h"

#define REF_PORT 0xf4 /* the bundled guest's marker port */

/* The accelerator arguments of base_args: "-accel X", "-enable-kvm", "-machine ...,accel=X". */
static void base_accel(const struct cm_matrix *m, struct cm_argv *a)
{
	for (size_t i = 0; i < m->nbase_args; i++) {
		const char *s = m->base_args[i], *next = i + 1 < m->nbase_args ? m->base_args[i + 1] : NULL;
		const char *acc = next && !strcmp(s, "-machine") ? strstr(next, "accel=") : NULL;
		if (!strcmp(s, "-enable-kvm"))
			cm_argv_add(a, "-enable-kvm");
		else if (next && !strcmp(s, "-accel"))
			cm_argv_add(a, "-accel"), cm_argv_add(a, "%s", next);
		else if (acc)
			cm_argv_add(a, "-accel"), cm_argv_add(a, "%.*s", (int)strcspn(acc + 6, ",:"), acc + 6);
	}
}

/* One reference case: the bundled guest on a plain pc with 128M, the accelerator's args. */
static void add_reference(struct cm_matrix *m, const char *image, int accel_axis,
			  const struct cm_axis_value *accel)
{
	struct cm_argv a = { 0 };
	cm_argv_add(&a, "%s", m->qemu);
	const char *fixed[] = { "-machine", "pc", "-m", "128M", "-display", "none", "-nodefaults",
				"-no-reboot" };
	for (size_t i = 0; i < sizeof(fixed) / sizeof(fixed[0]); i++)
		cm_argv_add(&a, "%s", fixed[i]);
	if (accel)
		for (size_t k = 0; k < accel->nargs; k++)
			cm_argv_add(&a, "%s", accel->args[k]);
	else
		base_accel(m, &a);
	cm_argv_add(&a, "-drive"), cm_argv_add(&a, "file=%s,format=raw,if=ide,snapshot=on", image);
	cm_argv_add(&a, "-device"), cm_argv_add(&a, "isa-debug-exit,iobase=0x501,iosize=2");
	m->cases = cm_xrealloc(m->cases, (m->ncases + 1) * sizeof(*m->cases));
	struct cm_case *cc = &m->cases[m->ncases++];
	*cc = (struct cm_case){ .argv = a.v, .argc = a.n, .reference = true };
	cc->labels = cm_xcalloc(m->naxes ? m->naxes : 1, sizeof(char *));
	if (accel) {
		cc->labels[accel_axis] = cm_xstrdup(accel->label);
		cc->id = cm_xasprintf("%s,accel=%s", CM_REFERENCE_ID, accel->label);
	} else {
		cc->id = cm_xstrdup(CM_REFERENCE_ID);
	}
	mx_pool_case(&m->pool, cc, m->naxes);
}

void mx_add_references(struct ctx *c, yaml_node_t *root)
{
	struct cm_matrix *m = c->m;
	if (m->reference == CM_REFERENCE_NONE || !m->ncases)
		return;
	char why[1024];
	char *image = cm_guest_image("guest", why, sizeof(why));
	bool port = false;
	for (size_t i = 0; i < m->nports; i++)
		port |= m->ports[i] == REF_PORT;
	char *profile = cm_xasprintf("qemu: \"%s\"\nguest: {bundled: guest}\nrun: {reference: none}\n",
				     m->qemu);
	struct cm_diags d = { 0 };
	if (!image)
		WARN(c, root, "run.reference: no reference case: %s", why);
	else if (!port)
		WARN(c, root, "run.reference: the matrix's marker ports leave out 0x%x, the bundled "
			      "guest's: no reference case (run.reference: none to say so)", REF_PORT);
	else if (!(m->reference_profile = cm_matrix_load_string(profile, strlen(profile),
								 "reference", &d)))
		WARN(c, root, "run.reference: the bundled guest's profile does not load");
	if (m->reference_profile) {
		int a = -1;
		for (size_t i = 0; i < m->naxes; i++)
			if (!strcmp(m->axes[i].name, "accel"))
				a = (int)i;
		size_t ncases = m->ncases;
		for (size_t v = 0; a >= 0 && v < m->axes[a].nvalues; v++) {
			bool used = false; /* an accelerator some case boots under (exclude may drop one) */
			for (size_t k = 0; k < ncases && !used; k++)
				used = m->cases[k].labels[a] &&
				       !strcmp(m->cases[k].labels[a], m->axes[a].values[v].label);
			if (used)
				add_reference(m, image, a, &m->axes[a].values[v]);
		}
		if (m->ncases == ncases)
			add_reference(m, image, -1, NULL);
	}
	cm_diags_clear(&d);
	free(profile);
	free(image);
}
