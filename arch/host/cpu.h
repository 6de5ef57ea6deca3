/*
 * cpu.h - what arch/host adds to the arch.h contract: its halt polling
 * (see cpu.c), visible to tests.  Host only; portable code never calls it.
 */
#ifndef HYPHAE_ARCH_HOST_CPU_H
#define HYPHAE_ARCH_HOST_CPU_H

#include <stdbool.h>
#include <stdint.h>

/* A wait polls at most this long before it sleeps on its futex. */
#define HOST_POLL_MAX_NS	50000u
/* The first poll of a core whose waits turned short. */
#define HOST_POLL_START_NS	10000u

/* Per thread: waits that a wakeup or the timer ended while polling, and
 * waits that went to sleep (no poll, or the poll ran out). */
struct host_poll_stats {
	uint64_t polled;
	uint64_t slept;
};

/* How long the calling thread's next arch_wait_for_interrupt() polls. */
uint64_t host_halt_poll_ns(void);
/* Set it (tests); the wait's own rule takes over after that wait. */
void host_halt_poll_set(uint64_t ns);
/* The rule, applied after each wait: one that lasted `waited_ns`. */
void host_halt_poll_adapt(uint64_t waited_ns);
/* The calling thread's counts. */
struct host_poll_stats host_halt_poll_stats(void);
/* More threads are bound to cores than the process has CPUs: a polling
 * wait yields its CPU between looks (each would take a CPU from a
 * thread with work). */
bool host_oversubscribed(void);

/*
 * The poll guard (poll.c).  host_poll_guard_enable(true) makes
 * arch_poll_call() set a recovery point per call; host_poll_fault() then
 * plays a contained CPU exception: it ends the innermost guarded call
 * (ARCH_POLL_FAULTED), or panics where the kernel would halt (no guard, a
 * spinlock held, inside a kick).  For tests.
 */
void host_poll_guard_enable(bool on);
_Noreturn void host_poll_fault(void);

#endif /* HYPHAE_ARCH_HOST_CPU_H */
