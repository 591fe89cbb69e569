/* console: the guest's serial console on a socket coldmark made (-serial chardev:...), for
 * guests that cannot be patched to write port 0xf4 (a distribution kernel, a vendor image).
 * qemu sends each write of the UART as its own message, stamped by the kernel as it is sent;
 * a console marker fires at the start of the nth line (the first by default) that contains its
 * match or matches its regex, each line matched alone (^ and $ are its ends); the markers are
 * the case's (an axis value may bring its own). Every byte also goes to the boot's log, so a
 * failed boot keeps what the guest said. */
#define _GNU_SOURCE
#include <fcntl.h>
#include <regex.h>
#include <stdlib.h>
#include <string.h>
#include <sys/uio.h>
#include <unistd.h>

#include "coldmark/capture.h"

#define LINE_MAX_BYTES 4096 /* matched within the first 4 KiB of a line */
#define MSG_BYTES 4096      /* a message is a write of the UART (a byte, most often) */

struct console {
	struct cm_capture base;
	int fd, log;
	char line[LINE_MAX_BYTES + 1];
	size_t len;
	int64_t line_ts; /* stamp of the line's first byte */
	/* this boot's markers (the case's), and per marker: */
	const struct cm_console_marker **mk;
	size_t nmk;
	regex_t *re;     /* compiled, for regex markers (re_ok) */
	bool *re_ok;
	int64_t *hits;   /* lines that matched so far */
	bool *on_line;   /* the line being read matched already (a partial line is matched too) */
	bool *fired;
	unsigned char rx[CM_RECV_BATCH * MSG_BYTES]; /* one recvmmsg's messages */
};

static void forget_markers(struct console *c)
{
	for (size_t k = 0; k < c->nmk; k++)
		if (c->re_ok[k])
			regfree(&c->re[k]);
	free(c->mk), free(c->re), free(c->re_ok), free(c->hits), free(c->on_line), free(c->fired);
	c->mk = NULL;
	c->re = NULL;
	c->re_ok = c->on_line = c->fired = NULL;
	c->hits = NULL;
	c->nmk = 0;
}

/* The case's markers, their regexes compiled as the matrix loader checked them. */
static void arm_markers(struct console *c, const struct cm_case *kase)
{
	forget_markers(c);
	c->mk = cm_case_console_markers(c->base.m, kase, &c->nmk);
	c->re = cm_xcalloc(c->nmk + 1, sizeof(regex_t));
	c->re_ok = cm_xcalloc(c->nmk + 1, sizeof(bool));
	c->hits = cm_xcalloc(c->nmk + 1, sizeof(int64_t));
	c->on_line = cm_xcalloc(c->nmk + 1, sizeof(bool));
	c->fired = cm_xcalloc(c->nmk + 1, sizeof(bool));
	for (size_t k = 0; k < c->nmk; k++)
		if (c->mk[k]->regex)
			c->re_ok[k] = !regcomp(&c->re[k], c->mk[k]->match, REG_EXTENDED | REG_NOSUB);
}

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
	if (!max || cm_stamped_socketpair(sv, false))
		return CM_ERR(CM_EIO);
	c->fd = sv[0];
	child_fds[0] = sv[1];
	c->log = io->log_path ? open(io->log_path, O_WRONLY | O_CREAT | O_APPEND | O_NOFOLLOW |
							   O_CLOEXEC, 0644)
			      : -1;
	c->len = 0;
	arm_markers(c, io->kase);
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

/* Matches the line so far (partial: more of it may come, so $ does not match at its end yet).
 * A line counts once per marker however often it is matched; a marker fires once, at the
 * first byte of its nth matching line. Empty lines are not matched (CR LF ends a line twice). */
static void match_line(struct console *c, struct cm_events *ev, bool partial)
{
	c->line[c->len] = 0;
	if (!c->len)
		return;
	for (size_t k = 0; k < c->nmk; k++) {
		const struct cm_console_marker *cm = c->mk[k];
		if (c->fired[k] || c->on_line[k])
			continue;
		bool hit = cm->regex ? c->re_ok[k] && !regexec(&c->re[k], c->line, 0, NULL,
								 partial ? REG_NOTEOL : 0)
				     : strstr(c->line, cm->match) != NULL;
		if (!hit)
			continue;
		c->on_line[k] = true;
		if (++c->hits[k] < cm->nth)
			continue;
		c->fired[k] = true;
		cm_events_add(ev, cm->name, c->line_ts, 0, 0);
		ev->v[ev->n - 1].kind = CM_EV_CONSOLE;
		ev->v[ev->n - 1].source = "console";
	}
}

static void take_bytes(struct console *c, const char *buf, size_t n, int64_t ts,
		       struct cm_events *ev)
{
	for (size_t i = 0; i < n; i++) {
		if (buf[i] == '\n' || buf[i] == '\r') {
			match_line(c, ev, false);
			c->len = 0;
			memset(c->on_line, 0, c->nmk * sizeof(bool));
			continue;
		}
		if (!c->len)
			c->line_ts = ts;
		if (c->len < LINE_MAX_BYTES)
			c->line[c->len++] = buf[i] ? buf[i] : ' ';
	}
	if (c->len)
		match_line(c, ev, true); /* a line still being written may match already */
}

static void co_drain(struct cm_capture *s, pid_t pid, struct cm_events *ev)
{
	struct console *c = (struct console *)s;
	(void)pid;
	struct cm_recv_batch b = { .buf = c->rx };
	size_t got;
	do {
		got = c->fd >= 0 ? cm_recv_stamped_batch(c->fd, &b, MSG_BYTES) : 0;
		/* the batch's bytes to the log in one write, in the order they came */
		struct iovec iov[CM_RECV_BATCH];
		for (size_t k = 0; k < got; k++)
			iov[k] = (struct iovec){ b.buf + k * MSG_BYTES, b.len[k] };
		if (got && c->log >= 0 && writev(c->log, iov, (int)got) < 0) {
			close(c->log); /* the log is for people: a write that fails ends it */
			c->log = -1;
		}
		for (size_t k = 0; k < got; k++)
			take_bytes(c, (const char *)b.buf + k * MSG_BYTES, b.len[k], b.ts[k], ev);
	} while (got == CM_RECV_BATCH);
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
	forget_markers((struct console *)s);
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
	return &c->base;
}
