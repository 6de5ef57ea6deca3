/*
 * test_semaphore.c - the FIFO semaphore, the mutex and the rwlock on it.
 *
 * Waiters poll with counting wakers (tests/support/waker_counter.h): each test checks who
 * was woken, in which order, what each holds, and that every waker clone
 * is released.  Cancellation is tried at every point a waiter can be in
 * (idle, queued with nothing, queued with part of its permits, handed its
 * permits but not yet polled, closed), bad unlocks and releases must fail
 * loudly and change nothing; the last tests run real tasks on a scheduler.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "errno.h"
#include "sched/mutex.h"
#include "sched/rwlock.h"
#include "sched/semaphore.h"
#include "task_util.h"
#include "tests/support/waker_counter.h"

#define NW	20	/* more than a wake batch */

struct tw {
	struct counter_cx wk;
	struct semaphore_waiter sw;
	int res;
};

static void tw_init(struct tw *t, int n)
{
	for (int i = 0; i < n; i++) {
		counter_cx_init(&t[i].wk, false);
		semaphore_waiter_init(&t[i].sw);
		t[i].res = 1;
	}
}

static enum poll acq(struct semaphore *s, struct tw *t, uint64_t k)
{
	return semaphore_acquire(s, &t->sw, k, &t->wk.cx, &t->res);
}

static int state(struct tw *t)
{
	return atomic_load(&t->sw.state);
}

/* ---- semaphore ------------------------------------------------------------ */

static void test_try_acquire_release(void **st)
{
	struct semaphore s = SEMAPHORE_INIT(5);

	(void)st;
	assert_int_equal(semaphore_available(&s), 5);
	assert_int_equal(semaphore_try_acquire(&s, 3), 0);
	assert_int_equal(semaphore_try_acquire(&s, 3), -EAGAIN);
	assert_int_equal(semaphore_try_acquire(&s, 2), 0);
	assert_int_equal(semaphore_available(&s), 0);
	assert_int_equal(semaphore_try_acquire(&s, 1), -EAGAIN);
	assert_int_equal(semaphore_release(&s, 4), 0);
	assert_int_equal(semaphore_available(&s), 4);
	/* Only one is still held: releasing two is refused, nothing moves. */
	assert_int_equal(semaphore_release(&s, 2), -EOVERFLOW);
	assert_int_equal(semaphore_available(&s), 4);
	assert_int_equal(semaphore_release(&s, 1), 0);
	assert_int_equal(semaphore_release(&s, 1), -EOVERFLOW);
	assert_int_equal(semaphore_available(&s), 5);
	assert_false(semaphore_is_closed(&s));
}

static void try_acquire_k(struct semaphore *s, uint64_t k)
{
	int r = semaphore_try_acquire(s, k);

	(void)r;
}

static void test_bad_k(void **st)
{
	struct semaphore s;

	(void)st;
	semaphore_init(&s, 3);
	expect_assert_failure(try_acquire_k(&s, 0));
	expect_assert_failure(try_acquire_k(&s, 4));
	assert_int_equal(semaphore_available(&s), 3);
}

static void test_acquire_fast_path(void **st)
{
	struct semaphore s = SEMAPHORE_INIT(2);
	struct tw t[1];

	(void)st;
	tw_init(t, 1);
	assert_int_equal(acq(&s, &t[0], 2), POLL_READY);
	assert_int_equal(t[0].res, 0);
	assert_int_equal(t[0].wk.c.refs, 0);		/* no waker kept */
	assert_int_equal(state(&t[0]), SEM_WAITER_IDLE);
	assert_int_equal(semaphore_release(&s, 2), 0);
}

/*
 * FIFO with partial assignment: A wants 3, B 1, C 2, nothing available.
 * Single permits go to A until it has 3, even though B could have run.
 */
static void test_fifo_no_barging(void **st)
{
	struct semaphore s = SEMAPHORE_INIT(3);
	struct tw t[3];

	(void)st;
	tw_init(t, 3);
	assert_int_equal(semaphore_try_acquire(&s, 3), 0);
	assert_int_equal(acq(&s, &t[0], 3), POLL_PENDING);
	assert_int_equal(acq(&s, &t[1], 1), POLL_PENDING);
	assert_int_equal(acq(&s, &t[2], 2), POLL_PENDING);
	assert_int_equal(semaphore_waiters(&s), 3);
	assert_int_equal(t[0].wk.c.refs, 1);

	assert_int_equal(semaphore_release(&s, 1), 0);
	assert_int_equal(t[0].wk.c.wakes + t[1].wk.c.wakes + t[2].wk.c.wakes, 0);
	assert_int_equal(s.assigned, 1);
	assert_int_equal(semaphore_available(&s), 0);
	/* No barging past the queue, even for one permit. */
	assert_int_equal(semaphore_try_acquire(&s, 1), -EAGAIN);
	/* A re-poll keeps its place and its waker. */
	assert_int_equal(acq(&s, &t[0], 3), POLL_PENDING);
	assert_int_equal(t[0].wk.c.refs, 1);

	assert_int_equal(semaphore_release(&s, 2), 0);
	assert_int_equal(t[0].wk.c.wakes, 1);
	assert_int_equal(t[1].wk.c.wakes + t[2].wk.c.wakes, 0);
	assert_int_equal(state(&t[0]), SEM_WAITER_ACQUIRED);
	assert_int_equal(acq(&s, &t[0], 3), POLL_READY);
	assert_int_equal(t[0].res, 0);
	assert_int_equal(t[0].wk.c.refs, 0);
	assert_int_equal(state(&t[0]), SEM_WAITER_IDLE);

	/* A gives back 3: B gets 1, C gets 2, nothing left over. */
	assert_int_equal(semaphore_release(&s, 3), 0);
	assert_int_equal(t[1].wk.c.wakes, 1);
	assert_int_equal(t[2].wk.c.wakes, 1);
	assert_int_equal(semaphore_available(&s), 0);
	assert_int_equal(acq(&s, &t[1], 1), POLL_READY);
	assert_int_equal(acq(&s, &t[2], 2), POLL_READY);
	assert_int_equal(semaphore_waiters(&s), 0);
	/* All three held: more is an overflow, even through the queue path. */
	assert_int_equal(semaphore_release(&s, 3), 0);
	assert_int_equal(semaphore_release(&s, 1), -EOVERFLOW);
	assert_int_equal(semaphore_available(&s), 3);
	for (int i = 0; i < 3; i++)
		assert_int_equal(t[i].wk.c.refs, 0);
}

/* A release larger than one wake batch wakes every waiter it serves. */
static void test_release_many(void **st)
{
	struct semaphore s = SEMAPHORE_INIT(NW);
	struct tw t[NW];

	(void)st;
	tw_init(t, NW);
	assert_int_equal(semaphore_try_acquire(&s, NW), 0);
	for (int i = 0; i < NW; i++)
		assert_int_equal(acq(&s, &t[i], 1), POLL_PENDING);
	assert_int_equal(semaphore_release(&s, NW), 0);
	for (int i = 0; i < NW; i++) {
		assert_int_equal(t[i].wk.c.wakes, 1);
		assert_int_equal(t[i].wk.c.refs, 0);
		assert_int_equal(acq(&s, &t[i], 1), POLL_READY);
	}
	assert_int_equal(semaphore_waiters(&s), 0);
	assert_int_equal(semaphore_available(&s), 0);
	/* Overflow while waiters queue: 0 held by owners beyond the
	 * assigned ones. */
	assert_int_equal(acq(&s, &t[0], 1), POLL_PENDING);
	assert_int_equal(semaphore_release(&s, NW + 1), -EOVERFLOW);
	assert_int_equal(t[0].wk.c.wakes, 1);
	assert_int_equal(semaphore_release(&s, NW), 0);
	assert_int_equal(t[0].wk.c.wakes, 2);
	assert_int_equal(acq(&s, &t[0], 1), POLL_READY);
	assert_int_equal(semaphore_available(&s), NW - 1);
}

/* Cancel at every point: idle, queued empty-handed, queued holding part,
 * handed everything but not polled. */
static void test_cancel(void **st)
{
	struct semaphore s = SEMAPHORE_INIT(4);
	struct tw t[4];

	(void)st;
	tw_init(t, 4);
	/* Idle: nothing happens. */
	assert_false(semaphore_waiter_drop(&s, &t[0].sw));

	assert_int_equal(semaphore_try_acquire(&s, 4), 0);
	assert_int_equal(acq(&s, &t[0], 3), POLL_PENDING);	/* head */
	assert_int_equal(acq(&s, &t[1], 1), POLL_PENDING);
	assert_int_equal(acq(&s, &t[2], 2), POLL_PENDING);
	/* Queued, nothing assigned, not the head. */
	assert_false(semaphore_waiter_drop(&s, &t[1].sw));
	assert_int_equal(t[1].wk.c.refs, 0);
	assert_int_equal(t[1].wk.c.wakes, 0);
	assert_int_equal(semaphore_waiters(&s), 2);

	/* The head holds 2 of 3; dropping it passes them to the next
	 * waiter (t2 wants 2): woken, not lost. */
	assert_int_equal(semaphore_release(&s, 2), 0);
	assert_int_equal(s.assigned, 2);
	assert_true(semaphore_waiter_drop(&s, &t[0].sw));
	assert_int_equal(t[0].wk.c.refs, 0);
	assert_int_equal(t[0].wk.c.wakes, 0);
	assert_int_equal(t[2].wk.c.wakes, 1);
	assert_int_equal(state(&t[2]), SEM_WAITER_ACQUIRED);
	assert_int_equal(s.assigned, 0);

	/* Handed its permits, cancelled before its poll: they go to the
	 * next in line (t3 wants 3, gets 2 of them) and the rest of the
	 * queue. */
	assert_int_equal(acq(&s, &t[3], 3), POLL_PENDING);
	assert_true(semaphore_waiter_drop(&s, &t[2].sw));
	assert_int_equal(state(&t[2]), SEM_WAITER_IDLE);
	assert_int_equal(s.assigned, 2);
	assert_int_equal(t[3].wk.c.wakes, 0);
	assert_int_equal(semaphore_release(&s, 1), 0);	/* 1 of the 2 still held */
	assert_int_equal(t[3].wk.c.wakes, 1);
	assert_int_equal(acq(&s, &t[3], 3), POLL_READY);
	assert_int_equal(semaphore_release(&s, 3), 0);
	assert_int_equal(semaphore_release(&s, 2), -EOVERFLOW);
	assert_int_equal(semaphore_release(&s, 1), 0);
	assert_int_equal(semaphore_available(&s), 4);
	/* Dropping an entry that completed is a no-op. */
	assert_false(semaphore_waiter_drop(&s, &t[3].sw));
	assert_int_equal(semaphore_available(&s), 4);
	for (int i = 0; i < 4; i++)
		assert_int_equal(t[i].wk.c.refs, 0);
}

/* The only waiter, holding part, is dropped: the count comes back. */
static void test_cancel_last_partial(void **st)
{
	struct semaphore s = SEMAPHORE_INIT(3);
	struct tw t[1];

	(void)st;
	tw_init(t, 1);
	assert_int_equal(semaphore_try_acquire(&s, 2), 0);
	assert_int_equal(acq(&s, &t[0], 3), POLL_PENDING);	/* takes the 1 */
	assert_int_equal(semaphore_available(&s), 0);
	assert_true(semaphore_waiter_drop(&s, &t[0].sw));
	assert_int_equal(semaphore_available(&s), 1);
	assert_int_equal(semaphore_try_acquire(&s, 1), 0);
	assert_int_equal(semaphore_release(&s, 3), 0);
	assert_int_equal(semaphore_available(&s), 3);
}

static void test_close(void **st)
{
	struct semaphore s = SEMAPHORE_INIT(3);
	struct tw t[4];

	(void)st;
	tw_init(t, 4);
	assert_int_equal(semaphore_try_acquire(&s, 2), 0);
	assert_int_equal(acq(&s, &t[0], 3), POLL_PENDING);	/* holds 1 */
	assert_int_equal(acq(&s, &t[1], 1), POLL_PENDING);
	assert_int_equal(acq(&s, &t[2], 1), POLL_PENDING);
	semaphore_close(&s);
	assert_true(semaphore_is_closed(&s));
	for (int i = 0; i < 3; i++) {
		assert_int_equal(t[i].wk.c.wakes, 1);
		assert_int_equal(t[i].wk.c.refs, 0);
		assert_int_equal(state(&t[i]), SEM_WAITER_CLOSED);
		assert_int_equal(acq(&s, &t[i], i ? 1 : 3), POLL_READY);
		assert_int_equal(t[i].res, -EPIPE);
	}
	/* The permit t0 held came back; future acquires fail. */
	assert_int_equal(semaphore_available(&s), 1);
	assert_int_equal(semaphore_try_acquire(&s, 1), -EPIPE);
	assert_int_equal(acq(&s, &t[3], 1), POLL_READY);
	assert_int_equal(t[3].res, -EPIPE);
	assert_int_equal(t[3].wk.c.refs, 0);
	/* Releases still count, and still refuse too many. */
	assert_int_equal(semaphore_release(&s, 3), -EOVERFLOW);
	assert_int_equal(semaphore_release(&s, 2), 0);
	assert_int_equal(semaphore_available(&s), 3);
	/* A closed waiter dropped before its poll: nothing to give back. */
	semaphore_init(&s, 1);
	tw_init(t, 1);
	assert_int_equal(semaphore_try_acquire(&s, 1), 0);
	assert_int_equal(acq(&s, &t[0], 1), POLL_PENDING);
	semaphore_close(&s);
	assert_false(semaphore_waiter_drop(&s, &t[0].sw));
	assert_int_equal(state(&t[0]), SEM_WAITER_IDLE);
	semaphore_close(&s);			/* idempotent */
}

/* A re-poll with another task's waker replaces the stored one. */
static void test_repoll_new_waker(void **st)
{
	struct semaphore s = SEMAPHORE_INIT(1);
	struct tw t[2];

	(void)st;
	tw_init(t, 2);
	assert_int_equal(semaphore_try_acquire(&s, 1), 0);
	assert_int_equal(acq(&s, &t[0], 1), POLL_PENDING);
	assert_int_equal(semaphore_acquire(&s, &t[0].sw, 1, &t[1].wk.cx, &t[0].res),
			 POLL_PENDING);
	assert_int_equal(t[0].wk.c.refs, 0);
	assert_int_equal(t[1].wk.c.refs, 1);
	assert_int_equal(semaphore_release(&s, 1), 0);
	assert_int_equal(t[1].wk.c.wakes, 1);
	assert_int_equal(t[0].wk.c.wakes, 0);
	assert_int_equal(acq(&s, &t[0], 1), POLL_READY);
}

/* ---- mutex ------------------------------------------------------------------ */

static void unlock(struct mutex *m)
{
	mutex_unlock(m);
}

static void test_mutex_handoff(void **st)
{
	struct mutex m = MUTEX_INIT;
	struct tw t[3];

	(void)st;
	tw_init(t, 3);
	assert_false(mutex_is_locked(&m));
	assert_true(mutex_try_lock(&m));
	assert_true(mutex_is_locked(&m));
	assert_false(mutex_try_lock(&m));
	for (int i = 0; i < 3; i++)
		assert_int_equal(mutex_lock(&m, &t[i].sw, &t[i].wk.cx), POLL_PENDING);
	for (int i = 0; i < 3; i++) {
		mutex_unlock(&m);
		/* Handed to the next waiter: never free in between. */
		assert_true(mutex_is_locked(&m));
		assert_false(mutex_try_lock(&m));
		for (int j = 0; j < 3; j++)
			assert_int_equal(t[j].wk.c.wakes, j <= i);
		assert_int_equal(mutex_lock(&m, &t[i].sw, &t[i].wk.cx), POLL_READY);
	}
	mutex_unlock(&m);
	assert_false(mutex_is_locked(&m));
	/* Unlocking it again is a contract violation that changes nothing. */
	expect_assert_failure(unlock(&m));
	assert_false(mutex_is_locked(&m));
	assert_true(mutex_try_lock(&m));
	assert_int_equal(mutex_lock(&m, &t[0].sw, &t[0].wk.cx), POLL_PENDING);
	mutex_unlock(&m);
	assert_int_equal(mutex_lock(&m, &t[0].sw, &t[0].wk.cx), POLL_READY);
	mutex_unlock(&m);
	for (int i = 0; i < 3; i++)
		assert_int_equal(t[i].wk.c.refs, 0);
}

/* Cancelled after the lock was handed over: it goes to the next waiter. */
static void test_mutex_cancel(void **st)
{
	struct mutex m;
	struct tw t[3];

	(void)st;
	mutex_init(&m);
	tw_init(t, 3);
	assert_true(mutex_try_lock(&m));
	for (int i = 0; i < 3; i++)
		assert_int_equal(mutex_lock(&m, &t[i].sw, &t[i].wk.cx), POLL_PENDING);
	mutex_waiter_drop(&m, &t[1].sw);		/* queued */
	mutex_unlock(&m);
	assert_int_equal(t[0].wk.c.wakes, 1);
	mutex_waiter_drop(&m, &t[0].sw);		/* handed the lock */
	assert_int_equal(t[2].wk.c.wakes, 1);
	assert_int_equal(t[1].wk.c.wakes, 0);
	assert_true(mutex_is_locked(&m));
	assert_int_equal(mutex_lock(&m, &t[2].sw, &t[2].wk.cx), POLL_READY);
	mutex_unlock(&m);
	assert_false(mutex_is_locked(&m));
	for (int i = 0; i < 3; i++)
		assert_int_equal(t[i].wk.c.refs, 0);
}

/* ---- rwlock ------------------------------------------------------------------ */

static void read_unlock(struct rwlock *l)
{
	rwlock_read_unlock(l);
}

static void write_unlock(struct rwlock *l)
{
	rwlock_write_unlock(l);
}

/* Readers share; a queued writer stops new readers; it gets the lock
 * when the readers leave; the readers behind it come after it. */
static void test_rwlock_writer_preferred(void **st)
{
	struct rwlock l = RWLOCK_INIT;
	struct tw t[3];			/* 0: writer, 1-2: late readers */

	(void)st;
	tw_init(t, 3);
	assert_true(rwlock_try_read(&l));
	assert_true(rwlock_try_read(&l));
	assert_false(rwlock_try_write(&l));
	assert_int_equal(rwlock_write(&l, &t[0].sw, &t[0].wk.cx), POLL_PENDING);
	assert_false(rwlock_try_read(&l));
	assert_int_equal(rwlock_read(&l, &t[1].sw, &t[1].wk.cx), POLL_PENDING);
	assert_int_equal(rwlock_read(&l, &t[2].sw, &t[2].wk.cx), POLL_PENDING);
	rwlock_read_unlock(&l);
	assert_int_equal(t[0].wk.c.wakes, 0);
	rwlock_read_unlock(&l);
	assert_int_equal(t[0].wk.c.wakes, 1);
	assert_int_equal(t[1].wk.c.wakes + t[2].wk.c.wakes, 0);
	assert_int_equal(rwlock_write(&l, &t[0].sw, &t[0].wk.cx), POLL_READY);
	assert_false(rwlock_try_read(&l));
	rwlock_write_unlock(&l);
	/* Both readers at once. */
	assert_int_equal(t[1].wk.c.wakes, 1);
	assert_int_equal(t[2].wk.c.wakes, 1);
	assert_int_equal(rwlock_read(&l, &t[1].sw, &t[1].wk.cx), POLL_READY);
	assert_int_equal(rwlock_read(&l, &t[2].sw, &t[2].wk.cx), POLL_READY);
	rwlock_read_unlock(&l);
	rwlock_read_unlock(&l);
	assert_true(rwlock_try_write(&l));
	rwlock_write_unlock(&l);
}

/* FIFO between kinds: W holds; R1 R2 W2 R3 queue; W's unlock lets R1 and
 * R2 in (not R3, behind W2); their unlocks let W2 in; then R3. */
static void test_rwlock_fifo_kinds(void **st)
{
	struct rwlock l;
	struct tw t[4];			/* R1, R2, W2, R3 */
	bool writes[4] = { false, false, true, false };

	(void)st;
	rwlock_init(&l);
	tw_init(t, 4);
	assert_true(rwlock_try_write(&l));
	for (int i = 0; i < 4; i++)
		assert_int_equal(writes[i] ? rwlock_write(&l, &t[i].sw, &t[i].wk.cx) :
				 rwlock_read(&l, &t[i].sw, &t[i].wk.cx), POLL_PENDING);
	rwlock_write_unlock(&l);
	assert_int_equal(t[0].wk.c.wakes + t[1].wk.c.wakes, 2);
	assert_int_equal(t[2].wk.c.wakes + t[3].wk.c.wakes, 0);
	assert_int_equal(rwlock_read(&l, &t[0].sw, &t[0].wk.cx), POLL_READY);
	assert_int_equal(rwlock_read(&l, &t[1].sw, &t[1].wk.cx), POLL_READY);
	rwlock_read_unlock(&l);
	assert_int_equal(t[2].wk.c.wakes, 0);
	rwlock_read_unlock(&l);
	assert_int_equal(t[2].wk.c.wakes, 1);
	assert_int_equal(t[3].wk.c.wakes, 0);
	assert_int_equal(rwlock_write(&l, &t[2].sw, &t[2].wk.cx), POLL_READY);
	rwlock_write_unlock(&l);
	assert_int_equal(t[3].wk.c.wakes, 1);
	assert_int_equal(rwlock_read(&l, &t[3].sw, &t[3].wk.cx), POLL_READY);
	rwlock_read_unlock(&l);
	for (int i = 0; i < 4; i++)
		assert_int_equal(t[i].wk.c.refs, 0);
}

/* A writer holding what the leaving readers gave back is cancelled:
 * the reader behind it gets in. */
static void test_rwlock_cancel_writer(void **st)
{
	struct rwlock l = RWLOCK_INIT;
	struct tw t[2];

	(void)st;
	tw_init(t, 2);
	assert_true(rwlock_try_read(&l));
	assert_true(rwlock_try_read(&l));
	assert_int_equal(rwlock_write(&l, &t[0].sw, &t[0].wk.cx), POLL_PENDING);
	assert_int_equal(rwlock_read(&l, &t[1].sw, &t[1].wk.cx), POLL_PENDING);
	rwlock_read_unlock(&l);
	assert_int_equal(t[1].wk.c.wakes, 0);
	rwlock_waiter_drop(&l, &t[0].sw);
	assert_int_equal(t[1].wk.c.wakes, 1);
	assert_int_equal(rwlock_read(&l, &t[1].sw, &t[1].wk.cx), POLL_READY);
	assert_true(rwlock_try_read(&l));
	rwlock_read_unlock(&l);
	rwlock_read_unlock(&l);
	rwlock_read_unlock(&l);
	assert_true(rwlock_try_write(&l));
	rwlock_write_unlock(&l);
	assert_int_equal(t[0].wk.c.refs + t[1].wk.c.refs, 0);
}

static void test_rwlock_bad_unlock(void **st)
{
	struct rwlock l = RWLOCK_INIT;

	(void)st;
	expect_assert_failure(read_unlock(&l));
	expect_assert_failure(write_unlock(&l));
	assert_true(rwlock_try_read(&l));
	/* A reader cannot give back a writer's permits. */
	expect_assert_failure(write_unlock(&l));
	assert_false(rwlock_try_write(&l));
	rwlock_read_unlock(&l);
	assert_true(rwlock_try_write(&l));
	rwlock_write_unlock(&l);
	assert_int_equal(semaphore_available(&l.sem), RWLOCK_MAX_READERS);
}

/* ---- real tasks ---------------------------------------------------------------- */

/* Each task: lock, yield while holding, add, unlock; ROUNDS times.  Its
 * drop_state is the guard's drop: unlock if it holds the lock, else give
 * up its place (passing on a lock it was handed meanwhile). */
#define TASKS	6
#define ROUNDS	5

struct ltask {
	struct task task;
	unsigned pt, r;
	bool holding;
	struct mutex *m;
	int *count;
	struct semaphore_waiter w;
	int out;
};

static enum poll ltask_poll(struct task *t, struct context *cx)
{
	struct ltask *l = container_of(t, struct ltask, task);

	TASK_BEGIN(l->pt);
	for (l->r = 0; l->r < ROUNDS; l->r++) {
		TASK_AWAIT(mutex_lock(l->m, &l->w, cx));
		l->holding = true;
		TASK_YIELD();
		(*l->count)++;
		l->holding = false;
		mutex_unlock(l->m);
	}
	TASK_END;
}

static void ltask_drop_state(struct task *t)
{
	struct ltask *l = container_of(t, struct ltask, task);

	if (l->holding)
		mutex_unlock(l->m);
	else
		mutex_waiter_drop(l->m, &l->w);
}

static void ltask_dealloc(struct task *t)
{
	(void)t;
	atomic_fetch_sub(&live, 1);
}

static const struct task_vtable ltask_vt = {
	.poll = ltask_poll, .deallocate = ltask_dealloc,
	.drop_state = ltask_drop_state, TASK_OUTPUT(struct ltask, out),
};

/* Cancel the holder (inside its critical section) and two waiters: the
 * others finish, the count is exact, the lock ends free. */
static void test_tasks_cancel(void **st)
{
	struct mutex m = MUTEX_INIT;
	struct scheduler s;
	struct join_handle jh[TASKS];
	int count = 0;

	(void)st;
	sched_init(&s, 0, NULL);
	atomic_store(&live, 0);
	for (int i = 0; i < TASKS; i++) {
		struct ltask init = { .m = &m, .count = &count };

		semaphore_waiter_init(&init.w);
		atomic_fetch_add(&live, 1);
		assert_int_equal(sched_spawn(&s, &ltask_vt, &init, sizeof(init), &jh[i]), 0);
	}
	sched_tick(&s);		/* task 0 holds it (yielded), 1..5 queue */
	assert_int_equal(semaphore_waiters(&m.sem), TASKS - 1);
	assert_true(join_cancel(&jh[0]));
	assert_true(join_cancel(&jh[2]));
	assert_true(join_cancel(&jh[4]));
	for (int i = 0; i < 1000 && atomic_load(&live) > TASKS - 3; i++)
		sched_tick(&s);
	for (int i = 0; i < 1000 && atomic_load(&live) > 0; i++) {
		sched_tick(&s);
		for (int j = 0; j < TASKS; j++)
			if (join_is_finished(&jh[j]))
				join_poll(&jh[j], &(struct context){ NULL }, NULL, 0);
	}
	assert_int_equal(atomic_load(&live), 0);
	assert_int_equal(count, (TASKS - 3) * ROUNDS);
	assert_false(mutex_is_locked(&m));
	assert_int_equal(semaphore_waiters(&m.sem), 0);
	for (int i = 0; i < TASKS; i++)
		assert_int_equal(jh[i].result,
				 i % 2 == 0 && i <= 4 ? JOIN_CANCELLED : JOIN_OK);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_try_acquire_release),
		cmocka_unit_test(test_bad_k),
		cmocka_unit_test(test_acquire_fast_path),
		cmocka_unit_test(test_fifo_no_barging),
		cmocka_unit_test(test_release_many),
		cmocka_unit_test(test_cancel),
		cmocka_unit_test(test_cancel_last_partial),
		cmocka_unit_test(test_close),
		cmocka_unit_test(test_repoll_new_waker),
		cmocka_unit_test(test_mutex_handoff),
		cmocka_unit_test(test_mutex_cancel),
		cmocka_unit_test(test_rwlock_writer_preferred),
		cmocka_unit_test(test_rwlock_fifo_kinds),
		cmocka_unit_test(test_rwlock_cancel_writer),
		cmocka_unit_test(test_rwlock_bad_unlock),
		cmocka_unit_test(test_tasks_cancel),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
