/* coldmark host check | tune | reset: the host's state that moves boot times, each line a
 * verdict and its fix; tune applies the fixes it can (the prior state saved), reset restores. */
#include <stdio.h>
#include <string.h>

#include "cli.h"
#include "coldmark/host.h"

static void print_items(const struct cm_host_item *it, size_t n, FILE *f)
{
	static const char *const tag[] = { "[ ok ]", "[warn]", "[ -- ]" };
	for (size_t i = 0; i < n; i++) {
		fprintf(f, "%s %-22s %s\n", tag[it[i].verdict], it[i].name, it[i].value);
		if (it[i].verdict == CM_HOST_WARN)
			fprintf(f, "       %-22s fix: %s%s\n", "", it[i].fix,
				it[i].tunable ? " (coldmark host tune does it)" : "");
	}
}

static size_t warnings(const struct cm_host_item *it, size_t n)
{
	size_t w = 0;
	for (size_t i = 0; i < n; i++)
		w += it[i].verdict == CM_HOST_WARN;
	return w;
}

static int check(const char *cpus)
{
	struct cm_host_item it[CM_HOST_MAX_ITEMS];
	size_t n = cm_host_check(cpus, it, CM_HOST_MAX_ITEMS), w = warnings(it, n);
	print_items(it, n, stdout);
	char when[64];
	if (cm_host_tuned(when, sizeof(when)))
		printf("\ntuned by coldmark host tune since %s (coldmark host reset restores it)\n", when);
	if (w)
		printf("\n%zu item%s would move boot times: see the fixes above\n", w, w == 1 ? "" : "s");
	else
		printf("\nquiet enough to measure\n");
	return w ? CM_EXIT_FAILED : CM_EXIT_OK;
}

static int tune(const char *cpus)
{
	struct cm_host_item it[CM_HOST_MAX_ITEMS];
	size_t n = 0, changed = 0;
	struct cm_error err = { 0 };
	int rc = cm_host_tune(cpus, it, CM_HOST_MAX_ITEMS, &n, &changed, &err);
	if (rc) {
		fprintf(stderr, "coldmark host tune: %s\n", err.msg);
		return rc == CM_HOST_REFUSED ? CM_EXIT_USAGE : CM_EXIT_HOST;
	}
	printf("before:\n");
	print_items(it, n, stdout);
	printf("\ntuned: %zu setting%s changed, the prior values saved (coldmark host reset "
	       "restores them); runs record that the host was tuned\n", changed, changed == 1 ? "" : "s");
	return CM_EXIT_OK;
}

static int reset(void)
{
	size_t restored = 0;
	struct cm_error err = { 0 };
	int rc = cm_host_reset(&restored, &err);
	if (rc) {
		fprintf(stderr, "coldmark host reset: %s\n", err.msg);
		return rc == CM_HOST_REFUSED ? CM_EXIT_USAGE : CM_EXIT_HOST;
	}
	printf("restored %zu setting%s as they were before coldmark host tune\n", restored,
	       restored == 1 ? "" : "s");
	return CM_EXIT_OK;
}

int cm_cmd_host(const struct cm_cli *cli)
{
	const char *what = cli->pos[0], *cpus = cm_cli_get(cli, "cpus");
	cpu_set_t set, online;
	struct cm_error err = { 0 };
	if (cpus && cm_cpulist_check(cpus, &set, &online, &err)) {
		fprintf(stderr, "coldmark host: --cpus %s\n", err.msg);
		return CM_EXIT_USAGE;
	}
	if (!strcmp(what, "check"))
		return check(cpus);
	if (!strcmp(what, "tune"))
		return tune(cpus);
	if (!strcmp(what, "reset"))
		return reset();
	fprintf(stderr, "coldmark host: '%s': check, tune or reset\n", what);
	return CM_EXIT_USAGE;
}
