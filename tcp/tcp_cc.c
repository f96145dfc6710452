/* Congestion control behind struct tcp_cc_ops (tcp.h). Reno (RFC 5681):
 * slow start, congestion avoidance, fast retransmit and fast recovery.
 * cwnd and ssthresh are in bytes; SMSS is the connection's snd_mss.
 * NewReno (RFC 6582) changes only what a partial ACK does and how recovery
 * ends; CUBIC (RFC 9438) is for later. */
#include "tcp/tcp.h"

#include <string.h>

#define TCP_CWND_MAX (1u << 30)    /* keeps cwnd arithmetic far from overflow */

/* SMSS of RFC 5681 2. */
static uint32_t cc_smss(const struct tcb *tp)
{
	return tp->snd_mss ? tp->snd_mss : TCP_DEFAULT_MSS;
}

/* FlightSize of RFC 5681 2: data sent and not yet acknowledged. */
static uint32_t cc_flight(const struct tcb *tp)
{
	return tp->snd_max - tp->snd_una;
}

/* RFC 5681 3.1 equation (4): ssthresh = max(FlightSize / 2, 2 * SMSS). */
static uint32_t cc_half_flight(const struct tcb *tp)
{
	uint32_t half = cc_flight(tp) / 2;
	return half > 2 * cc_smss(tp) ? half : 2 * cc_smss(tp);
}

/* The initial window (RFC 6928 2): min(10 * SMSS, max(2 * SMSS, 14600));
 * one segment if the SYN or SYN-ACK had to be retransmitted (RFC 5681
 * 3.1). ssthresh stays as tcb_new set it: arbitrarily high. */
static void reno_init(struct tcb *tp)
{
	uint32_t mss = cc_smss(tp);
	uint32_t iw = 2 * mss > 14600 ? 2 * mss : 14600;
	if (iw > 10 * mss)
		iw = 10 * mss;
	tp->cwnd = tp->retransmits > 0 ? mss : iw;
	tp->cc_priv[0] = 0;
}

/* New data acked (RFC 5681 3.1). Slow start while cwnd < ssthresh: cwnd
 * grows by min(acked, SMSS) per ACK (equation 2). Congestion avoidance:
 * one SMSS per cwnd of data acknowledged, counted in cc_priv[0] (the
 * byte-counting variant RFC 5681 3.1 allows, RFC 3465). */
static void reno_on_ack(struct tcb *tp, uint32_t acked)
{
	uint32_t mss = cc_smss(tp);

	if (tp->cwnd >= TCP_CWND_MAX)
		return;
	if (tp->cwnd < tp->ssthresh) {
		tp->cwnd += acked < mss ? acked : mss;
		return;
	}
	tp->cc_priv[0] += acked;
	if (tp->cc_priv[0] >= tp->cwnd) {
		tp->cc_priv[0] -= tp->cwnd;
		tp->cwnd += mss;
	}
}

/* A duplicate ACK: in fast recovery each one means a segment left the
 * network, so cwnd grows by SMSS (RFC 5681 3.2 step 4). */
static void reno_on_dupack(struct tcb *tp)
{
	if (tp->in_recovery && tp->cwnd < TCP_CWND_MAX)
		tp->cwnd += cc_smss(tp);
}

/* Third duplicate ACK (RFC 5681 3.2 steps 2-3): ssthresh to half the
 * flight, cwnd = ssthresh + 3 * SMSS (the three segments that left). */
static void reno_on_loss(struct tcb *tp)
{
	tp->ssthresh = cc_half_flight(tp);
	tp->cwnd = tp->ssthresh + 3 * cc_smss(tp);
	tp->cc_priv[0] = 0;
}

/* Retransmission timeout (RFC 5681 3.1): ssthresh to half the flight on
 * the first expiry only (held for a segment already retransmitted by the
 * timer), cwnd to the loss window of one SMSS. */
static void reno_on_rto(struct tcb *tp)
{
	if (tp->backoff == 0)
		tp->ssthresh = cc_half_flight(tp);
	tp->cwnd = cc_smss(tp);
	tp->cc_priv[0] = 0;
}

/* The ACK of new data ends fast recovery: cwnd deflates to ssthresh
 * (RFC 5681 3.2 step 6). */
static void reno_on_recovery_exit(struct tcb *tp)
{
	tp->cwnd = tp->ssthresh;
	tp->cc_priv[0] = 0;
}

const struct tcp_cc_ops tcp_cc_reno = {
	.name = "reno",
	.init = reno_init,
	.on_ack = reno_on_ack,
	.on_dupack = reno_on_dupack,
	.on_loss = reno_on_loss,
	.on_rto = reno_on_rto,
	.on_recovery_exit = reno_on_recovery_exit,
	.on_partial_ack = NULL, /* any new ACK ends recovery */
};

/* RFC 6582 3.2 step 5: a partial ACK (the caller retransmits the next hole
 * and stays in recovery). cwnd deflates by the bytes it acknowledged, and
 * if that was at least one SMSS, one SMSS is added back, so about
 * ssthresh bytes stay in flight when recovery ends. */
static void newreno_on_partial_ack(struct tcb *tp, uint32_t acked)
{
	uint32_t mss = cc_smss(tp);

	tp->cwnd = tp->cwnd > acked ? tp->cwnd - acked : mss;
	if (acked >= mss)
		tp->cwnd += mss;
	if (tp->cwnd < mss)
		tp->cwnd = mss;
}

/* RFC 6582 3.2 step 6, the full ACK: cwnd = min(ssthresh, max(FlightSize,
 * SMSS) + SMSS) (option 1: no burst if little is in flight). */
static void newreno_on_recovery_exit(struct tcb *tp)
{
	uint32_t mss = cc_smss(tp);
	uint32_t flight = cc_flight(tp);
	uint32_t w = (flight > mss ? flight : mss) + mss;

	tp->cwnd = w < tp->ssthresh ? w : tp->ssthresh;
	tp->cc_priv[0] = 0;
}

const struct tcp_cc_ops tcp_cc_newreno = {
	.name = "newreno",
	.init = reno_init,
	.on_ack = reno_on_ack,
	.on_dupack = reno_on_dupack,
	.on_loss = reno_on_loss,
	.on_rto = reno_on_rto,
	.on_recovery_exit = newreno_on_recovery_exit,
	.on_partial_ack = newreno_on_partial_ack,
};

/* Contract in tcp.h. */
const struct tcp_cc_ops *tcp_cc_find(const char *name)
{
	static const struct tcp_cc_ops *const all[] = { &tcp_cc_reno, &tcp_cc_newreno };

	for (size_t i = 0; i < sizeof(all) / sizeof(all[0]); i++)
		if (strcmp(all[i]->name, name) == 0)
			return all[i];
	return NULL;
}
