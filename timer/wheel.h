/*
 * wheel.h - a hierarchical timer wheel: 6 levels x 64 slots, O(1) insert
 * and cancel, deadlines fired exactly on their tick, in deadline order.
 *
 * Varghese & Lauck's hierarchical wheel, laid out like Mycelium's maitake
 * (timer/wheel.rs) and Linux's kernel/time/timer.c, with wahern/timeout's
 * list of expired-but-not-yet-fired entries.  Level L has 64 slots of 64^L
 * ticks each.  An entry with deadline d sits on the level where d first
 * differs from the wheel's `now` (6 bits per level) and in the slot named
 * by d's 6 bits at that level:
 *
 *   level  slot granularity   reaches (ticks after now, at most)
 *     0    1                  63               (1 ns ticks: 63 ns)
 *     1    64                 4 095            (~4.1 us)
 *     2    4 096              262 143          (~262 us)
 *     3    262 144            16 777 215       (~16.8 ms)
 *     4    16 777 216         1 073 741 823    (~1.07 s)
 *     5    1 073 741 824      68 719 476 735   (2^36 - 1, ~68.7 s)
 *
 * A deadline 2^36 ticks or more away waits in the top level, in the slot
 * reached furthest ahead, and is re-placed when that slot comes round.
 * Each level keeps a 64-bit bitmap of non-empty slots, so the next slot to
 * process is a find-first-set per level, not a scan.  Unlike Linux, whose
 * timers may fire late by the granularity of their level, entries are
 * cascaded to lower levels when their slot's start tick is reached, so
 * every entry fires exactly at its deadline tick (or at the first turn
 * after it).  Each entry is re-placed at most once per level, plus once
 * per 2^36 ticks it waits beyond the range.  Entries due but not fired
 * because the caller's fire budget ran out wait in a sorted expired list
 * and fire first at the next turn.  A slot is WHEEL_CHAINS lists so that
 * cascading many out-of-cache entries overlaps their cache misses.
 *
 * Not thread-safe: the caller serialises every call (struct timer wraps
 * the wheel in a spin lock).  The entry's `state` byte alone may be read
 * without the lock (see timer_entry_state()).
 */
#ifndef HYPHAE_TIMER_WHEEL_H
#define HYPHAE_TIMER_WHEEL_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "compiler.h"
#include "sched/waker.h"
#include "clock.h"

#define WHEEL_SLOT_BITS		6
#define WHEEL_SLOTS		(1u << WHEEL_SLOT_BITS)		/* 64 */
#define WHEEL_LEVELS		6
#define WHEEL_RANGE_BITS	(WHEEL_SLOT_BITS * WHEEL_LEVELS)	/* 36 */
/* Deadlines closer than this to now are placed exactly; later ones wait. */
#define WHEEL_RANGE		((ticks_t)1 << WHEEL_RANGE_BITS)

/* "No deadline": the wheel is empty. */
#define TIMER_NO_DEADLINE	UINT64_MAX

enum timer_entry_state {
	TIMER_ENTRY_IDLE = 0,	/* not in a wheel (new or cancelled) */
	TIMER_ENTRY_PENDING,	/* in a wheel, waiting or expired-unfired */
	TIMER_ENTRY_FIRED,	/* its deadline passed and it was fired */
};

enum timer_entry_kind {
	TIMER_ENTRY_WAKER = 0,	/* firing wakes action.waker (a sleep) */
	TIMER_ENTRY_CALLBACK,	/* firing calls action.callback.fn(arg) */
};

typedef void (*timer_callback_fn)(void *arg);

/*
 * One pending timeout, embedded in its owner (a sleep, a test's object).
 * 48 bytes on LP64.  Owner sets kind/action while the entry is not
 * pending; the wheel owns everything else (under the timer's lock).
 */
struct timer_entry {
	/* The wheel's, under its lock, and meaningful only while the entry
	 * is in one of its lists (a cancel or a firing leaves them stale):
	 * slot list links (pprev as hlist). */
	struct timer_entry *next;
	struct timer_entry **pprev;
	ticks_t deadline;
	/* What firing does; the owner's while not pending, read by the fire
	 * callback under the lock. */
	union {
		struct waker waker;
		struct {
			timer_callback_fn fn;
			void *arg;
		} callback;
	} action;
	/* The wheel's, meaningful only while the entry is in one of its
	 * lists: level * 64 + slot or WHEEL_SLOT_EXPIRED (WHEEL_SLOT_NONE
	 * after timer_entry_init()). */
	uint16_t slot;
	uint8_t kind;		/* enum timer_entry_kind */
	/* enum timer_entry_state: written under the lock; the FIRED store is
	 * a release so an owner may read it with acquire and no lock. */
	atomic_uchar state;
};

#define WHEEL_SLOT_EXPIRED	((uint16_t)(WHEEL_LEVELS * WHEEL_SLOTS))
#define WHEEL_SLOT_NONE		((uint16_t)0xffff)

/*
 * Each slot is WHEEL_CHAINS independent lists, filled in turn.  Cascading
 * walks them in lockstep, so with many entries out of cache it waits for
 * WHEEL_CHAINS memory loads at once instead of chasing one pointer chain.
 */
#define WHEEL_CHAINS		4

struct timer_wheel {
	/* Every deadline <= now has been moved to `expired` or fired. */
	ticks_t now;
	uint64_t occupied[WHEEL_LEVELS];	/* bit s: a chain of slots[L][s] non-empty */
	size_t pending[WHEEL_LEVELS];		/* entries per level */
	/* Due entries not fired yet (advance's budget ran out), sorted by
	 * deadline; the tail points at the last entry's next (or at head). */
	struct timer_entry *expired;
	struct timer_entry **expired_tail;
	size_t expired_count;
	unsigned next_chain;			/* round robin over chains */
	/* No slot starts before this (exact after a turn, lowered by
	 * inserts, left low by cancels): lets an idle turn return at once. */
	ticks_t next_start;
	struct timer_entry *slots[WHEEL_LEVELS][WHEEL_SLOTS][WHEEL_CHAINS];
};

/*
 * Called for each entry fired by timer_wheel_advance(), in deadline order,
 * with the entry unlinked and still PENDING; it may take e->action but
 * must not call any wheel function.  After it returns the wheel marks e
 * FIRED and never touches it again.
 */
typedef void (*timer_fire_fn)(struct timer_entry *e, void *arg);

/* A new entry that wakes a waker (set action.waker before inserting). */
void timer_entry_init(struct timer_entry *e);
/*
 * A new entry that calls fn(arg) when it fires.  Under struct timer, fn
 * runs on the turning core after the lock is dropped (IRQ context if the
 * turn is), when the entry may already be re-armed or freed: fn gets only
 * arg, which must outlive the entry's last firing.
 */
void timer_entry_init_callback(struct timer_entry *e, timer_callback_fn fn,
			       void *arg);

/* The entry's state; acquire, pairs with the release store on firing, so
 * an owner that sees FIRED may reuse or free the entry without the lock. */
static inline enum timer_entry_state timer_entry_state(struct timer_entry *e)
{
	/* acquire: pairs with the release store in wheel_fire_one(). */
	return (enum timer_entry_state)atomic_load_explicit(&e->state,
							    memory_order_acquire);
}

/* An empty wheel whose clock reads `now`.  The wheel must not move after. */
void timer_wheel_init(struct timer_wheel *w, ticks_t now);

/*
 * Insert `e` (IDLE or FIRED, never PENDING) to fire at `deadline`.  O(1).
 * Returns 0, or -ETIMEDOUT if deadline <= w->now (already due: e is not
 * inserted and its state is unchanged).
 */
int __must_check timer_wheel_insert(struct timer_wheel *w,
				    struct timer_entry *e, ticks_t deadline);

/*
 * Remove `e` if it is pending (waiting or expired-unfired): O(1), state
 * back to IDLE, returns true.  Returns false if it was not pending (never
 * inserted, already cancelled or already fired).
 */
bool timer_wheel_cancel(struct timer_wheel *w, struct timer_entry *e);

/*
 * The earliest tick at which timer_wheel_advance() has work: <= w->now if
 * expired entries are waiting to fire, else the start of the first
 * occupied slot (a lower bound on the next deadline, exact when that entry
 * is on level 0), or TIMER_NO_DEADLINE if the wheel is empty.  O(levels).
 */
ticks_t timer_wheel_next_deadline(const struct timer_wheel *w);

/*
 * Move the wheel to `now` (never backwards: an earlier `now` moves nothing)
 * and fire, in deadline order, up to `max` entries whose deadline <= now,
 * cascading higher levels down on the way.  Due entries beyond `max` stay
 * expired and fire first on the next call.  Returns the number fired.
 */
size_t timer_wheel_advance(struct timer_wheel *w, ticks_t now, size_t max,
			   timer_fire_fn fire, void *arg);

/* Number of pending entries on `level` (WHEEL_LEVELS: the expired list). */
size_t timer_wheel_pending_level(const struct timer_wheel *w, unsigned level);
/* Number of pending entries in total. */
size_t timer_wheel_pending(const struct timer_wheel *w);

/*
 * Verify every invariant, O(pending): each entry in the slot its deadline
 * maps to, bitmaps and counts match the lists, list links consistent, no
 * waiting entry due at or before now, the expired list sorted.  Panics
 * (naming the broken invariant) on the first violation.
 */
void timer_wheel_check(const struct timer_wheel *w);

#endif /* HYPHAE_TIMER_WHEEL_H */
