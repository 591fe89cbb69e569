/* run --profile's counts in the store (issue 28): table profile (schema v6), one row per
 * boot, phase and counter, written with the boot (a copy of a boot already there is skipped). */
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
