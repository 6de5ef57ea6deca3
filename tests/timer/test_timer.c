/*
 * test_timer.c - the locked timer, sleeps and timeouts on a mock clock,
 * with a hand-made counting waker: sleeps end exactly at their deadline,
 * never early, wake once, are cancelled in O(1) on drop, wake outside the
 * lock; timer_turn's try-lock, batching and re-turn; the global timer;
 * timer_dump's output.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>

#include "arch.h"
#include "errno.h"
#include "tests/support/capture.h"
#include "tests/support/waker_counter.h"
#include "timer/sleep.h"
#include "timer/timer.h"

#define START	1000

static struct mock_clock mclk;
static struct timer tmr;
static struct counter_cx wk;	/* what the tests poll with */

static int setup(void **state)
{
	(void)state;
	mock_clock_init(&mclk, "mock", 10, START);
	timer_init(&tmr, &mclk.clock);
	counter_cx_init(&wk, false);
	wk.c.timer = &tmr;
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	/* No waker reference leaked, none woken under the lock. */
	assert_int_equal(atomic_load(&wk.c.refs), 0);
	assert_int_equal(atomic_load(&wk.c.woken_locked), 0);
	return 0;
}

static void test_sleep_fires_exactly_at_deadline(void **state)
{
	struct sleep s;
	struct timer_turn r;

	(void)state;
	/* 15 ns on 10 ns ticks rounds up to 2 ticks. */
	assert_int_equal(sleep_init_duration(&s, &tmr, 15), 0);
	assert_int_equal(sleep_deadline(&s), START + 2);
	assert_int_equal(sleep_poll(&s, &wk.cx), POLL_PENDING);
	assert_int_equal(atomic_load(&wk.c.refs), 1);
	r = timer_turn(&tmr);
	assert_false(r.busy);
	assert_int_equal(r.fired, 0);
	assert_int_equal(r.next_deadline, START + 2);

	mock_clock_advance(&mclk, 1);
	r = timer_turn(&tmr);
	assert_int_equal(r.fired, 0);
	assert_int_equal(sleep_poll(&s, &wk.cx), POLL_PENDING);
	assert_int_equal(atomic_load(&wk.c.wakes), 0);
	assert_int_equal(atomic_load(&wk.c.refs), 1);	/* same waker kept */

	mock_clock_advance(&mclk, 1);
	r = timer_turn(&tmr);
	assert_int_equal(r.now, START + 2);
	assert_int_equal(r.fired, 1);
	assert_int_equal(r.next_deadline, TIMER_NO_DEADLINE);
	assert_int_equal(timer_next_hint(&tmr), TIMER_NO_DEADLINE);
	assert_int_equal(atomic_load(&wk.c.wakes), 1);
	assert_int_equal(sleep_poll(&s, &wk.cx), POLL_READY);
	assert_int_equal(sleep_poll(&s, &wk.cx), POLL_READY);
	/* Never twice. */
	mock_clock_advance(&mclk, 1000);
	assert_int_equal(timer_turn(&tmr).fired, 0);
	assert_int_equal(atomic_load(&wk.c.wakes), 1);
	sleep_drop(&s);
}

/* The clock passed the deadline before any turn: READY, and no wake. */
static void test_sleep_ready_by_clock_before_turn(void **state)
{
	struct sleep s;

	(void)state;
	sleep_init_deadline(&s, &tmr, START + 50);
	assert_int_equal(sleep_poll(&s, &wk.cx), POLL_PENDING);
	mock_clock_set(&mclk, START + 50);
	assert_int_equal(sleep_poll(&s, &wk.cx), POLL_READY);
	assert_int_equal(atomic_load(&wk.c.refs), 0);
	assert_int_equal(timer_turn(&tmr).fired, 0);
	assert_int_equal(atomic_load(&wk.c.wakes), 0);
	assert_int_equal(timer_wheel_pending(&tmr.wheel), 0);
	sleep_drop(&s);
}

/* A deadline already passed when first polled: READY without the wheel. */
static void test_sleep_in_the_past(void **state)
{
	struct sleep s;

	(void)state;
	sleep_init_deadline(&s, &tmr, START - 5);
	assert_int_equal(sleep_poll(&s, &wk.cx), POLL_READY);
	assert_int_equal(timer_wheel_pending(&tmr.wheel), 0);
	assert_int_equal(atomic_load(&wk.c.refs), 0);
	assert_int_equal(sleep_init_duration(&s, &tmr, 0), 0);
	assert_int_equal(sleep_poll(&s, &wk.cx), POLL_READY);
}

static void test_sleep_duration_overflow(void **state)
{
	struct sleep s;

	(void)state;
	mock_clock_set(&mclk, UINT64_MAX - 5);
	assert_int_equal(sleep_init_duration(&s, &tmr, 50), 0);
	assert_int_equal(sleep_deadline(&s), UINT64_MAX);
	assert_int_equal(sleep_init_duration(&s, &tmr, 61), -ERANGE);
	assert_int_equal(sleep_init_duration(&s, &tmr, UINT64_MAX), -ERANGE);
}

static void test_sleep_drop_cancels(void **state)
{
	struct sleep s;

	(void)state;
	assert_int_equal(sleep_init_duration(&s, &tmr, 1000), 0);
	assert_int_equal(sleep_poll(&s, &wk.cx), POLL_PENDING);
	assert_int_equal(timer_wheel_pending(&tmr.wheel), 1);
	sleep_drop(&s);
	assert_int_equal(timer_wheel_pending(&tmr.wheel), 0);
	assert_int_equal(atomic_load(&wk.c.refs), 0);
	mock_clock_advance(&mclk, 1000);
	assert_int_equal(timer_turn(&tmr).fired, 0);
	assert_int_equal(atomic_load(&wk.c.wakes), 0);
	assert_false(sleep_cancel(&s));
}

/* Polled again by another task: the new waker is woken, the old dropped. */
static void test_sleep_repoll_new_waker(void **state)
{
	struct waker_counter other = { 0 };
	struct waker ow = counter_waker(&other);
	struct context ocx = { &ow };
	struct sleep s;

	(void)state;
	sleep_init_deadline(&s, &tmr, START + 3);
	assert_int_equal(sleep_poll(&s, &wk.cx), POLL_PENDING);
	assert_int_equal(sleep_poll(&s, &ocx), POLL_PENDING);
	assert_int_equal(atomic_load(&wk.c.refs), 0);
	assert_int_equal(atomic_load(&other.refs), 1);
	mock_clock_advance(&mclk, 3);
	assert_int_equal(timer_turn(&tmr).fired, 1);
	assert_int_equal(atomic_load(&wk.c.wakes), 0);
	assert_int_equal(atomic_load(&other.wakes), 1);
	assert_int_equal(atomic_load(&other.refs), 0);
	sleep_drop(&s);
}

/* More due than one batch: one turn fires them all, each once. */
static void test_turn_batches(void **state)
{
	enum { N = TIMER_WAKE_BATCH * 3 + 5 };
	static struct sleep s[N];
	struct timer_turn r;

	(void)state;
	for (int i = 0; i < N; i++) {
		sleep_init_deadline(&s[i], &tmr, START + 10 + i % 3);
		assert_int_equal(sleep_poll(&s[i], &wk.cx), POLL_PENDING);
	}
	mock_clock_advance(&mclk, 20);
	r = timer_turn(&tmr);
	assert_int_equal(r.fired, N);
	assert_int_equal(atomic_load(&wk.c.wakes), N);
	for (int i = 0; i < N; i++) {
		assert_int_equal(sleep_poll(&s[i], &wk.cx), POLL_READY);
		sleep_drop(&s[i]);
	}
}

/* Time passes while waking: the turn goes round again for what came due. */
static struct sleep chained;

static void advance_clock_on_wake(struct waker_counter *c)
{
	(void)c;
	mock_clock_set(&mclk, sleep_deadline(&chained));
}

static void test_turn_repeats_when_clock_passed_next(void **state)
{
	struct sleep first;
	struct timer_turn r;

	(void)state;
	sleep_init_deadline(&first, &tmr, START + 1);
	sleep_init_deadline(&chained, &tmr, START + 5);
	assert_int_equal(sleep_poll(&first, &wk.cx), POLL_PENDING);
	assert_int_equal(sleep_poll(&chained, &wk.cx), POLL_PENDING);
	wk.c.on_wake = advance_clock_on_wake;
	mock_clock_advance(&mclk, 1);
	r = timer_turn(&tmr);
	assert_int_equal(r.fired, 2);
	assert_int_equal(r.now, START + 5);
	assert_int_equal(r.next_deadline, TIMER_NO_DEADLINE);
	wk.c.on_wake = NULL;
	sleep_drop(&first);
	sleep_drop(&chained);
}

static void test_turn_never_spins_on_busy_lock(void **state)
{
	struct sleep s;
	struct timer_turn r;

	(void)state;
	sleep_init_deadline(&s, &tmr, START + 2);
	assert_int_equal(sleep_poll(&s, &wk.cx), POLL_PENDING);
	assert_int_equal(timer_next_hint(&tmr), START + 2);
	/* Nothing due yet: the turn does not even look at the lock. */
	spin_lock(&tmr.lock);
	r = timer_turn(&tmr);
	assert_false(r.busy);
	assert_int_equal(r.now, START);
	assert_int_equal(r.next_deadline, START + 2);
	/* Due, lock taken: gives up at once. */
	mock_clock_advance(&mclk, 5);
	r = timer_turn(&tmr);
	spin_unlock(&tmr.lock);
	assert_true(r.busy);
	assert_int_equal(r.fired, 0);
	assert_int_equal(r.next_deadline, START + 2);	/* the hint */
	assert_int_equal(atomic_load(&wk.c.wakes), 0);
	r = timer_turn(&tmr);
	assert_false(r.busy);
	assert_int_equal(r.fired, 1);
	sleep_drop(&s);
}

static int callback_calls;

static void on_callback(void *arg)
{
	assert_ptr_equal(arg, &tmr);
	assert_false(spin_is_locked(&tmr.lock));
	callback_calls++;
}

static void test_callback_entry(void **state)
{
	struct timer_entry e;

	(void)state;
	callback_calls = 0;
	timer_entry_init_callback(&e, on_callback, &tmr);
	assert_int_equal(timer_insert(&tmr, &e, START + 7), 0);
	mock_clock_advance(&mclk, 7);
	assert_int_equal(timer_turn(&tmr).fired, 1);
	assert_int_equal(callback_calls, 1);
	/* Re-armed from the owner after it fired, then cancelled. */
	assert_int_equal(timer_insert(&tmr, &e, START + 9), 0);
	assert_true(timer_cancel(&tmr, &e));
	assert_false(timer_cancel(&tmr, &e));
	mock_clock_advance(&mclk, 7);
	assert_int_equal(timer_turn(&tmr).fired, 0);
	assert_int_equal(callback_calls, 1);
	assert_int_equal(timer_insert(&tmr, &e, START), -ETIMEDOUT);
}

/* ---- timeout ------------------------------------------------------------ */

struct flag_future {
	bool ready;
	int polls;
};

static enum poll poll_flag(void *arg, struct context *c)
{
	struct flag_future *f = arg;

	(void)c;
	f->polls++;
	return f->ready ? POLL_READY : POLL_PENDING;
}

static void test_timeout_completed(void **state)
{
	struct flag_future f = { false, 0 };
	struct timeout to;

	(void)state;
	assert_int_equal(timeout_init(&to, &tmr, 100, poll_flag, &f), 0);
	assert_int_equal(timeout_poll(&to, &wk.cx), TIMEOUT_PENDING);
	assert_int_equal(timer_wheel_pending(&tmr.wheel), 1);
	f.ready = true;
	assert_int_equal(timeout_poll(&to, &wk.cx), TIMEOUT_COMPLETED);
	assert_int_equal(timer_wheel_pending(&tmr.wheel), 0);	/* cancelled */
	mock_clock_advance(&mclk, 100);
	assert_int_equal(timer_turn(&tmr).fired, 0);
	assert_int_equal(timeout_poll(&to, &wk.cx), TIMEOUT_COMPLETED);
	assert_int_equal(f.polls, 2);			/* sticky */
	timeout_drop(&to);
}

static void test_timeout_elapsed(void **state)
{
	struct flag_future f = { false, 0 };
	struct timeout to;

	(void)state;
	assert_int_equal(timeout_init(&to, &tmr, 100, poll_flag, &f), 0);
	assert_int_equal(timeout_poll(&to, &wk.cx), TIMEOUT_PENDING);
	mock_clock_advance(&mclk, 9);
	assert_int_equal(timer_turn(&tmr).fired, 0);
	assert_int_equal(timeout_poll(&to, &wk.cx), TIMEOUT_PENDING);
	mock_clock_advance(&mclk, 1);
	assert_int_equal(timer_turn(&tmr).fired, 1);
	assert_int_equal(atomic_load(&wk.c.wakes), 1);
	assert_int_equal(timeout_poll(&to, &wk.cx), TIMEOUT_ELAPSED);
	f.ready = true;
	assert_int_equal(timeout_poll(&to, &wk.cx), TIMEOUT_ELAPSED);
	timeout_drop(&to);
}

static void test_timeout_tie_goes_to_the_awaitable(void **state)
{
	struct flag_future f = { true, 0 };
	struct timeout to;

	(void)state;
	assert_int_equal(timeout_init(&to, &tmr, 10, poll_flag, &f), 0);
	mock_clock_advance(&mclk, 1);
	assert_int_equal(timeout_poll(&to, &wk.cx), TIMEOUT_COMPLETED);
	timeout_drop(&to);
}

/* On the host's real CLOCK_MONOTONIC clock: a 2 ms sleep, turned in a
 * loop, is woken once and never before 2 ms have passed. */
static void test_sleep_on_host_clock(void **state)
{
	const struct clock *host = arch_clock();
	static struct timer real;
	struct sleep s;
	ticks_t start;
	uint64_t ns = 0;

	(void)state;
	timer_init(&real, host);
	wk.c.timer = &real;
	start = clock_now(host);
	assert_int_equal(sleep_init_duration(&s, &real, 2000000), 0);
	assert_int_equal(sleep_poll(&s, &wk.cx), POLL_PENDING);
	while (atomic_load(&wk.c.wakes) == 0) {
		struct timer_turn r = timer_turn(&real);

		assert_true(r.fired == 1 || r.next_deadline <= sleep_deadline(&s));
	}
	assert_int_equal(clock_ticks_to_ns(host, clock_now(host) - start, &ns), 0);
	assert_true(ns >= 2000000);
	assert_int_equal(sleep_poll(&s, &wk.cx), POLL_READY);
	assert_int_equal(atomic_load(&wk.c.wakes), 1);
	sleep_drop(&s);
}

/* ---- global timer and helpers ------------------------------------------- */

static void test_global_timer(void **state)
{
	static struct timer other;

	(void)state;
	assert_null(timer_global());
	expect_assert_failure(timer_now());
	assert_int_equal(timer_set_global(&tmr), 0);
	timer_init(&other, &mclk.clock);
	assert_int_equal(timer_set_global(&other), -EBUSY);
	assert_ptr_equal(timer_global(), &tmr);
	assert_int_equal(timer_now(), START);
	assert_int_equal(timer_now_ns(), START * 10);
	mock_clock_advance(&mclk, 7);
	assert_int_equal(timer_elapsed_ns(START), 70);
	assert_int_equal(timer_elapsed_ns(START + 100), 0);
}

static void test_dump(void **state)
{
	const char *dumped = capture_sink_text();
	struct sleep a, b;

	(void)state;
	capture_sink_reset();
	sleep_init_deadline(&a, &tmr, START + 3);
	sleep_init_deadline(&b, &tmr, START + 5000);
	assert_int_equal(sleep_poll(&a, &wk.cx), POLL_PENDING);
	assert_int_equal(sleep_poll(&b, &wk.cx), POLL_PENDING);
	timer_dump(&tmr, capture_sink);
	printf("%s", dumped);
	assert_non_null(strstr(dumped, "clock mock, tick 10 ns, now 1000"));
	assert_non_null(strstr(dumped, "2 pending: L0=1 L1=0 L2=1 L3=0 L4=0 L5=0 expired=0"));
	assert_non_null(strstr(dumped, "next deadline 1003 (in 3 ticks)"));
	sleep_drop(&a);
	sleep_drop(&b);
	capture_sink_reset();
	timer_dump(&tmr, capture_sink);
	assert_non_null(strstr(dumped, "next deadline none"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
#define T(f) cmocka_unit_test_setup_teardown(f, setup, teardown)
		T(test_sleep_fires_exactly_at_deadline),
		T(test_sleep_ready_by_clock_before_turn),
		T(test_sleep_in_the_past),
		T(test_sleep_duration_overflow),
		T(test_sleep_drop_cancels),
		T(test_sleep_repoll_new_waker),
		T(test_turn_batches),
		T(test_turn_repeats_when_clock_passed_next),
		T(test_turn_never_spins_on_busy_lock),
		T(test_callback_entry),
		T(test_timeout_completed),
		T(test_timeout_elapsed),
		T(test_timeout_tie_goes_to_the_awaitable),
		T(test_sleep_on_host_clock),
		T(test_global_timer),
		T(test_dump),
#undef T
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
