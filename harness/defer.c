/* Deferred reading of kernel-stamped sources (issue 25 item 6). qemu sends each byte the guest
 * writes to a debugcon port as its own message and the kernel stamps it as it is sent: a
 * source read at qemu's end gives the very events a source read at each message gives, and the
 * watch is spared a wake-up (a cold sleep and wake-up, a poll, a receive, the events' upkeep)
 * per marker. What must not happen is that the socket fills: its writer, qemu's vCPU, would
 * then block in its write, a stall coldmark adds to the boot it measures. So:
 * - a case's boots are read live until DEFER_AFTER of them were seen, and deferred only while
 *   the most any of them sent is at most 1/DEFER_SHARE of what the socket holds;
 * - a deferred boot's sockets are made as deep as the host lets an unprivileged process make
 *   them (SO_SNDBUF up to net.core.wmem_max, doubled by the kernel);
 * - the watch looks at a deferred queue every valve period (twice the case's longest boot, at
 *   least 20 ms, at most 1 s and half the end marker's grace): a look or the last drain that
 *   finds more than 1/LIVE_SHARE of the capacity puts that source back to live reading for the
 *   rest of the run.
 * The bound: qemu can only block when its guest sends more than the capacity (measured here:
 * truesize of a one-byte message against the send buffer) within one valve period of the last
 * look, and then for at most that period, once per source and run. And that boot is not
 * counted as measured: before each look's or the last drain's read of a deferred queue, the
 * kernel's own account of it (SO_MEMINFO on qemu's end: the truesize of every message queued,
 * sk_wmem_alloc, against sk_sndbuf, the two numbers the sender's block compares) is read; a
 * queue within 1/FULL_MARGIN of its SO_SNDBUF could have filled and the boot is held_up. The
 * bytes count, not the messages: a bigger message's truesize fills the socket sooner, and a
 * socket that holds less than measured (another SO_SNDBUF set on it) is judged by its own. */
#define _GNU_SOURCE
#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <linux/sock_diag.h>
#include <stdio.h>
#include <unistd.h>

#include "coldmark/harness.h"
#include "defer_int.h"

#define DEFER_AFTER 2 /* live boots of a case before it may be deferred */
#define DEFER_SHARE 8
#define LIVE_SHARE 4
/* A queue within 1/FULL_MARGIN of its SO_SNDBUF when it is read could have filled: between the
 * account's read and the drain's first receive (a few us) and while the drain reads it, qemu
 * goes on writing. Only a guest that writes faster than the drain reads closes that quarter;
 * it would hold up a live reader too. A false alarm costs one boot of a guest that sent 3/4
 * of what its socket holds between two looks (a case deferred sent at most 1/8 a boot), once
 * per source and run: it is read live afterwards. */
#define FULL_MARGIN 4
#define VALVE_MIN_NS 20000000LL
#define VALVE_MAX_NS 1000000000LL /* a case of long boots and no end marker: looked at every s */
#define VALVE_FLOOR_NS 1000000LL /* a grace under 2 ms: looked at every ms */

struct cm_defer_rec {
	size_t boots, max_msgs;
	int64_t max_ns;
};

static size_t capacity;
static pthread_once_t measured = PTHREAD_ONCE_INIT;

/* What qemu's end of a socket has queued and nobody read (sk_wmem_alloc: the truesize of each
 * message) and what it may queue before a write blocks (sk_sndbuf), in bytes. */
static bool account(int fd, int64_t *queued, int64_t *sndbuf)
{
	uint32_t mem[SK_MEMINFO_VARS];
	socklen_t len = sizeof(mem);
	if (getsockopt(fd, SOL_SOCKET, SO_MEMINFO, mem, &len) ||
	    len <= SK_MEMINFO_SNDBUF * sizeof(uint32_t))
		return false;
	*queued = mem[SK_MEMINFO_WMEM_ALLOC];
	*sndbuf = mem[SK_MEMINFO_SNDBUF];
	return true;
}

/* capacity stays 0 (nothing deferred) where the kernel cannot give the account */
static void measure(void)
{
	int sv[2];
	int64_t used = 0, sndbuf = 0;
	if (cm_stamped_socketpair(sv, true))
		return;
	char b = 0;
	if (send(sv[1], &b, 1, MSG_DONTWAIT) == 1 && account(sv[1], &used, &sndbuf) && used > 0 &&
	    sndbuf > 0)
		capacity = (size_t)(sndbuf / used); /* the writer blocks at sndbuf, not before */
	close(sv[0]);
	close(sv[1]);
}

size_t cm_defer_capacity(void)
{
	pthread_once(&measured, measure);
	return capacity;
}

/* The source's record of a case, found by the case's id through the project's string map
 * (a run of 10^5 cases finds one in O(1): a scan a boot was quadratic in the matrix); the
 * records in an array grown by doubling, ndefer of cdefer used. A launch outside a run's cases
 * (no case or no id) has none. */
static struct cm_defer_rec *rec(struct cm_capture *s, const struct cm_case *kase, bool make)
{
	if (!kase || !kase->id)
		return NULL;
	long at = cm_strset_find(&s->defer_of, kase->id);
	if (at >= 0 || !make)
		return at >= 0 ? &s->defer[at] : NULL;
	if (s->ndefer == s->cdefer) {
		s->cdefer = s->cdefer ? 2 * s->cdefer : 16;
		s->defer = cm_xrealloc(s->defer, s->cdefer * sizeof(*s->defer));
	}
	cm_strset_add(&s->defer_of, kase->id, (long)s->ndefer);
	s->defer[s->ndefer] = (struct cm_defer_rec){ 0 };
	return &s->defer[s->ndefer++];
}

/* COLDMARK_WATCH_DEFER=0: every source read live (measurements against the old watch) */
static bool allowed(void)
{
	static _Atomic int on = -1; /* wave threads may ask at once: the same answer */
	if (on < 0) {
		const char *v = getenv("COLDMARK_WATCH_DEFER");
		on = !v || strcmp(v, "0");
	}
	return on;
}

static bool choose(struct cm_capture *s, const struct cm_case *kase)
{
	s->deferred = false;
	if (!(s->ops->caps & CM_CAP_STAMPED) || s->live_only || !allowed())
		return false;
	const struct cm_defer_rec *r = rec(s, kase, false);
	if (!r || r->boots < DEFER_AFTER)
		return false;
	size_t cap = cm_defer_capacity();
	s->deferred = cap > 0 && r->max_msgs * DEFER_SHARE <= cap;
	return s->deferred;
}

/* twice the case's longest boot, from VALVE_MIN_NS to VALVE_MAX_NS, at most half the grace */
static int64_t period(struct cm_capture *s, const struct cm_case *kase, int64_t end_grace_ns)
{
	const struct cm_defer_rec *r = rec(s, kase, false);
	int64_t p = r ? 2 * r->max_ns : 0;
	if (p < VALVE_MIN_NS)
		p = VALVE_MIN_NS;
	if (p > VALVE_MAX_NS)
		p = VALVE_MAX_NS;
	if (end_grace_ns >= 0 && p > end_grace_ns / 2)
		p = end_grace_ns / 2;
	return p < VALVE_FLOOR_NS ? VALVE_FLOOR_NS : p;
}

int64_t cm_defer_boot(struct cm_capture *const *v, size_t n, const struct cm_case *kase,
		      int64_t end_grace_ns)
{
	int64_t valve = 0;
	for (size_t i = 0; i < n; i++) {
		/* more sources than the watch keeps apart: each is drained at every wake-up */
		if (n > CM_SOURCES_MAX) {
			v[i]->deferred = false;
			continue;
		}
		if (!choose(v[i], kase))
			continue;
		int64_t p = period(v[i], kase, end_grace_ns);
		if (!valve || p < valve)
			valve = p;
	}
	return valve;
}

/* More than 1/LIVE_SHARE of the capacity read this boot: live from now on. */
static bool too_much(struct cm_capture *s)
{
	if (s->boot_msgs * LIVE_SHARE <= cm_defer_capacity())
		return false;
	s->deferred = false;
	s->live_only = true;
	return true;
}

/* Source s's queues (its fds in q) could have filled since they were last read: the boot is
 * held_up (the fullest queue is said) and s is read live from now on. Checked before s is
 * drained: nothing but its drain empties them, so that is their fullest. */
static void check_full(struct cm_capture *s, size_t i, const struct cm_defer_fds *q,
		       struct cm_exit *ex)
{
	for (size_t f = q->at[i]; f < q->at[i + 1]; f++) {
		int64_t queued = 0, sndbuf = 0;
		bool known = account(q->fds[f], &queued, &sndbuf);
		if (known && queued * FULL_MARGIN < sndbuf * (FULL_MARGIN - 1))
			continue;
		s->live_only = true; /* an account refused (measure() had one): taken as full */
		if (!ex->held_up || queued * ex->held_sndbuf > ex->held_bytes * sndbuf) {
			ex->held_up = s->ops->name;
			ex->held_bytes = queued;
			ex->held_sndbuf = sndbuf;
		}
	}
}

bool cm_defer_look(struct cm_capture *const *v, size_t n, pid_t pid, struct cm_events *ev,
		   const struct cm_defer_fds *q, struct cm_exit *ex)
{
	bool any = false;
	for (size_t i = 0; i < n; i++) {
		if (!v[i]->deferred)
			continue;
		check_full(v[i], i, q, ex);
		v[i]->ops->drain(v[i], pid, ev);
		too_much(v[i]);
		if (v[i]->live_only)
			v[i]->deferred = false;
		any |= v[i]->deferred;
	}
	return any;
}

void cm_defer_filled(struct cm_capture *const *v, size_t n, const struct cm_defer_fds *q,
		     struct cm_exit *ex)
{
	for (size_t i = 0; i < n; i++)
		if (v[i]->deferred)
			check_full(v[i], i, q, ex);
}

void cm_exit_held_up_text(const struct cm_exit *ex, char *buf, size_t n)
{
	if (!ex->held_sndbuf) { /* the kernel would not say how full: taken as full */
		snprintf(buf, n, "coldmark may have held qemu up: how full its %s queue was while read "
				 "at the end could not be read; read live from now on",
			 ex->held_up ? ex->held_up : "?");
		return;
	}
	snprintf(buf, n, "coldmark may have held qemu up: its %s queue filled while read at the end "
			 "(%lld of %lld bytes); read live from now on",
		 ex->held_up ? ex->held_up : "?", (long long)ex->held_bytes,
		 (long long)ex->held_sndbuf);
}

void cm_defer_learn(struct cm_capture *const *v, size_t n, const struct cm_case *kase,
		    int64_t boot_ns)
{
	for (size_t i = 0; i < n; i++) {
		struct cm_capture *s = v[i];
		if (!(s->ops->caps & CM_CAP_STAMPED))
			continue;
		if (s->deferred)
			too_much(s);
		s->deferred = false;
		struct cm_defer_rec *r = rec(s, kase, true);
		if (!r) /* a launch outside a run's cases: no record */
			continue;
		r->boots++;
		if (s->boot_msgs > r->max_msgs)
			r->max_msgs = s->boot_msgs;
		if (boot_ns > r->max_ns)
			r->max_ns = boot_ns;
	}
}

int64_t (*cm_defer_clock_offset)(int64_t *gap) = cm_clock_offset_ns;

void cm_defer_clock_mark(int64_t valve, struct cm_defer_clock *c)
{
	*c = (struct cm_defer_clock){ 0 };
	if (valve)
		c->offset = cm_defer_clock_offset(&c->gap);
}

/* Each read of the offset is off by at most its gap (~1 us, tens when preempted); 20 us more
 * for the rest: a smaller step moves no phase by more than that, a bigger one fails the boot
 * rather than give it wrong times. */
void cm_defer_clock_check(int64_t valve, const struct cm_defer_clock *c, struct cm_exit *ex)
{
	if (!valve)
		return;
	int64_t gap, moved = cm_defer_clock_offset(&gap) - c->offset;
	int64_t slack = c->gap + gap + 20000;
	if (moved > slack || moved < -slack)
		ex->clock_step_ns = moved;
}
