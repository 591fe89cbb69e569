/* A boot's events as the capture sources deliver them: stamped, named through the matrix's
 * marker table, kept in order of arrival and sorted by time for events.csv. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "coldmark/capture.h"

void cm_events_add(struct cm_events *e, const char *name, int64_t ts_ns, unsigned port,
		   unsigned value)
{
	CM_PUSH(e->v, e->n, e->cap);
	struct cm_event *x = &e->v[e->n++];
	x->name = cm_xstrdup(name);
	x->ts_ns = ts_ns;
	x->port = port;
	x->value = value;
}

void cm_events_add_marker(struct cm_events *e, const struct cm_matrix *m, int64_t ts_ns,
			  unsigned port, unsigned value)
{
	cm_events_add_marker_as(e, m, ts_ns, port, value, NULL);
}

void cm_events_add_marker_as(struct cm_events *e, const struct cm_matrix *m, int64_t ts_ns,
			     unsigned port, unsigned value, const char *suffix)
{
	const struct cm_marker *mk = cm_matrix_marker_by_value(m, port, value);
	/* names of any length: a cut name would match no phase and fail every boot */
	char *name = mk ? cm_xasprintf("%s%s", mk->name, suffix ? suffix : "")
			: cm_xasprintf("m%x:%u%s", port, value, suffix ? suffix : "");
	/* A repeated write keeps its earliest time: the moment it first happened. Rings of
	 * different CPUs are read one after the other, so a later write may arrive first. */
	const struct cm_event *old = cm_events_find(e, name);
	if (old) {
		if (ts_ns < old->ts_ns)
			((struct cm_event *)old)->ts_ns = ts_ns;
	} else {
		cm_events_add(e, name, ts_ns, port, value);
	}
	free(name);
}

const struct cm_event *cm_events_find(const struct cm_events *e, const char *name)
{
	for (size_t i = 0; i < e->n; i++)
		if (!strcmp(e->v[i].name, name))
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
	memset(e, 0, sizeof(*e));
}

