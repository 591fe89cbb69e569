/* coldmark bisect's builds and experiments: each revision built once, in a detached git
 * worktree removed afterwards (on SIGINT, SIGTERM and SIGHUP too), cached by sha; each step
 * the builds booted interleaved in the same shuffled sessions through run's own code, then
 * judged by the comparison model compare uses. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "bisect.h"
#include "cli.h"
#include "coldmark/harness.h"
#include "coldmark/matrix.h"
#include "coldmark/report.h"

#define BS_GIT_TIMEOUT_MS 120000
#define BS_TAIL_LINES 5

volatile sig_atomic_t bs_stop;

static void on_signal(int sig)
{
	bs_stop = sig;
}

/* No SA_RESTART: a wait for a build returns at once, to end it and remove its worktree. */
void bs_catch_signals(void)
{
	struct sigaction sa = { .sa_handler = on_signal };
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGHUP, &sa, NULL);
}

int bs_git(const struct bs *b, char **out, const char *const *args)
{
	const char *argv[16] = { "git", "-C", b->repo };
	size_t n = 3;
	for (; *args && n < 15; args++)
		argv[n++] = *args;
	argv[n] = NULL;
	int rc = cm_proc_run((char *const *)argv, BS_GIT_TIMEOUT_MS, true, out, 1 << 22);
	size_t len = strlen(*out);
	while (len && ((*out)[len - 1] == '\n' || (*out)[len - 1] == ' '))
		(*out)[--len] = 0;
	return rc ? -1 : 0;
}

static int remove_one(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	(void)st, (void)flag, (void)ftw;
	remove(path);
	return 0;
}

/* A worktree left by a killed bisect, or this build's: git forgets it and its files go. */
static void drop_worktree(const struct bs *b, const char *wt)
{
	char *out;
	const char *rm[] = { "worktree", "remove", "--force", wt, NULL };
	bs_git(b, &out, rm);
	free(out);
	nftw(wt, remove_one, 16, FTW_DEPTH | FTW_PHYS);
	const char *prune[] = { "worktree", "prune", NULL };
	bs_git(b, &out, prune);
	free(out);
}

char *bs_build_dir(const struct bs *b, size_t i)
{
	return cm_xasprintf("%s/builds/%s", b->outdir, b->revs[i].sha);
}

/* The last lines of a build's log, for the report of a failed build. */
static char *log_tail(const char *path)
{
	size_t len;
	char *text = cm_read_file(path, &len);
	if (!text || !len) {
		free(text);
		return cm_xstrdup("");
	}
	while (len && text[len - 1] == '\n')
		text[--len] = 0;
	size_t at = len;
	for (int lines = 0; at > 0; at--)
		if (text[at - 1] == '\n' && ++lines == BS_TAIL_LINES)
			break;
	char *tail = cm_xstrdup(text + at);
	free(text);
	return tail;
}

static void set_build(struct bs_rev *r, int status, const char *log)
{
	r->build_status = status;
	r->build = status == 0 ? BS_BUILT : status == 125 ? BS_UNTESTABLE : BS_FAILED;
	free(r->tail);
	r->tail = log_tail(log);
}

/* PROGRAM WORKTREE BUILDDIR, COLDMARK_REV=<sha>, output to log; its exit status, or -1 when
 * a signal to bisect ended it (its whole process group). */
static int run_program(const struct bs *b, const struct bs_rev *r, const char *wt,
		       const char *dir, const char *log)
{
	int fd = open(log, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (fd < 0)
		return 127;
	pid_t parent = getpid(), pid = fork();
	if (pid == 0) {
		setpgid(0, 0); /* its helpers are ended with it */
		cm_child_die_with_parent(parent);
		int null = open("/dev/null", O_RDONLY);
		if (null < 0 || dup2(null, 0) < 0 || dup2(fd, 1) < 0 || dup2(fd, 2) < 0)
			_exit(127);
		setenv("COLDMARK_REV", r->sha, 1);
		char *const argv[] = { (char *)b->program, (char *)wt, (char *)dir, NULL };
		execvp(argv[0], argv);
		fprintf(stderr, "coldmark bisect: cannot run %s: %s\n", b->program, strerror(errno));
		_exit(127);
	}
	close(fd);
	if (pid < 0)
		return 127;
	setpgid(pid, pid);
	int st = 0, sent = 0;
	while (waitpid(pid, &st, 0) < 0) {
		if (errno != EINTR)
			return 127;
		if (bs_stop)
			kill(-pid, sent++ ? SIGKILL : SIGTERM);
	}
	if (bs_stop)
		return -1;
	return WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
}

int bs_build_rev(struct bs *b, size_t i)
{
	struct bs_rev *r = &b->revs[i];
	if (r->build != BS_UNBUILT)
		return 0;
	char *dir = bs_build_dir(b, i), *status = cm_xasprintf("%s.status", dir),
	     *log = cm_xasprintf("%s.log", dir),
	     *wt = cm_xasprintf("%s/worktrees/%s", b->outdir, r->sha), *cached = NULL, *out = NULL;
	int rc = 0;
	b->builds++;
	size_t len;
	if ((cached = cm_read_file(status, &len))) {
		set_build(r, atoi(cached), log);
		goto done;
	}
	char *folders[] = { cm_xasprintf("%s/builds", b->outdir),
			    cm_xasprintf("%s/worktrees", b->outdir) };
	for (int k = 0; k < 2; k++)
		mkdir(folders[k], 0755), free(folders[k]);
	mkdir(dir, 0755);
	drop_worktree(b, wt);
	fprintf(stderr, "coldmark bisect: building %s\n", r->name);
	const char *add[] = { "worktree", "add", "--detach", wt, r->sha, NULL };
	int status_code;
	if (bs_git(b, &out, add)) {
		FILE *f = fopen(log, "w");
		if (f)
			fprintf(f, "git worktree add failed: %s\n", out), fclose(f);
		status_code = 128;
	} else {
		status_code = run_program(b, r, wt, dir, log);
	}
	drop_worktree(b, wt);
	if (status_code < 0 || bs_stop) {
		rc = CM_EXIT_INTERRUPTED; /* no status: a resumed bisect builds it again */
		goto done;
	}
	char *tmp = cm_xasprintf("%s.tmp", status);
	FILE *f = fopen(tmp, "w");
	if (f) {
		fprintf(f, "%d\n", status_code);
		if (!fclose(f))
			rename(tmp, status);
	}
	free(tmp);
	set_build(r, status_code, log);
done:
	free(dir), free(status), free(log), free(wt), free(cached), free(out);
	return rc;
}

/* ---- experiments --------------------------------------------------------------------------- */

/* One session of a step: `coldmark run MATRIX --replicate K-1/N` into its folder (or its
 * --resume when a killed bisect left it), with run's output on stderr: bisect's is stdout. */
static int run_session(struct bs *b, const char *dir, int k, const char *tag)
{
	char rep[32], *meta = cm_xasprintf("%s/meta.csv", dir);
	snprintf(rep, sizeof(rep), "%d/%d", k - 1, b->max_sessions);
	struct stat st;
	bool resume = !stat(meta, &st), there = !stat(dir, &st);
	const char *argv[24] = { b->matrix, "--tag", tag, "--format", "csv" };
	int argc = 5;
	if (resume) {
		argv[argc++] = "--resume", argv[argc++] = dir;
	} else {
		argv[argc++] = "-o", argv[argc++] = dir;
		argv[argc++] = "--replicate", argv[argc++] = rep;
		if (there)
			argv[argc++] = "--force"; /* killed before its plan was written */
	}
	if (b->db)
		argv[argc++] = "--db", argv[argc++] = b->db;
	struct cm_cli cli;
	int rc = cm_cli_parse(cm_command("run"), argc, (char **)argv, &cli);
	if (!rc) {
		fflush(stdout);
		int saved = dup(1);
		dup2(2, 1);
		rc = cm_run(&cli, cm_launch_boot);
		fflush(stdout);
		dup2(saved, 1);
		close(saved);
	}
	bs_catch_signals(); /* run's handlers stay behind it */
	free(meta);
	/* failed boots are data: the comparison counts the ok ones */
	return rc == CM_EXIT_FAILED ? 0 : rc;
}

/* The sessions' samples as one dataset (sessions named s<k>#1). */
static int load_sessions(const char *step, int sessions, struct cm_dataset *all)
{
	int rc = 0;
	for (int k = 1; k <= sessions && !rc; k++) {
		struct cm_dataset one;
		struct cm_diags d = { 0 };
		char *samples = cm_xasprintf("%s/s%d/samples.csv", step, k),
		     *meta = cm_xasprintf("%s/s%d/meta.csv", step, k), label[16];
		snprintf(label, sizeof(label), "s%d", k);
		memset(&one, 0, sizeof(one));
		if (!(rc = cm_samples_read(samples, &one, &d))) {
			cm_meta_read(meta, &one);
			if (k == 1)
				cm_dataset_init(all, one.axes, one.naxes);
			cm_dataset_merge(all, &one, label);
		}
		cm_diags_print(&d, stderr);
		cm_diags_clear(&d);
		cm_dataset_free(&one);
		free(samples), free(meta);
	}
	return rc ? CM_EXIT_USAGE : 0;
}

/* Build `build`'s measured boots of the judged case (held) and phase, session by session,
 * into obs's slot k. */
static void collect(const struct cm_dataset *all, size_t a, const char *build, const char *held,
		    const char *phase, struct bs_obs *o, size_t k)
{
	size_t cap = 0, n = 0;
	o->off[k] = cm_xcalloc(all->nsessions + 1, sizeof(size_t));
	for (size_t s = 0; s < all->nsessions; s++) {
		o->off[k][s] = n;
		for (size_t i = 0; i < all->n; i++) {
			const struct cm_sample_row *r = &all->rows[i];
			if ((size_t)r->session != s + 1 || strcmp(r->phase, phase) ||
			    strcmp(all->cases[r->case_idx].labels[a], build) ||
			    cm_row_kind(r) != CM_ROW_MEASURED || !(r->duration_ns > 0))
				continue;
			char *h = cm_case_held_fixed(all, r->case_idx, a);
			bool match = !strcmp(h, held);
			free(h);
			if (!match)
				continue;
			CM_PUSH(o->v[k], n, cap);
			o->v[k][n++] = r->duration_ns;
		}
	}
	o->off[k][all->nsessions] = n;
}

/* The case the steps are judged on: the first one of the base build (references have none). */
static char *judged_case(const struct cm_dataset *all, size_t a, const char *base)
{
	for (size_t c = 0; c < all->ncases; c++)
		if (!strcmp(all->cases[c].labels[a], base))
			return cm_case_held_fixed(all, c, a);
	return NULL;
}

static size_t count_boots(const struct cm_dataset *all)
{
	size_t n = 0;
	for (size_t i = 0; i < all->n; i++)
		n += !strcmp(all->rows[i].phase, "total");
	return n;
}

int bs_experiment(struct bs *b, const char *label, const size_t *idx, size_t n, int sessions,
		  struct bs_obs *obs)
{
	char *names[4], *dirs[4];
	for (size_t k = 0; k < n; k++)
		names[k] = b->revs[idx[k]].name, dirs[k] = bs_build_dir(b, idx[k]);
	struct cm_builds builds = { names, dirs, n };
	char *steps = cm_xasprintf("%s/steps", b->outdir), *step = cm_xasprintf("%s/%s", steps, label),
	     *tag = cm_xasprintf("bisect/%s", b->revs[idx[n - 1]].sha);
	mkdir(steps, 0755);
	mkdir(step, 0755);
	memset(obs, 0, sizeof(*obs));
	int rc = 0;
	cm_cli_set_builds(&builds);
	for (int k = 1; k <= sessions && !rc && !bs_stop; k++) {
		char *dir = cm_xasprintf("%s/s%d", step, k);
		rc = run_session(b, dir, k, tag);
		free(dir);
	}
	cm_cli_set_builds(NULL);
	if (!rc && bs_stop)
		rc = CM_EXIT_INTERRUPTED;
	struct cm_dataset all;
	memset(&all, 0, sizeof(all));
	if (!rc && !(rc = load_sessions(step, sessions, &all))) {
		b->step_boots = count_boots(&all);
		size_t a = 0;
		while (a < all.naxes && strcmp(all.axes[a], CM_BUILD_AXIS))
			a++;
		char *held = a < all.naxes ? judged_case(&all, a, names[0]) : NULL;
		obs->nbuilds = n, obs->nsess = all.nsessions;
		for (size_t k = 0; k < n; k++) {
			if (held)
				collect(&all, a, names[k], held, b->phase, obs, k);
			else
				obs->off[k] = cm_xcalloc(all.nsessions + 1, sizeof(size_t));
		}
		if (held && !b->judged_case)
			b->judged_case = cm_xstrdup(*held ? held : "default");
		free(held);
	}
	cm_dataset_free(&all);
	for (size_t k = 0; k < n; k++)
		free(dirs[k]);
	free(steps), free(step), free(tag);
	return rc;
}
