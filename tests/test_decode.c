/* Marker decoding with libtraceevent on tracefs format files kept as fixtures and hand-written
 * raw payloads: no kernel needed. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <traceevent/event-parse.h>

#include "coldmark/harness.h"

#define NK 4096
static int kinds[NK];

static char *fixture(const char *name, size_t *len)
{
	char path[512];
	snprintf(path, sizeof(path), "%s/tracefs/%s", FIXTURES, name);
	FILE *f = fopen(path, "r");
	assert_non_null(f);
	char *buf = calloc(1, 65536);
	*len = fread(buf, 1, 65535, f);
	fclose(f);
	return buf;
}

static struct tep_handle *load(const char *file, const char *system, enum cm_tp_kind kind, int *id)
{
	struct tep_handle *tep = tep_alloc();
	size_t len;
	char *text = fixture(file, &len);
	*id = cm_tp_add_format(tep, system, text, len, kind, kinds, NK);
	free(text);
	assert_true(*id > 0);
	return tep;
}

static void put32(unsigned char *b, size_t off, uint32_t v)
{
	memcpy(b + off, &v, 4);
}

static void test_pio(void **state)
{
	int id;
	struct tep_handle *tep = load("kvm_pio.format", "kvm", CM_TP_PIO, &id);
	assert_int_equal(id, 110);
	unsigned char raw[28] = { 0 };
	uint16_t type = 110;
	memcpy(raw, &type, 2);
	put32(raw, 4, 4242); /* common_pid: the vCPU thread */
	put32(raw, 8, 1);    /* rw: write */
	put32(raw, 12, 0xf4);
	put32(raw, 16, 1);
	put32(raw, 20, 1);
	put32(raw, 24, 0x20);
	struct cm_tp_record r;
	assert_int_equal(cm_tp_decode(tep, kinds, NK, raw, sizeof(raw), &r), 0);
	assert_int_equal(r.kind, CM_TP_PIO);
	assert_int_equal(r.rw, 1);
	assert_int_equal(r.port, 0xf4);
	assert_int_equal(r.val, 0x20);
	assert_int_equal(r.pid, 4242);
	tep_free(tep);
}

static void test_pio_other_layout(void **state)
{
	int id;
	struct tep_handle *tep = load("kvm_pio-reordered.format", "kvm", CM_TP_PIO, &id);
	unsigned char raw[32] = { 0 };
	uint16_t type = (uint16_t)id;
	memcpy(raw, &type, 2);
	put32(raw, 8, 0x30);  /* val comes first in this layout */
	put32(raw, 12, 999);  /* extra */
	put32(raw, 16, 1);    /* rw */
	put32(raw, 20, 0xf5); /* port */
	struct cm_tp_record r;
	assert_int_equal(cm_tp_decode(tep, kinds, NK, raw, sizeof(raw), &r), 0);
	assert_int_equal(r.port, 0xf5);
	assert_int_equal(r.val, 0x30);
	assert_int_equal(r.rw, 1);
	tep_free(tep);
}

static void test_exec(void **state)
{
	int id;
	struct tep_handle *tep = load("sched_process_exec.format", "sched", CM_TP_EXEC, &id);
	const char *fn = "/usr/bin/qemu-system-x86_64";
	unsigned char raw[64] = { 0 };
	uint16_t type = (uint16_t)id;
	memcpy(raw, &type, 2);
	/* __data_loc: offset in the low 16 bits, length in the high 16 */
	uint32_t loc = (uint32_t)(strlen(fn) + 1) << 16 | 20;
	put32(raw, 8, loc);
	put32(raw, 12, 777); /* pid */
	put32(raw, 16, 777);
	memcpy(raw + 20, fn, strlen(fn) + 1);
	struct cm_tp_record r;
	assert_int_equal(cm_tp_decode(tep, kinds, NK, raw, 20 + (int)strlen(fn) + 1, &r), 0);
	assert_int_equal(r.kind, CM_TP_EXEC);
	assert_int_equal(r.pid, 777);
	assert_string_equal(r.filename, fn);
	tep_free(tep);
}

static void test_first_entry_and_unknown(void **state)
{
	int id;
	struct tep_handle *tep = load("kvm_emulate_insn.format", "kvm", CM_TP_FIRST_ENTRY, &id);
	unsigned char raw[40] = { 0 };
	uint16_t type = (uint16_t)id;
	memcpy(raw, &type, 2);
	uint64_t rip = 0xfff0;
	memcpy(raw + 8, &rip, 8);
	struct cm_tp_record r;
	assert_int_equal(cm_tp_decode(tep, kinds, NK, raw, sizeof(raw), &r), 0);
	assert_int_equal(r.kind, CM_TP_FIRST_ENTRY);
	assert_int_equal(r.rip, 0xfff0);
	/* a record of an event that was never parsed is refused, not misread */
	type = 3000;
	memcpy(raw, &type, 2);
	assert_int_not_equal(cm_tp_decode(tep, kinds, NK, raw, sizeof(raw), &r), 0);
	/* too short to hold a header */
	assert_int_not_equal(cm_tp_decode(tep, kinds, NK, raw, 4, &r), 0);
	tep_free(tep);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_pio),
		cmocka_unit_test(test_pio_other_layout),
		cmocka_unit_test(test_exec),
		cmocka_unit_test(test_first_entry_and_unknown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
