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
	if (s) {
		free(s->defer);
		cm_strset_free(&s->defer_of);
		s->ops->free(s);
	}
}

int cm_stamped_socketpair(int sv[2], bool deep)
{
	int on = 1, big = 1 << 30; /* the kernel caps it at wmem_max (and doubles that) */
	if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv))
		return -1;
	/* no O_NONBLOCK on the reading end (an fcntl a boot): its reads say MSG_DONTWAIT */
	setsockopt(sv[0], SOL_SOCKET, SO_TIMESTAMPNS, &on, sizeof(on));
	/* the writer blocks once what it sent and nobody read reaches its SO_SNDBUF */
	if (deep)
		setsockopt(sv[1], SOL_SOCKET, SO_SNDBUF, &big, sizeof(big));
	return 0;
}

/* A message's CLOCK_REALTIME stamp moved onto CLOCK_MONOTONIC by the offset between the clocks
 * read at mono_ns/rt (just after the receive); mono_ns when it has none. */
static int64_t mono_stamp(struct msghdr *msg, int64_t mono_ns, const struct timespec *rt)
{
	int64_t ts = mono_ns;
	for (struct cmsghdr *c = CMSG_FIRSTHDR(msg); c; c = CMSG_NXTHDR(msg, c))
		if (c->cmsg_level == SOL_SOCKET && c->cmsg_type == SCM_TIMESTAMPNS) {
			struct timespec sent;
			memcpy(&sent, CMSG_DATA(c), sizeof(sent));
			int64_t age = (rt->tv_sec - sent.tv_sec) * 1000000000LL +
				      (rt->tv_nsec - sent.tv_nsec);
			ts = mono_ns - (age > 0 ? age : 0);
		}
	return ts;
}

/* The realtime clock *rt and the monotonic clock at the same moment: the realtime read between
 * two monotonic reads, the second one taken (a stamp can only come out late, never before its
 * send, by at most the gap). A reader preempted between two bare reads (one of each clock) moved
 * every stamp of the batch late by its time off the CPU: a gap over 10 us is read again, the
 * tightest of four kept. */
static int64_t clocks_now(struct timespec *rt, int64_t *gap)
{
	int64_t best = -1, at = 0;
	for (int i = 0; i < 4 && (best < 0 || best > 10000); i++) {
		struct timespec r;
		int64_t a = cm_now_ns();
		clock_gettime(CLOCK_REALTIME, &r);
		int64_t b = cm_now_ns();
		if (best < 0 || b - a < best)
			best = b - a, at = b, *rt = r;
	}
	*gap = best;
	return at;
}

int64_t cm_clock_offset_ns(int64_t *gap)
{
	struct timespec rt;
	int64_t mono = clocks_now(&rt, gap);
	return rt.tv_sec * 1000000000LL + rt.tv_nsec - mono;
}

/* qemu sends each write of the guest as its own message, and the kernel stamps it as qemu
 * sends it (SO_TIMESTAMPNS): how late coldmark gets round to reading does not count. Up to
 * CM_RECV_BATCH messages in one recvmmsg: a wake-up of the watch was a recvmsg per message and
 * one more that found none. Fewer than asked: none was
 * left when it looked (a message sent since wakes the watch's next poll). A message of no
 * bytes (the end: qemu sends none) ends the batch. */
size_t cm_recv_stamped_batch(int fd, struct cm_recv_batch *b, size_t size)
{
	struct mmsghdr mm[CM_RECV_BATCH];
	struct iovec iov[CM_RECV_BATCH];
	union {
		char space[CMSG_SPACE(sizeof(struct timespec))];
		struct cmsghdr align;
	} ctl[CM_RECV_BATCH];
	for (size_t i = 0; i < CM_RECV_BATCH; i++) {
		iov[i] = (struct iovec){ b->buf + i * size, size };
		mm[i].msg_hdr = (struct msghdr){ .msg_iov = &iov[i], .msg_iovlen = 1,
						 .msg_control = ctl[i].space,
						 .msg_controllen = sizeof(ctl[i].space) };
	}
	int got = recvmmsg(fd, mm, CM_RECV_BATCH, MSG_DONTWAIT, NULL);
	if (got <= 0)
		return 0;
	struct timespec rt;
	int64_t gap, mono_ns = clocks_now(&rt, &gap);
	size_t n = 0;
	for (; n < (size_t)got && mm[n].msg_len > 0; n++) {
		b->len[n] = mm[n].msg_len;
		b->ts[n] = mono_stamp(&mm[n].msg_hdr, mono_ns, &rt);
	}
	return n;
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
