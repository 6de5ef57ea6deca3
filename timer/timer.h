/*
 * timer.h - the timer: a timer wheel behind a spin lock, on a clock.
 *
 * One global timer serves every core (rt installs it with timer_set_global).
 * Each core's main loop calls timer_turn(): it takes the lock with a
 * try-lock and never spins (a core or an interrupt that finds it taken goes
 * on, someone else is turning), advances the wheel to clock.now(), and
 * wakes what is due.  Wakers are taken out of their entries under the lock
 * and woken after it is released, in batches of TIMER_WAKE_BATCH, so a
 * wake (scheduler enqueue, IPI, maybe freeing a task) never runs under the
 * timer lock, and an entry's owner may free it as soon as it sees FIRED.
 * The turn reports the next deadline so an idle core can program its
 * one-shot timer for exactly then, as Mycelium's maitake Timer does.
 *
 * Locking: task context uses spin_lock (insert, cancel, sleep poll/drop);
 * interrupt context may only call timer_turn() (try-lock), so an interrupt
 * arriving while its core holds the lock cannot deadlock.
 */
#ifndef HYPHAE_TIMER_TIMER_H
#define HYPHAE_TIMER_TIMER_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>

#include "compiler.h"
#include "spinlock.h"
#include "clock.h"
#include "timer/wheel.h"

/* Wakers taken per lock hold; more due entries mean more rounds.  The
 * batch lives on the turning core's stack: 32 x 24 bytes. */
#define TIMER_WAKE_BATCH	32

struct timer {
	/* Immutable after timer_init(). */
	const struct clock *clock;
	struct spinlock lock;
	/* `lock` must be held to touch the wheel and its entries. */
	struct timer_wheel wheel;
	/* The wheel's next deadline as of the last unlock (never later than
	 * the true one once that unlock is seen): timer_turn() returns at once
	 * while the clock is before it, and reports it when the lock is busy.
	 * Relaxed: see timer_turn(). */
	atomic_uint_least64_t next_hint;
};

struct timer_turn {
	ticks_t now;		/* the clock value the wheel was turned to */
	size_t fired;		/* entries fired (wakers woken) by this call */
	/* The earliest tick the timer has work again (a slot start: never
	 * after the next deadline), or TIMER_NO_DEADLINE.  If busy, only a
	 * hint from the last turn that completed. */
	ticks_t next_deadline;
	bool busy;		/* the lock was taken: another core is turning */
};

/*
 * For timer/ itself (sleep.c): after arming an entry with the lock held,
 * refresh the hint lock-busy turners report.  Relaxed: only a hint.
 */
static inline void timer_publish_next_locked(struct timer *t)
{
	atomic_store_explicit(&t->next_hint, timer_wheel_next_deadline(&t->wheel),
			      memory_order_relaxed);
}

/* Initialise `t` on `clock` (whose now() is the wheel's start).  Once. */
void timer_init(struct timer *t, const struct clock *clock);

/*
 * Fire everything due on `t`: try-lock, advance to the clock, wake what
 * expired outside the lock, repeat while more is due (the batch filled or
 * the clock passed the next deadline meanwhile).  Returns without the lock
 * while the clock is before the published next deadline.  Never spins; any
 * core, IRQ-safe (wakers' wake must be IRQ-safe too).
 */
struct timer_turn timer_turn(struct timer *t);

/*
 * The next deadline as last published (TIMER_NO_DEADLINE: none), without
 * the lock: what an idle core arms its one-shot timer for.  Never later
 * than the true next deadline once this core has seen the unlock that
 * published it (the turn or insert it did itself, at least).  Any context.
 */
static inline ticks_t timer_next_hint(const struct timer *t)
{
	/* relaxed: a hint; see timer_turn(). */
	return atomic_load_explicit(&((struct timer *)t)->next_hint,
				    memory_order_relaxed);
}

/*
 * Arm entry `e` (IDLE or FIRED) for `deadline`.  Returns 0, or -ETIMEDOUT
 * if the timer has already passed it (e is not armed).  Task context.
 */
int __must_check timer_insert(struct timer *t, struct timer_entry *e,
			      ticks_t deadline);

/* Disarm `e`; true if it was pending and now never fires.  Task context. */
bool timer_cancel(struct timer *t, struct timer_entry *e);

/* The clock of `t`, now, in ticks.  Any context. */
static inline ticks_t timer_clock_now(const struct timer *t)
{
	return clock_now(t->clock);
}

/*
 * Install `t` as the global timer.  Returns 0, or -EBUSY if one is
 * already installed (it stays).  Boot core, before other cores use it.
 */
int __must_check timer_set_global(struct timer *t);

/* The global timer, or NULL before timer_set_global().  Any context. */
struct timer *timer_global(void);

/* Now on the global timer's clock, in ticks / in ns (saturating).  Panics
 * if there is no global timer.  Any context. */
ticks_t timer_now(void);
uint64_t timer_now_ns(void);

/* Nanoseconds from `since` (global clock ticks) to now; 0 if since is in
 * the future, saturating at UINT64_MAX.  Any context. */
uint64_t timer_elapsed_ns(ticks_t since);

/*
 * Write a human-readable state of `t` through `out` (e.g.
 * arch_console_write): clock name and tick, now, pending entries per level,
 * next deadline.  Takes the lock; task context (the shell).
 */
void timer_dump(struct timer *t, void (*out)(const char *s, size_t n));

#endif /* HYPHAE_TIMER_TIMER_H */
