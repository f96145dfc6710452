/* The TCP event trace (--tcp-trace FILE): one CSV row per congestion event
 * of every connection, for students to plot (apps/tcpplot turns it into an
 * SVG). Off (s->tcp.tcp_trace NULL) it costs one test of a pointer.
 *
 * Columns (the header line is written before the first row):
 *   time_s           seconds since the host started (s->now - s->started)
 *   conn             local-remote, e.g. 10.0.0.2:7-10.0.0.1:40000
 *   event            ack, dupack, fast_retransmit, recovery_exit, rto, tlp, state,
 *                    undo (a reduction D-SACKs showed spurious), idle_restart
 *                    (RFC 5681 4.1), hystart_css, hystart_resume, hystart_exit
 *                    (CUBIC's HyStart++, RFC 9406)
 *   cwnd, ssthresh   bytes (ssthresh 0 while it is "arbitrarily high")
 *   bytes_in_flight  snd_max - snd_una
 *   srtt_us, rto_us  RFC 6298 estimates, microseconds
 *   snd_una, snd_nxt relative to the ISS
 *   state            the connection's state after the event
 */
#ifndef TAPSTACK_TCP_TRACE_H
#define TAPSTACK_TCP_TRACE_H

#include "stack/stack.h"
#include "tcp/tcp.h"

#define TCP_TRACE_HEADER \
	"time_s,conn,event,cwnd,ssthresh,bytes_in_flight,srtt_us,rto_us,snd_una,snd_nxt,state"

/* Writes the row of event for tp to its host's trace file. */
void tcp_trace_write(struct tcb *tp, const char *event);

/* Traces event for tp if it or its host has a trace file; free when
 * neither has. */
static inline void tcp_trace(struct tcb *tp, const char *event)
{
	if (tp->s->tcp.tcp_trace || tp->trace_file)
		tcp_trace_write(tp, event);
}

/* TCP_TRACE_FILE: tp's rows go to the file path (appended; NULL or "" stops
 * them). Returns 0 or -errno. */
int tcp_trace_set_file(struct tcb *tp, const char *path);

/* Closes tp's own trace file (tcb_free). */
void tcp_trace_close(struct tcb *tp);

#endif
