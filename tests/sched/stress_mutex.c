/*
 * stress_mutex.c - the async mutex and rwlock under threads (three
 * stealing cores, stress_cores.h), with tasks cancelled while they wait
 * and while they hold the lock.
 *
 * Mutex: tasks lock, read a plain (non-atomic) counter, sometimes yield,
 * store it plus one, unlock; an "interrupt" thread does the same with
 * try_lock.  Checks: the counter equals the rounds completed (each task
 * counts its own, cancelled ones included), the lock ends free with no
 * waiters, TSan sees every increment ordered by the lock.
 * Rwlock: writers set a plain pair (a, b) to a new value with a yield
 * between the two stores; readers read a, yield, read b and a again.
 * Checks: no reader ever sees a != b or a change while it holds the lock
 * (a write in progress), readers did share the lock, a == b == writes.
 */
#include "errno.h"
#include "sched/mutex.h"
#include "sched/rwlock.h"
#include "stress_cores.h"

#define BASE_TASKS	64
#define BASE_ROUNDS	1000
#define CANCEL_EVERY	6
#define WRITER_EVERY	4	/* one task in 4 writes the pair */

static unsigned long n_tasks, n_rounds;
static atomic_long done, total_rounds, irq_rounds;
static atomic_int irq_stop;

/* ---- mutex ----------------------------------------------------------------- */

static struct mutex mtx = MUTEX_INIT;
static uint64_t counter;		/* under mtx */

struct mtask {
	struct task task;
	unsigned pt;
	unsigned long r, rounds_done;
	bool holding;
	uint64_t seen;
	struct semaphore_waiter w;
};

static enum poll mtask_poll(struct task *t, struct context *cx)
{
	struct mtask *m = container_of(t, struct mtask, task);

	TASK_BEGIN(m->pt);
	for (m->r = 0; m->r < n_rounds; m->r++) {
		TASK_AWAIT(mutex_lock(&mtx, &m->w, cx));
		m->holding = true;
		/* Read, maybe yield, write back: a second holder would lose
		 * increments (and TSan would see the race). */
		m->seen = counter;
		if (m->r % 3 == 0)
			TASK_YIELD();
		counter = m->seen + 1;
		m->rounds_done++;
		m->holding = false;
		mutex_unlock(&mtx);
	}
	TASK_END;
}

/* Completion or cancellation: the guard's drop, then the books. */
static void mtask_drop_state(struct task *t)
{
	struct mtask *m = container_of(t, struct mtask, task);

	if (m->holding)
		mutex_unlock(&mtx);
	else
		mutex_waiter_drop(&mtx, &m->w);
	atomic_fetch_add(&total_rounds, (long)m->rounds_done);
	atomic_fetch_add(&done, 1);
}

static const struct task_vtable mtask_vt = {
	.poll = mtask_poll, .drop_state = mtask_drop_state,
};

static void *mutex_irq(void *arg)
{
	unsigned long tries = 0;

	(void)arg;
	while (!atomic_load(&irq_stop)) {
		if (mutex_try_lock(&mtx)) {
			counter++;
			atomic_fetch_add(&irq_rounds, 1);
			mutex_unlock(&mtx);
		}
		if (++tries % 64 == 0)
			sched_yield();
	}
	return NULL;
}

/* ---- rwlock ------------------------------------------------------------------ */

static struct rwlock rwl = RWLOCK_INIT;
static uint64_t pair_a, pair_b;		/* under rwl */
static atomic_long readers_in, readers_max, torn, writes;

struct rwtask {
	struct task task;
	unsigned pt;
	unsigned long r;
	bool writer, holding;
	uint64_t seen;
	struct semaphore_waiter w;
};

static void note_reader_in(void)
{
	long n = atomic_fetch_add(&readers_in, 1) + 1;
	long m = atomic_load(&readers_max);

	while (n > m && !atomic_compare_exchange_weak(&readers_max, &m, n))
		;
}

static enum poll rwtask_poll(struct task *t, struct context *cx)
{
	struct rwtask *k = container_of(t, struct rwtask, task);

	TASK_BEGIN(k->pt);
	for (k->r = 0; k->r < n_rounds; k->r++) {
		if (k->writer) {
			TASK_AWAIT(rwlock_write(&rwl, &k->w, cx));
			k->holding = true;
			pair_a++;
			TASK_YIELD();
			pair_b = pair_a;
			atomic_fetch_add(&writes, 1);
			k->holding = false;
			rwlock_write_unlock(&rwl);
		} else {
			TASK_AWAIT(rwlock_read(&rwl, &k->w, cx));
			k->holding = true;
			note_reader_in();
			k->seen = pair_a;
			TASK_YIELD();
			if (pair_b != k->seen || pair_a != k->seen)
				atomic_fetch_add(&torn, 1);
			atomic_fetch_sub(&readers_in, 1);
			k->holding = false;
			rwlock_read_unlock(&rwl);
		}
	}
	TASK_END;
}

static void rwtask_drop_state(struct task *t)
{
	struct rwtask *k = container_of(t, struct rwtask, task);

	if (k->holding && k->writer) {
		/* Cancelled mid-write: finish it, as a guard would. */
		pair_b = pair_a;
		atomic_fetch_add(&writes, 1);
		rwlock_write_unlock(&rwl);
	} else if (k->holding) {
		atomic_fetch_sub(&readers_in, 1);
		rwlock_read_unlock(&rwl);
	} else {
		rwlock_waiter_drop(&rwl, &k->w);
	}
	atomic_fetch_add(&done, 1);
}

static const struct task_vtable rwtask_vt = {
	.poll = rwtask_poll, .drop_state = rwtask_drop_state,
};

/* ---- driver -------------------------------------------------------------------- */

static void run(bool rw)
{
	struct join_handle *jh = calloc(n_tasks, sizeof(*jh));
	struct xoroshiro128pp rng;

	test_rng_init(&rng, 2654435761u * (rw ? 99 : 7));
	pthread_t irq;

	STRESS_CHECK(jh != NULL, "out of memory");
	atomic_store(&done, 0);
	atomic_store(&irq_stop, 0);
	sc_start();
	if (!rw)
		pthread_create(&irq, NULL, mutex_irq, NULL);
	for (unsigned long i = 0; i < n_tasks; i++) {
		if (rw) {
			struct rwtask init = { .writer = i % WRITER_EVERY == 0 };

			semaphore_waiter_init(&init.w);
			sc_spawn((unsigned)i, &rwtask_vt, &init, sizeof(init), &jh[i]);
		} else {
			struct mtask init = { .pt = 0 };

			semaphore_waiter_init(&init.w);
			sc_spawn((unsigned)i, &mtask_vt, &init, sizeof(init), &jh[i]);
		}
	}
	/* Cancel some while they run: waiting, holding or done. */
	for (unsigned long i = 0; i < n_tasks; i++) {
		if (xoro_below(&rng, CANCEL_EVERY) == 0)
			(void)join_cancel(&jh[xoro_below(&rng, n_tasks)]);
		sched_yield();
	}
	sc_wait(&done, (long)n_tasks, rw ? "rwlock tasks" : "mutex tasks");
	atomic_store(&irq_stop, 1);
	if (!rw)
		pthread_join(irq, NULL);
	sc_stop_all();
	for (unsigned long i = 0; i < n_tasks; i++)
		join_drop(&jh[i]);
	free(jh);
}

int main(void)
{
	n_tasks = BASE_TASKS;
	n_rounds = stress_scale(BASE_ROUNDS);

	run(false);
	STRESS_CHECK(counter == (uint64_t)(atomic_load(&total_rounds) +
					   atomic_load(&irq_rounds)),
		     "counter %llu, rounds %ld + %ld",
		     (unsigned long long)counter, atomic_load(&total_rounds),
		     atomic_load(&irq_rounds));
	semaphore_check(&mtx.sem);
	STRESS_CHECK(!mutex_is_locked(&mtx) && semaphore_waiters(&mtx.sem) == 0,
		     "mutex not free at the end");
	printf("stress_mutex: %lu tasks x %lu rounds: %llu increments (%ld by "
	       "try_lock)\n", n_tasks, n_rounds, (unsigned long long)counter,
	       atomic_load(&irq_rounds));

	run(true);
	STRESS_CHECK(atomic_load(&torn) == 0, "%ld reads saw a write in progress",
		     atomic_load(&torn));
	STRESS_CHECK(pair_a == pair_b && pair_a == (uint64_t)atomic_load(&writes),
		     "pair %llu/%llu, %ld writes", (unsigned long long)pair_a,
		     (unsigned long long)pair_b, atomic_load(&writes));
	STRESS_CHECK(atomic_load(&readers_max) > 1, "readers never shared the lock");
	STRESS_CHECK(rwlock_try_write(&rwl), "rwlock not free at the end");
	rwlock_write_unlock(&rwl);
	printf("stress_mutex: rwlock: %ld writes, up to %ld readers at once\n",
	       atomic_load(&writes), atomic_load(&readers_max));
	printf("1 passed, 0 failed\n");
	return 0;
}
