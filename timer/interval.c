/*
 * interval.c - the interval timer of interval.h: one sleep, re-armed for
 * the next scheduled tick whenever it completes.
 */
#include "errno.h"
#include "panic.h"
#include "timer/interval.h"

int interval_init(struct interval *iv, struct timer *t, uint64_t period_ns,
		  enum interval_missed missed)
{
	ticks_t period;

	if (period_ns == 0)
		return -EINVAL;
	if (clock_ns_to_ticks(t->clock, period_ns, &period))
		return -ERANGE;
	interval_init_at(iv, t, timer_clock_now(t), period ? period : 1, missed);
	return 0;
}

void interval_init_at(struct interval *iv, struct timer *t, ticks_t start,
		      ticks_t period, enum interval_missed missed)
{
	kassert(period > 0);
	sleep_init_deadline(&iv->sleep, t, start);
	iv->period = period;
	iv->missed = missed;
}

/* The tick after `due` when the clock reads `now` (>= due). */
static ticks_t next_after(const struct interval *iv, ticks_t due, ticks_t now)
{
	ticks_t late = now - due;

	/* Saturate rather than wrap past the end of the clock. */
	if (late < iv->period || iv->missed == INTERVAL_BURST)
		return due + iv->period < due ? UINT64_MAX : due + iv->period;
	if (iv->missed == INTERVAL_DELAY)
		return now + iv->period < now ? UINT64_MAX : now + iv->period;
	/* SKIP: the first scheduled tick strictly after now. */
	return now + (iv->period - late % iv->period) < now ? UINT64_MAX :
	       now + (iv->period - late % iv->period);
}

enum poll interval_tick(struct interval *iv, struct context *cx, ticks_t *tick)
{
	struct timer *t = iv->sleep.timer;
	ticks_t due;

	if (sleep_poll(&iv->sleep, cx) == POLL_PENDING)
		return POLL_PENDING;
	/* The sleep is done (FIRED or IDLE): re-arming it is ours alone. */
	due = sleep_deadline(&iv->sleep);
	sleep_init_deadline(&iv->sleep, t, next_after(iv, due, timer_clock_now(t)));
	*tick = due;
	return POLL_READY;
}

void interval_reset(struct interval *iv)
{
	struct timer *t = iv->sleep.timer;
	ticks_t now = timer_clock_now(t);

	sleep_drop(&iv->sleep);
	sleep_init_deadline(&iv->sleep, t,
			    now + iv->period < now ? UINT64_MAX : now + iv->period);
}

void interval_drop(struct interval *iv)
{
	sleep_drop(&iv->sleep);
}
