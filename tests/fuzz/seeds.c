/* The seed extractor of make fuzz: seeds VECTORS OUT. Cuts every frame of
 * the captures VECTORS/NAME.pcap for the targets that start at its layers
 * (OUT/fuzz_eth_arp: the frame; fuzz_ipv4, fuzz_ipv6: the IP datagram;
 * fuzz_icmp, fuzz_udp, fuzz_tcp_codec: the transport message; fuzz_dns: a
 * DNS message), and writes fuzz_host seeds: every frame readdressed to the
 * host as a HR_FRAME record, and a few record sequences that open, use and
 * close connections (host_records.h). Not linked with libFuzzer. */
#include <dirent.h>
#include <pcap/pcap.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "tests/fuzz/host_records.h"

static const char *out_dir;
static int written;

static void put(const char *target, const char *name, int n, const uint8_t *p, size_t len)
{
	char path[1024];
	snprintf(path, sizeof(path), "%s/%s", out_dir, target);
	mkdir(path, 0755);
	snprintf(path, sizeof(path), "%s/%s/%s-%d", out_dir, target, name, n);
	FILE *f = fopen(path, "wb");
	if (!f) {
		perror(path);
		exit(1);
	}
	fwrite(p, 1, len, f);
	fclose(f);
	written++;
}

static uint16_t get16(const uint8_t *p) { return (uint16_t)(p[0] << 8 | p[1]); }

static void put16(uint8_t *p, unsigned v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}

static uint16_t csum(const uint8_t *p, size_t len)
{
	uint32_t s = 0;
	for (size_t i = 0; i + 1 < len; i += 2)
		s += get16(p + i);
	if (len & 1)
		s += (uint32_t)p[len - 1] << 8;
	while (s >> 16)
		s = (s & 0xffff) + (s >> 16);
	return (uint16_t)~s;
}

static void frame(const char *name, int n, const uint8_t *f, size_t len)
{
	static const uint8_t host_mac[6] = { 2, 0, 0, 0, 0, 2 };
	put("fuzz_eth_arp", name, n, f, len);
	/* the host's seed: readdressed to 10.0.0.2 (02:00:00:00:00:02) */
	uint8_t rec[3 + 2048];
	if (len > 2048)
		return;
	rec[0] = HR_FRAME;
	put16(rec + 1, (unsigned)len);
	memcpy(rec + 3, f, len);
	uint8_t *g = rec + 3;
	if (len >= 14 && !(g[0] & 1))
		memcpy(g, host_mac, 6);
	if (len >= 34 && get16(g + 12) == 0x0800) {
		size_t ihl = (size_t)(g[14] & 0xf) * 4;
		if (ihl >= 20 && 14 + ihl <= len) {
			g[30] = 10, g[31] = 0, g[32] = 0, g[33] = 2;
			put16(g + 24, 0);
			put16(g + 24, csum(g + 14, ihl));
		}
	}
	put("fuzz_host", name, n, rec, 3 + len);
	if (len < 14)
		return;
	uint16_t type = get16(f + 12);
	const uint8_t *l3 = f + 14, *l4 = NULL;
	size_t l3len = len - 14, l4len = 0;
	int proto = -1;
	if (type == 0x0800 && l3len >= 20) {
		put("fuzz_ipv4", name, n, l3, l3len);
		size_t ihl = (size_t)(l3[0] & 0xf) * 4, tot = get16(l3 + 2);
		if (ihl >= 20 && tot <= l3len && ihl <= tot && (get16(l3 + 6) & 0x3fff) == 0) {
			proto = l3[9];
			l4 = l3 + ihl;
			l4len = tot - ihl;
		}
	} else if (type == 0x86dd && l3len >= 40) {
		put("fuzz_ipv6", name, n, l3, l3len);
		size_t pl = get16(l3 + 4);
		if (40 + pl <= l3len) {
			proto = l3[6];
			l4 = l3 + 40;
			l4len = pl;
		}
	}
	if (!l4)
		return;
	uint8_t sel[2048];
	if ((proto == 1 || proto == 58) && l4len + 1 <= sizeof(sel)) {
		sel[0] = proto == 1 ? 0 : 1;
		memcpy(sel + 1, l4, l4len);
		put("fuzz_icmp", name, n, sel, l4len + 1);
		if (proto == 58 && l4len >= 1 && (l4[0] == 135 || l4[0] == 136)) {
			sel[0] = 2;
			put("fuzz_icmp", name, 1000 + n, sel, l4len + 1);
		}
		if (proto == 58 && l4len >= 1 && (l4[0] == 130 || l4[0] == 143)) {
			sel[0] = 3;
			put("fuzz_icmp", name, 1000 + n, sel, l4len + 1);
		}
	} else if (proto == 17 && l4len >= 8) {
		put("fuzz_udp", name, n, l4, l4len);
		if (get16(l4) == 53 || get16(l4 + 2) == 53)
			put("fuzz_dns", name, n, l4 + 8, l4len - 8);
	} else if (proto == 6 && l4len >= 20) {
		put("fuzz_tcp_codec", name, n, l4, l4len);
		size_t hl = (size_t)(l4[12] >> 4) * 4;
		if ((get16(l4) == 53 || get16(l4 + 2) == 53) && hl + 2 < l4len)
			put("fuzz_dns", name, n, l4 + hl + 2, l4len - hl - 2);
	}
}

/* ---- fuzz_host record sequences */

static uint8_t seq_buf[8192];
static size_t seq_len;

/* a string literal and its length, NULs inside included */
#define L(s) s, sizeof(s) - 1

static void r_seg_n(int conn, int flags, int seq_off, int ack_off, const char *data, size_t n)
{
	uint8_t *p = seq_buf + seq_len;
	p[0] = HR_SEG;
	p[1] = (uint8_t)conn;
	p[2] = (uint8_t)flags;
	put16(p + 3, (unsigned)(seq_off & 0xffff));
	put16(p + 5, (unsigned)(ack_off & 0xffff));
	put16(p + 7, 65535);
	p[9] = 0; /* no options */
	put16(p + 10, (unsigned)n);
	memcpy(p + 12, data ? data : "", n);
	seq_len += 12 + n;
}

static void r_seg(int conn, int flags, int seq_off, int ack_off, const char *data)
{
	r_seg_n(conn, flags, seq_off, ack_off, data, data ? strlen(data) : 0);
}

static void r_syn_opts(int conn)
{
	/* MSS 1460, SACK permitted, window scale 7 (no timestamps: the
	 * records after it carry no options, and RFC 7323 would drop them) */
	static const uint8_t o[] = { 2, 4, 5, 180, 1, 1, 4, 2, 1, 3, 3, 7 };
	uint8_t *p = seq_buf + seq_len;
	p[0] = HR_SEG;
	p[1] = (uint8_t)conn;
	p[2] = 0x02;
	put16(p + 3, 0);
	put16(p + 5, 0);
	put16(p + 7, 65535);
	p[9] = sizeof(o);
	memcpy(p + 10, o, sizeof(o));
	put16(p + 10 + sizeof(o), 0);
	seq_len += 12 + sizeof(o);
}

static void r2(int kind, int a, int b)
{
	seq_buf[seq_len++] = (uint8_t)kind;
	seq_buf[seq_len++] = (uint8_t)a;
	if (b >= 0)
		seq_buf[seq_len++] = (uint8_t)b;
}

static void r_udp(int sel, const char *data, size_t n)
{
	seq_buf[seq_len++] = HR_UDP;
	seq_buf[seq_len++] = (uint8_t)sel;
	put16(seq_buf + seq_len, (unsigned)n);
	seq_len += 2;
	memcpy(seq_buf + seq_len, data, n);
	seq_len += n;
}

enum { SYN = 0x02, ACK = 0x10, FIN = 0x01, RST = 0x04, PSH = 0x08 };

static void sequences(void)
{
	int k = 0;
	for (int v6 = 0; v6 < 2; v6++) {
		int c = v6 ? 8 : 0;
		/* the app's port: handshake, data, a hole then its filling, FIN */
		seq_len = 0;
		r_syn_opts(c);
		r_seg(c, ACK, 0, 0, NULL);
		r_seg(c, ACK | PSH, 0, 0, "hello, ");
		r_seg(c, ACK | PSH, 8, 0, "world");     /* after a hole of 8 */
		r_seg(c, ACK | PSH, -13, 0, "tapstack"); /* the hole */
		r2(HR_APP, HR_OP_SEND, 40);
		r2(HR_TIME, 2, -1);
		r_seg(c, ACK | FIN, 0, 0, NULL);
		r2(HR_APP, HR_OP_CLOSE, 0);
		r2(HR_TIME, 4, -1);
		r_seg(c, ACK, 0, 0, NULL);
		r2(HR_TIME, 7, -1);
		put("fuzz_host", "seq", k++, seq_buf, seq_len);
		/* http and echo, with the app paused on a second connection */
		seq_len = 0;
		r_seg(c | 1 << 4, SYN, 0, 0, NULL);
		r_seg(c | 1 << 4, ACK, 0, 0, NULL);
		r_seg(c | 1 << 4, ACK | PSH, 0, 0, "GET /bytes/3000 HTTP/1.1\r\nHost: a\r\n\r\n");
		r2(HR_TIME, 0, -1);
		r_seg(c | 1 << 4, ACK, 0, 0, NULL);
		r_seg(c | 1 << 4, ACK | FIN, 0, 0, NULL);
		r_seg(c | 2 << 4 | 1, SYN, 0, 0, NULL);
		r_seg(c | 2 << 4 | 1, ACK, 0, 0, NULL);
		r_seg(c | 2 << 4 | 1, ACK | PSH, 0, 0, "echo me");
		r2(HR_TIME, 1, -1);
		r_seg(c | 2 << 4 | 1, RST, 0, 0, NULL);
		r2(HR_APP, HR_OP_PAUSE, 0);
		r_seg(c | 2, SYN, 0, 0, NULL);
		r_seg(c | 2, ACK, 0, 0, NULL);
		r_seg(c | 2, ACK, 0, 0, "0123456789012345678901234567890123456789");
		r2(HR_TIME, 5, -1);
		put("fuzz_host", "seq", k++, seq_buf, seq_len);
		/* the host connects out; DNS over UDP and TCP; UDP to the app */
		seq_len = 0;
		r2(HR_APP, HR_OP_CONNECT, v6);
		r_seg(4 | c, SYN | ACK, 0, 0, NULL);
		r_seg(4 | c, ACK, 0, 0, "from the peer");
		r2(HR_APP, HR_OP_ACTIVE_SEND, 100);
		r2(HR_TIME, 3, -1);
		r_udp(0, L("to the app"));
		r2(HR_APP, HR_OP_UDP_SEND, 20);
		r_udp(3, L("\x12\x34\x01\x00\x00\x01\x00\x00\x00\x00\x00\x00\x03www\x03lab\x04test\x00\x00\x01\x00\x01"));
		r2(HR_TIME, 2, -1);
		r_udp(4, L("\x00\x00\x81\x80\x00\x01\x00\x01\x00\x00\x00\x00\x03www\x03lab\x04test\x00\x00\x01\x00\x01\xc0\x0c\x00\x01\x00\x01\x00\x00\x01\x2c\x00\x04\x0a\x00\x00\x05"));
		r_seg(c | 4 << 4, SYN, 0, 0, NULL);
		r_seg(c | 4 << 4, ACK, 0, 0, NULL);
		r_seg_n(c | 4 << 4, ACK | PSH, 0, 0, L("\x00\x1e\x12\x35\x01\x00\x00\x01\x00\x00\x00\x00\x00\x00\x03www\x03lab\x04test\x00\x00\x1c\x00\x01"));
		r2(HR_TIME, 6, -1);
		put("fuzz_host", "seq", k++, seq_buf, seq_len);
	}
}

int main(int argc, char **argv)
{
	if (argc != 3) {
		fprintf(stderr, "usage: seeds VECTORS OUT\n");
		return 2;
	}
	out_dir = argv[2];
	mkdir(out_dir, 0755);
	DIR *d = opendir(argv[1]);
	if (!d) {
		perror(argv[1]);
		return 1;
	}
	struct dirent *e;
	while ((e = readdir(d)) != NULL) {
		size_t l = strlen(e->d_name);
		if (l < 6 || strcmp(e->d_name + l - 5, ".pcap") != 0)
			continue;
		char path[1024], err[PCAP_ERRBUF_SIZE];
		snprintf(path, sizeof(path), "%s/%s", argv[1], e->d_name);
		pcap_t *pc = pcap_open_offline(path, err);
		if (!pc) {
			fprintf(stderr, "seeds: %s: %s\n", path, err);
			return 1;
		}
		char name[256];
		snprintf(name, sizeof(name), "%.*s", (int)(l - 5), e->d_name);
		struct pcap_pkthdr *ph;
		const u_char *data;
		for (int i = 1; pcap_next_ex(pc, &ph, &data) == 1 && i <= 200; i++)
			frame(name, i, data, ph->caplen);
		pcap_close(pc);
	}
	closedir(d);
	sequences();
	printf("seeds: %d files in %s\n", written, out_dir);
	return 0;
}
