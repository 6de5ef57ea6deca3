/*
 * task_util.h - a scripted test task for the sched/ tests.
 *
 * struct ttask follows a per-poll script (complete, stay pending, yield,
 * save a waker for the test to wake later) and logs each poll.  `live`
 * counts tasks between spawn and deallocate, so a test proves no leak (it
 * returns to 0) and no double free (ASan, and the count never goes
 * negative).  The tests' counting waker is tests/support/waker_counter.h.
 */
#ifndef HYPHAE_TESTS_SCHED_TASK_UTIL_H
#define HYPHAE_TESTS_SCHED_TASK_UTIL_H

#include <stdatomic.h>
#include <stdint.h>
#include <string.h>

#include "sched/scheduler.h"
#include "sched/task.h"
#include "tests/support/waker_counter.h"

enum tstep {
	TS_READY = 0,	/* return READY (output = 100 + polls) */
	TS_PENDING,	/* return PENDING, keep nothing */
	TS_SAVE,	/* save a clone of the waker in ->saved, PENDING */
	TS_YIELD,	/* wake by ref, PENDING (a self-wake, not TASK_YIELD) */
	TS_WAKE_VAL,	/* clone the waker and wake it by value, PENDING */
};

#define TT_MAX_STEPS	8
#define TT_LOG_MAX	64

struct ttask {
	struct task task;
	enum tstep script[TT_MAX_STEPS];	/* step i used at poll i; last repeats */
	unsigned nsteps;
	unsigned polls;
	int tag;
	struct waker saved;
	int states_dropped;	/* drop_state calls: exactly 1 by dealloc */
	int out;
};

static atomic_int live __unused;
static int poll_log[TT_LOG_MAX] __unused;
static unsigned poll_log_len __unused;

static inline void tt_log_reset(void)
{
	poll_log_len = 0;
}

static inline enum poll tt_poll(struct task *t, struct context *cx)
{
	struct ttask *tt = container_of(t, struct ttask, task);
	unsigned i = tt->polls < tt->nsteps ? tt->polls : tt->nsteps - 1;
	struct waker w;

	tt->polls++;
	if (poll_log_len < TT_LOG_MAX)
		poll_log[poll_log_len++] = tt->tag;
	switch (tt->script[i]) {
	case TS_READY:
		tt->out = 100 + (int)tt->polls;
		return POLL_READY;
	case TS_PENDING:
		return POLL_PENDING;
	case TS_SAVE:
		waker_drop(&tt->saved);
		tt->saved = waker_clone(cx->waker);
		return POLL_PENDING;
	case TS_YIELD:
		waker_wake_by_ref(cx->waker);
		return POLL_PENDING;
	case TS_WAKE_VAL:
		w = waker_clone(cx->waker);
		waker_wake(&w);
		return POLL_PENDING;
	}
	return POLL_PENDING;
}

static inline void tt_drop_state(struct task *t)
{
	container_of(t, struct ttask, task)->states_dropped++;
}

static inline void tt_dealloc(struct task *t)
{
	struct ttask *tt = container_of(t, struct ttask, task);

	/* drop_state ran exactly once: when the task completed, or when it
	 * was freed while still pending. */
	if (tt->states_dropped != 1)
		abort();

	/* A saved waker would be a reference: the task cannot be freed
	 * while it exists. */
	if (waker_is_some(&tt->saved))
		abort();
	atomic_fetch_sub(&live, 1);
}

static const struct task_vtable tt_vt __unused = {
	.poll = tt_poll,
	.deallocate = tt_dealloc,
	.drop_state = tt_drop_state,
	TASK_OUTPUT(struct ttask, out),
	.name = "ttask",
};

/* The copy a spawn of a scripted task takes: script[0..n), n <=
 * TT_MAX_STEPS, and the tag its polls log. */
static inline void tt_init(struct ttask *init, int tag,
			   const enum tstep *script, unsigned n)
{
	memset(init, 0, sizeof(*init));
	memcpy(init->script, script, n * sizeof(*script));
	init->nsteps = n;
	init->tag = tag;
	init->saved = WAKER_NONE;
}

/* Heap-spawn a scripted task on `s`. */
static inline int tt_spawn(struct scheduler *s, int tag, const enum tstep *script,
		    unsigned n, struct join_handle *jh)
{
	struct ttask init;

	tt_init(&init, tag, script, n);
	atomic_fetch_add(&live, 1);
	if (sched_spawn(s, &tt_vt, &init, sizeof(init), jh) != 0) {
		atomic_fetch_sub(&live, 1);
		return -1;
	}
	return 0;
}

#endif /* HYPHAE_TESTS_SCHED_TASK_UTIL_H */
