/* What every libFuzzer target of tests/fuzz/ shares: the entry point's
 * prototype (clang's libFuzzer calls it once per input, the input in a heap
 * buffer of its exact size so AddressSanitizer sees any read past it) and
 * an oracle failure that libFuzzer records as a crash. See README.md. */
#ifndef TAPSTACK_FUZZ_H
#define TAPSTACK_FUZZ_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* An oracle found something wrong: say what, and abort (a crash input). */
#define FUZZ_ASSERT(cond, ...)                                                      \
	do {                                                                        \
		if (!(cond)) {                                                      \
			fprintf(stderr, "fuzz oracle failed at %s:%d: %s: ", __FILE__, \
				__LINE__, #cond);                                   \
			fprintf(stderr, __VA_ARGS__);                               \
			fprintf(stderr, "\n");                                      \
			abort();                                                    \
		}                                                                   \
	} while (0)

#endif
