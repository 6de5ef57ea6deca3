/*
 * clock.c - duration conversions and the mock clock.
 *
 * Conversions round durations up to whole ticks (a sleep must never end
 * before its duration) and check every multiplication and addition for
 * overflow instead of wrapping.  The mock clock is an atomic counter that
 * tests move by hand; it is portable, so it runs on both targets.
 */
#include "errno.h"
#include "panic.h"
#include "clock.h"

int clock_ns_to_ticks(const struct clock *clk, uint64_t ns, ticks_t *ticks)
{
	uint64_t t;

	kassert(clk->tick_ns >= 1);
	/* Round up without computing ns + tick_ns - 1, which could wrap. */
	t = ns / clk->tick_ns + (ns % clk->tick_ns != 0);
	if (t > clk->max_ticks)
		return -ERANGE;
	*ticks = t;
	return 0;
}

int clock_ticks_to_ns(const struct clock *clk, ticks_t ticks, uint64_t *ns)
{
	uint64_t r;

	kassert(clk->tick_ns >= 1);
	if (__builtin_mul_overflow(ticks, clk->tick_ns, &r))
		return -ERANGE;
	*ns = r;
	return 0;
}

int clock_deadline_after(const struct clock *clk, ticks_t start, uint64_t ns,
			 ticks_t *deadline)
{
	ticks_t d;
	int err = clock_ns_to_ticks(clk, ns, &d);

	if (err)
		return err;
	if (__builtin_add_overflow(start, d, &d))
		return -ERANGE;
	*deadline = d;
	return 0;
}

static ticks_t mock_clock_now(const struct clock *clk)
{
	struct mock_clock *m = clk->priv;

	/* relaxed: a clock reading publishes nothing; the timer's lock orders
	 * whatever the reader does with it. */
	return atomic_load_explicit(&m->now, memory_order_relaxed);
}

void mock_clock_init(struct mock_clock *m, const char *name, uint64_t tick_ns,
		     ticks_t start)
{
	kassert(tick_ns >= 1);
	m->clock.name = name;
	m->clock.tick_ns = tick_ns;
	m->clock.now = mock_clock_now;
	m->clock.max_ticks = UINT64_MAX;
	m->clock.priv = m;
	atomic_init(&m->now, start);
}

void mock_clock_advance(struct mock_clock *m, ticks_t ticks)
{
	uint64_t old = atomic_load_explicit(&m->now, memory_order_relaxed);
	uint64_t new;

	do {
		if (__builtin_add_overflow(old, ticks, &new))
			new = UINT64_MAX;
		/* relaxed: see mock_clock_now(). */
	} while (!atomic_compare_exchange_weak_explicit(&m->now, &old, new,
							memory_order_relaxed,
							memory_order_relaxed));
}

void mock_clock_set(struct mock_clock *m, ticks_t t)
{
	uint64_t old = atomic_load_explicit(&m->now, memory_order_relaxed);

	do {
		if (t < old)
			panic("mock_clock_set: %llu is before now %llu",
			      (unsigned long long)t, (unsigned long long)old);
		/* relaxed: see mock_clock_now(). */
	} while (!atomic_compare_exchange_weak_explicit(&m->now, &old, t,
							memory_order_relaxed,
							memory_order_relaxed));
}
