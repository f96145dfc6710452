/* Sequence-number arithmetic (RFC 9293 3.4): sequence numbers live on a
 * circle of 2^32, so "a before b" means the signed 32-bit difference a - b is
 * negative. Correct across wrap-around as long as the two are less than 2^31
 * apart, which the windows guarantee. Compare sequence numbers only with
 * these (the style of BSD's tcp_seq.h). */
#ifndef TAPSTACK_TCP_SEQ_H
#define TAPSTACK_TCP_SEQ_H

#include <stdint.h>

#define SEQ_LT(a, b) ((int32_t)((uint32_t)(a) - (uint32_t)(b)) < 0)
#define SEQ_LEQ(a, b) ((int32_t)((uint32_t)(a) - (uint32_t)(b)) <= 0)
#define SEQ_GT(a, b) ((int32_t)((uint32_t)(a) - (uint32_t)(b)) > 0)
#define SEQ_GEQ(a, b) ((int32_t)((uint32_t)(a) - (uint32_t)(b)) >= 0)
#define SEQ_MAX(a, b) (SEQ_GT(a, b) ? (a) : (b))
#define SEQ_MIN(a, b) (SEQ_LT(a, b) ? (a) : (b))

/* True if a <= x < b on the circle. */
#define SEQ_IN(x, a, b) (SEQ_LEQ(a, x) && SEQ_LT(x, b))

#endif
