/*
 * waker_counter.h - a hand-made waker for tests: counts wakes and the live
 * references naming it, and can check that it is never woken under a
 * timer's lock.  What a joiner or a sleeping task on another core would
 * hold, reduced to counters a test can read from any thread.
 */
#ifndef HYPHAE_TESTS_SUPPORT_WAKER_COUNTER_H
#define HYPHAE_TESTS_SUPPORT_WAKER_COUNTER_H

#include <stdatomic.h>
#include <stdbool.h>

#include "sched/waker.h"
#include "timer/timer.h"

struct waker_counter {
	atomic_int wakes;
	atomic_int refs;	/* live wakers naming this counter */
	/* Set before the counter is shared, then read only: */
	struct timer *timer;	/* if set: wakes must happen outside its lock */
	void (*on_wake)(struct waker_counter *c);	/* optional hook */
	atomic_int woken_locked;	/* wakes seen under timer->lock */
};

/*
 * wake() gives up its reference before it counts the wake, so a thread
 * that sees `wakes` go up and then reads `refs` sees the reference gone
 * (both seq_cst).  Any thread.
 */
extern const struct waker_vtable waker_counter_vtable;

/* A waker borrowed by a context: it owns no reference of its own. */
static inline struct waker counter_waker(struct waker_counter *c)
{
	struct waker w = { &waker_counter_vtable, c };

	return w;
}

/*
 * What a poll function is handed, made of a counter: the counter, its
 * waker and a context lending it.  Embed one per simulated task; poll
 * with &k->cx, read k->c.wakes and k->c.refs.
 */
struct counter_cx {
	struct waker_counter c;
	struct waker w;		/* counter_waker(&c), borrowed by cx */
	struct context cx;
	bool yielded;		/* set by context_yield() if cx.yielded is &yielded */
};

/*
 * Zero the counter and point k->cx at its waker.  With flag_yields,
 * cx.yielded points at k->yielded (cleared), so context_yield() only sets
 * the flag, as inside a scheduler's poll; without, cx.yielded is NULL and
 * a yield wakes the counter.  Set c.timer or c.on_wake afterwards, before
 * the waker is shared.  Test thread.
 */
void counter_cx_init(struct counter_cx *k, bool flag_yields);

#endif /* HYPHAE_TESTS_SUPPORT_WAKER_COUNTER_H */
