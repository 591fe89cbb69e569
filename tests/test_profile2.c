/* run --profile, second round (issue 28): qemu's own CPU time per phase (sched:sched_switch
 * slices of the boot's threads), MMIO grouped by the region of qemu's `info mtree`, and
 * compare's "why:" for sides read from the store. Unit groups need no KVM: a replayed capture
 * whose sched_switch payloads are laid out by the tracepoint's real format file
 * (fixtures/tracefs/sched_switch.format, from /sys/kernel/tracing), and a real `info mtree`
 * of this host's qemu (fixtures/mtree). The kvm group boots the bundled guest through perf. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <fcntl.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "cli.h"
#include "coldmark/analysis.h"
#include "coldmark/capture.h"
#include "coldmark/harness.h"
#include "coldmark/profile.h"

#include "helpers.h"

static char tmp[256];

/* stdout of fn(cli) into a file, read back */
static char *captured(int (*fn)(const struct cm_cli *), const struct cm_cli *cli, int *rc)
{
	char *path = cm_xasprintf("%s/stdout.txt", tmp);
	fflush(stdout);
	int saved = dup(1), fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
	dup2(fd, 1);
	close(fd);
	*rc = fn(cli);
	fflush(stdout);
	dup2(saved, 1);
	close(saved);
	char *out = th_slurp(path);
	free(path);
	return out;
}

/* ---- qemu's memory map ----------------------------------------------------------------- */

static void load_mtree(struct cm_mtree *t)
{
	char *text = th_slurp(FIXTURES "/mtree/pc-kvm-qemu7.2.txt");
	assert_int_equal(cm_mtree_parse(text, t), 0);
	free(text);
}

/* This host's qemu 7.2 `info mtree` (machine pc, KVM): address-space memory's regions, the
 * innermost holding an address, aliases by their own name, the whole-space containers
 * ("system", "pci") never a device; a text without address-space memory is refused. */
static void test_mtree_parse(void **state)
{
	(void)state;
	struct cm_mtree t;
	load_mtree(&t);
	const struct cm_mtree_region *r = cm_mtree_find(&t, 0xfed000f0);
	assert_non_null(r);
	assert_string_equal(r->name, "hpet");
	assert_true(r->lo == 0xfed00000 && r->hi == 0xfed003ff);
	assert_string_equal(cm_mtree_find(&t, 0xfec00010)->name, "kvm-ioapic");
	assert_string_equal(cm_mtree_find(&t, 0xfee00300)->name, "kvm-apic-msi");
	assert_string_equal(cm_mtree_find(&t, 0xb8000)->name, "smram-region");
	assert_string_equal(cm_mtree_find(&t, 0xc4100)->name, "pam-pci"); /* not pc.rom: inner */
	assert_string_equal(cm_mtree_find(&t, 0xfffffff0)->name, "pc.bios");
	assert_null(cm_mtree_find(&t, 0xfef00000)); /* in "pci" and "system" alone */
	/* only address-space memory: the I/O space's "rtc" at 0x70 is not a memory region */
	for (size_t i = 0; i < t.n; i++)
		assert_true(strcmp(t.v[i].name, "rtc") && strcmp(t.v[i].name, "bus master container"));
	struct cm_prof_rec rec = { .kind = CM_PROF_MMIO, .key = 0xfed000f0, .dir = 1 };
	char name[96];
	cm_prof_counter_name(&rec, &t, name, sizeof(name));
	assert_string_equal(name, "mmio fed00000-fed003ff hpet write");
	rec.key = 0xfef00010, rec.dir = 0; /* no device there: by page, as without a map */
	cm_prof_counter_name(&rec, &t, name, sizeof(name));
	assert_string_equal(name, "mmio 0xfef00000 read");
	cm_prof_counter_name(&rec, NULL, name, sizeof(name));
	assert_string_equal(name, "mmio 0xfef00000 read");
	cm_mtree_free(&t);
	struct cm_mtree none;
	assert_int_equal(cm_mtree_parse("address-space: I/O\n  0000000000000000-000000000000ffff "
					"(prio 0, i/o): io\n", &none), -1);
	assert_int_equal(none.n, 0);
}

/* The runner's journal names MMIO by the case's map: HPET reads in work, counted per phase. */
static void test_mmio_regions_journal(void **state)
{
	(void)state;
	static const char yaml[] = "guest: {bundled: guest}\naxes: {accel: [kvm]}\nphases:\n"
				   "  - {name: firmware, from: exec, to: real_mode}\n"
				   "  - {name: work, from: long_mode, to: work_done}\n"
				   "run: {reference: none}\n";
	struct cm_diags d = { 0 };
	struct cm_matrix *m = cm_matrix_load_string(yaml, strlen(yaml), "p.yaml", &d);
	assert_non_null(m);
	struct cm_events ev = { 0 };
	cm_events_add(&ev, CM_EVENT_EXEC, 1000000, 0, 0);
	cm_events_add_marker(&ev, m, 2000000, 0xf4, 0x10);
	cm_events_add_marker(&ev, m, 3000000, 0xf4, 0x20);
	cm_events_add_marker(&ev, m, 4000000, 0xf4, 0x30);
	ev.prof = cm_xcalloc(1, sizeof(*ev.prof));
	for (int i = 0; i < 7; i++) { /* two registers of the HPET: one counter */
		struct cm_prof_rec r = { .ts_ns = 3100000 + i, .key = i % 2 ? 0xfed000f0 : 0xfed00010,
					 .weight = 1, .kind = CM_PROF_MMIO };
		cm_prof_recs_add(ev.prof, &r);
	}
	struct cm_mtree t;
	load_mtree(&t);
	struct cm_boot_result br;
	struct cm_exit ex = { 0 };
	cm_boot_evaluate(m, &ev, &ex, true, &br);
	struct cm_planned b = { .boot = 1, .session = 1 };
	assert_int_equal(cm_profile_journal(tmp, m, "accel=kvm", &b, &ev, &t, NULL, NULL), 0);
	char *path = cm_xasprintf("%s/profile.csv", tmp), *csv = th_slurp(path);
	assert_non_null(strstr(csv, "accel=kvm,1,1,work,mmio fed00000-fed003ff hpet read,7\n"));
	assert_null(strstr(csv, "firmware,mmio"));
	free(csv);
	unlink(path);
	free(path);
	cm_mtree_free(&t);
	cm_boot_result_free(&br);
	cm_events_free(&ev);
	cm_matrix_free(m);
	cm_diags_clear(&d);
}

/* ---- replayed capture: sched_switch slices through the runner, and the store --------------- */

/* The recorded boots with raw (a fixtures/replay file) as their profile, tagged tag, into the
 * store db; the run folder's profile.csv, to free. */
static char *replayed_run(const char *raw, const char *tag, const char *db)
{
	char *m = cm_xasprintf("%s/%s.yaml", tmp, tag), *dir = cm_xasprintf("%s/%s", tmp, tag);
	th_write(m, "guest: {bundled: guest}\n"
		      "base_args: [-machine, pc, -display, none, -nodefaults, -accel, tcg]\n"
		      "axes: {rec: {template: [-name, \"{}\"], values: [kvm, tcg]}}\n"
		      "phases:\n  - {name: firmware, from: exec, to: real_mode}\n"
		      "  - {name: mode_switch, from: real_mode, to: long_mode}\n"
		      "  - {name: work, from: long_mode, to: work_done}\n"
		      "run: {boots: 3, warmup: 0, order: sequential, drop_caches: false, "
		      "reference: none, profile: true}\n", 0644);
	char *csv = th_replay_run(m, FIXTURES "/replay/events.csv", raw, FIXTURES "/tracefs", dir,
				  db, tag);
	free(m), free(dir);
	return csv;
}

/* qemu's slices per phase: a slice across real_mode is split (1 ms firmware, 0.5 ms
 * mode_switch), a switch from one qemu thread to another ends one slice and begins the next,
 * another process's slice and a switch out with no switch in seen on its CPU count nothing.
 * Per boot: firmware 2 + 1 ms, mode_switch 0.5 ms, work 20 + 2 ms; total their sum. The
 * switch out never seen coming in (thread 0x66 on CPU 0) is an upper bound of its own,
 * qemu_cpu_unseen_ns: the span since CPU 0's last switch seen (0x65 out, 0.5-0.65 ms before
 * long_mode), 35 ms of it in work, none in firmware. */
static void test_switch_slices(void **state)
{
	(void)state;
	char *db = cm_xasprintf("%s/sched.db", tmp);
	char *csv = replayed_run(FIXTURES "/replay/profile-sched.csv", "sched", db);
	for (int b = 1; b <= 3; b++) {
		char want[4][96];
		snprintf(want[0], 96, "rec=kvm,%d,1,firmware,qemu_cpu_ns,3000000\n", b);
		snprintf(want[1], 96, "rec=kvm,%d,1,mode_switch,qemu_cpu_ns,500000\n", b);
		snprintf(want[2], 96, "rec=kvm,%d,1,work,qemu_cpu_ns,22000000\n", b);
		snprintf(want[3], 96, "rec=kvm,%d,1,total,qemu_cpu_ns,25500000\n", b);
		for (int k = 0; k < 4; k++)
			assert_non_null(strstr(csv, want[k]));
		snprintf(want[0], 96, "rec=kvm,%d,1,work,qemu_cpu_unseen_ns,35000000\n", b);
		assert_non_null(strstr(csv, want[0]));
	}
	assert_null(strstr(csv, "firmware,qemu_cpu_unseen_ns"));
	assert_null(strstr(csv, "rec=tcg"));
	free(csv);
	free(db);
}

static json_t *row_of(json_t *root, const char *phase)
{
	json_t *row;
	size_t i;
	json_array_foreach(json_object_get(root, "rows"), i, row)
		if (!strcmp(json_string_value(json_object_get(row, "phase")), phase))
			return row;
	return NULL;
}

static json_t *counter(json_t *why, const char *name)
{
	json_t *e;
	size_t i;
	json_array_foreach(why, i, e)
		if (!strcmp(json_string_value(json_object_get(e, "counter")), name))
			return e;
	return NULL;
}

/* compare of two tags in the store explains from the store's profile table: the same boots
 * profiled with exits (base) and with qemu's slices (candidate). */
static void test_store_explain(void **state)
{
	(void)state;
	char *db = cm_xasprintf("%s/both.db", tmp);
	free(replayed_run(FIXTURES "/replay/profile-raw.csv", "exits", db));
	free(replayed_run(FIXTURES "/replay/profile-sched.csv", "slices", db));
	char *argv[] = { "exits", "slices", "--db", db, "--explain", "--format", "json" };
	struct cm_cli cli;
	assert_int_equal(cm_cli_parse(cm_command("compare"), 7, argv, &cli), 0);
	int rc;
	char *out = captured(cm_cmd_compare, &cli, &rc);
	json_t *root = json_loads(out, 0, NULL);
	assert_non_null(root);
	json_t *why = json_object_get(row_of(root, "work"), "explained_by");
	assert_non_null(why);
	json_t *cpu = counter(why, "qemu_cpu_ns"), *ept = counter(why, "exit ept_violation");
	assert_non_null(cpu);
	assert_true(json_real_value(json_object_get(cpu, "base_per_boot")) == 0);
	assert_true(json_real_value(json_object_get(cpu, "cand_per_boot")) == 22000000);
	assert_true(json_is_true(json_object_get(cpu, "exact")));
	/* what the slices' profile may have missed (0 -> 35 ms) is no cause of a change */
	assert_null(counter(why, "qemu_cpu_unseen_ns"));
	assert_non_null(ept);
	assert_true(json_real_value(json_object_get(ept, "base_per_boot")) == 5);
	why = json_object_get(row_of(root, "firmware"), "explained_by");
	assert_non_null(counter(why, "port 0x70 write")); /* 3 -> 0 */
	json_decref(root);
	free(out);
	/* and in text, the "why:" line */
	char *targv[] = { "exits", "slices", "--db", db, "--explain" };
	assert_int_equal(cm_cli_parse(cm_command("compare"), 5, targv, &cli), 0);
	out = captured(cm_cmd_compare, &cli, &rc);
	assert_non_null(strstr(out, "why: "));
	assert_non_null(strstr(out, "why: qemu CPU ns 0 → 22000000 per boot; VM exits (ept_violation) 5 → 0 per boot"));
	free(out);
	free(db);
}

/* The label of a region counter in the "why:" line: its name and range, not a page. */
static void test_region_label(void **state)
{
	(void)state;
	struct cm_explain e = { .counter = (char *)"mmio fed00000-fed003ff hpet write", .what = "" };
	char label[128];
	cm_explain_label(&e, label, sizeof(label));
	assert_string_equal(label, "mmio hpet (fed00000-fed003ff) writes");
	e.counter = (char *)"mmio 0xfed00000 read";
	e.what = "HPET";
	cm_explain_label(&e, label, sizeof(label));
	assert_string_equal(label, "mmio 0xfed00000 (HPET) reads");
}

/* ---- real boots (group kvm) ------------------------------------------------------------- */

/* argv to the end, its stdout in *out (to free) */
static int run(char *const argv[], char **out)
{
	char *path = cm_xasprintf("%s/out.txt", tmp);
	int rc = th_run_stdout(argv, path, out);
	free(path);
	return rc;
}

static char *profiled_run(const char *guest, const char *tag, const char *db)
{
	return th_guest_run(tmp, guest, tag, "--db", db, "--tag", tag, "--profile", NULL);
}

/* The measured (not warm-up) boot b's qemu_cpu (wait4, samples.csv), ns; -1 when absent. */
static double qemu_cpu(const char *samples, int b)
{
	char key[64];
	snprintf(key, sizeof(key), "accel=kvm,%d,ok,qemu_cpu,", b);
	for (const char *p = samples; (p = strstr(p, key)); p++) {
		char *end;
		double v = strtod(p + strlen(key), &end);
		if (!strncmp(end, ",0,", 3)) /* the warmup column */
			return v;
	}
	return -1;
}

/* The time a hypervisor ran something else on this machine's CPUs so far, all CPUs (ns). */
static double steal_ns(void)
{
	char *stat = th_slurp("/proc/stat");
	unsigned long long v[8] = { 0 };
	int n = sscanf(stat, "cpu %llu %llu %llu %llu %llu %llu %llu %llu", &v[0], &v[1], &v[2],
		       &v[3], &v[4], &v[5], &v[6], &v[7]);
	free(stat);
	assert_int_equal(n, 8);
	return (double)v[7] * 1e9 / (double)sysconf(_SC_CLK_TCK);
}

/* Boot b's count of counter in phase (profile.csv); -1 when absent. */
static double phase_count(const char *profile, int b, const char *phase, const char *counter)
{
	char key[96];
	snprintf(key, sizeof(key), "accel=kvm,%d,1,%s,%s,", b, phase, counter);
	const char *p = strstr(profile, key);
	return p ? strtod(p + strlen(key), NULL) : -1;
}

/* Real boots: qemu's CPU per phase adds up to wait4's qemu_cpu of the boot. The phases tile
 * exec to work_done, and what the slices hold is bounded on both sides by what was measured:
 * - seen (qemu_cpu_ns) <= qemu_cpu + 1% + the steal time of the run: a slice runs switch to
 *   switch, a few us a switch more than the scheduler charges (whole lives' slices were
 *   +0.06..+0.08% of qemu_cpu here, up to +0.94% with a yes pair on both cores and 160 ms of
 *   steal in the run), and it holds the time the hypervisor ran something else on that CPU,
 *   which the scheduler's runtime (CONFIG_PARAVIRT_TIME_ACCOUNTING), so qemu_cpu, leaves out:
 *   the run's whole steal, every CPU's (/proc/stat), bounds what one boot's slices hold of it;
 * - seen + unseen (qemu_cpu_unseen_ns, the spans in which slices whose switch in was never
 *   delivered ran) >= qemu_cpu - 1%. What no phase holds is qemu's CPU before exec (coldmark's
 *   forked child: 0.2-0.7 ms, 1.6 ms under ASan) and after work_done (its exit: 1.8-3.3 ms),
 *   measured with perf record of sched_switch/exec/exit around 5 boots: 0.1% of a 3-4 s boot.
 *   The unseen part is why a bound on seen alone failed on a loaded host (-5.16% with ASan):
 *   the kernel gives no sched_switch sample for a switch out of the sandbox's own tasks (they
 *   run more when the host is busy), so a qemu slice that follows one comes in unseen and is
 *   left out of qemu_cpu_ns (boots here: up to 66 ms, 18 slices). A boot with lost records
 *   has gaps nothing bounds: its lower side is not asserted (said, and none here had any).
 * Also: MMIO named by qemu's map (the local APIC's region, "kvm-apic-msi" on this qemu); no
 * emulated instructions unless asked; compare of two tags in the store names port 0x80. */
static void test_kvm_cpu_store(void **state)
{
	(void)state;
	char *db = cm_xasprintf("%s/store.db", tmp);
	double steal = steal_ns();
	char *plain = profiled_run("guest", "plain", db);
	steal = steal_ns() - steal;
	printf("steal time of the host's CPUs during the run: %.3f ms\n", steal / 1e6);
	char *post = profiled_run("guest-post", "post", db);
	char *sp = cm_xasprintf("%s/samples.csv", plain), *pp = cm_xasprintf("%s/profile.csv", plain);
	char *samples = th_slurp(sp), *profile = th_slurp(pp);
	for (int b = 1; b <= 5; b++) {
		double q = qemu_cpu(samples, b), sum = 0, unseen = 0;
		double lost = phase_count(profile, b, "firmware", "lost");
		const char *ph[] = { "firmware", "mode_switch", "work" };
		for (int k = 0; k < 3; k++) {
			double v = phase_count(profile, b, ph[k], "qemu_cpu_ns");
			double u = phase_count(profile, b, ph[k], "qemu_cpu_unseen_ns");
			assert_true(v > 0);
			sum += v;
			unseen += u > 0 ? u : 0;
		}
		printf("boot %d: qemu_cpu %.3f ms, phases' qemu_cpu_ns sum %.3f ms (%+.2f%%), "
		       "unseen <= %.3f ms, lost %.0f\n", b, q / 1e6, sum / 1e6, (sum / q - 1) * 100,
		       unseen / 1e6, lost);
		assert_true(q > 0);
		assert_true(lost >= 0);
		assert_true(sum <= q * 1.01 + steal);
		if (lost == 0)
			assert_true(sum + unseen >= q * 0.99);
		else
			printf("boot %d: %.0f records lost: the lower bound is not asserted\n", b, lost);
	}
	assert_non_null(strstr(profile, "mmio fee00000-feefffff kvm-apic-msi"));
	/* --profile without --profile-emulated: kvm_emulate_insn's probe (its cost) stays off */
	assert_null(strstr(profile, "emulated_insn"));
	free(samples), free(profile), free(sp), free(pp);
	char *argv[] = { COLDMARK_BIN, "compare", "plain", "post", "--db", db, "--explain",
			 "--format", "json", NULL };
	char *o = NULL;
	int rc = run(argv, &o);
	assert_true(rc == 0 || rc == 1 || rc == 5);
	json_t *root = json_loads(o, 0, NULL);
	assert_non_null(root);
	json_t *e = counter(json_object_get(row_of(root, "work"), "explained_by"), "port 0x80 write");
	assert_non_null(e);
	assert_true(json_real_value(json_object_get(e, "base_per_boot")) == 0);
	assert_true(json_real_value(json_object_get(e, "cand_per_boot")) == 500);
	assert_true(json_is_true(json_object_get(e, "exact")));
	json_decref(root);
	free(o), free(plain), free(post), free(db);
}

int main(int argc, char **argv)
{
	if (th_mkdtemp(tmp, sizeof(tmp), "profile2"))
		return 1;
	const struct CMUnitTest unit[] = {
		cmocka_unit_test(test_mtree_parse),   cmocka_unit_test(test_mmio_regions_journal),
		cmocka_unit_test(test_switch_slices), cmocka_unit_test(test_store_explain),
		cmocka_unit_test(test_region_label),
	};
	const struct CMUnitTest kvm[] = { cmocka_unit_test(test_kvm_cpu_store) };
	setenv("COLDMARK_GUEST_DIR", GUEST_DIR, 1);
	int rc = 0;
	if (argc < 2 || !strcmp(argv[1], "unit")) {
		rc = cmocka_run_group_tests_name("profile2", unit, NULL, NULL);
	} else if (!strcmp(argv[1], "kvm")) {
		if (access("/dev/kvm", R_OK | W_OK) ||
		    access("/sys/kernel/tracing/events/sched/sched_switch/format", R_OK)) {
			printf("kvm group: not run: no /dev/kvm or sched tracepoints here\n");
			rmdir(tmp);
			return 77;
		}
		rc = cmocka_run_group_tests_name("profile2-kvm", kvm, NULL, NULL);
	}
	if (rc)
		printf("kept %s\n", tmp);
	else
		th_rm_rf(tmp);
	return rc;
}
