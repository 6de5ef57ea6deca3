/*
 * clock.h - the clock the timer wheel runs on.
 *
 * A clock counts ticks of a fixed duration, monotonically, in 64 bits.  The
 * kernel's is the calibrated TSC (arch/x86_64), the host's is
 * CLOCK_MONOTONIC (arch/host), and tests use a mock clock they advance by
 * hand.  Durations convert to ticks rounding up, so a sleep never ends
 * early, and a conversion that would overflow is an error, never a wrap.
 */
#ifndef HYPHAE_TIMER_CLOCK_H
#define HYPHAE_TIMER_CLOCK_H

#include <stdint.h>

#include "compiler.h"

typedef uint64_t ticks_t;

struct clock {
	const char *name;
	/* Duration of one tick in nanoseconds (>= 1). */
	uint64_t tick_ns;
	/* Ticks since an arbitrary origin; monotonic, any core, IRQ-safe. */
	ticks_t (*now)(const struct clock *clk);
	/* The longest duration the clock can express, in ticks. */
	ticks_t max_ticks;
	/* Owner's data (e.g. the mock clock's current value). */
	void *priv;
};

static inline ticks_t clock_now(const struct clock *clk)
{
	return clk->now(clk);
}

#endif /* HYPHAE_TIMER_CLOCK_H */
