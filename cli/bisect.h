/* coldmark bisect's own parts (cli/bisect.c the search and its answer, cli/bisect_step.c the
 * builds in git worktrees and the interleaved experiments): not a public header. */
#ifndef COLDMARK_CLI_BISECT_H
#define COLDMARK_CLI_BISECT_H

#include <signal.h>
#include <stdbool.h>
#include <stddef.h>

#include "coldmark/analysis.h"

/* How a revision's build went: cached by sha in OUTDIR/builds/<sha>.status. */
enum bs_build { BS_UNBUILT, BS_BUILT, BS_UNTESTABLE /* exit 125 */, BS_FAILED };

struct bs_rev {
	char sha[41];
	char name[13]; /* the short sha: its value of the build axis, in case ids */
	enum bs_build build;
	int build_status; /* PROGRAM's exit status (or 128 + signal) */
	char *tail;       /* a failed build's last lines */
};

enum bs_verdict { V_GOOD, V_BAD, V_BETWEEN, V_INCONCLUSIVE, V_UNTESTABLE, V_FAILED, V_ENDS };

/* One side against another on the judged phase: the change with its CI, and the verdict. */
struct bs_cmp {
	bool ok; /* measured (both sides have boots) */
	double rel, lo, hi, p;
	enum cm_verdict verdict;
	size_t nbase, ncand, sessions;
};

struct bs {
	/* what was asked */
	const char *matrix, *repo, *program, *phase, *outdir, *db;
	int sessions, max_sessions;
	struct cm_judge judge;
	bool json;
	/* the range: revs[0] the good end, revs[nrevs - 1] the bad one, first-parent order */
	struct bs_rev *revs;
	size_t nrevs;
	/* what it cost */
	size_t builds, boots;
	size_t step_boots; /* the last experiment's, every session it has so far */
	char *judged_case; /* the case the steps are judged on (the matrix's first) */
	char *outdir_abs;
};

/* Set by SIGINT, SIGTERM or SIGHUP (bisect's handlers, or a step's run's). */
extern volatile sig_atomic_t bs_stop;
void bs_catch_signals(void);

/* git by argv: its output (trimmed) into *out; 0, or -1 with *out holding what it said. */
int bs_git(const struct bs *b, char **out, const char *const *args);
/* Builds revs[i] unless cached: a detached worktree, PROGRAM WORKTREE BUILDDIR with
 * COLDMARK_REV, the worktree removed whatever happens. 0, or 130 when interrupted. */
int bs_build_rev(struct bs *b, size_t i);
/* OUTDIR/builds/<sha> */
char *bs_build_dir(const struct bs *b, size_t i);

/* A step's boots on the judged phase and case (measured ones, no warm-ups): build k's (0 the
 * good or first build, 1 the bad or second, 2 the candidate) are v[k], session by session:
 * session s's are v[k][off[k][s] .. off[k][s + 1]). */
struct bs_obs {
	size_t nbuilds, nsess;
	double *v[3];
	size_t *off[3];
};
void bs_obs_free(struct bs_obs *o);

/* An interleaved experiment of the builds revs[idx[0..n-1]] (n 2 or 3) in the same shuffled
 * sessions, 1..sessions, each a run in OUTDIR/steps/<label>/s<k> (resumed when it is there)
 * tagged bisect/<the last build's sha>; their boots into *obs. 0, or the exit status of a run
 * that could not go on (2, 3, 4, 130). */
int bs_experiment(struct bs *b, const char *label, const size_t *idx, size_t n, int sessions,
		  struct bs_obs *obs);

/* ---- the decision (bisect_decide.c) ---- */

/* A log-scale estimate with its two-sided CI (each tail the level a of bs_locate). */
struct bs_est {
	double v, lo, hi;
};
/* Where the builds lie: d = log(bad/good) (or second/first), x = log(cand/good), y =
 * log(cand/bad), mid = x - d/2 (the candidate from the midpoint), pos = x/d (0 like good, 1
 * like bad); location = the 10th percentile of a build's boots, CI by a bootstrap within
 * sessions. */
struct bs_loc {
	bool ok;
	struct bs_est d, x, y, mid, pos;
};
/* 0, or -1 when a build has fewer than 2 boots. a: the level of each tail of the CIs. */
int bs_locate(const struct bs_obs *o, double a, struct bs_loc *out);
/* A candidate: between (apart from both beyond thr, a fraction: 0.02 = 2%), else like bad or
 * like good when the midpoint's CI is on one side, else inconclusive. dir: +1 when the bad
 * end is slower, -1 when faster. Before the last look (last false) a side whose end still
 * looks far from the candidate is inconclusive: it may yet prove a "between". */
enum bs_verdict bs_classify(const struct bs_loc *l, int dir, double thr, bool last);
/* The ends: +1 bad slower beyond thr, -1 faster beyond it, 2 alike (the CI within +-thr), 0
 * neither yet. */
int bs_ends(const struct bs_loc *l, double thr);
/* An estimate as a change (fraction) with its CI and verdict against thr, for the report. */
void bs_est_cmp(const struct bs_est *e, double thr, size_t sessions, struct bs_cmp *c);
/* The level of each tail at each look: --alpha spent evenly (Bonferroni) over the looks a
 * step may take, one after each session from --sessions to --max-sessions. */
double bs_look_alpha(const struct bs *b);
/* The q-quantile (type 7) of v, which it sorts. */
double bs_quantile(double *v, size_t n, double q);

#endif
