/*
 * cpu.c - the arch.h contract on the host: a core is a pthread.
 *
 * Per-core data is thread-local.  Each thread that binds to a runtime slot
 * gets a futex word: arch_wake() sets it to 1 and wakes the futex,
 * arch_wait_for_interrupt() sleeps until it is 1 (or the armed timer
 * deadline passes) and clears it.  So one wakeup sent at any time before
 * the wait is remembered, and a burst of them is one wakeup, as with a
 * pending IPI on the kernel.  Interrupts do not exist here: the irq calls
 * only keep a per-thread flag so assertions about them still hold.
 *
 * As on the kernel, slot indexes name cores process-wide: one runtime may
 * run at a time.  Two live runtimes in one process would share the futex
 * word of each index and could take each other's wakeups (tests run their
 * runtimes one after another).
 */
#define _GNU_SOURCE
#include <errno.h>
#include <limits.h>
#include <linux/futex.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include "arch.h"
#include "panic.h"
#include "timer/clock.h"

#define HOST_MAX_CORES	512

struct host_core {
	atomic_uint pending;	/* 1: a wakeup is pending (futex word) */
};

static struct host_core host_cores[HOST_MAX_CORES];
static _Thread_local void *cpu_local;
static _Thread_local int bound_index = -1;
static _Thread_local uint64_t timer_deadline = UINT64_MAX;
static _Thread_local unsigned long irq_flags = 1;
static atomic_uint next_hwid;
static _Thread_local uint32_t hwid = UINT32_MAX;

void *arch_cpu_local(void)
{
	return cpu_local;
}

void arch_set_cpu_local(void *p)
{
	cpu_local = p;
}

void arch_cpu_bind(unsigned index)
{
	if (index >= HOST_MAX_CORES)
		panic("arch_cpu_bind: index %u out of range", index);
	/* A wakeup sent before binding stays pending: at worst one spurious
	 * return from the first wait, which callers tolerate anyway. */
	bound_index = (int)index;
	timer_deadline = UINT64_MAX;
}

unsigned arch_cpu_index(void)
{
	return bound_index < 0 ? 0 : (unsigned)bound_index;
}

uint32_t arch_cpu_hwid(void)
{
	if (hwid == UINT32_MAX)
		hwid = atomic_fetch_add_explicit(&next_hwid, 1, memory_order_relaxed);
	return hwid;
}

unsigned long arch_irq_save(void)
{
	unsigned long old = irq_flags;

	irq_flags = 0;
	return old;
}

void arch_irq_restore(unsigned long flags)
{
	irq_flags = flags;
}

void arch_irq_disable(void)
{
	irq_flags = 0;
}

void arch_irq_enable(void)
{
	irq_flags = 1;
}

static long futex(atomic_uint *uaddr, int op, unsigned val,
		  const struct timespec *ts)
{
	return syscall(SYS_futex, (unsigned *)uaddr, op, val, ts, NULL, 0);
}

void arch_wait_for_interrupt(void)
{
	struct host_core *c;
	const struct clock *clk = arch_clock();

	if (bound_index < 0)
		panic("arch_wait_for_interrupt: thread not bound to a core");
	c = &host_cores[bound_index];
	irq_flags = 1;
	for (;;) {
		struct timespec ts, *tsp = NULL;

		/* acquire: pairs with the release exchange in arch_wake(). */
		if (atomic_exchange_explicit(&c->pending, 0, memory_order_acquire))
			return;
		if (timer_deadline != UINT64_MAX) {
			uint64_t now = clk->now(clk);
			uint64_t ns;

			if (now >= timer_deadline) {
				/* The one-shot timer "fires": disarm, as hardware would. */
				timer_deadline = UINT64_MAX;
				return;
			}
			ns = (timer_deadline - now) * clk->tick_ns;
			ts.tv_sec = (time_t)(ns / 1000000000u);
			ts.tv_nsec = (long)(ns % 1000000000u);
			tsp = &ts;
		}
		if (futex(&c->pending, FUTEX_WAIT_PRIVATE, 0, tsp) < 0 &&
		    errno != EAGAIN && errno != EINTR && errno != ETIMEDOUT)
			panic("arch_wait_for_interrupt: futex wait failed (%d)", errno);
	}
}

void arch_wake(unsigned index)
{
	struct host_core *c;

	if (index >= HOST_MAX_CORES)
		panic("arch_wake: index %u out of range", index);
	c = &host_cores[index];
	/* release: publishes the work enqueued before the wakeup; pairs with
	 * the acquire exchange in arch_wait_for_interrupt(). */
	if (atomic_exchange_explicit(&c->pending, 1, memory_order_release) == 0)
		futex(&c->pending, FUTEX_WAKE_PRIVATE, 1, NULL);
}

void arch_timer_arm(uint64_t deadline)
{
	timer_deadline = deadline;
}

void arch_cpu_relax(void)
{
	__builtin_ia32_pause();
}

uint64_t arch_random_seed(void)
{
	struct timespec ts;
	static atomic_ullong counter;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ((uint64_t)ts.tv_nsec << 20) ^ (uint64_t)ts.tv_sec ^
	       (atomic_fetch_add_explicit(&counter, 0x9e3779b97f4a7c15ull,
					  memory_order_relaxed));
}

void arch_console_write(const char *s, size_t n)
{
	fwrite(s, 1, n, stdout);
}

/* ---- CLOCK_MONOTONIC clock, 1 ns ticks ---------------------------------- */

static ticks_t host_clock_now(const struct clock *clk)
{
	struct timespec ts;

	(void)clk;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (ticks_t)ts.tv_sec * 1000000000u + (ticks_t)ts.tv_nsec;
}

static const struct clock host_clock = {
	.name = "CLOCK_MONOTONIC",
	.tick_ns = 1,
	.now = host_clock_now,
	.max_ticks = UINT64_MAX,
};

const struct clock *arch_clock(void)
{
	return &host_clock;
}
