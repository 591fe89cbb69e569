/* run --profile's counts in the store (issue 28): table profile (schema v6), one row per
 * boot, phase and counter, written with the boot (a copy of a boot already there is skipped). */
#include <stdlib.h>
#include <string.h>

#include "coldmark/profile.h"
#include "coldmark/store.h"
#include "driver.h"

static const char ADD_PROFILE[] =
	"INSERT INTO profile (run_id, case_id, boot, session, phase, counter, count) "
	"VALUES ($1, $2, $3, $4, $5, $6, $7) ON CONFLICT DO NOTHING";

struct prof_ctx {
	const char *run_id;
	const struct cm_profile_row *rows;
	size_t n;
};

static int body(struct cm_store *s, void *ctx)
{
	const struct prof_ctx *x = ctx;
	int rc = 0;
	for (size_t i = 0; !rc && i < x->n; i++) {
		const struct cm_profile_row *r = &x->rows[i];
		char boot[16], session[16], count[32];
		snprintf(boot, sizeof(boot), "%d", r->boot);
		snprintf(session, sizeof(session), "%d", r->session);
		snprintf(count, sizeof(count), "%.17g", r->count);
		const char *p[] = { x->run_id, r->case_id, boot, session, r->phase, r->counter, count };
		rc = cm_store_exec(s, ADD_PROFILE, 7, p);
	}
	return rc;
}

int cm_store_add_profile(struct cm_store *s, const char *run_id, const struct cm_profile_row *rows,
			 size_t n)
{
	struct prof_ctx x = { run_id, rows, n };
	return n ? cm_store_transaction(s, body, &x) : 0;
}

/* compare's explanation of a side from the store (issue 28): the run's rows read back as
 * profile.csv's would be. A tag's several runs go into one side, each boot kept apart by
 * its session moved up by session_base. */
int cm_store_load_profile(struct cm_store *s, const char *run_id, int session_base,
			  struct cm_profile_data *d)
{
	struct cm_rows rows = { 0 };
	const char *p[] = { run_id };
	int rc = cm_store_rows(s, "SELECT case_id, boot, session, phase, counter, count FROM profile"
				  " WHERE run_id = $1 ORDER BY case_id, session, boot, phase, counter",
			       1, p, &rows);
	if (rc)
		return rc;
	d->rows = cm_xrealloc(d->rows, (d->n + rows.n + 1) * sizeof(*d->rows));
	for (size_t i = 0; i < rows.n; i++) {
		char *const *v = rows.v + i * rows.ncol;
		if (!v[0] || !v[1] || !v[2] || !v[3] || !v[4] || !v[5])
			continue; /* the columns are NOT NULL: nothing to skip in a sound store */
		d->rows[d->n++] = (struct cm_profile_row){ cm_xstrdup(v[0]), cm_xstrdup(v[3]),
							    cm_xstrdup(v[4]), atoi(v[1]),
							    session_base + atoi(v[2]), strtod(v[5], NULL) };
	}
	cm_rows_free(&rows);
	return 0;
}
