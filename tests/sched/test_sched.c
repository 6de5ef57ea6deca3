/*
 * test_sched.c - the scheduler's tick (budget, fields, BUSY), its hooks,
 * the TASK_* macros, the injector and the stealer's counts.
 *
 * Single-threaded; the "other core" of the hooks is simulated by flipping
 * what the on_owner hook answers.  The scheduler asks the hook only
 * outside its own tick (inside, the ticking thread is the owner), so the
 * flips simulate wakes and spawns made between ticks; what a poll does
 * is the owner's.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "lib/trace.h"
#include "task_util.h"

static struct scheduler sched, thief;
static int notified, notified_thief;
static bool on_owner_answer;

static void notify(void *arg)
{
	(*(int *)arg)++;
}

static bool on_owner(void *arg)
{
	(void)arg;
	return on_owner_answer;
}

static int setup(void **state)
{
	struct sched_hooks h = { notify, on_owner, &notified };
	struct sched_hooks ht = { notify, NULL, &notified_thief };

	(void)state;
	sched_init(&sched, 0, &h);
	sched_init(&thief, 1, &ht);
	notified = notified_thief = 0;
	on_owner_answer = false;
	atomic_store(&live, 0);
	tt_log_reset();
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	assert_int_equal(sched_check(&sched), 0);
	assert_int_equal(sched_check(&thief), 0);
	assert_int_equal(sched_queued(&sched), 0);
	assert_int_equal(sched_queued(&thief), 0);
	assert_int_equal(atomic_load(&live), 0);
	/* Tasks freed while on_owner said yes sit in sched's task cache. */
	sched_cache_drain(&sched);
	sched_cache_drain(&thief);
	return 0;
}

static void test_budget(void **st)
{
	enum tstep r[] = { TS_READY };
	const unsigned extra = 44;
	struct sched_tick t;

	(void)st;
	for (unsigned i = 0; i < SCHED_TICK_BUDGET + extra; i++)
		assert_int_equal(tt_spawn(&sched, (int)i, r, 1, NULL), 0);
	assert_int_equal(notified, SCHED_TICK_BUDGET + extra);
	assert_int_equal(sched_check(&sched), SCHED_TICK_BUDGET + extra);
	t = sched_tick(&sched);
	assert_int_equal(sched_check(&sched), extra);
	assert_int_equal(t.polled, SCHED_TICK_BUDGET);
	assert_int_equal(t.completed, SCHED_TICK_BUDGET);
	assert_true(t.has_remaining);
	assert_int_equal(sched_queued(&sched), extra);
	t = sched_tick(&sched);
	assert_int_equal(t.polled, extra);
	assert_false(t.has_remaining);
	t = sched_tick(&sched);
	assert_int_equal(t.polled, 0);
	assert_false(t.has_remaining);
}

static void test_yield_budget(void **st)
{
	/* One task waking itself by reference forever (a wake, not a
	 * TASK_YIELD): each tick polls it exactly budget times, then reports
	 * work remaining. */
	enum tstep y[] = { TS_YIELD };
	struct join_handle jh;
	struct sched_tick t;

	(void)st;
	assert_int_equal(tt_spawn(&sched, 1, y, 1, &jh), 0);
	t = sched_tick(&sched);
	assert_int_equal(t.polled, SCHED_TICK_BUDGET);
	assert_int_equal(t.completed, 0);
	assert_true(t.has_remaining);
	assert_true(join_cancel(&jh));
	t = sched_tick(&sched);
	assert_int_equal(t.polled, 0);
	assert_int_equal(t.completed, 1);
	join_drop(&jh);
}

static void test_busy_ends_tick(void **st)
{
	enum tstep r[] = { TS_READY };
	struct sched_tick t;

	(void)st;
	assert_int_equal(tt_spawn(&sched, 1, r, 1, NULL), 0);
	assert_true(mpsc_consumer_trylock(&sched.queue));
	t = sched_tick(&sched);
	assert_int_equal(t.polled, 0);
	assert_true(t.has_remaining);
	mpsc_consumer_unlock(&sched.queue);
	assert_int_equal(sched_tick(&sched).polled, 1);
}

static void test_tick_fields(void **st)
{
	enum tstep s[] = { TS_SAVE, TS_READY };
	enum tstep r[] = { TS_READY };
	struct join_handle a, b;
	struct sched_tick t;

	(void)st;
	assert_int_equal(tt_spawn(&sched, 1, s, 2, &a), 0);
	assert_int_equal(tt_spawn(&sched, 2, s, 2, &b), 0);
	t = sched_tick(&sched);
	/* spawned counts spawns during the tick only. */
	assert_int_equal(t.spawned, 0);
	assert_int_equal(t.polled, 2);
	notified = 0;
	/* One wake "from another core", one "from the owner". */
	on_owner_answer = false;
	waker_wake(&container_of(a.task, struct ttask, task)->saved);
	on_owner_answer = true;
	waker_wake(&container_of(b.task, struct ttask, task)->saved);
	assert_int_equal(notified, 2);
	assert_int_equal(atomic_load(&sched.woken_external), 1);
	assert_int_equal(atomic_load(&sched.woken_internal), 1);
	/* Wakes between ticks show up in the next tick? No: the tick reports
	 * what happened during it.  Spawn from a poll-free point here too. */
	t = sched_tick(&sched);
	assert_int_equal(t.polled, 2);
	assert_int_equal(t.completed, 2);
	assert_int_equal(t.woken_external + t.woken_internal, 0);
	join_drop(&a);
	join_drop(&b);
	(void)r;
}

/* A task that spawns a child onto its own scheduler and wakes a peer. */
struct spawner {
	struct task task;
	struct waker *peer;
};

static enum poll spawner_poll(struct task *t, struct context *cx)
{
	enum tstep r[] = { TS_READY };

	(void)t;
	(void)cx;
	if (tt_spawn(&sched, 9, r, 1, NULL) != 0)
		abort();
	return POLL_READY;
}

static void spawner_dealloc(struct task *t)
{
	(void)t;
	atomic_fetch_sub(&live, 1);
}

static void test_tick_counts_spawns(void **st)
{
	static const struct task_vtable vt = {
		.poll = spawner_poll, .deallocate = spawner_dealloc,
	};
	struct spawner init = { .peer = NULL };
	struct sched_tick t;

	(void)st;
	atomic_fetch_add(&live, 1);
	assert_int_equal(sched_spawn(&sched, &vt, &init, sizeof(init), NULL), 0);
	t = sched_tick(&sched);
	/* The child spawned during the tick ran in the same tick. */
	assert_int_equal(t.spawned, 1);
	assert_int_equal(t.polled, 2);
	assert_int_equal(t.completed, 2);
	assert_int_equal(sched_spawned(&sched), 2);
}

/* ---- trace events and completion ----------------------------------------- */

/*
 * A completing poll's trace event is written before the completion can
 * be seen: `trace COMMAND` turns tracing off as soon as COMMAND's job
 * sees its last child complete, so an event written after that would be
 * lost.  The join waker here looks at the ring when the completion wakes
 * it.  A cancelled task's end is traced the same way, once.
 */
static struct trace_ring *tr_ring;
static unsigned tr_polls_at_wake;

static unsigned tr_count_polls(uint64_t id, unsigned how)
{
	static struct trace_record out[64];
	struct trace_read rd;
	unsigned n = 0;

	trace_ring_copy(tr_ring, out, ARRAY_SIZE(out), &rd);
	for (size_t i = 0; i < rd.copied; i++)
		if (out[i].type == TRACE_POLL && out[i].x == id &&
		    trace_poll_how(out[i].a) == how)
			n++;
	return n;
}

/* This thread poses as core 0 with a ring, cleared; and back. */
static void tr_begin(int *core)
{
	assert_int_equal(trace_setup(1), 0);
	tr_ring = trace_ring_of(0);
	arch_cpu_bind(0);
	arch_set_cpu_local(core);
	trace_clear();
}

static void tr_end(void)
{
	sched_poll_timing_set(false);
	trace_set_enabled(false);
	arch_set_cpu_local(NULL);
	trace_clear();
}

/* The ring's POLL events, oldest first, into p (room for max). */
static unsigned tr_polls(struct trace_record *p, unsigned max)
{
	static struct trace_record out[64];
	struct trace_read rd;
	unsigned n = 0;

	trace_ring_copy(tr_ring, out, ARRAY_SIZE(out), &rd);
	for (size_t i = 0; i < rd.copied; i++)
		if (out[i].type == TRACE_POLL) {
			assert_true(n < max);
			p[n++] = out[i];
		}
	return n;
}

static uint64_t tr_id;
static void tr_wake(const void *d)
{
	(void)d;
	tr_polls_at_wake = tr_count_polls(tr_id, TRACE_POLL_READY);
}

static void tr_nop(const void *d)
{
	(void)d;
}

static const void *tr_clone(const void *d)
{
	return d;
}

static const struct waker_vtable tr_waker_vt = {
	tr_wake, tr_wake, tr_clone, tr_nop,
};

static void test_trace_before_completion(void **st)
{
	static const enum tstep ready[] = { TS_READY }, pend[] = { TS_PENDING };
	struct waker w = { &tr_waker_vt, NULL };
	struct context cx = { &w, NULL };
	struct join_handle jh, jc;
	int dummy_core, out;

	(void)st;
	tr_begin(&dummy_core);
	trace_set_enabled(true);

	assert_int_equal(tt_spawn(&sched, 1, ready, 1, &jh), 0);
	tr_id = jh.task->id;
	tr_polls_at_wake = 99;
	/* The joiner waits: its waker is registered. */
	assert_int_equal(join_poll(&jh, &cx, &out, sizeof(out)), POLL_PENDING);
	(void)sched_tick(&sched);
	assert_int_equal(tr_polls_at_wake, 1);	/* already there */
	assert_int_equal(tr_count_polls(tr_id, TRACE_POLL_READY), 1);
	assert_int_equal(join_poll(&jh, &cx, &out, sizeof(out)), POLL_READY);

	/* Cancelled before its first poll: one RETIRED event, no poll. */
	assert_int_equal(tt_spawn(&sched, 2, pend, 1, &jc), 0);
	tr_id = jc.task->id;
	assert_true(join_cancel(&jc));
	(void)sched_tick(&sched);
	assert_int_equal(tr_count_polls(tr_id, TRACE_POLL_RETIRED), 1);
	assert_int_equal(tr_count_polls(tr_id, TRACE_POLL_READY), 0);
	join_drop(&jc);
	tr_end();
}

/*
 * Tracing reads no clock of its own: with poll timing off, the polls of a
 * batch carry the batch's start, marked untimed; with it on, each poll
 * its own start and duration, and a poll starts where the one before it
 * in the batch ended (one stamp for both).  Three tasks queued make two
 * batches (a batch leaves the queue's last node to the next).
 */
static void test_trace_poll_stamps(void **st)
{
	static const enum tstep once[] = { TS_READY };
	struct trace_record p[4];
	struct join_handle jh[3];
	int dummy_core;

	(void)st;
	tr_begin(&dummy_core);
	trace_set_enabled(true);
	for (int timed = 0; timed < 2; timed++) {
		sched_poll_timing_set(timed);
		trace_clear();
		for (int i = 0; i < 3; i++)
			assert_int_equal(tt_spawn(&sched, i, once, 1, &jh[i]), 0);
		(void)sched_tick(&sched);
		assert_int_equal(tr_polls(p, ARRAY_SIZE(p)), 3);
		for (unsigned i = 0; i < 3; i++) {
			assert_int_equal(p[i].x, jh[i].task->id);
			assert_int_equal(trace_poll_how(p[i].a), TRACE_POLL_READY);
			assert_int_equal(trace_poll_untimed(p[i].a), !timed);
		}
		if (timed) {
			/* B starts where A ended; C's batch after B's end. */
			assert_int_equal(p[1].ts, p[0].ts + trace_poll_stamps(p[0].a));
			assert_true(p[2].ts >= p[1].ts + trace_poll_stamps(p[1].a));
		} else {
			/* One stamp a batch; the second batch's is later. */
			assert_int_equal(p[0].ts, p[1].ts);
			assert_true(p[2].ts > p[1].ts);
			assert_int_equal(trace_poll_stamps(p[0].a), 0);
		}
		for (int i = 0; i < 3; i++)
			join_drop(&jh[i]);
	}
	tr_end();
}

/*
 * Tracing turned on by a poll (`trace COMMAND` does) records the rest of
 * that tick: a completing poll at once (task_run looks the ring up), the
 * others from the tick's next batch (sched_tick looks it up at each batch
 * while it has none).
 */
static enum poll tron_poll(struct task *t, struct context *cx)
{
	(void)t;
	(void)cx;
	trace_set_enabled(true);
	return POLL_READY;
}

static void tron_dealloc(struct task *t)
{
	(void)t;
}

static void test_trace_on_mid_tick(void **st)
{
	static const struct task_vtable tron_vt = {
		.poll = tron_poll, .deallocate = tron_dealloc, .name = "tron",
	};
	static const enum tstep once[] = { TS_READY };
	struct trace_record p[4];
	struct task tron = { 0 };
	struct join_handle jh[2];
	int dummy_core;

	(void)st;
	tr_begin(&dummy_core);
	trace_set_enabled(false);
	assert_int_equal(sched_spawn(&sched, &tron_vt, &tron, sizeof(tron), NULL), 0);
	for (int i = 0; i < 2; i++)
		assert_int_equal(tt_spawn(&sched, i, once, 1, &jh[i]), 0);
	(void)sched_tick(&sched);
	trace_set_enabled(false);
	/* tron's own poll, and both after it, the second in a later batch. */
	assert_int_equal(tr_polls(p, ARRAY_SIZE(p)), 3);
	assert_string_equal((const char *)(uintptr_t)p[0].y, "tron");
	for (int i = 0; i < 2; i++) {
		assert_int_equal(p[i + 1].x, jh[i].task->id);
		join_drop(&jh[i]);
	}
	tr_end();
}

/* Turns tracing on and waits (PENDING, with no wake or spawn: its poll
 * writes no event); READY when polled again. */
static struct waker tron_waker;

static enum poll tron_wait_poll(struct task *t, struct context *cx)
{
	static bool again;

	(void)t;
	if (again) {
		again = false;
		return POLL_READY;
	}
	again = true;
	trace_set_enabled(true);
	tron_waker = waker_clone(cx->waker);
	return POLL_PENDING;
}

/*
 * The same when no poll of the batch writes an event (no wake, no spawn,
 * none completes), so that nothing looks the ring up during it: the
 * polls of the batch after it are traced, in that tick.
 */
static void test_trace_on_mid_tick_next_batch(void **st)
{
	static const struct task_vtable tron_vt = {
		.poll = tron_wait_poll, .deallocate = tron_dealloc,
		.name = "tron",
	};
	static const enum tstep twice[] = { TS_SAVE, TS_READY };
	enum { LATER = 5, N = SCHED_TICK_BATCH - 1 + LATER };
	struct task tron = { 0 };
	struct join_handle jh[N];
	int dummy_core;

	(void)st;
	tr_begin(&dummy_core);
	trace_set_enabled(false);
	assert_int_equal(sched_spawn(&sched, &tron_vt, &tron, sizeof(tron), NULL), 0);
	for (int i = 0; i < N; i++)
		assert_int_equal(tt_spawn(&sched, i, twice, 2, &jh[i]), 0);
	(void)sched_tick(&sched);
	trace_set_enabled(false);
	for (int i = SCHED_TICK_BATCH - 1; i < N; i++)
		assert_int_equal(tr_count_polls(jh[i].task->id,
						TRACE_POLL_PENDING), 1);
	for (int i = 0; i < N; i++) {
		waker_wake(&container_of(jh[i].task, struct ttask, task)->saved);
		join_drop(&jh[i]);
	}
	waker_wake(&tron_waker);
	while (sched_check(&sched) != 0)
		(void)sched_tick(&sched);
	tr_end();
}

/* ---- the TASK_* macros: the example from task.h -------------------------- */

struct counter {
	struct task task;
	unsigned pt;
	int i;
	struct join_handle child;
	int child_out, out;
};

static enum poll counter_poll(struct task *t, struct context *cx)
{
	struct counter *c = container_of(t, struct counter, task);

	TASK_BEGIN(c->pt);
	for (c->i = 0; c->i < 3; c->i++)
		TASK_YIELD();
	TASK_AWAIT(join_poll(&c->child, cx, &c->child_out, sizeof(int)));
	c->out = c->child_out + c->i;
	TASK_END;
}

static void counter_dealloc(struct task *t)
{
	(void)t;
	atomic_fetch_sub(&live, 1);
}

static const struct task_vtable counter_vt = {
	.poll = counter_poll, .deallocate = counter_dealloc,
	TASK_OUTPUT(struct counter, out),
};

static void test_macros(void **st)
{
	enum tstep child[] = { TS_SAVE, TS_READY };
	struct counter init = { .pt = 0 };
	struct join_handle jh, *cjh = &init.child;
	struct context none = { NULL };
	struct ttask *ct;
	int out = 0;

	(void)st;
	/* Spawn the child first with its handle stored in the parent. */
	assert_int_equal(tt_spawn(&sched, 2, child, 2, cjh), 0);
	ct = container_of(cjh->task, struct ttask, task);
	atomic_fetch_add(&live, 1);
	assert_int_equal(sched_spawn(&sched, &counter_vt, &init, sizeof(init), &jh), 0);
	/* Child saves its waker; parent yields 3 times (a tick each) then
	 * awaits. */
	for (int i = 0; i < 3; i++)
		assert_true(sched_tick(&sched).has_remaining);
	assert_false(sched_tick(&sched).has_remaining);
	assert_int_equal(join_poll(&jh, &none, &out, sizeof(out)), POLL_PENDING);
	assert_int_equal(sched_queued(&sched), 0);
	waker_wake(&ct->saved);
	sched_tick(&sched);	/* child completes, wakes parent, parent ends */
	assert_int_equal(join_poll(&jh, &none, &out, sizeof(out)), POLL_READY);
	assert_int_equal(out, 102 + 3);
}

/*
 * TASK_YIELD from a scheduler's poll takes the fast path: no wake through
 * the waker, the task comes back WOKEN in the CAS that ends the poll, is
 * queued again when the tick ends and counts as a wake from the owner; a
 * wake that arrives while it polls is counted once, as that waker's, and
 * the task still waits for the next tick.  Outside a scheduler (no flag)
 * context_yield() wakes through the waker.
 */
struct yielder {
	struct task task;
	unsigned pt;
	int i;
	int tag;
	bool wake_too;		/* also wake itself by reference while polling */
};

static int order[128];
static unsigned norder;

static enum poll yielder_poll(struct task *t, struct context *cx)
{
	struct yielder *y = container_of(t, struct yielder, task);

	TASK_BEGIN(y->pt);
	for (y->i = 0; y->i < 3; y->i++) {
		order[norder++] = y->tag;
		if (y->wake_too)
			waker_wake_by_ref(cx->waker);
		TASK_YIELD();
	}
	TASK_END;
}

static const struct task_vtable yielder_vt = { .poll = yielder_poll };

static void test_yield_fast_path(void **st)
{
	struct yielder a = { .tag = 1 }, b = { .tag = 2, .wake_too = true };
	struct join_handle ja, jb;
	struct sched_tick t;
	const int want[] = { 1, 2, 1, 2, 1, 2 };

	(void)st;
	norder = 0;
	on_owner_answer = true;
	assert_int_equal(sched_spawn(&sched, &yielder_vt, &a, sizeof(a), &ja), 0);
	assert_int_equal(sched_spawn(&sched, &yielder_vt, &b, sizeof(b), &jb), 0);
	/* 3 yielding polls and a completing one each, interleaved: one
	 * poll of each per tick, b's own wakes included. */
	for (int i = 0; i < 4; i++) {
		t = sched_tick(&sched);
		assert_int_equal(t.polled, 2);
		assert_int_equal(t.completed, i == 3 ? 2 : 0);
		assert_int_equal(t.has_remaining, i < 3);
		/* a's yield and b's wake (b's yields add nothing). */
		assert_int_equal(t.woken_internal, i < 3 ? 2 : 0);
		assert_int_equal(t.woken_external, 0);
	}
	assert_int_equal(norder, 6);
	assert_memory_equal(order, want, sizeof(want));
	assert_true(join_is_finished(&ja));
	assert_true(join_is_finished(&jb));
	join_drop(&ja);
	join_drop(&jb);
}

/*
 * A yield leaves the task POLLING until its next poll (task_run's hold):
 * no state CAS at either end.  A wake meanwhile only sets WOKEN: no
 * second enqueue, no notify, not counted (as a wake that finds a queued
 * task WOKEN); the next poll clears it.  `tasks` calls it queued, and a
 * cancel retires it unpolled.
 */
struct holder {
	struct task task;
	unsigned pt;
	int polls;
	struct waker saved;
};

static enum poll holder_poll(struct task *t, struct context *cx)
{
	struct holder *h = container_of(t, struct holder, task);

	h->polls++;
	TASK_BEGIN(h->pt);
	h->saved = waker_clone(cx->waker);
	TASK_YIELD();
	TASK_YIELD();
	TASK_END;
}

static const struct task_vtable holder_vt = { .poll = holder_poll };

static void test_yield_holds_task(void **st)
{
	struct holder init = { .polls = 0 }, *h;
	struct join_handle jh;
	struct task_info ti;
	struct sched_tick t;
	uint64_t w;

	(void)st;
	on_owner_answer = true;
	assert_int_equal(sched_spawn(&sched, &holder_vt, &init, sizeof(init),
				     &jh), 0);
	h = container_of(jh.task, struct holder, task);
	t = sched_tick(&sched);
	assert_int_equal(t.polled, 1);
	assert_int_equal(t.woken_internal, 1);	/* the yield */
	assert_int_equal(atomic_load(&h->task.held), 1);
	w = task_state_load(&h->task);
	assert_int_equal(w & (TASK_POLLING | TASK_WOKEN), TASK_POLLING);
	assert_int_equal(sched_queued(&sched), 1);
	assert_true(task_info_of(&h->task, &ti));
	assert_int_equal(ti.state, TASK_INFO_QUEUED);

	/* A wake "from another core" while it is held. */
	notified = 0;
	on_owner_answer = false;
	w = atomic_load(&sched.woken_external);
	waker_wake_by_ref(&h->saved);
	on_owner_answer = true;
	assert_int_equal(task_state_load(&h->task) &
			 (TASK_POLLING | TASK_WOKEN), TASK_POLLING | TASK_WOKEN);
	assert_int_equal(notified, 0);
	assert_int_equal(atomic_load(&sched.woken_external), w);
	assert_int_equal(sched_queued(&sched), 1);
	assert_int_equal(sched_check(&sched), 1);

	/* Polled once for both; held again by its second yield. */
	t = sched_tick(&sched);
	assert_int_equal(t.polled, 1);
	assert_int_equal(h->polls, 2);
	assert_int_equal(task_state_load(&h->task) &
			 (TASK_POLLING | TASK_WOKEN), TASK_POLLING);

	/* Cancelled while held: retired without a poll. */
	assert_true(join_cancel(&jh));
	t = sched_tick(&sched);
	assert_int_equal(t.polled, 0);
	assert_int_equal(t.completed, 1);
	assert_int_equal(h->polls, 2);
	assert_true(join_is_finished(&jh));
	waker_drop(&h->saved);
	assert_int_equal(join_poll(&jh, &(struct context){ NULL }, NULL, 0),
			 POLL_READY);
	assert_int_equal(jh.result, JOIN_CANCELLED);
	assert_int_equal(sched_queued(&sched), 0);
}

/*
 * A yield waits for everything queued or woken during the rest of the
 * tick: yielder 1 runs, then 3, which spawns 4 onto the same scheduler;
 * 4 runs in that tick, 1 only in the next.
 */
struct ytag {
	struct task task;
	int tag;
};

static enum poll recorder_poll(struct task *t, struct context *cx)
{
	(void)cx;
	order[norder++] = container_of(t, struct ytag, task)->tag;
	return POLL_READY;
}

static const struct task_vtable recorder_vt = { .poll = recorder_poll };

static enum poll yspawner_poll(struct task *t, struct context *cx)
{
	struct ytag child = { .tag = 4 };

	(void)cx;
	order[norder++] = container_of(t, struct ytag, task)->tag;
	assert_int_equal(sched_spawn(&sched, &recorder_vt, &child,
				     sizeof(child), NULL), 0);
	return POLL_READY;
}

static const struct task_vtable yspawner_vt = { .poll = yspawner_poll };

static void test_yield_after_tick(void **st)
{
	struct yielder y = { .tag = 1 };
	struct ytag sp = { .tag = 3 };
	struct sched_tick t;
	const int want[] = { 1, 3, 4, 1, 1 };

	(void)st;
	norder = 0;
	assert_int_equal(sched_spawn(&sched, &yielder_vt, &y, sizeof(y), NULL), 0);
	assert_int_equal(sched_spawn(&sched, &yspawner_vt, &sp, sizeof(sp), NULL), 0);
	t = sched_tick(&sched);
	assert_int_equal(t.polled, 3);
	assert_int_equal(t.completed, 2);
	assert_true(t.has_remaining);
	assert_int_equal(norder, 3);
	for (int i = 0; i < 2; i++)
		assert_true(sched_tick(&sched).has_remaining);
	t = sched_tick(&sched);
	assert_int_equal(t.completed, 1);
	assert_false(t.has_remaining);
	assert_int_equal(norder, 5);
	assert_memory_equal(order, want, sizeof(want));
}

/*
 * More yielders than the budget: a tick polls the first 64 and queues
 * them behind the 36 it did not reach, so the next tick polls 64..99 and
 * then 0..27.  A yielder cancelled while a tick holds it is retired
 * unpolled by the next tick.
 */
#define NY	100

static void test_yield_budget_order(void **st)
{
	struct join_handle jh[NY];
	struct sched_tick t;
	size_t queued;

	(void)st;
	norder = 0;
	for (int i = 0; i < NY; i++) {
		struct yielder y = { .tag = i };

		assert_int_equal(sched_spawn(&sched, &yielder_vt, &y, sizeof(y),
					     &jh[i]), 0);
	}
	assert_int_equal(sched_tick(&sched).polled, SCHED_TICK_BUDGET);
	assert_int_equal(sched_check(&sched), NY);
	norder = 0;
	t = sched_tick(&sched);
	assert_int_equal(t.polled, SCHED_TICK_BUDGET);
	assert_int_equal(norder, SCHED_TICK_BUDGET);
	for (int i = 0; i < NY - SCHED_TICK_BUDGET; i++)
		assert_int_equal(order[i], SCHED_TICK_BUDGET + i);
	for (int i = NY - SCHED_TICK_BUDGET; i < SCHED_TICK_BUDGET; i++)
		assert_int_equal(order[i], i - (NY - SCHED_TICK_BUDGET));
	/* Cancel them all; each is queued (WOKEN): retired, never polled. */
	for (int i = 0; i < NY; i++)
		assert_true(join_cancel(&jh[i]));
	queued = sched_check(&sched);
	assert_int_equal(queued, NY);
	norder = 0;
	t = sched_tick(&sched);
	t.completed += sched_tick(&sched).completed;
	assert_int_equal(norder, 0);
	assert_int_equal(t.completed, NY);
	for (int i = 0; i < NY; i++)
		join_drop(&jh[i]);
}

static void test_yield_without_scheduler(void **st)
{
	struct waker_counter c = { 0 };
	struct waker w = counter_waker(&c);
	struct context cx = { &w };

	(void)st;
	/* A context built by hand has no flag: the waker is woken. */
	context_yield(&cx);
	assert_int_equal(c.wakes, 1);
	assert_int_equal(c.refs, 0);
}

/* ---- joiners outside the runtime ---------------------------------------- */

static struct waker_counter jw_counter;
static int jw_seen;

/* jw_counter back to zero, and a context of *w, its waker. */
static struct context jw_reset(struct waker *w)
{
	atomic_store(&jw_counter.wakes, 0);
	atomic_store(&jw_counter.refs, 0);
	*w = counter_waker(&jw_counter);
	return (struct context){ w };
}

/* Reads how many outside joiners were woken so far, then completes. */
static enum poll jw_probe_poll(struct task *t, struct context *cx)
{
	(void)t;
	(void)cx;
	jw_seen = atomic_load(&jw_counter.wakes);
	return POLL_READY;
}

static const struct task_vtable jw_probe_vt = {
	.poll = jw_probe_poll, .deallocate = tron_dealloc, .name = "probe",
};

/*
 * A joiner outside the runtime (a counter's waker here, a thread's parker
 * in a program) is woken when the batch that completed its task ends: the
 * probe, polled after A in the same batch, sees no wake yet.
 */
static void test_outside_joiner_woken_at_batch_end(void **st)
{
	static const enum tstep once[] = { TS_READY };
	struct waker w;
	struct context cx;
	struct task probe = { 0 };
	struct join_handle a;
	int out;

	(void)st;
	cx = jw_reset(&w);
	jw_seen = -1;
	assert_int_equal(tt_spawn(&sched, 1, once, 1, &a), 0);
	assert_int_equal(sched_spawn(&sched, &jw_probe_vt, &probe, sizeof(probe),
				     NULL), 0);
	/* A batch leaves the queue's last task to the next: this one. */
	assert_int_equal(tt_spawn(&sched, 3, once, 1, NULL), 0);
	assert_int_equal(join_poll(&a, &cx, &out, sizeof(out)), POLL_PENDING);
	assert_int_equal(atomic_load(&jw_counter.refs), 1);
	(void)sched_tick(&sched);
	assert_int_equal(jw_seen, 0);
	assert_int_equal(atomic_load(&jw_counter.wakes), 1);
	assert_int_equal(atomic_load(&jw_counter.refs), 0);
	assert_int_equal(join_poll(&a, &cx, &out, sizeof(out)), POLL_READY);
	assert_int_equal(out, 101);
}

/*
 * Joiners of three tasks of one batch with the same waker (a thread
 * joining in order): one wake, every reference given back.
 */
static void test_outside_joiner_woken_once(void **st)
{
	static const enum tstep once[] = { TS_READY };
	struct waker w;
	struct context cx;
	struct join_handle jh[3];
	int out;

	(void)st;
	cx = jw_reset(&w);
	for (int i = 0; i < 3; i++)
		assert_int_equal(tt_spawn(&sched, i, once, 1, &jh[i]), 0);
	/* A batch leaves the queue's last task to the next: this one. */
	assert_int_equal(tt_spawn(&sched, 9, once, 1, NULL), 0);
	for (int i = 0; i < 3; i++)
		assert_int_equal(join_poll(&jh[i], &cx, &out, sizeof(out)),
				 POLL_PENDING);
	assert_int_equal(atomic_load(&jw_counter.refs), 3);
	(void)sched_tick(&sched);
	assert_int_equal(atomic_load(&jw_counter.wakes), 1);
	assert_int_equal(atomic_load(&jw_counter.refs), 0);
	for (int i = 0; i < 3; i++)
		assert_int_equal(join_poll(&jh[i], &cx, &out, sizeof(out)),
				 POLL_READY);
}

/*
 * More outside joiners in one batch than it holds: each parent joins a
 * child it spawns (the child runs next, from the LIFO slot) from outside,
 * and is joined from outside itself, each by a waker of its own.  Every
 * one is woken by the tick's end, once.
 */
enum { JW_PARENTS = SCHED_TICK_BATCH + 1 };
static struct waker_counter jw_counters[2 * JW_PARENTS];
static struct join_handle jw_child[JW_PARENTS];
static unsigned jw_nchild;

static enum poll jw_parent_poll(struct task *t, struct context *cx)
{
	static const enum tstep once[] = { TS_READY };
	unsigned k = jw_nchild++;
	struct waker w = counter_waker(&jw_counters[JW_PARENTS + k]);
	struct context outside = { &w };
	int out;

	(void)t;
	(void)cx;
	assert_int_equal(tt_spawn(&sched, 50, once, 1, &jw_child[k]), 0);
	assert_int_equal(join_poll(&jw_child[k], &outside, &out, sizeof(out)),
			 POLL_PENDING);
	return POLL_READY;
}

static const struct task_vtable jw_parent_vt = {
	.poll = jw_parent_poll, .deallocate = tron_dealloc, .name = "parent",
};

static void test_outside_joiners_overflow_batch(void **st)
{
	struct join_handle p[JW_PARENTS];
	struct task init = { 0 };
	int out;

	(void)st;
	memset(jw_counters, 0, sizeof(jw_counters));
	jw_nchild = 0;
	/* A batch of SCHED_TICK_BATCH parents, the last left for the next:
	 * 2 x 16 joiners in the first, 8 times what it holds. */
	_Static_assert(2 * SCHED_TICK_BATCH > SCHED_JOIN_WAKES,
		       "the first batch overflows");
	for (int i = 0; i < JW_PARENTS; i++) {
		struct waker w = counter_waker(&jw_counters[i]);
		struct context cx = { &w };

		assert_int_equal(sched_spawn(&sched, &jw_parent_vt, &init,
					     sizeof(init), &p[i]), 0);
		assert_int_equal(join_poll(&p[i], &cx, NULL, 0), POLL_PENDING);
	}
	while (sched_check(&sched) != 0)
		(void)sched_tick(&sched);
	assert_int_equal(jw_nchild, JW_PARENTS);
	for (int i = 0; i < 2 * JW_PARENTS; i++) {
		assert_int_equal(atomic_load(&jw_counters[i].wakes), 1);
		assert_int_equal(atomic_load(&jw_counters[i].refs), 0);
	}
	for (int i = 0; i < JW_PARENTS; i++) {
		struct waker w = counter_waker(&jw_counters[i]);
		struct context cx = { &w };

		assert_int_equal(join_poll(&p[i], &cx, NULL, 0), POLL_READY);
		assert_int_equal(join_poll(&jw_child[i], &cx, &out, sizeof(out)),
				 POLL_READY);
	}
}

/* ---- injector and stealer ------------------------------------------------ */

static struct injector inj = INJECTOR_INIT(inj);

static void test_injector(void **st)
{
	enum tstep r[] = { TS_READY };
	struct ttask init = { .nsteps = 1, .script = { TS_READY } };
	struct stealer s;
	int inj_notified = 0;

	(void)st;
	(void)r;
	injector_set_notify(&inj, notify, &inj_notified);
	assert_int_equal(injector_try_steal(&inj, &s), STEAL_EMPTY);
	for (int i = 0; i < 5; i++) {
		atomic_fetch_add(&live, 1);
		assert_int_equal(injector_spawn(&inj, &tt_vt, &init, sizeof(init), NULL), 0);
	}
	assert_int_equal(inj_notified, 5);
	assert_int_equal(injector_queued(&inj), 5);
	assert_int_equal(atomic_load(&inj.injected), 5);
	assert_int_equal(injector_try_steal(&inj, &s), STEAL_OK);
	assert_int_equal(s.initial_task_count, 5);
	/* A second thief meets BUSY while the first holds it. */
	{
		struct stealer s2;

		assert_int_equal(injector_try_steal(&inj, &s2), STEAL_BUSY);
	}
	assert_int_equal(stealer_spawn_n(&s, &thief, 3), 3);
	stealer_release(&s);
	assert_int_equal(injector_queued(&inj), 2);
	assert_int_equal(sched_queued(&thief), 3);
	assert_int_equal(atomic_load(&thief.stolen_in), 3);
	assert_int_equal(sched_tick(&thief).completed, 3);
	assert_int_equal(injector_try_steal(&inj, &s), STEAL_OK);
	assert_int_equal(stealer_spawn_n(&s, &thief, 100), 2);
	stealer_release(&s);
	assert_int_equal(sched_tick(&thief).completed, 2);
	injector_set_notify(&inj, NULL, NULL);
}

static void test_injector_cancelled(void **st)
{
	struct ttask init = { .nsteps = 1, .script = { TS_READY } };
	struct join_handle jh[2];
	struct stealer s;

	(void)st;
	for (int i = 0; i < 2; i++) {
		atomic_fetch_add(&live, 1);
		assert_int_equal(injector_spawn(&inj, &tt_vt, &init, sizeof(init), &jh[i]), 0);
	}
	/* Queued in the injector (unbound): cancel only marks it. */
	assert_true(join_cancel(&jh[0]));
	assert_int_equal(injector_queued(&inj), 2);
	assert_int_equal(injector_try_steal(&inj, &s), STEAL_OK);
	assert_int_equal(stealer_spawn_n(&s, &thief, 2), 1);
	assert_int_equal(s.released, 1);
	stealer_release(&s);
	assert_int_equal(injector_queued(&inj), 0);
	assert_int_equal(sched_tick(&thief).completed, 1);
	for (int i = 0; i < 2; i++) {
		assert_int_equal(join_poll(&jh[i], &(struct context){ NULL }, NULL, 0),
				 POLL_READY);
		assert_int_equal(jh[i].result, i == 0 ? JOIN_CANCELLED : JOIN_OK);
	}
	assert_int_equal(poll_log_len, 1);
}

static void test_steal_counts(void **st)
{
	enum tstep r[] = { TS_READY };
	const size_t avail = 10;

	(void)st;
	/* Asking for n moves exactly min(n, available), never n + 1. */
	for (size_t n = 0; n <= avail + 2; n++) {
		struct stealer s;
		size_t want = MIN(n, avail);

		for (size_t i = 0; i < avail; i++)
			assert_int_equal(tt_spawn(&sched, (int)i, r, 1, NULL), 0);
		assert_int_equal(sched_try_steal(&sched, &s), STEAL_OK);
		assert_int_equal(s.initial_task_count, avail);
		assert_int_equal(stealer_spawn_n(&s, &thief, n), want);
		assert_int_equal(s.moved, want);
		stealer_release(&s);
		assert_int_equal(sched_queued(&sched), avail - want);
		assert_int_equal(sched_queued(&thief), want);
		assert_int_equal(sched_tick(&thief).completed, want);
		assert_int_equal(sched_tick(&sched).completed, avail - want);
	}
	assert_int_equal(atomic_load(&sched.stolen_out), atomic_load(&thief.stolen_in));
	{
		struct stealer s;

		assert_int_equal(sched_try_steal(&sched, &s), STEAL_EMPTY);
		assert_true(mpsc_consumer_trylock(&sched.queue));
		assert_int_equal(tt_spawn(&sched, 0, r, 1, NULL), 0);
		assert_int_equal(sched_try_steal(&sched, &s), STEAL_BUSY);
		mpsc_consumer_unlock(&sched.queue);
		assert_int_equal(sched_tick(&sched).completed, 1);
	}
}

static void test_steal_skips_cancelled(void **st)
{
	enum tstep r[] = { TS_READY };
	struct join_handle jh[4];
	struct stealer s;

	(void)st;
	for (int i = 0; i < 4; i++)
		assert_int_equal(tt_spawn(&sched, i, r, 1, &jh[i]), 0);
	assert_true(join_cancel(&jh[0]));
	assert_true(join_cancel(&jh[2]));
	assert_int_equal(sched_try_steal(&sched, &s), STEAL_OK);
	/* Two asked: task 1 and task 3 move; 0 and 2 are released. */
	assert_int_equal(stealer_spawn_n(&s, &thief, 2), 2);
	assert_int_equal(s.released, 2);
	stealer_release(&s);
	assert_int_equal(sched_queued(&sched), 0);
	assert_int_equal(sched_queued(&thief), 2);
	for (int i = 0; i < 4; i += 2) {
		assert_true(join_is_finished(&jh[i]));
		assert_int_equal(join_poll(&jh[i], &(struct context){ NULL }, NULL, 0),
				 POLL_READY);
		assert_int_equal(jh[i].result, JOIN_CANCELLED);
	}
	sched_tick(&thief);
	for (int i = 1; i < 4; i += 2) {
		assert_int_equal(join_poll(&jh[i], &(struct context){ NULL }, NULL, 0),
				 POLL_READY);
		assert_int_equal(jh[i].result, JOIN_OK);
	}
	assert_int_equal(poll_log_len, 2);
}

static void test_steal_rebinds(void **st)
{
	enum tstep s[] = { TS_SAVE, TS_READY };
	struct join_handle jh;
	struct stealer stl;

	(void)st;
	assert_int_equal(tt_spawn(&sched, 1, s, 2, &jh), 0);
	assert_int_equal(sched_try_steal(&sched, &stl), STEAL_OK);
	assert_true(stealer_spawn_one(&stl, &thief));
	assert_false(stealer_spawn_one(&stl, &thief));
	stealer_release(&stl);
	assert_ptr_equal(atomic_load(&jh.task->sched), &thief);
	sched_tick(&thief);
	/* Its next wake goes to the thief, and notifies the thief. */
	notified = notified_thief = 0;
	waker_wake(&container_of(jh.task, struct ttask, task)->saved);
	assert_int_equal(sched_queued(&thief), 1);
	assert_int_equal(sched_queued(&sched), 0);
	assert_int_equal(notified_thief, 1);
	assert_int_equal(notified, 0);
	assert_int_equal(sched_tick(&thief).completed, 1);
	join_drop(&jh);
}

static void test_steal_from_self(void **st)
{
	enum tstep r[] = { TS_READY };
	struct stealer s;

	(void)st;
	assert_int_equal(tt_spawn(&sched, 1, r, 1, NULL), 0);
	assert_int_equal(sched_try_steal(&sched, &s), STEAL_OK);
	expect_assert_failure(stealer_spawn_one(&s, &sched));
	stealer_release(&s);
	assert_int_equal(sched_tick(&sched).completed, 1);
}

/*
 * The LIFO slot: a task a poll wakes on its own scheduler, or the last
 * it spawns there, is polled when that poll returns, ahead of the queue;
 * at most SCHED_LIFO_MAX in a row; a kick during the poll puts a woken
 * one back on the queue.
 */
struct lifo_task {
	struct task task;
	int tag;
	int spawn_chain;	/* spawn a task tagged tag + 1, this many deep */
	bool wake_saved;	/* wake the saved waker */
	bool kick;		/* then play a kick (sched_release_batch) */
	bool save;		/* save our waker, return PENDING once */
	unsigned polls;
};

static struct waker lifo_saved;
static bool lifo_released;

static enum poll lifo_poll(struct task *t, struct context *cx);
static const struct task_vtable lifo_vt = { .poll = lifo_poll };

static enum poll lifo_poll(struct task *t, struct context *cx)
{
	struct lifo_task *l = container_of(t, struct lifo_task, task);

	order[norder++] = l->tag;
	if (l->save && l->polls++ == 0) {
		lifo_saved = waker_clone(cx->waker);
		return POLL_PENDING;
	}
	if (l->wake_saved)
		waker_wake(&lifo_saved);
	if (l->kick)
		lifo_released = sched_release_batch(&sched);
	if (l->spawn_chain > 0) {
		struct lifo_task child = {
			.tag = l->tag + 1, .spawn_chain = l->spawn_chain - 1,
		};

		assert_int_equal(sched_spawn(&sched, &lifo_vt, &child,
					     sizeof(child), NULL), 0);
	}
	return POLL_READY;
}

static void lifo_run(struct lifo_task *tasks, unsigned n, const int *want,
		     unsigned nwant)
{
	norder = 0;
	on_owner_answer = true;
	for (unsigned i = 0; i < n; i++)
		assert_int_equal(sched_spawn(&sched, &lifo_vt, &tasks[i],
					     sizeof(tasks[i]), NULL), 0);
	while (sched_tick(&sched).has_remaining)
		;
	assert_int_equal(norder, nwant);
	assert_memory_equal(order, want, nwant * sizeof(int));
}

static void test_lifo_slot(void **st)
{
	/* P waits; W wakes it: P runs right after W, before C. */
	struct lifo_task woke[] = {
		{ .tag = 1, .save = true }, { .tag = 2, .wake_saved = true },
		{ .tag = 3 },
	};
	const int woke_want[] = { 1, 2, 1, 3 };
	/* The same with a kick during W's poll: P goes back to the queue. */
	struct lifo_task kicked[] = {
		{ .tag = 1, .save = true },
		{ .tag = 2, .wake_saved = true, .kick = true }, { .tag = 3 },
	};
	const int kicked_want[] = { 1, 2, 3, 1 };
	/* A chain of spawns (10 -> 11 -> ... -> 16) ahead of C (20): at
	 * most SCHED_LIFO_MAX links in a row run from the slot. */
	struct lifo_task chain[] = {
		{ .tag = 10, .spawn_chain = 6 }, { .tag = 20 },
	};
	const int chain_want[] = { 10, 11, 12, 13, 20, 14, 15, 16 };

	(void)st;
	_Static_assert(SCHED_LIFO_MAX == 3, "chain_want assumes 3");
	lifo_run(woke, 3, woke_want, 4);
	lifo_released = false;
	lifo_run(kicked, 3, kicked_want, 4);
	assert_true(lifo_released);
	lifo_run(chain, 2, chain_want, 8);
}

/*
 * The budget stops a tick taking another batch but does not cut a LIFO
 * chain: 48 plain tasks use three batches, then a batch of 16 whose
 * tasks each spawn a chain three deep runs every chain whole, in order,
 * in the same tick, SCHED_TICK_BUDGET + SCHED_TICK_BATCH * SCHED_LIFO_MAX
 * polls in all (the most a tick makes).  Cut by the budget, the chains
 * went to the queue's tail.  One more plain task queued behind them
 * (a batch does not take the queue's last task when it would have to
 * put the stub back: mpsc.c) waits for the next tick.
 */
static void test_lifo_not_cut_by_budget(void **st)
{
	enum { PLAIN = SCHED_TICK_BUDGET - SCHED_TICK_BATCH };
	const unsigned most = SCHED_TICK_BUDGET +
			      SCHED_TICK_BATCH * SCHED_LIFO_MAX;
	struct sched_tick t;
	unsigned k = 0;

	(void)st;
	_Static_assert(SCHED_TICK_BUDGET + SCHED_TICK_BATCH * SCHED_LIFO_MAX <=
		       ARRAY_SIZE(order), "order[] holds a whole tick");
	norder = 0;
	on_owner_answer = true;
	for (int i = 0; i < PLAIN; i++) {
		struct lifo_task l = { .tag = i };

		assert_int_equal(sched_spawn(&sched, &lifo_vt, &l, sizeof(l),
					     NULL), 0);
	}
	for (int i = 0; i < SCHED_TICK_BATCH; i++) {
		struct lifo_task l = {
			.tag = 1000 + 10 * i, .spawn_chain = SCHED_LIFO_MAX,
		};

		assert_int_equal(sched_spawn(&sched, &lifo_vt, &l, sizeof(l),
					     NULL), 0);
	}
	{
		struct lifo_task l = { .tag = 2000 };

		assert_int_equal(sched_spawn(&sched, &lifo_vt, &l, sizeof(l),
					     NULL), 0);
	}
	t = sched_tick(&sched);
	assert_int_equal(t.polled, most);
	assert_int_equal(t.completed, most);
	assert_true(t.has_remaining);
	assert_int_equal(norder, most);
	for (int i = 0; i < PLAIN; i++)
		assert_int_equal(order[k++], i);
	for (int i = 0; i < SCHED_TICK_BATCH; i++)
		for (int d = 0; d <= SCHED_LIFO_MAX; d++)
			assert_int_equal(order[k++], 1000 + 10 * i + d);
	norder = 0;
	t = sched_tick(&sched);
	assert_int_equal(t.polled, 1);
	assert_false(t.has_remaining);
	assert_int_equal(order[0], 2000);
}

int main(void)
{
#define T(f) cmocka_unit_test_setup_teardown(f, setup, teardown)
	const struct CMUnitTest tests[] = {
		T(test_budget),
		T(test_yield_budget),
		T(test_busy_ends_tick),
		T(test_tick_fields),
		T(test_tick_counts_spawns),
		T(test_trace_before_completion),
		T(test_trace_poll_stamps),
		T(test_trace_on_mid_tick),
		T(test_trace_on_mid_tick_next_batch),
		T(test_outside_joiner_woken_at_batch_end),
		T(test_outside_joiner_woken_once),
		T(test_outside_joiners_overflow_batch),
		T(test_macros),
		T(test_yield_fast_path),
		T(test_yield_holds_task),
		T(test_yield_after_tick),
		T(test_lifo_slot),
		T(test_lifo_not_cut_by_budget),
		T(test_yield_budget_order),
		T(test_yield_without_scheduler),
		T(test_injector),
		T(test_injector_cancelled),
		T(test_steal_counts),
		T(test_steal_skips_cancelled),
		T(test_steal_rebinds),
		T(test_steal_from_self),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
