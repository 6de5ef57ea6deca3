/*
 * test_all_slots.c - every one of the runtime's MAX_CORES (512) slots
 * claimed at once, by 512 real threads, each running tasks; the 513th
 * claim panics cleanly (host panic -> cmocka's mock_assert).
 *
 * Each thread claims its slot and waits until all 512 are claimed.  Then
 * it spawns tasks on its own scheduler and ticks it until it has run at
 * least one of them itself (a peer may steal the first ones), spawns the
 * rest and runs its loop.  The test thread checks: 512 slots active with
 * distinct indexes and hardware ids, the 513th claim panics and changes
 * nothing, every task runs exactly once, every slot ran tasks.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "config.h"
#include "kmalloc.h"
#include "tests/support/rt_harness.h"
#include "sched/task.h"

#define NCORES		MAX_CORES
#define TASKS_PER_CORE	32
#define OWN_TRIES	100000
#define THREAD_STACK	(256 * 1024)
#define WAIT_MS		120000

struct slot_thread {
	pthread_t thread;
	struct rt_core core;
};

static struct runtime *rt;
static struct slot_thread threads[NCORES];
static atomic_uint claimed, started, spawned, completed, errors;
static atomic_uint ran_on[NCORES];
static atomic_bool go;

struct mark_task {
	struct task task;
};

static enum poll mark_poll(struct task *t, struct context *cx)
{
	struct rt_core *cur = rt_current_core();

	(void)t;
	(void)cx;
	if (!cur)
		atomic_fetch_add(&errors, 1);
	else
		atomic_fetch_add(&ran_on[cur->slot->index], 1);
	atomic_fetch_add(&completed, 1);
	return POLL_READY;
}

static const struct task_vtable mark_vt = { .poll = mark_poll, .name = "mark" };

static bool spawn_one(void)
{
	if (rt_spawn(rt, &mark_vt, NULL, sizeof(struct mark_task), NULL) != 0) {
		atomic_fetch_add(&errors, 1);
		return false;
	}
	atomic_fetch_add(&spawned, 1);
	return true;
}

static void *slot_main(void *p)
{
	struct slot_thread *st = p;
	unsigned me, n = 0, tries = 0;

	rt_core_new(&st->core, rt);
	me = st->core.slot->index;
	atomic_fetch_add(&claimed, 1);
	while (!atomic_load(&go))
		sched_yield();
	/* Run one of our own tasks ourselves before joining the loop. */
	while (atomic_load(&ran_on[me]) == 0 && tries++ < OWN_TRIES) {
		if (spawn_one())
			n++;
		(void)rt_core_tick(&st->core);
	}
	if (atomic_load(&ran_on[me]) == 0)
		atomic_fetch_add(&errors, 1);
	for (; n < TASKS_PER_CORE; n++)
		(void)spawn_one();
	atomic_fetch_add(&started, 1);
	rt_core_run(&st->core);
	arch_set_cpu_local(NULL);
	return NULL;
}

static unsigned ran_total(void)
{
	unsigned sum = 0;

	for (unsigned i = 0; i < NCORES; i++)
		sum += atomic_load(&ran_on[i]);
	return sum;
}

static void test_512_threads_claim_every_slot(void **state)
{
	pthread_attr_t attr;
	struct rt_core extra = { 0 };

	(void)state;
	rt = h_runtime_new();
	assert_int_equal(pthread_attr_init(&attr), 0);
	assert_int_equal(pthread_attr_setstacksize(&attr, THREAD_STACK), 0);
	for (unsigned i = 0; i < NCORES; i++)
		assert_int_equal(pthread_create(&threads[i].thread, &attr,
						slot_main, &threads[i]), 0);
	pthread_attr_destroy(&attr);
	assert_true(h_wait_for(&claimed, NCORES, WAIT_MS));
	assert_int_equal(rt_active_cores(rt), NCORES);

	/* Every slot is taken: one more claim is a contract violation. */
	expect_assert_failure(rt_core_new(&extra, rt));
	assert_null(extra.slot);
	assert_int_equal(rt_active_cores(rt), NCORES);
	arch_set_cpu_local(NULL);

	/* Each slot once, each bound to its own thread (hardware id). */
	for (unsigned i = 0; i < NCORES; i++) {
		struct rt_slot *s = threads[i].core.slot;

		assert_non_null(s);
		assert_ptr_equal(s, &rt->slots[s->index]);
		assert_int_equal(atomic_load(&s->state) == RT_CORE_UNCLAIMED, 0);
	}
	/* Hardware ids (host: a per-thread number) are all distinct. */
	for (unsigned i = 0; i < NCORES; i++) {
		assert_true(atomic_load(&rt->slots[i].initialised));
		for (unsigned j = 0; j < i; j++)
			assert_int_not_equal(rt->slots[i].hwid, rt->slots[j].hwid);
	}

	atomic_store(&go, true);
	assert_true(h_wait_for(&started, NCORES, WAIT_MS));
	assert_true(h_wait_for(&completed, atomic_load(&spawned), WAIT_MS));
	for (unsigned i = 0; i < NCORES; i++)
		rt_core_stop(&threads[i].core);
	for (unsigned i = 0; i < NCORES; i++)
		pthread_join(threads[i].thread, NULL);

	assert_int_equal(atomic_load(&errors), 0);
	assert_int_equal(atomic_load(&completed), atomic_load(&spawned));
	assert_true(atomic_load(&spawned) >= NCORES * TASKS_PER_CORE);
	for (unsigned i = 0; i < NCORES; i++)
		assert_true(atomic_load(&ran_on[i]) > 0);
	assert_int_equal(ran_total(), atomic_load(&completed));
	kfree(rt);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_512_threads_claim_every_slot),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
