/* profile.csv (issue 28) as data: its counters' names and what they are, and its rows read
 * back per case, phase and counter as per-boot counts (a boot profiled without a counter
 * counts 0 of it). */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "coldmark/model.h"
#include "coldmark/profile.h"

const char *cm_prof_exit_reason(unsigned isa, unsigned reason)
{
	static const struct { unsigned isa, reason; const char *name; } t[] = {
		{ 1, 0, "exception_nmi" }, { 1, 1, "external_interrupt" }, { 1, 7, "interrupt_window" },
		{ 1, 10, "cpuid" }, { 1, 12, "hlt" }, { 1, 28, "cr_access" }, { 1, 30, "io" },
		{ 1, 31, "msr_read" }, { 1, 32, "msr_write" }, { 1, 44, "apic_access" },
		{ 1, 48, "ept_violation" }, { 1, 49, "ept_misconfig" }, { 1, 52, "preemption_timer" },
		{ 2, 0x60, "interrupt" }, { 2, 0x72, "cpuid" }, { 2, 0x78, "hlt" }, { 2, 0x7b, "io" },
		{ 2, 0x7c, "msr" }, { 2, 0x400, "npf" },
	};
	for (size_t i = 0; i < sizeof(t) / sizeof(t[0]); i++)
		if (t[i].isa == isa && t[i].reason == (reason & (isa == 1 ? 0xffffu : ~0u)))
			return t[i].name;
	return NULL;
}

void cm_prof_counter_name(const struct cm_prof_rec *r, const struct cm_mtree *mt, char *out,
			  size_t n)
{
	const char *rw = r->dir ? "write" : "read";
	const struct cm_mtree_region *g;
	switch (r->kind) {
	case CM_PROF_PIO:
		snprintf(out, n, "port 0x%llx %s", (unsigned long long)r->key, rw);
		break;
	case CM_PROF_MMIO:
		if (mt && (g = cm_mtree_find(mt, r->key)))
			snprintf(out, n, "mmio %llx-%llx %s %s", (unsigned long long)g->lo,
				 (unsigned long long)g->hi, g->name, rw);
		else
			snprintf(out, n, "mmio 0x%llx %s", (unsigned long long)(r->key & ~0xfffULL), rw);
		break;
	case CM_PROF_EXIT: {
		const char *name = cm_prof_exit_reason((unsigned)(r->key >> 32), (unsigned)r->key);
		if (name)
			snprintf(out, n, "exit %s", name);
		else
			snprintf(out, n, "exit %u", (unsigned)r->key);
		break;
	}
	case CM_PROF_EMUL:
		snprintf(out, n, "emulated_insn");
		break;
	case CM_PROF_CPU:
		snprintf(out, n, r->dir ? "qemu_cpu_unseen_ns" : "qemu_cpu_ns");
		break;
	default:
		snprintf(out, n, "page_fault");
	}
}

/* Well-known ports and regions of a PC under qemu: the counters' "what" in reports. */
static const struct { unsigned lo, hi; const char *what; } ports[] = {
	{ 0x20, 0x21, "PIC master" }, { 0xa0, 0xa1, "PIC slave" }, { 0x40, 0x43, "PIT" },
	{ 0x60, 0x64, "i8042 keyboard" }, { 0x61, 0x61, "PC speaker/NMI" },
	{ 0x70, 0x71, "CMOS RTC" }, { 0x80, 0x80, "POST" }, { 0x92, 0x92, "fast A20" },
	{ 0x3f8, 0x3ff, "COM1" }, { 0x2f8, 0x2ff, "COM2" }, { 0x3c0, 0x3df, "VGA" },
	{ 0x1ce, 0x1d0, "Bochs VBE" }, { 0x402, 0x402, "SeaBIOS debug" },
	{ 0x510, 0x511, "fw_cfg" }, { 0x514, 0x51b, "fw_cfg DMA" }, { 0x501, 0x501, "debug exit" },
	{ 0xcf8, 0xcff, "PCI config" }, { 0xf4, 0xf4, "coldmark marker" },
	{ 0x600, 0x63f, "ACPI PM" }, { 0xb2, 0xb3, "APM/SMI" }, { 0x1f0, 0x1f7, "IDE primary" },
	{ 0x170, 0x177, "IDE secondary" }, { 0xe9, 0xe9, "debugcon" },
};

_Static_assert(CM_PROF_EMUL_PERIOD == 1000, "the text below says 1 in 1000");

const char *cm_prof_counter_what(const char *counter)
{
	unsigned long long a;
	if (sscanf(counter, "port %llx", &a) == 1) {
		for (size_t i = 0; i < sizeof(ports) / sizeof(ports[0]); i++)
			if (a >= ports[i].lo && a <= ports[i].hi)
				return ports[i].what;
		return "";
	}
	if (sscanf(counter, "mmio %llx", &a) == 1) {
		if (a >= 0xfee00000ULL && a < 0xfef00000ULL)
			return "local APIC";
		if (a >= 0xfec00000ULL && a < 0xfed00000ULL)
			return "IOAPIC";
		if (a >= 0xfed00000ULL && a < 0xfed01000ULL)
			return "HPET";
		if (a >= 0xa0000ULL && a < 0xc0000ULL)
			return "VGA memory";
		return "";
	}
	if (!strncmp(counter, "exit ", 5))
		return "VM exits";
	if (!strcmp(counter, "emulated_insn"))
		return "instructions KVM emulated (sampled 1 in 1000)";
	if (!strcmp(counter, "page_fault"))
		return "page faults KVM handled";
	if (!strcmp(counter, "qemu_cpu_ns"))
		return "qemu's CPU time, ns (sched:sched_switch: its threads' slices)";
	if (!strcmp(counter, "qemu_cpu_unseen_ns"))
		return "qemu's CPU time the slices may have missed, at most, ns (switch in not seen)";
	return "";
}

void cm_profile_data_free(struct cm_profile_data *d)
{
	for (size_t i = 0; i < d->n; i++) {
		free(d->rows[i].case_id);
		free(d->rows[i].phase);
		free(d->rows[i].counter);
	}
	free(d->rows);
	memset(d, 0, sizeof(*d));
}

/* A CSV field that may be quoted ("a,b" with "" for a quote); advances *s past its comma. */
static char *field(char **s)
{
	char *p = *s, *out = cm_xmalloc(strlen(p) + 1), *o = out;
	if (*p == '"') {
		for (p++; *p && !(*p == '"' && p[1] != '"'); p++)
			*o++ = *p == '"' ? *++p : *p;
		if (*p == '"')
			p++;
	} else {
		while (*p && *p != ',' && *p != '\n' && *p != '\r')
			*o++ = *p++;
	}
	*o = 0;
	*s = *p == ',' ? p + 1 : p;
	return out;
}

int cm_profile_load(const char *path, struct cm_profile_data *d, struct cm_error *err)
{
	memset(d, 0, sizeof(*d));
	FILE *f = fopen(path, "r");
	if (!f) {
		cm_error_set(err, CM_ERR(CM_EIO), "%s: cannot read", path);
		return -1;
	}
	char line[1024];
	size_t ln = 0, cap = 0;
	while (fgets(line, sizeof(line), f)) {
		if (++ln == 1 && !strncmp(line, "case,", 5))
			continue;
		char *s = line;
		struct cm_profile_row r = { 0 };
		r.case_id = field(&s);
		char *boot = field(&s), *sess = field(&s);
		r.phase = field(&s);
		r.counter = field(&s);
		char *cnt = field(&s), *end = NULL;
		r.boot = atoi(boot);
		r.session = atoi(sess);
		r.count = strtod(cnt, &end);
		bool bad = !*boot || !*sess || !*r.phase || !*r.counter || end == cnt || *end;
		free(boot), free(sess), free(cnt);
		if (bad) {
			free(r.case_id), free(r.phase), free(r.counter);
			cm_error_set(err, CM_ERR(CM_EIO), "%s:%zu: not a profile row (case,boot,session,"
					 "phase,counter,count)", path, ln);
			fclose(f);
			cm_profile_data_free(d);
			return -1;
		}
		if (d->n == cap)
			d->rows = cm_xrealloc(d->rows, (cap = cap ? 2 * cap : 256) * sizeof(r));
		d->rows[d->n++] = r;
	}
	fclose(f);
	return 0;
}

/* The boots (boot, session) profiled in case and phase, in order of first appearance. */
static size_t profiled_boots(const struct cm_profile_data *d, const char *case_id,
			     const char *phase, int (**bs)[2])
{
	size_t n = 0;
	*bs = NULL;
	for (size_t i = 0; i < d->n; i++) {
		const struct cm_profile_row *r = &d->rows[i];
		if (strcmp(r->case_id, case_id) || strcmp(r->phase, phase))
			continue;
		size_t k = 0;
		while (k < n && !((*bs)[k][0] == r->boot && (*bs)[k][1] == r->session))
			k++;
		if (k == n) {
			*bs = cm_xrealloc(*bs, (n + 1) * sizeof(**bs));
			(*bs)[n][0] = r->boot, (*bs)[n][1] = r->session;
			n++;
		}
	}
	return n;
}

size_t cm_profile_counts(const struct cm_profile_data *d, const char *case_id, const char *phase,
			 const char *counter, double **out)
{
	int (*bs)[2];
	size_t n = profiled_boots(d, case_id, phase, &bs);
	*out = cm_xcalloc(n ? n : 1, sizeof(double));
	for (size_t i = 0; i < d->n; i++) {
		const struct cm_profile_row *r = &d->rows[i];
		if (strcmp(r->case_id, case_id) || strcmp(r->phase, phase) ||
		    strcmp(r->counter, counter))
			continue;
		for (size_t k = 0; k < n; k++)
			if (bs[k][0] == r->boot && bs[k][1] == r->session)
				(*out)[k] += r->count;
	}
	free(bs);
	return n;
}

size_t cm_profile_counters(const struct cm_profile_data *d, const char *case_id,
			   const char *phase, char ***out)
{
	size_t n = 0;
	*out = NULL;
	for (size_t i = 0; i < d->n; i++) {
		const struct cm_profile_row *r = &d->rows[i];
		if (strcmp(r->case_id, case_id) || strcmp(r->phase, phase) || !strcmp(r->counter, "lost"))
			continue;
		size_t k = 0;
		while (k < n && strcmp((*out)[k], r->counter))
			k++;
		if (k == n) {
			*out = cm_xrealloc(*out, (n + 1) * sizeof(char *));
			(*out)[n++] = r->counter;
		}
	}
	return n;
}
