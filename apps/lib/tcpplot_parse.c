/* Reading the TCP event trace back (see tcpplot_parse.h). */
#include "apps/lib/tcpplot_parse.h"

#include <errno.h>
#include <stdbool.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#define TCPPLOT_FIELDS 10  /* the columns read; a later one (state) is allowed */

/* Copies field [b, e) into dst (size len); false if it does not fit or is empty. */
static bool copy_field(char *dst, size_t len, const char *b, const char *e)
{
	size_t n = (size_t)(e - b);
	if (n == 0 || n >= len)
		return false;
	memcpy(dst, b, n);
	dst[n] = '\0';
	return true;
}

/* Parses a whole field as an unsigned 32-bit number. */
static bool field_u32(const char *b, const char *e, uint32_t *v)
{
	char buf[24], *end;
	if (!copy_field(buf, sizeof(buf), b, e) || buf[0] == '-')
		return false;
	errno = 0;
	unsigned long long x = strtoull(buf, &end, 10);
	if (errno || *end || x > UINT32_MAX)
		return false;
	*v = (uint32_t)x;
	return true;
}

/* Parses a whole field as a signed 64-bit number. */
static bool field_i64(const char *b, const char *e, int64_t *v)
{
	char buf[24], *end;
	if (!copy_field(buf, sizeof(buf), b, e))
		return false;
	errno = 0;
	long long x = strtoll(buf, &end, 10);
	if (errno || *end)
		return false;
	*v = x;
	return true;
}

/* Contract in tcpplot_parse.h. */
int tcpplot_parse_line(const char *line, struct tcpplot_row *r)
{
	const char *b[TCPPLOT_FIELDS], *e[TCPPLOT_FIELDS];
	const char *p = line;
	size_t end = strcspn(line, "\r\n");
	int n = 0;

	if (end == 0 || strncmp(line, "time_s,", 7) == 0)
		return 0;
	while (n < TCPPLOT_FIELDS) {
		b[n] = p;
		while (p < line + end && *p != ',')
			p++;
		e[n++] = p;
		if (p >= line + end)
			break;
		p++;
	}
	if (n < TCPPLOT_FIELDS)
		return -1;
	char tbuf[32], *tend;
	if (!copy_field(tbuf, sizeof(tbuf), b[0], e[0]))
		return -1;
	r->t = strtod(tbuf, &tend);
	if (*tend || r->t != r->t)
		return -1;
	if (!copy_field(r->conn, sizeof(r->conn), b[1], e[1]) ||
	    !copy_field(r->event, sizeof(r->event), b[2], e[2]) ||
	    !field_u32(b[3], e[3], &r->cwnd) || !field_u32(b[4], e[4], &r->ssthresh) ||
	    !field_u32(b[5], e[5], &r->inflight) || !field_i64(b[6], e[6], &r->srtt_us) ||
	    !field_i64(b[7], e[7], &r->rto_us) || !field_u32(b[8], e[8], &r->snd_una) ||
	    !field_u32(b[9], e[9], &r->snd_nxt))
		return -1;
	return 1;
}

/* Contract in tcpplot_parse.h. */
int tcpplot_read(FILE *in, const char *name, struct tcpplot_data *d, FILE *errs)
{
	char *line = NULL;
	size_t cap = 0;
	unsigned long lineno = 0;
	struct tcpplot_row r;

	while (getline(&line, &cap, in) >= 0) {
		lineno++;
		int k = tcpplot_parse_line(line, &r);
		if (k == 0)
			continue;
		if (k < 0) {
			int shown = (int)strcspn(line, "\r\n");
			if (errs && d->bad < 10)
				fprintf(errs, "%s:%lu: not a trace row, skipped: %.*s\n", name,
					lineno, shown < 60 ? shown : 60, line);
			d->bad++;
			continue;
		}
		if (d->n == d->cap) {
			size_t ncap = d->cap ? d->cap * 2 : 1024;
			struct tcpplot_row *nr = realloc(d->rows, ncap * sizeof(*nr));
			if (!nr) {
				free(line);
				return -1;
			}
			d->rows = nr;
			d->cap = ncap;
		}
		d->rows[d->n++] = r;
	}
	free(line);
	return 0;
}

/* Contract in tcpplot_parse.h. */
void tcpplot_free(struct tcpplot_data *d)
{
	free(d->rows);
	d->rows = NULL;
	d->n = d->cap = 0;
}
