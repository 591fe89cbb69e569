/* The text of a k-row INSERT: head, then k rows of ncol numbered parameters ("($1, ..., $n),
 * ($n+1, ...)"), then tail. The per-boot writes (samples in store.c, the summary in summary.c)
 * each make theirs once for k = 1..max: the statement caches know a query by its text's
 * address, so the texts live as long as the process. */
#include "driver.h"

void cm_store_values_sql(char **out, int max, const char *head, int ncol, const char *tail)
{
	for (int k = 1; k <= max; k++) {
		struct cm_buf b = { 0 };
		cm_buf_printf(&b, "%s", head);
		for (int r = 0; r < k; r++) {
			cm_buf_printf(&b, "%s(", r ? ", " : "");
			for (int c = 1; c <= ncol; c++)
				cm_buf_printf(&b, "%s$%d", c > 1 ? ", " : "", r * ncol + c);
			cm_buf_printf(&b, ")");
		}
		cm_buf_printf(&b, "%s", tail);
		out[k] = b.s;
	}
}
