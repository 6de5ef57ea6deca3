/*
 * test_frame.c - the bitmap frame allocator against a model.
 *
 * The allocator only does arithmetic on addresses (the kernel's frames are
 * identity-mapped; here nothing is dereferenced), so tests use a made-up
 * physical layout with holes and reservations, and check every answer
 * against a plain array of per-frame states: no frame handed out twice,
 * never a reserved or non-RAM frame, runs contiguous, counters exact,
 * everything returned at the end, double free and foreign frees panic.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "arch/x86_64/frame.h"
#include "tests/support/rng.h"

#define MIB		(1024ull * 1024)
#define LO		(1 * MIB)
#define HI		(9 * MIB + 12 * 1024)	/* not a multiple of 64 frames */
#define NFRAMES		((HI - LO) / FRAME_SIZE)

enum { M_NONE, M_FREE, M_USED };

struct fixture {
	struct frame_alloc fa;
	uint64_t *bitmap;
	uint8_t model[NFRAMES];
};

static struct xoroshiro128pp rng;

static void model_range(struct fixture *f, uint64_t base, uint64_t len, uint8_t st)
{
	for (uint64_t a = base; a < base + len; a += FRAME_SIZE)
		if (a >= LO && a < HI)
			f->model[(a - LO) / FRAME_SIZE] = st;
}

/* RAM: [1M, 4M) and [5M, HI); reserved: a "kernel" at [1M, 1.5M) and an
 * unaligned "boot info" at 3M+100..3M+5000 (two frames). */
static struct fixture *setup_layout(void)
{
	struct fixture *f = calloc(1, sizeof(*f));
	size_t words = frame_bitmap_words(LO, HI);

	assert_int_equal(words, 2 * ((NFRAMES + 63) / 64));
	f->bitmap = calloc(words, sizeof(uint64_t));
	frame_alloc_init(&f->fa, f->bitmap, LO, HI);
	assert_int_equal(frame_total_count(&f->fa), 0);
	/* Unaligned edges shrink inward. */
	frame_alloc_add(&f->fa, LO - 100, 3 * MIB + 100 + 50);
	frame_alloc_add(&f->fa, 5 * MIB, HI - 5 * MIB);
	model_range(f, LO, 3 * MIB, M_FREE);
	model_range(f, 5 * MIB, HI - 5 * MIB, M_FREE);
	/* Adding twice changes nothing. */
	frame_alloc_add(&f->fa, 5 * MIB, MIB);
	frame_alloc_reserve(&f->fa, LO, MIB / 2);
	frame_alloc_reserve(&f->fa, 3 * MIB + 100, 4900);
	/* Reserving a hole (not RAM) changes nothing. */
	frame_alloc_reserve(&f->fa, 4 * MIB, MIB);
	model_range(f, LO, MIB / 2, M_NONE);
	model_range(f, 3 * MIB, 2 * FRAME_SIZE, M_NONE);
	return f;
}

static size_t model_count(const struct fixture *f, uint8_t st)
{
	size_t n = 0;

	for (size_t i = 0; i < NFRAMES; i++)
		n += f->model[i] == st;
	return n;
}

static void check_counts(struct fixture *f)
{
	assert_int_equal(frame_alloc_check(&f->fa), FRAME_CHECK_OK);
	assert_int_equal(frame_free_count(&f->fa), model_count(f, M_FREE));
	assert_int_equal(frame_total_count(&f->fa),
			 model_count(f, M_FREE) + model_count(f, M_USED));
}

static void test_layout(void **state)
{
	struct fixture *f = setup_layout();
	(void)state;

	check_counts(f);
	assert_int_equal(frame_total_count(&f->fa),
			 (3 * MIB - MIB / 2) / FRAME_SIZE - 2 + (HI - 5 * MIB) / FRAME_SIZE);
	for (size_t i = 0; i < NFRAMES; i++)
		assert_int_equal(frame_is_free(&f->fa, LO + i * FRAME_SIZE),
				 f->model[i] == M_FREE);
	assert_false(frame_is_free(&f->fa, HI + FRAME_SIZE));
	assert_false(frame_is_free(&f->fa, 0));
	free(f->bitmap);
	free(f);
}

static uint64_t take(struct fixture *f, size_t n)
{
	uint64_t pa = frame_alloc(&f->fa, n);

	if (pa == 0)
		return 0;
	assert_int_equal(pa % FRAME_SIZE, 0);
	assert_true(pa >= LO && pa + n * FRAME_SIZE <= HI);
	for (size_t k = 0; k < n; k++) {
		size_t i = (pa - LO) / FRAME_SIZE + k;

		if (f->model[i] != M_FREE)
			fail_msg("frame 0x%llx handed out in state %d",
				 (unsigned long long)(pa + k * FRAME_SIZE), f->model[i]);
		f->model[i] = M_USED;
	}
	return pa;
}

static void give(struct fixture *f, uint64_t pa, size_t n)
{
	frame_free(&f->fa, pa, n);
	model_range(f, pa, n * FRAME_SIZE, M_FREE);
}

/* Does the model have a free run of n frames? */
static bool model_has_run(const struct fixture *f, size_t n)
{
	size_t run = 0;

	for (size_t i = 0; i < NFRAMES; i++) {
		run = f->model[i] == M_FREE ? run + 1 : 0;
		if (run >= n)
			return true;
	}
	return false;
}

static void test_lowest_first(void **state)
{
	struct fixture *f = setup_layout();
	uint64_t a, b;
	(void)state;

	a = take(f, 1);
	assert_int_equal(a, LO + MIB / 2);
	b = take(f, 1);
	assert_int_equal(b, a + FRAME_SIZE);
	give(f, a, 1);
	/* The freed low frame is reused first. */
	assert_int_equal(take(f, 1), a);
	/* A run skips the reserved boot-info frames at 3M. */
	a = take(f, 300);
	assert_true(a + 300 * FRAME_SIZE <= 3 * MIB || a >= 3 * MIB + 2 * FRAME_SIZE);
	check_counts(f);
	free(f->bitmap);
	free(f);
}

static void test_random_against_model(void **state)
{
	struct fixture *f = setup_layout();
	struct { uint64_t pa; size_t n; } live[512];
	size_t nlive = 0;
	(void)state;

	test_rng_init(&rng, 88172645463325252ull);
	for (int step = 0; step < 40000; step++) {
		if (nlive < 512 && (xoro_below(&rng, 3) != 0 || nlive == 0)) {
			size_t n = xoro_below(&rng, 4) == 0 ?
				   1 + xoro_below(&rng, 40) : 1;
			uint64_t pa = take(f, n);

			if (pa == 0) {
				/* Failure must be honest. */
				assert_false(model_has_run(f, n));
				continue;
			}
			live[nlive].pa = pa;
			live[nlive++].n = n;
		} else {
			size_t k = xoro_below(&rng, nlive);

			give(f, live[k].pa, live[k].n);
			live[k] = live[--nlive];
		}
		if (step % 97 == 0)
			check_counts(f);
	}
	while (nlive) {
		nlive--;
		give(f, live[nlive].pa, live[nlive].n);
	}
	check_counts(f);
	assert_int_equal(frame_free_count(&f->fa), frame_total_count(&f->fa));
	free(f->bitmap);
	free(f);
}

static void test_exhaustion(void **state)
{
	struct fixture *f = setup_layout();
	size_t total = frame_total_count(&f->fa), got = 0;
	uint64_t pa;
	(void)state;

	assert_int_equal(frame_alloc(&f->fa, 0), 0);
	assert_int_equal(frame_alloc(&f->fa, total + 1), 0);
	while ((pa = take(f, 1)) != 0)
		got++;
	assert_int_equal(got, total);
	assert_int_equal(frame_free_count(&f->fa), 0);
	assert_int_equal(frame_alloc(&f->fa, 1), 0);
	for (size_t i = 0; i < NFRAMES; i++)
		if (f->model[i] == M_USED)
			give(f, LO + i * FRAME_SIZE, 1);
	assert_int_equal(frame_free_count(&f->fa), total);
	/* The largest run: [5M, HI). */
	pa = take(f, (HI - 5 * MIB) / FRAME_SIZE);
	assert_int_equal(pa, 5 * MIB);
	assert_int_equal(frame_alloc(&f->fa, (HI - 5 * MIB) / FRAME_SIZE), 0);
	free(f->bitmap);
	free(f);
}

static void test_bad_frees_panic(void **state)
{
	struct fixture *f = setup_layout();
	uint64_t pa;
	(void)state;

	pa = take(f, 2);
	give(f, pa, 2);
	expect_assert_failure(frame_free(&f->fa, pa, 1));		/* double */
	expect_assert_failure(frame_free(&f->fa, LO, 1));		/* reserved */
	expect_assert_failure(frame_free(&f->fa, 4 * MIB, 1));	/* hole */
	expect_assert_failure(frame_free(&f->fa, pa, 3000));	/* too long */
	expect_assert_failure(frame_free(&f->fa, HI, 1));		/* outside */
	expect_assert_failure(frame_free(&f->fa, pa + 1, 1));	/* unaligned */
	free(f->bitmap);
	free(f);
}

/* The checker notices each kind of damage (so check_counts() can fail). */
static void test_checker_catches_damage(void **state)
{
	struct fixture *f = setup_layout();
	uint64_t pa;
	size_t i;
	(void)state;

	assert_int_equal(frame_alloc_check(&f->fa), FRAME_CHECK_OK);
	pa = take(f, 1);
	i = (pa - LO) / FRAME_SIZE;
	f->bitmap[i / 64] &= ~(1ull << (i % 64));	/* lost allocation */
	assert_int_equal(frame_alloc_check(&f->fa), FRAME_CHECK_FREE_COUNT);
	f->bitmap[i / 64] |= 1ull << (i % 64);
	f->fa.total++;
	assert_int_equal(frame_alloc_check(&f->fa), FRAME_CHECK_TOTAL_COUNT);
	f->fa.total--;
	f->bitmap[0] &= ~1ull;				/* reserved frame freed */
	assert_int_equal(frame_alloc_check(&f->fa), FRAME_CHECK_UNMANAGED_FREE);
	f->bitmap[0] |= 1ull;
	f->fa.hint = (NFRAMES / 64);			/* hint past free frames */
	assert_int_equal(frame_alloc_check(&f->fa), FRAME_CHECK_HINT);
	f->fa.hint = 0;
	f->bitmap[(NFRAMES - 1) / 64] &= ~(1ull << 63);	/* free bit past the end */
	assert_int_equal(frame_alloc_check(&f->fa), FRAME_CHECK_TAIL);
	free(f->bitmap);
	free(f);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_layout),
		cmocka_unit_test(test_lowest_first),
		cmocka_unit_test(test_random_against_model),
		cmocka_unit_test(test_exhaustion),
		cmocka_unit_test(test_bad_frees_panic),
		cmocka_unit_test(test_checker_catches_damage),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
