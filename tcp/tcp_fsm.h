/* TCP's states (RFC 9293 3.3.2) and what each one allows, as a table (in
 * the manner of OpenBSD's tcp_fsm.h): the code asks tcp_state_synced(st)
 * or tcp_state_can_recv_data(st) instead of listing states, and the table
 * below is the one place that says which states those are. */
#ifndef TAPSTACK_TCP_FSM_H
#define TAPSTACK_TCP_FSM_H

#include <stdbool.h>
#include <stdint.h>

/* RFC 9293 3.3.2: the states, in the RFC's order. */
enum tcp_state {
	TCP_CLOSED = 0,
	TCP_LISTEN,
	TCP_SYN_SENT,
	TCP_SYN_RECEIVED,
	TCP_ESTABLISHED,
	TCP_FIN_WAIT_1,
	TCP_FIN_WAIT_2,
	TCP_CLOSE_WAIT,
	TCP_CLOSING,
	TCP_LAST_ACK,
	TCP_TIME_WAIT,
	TCP_NSTATES
};

/* "CLOSED", "LISTEN", ... "TIME-WAIT", spelled as in the RFC. */
extern const char *const tcp_state_name[TCP_NSTATES];

/* The properties of a state, one bit each. */
enum {
	/* A SYN from the peer was received: the connection is synchronized,
	 * or is about to be (RFC 9293 3.5: SYN-RECEIVED on; OpenBSD's
	 * TCPS_HAVERCVDSYN). The RFC's "synchronized states" (3.10.7.4) are
	 * these less SYN-RECEIVED. */
	TCPS_F_SYNCED = 1 << 0,
	/* Our SYN is not acknowledged yet (RFC 9293 3.5, 3.3.2: SYN-SENT
	 * "waiting for a matching connection request", SYN-RECEIVED "waiting
	 * for a confirming connection request acknowledgment"): what is
	 * retransmitted is the SYN. */
	TCPS_F_HANDSHAKE = 1 << 1,
	/* The handshake is over: ESTABLISHED was reached (RFC 9293 3.5;
	 * OpenBSD's TCPS_HAVEESTABLISHED), whatever the close did since. */
	TCPS_F_HAVE_ESTABLISHED = 1 << 2,
	/* The app may still send data (RFC 9293 3.10.2 SEND: queued in
	 * ESTABLISHED and CLOSE-WAIT; "connection closing" after CLOSE). */
	TCPS_F_CAN_SEND_DATA = 1 << 3,
	/* The peer may still send data that is processed (RFC 9293 3.10.7.4
	 * seventh step: text in ESTABLISHED, FIN-WAIT-1, FIN-WAIT-2; past
	 * them the peer's FIN came and text is ignored). */
	TCPS_F_CAN_RECV_DATA = 1 << 4,
	/* Our FIN goes once the queued data is out, or went and is not
	 * acknowledged yet (RFC 9293 3.10.4 CLOSE, 3.3.2: FIN-WAIT-1,
	 * CLOSING, LAST-ACK). */
	TCPS_F_FIN_SENT = 1 << 5,
	/* We closed first and wait for the peer's FIN (RFC 9293 3.3.2:
	 * FIN-WAIT-1, FIN-WAIT-2). */
	TCPS_F_FIN_WAIT = 1 << 6,
	/* An idle connection is probed with keep-alives (RFC 9293 3.8.4, RFC
	 * 1122 4.2.3.6): established, nothing of ours outstanding for the
	 * close (ESTABLISHED, CLOSE-WAIT, FIN-WAIT-2). */
	TCPS_F_KEEPALIVE = 1 << 7,
};

#define SYN TCPS_F_SYNCED
#define HSK TCPS_F_HANDSHAKE
#define EST TCPS_F_HAVE_ESTABLISHED
#define SND TCPS_F_CAN_SEND_DATA
#define RCV TCPS_F_CAN_RECV_DATA
#define FIN TCPS_F_FIN_SENT
#define FWT TCPS_F_FIN_WAIT
#define KA  TCPS_F_KEEPALIVE
static const uint8_t tcp_state_props[TCP_NSTATES] = {
	[TCP_CLOSED]       = 0,
	[TCP_LISTEN]       = 0,
	[TCP_SYN_SENT]     =       HSK,
	[TCP_SYN_RECEIVED] = SYN | HSK,
	[TCP_ESTABLISHED]  = SYN |       EST | SND | RCV |                   KA,
	[TCP_FIN_WAIT_1]   = SYN |       EST |       RCV | FIN | FWT,
	[TCP_FIN_WAIT_2]   = SYN |       EST |       RCV |       FWT |       KA,
	[TCP_CLOSE_WAIT]   = SYN |       EST | SND |                         KA,
	[TCP_CLOSING]      = SYN |       EST |             FIN,
	[TCP_LAST_ACK]     = SYN |       EST |             FIN,
	[TCP_TIME_WAIT]    = SYN |       EST,
};
#undef SYN
#undef HSK
#undef EST
#undef SND
#undef RCV
#undef FIN
#undef FWT
#undef KA

static inline bool tcp_state_has(enum tcp_state st, unsigned prop)
{
	return (tcp_state_props[st] & prop) != 0;
}

static inline bool tcp_state_synced(enum tcp_state st)
{
	return tcp_state_has(st, TCPS_F_SYNCED);
}

static inline bool tcp_state_handshake(enum tcp_state st)
{
	return tcp_state_has(st, TCPS_F_HANDSHAKE);
}

static inline bool tcp_state_have_established(enum tcp_state st)
{
	return tcp_state_has(st, TCPS_F_HAVE_ESTABLISHED);
}

static inline bool tcp_state_can_send_data(enum tcp_state st)
{
	return tcp_state_has(st, TCPS_F_CAN_SEND_DATA);
}

static inline bool tcp_state_can_recv_data(enum tcp_state st)
{
	return tcp_state_has(st, TCPS_F_CAN_RECV_DATA);
}

static inline bool tcp_state_fin_sent(enum tcp_state st)
{
	return tcp_state_has(st, TCPS_F_FIN_SENT);
}

static inline bool tcp_state_fin_wait(enum tcp_state st)
{
	return tcp_state_has(st, TCPS_F_FIN_WAIT);
}

static inline bool tcp_state_keepalive(enum tcp_state st)
{
	return tcp_state_has(st, TCPS_F_KEEPALIVE);
}

#endif
