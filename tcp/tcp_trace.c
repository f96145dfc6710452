/* The TCP event trace: CSV rows for apps/tcpplot (see tcp_trace.h). */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ip/addr.h"
#include "tcp/tcp_trace.h"

/* Contract in tcp_trace.h. The header line goes first, once per host;
 * listeners write no rows. */
void tcp_trace_write(struct tcb *tp, const char *event)
{
	struct stack *s = tp->s;
	FILE *f = tp->trace_file ? tp->trace_file : s->tcp.tcp_trace;
	char l[IPADDR_PORT_STRLEN], r[IPADDR_PORT_STRLEN];

	if (tp->state == TCP_LISTEN || tp->rport == 0)
		return; /* a listener is no connection: nothing to plot */
	if (tp->trace_file) {
		if (ftell(f) == 0)
			fprintf(f, "%s\n", TCP_TRACE_HEADER); /* a new file of its own */
	} else if (!s->tcp.tcp_trace_header) {
		fprintf(f, "%s\n", TCP_TRACE_HEADER);
		s->tcp.tcp_trace_header = true;
	}
	ipaddr_port_str(&tp->laddr, tp->lport, l, sizeof(l));
	ipaddr_port_str(&tp->raddr, tp->rport, r, sizeof(r));
	int64_t t = s->now - s->started;
	fprintf(f, "%" PRId64 ".%06" PRId64 ",%s-%s,%s,%" PRIu32 ",%" PRIu32 ",%" PRIu32
		",%" PRId64 ",%" PRId64 ",%" PRIu32 ",%" PRIu32 ",%s\n",
		t / 1000000, (t < 0 ? -t : t) % 1000000, l, r, event, tp->cwnd,
		tp->ssthresh == UINT32_MAX ? 0 : tp->ssthresh, tp->snd.max - tp->snd.una,
		tp->rtt.srtt, tp->rtt.rto, tp->snd.una - tp->iss, tp->snd.nxt - tp->iss,
		tcp_state_name[tp->state]);
}

/* Contract in tcp_trace.h. The file is opened for appending and line
 * buffered, so rows can be read (and plotted) while the connection runs. */
int tcp_trace_set_file(struct tcb *tp, const char *path)
{
	tcp_trace_close(tp);
	if (!path || !*path)
		return 0;
	FILE *f = fopen(path, "a");
	char *copy = strdup(path);
	if (!f || !copy) {
		int e = f ? ENOMEM : errno;
		if (f)
			fclose(f);
		free(copy);
		return -e;
	}
	setvbuf(f, NULL, _IOLBF, 0);
	tp->trace_file = f;
	tp->trace_path = copy;
	return 0;
}

/* Contract in tcp_trace.h. */
void tcp_trace_close(struct tcb *tp)
{
	if (tp->trace_file)
		fclose(tp->trace_file);
	free(tp->trace_path);
	tp->trace_file = NULL;
	tp->trace_path = NULL;
}
