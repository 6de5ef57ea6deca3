/*
 * test_rt.c - the runtime on 1, 2, 4 and 16 host cores (pthreads): every
 * task completes exactly once whether spawned from a core or through the
 * injector, work reaches every core, the steal books balance, a stopped
 * core's tasks finish elsewhere (and its pending timers still fire),
 * timers fire (also on a core that never runs dry), injected work starts
 * within a round of yielding tasks, the 513th core panics.
 */
#define _GNU_SOURCE
#include <sched.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "config.h"
#include "kmalloc.h"
#include "tests/support/capture.h"
#include "tests/support/rt_harness.h"
#include "sched/task.h"
#include "timer/sleep.h"

#define NTASKS	100000

static atomic_uchar *done;		/* done[i]: times task i ran to READY */
static atomic_uint completed;
static atomic_uint errors;		/* broken expectations on core threads */
static atomic_uint ran_on[MAX_CORES];

struct count_task {
	struct task task;
	unsigned idx;
	unsigned yields;
	unsigned pt;
};

static void record_core(void)
{
	struct rt_core *cur = rt_current_core();

	if (!cur) {
		atomic_fetch_add(&errors, 1);
		return;
	}
	atomic_fetch_add_explicit(&ran_on[cur->slot->index], 1,
				  memory_order_relaxed);
}

static enum poll count_poll(struct task *t, struct context *cx)
{
	struct count_task *c = container_of(t, struct count_task, task);

	TASK_BEGIN(c->pt);
	while (c->yields > 0) {
		c->yields--;
		TASK_YIELD();
	}
	if (atomic_fetch_add(&done[c->idx], 1) != 0)
		atomic_fetch_add(&errors, 1);
	record_core();
	atomic_fetch_add(&completed, 1);
	TASK_END;
}

static const struct task_vtable count_vt = {
	.poll = count_poll,
	.name = "count",
};

static void reset_counters(void)
{
	free(done);
	done = calloc(NTASKS, 1);
	atomic_store(&completed, 0);
	atomic_store(&errors, 0);
	for (unsigned i = 0; i < MAX_CORES; i++)
		atomic_store(&ran_on[i], 0);
}

static void check_all_done_once(unsigned n)
{
	assert_int_equal(atomic_load(&errors), 0);
	for (unsigned i = 0; i < n; i++)
		assert_int_equal(atomic_load(&done[i]), 1);
}

/* Σ stolen in = Σ stolen out + what cores took from the injector. */
static void check_steal_books(struct harness *h)
{
	uint64_t in = 0, out = 0, inj = 0;

	for (unsigned i = 0; i < h->n; i++) {
		in += atomic_load(&h->rt->slots[i].sched.stolen_in);
		out += atomic_load(&h->rt->slots[i].sched.stolen_out);
		inj += atomic_load(&h->rt->slots[i].from_injector);
	}
	assert_int_equal(in, out + inj);
}

/* A task that spawns `count` tasks with rt_spawn from inside a core. */
struct spawner_task {
	struct task task;
	struct runtime *rt;
	unsigned count;
	unsigned base_yields;	/* each task yields base_yields + i % 3 times */
	unsigned i;
	unsigned pt;
};

/* Spawns in batches of 1024 and yields between them, as a real spawner
 * would, so its own core also runs some of what it spawned. */
static enum poll spawner_poll(struct task *t, struct context *cx)
{
	struct spawner_task *s = container_of(t, struct spawner_task, task);

	TASK_BEGIN(s->pt);
	for (s->i = 0; s->i < s->count; s->i++) {
		struct count_task init = {
			.idx = s->i,
			.yields = s->base_yields + s->i % 3,
		};

		if (rt_spawn(s->rt, &count_vt, &init, sizeof(init), NULL))
			atomic_fetch_add(&errors, 1);
		if (s->i % 1024 == 1023)
			TASK_YIELD();
	}
	TASK_END;
}

static const struct task_vtable spawner_vt = { .poll = spawner_poll };

static void run_from_core(unsigned ncores)
{
	struct harness h;
	struct spawner_task sp;

	reset_counters();
	h_start(&h, ncores);
	/* With more threads than this machine has processors, every thread
	 * must get scheduled while work is left: give the tasks more polls. */
	sp = (struct spawner_task){
		.rt = h.rt,
		.count = NTASKS,
		.base_yields = ncores > 4 ? 8 : 0,
	};
	assert_int_equal(rt_spawn(h.rt, &spawner_vt, &sp, sizeof(sp), NULL), 0);
	assert_true(h_wait_for(&completed, NTASKS, 60000));
	h_stop(&h);
	check_all_done_once(NTASKS);
	check_steal_books(&h);
	for (unsigned i = 0; i < ncores; i++) {
		if (atomic_load(&ran_on[i]) == 0) {
			for (unsigned j = 0; j < ncores; j++)
				fprintf(stderr, "slot %u: ran %u, stolen in %llu "
					"out %llu, from injector %llu, wakeups %llu\n", j,
					atomic_load(&ran_on[j]),
					(unsigned long long)h.rt->slots[j].sched.stolen_in,
					(unsigned long long)h.rt->slots[j].sched.stolen_out,
					(unsigned long long)h.rt->slots[j].from_injector,
					(unsigned long long)h.rt->slots[j].wakeups);
			fail_msg("core %u of %u ran no task", i, ncores);
		}
	}
	assert_int_equal(injector_queued(&h.rt->injector), 0);
	h_free(&h);
}

static void run_from_injector(unsigned ncores)
{
	struct harness h;

	reset_counters();
	h_start(&h, ncores);
	/* This thread is no core: every spawn goes through the injector. */
	for (unsigned i = 0; i < NTASKS; i++) {
		struct count_task init = { .idx = i, .yields = i % 3 };

		assert_int_equal(rt_spawn(h.rt, &count_vt, &init, sizeof(init),
					  NULL), 0);
	}
	assert_true(h_wait_for(&completed, NTASKS, 60000));
	h_stop(&h);
	check_all_done_once(NTASKS);
	check_steal_books(&h);
	assert_int_equal(atomic_load(&h.rt->injector.injected), NTASKS + 0);
	assert_int_equal(H_SUM(&h, from_injector) + 0, NTASKS);
	h_free(&h);
}

static void test_from_core_1(void **s) { (void)s; run_from_core(1); }
static void test_from_core_2(void **s) { (void)s; run_from_core(2); }
static void test_from_core_4(void **s) { (void)s; run_from_core(4); }
static void test_from_core_16(void **s) { (void)s; run_from_core(16); }
static void test_from_injector_1(void **s) { (void)s; run_from_injector(1); }
static void test_from_injector_2(void **s) { (void)s; run_from_injector(2); }
static void test_from_injector_4(void **s) { (void)s; run_from_injector(4); }
static void test_from_injector_16(void **s) { (void)s; run_from_injector(16); }

/* ---- a stopped core's tasks finish on the others ------------------------- */

static void test_stopped_core_tasks_finish_elsewhere(void **state)
{
	struct harness h;
	struct scheduler *victim;
	unsigned stopped;
	const unsigned n = 1000;

	(void)state;
	reset_counters();
	h_start(&h, 3);
	/* Stop core 0 first, then queue work on its scheduler directly (as a
	 * wake of tasks bound to it would): the others must take it all. */
	h_stop_core(&h, 0);
	/* Threads claim slots in whatever order they start. */
	stopped = h.cores[0].core.slot->index;
	assert_int_equal(atomic_load(&h.rt->slots[stopped].state),
			 RT_CORE_STOPPED);
	victim = &h.rt->slots[stopped].sched;
	for (unsigned i = 0; i < n; i++) {
		struct count_task init = { .idx = i, .yields = 2 };

		assert_int_equal(sched_spawn(victim, &count_vt, &init,
					     sizeof(init), NULL), 0);
	}
	assert_true(h_wait_for(&completed, n, 30000));
	assert_int_equal(atomic_load(&ran_on[stopped]), 0);
	assert_int_equal(atomic_load(&ran_on[0]) + atomic_load(&ran_on[1]) +
			 atomic_load(&ran_on[2]), n);
	h_stop(&h);
	check_all_done_once(n);
	assert_int_equal(sched_queued(victim), 0);
	h_free(&h);
}

/* ---- timers fire on a runtime of 4 cores --------------------------------- */

struct sleeper_task {
	struct task task;
	struct runtime *rt;
	struct sleep sleep;
	uint64_t ns;
	ticks_t start;
	unsigned pt;
	bool armed;
};

static atomic_uint early;

static enum poll sleeper_poll(struct task *t, struct context *cx)
{
	struct sleeper_task *s = container_of(t, struct sleeper_task, task);

	TASK_BEGIN(s->pt);
	s->start = clock_now(s->rt->clock);
	if (sleep_init_duration(&s->sleep, &s->rt->timer, s->ns))
		atomic_fetch_add(&errors, 1);
	s->armed = true;
	TASK_AWAIT(sleep_poll(&s->sleep, cx));
	if (clock_now(s->rt->clock) - s->start < s->ns)
		atomic_fetch_add(&early, 1);
	sleep_drop(&s->sleep);
	s->armed = false;
	atomic_fetch_add(&completed, 1);
	TASK_END;
}

static void sleeper_drop_state(struct task *t)
{
	struct sleeper_task *s = container_of(t, struct sleeper_task, task);

	if (s->armed)
		sleep_drop(&s->sleep);
}

static const struct task_vtable sleeper_vt = {
	.poll = sleeper_poll,
	.drop_state = sleeper_drop_state,
};

static void test_timers_fire_on_4_cores(void **state)
{
	struct harness h;
	const unsigned n = 2000;

	(void)state;
	reset_counters();
	atomic_store(&early, 0);
	h_start(&h, 4);
	for (unsigned i = 0; i < n; i++) {
		struct sleeper_task init = {
			.rt = h.rt,
			.ns = 1000000ull * (1 + i % 20),	/* 1..20 ms */
		};

		assert_int_equal(rt_spawn(h.rt, &sleeper_vt, &init,
					  sizeof(init), NULL), 0);
	}
	assert_true(h_wait_for(&completed, n, 30000));
	h_stop(&h);
	assert_int_equal(atomic_load(&errors), 0);
	assert_int_equal(atomic_load(&early), 0);
	assert_true(H_SUM(&h, timer_turns) > 0);
	h_free(&h);
}

/*
 * A core that stops with a timer pending wakes a peer: the peer went idle
 * before the timer existed, so it armed its own timer for nothing, and
 * without a wake the sleep would never fire.
 */
static bool wait_state(struct harness *h, unsigned slot, int state)
{
	uint64_t end = h_now_ms() + 10000;

	while (atomic_load(&h->rt->slots[slot].state) != state)
		if (h_now_ms() > end)
			return false;
	return true;
}

static void test_stopping_core_hands_on_its_timers(void **state)
{
	struct harness h;
	struct sleeper_task init = { .ns = 200ull * 1000 * 1000 };
	unsigned runner = 2, j;

	(void)state;
	reset_counters();
	atomic_store(&early, 0);
	h_start(&h, 2);
	/* Both cores asleep with no timer pending. */
	assert_true(wait_state(&h, 0, RT_CORE_IDLE));
	assert_true(wait_state(&h, 1, RT_CORE_IDLE));
	init.rt = h.rt;
	assert_int_equal(rt_spawn(h.rt, &sleeper_vt, &init, sizeof(init),
				  NULL), 0);
	/* One core takes it, arms the sleep (its tick then counts the
	 * poll) and goes back to sleep. */
	for (uint64_t end = h_now_ms() + 10000; runner == 2;) {
		for (unsigned i = 0; i < 2; i++)
			if (atomic_load(&h.rt->slots[i].sched.polled) > 0)
				runner = i;
		if (h_now_ms() > end)
			break;
		sched_yield();
	}
	assert_true(runner < 2);
	assert_true(timer_next_hint(&h.rt->timer) != TIMER_NO_DEADLINE);
	assert_true(wait_state(&h, runner, RT_CORE_IDLE));
	j = h.cores[0].core.slot->index == runner ? 0 : 1;
	h_stop_core(&h, j);
	/* The other core fires it (and runs the task off the stopped one). */
	assert_true(h_wait_for(&completed, 1, 3000));
	h_stop(&h);
	assert_int_equal(atomic_load(&errors), 0);
	assert_int_equal(atomic_load(&early), 0);
	h_free(&h);
}

/* ---- yielders and injected work ------------------------------------------ */

/*
 * A core whose only tasks yield in a loop looks at the injector after each
 * round of them (a yield waits for the end of the tick): a task injected
 * while two yielders run starts after at most a few more of their polls
 * (the rest of the current tick, one more round, one more if the push was
 * half-way when the core looked), not after a whole 64-poll tick of them.
 * Counts polls, not time.
 */
static atomic_uint ypolls, ydone;
static atomic_bool ystop;
static atomic_uint seen_at;		/* ypolls when the injected task ran */

struct ytask {
	struct task task;
	unsigned pt;
};

static enum poll y_poll(struct task *t, struct context *cx)
{
	struct ytask *y = container_of(t, struct ytask, task);

	TASK_BEGIN(y->pt);
	while (!atomic_load(&ystop)) {
		atomic_fetch_add(&ypolls, 1);
		TASK_YIELD();
	}
	atomic_fetch_add(&ydone, 1);
	TASK_END;
}

static const struct task_vtable y_vt = { .poll = y_poll };

/* One core, two yielders on it until yielders_stop(). */
static void yielders_start(struct harness *h, struct join_handle jy[2])
{
	atomic_store(&ypolls, 0);
	atomic_store(&ydone, 0);
	atomic_store(&ystop, false);
	h_start(h, 1);
	for (int i = 0; i < 2; i++)
		assert_int_equal(rt_spawn(h->rt, &y_vt, NULL, sizeof(struct ytask),
					  &jy[i]), 0);
}

/* Stop and join the yielders, then the core. */
static void yielders_stop(struct harness *h, struct join_handle jy[2])
{
	atomic_store(&ystop, true);
	assert_true(h_wait_for(&ydone, 2, 10000));
	h_stop(h);
	for (int i = 0; i < 2; i++) {
		assert_true(join_is_finished(&jy[i]));
		join_drop(&jy[i]);
	}
	h_free(h);
}

static enum poll mark_poll(struct task *t, struct context *cx)
{
	(void)t;
	(void)cx;
	atomic_store(&seen_at, atomic_load(&ypolls));
	atomic_fetch_add(&completed, 1);
	return POLL_READY;
}

static const struct task_vtable mark_vt = { .poll = mark_poll };

static void test_injected_task_passes_yielders_within_a_round(void **state)
{
	struct harness h;
	struct join_handle jy[2];

	(void)state;
	reset_counters();
	yielders_start(&h, jy);
	for (unsigned round = 0; round < 20; round++) {
		unsigned before;

		/* The yielders are running on the core. */
		before = atomic_load(&ypolls);
		while (atomic_load(&ypolls) < before + 100)
			sched_yield();
		assert_int_equal(rt_spawn(h.rt, &mark_vt, NULL,
					  sizeof(struct task), NULL), 0);
		/* The push is complete: count from here (the task may even
		 * have run already: a negative difference). */
		before = atomic_load(&ypolls);
		assert_true(h_wait_for(&completed, round + 1, 10000));
		/* 2 (this tick) + 2 (the next) + 2 (a look that raced) */
		assert_true((int)(atomic_load(&seen_at) - before) <= 6);
	}
	yielders_stop(&h, jy);
}

/*
 * A core that never runs dry still turns the timer: two yielders keep
 * the only core busy (every tick ends with them queued again), and 20
 * sleeps of 2 ms must fire while they run, not when they stop (a busy
 * core turns at most every RT_TURN_BUSY_NS, rt.h; one that runs dry
 * turns at once, which this core never does).
 */
static void test_timer_fires_while_every_core_is_busy(void **state)
{
	struct harness h;
	struct join_handle jy[2];
	const unsigned n = 20;
	unsigned before;

	(void)state;
	reset_counters();
	atomic_store(&early, 0);
	yielders_start(&h, jy);
	while (atomic_load(&ypolls) < 1000)
		sched_yield();
	for (unsigned i = 0; i < n; i++) {
		struct sleeper_task init = { .rt = h.rt, .ns = 2000000ull };

		assert_int_equal(rt_spawn(h.rt, &sleeper_vt, &init,
					  sizeof(init), NULL), 0);
	}
	assert_true(h_wait_for(&completed, n, 10000));
	/* ... while the yielders still ran: the core never went idle. */
	before = atomic_load(&ypolls);
	while (atomic_load(&ypolls) < before + 100)
		sched_yield();
	assert_int_equal(atomic_load(&ydone), 0);
	assert_int_equal(atomic_load(&early), 0);
	assert_int_equal(atomic_load(&errors), 0);
	yielders_stop(&h, jy);
}

/* ---- slot claims ---------------------------------------------------------- */

static void test_513th_core_panics(void **state)
{
	struct runtime *rt = h_runtime_new();
	static struct rt_core cores[MAX_CORES + 1];

	(void)state;
	for (unsigned i = 0; i < MAX_CORES; i++)
		rt_core_new(&cores[i], rt);
	assert_int_equal(rt_active_cores(rt), MAX_CORES);
	expect_assert_failure(rt_core_new(&cores[MAX_CORES], rt));
	/* Nothing past the array was touched and the count stays. */
	assert_int_equal(rt_active_cores(rt), MAX_CORES);
	assert_null(cores[MAX_CORES].slot);
	for (unsigned i = 0; i < MAX_CORES; i++)
		assert_int_equal(rt->slots[i].index, i);
	arch_set_cpu_local(NULL);
	kfree(rt);
}

static void test_global_runtime_set_once(void **state)
{
	struct runtime *a = h_runtime_new(), *b = h_runtime_new();

	(void)state;
	assert_int_equal(rt_set_global(a), 0);
	assert_ptr_equal(rt_global(), a);
	assert_int_equal(rt_set_global(b), -EBUSY);
	assert_ptr_equal(rt_global(), a);
	kfree(b);
	/* `a` stays the global runtime for the rest of this process. */
}

static void test_dump_shows_every_core(void **state)
{
	const char *dump_text = capture_sink_text();
	struct harness h;
	struct spawner_task sp;

	(void)state;
	reset_counters();
	h_start(&h, 4);
	sp = (struct spawner_task){ .rt = h.rt, .count = 1000 };
	assert_int_equal(rt_spawn(h.rt, &spawner_vt, &sp, sizeof(sp), NULL), 0);
	assert_true(h_wait_for(&completed, 1000, 30000));
	capture_sink_reset();
	rt_dump(h.rt, capture_sink);
	h_stop(&h);
	assert_non_null(strstr(dump_text, "cores: 4/512 active"));
	assert_non_null(strstr(dump_text, "injector: 0 queued, 1 injected"));
	for (unsigned i = 0; i < 4; i++) {
		char row[16];

		snprintf(row, sizeof(row), "\n%4u ", i);
		assert_non_null(strstr(dump_text, row));
	}
	assert_null(strstr(dump_text, "\n   4 "));
	h_free(&h);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_from_core_1),
		cmocka_unit_test(test_from_core_2),
		cmocka_unit_test(test_from_core_4),
		cmocka_unit_test(test_from_core_16),
		cmocka_unit_test(test_from_injector_1),
		cmocka_unit_test(test_from_injector_2),
		cmocka_unit_test(test_from_injector_4),
		cmocka_unit_test(test_from_injector_16),
		cmocka_unit_test(test_stopped_core_tasks_finish_elsewhere),
		cmocka_unit_test(test_timers_fire_on_4_cores),
		cmocka_unit_test(test_injected_task_passes_yielders_within_a_round),
		cmocka_unit_test(test_timer_fires_while_every_core_is_busy),
		cmocka_unit_test(test_stopping_core_hands_on_its_timers),
		cmocka_unit_test(test_513th_core_panics),
		cmocka_unit_test(test_global_runtime_set_once),
		cmocka_unit_test(test_dump_shows_every_core),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
