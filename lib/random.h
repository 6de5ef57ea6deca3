/*
 * random.h - xoroshiro128++ and splitmix64 (Blackman & Vigna).
 *
 * xoroshiro128++ is a small, fast generator with 128 bits of state and
 * period 2^128 - 1; each core owns one (for picking steal victims), so
 * there is no locking: a generator is used by one context at a time.
 * Seeds are expanded with splitmix64, as the authors recommend, which
 * also keeps the state away from the forbidden all-zero value.  Not for
 * cryptography.  Reference: https://prng.di.unimi.it/xoroshiro128plusplus.c
 */
#ifndef HYPHAE_LIB_RANDOM_H
#define HYPHAE_LIB_RANDOM_H

#include <stdint.h>

struct xoroshiro128pp {
	uint64_t s[2];	/* never both zero */
};

/* Advance a splitmix64 state and return its next output. */
uint64_t splitmix64_next(uint64_t *state);

/* Seed r from any 64-bit value (e.g. arch_random_seed()). */
void xoro_seed(struct xoroshiro128pp *r, uint64_t seed);

/* Set the raw state (tests, reproducing a run); panics if both are zero. */
void xoro_set_state(struct xoroshiro128pp *r, uint64_t s0, uint64_t s1);

/* The next 64 random bits. */
uint64_t xoro_next(struct xoroshiro128pp *r);

/*
 * Uniform in [0, n), without modulo bias (Lemire's multiply-and-reject).
 * n must be > 0 (panics otherwise).
 */
uint64_t xoro_below(struct xoroshiro128pp *r, uint64_t n);

#endif /* HYPHAE_LIB_RANDOM_H */
