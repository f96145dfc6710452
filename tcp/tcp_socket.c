/* The socket operations of TCP: what net_listen, net_accept, net_connect,
 * net_send, net_recv, net_shutdown, net_close and net_poll do on a stream
 * socket. Like every protocol's operations they never wait: "not yet" is
 * -EAGAIN (or -EINPROGRESS for connect), and stack/socket.c waits. The RFC
 * 9293 3.10 "user calls" (OPEN, SEND, RECEIVE, CLOSE, ABORT) are here. */
#include <errno.h>
#include <string.h>

#include "ip/ip.h"
#include "stack/socket.h"
#include "stack/stack.h"
#include "tcp/tcp.h"
#include "tcp/tcp_internal.h"
#include "tcp/tcp_trace.h"

#define TCP_ORPHAN_TIMEOUT_US (60 * 1000000LL) /* FIN-WAIT after close(): as Linux's tcp_fin_timeout */
#define SOCK_BUF_MIN 2048
#define SOCK_BUF_MAX (16 * 1024 * 1024)

static const struct sock_ops tcp_ops;

/* The control block of so; NULL once the connection is gone for good. */
static struct tcb *sotcb(struct socket *so)
{
	return so->proto;
}

/* True if another socket's use of lport forbids so to bind it: any use,
 * unless so has SO_REUSEADDR; then only a listener on an overlapping address
 * (connections in TIME-WAIT, say, don't block a restarting server). */
static bool tcp_port_conflict(struct stack *s, struct socket *so, const struct ipaddr *laddr,
			      uint16_t lport)
{
	if (!tcp_port_in_use_family(s, lport, so->family))
		return false; /* the other family's use does not count (IPV6_V6ONLY) */
	if (!so->reuseaddr)
		return true;
	for (struct tcb *lp = s->tcp.listeners; lp; lp = lp->hash_next)
		if (lp->lport == lport && lp->family == so->family &&
		    (lp->laddr.family == 0 || laddr->family == 0 || ipaddr_eq(&lp->laddr, laddr)))
			return true;
	return false;
}

static int tcp_so_bind(struct socket *so, const struct ipaddr *laddr, uint16_t lport)
{
	struct tcb *tp = sotcb(so);
	if (!tp || tp->state != TCP_CLOSED)
		return -EINVAL;
	if (laddr->family && !ip_is_local(so->s, laddr))
		return -EADDRNOTAVAIL;
	if (lport == 0) {
		lport = socket_ephemeral_port(so->s, tcp_port_in_use);
		if (lport == 0)
			return -EADDRINUSE;
	} else if (tcp_port_conflict(so->s, so, laddr, lport)) {
		return -EADDRINUSE;
	}
	tp->laddr = *laddr;
	tcb_take_port(tp, lport);
	so->laddr = *laddr;
	so->lport = lport;
	so->bound = true;
	return 0;
}

/* RFC 9293 3.10.1 OPEN, passive: the control block waits in LISTEN. */
static int tcp_so_listen(struct socket *so, int backlog)
{
	struct tcb *tp = sotcb(so);
	if (!tp)
		return -EINVAL;
	if (tp->state == TCP_LISTEN) {
		tp->listen.backlog = backlog; /* listen() again changes the backlog */
		return 0;
	}
	if (tp->state != TCP_CLOSED)
		return -EINVAL;
	if (!so->bound) {
		struct ipaddr any = { 0 };
		int r = tcp_so_bind(so, &any, 0);
		if (r < 0)
			return r;
	}
	struct ipaddr probe = tp->laddr;
	if (probe.family == 0)
		probe.family = tp->family; /* the wildcard of this socket's family */
	struct tcb *other = tcp_lookup_listener(so->s, &probe, tp->lport);
	if (other && (other->laddr.family == 0 || ipaddr_eq(&other->laddr, &tp->laddr)))
		return -EADDRINUSE;
	tp->listen.backlog = backlog;
	tcp_set_state(tp, TCP_LISTEN);
	tcb_hash(tp);
	so->listening = true;
	return 0;
}

void tcp_socket_attach(struct socket *so, struct tcb *tp)
{
	so->ops = &tcp_ops;
	so->proto = tp;
	tp->so = so;
	so->laddr = tp->laddr;
	so->lport = tp->lport;
	so->raddr = tp->raddr;
	so->rport = tp->rport;
	so->bound = tp->lport != 0;
	so->connected = tcp_state_handshake(tp->state) || tcp_state_synced(tp->state);
	if (!so->sndbuf)
		so->sndbuf = tp->sndbuf.limit;
	if (!so->rcvbuf)
		so->rcvbuf = tp->rcvbuf.limit;
}

void tcp_socket_wake(struct tcb *tp)
{
	socket_wake(tp->so);
}

int tcp_socket_init(struct socket *so)
{
	struct tcb *tp = tcb_new(so->s);
	if (!tp)
		return -ENOBUFS;
	tp->family = (uint8_t)so->family;
	tcp_socket_attach(so, tp);
	return 0;
}

/* Takes one established connection off the listener's queue as a new socket. */
static int tcp_so_accept(struct socket *so, struct socket **child)
{
	struct tcb *lp = sotcb(so);
	if (!lp || lp->state != TCP_LISTEN)
		return -EINVAL;
	struct tcb *c = tcp_accept_dequeue(lp);
	if (!c)
		return -EAGAIN;
	struct socket *cs = socket_alloc(so->s, so->family, SOCK_STREAM, IPPROTO_TCP);
	if (!cs) {
		/* no descriptor for it: the peer learns at once (RFC 9293 3.10.7.4
		 * "abort" behaviour), rather than talking to nobody */
		stats_inc(&so->s->stats, "tcp.accept_no_socket");
		tcp_send_rst(c);
		tcb_free(c);
		return -EMFILE;
	}
	cs->sndbuf = so->sndbuf;
	cs->rcvbuf = so->rcvbuf;
	tcp_socket_attach(cs, c);
	*child = cs;
	return 0;
}

/* RFC 9293 3.10.1 OPEN, active: send a SYN and wait in SYN-SENT. */
static int tcp_so_connect(struct socket *so, const struct ipaddr *raddr, uint16_t rport)
{
	struct tcb *tp = sotcb(so);
	struct stack *s = so->s;
	if (!tp)
		return -EINVAL;
	switch (tp->state) {
	case TCP_CLOSED:
		break;
	case TCP_SYN_SENT:
	case TCP_SYN_RECEIVED:
		return -EALREADY;
	case TCP_LISTEN:
		return -EINVAL;
	default:
		return -EISCONN;
	}
	if (so->connected)
		return -EISCONN; /* a connection that ended: POSIX wants a new socket */
	if (raddr->family == 0)
		return -EAFNOSUPPORT;
	struct ipaddr src = tp->laddr;
	if (src.family == 0) {
		int r = ip_select_source(s, raddr, &src);
		if (r < 0)
			return r;
	}
	if (!so->bound) {
		struct ipaddr any = { 0 };
		int r = tcp_so_bind(so, &any, 0);
		if (r < 0)
			return r;
	} else if (tcp_lookup(s, &src, tp->lport, raddr, rport)) {
		return -EADDRINUSE; /* that 4-tuple is taken */
	}
	tp->laddr = src;
	tp->raddr = *raddr;
	tp->rport = rport;
	so->laddr = src;
	so->raddr = *raddr;
	so->rport = rport;
	so->connected = true;

	size_t mtu_payload = ip_max_payload(s, raddr);
	tp->opt.rcv_mss = (uint16_t)(mtu_payload > TCP_HDR_LEN + 64 ? mtu_payload - TCP_HDR_LEN : TCP_DEFAULT_MSS);
	ring_set_limit(&tp->sndbuf, so->sndbuf);
	ring_set_limit(&tp->rcvbuf, so->rcvbuf);
	tp->iss = tcp_isn(s, &tp->laddr, tp->lport, &tp->raddr, tp->rport);
	tp->snd.una = tp->snd.nxt = tp->snd.max = tp->iss;
	tcp_set_state(tp, TCP_SYN_SENT);
	tcb_hash(tp);
	tcp_send_syn(tp);
	return -EINPROGRESS;
}

/* Returns so's pending error once (as a negative errno), or 0. */
static int take_error(struct socket *so)
{
	int e = so->error;
	so->error = 0;
	return -e;
}

/* RFC 9293 3.10.2 SEND: queue the bytes; tcp_output sends what the windows
 * allow. */
static ssize_t tcp_so_send(struct socket *so, const uint8_t *buf, size_t len, int flags,
			   const struct ipaddr *to, uint16_t tport)
{
	struct tcb *tp = sotcb(so);
	(void)flags;
	(void)to; /* the address of sendto() is ignored on a connected stream, as Linux does */
	(void)tport;
	if (so->error)
		return take_error(so);
	if (!tp)
		return -EPIPE;
	switch (tp->state) {
	case TCP_CLOSED:
		return so->connected ? -EPIPE : -ENOTCONN;
	case TCP_LISTEN:
		return -ENOTCONN;
	case TCP_SYN_SENT:
	case TCP_SYN_RECEIVED:
		return -EAGAIN; /* RFC 9293 3.10.2: queued until established; we wait instead */
	case TCP_ESTABLISHED:
	case TCP_CLOSE_WAIT:
		break;
	default:
		return -EPIPE; /* "connection closing" */
	}
	if (tp->fin_queued)
		return -EPIPE;
	if (len == 0)
		return 0;
	ring_set_limit(&tp->sndbuf, so->sndbuf);
	/* issue 20: over the host's hard memory limit the send ring does
	 * not grow; the app waits for its ACKs (POLLOUT) */
	size_t room = tcp_mem_snd_room(tp, len);
	if (room < len && room < ring_space(&tp->sndbuf))
		stats_inc(&so->s->stats, "tcp.mem_snd_limited");
	size_t n = ring_write(&tp->sndbuf, buf, room);
	tcp_mem_sync(tp);
	if (n == 0)
		return -EAGAIN;
	tcp_output(tp);
	return (ssize_t)n;
}

/* After the app read, the window it can offer grew: tell the peer when the
 * right edge would move by a useful amount (RFC 1122 4.2.3.3: at least
 * min(half the buffer, one MSS)), so a sender stopped by a full window
 * resumes; but, as Linux's tcp_cleanup_rbuf, only once the new window is
 * at least twice what the peer may still send (or that is under two
 * segments): until then the peer is not held back, and the ACKs of what it
 * sends carry the new window anyway. An update after every read would
 * double the ACKs of a bulk transfer, each one a system call here and a
 * pass through the peer's TCP. */
static void tcp_window_update(struct tcb *tp)
{
	if (!tcp_state_can_recv_data(tp->state))
		return;
	uint32_t wnd = tcp_rcv_window(tp);
	uint32_t step = tp->rcvbuf.limit / 2 < tp->opt.rcv_mss ? (uint32_t)tp->rcvbuf.limit / 2 : tp->opt.rcv_mss;
	uint32_t left = SEQ_GT(tp->rcv.adv, tp->rcv.nxt) ? tp->rcv.adv - tp->rcv.nxt : 0;
	bool held_back = left < wnd / 2 || left < 2u * tp->opt.rcv_mss;
	/* an ACK already owed (a delayed one, RFC 1122 4.2.3.2) goes now with
	 * the new window rather than at its timer: it costs no extra segment,
	 * and a sender whose whole window is one segment (after an RTO, RFC
	 * 5681 3.1) does not wait 200 ms per round trip for it */
	bool owed = tp->timer.delack != TCP_NO_TIMER;
	if (SEQ_GEQ(tp->rcv.nxt + wnd, tp->rcv.adv + step) && (held_back || owed))
		tcp_send_ack(tp);
}

/* RFC 9293 3.10.3 RECEIVE: the in-order bytes; 0 at the end of the stream. */
static ssize_t tcp_so_recv(struct socket *so, uint8_t *buf, size_t len, int flags,
			   struct ipaddr *from, uint16_t *fport)
{
	struct tcb *tp = sotcb(so);
	if (from)
		*from = so->raddr;
	if (fport)
		*fport = so->rport;
	if (tp && tp->rcvbuf.len > 0 && !tp->rd_shut && len > 0) {
		size_t n = (flags & MSG_PEEK) ? ring_peek(&tp->rcvbuf, 0, buf, len)
					      : ring_read(&tp->rcvbuf, buf, len);
		if (!(flags & MSG_PEEK)) {
			tcp_mem_sync(tp); /* under pressure an emptied ring goes back */
			tcp_window_update(tp);
		}
		return (ssize_t)n;
	}
	if (so->error)
		return take_error(so);
	if (!tp || tp->rd_shut || tp->fin_rcvd)
		return 0;
	if (tp->state == TCP_CLOSED)
		return so->connected ? 0 : -ENOTCONN;
	if (tp->state == TCP_LISTEN)
		return -ENOTCONN;
	if (len == 0)
		return 0;
	return -EAGAIN;
}

static short tcp_so_poll(struct socket *so)
{
	struct tcb *tp = sotcb(so);
	short ev = 0;
	if (so->error)
		ev |= POLLERR | POLLIN;
	if (!tp)
		return ev | POLLHUP | POLLIN;
	switch (tp->state) {
	case TCP_LISTEN:
		if (tp->listen.accept_head)
			ev |= POLLIN;
		return ev;
	case TCP_CLOSED:
		/* never connected, or finished: nothing will come any more */
		return ev | POLLHUP | (so->connected ? POLLIN : 0);
	case TCP_SYN_SENT:
	case TCP_SYN_RECEIVED:
		return ev;
	default:
		break;
	}
	if (tp->rcvbuf.len > 0 || tp->fin_rcvd || tp->rd_shut)
		ev |= POLLIN;
	if (tcp_state_can_send_data(tp->state) && !tp->fin_queued &&
	    tcp_mem_snd_room(tp, 1) > 0)
		ev |= POLLOUT;
	if (tp->fin_rcvd && tp->fin_queued)
		ev |= POLLHUP; /* both directions are closed */
	return ev;
}

/* RFC 9293 3.10.4 CLOSE, for the sending direction: the FIN goes after the
 * queued data; the state moves now. */
static void tcp_close_sending(struct tcb *tp)
{
	if (tp->fin_queued)
		return;
	switch (tp->state) {
	case TCP_SYN_RECEIVED:
	case TCP_ESTABLISHED:
		tp->fin_queued = true;
		tcp_set_state(tp, TCP_FIN_WAIT_1);
		break;
	case TCP_CLOSE_WAIT:
		tp->fin_queued = true;
		tcp_set_state(tp, TCP_LAST_ACK);
		break;
	default:
		return;
	}
	tcp_output(tp);
}

static int tcp_so_shutdown(struct socket *so, int how)
{
	struct tcb *tp = sotcb(so);
	if (!tp || !tcp_state_synced(tp->state))
		return -ENOTCONN;
	if (how == SHUT_RD || how == SHUT_RDWR) {
		tp->rd_shut = true;
		ring_drop(&tp->rcvbuf, tp->rcvbuf.len);
	}
	if (how == SHUT_WR || how == SHUT_RDWR)
		tcp_close_sending(tp);
	return 0;
}

/* True in the states where the peer holds a synchronized connection. */
static bool tcp_synchronized(const struct tcb *tp)
{
	return tcp_state_synced(tp->state) && tp->state != TCP_TIME_WAIT;
}

/* net_close: the app lets go. The connection closes gracefully on its own
 * (an orphan), or is aborted with a RST: with SO_LINGER {1, 0}, and when
 * unread data would be lost (RFC 2525 2.17, as Linux does). */
static void tcp_so_close(struct socket *so)
{
	struct tcb *tp = sotcb(so);
	if (!tp)
		return;
	struct stack *s = so->s;
	if (tcp_synchronized(tp) && (so->linger == 0 || tp->rcvbuf.len > 0)) {
		stats_inc(&s->stats, so->linger == 0 ? "tcp.abort_linger" : "tcp.abort_unread_data");
		tcp_send_rst(tp); /* RFC 9293 3.10.5 ABORT */
		tcb_free(tp);
		return;
	}
	switch (tp->state) {
	case TCP_CLOSED:
	case TCP_LISTEN:
	case TCP_SYN_SENT:
		tcb_free(tp); /* RFC 9293 3.10.4: delete the TCB */
		return;
	default:
		break;
	}
	/* issue 20, as Linux's tcp_max_orphans (tcp_close, tcp_check_oom):
	 * a host holding --tcp-max-orphans connections closed by their apps
	 * and still closing resets this one instead of keeping it */
	if (tcp_synchronized(tp) && !tcp_orphan_add(tp)) {
		stats_inc(&s->stats, "tcp.orphans_killed");
		tcp_send_rst(tp); /* RFC 9293 3.10.5 ABORT */
		tcb_free(tp);
		return;
	}
	tcp_close_sending(tp);
	tp->so = NULL;
	so->proto = NULL;
	tcp_mem_release(tp); /* nobody reads the receive ring again */
	/* an orphan must not wait forever for a peer that never closes */
	if (tcp_state_fin_wait(tp->state))
		tcp_timer_set(tp, &tp->timer.twomsl, s->now + TCP_ORPHAN_TIMEOUT_US);
}

/* Reads an int option. */
static int opt_int(const void *val, socklen_t len, int *v)
{
	if (!val || len < (socklen_t)sizeof(int))
		return -EINVAL;
	memcpy(v, val, sizeof(int));
	return 0;
}

/* TCP_CONGESTION: the connection's congestion control by name (a string
 * of len bytes, NUL-terminated or not, as Linux). The window the old one
 * reached is kept. -ENOENT for an unknown name. */
static int tcp_set_congestion(struct socket *so, struct tcb *tp, const void *val, socklen_t len)
{
	char name[16];

	(void)so;
	if (!val || len == 0)
		return -EINVAL;
	size_t n = (size_t)len < sizeof(name) - 1 ? (size_t)len : sizeof(name) - 1;
	memcpy(name, val, n);
	name[n] = '\0';
	const struct tcp_cc_ops *cc = tcp_cc_find(name);
	if (!cc)
		return -ENOENT;
	if (tp && tp->cc != cc) {
		tp->cc = cc;
		/* the new algorithm starts from a clean state (cwnd is kept) */
		memset(tp->cc_priv, 0, sizeof(tp->cc_priv));
	}
	return 0;
}

/* TCP_TRACE_FILE: the connection's trace rows go to the file named by val
 * (len bytes, NUL-terminated or not); "" stops them. */
static int tcp_set_trace_file(struct tcb *tp, const void *val, socklen_t len)
{
	char path[256];

	if (!tp)
		return -EINVAL;
	if (!val || (size_t)len >= sizeof(path))
		return -EINVAL;
	memcpy(path, val, (size_t)len);
	path[len] = '\0';
	return tcp_trace_set_file(tp, path);
}

static int tcp_so_setsockopt(struct socket *so, int level, int name, const void *val, socklen_t len)
{
	struct tcb *tp = sotcb(so);
	int v = 0, r;
	if (level == IPPROTO_TCP && name == TCP_NODELAY) {
		if ((r = opt_int(val, len, &v)) < 0)
			return r;
		if (tp) {
			tp->nodelay = v != 0;
			if (tp->nodelay && tcp_state_have_established(tp->state))
				tcp_output(tp); /* what Nagle held back goes now */
		}
		return 0;
	}
	if (level == IPPROTO_TCP && name == TCP_CONGESTION)
		return tcp_set_congestion(so, tp, val, len);
	if (level == IPPROTO_TCP && name == TCP_TRACE_FILE)
		return tcp_set_trace_file(tp, val, len);
	if (level != SOL_SOCKET)
		return -ENOPROTOOPT;
	switch (name) {
	case SO_KEEPALIVE:
		if ((r = opt_int(val, len, &v)) < 0)
			return r;
		if (tp) {
			tp->keepalive = v != 0;
			tp->timer.keep_segs = tp->stat.segs_in; /* idle counts from now */
			int64_t when = tp->keepalive && tp->state == TCP_ESTABLISHED
					       ? so->s->now + TCP_KEEPALIVE_IDLE_US : TCP_NO_TIMER;
			tcp_timer_set(tp, &tp->timer.keep, when);
		}
		return 0;
	case SO_LINGER: {
		struct linger l;
		if (!val || len < (socklen_t)sizeof(l))
			return -EINVAL;
		memcpy(&l, val, sizeof(l));
		so->linger = l.l_onoff ? (l.l_linger < 0 ? 0 : l.l_linger) : -1;
		return 0;
	}
	case SO_RCVBUF:
	case SO_SNDBUF:
		if ((r = opt_int(val, len, &v)) < 0)
			return r;
		if (v < 0)
			return -EINVAL;
		size_t bytes = v < SOCK_BUF_MIN ? SOCK_BUF_MIN : v > SOCK_BUF_MAX ? SOCK_BUF_MAX : (size_t)v;
		if (name == SO_RCVBUF) {
			so->rcvbuf = bytes;
			if (tp)
				ring_set_limit(&tp->rcvbuf, bytes);
		} else {
			so->sndbuf = bytes;
			if (tp)
				ring_set_limit(&tp->sndbuf, bytes);
		}
		return 0;
	default:
		return -ENOPROTOOPT;
	}
}

static int tcp_so_getsockopt(struct socket *so, int level, int name, void *val, socklen_t *len)
{
	struct tcb *tp = sotcb(so);
	int v;
	if (level == IPPROTO_TCP && name == TCP_CONGESTION) {
		const char *cc = tp ? tp->cc->name : so->s->tcp.cc_default->name;
		size_t n = strlen(cc) + 1;
		if (!val || (size_t)*len < n)
			return -EINVAL;
		memcpy(val, cc, n);
		*len = (socklen_t)n;
		return 0;
	}
	if (level == IPPROTO_TCP && name == TCP_NODELAY)
		v = tp && tp->nodelay;
	else if (level == IPPROTO_TCP && name == TCP_MAXSEG)
		/* the payload per segment we send (the peer's MSS, RFC 9293
		 * 3.7.1, less the timestamp option, RFC 6691 2), as Linux;
		 * before synchronization the default MSS */
		v = tp && tcp_state_synced(tp->state) ? (int)tcp_seg_size(tp) : TCP_DEFAULT_MSS;
	else if (level == SOL_SOCKET && name == SO_KEEPALIVE)
		v = tp && tp->keepalive;
	else if (level == SOL_SOCKET && name == SO_LINGER) {
		struct linger l = { .l_onoff = so->linger >= 0, .l_linger = so->linger < 0 ? 0 : so->linger };
		if (*len < (socklen_t)sizeof(l))
			return -EINVAL;
		memcpy(val, &l, sizeof(l));
		*len = sizeof(l);
		return 0;
	} else
		return -ENOPROTOOPT;
	if (*len < (socklen_t)sizeof(int))
		return -EINVAL;
	memcpy(val, &v, sizeof(int));
	*len = sizeof(int);
	return 0;
}

/* FIONREAD: the bytes received in order and not yet read (out-of-order
 * data is not readable yet); -EINVAL on a listener, as Linux. */
static ssize_t tcp_so_readable(struct socket *so)
{
	struct tcb *tp = sotcb(so);
	if (tp && tp->state == TCP_LISTEN)
		return -EINVAL;
	return tp && !tp->rd_shut ? (ssize_t)tp->rcvbuf.len : 0;
}

static const struct sock_ops tcp_ops = {
	.bind = tcp_so_bind,
	.connect = tcp_so_connect,
	.sendto = tcp_so_send,
	.recvfrom = tcp_so_recv,
	.poll = tcp_so_poll,
	.close = tcp_so_close,
	.listen = tcp_so_listen,
	.accept = tcp_so_accept,
	.shutdown = tcp_so_shutdown,
	.setsockopt = tcp_so_setsockopt,
	.getsockopt = tcp_so_getsockopt,
	.readable = tcp_so_readable,
};
