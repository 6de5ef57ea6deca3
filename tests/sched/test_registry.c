/*
 * test_registry.c - what the scheduler keeps about its tasks: names and
 * spawn sites, task_current(), the registry (link at spawn, a poll's
 * spawns linked and queued after it, injected tasks at their first
 * dequeue, unlink when freed, walks with a parked cursor, states), pinned
 * tasks, poll times, a batch handed back by a kick, and a task ended by
 * a fault (the host's guard: host_poll_fault).
 *
 * Single-threaded, like test_sched: a "kick" is sched_release_batch()
 * called from inside a poll, which is where the kick handler runs on the
 * stuck core.  sched_registry_check() after every step.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "arch.h"
#include "arch/host/cpu.h"
#include "spinlock.h"
#include "task_util.h"
#include "tests/support/sleeper.h"
#include "timer/sleep.h"

static struct scheduler sched, other;

static int setup(void **state)
{
	(void)state;
	sched_init(&sched, 0, NULL);
	sched_init(&other, 1, NULL);
	atomic_store(&live, 0);
	tt_log_reset();
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	assert_int_equal(sched_check(&sched), 0);
	assert_int_equal(sched_registry_check(&sched), 0);
	assert_int_equal(sched_registry_check(&other), 0);
	assert_int_equal(atomic_load(&live), 0);
	host_poll_guard_enable(false);
	return 0;
}

/* Collects what a walk visits. */
struct seen {
	unsigned n;
	struct task_info ti[64];
};

static void collect(const struct task_info *ti, struct task *t, void *arg)
{
	struct seen *s = arg;

	(void)t;
	if (s->n < 64)
		s->ti[s->n] = *ti;
	s->n++;
}

static unsigned walk_all(struct scheduler *s, struct seen *seen, size_t step)
{
	struct sched_reg_cursor cur = SCHED_REG_CURSOR_INIT;

	memset(seen, 0, sizeof(*seen));
	while (sched_registry_walk(s, &cur, step, collect, seen))
		;
	return seen->n;
}

/* ---- names and sites ------------------------------------------------------ */

static enum poll ready_poll(struct task *t, struct context *cx)
{
	(void)t;
	(void)cx;
	return POLL_READY;
}

static const struct task_vtable named_vt = { .poll = ready_poll, .name = "named" };
static const struct task_vtable anon_vt = { .poll = ready_poll };

static void test_names_and_sites(void **st)
{
	struct join_handle a, b, c;
	struct seen seen;
	int line = __LINE__ + 3;

	(void)st;
	assert_int_equal(sched_spawn(&sched, &named_vt, NULL, sizeof(struct task), &a), 0);
	assert_int_equal(sched_spawn_at(TASK_SITE("custom"), 0, &sched, &named_vt,
					NULL, sizeof(struct task), &b), 0);
	assert_int_equal(sched_spawn(&sched, &anon_vt, NULL, sizeof(struct task), &c), 0);
	assert_string_equal(task_name(a.task), "named");
	assert_string_equal(task_name(b.task), "custom");
	assert_string_equal(task_name(c.task), "task");
	assert_non_null(a.task->site);
	assert_string_equal(a.task->site->file, __FILE__);
	assert_int_equal(a.task->site->line, line);
	assert_null(a.task->site->name);
	/* Spawned outside a tick: their second line is set up when sched
	 * first dequeues them (task.h). */
	assert_int_equal(sched_registry_count(&sched), 0);
	assert_true(atomic_load(&a.task->fresh));
	sched_tick(&sched);
	assert_false(atomic_load(&a.task->fresh));
	/* Completed in their first poll, so never listed: still held by
	 * their handles, but in no registry (home NULL), so the handles'
	 * drops, wherever they happen, touch no list. */
	assert_int_equal(sched_registry_check(&sched), 0);
	assert_null(a.task->home);
	assert_int_equal(walk_all(&sched, &seen, 64), 0);
	join_drop(&a);
	join_drop(&b);
	join_drop(&c);
	assert_int_equal(sched_registry_count(&sched), 0);
}

/* What a walk reports about a live task, in spawn order. */
static void test_walk_reports_fields(void **st)
{
	enum tstep r[] = { TS_YIELD, TS_SAVE };
	struct join_handle jh[3];
	struct seen seen;

	(void)st;
	for (int i = 0; i < 3; i++)
		assert_int_equal(tt_spawn(&sched, i, r, 2, &jh[i]), 0);
	/* The first poll wakes itself: queued again, and linked. */
	sched_tick(&sched);
	assert_int_equal(walk_all(&sched, &seen, 2), 3);
	for (unsigned i = 0; i < 3; i++) {
		assert_int_equal(seen.ti[i].id, jh[i].task->id);
		assert_string_equal(seen.ti[i].name, "ttask");
		assert_int_equal(seen.ti[i].core, 0);
		assert_true(seen.ti[i].polls >= 1);
		assert_true(seen.ti[i].state == TASK_INFO_QUEUED ||
			    seen.ti[i].state == TASK_INFO_WAITING);
		assert_ptr_equal(seen.ti[i].site, jh[i].task->site);
	}
	while (sched_queued(&sched))
		sched_tick(&sched);
	assert_int_equal(walk_all(&sched, &seen, 2), 3);
	for (unsigned i = 0; i < 3; i++) {
		struct ttask *tt = container_of(jh[i].task, struct ttask, task);

		assert_int_equal(seen.ti[i].state, TASK_INFO_WAITING);
		assert_int_equal(seen.ti[i].polls, 2);
		assert_true(join_cancel(&jh[i]));
		waker_drop(&tt->saved);
	}
	sched_tick(&sched);
	for (unsigned i = 0; i < 3; i++)
		join_drop(&jh[i]);
}

static void test_task_ids(void **st)
{
	char buf[TASK_ID_STR];
	uint64_t id;

	(void)st;
	assert_string_equal(task_id_str((1ull << SCHED_ID_SHIFT) | 5, buf), "0.5");
	assert_string_equal(task_id_str((4ull << SCHED_ID_SHIFT) | 123, buf), "3.123");
	assert_string_equal(task_id_str(7, buf), "i.7");
	assert_int_equal(task_id_parse("3.123", &id), 0);
	assert_int_equal(id, (4ull << SCHED_ID_SHIFT) | 123);
	assert_int_equal(task_id_parse("i.7", &id), 0);
	assert_int_equal(id, 7);
	assert_int_equal(task_id_parse("1099511627781", &id), 0);
	assert_int_equal(id, 1099511627781ull);
	assert_int_equal(task_id_parse("", &id), -EINVAL);
	assert_int_equal(task_id_parse("3.", &id), -EINVAL);
	assert_int_equal(task_id_parse(".3", &id), -EINVAL);
	assert_int_equal(task_id_parse("3.4.5", &id), -EINVAL);
	assert_int_equal(task_id_parse("x.1", &id), -EINVAL);
	assert_int_equal(task_id_parse("0.1099511627776", &id), -EINVAL);
	assert_int_equal(task_id_parse("99999999999999999999", &id), -EINVAL);
}

/* ---- task_current, and spawns from a poll --------------------------------- */

struct spawner {
	struct task task;
	struct task *seen_current;
	unsigned children;
	size_t queued_during;
	size_t linked_during;
};

static enum poll spawner_poll(struct task *t, struct context *cx)
{
	struct spawner *s = container_of(t, struct spawner, task);
	enum tstep r[] = { TS_READY };

	(void)cx;
	s->seen_current = task_current();
	for (unsigned i = 0; i < s->children; i++)
		if (tt_spawn(&sched, (int)i, r, 1, NULL) != 0)
			abort();
	/* The poll's own spawns are queued at once (an owner's first
	 * would take the LIFO slot; this scheduler has no owner hook), and
	 * none is listed before a poll of it returns PENDING. */
	s->queued_during = sched_queued(&sched);
	s->linked_during = sched_registry_count(&sched);
	return POLL_READY;
}

static const struct task_vtable spawner_vt = {
	.poll = spawner_poll, .name = "spawner",
};

static void test_current_and_spawns_from_a_poll(void **st)
{
	struct spawner init = { .children = 3 };
	struct join_handle jh;
	struct spawner *sp;
	struct sched_tick tick;

	(void)st;
	assert_null(task_current());
	assert_int_equal(sched_spawn(&sched, &spawner_vt, &init, sizeof(init), &jh), 0);
	sp = container_of(jh.task, struct spawner, task);
	tick = sched_tick(&sched);
	assert_ptr_equal(sp->seen_current, jh.task);
	assert_null(task_current());
	assert_null(arch_cpu_sched());
	/* The spawner and its three children were queued during its poll,
	 * and nothing was linked: no task is listed before a poll of it
	 * returns PENDING. */
	assert_int_equal(sp->queued_during, 4);
	assert_int_equal(sp->linked_during, 0);
	/* The children ran in the same tick and were never listed. */
	assert_int_equal(tick.polled, 4);
	assert_int_equal(tick.completed, 4);
	join_drop(&jh);
	assert_int_equal(sched_registry_count(&sched), 0);

	/* Many: no batch limit, none held back. */
	init.children = 40;
	assert_int_equal(sched_spawn(&sched, &spawner_vt, &init, sizeof(init), &jh), 0);
	sp = container_of(jh.task, struct spawner, task);
	sched_tick(&sched);
	assert_int_equal(sp->queued_during, 1 + 40);
	assert_int_equal(sp->linked_during, 0);
	while (sched_queued(&sched))
		sched_tick(&sched);
	assert_int_equal(sched_registry_count(&sched), 0);
	join_drop(&jh);
}

/* A poll's spawn onto another scheduler is queued there at once, and
 * linked when that scheduler first dequeues it. */
static enum poll cross_poll(struct task *t, struct context *cx)
{
	enum tstep r[] = { TS_READY };
	struct ttask init;

	(void)t;
	(void)cx;
	tt_init(&init, 0, r, 1);
	atomic_fetch_add(&live, 1);
	if (sched_spawn(&other, &tt_vt, &init, sizeof(init), NULL) != 0)
		abort();
	assert_int_equal(sched_queued(&other), 1);
	assert_int_equal(sched_registry_count(&other), 0);
	return POLL_READY;
}

static void test_spawn_onto_another_scheduler(void **st)
{
	static const struct task_vtable vt = { .poll = cross_poll };

	(void)st;
	assert_int_equal(sched_spawn(&sched, &vt, NULL, sizeof(struct task), NULL), 0);
	sched_tick(&sched);
	assert_int_equal(sched_registry_count(&sched), 0);
	assert_int_equal(sched_registry_count(&other), 0);
	sched_tick(&other);
	/* Linked, run and freed by other's tick. */
	assert_int_equal(sched_registry_count(&other), 0);
	assert_int_equal(atomic_load(&live), 0);
}

/* ---- the injector: linked when a poll first returns PENDING ---------------- */

static void test_injected_linked_when_dequeued(void **st)
{
	static struct injector inj = INJECTOR_INIT(inj);
	enum tstep r[] = { TS_PENDING, TS_READY };
	struct join_handle jh;
	struct stealer s;
	struct ttask init;

	(void)st;
	tt_init(&init, 0, r, 2);
	atomic_fetch_add(&live, 1);
	assert_int_equal(injector_spawn(&inj, &tt_vt, &init, sizeof(init), &jh), 0);
	assert_true(atomic_load(&jh.task->fresh));
	assert_int_equal(injector_try_steal(&inj, &s), STEAL_OK);
	assert_int_equal(stealer_spawn_n(&s, &sched, 1), 1);
	stealer_release(&s);
	/* Moved, still in no registry until a poll returns PENDING. */
	assert_true(atomic_load(&jh.task->fresh));
	assert_int_equal(sched_tick(&sched).polled, 1);
	assert_false(atomic_load(&jh.task->fresh));
	assert_ptr_equal(jh.task->home, &sched);
	assert_int_equal(sched_registry_check(&sched), 1);
	assert_true(join_cancel(&jh));
	sched_tick(&sched);
	join_drop(&jh);
}

/* ---- walks ----------------------------------------------------------------- */

static void test_walk_survives_frees_between_steps(void **st)
{
	enum tstep r[] = { TS_SAVE };
	struct join_handle jh[10];
	struct sched_reg_cursor cur = SCHED_REG_CURSOR_INIT;
	struct seen seen;

	(void)st;
	for (unsigned i = 0; i < 10; i++)
		assert_int_equal(tt_spawn(&sched, (int)i, r, 1, &jh[i]), 0);
	sched_tick(&sched);
	memset(&seen, 0, sizeof(seen));
	assert_true(sched_registry_walk(&sched, &cur, 3, collect, &seen));
	assert_int_equal(seen.n, 3);
	/* The cursor sits before task 3: free task 3 (next to it) and 4. */
	for (unsigned i = 3; i < 5; i++) {
		struct ttask *tt = container_of(jh[i].task, struct ttask, task);

		assert_true(join_cancel(&jh[i]));
		waker_drop(&tt->saved);
		sched_tick(&sched);
		join_drop(&jh[i]);
	}
	assert_int_equal(sched_registry_check(&sched), 8);
	while (sched_registry_walk(&sched, &cur, 3, collect, &seen))
		;
	assert_int_equal(seen.n, 8);
	for (unsigned i = 0; i < 8; i++)
		assert_int_equal(seen.ti[i].state, TASK_INFO_WAITING);
	assert_int_equal(sched_registry_check(&sched), 8);
	/* A walk ended early takes its cursor out. */
	cur = (struct sched_reg_cursor)SCHED_REG_CURSOR_INIT;
	memset(&seen, 0, sizeof(seen));
	assert_true(sched_registry_walk(&sched, &cur, 2, collect, &seen));
	sched_registry_walk_end(&sched, &cur);
	assert_int_equal(sched_registry_check(&sched), 8);
	for (unsigned i = 0; i < 10; i++) {
		struct ttask *tt;

		if (i == 3 || i == 4)
			continue;
		tt = container_of(jh[i].task, struct ttask, task);
		assert_true(join_cancel(&jh[i]));
		waker_drop(&tt->saved);
		sched_tick(&sched);
		join_drop(&jh[i]);
	}
}

/* A task waiting on a sleep is "sleeping"; on anything else "waiting". */
static void test_sleeping_state(void **st)
{
	static struct mock_clock clk;
	static struct timer timer;
	struct sleeper_task init = { .pt = 0 };
	struct join_handle jh;
	struct seen seen;

	(void)st;
	mock_clock_init(&clk, "mock", 1, 0);
	timer_init(&timer, &clk.clock);
	sleep_init_deadline(&init.sleep, &timer, 1000);
	assert_int_equal(sched_spawn(&sched, &sleeper_task_vt, &init, sizeof(init), &jh), 0);
	sched_tick(&sched);
	assert_int_equal(walk_all(&sched, &seen, 8), 1);
	assert_int_equal(seen.ti[0].state, TASK_INFO_SLEEPING);
	assert_int_equal(seen.ti[0].polls, 1);
	mock_clock_set(&clk, 1000);
	(void)timer_turn(&timer);
	assert_int_equal(walk_all(&sched, &seen, 8), 1);
	assert_int_equal(seen.ti[0].state, TASK_INFO_QUEUED);
	sched_tick(&sched);
	assert_true(join_is_finished(&jh));
	join_drop(&jh);
}

/* ---- pinned tasks --------------------------------------------------------- */

static void test_pinned_not_stolen(void **st)
{
	enum tstep r[] = { TS_READY };
	struct ttask init;
	struct stealer s;

	(void)st;
	tt_init(&init, 0, r, 1);
	atomic_fetch_add(&live, 2);
	assert_int_equal(sched_spawn_at(TASK_SITE(NULL), TASK_PINNED, &sched,
					&tt_vt, &init, sizeof(init), NULL), 0);
	assert_int_equal(sched_spawn(&sched, &tt_vt, &init, sizeof(init), NULL), 0);
	/* The pinned one is first: it goes back, and the steal ends. */
	assert_int_equal(sched_try_steal(&sched, &s), STEAL_OK);
	assert_int_equal(stealer_spawn_n(&s, &other, 2), 0);
	stealer_release(&s);
	assert_int_equal(sched_check(&sched), 2);
	/* Now the unpinned one is first: it moves, the pinned one stays. */
	assert_int_equal(sched_try_steal(&sched, &s), STEAL_OK);
	assert_int_equal(stealer_spawn_n(&s, &other, 2), 1);
	stealer_release(&s);
	assert_int_equal(sched_check(&sched), 1);
	assert_int_equal(sched_check(&other), 1);
	/* A stopped core's pinned tasks are taken anyway. */
	assert_int_equal(sched_try_steal(&sched, &s), STEAL_OK);
	s.take_pinned = true;
	assert_int_equal(stealer_spawn_n(&s, &other, 2), 1);
	stealer_release(&s);
	assert_int_equal(sched_tick(&other).completed, 2);
}

/* ---- poll times ------------------------------------------------------------ */

/* Spins `ns` in its poll. */
struct spinner {
	struct task task;
	uint64_t ns;
};

static enum poll spin_poll(struct task *t, struct context *cx)
{
	struct spinner *s = container_of(t, struct spinner, task);
	uint64_t end = arch_cycles() + arch_ns_to_cycles(s->ns);

	(void)cx;
	while (arch_cycles() < end)
		arch_cpu_relax();
	return POLL_READY;
}

static void test_poll_times(void **st)
{
	static const struct task_vtable vt = { .poll = spin_poll, .name = "spinner" };
	struct spinner init = { .ns = 2000000 };
	struct join_handle jh;
	uint64_t total = 0, ms = arch_ns_to_cycles(1000000), busy;

	(void)st;
	sched_poll_timing_set(true);
	assert_int_equal(sched_spawn(&sched, &vt, &init, sizeof(init), &jh), 0);
	sched_tick(&sched);
	/* At least 2 ms (a preempted host thread only adds). */
	busy = atomic_load(&jh.task->busy);
	assert_true(busy >= 2 * ms);
	assert_int_equal(atomic_load(&jh.task->polls), 1);
	assert_int_equal(atomic_load(&sched.pstats.longest), busy);
	assert_string_equal(atomic_load(&sched.pstats.longest_name), "spinner");
	assert_int_equal(atomic_load(&sched.pstats.longest_id), jh.task->id);
	for (unsigned b = 0; b < SCHED_POLL_BUCKETS; b++) {
		uint64_t n = atomic_load(&sched.pstats.hist[b]);

		/* The one poll sits in its log2 bucket, nowhere else. */
		if (n)
			assert_true(b == SCHED_POLL_BUCKETS - 1 ||
				    (busy >= (1ull << b) && busy < (2ull << b)));
		total += n;
	}
	assert_int_equal(total, 1);
	join_drop(&jh);
	/* No poll in progress any more. */
	assert_int_equal(atomic_load(&sched.poll_seq) & 1, 0);

	/* Timing off: the poll is counted, not timed; its published start
	 * is its batch's, flagged so. */
	sched_poll_timing_set(false);
	assert_int_equal(sched_spawn(&sched, &vt, &init, sizeof(init), &jh), 0);
	sched_tick(&sched);
	assert_int_equal(atomic_load(&jh.task->polls), 1);
	assert_int_equal(atomic_load(&jh.task->busy), 0);
	assert_int_equal(atomic_load(&sched.pstats.longest), busy);
	total = 0;
	for (unsigned b = 0; b < SCHED_POLL_BUCKETS; b++)
		total += atomic_load(&sched.pstats.hist[b]);
	assert_int_equal(total, 1);
	assert_true(atomic_load(&sched.poll_start) & SCHED_POLL_START_BATCH);
	join_drop(&jh);
}

/* ---- a batch handed back ---------------------------------------------------- */

static unsigned released_by_poll;
static uint64_t seq_in_poll;

/* Its poll is where a kick lands: the handler runs sched_release_batch. */
static enum poll kicked_poll(struct task *t, struct context *cx)
{
	(void)t;
	(void)cx;
	seq_in_poll = atomic_load(&sched.poll_seq);
	released_by_poll = sched_batch_left(&sched);
	assert_true(sched_release_batch(&sched));
	assert_int_equal(sched_batch_left(&sched), 0);
	/* Nothing left to hand back a second time. */
	assert_false(sched_release_batch(&sched));
	return POLL_READY;
}

static void test_release_batch(void **st)
{
	static const struct task_vtable vt = { .poll = kicked_poll, .name = "kicked" };
	enum tstep r[] = { TS_READY };
	struct sched_tick tick;

	(void)st;
	/* Not in a poll: nothing to release. */
	assert_false(sched_release_batch(&sched));
	assert_int_equal(sched_spawn(&sched, &vt, NULL, sizeof(struct task), NULL), 0);
	for (unsigned i = 0; i < 5; i++)
		assert_int_equal(tt_spawn(&sched, (int)i, r, 1, NULL), 0);
	tick = sched_tick(&sched);
	assert_int_equal(seq_in_poll & 1, 1);
	/* The batch held the others (the queue may keep its last node for
	 * the next batch: at least four). */
	assert_true(released_by_poll >= 4);
	assert_int_equal(atomic_load(&sched.pstats.released), released_by_poll);
	/* Back on the queue, then taken again in the same tick: each polled
	 * exactly once (a second poll of a READY task would panic). */
	assert_int_equal(tick.polled, 6);
	assert_int_equal(tick.completed, 6);
	assert_int_equal(poll_log_len, 5);
}

/* ---- a faulting task ------------------------------------------------------- */

static int fault_drops;

static enum poll faulting_poll(struct task *t, struct context *cx)
{
	(void)t;
	(void)cx;
	host_poll_fault();
}

static void faulting_drop(struct task *t)
{
	(void)t;
	fault_drops++;
}

static void faulting_dealloc(struct task *t)
{
	(void)t;
	atomic_fetch_sub(&live, 1);
}

static void test_fault_ends_the_task(void **st)
{
	static const struct task_vtable vt = {
		.poll = faulting_poll, .drop_state = faulting_drop,
		.deallocate = faulting_dealloc, .name = "faulty",
		TASK_OUTPUT(struct ttask, out),
	};
	enum tstep r[] = { TS_READY };
	struct join_handle jh, ok;
	int out = -1;
	struct context cx = { .waker = NULL };

	(void)st;
	host_poll_guard_enable(true);
	fault_drops = 0;
	atomic_fetch_add(&live, 1);
	assert_int_equal(sched_spawn(&sched, &vt, NULL, sizeof(struct ttask), &jh), 0);
	assert_int_equal(tt_spawn(&sched, 1, r, 1, &ok), 0);
	/* The fault ends the first task; the second still runs, same tick. */
	assert_int_equal(sched_tick(&sched).completed, 2);
	assert_true(task_state_load(jh.task) & TASK_FAULTED);
	assert_false(task_state_load(jh.task) & TASK_HAS_OUTPUT);
	assert_int_equal(fault_drops, 1);
	assert_int_equal(atomic_load(&sched.pstats.faulted), 1);
	assert_int_equal(join_poll(&jh, &cx, &out, sizeof(out)), POLL_READY);
	assert_int_equal(jh.result, JOIN_FAULTED);
	assert_int_equal(out, -1);
	assert_int_equal(join_poll(&ok, &cx, &out, sizeof(out)), POLL_READY);
	assert_int_equal(ok.result, JOIN_OK);
	/* Freed and unlinked like any task. */
	assert_int_equal(sched_registry_count(&sched), 0);
	assert_int_equal(atomic_load(&live), 0);
	assert_int_equal(atomic_load(&sched.poll_seq) & 1, 0);
	assert_null(task_current());
}

/* The host guard refuses what the kernel's refuses (it halts there). */
static void test_fault_refusals(void **st)
{
	struct spinlock l = SPINLOCK_INIT;

	(void)st;
	host_poll_guard_enable(true);
	expect_assert_failure(host_poll_fault());	/* no guard */
	spin_lock(&l);
	assert_int_equal(arch_locks_held(), 1);
	expect_assert_failure(host_poll_fault());
	spin_unlock(&l);
	assert_int_equal(arch_locks_held(), 0);
}

int main(void)
{
#define T(f) cmocka_unit_test_setup_teardown(f, setup, teardown)
	const struct CMUnitTest tests[] = {
		T(test_names_and_sites),
		T(test_walk_reports_fields),
		T(test_task_ids),
		T(test_current_and_spawns_from_a_poll),
		T(test_spawn_onto_another_scheduler),
		T(test_injected_linked_when_dequeued),
		T(test_walk_survives_frees_between_steps),
		T(test_sleeping_state),
		T(test_pinned_not_stolen),
		T(test_poll_times),
		T(test_release_batch),
		T(test_fault_ends_the_task),
		T(test_fault_refusals),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
