/* tcpplot: turns the CSV that --tcp-trace writes into an SVG with two
 * plots of one connection: cwnd and ssthresh over time with the loss events
 * (fast retransmit, RTO) marked, and the time-sequence graph (snd_nxt and
 * snd_una over time). Open the SVG in any browser.
 *
 *   tcpplot /run/tapstack/tcp.csv > plot.svg
 *   tcpplot --conn 10.0.0.2:80-10.0.0.1:40000 -o plot.svg tcp.csv */
#include <math.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "apps/lib/tcpplot_parse.h"

#define W 960          /* picture width */
#define PH 320         /* height of one plot */
#define ML 80          /* left margin (the y labels) */
#define MR 20
#define MT 40          /* room for a plot's title */
#define MB 40          /* room for the x labels */

static void usage(FILE *out)
{
	fputs("usage: tcpplot [--conn CONN] [--list] [-o FILE] [TRACE.csv]\n"
	      "Reads the CSV of tapstack --tcp-trace FILE (stdin without TRACE.csv) and writes\n"
	      "an SVG (stdout without -o): cwnd and ssthresh over time with fast retransmits\n"
	      "and RTOs marked, and the time-sequence graph (snd_nxt, snd_una).\n"
	      "  --conn CONN  the connection to plot, as in the trace's second column,\n"
	      "               e.g. 10.0.0.2:80-10.0.0.1:40000 (default: the first one)\n"
	      "  --list       print the connections in the trace and their row counts\n"
	      "  -o FILE      write the SVG to FILE\n"
	      "Lines that are not rows are skipped and counted on stderr.\n", out);
}

/* A plot's frame: the data ranges and where they land on the picture. */
struct frame {
	double x0, x1, y0, y1;  /* data */
	int top;                /* picture y of the plot's top edge */
};

/* Picture x of time t. */
static double px(const struct frame *f, double t)
{
	return ML + (t - f->x0) / (f->x1 - f->x0) * (W - ML - MR);
}

/* Picture y of value v. */
static double py(const struct frame *f, double v)
{
	return f->top + MT + (1.0 - (v - f->y0) / (f->y1 - f->y0)) * (PH - MT - MB);
}

/* A round step giving about n ticks over span. */
static double nice_step(double span, int n)
{
	double raw = span / n, p = pow(10, floor(log10(raw)));
	double m = raw / p;
	return (m < 1.5 ? 1 : m < 3.5 ? 2 : m < 7.5 ? 5 : 10) * p;
}

/* Draws the frame's axes, grid, tick labels and titles. */
static void axes(FILE *o, const struct frame *f, const char *title, const char *ylabel,
		 double yscale)
{
	/* the y step is nice in the unit shown (KB), not in bytes */
	double xs = nice_step(f->x1 - f->x0, 10), ys = nice_step((f->y1 - f->y0) / yscale, 6) * yscale;
	int bottom = f->top + PH - MB;

	fprintf(o, "<text x='%d' y='%d' font-size='15' font-weight='bold'>%s</text>\n", ML,
		f->top + 22, title);
	fprintf(o, "<rect x='%d' y='%d' width='%d' height='%d' fill='none' stroke='#444'/>\n", ML,
		f->top + MT, W - ML - MR, PH - MT - MB);
	for (double x = ceil(f->x0 / xs) * xs; x <= f->x1 + xs * 1e-9; x += xs)
		fprintf(o, "<line x1='%.1f' y1='%d' x2='%.1f' y2='%d' stroke='#ddd'/>"
			"<text x='%.1f' y='%d' font-size='11' text-anchor='middle'>%g</text>\n",
			px(f, x), f->top + MT, px(f, x), bottom, px(f, x), bottom + 15, x);
	for (double y = ceil(f->y0 / ys) * ys; y <= f->y1 + ys * 1e-9; y += ys)
		fprintf(o, "<line x1='%d' y1='%.1f' x2='%d' y2='%.1f' stroke='#ddd'/>"
			"<text x='%d' y='%.1f' font-size='11' text-anchor='end'>%g</text>\n",
			ML, py(f, y), W - MR, py(f, y), ML - 5, py(f, y) + 4, y / yscale);
	fprintf(o, "<text x='%d' y='%d' font-size='12' text-anchor='middle'>time (s)</text>\n",
		(W + ML) / 2, bottom + 32);
	fprintf(o, "<text x='16' y='%d' font-size='12' text-anchor='middle' "
		"transform='rotate(-90 16 %d)'>%s</text>\n", f->top + PH / 2, f->top + PH / 2,
		ylabel);
}

/* Writes a polyline through the rows of conn, y from field(row); with
 * skip_zero, rows where it is 0 (ssthresh not set yet) are gaps. */
static void line(FILE *o, const struct frame *f, const struct tcpplot_data *d, const char *conn,
		 uint32_t (*field)(const struct tcpplot_row *), bool skip_zero,
		 const char *color)
{
	bool open = false;
	for (size_t i = 0; i < d->n; i++) {
		const struct tcpplot_row *r = &d->rows[i];
		if (strcmp(r->conn, conn))
			continue;
		uint32_t v = field(r);
		if (skip_zero && v == 0) {
			if (open)
				fputs("'/>\n", o);
			open = false;
			continue;
		}
		if (!open)
			fprintf(o, "<polyline fill='none' stroke='%s' stroke-width='1.5' "
				"points='", color);
		open = true;
		fprintf(o, "%.1f,%.1f ", px(f, r->t), py(f, v));
	}
	if (open)
		fputs("'/>\n", o);
}

static uint32_t f_cwnd(const struct tcpplot_row *r) { return r->cwnd; }
static uint32_t f_ssthresh(const struct tcpplot_row *r) { return r->ssthresh; }
static uint32_t f_nxt(const struct tcpplot_row *r) { return r->snd_nxt; }
static uint32_t f_una(const struct tcpplot_row *r) { return r->snd_una; }

/* Marks the loss events of conn: a red line at each fast retransmit, a
 * black one at each RTO, across the frame. */
static void losses(FILE *o, const struct frame *f, const struct tcpplot_data *d, const char *conn)
{
	for (size_t i = 0; i < d->n; i++) {
		const struct tcpplot_row *r = &d->rows[i];
		bool fr = strcmp(r->event, "fast_retransmit") == 0;
		bool rto = strcmp(r->event, "rto") == 0;
		if (strcmp(r->conn, conn) || (!fr && !rto))
			continue;
		fprintf(o, "<line x1='%.1f' y1='%d' x2='%.1f' y2='%d' stroke='%s' "
			"stroke-dasharray='3,3'><title>%s at %.6f s</title></line>\n", px(f, r->t),
			f->top + MT, px(f, r->t), f->top + PH - MB, fr ? "red" : "black", r->event,
			r->t);
	}
}

/* A legend entry at (x, y). */
static void legend(FILE *o, int x, int y, const char *color, const char *dash, const char *text)
{
	fprintf(o, "<line x1='%d' y1='%d' x2='%d' y2='%d' stroke='%s' stroke-width='2' "
		"stroke-dasharray='%s'/><text x='%d' y='%d' font-size='12'>%s</text>\n",
		x, y, x + 20, y, color, dash, x + 24, y + 4, text);
}

/* Writes the SVG of conn to o. */
static void plot(FILE *o, const struct tcpplot_data *d, const char *conn)
{
	struct frame cw = { .x0 = INFINITY, .x1 = -INFINITY, .y0 = 0, .y1 = 1, .top = 0 };
	struct frame ts = { .y0 = 0, .y1 = 1, .top = PH };
	size_t n = 0;

	for (size_t i = 0; i < d->n; i++) {
		const struct tcpplot_row *r = &d->rows[i];
		if (strcmp(r->conn, conn))
			continue;
		n++;
		cw.x0 = fmin(cw.x0, r->t);
		cw.x1 = fmax(cw.x1, r->t);
		cw.y1 = fmax(cw.y1, fmax(r->cwnd, r->ssthresh));
		ts.y1 = fmax(ts.y1, fmax(r->snd_nxt, r->snd_una));
	}
	if (cw.x1 <= cw.x0)
		cw.x1 = cw.x0 + 1;
	cw.y1 *= 1.05;
	ts.y1 *= 1.05;
	ts.x0 = cw.x0;
	ts.x1 = cw.x1;
	fprintf(o, "<?xml version='1.0' encoding='UTF-8'?>\n"
		"<svg xmlns='http://www.w3.org/2000/svg' width='%d' height='%d' "
		"font-family='sans-serif'>\n<rect width='100%%' height='100%%' fill='white'/>\n",
		W, 2 * PH);
	char title[200];
	snprintf(title, sizeof(title), "cwnd and ssthresh: %s", conn);
	axes(o, &cw, title, "KB", 1024);
	losses(o, &cw, d, conn);
	line(o, &cw, d, conn, f_ssthresh, true, "orange");
	line(o, &cw, d, conn, f_cwnd, false, "blue");
	(void)n;
	legend(o, W - 380, 22, "blue", "none", "cwnd");
	legend(o, W - 310, 22, "orange", "none", "ssthresh");
	legend(o, W - 220, 22, "red", "3,3", "fast retransmit");
	legend(o, W - 90, 22, "black", "3,3", "RTO");
	axes(o, &ts, "time-sequence graph", "sequence (KB from ISS)", 1024);
	losses(o, &ts, d, conn);
	line(o, &ts, d, conn, f_una, false, "green");
	line(o, &ts, d, conn, f_nxt, false, "blue");
	legend(o, W - 260, PH + 22, "blue", "none", "snd_nxt");
	legend(o, W - 170, PH + 22, "green", "none", "snd_una");
	fputs("</svg>\n", o);
}

/* Prints each connection of the trace with its number of rows. */
static void list(const struct tcpplot_data *d)
{
	for (size_t i = 0; i < d->n; i++) {
		bool seen = false;
		size_t count = 0;
		for (size_t j = 0; j < d->n; j++) {
			if (strcmp(d->rows[j].conn, d->rows[i].conn))
				continue;
			if (j < i) {
				seen = true;
				break;
			}
			count++;
		}
		if (!seen)
			printf("%s %zu\n", d->rows[i].conn, count);
	}
}

int main(int argc, char **argv)
{
	const char *conn = NULL, *out_path = NULL, *in_path = NULL;
	bool do_list = false;

	for (int i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--help") || !strcmp(argv[i], "-h")) {
			usage(stdout);
			return 0;
		} else if (!strcmp(argv[i], "--list")) {
			do_list = true;
		} else if ((!strcmp(argv[i], "--conn") || !strcmp(argv[i], "-o")) && i + 1 < argc) {
			if (!strcmp(argv[i], "--conn"))
				conn = argv[++i];
			else
				out_path = argv[++i];
		} else if (argv[i][0] == '-' && argv[i][1]) {
			fprintf(stderr, "tcpplot: unknown flag or missing value: %s (see --help)\n",
				argv[i]);
			return 2;
		} else if (!in_path) {
			in_path = argv[i];
		} else {
			fprintf(stderr, "tcpplot: one trace file only (see --help)\n");
			return 2;
		}
	}
	FILE *in = stdin;
	if (in_path && strcmp(in_path, "-") && !(in = fopen(in_path, "r"))) {
		perror(in_path);
		return 1;
	}
	struct tcpplot_data d = { 0 };
	if (tcpplot_read(in, in_path ? in_path : "stdin", &d, stderr) < 0) {
		fprintf(stderr, "tcpplot: out of memory\n");
		return 1;
	}
	if (in != stdin)
		fclose(in);
	if (d.bad)
		fprintf(stderr, "tcpplot: %zu bad line(s) skipped\n", d.bad);
	if (do_list) {
		list(&d);
		tcpplot_free(&d);
		return 0;
	}
	if (d.n == 0) {
		fprintf(stderr, "tcpplot: no trace rows (write some with --tcp-trace FILE)\n");
		tcpplot_free(&d);
		return 1;
	}
	if (!conn)
		conn = d.rows[0].conn;
	bool found = false;
	for (size_t i = 0; i < d.n && !found; i++)
		found = !strcmp(d.rows[i].conn, conn);
	if (!found) {
		fprintf(stderr, "tcpplot: no rows of connection %s (see --list)\n", conn);
		tcpplot_free(&d);
		return 1;
	}
	FILE *o = stdout;
	if (out_path && !(o = fopen(out_path, "w"))) {
		perror(out_path);
		tcpplot_free(&d);
		return 1;
	}
	plot(o, &d, conn);
	int bad = ferror(o);
	if (o != stdout)
		bad |= fclose(o);
	tcpplot_free(&d);
	if (bad) {
		fprintf(stderr, "tcpplot: write error\n");
		return 1;
	}
	return 0;
}
