/* The TCP event trace: CSV rows for apps/tcpplot (see tcp_trace.h). */
#include <inttypes.h>
#include <stdio.h>

#include "ip/addr.h"
#include "tcp/tcp_trace.h"

/* Writes "addr:port" to buf ("[addr]:port" for IPv6, whose address holds ':'). */
static void trace_endpoint(const struct ipaddr *a, uint16_t port, char *buf, size_t len)
{
	char ip[64];

	ipaddr_ntop(a, ip, sizeof(ip));
	if (a->family == AF_INET6)
		snprintf(buf, len, "[%s]:%u", ip, port);
	else
		snprintf(buf, len, "%s:%u", ip, port);
}

/* Contract in tcp_trace.h. The header line goes first, once per host;
 * listeners write no rows. */
void tcp_trace_write(struct tcb *tp, const char *event)
{
	struct stack *s = tp->s;
	FILE *f = s->tcp.tcp_trace;
	char l[80], r[80];

	if (tp->state == TCP_LISTEN || tp->rport == 0)
		return; /* a listener is no connection: nothing to plot */
	if (!s->tcp.tcp_trace_header) {
		fprintf(f, "%s\n", TCP_TRACE_HEADER);
		s->tcp.tcp_trace_header = true;
	}
	trace_endpoint(&tp->laddr, tp->lport, l, sizeof(l));
	trace_endpoint(&tp->raddr, tp->rport, r, sizeof(r));
	int64_t t = s->now - s->started;
	fprintf(f, "%" PRId64 ".%06" PRId64 ",%s-%s,%s,%" PRIu32 ",%" PRIu32 ",%" PRIu32
		",%" PRId64 ",%" PRId64 ",%" PRIu32 ",%" PRIu32 ",%s\n",
		t / 1000000, (t < 0 ? -t : t) % 1000000, l, r, event, tp->cwnd,
		tp->ssthresh == UINT32_MAX ? 0 : tp->ssthresh, tp->snd_max - tp->snd_una,
		tp->srtt, tp->rto, tp->snd_una - tp->iss, tp->snd_nxt - tp->iss,
		tcp_state_name[tp->state]);
}
