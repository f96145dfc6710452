/* The control socket server. See ctl.h. */
#include "stack/ctl.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "stack/stack.h"

int ctl_listen(const char *path, char *err, size_t errlen)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	if (strlen(path) >= sizeof(sa.sun_path)) {
		snprintf(err, errlen, "control socket path too long: %s", path);
		return -1;
	}
	strcpy(sa.sun_path, path);
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0) {
		snprintf(err, errlen, "socket: %s", strerror(errno));
		return -1;
	}
	unlink(path); /* a file left by a host that was killed */
	if (bind(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0 || listen(fd, 8) < 0) {
		snprintf(err, errlen, "cannot listen on %s: %s (is the directory there and writable?)",
			 path, strerror(errno));
		close(fd);
		return -1;
	}
	return fd;
}

/* Reads one command line from c within the timeout; returns its length or -1. */
static int ctl_read_command(int c, char *cmd, size_t cap)
{
	size_t n = 0;
	while (n < cap - 1) {
		struct pollfd pfd = { .fd = c, .events = POLLIN };
		if (poll(&pfd, 1, CTL_CLIENT_TIMEOUT_MS) <= 0)
			return -1;
		ssize_t r = read(c, cmd + n, cap - 1 - n);
		if (r <= 0)
			break;
		n += (size_t)r;
		if (memchr(cmd, '\n', n))
			break;
	}
	cmd[n] = '\0';
	cmd[strcspn(cmd, "\r\n")] = '\0';
	return (int)strlen(cmd);
}

/* Writes all of buf to c, waiting at most the timeout for room each time. */
static void ctl_write_all(int c, const char *buf, size_t len)
{
	while (len > 0) {
		ssize_t w = write(c, buf, len);
		if (w < 0 && errno == EAGAIN) {
			struct pollfd pfd = { .fd = c, .events = POLLOUT };
			if (poll(&pfd, 1, CTL_CLIENT_TIMEOUT_MS) <= 0)
				return;
			continue;
		}
		if (w <= 0)
			return;
		buf += w;
		len -= (size_t)w;
	}
}

void ctl_serve(struct stack *s, int lfd)
{
	int c = accept4(lfd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
	if (c < 0)
		return;
	char cmd[CTL_MAX_COMMAND];
	char *answer = NULL;
	size_t len = 0;
	if (ctl_read_command(c, cmd, sizeof(cmd)) >= 0) {
		FILE *out = open_memstream(&answer, &len);
		if (out) {
			stats_inc(&s->stats, "ctl.commands");
			stack_report(s, cmd, out);
			fclose(out);
			ctl_write_all(c, answer, len);
			free(answer);
		}
	}
	close(c);
}
