/*
 * spinlock.h (model build) - include/spinlock.h's API as checker locks.
 *
 * The model build puts tests/model/override ahead of include/ on the
 * include path, so the real sources' #include "spinlock.h" lands here.
 * The struct keeps the real layout (one atomic_bool, SPINLOCK_INIT); each
 * call hands the lock word and its call site to the checker
 * (tests/model/memory.c), which treats the lock as one primitive: taking
 * it is an acquire, releasing it a release (happens-before for the data it
 * guards), a thread that finds it held blocks until the holder releases it
 * instead of spinning, and a thread that blocks forever is reported as a
 * deadlock.  Both are scheduling points.  The TTAS loop of the real header
 * is not what is under test here; the protocols that use the locks are.
 * In TSO mode lock and unlock drain the caller's store buffer (a locked
 * RMW does; the real unlock is a plain store: see docs/MODEL.md).
 */
#ifndef HYPHAE_SPINLOCK_H
#define HYPHAE_SPINLOCK_H

#include <stdatomic.h>
#include <stdbool.h>

#include "arch.h"
#include "compiler.h"
#include "tests/model/hooks.h"

struct spinlock {
	atomic_bool locked;
};

#define SPINLOCK_INIT	{ false }

#define spin_init(l)		model_spin_init(MODEL_SITE_, &(l)->locked)
#define spin_trylock(l)		model_spin_trylock(MODEL_SITE_, &(l)->locked)
#define spin_lock(l)		model_spin_lock(MODEL_SITE_, &(l)->locked)
#define spin_unlock(l)		model_spin_unlock(MODEL_SITE_, &(l)->locked)
#define spin_is_locked(l)	model_spin_is_locked(MODEL_SITE_, &(l)->locked)

#define spin_lock_irqsave(l) __extension__ ({				\
	unsigned long model_flags_ = arch_irq_save();			\
	spin_lock(l);							\
	model_flags_; })

#define spin_unlock_irqrestore(l, flags) do {				\
	spin_unlock(l);							\
	arch_irq_restore(flags);					\
} while (0)

#endif /* HYPHAE_SPINLOCK_H */
