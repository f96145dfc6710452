/* Congestion control behind struct tcp_cc_ops (tcp.h). Reno (RFC 5681):
 * slow start, congestion avoidance, fast retransmit and fast recovery.
 * cwnd and ssthresh are in bytes; SMSS is the connection's snd_mss.
 * NewReno (RFC 6582) changes only what a partial ACK does and how recovery
 * ends. CUBIC (RFC 9438, the host default) replaces congestion avoidance
 * and the reduction on loss, and keeps NewReno's loss recovery. */
#include "tcp/tcp.h"
#include "tcp/tcp_trace.h"
#include "stack/stack.h"

#include <math.h>
#include <string.h>

#define TCP_CWND_MAX (1u << 30)    /* keeps cwnd arithmetic far from overflow */

/* SMSS of RFC 5681 2. */
static uint32_t cc_smss(const struct tcb *tp)
{
	return tp->opt.snd_mss ? tp->opt.snd_mss : TCP_DEFAULT_MSS;
}

/* FlightSize of RFC 5681 2: data sent and not yet acknowledged. */
static uint32_t cc_flight(const struct tcb *tp)
{
	return tp->snd.max - tp->snd.una;
}

/* RFC 5681 3.1 equation (4): ssthresh = max(FlightSize / 2, 2 * SMSS). */
static uint32_t cc_half_flight(const struct tcb *tp)
{
	uint32_t half = cc_flight(tp) / 2;
	return half > 2 * cc_smss(tp) ? half : 2 * cc_smss(tp);
}

/* RFC 6928 2's initial window in bytes: min(10 * SMSS, max(2 * SMSS,
 * 14600)), or iw_segs * SMSS when the host sets it (--iw N). */
static uint32_t cc_iw(const struct tcb *tp)
{
	uint32_t mss = cc_smss(tp);
	uint32_t iw = 2 * mss > 14600 ? 2 * mss : 14600;

	if (iw > 10 * mss)
		iw = 10 * mss;
	if (tp->s && tp->s->tcp.iw_segs > 0)
		iw = tp->s->tcp.iw_segs * mss;
	return iw;
}

/* The initial window in bytes (cc_iw); one segment if the SYN or SYN-ACK
 * had to be retransmitted (RFC 6928 2 and RFC 5681 3.1: "the initial
 * window ... MUST be one segment"). */
uint32_t tcp_cc_initial_window(const struct tcb *tp)
{
	/* only the SYN can have been sent again yet */
	return tp->stat.retransmits > 0 ? cc_smss(tp) : cc_iw(tp);
}

/* Contract in tcp.h. */
uint32_t tcp_cc_restart_window(const struct tcb *tp)
{
	uint32_t iw = cc_iw(tp);
	return iw < tp->cwnd ? iw : tp->cwnd;
}

/* Sets cwnd to the initial window (tcp_cc_initial_window). ssthresh stays
 * as tcb_new set it: arbitrarily high (RFC 5681 3.1). */
static void reno_init(struct tcb *tp)
{
	tp->cwnd = tcp_cc_initial_window(tp);
	tp->cc_priv[0] = 0;
	tp->cc_priv[1] = 0;
}

/* Slow start (RFC 5681 3.1): cwnd grows by the bytes acked, at most L per
 * ACK. RFC 3465 2.2-2.3 (Appropriate Byte Counting): L = 2 SMSS, so that
 * a receiver that ACKs every second segment still doubles cwnd each RTT
 * (RFC 5681's equation 2, L = 1 SMSS, makes that 1.5 times); L = 1 SMSS
 * in the slow start that follows an RTO. */
static void cc_slow_start(struct tcb *tp, uint32_t acked, bool after_rto)
{
	uint32_t l = (after_rto ? 1 : 2) * cc_smss(tp);

	tp->cwnd += acked < l ? acked : l;
}

/* New data acked (RFC 5681 3.1). Slow start while cwnd < ssthresh
 * (cc_slow_start; cc_priv[1] says it follows an RTO). Congestion
 * avoidance: one SMSS per cwnd of data acknowledged, counted in
 * cc_priv[0] (the byte-counting variant RFC 5681 3.1 allows, RFC 3465). */
static void reno_on_ack(struct tcb *tp, uint32_t acked)
{
	uint32_t mss = cc_smss(tp);

	if (tp->cwnd >= TCP_CWND_MAX)
		return;
	if (tp->cwnd < tp->ssthresh) {
		cc_slow_start(tp, acked, tp->cc_priv[1] != 0);
		return;
	}
	tp->cc_priv[1] = 0;
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
	if (tp->rec.in_recovery && tp->cwnd < TCP_CWND_MAX)
		tp->cwnd += cc_smss(tp);
}

/* Third duplicate ACK (RFC 5681 3.2 steps 2-3): ssthresh to half the
 * flight, cwnd = ssthresh + 3 * SMSS (the three segments that left). */
static void reno_on_loss(struct tcb *tp)
{
	tp->ssthresh = cc_half_flight(tp);
	tp->cwnd = tp->ssthresh + 3 * cc_smss(tp);
	tp->cc_priv[0] = 0;
	tp->cc_priv[1] = 0;
}

/* Retransmission timeout (RFC 5681 3.1): ssthresh to half the flight on
 * the first expiry only (held for a segment already retransmitted by the
 * timer), cwnd to the loss window of one SMSS. */
static void reno_on_rto(struct tcb *tp)
{
	if (tp->rtt.backoff == 0)
		tp->ssthresh = cc_half_flight(tp);
	tp->cwnd = cc_smss(tp);
	tp->cc_priv[0] = 0;
	tp->cc_priv[1] = 1; /* RFC 3465 2.3: L = 1 SMSS until congestion avoidance */
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

/* RFC 6582 3.2 step 3, "partial acknowledgments": a partial ACK (the
 * caller retransmits the next hole and stays in recovery). cwnd deflates
 * by the bytes it acknowledged, and if that was at least one SMSS, one
 * SMSS is added back, so about ssthresh bytes stay in flight when
 * recovery ends. */
static void newreno_on_partial_ack(struct tcb *tp, uint32_t acked)
{
	uint32_t mss = cc_smss(tp);

	tp->cwnd = tp->cwnd > acked ? tp->cwnd - acked : mss;
	if (acked >= mss)
		tp->cwnd += mss;
	if (tp->cwnd < mss)
		tp->cwnd = mss;
}

/* RFC 6582 3.2 step 3, "full acknowledgments": cwnd = min(ssthresh,
 * max(FlightSize, SMSS) + SMSS) (option 1: no burst if little is in
 * flight). */
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

/* ---- CUBIC (RFC 9438) --------------------------------------------------
 *
 * Windows are counted in segments (doubles) as in the RFC's figures, and
 * turned into bytes with SMSS. Time is the stack's `now` (virtual in the
 * tests), so a run replays exactly. The state lives in tp->cc_priv. */

#define CUBIC_C 0.4            /* RFC 9438 4.1: C, segments per second cubed (0.4 as the RFC sets it) */
#define CUBIC_BETA 0.7         /* RFC 9438 4.6: beta_cubic, the multiplicative decrease */
/* RFC 9438 4.3: alpha_cubic = 3 (1 - beta) / (1 + beta), so that CUBIC in
 * the Reno-friendly region grows as fast as Reno with beta 0.5 would. */
#define CUBIC_ALPHA (3.0 * (1.0 - CUBIC_BETA) / (1.0 + CUBIC_BETA))

/* HyStart++ (RFC 9406 4.3): the constants, RTTs in microseconds. */
#define HSPP_MIN_RTT_THRESH_US 4000
#define HSPP_MAX_RTT_THRESH_US 16000
#define HSPP_MIN_RTT_DIVISOR 8
#define HSPP_N_RTT_SAMPLE 8
#define HSPP_CSS_GROWTH_DIVISOR 4
#define HSPP_CSS_ROUNDS 5
#define HSPP_NO_RTT UINT32_MAX  /* "infinity" */

enum { HSPP_OFF = 0, HSPP_SS, HSPP_CSS };

/* HyStart++'s variables (RFC 9406 4.2). */
struct hystart {
	uint32_t window_end;     /* the round ends when this is acknowledged */
	uint32_t last_min;       /* lastRoundMinRTT */
	uint32_t cur_min;        /* currentRoundMinRTT */
	uint32_t css_base;       /* cssBaselineMinRtt */
	uint16_t samples;        /* rttSampleCount */
	uint8_t state;           /* HSPP_OFF (standard slow start, or none), _SS, _CSS */
	uint8_t css_rounds;      /* rounds begun in CSS */
};

/* CUBIC's variables (RFC 9438 4.1), kept in tp->cc_priv. */
struct cubic {
	double w_max;          /* cwnd (segments) just before the last reduction, after fast convergence */
	double cwnd_prior;     /* cwnd (segments) just before the last reduction */
	double w_est;          /* Reno-friendly estimate (4.3), segments */
	double k;              /* seconds the cubic takes to reach w_max again (4.2) */
	double cwnd_epoch;     /* cwnd (segments) when the congestion avoidance stage began */
	double acc;            /* bytes of growth not yet added to cwnd (cwnd is whole bytes) */
	int64_t epoch_start;   /* when the congestion avoidance stage began (us), if in_epoch */
	int64_t last_ack;      /* the last ACK of new data (us): app-limited time is left out of t (5.8) */
	uint32_t in_epoch;     /* a congestion avoidance stage has begun */
	uint32_t after_rto;    /* 4.8: the next stage starts with K = 0, W_max = cwnd_epoch */
	struct hystart hs;     /* RFC 9406, the initial slow start (4.10 allows it) */
};

_Static_assert(sizeof(struct cubic) <= sizeof(((struct tcb *)0)->cc_priv),
	       "CUBIC's state must fit in cc_priv");

/* Copies CUBIC's state out of tp->cc_priv (memcpy: no aliasing games). */
static void cubic_load(const struct tcb *tp, struct cubic *c)
{
	memcpy(c, tp->cc_priv, sizeof(*c));
}

/* Copies CUBIC's state back into tp->cc_priv. */
static void cubic_store(struct tcb *tp, const struct cubic *c)
{
	memcpy(tp->cc_priv, c, sizeof(*c));
}

/* cwnd in segments. */
static double cubic_segs(const struct tcb *tp)
{
	return (double)tp->cwnd / cc_smss(tp);
}

/* RFC 9438 4.1 figure 1: W_cubic(t) = C (t - K)^3 + W_max, t in seconds. */
static double cubic_w(const struct cubic *c, double t)
{
	double d = t - c->k;
	return CUBIC_C * d * d * d + c->w_max;
}

/* RFC 9438 4.2 figure 2: K = cbrt((W_max - cwnd_epoch) / C), taken as 0
 * when cwnd_epoch is already at or above W_max; after an RTO (4.8) K = 0
 * and W_max = cwnd_epoch. Starts the congestion avoidance stage at now,
 * with W_est = cwnd_epoch (4.3). */
static void cubic_epoch_begin(struct tcb *tp, struct cubic *c)
{
	c->cwnd_epoch = cubic_segs(tp);
	if (c->after_rto || c->w_max <= c->cwnd_epoch) {
		c->w_max = c->cwnd_epoch;
		c->k = 0;
	} else {
		c->k = cbrt((c->w_max - c->cwnd_epoch) / CUBIC_C);
	}
	c->after_rto = 0;
	c->w_est = c->cwnd_epoch;
	c->epoch_start = tp->s->now;
	c->in_epoch = 1;
	c->acc = 0;
}

/* RFC 9438 4.3: W_est grows by alpha_cubic segments per cwnd of data
 * acknowledged; alpha_cubic becomes 1 once W_est reaches cwnd_prior. */
static void cubic_reno_friendly_grow(const struct tcb *tp, struct cubic *c, uint32_t acked)
{
	double alpha = c->w_est >= c->cwnd_prior ? 1.0 : CUBIC_ALPHA;

	c->w_est += alpha * ((double)acked / cc_smss(tp)) / cubic_segs(tp);
}

/* RFC 9438 4.4-4.5 (concave and convex regions): the target is
 * W_cubic(t + RTT) bounded to [cwnd, 1.5 cwnd], and cwnd grows by
 * (target - cwnd) / cwnd segments per segment acknowledged. Returns the
 * growth in bytes for acked bytes. */
static double cubic_growth(const struct tcb *tp, const struct cubic *c, double t, uint32_t acked)
{
	double cwnd = cubic_segs(tp);
	double rtt = tp->rtt.valid ? (double)tp->rtt.srtt / 1e6 : 0.1;
	double target = cubic_w(c, t + rtt);

	if (target < cwnd)
		target = cwnd;
	if (target > 1.5 * cwnd)
		target = 1.5 * cwnd;
	return (target - cwnd) / cwnd * (double)acked;
}

/* ---- HyStart++ (RFC 9406) ---------------------------------------------
 *
 * Slow start that leaves early when the RTT grows (a queue builds) rather
 * than when the queue overflows: rounds of one window (windowEnd); the
 * lowest RTT of a round against the last round's; a rise of RttThresh
 * moves to Conservative Slow Start (CSS: a quarter of the growth) for
 * CSS_ROUNDS rounds, then congestion avoidance with ssthresh = cwnd; an
 * RTT back below the baseline in CSS means the rise was not a queue, and
 * slow start resumes. Used in the initial slow start only (4.2: after an
 * RTO standard slow start; a loss ends it). RTT samples come from the
 * timestamps on every ACK; without timestamps a round has one sample,
 * fewer than N_RTT_SAMPLE, so the exit never triggers and slow start is
 * standard. Growth in slow start is RFC 3465's L = 2 SMSS per ACK (RFC
 * 9406 4.2 allows up to L = 8 SMSS without pacing). */

/* A new round: the last one's minimum kept, counting afresh (4.2). */
static void hystart_round(struct tcb *tp, struct hystart *h)
{
	h->last_min = h->cur_min;
	h->cur_min = HSPP_NO_RTT;
	h->samples = 0;
	h->window_end = tp->snd.max;
}

/* Counts (counter: a literal, stats.h) and traces a HyStart++ step (event
 * names the --tcp-trace row). */
static void hystart_note(struct tcb *tp, const char *event, const char *counter, const char *what,
			 uint32_t rtt, uint32_t base)
{
	char name[128];

	stats_inc(&tp->s->stats, counter);
	tcp_trace(tp, event);
	TRACE(tp->s, "tcp %s HyStart++: %s (round min RTT %u us, baseline %u us, cwnd %u)",
	      tcb_str(tp, name, sizeof(name)), what, rtt, base, tp->cwnd);
}

/* RFC 9406 4.2, one ACK of acked bytes in the initial slow start or CSS:
 * the growth (standard, or a quarter in CSS), the round's RTT minimum,
 * the move to CSS, back to slow start, or on to congestion avoidance. */
static void hystart_on_ack(struct tcb *tp, struct cubic *c, uint32_t acked)
{
	struct hystart *h = &c->hs;
	uint32_t before = tp->cwnd;

	cc_slow_start(tp, acked, false);
	if (h->state == HSPP_CSS)
		tp->cwnd = before + (tp->cwnd - before) / HSPP_CSS_GROWTH_DIVISOR;
	if (tp->rtt.fresh && tp->rtt.last >= 0) {
		uint32_t r = tp->rtt.last < HSPP_NO_RTT ? (uint32_t)tp->rtt.last : HSPP_NO_RTT - 1;
		if (r < h->cur_min)
			h->cur_min = r;
		h->samples++;
	}
	bool enough = h->samples >= HSPP_N_RTT_SAMPLE && h->cur_min != HSPP_NO_RTT;
	if (h->state == HSPP_SS && enough && h->last_min != HSPP_NO_RTT) {
		uint32_t thresh = h->last_min / HSPP_MIN_RTT_DIVISOR;
		if (thresh > HSPP_MAX_RTT_THRESH_US)
			thresh = HSPP_MAX_RTT_THRESH_US;
		if (thresh < HSPP_MIN_RTT_THRESH_US)
			thresh = HSPP_MIN_RTT_THRESH_US;
		if (h->cur_min >= h->last_min + thresh) {
			h->css_base = h->cur_min;
			h->state = HSPP_CSS;
			h->css_rounds = 1; /* the round it began in counts */
			hystart_note(tp, "hystart_css", "tcp.hystart_css", "RTT up, conservative slow start", h->cur_min,
				     h->last_min);
		}
	} else if (h->state == HSPP_CSS && enough && h->cur_min < h->css_base) {
		h->css_base = HSPP_NO_RTT;
		h->state = HSPP_SS;
		hystart_note(tp, "hystart_resume", "tcp.hystart_resume", "RTT down again, slow start", h->cur_min,
			     h->last_min);
	}
	if (SEQ_GEQ(tp->snd.una, h->window_end)) {
		hystart_round(tp, h);
		if (h->state == HSPP_CSS && ++h->css_rounds > HSPP_CSS_ROUNDS) {
			tp->ssthresh = tp->cwnd; /* 4.2: on to congestion avoidance */
			h->state = HSPP_OFF;
			hystart_note(tp, "hystart_exit", "tcp.hystart_exit", "CSS over, congestion avoidance",
				     h->last_min, h->css_base);
		}
	}
}

/* Connection established: the initial window as Reno, and HyStart++ for
 * the slow start (RFC 9438 4.10, RFC 9406); no congestion event yet. */
static void cubic_init(struct tcb *tp)
{
	struct cubic c;

	memset(&c, 0, sizeof(c));
	tp->cwnd = tcp_cc_initial_window(tp);
	if (tp->ssthresh == UINT32_MAX) {
		c.hs.state = HSPP_SS;
		c.hs.cur_min = c.hs.last_min = c.hs.css_base = HSPP_NO_RTT;
		c.hs.window_end = tp->snd.max;
	}
	cubic_store(tp, &c);
}

/* New data acked. Below ssthresh: slow start as Reno (RFC 9438 4.10).
 * Above: congestion avoidance. t counts from the beginning of the stage
 * (4.1); when W_cubic(t) is below the Reno-friendly W_est, cwnd follows
 * W_est (4.3), else the cubic curve (4.4, 4.5). */
static void cubic_on_ack(struct tcb *tp, uint32_t acked)
{
	struct cubic c;

	if (tp->cwnd >= TCP_CWND_MAX)
		return;
	cubic_load(tp, &c);
	c.last_ack = tp->s->now;
	if (tp->cwnd < tp->ssthresh) {
		if (c.hs.state != HSPP_OFF)
			hystart_on_ack(tp, &c, acked);
		else
			cc_slow_start(tp, acked, c.after_rto != 0);
		cubic_store(tp, &c);
		return;
	}
	c.hs.state = HSPP_OFF; /* past ssthresh (set by hand, or by 4.2's end of CSS) */
	if (!c.in_epoch)
		cubic_epoch_begin(tp, &c);
	double t = (double)(tp->s->now - c.epoch_start) / 1e6;
	cubic_reno_friendly_grow(tp, &c, acked);
	uint32_t mss = cc_smss(tp);
	if (cubic_w(&c, t) < c.w_est) {
		double est = c.w_est * mss;
		if (est > (double)tp->cwnd)
			tp->cwnd = est < TCP_CWND_MAX ? (uint32_t)est : TCP_CWND_MAX;
	} else {
		c.acc += cubic_growth(tp, &c, t, acked);
		if (c.acc >= 1.0) {
			double add = floor(c.acc);
			c.acc -= add;
			tp->cwnd = (double)tp->cwnd + add < TCP_CWND_MAX ? tp->cwnd + (uint32_t)add
									 : TCP_CWND_MAX;
		}
	}
	cubic_store(tp, &c);
}

/* RFC 9438 4.7, fast convergence: a flow whose window stopped short of the
 * last W_max releases bandwidth: W_max = cwnd (1 + beta) / 2; else W_max
 * = cwnd. cwnd here is the window before the reduction. */
static void cubic_fast_convergence(struct cubic *c, double cwnd)
{
	c->w_max = cwnd < c->w_max ? cwnd * (1.0 + CUBIC_BETA) / 2.0 : cwnd;
}

/* RFC 9438 4.6: ssthresh = flight_size * beta_cubic, at least 2 SMSS;
 * cwnd_prior = cwnd; fast convergence sets W_max; the next congestion
 * avoidance stage starts afresh. */
static void cubic_reduce(struct tcb *tp, struct cubic *c)
{
	uint32_t mss = cc_smss(tp);
	double ss = (double)cc_flight(tp) * CUBIC_BETA;

	c->cwnd_prior = cubic_segs(tp);
	c->hs.state = HSPP_OFF; /* RFC 9406 4.2: a loss ends (conservative) slow start */
	cubic_fast_convergence(c, c->cwnd_prior);
	tp->ssthresh = ss > 2.0 * mss ? (uint32_t)ss : 2 * mss;
	c->in_epoch = 0;
	c->acc = 0;
}

/* Third duplicate ACK: the multiplicative decrease (RFC 9438 4.6), then
 * the fast recovery of RFC 5681 3.2 step 3 (cwnd = ssthresh + 3 SMSS; with
 * SACK the caller sets cwnd = ssthresh). */
static void cubic_on_loss(struct tcb *tp)
{
	struct cubic c;

	cubic_load(tp, &c);
	cubic_reduce(tp, &c);
	tp->cwnd = tp->ssthresh + 3 * cc_smss(tp);
	cubic_store(tp, &c);
}

/* Retransmission timeout (RFC 9438 4.8): cwnd to one segment as Reno (RFC
 * 5681 3.1, slow start again), ssthresh with beta_cubic (4.6) on the first
 * expiry only; the next congestion avoidance stage runs with K = 0 and
 * W_max = its starting cwnd. */
static void cubic_on_rto(struct tcb *tp)
{
	struct cubic c;

	cubic_load(tp, &c);
	if (tp->rtt.backoff == 0)
		cubic_reduce(tp, &c);
	c.hs.state = HSPP_OFF; /* RFC 9406 4.2: standard slow start after an RTO */
	c.after_rto = 1;
	c.in_epoch = 0;
	tp->cwnd = cc_smss(tp);
	cubic_store(tp, &c);
}

/* RFC 9438 5.8: new data acked while the flow did not use its window.
 * cwnd stays, and the time since the last ACK is not part of t: the
 * stage's start moves on by it, so W_cubic(t) stands still while the app
 * holds the flow back. */
static void cubic_on_app_limited(struct tcb *tp, uint32_t acked)
{
	struct cubic c;

	(void)acked;
	cubic_load(tp, &c);
	if (c.in_epoch && c.last_ack > 0 && tp->s->now > c.last_ack)
		c.epoch_start += tp->s->now - c.last_ack;
	c.last_ack = tp->s->now;
	cubic_store(tp, &c);
}

/* RFC 9438 5.8, as Linux's bictcp_cwnd_event(CA_EVENT_TX_START): data goes
 * again after idle_us with nothing in flight; t leaves the idle time out
 * (the stage's start moves on by it), counted from the last send or the
 * last ACK, whichever is later (time before an app-limited ACK was left
 * out already). */
static void cubic_on_tx_start(struct tcb *tp, int64_t idle_us)
{
	struct cubic c;
	int64_t from = tp->s->now - idle_us;

	cubic_load(tp, &c);
	if (c.last_ack > from)
		from = c.last_ack;
	if (c.in_epoch && tp->s->now > from)
		c.epoch_start += tp->s->now - from;
	c.last_ack = tp->s->now;
	cubic_store(tp, &c);
}

const struct tcp_cc_ops tcp_cc_cubic = {
	.name = "cubic",
	.init = cubic_init,
	.on_ack = cubic_on_ack,
	.on_dupack = reno_on_dupack,                     /* RFC 5681 3.2 step 4 */
	.on_loss = cubic_on_loss,
	.on_rto = cubic_on_rto,
	.on_recovery_exit = newreno_on_recovery_exit,    /* RFC 6582 3.2 step 3, full ACK */
	.on_partial_ack = newreno_on_partial_ack,        /* RFC 6582 3.2 step 3, partial ACK */
	.on_app_limited = cubic_on_app_limited,          /* RFC 9438 5.8 */
	.on_tx_start = cubic_on_tx_start,                /* RFC 9438 5.8 */
};

/* Contract in tcp.h. */
const struct tcp_cc_ops *tcp_cc_find(const char *name)
{
	static const struct tcp_cc_ops *const all[] = { &tcp_cc_reno, &tcp_cc_newreno,
							&tcp_cc_cubic };

	for (size_t i = 0; i < sizeof(all) / sizeof(all[0]); i++)
		if (strcmp(all[i]->name, name) == 0)
			return all[i];
	return NULL;
}
