/* What every source shares: argv building, kernel-stamped sockets, freeing. */
#define _GNU_SOURCE
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>

#include "coldmark/capture.h"

void cm_capture_free(struct cm_capture *s)
{
	if (s)
		s->ops->free(s);
}

int cm_stamped_socketpair(int sv[2])
{
	int on = 1;
	if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv))
		return -1;
	fcntl(sv[0], F_SETFL, O_NONBLOCK);
	setsockopt(sv[0], SOL_SOCKET, SO_TIMESTAMPNS, &on, sizeof(on));
	return 0;
}

/* qemu sends each write of the guest as its own message, and the kernel stamps it as qemu
 * sends it (SO_TIMESTAMPNS): how late coldmark gets round to reading does not count. */
ssize_t cm_recv_stamped(int fd, void *buf, size_t n, int64_t *ts_ns)
{
	union {
		char space[CMSG_SPACE(sizeof(struct timespec))];
		struct cmsghdr align;
	} ctl;
	struct iovec iov = { buf, n };
	struct msghdr msg = { .msg_iov = &iov, .msg_iovlen = 1, .msg_control = ctl.space,
			      .msg_controllen = sizeof(ctl.space) };
	ssize_t got = recvmsg(fd, &msg, 0);
	if (got <= 0)
		return -1;
	struct timespec rt, mono;
	clock_gettime(CLOCK_REALTIME, &rt);
	clock_gettime(CLOCK_MONOTONIC, &mono);
	int64_t mono_ns = mono.tv_sec * 1000000000LL + mono.tv_nsec;
	*ts_ns = mono_ns;
	for (struct cmsghdr *c = CMSG_FIRSTHDR(&msg); c; c = CMSG_NXTHDR(&msg, c))
		if (c->cmsg_level == SOL_SOCKET && c->cmsg_type == SCM_TIMESTAMPNS) {
			struct timespec sent;
			memcpy(&sent, CMSG_DATA(c), sizeof(sent));
			int64_t age = (rt.tv_sec - sent.tv_sec) * 1000000000LL +
				      (rt.tv_nsec - sent.tv_nsec);
			*ts_ns = mono_ns - (age > 0 ? age : 0);
		}
	return got;
}

size_t cm_capture_no_args(const struct cm_capture *s, int fd0, struct cm_argv *a)
{
	(void)s, (void)fd0, (void)a;
	return 0;
}

int cm_capture_no_sockets(struct cm_capture *s, const struct cm_boot_io *io, int *child_fds,
			  size_t max)
{
	(void)s, (void)io, (void)child_fds, (void)max;
	return 0;
}

size_t cm_capture_no_fds(const struct cm_capture *s, int *fds, size_t max)
{
	(void)s, (void)fds, (void)max;
	return 0;
}

void cm_capture_nothing(struct cm_capture *s)
{
	(void)s;
}
