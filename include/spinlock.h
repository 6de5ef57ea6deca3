/*
 * spinlock.h - a test-and-test-and-set spin lock with exponential
 * backoff, and a try-lock.
 *
 * Used where a critical section is a handful of instructions (the timer
 * wheel, the heap's size classes).  Paths that must never spin (an
 * interrupt handler, a core turning the timer) use spin_trylock().
 * Interrupt handlers that share a lock with task code need the _irqsave
 * forms on the task side.  Each core counts the locks it holds
 * (arch_lock_acquired/released): a CPU exception with one held is never
 * contained to its task (arch_poll_call), as the data it guards may be
 * half-changed.
 */
#ifndef HYPHAE_SPINLOCK_H
#define HYPHAE_SPINLOCK_H

#include <stdatomic.h>
#include <stdbool.h>

#include "arch.h"
#include "compiler.h"

struct spinlock {
	atomic_bool locked;
};

#define SPINLOCK_INIT	{ false }

static inline void spin_init(struct spinlock *l)
{
	atomic_init(&l->locked, false);
}

/* True if the lock was taken. Never spins. */
static inline bool __must_check spin_trylock(struct spinlock *l)
{
	/* relaxed pre-check keeps a contended line shared instead of bouncing. */
	if (atomic_load_explicit(&l->locked, memory_order_relaxed))
		return false;
	/* acquire: pairs with the release store in spin_unlock(). */
	if (atomic_exchange_explicit(&l->locked, true, memory_order_acquire))
		return false;
	arch_lock_acquired();
	return true;
}

/* Most arch_cpu_relax() calls between two looks at a held lock. */
#define SPIN_BACKOFF_MAX	64

/*
 * A try (a look, then the exchange), and while the lock is held a look
 * only after 1, 2, 4 ... SPIN_BACKOFF_MAX relaxes: under contention the
 * holder's core often takes the lock again while its line is still
 * there, instead of every release handing the line to the spinner
 * (Anderson 1990; Herlihy and Shavit 7.4, "BackoffLock").  The cost is
 * fairness and, for a waiter, up to SPIN_BACKOFF_MAX pauses (1.3 us on
 * the AMD EPYC of docs/PERFORMANCE.md) of extra latency; the
 * semaphore_8 and rwlock benchmarks, where two cores hammer one
 * semaphore's lock, gained 5-7% (with the exchange tried first).  The
 * uncontended path is the try alone, as before: trying the exchange
 * first made the kernel's timer cancel 1.5-2x slower under TCG
 * (docs/PERFORMANCE.md).
 */
static inline void spin_lock(struct spinlock *l)
{
	unsigned spins = 1;

	while (!spin_trylock(l)) {
		do {
			for (unsigned i = 0; i < spins; i++)
				arch_cpu_relax();
			if (spins < SPIN_BACKOFF_MAX)
				spins <<= 1;
		} while (atomic_load_explicit(&l->locked, memory_order_relaxed));
	}
}

static inline void spin_unlock(struct spinlock *l)
{
	/* release: publishes the critical section; pairs with spin_trylock(). */
	atomic_store_explicit(&l->locked, false, memory_order_release);
	arch_lock_released();
}

static inline bool spin_is_locked(struct spinlock *l)
{
	return atomic_load_explicit(&l->locked, memory_order_relaxed);
}

static inline unsigned long spin_lock_irqsave(struct spinlock *l)
{
	unsigned long flags = arch_irq_save();

	spin_lock(l);
	return flags;
}

static inline void spin_unlock_irqrestore(struct spinlock *l,
					  unsigned long flags)
{
	spin_unlock(l);
	arch_irq_restore(flags);
}

#endif /* HYPHAE_SPINLOCK_H */
