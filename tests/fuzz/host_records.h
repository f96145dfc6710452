/* The input of the whole-host target (fuzz_host.c): a sequence of records,
 * each one byte of kind (taken modulo HR_KINDS) and its fields, big-endian.
 * A record cut short by the end of the input takes zeros for what is
 * missing. Shared with the seed extractor (seeds.c), which writes some.
 *
 *   HR_FRAME  u16 len, len bytes        a raw frame injected as it is
 *   HR_TIME   u8 step                   time moves on hr_steps[step % 8] us
 *   HR_SEG    u8 conn, u8 flags,        a TCP segment from the peer on the
 *             i16 seq_off, i16 ack_off,   connection conn (see below), seq
 *             u16 wnd, u8 optlen,         and ack relative to what the peer
 *             optlen % 41 option bytes,   model expects, valid checksums
 *             u16 len, len % 1461 bytes
 *   HR_UDP    u8 port, u16 len, bytes   a UDP datagram from the peer
 *   HR_APP    u8 op, u8 arg             a call of the application's (HR_OP_*)
 *
 * conn: slot conn % 5 (0-3: the peer's port 40000 + slot connecting to the
 * host; 4: the peer's port 6000, which the host connects to), IPv6 if
 * conn & 8, and the host's port hr_ports[(conn >> 4) % 5] for slots 0-3. */
#ifndef TAPSTACK_FUZZ_HOST_RECORDS_H
#define TAPSTACK_FUZZ_HOST_RECORDS_H

#include <stdint.h>

enum { HR_FRAME, HR_TIME, HR_SEG, HR_UDP, HR_APP, HR_KINDS };

enum {
	HR_OP_SEND,      /* arg bytes on accepted connection arg % n */
	HR_OP_SHUT_WR,   /* shutdown(SHUT_WR) on one */
	HR_OP_CLOSE,     /* close one */
	HR_OP_ABORT,     /* close one with SO_LINGER {1, 0}: a RST */
	HR_OP_UDP_SEND,  /* a datagram from the app's UDP socket to the peer */
	HR_OP_CONNECT,   /* connect to the peer's port 6000 (IPv6 if arg & 1) */
	HR_OP_ACTIVE_SEND, /* arg bytes on that connection */
	HR_OP_PAUSE,     /* the app stops (or starts again) reading */
	HR_OPS
};

#define HR_APP_PORT 5000   /* the app's own listener, whose bytes are checked */
#define HR_UDP_PORT 5001   /* the app's UDP socket */
#define HR_PEER_BASE 40000 /* the peer's ports of slots 0-3 */
#define HR_PEER_ACTIVE 6000
#define HR_PEER_ISS 0x10000000u /* the peer's sequence numbers start at slot * this */

static const uint16_t hr_ports[5] = { HR_APP_PORT, 80, 7, 9, 53 };
static const uint16_t hr_udp_ports[5] = { HR_UDP_PORT, 7, 9, 53, 0 /* the last DNS query's */ };
static const int64_t hr_steps[8] = { 1000, 10000, 100000, 250000, 1000000, 3000000,
				     30000000, 130000000 };

#endif
