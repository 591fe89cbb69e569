/* qemu's argv: the case's, then each source's (its sockets at fds 10, 11, ...), then the serial
 * console into the boot's log when neither the case nor a source takes it. */
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "coldmark/harness.h"
#include "launch_int.h"

/* Does the case leave the guest's serial console unconnected? Then coldmark connects it to
 * the boot's log. A -serial, -nographic, a serial device or any stdio chardev of the user's
 * own is left alone. */
bool cm_argv_wants_console(char *const *argv)
{
	for (size_t i = 0; argv[i]; i++)
		if (!strcmp(argv[i], "-serial") || !strcmp(argv[i], "-nographic") ||
		    !strcmp(argv[i], "-curses") || strstr(argv[i], "stdio") ||
		    strstr(argv[i], "isa-serial") || strstr(argv[i], "pci-serial"))
			return false;
	return true;
}

/* s itself (view) or a copy of it */
static void put(struct cm_argv *a, const char *s, bool view)
{
	if (view)
		cm_argv_put(a, (char *)s);
	else
		cm_argv_add(a, "%s", s);
}

/* own[0..1]: where the sources' own arguments are; own[2]: how many in all */
static char **build(char *const *case_argv, struct cm_capture *const *sources, size_t nsources,
		    bool view, size_t own[3])
{
	struct cm_argv a = { 0 };
	bool serial_taken = false;
	for (size_t i = 0; case_argv[i]; i++)
		put(&a, case_argv[i], view);
	own[0] = a.n;
	int fd = CM_CAPTURE_FD0;
	for (size_t i = 0; i < nsources; i++) {
		if (sources[i]->ops->args) /* NULL: nothing on qemu's argv */
			fd += (int)sources[i]->ops->args(sources[i], fd, &a);
		serial_taken |= sources[i]->ops->caps & CM_CAP_SERIAL;
	}
	own[1] = a.n;
	/* the serial console into qemu's stdout, which is the boot's log: a failed boot keeps
	 * what the guest said (stdin is /dev/null, so nothing is read from it) */
	if (!serial_taken && cm_argv_wants_console(case_argv)) {
		put(&a, "-chardev", view);
		put(&a, "stdio,id=cmcon,signal=off", view);
		put(&a, "-serial", view);
		put(&a, "chardev:cmcon", view);
	}
	own[2] = a.n;
	return a.v;
}

char **cm_launch_argv(char *const *case_argv, struct cm_capture *const *sources, size_t nsources,
		     size_t *n)
{
	size_t own[3];
	char **v = build(case_argv, sources, nsources, false, own);
	*n = own[2];
	return v;
}

char **cm_launch_argv_view(char *const *case_argv, struct cm_capture *const *sources,
			   size_t nsources, size_t own[2])
{
	size_t all[3];
	char **v = build(case_argv, sources, nsources, true, all);
	own[0] = all[0], own[1] = all[1];
	return v;
}
