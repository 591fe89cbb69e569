/* A boot's profile records (issue 28): grown as the rings are drained. */
#include <stdlib.h>
#include <string.h>
#include <traceevent/event-parse.h>

#include "coldmark/capture.h"
#include "coldmark/profile.h"

void cm_prof_recs_add(struct cm_prof_recs *r, const struct cm_prof_rec *rec)
{
	if (r->n == r->cap) {
		r->cap = r->cap ? 2 * r->cap : 1024;
		r->v = cm_xrealloc(r->v, r->cap * sizeof(*r->v));
	}
	r->v[r->n++] = *rec;
}

void cm_prof_recs_free(struct cm_prof_recs *r)
{
	if (!r)
		return;
	free(r->v);
	free(r);
}

int cm_prof_add_format(struct tep_handle *tep, const char *system, const char *text, size_t len,
		       enum cm_prof_kind kind, signed char *kind_by_id)
{
	struct tep_event *ev = NULL;
	if (tep_parse_format(tep, &ev, text, len, system) != TEP_ERRNO__SUCCESS || !ev ||
	    ev->id < 0 || ev->id >= CM_PROF_MAX_ID)
		return -1;
	kind_by_id[ev->id] = (signed char)(kind + 1);
	return ev->id;
}

static unsigned long long num(struct tep_event *ev, struct tep_record *rec, const char *name)
{
	unsigned long long v = 0;
	struct tep_format_field *f = tep_find_field(ev, name);
	if (f)
		tep_read_number_field(f, rec->data, &v);
	return v;
}

int cm_prof_decode(struct tep_handle *tep, const signed char *kind_by_id, void *raw,
		   uint32_t size, struct cm_prof_rec *out)
{
	struct tep_record rec = { .data = raw, .size = (int)size };
	if (size < 8)
		return -1;
	int type = tep_data_type(tep, &rec);
	struct tep_event *ev = type >= 0 && type < CM_PROF_MAX_ID && kind_by_id[type]
				       ? tep_find_event(tep, type) : NULL;
	if (!ev)
		return -1;
	out->kind = (uint8_t)(kind_by_id[type] - 1);
	out->weight = 1;
	switch (out->kind) {
	case CM_PROF_PIO:
		out->key = num(ev, &rec, "port");
		out->dir = num(ev, &rec, "rw") == 1;
		break;
	case CM_PROF_MMIO: /* type 0 unsatisfied read, 1 read, 2 write; named by region or page */
		out->key = num(ev, &rec, "gpa");
		out->dir = num(ev, &rec, "type") == 2;
		break;
	case CM_PROF_EXIT: /* VMX reasons keep flags in the high bits */
		out->key = (num(ev, &rec, "exit_reason") & 0xffffffffULL) |
			   num(ev, &rec, "isa") << 32;
		break;
	case CM_PROF_EMUL:
		out->weight = CM_PROF_EMUL_PERIOD;
		break;
	case CM_PROF_CPU: /* a switch: who goes (prev_pid), who comes (next_pid) */
		out->tid = (int32_t)num(ev, &rec, "prev_pid");
		out->key = num(ev, &rec, "next_pid");
		break;
	}
	return 0;
}

bool cm_prof_switch(struct cm_prof_cpus *c, unsigned cpu, bool own, struct cm_prof_rec *r)
{
	if (cpu >= 4096)
		return false;
	if (cpu >= c->n) {
		size_t n = cpu + 1;
		c->in_ts = cm_xrealloc(c->in_ts, n * sizeof(*c->in_ts));
		c->in_tid = cm_xrealloc(c->in_tid, n * sizeof(*c->in_tid));
		for (size_t i = c->n; i < n; i++)
			c->in_ts[i] = 0, c->in_tid[i] = -1;
		c->n = n;
	}
	int64_t from = c->in_ts[cpu];
	bool slice = own && from && r->ts_ns >= from;
	/* A switch out of a thread that was not the last one seen coming in on this CPU: its
	 * switch in was never delivered (a lost record; on the development host the kernel gives
	 * no sample for a switch out of the sandbox's own tasks, so a qemu thread that follows one
	 * of them comes in unseen). It ran at most since the CPU's last switch seen: that span,
	 * an upper bound, is its own counter (dir 1: qemu_cpu_unseen_ns), never qemu_cpu_ns. */
	r->dir = c->in_tid[cpu] != r->tid;
	c->in_ts[cpu] = r->ts_ns;
	c->in_tid[cpu] = (int32_t)r->key;
	if (slice)
		r->key = (uint64_t)(r->ts_ns - from);
	return slice;
}

void cm_prof_cpus_free(struct cm_prof_cpus *c)
{
	free(c->in_ts);
	free(c->in_tid);
	memset(c, 0, sizeof(*c));
}
