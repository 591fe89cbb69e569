/* Where the bundled guest images are. COLDMARK_GUEST_DIR wins; else an installed coldmark
 * (<prefix>/bin/coldmark) finds them in <prefix>/share/coldmark/guest, found from the
 * executable's own path so that any prefix works; else the build tree's, for the build tree's
 * binaries (coldmark itself and the tests). */
#include <errno.h>
#include <libgen.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "internal.h"

#ifndef COLDMARK_GUEST_RELDIR
#define COLDMARK_GUEST_RELDIR "../share/coldmark/guest"
#endif

char *cm_guest_dir(enum cm_guest_dir_from *from)
{
	enum cm_guest_dir_from dummy;
	from = from ? from : &dummy;
	const char *env = getenv("COLDMARK_GUEST_DIR");
	if (env && *env) {
		*from = CM_GUEST_DIR_ENV;
		return cm_xstrdup(env);
	}
	char exe[PATH_MAX];
	ssize_t n = readlink("/proc/self/exe", exe, sizeof(exe) - 1);
	if (n > 0) {
		exe[n] = 0;
		char *dir = cm_xasprintf("%s/%s", dirname(exe), COLDMARK_GUEST_RELDIR);
		char real[PATH_MAX];
		struct stat st;
		/* the folder itself, not its images: an unreadable install says so, later */
		if (realpath(dir, real) && !stat(real, &st) && S_ISDIR(st.st_mode)) {
			*from = CM_GUEST_DIR_INSTALLED;
			free(dir);
			return cm_xstrdup(real);
		}
		free(dir);
	}
	*from = CM_GUEST_DIR_BUILD;
	return cm_xstrdup(COLDMARK_GUEST_DIR);
}

const char *cm_guest_dir_from_name(enum cm_guest_dir_from from)
{
	return from == CM_GUEST_DIR_ENV	      ? "COLDMARK_GUEST_DIR"
	       : from == CM_GUEST_DIR_INSTALLED ? "the installed coldmark's share/coldmark/guest"
						: "the build tree";
}

char *cm_guest_image(const char *name, char *why, size_t n)
{
	enum cm_guest_dir_from from;
	char *dir = cm_guest_dir(&from);
	char *path = cm_xasprintf("%s/%s.img", dir, name);
	free(dir);
	struct stat st;
	int readable = !access(path, R_OK), e = errno;
	if (readable && !stat(path, &st) && !S_ISDIR(st.st_mode)) {
		if (why && n)
			*why = 0;
		return path;
	}
	if (!why || !n)
		goto fail;
	if (readable) /* a folder passes access(R_OK) but boots nothing */
		snprintf(why, n, "bundled guest '%s': %s is a folder, not an image (folder from %s)",
			 name, path, cm_guest_dir_from_name(from));
	else if (e == ENOENT || e == ENOTDIR)
		snprintf(why, n, "bundled guest '%s' is not there: %s: %s (folder from %s; "
				 "COLDMARK_GUEST_DIR names another; the build makes the images, "
				 "cmake --install puts them in <prefix>/share/coldmark/guest)",
			 name, path, strerror(e), cm_guest_dir_from_name(from));
	else
		snprintf(why, n, "bundled guest '%s' cannot be read: %s: %s (folder from %s; "
				 "this user needs read access to it and search access to its folders)",
			 name, path, strerror(e), cm_guest_dir_from_name(from));
fail:
	free(path);
	return NULL;
}
