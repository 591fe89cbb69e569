/* The text of a k-row INSERT: head, then k rows of ncol numbered parameters ("($1, ..., $n),
 * ($n+1, ...)"), then tail. The per-boot writes (samples in store.c, the summary in summary.c)
 * each make theirs once for k = 1..max: the statement caches know a query by its text's
 * address, so the texts live as long as the process. Made without printf: the 24 texts hold
 * ~2,400 parameters, and a printf each was ~5 M instructions in a run's first boot (callgrind;
 * ~0.5 ms there in a real run's profile, ~8 us a boot of a 60-boot run's store). */
#include "driver.h"

#include <string.h>

/* "$n" into out (room for 12 bytes); its length */
size_t cm_store_param_name(char *out, int n)
{
	char d[11];
	size_t k = 0, len = 0;
	unsigned u = (unsigned)n;
	do
		d[k++] = (char)('0' + u % 10);
	while (u /= 10);
	out[len++] = '$';
	while (k)
		out[len++] = d[--k];
	out[len] = 0;
	return len;
}

void cm_store_values_sql(char **out, int max, const char *head, int ncol, const char *tail)
{
	char name[12];
	for (int k = 1; k <= max; k++) {
		struct cm_buf b = { 0 };
		cm_buf_append(&b, head, strlen(head));
		for (int r = 0; r < k; r++) {
			if (r)
				cm_buf_append(&b, ", ", 2);
			cm_buf_append(&b, "(", 1);
			for (int c = 1; c <= ncol; c++) {
				if (c > 1)
					cm_buf_append(&b, ", ", 2);
				cm_buf_append(&b, name, cm_store_param_name(name, r * ncol + c));
			}
			cm_buf_append(&b, ")", 1);
		}
		cm_buf_append(&b, tail, strlen(tail));
		out[k] = b.s;
	}
}
