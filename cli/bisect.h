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

/* An interleaved experiment of the builds revs[idx[0..n-1]] in the same shuffled sessions,
 * 1..sessions, each a run in OUTDIR/steps/<label>/s<k> (resumed when it is there) tagged
 * bisect/<the last build's sha>; cmp[k] gets build idx[pairs[k][1]] against idx[pairs[k][0]].
 * 0, or the exit status of a run that could not go on (2, 3, 4, 130). */
int bs_experiment(struct bs *b, const char *label, const size_t *idx, size_t n, int sessions,
		  const int (*pairs)[2], struct bs_cmp *cmp, size_t npairs);

#endif
