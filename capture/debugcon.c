/* debugcon: one isa-debugcon device per marker port, sending to a socket coldmark made; each
 * byte the guest writes to the port is a marker, stamped by the kernel as qemu sends it. */
#include <stdlib.h>
#include <unistd.h>

#include "coldmark/capture.h"

#define MAX_PORTS 8
#define MSG_BYTES 256 /* a message is a write of the guest: one byte (an outb) */

struct debugcon {
	struct cm_capture base;
	int fd[MAX_PORTS]; /* this boot's reading ends */
	size_t nfd;
	unsigned char rx[CM_RECV_BATCH * MSG_BYTES]; /* one recvmmsg's messages */
};

static size_t nports(const struct cm_capture *s)
{
	return s->m->nports > MAX_PORTS ? MAX_PORTS : s->m->nports;
}

static size_t dc_args(const struct cm_capture *s, int fd0, struct cm_argv *a)
{
	for (size_t i = 0; i < nports(s); i++) {
		cm_argv_add(a, "-chardev");
		cm_argv_add(a, "socket,id=cmdbg%zu,fd=%d", i, fd0 + (int)i);
		cm_argv_add(a, "-device");
		cm_argv_add(a, "isa-debugcon,iobase=0x%x,chardev=cmdbg%zu", s->m->ports[i], i);
	}
	return nports(s);
}

static void dc_end_boot(struct cm_capture *s);

static int dc_open_boot(struct cm_capture *s, const struct cm_boot_io *io, int *child_fds,
			size_t max)
{
	struct debugcon *d = (struct debugcon *)s;
	(void)io;
	d->nfd = 0;
	s->boot_msgs = 0;
	if (nports(s) > max)
		return CM_ERR(CM_EUSAGE);
	for (size_t i = 0; i < nports(s); i++) {
		int sv[2];
		if (cm_stamped_socketpair(sv, s->deferred)) {
			for (size_t j = 0; j < i; j++)
				close(child_fds[j]);
			dc_end_boot(s);
			return CM_ERR(CM_EIO);
		}
		d->fd[d->nfd++] = sv[0];
		child_fds[i] = sv[1];
	}
	return (int)d->nfd;
}

static size_t dc_poll_fds(const struct cm_capture *s, int *fds, size_t max)
{
	const struct debugcon *d = (const struct debugcon *)s;
	size_t n = 0;
	for (; n < d->nfd && n < max; n++)
		fds[n] = d->fd[n];
	return n;
}

static void dc_drain(struct cm_capture *s, pid_t pid, struct cm_events *ev)
{
	struct debugcon *d = (struct debugcon *)s;
	(void)pid;
	struct cm_recv_batch b = { .buf = d->rx };
	for (size_t i = 0; i < d->nfd; i++) {
		size_t got;
		do {
			got = cm_recv_stamped_batch(d->fd[i], &b, MSG_BYTES);
			s->boot_msgs += got;
			for (size_t k = 0; k < got; k++)
				for (size_t j = 0; j < b.len[k]; j++)
					cm_events_add_port(ev, b.ts[k], s->m->ports[i],
							   b.buf[k * MSG_BYTES + j], "debugcon",
							   s->suffix != NULL);
		} while (got == CM_RECV_BATCH);
	}
}

static void dc_end_boot(struct cm_capture *s)
{
	struct debugcon *d = (struct debugcon *)s;
	for (size_t i = 0; i < d->nfd; i++)
		close(d->fd[i]);
	d->nfd = 0;
}

static void dc_free(struct cm_capture *s)
{
	dc_end_boot(s);
	free(s);
}

static const struct cm_capture_ops debugcon_ops = {
	.name = "debugcon", .caps = CM_CAP_STAMPED, .args = dc_args, .open_boot = dc_open_boot,
	.poll_fds = dc_poll_fds, .drain = dc_drain, .end_boot = dc_end_boot, .free = dc_free,
};

struct cm_capture *cm_debugcon_source(const struct cm_matrix *m, const char *suffix)
{
	struct debugcon *d = cm_xcalloc(1, sizeof(*d));
	d->base = (struct cm_capture){ &debugcon_ops, m, suffix };
	return &d->base;
}
