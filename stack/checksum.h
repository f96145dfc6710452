/* The Internet checksum (RFC 1071) and its incremental update (RFC 1624).
 * Values are 16-bit numbers in host order that correspond to the big-endian
 * field on the wire: write them with be16_put(), read them with be16_get(). */
#ifndef TAPSTACK_CHECKSUM_H
#define TAPSTACK_CHECKSUM_H

#include <stddef.h>
#include <stdint.h>

/* Adds the bytes of buf, as big-endian 16-bit words, to the running sum.
 * An odd final byte is padded with a zero byte (RFC 1071 4.1). Chain calls
 * only with even lengths except for the last. Returns the unfolded sum. */
uint32_t csum_partial(const void *buf, size_t len, uint32_t sum);

/* The same sum done the plain way of RFC 1071 4.1, 16 bits at a time: the
 * reference to read first, and the one tests check csum_partial against.
 * Not used on the fast path. Returns a sum folded to 16 bits; csum_fold of
 * it equals csum_fold of csum_partial's, and either chains into the other. */
uint32_t csum_partial_rfc1071(const void *buf, size_t len, uint32_t sum);

/* Folds a running sum to 16 bits and complements it: the checksum field. */
uint16_t csum_fold(uint32_t sum);

/* The checksum of one buffer. A buffer that contains a correct checksum
 * field sums to 0 (that is how receivers verify). */
uint16_t inet_csum(const void *buf, size_t len);

/* RFC 1624 eqn. 3: the new checksum after one 16-bit word of the covered
 * data changed from old_word to new_word, without summing the rest again. */
uint16_t csum_update16(uint16_t check, uint16_t old_word, uint16_t new_word);

#endif
