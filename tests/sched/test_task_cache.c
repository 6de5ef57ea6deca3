/*
 * test_task_cache.c - unit tests for task storage (sched/task_cache.h).
 *
 * One thread, so every path is deterministic: classes, LIFO reuse in a
 * core's magazines, the spare magazine, full magazines moving to and from
 * the depot, single blocks for threads without a cache, an interrupt
 * handler that interrupted the owner mid-call, the depot's cap,
 * drain and trim, the byte counts, ASan poisoning of cached blocks and a
 * double free.  Then the scheduler's use of it: a heap task spawned and
 * completed on its owner comes back as the next spawn's storage, and a
 * task bigger than the largest class takes kmalloc.
 */
#include <setjmp.h>
#include <stdatomic.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "sched/scheduler.h"
#include "sched/task_cache.h"

#if defined(__SANITIZE_ADDRESS__)
#include <sanitizer/asan_interface.h>
#define HAVE_ASAN 1
#else
#define HAVE_ASAN 0
#endif

#define MAG		TASK_CACHE_MAG_SIZE
#define UNIT		TASK_CACHE_UNIT

static struct task_cache cache;

static int setup(void **state)
{
	(void)state;
	task_cache_depot_trim();
	task_cache_init(&cache);
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	task_cache_drain(&cache);
	task_cache_depot_trim();
	assert_int_equal(task_cache_depot_bytes(), 0);
	return 0;
}

static void test_classes(void **state)
{
	(void)state;
	assert_int_equal(task_cache_class(0), 0);
	assert_int_equal(task_cache_class(1), 1);
	/* The header is two lines (sched/task.h). */
	assert_int_equal(task_cache_class(sizeof(struct task)), 2);
	assert_int_equal(task_cache_class(UNIT), 1);
	assert_int_equal(task_cache_class(UNIT + 1), 2);
	assert_int_equal(task_cache_class(3 * UNIT), 3);
	assert_int_equal(task_cache_class(TASK_CACHE_CLASSES * UNIT),
			 TASK_CACHE_CLASSES);
	assert_int_equal(task_cache_class(TASK_CACHE_CLASSES * UNIT + 1), 0);
}

static void test_alignment_and_size(void **state)
{
	(void)state;
	for (unsigned cls = 1; cls <= TASK_CACHE_CLASSES; cls++) {
		unsigned char *p = task_cache_alloc(&cache, cls);

		assert_non_null(p);
		assert_int_equal((uintptr_t)p % UNIT, 0);
		/* The whole class is usable (ASan checks the bound). */
		memset(p, 0xa5, cls * UNIT);
		task_cache_free(&cache, p, cls);
		/* One block of each class so far is cached. */
		assert_int_equal(task_cache_bytes(&cache),
				 cls * (cls + 1) / 2 * UNIT);
	}
}

static void test_lifo_reuse(void **state)
{
	void *a, *b;

	(void)state;
	a = task_cache_alloc(&cache, 1);
	b = task_cache_alloc(&cache, 1);
	assert_ptr_not_equal(a, b);
	task_cache_free(&cache, a, 1);
	task_cache_free(&cache, b, 1);
	assert_int_equal(task_cache_bytes(&cache), 2 * UNIT);
	/* Last in, first out: the warmest block first. */
	assert_ptr_equal(task_cache_alloc(&cache, 1), b);
	assert_ptr_equal(task_cache_alloc(&cache, 1), a);
	assert_int_equal(task_cache_bytes(&cache), 0);
	/* Classes do not mix. */
	task_cache_free(&cache, a, 1);
	task_cache_free(&cache, b, 1);
	a = task_cache_alloc(&cache, 2);
	assert_ptr_not_equal(a, b);
	task_cache_free(&cache, a, 2);
	assert_int_equal(task_cache_bytes(&cache), 4 * UNIT);
}

/*
 * An interrupt handler on the owner's core that comes while the owner is
 * inside an alloc or free (busy set) must leave the magazines alone: its
 * free goes to the depot, its alloc comes from there.  Every call leaves
 * the flag clear.
 */
static void test_interrupted_owner_uses_depot(void **state)
{
	void *a, *b;

	(void)state;
	a = task_cache_alloc(&cache, 1);
	b = task_cache_alloc(&cache, 1);
	assert_false(atomic_load(&cache.busy));
	task_cache_free(&cache, a, 1);
	assert_false(atomic_load(&cache.busy));
	assert_int_equal(cache.loaded[0].count, 1);
	assert_int_equal(task_cache_bytes(&cache), UNIT);

	atomic_store(&cache.busy, true);	/* the owner is mid-call */
	task_cache_free(&cache, b, 1);
	assert_int_equal(cache.loaded[0].count, 1);
	assert_int_equal(cache.spare[0].count, 0);
	assert_int_equal(task_cache_bytes(&cache), UNIT);
	assert_int_equal(task_cache_depot_bytes(), UNIT);
	/* An alloc in that state takes the depot's block, not a's. */
	assert_ptr_equal(task_cache_alloc(&cache, 1), b);
	assert_int_equal(cache.loaded[0].count, 1);
	assert_int_equal(task_cache_depot_bytes(), 0);
	assert_true(atomic_load(&cache.busy));	/* still the owner's */
	atomic_store(&cache.busy, false);

	task_cache_free(&cache, b, 1);
	assert_int_equal(cache.loaded[0].count, 2);
	assert_int_equal(task_cache_bytes(&cache), 2 * UNIT);
}

/* Fill a core's two magazines and one more: a full one goes to the depot,
 * and an empty core takes it back whole. */
static void test_magazines_through_depot(void **state)
{
	void *blocks[2 * MAG + 1];
	struct task_cache other;

	(void)state;
	for (unsigned i = 0; i < 2 * MAG + 1; i++)
		blocks[i] = task_cache_alloc(&cache, 1);
	assert_int_equal(task_cache_depot_bytes(), 0);
	for (unsigned i = 0; i < 2 * MAG; i++)
		task_cache_free(&cache, blocks[i], 1);
	/* Loaded and spare full, nothing in the depot yet. */
	assert_int_equal(task_cache_bytes(&cache), 2 * MAG * UNIT);
	assert_int_equal(task_cache_depot_bytes(), 0);
	task_cache_free(&cache, blocks[2 * MAG], 1);
	assert_int_equal(task_cache_depot_bytes(), MAG * UNIT);
	assert_int_equal(task_cache_bytes(&cache), (MAG + 1) * UNIT);

	/* Another core, empty, gets that magazine in one go. */
	task_cache_init(&other);
	blocks[0] = task_cache_alloc(&other, 1);
	assert_int_equal(task_cache_depot_bytes(), 0);
	assert_int_equal(task_cache_bytes(&other), (MAG - 1) * UNIT);
	task_cache_free(&other, blocks[0], 1);
	task_cache_drain(&other);
	assert_int_equal(task_cache_bytes(&other), 0);
	assert_int_equal(task_cache_depot_bytes(), MAG * UNIT);
}

/* A thread without a cache takes and gives single blocks at the depot;
 * MAG loose blocks become a magazine a core can take. */
static void test_no_cache_thread(void **state)
{
	void *blocks[MAG];

	(void)state;
	for (unsigned i = 0; i < MAG; i++)
		blocks[i] = task_cache_alloc(NULL, 2);
	for (unsigned i = 0; i < MAG; i++) {
		task_cache_free(NULL, blocks[i], 2);
		assert_int_equal(task_cache_depot_bytes(), (i + 1) * 2 * UNIT);
	}
	/* The depot's blocks come back, last freed first. */
	assert_ptr_equal(task_cache_alloc(NULL, 2), blocks[MAG - 1]);
	task_cache_free(NULL, blocks[MAG - 1], 2);
	/* A core takes the whole magazine. */
	blocks[0] = task_cache_alloc(&cache, 2);
	assert_int_equal(task_cache_depot_bytes(), 0);
	assert_int_equal(task_cache_bytes(&cache), (MAG - 1) * 2 * UNIT);
	task_cache_free(&cache, blocks[0], 2);
}

/* The depot never holds more than its cap; the rest goes to kmalloc. */
static void test_depot_cap(void **state)
{
	unsigned cls = TASK_CACHE_CLASSES;
	size_t n = TASK_CACHE_DEPOT_BYTES / (cls * UNIT) + 2 * MAG;
	void **blocks = calloc(n, sizeof(*blocks));

	(void)state;
	assert_non_null(blocks);
	for (size_t i = 0; i < n; i++)
		assert_non_null(blocks[i] = task_cache_alloc(NULL, cls));
	for (size_t i = 0; i < n; i++) {
		task_cache_free(NULL, blocks[i], cls);
		assert_true(task_cache_depot_bytes() <= TASK_CACHE_DEPOT_BYTES);
	}
	assert_int_equal(task_cache_depot_bytes(), TASK_CACHE_DEPOT_BYTES);
	/* A core at the cap keeps its own magazines and frees the rest. */
	for (size_t i = 0; i < n; i++)
		blocks[i] = task_cache_alloc(NULL, cls);
	for (size_t i = 0; i < n; i++)
		task_cache_free(&cache, blocks[i], cls);
	assert_true(task_cache_depot_bytes() <= TASK_CACHE_DEPOT_BYTES);
	assert_true(task_cache_bytes(&cache) <= 2 * MAG * cls * UNIT);
	free(blocks);
	task_cache_depot_trim();
	assert_int_equal(task_cache_depot_bytes(), 0);
}

/* After drain a core's cache is off: its blocks are in the depot, and
 * later calls with it take the depot path. */
static void test_drain_disables(void **state)
{
	void *a, *b;

	(void)state;
	a = task_cache_alloc(&cache, 3);
	b = task_cache_alloc(&cache, 3);
	task_cache_free(&cache, a, 3);
	assert_int_equal(task_cache_bytes(&cache), 3 * UNIT);
	task_cache_drain(&cache);
	assert_int_equal(task_cache_bytes(&cache), 0);
	assert_int_equal(task_cache_depot_bytes(), 3 * UNIT);
	task_cache_free(&cache, b, 3);
	assert_int_equal(task_cache_bytes(&cache), 0);
	assert_int_equal(task_cache_depot_bytes(), 2 * 3 * UNIT);
	assert_ptr_equal(task_cache_alloc(&cache, 3), b);
	assert_int_equal(task_cache_depot_bytes(), 3 * UNIT);
	task_cache_free(&cache, b, 3);
}

static void test_bad_calls_panic(void **state)
{
	void *p;

	(void)state;
	expect_assert_failure(task_cache_alloc(&cache, 0));
	expect_assert_failure(task_cache_alloc(&cache, TASK_CACHE_CLASSES + 1));
	p = task_cache_alloc(&cache, 1);
	expect_assert_failure(task_cache_free(&cache, (char *)p + 16, 1));
	expect_assert_failure(task_cache_free(&cache, NULL, 1));
	task_cache_free(&cache, p, 1);
}

#if HAVE_ASAN
/* Poisoning exists only under ASan, which `make test` builds this with. */
static void test_asan_poisons_cached_blocks(void **state)
{
	(void)state;
	{
		unsigned char *p = task_cache_alloc(&cache, 2);

		assert_false(__asan_region_is_poisoned(p, 2 * UNIT));
		task_cache_free(&cache, p, 2);
		/* Every byte of a cached block is poisoned but its two link
		 * words at the end of the first line (the header's fields
		 * before them stay poisoned)... */
		for (unsigned i = 0; i < 2 * UNIT; i++)
			assert_true(__asan_address_is_poisoned(p + i) ==
				    (i < UNIT - 16 || i >= UNIT));
		assert_true(__asan_address_is_poisoned(
			&((struct task *)p)->state));
		/* ...so a second free is caught... */
		expect_assert_failure(task_cache_free(&cache, p, 2));
		/* ...also at the depot. */
		expect_assert_failure(task_cache_free(NULL, p, 2));
		/* Handed out again, it is whole. */
		assert_ptr_equal(task_cache_alloc(&cache, 2), p);
		assert_null(__asan_region_is_poisoned(p, 2 * UNIT));
		task_cache_free(&cache, p, 2);
	}
}
#endif

/* ---- the scheduler's use ---------------------------------------------- */

static bool owner_yes(void *arg)
{
	(void)arg;
	return true;
}

static enum poll ready_poll(struct task *t, struct context *cx)
{
	(void)t;
	(void)cx;
	return POLL_READY;
}

static const struct task_vtable ready_vt = { .poll = ready_poll };

struct big_task {
	struct task task;
	char payload[TASK_CACHE_CLASSES * UNIT];
};

static void test_scheduler_reuses_storage(void **state)
{
	struct scheduler s;
	struct join_handle jh = JOIN_HANDLE_NONE;
	struct task *first;

	(void)state;
	sched_init(&s, 0, &(struct sched_hooks){ .on_owner = owner_yes });
	assert_int_equal(sched_spawn(&s, &ready_vt, NULL, sizeof(struct task),
				     &jh), 0);
	first = jh.task;
	assert_int_equal(task_state_load(first) & TASK_HEAP_CLASS_MASK,
			 2ull << TASK_HEAP_CLASS_SHIFT);
	assert_int_equal(sched_tick(&s).completed, 1);
	join_drop(&jh);
	/* Freed into s's cache on the owner, and handed to the next spawn. */
	assert_int_equal(task_cache_bytes(&s.cache), 2 * UNIT);
	assert_int_equal(sched_spawn(&s, &ready_vt, NULL, sizeof(struct task),
				     &jh), 0);
	assert_ptr_equal(jh.task, first);
	assert_int_equal(task_cache_bytes(&s.cache), 0);
	assert_int_equal(sched_tick(&s).completed, 1);
	join_drop(&jh);

	/* Too big for a class: kmalloc, class 0, never cached. */
	assert_int_equal(sched_spawn(&s, &ready_vt, NULL, sizeof(struct big_task),
				     &jh), 0);
	assert_int_equal(task_state_load(jh.task) & TASK_HEAP_CLASS_MASK, 0);
	assert_true(task_state_load(jh.task) & TASK_HEAP);
	assert_int_equal(sched_tick(&s).completed, 1);
	join_drop(&jh);
	assert_int_equal(task_cache_bytes(&s.cache), 2 * UNIT);
	sched_cache_drain(&s);
	assert_int_equal(task_cache_depot_bytes(), 2 * UNIT);
}

/* Without an owner (no on_owner hook, or the injector) tasks go through
 * the depot. */
static void test_injector_uses_depot(void **state)
{
	struct scheduler s;
	struct join_handle jh = JOIN_HANDLE_NONE;
	struct task *first;

	(void)state;
	sched_init(&s, 0, NULL);
	assert_int_equal(sched_spawn(&s, &ready_vt, NULL, 2 * UNIT, &jh), 0);
	first = jh.task;
	assert_int_equal(sched_tick(&s).completed, 1);
	join_drop(&jh);
	assert_int_equal(task_cache_bytes(&s.cache), 0);
	assert_int_equal(task_cache_depot_bytes(), 2 * UNIT);
	assert_int_equal(sched_spawn(&s, &ready_vt, NULL, 2 * UNIT, &jh), 0);
	assert_ptr_equal(jh.task, first);
	assert_int_equal(task_cache_depot_bytes(), 0);
	assert_int_equal(sched_tick(&s).completed, 1);
	join_drop(&jh);
}

#define T(f) cmocka_unit_test_setup_teardown(f, setup, teardown)

int main(void)
{
	const struct CMUnitTest tests[] = {
		T(test_classes),
		T(test_alignment_and_size),
		T(test_lifo_reuse),
		T(test_magazines_through_depot),
		T(test_interrupted_owner_uses_depot),
		T(test_no_cache_thread),
		T(test_depot_cap),
		T(test_drain_disables),
		T(test_bad_calls_panic),
#if HAVE_ASAN
		T(test_asan_poisons_cached_blocks),
#endif
		T(test_scheduler_reuses_storage),
		T(test_injector_uses_depot),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
