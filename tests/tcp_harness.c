/* TCP test helpers. See tcp_harness.h. */
#include "tests/tcp_harness.h"

#include <string.h>

#include "ip/ipv4.h"
#include "link/eth.h"
#include "stack/byteorder.h"
#include "stack/net.h"
#include "stack/socket.h"

void th_init(struct tcp_harness *t)
{
	memset(t, 0, sizeof(*t));
	harness_init(&t->h, "10.0.0.2/24", "10.0.0.1");
	harness_learn_peer(&t->h);
	net_use_stack(&t->h.s);
	t->iss = 1000;
	t->irs = 5000;
}

void th_fini(struct tcp_harness *t)
{
	net_close_all(&t->h.s);
	harness_fini(&t->h);
}

struct tcb *th_tcb_in_state(struct tcp_harness *t, enum tcp_state st)
{
	struct stack *s = &t->h.s;
	struct tcb *tp = tcb_new(s);
	ck_assert_ptr_nonnull(tp);
	tp->laddr = ipaddr_v4(TH_HOST_IP);
	tcb_take_port(tp, TH_HOST_PORT);
	if (st == TCP_LISTEN) {
		memset(&tp->laddr, 0, sizeof(tp->laddr));
		tp->listen.backlog = 8;
		tp->state = TCP_LISTEN;
		tcb_hash(tp);
		return tp;
	}
	tp->raddr = ipaddr_v4(TH_PEER_IP);
	tp->rport = TH_PEER_PORT;
	tp->iss = t->iss;
	tp->irs = t->irs;
	tp->snd.una = tp->iss + 1;
	tp->snd.nxt = tp->snd.max = tp->iss + 1;
	tp->rcv.nxt = tp->irs + 1;
	tp->snd.wnd = 65535;
	tp->snd.wl1 = tp->irs;
	tp->snd.wl2 = tp->iss;
	tp->opt.snd_mss = 1460;
	tp->opt.rcv_mss = 1460;
	tp->rcv.wnd = (uint32_t)tp->rcvbuf.limit;
	tp->rcv.adv = tp->rcv.nxt + tp->rcv.wnd;
	tp->cwnd = 10 * 1460;
	tp->state = st;
	if (st == TCP_TIME_WAIT)
		s->tcp.time_wait++; /* as tcp_set_state counts it */
	switch (st) {
	case TCP_SYN_SENT:
		tp->snd.una = tp->iss;
		tp->rcv.nxt = 0;
		tp->rcv.adv = 0;
		break;
	case TCP_SYN_RECEIVED:
		tp->snd.una = tp->iss;
		break;
	case TCP_FIN_WAIT_1:
		tp->fin_queued = true;
		tp->snd.nxt = tp->snd.max = tp->iss + 2;
		break;
	case TCP_FIN_WAIT_2:
		tp->fin_queued = true;
		tp->snd.una = tp->snd.nxt = tp->snd.max = tp->iss + 2;
		break;
	case TCP_CLOSE_WAIT:
		tp->fin_rcvd = true;
		tp->rcv.nxt = tp->irs + 2;
		break;
	case TCP_CLOSING:
	case TCP_LAST_ACK:
		tp->fin_queued = true;
		tp->fin_rcvd = true;
		tp->snd.nxt = tp->snd.max = tp->iss + 2;
		tp->rcv.nxt = tp->irs + 2;
		break;
	case TCP_TIME_WAIT:
		tp->fin_queued = true;
		tp->fin_rcvd = true;
		tp->snd.una = tp->snd.nxt = tp->snd.max = tp->iss + 2;
		tp->rcv.nxt = tp->irs + 2;
		break;
	default:
		break;
	}
	tp->rcv.adv = tp->rcv.nxt + tp->rcv.wnd;
	tcb_hash(tp);
	if (tp->snd.una != tp->snd.nxt)
		tcp_timer_set(tp, &tp->timer.rexmt, s->now + tp->rtt.rto);
	if (st == TCP_TIME_WAIT)
		tcp_timer_set(tp, &tp->timer.twomsl, s->now + 2 * s->tcp.msl_us);
	return tp;
}

int th_socket(struct tcp_harness *t, struct tcb *tp)
{
	struct socket *so = socket_alloc(&t->h.s, AF_INET, SOCK_STREAM, IPPROTO_TCP);
	ck_assert_ptr_nonnull(so);
	so->nonblock = true;
	tcp_socket_attach(so, tp);
	return so->fd;
}

void th_inject(struct tcp_harness *t, struct tcp_seg seg)
{
	uint8_t tcp[2048], frame[2200];
	ck_assert_uint_le(seg.len, 1460);
	size_t hl = tcp_emit(&seg, tcp);
	for (size_t i = 0; i < seg.len; i++)
		tcp[hl + i] = seg.data ? seg.data[i] : (uint8_t)(seg.seq + i);
	struct ipaddr src = ipaddr_v4(TH_PEER_IP), dst = ipaddr_v4(TH_HOST_IP);
	tcp_set_checksum(&src, &dst, tcp, hl + seg.len);
	size_t n = build_ipv4_frame(frame, t_mac_host, t_mac_peer, TH_PEER_IP, TH_HOST_IP, IP_PROTO_TCP,
				    tcp, hl + seg.len);
	inject(&t->h, frame, n);
}

/* The next frame the host sent that carries TCP, or NULL. */
static struct pkt *next_tcp_frame(struct tcp_harness *t)
{
	struct pkt *p;
	while ((p = testdev_take_sent(t->h.dev)) != NULL) {
		if (p->len >= ETH_HDR_LEN + IPV4_HDR_LEN && be16_get(p->data + 12) == ETH_TYPE_IPV4 &&
		    p->data[ETH_HDR_LEN + 9] == IP_PROTO_TCP)
			return p;
		pkt_free(p);
	}
	return NULL;
}

void th_expect(struct tcp_harness *t, struct tcp_seg *out)
{
	struct pkt *p = next_tcp_frame(t);
	ck_assert_msg(p != NULL, "expected a TCP segment from the host, it sent none");
	struct ipv4_hdr ih;
	ck_assert_ptr_null(ipv4_parse(p->data + ETH_HDR_LEN, p->len - ETH_HDR_LEN, &ih));
	size_t hl = (size_t)ih.ihl * 4, len = ih.total_len - hl;
	ck_assert_uint_le(len, sizeof(t->last));
	memcpy(t->last, p->data + ETH_HDR_LEN + hl, len);
	t->last_ip_frag = ih.frag;
	pkt_free(p);
	struct ipaddr src = ipaddr_v4(ih.src), dst = ipaddr_v4(ih.dst);
	ck_assert_msg(tcp_checksum_ok(&src, &dst, t->last, len), "the host sent a bad TCP checksum");
	ck_assert_ptr_null(tcp_parse(t->last, len, out));
}

void th_expect_none(struct tcp_harness *t)
{
	struct pkt *p = next_tcp_frame(t);
	size_t len = p ? p->len : 0;
	pkt_free(p);
	ck_assert_msg(p == NULL, "expected no TCP segment, the host sent a %zu-byte frame", len);
}

void th_advance(struct tcp_harness *t, int64_t us)
{
	advance(&t->h, us);
}

uint8_t th_pat(uint32_t seq)
{
	return (uint8_t)(seq * 7u + (seq >> 8) * 13u + 1u);
}

void th_queue(struct tcb *tp, size_t n)
{
	uint8_t buf[4096];
	while (n > 0) {
		size_t k = n < sizeof(buf) ? n : sizeof(buf);
		uint32_t seq = tp->snd.una + (uint32_t)tp->sndbuf.len;
		for (size_t i = 0; i < k; i++)
			buf[i] = th_pat(seq + (uint32_t)i);
		ck_assert_uint_eq(ring_write(&tp->sndbuf, buf, k), k);
		n -= k;
	}
}

void th_expect_seg(struct tcp_harness *t, struct tcp_seg *out, uint32_t rel_seq, size_t len,
		   uint8_t flags)
{
	th_expect(t, out);
	ck_assert_uint_eq(out->seq - t->iss, rel_seq);
	ck_assert_uint_eq(out->len, len);
	ck_assert_uint_eq(out->flags, flags);
	for (size_t i = 0; i < len; i++)
		ck_assert_uint_eq(out->data[i], th_pat(out->seq + (uint32_t)i));
}

void th_peer_ack(struct tcp_harness *t, struct tcb *tp, uint32_t rel_ack, uint16_t wnd)
{
	struct tcp_seg seg = SEG(.flags = TCP_FLAG_ACK, .seq = tp->rcv.nxt, .ack = t->iss + rel_ack);
	seg.wnd = wnd;
	th_inject(t, seg);
}
