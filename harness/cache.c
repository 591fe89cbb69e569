/* Cold boots: the page cache is dropped before each one, as root through drop_caches, else
 * by evicting every file the boot reads (posix_fadvise DONTNEED gave the same cold
 * exec -> first instruction time as drop_caches on these hosts). */
#define _GNU_SOURCE
#include <dirent.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "coldmark/harness.h"

const char *const cm_drop_names[] = { "none", "drop_caches", "evict" };

char *cm_which(const char *name)
{
	if (strchr(name, '/'))
		return access(name, X_OK) ? NULL : cm_xstrdup(name);
	const char *path = getenv("PATH");
	char *copy = cm_xstrdup(path ? path : "/usr/bin:/bin"), *save = NULL;
	for (char *dir = strtok_r(copy, ":", &save); dir; dir = strtok_r(NULL, ":", &save)) {
		char *p = cm_xasprintf("%s/%s", dir, name);
		struct stat sb;
		if (!stat(p, &sb) && S_ISREG(sb.st_mode) && !access(p, X_OK)) {
			free(copy);
			return p;
		}
		free(p);
	}
	free(copy);
	return NULL;
}

bool cm_case_is_tcg(const struct cm_case *c)
{
	for (size_t i = 0; i + 1 < c->argc; i++) {
		const char *a = c->argv[i], *v = c->argv[i + 1];
		if ((!strcmp(a, "-accel") && !strncmp(v, "tcg", 3)) ||
		    ((!strcmp(a, "-machine") || !strcmp(a, "-M")) && strstr(v, "accel=tcg")))
			return true;
	}
	/* qemu's own default is TCG unless KVM is asked for */
	for (size_t i = 0; i < c->argc; i++)
		if (!strcmp(c->argv[i], "-enable-kvm") || strstr(c->argv[i], "accel=kvm") ||
		    (!strcmp(c->argv[i], "-accel") && i + 1 < c->argc &&
		     !strncmp(c->argv[i + 1], "kvm", 3)))
			return false;
	return true;
}

static void push(char ***v, size_t *n, char *s)
{
	for (size_t i = 0; i < *n; i++)
		if (!strcmp((*v)[i], s)) {
			free(s);
			return;
		}
	*v = cm_xrealloc(*v, (*n + 1) * sizeof(char *));
	(*v)[(*n)++] = s;
}

static void add_dir(char ***v, size_t *n, const char *dir)
{
	DIR *d = opendir(dir);
	struct dirent *e;
	if (!d)
		return;
	while ((e = readdir(d)))
		if (e->d_type == DT_REG || e->d_type == DT_LNK)
			push(v, n, cm_xasprintf("%s/%s", dir, e->d_name));
	closedir(d);
}

char **cm_boot_files(const struct cm_matrix *m, size_t *n)
{
	char **v = NULL;
	*n = 0;
	char *qemu = cm_which(m->qemu);
	if (qemu) {
		push(&v, n, cm_xstrdup(qemu));
		/* its shared libraries, as the dynamic loader resolves them */
		char *ldd_argv[] = { "ldd", qemu, NULL }, *out;
		cm_proc_run(ldd_argv, CM_HELPER_TIMEOUT_MS, false, &out, 1 << 20);
		for (char *line = strtok(out, "\n"); line; line = strtok(NULL, "\n")) {
			char *s = strstr(line, "=> /");
			s = s ? s + 3 : (line[strspn(line, " \t")] == '/' ? line + strspn(line, " \t") : NULL);
			if (!s)
				continue;
			s[strcspn(s, " \t(")] = 0;
			push(&v, n, cm_xstrdup(s));
		}
		free(out);
		free(qemu);
	}
	/* firmware and option ROMs qemu may load */
	add_dir(&v, n, "/usr/share/qemu");
	add_dir(&v, n, "/usr/share/seabios");
	add_dir(&v, n, "/usr/share/ipxe/qemu");
	if (m->kernel)
		push(&v, n, cm_xstrdup(m->kernel));
	if (m->initrd)
		push(&v, n, cm_xstrdup(m->initrd));
	if (m->disk)
		push(&v, n, cm_xstrdup(m->disk));
	for (size_t a = 0; a < m->naxes; a++) /* the guests axis values carry */
		for (size_t i = 0; i < m->axes[a].nvalues; i++) {
			const struct cm_guest *g = m->axes[a].values[i].guest;
			const char *file[] = { g ? g->kernel : NULL, g ? g->initrd : NULL,
					       g ? g->disk : NULL };
			for (size_t k = 0; k < 3; k++)
				if (file[k])
					push(&v, n, cm_xstrdup(file[k]));
		}
	for (size_t c = 0; c < m->ncases; c++)
		for (size_t i = 0; i + 1 < m->cases[c].argc; i++)
			if (!strcmp(m->cases[c].argv[i], "-bios"))
				push(&v, n, cm_xstrdup(m->cases[c].argv[i + 1]));
	return v;
}

enum cm_drop_done cm_drop_caches(enum cm_drop how, char **files, size_t nfiles)
{
	if (how != CM_DROP_EVICT && geteuid() == 0) {
		sync();
		int fd = open("/proc/sys/vm/drop_caches", O_WRONLY);
		if (fd >= 0) {
			bool ok = write(fd, "3", 1) == 1;
			close(fd);
			if (ok)
				return CM_DROPPED_SYSCTL;
		}
		if (how == CM_DROP_SYSCTL)
			return CM_DROPPED_NONE;
	} else if (how == CM_DROP_SYSCTL) {
		return CM_DROPPED_NONE;
	}
	size_t done = 0;
	for (size_t i = 0; i < nfiles; i++) {
		int fd = open(files[i], O_RDONLY | O_CLOEXEC);
		if (fd < 0)
			continue;
		fdatasync(fd);
		if (!posix_fadvise(fd, 0, 0, POSIX_FADV_DONTNEED))
			done++;
		close(fd);
	}
	return done ? CM_DROPPED_EVICT : CM_DROPPED_NONE;
}
