/*
 * test_interval.c - the interval timer on a mock clock: ticks at start,
 * start + period, ... never early, woken by the wheel; after missed ticks
 * BURST catches up one tick per poll on the old schedule, DELAY restarts
 * one period after the late poll, SKIP keeps the phase and drops the
 * missed ones; reset; drop while pending leaves nothing on the wheel.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "errno.h"
#include "timer/interval.h"
#include "timer/timer.h"
#include "tests/support/waker_counter.h"

#define START	1000
#define TICK_NS	10
#define PERIOD	5	/* ticks */

static struct mock_clock mclk;
static struct timer tmr;
static struct counter_cx wk;	/* what the tests poll with */

static int setup(void **state)
{
	(void)state;
	mock_clock_init(&mclk, "mock", TICK_NS, START);
	timer_init(&tmr, &mclk.clock);
	counter_cx_init(&wk, false);
	wk.c.timer = &tmr;
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	assert_int_equal(atomic_load(&wk.c.refs), 0);
	assert_int_equal(atomic_load(&wk.c.woken_locked), 0);
	return 0;
}

/* Poll once: the tick's deadline, or 0 if PENDING. */
static ticks_t tick(struct interval *iv)
{
	ticks_t t = 0;

	return interval_tick(iv, &wk.cx, &t) == POLL_READY ? t : 0;
}

static void test_on_schedule(void **state)
{
	struct interval iv;

	(void)state;
	assert_int_equal(interval_init(&iv, &tmr, 0, INTERVAL_BURST), -EINVAL);
	/* 45 ns on 10 ns ticks: 5 ticks. */
	assert_int_equal(interval_init(&iv, &tmr, PERIOD * TICK_NS - 5, INTERVAL_BURST), 0);
	assert_int_equal(tick(&iv), START);		/* the first at once */
	assert_int_equal(interval_next(&iv), START + PERIOD);
	for (int n = 1; n <= 4; n++) {
		assert_int_equal(tick(&iv), 0);
		assert_int_equal(atomic_load(&wk.c.refs), 1);
		mock_clock_advance(&mclk, PERIOD - 1);
		timer_turn(&tmr);
		assert_int_equal(atomic_load(&wk.c.wakes), n - 1);
		assert_int_equal(tick(&iv), 0);		/* not early */
		mock_clock_advance(&mclk, 1);
		timer_turn(&tmr);
		assert_int_equal(atomic_load(&wk.c.wakes), n);	/* the wheel woke it */
		assert_int_equal(tick(&iv), START + (ticks_t)n * PERIOD);
	}
	interval_drop(&iv);
}

/* Late by 2.4 periods after the tick at START. */
static void poll_late(struct interval *iv, enum interval_missed m)
{
	interval_init_at(iv, &tmr, START, PERIOD, m);
	assert_int_equal(tick(iv), START);
	mock_clock_advance(&mclk, 2 * PERIOD + 2);	/* now START + 12 */
}

static void test_burst(void **state)
{
	struct interval iv;

	(void)state;
	poll_late(&iv, INTERVAL_BURST);
	/* The missed ticks at once, on the old schedule. */
	assert_int_equal(tick(&iv), START + PERIOD);
	assert_int_equal(tick(&iv), START + 2 * PERIOD);
	assert_int_equal(tick(&iv), 0);
	assert_int_equal(interval_next(&iv), START + 3 * PERIOD);
	interval_drop(&iv);
}

static void test_delay(void **state)
{
	struct interval iv;

	(void)state;
	poll_late(&iv, INTERVAL_DELAY);
	assert_int_equal(tick(&iv), START + PERIOD);
	/* One tick for the lot, then a period after that poll. */
	assert_int_equal(tick(&iv), 0);
	assert_int_equal(interval_next(&iv), START + 12 + PERIOD);
	mock_clock_advance(&mclk, PERIOD);
	assert_int_equal(tick(&iv), START + 12 + PERIOD);
	interval_drop(&iv);
}

static void test_skip(void **state)
{
	struct interval iv;

	(void)state;
	poll_late(&iv, INTERVAL_SKIP);
	assert_int_equal(tick(&iv), START + PERIOD);
	/* START + 10 was missed; the phase stays: next is START + 15. */
	assert_int_equal(tick(&iv), 0);
	assert_int_equal(interval_next(&iv), START + 3 * PERIOD);
	/* Exactly on a scheduled tick counts as due, not missed. */
	mock_clock_advance(&mclk, 3);			/* START + 15 */
	assert_int_equal(tick(&iv), START + 3 * PERIOD);
	assert_int_equal(interval_next(&iv), START + 4 * PERIOD);
	interval_drop(&iv);
}

/* Late by less than a period: nothing was missed, whatever the mode. */
static void test_late_within_period(void **state)
{
	enum interval_missed modes[] = { INTERVAL_BURST, INTERVAL_DELAY, INTERVAL_SKIP };

	(void)state;
	for (unsigned i = 0; i < 3; i++) {
		struct interval iv;
		ticks_t t0 = timer_clock_now(&tmr);

		interval_init_at(&iv, &tmr, t0, PERIOD, modes[i]);
		assert_int_equal(tick(&iv), t0);
		mock_clock_advance(&mclk, PERIOD + PERIOD - 1);
		assert_int_equal(tick(&iv), t0 + PERIOD);
		assert_int_equal(interval_next(&iv), t0 + 2 * PERIOD);
		interval_drop(&iv);
	}
}

static void test_reset_and_drop(void **state)
{
	struct interval iv;

	(void)state;
	interval_init_at(&iv, &tmr, START, PERIOD, INTERVAL_SKIP);
	assert_int_equal(tick(&iv), START);
	assert_int_equal(tick(&iv), 0);		/* registered on the wheel */
	assert_int_equal(atomic_load(&wk.c.refs), 1);
	mock_clock_advance(&mclk, 3);
	interval_reset(&iv);			/* drops the pending tick */
	assert_int_equal(atomic_load(&wk.c.refs), 0);
	assert_int_equal(interval_next(&iv), START + 3 + PERIOD);
	assert_int_equal(tick(&iv), 0);
	interval_drop(&iv);
	assert_int_equal(atomic_load(&wk.c.refs), 0);
	mock_clock_advance(&mclk, 10 * PERIOD);
	assert_int_equal(timer_turn(&tmr).fired, 0);	/* nothing left */
	assert_int_equal(atomic_load(&wk.c.wakes), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_on_schedule, setup, teardown),
		cmocka_unit_test_setup_teardown(test_burst, setup, teardown),
		cmocka_unit_test_setup_teardown(test_delay, setup, teardown),
		cmocka_unit_test_setup_teardown(test_skip, setup, teardown),
		cmocka_unit_test_setup_teardown(test_late_within_period, setup, teardown),
		cmocka_unit_test_setup_teardown(test_reset_and_drop, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
