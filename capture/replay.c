/* replay: a capture source that plays back the events of recorded boots (an events.csv of a
 * real run), one recorded boot per launched boot of the same case, times shifted to now. The
 * runner is tested through the capture interface with it, without qemu, KVM or perf. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "coldmark/capture.h"

struct rec_event {
	char *case_id, *name;
	int boot, warmup;
	unsigned port, value;
	int64_t ts_ns;
};

struct replay {
	struct cm_capture base;
	struct rec_event *v;
	size_t n;
	size_t *next; /* per case of the matrix: where to look for its next recorded boot */
};

static int load(struct replay *r, const char *path)
{
	FILE *f = fopen(path, "r");
	if (!f)
		return -1;
	char line[512], id[128], name[64];
	size_t cap = 0;
	if (!fgets(line, sizeof(line), f)) /* the header */
		line[0] = 0;
	struct rec_event e;
	long long ts;
	while (fgets(line, sizeof(line), f))
		if (sscanf(line, "%127[^,],%d,%d,%63[^,],%u,%u,%lld", id, &e.boot, &e.warmup, name,
			   &e.port, &e.value, &ts) == 7) {
			CM_PUSH(r->v, r->n, cap);
			e.case_id = cm_xstrdup(id), e.name = cm_xstrdup(name), e.ts_ns = ts;
			r->v[r->n++] = e;
		}
	fclose(f);
	return 0;
}

/* Plays boot b of the recording: its events, exec moved to now. */
static void play(struct replay *r, size_t b, struct cm_events *ev)
{
	int64_t shift = cm_now_ns() - r->v[b].ts_ns;
	for (size_t i = b; i < r->n && r->v[i].boot == r->v[b].boot &&
			   r->v[i].warmup == r->v[b].warmup && !strcmp(r->v[i].case_id, r->v[b].case_id);
	     i++) {
		const struct rec_event *e = &r->v[i];
		if (e->port)
			cm_events_add_port(ev, e->ts_ns + shift, e->port, e->value, "replay", false);
		else
			cm_events_add(ev, e->name, e->ts_ns + shift, 0, 0);
	}
}

static void rp_drain(struct cm_capture *s, pid_t pid, struct cm_events *ev)
{
	(void)s, (void)pid, (void)ev; /* everything is played at once by cm_replay_boot */
}

static void rp_free(struct cm_capture *s)
{
	struct replay *r = (struct replay *)s;
	for (size_t i = 0; i < r->n; i++)
		free(r->v[i].case_id), free(r->v[i].name);
	free(r->v);
	free(r->next);
	free(r);
}

static const struct cm_capture_ops replay_ops = {
	.name = "replay", .caps = CM_CAP_FIRST_ENTRY, .args = cm_capture_no_args,
	.open_boot = cm_capture_no_sockets, .poll_fds = cm_capture_no_fds, .drain = rp_drain,
	.end_boot = cm_capture_nothing, .free = rp_free,
};

struct cm_capture *cm_replay_source(const char *events_csv, const struct cm_matrix *m)
{
	struct replay *r = cm_xcalloc(1, sizeof(*r));
	r->base = (struct cm_capture){ &replay_ops, m, NULL };
	r->next = cm_xcalloc(m->ncases + 1, sizeof(size_t));
	if (load(r, events_csv) || !r->n) {
		rp_free(&r->base);
		return NULL;
	}
	return &r->base;
}

int cm_replay_boot(struct cm_capture *s, size_t case_idx, struct cm_events *ev)
{
	struct replay *r = (struct replay *)s;
	const char *id = s->m->cases[case_idx].id;
	/* the case's next recorded boot, from where its last one ended (cycling) */
	for (size_t tries = 0; tries < 2; tries++) {
		for (size_t i = r->next[case_idx]; i < r->n; i++)
			if (!strcmp(r->v[i].case_id, id) && !strcmp(r->v[i].name, CM_EVENT_EXEC)) {
				play(r, i, ev);
				r->next[case_idx] = i + 1;
				return 0;
			}
		r->next[case_idx] = 0;
	}
	return -1;
}
