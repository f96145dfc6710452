/* The pcap device: wraps any device and writes every frame it sends and
 * receives to a pcap file (link type Ethernet), for tshark and Wireshark.
 * A frame is written when it leaves (before the wrapped device sees it)
 * and when it arrives (after the wrapped device hands it up).
 *
 * Offload: a wrapper offloads nothing (dev.tso_max 0), so what the stack
 * sends through it is ordinary: at most the MTU, checksums complete. A host
 * with --pcap also opens its TAP without offload (stack/host.c), so every
 * frame in the file is one a wire could carry. Wrapped around a TAP with
 * offload, received frames would be written as they came: up to 64 KB
 * (cut at the snap length), their TCP checksum partial, which Wireshark
 * flags as it does in any capture taken on a host with offload. */
#include <errno.h>
#include <pcap/pcap.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "link/pcapdev.h"

#define PCAPDEV_SNAPLEN 65535

struct pcapdev {
	struct netdev dev;      /* first, so a struct netdev * is a struct pcapdev * */
	struct netdev *inner;
	pcap_t *pcap;           /* a "dead" handle: only describes the file */
	pcap_dumper_t *dumper;
	int64_t epoch_offset_us;
};

static struct pcapdev *pcapdev(struct netdev *d)
{
	return (struct pcapdev *)d;
}

/* Writes p to the file stamped now + the epoch offset. p stays with the caller. */
static void pcapdev_dump(struct pcapdev *pd, const struct pkt *p, int64_t now)
{
	int64_t t = now + pd->epoch_offset_us;
	int64_t sec = t / 1000000, usec = t % 1000000;
	struct pcap_pkthdr h;

	if (usec < 0) {         /* before the epoch: keep usec in 0..999999 */
		usec += 1000000;
		sec--;
	}
	memset(&h, 0, sizeof(h));
	h.ts.tv_sec = (time_t)sec;
	h.ts.tv_usec = (suseconds_t)usec;
	h.len = (bpf_u_int32)p->len;
	h.caplen = p->len > PCAPDEV_SNAPLEN ? PCAPDEV_SNAPLEN : (bpf_u_int32)p->len;
	pcap_dump((u_char *)pd->dumper, &h, p->data);
}

/* Writes p to the file, then sends it on the wrapped device. Consumes p.
 * Returns the wrapped device's answer. */
static int pcapdev_send(struct netdev *d, struct pkt *p, int64_t now)
{
	struct pcapdev *pd = pcapdev(d);

	pd->inner->stats = d->stats;
	pcapdev_dump(pd, p, now);
	return netdev_send(pd->inner, p, now);
}

/* The next frame from the wrapped device, written to the file, or NULL.
 * The caller owns it. */
static struct pkt *pcapdev_recv(struct netdev *d, int64_t now)
{
	struct pcapdev *pd = pcapdev(d);

	pd->inner->stats = d->stats;
	struct pkt *p = netdev_recv(pd->inner, now);
	if (p)
		pcapdev_dump(pd, p, now);
	return p;
}

/* The wrapped device's deadline. */
static int64_t pcapdev_next_deadline(struct netdev *d)
{
	return netdev_next_deadline(pcapdev(d)->inner);
}

/* The wrapped device's descriptor. */
static int pcapdev_fd(struct netdev *d)
{
	return netdev_fd(pcapdev(d)->inner);
}

/* Writes buffered frames out to the file, then flushes the wrapped device. */
static void pcapdev_flush(struct netdev *d)
{
	struct pcapdev *pd = pcapdev(d);

	pcap_dump_flush(pd->dumper);
	netdev_flush(pd->inner);
}

/* Flushes and closes the file, closes the wrapped device, frees d. */
static void pcapdev_close(struct netdev *d)
{
	struct pcapdev *pd = pcapdev(d);

	pcapdev_flush(d);
	pcap_dump_close(pd->dumper);
	pcap_close(pd->pcap);
	netdev_close(pd->inner);
	free(pd);
}

static const struct netdev_ops pcapdev_ops = {
	.send = pcapdev_send,
	.recv = pcapdev_recv,
	.next_deadline = pcapdev_next_deadline,
	.fd = pcapdev_fd,
	.close = pcapdev_close,
	.flush = pcapdev_flush,
};

/* Wraps inner and starts the pcap file at path (truncated if it exists;
 * "-" is standard output). The result has inner's name and MTU. Returns
 * NULL with the path and the reason in err if the file cannot be written
 * (inner is then left open). */
struct netdev *pcapdev_wrap(struct netdev *inner, const char *path, int64_t epoch_offset_us,
			    char *err, size_t errlen)
{
	struct pcapdev *pd = calloc(1, sizeof(*pd));

	if (!pd) {
		snprintf(err, errlen, "cannot write the pcap file %s: out of memory", path);
		return NULL;
	}
	pd->pcap = pcap_open_dead(DLT_EN10MB, PCAPDEV_SNAPLEN);
	if (!pd->pcap) {
		snprintf(err, errlen, "cannot write the pcap file %s: libpcap is out of memory",
			 path);
		free(pd);
		return NULL;
	}
	errno = 0;
	pd->dumper = pcap_dump_open(pd->pcap, path);
	if (!pd->dumper) {
		const char *why = errno ? strerror(errno) : pcap_geterr(pd->pcap);
		snprintf(err, errlen, "cannot write the pcap file %s: %s", path, why);
		pcap_close(pd->pcap);
		free(pd);
		return NULL;
	}
	pd->dev.ops = &pcapdev_ops;
	snprintf(pd->dev.name, sizeof(pd->dev.name), "%s", inner->name);
	pd->dev.mtu = inner->mtu;
	pd->dev.stats = inner->stats;
	pd->inner = inner;
	pd->epoch_offset_us = epoch_offset_us;
	return &pd->dev;
}
