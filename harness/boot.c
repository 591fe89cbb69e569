/* A boot's events -> status and phase durations. Markers are matched by name (their value in
 * the table), never by position, so a missing marker cannot shift the others. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "coldmark/harness.h"

#define CM_STN_(e, s) s,
const char *const cm_status_names[] = { CM_STATUSES(CM_STN_) };
#undef CM_STN_

static bool is_host_event(const char *name)
{
	return !strcmp(name, CM_EVENT_EXEC) || !strcmp(name, CM_EVENT_EXIT) ||
	       !strcmp(name, CM_EVENT_FIRST_ENTRY);
}

void cm_boot_evaluate(const struct cm_matrix *m, struct cm_events *ev,
		      const struct cm_exit *ex, bool source_has_first_entry,
		      struct cm_boot_result *r)
{
	cm_events_resolve(ev, m); /* the one place port writes get their marker names */
	r->nphase = m->nphases + 1 + CM_NMETRICS;
	r->phase_ns = cm_xmalloc(r->nphase * sizeof(double));
	r->status = CM_STATUS_OK;
	r->detail[0] = 0;
	for (size_t i = 0; i < r->nphase; i++)
		r->phase_ns[i] = NAN;

	const struct cm_event *exec = cm_events_find(ev, CM_EVENT_EXEC);
	const struct cm_event *end = m->end_marker ? cm_events_find(ev, m->end_marker) : NULL;
	bool bad_order = false;
	const char *missing = NULL;
	for (size_t i = 0; i < m->nphases; i++) {
		const struct cm_phase *p = &m->phases[i];
		const struct cm_event *a = cm_events_find(ev, p->from), *b = cm_events_find(ev, p->to);
		if (a && b) {
			r->phase_ns[i] = (double)(b->ts_ns - a->ts_ns);
			/* Two events can share a timestamp (bytes of one debugcon message, a
			 * coarse clock): then the order of arrival decides. */
			bool before = b->ts_ns < a->ts_ns || (b->ts_ns == a->ts_ns && b < a);
			if (before && !bad_order) {
				bad_order = true;
				if (r->status == CM_STATUS_OK)
					snprintf(r->detail, sizeof(r->detail), "'%s' came before '%s'",
						 p->to, p->from);
			}
			continue;
		}
		const char *gone = !a ? p->from : p->to;
		if (!strcmp(gone, CM_EVENT_FIRST_ENTRY) && !source_has_first_entry)
			continue;
		if (!strcmp(gone, CM_EVENT_EXIT) && ex->ended_by_us)
			continue; /* the guest does not exit by itself: no exit time to report */
		if (!missing && (!is_host_event(gone) || !strcmp(gone, CM_EVENT_FIRST_ENTRY) ||
				 !strcmp(gone, CM_EVENT_EXEC)))
			missing = gone;
	}
	/* an exit stamp that may be late by more than the slack is no exit time: the phases that
	 * end or start at it are not measured, and the boot says why (status late_exit) */
	bool exit_unsure = false;
	for (size_t i = 0; ex->exit_late_ns > 0 && i < m->nphases; i++)
		if (!strcmp(m->phases[i].from, CM_EVENT_EXIT) || !strcmp(m->phases[i].to, CM_EVENT_EXIT)) {
			r->phase_ns[i] = NAN;
			exit_unsure = true;
		}
	if (exec && end)
		r->phase_ns[m->nphases] = (double)(end->ts_ns - exec->ts_ns);
	/* what it cost the host: qemu's CPU time and peak RSS (a launcher that cannot tell: none) */
	for (size_t k = 0; k < CM_NMETRICS; k++)
		r->phase_ns[m->nphases + 1 + k] = ex->metrics[k] > 0 ? ex->metrics[k] : NAN;
	if (!missing && m->end_marker && !end)
		missing = m->end_marker;

	/* The most telling cause first: how qemu ended, then what the events say. */
	if (!ex->launched) {
		r->status = CM_STATUS_LAUNCH_FAILED;
		snprintf(r->detail, sizeof(r->detail), "qemu could not be started: %s",
			 ex->launch_errno ? strerror(ex->launch_errno) : "the child ended before exec");
	} else if (ex->interrupted) {
		r->status = CM_STATUS_INTERRUPTED;
		snprintf(r->detail, sizeof(r->detail), "interrupted");
	} else if (ex->timed_out) {
		r->status = CM_STATUS_TIMEOUT;
		snprintf(r->detail, sizeof(r->detail), "no exit%s%s%s within %lld ms",
			 missing ? " and no '" : "", missing ? missing : "", missing ? "'" : "",
			 (long long)m->timeout_ms);
	} else if (ex->signal && !ex->ended_by_us) {
		r->status = CM_STATUS_CRASHED;
		snprintf(r->detail, sizeof(r->detail), "qemu killed by signal %d", ex->signal);
	} else if (!ex->ended_by_us && ex->status != m->exit_status) {
		r->status = CM_STATUS_EXIT_STATUS;
		snprintf(r->detail, sizeof(r->detail), "qemu exit status %d, expected %lld",
			 ex->status, (long long)m->exit_status);
	} else if (ev->lost) {
		r->status = CM_STATUS_LOST_RECORDS;
		snprintf(r->detail, sizeof(r->detail), "the kernel dropped %llu trace records",
			 (unsigned long long)ev->lost);
	} else if (ex->clock_step_ns) {
		r->status = CM_STATUS_CLOCK_STEPPED; /* its markers' stamps are off by the step */
		snprintf(r->detail, sizeof(r->detail),
			 "the realtime clock stepped by %+.3f ms while the boot's markers waited to be "
			 "read at its end: their kernel stamps cannot be placed",
			 (double)ex->clock_step_ns / 1e6);
	} else if (ex->held_up) {
		r->status = CM_STATUS_HELD_UP; /* its times may hold coldmark's stall of qemu */
		cm_exit_held_up_text(ex, r->detail, sizeof(r->detail));
	} else if (exit_unsure) {
		r->status = CM_STATUS_LATE_EXIT;
		snprintf(r->detail, sizeof(r->detail),
			 "qemu's end was seen up to %.0f ms late (coldmark was stopped or waited for "
			 "a CPU) and no source stamped it: no exit time",
			 (double)ex->exit_late_ns / 1e6);
	} else if (missing) {
		r->status = CM_STATUS_MISSING_MARKER;
		snprintf(r->detail, sizeof(r->detail), "no '%s' event", missing);
	} else if (bad_order) {
		r->status = CM_STATUS_OUT_OF_ORDER;
	}
}

void cm_boot_result_free(struct cm_boot_result *r)
{
	free(r->phase_ns);
	r->phase_ns = NULL;
}

/* Which phases a case cannot measure: those that need first_entry, where the case's source
 * is debugcon (TCG, or KVM without perf). One line per phase counting every case the run
 * boots, saying for each kind how it is measured: a KVM case without perf still runs under
 * KVM, through debugcon, not under TCG. */
size_t cm_note_unmeasurable(const struct cm_matrix *m, bool perf_for_kvm, FILE *f,
			    const char *who)
{
	size_t lines = 0, refs = 0;
	for (size_t c = 0; c < m->ncases; c++)
		refs += m->cases[c].reference;
	for (size_t p = 0; p < m->nphases; p++) {
		const struct cm_phase *ph = &m->phases[p];
		if (strcmp(ph->from, CM_EVENT_FIRST_ENTRY) && strcmp(ph->to, CM_EVENT_FIRST_ENTRY))
			continue;
		struct cm_buf names[2] = { 0 }; /* [0] KVM, [1] TCG */
		size_t n[2] = { 0 };
		for (size_t c = 0; c < m->ncases; c++) {
			if (m->cases[c].reference)
				continue; /* measured by its own profile: total only */
			bool tcg = cm_case_is_tcg(&m->cases[c]);
			if (!tcg && perf_for_kvm)
				continue;
			if (n[tcg]++ < 3)
				cm_buf_printf(&names[tcg], "%s%s", n[tcg] > 1 ? ", " : "", m->cases[c].id);
			else if (n[tcg] == 4)
				cm_buf_puts(&names[tcg], ", ...");
		}
		if (n[0] + n[1]) {
			fprintf(f, "%s: phase %s (%s -> %s) is not measurable for %zu of %zu case%s: "
				   "first_entry is seen only by the perf source, which %s",
				who, ph->name, ph->from, ph->to, n[0] + n[1], m->ncases,
				m->ncases > 1 ? "s" : "",
				perf_for_kvm ? "measures KVM cases only" : "this run does not use");
			static const char *const kind[2] = { "KVM", "TCG" };
			for (int k = 0; k < 2; k++)
				if (n[k])
					fprintf(f, "; %zu %s case%s (%s) run%s under %s, measured through "
						   "debugcon",
						n[k], kind[k], n[k] > 1 ? "s" : "", names[k].s,
						n[k] > 1 ? "" : "s", kind[k]);
			if (refs)
				fprintf(f, "; the %zu reference case%s measure%s %s total only", refs,
					refs > 1 ? "s" : "", refs > 1 ? "" : "s", refs > 1 ? "their" : "its");
			fputc('\n', f);
			lines++;
		}
		cm_buf_free(&names[0]);
		cm_buf_free(&names[1]);
	}
	return lines;
}
