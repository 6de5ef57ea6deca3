/*
 * test_lock_model.c - model-based random tests of the semaphore, the
 * mutex and the rwlock.
 *
 * Random sequences of try_acquire / acquire polls / releases (valid and
 * too large) / waiter drops / close run against the real primitive and a
 * small sequential model written in the primitive's own terms: permits
 * with a FIFO queue of (want, assigned) for the semaphore; a locked flag
 * and a FIFO queue for the mutex; readers, a writer flag and a FIFO queue
 * of kinds for the rwlock (not in permits, so the rwlock's semaphore
 * encoding is checked against the plain definition).  After every step
 * the test compares each call's result, every waiter's state, wakes and
 * waker references, the queue's order and the counts.
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
#include "tests/support/rng.h"
#include "tests/support/waker_counter.h"

#define NW	6
#define STEPS	3000
#define SEEDS	16	/* runs of STEPS steps, each from its own seed */
#define SEM_SEED	2654435761u	/* default seeds (HYPHAE_TEST_SEED) */
#define RW_SEED		40503u
#define MAXP	5	/* the semaphore's permits */

/* The steps' choices; each run seeds it (test_rng_seed() + run). */
static struct xoroshiro128pp rng;

/* The real side's waiters. */
struct tw {
	struct counter_cx wk;
	struct semaphore_waiter sw;
	int res;
};

static struct tw tw[NW];

static void tws_init(void)
{
	for (int i = 0; i < NW; i++) {
		counter_cx_init(&tw[i].wk, false);
		semaphore_waiter_init(&tw[i].sw);
	}
}

/* The model's view of one waiter. */
struct mw {
	int st;			/* enum semaphore_waiter_state */
	uint64_t want, assigned;
	uint64_t holds;		/* permits (or: 1 = holds the lock) */
	bool writer;		/* rwlock: what it waits for / holds */
	int woken;
};

static struct mw mw[NW];
static int mq[NW], mq_len;	/* queue, head first */
static bool m_closed;

static void mq_remove(int i)
{
	int k = 0;

	for (int j = 0; j < mq_len; j++)
		if (mq[j] != i)
			mq[k++] = mq[j];
	mq_len = k;
}

static int mq_pop(void)
{
	int i = mq[0];

	mq_remove(i);
	return i;
}

/* Compare every waiter and the queue with the real semaphore. */
static void check_waiters(struct semaphore *s)
{
	struct semaphore_waiter *w = s->head;

	semaphore_check(s);
	for (int i = 0; i < NW; i++) {
		assert_int_equal(atomic_load(&tw[i].sw.state), mw[i].st);
		assert_int_equal(tw[i].wk.c.wakes, mw[i].woken);
		assert_int_equal(tw[i].wk.c.refs, mw[i].st == SEM_WAITER_WAITING);
	}
	for (int j = 0; j < mq_len; j++, w = w->next) {
		assert_non_null(w);
		assert_ptr_equal(w, &tw[mq[j]].sw);
	}
	assert_null(w);
}

/* ---- semaphore --------------------------------------------------------- */

static uint64_t m_avail;

static uint64_t m_queued_assigned(void)
{
	uint64_t n = 0;

	for (int j = 0; j < mq_len; j++)
		n += mw[mq[j]].assigned;
	return n;
}

/* Hand k permits out in FIFO order; the rest become available. */
static void m_give(uint64_t k)
{
	if (m_closed) {
		m_avail += k;
		return;
	}
	while (k > 0 && mq_len > 0) {
		struct mw *h = &mw[mq[0]];
		uint64_t give = MIN(k, h->want - h->assigned);

		h->assigned += give;
		k -= give;
		if (h->assigned < h->want)
			break;
		mq_pop();
		h->st = SEM_WAITER_ACQUIRED;
		h->woken++;
	}
	m_avail += k;
}

static int m_release(uint64_t k)
{
	if (k > MAXP - m_avail - m_queued_assigned())
		return -EOVERFLOW;
	m_give(k);
	return 0;
}

static void sem_step(struct semaphore *s, uint64_t *pool)
{
	int i = (int)xoro_below(&rng, NW);
	struct mw *m = &mw[i];
	uint64_t k = 1 + xoro_below(&rng, MAXP);
	int want;

	switch (xoro_below(&rng, 12)) {
	case 0: case 1:		/* try_acquire into the pool */
		want = m_closed ? -EPIPE : m_avail >= k ? 0 : -EAGAIN;
		if (want == 0) {
			m_avail -= k;
			*pool += k;
		}
		assert_int_equal(semaphore_try_acquire(s, k), want);
		break;
	case 2: case 3: case 4: {	/* poll waiter i (k if it starts over) */
		enum poll p, wp = POLL_READY;

		if (m->st == SEM_WAITER_WAITING)
			k = m->want;
		p = semaphore_acquire(s, &tw[i].sw, k, &tw[i].wk.cx, &tw[i].res);
		switch (m->st) {
		case SEM_WAITER_ACQUIRED:
			want = 0;
			m->holds += m->want;
			m->st = SEM_WAITER_IDLE;
			break;
		case SEM_WAITER_CLOSED:
			want = -EPIPE;
			m->st = SEM_WAITER_IDLE;
			break;
		case SEM_WAITER_WAITING:
			wp = POLL_PENDING;
			want = 0;
			break;
		default:
			if (m_closed) {
				want = -EPIPE;
			} else if (m_avail >= k) {
				m_avail -= k;
				m->holds += k;
				want = 0;
			} else {
				m->want = k;
				m->assigned = m_avail;
				m_avail = 0;
				mq[mq_len++] = i;
				m->st = SEM_WAITER_WAITING;
				wp = POLL_PENDING;
				want = 0;
			}
		}
		assert_int_equal(p, wp);
		if (p == POLL_READY)
			assert_int_equal(tw[i].res, want);
		break;
	}
	case 5: case 6:		/* release what waiter i holds, or the pool */
		if (m->holds) {
			k = m->holds;
			m->holds = 0;
		} else if (*pool) {
			k = *pool;
			*pool = 0;
		} else {
			break;
		}
		assert_int_equal(m_release(k), 0);
		assert_int_equal(semaphore_release(s, k), 0);
		break;
	case 7: {		/* more than is held: refused, nothing moves */
		uint64_t held = *pool;

		for (int j = 0; j < NW; j++)
			held += mw[j].holds +
				(mw[j].st == SEM_WAITER_ACQUIRED ? mw[j].want : 0);
		/* The model's own bookkeeping agrees with the definition. */
		assert_int_equal(held, MAXP - m_avail - m_queued_assigned());
		k = held + 1 + xoro_below(&rng, 2);
		assert_int_equal(m_release(k), -EOVERFLOW);
		assert_int_equal(semaphore_release(s, k), -EOVERFLOW);
		break;
	}
	case 8: case 9: {	/* drop waiter i */
		bool back = false;

		if (m->st == SEM_WAITER_WAITING) {
			back = m->assigned > 0;
			mq_remove(i);
			m_give(m->assigned);
		} else if (m->st == SEM_WAITER_ACQUIRED) {
			back = true;
			assert_int_equal(m_release(m->want), 0);
		}
		m->st = SEM_WAITER_IDLE;
		m->assigned = 0;
		assert_int_equal(semaphore_waiter_drop(s, &tw[i].sw), back);
		break;
	}
	case 10:		/* close, rarely */
		if (xoro_below(&rng, 20))
			break;
		m_closed = true;
		while (mq_len > 0) {
			struct mw *h = &mw[mq_pop()];

			m_avail += h->assigned;
			h->st = SEM_WAITER_CLOSED;
			h->woken++;
		}
		semaphore_close(s);
		break;
	default:		/* re-poll with another waiter's waker */
		if (m->st == SEM_WAITER_WAITING) {
			int o = (i + 1) % NW;

			assert_int_equal(semaphore_acquire(s, &tw[i].sw, m->want,
							   &tw[o].wk.cx, &tw[i].res),
					 POLL_PENDING);
			assert_int_equal(semaphore_acquire(s, &tw[i].sw, m->want,
							   &tw[i].wk.cx, &tw[i].res),
					 POLL_PENDING);
		}
		break;
	}
	check_waiters(s);
	assert_int_equal(semaphore_available(s), m_avail);
	assert_int_equal(s->assigned, m_queued_assigned());
	assert_int_equal(semaphore_is_closed(s), m_closed);
}

static void test_semaphore_model(void **st)
{
	uint64_t base = test_rng_seed(SEM_SEED);

	(void)st;
	for (uint64_t run = 1; run <= SEEDS; run++) {
		struct semaphore s;
		uint64_t pool = 0;

		xoro_seed(&rng, base + run);
		semaphore_init(&s, MAXP);
		tws_init();
		memset(mw, 0, sizeof(mw));
		mq_len = 0;
		m_closed = false;
		m_avail = MAXP;
		for (int step = 0; step < STEPS; step++)
			sem_step(&s, &pool);
		for (int i = 0; i < NW; i++)
			(void)semaphore_waiter_drop(&s, &tw[i].sw);
		for (int i = 0; i < NW; i++)
			assert_int_equal(tw[i].wk.c.refs, 0);
	}
}

/* ---- mutex and rwlock: one model of a FIFO read-write lock ------------- */

/* The lock's state: readers inside, a writer inside; the mutex is the
 * rwlock whose every waiter is a writer. */
static unsigned m_readers;
static bool m_writer;

/* Let in what the FIFO order allows: readers while no writer holds it,
 * a writer when it is empty; stop at the first that must wait. */
static void rw_grant(void)
{
	while (mq_len > 0) {
		struct mw *h = &mw[mq[0]];

		if (m_writer || (h->writer && m_readers > 0))
			return;
		mq_pop();
		h->st = SEM_WAITER_ACQUIRED;
		h->woken++;
		if (h->writer) {
			m_writer = true;
			return;
		}
		m_readers++;
	}
}

static void rw_unlock_model(struct mw *m)
{
	if (m->writer)
		m_writer = false;
	else
		m_readers--;
	m->holds = 0;
	rw_grant();
}

static enum poll rw_poll(struct rwlock *l, struct mutex *mx, int i)
{
	if (mx)
		return mutex_lock(mx, &tw[i].sw, &tw[i].wk.cx);
	return mw[i].writer ? rwlock_write(l, &tw[i].sw, &tw[i].wk.cx) :
	       rwlock_read(l, &tw[i].sw, &tw[i].wk.cx);
}

static void rw_real_unlock(struct rwlock *l, struct mutex *mx, bool writer)
{
	if (mx)
		mutex_unlock(mx);
	else if (writer)
		rwlock_write_unlock(l);
	else
		rwlock_read_unlock(l);
}

/* One step; `mx` non-NULL: the mutex (all waiters are writers). */
static void rw_step(struct rwlock *l, struct mutex *mx)
{
	int i = (int)xoro_below(&rng, NW);
	struct mw *m = &mw[i];
	bool ok, w = mx ? true : xoro_below(&rng, 3) == 0;

	switch (xoro_below(&rng, 8)) {
	case 0:			/* try: held by waiter i's slot directly */
		if (m->holds || m->st != SEM_WAITER_IDLE)
			break;
		ok = mx ? mutex_try_lock(mx) :
		     w ? rwlock_try_write(l) : rwlock_try_read(l);
		assert_int_equal(ok, mq_len == 0 && !m_writer && (!w || m_readers == 0));
		if (ok) {
			m->writer = w;
			m->holds = 1;
			if (w)
				m_writer = true;
			else
				m_readers++;
		}
		break;
	case 1: case 2: case 3: {	/* poll */
		enum poll p, wp = POLL_PENDING;

		if (m->holds)
			break;
		if (m->st == SEM_WAITER_IDLE)
			m->writer = w;
		p = rw_poll(l, mx, i);
		if (m->st == SEM_WAITER_ACQUIRED) {
			wp = POLL_READY;
			m->st = SEM_WAITER_IDLE;
			m->holds = 1;
		} else if (m->st == SEM_WAITER_IDLE) {
			if (mq_len == 0 && !m_writer && (!m->writer || m_readers == 0)) {
				wp = POLL_READY;
				m->holds = 1;
				if (m->writer)
					m_writer = true;
				else
					m_readers++;
			} else {
				mq[mq_len++] = i;
				m->st = SEM_WAITER_WAITING;
			}
		}
		assert_int_equal(p, wp);
		break;
	}
	case 4: case 5:		/* unlock what i holds */
		if (!m->holds)
			break;
		rw_unlock_model(m);
		rw_real_unlock(l, mx, m->writer);
		break;
	case 6:			/* drop (cancel) waiter i */
		if (m->st == SEM_WAITER_WAITING) {
			mq_remove(i);
			rw_grant();
		} else if (m->st == SEM_WAITER_ACQUIRED) {
			rw_unlock_model(m);
		}
		m->st = SEM_WAITER_IDLE;
		if (mx)
			mutex_waiter_drop(mx, &tw[i].sw);
		else
			rwlock_waiter_drop(l, &tw[i].sw);
		break;
	default:		/* an unlock nobody may do panics, changes nothing */
		if (mx ? m_writer : (m_writer || m_readers > 0))
			break;
		expect_assert_failure(rw_real_unlock(l, mx, w));
		break;
	}
	check_waiters(mx ? &mx->sem : &l->sem);
	if (mx)
		assert_int_equal(mutex_is_locked(mx), m_writer);
}

static void run_rw(bool mutex)
{
	uint64_t base = test_rng_seed(RW_SEED);

	for (uint64_t run = 1; run <= SEEDS; run++) {
		struct rwlock l;
		struct mutex mx;

		xoro_seed(&rng, base + run);
		rwlock_init(&l);
		mutex_init(&mx);
		tws_init();
		memset(mw, 0, sizeof(mw));
		mq_len = 0;
		m_closed = false;
		m_readers = 0;
		m_writer = false;
		for (int step = 0; step < STEPS; step++)
			rw_step(&l, mutex ? &mx : NULL);
		for (int i = 0; i < NW; i++) {
			if (mutex)
				mutex_waiter_drop(&mx, &tw[i].sw);
			else
				rwlock_waiter_drop(&l, &tw[i].sw);
			assert_int_equal(tw[i].wk.c.refs, 0);
		}
	}
}

static void test_mutex_model(void **st)
{
	(void)st;
	run_rw(true);
}

static void test_rwlock_model(void **st)
{
	(void)st;
	run_rw(false);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_semaphore_model),
		cmocka_unit_test(test_mutex_model),
		cmocka_unit_test(test_rwlock_model),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
