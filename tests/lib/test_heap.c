/*
 * test_heap.c - lib/heap.c over a counting page arena (page_arena.h).
 *
 * The central test runs long random alloc/free sequences against a model
 * (the list of live blocks with their sizes and fill patterns): every
 * block is aligned as asked, usable_size covers it, its pattern is intact
 * when freed (so no two blocks overlap), heap_stats agrees with the model
 * and heap_check() passes along the way.  Other tests: the size classes,
 * every alignment, large allocations, memory going back to the page
 * source after a burst, running out of pages, the panics on double free
 * and foreign pointers, and heap_check() catching a corrupted slab.
 */
#include <setjmp.h>
#include <stdbool.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "lib/heap.h"
#include "page_arena.h"
#include "tests/support/rng.h"

#define ARENA_PAGES	4096	/* 16 MiB */

struct fixture {
	struct page_arena arena;
	struct heap heap;
};

static int setup(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));
	struct heap_pages src;

	if (f == NULL || arena_init(&f->arena, ARENA_PAGES) != 0)
		return -1;
	src = arena_pages(&f->arena);
	heap_init(&f->heap, &src);
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *f = *state;

	arena_destroy(&f->arena);
	free(f);
	return 0;
}

/* Seeded in main() (test_rng_init). */
static struct xoroshiro128pp rng;

/* Everything freed and trimmed: the page source has every page back. */
static void assert_all_returned(struct fixture *f)
{
	heap_trim(&f->heap);
	assert_int_equal(heap_check(&f->heap), HEAP_CHECK_OK);
	assert_int_equal(f->arena.outstanding, 0);
	assert_int_equal(f->arena.bad_frees, 0);
}

static void test_size_classes(void **state)
{
	static const size_t expect_sizes[HEAP_NCLASSES] = {
		16, 32, 48, 64, 80, 96, 112, 128, 160, 192, 224, 256,
		320, 384, 448, 496, 576, 672, 800, 1008, 1344, 2016,
	};
	struct fixture *f = *state;
	unsigned cls = 0;

	for (size_t size = 1; size <= HEAP_SMALL_MAX; size++) {
		void *p = heap_alloc(&f->heap, size, 0);
		size_t usable;

		assert_non_null(p);
		assert_int_equal((uintptr_t)p % HEAP_MIN_ALIGN, 0);
		assert_int_not_equal((uintptr_t)p % HEAP_PAGE_SIZE, 0);
		usable = heap_usable_size(&f->heap, p);
		/* Exactly the smallest class that fits. */
		while (expect_sizes[cls] < size)
			cls++;
		assert_int_equal(usable, expect_sizes[cls]);
		memset(p, 0x11, usable);
		heap_free(&f->heap, p);
	}
	assert_null(heap_alloc(&f->heap, 0, 0));
	heap_free(&f->heap, NULL);
	assert_all_returned(f);
}

static void test_alignment(void **state)
{
	struct fixture *f = *state;
	static const size_t sizes[] = { 1, 16, 24, 63, 64, 100, 500, 2016, 2017, 9000 };
	void *live[16 * 13 * 10];
	size_t n = 0;

	for (size_t align = 1; align <= HEAP_PAGE_SIZE; align *= 2) {
		for (size_t s = 0; s < ARRAY_SIZE(sizes); s++) {
			for (int k = 0; k < 3; k++) {
				void *p = heap_alloc(&f->heap, sizes[s], align);

				assert_non_null(p);
				assert_int_equal((uintptr_t)p % align, 0);
				assert_true(heap_usable_size(&f->heap, p) >= sizes[s]);
				memset(p, 0x22, sizes[s]);
				if (k == 0)
					live[n++] = p;
				else
					heap_free(&f->heap, p);
			}
		}
	}
	assert_int_equal(heap_check(&f->heap), HEAP_CHECK_OK);
	while (n > 0)
		heap_free(&f->heap, live[--n]);
	/* Invalid alignments are refused, not rounded. */
	assert_null(heap_alloc(&f->heap, 8, 3));
	assert_null(heap_alloc(&f->heap, 8, 2 * HEAP_PAGE_SIZE));
	assert_null(heap_alloc(&f->heap, 8, 48));
	assert_all_returned(f);
}

static void test_large(void **state)
{
	struct fixture *f = *state;
	static const size_t sizes[] = {
		HEAP_SMALL_MAX + 1, HEAP_PAGE_SIZE, HEAP_PAGE_SIZE + 1,
		5 * HEAP_PAGE_SIZE, 100000,
	};
	void *p[ARRAY_SIZE(sizes)];
	size_t pages = 0;

	for (size_t i = 0; i < ARRAY_SIZE(sizes); i++) {
		size_t want = (sizes[i] + HEAP_PAGE_SIZE - 1) / HEAP_PAGE_SIZE;

		p[i] = heap_alloc(&f->heap, sizes[i], 0);
		assert_non_null(p[i]);
		assert_int_equal((uintptr_t)p[i] % HEAP_PAGE_SIZE, 0);
		assert_int_equal(heap_usable_size(&f->heap, p[i]),
				 want * HEAP_PAGE_SIZE);
		memset(p[i], (int)i, sizes[i]);
		pages += want;
	}
	{
		struct heap_stats st;

		heap_stats(&f->heap, &st);
		assert_int_equal(st.large_allocs, ARRAY_SIZE(sizes));
		assert_int_equal(st.large_pages, pages);
	}
	assert_int_equal(heap_check(&f->heap), HEAP_CHECK_OK);
	for (size_t i = 0; i < ARRAY_SIZE(sizes); i++) {
		for (size_t b = 0; b < sizes[i]; b++)
			assert_int_equal(((unsigned char *)p[i])[b], i);
		heap_free(&f->heap, p[i]);
	}
	assert_null(heap_alloc(&f->heap, SIZE_MAX, 0));
	assert_null(heap_alloc(&f->heap, SIZE_MAX - HEAP_PAGE_SIZE, 0));
	assert_all_returned(f);
}

/* ---- the model test --------------------------------------------------- */

struct block {
	unsigned char *p;
	size_t size;
	unsigned char fill;
};

#define MODEL_LIVE_MAX	4000
#define MODEL_OPS	200000
#define MODEL_CHECK_EVERY 2000

static size_t random_size(void)
{
	switch (xoro_below(&rng, 8)) {
	case 0: return 1 + xoro_below(&rng, 16);
	case 1: case 2: case 3: /* timers, tasks */
		return 48 + xoro_below(&rng, 96);
	case 4: case 5: return 1 + xoro_below(&rng, 512);
	case 6: return 1 + xoro_below(&rng, HEAP_SMALL_MAX);
	default: return 1 + xoro_below(&rng, 3 * HEAP_PAGE_SIZE);
	}
}

static void check_block(const struct block *b)
{
	for (size_t i = 0; i < b->size; i++) {
		if (b->p[i] != b->fill) {
			print_error("block %p size %zu: byte %zu is %#x, not %#x\n",
				    (void *)b->p, b->size, i, b->p[i], b->fill);
			fail();
		}
	}
}

static void check_stats(struct fixture *f, const struct block *live, size_t n)
{
	struct heap_stats st;
	size_t objects = 0, bytes = 0;

	for (size_t i = 0; i < n; i++) {
		size_t u = heap_usable_size(&f->heap, live[i].p);

		bytes += u;
		objects += u <= HEAP_SMALL_MAX;
	}
	heap_stats(&f->heap, &st);
	/* One small record per large allocation is in use, too. */
	objects += st.large_allocs;
	bytes += st.large_allocs * 32;
	{
		size_t in_use = 0;

		for (unsigned c = 0; c < st.nclasses; c++)
			in_use += st.classes[c].in_use;
		assert_int_equal(in_use, objects);
	}
	assert_int_equal(st.bytes_in_use, bytes);
	assert_int_equal(st.pages, f->arena.outstanding);
	assert_int_equal(st.bytes_from_pages, st.pages * HEAP_PAGE_SIZE);
	assert_true(st.bytes_in_use + st.bytes_free <= st.bytes_from_pages);
}

static void test_random_model(void **state)
{
	struct fixture *f = *state;
	struct block *live = calloc(MODEL_LIVE_MAX, sizeof(*live));
	size_t n = 0;

	assert_non_null(live);
	for (int op = 0; op < MODEL_OPS; op++) {
		/* Drift between filling up and draining, so slabs empty out. */
		int phase = (op / 20000) % 2;
		bool do_alloc = n == 0 ||
			(n < MODEL_LIVE_MAX &&
			 xoro_below(&rng, 100) < (phase ? 35u : 65u));

		if (do_alloc) {
			struct block *b = &live[n];
			size_t align = xoro_below(&rng, 4) == 0 ?
				       (size_t)1 << xoro_below(&rng, 13) : 0;

			b->size = random_size();
			b->p = heap_alloc(&f->heap, b->size, align);
			assert_non_null(b->p);
			if (align)
				assert_int_equal((uintptr_t)b->p % align, 0);
			assert_int_equal((uintptr_t)b->p % HEAP_MIN_ALIGN, 0);
			assert_true(heap_usable_size(&f->heap, b->p) >= b->size);
			b->fill = (unsigned char)(1 + op % 255);
			memset(b->p, b->fill, b->size);
			n++;
		} else {
			size_t i = xoro_below(&rng, n);

			check_block(&live[i]);
			heap_free(&f->heap, live[i].p);
			live[i] = live[--n];
		}
		if (op % MODEL_CHECK_EVERY == 0) {
			assert_int_equal(heap_check(&f->heap), HEAP_CHECK_OK);
			check_stats(f, live, n);
		}
	}
	/* All blocks still hold their own pattern: none overlapped. */
	for (size_t i = 0; i < n; i++)
		check_block(&live[i]);
	check_stats(f, live, n);
	while (n > 0)
		heap_free(&f->heap, live[--n].p);
	free(live);
	assert_all_returned(f);
}

/* ---- memory returns ---------------------------------------------------- */

#define BURST	20000

static void test_burst_returns_memory(void **state)
{
	struct fixture *f = *state;
	void **objs = calloc(BURST, sizeof(void *));
	size_t peak;

	assert_non_null(objs);
	for (int i = 0; i < BURST; i++) {
		objs[i] = heap_alloc(&f->heap, 64, 0);
		assert_non_null(objs[i]);
	}
	peak = f->arena.outstanding;
	assert_true(peak >= BURST * 64 / HEAP_PAGE_SIZE);
	/* Free in a scattered order, as tasks finish. */
	for (int i = 0; i < BURST; i += 2)
		heap_free(&f->heap, objs[i]);
	for (int i = BURST - 1; i > 0; i -= 2)
		heap_free(&f->heap, objs[i]);
	/* Back to baseline: only the few empty slabs a class keeps. */
	assert_int_equal(f->arena.outstanding, HEAP_EMPTY_KEEP);
	assert_int_equal(heap_trim(&f->heap), HEAP_EMPTY_KEEP);
	assert_int_equal(f->arena.outstanding, 0);
	free(objs);
	assert_all_returned(f);
}

static void test_ping_pong_keeps_one_slab(void **state)
{
	struct fixture *f = *state;
	size_t before;

	/* Alloc/free one object at a page boundary must not hit the source. */
	heap_free(&f->heap, heap_alloc(&f->heap, 100, 0));
	before = f->arena.allocs;
	for (int i = 0; i < 10000; i++)
		heap_free(&f->heap, heap_alloc(&f->heap, 100, 0));
	assert_int_equal(f->arena.allocs, before);
	assert_int_equal(heap_trim(&f->heap), 1);
	assert_all_returned(f);
}

static void test_out_of_memory(void **state)
{
	struct fixture *f = *state;
	void **objs = calloc(ARENA_PAGES * 4, sizeof(void *));
	size_t n = 0;

	assert_non_null(objs);
	f->arena.limit = 40;
	/* A large allocation that cannot get pages leaves nothing behind. */
	assert_null(heap_alloc(&f->heap, 41 * HEAP_PAGE_SIZE, 0));
	assert_int_equal(heap_check(&f->heap), HEAP_CHECK_OK);
	for (;;) {
		void *p = heap_alloc(&f->heap, xoro_below(&rng, 2) ? 200 : 5000, 0);

		if (p == NULL)
			break;
		objs[n++] = p;
		assert_true(n < ARENA_PAGES * 4);
	}
	assert_true(f->arena.outstanding <= 40);
	assert_true(n > 10);
	assert_int_equal(heap_check(&f->heap), HEAP_CHECK_OK);
	while (n > 0)
		heap_free(&f->heap, objs[--n]);
	free(objs);
	f->arena.limit = ARENA_PAGES;
	assert_all_returned(f);
}

/* ---- contract violations ---------------------------------------------- */

static void test_bad_frees_panic(void **state)
{
	struct fixture *f = *state;
	char *a = heap_alloc(&f->heap, 64, 0);
	char *b = heap_alloc(&f->heap, 64, 0);
	char *big = heap_alloc(&f->heap, 3 * HEAP_PAGE_SIZE, 0);
	static _Alignas(HEAP_PAGE_SIZE) char foreign[2 * HEAP_PAGE_SIZE];

	assert_non_null(a);
	assert_non_null(b);
	assert_non_null(big);
	heap_free(&f->heap, a);
	expect_assert_failure(heap_free(&f->heap, a));		/* double free */
	expect_assert_failure(heap_free(&f->heap, b + 8));	/* interior */
	expect_assert_failure(heap_free(&f->heap, foreign + 128));
	expect_assert_failure(heap_free(&f->heap, foreign));	/* page-aligned */
	heap_free(&f->heap, big);
	expect_assert_failure(heap_free(&f->heap, big));	/* large twice */
	expect_assert_failure(heap_usable_size(&f->heap, b + 16));
	/* The heap is still consistent and usable after each refusal. */
	assert_int_equal(heap_check(&f->heap), HEAP_CHECK_OK);
	heap_free(&f->heap, b);
	assert_all_returned(f);
}

/* heap_check() must notice a corrupted slab header. */
static void test_check_detects_corruption(void **state)
{
	struct fixture *f = *state;
	char *p = heap_alloc(&f->heap, 32, 0);
	uint64_t *bits;
	uint32_t *magic;

	assert_non_null(p);
	assert_int_equal(heap_check(&f->heap), HEAP_CHECK_OK);
	/* Header layout: magic, cls/nfree, heap, prev, next, free_bits. */
	magic = (uint32_t *)((uintptr_t)p & ~(uintptr_t)(HEAP_PAGE_SIZE - 1));
	bits = (uint64_t *)((char *)magic + 32);
	bits[0] ^= 1;			/* p's object marked free as well */
	assert_int_equal(heap_check(&f->heap), HEAP_CHECK_BAD_COUNT);
	bits[0] ^= 1;
	*magic ^= 0x100;
	assert_int_equal(heap_check(&f->heap), HEAP_CHECK_BAD_SLAB);
	*magic ^= 0x100;
	assert_int_equal(heap_check(&f->heap), HEAP_CHECK_OK);
	heap_free(&f->heap, p);
	assert_all_returned(f);
}

static void test_stats(void **state)
{
	struct fixture *f = *state;
	struct heap_stats st;
	void *p[10];

	for (int i = 0; i < 10; i++)
		p[i] = heap_alloc(&f->heap, 100, 0);	/* class 112 */
	heap_stats(&f->heap, &st);
	assert_int_equal(st.nclasses, HEAP_NCLASSES);
	for (unsigned c = 0; c < st.nclasses; c++) {
		const struct heap_class_stats *cs = &st.classes[c];

		if (cs->size == 112) {
			assert_int_equal(cs->in_use, 10);
			assert_int_equal(cs->slabs, 1);
			assert_int_equal(cs->per_slab, (HEAP_PAGE_SIZE - 64) / 112);
			assert_int_equal(cs->free, cs->per_slab - 10);
			assert_int_equal(cs->allocs, 10);
		} else {
			assert_int_equal(cs->in_use, 0);
		}
	}
	assert_int_equal(st.bytes_in_use, 10 * 112);
	assert_int_equal(st.pages, 1);
	for (int i = 0; i < 10; i++)
		heap_free(&f->heap, p[i]);
	heap_stats(&f->heap, &st);
	assert_int_equal(st.bytes_in_use, 0);
	assert_all_returned(f);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_size_classes, setup, teardown),
		cmocka_unit_test_setup_teardown(test_alignment, setup, teardown),
		cmocka_unit_test_setup_teardown(test_large, setup, teardown),
		cmocka_unit_test_setup_teardown(test_random_model, setup, teardown),
		cmocka_unit_test_setup_teardown(test_burst_returns_memory, setup, teardown),
		cmocka_unit_test_setup_teardown(test_ping_pong_keeps_one_slab, setup, teardown),
		cmocka_unit_test_setup_teardown(test_out_of_memory, setup, teardown),
		cmocka_unit_test_setup_teardown(test_bad_frees_panic, setup, teardown),
		cmocka_unit_test_setup_teardown(test_check_detects_corruption, setup, teardown),
		cmocka_unit_test_setup_teardown(test_stats, setup, teardown),
	};

	test_rng_init(&rng, 0x9e3779b97f4a7c15ull);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
