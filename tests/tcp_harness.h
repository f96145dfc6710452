/* Test helpers for TCP: one host (10.0.0.2, port TH_HOST_PORT) and a peer
 * played by the test (10.0.0.1, port TH_PEER_PORT). A test puts a control
 * block in a state, injects segments and checks what the host sends, in the
 * script style that tests/README.md describes:
 *
 *     struct tcp_harness t;
 *     th_init(&t);
 *     struct tcb *tp = th_tcb_in_state(&t, TCP_SYN_SENT);
 *     th_inject(&t, SEG(.flags = TCP_FLAG_SYN | TCP_FLAG_ACK, .seq = t.irs, .ack = t.iss + 1));
 *     struct tcp_seg out;
 *     th_expect(&t, &out);
 *     ck_assert_uint_eq(out.flags, TCP_FLAG_ACK);
 *     ck_assert_uint_eq(out.ack, t.irs + 1);
 *     ck_assert_int_eq(tp->state, TCP_ESTABLISHED);
 *     th_fini(&t);
 */
#ifndef TAPSTACK_TEST_TCP_HARNESS_H
#define TAPSTACK_TEST_TCP_HARNESS_H

#include "tcp/tcp.h"
#include "tests/harness.h"

#define TH_HOST_IP 0x0a000002u
#define TH_PEER_IP 0x0a000001u
#define TH_HOST_PORT 7000
#define TH_PEER_PORT 40000

/* A segment from the peer to the host; fields not given are 0 except the
 * ports and a 65535 window. */
#define SEG(...) ((struct tcp_seg){ .sport = TH_PEER_PORT, .dport = TH_HOST_PORT, .wnd = 65535, __VA_ARGS__ })

struct tcp_harness {
	struct harness h;
	uint32_t iss;        /* the host's initial sequence number in built states */
	uint32_t irs;        /* the peer's */
	uint8_t last[2048];  /* the last segment th_expect returned (its data points here) */
	uint16_t last_ip_frag; /* its IPv4 header's flags and fragment offset word */
};

/* A host with the peer's MAC already learned; iss 1000, irs 5000 (change
 * t->iss / t->irs before th_tcb_in_state to test wrap-around). */
void th_init(struct tcp_harness *t);

/* Closes sockets, frees the host, asserts no packet buffer leaked. */
void th_fini(struct tcp_harness *t);

/* A control block 10.0.0.2:TH_HOST_PORT <-> 10.0.0.1:TH_PEER_PORT in state st,
 * as if the handshake (and for closing states the FINs) had happened:
 *   SYN-SENT      snd_una = iss, snd_nxt = iss+1 (SYN sent, timer armed)
 *   SYN-RECEIVED  as SYN-SENT, and rcv_nxt = irs+1
 *   ESTABLISHED   snd_una = snd_nxt = iss+1, rcv_nxt = irs+1
 *   FIN-WAIT-1    our FIN sent: snd_nxt = iss+2, fin_queued
 *   FIN-WAIT-2    our FIN acked: snd_una = snd_nxt = iss+2
 *   CLOSE-WAIT    the peer's FIN received: rcv_nxt = irs+2, fin_rcvd
 *   CLOSING       both FINs, ours not acked
 *   LAST-ACK      the peer's FIN received, ours sent, not acked
 *   TIME-WAIT     both FINs, acked (2MSL timer armed)
 *   LISTEN        a listener on TH_HOST_PORT (any address), backlog 8
 * snd_wnd 65535, snd_mss 1460, rcv_wnd = the ring's limit, no options,
 * srtt unmeasured, rto 1 s, cwnd 10 segments. No socket: see th_socket. */
struct tcb *th_tcb_in_state(struct tcp_harness *t, enum tcp_state st);

/* Gives tp a socket (non-blocking) so the test can net_send / net_recv /
 * net_poll on it; returns the descriptor. */
int th_socket(struct tcp_harness *t, struct tcb *tp);

/* Injects seg from the peer (ports, seq, ack, flags, wnd, options; seg.len
 * bytes of payload copied from seg.data, or the pattern (seq + i) & 0xff if
 * seg.data is NULL), with correct checksums, and polls the host. */
void th_inject(struct tcp_harness *t, struct tcp_seg seg);

/* The next TCP segment the host sent (ARP frames are skipped), parsed into
 * *out; fails the test if there is none. out->data stays valid until the
 * next call. */
void th_expect(struct tcp_harness *t, struct tcp_seg *out);

/* Fails the test if the host sent a TCP segment. */
void th_expect_none(struct tcp_harness *t);

/* Moves virtual time forward (timers fire on the way). */
void th_advance(struct tcp_harness *t, int64_t us);

/* The byte the tests put at sequence number seq of the host's stream. */
uint8_t th_pat(uint32_t seq);

/* Queues n bytes of that pattern on tp's send ring, as the socket layer
 * would (the ring holds the stream from snd_una on). */
void th_queue(struct tcb *tp, size_t n);

/* Expects a segment from the host with this relative seq (seq - iss), len
 * and flags, carrying the pattern's bytes; returns it in *out. */
void th_expect_seg(struct tcp_harness *t, struct tcp_seg *out, uint32_t rel_seq, size_t len,
		   uint8_t flags);

/* The peer acknowledges up to iss + rel_ack with window wnd. */
void th_peer_ack(struct tcp_harness *t, struct tcb *tp, uint32_t rel_ack, uint16_t wnd);

#endif
