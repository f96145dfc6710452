/* Offloads (a TAP with a virtio-net header): the header's codec, TCP
 * segments larger than the MSS for a device that cuts them (TSO) with the
 * checksum left for it, the same connection without such a device, and
 * large received segments (GRO) whose checksum the device vouched for. */
#include <check.h>
#include <linux/virtio_net.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "ip/ipv4.h"
#include "link/eth.h"
#include "link/tap_priv.h"
#include "link/vnet.h"
#include "stack/byteorder.h"
#include "stack/checksum.h"
#include "tcp/tcp_codec.h"
#include "tests/tcp_harness.h"

#define MSS 1460

/* Our names are the kernel's numbers (linux/virtio_net.h). */
_Static_assert(VNET_HDR_LEN == sizeof(struct virtio_net_hdr), "header size");
_Static_assert(VNET_F_NEEDS_CSUM == VIRTIO_NET_HDR_F_NEEDS_CSUM, "NEEDS_CSUM");
_Static_assert(VNET_F_DATA_VALID == VIRTIO_NET_HDR_F_DATA_VALID, "DATA_VALID");
_Static_assert(VNET_GSO_TCPV4 == VIRTIO_NET_HDR_GSO_TCPV4, "GSO_TCPV4");
_Static_assert(VNET_GSO_TCPV6 == VIRTIO_NET_HDR_GSO_TCPV6, "GSO_TCPV6");
_Static_assert(VNET_GSO_UDP == VIRTIO_NET_HDR_GSO_UDP, "GSO_UDP");
_Static_assert(VNET_GSO_ECN == VIRTIO_NET_HDR_GSO_ECN, "GSO_ECN");

START_TEST(vnet_emit_and_parse)
{
	/* a TSO segment: Ethernet 14 + IP 20 + TCP 32 = 66 bytes of
	 * headers, 1448 bytes a segment, TCP's checksum at 34 + 16 */
	struct vnet_hdr h = { .flags = VNET_F_NEEDS_CSUM, .gso_type = VNET_GSO_TCPV4, .hdr_len = 66,
			      .gso_size = 1448, .csum_start = 34, .csum_offset = 16 };
	static const uint8_t want[VNET_HDR_LEN] = { 0x01, 0x01, 0x42, 0x00, 0xa8, 0x05,
						    0x22, 0x00, 0x10, 0x00 };
	uint8_t buf[VNET_HDR_LEN];
	vnet_emit(&h, buf);
	ck_assert_mem_eq(buf, want, sizeof(want)); /* little-endian, at the named offsets */
	struct vnet_hdr back;
	ck_assert_ptr_null(vnet_parse(buf, sizeof(buf), 66 + 2 * 1448, &back));
	ck_assert_uint_eq(back.flags, VNET_F_NEEDS_CSUM);
	ck_assert_uint_eq(back.gso_type, VNET_GSO_TCPV4);
	ck_assert_uint_eq(back.hdr_len, 66);
	ck_assert_uint_eq(back.gso_size, 1448);
	ck_assert_uint_eq(back.csum_start, 34);
	ck_assert_uint_eq(back.csum_offset, 16);
	/* an ordinary frame: all zero */
	static const uint8_t zero[VNET_HDR_LEN];
	ck_assert_ptr_null(vnet_parse(zero, sizeof(zero), 60, &back));
	ck_assert_uint_eq(back.flags, 0);
	ck_assert_uint_eq(back.gso_type, VNET_GSO_NONE);
}
END_TEST

START_TEST(vnet_parse_rejects_bad_headers)
{
	struct vnet_hdr h = { .flags = VNET_F_NEEDS_CSUM, .csum_start = 34, .csum_offset = 16 }, out;
	uint8_t buf[VNET_HDR_LEN];
	vnet_emit(&h, buf);
	ck_assert_str_eq(vnet_parse(buf, VNET_HDR_LEN - 1, 100, &out), "tap.vnet_short");
	/* the checksum field (bytes 50, 51) must lie inside the frame */
	ck_assert_ptr_null(vnet_parse(buf, sizeof(buf), 52, &out));
	ck_assert_str_eq(vnet_parse(buf, sizeof(buf), 51, &out), "tap.vnet_bad_csum");
	/* a segment to cut without a partial checksum, or of size 0 */
	h = (struct vnet_hdr){ .gso_type = VNET_GSO_TCPV4, .gso_size = 1448 };
	vnet_emit(&h, buf);
	ck_assert_str_eq(vnet_parse(buf, sizeof(buf), 3000, &out), "tap.vnet_bad_gso");
	h = (struct vnet_hdr){ .flags = VNET_F_NEEDS_CSUM, .gso_type = VNET_GSO_TCPV6,
			       .csum_start = 54, .csum_offset = 16 };
	vnet_emit(&h, buf);
	ck_assert_str_eq(vnet_parse(buf, sizeof(buf), 3000, &out), "tap.vnet_bad_gso");
	/* UDP fragmentation offload was never asked for */
	h = (struct vnet_hdr){ .flags = VNET_F_NEEDS_CSUM, .gso_type = VNET_GSO_UDP, .gso_size = 1472,
			       .csum_start = 34, .csum_offset = 6 };
	vnet_emit(&h, buf);
	ck_assert_str_eq(vnet_parse(buf, sizeof(buf), 3000, &out), "tap.vnet_bad_gso");
	/* ECN is a flag on a TCP type */
	h = (struct vnet_hdr){ .flags = VNET_F_NEEDS_CSUM, .gso_type = VNET_GSO_TCPV4 | VNET_GSO_ECN,
			       .gso_size = 1448, .csum_start = 34, .csum_offset = 16 };
	vnet_emit(&h, buf);
	ck_assert_ptr_null(vnet_parse(buf, sizeof(buf), 3000, &out));
}
END_TEST

/* The IPv4 header and TCP segment of frame p (Ethernet first), checked:
 * returns the TCP segment's length, its start in *tcp. */
static size_t frame_tcp(const struct pkt *p, struct ipv4_hdr *ih, const uint8_t **tcp)
{
	ck_assert_uint_ge(p->len, ETH_HDR_LEN + IPV4_HDR_LEN);
	ck_assert_uint_eq(be16_get(p->data + 12), ETH_TYPE_IPV4);
	ck_assert_ptr_null(ipv4_parse(p->data + ETH_HDR_LEN, p->len - ETH_HDR_LEN, ih));
	ck_assert_uint_eq(ih->proto, IP_PROTO_TCP);
	*tcp = p->data + ETH_HDR_LEN + (size_t)ih->ihl * 4;
	return ih->total_len - (size_t)ih->ihl * 4;
}

/* With a device that cuts segments (tso_max), 40000 bytes in the window go
 * as one segment of 27 full segments (the device's to cut into 1460s),
 * its checksum left partial for the device: completing it gives a correct
 * one. The 580-byte tail waits (Nagle) as it would without TSO. */
START_TEST(tso_sends_full_segments_in_one)
{
	struct tcp_harness t;
	th_init(&t);
	t.h.dev->tso_max = 65535;
	struct tcb *tp = th_tcb_in_state(&t, TCP_ESTABLISHED);
	tp->cwnd = 100 * MSS;
	tp->snd.wnd = 65535;

	th_queue(tp, 40000);
	ck_assert_int_eq(tcp_output(tp), 0);
	struct pkt *p = testdev_take_sent(t.h.dev);
	ck_assert_ptr_nonnull(p);
	ck_assert_ptr_null(testdev_take_sent(t.h.dev)); /* the tail is held back */
	struct ipv4_hdr ih;
	const uint8_t *tcp;
	size_t len = frame_tcp(p, &ih, &tcp);
	ck_assert_uint_eq(len, TCP_HDR_LEN + 27 * MSS);
	ck_assert_uint_eq(ih.frag & (IPV4_FLAG_MF | IPV4_FRAG_MASK), 0); /* not fragmented */
	ck_assert_uint_eq(p->off.gso_size, MSS);
	ck_assert_ptr_eq(p->head + p->off.csum_start, tcp);
	ck_assert_uint_eq(p->off.csum_offset, TCP_CSUM_OFFSET);
	struct tcp_seg seg;
	ck_assert_ptr_null(tcp_parse(tcp, len, &seg));
	ck_assert_uint_eq(seg.seq, t.iss + 1);
	for (size_t i = 0; i < seg.len; i++)
		ck_assert_uint_eq(seg.data[i], th_pat(t.iss + 1 + (uint32_t)i));
	struct ipaddr src = ipaddr_v4(ih.src), dst = ipaddr_v4(ih.dst);
	ck_assert(!tcp_checksum_ok(&src, &dst, tcp, len)); /* partial: only the pseudo-header */
	pkt_csum_complete(p);
	ck_assert(tcp_checksum_ok(&src, &dst, tcp, len));
	ck_assert_uint_eq(p->off.csum_start, 0);
	pkt_free(p);
	ck_assert_uint_eq(tp->snd.nxt, t.iss + 1 + 27 * MSS);
	ck_assert_uint_eq(stats_get(&t.h.s.stats, "tcp.tx_tso_segments"), 1);

	/* all acknowledged: the 580-byte tail goes alone, with PSH, not TSO */
	th_peer_ack(&t, tp, 1 + 27 * MSS, 65535);
	p = testdev_take_sent(t.h.dev);
	ck_assert_ptr_nonnull(p);
	len = frame_tcp(p, &ih, &tcp);
	ck_assert_uint_eq(len, TCP_HDR_LEN + 40000 - 27 * MSS);
	ck_assert_uint_eq(p->off.gso_size, 0);
	ck_assert_uint_ne(p->off.csum_start, 0); /* the device still sums it */
	pkt_free(p);
	th_fini(&t);
}
END_TEST

/* The same without a device that offloads: segments of the MSS, each with
 * its checksum complete, nothing left for a device. */
START_TEST(no_tso_without_the_device)
{
	struct tcp_harness t;
	th_init(&t);
	struct tcb *tp = th_tcb_in_state(&t, TCP_ESTABLISHED);
	tp->cwnd = 100 * MSS;
	th_queue(tp, 40000);
	ck_assert_int_eq(tcp_output(tp), 0);
	int n = 0;
	struct pkt *p;
	while ((p = testdev_take_sent(t.h.dev)) != NULL) {
		struct ipv4_hdr ih;
		const uint8_t *tcp;
		size_t len = frame_tcp(p, &ih, &tcp);
		ck_assert_uint_eq(len, TCP_HDR_LEN + MSS);
		ck_assert_uint_eq(p->off.gso_size, 0);
		ck_assert_uint_eq(p->off.csum_start, 0);
		struct ipaddr src = ipaddr_v4(ih.src), dst = ipaddr_v4(ih.dst);
		ck_assert(tcp_checksum_ok(&src, &dst, tcp, len));
		pkt_free(p);
		n++;
	}
	ck_assert_int_eq(n, 27); /* the 580-byte tail waits (Nagle) */
	th_fini(&t);
}
END_TEST

/* Builds the frame of a segment from the peer with len bytes of the
 * pattern (seq + i) and a checksum that is correct, or, with partial,
 * only the pseudo-header's sum (as the kernel leaves it for a TAP with
 * offload); csum_ok marks it as the TAP would (PKT_CSUM_OK). */
static struct pkt *peer_segment(uint32_t seq, uint32_t ack, size_t len, bool partial, bool csum_ok)
{
	struct tcp_seg seg = SEG(.flags = TCP_FLAG_ACK, .seq = seq, .ack = ack);
	struct pkt *p = pkt_alloc(ETH_HDR_LEN + IPV4_HDR_LEN + TCP_HDR_LEN + len);
	ck_assert_ptr_nonnull(p);
	uint8_t *f = pkt_put(p, ETH_HDR_LEN + IPV4_HDR_LEN + TCP_HDR_LEN + len);
	uint8_t *tcp = f + ETH_HDR_LEN + IPV4_HDR_LEN;
	size_t hl = tcp_emit(&seg, tcp);
	for (size_t i = 0; i < len; i++)
		tcp[hl + i] = (uint8_t)(seq + i);
	struct ipaddr src = ipaddr_v4(TH_PEER_IP), dst = ipaddr_v4(TH_HOST_IP);
	if (partial)
		tcp_set_checksum_partial(&src, &dst, tcp, hl + len);
	else
		tcp_set_checksum(&src, &dst, tcp, hl + len);
	struct eth_hdr eh = { .type = ETH_TYPE_IPV4 };
	memcpy(eh.dst, t_mac_host, ETH_ALEN);
	memcpy(eh.src, t_mac_peer, ETH_ALEN);
	eth_emit(&eh, f);
	struct ipv4_hdr ih = { .total_len = (uint16_t)(IPV4_HDR_LEN + hl + len), .ttl = 64,
			       .proto = IP_PROTO_TCP, .frag = IPV4_FLAG_DF, .src = TH_PEER_IP,
			       .dst = TH_HOST_IP };
	ipv4_emit(&ih, f + ETH_HDR_LEN);
	if (csum_ok)
		p->flags |= PKT_CSUM_OK;
	return p;
}

/* A GRO'd segment of 30 full segments, its checksum partial and vouched
 * for by the device, is taken whole (one segment longer than the MSS) and
 * ACKed at the end of the burst it came in: it holds more than two full
 * segments (RFC 5681 4.2), and stack_poll runs the timers after reading
 * the burst. The same bytes not vouched for fail the checksum. */
START_TEST(gro_segment_taken_whole_and_acked)
{
	struct tcp_harness t;
	th_init(&t);
	struct tcb *tp = th_tcb_in_state(&t, TCP_ESTABLISHED);
	size_t len = 30 * MSS;

	t.h.s.now = t.h.now;
	eth_input(&t.h.s, t.h.ifp, peer_segment(t.irs + 1, t.iss + 1, len, true, false));
	ck_assert_uint_eq(stats_get(&t.h.s.stats, "tcp.bad_checksum"), 1);
	ck_assert_uint_eq(tp->rcv.nxt, t.irs + 1);
	th_expect_none(&t);

	eth_input(&t.h.s, t.h.ifp, peer_segment(t.irs + 1, t.iss + 1, len, true, true));
	ck_assert_uint_eq(tp->rcv.nxt, t.irs + 1 + len);
	ck_assert_uint_eq(tp->rcvbuf.len, len);
	th_expect_none(&t);
	stack_poll(&t.h.s, t.h.now); /* the end of the burst */
	struct tcp_seg out;
	th_expect(&t, &out);
	ck_assert_uint_eq(out.flags, TCP_FLAG_ACK);
	ck_assert_uint_eq(out.ack, t.irs + 1 + len);
	th_expect_none(&t);
	ck_assert_uint_eq(stats_get(&t.h.s.stats, "tcp.bad_checksum"), 1);
	th_fini(&t);
}
END_TEST

/* GRO'd segments read in one burst share one ACK at its end (tcp_delay_ack),
 * and the stretch stops at 64 KB: the segment that brings the full
 * segments not yet ACKed to 64 KB or more is ACKed at once. */
START_TEST(gro_segments_of_one_burst_share_an_ack)
{
	struct tcp_harness t;
	th_init(&t);
	struct tcb *tp = th_tcb_in_state(&t, TCP_ESTABLISHED);
	uint32_t seq = t.irs + 1;
	struct tcp_seg out;

	tp->opt.ws_ok = true; /* windows past 64 KB (RFC 7323 2) */
	tp->opt.rcv_wscale = tp->opt.snd_wscale = 7;

	t.h.s.now = t.h.now;
	for (int i = 0; i < 2; i++) {
		eth_input(&t.h.s, t.h.ifp, peer_segment(seq, t.iss + 1, 11 * MSS, true, true));
		seq += 11 * MSS;
	}
	th_expect_none(&t);
	stack_poll(&t.h.s, t.h.now); /* the end of the burst: one ACK for both */
	th_expect(&t, &out);
	ck_assert_uint_eq(out.ack, seq);
	th_expect_none(&t);

	/* 20 + 20 full segments wait; 20 more make 60 * 1460 bytes > 64 KB */
	for (int i = 0; i < 2; i++) {
		eth_input(&t.h.s, t.h.ifp, peer_segment(seq, t.iss + 1, 20 * MSS, true, true));
		seq += 20 * MSS;
	}
	th_expect_none(&t);
	eth_input(&t.h.s, t.h.ifp, peer_segment(seq, t.iss + 1, 20 * MSS, true, true));
	seq += 20 * MSS;
	th_expect(&t, &out);
	ck_assert_uint_eq(out.ack, seq);
	ck_assert_uint_eq(tp->rcv.nxt, seq);
	stack_poll(&t.h.s, t.h.now); /* nothing is owed any more */
	th_expect_none(&t);
	th_fini(&t);
}
END_TEST

/* Queues n segments of one MSS from the peer in the device, from seq on,
 * for the next stack_poll to read as one burst (up to STACK_RX_BURST).
 * Returns the sequence number after them. */
static uint32_t queue_full_segments(struct tcp_harness *t, uint32_t seq, int n)
{
	for (int i = 0; i < n; i++) {
		struct pkt *p = peer_segment(seq, t->iss + 1, MSS, false, false);
		testdev_inject(t->h.dev, p->data, p->len);
		pkt_free(p);
		seq += MSS;
	}
	return seq;
}

/* The ACKs the host sent since the last call: how many, and the last one's
 * acknowledgment number in *last. */
static int count_acks(struct tcp_harness *t, uint32_t *last)
{
	struct pkt *p;
	int n = 0;
	while ((p = testdev_take_sent(t->h.dev)) != NULL) {
		struct ipv4_hdr ih;
		const uint8_t *tcp;
		struct tcp_seg seg;
		size_t len = frame_tcp(p, &ih, &tcp);
		ck_assert_ptr_null(tcp_parse(tcp, len, &seg));
		ck_assert_uint_eq(seg.flags, TCP_FLAG_ACK);
		*last = seg.ack;
		pkt_free(p);
		n++;
	}
	return n;
}

/* Frame by frame (no offload), segments of one MSS: while the host keeps
 * up, every second one is ACKed (RFC 5681 4.2), even when a few are read
 * in one burst; once a poll has read a full burst (the device held more:
 * the host is behind), the segments of the next burst share one ACK at
 * its end, and the stretch stops at 64 KB (tcp_delay_ack). A burst that
 * is not full ends it. */
START_TEST(full_segments_share_an_ack_only_while_behind)
{
	struct tcp_harness t;
	th_init(&t);
	struct tcb *tp = th_tcb_in_state(&t, TCP_ESTABLISHED);
	uint32_t seq = t.irs + 1, ack = 0;

	tp->opt.ws_ok = true; /* windows past 64 KB (RFC 7323 2) */
	tp->opt.rcv_wscale = tp->opt.snd_wscale = 7;

	/* 6 in one burst, not behind: 3 ACKs, each at a second segment */
	seq = queue_full_segments(&t, seq, 6);
	stack_poll(&t.h.s, t.h.now);
	ck_assert_int_eq(count_acks(&t, &ack), 3);
	ck_assert_uint_eq(ack, seq);
	ck_assert(!t.h.s.rx_backlog);

	/* a full burst, the device holding more: still every second one */
	seq = queue_full_segments(&t, seq, STACK_RX_BURST);
	uint32_t end1 = seq;
	seq = queue_full_segments(&t, seq, STACK_RX_BURST + 6);
	stack_poll(&t.h.s, t.h.now);
	ck_assert_int_eq(count_acks(&t, &ack), STACK_RX_BURST / 2);
	ck_assert_uint_eq(ack, end1);
	ck_assert(t.h.s.rx_backlog);

	/* behind: 64 segments, ACKed at the 45th (45 * 1460 > 65535 bytes)
	 * and at the end of the burst */
	stack_poll(&t.h.s, t.h.now);
	ck_assert_int_eq(count_acks(&t, &ack), 2);
	ck_assert_uint_eq(ack, seq - 6 * MSS);
	ck_assert(t.h.s.rx_backlog);

	/* the 6 left: one ACK at the end; the burst was short, the host has
	 * caught up */
	stack_poll(&t.h.s, t.h.now);
	ck_assert_int_eq(count_acks(&t, &ack), 1);
	ck_assert_uint_eq(ack, seq);
	ck_assert(!t.h.s.rx_backlog);

	/* and every second segment is ACKed again */
	seq = queue_full_segments(&t, seq, 4);
	stack_poll(&t.h.s, t.h.now);
	ck_assert_int_eq(count_acks(&t, &ack), 2);
	ck_assert_uint_eq(ack, seq);
	ck_assert_uint_eq(tp->rcv.nxt, seq);
	th_fini(&t);
}
END_TEST

/* pkt_csum_complete writes what tcp_set_checksum writes, in a clone too. */
START_TEST(csum_complete_matches_software)
{
	struct pkt *p = peer_segment(77, 99, 999, false, false);
	uint8_t *tcp = p->data + ETH_HDR_LEN + IPV4_HDR_LEN;
	uint16_t want = be16_get(tcp + TCP_CSUM_OFFSET);
	struct ipaddr src = ipaddr_v4(TH_PEER_IP), dst = ipaddr_v4(TH_HOST_IP);
	tcp_set_checksum_partial(&src, &dst, tcp, TCP_HDR_LEN + 999);
	ck_assert_uint_ne(be16_get(tcp + TCP_CSUM_OFFSET), want);
	p->off.csum_start = (uint16_t)(tcp - p->head);
	p->off.csum_offset = TCP_CSUM_OFFSET;
	pkt_push(p, 10); /* what a device would do in front: the offset stays */
	struct pkt *c = pkt_clone(p);
	ck_assert_ptr_nonnull(c);
	pkt_csum_complete(p);
	ck_assert_uint_eq(be16_get(tcp + TCP_CSUM_OFFSET), want);
	pkt_csum_complete(c);
	ck_assert_uint_eq(be16_get(c->data + 10 + ETH_HDR_LEN + IPV4_HDR_LEN + TCP_CSUM_OFFSET), want);
	pkt_free(p);
	pkt_free(c);
	ck_assert_uint_eq(pkt_in_use(), 0);
}
END_TEST

/* The offload device of link/tap_vnet.c, on one end of a socketpair in
 * place of /dev/net/tun (the ioctls fail there: set up by hand as the
 * kernel would accept them). One datagram per frame, as a TAP gives. */
static struct netdev *vnet_dev_on(int fd, struct stats *st)
{
	struct tap *t = tap_vnet_alloc();
	ck_assert_ptr_nonnull(t);
	t->fd = fd;
	t->dev.mtu = 1500;
	t->dev.stats = st;
	t->rx_size = ETH_MAX_FRAME;
	tap_vnet_setup(t);                      /* no offload from a socket */
	ck_assert_uint_eq(t->rx_size, ETH_MAX_FRAME + VNET_HDR_LEN);
	t->dev.tso_max = 65535;                 /* as if the kernel had said yes */
	t->rx_size = ETH_HDR_LEN + 65535 + VNET_HDR_LEN + 1;
	return &t->dev;
}

/* Writes a frame of len bytes (after header h) to the device's socket. */
static void vnet_kernel_write(int fd, const struct vnet_hdr *h, size_t len)
{
	static uint8_t b[VNET_HDR_LEN + 70000];
	memset(b, 0x5a, sizeof(b));
	vnet_emit(h, b);
	ck_assert_int_eq(write(fd, b, VNET_HDR_LEN + len), (ssize_t)(VNET_HDR_LEN + len));
}

/* A burst: a small frame is copied out of the 64 KB buffer, which is kept;
 * a large one leaves with it; a bad header drops the frame and keeps the
 * buffer; an empty TAP gives the buffer back. Counters as the TAP's. */
START_TEST(tap_vnet_recv_burst)
{
	int sv[2];
	struct stats st;
	struct vnet_hdr h = { 0 };
	struct pkt *p;

	stats_init(&st);
	ck_assert_int_eq(socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_NONBLOCK, 0, sv), 0);
	struct netdev *d = vnet_dev_on(sv[0], &st);

	ck_assert_ptr_null(netdev_recv(d, 0)); /* empty: nothing held */
	ck_assert_uint_eq(pkt_in_use(), 0);

	vnet_kernel_write(sv[1], &h, 60);
	p = netdev_recv(d, 0);
	ck_assert_ptr_nonnull(p);
	ck_assert_uint_eq(p->len, 60);
	ck_assert_uint_eq(p->large, 0);         /* copied out */
	ck_assert_uint_eq(pkt_in_use(), 2);     /* and the big buffer kept */
	pkt_free(p);

	h = (struct vnet_hdr){ .flags = VNET_F_NEEDS_CSUM, .csum_start = 100, .csum_offset = 16 };
	vnet_kernel_write(sv[1], &h, 60);       /* the checksum field beyond the frame */
	ck_assert_ptr_null(netdev_recv(d, 0));
	ck_assert_uint_eq(stats_get(&st, "tap.vnet_bad_csum"), 1);
	ck_assert_uint_eq(pkt_in_use(), 1);     /* the buffer kept */

	h = (struct vnet_hdr){ .flags = VNET_F_DATA_VALID, .gso_type = VNET_GSO_NONE };
	vnet_kernel_write(sv[1], &h, 30000);
	p = netdev_recv(d, 0);
	ck_assert_ptr_nonnull(p);
	ck_assert_uint_eq(p->len, 30000);
	ck_assert_uint_eq(p->large, 1);         /* handed on with the buffer */
	ck_assert(p->flags & PKT_CSUM_OK);
	ck_assert_uint_eq(pkt_in_use(), 1);
	pkt_free(p);

	vnet_kernel_write(sv[1], &(struct vnet_hdr){ 0 }, 60);
	p = netdev_recv(d, 0);
	ck_assert_ptr_nonnull(p);
	pkt_free(p);
	ck_assert_uint_eq(pkt_in_use(), 1);     /* a new big buffer, kept */
	ck_assert_ptr_null(netdev_recv(d, 0)); /* the burst is over: given back */
	ck_assert_uint_eq(pkt_in_use(), 0);
	ck_assert_uint_eq(stats_get(&st, "tap.rx_frames"), 3);

	netdev_close(d);                        /* closes sv[0] */
	close(sv[1]);
}
END_TEST

/* Sending: the header says what TCP left to the device (p->off). */
START_TEST(tap_vnet_send_header)
{
	int sv[2];
	struct stats st;
	uint8_t b[VNET_HDR_LEN + 4000];
	struct vnet_hdr h;

	stats_init(&st);
	ck_assert_int_eq(socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_NONBLOCK, 0, sv), 0);
	struct netdev *d = vnet_dev_on(sv[0], &st);

	/* Ethernet (IPv4) + IP 20 + TCP 32, and 2896 bytes of data to cut */
	struct pkt *p = pkt_alloc(14 + 20 + 32 + 2896);
	uint8_t *f = pkt_put(p, 14 + 20 + 32 + 2896);
	memset(f, 0, p->len);
	be16_put(f + 12, ETH_TYPE_IPV4);
	f[14 + 20 + 12] = 8 << 4;               /* TCP data offset: 32 bytes */
	p->off.csum_start = (uint16_t)(pkt_headroom(p) + 14 + 20);
	p->off.csum_offset = TCP_CSUM_OFFSET;
	p->off.gso_size = 1448;
	ck_assert_int_eq(netdev_send(d, p, 0), 0);
	ck_assert_int_eq(read(sv[1], b, sizeof(b)), VNET_HDR_LEN + 14 + 20 + 32 + 2896);
	ck_assert_ptr_null(vnet_parse(b, sizeof(b), 14 + 20 + 32 + 2896, &h));
	ck_assert_uint_eq(h.flags, VNET_F_NEEDS_CSUM);
	ck_assert_uint_eq(h.gso_type, VNET_GSO_TCPV4);
	ck_assert_uint_eq(h.gso_size, 1448);
	ck_assert_uint_eq(h.csum_start, 34);
	ck_assert_uint_eq(h.csum_offset, TCP_CSUM_OFFSET);
	ck_assert_uint_eq(h.hdr_len, 66);
	ck_assert_uint_eq(stats_get(&st, "tap.tx_gso_frames"), 1);

	p = pkt_alloc(60);                      /* a plain frame: an all-zero header */
	memset(pkt_put(p, 60), 0, 60);
	ck_assert_int_eq(netdev_send(d, p, 0), 0);
	ck_assert_int_eq(read(sv[1], b, sizeof(b)), VNET_HDR_LEN + 60);
	for (int k = 0; k < VNET_HDR_LEN; k++)
		ck_assert_uint_eq(b[k], 0);
	ck_assert_uint_eq(stats_get(&st, "tap.tx_frames"), 2);
	ck_assert_uint_eq(pkt_in_use(), 0);

	netdev_close(d);
	close(sv[1]);
}
END_TEST

Suite *offload_suite(void)
{
	Suite *s = suite_create("offload");
	TCase *tc = tcase_create("offload");
	tcase_add_test(tc, vnet_emit_and_parse);
	tcase_add_test(tc, vnet_parse_rejects_bad_headers);
	tcase_add_test(tc, tso_sends_full_segments_in_one);
	tcase_add_test(tc, no_tso_without_the_device);
	tcase_add_test(tc, gro_segment_taken_whole_and_acked);
	tcase_add_test(tc, gro_segments_of_one_burst_share_an_ack);
	tcase_add_test(tc, full_segments_share_an_ack_only_while_behind);
	tcase_add_test(tc, csum_complete_matches_software);
	tcase_add_test(tc, tap_vnet_recv_burst);
	tcase_add_test(tc, tap_vnet_send_header);
	suite_add_tcase(s, tc);
	return s;
}
