/* Where tracefs is, and why it cannot be used when it cannot: "mounted but not readable by
 * this user" (the mount's mode, 0700 by default) needs another fix than "not mounted", and a
 * user who is not root must hear which. */
#define _GNU_SOURCE
#include <errno.h>
#include <grp.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <unistd.h>

#include "coldmark/capture.h"

char *cm_trace_host_path(const char *path)
{
	/* secure_getenv: NULL in a setuid or file-capability process (AT_SECURE) */
	const char *root = geteuid() && getuid() ? secure_getenv("COLDMARK_TRACE_ROOT") : NULL;
	return cm_xasprintf("%s%s", root ? root : "", path);
}

static bool tracing_root_set(void)
{
	char *p = cm_trace_host_path("");
	bool set = *p != 0;
	free(p);
	return set;
}

/* events/ readable means tracepoints can be looked up there. */
static int probe(const char *mnt)
{
	char events[600];
	snprintf(events, sizeof(events), "%s/events", mnt);
	return access(events, R_OK | X_OK) ? errno : 0;
}

void cm_tracefs_find(bool try_mount, struct cm_tracefs *t)
{
	static const char *const paths[] = { "/sys/kernel/tracing", "/sys/kernel/debug/tracing" };
	char *p[2];
	*t = (struct cm_tracefs){ .state = CM_TRACEFS_NOT_MOUNTED };
	for (int i = 0; i < 2; i++)
		p[i] = cm_trace_host_path(paths[i]);
	int e0 = probe(p[0]), e1 = e0 ? probe(p[1]) : -1;
	struct stat st;
	bool have = !stat(p[0], &st);
	int stat_err = have ? 0 : errno;
	snprintf(t->path, sizeof(t->path), "%s", p[!e0 || e1 ? 0 : 1]);
	t->err = e0;
	if (have)
		t->mode = st.st_mode & 07777, t->uid = st.st_uid, t->gid = st.st_gid;
	if (!e0 || !e1) {
		t->state = CM_TRACEFS_READABLE;
		t->err = 0;
	} else if (!have) {
		/* no mount point at all: the kernel was built without tracefs */
		t->state = CM_TRACEFS_NO_KERNEL;
		t->err = stat_err;
	} else if (e0 != ENOENT) {
		/* the empty sysfs folder is 0555: only a mounted tracefs shuts out with its mode */
		t->state = CM_TRACEFS_UNREADABLE;
	} else if (try_mount && !tracing_root_set()) {
		if (!mount("nodev", p[0], "tracefs", 0, NULL)) {
			t->state = CM_TRACEFS_READABLE;
			t->mounted_now = true;
			t->err = 0;
		} else {
			t->mount_err = errno;
		}
	}
	free(p[0]), free(p[1]);
}

static void owner(unsigned uid, unsigned gid, char *out, size_t n)
{
	struct passwd *pw = getpwuid(uid);
	struct group *gr = getgrgid(gid);
	char u[32], g[32];
	snprintf(u, sizeof(u), "%u", uid);
	snprintf(g, sizeof(g), "%u", gid);
	snprintf(out, n, "%s:%s", pw ? pw->pw_name : u, gr ? gr->gr_name : g);
}

void cm_tracefs_why(const struct cm_tracefs *t, char *out, size_t n)
{
	char own[96];
	owner(t->uid, t->gid, own, sizeof(own));
	switch (t->state) {
	case CM_TRACEFS_READABLE:
		snprintf(out, n, "%s", "");
		break;
	case CM_TRACEFS_UNREADABLE:
		snprintf(out, n, "tracefs is mounted at %s but not readable by this user (mode %04o, "
				 "owner %s): %s",
			 t->path, t->mode, own, strerror(t->err));
		break;
	case CM_TRACEFS_NOT_MOUNTED:
		if (t->mount_err)
			snprintf(out, n, "tracefs is not mounted at %s, and mounting it failed: %s",
				 t->path, strerror(t->mount_err));
		else
			snprintf(out, n, "tracefs is not mounted at %s%s", t->path,
				 geteuid() ? " (only root can mount it)" : "");
		break;
	case CM_TRACEFS_NO_KERNEL:
		snprintf(out, n, "this kernel has no tracefs (%s: %s): a kernel with CONFIG_TRACING "
				 "is needed",
			 t->path, strerror(t->err));
		break;
	}
}

const char *cm_tracefs_path(bool try_mount, bool *mounted_now)
{
	static struct cm_tracefs t;
	cm_tracefs_find(try_mount, &t);
	if (mounted_now)
		*mounted_now = t.mounted_now;
	return t.state == CM_TRACEFS_READABLE ? t.path : NULL;
}
