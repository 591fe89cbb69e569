/* The report writers' table: --format names, their files, and writing them all into a folder. */
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "coldmark/profile.h"
#include "coldmark/report.h"
#include "frags.h"

/* ---- all formats ----------------------------------------------------------------------------- */

static FILE *open_out(const char *dir, const char *name, struct cm_diags *d, char **path)
{
	*path = cm_xasprintf("%s/%s.tmp", dir, name);
	/* a stale or planted temporary goes by its name (never its target), and the new one is
	 * created afresh, never through a link */
	unlink(*path);
	int fd = open(*path, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0644);
	FILE *f = fd >= 0 ? fdopen(fd, "w") : NULL;
	if (fd >= 0 && !f)
		close(fd);
	if (f) /* a report of 10^4 cases is megabytes: written in 1 MiB writes, not 4 KiB ones */
		setvbuf(f, NULL, _IOFBF, 1 << 20);
	if (!f)
		cm_diags_add(d, CM_SEV_ERROR, *path, 0, 0, "cannot write: %s", strerror(errno));
	return f;
}

/* Written to a temporary name and renamed: a reader never sees half a report. */
static int close_out(FILE *f, char *tmp, bool sync, struct cm_diags *d)
{
	int rc = 0;
	/* synced before the rename: a crash leaves the old report or the new, never half (a
	 * run's rewrites as its cases complete are not: frags.h) */
	bool bad = fflush(f) || (sync && fdatasync(fileno(f))) || ferror(f);
	if (bad | fclose(f)) {
		cm_diags_add(d, CM_SEV_ERROR, tmp, 0, 0, "write failed: %s", strerror(errno));
		unlink(tmp);
		rc = CM_ERR(CM_EIO);
	} else {
		char *final = cm_xstrdup(tmp);
		final[strlen(final) - 4] = 0;
		if (rename(tmp, final))
			rc = CM_ERR(CM_EIO);
		free(final);
	}
	free(tmp);
	return rc;
}

/* The report writers: --format names, their files and functions. Validation, the help text
 * and the "reports:" line all come from this table. */
static void write_csv(const struct cm_report *r, FILE *f) { cm_report_summary_csv(r, f); }
static void write_json(const struct cm_report *r, FILE *f) { cm_report_json(r, f); }
const struct cm_writer cm_writers[] = {
	{ "csv", "summary.csv", write_csv },
	{ "md", "report.md", cm_report_markdown },
	{ "json", "report.json", write_json },
	{ "html", "report.html", cm_report_html },
};
const size_t cm_nwriters = sizeof(cm_writers) / sizeof(cm_writers[0]);

int cm_report_check_formats(const char *formats, struct cm_error *err)
{
	const char *s = formats;
	do {
		size_t len = strcspn(s, ",");
		bool known = false;
		for (size_t i = 0; i < cm_nwriters && !known; i++)
			known = strlen(cm_writers[i].name) == len && !strncmp(cm_writers[i].name, s, len);
		if (!known) {
			struct cm_buf b = { 0 };
			for (size_t i = 0; i < cm_nwriters; i++)
				cm_buf_printf(&b, "%s%s", i ? ", " : "", cm_writers[i].name);
			cm_error_set(err, CM_ERR(CM_EUSAGE), "unknown report format '%.*s' (known: %s)", (int)len, s,
				 b.s);
			cm_buf_free(&b);
			return CM_ERR(CM_EUSAGE);
		}
		s += len;
	} while (*s++);
	return 0;
}

char *cm_report_files(const char *formats)
{
	struct cm_buf b = { 0 };
	for (size_t i = 0; i < cm_nwriters; i++)
		if (cm_list_has(formats, cm_writers[i].name))
			cm_buf_printf(&b, "%s%s", b.len ? "," : "", cm_writers[i].file);
	return b.s ? cm_buf_steal(&b) : cm_xstrdup("");
}

bool cm_report_waves(const struct cm_report *r, const char *dir, struct cm_wave_summary *ws,
		     struct cm_diags *d)
{
	memset(ws, 0, sizeof(*ws));
	if (!r->ds->waves)
		return false;
	char *wp = cm_xasprintf("%s/waves.csv", dir);
	double *span = NULL;
	size_t nspan = 0;
	struct cm_error err = { 0 };
	if (!access(wp, R_OK) && cm_waves_makespans(wp, &span, &nspan, &err))
		cm_diags_add(d, CM_SEV_WARNING, NULL, 0, 0, "%s (no makespans in the reports)", err.msg);
	cm_wave_summary_build(r->ds, span, nspan, r, ws);
	free(span), free(wp);
	return true;
}

int cm_report_write(const struct cm_report *r, const char *outdir, const char *formats,
		    bool with_samples, struct cm_diags *d)
{
	struct cm_error err = { 0 };
	if (cm_report_check_formats(formats, &err)) {
		cm_diags_add(d, CM_SEV_ERROR, NULL, 0, 0, "%s", err.msg);
		return CM_ERR(CM_EUSAGE);
	}
	int rc = 0;
	char *path;
	FILE *f;
	bool sync = !cm_frag_unsynced(r);
	cm_mkdirs(outdir);
	if (with_samples && (f = open_out(outdir, "samples.csv", d, &path))) {
		cm_samples_write_header(f, r->ds);
		for (size_t i = 0; i < r->ds->n; i++)
			cm_samples_write_row(f, r->ds, &r->ds->rows[i]);
		rc |= close_out(f, path, sync, d);
		/* the header beside them, the same way: a temporary name, then renamed */
		if (r->ds->nmeta && (f = open_out(outdir, "meta.csv", d, &path))) {
			char *text = cm_meta_format(r->ds);
			fputs(text, f);
			free(text);
			rc |= close_out(f, path, sync, d);
		} else if (r->ds->nmeta) {
			free(path);
			rc = CM_ERR(CM_EIO);
		}
	} else if (with_samples) {
		free(path);
		rc = CM_ERR(CM_EIO);
	}
	/* issue 28: the run folder's profile.csv (run --profile) gives "where the time went" */
	struct cm_report rp = *r;
	struct cm_profile_data pd = { 0 };
	struct cm_prof_summary ps = { 0 };
	char *prof = cm_xasprintf("%s/profile.csv", outdir);
	if (!r->profile && !access(prof, R_OK)) {
		if (cm_profile_load(prof, &pd, &err))
			cm_diags_add(d, CM_SEV_WARNING, NULL, 0, 0, "%s (no profile in the reports)",
				     err.msg);
		cm_prof_summary_build(&pd, &ps);
		rp.profile = &ps;
	}
	free(prof);
	/* issue 29: a run in waves, per level (the caller's, or with the makespans of a
	 * waves.csv here) */
	struct cm_wave_summary ws = { 0 };
	if (!r->waves && cm_report_waves(r, outdir, &ws, d))
		rp.waves = &ws;
	for (size_t i = 0; i < cm_nwriters; i++) {
		if (!cm_list_has(formats, cm_writers[i].name))
			continue;
		if ((f = open_out(outdir, cm_writers[i].file, d, &path))) {
			cm_writers[i].write(&rp, f);
			rc |= close_out(f, path, sync, d);
		} else {
			free(path);
			rc = CM_ERR(CM_EIO);
		}
	}
	cm_prof_summary_free(&ps);
	cm_wave_summary_free(&ws);
	cm_profile_data_free(&pd);
	return rc ? CM_ERR(CM_EIO) : 0;
}
