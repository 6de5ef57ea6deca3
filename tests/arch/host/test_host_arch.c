/*
 * test_host_arch.c - the host implementation of arch.h behaves like the
 * kernel's where portable code relies on it: a wakeup sent before the wait
 * is remembered, a burst of wakeups is one, the armed one-shot timer ends a
 * wait at its deadline and disarms, per-core data is per thread.  And the
 * halt polling the host adds: a wakeup or the timer ends a polling wait, a
 * poll that runs out sleeps and is still woken, KVM's rule sets its length.
 */
#define _GNU_SOURCE
#include <pthread.h>
#include <sched.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>
#include <cmocka.h>

#include "arch.h"
#include "arch/host/cpu.h"
#include "clock.h"
#include "config.h"

struct late_wake {
	unsigned index;
	long delay_ms;
};

static void *wake_later(void *p)
{
	struct late_wake *w = p;
	struct timespec ts = { w->delay_ms / 1000, (w->delay_ms % 1000) * 1000000L };

	nanosleep(&ts, NULL);
	arch_wake(w->index);
	return NULL;
}

/* Wait (on the core this thread is bound to) with a poll of `poll_ns`
 * while another thread wakes `index` after `delay_ms`; returns how long
 * the wait took (ns).  The clock starts before that thread does, so the
 * wake comes at least delay_ms after it, however the threads are run. */
static uint64_t wait_woken_after(unsigned index, uint64_t poll_ns, long delay_ms)
{
	const struct clock *clk = arch_clock();
	struct late_wake w = { index, delay_ms };
	pthread_t t;
	ticks_t start = clock_now(clk);

	assert_int_equal(pthread_create(&t, NULL, wake_later, &w), 0);
	host_halt_poll_set(poll_ns);
	arch_wait_for_interrupt();
	start = clock_now(clk) - start;
	assert_int_equal(pthread_join(t, NULL), 0);
	return start * clk->tick_ns;
}

/* Since `before`, this thread's waits ended `polled` times in the poll
 * and `slept` times after a sleep. */
static void assert_waits_since(struct host_poll_stats before, uint64_t polled,
			       uint64_t slept)
{
	struct host_poll_stats now = host_halt_poll_stats();

	assert_int_equal(now.polled, before.polled + polled);
	assert_int_equal(now.slept, before.slept + slept);
}

/* Longer than any of these waits may take, shorter than a hang. */
#define WATCHDOG_NS	(5 * NS_PER_SEC)
/* "At once": well under the watchdog, however loaded the host. */
#define AT_ONCE_NS	NS_PER_SEC

static void test_wake_before_wait_is_remembered(void **state)
{
	const struct clock *clk = arch_clock();
	struct host_poll_stats before = host_halt_poll_stats();
	ticks_t start;

	(void)state;
	arch_cpu_bind(3);
	host_halt_poll_set(0);		/* the futex path, no poll */
	arch_wake(3);
	arch_irq_disable();
	/* The wakeup is pending: the wait returns at once, long before the
	 * watchdog timer that ends it if the wakeup was lost. */
	start = clock_now(clk);
	arch_timer_arm(start + WATCHDOG_NS / clk->tick_ns);
	arch_wait_for_interrupt();
	assert_true((clock_now(clk) - start) * clk->tick_ns < AT_ONCE_NS);
	assert_int_equal(arch_cpu_index(), 3);
	/* It consumed the wakeup: the next wait lasts until its timer. */
	host_halt_poll_set(0);
	start = clock_now(clk);
	arch_timer_arm(start + 20 * NS_PER_MS / clk->tick_ns);
	arch_wait_for_interrupt();
	assert_true((clock_now(clk) - start) * clk->tick_ns >= 20 * NS_PER_MS);
	assert_waits_since(before, 0, 2);
	host_halt_poll_set(0);
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
	ticks_t start;

	(void)state;
	arch_cpu_bind(5);
	host_halt_poll_set(0);
	start = clock_now(clk);
	arch_timer_arm(start - 1);
	arch_wait_for_interrupt();
	assert_true((clock_now(clk) - start) * clk->tick_ns < AT_ONCE_NS);
	/* Disarmed now: only the wake 20 ms in ends the next wait. */
	assert_true(wait_woken_after(5, 0, 20) >= 20 * NS_PER_MS);
	host_halt_poll_set(0);
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

static void test_poll_rule(void **state)
{
	(void)state;
	host_halt_poll_set(0);
	host_halt_poll_adapt(1000);		/* short, not polled: start */
	assert_int_equal(host_halt_poll_ns(), HOST_POLL_START_NS);
	host_halt_poll_adapt(HOST_POLL_START_NS);	/* caught by the poll */
	assert_int_equal(host_halt_poll_ns(), HOST_POLL_START_NS);
	host_halt_poll_adapt(HOST_POLL_START_NS + 1);	/* missed, short */
	assert_int_equal(host_halt_poll_ns(), 2 * HOST_POLL_START_NS);
	for (int i = 0; i < 10; i++)
		host_halt_poll_adapt(HOST_POLL_MAX_NS);
	assert_int_equal(host_halt_poll_ns(), HOST_POLL_MAX_NS);	/* capped */
	host_halt_poll_adapt(HOST_POLL_MAX_NS + 1);	/* long: halve */
	assert_int_equal(host_halt_poll_ns(), HOST_POLL_MAX_NS / 2);
	host_halt_poll_adapt(10 * HOST_POLL_MAX_NS);
	assert_int_equal(host_halt_poll_ns(), HOST_POLL_MAX_NS / 4);
	host_halt_poll_adapt(10 * HOST_POLL_MAX_NS);	/* below the start: off */
	assert_int_equal(host_halt_poll_ns(), 0);
	host_halt_poll_adapt(10 * HOST_POLL_MAX_NS);
	assert_int_equal(host_halt_poll_ns(), 0);
}

static void test_poll_catches_a_wake(void **state)
{
	struct host_poll_stats before = host_halt_poll_stats();
	uint64_t took;

	(void)state;
	arch_cpu_bind(10);
	/* A 5 s poll: the wake 2 ms in ends it, however loaded the host. */
	took = wait_woken_after(10, 5000000000ull, 2);
	assert_waits_since(before, 1, 0);
	assert_true(took >= 2000000ull && took < 5000000000ull);
	/* The poll consumed the wake: the next wait lasts until a new one. */
	took = wait_woken_after(10, 0, 20);
	assert_true(took >= 20000000ull);
	assert_waits_since(before, 1, 1);
}

static void test_poll_runs_out_then_sleeps_and_is_woken(void **state)
{
	struct host_poll_stats before = host_halt_poll_stats();

	(void)state;
	arch_cpu_bind(11);
	/* A 1 ms poll runs out long before the wake 200 ms in. */
	assert_true(wait_woken_after(11, 1000000ull, 200) >= 200000000ull);
	assert_waits_since(before, 0, 1);
	/* A long wait: the rule halves the poll. */
	assert_int_equal(host_halt_poll_ns(), 500000ull);
	host_halt_poll_set(0);
}

static void test_poll_ends_at_the_timer(void **state)
{
	const struct clock *clk = arch_clock();
	struct host_poll_stats before = host_halt_poll_stats();
	ticks_t start;

	(void)state;
	arch_cpu_bind(12);
	host_halt_poll_set(5000000000ull);
	start = clock_now(clk);
	arch_timer_arm(start + 3 * 1000 * 1000 / clk->tick_ns);
	arch_wait_for_interrupt();
	assert_true(clock_now(clk) - start >= 3 * 1000 * 1000 / clk->tick_ns);
	assert_waits_since(before, 1, 0);
	/* The poll disarmed the timer: only the wake 20 ms in ends the next
	 * wait (an armed past deadline would end it at once). */
	assert_true(wait_woken_after(12, 0, 20) >= 20000000ull);
	assert_waits_since(before, 1, 1);
	/* A deadline already past ends a polling wait, not its 5 s poll. */
	host_halt_poll_set(5000000000ull);
	start = clock_now(clk);
	arch_timer_arm(start - 1);
	arch_wait_for_interrupt();
	assert_true((clock_now(clk) - start) * clk->tick_ns < 1000000000ull);
	assert_waits_since(before, 2, 1);
	host_halt_poll_set(0);
}

/* A thread bound to core `index` that stays bound until `go` is set. */
struct held_bind {
	unsigned index;
	atomic_bool *go;
	atomic_uint *bound;
};

static void *hold_bind(void *arg)
{
	struct held_bind *h = arg;

	arch_cpu_bind(h->index);
	atomic_fetch_add(h->bound, 1);
	while (!atomic_load(h->go))
		sched_yield();
	return NULL;
}

static void test_oversubscribed_is_counted(void **state)
{
	struct held_bind h[MAX_CORES];
	pthread_t t[MAX_CORES];
	atomic_bool go = false;
	atomic_uint bound = 0;
	struct host_poll_stats before;
	cpu_set_t set;
	unsigned cpus, n;

	(void)state;
	arch_cpu_bind(13);
	assert_int_equal(sched_getaffinity(0, sizeof(set), &set), 0);
	cpus = (unsigned)CPU_COUNT(&set);
	/* This thread and `cpus` more: one thread more than CPUs. */
	n = cpus < MAX_CORES - 20 ? cpus : MAX_CORES - 20;
	assert_false(host_oversubscribed());
	for (unsigned i = 0; i < n; i++) {
		h[i] = (struct held_bind){ 20 + i, &go, &bound };
		assert_int_equal(pthread_create(&t[i], NULL, hold_bind, &h[i]), 0);
	}
	while (atomic_load(&bound) < n)
		sched_yield();
	assert_true(host_oversubscribed());
	/* The wait still polls (yielding between looks): the wake 2 ms in
	 * ends its 5 s poll. */
	before = host_halt_poll_stats();
	assert_true(wait_woken_after(13, 5000000000ull, 2) >= 2000000ull);
	assert_waits_since(before, 1, 0);
	atomic_store(&go, true);
	for (unsigned i = 0; i < n; i++)
		assert_int_equal(pthread_join(t[i], NULL), 0);
	/* Their exits uncount them. */
	assert_false(host_oversubscribed());
	host_halt_poll_set(0);
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
		cmocka_unit_test(test_oversubscribed_is_counted),
		cmocka_unit_test(test_poll_rule),
		cmocka_unit_test(test_poll_catches_a_wake),
		cmocka_unit_test(test_poll_runs_out_then_sleeps_and_is_woken),
		cmocka_unit_test(test_poll_ends_at_the_timer),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
