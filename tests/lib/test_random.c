/*
 * test_random.c - lib/random.c against the reference output of Blackman &
 * Vigna's C code (xoroshiro128plusplus.c, splitmix64.c) for known states
 * and seeds, plus range and bias checks of xoro_below().
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "compiler.h"
#include "lib/random.h"

#define VEC_OUTPUTS	10
#define SM_OUTPUTS	5

/* From the reference implementation: raw state, then the first outputs. */
static const struct {
	uint64_t s0, s1;
	uint64_t out[VEC_OUTPUTS];
} xoro_vectors[] = {
	{ 1, 2, {
		393217ull, 669327710093319ull, 1732421326133921491ull,
		11394790081659126983ull, 9555452776773192676ull,
		3586421180005889563ull, 1691397964866707553ull,
		10735626796753111697ull, 15216282715349408991ull,
		14247243556711267923ull } },
	{ 81985529216486895ull, 18364758544493064720ull, {
		81985529216486894ull, 11559359155456189540ull,
		14742413462175304280ull, 11722321085874246307ull,
		18195277883332905980ull, 4870808178002823119ull,
		11508449876683880362ull, 3679945077129748252ull,
		15245013254461901094ull, 8085817209879542815ull } },
	{ 18446744073709551615ull, 1, {
		18446744073709551615ull, 18446708339577585664ull,
		17294341538875966089ull, 1011031301013903998ull,
		14012917444730493563ull, 283823977746095602ull,
		13271139257584751987ull, 7276592279597412226ull,
		6125176367405772240ull, 6213246400758690649ull } },
};

static const struct {
	uint64_t seed;
	uint64_t out[SM_OUTPUTS];
} splitmix_vectors[] = {
	{ 0, { 16294208416658607535ull, 7960286522194355700ull,
	       487617019471545679ull, 17909611376780542444ull,
	       1961750202426094747ull } },
	{ 1, { 10451216379200822465ull, 13757245211066428519ull,
	       17911839290282890590ull, 8196980753821780235ull,
	       8195237237126968761ull } },
	{ 19088743, { 4194204079749860293ull, 13860504569636493338ull,
		      11399400070060404925ull, 12066937226743823343ull,
		      13527445481329917522ull } },
};

static void test_xoro_reference(void **state)
{
	(void)state;
	for (size_t v = 0; v < ARRAY_SIZE(xoro_vectors); v++) {
		struct xoroshiro128pp r;

		xoro_set_state(&r, xoro_vectors[v].s0, xoro_vectors[v].s1);
		for (int i = 0; i < VEC_OUTPUTS; i++)
			assert_int_equal(xoro_next(&r), xoro_vectors[v].out[i]);
	}
}

static void test_splitmix_reference(void **state)
{
	(void)state;
	for (size_t v = 0; v < ARRAY_SIZE(splitmix_vectors); v++) {
		uint64_t sm = splitmix_vectors[v].seed;

		for (int i = 0; i < SM_OUTPUTS; i++)
			assert_int_equal(splitmix64_next(&sm),
					 splitmix_vectors[v].out[i]);
	}
}

static void test_seed_expands_with_splitmix(void **state)
{
	struct xoroshiro128pp r, q;

	(void)state;
	for (size_t v = 0; v < ARRAY_SIZE(splitmix_vectors); v++) {
		xoro_seed(&r, splitmix_vectors[v].seed);
		assert_int_equal(r.s[0], splitmix_vectors[v].out[0]);
		assert_int_equal(r.s[1], splitmix_vectors[v].out[1]);
	}
	/* Same seed, same stream; different seed, different stream. */
	xoro_seed(&r, 42);
	xoro_seed(&q, 42);
	for (int i = 0; i < 100; i++)
		assert_int_equal(xoro_next(&r), xoro_next(&q));
	xoro_seed(&q, 43);
	assert_int_not_equal(xoro_next(&r), xoro_next(&q));
}

static void test_contract_violations(void **state)
{
	struct xoroshiro128pp r;

	(void)state;
	xoro_seed(&r, 1);
	expect_assert_failure(xoro_set_state(&r, 0, 0));
	expect_assert_failure(xoro_below(&r, 0));
}

static void test_below_range(void **state)
{
	static const uint64_t bounds[] = {
		1, 2, 3, 7, 10, 1000, 1ull << 32, (1ull << 63) + 1,
		UINT64_MAX - 1, UINT64_MAX,
	};
	struct xoroshiro128pp r;

	(void)state;
	xoro_seed(&r, 7);
	for (size_t b = 0; b < ARRAY_SIZE(bounds); b++) {
		for (int i = 0; i < 10000; i++)
			assert_true(xoro_below(&r, bounds[b]) < bounds[b]);
	}
	for (int i = 0; i < 100; i++)
		assert_int_equal(xoro_below(&r, 1), 0);
}

#define DIE_SIDES	6
#define DIE_ROLLS	600000

static void test_below_uniform(void **state)
{
	struct xoroshiro128pp r;
	unsigned counts[DIE_SIDES] = { 0 };
	uint64_t low = 0, n;
	const int draws = 60000;

	(void)state;
	xoro_seed(&r, 0x5eed);
	for (int i = 0; i < DIE_ROLLS; i++)
		counts[xoro_below(&r, DIE_SIDES)]++;
	/* Expected 100000 each, sd ~ 290: 1500 is over 5 sd. */
	for (int s = 0; s < DIE_SIDES; s++) {
		assert_true(counts[s] > DIE_ROLLS / DIE_SIDES - 1500);
		assert_true(counts[s] < DIE_ROLLS / DIE_SIDES + 1500);
	}

	/*
	 * n = 3 * 2^62: a plain `x % n` returns values below 2^62 half of the
	 * time (2^64 mod n = 2^62 surplus values land there); unbiased draws
	 * do so a third of the time.
	 */
	n = 3ull << 62;
	for (int i = 0; i < draws; i++)
		low += xoro_below(&r, n) < (1ull << 62);
	assert_true(low > draws * 31 / 100);
	assert_true(low < draws * 36 / 100);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_xoro_reference),
		cmocka_unit_test(test_splitmix_reference),
		cmocka_unit_test(test_seed_expands_with_splitmix),
		cmocka_unit_test(test_contract_violations),
		cmocka_unit_test(test_below_range),
		cmocka_unit_test(test_below_uniform),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
