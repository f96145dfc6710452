/* Reading the TCP event trace (the CSV that --tcp-trace writes, columns in
 * tcp/tcp_trace.h) back into rows, for apps/tcpplot and the tests. */
#ifndef TAPSTACK_TCPPLOT_PARSE_H
#define TAPSTACK_TCPPLOT_PARSE_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

struct tcpplot_row {
	double t;                 /* seconds since the host started */
	char conn[112];           /* "10.0.0.2:7-10.0.0.1:40000" */
	char event[24];           /* ack, dupack, fast_retransmit, rto, ... */
	uint32_t cwnd, ssthresh;  /* bytes; ssthresh 0 = not set yet ("infinite") */
	uint32_t inflight;        /* bytes in flight */
	int64_t srtt_us, rto_us;
	uint32_t snd_una, snd_nxt; /* relative to the ISS */
};

struct tcpplot_data {
	struct tcpplot_row *rows;
	size_t n, cap;
	size_t bad;               /* lines that were not rows, skipped */
};

/* Parses one line (no newline needed). Returns 1 and fills *r for a row, 0
 * for the header line or a blank line, -1 for anything else. */
int tcpplot_parse_line(const char *line, struct tcpplot_row *r);

/* Reads every line of in into d (zeroed first by the caller), counting bad
 * lines in d->bad and, when errs is not NULL, saying on errs which line
 * was skipped and why (the first 10). Returns 0, or -1 out of memory. */
int tcpplot_read(FILE *in, const char *name, struct tcpplot_data *d, FILE *errs);

/* Frees the rows of d. */
void tcpplot_free(struct tcpplot_data *d);

#endif
