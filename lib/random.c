/*
 * random.c - xoroshiro128++ 1.0 and splitmix64, after the reference C code
 * of Blackman & Vigna (https://prng.di.unimi.it/), and Lemire's unbiased
 * bounded draw ("Fast Random Integer Generation in an Interval", 2019).
 */
#include "lib/random.h"
#include "panic.h"

/* splitmix64's Weyl increment and output mixers. */
#define SPLITMIX_GAMMA	0x9e3779b97f4a7c15ull
#define SPLITMIX_MUL1	0xbf58476d1ce4e5b9ull
#define SPLITMIX_MUL2	0x94d049bb133111ebull

/* xoroshiro128++ rotations and shift (a, b, c) and the ++ output rotation. */
#define XORO_A	49
#define XORO_B	21
#define XORO_C	28
#define XORO_R	17

static inline uint64_t rotl(uint64_t x, int k)
{
	return (x << k) | (x >> (64 - k));
}

uint64_t splitmix64_next(uint64_t *state)
{
	uint64_t z = (*state += SPLITMIX_GAMMA);

	z = (z ^ (z >> 30)) * SPLITMIX_MUL1;
	z = (z ^ (z >> 27)) * SPLITMIX_MUL2;
	return z ^ (z >> 31);
}

void xoro_seed(struct xoroshiro128pp *r, uint64_t seed)
{
	r->s[0] = splitmix64_next(&seed);
	r->s[1] = splitmix64_next(&seed);
	/* splitmix64 is a bijection of its counter, so two consecutive zero
	 * outputs cannot happen; keep the guarantee explicit anyway. */
	if ((r->s[0] | r->s[1]) == 0)
		r->s[0] = SPLITMIX_GAMMA;
}

void xoro_set_state(struct xoroshiro128pp *r, uint64_t s0, uint64_t s1)
{
	if ((s0 | s1) == 0)
		panic("xoro_set_state: all-zero state");
	r->s[0] = s0;
	r->s[1] = s1;
}

uint64_t xoro_next(struct xoroshiro128pp *r)
{
	uint64_t s0 = r->s[0];
	uint64_t s1 = r->s[1];
	uint64_t result = rotl(s0 + s1, XORO_R) + s0;

	s1 ^= s0;
	r->s[0] = rotl(s0, XORO_A) ^ s1 ^ (s1 << XORO_B);
	r->s[1] = rotl(s1, XORO_C);
	return result;
}

uint64_t xoro_below(struct xoroshiro128pp *r, uint64_t n)
{
	__extension__ typedef unsigned __int128 u128;
	u128 m;
	uint64_t low;

	if (n == 0)
		panic("xoro_below: empty range");
	/* The high half of x * n is uniform in [0, n) once the low halves
	 * below 2^64 mod n (the surplus values) are rejected. */
	m = (u128)xoro_next(r) * n;
	low = (uint64_t)m;
	if (low < n) {
		uint64_t threshold = (0 - n) % n;

		while (low < threshold) {
			m = (u128)xoro_next(r) * n;
			low = (uint64_t)m;
		}
	}
	return (uint64_t)(m >> 64);
}
