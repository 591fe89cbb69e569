/* coldmark bisect: from "it regressed between two releases" to the commit that did it. Each
 * step is an interleaved A/B/C experiment (the candidate booted with the good and the bad
 * builds in the same shuffled sessions) judged with the session-level comparison model, not
 * one noisy run: a step judged on one boot is a coin toss at a 3% change. */
#define _GNU_SOURCE
#include <dirent.h>
#include <jansson.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "bisect.h"
#include "cli.h"
#include "coldmark/matrix.h"

static const char *const verdict_names[] = { "like good", "like bad", "between",
					     "inconclusive", "untestable", "build failed",
					     "endpoints" };

struct bs_step {
	size_t rev;
	size_t good, bad; /* the builds it was booted with: the last known good and first bad */
	enum bs_verdict v;
	struct bs_cmp vs_good, vs_bad; /* the candidate against either (ends: bad vs good) */
	struct bs_est pos; /* the candidate's position, 0 like good .. 1 like bad, with its CI */
	int sessions;
	size_t boots;
};

/* A change found on the way beside the one the search followed (a "between" candidate). */
struct bs_other {
	size_t from, to; /* it lies in revs (from, to] */
	double rel;
};

struct bs_run {
	struct bs b;
	struct bs_step *steps;
	size_t nsteps, cap;
	struct bs_other *others;
	size_t nothers, ocap;
	int dir; /* +1 the bad end is slower, -1 faster */
	size_t lo, hi; /* last known good and first known bad */
	struct bs_cmp answer; /* the first bad commit against its parent */
	const char *answer_from;
	const char *why_not; /* not found: why */
};

static int usage(const char *fmt, const char *what)
{
	fprintf(stderr, "coldmark bisect: ");
	fprintf(stderr, fmt, what);
	fprintf(stderr, "\n");
	return CM_EXIT_USAGE;
}

static int parse_int(const struct cm_cli *cli, const char *name, int def, int *out)
{
	const char *v = cm_cli_get(cli, name);
	char *end = "";
	*out = def;
	if (v && (*out = (int)strtol(v, &end, 10), end == v || *end || *out < 1 || *out > 1000)) {
		fprintf(stderr, "coldmark bisect: --%s: a whole number from 1 to 1000, not '%s'\n",
			name, v);
		return CM_EXIT_USAGE;
	}
	return 0;
}

static int parse_opts(const struct cm_cli *cli, struct bs *b)
{
	const char *req[] = { "repo", "good", "bad", "build" };
	for (int i = 0; i < 4; i++)
		if (!cm_cli_get(cli, req[i]))
			return usage("--%s is required", req[i]);
	b->matrix = cli->pos[0];
	b->repo = cm_cli_get(cli, "repo"), b->program = cm_cli_get(cli, "build");
	b->phase = cm_cli_get(cli, "phase") ? cm_cli_get(cli, "phase") : "total";
	b->outdir = cm_cli_get(cli, "resume") ? cm_cli_get(cli, "resume")
		  : cm_cli_get(cli, "output") ? cm_cli_get(cli, "output") : "coldmark-out/bisect";
	b->db = cm_cli_get(cli, "db");
	const char *f = cm_cli_get(cli, "format");
	if (f && strcmp(f, "text") && strcmp(f, "json"))
		return usage("--format: text or json, not '%s'", f);
	b->json = f && !strcmp(f, "json");
	/* the first look after 2 sessions (one cannot show how sessions differ: at 1, under heavy
	 * contention, the bootstrap's CI was too narrow), then one after every session: most steps
	 * are clear at 2-3, and one session more is what an unclear one needs */
	if (parse_int(cli, "sessions", 2, &b->sessions) ||
	    parse_int(cli, "max-sessions", b->sessions > 8 ? b->sessions : 8, &b->max_sessions))
		return CM_EXIT_USAGE;
	if (b->max_sessions < b->sessions)
		b->max_sessions = b->sessions;
	b->judge = (struct cm_judge){ CM_DEFAULT_ALPHA, 0.02, 0 };
	const char *a = cm_cli_get(cli, "alpha"), *t = cm_cli_get(cli, "threshold");
	char *end = "";
	if (a && (b->judge.alpha = strtod(a, &end), end == a || *end ||
		  !(b->judge.alpha > 0 && b->judge.alpha < 1)))
		return usage("--alpha '%s': a number in (0, 1)", a);
	if (t && (b->judge.thr = strtod(t, &end) / 100, end == t || *end || !(b->judge.thr >= 0)))
		return usage("--threshold '%s': a percentage of 0 or more", t);
	return 0;
}

/* An OUTDIR that holds anything is a bisect to --resume, never one to write over. */
static int check_outdir(const struct cm_cli *cli, struct bs *b)
{
	DIR *d = opendir(b->outdir);
	bool full = false;
	for (struct dirent *e; d && (e = readdir(d));)
		full |= strcmp(e->d_name, ".") && strcmp(e->d_name, "..");
	if (d)
		closedir(d);
	if (full && !cm_cli_get(cli, "resume"))
		return usage("%s holds an earlier bisect: --resume it, or choose another -o", b->outdir);
	char *p = cm_xstrdup(b->outdir);
	for (char *s = strchr(p + 1, '/'); s; s = strchr(s + 1, '/'))
		*s = 0, mkdir(p, 0755), *s = '/';
	struct stat st;
	int rc = mkdir(p, 0755) && (stat(p, &st) || !S_ISDIR(st.st_mode));
	free(p);
	if (rc)
		return usage("cannot make the output folder %s", b->outdir);
	/* absolute: git makes the worktrees relative to the repository, not to us */
	char *abs = realpath(b->outdir, NULL);
	if (!abs)
		return usage("cannot resolve the output folder %s", b->outdir);
	b->outdir = b->outdir_abs = abs;
	return 0;
}

/* What a bisect's verdicts depend on, kept in OUTDIR/bisect.plan: --resume with other ends,
 * phase or statistics would mix steps judged two ways, so it is refused. */
static int check_plan(const struct cm_cli *cli, const struct bs *b)
{
	char *want = cm_xasprintf("good %s\nbad %s\nphase %s\nsessions %d\nmax-sessions %d\n"
				  "threshold %.17g\nalpha %.17g\n", b->revs[0].sha,
				  b->revs[b->nrevs - 1].sha, b->phase, b->sessions, b->max_sessions,
				  b->judge.thr, b->judge.alpha),
	     *path = cm_xasprintf("%s/bisect.plan", b->outdir), *have;
	size_t len;
	int rc = 0;
	if (cm_cli_get(cli, "resume") && (have = cm_read_file(path, &len))) {
		if (strcmp(have, want)) {
			fprintf(stderr, "coldmark bisect: --resume %s: that bisect was\n%sthis one is\n%s"
					"(give the same --good, --bad, --phase and statistics)\n",
				b->outdir, have, want);
			rc = CM_EXIT_USAGE;
		}
		free(have);
	} else {
		FILE *f = fopen(path, "w");
		bool failed = !f || fputs(want, f) < 0;
		if (f && fclose(f))
			failed = true;
		if (failed) {
			fprintf(stderr, "coldmark bisect: cannot write %s\n", path);
			rc = CM_EXIT_OUTPUT;
		}
	}
	free(want), free(path);
	return rc;
}

static void add_rev(struct bs *b, const char *sha, size_t *cap)
{
	CM_PUSH(b->revs, b->nrevs, *cap);
	struct bs_rev *r = &b->revs[b->nrevs++];
	memset(r, 0, sizeof(*r));
	snprintf(r->sha, sizeof(r->sha), "%s", sha);
	snprintf(r->name, sizeof(r->name), "%.12s", sha);
}

/* good, then every first-parent commit after it up to bad. 0, or a usage error saying why. */
static int resolve_range(struct bs *b, const char *good, const char *bad)
{
	char *g = NULL, *x = NULL, *list = NULL;
	int rc = CM_EXIT_USAGE;
	const char *rg[] = { "rev-parse", "--verify", "--end-of-options", NULL, NULL };
	rg[3] = cm_xasprintf("%s^{commit}", good);
	if (bs_git(b, &g, rg)) {
		fprintf(stderr, "coldmark bisect: --good %s: not a commit of %s: %s\n", good, b->repo, g);
		goto out;
	}
	free((char *)rg[3]);
	rg[3] = cm_xasprintf("%s^{commit}", bad);
	if (bs_git(b, &x, rg)) {
		fprintf(stderr, "coldmark bisect: --bad %s: not a commit of %s: %s\n", bad, b->repo, x);
		goto out;
	}
	const char *anc[] = { "merge-base", "--is-ancestor", g, x, NULL };
	char *o;
	int not_anc = bs_git(b, &o, anc);
	free(o);
	const char *rl[] = { "rev-list", "--first-parent", "--reverse", NULL, NULL };
	rl[3] = cm_xasprintf("%s..%s", g, x);
	int bad_list = bs_git(b, &list, rl);
	free((char *)rl[3]);
	if (not_anc || bad_list || !*list) {
		fprintf(stderr, "coldmark bisect: --good %s is not an ancestor of --bad %s (or they "
				"are the same commit): no range to bisect\n", good, bad);
		goto out;
	}
	size_t cap = 0;
	add_rev(b, g, &cap);
	for (char *save, *line = strtok_r(list, "\n", &save); line; line = strtok_r(NULL, "\n", &save))
		add_rev(b, line, &cap);
	rc = 0;
out:
	free((char *)rg[3]);
	free(g), free(x), free(list);
	return rc;
}

/* The matrix with the two ends as its builds: its errors (and an unknown --phase) are usage
 * errors before anything is built. */
static int check_matrix(struct bs *b)
{
	char *names[2] = { b->revs[0].name, b->revs[b->nrevs - 1].name };
	char *dirs[2] = { bs_build_dir(b, 0), bs_build_dir(b, b->nrevs - 1) };
	struct cm_builds builds = { names, dirs, 2 };
	cm_cli_set_builds(&builds);
	struct cm_matrix *m = cm_cli_load_matrix(b->matrix);
	cm_cli_set_builds(NULL);
	int rc = m ? 0 : CM_EXIT_USAGE;
	if (m && !cm_matrix_has_phase(m, b->phase))
		rc = usage("--phase %s: the matrix has no such phase", b->phase);
	cm_matrix_free(m);
	free(dirs[0]), free(dirs[1]);
	return rc;
}

static void add_step(struct bs_run *r, struct bs_step s)
{
	CM_PUSH(r->steps, r->nsteps, r->cap);
	r->steps[r->nsteps++] = s;
}

/* One candidate: built, then booted with the last known good and the first known bad builds
 * (after a "between" those are no longer the ends: a candidate is judged against its nearest
 * neighbours) in --sessions sessions, then one more at a time while its CI straddles the
 * decision, up to --max-sessions; --alpha is spent over those looks (bisect_decide.c). 0, or
 * the exit status of a run that could not go on. */
static int test_rev(struct bs_run *r, size_t i, struct bs_step *s)
{
	struct bs *b = &r->b;
	*s = (struct bs_step){ .rev = i, .good = r->lo, .bad = r->hi };
	int rc = bs_build_rev(b, i);
	if (rc || b->revs[i].build != BS_BUILT) {
		s->v = b->revs[i].build == BS_UNTESTABLE ? V_UNTESTABLE : V_FAILED;
		return rc;
	}
	size_t idx[3] = { r->lo, r->hi, i };
	for (s->sessions = b->sessions;; s->sessions++) {
		struct bs_obs o;
		struct bs_loc l;
		if ((rc = bs_experiment(b, b->revs[i].name, idx, 3, s->sessions, &o)))
			return rc;
		bs_locate(&o, bs_look_alpha(b), &l);
		bs_obs_free(&o);
		s->boots = b->step_boots;
		s->v = bs_classify(&l, r->dir, b->judge.thr, s->sessions >= b->max_sessions);
		s->pos = l.pos;
		if (l.ok) {
			bs_est_cmp(&l.x, b->judge.thr, (size_t)s->sessions, &s->vs_good);
			bs_est_cmp(&l.y, b->judge.thr, (size_t)s->sessions, &s->vs_bad);
		}
		if (s->v != V_INCONCLUSIVE || s->sessions >= b->max_sessions)
			break;
		fprintf(stderr, "coldmark bisect: %s inconclusive after %d sessions (position %.2f "
				"[%.2f, %.2f]): one more\n", b->revs[i].name, s->sessions, l.pos.v,
			l.pos.lo, l.pos.hi);
	}
	b->boots += s->boots;
	return 0;
}

/* Both ends built and apart beyond --threshold on the phase; 0 to go on, 1 when there is
 * nothing to bisect, or a run's exit status. */
static int endpoints(struct bs_run *r)
{
	struct bs *b = &r->b;
	size_t bad = b->nrevs - 1;
	int rc;
	if ((rc = bs_build_rev(b, 0)) || (rc = bs_build_rev(b, bad)))
		return rc;
	for (size_t e = 0; e <= bad; e += bad)
		if (b->revs[e].build != BS_BUILT) {
			fprintf(stderr, "coldmark bisect: the %s end %s cannot be built (exit %d)%s%s\n",
				e ? "bad" : "good", b->revs[e].name, b->revs[e].build_status,
				*b->revs[e].tail ? ":\n" : "", b->revs[e].tail);
			r->why_not = "an end cannot be built";
			return CM_EXIT_FAILED;
		}
	size_t idx[2] = { 0, bad };
	struct bs_step s = { .rev = bad, .good = 0, .bad = bad, .v = V_ENDS };
	/* apart beyond --threshold: bisect; the whole CI within it: nothing to bisect; neither:
	 * one more session, as for a step, up to --max-sessions before calling it nothing */
	int ends = 0;
	for (s.sessions = b->sessions;; s.sessions++) {
		struct bs_obs o;
		struct bs_loc l;
		if ((rc = bs_experiment(b, "endpoints", idx, 2, s.sessions, &o)))
			return rc;
		bs_locate(&o, bs_look_alpha(b), &l);
		bs_obs_free(&o);
		s.boots = b->step_boots;
		ends = bs_ends(&l, b->judge.thr);
		if (l.ok)
			bs_est_cmp(&l.d, b->judge.thr, (size_t)s.sessions, &s.vs_good);
		if (ends || s.sessions >= b->max_sessions)
			break;
		fprintf(stderr, "coldmark bisect: the ends are neither apart nor alike after %d "
				"sessions: one more\n", s.sessions);
	}
	b->boots += s.boots;
	add_step(r, s);
	if (ends != 1 && ends != -1) {
		r->why_not = "nothing to bisect: the good and bad builds do not differ beyond "
			     "--threshold on the phase";
		return CM_EXIT_FAILED;
	}
	r->dir = ends;
	return 0;
}

/* The untested candidate nearest the middle of (lo, hi), or 0 when every one is out. */
static size_t pick(const struct bs_run *r, const bool *out)
{
	size_t mid = (r->lo + r->hi) / 2, best = 0;
	for (size_t d = 0; d < r->hi - r->lo && !best; d++) {
		if (mid >= d && mid - d > r->lo && !out[mid - d])
			best = mid - d;
		else if (mid + d < r->hi && mid + d > r->lo && !out[mid + d])
			best = mid + d;
	}
	return best;
}

/* A "between" candidate: the search follows the larger of its two steps, the other is kept. */
static void between(struct bs_run *r, const struct bs_step *s)
{
	double to_good = fabs(log1p(s->vs_good.rel)), to_bad = fabs(log1p(s->vs_bad.rel));
	CM_PUSH(r->others, r->nothers, r->ocap);
	if (to_good >= to_bad) {
		r->others[r->nothers++] = (struct bs_other){ s->rev, r->hi, expm1(-log1p(s->vs_bad.rel)) };
		r->hi = s->rev;
	} else {
		r->others[r->nothers++] = (struct bs_other){ r->lo, s->rev, s->vs_good.rel };
		r->lo = s->rev;
	}
}

static int search(struct bs_run *r)
{
	struct bs *b = &r->b;
	bool *out = cm_xcalloc(b->nrevs, sizeof(bool));
	int rc = 0;
	r->lo = 0, r->hi = b->nrevs - 1;
	for (size_t i; !rc && r->hi - r->lo > 1 && (i = pick(r, out));) {
		struct bs_step s;
		if ((rc = test_rev(r, i, &s)))
			break;
		add_step(r, s);
		fprintf(stderr, "coldmark bisect: %s %s\n", b->revs[i].name, verdict_names[s.v]);
		if (s.v == V_GOOD)
			r->lo = i;
		else if (s.v == V_BAD)
			r->hi = i;
		else if (s.v == V_BETWEEN)
			between(r, &s);
		else
			out[i] = true;
	}
	free(out);
	return rc;
}

/* The first bad commit against its parent: from the step that measured exactly that pair,
 * or one more A/B of the two builds (cached: no build). 0, 1 not found, or a run's status. */
static int answer(struct bs_run *r)
{
	struct bs *b = &r->b;
	if (r->hi - r->lo > 1) {
		r->why_not = "every candidate left was skipped (untestable, a failed build or "
			     "inconclusive): the first bad commit is one of them";
		return CM_EXIT_FAILED;
	}
	for (size_t k = 0; k < r->nsteps; k++)
		if (r->steps[k].rev == r->hi && r->steps[k].good == r->lo && r->steps[k].vs_good.ok) {
			r->answer = r->steps[k].vs_good;
			r->answer_from = r->steps[k].v == V_ENDS ? "the endpoints' step" : "its own step";
			return 0;
		}
	size_t idx[2] = { r->lo, r->hi };
	char label[32];
	snprintf(label, sizeof(label), "parent-%s", b->revs[r->hi].name);
	struct bs_obs o;
	struct bs_loc l;
	int rc = bs_experiment(b, label, idx, 2, b->sessions, &o);
	if (!rc && !bs_locate(&o, b->judge.alpha / 2, &l)) /* a plain two-sided CI: no decision */
		bs_est_cmp(&l.d, b->judge.thr, (size_t)b->sessions, &r->answer);
	bs_obs_free(&o);
	b->boots += rc ? 0 : b->step_boots;
	r->answer_from = "one more A/B of the two builds";
	return rc;
}

static char *git_field(const struct bs *b, const char *sha, const char *format)
{
	char *out, *fmt = cm_xasprintf("--format=%s", format);
	const char *args[] = { "log", "-1", fmt, sha, NULL };
	bs_git(b, &out, args);
	free(fmt);
	return out;
}

static void say_cmp(FILE *f, const char *what, const struct bs_cmp *c)
{
	if (!c->ok) {
		fprintf(f, "  %s not measured", what);
		return;
	}
	fprintf(f, "  %s %+.1f%% [%+.1f%%, %+.1f%%] %s", what, 100 * c->rel, 100 * c->lo, 100 * c->hi,
		cm_verdict_names[c->verdict]);
}

static void write_text(const struct bs_run *r, const char *subject, const char *date, FILE *f)
{
	const struct bs *b = &r->b;
	if (r->why_not)
		fprintf(f, "coldmark bisect: not found: %s\n", r->why_not);
	else {
		fprintf(f, "first bad commit: %s\n  %s\n  author date %s\n", b->revs[r->hi].sha,
			subject, date);
		say_cmp(f, "change against its parent", &r->answer);
		fprintf(f, "\n    (%s on %s, parent %s; %s)\n", b->phase,
			b->judged_case ? b->judged_case : "?", b->revs[r->lo].name, r->answer_from);
	}
	if (r->why_not && r->hi - r->lo > 1 && r->nsteps)
		fprintf(f, "  the first bad commit is in %s..%s\n", b->revs[r->lo].name,
			b->revs[r->hi].name);
	fprintf(f, "path (%s, %d to %d sessions a step; position 0 like good, 1 like bad):\n",
		b->phase, b->sessions, b->max_sessions);
	for (size_t k = 0; k < r->nsteps; k++) {
		const struct bs_step *s = &r->steps[k];
		const struct bs_rev *v = &b->revs[s->rev];
		if (s->v == V_ENDS) {
			fprintf(f, "  endpoints %s..%s", b->revs[0].name, v->name);
			say_cmp(f, "bad vs good", &s->vs_good);
		} else if (s->v == V_UNTESTABLE || s->v == V_FAILED) {
			const char *last = strrchr(v->tail, '\n'); /* the whole tail is in its log */
			fprintf(f, "  %s %-12s build exit %d%s%s", v->name, verdict_names[s->v],
				v->build_status, *v->tail ? ": " : "", last ? last + 1 : v->tail);
		} else {
			char g[32], x[32];
			snprintf(g, sizeof(g), "vs good %.7s", b->revs[s->good].name);
			snprintf(x, sizeof(x), "vs bad %.7s", b->revs[s->bad].name);
			fprintf(f, "  %s %-12s", v->name, verdict_names[s->v]);
			if (s->vs_good.ok)
				fprintf(f, "  position %.2f [%.2f, %.2f]", s->pos.v, s->pos.lo,
					s->pos.hi);
			say_cmp(f, g, &s->vs_good);
			say_cmp(f, x, &s->vs_bad);
		}
		fprintf(f, "  (%d sessions, %zu boots)\n", s->sessions, s->boots);
	}
	for (size_t k = 0; k < r->nothers; k++)
		fprintf(f, "another change in %s..%s: %+.1f%% (a candidate between good and bad)\n",
			b->revs[r->others[k].from].name, b->revs[r->others[k].to].name,
			100 * r->others[k].rel);
	fprintf(f, "spent: %zu builds, %zu boots (runs tagged bisect/<sha>; folders in %s/steps)\n",
		b->builds, b->boots, b->outdir);
}

/* JSON has no NaN: a bound too few boots give is null. */
static json_t *real_or_null(double v)
{
	return isfinite(v) ? json_real(v) : json_null();
}

static json_t *cmp_json(const struct bs_cmp *c)
{
	if (!c->ok)
		return json_null();
	json_t *o = json_object();
	json_object_set_new(o, "change", real_or_null(c->rel));
	json_object_set_new(o, "change_ci_lo", real_or_null(c->lo));
	json_object_set_new(o, "change_ci_hi", real_or_null(c->hi));
	json_object_set_new(o, "p", real_or_null(c->p));
	json_object_set_new(o, "verdict", json_string(cm_verdict_names[c->verdict]));
	json_object_set_new(o, "sessions", json_integer((json_int_t)c->sessions));
	return o;
}

static json_t *steps_json(const struct bs_run *r)
{
	json_t *a = json_array();
	for (size_t k = 0; k < r->nsteps; k++) {
		const struct bs_step *s = &r->steps[k];
		const struct bs_rev *v = &r->b.revs[s->rev];
		json_t *o = json_pack("{s:s,s:s,s:i,s:i,s:o,s:o}", "sha", v->sha, "verdict",
				      verdict_names[s->v], "sessions", (json_int_t)s->sessions,
				      "boots", (json_int_t)s->boots, "vs_good", cmp_json(&s->vs_good),
				      "vs_bad", s->v == V_ENDS ? json_null() : cmp_json(&s->vs_bad));
		if (s->v == V_UNTESTABLE || s->v == V_FAILED)
			json_object_set_new(o, "build_exit", json_integer(v->build_status));
		else if (s->v != V_ENDS && s->vs_good.ok)
			json_object_set_new(o, "position", json_pack("{s:o,s:o,s:o}", "value",
				real_or_null(s->pos.v), "ci_lo", real_or_null(s->pos.lo), "ci_hi",
				real_or_null(s->pos.hi)));
		json_object_set_new(o, "good", json_string(r->b.revs[s->good].sha));
		json_object_set_new(o, "bad", json_string(r->b.revs[s->bad].sha));
		json_array_append_new(a, o);
	}
	return a;
}

static json_t *answer_json(const struct bs_run *r, const char *subject, const char *date)
{
	const struct bs *b = &r->b;
	bool found = !r->why_not;
	json_t *o = json_pack("{s:o,s:s,s:s,s:s}", "first_bad",
			      found ? json_string(b->revs[r->hi].sha) : json_null(), "phase", b->phase,
			      "case", b->judged_case ? b->judged_case : "", "good", b->revs[0].sha);
	json_object_set_new(o, "bad", json_string(b->revs[b->nrevs - 1].sha));
	if (found) {
		json_object_set_new(o, "subject", json_string(subject));
		json_object_set_new(o, "author_date", json_string(date));
		json_object_set_new(o, "parent", json_string(b->revs[r->lo].sha));
		json_object_set_new(o, "change", real_or_null(r->answer.rel));
		json_object_set_new(o, "change_ci_lo", real_or_null(r->answer.lo));
		json_object_set_new(o, "change_ci_hi", real_or_null(r->answer.hi));
		json_object_set_new(o, "change_from", json_string(r->answer_from));
	} else {
		json_object_set_new(o, "reason", json_string(r->why_not));
	}
	json_object_set_new(o, "steps", steps_json(r));
	json_t *others = json_array();
	for (size_t k = 0; k < r->nothers; k++)
		json_array_append_new(others, json_pack("{s:s,s:s,s:o}", "after",
							b->revs[r->others[k].from].sha, "up_to",
							b->revs[r->others[k].to].sha, "change",
							real_or_null(r->others[k].rel)));
	json_object_set_new(o, "other_changes", others);
	json_object_set_new(o, "builds", json_integer((json_int_t)b->builds));
	json_object_set_new(o, "boots", json_integer((json_int_t)b->boots));
	return o;
}

/* The answer on stdout (text or json) and, always, as OUTDIR/bisect.json. */
static void report(const struct bs_run *r)
{
	const struct bs *b = &r->b;
	char *subject = r->why_not ? cm_xstrdup("") : git_field(b, b->revs[r->hi].sha, "%s"),
	     *date = r->why_not ? cm_xstrdup("") : git_field(b, b->revs[r->hi].sha, "%aI");
	json_t *o = answer_json(r, subject, date);
	char *path = cm_xasprintf("%s/bisect.json", b->outdir);
	if (json_dump_file(o, path, JSON_INDENT(2)))
		fprintf(stderr, "coldmark bisect: cannot write %s\n", path);
	if (b->json) {
		json_dumpf(o, stdout, JSON_INDENT(2));
		fputc('\n', stdout);
	} else {
		write_text(r, subject, date, stdout);
	}
	json_decref(o);
	free(path), free(subject), free(date);
}

int cm_cmd_bisect(const struct cm_cli *cli)
{
	struct bs_run r;
	memset(&r, 0, sizeof(r));
	struct bs *b = &r.b;
	int rc = parse_opts(cli, b);
	if (rc)
		return rc;
	bs_stop = 0;
	bs_catch_signals();
	if (!(rc = resolve_range(b, cm_cli_get(cli, "good"), cm_cli_get(cli, "bad"))) &&
	    !(rc = check_outdir(cli, b)) && !(rc = check_plan(cli, b)) && !(rc = check_matrix(b))) {
		fprintf(stderr, "coldmark bisect: %zu commits after %s up to %s, %s judged on %d+ "
				"sessions a step\n", b->nrevs - 1, b->revs[0].name,
			b->revs[b->nrevs - 1].name, b->phase, b->sessions);
		if (!(rc = endpoints(&r)) && !(rc = search(&r)))
			rc = answer(&r);
		if (rc == CM_EXIT_OK || rc == CM_EXIT_FAILED)
			report(&r);
		else if (rc == CM_EXIT_INTERRUPTED || bs_stop)
			fprintf(stderr, "coldmark bisect: interrupted; the verdicts so far are in %s: "
					"the same command with --resume %s continues\n",
				b->outdir, b->outdir), rc = CM_EXIT_INTERRUPTED;
	}
	for (size_t i = 0; i < b->nrevs; i++)
		free(b->revs[i].tail);
	free(b->revs), free(b->judged_case), free(b->outdir_abs), free(r.steps), free(r.others);
	return rc;
}
