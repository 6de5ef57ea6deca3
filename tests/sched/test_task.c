/*
 * test_task.c - the task state machine: every transition, the waker rules,
 * join/cancel/detach, and reference counting (live count + ASan).
 *
 * One scheduler, ticked by hand on this thread; the state word is checked
 * directly after each step where the issue fixes what it must be.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <cmocka.h>

#include "task_util.h"

static struct scheduler sched;

static int setup(void **state)
{
	(void)state;
	sched_init(&sched, 0, NULL);
	atomic_store(&live, 0);
	tt_log_reset();
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	/* Every test leaves nothing queued and nothing alive. */
	assert_int_equal(sched_queued(&sched), 0);
	assert_int_equal(atomic_load(&live), 0);
	return 0;
}

static struct ttask *tt_of(struct join_handle *jh)
{
	return container_of(jh->task, struct ttask, task);
}

static uint64_t state_of(struct join_handle *jh)
{
	return task_state_load(jh->task);
}

static void test_spawn_complete_free(void **st)
{
	enum tstep s[] = { TS_READY };
	struct sched_tick t;

	(void)st;
	assert_int_equal(tt_spawn(&sched, 1, s, 1, NULL), 0);
	assert_int_equal(atomic_load(&live), 1);
	assert_int_equal(sched_queued(&sched), 1);
	t = sched_tick(&sched);
	assert_int_equal(t.polled, 1);
	assert_int_equal(t.completed, 1);
	assert_false(t.has_remaining);
	assert_int_equal(atomic_load(&live), 0);
	assert_int_equal(atomic_load(&sched.polled), 1);
	assert_int_equal(atomic_load(&sched.completed), 1);
	assert_int_equal(atomic_load(&sched.spawned), 1);
}

static int storage_freed;

static void static_dealloc(struct task *t)
{
	(void)t;
	storage_freed++;
}

static enum poll ready_poll(struct task *t, struct context *cx)
{
	(void)t;
	(void)cx;
	return POLL_READY;
}

static void test_spawn_allocated(void **st)
{
	static const struct task_vtable vt = {
		.poll = ready_poll, .deallocate = static_dealloc,
	};
	static struct task storage;
	struct join_handle jh;

	(void)st;
	storage_freed = 0;
	sched_spawn_allocated(&sched, &storage, &vt, &jh);
	assert_int_equal(task_state_refs(state_of(&jh)), 2);
	assert_true(state_of(&jh) & TASK_WOKEN);
	assert_false(state_of(&jh) & TASK_HEAP);
	assert_int_equal(sched_tick(&sched).completed, 1);
	assert_int_equal(storage_freed, 0);	/* the handle holds it */
	assert_true(join_is_finished(&jh));
	join_drop(&jh);
	assert_int_equal(storage_freed, 1);
	assert_null(jh.task);
	join_drop(&jh);			/* empty handle: no-op */
	assert_int_equal(storage_freed, 1);
	/* The storage is reusable once deallocated. */
	sched_spawn_allocated(&sched, &storage, &vt, NULL);
	sched_tick(&sched);
	assert_int_equal(storage_freed, 2);
}

/*
 * A spawn writes the header's first line only (task.h): a second line full
 * of garbage - as a block another core freed holds it - is not read before
 * the first dequeue sets it up, and a join registered before then does not
 * take the garbage for a waker to drop.
 */
static void test_spawn_leaves_second_line(void **st)
{
	static const struct task_vtable vt = {
		.poll = ready_poll, .deallocate = static_dealloc,
	};
	static struct task storage;
	static unsigned char junk[sizeof(struct task)];
	const size_t second = offsetof(struct task, join_waker);
	struct waker_counter cw = { 0 };
	struct waker w = counter_waker(&cw);
	struct context cx = { &w };
	struct join_handle jh;

	(void)st;
	storage_freed = 0;
	memset(&storage, 0xa5, sizeof(storage));
	memset(junk, 0xa5, sizeof(junk));
	sched_spawn_allocated(&sched, &storage, &vt, &jh);
	assert_memory_equal((char *)&storage + second, junk + second,
			    sizeof(storage) - second);
	assert_true(atomic_load(&storage.fresh));
	assert_int_equal(join_poll(&jh, &cx, NULL, 0), POLL_PENDING);
	assert_int_equal(cw.refs, 1);
	assert_int_equal(sched_tick(&sched).completed, 1);
	/* Set up at the dequeue, before the poll: no home, no busy time. */
	assert_false(atomic_load(&storage.fresh));
	assert_null(storage.home);
	assert_int_equal(atomic_load(&storage.busy), 0);
	assert_int_equal(cw.wakes, 1);
	assert_int_equal(join_poll(&jh, &cx, NULL, 0), POLL_READY);
	assert_int_equal(cw.refs, 0);
	assert_int_equal(storage_freed, 1);
}

/* A task that stays pending with no waker anywhere and no join handle is
 * freed when the run queue drops it: its drop_state still runs, once. */
static int forgotten_drops;

static enum poll pending_poll(struct task *t, struct context *cx)
{
	(void)t;
	(void)cx;
	return POLL_PENDING;	/* registers no waker: nobody can wake it */
}

static void forgotten_drop_state(struct task *t)
{
	(void)t;
	forgotten_drops++;
}

static void test_pending_task_dropped_runs_drop_state(void **st)
{
	static const struct task_vtable vt = {
		.poll = pending_poll, .deallocate = static_dealloc,
		.drop_state = forgotten_drop_state,
	};
	static struct task storage;

	(void)st;
	storage_freed = 0;
	forgotten_drops = 0;
	sched_spawn_allocated(&sched, &storage, &vt, NULL);
	assert_int_equal(sched_tick(&sched).polled, 1);
	assert_int_equal(forgotten_drops, 1);
	assert_int_equal(storage_freed, 1);
	/* A task that completes runs drop_state once, not again when freed. */
	forgotten_drops = 0;
	{
		static const struct task_vtable ready_vt = {
			.poll = ready_poll, .deallocate = static_dealloc,
			.drop_state = forgotten_drop_state,
		};

		sched_spawn_allocated(&sched, &storage, &ready_vt, NULL);
		sched_tick(&sched);
	}
	assert_int_equal(forgotten_drops, 1);
	assert_int_equal(storage_freed, 2);
}

/* drop_state keeps a waker of its own task: the task must outlive it. */
static struct waker kept_waker;

static void keep_waker_drop_state(struct task *t)
{
	kept_waker = task_waker(t);
}

static void test_drop_state_keeps_a_reference(void **st)
{
	static const struct task_vtable vt = {
		.poll = ready_poll, .deallocate = static_dealloc,
		.drop_state = keep_waker_drop_state,
	};
	static struct task storage;

	(void)st;
	storage_freed = 0;
	/* Detached, one reference, listed nowhere: the poll's end may be a
	 * plain store, but not one computed before drop_state ran. */
	sched_spawn_allocated(&sched, &storage, &vt, NULL);
	assert_int_equal(sched_tick(&sched).completed, 1);
	assert_int_equal(storage_freed, 0);
	assert_int_equal(task_state_refs(task_state_load(&storage)), 1);
	waker_drop(&kept_waker);
	assert_int_equal(storage_freed, 1);
}

static void test_wake_rules(void **st)
{
	enum tstep s[] = { TS_SAVE, TS_SAVE, TS_READY };
	struct join_handle jh;
	struct waker w1, w2;
	uint64_t refs;

	(void)st;
	assert_int_equal(tt_spawn(&sched, 1, s, 3, &jh), 0);
	assert_int_equal(sched_tick(&sched).polled, 1);
	/* Idle: not polling, not woken; refs = handle + saved waker. */
	assert_int_equal(state_of(&jh) & (TASK_POLLING | TASK_WOKEN), 0);
	assert_int_equal(task_state_refs(state_of(&jh)), 2);

	/* wake_by_ref of an idle task: WOKEN, +1 ref for the queue. */
	w1 = waker_clone(&tt_of(&jh)->saved);
	refs = task_state_refs(state_of(&jh));
	waker_wake_by_ref(&w1);
	assert_true(state_of(&jh) & TASK_WOKEN);
	assert_int_equal(task_state_refs(state_of(&jh)), refs + 1);
	assert_int_equal(sched_queued(&sched), 1);
	/* A second wake of a WOKEN task does nothing (by ref and by value). */
	waker_wake_by_ref(&w1);
	w2 = waker_clone(&w1);
	waker_wake(&w2);
	assert_null(w2.vtable);
	assert_int_equal(task_state_refs(state_of(&jh)), refs + 1);
	assert_int_equal(sched_queued(&sched), 1);
	assert_int_equal(sched_tick(&sched).polled, 1);
	assert_int_equal(tt_of(&jh)->polls, 2);

	/* wake by value of an idle task: its reference becomes the queue's. */
	refs = task_state_refs(state_of(&jh));
	waker_wake(&w1);
	assert_int_equal(task_state_refs(state_of(&jh)), refs);
	assert_int_equal(sched_tick(&sched).completed, 1);
	assert_true(state_of(&jh) & TASK_COMPLETED);

	/* Wakes of a COMPLETED task do nothing but drop their reference. */
	w1 = waker_clone(&tt_of(&jh)->saved);
	waker_wake_by_ref(&w1);
	assert_int_equal(sched_queued(&sched), 0);
	waker_wake(&w1);
	waker_drop(&tt_of(&jh)->saved);
	assert_int_equal(task_state_refs(state_of(&jh)), 1);
	assert_int_equal(sched_tick(&sched).polled, 0);
	join_drop(&jh);
}

static void test_wake_while_polling(void **st)
{
	enum tstep s[] = { TS_WAKE_VAL, TS_YIELD, TS_READY };
	struct sched_tick t;

	(void)st;
	assert_int_equal(tt_spawn(&sched, 1, s, 3, NULL), 0);
	/* Both wakes happen during a poll: only WOKEN is set, and the
	 * scheduler re-enqueues after the poll, in the same tick. */
	t = sched_tick(&sched);
	assert_int_equal(t.polled, 3);
	assert_int_equal(t.completed, 1);
	assert_int_equal(t.woken_external + t.woken_internal, 2);
}

/* Self-wakes (TS_YIELD wakes by reference) go to the tail within the
 * tick; TASK_YIELD's order is test_sched.c's test_yield_after_tick. */
static void test_self_wake_order(void **st)
{
	enum tstep a[] = { TS_YIELD, TS_YIELD, TS_READY };
	enum tstep r[] = { TS_READY };
	const int want[] = { 1, 2, 3, 1, 1 };

	(void)st;
	assert_int_equal(tt_spawn(&sched, 1, a, 3, NULL), 0);
	assert_int_equal(tt_spawn(&sched, 2, r, 1, NULL), 0);
	assert_int_equal(tt_spawn(&sched, 3, r, 1, NULL), 0);
	assert_int_equal(sched_tick(&sched).polled, 5);
	assert_int_equal(poll_log_len, 5);
	assert_memory_equal(poll_log, want, sizeof(want));
}

static void test_join_output(void **st)
{
	enum tstep s[] = { TS_SAVE, TS_READY };
	struct waker_counter cw = { 0 };
	struct waker w = counter_waker(&cw);
	struct context cx = { &w };
	struct join_handle jh;
	int out = 0;

	(void)st;
	assert_int_equal(tt_spawn(&sched, 1, s, 2, &jh), 0);
	assert_int_equal(join_poll(&jh, &cx, &out, sizeof(out)), POLL_PENDING);
	assert_int_equal(cw.refs, 1);
	assert_int_equal(state_of(&jh) & TASK_JOIN_WAKER_MASK, TASK_JW_WAITING);
	/* Polling again with the same waker keeps the one clone. */
	assert_int_equal(join_poll(&jh, &cx, &out, sizeof(out)), POLL_PENDING);
	assert_int_equal(cw.refs, 1);
	sched_tick(&sched);
	assert_int_equal(cw.wakes, 0);
	waker_wake(&tt_of(&jh)->saved);
	sched_tick(&sched);
	/* Completion woke the joiner's waker (consuming the clone). */
	assert_int_equal(cw.wakes, 1);
	assert_int_equal(cw.refs, 0);
	assert_int_equal(state_of(&jh) & TASK_JOIN_WAKER_MASK, TASK_JW_WOKEN);
	assert_true(state_of(&jh) & TASK_HAS_OUTPUT);
	assert_int_equal(join_poll(&jh, &cx, &out, sizeof(out)), POLL_READY);
	assert_int_equal(jh.result, JOIN_OK);
	assert_int_equal(out, 102);
	assert_null(jh.task);
	/* Already finished: READY again, result kept. */
	assert_int_equal(join_poll(&jh, &cx, &out, sizeof(out)), POLL_READY);
	assert_int_equal(jh.result, JOIN_OK);
}

static void test_join_after_completion(void **st)
{
	enum tstep s[] = { TS_READY };
	struct waker_counter cw = { 0 };
	struct waker w = counter_waker(&cw);
	struct context cx = { &w };
	struct join_handle jh;
	int out = 0;

	(void)st;
	assert_int_equal(tt_spawn(&sched, 1, s, 1, &jh), 0);
	sched_tick(&sched);
	assert_int_equal(atomic_load(&live), 1);
	assert_int_equal(join_poll(&jh, &cx, &out, sizeof(out)), POLL_READY);
	assert_int_equal(out, 101);
	assert_int_equal(cw.refs, 0);
	assert_int_equal(cw.wakes, 0);
	assert_int_equal(atomic_load(&live), 0);
}

static void test_join_waker_replaced(void **st)
{
	enum tstep s[] = { TS_PENDING };
	struct waker_counter a = { 0 }, b = { 0 };
	struct waker wa = counter_waker(&a), wb = counter_waker(&b);
	struct context ca = { &wa }, cb = { &wb };
	struct join_handle jh;

	(void)st;
	assert_int_equal(tt_spawn(&sched, 1, s, 1, &jh), 0);
	assert_int_equal(join_poll(&jh, &ca, NULL, 0), POLL_PENDING);
	assert_int_equal(join_poll(&jh, &cb, NULL, 0), POLL_PENDING);
	assert_int_equal(a.refs, 0);
	assert_int_equal(b.refs, 1);
	/* Dropping the handle drops the stored waker; the task goes on. */
	join_drop(&jh);
	assert_int_equal(b.refs, 0);
	assert_int_equal(atomic_load(&live), 1);
	sched_tick(&sched);	/* polled, PENDING, nobody can wake it */
	assert_int_equal(atomic_load(&live), 0);	/* no references left */
	assert_int_equal(a.wakes + b.wakes, 0);
}

/* A joiner's waker whose clone runs the scheduler: the task completes
 * while join_poll() is in its REGISTERING window. */
static int racing_clones, racing_drops;

static const void *racing_clone(const void *d)
{
	racing_clones++;
	sched_tick(&sched);
	return d;
}

static void racing_drop(const void *d)
{
	(void)d;
	racing_drops++;
}

static void racing_wake(const void *d)
{
	(void)d;
	fail_msg("completion must not wake a waker still being registered");
}

static const struct waker_vtable racing_vt = {
	racing_wake, racing_wake, racing_clone, racing_drop,
};

static void test_join_completes_while_registering(void **st)
{
	enum tstep s[] = { TS_READY };
	struct waker w = { &racing_vt, &racing_clones };
	struct context cx = { &w };
	struct join_handle jh;
	int out = 0;

	(void)st;
	racing_clones = racing_drops = 0;
	assert_int_equal(tt_spawn(&sched, 1, s, 1, &jh), 0);
	/* join_poll stores the waker (the clone completes the task), sees
	 * COMPLETED on its way to WAITING, drops the waker and is READY. */
	assert_int_equal(join_poll(&jh, &cx, &out, sizeof(out)), POLL_READY);
	assert_int_equal(racing_clones, 1);
	assert_int_equal(racing_drops, 1);
	assert_int_equal(jh.result, JOIN_OK);
	assert_int_equal(out, 101);
}

static void test_detach(void **st)
{
	enum tstep s[] = { TS_YIELD, TS_READY };
	struct join_handle jh;

	(void)st;
	assert_int_equal(tt_spawn(&sched, 1, s, 2, &jh), 0);
	join_detach(&jh);
	assert_null(jh.task);
	assert_int_equal(atomic_load(&live), 1);
	assert_int_equal(sched_tick(&sched).completed, 1);
	assert_int_equal(atomic_load(&live), 0);
}

static void test_cancel_before_poll(void **st)
{
	enum tstep s[] = { TS_READY };
	struct waker_counter cw = { 0 };
	struct waker w = counter_waker(&cw);
	struct context cx = { &w };
	struct join_handle jh;
	struct sched_tick t;

	(void)st;
	assert_int_equal(tt_spawn(&sched, 1, s, 1, &jh), 0);
	assert_int_equal(join_poll(&jh, &cx, NULL, 0), POLL_PENDING);
	assert_true(join_cancel(&jh));
	assert_false(join_cancel(&jh));		/* already cancelled */
	assert_int_equal(sched_queued(&sched), 1);	/* still once */
	t = sched_tick(&sched);
	assert_int_equal(t.polled, 0);
	assert_int_equal(t.completed, 1);
	assert_int_equal(tt_of(&jh)->polls, 0);
	assert_int_equal(cw.wakes, 1);
	assert_int_equal(join_poll(&jh, &cx, NULL, 0), POLL_READY);
	assert_int_equal(jh.result, JOIN_CANCELLED);
	assert_int_equal(cw.refs, 0);
}

static void test_cancel_idle(void **st)
{
	enum tstep s[] = { TS_SAVE };
	struct join_handle jh;
	struct sched_tick t;
	uint64_t refs;

	(void)st;
	assert_int_equal(tt_spawn(&sched, 1, s, 1, &jh), 0);
	sched_tick(&sched);
	refs = task_state_refs(state_of(&jh));
	assert_true(join_cancel(&jh));
	/* Idle task: CANCELED + WOKEN, one more reference, queued. */
	assert_int_equal(state_of(&jh) & (TASK_CANCELED | TASK_WOKEN),
			 TASK_CANCELED | TASK_WOKEN);
	assert_int_equal(task_state_refs(state_of(&jh)), refs + 1);
	assert_int_equal(sched_queued(&sched), 1);
	/* A wake now does nothing more. */
	waker_wake_by_ref(&tt_of(&jh)->saved);
	assert_int_equal(sched_queued(&sched), 1);
	t = sched_tick(&sched);
	assert_int_equal(t.polled, 0);
	assert_int_equal(t.completed, 1);
	assert_int_equal(tt_of(&jh)->polls, 1);
	waker_wake(&tt_of(&jh)->saved);		/* completed: no-op */
	assert_int_equal(sched_tick(&sched).polled, 0);
	assert_int_equal(join_poll(&jh, &(struct context){ NULL }, NULL, 0),
			 POLL_READY);
	assert_int_equal(jh.result, JOIN_CANCELLED);
}

/* A task that cancels itself through a handle while being polled. */
struct selfcancel {
	struct task task;
	struct join_handle *jh;
	int ready_anyway;
	int polls;
	int out;
};

static enum poll selfcancel_poll(struct task *t, struct context *cx)
{
	struct selfcancel *sc = container_of(t, struct selfcancel, task);

	(void)cx;
	sc->polls++;
	/* While POLLING a cancel only sets CANCELED + WOKEN. */
	if (!join_cancel(sc->jh))
		abort();
	if (!(task_state_load(t) & TASK_WOKEN))
		abort();
	sc->out = 5;
	return sc->ready_anyway ? POLL_READY : POLL_PENDING;
}

static void sc_dealloc(struct task *t)
{
	(void)t;
	atomic_fetch_sub(&live, 1);
}

static const struct task_vtable sc_vt = {
	.poll = selfcancel_poll, .deallocate = sc_dealloc,
	TASK_OUTPUT(struct selfcancel, out),
};

static void test_cancel_while_polling(void **st)
{
	struct join_handle jh;
	struct sched_tick t;
	int out = 0;

	(void)st;
	for (int ready = 0; ready <= 1; ready++) {
		struct selfcancel init = { .jh = &jh, .ready_anyway = ready };

		atomic_fetch_add(&live, 1);
		assert_int_equal(sched_spawn(&sched, &sc_vt, &init, sizeof(init), &jh), 0);
		t = sched_tick(&sched);
		assert_int_equal(t.polled, 1);	/* never polled again */
		assert_int_equal(t.completed, 1);
		assert_int_equal(container_of(jh.task, struct selfcancel, task)->polls, 1);
		assert_int_equal(join_poll(&jh, &(struct context){ NULL }, &out,
					   sizeof(out)), POLL_READY);
		/* A poll that returned READY anyway has its output. */
		assert_int_equal(jh.result, ready ? JOIN_OK : JOIN_CANCELLED);
	}
}

static void test_cancel_completed(void **st)
{
	enum tstep s[] = { TS_READY };
	struct join_handle jh;

	(void)st;
	assert_int_equal(tt_spawn(&sched, 1, s, 1, &jh), 0);
	sched_tick(&sched);
	assert_false(join_cancel(&jh));
	assert_int_equal(sched_queued(&sched), 0);
	assert_int_equal(join_poll(&jh, &(struct context){ NULL }, NULL, 0),
			 POLL_READY);
	assert_int_equal(jh.result, JOIN_OK);
}

static void test_refcount(void **st)
{
	enum tstep s[] = { TS_SAVE, TS_READY };
	struct join_handle jh;
	struct waker ws[10];

	(void)st;
	assert_int_equal(tt_spawn(&sched, 1, s, 2, &jh), 0);
	sched_tick(&sched);
	for (int i = 0; i < 10; i++)
		ws[i] = waker_clone(&tt_of(&jh)->saved);
	assert_int_equal(task_state_refs(state_of(&jh)), 12);
	for (int i = 0; i < 10; i++)
		waker_drop(&ws[i]);
	assert_int_equal(task_state_refs(state_of(&jh)), 2);
	waker_wake(&tt_of(&jh)->saved);
	sched_tick(&sched);
	assert_int_equal(atomic_load(&live), 1);
	assert_int_equal(task_state_refs(state_of(&jh)), 1);
	join_drop(&jh);
	assert_int_equal(atomic_load(&live), 0);
}

static void test_output_size_mismatch(void **st)
{
	enum tstep s[] = { TS_READY };
	struct join_handle jh;
	char small;

	(void)st;
	assert_int_equal(tt_spawn(&sched, 1, s, 1, &jh), 0);
	sched_tick(&sched);
	expect_assert_failure(join_poll(&jh, &(struct context){ NULL }, &small,
					sizeof(small)));
	/* The handle was not consumed; finish properly. */
	assert_int_equal(join_poll(&jh, &(struct context){ NULL }, NULL, 0),
			 POLL_READY);
}

static void test_no_poll_function(void **st)
{
	static const struct task_vtable bad = { .poll = NULL };
	static struct task storage;

	(void)st;
	expect_assert_failure(sched_spawn_allocated(&sched, &storage, &bad, NULL));
	assert_int_equal(sched_queued(&sched), 0);
}

int main(void)
{
#define T(f) cmocka_unit_test_setup_teardown(f, setup, teardown)
	const struct CMUnitTest tests[] = {
		T(test_spawn_complete_free),
		T(test_spawn_allocated),
		T(test_spawn_leaves_second_line),
		T(test_pending_task_dropped_runs_drop_state),
		T(test_drop_state_keeps_a_reference),
		T(test_wake_rules),
		T(test_wake_while_polling),
		T(test_self_wake_order),
		T(test_join_output),
		T(test_join_after_completion),
		T(test_join_waker_replaced),
		T(test_join_completes_while_registering),
		T(test_detach),
		T(test_cancel_before_poll),
		T(test_cancel_idle),
		T(test_cancel_while_polling),
		T(test_cancel_completed),
		T(test_refcount),
		T(test_output_size_mismatch),
		T(test_no_poll_function),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
