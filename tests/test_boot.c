/* Events -> status and phases, on hand-made events (the replayed source of the runner). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "coldmark/harness.h"

static struct cm_matrix *demo(void)
{
	setenv("COLDMARK_GUEST_DIR", GUEST_DIR, 1);
	const char *y = "guest: {bundled: guest}\n"
			"phases:\n"
			"  - {name: firmware, from: exec, to: real_mode}\n"
			"  - {name: work, from: long_mode, to: work_done}\n"
			"  - {name: qemu_init, from: exec, to: first_entry}\n"
			"  - {name: shutdown, from: work_done, to: exit}\n";
	struct cm_diags d = { 0 };
	struct cm_matrix *m = cm_matrix_load_string(y, strlen(y), SOURCE_DIR "/x.yaml", &d);
	assert_non_null(m);
	cm_diags_clear(&d);
	return m;
}

static const struct cm_exit clean = { .launched = true, .status = 33 };

static void boot(struct cm_events *e, const struct cm_matrix *m, bool with_entry)
{
	cm_events_add(e, "exec", 1000, 0, 0);
	if (with_entry)
		cm_events_add(e, "first_entry", 1500, 0, 0);
	cm_events_add_marker(e, m, 5000, 0xf4, 0x10);
	cm_events_add_marker(e, m, 5100, 0xf4, 0x20);
	cm_events_add_marker(e, m, 7100, 0xf4, 0x30);
	cm_events_add(e, "exit", 9000, 0, 0);
}

static void test_ok(void **state)
{
	struct cm_matrix *m = demo();
	struct cm_events e = { 0 };
	boot(&e, m, true);
	struct cm_boot_result r;
	cm_boot_evaluate(m, &e, &clean, true, &r);
	assert_int_equal(r.status, CM_STATUS_OK);
	assert_int_equal(r.nphase, 5 + CM_NMETRICS); /* phases, total, what it cost the host */
	assert_true(isnan(r.phase_ns[5])); /* a launcher that cannot tell the cost: none */
	assert_true(r.phase_ns[0] == 4000);
	assert_true(r.phase_ns[1] == 2000);
	assert_true(r.phase_ns[2] == 500);
	assert_true(r.phase_ns[3] == 1900);
	assert_true(r.phase_ns[4] == 6100); /* total: exec -> end marker */
	cm_boot_result_free(&r);
	cm_events_free(&e);
	cm_matrix_free(m);
}

/* An exit stamp that may be late (coldmark was stopped or waited for a CPU) measures no
 * phase: those at exit are NAN and the boot is late_exit; a matrix with no phase at exit is
 * not concerned. */
static void test_late_exit(void **state)
{
	struct cm_matrix *m = demo();
	struct cm_events e = { 0 };
	boot(&e, m, true);
	struct cm_exit late = clean;
	late.exit_late_ns = 2 * CM_EXIT_SLACK_NS;
	struct cm_boot_result r;
	cm_boot_evaluate(m, &e, &late, true, &r);
	assert_int_equal(r.status, CM_STATUS_LATE_EXIT);
	assert_string_equal(cm_status_names[r.status], "late_exit");
	assert_non_null(strstr(r.detail, "100 ms late"));
	assert_true(isnan(r.phase_ns[3]));  /* shutdown: work_done -> exit */
	assert_true(r.phase_ns[1] == 2000); /* the markers' phases stand */
	cm_boot_result_free(&r);
	cm_events_free(&e);
	cm_matrix_free(m);
	static const char y[] = "guest: {bundled: guest}\n";
	struct cm_diags d = { 0 };
	m = cm_matrix_load_string(y, sizeof(y) - 1, SOURCE_DIR "/y.yaml", &d);
	assert_non_null(m);
	boot(&e, m, true);
	cm_boot_evaluate(m, &e, &late, true, &r);
	assert_int_equal(r.status, CM_STATUS_OK);
	cm_boot_result_free(&r);
	cm_events_free(&e);
	cm_diags_clear(&d);
	cm_matrix_free(m);
}

static void test_by_value_not_position(void **state)
{
	/* markers arrive in another order and with a repeat; names come from values, the first
	 * write of a value counts */
	struct cm_matrix *m = demo();
	struct cm_events e = { 0 };
	cm_events_add(&e, "exec", 1000, 0, 0);
	cm_events_add_marker(&e, m, 7100, 0xf4, 0x30);
	cm_events_add_marker(&e, m, 5100, 0xf4, 0x20);
	cm_events_add_marker(&e, m, 5000, 0xf4, 0x10);
	cm_events_add_marker(&e, m, 6000, 0xf4, 0x10); /* repeat: ignored */
	cm_events_add_marker(&e, m, 4000, 0xf4, 0x99); /* unknown value: kept under its own name */
	cm_events_add(&e, "exit", 9000, 0, 0);
	/* capture records identities; names are the matrix's, given at evaluation */
	assert_null(cm_events_find(&e, "mf4:153"));
	assert_non_null(cm_events_find_marker(&e, m, "real_mode"));
	struct cm_boot_result r;
	cm_boot_evaluate(m, &e, &clean, false, &r);
	assert_non_null(cm_events_find(&e, "mf4:153"));
	assert_int_equal(cm_events_find(&e, "real_mode")->ts_ns, 5000); /* the first write counts */
	assert_int_equal(r.status, CM_STATUS_OK);
	assert_true(r.phase_ns[0] == 4000);
	assert_true(isnan(r.phase_ns[2])); /* no first_entry under debugcon: empty, not failed */
	cm_boot_result_free(&r);
	cm_events_free(&e);
	cm_matrix_free(m);
}

static void test_missing_and_out_of_order(void **state)
{
	struct cm_matrix *m = demo();
	struct cm_events e = { 0 };
	cm_events_add(&e, "exec", 1000, 0, 0);
	cm_events_add_marker(&e, m, 5000, 0xf4, 0x10);
	cm_events_add_marker(&e, m, 5100, 0xf4, 0x20);
	cm_events_add(&e, "exit", 9000, 0, 0);
	struct cm_boot_result r;
	cm_boot_evaluate(m, &e, &clean, false, &r);
	assert_int_equal(r.status, CM_STATUS_MISSING_MARKER);
	assert_non_null(strstr(r.detail, "work_done"));
	assert_true(r.phase_ns[0] == 4000); /* what could be measured still is */
	assert_true(isnan(r.phase_ns[4]));
	cm_boot_result_free(&r);
	cm_events_free(&e);

	cm_events_add(&e, "exec", 1000, 0, 0);
	cm_events_add_marker(&e, m, 5000, 0xf4, 0x10);
	cm_events_add_marker(&e, m, 5100, 0xf4, 0x30);
	cm_events_add_marker(&e, m, 5200, 0xf4, 0x20);
	cm_events_add(&e, "exit", 9000, 0, 0);
	cm_boot_evaluate(m, &e, &clean, false, &r);
	assert_int_equal(r.status, CM_STATUS_OUT_OF_ORDER);
	assert_true(r.phase_ns[1] == -100);
	cm_boot_result_free(&r);
	cm_events_free(&e);

	/* same timestamp (one debugcon read): arrival order decides */
	cm_events_add(&e, "exec", 1000, 0, 0);
	cm_events_add_marker(&e, m, 5000, 0xf4, 0x10);
	cm_events_add_marker(&e, m, 5100, 0xf4, 0x30);
	cm_events_add_marker(&e, m, 5100, 0xf4, 0x20);
	cm_events_add(&e, "exit", 9000, 0, 0);
	cm_boot_evaluate(m, &e, &clean, false, &r);
	assert_int_equal(r.status, CM_STATUS_OUT_OF_ORDER);
	cm_boot_result_free(&r);
	cm_events_free(&e);
	cm_matrix_free(m);
}

static void test_exits(void **state)
{
	struct cm_matrix *m = demo();
	struct cm_events e = { 0 };
	struct cm_boot_result r;
	struct cm_exit ex;
	boot(&e, m, true);

	ex = (struct cm_exit){ .launched = true, .status = 1 };
	cm_boot_evaluate(m, &e, &ex, true, &r);
	assert_int_equal(r.status, CM_STATUS_EXIT_STATUS);
	assert_non_null(strstr(r.detail, "expected 33"));
	cm_boot_result_free(&r);

	ex = (struct cm_exit){ .launched = true, .signal = 11 };
	cm_boot_evaluate(m, &e, &ex, true, &r);
	assert_int_equal(r.status, CM_STATUS_CRASHED);
	cm_boot_result_free(&r);

	ex = (struct cm_exit){ .launched = true, .timed_out = true, .signal = 15 };
	cm_boot_evaluate(m, &e, &ex, true, &r);
	assert_int_equal(r.status, CM_STATUS_TIMEOUT);
	cm_boot_result_free(&r);

	ex = (struct cm_exit){ .launched = false };
	cm_boot_evaluate(m, &e, &ex, true, &r);
	assert_int_equal(r.status, CM_STATUS_LAUNCH_FAILED);
	cm_boot_result_free(&r);

	ex = (struct cm_exit){ .launched = true, .interrupted = true, .signal = 15 };
	cm_boot_evaluate(m, &e, &ex, true, &r);
	assert_int_equal(r.status, CM_STATUS_INTERRUPTED);
	cm_boot_result_free(&r);

	/* a guest that never exits, ended by the harness after its end marker: ok, no exit phase */
	ex = (struct cm_exit){ .launched = true, .ended_by_us = true, .signal = 15 };
	struct cm_events e2 = { 0 };
	cm_events_add(&e2, "exec", 1000, 0, 0);
	cm_events_add(&e2, "first_entry", 1500, 0, 0);
	cm_events_add_marker(&e2, m, 5000, 0xf4, 0x10);
	cm_events_add_marker(&e2, m, 5100, 0xf4, 0x20);
	cm_events_add_marker(&e2, m, 7100, 0xf4, 0x30);
	cm_boot_evaluate(m, &e2, &ex, true, &r);
	assert_int_equal(r.status, CM_STATUS_OK);
	assert_true(isnan(r.phase_ns[3]));
	cm_boot_result_free(&r);

	e.lost = 3;
	cm_boot_evaluate(m, &e, &clean, true, &r);
	assert_int_equal(r.status, CM_STATUS_LOST_RECORDS);
	cm_boot_result_free(&r);
	cm_events_free(&e);
	cm_events_free(&e2);
	cm_matrix_free(m);
}

static void test_first_entry_required_with_perf(void **state)
{
	struct cm_matrix *m = demo();
	struct cm_events e = { 0 };
	boot(&e, m, false);
	struct cm_boot_result r;
	cm_boot_evaluate(m, &e, &clean, true, &r);
	assert_int_equal(r.status, CM_STATUS_MISSING_MARKER);
	assert_non_null(strstr(r.detail, "first_entry"));
	cm_boot_result_free(&r);
	cm_events_free(&e);
	cm_matrix_free(m);
}

/* A marker name of any length names its event whole: cut at 47 characters it matched no phase
 * and every boot was missing_marker. */
static void test_long_marker_names(void **state)
{
	setenv("COLDMARK_GUEST_DIR", GUEST_DIR, 1);
	const char *y = "guest: {bundled: guest}\n"
			"markers:\n"
			"  table:\n"
			"    - {value: 0x10, name: a_marker_name_that_is_far_longer_than_forty_seven_characters_start}\n"
			"    - {value: 0x30, name: a_marker_name_that_is_far_longer_than_forty_seven_characters_end}\n";
	struct cm_diags d = { 0 };
	struct cm_matrix *m = cm_matrix_load_string(y, strlen(y), SOURCE_DIR "/x.yaml", &d);
	cm_diags_print(&d, stderr);
	assert_non_null(m);
	cm_diags_clear(&d);
	struct cm_events e = { 0 };
	cm_events_add(&e, "exec", 1000, 0, 0);
	cm_events_add_marker(&e, m, 5000, 0xf4, 0x10);
	cm_events_add_marker(&e, m, 7000, 0xf4, 0x30);
	struct cm_boot_result r;
	cm_boot_evaluate(m, &e, &clean, false, &r);
	assert_int_equal(r.status, CM_STATUS_OK);
	assert_true(r.phase_ns[m->nphases] == 6000);
	cm_boot_result_free(&r);
	cm_events_free(&e);
	cm_matrix_free(m);
}

/* events.csv reads in time order: the launcher adds exec after the markers it drained */
static void test_events_sorted(void **state)
{
	struct cm_matrix *m = demo();
	struct cm_events e = { 0 };
	cm_events_add_marker(&e, m, 5000, 0xf4, 0x10);
	cm_events_add_marker(&e, m, 5000, 0xf4, 0x20); /* a tie keeps its order of arrival */
	cm_events_add(&e, "exit", 9000, 0, 0);
	cm_events_add(&e, "exec", 1000, 0, 0);
	cm_events_resolve(&e, m);
	cm_events_sort(&e);
	assert_string_equal(e.v[0].name, "exec");
	assert_string_equal(e.v[1].name, "real_mode");
	assert_string_equal(e.v[2].name, "long_mode");
	assert_string_equal(e.v[3].name, "exit");
	cm_events_free(&e);
	cm_matrix_free(m);
}

/* Phases a case's source cannot see are named up front, with the cases and why. */
static void test_note_unmeasurable(void **state)
{
	setenv("COLDMARK_GUEST_DIR", GUEST_DIR, 1);
	const char *y = "guest: {bundled: guest}\naxes: {accel: [kvm, tcg]}\n"
			"phases:\n  - {name: qemu_init, from: exec, to: first_entry}\n"
			"  - {name: work, from: long_mode, to: work_done}\n";
	struct cm_diags d = { 0 };
	struct cm_matrix *m = cm_matrix_load_string(y, strlen(y), SOURCE_DIR "/x.yaml", &d);
	assert_non_null(m);
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);
	assert_int_equal(cm_note_unmeasurable(m, true, f, "note"), 1);
	fclose(f);
	assert_string_equal(buf, "note: phase qemu_init (exec -> first_entry) is not measurable for 1 "
				 "of 4 cases: first_entry is seen only by the perf source, which "
				 "measures KVM cases only; 1 TCG case (accel=tcg) runs under TCG, "
				 "measured through debugcon; the 2 reference cases measure their "
				 "total only\n");
	free(buf);
	f = open_memstream(&buf, &len);
	assert_int_equal(cm_note_unmeasurable(m, false, f, "note"), 1); /* no perf: both */
	fclose(f);
	assert_non_null(strstr(buf, "for 2 of 4 cases")); /* test_install checks the words */
	free(buf);
	cm_matrix_free(m);
	cm_diags_clear(&d);
}

/* The argv qemu gets: each source's arguments with its sockets from fd 10 on, the console
 * into the log unless the case or a source connects the serial itself. */
static void test_launch_argv(void **state)
{
	setenv("COLDMARK_GUEST_DIR", GUEST_DIR, 1);
	const char *y2 = "guest: {bundled: guest}\nmarkers:\n  ports: [0xf4, 0xf5]\n"
			 "  console: [{name: hello, match: Hello}]\n";
	struct cm_diags d = { 0 };
	struct cm_matrix *m = cm_matrix_load_string(y2, strlen(y2), SOURCE_DIR "/x.yaml", &d);
	cm_diags_print(&d, stderr);
	assert_non_null(m);
	char *plain[] = { "qemu", "-nodefaults", NULL };
	struct cm_capture *dc = cm_debugcon_source(m, NULL), *con = cm_console_source(m);
	size_t n;
	char **a = cm_launch_argv(plain, &dc, 1, &n);
	assert_int_equal(n, 2 + 8 + 4);
	assert_string_equal(a[3], "socket,id=cmdbg0,fd=10");
	assert_string_equal(a[5], "isa-debugcon,iobase=0xf4,chardev=cmdbg0");
	assert_string_equal(a[7], "socket,id=cmdbg1,fd=11");
	assert_string_equal(a[11], "stdio,id=cmcon,signal=off");
	assert_string_equal(a[13], "chardev:cmcon");
	assert_null(a[n]);
	for (size_t i = 0; i < n; i++)
		free(a[i]);
	free(a);
	/* the console source takes the serial on the next fd, and no stdio capture is added */
	struct cm_capture *both[] = { dc, con };
	a = cm_launch_argv(plain, both, 2, &n);
	assert_int_equal(n, 2 + 8 + 4);
	assert_string_equal(a[11], "socket,id=cmcon,fd=12");
	assert_string_equal(a[13], "chardev:cmcon");
	for (size_t i = 0; i < n; i++)
		free(a[i]);
	free(a);
	char *own[][4] = { { "qemu", "-serial", "none", NULL }, { "qemu", "-nographic", NULL },
			   { "qemu", "-monitor", "stdio", NULL },
			   { "qemu", "-device", "isa-serial,chardev=c0", NULL } };
	for (size_t k = 0; k < 4; k++) {
		assert_false(cm_argv_wants_console(own[k]));
		a = cm_launch_argv(own[k], NULL, 0, &n);
		for (size_t i = 0; i < n; i++) {
			assert_null(strstr(a[i], "cmcon"));
			free(a[i]);
		}
		free(a);
	}
	cm_capture_free(dc);
	cm_capture_free(con);
	cm_matrix_free(m);
	cm_diags_clear(&d);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_ok),
		cmocka_unit_test(test_late_exit),
		cmocka_unit_test(test_by_value_not_position),
		cmocka_unit_test(test_missing_and_out_of_order),
		cmocka_unit_test(test_exits),
		cmocka_unit_test(test_first_entry_required_with_perf),
		cmocka_unit_test(test_long_marker_names),
		cmocka_unit_test(test_events_sorted),
		cmocka_unit_test(test_note_unmeasurable),
		cmocka_unit_test(test_launch_argv),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
