/*
 * test_wheel.c - the timer wheel on its own, with hand-picked deadlines:
 * exact firing tick at every level boundary (63, 64, 4095, 4096, ...,
 * 2^36 - 1, beyond the range), deadline order, none early, none twice;
 * cancel before, at and after expiry; re-arm; big jumps; the fire budget;
 * ticks near 2^64; the checker catching corruption.  timer_wheel_check()
 * runs after every step.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>

#include "errno.h"
#include "tests/support/rng.h"
#include "timer/wheel.h"

#define MAX_RECORDS	4096

struct fired {
	struct timer_entry *e;
	ticks_t at;		/* the wheel's now when it fired */
};

struct recorder {
	struct timer_wheel *w;
	size_t n;
	struct fired rec[MAX_RECORDS];
};

static struct timer_wheel wheel;
static struct recorder recorder;

static void record(struct timer_entry *e, void *arg)
{
	struct recorder *r = arg;

	assert_true(r->n < MAX_RECORDS);
	assert_int_equal(atomic_load(&e->state), TIMER_ENTRY_PENDING);
	r->rec[r->n].e = e;
	r->rec[r->n].at = r->w->now;
	r->n++;
}

static size_t advance(ticks_t now)
{
	size_t n = timer_wheel_advance(&wheel, now, SIZE_MAX, record, &recorder);

	timer_wheel_check(&wheel);
	return n;
}

static int setup_at(ticks_t now)
{
	timer_wheel_init(&wheel, now);
	memset(&recorder, 0, sizeof(recorder));
	recorder.w = &wheel;
	return 0;
}

static int setup(void **state)
{
	(void)state;
	return setup_at(0);
}

/* Every boundary of every level, one below and one above, and beyond. */
static const ticks_t boundary_deltas[] = {
	1, 2, 63, 64, 65, 4095, 4096, 4097,
	(1ull << 18) - 1, 1ull << 18, (1ull << 18) + 1,
	(1ull << 24) - 1, 1ull << 24, (1ull << 24) + 1,
	(1ull << 30) - 1, 1ull << 30, (1ull << 30) + 1,
	(1ull << 36) - 1, 1ull << 36, (1ull << 36) + 1,
	3 * (1ull << 36) + 7, (1ull << 40) + 12345,
};

static const ticks_t start_ticks[] = {
	0, 1, 62, 63, 64, 4095, 4096, 123456789,
	(1ull << 36) - 2, (1ull << 36) - 1, (1ull << 36),
	(1ull << 30) * 63 + 5, 0xdeadbeefcafeull,
};

static void test_entry_is_at_most_48_bytes(void **state)
{
	(void)state;
	printf("sizeof(struct timer_entry) = %zu\n", sizeof(struct timer_entry));
	assert_true(sizeof(struct timer_entry) <= 48);
}

/* Jump to d - 1 (nothing), to d (fires, exactly once), then well past. */
static void test_boundary_jumps(void **state)
{
	(void)state;
	for (size_t i = 0; i < ARRAY_SIZE(start_ticks); i++) {
		for (size_t j = 0; j < ARRAY_SIZE(boundary_deltas); j++) {
			struct timer_entry e;
			ticks_t d = start_ticks[i] + boundary_deltas[j];

			setup_at(start_ticks[i]);
			timer_entry_init(&e);
			assert_int_equal(timer_wheel_insert(&wheel, &e, d), 0);
			timer_wheel_check(&wheel);
			assert_true(timer_wheel_next_deadline(&wheel) <= d);
			assert_int_equal(advance(d - 1), 0);
			assert_int_equal(timer_entry_state(&e), TIMER_ENTRY_PENDING);
			assert_true(timer_wheel_next_deadline(&wheel) <= d);
			assert_int_equal(advance(d), 1);
			assert_ptr_equal(recorder.rec[0].e, &e);
			assert_int_equal(recorder.rec[0].at, d);
			assert_int_equal(timer_entry_state(&e), TIMER_ENTRY_FIRED);
			assert_int_equal(advance(d + (1ull << 37)), 0);
			assert_int_equal(timer_wheel_pending(&wheel), 0);
			assert_int_equal(timer_wheel_next_deadline(&wheel),
					 TIMER_NO_DEADLINE);
		}
	}
}

/*
 * An idle core's view: always advance to exactly the next deadline the
 * wheel reports.  Each entry must fire on the step that reaches its
 * deadline, never before, and the chain must reach it in a few steps.
 */
static void test_boundary_next_deadline_chain(void **state)
{
	(void)state;
	for (size_t i = 0; i < ARRAY_SIZE(start_ticks); i++) {
		for (size_t j = 0; j < ARRAY_SIZE(boundary_deltas); j++) {
			struct timer_entry e;
			ticks_t d = start_ticks[i] + boundary_deltas[j];
			unsigned steps = 0;

			setup_at(start_ticks[i]);
			timer_entry_init(&e);
			assert_int_equal(timer_wheel_insert(&wheel, &e, d), 0);
			while (recorder.n == 0) {
				ticks_t next = timer_wheel_next_deadline(&wheel);

				assert_true(next > wheel.now && next <= d);
				advance(next);
				steps++;
				/* one step per level, plus one per 2^36 rotation waited */
				assert_true(steps <= WHEEL_LEVELS + 1 +
					    (boundary_deltas[j] >> WHEEL_RANGE_BITS) * 2);
			}
			assert_int_equal(recorder.n, 1);
			assert_int_equal(recorder.rec[0].at, d);
			assert_int_equal(wheel.now, d);
		}
	}
}

/* All boundaries at once: fired in deadline order, each on its tick. */
static void test_all_boundaries_in_order(void **state)
{
	struct timer_entry e[ARRAY_SIZE(boundary_deltas)];
	ticks_t base = 1000;

	(void)state;
	setup_at(base);
	/* Insert in reverse so order cannot come from insertion order. */
	for (size_t j = ARRAY_SIZE(boundary_deltas); j-- > 0;) {
		timer_entry_init(&e[j]);
		assert_int_equal(timer_wheel_insert(&wheel, &e[j],
						    base + boundary_deltas[j]), 0);
		timer_wheel_check(&wheel);
	}
	while (timer_wheel_next_deadline(&wheel) != TIMER_NO_DEADLINE)
		advance(timer_wheel_next_deadline(&wheel));
	assert_int_equal(recorder.n, ARRAY_SIZE(boundary_deltas));
	for (size_t j = 0; j < ARRAY_SIZE(boundary_deltas); j++) {
		assert_ptr_equal(recorder.rec[j].e, &e[j]);
		assert_int_equal(recorder.rec[j].at, base + boundary_deltas[j]);
	}
}

/* The same entries turned one tick at a time near each boundary. */
static void test_tick_by_tick_near_boundaries(void **state)
{
	const ticks_t deltas[] = { 63, 64, 4095, 4096, 4097, 1 << 12 | 63 };
	struct timer_entry e[ARRAY_SIZE(deltas)];

	(void)state;
	setup_at(0);
	for (size_t j = 0; j < ARRAY_SIZE(deltas); j++) {
		timer_entry_init(&e[j]);
		assert_int_equal(timer_wheel_insert(&wheel, &e[j], deltas[j]), 0);
	}
	for (ticks_t t = 1; t <= 5000; t++)
		advance(t);
	assert_int_equal(recorder.n, ARRAY_SIZE(deltas));
	for (size_t j = 0; j < ARRAY_SIZE(deltas); j++)
		assert_int_equal(recorder.rec[j].at, deltas[j]);
}

static void test_insert_due_is_rejected(void **state)
{
	struct timer_entry e;

	(void)state;
	setup_at(500);
	timer_entry_init(&e);
	assert_int_equal(timer_wheel_insert(&wheel, &e, 500), -ETIMEDOUT);
	assert_int_equal(timer_wheel_insert(&wheel, &e, 0), -ETIMEDOUT);
	assert_int_equal(timer_entry_state(&e), TIMER_ENTRY_IDLE);
	assert_int_equal(timer_wheel_pending(&wheel), 0);
	assert_int_equal(timer_wheel_insert(&wheel, &e, 501), 0);
	assert_int_equal(timer_wheel_pending(&wheel), 1);
	timer_wheel_check(&wheel);
}

static void test_cancel_before_at_after(void **state)
{
	struct timer_entry before, at, after, other;

	(void)state;
	timer_entry_init(&before);
	timer_entry_init(&at);
	timer_entry_init(&after);
	timer_entry_init(&other);
	assert_int_equal(timer_wheel_insert(&wheel, &before, 5000), 0);
	assert_int_equal(timer_wheel_insert(&wheel, &at, 6000), 0);
	assert_int_equal(timer_wheel_insert(&wheel, &after, 7000), 0);
	assert_int_equal(timer_wheel_insert(&wheel, &other, 6000), 0);

	/* Before: long before its slot comes round. */
	advance(100);
	assert_true(timer_wheel_cancel(&wheel, &before));
	assert_int_equal(timer_entry_state(&before), TIMER_ENTRY_IDLE);
	assert_false(timer_wheel_cancel(&wheel, &before));	/* twice: no-op */
	timer_wheel_check(&wheel);

	/* At: due and expired, but its firing was deferred (budget 0). */
	assert_int_equal(timer_wheel_advance(&wheel, 6000, 0, record, &recorder), 0);
	timer_wheel_check(&wheel);
	assert_int_equal(timer_wheel_pending_level(&wheel, WHEEL_LEVELS), 2);
	assert_true(timer_wheel_next_deadline(&wheel) <= wheel.now);
	assert_true(timer_wheel_cancel(&wheel, &at));
	timer_wheel_check(&wheel);
	assert_int_equal(advance(6000), 1);
	assert_ptr_equal(recorder.rec[0].e, &other);

	/* After: fired, so cancel reports it was no longer pending. */
	advance(7000);
	assert_int_equal(recorder.n, 2);
	assert_false(timer_wheel_cancel(&wheel, &after));
	assert_int_equal(timer_entry_state(&after), TIMER_ENTRY_FIRED);
	advance(1ull << 40);
	assert_int_equal(recorder.n, 2);
}

/* Cancelling from the middle, head and tail of a slot and of expired. */
static void test_cancel_positions(void **state)
{
	struct timer_entry e[5];

	(void)state;
	for (int i = 0; i < 5; i++) {
		timer_entry_init(&e[i]);
		assert_int_equal(timer_wheel_insert(&wheel, &e[i], 40), 0);
	}
	assert_true(timer_wheel_cancel(&wheel, &e[2]));
	assert_true(timer_wheel_cancel(&wheel, &e[4]));	/* list head */
	assert_true(timer_wheel_cancel(&wheel, &e[0]));	/* list tail */
	timer_wheel_check(&wheel);
	assert_int_equal(timer_wheel_advance(&wheel, 40, 0, record, &recorder), 0);
	assert_true(timer_wheel_cancel(&wheel, &e[1]));	/* expired tail */
	timer_wheel_check(&wheel);
	assert_true(timer_wheel_cancel(&wheel, &e[3]));	/* last one */
	timer_wheel_check(&wheel);
	assert_int_equal(timer_wheel_pending(&wheel), 0);
	assert_int_equal(timer_wheel_next_deadline(&wheel), TIMER_NO_DEADLINE);
	assert_int_equal(advance(100), 0);
}

static void test_rearm(void **state)
{
	struct timer_entry e;
	volatile int rc = 0;

	(void)state;
	timer_entry_init(&e);
	assert_int_equal(timer_wheel_insert(&wheel, &e, 10), 0);
	advance(10);
	assert_int_equal(recorder.n, 1);
	/* Re-arm after firing. */
	assert_int_equal(timer_wheel_insert(&wheel, &e, 5000), 0);
	advance(4999);
	assert_int_equal(recorder.n, 1);
	/* Re-arm after cancelling, to an earlier and then a later tick. */
	assert_true(timer_wheel_cancel(&wheel, &e));
	assert_int_equal(timer_wheel_insert(&wheel, &e, 5001), 0);
	assert_true(timer_wheel_cancel(&wheel, &e));
	assert_int_equal(timer_wheel_insert(&wheel, &e, 1ull << 33), 0);
	advance(5001);
	assert_int_equal(recorder.n, 1);
	advance(1ull << 33);
	assert_int_equal(recorder.n, 2);
	assert_int_equal(recorder.rec[1].at, 1ull << 33);
	/* Inserting a pending entry is a contract violation. */
	assert_int_equal(timer_wheel_insert(&wheel, &e, (1ull << 33) + 1), 0);
	expect_assert_failure(rc = timer_wheel_insert(&wheel, &e, (1ull << 33) + 2));
	assert_int_equal(rc, 0);
	timer_wheel_check(&wheel);
}

/* One turn that jumps 2^50 ticks: everything fires, in order. */
static void test_big_jump(void **state)
{
	static struct timer_entry e[1000];
	struct xoroshiro128pp rng;

	(void)state;
	test_rng_init(&rng, 88172645463325252ull);
	for (int i = 0; i < 1000; i++) {
		/* Deadlines from 1 to 2^50, of every magnitude. */
		ticks_t d = 1 + (xoro_next(&rng) >> (14 + i % 40));

		timer_entry_init(&e[i]);
		assert_int_equal(timer_wheel_insert(&wheel, &e[i], d), 0);
	}
	timer_wheel_check(&wheel);
	assert_int_equal(advance(1ull << 50), 1000);
	for (int i = 1; i < 1000; i++)
		assert_true(recorder.rec[i - 1].e->deadline <= recorder.rec[i].e->deadline);
	assert_int_equal(timer_wheel_pending(&wheel), 0);
	/* A jump never fires an entry later than it: 2^50 + 5 waits. */
	timer_entry_init(&e[0]);
	assert_int_equal(timer_wheel_insert(&wheel, &e[0], (1ull << 50) + 5), 0);
	assert_int_equal(advance((1ull << 50) + 4), 0);
	assert_int_equal(advance(UINT64_MAX - 1000), 1);
}

/* The budget: due entries beyond it stay expired and fire first later. */
static void test_fire_budget_keeps_order(void **state)
{
	static struct timer_entry same[100], later[10];

	(void)state;
	for (int i = 0; i < 100; i++) {
		timer_entry_init(&same[i]);
		assert_int_equal(timer_wheel_insert(&wheel, &same[i], 4096), 0);
	}
	for (int i = 0; i < 10; i++) {
		timer_entry_init(&later[i]);
		assert_int_equal(timer_wheel_insert(&wheel, &later[i], 5000 + i), 0);
	}
	assert_int_equal(timer_wheel_advance(&wheel, 4096, 7, record, &recorder), 7);
	timer_wheel_check(&wheel);
	assert_int_equal(timer_wheel_next_deadline(&wheel), 4096);
	while (recorder.n < 100)
		assert_true(timer_wheel_advance(&wheel, 6000, 7, record, &recorder) > 0);
	timer_wheel_check(&wheel);
	for (size_t i = 0; i < 100; i++)
		assert_int_equal(recorder.rec[i].e->deadline, 4096);
	while (timer_wheel_advance(&wheel, 6000, 3, record, &recorder))
		timer_wheel_check(&wheel);
	assert_int_equal(recorder.n, 110);
	for (size_t i = 100; i < 110; i++)
		assert_int_equal(recorder.rec[i].e->deadline, 5000 + (i - 100));
}

/* The wheel close to 2^64: no slot arithmetic may wrap. */
static void test_near_end_of_time(void **state)
{
	struct timer_entry e[3];
	ticks_t base = UINT64_MAX - (1ull << 37);

	(void)state;
	setup_at(base);
	timer_entry_init(&e[0]);
	timer_entry_init(&e[1]);
	timer_entry_init(&e[2]);
	assert_int_equal(timer_wheel_insert(&wheel, &e[0], UINT64_MAX - 1), 0);
	assert_int_equal(timer_wheel_insert(&wheel, &e[1], base + 64), 0);
	assert_int_equal(timer_wheel_insert(&wheel, &e[2], base + (1ull << 36) + 3), 0);
	timer_wheel_check(&wheel);
	while (timer_wheel_next_deadline(&wheel) != TIMER_NO_DEADLINE)
		advance(timer_wheel_next_deadline(&wheel));
	assert_int_equal(recorder.n, 3);
	assert_int_equal(recorder.rec[0].at, base + 64);
	assert_int_equal(recorder.rec[1].at, base + (1ull << 36) + 3);
	assert_int_equal(recorder.rec[2].at, UINT64_MAX - 1);
}

static void test_counts_per_level(void **state)
{
	struct timer_entry e[WHEEL_LEVELS + 1];

	(void)state;
	for (unsigned l = 0; l <= WHEEL_LEVELS; l++) {
		timer_entry_init(&e[l]);
		/* 1, 64, 4096, ... : one entry per level, the last beyond. */
		assert_int_equal(timer_wheel_insert(&wheel, &e[l],
						    1ull << (l * WHEEL_SLOT_BITS)), 0);
	}
	for (unsigned l = 0; l < WHEEL_LEVELS - 1; l++)
		assert_int_equal(timer_wheel_pending_level(&wheel, l), 1);
	assert_int_equal(timer_wheel_pending_level(&wheel, WHEEL_LEVELS - 1), 2);
	assert_int_equal(timer_wheel_pending_level(&wheel, WHEEL_LEVELS), 0);
	assert_int_equal(timer_wheel_pending(&wheel), WHEEL_LEVELS + 1);
	assert_int_equal(timer_wheel_next_deadline(&wheel), 1);
}

static void test_check_catches_corruption(void **state)
{
	struct timer_entry e;

	(void)state;
	timer_entry_init(&e);
	assert_int_equal(timer_wheel_insert(&wheel, &e, 100), 0);
	timer_wheel_check(&wheel);
	/* A deadline moved behind the wheel's back: wrong slot. */
	e.deadline = 3;
	expect_assert_failure(timer_wheel_check(&wheel));
	e.deadline = 100;
	timer_wheel_check(&wheel);
	/* A bitmap bit with no list behind it. */
	wheel.occupied[0] |= 1;
	expect_assert_failure(timer_wheel_check(&wheel));
	wheel.occupied[0] &= ~1ull;
	/* A count that disagrees with the lists. */
	wheel.pending[2]++;
	expect_assert_failure(timer_wheel_check(&wheel));
	wheel.pending[2]--;
	timer_wheel_check(&wheel);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_entry_is_at_most_48_bytes),
		cmocka_unit_test(test_boundary_jumps),
		cmocka_unit_test(test_boundary_next_deadline_chain),
		cmocka_unit_test(test_all_boundaries_in_order),
		cmocka_unit_test(test_tick_by_tick_near_boundaries),
		cmocka_unit_test(test_insert_due_is_rejected),
		cmocka_unit_test_setup(test_cancel_before_at_after, setup),
		cmocka_unit_test_setup(test_cancel_positions, setup),
		cmocka_unit_test_setup(test_rearm, setup),
		cmocka_unit_test_setup(test_big_jump, setup),
		cmocka_unit_test_setup(test_fire_budget_keeps_order, setup),
		cmocka_unit_test(test_near_end_of_time),
		cmocka_unit_test_setup(test_counts_per_level, setup),
		cmocka_unit_test_setup(test_check_catches_corruption, setup),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
