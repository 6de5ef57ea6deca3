/*
 * rng.c - seeding test generators reproducibly (rng.h).
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>

#include "tests/support/rng.h"

uint64_t test_rng_seed(uint64_t default_seed)
{
	const char *env = getenv("HYPHAE_TEST_SEED");
	uint64_t seed;

	if (!env || !*env)
		return default_seed;
	seed = strtoull(env, NULL, 0);
	fprintf(stderr, "test rng: seed 0x%" PRIx64 " (HYPHAE_TEST_SEED)\n", seed);
	return seed;
}

uint64_t test_rng_init(struct xoroshiro128pp *r, uint64_t default_seed)
{
	uint64_t seed = test_rng_seed(default_seed);

	xoro_seed(r, seed);
	return seed;
}

void test_rng_split(struct xoroshiro128pp *parent, struct xoroshiro128pp *child)
{
	xoro_seed(child, xoro_next(parent));
}
