/* Which firmware and option ROM files a case actually loads, asked of qemu itself: the case's
 * argv started paused (-S) with a human monitor on an inherited socket, "info roms", quit.
 * The device list decides the ROMs (a NIC brings its iPXE image, -kernel brings
 * linuxboot_dma.bin), so guessing from -bios alone misses most of them. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include "coldmark/harness.h"
#include "coldmark/profile.h"

#define MON_FD 10          /* where qemu finds the monitor socket */
#define QUERY_TIMEOUT_MS 10000

/* Everything qemu writes on the monitor until it quits (or the timeout). */
static char *ask(char *const *argv, const char *commands, struct cm_error *err)
{
	int sv[2];
	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv)) {
		cm_error_set(err, CM_ERR(CM_EHOST), "socketpair: %s", strerror(errno));
		return NULL;
	}
	size_t argc = 0;
	while (argv[argc])
		argc++;
	char **av = cm_xcalloc(argc + 6, sizeof(char *));
	memcpy(av, argv, argc * sizeof(char *));
	char chardev[64];
	snprintf(chardev, sizeof(chardev), "socket,id=cmroms,fd=%d", MON_FD);
	av[argc] = "-S";
	av[argc + 1] = "-chardev";
	av[argc + 2] = chardev;
	av[argc + 3] = "-mon";
	av[argc + 4] = "chardev=cmroms,mode=readline";
	cm_proc_subreaper();
	int guard = cm_sig_guard_begin();
	pid_t parent = getpid(), pid = fork();
	if (pid == 0) {
		cm_child_die_with_parent(parent);
		/* lift the socket above MON_FD first: it may sit on MON_FD itself (see launch.c) */
		int s = fcntl(sv[1], F_DUPFD_CLOEXEC, MON_FD + 1);
		int null = open("/dev/null", O_RDWR);
		if (s < 0 || null < 0 || dup2(s, MON_FD) < 0)
			_exit(127);
		dup2(null, 0), dup2(null, 1), dup2(null, 2);
		cm_child_keep_fds(MON_FD, MON_FD);
		setpgid(0, 0);
		execvp(av[0], av);
		_exit(127);
	}
	free(av);
	close(sv[1]);
	if (pid < 0) {
		close(sv[0]);
		cm_sig_guard_end(guard);
		cm_error_set(err, CM_ERR(CM_EHOST), "fork: %s", strerror(errno));
		return NULL;
	}
	setpgid(pid, pid); /* as the child does: whichever runs first */
	struct cm_buf out = { 0 };
	/* MSG_NOSIGNAL: a qemu that refused the arguments and exited at once must not take
	 * coldmark down with SIGPIPE (seen once in the ASan suite) */
	if (send(sv[0], commands, strlen(commands), MSG_NOSIGNAL) < 0) {
		/* qemu already gone: its exit status says why below */
	}
	bool timed_out = cm_proc_collect(sv[0], pid, cm_now_ns() + QUERY_TIMEOUT_MS * 1000000LL,
					 &out, SIZE_MAX);
	close(sv[0]);
	if (timed_out)
		kill(-pid, SIGKILL); /* not reaped yet: -pid is still its group */
	int st = 0;
	/* the group too: a wrapper script's daemon must not outlive the query */
	cm_proc_end_group(pid, &st, NULL);
	cm_sig_guard_end(guard);
	if (timed_out || !WIFEXITED(st) || WEXITSTATUS(st)) {
		if (timed_out)
			cm_error_set(err, CM_ERR(CM_EHOST), "qemu did not answer '%.*s' in %d s",
				     (int)strcspn(commands, "\n"), commands, QUERY_TIMEOUT_MS / 1000);
		else
			cm_error_set(err, CM_ERR(CM_EHOST),
				     "qemu with the case's arguments exited with status %d",
				     WEXITSTATUS(st));
		cm_buf_free(&out);
		return NULL;
	}
	return cm_buf_steal(&out);
}

/* qemu's data directories in its own search order: every -L given, then its defaults. */
static char **data_dirs(char *const *argv, size_t *n)
{
	char **v = NULL;
	*n = 0;
	for (size_t i = 0; argv[i] && argv[i + 1]; i++)
		if (!strcmp(argv[i], "-L") && strcmp(argv[i + 1], "help")) {
			v = cm_xrealloc(v, (*n + 1) * sizeof(char *));
			v[(*n)++] = cm_xstrdup(argv[i + 1]);
		}
	char *help_argv[] = { argv[0], "-L", "help", NULL }, *out;
	cm_proc_run(help_argv, CM_HELPER_TIMEOUT_MS, false, &out, 1 << 20);
	for (char *line = strtok(out, "\n"); line; line = strtok(NULL, "\n")) {
		v = cm_xrealloc(v, (*n + 1) * sizeof(char *));
		v[(*n)++] = cm_xstrdup(line);
	}
	free(out);
	return v;
}

/* The file behind a ROM name as qemu finds it: a -bios path by that name that opens from the
 * working folder, else the first data dir holding it (so `-bios qboot.rom` is qemu's own
 * copy unless the folder has one); an absolute path, so its hash can be taken anywhere. */
static char *resolve(const char *name, char *const *argv, char **dirs, size_t ndirs)
{
	if (name[0] == '/')
		return access(name, R_OK) ? NULL : cm_xstrdup(name);
	for (size_t i = 0; argv[i] && argv[i + 1]; i++)
		if (!strcmp(argv[i], "-bios")) {
			const char *b = strrchr(argv[i + 1], '/');
			char *real = realpath(argv[i + 1], NULL);
			if ((!strcmp(b ? b + 1 : argv[i + 1], name) || !strcmp(argv[i + 1], name)) &&
			    real && !access(real, R_OK))
				return real;
			free(real);
		}
	for (size_t d = 0; d < ndirs; d++) {
		char *p = cm_xasprintf("%s/%s", dirs[d], name), *real = realpath(p, NULL);
		free(p);
		if (real && !access(real, R_OK))
			return real;
		free(real);
	}
	return NULL;
}

int cm_case_roms(char *const *argv, struct cm_rom **roms, size_t *n, struct cm_error *err)
{
	*roms = NULL;
	*n = 0;
	char *text = ask(argv, "info roms\nquit\n", err);
	if (!text)
		return -1;
	size_t ndirs;
	char **dirs = data_dirs(argv, &ndirs);
	/* lines like: addr=00000000fffc0000 size=0x040000 mem=rom name="bios-256k.bin" */
	for (char *s = text; (s = strstr(s, "name=\"")); ) {
		s += 6;
		size_t len = strcspn(s, "\"");
		char *name = cm_xasprintf("%.*s", (int)len, s);
		s += len;
		bool dup = false;
		for (size_t i = 0; i < *n; i++)
			dup |= !strcmp((*roms)[i].name, name);
		/* etc/... are tables qemu builds in memory (ACPI, the loader script), not files */
		if (dup || !strncmp(name, "etc/", 4)) {
			free(name);
			continue;
		}
		*roms = cm_xrealloc(*roms, (*n + 1) * sizeof(**roms));
		(*roms)[(*n)++] = (struct cm_rom){ name, resolve(name, argv, dirs, ndirs) };
	}
	for (size_t d = 0; d < ndirs; d++)
		free(dirs[d]);
	free(dirs);
	free(text);
	return 0;
}

/* run --profile's memory map (issue 28): the same paused qemu, asked "info mtree". */
int cm_case_mtree(char *const *argv, struct cm_mtree *out, struct cm_error *err)
{
	memset(out, 0, sizeof(*out));
	char *text = ask(argv, "info mtree\nquit\n", err);
	if (!text)
		return -1;
	int rc = cm_mtree_parse(text, out);
	free(text);
	if (rc)
		cm_error_set(err, CM_ERR(CM_EHOST), "qemu's 'info mtree' has no address-space memory");
	return rc;
}

void cm_roms_free(struct cm_rom *roms, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		free(roms[i].name);
		free(roms[i].path);
	}
	free(roms);
}
