/* The source table: every name run.source / --source can say, and what each makes. A new
 * source is its own file and one line here (or a cm_source_register call, as a test's). */
#include <stdlib.h>
#include <string.h>

#include "coldmark/capture.h"

static struct cm_capture *make_perf(const struct cm_matrix *m, struct cm_perf *perf)
{
	return cm_perf_source(perf, m);
}

static struct cm_capture *make_debugcon(const struct cm_matrix *m, struct cm_perf *perf)
{
	(void)perf;
	return cm_debugcon_source(m, NULL);
}

static struct cm_capture *make_shadow(const struct cm_matrix *m, struct cm_perf *perf)
{
	(void)perf;
	return cm_debugcon_source(m, "@debugcon");
}

static struct cm_capture *make_console(const struct cm_matrix *m, struct cm_perf *perf)
{
	(void)perf;
	return cm_matrix_uses_console(m) ? cm_console_source(m) : NULL;
}

#define PERF_KVM (CM_SRC_PERF | CM_SRC_KVM_ONLY)
static const struct cm_source_reg builtin[] = {
	{ "auto", "perf when usable for KVM", make_perf, NULL, PERF_KVM | CM_SRC_OPTIONAL,
	  "perf (kvm:kvm_pio)" },
	{ "perf", "kvm:kvm_pio", make_perf, NULL, PERF_KVM, "perf (kvm:kvm_pio)",
	  "perf-kvm  (KVM guests, kvm:kvm_pio through perf)" },
	{ "debugcon", "TCG", make_debugcon, NULL, CM_SRC_FALLBACK,
	  "debugcon (isa-debugcon timestamped by coldmark)",
	  "debugcon  (TCG or no perf, isa-debugcon timestamped by coldmark)" },
	{ "both", "perf, plus debugcon's events in events.csv, to compare the two", make_perf,
	  make_shadow, PERF_KVM,
	  "perf (kvm:kvm_pio); debugcon's events on the same boots in events.csv as <marker>@debugcon" },
	{ "console", "markers.console", make_console, NULL, CM_SRC_ALWAYS, NULL },
};
#define NBUILTIN (sizeof(builtin) / sizeof(builtin[0]))

static const struct cm_source_reg *added[8];
static size_t nadded;

const struct cm_source_reg *cm_source_at(size_t i)
{
	return i < NBUILTIN ? &builtin[i] : i - NBUILTIN < nadded ? added[i - NBUILTIN] : NULL;
}

const struct cm_source_reg *cm_source_find(const char *name)
{
	const struct cm_source_reg *r;
	for (size_t i = 0; name && (r = cm_source_at(i)); i++)
		if (!(r->flags & CM_SRC_ALWAYS) && !strcmp(r->name, name))
			return r;
	return NULL;
}

const struct cm_source_reg *cm_source_fallback(void)
{
	const struct cm_source_reg *r;
	for (size_t i = 0; (r = cm_source_at(i)); i++)
		if (r->flags & CM_SRC_FALLBACK)
			return r;
	return NULL;
}

int cm_source_register(const struct cm_source_reg *r)
{
	if (nadded == sizeof(added) / sizeof(added[0]) || cm_source_find(r->name))
		return -1;
	added[nadded++] = r;
	return 0;
}

char *cm_source_names(const char *sep)
{
	struct cm_buf b = { 0 };
	const struct cm_source_reg *r;
	size_t k = 0;
	for (size_t i = 0; (r = cm_source_at(i)); i++)
		if (!(r->flags & CM_SRC_ALWAYS))
			cm_buf_printf(&b, "%s%s", k++ ? sep : "", r->name);
	return cm_buf_steal(&b);
}

int cm_source_check(const struct cm_matrix *m, struct cm_diags *d)
{
	if (cm_source_find(m->source.name))
		return 0;
	char *names = cm_source_names("|");
	cm_diags_add(d, CM_SEV_ERROR, m->source.file ? m->source.file : "", m->source.line,
		     m->source.col, "'run.source' must be one of %s, not '%s'", names,
		     m->source.name ? m->source.name : "");
	free(names);
	return CM_ERR(CM_EPARSE);
}
