/*
 * stress_sleep_tasks.c - tasks on two host "cores" sleep in a loop on one
 * shared timer (real CLOCK_MONOTONIC) while the cores tick their own
 * schedulers, turn the timer and cancel some of their tasks mid-sleep.
 * Built with ASan and TSan by `make test`.
 *
 * A sleep registered by a task on one core is often fired by the other
 * core's turn, whose wake crosses to the first core's run queue; a cancel
 * races with that firing.  Checks: no sleep ends early, every task either
 * completes all its rounds or is cancelled, the wheel ends empty and
 * consistent, and (ASan) nothing leaks or is used after free.
 * HYPHAE_SOAK=1 runs 50x more tasks (stress_scale).
 */
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "arch.h"
#include "sched/scheduler.h"
#include "sched/task.h"
#include "tests/support/rng.h"
#include "tests/support/stress_util.h"
#include "timer/sleep.h"

#define CORES		2
#define TASKS		64	/* per core */
#define ROUNDS		12
#define MAX_SLEEP_NS	200000u
#define CANCEL_ONE_IN	4	/* tasks cancelled at a random time... */
#define CANCEL_WITHIN_NS (ROUNDS * MAX_SLEEP_NS / 2)	/* ...this soon */

#define CHECK(...)	STRESS_CHECK(__VA_ARGS__)

static struct timer tmr;
static struct scheduler scheds[CORES];
static atomic_int early, rounds_done, live;
static atomic_int cores_done;
static unsigned tasks_per_core;

struct looper {
	struct task task;
	unsigned pt;
	struct sleep sleep;
	unsigned round;
	struct xoroshiro128pp rng;
	uint64_t ns;
	ticks_t started;
	unsigned out;		/* rounds completed */
};

static enum poll looper_poll(struct task *t, struct context *cx)
{
	struct looper *l = container_of(t, struct looper, task);
	uint64_t ns;

	TASK_BEGIN(l->pt);
	for (l->round = 0; l->round < ROUNDS; l->round++) {
		l->ns = xoro_below(&l->rng, MAX_SLEEP_NS);
		l->started = timer_clock_now(&tmr);
		if (sleep_init_duration(&l->sleep, &tmr, l->ns))
			atomic_fetch_add(&early, 1000000);	/* cannot happen */
		TASK_AWAIT(sleep_poll(&l->sleep, cx));
		if (clock_ticks_to_ns(tmr.clock, timer_clock_now(&tmr) - l->started,
				      &ns) || ns < l->ns)
			atomic_fetch_add(&early, 1);
		atomic_fetch_add(&rounds_done, 1);
	}
	l->out = l->round;
	TASK_END;
}

static void looper_drop_state(struct task *t)
{
	sleep_drop(&container_of(t, struct looper, task)->sleep);
}

static void looper_deallocate(struct task *t)
{
	(void)t;
	atomic_fetch_sub(&live, 1);
}

static const struct task_vtable looper_vt = {
	.poll = looper_poll,
	.deallocate = looper_deallocate,
	.drop_state = looper_drop_state,
	TASK_OUTPUT(struct looper, out),
	.name = "looper",
};

/* A waker for join_poll from the core loop itself: it polls again anyway. */
static void nop_wake(const void *d) { (void)d; }
static const void *nop_clone(const void *d) { return d; }
static const struct waker_vtable nop_vtable = {
	nop_wake, nop_wake, nop_clone, nop_wake,
};

struct core {
	pthread_t thread;
	unsigned idx;
	struct xoroshiro128pp rng;
	struct join_handle *jh;
	ticks_t *cancel_at;	/* when to cancel task i, or TIMER_NO_DEADLINE */
	unsigned completed, cancelled;
};

static void *core_main(void *arg)
{
	struct core *c = arg;
	struct scheduler *s = &scheds[c->idx];
	struct waker w = { &nop_vtable, NULL };
	struct context cx = { &w };
	unsigned open = tasks_per_core;
	ticks_t start = timer_clock_now(&tmr);

	for (unsigned i = 0; i < tasks_per_core; i++) {
		struct looper init;

		memset(&init, 0, sizeof(init));
		test_rng_split(&c->rng, &init.rng);
		c->cancel_at[i] = xoro_below(&c->rng, CANCEL_ONE_IN) ?
				  TIMER_NO_DEADLINE :
				  start + xoro_below(&c->rng, CANCEL_WITHIN_NS) /
				  tmr.clock->tick_ns;
		atomic_fetch_add(&live, 1);
		CHECK(sched_spawn(s, &looper_vt, &init, sizeof(init), &c->jh[i]) == 0,
		      "spawn");
	}
	while (open) {
		unsigned i = (unsigned)xoro_below(&c->rng, tasks_per_core);
		unsigned out;

		sched_tick(s);
		timer_turn(&tmr);
		if (!c->jh[i].task)
			continue;
		/* Cancel some mid-sleep (racing the other core's turn). */
		if (timer_clock_now(&tmr) >= c->cancel_at[i])
			join_cancel(&c->jh[i]);
		if (join_poll(&c->jh[i], &cx, &out, sizeof(out)) == POLL_READY) {
			if (c->jh[i].result == JOIN_OK) {
				CHECK(out == ROUNDS, "task finished %u rounds", out);
				c->completed++;
			} else {
				c->cancelled++;
			}
			open--;
		}
	}
	atomic_fetch_add(&cores_done, 1);
	/* Keep turning for the other core until it is done too. */
	while (atomic_load(&cores_done) < CORES) {
		sched_tick(s);
		timer_turn(&tmr);
	}
	while (sched_tick(s).has_remaining)
		;
	return NULL;
}

int main(void)
{
	static struct core cores[CORES];
	struct xoroshiro128pp rng;
	unsigned completed = 0, cancelled = 0;

	tasks_per_core = stress_scale(TASKS);	/* HYPHAE_SOAK=1: x SOAK_FACTOR */
	timer_init(&tmr, arch_clock());
	test_rng_init(&rng, 0x9e3779b97f4a7c15ull);
	for (unsigned i = 0; i < CORES; i++) {
		sched_init(&scheds[i], i, NULL);
		cores[i].idx = i;
		test_rng_split(&rng, &cores[i].rng);
		cores[i].jh = calloc(tasks_per_core, sizeof(*cores[i].jh));
		cores[i].cancel_at = calloc(tasks_per_core, sizeof(ticks_t));
		CHECK(cores[i].jh && cores[i].cancel_at, "out of memory");
	}
	for (unsigned i = 0; i < CORES; i++)
		CHECK(pthread_create(&cores[i].thread, NULL, core_main, &cores[i]) == 0,
		      "pthread_create");
	for (unsigned i = 0; i < CORES; i++) {
		pthread_join(cores[i].thread, NULL);
		completed += cores[i].completed;
		cancelled += cores[i].cancelled;
		free(cores[i].jh);
		free(cores[i].cancel_at);
	}
	CHECK(atomic_load(&early) == 0, "%d sleeps ended early", atomic_load(&early));
	CHECK(completed + cancelled == CORES * tasks_per_core, "%u + %u tasks",
	      completed, cancelled);
	CHECK(atomic_load(&live) == 0, "%d tasks not freed", atomic_load(&live));
	CHECK(timer_wheel_pending(&tmr.wheel) == 0, "wheel not empty");
	timer_wheel_check(&tmr.wheel);
	printf("stress_sleep_tasks: %u tasks completed, %u cancelled, %d sleeps\n",
	       completed, cancelled, atomic_load(&rounds_done));
	printf("1 passed, 0 failed\n");
	return 0;
}
