/*
 * cpu.c - the arch.h contract on the host: a core is a pthread.
 *
 * Per-core data is thread-local.  Each thread that binds to a runtime slot
 * gets a futex word: arch_wake() sets it to PENDING and wakes the futex
 * unless the core is polling, arch_wait_for_interrupt() waits until it is
 * PENDING (or the armed timer deadline passes) and clears it.  So one
 * wakeup sent at any time before the wait is remembered, and a burst of
 * them is one wakeup, as with a pending IPI on the kernel.  Interrupts do
 * not exist here: the irq calls only keep a per-thread flag so assertions
 * about them still hold.  The one thing delivered like an interrupt is a
 * kick (arch_kick): a flag per core that the thread checks, and runs the
 * kick handler for, at each arch_cpu_relax() and when a wait ends, so a
 * poll that spins politely (as any spin in hyphae does) takes it.
 *
 * A wait polls the word for a while before it sleeps on the futex, as KVM
 * polls a vCPU that executed HLT (halt_poll_ns, virt/kvm/kvm_main.c), with
 * KVM's rule for how long (host_halt_poll_adapt()): a wait that ended
 * after the poll but within HOST_POLL_MAX_NS doubles the next poll (from
 * HOST_POLL_START_NS), one that outlasted the ceiling halves it (below the
 * start: no poll).  So a core whose waits keep ending soon polls long
 * enough to catch the next wakeup, and one that waits long stops burning
 * its CPU.  In a VM a thread woken from the futex takes many times longer
 * to run again than a polling one, and the waker of a polling core makes
 * no futex call (docs/PERFORMANCE.md, chained_spawn).
 * The word's third state, HOST_POLLING, tells the waker so.  Unlike KVM,
 * which stops polling when another task wants the CPU, a thread cannot
 * see that: with more threads than CPUs a polling core may hold for up to
 * HOST_POLL_MAX_NS a CPU that its waker needs.  So while more threads
 * are bound to cores than the process may run on at once
 * (host_oversubscribed(): threads bound, against sched_getaffinity()),
 * the case KVM's single_task_running() check stands for, a polling wait
 * calls sched_yield() between its looks instead of pausing: a thread
 * with work gets the CPU, and a waker still finds the core polling (no
 * futex call on either side; not polling at all doubled the time of
 * the wakeup-bound workloads at 4 workers on 2 CPUs).
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
#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include "arch.h"
#include "arch/host/cpu.h"
#include "compiler.h"
#include "config.h"
#include "lib/trace.h"
#include "panic.h"
#include "clock.h"


/* The futex word, host_core.pending. */
enum {
	HOST_IDLE = 0,		/* no wakeup pending; the core may sleep on it */
	HOST_PENDING = 1,	/* a wakeup is pending */
	HOST_POLLING = 2,	/* no wakeup pending; the core polls, so a
				 * waker stores PENDING and makes no call */
};

/* A line each: a polling core reads its word in a loop, and a wake of
 * its neighbour must not take the line from under it. */
struct host_core {
	atomic_uint pending;	/* futex word, HOST_* above */
	atomic_bool kick;	/* arch_kick() sent, not yet delivered */
} __cacheline_aligned;

static struct host_core host_cores[MAX_CORES];
/* The per-core data arch_host.h's inline hooks read. */
_Thread_local struct arch_host_cpu arch_host_cpu = {
	.index = -1, .irq_flags = 1,
};
static _Thread_local uint64_t timer_deadline = UINT64_MAX;
/* How long this core's next wait polls before it sleeps (0: not at all). */
static _Thread_local uint64_t poll_ns;
static _Thread_local struct host_poll_stats poll_stats;
static atomic_uint next_hwid;
/* Threads bound to a core now (each counted once; its exit uncounts it),
 * and the CPUs this process may run on (0: not read yet). */
static atomic_uint bound_threads;
static atomic_uint host_cpus;
static pthread_key_t bound_key;
static pthread_once_t bound_once = PTHREAD_ONCE_INIT;
static _Thread_local uint32_t hwid = UINT32_MAX;
static void (*kick_handler)(void);

static void deliver_kick(void);

void arch_set_cpu_local(void *p)
{
	arch_host_cpu.local = p;
}

static void bound_thread_exit(void *unused)
{
	(void)unused;
	atomic_fetch_sub_explicit(&bound_threads, 1, memory_order_relaxed);
}

static void bound_key_init(void)
{
	cpu_set_t set;
	unsigned n = 1;

	if (pthread_key_create(&bound_key, bound_thread_exit) != 0)
		panic("arch_cpu_bind: no thread key");
	if (sched_getaffinity(0, sizeof(set), &set) == 0 && CPU_COUNT(&set) > 0)
		n = (unsigned)CPU_COUNT(&set);
	atomic_store_explicit(&host_cpus, n, memory_order_relaxed);
}

bool host_oversubscribed(void)
{
	unsigned cpus = atomic_load_explicit(&host_cpus, memory_order_relaxed);

	/* relaxed: a hint; a wait decided on a stale count polls, or not,
	 * once more. */
	return cpus && atomic_load_explicit(&bound_threads,
					    memory_order_relaxed) > cpus;
}

void arch_cpu_bind(unsigned index)
{
	if (index >= MAX_CORES)
		panic("arch_cpu_bind: index %u out of range", index);
	pthread_once(&bound_once, bound_key_init);
	if (arch_host_cpu.index < 0) {
		atomic_fetch_add_explicit(&bound_threads, 1, memory_order_relaxed);
		pthread_setspecific(bound_key, &bound_threads);
	}
	/* A wakeup sent before binding stays pending: at worst one spurious
	 * return from the first wait, which callers tolerate anyway. */
	arch_host_cpu.index = (int)index;
	timer_deadline = UINT64_MAX;
}

uint32_t arch_cpu_hwid(void)
{
	if (hwid == UINT32_MAX)
		hwid = atomic_fetch_add_explicit(&next_hwid, 1, memory_order_relaxed);
	return hwid;
}

void arch_irq_disable(void)
{
	arch_host_cpu.irq_flags = 0;
}

void arch_irq_enable(void)
{
	arch_host_cpu.irq_flags = 1;
}

static long futex(atomic_uint *uaddr, int op, unsigned val,
		  const struct timespec *ts)
{
	return syscall(SYS_futex, (unsigned *)uaddr, op, val, ts, NULL, 0);
}

/* The armed timer's deadline has passed: disarm it, as hardware would. */
static bool timer_fired(uint64_t now)
{
	if (now < timer_deadline)
		return false;
	timer_deadline = UINT64_MAX;
	return true;
}

/*
 * Poll c->pending for up to `ns` (and not past the armed deadline): true
 * if a wakeup came or the timer fired (the wait is over; *why says
 * which), false if the poll ran out with the word back at HOST_IDLE.
 */
static bool halt_poll(struct host_core *c, const struct clock *clk,
		      uint64_t start, uint64_t ns, enum arch_wake_reason *why)
{
	unsigned expected = HOST_IDLE;
	bool fired = false;
	/* More threads than CPUs: between looks, give the CPU to a thread
	 * with work (it comes back at once if there is none). */
	bool yield = host_oversubscribed();

	/* Relaxed: a failure finds PENDING, consumed with acquire below. */
	if (!atomic_compare_exchange_strong_explicit(&c->pending, &expected,
						     HOST_POLLING,
						     memory_order_relaxed,
						     memory_order_relaxed))
		goto consume;
	for (unsigned k = 0;; k++) {
		if (atomic_load_explicit(&c->pending, memory_order_relaxed) ==
		    HOST_PENDING)
			break;
		/* The clock at once (a deadline already past fires now), then
		 * every 64 pauses or every yield. */
		if (k % 64 == 0 || yield) {
			uint64_t now = k ? clk->now(clk) : start;

			if ((fired = timer_fired(now)) ||
			    (now - start) * clk->tick_ns >= ns)
				break;
		}
		if (yield)
			sched_yield();
		else
			__builtin_ia32_pause();
	}
	expected = HOST_POLLING;
	if (atomic_compare_exchange_strong_explicit(&c->pending, &expected,
						    HOST_IDLE,
						    memory_order_relaxed,
						    memory_order_relaxed)) {
		if (fired)
			*why = ARCH_WOKE_TIMER;
		return fired;
	}
consume:
	*why = ARCH_WOKE_IPI;
	/* acquire: pairs with the release exchange in arch_wake(). */
	atomic_exchange_explicit(&c->pending, HOST_IDLE, memory_order_acquire);
	return true;
}

void host_halt_poll_adapt(uint64_t waited_ns)
{
	if (waited_ns <= poll_ns)
		return;			/* the poll caught it */
	if (waited_ns > HOST_POLL_MAX_NS) {
		/* A long wait: polling was waste. */
		poll_ns /= 2;
		if (poll_ns < HOST_POLL_START_NS)
			poll_ns = 0;
	} else if (poll_ns < HOST_POLL_MAX_NS) {
		/* A short wait the poll missed: poll longer. */
		poll_ns = poll_ns ? MIN(poll_ns * 2, (uint64_t)HOST_POLL_MAX_NS) :
			  HOST_POLL_START_NS;
	}
}

uint64_t host_halt_poll_ns(void)
{
	return poll_ns;
}

void host_halt_poll_set(uint64_t ns)
{
	poll_ns = ns;
}

struct host_poll_stats host_halt_poll_stats(void)
{
	return poll_stats;
}

enum arch_wake_reason arch_wait_for_interrupt(void)
{
	struct host_core *c;
	const struct clock *clk = arch_clock();
	enum arch_wake_reason why = ARCH_WOKE_OTHER;
	uint64_t start;

	if (arch_host_cpu.index < 0)
		panic("arch_wait_for_interrupt: thread not bound to a core");
	c = &host_cores[arch_host_cpu.index];
	arch_host_cpu.irq_flags = 1;
	start = clk->now(clk);
	if (poll_ns && halt_poll(c, clk, start, poll_ns, &why)) {
		poll_stats.polled++;
		goto out;
	}
	poll_stats.slept++;
	for (;;) {
		struct timespec ts, *tsp = NULL;

		/* acquire: pairs with the release exchange in arch_wake(). */
		if (atomic_exchange_explicit(&c->pending, HOST_IDLE,
					     memory_order_acquire)) {
			why = ARCH_WOKE_IPI;
			break;
		}
		if (timer_deadline != UINT64_MAX) {
			uint64_t now = clk->now(clk);
			uint64_t ns;

			if (timer_fired(now)) {
				why = ARCH_WOKE_TIMER;
				break;
			}
			ns = (timer_deadline - now) * clk->tick_ns;
			ts.tv_sec = (time_t)(ns / 1000000000u);
			ts.tv_nsec = (long)(ns % 1000000000u);
			tsp = &ts;
		}
		if (futex(&c->pending, FUTEX_WAIT_PRIVATE, HOST_IDLE, tsp) < 0 &&
		    errno != EAGAIN && errno != EINTR && errno != ETIMEDOUT)
			panic("arch_wait_for_interrupt: futex wait failed (%d)", errno);
	}
out:
	host_halt_poll_adapt((clk->now(clk) - start) * clk->tick_ns);
	deliver_kick();
	return why;
}

void arch_wake(unsigned index)
{
	struct host_core *c;

	if (index >= MAX_CORES)
		panic("arch_wake: index %u out of range", index);
	c = &host_cores[index];
	/* release: publishes the work enqueued before the wakeup; pairs with
	 * the acquire exchanges in arch_wait_for_interrupt() and
	 * halt_poll().  A polling core sees the word; only a sleeping one
	 * needs the call. */
	if (atomic_exchange_explicit(&c->pending, HOST_PENDING,
				     memory_order_release) == HOST_IDLE) {
		/* The host's IPI: a futex wake of a sleeping thread. */
		trace_event(TRACE_IPI, index, 0, 0);
		futex(&c->pending, FUTEX_WAKE_PRIVATE, 1, NULL);
	}
}

void arch_timer_arm(uint64_t deadline)
{
	timer_deadline = deadline;
}

/* Run a kick sent to this thread's core, as its interrupt would. */
static void deliver_kick(void)
{
	struct host_core *c;

	if (arch_host_cpu.index < 0)
		return;
	c = &host_cores[arch_host_cpu.index];
	/* relaxed first: the common case costs one load.  acquire on the
	 * exchange: pairs with the release exchange in arch_kick(). */
	if (!atomic_load_explicit(&c->kick, memory_order_relaxed) ||
	    !atomic_exchange_explicit(&c->kick, false, memory_order_acquire))
		return;
	if (kick_handler) {
		arch_host_cpu.irq_depth++;
		kick_handler();
		arch_host_cpu.irq_depth--;
	}
}

void arch_cpu_relax(void)
{
	deliver_kick();
	__builtin_ia32_pause();
}

uint64_t arch_trace_stamp(void)
{
	return __builtin_ia32_rdtsc();
}

void arch_set_kick_handler(void (*fn)(void))
{
	kick_handler = fn;
}

void arch_kick(unsigned index)
{
	if (index >= MAX_CORES)
		panic("arch_kick: index %u out of range", index);
	/* release: pairs with the acquire exchange in deliver_kick(). */
	atomic_exchange_explicit(&host_cores[index].kick, true,
				 memory_order_release);
}

void arch_print_remote_backtrace(unsigned index)
{
	char line[96];
	int n = snprintf(line, sizeof(line),
			 "  (no backtrace of core %u: the host cannot take one)\n",
			 index);

	arch_console_write(line, (size_t)n);
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
