/*
 * stress_heap.c - lib/heap.c from several threads at once.
 *
 * Each thread allocates and frees blocks of mixed sizes (mostly the
 * task/timer range, some large), writing a pattern into each.  A quarter
 * of the blocks are handed to whichever thread next swaps the same slot of
 * a shared exchange table, so objects are routinely freed by a thread
 * other than the one that allocated them.  Every block's pattern is checked
 * before it is freed.  At the end: heap_check() passes, the statistics
 * show nothing in use, and every page is back in the arena.  Built with
 * ASan and with TSan; HYPHAE_SOAK=1 runs ten times longer.
 */
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lib/heap.h"
#include "page_arena.h"
#include "tests/support/rng.h"

#define THREADS		4
#define OPS		100000
#define LIVE_MAX	512
#define EXCHANGE_SLOTS	64
#define ARENA_PAGES	8192

/* The first bytes of every block say how to check the rest. */
struct block_hdr {
	size_t size;
	unsigned char fill;
};

static struct page_arena arena;
static struct heap heap;
static _Atomic(struct block_hdr *) exchange[EXCHANGE_SLOTS];
static atomic_ulong failures;
static unsigned long ops_per_thread = OPS;

/* One generator per worker, seeded by main() before the threads start. */
static struct xoroshiro128pp worker_rng[THREADS];

static size_t pick_size(struct xoroshiro128pp *rs)
{
	uint64_t r = xoro_below(rs, 100);

	if (r < 60)
		return 48 + xoro_below(rs, 96);
	if (r < 95)
		return sizeof(struct block_hdr) + xoro_below(rs, HEAP_SMALL_MAX);
	return HEAP_PAGE_SIZE + xoro_below(rs, 2 * HEAP_PAGE_SIZE);
}

static struct block_hdr *block_new(struct xoroshiro128pp *rs)
{
	size_t size = pick_size(rs);
	struct block_hdr *b = heap_alloc(&heap, size, 0);

	if (b == NULL) {
		fprintf(stderr, "stress_heap: out of memory at %zu bytes\n", size);
		atomic_fetch_add_explicit(&failures, 1, memory_order_relaxed);
		return NULL;
	}
	b->size = size;
	b->fill = (unsigned char)(1 + xoro_below(rs, 255));
	memset(b + 1, b->fill, size - sizeof(*b));
	return b;
}

static void block_free(struct block_hdr *b)
{
	const unsigned char *p = (const unsigned char *)(b + 1);

	if (b == NULL)
		return;
	for (size_t i = 0; i < b->size - sizeof(*b); i++) {
		if (p[i] != b->fill) {
			fprintf(stderr, "stress_heap: block %p (size %zu) corrupted at %zu\n",
				(void *)b, b->size, i);
			atomic_fetch_add_explicit(&failures, 1, memory_order_relaxed);
			break;
		}
	}
	heap_free(&heap, b);
}

static void *worker(void *arg)
{
	struct xoroshiro128pp *rs = &worker_rng[(uintptr_t)arg];
	struct block_hdr *live[LIVE_MAX];
	size_t n = 0;

	for (unsigned long op = 0; op < ops_per_thread; op++) {
		uint64_t r = xoro_below(rs, 100);

		if (n == 0 || (r < 50 && n < LIVE_MAX)) {
			struct block_hdr *b = block_new(rs);

			if (b)
				live[n++] = b;
		} else if (r < 75) {
			size_t i = xoro_below(rs, n);
			struct block_hdr *b = live[i];
			unsigned slot = (unsigned)xoro_below(rs, EXCHANGE_SLOTS);

			live[i] = live[--n];
			/* acq_rel: releases b's contents to the thread that takes
			 * it out, acquires the contents of the one we get; pairs
			 * with the same exchange in other threads and the final
			 * drain below. */
			b = atomic_exchange_explicit(&exchange[slot], b,
						     memory_order_acq_rel);
			block_free(b);
		} else {
			size_t i = xoro_below(rs, n);

			block_free(live[i]);
			live[i] = live[--n];
		}
	}
	while (n > 0)
		block_free(live[--n]);
	return NULL;
}

int main(void)
{
	pthread_t t[THREADS];
	struct xoroshiro128pp rng;
	struct heap_pages src;
	struct heap_stats st;
	int err;
	const char *soak = getenv("HYPHAE_SOAK");

	if (soak && *soak && strcmp(soak, "0") != 0)
		ops_per_thread *= 10;
	if (arena_init(&arena, ARENA_PAGES) != 0) {
		fprintf(stderr, "stress_heap: no memory for the arena\n");
		return 1;
	}
	src = arena_pages(&arena);
	heap_init(&heap, &src);
	test_rng_init(&rng, 0x9e3779b97f4a7c15ull);
	for (int i = 0; i < THREADS; i++)
		test_rng_split(&rng, &worker_rng[i]);
	for (uintptr_t i = 0; i < THREADS; i++)
		pthread_create(&t[i], NULL, worker, (void *)i);
	for (int i = 0; i < THREADS; i++)
		pthread_join(t[i], NULL);
	for (int s = 0; s < EXCHANGE_SLOTS; s++)
		block_free(atomic_exchange_explicit(&exchange[s], NULL,
						    memory_order_acquire));

	err = heap_check(&heap);
	heap_stats(&heap, &st);
	heap_trim(&heap);
	printf("stress_heap: %d threads x %lu ops, peak %zu pages\n",
	       THREADS, ops_per_thread, arena.peak);
	if (err != HEAP_CHECK_OK || st.bytes_in_use != 0 ||
	    arena.outstanding != 0 || arena.bad_frees != 0) {
		fprintf(stderr, "stress_heap: check %d, in use %zu, pages left %zu, bad frees %zu\n",
			err, st.bytes_in_use, arena.outstanding, arena.bad_frees);
		atomic_fetch_add_explicit(&failures, 1, memory_order_relaxed);
	}
	arena_destroy(&arena);
	if (atomic_load(&failures) != 0) {
		printf("0 passed, 1 failed\n");
		return 1;
	}
	printf("1 passed, 0 failed\n");
	return 0;
}
