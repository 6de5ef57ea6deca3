/*
 * waiter.h - a waker for scenarios: what a task would be to a primitive.
 *
 * A struct waiter stands for the task that waits on something (a join
 * handle, a wait cell, a timer entry): waiter_waker() is its waker, and a
 * wake sets `woken` (release) so the waiting model thread, spinning in
 * waiter_wait(), sees it (acquire).  The waiter counts references as the
 * checker's bookkeeping (no scheduling points): clones, drops and wakes by
 * value, so a scenario can check at the end that every reference it
 * handed out came back exactly once (waiter_check_refs).
 */
#ifndef HYPHAE_MODEL_WAITER_H
#define HYPHAE_MODEL_WAITER_H

#include <stdatomic.h>
#include <stdbool.h>

#include "sched/waker.h"

struct waiter {
	const char *name;
	atomic_int woken;	/* wakes seen, set by wake / wake_by_ref */
	/* Bookkeeping (model_ghost_add): references handed out, returned;
	 * wakes consumed by waiter_rearm. */
	long clones, drops, wakes, wakes_by_ref, rearms;
};

void waiter_init(struct waiter *w, const char *name);

/* The waiter's own waker: borrowed, never dropped by the primitive (a
 * context's waker, which the primitive clones to keep). */
struct waker waiter_waker(struct waiter *w);

/* A context whose waker is the waiter's. */
struct context waiter_context(struct waiter *w, struct waker *storage);

/* Spin until a wake arrives; false if it never can (the wake was lost):
 * every other thread ended, or spins in waiter_wait() (with no wake on
 * its way) or waiter_retry() with nothing changed since it looked, and
 * no store of the caller's waits in its buffer. */
bool waiter_wait(struct waiter *w);

/*
 * One round of a thread that retries until another makes progress (an
 * interrupt handler retrying a full channel at its next interrupt): a
 * model_yield() during which waiter_wait() in other threads counts it as
 * waiting, since it cannot wake anyone.
 */
void waiter_retry(void);

/* Consume one wake seen (a new wait starts). */
void waiter_rearm(struct waiter *w);

/* Fails unless every clone was dropped or woken by value exactly once. */
void waiter_check_refs(const struct waiter *w);

#endif /* HYPHAE_MODEL_WAITER_H */
