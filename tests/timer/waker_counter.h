/*
 * waker_counter.h - a hand-made waker for timer tests: counts wakes and
 * live references, and checks that it is never woken under the timer lock.
 */
#ifndef HYPHAE_TESTS_TIMER_WAKER_COUNTER_H
#define HYPHAE_TESTS_TIMER_WAKER_COUNTER_H

#include <stdatomic.h>

#include "sched/waker.h"
#include "timer/timer.h"

struct waker_counter {
	atomic_int wakes;
	atomic_int refs;	/* live wakers naming this counter */
	struct timer *timer;	/* if set: wakes must happen outside its lock */
	atomic_int woken_locked;
	void (*on_wake)(struct waker_counter *c);	/* optional hook */
};

static void counter_woken(struct waker_counter *c)
{
	atomic_fetch_add(&c->wakes, 1);
	if (c->timer && spin_is_locked(&c->timer->lock))
		atomic_fetch_add(&c->woken_locked, 1);
	if (c->on_wake)
		c->on_wake(c);
}

static void counter_wake(const void *data)
{
	struct waker_counter *c = (struct waker_counter *)data;

	counter_woken(c);
	atomic_fetch_sub(&c->refs, 1);
}

static void counter_wake_by_ref(const void *data)
{
	counter_woken((struct waker_counter *)data);
}

static const void *counter_clone(const void *data)
{
	atomic_fetch_add(&((struct waker_counter *)data)->refs, 1);
	return data;
}

static void counter_drop(const void *data)
{
	atomic_fetch_sub(&((struct waker_counter *)data)->refs, 1);
}

static const struct waker_vtable counter_vtable = {
	.wake = counter_wake,
	.wake_by_ref = counter_wake_by_ref,
	.clone = counter_clone,
	.drop = counter_drop,
};

/* A waker borrowed by a context: it owns no reference of its own. */
static inline struct waker counter_waker(struct waker_counter *c)
{
	struct waker w = { &counter_vtable, c };

	return w;
}

#endif /* HYPHAE_TESTS_TIMER_WAKER_COUNTER_H */
