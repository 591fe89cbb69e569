/* A capture source added by the tests alone, to show that a source --source can select is two
 * files: this one (its operations and constructor) and its registration (the last lines).
 * "fake" puts nothing on qemu's argv and polls nothing (those operations are left NULL): at the
 * first drain of a boot it replays the matrix's marker table as a fake event stream, each
 * marker stamped 1 µs after the one before, from the moment it is read. */
#include <stdlib.h>

#include "coldmark/capture.h"

struct fake {
	struct cm_capture base;
	bool sent; /* this boot's stream is out */
};

static void fake_begin(struct cm_capture *s)
{
	((struct fake *)s)->sent = false;
}

static void fake_drain(struct cm_capture *s, pid_t pid, struct cm_events *ev)
{
	struct fake *f = (struct fake *)s;
	(void)pid;
	if (f->sent)
		return;
	f->sent = true;
	int64_t t = cm_now_ns();
	for (size_t i = 0; i < s->m->nmarkers; i++)
		cm_events_add_marker(ev, s->m, t + 1000 * (int64_t)i, s->m->markers[i].port,
				     s->m->markers[i].value);
}

static void fake_free(struct cm_capture *s)
{
	free(s);
}

static const struct cm_capture_ops fake_ops = {
	.name = "fake", .begin = fake_begin, .drain = fake_drain, .free = fake_free,
};

static struct cm_capture *fake_make(const struct cm_matrix *m, struct cm_perf *perf)
{
	(void)perf;
	struct fake *f = cm_xcalloc(1, sizeof(*f));
	f->base = (struct cm_capture){ &fake_ops, m, NULL };
	return &f->base;
}

/* ---- the registration: the one line a source of capture/ would have in registry.c ---- */
static const struct cm_source_reg fake_reg = {
	"fake", "a test's fake event stream", fake_make, NULL, 0, "fake (a test's event stream)",
	NULL,
};
__attribute__((constructor)) static void fake_register(void)
{
	cm_source_register(&fake_reg);
}
