/* observer-exec: stamps the time, then execs a command in its own place (no fork), for
 * scripts/observer.sh's wall comparison. It gives a bare qemu what coldmark gives its qemu,
 * which bash cannot: a debugcon socket (an AF_UNIX SOCK_SEQPACKET pair, the reading end with
 * SO_TIMESTAMPNS as coldmark sets it, so the kernel stamps each marker's send alike; the
 * reading end stays open in qemu, nobody reads the few bytes of a boot), and stdout/stderr
 * into a log file truncated per boot (coldmark's running.log).
 *   observer-exec STAMPS [-d FD]... [-l LOG] -- COMMAND [ARGS...]
 * -d FD: a debugcon socket's writing end at FD (as many as -d's, at most 8; FD over 9, where
 * coldmark puts them, so they cannot land on a reading end).
 * STAMPS gets one line appended: "CLOCK_REALTIME_ns CLOCK_MONOTONIC_ns", taken just before
 * execve, as coldmark's child stamps its boot's exec (events.csv is on CLOCK_MONOTONIC; bash's
 * $EPOCHREALTIME is on CLOCK_REALTIME: the pair relates them). Built static by observer.sh
 * where it can be, so its own exec costs as little as an exec can. */
#define _GNU_SOURCE
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

static long long ns(clockid_t c)
{
	struct timespec t;
	clock_gettime(c, &t);
	return t.tv_sec * 1000000000LL + t.tv_nsec;
}

int main(int argc, char **argv)
{
	if (argc < 4) {
		fprintf(stderr, "usage: observer-exec STAMPS [-d FD]... [-l LOG] -- COMMAND [ARGS...]\n");
		return 2;
	}
	int i = 2, fd[8], nfd = 0;
	const char *log = NULL;
	for (; i + 1 < argc && strcmp(argv[i], "--"); i += 2) {
		if (!strcmp(argv[i], "-d") && nfd < 8 && atoi(argv[i + 1]) > 9)
			fd[nfd++] = atoi(argv[i + 1]);
		else if (!strcmp(argv[i], "-l"))
			log = argv[i + 1];
		else
			break; /* an unknown option, or a -d FD that is not over 9: the usage below */
	}
	if (i + 1 >= argc || strcmp(argv[i], "--")) {
		fprintf(stderr, "observer-exec: '%s': expected -d FD (FD over 9), -l LOG or -- COMMAND\n",
			argv[i]);
		return 2;
	}
	for (int k = 0; k < nfd; k++) {
		int sv[2], on = 1;
		/* both ends low (fds 3..9 are free here): the dup2 onto fd[k] closes no reading end */
		if (socketpair(AF_UNIX, SOCK_SEQPACKET, 0, sv) || sv[1] > 9 || dup2(sv[1], fd[k]) < 0) {
			fprintf(stderr, "observer-exec: the socket at fd %d could not be made\n", fd[k]);
			return 3;
		}
		setsockopt(sv[0], SOL_SOCKET, SO_TIMESTAMPNS, &on, sizeof(on));
		close(sv[1]);
	}
	if (log) {
		int l = open(log, O_WRONLY | O_CREAT | O_TRUNC | O_APPEND, 0644);
		if (l < 0 || dup2(l, 1) < 0 || dup2(l, 2) < 0) {
			perror(log);
			return 3;
		}
		close(l);
	}
	int s = open(argv[1], O_WRONLY | O_CREAT | O_APPEND, 0644);
	if (s < 0) {
		perror(argv[1]);
		return 3;
	}
	char line[64];
	long long rt = ns(CLOCK_REALTIME), mono = ns(CLOCK_MONOTONIC);
	int n = snprintf(line, sizeof(line), "%lld %lld\n", rt, mono);
	if (write(s, line, (size_t)n) != n)
		return 3;
	close(s);
	execvp(argv[i + 1], argv + i + 1);
	perror(argv[i + 1]);
	return 127;
}
