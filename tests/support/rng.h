/*
 * rng.h - random choices in tests and benchmarks, from lib/random.h's
 * xoroshiro128++ (the generator the runtime itself uses).
 *
 * test_rng_init() seeds a generator from HYPHAE_TEST_SEED when set (and
 * says so on stderr), else from the caller's fixed default, so a test makes
 * the same choices on every run and HYPHAE_TEST_SEED explores others.
 * Draw with xoro_next() and xoro_below() (lib/random.h); a test with
 * several threads seeds one generator per thread with test_rng_split(),
 * and a test of several runs derives each run's seed from test_rng_seed().
 */
#ifndef HYPHAE_TESTS_SUPPORT_RNG_H
#define HYPHAE_TESTS_SUPPORT_RNG_H

#include <stdint.h>

#include "lib/random.h"

/* HYPHAE_TEST_SEED if set, else default_seed.  Any thread. */
uint64_t test_rng_seed(uint64_t default_seed);

/* Seed `r` with test_rng_seed(default_seed); returns that seed. */
uint64_t test_rng_init(struct xoroshiro128pp *r, uint64_t default_seed);

/*
 * Seed `child` from `parent`'s next output: a generator for another thread
 * (or task) whose choices are still fixed by the parent's seed.  The
 * caller owns both; each is then used by one thread at a time.
 */
void test_rng_split(struct xoroshiro128pp *parent, struct xoroshiro128pp *child);

#endif /* HYPHAE_TESTS_SUPPORT_RNG_H */
