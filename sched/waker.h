/*
 * waker.h - the waker protocol every awaitable in hyphae speaks.
 *
 * A waker is a (vtable, data) pair, as Rust's RawWaker: whoever holds one
 * can make the thing it names (almost always a task) runnable again.  A
 * waker owns one reference to its data: waker_clone() takes another,
 * waker_wake() consumes the waker's, waker_drop() releases it without
 * waking, waker_wake_by_ref() wakes and keeps it.
 *
 * A poll function receives a struct context whose waker it clones when it
 * returns POLL_PENDING, and the event source (a timer, the serial reader, a
 * join handle) wakes that clone when progress is possible.  Tasks (sched/),
 * sleeps (timer/) and the line reader (shell/) all go through this.
 */
#ifndef HYPHAE_SCHED_WAKER_H
#define HYPHAE_SCHED_WAKER_H

#include <stdbool.h>
#include <stddef.h>

enum poll {
	POLL_PENDING = 0,
	POLL_READY = 1,
};

struct waker_vtable {
	/* Wake and release the waker's reference. */
	void (*wake)(const void *data);
	/* Wake; the waker keeps its reference. */
	void (*wake_by_ref)(const void *data);
	/* Take one more reference; returns the data for the new waker. */
	const void *(*clone)(const void *data);
	/* Release the waker's reference without waking. */
	void (*drop)(const void *data);
};

struct waker {
	const struct waker_vtable *vtable;	/* NULL: empty waker */
	const void *data;
};

#define WAKER_NONE	((struct waker){ NULL, NULL })

/*
 * What a poll function is given: the waker of the task being polled, and
 * (from the scheduler, else NULL) a flag that yielding sets instead of
 * waking the task through its waker: the scheduler queues it again when
 * the tick ends, without the wake's atomic read-modify-write.  Use
 * context_yield().
 */
struct context {
	const struct waker *waker;
	bool *yielded;
};

static inline bool waker_is_some(const struct waker *w)
{
	return w->vtable != NULL;
}

/* A new waker naming the same thing as `w` (one more reference). */
static inline struct waker waker_clone(const struct waker *w)
{
	struct waker c = { w->vtable, w->vtable ? w->vtable->clone(w->data) : NULL };

	return c;
}

/* Wake and consume `w`; `w` is empty afterwards.  An empty waker is a no-op. */
static inline void waker_wake(struct waker *w)
{
	const struct waker_vtable *vt = w->vtable;
	const void *data = w->data;

	if (vt) {
		*w = WAKER_NONE;
		vt->wake(data);
	}
}

static inline void waker_wake_by_ref(const struct waker *w)
{
	if (w->vtable)
		w->vtable->wake_by_ref(w->data);
}

/* Ask to be polled again soon and then return POLL_PENDING: the
 * TASK_YIELD() of a poll function.  From a scheduler's poll the task is
 * queued again when the tick ends (sched_tick); elsewhere it is woken. */
static inline void context_yield(struct context *cx)
{
	if (cx->yielded)
		*cx->yielded = true;
	else
		waker_wake_by_ref(cx->waker);
}

/* Release `w` without waking; `w` is empty afterwards. */
static inline void waker_drop(struct waker *w)
{
	if (w->vtable) {
		const struct waker_vtable *vt = w->vtable;
		const void *data = w->data;

		*w = WAKER_NONE;
		vt->drop(data);
	}
}

/* True if `a` and `b` wake the same thing (so re-registering can be skipped). */
static inline bool waker_will_wake(const struct waker *a, const struct waker *b)
{
	return a->vtable == b->vtable && a->data == b->data;
}

#endif /* HYPHAE_SCHED_WAKER_H */
