/*
 * test_sync.c - wait cell, wait queue and oneshot channel.
 *
 * Waiters are counting wakers (task_util.h), so each test checks exactly
 * who was woken and that every stored waker clone is released; the last
 * test drives real tasks through a wait queue on a scheduler.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <cmocka.h>

#include "arch.h"
#include "errno.h"
#include "sched/sync.h"
#include "task_util.h"

#define N_WAITERS 4

static void test_cell_wake_then_poll(void **st)
{
	struct wait_cell c = WAIT_CELL_INIT;
	struct waker_counter cw = { 0 };
	struct waker w = counter_waker(&cw);
	struct context cx = { &w };

	(void)st;
	/* A wake with nobody waiting is remembered, once. */
	assert_false(wait_cell_wake(&c));
	assert_false(wait_cell_wake(&c));
	assert_int_equal(wait_cell_poll(&c, &cx), POLL_READY);
	assert_int_equal(wait_cell_poll(&c, &cx), POLL_PENDING);
	assert_int_equal(cw.refs, 1);
	assert_int_equal(wait_cell_poll(&c, &cx), POLL_PENDING);
	assert_int_equal(cw.refs, 1);		/* same waker kept */
	assert_true(wait_cell_wake(&c));
	assert_int_equal(cw.wakes, 1);
	assert_int_equal(cw.refs, 0);
	assert_int_equal(wait_cell_poll(&c, &cx), POLL_READY);
	assert_int_equal(wait_cell_poll(&c, &cx), POLL_PENDING);
	wait_cell_unregister(&c);
	assert_int_equal(cw.refs, 0);
	assert_int_equal(cw.wakes, 1);
}

static void test_cell_close(void **st)
{
	struct wait_cell c;
	struct waker_counter cw = { 0 };
	struct waker w = counter_waker(&cw);
	struct context cx = { &w };

	(void)st;
	wait_cell_init(&c);
	assert_int_equal(wait_cell_poll(&c, &cx), POLL_PENDING);
	assert_false(wait_cell_is_closed(&c));
	wait_cell_close(&c);
	assert_int_equal(cw.wakes, 1);
	assert_int_equal(cw.refs, 0);
	assert_true(wait_cell_is_closed(&c));
	assert_int_equal(wait_cell_poll(&c, &cx), POLL_READY);
	assert_int_equal(wait_cell_poll(&c, &cx), POLL_READY);
}

struct waiter {
	struct counter_cx wk;
	struct wait_entry e;
};

static void waiters_init(struct waiter *ws, int n)
{
	for (int i = 0; i < n; i++) {
		counter_cx_init(&ws[i].wk, false);
		wait_entry_init(&ws[i].e);
	}
}

static void test_queue_wake_one_fifo(void **st)
{
	struct wait_queue wq = WAIT_QUEUE_INIT;
	struct waiter ws[N_WAITERS];

	(void)st;
	waiters_init(ws, N_WAITERS);
	for (int i = 0; i < N_WAITERS; i++)
		assert_int_equal(wait_queue_poll(&wq, &ws[i].e, &ws[i].wk.cx), POLL_PENDING);
	assert_int_equal(wq.waiters, N_WAITERS);
	for (int i = 0; i < N_WAITERS; i++) {
		assert_true(wait_queue_wake_one(&wq));
		for (int j = 0; j < N_WAITERS; j++)
			assert_int_equal(ws[j].wk.c.wakes, j <= i);
		assert_int_equal(wait_queue_poll(&wq, &ws[i].e, &ws[i].wk.cx), POLL_READY);
		assert_int_equal(ws[i].wk.c.refs, 0);
	}
	/* Nobody waits: the wake is stored and passes the next waiter. */
	assert_false(wait_queue_wake_one(&wq));
	assert_int_equal(wait_queue_poll(&wq, &ws[0].e, &ws[0].wk.cx), POLL_READY);
	assert_int_equal(wait_queue_poll(&wq, &ws[0].e, &ws[0].wk.cx), POLL_PENDING);
	wait_entry_drop(&wq, &ws[0].e);
	assert_int_equal(ws[0].wk.c.refs, 0);
	assert_int_equal(wq.waiters, 0);
}

static void test_queue_wake_all(void **st)
{
	struct wait_queue wq;
	struct waiter ws[N_WAITERS];

	(void)st;
	wait_queue_init(&wq);
	waiters_init(ws, N_WAITERS);
	for (int i = 0; i < N_WAITERS; i++)
		assert_int_equal(wait_queue_poll(&wq, &ws[i].e, &ws[i].wk.cx), POLL_PENDING);
	assert_int_equal(wait_queue_wake_all(&wq), N_WAITERS);
	for (int i = 0; i < N_WAITERS; i++) {
		assert_int_equal(ws[i].wk.c.wakes, 1);
		assert_int_equal(ws[i].wk.c.refs, 0);
	}
	/* wake_all stores nothing. */
	assert_int_equal(wait_queue_wake_all(&wq), 0);
	for (int i = 0; i < N_WAITERS; i++) {
		assert_int_equal(wait_queue_poll(&wq, &ws[i].e, &ws[i].wk.cx), POLL_READY);
		assert_int_equal(wait_queue_poll(&wq, &ws[i].e, &ws[i].wk.cx), POLL_PENDING);
	}
	wait_queue_close(&wq);
	for (int i = 0; i < N_WAITERS; i++) {
		assert_int_equal(ws[i].wk.c.wakes, 2);
		assert_int_equal(wait_queue_poll(&wq, &ws[i].e, &ws[i].wk.cx), POLL_READY);
		assert_int_equal(ws[i].wk.c.refs, 0);
	}
	assert_true(wait_queue_is_closed(&wq));
}

static void test_queue_drop_unlinks(void **st)
{
	struct wait_queue wq = WAIT_QUEUE_INIT;
	struct waiter ws[3];

	(void)st;
	waiters_init(ws, 3);
	for (int i = 0; i < 3; i++)
		assert_int_equal(wait_queue_poll(&wq, &ws[i].e, &ws[i].wk.cx), POLL_PENDING);
	/* Drop the middle, then the head: wake_one reaches the last one. */
	wait_entry_drop(&wq, &ws[1].e);
	wait_entry_drop(&wq, &ws[0].e);
	assert_int_equal(ws[0].wk.c.refs + ws[1].wk.c.refs, 0);
	assert_int_equal(wq.waiters, 1);
	assert_true(wait_queue_wake_one(&wq));
	assert_int_equal(ws[2].wk.c.wakes, 1);
	assert_int_equal(ws[0].wk.c.wakes + ws[1].wk.c.wakes, 0);
	/* Dropping a woken entry is fine too. */
	wait_entry_drop(&wq, &ws[2].e);
	assert_int_equal(atomic_load(&ws[2].e.state), WAIT_ENTRY_IDLE);
	assert_null(wq.head);
	assert_null(wq.tail);
}

static void send_wrong_size(struct oneshot *o, const int *v)
{
	int r = oneshot_send(o, v, 1);

	(void)r;
}

static void test_oneshot(void **st)
{
	struct oneshot o;
	int buf, out = 0, res = 1, v = 42;
	struct waker_counter cw = { 0 };
	struct waker w = counter_waker(&cw);
	struct context cx = { &w };

	(void)st;
	oneshot_init(&o, &buf, sizeof(buf));
	assert_int_equal(oneshot_recv(&o, &cx, &out, &res), POLL_PENDING);
	assert_int_equal(cw.refs, 1);
	assert_int_equal(oneshot_send(&o, &v, sizeof(v)), 0);
	assert_int_equal(cw.wakes, 1);
	assert_int_equal(oneshot_send(&o, &v, sizeof(v)), -EBUSY);
	assert_int_equal(oneshot_recv(&o, &cx, &out, &res), POLL_READY);
	assert_int_equal(res, 0);
	assert_int_equal(out, 42);
	assert_int_equal(cw.refs, 0);

	/* Sender gives up. */
	oneshot_init(&o, &buf, sizeof(buf));
	assert_int_equal(oneshot_recv(&o, &cx, &out, &res), POLL_PENDING);
	oneshot_close_tx(&o);
	assert_int_equal(cw.wakes, 2);
	assert_int_equal(oneshot_recv(&o, &cx, &out, &res), POLL_READY);
	assert_int_equal(res, -ECANCELED);

	/* Receiver gives up. */
	oneshot_init(&o, &buf, sizeof(buf));
	assert_int_equal(oneshot_recv(&o, &cx, &out, &res), POLL_PENDING);
	oneshot_close_rx(&o);
	assert_int_equal(cw.refs, 0);
	assert_int_equal(oneshot_send(&o, &v, sizeof(v)), -ECANCELED);
	expect_assert_failure(send_wrong_size(&o, &v));
}

/* The receiver's other paths: a second waker replaces the first, a value
 * sent before any receive, giving up with a value sent, a close after a
 * send.  (stress_sync and the model's oneshot scenarios race them.) */
static void test_oneshot_waker_paths(void **st)
{
	struct oneshot o;
	int buf, out = 0, res = 1, v = 7;
	struct waker_counter c1 = { 0 }, c2 = { 0 };
	struct waker w1 = counter_waker(&c1), w2 = counter_waker(&c2);
	struct context cx1 = { &w1 }, cx2 = { &w2 };

	(void)st;
	oneshot_init(&o, &buf, sizeof(buf));
	assert_int_equal(oneshot_recv(&o, &cx1, &out, &res), POLL_PENDING);
	assert_int_equal(oneshot_recv(&o, &cx1, &out, &res), POLL_PENDING);
	assert_int_equal(c1.refs, 1);		/* the same waker: kept */
	assert_int_equal(oneshot_recv(&o, &cx2, &out, &res), POLL_PENDING);
	assert_int_equal(c1.refs, 0);		/* replaced */
	assert_int_equal(c2.refs, 1);
	assert_int_equal(oneshot_send(&o, &v, sizeof(v)), 0);
	assert_int_equal(c1.wakes, 0);
	assert_int_equal(c2.wakes, 1);
	assert_int_equal(c2.refs, 0);		/* woken by value */
	assert_int_equal(arch_locks_held(), 0);	/* the claim's count undone */
	assert_int_equal(oneshot_recv(&o, &cx2, &out, &res), POLL_READY);
	assert_int_equal(out, 7);
	assert_int_equal(res, 0);
	assert_int_equal(c2.refs, 0);
	assert_int_equal(oneshot_send(&o, &v, sizeof(v)), -EBUSY);
	oneshot_close_tx(&o);			/* after the value: nothing */
	assert_int_equal(c2.wakes, 1);

	/* Sent before anyone waited: READY at once, no waker kept. */
	oneshot_init(&o, &buf, sizeof(buf));
	assert_int_equal(oneshot_send(&o, &v, sizeof(v)), 0);
	out = 0;
	assert_int_equal(oneshot_recv(&o, &cx1, &out, &res), POLL_READY);
	assert_int_equal(out, 7);
	assert_int_equal(c1.refs, 0);

	/* Giving up with a value waiting discards it; the waker went with
	 * the send. */
	oneshot_init(&o, &buf, sizeof(buf));
	assert_int_equal(oneshot_recv(&o, &cx1, &out, &res), POLL_PENDING);
	assert_int_equal(oneshot_send(&o, &v, sizeof(v)), 0);
	assert_int_equal(c1.wakes, 1);
	oneshot_close_rx(&o);
	assert_int_equal(c1.refs, 0);
	assert_int_equal(oneshot_send(&o, &v, sizeof(v)), -ECANCELED);

	/* Closing the sending side twice: the second does nothing. */
	oneshot_init(&o, &buf, sizeof(buf));
	oneshot_close_tx(&o);
	oneshot_close_tx(&o);
	assert_int_equal(oneshot_send(&o, &v, sizeof(v)), -EBUSY);
	assert_int_equal(oneshot_recv(&o, &cx1, &out, &res), POLL_READY);
	assert_int_equal(res, -ECANCELED);
	assert_int_equal(c1.refs, 0);
	assert_int_equal(c1.wakes, 1);		/* nobody waited this time */
	assert_int_equal(arch_locks_held(), 0);
}

/* Tasks on a scheduler waiting on a wait queue. */
struct qwaiter {
	struct task task;
	unsigned pt;
	struct wait_queue *wq;
	struct wait_entry e;
	int out;
};

static enum poll qwaiter_poll(struct task *t, struct context *cx)
{
	struct qwaiter *q = container_of(t, struct qwaiter, task);

	TASK_BEGIN(q->pt);
	TASK_AWAIT(wait_queue_poll(q->wq, &q->e, cx));
	q->out = 1;
	TASK_END;
}

/* A cancelled waiter's entry holds a waker for the task itself: without
 * this the reference cycle would keep the task alive. */
static void qwaiter_drop_state(struct task *t)
{
	struct qwaiter *q = container_of(t, struct qwaiter, task);

	wait_entry_drop(q->wq, &q->e);
}

static void qwaiter_dealloc(struct task *t)
{
	(void)t;
	atomic_fetch_sub(&live, 1);
}

static const struct task_vtable qwaiter_vt = {
	.poll = qwaiter_poll, .deallocate = qwaiter_dealloc,
	.drop_state = qwaiter_drop_state,
	TASK_OUTPUT(struct qwaiter, out),
};

static void test_tasks_on_queue(void **st)
{
	struct wait_queue wq = WAIT_QUEUE_INIT;
	struct scheduler s;
	struct join_handle jh[N_WAITERS];

	(void)st;
	sched_init(&s, 0, NULL);
	atomic_store(&live, 0);
	for (int i = 0; i < N_WAITERS; i++) {
		struct qwaiter init = { .wq = &wq };

		wait_entry_init(&init.e);
		atomic_fetch_add(&live, 1);
		assert_int_equal(sched_spawn(&s, &qwaiter_vt, &init, sizeof(init), &jh[i]), 0);
	}
	assert_int_equal(sched_tick(&s).polled, N_WAITERS);
	assert_int_equal(wq.waiters, N_WAITERS);
	/* Cancel one: its deallocation unlinks its entry. */
	assert_true(join_cancel(&jh[3]));
	join_drop(&jh[3]);
	assert_int_equal(sched_tick(&s).completed, 1);
	assert_int_equal(wq.waiters, N_WAITERS - 1);
	assert_true(wait_queue_wake_one(&wq));
	assert_int_equal(sched_tick(&s).completed, 1);
	assert_true(join_is_finished(&jh[0]));
	assert_false(join_is_finished(&jh[1]));
	assert_int_equal(wait_queue_wake_all(&wq), 2);
	assert_int_equal(sched_tick(&s).completed, 2);
	for (int i = 0; i < N_WAITERS - 1; i++) {
		assert_int_equal(join_poll(&jh[i], &(struct context){ NULL }, NULL, 0),
				 POLL_READY);
		assert_int_equal(jh[i].result, JOIN_OK);
	}
	assert_int_equal(atomic_load(&live), 0);
	assert_int_equal(wq.waiters, 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_cell_wake_then_poll),
		cmocka_unit_test(test_cell_close),
		cmocka_unit_test(test_queue_wake_one_fifo),
		cmocka_unit_test(test_queue_wake_all),
		cmocka_unit_test(test_queue_drop_unlinks),
		cmocka_unit_test(test_oneshot),
		cmocka_unit_test(test_oneshot_waker_paths),
		cmocka_unit_test(test_tasks_on_queue),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
