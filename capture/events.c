/* A boot's events as the capture sources deliver them: identities (host events, console
 * lines, port writes) with their stamps; named through the matrix's marker table once, when
 * the boot is evaluated; sorted by time for events.csv. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "coldmark/capture.h"
#include "coldmark/profile.h"

static struct cm_event *push(struct cm_events *e, enum cm_event_kind kind, int64_t ts_ns)
{
	CM_PUSH(e->v, e->n, e->cap);
	struct cm_event *x = &e->v[e->n++];
	*x = (struct cm_event){ .kind = kind, .ts_ns = ts_ns };
	return x;
}

void cm_events_add(struct cm_events *e, const char *name, int64_t ts_ns, unsigned port,
		   unsigned value)
{
	struct cm_event *x = push(e, CM_EV_HOST, ts_ns);
	x->name = cm_xstrdup(name);
	x->port = port;
	x->value = value;
}

void cm_events_add_port(struct cm_events *e, int64_t ts_ns, unsigned port, unsigned value,
			const char *source, bool shadow)
{
	for (size_t i = 0; i < e->n; i++) {
		struct cm_event *o = &e->v[i];
		if (o->kind == CM_EV_PORT && o->port == port && o->value == value &&
		    o->shadow == shadow) {
			if (ts_ns < o->ts_ns)
				o->ts_ns = ts_ns;
			return;
		}
	}
	struct cm_event *x = push(e, CM_EV_PORT, ts_ns);
	x->port = port;
	x->value = value;
	x->source = source;
	x->shadow = shadow;
}

void cm_events_add_marker(struct cm_events *e, const struct cm_matrix *m, int64_t ts_ns,
			  unsigned port, unsigned value)
{
	(void)m;
	cm_events_add_port(e, ts_ns, port, value, NULL, false);
}

void cm_events_resolve(struct cm_events *e, const struct cm_matrix *m)
{
	for (size_t i = 0; i < e->n; i++) {
		struct cm_event *x = &e->v[i];
		if (x->kind != CM_EV_PORT || x->name)
			continue;
		const struct cm_marker *mk = cm_matrix_marker_by_value(m, x->port, x->value);
		const char *suffix = x->shadow ? "@debugcon" : "";
		/* names of any length: a cut name would match no phase and fail every boot */
		x->name = mk ? cm_xasprintf("%s%s", mk->name, suffix)
			     : cm_xasprintf("m%x:%u%s", x->port, x->value, suffix);
	}
}

const struct cm_event *cm_events_find(const struct cm_events *e, const char *name)
{
	for (size_t i = 0; i < e->n; i++)
		if (e->v[i].name && !strcmp(e->v[i].name, name))
			return &e->v[i];
	return NULL;
}

const struct cm_event *cm_events_find_marker(const struct cm_events *e, const struct cm_matrix *m,
					     const char *name)
{
	const struct cm_marker *mk = cm_matrix_marker_by_name(m, name);
	if (!mk)
		return cm_events_find(e, name);
	for (size_t i = 0; i < e->n; i++)
		if (e->v[i].kind == CM_EV_PORT && !e->v[i].shadow && e->v[i].port == mk->port &&
		    e->v[i].value == mk->value)
			return &e->v[i];
	return NULL;
}

/* Time order, then order of arrival: events.csv reads as the boot happened. */
static int by_time(const void *a, const void *b)
{
	const struct cm_event *x = a, *y = b;
	if (x->ts_ns != y->ts_ns)
		return x->ts_ns < y->ts_ns ? -1 : 1;
	return x->seq < y->seq ? -1 : x->seq > y->seq;
}

void cm_events_sort(struct cm_events *e)
{
	for (size_t i = 0; i < e->n; i++)
		e->v[i].seq = i;
	if (e->n > 1)
		qsort(e->v, e->n, sizeof(*e->v), by_time);
}

void cm_events_free(struct cm_events *e)
{
	for (size_t i = 0; i < e->n; i++)
		free(e->v[i].name);
	free(e->v);
	cm_prof_recs_free(e->prof);
	memset(e, 0, sizeof(*e));
}
