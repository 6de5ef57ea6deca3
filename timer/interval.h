/*
 * interval.h - an interval timer: a future that completes once per period
 * on a timer's wheel (the global one: timer_global()).
 *
 * Ticks are scheduled at start, start + period, start + 2 * period, ...
 * (tokio's Interval).  A tick is missed when the owner polls so late that
 * the next one is already due; what comes next is the missed-tick
 * behaviour (tokio's MissedTickBehavior):
 *   INTERVAL_BURST  keep the schedule: the missed ticks complete at once,
 *                   one per poll, until it has caught up;
 *   INTERVAL_DELAY  restart the schedule one period after now;
 *   INTERVAL_SKIP   keep the phase, drop the missed ticks: the next tick
 *                   is the first scheduled one after now.
 * Each tick is a sleep (timer/sleep.h) re-armed for the next deadline
 * when the previous one completes: no allocation, one wheel entry.
 * Concurrency: one owner polls and drops it; task context.
 */
#ifndef HYPHAE_TIMER_INTERVAL_H
#define HYPHAE_TIMER_INTERVAL_H

#include "compiler.h"
#include "timer/sleep.h"

enum interval_missed {
	INTERVAL_BURST = 0,
	INTERVAL_DELAY,
	INTERVAL_SKIP,
};

struct interval {
	struct sleep sleep;		/* armed for the next tick */
	ticks_t period;			/* > 0, in the timer's clock ticks */
	enum interval_missed missed;
};

/*
 * An interval on `t` with a period of `period_ns` (rounded up to ticks,
 * at least one); the first tick completes at once (tokio's interval()).
 * 0, or -EINVAL (period 0) or -ERANGE (too long for the clock).  Task
 * context.
 */
int __must_check interval_init(struct interval *iv, struct timer *t,
			       uint64_t period_ns, enum interval_missed missed);

/* The first tick at tick `start` of t's clock, then every `period` (> 0)
 * ticks.  Task context. */
void interval_init_at(struct interval *iv, struct timer *t, ticks_t start,
		      ticks_t period, enum interval_missed missed);

/*
 * READY when the next tick is due, with *tick its scheduled deadline (not
 * the time of the poll); the interval then arms the one after.  Else
 * PENDING with cx's waker registered on the wheel.  Owner only.
 */
enum poll interval_tick(struct interval *iv, struct context *cx, ticks_t *tick);

/* The next tick is one period from now (any pending one is dropped).
 * Owner only. */
void interval_reset(struct interval *iv);

/* The deadline of the next tick.  Owner only. */
static inline ticks_t interval_next(const struct interval *iv)
{
	return sleep_deadline(&iv->sleep);
}

/* Take it off the wheel; afterwards the owner may free it.  Owner only. */
void interval_drop(struct interval *iv);

#endif /* HYPHAE_TIMER_INTERVAL_H */
