/* replay: a capture source that plays back the events of recorded boots (an events.csv of a
 * real run), one recorded boot per launched boot of the same case, times shifted to now. The
 * runner is tested through the capture interface with it, without qemu, KVM or perf. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <traceevent/event-parse.h>

#include "coldmark/capture.h"
#include "coldmark/profile.h"

struct rec_event {
	char *case_id, *name;
	int boot, warmup;
	unsigned port, value;
	int64_t ts_ns;
};

struct raw_rec {
	char *case_id;
	int boot, warmup;
	int64_t ts_ns;
	unsigned char *data;
	uint32_t size;
	int own, cpu; /* as perf's sample says: the boot's process? on which CPU? */
};

struct replay {
	struct cm_capture base;
	struct rec_event *v;
	size_t n;
	size_t *next; /* per case of the matrix: where to look for its next recorded boot */
	struct raw_rec *raw; /* profile records (issue 28), cm_replay_profile */
	size_t nraw;
	struct tep_handle *tep;
	signed char *kinds;
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
	const struct rec_event *e = &r->v[b];
	struct cm_prof_cpus cpus = { 0 };
	for (size_t i = 0; i < r->nraw; i++) { /* the boot's profile records, decoded as perf's */
		const struct raw_rec *x = &r->raw[i];
		struct cm_prof_rec pr = { .ts_ns = x->ts_ns + shift };
		if (x->boot != e->boot || x->warmup != e->warmup || strcmp(x->case_id, e->case_id) ||
		    cm_prof_decode(r->tep, r->kinds, x->data, x->size, &pr) ||
		    (pr.kind == CM_PROF_CPU && !cm_prof_switch(&cpus, (unsigned)x->cpu, x->own, &pr)))
			continue;
		if (!ev->prof)
			ev->prof = cm_xcalloc(1, sizeof(*ev->prof));
		cm_prof_recs_add(ev->prof, &pr);
	}
	cm_prof_cpus_free(&cpus);
}

/* "kvm:kvm_exit" -> its kind, the format file dir/kvm_exit.format parsed into tep once */
static int kind_of(struct replay *r, const char *event, const char *dir)
{
	static const struct { const char *name; enum cm_prof_kind kind; } k[] = {
		{ "kvm:kvm_pio", CM_PROF_PIO }, { "kvm:kvm_mmio", CM_PROF_MMIO },
		{ "kvm:kvm_exit", CM_PROF_EXIT }, { "kvm:kvm_emulate_insn", CM_PROF_EMUL },
		{ "kvm:kvm_page_fault", CM_PROF_PF }, { "sched:sched_switch", CM_PROF_CPU },
	};
	for (size_t i = 0; i < sizeof(k) / sizeof(k[0]); i++) {
		if (strcmp(k[i].name, event))
			continue;
		const char *name = strchr(event, ':') + 1;
		char *system = cm_xasprintf("%.*s", (int)(name - 1 - event), event);
		int id = 0;
		if (!tep_find_event_by_name(r->tep, system, name)) {
			char *path = cm_xasprintf("%s/%s.format", dir, name);
			size_t len;
			char *text = cm_read_file(path, &len);
			free(path);
			id = text ? cm_prof_add_format(r->tep, system, text, len, k[i].kind, r->kinds)
				  : -1;
			free(text);
		}
		free(system);
		return id < 0 ? -1 : 0;
	}
	return -1;
}

int cm_replay_profile(struct cm_capture *s, const char *raw_csv, const char *formats_dir)
{
	struct replay *r = (struct replay *)s;
	FILE *f = fopen(raw_csv, "r");
	if (!f)
		return -1;
	if (!r->tep) {
		r->tep = tep_alloc();
		r->kinds = cm_xcalloc(CM_PROF_MAX_ID, 1);
	}
	char line[1024], id[128], event[64], hex[600];
	size_t cap = 0;
	int rc = 0;
	if (!fgets(line, sizeof(line), f)) /* the header */
		line[0] = 0;
	while (!rc && fgets(line, sizeof(line), f)) {
		struct raw_rec x = { .own = 1 };
		long long ts;
		/* own,cpu (perf's sample: the boot's process, the CPU) may follow: sched_switch */
		int nf = sscanf(line, "%127[^,],%d,%d,%63[^,],%lld,%599[0-9a-f],%d,%d", id, &x.boot,
				&x.warmup, event, &ts, hex, &x.own, &x.cpu);
		if ((nf != 6 && nf != 8) || strlen(hex) % 2 || kind_of(r, event, formats_dir)) {
			rc = -1;
			break;
		}
		x.size = (uint32_t)(strlen(hex) / 2);
		x.data = cm_xmalloc(x.size);
		for (uint32_t i = 0; i < x.size; i++) {
			unsigned v;
			sscanf(hex + 2 * i, "%2x", &v);
			x.data[i] = (unsigned char)v;
		}
		x.case_id = cm_xstrdup(id);
		x.ts_ns = ts;
		CM_PUSH(r->raw, r->nraw, cap);
		r->raw[r->nraw++] = x;
	}
	fclose(f);
	return rc;
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
	for (size_t i = 0; i < r->nraw; i++)
		free(r->raw[i].case_id), free(r->raw[i].data);
	free(r->raw);
	if (r->tep)
		tep_free(r->tep);
	free(r->kinds);
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
