/*
 * test_model.c - model-based random test of the task state machine.
 *
 * Random sequences of spawn / wake (by ref, by value) / clone / drop /
 * tick / cancel / join / drop handle / steal, with tasks that finish,
 * stay pending, wake themselves, save their waker or TASK_YIELD, run
 * against the real scheduler and against a small reference model (FIFO
 * run queues, flags, reference count per task).  After every step the test compares each
 * live task's state word, reference count and queue, every tick's fields
 * and poll order, and which tasks have been freed.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "sched/scheduler.h"
#include "tests/support/rng.h"

#define SLOTS		8
#define MAX_WAKERS	3
#define STEPS		4000
#define SEEDS		20
#define QMAX		(SLOTS * 2)

/* ACT_YIELD wakes itself by reference (to the tail, may run again in the
 * tick); ACT_TASK_YIELD is TASK_YIELD (queued again when the tick ends). */
enum action {
	ACT_READY, ACT_PENDING, ACT_YIELD, ACT_SAVE, ACT_TASK_YIELD, N_ACTIONS
};

/* ---- the real side ------------------------------------------------------- */

struct mtask {
	struct task task;
	int slot;
	int out;
};

static struct scheduler sched[2];		/* [0] victim, [1] thief */
static enum action action[SLOTS];
static struct waker wakers[SLOTS][MAX_WAKERS];
static struct join_handle handles[SLOTS];
static bool freed[SLOTS];
static struct task *tasks[SLOTS];
static int polled_log[SCHED_TICK_BUDGET], polled_len;

static enum poll mt_poll(struct task *t, struct context *cx);

/* ---- the model ----------------------------------------------------------- */

struct model_task {
	bool used;		/* slot holds a task not yet freed */
	bool completed, canceled, output, handle;
	int queue;		/* -1, or the scheduler whose queue holds it */
	int bound;		/* scheduler wakes go to */
	int wakers;		/* clones the test holds */
	/* Queued again by a yield: the word stays POLLING until the next
	 * poll, and a wake meanwhile only sets WOKEN (task_run). */
	bool held, woken_held;
};

static struct model_task m[SLOTS];
static int mq[2][QMAX * SCHED_TICK_BUDGET], mq_head[2], mq_tail[2];
static struct xoroshiro128pp rng;

static int model_refs(int i)
{
	return (m[i].queue >= 0) + m[i].handle + m[i].wakers;
}

static void model_push(int q, int i)
{
	m[i].queue = q;
	mq[q][mq_tail[q]++] = i;
}

static int model_len(int q)
{
	return mq_tail[q] - mq_head[q];
}

/* A drop of references in the model: freed when none are left. */
static void model_settle(int i)
{
	if (m[i].used && model_refs(i) == 0)
		m[i].used = false;
}

static void model_complete(int i, bool output)
{
	m[i].completed = true;
	m[i].output = output;
}

/* ---- the real side, continued -------------------------------------------- */

static enum poll mt_poll(struct task *t, struct context *cx)
{
	struct mtask *mt = container_of(t, struct mtask, task);
	int i = mt->slot;

	polled_log[polled_len++] = i;
	switch (action[i]) {
	case ACT_READY:
		mt->out = i;
		return POLL_READY;
	case ACT_YIELD:
		waker_wake_by_ref(cx->waker);
		return POLL_PENDING;
	case ACT_TASK_YIELD:
		context_yield(cx);
		return POLL_PENDING;
	case ACT_SAVE:
		for (int k = 0; k < MAX_WAKERS; k++) {
			if (!waker_is_some(&wakers[i][k])) {
				wakers[i][k] = waker_clone(cx->waker);
				break;
			}
		}
		return POLL_PENDING;
	default:
		return POLL_PENDING;
	}
}

static void mt_dealloc(struct task *t)
{
	int i = container_of(t, struct mtask, task)->slot;

	assert_false(freed[i]);
	freed[i] = true;
}

static const struct task_vtable mt_vt = {
	.poll = mt_poll, .deallocate = mt_dealloc,
	TASK_OUTPUT(struct mtask, out),
};

/* ---- model of a tick ------------------------------------------------------ */

static void model_tick(int q, struct sched_tick *want, int *log, int *len)
{
	int yielded[SCHED_TICK_BUDGET], ny = 0;

	*len = 0;
	memset(want, 0, sizeof(*want));
	while (want->polled < SCHED_TICK_BUDGET && model_len(q) > 0) {
		int i = mq[q][mq_head[q]++];

		m[i].queue = -1;
		m[i].held = false;
		if (m[i].canceled) {
			model_complete(i, false);
			want->completed++;
			model_settle(i);
			continue;
		}
		log[(*len)++] = i;
		want->polled++;
		switch (action[i]) {
		case ACT_READY:
			model_complete(i, true);
			want->completed++;
			break;
		case ACT_YIELD:
			want->woken_external++;
			model_push(q, i);
			break;
		case ACT_TASK_YIELD:
			/* Counted as the owner's wake, queued at the end. */
			want->woken_internal++;
			yielded[ny++] = i;
			m[i].queue = q;
			m[i].held = true;
			m[i].woken_held = false;
			break;
		case ACT_SAVE:
			if (m[i].wakers < MAX_WAKERS)
				m[i].wakers++;
			break;
		default:
			break;
		}
		model_settle(i);
	}
	for (int k = 0; k < ny; k++) {
		m[yielded[k]].queue = -1;
		model_push(q, yielded[k]);
	}
	want->has_remaining = model_len(q) > 0;
}

/* ---- steps ---------------------------------------------------------------- */

static int pick(bool (*ok)(int))
{
	int start = (int)xoro_below(&rng, SLOTS);

	for (int k = 0; k < SLOTS; k++) {
		int i = (start + k) % SLOTS;

		if (ok(i))
			return i;
	}
	return -1;
}

static bool is_free(int i) { return !m[i].used && !m[i].handle; }
static bool has_waker(int i) { return m[i].used && m[i].wakers > 0; }
static bool has_handle(int i) { return m[i].handle; }

static void step_spawn(void)
{
	int i = pick(is_free);
	struct mtask init = { .slot = i };
	bool keep = xoro_below(&rng, 2);

	if (i < 0)
		return;
	memset(&m[i], 0, sizeof(m[i]));
	m[i].used = true;
	m[i].handle = keep;
	m[i].bound = 0;
	model_push(0, i);
	freed[i] = false;
	action[i] = (enum action)xoro_below(&rng, N_ACTIONS);
	init.slot = i;
	assert_int_equal(sched_spawn(&sched[0], &mt_vt, &init, sizeof(init),
				     keep ? &handles[i] : NULL), 0);
	/* Find the task: it is the tail of queue 0; remember it through a
	 * temporary waker-free path: the handle, or the queue's node. */
	tasks[i] = container_of(atomic_load(&sched[0].queue.head), struct task, run_node);
}

static int last_waker(int i)
{
	for (int k = MAX_WAKERS - 1; k >= 0; k--)
		if (waker_is_some(&wakers[i][k]))
			return k;
	return -1;
}

static void model_wake(int i)
{
	if (!m[i].completed && m[i].queue < 0)
		model_push(m[i].bound, i);
	else if (!m[i].completed && m[i].held)
		m[i].woken_held = true;
}

static void step_wake(bool by_val)
{
	int i = pick(has_waker), k;

	if (i < 0)
		return;
	k = last_waker(i);
	model_wake(i);
	if (by_val) {
		m[i].wakers--;
		model_settle(i);
		waker_wake(&wakers[i][k]);
	} else {
		waker_wake_by_ref(&wakers[i][k]);
	}
}

static void step_clone_or_drop(bool clone)
{
	int i = pick(has_waker), k;

	if (i < 0)
		return;
	k = last_waker(i);
	if (clone && k + 1 < MAX_WAKERS) {
		wakers[i][k + 1] = waker_clone(&wakers[i][k]);
		m[i].wakers++;
	} else if (!clone) {
		m[i].wakers--;
		model_settle(i);
		waker_drop(&wakers[i][k]);
	}
}

static void step_tick(void)
{
	int q = (int)xoro_below(&rng, 2), log[SCHED_TICK_BUDGET], len;
	struct sched_tick want, got;

	model_tick(q, &want, log, &len);
	polled_len = 0;
	got = sched_tick(&sched[q]);
	assert_int_equal(got.polled, want.polled);
	assert_int_equal(got.completed, want.completed);
	assert_int_equal(got.has_remaining, want.has_remaining);
	assert_int_equal(got.spawned, 0);
	/* Yields are the only wakes during a tick: self-wakes count as
	 * external (no on_owner hook), TASK_YIELDs as the owner's. */
	assert_int_equal(got.woken_external, want.woken_external);
	assert_int_equal(got.woken_internal, want.woken_internal);
	assert_int_equal(polled_len, len);
	assert_memory_equal(polled_log, log, (size_t)len * sizeof(int));
}

static void step_cancel(void)
{
	int i = pick(has_handle);
	bool want;

	if (i < 0)
		return;
	want = !m[i].completed && !m[i].canceled;
	if (want) {
		m[i].canceled = true;
		model_wake(i);
	}
	assert_int_equal(join_cancel(&handles[i]), want);
}

static void step_join(bool drop)
{
	int i = pick(has_handle);
	struct context none = { NULL };
	int out = -1;

	if (i < 0)
		return;
	if (drop) {
		m[i].handle = false;
		model_settle(i);
		join_drop(&handles[i]);
		return;
	}
	if (!m[i].completed) {
		assert_int_equal(join_poll(&handles[i], &none, &out, sizeof(out)),
				 POLL_PENDING);
		return;
	}
	assert_int_equal(join_poll(&handles[i], &none, &out, sizeof(out)), POLL_READY);
	assert_int_equal(handles[i].result, m[i].output ? JOIN_OK : JOIN_CANCELLED);
	if (m[i].output)
		assert_int_equal(out, i);
	m[i].handle = false;
	model_settle(i);
}

static void step_steal(void)
{
	int from = (int)xoro_below(&rng, 2), to = 1 - from;
	size_t max = xoro_below(&rng, 4), moved = 0;
	struct stealer st;
	enum steal_result r = sched_try_steal(&sched[from], &st);

	if (model_len(from) == 0) {
		assert_int_equal(r, STEAL_EMPTY);
		return;
	}
	assert_int_equal(r, STEAL_OK);
	assert_int_equal(st.initial_task_count, model_len(from));
	while (moved < max && model_len(from) > 0) {
		int i = mq[from][mq_head[from]++];

		m[i].queue = -1;
		if (m[i].canceled) {
			model_complete(i, false);
			model_settle(i);
			continue;
		}
		m[i].bound = to;
		model_push(to, i);
		moved++;
	}
	assert_int_equal(stealer_spawn_n(&st, &sched[to], max), moved);
	stealer_release(&st);
}

static void check_all(void)
{
	for (int q = 0; q < 2; q++) {
		assert_int_equal(sched_queued(&sched[q]), model_len(q));
		assert_int_equal(sched_check(&sched[q]), model_len(q));
	}
	for (int i = 0; i < SLOTS; i++) {
		uint64_t s;

		assert_int_equal(freed[i], !m[i].used);
		if (!m[i].used)
			continue;
		s = task_state_load(tasks[i]);
		assert_int_equal(task_state_refs(s), model_refs(i));
		assert_int_equal(!!(s & TASK_COMPLETED), m[i].completed);
		assert_int_equal(!!(s & TASK_CANCELED), m[i].canceled);
		assert_int_equal(!!(s & TASK_HAS_JOIN_HANDLE), m[i].handle);
		assert_ptr_equal(atomic_load(&tasks[i]->sched), &sched[m[i].bound]);
		if (m[i].completed) {
			assert_false(s & (TASK_WOKEN | TASK_POLLING));
			continue;
		}
		assert_int_equal(atomic_load(&tasks[i]->held), m[i].held);
		if (m[i].held) {
			assert_true(s & TASK_POLLING);
			assert_int_equal(!!(s & TASK_WOKEN), m[i].woken_held);
		} else {
			assert_int_equal(!!(s & TASK_WOKEN), m[i].queue >= 0);
			assert_false(s & TASK_POLLING);
		}
	}
}

static void run_seed(uint64_t seed)
{
	xoro_seed(&rng, seed);
	memset(m, 0, sizeof(m));
	memset(mq_head, 0, sizeof(mq_head));
	memset(mq_tail, 0, sizeof(mq_tail));
	for (int i = 0; i < SLOTS; i++) {
		freed[i] = true;
		handles[i] = JOIN_HANDLE_NONE;
		for (int k = 0; k < MAX_WAKERS; k++)
			wakers[i][k] = WAKER_NONE;
	}
	sched_init(&sched[0], 0, NULL);
	sched_init(&sched[1], 1, NULL);

	for (int n = 0; n < STEPS; n++) {
		/* Keep the model's queue arrays from running off the end. */
		for (int q = 0; q < 2; q++) {
			if (mq_head[q] == mq_tail[q])
				mq_head[q] = mq_tail[q] = 0;
		}
		if (mq_tail[0] > QMAX * SCHED_TICK_BUDGET - SCHED_TICK_BUDGET * 2 ||
		    mq_tail[1] > QMAX * SCHED_TICK_BUDGET - SCHED_TICK_BUDGET * 2) {
			for (int q = 0; q < 2; q++) {
				memmove(mq[q], mq[q] + mq_head[q],
					(size_t)model_len(q) * sizeof(int));
				mq_tail[q] -= mq_head[q];
				mq_head[q] = 0;
			}
		}
		switch (xoro_below(&rng, 12)) {
		case 0: step_spawn(); break;
		case 1: step_wake(false); break;
		case 2: step_wake(true); break;
		case 3: step_clone_or_drop(true); break;
		case 4: step_clone_or_drop(false); break;
		case 5: case 6: step_tick(); break;
		case 7: step_cancel(); break;
		case 8: step_join(false); break;
		case 9: step_join(true); break;
		case 10: step_steal(); break;
		case 11: {
			int i = (int)xoro_below(&rng, SLOTS);

			/* Yield rarely, so ticks stay short. */
			action[i] = (enum action)xoro_below(&rng, N_ACTIONS);
			if ((action[i] == ACT_YIELD ||
			     action[i] == ACT_TASK_YIELD) && xoro_below(&rng, 4))
				action[i] = ACT_PENDING;
			break;
		}
		}
		check_all();
	}
	/* Wind down: drop everything, cancel the rest, tick until idle. */
	for (int i = 0; i < SLOTS; i++) {
		action[i] = ACT_READY;
		if (m[i].handle) {
			(void)join_cancel(&handles[i]);
			join_drop(&handles[i]);
		}
		for (int k = 0; k < MAX_WAKERS; k++)
			waker_drop(&wakers[i][k]);
	}
	for (int q = 0; q < 2; q++) {
		do {
			polled_len = 0;
		} while (sched_tick(&sched[q]).has_remaining);
	}
	for (int i = 0; i < SLOTS; i++) {
		/* Still-queued uncancelled tasks ran; now drop saved wakers. */
		for (int k = 0; k < MAX_WAKERS; k++)
			waker_drop(&wakers[i][k]);
	}
	for (int i = 0; i < SLOTS; i++)
		assert_true(freed[i]);
}

static void test_model(void **state)
{
	uint64_t base = test_rng_seed(0);

	(void)state;
	for (uint64_t seed = 1; seed <= SEEDS; seed++)
		run_seed(base + seed);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_model),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
