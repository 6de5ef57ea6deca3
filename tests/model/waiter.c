/*
 * waiter.c - a waker for scenarios (see waiter.h).
 */
#include "tests/model/model.h"
#include "tests/model/waiter.h"

static const void *w_clone(const void *data)
{
	struct waiter *w = (struct waiter *)data;

	model_ghost_add(&w->clones, 1);
	return data;
}

static void w_drop(const void *data)
{
	struct waiter *w = (struct waiter *)data;

	model_ghost_add(&w->drops, 1);
}

static void w_wake_by_ref(const void *data)
{
	struct waiter *w = (struct waiter *)data;

	model_ghost_add(&w->wakes_by_ref, 1);
	/* release: what the waker did before is seen by the woken thread. */
	atomic_fetch_add_explicit(&w->woken, 1, memory_order_release);
}

static void w_wake(const void *data)
{
	struct waiter *w = (struct waiter *)data;

	model_ghost_add(&w->wakes, 1);
	/* release: as above. */
	atomic_fetch_add_explicit(&w->woken, 1, memory_order_release);
}

static const struct waker_vtable waiter_vtable = {
	.wake = w_wake,
	.wake_by_ref = w_wake_by_ref,
	.clone = w_clone,
	.drop = w_drop,
};

void waiter_init(struct waiter *w, const char *name)
{
	w->name = name;
	atomic_init(&w->woken, 0);
	w->clones = w->drops = w->wakes = w->wakes_by_ref = 0;
	model_name(&w->woken, sizeof(w->woken), name);
}

struct waker waiter_waker(struct waiter *w)
{
	return (struct waker){ &waiter_vtable, w };
}

struct context waiter_context(struct waiter *w, struct waker *storage)
{
	*storage = waiter_waker(w);
	return (struct context){ storage, NULL };
}

bool waiter_wait(struct waiter *w)
{
	/* acquire: pairs with the release in w_wake / w_wake_by_ref. */
	while (atomic_load_explicit(&w->woken, memory_order_acquire) == 0) {
		if (model_others_done())
			return atomic_load_explicit(&w->woken,
						    memory_order_acquire) != 0;
		model_yield();
	}
	return true;
}

void waiter_rearm(struct waiter *w)
{
	atomic_fetch_sub_explicit(&w->woken, 1, memory_order_relaxed);
}

void waiter_check_refs(const struct waiter *w)
{
	model_check(w->clones == w->drops + w->wakes,
		    "waker of %s: %ld clones, %ld dropped, %ld woken by value "
		    "(a reference %s)", w->name, w->clones, w->drops, w->wakes,
		    w->clones > w->drops + w->wakes ? "leaked" :
		    "released twice");
}
