/*
 * sync_internal.h - helpers shared by sched/'s waiting primitives (sync.c,
 * semaphore.c, wait_map.c, channel.c).  Not part of the sched/ API.
 *
 * Every primitive moves wakers out of its entries under its lock and wakes
 * them after the unlock (a wake may enqueue on another core, send an IPI
 * or free a task).  A wake_batch holds the wakers one lock hold collected,
 * on the caller's stack; a full batch means: unlock, wake, lock again.
 */
#ifndef HYPHAE_SCHED_SYNC_INTERNAL_H
#define HYPHAE_SCHED_SYNC_INTERNAL_H

#include <stdbool.h>
#include <stddef.h>

#include "panic.h"
#include "sched/waker.h"

/* Wakers per lock hold: 16 x 16 bytes on the stack. */
#define WAKE_BATCH	16

struct wake_batch {
	size_t n;
	struct waker w[WAKE_BATCH];
};

static inline void wake_batch_init(struct wake_batch *b)
{
	b->n = 0;
}

static inline bool wake_batch_full(const struct wake_batch *b)
{
	return b->n == WAKE_BATCH;
}

/* Lock held: keep `w` (possibly empty) for wake_batch_wake(). */
static inline void wake_batch_add(struct wake_batch *b, struct waker w)
{
	kassert(b->n < WAKE_BATCH);
	if (waker_is_some(&w))
		b->w[b->n++] = w;
}

/* Lock released: wake everything collected; the batch is empty again. */
static inline void wake_batch_wake(struct wake_batch *b)
{
	for (size_t i = 0; i < b->n; i++)
		waker_wake(&b->w[i]);
	b->n = 0;
}

static inline struct waker sync_take_waker(struct waker *slot)
{
	struct waker w = *slot;

	*slot = WAKER_NONE;
	return w;
}

/*
 * Store a clone of cx's waker in *slot unless it already wakes the same
 * task; returns the waker the caller drops after unlocking.  Waiting needs
 * someone to wake: cx->waker must not be NULL.
 */
static inline struct waker sync_register_waker(struct waker *slot,
					       struct context *cx)
{
	struct waker old = WAKER_NONE;

	kassert(cx->waker != NULL);
	if (!waker_will_wake(slot, cx->waker)) {
		old = *slot;
		*slot = waker_clone(cx->waker);
	}
	return old;
}

#endif /* HYPHAE_SCHED_SYNC_INTERNAL_H */
