/* SipHash-2-4 (Aumasson and Bernstein, "SipHash: a fast short-input PRF",
 * 2012): a keyed hash whose output cannot be predicted without the 128-bit
 * key. TCP's initial sequence numbers (RFC 6528) and IPv6's stable, opaque
 * interface identifiers (RFC 7217) both use it as their F(). */
#ifndef TAPSTACK_SIPHASH_H
#define TAPSTACK_SIPHASH_H

#include <stddef.h>
#include <stdint.h>

/* The 64-bit SipHash-2-4 of the len bytes at m under key (16 bytes, read
 * little-endian as k0, k1 as in the paper). */
uint64_t siphash24(const uint8_t key[16], const uint8_t *m, size_t len);

#endif
