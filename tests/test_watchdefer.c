/* The watch's deferred reading (issue 25 item 6, watch7), against real processes and sockets: a
 * case whose earlier boots sent few debugcon messages has its later boots' sockets read only at
 * qemu's end (and at the valve's looks), which spares the watch a wake-up per marker. It must
 * keep: the same markers with the kernel's stamps of their sending; an end marker that ends a
 * boot that does not exit, on time; a guest that suddenly floods is not held up, and the run
 * reads live from then on. The fake qemu is this binary ("fake ..."), which writes one-byte
 * messages to fd 10 (the first debugcon port's socket) and notes CLOCK_MONOTONIC around each
 * send into a file. */
#define _GNU_SOURCE
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <errno.h>
#include <limits.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include "coldmark/capture.h"
#include "coldmark/harness.h"
#include "coldmark/matrix.h"
#include "coldmark/model.h"
#include "helpers.h"
#include "../harness/defer_int.h"
#include "../harness/launch_int.h"

static char tmp[256], self[PATH_MAX];

/* ---- the fake qemu ---------------------------------------------------------------------- */

static void sendb(FILE *f, unsigned char b)
{
	int64_t a = cm_now_ns();
	if (send(CM_CAPTURE_FD0, &b, 1, 0) != 1)
		_exit(3);
	fprintf(f, "%lld %lld\n", (long long)a, (long long)cm_now_ns());
}

/* fake marks GAP_MS FILE [hang]: the bundled guest's three markers GAP_MS apart, then exit 0
 * (hang: sleep 30 s instead). fake flood N FILE: the three markers, then N messages as fast as
 * the socket takes them; FILE's last line is the flood's start and end. sndbuf=B in hang's place
 * first sets SO_SNDBUF B on the socket (a socket that holds less than coldmark made
 * it hold: the deep buffer off). */
static int fake(int argc, char **argv)
{
	if (argc < 5)
		return 2;
	FILE *f = fopen(argv[4], "w");
	if (!f)
		return 2;
	if (argc > 5 && !strncmp(argv[5], "sndbuf=", 7)) { /* qemu's argv: the sources' follow */
		int b = atoi(argv[5] + 7);
		if (setsockopt(CM_CAPTURE_FD0, SOL_SOCKET, SO_SNDBUF, &b, sizeof(b)))
			_exit(4);
	}
	bool flood = !strcmp(argv[2], "flood");
	long arg = atol(argv[3]);
	const unsigned char mk[] = { 0x10, 0x20, 0x30 };
	for (int i = 0; i < 3; i++) {
		if (!flood)
			usleep((useconds_t)arg * 1000);
		sendb(f, mk[i]);
	}
	if (flood) {
		int64_t a = cm_now_ns();
		for (long i = 0; i < arg; i++) {
			unsigned char b = 0x40;
			if (send(CM_CAPTURE_FD0, &b, 1, 0) != 1)
				_exit(3);
		}
		fprintf(f, "%lld %lld\n", (long long)a, (long long)cm_now_ns());
	}
	fclose(f);
	if (argc > 5 && !strcmp(argv[5], "hang"))
		sleep(30);
	return 0;
}

/* ---- the launcher's side ---------------------------------------------------------------- */

static struct cm_matrix *matrix(void)
{
	static const char yaml[] = "guest: {bundled: guest}\n";
	struct cm_diags d = { 0 };
	struct cm_matrix *m = cm_matrix_load_string(yaml, sizeof(yaml) - 1, "d.yaml", &d);
	cm_diags_print(&d, stderr);
	cm_diags_clear(&d);
	assert_non_null(m);
	return m;
}

struct sends {
	int64_t at[8][2]; /* before and after each send the fake noted */
	size_t n;
};

static void read_sends(const char *path, struct sends *s)
{
	char *text = th_slurp(path);
	assert_non_null(text);
	s->n = 0;
	for (char *p = text; *p && s->n < 8;) {
		long long a, b;
		int used;
		if (sscanf(p, "%lld %lld\n%n", &a, &b, &used) != 2)
			break;
		s->at[s->n][0] = a, s->at[s->n][1] = b;
		s->n++;
		p += used;
	}
	free(text);
}

struct boot {
	struct cm_events ev;
	struct cm_exit ex;
	unsigned long wakeups;
	int64_t ended; /* when cm_launch_boot returned */
	struct sends sends;
};

/* One boot of the fake (mode, arg, [hang | sndbuf=B]) through dc, as case 0 of m (its record
 * in dc is what the deferral learns from). */
static void boot_opt(struct cm_matrix *m, struct cm_capture *dc, const char *mode, long arg,
		     const char *opt, const char *end_marker, struct boot *b)
{
	char num[32], *times = cm_xasprintf("%s/sends", tmp), *log = cm_xasprintf("%s/d.log", tmp);
	snprintf(num, sizeof(num), "%ld", arg);
	char *argv[] = { self, "fake", (char *)mode, num, times, (char *)opt, NULL };
	volatile int stop = 0;
	struct cm_launch l = { .argv = argv, .log_path = log, .timeout_ms = 20000,
			       .end_marker = end_marker, .end_grace_ms = 300, .sources = &dc,
			       .nsources = 1, .m = m, .stop = &stop, .kase = &m->cases[0] };
	memset(b, 0, sizeof(*b));
	unsigned long w = cm_launch_wakeups();
	assert_int_equal(cm_launch_boot(&l, &b->ev, &b->ex), 0);
	b->ended = cm_now_ns();
	b->wakeups = cm_launch_wakeups() - w;
	assert_true(b->ex.launched);
	read_sends(times, &b->sends);
	free(times), free(log);
}

static void boot(struct cm_matrix *m, struct cm_capture *dc, const char *mode, long arg,
		 bool hang, const char *end_marker, struct boot *b)
{
	boot_opt(m, dc, mode, arg, hang ? "hang" : NULL, end_marker, b);
}

/* The boot's debugcon events of value v (one, deduplicated), or NULL. */
static const struct cm_event *port_event(const struct boot *b, unsigned v)
{
	for (size_t i = 0; i < b->ev.n; i++)
		if (b->ev.v[i].kind == CM_EV_PORT && b->ev.v[i].value == v)
			return &b->ev.v[i];
	return NULL;
}

/* The three markers, each stamped at its send: not before the clock read before the send, not
 * after the one after it (plus the offset's reading slack), although a deferred boot reads
 * them tens of ms later. */
static void check_markers(const struct boot *b)
{
	assert_int_equal(b->sends.n, 3);
	const unsigned v[] = { 0x10, 0x20, 0x30 };
	for (size_t i = 0; i < 3; i++) {
		const struct cm_event *e = port_event(b, v[i]);
		assert_non_null(e);
		assert_true(e->ts_ns >= b->sends.at[i][0] - 1000);
		assert_true(e->ts_ns <= b->sends.at[i][1] + 2000000);
	}
}

static void free_boot(struct boot *b)
{
	cm_events_free(&b->ev);
}

/* Two live boots of the case teach the watch that it sends three messages; the third is read
 * only at qemu's end: one wake-up (the fake's exit) where the live ones took one per marker as
 * well, and the same markers with the stamps of their sending (the reading came 30 ms and more
 * after). Old watch: 4 wake-ups. */
static void test_deferred_boot_reads_same_markers(void **state)
{
	(void)state;
	struct cm_matrix *m = matrix();
	struct cm_capture *dc = cm_debugcon_source(m, NULL);
	struct boot b[3];
	for (int i = 0; i < 3; i++) {
		boot(m, dc, "marks", 30, false, NULL, &b[i]);
		printf("boot %d: %lu wake-ups\n", i + 1, b[i].wakeups);
		assert_int_equal(b[i].ex.status, 0);
		check_markers(&b[i]);
	}
	assert_true(b[1].wakeups >= 3); /* live: the markers came 30 ms apart */
	assert_int_equal(b[2].wakeups, 1);
	/* the same events (a deferred boot adds them in another order: exit first) */
	assert_int_equal(b[2].ev.n, b[1].ev.n);
	for (size_t i = 0; i < b[1].ev.n; i++) {
		const struct cm_event *x = &b[1].ev.v[i], *y = NULL;
		for (size_t j = 0; j < b[2].ev.n && !y; j++)
			if (b[2].ev.v[j].kind == x->kind && b[2].ev.v[j].value == x->value &&
			    b[2].ev.v[j].port == x->port &&
			    (x->kind == CM_EV_PORT ? !strcmp(b[2].ev.v[j].source, x->source)
						   : !strcmp(b[2].ev.v[j].name, x->name)))
				y = &b[2].ev.v[j];
		assert_non_null(y);
	}
	for (int i = 0; i < 3; i++)
		free_boot(&b[i]);
	cm_capture_free(dc);
	cm_matrix_free(m);
}

/* A guest that says work_done and does not exit: the end marker still ends a deferred boot,
 * its grace (300 ms) run from the marker's sending, found by the valve's look (at most half the
 * grace after it): ended by coldmark, not at the timeout, on time; two wake-ups (the look and
 * the grace's end; a second look when the valve's period is shorter than the grace) where the
 * live watch took four. */
static void test_end_marker_ends_deferred_boot(void **state)
{
	(void)state;
	struct cm_matrix *m = matrix();
	struct cm_capture *dc = cm_debugcon_source(m, NULL);
	struct boot b[3];
	for (int i = 0; i < 3; i++) {
		boot(m, dc, "marks", 20, true, "work_done", &b[i]);
		int64_t after_end = b[i].ended - b[i].sends.at[2][1];
		printf("boot %d: %lu wake-ups, ended %.1f ms after work_done\n", i + 1, b[i].wakeups,
		       after_end / 1e6);
		assert_true(b[i].ex.ended_by_us);
		assert_false(b[i].ex.timed_out);
		check_markers(&b[i]);
		assert_true(after_end >= 300000000LL - 2000000);
		assert_true(after_end < 300000000LL + 250000000LL);
	}
	assert_true(b[2].wakeups <= 3);
	for (int i = 0; i < 3; i++)
		free_boot(&b[i]);
	cm_capture_free(dc);
	cm_matrix_free(m);
}

/* A case that sent three messages a boot suddenly floods (5000 one-byte messages, or half of
 * what a deferred socket holds where the host allows less): its deferred boot is not held up
 * (the flood takes about as long as the same flood read live), every message is read, and the
 * run reads that source live from then on. Old watch: the flood boot is read live (many
 * wake-ups). */
static void test_flood_is_not_held_up(void **state)
{
	(void)state;
	size_t cap = cm_defer_capacity();
	printf("a deferred socket holds %zu one-byte messages\n", cap);
	assert_true(cap >= 64);
	long n = cap / 2 < 5000 ? (long)cap / 2 : 5000;
	struct cm_matrix *m = matrix();
	struct cm_capture *live = cm_debugcon_source(m, NULL), *dc = cm_debugcon_source(m, NULL);
	struct boot ref, b[4];
	boot(m, live, "flood", n, false, NULL, &ref); /* its first boot: live */
	int64_t live_ns = ref.sends.at[3][1] - ref.sends.at[3][0];
	boot(m, dc, "marks", 5, false, NULL, &b[0]);
	boot(m, dc, "marks", 5, false, NULL, &b[1]);
	boot(m, dc, "flood", n, false, NULL, &b[2]);
	int64_t flood_ns = b[2].sends.at[3][1] - b[2].sends.at[3][0];
	printf("%ld messages: live %.2f ms (%lu wake-ups), deferred %.2f ms (%lu wake-ups)\n", n,
	       live_ns / 1e6, ref.wakeups, flood_ns / 1e6, b[2].wakeups);
	assert_int_equal(b[2].ex.status, 0);
	assert_int_equal(dc->boot_msgs, (size_t)n + 3);
	assert_true(b[2].wakeups <= 2); /* deferred: not woken by the messages */
	assert_true(flood_ns < 3 * live_ns + 20000000LL);
	assert_true(dc->live_only);
	boot(m, dc, "marks", 30, false, NULL, &b[3]); /* live again: a wake-up per marker */
	printf("the next boot: %lu wake-ups\n", b[3].wakeups);
	assert_true(b[3].wakeups >= 3);
	check_markers(&b[3]);
	free_boot(&ref);
	for (int i = 0; i < 4; i++)
		free_boot(&b[i]);
	cm_capture_free(live);
	cm_capture_free(dc);
	cm_matrix_free(m);
}

/* A deferred boot whose queue could have filled is not measured (watch7b). The fake sets a
 * small SO_SNDBUF on its socket (16 KiB, 32 KiB once the kernel doubles it: ~42 one-byte
 * messages, where coldmark made it hold ~10^4), so that a deferred flood blocks qemu's writes
 * until the valve's look: that boot is held_up, says why (its detail and the end of its log),
 * every message is still read, and the source is read live from then on. A flood that stays
 * below 3/4 of the socket is measured as before (status ok). Old watch: the flooded boot is ok
 * (and its flood waits a valve period for every 42 messages). */
static void test_held_up_boot_not_measured(void **state)
{
	(void)state;
	struct cm_matrix *m = matrix();
	m->exit_status = 0; /* the fake exits 0, the bundled guest 33 */
	struct cm_capture *dc = cm_debugcon_source(m, NULL), *low = cm_debugcon_source(m, NULL);
	struct boot b[4], l[3];
	struct cm_boot_result r;
	const long n = 2000, few = 8; /* 11 messages: < 3/4 of 32 KiB even at 2 KiB truesize */
	for (int i = 0; i < 2; i++) {
		boot(m, dc, "marks", 5, false, NULL, &b[i]);
		boot(m, low, "marks", 5, false, NULL, &l[i]);
	}
	boot_opt(m, low, "flood", few, "sndbuf=16384", NULL, &l[2]);
	assert_null(l[2].ex.held_up);
	cm_boot_evaluate(m, &l[2].ev, &l[2].ex, false, &r);
	printf("below the margin: %s %s\n", cm_status_names[r.status], r.detail);
	assert_int_equal(r.status, CM_STATUS_OK);
	assert_int_equal(low->boot_msgs, (size_t)few + 3);
	assert_false(low->live_only);
	cm_boot_result_free(&r);

	boot_opt(m, dc, "flood", n, "sndbuf=16384", NULL, &b[2]);
	int64_t flood_ns = b[2].sends.at[3][1] - b[2].sends.at[3][0];
	assert_int_equal(b[2].ex.status, 0);
	assert_int_equal(dc->boot_msgs, (size_t)n + 3); /* nothing lost */
	cm_boot_evaluate(m, &b[2].ev, &b[2].ex, false, &r);
	printf("%ld messages into 32 KiB: %.1f ms, %lu wake-ups: %s — %s\n", n, flood_ns / 1e6,
	       b[2].wakeups, cm_status_names[r.status], r.detail);
	assert_int_equal(r.status, CM_STATUS_HELD_UP);
	assert_string_equal(cm_status_names[r.status], "held_up");
	assert_non_null(strstr(r.detail, "coldmark may have held qemu up: its debugcon queue filled "
					 "while read at the end"));
	assert_non_null(strstr(r.detail, "read live from now on"));
	/* its rows: failed (counted in n_failed, in the run's exit status), never measured */
	struct cm_sample_row row = { .status = (char *)cm_status_names[r.status], .duration_ns = 1 };
	assert_int_equal(cm_row_kind(&row), CM_ROW_FAILED);
	assert_true(b[2].ex.held_bytes * 4 >= b[2].ex.held_sndbuf * 3);
	assert_true(b[2].ex.held_sndbuf <= 2 * 16384);
	char *path = cm_xasprintf("%s/d.log", tmp), *log = th_slurp(path);
	assert_non_null(log);
	assert_non_null(strstr(log, "coldmark: coldmark may have held qemu up"));
	free(log), free(path);
	cm_boot_result_free(&r);
	assert_true(dc->live_only);
	boot(m, dc, "marks", 30, false, NULL, &b[3]); /* live again: a wake-up per marker */
	assert_true(b[3].wakeups >= 3);
	assert_null(b[3].ex.held_up);
	for (int i = 0; i < 4; i++)
		free_boot(&b[i]);
	for (int i = 0; i < 3; i++)
		free_boot(&l[i]);
	cm_capture_free(dc);
	cm_capture_free(low);
	cm_matrix_free(m);
}

/* The launcher asks coldmark's pid once: a fork()ed copy of the process that launched before
 * still launches (its children check that their parent is the pid they were given, and _exit
 * at once when it is not, as when coldmark died). */
static void test_forked_copy_launches(void **state)
{
	(void)state;
	struct cm_matrix *m = matrix();
	struct cm_capture *dc = cm_debugcon_source(m, NULL);
	struct boot b;
	boot(m, dc, "marks", 0, false, NULL, &b); /* the pid is asked here */
	assert_int_equal(b.ex.status, 0);
	free_boot(&b);
	pid_t pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		char *argv[] = { "/bin/true", NULL };
		volatile int stop = 0;
		struct cm_launch l = { .argv = argv, .timeout_ms = 20000, .sources = &dc,
				       .nsources = 1, .m = m, .stop = &stop };
		struct cm_events ev = { 0 };
		struct cm_exit ex;
		int rc = cm_launch_boot(&l, &ev, &ex);
		_exit(rc || !ex.launched ? 1 : ex.status);
	}
	int status;
	assert_int_equal(waitpid(pid, &status, 0), pid);
	assert_true(WIFEXITED(status));
	assert_int_equal(WEXITSTATUS(status), 0);
	cm_capture_free(dc);
	cm_matrix_free(m);
}

/* What qemu gets is cm_launch_argv's argv (list shows it), although a boot no longer copies the
 * case's strings: the fake prints its argv, one argument a line. */
static void test_boot_argv_is_launch_argv(void **state)
{
	(void)state;
	struct cm_matrix *m = matrix();
	struct cm_capture *dc = cm_debugcon_source(m, NULL);
	char *out = cm_xasprintf("%s/argv", tmp), *script = cm_xasprintf(
		"for a in \"$0\" \"$@\"; do printf '%%s\\n' \"$a\"; done > %s", out);
	char *argv[] = { "/bin/sh", "-c", script, "-x", "two words", NULL };
	volatile int stop = 0;
	struct cm_launch l = { .argv = argv, .timeout_ms = 20000, .sources = &dc, .nsources = 1,
			       .m = m, .stop = &stop };
	struct cm_events ev = { 0 };
	struct cm_exit ex;
	assert_int_equal(cm_launch_boot(&l, &ev, &ex), 0);
	assert_true(ex.launched);
	assert_int_equal(ex.status, 0);
	size_t n;
	char **want = cm_launch_argv(argv, &dc, 1, &n);
	struct cm_buf b = { 0 };
	for (size_t i = 3; i < n; i++) /* what sh -c gives the script: $0 and on */
		cm_buf_printf(&b, "%s\n", want[i]);
	char *got = th_slurp(out);
	assert_non_null(got);
	assert_string_equal(got, b.s);
	assert_non_null(strstr(got, "isa-debugcon")); /* the source's own arguments are there */
	for (size_t i = 0; i < n; i++)
		free(want[i]);
	free(want), free(got), free(b.s), free(script), free(out);
	cm_events_free(&ev);
	cm_capture_free(dc);
	cm_matrix_free(m);
}

/* The launcher's record of each case (harness/defer.c): in a run of many cases each case keeps
 * its own (its boots and their most messages), found again after the table of records has grown
 * many times over, so that a case deferred or not is that case's earlier boots' doing. A
 * case that sent many messages a boot is never deferred, its neighbours are. */
static void test_defer_records_per_case(void **state)
{
	(void)state;
	enum { CASES = 20000 };
	static const struct cm_capture_ops ops = { .caps = CM_CAP_STAMPED };
	struct cm_capture src = { .ops = &ops }, *v[] = { &src };
	struct cm_case *cases = calloc(CASES, sizeof(*cases));
	assert_non_null(cases);
	for (size_t c = 0; c < CASES; c++) /* as a matrix's: each its own id */
		cases[c].id = cm_xasprintf("variant=%zu", c);
	size_t many = cm_defer_capacity(); /* more than a deferred boot may send */
	assert_true(many > 0);
	for (int boot = 0; boot < 2; boot++)
		for (size_t c = 0; c < CASES; c++) {
			assert_int_equal(cm_defer_boot(v, 1, &cases[c], -1), 0); /* 2 live first */
			src.boot_msgs = c % 1000 == 7 ? many : 3;
			cm_defer_learn(v, 1, &cases[c], 100000000);
		}
	assert_int_equal(src.ndefer, CASES);
	for (size_t c = 0; c < CASES; c++) {
		bool deferred = cm_defer_boot(v, 1, &cases[c], -1) > 0;
		if (deferred != (c % 1000 != 7))
			fail_msg("case %zu: deferred %d", c, deferred);
		src.deferred = false;
	}
	free(src.defer);
	cm_strset_free(&src.defer_of);
	for (size_t c = 0; c < CASES; c++)
		free(cases[c].id);
	free(cases);
}

/* A deferred boot's markers are converted from CLOCK_REALTIME stamps at the end: a step of the
 * realtime clock meanwhile (an NTP step, a VM resumed) would move every one of them by the
 * step. The launcher reads the clocks' offset as the boot begins and as it reads the queues
 * (cm_defer_clock_offset, here a fake clock that steps by 5 ms, or by 5 us, during the boot):
 * a step fails the boot as clock_stepped, one within the reads' slack does not; a live boot
 * never asks. */
static int64_t fake_step_ns, fake_calls;
static int64_t fake_offset(int64_t *gap)
{
	*gap = 1000;
	return fake_calls++ ? fake_step_ns : 0;
}

static void test_clock_step_fails_deferred_boot(void **state)
{
	(void)state;
	struct cm_matrix *m = matrix();
	m->exit_status = 0;
	struct cm_capture *dc = cm_debugcon_source(m, NULL);
	struct boot b[4];
	struct cm_boot_result r;
	int64_t (*real)(int64_t *) = cm_defer_clock_offset;
	cm_defer_clock_offset = fake_offset;
	fake_step_ns = 5000000;
	boot(m, dc, "marks", 5, false, NULL, &b[0]); /* live: the offset is not asked */
	boot(m, dc, "marks", 5, false, NULL, &b[1]);
	assert_int_equal(fake_calls, 0);
	assert_int_equal(b[1].ex.clock_step_ns, 0);
	boot(m, dc, "marks", 5, false, NULL, &b[2]); /* deferred: a 5 ms step */
	assert_int_equal(fake_calls, 2);
	assert_int_equal(b[2].ex.clock_step_ns, 5000000);
	cm_boot_evaluate(m, &b[2].ev, &b[2].ex, false, &r);
	printf("%s — %s\n", cm_status_names[r.status], r.detail);
	assert_int_equal(r.status, CM_STATUS_CLOCK_STEPPED);
	assert_non_null(strstr(r.detail, "the realtime clock stepped by +5.000 ms"));
	struct cm_sample_row row = { .status = (char *)cm_status_names[r.status], .duration_ns = 1 };
	assert_int_equal(cm_row_kind(&row), CM_ROW_FAILED);
	cm_boot_result_free(&r);
	fake_calls = 0, fake_step_ns = 5000; /* within 2 x 1 us + 20 us: no step */
	boot(m, dc, "marks", 5, false, NULL, &b[3]);
	cm_defer_clock_offset = real;
	assert_int_equal(fake_calls, 2);
	assert_int_equal(b[3].ex.clock_step_ns, 0);
	cm_boot_evaluate(m, &b[3].ev, &b[3].ex, false, &r);
	assert_int_equal(r.status, CM_STATUS_OK);
	cm_boot_result_free(&r);
	for (int i = 0; i < 4; i++)
		free_boot(&b[i]);
	cm_capture_free(dc);
	cm_matrix_free(m);
}

/* The watch's poll never sleeps without end: a deferred queue's look that is overdue (the
 * thread was off the CPU past it) asks for a poll of 0 ms, not of a negative time, which
 * poll() takes as "till an fd wakes it" — on a wave's launcher thread, past the deadline, the
 * end marker's grace and a stop, to qemu's own end. Asked on a thread of its own (a wave's:
 * its cap is 100 ms) and on this one. */
static void *poll_ms_elsewhere(void *arg)
{
	const struct cm_launch *l = arg;
	int64_t now = 10000000000LL;
	static int got[3];
	got[0] = cm_launch_poll_ms(l, now, now + 5000000000LL, 0, now - 5000000); /* 5 ms overdue */
	got[1] = cm_launch_poll_ms(l, now, now + 5000000000LL, 0, now + 30000000); /* in 30 ms */
	got[2] = cm_launch_poll_ms(l, now, now + 5000000000LL, 0, INT64_MAX);	   /* none: cap */
	return got;
}

static void test_poll_never_negative(void **state)
{
	(void)state;
	struct cm_matrix *m = matrix();
	struct cm_launch l = { .m = m, .timeout_ms = 20000 };
	pthread_t t;
	void *res;
	assert_int_equal(pthread_create(&t, NULL, poll_ms_elsewhere, &l), 0);
	assert_int_equal(pthread_join(t, &res), 0);
	const int *got = res;
	assert_int_equal(got[0], 0);
	assert_int_equal(got[1], 31);
	assert_int_equal(got[2], 100);
	int64_t now = 10000000000LL;
	assert_int_equal(cm_launch_poll_ms(&l, now, now + 5000000000LL, 0, now - 5000000), 0);
	cm_matrix_free(m);
}

int main(int argc, char **argv)
{
	if (argc > 1 && !strcmp(argv[1], "fake"))
		return fake(argc, argv);
	ssize_t k = readlink("/proc/self/exe", self, sizeof(self) - 1);
	if (k <= 0)
		return 1;
	self[k] = 0;
	setenv("COLDMARK_GUEST_DIR", GUEST_DIR, 1);
	if (th_mkdtemp(tmp, sizeof(tmp), "watchdefer"))
		return 1;
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_deferred_boot_reads_same_markers),
		cmocka_unit_test(test_end_marker_ends_deferred_boot),
		cmocka_unit_test(test_flood_is_not_held_up),
		cmocka_unit_test(test_held_up_boot_not_measured),
		cmocka_unit_test(test_forked_copy_launches),
		cmocka_unit_test(test_boot_argv_is_launch_argv),
		cmocka_unit_test(test_defer_records_per_case),
		cmocka_unit_test(test_clock_step_fails_deferred_boot),
		cmocka_unit_test(test_poll_never_negative),
	};
	int rc = cmocka_run_group_tests(tests, NULL, NULL);
	th_rm_rf(tmp);
	return rc;
}
