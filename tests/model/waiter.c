/*
 * waiter.c - a waker for scenarios (see waiter.h).
 */
#include "tests/model/model.h"
#include "tests/model/waiter.h"

/* Bookkeeping: the waiter each thread spins on in waiter_wait(), or
 * &retrying in waiter_retry(), or NULL (cleared by waiter_init, which
 * every scenario's setup calls first). */
static struct waiter *spinning[MODEL_MAX_THREADS + 1];
static struct waiter retrying;

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
	w->clones = w->drops = w->wakes = w->wakes_by_ref = w->rearms = 0;
	for (unsigned i = 0; i <= MODEL_MAX_THREADS; i++)
		spinning[i] = NULL;
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

/* A wake of `w` happened (or is under way) that no rearm consumed. */
static bool wake_pending(const struct waiter *w)
{
	return w->wakes + w->wakes_by_ref > w->rearms;
}

/*
 * Nobody is left who could wake the caller: every other thread ended, or
 * spins in waiter_wait() with no wake of its own on the way, or in
 * waiter_retry(), and no store became visible since it looked (wakes and
 * room come from threads at work, never from a spinning one); nor is a
 * store of the caller's still to become visible.
 */
static bool others_stuck(int me)
{
	if (!model_drained(me))
		return false;
	for (int t = 1; t <= MODEL_MAX_THREADS; t++) {
		if (t == me || model_ended(t))
			continue;
		if (spinning[t] == NULL || !model_spinning(t) ||
		    wake_pending(spinning[t]))
			return false;
	}
	return true;
}

bool waiter_wait(struct waiter *w)
{
	int me = model_self();
	bool ok = true;

	spinning[me] = w;
	/* acquire: pairs with the release in w_wake / w_wake_by_ref. */
	while (atomic_load_explicit(&w->woken, memory_order_acquire) == 0) {
		if (model_others_done() || others_stuck(me)) {
			ok = atomic_load_explicit(&w->woken,
						  memory_order_acquire) != 0;
			break;
		}
		model_yield();
	}
	spinning[me] = NULL;
	return ok;
}

void waiter_retry(void)
{
	int me = model_self();

	spinning[me] = &retrying;
	model_yield();
	spinning[me] = NULL;
}

void waiter_rearm(struct waiter *w)
{
	model_ghost_add(&w->rearms, 1);
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
