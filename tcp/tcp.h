/* TCP (RFC 9293): the connection control block, the connection table, and
 * the functions the parts of tcp/ offer each other.
 *
 *   tcp_fsm.h     the states and the table of what each allows
 *   tcp_codec.c   segment header and options: parse and emit, checksum
 *   tcp.c         control blocks, the 4-tuple hash, ISNs (RFC 6528), states
 *   tcp_input.c   SEGMENT ARRIVES (RFC 9293 3.10.7), one function per step
 *   tcp_reass.c   the receiver's data (seventh step): in order, out of order
 *                 (held in the receive ring, a FIN too), delayed ACKs, the
 *                 SACK blocks we send
 *   tcp_output.c  sending: segmentation, windows, Nagle, SWS, ACKs, SYNs, RSTs
 *   tcp_sack.c    the sender's SACK scoreboard (RFC 2018, RFC 6675), lost
 *                 retransmissions
 *   tcp_ack.c     the sender's ACK processing: RTT and RTO (RFC 6298),
 *                 retransmission, fast retransmit and recovery (RFC 5681,
 *                 6582, 6675), undo (RFC 3708), tail loss probes (RFC 8985)
 *   tcp_timer.c   the timer heap: retransmission, persist, delayed ACK,
 *                 keepalive, TIME-WAIT, connection establishment
 *   tcp_syncookie.c  the host's SYN queue and SYN cookies (RFC 4987)
 *   tcp_socket.c  the socket operations (listen, accept, connect, send...)
 *   tcp_cc.c      congestion control algorithms behind struct tcp_cc_ops
 *
 * Sequence numbers are compared only with SEQ_LT / SEQ_LEQ / SEQ_GT /
 * SEQ_GEQ (tcp_seq.h), which are right across wrap-around. */
#ifndef TAPSTACK_TCP_H
#define TAPSTACK_TCP_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "ip/addr.h"
#include "ip/ip.h"
#include "stack/ring.h"
#include "tcp/tcp_codec.h"
#include "tcp/tcp_fsm.h"
#include "tcp/tcp_seq.h"

struct stack;
struct netif;
struct pkt;
struct socket;
struct tcb;

/* ---- limits and defaults --------------------------------------------- */

#define TCP_DEFAULT_MSS 536          /* RFC 9293 3.7.1: when the peer sends no MSS option (IPv4) */
/* Buffers large enough to fill a long fat path (issue 5): 4 MB each. A
 * ring takes memory only as data fills it (stack/ring.h: 4 KB at the first
 * byte, doubling on demand), so an idle connection costs nothing and
 * 10,000 of them little; the window scale at SYN time covers the limit. */
#define TCP_DEFAULT_SNDBUF (4 * 1024 * 1024)
#define TCP_DEFAULT_RCVBUF (4 * 1024 * 1024)
#define TCP_MAX_WSCALE 14            /* RFC 7323 2.3 */
#define TCP_OOO_MAX 16               /* out-of-order ranges kept per connection */
#define TCP_MSL_US (30 * 1000000LL)  /* maximum segment lifetime (configurable per host) */
#define TCP_RTO_INITIAL_US 1000000   /* RFC 6298 2.1: 1 s */
#define TCP_RTO_MIN_US 200000        /* RFC 6298 2.4 says 1 s; 200 ms as Linux (configurable) */
#define TCP_RTO_MAX_US 60000000      /* RFC 6298 2.5: at least 60 s */
#define TCP_MAX_RETRIES 8            /* retransmissions of one segment before ETIMEDOUT (RFC 1122 4.2.3.5 R2) */
/* RFC 1122 4.2.3.5: R2 lasts at least 100 s. 180 s is what the eight
 * retransmissions take from the initial RTO of 1 s; with an RTO near
 * rto_min (200 ms, or --rto-min) they would take 100 s or much less, and an
 * outage of a minute (a neighbor's cache wrong for 30 s and more) would
 * kill the connection. */
#define TCP_R2_MIN_US (180 * 1000000LL)
#define TCP_TLP_MIN_US 10000         /* the shortest probe timeout (as Linux), RFC 8985 7.2 */
#define TCP_SYN_RETRIES 5            /* SYN / SYN-ACK retransmissions before giving up (R2 for SYN, >= 3 min in 1122; shorter here) */
#define TCP_DELACK_US 40000          /* RFC 1122 4.2.3.2: at most 0.5 s; 40 ms, as Linux's
					* TCP_DELACK_MIN: well under the 200 ms minimum RTO, so
					* a lone last segment is ACKed before its RTO fires */
#define TCP_PERSIST_MIN_US 500000    /* first zero-window probe */
#define TCP_PERSIST_MAX_US 60000000
#define TCP_KEEPALIVE_IDLE_US (2 * 3600 * 1000000LL) /* RFC 1122 4.2.3.6: >= 2 hours */
#define TCP_KEEPALIVE_INTVL_US (75 * 1000000LL)
#define TCP_KEEPALIVE_PROBES 9
#define TCP_FIN_WAIT_2_US (60 * 1000000LL) /* an orphan in FIN-WAIT-2 is freed after this (timer.twomsl) */
#define TCP_MAX_CONNECTIONS 65536    /* control blocks per host */
#define TCP_HASH_SIZE 16384          /* buckets of the 4-tuple hash */
/* RFC 5961 7 and the fix of CVE-2016-5696 (as Linux): a connection sends
 * at most one challenge ACK, or ACK for an out-of-window or PAWS-rejected
 * segment without data, per TCP_OOW_ACK_INTERVAL_US (Linux's
 * tcp_invalid_ratelimit); above that a host-wide ceiling of challenge ACKs
 * per second, drawn again each second between half and one and a half
 * times TCP_CHALLENGE_ACK_LIMIT, so that a spoofer cannot count what other
 * connections spent of it. */
#define TCP_CHALLENGE_ACK_LIMIT 1000     /* the default mean ceiling (--challenge-acks) */
#define TCP_CHALLENGE_ACK_LIMIT_MAX 1000000
#define TCP_OOW_ACK_INTERVAL_US 500000
/* The SYN queue (half-open children of every listener, RFC 4987 3.2/3.4),
 * apart from each listener's accept queue: at most --syn-backlog of them
 * host-wide; when it is full, SYN cookies (RFC 4987 3.6, --syncookies) or
 * the oldest one is evicted (RFC 4987 3.4, --syncookies never). */
#define TCP_SYN_BACKLOG 1024
#define TCP_SYN_BACKLOG_MAX 65536
#define TCP_COOKIE_PERIOD_US (64 * 1000000LL) /* RFC 4987 3.6: one step of the cookies' counter */
#define TCP_COOKIE_MAX_AGE 2                  /* periods a cookie stays good: [0, 2) */
/* Resource governance (issue 20): what peers can make the host hold.
 * TIME-WAIT entries at most --tcp-max-tw (the oldest is recycled when a
 * new one comes, RFC 6191 / RFC 1337 in tcp.c); orphans (closed by the
 * app, still closing) at most --tcp-max-orphans (beyond, a close resets,
 * as Linux's tcp_max_orphans); the bytes of every TCP ring together
 * against --tcp-mem LOW,HIGH (as Linux's tcp_mem: above LOW the windows
 * offered stop growing past the memory a ring has, above HIGH data that
 * would make a ring grow beyond it is dropped). */
#define TCP_MAX_TW_DEFAULT 32768
#define TCP_MAX_ORPHANS_DEFAULT 16384
#define TCP_MEM_LOW_DEFAULT (512ull * 1024 * 1024)
#define TCP_MEM_HIGH_DEFAULT (1024ull * 1024 * 1024)
/* Out-of-order data may make the receive ring grow only to twice the bytes
 * it holds plus this much: one byte at the right edge of a 4 MB window
 * must not reserve 4 MB (issue 20). */
#define TCP_OOO_SLACK (256 * 1024)
#define TCP_SACK_SCOREBOARD 8        /* SACKed ranges the sender remembers (RFC 6675 scoreboard) */
#define TCP_DUPTHRESH 3              /* RFC 5681 3.2, RFC 6675 2: DupThresh */
#define TCP_MIN_SND_MSS 536          /* a peer's MSS option below it is raised to it (tcp_negotiate) */
#define TCP_RXT_RECORDS 16           /* retransmissions of one SACK recovery watched for loss */

/* ---- congestion control (issue 5 fills in Reno, NewReno, CUBIC) ------- */

struct tcp_cc_ops {
	const char *name;
	void (*init)(struct tcb *tp);                     /* connection established: set cwnd (RFC 6928 IW) */
	void (*on_ack)(struct tcb *tp, uint32_t acked);   /* new data acknowledged */
	void (*on_dupack)(struct tcb *tp);                /* a duplicate ACK arrived */
	void (*on_loss)(struct tcb *tp);                  /* fast retransmit: enter recovery */
	void (*on_rto)(struct tcb *tp);                   /* retransmission timeout */
	void (*on_recovery_exit)(struct tcb *tp);         /* recovery ended */
	/* RFC 6582 3.2 step 3, "partial acknowledgments": an ACK of new data
	 * below the recover point in (non-SACK) recovery; acked bytes newly
	 * acknowledged. NULL = Reno: any new ACK ends recovery (RFC 5681 3.2
	 * step 6). */
	void (*on_partial_ack)(struct tcb *tp, uint32_t acked);
	/* RFC 9438 5.8, RFC 7661: new data acknowledged while the flow was
	 * not using its window (application- or receiver-limited): called
	 * instead of on_ack, cwnd must not grow. NULL = nothing to do. */
	void (*on_app_limited)(struct tcb *tp, uint32_t acked);
	/* Data goes out again after idle_us with nothing in flight (as
	 * Linux's CA_EVENT_TX_START), after the restart window of RFC 5681
	 * 4.1 was applied. NULL = nothing to do. */
	void (*on_tx_start)(struct tcb *tp, int64_t idle_us);
};

/* Reno (RFC 5681), NewReno (RFC 6582) and CUBIC (RFC 9438, the host
 * default; NewReno's loss recovery). */
extern const struct tcp_cc_ops tcp_cc_reno;
extern const struct tcp_cc_ops tcp_cc_newreno;
extern const struct tcp_cc_ops tcp_cc_cubic;

/* The algorithm called name ("reno", "newreno", "cubic"), or NULL. */
const struct tcp_cc_ops *tcp_cc_find(const char *name);

/* The initial window of tp in bytes (RFC 6928 2, or the host's --iw;
 * one segment after a lost SYN or SYN-ACK, RFC 5681 3.1). */
uint32_t tcp_cc_initial_window(const struct tcb *tp);

/* RFC 5681 4.1: the restart window after an idle period, RW = min(IW,
 * cwnd), IW as RFC 6928 (or --iw) gives it. */
uint32_t tcp_cc_restart_window(const struct tcb *tp);

/* ---- the control block ------------------------------------------------ */

/* An out-of-order range of received data, [start, end), held in the
 * receive ring just past the in-order bytes. */
struct tcp_range {
	uint32_t start, end;
};

/* The connection control block (RFC 9293 3.3.1 "Transmission Control
 * Block"). Its fields come in groups, each a sub-struct named for what it
 * holds, so the code reads like the RFCs: tp->sndbuf.una is SND.UNA,
 * tp->rcvbuf.nxt is RCV.NXT, tp->rtt.rtt.srtt is RFC 6298's SRTT. Groups, in
 * order: identity; the RFC 9293 sequence variables (snd, rcv); the byte
 * rings (sndbuf, rcvbuf) and the out-of-order ranges held in rcvbuf; what
 * the app asked for; ACK state; negotiated options (opt); RTT and RTO
 * (rtt); tail loss probes (tlp); congestion control; loss recovery (rec);
 * undo (undo); SACK (sack); timers (t_*); a listener's queues; statistics. */
struct tcb {
	enum tcp_state state;
	struct stack *s;
	struct socket *so;            /* the app's socket; NULL once closed by the app or before accept */
	struct tcb *listener;         /* the listening tcb that made this one (until accepted) */
	/* the host's SYN queue: half-open children, oldest first (tcp_syncookie.c) */
	struct tcb *synq_prev, *synq_next;
	bool in_synq;
	/* RFC 5961 7: when this connection last sent a challenge ACK or an
	 * ACK to an out-of-window segment (oow_sent: it did) */
	int64_t oow_last;
	bool oow_sent;

	/* the connection's identity: the 4-tuple */
	struct ipaddr laddr, raddr;
	uint16_t lport, rport;

	/* RFC 9293 3.3.1: the initial sequence numbers, ISS and IRS */
	uint32_t iss;                 /* initial send sequence number */
	uint32_t irs;                 /* initial receive sequence number */
	/* RFC 9293 3.3.1: send sequence variables, SND.UNA is snd.una */
	struct {
		uint32_t una;         /* oldest unacknowledged */
		uint32_t nxt;         /* next to send */
		uint32_t max;         /* highest sequence number sent + 1 (snd.nxt can go back on RTO) */
		uint32_t wnd;         /* peer's window, scaled */
		uint32_t max_wnd;     /* largest window the peer offered (sender SWS, RFC 1122 4.2.3.4) */
		uint32_t wl1, wl2;    /* segment seq and ack of the last window update */
		uint32_t up;
	} snd;
	/* RFC 9293 3.3.1: receive sequence variables, RCV.NXT is rcv.nxt */
	struct {
		uint32_t nxt;         /* next expected */
		uint32_t wnd;         /* window we offer */
		uint32_t adv;         /* rcv.nxt + window at our last advertisement: never move it left (3.8.6.2.2) */
		uint32_t up;
	} rcv;

	/* buffers: sndbuf holds the bytes from snd.una on (sent or not);
	 * rcvbuf holds in-order bytes the app has not read, then out-of-order
	 * ranges (tcp_reass.c) */
	struct ring sndbuf, rcvbuf;
	struct tcp_range ooo[TCP_OOO_MAX];
	int nooo;
	bool fin_pending;             /* the peer's FIN arrived (maybe out of order) at fin_seq, not yet counted */
	uint32_t fin_seq;

	/* what the app asked for */
	bool fin_queued;              /* close()/shutdown(SHUT_WR): send FIN after the data */
	bool fin_rcvd;                /* the peer's FIN arrived (rcv.nxt counts it) */
	bool rd_shut;                 /* shutdown(SHUT_RD) */
	bool nodelay;                 /* TCP_NODELAY: no Nagle */
	bool keepalive;               /* SO_KEEPALIVE */

	/* acknowledgment state */
	bool ack_now;                 /* send an ACK at the end of input processing */
	int delack_segs;              /* full segments received since our last ACK */

	/* negotiated options */
	struct {
		uint16_t snd_mss;     /* largest segment we send (peer's MSS, our MTU) */
		uint16_t rcv_mss;     /* MSS we announced */
		uint8_t snd_wscale;   /* shift applied to windows the peer sends */
		uint8_t rcv_wscale;   /* shift applied to windows we send */
		bool ws_ok, ts_ok, sack_ok; /* window scale, timestamps, SACK negotiated */
		uint32_t ts_recent;   /* RFC 7323 4.3: latest timestamp to echo */
		int64_t ts_recent_time;
	} opt;

	/* RFC 6298: round-trip time and retransmission timeout, microseconds */
	struct {
		int64_t srtt, rttvar, rto;
		bool valid;           /* srtt/rttvar hold a measurement */
		int64_t last;         /* the latest RTT sample (us) */
		bool fresh;           /* the ACK being processed gave last (HyStart++ counts them) */
		uint32_t seq;         /* segment being timed (Karn: only if never retransmitted) */
		int64_t start;        /* 0 = not timing */
		int backoff;          /* consecutive RTO expiries */
		int retries;          /* retransmissions of the current oldest segment */
		int64_t rexmt_first;  /* when the timer first retransmitted it (retries 0 -> 1) */
	} rtt;
	/* RFC 8985 7: tail loss probes */
	struct {
		bool armed;           /* timer.rexmt is a tail loss probe's time, not the RTO (RFC 8985 7) */
		bool out;             /* a probe was sent and not yet acknowledged */
		uint32_t high;        /* snd.max when it was sent */
	} tlp;

	/* congestion control (RFC 5681) */
	const struct tcp_cc_ops *cc;
	uint32_t cwnd, ssthresh;
	uint64_t cc_priv[12];         /* the algorithm's own state */
	int64_t last_data_sent;       /* when data last went out (RFC 5681 4.1 restart window); 0 = never */
	/* loss recovery: fast retransmit and recovery (RFC 5681 3.2, RFC 6582,
	 * RFC 6675) */
	struct {
		int dupacks;
		uint32_t recover;     /* RFC 6582 recover point: snd.max when recovery began */
		bool in_recovery;
		bool sack_recovery;   /* the recovery is RFC 6675's (SACK), not NewReno's */
		uint32_t high_rxt;    /* RFC 6675 HighRxt: end of the last hole retransmitted */
		uint32_t rescue_rxt;  /* RFC 6675 RescueRxt (rescue_set: defined) */
		bool rescue_set;
		/* the retransmissions of this SACK recovery, each with snd.max
		 * when it went (mark): one is lost once the peer SACKs data sent
		 * after it (as Linux's tcp_mark_lost_retrans), and goes again
		 * without an RTO */
		struct tcp_rxt {
			uint32_t start, end, mark;
			bool lost;
		} rxt[TCP_RXT_RECORDS];
		int nrxt;
	} rec;
	/* RFC 3708, RFC 9438 4.9: undoing a reduction that D-SACKs show
	 * spurious. Armed at a fast retransmit with SACK: what cwnd, ssthresh
	 * and the algorithm's state were before it, and the retransmissions
	 * since that no D-SACK has reported as needless yet */
	struct {
		bool armed;
		uint32_t marker;      /* snd.una at the fast retransmit */
		uint32_t end;         /* snd.max when the recovery ended: D-SACKs come before it is acked */
		uint32_t cwnd, ssthresh;
		int retrans;
		uint64_t priv[12];
	} undo;

	/* SACK (RFC 2018) */
	struct {
		/* the sender's scoreboard: ranges the peer SACKed above snd.una,
		 * sorted and disjoint, at most TCP_SACK_SCOREBOARD */
		struct tcp_range scoreboard[TCP_SACK_SCOREBOARD];
		int nscoreboard;
		/* the receiver's: ranges of the segments that arrived out of
		 * order lately, newest first (RFC 2018 4: the first block
		 * reports the newest) */
		struct tcp_range recent[TCP_MAX_SACK];
		int nrecent;
		/* RFC 2883 3: a duplicate segment to report in the first SACK
		 * block of the next ACK (a D-SACK) */
		struct tcp_range dsack;
		bool dsack_pending;
	} sack;

	/* TCP_TRACE_FILE: this connection's own trace file (and its name, for
	 * the children of a listener); NULL = the host's --tcp-trace, if any */
	FILE *trace_file;
	char *trace_path;

	/* timers: absolute deadlines, TCP_NO_TIMER when off (tcp_timer.c) */
	struct {
		int64_t rexmt;         /* retransmission (also SYN, SYN-ACK, FIN) */
		int64_t persist;       /* zero-window probe */
		int64_t delack;        /* delayed ACK */
		int64_t keep;          /* keepalive, or establishment timeout */
		int64_t twomsl;        /* TIME-WAIT (2 MSL), or FIN-WAIT-2 timeout */
		int persist_backoff;
		int persist_probes;    /* zero-window probes sent since the peer's last acceptable ACK */
		int keep_probes;
		uint64_t keep_segs;    /* stat.segs_in when the keepalive timer was armed (activity test) */
		int64_t when;          /* min of the timers: its key in the heap */
		int heap_idx;          /* position in the timer heap, -1 if none */
	} timer;

	/* a listener's queues (RFC 9293 3.10.1: backlog); accept_next links a
	 * child into its listener's accept queue */
	struct {
		int backlog;
		int nsyn;              /* children in SYN-RECEIVED */
		struct tcb *accept_head, *accept_tail; /* established children not yet accepted */
		int naccept;
		struct tcb *accept_next;
	} listen;

	/* statistics shown by tapctl sockets */
	struct {
		uint64_t segs_in, segs_out, retransmits, bytes_acked, bytes_received;
	} stat;
	bool port_held;               /* lport counted in tcp_table.port_refs */
	uint8_t family;               /* AF_INET or AF_INET6, the socket's: a wildcard
					 listener takes only its own family (IPV6_V6ONLY) */

	struct tcb *hash_next;        /* 4-tuple hash chain */
	/* resource governance (tcp.c) */
	struct tcb *tw_prev, *tw_next; /* the host's TIME-WAIT list, oldest first */
	bool orphan;                  /* counted in tcp_table.orphans */
	size_t mem_charged;           /* ring bytes counted in tcp_table.mem_bytes */
};

#define TCP_NO_TIMER INT64_MAX

/* The per-host TCP state. */
struct tcp_table {
	struct tcb *hash[TCP_HASH_SIZE];  /* connections by 4-tuple */
	struct tcb *listeners;            /* LISTEN tcbs, chained by hash_next */
	unsigned count;                   /* control blocks alive */
	unsigned time_wait;               /* of them, in TIME-WAIT */
	struct tcb **heap;                /* timer heap, by tcb->timer.when */
	unsigned heap_len, heap_cap;
	uint8_t isn_key[16];              /* RFC 6528 secret */
	int64_t msl_us;                   /* 2*MSL is the TIME-WAIT */
	int64_t rto_min_us;
	/* RFC 5961 7: the host-wide ceiling of challenge ACKs, per second */
	int64_t challenge_second;         /* the second challenge_count counts in */
	uint32_t challenge_count, challenge_limit;
	uint32_t challenge_acks;          /* --challenge-acks N: the ceiling's mean per second */
	/* the SYN queue (RFC 4987 3.4) and SYN cookies (RFC 4987 3.6) */
	struct tcb *synq_head, *synq_tail; /* half-open children, oldest first */
	unsigned synq_len;
	unsigned syn_backlog;             /* --syn-backlog N */
	enum tcp_syncookies { TCP_SYNCOOKIES_AUTO, TCP_SYNCOOKIES_ALWAYS,
			      TCP_SYNCOOKIES_NEVER } syncookies; /* --syncookies */
	uint8_t cookie_key[16];           /* SipHash key of the cookies */
	int64_t cookie_last_sent;         /* when the last cookie went (valid if cookies_sent) */
	bool cookies_sent;
	const struct tcp_cc_ops *cc_default;
	uint32_t iw_segs;                 /* --iw N: initial window in segments; 0 = RFC 6928's */
	bool no_sack;                     /* neither offer nor accept SACK (as sysctl tcp_sack=0) */
	bool sack_pipe_check;             /* tests: recount every SACK pipe over the flight (tcp_sack.c) */
	FILE *tcp_trace;                  /* --tcp-trace: CSV event rows (tcp_trace.h); NULL = off */
	bool tcp_trace_header;            /* its header line is written */
	/* resource governance: TIME-WAIT entries oldest first (the list
	 * time_wait counts), orphans, the rings' memory (tcp_mem_sync) */
	struct tcb *tw_head, *tw_tail;
	unsigned max_tw;                  /* --tcp-max-tw N */
	unsigned max_tcbs;                /* TCP_MAX_CONNECTIONS (tests lower it) */
	unsigned orphans, max_orphans;    /* --tcp-max-orphans N */
	size_t mem_bytes;                 /* capacity of every ring, as last synced */
	size_t mem_low, mem_high;         /* --tcp-mem LOW,HIGH */
	uint16_t port_refs[65536];        /* control blocks holding each local port */
	uint16_t port_refs6[65536];       /* those of them that are AF_INET6 */
};

/* ---- tcp.c: control blocks, lookup, ISN ---------------------------------- */

/* Prepares the host's TCP (key from the host's generator). */
void tcp_init(struct stack *s);

/* Frees every control block (and its buffers). */
void tcp_fini(struct stack *s);

/* A new control block in CLOSED, with default buffers, MSS, RTO and the
 * host's congestion control. NULL when TCP_MAX_CONNECTIONS are alive. */
struct tcb *tcb_new(struct stack *s);

/* Puts tp in the 4-tuple hash (or the listener list in LISTEN). */
void tcb_hash(struct tcb *tp);

/* Frees tp: unhashes it, stops its timers, frees its buffers, and detaches
 * its socket (so->proto = NULL). A child still in a listener's queue is
 * unlinked from it. */
void tcb_free(struct tcb *tp);

/* Changes state, tracing "tcp 10.0.0.2:7 <- 10.0.0.1:40000 SYN-RECEIVED -> ESTABLISHED". */
void tcp_set_state(struct tcb *tp, enum tcp_state st);

/* The connection's name in traces, into buf (IPADDR_PORT_STRLEN * 2 + 8 is
 * enough): "10.0.0.2:7 <- 10.0.0.1:40000", "[fd00::2]:80 <- [fd00::1]:42500",
 * a listener "*:7" or "[::]:7". Returns buf. */
const char *tcb_str(const struct tcb *tp, char *buf, size_t len);

/* The connection for this 4-tuple, or NULL. O(1) expected. */
struct tcb *tcp_lookup(struct stack *s, const struct ipaddr *laddr, uint16_t lport,
		       const struct ipaddr *raddr, uint16_t rport);

/* The listener for laddr:lport (exact address first, then any), or NULL.
 * Only listeners of laddr's family are candidates (IPV6_V6ONLY). */
struct tcb *tcp_lookup_listener(struct stack *s, const struct ipaddr *laddr, uint16_t lport);

/* True if some tcb holds local port lport (bound, listening or connected). */
bool tcp_port_in_use(struct stack *s, uint16_t lport);

/* The same, counting only the tcbs of one family (AF_INET or AF_INET6):
 * the two families have separate port spaces for bind (IPV6_V6ONLY). */
bool tcp_port_in_use_family(struct stack *s, uint16_t lport, int family);

/* Gives tp local port lport, counting the port as used until tcb_free. */
void tcb_take_port(struct tcb *tp, uint16_t lport);

/* A child of a listener reached ESTABLISHED: it leaves the listener's
 * SYN-RECEIVED count and joins the accept queue (RFC 9293 3.10.7.4). */
void tcp_accept_enqueue(struct tcb *child);

/* The oldest connection waiting in listener's accept queue, taken off it;
 * NULL if none. */
struct tcb *tcp_accept_dequeue(struct tcb *listener);

/* The bytes of a 4-tuple for a keyed hash (tcp.c): 16 + 2 + 16 + 2. */
#define TCP_TUPLE_BYTES 36
void tcp_tuple_bytes(uint8_t m[TCP_TUPLE_BYTES], const struct ipaddr *laddr, uint16_t lport,
		     const struct ipaddr *raddr, uint16_t rport);

/* RFC 6528: ISN = M + F(localip, localport, remoteip, remoteport, secretkey),
 * M a 4-microsecond clock (s->now / 4), F a keyed hash (SipHash-2-4). */
uint32_t tcp_isn(struct stack *s, const struct ipaddr *laddr, uint16_t lport,
		 const struct ipaddr *raddr, uint16_t rport);

/* The connection dies with err (ECONNRESET, ETIMEDOUT, ECONNREFUSED): err
 * becomes the socket's pending error (so->error) that the app's next call
 * returns; the tcb goes to CLOSED, leaves the hash and its timers stop; it
 * is freed now if no socket holds it, else when the app closes it. */
void tcp_drop(struct tcb *tp, int err);

/* The connection finished normally (LAST-ACK acked, TIME-WAIT over): freed
 * if no socket holds it, else CLOSED, unhashed, timers stopped, so the app
 * sees the end (recv 0, POLLHUP) and frees it at close. */
void tcp_close_done(struct tcb *tp);

/* ---- tcp.c: resource governance (issue 20) ------------------------------- */

/* The host's TCP memory state against --tcp-mem LOW,HIGH. */
enum tcp_mem_state { TCP_MEM_OK, TCP_MEM_PRESSURE, TCP_MEM_HARD };
enum tcp_mem_state tcp_mem_state(const struct stack *s);

/* Counts the capacity tp's rings have now in the host's TCP memory
 * (tcp_table.mem_bytes); under pressure an empty ring gives its memory
 * back first. Called after whatever may grow a ring. */
void tcp_mem_sync(struct tcb *tp);

/* Frees the rings a connection no longer needs: the send ring when all
 * is acknowledged (FIN-WAIT-2, TIME-WAIT), the receive ring when no one
 * will read it (an orphan, or nothing left unread in TIME-WAIT). */
void tcp_mem_release(struct tcb *tp);

/* The bytes of a segment of len bytes at offset off past the in-order
 * data that the receive ring may take (all of them unless the ring would
 * have to grow: out of order, only to twice what it holds plus
 * TCP_OOO_SLACK, never above the hard limit; in order, above the hard
 * limit, only into the memory it has, at least RING_MIN_CAP); the hard
 * limit counts the growth itself, so no ring passes it by growing.
 * When it gives less than len, *why is the counter to count it under:
 * "tcp.mem_rcv_dropped_bytes" (in order), "tcp.mem_ooo_dropped" or
 * "tcp.ooo_sparse_dropped". */
size_t tcp_mem_rcv_room(const struct tcb *tp, size_t off, size_t len, bool in_order,
			const char **why);

/* The bytes of len an app's write may put on tp's send ring: what its
 * limit (SO_SNDBUF) leaves, and if the ring would have to grow past the
 * host's hard memory limit, only what fits in the memory it has (at
 * least RING_MIN_CAP), as Linux's sk_stream_memory_free. */
size_t tcp_mem_snd_room(const struct tcb *tp, size_t len);

/* Frees the oldest TIME-WAIT entry (tcp.tw_recycled). False if none. */
bool tcp_tw_recycle_oldest(struct stack *s);

/* tp was closed by the app and goes on closing: it is counted an orphan.
 * False if the host has --tcp-max-orphans already (the caller resets it,
 * tcp.orphans_killed). */
bool tcp_orphan_add(struct tcb *tp);

/* Writes one line per control block like `ss -tanoi` (tapctl sockets). */
void tcp_dump(struct stack *s, FILE *out);

/* ---- tcp_syncookie.c: the SYN queue and SYN cookies ---------------------- */

/* Puts child (SYN-RECEIVED, made by a listener) at the tail of the SYN queue. */
void tcp_synq_add(struct tcb *child);

/* Takes tp off the SYN queue if it is on it. */
void tcp_synq_remove(struct tcb *tp);

/* Frees the oldest half-open child (RFC 4987 3.4), counted
 * (tcp.syn_evicted). False if the queue is empty. */
bool tcp_synq_evict_oldest(struct stack *s);

/* RFC 4987 3.6: the answer to SYN syn from raddr to laddr when it gets a
 * cookie instead of a SYN queue entry: *iss is the cookie (a keyed hash of
 * the 4-tuple, a 64-second counter and the MSS as an index into a table)
 * and *o our SYN-ACK's options for a receive buffer of rcvbuf_limit bytes.
 * With the peer's timestamps, window scale and SACK-permitted are offered
 * and carried in the low bits of our TSval; without them, neither (as
 * Linux). Keeps no state but the time of the last cookie. */
void tcp_cookie_make(struct stack *s, const struct ipaddr *laddr, const struct ipaddr *raddr,
		     const struct tcp_seg *syn, size_t rcvbuf_limit, struct tcp_opts *o,
		     uint32_t *iss);

/* Checks the ACK ack of a handshake with no SYN-RECEIVED entry: true if
 * ack - 1 is a cookie we made less than two periods ago; *syn is filled
 * with the SYN's options as the cookie (and the timestamp echoed) restore
 * them (RFC 4987 3.6: no window scale or SACK without timestamps). */
bool tcp_cookie_check(struct stack *s, const struct ipaddr *laddr, const struct ipaddr *raddr,
		      const struct tcp_seg *ack, struct tcp_seg *syn);

/* ---- tcp_socket.c -------------------------------------------------------- */

/* Makes so a TCP socket (its ops, a control block in CLOSED). 0 or -ENOBUFS. */
int tcp_socket_init(struct socket *so);

/* Joins an existing socket and control block (accept, and tests that build
 * a connection by hand): sets so's ops, addresses and ring limits. */
void tcp_socket_attach(struct socket *so, struct tcb *tp);

/* Something happened to tp that may change its socket's poll answer
 * (segment in, data appended, send space freed): socket_wake for its
 * socket, if it has one (stack/socket.h: for net_epoll_wait). */
void tcp_socket_wake(struct tcb *tp);

/* ---- tcp_input.c ------------------------------------------------------- */

/* Handles a segment for this host (p->data at the TCP header, p->len the IP
 * payload length; ip the datagram's addresses). Verifies the checksum,
 * finds the connection and runs SEGMENT ARRIVES. Consumes p. */
void tcp_input(struct stack *s, struct netif *ifp, struct pkt *p, const struct ip_rx *ip);

/* Called by ICMP for an error about a segment we sent (RFC 1122 4.2.3.9,
 * RFC 5927): port/protocol unreachable in SYN-SENT aborts; frag needed
 * lowers snd_mss; other errors are soft: counted ("tcp.icmp_soft") and
 * otherwise ignored, the retransmission timer decides. Returns whether
 * the quote is valid (it names a connection and a sequence number in
 * flight, RFC 5927 4.1): ICMP lowers the path MTU only then. */
bool tcp_icmp_error(struct stack *s, const struct ipaddr *local, uint16_t lport,
		    const struct ipaddr *remote, uint16_t rport, uint32_t seq, int err, uint16_t mtu);

/* ---- tcp_reass.c: the receiver's data, out-of-order data ----------------- */

/* RFC 9293 3.10.7.4 seventh step, for a segment trimmed to the window:
 * in-order data at rcv.nxt goes into the ring (what fits), then any held
 * ranges it reaches; the ACK is delayed (RFC 1122 4.2.3.2, RFC 5681 4.2). */
void tcp_data_in_order(struct tcb *tp, struct tcp_seg *seg);

/* Data past rcv.nxt: held at its place in the ring (tcp_reass_insert) and
 * answered at once with a duplicate ACK carrying SACK blocks (RFC 5681
 * 4.2, RFC 2018 4). */
void tcp_data_out_of_order(struct tcb *tp, struct tcp_seg *seg);

/* Data nobody will read (shutdown(SHUT_RD)): acknowledged, thrown away. */
void tcp_data_discard(struct tcb *tp, struct tcp_seg *seg);

/* Keeps out-of-order data [seg->seq, +len) (past rcv.nxt) in the receive
 * ring at its place and records its range in tp->ooo, merging with
 * neighbours. False (nothing kept) if it needs a range beyond TCP_OOO_MAX
 * or does not fit in the ring; when only part fits, seg is cut to that
 * part (and loses its FIN). */
bool tcp_reass_insert(struct tcb *tp, struct tcp_seg *seg);

/* After in-order data: moves rcv.nxt over the held ranges it now reaches.
 * True if a range was taken (a hole was filled: RFC 5681 4.2 ACK at once). */
bool tcp_reass_advance(struct tcb *tp);

/* True if [a, b) lies within one range held out of order (a duplicate). */
bool tcp_reass_covers(const struct tcb *tp, uint32_t a, uint32_t b);

/* Notes seg's FIN (if any) at its sequence number (fin_pending, fin_seq):
 * the eighth step counts it when rcv.nxt gets there. */
void tcp_reass_note_fin(struct tcb *tp, const struct tcp_seg *seg);

/* RFC 2018 4: [a, b) arrived out of order: reported first in the next
 * ACKs' SACK blocks. */
void tcp_reass_sack_note(struct tcb *tp, uint32_t a, uint32_t b);

/* RFC 2883 4: [a, b) arrived twice: the next ACK reports it in its first
 * SACK block (a D-SACK), once; asks for an ACK now. With SACK only. */
void tcp_reass_dsack_note(struct tcb *tp, uint32_t a, uint32_t b);

/* RFC 2018 4, RFC 2883 4: the SACK blocks of a segment we send with ACK
 * (len bytes of data), into o; options and data stay within snd_mss. */
void tcp_reass_sack_blocks(const struct tcb *tp, struct tcp_opts *o, size_t len);

/* ---- tcp_output.c -------------------------------------------------------- */

/* Sends whatever the windows allow (RFC 9293 3.8.6: min(snd.wnd, cwnd)),
 * segmenting to snd_mss, applying Nagle (RFC 896 / RFC 1122 4.2.3.4) and
 * sender SWS avoidance, the FIN once all data is out, and arms the
 * retransmission or persist timer. Also sends a pure ACK if tp->ack_now is
 * set and nothing else carried it. Returns 0 or a negative errno. */
int tcp_output(struct tcb *tp);

/* Sends an ACK now (rcv.nxt, our window) and clears ack_now/delayed ACK. */
void tcp_send_ack(struct tcb *tp);

/* Sends a SYN (SYN-SENT) or SYN-ACK (SYN-RECEIVED) with our options. */
void tcp_send_syn(struct tcb *tp);

/* Sends a RST for the connection (abort: seq = snd.nxt). */
void tcp_send_rst(struct tcb *tp);

/* RFC 9293 3.10.7.1: the reset for a segment that has no connection (or is
 * unacceptable in a state that resets): if it had ACK, <SEQ=SEG.ACK>
 * <CTL=RST>; else <SEQ=0><ACK=SEG.SEQ+SEG.LEN><CTL=RST,ACK>. Never in
 * reply to a RST. */
void tcp_send_rst_reply(struct stack *s, const struct ip_rx *ip, const struct tcp_seg *seg);

/* RFC 5961 3.2/4.2/5.2: a challenge ACK (rate-limited per connection and
 * under a randomized ceiling per host, 7). */
void tcp_send_challenge_ack(struct tcb *tp);

/* RFC 9293 3.10.7.4 first, RFC 7323 5.3: the ACK for an unacceptable or
 * PAWS-rejected segment seg; one without data (or a SYN) is answered at
 * most once per TCP_OOW_ACK_INTERVAL_US per connection. */
void tcp_send_ack_oow(struct tcb *tp, const struct tcp_seg *seg);

/* RFC 4987 3.6: a SYN-ACK for syn (arrived as ip) that keeps no state: the
 * cookie's ISN and TSval, options o, window wnd (never scaled). */
void tcp_send_synack_cookie(struct stack *s, const struct ip_rx *ip, const struct tcp_seg *syn,
			    const struct tcp_opts *o, uint32_t iss, uint16_t wnd);

/* The MSS this host can receive from raddr (RFC 9293 3.7.1, RFC 6691). */
uint16_t tcp_mss_for(struct stack *s, const struct ipaddr *raddr);

/* The window scale a SYN-ACK offers for a receive buffer of limit bytes
 * (RFC 7323 2.3). */
uint8_t tcp_wscale_for(size_t limit);

/* The window to advertise now (RFC 9293 3.8.6.2.2 receiver SWS avoidance,
 * never shrinking the right edge), unscaled bytes. */
uint32_t tcp_rcv_window(struct tcb *tp);

/* Sets the MSS and window scale from the peer's SYN options and our MTU. */
void tcp_negotiate(struct tcb *tp, const struct tcp_seg *syn);

/* The persist timer expired (RFC 9293 3.8.6.1, RFC 1122 4.2.2.17): sends a
 * zero-window probe of one new byte, or, if a small window is open and
 * nothing is in flight, what it allows (the RFC 1122 4.2.3.4 override).
 * A peer that answered none of the last TCP_MAX_RETRIES probes is timed
 * out (ETIMEDOUT, tcp.persist_timeout), as is an orphan (no socket) after
 * TCP_MAX_RETRIES probes answered or not; may free tp. */
void tcp_persist_probe(struct tcb *tp);

/* RFC 1122 4.2.3.6: a keep-alive probe, an ACK with seq snd.una - 1 and no data. */
void tcp_send_keepalive(struct tcb *tp);

/* ---- tcp_sack.c ---------------------------------------------------------- */

/* RFC 2018, RFC 6675: merges the SACK blocks of an acceptable ACK into the
 * scoreboard (blocks at or below snd.una or past snd.max are ignored).
 * Returns true if it SACKed bytes not SACKed before. */
bool tcp_sack_update(struct tcb *tp, const struct tcp_seg *seg);

/* Forgets the scoreboard (RFC 6675 5.1, RFC 2018 8: after an RTO). */
void tcp_sack_clear(struct tcb *tp);

/* ---- tcp_ack.c ----------------------------------------------------------- */

/* New data was acknowledged: snd.una moves to ack. Frees acked bytes from
 * the send ring, takes an RTT sample (timestamps or Karn), updates the RTO
 * (RFC 6298 2.2-2.3), lets the congestion control grow cwnd, restarts or
 * stops the retransmission timer (RFC 6298 5.2-5.3), resets backoff. Call
 * after the window update. */
void tcp_ack_advance(struct tcb *tp, uint32_t ack, const struct tcp_seg *seg);

/* A duplicate ACK (RFC 5681 2): counts it; at the third, fast retransmit
 * and recovery through the congestion control. */
void tcp_dupack(struct tcb *tp, const struct tcp_seg *seg);

/* Retransmits the oldest unacknowledged segment (or SYN/FIN). */
void tcp_retransmit(struct tcb *tp);

/* RFC 8985 7.3: the tail loss probe timer expired (tcp_timer_rexmt calls
 * it when tp->tlp.armed): one segment goes, new data if the peer's window
 * allows, else the last segment again, and the RTO is armed. */
void tcp_tlp_fire(struct tcb *tp);

/* ---- tcp_timer.c --------------------------------------------------------- */

/* Sets one of tp's timers (a pointer to a t_* field) to `when` (absolute, or
 * TCP_NO_TIMER to stop it) and repositions tp in the heap. */
void tcp_timer_set(struct tcb *tp, int64_t *timer, int64_t when);

/* Runs every timer due at s->now. */
void tcp_timer_run(struct stack *s);

/* The earliest timer of any connection, or INT64_MAX. O(1). */
int64_t tcp_next_deadline(struct stack *s);

/* Removes tp from the heap (tcb_free calls it). */
void tcp_timer_remove(struct tcb *tp);

#endif
