/*
 * sleep.h - sleeps and timeouts: futures that complete at a deadline.
 *
 * A sleep's deadline is fixed when it is created (from a duration, rounded
 * up, or an absolute tick).  Polling it registers its entry in the timer's
 * wheel with a clone of the polling task's waker and returns POLL_READY
 * once the clock has reached the deadline; it never completes early and
 * its waker is woken at most once per registration.  Dropping a pending
 * sleep removes it from the wheel in O(1).  Mycelium's maitake Sleep.
 *
 * Concurrency: one owner (the task) polls and drops a sleep; any core may
 * turn the timer meanwhile.  The entry's state (wheel.h) is the protocol:
 *   IDLE -> PENDING      sleep_poll, under the lock (relaxed store)
 *   PENDING -> IDLE      sleep_cancel/drop, under the lock (relaxed store)
 *   PENDING -> FIRED     timer_turn, under the lock, after moving the waker
 *                        out (release store; pairs with the acquire load in
 *                        sleep_poll/sleep_drop, which then skip the lock).
 * A Timeout races any awaitable against a sleep and says which won.
 */
#ifndef HYPHAE_TIMER_SLEEP_H
#define HYPHAE_TIMER_SLEEP_H

#include <stdbool.h>

#include "compiler.h"
#include "sched/waker.h"
#include "timer/timer.h"

struct sleep {
	/* The timer's lock guards the entry while it is pending. */
	struct timer_entry entry;
	struct timer *timer;	/* immutable after init */
};

/*
 * A sleep on `t` ending `ns` nanoseconds from now (rounded up to ticks).
 * Returns 0, or -ERANGE if the deadline would not fit the clock.  Task
 * context; does not touch the wheel until polled.
 */
int __must_check sleep_init_duration(struct sleep *s, struct timer *t,
				     uint64_t ns);

/* A sleep on `t` ending at tick `deadline` of t's clock. */
void sleep_init_deadline(struct sleep *s, struct timer *t, ticks_t deadline);

static inline ticks_t sleep_deadline(const struct sleep *s)
{
	return s->entry.deadline;
}

/*
 * POLL_READY if the deadline has passed; else registers (or re-registers
 * with a new waker) and returns POLL_PENDING: cx->waker is woken once the
 * timer turns past the deadline.  Owner only; task context.
 */
enum poll sleep_poll(struct sleep *s, struct context *cx);

/*
 * Remove a pending sleep from the wheel and release its waker: it will
 * not wake anyone.  True if it was pending.  A later poll re-registers.
 * Owner only; task context; O(1).
 */
bool sleep_cancel(struct sleep *s);

/* Cancel if pending; afterwards the owner may free `s`.  Owner only. */
void sleep_drop(struct sleep *s);

/* ---- timeout: any awaitable against a sleep ---------------------------- */

/* An awaitable: a poll function and its argument. */
typedef enum poll (*timer_poll_fn)(void *arg, struct context *cx);

enum timeout_result {
	TIMEOUT_PENDING = 0,	/* neither finished yet */
	TIMEOUT_COMPLETED,	/* the awaitable returned POLL_READY in time */
	TIMEOUT_ELAPSED,	/* the deadline passed first */
};

struct timeout {
	struct sleep sleep;
	timer_poll_fn poll;
	void *arg;
	enum timeout_result result;	/* sticky once not PENDING */
};

/* Wrap `poll(arg)` with a deadline `ns` from now on `t`; -ERANGE as for
 * sleep_init_duration(). */
int __must_check timeout_init(struct timeout *to, struct timer *t,
			      uint64_t ns, timer_poll_fn poll, void *arg);

/*
 * Poll the awaitable, then the sleep.  The awaitable wins a tie (a result
 * that is ready is never thrown away).  Once COMPLETED or ELAPSED, further
 * polls return the same without polling anything.  Owner only.
 */
enum timeout_result timeout_poll(struct timeout *to, struct context *cx);

/* Cancel the sleep; the owner drops the awaitable itself.  Owner only. */
void timeout_drop(struct timeout *to);

#endif /* HYPHAE_TIMER_SLEEP_H */
