/* What the sending side of TCP shares between its files, and only them:
 * tcp_output.c (segment emission), tcp_sack.c (the SACK scoreboard) and
 * tcp_ack.c (the sender's ACK processing); tcp_input.c asks tcp_data_seq
 * where our FIN sits. The rest of the stack uses tcp.h. Each function's full comment is at its definition. */
#ifndef TAPSTACK_TCP_INTERNAL_H
#define TAPSTACK_TCP_INTERNAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct tcb;

static inline uint32_t min_u32(uint32_t a, uint32_t b)
{
	return a < b ? a : b;
}

/* ---- tcp_output.c: where things are in sequence space -------------------- */

/* True while our SYN is unacknowledged (it holds iss). */
bool tcp_syn_unacked(const struct tcb *tp);

/* Sequence number of the first byte in tp->sndbuf. */
uint32_t tcp_data_seq(const struct tcb *tp);

/* True if our FIN was sent and is not acknowledged yet. */
bool tcp_fin_outstanding(const struct tcb *tp);

/* Payload bytes per segment: snd_mss less the timestamp option (RFC 6691 2). */
uint32_t tcp_seg_size(const struct tcb *tp);

/* Our timestamp clock (RFC 7323 5.4, 7). */
uint32_t tcp_ts_now(const struct tcb *tp);

/* (Re)starts the retransmission timer from now: the tail loss probe's
 * timeout (RFC 8985 7.2) or the RTO (RFC 6298 5.1, 5.3). */
void tcp_rexmt_restart(struct tcb *tp);

/* Arms the retransmission timer if it is off (RFC 6298 5.1). */
void tcp_rexmt_arm(struct tcb *tp);

/* Bytes the windows let us send past snd.nxt (RFC 9293 3.8.6, RFC 5681 3,
 * RFC 3042 2, RFC 6675 5). */
uint32_t tcp_usable_window(const struct tcb *tp);

/* ---- tcp_output.c: the one place segments leave -------------------------- */

/* Sends one segment of the connection: seq, flags, len bytes of the send
 * ring from seq. 0 or a negative errno. */
int tcp_send_seg(struct tcb *tp, uint32_t seq, uint8_t flags, size_t len);

/* Counts a retransmission of len bytes and stops RTT timing (Karn). */
void tcp_count_rexmit(struct tcb *tp, uint32_t len);

/* Sends len bytes at snd.nxt (and the FIN after them if fin). 0 or a
 * negative errno. */
int tcp_send_data(struct tcb *tp, uint32_t len, bool fin);

/* ---- tcp_sack.c: the scoreboard and lost retransmissions ----------------- */

/* Drops what snd.una passed from the scoreboard. */
void tcp_sack_trim(struct tcb *tp);

/* Drops from the retransmission records what snd.una passed. */
void tcp_rxt_trim(struct tcb *tp);

/* Records that [a, b) was retransmitted in SACK recovery. */
void tcp_rxt_note(struct tcb *tp, uint32_t a, uint32_t b);

/* RFC 6675 4 IsLost(SeqNum). */
bool tcp_sack_is_lost(const struct tcb *tp, uint32_t seq);

/* RFC 6675 4 SetPipe(): the bytes estimated in the network. */
uint32_t tcp_sack_pipe(const struct tcb *tp);

/* The same, recounted over the whole flight segment by segment: for the
 * tests (the host's tcp.sack_pipe_check), never on the data path. */
uint32_t tcp_sack_pipe_walk(const struct tcb *tp);

/* RFC 6675 5 step (C), NextSeg() rule 1: retransmit the holes. */
void tcp_sack_retransmit_holes(struct tcb *tp);

/* RFC 6675 5 step (C), NextSeg() rules 3 and 4. */
void tcp_sack_send_rules_3_4(struct tcb *tp);

/* RFC 6675 5.1: bytes from snd.nxt to the next SACKed range (UINT32_MAX
 * if none). */
uint32_t tcp_sack_skip(struct tcb *tp);

/* ---- tcp_ack.c: undoing a spurious reduction ----------------------------- */

/* RFC 2883 5, RFC 3708: the peer received [a, b) twice (a D-SACK). */
void tcp_dsack_received(struct tcb *tp, uint32_t a, uint32_t b);

#endif
