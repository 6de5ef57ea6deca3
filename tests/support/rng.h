/*
 * rng.h - random choices in tests and benchmarks, from lib/random.h's
 * xoroshiro128++ (the generator the runtime itself uses).
 *
 * test_rng_init() seeds a generator from HYPHAE_TEST_SEED when set, else
 * from the caller's default, and says which on stderr, so a failing random
 * test can be rerun with the same choices.
 */
#ifndef HYPHAE_TESTS_SUPPORT_RNG_H
#define HYPHAE_TESTS_SUPPORT_RNG_H

#include <stdint.h>

#include "lib/random.h"

/* Seed `r` (see above); returns the seed used.  Any thread. */
uint64_t test_rng_init(struct xoroshiro128pp *r, uint64_t default_seed);

/* Uniform in [0, n), n > 0. */
static inline uint64_t test_rng_below(struct xoroshiro128pp *r, uint64_t n)
{
	return xoro_below(r, n);
}

#endif /* HYPHAE_TESTS_SUPPORT_RNG_H */
