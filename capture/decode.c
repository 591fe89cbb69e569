/* Tracepoint payloads decoded by field name with libtraceevent: layouts differ between
 * kernels (kvm_pio gained `val` late), offsets are never hard-coded. */
#include <stdio.h>
#include <string.h>
#include <traceevent/event-parse.h>
#include <unistd.h>

#include "coldmark/capture.h"

int cm_tp_add_format(struct tep_handle *tep, const char *system, const char *text, size_t len,
		     enum cm_tp_kind kind, int *kinds_by_id, size_t nkinds)
{
	struct tep_event *ev = NULL;
	if (tep_parse_format(tep, &ev, text, len, system) != TEP_ERRNO__SUCCESS || !ev)
		return -1;
	if (ev->id < 0 || (size_t)ev->id >= nkinds)
		return -1;
	kinds_by_id[ev->id] = kind;
	return ev->id;
}

static unsigned long long field(struct tep_event *ev, struct tep_record *rec, const char *name,
				bool *ok)
{
	unsigned long long v = 0;
	struct tep_format_field *f = tep_find_field(ev, name);
	if (!f || tep_read_number_field(f, rec->data, &v))
		*ok = false;
	return v;
}

int cm_tp_decode(struct tep_handle *tep, const int *kinds_by_id, size_t nkinds, void *raw,
		 int size, struct cm_tp_record *out)
{
	struct tep_record rec = { .data = raw, .size = size };
	memset(out, 0, sizeof(*out));
	if (size < 8)
		return -1;
	int type = tep_data_type(tep, &rec);
	struct tep_event *ev = tep_find_event(tep, type);
	if (!ev || type < 0 || (size_t)type >= nkinds)
		return -1;
	out->kind = kinds_by_id[type];
	out->type = type;
	bool ok = true;
	out->pid = tep_data_pid(tep, &rec);
	switch (out->kind) {
	case CM_TP_PIO:
		out->rw = field(ev, &rec, "rw", &ok);
		out->port = field(ev, &rec, "port", &ok);
		out->size = field(ev, &rec, "size", &ok);
		out->count = field(ev, &rec, "count", &ok);
		/* without `val` (old kernels) the value is unknown: such a host cannot name markers */
		out->val = field(ev, &rec, "val", &ok);
		break;
	case CM_TP_EXEC: {
		struct tep_format_field *f = tep_find_field(ev, "filename");
		if (!f)
			return -1;
		int len = 0;
		const char *s = tep_get_field_raw(NULL, ev, "filename", &rec, &len, 0);
		if (s) {
			int n = len < (int)sizeof(out->filename) - 1 ? len : (int)sizeof(out->filename) - 1;
			memcpy(out->filename, s, n);
			out->filename[n] = 0;
		}
		out->pid = (int)field(ev, &rec, "pid", &ok);
		break;
	}
	case CM_TP_FIRST_ENTRY: {
		struct tep_format_field *f = tep_find_field(ev, "rip");
		if (f)
			out->rip = field(ev, &rec, "rip", &ok);
		break;
	}
	case CM_TP_EXIT:
		out->group_dead = tep_find_field(ev, "group_dead") ? (int)field(ev, &rec, "group_dead", &ok)
								  : -1;
		break;
	default:
		return -1;
	}
	return ok ? 0 : -1;
}

/* Adds system:name with a kernel filter; returns the evsel or NULL (err set). */
