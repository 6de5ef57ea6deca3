/*
 * poll.c - the host's side of the poll contract in arch.h: the ticking
 * scheduler per thread, the count of spinlocks held, the cycle counter,
 * and the poll guard.
 *
 * The cycle counter is RDTSC (invariant on every machine this runs on),
 * converted against CLOCK_MONOTONIC with a ratio measured once, over
 * HOST_CYCLES_CAL_NS, the first time a conversion is asked for.
 *
 * The guard: with no MMU faults to catch, the host contains only the
 * faults a test raises on purpose with host_poll_fault(), and only after
 * host_poll_guard_enable(): arch_poll_call() then sets a _setjmp() point
 * per call and host_poll_fault() _longjmp()s to it, where the kernel's
 * fault handler rewrites the trap frame to the same effect (both
 * sanitizers understand longjmp).  Without the switch arch_poll_call() is
 * a plain call, so benchmarks pay nothing for it.
 */
#define _GNU_SOURCE
#include <pthread.h>
#include <setjmp.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <time.h>

#include "arch.h"
#include "arch/host/cpu.h"
#include "panic.h"

/* How long the cycle counter is measured against CLOCK_MONOTONIC. */
#define HOST_CYCLES_CAL_NS	2000000ull
#define NS_PER_S		1000000000ull

static _Thread_local jmp_buf *guard;
static atomic_bool guard_enabled;

void arch_set_cpu_sched(void *s)
{
	arch_host_cpu.sched = s;
}

void arch_host_lock_underflow(void)
{
	panic("arch_lock_released: no spinlock is held");
}

/* ---- cycles ------------------------------------------------------------ */

static uint64_t mono_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * NS_PER_S + (uint64_t)ts.tv_nsec;
}

/* Cycles per ns and ns per cycle, 32.32 fixed point. */
static uint64_t cyc_per_ns_fp, ns_per_cyc_fp;
static pthread_once_t cal_once = PTHREAD_ONCE_INIT;

static void calibrate(void)
{
	uint64_t n0 = mono_ns(), c0 = arch_cycles(), n1, c1;

	do {
		n1 = mono_ns();
		c1 = arch_cycles();
	} while (n1 - n0 < HOST_CYCLES_CAL_NS);
	if (c1 <= c0)
		c1 = c0 + (n1 - n0);	/* no usable counter: call it 1 GHz */
	cyc_per_ns_fp = (uint64_t)(((unsigned __int128)(c1 - c0) << 32) / (n1 - n0));
	ns_per_cyc_fp = (uint64_t)(((unsigned __int128)(n1 - n0) << 32) / (c1 - c0));
}

uint64_t arch_cycles_to_ns(uint64_t cycles)
{
	pthread_once(&cal_once, calibrate);
	return (uint64_t)(((unsigned __int128)cycles * ns_per_cyc_fp) >> 32);
}

uint64_t arch_ns_to_cycles(uint64_t ns)
{
	pthread_once(&cal_once, calibrate);
	return (uint64_t)(((unsigned __int128)ns * cyc_per_ns_fp) >> 32);
}

/* ---- the poll guard ---------------------------------------------------- */

void host_poll_guard_enable(bool on)
{
	atomic_store_explicit(&guard_enabled, on, memory_order_relaxed);
}

int arch_poll_call(int (*fn)(void *a, void *b), void *a, void *b)
{
	jmp_buf buf, *prev;
	int r;

	if (!atomic_load_explicit(&guard_enabled, memory_order_relaxed))
		return fn(a, b);
	prev = guard;
	if (_setjmp(buf)) {
		guard = prev;
		return ARCH_POLL_FAULTED;
	}
	guard = &buf;
	r = fn(a, b);
	guard = prev;
	return r;
}

void host_poll_fault(void)
{
	/* The kernel's rules: only a poll's own code, lock-free, is ended. */
	if (guard == NULL || arch_host_cpu.locks_held > 0 || arch_in_interrupt())
		panic("host_poll_fault: a fault outside a guarded poll (%s)",
		      guard == NULL ? "no guard" :
		      arch_host_cpu.locks_held ? "a spinlock is held" : "in a kick");
	_longjmp(*guard, 1);
}
