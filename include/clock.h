/*
 * clock.h - what a clock is, and the units of time.
 *
 * A clock counts ticks of a fixed duration, monotonically, in 64 bits.  The
 * kernel's is the calibrated TSC (arch/x86_64/tsc.c), the host's is
 * CLOCK_MONOTONIC (arch/host), and tests use a mock clock they advance by
 * hand (struct mock_clock below; portable, so tests and benchmarks on
 * either target can use it).  arch/ and lib/ read a clock; the timer
 * (timer/) builds on it.  The conversions and the mock clock are in
 * lib/clock.c.
 *
 * Durations convert to ticks rounding up, so a sleep never ends early as
 * measured by the clock, and a conversion that would overflow is an error
 * (-ERANGE), never a wrap.  A deadline counted from clock_now() may still
 * end up to one tick early in wall time when the tick is coarse (now is
 * truncated); callers that care add one tick.
 */
#ifndef HYPHAE_CLOCK_H
#define HYPHAE_CLOCK_H

#include <stdatomic.h>
#include <stdint.h>

#include "compiler.h"

/* Units of time: the one spelling the tree uses. */
#define NS_PER_US	1000ull
#define NS_PER_MS	1000000ull
#define NS_PER_SEC	1000000000ull
#define US_PER_MS	1000ull
#define US_PER_SEC	1000000ull
#define MS_PER_SEC	1000ull

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

/*
 * Convert `ns` nanoseconds to ticks of `clk`, rounding up, into *ticks.
 * Returns 0, or -ERANGE (and leaves *ticks alone) if the result exceeds
 * clk->max_ticks.  Pure; any context.
 */
int __must_check clock_ns_to_ticks(const struct clock *clk, uint64_t ns,
				   ticks_t *ticks);

/*
 * Convert `ticks` of `clk` to nanoseconds into *ns.  Returns 0, or -ERANGE
 * if the product does not fit in 64 bits.  Pure; any context.
 */
int __must_check clock_ticks_to_ns(const struct clock *clk, ticks_t ticks,
				   uint64_t *ns);

/*
 * The deadline `ns` nanoseconds after `start` on `clk`, rounded up, into
 * *deadline.  Returns 0, or -ERANGE if the duration exceeds max_ticks or
 * the sum would pass 2^64 - 1.  Pure; any context.
 */
int __must_check clock_deadline_after(const struct clock *clk, ticks_t start,
				      uint64_t ns, ticks_t *deadline);

/* ---- mock clock: time moves only when a test says so -------------------- */

struct mock_clock {
	struct clock clock;	/* hand &m->clock to the timer */
	atomic_uint_least64_t now;
};

/*
 * Initialise `m` at tick `start` with ticks of `tick_ns` ns (>= 1) and
 * max_ticks = UINT64_MAX.  The clock's priv points back at `m`.
 */
void mock_clock_init(struct mock_clock *m, const char *name, uint64_t tick_ns,
		     ticks_t start);

/* Move `m` forward by `ticks` (saturating at UINT64_MAX).  Any thread. */
void mock_clock_advance(struct mock_clock *m, ticks_t ticks);

/* Set `m` to `t`; panics if that would move it backwards.  Any thread. */
void mock_clock_set(struct mock_clock *m, ticks_t t);

#endif /* HYPHAE_CLOCK_H */
