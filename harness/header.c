/* The host fingerprint of a run's header: what a later reader needs to judge the numbers and
 * what compare needs to say what differs between two runs (CPU, frequency policy, qemu and
 * its version, the guest files and the firmware qemu reports loading, each by SHA-256). */
#define _GNU_SOURCE
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/utsname.h>
#include <unistd.h>

#include "coldmark/harness.h"
#include "coldmark/host.h"
#include "coldmark/model.h"

/* One line of a sysfs/procfs file, or NULL when the host does not expose it. */
static char *read_line(const char *path)
{
	FILE *f = fopen(path, "r");
	char buf[256];
	if (!f)
		return NULL;
	char *ok = fgets(buf, sizeof(buf), f);
	fclose(f);
	if (!ok)
		return NULL;
	buf[strcspn(buf, "\n")] = 0;
	return cm_xstrdup(buf);
}

static void meta_file(struct cm_dataset *ds, const char *key, const char *path)
{
	char *v = read_line(path);
	if (v)
		cm_dataset_meta(ds, key, v);
	free(v);
}

/* sha256 of a file, hashed in process (no helper: a file name never reaches a command). */
static void meta_hash(struct cm_dataset *ds, const char *key, const char *path)
{
	char hex[65];
	if (!path || cm_sha256_cached(path, hex))
		return;
	char *v = cm_xasprintf("%s  %s", hex, path);
	cm_dataset_meta(ds, key, v);
	free(v);
}

/* argv without the values that cannot change which ROMs qemu loads: cases that differ only
 * in memory, CPUs or accelerator are asked once. */
static char *rom_key(const struct cm_case *c)
{
	static const char *const irrelevant[] = { "-m", "-smp", "-accel", "-cpu", "-name" };
	struct cm_buf b = { 0 };
	for (size_t i = 0; i < c->argc; i++) {
		bool skip = false;
		for (size_t k = 0; k < sizeof(irrelevant) / sizeof(irrelevant[0]); k++)
			skip |= i > 0 && !strcmp(c->argv[i - 1], irrelevant[k]);
		if (!skip) {
			cm_buf_puts(&b, c->argv[i]);
			cm_buf_puts(&b, "\x1f");
		}
	}
	return cm_buf_steal(&b);
}

#define MAX_ROM_QUERIES 32
#define CM_STR_(x) #x
#define CM_STR(x) CM_STR_(x)

/* cm_case_roms, from the cache while qemu is unchanged: the ROMs of a device set are
 * "name\x1epath" records joined by \x1f (an empty path: not found). ROMS_FACT names the
 * cache's kind: "roms2" since a -bios given by bare name resolves to qemu's own absolute
 * path ("roms" held it as given, relative to whatever folder the run started in). */
#define ROMS_FACT "roms2"
static int case_roms(const struct cm_case *c, const char *key, struct cm_rom **roms, size_t *n,
		     struct cm_error *err)
{
	char *qemu = cm_which(c->argv[0]), *id = cm_file_identity(qemu);
	char *k = id ? cm_xasprintf("%s\x1e%s", id, key) : NULL, *v = k ? cm_fact_get(ROMS_FACT, k) : NULL;
	int rc = 0;
	*roms = NULL, *n = 0;
	if (v) {
		for (char *save = NULL, *r = strtok_r(v, "\x1f", &save); r; r = strtok_r(NULL, "\x1f", &save)) {
			char *sep = strchr(r, '\x1e');
			if (!sep)
				continue;
			*sep = 0;
			*roms = cm_xrealloc(*roms, (*n + 1) * sizeof(**roms));
			(*roms)[(*n)++] = (struct cm_rom){ cm_xstrdup(r), sep[1] ? cm_xstrdup(sep + 1) : NULL };
		}
	} else if (!(rc = cm_case_roms(c->argv, roms, n, err)) && k) {
		struct cm_buf b = { 0 };
		for (size_t i = 0; i < *n; i++)
			cm_buf_printf(&b, "%s\x1e%s\x1f", (*roms)[i].name, (*roms)[i].path ? (*roms)[i].path : "");
		cm_fact_put(ROMS_FACT, k, b.s ? b.s : "");
		cm_buf_free(&b);
	}
	free(v), free(k), free(id), free(qemu);
	return rc;
}

/* The header items of one device set's ROMs: each file's sha256 under its ROM's name (keyed
 * by name and path when another case loads that name from another file); returns what the
 * set loads, "name (path), ..." for the cases' own items. */
static char *hash_roms(struct cm_dataset *ds, const struct cm_rom *roms, size_t n)
{
	struct cm_buf list = { 0 };
	for (size_t i = 0; i < n; i++) {
		char *k = cm_xasprintf("firmware sha256 (%s)", roms[i].name);
		const char *had = cm_dataset_get_meta(ds, k);
		if (had && roms[i].path && !strstr(had, roms[i].path)) {
			/* the same name from another file (a -bios of another case) */
			free(k);
			k = cm_xasprintf("firmware sha256 (%s, %s)", roms[i].name, roms[i].path);
		}
		if (roms[i].path)
			meta_hash(ds, k, roms[i].path);
		else if (!had)
			cm_dataset_meta(ds, k, "file not found in qemu's data directories");
		free(k);
		cm_buf_printf(&list, "%s%s (%s)", i ? ", " : "", roms[i].name,
			      roms[i].path ? roms[i].path : "not found");
	}
	return list.s ? cm_buf_steal(&list) : cm_xstrdup("none");
}

/* Is case c one the pattern names: fixed[a] on each axis it fixes (NULL: the case lacks that
 * axis), any value or none where vary[a]? */
static bool matches(const struct cm_matrix *m, size_t c, char *const *fixed, const bool *vary)
{
	for (size_t a = 0; a < m->naxes; a++) {
		const char *l = m->cases[c].labels[a];
		if (!vary[a] && (!l != !fixed[a] || (l && strcmp(l, fixed[a]))))
			return false;
	}
	return true;
}

/* The matrix's cases of device set s (reference cases apart: they have items of their own)
 * named the way case ids are: "firmware=qboot.rom,smp=*", "*" where they differ (any value, or
 * none), "-" on an axis they lack and other cases have; "every case" when nothing is fixed.
 * NULL when the set has none of them, or the name would also fit a case of another set. */
static char *set_name(const struct cm_matrix *m, const size_t *set_of, size_t s)
{
	char **fixed = cm_xcalloc(m->naxes + 1, sizeof(char *));
	bool *vary = cm_xcalloc(m->naxes + 1, sizeof(bool)), *has = cm_xcalloc(m->naxes + 1, sizeof(bool));
	bool any = false, exact = true, some = false;
	for (size_t c = 0; c < m->ncases; c++) {
		for (size_t a = 0; !m->cases[c].reference && a < m->naxes; a++) {
			const char *l = m->cases[c].labels[a];
			has[a] |= l != NULL;
			if (set_of[c] != s)
				continue;
			if (!any)
				fixed[a] = (char *)l;
			else if (!l != !fixed[a] || (l && strcmp(l, fixed[a])))
				vary[a] = true;
		}
		any |= set_of[c] == s && !m->cases[c].reference;
	}
	for (size_t c = 0; c < m->ncases && exact; c++)
		exact = set_of[c] == s || m->cases[c].reference || !matches(m, c, fixed, vary);
	struct cm_buf b = { 0 };
	for (size_t a = 0; any && exact && a < m->naxes; a++) {
		if (!has[a])
			continue;
		some |= !vary[a];
		cm_buf_printf(&b, "%s%s=%s", b.len ? "," : "", m->axes[a].name,
			      vary[a] ? "*" : fixed[a] ? fixed[a] : "-");
	}
	char *name = !any || !exact ? NULL : some ? cm_buf_steal(&b) : cm_xstrdup("every case");
	cm_buf_free(&b), free(fixed), free(vary), free(has);
	return name;
}

/* "firmware (CASES)" = what device set s loads: one item for the set's matrix cases when a
 * name fits them exactly (else `rest`, when given), else one per case; a reference case's by
 * its own id. A 10^5-case sweep over memory and CPUs is one item, not 10^5 header rows in
 * meta.csv and every report. */
static void name_set(struct cm_dataset *ds, const struct cm_matrix *m, const size_t *set_of, size_t s,
		     const char *loads, const char *rest)
{
	char *name = set_name(m, set_of, s), *k;
	bool mine = false; /* a matrix case (not a reference) in the set */
	for (size_t c = 0; c < m->ncases && !mine; c++)
		mine = set_of[c] == s && !m->cases[c].reference;
	if (!name && rest && mine)
		name = cm_xstrdup(rest);
	if (name) {
		k = cm_xasprintf("firmware (%s)", name);
		cm_dataset_meta(ds, k, loads);
		free(k);
	}
	for (size_t c = 0; c < m->ncases; c++) {
		if (set_of[c] != s || (name && !m->cases[c].reference))
			continue;
		k = cm_xasprintf("firmware (%s)", m->cases[c].id);
		cm_dataset_meta(ds, k, loads);
		free(k);
	}
	free(name);
}

#define NOT_ASKED "not asked: more than " CM_STR(MAX_ROM_QUERIES) " distinct device sets in the matrix"

/* sha256 of every firmware and option ROM file the cases load, as qemu itself reports them
 * (once per device set: cases that differ only in memory, CPUs or accelerator are one set),
 * and which cases load which ("firmware (CASES)", name_set): the run-wide list alone does
 * not say which case booted which firmware. */
static void capture_firmware(struct cm_dataset *ds, const struct cm_matrix *m)
{
	char **asked = NULL, **loads = NULL; /* per device set asked: its key, what it loads */
	size_t nasked = 0, *set_of = cm_xcalloc(m->ncases + 1, sizeof(size_t));
	bool others = false; /* cases past MAX_ROM_QUERIES sets: set MAX_ROM_QUERIES, not asked */
	for (size_t c = 0; c < m->ncases; c++) {
		char *key = rom_key(&m->cases[c]);
		size_t seen = 0;
		while (seen < nasked && strcmp(asked[seen], key))
			seen++;
		/* each query starts a qemu: hundreds of device sets would delay the first boot by
		 * minutes */
		if (seen < nasked || nasked == MAX_ROM_QUERIES) {
			set_of[c] = seen;
			others |= seen == MAX_ROM_QUERIES;
			free(key);
			continue;
		}
		struct cm_rom *roms;
		size_t n;
		struct cm_error err = { 0 };
		asked = cm_xrealloc(asked, (nasked + 1) * sizeof(char *));
		loads = cm_xrealloc(loads, (nasked + 1) * sizeof(char *));
		asked[nasked] = key;
		int rc = case_roms(&m->cases[c], key, &roms, &n, &err);
		loads[nasked] = rc ? cm_xasprintf("not known: %s", err.msg) : hash_roms(ds, roms, n);
		if (!rc)
			cm_roms_free(roms, n);
		set_of[c] = nasked++;
	}
	for (size_t s = 0; s < nasked; s++)
		name_set(ds, m, set_of, s, loads[s], NULL);
	if (others) /* named after every set asked: "every other case" is exact */
		name_set(ds, m, set_of, MAX_ROM_QUERIES, NOT_ASKED, "every other case");
	for (size_t i = 0; i < nasked; i++)
		free(asked[i]), free(loads[i]);
	free(asked), free(loads), free(set_of);
}

/* What a later comparison needs to say exactly what differs between two runs. */
void cm_header_host(struct cm_dataset *ds, const struct cm_matrix *m, const char *qemu)
{
	char buf[512];
	FILE *f = fopen("/proc/cpuinfo", "r");
	while (f && fgets(buf, sizeof(buf), f))
		if (!strncmp(buf, "model name", 10)) {
			char *v = strchr(buf, ':');
			if (v) {
				v += 1 + strspn(v + 1, " \t");
				v[strcspn(v, "\n")] = 0;
				cm_dataset_meta(ds, CM_HDR(CPU), v);
			}
			break;
		}
	if (f)
		fclose(f);
	struct utsname un;
	uname(&un);
	snprintf(buf, sizeof(buf), "%s (%s %s)", un.nodename, un.sysname, un.release);
	cm_dataset_meta(ds, CM_HDR(HOST), buf);
	char *id = cm_file_identity(qemu), *ver = id ? cm_fact_get("qemu --version", id) : NULL;
	if (!ver) {
		char *version_argv[] = { (char *)qemu, "--version", NULL };
		if ((ver = cm_proc_first_line(version_argv, CM_HELPER_TIMEOUT_MS)) && id && *ver)
			cm_fact_put("qemu --version", id, ver);
	}
	cm_dataset_meta(ds, CM_HDR(QEMU), ver);
	free(ver), free(id);
	snprintf(buf, sizeof(buf), "%ld online", sysconf(_SC_NPROCESSORS_ONLN));
	cm_dataset_meta(ds, CM_HDR(CPUS), buf);
	meta_file(ds, CM_HDR(GOVERNOR), "/sys/devices/system/cpu/cpu0/cpufreq/scaling_governor");
	meta_file(ds, CM_HDR(TURBO), "/sys/devices/system/cpu/cpufreq/boost");
	meta_file(ds, CM_HDR(NO_TURBO), "/sys/devices/system/cpu/intel_pstate/no_turbo");
	meta_file(ds, CM_HDR(SMT), "/sys/devices/system/cpu/smt/control");
	meta_file(ds, CM_HDR(THP), "/sys/kernel/mm/transparent_hugepage/enabled");
	char when[64];
	bool tuned = cm_host_tuned(when, sizeof(when));
	cm_dataset_meta(ds, CM_HDR(HOST_TUNED), tuned ? "yes (coldmark host tune)" : "no");
	cm_dataset_meta(ds, CM_HDR(QEMU_CPUS), m->pin ? m->pin : "not pinned");
	meta_hash(ds, CM_HDR(QEMU_SHA), qemu);
	meta_hash(ds, CM_HDR(KERNEL_SHA), m->kernel);
	meta_hash(ds, CM_HDR(INITRD_SHA), m->initrd);
	meta_hash(ds, CM_HDR(DISK_SHA), m->disk);
	for (size_t a = 0; a < m->naxes; a++) /* the guests axis values carry, each by its value */
		for (size_t i = 0; i < m->axes[a].nvalues; i++) {
			const struct cm_guest *g = m->axes[a].values[i].guest;
			const char *file[] = { g ? g->kernel : NULL, g ? g->initrd : NULL,
					       g ? g->disk : NULL };
			const char *hdr[] = { CM_HDR(KERNEL_SHA), CM_HDR(INITRD_SHA), CM_HDR(DISK_SHA) };
			for (size_t k = 0; k < 3; k++) {
				if (!file[k])
					continue;
				char *key = cm_xasprintf("%s (%s=%s)", hdr[k], m->axes[a].name,
							 m->axes[a].values[i].label);
				meta_hash(ds, key, file[k]);
				free(key);
			}
		}
	capture_firmware(ds, m);
}


void cm_header_load(char *buf, size_t n)
{
	char *avg = read_line("/proc/loadavg");
	double one = 0;
	int running = 0, total = 0;
	if (avg && sscanf(avg, "%lf %*f %*f %d/%d", &one, &running, &total) >= 1)
		snprintf(buf, n, "load %.2f, %d running", one, running > 0 ? running - 1 : 0);
	else
		snprintf(buf, n, "load unknown");
	free(avg);
}

/* ---- the plan beyond its counts, and what a resume may not change ---------------------------- */

#define CASE_KEY "command line sha256 ("

/* "up on the console 'login:'" as before regexes and counts (a resumed run's header is
 * unchanged), "up on the console /^lo+gin/ (match 2) for firmware=qboot" with them. */
static void console_marker(struct cm_buf *b, const struct cm_console_marker *cm, const char *axis,
			   const char *label)
{
	cm_buf_printf(b, cm->regex ? "%s%s on the console /%s/" : "%s%s on the console '%s'",
		      b->len ? ", " : "", cm->name, cm->match);
	if (cm->nth > 1)
		cm_buf_printf(b, " (match %lld)", (long long)cm->nth);
	if (axis)
		cm_buf_printf(b, " for %s=%s", axis, label);
}

/* What the run boots and measures besides its counts (those are the plan item): the qemu
 * options every case shares, the phases and the markers they are made of and the store the
 * boots go to; each case's exact command line (by its hash) is in plan.csv beside it
 * (cm_header_case_plan: a matrix may hold 10^5 cases, a header row each would swamp the
 * report). A resumed run is refused when any of these differs (cm_header_resume_diffs). */
void cm_header_plan(struct cm_dataset *ds, const struct cm_matrix *m, const char *store)
{
	struct cm_buf b = { 0 };
	for (size_t i = 0; i < m->nbase_args; i++) {
		if (i)
			cm_buf_puts(&b, " ");
		cm_shell_quote(&b, m->base_args[i]);
	}
	cm_dataset_meta(ds, CM_HDR(BASE_ARGS), b.s ? b.s : "");
	cm_buf_free(&b);
	for (size_t p = 0; p < m->nphases; p++)
		cm_buf_printf(&b, "%s%s: %s -> %s", p ? ", " : "", m->phases[p].name, m->phases[p].from,
			      m->phases[p].to);
	cm_dataset_meta(ds, CM_HDR(PHASES), b.s ? b.s : "");
	cm_buf_free(&b);
	for (size_t k = 0; k < m->nmarkers; k++)
		cm_buf_printf(&b, "%s%s 0x%x=0x%x", k ? ", " : "", m->markers[k].name,
			      m->markers[k].port, m->markers[k].value);
	for (size_t k = 0; k < m->nconsole; k++)
		console_marker(&b, &m->console[k], NULL, NULL);
	for (size_t a = 0; a < m->naxes; a++)
		for (size_t v = 0; v < m->axes[a].nvalues; v++)
			for (size_t k = 0; k < m->axes[a].values[v].nconsole; k++)
				console_marker(&b, &m->axes[a].values[v].console[k], m->axes[a].name,
					       m->axes[a].values[v].label);
	if (m->end_marker)
		cm_buf_printf(&b, "%send %s", b.len ? "; " : "", m->end_marker);
	cm_dataset_meta(ds, CM_HDR(MARKERS), b.s ? b.s : "");
	cm_buf_free(&b);
	/* each axis's values in the matrix's order (case ids sort them otherwise): compare
	 * --axis takes its default base from here */
	for (size_t a = 0; a < m->naxes; a++) {
		for (size_t v = 0; v < m->axes[a].nvalues; v++)
			cm_buf_printf(&b, "%s%s", v ? ", " : "", m->axes[a].values[v].label);
		char *k = cm_xasprintf(CM_AXIS_VALUES_KEY "%s)", m->axes[a].name);
		cm_dataset_meta(ds, k, b.s ? b.s : "");
		free(k);
		cm_buf_free(&b);
	}
	if (store)
		cm_dataset_meta(ds, CM_HDR(STORE), store);
}

static char *case_hash(const struct cm_case *c)
{
	char *cl = cm_case_cmdline(c), hex[65];
	struct cm_sha256 h;
	cm_sha256_init(&h);
	cm_sha256_update(&h, cl, strlen(cl));
	cm_sha256_hex(&h, hex);
	free(cl);
	return cm_xstrdup(hex);
}

char *cm_header_case_plan(const struct cm_matrix *m)
{
	char *text = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&text, &len);
	fputs("case,command line sha256\n", f);
	for (size_t c = 0; c < m->ncases; c++) {
		char *hex = case_hash(&m->cases[c]);
		cm_csv_field(f, m->cases[c].id);
		fprintf(f, ",%s\n", hex);
		free(hex);
	}
	fclose(f);
	return text;
}

void cm_header_case_hashes(struct cm_dataset *ds, const struct cm_matrix *m)
{
	for (size_t c = 0; c < m->ncases; c++) {
		char *hex = case_hash(&m->cases[c]), *k = cm_xasprintf(CASE_KEY "%s)", m->cases[c].id);
		cm_dataset_meta(ds, k, hex);
		free(k), free(hex);
	}
}

int cm_header_case_plan_read(const char *path, struct cm_dataset *ds)
{
	struct cm_dataset rows;
	cm_dataset_init(&rows, NULL, 0);
	int rc = cm_meta_read(path, &rows);
	for (size_t i = 0; !rc && i < rows.nmeta; i++) {
		char *k = cm_xasprintf(CASE_KEY "%s)", rows.meta_keys[i]);
		cm_dataset_meta(ds, k, rows.meta_vals[i]);
		free(k);
	}
	cm_dataset_free(&rows);
	return rc;
}

static void diff(char ***out, size_t *n, char *line)
{
	*out = cm_xrealloc(*out, (*n + 1) * sizeof(char *));
	(*out)[(*n)++] = line;
}

/* "HEX  path" items by their hash: a guest moved elsewhere is the same guest */
static bool same_hash(const char *x, const char *y)
{
	return x && y && strcspn(x, " ") == strcspn(y, " ") && !strncmp(x, y, strcspn(x, " "));
}

static bool has_prefix(const struct cm_dataset *ds, const char *prefix)
{
	for (size_t i = 0; i < ds->nmeta; i++)
		if (!strncmp(ds->meta_keys[i], prefix, strlen(prefix)))
			return true;
	return false;
}

/* Items keyed "PREFIX NAME)" on either side: added, removed or changed (by their hash). */
static void keyed_diffs(const struct cm_dataset *old, const struct cm_dataset *now,
			const char *prefix, const char *what, char ***out, size_t *n)
{
	size_t pl = strlen(prefix);
	if (!has_prefix(old, prefix) || !has_prefix(now, prefix))
		return; /* a run of a coldmark that did not record them: nothing to go by */
	for (int side = 0; side < 2; side++) {
		const struct cm_dataset *one = side ? now : old, *other = side ? old : now;
		for (size_t i = 0; i < one->nmeta; i++) {
			const char *k = one->meta_keys[i], *y = cm_dataset_get_meta(other, k);
			int len = (int)(strlen(k) - pl - 1);
			if (strncmp(k, prefix, pl))
				continue;
			if (!y)
				diff(out, n, cm_xasprintf("%s '%.*s' %s", what, len, k + pl,
							  side ? "is not in the run's plan (added)"
							       : "is in the run's plan, not in the matrix (removed)"));
			else if (!side && !same_hash(one->meta_vals[i], y))
				diff(out, n, cm_xasprintf("%s '%.*s' differs: %s", what, len, k + pl,
							  !strcmp(prefix, CASE_KEY)
								  ? "its qemu command line is another (base_args, "
								    "its axis values or a guest path)"
								  : "another file"));
		}
	}
}

size_t cm_header_resume_diffs(const struct cm_dataset *old, const struct cm_dataset *now,
			      const struct cm_dataset *old_plan, const struct cm_dataset *now_plan,
			      char ***out)
{
	static const enum cm_header_key texts[] = { CM_HDR_BASE_ARGS, CM_HDR_PHASES, CM_HDR_MARKERS },
					hashes[] = { CM_HDR_QEMU_SHA, CM_HDR_KERNEL_SHA, CM_HDR_INITRD_SHA,
						     CM_HDR_DISK_SHA };
	size_t n = 0;
	*out = NULL;
	for (size_t i = 0; i < sizeof(texts) / sizeof(texts[0]); i++) {
		const char *name = cm_header_keys[texts[i]].name, *x = cm_dataset_get_meta(old, name),
			   *y = cm_dataset_get_meta(now, name);
		if (x && strcmp(x, y ? y : ""))
			diff(out, &n, cm_xasprintf("%s: '%s' in the run, '%s' in the matrix", name, x,
						   y ? y : ""));
	}
	for (size_t i = 0; i < sizeof(hashes) / sizeof(hashes[0]); i++) {
		const char *name = cm_header_keys[hashes[i]].name, *x = cm_dataset_get_meta(old, name),
			   *y = cm_dataset_get_meta(now, name);
		if ((x || y) && !same_hash(x, y))
			diff(out, &n, cm_xasprintf("%s: '%s' in the run, '%s' now", name, x ? x : "none",
						   y ? y : "none"));
	}
	keyed_diffs(old, now, "firmware sha256 (", "firmware", out, &n);
	keyed_diffs(old_plan, now_plan, CASE_KEY, "case", out, &n);
	const char *x = cm_dataset_get_meta(old, CM_HDR(STORE)), *y = cm_dataset_get_meta(now, CM_HDR(STORE));
	if (x && y && strcmp(x, y))
		diff(out, &n, cm_xasprintf("store: the run's boots are in %s, this resume names %s: "
					   "refused (one run's boots in two stores would split it); resume "
					   "with --db naming the run's store",
					   x, y));
	return n;
}
