/* Socket options: net_setsockopt and net_getsockopt. The protocol is asked
 * first (its own level, IPPROTO_TCP, and the SOL_SOCKET options it keeps
 * itself: SO_KEEPALIVE, SO_LINGER); what it leaves (-ENOPROTOOPT) is the
 * socket layer's: buffer sizes, timeouts, SO_REUSEADDR, SO_NONBLOCK,
 * SO_ERROR, SO_TYPE, IP_MTU_DISCOVER, IPV6_V6ONLY. net.h lists them all.
 *
 * Call map:
 *   apps -> net_setsockopt, net_getsockopt
 *     each -> so->ops->setsockopt / getsockopt (tcp/tcp_socket.c)
 *          -> socket_wake (socket.h): an option can make a socket ready
 *   what is set here is read by socket.c (timeouts, SO_NONBLOCK), by the
 *   protocols (rcvbuf, sndbuf, reuseaddr) and by ip/udp.c through
 *   socket_ip_df (IP_MTU_DISCOVER). */
#include <errno.h>
#include <string.h>
#include <sys/time.h>

#include "stack/socket.h"

/* ---- options ------------------------------------------------------------ */

/* Reads an int option value. */
static int opt_int(const void *val, socklen_t len, int *out)
{
	if (!val || len < (socklen_t)sizeof(int))
		return -EINVAL;
	memcpy(out, val, sizeof(int));
	return 0;
}

/* Writes an option value of n bytes for getsockopt (-EINVAL if *len is
 * shorter), and sets *len to n. */
static int opt_put(void *val, socklen_t *len, const void *v, size_t n)
{
	if (*len < (socklen_t)n)
		return -EINVAL;
	memcpy(val, v, n);
	*len = (socklen_t)n;
	return 0;
}

/* Reads a struct timeval option value as microseconds. */
static int opt_timeval(const void *val, socklen_t len, int64_t *us)
{
	struct timeval tv;
	if (!val || len < (socklen_t)sizeof(tv))
		return -EINVAL;
	memcpy(&tv, val, sizeof(tv));
	if (tv.tv_sec < 0 || tv.tv_usec < 0 || tv.tv_usec >= 1000000)
		return -EDOM;
	*us = (int64_t)tv.tv_sec * 1000000 + tv.tv_usec;
	return 0;
}

/* Buffer sizes are kept within reason: a hostile or mistaken value must not
 * let one socket hold the whole packet pool. */
#define SOCK_BUF_MIN 2048
#define SOCK_BUF_MAX (16 * 1024 * 1024)

int net_setsockopt(int fd, int level, int name, const void *val, socklen_t len)
{
	struct socket *so = socket_get(fd);
	int v = 0, r;
	if (!so)
		return -EBADF;
	socket_wake(so); /* a larger SO_SNDBUF, say, can make it writable */
	if (so->ops->setsockopt) {
		int pr = so->ops->setsockopt(so, level, name, val, len);
		if (pr != -ENOPROTOOPT)
			return pr;
	}
	if (level == IPPROTO_IP && name == IP_MTU_DISCOVER && so->family == AF_INET) {
		/* Linux's option (ip(7)): DONT never sets DF, WANT sets it when
		 * the datagram fits the path MTU, DO always (larger: -EMSGSIZE).
		 * For UDP only: TCP always sends as WANT (RFC 1191 3, tcp_output.c) */
		if ((r = opt_int(val, len, &v)) < 0)
			return r;
		if (v != IP_PMTUDISC_DONT && v != IP_PMTUDISC_WANT && v != IP_PMTUDISC_DO)
			return v >= 0 && v <= IP_PMTUDISC_OMIT ? -EOPNOTSUPP : -EINVAL;
		if (so->type != SOCK_DGRAM)
			return -EOPNOTSUPP;
		so->pmtudisc = (uint8_t)v;
		return 0;
	}
	if (level == IPPROTO_IPV6 && name == IPV6_V6ONLY && so->family == AF_INET6) {
		/* see net_socket: v6-only is the one behaviour there is */
		if ((r = opt_int(val, len, &v)) < 0)
			return r;
		return v ? 0 : -EOPNOTSUPP;
	}
	if (level != SOL_SOCKET)
		return -ENOPROTOOPT;
	switch (name) {
	case SO_RCVTIMEO:
		return opt_timeval(val, len, &so->rcvtimeo_us);
	case SO_SNDTIMEO:
		return opt_timeval(val, len, &so->sndtimeo_us);
	case SO_RCVBUF:
	case SO_SNDBUF:
	case SO_REUSEADDR:
	case SO_NONBLOCK:
		if ((r = opt_int(val, len, &v)) < 0)
			return r;
		break;
	default:
		return -ENOPROTOOPT;
	}
	if ((name == SO_RCVBUF || name == SO_SNDBUF) && v < 0)
		return -EINVAL;
	size_t bytes = v < SOCK_BUF_MIN ? SOCK_BUF_MIN : v > SOCK_BUF_MAX ? SOCK_BUF_MAX : (size_t)v;
	if (name == SO_RCVBUF)
		so->rcvbuf = bytes;
	else if (name == SO_SNDBUF)
		so->sndbuf = bytes;
	else if (name == SO_REUSEADDR)
		so->reuseaddr = v != 0;
	else
		so->nonblock = v != 0;
	return 0;
}

int net_getsockopt(int fd, int level, int name, void *val, socklen_t *len)
{
	struct socket *so = socket_get(fd);
	int v;
	if (!so)
		return -EBADF;
	if (!val || !len)
		return -EINVAL;
	if (so->ops->getsockopt) {
		int pr = so->ops->getsockopt(so, level, name, val, len);
		if (pr != -ENOPROTOOPT)
			return pr;
	}
	if (level == IPPROTO_IP && name == IP_MTU_DISCOVER && so->family == AF_INET) {
		v = so->type == SOCK_DGRAM ? so->pmtudisc : IP_PMTUDISC_WANT;
		return opt_put(val, len, &v, sizeof(v));
	}
	if (level == IPPROTO_IPV6 && name == IPV6_V6ONLY && so->family == AF_INET6) {
		v = 1;
		return opt_put(val, len, &v, sizeof(v));
	}
	if (level != SOL_SOCKET)
		return -ENOPROTOOPT;
	if (name == SO_RCVTIMEO || name == SO_SNDTIMEO) {
		int64_t us = name == SO_RCVTIMEO ? so->rcvtimeo_us : so->sndtimeo_us;
		struct timeval tv = { .tv_sec = us / 1000000, .tv_usec = us % 1000000 };
		return opt_put(val, len, &tv, sizeof(tv));
	}
	switch (name) {
	case SO_RCVBUF: v = (int)so->rcvbuf; break;
	case SO_SNDBUF: v = (int)so->sndbuf; break;
	case SO_REUSEADDR: v = so->reuseaddr; break;
	case SO_NONBLOCK: v = so->nonblock; break;
	case SO_TYPE: v = so->type; break;
	case SO_ERROR: v = so->error; so->error = 0; break;
	default: return -ENOPROTOOPT;
	}
	return opt_put(val, len, &v, sizeof(v));
}
