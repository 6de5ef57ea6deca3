/*
 * test_sleep_tasks.c - sleeps and timeouts awaited by real tasks on the
 * host scheduler (sched/).
 *
 * On a mock clock, one thread: tasks sleeping across every low level
 * boundary complete exactly on their deadline tick; a timeout around a
 * child task's join reports ELAPSED or COMPLETED at the right tick and
 * cancels its sleep; cancelling a sleeping task removes its sleep from the
 * wheel (drop_state) and frees it.  On the real host clock, two threads
 * each tick their own scheduler and turn one shared timer: sleeps
 * registered on one core are fired by either, and none ends early.
 */
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>

#include "arch.h"
#include "sched/scheduler.h"
#include "sched/task.h"
#include "tests/support/rng.h"
#include "tests/support/waker_counter.h"
#include "timer/sleep.h"

static struct mock_clock mclk;
static struct timer tmr;
static struct scheduler sched;
static atomic_int live;		/* sleeper tasks not yet deallocated */

/* ---- a task that sleeps once and reports when it woke -------------------- */

struct sleeper {
	struct task task;
	unsigned pt;
	struct sleep sleep;	/* deadline fixed at spawn */
	ticks_t started;
	ticks_t ticks;		/* the sleep's length */
	ticks_t woke_at;	/* output */
};

static enum poll sleeper_poll(struct task *t, struct context *cx)
{
	struct sleeper *s = container_of(t, struct sleeper, task);

	TASK_BEGIN(s->pt);
	TASK_AWAIT(sleep_poll(&s->sleep, cx));
	s->woke_at = timer_clock_now(s->sleep.timer);
	TASK_END;
}

static void sleeper_drop_state(struct task *t)
{
	sleep_drop(&container_of(t, struct sleeper, task)->sleep);
}

static void sleeper_deallocate(struct task *t)
{
	(void)t;
	atomic_fetch_sub(&live, 1);
}

static const struct task_vtable sleeper_vt = {
	.poll = sleeper_poll,
	.deallocate = sleeper_deallocate,
	.drop_state = sleeper_drop_state,
	TASK_OUTPUT(struct sleeper, woke_at),
	.name = "sleeper",
};

static void spawn_sleeper(struct scheduler *s, struct timer *t, ticks_t ticks,
			  struct join_handle *jh)
{
	struct sleeper init;

	memset(&init, 0, sizeof(init));
	init.started = timer_clock_now(t);
	init.ticks = ticks;
	sleep_init_deadline(&init.sleep, t, init.started + ticks);
	atomic_fetch_add(&live, 1);
	assert_int_equal(sched_spawn(s, &sleeper_vt, &init, sizeof(init), jh), 0);
}

/* Run every runnable task, then move the mock clock one tick. */
static void run_tick(void)
{
	while (sched_tick(&sched).has_remaining)
		;
	mock_clock_advance(&mclk, 1);
	timer_turn(&tmr);
	while (sched_tick(&sched).has_remaining)
		;
}

static int setup(void **state)
{
	(void)state;
	mock_clock_init(&mclk, "mock", 1, 100);
	timer_init(&tmr, &mclk.clock);
	sched_init(&sched, 0, NULL);
	atomic_store(&live, 0);
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	assert_int_equal(atomic_load(&live), 0);
	assert_int_equal(timer_wheel_pending(&tmr.wheel), 0);
	assert_int_equal(sched_queued(&sched), 0);
	return 0;
}

static void test_tasks_wake_on_their_tick(void **state)
{
	static const ticks_t lengths[] = { 1, 2, 63, 64, 65, 127, 4095, 4096, 4097 };
	struct join_handle jh[ARRAY_SIZE(lengths)];
	struct waker_counter wc = { 0 };
	struct waker w = counter_waker(&wc);
	struct context cx = { &w };

	(void)state;
	for (size_t i = 0; i < ARRAY_SIZE(lengths); i++)
		spawn_sleeper(&sched, &tmr, lengths[i], &jh[i]);
	for (ticks_t t = 0; t < 4100; t++) {
		run_tick();
		for (size_t i = 0; i < ARRAY_SIZE(lengths); i++) {
			ticks_t woke = 0;

			/* Not done before its deadline, done on it. */
			if (jh[i].task == NULL)
				continue;
			if (100 + t + 1 < 100 + lengths[i]) {
				assert_false(join_is_finished(&jh[i]));
				continue;
			}
			assert_int_equal(join_poll(&jh[i], &cx, &woke, sizeof(woke)),
					 POLL_READY);
			assert_int_equal(jh[i].result, JOIN_OK);
			assert_int_equal(woke, 100 + lengths[i]);
		}
	}
	for (size_t i = 0; i < ARRAY_SIZE(lengths); i++)
		assert_null(jh[i].task);
	assert_int_equal(atomic_load(&wc.refs), 0);
}

/* ---- a task that awaits a child's join under a timeout ------------------- */

struct waiter {
	struct task task;
	unsigned pt;
	struct timeout to;
	struct join_handle child;
	ticks_t child_out;
	int result;		/* output: enum timeout_result */
};

static enum poll waiter_join(void *arg, struct context *cx)
{
	struct waiter *w = arg;

	return join_poll(&w->child, cx, &w->child_out, sizeof(w->child_out));
}

static enum poll waiter_poll(struct task *t, struct context *cx)
{
	struct waiter *w = container_of(t, struct waiter, task);

	TASK_BEGIN(w->pt);
	/* The timeout's argument is this task's own storage, fixed now. */
	w->to.arg = w;
	TASK_AWAIT(timeout_poll(&w->to, cx) == TIMEOUT_PENDING ?
		   POLL_PENDING : POLL_READY);
	w->result = w->to.result;
	TASK_END;
}

static void waiter_drop_state(struct task *t)
{
	struct waiter *w = container_of(t, struct waiter, task);

	timeout_drop(&w->to);
	/* A child that outlived the timeout is cancelled, not leaked. */
	join_cancel(&w->child);
	join_drop(&w->child);
}

static const struct task_vtable waiter_vt = {
	.poll = waiter_poll,
	.drop_state = waiter_drop_state,
	TASK_OUTPUT(struct waiter, result),
	.name = "waiter",
};

/* Child sleeps `child_ticks`, the timeout is `limit` ticks. */
static void run_timeout(ticks_t child_ticks, ticks_t limit, int expect,
			ticks_t expect_at)
{
	struct waiter init;
	struct join_handle jh;
	struct waker_counter wc = { 0 };
	struct waker w = counter_waker(&wc);
	struct context cx = { &w };
	int result = -1;

	memset(&init, 0, sizeof(init));
	spawn_sleeper(&sched, &tmr, child_ticks, &init.child);
	assert_int_equal(timeout_init(&init.to, &tmr, limit, waiter_join, NULL), 0);
	assert_int_equal(sched_spawn(&sched, &waiter_vt, &init, sizeof(init), &jh), 0);
	while (!join_is_finished(&jh)) {
		run_tick();
		assert_true(timer_clock_now(&tmr) <= expect_at);
	}
	assert_int_equal(timer_clock_now(&tmr), expect_at);
	assert_int_equal(join_poll(&jh, &cx, &result, sizeof(result)), POLL_READY);
	assert_int_equal(result, expect);
	/* Let a cancelled child's remains go; nothing may be left behind. */
	for (int i = 0; i < 3; i++)
		run_tick();
}

static void test_timeout_elapses_before_child(void **state)
{
	(void)state;
	run_timeout(300, 50, TIMEOUT_ELAPSED, 100 + 50);
}

static void test_timeout_child_completes_first(void **state)
{
	(void)state;
	run_timeout(30, 50, TIMEOUT_COMPLETED, 100 + 30);
	/* The timeout's own sleep was cancelled when the child won. */
	assert_int_equal(timer_wheel_pending(&tmr.wheel), 0);
}

static void test_cancel_sleeping_task(void **state)
{
	struct join_handle jh;
	struct waker_counter wc = { 0 };
	struct waker w = counter_waker(&wc);
	struct context cx = { &w };
	ticks_t woke;

	(void)state;
	spawn_sleeper(&sched, &tmr, 1000, &jh);
	run_tick();
	assert_int_equal(timer_wheel_pending(&tmr.wheel), 1);
	assert_true(join_cancel(&jh));
	run_tick();
	/* drop_state took the sleep out: the wheel no longer holds the
	 * task's waker, so the task is freed now, not at its deadline. */
	assert_int_equal(timer_wheel_pending(&tmr.wheel), 0);
	assert_int_equal(join_poll(&jh, &cx, &woke, sizeof(woke)), POLL_READY);
	assert_int_equal(jh.result, JOIN_CANCELLED);
	assert_int_equal(atomic_load(&live), 0);
}

/* ---- two threads, two schedulers, one timer on the real clock ------------ */

#define THREADS		2
#define TASKS_PER_THREAD 200
#define MAX_SLEEP_NS	2000000u

static struct timer host_timer;
static struct scheduler scheds[THREADS];
static atomic_int done_tasks, early_tasks;
static struct xoroshiro128pp core_rng[THREADS];	/* seeded before start */

struct timed {
	struct task task;
	unsigned pt;
	struct sleep sleep;
	ticks_t started;
	uint64_t ns;
};

static enum poll timed_poll(struct task *t, struct context *cx)
{
	struct timed *s = container_of(t, struct timed, task);
	uint64_t ns = 0;

	TASK_BEGIN(s->pt);
	TASK_AWAIT(sleep_poll(&s->sleep, cx));
	if (clock_ticks_to_ns(host_timer.clock,
			      timer_clock_now(&host_timer) - s->started, &ns) ||
	    ns < s->ns)
		atomic_fetch_add(&early_tasks, 1);
	atomic_fetch_add(&done_tasks, 1);
	TASK_END;
}

static void timed_drop_state(struct task *t)
{
	sleep_drop(&container_of(t, struct timed, task)->sleep);
}

static const struct task_vtable timed_vt = {
	.poll = timed_poll,
	.drop_state = timed_drop_state,
	.name = "timed",
};

static void *core_main(void *arg)
{
	unsigned idx = (unsigned)(uintptr_t)arg;

	for (int i = 0; i < TASKS_PER_THREAD; i++) {
		struct timed init;

		memset(&init, 0, sizeof(init));
		init.ns = xoro_below(&core_rng[idx], MAX_SLEEP_NS);
		init.started = timer_clock_now(&host_timer);
		if (sleep_init_duration(&init.sleep, &host_timer, init.ns) ||
		    sched_spawn(&scheds[idx], &timed_vt, &init, sizeof(init), NULL))
			return (void *)1;
	}
	/* The main loop, minus idling: tick, turn, until everyone is done. */
	while (atomic_load(&done_tasks) < THREADS * TASKS_PER_THREAD) {
		sched_tick(&scheds[idx]);
		timer_turn(&host_timer);
	}
	while (sched_tick(&scheds[idx]).has_remaining)
		;
	return NULL;
}

static void test_two_cores_real_clock(void **state)
{
	pthread_t th[THREADS];
	struct xoroshiro128pp rng;

	(void)state;
	timer_init(&host_timer, arch_clock());
	test_rng_init(&rng, 0x9e3779b97f4a7c15ull);
	for (unsigned i = 0; i < THREADS; i++) {
		sched_init(&scheds[i], i, NULL);
		test_rng_split(&rng, &core_rng[i]);
	}
	for (unsigned i = 0; i < THREADS; i++)
		assert_int_equal(pthread_create(&th[i], NULL, core_main,
						(void *)(uintptr_t)i), 0);
	for (unsigned i = 0; i < THREADS; i++) {
		void *ret;

		assert_int_equal(pthread_join(th[i], &ret), 0);
		assert_null(ret);
	}
	assert_int_equal(atomic_load(&done_tasks), THREADS * TASKS_PER_THREAD);
	assert_int_equal(atomic_load(&early_tasks), 0);
	assert_int_equal(timer_wheel_pending(&host_timer.wheel), 0);
	timer_wheel_check(&host_timer.wheel);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
#define T(f) cmocka_unit_test_setup_teardown(f, setup, teardown)
		T(test_tasks_wake_on_their_tick),
		T(test_timeout_elapses_before_child),
		T(test_timeout_child_completes_first),
		T(test_cancel_sleeping_task),
		cmocka_unit_test(test_two_cores_real_clock),
#undef T
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
