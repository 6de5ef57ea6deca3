/*
 * arch.h - the contract portable code (lib, sched, timer, rt, shell) calls.
 *
 * Two implementations link against the same portable objects:
 *   arch/x86_64/  the kernel: a core is a processor, per-core data hangs off
 *                 GS base, waiting is `sti; hlt`, waking is an IPI;
 *   arch/host/    tests and benchmarks: a core is a pthread, per-core data
 *                 is thread-local, waiting polls a wakeup word for a while
 *                 and then sleeps on it as a futex until woken.
 * Portable code never uses inline assembly or #ifdef on the target; it
 * reaches the machine only through these functions.
 */
#ifndef HYPHAE_ARCH_H
#define HYPHAE_ARCH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct clock;

/*
 * ARCH_HOT marks the hooks that polls, spinlocks and trace events call
 * many times each: the target's own header defines them inline
 * (arch_host.h, arch_x86_64.h, included at the end of this file), chosen
 * by the build with -DARCH_TARGET_HOST or -DARCH_TARGET_X86_64.  As
 * calls they cost the host's ping_pong and chained_spawn about 4% of
 * their time (docs/perf-log.md).  A build without a target (the model checker,
 * which supplies its own arch; the fuzzer, which needs none of them) gets
 * plain declarations.
 */
#if defined(ARCH_TARGET_HOST) || defined(ARCH_TARGET_X86_64)
#define ARCH_HOT static inline
#else
#define ARCH_HOT
#endif

/* ---- per-core data ------------------------------------------------------ */

/*
 * The calling core's private pointer (the runtime stores its struct
 * rt_core here).  NULL until set.  Any context, including interrupts.
 */
ARCH_HOT void *arch_cpu_local(void);
void arch_set_cpu_local(void *p);

/*
 * Tell the arch layer that the calling core now owns runtime slot `index`,
 * so arch_wake(index) reaches it.  Called once per core by rt.
 */
void arch_cpu_bind(unsigned index);

/* The runtime slot index given to arch_cpu_bind(); 0 before binding. */
ARCH_HOT unsigned arch_cpu_index(void);

/* Hardware id of the calling core (APIC id; host: thread number). */
uint32_t arch_cpu_hwid(void);

/* ---- interrupts --------------------------------------------------------- */

/* Disable interrupts on this core and return the previous state. */
ARCH_HOT unsigned long arch_irq_save(void);
/* Restore the state returned by arch_irq_save(). */
ARCH_HOT void arch_irq_restore(unsigned long flags);
void arch_irq_disable(void);
void arch_irq_enable(void);

/* ---- idle and wakeup ---------------------------------------------------- */

/* What ended an arch_wait_for_interrupt() (the trace's idle exits). */
enum arch_wake_reason {
	ARCH_WOKE_OTHER = 0,	/* none of these (a stray interrupt) */
	ARCH_WOKE_IPI,		/* an arch_wake() for this core */
	ARCH_WOKE_TIMER,	/* the deadline of arch_timer_arm() */
	ARCH_WOKE_DEVICE,	/* a device's interrupt */
};

/*
 * Sleep until an interrupt or arch_wake() for this core.  Call with
 * interrupts disabled; returns with interrupts enabled, saying what woke
 * it.  Enabling and sleeping is one step (`sti; hlt`), so a wakeup sent
 * after the caller's last check of its queues is not lost.  On the host a
 * wakeup sent at any time since the last return is remembered (one
 * pending flag).
 */
enum arch_wake_reason arch_wait_for_interrupt(void);

/*
 * Wake the core bound to runtime slot `index` from arch_wait_for_interrupt
 * (kernel: a fixed IPI on the wakeup vector; host: a store to the core's
 * wakeup word, and a futex wake only if the core may be asleep on it).
 * Any core, IRQ-safe.  Callers send it only to cores they saw idle.
 */
void arch_wake(unsigned index);

/*
 * Arm this core's one-shot timer to interrupt at `deadline`, in ticks of
 * arch_clock(); UINT64_MAX disarms.  A deadline in the past fires at once.
 * Used by an idle core so it sleeps exactly until the next timer deadline.
 */
void arch_timer_arm(uint64_t deadline);

/* Spin-wait hint (`pause`). */
void arch_cpu_relax(void);

/* ---- the scheduler's per-core hooks ----------------------------------- */

/*
 * The scheduler ticking on this core right now (sched/ sets it around
 * sched_tick(); task_current() and the registry read it).  NULL outside a
 * tick.  Any context; an interrupt handler sees the interrupted tick's.
 */
ARCH_HOT void *arch_cpu_sched(void);
void arch_set_cpu_sched(void *s);

/* True inside an interrupt handler on this core (host: inside a kick). */
ARCH_HOT bool arch_in_interrupt(void);

/*
 * Spinlocks held by this core (include/spinlock.h counts them): a fault
 * with one held is never contained.  Any context.
 */
ARCH_HOT void arch_lock_acquired(void);
ARCH_HOT void arch_lock_released(void);
ARCH_HOT unsigned arch_locks_held(void);

/*
 * A cheap monotonic counter for timing polls, comparable across cores
 * (kernel and host: RDTSC).  arch_cycles_to_ns() and arch_ns_to_cycles()
 * convert (host: against CLOCK_MONOTONIC, measured once).  Any context.
 *
 * Inline (ARCH_HOT): every poll reads it once, and a call around RDTSC
 * cost 3% of yield_many's time.
 */
ARCH_HOT uint64_t arch_cycles(void);
uint64_t arch_cycles_to_ns(uint64_t cycles);
uint64_t arch_ns_to_cycles(uint64_t ns);

/*
 * Call fn(a, b) as a task's poll: a CPU exception raised inside it (#DE,
 * #UD, #GP, #PF, #BP, #SS), in task context with interrupts enabled and
 * no spinlock held, is reported and ends the call, which then returns
 * ARCH_POLL_FAULTED; the core goes on.  Anything else (an exception in an
 * interrupt handler, with a lock held, #DF, #MC, NMI) halts as always.
 * Nests.  Host: a plain call, unless host_poll_guard_enable() (tests).
 */
#define ARCH_POLL_FAULTED	(-1)
int arch_poll_call(int (*fn)(void *a, void *b), void *a, void *b);

/*
 * Kicks: arch_kick(index) runs the handler set with arch_set_kick_handler()
 * on the core bound to slot `index`, as an interrupt of whatever it runs
 * (kernel: a fixed IPI; host: at that thread's next arch_cpu_relax() or
 * wait).  The runtime uses it to take back tasks a long poll holds.  The
 * handler is set once, before any kick; any core may kick.
 */
void arch_set_kick_handler(void (*fn)(void));
void arch_kick(unsigned index);

/*
 * Print the call stack that the core bound to slot `index` is running
 * right now (kernel: captured by an NMI on that core, printed here; host:
 * one line saying it cannot).  Not for the calling core.  Task context.
 */
void arch_print_remote_backtrace(unsigned index);

/* ---- time, randomness, console ----------------------------------------- */

/* The monotonic clock the global timer runs on (TSC; host: CLOCK_MONOTONIC). */
const struct clock *arch_clock(void);

/*
 * A cheap timestamp for the trace (lib/trace.c): a counter that only goes
 * up, in step on every core, at a fixed rate the trace measures against
 * arch_clock() (the TSC on both targets: a clock_gettime() costs the host
 * 2-7 times as much).  The same counter as arch_cycles(): the scheduler's
 * poll and spawn stamps go into the trace as they are.  Any context.
 */
uint64_t arch_trace_stamp(void);

/* 64 bits for seeding per-core PRNGs (RDRAND, else TSC mixed with the core). */
uint64_t arch_random_seed(void);

/* Write bytes to the console (serial; host: stdout).  Any core. */
void arch_console_write(const char *s, size_t n);

#if defined(ARCH_TARGET_HOST)
#include "arch_host.h"
#elif defined(ARCH_TARGET_X86_64)
#include "arch_x86_64.h"
#endif

#endif /* HYPHAE_ARCH_H */
