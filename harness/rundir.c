/* The run folder: see coldmark/rundir.h for the promises. */
#define _GNU_SOURCE
#include "coldmark/rundir.h"

#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <pthread.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "coldmark/matrix.h"
#include "coldmark/util.h"

static const char *const journal_names[CM_NJOURNALS] = { CM_RUN_SAMPLES, CM_RUN_EVENTS };

/* What a run writes at the top of its folder: all a forced new run may remove. */
static bool ours(const char *name)
{
	static const char *const files[] = { CM_RUN_SAMPLES, CM_RUN_EVENTS, CM_RUN_META, CM_RUN_PLAN,
					     "summary.csv", "report.md", "report.json",
					     "report.html", CM_RUN_JOURNAL_DB, CM_RUN_JOURNAL_DB "-wal",
					     CM_RUN_JOURNAL_DB "-shm", CM_RUN_WAVES };
	size_t n = strlen(name);
	for (size_t i = 0; i < sizeof(files) / sizeof(files[0]); i++) {
		size_t k = strlen(files[i]);
		if (!strcmp(name, files[i]) ||
		    (n == k + 4 && !strncmp(name, files[i], k) && !strcmp(name + k, ".tmp")))
			return true;
	}
	return !strcmp(name, CM_RUN_LOGS);
}

/* Is this entry a regular file (or, for logs, a directory), not a link to elsewhere? */
static bool plain(int dfd, const char *name, bool dir)
{
	struct stat st;
	if (fstatat(dfd, name, &st, AT_SYMLINK_NOFOLLOW))
		return false;
	return dir ? S_ISDIR(st.st_mode) : S_ISREG(st.st_mode);
}

/* Looks at what the folder holds: 0 empty, 1 a coldmark run (only our own plain files),
 * -1 anything else (with its name in err). */
static int survey(int dfd, const char *path, struct cm_error *err)
{
	int fd = dup(dfd);
	DIR *d = fd >= 0 ? fdopendir(fd) : NULL;
	if (d)
		rewinddir(d); /* a dup shares the offset of every earlier listing */
	if (!d) {
		cm_error_set(err, CM_ERR(CM_EIO), "%s: cannot list: %s", path, strerror(errno));
		return -1;
	}
	int kind = 0;
	struct dirent *e;
	while ((e = readdir(d)) && kind >= 0) {
		if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, ".."))
			continue;
		if (!ours(e->d_name) || !plain(dfd, e->d_name, !strcmp(e->d_name, CM_RUN_LOGS))) {
			cm_error_set(err, CM_ERR(CM_EIO), "%s holds '%s', which no coldmark run wrote (or a link): "
					     "refusing to write there",
				 path, e->d_name);
			kind = -1;
		} else {
			kind = 1;
		}
	}
	closedir(d);
	return kind;
}

static void remove_logs(int dfd)
{
	int fd = openat(dfd, CM_RUN_LOGS, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	DIR *d = fd >= 0 ? fdopendir(fd) : NULL;
	struct dirent *e;
	while (d && (e = readdir(d)))
		if (e->d_name[0] != '.' || (strcmp(e->d_name, ".") && strcmp(e->d_name, "..")))
			unlinkat(fd, e->d_name, 0);
	if (d)
		closedir(d);
}

/* A forced new run: the earlier run's files go, so that O_EXCL creates ours afresh. */
static void clear_run(int dfd)
{
	remove_logs(dfd);
	DIR *d = fdopendir(dup(dfd));
	struct dirent *e;
	if (d)
		rewinddir(d); /* survey() read this offset to the end */
	while (d && (e = readdir(d)))
		if (ours(e->d_name) && strcmp(e->d_name, CM_RUN_LOGS))
			unlinkat(dfd, e->d_name, 0);
	if (d)
		closedir(d);
}

/* Cuts a journal back to its last newline: a row cut off by a crash or a full disk is never
 * read as data. Returns the bytes removed, or -errno. */
static off_t cut_partial_row(int fd)
{
	off_t size = lseek(fd, 0, SEEK_END), end = size;
	char c;
	while (end > 0 && pread(fd, &c, 1, end - 1) == 1 && c != '\n')
		end--;
	if (end != size && ftruncate(fd, end))
		return -errno;
	lseek(fd, end, SEEK_SET);
	return size - end;
}

static int open_journals(struct cm_rundir *rd, bool resume, struct cm_error *err)
{
	for (int j = 0; j < CM_NJOURNALS; j++) {
		int flags = O_WRONLY | O_NOFOLLOW | O_CLOEXEC | (resume ? O_CREAT : O_CREAT | O_EXCL);
		rd->fd[j] = openat(rd->dfd, journal_names[j], flags, 0644);
		if (rd->fd[j] < 0 || (resume && !plain(rd->dfd, journal_names[j], false))) {
			cm_error_set(err, CM_ERR(CM_EIO), "%s/%s: cannot open: %s", rd->path, journal_names[j],
				 rd->fd[j] < 0 ? strerror(errno) : "not a regular file");
			return -1;
		}
		rd->cut[j] = resume ? cut_partial_row(rd->fd[j]) : 0;
		rd->good[j] = lseek(rd->fd[j], 0, SEEK_END);
	}
	return 0;
}

static int make_folder(const char *path, struct cm_error *err)
{
	char *parent = cm_xstrdup(path), *slash = strrchr(parent, '/');
	if (slash && slash != parent) {
		*slash = 0;
		if (cm_mkdirs(parent)) {
			cm_error_set(err, CM_ERR(CM_EIO), "cannot create %s: %s", parent, strerror(errno));
			free(parent);
			return -1;
		}
	}
	free(parent);
	if (mkdir(path, 0755) && errno != EEXIST) {
		cm_error_set(err, CM_ERR(CM_EIO), "cannot create %s: %s", path, strerror(errno));
		return -1;
	}
	return 0;
}

/* The journals' fdatasync in a thread of its own: a boot's rows are written before the next
 * boot starts, and synced a batch of boots at a time (the runner's, runner_store.c), off the
 * main thread (three syncs took ~2.7 ms of every ~70 ms boot on the development host's disk
 * when each boot was synced on it: 4% of the run's wall time, between boots). */
struct cm_syncer {
	pthread_t th;
	pthread_mutex_t mu;
	pthread_cond_t cv;
	int fd[CM_NJOURNALS];
	bool pending, stop;
	int err;
};

/* Every journal's new bytes are put under writeback first, then each is fdatasync'd. The
 * second journal's data is then written while the first one's inode and cache flush are, so
 * the second fdatasync does not sleep waiting for it (one sleep and wake-up of this thread a
 * boot fewer); and in a boot that gives a journal a new block (its size reaches the inode only
 * at writeback), the first fdatasync's inode write carries both journals' sizes when their
 * inodes share an inode-table block, and the second finds that block clean: one block write
 * fewer. In situ (the real rundir.c, 640 bytes a boot after 16 MB of cache traffic) this
 * thread's CPU was 4-10% lower (README, "The journals and the loop"). Each journal is still
 * fdatasync'd on its own, and only fdatasync's result counts (a failed writeback that
 * sync_file_range started is reported by it). 0 or the first -errno. */
static int sync_journals(const int *fd)
{
	int err = 0;
	for (int j = 0; j < CM_NJOURNALS; j++)
		if (fd[j] >= 0)
			sync_file_range(fd[j], 0, 0, SYNC_FILE_RANGE_WRITE);
	for (int j = 0; j < CM_NJOURNALS; j++)
		if (fd[j] >= 0 && fdatasync(fd[j]) && !err)
			err = -errno;
	return err;
}

static void *sync_loop(void *arg)
{
	struct cm_syncer *s = arg;
	pthread_mutex_lock(&s->mu);
	for (;;) {
		while (!s->pending && !s->stop)
			pthread_cond_wait(&s->cv, &s->mu);
		if (!s->pending)
			break;
		pthread_mutex_unlock(&s->mu);
		int err = sync_journals(s->fd);
		pthread_mutex_lock(&s->mu);
		s->err = s->err ? s->err : err;
		s->pending = false;
		pthread_cond_broadcast(&s->cv);
	}
	pthread_mutex_unlock(&s->mu);
	return NULL;
}

static struct cm_syncer *syncer_new(const int *fds)
{
	struct cm_syncer *s = cm_xcalloc(1, sizeof(*s));
	memcpy(s->fd, fds, sizeof(s->fd));
	pthread_mutex_init(&s->mu, NULL);
	pthread_cond_init(&s->cv, NULL);
	if (cm_thread_start(&s->th, sync_loop, s)) { /* the stop signals go to main */
		free(s);
		return NULL; /* then every append syncs at once */
	}
	return s;
}

void cm_rundir_sync(struct cm_rundir *rd)
{
	struct cm_syncer *s = rd->syncer;
	if (!s)
		return;
	pthread_mutex_lock(&s->mu);
	s->pending = true;
	pthread_mutex_unlock(&s->mu);
	/* signalled after the unlock: woken while this thread still held the mutex, the sync
	 * thread ran on the other CPU at once, found the mutex taken and slept on it again, and
	 * the unlock had to wake it a second time (two futex calls here, two wake-ups there) */
	pthread_cond_signal(&s->cv);
}

int cm_rundir_synced(struct cm_rundir *rd)
{
	struct cm_syncer *s = rd->syncer;
	if (!s)
		return 0;
	pthread_mutex_lock(&s->mu);
	while (s->pending)
		pthread_cond_wait(&s->cv, &s->mu);
	int err = s->err;
	s->err = 0;
	pthread_mutex_unlock(&s->mu);
	return err;
}

int64_t cm_rundir_sync_cpu_ns(const struct cm_rundir *rd)
{
	clockid_t id;
	struct timespec t;
	if (!rd || !rd->syncer || pthread_getcpuclockid(rd->syncer->th, &id) ||
	    clock_gettime(id, &t))
		return 0;
	return (int64_t)t.tv_sec * 1000000000LL + t.tv_nsec;
}

static void syncer_free(struct cm_syncer *s)
{
	if (!s)
		return;
	pthread_mutex_lock(&s->mu);
	s->stop = true;
	pthread_cond_signal(&s->cv);
	pthread_mutex_unlock(&s->mu);
	pthread_join(s->th, NULL);
	pthread_mutex_destroy(&s->mu);
	pthread_cond_destroy(&s->cv);
	free(s);
}

int cm_rundir_open(struct cm_rundir *rd, const char *path, enum cm_rundir_mode mode, struct cm_error *err)
{
	memset(rd, 0, sizeof(*rd));
	rd->fd[0] = rd->fd[1] = rd->dfd = -1;
	rd->path = cm_xstrdup(path);
	if (mode != CM_RUNDIR_RESUME && make_folder(path, err))
		goto fail;
	rd->dfd = open(path, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (rd->dfd < 0) {
		cm_error_set(err, CM_ERR(CM_EIO), "%s: %s", path,
			 errno == ELOOP || errno == ENOTDIR ? "not a folder (a link or a file)"
							    : strerror(errno));
		goto fail;
	}
	int kind = survey(rd->dfd, path, err);
	if (kind < 0)
		goto fail;
	if (mode == CM_RUNDIR_RESUME && !plain(rd->dfd, CM_RUN_META, false)) {
		cm_error_set(err, CM_ERR(CM_EIO), "%s is not a coldmark run folder to resume (no meta.csv with "
				     "its plan)", path);
		goto fail;
	}
	if (mode == CM_RUNDIR_NEW && kind == 1) {
		cm_error_set(err, CM_ERR(CM_EIO), "%s holds a run already: continue it with --resume %s, or "
				     "replace it with --force", path, path);
		goto fail;
	}
	if (mode == CM_RUNDIR_FORCE)
		clear_run(rd->dfd);
	if (mkdirat(rd->dfd, CM_RUN_LOGS, 0755) && !(errno == EEXIST && plain(rd->dfd, CM_RUN_LOGS, true))) {
		cm_error_set(err, CM_ERR(CM_EIO), "%s/%s: cannot create the log folder: %s", path, CM_RUN_LOGS,
			 strerror(errno));
		goto fail;
	}
	if (open_journals(rd, mode == CM_RUNDIR_RESUME, err))
		goto fail;
	rd->syncer = syncer_new(rd->fd);
	return 0;
fail:
	cm_rundir_close(rd);
	return -1;
}

static int write_all(int fd, const char *buf, size_t len)
{
	while (len) {
		ssize_t n = write(fd, buf, len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -errno;
		buf += n, len -= (size_t)n;
	}
	return 0;
}

int cm_rundir_append(struct cm_rundir *rd, enum cm_journal j, const char *buf, size_t len)
{
	int fd = rd->fd[j];
	/* a sync still running finishes (and says how it went) before more is written */
	int rc = cm_rundir_synced(rd);
	if (!rc)
		rc = write_all(fd, buf, len);
	if (!rc && !rd->syncer && fdatasync(fd))
		rc = -errno;
	if (rc) {
		/* the last row is never partial: back to the last complete boot */
		if (ftruncate(fd, rd->good[j]) == 0)
			lseek(fd, rd->good[j], SEEK_SET);
		return rc;
	}
	rd->good[j] += (off_t)len;
	return 0;
}

void cm_rundir_cut(struct cm_rundir *rd, enum cm_journal j, off_t size)
{
	if (size < rd->good[j] && ftruncate(rd->fd[j], size) == 0) {
		lseek(rd->fd[j], size, SEEK_SET);
		rd->good[j] = size;
	}
}

int cm_rundir_replace(struct cm_rundir *rd, const char *name, const char *buf, size_t len)
{
	char *tmp = cm_xasprintf("%s.tmp", name);
	unlinkat(rd->dfd, tmp, 0); /* a stale or planted one: the name, never its target */
	int fd = openat(rd->dfd, tmp, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0644);
	int rc = fd < 0 ? -errno : write_all(fd, buf, len);
	if (!rc && fdatasync(fd))
		rc = -errno;
	if (fd >= 0 && close(fd) && !rc)
		rc = -errno;
	if (!rc && renameat(rd->dfd, tmp, rd->dfd, name))
		rc = -errno;
	if (!rc)
		fsync(rd->dfd); /* the rename itself survives a crash */
	else
		unlinkat(rd->dfd, tmp, 0);
	free(tmp);
	return rc;
}

bool cm_rundir_may_open(const struct cm_rundir *rd, const char *name)
{
	struct stat st;
	if (fstatat(rd->dfd, name, &st, AT_SYMLINK_NOFOLLOW))
		return errno == ENOENT;
	return S_ISREG(st.st_mode);
}

bool cm_rundir_has_data(const struct cm_rundir *rd, enum cm_journal j)
{
	return rd->good[j] > 0;
}

void cm_rundir_close(struct cm_rundir *rd)
{
	cm_rundir_synced(rd); /* the last batch reaches the disk before the files close */
	syncer_free(rd->syncer);
	rd->syncer = NULL;
	for (int j = 0; j < CM_NJOURNALS; j++)
		if (rd->fd[j] >= 0)
			close(rd->fd[j]);
	if (rd->dfd >= 0)
		close(rd->dfd);
	free(rd->path);
	memset(rd, 0, sizeof(*rd));
	rd->fd[0] = rd->fd[1] = rd->dfd = -1;
}

/* ---- the plan and the run id ------------------------------------------------------------- */

/* run.order's values by name: the plan is read by people too (report.md's plan row said
 * "order=2"); runs written before keep their number, which parse still reads */
static const char *const order_names[] = { "sequential", "interleaved", "shuffled" };

void cm_rundir_plan_format(const struct cm_matrix *m, char *buf, size_t n)
{
	int len = snprintf(buf, n, "boots=%lld warmup=%lld order=%s seed=%lld until_ci=%g phase=%s "
			   "sessions=%lld", (long long)m->boots, (long long)m->warmup,
			   order_names[m->order], (long long)m->seed, m->until_ci_pct,
			   m->until_ci_phase, (long long)m->sessions);
	if (m->first_session > 1 && len > 0 && (size_t)len < n) /* a replicate's session */
		snprintf(buf + len, n - (size_t)len, " first_session=%lld", (long long)m->first_session);
}

int cm_rundir_plan_parse(const char *text, struct cm_matrix *m)
{
	long long boots, warmup, seed, sessions = 1, first = 1; /* runs before sessions had one */
	int order = -1;
	double until;
	char phase[64] = "total"; /* runs before run.until_ci_phase existed */
	char ord[16];
	if (sscanf(text, "boots=%lld warmup=%lld order=%15[a-z0-9] seed=%lld until_ci=%lf "
			 "phase=%63s sessions=%lld first_session=%lld", &boots, &warmup, ord, &seed,
		   &until, phase, &sessions, &first) < 5)
		return -1;
	for (int i = 0; i < 3; i++)
		if (!strcmp(ord, order_names[i]) || (ord[0] == '0' + i && !ord[1]))
			order = i;
	if (order < 0 || sessions < 1 || first < 1 || !cm_matrix_has_phase(m, phase))
		return -1;
	m->boots = boots, m->warmup = warmup, m->order = order, m->seed = seed;
	m->sessions = sessions;
	m->first_session = first;
	m->until_ci_pct = until;
	free(m->until_ci_phase);
	m->until_ci_phase = cm_xstrdup(phase);
	return 0;
}

void cm_rundir_new_id(char *buf, size_t n, const struct tm *started)
{
	/* Unique without coordination: the time orders runs, the host and 32 random bits tell
	 * apart the runs begun in one second. A pid does not: it repeats across PID namespaces
	 * (containers, Slurm steps with --container, two nodes), and two runs of one id were
	 * merged into one run with every boot twice. */
	char host[65] = "", safe[25];
	size_t k = 0;
	gethostname(host, sizeof(host) - 1);
	for (const char *h = host; *h && *h != '.' && k < sizeof(safe) - 1; h++) /* a folder name */
		safe[k++] = (isalnum((unsigned char)*h) || *h == '-') ? *h : '_';
	safe[k] = 0;
	uint32_t rnd;
	if (getrandom(&rnd, sizeof(rnd), 0) != (ssize_t)sizeof(rnd)) { /* no entropy yet: the clock */
		struct timespec ts;
		clock_gettime(CLOCK_REALTIME, &ts);
		rnd = (uint32_t)ts.tv_nsec ^ ((uint32_t)getpid() << 12);
	}
	strftime(buf, n, "%Y%m%d-%H%M%S", started);
	size_t len = strlen(buf);
	snprintf(buf + len, n - len, "-%s-%08x", k ? safe : "host", (unsigned)rnd);
}
