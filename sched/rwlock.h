/*
 * rwlock.h - an async read-write lock: many readers or one writer, held
 * across awaits.
 *
 * A semaphore of RWLOCK_MAX_READERS permits (sched/semaphore.h), as
 * tokio's RwLock and maitake's: a reader takes one permit, a writer all of
 * them.  The semaphore's FIFO queue gives the properties:
 *   - FIFO between the two kinds: whoever queued first is served first;
 *   - a waiting writer stops new readers: once it queues, readers behind
 *     it queue too (the lock-free path is closed while anyone waits), and
 *     the permits the leaving readers give back accumulate at the writer,
 *     so writers never starve;
 *   - a writer's unlock hands the lock to the next waiter(s): one writer,
 *     or every reader up to the next queued writer.
 * try_read / try_write take it only if that needs no waiting and nobody
 * is queued.  Cancel-safe like the mutex (rwlock_waiter_drop).
 *
 * Unlocks that give back more than is held (an unlock of an unlocked lock,
 * a write_unlock of a read lock) panic with nothing changed.  A
 * read_unlock of a write lock cannot be told from a reader's.
 */
#ifndef HYPHAE_SCHED_RWLOCK_H
#define HYPHAE_SCHED_RWLOCK_H

#include <stdbool.h>

#include "sched/semaphore.h"

/* Readers at once; a writer takes this many permits. */
#define RWLOCK_MAX_READERS	(1ull << 32)

struct rwlock {
	struct semaphore sem;
};

#define RWLOCK_INIT	{ SEMAPHORE_INIT(RWLOCK_MAX_READERS) }

void rwlock_init(struct rwlock *l);

/*
 * Shared / exclusive lock with waiter `w` (semaphore_waiter_init'ed):
 * READY once held; else PENDING with w queued.  Poll again with the same
 * w.  Task context, w's owner.
 */
enum poll rwlock_read(struct rwlock *l, struct semaphore_waiter *w,
		      struct context *cx);
enum poll rwlock_write(struct rwlock *l, struct semaphore_waiter *w,
		       struct context *cx);

/* Take it without waiting if free enough and nobody is queued.  Any
 * context, IRQ-safe. */
bool __must_check rwlock_try_read(struct rwlock *l);
bool __must_check rwlock_try_write(struct rwlock *l);

/* Give back a read / the write lock; panics if not held so.  Any
 * context (the holder), IRQ-safe. */
void rwlock_read_unlock(struct rwlock *l);
void rwlock_write_unlock(struct rwlock *l);

/* The owner of `w` gives up inside rwlock_read()/rwlock_write(): what it
 * was handed goes to the waiters behind it.  Task context, w's owner. */
void rwlock_waiter_drop(struct rwlock *l, struct semaphore_waiter *w);

#endif /* HYPHAE_SCHED_RWLOCK_H */
