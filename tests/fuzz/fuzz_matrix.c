/* libFuzzer target: the matrix loader must never crash, leak or read out of bounds, whatever
 * the bytes. Run with scripts/fuzz.sh; crashes found go to tests/fuzz/crashes and are replayed
 * by test_fuzz_corpus in every test run. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "coldmark/matrix.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static int init;
	if (!init) {
		setenv("COLDMARK_GUEST_DIR", "/nonexistent", 1);
		init = 1;
	}
	struct cm_diags d = { 0 };
	char *text = malloc(size + 1);
	memcpy(text, data, size);
	text[size] = 0;
	struct cm_matrix *m = cm_matrix_load_string(text, size, "/tmp/fuzz.yaml", &d);
	cm_matrix_free(m);
	cm_diags_clear(&d);
	free(text);
	return 0;
}
