/*
 * test_wait_map.c - the keyed wait map: wake reaches exactly the waiter
 * on its key with its value, a second wake (or one nobody waits for) is
 * refused and the value stays with the caller, duplicates are refused,
 * subscribe-then-wake keeps an early value, keys colliding in one bucket
 * stay apart, cancellation at every state, close with waiters.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "errno.h"
#include "sched/wait_map.h"
#include "task_util.h"
#include "tests/support/waker_counter.h"

#define NW	40	/* several per bucket */

struct tw {
	struct counter_cx wk;
	struct wait_map_entry e;
	uint64_t value;
	int res;
};

static void tw_init(struct tw *t, int n)
{
	for (int i = 0; i < n; i++) {
		counter_cx_init(&t[i].wk, false);
		wait_map_entry_init(&t[i].e);
		t[i].value = 0;
		t[i].res = 1;
	}
}

static enum poll wt(struct wait_map *m, struct tw *t, uint64_t key)
{
	return wait_map_wait(m, &t->e, key, &t->wk.cx, &t->value, &t->res);
}

static void test_wake_right_key(void **st)
{
	struct wait_map m = WAIT_MAP_INIT;
	struct tw t[NW];
	bool done[NW] = { false };

	(void)st;
	tw_init(t, NW);
	/* Keys 1000 + 7i: NW entries over 16 buckets share chains. */
	for (int i = 0; i < NW; i++)
		assert_int_equal(wt(&m, &t[i], 1000 + 7 * (uint64_t)i), POLL_PENDING);
	assert_int_equal(wait_map_waiters(&m), NW);
	/* Wake in a scrambled order; only the right one moves each time. */
	for (int n = 0; n < NW; n++) {
		int i = (n * 17) % NW;

		assert_int_equal(wait_map_wake(&m, 1000 + 7 * (uint64_t)i, 5000 + i), 0);
		done[i] = true;
		for (int j = 0; j < NW; j++)
			assert_int_equal(t[j].wk.c.wakes, done[j]);
		assert_int_equal(t[i].wk.c.refs, 0);
		assert_int_equal(wt(&m, &t[i], 1000 + 7 * (uint64_t)i), POLL_READY);
		assert_int_equal(t[i].res, 0);
		assert_int_equal(t[i].value, 5000 + (uint64_t)i);
		assert_int_equal(atomic_load(&t[i].e.state), WAIT_MAP_IDLE);
		/* A second wake of the same key finds nobody. */
		assert_int_equal(wait_map_wake(&m, 1000 + 7 * (uint64_t)i, 1), -ENOENT);
	}
	assert_int_equal(wait_map_waiters(&m), 0);
	assert_int_equal(wait_map_wake(&m, 3, 3), -ENOENT);
}

static void test_duplicate_key(void **st)
{
	struct wait_map m;
	struct tw t[2];

	(void)st;
	wait_map_init(&m);
	tw_init(t, 2);
	assert_int_equal(wt(&m, &t[0], 9), POLL_PENDING);
	assert_int_equal(wt(&m, &t[1], 9), POLL_READY);
	assert_int_equal(t[1].res, -EEXIST);
	assert_int_equal(t[1].wk.c.refs, 0);
	assert_int_equal(atomic_load(&t[1].e.state), WAIT_MAP_IDLE);
	assert_int_equal(wait_map_subscribe(&m, &t[1].e, 9), -EEXIST);
	/* The first is unaffected; after it is woken the key is free. */
	assert_int_equal(wait_map_wake(&m, 9, 90), 0);
	assert_int_equal(t[0].wk.c.wakes, 1);
	assert_int_equal(wt(&m, &t[1], 9), POLL_PENDING);
	assert_int_equal(wt(&m, &t[0], 9), POLL_READY);
	assert_int_equal(t[0].value, 90);
	assert_int_equal(wait_map_wake(&m, 9, 91), 0);
	assert_int_equal(wt(&m, &t[1], 9), POLL_READY);
	assert_int_equal(t[1].value, 91);
}

/* Request/response: subscribe, the response comes before the first poll. */
static void test_subscribe_early_wake(void **st)
{
	struct wait_map m = WAIT_MAP_INIT;
	struct tw t[1];

	(void)st;
	tw_init(t, 1);
	assert_int_equal(wait_map_subscribe(&m, &t[0].e, 77), 0);
	assert_int_equal(wait_map_waiters(&m), 1);
	assert_int_equal(wait_map_wake(&m, 77, 770), 0);	/* no waker yet */
	assert_int_equal(t[0].wk.c.wakes, 0);
	assert_int_equal(wt(&m, &t[0], 77), POLL_READY);
	assert_int_equal(t[0].value, 770);
	/* Subscribed, then polled (registers the waker), then woken. */
	assert_int_equal(wait_map_subscribe(&m, &t[0].e, 78), 0);
	assert_int_equal(wt(&m, &t[0], 78), POLL_PENDING);
	assert_int_equal(wt(&m, &t[0], 78), POLL_PENDING);
	assert_int_equal(t[0].wk.c.refs, 1);
	assert_int_equal(wait_map_wake(&m, 78, 780), 0);
	assert_int_equal(t[0].wk.c.wakes, 1);
	assert_int_equal(wt(&m, &t[0], 78), POLL_READY);
	assert_int_equal(t[0].value, 780);
	assert_int_equal(t[0].wk.c.refs, 0);
}

static void subscribe_twice(struct wait_map *m, struct wait_map_entry *e)
{
	int r = wait_map_subscribe(m, e, 5);

	(void)r;
}

static void test_cancel(void **st)
{
	struct wait_map m = WAIT_MAP_INIT;
	struct tw t[3];

	(void)st;
	tw_init(t, 3);
	/* Idle. */
	assert_false(wait_map_entry_drop(&m, &t[0].e));
	/* Waiting: unlinked, the key is free again. */
	assert_int_equal(wt(&m, &t[0], 1), POLL_PENDING);
	assert_false(wait_map_entry_drop(&m, &t[0].e));
	assert_int_equal(t[0].wk.c.refs, 0);
	assert_int_equal(wait_map_waiters(&m), 0);
	assert_int_equal(wait_map_wake(&m, 1, 10), -ENOENT);
	/* Subscribed without a waker. */
	assert_int_equal(wait_map_subscribe(&m, &t[1].e, 2), 0);
	expect_assert_failure(subscribe_twice(&m, &t[1].e));
	assert_false(wait_map_entry_drop(&m, &t[1].e));
	assert_int_equal(wait_map_wake(&m, 2, 20), -ENOENT);
	/* Woken, not yet polled: the value is reported to the owner. */
	assert_int_equal(wt(&m, &t[2], 3), POLL_PENDING);
	assert_int_equal(wait_map_wake(&m, 3, 30), 0);
	assert_true(wait_map_entry_drop(&m, &t[2].e));
	assert_int_equal(t[2].e.value, 30);
	assert_int_equal(atomic_load(&t[2].e.state), WAIT_MAP_IDLE);
	assert_int_equal(t[2].wk.c.refs, 0);
}

static void test_close(void **st)
{
	struct wait_map m = WAIT_MAP_INIT;
	struct tw t[NW];

	(void)st;
	tw_init(t, NW);
	for (int i = 0; i < NW; i++)
		assert_int_equal(wt(&m, &t[i], (uint64_t)i << 40), POLL_PENDING);
	assert_false(wait_map_is_closed(&m));
	wait_map_close(&m);
	assert_true(wait_map_is_closed(&m));
	assert_int_equal(wait_map_waiters(&m), 0);
	for (int i = 0; i < NW; i++) {
		assert_int_equal(t[i].wk.c.wakes, 1);
		assert_int_equal(t[i].wk.c.refs, 0);
		assert_int_equal(wt(&m, &t[i], (uint64_t)i << 40), POLL_READY);
		assert_int_equal(t[i].res, -EPIPE);
	}
	/* Later waits, subscribes and wakes are refused. */
	assert_int_equal(wt(&m, &t[0], 1), POLL_READY);
	assert_int_equal(t[0].res, -EPIPE);
	assert_int_equal(t[0].wk.c.refs, 0);
	assert_int_equal(wait_map_subscribe(&m, &t[0].e, 1), -EPIPE);
	assert_int_equal(wait_map_wake(&m, 0, 1), -EPIPE);
	/* A closed entry dropped before its poll: nothing delivered. */
	wait_map_init(&m);
	tw_init(t, 1);
	assert_int_equal(wt(&m, &t[0], 4), POLL_PENDING);
	wait_map_close(&m);
	assert_false(wait_map_entry_drop(&m, &t[0].e));
}

/* Re-polled by another task: the new waker replaces the old one. */
static void test_repoll_new_waker(void **st)
{
	struct wait_map m = WAIT_MAP_INIT;
	struct tw t[2];

	(void)st;
	tw_init(t, 2);
	assert_int_equal(wt(&m, &t[0], 6), POLL_PENDING);
	assert_int_equal(wait_map_wait(&m, &t[0].e, 6, &t[1].wk.cx, &t[0].value,
				       &t[0].res), POLL_PENDING);
	assert_int_equal(t[0].wk.c.refs, 0);
	assert_int_equal(t[1].wk.c.refs, 1);
	assert_int_equal(wait_map_wake(&m, 6, 60), 0);
	assert_int_equal(t[1].wk.c.wakes, 1);
	assert_int_equal(t[0].wk.c.wakes, 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_wake_right_key),
		cmocka_unit_test(test_duplicate_key),
		cmocka_unit_test(test_subscribe_early_wake),
		cmocka_unit_test(test_cancel),
		cmocka_unit_test(test_close),
		cmocka_unit_test(test_repoll_new_waker),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
