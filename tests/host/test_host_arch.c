/*
 * test_host_arch.c - the host implementation of arch.h behaves like the
 * kernel's where portable code relies on it: a wakeup sent before the wait
 * is remembered, a burst of wakeups is one, the armed one-shot timer ends a
 * wait at its deadline and disarms, per-core data is per thread.
 */
#define _GNU_SOURCE
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "arch.h"
#include "timer/clock.h"

static void test_wake_before_wait_is_remembered(void **state)
{
	(void)state;
	arch_cpu_bind(3);
	arch_wake(3);
	arch_irq_disable();
	arch_wait_for_interrupt();	/* returns at once: the wakeup was pending */
	assert_int_equal(arch_cpu_index(), 3);
}

static void test_burst_of_wakes_is_one(void **state)
{
	const struct clock *clk = arch_clock();
	ticks_t start, end;

	(void)state;
	arch_cpu_bind(4);
	for (int i = 0; i < 100; i++)
		arch_wake(4);
	arch_wait_for_interrupt();
	/* The second wait must block until the timer: 20 ms from now. */
	start = clock_now(clk);
	arch_timer_arm(start + 20 * 1000 * 1000 / clk->tick_ns);
	arch_wait_for_interrupt();
	end = clock_now(clk);
	assert_true(end - start >= 20 * 1000 * 1000 / clk->tick_ns);
}

static void test_timer_in_past_returns_at_once_and_disarms(void **state)
{
	const struct clock *clk = arch_clock();

	(void)state;
	arch_cpu_bind(5);
	arch_timer_arm(clock_now(clk) - 1);
	arch_wait_for_interrupt();
	/* Disarmed now: only a wake ends the next wait. */
	arch_wake(5);
	arch_wait_for_interrupt();
}

struct waiter_arg {
	unsigned index;
	atomic_int woke;
};

static void *waiter(void *p)
{
	struct waiter_arg *a = p;

	arch_cpu_bind(a->index);
	arch_set_cpu_local(a);
	arch_wait_for_interrupt();
	assert_ptr_equal(arch_cpu_local(), a);
	atomic_store(&a->woke, 1);
	return NULL;
}

static void test_wake_from_other_thread(void **state)
{
	struct waiter_arg a = { .index = 7 };
	pthread_t t;

	(void)state;
	arch_set_cpu_local(NULL);
	assert_int_equal(pthread_create(&t, NULL, waiter, &a), 0);
	arch_wake(7);
	assert_int_equal(pthread_join(t, NULL), 0);
	assert_int_equal(atomic_load(&a.woke), 1);
	/* The waiter's per-core pointer was its own. */
	assert_null(arch_cpu_local());
}

static void test_clock_is_monotonic(void **state)
{
	const struct clock *clk = arch_clock();
	ticks_t prev = clock_now(clk);

	(void)state;
	assert_int_equal(clk->tick_ns, 1);
	for (int i = 0; i < 10000; i++) {
		ticks_t now = clock_now(clk);

		assert_true(now >= prev);
		prev = now;
	}
}

static void test_bad_index_panics(void **state)
{
	(void)state;
	expect_assert_failure(arch_wake(512));
	expect_assert_failure(arch_cpu_bind(100000));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_wake_before_wait_is_remembered),
		cmocka_unit_test(test_burst_of_wakes_is_one),
		cmocka_unit_test(test_timer_in_past_returns_at_once_and_disarms),
		cmocka_unit_test(test_wake_from_other_thread),
		cmocka_unit_test(test_clock_is_monotonic),
		cmocka_unit_test(test_bad_index_panics),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
