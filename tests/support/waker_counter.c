/*
 * waker_counter.c - the counting waker and a context made of one
 * (waker_counter.h).
 */
#include <string.h>

#include "tests/support/waker_counter.h"

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

	/* The reference goes first (waker_counter.h).  stress_sched checks
	 * `refs` as soon as it sees the wake; the other order let it see the
	 * wake with the reference still counted, a false "join waker
	 * leaked" (once in five soak runs). */
	atomic_fetch_sub(&c->refs, 1);
	counter_woken(c);
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

const struct waker_vtable waker_counter_vtable = {
	.wake = counter_wake,
	.wake_by_ref = counter_wake_by_ref,
	.clone = counter_clone,
	.drop = counter_drop,
};

void counter_cx_init(struct counter_cx *k, bool flag_yields)
{
	memset(k, 0, sizeof(*k));
	k->w = counter_waker(&k->c);
	k->cx.waker = &k->w;
	k->cx.yielded = flag_yields ? &k->yielded : NULL;
}
