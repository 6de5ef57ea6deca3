/*
 * mutex.h - an async mutex: a task may hold it across awaits.
 *
 * A semaphore of one permit (sched/semaphore.h), as tokio's Mutex and
 * maitake's: mutex_lock() is a future that queues in FIFO order, and an
 * unlock with waiters hands the lock straight to the first of them (it
 * never becomes free in between, so no newcomer barges).  mutex_try_lock()
 * takes it only if it is free and nobody waits.  Cancel-safe: a waiter
 * dropped after it was handed the lock (mutex_waiter_drop) passes it on.
 *
 * The mutex protects whatever the caller says it does; the lock's acquire
 * and the unlock's release order those accesses (the handoff's
 * release/acquire pair, semaphore.c).  Unlocking a mutex that is not
 * locked is a contract violation: panic, with nothing changed.
 *
 *   TASK_AWAIT(mutex_lock(&dev->lock, &t->w, cx));
 *   ... may TASK_AWAIT other things while holding it ...
 *   mutex_unlock(&dev->lock);
 */
#ifndef HYPHAE_SCHED_MUTEX_H
#define HYPHAE_SCHED_MUTEX_H

#include <stdbool.h>

#include "sched/semaphore.h"

struct mutex {
	struct semaphore sem;
};

#define MUTEX_INIT	{ SEMAPHORE_INIT(1) }

void mutex_init(struct mutex *m);

/*
 * Lock with waiter `w` (semaphore_waiter_init'ed, owned by the caller):
 * READY once the caller holds the lock; else PENDING with w queued.  Poll
 * again with the same w.  Task context, w's owner.
 */
enum poll mutex_lock(struct mutex *m, struct semaphore_waiter *w,
		     struct context *cx);

/* Take the lock if it is free and nobody waits.  Any context, IRQ-safe. */
bool __must_check mutex_try_lock(struct mutex *m);

/*
 * Unlock: the first waiter (if any) now holds it and is woken.  Panics if
 * the mutex is not locked.  Any context (the holder), IRQ-safe.
 */
void mutex_unlock(struct mutex *m);

/*
 * The owner of `w` gives up (its task is cancelled) while in
 * mutex_lock(): unlinks it; if it had already been handed the lock, the
 * lock goes to the next waiter.  Task context, w's owner.
 */
void mutex_waiter_drop(struct mutex *m, struct semaphore_waiter *w);

/* True if someone holds it (a snapshot).  Any context. */
bool mutex_is_locked(const struct mutex *m);

#endif /* HYPHAE_SCHED_MUTEX_H */
