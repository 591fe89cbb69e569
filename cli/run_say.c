/* The runner's voice, printed here as only the CLI prints: the plan it starts on, its messages
 * (a write that failed, qemu not found) and the progress line after each boot with a failed
 * boot's cause. */
#include <stdbool.h>
#include <stdio.h>

#include "cli.h"
#include "coldmark/harness.h"
#include "coldmark/matrix.h"
#include "coldmark/runner.h"

void cm_run_say(void *ctx, const struct cm_error *e)
{
	fprintf(stderr, "coldmark run: %s\n", e->msg);
}

void cm_run_progress(void *ctx, const struct cm_progress *p)
{
	bool tty = *(const bool *)ctx;
	const char *st = cm_status_names[p->status], *warm = p->b->warmup ? " (warm-up)" : "";
	if (p->status != CM_STATUS_OK && p->status != CM_STATUS_INTERRUPTED)
		fprintf(stderr, "%s%s boot %d%s: %s — %s (log: %s)\n", tty ? "\r\033[K" : "",
			p->c->id, p->b->boot, warm, st, p->detail, p->log);
	char tot[32], med[32], ses[32] = "";
	if (p->sessions > 1)
		snprintf(ses, sizeof(ses), " session %d/%d:", p->b->session, p->sessions);
	cm_format_ns(p->total_ns, tot, sizeof(tot));
	cm_format_ns(p->median_ns, med, sizeof(med));
	if (tty)
		printf("\r\033[K[%zu/%zu]%s %s boot %d/%d%s: %s %s, median %s  elapsed %.0fs, ETA %.0fs",
		       p->i + 1, p->n, ses, p->c->id, p->b->boot, p->of, warm, st, tot, med, p->elapsed_s,
		       p->eta_s);
	else
		printf("[%zu/%zu]%s %s boot %d/%d%s: %s total %s, running median %s (elapsed %.1fs, "
		       "ETA %.0fs)\n",
		       p->i + 1, p->n, ses, p->c->id, p->b->boot, p->of, warm, st, tot, med, p->elapsed_s,
		       p->eta_s);
	fflush(stdout);
}

/* What the run will do, before its first boot: the plan's size, the reference cases added
 * (scripts that counted cases broke on their silent addition) and boots at once. */
void cm_run_say_plan(const struct cm_matrix *m, const char *outdir)
{
	if (m->sessions > 1)
		printf("coldmark: %lld sessions × %zu cases × (%lld + %lld warm-up) boots → %s\n",
		       (long long)m->sessions, m->ncases, (long long)m->boots, (long long)m->warmup,
		       outdir);
	else
		printf("coldmark: %zu cases × (%lld + %lld warm-up) boots → %s\n", m->ncases,
		       (long long)m->boots, (long long)m->warmup, outdir);
	size_t nref = 0; /* scripts counting cases broke on the silent addition (issue 30) */
	for (size_t c = 0; c < m->ncases; c++)
		nref += m->cases[c].reference;
	if (nref)
		printf("coldmark: %zu of them added: the reference case (marked \"reference\" in "
		       "samples.csv, summary.csv and JSON); run.reference: none leaves it out\n", nref);
	int cpus, k = cm_wave_widest(m, &cpus); /* boots at once: on how many CPUs */
	if (k > 1)
		printf("coldmark: up to %d boots at a time; qemu gets %d CPUs%s\n", k, cpus,
		       cpus && k > cpus ? ": they wait for a CPU, and the run measures density" : "");
}
