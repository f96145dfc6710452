/* Byte-order helpers: read and write big-endian (network order) fields at a
 * byte offset. Codecs use these instead of casting structs over the wire, so
 * alignment and host byte order never matter. */
#ifndef TAPSTACK_BYTEORDER_H
#define TAPSTACK_BYTEORDER_H

#include <stdint.h>

/* Reads a 16-bit big-endian value at p. */
static inline uint16_t be16_get(const uint8_t *p)
{
	return (uint16_t)((uint16_t)p[0] << 8 | p[1]);
}

/* Reads a 32-bit big-endian value at p. */
static inline uint32_t be32_get(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

/* Writes v at p as 16-bit big-endian. */
static inline void be16_put(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}

/* Writes v at p as 32-bit big-endian. */
static inline void be32_put(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)(v >> 24);
	p[1] = (uint8_t)(v >> 16);
	p[2] = (uint8_t)(v >> 8);
	p[3] = (uint8_t)v;
}

/* Reads a 16-bit little-endian value at p (the virtio-net header's order). */
static inline uint16_t le16_get(const uint8_t *p)
{
	return (uint16_t)((uint16_t)p[1] << 8 | p[0]);
}

/* Writes v at p as 16-bit little-endian. */
static inline void le16_put(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)v;
	p[1] = (uint8_t)(v >> 8);
}

#endif
