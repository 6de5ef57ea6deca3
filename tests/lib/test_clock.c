/*
 * test_clock.c - duration conversions round up and never wrap; the mock
 * clock moves only when told, never backwards.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "errno.h"
#include "clock.h"

static void test_ns_to_ticks_rounds_up(void **state)
{
	struct mock_clock m;
	ticks_t t = 77;

	(void)state;
	mock_clock_init(&m, "mock", 10, 0);
	assert_int_equal(clock_ns_to_ticks(&m.clock, 0, &t), 0);
	assert_int_equal(t, 0);
	assert_int_equal(clock_ns_to_ticks(&m.clock, 1, &t), 0);
	assert_int_equal(t, 1);
	assert_int_equal(clock_ns_to_ticks(&m.clock, 10, &t), 0);
	assert_int_equal(t, 1);
	assert_int_equal(clock_ns_to_ticks(&m.clock, 11, &t), 0);
	assert_int_equal(t, 2);
	/* The largest ns still rounds up without wrapping. */
	assert_int_equal(clock_ns_to_ticks(&m.clock, UINT64_MAX, &t), 0);
	assert_int_equal(t, UINT64_MAX / 10 + 1);
}

static void test_ns_to_ticks_respects_max(void **state)
{
	struct mock_clock m;
	ticks_t t = 77;

	(void)state;
	mock_clock_init(&m, "mock", 1000, 0);
	m.clock.max_ticks = 5;
	assert_int_equal(clock_ns_to_ticks(&m.clock, 5000, &t), 0);
	assert_int_equal(t, 5);
	assert_int_equal(clock_ns_to_ticks(&m.clock, 5001, &t), -ERANGE);
	assert_int_equal(t, 5);		/* untouched on error */
}

static void test_ticks_to_ns_overflow(void **state)
{
	struct mock_clock m;
	uint64_t ns = 0;

	(void)state;
	mock_clock_init(&m, "mock", 3, 0);
	assert_int_equal(clock_ticks_to_ns(&m.clock, 7, &ns), 0);
	assert_int_equal(ns, 21);
	assert_int_equal(clock_ticks_to_ns(&m.clock, UINT64_MAX / 3, &ns), 0);
	assert_int_equal(clock_ticks_to_ns(&m.clock, UINT64_MAX / 3 + 1, &ns),
			 -ERANGE);
}

static void test_deadline_after_rejects_wrap(void **state)
{
	struct mock_clock m;
	ticks_t d = 0;

	(void)state;
	mock_clock_init(&m, "mock", 1, 0);
	assert_int_equal(clock_deadline_after(&m.clock, 100, 50, &d), 0);
	assert_int_equal(d, 150);
	assert_int_equal(clock_deadline_after(&m.clock, UINT64_MAX - 10, 10, &d), 0);
	assert_int_equal(d, UINT64_MAX);
	assert_int_equal(clock_deadline_after(&m.clock, UINT64_MAX - 10, 11, &d),
			 -ERANGE);
	assert_int_equal(d, UINT64_MAX);
}

static void test_mock_clock_moves_by_hand(void **state)
{
	struct mock_clock m;

	(void)state;
	mock_clock_init(&m, "mock", 1, 40);
	assert_int_equal(clock_now(&m.clock), 40);
	assert_int_equal(clock_now(&m.clock), 40);
	mock_clock_advance(&m, 2);
	assert_int_equal(clock_now(&m.clock), 42);
	mock_clock_set(&m, 100);
	assert_int_equal(clock_now(&m.clock), 100);
	expect_assert_failure(mock_clock_set(&m, 99));
	assert_int_equal(clock_now(&m.clock), 100);
	mock_clock_advance(&m, UINT64_MAX);	/* saturates */
	assert_int_equal(clock_now(&m.clock), UINT64_MAX);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_ns_to_ticks_rounds_up),
		cmocka_unit_test(test_ns_to_ticks_respects_max),
		cmocka_unit_test(test_ticks_to_ns_overflow),
		cmocka_unit_test(test_deadline_after_rejects_wrap),
		cmocka_unit_test(test_mock_clock_moves_by_hand),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
