/* console: the guest's serial console on a socket coldmark made (-serial chardev:...), for
 * guests that cannot be patched to write port 0xf4 (a distribution kernel, a vendor image).
 * qemu sends each write of the UART as its own message, stamped by the kernel as it is sent;
 * a markers.console entry fires at the start of the first line that contains its match.
 * Every byte also goes to the boot's log, so a failed boot keeps what the guest said. */
#define _GNU_SOURCE
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "coldmark/capture.h"

#define LINE_MAX_BYTES 4096 /* matched within the first 4 KiB of a line */

struct console {
	struct cm_capture base;
	int fd, log;
	char line[LINE_MAX_BYTES + 1];
	size_t len;
	int64_t line_ts; /* stamp of the line's first byte */
	bool *seen;      /* per markers.console entry, this boot */
};

static size_t co_args(const struct cm_capture *s, int fd0, struct cm_argv *a)
{
	(void)s;
	cm_argv_add(a, "-chardev");
	cm_argv_add(a, "socket,id=cmcon,fd=%d", fd0);
	cm_argv_add(a, "-serial");
	cm_argv_add(a, "chardev:cmcon");
	return 1;
}

static int co_open_boot(struct cm_capture *s, const struct cm_boot_io *io, int *child_fds,
			size_t max)
{
	struct console *c = (struct console *)s;
	int sv[2];
	if (!max || cm_stamped_socketpair(sv))
		return CM_ERR(CM_EIO);
	c->fd = sv[0];
	child_fds[0] = sv[1];
	c->log = io->log_path ? open(io->log_path, O_WRONLY | O_CREAT | O_APPEND | O_NOFOLLOW |
							   O_CLOEXEC, 0644)
			      : -1;
	c->len = 0;
	memset(c->seen, 0, s->m->nconsole * sizeof(bool));
	return 1;
}

static size_t co_poll_fds(const struct cm_capture *s, int *fds, size_t max)
{
	const struct console *c = (const struct console *)s;
	if (c->fd < 0 || !max)
		return 0;
	fds[0] = c->fd;
	return 1;
}

/* Matches the line so far: a marker fires once, at its line's first byte. */
static void match_line(struct console *c, struct cm_events *ev)
{
	c->line[c->len] = 0;
	for (size_t k = 0; k < c->base.m->nconsole; k++) {
		const struct cm_console_marker *cm = &c->base.m->console[k];
		if (!c->seen[k] && strstr(c->line, cm->match)) {
			c->seen[k] = true;
			cm_events_add(ev, cm->name, c->line_ts, 0, 0);
			ev->v[ev->n - 1].kind = CM_EV_CONSOLE;
			ev->v[ev->n - 1].source = "console";
		}
	}
}

static void take_bytes(struct console *c, const char *buf, size_t n, int64_t ts,
		       struct cm_events *ev)
{
	for (size_t i = 0; i < n; i++) {
		if (buf[i] == '\n' || buf[i] == '\r') {
			match_line(c, ev);
			c->len = 0;
			continue;
		}
		if (!c->len)
			c->line_ts = ts;
		if (c->len < LINE_MAX_BYTES)
			c->line[c->len++] = buf[i] ? buf[i] : ' ';
	}
	if (c->len)
		match_line(c, ev); /* a line still being written may match already */
}

static void co_drain(struct cm_capture *s, pid_t pid, struct cm_events *ev)
{
	struct console *c = (struct console *)s;
	(void)pid;
	char buf[4096];
	int64_t ts;
	ssize_t got;
	while (c->fd >= 0 && (got = cm_recv_stamped(c->fd, buf, sizeof(buf), &ts)) > 0) {
		if (c->log >= 0 && write(c->log, buf, (size_t)got) < 0) {
			close(c->log); /* the log is for people: a write that fails ends it */
			c->log = -1;
		}
		take_bytes(c, buf, (size_t)got, ts, ev);
	}
}

static void co_end_boot(struct cm_capture *s)
{
	struct console *c = (struct console *)s;
	if (c->fd >= 0)
		close(c->fd);
	if (c->log >= 0)
		close(c->log);
	c->fd = c->log = -1;
}

static void co_free(struct cm_capture *s)
{
	co_end_boot(s);
	free(((struct console *)s)->seen);
	free(s);
}

static const struct cm_capture_ops console_ops = {
	.name = "console", .caps = CM_CAP_SERIAL, .args = co_args, .open_boot = co_open_boot,
	.poll_fds = co_poll_fds, .drain = co_drain, .end_boot = co_end_boot, .free = co_free,
};

struct cm_capture *cm_console_source(const struct cm_matrix *m)
{
	struct console *c = cm_xcalloc(1, sizeof(*c));
	c->base = (struct cm_capture){ &console_ops, m, NULL };
	c->fd = c->log = -1;
	c->seen = cm_xcalloc(m->nconsole + 1, sizeof(bool));
	return &c->base;
}
