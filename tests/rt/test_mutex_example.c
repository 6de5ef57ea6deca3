/*
 * test_mutex_example.c - README's mutex example
 * (examples/mutex_across_sleep.h) on a runtime of two host cores with the global timer: three writers hold the device's
 * lock across their 10 ms sleeps one after another (so the three take at
 * least 30 ms, and each write happens alone), and a writer cancelled
 * while it waits or holds the lock lets go of it without a write.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "tests/support/rt_harness.h"
#include "examples/mutex_across_sleep.h"

#define WRITERS		3
#define NAP_MS		10

static struct harness h;

static void join_all(struct join_handle *jh, int n)
{
	uint64_t end = h_now_ms() + 10000;

	for (int i = 0; i < n; i++) {
		while (join_poll(&jh[i], &(struct context){ NULL }, NULL, 0) ==
		       POLL_PENDING) {
			struct timespec ts = { 0, 1000000 };

			assert_true(h_now_ms() < end);
			nanosleep(&ts, NULL);
		}
	}
}

static void test_writers_take_turns(void **state)
{
	struct device dev = { .writes = 0 };
	struct join_handle jh[WRITERS];
	uint64_t t0 = h_now_ms();

	(void)state;
	mutex_init(&dev.lock);
	for (int i = 0; i < WRITERS; i++)
		assert_int_equal(writer_spawn(h.rt, &dev, &jh[i]), 0);
	join_all(jh, WRITERS);
	assert_int_equal(dev.writes, WRITERS);
	/* The lock was held across each sleep: they could not overlap. */
	assert_true(h_now_ms() - t0 >= WRITERS * NAP_MS);
	assert_false(mutex_is_locked(&dev.lock));
	for (int i = 0; i < WRITERS; i++)
		assert_int_equal(jh[i].result, JOIN_OK);
}

/*
 * Cancelling a writer, queued or holding the lock: its write never
 * happens and the lock goes on to the others.  The test thread holds the
 * lock while the writers queue, so every writer is queued however slowly
 * the cores run (a loaded machine must not change what is tested).
 */
static void cancel_one(int victim, bool holding)
{
	struct device dev = { .writes = 0 };
	struct join_handle jh[WRITERS];
	uint64_t end = h_now_ms() + 10000;

	mutex_init(&dev.lock);
	assert_true(mutex_try_lock(&dev.lock));
	for (int i = 0; i < WRITERS; i++)
		assert_int_equal(writer_spawn(h.rt, &dev, &jh[i]), 0);
	while (semaphore_waiters(&dev.lock.sem) < WRITERS)
		assert_true(h_now_ms() < end);
	if (!holding)
		assert_true(join_cancel(&jh[victim]));
	mutex_unlock(&dev.lock);	/* handed to the first writer */
	if (holding) {
		/* The first writer holds it across its 10 ms sleep. */
		while (semaphore_waiters(&dev.lock.sem) > WRITERS - 1)
			assert_true(h_now_ms() < end);
		assert_true(join_cancel(&jh[victim]));
	}
	join_all(jh, WRITERS);
	assert_int_equal(jh[victim].result, JOIN_CANCELLED);
	assert_int_equal(dev.writes, WRITERS - 1);
	assert_false(mutex_is_locked(&dev.lock));
	assert_int_equal(semaphore_waiters(&dev.lock.sem), 0);
}

static void test_cancel_queued(void **state)
{
	(void)state;
	cancel_one(WRITERS - 1, false);
}

static void test_cancel_holding(void **state)
{
	(void)state;
	cancel_one(0, true);
}

static int setup(void **state)
{
	(void)state;
	h_start(&h, 2);
	return rt_set_global(h.rt);
}

static int teardown(void **state)
{
	(void)state;
	h_stop(&h);
	return 0;
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_writers_take_turns),
		cmocka_unit_test(test_cancel_queued),
		cmocka_unit_test(test_cancel_holding),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
