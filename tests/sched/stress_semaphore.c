/*
 * stress_semaphore.c - the semaphore under threads (three stealing cores,
 * stress_cores.h).
 *
 * Tasks acquire 1..3 of N permits, note what they hold in an atomic
 * in-use count, yield while holding, take it back out and release; an
 * "interrupt" thread does the same with try_acquire(1); tasks are
 * cancelled at random moments (waiting, perhaps holding part of their
 * request, or holding it) and replaced.
 * Checks: the in-use count never exceeds N, every task finishes, and all
 * N permits are available at the end (no permit lost or made up).  Then
 * the semaphore is closed while tasks wait on it: each of them finishes
 * with -EPIPE, and the permits are all back.
 */
#include "errno.h"
#include "sched/semaphore.h"
#include "stress_cores.h"

#define PERMITS		4
#define BASE_TASKS	48
#define BASE_ROUNDS	600
#define BASE_CANCELS	400

static struct semaphore sem = SEMAPHORE_INIT(PERMITS);
static unsigned long n_tasks, n_rounds, n_cancels;
static atomic_long done, in_use, over, closed_seen, irq_takes;
static atomic_int irq_stop;

struct stask {
	struct task task;
	unsigned pt;
	unsigned id;
	unsigned long r;
	uint64_t k;
	bool holding, until_closed;
	int res;
	struct semaphore_waiter w;
};

static void take(uint64_t k)
{
	if (atomic_fetch_add(&in_use, (long)k) + (long)k > PERMITS)
		atomic_fetch_add(&over, 1);
}

static void give(uint64_t k)
{
	atomic_fetch_sub(&in_use, (long)k);
	STRESS_CHECK(semaphore_release(&sem, k) == 0, "release %llu",
		     (unsigned long long)k);
}

static enum poll stask_poll(struct task *t, struct context *cx)
{
	struct stask *s = container_of(t, struct stask, task);

	TASK_BEGIN(s->pt);
	for (s->r = 0; s->until_closed || s->r < n_rounds; s->r++) {
		s->k = 1 + (s->id + s->r) % 3;
		TASK_AWAIT(semaphore_acquire(&sem, &s->w, s->k, cx, &s->res));
		if (s->res == -EPIPE) {
			atomic_fetch_add(&closed_seen, 1);
			break;
		}
		s->holding = true;
		take(s->k);
		TASK_YIELD();
		s->holding = false;
		give(s->k);
	}
	TASK_END;
}

static void stask_drop_state(struct task *t)
{
	struct stask *s = container_of(t, struct stask, task);

	if (s->holding)
		give(s->k);
	else
		(void)semaphore_waiter_drop(&sem, &s->w);
	atomic_fetch_add(&done, 1);
}

static const struct task_vtable stask_vt = {
	.poll = stask_poll, .drop_state = stask_drop_state,
};

static void *irq(void *arg)
{
	unsigned long tries = 0;

	(void)arg;
	while (!atomic_load(&irq_stop)) {
		if (semaphore_try_acquire(&sem, 1) == 0) {
			take(1);
			atomic_fetch_add(&irq_takes, 1);
			give(1);
		}
		if (++tries % 64 == 0)
			sched_yield();
	}
	return NULL;
}

static void spawn_one(struct join_handle *jh, unsigned long i, bool until_closed)
{
	struct stask init = { .id = (unsigned)i, .until_closed = until_closed };

	semaphore_waiter_init(&init.w);
	sc_spawn((unsigned)i, &stask_vt, &init, sizeof(init), jh);
}

static void spawn_all(struct join_handle *jh, bool until_closed)
{
	for (unsigned long i = 0; i < n_tasks; i++)
		spawn_one(&jh[i], i, until_closed);
}

int main(void)
{
	struct join_handle *jh;
	struct xoroshiro128pp rng;

	test_rng_init(&rng, 2654435761u * 31);
	pthread_t irq_th;

	n_tasks = BASE_TASKS;
	n_rounds = stress_scale(BASE_ROUNDS);
	n_cancels = stress_scale(BASE_CANCELS);
	jh = calloc(n_tasks, sizeof(*jh));
	STRESS_CHECK(jh != NULL, "out of memory");

	sc_start();
	pthread_create(&irq_th, NULL, irq, NULL);
	spawn_all(jh, false);
	/* Cancel tasks at random moments (waiting, holding part of their
	 * request, holding it all) and start new ones in their place. */
	for (unsigned long c = 0; c < n_cancels; c++) {
		unsigned long i = xoro_below(&rng, n_tasks);

		(void)join_cancel(&jh[i]);
		join_drop(&jh[i]);
		spawn_one(&jh[i], i, false);
		if (xoro_below(&rng, 4) == 0)
			sched_yield();
	}
	sc_wait(&done, (long)(n_tasks + n_cancels), "semaphore tasks");
	atomic_store(&irq_stop, 1);
	pthread_join(irq_th, NULL);
	for (unsigned long i = 0; i < n_tasks; i++)
		join_drop(&jh[i]);
	STRESS_CHECK(atomic_load(&over) == 0, "%ld times more than %d permits in use",
		     atomic_load(&over), PERMITS);
	STRESS_CHECK(semaphore_available(&sem) == PERMITS && atomic_load(&in_use) == 0,
		     "%llu permits available at the end",
		     (unsigned long long)semaphore_available(&sem));
	printf("stress_semaphore: %lu tasks x %lu rounds, %ld try_acquires\n",
	       n_tasks, n_rounds, atomic_load(&irq_takes));

	/* Close while they wait: every task ends with -EPIPE. */
	atomic_store(&done, 0);
	spawn_all(jh, true);
	{
		time_t end = time(NULL) + sc_limit();

		while (atomic_load(&done) == 0 && semaphore_waiters(&sem) < n_tasks / 2) {
			STRESS_CHECK(time(NULL) < end, "tasks never queued");
			sched_yield();
		}
	}
	semaphore_close(&sem);
	sc_wait(&done, (long)n_tasks, "tasks after close");
	sc_stop_all();
	for (unsigned long i = 0; i < n_tasks; i++)
		join_drop(&jh[i]);
	STRESS_CHECK(atomic_load(&closed_seen) == (long)n_tasks,
		     "%ld of %lu tasks saw the close", atomic_load(&closed_seen), n_tasks);
	STRESS_CHECK(atomic_load(&over) == 0, "over the limit after close");
	semaphore_check(&sem);
	STRESS_CHECK(semaphore_available(&sem) == PERMITS && semaphore_waiters(&sem) == 0,
		     "%llu permits available after close",
		     (unsigned long long)semaphore_available(&sem));
	free(jh);
	printf("1 passed, 0 failed\n");
	return 0;
}
