/*
 * bench_sched.c - one-thread scheduler costs and task size.
 *
 *   sched_spawn_heap     sched_spawn + poll + complete + free of an empty
 *                        task, in batches of the tick budget, ns per task
 *                        (the owner's task cache, as on a runtime core)
 *   sched_spawn_static   the same with caller storage (no allocator)
 *   sched_yield          a task yielding YIELDS times: ns per yield
 *   task_bytes           sizeof(struct task) and a heap task's footprint
 */
#define _POSIX_C_SOURCE 200809L
#include "bench_util.h"
#include "sched/scheduler.h"

#define TASKS	(1u << 18)
#define YIELDS	1000
#define YIELD_TASKS 200

struct empty {
	struct task task;
};

struct yielder {
	struct task task;
	unsigned pt;
	unsigned i;
};

static enum poll empty_poll(struct task *t, struct context *cx)
{
	(void)t;
	(void)cx;
	return POLL_READY;
}

static enum poll yielder_poll(struct task *t, struct context *cx)
{
	struct yielder *y = container_of(t, struct yielder, task);

	TASK_BEGIN(y->pt);
	for (y->i = 0; y->i < YIELDS; y->i++)
		TASK_YIELD();
	TASK_END;
}

static const struct task_vtable empty_vt = { .poll = empty_poll };
static const struct task_vtable yielder_vt = { .poll = yielder_poll };
static struct scheduler s;
static struct empty statics[SCHED_TICK_BUDGET] __cacheline_aligned;

static double spawn_heap(void *arg)
{
	uint64_t t0 = bench_now_ns();

	(void)arg;
	for (unsigned n = 0; n < TASKS; n += SCHED_TICK_BUDGET) {
		for (unsigned i = 0; i < SCHED_TICK_BUDGET; i++)
			if (sched_spawn(&s, &empty_vt, NULL, sizeof(struct empty), NULL))
				abort();
		sched_tick(&s);
	}
	return (double)(bench_now_ns() - t0) / TASKS;
}

static double spawn_static(void *arg)
{
	uint64_t t0 = bench_now_ns();

	(void)arg;
	for (unsigned n = 0; n < TASKS; n += SCHED_TICK_BUDGET) {
		for (unsigned i = 0; i < SCHED_TICK_BUDGET; i++)
			sched_spawn_allocated(&s, &statics[i].task, &empty_vt, NULL);
		sched_tick(&s);
	}
	return (double)(bench_now_ns() - t0) / TASKS;
}

static double yield(void *arg)
{
	uint64_t t0;

	(void)arg;
	for (unsigned i = 0; i < YIELD_TASKS; i++)
		if (sched_spawn(&s, &yielder_vt, NULL, sizeof(struct yielder), NULL))
			abort();
	t0 = bench_now_ns();
	while (sched_tick(&s).has_remaining)
		;
	return (double)(bench_now_ns() - t0) / ((double)YIELD_TASKS * (YIELDS + 1));
}

/* The calling thread owns the scheduler, as a runtime core does: heap
 * tasks come from its task cache. */
static bool always_owner(void *arg)
{
	(void)arg;
	return true;
}

int main(void)
{
	sched_init(&s, 0, &(struct sched_hooks){ .on_owner = always_owner });
	bench_report("sched_spawn_poll_free_heap", spawn_heap, NULL);
	bench_report("sched_spawn_poll_static", spawn_static, NULL);
	bench_report("sched_yield", yield, NULL);
	printf("%-32s %8zu bytes\n", "task_header_bytes", sizeof(struct task));
	printf("%-32s %8d bytes\n", "task_heap_empty_bytes", CACHE_LINE);
	sched_cache_drain(&s);
	return 0;
}
